#!/usr/bin/env bats
# The fake Microsoft Graph server itself (tests/fake/graph.py): the token
# endpoint's errors, $select/$top/$count, paging links, mixed members,
# delta rounds, and the modes the cases in tests/cases/graph/ rely on.

load fake/fake

TENANT=mapleridge.onmicrosoft.com
CID=0c9f3a7e-51b2-4d8c-9e6a-7b2d1f4e8a90
SECRET='gR4ph-demo~secret.9Qz'
SCOPE=https://graph.microsoft.com/.default
STAFF=a636f201-e5fc-4258-b428-bcd2a8dfb9e1
STUDENTS=1dcc8b1c-a046-4cb6-8689-794303b9b3fe

start_fake() { # [modes JSON]
	T=$(mktemp -d)
	echo "{\"modes\": ${1:-{\}}}" >"$T/case.json"
	fake_launch "$T" --personality graph --data fixtures/graph --case "$T/case.json"
}

teardown() { # fails when the fake raised an exception (a bug in the fake)
	local crashed=0
	[ -n "${FAKE_PID:-}" ] && kill "$FAKE_PID" 2>/dev/null
	if [ -n "${T:-}" ]; then
		if grep -q Traceback "$T/err"; then
			crashed=1
			cat "$T/err" >&2
		fi
		rm -rf "$T"
	fi
	[ "$crashed" = 0 ]
}

token_req() { # tenant client_id secret [scope]: body in $T/tok, status printed
	curl -s -o "$T/tok" -w '%{http_code}' -X POST "$B/$1/oauth2/v2.0/token" \
		--data-urlencode "client_id=$2" --data-urlencode "client_secret=$3" \
		--data-urlencode "scope=${4:-$SCOPE}" --data-urlencode grant_type=client_credentials
}

token() { # an access token of the roster app
	token_req "$TENANT" "$CID" "$SECRET" >/dev/null
	jq -r .access_token "$T/tok"
}

get() { # path [header]: body on stdout, status in $T/status, headers in $T/headers
	curl -s -D "$T/headers" -o "$T/body" -w '%{http_code}' -H "Authorization: Bearer $TOK" \
		${2:+-H "$2"} "$1" >"$T/status"
	cat "$T/body"
}

@test "token: form fields checked, Microsoft's error bodies and statuses" {
	start_fake
	[ "$(token_req "$TENANT" "$CID" "$SECRET")" = 200 ]
	[ "$(jq -r .token_type "$T/tok")" = Bearer ]
	[ "$(jq .expires_in "$T/tok")" -eq 3599 ]
	[ "$(token_req nowhere.onmicrosoft.com "$CID" "$SECRET")" = 400 ]
	[ "$(jq -r .error "$T/tok")" = invalid_request ]
	[ "$(jq .error_codes[0] "$T/tok")" -eq 90002 ]
	[ "$(token_req "$TENANT" "$CID" wrong)" = 401 ]
	[ "$(jq -r .error "$T/tok")" = invalid_client ]
	[ "$(jq .error_codes[0] "$T/tok")" -eq 7000215 ]
	[ "$(token_req "$TENANT" 11111111-2222-4333-8444-555555555555 "$SECRET")" = 400 ]
	[ "$(jq -r .error "$T/tok")" = unauthorized_client ]
	[[ "$(jq -r .error_description "$T/tok")" == AADSTS700016:* ]]
	[ "$(token_req "$TENANT" "$CID" "$SECRET" User.Read.All)" = 400 ]
	[ "$(jq .error_codes[0] "$T/tok")" -eq 70011 ]
	[ "$(token_req "$TENANT" 3e8a1d57-6b2c-4f0e-9a4d-7c5b3e1f9d28 '0ld-expired~secret.2Hn')" = 401 ]
	[ "$(jq .error_codes[0] "$T/tok")" -eq 7000222 ]
	run curl -s -X POST "$B/$TENANT/oauth2/v2.0/token" -d "client_id=$CID" -d grant_type=client_credentials
	[ "$(echo "$output" | jq .error_codes[0])" -eq 90014 ]
}

@test "token error: timestamp without T, description with CRLF trace lines" {
	start_fake
	token_req "$TENANT" "$CID" wrong >/dev/null
	[[ "$(jq -r .timestamp "$T/tok")" =~ ^[0-9]{4}-[0-9]{2}-[0-9]{2}\ [0-9]{2}:[0-9]{2}:[0-9]{2}Z$ ]]
	jq -e '.error_description | test("\r\nTrace ID: [-0-9a-f]+\r\nCorrelation ID: [-0-9a-f]+\r\nTimestamp: ")' "$T/tok"
	[ "$(jq -r .trace_id "$T/tok")" != null ]
	[ "$(jq -r .correlation_id "$T/tok")" != null ]
}

@test "users: \$select honoured, unknown 400, skills 501, \$top over 999 400, default page 100" {
	start_fake
	TOK=$(token)
	get "$B/v1.0/users?\$select=id,employeeId&\$top=3" >"$T/p"
	[ "$(jq -c '.value[0] | keys' "$T/p")" = '["employeeId","id"]' ]
	[ "$(jq -r '."@odata.context"' "$T/p")" = "$B/v1.0/\$metadata#users(id,employeeId)" ]
	get "$B/v1.0/users?\$top=1" >"$T/p"
	[ "$(jq '.value[0] | has("department")' "$T/p")" = false ]
	[ "$(jq -c '.value[0].businessPhones' "$T/p")" = '["+1 555 010 1007"]' ]
	get "$B/v1.0/users?\$select=id,lastModifiedDateTime" >/dev/null
	[ "$(cat "$T/status")" = 400 ]
	[ "$(jq -r .error.code "$T/body")" = Request_BadRequest ]
	[[ "$(jq -r .error.innerError.date "$T/body")" =~ ^[0-9-]{10}T[0-9:]{8}$ ]]
	[ "$(jq -r '.error.innerError["request-id"]' "$T/body")" = "$(grep -i '^request-id:' "$T/headers" | cut -d' ' -f2 | tr -d '\r')" ]
	get "$B/v1.0/users?\$select=id,skills" >/dev/null
	[ "$(cat "$T/status")" = 501 ]
	get "$B/v1.0/users?\$top=1000" >/dev/null
	[ "$(cat "$T/status")" = 400 ]
	[ "$(jq -r .error.message "$T/body")" = "Invalid page size specified: '1000'. Must be between 1 and 999 inclusive." ]
	[ "$(get "$B/v1.0/users" | jq '.value | length')" -eq 42 ]
	grep -qi '^x-ms-resource-unit: [0-9]' "$T/headers"
}

@test "paging: absolute nextLink on the request's host keeps \$select and \$top; no key on the last page" {
	start_fake
	TOK=$(token)
	next="$B/v1.0/users?\$select=id&\$top=20"
	n=0
	while [ -n "$next" ]; do
		get "$next" >"$T/p"
		n=$((n + 1))
		next=$(jq -r '."@odata.nextLink" // empty' "$T/p")
		[ -z "$next" ] || [[ "$next" == "$B/v1.0/users?\$select=id&\$top=20&\$skiptoken="* ]]
	done
	[ "$n" -eq 3 ]
	[ "$(jq 'has("@odata.nextLink")' "$T/p")" = false ]
	[ "$(jq '.value | length' "$T/p")" -eq 2 ]
}

@test "\$count needs ConsistencyLevel: eventual and answers text/plain" {
	start_fake
	TOK=$(token)
	get "$B/v1.0/users/\$count" >/dev/null
	[ "$(cat "$T/status")" = 400 ]
	[ "$(get "$B/v1.0/users/\$count" 'ConsistencyLevel: eventual')" = 42 ]
	grep -qi '^content-type: text/plain' "$T/headers"
}

@test "members: mixed @odata.type; transitive flattens the nested group once each" {
	start_fake
	TOK=$(token)
	get "$B/v1.0/groups/$STAFF/members?\$select=id,userPrincipalName,displayName,mail" >"$T/p"
	[ "$(jq -c '[.value[]."@odata.type"] | group_by(.) | map({(.[0]): length}) | add' "$T/p")" = \
		'{"#microsoft.graph.device":1,"#microsoft.graph.group":1,"#microsoft.graph.user":6}' ]
	[ "$(jq '[.value[] | select(."@odata.type" == "#microsoft.graph.group") | has("userPrincipalName")][0]' "$T/p")" = false ]
	get "$B/v1.0/groups/$STAFF/transitiveMembers" >"$T/p"
	[ "$(jq '[.value[] | select(."@odata.type" == "#microsoft.graph.user")] | length' "$T/p")" -eq 14 ]
	[ "$(get "$B/v1.0/groups/$STUDENTS/members?\$top=5" | jq '.value | length')" -eq 5 ]
}

@test "permissions: the users-only app gets 403 Authorization_RequestDenied on groups" {
	start_fake
	token_req "$TENANT" 5a2e8c14-7f3b-4e9d-a1c6-3b8f0d2e7a51 'uS3rs-only~secret.4Kd' >/dev/null
	TOK=$(jq -r .access_token "$T/tok")
	get "$B/v1.0/groups" >/dev/null
	[ "$(cat "$T/status")" = 403 ]
	[ "$(jq -r .error.code "$T/body")" = Authorization_RequestDenied ]
	get "$B/v1.0/users?\$select=id" >/dev/null
	[ "$(cat "$T/status")" = 200 ]
}

@test "an expiring token: 401 InvalidAuthenticationToken with WWW-Authenticate after N requests" {
	start_fake '{"token_expires_after": 1}'
	TOK=$(token)
	get "$B/v1.0/groups" >/dev/null
	[ "$(cat "$T/status")" = 200 ]
	get "$B/v1.0/groups" >/dev/null
	[ "$(cat "$T/status")" = 401 ]
	[ "$(jq -r .error.code "$T/body")" = InvalidAuthenticationToken ]
	grep -qi '^www-authenticate: Bearer' "$T/headers"
	TOK=$(token)
	get "$B/v1.0/groups" >/dev/null
	[ "$(cat "$T/status")" = 200 ]
}

@test "throttle mode: 429 with Retry-After and x-ms-throttle headers, then the normal answer" {
	start_fake '{"throttle": [{"path": "/v1.0/groups", "retry_after": 7}]}'
	TOK=$(token)
	get "$B/v1.0/groups" >/dev/null
	[ "$(cat "$T/status")" = 429 ]
	grep -qi '^retry-after: 7' "$T/headers"
	grep -qi '^x-ms-throttle-scope: Tenant_Application/Read/' "$T/headers"
	grep -qi '^x-ms-throttle-information: ResourceUnitLimitExceeded' "$T/headers"
	get "$B/v1.0/groups" >/dev/null
	[ "$(cat "$T/status")" = 200 ]
}

@test "paging modes: foreign host, the same link twice, empty first page" {
	start_fake '{"foreign_next_link": "/v1.0/users", "repeat_next_link": "/v1.0/groups", "empty_first_page": "/v1.0/directory/*"}'
	TOK=$(token)
	[[ "$(get "$B/v1.0/users?\$top=10" | jq -r '."@odata.nextLink"')" == https://graph.elsewhere.example/v1.0/users?* ]]
	l1=$(get "$B/v1.0/groups?\$top=2" | jq -r '."@odata.nextLink"')
	[ "$(get "$l1" | jq -r '."@odata.nextLink"')" = "$l1" ]
	get "$B/v1.0/directory/deletedItems/microsoft.graph.user" >"$T/p"
	[ "$(jq '.value | length' "$T/p")" -eq 0 ]
	[ "$(get "$(jq -r '."@odata.nextLink"' "$T/p")" | jq '.value | length')" -eq 1 ]
}

delta_round() { # first URL [header]: follows the round, objects in $T/round, deltaLink printed
	local next=$1
	: >"$T/round"
	while :; do
		get "$next" "${2:-}" >"$T/p"
		jq -c '.value[]' "$T/p" >>"$T/round"
		next=$(jq -r '."@odata.nextLink" // empty' "$T/p")
		[ -n "$next" ] || break
	done
	jq -r '."@odata.deltaLink"' "$T/p"
}

@test "delta: pages then a deltaLink; the next round has only the changes, @removed and members@delta" {
	start_fake
	TOK=$(token)
	get "$B/v1.0/users/delta?\$top=5" >/dev/null
	[ "$(cat "$T/status")" = 400 ]
	ul=$(delta_round "$B/v1.0/users/delta?\$select=id,displayName,jobTitle")
	[ "$(wc -l <"$T/round")" -eq 42 ]
	[[ "$ul" == "$B/v1.0/users/delta?\$deltatoken="* ]]
	gl=$(delta_round "$B/v1.0/groups/delta?\$select=displayName,description,members")
	[ "$(jq -s 'map(."members@delta" | length) | add' "$T/round")" -eq 48 ]
	delta_round "$ul" >/dev/null
	# Ava Thompson's accountEnabled changed, but it is not selected
	[ "$(wc -l <"$T/round")" -eq 3 ]
	[ "$(jq -s -r 'map(select(."@removed")) | .[0]["@removed"].reason' "$T/round")" = changed ]
	[ "$(jq -s -r 'map(select(.displayName == "Robert Kim")) | .[0].jobTitle' "$T/round")" = "Grade 4 Teacher" ]
	delta_round "$gl" 'Prefer: return=minimal' >/dev/null
	[ "$(wc -l <"$T/round")" -eq 3 ]
	[ "$(jq -s '[.[]."members@delta" // [] | .[] | select(."@removed")] | length' "$T/round")" -eq 1 ]
}

@test "delta_expired: a deltaLink answers 410 with a Location starting a fresh round" {
	start_fake '{"delta_expired": true}'
	TOK=$(token)
	ul=$(delta_round "$B/v1.0/users/delta?\$select=id")
	get "$ul" >/dev/null
	[ "$(cat "$T/status")" = 410 ]
	loc=$(grep -i '^location:' "$T/headers" | cut -d' ' -f2 | tr -d '\r')
	delta_round "$loc" >/dev/null
	[ "$(wc -l <"$T/round")" -eq 42 ]
}
