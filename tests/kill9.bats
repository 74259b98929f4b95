#!/usr/bin/env bats
# kill -9 at 100 points of load-csv and 100 of run-job (a write, an fsync
# or a rename of one of their files, chosen at random with a fixed seed),
# each followed by the next night's clean run: no temporary file is left,
# every CSV file is whole, the manifest describes exactly the files in the
# folder, and the files are those a run that was never killed publishes.

DROPS="$BATS_TEST_DIRNAME/../fixtures/drops"
EXPORT=munis_employees_20261128.csv

setup() {
	T=$(mktemp -d)
	export ROSTER_FAKE_CLOCK=1800000000
}

teardown() {
	rm -rf "$T"
}

# Runs under the shim, killed (SIGKILL) at the chosen call.
killed() {
	env LD_PRELOAD="$FAULTSHIM" FAULT_ERRNO=SIGKILL \
		ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0" "$@" \
		>/dev/null 2>&1
}

# A night later: what the killed run left is older than the next run.
age_leftovers() {
	find "$1" -name '.*.tmp.*' -exec touch -d '1 hour ago' {} +
}

# No temporary file; each CSV parses, and the manifest lists exactly the
# CSV files with their rows and SHA-256.
folder_true() {
	[ -z "$(find "$1" -name '.*.tmp.*')" ] || { echo "temporary files left: $(find "$1" -name '.*.tmp.*')"; return 1; }
	/usr/bin/python3 - "$1" <<'EOF'
import csv, hashlib, json, os, sys
d = sys.argv[1]
m = json.load(open(os.path.join(d, "manifest.json")))
listed = {f["file"]: f for f in m["files"] if f["file"]}
present = sorted(n for n in os.listdir(d) if n.endswith(".csv") and not n.startswith("."))
assert sorted(listed) == present, (sorted(listed), present)
for n in present:
    raw = open(os.path.join(d, n), "rb").read()
    assert raw.endswith(b"\r\n"), n + " is cut short"
    rows = list(csv.reader(raw.decode("utf-8").splitlines(True)))
    assert listed[n]["rows"] == len(rows) - 1, (n, listed[n]["rows"], len(rows) - 1)
    assert listed[n]["sha256"] == hashlib.sha256(raw).hexdigest(), n
EOF
}

same_csvs() {
	for f in "$1"/*.csv; do
		cmp "$f" "$2/$(basename "$f")" || return 1
	done
	[ "$(ls "$1"/*.csv | wc -l)" -eq "$(ls "$2"/*.csv | wc -l)" ]
}

# people N: a complete people stream (and memberships) of N students.
people() {
	echo '{"type":"SCHEMA","stream":"people","schema":{},"key_properties":[]}'
	echo '{"type":"SCHEMA","stream":"memberships","schema":{},"key_properties":[]}'
	for ((i = 1; i <= $1; i++)); do
		printf '{"type":"RECORD","stream":"people","record":{"id":"p-%05d","source":"sis","source_id":"%d","role":"student","given_name":"Given %d","family_name":"Family, %d","org_ids":["s1","s2"]}}\n' "$i" "$i" "$i" "$i"
		printf '{"type":"RECORD","stream":"memberships","record":{"source":"sis","group_id":"c%d","person_id":"p-%05d","role":"student"}}\n' $((i % 40)) "$i"
	done
	echo '{"type":"ACTIVATE_VERSION","stream":"people","version":1}'
	echo '{"type":"ACTIVATE_VERSION","stream":"memberships","version":1}'
}

@test "load-csv killed at 100 random points: the next run leaves a whole, described folder" {
	people 300 >"$T/a.ndjson"
	people 310 | sed 's/Given 7"/Given Seven"/' >"$T/b.ndjson"
	"$ROSTER_BIN/load-csv" --out "$T/night1" "$T/a.ndjson" 2>/dev/null
	cp -r "$T/night1" "$T/want" && "$ROSTER_BIN/load-csv" --out "$T/want" "$T/b.ndjson" 2>/dev/null
	paths=(people memberships manifest)
	ops=(write write write fsync rename)
	RANDOM=12 kills=0
	for ((k = 0; k < 100; k++)); do
		p=${paths[RANDOM % 3]} op=${ops[RANDOM % 5]}
		after=$((RANDOM % $(stat -c %s "$T/want/$p".*))) # a point inside the file
		rm -rf "$T/out" && cp -r "$T/night1" "$T/out"
		FAULT_PATH=$p FAULT_OPS=$op FAULT_AFTER=$after killed \
			"$ROSTER_BIN/load-csv" --out "$T/out" "$T/b.ndjson" && rc=0 || rc=$?
		[ "$rc" -ne 137 ] || kills=$((kills + 1))
		age_leftovers "$T/out"
		run "$ROSTER_BIN/load-csv" --out "$T/out" "$T/b.ndjson"
		[ "$status" -eq 0 ] || { echo "point $k ($p $op $after): exit $status: $output"; false; }
		folder_true "$T/out" || { echo "point $k ($p $op $after)"; false; }
		same_csvs "$T/want" "$T/out" || { echo "point $k ($p $op $after)"; false; }
	done
	echo "killed: $kills of 100"
	[ "$kills" -ge 95 ] # a write past its last byte may not come: a few points miss
}

@test "run-job killed at 100 random points (any stage, any of its files): the next run is whole" {
	mkdir "$T/drop"
	cp "$DROPS/munis/$EXPORT" "$T/drop/"
	touch -d '1 hour ago' "$T/drop/$EXPORT"
	printf '%s\n' '[job]' 'output = out' '[source hr]' 'type = sftp' 'profile = munis' \
		'local = drop' 'settle = 0' >"$T/d.job"
	"$ROSTER_BIN/run-job" "$T/d.job" >/dev/null 2>&1
	cp -r "$T/out" "$T/want"
	paths=(people positions manifest hr.raw hr.canon hr.json hr.stats run-report ledger)
	ops=(write write fsync rename)
	RANDOM=34 kills=0
	for ((k = 0; k < 100; k++)); do
		p=${paths[RANDOM % 9]} op=${ops[RANDOM % 4]} after=$((RANDOM % 3000))
		FAULT_PATH=$p FAULT_OPS=$op FAULT_AFTER=$after killed "$ROSTER_BIN/run-job" "$T/d.job" \
			&& rc=0 || rc=$?
		[ "$rc" -eq 0 ] || kills=$((kills + 1)) # run-job or one of its stages was killed
		age_leftovers "$T/out"
		run "$ROSTER_BIN/run-job" "$T/d.job"
		[ "$status" -eq 0 ] || { echo "point $k ($p $op $after): exit $status: $output"; false; }
		folder_true "$T/out" || { echo "point $k ($p $op $after)"; false; }
		same_csvs "$T/want" "$T/out" || { echo "point $k ($p $op $after)"; false; }
	done
	echo "killed: $kills of 100"
	[ "$kills" -ge 60 ]
}
