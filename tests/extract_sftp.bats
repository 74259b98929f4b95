#!/usr/bin/env bats
# extract-sftp against a real OpenSSH sshd on loopback (tests/sftp/sshd.bash;
# needs root): key auth (ed25519, RSA, an encrypted key whose passphrase
# comes from the credentials store), password auth, refused passwords and
# host keys, pinned fingerprints, hashed known_hosts; files still being
# written, markers, the ledger, dated names, --take all with its fold, .gz
# drops and bombs, refused names, and connections cut in the middle of a
# file.

bats_require_minimum_version 1.5.0
load sftp/sshd
load assert

DROPS="$BATS_TEST_DIRNAME/../fixtures/drops"

# One sshd for the whole file (starting one makes four keys); each test
# gets an empty drop folder and its own staging.
setup_file() {
	sshd_start "$BATS_FILE_TMPDIR/sshd"
	export SSHD_PASSWORD SSHD_PASSPHRASE _SSHD_DIR _SSHD_SHARE
	# a credentials store holding the passphrase and the password
	export CREDS="$BATS_FILE_TMPDIR/creds"
	"$ROSTER_BIN/creds" --file "$CREDS" keygen 2>/dev/null
	printf '%s' "$SSHD_PASSPHRASE" | "$ROSTER_BIN/creds" --file "$CREDS" set key-pass 2>/dev/null
	printf '%s' "$SSHD_PASSWORD" | "$ROSTER_BIN/creds" --file "$CREDS" set sftp-pw 2>/dev/null
	printf '%s' "Wrong-Password-0000" | "$ROSTER_BIN/creds" --file "$CREDS" set wrong-pw 2>/dev/null
}

teardown_file() {
	sshd_stop
}

setup() {
	T=$(mktemp -d)
	S="$T/staging"
	unset ROSTER_FAKE_CLOCK ROSTER_CREDENTIALS
	[ -n "$SSHD_HOME" ]
	[ -d "$SSHD_HOME" ]
	chmod -R u+rwX "$SSHD_HOME"
	find "$SSHD_HOME" -mindepth 1 -delete
}

teardown() {
	local p
	for p in "${_SSHD_PROXY_PIDS[@]}"; do # cut proxies of this test
		kill "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	rm -rf "$T"
}

# extract-sftp against the test server as its user; more options follow.
sx() {
	run --separate-stderr "$ROSTER_BIN/extract-sftp" --host 127.0.0.1 --port "$SSHD_PORT" \
		--user "$SSHD_USER" --credentials "$CREDS" --timeout 20 "$@"
}

# The usual: known_hosts, the ed25519 key, staging.
sk() {
	sx --known-hosts "$SSHD_KNOWN_HOSTS" --key "$SSHD_KEY_ED25519" --staging "$S" "$@"
}

records() { # grep -c prints 0 and exits 1 when there is none
	printf '%s\n' "$output" | grep -c '"type":"RECORD"' || [ $? -eq 1 ]
}

munis_csv() {
	echo "EmployeeNumber,LastName,FirstName,Status,SSN"
	for n in "$@"; do
		echo "$n,Last$n,First$n,A,900-00-$n"
	done
}

# A drop file in the server's folder, old enough to be settled.
put() { # name, from stdin
	cat >"$SSHD_HOME/$1"
	touch -d '2 hours ago' "$SSHD_HOME/$1"
}

# Nothing secret in anything the run left: output, errors, stats, staging.
no_secrets() {
	local f
	for s in "$SSHD_PASSWORD" "$SSHD_PASSPHRASE"; do
		[[ "$output" != *"$s"* ]]
		[[ "$stderr" != *"$s"* ]]
		for f in "$T"/stats "$S"/ledger.jsonl; do
			if [ -e "$f" ]; then
				no_line -qF "$s" "$f"
			fi
		done
	done
}

@test "ed25519 key: the file is fetched, staged, read and recorded in the ledger" {
	munis_csv 0042 0043 | put munis_employees_20261128.csv
	sk --profile munis --stats "$T/stats"
	[ "$status" -eq 0 ]
	[ "$(records)" -eq 2 ]
	[[ "$output" == *'"EmployeeNumber":"0042"'* ]]
	[[ "$output" == *'"type":"ACTIVATE_VERSION","stream":"munis_employees"'* ]]
	[[ "$output" != *'900-00'* ]]
	cmp "$S/files/munis_employees_20261128.csv" "$SSHD_HOME/munis_employees_20261128.csv"
	jq -e --arg sha "$(sha256sum <"$SSHD_HOME/munis_employees_20261128.csv" | cut -d' ' -f1)" \
		'.name == "munis_employees_20261128.csv" and .sha256 == $sha and .records == 2' \
		"$S/ledger.jsonl"
	jq -e '.streams.munis_employees.status == "complete"' "$T/stats"
	[[ "$stderr" == *"munis_employees_20261128.csv: 2 rows, 2 records, 0 dropped"* ]]
	# no temporary file left in staging
	[ "$(ls -A "$S/files")" = "munis_employees_20261128.csv" ]
}

@test "RSA key" {
	munis_csv 1 | put e.csv
	sx --known-hosts "$SSHD_KNOWN_HOSTS" --key "$SSHD_KEY_RSA" --staging "$S" --profile munis
	[ "$status" -eq 0 ]
	[ "$(records)" -eq 1 ]
}

@test "an encrypted key with its passphrase from the credentials store" {
	munis_csv 1 | put e.csv
	sx --known-hosts "$SSHD_KNOWN_HOSTS" --key "$SSHD_KEY_ENC" --passphrase creds:key-pass \
		--staging "$S" --profile munis --stats "$T/stats"
	[ "$status" -eq 0 ]
	[ "$(records)" -eq 1 ]
	no_secrets
}

@test "a passphrase on the command line is refused, and not echoed" {
	# a made-up value: the real one never goes in an argv, even here
	sx --known-hosts "$SSHD_KNOWN_HOSTS" --key "$SSHD_KEY_ENC" --passphrase Plain-Text-Phrase-4821 \
		--staging "$S" --profile munis
	[ "$status" -eq 2 ]
	[[ "$stderr" == *"creds:"* ]]
	[[ "$stderr" != *"Plain-Text-Phrase-4821"* ]]
	[[ "$output" != *"Plain-Text-Phrase-4821"* ]]
}

@test "password auth with the password from the credentials store" {
	munis_csv 1 | put e.csv
	sx --known-hosts "$SSHD_KNOWN_HOSTS" --password creds:sftp-pw --staging "$S" --profile munis \
		--stats "$T/stats"
	[ "$status" -eq 0 ]
	[ "$(records)" -eq 1 ]
	no_secrets
}

@test "a wrong password: exit 2, the login named, the password never shown" {
	munis_csv 1 | put e.csv
	sx --known-hosts "$SSHD_KNOWN_HOSTS" --password creds:wrong-pw --staging "$S" --profile munis \
		--stats "$T/stats"
	[ "$status" -eq 2 ]
	[[ "$stderr" == *"$SSHD_USER@127.0.0.1:$SSHD_PORT"* ]]
	[[ "$stderr" != *"Wrong-Password-0000"* ]]
	[[ "$output" != *"Wrong-Password-0000"* ]]
	no_line -q "Wrong-Password-0000" "$T/stats"
	jq -e '.streams.munis_employees.status == "failed" and .streams.munis_employees.error.kind == "auth"' "$T/stats"
	[[ "$output" != *'"type":"ACTIVATE_VERSION"'* ]]
	no_secrets
}

@test "an unknown host is refused before any credential, with the fingerprint and how to pin it" {
	munis_csv 1 | put e.csv
	: >"$T/empty_known_hosts"
	nlog=$(wc -l <"$_SSHD_DIR/sshd.log")
	sx --known-hosts "$T/empty_known_hosts" --password creds:sftp-pw --staging "$S" --profile munis
	[ "$status" -eq 2 ]
	[[ "$stderr" == *"unknown host key"* ]]
	[[ "$stderr" == *"fingerprint = $SSHD_FINGERPRINT"* ]]
	[ "$(records)" -eq 0 ]
	# the password was never sent: sshd saw no authentication attempt
	tail -n +"$((nlog + 1))" "$_SSHD_DIR/sshd.log" >"$T/sshd.log"
	grep -q "$SSHD_PORT" "$T/sshd.log" || grep -q "Connection from" "$T/sshd.log"
	no_line -q "password for" "$T/sshd.log"
	no_secrets
}

@test "a changed host key is refused" {
	munis_csv 1 | put e.csv
	ssh-keygen -q -t ed25519 -N '' -f "$T/other" 3>&-
	echo "[127.0.0.1]:$SSHD_PORT $(cut -d' ' -f1,2 "$T/other.pub")" >"$T/changed_known_hosts"
	sx --known-hosts "$T/changed_known_hosts" --key "$SSHD_KEY_ED25519" --staging "$S" \
		--profile munis
	[ "$status" -eq 2 ]
	[[ "$stderr" == *"has CHANGED"* ]]
	[[ "$stderr" == *"$SSHD_FINGERPRINT"* ]]
	[ "$(records)" -eq 0 ]
	[ ! -e "$S/files/e.csv" ]
}

@test "a pinned fingerprint is enough; a wrong one is refused" {
	munis_csv 1 | put e.csv
	sx --fingerprint "$SSHD_FINGERPRINT" --key "$SSHD_KEY_ED25519" --staging "$S" --profile munis
	[ "$status" -eq 0 ]
	[ "$(records)" -eq 1 ]
	sx --fingerprint "SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA" --key "$SSHD_KEY_ED25519" \
		--staging "$S" --profile munis
	[ "$status" -eq 2 ]
	[[ "$stderr" == *"$SSHD_FINGERPRINT"* ]]
}

@test "a hashed known_hosts file" {
	munis_csv 1 | put e.csv
	grep -q '^|1|' "$SSHD_KNOWN_HOSTS_HASHED"
	sx --known-hosts "$SSHD_KNOWN_HOSTS_HASHED" --key "$SSHD_KEY_ED25519" --staging "$S" \
		--profile munis
	[ "$status" -eq 0 ]
	[ "$(records)" -eq 1 ]
}

@test "a file still growing is not taken (--settle 2, real clock); once still, it is" {
	munis_csv 1 2 3 >"$SSHD_HOME/e.csv"
	# a writer appending a row every 0.2 s
	(
		for i in $(seq 100 160); do
			echo "$i,Last,First,A," >>"$SSHD_HOME/e.csv"
			sleep 0.2
		done
	) 3>&- &
	writer=$!
	sleep 0.3
	sk --profile munis --settle 2 --stats "$T/stats"
	# the writer may have finished already; its end is not what is tested
	kill "$writer" 2>/dev/null || true
	wait "$writer" 2>/dev/null || true
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"e.csv: still being written (its size or time changed); it will be taken on a later run"* ]]
	[ "$(records)" -eq 0 ]
	[[ "$output" != *'"type":"ACTIVATE_VERSION"'* ]]
	[ ! -e "$S/files/e.csv" ]
	[ ! -s "$S/ledger.jsonl" ]
	# the writer is done: after the settle time it is taken
	touch -d '1 minute ago' "$SSHD_HOME/e.csv"
	sk --profile munis --settle 2
	[ "$status" -eq 0 ]
	[ "$(records)" -ge 4 ]
}

@test "marker mode: taken only once {name}.done exists" {
	munis_csv 1 | put e.csv
	sk --profile munis --pattern '*.csv' --marker '{name}.done'
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"no marker e.csv.done yet"* ]]
	[ ! -e "$S/files/e.csv" ]
	# a marker left from before the file was rewritten does not count
	: >"$SSHD_HOME/e.csv.done"
	touch -d '3 hours ago' "$SSHD_HOME/e.csv.done"
	sk --profile munis --pattern '*.csv' --marker '{name}.done'
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"e.csv: the marker e.csv.done is older than the file: the file was rewritten after it; not taken"* ]]
	[ ! -e "$S/files/e.csv" ]
	: | put e.csv.done
	sk --profile munis --pattern '*.csv' --marker '{name}.done'
	[ "$status" -eq 0 ]
	[ "$(records)" -eq 1 ]
}

@test "the ledger: a second run downloads nothing and sends the staged copy; --reprocess fetches" {
	munis_csv 7 8 | put munis_employees_20261128.csv
	sk --profile munis
	[ "$status" -eq 0 ]
	before=$(stat -c '%i %Y %s' "$S/files/munis_employees_20261128.csv")
	# the server's copy is unreadable now: a download would fail
	chmod 000 "$SSHD_HOME/munis_employees_20261128.csv"
	sleep 1.1
	sk --profile munis --stats "$T/stats"
	[ "$status" -eq 0 ]
	[ "$(records)" -eq 2 ]
	[ "$(stat -c '%i %Y %s' "$S/files/munis_employees_20261128.csv")" = "$before" ]
	jq -e '.streams.munis_employees.note | test("^no new file: munis_employees_20261128.csv was ingested on [0-9]{4}-[0-9]{2}-[0-9]{2}; its records are sent again from the staged copy")' "$T/stats"
	# --reprocess downloads again: with the file unreadable that fails, keeping the staged copy
	sk --profile munis --reprocess
	[ "$status" -eq 1 ]
	[ "$(stat -c '%i %Y %s' "$S/files/munis_employees_20261128.csv")" = "$before" ]
	chmod 644 "$SSHD_HOME/munis_employees_20261128.csv"
	sk --profile munis --reprocess
	[ "$status" -eq 0 ]
	[ "$(stat -c '%i %Y %s' "$S/files/munis_employees_20261128.csv")" != "$before" ]
	[[ "$stderr" != *"no new file"* ]]
}

@test "--take newest: by the dates in the names, with the files' times reversed" {
	munis_csv 27 | put munis_employees_20261127.csv
	munis_csv 28 | put munis_employees_20261128.csv
	touch -d '1 hour ago' "$SSHD_HOME/munis_employees_20261127.csv"
	touch -d '5 hours ago' "$SSHD_HOME/munis_employees_20261128.csv"
	sk --profile munis --pattern 'munis_employees_*.csv'
	[ "$status" -eq 0 ]
	[ "$(records)" -eq 1 ]
	[[ "$output" == *'"EmployeeNumber":"28"'* ]]
	[ ! -e "$S/files/munis_employees_20261127.csv" ]
}

@test "--take all: daily Aesop files folded; a later cancellation removes an earlier day" {
	cp "$DROPS/frontline/11-23-2026.txt" "$SSHD_HOME/"
	touch -d '3 hours ago' "$SSHD_HOME/11-23-2026.txt"
	sk --profile aesop --take all
	[ "$status" -eq 0 ]
	# 5 rows, one of them 3 days long: one record a school day
	[ "$(records)" -eq 7 ]
	[[ "$output" == *'"EmployeeExternalId":"1056"'* ]]
	cp "$DROPS/frontline/11-24-2026.txt" "$SSHD_HOME/"
	touch -d '2 hours ago' "$SSHD_HOME/11-24-2026.txt"
	sk --profile aesop --take all --stats "$T/stats"
	[ "$status" -eq 0 ]
	[ "$(records)" -eq 8 ]
	[[ "$output" != *'"EmployeeExternalId":"1056"'* ]]
	[[ "$output" == *'"EmployeeExternalId":"1091"'* ]]
	[[ "$stderr" == *"11-24-2026.txt: 3 rows"* ]]
	[[ "$stderr" != *"11-23-2026.txt: "* ]]
	[ "$(jq -s length "$S/ledger.jsonl")" -eq 2 ]
	[ "$(wc -l <"$S/frontline_absences.fold")" -eq 8 ]
}

@test "a .gz drop is expanded on the way and staged without .gz" {
	munis_csv 1 2 3 | gzip -c | put munis_employees_20261128.csv.gz
	sk --profile munis
	[ "$status" -eq 0 ]
	[ "$(records)" -eq 3 ]
	[ "$(ls -A "$S/files")" = "munis_employees_20261128.csv" ]
	[ "$(jq -r .sha256 "$S/ledger.jsonl")" = "$(sha256sum <"$SSHD_HOME/munis_employees_20261128.csv.gz" | cut -d' ' -f1)" ]
}

@test "a gzip bomb is refused at --max-expanded, leaving no staged file" {
	/usr/bin/python3 -c '
import gzip, sys
with gzip.open(sys.argv[1], "wb") as f:
    f.write(b"EmployeeNumber,LastName,FirstName,Status\n")
    for _ in range(40): f.write(b"1,Last,First,A\n" * (1 << 16))' "$T/bomb.gz"
	put e.csv.gz <"$T/bomb.gz"
	[ "$(stat -c %s "$SSHD_HOME/e.csv.gz")" -lt 100000 ]
	sk --profile munis --max-expanded 2M
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"e.csv.gz: expands past 2097152 bytes (a decompression bomb, or raise max_expanded)"* ]]
	[ -z "$(ls -A "$S/files")" ]
	[ ! -s "$S/ledger.jsonl" ]
}

@test "refused names: a newline and '..' are reported, escaped, and never taken" {
	munis_csv 1 | put good_20261101.csv
	munis_csv 2 | put "bad
name_20261130.csv"
	munis_csv 3 | put "x..y_20261129.csv"
	sk --profile munis --pattern '*.csv'
	[ "$status" -eq 0 ]
	[[ "$stderr" == *"refused the file name 'bad\\nname_20261130.csv'"* ]]
	[[ "$stderr" == *"refused the file name 'x..y_20261129.csv'"* ]]
	[ "$(records)" -eq 1 ]
	[[ "$output" == *'"EmployeeNumber":"1"'* ]]
	[ "$(ls -A "$S/files")" = "good_20261101.csv" ]
}

@test "a connection cut in the second file of a bundle: that stream fails, no partial file, exit 3" {
	cp "$DROPS/sds/orgs.csv" "$DROPS/sds/roles.csv" "$SSHD_HOME/"
	# users.csv of about 2 MB: far more than the proxy lets through
	{
		echo "sourcedId,username,givenName,familyName,password,activeDirectoryMatchId,email,phone,sms"
		seq 1 20000 | awk '{ printf "u-%d,user%d@mapleridge.example,Given%d,Family%d,,,user%d@mapleridge.example,,\n", $1, $1, $1, $1, $1 }'
	} >"$SSHD_HOME/users.csv"
	touch -d '2 hours ago' "$SSHD_HOME"/*
	[ "$(stat -c %s "$SSHD_HOME/users.csv")" -gt 1000000 ]
	cutproxy_start CUT "$SSHD_PORT" 300000
	run --separate-stderr "$ROSTER_BIN/extract-sftp" --host 127.0.0.1 --port "$CUT" \
		--user "$SSHD_USER" --fingerprint "$SSHD_FINGERPRINT" --key "$SSHD_KEY_ED25519" \
		--staging "$S" --profile sds --timeout 20 --stats "$T/stats"
	[ "$status" -eq 3 ]
	jq -e '.streams.sds_orgs.status == "complete" and .streams.sds_roles.status == "complete" and
		.streams.sds_users.status == "failed" and .streams.sds_users.error.kind == "network"' "$T/stats"
	# three attempts, each on a new connection
	[ "$(printf '%s\n' "$stderr" | grep -c 'reconnecting (attempt')" -eq 2 ]
	[ "$(ls -A "$S/files" | sort | tr '\n' ' ')" = "orgs.csv roles.csv " ]
	[[ "$output" != *'"type":"ACTIVATE_VERSION","stream":"sds_users"'* ]]
	[[ "$output" == *'"type":"ACTIVATE_VERSION","stream":"sds_orgs"'* ]]
	jq -r .name "$S/ledger.jsonl" | sort | tr '\n' ' ' | grep -qx 'orgs.csv roles.csv '
}

@test "a connection cut in a single file: exit 1, the previous staged copy kept" {
	munis_csv 1 | put e.csv
	sk --profile munis
	[ "$status" -eq 0 ]
	cp "$S/files/e.csv" "$T/before"
	{
		echo "EmployeeNumber,LastName,FirstName,Status"
		seq 1 60000 | awk '{ printf "%d,Last%d,First%d,A\n", $1, $1, $1 }'
	} | put e.csv
	cutproxy_start CUT "$SSHD_PORT" 200000
	run --separate-stderr "$ROSTER_BIN/extract-sftp" --host 127.0.0.1 --port "$CUT" \
		--user "$SSHD_USER" --fingerprint "$SSHD_FINGERPRINT" --key "$SSHD_KEY_ED25519" \
		--staging "$S" --profile munis --timeout 20
	[ "$status" -eq 1 ]
	cmp "$S/files/e.csv" "$T/before"
	[ "$(ls -A "$S/files")" = "e.csv" ]
	[[ "$output" != *'"type":"ACTIVATE_VERSION"'* ]]
}

@test "--staging is required with SFTP" {
	sx --known-hosts "$SSHD_KNOWN_HOSTS" --key "$SSHD_KEY_ED25519" --profile munis
	[ "$status" -eq 2 ]
	[[ "$stderr" == *"--staging DIR is required"* ]]
}
