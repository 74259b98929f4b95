#!/bin/sh
# make demo: starts the fake Clever, Microsoft Graph (Entra ID) and Google
# Workspace servers on one loopback port, runs the demo job, prints the run
# report (with the reconciliation of directory accounts and the roster) and
# says where the CSV files are.
set -u
BUILD=${BUILD:-build}
top=$(pwd)
port=18080
tmp=$(mktemp -d)
trap 'kill $fake 2>/dev/null; rm -rf "$tmp"' EXIT INT TERM
/usr/bin/python3 tests/fake/fake_vendor.py --personality clever,graph,google \
	--data fixtures/clever,fixtures/graph,fixtures/google \
	--port "$port" --port-file "$tmp/port" --log "$tmp/requests.log" &
fake=$!
i=0
while [ ! -s "$tmp/port" ]; do
	i=$((i + 1))
	if [ $i -gt 100 ] || ! kill -0 $fake 2>/dev/null; then
		echo "demo: the fake vendor server did not start on 127.0.0.1:$port (is the port taken?)" >&2
		exit 1
	fi
	sleep 0.1
done
# The demo's secrets are the fake servers': Clever's client secret, the
# Entra app's client secret and Google's service-account key (a JSON file,
# stored whole). It goes in a throwaway credentials
# store made for this run in the temporary folder (removed on exit), which
# ROSTER_CREDENTIALS names: the demo job has no credentials key, so run-job
# reads the store from there and hands it to the extractor alone. A real
# job makes its store once and names it with credentials = FILE.
creds="$top/$BUILD/bin/creds"
store="$tmp/demo.creds"
"$creds" --file "$store" keygen || exit 1
/usr/bin/python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[0]["client_secret"])' \
	fixtures/clever/clients.json | "$creds" --file "$store" set clever || exit 1
/usr/bin/python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["tenants"][0]["apps"][0]["client_secret"])' \
	fixtures/graph/apps.json | "$creds" --file "$store" set entra || exit 1
"$creds" --file "$store" set google < fixtures/google/service-account.json || exit 1
ROSTER_CREDENTIALS=$store
export ROSTER_CREDENTIALS
"$top/$BUILD/bin/run-job" pipelines/examples/demo.job
rc=$?
echo
echo "CSV files: $top/out/demo/ (run-job exited $rc)"
ls -l "$top/out/demo" | sed 's/^/  /'
exit $rc
