#!/usr/bin/env bats
# run-job with file-drop sources (type sftp), read here from local folders
# (local = PATH: the same ingest without a server; tests/extract_sftp.bats
# covers SFTP itself): the staging folder run-job gives each source, the
# vendor its profile names, status_codes for normalize, and the profile
# checked before anything runs.

load assert

DROPS="$BATS_TEST_DIRNAME/../fixtures/drops"

setup() {
	T=$(mktemp -d)
	mkdir "$T/aesop"
	cp "$DROPS/frontline/11-23-2026.txt" "$T/aesop/"
}

teardown() {
	rm -rf "$T"
}

job() {
	printf '%s\n' "$@" >"$T/d.job"
}

hr_job() {
	job '[job]' 'output = out' \
		'[source hr]' 'type = sftp' 'profile = munis' \
		"local = $DROPS/munis/munis_employees_20261128.csv" 'settle = 0' "$@" \
		'[source absences]' 'type = sftp' 'profile = aesop' 'local = aesop' 'take = all' \
		'settle = 0'
}

# the value of column $2 in the row of $1.csv whose column $3 is $4
cell() {
	/usr/bin/python3 -c 'import csv,sys
for r in csv.DictReader(open(sys.argv[1])):
    if r[sys.argv[3]] == sys.argv[4]: print(r[sys.argv[2]])' "$T/out/$1.csv" "$2" "$3" "$4"
}

@test "a Munis extract and Aesop daily files become people, positions and absences" {
	hr_job 'status_codes = A=active; L=active; T=inactive'
	run "$ROSTER_BIN/run-job" "$T/d.job"
	[ "$status" -eq 0 ]
	[ "$(jq -r '.sources[] | "\(.name) \(.streams | keys | join(","))"' "$T/out/run-report.json" | paste -sd';')" = "hr munis_employees;absences frontline_absences" ]
	[ "$(($(wc -l <"$T/out/positions.csv") - 1))" -eq 14 ]
	[ "$(cell positions fte source_id 1007/TCH-K/0110)" = "1.000" ]
	# the terminated employee, by the job's table
	[ "$(cell people status employee_id 1105)" = "inactive" ]
	[[ "$(cell people status_reason employee_id 1105)" == "T in Munis"* ]]
	# an absent employee is one person with the HR record
	[[ "$(cell people sources employee_id 1007)" == "frontline:1007;munis:1007" ]]
	# the SSN column is in no output, work or state file but the staged copy
	# of the drop itself (the file as downloaded, byte for byte, into
	# OUTPUT/state/NAME.staging/files/), and the run report says it was dropped
	[ "$(grep -rl -e '900-' "$T/out")" = "$T/out/state/hr.staging/files/munis_employees_20261128.csv" ]
	cmp "$DROPS/munis/munis_employees_20261128.csv" "$T/out/state/hr.staging/files/munis_employees_20261128.csv"
	[[ "$output" == *"hr munis_employees: note: munis_employees_20261128.csv: SSN column dropped at read time"* ]]
	# each source has its staging folder and ledger beside its STATE
	[ -s "$T/out/state/hr.staging/ledger.jsonl" ]
	[ -s "$T/out/state/absences.staging/frontline_absences.fold" ]
}

@test "a cancellation in a later daily file removes the day from absences.csv" {
	hr_job
	run "$ROSTER_BIN/run-job" "$T/d.job"
	[ "$status" -eq 0 ]
	grep -q '^frontline,1056/2026-11-23,' "$T/out/absences.csv"
	cp "$DROPS/frontline/11-24-2026.txt" "$T/aesop/"
	run "$ROSTER_BIN/run-job" "$T/d.job"
	[ "$status" -eq 0 ]
	no_line -q '^frontline,1056/' "$T/out/absences.csv"
	# the first file was not read again: the ledger had it
	[ "$(grep -c '"name"' "$T/out/state/absences.staging/ledger.jsonl")" -eq 2 ]
}

@test "status_codes goes to normalize: a bad table fails that source with its line" {
	hr_job 'status_codes = A=employed'
	run "$ROSTER_BIN/run-job" "$T/d.job"
	[ "$status" -eq 3 ]
	[[ "$output" == *"--status-codes"* ]]
	jq -e '.sources[] | select(.name == "hr") | .hint | test("status_codes = A=employed \\(.*d.job:8\\)")' "$T/out/run-report.json"
	hr_job 'status_codes ='
	run "$ROSTER_BIN/run-job" --check "$T/d.job"
	[ "$status" -eq 2 ]
	[[ "$output" == *"d.job:8: status_codes is empty"* ]]
}

@test "an sftp source needs a known profile, named with its line" {
	job '[job]' 'output = out' '[source hr]' 'type = sftp' 'local = x.csv'
	run "$ROSTER_BIN/run-job" --check "$T/d.job"
	[ "$status" -eq 2 ]
	[[ "$output" == *"d.job:3: [source hr] needs profile = (the drop's format)"* ]]
	[[ "$output" == *"known profiles: clever, munis, munis-fixed, frontline, aesop, oneroster, sds"* ]]
	job '[job]' 'output = out' '[source hr]' 'type = sftp' 'profile = munis-csv' 'local = x.csv'
	run "$ROSTER_BIN/run-job" --check "$T/d.job"
	[ "$status" -eq 2 ]
	[[ "$output" == *"d.job:5: unknown profile 'munis-csv'"* ]]
}
