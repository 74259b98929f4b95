# Loaded by bats files that run run-job without vendors: stub_bin DIR makes
# a --bindir folder where
#   extract-clever, extract-graph, extract-google  write their arguments to
#       $STUB_LOG/extract-TYPE.args (one a line), a statistics file for
#       --stats, and print $STUB_DATA/TYPE.ndjson (canonical messages, so
#       that normalize can pass them on); $STUB_EXIT_TYPE, when set, is
#       their exit code (after printing);
#   normalize  writes its arguments to $STUB_LOG/normalize.N.args (N: 0, 1,
#       ... in run order), refuses a --role-rules value starting with "bad"
#       as the real one refuses a rule it cannot read (exit 2), and
#       otherwise copies its input;
#   dedupe, load-csv  are the real programs of $ROSTER_BIN.

stub_bin() {
	local dir=$1 t
	mkdir -p "$dir"
	for t in clever graph google; do
		cat >"$dir/extract-$t" <<EOF
#!/bin/sh
printf '%s\n' "\$@" >"\$STUB_LOG/extract-$t.args"
stats= prev=
for a in "\$@"; do
	[ "\$prev" = --stats ] && stats=\$a
	prev=\$a
done
n=\$(grep -c '"type":"RECORD"' "\$STUB_DATA/$t.ndjson")
[ -n "\$stats" ] && printf '{"streams":{"${t}_users":{"status":"complete","records":%s}}}\n' "\$n" >"\$stats"
cat "\$STUB_DATA/$t.ndjson"
exit \${STUB_EXIT_$t:-0}
EOF
		chmod +x "$dir/extract-$t"
	done
	cat >"$dir/normalize" <<'EOF'
#!/bin/sh
n=$(ls "$STUB_LOG" | grep -c '^normalize\.')
printf '%s\n' "$@" >"$STUB_LOG/normalize.$n.args"
prev=
for a in "$@"; do
	if [ "$prev" = --role-rules ]; then
		case $a in bad*)
			echo "normalize: --role-rules: '$a' is not KIND:MATCH=ROLE" >&2
			exit 2
		esac
	fi
	prev=$a
done
exec cat
EOF
	chmod +x "$dir/normalize"
	ln -sf "$ROSTER_BIN/dedupe" "$ROSTER_BIN/load-csv" "$dir/"
}
