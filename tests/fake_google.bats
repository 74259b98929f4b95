#!/usr/bin/env bats
# The fake Google Workspace server itself: the service-account token
# endpoint (JWT checks, delegation), the Directory lists (paging, limits,
# fields=, empty lists, org unit types, derived membership) and the error
# shapes and faults its modes produce.

load fake/fake

SA=fixtures/google/service-account.json
ADMIN=sync-admin@mapleridge.example
EPOCH=1700000000

start_fake() { # [modes JSON]: a second call replaces the running fake
	stop_fake
	T=$(mktemp -d)
	printf '{"modes": %s}\n' "${1:-{\}}" >"$T/case.json"
	ROSTER_FAKE_CLOCK=$EPOCH fake_launch "$T" --personality google --data fixtures/google \
		--case "$T/case.json"
}

stop_fake() { # fails when the fake raised an exception (a bug in the fake)
	local crashed=0
	[ -n "${FAKE_PID:-}" ] && kill "$FAKE_PID" 2>/dev/null
	if [ -n "${T:-}" ]; then
		grep -q Traceback "$T/err" && crashed=1 && cat "$T/err" >&2
		rm -rf "$T"
	fi
	FAKE_PID= T=
	[ "$crashed" = 0 ]
}

teardown() {
	stop_fake
}

# jwt [claims JSON to merge (null removes)] [header JSON]: a signed assertion
jwt() {
	/usr/bin/python3 - "$SA" "$EPOCH" "${1:-{\}}" "${2:-}" <<'EOF'
import json, sys, jwt
sa = json.load(open(sys.argv[1]))
t = int(sys.argv[2])
claims = {"iss": sa["client_email"], "sub": "sync-admin@mapleridge.example",
          "scope": " ".join("https://www.googleapis.com/auth/admin.directory." + s for s in
                            ("user.readonly", "group.readonly", "group.member.readonly",
                             "orgunit.readonly")),
          "aud": sa["token_uri"], "iat": t, "exp": t + 3600}
claims.update(json.loads(sys.argv[3]))
claims = {k: v for k, v in claims.items() if v is not None}
header = json.loads(sys.argv[4]) if sys.argv[4] else {"kid": sa["private_key_id"]}
print(jwt.encode(claims, sa["private_key"], algorithm="RS256", headers=header))
EOF
}

token_req() { # assertion [path]: body on stdout, status in $T/status
	curl -s -o "$T/body" -w '%{http_code}' --data-urlencode \
		"grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer" \
		--data-urlencode "assertion=$1" "$B${2:-/token}" >"$T/status"
	cat "$T/body"
}

token() { # [claims JSON]: an access token
	token_req "$(jwt "${1:-{\}}")" | jq -r .access_token
}

get() { # path [token]: body on stdout, status in $T/status, headers in $T/headers
	curl -s -D "$T/headers" -o "$T/body" -w '%{http_code}' \
		-H "Authorization: Bearer ${2:-$TOK}" "$B$1" >"$T/status"
	cat "$T/body"
}

code() { cat "$T/status"; }

jqo() { echo "$output" | jq -r "$@"; } # jq on the last run's output

@test "token: a good assertion on any of the three paths gets a ya29 token for an hour" {
	start_fake
	for p in /token /oauth2/v4/token /o/oauth2/token; do
		run token_req "$(jwt)" "$p"
		[ "$(code)" = 200 ]
		[[ "$(jqo .access_token)" == ya29.c.* ]]
		[ "$(jqo .expires_in)" = 3599 ]
		[ "$(jqo .token_type)" = Bearer ]
	done
}

@test "token: only the jwt-bearer grant; a token path can be switched off" {
	start_fake '{"token_paths": ["/o/oauth2/token"]}'
	run curl -s -w ' %{http_code}' -d grant_type=client_credentials -d client_id=x "$B/o/oauth2/token"
	[[ "$output" == *'"unsupported_grant_type"'*' 400' ]]
	run token_req "$(jwt)" /token
	[ "$(code)" = 404 ]
}

@test "token: signature, kid and iss are checked" {
	start_fake
	a=$(jwt)
	run token_req "${a%??????}AAAAAA"
	[ "$(code)" = 400 ]
	[ "$(jqo .error_description)" = "Invalid JWT Signature." ]
	run token_req "$(jwt '{}' '{"kid": "0d3b5f7a9c1e2b4d6f8a0c2e4b6d8f0a1c3e5b7d"}')"
	[ "$(jqo .error_description)" = "Invalid JWT Signature." ]
	run token_req "$(jwt '{}' '{}')" # no kid: verified with the key
	[ "$(code)" = 200 ]
	run token_req "$(jwt '{"iss": "someone@other.iam.gserviceaccount.com"}')"
	[ "$(jqo .error)" = invalid_grant ]
	[[ "$(jqo .error_description)" == *"account not found"* ]]
}

@test "token: aud, iat, exp and the one-hour limit against the fake clock" {
	start_fake
	run token_req "$(jwt '{"aud": "https://www.googleapis.com/oauth2/v4/token"}')"
	[[ "$(jqo .error_description)" == *"audience"* ]]
	for c in '{"exp": 1700003601}' '{"iat": 1700000500, "exp": 1700004000}' \
		'{"iat": 1699990000, "exp": 1699993600}' '{"iat": 1700000000.5}'; do
		run token_req "$(jwt "$c")"
		[ "$(code)" = 400 ]
		[[ "$(jqo .error_description)" == "Invalid JWT: Token must be a short-lived token (60 minutes)"* ]]
	done
	run token_req "$(jwt '{"iat": 1700000100, "exp": 1700003700}')" # within the skew
	[ "$(code)" = 200 ]
}

@test "token: sub, scopes and the delegation allow-list" {
	start_fake
	run token_req "$(jwt '{"sub": "nobody@mapleridge.example"}')"
	[ "$(code)" = 400 ]
	[ "$(jqo .error_description)" = "Invalid email or User ID" ]
	run token_req "$(jwt '{"scope": "https://www.googleapis.com/auth/admin.directory.user"}')"
	[ "$(code)" = 401 ]
	[ "$(jqo .error)" = unauthorized_client ]
	[[ "$(jqo .error_description)" == "Client is unauthorized to retrieve access tokens"* ]]
	run token_req "$(jwt '{"scope": null}')"
	[ "$(jqo .error)" = invalid_scope ]
	run token_req "$(jwt '{"scope": "https://www.googleapis.com/auth/admin.directory.user.readonly"}')"
	[ "$(code)" = 200 ] # a subset of the allow-list
	run token_req "$(jwt '{"sub": null, "scope": "https://www.googleapis.com/auth/cloud-platform"}')"
	[ "$(code)" = 200 ] # no sub: the service account's own token, no delegation involved
}

@test "token: with delegation {} every sub is unauthorized_client" {
	start_fake '{"delegation": {}}'
	run token_req "$(jwt)"
	[ "$(code)" = 401 ]
	[ "$(jqo .error)" = unauthorized_client ]
}

@test "directory: no sub, a non-admin sub and a users-only role get 403 forbidden" {
	start_fake
	run get '/admin/directory/v1/users?customer=my_customer' "$(token '{"sub": null}')"
	[ "$(code)" = 403 ]
	[ "$(jqo '.error.message')" = "Not Authorized to access this resource/api" ]
	[ "$(jqo '.error.errors[0].reason')" = forbidden ]
	run get '/admin/directory/v1/users?customer=my_customer' "$(token '{"sub": "kpark@mapleridge.example"}')"
	[ "$(code)" = 403 ]
	t=$(token '{"sub": "ttran@mapleridge.example"}')
	run get '/admin/directory/v1/users?customer=my_customer' "$t"
	[ "$(code)" = 200 ]
	run get '/admin/directory/v1/groups?customer=my_customer' "$t"
	[ "$(code)" = 403 ]
	run get '/admin/directory/v1/customer/my_customer/orgunits' "$t"
	[ "$(code)" = 403 ]
}

@test "directory: unknown token is 401 authError; a token can stop after N calls" {
	start_fake '{"token_expires_after": 2}'
	run get '/admin/directory/v1/users?customer=my_customer' ya29.c.unknown
	[ "$(code)" = 401 ]
	[ "$(jqo '.error.errors[0].reason')" = authError ]
	[ "$(jqo '.error.status')" = UNAUTHENTICATED ]
	grep -qi '^WWW-Authenticate: Bearer' "$T/headers"
	TOK=$(token)
	get '/admin/directory/v1/groups?customer=my_customer' >/dev/null
	get '/admin/directory/v1/groups?customer=my_customer' >/dev/null
	[ "$(code)" = 200 ]
	get '/admin/directory/v1/groups?customer=my_customer' >/dev/null
	[ "$(code)" = 401 ]
	TOK=$(token) # only the first token was limited
	for _ in 1 2 3; do get '/admin/directory/v1/groups?customer=my_customer' >/dev/null; done
	[ "$(code)" = 200 ]
}

@test "directory: a token without the resource's scope gets 403 insufficientPermissions" {
	start_fake
	TOK=$(token '{"scope": "https://www.googleapis.com/auth/admin.directory.user.readonly"}')
	run get '/admin/directory/v1/groups?customer=my_customer'
	[ "$(code)" = 403 ]
	[ "$(jqo '.error.errors[0].reason')" = insufficientPermissions ]
	[ "$(jqo '.error.details[0].reason')" = ACCESS_TOKEN_SCOPE_INSUFFICIENT ]
}

@test "users: customer or domain required; unknown customer 400; my_customer can fail 404" {
	start_fake
	TOK=$(token)
	run get '/admin/directory/v1/users?maxResults=5'
	[ "$(code)" = 400 ]
	[ "$(jqo '.error.errors[0].reason')" = badRequest ]
	run get '/admin/directory/v1/users?customer=C00000000'
	[ "$(code)" = 400 ]
	run get '/admin/directory/v1/users?customer=C03mr7x2q&prettyPrint=false'
	[ "$(code)" = 200 ]
	[ "$(jqo '.users | length')" = 43 ]
	[ "$(wc -l <"$T/body")" -eq 0 ] # prettyPrint=false: one line, no newline
	run get '/admin/directory/v1/users?domain=mapleridge.example'
	[ "$(jqo '.users | length')" = 15 ]
	run get '/admin/directory/v1/users?domain=otherdistrict.example'
	[ "$(code)" = 403 ]
	start_fake '{"my_customer_not_found": true}'
	TOK=$(token)
	run get '/admin/directory/v1/users?customer=my_customer'
	[ "$(code)" = 404 ]
	[ "$(jqo '.error.message')" = "Domain not found." ]
}

@test "users: paging by token, no nextPageToken on the last page, ordered by email" {
	start_fake
	TOK=$(token)
	q='/admin/directory/v1/users?customer=my_customer&orderBy=email&maxResults=20'
	get "$q" >"$T/p1"
	[ "$(jq '.users | length' "$T/p1")" = 20 ]
	[ "$(jq -r '.users[0].primaryEmail' "$T/p1")" = 2400117@students.mapleridge.example ]
	[ "$(jq -r '.kind' "$T/p1")" = "admin#directory#users" ]
	next=$(jq -r .nextPageToken "$T/p1")
	get "$q&pageToken=$next" >"$T/p2"
	get "$q&pageToken=$(jq -r .nextPageToken "$T/p2")" >"$T/p3"
	[ "$(jq '.users | length' "$T/p3")" = 3 ]
	[ "$(jq 'has("nextPageToken")' "$T/p3")" = false ]
	[ "$(jq -r '.users[-1].primaryEmail' "$T/p3")" = vszabo@mapleridge.example ]
	run get "/admin/directory/v1/groups?customer=my_customer&pageToken=$next"
	[ "$(code)" = 400 ] # a token of another list
}

@test "users: maxResults above 500 is capped, or refused in reject mode" {
	start_fake
	TOK=$(token)
	run get '/admin/directory/v1/users?customer=my_customer&maxResults=600'
	[ "$(code)" = 200 ]
	[ "$(jqo '.users | length')" = 43 ]
	start_fake '{"max_results": "reject"}'
	TOK=$(token)
	run get '/admin/directory/v1/users?customer=my_customer&maxResults=501'
	[ "$(code)" = 400 ]
	[ "$(jqo .error.message)" = "Invalid value '501'. Values must be within the range: [1, 500]" ]
	run get '/admin/directory/v1/groups?customer=my_customer&maxResults=201'
	[ "$(code)" = 400 ]
	run get '/admin/directory/v1/users?customer=my_customer&maxResults=500'
	[ "$(code)" = 200 ]
}

@test "users: fields= without nextPageToken stops paging; projection=basic drops customSchemas" {
	start_fake
	TOK=$(token)
	run get '/admin/directory/v1/users?customer=my_customer&maxResults=5&fields=users(primaryEmail,name/givenName)'
	[ "$(jqo -c 'keys')" = '["users"]' ]
	[ "$(jqo -c '.users[0] | keys')" = '["name","primaryEmail"]' ]
	[ "$(jqo -c '.users[0].name | keys')" = '["givenName"]' ]
	run get '/admin/directory/v1/users?customer=my_customer&maxResults=5&fields=nextPageToken,users/id'
	[ "$(jqo -c 'keys')" = '["nextPageToken","users"]' ]
	run get '/admin/directory/v1/users?customer=my_customer&maxResults=500'
	[ "$(jqo '[.users[] | select(has("customSchemas"))] | length')" = 0 ]
	run get '/admin/directory/v1/users?customer=my_customer&maxResults=500&projection=full'
	[ "$(jqo '[.users[] | select(has("customSchemas"))] | length')" = 8 ]
}

@test "users: showDeleted lists the deleted user; never-logged-in is 1970; ids are strings" {
	start_fake
	TOK=$(token)
	run get '/admin/directory/v1/users?customer=my_customer&showDeleted=true'
	[ "$(jqo '.users[0].primaryEmail')" = plindqvist@mapleridge.example ]
	[ "$(jqo '.users[0].deletionTime')" = 2024-08-29T16:41:07.000Z ]
	run get '/admin/directory/v1/users?customer=my_customer'
	[ "$(jqo '[.users[] | select(.lastLoginTime == "1970-01-01T00:00:00.000Z")] | length')" = 5 ]
	[ "$(jqo '[.users[] | select((.id | type) == "string" and (.id | length) == 21)] | length')" = 43 ]
}

@test "groups: int64 as strings; members: the list key left out when empty" {
	start_fake
	TOK=$(token)
	run get '/admin/directory/v1/groups?customer=my_customer'
	[ "$(jqo -c '[.groups[].directMembersCount]')" = '["8","0","3","29","9"]' ]
	run get '/admin/directory/v1/groups/former-staff@mapleridge.example/members'
	[ "$(code)" = 200 ]
	[ "$(jqo 'has("members")')" = false ]
	run get '/admin/directory/v1/groups/nosuch@mapleridge.example/members'
	[ "$(code)" = 404 ]
}

@test "members: GROUP and CUSTOMER members; includeDerivedMembership flattens nested groups" {
	start_fake
	TOK=$(token)
	run get '/admin/directory/v1/groups/all-staff@mapleridge.example/members'
	[ "$(jqo -c '[.members[].type] | unique')" = '["CUSTOMER","EXTERNAL","GROUP","USER"]' ]
	[ "$(jqo '.members[] | select(.type == "CUSTOMER") | has("email")')" = false ]
	run get '/admin/directory/v1/groups/all-staff@mapleridge.example/members?includeDerivedMembership=true'
	[ "$(jqo '.members | length')" = 16 ]
	[ "$(jqo '[.members[] | select(.type == "GROUP")] | length')" = 0 ]
	[ "$(jqo '[.members[] | select(.email == "abello@mapleridge.example")] | length')" = 1 ]
	run get '/admin/directory/v1/groups/faculty@mapleridge.example/members?includeDerivedMembership=true'
	[ "$(jqo '.members | length')" = 10 ] # an alias is a group key
}

@test "orgunits: children by default, all, allIncludingParent; id: prefix; not paged" {
	start_fake
	TOK=$(token)
	run get '/admin/directory/v1/customer/my_customer/orgunits'
	[ "$(jqo -c '[.organizationUnits[].orgUnitPath]')" = '["/Staff","/Students","/Service Accounts"]' ]
	run get '/admin/directory/v1/customer/my_customer/orgunits?type=all'
	[ "$(jqo '.organizationUnits | length')" = 16 ]
	[ "$(jqo '[.organizationUnits[] | select(.orgUnitId | startswith("id:"))] | length')" = 16 ]
	[ "$(jqo 'has("nextPageToken")')" = false ]
	run get '/admin/directory/v1/customer/C03mr7x2q/orgunits?type=children&orgUnitPath=/Students/Northshore%20High'
	[ "$(jqo '.organizationUnits | length')" = 4 ]
	run get '/admin/directory/v1/customer/my_customer/orgunits?type=allIncludingParent&orgUnitPath=/Service%20Accounts'
	[ "$(jqo -c '[.organizationUnits[].orgUnitPath]')" = '["/Service Accounts"]' ]
	run get '/admin/directory/v1/customer/my_customer/orgunits?type=all&orgUnitPath=/Service%20Accounts'
	[ "$(jqo 'has("organizationUnits")')" = false ]
}

@test "faults: quota shapes without Retry-After, then the normal answer" {
	start_fake '{"faults": [
		{"path": "/admin/directory/v1/users", "error": "userRateLimitExceeded"},
		{"path": "/admin/directory/v1/users", "error": "rateLimitExceeded"},
		{"path": "/admin/directory/v1/users", "error": "resourceExhausted"},
		{"path": "/admin/directory/v1/users", "error": "backendError"}]}'
	TOK=$(token)
	q='/admin/directory/v1/users?customer=my_customer'
	run get "$q"
	[ "$(code)" = 403 ]
	[ "$(jqo -c '.error.errors[0] | [.reason, .domain]')" = '["userRateLimitExceeded","usageLimits"]' ]
	run get "$q"
	[ "$(code)" = 403 ]
	[ "$(jqo -c '.error.errors[0] | [.reason, .domain]')" = '["rateLimitExceeded","usageLimits"]' ]
	[[ "$(jqo .error.message)" == "Quota exceeded for quota metric 'Queries'"*"project_number:482057193642'." ]]
	run get "$q"
	[ "$(code)" = 429 ]
	[ "$(jqo -c '[.error.errors[0].reason, .error.errors[0].domain, .error.status]')" = '["rateLimitExceeded","global","RESOURCE_EXHAUSTED"]' ]
	run get "$q"
	[ "$(code)" = 503 ]
	[ "$(jqo '.error.errors[0].reason')" = backendError ]
	[ -s "$T/headers" ]
	run grep -qi '^Retry-After' "$T/headers"
	[ "$status" -eq 1 ] # no such header (2 would be a headers file that cannot be read)
	run get "$q"
	[ "$(code)" = 200 ]
}

@test "faults: accessNotConfigured in the current, legacy and grpc forms" {
	start_fake '{"faults": [{"error": "accessNotConfigured", "times": "forever"}]}'
	TOK=$(token)
	run get '/admin/directory/v1/customer/my_customer/orgunits'
	[ "$(code)" = 403 ]
	[ "$(jqo .error.status)" = PERMISSION_DENIED ]
	[ "$(jqo '.error.errors[0].reason')" = accessNotConfigured ]
	[[ "$(jqo .error.message)" == "Admin SDK API has not been used in project 482057193642 before or it is disabled."* ]]
	[ "$(jqo '.error.details[] | select(."@type" | endswith("ErrorInfo")) | .reason')" = SERVICE_DISABLED ]
	start_fake '{"error_form": "legacy", "faults": [{"error": "accessNotConfigured", "times": "forever"}]}'
	TOK=$(token)
	run get '/admin/directory/v1/customer/my_customer/orgunits'
	[ "$(jqo -c '.error | keys')" = '["code","errors","message"]' ]
	start_fake '{"error_form": "grpc", "faults": [{"error": "accessNotConfigured", "times": "forever"}]}'
	TOK=$(token)
	run get '/admin/directory/v1/customer/my_customer/orgunits'
	[ "$(jqo -c '.error | keys')" = '["code","details","message","status"]' ]
}

@test "faults: skip lets requests through first; check_jwt refuses what differs" {
	start_fake '{"faults": [{"path": "/admin/directory/v1/groups", "error": "forbidden", "skip": 1}],
		"check_jwt": {"claims": {"sub": "ihalvorsen@mapleridge.example"}}}'
	run token_req "$(jwt)"
	[ "$(code)" = 400 ]
	[[ "$(jqo .error_description)" == 'check_jwt: claim sub is "sync-admin@mapleridge.example"'* ]]
	TOK=$(token '{"sub": "ihalvorsen@mapleridge.example"}')
	get '/admin/directory/v1/groups?customer=my_customer' >/dev/null
	[ "$(code)" = 200 ]
	get '/admin/directory/v1/groups?customer=my_customer' >/dev/null
	[ "$(code)" = 403 ]
	get '/admin/directory/v1/groups?customer=my_customer' >/dev/null
	[ "$(code)" = 200 ]
}

@test "one port with Clever: each vendor answers its own paths" {
	T=$(mktemp -d)
	: >"$T/err"
	ROSTER_FAKE_CLOCK=$EPOCH /usr/bin/python3 tests/fake/fake_vendor.py --personality clever,google \
		--data fixtures/clever,fixtures/google --port-file "$T/port" 2>"$T/err" &
	FAKE_PID=$!
	for _ in $(seq 100); do
		[ -s "$T/port" ] && break
		sleep 0.05
	done
	B="http://127.0.0.1:$(cat "$T/port")"
	TOK=$(token)
	run get '/admin/directory/v1/groups?customer=my_customer'
	[ "$(code)" = 200 ]
	run curl -s -u demo-client-id:demo-secret-4b9e7d21c0 "$B/oauth/tokens?owner_type=district"
	[ "$(jqo '.data | length')" -ge 1 ]
}
