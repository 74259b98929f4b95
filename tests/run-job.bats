#!/usr/bin/env bats
# run-job: job-file validation (errors name file:line) and the secret rule.

setup() {
	T=$(mktemp -d)
}

teardown() {
	rm -rf "$T"
}

job() {
	printf '%s\n' "$@" >"$T/d.job"
}

@test "a valid job file passes --check" {
	job '[job]' 'output = out' '[source clever]' 'type = clever' 'client_id = abc' \
		'client_secret = env:X_SECRET'
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
	[[ "$output" == *"env:VARIABLE"* ]]
	[[ "$output" != *"s3cr3t-Value-123"* ]]
}

@test "an unknown key names file, line and the known keys" {
	job '[job]' 'output = out' '[source clever]' 'type = clever' 'clientid = abc'
	run "$ROSTER_BIN/run-job" --check "$T/d.job"
	[ "$status" -eq 2 ]
	[[ "$output" == *"d.job:5: unknown key 'clientid'"* ]]
	[[ "$output" == *"client_id"* ]]
}

@test "an unknown source type is refused" {
	job '[job]' 'output = out' '[source x]' 'type = blackboard'
	run "$ROSTER_BIN/run-job" --check "$T/d.job"
	[ "$status" -eq 2 ]
	[[ "$output" == *"d.job:4: unknown source type 'blackboard'"* ]]
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
	for p in extract-clever normalize dedupe load-csv run-job; do
		run "$ROSTER_BIN/$p" --help
		[ "$status" -eq 0 ]
		[[ "$output" == *"Exit status"* ]]
		run "$ROSTER_BIN/$p" --no-such-flag
		[ "$status" -eq 2 ]
	done
}

@test "every program has a man page" {
	for p in extract-clever normalize dedupe load-csv run-job; do
		[ -f "$BATS_TEST_DIRNAME/../man/$p.1" ]
	done
	[ -f "$BATS_TEST_DIRNAME/../man/roster-job.5" ]
}

@test "extract-clever refuses a secret variable that is not set" {
	run env -u NOPE_SECRET "$ROSTER_BIN/extract-clever" --client-id a --client-secret-env NOPE_SECRET
	[ "$status" -eq 2 ]
	[[ "$output" == *"NOPE_SECRET"* ]]
}

@test "source numbers are checked: positive, finite, whole where they count" {
	src() {
		job '[job]' 'output = o' '[source clever]' 'type = clever' 'client_id = a' \
			'client_secret = env:X' "$1"
	}
	for bad in 'rate = fast' 'rate = 0' 'rate = -5' 'rate = inf' 'rate = nan' 'rate = 12x' \
		'timeout = 0' 'timeout = infinity' 'page_size = 2.5' 'page_size = 0' \
		'page_size = 1e12' 'max_pages = -1' 'max_pages = 3.1' 'max_pages = NaN'; do
		src "$bad"
		run "$ROSTER_BIN/run-job" --check "$T/d.job"
		echo "$bad -> $status: $output"
		[ "$status" -eq 2 ]
		[[ "$output" == *"d.job:7: ${bad%% *}: '${bad#*= }' is not a positive "* ]]
	done
	src 'page_size = 2.5'
	run "$ROSTER_BIN/run-job" --check "$T/d.job"
	[[ "$output" == *"not a positive whole number"* ]]
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
	job '[job]' 'output = o' 'deadline = 2h' 'max_wait = 0.5' '[source clever]' 'type = clever' \
		'client_id = a' 'client_secret = env:X'
	run "$ROSTER_BIN/run-job" --check "$T/d.job"
	[ "$status" -eq 0 ]
}
