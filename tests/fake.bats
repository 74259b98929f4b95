#!/usr/bin/env bats
# The fake Clever server itself: envelope, paging links, limits, auth,
# rate-limit headers, scripted replies and the request log.

load fake/fake

TOKEN=3f8e2a1c9b7d5e4f6a0c2b8d1e3f5a7c9b1d3e5f

start_fake() { # [case file]
	T=$(mktemp -d)
	fake_launch "$T" --personality clever --data fixtures/clever ${1:+--case "$1"}
}

teardown() {
	[ -n "${FAKE_PID:-}" ] && kill "$FAKE_PID" 2>/dev/null
	rm -rf "$T"
}

get() { # path: body on stdout, status in $T/status
	curl -s -o "$T/body" -w '%{http_code}' -H "Authorization: Bearer $TOKEN" "$B$1" >"$T/status"
	cat "$T/body"
}

@test "token list needs Basic auth; a wrong secret gets 401 invalid_client" {
	start_fake
	run curl -s -u demo-client-id:demo-secret-4b9e7d21c0 "$B/oauth/tokens?owner_type=district"
	[ "$(echo "$output" | jq -r '.data[0].access_token')" = "$TOKEN" ]
	[ "$(echo "$output" | jq -r '.links[0].uri')" = "/oauth/tokens?owner_type=district" ]
	run curl -s -w ' %{http_code}' -u demo-client-id:wrong "$B/oauth/tokens?owner_type=district"
	[[ "$output" == *'"error": "invalid_client"'*' 401' ]]
	run curl -s -u multi-client-id:multi-secret-8c1f0a \
		"$B/oauth/tokens?owner_type=district&district=5e9d3f1a7c2b4e0011d40001"
	[ "$(echo "$output" | jq '.data | length')" -eq 1 ]
}

@test "double-nested envelope, ascending ids, relative links, no next on the last page" {
	start_fake
	get '/v3.0/users?role=teacher&limit=4' >"$T/p1"
	[ "$(cat "$T/status")" = 200 ]
	[ "$(jq -r '.data[0].uri' "$T/p1")" = "/v3.0/users/$(jq -r '.data[0].data.id' "$T/p1")" ]
	ids=$(jq -r '.data[].data.id' "$T/p1")
	[ "$ids" = "$(echo "$ids" | sort)" ]
	next=$(jq -r '.links[] | select(.rel == "next") | .uri' "$T/p1")
	[ "$next" = "/v3.0/users?role=teacher&limit=4&starting_after=64e1a0d37c2b4e0013a10004" ]
	[ -z "$(jq -r '.links[] | select(.rel == "prev") | .uri' "$T/p1")" ]
	get "$next" >"$T/p2"
	[ "$(jq -r '.links[] | select(.rel == "prev") | .uri' "$T/p2")" = \
		"/v3.0/users?role=teacher&limit=4&ending_before=64e1a0d37c2b4e0013a10005" ]
	get '/v3.0/users?role=teacher&limit=4&starting_after=64e1a0d37c2b4e0013a10008' >"$T/p3"
	[ "$(jq '.data | length' "$T/p3")" -eq 2 ]
	[ "$(jq '[.links[] | select(.rel == "next")] | length' "$T/p3")" -eq 0 ]
}

@test "role queries: a multi-role user is in each role and once in /users" {
	start_fake
	[ "$(get '/v3.0/users?role=teacher&limit=10000' | jq '.data | length')" -eq 10 ]
	[ "$(get '/v3.0/users?role=staff&limit=10000' | jq '.data | length')" -eq 4 ]
	[ "$(get '/v3.0/users?role=district_admin' | jq -r '.data[0].data.roles | keys[0]')" = district_admin ]
	get '/v3.0/users?limit=10000' >"$T/all"
	[ "$(jq '.data | length' "$T/all")" -eq 45 ]
	[ "$(jq '[.data[].data | select(.roles.teacher and .roles.staff)] | length' "$T/all")" -eq 1 ]
}

@test "limit: default 100, 10000 allowed, 10001 is 413" {
	start_fake
	get '/v3.0/users?limit=10000' >/dev/null
	[ "$(cat "$T/status")" = 200 ]
	get '/v3.0/users?limit=10001' >/dev/null
	[ "$(cat "$T/status")" = 413 ]
	[ "$(jq -r .message "$T/body")" != null ]
	[ "$(get '/v3.0/users' | jq -r '.links[0].uri')" = /v3.0/users ]
}

@test "data calls need a valid bearer token: 401 with a JSON message" {
	start_fake
	run curl -s -w ' %{http_code}' "$B/v3.0/schools"
	[[ "$output" == '{"message": '*' 401' ]]
	run curl -s -w ' %{http_code}' -H 'Authorization: Bearer nope' "$B/v3.0/schools"
	[[ "$output" == *' 401' ]]
}

@test "rate-limit headers; 429 over the limit with the reset in epoch seconds" {
	echo '{"modes": {"rate_limit": 2}}' >"${BATS_TEST_TMPDIR}/case.json"
	ROSTER_FAKE_CLOCK=1700000000:1 start_fake "${BATS_TEST_TMPDIR}/case.json"
	run curl -s -D - -o /dev/null -H "Authorization: Bearer $TOKEN" "$B/v3.0/terms"
	[[ "$output" == *"X-RateLimit-Remaining: 1"* ]]
	[[ "$output" == *"X-RateLimit-Reset: 1700000040"* ]]
	curl -s -o /dev/null -H "Authorization: Bearer $TOKEN" "$B/v3.0/terms"
	run curl -s -D - -H "Authorization: Bearer $TOKEN" "$B/v3.0/terms"
	[[ "$output" == *"HTTP/1.1 429"* ]]
	[[ "$output" == *"X-RateLimit-Remaining: 0"* ]]
	[[ "$output" == *"X-RateLimit-Reset: 1700000040"* ]]
	[[ "$output" != *"Retry-After"* ]]
}

@test "scripted replies in order, then the normal answer; html_errors mode" {
	cat >"${BATS_TEST_TMPDIR}/case.json" <<-'EOF'
	{"modes": {"html_errors": true},
	 "rules": [{"path": "/v3.0/terms", "replies": [{"status": 503, "body": "down", "repeat": 2}]}]}
	EOF
	start_fake "${BATS_TEST_TMPDIR}/case.json"
	get /v3.0/terms >/dev/null
	get /v3.0/terms >/dev/null
	[ "$(cat "$T/status")" = 503 ]
	[ "$(get /v3.0/terms | jq '.data | length')" -eq 2 ]
	run curl -s -w ' %{http_code}' "$B/v3.0/terms"
	[[ "$output" == '<!DOCTYPE html>'*' 401' ]]
}

@test "a cut reply announces more than it sends" {
	echo '{"rules": [{"path": "/v3.0/schools", "replies": [{"pass": true, "cut": 100}]}]}' \
		>"${BATS_TEST_TMPDIR}/case.json"
	start_fake "${BATS_TEST_TMPDIR}/case.json"
	run curl -s -H "Authorization: Bearer $TOKEN" "$B/v3.0/schools"
	[ "$status" -eq 18 ] # curl: partial file
	[ "${#output}" -eq 100 ]
	[ "$(get /v3.0/schools | jq '.data | length')" -eq 4 ]
}

@test "the request log has one JSON line per request with query and lower-case headers" {
	start_fake
	get '/v3.0/users?role=student&limit=5' >/dev/null
	curl -s -o /dev/null -u demo-client-id:x "$B/oauth/tokens?owner_type=district"
	[ "$(wc -l <"$T/log")" -eq 2 ]
	line=$(head -1 "$T/log")
	[ "$(echo "$line" | jq -r '.method + " " + .path')" = "GET /v3.0/users" ]
	[ "$(echo "$line" | jq -c .query)" = '{"role":["student"],"limit":["5"]}' ]
	[ "$(echo "$line" | jq -r .headers.authorization)" = "Bearer $TOKEN" ]
	[[ "$(tail -1 "$T/log" | jq -r .headers.authorization)" == "Basic "* ]]
}
