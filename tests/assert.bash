# Assertions for the bats files (load assert, or load ../assert).
#
# bats runs a test with set -e, which ignores a failing "! cmd" and the
# first part of "a && b" anywhere but in the test's last line: written
# that way, a check cannot fail. These fail wherever they are.

# no_line GREP-ARGS...: grep finds no line. Its exit must be exactly 1: 0
# is a line found, and 2 (a file missing or unreadable) is a failure too,
# not a pass.
no_line() {
	local rc=0
	grep "$@" >/dev/null || rc=$?
	if [ "$rc" -ne 1 ]; then
		echo "grep $*: exit $rc, expected 1 (no line)" >&2
		return 1
	fi
}
