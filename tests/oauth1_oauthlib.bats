#!/usr/bin/env bats
# OAuth 1.0a signing (lib/auth/oauth1) checked by an implementation we did
# not write: our signer (tests/unit/test_oauth1.c, "sign" mode) signs
# OneRoster-shaped requests and oauthlib (Debian's python3-oauthlib, through
# tests/oauth1_check.py) verifies them as a provider's server would: its own
# base string, its signature check, and its SignatureOnlyEndpoint
# (timestamp window, nonce format and reuse, method, client key). A
# tampered URL, body or header, a wrong secret, a stale clock and a method
# the server does not accept must each be refused, for the reason given.

load assert

PY=/usr/bin/python3
CHECK="$BATS_TEST_DIRNAME/oauth1_check.py"
# the unit programs are built beside the programs (tests/run-all's $BUILD)
SIGNER="$BATS_TEST_DIRNAME/../${BUILD:-build}/tests/test_oauth1"
USERS='https://sis.example.org/ims/oneroster/v1p1/users?limit=100&offset=0&filter=role%3D%27teacher%27+AND+status%3D%27active%27'

setup() {
	T=$(mktemp -d)
	unset ROSTER_FAKE_CLOCK
	# the district's consumer key and secret, as the signer and the server
	# read them (stdin: key, secret, token, token secret)
	printf 'district-7f3a\ncs/demo+secret=\n' >"$T/creds"
}

teardown() {
	rm -rf "$T"
}

# sign [SIGNER-OPTIONS] METHOD URL: header in $T/h, our base string in $T/base
sign() {
	"$SIGNER" sign --base "$@" <"$T/creds" >"$T/out"
	sed -n 1p "$T/out" >"$T/h"
	sed -n 2p "$T/out" >"$T/base"
	[[ "$(cat "$T/h")" == "OAuth "* ]]
}

# verify [CHECK-OPTIONS] METHOD URL: oauthlib on the header in $T/h
verify() {
	run "$PY" "$CHECK" --header "$(cat "$T/h")" "$@" <"$T/creds"
	[ "$status" -eq 0 ]
}

valid() {
	verify "$@"
	[ "${#lines[@]}" -eq 3 ]
	[ "${lines[0]}" = "$(cat "$T/base")" ]
	[ "${lines[1]}" = "signature: valid" ]
	[ "${lines[2]}" = "endpoint: valid" ]
}

@test "oauthlib is Debian's 3.2 and its signature module has what the check uses" {
	run "$PY" -c 'import oauthlib, oauthlib.oauth1.rfc5849.signature as s; print(oauthlib.__version__.split(".")[0:2], callable(s.verify_hmac_sha256), callable(s.verify_hmac_sha1))'
	[ "$status" -eq 0 ]
	[ "$output" = "['3', '2'] True True" ]
}

@test "a OneRoster 1.1 GET with a filter (+ for spaces): same base string, valid signature, accepted" {
	sign GET "$USERS"
	valid GET "$USERS"
	grep -q 'oauth_signature_method="HMAC-SHA256"' "$T/h"
	grep -q 'oauth_version="1.0"' "$T/h"
	no_line -q 'oauth_token' "$T/h"
}

@test "repeated parameters, %20 and +, %2B, *, ~, UTF-8, an upper-case host and port 8443: accepted" {
	local u='https://SIS.Example.ORG:8443/ims/oneroster/v1p1/Users?sort=familyName&a=2&a=10&a=1&q=a+b%20c&p=1%2B1&s=*&t=~x&n=Jos%C3%A9%20%E6%97%A5%F0%9F%8E%93&e='
	sign GET "$u"
	valid GET "$u"
	grep -q '^base: GET&https%3A%2F%2Fsis.example.org%3A8443%2Fims%2Foneroster%2Fv1p1%2FUsers&a%3D1%26a%3D10%26a%3D2%26e%3D%26n%3DJos%25C3%25A9%2520%25E6%2597%25A5%25F0%259F%258E%2593%26' "$T/base"
	grep -q '%26p%3D1%252B1%26q%3Da%2520b%2520c%26s%3D%252A%26sort%3DfamilyName%26t%3D~x$' "$T/base"
}

@test "default ports are dropped (https 443, http 80) and oauthlib agrees" {
	sign GET 'https://sis.example.org:443/ims/oneroster/v1p1/orgs?limit=5'
	valid GET 'https://sis.example.org:443/ims/oneroster/v1p1/orgs?limit=5'
	grep -q '^base: GET&https%3A%2F%2Fsis.example.org%2Fims' "$T/base"
	sign GET 'http://127.0.0.1:80/ims/oneroster/v1p1/orgs'
	valid GET 'http://127.0.0.1:80/ims/oneroster/v1p1/orgs'
	grep -q '^base: GET&http%3A%2F%2F127.0.0.1%2Fims' "$T/base"
	sign GET 'http://127.0.0.1:8080/ims/oneroster/v1p1/orgs'
	valid GET 'http://127.0.0.1:8080/ims/oneroster/v1p1/orgs'
	grep -q '^base: GET&http%3A%2F%2F127.0.0.1%3A8080%2Fims' "$T/base"
}

@test "OneRoster 1.0 (HMAC-SHA1), without oauth_version: accepted by a server that allows SHA-1" {
	local u='https://sis.example.org/ims/oneroster/v1p0/students?limit=50'
	sign --sha1 --no-version GET "$u"
	grep -q 'oauth_signature_method="HMAC-SHA1"' "$T/h"
	no_line -q 'oauth_version' "$T/h"
	valid --methods HMAC-SHA1 GET "$u"
}

@test "a token with its secret, a realm, and a POST with a form body: accepted" {
	printf 'district-7f3a\ncs/demo+secret=\nnnch734d00sl2jdk\npfkk/dhi9+sl3r4s00\n' >"$T/creds"
	local u='https://sis.example.org/ims/oneroster/v1p1/enrollments?x=1'
	local body='sourcedId=enr-001&classSourcedId=cls+42&userSourcedId=usr%2F9'
	sign --realm 'Maple Ridge' --body "$body" post "$u"
	[[ "$(cat "$T/h")" == 'OAuth realm="Maple%20Ridge", oauth_consumer_key="district-7f3a", '* ]]
	grep -q 'oauth_token="nnch734d00sl2jdk"' "$T/h"
	valid --body "$body" POST "$u"
}

@test "a tampered URL, body or header, or a wrong secret, is refused for its signature" {
	sign GET "$USERS"
	verify GET "${USERS/offset=0/offset=100}"
	[ "${lines[1]}" = "signature: invalid" ]
	[ "${lines[2]}" = "endpoint: invalid (bad signature)" ]
	verify GET "${USERS/sis.example.org/sis.example.net}"
	[ "${lines[1]}" = "signature: invalid" ]
	[ "${lines[2]}" = "endpoint: invalid (bad signature)" ]
	verify POST "$USERS"
	[ "${lines[1]}" = "signature: invalid" ]
	[ "${lines[2]}" = "endpoint: invalid (bad signature)" ]

	# the nonce changed in the header (still 22 letters and digits)
	local n r
	n=$(sed 's/.*oauth_nonce="\([^"]*\)".*/\1/' "$T/h")
	r=A
	if [ "${n:0:1}" = A ]; then r=B; fi
	sed "s/oauth_nonce=\"$n\"/oauth_nonce=\"$r${n:1}\"/" "$T/h" >"$T/h2"
	run cmp -s "$T/h" "$T/h2"
	[ "$status" -eq 1 ]
	run "$PY" "$CHECK" --header "$(cat "$T/h2")" GET "$USERS" <"$T/creds"
	[ "${lines[1]}" = "signature: invalid" ]
	[ "${lines[2]}" = "endpoint: invalid (bad signature)" ]

	# the server holds another secret for this key
	printf 'district-7f3a\ncs/demo+secreT=\n' >"$T/wrong"
	run "$PY" "$CHECK" --header "$(cat "$T/h")" GET "$USERS" <"$T/wrong"
	[ "${lines[1]}" = "signature: invalid" ]
	[ "${lines[2]}" = "endpoint: invalid (bad signature)" ]

	# a form body changed after signing
	sign --body 'role=student' POST 'https://sis.example.org/ims/oneroster/v1p1/enrollments'
	verify --body 'role=teacher' POST 'https://sis.example.org/ims/oneroster/v1p1/enrollments'
	[ "${lines[1]}" = "signature: invalid" ]
	[ "${lines[2]}" = "endpoint: invalid (bad signature)" ]
}

@test "the server's other refusals: unknown key, method not allowed, nonce sent twice" {
	sign GET "$USERS"
	printf 'another-key\ncs/demo+secret=\n' >"$T/other"
	run "$PY" "$CHECK" --header "$(cat "$T/h")" GET "$USERS" <"$T/other"
	[ "${lines[2]}" = "endpoint: invalid (unknown client key)" ]
	verify --methods HMAC-SHA1 GET "$USERS"
	[ "${lines[1]}" = "signature: valid" ]
	[ "${lines[2]}" = "endpoint: invalid ((invalid_signature_method) Invalid signature, HMAC-SHA256 not in ('HMAC-SHA1',)..)" ]
	run "$PY" "$CHECK" --header "$(cat "$T/h")" --header "$(cat "$T/h")" GET "$USERS" <"$T/creds"
	[ "${#lines[@]}" -eq 6 ]
	[ "${lines[2]}" = "endpoint: valid" ]
	[ "${lines[5]}" = "endpoint: invalid (nonce used before)" ]
}

@test "the timestamp is the clock's: ROSTER_FAKE_CLOCK far in the past signs well but is refused as stale" {
	ROSTER_FAKE_CLOCK=1700000000 sign GET "$USERS"
	grep -q 'oauth_timestamp="1700000000"' "$T/h"
	verify GET "$USERS"
	[ "${lines[0]}" = "$(cat "$T/base")" ]
	[ "${lines[1]}" = "signature: valid" ]
	[ "${lines[2]}" = "endpoint: invalid ((invalid_request) Timestamp given is invalid, differ from allowed by over 600 seconds..)" ]
}

@test "each request has a fresh nonce of 22 letters and digits; the secret is never printed" {
	sign GET "$USERS"
	cp "$T/h" "$T/first"
	sign GET "$USERS"
	local n1 n2
	n1=$(sed 's/.*oauth_nonce="\([^"]*\)".*/\1/' "$T/first")
	n2=$(sed 's/.*oauth_nonce="\([^"]*\)".*/\1/' "$T/h")
	[[ "$n1" =~ ^[A-Za-z0-9]{22}$ ]]
	[[ "$n2" =~ ^[A-Za-z0-9]{22}$ ]]
	[ "$n1" != "$n2" ]
	valid GET "$USERS"
	no_line -qF 'cs/demo+secret' "$T/out"
	no_line -qF 'cs%2Fdemo%2Bsecret' "$T/out"
}

@test "a URL the signer refuses: exit 1, the reason, neither the URL nor the secret in it" {
	run "$SIGNER" sign GET 'https://sis.example.org/users?q=%zz' <"$T/creds"
	[ "$status" -eq 1 ]
	[ "$output" = "test_oauth1: the query of the URL to sign has a '%' that is not followed by two hex digits" ]
}

@test "the signer and the unit test are clean under valgrind" {
	[ "${SAN:-}" != 1 ] || skip "valgrind cannot run sanitizer builds"
	local vg="valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,indirect"
	$vg "$SIGNER" sign --base GET "$USERS" <"$T/creds" >"$T/out"
	[ "$(wc -l <"$T/out")" -eq 2 ]
	run $vg "$SIGNER"
	[ "$status" -eq 0 ]
	[ "${lines[${#lines[@]}-1]}" = "1..$(grep -c '^ok ' <<<"$output")" ]
}
