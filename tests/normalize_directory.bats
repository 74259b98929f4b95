#!/usr/bin/env bats
# normalize: Entra ID (Graph) and Google Workspace raw streams into the
# canonical streams; status and status_reason; guests; role rules (group,
# orgunit, default, their order, invalid rules, members that came
# incomplete); staff and student numbers; Google member types.

load assert

DATA="$BATS_TEST_DIRNAME/data/directory"
GRAPH_RULES='group:All Teachers=teacher; group:staff@mapleridge.example=staff; group:Students=student; default=staff'
GOOGLE_RULES='orgunit:/Students=student; group:teachers@mapleridge.example=teacher; default=staff'

# Maple Ridge people by their Graph and Google ids
G_MARIA=5d0e8c11-7a2b-4c3d-8e9f-1a2b3c4d1007
G_PATRICK=5d0e8c11-7a2b-4c3d-8e9f-1a2b3c4d2210
G_AVA=5d0e8c11-7a2b-4c3d-8e9f-1a2b3c4d8114
G_LIAM=5d0e8c11-7a2b-4c3d-8e9f-1a2b3c4d8121
G_LENA=5d0e8c11-7a2b-4c3d-8e9f-1a2b3c4d9001
G_GARY=5d0e8c11-7a2b-4c3d-8e9f-1a2b3c4d2198
G_VICTOR=5d0e8c11-7a2b-4c3d-8e9f-1a2b3c4d9002
G_DANIEL=5d0e8c11-7a2b-4c3d-8e9f-1a2b3c4d1012
W_MARIA=104729000000000001007
W_THOMAS=104729000000000001008
W_PATRICK=104729000000000002210
W_ROBERT=104729000000000001031
W_JENNIFER=104729000000000001044
W_AVA=104729000000000008114
W_VICTOR=104729000000000009002
W_IRIS=104729000000000009003
W_PAT=104729000000000001052

setup() {
	T=$(mktemp -d)
	N="$ROSTER_BIN/normalize"
}

teardown() {
	rm -rf "$T"
}

# The record with that source_id, as normalize wrote it (key order kept).
record() { # file, stream, source_id
	jq -c --arg s "$2" --arg id "$3" 'select(.type == "RECORD" and .stream == $s and .record.source_id == $id) | .record' "$1"
}

# One field of a person.
field() { # file, source_id, field
	jq -r --arg id "$2" --arg f "$3" 'select(.type == "RECORD" and .stream == "people" and .record.source_id == $id) | .record[$f] // "(absent)"' "$1"
}

# edited IN OUT SED-SCRIPT TEXT...: sed SED-SCRIPT on IN into OUT, checked:
# OUT differs from IN, and each TEXT (a fixed string) was in IN and is gone
# from OUT. A script that matched nothing would leave the input as it was,
# and a test of the unchanged input could pass for the wrong reason.
edited() {
	local in=$1 out=$2 script=$3 text
	shift 3
	sed "$script" "$in" >"$out"
	if cmp -s "$in" "$out"; then
		echo "sed '$script' changed nothing in $in" >&2
		return 1
	fi
	for text in "$@"; do
		if ! grep -qF -- "$text" "$in"; then
			echo "sed '$script': '$text' is not in $in" >&2
			return 1
		fi
		if grep -qF -- "$text" "$out"; then
			echo "sed '$script': '$text' is still in $out" >&2
			return 1
		fi
	done
}

# without IN OUT TEXT: the lines of IN holding TEXT (a fixed string) left
# out, into OUT; checked: IN had such lines, and OUT has the others.
without() {
	local n
	n=$(grep -cF -- "$3" "$1") || [ $? -eq 1 ] # none: the failure below
	if [ "$n" -eq 0 ]; then
		echo "no line of $1 holds '$3'" >&2
		return 1
	fi
	grep -vF -- "$3" "$1" >"$2"
	[ "$(wc -l <"$2")" -eq "$(($(wc -l <"$1") - n))" ]
}

# Runs normalize on the input with the rules; stdout in $T/out, all of it in $output.
run_rules() { # rules, input
	run sh -c "\"$N\" --role-rules \"\$1\" \"\$2\" 2>\"$T/err\" >\"$T/out\"; rc=\$?; cat \"$T/err\"; exit \$rc" sh "$1" "$2"
}

@test "Graph: the whole output for groups, members, users and deleted users, byte for byte" {
	run_rules "$GRAPH_RULES" "$DATA/graph.ndjson"
	[ "$status" -eq 0 ]
	diff -u "$DATA/graph.expected.ndjson" "$T/out"
	[[ "$output" == *"records in: graph_groups 5, graph_group_members 8, graph_users 8, graph_deleted_users 1; records out: people 9, groups 5, memberships 7"* ]]
	jq -s -e '[.[] | select(.type == "RECORD")] | all(.record.source == "graph")' "$T/out"
	[ "$(jq -r 'select(.type == "ACTIVATE_VERSION") | .stream' "$T/out" | tr '\n' ' ')" = "people groups memberships " ]
}

@test "Graph groups: Unified and mail-only are distribution, securityEnabled is security" {
	"$N" "$DATA/graph.ndjson" >"$T/out" 2>/dev/null
	[ "$(record "$T/out" groups a3c1e7d2-5b4f-4e8a-9c21-7d0f3b6e1a01)" = \
		'{"source":"graph","source_id":"a3c1e7d2-5b4f-4e8a-9c21-7d0f3b6e1a01","type":"security","name":"All Teachers"}' ]
	[ "$(record "$T/out" groups a3c1e7d2-5b4f-4e8a-9c21-7d0f3b6e1a02 | jq -r .type)" = security ]
	[ "$(record "$T/out" groups a3c1e7d2-5b4f-4e8a-9c21-7d0f3b6e1a04 | jq -r .type)" = distribution ]
	[ "$(record "$T/out" groups a3c1e7d2-5b4f-4e8a-9c21-7d0f3b6e1a05 | jq -r .type)" = distribution ]
}

@test "Graph members: user members are memberships; a device is left out and counted" {
	run_rules "$GRAPH_RULES" "$DATA/graph.ndjson"
	[ "$status" -eq 0 ]
	[ "$(jq -c 'select(.type == "RECORD" and .stream == "memberships") | .record' "$T/out" | head -1)" = \
		"{\"source\":\"graph\",\"group_id\":\"a3c1e7d2-5b4f-4e8a-9c21-7d0f3b6e1a01\",\"person_id\":\"$G_MARIA\",\"role\":\"member\"}" ]
	no_line -q 'c0ffee00' "$T/out"
	[[ "$output" == *"graph.ndjson:13: graph_group_members: group members that are not users"* ]]
	[[ "$output" == *"left out: 1 group members that are not users"* ]]
}

@test "Graph: accountEnabled false is inactive, disabled in Entra ID" {
	run_rules "$GRAPH_RULES" "$DATA/graph.ndjson"
	[ "$status" -eq 0 ]
	[ "$(field "$T/out" $G_GARY status)" = inactive ]
	[ "$(field "$T/out" $G_GARY status_reason)" = "disabled in Entra ID" ]
	[ "$(field "$T/out" $G_LIAM status_reason)" = "disabled in Entra ID" ]
	[ "$(field "$T/out" $G_MARIA status)" = active ]
	[ "$(field "$T/out" $G_MARIA status_reason)" = "(absent)" ]
}

@test "Graph: a deleted user is inactive with the date; its id-prefixed userPrincipalName is used nowhere" {
	run_rules "$GRAPH_RULES" "$DATA/graph.ndjson"
	[ "$status" -eq 0 ]
	[ "$(record "$T/out" people $G_DANIEL)" = \
		"{\"source\":\"graph\",\"source_id\":\"$G_DANIEL\",\"role\":\"staff\",\"status\":\"inactive\",\"given_name\":\"Daniel\",\"family_name\":\"Moreau\",\"email\":\"dmoreau@mapleridge.example\",\"employee_id\":\"1012\",\"job_title\":\"Music Teacher\",\"department\":\"Bayview Middle\",\"status_reason\":\"deleted in Entra ID on 2026-10-14T16:02:11Z\"}" ]
	no_line -q '1012dmoreau' "$T/out"
	# without mail, a deleted user has no email at all rather than the mangled name
	edited "$DATA/graph.ndjson" "$T/in" 's/"mail":"dmoreau@mapleridge.example",//' '"mail":"dmoreau@mapleridge.example"'
	"$N" "$T/in" >"$T/out2" 2>/dev/null
	[ "$(field "$T/out2" $G_DANIEL email)" = "(absent)" ]
	[ "$(field "$T/out2" $G_DANIEL username)" = "(absent)" ]
	no_line -q '1012dmoreau' "$T/out2"
}

@test "Graph: a deleted user without deletedDateTime is still deleted" {
	edited "$DATA/graph.ndjson" "$T/in" 's/,"deletedDateTime":"2026-10-14T16:02:11Z"//' '"deletedDateTime"'
	"$N" "$T/in" >"$T/out" 2>/dev/null
	[ "$(field "$T/out" $G_DANIEL status_reason)" = "deleted in Entra ID" ]
}

@test "Graph: a guest is role guest whatever the rules, with mail as email, not the #EXT# name" {
	run_rules 'default=teacher' "$DATA/graph.ndjson"
	[ "$status" -eq 0 ]
	[ "$(field "$T/out" $G_LENA role)" = guest ]
	[ "$(field "$T/out" $G_LENA email)" = "lfox@partner.example" ]
	[ "$(field "$T/out" $G_MARIA role)" = teacher ]
	[[ "$output" == *"roles: 8 by default=teacher, 1 guests (userType Guest), 0 by no rule"* ]]
	# a guest without mail has no email
	edited "$DATA/graph.ndjson" "$T/in" 's/"mail":"lfox@partner.example"/"mail":null/' '"mail":"lfox@partner.example"'
	"$N" "$T/in" >"$T/out2" 2>/dev/null
	[ "$(field "$T/out2" $G_LENA email)" = "(absent)" ]
	[ "$(field "$T/out2" $G_LENA role)" = guest ]
}

@test "Graph: email is mail (case kept), else userPrincipalName for members" {
	run_rules "$GRAPH_RULES" "$DATA/graph.ndjson"
	[ "$status" -eq 0 ]
	[ "$(field "$T/out" $G_MARIA email)" = "MDelgado@MapleRidge.example" ]
	[ "$(field "$T/out" $G_MARIA username)" = "mdelgado@mapleridge.example" ]
	[ "$(field "$T/out" $G_AVA email)" = "ava.chen@students.mapleridge.example" ]
}

@test "Graph: a user without accountEnabled gets no status, with a warning, and is counted" {
	edited "$DATA/graph.ndjson" "$T/in" '/"graph_users"/s/"accountEnabled":true,//' '"accountEnabled":true'
	run_rules "$GRAPH_RULES" "$T/in"
	[ "$status" -eq 0 ]
	[ "$(field "$T/out" $G_MARIA status)" = "(absent)" ]
	[ "$(field "$T/out" $G_GARY status)" = inactive ]
	[[ "$output" == *"warning: $T/in:19: graph_users: users without accountEnabled (status left out"* ]]
	[[ "$output" == *"left out: 1 group members that are not users, 6 users without accountEnabled"* ]]
}

@test "students' numbers are student_number and sis_id; everyone else's employee_id" {
	run_rules "$GRAPH_RULES" "$DATA/graph.ndjson"
	[ "$status" -eq 0 ]
	[ "$(record "$T/out" people $G_AVA | jq -c '[.role, .employee_id, .student_number, .sis_id]')" = '["student",null,"2028114","2028114"]' ]
	[ "$(record "$T/out" people $G_PATRICK | jq -c '[.role, .employee_id, .student_number, .sis_id]')" = '["staff","S-2210",null,null]' ]
	run_rules "$GOOGLE_RULES" "$DATA/google.ndjson"
	[ "$status" -eq 0 ]
	[ "$(record "$T/out" people $W_AVA | jq -c '[.role, .employee_id, .student_number, .sis_id]')" = '["student",null,"2028114","2028114"]' ]
	# the organization entry, not the custom one before it
	[ "$(field "$T/out" $W_MARIA employee_id)" = 1007 ]
	# no role: the number stays employee_id
	run_rules 'group:nobody=aide' "$DATA/graph.ndjson"
	[ "$status" -eq 0 ]
	[ "$(record "$T/out" people $G_AVA | jq -c '[.role, .employee_id, .student_number]')" = '[null,"2028114",null]' ]
}

@test "Google: the whole output for org units, groups, members, users and deleted users, byte for byte" {
	run_rules "$GOOGLE_RULES" "$DATA/google.ndjson"
	[ "$status" -eq 0 ]
	diff -u "$DATA/google.expected.ndjson" "$T/out"
	[[ "$output" == *"records in: google_orgunits 6, google_groups 3, google_group_members 7, google_users 8, google_deleted_users 1; records out: orgs 6, people 9, groups 3, memberships 4"* ]]
	jq -s -e '[.[] | select(.type == "RECORD")] | all(.record.source == "google")' "$T/out"
	[ "$(jq -r 'select(.type == "ACTIVATE_VERSION") | .stream' "$T/out" | tr '\n' ' ')" = "orgs people groups memberships " ]
}

@test "Google org units are orgs; users' org_ids are their org unit's id" {
	run_rules "$GOOGLE_RULES" "$DATA/google.ndjson"
	[ "$status" -eq 0 ]
	[ "$(record "$T/out" orgs id:03mr7x2q2c2028)" = \
		'{"source":"google","source_id":"id:03mr7x2q2c2028","type":"orgunit","name":"Class of 2028","identifier":"/Students/Northshore High/Class of 2028","parent_id":"id:03mr7x2q1nshs0"}' ]
	[ "$(record "$T/out" people $W_AVA | jq -c .org_ids)" = '["id:03mr7x2q2c2028"]' ]
	# the root is no org unit of the list: left out, counted
	[ "$(field "$T/out" $W_VICTOR org_ids)" = "(absent)" ]
	[[ "$output" == *"1 people whose org unit is not among the org units read (org_ids left out)"* ]]
	# without the org units, no org_ids at all
	without "$DATA/google.ndjson" "$T/in" '"google_orgunits"'
	"$N" "$T/in" >"$T/out2" 2>/dev/null
	[ "$(jq -s '[.[] | select(.type == "RECORD" and .stream == "people" and .record.org_ids)] | length' "$T/out2")" -eq 0 ]
}

@test "Google: job_title and department from the primary organization, else the first" {
	run_rules "$GOOGLE_RULES" "$DATA/google.ndjson"
	[ "$status" -eq 0 ]
	[ "$(record "$T/out" people $W_MARIA | jq -c '[.job_title, .department]')" = '["Grade 4 Teacher","Alder Creek Elementary"]' ]
	[ "$(record "$T/out" people $W_THOMAS | jq -c '[.job_title, .department]')" = '["Science Teacher","Northshore High"]' ]
	[ "$(record "$T/out" people $W_PATRICK | jq -c '[.job_title, .department]')" = '[null,null]' ]
}

@test "Google: suspended, archived and deleted users are inactive, each with its reason" {
	run_rules "$GOOGLE_RULES" "$DATA/google.ndjson"
	[ "$status" -eq 0 ]
	[ "$(field "$T/out" $W_ROBERT status)" = inactive ]
	[ "$(field "$T/out" $W_ROBERT status_reason)" = "suspended in Google Workspace (ADMIN)" ]
	[ "$(field "$T/out" $W_JENNIFER status)" = inactive ]
	[ "$(field "$T/out" $W_JENNIFER status_reason)" = "archived in Google Workspace" ]
	[ "$(field "$T/out" $W_PAT status)" = inactive ]
	[ "$(field "$T/out" $W_PAT status_reason)" = "deleted in Google Workspace on 2026-10-20T18:44:09.000Z" ]
	[ "$(field "$T/out" $W_PAT email)" = "plindqvist@mapleridge.example" ]
	[ "$(field "$T/out" $W_MARIA status)" = active ]
	[ "$(field "$T/out" $W_MARIA status_reason)" = "(absent)" ]
	# suspended without a reason
	edited "$DATA/google.ndjson" "$T/in" 's/"suspensionReason":"ADMIN",//' '"suspensionReason"'
	"$N" "$T/in" >"$T/out2" 2>/dev/null
	[ "$(field "$T/out2" $W_ROBERT status_reason)" = "suspended in Google Workspace" ]
}

@test "Google members: OWNER is owner, MANAGER and MEMBER member; GROUP, CUSTOMER and EXTERNAL are counted, not written" {
	run_rules "$GOOGLE_RULES" "$DATA/google.ndjson"
	[ "$status" -eq 0 ]
	[ "$(jq -c 'select(.type == "RECORD" and .stream == "memberships") | .record | [.person_id, .role]' "$T/out" | tr '\n' ' ')" = \
		"[\"$W_MARIA\",\"owner\"] [\"$W_THOMAS\",\"member\"] [\"$W_PATRICK\",\"member\"] [\"$W_AVA\",\"member\"] " ]
	no_line -q -e 03mr7x2q1coach9 -e '"person_id":"C03mr7x2q"' -e 117700000000000000042 "$T/out"
	[[ "$output" == *"1 group members that are groups"*", 1 group members of type CUSTOMER"*", 1 group members of type EXTERNAL"* ]]
	# expected kinds: no warning for them
	[[ "$output" != *"warning"* ]]
}

@test "role rules: a group matches by name, email or id, ASCII case ignored" {
	for g in 'all teachers' 'ALL TEACHERS' 'a3c1e7d2-5b4f-4e8a-9c21-7d0f3b6e1a01'; do
		run_rules "group:$g=aide" "$DATA/graph.ndjson"
		[ "$status" -eq 0 ]
		[ "$(field "$T/out" $G_MARIA role)" = aide ]
		[ "$(field "$T/out" $G_PATRICK role)" = "(absent)" ]
	done
	run_rules 'group:Staff@MapleRidge.example=staff' "$DATA/graph.ndjson"
	[ "$status" -eq 0 ]
	[ "$(field "$T/out" $G_PATRICK role)" = staff ]
	run_rules 'group:STUDENTS@mapleridge.example=student' "$DATA/google.ndjson"
	[ "$status" -eq 0 ]
	[ "$(field "$T/out" $W_AVA role)" = student ]
}

@test "role rules: the first matching rule wins; swapping two rules swaps the role" {
	# Maria is in All Teachers and in Maple Ridge Staff
	run_rules 'group:All Teachers=teacher; group:Maple Ridge Staff=staff' "$DATA/graph.ndjson"
	[ "$status" -eq 0 ]
	[ "$(field "$T/out" $G_MARIA role)" = teacher ]
	[ "$(field "$T/out" $G_PATRICK role)" = staff ]
	run_rules 'group:Maple Ridge Staff=staff; group:All Teachers=teacher' "$DATA/graph.ndjson"
	[ "$status" -eq 0 ]
	[ "$(field "$T/out" $G_MARIA role)" = staff ]
	# an orgunit rule before a group rule
	run_rules 'orgunit:/Staff/Alder Creek Elementary=aide; group:teachers=teacher' "$DATA/google.ndjson"
	[ "$status" -eq 0 ]
	[ "$(field "$T/out" $W_MARIA role)" = aide ]
	[ "$(field "$T/out" $W_THOMAS role)" = teacher ]
	run_rules 'group:teachers=teacher; orgunit:/Staff/Alder Creek Elementary=aide' "$DATA/google.ndjson"
	[ "$status" -eq 0 ]
	[ "$(field "$T/out" $W_MARIA role)" = teacher ]
}

@test "role rules: orgunit matches the unit and below it, not a name that merely starts the same" {
	run_rules 'orgunit:/Students=student; orgunit:/staff/=staff' "$DATA/google.ndjson"
	[ "$status" -eq 0 ]
	[ "$(field "$T/out" $W_AVA role)" = student ]            # /Students/Northshore High/Class of 2028
	[ "$(field "$T/out" $W_IRIS role)" = "(absent)" ]        # /Student Teachers
	[ "$(field "$T/out" $W_MARIA role)" = staff ]            # /Staff/Alder Creek Elementary
	[ "$(field "$T/out" $W_PATRICK role)" = staff ]          # /Staff
	[ "$(field "$T/out" $W_VICTOR role)" = "(absent)" ]      # /
	[[ "$output" == *"2 people no role rule matched (role left out)"* ]]
	run_rules 'orgunit:/=aide' "$DATA/google.ndjson"
	[ "$status" -eq 0 ]
	[ "$(field "$T/out" $W_VICTOR role)" = aide ]
	# Graph users have no org unit
	run_rules 'orgunit:/=aide' "$DATA/graph.ndjson"
	[ "$status" -eq 0 ]
	[ "$(field "$T/out" $G_MARIA role)" = "(absent)" ]
}

@test "role rules: default gives the rest a role; the summary counts each rule" {
	run_rules "$GRAPH_RULES" "$DATA/graph.ndjson"
	[ "$status" -eq 0 ]
	[ "$(field "$T/out" $G_VICTOR role)" = staff ]
	[[ "$output" == *"roles: 2 by group:All Teachers=teacher, 1 by group:staff@mapleridge.example=staff, 2 by group:Students=student, 3 by default=staff, 1 guests (userType Guest), 0 by no rule;"* ]]
	[[ "$output" != *"matched nobody"* ]]
}

@test "role rules: without rules the role is left out, with one warning" {
	run sh -c "\"$N\" \"$DATA/google.ndjson\" 2>&1 >\"$T/out\""
	[ "$status" -eq 0 ]
	[ "$(jq -s '[.[] | select(.type == "RECORD" and .stream == "people" and (.record | has("role")))] | length' "$T/out")" -eq 0 ]
	[ "$(printf '%s\n' "$output" | grep -c 'people without a role: no --role-rules given')" -eq 2 ] # the warning and the summary
	[[ "$output" == *"9 people without a role: no --role-rules given (role left out)"* ]]
}

@test "role rules: a rule that matched nobody is warned about" {
	run_rules 'group:Studnets=student; orgunit:/Nowhere=aide; default=staff' "$DATA/google.ndjson"
	[ "$status" -eq 0 ]
	[[ "$output" == *"warning: --role-rules: group:Studnets=student matched nobody"* ]]
	[[ "$output" == *"warning: --role-rules: orgunit:/Nowhere=aide matched nobody"* ]]
	[[ "$output" != *"default=staff matched nobody"* ]]
}

@test "role rules that are not valid stop the run with exit 2, naming the rule" {
	bad() { # rules, expected message
		run "$N" --role-rules "$1" "$DATA/graph.ndjson"
		[ "$status" -eq 2 ]
		[[ "$output" == *"error: --role-rules: $2"* ]]
		[[ "$output" != *'{"type"'* ]]
	}
	bad 'group:All Teachers=teacher; group:Students' '"group:Students" has no =ROLE'
	bad 'group:All Teachers=teachers' '"group:All Teachers=teachers": unknown role "teachers" (student, teacher, staff, administrator or aide)'
	bad 'grp:All Teachers=teacher' '"grp:All Teachers=teacher": unknown kind "grp"'
	bad 'group:=teacher' '"group:=teacher" names no group'
	bad 'orgunit:Students=student' '"orgunit:Students=student": an org unit path starts with /'
	bad 'default=staff; group:Students=student' '"group:Students=student" follows default='
	bad 'default:x=staff' '"default:x=staff": default takes no match'
	bad 'student' '"student" has no =ROLE'
	bad ' ; ' 'no rule given'
	bad 'default=guest' '"default=guest": unknown role "guest"'
}

@test "role rules: blanks around rules and parts are ignored; a trailing ; is fine" {
	run_rules ' group: All Teachers = teacher ;default=aide; ' "$DATA/graph.ndjson"
	[ "$status" -eq 0 ]
	[ "$(field "$T/out" $G_MARIA role)" = teacher ]
	[ "$(field "$T/out" $G_PATRICK role)" = aide ]
}

@test "group rules when the members stream came incomplete: a warning, rules before the first group rule only, no default role" {
	without "$DATA/graph.ndjson" "$T/in" '"ACTIVATE_VERSION","stream":"graph_group_members"'
	run_rules "$GRAPH_RULES" "$T/in"
	[ "$status" -eq 0 ]
	[[ "$output" == *"warning: $T/in:18: graph_users: users given no role by group rules: graph_group_members was not read completely (no ACTIVATE_VERSION) before the first user"* ]]
	# not default=staff: a teacher or a student would get a wrong role
	[ "$(field "$T/out" $G_MARIA role)" = "(absent)" ]
	[ "$(field "$T/out" $G_AVA role)" = "(absent)" ]
	[ "$(field "$T/out" $G_LENA role)" = guest ]
	[[ "$output" == *"8 users given no role by group rules"* ]]
	[[ "$output" == *"memberships: not marked complete: graph_group_members has no ACTIVATE_VERSION"* ]]
	# the silent zero counts of group rules are not warned about again
	[[ "$output" != *"matched nobody"* ]]
	# Google the same way; its orgunit rule still applies
	without "$DATA/google.ndjson" "$T/in" '"ACTIVATE_VERSION","stream":"google_group_members"'
	run_rules "$GOOGLE_RULES" "$T/in"
	[ "$status" -eq 0 ]
	[[ "$output" == *"google_users: users given no role by group rules: google_group_members was not read completely"* ]]
	[ "$(field "$T/out" $W_AVA role)" = student ]
	[ "$(field "$T/out" $W_MARIA role)" = "(absent)" ]
}

@test "group rules when the members come after the users: a warning, and no group roles" {
	without "$DATA/graph.ndjson" "$T/in" '"graph_group_members"'
	grep -F '"graph_group_members"' "$DATA/graph.ndjson" >>"$T/in"
	# the members came before the first user, and now after the last one
	first_user() { grep -n '"stream":"graph_users"' "$1" | head -1 | cut -d: -f1; }
	[ "$(grep -n '"graph_group_members"' "$DATA/graph.ndjson" | head -1 | cut -d: -f1)" -lt "$(first_user "$DATA/graph.ndjson")" ]
	[ "$(grep -n '"graph_group_members"' "$T/in" | head -1 | cut -d: -f1)" -gt "$(grep -n '"stream":"graph_users"' "$T/in" | tail -1 | cut -d: -f1)" ]
	run_rules "$GRAPH_RULES" "$T/in"
	[ "$status" -eq 0 ]
	[[ "$output" == *"graph_users: users given no role by group rules: graph_group_members was not read completely"* ]]
	[ "$(field "$T/out" $G_MARIA role)" = "(absent)" ]
	# without group rules nothing is said
	run_rules 'default=staff' "$T/in"
	[ "$status" -eq 0 ]
	[[ "$output" != *"users given no role by group rules"* ]]
}

@test "group rules when the groups came incomplete: members are still matched by group id, with a warning" {
	without "$DATA/graph.ndjson" "$T/in" '"graph_groups"'
	run_rules 'group:a3c1e7d2-5b4f-4e8a-9c21-7d0f3b6e1a03=student; group:All Teachers=teacher' "$T/in"
	[ "$status" -eq 0 ]
	[[ "$output" == *"warning: $T/in:2: graph_group_members: group members read before graph_groups was complete (group rules by name or email may miss their groups)"* ]]
	[ "$(field "$T/out" $G_AVA role)" = student ]
	[ "$(field "$T/out" $G_MARIA role)" = "(absent)" ]
}

@test "a record without an id or group_id is an error naming its line" {
	edited "$DATA/graph.ndjson" "$T/in" '9s/"group_id":"[^"]*"/"gid":"x"/; 19s/"id":"[^"]*",//'
	# line 9 a member without group_id, line 19 a user without id
	sed -n 9p "$DATA/graph.ndjson" | grep -q '"stream":"graph_group_members".*"group_id":'
	sed -n 9p "$T/in" | no_line -q '"group_id"'
	sed -n 19p "$DATA/graph.ndjson" | grep -q '"stream":"graph_users","record":{"id":'
	sed -n 19p "$T/in" | no_line -q '"record":{"id":'
	run "$N" "$T/in"
	[ "$status" -eq 3 ]
	[[ "$output" == *"$T/in:9: graph_group_members record not mapped: it has no \"group_id\"; memberships will not be marked complete"* ]]
	[[ "$output" == *"$T/in:19: graph_users record not mapped: it has no \"id\"; people will not be marked complete"* ]]
	[[ "$output" == *'"ACTIVATE_VERSION","stream":"groups"'* ]]
	[[ "$output" != *'"ACTIVATE_VERSION","stream":"people"'* ]]
}

@test "an unknown stream of a known source lists that source's streams" {
	printf '%s\n' '{"type":"RECORD","stream":"google_user","record":{"id":"1"}}' >"$T/in"
	run "$N" "$T/in"
	[ "$status" -eq 3 ]
	[[ "$output" == *'unknown stream "google_user": its messages are not mapped (known: google_orgunits, google_groups, google_group_members, google_users, google_deleted_users)'* ]]
	printf '%s\n' '{"type":"RECORD","stream":"okta_users","record":{"id":"1"}}' >"$T/in"
	run "$N" "$T/in"
	[ "$status" -eq 3 ]
	[[ "$output" == *"(known: clever_users, "*", graph_groups, "*", google_deleted_users, munis_employees, frontline_absences, "*", sds_enrollments)"* ]]
}

@test "--help names --role-rules and the directory streams" {
	run "$N" --help
	[ "$status" -eq 0 ]
	[[ "$output" == *"--role-rules RULES"* ]]
	[[ "$output" == *"graph_deleted_users"* ]]
	[[ "$output" == *"google_orgunits"* ]]
}
