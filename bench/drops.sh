#!/bin/sh
# Benchmark of reading a file drop (bench/README.md). A Tyler Munis HR CSV
# extract of N synthetic rows (bench/gen-munis) read by extract-sftp
# --profile munis --local and by the same reading in Python
# (bench/drops_ref.py), side by side on one file; then extract-sftp's peak
# RSS at N/10 and at N rows.
#
#   BUILD=build sh bench/drops.sh [N]        (N defaults to 300000)
#
# Each runs RUNS times (default 3), taking turns: the best time of each
# counts, the highest peak RSS. Inputs are generated once into $BUILD/bench
# and kept for reruns. Exits 1 when a target is missed: extract-sftp >= 3x
# faster than Python, and its peak RSS at N within 10% of that at N/10.
set -eu
N=${1:-300000}
BUILD=${BUILD:-build}
PY=/usr/bin/python3
BIN=$BUILD/bin/extract-sftp
DIR=$BUILD/bench
SMALL=$((N / 10))
RUNS=${RUNS:-3}
CHECK=20000
# extract-sftp runs with --settle 0: the inputs may have just been written,
# and a file changed in the last 60 seconds is looked at again a minute later.

[ -x "$BIN" ] || { echo "drops.sh: build $BIN first (make $BIN)" >&2; exit 2; }
[ "$RUNS" -ge 1 ] 2>/dev/null || { echo "drops.sh: RUNS must be a number >= 1" >&2; exit 2; }
mkdir -p "$DIR"

input() { # N -> the path of a Munis extract of N rows
	f=$DIR/munis-$1.csv
	if [ ! -s "$f" ]; then
		echo "generating $1 Munis rows into $f" >&2
		$PY bench/gen-munis "$1" >"$f.tmp"
		mv "$f.tmp" "$f"
	fi
	echo "$f"
}

measure() { # INPUT CMD... -> "seconds rss_kb"
	$PY bench/measure.py "$@" || { echo "drops.sh: $2 failed" >&2; exit 1; }
}

pick() { # min|max A B -> the smaller or larger number (B may be empty)
	awk -v m="$1" -v a="$2" -v b="$3" 'BEGIN {
		print (b == "" || (m == "min" ? a + 0 < b + 0 : a + 0 > b + 0)) ? a : b }'
}

# 1. The two must agree, or the race means nothing.
check=$(input $CHECK)
"$BIN" --profile munis --settle 0 --local "$check" >"$DIR/check.sftp" 2>"$DIR/check.sftp.log" ||
	{ echo "drops.sh: $BIN failed on $check (see $DIR/check.sftp.log)" >&2; exit 1; }
$PY bench/drops_ref.py "$check" >"$DIR/check.py" 2>"$DIR/check.py.log" ||
	{ echo "drops.sh: drops_ref.py failed on $check (see $DIR/check.py.log)" >&2; exit 1; }
same=$($PY bench/drops_ref.py --compare "$DIR/check.sftp" "$DIR/check.py") ||
	{ echo "drops.sh: extract-sftp and Python disagree (above): $DIR/check.sftp $DIR/check.py" >&2; exit 1; }
if [ "$same" != $CHECK ]; then
	echo "drops.sh: $same records from $CHECK rows: rows were dropped ($DIR/check.sftp.log)" >&2
	exit 1
fi
if grep -q '900-[0-9][0-9]-[0-9]' "$DIR/check.sftp"; then
	echo "drops.sh: an SSN got into $DIR/check.sftp" >&2
	exit 1
fi
echo "check: extract-sftp and Python write the same $same records (SSN dropped)"

# 2. The race, on the same file, page cache warm for both.
big=$(input "$N")
small=$(input "$SMALL")
cat "$big" "$small" >/dev/null
t_sftp= t_py= rss_big= rss_small= rss_py=
i=0
while [ $i -lt "$RUNS" ]; do
	i=$((i + 1))
	r=$(measure "$big" "$BIN" --profile munis --settle 0 --local "$big") && set -- $r
	t_sftp=$(pick min "$1" "$t_sftp") rss_big=$(pick max "$2" "$rss_big")
	r=$(measure "$big" "$PY" bench/drops_ref.py "$big") && set -- $r
	t_py=$(pick min "$1" "$t_py") rss_py=$(pick max "$2" "$rss_py")
	r=$(measure "$small" "$BIN" --profile munis --settle 0 --local "$small") && set -- $r
	rss_small=$(pick max "$2" "$rss_small")
done

mb=$(($(wc -c <"$big") / 1000000))
echo "input: $N Munis rows, $mb MB, Windows-1252 CSV ($big); best of $RUNS runs"
echo "machine: $(nproc) CPUs, $(sed -n 's/^model name[^:]*: //p' /proc/cpuinfo | head -1); Python $($PY -c 'import platform; print(platform.python_version())')"
awk -v n="$N" -v s="$SMALL" -v ts="$t_sftp" -v tp="$t_py" -v rb="$rss_big" -v rs="$rss_small" \
	-v rp="$rss_py" 'BEGIN {
	printf "%-36s %9s %12s %16s\n", "", "seconds", "rows/s", "vs extract-sftp"
	printf "%-36s %9.2f %12.0f %16s\n", "extract-sftp --profile munis", ts, n / ts, "1.0x"
	printf "%-36s %9.2f %12.0f %15.1fx\n", "python3 bench/drops_ref.py", tp, n / tp, tp / ts
	printf "extract-sftp peak RSS: %d KB at %d rows, %d KB at %d (%+.1f%%); Python %d KB at %d\n",
		rs, s, rb, n, (rb - rs) * 100 / rs, rp, n
	ok_py = tp / ts >= 3; ok_rss = rb <= rs * 1.10
	printf "targets: >= 3x Python %s, RSS within 10%% %s\n", ok_py ? "met" : "MISSED",
		ok_rss ? "met" : "MISSED"
	exit !(ok_py && ok_rss)
}'
