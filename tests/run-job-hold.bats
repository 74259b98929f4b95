#!/usr/bin/env bats
# run-job and the mass-change hold: a header-only HR export held (exit 4)
# with the report saying what, how much and how to release it; --approve
# and --discard; hold limits from the job; --dry-run publishing nothing;
# --print-pipeline printing commands that rerun the job from its raw files.

load assert

DROPS="$BATS_TEST_DIRNAME/../fixtures/drops"
EXPORT=munis_employees_20261128.csv

setup() {
	T=$(mktemp -d)
	mkdir "$T/drop"
	cp "$DROPS/munis/$EXPORT" "$T/drop/"
	touch -d '1 hour ago' "$T/drop/$EXPORT"
}

teardown() {
	rm -rf "$T"
}

job() {
	printf '%s\n' '[job]' 'output = out' "$@" \
		'[source hr]' 'type = sftp' 'profile = munis' 'local = drop' 'settle = 0' \
		'status_codes = A=active; L=active; T=inactive' >"$T/d.job"
}

# The next night's export: the header only (complete, and no rows).
header_only() {
	head -1 "$DROPS/munis/$EXPORT" >"$T/drop/$EXPORT"
	touch -d '1 hour ago' "$T/drop/$EXPORT"
}

# Every file under out with its size and time, to show nothing changed.
listing() {
	find "$T/out" -printf '%p %s %T@\n' | sort
}

@test "a header-only export is held: exit 4, the files stay, the report says how to release" {
	job
	run "$ROSTER_BIN/run-job" "$T/d.job"
	[ "$status" -eq 0 ]
	cp "$T/out/people.csv" "$T/people.before"
	header_only
	run "$ROSTER_BIN/run-job" "$T/d.job"
	[ "$status" -eq 4 ]
	cmp "$T/people.before" "$T/out/people.csv"
	[[ "$output" == *"Run report: $T/d.job: held (exit 4)"* ]]
	[[ "$output" == *"Held: a mass change, not published; the previous files stay until you decide:"* ]]
	[[ "$output" == *"  people: would remove all 14 rows (a stream going to zero rows is always held)"* ]]
	[[ "$output" == *"    14 rows before: 0 added, 14 removed, 0 changed"* ]]
	[[ "$output" == *"    review the changes: $T/out/state/held/people.changes.ndjson"* ]]
	[[ "$output" == *"  publish what was held, as staged: run-job --approve $T/d.job"* ]]
	[[ "$output" == *"  or keep the previous files: run-job --discard $T/d.job"* ]]
	r="$T/out/run-report.json"
	[ "$(jq -r '[.outcome, .exit, (.held | map(.stream) | join(","))] | join(" ")' "$r")" = "held 4 people,positions" ]
	[ "$(jq -r '.held[0].changes | [.before,.removed] | join(" ")' "$r")" = "14 14" ]
	[ "$(grep -c '"op":"remove"' "$T/out/state/held/people.changes.ndjson")" -eq 14 ]
}

@test "--approve publishes the held files exactly as staged; --approve again has nothing to do" {
	job
	run "$ROSTER_BIN/run-job" "$T/d.job"
	header_only
	run "$ROSTER_BIN/run-job" "$T/d.job"
	[ "$status" -eq 4 ]
	cp "$T/out/state/held/people.csv" "$T/staged.csv"
	run "$ROSTER_BIN/run-job" --approve "$T/d.job"
	[ "$status" -eq 0 ]
	[[ "$output" == *"approved: published $T/out/people.csv (0 rows, held by run "* ]]
	cmp "$T/staged.csv" "$T/out/people.csv"
	[ ! -e "$T/out/state/held" ]
	[ "$(jq -r '.files[] | select(.stream=="people") | [.status,.rows] | join(" ")' "$T/out/manifest.json")" = "published 0" ]
	run "$ROSTER_BIN/run-job" --approve "$T/d.job"
	[ "$status" -eq 0 ]
	[[ "$output" == *"nothing is held in $T/out/state/held: nothing to approve"* ]]
}

@test "--discard keeps the previous files; the next full export publishes without a hold" {
	job
	run "$ROSTER_BIN/run-job" "$T/d.job"
	cp "$T/out/people.csv" "$T/people.before"
	header_only
	run "$ROSTER_BIN/run-job" "$T/d.job"
	[ "$status" -eq 4 ]
	run "$ROSTER_BIN/run-job" --discard "$T/d.job"
	[ "$status" -eq 0 ]
	[[ "$output" == *"discarded the held people"* ]]
	cmp "$T/people.before" "$T/out/people.csv"
	[ ! -e "$T/out/state/held" ]
	cp "$DROPS/munis/$EXPORT" "$T/drop/"
	touch -d '1 hour ago' "$T/drop/$EXPORT"
	run "$ROSTER_BIN/run-job" "$T/d.job"
	[ "$status" -eq 0 ]
	cmp "$T/people.before" "$T/out/people.csv"
}

# The export without three of its fourteen employees.
three_gone() {
	grep -v -e '^1105,' -e '^1106,' -e '^1107,' "$DROPS/munis/$EXPORT" >"$T/drop/$EXPORT"
	[ "$(($(wc -l <"$T/drop/$EXPORT") - 1))" -eq 11 ]
	touch -d '1 hour ago' "$T/drop/$EXPORT"
}

@test "hold limits come from the job; a bad one stops the job naming its line" {
	job 'hold_deletes = people=20%, positions=20%'
	run "$ROSTER_BIN/run-job" "$T/d.job"
	[ "$status" -eq 0 ]
	# 3 of 14 rows gone is over 20%, but under the default floor of 25 rows
	three_gone
	run "$ROSTER_BIN/run-job" "$T/d.job"
	[ "$status" -eq 0 ]
	[ "$(($(wc -l <"$T/out/people.csv") - 1))" -eq 11 ]
	cp "$DROPS/munis/$EXPORT" "$T/drop/" && touch -d '1 hour ago' "$T/drop/$EXPORT"
	run "$ROSTER_BIN/run-job" "$T/d.job"
	[ "$status" -eq 0 ] # rows added are never held
	job 'hold_deletes = people=20%, positions=20%' 'hold_floor = 3'
	three_gone
	run "$ROSTER_BIN/run-job" "$T/d.job"
	[ "$status" -eq 4 ]
	[[ "$output" == *"people: would remove 3 of 14 rows (21.4%), over the limit of 20%"* ]]
	job 'hold_deletes = staff=20%'
	run "$ROSTER_BIN/run-job" "$T/d.job"
	[ "$status" -eq 2 ]
	[[ "$output" == *"error: $T/d.job:3: hold_deletes: hold limit 'staff=20%': 'staff' is not a canonical stream"* ]]
	job 'hold_floor = many'
	run "$ROSTER_BIN/run-job" "$T/d.job"
	[ "$status" -eq 2 ]
	[[ "$output" == *"error: $T/d.job:3: hold_floor: 'many' is not a count of rows"* ]]
}

@test "--dry-run publishes nothing and keeps nothing: only its change set is written" {
	job
	run "$ROSTER_BIN/run-job" "$T/d.job"
	[ "$status" -eq 0 ]
	header_only
	listing >"$T/before"
	TMPDIR="$T/tmp" && mkdir "$TMPDIR" && export TMPDIR
	run "$ROSTER_BIN/run-job" --dry-run --changes "$T/changes.ndjson" "$T/d.job"
	[ "$status" -eq 4 ]
	listing >"$T/after"
	diff "$T/before" "$T/after"
	[ -z "$(ls "$T/tmp")" ] # the scratch folder is gone
	[ "$(grep -c '"stream":"people","op":"remove"' "$T/changes.ndjson")" -eq 14 ]
	[[ "$output" == *"people              14         0         0        14         0  held: would remove all 14 rows"* ]]
	[[ "$output" == *"Run report (JSON): (none: a dry run)"* ]]
	run "$ROSTER_BIN/run-job" --dry-run --changes x --check "$T/d.job"
	[ "$status" -eq 2 ]
	[[ "$output" == *"--check, --dry-run, --approve, --discard and --print-pipeline exclude each other"* ]]
}

@test "--print-pipeline prints commands that rerun the job from the raw files it kept" {
	job
	run "$ROSTER_BIN/run-job" "$T/d.job"
	[ "$status" -eq 0 ]
	cp -r "$T/out" "$T/first"
	run "$ROSTER_BIN/run-job" --print-pipeline "$T/d.job"
	[ "$status" -eq 0 ]
	[[ "$output" == *"extract-sftp --profile munis --local $T/drop"* ]]
	[[ "$output" == *"normalize --status-codes 'A=active; L=active; T=inactive' < $T/out/.work/hr.raw.ndjson > $T/out/.work/hr.canon.ndjson"* ]]
	# the lines that read the raw files, then the last line, as a script
	echo "$output" | sed -n 's/^# \(.*normalize.* < .*\)/\1/p' >"$T/rerun.sh"
	echo "$output" | sed -n '/^# merge and publish/,$p' | sed 1d >>"$T/rerun.sh"
	rm "$T/out/people.csv" "$T/out/.work/hr.canon.ndjson"
	run bash -o pipefail "$T/rerun.sh"
	[ "$status" -eq 0 ]
	cmp "$T/first/people.csv" "$T/out/people.csv"
	cmp "$T/first/positions.csv" "$T/out/positions.csv"
}
