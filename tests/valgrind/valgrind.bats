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
	# the fixture district's secret, in a credentials store ($T/creds, key $T/creds.key)
	"$ROSTER_BIN/creds" --file "$T/creds" keygen
	printf 'demo-secret-4b9e7d21c0\n' | "$ROSTER_BIN/creds" --file "$T/creds" set clever
}

teardown_file() {
	kill "$(cat "$T/pid")" 2>/dev/null
	rm -rf "$T"
}

@test "extract-clever is clean under valgrind" {
	$VG "$ROSTER_BIN/extract-clever" --base-url "$FAKE" \
		--token-url "$FAKE/oauth/tokens" --client-id demo-client-id \
		--credentials "$T/creds" --client-secret creds:clever \
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
	printf '[job]\noutput = o\ncredentials = creds\n[source clever]\ntype = clever\nclient_id = a\nclient_secret = creds:clever\n' >"$T/j.job"
	$VG "$ROSTER_BIN/run-job" --check "$T/j.job"
}

@test "creds is clean under valgrind: keygen, set, list, check, rotate, remove, and its refusals" {
	S="$T/vg.creds"
	$VG "$ROSTER_BIN/creds" --file "$S" keygen
	printf 'first-secret\n' | $VG "$ROSTER_BIN/creds" --file "$S" set one
	printf 'second-secret' | $VG "$ROSTER_BIN/creds" --file "$S" set two
	printf 'replaced\n' | $VG "$ROSTER_BIN/creds" --file "$S" set one
	run $VG "$ROSTER_BIN/creds" --file "$S" list
	[ "$status" -eq 0 ]
	[ "${#lines[@]}" -eq 2 ]
	[[ "${lines[0]}" == one$'\t'* ]]
	[[ "$output" != *"secret"* && "$output" != *"replaced"* ]]
	$VG "$ROSTER_BIN/creds" --file "$S" check
	$VG "$ROSTER_BIN/creds" --file "$S" rotate
	$VG "$ROSTER_BIN/creds" --file "$S" check
	$VG "$ROSTER_BIN/creds" --file "$S" remove two
	# refusals exit 2, not 99 (a valgrind error)
	run $VG "$ROSTER_BIN/creds" --file "$S" remove two
	[ "$status" -eq 2 ]
	run $VG "$ROSTER_BIN/creds" --file "$S" keygen
	[ "$status" -eq 2 ]
	printf 'x' >>"$S"
	run $VG "$ROSTER_BIN/creds" --file "$S" check
	[ "$status" -eq 2 ]
}
