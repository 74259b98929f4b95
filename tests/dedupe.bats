#!/usr/bin/env bats
# dedupe: a teacher seen by Clever and by another source becomes one person,
# memberships follow the merged id, everything else passes through with the
# same SCHEMA/STATE/ACTIVATE_VERSION counts, errors name the line, and the
# output is the same on every run.

DATA="$BATS_TEST_DIRNAME/data/dedupe"

setup() {
	T=$(mktemp -d)
	export ROSTER_FAKE_CLOCK=1800000000
}

teardown() {
	rm -rf "$T"
}

dedupe() {
	run "$ROSTER_BIN/dedupe" "$@"
}

# The merged output of the two sources, stdout only.
merged() {
	"$ROSTER_BIN/dedupe" "$DATA/clever.ndjson" "$DATA/graph.ndjson" 2>/dev/null
}

# "TYPE STREAM count" for every message that is not a RECORD.
control_counts() {
	jq -r 'select(.type != "RECORD") | "\(.type) \(.stream // "-")"' "$@" | sort | uniq -c
}

@test "--help lists the options and ends with the exit codes" {
	dedupe --help
	[ "$status" -eq 0 ]
	[[ "$output" == *"--log-format"* ]]
	[[ "$output" == *"FILE..."* ]]
	[[ "${lines[${#lines[@]} - 1]}" == *"4  held"* ]]
}

@test "an unknown flag, a bad log format or a missing file are usage errors" {
	dedupe --bogus
	[ "$status" -eq 2 ]
	dedupe --log-format xml
	[ "$status" -eq 2 ]
	dedupe "$DATA/clever.ndjson" "$T/none.ndjson"
	[ "$status" -eq 2 ]
	[[ "$output" == *"none.ndjson"* ]]
	[[ "$output" != *RECORD* ]] # nothing written before the inputs are all open
}

@test "a Clever teacher and the same teacher from graph (email in another case) are one person" {
	merged >"$T/out"
	ada=$(jq -c 'select(.stream == "people" and .type == "RECORD") | .record
		| select(.sources | map(.source_id) | index("t-1"))' "$T/out")
	[ "$(jq -r .id <<<"$ada")" = "p-ba44ffde50019cb7" ]
	[ "$(jq -c .sources <<<"$ada")" = '[{"source":"clever","source_id":"t-1"},{"source":"graph","source_id":"u-1"}]' ]
	# clever comes first in the input, so its values win; graph fills the gaps
	[ "$(jq -r '.given_name, .email, .department, (.org_ids | join(","))' <<<"$ada" | paste -sd'|')" = \
		"Ada|Ada.Lovelace@Example.org|Mathematics|sch-1,sch-2" ]
	[ "$(jq -c '.field_sources | {given_name, department}' <<<"$ada")" = '{"given_name":"clever","department":"graph"}' ]
	[ "$(jq -s '[.[] | select(.type == "RECORD" and .stream == "people")] | length' "$T/out")" -eq 3 ]
}

@test "memberships point to the merged person; an unknown person is kept and warned about" {
	dedupe "$DATA/clever.ndjson" "$DATA/graph.ndjson"
	[ "$status" -eq 0 ]
	[[ "$output" == *"clever person 't-404' in group 'sec-1' is not in the people stream"* ]]
	[[ "$output" == *"memberships: 1 of 5 refer to a person not in the people stream"* ]]
	merged >"$T/out"
	got=$(jq -r 'select(.stream == "memberships" and .type == "RECORD") | .record
		| "\(.source) \(.group_id) \(.person_id) \(.person_source_id // "-")"' "$T/out")
	[ "$got" = "clever sec-1 p-ba44ffde50019cb7 t-1
clever sec-1 p-e533f548c91431c2 s-7
clever sec-1 t-404 -
graph g-1 p-ba44ffde50019cb7 u-1
graph g-1 p-5a6624c5b6bef37b u-2" ]
}

@test "other streams pass through byte for byte, with the same SCHEMA/STATE/ACTIVATE counts" {
	merged >"$T/out"
	grep -hv '"stream":"people"\|"stream":"memberships"' "$DATA/clever.ndjson" "$DATA/graph.ndjson" >"$T/others"
	grep -v '"stream":"people"\|"stream":"memberships"' "$T/out" | diff "$T/others" -
	diff <(control_counts "$DATA/clever.ndjson" "$DATA/graph.ndjson") <(control_counts "$T/out")
	# people's and memberships' ACTIVATE_VERSION come after every one of their records
	last_rec=$(grep -n '"type":"RECORD","stream":"\(people\|memberships\)"' "$T/out" | tail -1 | cut -d: -f1)
	first_act=$(grep -n '"ACTIVATE_VERSION","stream":"\(people\|memberships\)"' "$T/out" | head -1 | cut -d: -f1)
	[ "$first_act" -gt "$last_rec" ]
}

@test "load-csv publishes every stream of dedupe's output" {
	merged | "$ROSTER_BIN/load-csv" --out "$T/csv" 2>/dev/null
	[ "$(jq -r '[.files[] | "\(.stream)=\(.status)"] | join(" ")' "$T/csv/manifest.json")" = \
		"orgs=published people=published groups=published memberships=published" ]
	[ "$(grep -c '^p-' "$T/csv/people.csv")" -eq 3 ]
}

@test "the same bytes on every run; the same persons when the files come in reverse order" {
	merged >"$T/one"
	merged >"$T/two"
	cmp "$T/one" "$T/two"
	"$ROSTER_BIN/dedupe" "$DATA/graph.ndjson" "$DATA/clever.ndjson" >"$T/rev" 2>/dev/null
	persons() {
		jq -c 'select(.stream == "people" and .type == "RECORD") | .record | [.id, .sources]' "$1"
	}
	diff <(persons "$T/one") <(persons "$T/rev")
	# only the precedence moved: graph is first now and wins the fields it has
	[ "$(jq -r 'select(.record.id == "p-ba44ffde50019cb7") | .record.given_name' "$T/rev")" = "Augusta Ada" ]
}

@test "standard input is read when no FILE is given, and for -" {
	"$ROSTER_BIN/dedupe" <"$DATA/clever.ndjson" >"$T/a" 2>/dev/null
	"$ROSTER_BIN/dedupe" - <"$DATA/clever.ndjson" >"$T/b" 2>/dev/null
	"$ROSTER_BIN/dedupe" "$DATA/clever.ndjson" >"$T/c" 2>/dev/null
	cmp "$T/a" "$T/c"
	cmp "$T/b" "$T/c"
}

@test "a line that is not JSON fails the run, naming the file and line" {
	dedupe "$DATA/corrupt.ndjson"
	[ "$status" -eq 1 ]
	[[ "$output" == *"corrupt.ndjson:3: not JSON"* ]]
	[[ "$output" != *ACTIVATE_VERSION* ]] # people are never activated
}

@test "a people record without source_id: exit 3, written unmerged, people not activated" {
	run sh -c '"$1" "$2" 2>"$3" | "$4" --out "$5" 2>/dev/null; echo "load-csv $?"' _ \
		"$ROSTER_BIN/dedupe" "$DATA/no-source-id.ndjson" "$T/err" "$ROSTER_BIN/load-csv" "$T/csv"
	grep -q 'no-source-id.ndjson:3: people record without a source_id string' "$T/err"
	[ "$output" = "load-csv 1" ] # the only stream is incomplete: the previous people.csv stays
	[ "$(jq -r '.files[0].status' "$T/csv/manifest.json")" = kept_previous ]
	dedupe "$DATA/no-source-id.ndjson"
	[ "$status" -eq 3 ]
	[[ "$output" == *'"given_name":"Nobody"'* ]]
	[[ "$output" == *'"id":"p-ba44ffde50019cb7"'* ]]
}

@test "a failed write to standard output is an error" {
	# /dev/full is part of every Linux system: required, not skipped
	[ -c /dev/full ]
	[ -w /dev/full ]
	run sh -c '"$1" "$2" >/dev/full' _ "$ROSTER_BIN/dedupe" "$DATA/clever.ndjson"
	[ "$status" -eq 1 ]
	[[ "$output" == *"writing the output failed: No space left on device"* ]]
}

@test "standard output a pipe whose reader is gone: exit 1, the write error named" {
	# the reader closed before dedupe starts, SIGPIPE ignored (as under a
	# supervisor that ignores it): every write fails with EPIPE
	run /usr/bin/python3 -c '
import os, signal, subprocess, sys
r, w = os.pipe()
os.close(r)
signal.signal(signal.SIGPIPE, signal.SIG_IGN)
sys.exit(subprocess.call(sys.argv[1:], stdout=w, restore_signals=False))' \
		"$ROSTER_BIN/dedupe" "$DATA/clever.ndjson"
	[ "$status" -eq 1 ]
	[[ "$output" == *"writing the output failed: Broken pipe"* ]]
}

@test "--log-format json writes the warnings as JSON lines" {
	run sh -c '"$1" --log-format json "$2" "$3" 2>&1 >/dev/null' _ "$ROSTER_BIN/dedupe" \
		"$DATA/clever.ndjson" "$DATA/graph.ndjson"
	[ "$status" -eq 0 ]
	jq -e -s 'length >= 2 and all(.prog == "dedupe")' <<<"$output"
}

@test "a source_id holding the key separator (0x1f) is not merged by accident: written unmerged, people not activated" {
	printf '%s\n' '{"type":"SCHEMA","stream":"people","schema":{},"key_properties":[]}' \
		'{"type":"RECORD","stream":"people","record":{"source":"a\u001fb","source_id":"c"}}' \
		'{"type":"RECORD","stream":"people","record":{"source":"a","source_id":"b\u001fc"}}' \
		'{"type":"ACTIVATE_VERSION","stream":"people","version":1}' >"$T/in"
	run "$ROSTER_BIN/dedupe" "$T/in"
	[ "$status" -eq 3 ]
	[[ "$output" == *"control character (0x1f)"* ]]
	[ "$(printf '%s\n' "$output" | grep -c '"type":"RECORD"')" -eq 2 ]
	[ "$(printf '%s\n' "$output" | grep -c '"type":"ACTIVATE_VERSION","stream":"people"')" -eq 0 ]
}
