#!/usr/bin/env bats
# load-csv: exact CSV output, stable order, formula neutralising, complete
# vs incomplete streams, the manifest, corrupt input, and full-disk faults
# injected with the LD_PRELOAD shim (FAULTSHIM).

DATA="$BATS_TEST_DIRNAME/data/load-csv"

setup() {
	T=$(mktemp -d)
	export ROSTER_FAKE_CLOCK=1800000000
}

teardown() {
	rm -rf "$T"
}

load_csv() {
	run "$ROSTER_BIN/load-csv" --out "$T/out" "$@"
}

# Runs load-csv with the fault shim preloaded; FAULT_* come from the caller.
# A sanitizer build must be told that the shim is loaded ahead of it.
faulty() {
	run env LD_PRELOAD="$FAULTSHIM" \
		ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0" \
		"$ROSTER_BIN/load-csv" --out "$T/out" "$@"
}

# Lines joined with CRLF, as the CSV files end their records.
crlf() {
	printf '%s\r\n' "$@"
}

no_temp_files() {
	[ -z "$(find "$T/out" -name '.*.tmp.*')" ]
}

# Publishes basic.ndjson, keeps a copy in $T/before, and writes
# $T/changed.ndjson: the same streams with other content, so that a file
# overwritten by the next run cannot pass for the previous one.
publish_basic() {
	"$ROSTER_BIN/load-csv" --out "$T/out" "$DATA/basic.ndjson" 2>/dev/null
	cp -r "$T/out" "$T/before"
	sed 's/Lovelace/Byron/; s/South Middle/South Middle School/' "$DATA/basic.ndjson" \
		>"$T/changed.ndjson"
}

@test "--help lists the options and ends with the exit codes" {
	run "$ROSTER_BIN/load-csv" --help
	[ "$status" -eq 0 ]
	[[ "$output" == *"--out DIR"* ]]
	[[ "$output" == *"--log-format"* ]]
	[[ "${lines[${#lines[@]} - 1]}" == *"4  held"* ]]
}

@test "an unknown flag, a missing --out or two inputs are usage errors" {
	run "$ROSTER_BIN/load-csv" --out "$T/out" --bogus
	[ "$status" -eq 2 ]
	run "$ROSTER_BIN/load-csv" "$DATA/basic.ndjson"
	[ "$status" -eq 2 ]
	[[ "$output" == *"--out DIR is required"* ]]
	run "$ROSTER_BIN/load-csv" --out "$T/out" a b
	[ "$status" -eq 2 ]
	run "$ROSTER_BIN/load-csv" --out "$T/out" --log-format xml
	[ "$status" -eq 2 ]
	run "$ROSTER_BIN/load-csv" --out "$T/out" "$T/none.ndjson"
	[ "$status" -eq 2 ]
	[[ "$output" == *"none.ndjson"* ]]
}

@test "complete streams are published with exact content, header in table order" {
	load_csv "$DATA/basic.ndjson"
	[ "$status" -eq 0 ]
	[[ "$output" == *"published $T/out/people.csv (3 rows)"* ]]
	diff <(crlf 'source,source_id,type,name,identifier,parent_id,status' \
		'clever,dist-1,district,Springfield USD,,,active' \
		'clever,sch-1,school,"North High, Annex",100,dist-1,active' \
		'clever,sch-2,school,South Middle,200,dist-1,active') "$T/out/orgs.csv"
	diff <(crlf 'id,source,source_id,role,status,given_name,middle_name,family_name,email,username,employee_id,sis_id,state_id,student_number,grade,org_ids,job_title,department,updated_at,status_reason,sources,field_sources' \
		"p-00000000000000a1,clever,s-7,student,active,Bob,,\"Smith, Jr.\",,'@bob,,'-42,,'+1555,9,sch-1,,,,,clever:s-7,given_name=clever" \
		"p-00000000000000b2,clever,t-1,teacher,active,Ada,,Lovelace,ada@example.org,,E-9,,,,,sch-1;sch-2,\"'=HYPERLINK(\"\"http://evil.example\"\",\"\"click\"\")\",,,,clever:t-1;sis:E-9,given_name=clever;email=sis" \
		'p-00000000000000c3,clever,s-8,student,active,Zoë,,"Nguyễn ""Z""",,,,,,,10,,,,2026-09-01T00:00:00Z,,clever:s-8,') \
		"$T/out/people.csv"
	diff <(crlf 'source,source_id,type,name,org_id,course,term_id,subject,grades' \
		'clever,sec-1,section,"Algebra I, Period 2",sch-1,MATH-101,term-1,math,9;10') \
		"$T/out/groups.csv"
	diff <(crlf 'source,group_id,person_id,role,person_source_id' \
		'clever,sec-1,p-00000000000000a1,student,s-7' \
		'clever,sec-1,p-00000000000000b2,teacher,t-1') "$T/out/memberships.csv"
	diff <(crlf 'source,source_id,type,name,start_date,end_date,parent_id' \
		'clever,term-1,term,Fall 2026,2026-08-20,2026-12-18,') "$T/out/sessions.csv"
	[ "$(ls "$T/out")" = "$(printf '%s\n' groups.csv manifest.json memberships.csv orgs.csv people.csv sessions.csv)" ]
	no_temp_files
}

@test "formula cells are neutralised with a leading quote" {
	load_csv "$DATA/basic.ndjson"
	[ "$status" -eq 0 ]
	grep -q "'=HYPERLINK" "$T/out/people.csv"
	grep -q ",'@bob," "$T/out/people.csv"
	grep -q ",'-42," "$T/out/people.csv"
	grep -q ",'+1555," "$T/out/people.csv"
	# (bats ignores a failing "! cmd", hence run and the status check)
	run grep ',=\|,@\|,+\|,-[0-9]' "$T/out/people.csv"
	[ "$status" -eq 1 ]
}

@test "the same input in another order gives byte-identical files" {
	f="$DATA/basic.ndjson"
	{ grep '"ACTIVATE_VERSION"' "$f"; grep '"RECORD"' "$f" | tac; grep -v '"RECORD"\|"ACTIVATE_VERSION"' "$f"; } \
		>"$T/shuffled.ndjson"
	run "$ROSTER_BIN/load-csv" --out "$T/a" "$f"
	[ "$status" -eq 0 ]
	run "$ROSTER_BIN/load-csv" --out "$T/b" <"$T/shuffled.ndjson"
	[ "$status" -eq 0 ]
	diff -r "$T/a" "$T/b"
}

@test "the manifest lists each stream with rows, status, time and checksum" {
	load_csv "$DATA/basic.ndjson"
	[ "$status" -eq 0 ]
	m="$T/out/manifest.json"
	[ "$(jq -r .generated_at "$m")" = "2027-01-15T08:00:00.000Z" ]
	[ "$(jq -r '[.files[].stream] | join(",")' "$m")" = "orgs,people,groups,memberships,sessions" ]
	[ "$(jq -r '.files[] | select(.stream=="people") | [.file,.rows,.status,.reason,.published_at,.kept] | join(" ")' "$m")" \
		= "people.csv 3 published  2027-01-15T08:00:00.000Z false" ]
	for f in orgs people groups memberships sessions; do
		want=$(sha256sum "$T/out/$f.csv" | cut -d' ' -f1)
		[ "$(jq -r ".files[] | select(.stream==\"$f\") | .sha256" "$m")" = "$want" ]
	done
}

@test "a stream without ACTIVATE_VERSION keeps the previous file, exit 3" {
	publish_basic
	load_csv "$DATA/people-unfinished.ndjson"
	[ "$status" -eq 3 ]
	[[ "$output" == *"warning: people: incomplete, the previous people.csv is kept: 1 SCHEMA but 0 ACTIVATE_VERSION"* ]]
	cmp "$T/before/people.csv" "$T/out/people.csv"
	grep -q 'New School' "$T/out/orgs.csv"
	[ "$(jq -r '.files[] | select(.stream=="people") | .status' "$T/out/manifest.json")" = kept_previous ]
	# the kept file as it is: its own rows and checksum, and who published it
	[ "$(jq -r '.files[] | select(.stream=="people") | [.rows,.kept,.published_at] | join(" ")' "$T/out/manifest.json")" = "3 true 2027-01-15T08:00:00.000Z" ]
	[ "$(jq -r '.files[] | select(.stream=="people") | .sha256' "$T/out/manifest.json")" = "$(sha256sum "$T/out/people.csv" | cut -d' ' -f1)" ]
	[ "$(jq -r '.files[] | select(.stream=="orgs") | .status' "$T/out/manifest.json")" = published ]
}

@test "two SCHEMAs but one ACTIVATE_VERSION (one source failed): kept, exit 3" {
	publish_basic
	load_csv "$DATA/people-two-sources.ndjson"
	[ "$status" -eq 3 ]
	[[ "$output" == *"people: incomplete"*"2 SCHEMA but 1 ACTIVATE_VERSION"* ]]
	cmp "$T/before/people.csv" "$T/out/people.csv"
	[ "$(jq -r '.files[] | select(.stream=="people") | .reason' "$T/out/manifest.json")" \
		= "2 SCHEMA but 1 ACTIVATE_VERSION: a source feeding the stream did not read it completely" ]
}

@test "when every stream is incomplete nothing is published: exit 1" {
	grep -v ACTIVATE_VERSION "$DATA/basic.ndjson" >"$T/in.ndjson"
	load_csv "$T/in.ndjson"
	[ "$status" -eq 1 ]
	[ -z "$(ls "$T/out" | grep csv)" ]
	[ "$(jq -r '[.files[].status] | unique | join(",")' "$T/out/manifest.json")" = kept_previous ]
}

@test "a line that is not JSON names file:line, exit 1, nothing published" {
	publish_basic
	load_csv "$DATA/corrupt.ndjson"
	[ "$status" -eq 1 ]
	[[ "$output" == *"corrupt.ndjson:3: not JSON"*"nothing is published"* ]]
	diff -r "$T/before" "$T/out"
	run "$ROSTER_BIN/load-csv" --out "$T/fresh" <"$DATA/corrupt.ndjson"
	[ "$status" -eq 1 ]
	[[ "$output" == *"stdin:3: not JSON"* ]]
	[ ! -e "$T/fresh" ]
}

@test "a RECORD of a non-canonical stream is an error naming line and stream, exit 3" {
	load_csv "$DATA/raw-stream.ndjson"
	[ "$status" -eq 3 ]
	[[ "$output" == *"raw-stream.ndjson:4: RECORD of stream 'clever_users', which is not a canonical stream"* ]]
	[ -s "$T/out/orgs.csv" ]
	[ ! -e "$T/out/clever_users.csv" ]
	[ "$(jq -c '.files[] | select(.stream=="clever_users") | [.file,.rows,.status,.reason]' "$T/out/manifest.json")" \
		= '[null,2,"failed","not a canonical stream: 2 records, the first at line 4, not loaded"]' ]
}

@test "empty input publishes nothing: exit 1" {
	load_csv </dev/null
	[ "$status" -eq 1 ]
	[[ "$output" == *"no canonical stream in the input"* ]]
}

@test "--log-format json writes one JSON object per diagnostic" {
	load_csv --log-format json "$DATA/people-unfinished.ndjson"
	[ "$status" -eq 3 ]
	echo "$output" | jq -s -e 'map(select(.level=="warning") | .msg | test("people: incomplete")) | any'
}

@test "full disk on people.csv: previous file intact, no temp file, exit 3" {
	publish_basic
	FAULT_PATH=people faulty "$T/changed.ndjson"
	[ "$status" -eq 3 ]
	[[ "$output" == *"$T/out/people.csv: write: No space left on device"* ]]
	cmp "$T/before/people.csv" "$T/out/people.csv"
	no_temp_files
	grep -q 'South Middle School' "$T/out/orgs.csv"
	[ "$(jq -r '.files[] | select(.stream=="people") | .status' "$T/out/manifest.json")" = failed ]
	[ "$(jq -r '.files[] | select(.stream=="people") | .reason' "$T/out/manifest.json")" \
		= "$T/out/people.csv: write: No space left on device" ]
	[ "$(jq -r '.files[] | select(.stream=="orgs") | .status' "$T/out/manifest.json")" = published ]
}

@test "killed (-9) while writing people.csv: the next run removes the temporary file and says so" {
	publish_basic
	FAULT_PATH=people FAULT_OPS=write FAULT_AFTER=50 FAULT_ERRNO=SIGKILL faulty "$T/changed.ndjson"
	[ "$status" -eq 137 ] # 128 + SIGKILL
	cmp "$T/before/people.csv" "$T/out/people.csv"
	left=$(find "$T/out" -name '.people.csv.tmp.*')
	[ "$(printf '%s\n' "$left" | wc -l)" -eq 1 ]
	[ "$(stat -c %s "$left")" -eq 50 ] # cut where the kill came
	# a night later: the sweep takes only files changed before the run began
	touch -d '1 hour ago' "$left"
	load_csv "$T/changed.ndjson"
	[ "$status" -eq 0 ]
	[[ "$output" == *"load-csv: $T/out: removed 1 temporary file an earlier, interrupted run left"* ]]
	no_temp_files
	grep -q Byron "$T/out/people.csv"
}

@test "a temporary file changed after the run began is not removed (another run may be writing it)" {
	publish_basic
	printf 'being written' >"$T/out/.people.csv.tmp.AbC123"
	touch -d "+1 minute" "$T/out/.people.csv.tmp.AbC123" # written after the run began
	load_csv "$T/changed.ndjson"
	[ "$status" -eq 0 ]
	[[ "$output" != *"removed"* ]]
	[ "$(cat "$T/out/.people.csv.tmp.AbC123")" = "being written" ]
}

@test "a disk that fills part-way through people.csv: previous file intact" {
	publish_basic
	FAULT_PATH=people FAULT_AFTER=300 faulty "$T/changed.ndjson"
	[ "$status" -eq 3 ]
	[[ "$output" == *"people.csv: write: No space left on device"* ]]
	cmp "$T/before/people.csv" "$T/out/people.csv"
	no_temp_files
}

@test "fsync failing with EIO: previous file intact, error names the file" {
	publish_basic
	FAULT_PATH=people FAULT_OPS=fsync FAULT_ERRNO=EIO faulty "$T/changed.ndjson"
	[ "$status" -eq 3 ]
	[[ "$output" == *"$T/out/people.csv: fsync: Input/output error"* ]]
	cmp "$T/before/people.csv" "$T/out/people.csv"
	no_temp_files
}

@test "rename failing: previous file intact, no temp file" {
	publish_basic
	FAULT_PATH=people FAULT_OPS=rename faulty "$T/changed.ndjson"
	[ "$status" -eq 3 ]
	[[ "$output" == *"$T/out/people.csv: rename: No space left on device"* ]]
	cmp "$T/before/people.csv" "$T/out/people.csv"
	no_temp_files
}

@test "every file failing: all previous files intact, exit 1" {
	publish_basic
	FAULT_PATH="$T/out" faulty "$T/changed.ndjson"
	[ "$status" -eq 1 ]
	[[ "$output" == *"manifest.json: write: No space left on device"* ]]
	diff -r "$T/before" "$T/out"
	no_temp_files
}

@test "the manifest failing after the CSVs were published: exit 3" {
	FAULT_PATH=manifest faulty "$DATA/basic.ndjson"
	[ "$status" -eq 3 ]
	[[ "$output" == *"$T/out/manifest.json: write: No space left on device"* ]]
	[ -s "$T/out/people.csv" ]
	[ ! -e "$T/out/manifest.json" ]
	no_temp_files
}

@test "--out creates missing folders" {
	run "$ROSTER_BIN/load-csv" --out "$T/a/b/c" "$DATA/basic.ndjson"
	[ "$status" -eq 0 ]
	[ -s "$T/a/b/c/people.csv" ]
}

@test "separators inside list cells are escaped so the cell splits back the same" {
	printf '%s\n' '{"type":"SCHEMA","stream":"people","schema":{},"key_properties":[]}' \
		'{"type":"RECORD","stream":"people","record":{"source":"x","source_id":"1","org_ids":["s1;s2","s3"],"sources":[{"source":"x","source_id":"a:b"}]}}' \
		'{"type":"ACTIVATE_VERSION","stream":"people","version":1}' >"$T/in"
	load_csv "$T/in"
	[ "$status" -eq 0 ]
	grep -q 's1\\;s2;s3' "$T/out/people.csv"
	grep -q 'x:a\\:b' "$T/out/people.csv"
}

@test "an activated stream with no records is written with its header (no crash)" {
	printf '%s\n' '{"type":"SCHEMA","stream":"sessions","schema":{},"key_properties":[]}' \
		'{"type":"ACTIVATE_VERSION","stream":"sessions","version":1}' >"$T/in"
	load_csv "$T/in"
	[ "$status" -eq 0 ]
	[ "$(wc -l <"$T/out/sessions.csv")" -eq 1 ]
}
