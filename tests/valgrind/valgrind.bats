#!/usr/bin/env bats
# Every stage under valgrind on the fixture district: no invalid access, no
# use of uninitialised memory, no definite leak. Run by tests/run-all on the
# plain build (valgrind cannot run sanitizer builds).

VG="valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,indirect"

setup_file() {
	export T=$(mktemp -d)
	/usr/bin/python3 "$BATS_TEST_DIRNAME/../fake/fake_vendor.py" --personality clever \
		--data "$BATS_TEST_DIRNAME/../../fixtures/clever" --port-file "$T/port" --log "$T/log" &
	echo $! >"$T/pid"
	for _ in $(seq 100); do [ -s "$T/port" ] && break; sleep 0.1; done
	export FAKE="http://127.0.0.1:$(cat "$T/port")"
}

teardown_file() {
	kill "$(cat "$T/pid")" 2>/dev/null
	rm -rf "$T"
}

@test "extract-clever is clean under valgrind" {
	CS=demo-secret-4b9e7d21c0 $VG "$ROSTER_BIN/extract-clever" --base-url "$FAKE" \
		--token-url "$FAKE/oauth/tokens" --client-id demo-client-id --client-secret-env CS \
		--page-size 7 --stats "$T/stats.json" >"$T/raw.ndjson"
	[ "$(grep -c '"type":"RECORD"' "$T/raw.ndjson")" -eq 58 ]
}

@test "normalize is clean under valgrind" {
	$VG "$ROSTER_BIN/normalize" <"$T/raw.ndjson" >"$T/canon.ndjson"
	[ "$(grep -c '"stream":"people"' "$T/canon.ndjson")" -gt 40 ]
}

@test "dedupe is clean under valgrind" {
	$VG "$ROSTER_BIN/dedupe" "$T/canon.ndjson" "$T/canon.ndjson" >"$T/dedup.ndjson"
}

@test "load-csv is clean under valgrind" {
	$VG "$ROSTER_BIN/load-csv" --out "$T/out" <"$T/dedup.ndjson"
	[ -f "$T/out/people.csv" ]
}

@test "run-job --check is clean under valgrind" {
	printf '[job]\noutput = o\n[source clever]\ntype = clever\nclient_id = a\nclient_secret = env:X\n' >"$T/j.job"
	$VG "$ROSTER_BIN/run-job" --check "$T/j.job"
}
