#!/usr/bin/env bats
# creds: the key file and the credentials file are used only when they are
# regular files of the user running creds, closed to group and others, and
# not too big. Every one of the 512 permission modes is tried on each.

setup() {
	T=$(mktemp -d)
	F="$T/creds"
	K="$T/creds.key"
	unset ROSTER_CREDENTIALS ROSTER_FAKE_CLOCK
	creds keygen 2>/dev/null
	printf 'mode-probe-value' | creds set a 2>/dev/null
	cp -p "$F" "$T/orig"
}

teardown() {
	chmod -R u+rwX "$T" 2>/dev/null || true
	rm -rf "$T"
}

creds() {
	"$ROSTER_BIN/creds" --file "$F" "$@"
}

# sweep FILE: sets FILE to each mode 0000..0777 in turn and runs `creds
# list`. It must succeed exactly when no group or other bit is set and the
# owner may read (root reads anything); a refusal for group or other bits
# must name the file and say "chmod 600 FILE"; a file the owner may not
# read is exit 2 too, saying it cannot be read. Prints every mismatch.
sweep() {
	local target=$1 m mode rc out want bad=0 root=0
	[ "$(id -u)" -eq 0 ] && root=1
	for ((m = 0; m < 512; m++)); do
		printf -v mode '%04o' "$m"
		chmod "$mode" "$target"
		rc=0
		# no command substitution: two forks a mode would double the time
		"$ROSTER_BIN/creds" --file "$F" list >"$T/out" 2>&1 || rc=$?
		out=
		read -r -d '' out <"$T/out" || true
		want=0
		((m & 077)) && want=2
		((want == 0 && !root && !(m & 0400))) && want=unreadable
		case $want in
		0)
			if [ $rc -ne 0 ] || [[ "$out" != a$'\t'* ]]; then
				echo "$mode: want success, got $rc: $out"
				bad=1
			fi
			;;
		2)
			if [ $rc -ne 2 ] || [[ "$out" != *"$target"* ]]; then
				echo "$mode: want exit 2 naming $target, got $rc: $out"
				bad=1
			elif ((root || m & 0400)) && [[ "$out" != *"chmod 600 $target"* ]]; then
				echo "$mode: no 'chmod 600 $target' in: $out"
				bad=1
			fi
			;;
		unreadable)
			if [ $rc -ne 2 ] || [[ "$out" != *"$target cannot be read: Permission denied"* ]]; then
				echo "$mode: want exit 2, '$target cannot be read', got $rc: $out"
				bad=1
			fi
			;;
		esac
	done
	chmod 600 "$target"
	return $bad
}

@test "the key file: every mode 0000..0777, usable only when closed to group and others" {
	sweep "$K"
	cmp "$F" "$T/orig"
	run creds list
	[ "$status" -eq 0 ]
}

@test "the credentials file: every mode 0000..0777, usable only when closed to group and others" {
	sweep "$F"
	cmp "$F" "$T/orig"
	run creds list
	[ "$status" -eq 0 ]
}

@test "a file its owner may not read (no 0400 bit) is exit 2, for an ordinary user" {
	# root reads any file, so the sweeps above see this only when they run
	# as another user; as root, the store is copied to one for nobody
	local as=() d=$T
	if [ "$(id -u)" -eq 0 ]; then
		chmod 711 "$T"
		d="$T/nobody"
		mkdir "$d"
		cp -p "$F" "$K" "$d/"
		chown -R 65534:65534 "$d"
		as=(setpriv --reuid=65534 --regid=65534 --clear-groups)
	fi
	for target in "$d/creds.key" "$d/creds"; do
		for mode in 0000 0100 0200 0300; do
			chmod "$mode" "$target"
			run "${as[@]}" "$ROSTER_BIN/creds" --file "$d/creds" list
			echo "$target $mode: $status $output"
			[ "$status" -eq 2 ]
			[[ "$output" == *"$target cannot be read: Permission denied"* ]]
			[[ "$output" == *"chmod 600 $target"* ]]
		done
		chmod 600 "$target"
		run "${as[@]}" "$ROSTER_BIN/creds" --file "$d/creds" list
		[ "$status" -eq 0 ]
		[[ "$output" == a$'\t'* ]]
	done
}

@test "set, remove and rotate refuse an open file too, and do not change it" {
	for target in "$K" "$F"; do
		cp -p "$K" "$T/key.orig"
		chmod 640 "$target"
		run bash -c 'printf new-value | "$0" --file "$1" set b' "$ROSTER_BIN/creds" "$F"
		[ "$status" -eq 2 ]
		[[ "$output" == *"chmod 600 $target"* ]]
		for cmd in "remove a" rotate check; do
			run creds $cmd
			echo "$target, $cmd: $status $output"
			[ "$status" -eq 2 ]
			[[ "$output" == *"chmod 600 $target"* ]]
		done
		cmp "$F" "$T/orig"
		cmp "$K" "$T/key.orig"
		[ "$(stat -c %a "$target")" = 640 ] # refused, not quietly "fixed"
		[ ! -e "$K.new" ]
		chmod 600 "$target"
	done
}

@test "a key or credentials file owned by another user is refused with a chown hint" {
	if [ "$(id -u)" -eq 0 ]; then
		for target in "$K" "$F"; do
			chown 65534:65534 "$target" # nobody, still mode 0600
			run creds list
			echo "$target: $status $output"
			[ "$status" -eq 2 ]
			[[ "$output" == *chown*"$target"* ]]
			chown 0:0 "$target"
			run creds list
			[ "$status" -eq 0 ]
		done
	else
		# a normal user cannot give a file away: use a readable file of root's
		other=/etc/passwd
		[ ! -O "$other" ]
		[ -r "$other" ]
		[ -f "$other" ]
		run creds --key "$other" list
		echo "$status $output"
		[ "$status" -eq 2 ]
		[[ "$output" == *chown*"$other"* ]]
		run "$ROSTER_BIN/creds" --file "$other" --key "$K" list
		echo "$status $output"
		[ "$status" -eq 2 ]
		[[ "$output" == *chown*"$other"* ]]
	fi
}

@test "a symlinked key or credentials file is refused" {
	ln -s creds.key "$T/link.key"
	ln -s creds "$T/link"
	run creds --key "$T/link.key" list
	echo "$output"
	[ "$status" -eq 2 ]
	[[ "$output" == *"$T/link.key"* ]]
	run "$ROSTER_BIN/creds" --file "$T/link" --key "$K" list
	echo "$output"
	[ "$status" -eq 2 ]
	[[ "$output" == *"$T/link"* ]]
	# nor written through
	run bash -c 'printf v | "$0" --file "$1" --key "$2" set b' "$ROSTER_BIN/creds" "$T/link" "$K"
	[ "$status" -eq 2 ]
	[ -L "$T/link" ]
	cmp "$F" "$T/orig"
}

@test "a key or credentials file that is not a regular file is refused (no hang on a FIFO)" {
	mkdir "$T/dir"
	mkfifo "$T/fifo"
	for k in /dev/null "$T/dir" "$T/fifo"; do
		run timeout 10 "$ROSTER_BIN/creds" --file "$F" --key "$k" list
		echo "key $k: $status $output"
		[ "$status" -eq 2 ]
		[[ "$output" == *"$k"* ]]
		run timeout 10 "$ROSTER_BIN/creds" --file "$k" --key "$K" list
		echo "file $k: $status $output"
		[ "$status" -eq 2 ]
		[[ "$output" == *"$k"* ]]
	done
}

@test "a key file over 256 bytes or a credentials file over 4 MiB is refused for its size" {
	{
		cat "$K"
		head -c 300 /dev/zero | tr '\0' '\n'
	} >"$T/big.key"
	chmod 600 "$T/big.key"
	run creds --key "$T/big.key" list
	echo "$output"
	[ "$status" -eq 2 ]
	[[ "$output" == *"$T/big.key"* ]]
	[[ "$output" =~ too\ (big|large)|bytes|size|larger ]]
	{
		cat "$F"
		head -c $((4 * 1024 * 1024)) /dev/zero | tr '\0' '\n'
	} >"$T/big"
	chmod 600 "$T/big"
	run "$ROSTER_BIN/creds" --file "$T/big" --key "$K" list
	echo "$output"
	[ "$status" -eq 2 ]
	[[ "$output" == *"$T/big"* ]]
	[[ "$output" =~ too\ (big|large)|bytes|size|larger|MiB ]]
	# files of exactly the limits are read (and refused for what they hold)
	head -c 256 /dev/zero | tr '\0' A >"$T/edge.key" # not a key, but not too big
	head -c $((4 * 1024 * 1024)) "$T/big" >"$T/edge"
	chmod 600 "$T/edge.key" "$T/edge"
	run creds --key "$T/edge.key" list
	echo "$output"
	[ "$status" -eq 2 ]
	[[ "$output" == *"$T/edge.key"* ]]
	[[ ! "$output" =~ too\ (big|large)|larger|memory ]]
	run "$ROSTER_BIN/creds" --file "$T/edge" --key "$K" list
	echo "$output"
	[ "$status" -eq 2 ]
	[[ "$output" == *altered* ]]
	[[ ! "$output" =~ too\ (big|large)|larger|memory ]]
}
