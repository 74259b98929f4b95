#!/usr/bin/env bats
# The fake OneRoster / Infinite Campus server itself (tests/fake/oneroster.py):
# the token endpoint, OAuth 1.0a signatures checked with oauthlib, envelopes
# per version, paging headers, filter/sort/fields, the modes, scripted
# replies, concurrency and the request logs.

load fake/fake

APP=lakeside
CID=lakeside-roster
SECRET='ic-demo-secret/7Qp+2w'
CK=ck-demo
CS='cs/demo+secret'
V1=/ims/oneroster/v1p1
V0=/ims/oneroster/v1p0
V2=/ims/oneroster/rostering/v1p2

start_fake() { # [modes JSON]
	T=$(mktemp -d)
	echo "{\"modes\": ${1:-{\}}}" >"$T/case.json"
	fake_launch "$T" --personality oneroster --data fixtures/oneroster --case "$T/case.json"
}

start_case() { # case JSON (rules and modes)
	T=$(mktemp -d)
	echo "$1" >"$T/case.json"
	fake_launch "$T" --personality oneroster --data fixtures/oneroster --case "$T/case.json"
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

token_req() { # [curl args...]: POSTs to the token URL; body in $T/tok, status printed
	curl -s -o "$T/tok" -D "$T/tokh" -w '%{http_code}' "$@"
}

token() { # an access token of the roster app
	token_req -u "$CID:$SECRET" -d grant_type=client_credentials "$B/campus/oauth2/token?appName=$APP" >/dev/null
	jq -r .access_token "$T/tok"
}

get() { # path [curl args...]: body on stdout, status in $T/status, headers in $T/headers
	local p=$1
	shift
	curl -s -D "$T/headers" -o "$T/body" -w '%{http_code}' -H "Authorization: Bearer $TOK" "$@" "$B$p" >"$T/status"
	cat "$T/body"
}

header() { # name: that header of the last get, without CR
	grep -i "^$1:" "$T/headers" | cut -d' ' -f2- | tr -d '\r'
}

imsx() { # the last body without its messageRefIdentifier, compact
	jq -c 'del(.imsx_messageRefIdentifier)' "$T/body"
}

imsx_body() { # minor description: the imsx failure body the fake sends
	printf '{"imsx_codeMajor":"failure","imsx_severity":"error","imsx_description":"%s","imsx_CodeMinor":{"imsx_codeMinorField":[{"imsx_codeMinorFieldName":"TargetEndSystem","imsx_codeMinorFieldValue":"%s"}]}}' "$2" "$1"
}

# sign URL [key secret method [opts...]]: a GET signed with oauthlib's
# Client (two-legged: no token); status printed, body in $T/body. opts:
# ts=N nonce=S (fixed values), query (oauth_* in the query, RFC 5849
# 3.5.3), send=URL (send this URL instead of the one signed), noversion
# (no oauth_version, signed with oauthlib's signature functions),
# classlink (ClassLink's sample client's non-RFC encoding), twice (send
# the same signed request again; the second status printed)
sign() {
	/usr/bin/python3 - "$T/body" "$@" <<-'EOF'
	import base64, hashlib, hmac, sys, time, urllib.error, urllib.parse, urllib.request
	from oauthlib.oauth1 import Client
	from oauthlib.oauth1.rfc5849 import signature
	out, url = sys.argv[1], sys.argv[2]
	key, secret, method = (sys.argv[3:6] + ["ck-demo", "cs/demo+secret", "HMAC-SHA256"][len(sys.argv[3:6]):])[:3]
	opts = dict((a.split("=", 1) + [""])[:2] for a in sys.argv[6:])
	ts = opts.get("ts") or str(int(time.time()))
	nonce = opts.get("nonce") or base64.b16encode(__import__("os").urandom(8)).decode()
	headers = {}
	if "noversion" in opts or "classlink" in opts:
	    base, _, query = url.partition("?")
	    oauth = [("oauth_consumer_key", key), ("oauth_signature_method", method),
	             ("oauth_timestamp", ts), ("oauth_nonce", nonce)]
	    params = signature.collect_parameters(uri_query=query) + oauth
	    digest = hashlib.sha256 if method == "HMAC-SHA256" else hashlib.sha1
	    if "classlink" in opts:
	        # values quoted with "/" safe, names as they are, the key form-encoded
	        joined = "&".join(k + "=" + urllib.parse.quote(v) for k, v in sorted(dict(params).items()))
	        text = "GET&" + urllib.parse.quote_plus(base) + "&" + urllib.parse.quote_plus(joined)
	        k = urllib.parse.quote_plus(secret) + "&"
	    else:
	        text = signature.signature_base_string("GET", signature.base_string_uri(base),
	                                                signature.normalize_parameters(params))
	        k = signature.utils.escape(secret) + "&"
	    sig = base64.b64encode(hmac.new(k.encode(), text.encode(), digest).digest()).decode()
	    headers["Authorization"] = "OAuth " + ",".join(
	        '%s="%s"' % (n, urllib.parse.quote(v, safe="")) for n, v in oauth + [("oauth_signature", sig)])
	    uri = url
	else:
	    c = Client(key, client_secret=secret, signature_method=method, timestamp=ts, nonce=nonce,
	               signature_type="QUERY" if "query" in opts else "AUTH_HEADER")
	    uri, headers, _ = c.sign(url)
	uri = opts.get("send") or uri
	def fetch():
	    try:
	        with urllib.request.urlopen(urllib.request.Request(uri, headers=headers)) as r:
	            status, body = r.status, r.read()
	    except urllib.error.HTTPError as e:
	        status, body = e.code, e.read()
	    with open(out, "wb") as f:
	        f.write(body)
	    return status
	status = fetch()
	if "twice" in opts:
	    status = fetch()
	print(status)
	EOF
}

@test "token: Basic client credentials at /campus/oauth2/token?appName=, bearer, expires_in, scope" {
	start_fake
	[ "$(token_req -u "$CID:$SECRET" -d grant_type=client_credentials \
		--data-urlencode scope=https://purl.imsglobal.org/spec/or/v1p2/scope/roster-core.readonly \
		"$B/campus/oauth2/token?appName=$APP")" = 200 ]
	[ "$(jq -c 'del(.access_token)' "$T/tok")" = \
		'{"token_type":"bearer","expires_in":3600,"scope":"https://purl.imsglobal.org/spec/or/v1p2/scope/roster-core.readonly"}' ]
	grep -qi '^cache-control: no-store' "$T/tokh"
	[ "$(token_req -u "$CID:$SECRET" -d grant_type=client_credentials "$B/campus/oauth2/token?appName=$APP")" = 200 ]
	[ "$(jq -r .scope "$T/tok" | wc -w)" -eq 5 ]
}

@test "token errors: wrong secret, body credentials, appName, grant_type, scope, GET" {
	start_fake
	U="$B/campus/oauth2/token?appName=$APP"
	[ "$(token_req -u "$CID:wrong" -d grant_type=client_credentials "$U")" = 401 ]
	[ "$(cat "$T/tok")" = '{"error": "invalid_client", "error_description": "Client authentication failed."}' ]
	[ "$(grep -i '^www-authenticate:' "$T/tokh" | tr -d '\r')" = 'WWW-Authenticate: Basic realm="lakeside"' ]
	# the default deployment wants HTTP Basic: credentials in the body are refused
	[ "$(token_req -d grant_type=client_credentials -d "client_id=$CID" --data-urlencode "client_secret=$SECRET" "$U")" = 401 ]
	[ "$(jq -r .error "$T/tok")" = invalid_client ]
	[ "$(token_req -u "$CID:$SECRET" -d grant_type=client_credentials "$B/campus/oauth2/token")" = 400 ]
	[ "$(cat "$T/tok")" = '{"error": "invalid_request", "error_description": "The appName query parameter is required."}' ]
	[ "$(token_req -u "$CID:$SECRET" -d grant_type=client_credentials "$B/campus/oauth2/token?appName=other")" = 401 ]
	[ "$(token_req -u "$CID:$SECRET" -d grant_type=password "$U")" = 400 ]
	[ "$(jq -r .error "$T/tok")" = unsupported_grant_type ]
	[ "$(token_req -u "$CID:$SECRET" -d grant_type=client_credentials -d scope=gradebook "$U")" = 400 ]
	[ "$(cat "$T/tok")" = '{"error": "invalid_scope", "error_description": "Scope not granted to this client: gradebook"}' ]
	[ "$(token_req "$U")" = 405 ]
}

@test "token_auth body and scope_required modes" {
	start_fake '{"token_auth": "body", "scope_required": true}'
	U="$B/campus/oauth2/token?appName=$APP"
	[ "$(token_req -d grant_type=client_credentials -d "client_id=$CID" --data-urlencode "client_secret=$SECRET" "$U")" = 400 ]
	[ "$(cat "$T/tok")" = '{"error": "invalid_scope", "error_description": "A scope is required."}' ]
	[ "$(token_req -d grant_type=client_credentials -d "client_id=$CID" --data-urlencode "client_secret=$SECRET" \
		--data-urlencode scope=https://purl.imsglobal.org/spec/or/v1p1/scope/roster.readonly "$U")" = 200 ]
	[ "$(token_req -u "$CID:$SECRET" -d grant_type=client_credentials \
		--data-urlencode scope=https://purl.imsglobal.org/spec/or/v1p1/scope/roster.readonly "$U")" = 401 ]
}

@test "v1p1 envelopes: collections, the generic wrappers of /schools /terms /teachers, single records" {
	start_fake
	TOK=$(token)
	[ "$(get "$V1/users" | jq -c 'keys')" = '["users"]' ]
	[ "$(cat "$T/status")" = 200 ]
	[ "$(jq '.users | length' "$T/body")" -eq 29 ]
	[ "$(get "$V1/orgs" | jq '.orgs | length')" -eq 5 ]
	[ "$(get "$V1/schools" | jq -c '[keys[0], (.orgs | map(.type) | unique)]')" = '["orgs",["school"]]' ]
	[ "$(get "$V1/terms" | jq -c '[.academicSessions[].sourcedId]')" = '["t-2425-s1","t-2425-s2","t-2425-sum"]' ]
	[ "$(get "$V1/gradingPeriods" | jq -c '[.academicSessions[].type] | unique')" = '["gradingPeriod"]' ]
	[ "$(get "$V1/academicSessions" | jq '.academicSessions | length')" -eq 9 ]
	[ "$(get "$V1/teachers" | jq -c '[keys[0], (.users | length), (.users | map(.role) | unique)]')" = '["users",6,["teacher"]]' ]
	[ "$(get "$V1/students" | jq '.users | length')" -eq 18 ]
	[ "$(get "$V1/courses" | jq '.courses | length')" -eq 7 ]
	[ "$(get "$V1/classes" | jq '.classes | length')" -eq 8 ]
	[ "$(get "$V1/enrollments" | jq '.enrollments | length')" -eq 48 ]
	[ "$(get "$V1/demographics" | jq '.demographics | length')" -eq 4 ]
	get "$V1/users/u-7f3c2a10" >/dev/null
	[ "$(jq -c '[keys, .user.role, .user.enabledUser, .user.orgs[0]]' "$T/body")" = \
		"[[\"user\"],\"teacher\",true,{\"href\":\"$B$V1/orgs/o-102\",\"sourcedId\":\"o-102\",\"type\":\"org\"}]" ]
	[ "$(get "$V1/classes/c-4m-01" | jq -c '[keys[0], .class.periods, .class.terms[0].href]')" = \
		"[\"class\",\"1\",\"$B$V1/academicSessions/t-2425-s1\"]" ]
	[ "$(get "$V1/schools/o-1" >/dev/null; cat "$T/status")" = 404 ]
	[ "$(imsx)" = "$(imsx_body unknownobject "No org with sourcedId 'o-1' exists.")" ]
	[ "$(get "$V1/orgs/o-1" | jq -r '.org.type')" = district ]
	[ "$(get "$V1/academicSessions/y-2025" | jq -r '.academicSession.schoolYear')" = 2025 ]
	[ "$(get "$V1/enrollments/e-c-4m-01-u-7f3c2a10" | jq -c '[.enrollment.primary, .enrollment.beginDate]')" = '[true,"2024-08-19"]' ]
}

@test "the data: tobedeleted mixed in, several orgs, guardians and agents, non-ASCII names, 1.1 roles" {
	start_fake
	TOK=$(token)
	get "$V1/users" >"$T/u"
	[ "$(jq '[.users[] | select(.status == "tobedeleted")] | length' "$T/u")" -eq 3 ]
	[ "$(jq -c '[.users[] | select((.orgs | length) > 1) | .username]' "$T/u")" = '["slindqvist","agoncalves","rmunoz.guardian"]' ]
	[ "$(jq -c '[.users[].role] | unique' "$T/u")" = '["administrator","aide","guardian","parent","student","teacher"]' ]
	[ "$(jq -r '.users[] | select(.sourcedId == "u-s2400102") | .givenName + " " + .familyName' "$T/u")" = "Zoë Ødegaard" ]
	[ "$(jq -c '[.users[] | select(.sourcedId == "u-g1000001") | .agents[].sourcedId]' "$T/u")" = '["u-s2400101","u-s2400201"]' ]
	[ "$(jq -r '.users[] | select(.sourcedId == "u-s2400101") | .agents[0].href' "$T/u")" = "$B$V1/users/u-g1000001" ]
	grep -q 'Nguyễn Thị' "$T/u"
	[ "$(get "$V1/classes" | jq '[.classes[] | select(.status == "tobedeleted")] | length')" -eq 1 ]
	[ "$(get "$V1/orgs" | jq -c '[.orgs[] | select(.status == "tobedeleted") | .sourcedId]')" = '["o-9"]' ]
}

@test "versions: v1p0 and v1p1 by default, v1p2 404; v1p0 only; v1p2 available" {
	start_fake
	TOK=$(token)
	[ "$(get "$V0/users" | jq -c '[keys[0], .users[0].orgs[0].href]')" = "[\"users\",\"$B$V0/orgs/o-102\"]" ]
	get "$V2/users" >/dev/null
	[ "$(cat "$T/status")" = 404 ]
	[[ "$(cat "$T/body")" == '<!DOCTYPE html>'* ]]
	kill "$FAKE_PID"
	rm -rf "$T"
	start_fake '{"versions": ["v1p0"]}'
	TOK=$(token)
	get "$V1/users" >/dev/null
	[ "$(cat "$T/status")" = 404 ]
	get "$V2/users" >/dev/null
	[ "$(cat "$T/status")" = 404 ]
	get "$V0/users" >/dev/null
	[ "$(cat "$T/status")" = 200 ]
}

@test "v1p2: rostering root, users with roles[] and primaryOrg, enabledUser a string, new sourcedIds" {
	start_fake '{"versions": ["v1p1", "v1p2"]}'
	TOK=$(token)
	get "$V2/users" >"$T/u"
	[ "$(cat "$T/status")" = 200 ]
	[ "$(jq '.users | length' "$T/u")" -eq 29 ]
	[ "$(jq '[.users[] | has("role") or has("orgs")] | any' "$T/u")" = false ]
	u=$(jq -c '.users[] | select(.username == "slindqvist")' "$T/u")
	[ "$(echo "$u" | jq -c '[.roles[] | [.roleType, .role, .org.sourcedId]]')" = \
		'[["primary","teacher","o-201"],["secondary","teacher","o-301"]]' ]
	[ "$(echo "$u" | jq -r '.primaryOrg.href')" = "$B$V2/orgs/o-201" ]
	[ "$(echo "$u" | jq -r '.enabledUser')" = true ]
	[ "$(echo "$u" | jq -r '.enabledUser | type')" = string ]
	[ "$(echo "$u" | jq -r '.userMasterIdentifier')" = 1103 ]
	[ "$(jq -r '.users[] | select(.username == "pnakamura") | .roles[0].role' "$T/u")" = districtAdministrator ]
	# every user has a new sourcedId in 1.2; the other records keep theirs
	[ "$(jq '[.users[] | select(.sourcedId | startswith("u-"))] | length' "$T/u")" -eq 0 ]
	id12=$(echo "$u" | jq -r .sourcedId)
	[ "$(get "$V2/users/$id12" | jq -r .user.username)" = slindqvist ]
	[ "$(get "$V2/users/u-91b0c3f4" >/dev/null; cat "$T/status")" = 404 ]
	[ "$(get "$V2/enrollments/e-c-7sci-02-u-91b0c3f4" | jq -r .enrollment.user.sourcedId)" = "$id12" ]
	[ "$(get "$V2/teachers" | jq '.users | length')" -eq 6 ]
	[ "$(get "$V2/users?filter=roles.role%3D%27teacher%27%20AND%20roles.org.sourcedId%3D%27o-301%27" | jq -c '[.users[].username]')" = \
		'["slindqvist","fdubois","ghaines"]' ]
	[ "$(get "$V1/users/u-91b0c3f4" | jq -r .user.role)" = teacher ]
}

@test "v1p2_ids same and rekey modes" {
	start_fake '{"versions": ["v1p1", "v1p2"], "v1p2_ids": "same"}'
	TOK=$(token)
	[ "$(get "$V2/users/u-91b0c3f4" | jq -r .user.username)" = slindqvist ]
	kill "$FAKE_PID"
	rm -rf "$T"
	start_fake '{"rekey": true}'
	TOK=$(token)
	get "$V1/users" >"$T/u"
	[ "$(jq '[.users[] | select(.sourcedId | startswith("u-"))] | length' "$T/u")" -eq 0 ]
	[ "$(get "$V1/enrollments" | jq '[.enrollments[] | select(.user.sourcedId | startswith("u-"))] | length')" -eq 0 ]
	[ "$(get "$V1/orgs/o-102" | jq -r .org.sourcedId)" = o-102 ]
}

@test "Infinite Campus prefix with the appName: hrefs keep it; a wrong appName 404; prefix modes" {
	start_fake '{"versions": ["v1p1", "v1p2"]}'
	TOK=$(token)
	P=/campus/api/oneroster/v1p1/$APP$V1
	[ "$(get "$P/schools" | jq -r '.orgs[0].parent.href')" = "$B$P/orgs/o-1" ]
	[ "$(get "/campus/api/oneroster/v1p2/$APP$V2/orgs" | jq '.orgs | length')" -eq 5 ]
	[ "$(get "/campus/api$V2/orgs" | jq '.orgs | length')" -eq 5 ]
	get "/campus/api/oneroster/v1p1/elsewhere$V1/orgs" >/dev/null
	[ "$(cat "$T/status")" = 404 ]
	get "/campus/api/oneroster/v1p2/$APP$V1/orgs" >/dev/null
	[ "$(cat "$T/status")" = 404 ]
	kill "$FAKE_PID"
	rm -rf "$T"
	start_fake '{"prefix": "campus", "app_name": "xxcloud2-district9"}'
	token_req -u "$CID:$SECRET" -d grant_type=client_credentials "$B/campus/oauth2/token?appName=xxcloud2-district9" >/dev/null
	TOK=$(jq -r .access_token "$T/tok")
	get "$V1/orgs" >/dev/null
	[ "$(cat "$T/status")" = 404 ]
	get "/campus/api/oneroster/v1p1/xxcloud2-district9$V1/orgs" >/dev/null
	[ "$(cat "$T/status")" = 200 ]
}

@test "paging: limit/offset, X-Total-Count on every page, Link next/last/first/prev, default 100" {
	start_fake
	TOK=$(token)
	get "$V1/users?limit=10" >"$T/p1"
	[ "$(header X-Total-Count)" = 29 ]
	[ "$(jq '.users | length' "$T/p1")" -eq 10 ]
	[ "$(header Link)" = "<$B$V1/users?limit=10&offset=10>; rel=\"next\", <$B$V1/users?limit=10&offset=20>; rel=\"last\", <$B$V1/users?limit=10&offset=0>; rel=\"first\"" ]
	get "$V1/users?filter=status%3D%27active%27&limit=10&offset=20" >"$T/p3"
	[ "$(header X-Total-Count)" = 26 ]
	[ "$(jq '.users | length' "$T/p3")" -eq 6 ]
	[ "$(header Link)" = "<$B$V1/users?filter=status%3D%27active%27&limit=10&offset=20>; rel=\"last\", <$B$V1/users?filter=status%3D%27active%27&limit=10&offset=0>; rel=\"first\", <$B$V1/users?filter=status%3D%27active%27&limit=10&offset=10>; rel=\"prev\"" ]
	ids=$( (jq -r '.users[].sourcedId' "$T/p1"; get "$V1/users?limit=10&offset=10" | jq -r '.users[].sourcedId'
		get "$V1/users?limit=10&offset=20" | jq -r '.users[].sourcedId') | sort -u | wc -l)
	[ "$ids" -eq 29 ]
	[ "$(get "$V1/users?offset=100" | jq -c .)" = '{"users":[]}' ]
	[ "$(header X-Total-Count)" = 29 ]
	[ "$(get "$V1/enrollments" | jq '.enrollments | length')" -eq 48 ]
	get "$V1/users?limit=0" >/dev/null
	[ "$(cat "$T/status")" = 400 ]
	[ "$(imsx)" = "$(imsx_body invaliddata "limit must be at least 1 and offset at least 0.")" ]
}

@test "paging modes: silent cap, limit ignored, total absent, wrong, growing; no Link" {
	start_fake '{"max_limit": 20, "total_count": "absent", "link_header": false}'
	TOK=$(token)
	[ "$(get "$V1/users?limit=5000" | jq '.users | length')" -eq 20 ]
	[ -z "$(header X-Total-Count)" ]
	[ -z "$(header Link)" ]
	kill "$FAKE_PID"
	rm -rf "$T"
	start_fake '{"limit_ignored": true, "total_count": 3}'
	TOK=$(token)
	[ "$(get "$V1/users?limit=5&offset=5" | jq '.users | length')" -eq 29 ]
	[ "$(header X-Total-Count)" = 32 ]
	kill "$FAKE_PID"
	rm -rf "$T"
	start_fake '{"total_count": "growing"}'
	TOK=$(token)
	for want in 29 30 31; do
		get "$V1/users?limit=10" >/dev/null
		[ "$(header X-Total-Count)" = "$want" ]
	done
}

@test "live_changes: a record removed and two added mid-read change the total and shift the pages" {
	start_fake '{"live_changes": [{"collection": "users", "after": 1, "remove": ["u-7f3c2a10"],
		"add": [{"sourcedId": "u-new0001", "status": "active", "dateLastModified": "2024-09-07T00:00:00.000Z",
		"metadata": {}, "username": "late", "givenName": "Late", "familyName": "Arrival", "role": "student",
		"orgs": [{"sourcedId": "o-102", "type": "org"}]}, {"sourcedId": "u-new0002", "status": "active",
		"dateLastModified": "2024-09-07T00:00:00.000Z", "metadata": {}, "username": "later",
		"givenName": "Later", "familyName": "Still", "role": "student", "orgs": []}]}]}'
	TOK=$(token)
	get "$V1/users?limit=10" >"$T/p1"
	[ "$(header X-Total-Count)" = 29 ]
	[ "$(jq -r '.users[-1].sourcedId' "$T/p1")" = u-g1000001 ]
	get "$V1/users?limit=10&offset=10" >"$T/p2"
	[ "$(header X-Total-Count)" = 30 ]
	# the removal shifted the rows up: u-g1000002 (the 11th) is on no page
	[ "$(jq -r '.users[0].sourcedId' "$T/p2")" = u-s2400101 ]
	get "$V1/users?limit=10&offset=20" >"$T/p3"
	[ "$(jq -c '[.users[-2:][].sourcedId]' "$T/p3")" = '["u-new0001","u-new0002"]' ]
	[ "$(jq -s '[.[].users[] | select(.sourcedId == "u-g1000002")] | length' "$T/p1" "$T/p2" "$T/p3")" -eq 0 ]
	[ "$(jq -s '[.[].users[].sourcedId] | unique | length' "$T/p1" "$T/p2" "$T/p3")" -eq 30 ]
	[ "$(get "$V1/users/u-new0001" | jq -r .user.orgs[0].href)" = "$B$V1/orgs/o-102" ]
}

@test "filter: the delta on dateLastModified, AND with %20 or +, OR, dotted paths, contains, dates as times" {
	start_fake
	TOK=$(token)
	get "$V1/users?filter=dateLastModified%3E%272024-09-03T00:00:00Z%27" >/dev/null
	[ "$(jq -c '[.users[].sourcedId]' "$T/body")" = '["u-91b0c3f4","u-c4e6a8b0","u-s2400203","u-s2400205","u-s2400303","u-s2400306"]' ]
	[ "$(header X-Total-Count)" = 6 ]
	# a timestamp with milliseconds is the same instant as one without
	[ "$(get "$V1/users?filter=dateLastModified%3E%3D%272024-09-06T16:00:00Z%27" | jq '.users | length')" -eq 3 ]
	a=$(get "$V1/users?filter=role%3D%27teacher%27%20AND%20status%3D%27active%27" | jq -c '[.users[].username]')
	[ "$a" = '["mrivera","tokafor","slindqvist","nlan","fdubois"]' ]
	[ "$(get "$V1/users?filter=role%3D%27teacher%27+AND+status%3D%27active%27" | jq -c '[.users[].username]')" = "$a" ]
	[ "$(get "$V1/users?filter=role%3D%27guardian%27%20OR%20role%3D%27parent%27" | jq '.users | length')" -eq 2 ]
	[ "$(get "$V1/classes?filter=school.sourcedId%3D%27o-301%27" | jq '.classes | length')" -eq 3 ]
	[ "$(get "$V1/users?filter=familyName~%27mu%C3%B1oz%27" | jq '.users | length')" -eq 3 ]
	[ "$(get "$V1/users?filter=grades%3D%2710%27" | jq '.users | length')" -eq 4 ]
	[ "$(get "$V1/users?filter=enabledUser%3D%27false%27" | jq '.users | length')" -eq 5 ]
	[ "$(get "$V1/users?filter=status!%3D%27active%27" | jq '.users | length')" -eq 3 ]
	[ "$(get "$V1/academicSessions?filter=startDate%3C%272024-09-01%27" | jq '.academicSessions | length')" -eq 4 ]
}

@test "filter errors: 3 predicates in 1.1, AND with OR, syntax, unknown field 400 invalid_filter_field or a warning" {
	start_fake
	TOK=$(token)
	get "$V1/users?filter=role%3D%27teacher%27%20AND%20status%3D%27active%27%20AND%20familyName%3D%27Lan%27" >/dev/null
	[ "$(cat "$T/status")" = 400 ]
	[ "$(imsx)" = "$(imsx_body invaliddata "Invalid filter: at most two predicates are allowed.")" ]
	get "$V1/users?filter=role%3D%27teacher%27%20AND%20status%3D%27active%27%20OR%20role%3D%27aide%27" >/dev/null
	[ "$(imsx)" = "$(imsx_body invaliddata "Invalid filter: AND and OR may not be mixed")" ]
	get "$V1/users?filter=role%3Dteacher" >/dev/null
	[ "$(imsx)" = "$(imsx_body invaliddata "Invalid filter: role=teacher")" ]
	get "$V1/users?filter=shoeSize%3D%2710%27" >/dev/null
	[ "$(cat "$T/status")" = 400 ]
	[ "$(imsx)" = "$(imsx_body invalid_filter_field "Unknown field in filter: shoeSize")" ]
	[[ "$(jq -r .imsx_messageRefIdentifier "$T/body")" =~ ^[0-9a-f-]{36}$ ]]
	kill "$FAKE_PID"
	rm -rf "$T"
	start_fake '{"unknown_field": "warning", "filter_ops": ["=", "~"]}'
	TOK=$(token)
	get "$V1/users?filter=shoeSize%3D%2710%27" >/dev/null
	[ "$(cat "$T/status")" = 200 ]
	[ "$(jq '.users | length' "$T/body")" -eq 29 ]
	[ "$(jq -c '.statusInfoSet[0] | [.imsx_codeMajor, .imsx_severity, .imsx_CodeMinor.imsx_codeMinorField[0].imsx_codeMinorFieldValue]' "$T/body")" = \
		'["success","warning","invalid_filter_field"]' ]
	get "$V1/users?filter=dateLastModified%3E%272024-09-03T00:00:00Z%27" >/dev/null
	[ "$(cat "$T/status")" = 400 ]
	[ "$(imsx)" = "$(imsx_body invaliddata "Unsupported filter operator: >")" ]
}

@test "sort and orderBy (acs taken as asc, or refused in strict mode), fields selection" {
	start_fake
	TOK=$(token)
	[ "$(get "$V1/courses?sort=courseCode&orderBy=desc&fields=courseCode" | jq -c '[.courses[].courseCode]')" = \
		'["SCI7","READ4","MATH4","HR","ELA7","BIO","ALG1"]' ]
	asc=$(get "$V1/courses?sort=courseCode&orderBy=asc" | jq -c '[.courses[].courseCode]')
	[ "$asc" = '["ALG1","BIO","ELA7","HR","MATH4","READ4","SCI7"]' ]
	[ "$(get "$V1/courses?sort=courseCode&orderBy=acs" | jq -c '[.courses[].courseCode]')" = "$asc" ]
	[ "$(get "$V1/users?fields=sourcedId,givenName&limit=1" | jq -c .users[0])" = '{"sourcedId":"u-7f3c2a10","givenName":"Maria"}' ]
	[ "$(get "$V1/users/u-7f3c2a10?fields=familyName" | jq -c .)" = '{"user":{"familyName":"Rivera"}}' ]
	get "$V1/users?sort=shoeSize" >/dev/null
	[ "$(imsx)" = "$(imsx_body invalid_sort_field "Unknown sort field: shoeSize")" ]
	get "$V1/users?fields=shoeSize" >/dev/null
	[ "$(imsx)" = "$(imsx_body invalid_selection_field "Unknown field in fields: shoeSize")" ]
	get "$V1/users?sort=familyName&orderBy=up" >/dev/null
	[ "$(cat "$T/status")" = 400 ]
	kill "$FAKE_PID"
	rm -rf "$T"
	start_fake '{"strict_order_by": true}'
	TOK=$(token)
	get "$V1/courses?sort=courseCode&orderBy=acs" >/dev/null
	[ "$(imsx)" = "$(imsx_body invaliddata "Invalid orderBy: acs")" ]
}

@test "nested collections and their 404s" {
	start_fake
	TOK=$(token)
	[ "$(get "$V1/schools/o-102/teachers" | jq -c '[.users[].username]')" = '["mrivera","tokafor"]' ]
	[ "$(get "$V1/schools/o-201/students" | jq '.users | length')" -eq 5 ]
	[ "$(get "$V1/schools/o-301/classes" | jq '.classes | length')" -eq 3 ]
	[ "$(get "$V1/schools/o-102/enrollments" | jq '.enrollments | length')" -eq 22 ]
	[ "$(get "$V1/schools/o-301/terms" | jq -c '[.academicSessions[].sourcedId]')" = '["t-2425-s1","t-2425-s2"]' ]
	[ "$(get "$V1/schools/o-201/courses" | jq -c '[.courses[].courseCode]')" = '["SCI7","ELA7"]' ]
	[ "$(get "$V1/schools/o-102/classes/c-4r-01/teachers" | jq -c '[.users[].username]')" = '["tokafor"]' ]
	[ "$(get "$V1/classes/c-bio-04/students" | jq '.users | length')" -eq 4 ]
	[ "$(get "$V1/classes/c-bio-04/students" | jq -c '[.users[].role] | unique')" = '["student"]' ]
	[ "$(get "$V1/courses/k-alg1/classes" | jq '.classes | length')" -eq 2 ]
	[ "$(get "$V1/terms/t-2425-s2/classes" | jq '.classes | length')" -eq 6 ]
	[ "$(get "$V1/teachers/u-91b0c3f4/classes" | jq -c '[.classes[].sourcedId]')" = '["c-7sci-02","c-alg1-01"]' ]
	[ "$(get "$V1/students/u-s2400101/classes" | jq '.classes | length')" -eq 3 ]
	get "$V1/schools/o-102/classes/c-bio-04/students" >/dev/null
	[ "$(cat "$T/status")" = 404 ]
	get "$V1/classes/c-none/students" >/dev/null
	[ "$(imsx)" = "$(imsx_body unknownobject "No class with sourcedId 'c-none' exists.")" ]
	get "$V1/students/u-7f3c2a10/classes" >/dev/null
	[ "$(cat "$T/status")" = 404 ]
	get "$V1/widgets" >/dev/null
	[ "$(cat "$T/status")" = 404 ]
}

@test "grade book endpoints need x-vendor-authorization; rostering ones do not" {
	start_fake '{"versions": ["v1p1", "v1p2"]}'
	TOK=$(token)
	get "$V1/lineItems" >/dev/null
	[ "$(cat "$T/status")" = 401 ]
	[ "$(imsx)" = "$(imsx_body unauthorisedrequest "Grade book endpoints need the x-vendor-authorization header.")" ]
	[ "$(get "$V1/lineItems" -H 'x-vendor-authorization: vk-lakeside:vs-gradebook-42' | jq -c .)" = '{"lineItems":[]}' ]
	[ "$(get /ims/oneroster/gradebook/v1p2/categories -H 'x-vendor-authorization: vk-lakeside:vs-gradebook-42' | jq -c .)" = '{"categories":[]}' ]
	get /ims/oneroster/gradebook/v1p2/results >/dev/null
	[ "$(cat "$T/status")" = 401 ]
}

@test "bearer errors: none, invalid, and the expired token: 401 imsx unauthorisedrequest with WWW-Authenticate" {
	start_fake '{"token_expires_after": 2}'
	curl -s -D "$T/headers" -o "$T/body" -w '%{http_code}' "$B$V1/orgs" >"$T/status"
	[ "$(cat "$T/status")" = 401 ]
	[ "$(imsx)" = "$(imsx_body unauthorisedrequest "Authorization is required.")" ]
	[ "$(header WWW-Authenticate)" = 'Bearer realm="OneRoster", OAuth realm="OneRoster"' ]
	TOK=nope
	get "$V1/orgs" >/dev/null
	[ "$(imsx)" = "$(imsx_body unauthorisedrequest "The access token is invalid.")" ]
	TOK=$(token)
	get "$V1/orgs" >/dev/null
	get "$V1/orgs" >/dev/null
	[ "$(cat "$T/status")" = 200 ]
	get "$V1/orgs" >/dev/null
	[ "$(cat "$T/status")" = 401 ]
	[ "$(imsx)" = "$(imsx_body unauthorisedrequest "The access token expired.")" ]
	[ "$(header WWW-Authenticate)" = 'Bearer realm="OneRoster", error="invalid_token", error_description="The access token expired.", OAuth realm="OneRoster"' ]
	TOK=$(token)
	get "$V1/orgs" >/dev/null
	[ "$(cat "$T/status")" = 200 ]
}

@test "expires_in: a short-lived token stops working on the clock and a new one works" {
	start_fake '{"expires_in": [1, 3600]}'
	TOK=$(token)
	[ "$(jq .expires_in "$T/tok")" -eq 1 ]
	get "$V1/orgs" >/dev/null
	[ "$(cat "$T/status")" = 200 ]
	sleep 1.2
	get "$V1/orgs" >/dev/null
	[ "$(cat "$T/status")" = 401 ]
	[ "$(jq -r .imsx_description "$T/body")" = "The access token expired." ]
	TOK=$(token)
	[ "$(jq .expires_in "$T/tok")" -eq 3600 ]
	get "$V1/orgs" >/dev/null
	[ "$(cat "$T/status")" = 200 ]
}

@test "OAuth 1.0a HMAC-SHA256 signed by oauthlib's Client is accepted; a wrong secret is 401 with the imsx body" {
	start_fake '{"served_log": "'"$BATS_TEST_TMPDIR"'/served"}'
	[ "$(sign "$B$V1/users?limit=5&filter=role%3D%27teacher%27%20AND%20status%3D%27active%27")" = 200 ]
	[ "$(jq '.users | length' "$T/body")" -eq 5 ]
	[ "$(sign "$B$V1/users?limit=5" "$CK" wrong-secret)" = 401 ]
	[ "$(imsx)" = "$(imsx_body unauthorisedrequest "Invalid signature.")" ]
	[ "$(sign "$B$V1/users" ck-nobody "$CS")" = 401 ]
	[ "$(jq -r .imsx_description "$T/body")" = "Unknown consumer key." ]
	[ "$(sign "$B$V1/users" ck-expired old-secret-2021)" = 401 ]
	[ "$(jq -r .imsx_description "$T/body")" = "The consumer key has expired or is inactive." ]
	# the oauth_* parameters in the query instead of the header (RFC 5849 3.5.3)
	[ "$(sign "$B$V1/orgs?limit=2" "$CK" "$CS" HMAC-SHA256 query)" = 200 ]
	# signed with %20, sent with +: the same parameters once decoded
	[ "$(sign "$B$V1/users?filter=role%3D%27teacher%27%20AND%20status%3D%27active%27" "$CK" "$CS" HMAC-SHA256 \
		send="$B$V1/users?filter=role%3D%27teacher%27+AND+status%3D%27active%27")" = 200 ]
	# a query changed after signing is refused
	[ "$(sign "$B$V1/users?limit=5" "$CK" "$CS" HMAC-SHA256 send="$B$V1/users?limit=6")" = 401 ]
	# no oauth_version is allowed (it is optional)
	[ "$(sign "$B$V1/users?limit=1" "$CK" "$CS" HMAC-SHA256 noversion)" = 200 ]
	[ "$(jq -c '[.auth, .status]' "$BATS_TEST_TMPDIR/served" | sort | uniq -c | awk '{print $1, $2}' | tr '\n' ' ')" = \
		'4 ["oauth1",200] 4 ["oauth1",401] ' ]
}

@test "OAuth 1.0a: the reference's worked example, nonce replay, timestamp window, the signature method per version" {
	ROSTER_FAKE_CLOCK=1700000100 start_fake '{"scheme": "https"}'
	# the worked example of the reference, byte for byte, on host sis.example.org
	q='limit=100&offset=0&filter=role%3D%27teacher%27%20AND%20status%3D%27active%27'
	auth='OAuth oauth_nonce="n0nce123", oauth_timestamp="1700000000", oauth_version="1.0", oauth_signature_method="HMAC-SHA256", oauth_consumer_key="ck-demo", oauth_signature="mGPZNJNP58H0yGEWAF%2B%2B%2FdxHCKm%2BvfOdES1AnvNuP%2BE%3D"'
	run curl -s -w ' %{http_code}' -H 'Host: sis.example.org' -H "Authorization: $auth" "$B$V1/users?$q"
	[[ "$output" == *' 200' ]]
	[[ "$output" == '{"users": [{"sourcedId": "u-7f3c2a10"'* ]]
	run curl -s -w ' %{http_code}' -H 'Host: sis.example.org' -H "Authorization: $auth" "$B$V1/users?$q"
	[[ "$output" == *'"imsx_description": "The oauth_nonce has already been used."'*' 401' ]]
	kill "$FAKE_PID"
	rm -rf "$T"
	ROSTER_FAKE_CLOCK=1700000100 start_fake
	[ "$(sign "$B$V1/orgs" "$CK" "$CS" HMAC-SHA256 ts=1700000400)" = 200 ]
	[ "$(sign "$B$V1/orgs" "$CK" "$CS" HMAC-SHA256 ts=1700000401)" = 401 ]
	[ "$(jq -r .imsx_description "$T/body")" = "The oauth_timestamp is outside the allowed window." ]
	[ "$(sign "$B$V1/orgs" "$CK" "$CS" HMAC-SHA256 ts=1699999800 nonce=same twice)" = 401 ]
	[ "$(jq -r .imsx_description "$T/body")" = "The oauth_nonce has already been used." ]
	# 1.1 takes HMAC-SHA256 only; 1.0 HMAC-SHA1 only
	[ "$(sign "$B$V1/orgs" "$CK" "$CS" HMAC-SHA1 ts=1700000000)" = 401 ]
	[ "$(jq -r .imsx_description "$T/body")" = "Unsupported signature method: HMAC-SHA1." ]
	[ "$(sign "$B$V0/orgs" "$CK" "$CS" HMAC-SHA1 ts=1700000000)" = 200 ]
	[ "$(jq '.orgs | length' "$T/body")" -eq 5 ]
	[ "$(sign "$B$V0/orgs" "$CK" "$CS" HMAC-SHA256 ts=1700000000)" = 401 ]
}

@test "OAuth 1.0a modes: oauth_version required, ClassLink encoding, methods and flavours configured" {
	start_fake '{"oauth1_require_version": true, "oauth1_classlink": true, "signature_methods": ["HMAC-SHA1", "HMAC-SHA256"], "timestamp_window": 30}'
	U="$B$V1/users?filter=email~%27a/b%27"
	[ "$(sign "$B$V1/orgs" "$CK" "$CS" HMAC-SHA256 noversion)" = 401 ]
	[ "$(jq -r .imsx_description "$T/body")" = "Missing OAuth parameter: oauth_version." ]
	[ "$(sign "$U" "$CK" "$CS" HMAC-SHA1)" = 200 ]
	kill "$FAKE_PID"
	rm -rf "$T"
	start_fake '{"oauth1_classlink": true}'
	U="$B$V1/users?filter=email~%27a/b%27"
	[ "$(sign "$U" "$CK" "$CS" HMAC-SHA256 classlink)" = 200 ]
	kill "$FAKE_PID"
	rm -rf "$T"
	start_fake '{"auth": ["oauth2"]}'
	U="$B$V1/users?filter=email~%27a/b%27"
	[ "$(sign "$U" "$CK" "$CS" HMAC-SHA256 classlink)" = 401 ]
	[ "$(sign "$B$V1/orgs")" = 401 ]
	[ "$(jq -r .imsx_description "$T/body")" = "This connection does not accept OAuth 1.0a signatures." ]
	kill "$FAKE_PID"
	rm -rf "$T"
	start_fake '{"auth": {"v1p1": ["oauth1"]}}'
	[ "$(sign "$B$V1/orgs")" = 200 ]
	# without oauth1_classlink, ClassLink's encoding of a "/" fails the check
	[ "$(sign "$B$V1/users?filter=email~%27a/b%27" "$CK" "$CS" HMAC-SHA256 classlink)" = 401 ]
	[ "$(jq -r .imsx_description "$T/body")" = "Invalid signature." ]
	# with no "/" (or other character quoted differently) it is the RFC's signature
	[ "$(sign "$B$V1/users?limit=2" "$CK" "$CS" HMAC-SHA256 classlink)" = 200 ]
	TOK=$(token)
	get "$V1/orgs" >/dev/null
	[ "$(cat "$T/status")" = 401 ]
	[ "$(imsx)" = "$(imsx_body unauthorisedrequest "This connection does not accept OAuth 2.0 bearer tokens.")" ]
	[ "$(header WWW-Authenticate)" = 'OAuth realm="OneRoster"' ]
}

@test "not_enabled: 403 with the imsx body after a good token (unauthorisedrequest in 1.1, forbidden in 1.2)" {
	start_fake '{"versions": ["v1p1", "v1p2"], "not_enabled": true}'
	TOK=$(token)
	get "$V1/users" >/dev/null
	[ "$(cat "$T/status")" = 403 ]
	[ "$(imsx)" = "$(imsx_body unauthorisedrequest "OneRoster is not enabled for application 'lakeside'.")" ]
	get "$V2/users" >/dev/null
	[ "$(imsx)" = "$(imsx_body forbidden "OneRoster is not enabled for application 'lakeside'.")" ]
	TOK=nope
	get "$V1/users" >/dev/null
	[ "$(cat "$T/status")" = 401 ]
}

@test "error_form modes: flat imsx_codeMinor, html, text; busy: 429 server_busy with Retry-After" {
	start_fake '{"error_form": "flat", "busy": [{"path": "'"$V1"'/orgs", "skip": 1, "retry_after": 3}]}'
	TOK=$(token)
	get "$V1/users/none" >/dev/null
	[ "$(imsx)" = '{"imsx_codeMajor":"failure","imsx_severity":"error","imsx_description":"No user with sourcedId '"'none'"' exists.","imsx_codeMinor":"unknownobject"}' ]
	get "$V1/orgs" >/dev/null
	[ "$(cat "$T/status")" = 200 ]
	get "$V1/orgs" >/dev/null
	[ "$(cat "$T/status")" = 429 ]
	[ "$(header Retry-After)" = 3 ]
	[ "$(jq -r .imsx_codeMinor "$T/body")" = server_busy ]
	get "$V1/orgs" >/dev/null
	[ "$(cat "$T/status")" = 200 ]
	kill "$FAKE_PID"
	rm -rf "$T"
	start_fake '{"error_form": "html"}'
	TOK=nope
	get "$V1/orgs" >/dev/null
	[ "$(cat "$T/status")" = 401 ]
	[[ "$(cat "$T/body")" == '<!DOCTYPE html>'* ]]
	kill "$FAKE_PID"
	rm -rf "$T"
	start_fake '{"error_form": "text"}'
	get "$V1/orgs" >/dev/null
	[ "$(cat "$T/body")" = '401 The access token is invalid.' ]
}

@test "record modes: enabledUser as a string, periods as an array, empty arrays omitted, relative hrefs" {
	start_fake '{"enabled_user": "string", "periods": "array", "empty_arrays": "omit", "hrefs": "relative"}'
	TOK=$(token)
	get "$V1/users/u-7f3c2a10" >/dev/null
	[ "$(jq -c '[.user.enabledUser, .user.orgs[0].href]' "$T/body")" = "[\"true\",\"$V1/orgs/o-102\"]" ]
	[ "$(jq -c '.user | [has("agents"), has("grades"), has("metadata")]' "$T/body")" = '[false,false,true]' ]
	[ "$(get "$V1/classes/c-4m-01" | jq -c .class.periods)" = '["1"]' ]
}

@test "scripted rules work for this personality: status, headers, delay, cut, HTML body, then the normal answer" {
	start_case '{"rules": [{"path": "'"$V1"'/users", "replies": [
		{"status": 503, "body": "<html><body>Maintenance</body></html>", "headers": {"Content-Type": "text/html", "Retry-After": "2"}},
		{"pass": true, "delay": 0.3, "headers": {"X-Total-Count": "999"}},
		{"pass": true, "cut": 50}]}]}'
	TOK=$(token)
	get "$V1/users" >/dev/null
	[ "$(cat "$T/status")" = 503 ]
	[ "$(header Retry-After)" = 2 ]
	[ "$(cat "$T/body")" = '<html><body>Maintenance</body></html>' ]
	s=$(date +%s%N)
	get "$V1/users" >/dev/null
	[ $(( ($(date +%s%N) - s) / 1000000 )) -ge 300 ]
	[ "$(header X-Total-Count)" = 999 ]
	run curl -s -H "Authorization: Bearer $TOK" "$B$V1/users"
	[ "$status" -eq 18 ]
	[ "${#output}" -eq 50 ]
	[ "$(get "$V1/users" | jq '.users | length')" -eq 29 ]
}

@test "latency_ms 100: 8 concurrent requests are served in parallel; the logs count them" {
	start_fake '{"latency_ms": 100, "served_log": "'"$BATS_TEST_TMPDIR"'/served"}'
	TOK=$(token)
	: >"$T/log"
	run /usr/bin/python3 - "$B" "$TOK" <<-'EOF'
	import sys, threading, time, urllib.request
	base, tok = sys.argv[1], sys.argv[2]
	statuses = []
	def one(i):
	    req = urllib.request.Request("%s/ims/oneroster/v1p1/users?limit=3&offset=%d" % (base, 3 * i),
	                                 headers={"Authorization": "Bearer " + tok})
	    with urllib.request.urlopen(req) as r:
	        statuses.append(r.status)
	threads = [threading.Thread(target=one, args=(i,)) for i in range(8)]
	t0 = time.monotonic()
	for t in threads:
	    t.start()
	for t in threads:
	    t.join()
	print("%d %d %.3f" % (len(statuses), statuses.count(200), time.monotonic() - t0))
	EOF
	read -r n ok secs <<<"$output"
	[ "$n" -eq 8 ] && [ "$ok" -eq 8 ]
	# one at a time would take 0.8 s at least
	awk -v s="$secs" 'BEGIN { exit !(s >= 0.1 && s < 0.5) }'
	[ "$(grep -c '"path": "/ims/oneroster/v1p1/users"' "$T/log")" -eq 8 ]
	[ "$(jq -s '[.[] | select(.path == "/ims/oneroster/v1p1/users")] | length' "$BATS_TEST_TMPDIR/served")" -eq 8 ]
	[ "$(jq -s 'map(.in_flight) | max' "$BATS_TEST_TMPDIR/served")" -ge 4 ]
	[ "$(jq -s -c 'map(.auth) | group_by(.) | map({(.[0]): length}) | add' "$BATS_TEST_TMPDIR/served")" = '{"basic":1,"oauth2":8}' ]
	[ "$(jq -s -r '[.[] | select(.auth == "oauth2")][0] | [.method, .version, (.query.limit[0])] | join(" ")' "$BATS_TEST_TMPDIR/served")" = "GET v1p1 3" ]
	jq -s -e 'map(select(.auth == "oauth2") | .ended - .started) | min >= 0.1' "$BATS_TEST_TMPDIR/served"
}

@test "synthetic_users: N more students, the same every run, paged like the rest" {
	start_fake '{"synthetic_users": 100000, "versions": ["v1p1", "v1p2"]}'
	TOK=$(token)
	get "$V1/users?limit=5000&offset=95000" >"$T/p"
	[ "$(header X-Total-Count)" = 100029 ]
	[ "$(jq '.users | length' "$T/p")" -eq 5000 ]
	[ "$(jq -r '.users[0].sourcedId' "$T/p")" = u-syn-0094971 ]
	[ "$(get "$V1/users?limit=5000&offset=100000" | jq -c '[(.users | length), .users[-1].sourcedId, .users[-1].status]')" = \
		'[29,"u-syn-0099999","tobedeleted"]' ]
	[ "$(get "$V1/users/u-syn-0000001" | jq -r '.user.givenName + " " + .user.familyName')" = "José Muñoz" ]
	[ "$(get "$V2/users?limit=1&offset=29" | jq -r '.users[0].roles[0].role')" = student ]
	[ "$(header X-Total-Count)" = 100029 ]
}
