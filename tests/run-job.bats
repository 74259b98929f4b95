#!/usr/bin/env bats
# run-job: job-file validation (errors name file:line) and the secret rule:
# a secret is only ever named (creds:NAME), and lives in the credentials store;
# the directory source types (graph, google), their yes/no keys, role_rules
# for normalize and the snapshot path, on stub programs (see stub-bin.bash).

load assert
load data/reconcile/stub-bin

setup() {
	T=$(mktemp -d)
}

teardown() {
	rm -rf "$T"
}

# the hint that names the store's command: "creds set NAME" (maybe with --file FILE)
CREDS_SET='creds (--file [^ ]+ )?set NAME'

job() {
	printf '%s\n' "$@" >"$T/d.job"
}

# A credentials store next to the job file ($T/creds, key $T/creds.key)
# holding the entry x; a job finds it with "credentials = creds".
store() {
	"$ROSTER_BIN/creds" --file "$T/creds" keygen
	printf 'x-secret-value\n' | "$ROSTER_BIN/creds" --file "$T/creds" set x
}

@test "a valid job file passes --check" {
	store
	job '[job]' 'output = out' 'credentials = creds' '[source clever]' 'type = clever' \
		'client_id = abc' 'client_secret = creds:x'
	run "$ROSTER_BIN/run-job" --check "$T/d.job"
	[ "$status" -eq 0 ]
	[[ "$output" == *"valid (1 source)"* ]]
}

@test "a secret written in clear is refused with a hint, and not echoed" {
	job '[job]' 'output = out' '[source clever]' 'type = clever' 'client_id = abc' \
		'client_secret = s3cr3t-Value-123'
	run "$ROSTER_BIN/run-job" --check "$T/d.job"
	[ "$status" -eq 2 ]
	[[ "$output" == *"d.job:6:"* ]]
	[[ "$output" =~ $CREDS_SET ]]
	[[ "$output" != *"s3cr3t-Value-123"* ]]
}

@test "a value that looks like a secret in clear is refused in any key, naming its line and the store" {
	store
	for kv in 'base_url = https://admin:Pa55word@api.example.org' \
		'client_id = Xq7Lm2Pz9Rk4Tv8Wb3Nc6Yd1Ae5' \
		'token_url = -----BEGIN PRIVATE KEY-----' \
		'district = eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl'; do
		job '[job]' 'output = out' 'credentials = creds' '[source clever]' 'type = clever' \
			"$kv" 'client_secret = creds:x'
		run "$ROSTER_BIN/run-job" --check "$T/d.job"
		echo "$kv -> $output"
		[ "$status" -eq 2 ]
		[[ "$output" == *"d.job:6: ${kv%% *}: the value looks like"* ]]
		[[ "$output" =~ $CREDS_SET ]]
		[[ "$output" != *"Pa55word"* ]]
		[[ "$output" != *"Xq7Lm2Pz9"* ]]
	done
	job '[job]' 'output = out' 'credentials = creds' 'name = Xq7Lm2Pz9Rk4Tv8Wb3Nc6Yd1Ae5' \
		'[source clever]' 'type = clever' 'client_secret = creds:x'
	run "$ROSTER_BIN/run-job" --check "$T/d.job"
	[ "$status" -eq 2 ]
	[[ "$output" == *"d.job:4: name: the value looks like"* ]]
}

@test "a secret named by an environment variable (env:VARIABLE) is refused with the store's hint" {
	store
	job '[job]' 'output = out' 'credentials = creds' '[source clever]' 'type = clever' \
		'client_id = abc' 'client_secret = env:X_SECRET'
	X_SECRET=env-Value-0451 run "$ROSTER_BIN/run-job" --check "$T/d.job"
	[ "$status" -eq 2 ]
	[[ "$output" == *"d.job:7:"* ]]
	[[ "$output" =~ $CREDS_SET ]]
	[[ "$output" != *"env-Value-0451"* ]]
}

@test "a job naming a store entry that does not exist is refused, naming the entry and the store" {
	store
	job '[job]' 'output = out' 'credentials = creds' '[source clever]' 'type = clever' \
		'client_id = abc' 'client_secret = creds:no-such-entry'
	run "$ROSTER_BIN/run-job" --check "$T/d.job"
	[ "$status" -eq 2 ]
	[[ "$output" == *"no-such-entry"* ]]
	[[ "$output" == *"$T/creds"* ]]
	[[ "$output" != *"x-secret-value"* ]]
}

@test "an unknown key names file, line and the known keys" {
	job '[job]' 'output = out' '[source clever]' 'type = clever' 'clientid = abc'
	run "$ROSTER_BIN/run-job" --check "$T/d.job"
	[ "$status" -eq 2 ]
	[[ "$output" == *"d.job:5: unknown key 'clientid'"* ]]
	[[ "$output" == *"client_id"* ]]
}

@test "an unknown source type is refused, listing every known type" {
	job '[job]' 'output = out' '[source x]' 'type = blackboard'
	run "$ROSTER_BIN/run-job" --check "$T/d.job"
	[ "$status" -eq 2 ]
	[[ "$output" == *"d.job:4: unknown source type 'blackboard' (known: clever, graph, google, oneroster, sftp)"* ]]
	job '[job]' 'output = out' '[source x]' 'client_id = a'
	run "$ROSTER_BIN/run-job" --check "$T/d.job"
	[ "$status" -eq 2 ]
	[[ "$output" == *"d.job:3: [source x] needs type = (one of: clever, graph, google, oneroster, sftp)"* ]]
}

@test "a job without output is refused" {
	job '[job]' 'name = x' '[source clever]' 'type = clever'
	run "$ROSTER_BIN/run-job" --check "$T/d.job"
	[ "$status" -eq 2 ]
	[[ "$output" == *"d.job:1: [job] needs output"* ]]
}

@test "a bad duration names its line" {
	job '[job]' 'output = o' 'deadline = tomorrow' '[source clever]' 'type = clever'
	run "$ROSTER_BIN/run-job" --check "$T/d.job"
	[ "$status" -eq 2 ]
	[[ "$output" == *"d.job:3: deadline: 'tomorrow'"* ]]
}

@test "a missing job file is a usage error naming it" {
	run "$ROSTER_BIN/run-job" --check "$T/none.job"
	[ "$status" -eq 2 ]
	[[ "$output" == *"none.job: cannot read the job file"* ]]
}

@test "every program answers --help with the exit codes, and refuses unknown flags" {
	for p in extract-clever extract-graph extract-google normalize dedupe load-csv run-job creds; do
		run "$ROSTER_BIN/$p" --help
		[ "$status" -eq 0 ]
		[[ "$output" == *"Exit status"* ]]
		run "$ROSTER_BIN/$p" --no-such-flag
		[ "$status" -eq 2 ]
	done
}

@test "every program has a man page" {
	for p in extract-clever extract-graph extract-google normalize dedupe load-csv run-job creds; do
		[ -f "$BATS_TEST_DIRNAME/../man/$p.1" ]
	done
	[ -f "$BATS_TEST_DIRNAME/../man/roster-job.5" ]
}

@test "extract-clever refuses a store entry that does not exist, naming it and the store" {
	store
	run "$ROSTER_BIN/extract-clever" --client-id a --credentials "$T/creds" --client-secret creds:nope
	[ "$status" -eq 2 ]
	[[ "$output" == *"nope"* ]]
	[[ "$output" == *"$T/creds"* ]]
	[[ "$output" != *"x-secret-value"* ]]
}

@test "extract-clever with creds:NAME but no store (no --credentials, no ROSTER_CREDENTIALS) says how to name one" {
	run env -u ROSTER_CREDENTIALS "$ROSTER_BIN/extract-clever" --client-id a --client-secret creds:x
	[ "$status" -eq 2 ]
	[[ "$output" == *"--client-secret names a stored secret, but no credentials file is given; check: --credentials FILE (or ROSTER_CREDENTIALS)"* ]]
}

@test "extract-clever refuses a secret on the command line and the gone --client-secret-env" {
	run "$ROSTER_BIN/extract-clever" --client-id a --client-secret Literal-Secret-9931
	[ "$status" -eq 2 ]
	[[ "$output" =~ secrets\ never\ go\ on\ (a|the)\ command\ line ]]
	[[ "$output" != *"Literal-Secret-9931"* ]]
	X=Env-Secret-5150 run "$ROSTER_BIN/extract-clever" --client-id a --client-secret-env X
	[ "$status" -eq 2 ]
	[[ "$output" != *"Env-Secret-5150"* ]]
	X=Env-Secret-5150 run "$ROSTER_BIN/extract-clever" --token-env X
	[ "$status" -eq 2 ]
	[[ "$output" != *"Env-Secret-5150"* ]]
}

@test "source numbers are checked: positive, finite, whole where they count" {
	store
	src() {
		job '[job]' 'output = o' 'credentials = creds' '[source clever]' 'type = clever' \
			'client_id = a' 'client_secret = creds:x' "$1"
	}
	for bad in 'rate = fast' 'rate = 0' 'rate = -5' 'rate = inf' 'rate = nan' 'rate = 12x' \
		'timeout = 0' 'timeout = infinity' 'page_size = 2.5' 'page_size = 0' \
		'page_size = 1e12' 'max_pages = -1' 'max_pages = 3.1' 'max_pages = NaN'; do
		src "$bad"
		run "$ROSTER_BIN/run-job" --check "$T/d.job"
		echo "$bad -> $status: $output"
		[ "$status" -eq 2 ]
		[[ "$output" == *"d.job:8: ${bad%% *}: '${bad#*= }' is not a positive "* ]]
	done
	src 'page_size = 2.5'
	run "$ROSTER_BIN/run-job" --check "$T/d.job"
	[ "$status" -eq 2 ]
	[[ "$output" == *"d.job:8: page_size: '2.5' is not a positive whole number"* ]]
	for good in 'rate = 1200' 'rate = 0.5' 'timeout = 2.5' 'page_size = 100' 'max_pages = 50'; do
		src "$good"
		run "$ROSTER_BIN/run-job" --check "$T/d.job"
		echo "$good -> $status: $output"
		[ "$status" -eq 0 ]
	done
}

@test "durations must be finite, and max_wait more than 0" {
	for bad in 'deadline = inf' 'deadline = nan' 'deadline = infinity' 'max_wait = inf' \
		'max_wait = 0' 'max_wait = 0s' 'max_wait = -3'; do
		job '[job]' 'output = o' "$bad" '[source clever]' 'type = clever'
		run "$ROSTER_BIN/run-job" --check "$T/d.job"
		echo "$bad -> $status: $output"
		[ "$status" -eq 2 ]
		[[ "$output" == *"d.job:3: ${bad%% *}: '${bad#*= }'"* ]]
	done
	store
	job '[job]' 'output = o' 'deadline = 2h' 'max_wait = 0.5' 'credentials = creds' \
		'[source clever]' 'type = clever' 'client_id = a' 'client_secret = creds:x'
	run "$ROSTER_BIN/run-job" --check "$T/d.job"
	[ "$status" -eq 0 ]
}

# A job with an Entra ID source (entra) and a Google Workspace source (gws),
# the store holding x; extra lines go to the end of [source entra].
directory_job() {
	[ -e "$T/creds" ] || store
	job '[job]' 'output = out' 'credentials = creds' \
		'[source gws]' 'type = google' 'key = creds:x' 'subject = sync-admin@mapleridge.example' \
		'customer = C03mr7x2q' 'streams = orgunits,users' \
		'[source entra]' 'type = graph' 'tenant = mapleridge.onmicrosoft.com' \
		'client_id = 0c9f3a7e-51b2-4d8c-9e6a-7b2d1f4e8a90' 'client_secret = creds:x' \
		'streams = groups,group_members,users' 'members = transitive' 'full_every = 7' "$@"
}

@test "graph and google sources pass --check with their keys; a key of the other type is refused" {
	directory_job 'delta = yes'
	run "$ROSTER_BIN/run-job" --check "$T/d.job"
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"valid (2 sources)"* ]]
	directory_job 'subject = a@mapleridge.example'
	run "$ROSTER_BIN/run-job" --check "$T/d.job"
	[ "$status" -eq 2 ]
	[[ "$output" == *"d.job:18: unknown key 'subject' for a graph source"* ]]
	[[ "$output" == *"tenant"*"delta"* ]]
	directory_job 'full_every = 1.5'
	run "$ROSTER_BIN/run-job" --check "$T/d.job"
	[ "$status" -eq 2 ]
	[[ "$output" == *"full_every is already set"* ]]
}

@test "a graph secret or a google key written in clear is refused" {
	store
	job '[job]' 'output = out' 'credentials = creds' '[source gws]' 'type = google' \
		'key = {"private_key": "-----BEGIN PRIVATE KEY-----"}'
	run "$ROSTER_BIN/run-job" --check "$T/d.job"
	[ "$status" -eq 2 ]
	[[ "$output" == *"d.job:6:"* ]]
	[[ "$output" =~ $CREDS_SET ]]
	[[ "$output" != *"BEGIN PRIVATE"* ]]
}

@test "a yes/no key takes yes, true, 1, no, false, 0 (any case), and names the line otherwise" {
	for v in yes YES true True 1 no No false FALSE 0; do
		directory_job "delta = $v"
		run "$ROSTER_BIN/run-job" --check "$T/d.job"
		echo "$v -> $status: $output"
		[ "$status" -eq 0 ]
	done
	for v in maybe y on 2 '""'; do
		directory_job "delta = $v"
		run "$ROSTER_BIN/run-job" --check "$T/d.job"
		echo "$v -> $status: $output"
		[ "$status" -eq 2 ]
		[[ "$output" == *"d.job:18: delta: '$v' is not yes or no"* ]]
	done
}

@test "role_rules is taken by any source type; an empty one is refused with its line" {
	store
	job '[job]' 'output = out' 'credentials = creds' '[source clever]' 'type = clever' \
		'client_secret = creds:x' 'role_rules = default=staff'
	run "$ROSTER_BIN/run-job" --check "$T/d.job"
	[ "$status" -eq 0 ]
	directory_job 'role_rules = group:All Teachers=teacher; group:Students=student; default=staff'
	run "$ROSTER_BIN/run-job" --check "$T/d.job"
	[ "$status" -eq 0 ]
	directory_job 'role_rules ='
	run "$ROSTER_BIN/run-job" --check "$T/d.job"
	[ "$status" -eq 2 ]
	[[ "$output" == *"d.job:18: role_rules is empty"* ]]
	directory_job 'role_rules = Xq7Lm2Pz9Rk4Tv8Wb3Nc6Yd1Ae5'
	run "$ROSTER_BIN/run-job" --check "$T/d.job"
	[ "$status" -eq 2 ]
	[[ "$output" == *"d.job:18: role_rules: the value looks like"* ]]
}

# Runs the directory job over the stub programs; the extractors print the
# canonical files of tests/data/reconcile.
run_stubbed() {
	stub_bin "$T/bin"
	mkdir -p "$T/log" "$T/data"
	cp "$BATS_TEST_DIRNAME"/data/reconcile/{clever,graph,google}.ndjson "$T/data/"
	STUB_LOG="$T/log" STUB_DATA="$T/data" run "$ROSTER_BIN/run-job" --bindir "$T/bin" "$T/d.job"
}

@test "role_rules goes to that source's normalize as --role-rules, never to its extractor" {
	directory_job 'role_rules = group:All Teachers=teacher; default=staff'
	run_stubbed
	echo "$output"
	[ "$status" -eq 0 ]
	# normalize.0 is gws's (no rules), normalize.1 entra's
	[ "$(cat "$T/log/normalize.0.args")" = "" ]
	[ "$(paste -sd'|' "$T/log/normalize.1.args")" = "--role-rules|group:All Teachers=teacher; default=staff" ]
	no_line -q -e role -e 'All Teachers' "$T/log/extract-graph.args"
}

@test "delta = yes: the graph extractor gets --delta and --snapshot OUTPUT/state/NAME.snapshot; no: neither" {
	directory_job 'delta = yes'
	run_stubbed
	[ "$status" -eq 0 ]
	out=$(cd "$T/out" && pwd -P)
	grep -qx -- --delta "$T/log/extract-graph.args"
	[ "$(grep -A1 -x -- --snapshot "$T/log/extract-graph.args" | tail -1)" = "$out/state/entra.snapshot" ]
	[ "$(grep -A1 -x -- --state "$T/log/extract-graph.args" | tail -1)" = "$out/state/entra.json" ]
	no_line -q -e --snapshot -e --delta "$T/log/extract-google.args"
	directory_job 'delta = no'
	run_stubbed
	[ "$status" -eq 0 ]
	no_line -q -e --snapshot -e --delta "$T/log/extract-graph.args"
	# the keys of each type become its extractor's flags
	[ "$(paste -sd' ' "$T/log/extract-google.args" | cut -d' ' -f1-8)" = \
		"--key creds:x --subject sync-admin@mapleridge.example --customer C03mr7x2q --streams orgunits,users" ]
	grep -qx -- --members "$T/log/extract-graph.args"
	[ "$(grep -A1 -x -- --full-every "$T/log/extract-graph.args" | tail -1)" = 7 ]
}

@test "temporary files a killed run left in the state and work folders are removed, and said; newer ones stay" {
	directory_job
	mkdir -p "$T/out/state" "$T/out/.work"
	printf 'half' >"$T/out/state/.entra.json.tmp.Ab12Cd"
	printf 'half' >"$T/out/state/.entra.snapshot.tmp.x9Y8z7"
	printf 'half' >"$T/out/.work/.entra.raw.ndjson.tmp.QwErTy"
	touch -d '1 hour ago' "$T/out/state/".*.tmp.* "$T/out/.work/".*.tmp.*
	printf 'mine' >"$T/out/state/.other.json.tmp.N0wN0w" # changed now: another run's
	touch -d "+1 minute" "$T/out/state/.other.json.tmp.N0wN0w"
	run_stubbed
	[ "$status" -eq 0 ]
	[[ "$output" == *"/out/state: removed 2 temporary files an earlier, interrupted run left"* ]]
	[[ "$output" == *"/out/.work: removed 1 temporary file an earlier, interrupted run left"* ]]
	[ ! -e "$T/out/state/.entra.json.tmp.Ab12Cd" ]
	[ ! -e "$T/out/state/.entra.snapshot.tmp.x9Y8z7" ]
	[ ! -e "$T/out/.work/.entra.raw.ndjson.tmp.QwErTy" ]
	[ "$(cat "$T/out/state/.other.json.tmp.N0wN0w")" = mine ]
}

@test "normalize refusing role_rules (exit 2) shows in the report: the source failed, the rules' line named" {
	directory_job 'role_rules = bad rule'
	run_stubbed
	echo "$output"
	# 2: the configuration error, combined with what the other source gave
	[ "$status" -eq 2 ]
	[[ "$output" == *"is not KIND:MATCH=ROLE"* ]] # normalize's own message
	# the stages before it may die of the closed pipe; normalize is named all the same
	[[ "$output" == *"entra: "*"normalize exited 2 (bad usage or configuration)"* ]]
	[[ "$output" == *"entra: hint: normalize refused its configuration: check role_rules = bad rule ($T/d.job:18)"* ]]
	[ "$(jq -r '.sources[1] | "\(.name) \(.exit) \(.stages.normalize)"' "$T/out/run-report.json")" = "entra 2 2" ]
	jq -e '.sources[1].hint | test("role_rules = bad rule .*d.job:18")' "$T/out/run-report.json"
}
