#!/usr/bin/env bats
# run-job and dedupe's id map: a person keeps the id of the first night
# when a source that sorts lower joins (Frontline's absences beside the
# Munis HR export); the map is kept only once load-csv has published; a
# held run's map waits with the held files; a dry run keeps none.

DROPS="$BATS_TEST_DIRNAME/../fixtures/drops"
EXPORT=munis_employees_20261128.csv

setup() {
	T=$(mktemp -d)
	mkdir "$T/drop" "$T/aesop"
	cp "$DROPS/munis/$EXPORT" "$T/drop/"
	cp "$DROPS/frontline/11-23-2026.txt" "$T/aesop/"
	touch -d '1 hour ago' "$T/drop/$EXPORT" "$T/aesop/"*
}

teardown() {
	rm -rf "$T"
}

# job [absences]: the HR source, and the absences source when asked.
job() {
	printf '%s\n' '[job]' 'output = out' \
		'[source hr]' 'type = sftp' 'profile = munis' 'local = drop' 'settle = 0' >"$T/d.job"
	[ -z "${1:-}" ] || printf '%s\n' '[source absences]' 'type = sftp' 'profile = aesop' \
		'local = aesop' 'take = all' 'settle = 0' >>"$T/d.job"
}

# employee_id,id of every person, sorted
ids() {
	/usr/bin/python3 -c 'import csv,sys
for r in sorted(csv.DictReader(open(sys.argv[1])), key=lambda r: r["employee_id"]):
    print(r["employee_id"] + "," + r["id"])' "$T/out/people.csv"
}

@test "a person keeps the first night's id when a lower-sorting source joins" {
	job
	run "$ROSTER_BIN/run-job" "$T/d.job"
	[ "$status" -eq 0 ]
	[ -s "$T/out/state/people.ids" ]
	ids >"$T/night1"
	job absences
	run "$ROSTER_BIN/run-job" "$T/d.job"
	[ "$status" -eq 0 ]
	# 1007 is absent in the Frontline file: one person of both sources, the same id
	grep -q '^frontline,1007/' "$T/out/absences.csv"
	[ "$(grep -c . "$T/night1")" -eq 14 ]
	ids | diff "$T/night1" -
	# without the map the id would have moved to the one of the Frontline record
	plain=$("$ROSTER_BIN/dedupe" "$T/out/.work/hr.canon.ndjson" "$T/out/.work/absences.canon.ndjson" 2>/dev/null |
		jq -r 'select(.stream=="people" and .record.employee_id=="1007") | .record.id')
	[ -n "$plain" ]
	[ "$plain" != "$(grep '^1007,' "$T/night1" | cut -d, -f2)" ]
}

@test "the map is kept only after a publish; a held run's map waits with the held files" {
	job
	run "$ROSTER_BIN/run-job" "$T/d.job"
	[ "$status" -eq 0 ]
	cp "$T/out/state/people.ids" "$T/map1"
	head -1 "$DROPS/munis/$EXPORT" >"$T/drop/$EXPORT"
	touch -d '1 hour ago' "$T/drop/$EXPORT"
	run "$ROSTER_BIN/run-job" "$T/d.job"
	[ "$status" -eq 4 ]
	cmp "$T/map1" "$T/out/state/people.ids"
	[ -s "$T/out/state/held/people.ids.next" ]
	[ ! -e "$T/out/.work/people.ids.next" ]
	cp "$T/out/state/held/people.ids.next" "$T/held-map"
	run "$ROSTER_BIN/run-job" --approve "$T/d.job"
	[ "$status" -eq 0 ]
	cmp "$T/held-map" "$T/out/state/people.ids"
	[ ! -e "$T/out/state/held" ]
}

@test "--discard drops the held run's map; a dry run keeps no map" {
	job
	run "$ROSTER_BIN/run-job" "$T/d.job"
	cp "$T/out/state/people.ids" "$T/map1"
	head -1 "$DROPS/munis/$EXPORT" >"$T/drop/$EXPORT"
	touch -d '1 hour ago' "$T/drop/$EXPORT"
	run "$ROSTER_BIN/run-job" "$T/d.job"
	[ "$status" -eq 4 ]
	run "$ROSTER_BIN/run-job" --discard "$T/d.job"
	[ "$status" -eq 0 ]
	[ ! -e "$T/out/state/held" ]
	cmp "$T/map1" "$T/out/state/people.ids"
	cp "$DROPS/munis/$EXPORT" "$T/drop/"
	job absences
	run "$ROSTER_BIN/run-job" --dry-run --changes "$T/c" "$T/d.job"
	[ "$status" -eq 0 ]
	cmp "$T/map1" "$T/out/state/people.ids"
	[ ! -e "$T/out/.work/people.ids.next" ]
	[ ! -e "$T/out/state/held" ]
}
