#!/usr/bin/env bats
# extract-sftp --local: the ingest layer without a network. A file or a
# folder; the newest file by the date in its name, else by its time; every
# new file folded in order (--take all) with cancellations; the ledger and
# --reprocess; .gz drops and the expansion cap; settle and marker; refused
# names; bundles; bad options.

bats_require_minimum_version 1.5.0

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
records() {
	grep -c '"type":"RECORD"' "$T/out" || true
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
	printf '%s\n' "$output" | grep -v '^{' >"$T/err" || true
	printf '%s\n' "$output" | grep '^{' >"$T/out"
	[ "$(records)" -eq 2 ]
	grep -q '"record":{"EmployeeNumber":"0042","LastName":"Last0042"' "$T/out"
	grep -q '"type":"ACTIVATE_VERSION","stream":"munis_employees"' "$T/out"
	! grep -q '900-00' "$T/out"
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
	! grep -q 'no new file' "$T/err"
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
	[ "$(records)" -eq 5 ]
	grep -q '"EmployeeExternalId":"1056"' "$T/out"
	[ "$(wc -l <"$S/frontline_absences.fold")" -eq 5 ]
	# the next day: Moreau's 11/23 absence is cancelled, two new ones
	cp "$DROPS/frontline/11-24-2026.txt" "$D/"
	aged "$D"/*
	"$ROSTER_BIN/extract-sftp" --profile aesop --local "$D" --take all --staging "$S" \
		>"$T/out" 2>"$T/err"
	[ "$(records)" -eq 6 ]
	! grep -q '"EmployeeExternalId":"1056"' "$T/out"
	grep -q '"EmployeeExternalId":"1084"' "$T/out"
	grep -q '"EmployeeExternalId":"1042"' "$T/out"
	grep -q '"type":"ACTIVATE_VERSION","stream":"frontline_absences"' "$T/out"
	# only the new file was read
	grep -q '11-24-2026.txt: 3 rows' "$T/err"
	! grep -q '11-23-2026.txt: ' "$T/err"
	[ "$(wc -l <"$S/ledger.jsonl")" -eq 2 ]
	# a run with nothing new sends the whole fold again
	"$ROSTER_BIN/extract-sftp" --profile aesop --local "$D" --take all --staging "$S" \
		>"$T/out" 2>"$T/err"
	[ "$(records)" -eq 6 ]
	! grep -q 'rows' "$T/err"
}

@test "--take all: files are applied oldest first, by the dates in their names" {
	# the later day arrives first (its mtime is older)
	cp "$DROPS/frontline/11-24-2026.txt" "$D/"
	cp "$DROPS/frontline/11-23-2026.txt" "$D/"
	touch -d '1 hour ago' "$D/11-23-2026.txt"
	touch -d '3 hours ago' "$D/11-24-2026.txt"
	"$ROSTER_BIN/extract-sftp" --profile aesop --local "$D" --take all --staging "$S" >"$T/out"
	# the cancellation in 11-24 came after 11-23's posting: Moreau is gone
	[ "$(records)" -eq 6 ]
	! grep -q '"EmployeeExternalId":"1056"' "$T/out"
	[ "$(jq -r .name "$S/ledger.jsonl" | tr '\n' ' ')" = "11-23-2026.txt 11-24-2026.txt " ]
}

@test "--take newest with cancellations: a cancelled row is never emitted" {
	cp "$DROPS/frontline/absences_report.csv" "$D/"
	aged "$D"/*
	"$ROSTER_BIN/extract-sftp" --profile frontline --local "$D/absences_report.csv" >"$T/out"
	! grep -q '"Deleted":true' "$T/out"
	! grep -q '"ConfirmationNumber":"482913160"' "$T/out"
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
	! grep -q 'password' "$T/out"
}

@test "a bundle with some files missing: those streams are left out" {
	cp "$DROPS"/sds/orgs.csv "$DROPS"/sds/users.csv "$D/"
	aged "$D"/*
	"$ROSTER_BIN/extract-sftp" --profile sds --local "$D" >"$T/out" 2>"$T/err"
	[ "$(grep '"type":"SCHEMA"' "$T/out" | jq -r .stream | tr '\n' ' ')" = "sds_orgs sds_users " ]
	grep -q 'no file for sds_roles in the drop' "$T/err"
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

@test "OneRoster: a file the manifest marks absent is not read, even when present" {
	cp "$DROPS"/oneroster/*.csv "$D/"
	sed -i 's/"file.courses","bulk"/"file.courses","absent"/' "$D/manifest.csv"
	grep -q '"file.courses","absent"' "$D/manifest.csv"
	aged "$D"/*
	"$ROSTER_BIN/extract-sftp" --profile oneroster --local "$D" >"$T/out" 2>"$T/err"
	[ "$(grep '"type":"ACTIVATE_VERSION"' "$T/out" | jq -r .stream | tr '\n' ' ')" = \
		"oneroster_orgs oneroster_academic_sessions oneroster_classes oneroster_users oneroster_enrollments " ]
	grep -q 'manifest says file.courses=absent; it is not read' "$T/err"
	! grep -q 'courses.csv: .* rows' "$T/err"
}
