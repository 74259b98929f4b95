# For bats files that talk to the fake vendor server directly (load fake/fake).
#
# fake_launch DIR ARGS...: starts tests/fake/fake_vendor.py ARGS in the
# background, its port file, request log and stderr in DIR, and waits (5 s
# at most) until it listens; sets FAKE_PID and B, the server's base URL.
fake_launch() {
	local dir=$1
	shift
	/usr/bin/python3 "$BATS_TEST_DIRNAME/fake/fake_vendor.py" --port-file "$dir/port" \
		--log "$dir/log" "$@" 2>"$dir/err" &
	FAKE_PID=$!
	for _ in $(seq 100); do
		[ -s "$dir/port" ] && break
		sleep 0.05
	done
	B="http://127.0.0.1:$(cat "$dir/port")"
}
