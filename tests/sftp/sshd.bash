# A real OpenSSH sshd for the SFTP tests (bats: load sftp/sshd; see README.md).
#
# sshd_start DIR   starts /usr/sbin/sshd -D on 127.0.0.1 and a free port,
#                  internal-sftp only, with a fresh ed25519 host key and
#                  fresh client keys in DIR; sets SSHD_PORT, SSHD_PID,
#                  SSHD_USER, SSHD_HOME, SSHD_KNOWN_HOSTS,
#                  SSHD_KNOWN_HOSTS_HASHED, SSHD_FINGERPRINT,
#                  SSHD_KEY_ED25519, SSHD_KEY_RSA, SSHD_KEY_ENC,
#                  SSHD_PASSPHRASE, SSHD_PASSWORD. Needs root: sshd runs
#                  as root and the login is a dedicated system user.
# sshd_stop        stops sshd and any cut proxies, removes SSHD_HOME.
#                  SSHD_EXTRA_CONFIG, when set, holds sshd_config lines
#                  that win over the defaults (e.g. "PasswordAuthentication no").
# cutproxy_start VAR TARGET_PORT BYTES
#                  a TCP proxy to 127.0.0.1:TARGET_PORT that closes both
#                  sides once BYTES bytes have gone server->client; its
#                  port in the variable named VAR.
#
# Background processes close fd 3 so that bats does not wait for them.

SSHD_USER=roster-sftp
# The login's password lives only here (root-only), so that several test
# runs at once share it instead of changing it under each other.
_SSHD_STATE=/var/lib/roster-sftp-tests
_SSHD_PROXY_PIDS=()

_sshd_fail() {
	echo "sshd.bash: $*" >&2
	return 1
}

_sshd_random() { # a random secret of letters and digits on stdout
	head -c 48 /dev/urandom | base64 -w0 | tr -dc 'A-Za-z0-9' | head -c 32
}

_sshd_free_port() {
	/usr/bin/python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])'
}

_sshd_port_open() { # port: 0 when something accepts on 127.0.0.1:port
	(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# The dedicated login, created once; its password set once and kept in a
# root-only file. The shell is nologin: internal-sftp needs none.
_sshd_user() {
	mkdir -p "$_SSHD_STATE" && chmod 700 "$_SSHD_STATE" || return 1
	(
		flock 9
		if ! id "$SSHD_USER" >/dev/null 2>&1; then
			useradd --system --create-home --shell /usr/sbin/nologin \
				--comment "roster SFTP tests" "$SSHD_USER" ||
				exit 1
			rm -f "$_SSHD_STATE/password"
		fi
		if [ ! -s "$_SSHD_STATE/password" ]; then
			local pw
			pw=$(_sshd_random)
			# printf is a builtin: the password is in no process's argv
			(umask 077 && printf '%s\n' "$pw" >"$_SSHD_STATE/password.new") &&
				printf '%s:%s\n' "$SSHD_USER" "$pw" | chpasswd &&
				mv "$_SSHD_STATE/password.new" "$_SSHD_STATE/password" ||
				exit 1
		fi
	) 9>"$_SSHD_STATE/lock"
}

# ssh-keygen reads a new key's passphrase from SSH_ASKPASS when forced to,
# which keeps the passphrase out of argv (-N would put it there).
_sshd_keygen_enc() { # file type passphrase
	local ask="$_SSHD_DIR/askpass.sh"
	printf '#!/bin/sh\nprintf "%%s\\n" "$SSHD_ASKPASS_SECRET"\n' >"$ask"
	chmod 700 "$ask"
	SSHD_ASKPASS_SECRET=$3 SSH_ASKPASS=$ask SSH_ASKPASS_REQUIRE=force DISPLAY= \
		ssh-keygen -q -t "$2" -f "$1" -C "roster-test" </dev/null >/dev/null 2>&1 3>&-
	local rc=$?
	rm -f "$ask"
	return $rc
}

sshd_start() {
	local dir=$1
	[ -n "$dir" ] || { _sshd_fail "usage: sshd_start DIR"; return 1; }
	if [ "$(id -u)" != 0 ]; then
		_sshd_fail "the SFTP tests need root: they run the system's sshd on a" \
			"loopback port and log in as a dedicated user (run make check as root)"
		return 1
	fi
	[ -x /usr/sbin/sshd ] || { _sshd_fail "/usr/sbin/sshd is missing (apt-get install openssh-server)"; return 1; }
	mkdir -p "$dir" && dir=$(cd "$dir" && pwd) || return 1
	_SSHD_DIR=$dir
	_SSHD_PROXY_PIDS=()
	# sshd's privilege separation folder
	mkdir -p /run/sshd && chmod 755 /run/sshd || return 1
	_sshd_user || { _sshd_fail "cannot create the login $SSHD_USER or set its password"; return 1; }
	SSHD_PASSWORD=$(cat "$_SSHD_STATE/password") || return 1

	# sshd reads authorized_keys as the user and the user reads the served
	# files, so both live in a folder every user can traverse (a test's
	# temporary folder usually is not).
	_SSHD_SHARE=$(mktemp -d /tmp/roster-sshd.XXXXXX) || return 1
	chmod 755 "$_SSHD_SHARE"
	echo "$_SSHD_SHARE" >"$dir/share" # for sshd-env.sh stop
	SSHD_HOME=$_SSHD_SHARE/home
	mkdir -m 755 "$SSHD_HOME" || return 1

	local k
	ssh-keygen -q -t ed25519 -N '' -C roster-test-host -f "$dir/host_ed25519" 3>&- || return 1
	SSHD_KEY_ED25519=$dir/client_ed25519
	SSHD_KEY_RSA=$dir/client_rsa
	SSHD_KEY_ENC=$dir/client_enc
	ssh-keygen -q -t ed25519 -N '' -C roster-test -f "$SSHD_KEY_ED25519" 3>&- || return 1
	ssh-keygen -q -t rsa -b 2048 -N '' -C roster-test -f "$SSHD_KEY_RSA" 3>&- || return 1
	SSHD_PASSPHRASE=$(_sshd_random)
	_sshd_keygen_enc "$SSHD_KEY_ENC" ed25519 "$SSHD_PASSPHRASE" ||
		{ _sshd_fail "ssh-keygen could not write the encrypted key"; return 1; }
	for k in "$SSHD_KEY_ED25519" "$SSHD_KEY_RSA" "$SSHD_KEY_ENC"; do
		chmod 600 "$k" && cat "$k.pub"
	done >"$_SSHD_SHARE/authorized_keys"
	chmod 644 "$_SSHD_SHARE/authorized_keys"

	SSHD_FINGERPRINT=$(ssh-keygen -lf "$dir/host_ed25519.pub" | awk '{print $2}')
	case $SSHD_FINGERPRINT in
	SHA256:*) ;;
	*) _sshd_fail "ssh-keygen -l printed no SHA256 fingerprint"; return 1 ;;
	esac

	# A free port can be taken between the probe and sshd's bind: retry.
	local try port pid
	for try in 1 2 3 4 5; do
		port=$(_sshd_free_port) || return 1
		# SSHD_EXTRA_CONFIG first: sshd keeps the first value of a keyword
		printf '%s\n' "${SSHD_EXTRA_CONFIG:-}" >"$dir/sshd_config"
		cat >>"$dir/sshd_config" <<EOF
ListenAddress 127.0.0.1
Port $port
HostKey $dir/host_ed25519
PidFile $dir/sshd.pid
AuthorizedKeysFile $_SSHD_SHARE/authorized_keys
StrictModes no
UsePAM no
PasswordAuthentication yes
KbdInteractiveAuthentication no
PubkeyAuthentication yes
PermitRootLogin no
AllowUsers $SSHD_USER
Subsystem sftp internal-sftp
ForceCommand internal-sftp -d $SSHD_HOME
LogLevel VERBOSE
EOF
		/usr/sbin/sshd -D -f "$dir/sshd_config" -E "$dir/sshd.log" </dev/null >/dev/null 2>&1 3>&- &
		pid=$!
		local i
		for i in $(seq 100); do
			kill -0 "$pid" 2>/dev/null || break
			_sshd_port_open "$port" && break
			sleep 0.05
		done
		if kill -0 "$pid" 2>/dev/null && _sshd_port_open "$port"; then
			SSHD_PORT=$port
			SSHD_PID=$pid
			break
		fi
		kill "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
		grep -q 'Bind to port' "$dir/sshd.log" 2>/dev/null || break
	done
	if [ -z "${SSHD_PID:-}" ] || [ "$SSHD_PID" != "$pid" ]; then
		_sshd_fail "sshd did not start; its log:"
		sed 's/^/  /' "$dir/sshd.log" >&2
		rm -rf "$_SSHD_SHARE"
		return 1
	fi

	SSHD_KNOWN_HOSTS=$dir/known_hosts
	SSHD_KNOWN_HOSTS_HASHED=$dir/known_hosts_hashed
	echo "[127.0.0.1]:$SSHD_PORT $(cut -d' ' -f1,2 "$dir/host_ed25519.pub")" >"$SSHD_KNOWN_HOSTS"
	cp "$SSHD_KNOWN_HOSTS" "$SSHD_KNOWN_HOSTS_HASHED"
	ssh-keygen -q -H -f "$SSHD_KNOWN_HOSTS_HASHED" >/dev/null 2>&1 3>&- || return 1
	rm -f "$SSHD_KNOWN_HOSTS_HASHED.old"
	export SSHD_PORT SSHD_PID SSHD_USER SSHD_HOME SSHD_KNOWN_HOSTS SSHD_KNOWN_HOSTS_HASHED \
		SSHD_FINGERPRINT SSHD_KEY_ED25519 SSHD_KEY_RSA SSHD_KEY_ENC
	return 0
}

sshd_stop() {
	local p
	for p in "${_SSHD_PROXY_PIDS[@]}"; do
		kill "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	_SSHD_PROXY_PIDS=()
	if [ -n "${SSHD_PID:-}" ]; then
		# sshd -D: the listener; its session children end with their clients
		kill "$SSHD_PID" 2>/dev/null
		wait "$SSHD_PID" 2>/dev/null
		SSHD_PID=
	fi
	if [ -n "${_SSHD_SHARE:-}" ]; then
		rm -rf "$_SSHD_SHARE"
		_SSHD_SHARE=
	fi
	return 0
}

cutproxy_start() {
	local var=$1 target=$2 bytes=$3 pf i
	pf=$(mktemp "${_SSHD_DIR:-${TMPDIR:-/tmp}}/cutproxy.XXXXXX") || return 1
	: >"$pf"
	/usr/bin/python3 "${BASH_SOURCE[0]%/*}/cutproxy.py" --port-file "$pf" \
		--target "$target" --bytes "$bytes" </dev/null >/dev/null 2>>"$pf.err" 3>&- &
	_SSHD_PROXY_PIDS+=($!)
	echo $! >>"${_SSHD_DIR:-${TMPDIR:-/tmp}}/cutproxy.pids" # for sshd-env.sh stop
	for i in $(seq 100); do
		[ -s "$pf" ] && break
		sleep 0.05
	done
	[ -s "$pf" ] || { _sshd_fail "cutproxy did not start"; cat "$pf.err" >&2; return 1; }
	printf -v "$var" '%s' "$(cat "$pf")"
}
