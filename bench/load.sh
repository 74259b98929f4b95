#!/bin/sh
# Benchmark of the two stages that hold the whole input (bench/README.md):
# dedupe on the canonical people of N synthetic Clever users, then load-csv
# on dedupe's output, side by side with the same loading in Python
# (bench/load_ref.py) and a DuckDB COPY of the same records to a sorted CSV
# (bench/duckdb/, when node and npm are there); then load-csv onto the
# folder of the night before with 1% of the people changed.
#
#   BUILD=build sh bench/load.sh [N]        (N defaults to 1000000)
#
# Inputs are generated once into $BUILD/bench and kept for reruns. Exits 1
# when a target is missed: dedupe >= 250,000 records/s; load-csv at least
# as fast as DuckDB and >= 4x faster than Python; the peak RSS of dedupe and
# of load-csv each under 1.5 GB (1,500,000 KB) at N.
set -eu
N=${1:-1000000}
BUILD=${BUILD:-build}
PY=/usr/bin/python3
BIN=$BUILD/bin
DIR=$BUILD/bench
CHECK=20000
RSS_LIMIT=1500000

for p in normalize dedupe load-csv; do
	[ -x "$BIN/$p" ] || { echo "load.sh: build $BIN/$p first (make BUILD=$BUILD all)" >&2; exit 2; }
done
mkdir -p "$DIR"

measure() { # INPUT CMD... -> "seconds rss_kb"
	$PY bench/measure.py "$@" || { echo "load.sh: $2 failed" >&2; exit 1; }
}

records() { # FILE -> the number of people RECORD lines in it
	grep -c '^{"type":"RECORD","stream":"people"' "$1" || true
}

users() { # N -> the path of a file of N raw Clever users (as bench/run.sh makes it)
	f=$DIR/users-$1.ndjson
	if [ ! -s "$f" ]; then
		echo "generating $1 users into $f" >&2
		$PY bench/gen-clever-users "$1" >"$f.tmp"
		mv "$f.tmp" "$f"
	fi
	echo "$f"
}

stage() { # NAME SOURCE CMD... -> the path of NAME in $DIR, made by CMD <SOURCE
	f=$DIR/$1 # made again when the program or the source is newer
	shift
	src=$1
	shift
	if [ ! -s "$f" ] || [ "$1" -nt "$f" ] || [ "$src" -nt "$f" ]; then
		echo "making $f" >&2
		"$@" <"$src" >"$f.tmp" 2>"$f.log" || { echo "load.sh: $1 failed (see $f.log)" >&2; exit 1; }
		mv "$f.tmp" "$f"
	fi
	echo "$f"
}

canon() { # N -> normalize's output for N users: canonical people (run.sh's normalize)
	stage "people-$1.canon.ndjson" "$(users "$1")" "$BIN/normalize"
}

merged() { # N -> dedupe's output for N users: what load-csv reads
	stage "people-$1.dedupe.ndjson" "$(canon "$1")" "$BIN/dedupe"
}

# The next night: every 100th people record has a new family_name and
# updated_at; every other line is kept byte for byte.
change_1pct() { # INPUT OUTPUT
	[ -s "$2" ] && [ "$2" -nt "$1" ] && return
	echo "making $2 (1% of the people changed)" >&2
	$PY - "$1" "$2.tmp" <<-'EOF'
		import json, sys
		dump = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
		n = 0
		with open(sys.argv[1], "rb") as inp, open(sys.argv[2], "wb") as out:
		    for line in inp:
		        if line.startswith(b'{"type":"RECORD","stream":"people"'):
		            n += 1
		            if n % 100 == 0:
		                msg = json.loads(line)
		                rec = msg["record"]
		                rec["family_name"] = rec.get("family_name", "") + "-Hart"
		                rec["updated_at"] = "2024-09-03T09:12:44.018Z"
		                line = (dump(msg) + "\n").encode()
		        out.write(line)
	EOF
	mv "$2.tmp" "$2"
}

# Cells the pipeline's data lacks: formula starts, quotes, commas, CR and LF,
# blanks at the ends, ';', ':', '=' and '\' in lists, numbers, booleans,
# \u0000, bytes that are not UTF-8, and the sort of equal keys.
edge_cases() {
	H='{"type":"RECORD","stream":"people","record":{"source":"sis",'
	printf '%s\n' '{"type":"SCHEMA","stream":"people","schema":{}}' \
		"$H"'"source_id":"1","given_name":"=SUM(A1)","family_name":"+1","email":"-5","username":"@x","grade":5,"org_ids":["a;b","c:d","e=f","g\\h",3,true,null],"sources":[{"source":"sis","source_id":"1:2"}],"field_sources":{"given_name":"sis;x","email":"a=b"}}}' \
		"$H"'"source_id":"2","given_name":" lead","family_name":"trail ","email":"a,b","username":"q\"uote","employee_id":"line\nbreak","sis_id":"cr\rx","state_id":"\ttab","grade":1.5,"job_title":1e300,"department":-0.0,"role":12345678901234567890}}' \
		"$H"'"source_id":"3","given_name":"nul\u0000cut","family_name":false,"org_ids":[[1,"n:2"],{"k":"v;w"}],"sources":[],"field_sources":{}}}' \
		"$H"'"source_id":"1","given_name":"same key"}}' "$H"'"source_id":"1","given_name":"same key"}}' \
		"$H"'"source_id":"6","given_name":"Zoë \"Z\" Ødegård","family_name":"\u00e9\u4e2d\ud83d\ude00"}}'
	printf '%s"source_id":"%b","given_name":"bad\377byte","family_name":"cut\342\202","username":"\355\240\200x"}}\n' \
		"$H" 4 "$H" '\0377' "$H" '\0303\0251'
	printf '%s\n' '{"type":"ACTIVATE_VERSION","stream":"people","version":1}' \
		'{"type":"SCHEMA","stream":"groups","schema":{}}' \
		'{"type":"RECORD","stream":"groups","record":{"source":"sis","source_id":"g1","grades":["9","10"],"name":"Math, 9"}}' \
		'{"type":"ACTIVATE_VERSION","stream":"groups","version":1}'
}

# 1. load-csv and Python must write the same files, or the race means nothing.
check_same() { # INPUT NAME -> prints the number of files compared
	rm -rf "$DIR/check-$2.c" "$DIR/check-$2.py"
	"$BIN/load-csv" --out "$DIR/check-$2.c" "$1" 2>"$DIR/check-$2.c.log" ||
		{ echo "load.sh: load-csv failed on $1 (see $DIR/check-$2.c.log)" >&2; exit 1; }
	$PY bench/load_ref.py --out "$DIR/check-$2.py" "$1" 2>"$DIR/check-$2.py.log" ||
		{ echo "load.sh: load_ref.py failed on $1 (see $DIR/check-$2.py.log)" >&2; exit 1; }
	n=0
	for f in "$DIR/check-$2.c"/*.csv; do
		if ! cmp -s "$f" "$DIR/check-$2.py/${f##*/}"; then
			echo "load.sh: load-csv and Python disagree: diff $f $DIR/check-$2.py/${f##*/}" >&2
			exit 1
		fi
		n=$((n + 1))
	done
	echo $n
}
small=$(merged $CHECK)
check_same "$small" main >/dev/null
edge_cases >"$DIR/check-edge.ndjson"
nedge=$(check_same "$DIR/check-edge.ndjson" edge)
echo "check: load-csv and Python write the same people.csv for $(records "$small") records, and the same $nedge files of edge cases"

# DuckDB, when npm can install it; it must run on the check file first.
duck=
duck_version=
DUCK=$DIR/duckdb
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
	echo "duckdb: skipped: node or npm is not installed"
else
	mkdir -p "$DUCK"
	if ! cmp -s bench/duckdb/package.json "$DUCK/package.json" ||
		[ ! -d "$DUCK/node_modules/@duckdb/node-api" ]; then
		cp bench/duckdb/package.json "$DUCK/package.json"
		echo "installing @duckdb/node-api into $DUCK" >&2
		if ! timeout 600 npm install --prefix "$DUCK" --no-audit --no-fund >"$DUCK/npm.log" 2>&1; then
			rm -f "$DUCK/package.json"
			echo "duckdb: skipped: npm install failed: $(grep -m 3 'error' "$DUCK/npm.log" | tr '\n' ' ')(see $DUCK/npm.log)"
		fi
	fi
	cp bench/duckdb/people-csv.mjs "$DUCK/"
	if [ -d "$DUCK/node_modules/@duckdb/node-api" ]; then
		if node "$DUCK/people-csv.mjs" "$small" "$DIR/check-duckdb.csv" 2>"$DUCK/check.log"; then
			duck=yes
			duck_version=$(cd "$DUCK" && node -p "require('./node_modules/@duckdb/node-api/package.json').version")
		else
			echo "duckdb: skipped: it failed on $small: $(head -3 "$DUCK/check.log" | tr '\n' ' ')"
		fi
	fi
fi

# 2. The race, on the same files, page cache warm for all, one after the other.
in=$(canon "$N")
out=$(merged "$N")
next=$DIR/people-$N.dedupe.next.ndjson
change_1pct "$out" "$next"
cat "$in" "$out" "$next" >/dev/null
load=$(cut -d' ' -f1-3 /proc/loadavg)
people_in=$(records "$in")
people=$(records "$out")

r=$(measure "$in" "$BIN/dedupe") || exit 1
set -- $r && t_dd=$1 rss_dd=$2
rm -rf "$DIR/load-csv.out" "$DIR/load-py.out" "$DIR/duckdb-people.csv"
r=$(measure "$out" "$BIN/load-csv" --out "$DIR/load-csv.out") || exit 1
set -- $r && t_load=$1 rss_load=$2
r=$(measure "$out" "$PY" bench/load_ref.py --out "$DIR/load-py.out") || exit 1
set -- $r && t_py=$1 rss_py=$2
# The same people.csv at N too (the manifests hold its SHA-256), before
# the next night replaces load-csv's.
sha() { sed -n 's/.*"stream":"people".*"sha256":"\([0-9a-f]*\)".*/\1/p' "$1/manifest.json"; }
same_n=$([ "$(sha "$DIR/load-csv.out")" = "$(sha "$DIR/load-py.out")" ] && echo same || echo DIFFERENT)
t_duck=0 rss_duck=0
if [ "$duck" ]; then
	if r=$($PY bench/measure.py "$out" node "$DUCK/people-csv.mjs" "$out" "$DIR/duckdb-people.csv"); then
		set -- $r && t_duck=$1 rss_duck=$2
	else
		echo "duckdb: skipped: it failed on $out (see $out.log)"
	fi
fi
r=$(measure "$next" "$BIN/load-csv" --out "$DIR/load-csv.out") || exit 1
set -- $r && t_next=$1 rss_next=$2

# The id map, once dedupe has one: the first night writes it, the next reads it.
ids=
if "$BIN/dedupe" --help 2>&1 | grep -q -- '--ids-out'; then
	in_next=$DIR/people-$N.canon.next.ndjson
	change_1pct "$in" "$in_next"
	rm -f "$DIR/ids-$N.none" "$DIR/ids-$N.1" "$DIR/ids-$N.2" # no map yet: the first night
	if r=$($PY bench/measure.py "$in" "$BIN/dedupe" --ids "$DIR/ids-$N.none" --ids-out "$DIR/ids-$N.1") && set -- $r &&
		t_ids1=$1 rss_ids1=$2 &&
		r=$($PY bench/measure.py "$in_next" "$BIN/dedupe" --ids "$DIR/ids-$N.1" --ids-out "$DIR/ids-$N.2") &&
		set -- $r && t_ids2=$1 rss_ids2=$2; then
		ids=yes
	else
		ids="failed (see $in.log and $in_next.log)"
	fi
fi

mb() { echo $(($(wc -c <"$1") / 1000000)); }
echo "input: $N users -> $people_in people records, $(mb "$in") MB ($in); dedupe output $people records, $(mb "$out") MB"
echo "machine: $(nproc) CPUs, $(sed -n 's/^model name[^:]*: //p' /proc/cpuinfo | head -1); Python $($PY -c 'import platform; print(platform.python_version())')${duck:+; node $(node --version), @duckdb/node-api $duck_version}; load average $load before"
awk -v ni="$people_in" -v n="$people" -v td="$t_dd" -v tl="$t_load" -v tp="$t_py" \
	-v tk="$t_duck" -v tn="$t_next" -v rd="$rss_dd" -v rl="$rss_load" -v rp="$rss_py" \
	-v rk="$rss_duck" -v rn="$rss_next" -v lim="$RSS_LIMIT" -v same="$same_n" \
	-v ids="$ids" -v ti1="${t_ids1:-0}" -v ti2="${t_ids2:-0}" -v ri1="${rss_ids1:-0}" \
	-v ri2="${rss_ids2:-0}" 'BEGIN {
	printf "%-40s %9s %11s %9s %11s\n", "", "seconds", "records/s", "vs load", "peak RSS"
	row("dedupe", td, ni, "", rd)
	row("load-csv --out DIR (empty folder)", tl, n, "1.00x", rl)
	row("python3 bench/load_ref.py --out DIR", tp, n, sprintf("%.2fx", tp / tl), rp)
	if (tk > 0)
		row("DuckDB COPY to CSV (node)", tk, n, sprintf("%.2fx", tk / tl), rk)
	else
		print "DuckDB COPY to CSV (node)                 skipped (above)"
	row("load-csv, next night (1% changed)", tn, n, sprintf("%.2fx", tn / tl), rn)
	if (ids == "yes") {
		row("dedupe --ids NONE --ids-out MAP (first)", ti1, ni, "", ri1)
		row("dedupe --ids MAP --ids-out (next)", ti2, ni, "", ri2)
	} else if (ids != "")
		print "dedupe with an id map: " ids
	else
		print "dedupe with an id map: skipped: dedupe --help has no --ids/--ids-out yet"
	printf "people.csv of load-csv and Python at %d records: %s (manifest sha256)\n", n, same
	printf "peak RSS: dedupe %.2f GB, load-csv %.2f GB (next night %.2f GB)\n", rd / 1e6, rl / 1e6, rn / 1e6
	ok_dd = ni / td >= 250000; ok_py = tp / tl >= 4; ok_rl = rl < lim && rn < lim
	ok_rd = rd < lim && ri1 < lim && ri2 < lim
	ok_dk = tk == 0 || tl <= tk
	printf "targets: dedupe >= 250000 records/s %s, load-csv >= DuckDB %s, >= 4x Python %s,\n",
		ok_dd ? "met" : "MISSED", tk == 0 ? "not measured" : ok_dk ? "met" : "MISSED",
		ok_py ? "met" : "MISSED"
	printf "         peak RSS < 1.5 GB: dedupe %s, load-csv %s\n", ok_rd ? "met" : "MISSED",
		ok_rl ? "met" : "MISSED"
	exit !(ok_dd && ok_py && ok_dk && ok_rd && ok_rl && same == "same")
}
function row(name, t, recs, vs, rss) {
	printf "%-40s %9.2f %11.0f %9s %8.0f MB\n", name, t, recs / t, vs, rss / 1000
}'
