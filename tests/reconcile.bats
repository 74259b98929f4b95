#!/usr/bin/env bats
# Offboarding: dedupe --reconcile compares the directory accounts (Entra ID,
# Google Workspace) with the rosters (Clever here) once the people are
# merged, and run-job puts the result in its report. The inputs are
# hand-written canonical files of Maple Ridge Unified (tests/data/reconcile):
#   clever   6 people, all active; Noah Brooks has no email
#   graph    Maria Delgado's mail differs in case from Clever's email;
#            Daniel Moreau deleted (no email: merged by employee_id);
#            Lena Fox a guest; Gary Holt disabled, not in Clever; Victor
#            Szabo and Omar Haddad active, not in Clever
#   google   Robert Kim suspended (in Clever and active in graph: one
#            person in three sources); Margaret Lee missing; Pat
#            Lindqvist deleted and Jennifer Walsh archived, not in Clever
#   google-incomplete  the same without the people ACTIVATE_VERSION
#   oneroster  Omar Haddad, to be deleted

DATA="$BATS_TEST_DIRNAME/data/reconcile"
load assert
load data/reconcile/stub-bin

setup() {
	T=$(mktemp -d)
	export ROSTER_FAKE_CLOCK=1800000000
}

teardown() {
	rm -rf "$T"
}

# dedupe --reconcile $T/r.json over the named files of $DATA
reconcile() {
	local f args=()
	for f in "$@"; do
		args+=("$DATA/$f.ndjson")
	done
	run "$ROSTER_BIN/dedupe" --reconcile "$T/r.json" "${args[@]}"
}

# "given family" of a list of a pair, one a line
names() {
	jq -r --arg d "$1" --arg r "$2" --arg l "$3" \
		'.pairs[] | select(.directory == $d and .roster == $r) | .[$l][] | "\(.given_name) \(.family_name)"' "$T/r.json"
}

@test "each list of graph vs clever and google vs clever, sorted by person id, with counts" {
	reconcile clever graph google
	[ "$status" -eq 0 ]
	[[ "$output" == *"reconciliation: 2 pairs of a directory and a roster compared, 0 skipped"* ]]
	[ "$(jq -c '[.pairs[] | [.directory, .roster]]' "$T/r.json")" = '[["graph","clever"],["google","clever"]]' ]
	[ "$(names graph clever active_in_directory_absent_from_roster | paste -sd,)" = "Omar Haddad,Lena Fox,Victor Szabo" ]
	[ "$(names graph clever active_in_directory_inactive_in_roster)" = "" ]
	[ "$(names graph clever in_roster_without_directory_account | paste -sd,)" = "Noah Brooks,Ava Chen" ]
	[ "$(names graph clever directory_account_inactive)" = "Daniel Moreau" ]
	[ "$(names google clever active_in_directory_absent_from_roster)" = "Victor Szabo" ]
	[ "$(names google clever in_roster_without_directory_account | paste -sd,)" = "Noah Brooks,Margaret Lee" ]
	[ "$(names google clever directory_account_inactive)" = "Robert Kim" ]
	# entries in person id order, counts equal to the lists
	jq -e '.pairs[] | to_entries | map(select(.value | type == "array")) | all(.value | map(.id) == (map(.id) | sort))' "$T/r.json"
	jq -e '.pairs[] | . as $p | .counts | to_entries | all(.value == ($p[.key] | length))' "$T/r.json"
	[ "$(jq -c '.pairs[0] | {directory_people, roster_people}' "$T/r.json")" = '{"directory_people":8,"roster_people":6}' ]
}

@test "an entry carries the person id, both source ids, name, email, role and the directory's reason" {
	reconcile clever graph google
	[ "$status" -eq 0 ]
	id=$(jq -r '.pairs[0].directory_account_inactive[0].id' "$T/r.json")
	# the merged person's id, as dedupe wrote it in the people stream
	[ "$(jq -r 'select(.type == "RECORD" and .stream == "people") | .record
		| select(.sources | map(.source_id) | index("c-t1008")) | .id' <<<"$output")" = "$id" ]
	[ "$(jq -c '.pairs[0].directory_account_inactive[0] | del(.id)' "$T/r.json")" = \
		'{"directory_source_id":"8d1c0f3a-0002","roster_source_id":"c-t1008","given_name":"Daniel","family_name":"Moreau","email":"dmoreau@mapleridge.example","role":"teacher","status_reason":"deleted in Entra ID 2026-10-30T14:02:11Z"}' ]
	[ "$(jq -c '.pairs[1].directory_account_inactive[0] | [.directory_source_id, .roster_source_id, .status_reason]' "$T/r.json")" = \
		'["110200300400500600004","c-s2201","suspended (ADMIN)"]' ]
	# the roster side has no account: no directory id, no reason
	[ "$(jq -c '.pairs[0].in_roster_without_directory_account[1] | keys' "$T/r.json")" = \
		'["email","family_name","given_name","id","role","roster_source_id"]' ]
}

@test "a guest is listed, with role guest" {
	reconcile clever graph
	[ "$status" -eq 0 ]
	[ "$(jq -c '.pairs[0].active_in_directory_absent_from_roster[] | select(.given_name == "Lena") | [.role, .email, .directory_source_id]' "$T/r.json")" = \
		'["guest","lfox@partner.example","8d1c0f3a-0005"]' ]
}

@test "Entra's mail in another case than Clever's email is the same person: on no list" {
	reconcile clever graph
	[ "$status" -eq 0 ]
	[ "$(jq '[.pairs[] | .[] | arrays | .[] | select(.family_name == "Delgado")] | length' "$T/r.json")" -eq 0 ]
	[ "$(jq -r 'select(.type == "RECORD" and .stream == "people") | .record
		| select(.family_name == "Delgado") | [.sources[].source] | join(",")' <<<"$output")" = "clever,graph" ]
}

@test "one person in three sources: active in graph, suspended in google, only google's pair lists the account" {
	reconcile clever graph google
	[ "$status" -eq 0 ]
	[ "$(jq -r 'select(.type == "RECORD" and .stream == "people") | .record
		| select(.family_name == "Kim") | [.sources[].source] | join(",")' <<<"$output")" = "clever,google,graph" ]
	[ "$(jq '[.pairs[0] | .[] | arrays | .[] | select(.family_name == "Kim")] | length' "$T/r.json")" -eq 0 ]
	[ "$(names google clever directory_account_inactive)" = "Robert Kim" ]
}

@test "a directory whose people are incomplete is skipped with the reason; the others are compared" {
	cp "$DATA/google-incomplete.ndjson" "$T/google.ndjson"
	run "$ROSTER_BIN/dedupe" --reconcile "$T/r.json" "$DATA/clever.ndjson" "$DATA/graph.ndjson" "$T/google.ndjson"
	[ "$status" -eq 0 ]
	[ "$(jq -c '.skipped' "$T/r.json")" = '[{"directory":"google","roster":"clever","reason":"google people incomplete"}]' ]
	[ "$(jq -c '[.pairs[] | .directory]' "$T/r.json")" = '["graph"]' ]
	[ "$(jq -c '[.sources[] | [.source, .kind, .complete]]' "$T/r.json")" = \
		'[["clever","roster",true],["graph","directory",true],["google","directory",false]]' ]
}

@test "one input holding two runs, one of them incomplete: neither source in it is trusted" {
	# graph complete, then google without its people ACTIVATE_VERSION, in one file:
	# the lone ACTIVATE_VERSION cannot say whose it is
	cat "$DATA/graph.ndjson" "$DATA/google-incomplete.ndjson" >"$T/both.ndjson"
	run "$ROSTER_BIN/dedupe" --reconcile "$T/r.json" "$DATA/clever.ndjson" "$T/both.ndjson"
	[ "$status" -eq 0 ]
	[ "$(jq -c '[.pairs[] | .directory]' "$T/r.json")" = '[]' ]
	[ "$(jq -c '[.skipped[] | .directory]' "$T/r.json")" = '["graph","google"]' ]
	# both runs complete in one file: compared
	cat "$DATA/graph.ndjson" "$DATA/google.ndjson" >"$T/both.ndjson"
	run "$ROSTER_BIN/dedupe" --reconcile "$T/r.json" "$DATA/clever.ndjson" "$T/both.ndjson"
	[ "$status" -eq 0 ]
	[ "$(jq -c '[.pairs[] | .directory]' "$T/r.json")" = '["graph","google"]' ]
}

@test "a second roster: an account active in graph whose only roster record is inactive" {
	reconcile clever graph oneroster
	[ "$status" -eq 0 ]
	[ "$(jq -c '[.pairs[] | [.directory, .roster]]' "$T/r.json")" = '[["graph","clever"],["graph","oneroster"]]' ]
	[ "$(jq -c '.pairs[1].active_in_directory_inactive_in_roster[] | [.given_name, .roster_source_id, .roster_status_reason]' "$T/r.json")" = \
		'["Omar","or-2028002","tobedeleted in OneRoster"]' ]
}

@test "the file is written whole or not at all: nothing on bad input, exit 3 with the merged output when its folder is missing" {
	run "$ROSTER_BIN/dedupe" --reconcile "$T/r.json" "$DATA/clever.ndjson" "$BATS_TEST_DIRNAME/data/dedupe/corrupt.ndjson"
	[ "$status" -eq 1 ]
	[ ! -e "$T/r.json" ]
	run "$ROSTER_BIN/dedupe" --reconcile "$T/no/such/r.json" "$DATA/clever.ndjson" "$DATA/graph.ndjson"
	[ "$status" -eq 3 ]
	[[ "$output" == *"the reconciliation was not written to $T/no/such/r.json"* ]]
	[[ "$output" == *'"type":"ACTIVATE_VERSION","stream":"people"'* ]]
	reconcile clever graph
	[ "$status" -eq 0 ]
	[ "$(ls -A "$T")" = "r.json" ] # no temporary file left
}

@test "without directory sources the document is empty of pairs; --help names the option" {
	reconcile clever
	[ "$status" -eq 0 ]
	[ "$(jq -c '[.pairs, .skipped]' "$T/r.json")" = '[[],[]]' ]
	run "$ROSTER_BIN/dedupe" --help
	[ "$status" -eq 0 ]
	[[ "$output" == *"--reconcile FILE"* ]]
}

# ---- run-job ----

# A job of the three sources, run by run-job over the stub programs.
run_job() {
	stub_bin "$T/bin"
	mkdir -p "$T/log"
	printf '%s\n' '[job]' 'name = maple-ridge' 'output = out' \
		'[source clever]' 'type = clever' 'client_id = demo-client-id' \
		'[source entra]' 'type = graph' 'tenant = mapleridge.onmicrosoft.com' 'client_id = 0c9f3a7e' \
		'[source workspace]' 'type = google' 'subject = sync-admin@mapleridge.example' "$@" >"$T/d.job"
	STUB_LOG="$T/log" STUB_DATA="$T/data" run "$ROSTER_BIN/run-job" --bindir "$T/bin" "$T/d.job"
}

data() {
	mkdir -p "$T/data"
	cp "$DATA/clever.ndjson" "$DATA/graph.ndjson" "$DATA/google.ndjson" "$T/data/"
}

@test "run-job: the reconciliation is in run-report.json and printed after the outputs, a line per pair" {
	data
	run_job
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(jq -c '[.reconciliation.pairs[] | [.directory, .roster, .counts.directory_account_inactive]]' "$T/out/run-report.json")" = \
		'[["graph","clever",1],["google","clever",1]]' ]
	cmp <(jq -S .reconciliation "$T/out/run-report.json") <(jq -S . "$T/out/.work/reconcile.json")
	[[ "$output" == *"graph vs clever: 3 active accounts absent from clever, 0 inactive in clever; 2 clever people without a graph account; 1 graph account inactive for an active clever person"* ]]
	[[ "$output" == *"google vs clever: 1 active account absent from clever, 0 inactive in clever; 2 clever people without a google account; 1 google account inactive for an active clever person"* ]]
	[[ "$output" == *"      Lena Fox <lfox@partner.example> (guest)"* ]]
	[[ "$output" == *"      Daniel Moreau <dmoreau@mapleridge.example> (teacher): deleted in Entra ID 2026-10-30T14:02:11Z"* ]]
	[[ "$output" == *"      Noah Brooks (student)"* ]]
	# after the outputs table, before the folder line
	outputs=$(grep -n '^output ' <<<"$output" | cut -d: -f1)
	recon=$(grep -n '^Reconciliation' <<<"$output" | cut -d: -f1)
	folder=$(grep -n '^Output folder' <<<"$output" | cut -d: -f1)
	[ "$outputs" -lt "$recon" ]
	[ "$recon" -lt "$folder" ]
}

@test "run-job: at most 10 names a list, then how many more" {
	data
	for i in $(seq 1 14); do
		printf '{"type":"RECORD","stream":"people","record":{"source":"clever","source_id":"c-x%02d","status":"active","given_name":"Student","family_name":"N%02d","role":"student"}}\n' "$i" "$i"
	done >"$T/more"
	sed -i "1r $T/more" "$T/data/clever.ndjson"
	run_job
	[ "$status" -eq 0 ]
	[[ "$output" == *"16 clever people without a graph account"* ]]
	[[ "$output" == *"      ... and 6 more (see run-report.json)"* ]]
	[ "$(jq '.reconciliation.pairs[0].in_roster_without_directory_account | length' "$T/out/run-report.json")" -eq 16 ]
}

@test "run-job: a directory source that failed is not compared, and says why" {
	data
	STUB_EXIT_google=1 run_job
	# failed: google's failure holds every file back (each output has a
	# google SCHEMA without its ACTIVATE_VERSION), so nothing is published
	[ "$status" -eq 1 ]
	[[ "$output" == *"workspace: extract-google exited 1 (failed)"* ]]
	[ "$(jq -r '[.files[].status] | unique | join(",")' "$T/out/manifest.json")" = kept_previous ]
	[[ "$output" == *"google vs clever: not compared: google people incomplete (source workspace failed)"* ]]
	[[ "$output" == *"graph vs clever: 3 active accounts absent"* ]]
	[ "$(jq -c '.reconciliation.skipped' "$T/out/run-report.json")" = \
		'[{"directory":"google","roster":"clever","reason":"google people incomplete (source workspace failed)"}]' ]
}

# google's data without its people stream, which is all of it: the
# extractor prints nothing
no_google_people() {
	local rc=0
	[ -s "$DATA/google.ndjson" ]
	grep -v '"stream":"people"' "$DATA/google.ndjson" >"$T/data/google.ndjson" || rc=$?
	[ "$rc" -eq 1 ] # grep selected no line: every line was of the people stream
	[ ! -s "$T/data/google.ndjson" ]
}

@test "run-job: a source that read no people at all (nothing dedupe could see) is named too" {
	data
	no_google_people
	run_job
	# every output is published from clever and graph: exit 0, though the
	# report says the google source did not read all its people
	[ "$status" -eq 0 ]
	[[ "$output" == *"google vs clever: not compared: google people incomplete (source workspace did not read all its people)"* ]]
}

@test "run-job: the same with the source's streams named in the job (streams = users)" {
	data
	no_google_people
	run_job 'streams = users'
	[ "$status" -eq 0 ]
	[[ "$output" == *"google vs clever: not compared: google people incomplete (source workspace did not read all its people)"* ]]
}

@test "run-job: nothing is printed when the job has no directory source" {
	data
	stub_bin "$T/bin"
	mkdir -p "$T/log"
	printf '%s\n' '[job]' 'output = out' '[source clever]' 'type = clever' 'client_id = a' >"$T/d.job"
	STUB_LOG="$T/log" STUB_DATA="$T/data" run "$ROSTER_BIN/run-job" --bindir "$T/bin" "$T/d.job"
	[ "$status" -eq 0 ]
	[[ "$output" != *"Reconciliation"* ]]
	[[ "$output" != *" vs "* ]]
}

# munis: a staff roster (HR): Delgado and Szabo active, Holt terminated,
# Irene Castillo with no account. frontline: only Delgado (she was absent).
@test "an HR roster is compared for staff accounts only; absences list no roster" {
	reconcile clever graph munis frontline
	[ "$status" -eq 0 ]
	[ "$(jq -c '[.pairs[] | [.directory, .roster]]' "$T/r.json")" = '[["graph","clever"],["graph","munis"]]' ]
	[ "$(jq -r '.sources[] | select(.source == "munis") | .kind' "$T/r.json")" = "staff roster" ]
	[ "$(jq -r '.sources[] | select(.source == "frontline") | .kind' "$T/r.json")" = "partial (not compared)" ]
	# Lee and Kim have staff accounts and no HR record; Haddad (a student)
	# and Fox (a guest) are not expected in HR; Szabo is there
	[ "$(names graph munis active_in_directory_absent_from_roster | sort | paste -sd,)" = "Margaret Lee,Robert Kim" ]
	[ "$(names graph munis in_roster_without_directory_account)" = "Irene Castillo" ]
	# Holt: inactive in both, on no list; Szabo is no longer absent from every roster
	[ "$(names graph munis active_in_directory_inactive_in_roster)" = "" ]
	[ "$(names graph clever active_in_directory_absent_from_roster | sort | paste -sd,)" = "Lena Fox,Omar Haddad,Victor Szabo" ]
}
