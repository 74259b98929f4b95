#!/usr/bin/env bats
# load-csv's safeguards: the mass-change hold (exit 4), approving and
# discarding what was held, the dry run's change set, and a manifest that
# describes every file in the folder.

setup() {
	T=$(mktemp -d)
	export ROSTER_FAKE_CLOCK=1800000000
}

teardown() {
	rm -rf "$T"
}

# people N [FIRST] [NAME]: a complete people stream of students p-FIRST..,
# N of them, given name NAME (default G<i>).
people() {
	local n=$1 first=${2:-1} name=${3:-}
	echo '{"type":"SCHEMA","stream":"people","schema":{},"key_properties":["source","source_id"]}'
	for ((i = first; i < first + n; i++)); do
		printf '{"type":"RECORD","stream":"people","record":{"id":"p-%04d","source":"sis","source_id":"%d","role":"student","status":"active","given_name":"%s","family_name":"F%d"}}\n' \
			"$i" "$i" "${name:-G$i}" "$i"
	done
	echo '{"type":"ACTIVATE_VERSION","stream":"people","version":1}'
}

orgs() {
	echo '{"type":"SCHEMA","stream":"orgs","schema":{},"key_properties":["source","source_id"]}'
	for o in "$@"; do
		printf '{"type":"RECORD","stream":"orgs","record":{"source":"sis","source_id":"%s","type":"school","name":"School %s"}}\n' "$o" "$o"
	done
	echo '{"type":"ACTIVATE_VERSION","stream":"orgs","version":1}'
}

load_csv() {
	run "$ROSTER_BIN/load-csv" --out "$T/out" "$@"
}

# Publishes N people (and one org) as the night before.
night() {
	people "$1" >"$T/n1"
	orgs a >>"$T/n1"
	"$ROSTER_BIN/load-csv" --out "$T/out" "$T/n1" 2>/dev/null
	cp -r "$T/out" "$T/before"
}

@test "a header-only export (N rows to none) is held: exit 4, the previous file stays" {
	night 14
	people 0 >"$T/in"
	load_csv "$T/in"
	[ "$status" -eq 4 ]
	[[ "$output" == *"warning: people: held, the previous people.csv is kept: would remove all 14 rows (a stream going to zero rows is always held)"* ]]
	cmp "$T/before/people.csv" "$T/out/people.csv"
	# staged: exactly what would have been published, and its change set
	[ "$(cat "$T/out/.held/people.csv")" = "$(head -1 "$T/before/people.csv")" ]
	[ "$(grep -c '"op":"remove"' "$T/out/.held/people.changes.ndjson")" -eq 14 ]
	[ "$(jq -r '.streams[0] | [.stream,.rows,.previous_rows,.removed] | join(" ")' "$T/out/.held/held.json")" = "people 0 14 14" ]
	m="$T/out/manifest.json"
	[ "$(jq -r '.files[] | select(.stream=="people") | [.status,.rows,.kept] | join(" ")' "$m")" = "held 14 true" ]
	[ "$(jq -r '.files[] | select(.stream=="people") | .sha256' "$m")" = "$(sha256sum "$T/out/people.csv" | cut -d' ' -f1)" ]
}

@test "a source that returns 5 of 500 students is held; the other streams publish" {
	night 500
	{ people 5; orgs a b; } >"$T/in"
	load_csv "$T/in"
	[ "$status" -eq 4 ]
	[[ "$output" == *"people: held, the previous people.csv is kept: would remove 495 of 500 rows (99.0%), over the limit of 10%"* ]]
	cmp "$T/before/people.csv" "$T/out/people.csv"
	grep -q 'School b' "$T/out/orgs.csv"
	# the summary table: before, after, added, removed, changed
	[[ "$output" == *"people             500         5         0       495         0  held: would remove"* ]]
	[[ "$output" == *"orgs                 1         2         1         0         0  published"* ]]
}

@test "a changed-everything file is held at 75% changed" {
	night 500
	people 500 1 Changed >"$T/in"
	load_csv "$T/in"
	[ "$status" -eq 4 ]
	[[ "$output" == *"people: held"*"would change 500 of 500 rows (100.0%), over the limit of 75%"* ]]
	cmp "$T/before/people.csv" "$T/out/people.csv"
}

@test "a small file under the floor is not held for a few removals, but is held going to zero" {
	night 20
	people 10 >"$T/in"
	load_csv "$T/in"
	[ "$status" -eq 0 ]
	[ "$(wc -l <"$T/out/people.csv")" -eq 11 ]
	[ ! -e "$T/out/.held/held.json" ]
	people 0 >"$T/in"
	load_csv "$T/in"
	[ "$status" -eq 4 ]
	[[ "$output" == *"would remove all 10 rows"* ]]
}

@test "limits: off, a count, per stream, and the floor; a bad limit is a usage error" {
	night 500
	people 5 >"$T/in"
	load_csv --hold-deletes off "$T/in"
	[ "$status" -eq 0 ]
	rm -rf "$T/out" && cp -r "$T/before" "$T/out"
	load_csv --hold-deletes 'orgs=0, people=495' "$T/in"
	[ "$status" -eq 0 ] # 495 removed is not more than 495
	rm -rf "$T/out" && cp -r "$T/before" "$T/out"
	load_csv --hold-deletes people=494 "$T/in"
	[ "$status" -eq 4 ]
	[[ "$output" == *"over the limit of 494 rows"* ]]
	rm -rf "$T/out" && cp -r "$T/before" "$T/out"
	load_csv --hold-floor 496 "$T/in"
	[ "$status" -eq 0 ]
	load_csv --hold-deletes pupils=5% "$T/in"
	[ "$status" -eq 2 ]
	[[ "$output" == *"--hold-deletes: hold limit 'pupils=5%': 'pupils' is not a canonical stream"* ]]
	load_csv --hold-changes 150% "$T/in"
	[ "$status" -eq 2 ]
	[[ "$output" == *"--hold-changes: hold limit '150%': give a share (10%), a count of rows (500) or off"* ]]
}

@test "held wins over partial: exit 4 when one stream is held and another incomplete" {
	night 500
	{ people 5; echo '{"type":"SCHEMA","stream":"orgs","schema":{},"key_properties":[]}'; } >"$T/in"
	load_csv "$T/in"
	[ "$status" -eq 4 ]
	[[ "$output" == *"orgs: incomplete"* ]]
}

@test "--approve publishes exactly the staged bytes, once" {
	night 500
	people 5 >"$T/in"
	run "$ROSTER_BIN/load-csv" --out "$T/out" --run-id night-2 "$T/in"
	[ "$status" -eq 4 ]
	cp "$T/out/.held/people.csv" "$T/staged.csv"
	export ROSTER_FAKE_CLOCK=1800003600
	load_csv --approve
	[ "$status" -eq 0 ]
	[[ "$output" == *"approved: published $T/out/people.csv (5 rows, held by run night-2)"* ]]
	cmp "$T/staged.csv" "$T/out/people.csv"
	m="$T/out/manifest.json"
	[ "$(jq -r '.files[] | select(.stream=="people") | [.status,.rows,.run,.published_at,.kept] | join(" ")' "$m")" \
		= "published 5 night-2 2027-01-15T09:00:00.000Z false" ]
	[ "$(jq -r '.files[] | select(.stream=="people") | .sha256' "$m")" = "$(sha256sum "$T/staged.csv" | cut -d' ' -f1)" ]
	# orgs untouched by the approval, still described
	[ "$(jq -r '.files[] | select(.stream=="orgs") | [.rows,.kept] | join(" ")' "$m")" = "1 true" ]
	[ ! -e "$T/out/.held" ]
	load_csv --approve
	[ "$status" -eq 0 ]
	[[ "$output" == *"nothing is held in $T/out/.held: nothing to approve"* ]]
}

@test "--approve refuses when the published file or the staged one changed since the hold" {
	night 500
	people 5 >"$T/in"
	load_csv "$T/in"
	[ "$status" -eq 4 ]
	echo 'edited' >>"$T/out/people.csv"
	cp "$T/out/people.csv" "$T/edited.csv"
	load_csv --approve
	[ "$status" -eq 1 ]
	[[ "$output" == *"error: $T/out/people.csv changed after the hold (a later run published it): the held result was compared with another file; --discard it and run again"* ]]
	cmp "$T/edited.csv" "$T/out/people.csv"
	cp "$T/before/people.csv" "$T/out/people.csv"
	echo 'x' >>"$T/out/.held/people.csv"
	load_csv --approve
	[ "$status" -eq 1 ]
	[[ "$output" == *"$T/out/.held/people.csv changed after it was held"* ]]
	cmp "$T/before/people.csv" "$T/out/people.csv"
}

@test "--discard keeps the published file and drops the held one" {
	night 500
	people 5 >"$T/in"
	load_csv --held "$T/state/held" "$T/in"
	[ "$status" -eq 4 ]
	[ -s "$T/state/held/people.csv" ]
	load_csv --held "$T/state/held" --discard
	[ "$status" -eq 0 ]
	[[ "$output" == *"discarded the held people"*"would remove 495 of 500 rows"*"$T/out/people.csv stays as it is"* ]]
	cmp "$T/before/people.csv" "$T/out/people.csv"
	[ ! -e "$T/state/held" ]
}

@test "a later night that publishes the stream clears its hold; one that holds again replaces it" {
	night 500
	people 5 >"$T/in"
	load_csv "$T/in"
	[ "$status" -eq 4 ]
	people 6 >"$T/in"
	load_csv "$T/in"
	[ "$status" -eq 4 ]
	[ "$(jq -r '.streams | map(.rows) | join(",")' "$T/out/.held/held.json")" = 6 ]
	people 499 >"$T/in"
	load_csv "$T/in"
	[ "$status" -eq 0 ]
	[ ! -e "$T/out/.held/held.json" ]
	[ ! -e "$T/out/.held/people.csv" ]
}

@test "--dry-run writes nothing but its change set: adds, removes and changed fields" {
	night 3
	{ people 2; people 1 4 | grep RECORD; } | sed 's/"given_name":"G2"/"given_name":"Gus"/' >"$T/in"
	find "$T/out" -printf '%p %s %T@\n' | sort >"$T/ls-before"
	load_csv --dry-run --changes "$T/changes.ndjson" "$T/in"
	[ "$status" -eq 0 ]
	find "$T/out" -printf '%p %s %T@\n' | sort >"$T/ls-after"
	diff "$T/ls-before" "$T/ls-after"
	diff -r "$T/before" "$T/out"
	diff - "$T/changes.ndjson" <<'EOF'
{"stream":"people","op":"change","key":{"id":"p-0002"},"before":{"given_name":"G2"},"after":{"given_name":"Gus"}}
{"stream":"people","op":"add","key":{"id":"p-0004"},"before":null,"after":{"id":"p-0004","source":"sis","source_id":"4","role":"student","status":"active","given_name":"G4","family_name":"F4"}}
{"stream":"people","op":"remove","key":{"id":"p-0003"},"before":{"id":"p-0003","source":"sis","source_id":"3","role":"student","status":"active","given_name":"G3","family_name":"F3"},"after":null}
EOF
	[[ "$output" == *"stream          before     after     added   removed   changed  would be"* ]]
	[[ "$output" == *"people               3         3         1         1         1  published"* ]]
}

@test "--dry-run on a new folder creates nothing; a would-be hold exits 4; stdout by default" {
	people 2 >"$T/in"
	load_csv --dry-run "$T/in"
	[ "$status" -eq 0 ]
	[ ! -e "$T/out" ]
	[ "$(echo "$output" | grep -c '"op":"add"')" -eq 2 ]
	night 500
	people 5 >"$T/in"
	run "$ROSTER_BIN/load-csv" --out "$T/out" --dry-run --changes "$T/c" "$T/in"
	[ "$status" -eq 4 ]
	[[ "$output" == *"held: would remove 495 of 500 rows"* ]]
	[ ! -e "$T/out/.held" ]
	[ "$(grep -c '"op":"remove"' "$T/c")" -eq 495 ]
	diff -r "$T/before" "$T/out"
}

@test "option clashes are usage errors" {
	load_csv --approve --discard
	[ "$status" -eq 2 ]
	[[ "$output" == *"--approve, --discard and --dry-run exclude each other"* ]]
	load_csv --changes x "$T/in"
	[ "$status" -eq 2 ]
	[[ "$output" == *"--changes goes with --dry-run"* ]]
	load_csv --approve "$T/in"
	[ "$status" -eq 2 ]
	[[ "$output" == *"--approve and --discard read no input"* ]]
}

@test "the manifest lists every file in the folder, with its own rows, even those not in this input" {
	night 3
	echo 'a,b' >"$T/out/notes.csv"
	printf 'x,y\r\n1,"two\r\nlines"\r\n' >"$T/out/extra.csv"
	orgs a b >"$T/in"
	load_csv "$T/in"
	[ "$status" -eq 0 ]
	m="$T/out/manifest.json"
	[ "$(jq -r '[.files[] | "\(.file):\(.rows):\(.kept):\(.status)"] | join(" ")' "$m")" \
		= "orgs.csv:2:false:published people.csv:3:true:null extra.csv:1:true:null notes.csv:0:true:null" ]
	for f in orgs people extra notes; do
		[ "$(jq -r ".files[] | select(.file==\"$f.csv\") | .sha256" "$m")" = "$(sha256sum "$T/out/$f.csv" | cut -d' ' -f1)" ]
	done
	# people.csv is still the first night's: its publisher carried over
	[ "$(jq -r '.files[] | select(.file=="people.csv") | .published_at' "$m")" = 2027-01-15T08:00:00.000Z ]
	[ "$(jq -r '.files[] | select(.file=="notes.csv") | .published_at' "$m")" = null ]
}

@test "a run whose people fail to write still lists people.csv with the file's own rows" {
	night 3
	people 4 >"$T/in"
	run env LD_PRELOAD="$FAULTSHIM" FAULT_PATH=people \
		ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0" \
		"$ROSTER_BIN/load-csv" --out "$T/out" "$T/in"
	[ "$status" -eq 1 ]
	[ "$(jq -r '.files[] | select(.file=="people.csv") | [.rows,.kept,.status] | join(" ")' "$T/out/manifest.json")" = "3 true failed" ]
	[ "$(jq -r '.files[] | select(.file=="orgs.csv") | [.rows,.kept] | join(" ")' "$T/out/manifest.json")" = "1 true" ]
}

@test "a previous file with a broken quote cannot be compared: the stream fails, naming file:line" {
	night 3
	printf '"p-0009,sis\r\n' >>"$T/out/people.csv"
	cp "$T/out/people.csv" "$T/broken.csv"
	people 3 >"$T/in"
	load_csv "$T/in"
	[ "$status" -eq 1 ]
	[[ "$output" == *"error: $T/out/people.csv:5: a quoted cell opened here is not closed"* ]]
	cmp "$T/broken.csv" "$T/out/people.csv"
}
