#!/usr/bin/env bats
# normalize: the HR drop streams into the canonical streams. Munis
# employees -> people and positions (status code table, --status-codes,
# PreferredName, PrimaryJob, one person per employee, zero-padded
# numbers); Frontline absences ->
# absences and people (times, half days, multi-day records over a weekend,
# vacancies, one person per employee, "Last, First", cancellations).

load assert

setup() {
	T=$(mktemp -d)
	N="$ROSTER_BIN/normalize"
}

teardown() {
	rm -rf "$T"
}

# A raw stream as extract-sftp writes it: SCHEMA, one RECORD per record
# (one JSON object a line on standard input, its text kept: jq would write
# 1.000 as 1), ACTIVATE_VERSION.
raw() { # stream
	echo "{\"type\":\"SCHEMA\",\"stream\":\"$1\",\"schema\":{\"type\":\"object\"},\"key_properties\":[]}"
	while IFS= read -r r; do
		printf '{"type":"RECORD","stream":"%s","record":%s}\n' "$1" "$r"
	done
	echo "{\"type\":\"ACTIVATE_VERSION\",\"stream\":\"$1\",\"version\":1764374400000}"
}

# Runs normalize with its arguments on $T/in; stdout in $T/out, stderr in
# $T/err and $output.
norm() {
	run sh -c '"$0" "$@" "$T_IN" 2>"$T_ERR" >"$T_OUT"; rc=$?; cat "$T_ERR"; exit $rc' \
		"$N" "$@"
}
export T_IN T_ERR T_OUT

# The record(s) of a stream with that source_id, as written (key order kept).
record() { # stream, source_id
	jq -c --arg s "$1" --arg id "$2" 'select(.type == "RECORD" and .stream == $s and .record.source_id == $id) | .record' "$T/out"
}

# How many records a stream has.
count() { # stream
	jq -r --arg s "$1" 'select(.type == "RECORD" and .stream == $s) | .record.source_id' "$T/out" | wc -l
}

use() { T_IN="$T/in" T_ERR="$T/err" T_OUT="$T/out"; export T_IN T_ERR T_OUT; }

munis() { raw munis_employees >"$T/in"; use; }
frontline() { raw frontline_absences >"$T/in"; use; }

# ---- Munis ----

@test "Munis: a primary job row is the exact person and the exact position; the zero-padded number is kept" {
	munis <<'EOF'
{"EmployeeNumber":"004417","LastName":"Whitfield","FirstName":"Marcus","MiddleInitial":"J","PreferredName":"Marc","Location":"0994","LocationDesc":"CEDAR VALLEY HS","JobClass":"TCH-SCI","JobClassDesc":"Teacher Science","Department":"1100","BargainingUnit":"CERT","Status":"A","HireDate":"2014-08-18","FTE":1.000,"WorkEmail":"mwhitfield@mapleridge.example","PrimaryJob":true}
EOF
	norm
	[ "$status" -eq 0 ]
	[ "$(record people 004417)" = '{"source":"munis","source_id":"004417","role":"staff","status":"active","given_name":"Marc","middle_name":"J","family_name":"Whitfield","email":"mwhitfield@mapleridge.example","employee_id":"004417","org_ids":["0994"],"job_title":"Teacher Science","department":"1100"}' ]
	[ "$(record positions 004417/TCH-SCI/0994)" = '{"source":"munis","source_id":"004417/TCH-SCI/0994","employee_id":"004417","title":"Teacher Science","department":"1100","location":"CEDAR VALLEY HS","fte":"1.000","start_date":"2014-08-18","status":"active"}' ]
	[[ "$output" == *"records in: munis_employees 1; records out: people 1, positions 1; errors: 0"* ]]
	[[ "$output" != *warning* ]]
	[ "$(jq -r 'select(.type == "ACTIVATE_VERSION") | "\(.stream) \(.version)"' "$T/out" | tr '\n' ' ')" = \
		"people 1764374400000 positions 1764374400000 " ]
}

@test "Munis: default status codes: A and L active, T and R inactive with a status_reason" {
	munis <<'EOF'
{"EmployeeNumber":"1001","LastName":"Okafor","FirstName":"Grace","Status":"A","JobClass":"TCH"}
{"EmployeeNumber":"1002","LastName":"Lindqvist","FirstName":"Erik","Status":"L","JobClass":"TCH"}
{"EmployeeNumber":"1003","LastName":"Moreau","FirstName":"Celine","Status":"T","TermDate":"2026-06-30","JobClass":"TCH"}
{"EmployeeNumber":"1004","LastName":"Haddad","FirstName":"Samir","Status":"R","JobClass":"CUST"}
EOF
	norm
	[ "$status" -eq 0 ]
	[ "$(record people 1001 | jq -c '[.status, .status_reason]')" = '["active",null]' ]
	[ "$(record people 1002 | jq -c '[.status, .status_reason]')" = '["active",null]' ]
	[ "$(record people 1003 | jq -c '[.status, .status_reason]')" = '["inactive","T in Munis since 2026-06-30"]' ]
	[ "$(record people 1004 | jq -c '[.status, .status_reason]')" = '["inactive","R in Munis"]' ]
	# positions carry the same status, and the TermDate as end_date
	[ "$(record positions 1001/TCH/ | jq -r .status)" = active ]
	[ "$(record positions 1002/TCH/ | jq -r .status)" = active ]
	[ "$(record positions 1003/TCH/ | jq -c '[.status, .end_date]')" = '["inactive","2026-06-30"]' ]
	[ "$(record positions 1004/CUST/ | jq -r .status)" = inactive ]
	[[ "$output" != *"left out"* ]]
}

@test "Munis: an unknown code (case counts) or none leaves status out, warns once, and is counted per row" {
	munis <<'EOF'
{"EmployeeNumber":"2001","LastName":"Nakamura","FirstName":"Yui","Status":"S"}
{"EmployeeNumber":"2002","LastName":"Brennan","FirstName":"Liam","Status":"a"}
{"EmployeeNumber":"2003","LastName":"Castillo","FirstName":"Rosa","Status":"A"}
{"EmployeeNumber":"2004","LastName":"Adeyemi","FirstName":"Tunde"}
EOF
	norm
	[ "$status" -eq 0 ]
	[ "$(record people 2001)" = '{"source":"munis","source_id":"2001","role":"staff","given_name":"Yui","family_name":"Nakamura","employee_id":"2001"}' ]
	[ "$(record people 2002 | jq -r '.status // "(absent)"')" = "(absent)" ]
	[ "$(record positions 2001// | jq -r '.status // "(absent)"')" = "(absent)" ]
	[ "$(record positions 2002// | jq -r '.status // "(absent)"')" = "(absent)" ]
	[ "$(record people 2003 | jq -r .status)" = active ]
	[ "$(record people 2004 | jq -r '.status // "(absent)"')" = "(absent)" ]
	[ "$(grep -c 'status code table.*the first' "$T/err")" -eq 1 ]
	[[ "$output" == *"in:2: munis_employees: rows whose Status code is not in the status code table (status left out; --status-codes or the job's status_codes sets the codes)"* ]]
	[[ "$output" == *"in:5: munis_employees: rows without a Status (status left out)"* ]]
	[[ "$output" == *"records out: people 4, positions 4; left out: 2 rows whose Status code is not in the status code table (status left out; --status-codes or the job's status_codes sets the codes), 1 rows without a Status"* ]]
	# the streams are still complete: an unknown code is a gap, not an error
	[ "$(jq -r 'select(.type == "ACTIVATE_VERSION") | .stream' "$T/out" | tr '\n' ' ')" = "people positions " ]
}

@test "Munis: PreferredName when given, else FirstName; an empty PreferredName does not count" {
	munis <<'EOF'
{"EmployeeNumber":"3001","LastName":"Abernathy","FirstName":"Katherine","PreferredName":"Kate","Status":"A"}
{"EmployeeNumber":"3002","LastName":"Osei","FirstName":"Kwame","Status":"A"}
{"EmployeeNumber":"3003","LastName":"Varga","FirstName":"Zsofia","PreferredName":"","Status":"A"}
EOF
	norm
	[ "$status" -eq 0 ]
	[ "$(record people 3001 | jq -r .given_name)" = Kate ]
	[ "$(record people 3002 | jq -r .given_name)" = Kwame ]
	[ "$(record people 3003 | jq -r .given_name)" = Zsofia ]
}

@test "Munis: PrimaryJob true or absent makes a person, false only a position; every row is a position" {
	munis <<'EOF'
{"EmployeeNumber":"004520","LastName":"Delacroix","FirstName":"Amelie","Location":"0994","LocationDesc":"CEDAR VALLEY HS","JobClass":"TCH-MATH","JobClassDesc":"Teacher Math","Status":"A","FTE":0.8,"PrimaryJob":true}
{"EmployeeNumber":"004520","LastName":"Delacroix","FirstName":"Amelie","Location":"0120","LocationDesc":"PINE HOLLOW MS","JobClass":"COACH","JobClassDesc":"Coach Track","Status":"A","FTE":0.2,"PrimaryJob":false}
{"EmployeeNumber":"004521","LastName":"Fitzgerald","FirstName":"Owen","Location":"0120","JobClass":"CUST","Status":"A","FTE":1}
EOF
	norm
	[ "$status" -eq 0 ]
	[ "$(count people)" -eq 2 ]
	[ "$(record people 004520 | jq -c '[.job_title, .org_ids]')" = '["Teacher Math",["0994"]]' ]
	[ "$(record people 004521 | jq -c '[.job_title, .org_ids]')" = '[null,["0120"]]' ]
	[ "$(count positions)" -eq 3 ]
	[ "$(record positions 004520/TCH-MATH/0994 | jq -c '[.title, .location, .fte]')" = '["Teacher Math","CEDAR VALLEY HS","0.8"]' ]
	[ "$(record positions 004520/COACH/0120 | jq -c '[.title, .location, .fte]')" = '["Coach Track","PINE HOLLOW MS","0.2"]' ]
	# without the descriptions, the codes are title and location
	[ "$(record positions 004521/CUST/0120)" = '{"source":"munis","source_id":"004521/CUST/0120","employee_id":"004521","title":"CUST","location":"0120","fte":"1","status":"active"}' ]
	[[ "$output" == *"records in: munis_employees 3; records out: people 2, positions 3; errors: 0"* ]]
}

@test "Munis: one person per employee: two rows with PrimaryJob blank are one person and two positions" {
	# extract-sftp leaves a blank PrimaryJob cell out of the record
	munis <<'EOF'
{"EmployeeNumber":"001007","LastName":"Delgado","FirstName":"Maria","Location":"0110","LocationDesc":"ALDER CREEK ES","JobClass":"TCH-K","JobClassDesc":"Teacher Kindergarten","Status":"A","FTE":0.600}
{"EmployeeNumber":"001007","LastName":"Delgado","FirstName":"Maria","Location":"0120","LocationDesc":"PINE HOLLOW MS","JobClass":"TUTOR","JobClassDesc":"Tutor","Status":"A","FTE":0.400}
EOF
	norm
	[ "$status" -eq 0 ]
	[ "$(count people)" -eq 1 ]
	# the first row makes the person
	[ "$(record people 001007 | jq -c '[.job_title, .org_ids]')" = '["Teacher Kindergarten",["0110"]]' ]
	[ "$(count positions)" -eq 2 ]
	[ "$(record positions 001007/TCH-K/0110 | jq -r .fte)" = 0.600 ]
	[ "$(record positions 001007/TUTOR/0120 | jq -r .fte)" = 0.400 ]
	[[ "$output" == *"records in: munis_employees 2; records out: people 1, positions 2; errors: 0"* ]]
}

@test "Munis: the first primary row makes the person, a later one of the same employee does not; all false makes none" {
	munis <<'EOF'
{"EmployeeNumber":"1042","LastName":"Osei","FirstName":"Samuel","Location":"0120","JobClass":"COACH","JobClassDesc":"Coach Soccer","Status":"A","PrimaryJob":false}
{"EmployeeNumber":"1042","LastName":"Osei","FirstName":"Samuel","Location":"0120","JobClass":"TCH-SCI","JobClassDesc":"Teacher Science","Status":"A","PrimaryJob":true}
{"EmployeeNumber":"1042","LastName":"Osei","FirstName":"Samuel","Location":"0994","JobClass":"TCH-SCI","JobClassDesc":"Teacher Science (summer)","Status":"A","PrimaryJob":true}
{"EmployeeNumber":"1099","LastName":"Brandt","FirstName":"Ingrid","Location":"0994","JobClass":"SUB","Status":"A","PrimaryJob":false}
{"EmployeeNumber":"1099","LastName":"Brandt","FirstName":"Ingrid","Location":"0120","JobClass":"SUB","Status":"A","PrimaryJob":false}
EOF
	norm
	[ "$status" -eq 0 ]
	[ "$(count people)" -eq 1 ]
	[ "$(record people 1042 | jq -c '[.job_title, .org_ids]')" = '["Teacher Science",["0120"]]' ]
	[ -z "$(record people 1099)" ]
	[ "$(count positions)" -eq 5 ]
}

@test "Munis and Frontline: a Frontline person of an employee id does not stop the Munis person" {
	{
		raw frontline_absences <<'EOF'
{"ConfirmationNumber":"7","EmployeeExternalId":"1042","EmployeeName":"Osei, Samuel","AbsenceDate":"2026-11-23","Days":1}
EOF
		raw munis_employees <<'EOF'
{"EmployeeNumber":"1042","LastName":"Osei","FirstName":"Samuel","Status":"A","JobClass":"TCH"}
{"EmployeeNumber":"1042","LastName":"Osei","FirstName":"Samuel","Status":"A","JobClass":"COACH"}
EOF
	} >"$T/in"
	use
	norm
	[ "$status" -eq 0 ]
	[ "$(jq -r 'select(.type == "RECORD" and .stream == "people") | .record.source' "$T/out" | tr '\n' ' ')" = "frontline munis " ]
	[ "$(count positions)" -eq 2 ]
}

@test "Munis: positions' source_id has an absent JobClass or Location as an empty part" {
	munis <<'EOF'
{"EmployeeNumber":"5001","LastName":"Iwu","FirstName":"Chidi","Location":"0994","Status":"A"}
{"EmployeeNumber":"5002","LastName":"Serrano","FirstName":"Lucia","JobClass":"AIDE","Status":"A"}
EOF
	norm
	[ "$status" -eq 0 ]
	[ "$(record positions 5001//0994 | jq -r .location)" = 0994 ]
	[ "$(record positions 5002/AIDE/ | jq -r .title)" = AIDE ]
	[ "$(record people 5002 | jq -r '.org_ids // "(absent)"')" = "(absent)" ]
}

@test "Munis: a record without EmployeeNumber is not mapped: named, exit 3, its streams not complete" {
	munis <<'EOF'
{"LastName":"Nobody","FirstName":"Jo","Status":"A"}
{"EmployeeNumber":"6001","LastName":"Kowalski","FirstName":"Anna","Status":"A"}
EOF
	norm
	[ "$status" -eq 3 ]
	[[ "$output" == *"in:2: munis_employees record not mapped: it has no \"EmployeeNumber\"; people and positions will not be marked complete"* ]]
	[ "$(count people)" -eq 1 ]
	no_line -q ACTIVATE_VERSION "$T/out"
}

@test "--status-codes replaces the default table" {
	munis <<'EOF'
{"EmployeeNumber":"7001","LastName":"Ng","FirstName":"Mei","Status":"A"}
{"EmployeeNumber":"7002","LastName":"Duarte","FirstName":"Paulo","Status":"L","TermDate":"2026-09-01"}
{"EmployeeNumber":"7003","LastName":"Eriksen","FirstName":"Ingrid","Status":"SUB"}
{"EmployeeNumber":"7004","LastName":"Quinn","FirstName":"Declan","Status":"T"}
EOF
	norm --status-codes ' A = active ;L=inactive;; SUB=active; '
	[ "$status" -eq 0 ]
	[ "$(record people 7001 | jq -r .status)" = active ]
	[ "$(record people 7002 | jq -c '[.status, .status_reason]')" = '["inactive","L in Munis since 2026-09-01"]' ]
	[ "$(record people 7003 | jq -r .status)" = active ]
	# T is no longer in the table: unknown
	[ "$(record people 7004 | jq -r '.status // "(absent)"')" = "(absent)" ]
	[[ "$output" == *"left out: 1 rows whose Status code is not in the status code table"* ]]
}

@test "--status-codes that is not valid is exit 2 before reading, naming the pair" {
	munis <<'EOF'
{"EmployeeNumber":"8001","LastName":"Ortiz","FirstName":"Mateo","Status":"A"}
EOF
	norm --status-codes 'A=active; T inactive'
	[ "$status" -eq 2 ]
	[[ "$output" == *'--status-codes: "T inactive" has no =active or =inactive'* ]]
	[ ! -s "$T/out" ]
	[[ "$output" != *"records in"* ]]
	norm --status-codes 'A=active; R=retired'
	[ "$status" -eq 2 ]
	[[ "$output" == *'--status-codes: "R=retired": "retired" is neither active nor inactive'* ]]
	norm --status-codes 'A=Active'
	[ "$status" -eq 2 ]
	[[ "$output" == *'"A=Active": "Active" is neither active nor inactive'* ]]
	norm --status-codes '=active'
	[ "$status" -eq 2 ]
	[[ "$output" == *'"=active" names no code'* ]]
	norm --status-codes 'A=active; A=inactive'
	[ "$status" -eq 2 ]
	[[ "$output" == *'"A=inactive": code "A" is given twice'* ]]
	norm --status-codes ' ; '
	[ "$status" -eq 2 ]
	[[ "$output" == *'--status-codes: no code given'* ]]
	[ ! -s "$T/out" ]
}

@test "--help documents --status-codes and lists the HR streams" {
	run "$N" --help
	[ "$status" -eq 0 ]
	[[ "$output" == *"--status-codes CODES"* ]]
	[[ "$output" == *"A=active; L=active; T=inactive; R=inactive"* ]]
	[[ "$output" == *"munis_employees"* ]]
	[[ "$output" == *"frontline_absences"* ]]
}

# ---- Frontline ----

@test "Frontline: a single day with times is the exact absence, and its employee the exact person" {
	frontline <<'EOF'
{"ConfirmationNumber":"482913077","EmployeeExternalId":"004417","EmployeeName":"Whitfield, Marcus","Title":"Teacher Science","Location":"Cedar Valley High School","AbsenceDate":"2026-11-24","StartTime":"07:45","EndTime":"15:10","Duration":"Full Day","Days":1,"AbsenceReason":"Personal Illness","ApprovalStatus":"Approved","SubstituteExternalId":"S20981","SubstituteName":"Reyes, Ana","PayCode":"SUBCERT","PayRate":125.00}
EOF
	norm
	[ "$status" -eq 0 ]
	[ "$(record absences 482913077/2026-11-24)" = '{"source":"frontline","source_id":"482913077/2026-11-24","employee_id":"004417","start":"2026-11-24T07:45","end":"2026-11-24T15:10","reason":"Personal Illness","substitute_employee_id":"S20981","location":"Cedar Valley High School"}' ]
	[ "$(record people 004417)" = '{"source":"frontline","source_id":"004417","role":"staff","given_name":"Marcus","family_name":"Whitfield","employee_id":"004417","job_title":"Teacher Science"}' ]
	[[ "$output" == *"records in: frontline_absences 1; records out: people 1, absences 1; errors: 0"* ]]
	[ "$(jq -r 'select(.type == "ACTIVATE_VERSION") | .stream' "$T/out" | sort | tr '\n' ' ')" = "absences people " ]
}

@test "Frontline: a half day AM without times is the date alone, the half day said in the reason" {
	frontline <<'EOF'
{"ConfirmationNumber":"482913101","EmployeeExternalId":"004430","EmployeeName":"Park, Jiwoo","AbsenceDate":"2026-11-25","Duration":"Half Day AM","Days":0.5,"AbsenceReason":"Medical Appointment"}
{"EmployeeExternalId":"004431","EmployeeName":"Amani, Zara","AbsenceDate":"2026-11-25","Days":0.5,"AbsenceReason":"Personal Business"}
{"ConfirmationNumber":"482913102","EmployeeExternalId":"004432","AbsenceDate":"2026-11-25","Duration":"Half Day PM","Days":0.5}
EOF
	norm
	[ "$status" -eq 0 ]
	[ "$(record absences 482913101/2026-11-25)" = '{"source":"frontline","source_id":"482913101/2026-11-25","employee_id":"004430","start":"2026-11-25","end":"2026-11-25","reason":"Medical Appointment (Half Day AM)"}' ]
	# Aesop: Days 0.5 without a Duration
	[ "$(record absences 004431/2026-11-25 | jq -r .reason)" = "Personal Business (Half Day)" ]
	# no reason: the duration alone
	[ "$(record absences 482913102/2026-11-25 | jq -r .reason)" = "Half Day PM" ]
	[ "$(count absences)" -eq 3 ]
}

@test "Frontline: Days 3.0 from a Thursday is Thursday, Friday and Monday, each its own source_id" {
	frontline <<'EOF'
{"EmployeeExternalId":"004450","EmployeeName":"Lindgren, Astrid","AbsenceDate":"2026-11-26","Duration":"Full Day","Days":3.0,"AbsenceReason":"Personal Illness","SubstituteExternalId":"S30112","EntitlementCode":"SICK"}
EOF
	norm
	[ "$status" -eq 0 ]
	[ "$(jq -r 'select(.stream == "absences" and .type == "RECORD") | .record | "\(.source_id) \(.start) \(.end) \(.reason) \(.substitute_employee_id)"' "$T/out")" = \
"004450/2026-11-26 2026-11-26 2026-11-26 Personal Illness S30112
004450/2026-11-27 2026-11-27 2026-11-27 Personal Illness S30112
004450/2026-11-30 2026-11-30 2026-11-30 Personal Illness S30112" ]
	[ "$(count people)" -eq 1 ]
	[[ "$output" == *"records in: frontline_absences 1; records out: people 1, absences 3; errors: 0"* ]]
}

@test "Frontline: Days 2.5 from a Friday crosses the weekend and its last day is the half" {
	frontline <<'EOF'
{"EmployeeExternalId":"004451","AbsenceDate":"2026-12-31","Days":2.5,"AbsenceReason":"Family Leave"}
EOF
	norm
	[ "$status" -eq 0 ]
	[ "$(jq -r 'select(.stream == "absences" and .type == "RECORD") | .record | "\(.source_id) \(.reason)"' "$T/out")" = \
"004451/2026-12-31 Family Leave
004451/2027-01-01 Family Leave
004451/2027-01-04 Family Leave (Half Day)" ]
}

@test "Frontline: a vacancy has no employee_id and makes no person" {
	frontline <<'EOF'
{"ConfirmationNumber":"482913200","EmployeeName":"","Title":"Teacher Math","Location":"Pine Hollow Middle School","AbsenceDate":"2026-11-24","AbsenceReason":"Vacancy Position","SubstituteExternalId":"S20990"}
{"AbsenceDate":"2026-11-24","Days":1.0,"AbsenceReason":"Vacancy Position"}
EOF
	norm
	[ "$status" -eq 0 ]
	[ "$(record absences 482913200/2026-11-24)" = '{"source":"frontline","source_id":"482913200/2026-11-24","start":"2026-11-24","end":"2026-11-24","reason":"Vacancy Position","substitute_employee_id":"S20990","location":"Pine Hollow Middle School"}' ]
	[ "$(record absences vacancy/2026-11-24 | jq -r '.employee_id // "(absent)"')" = "(absent)" ]
	[ "$(count people)" -eq 0 ]
	[[ "$output" == *"records out: people 0, absences 2; errors: 0"* ]]
}

@test "Frontline: one person per employee however many absences; \"Last, First\" split; no comma is the family name" {
	frontline <<'EOF'
{"ConfirmationNumber":"1","EmployeeExternalId":"004460","EmployeeName":"O'Connor-Baptiste,  Mary Kate ","Title":"Counselor","AbsenceDate":"2026-11-23"}
{"ConfirmationNumber":"2","EmployeeExternalId":"004460","EmployeeName":"O'Connor-Baptiste, Mary Kate","Title":"Counselor","AbsenceDate":"2026-11-24"}
{"ConfirmationNumber":"3","EmployeeExternalId":"004461","EmployeeName":"Prince","AbsenceDate":"2026-11-24"}
{"ConfirmationNumber":"4","EmployeeExternalId":"004460","EmployeeName":"O'Connor-Baptiste, Mary Kate","AbsenceDate":"2026-11-25","Days":2}
EOF
	norm
	[ "$status" -eq 0 ]
	[ "$(count absences)" -eq 5 ]
	[ "$(count people)" -eq 2 ]
	[ "$(record people 004460)" = "{\"source\":\"frontline\",\"source_id\":\"004460\",\"role\":\"staff\",\"given_name\":\"Mary Kate\",\"family_name\":\"O'Connor-Baptiste\",\"employee_id\":\"004460\",\"job_title\":\"Counselor\"}" ]
	[ "$(record people 004461)" = '{"source":"frontline","source_id":"004461","role":"staff","family_name":"Prince","employee_id":"004461"}' ]
	# Frontline does not say who is active
	jq -e -s '[.[] | select(.stream == "people" and .type == "RECORD") | .record | has("status")] | any | not' "$T/out"
	[[ "$output" == *"records in: frontline_absences 4; records out: people 2, absences 5; errors: 0"* ]]
}

@test "Frontline: a Deleted record is left out with a warning, counted, and makes no person" {
	frontline <<'EOF'
{"ConfirmationNumber":"482913300","EmployeeExternalId":"004470","EmployeeName":"Baker, Tom","AbsenceDate":"2026-11-24","Deleted":true}
{"ConfirmationNumber":"482913301","EmployeeExternalId":"004471","EmployeeName":"Cruz, Elena","AbsenceDate":"2026-11-24","Deleted":false}
EOF
	norm
	[ "$status" -eq 0 ]
	[ -z "$(record absences 482913300/2026-11-24)" ]
	[ -n "$(record absences 482913301/2026-11-24)" ]
	[ -z "$(record people 004470)" ]
	[[ "$output" == *"in:2: frontline_absences: cancelled absences (Deleted true; the ingest removes cancellations before normalize)"* ]]
	[[ "$output" == *"records in: frontline_absences 2; records out: people 1, absences 1; left out: 1 cancelled absences"* ]]
}

@test "Frontline: an AbsenceDate that is not a date is not mapped: named, exit 3" {
	frontline <<'EOF'
{"EmployeeExternalId":"004480","AbsenceDate":"11/24/2026"}
{"EmployeeExternalId":"004481","AbsenceDate":"2026-02-29"}
{"EmployeeExternalId":"004482","StartTime":"07:45"}
EOF
	norm
	[ "$status" -eq 3 ]
	[[ "$output" == *'in:2: frontline_absences record not mapped: its "AbsenceDate" is not a date (YYYY-MM-DD)'* ]]
	[[ "$output" == *'in:3: frontline_absences record not mapped: its "AbsenceDate" is not a date'* ]]
	[[ "$output" == *'in:4: frontline_absences record not mapped: it has no "AbsenceDate"'* ]]
	[ "$(count people)" -eq 0 ]
	[[ "$output" == *"3 unmapped records"* ]]
}

@test "Frontline: a time that is not HH:MM leaves the date alone, counted" {
	frontline <<'EOF'
{"EmployeeExternalId":"004490","AbsenceDate":"2026-11-24","StartTime":"7:45 AM","EndTime":"11:30"}
EOF
	norm
	[ "$status" -eq 0 ]
	[ "$(record absences 004490/2026-11-24 | jq -c '[.start, .end]')" = '["2026-11-24","2026-11-24T11:30"]' ]
	[[ "$output" == *"left out: 1 absence times that are not HH:MM"* ]]
}

@test "Munis and Frontline together: the summary counts each raw and canonical stream" {
	{
		raw munis_employees <<'EOF'
{"EmployeeNumber":"004417","LastName":"Whitfield","FirstName":"Marcus","Status":"A","JobClass":"TCH","PrimaryJob":true}
{"EmployeeNumber":"004417","LastName":"Whitfield","FirstName":"Marcus","Status":"A","JobClass":"COACH","PrimaryJob":false}
EOF
		raw frontline_absences <<'EOF'
{"ConfirmationNumber":"9","EmployeeExternalId":"004417","EmployeeName":"Whitfield, Marcus","AbsenceDate":"2026-11-26","Days":3}
{"AbsenceDate":"2026-11-26","Deleted":true}
EOF
	} >"$T/in"
	use
	norm
	[ "$status" -eq 0 ]
	[[ "$output" == *"records in: munis_employees 2, frontline_absences 2; records out: people 2, positions 2, absences 3; left out: 1 cancelled absences"* ]]
	[ "$(jq -r 'select(.type == "RECORD" and .stream == "people") | .record.source' "$T/out" | tr '\n' ' ')" = "munis frontline " ]
}
