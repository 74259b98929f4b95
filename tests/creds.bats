#!/usr/bin/env bats
# creds: the encrypted credentials store. keygen, set (pipe and terminal),
# list, remove, check and rotate; the file format, read back and decrypted
# with Python's cryptography.fernet (tests/fake/creds_tool.py); wrong keys,
# altered files, interrupted rotations, and secrets that must never show.

load assert

PY=/usr/bin/python3
TOOL="$BATS_TEST_DIRNAME/fake/creds_tool.py"

setup() {
	T=$(mktemp -d)
	F="$T/creds"
	K="$T/creds.key"
	unset ROSTER_CREDENTIALS ROSTER_FAKE_CLOCK
}

teardown() {
	chmod -R u+rwX "$T" 2>/dev/null || true
	rm -rf "$T"
}

creds() {
	"$ROSTER_BIN/creds" --file "$F" "$@"
}

tool() {
	"$PY" "$TOOL" "$@"
}

keygen() {
	creds keygen
}

# put NAME VALUE [--raw]: stores VALUE through a pipe (printf %s: no newline
# is added), failing the test when creds fails.
put() {
	printf '%s' "$2" | creds set ${3:+"$3"} "$1" 2>/dev/null
}

# feed INFILE ARGS...: runs creds ARGS with INFILE's bytes on a pipe.
feed() {
	local in=$1
	shift
	run bash -c 'cat "$1" | "$2" --file "$3" "${@:4}"' _ "$in" "$ROSTER_BIN/creds" "$F" "$@"
}

# same NAME FILE: the store's NAME, decrypted by Python, is FILE's bytes.
same() {
	tool decrypt "$K" "$F" "$1" >"$T/got"
	cmp "$2" "$T/got"
}

mode_of() {
	stat -c %a "$1"
}

@test "keygen writes 44 base64url characters and a newline (32 bytes), 0600 even under umask 000" {
	run sh -c 'umask 000; exec "$0" --file "$1" keygen' "$ROSTER_BIN/creds" "$F"
	[ "$status" -eq 0 ]
	[ "$(stat -c %s "$K")" -eq 45 ]
	[ "$(mode_of "$K")" = 600 ]
	grep -Eq '^[A-Za-z0-9_-]{43}=$' "$K"
	[ "$(tool keylen "$K")" = 32 ]
	# it creates nothing else, not even the credentials file
	[ "$(ls -A "$T")" = creds.key ]
	[[ "$output" != *"$(cat "$K")"* ]]
}

@test "keygen makes a new key each time, and --key chooses where" {
	keygen
	creds --key "$T/second.key" keygen
	[ -f "$T/second.key" ]
	! cmp -s "$K" "$T/second.key" || false
}

@test "keygen never overwrites an existing key file" {
	printf 'precious\n' >"$K"
	chmod 600 "$K"
	run creds keygen
	[ "$status" -eq 2 ]
	[[ "$output" == *"$K"* ]]
	[ "$(cat "$K")" = precious ]
	: >"$K"
	run creds keygen
	[ "$status" -eq 2 ]
	[ ! -s "$K" ]
}

@test "keygen refuses a symlink, dangling or not, and writes nothing through it" {
	ln -s "$T/target" "$K"
	run creds keygen
	[ "$status" -eq 2 ]
	[ ! -e "$T/target" ]
	[ -L "$K" ]
	printf 'old\n' >"$T/target"
	run creds keygen
	[ "$status" -eq 2 ]
	[ "$(cat "$T/target")" = old ]
}

@test "set strips one trailing newline from a pipe, --raw keeps every byte" {
	keygen
	check_set() { # input, expected, flags...
		printf "$1" >"$T/in"
		printf "$2" >"$T/want"
		feed "$T/in" "${@:3}" set v
		echo "input '$1' ${*:3}: $status $output"
		[ "$status" -eq 0 ]
		[[ "$output" == *"set v"* ]]
		same v "$T/want"
	}
	check_set 'abc\n' 'abc'
	check_set 'abc' 'abc'
	check_set 'abc\n\n' 'abc\n'
	check_set 'abc\r\n' 'abc'
	check_set 'abc\n' 'abc\n' --raw
	check_set 'abc\r\n' 'abc\r\n' --raw
	check_set ' spaced \t' ' spaced \t'
}

@test "multi-line secrets (a PEM block, a service-account JSON) round-trip byte for byte" {
	keygen
	{
		echo '-----BEGIN PRIVATE KEY-----'
		for i in 1 2 3 4 5 6; do
			printf 'MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC%02d+/abcdefXYZ\n' "$i"
		done
		echo 'Zm9vYmFy=='
		echo '-----END PRIVATE KEY-----'
	} >"$T/pem"
	cat >"$T/sa.json" <<-'EOF'
	{
	  "type": "service_account",
	  "project_id": "district-roster",
	  "private_key_id": "3f1c0a9e",
	  "private_key": "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0B\n-----END PRIVATE KEY-----\n",
	  "client_email": "sync@district-roster.iam.example.com",
	  "note": "tab\there, quote \" and backslash \\"
	}
	EOF
	printf 'line one\r\nline two\r\n\xc3\xa9\xff\x01 end\n\n' >"$T/bytes"

	feed "$T/pem" set pem
	[ "$status" -eq 0 ]
	head -c -1 "$T/pem" >"$T/pem.want" # the one trailing newline goes
	same pem "$T/pem.want"

	feed "$T/sa.json" set --raw sa
	[ "$status" -eq 0 ]
	same sa "$T/sa.json"

	feed "$T/bytes" set --raw bytes
	[ "$status" -eq 0 ]
	same bytes "$T/bytes"

	# and still after another entry is written next to them
	put other x-value-1
	same pem "$T/pem.want"
	same sa "$T/sa.json"
	same bytes "$T/bytes"
}

@test "the file is in the documented format, 0600 even under umask 000" {
	keygen
	run sh -c 'umask 000; printf "v1-secret" | "$0" --file "$1" set one' "$ROSTER_BIN/creds" "$F"
	[ "$status" -eq 0 ]
	[ "$(mode_of "$F")" = 600 ]
	put two v2-secret
	[ "$(mode_of "$F")" = 600 ]
	run tool verify "$K" "$F"
	echo "$output"
	[ "$status" -eq 0 ]
	[ "${#lines[@]}" -eq 2 ]
	[ "$(sed -n 1p "$F")" = "roster-credentials 1" ]
	[ "$(wc -l <"$F")" -eq 5 ]
}

@test "list prints names, sorted, with the UTC time each was set, and never a value" {
	keygen
	before=$(date +%s)
	put zeta value-zeta-7c1
	put alpha value-alpha-2d9
	put mid value-mid-5e3
	after=$(date +%s)
	creds list >"$T/out" 2>"$T/err"
	cat "$T/out"
	[ "$(cut -f1 "$T/out" | paste -sd,)" = alpha,mid,zeta ]
	[ "$(grep -Ec '^[a-z]+	[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$' "$T/out")" -eq 3 ]
	# the times are the tokens' own, read by Python
	tool verify "$K" "$F" >"$T/v"
	[ "$(cut -f1,2 "$T/v" | sort)" = "$(cat "$T/out")" ]
	while IFS=$'\t' read -r _ _ ts; do
		[ "$ts" -ge "$before" ]
		[ "$ts" -le "$after" ]
	done <"$T/v"
	no_line -q value- "$T/out" "$T/err"
}

@test "setting a name again replaces its value and keeps the others" {
	keygen
	put a first-value-1111
	put b other-value-3333
	put a second-value-2222
	[ "$(creds list | cut -f1 | paste -sd,)" = a,b ]
	[ "$(tool decrypt "$K" "$F" a)" = second-value-2222 ]
	[ "$(tool decrypt "$K" "$F" b)" = other-value-3333 ]
	[ "$(tool verify "$K" "$F" | wc -l)" -eq 2 ]
}

@test "remove (and rm) deletes one entry; an unknown name is exit 2 and changes nothing" {
	keygen
	put a value-a
	put b value-b
	put c value-c
	run creds remove b
	[ "$status" -eq 0 ]
	[ "$(creds list | cut -f1 | paste -sd,)" = a,c ]
	tool verify "$K" "$F" >/dev/null
	run creds rm c
	[ "$status" -eq 0 ]
	[ "$(tool verify "$K" "$F" | cut -f1)" = a ]
	[ "$(tool decrypt "$K" "$F" a)" = value-a ]
	cp "$F" "$T/before"
	run creds remove nope
	[ "$status" -eq 2 ]
	[[ "$output" == *nope* ]]
	cmp "$F" "$T/before"
	run creds remove b
	[ "$status" -eq 2 ]
	cmp "$F" "$T/before"
}

@test "names outside [A-Za-z0-9][A-Za-z0-9._-]{0,63} are refused" {
	keygen
	long64=$(printf 'n%.0s' {1..64})
	for good in a Z9 "a.b_c-D9" "$long64" 0x; do
		run bash -c 'printf v-good | "$0" --file "$1" set "$2"' "$ROSTER_BIN/creds" "$F" "$good"
		echo "$good -> $status $output"
		[ "$status" -eq 0 ]
	done
	cp "$F" "$T/before"
	for bad in '' -a .a _a 'a b' a/b a:b a=b "${long64}x" $'\xc3\xa9' $'a\tb' 'a$'; do
		run bash -c 'printf v-bad | "$0" --file "$1" set "$2"' "$ROSTER_BIN/creds" "$F" "$bad"
		echo "'$bad' -> $status $output"
		[ "$status" -eq 2 ]
		cmp "$F" "$T/before"
		run creds remove "$bad"
		[ "$status" -eq 2 ]
	done
	[ "$(creds list | wc -l)" -eq 5 ]
}

@test "an empty secret, a NUL byte or more than 65536 bytes is refused, the file untouched" {
	keygen
	: >"$T/empty"
	feed "$T/empty" set first
	[ "$status" -eq 2 ]
	[ ! -e "$F" ] # not even created
	put keep kept-value
	cp "$F" "$T/before"
	refuse() { # file, flags...
		feed "$@" set x
		echo "$1 ${*:2}: $status $output"
		[ "$status" -eq 2 ]
		cmp "$F" "$T/before"
		[[ "$output" != *LeakCheck* ]]
	}
	refuse "$T/empty"
	refuse "$T/empty" --raw
	printf '\n' >"$T/nl"
	refuse "$T/nl"
	printf '\r\n' >"$T/crlf"
	refuse "$T/crlf"
	printf 'LeakCheck\0after' >"$T/nul"
	refuse "$T/nul"
	printf '\0' >"$T/nul1"
	refuse "$T/nul1"
	printf 'LeakCheck-' >"$T/big"
	head -c 65527 /dev/zero | tr '\0' 'q' >>"$T/big" # 65537 bytes
	refuse "$T/big"
	# exactly 65536 is allowed, and one newline more through the pipe too
	head -c 65536 "$T/big" >"$T/max"
	feed "$T/max" set max
	[ "$status" -eq 0 ]
	same max "$T/max"
	{ cat "$T/max"; echo; } >"$T/max-nl"
	feed "$T/max-nl" set max2
	[ "$status" -eq 0 ]
	same max2 "$T/max"
	cp "$F" "$T/before"
	refuse "$T/max-nl" --raw
	[ "$(tool decrypt "$K" "$F" keep)" = kept-value ]
}

@test "the secret never shows: not in argv or environment, not in any output, not in the file" {
	keygen
	printf '%s' 'S3cr3t-leak-probe-7f2a9c41d0e8b6-QwErTy' >"$T/secret"
	# the watcher can fail: a secret on a command line or in output is seen
	run tool watch "$T/secret" /bin/sh -c 'cat >/dev/null; echo "$0"' "$(cat "$T/secret")"
	[ "$status" -eq 1 ]
	[[ "$output" == *"cmdline of process"* ]]
	base64 -w0 "$T/secret" >"$T/b64"
	! tool leaks "$T/secret" "$T/b64" || false

	run tool watch "$T/secret" "$ROSTER_BIN/creds" --file "$F" set leak
	echo "$output"
	[ "$status" -eq 0 ]
	same leak "$T/secret"
	: >"$T/outs"
	# the refusals are part of it, each with its exit code
	refused() { # command...: creds exits 2
		local rc=0
		creds "$@" || rc=$?
		echo "creds $*: exit $rc" >>"$T/codes"
	}
	{
		creds list
		creds check
		creds --key "$T/other.key" keygen
		refused --key "$T/other.key" list
		refused --key "$T/other.key" check
		printf 'again' | creds set leak2
		creds rotate
		creds list
		creds check
		creds remove leak2
		refused rm nothere
	} >>"$T/outs" 2>&1
	cat "$T/outs" "$T/codes"
	[ "$(cat "$T/codes")" = "creds --key $T/other.key list: exit 2
creds --key $T/other.key check: exit 2
creds rm nothere: exit 2" ]
	grep -q "does not match" "$T/outs"
	grep -q "nothere" "$T/outs"
	tool leaks "$T/secret" "$F" "$K" "$T/outs"
	same leak "$T/secret"
}

@test "set on a terminal prompts on it without echo and stores what was typed" {
	keygen
	run tool pty 'typed-Secret-9d3f41' "$ROSTER_BIN/creds" --file "$F" set tty1
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(tool decrypt "$K" "$F" tty1)" = typed-Secret-9d3f41 ]
}

@test "set without a key fails, names the key file and creates nothing" {
	run bash -c 'printf v-1 | "$0" --file "$1" set a' "$ROSTER_BIN/creds" "$F"
	[ "$status" -eq 2 ]
	[[ "$output" == *"$K"* ]]
	[ ! -e "$F" ]
	[ ! -e "$K" ]
}

@test "--file defaults to ROSTER_CREDENTIALS, --key to FILE.key; without either it is exit 2" {
	ROSTER_CREDENTIALS="$F" "$ROSTER_BIN/creds" keygen
	[ -f "$K" ]
	printf 'env-value' | ROSTER_CREDENTIALS="$F" "$ROSTER_BIN/creds" set e 2>/dev/null
	[ "$(tool decrypt "$K" "$F" e)" = env-value ]
	run env ROSTER_CREDENTIALS="$F" "$ROSTER_BIN/creds" list
	[ "$status" -eq 0 ]
	[[ "$output" == "e	"* ]]
	run "$ROSTER_BIN/creds" list
	[ "$status" -eq 2 ]
	[[ "$output" == *ROSTER_CREDENTIALS* ]]
	# a key somewhere else
	F2="$T/two"
	"$ROSTER_BIN/creds" --file "$F2" --key "$T/k2" keygen
	printf 'two-value' | "$ROSTER_BIN/creds" --file "$F2" --key "$T/k2" set t 2>/dev/null
	[ ! -e "$F2.key" ]
	run "$ROSTER_BIN/creds" --file "$F2" list
	[ "$status" -eq 2 ]
	[[ "$output" == *"key file $F2.key does not exist"* ]]
	run "$ROSTER_BIN/creds" --file "$F2" --key "$T/k2" list
	[ "$status" -eq 0 ]
	[ "$(tool decrypt "$T/k2" "$F2" t)" = two-value ]
}

@test "another key is refused: the message names the key file and says it does not match" {
	keygen
	put a value-a
	put b value-b
	creds --key "$T/other.key" keygen
	cp "$F" "$T/before"
	for cmd in list check rotate "remove a"; do
		run creds --key "$T/other.key" $cmd
		echo "$cmd: $status $output"
		[ "$status" -eq 2 ]
		[[ "$output" == *"$T/other.key"* ]]
		[[ "$output" == *"does not match"* ]]
		[[ "$output" == *"$F"* ]]
		cmp "$F" "$T/before"
	done
	run bash -c 'printf new | "$0" --file "$1" --key "$2" set c' "$ROSTER_BIN/creds" "$F" "$T/other.key"
	[ "$status" -eq 2 ]
	[[ "$output" == *"does not match"* ]]
	cmp "$F" "$T/before"
	[ "$(tool decrypt "$K" "$F" a)" = value-a ]
}

# A store with a, b and c, and a copy of it in $T/orig.
three() {
	keygen
	put a value-a-11
	put b value-b-22
	put c value-c-33
	cp "$F" "$T/orig"
}

# altered WHAT: list, check and set all refuse the damaged file, name it
# and say it was altered; nothing is written.
altered() {
	cp "$F" "$T/damaged"
	for cmd in list check; do
		run creds $cmd
		echo "$1, $cmd: $status $output"
		[ "$status" -eq 2 ]
		[[ "$output" == *"$F"* ]]
		[[ "$output" == *altered* ]]
	done
	run bash -c 'printf new | "$0" --file "$1" set d' "$ROSTER_BIN/creds" "$F"
	echo "$1, set: $status $output"
	[ "$status" -eq 2 ]
	cmp "$F" "$T/damaged"
	cp "$T/orig" "$F"
}

@test "a changed token, a deleted, added or duplicated line, swapped names or truncation: altered" {
	three
	tool flip "$F" b
	! cmp -s "$F" "$T/orig" || false
	altered "flipped token"
	sed -i '/^secret b /d' "$F"
	altered "deleted line"
	sed -i '/^secret b /p' "$F"
	altered "duplicated line"
	tool swap "$F" a c
	altered "swapped names"
	sed -i 's/^secret c /secret d /' "$F"
	altered "renamed entry"
	sed -i '$d' "$F"
	altered "no mac line"
	head -c $(($(stat -c %s "$F") - 20)) "$T/orig" >"$F"
	altered "cut in the mac"
	head -c $(($(stat -c %s "$F") / 2)) "$T/orig" >"$F"
	altered "cut in half"
	head -n 2 "$T/orig" >"$F"
	altered "header only"
	sed -i '$i secret z gAAAAABkZm9vYmFyYmF6' "$F"
	altered "an added line"
	echo 'comment' >>"$F"
	altered "a line after the mac"
	# the untouched store still works
	run creds check
	[ "$status" -eq 0 ]
}

@test "a changed key-id or header is refused, naming the file" {
	three
	sed -i '2s/^key-id .*/key-id 0123456789abcdef/' "$F"
	run creds list
	echo "$output"
	[ "$status" -eq 2 ]
	[[ "$output" == *"$F"* ]]
	[[ "$output" == *"does not match credentials file $F (the file was written under key id 0123456789abcdef"* ]]
	cp "$T/orig" "$F"
	sed -i '1s/.*/roster-credentials 2/' "$F"
	run creds list
	echo "$output"
	[ "$status" -eq 2 ]
	[[ "$output" == *"$F"* ]]
	printf 'not a store at all\n' >"$F"
	run creds list
	[ "$status" -eq 2 ]
	[[ "$output" == *"$F"* ]]
}

@test "check says ok for each entry, and names the entry that fails" {
	three
	run creds check
	[ "$status" -eq 0 ]
	[ "$output" = "$(printf 'ok a\nok b\nok c')" ]
	tool flip "$F" b
	rc=0
	creds check >"$T/out" 2>"$T/err" || rc=$?
	cat "$T/out" "$T/err"
	[ "$rc" -eq 2 ]
	grep -q '^FAILED b: ' "$T/out"
	no_line -q '^FAILED a' "$T/out"
	no_line -q '^FAILED c' "$T/out"
	no_line -q value- "$T/out" "$T/err"
}

# keep_times FILE: the entries' names and token times, saved to FILE.
keep_times() {
	tool verify "$K" "$F" | cut -f1,3 >"$1"
}

@test "rotate re-encrypts every entry under a new key, keeping the set times" {
	keygen
	printf 'multi\nline\r\nsecret\n' >"$T/m"
	feed "$T/m" set --raw m
	put a value-a-rot
	put b value-b-rot
	keep_times "$T/times"
	creds list >"$T/list"
	cp -p "$K" "$T/old.key"
	sleep 1 # a re-stamped token would show another second
	run sh -c 'umask 000; exec "$0" --file "$1" rotate' "$ROSTER_BIN/creds" "$F"
	echo "$output"
	[ "$status" -eq 0 ]
	! cmp -s "$K" "$T/old.key" || false
	[ "$(stat -c %s "$K")" -eq 45 ]
	[ "$(mode_of "$K")" = 600 ]
	[ "$(mode_of "$F")" = 600 ]
	[ ! -e "$K.new" ]
	# Python reads it all with the new key, at the old times
	keep_times "$T/times2"
	cmp "$T/times" "$T/times2"
	same m "$T/m"
	[ "$(tool decrypt "$K" "$F" a)" = value-a-rot ]
	[ "$(tool decrypt "$K" "$F" b)" = value-b-rot ]
	creds list | cmp - "$T/list"
	# and the old key opens nothing
	run tool decrypt "$T/old.key" "$F" a
	[ "$status" -eq 3 ] # creds_tool: the key does not decrypt the token
	[[ "$output" == *"the token of a does not decrypt with $T/old.key"* ]]
	run creds --key "$T/old.key" list
	[ "$status" -eq 2 ]
	[[ "$output" == *"does not match"* ]]
	[ "$(ls -A "$T" | grep -c creds)" -eq 2 ] # creds and creds.key, no leftovers
}

# Runs rotate once more and checks it ends a rotation cleanly: no KEYFILE.new
# left, the key 0600, the set times of $T/times kept, and entries $1 and $3
# still decrypting (in Python, with the current key) to $2 and $4.
rotate_again_keeps() {
	run creds rotate
	echo "$output"
	[ "$status" -eq 0 ]
	[ ! -e "$K.new" ]
	[ "$(mode_of "$K")" = 600 ]
	keep_times "$T/times2"
	cmp "$T/times" "$T/times2"
	[ "$(tool decrypt "$K" "$F" "$1")" = "$2" ]
	[ "$(tool decrypt "$K" "$F" "$3")" = "$4" ]
}

@test "rotate finishes a rotation interrupted before the file was published" {
	keygen
	put a value-a-int
	put b value-b-int
	keep_times "$T/times"
	cp -p "$K" "$T/old.key"
	creds --key "$K.new" keygen # KEYFILE.new is there, FILE still under KEYFILE
	rotate_again_keeps a value-a-int b value-b-int
	! cmp -s "$K" "$T/old.key" || false
	run creds check
	[ "$status" -eq 0 ]
}

@test "rotate finishes a rotation interrupted after the file was published" {
	keygen
	put a value-a-pub
	put b value-b-pub
	keep_times "$T/times"
	cp -p "$K" "$T/old.key"
	creds rotate
	# undo the last step: the new key back to KEYFILE.new, the old one in place
	mv "$K" "$K.new"
	cp -p "$T/old.key" "$K"
	tool verify "$K.new" "$F" >/dev/null
	! tool verify "$K" "$F" 2>/dev/null || false
	rotate_again_keeps a value-a-pub b value-b-pub
	run creds list
	[ "$status" -eq 0 ]
	[ "${#lines[@]}" -eq 2 ]
}
