#!/bin/sh
# make demo: starts the fake Clever server on loopback, runs the demo job,
# prints the run report and says where the CSV files are.
set -u
BUILD=${BUILD:-build}
top=$(pwd)
port=18080
tmp=$(mktemp -d)
trap 'kill $fake 2>/dev/null; rm -rf "$tmp"' EXIT INT TERM
/usr/bin/python3 tests/fake/fake_vendor.py --personality clever --data fixtures/clever \
	--port "$port" --port-file "$tmp/port" --log "$tmp/requests.log" &
fake=$!
i=0
while [ ! -s "$tmp/port" ]; do
	i=$((i + 1))
	if [ $i -gt 100 ] || ! kill -0 $fake 2>/dev/null; then
		echo "demo: the fake Clever server did not start on 127.0.0.1:$port (is the port taken?)" >&2
		exit 1
	fi
	sleep 0.1
done
# The demo's secret is the fake server's; a real job names its own variable.
CLEVER_CLIENT_SECRET=$(/usr/bin/python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[0]["client_secret"])' fixtures/clever/clients.json)
export CLEVER_CLIENT_SECRET
"$top/$BUILD/bin/run-job" pipelines/examples/demo.job
rc=$?
echo
echo "CSV files: $top/out/demo/ (run-job exited $rc)"
ls -l "$top/out/demo" | sed 's/^/  /'
exit $rc
