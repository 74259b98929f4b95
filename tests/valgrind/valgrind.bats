#!/usr/bin/env bats
# Every stage under valgrind on the fixture district: no invalid access, no
# use of uninitialised memory, no definite leak. Run by tests/run-all on the
# plain build (valgrind cannot run sanitizer builds).

load ../assert
load ../sftp/sshd

VG="valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,indirect"

setup_file() {
	export T=$(mktemp -d)
	local fx="$BATS_TEST_DIRNAME/../../fixtures"
	# the Graph token expires after a few calls: the renewal mid-run is checked too;
	# one OneRoster page (asked only with limit 3) fails on every request
	printf '{"modes": {"token_expires_after": 3}, "rules": [{"method": "GET", "path": "/ims/oneroster/v1p1/users", "query": {"limit": "3", "offset": "12"}, "replies": [{"status": 500, "repeat": "forever"}]}]}' >"$T/case.json"
	/usr/bin/python3 "$BATS_TEST_DIRNAME/../fake/fake_vendor.py" --personality clever,graph,google,oneroster \
		--data "$fx/clever,$fx/graph,$fx/google,$fx/oneroster" --case "$T/case.json" \
		--port-file "$T/port" --log "$T/log" &
	echo $! >"$T/pid"
	for _ in $(seq 100); do [ -s "$T/port" ] && break; sleep 0.1; done
	export FAKE="http://127.0.0.1:$(cat "$T/port")"
	# the fixture district's secret, in a credentials store ($T/creds, key $T/creds.key)
	"$ROSTER_BIN/creds" --file "$T/creds" keygen
	printf 'demo-secret-4b9e7d21c0\n' | "$ROSTER_BIN/creds" --file "$T/creds" set clever
	printf 'gR4ph-demo~secret.9Qz\n' | "$ROSTER_BIN/creds" --file "$T/creds" set entra
	"$ROSTER_BIN/creds" --file "$T/creds" set google <"$fx/google/service-account.json"
	printf 'ic-demo-secret/7Qp+2w\n' | "$ROSTER_BIN/creds" --file "$T/creds" set ic
	printf 'cs/demo+secret\n' | "$ROSTER_BIN/creds" --file "$T/creds" set ic1
}

teardown_file() {
	kill "$(cat "$T/pid")" 2>/dev/null
	rm -rf "$T"
}

@test "extract-clever is clean under valgrind" {
	$VG "$ROSTER_BIN/extract-clever" --base-url "$FAKE" \
		--token-url "$FAKE/oauth/tokens" --client-id demo-client-id \
		--credentials "$T/creds" --client-secret creds:clever \
		--page-size 7 --stats "$T/stats.json" >"$T/raw.ndjson"
	[ "$(grep -c '"type":"RECORD"' "$T/raw.ndjson")" -eq 58 ]
}

@test "extract-graph is clean under valgrind: paging, a token renewed mid-run, delta with its snapshot" {
	local g=(--base-url "$FAKE" --token-url "$FAKE/{tenant}/oauth2/v2.0/token"
		--tenant mapleridge.onmicrosoft.com --client-id 0c9f3a7e-51b2-4d8c-9e6a-7b2d1f4e8a90
		--credentials "$T/creds" --client-secret creds:entra)
	$VG "$ROSTER_BIN/extract-graph" "${g[@]}" --page-size 10 >"$T/graph.ndjson"
	[ "$(grep -c '"stream":"graph_users"' "$T/graph.ndjson")" -gt 40 ]
	[ "$(grep -c 'oauth2/v2.0/token' "$T/log")" -ge 2 ]
	$VG "$ROSTER_BIN/extract-graph" "${g[@]}" --delta --snapshot "$T/snap" >"$T/delta.ndjson"
	[ -s "$T/snap" ]
}

@test "extract-google is clean under valgrind: the JWT, paging, every stream" {
	$VG "$ROSTER_BIN/extract-google" --base-url "$FAKE" --token-url "$FAKE/token" \
		--credentials "$T/creds" --key creds:google --subject sync-admin@mapleridge.example \
		--page-size 10 >"$T/google.ndjson"
	[ "$(grep -c '"type":"ACTIVATE_VERSION"' "$T/google.ndjson")" -eq 5 ]
}

@test "extract-oneroster is clean under valgrind: OAuth 2 with a token renewed on a 401, OAuth 1.0a, paging" {
	$VG "$ROSTER_BIN/extract-oneroster" --base-url "$FAKE" \
		--token-url "$FAKE/campus/oauth2/token?appName=lakeside" --client-id lakeside-roster \
		--credentials "$T/creds" --client-secret creds:ic --page-size 10 >"$T/or2.ndjson"
	[ "$(grep -c '"type":"ACTIVATE_VERSION"' "$T/or2.ndjson")" -eq 6 ]
	[ "$(grep -c 'campus/oauth2/token' "$T/log")" -ge 2 ]
	$VG "$ROSTER_BIN/extract-oneroster" --base-url "$FAKE" --consumer-key ck-demo \
		--credentials "$T/creds" --consumer-secret creds:ic1 --page-size 10 \
		--versions v1p2,v1p1 >"$T/or1.ndjson"
	[ "$(grep -c '"type":"ACTIVATE_VERSION"' "$T/or1.ndjson")" -eq 6 ]
}

@test "extract-oneroster is clean under valgrind when a page fails with others in flight" {
	run env ROSTER_FAKE_CLOCK=1725000000:1 $VG "$ROSTER_BIN/extract-oneroster" --base-url "$FAKE" \
		--token-url "$FAKE/campus/oauth2/token?appName=lakeside" --client-id lakeside-roster \
		--credentials "$T/creds" --client-secret creds:ic --page-size 3 --streams users \
		--concurrency 8
	[ "$status" -eq 1 ]
	[[ "$output" == *"500 Internal Server Error on every request (3 requests)"* ]]
}

@test "normalize is clean under valgrind on the directories, with role rules" {
	$VG "$ROSTER_BIN/normalize" --role-rules 'group:All Teachers=teacher; group:Students=student; default=staff' \
		<"$T/graph.ndjson" >"$T/graph.canon"
	$VG "$ROSTER_BIN/normalize" --role-rules 'orgunit:/Students=student; default=staff' \
		<"$T/google.ndjson" >"$T/google.canon"
	[ "$(grep -c '"stream":"people"' "$T/google.canon")" -gt 40 ]
}

@test "normalize is clean under valgrind" {
	$VG "$ROSTER_BIN/normalize" <"$T/raw.ndjson" >"$T/canon.ndjson"
	[ "$(grep -c '"stream":"people"' "$T/canon.ndjson")" -gt 40 ]
}

@test "dedupe is clean under valgrind" {
	$VG "$ROSTER_BIN/dedupe" "$T/canon.ndjson" "$T/canon.ndjson" >"$T/dedup.ndjson"
}

@test "dedupe --reconcile is clean under valgrind" {
	$VG "$ROSTER_BIN/dedupe" --reconcile "$T/r.json" "$T/canon.ndjson" "$T/graph.canon" \
		"$T/google.canon" >/dev/null
	[ "$(jq '.pairs | length' "$T/r.json")" -eq 2 ]
}

@test "load-csv is clean under valgrind" {
	$VG "$ROSTER_BIN/load-csv" --out "$T/out" <"$T/dedup.ndjson"
	[ -f "$T/out/people.csv" ]
}

@test "run-job --check is clean under valgrind" {
	printf '[job]\noutput = o\ncredentials = creds\n[source clever]\ntype = clever\nclient_id = a\nclient_secret = creds:clever\n' >"$T/j.job"
	$VG "$ROSTER_BIN/run-job" --check "$T/j.job"
}

@test "creds is clean under valgrind: keygen, set, list, check, rotate, remove, and its refusals" {
	S="$T/vg.creds"
	$VG "$ROSTER_BIN/creds" --file "$S" keygen
	printf 'first-secret\n' | $VG "$ROSTER_BIN/creds" --file "$S" set one
	printf 'second-secret' | $VG "$ROSTER_BIN/creds" --file "$S" set two
	printf 'replaced\n' | $VG "$ROSTER_BIN/creds" --file "$S" set one
	run $VG "$ROSTER_BIN/creds" --file "$S" list
	[ "$status" -eq 0 ]
	[ "${#lines[@]}" -eq 2 ]
	[[ "${lines[0]}" == one$'\t'* ]]
	[[ "$output" != *"secret"* && "$output" != *"replaced"* ]]
	$VG "$ROSTER_BIN/creds" --file "$S" check
	$VG "$ROSTER_BIN/creds" --file "$S" rotate
	$VG "$ROSTER_BIN/creds" --file "$S" check
	$VG "$ROSTER_BIN/creds" --file "$S" remove two
	# refusals exit 2, not 99 (a valgrind error)
	run $VG "$ROSTER_BIN/creds" --file "$S" remove two
	[ "$status" -eq 2 ]
	run $VG "$ROSTER_BIN/creds" --file "$S" keygen
	[ "$status" -eq 2 ]
	printf 'x' >>"$S"
	run $VG "$ROSTER_BIN/creds" --file "$S" check
	[ "$status" -eq 2 ]
}

@test "extract-sftp is clean under valgrind: SFTP with a password from the store, then normalize" {
	local fx="$BATS_TEST_DIRNAME/../../fixtures/drops"
	sshd_start "$T/sshd"
	cp "$fx/munis/munis_employees_20261128.csv" "$SSHD_HOME/"
	touch -d '2 hours ago' "$SSHD_HOME/munis_employees_20261128.csv"
	printf '%s' "$SSHD_PASSWORD" | "$ROSTER_BIN/creds" --file "$T/creds" set sftp-pw
	local rc=0
	$VG "$ROSTER_BIN/extract-sftp" --profile munis --host 127.0.0.1 --port "$SSHD_PORT" \
		--user "$SSHD_USER" --known-hosts "$SSHD_KNOWN_HOSTS" --password creds:sftp-pw \
		--credentials "$T/creds" --staging "$T/sftp-staging" --timeout 60 \
		>"$T/munis.ndjson" || rc=$?
	sshd_stop
	[ "$rc" -eq 0 ]
	[ "$(grep -c '"type":"RECORD"' "$T/munis.ndjson")" -eq 14 ]
	$VG "$ROSTER_BIN/normalize" --status-codes 'A=active; T=inactive' <"$T/munis.ndjson" >/dev/null
}

@test "extract-sftp --local is clean under valgrind: Aesop daily files folded, twice" {
	local fx="$BATS_TEST_DIRNAME/../../fixtures/drops/frontline"
	mkdir -p "$T/aesop"
	cp "$fx/11-23-2026.txt" "$T/aesop/"
	$VG "$ROSTER_BIN/extract-sftp" --profile aesop --local "$T/aesop" --take all --settle 0 \
		--staging "$T/aesop-staging" >"$T/a1.ndjson"
	cp "$fx/11-24-2026.txt" "$T/aesop/"
	$VG "$ROSTER_BIN/extract-sftp" --profile aesop --local "$T/aesop" --take all --settle 0 \
		--staging "$T/aesop-staging" >"$T/a2.ndjson"
	# seven days posted (a 3-day absence is 3), then Moreau's (1056)
	# cancelled and two more posted
	[ "$(grep -c '"type":"RECORD"' "$T/a1.ndjson")" -eq 7 ]
	[ "$(grep -c '"type":"RECORD"' "$T/a2.ndjson")" -eq 8 ]
	grep -q '"EmployeeExternalId":"1056"' "$T/a1.ndjson"
	no_line -q '"EmployeeExternalId":"1056"' "$T/a2.ndjson"
	$VG "$ROSTER_BIN/normalize" <"$T/a2.ndjson" >/dev/null
}
