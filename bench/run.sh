#!/bin/sh
# Benchmark of normalize (bench/README.md). The clever_users -> people
# mapping done by normalize, by the same mapping in jq (bench/clever_users.jq)
# and in Python (bench/normalize_ref.py), side by side on one input of N
# synthetic users; then normalize's peak RSS at N/10 and at N records.
#
#   BUILD=build sh bench/run.sh [N]        (N defaults to 1000000)
#
# Inputs are generated once into $BUILD/bench and kept for reruns. Exits 1
# when a target is missed: normalize >= 8x faster than jq and >= 4x faster
# than Python, and its peak RSS at N within 10% of that at N/10.
set -eu
N=${1:-1000000}
BUILD=${BUILD:-build}
PY=/usr/bin/python3
BIN=$BUILD/bin/normalize
DIR=$BUILD/bench
SMALL=$((N / 10))

[ -x "$BIN" ] || { echo "run.sh: build $BIN first (make $BIN)" >&2; exit 2; }
command -v jq >/dev/null || { echo "run.sh: jq is not installed" >&2; exit 2; }
mkdir -p "$DIR"

input() { # N -> the path of a file of N users
	f=$DIR/users-$1.ndjson
	if [ ! -s "$f" ]; then
		echo "generating $1 users into $f" >&2
		$PY bench/gen-clever-users "$1" >"$f.tmp"
		mv "$f.tmp" "$f"
	fi
	echo "$f"
}

measure() { # INPUT CMD... -> "seconds rss_kb"
	$PY bench/measure.py "$@" || { echo "run.sh: $2 failed" >&2; exit 1; }
}

# 1. The three must agree, or the race means nothing.
check=$(input 20000)
"$BIN" "$check" 2>/dev/null | grep '^{"type":"RECORD"' >"$DIR/check.normalize"
jq -c -f bench/clever_users.jq "$check" >"$DIR/check.jq"
$PY bench/normalize_ref.py <"$check" >"$DIR/check.py"
for other in jq py; do
	if ! cmp -s "$DIR/check.normalize" "$DIR/check.$other"; then
		echo "run.sh: normalize and $other disagree: diff $DIR/check.normalize $DIR/check.$other" >&2
		exit 1
	fi
done
echo "check: normalize, jq and Python write the same $(wc -l <"$DIR/check.py") records"

# 2. The race, on the same file, page cache warm for all.
big=$(input "$N")
small=$(input "$SMALL")
echo . >"$DIR/identity.jq"
cat "$big" >/dev/null
r=$(measure "$big" "$BIN") && set -- $r && t_norm=$1 rss_big=$2
r=$(measure "$big" jq -c -f bench/clever_users.jq) && set -- $r && t_jq=$1
r=$(measure "$big" "$PY" bench/normalize_ref.py) && set -- $r && t_py=$1
r=$(measure "$big" "$BIN" --jq "$DIR/identity.jq") && set -- $r && t_normjq=$1
r=$(measure "$small" "$BIN") && set -- $r && rss_small=$2

mb=$(($(wc -c <"$big") / 1000000))
echo "input: $N clever_users records, $mb MB ($big)"
echo "machine: $(nproc) CPUs, $(sed -n 's/^model name[^:]*: //p' /proc/cpuinfo | head -1); $(jq --version); Python $($PY -c 'import platform; print(platform.python_version())')"
awk -v n="$N" -v s="$SMALL" -v mb="$mb" -v tn="$t_norm" -v tj="$t_jq" -v tp="$t_py" \
	-v tq="$t_normjq" -v rb="$rss_big" -v rs="$rss_small" 'BEGIN {
	printf "%-36s %9s %12s %9s\n", "", "seconds", "records/s", "vs normalize"
	printf "%-36s %9.2f %12.0f %9s\n", "normalize", tn, n / tn, "1.0x"
	printf "%-36s %9.2f %12.0f %8.1fx\n", "jq -c -f bench/clever_users.jq", tj, n / tj, tj / tn
	printf "%-36s %9.2f %12.0f %8.1fx\n", "python3 bench/normalize_ref.py", tp, n / tp, tp / tn
	printf "%-36s %9.2f %12.0f %8.1fx\n", "normalize --jq . (jv path, for info)", tq, n / tq, tq / tn
	printf "normalize peak RSS: %d KB at %d records, %d KB at %d (%+.1f%%)\n", rs, s, rb, n, (rb - rs) * 100 / rs
	ok_jq = tj / tn >= 8; ok_py = tp / tn >= 4; ok_rss = rb <= rs * 1.10
	printf "targets: >= 8x jq %s, >= 4x Python %s, RSS within 10%% %s\n", ok_jq ? "met" : "MISSED",
		ok_py ? "met" : "MISSED", ok_rss ? "met" : "MISSED"
	exit !(ok_jq && ok_py && ok_rss)
}'
