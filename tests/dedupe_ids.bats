#!/usr/bin/env bats
# dedupe --ids: a person keeps its id from night to night through the id
# map, whatever source joins or leaves it; merged people keep the older id
# and the other becomes an alias never issued again; a split leaves the id
# with the larger part; a map that is not whole stops the run; the new map
# is written only when the merged output was.

load assert

setup() {
	T=$(mktemp -d)
	export ROSTER_FAKE_CLOCK=1800000000
}

teardown() {
	rm -rf "$T"
}

# hid SOURCE SOURCE_ID [N]: the id of the new-id rule (man dedupe), variant N.
hid() {
	if [ $# -eq 3 ]; then
		printf '%s\037%s\037%s' "$1" "$2" "$3"
	else
		printf '%s\037%s' "$1" "$2"
	fi | sha256sum | cut -c1-16 | sed 's/^/p-/'
}

# rec SOURCE SOURCE_ID [MEMBERS]: a people RECORD line.
rec() {
	printf '{"type":"RECORD","stream":"people","record":{"source":"%s","source_id":"%s"%s}}\n' \
		"$1" "$2" "${3:-}"
}

# night FILE...: one night with the map of the one before, as the caller
# runs it: stdout to $T/out, stderr to $T/err, the new map moved over the
# old once dedupe succeeded.
night() {
	local rc=0
	"$ROSTER_BIN/dedupe" --ids "$T/map" --ids-out "$T/map.new" "$@" >"$T/out" 2>"$T/err" || rc=$?
	if [ "$rc" -ne 0 ]; then
		echo "dedupe exit $rc:" >&2
		cat "$T/err" >&2
		return 1
	fi
	mv "$T/map.new" "$T/map"
}

# id_of SOURCE SOURCE_ID: the id of the person holding that record in $T/out.
id_of() {
	jq -r --arg s "$1" --arg i "$2" 'select(.type == "RECORD" and .stream == "people")
		| .record | select(any(.sources[]; .source == $s and .source_id == $i)) | .id' "$T/out"
}

ids_line() {
	grep -o 'ids (night [0-9]*): .*' "$T/err"
}

@test "the first night (no map yet): the ids and output are those without --ids; the map lists every key" {
	DATA="$BATS_TEST_DIRNAME/data/dedupe"
	"$ROSTER_BIN/dedupe" "$DATA/clever.ndjson" "$DATA/graph.ndjson" >"$T/plain" 2>/dev/null
	night "$DATA/clever.ndjson" "$DATA/graph.ndjson"
	cmp "$T/plain" "$T/out"
	[ "$(cat "$T/map")" = "roster-ids 1
night 1
+ p-5a6624c5b6bef37b 1
m carl@example.org
s graph u-2
+ p-ba44ffde50019cb7 1
e E-9
m ada.lovelace@example.org
s clever t-1
s graph u-1
+ p-e533f548c91431c2 1
i S-42
s clever s-7
end" ]
	[ "$(ids_line)" = "ids (night 1): 0 kept, 3 new, 0 split off; 0 merged into an older id (aliases recorded)" ]
}

@test "a lower-sorting source joins a person: same id; it leaves: same id; the person leaves and returns: same id" {
	id=$(hid zeta 1)
	rec zeta 1 ',"email":"kim@x.org"' >"$T/n1"
	night "$T/n1"
	[ "$(id_of zeta 1)" = "$id" ]

	# alpha sorts first: without the map the person would take alpha's id
	{ rec zeta 1 ',"email":"kim@x.org"'; rec alpha 9 ',"email":"KIM@x.org"'; } >"$T/n2"
	[ "$("$ROSTER_BIN/dedupe" "$T/n2" 2>/dev/null | jq -r .record.id)" = "$(hid alpha 9)" ]
	night "$T/n2"
	[ "$(id_of alpha 9)" = "$id" ]
	[ "$(id_of zeta 1)" = "$id" ]
	[ "$(ids_line)" = "ids (night 2): 1 kept, 0 new, 0 split off; 0 merged into an older id (aliases recorded)" ]

	rec alpha 9 ',"email":"kim@x.org"' >"$T/n3" # zeta left
	night "$T/n3"
	[ "$(id_of alpha 9)" = "$id" ]

	rec other 1 >"$T/n4" # the person left: its keys stay in the map
	night "$T/n4"
	[ "$(id_of other 1)" = "$(hid other 1)" ]
	grep -qx 's alpha 9' "$T/map"
	grep -qx 's zeta 1' "$T/map"

	rec alpha 9 >"$T/n5" # back, with no email this time
	night "$T/n5"
	[ "$(id_of alpha 9)" = "$id" ]
	[ "$(sed -n 2p "$T/map")" = "night 5" ]
}

@test "two people merge: the id first issued on an earlier night wins, the other is its alias" {
	rec b 2 ',"sis_id":"S1"' >"$T/n1"
	night "$T/n1"
	old=$(hid b 2)
	{ rec b 2 ',"sis_id":"S1"'; rec a 1 ',"email":"lee@x.org"'; } >"$T/n2"
	night "$T/n2"
	young=$(hid a 1)
	[ "$(id_of a 1)" = "$young" ]

	# a 1 now shares b 2's sis_id: one person; a 1 sorts first, yet the
	# older id wins
	{ rec b 2 ',"sis_id":"S1"'; rec a 1 ',"email":"lee@x.org","sis_id":"S1"'; } >"$T/n3"
	night "$T/n3"
	[ "$(id_of a 1)" = "$old" ]
	[ "$(id_of b 2)" = "$old" ]
	[ "$(jq -s '[.[] | select(.type == "RECORD")] | length' "$T/out")" -eq 1 ]
	[ "$(ids_line)" = "ids (night 3): 1 kept, 0 new, 0 split off; 1 merged into an older id (aliases recorded)" ]
	grep -qx "= $young 2 $old" "$T/map"
	[ "$(grep -A4 -x "+ $old 1" "$T/map")" = "+ $old 1
i S1
m lee@x.org
s a 1
s b 2" ]
}

@test "two people first issued the same night merge: the smaller id wins" {
	{ rec c 1 ',"sis_id":"X"'; rec d 1 ',"email":"y@x.org"'; } >"$T/n1"
	night "$T/n1"
	small=$(printf '%s\n' "$(hid c 1)" "$(hid d 1)" | sort | head -1)
	large=$(printf '%s\n' "$(hid c 1)" "$(hid d 1)" | sort | tail -1)
	{ rec c 1 ',"sis_id":"X","email":"y@x.org"'; rec d 1 ',"email":"y@x.org"'; } >"$T/n2"
	night "$T/n2"
	[ "$(id_of c 1)" = "$small" ]
	[ "$(id_of d 1)" = "$small" ]
	grep -qx "= $large 1 $small" "$T/map"
}

@test "an alias is never issued again, even to a newcomer whose new-id rule gives it" {
	# a map where b 2's rule id is an alias and b 2 is no key of it
	printf '%s\n' "roster-ids 1" "night 3" "+ $(hid a 1) 1" "s a 1" "= $(hid b 2) 2 $(hid a 1)" \
		end >"$T/map"
	rec b 2 >"$T/n4"
	night "$T/n4"
	[ "$(id_of b 2)" = "$(hid b 2 1)" ]
	[ "$(hid b 2 1)" != "$(hid b 2)" ]
	[ "$(ids_line)" = "ids (night 4): 0 kept, 1 new, 0 split off; 0 merged into an older id (aliases recorded)" ]
	grep -qx "= $(hid b 2) 2 $(hid a 1)" "$T/map"
	[ "$(grep -A1 -x "+ $(hid b 2 1) 4" "$T/map")" = "+ $(hid b 2 1) 4
s b 2" ]
}

@test "aliases of aliases resolve to the live id, and are written so" {
	x=p-1111111111111111 y=p-2222222222222222 z=p-3333333333333333
	printf '%s\n' "roster-ids 1" "night 3" "= $x 1 $y" "= $y 2 $z" "+ $z 1" "s z 1" end >"$T/map"
	rec z 1 >"$T/n4"
	night "$T/n4"
	[ "$(id_of z 1)" = "$z" ]
	[ "$(cat "$T/map")" = "roster-ids 1
night 4
= $x 1 $z
= $y 2 $z
+ $z 1
s z 1
end" ]
}

@test "a split: the part of more records keeps the id, the other gets a new id never issued" {
	{ rec a 1 ',"email":"e@x.org"'; rec b 2 ',"email":"e@x.org"'; rec c 3 ',"email":"e@x.org"'; } >"$T/n1"
	night "$T/n1"
	id=$(hid a 1)
	[ "$(id_of c 3)" = "$id" ]
	# a 1 changes its email: b 2 and c 3 are two records, a 1 one
	{ rec a 1 ',"email":"f@x.org"'; rec b 2 ',"email":"e@x.org"'; rec c 3 ',"email":"e@x.org"'; } >"$T/n2"
	night "$T/n2"
	[ "$(id_of b 2)" = "$id" ]
	[ "$(id_of c 3)" = "$id" ]
	# a 1's rule id is the one b 2 and c 3 kept: the first variant instead
	[ "$(id_of a 1)" = "$(hid a 1 1)" ]
	[ "$(ids_line)" = "ids (night 2): 1 kept, 0 new, 1 split off; 0 merged into an older id (aliases recorded)" ]
	[ "$(grep -A2 -x "+ $(hid a 1 1) 2" "$T/map")" = "+ $(hid a 1 1) 2
m f@x.org
s a 1" ]
	# the email a 1 no longer has is no key of its id any more
	[ "$(grep -c -x 'm e@x.org' "$T/map")" -eq 1 ]
	[ "$(grep -A3 -x "+ $id 1" "$T/map")" = "+ $id 1
m e@x.org
s b 2
s c 3" ]
}

@test "a split of two equal parts: the one whose source key is smaller keeps the id" {
	{ rec b 2 ',"email":"e@x.org"'; rec a 1 ',"email":"e@x.org"'; } >"$T/n1"
	night "$T/n1"
	[ "$(id_of b 2)" = "$(hid a 1)" ]
	{ rec b 2 ',"email":"g@x.org"'; rec a 1 ',"email":"e@x.org"'; } >"$T/n2"
	night "$T/n2"
	[ "$(id_of a 1)" = "$(hid a 1)" ]
	[ "$(id_of b 2)" = "$(hid b 2)" ] # its rule id was never issued: no variant needed
}

@test "memberships point to the id the map kept" {
	rec zeta 1 ',"email":"kim@x.org"' >"$T/n1"
	night "$T/n1"
	{ rec zeta 1 ',"email":"kim@x.org"'; rec alpha 9 ',"email":"kim@x.org"'
	  echo '{"type":"RECORD","stream":"memberships","record":{"source":"alpha","group_id":"g-1","person_id":"9","role":"student"}}'
	} >"$T/n2"
	night "$T/n2"
	[ "$(jq -r 'select(.stream == "memberships") | .record | "\(.person_id) \(.person_source_id)"' "$T/out")" = \
		"$(hid zeta 1) 9" ]
}

@test "an employee_id and a sis_id of one value are two keys; odd bytes in a value round-trip" {
	{ rec a 1 ',"employee_id":"5"'; rec b 1 ',"sis_id":"5"'; rec c 'x y\\z' ',"email":"Q\\R@x.org"'; } >"$T/n1"
	night "$T/n1"
	[ "$(jq -s '[.[] | select(.type == "RECORD")] | length' "$T/out")" -eq 3 ]
	grep -qx 'e 5' "$T/map"
	grep -qx 'i 5' "$T/map"
	grep -qxF 's c x\x20y\x5cz' "$T/map"
	grep -qxF 'm q\x5cr@x.org' "$T/map"
	# next night c joins a person that sorts first: the map still knows c
	{ rec c 'x y\\z' ',"email":"q\\r@x.org"'; rec 0 0 ',"email":"q\\r@x.org"'; } >"$T/n2"
	night "$T/n2"
	[ "$(id_of 0 0)" = "$(hid c 'x y\z')" ]
}

@test "the same records and the same map: the same bytes in any order of the records, the same ids in any order of the files" {
	{ rec clever t1 ',"email":"a@x.org","sis_id":"1"'; rec clever t2 ',"email":"b@x.org"'
	  rec clever t3 ',"email":"c@x.org"'; rec clever t4 ',"sis_id":"4"'; } >"$T/c1"
	{ rec graph u1 ',"email":"A@x.org"'; rec graph u3 ',"email":"C@x.org"'; } >"$T/g1"
	night "$T/c1" "$T/g1"
	cp "$T/map" "$T/map1"
	# tonight: t2 and t3 merge by an employee_id (the smaller id of night 1
	# wins), t1 and u1 split (t1 keeps the id), t5 is new
	{ rec clever t1 ',"email":"z@x.org","sis_id":"1"'; rec clever t2 ',"email":"b@x.org","employee_id":"E"'
	  rec clever t3 ',"email":"c@x.org","employee_id":"E"'; rec clever t4 ',"sis_id":"4"'
	  rec clever t5 ',"email":"e@x.org"'; } >"$T/c2"
	{ rec graph u1 ',"email":"A@x.org"'; rec graph u3 ',"email":"C@x.org"'; } >"$T/g2"
	night "$T/c2" "$T/g2"
	cp "$T/out" "$T/out.a"
	cp "$T/map" "$T/map.a"
	[ "$(ids_line)" = "ids (night 2): 3 kept, 1 new, 1 split off; 1 merged into an older id (aliases recorded)" ]

	tac "$T/c2" >"$T/c2r"
	tac "$T/g2" >"$T/g2r"
	cp "$T/map1" "$T/map"
	night "$T/c2r" "$T/g2r"
	cmp "$T/out.a" "$T/out"
	cmp "$T/map.a" "$T/map"

	cp "$T/map1" "$T/map"
	night "$T/g2r" "$T/c2"
	cmp "$T/map.a" "$T/map"
	persons() {
		jq -c 'select(.type == "RECORD") | .record | [.id, .sources]' "$1"
	}
	diff <(persons "$T/out.a") <(persons "$T/out")
}

@test "a map that is not whole or not a map: exit 1 naming MAP:line, no people written, no new map" {
	rec a 1 >"$T/in"
	check() { # MAP-TEXT EXPECTED-MESSAGE
		printf '%s' "$1" >"$T/map"
		run "$ROSTER_BIN/dedupe" --ids "$T/map" --ids-out "$T/map.new" "$T/in"
		[ "$status" -eq 1 ]
		[ "$output" = "dedupe: error: $T/map:$2" ]
		[ ! -e "$T/map.new" ]
	}
	check $'roster-ids 2\nnight 1\nend\n' '1: id map version 2 is not supported (this dedupe reads version 1)'
	check $'id,source\n' '1: not an id map: the first line is not "roster-ids 1"'
	check '' '1: an empty file, not an id map'
	check $'roster-ids 1\nnights 1\nend\n' '2: the second line is not "night N" (N from 1)'
	check $'roster-ids 1\nnight 1\n+ p-12 1\nend\n' "3: 'p-12' is not an id (p- and 16 lowercase hexadecimal digits)"
	check $'roster-ids 1\nnight 1\n+ p-1111111111111111 2\nend\n' "3: '2' is not a night of this map (1 to the map's night)"
	check $'roster-ids 1\nnight 1\ns a 1\nend\n' '3: a key before any id line'
	check $'roster-ids 1\nnight 1\n+ p-1111111111111111 1\nx 1\nend\n' '4: an unknown line (expected +, =, s, e, i, m or end)'
	check $'roster-ids 1\nnight 1\n+ p-1111111111111111 1\ns a\nend\n' '4: a source key is "s SOURCE SOURCE_ID"'
	check $'roster-ids 1\nnight 1\n+ p-1111111111111111 1\ne a\\q\nend\n' '4: a bad escape (expected \xHH, lowercase hex)'
	check $'roster-ids 1\nnight 1\n+ p-1111111111111111 1\ns a 1\n' '4: the map ends without its last line "end": cut short?'
	check $'roster-ids 1\nnight 1\n+ p-1111111111111111 1\nend\n+ p-2222222222222222 1\n' '5: a line after "end"'
	check $'roster-ids 1\nnight 1\n+ p-1111111111111111 1\ns a 1\n+ p-2222222222222222 1\ns a 1\nend\n' \
		"6: key 's a 1' is listed twice (lines 4 and 6)"
	check $'roster-ids 1\nnight 1\n+ p-1111111111111111 1\n+ p-1111111111111111 1\nend\n' \
		'4: id p-1111111111111111 is listed twice (lines 3 and 4)'
	check $'roster-ids 1\nnight 1\n= p-1111111111111111 1 p-2222222222222222\nend\n' \
		'3: an alias of p-2222222222222222, an id the map does not hold'
	check $'roster-ids 1\nnight 1\n= p-1111111111111111 1 p-2222222222222222\n= p-2222222222222222 1 p-1111111111111111\nend\n' \
		'3: aliases that form a cycle'
	check $'roster-ids 1\nnight 1\n= p-1111111111111111 1 p-2222222222222222\ns a 1\n+ p-2222222222222222 1\nend\n' \
		'4: a key after an alias line (an alias has no keys of its own)'
}

@test "a map that cannot be read: exit 1 naming it, nothing written" {
	rec a 1 >"$T/in"
	mkdir "$T/map"
	run "$ROSTER_BIN/dedupe" --ids "$T/map" --ids-out "$T/map.new" "$T/in"
	[ "$status" -eq 1 ]
	[ "$output" = "dedupe: error: $T/map: cannot read the id map: not a regular file" ]
	[ ! -e "$T/map.new" ]
}

@test "--ids without --ids-out, --ids-out without --ids, or both one file: usage errors (exit 2)" {
	rec a 1 >"$T/in"
	run "$ROSTER_BIN/dedupe" --ids "$T/map" "$T/in"
	[ "$status" -eq 2 ]
	[ "${lines[0]}" = "dedupe: error: --ids needs --ids-out NEWFILE: where the updated id map goes" ]
	run "$ROSTER_BIN/dedupe" --ids-out "$T/map.new" "$T/in"
	[ "$status" -eq 2 ]
	[ "${lines[0]}" = "dedupe: error: --ids-out needs --ids FILE: the id map it updates" ]
	run "$ROSTER_BIN/dedupe" --ids "$T/map" --ids-out "$T/map" "$T/in"
	[ "$status" -eq 2 ]
	[ "${lines[0]}" = "dedupe: error: --ids-out must name another file than --ids: the map read stays whole until the caller replaces it" ]
	[ ! -e "$T/map" ]
	[ ! -e "$T/map.new" ]
	no_line -F RECORD <<<"$output"
}

@test "a run that fails writes no new map and leaves one already there alone" {
	rec a 1 >"$T/in"
	night "$T/in"
	cp "$T/map" "$T/map.before"
	echo stale >"$T/map.new"
	{ rec b 1; echo '{"type":"RECORD",'; } >"$T/bad"
	run "$ROSTER_BIN/dedupe" --ids "$T/map" --ids-out "$T/map.new" "$T/bad"
	[ "$status" -eq 1 ]
	[[ "$output" == *"bad:2: not JSON"* ]]
	[ "$(cat "$T/map.new")" = stale ]
	rm "$T/map.new"
	run sh -c '"$1" --ids "$2" --ids-out "$3" "$4" >/dev/full' _ "$ROSTER_BIN/dedupe" "$T/map" "$T/map.new" "$T/in"
	[ "$status" -eq 1 ]
	[[ "$output" == *"writing the output failed: No space left on device"* ]]
	[ ! -e "$T/map.new" ]
	cmp "$T/map" "$T/map.before"
	# and a new map that cannot be written fails the run, naming it
	run "$ROSTER_BIN/dedupe" --ids "$T/map" --ids-out "$T/none/map.new" "$T/in"
	[ "$status" -eq 1 ]
	[[ "$output" == *"dedupe: error: the id map was not written to $T/none/map.new"* ]]
	[ ! -e "$T/none" ]
	[ -z "$(ls -A "$T" | grep '\.tmp\.')" ]
}

@test "a people record without source_id (exit 3): the merged output is written, and so is the map" {
	run "$ROSTER_BIN/dedupe" --ids "$T/map" --ids-out "$T/map.new" "$BATS_TEST_DIRNAME/data/dedupe/no-source-id.ndjson"
	[ "$status" -eq 3 ]
	grep -qx '+ p-ba44ffde50019cb7 1' "$T/map.new"
}
