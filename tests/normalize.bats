#!/usr/bin/env bats
# normalize: the Clever mapping on Clever's own SDK fixtures and on edge
# cases, Singer carry-through (SCHEMA, ACTIVATE_VERSION, STATE), errors that
# name the line, and --jq.

DATA="$BATS_TEST_DIRNAME/data/normalize"

setup() {
	T=$(mktemp -d)
	V=${VECTORS:-$BATS_TEST_DIRNAME/vectors}
	N="$ROSTER_BIN/normalize"
}

teardown() {
	rm -rf "$T"
}

# A raw stream as extract-clever writes it: SCHEMA, the inner data records of
# a Clever list response as RECORDs, ACTIVATE_VERSION.
raw() { # stream, vector file
	echo "{\"type\":\"SCHEMA\",\"stream\":\"$1\",\"schema\":{\"type\":\"object\"},\"key_properties\":[\"id\"]}"
	jq -c --arg s "$1" '.data[].data | {type: "RECORD", stream: $s, record: ., time_extracted: "2024-09-03T02:00:00.000Z"}' "$V/clever/$2"
	echo "{\"type\":\"ACTIVATE_VERSION\",\"stream\":\"$1\",\"version\":1725328800000}"
}

users() { raw clever_users v3.0_users_excerpt.json; }
sections() { raw clever_sections v3.0_sections_excerpt.json; }

# The record with that source_id, as normalize wrote it (key order kept).
record() { # file, stream, source_id
	jq -c --arg s "$2" --arg id "$3" 'select(.type == "RECORD" and .stream == $s and .record.source_id == $id) | .record' "$1"
}

@test "a Clever teacher maps to the exact canonical person" {
	users >"$T/in"
	run "$N" "$T/in"
	[ "$status" -eq 0 ]
	printf '%s\n' "$output" | grep '^{' >"$T/out"
	[ "$(record "$T/out" people 603ebb2ab452fb006c76396e)" = "$(cat "$DATA/teacher.json")" ]
}

@test "a Clever student maps to the exact canonical person" {
	users | "$N" >"$T/out"
	[ "$(record "$T/out" people 5a25ffb0c1bc2a00360003ee)" = "$(cat "$DATA/student.json")" ]
}

@test "every user is a person, except contacts, which are counted at info" {
	users >"$T/in"
	run "$N" "$T/in"
	[ "$status" -eq 0 ]
	[ "$(printf '%s\n' "$output" | grep -c '"stream":"people","record"')" -eq 5 ]
	[[ "$output" == *"records in: clever_users 7; records out: people 5; left out: 2 contact-only users"* ]]
	[[ "$output" != *"warning"* ]]
	# every canonical record has source and source_id
	printf '%s\n' "$output" | grep '^{"type":"RECORD"' |
		jq -e -s 'all(.[]; .record.source == "clever" and (.record.source_id | type) == "string")'
}

@test "sections map to groups and to memberships of teachers[] and students[]" {
	sections | "$N" >"$T/out"
	[ "$(record "$T/out" groups 5a25ffc265e950634b00017c)" = "$(cat "$DATA/section.json")" ]
	[ "$(grep -c '"stream":"memberships","record"' "$T/out")" -eq 61 ]
	[ "$(jq -c 'select(.stream == "memberships" and .record.role == "teacher") | .record' "$T/out" | head -1)" = \
		'{"source":"clever","group_id":"5a25ffc265e950634b00017c","person_id":"603ebb2ab452fb006c763989","role":"teacher"}' ]
	[ "$(jq -s '[.[] | select(.stream == "memberships" and .record.role == "student")] | length' "$T/out")" -eq 49 ]
}

@test "schools map to orgs and terms to sessions" {
	"$N" "$DATA/schools-terms.ndjson" >"$T/out"
	[ "$(record "$T/out" orgs 5f1e2d3c4b5a69788796b001)" = "$(cat "$DATA/school.json")" ]
	[ "$(record "$T/out" sessions 64b2a0eed9e8f7a6b5c40001)" = "$(cat "$DATA/term.json")" ]
}

@test "edge cases give the expected output, byte for byte" {
	# two roles, a missing schools[], null, numbers, escapes, a primary
	# teacher missing from teachers[], ids that are not strings
	run "$N" "$DATA/edge.ndjson"
	[ "$status" -eq 0 ]
	printf '%s\n' "$output" | grep '^{' >"$T/out"
	diff -u "$DATA/edge.expected.ndjson" "$T/out"
	[[ "$output" == *"warning: "*"edge.ndjson:6: clever_users: users without a student, teacher, staff or district_admin role"* ]]
	[[ "$output" == *"edge.ndjson:10: clever_sections: section members whose id is not a non-empty string"* ]]
	[[ "$output" == *"left out: 1 users without"*", 2 field values of an unexpected JSON type"* ]]
}

@test "one SCHEMA per canonical stream, before its records, with the canonical schema" {
	{ users; sections; users; } | "$N" >"$T/out"
	[ "$(grep -c '"type":"SCHEMA"' "$T/out")" -eq 3 ]
	[ "$(jq -r 'select(.type == "SCHEMA") | .stream' "$T/out" | tr '\n' ' ')" = "people groups memberships " ]
	head -1 "$T/out" | jq -e '.stream == "people" and .key_properties == ["source", "source_id"] and
		.schema.properties.org_ids.type == "array"'
}

@test "ACTIVATE_VERSION per canonical stream, same version, after the records" {
	{ users; sections; } | "$N" >"$T/out"
	[ "$(jq -c 'select(.type == "ACTIVATE_VERSION")' "$T/out" | tr '\n' ' ')" = \
		'{"type":"ACTIVATE_VERSION","stream":"people","version":1725328800000} {"type":"ACTIVATE_VERSION","stream":"groups","version":1725328800000} {"type":"ACTIVATE_VERSION","stream":"memberships","version":1725328800000} ' ]
	[ "$(tail -1 "$T/out" | jq -r .type)" = ACTIVATE_VERSION ]
}

@test "a raw stream without ACTIVATE_VERSION leaves its canonical streams unactivated" {
	{ users; sections | grep -v ACTIVATE_VERSION; } >"$T/in"
	run "$N" "$T/in"
	[ "$status" -eq 0 ]
	[ "$(printf '%s\n' "$output" | grep -c '"type":"ACTIVATE_VERSION"')" -eq 1 ]
	[[ "$output" == *'"ACTIVATE_VERSION","stream":"people"'* ]]
	[[ "$output" == *"groups: not marked complete: clever_sections has no ACTIVATE_VERSION"* ]]
}

@test "STATE passes through unchanged, in place" {
	"$N" "$DATA/schools-terms.ndjson" >"$T/out"
	diff <(grep '"type":"STATE"' "$DATA/schools-terms.ndjson") <(grep '"type":"STATE"' "$T/out")
	# the first STATE follows the orgs record, as it followed the school
	[ "$(grep -n '"type":"STATE"' "$T/out" | head -1 | cut -d: -f1)" -eq 3 ]
}

@test "a line that is not JSON is an error naming it; reading goes on; nothing is activated" {
	{ users | head -3; echo '{"type":"RECORD", oops'; users | tail -5; } >"$T/in"
	run "$N" "$T/in"
	[ "$status" -eq 1 ]
	[[ "$output" == *"error: $T/in:4: not JSON: expected a string key at column 19"* ]]
	# 2 students before the bad line, 2 teachers after it
	[ "$(printf '%s\n' "$output" | grep -c '"stream":"people","record"')" -eq 4 ]
	[[ "$output" != *'"type":"ACTIVATE_VERSION"'* ]]
	[[ "$output" == *"errors: 1 (1 unreadable lines"* ]]
}

@test "a JSON line that is not a Singer message is an error naming it" {
	printf '%s\n' '[1,2]' '{"type":"BATCH","stream":"x"}' '{"type":"RECORD","record":{}}' >"$T/in"
	run "$N" <"$T/in"
	[ "$status" -eq 1 ]
	[[ "$output" == *"stdin:1: not a Singer message: is JSON but not an object"* ]]
	[[ "$output" == *"stdin:2: not a Singer message: has a \"type\" other than"* ]]
	[[ "$output" == *"stdin:3: not a Singer message: RECORD has no \"stream\""* ]]
}

@test "an unknown stream is an error naming it and its line; the rest is complete" {
	{ users; echo '{"type":"SCHEMA","stream":"clever_courses","schema":{}}'
	  echo '{"type":"RECORD","stream":"clever_courses","record":{"id":"c1"}}'; } >"$T/in"
	run "$N" "$T/in"
	[ "$status" -eq 3 ]
	[[ "$output" == *"$T/in:10: unknown stream \"clever_courses\": its messages are not mapped (known: clever_users, clever_schools, clever_sections, clever_terms, clever_enrollments)"* ]]
	[ "$(printf '%s\n' "$output" | grep -c 'unknown stream "')" -eq 1 ]
	[[ "$output" == *"2 messages of unknown streams"* ]]
	[[ "$output" == *'"ACTIVATE_VERSION","stream":"people"'* ]]
}

@test "a record without an id is an error naming its line; its stream is not activated" {
	{ users | sed '3s/"id":"[0-9a-f]*",//'; raw clever_schools v3.0_districts.json; } >"$T/in"
	run "$N" "$T/in"
	[ "$status" -eq 3 ]
	[[ "$output" == *"$T/in:3: clever_users record not mapped: it has no \"id\"; people will not be marked complete"* ]]
	[[ "$output" != *'"ACTIVATE_VERSION","stream":"people"'* ]]
	[[ "$output" == *'"ACTIVATE_VERSION","stream":"orgs"'* ]]
	[ "$(printf '%s\n' "$output" | grep -c '"stream":"people","record"')" -eq 4 ]
}

@test "a record that is not an object is an error naming its line" {
	printf '%s\n' '{"type":"RECORD","stream":"clever_terms","record":"t1"}' >"$T/in"
	run "$N" "$T/in"
	[ "$status" -eq 3 ]
	[[ "$output" == *"$T/in:1: clever_terms record not mapped: the record is not a JSON object"* ]]
}

@test "--jq filters and reshapes records; filtered ones are counted" {
	{ users; sections; } >"$T/in"
	run "$N" --jq "$DATA/rules.jq" "$T/in"
	[ "$status" -eq 0 ]
	printf '%s\n' "$output" | grep '^{' >"$T/out"
	# students dropped from people only ($stream), teachers reshaped
	[ "$(jq -r 'select(.type == "RECORD" and .stream == "people") | .record.role' "$T/out" | sort -u)" = teacher ]
	[ "$(record "$T/out" people 603ebb2ab452fb006c76396e | jq -r .job_title)" = "GRADE 10 ENGLISH TEACHER" ]
	[ "$(grep -c '"stream":"memberships","record"' "$T/out")" -eq 61 ]
	[[ "$output" == *"filtered out by --jq: people 3, groups 0, memberships 0"* ]]
	# a filtered record is not an error: the stream is still complete
	[[ "$output" == *'"ACTIVATE_VERSION","stream":"people"'* ]]
}

@test "--jq may output several objects per record" {
	echo 'if $stream == "people" then ., (. + {source_id: (.source_id + "-copy")}) else . end' >"$T/two.jq"
	users | "$N" --jq "$T/two.jq" >"$T/out"
	[ "$(grep -c '"stream":"people","record"' "$T/out")" -eq 10 ]
	[ "$(record "$T/out" people 603ebb2ab452fb006c76396e-copy | jq -r .given_name)" = Haylie ]
}

@test "--jq output that is not an object, or a jq error, is an error naming the line" {
	echo 'if .role == "teacher" then error("no teachers here") else .source_id end' >"$T/bad.jq"
	users >"$T/in"
	run "$N" --jq "$T/bad.jq" "$T/in"
	[ "$status" -eq 3 ]
	[[ "$output" == *"$T/in:2: --jq on a people record: it output a string, not an object; people will not be marked complete"* ]]
	[[ "$output" == *"$T/in:5: --jq on a people record: no teachers here"* ]]
	[[ "$output" != *'"ACTIVATE_VERSION"'* ]]
}

@test "--jq that does not compile stops with exit 2, naming the file" {
	echo '.role | select(' >"$T/broken.jq"
	run "$N" --jq "$T/broken.jq" "$DATA/edge.ndjson"
	[ "$status" -eq 2 ]
	[[ "$output" == *"--jq $T/broken.jq: jq: error: syntax error"* ]]
	[[ "$output" != *'{"type"'* ]]
	run "$N" --jq "$T/missing.jq" "$DATA/edge.ndjson"
	[ "$status" -eq 2 ]
	[[ "$output" == *"--jq $T/missing.jq: No such file or directory"* ]]
}

@test "a failed write to stdout is exit 1 with its own message" {
	run sh -c "\"$N\" \"$DATA/edge.ndjson\" >/dev/full"
	[ "$status" -eq 1 ]
	[[ "$output" == *"writing the output failed"* ]]
}

@test "--log-format json writes errors as JSON lines" {
	printf 'not json\n' >"$T/in"
	run sh -c "\"$N\" --log-format json \"$T/in\" 2>&1 >/dev/null"
	[ "$status" -eq 1 ]
	printf '%s\n' "$output" | head -1 | jq -e '.level == "error" and (.msg | contains("in:1: not JSON"))'
}

@test "--help lists the options and the exit codes; bad usage is exit 2" {
	run "$N" --help
	[ "$status" -eq 0 ]
	[[ "$output" == *"--jq FILE"* ]]
	[[ "$output" == *"4  held"* ]]
	run "$N" --bogus
	[ "$status" -eq 2 ]
	run "$N" a b
	[ "$status" -eq 2 ]
	run "$N" "$T/nope"
	[ "$status" -eq 2 ]
	[[ "$output" == *"$T/nope: No such file or directory"* ]]
}

@test "empty input is complete and says so" {
	run "$N" </dev/null
	[ "$status" -eq 0 ]
	[[ "$output" == *"stdin: records in: 0; records out: 0"* ]]
}

@test "two runs concatenated are complete only if both were: a second SCHEMA without its ACTIVATE_VERSION withholds it" {
	users >"$T/in"
	users | sed '$d' >>"$T/in"
	# the one line sed took off is the second run's ACTIVATE_VERSION
	[ "$(grep -c '"type":"ACTIVATE_VERSION"' "$T/in")" -eq 1 ]
	[ "$(grep -c '"type":"SCHEMA"' "$T/in")" -eq 2 ]
	run "$N" "$T/in"
	[ "$status" -eq 0 ] # normalize read it all; it withholds the stream's ACTIVATE_VERSION
	printf '%s\n' "$output" | grep '^{' >"$T/out"
	[ "$(grep -c '"stream":"people","record"' "$T/out")" -eq 10 ]
	[ "$(grep -c '"type":"ACTIVATE_VERSION"' "$T/out" || [ $? -eq 1 ])" -eq 0 ]
	[[ "$output" == *"clever_users has 2 SCHEMA but 1 ACTIVATE_VERSION"* ]]
}

@test "an escaped NUL in an id becomes U+FFFD, never a cut-short id" {
	printf '%s\n' '{"type":"SCHEMA","stream":"clever_terms","schema":{},"key_properties":["id"]}' \
		'{"type":"RECORD","stream":"clever_terms","record":{"id":"t\u0000x","name":"Fall"}}' \
		'{"type":"ACTIVATE_VERSION","stream":"clever_terms","version":1}' >"$T/in"
	run "$N" "$T/in"
	[ "$status" -eq 0 ]
	[[ "$output" == *'"source_id":"t'$'\xef\xbf\xbd''x"'* ]]
}
