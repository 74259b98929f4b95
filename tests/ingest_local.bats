#!/usr/bin/env bats
# extract-sftp --local: the ingest layer without a network. A file or a
# folder; the newest file by the date in its name, else by its time; every
# new file folded in order (--take all) with cancellations; the ledger and
# --reprocess (a file enters the ledger only once its fold is saved); .gz
# drops and the expansion cap; settle and marker (never older than its
# file); refused names; bundles (required files, OneRoster absent and
# delta); --take all only for increments; bad options.

bats_require_minimum_version 1.5.0
load assert

DROPS="$BATS_TEST_DIRNAME/../fixtures/drops"

setup() {
	T=$(mktemp -d)
	D="$T/drop"
	S="$T/staging"
	mkdir -p "$D"
	unset ROSTER_FAKE_CLOCK ROSTER_CREDENTIALS
}

teardown() {
	rm -rf "$T"
}

x() {
	run "$ROSTER_BIN/extract-sftp" "$@"
}

# Lines of type RECORD in $T/out.
records() { # grep -c prints 0 and exits 1 when there is none
	grep -c '"type":"RECORD"' "$T/out" || [ $? -eq 1 ]
}

# A small Munis CSV: header and one row per employee number given.
munis_csv() {
	echo "EmployeeNumber,LastName,FirstName,Status,SSN"
	for n in "$@"; do
		echo "$n,Last$n,First$n,A,900-00-$n"
	done
}

# The same as old files: older than any settle time.
aged() {
	touch -d '2 hours ago' "$@"
}

@test "a local file: its records, ACTIVATE_VERSION, exit 0; SSN never read" {
	munis_csv 0042 0043 >"$D/employees.csv"
	aged "$D/employees.csv"
	x --profile munis --local "$D/employees.csv" --stats "$T/stats"
	[ "$status" -eq 0 ]
	printf '%s\n' "$output" | grep -v '^{' >"$T/err" || [ $? -eq 1 ]
	printf '%s\n' "$output" | grep '^{' >"$T/out"
	[ "$(records)" -eq 2 ]
	grep -q '"record":{"EmployeeNumber":"0042","LastName":"Last0042"' "$T/out"
	grep -q '"type":"ACTIVATE_VERSION","stream":"munis_employees"' "$T/out"
	no_line -q '900-00' "$T/out"
	jq -e '.streams.munis_employees.status == "complete" and .streams.munis_employees.records == 2' "$T/stats"
	# the one-line summary per file
	grep -q 'employees.csv: 2 rows, 2 records, 0 dropped' "$T/err"
}

@test "--take newest: the newest date in the names wins over the files' times" {
	munis_csv 1 >"$D/munis_employees_20261127.csv"
	munis_csv 2 >"$D/munis_employees_20261128.csv"
	munis_csv 3 >"$D/other.txt"
	touch -d '1 hour ago' "$D/munis_employees_20261127.csv" "$D/other.txt"
	touch -d '3 hours ago' "$D/munis_employees_20261128.csv"
	"$ROSTER_BIN/extract-sftp" --profile munis --local "$D" --pattern 'munis_employees_*.csv' \
		--staging "$S" >"$T/out"
	[ "$(records)" -eq 1 ]
	grep -q '"EmployeeNumber":"2"' "$T/out"
	[ -f "$S/files/munis_employees_20261128.csv" ]
	[ ! -e "$S/files/munis_employees_20261127.csv" ]
}

@test "--take newest: without dates in the names, the newest time wins" {
	munis_csv 1 >"$D/a.csv"
	munis_csv 2 >"$D/b.csv"
	touch -d '1 hour ago' "$D/a.csv"
	touch -d '3 hours ago' "$D/b.csv"
	"$ROSTER_BIN/extract-sftp" --profile munis --local "$D" --pattern '*.csv' --settle 0 >"$T/out"
	[ "$(records)" -eq 1 ]
	grep -q '"EmployeeNumber":"1"' "$T/out"
}

@test "no matching file: the stream fails, exit 1, naming the pattern" {
	munis_csv 1 >"$D/a.txt"
	x --profile munis --local "$D" --pattern '*.csv'
	[ "$status" -eq 1 ]
	[[ "$output" == *"no file matching *.csv"* ]]
	[[ "$output" != *'"type":"ACTIVATE_VERSION"'* ]]
}

@test "the ledger: a second run reads the staged copy, says so, and --reprocess fetches again" {
	munis_csv 7 8 >"$D/munis_employees_20261128.csv"
	aged "$D"/*
	"$ROSTER_BIN/extract-sftp" --profile munis --local "$D" --staging "$S" >/dev/null 2>&1
	jq -e 'select(.name == "munis_employees_20261128.csv") | .records == 2 and
		(.sha256 | length) == 64 and .size > 0' "$S/ledger.jsonl"
	before=$(stat -c '%i %Y' "$S/files/munis_employees_20261128.csv")
	sleep 1.1
	"$ROSTER_BIN/extract-sftp" --profile munis --local "$D" --staging "$S" --stats "$T/stats" \
		>"$T/out" 2>"$T/err"
	[ "$(records)" -eq 2 ]
	[ "$(stat -c '%i %Y' "$S/files/munis_employees_20261128.csv")" = "$before" ]
	jq -e '.streams.munis_employees.note | test("no new file: munis_employees_20261128.csv was ingested on [0-9-]{10}; its records are sent again from the staged copy")' "$T/stats"
	"$ROSTER_BIN/extract-sftp" --profile munis --local "$D" --staging "$S" --reprocess \
		>"$T/out" 2>"$T/err"
	[ "$(records)" -eq 2 ]
	[ "$(stat -c '%i %Y' "$S/files/munis_employees_20261128.csv")" != "$before" ]
	no_line -q 'no new file' "$T/err"
}

@test "staging: temporary files a killed run left are removed and said; a newer one stays" {
	munis_csv 7 >"$D/munis_employees_20261128.csv"
	aged "$D"/*
	mkdir -p "$S/files"
	printf 'half' >"$S/files/.munis_employees_20261127.csv.tmp.k1LLed"
	printf 'half' >"$S/.ledger.jsonl.tmp.k1LLed"
	touch -d '1 hour ago' "$S/files/.munis_employees_20261127.csv.tmp.k1LLed" \
		"$S/.ledger.jsonl.tmp.k1LLed"
	printf 'mine' >"$S/files/.x.csv.tmp.N0wN0w"
	touch -d "+1 minute" "$S/files/.x.csv.tmp.N0wN0w" # still being written, as far as the clock says
	x --profile munis --local "$D" --staging "$S"
	[ "$status" -eq 0 ]
	[[ "$output" == *"extract-sftp: $S: removed 1 temporary file an earlier, interrupted run left"* ]]
	[[ "$output" == *"extract-sftp: $S/files: removed 1 temporary file an earlier, interrupted run left"* ]]
	[ ! -e "$S/files/.munis_employees_20261127.csv.tmp.k1LLed" ]
	[ ! -e "$S/.ledger.jsonl.tmp.k1LLed" ]
	[ "$(cat "$S/files/.x.csv.tmp.N0wN0w")" = mine ]
	[ "$(jq -r .name "$S/ledger.jsonl")" = munis_employees_20261128.csv ]
}

@test "the same bytes under a new time are treated as already ingested" {
	munis_csv 7 >"$D/e.csv"
	aged "$D/e.csv"
	"$ROSTER_BIN/extract-sftp" --profile munis --local "$D" --staging "$S" >/dev/null 2>&1
	touch -d '1 hour ago' "$D/e.csv"
	"$ROSTER_BIN/extract-sftp" --profile munis --local "$D" --staging "$S" --stats "$T/stats" \
		>"$T/out" 2>/dev/null
	[ "$(records)" -eq 1 ]
	jq -e '.streams.munis_employees.note | test("no new file: e.csv")' "$T/stats"
	# the ledger now has the new time: the next run needs no fetch
	[ "$(jq -r .mtime "$S/ledger.jsonl")" = "$(stat -c %Y "$D/e.csv")" ]
}

@test "--take all: Aesop days folded in order; a cancellation removes an earlier day" {
	cp "$DROPS/frontline/11-23-2026.txt" "$D/"
	aged "$D"/*
	"$ROSTER_BIN/extract-sftp" --profile aesop --local "$D" --take all --staging "$S" >"$T/out"
	# 5 rows, one of them 3 days long: one record a school day
	[ "$(records)" -eq 7 ]
	grep -q '"EmployeeExternalId":"1056"' "$T/out"
	[ "$(wc -l <"$S/frontline_absences.fold")" -eq 7 ]
	# the next day: Moreau's 11/23 absence is cancelled, two new ones
	cp "$DROPS/frontline/11-24-2026.txt" "$D/"
	aged "$D"/*
	"$ROSTER_BIN/extract-sftp" --profile aesop --local "$D" --take all --staging "$S" \
		>"$T/out" 2>"$T/err"
	[ "$(records)" -eq 8 ]
	no_line -q '"EmployeeExternalId":"1056"' "$T/out"
	grep -q '"EmployeeExternalId":"1084"' "$T/out"
	grep -q '"EmployeeExternalId":"1042"' "$T/out"
	grep -q '"type":"ACTIVATE_VERSION","stream":"frontline_absences"' "$T/out"
	# only the new file was read
	grep -q '11-24-2026.txt: 3 rows' "$T/err"
	no_line -q '11-23-2026.txt: ' "$T/err"
	[ "$(wc -l <"$S/ledger.jsonl")" -eq 2 ]
	# a run with nothing new sends the whole fold again
	"$ROSTER_BIN/extract-sftp" --profile aesop --local "$D" --take all --staging "$S" \
		>"$T/out" 2>"$T/err"
	[ "$(records)" -eq 8 ]
	no_line -q 'rows' "$T/err"
}

@test "--take all: files are applied oldest first, by the dates in their names" {
	# the later day arrives first (its mtime is older)
	cp "$DROPS/frontline/11-24-2026.txt" "$D/"
	cp "$DROPS/frontline/11-23-2026.txt" "$D/"
	touch -d '1 hour ago' "$D/11-23-2026.txt"
	touch -d '3 hours ago' "$D/11-24-2026.txt"
	"$ROSTER_BIN/extract-sftp" --profile aesop --local "$D" --take all --staging "$S" >"$T/out"
	# the cancellation in 11-24 came after 11-23's posting: Moreau is gone
	[ "$(records)" -eq 8 ]
	no_line -q '"EmployeeExternalId":"1056"' "$T/out"
	[ "$(jq -r .name "$S/ledger.jsonl" | tr '\n' ' ')" = "11-23-2026.txt 11-24-2026.txt " ]
}

@test "--take newest with cancellations: a cancelled row is never emitted" {
	cp "$DROPS/frontline/absences_report.csv" "$D/"
	aged "$D"/*
	"$ROSTER_BIN/extract-sftp" --profile frontline --local "$D/absences_report.csv" >"$T/out"
	no_line -q '"Deleted":true' "$T/out"
	no_line -q '"ConfirmationNumber":"482913160"' "$T/out"
	grep -q '"ConfirmationNumber":"482913077"' "$T/out"
}

@test "--take all is refused for bundles and without --staging" {
	x --profile clever --local "$D" --take all --staging "$S"
	[ "$status" -eq 2 ]
	[[ "$output" == *"--take all does not apply to the clever profile"* ]]
	x --profile aesop --local "$D" --take all
	[ "$status" -eq 2 ]
	[[ "$output" == *"--take all needs --staging"* ]]
}

@test "a .gz drop is expanded while it is fetched and staged without .gz" {
	munis_csv 11 12 13 | gzip -c >"$D/munis_employees_20261128.csv.gz"
	aged "$D"/*
	"$ROSTER_BIN/extract-sftp" --profile munis --local "$D" --staging "$S" >"$T/out"
	[ "$(records)" -eq 3 ]
	[ -f "$S/files/munis_employees_20261128.csv" ]
	[ "$(head -1 "$S/files/munis_employees_20261128.csv")" = "EmployeeNumber,LastName,FirstName,Status,SSN" ]
	# the ledger's SHA-256 is of the bytes received (compressed)
	[ "$(jq -r .sha256 "$S/ledger.jsonl")" = "$(sha256sum <"$D/munis_employees_20261128.csv.gz" | cut -d' ' -f1)" ]
	[ "$(jq -r .name "$S/ledger.jsonl")" = "munis_employees_20261128.csv.gz" ]
}

@test "a gzip bomb is refused at the cap; no staged file, the previous copy kept" {
	munis_csv 1 >"$D/e.csv"
	aged "$D/e.csv"
	"$ROSTER_BIN/extract-sftp" --profile munis --local "$D" --pattern 'e.csv*' --staging "$S" \
		>/dev/null 2>&1
	cp "$S/files/e.csv" "$T/before"
	rm "$D/e.csv"
	# 50 MB of a repeated row in about 50 KB
	/usr/bin/python3 -c '
import gzip, sys
row = b"1,Last,First,A,x\n"
with gzip.open(sys.argv[1], "wb") as f:
    f.write(b"EmployeeNumber,LastName,FirstName,Status,SSN\n")
    for _ in range(50): f.write(row * (1 << 16))' "$D/e.csv.gz"
	aged "$D/e.csv.gz"
	[ "$(stat -c %s "$D/e.csv.gz")" -lt 200000 ]
	x --profile munis --local "$D" --pattern 'e.csv*' --staging "$S" --max-expanded 1M
	[ "$status" -eq 1 ]
	[[ "$output" == *"e.csv.gz: expands past 1048576 bytes (a decompression bomb, or raise max_expanded)"* ]]
	cmp "$S/files/e.csv" "$T/before"
	[ "$(ls -A "$S/files")" = "e.csv" ]
	[ "$(jq -r .name "$S/ledger.jsonl")" = "e.csv" ]
}

@test "a truncated .gz fails its stream naming the file" {
	munis_csv 1 2 3 | gzip -c >"$T/full.gz"
	head -c 40 "$T/full.gz" >"$D/e.csv.gz"
	aged "$D"/*
	x --profile munis --local "$D" --staging "$S"
	[ "$status" -eq 1 ]
	[[ "$output" == *"e.csv.gz: the gzip data ends early"* ]]
	[ -z "$(ls -A "$S/files")" ]
}

@test "--max-expanded takes K/M/G suffixes and refuses nonsense" {
	x --profile munis --local "$D" --max-expanded 12Q
	[ "$status" -eq 2 ]
	[[ "$output" == *"--max-expanded"* ]]
}

@test "settle: a file changed just now is looked at again and, unchanged, taken" {
	munis_csv 1 >"$D/e.csv"
	# a time a little ahead: young however slow the machine is
	touch -d '+30 seconds' "$D/e.csv"
	start=$(date +%s.%N)
	"$ROSTER_BIN/extract-sftp" --profile munis --local "$D" --settle 1 >"$T/out" 2>"$T/err"
	end=$(date +%s.%N)
	[ "$(records)" -eq 1 ]
	grep -q 'looking again in 1 seconds' "$T/err"
	/usr/bin/python3 -c "import sys; sys.exit(0 if $end - $start >= 1 else 1)"
}

@test "settle on the fake clock: the wait is virtual" {
	munis_csv 1 >"$D/e.csv"
	# the fake clock is behind the file's time: the file looks new, the wait is asked for
	ROSTER_FAKE_CLOCK=$(( $(date +%s) - 10 )) "$ROSTER_BIN/extract-sftp" --profile munis \
		--local "$D" >"$T/out" 2>"$T/err"
	[ "$(records)" -eq 1 ]
	grep -q 'looking again in 60 seconds' "$T/err"
}

@test "marker: a file without its marker is not taken; with it, it is" {
	munis_csv 1 >"$D/e.csv"
	aged "$D/e.csv"
	x --profile munis --local "$D" --pattern '*.csv' --marker '{name}.done'
	[ "$status" -eq 1 ]
	[[ "$output" == *"e.csv: no marker e.csv.done yet (still being written); it will be taken on a later run"* ]]
	[[ "$output" != *'"type":"RECORD"'* ]]
	touch "$D/e.csv.done"
	x --profile munis --local "$D" --marker '{name}.done'
	[ "$status" -eq 0 ]
	# the marker itself is not a candidate, though "*" matches it
	[[ "$output" == *'"EmployeeNumber":"1"'* ]]
	[[ "$output" != *"e.csv.done: "* ]]
	# a fixed marker name
	x --profile munis --local "$D" --pattern '*.csv' --marker READY
	[ "$status" -eq 1 ]
	touch "$D/READY"
	x --profile munis --local "$D" --pattern '*.csv' --marker READY
	[ "$status" -eq 0 ]
}

@test "refused names: a newline or '..' in a name is reported escaped and never taken" {
	munis_csv 1 >"$D/good_20261101.csv"
	munis_csv 2 >"$D/evil
name_20261130.csv"
	munis_csv 3 >"$D/x..y_20261129.csv"
	aged "$D"/*
	run --separate-stderr "$ROSTER_BIN/extract-sftp" --profile munis --local "$D" --pattern '*.csv'
	[ "$status" -eq 0 ]
	[[ "$stderr" == *"refused the file name 'evil\\nname_20261130.csv'"* ]]
	[[ "$stderr" == *"refused the file name 'x..y_20261129.csv'"* ]]
	[[ "$output" == *'"EmployeeNumber":"1"'* ]]
	[[ "$output" != *'"EmployeeNumber":"2"'* ]]
	[[ "$output" != *'"EmployeeNumber":"3"'* ]]
}

@test "a bundle folder: one stream per file of the profile, in the profile's order" {
	cp "$DROPS"/sds/*.csv "$D/"
	aged "$D"/*
	"$ROSTER_BIN/extract-sftp" --profile sds --local "$D" --stats "$T/stats" >"$T/out"
	[ "$(grep '"type":"ACTIVATE_VERSION"' "$T/out" | jq -r .stream | tr '\n' ' ')" = \
		"sds_orgs sds_roles sds_users sds_academic_sessions sds_courses sds_classes sds_enrollments " ]
	no_line -q 'password' "$T/out"
}

@test "a bundle without a required file: its stream fails naming it; optional ones are left out" {
	cp "$DROPS"/sds/orgs.csv "$DROPS"/sds/users.csv "$D/"
	aged "$D"/*
	x --profile sds --local "$D" --stats "$T/stats"
	[ "$status" -eq 3 ]
	printf '%s\n' "$output" | grep '^{' >"$T/out"
	printf '%s\n' "$output" | grep -v '^{' >"$T/err" || [ $? -eq 1 ]
	# roles.csv is required: sds_roles fails, naming the file and the folder
	[ "$(grep '"type":"SCHEMA"' "$T/out" | jq -r .stream | tr '\n' ' ')" = "sds_orgs sds_roles sds_users " ]
	[ "$(grep '"type":"ACTIVATE_VERSION"' "$T/out" | jq -r .stream | tr '\n' ' ')" = "sds_orgs sds_users " ]
	jq -e --arg d "$D" '.streams.sds_roles.status == "failed" and
		(.streams.sds_roles.error.message | contains($d + ": roles.csv not in the drop; sds_roles is read only with it"))' "$T/stats"
	# the optional files are simply left out
	grep -q 'no file for sds_courses in the drop; the stream is left out' "$T/err"
	jq -e '.streams | has("sds_courses") | not' "$T/stats"
}

@test "clever_users is complete only with students.csv and teachers.csv; staff.csv may be missing" {
	cp "$DROPS"/clever-sftp/*.csv "$D/"
	rm "$D/teachers.csv"
	aged "$D"/*
	x --profile clever --local "$D" --stats "$T/stats"
	[ "$status" -eq 3 ]
	printf '%s\n' "$output" | grep '^{' >"$T/out"
	# no record of students.csv goes out for a stream that cannot be whole
	no_line -q '"type":"RECORD","stream":"clever_users"' "$T/out"
	no_line -q '"type":"ACTIVATE_VERSION","stream":"clever_users"' "$T/out"
	grep -q '"type":"ACTIVATE_VERSION","stream":"clever_sections"' "$T/out"
	jq -e '.streams.clever_users.status == "failed" and
		(.streams.clever_users.error.message | test("teachers.csv not in the drop"))' "$T/stats"
	# staff.csv is optional: without it the stream is complete
	cp "$DROPS"/clever-sftp/teachers.csv "$D/"
	rm -f "$D/staff.csv"
	aged "$D"/*
	x --profile clever --local "$D" --stats "$T/stats"
	[ "$status" -eq 0 ]
	[[ "$output" == *'"type":"ACTIVATE_VERSION","stream":"clever_users"'* ]]
	jq -e '.streams.clever_users.status == "complete"' "$T/stats"
}

@test "bad options: unknown profile, none, --host with --local, bad --take and --settle" {
	x --profile nope --local "$D"
	[ "$status" -eq 2 ]
	[[ "$output" == *"--profile: no profile 'nope'"* ]]
	x --local "$D"
	[ "$status" -eq 2 ]
	[[ "$output" == *"--profile NAME is required"* ]]
	x --profile munis --local "$D" --host h
	[ "$status" -eq 2 ]
	x --profile munis --local "$D" --take some
	[ "$status" -eq 2 ]
	x --profile munis --local "$D" --settle -1
	[ "$status" -eq 2 ]
	x --profile munis --local "$T/no-such"
	[ "$status" -eq 2 ]
	x --profile munis --host h --user u --key k --staging "$S"
	[ "$status" -eq 2 ]
	[[ "$output" == *"--known-hosts FILE or --fingerprint"* ]]
	x --profile munis --host h --user u --known-hosts k --password hunter2hunter2 --staging "$S"
	[ "$status" -eq 2 ]
	[[ "$output" != *"hunter2hunter2"* ]]
}

@test "--help lists every profile, every option and the exit codes" {
	x --help
	[ "$status" -eq 0 ]
	for p in munis munis-fixed frontline aesop clever oneroster sds; do
		[[ "$output" == *"  $p "* ]]
	done
	for o in --profile --host --port --user --known-hosts --fingerprint --key --passphrase \
		--password --local --folder --pattern --take --settle --marker --staging --reprocess \
		--max-expanded --encoding --delimiter --stats --state --log-format --credentials \
		--deadline --timeout; do
		[[ "$output" == *"$o"* ]]
	done
	[[ "$output" == *"Exit status:"* ]]
	[[ "$output" == *"Example:"* ]]
}

# The fixture's manifest with file.NAME set to MODE.
manifest_mode() {
	sed -i "s/\"file.$1\",\"[a-z]*\"/\"file.$1\",\"$2\"/" "$D/manifest.csv"
	grep -q "\"file.$1\",\"$2\"" "$D/manifest.csv"
}

@test "OneRoster: a file the manifest marks absent is not read, even when present" {
	cp "$DROPS"/oneroster/*.csv "$D/"
	manifest_mode courses absent
	manifest_mode users bulk
	aged "$D"/*
	"$ROSTER_BIN/extract-sftp" --profile oneroster --local "$D" >"$T/out" 2>"$T/err"
	[ "$(grep '"type":"ACTIVATE_VERSION"' "$T/out" | jq -r .stream | tr '\n' ' ')" = \
		"oneroster_orgs oneroster_academic_sessions oneroster_classes oneroster_users oneroster_enrollments " ]
	grep -q 'manifest says file.courses=absent; it is not read' "$T/err"
	no_line -q 'courses.csv: .* rows' "$T/err"
}

@test "OneRoster delta: its records pass as changes, without ACTIVATE_VERSION; exit 0" {
	cp "$DROPS"/oneroster/*.csv "$D/"
	manifest_mode users delta
	aged "$D"/*
	x --profile oneroster --local "$D" --stats "$T/stats"
	[ "$status" -eq 0 ]
	printf '%s\n' "$output" | grep '^{' >"$T/out"
	[ "$(grep -c '"type":"RECORD","stream":"oneroster_users"' "$T/out")" -eq 6 ]
	no_line -q '"type":"ACTIVATE_VERSION","stream":"oneroster_users"' "$T/out"
	grep -q '"type":"ACTIVATE_VERSION","stream":"oneroster_orgs"' "$T/out"
	grep -q '"oneroster_users":{"status":"changes","records":6}' "$T/out"
	jq -e '.streams.oneroster_users.status == "changes" and .streams.oneroster_users.error == null and
		(.streams.oneroster_users.note | contains("manifest.csv marks users as delta: its records are changes, so the stream is not marked complete (later stages keep what they have)"))' "$T/stats"
	# the same drop as bulk: a whole snapshot, activated
	manifest_mode users bulk
	x --profile oneroster --local "$D" --stats "$T/stats"
	[ "$status" -eq 0 ]
	[[ "$output" == *'"type":"ACTIVATE_VERSION","stream":"oneroster_users"'* ]]
	jq -e '.streams.oneroster_users.status == "complete"' "$T/stats"
}

@test "OneRoster: a file the manifest lists as bulk or delta but missing fails its stream" {
	cp "$DROPS"/oneroster/*.csv "$D/"
	manifest_mode users delta
	manifest_mode courses absent
	rm "$D/users.csv" "$D/courses.csv"
	aged "$D"/*
	x --profile oneroster --local "$D" --stats "$T/stats"
	[ "$status" -eq 3 ]
	jq -e '.streams.oneroster_users.status == "failed" and
		(.streams.oneroster_users.error.message | test("users.csv not in the drop"))' "$T/stats"
	# absent and missing: left out, not a failure
	jq -e '.streams | has("oneroster_courses") | not' "$T/stats"
	jq -e '.streams.oneroster_enrollments.status == "complete"' "$T/stats"
}

@test "--take all: a fold that cannot be saved leaves the ledger without the file; the next run takes it" {
	[ -f "$FAULTSHIM" ] # built by make (tests/faultshim.c)
	cp "$DROPS/frontline/11-23-2026.txt" "$D/"
	aged "$D"/*
	# the disk is full when the fold is renamed into place
	run env LD_PRELOAD="$FAULTSHIM" FAULT_PATH=.fold FAULT_OPS=rename \
		ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0" \
		"$ROSTER_BIN/extract-sftp" --profile aesop --local "$D" --take all --staging "$S" \
		--stats "$T/stats"
	[ "$status" -eq 1 ]
	[[ "$output" != *'"type":"ACTIVATE_VERSION"'* ]]
	[[ "$output" == *"frontline_absences.fold"* ]]
	[[ "$output" == *"is kept as it was; the files of this run are taken again on the next"* ]]
	jq -e '.streams.frontline_absences.status == "failed"' "$T/stats"
	[ ! -e "$S/frontline_absences.fold" ]
	no_line -q '11-23-2026.txt' "$S/ledger.jsonl"
	# the disk has room again: the file is read, folded, and only now in the ledger
	"$ROSTER_BIN/extract-sftp" --profile aesop --local "$D" --take all --staging "$S" \
		>"$T/out" 2>"$T/err"
	grep -q '11-23-2026.txt: 5 rows' "$T/err"
	[ "$(records)" -eq 7 ]
	[ "$(wc -l <"$S/frontline_absences.fold")" -eq 7 ]
	[ "$(jq -r .name "$S/ledger.jsonl")" = "11-23-2026.txt" ]
}

@test "marker: a marker older than its file (the file rewritten after it) does not let it be taken" {
	munis_csv 1 >"$D/e.csv"
	touch -d '1 hour ago' "$D/e.csv"
	touch -d '2 hours ago' "$D/e.csv.done"
	x --profile munis --local "$D" --pattern '*.csv' --marker '{name}.done'
	[ "$status" -eq 1 ]
	[[ "$output" == *"e.csv: the marker e.csv.done is older than the file: the file was rewritten after it; not taken"* ]]
	[[ "$output" != *'"type":"RECORD"'* ]]
	# a fixed marker name alike
	touch -d '2 hours ago' "$D/READY"
	x --profile munis --local "$D" --pattern '*.csv' --marker READY
	[ "$status" -eq 1 ]
	[[ "$output" == *"the marker READY is older than the file"* ]]
	# the writer renews the marker once done (the same second counts as after)
	touch -r "$D/e.csv" "$D/e.csv.done"
	x --profile munis --local "$D" --pattern '*.csv' --marker '{name}.done'
	[ "$status" -eq 0 ]
	[[ "$output" == *'"EmployeeNumber":"1"'* ]]
}

@test "--take all with no file and no fold fails; a fold and no new file is sent whole, as written" {
	x --profile aesop --local "$D" --take all --staging "$S" --stats "$T/stats"
	[ "$status" -eq 1 ]
	[[ "$output" == *"no file matching * in $D"* ]]
	[[ "$output" != *'"type":"ACTIVATE_VERSION"'* ]]
	jq -e '.streams.frontline_absences.status == "failed"' "$T/stats"
	# a fold kept from earlier runs: numbers and keys come back exactly as they were
	mkdir -p "$S"
	cat >"$S/frontline_absences.fold" <<'FOLD'
{"key":"1042\u001f2026-11-23","record":{"EmployeeExternalId":"1042","AbsenceDate":"2026-11-23","Days":1.0,"PayRate":12.50}}
{"key":"q\"uo\\te\u001f2026-11-23","record":{"EmployeeExternalId":"q\"uo\\te","AbsenceDate":"2026-11-23","Days":0.50}}
{"key":null,"record":{"AbsenceDate":"2026-11-23","Days":1.0,"Title":"vacancy"}}
{"key":null,"record":{"AbsenceDate":"2026-11-23","Days":1.0,"Title":"vacancy"}}
FOLD
	cp "$S/frontline_absences.fold" "$T/fold.before"
	x --profile aesop --local "$D" --take all --staging "$S" --stats "$T/stats"
	[ "$status" -eq 0 ]
	printf '%s\n' "$output" | grep '^{' >"$T/out"
	[ "$(records)" -eq 4 ]
	grep -q '"record":{"EmployeeExternalId":"1042","AbsenceDate":"2026-11-23","Days":1.0,"PayRate":12.50}' "$T/out"
	grep -q '"Days":0.50}' "$T/out"
	# two records without a key are two records, never one
	[ "$(grep -c '"Title":"vacancy"' "$T/out")" -eq 2 ]
	grep -q '"type":"ACTIVATE_VERSION","stream":"frontline_absences"' "$T/out"
	jq -e '.streams.frontline_absences.status == "complete" and
		(.streams.frontline_absences.note | test("no new file"))' "$T/stats"
	cmp "$S/frontline_absences.fold" "$T/fold.before"
	# the ledger lists files taken, but the fold is gone: not an empty complete stream
	printf '{"name":"old.txt","size":2,"mtime":1,"sha256":"%064d","ingested_at":"2026-11-20T06:00:00Z","records":1}\n' 0 >"$S/ledger.jsonl"
	echo x >"$D/old.txt"
	touch -d @1 "$D/old.txt"
	rm "$S/frontline_absences.fold"
	x --profile aesop --local "$D" --take all --staging "$S"
	[ "$status" -eq 1 ]
	[[ "$output" == *"the ledger lists 1 file matching * as taken, but there is no fold"* ]]
	[[ "$output" == *"--reprocess"* ]]
	[[ "$output" != *'"type":"ACTIVATE_VERSION"'* ]]
}

# A line of the Aesop fixed-width file: staff, date (YYYYMMDD), shift, days, cancel (Y/N).
aesop_line() {
	/usr/bin/python3 -c '
import sys
staff, date, shift, days, cancel = sys.argv[1:6]
rec = [" "] * 1085
def put(at, v):
    rec[at:at + len(v)] = list(v)
put(0, "ABS"); put(8, staff); put(312, date); put(323, cancel); put(349, shift); put(379, days)
sys.stdout.write("".join(rec) + "\r\n")' "$@"
}

@test "--take all: records without a key (vacancies) are kept apart; a cancellation without a key removes nothing" {
	{
		aesop_line "" 20261123 "Full Day" 1.0 N
		aesop_line "" 20261123 "Full Day" 1.0 N
		aesop_line 1042 20261123 "Full Day" 1.0 N
	} >"$D/11-23-2026.txt"
	aged "$D"/*
	"$ROSTER_BIN/extract-sftp" --profile aesop --local "$D" --take all --staging "$S" >"$T/out"
	[ "$(records)" -eq 3 ]
	[ "$(grep -c '"key":null' "$S/frontline_absences.fold")" -eq 2 ]
	# a vacancy cancelled the next day: it cannot be matched, both stay
	aesop_line "" 20261123 "Full Day" 1.0 Y >"$D/11-24-2026.txt"
	aged "$D"/*
	"$ROSTER_BIN/extract-sftp" --profile aesop --local "$D" --take all --staging "$S" >"$T/out"
	[ "$(records)" -eq 3 ]
	[ "$(grep -c '"key":null' "$S/frontline_absences.fold")" -eq 2 ]
	grep -q '"EmployeeExternalId":"1042"' "$T/out"
}

@test "--take all is refused for profiles whose files are whole snapshots" {
	for p in munis munis-fixed; do
		x --profile "$p" --local "$D" --take all --staging "$S"
		[ "$status" -eq 2 ]
		[[ "$output" == *"--take all does not apply to the $p profile: $p files are whole snapshots: take the newest"* ]]
	done
	# the increment profiles take it
	for p in aesop frontline; do
		x --profile "$p" --local "$D" --take all --staging "$S"
		[ "$status" -eq 1 ]
		[[ "$output" == *"no file matching"* ]]
	done
}

@test "--help says which profiles fold with --take all, the marker rule and what a delta manifest does" {
	x --help
	[ "$status" -eq 0 ]
	[[ "$output" == *"all: every file not yet"*"only for"*"profiles whose files are increments (frontline, aesop);"* ]]
	[[ "$output" == *"marker must be at least as new as the file"* ]]
	[[ "$output" == *"delta"*"not marked complete"* ]]
}
