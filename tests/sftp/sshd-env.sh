#!/bin/bash
# The sshd harness for programs that cannot source sshd.bash (the C unit
# tests): run from the repository root.
#
#   tests/sftp/sshd-env.sh start DIR     starts sshd (sshd_start DIR), leaves
#                                        it running, prints KEY=VALUE lines
#                                        (SSHD_PORT=..., SSHD_PASSWORD=...)
#   tests/sftp/sshd-env.sh cutproxy DIR TARGET_PORT BYTES
#                                        starts a cut proxy, prints its port
#   tests/sftp/sshd-env.sh stop DIR      stops what start and cutproxy left
#
# start prints secrets (the password, the passphrase) on stdout: read it
# through a pipe, never into a file.
. "${BASH_SOURCE[0]%/*}/sshd.bash"
cmd=$1 dir=$2
[ -n "$dir" ] || { echo "usage: $0 start|cutproxy|stop DIR ..." >&2; exit 2; }
case $cmd in
start)
	sshd_start "$dir" || exit 1
	for v in SSHD_PORT SSHD_PID SSHD_USER SSHD_HOME SSHD_KNOWN_HOSTS SSHD_KNOWN_HOSTS_HASHED \
		SSHD_FINGERPRINT SSHD_KEY_ED25519 SSHD_KEY_RSA SSHD_KEY_ENC SSHD_PASSPHRASE SSHD_PASSWORD; do
		printf '%s=%s\n' "$v" "${!v}"
	done
	;;
cutproxy)
	_SSHD_DIR=$(cd "$dir" && pwd) || exit 1
	cutproxy_start port "$3" "$4" || exit 1
	echo "$port"
	;;
stop)
	rc=0
	for p in $(cat "$dir/cutproxy.pids" 2>/dev/null) $(cat "$dir/sshd.pid" 2>/dev/null); do
		kill "$p" 2>/dev/null
	done
	rm -f "$dir/cutproxy.pids"
	share=$(cat "$dir/share" 2>/dev/null)
	case $share in
	/tmp/roster-sshd.*) rm -rf "$share" ;;
	esac
	exit $rc
	;;
*)
	echo "usage: $0 start|cutproxy|stop DIR ..." >&2
	exit 2
	;;
esac
