#!/usr/bin/env bats
# normalize: the raw streams of the bundle drops (Clever SFTP CSVs,
# OneRoster 1.1 CSV, School Data Sync v2.1) into the canonical streams.
# tests/data/normalize_bundles/<source>.ndjson is what the drop engine
# reads from fixtures/drops/<source> (SCHEMA, RECORDs, ACTIVATE_VERSION
# per stream, in the profile's order); <source>.expected.ndjson holds the
# canonical RECORD lines, checked by hand. Edge cases are written here.

load assert

DATA="$BATS_TEST_DIRNAME/data/normalize_bundles"

setup() {
	T=$(mktemp -d)
	N="$ROSTER_BIN/normalize"
}

teardown() {
	rm -rf "$T"
}

# One raw stream: SCHEMA, a RECORD per record given, ACTIVATE_VERSION.
raw() { # stream, record...
	local s=$1
	shift
	echo "{\"type\":\"SCHEMA\",\"stream\":\"$s\",\"schema\":{\"type\":\"object\"},\"key_properties\":[]}"
	for r in "$@"; do
		echo "{\"type\":\"RECORD\",\"stream\":\"$s\",\"record\":$r}"
	done
	echo "{\"type\":\"ACTIVATE_VERSION\",\"stream\":\"$s\",\"version\":1732838400000}"
}

# The canonical records of stream in file, one a line (key order kept).
records() { # file, stream
	jq -c --arg s "$2" 'select(.type == "RECORD" and .stream == $s) | .record' "$1"
}

activated() { # file: the canonical streams given ACTIVATE_VERSION, sorted
	jq -r 'select(.type == "ACTIVATE_VERSION") | .stream' "$1" | sort | tr '\n' ' '
}

@test "clever SFTP drop: schools, users of three files, sections and enrollments map exactly" {
	run "$N" "$DATA/clever.ndjson"
	[ "$status" -eq 0 ]
	printf '%s\n' "$output" | grep '^{"type":"RECORD"' >"$T/out"
	diff -u "$DATA/clever.expected.ndjson" "$T/out"
	[[ "$output" == *"records in: clever_schools 4, clever_users 10, clever_sections 3, clever_enrollments 3; records out: orgs 4, people 10, groups 3, memberships 7;"* ]]
	[[ "$output" != *"warning"* ]]
}

@test "clever_enrollments rows are student memberships of their section" {
	raw clever_enrollments '{"section":"SEC-105","student":"2400423","school":"201"}' \
		'{"section":"SEC-105","student":"2400440","school":"201"}' >"$T/in"
	run "$N" "$T/in"
	[ "$status" -eq 0 ]
	printf '%s\n' "$output" | grep '^{' >"$T/out"
	[ "$(records "$T/out" memberships)" = '{"source":"clever","group_id":"SEC-105","person_id":"2400423","role":"student"}
{"source":"clever","group_id":"SEC-105","person_id":"2400440","role":"student"}' ]
	[ "$(activated "$T/out")" = "memberships " ]
}

@test "a clever_enrollments row without its student is an error naming the line" {
	raw clever_enrollments '{"section":"SEC-105","student":"2400423"}' '{"section":"SEC-105","school":"201"}' \
		'{"section":"","student":"2400440"}' >"$T/in"
	run "$N" "$T/in"
	[ "$status" -eq 3 ]
	[[ "$output" == *"$T/in:3: clever_enrollments record not mapped: it has no \"student\""* ]]
	[[ "$output" == *"$T/in:4: clever_enrollments record not mapped: its \"section\" is not a non-empty string"* ]]
	[ "$(printf '%s\n' "$output" | grep -c '"stream":"memberships","record"')" -eq 1 ]
	[[ "$output" == *"memberships: not marked complete: some records could not be mapped"* ]]
}

@test "oneroster drop: orgs, sessions, classes, users and enrollments map exactly; courses are counted" {
	run "$N" "$DATA/oneroster.ndjson"
	[ "$status" -eq 0 ]
	printf '%s\n' "$output" | grep '^{' >"$T/out"
	grep '^{"type":"RECORD"' "$T/out" >"$T/records"
	diff -u "$DATA/oneroster.expected.ndjson" "$T/records"
	[ "$(activated "$T/out")" = "groups memberships orgs people sessions " ]
	[[ "$output" == *"records out: orgs 5, people 5, groups 2, memberships 3, sessions 2; left out: 2 courses (no canonical courses stream; classes keep the course id), 1 guardian, parent and relative users (no canonical role);"* ]]
	[[ "$output" != *"warning"* ]]
}

@test "oneroster users: enabledUser false and tobedeleted are inactive with a reason; identifier is the SIS id" {
	"$N" "$DATA/oneroster.ndjson" >"$T/out" 2>/dev/null
	[ "$(records "$T/out" people | jq -c 'select(.source_id == "usr-t1099") | [.status, .status_reason, .sis_id, .employee_id]')" = \
		'["inactive","to be deleted in OneRoster","T-1099",null]' ]
	[ "$(records "$T/out" people | jq -c 'select(.source_id == "usr-a3310") | [.role, .status, .status_reason]')" = \
		'["aide","inactive","disabled in OneRoster"]' ]
	# students: identifier is the student number too, grade from grades[0]
	[ "$(records "$T/out" people | jq -c 'select(.role == "student") | [.sis_id, .student_number, .grade, .org_ids]')" = \
		'["2400423","2400423","07",["org-201"]]' ]
	# nothing of the guardian
	no_line -q 'usr-g0423\|Kenji' "$T/out"
}

@test "oneroster edge cases: tobedeleted, odd roles and types, org types" {
	{
		raw oneroster_orgs '{"sourcedId":"org-or","name":"Oregon","type":"state"}' \
			'{"sourcedId":"org-old","status":"tobedeleted","name":"Old Annex","type":"school","parent":{"sourcedId":"org-district"}}'
		raw oneroster_academic_sessions '{"sourcedId":"as-q1","title":"Q1","type":"marking period","startDate":"2024-08-26","endDate":"2024-10-31"}' \
			'{"sourcedId":"as-old","status":"tobedeleted","title":"Old","type":"term","startDate":"2023-08-26","endDate":"2024-06-13"}'
		raw oneroster_classes '{"sourcedId":"cls-old","status":"tobedeleted","title":"Old class","course":{"sourcedId":"c"},"school":{"sourcedId":"s"},"terms":[{"sourcedId":"t"}]}'
		raw oneroster_users '{"sourcedId":"usr-p1","role":"principal","givenName":"Yolanda","familyName":"Pérez","identifier":"P-1"}' \
			'{"sourcedId":"usr-r1","role":"Relative","givenName":"Kim","familyName":"Sato"}'
		raw oneroster_enrollments '{"sourcedId":"e1","status":"tobedeleted","class":{"sourcedId":"cls-105"},"user":{"sourcedId":"usr-t1042"},"role":"teacher"}' \
			'{"sourcedId":"e2","class":{"sourcedId":"cls-105"},"user":{"sourcedId":"usr-g0423"},"role":"guardian"}' \
			'{"sourcedId":"e3","class":{"sourcedId":"cls-105"},"user":{"sourcedId":"usr-ad01"},"role":"Administrator"}' \
			'{"sourcedId":"e4","user":{"sourcedId":"usr-ad01"},"role":"teacher"}'
	} >"$T/in"
	run "$N" "$T/in"
	[ "$status" -eq 3 ]
	printf '%s\n' "$output" | grep '^{' >"$T/out"
	[ "$(records "$T/out" orgs)" = '{"source":"oneroster","source_id":"org-or","type":"orgunit","name":"Oregon","status":"active"}
{"source":"oneroster","source_id":"org-old","type":"school","name":"Old Annex","parent_id":"org-district","status":"inactive"}' ]
	[ "$(records "$T/out" sessions)" = '{"source":"oneroster","source_id":"as-q1","name":"Q1","start_date":"2024-08-26","end_date":"2024-10-31"}' ]
	[ "$(records "$T/out" groups)" = "" ]
	[ "$(records "$T/out" people)" = '{"source":"oneroster","source_id":"usr-p1","status":"active","given_name":"Yolanda","family_name":"Pérez","sis_id":"P-1"}' ]
	[ "$(records "$T/out" memberships)" = '{"source":"oneroster","group_id":"cls-105","person_id":"usr-ad01","role":"member"}' ]
	[[ "$output" == *"warning: $T/in:"*": oneroster_academic_sessions: sessions whose type is not schoolYear, term, semester or gradingPeriod (type left out)"* ]]
	[[ "$output" == *"warning: $T/in:"*": oneroster_users: users whose role is not student, teacher, administrator or aide (role left out)"* ]]
	[[ "$output" == *"warning: $T/in:"*": oneroster_enrollments: enrollments whose role is not student, teacher, aide, administrator or proctor"* ]]
	[[ "$output" == *"oneroster_enrollments record not mapped: it has no class.sourcedId string"* ]]
	[[ "$output" == *"3 groups, memberships and sessions with status tobedeleted"* ]]
	[[ "$output" == *"1 guardian, parent and relative users (no canonical role)"* ]]
}

@test "sds drop: roles before users give each person a role, grade and orgs; exact records" {
	run "$N" "$DATA/sds.ndjson"
	[ "$status" -eq 0 ]
	printf '%s\n' "$output" | grep '^{' >"$T/out"
	grep '^{"type":"RECORD"' "$T/out" >"$T/records"
	diff -u "$DATA/sds.expected.ndjson" "$T/records"
	[ "$(activated "$T/out")" = "groups memberships orgs people sessions " ]
	[[ "$output" == *"records out: orgs 4, people 6, groups 2, memberships 4, sessions 2; left out: 1 guardian, parent and relative users (no canonical role), 1 users without a roles.csv row (role left out), 2 courses (no canonical courses stream; classes keep the course id);"* ]]
	[[ "$output" != *"warning"* ]]
}

@test "sds roles: the isPrimary row wins wherever it is; its org comes first; guardians never win" {
	{
		raw sds_roles '{"userSourcedId":"u1","orgSourcedId":"s-101","role":"teacher","isPrimary":false}' \
			'{"userSourcedId":"u1","orgSourcedId":"s-102","role":"administrator","isPrimary":true}' \
			'{"userSourcedId":"u1","orgSourcedId":"s-201","role":"teacher","isPrimary":false}' \
			'{"userSourcedId":"u2","orgSourcedId":"s-101","role":"guardian","isPrimary":true}' \
			'{"userSourcedId":"u2","orgSourcedId":"s-102","role":"Teacher","isPrimary":false}' \
			'{"userSourcedId":"u3","orgSourcedId":"s-101","role":"student","grade":"03"}' \
			'{"userSourcedId":"u3","orgSourcedId":"s-101","role":"student","grade":"04"}' \
			'{"userSourcedId":"u4","orgSourcedId":"s-101","role":"counselor","isPrimary":true}'
		raw sds_users '{"sourcedId":"u1","username":"a1"}' '{"sourcedId":"u2","username":"a2"}' \
			'{"sourcedId":"u3","username":"a3"}' '{"sourcedId":"u4","username":"a4"}'
	} >"$T/in"
	run "$N" "$T/in"
	[ "$status" -eq 0 ]
	printf '%s\n' "$output" | grep '^{' >"$T/out"
	[ "$(records "$T/out" people)" = '{"source":"sds","source_id":"u1","role":"administrator","status":"active","username":"a1","org_ids":["s-102","s-101","s-201"]}
{"source":"sds","source_id":"u2","role":"teacher","status":"active","username":"a2","org_ids":["s-102"]}
{"source":"sds","source_id":"u3","role":"student","status":"active","username":"a3","grade":"03","org_ids":["s-101"]}
{"source":"sds","source_id":"u4","status":"active","username":"a4"}' ]
	[[ "$output" == *"warning: $T/in:"*": sds_users: users whose roles.csv role is not a known one (role left out)"* ]]
}

@test "sds users before their roles: warned, roles read later are not used" {
	{
		raw sds_users '{"sourcedId":"u1","username":"a1"}'
		raw sds_roles '{"userSourcedId":"u1","orgSourcedId":"s-101","role":"teacher","isPrimary":true}'
	} >"$T/in"
	run "$N" "$T/in"
	[ "$status" -eq 0 ] # a gap, warned about, not an error
	printf '%s\n' "$output" | grep '^{' >"$T/out"
	[ "$(records "$T/out" people)" = '{"source":"sds","source_id":"u1","status":"active","username":"a1"}' ]
	[[ "$output" == *"sds_users: users read before sds_roles was complete (their roles may be missing)"* ]]
	[[ "$output" == *"sds_roles: roles.csv rows read after the first user (not used)"* ]]
}

@test "sds enrollments, classes, orgs and sessions: roles and types mapped, odd ones counted" {
	{
		raw sds_orgs '{"sourcedId":"x1","name":"North Region","type":"local","parentSourcedId":"d-mru"}'
		raw sds_academic_sessions '{"sourcedId":"q1","title":"Q1","type":"quarter","startDate":"2024-08-26"}'
		raw sds_classes '{"sourcedId":"k1","orgSourcedId":"s-101","title":"Art"}'
		raw sds_enrollments '{"classSourcedId":"k1","userSourcedId":"u1","role":"aide"}' \
			'{"classSourcedId":"k1","userSourcedId":"u2","role":"parent"}'
	} >"$T/in"
	run "$N" "$T/in"
	[ "$status" -eq 0 ]
	printf '%s\n' "$output" | grep '^{' >"$T/out"
	[ "$(records "$T/out" orgs)" = '{"source":"sds","source_id":"x1","type":"orgunit","name":"North Region","parent_id":"d-mru","status":"active"}' ]
	[ "$(records "$T/out" sessions)" = '{"source":"sds","source_id":"q1","name":"Q1","start_date":"2024-08-26"}' ]
	[ "$(records "$T/out" groups)" = '{"source":"sds","source_id":"k1","type":"section","name":"Art","org_id":"s-101"}' ]
	[ "$(records "$T/out" memberships)" = '{"source":"sds","group_id":"k1","person_id":"u1","role":"member"}' ]
	[[ "$output" == *"1 enrollments whose role is not student, teacher, aide, administrator or proctor"* ]]
	[[ "$output" == *"1 sessions whose type is not schoolYear, term, semester or gradingPeriod (type left out)"* ]]
}
