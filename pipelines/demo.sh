#!/bin/sh
# make demo: starts the fake Clever, Microsoft Graph (Entra ID) and Google
# Workspace servers on one loopback port and OpenSSH's sshd on another (the
# nightly HR and absence drops), runs the demo job, prints the run report
# (with the reconciliation of directory accounts and the roster) and says
# where the CSV files are.
set -u
BUILD=${BUILD:-build}
top=$(pwd)
port=18080
tmp=$(mktemp -d)
sshd_pid=
trap 'kill $fake $sshd_pid 2>/dev/null; rm -rf "$tmp"' EXIT INT TERM
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
# The drops: a real sshd on 127.0.0.1:18022 serving SFTP only, started
# without asking anything of the system: its host key and the client's key
# are made here, in out/demo-sftp/ (the demo job names them there), and it
# logs in the account running the demo (an sshd started without root can
# let no other in). The served folder holds the fixture drops, dated
# yesterday so that they have settled.
sftp="$top/out/demo-sftp"
rm -rf "$sftp"
mkdir -p "$sftp/drops/hr" "$sftp/drops/absences" || exit 1
chmod 700 "$sftp"
ssh-keygen -q -t ed25519 -N '' -C demo-host -f "$sftp/host_ed25519" || exit 1
ssh-keygen -q -t ed25519 -N '' -C demo-client -f "$sftp/client_ed25519" || exit 1
cp "$sftp/client_ed25519.pub" "$sftp/authorized_keys"
printf '[127.0.0.1]:18022 %s\n' "$(cut -d' ' -f1,2 "$sftp/host_ed25519.pub")" >"$sftp/known_hosts"
cp fixtures/drops/munis/munis_employees_20261128.csv "$sftp/drops/hr/" || exit 1
cp fixtures/drops/frontline/11-23-2026.txt fixtures/drops/frontline/11-24-2026.txt \
	"$sftp/drops/absences/" || exit 1
touch -d '1 day ago' "$sftp"/drops/*/*
cat >"$sftp/sshd_config" <<EOF
ListenAddress 127.0.0.1
Port 18022
HostKey $sftp/host_ed25519
PidFile $sftp/sshd.pid
AuthorizedKeysFile $sftp/authorized_keys
StrictModes no
UsePAM no
PasswordAuthentication no
KbdInteractiveAuthentication no
PubkeyAuthentication yes
PermitRootLogin prohibit-password
AllowUsers $(id -un)
Subsystem sftp internal-sftp
ForceCommand internal-sftp -d $sftp/drops
EOF
[ "$(id -u)" = 0 ] && mkdir -p /run/sshd
/usr/sbin/sshd -D -f "$sftp/sshd_config" -E "$sftp/sshd.log" &
sshd_pid=$!
if ! /usr/bin/python3 -c '
import socket, sys, time
for _ in range(50):
    try:
        socket.create_connection(("127.0.0.1", 18022), 0.2).close(); sys.exit(0)
    except OSError:
        time.sleep(0.1)
sys.exit(1)' || ! kill -0 $sshd_pid 2>/dev/null; then
	echo "demo: sshd did not start on 127.0.0.1:18022 (is the port taken? see $sftp/sshd.log)" >&2
	exit 1
fi
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
echo "The stage commands of that run, to rerun a stage by hand from the raw files it"
echo "kept (run-job --print-pipeline pipelines/examples/demo.job):"
"$top/$BUILD/bin/run-job" --print-pipeline pipelines/examples/demo.job | sed 's/^/  /'
echo
echo "CSV files: $top/out/demo/ (run-job exited $rc)"
ls -l "$top/out/demo" | sed 's/^/  /'
exit $rc
