#!/usr/bin/env bats
# The layers of lib/ (lib/README.md): the tree keeps them, and the check
# refuses each way of breaking them, naming the file, the line and why.

CHECK="$BATS_TEST_DIRNAME/layering.py"
TOP="$BATS_TEST_DIRNAME/.."

setup() {
	T=$(mktemp -d)
	mkdir -p "$T/lib/core" "$T/lib/net" "$T/lib/engine" "$T/lib/vendor/a" "$T/lib/vendor/b"
	printf '#include "core/buf.h"\n' >"$T/lib/core/err.c"
	printf '/* a buffer */\n' >"$T/lib/core/buf.h"
	printf '#include "core/buf.h"\n' >"$T/lib/net/http.h"
	printf '#include "net/http.h"\n#include "core/buf.h"\n' >"$T/lib/engine/run.c"
	printf '#include "engine/vendor.h"\n' >"$T/lib/engine/vendor.h"
	printf '#include "vendor/a/a.h"\n#include "engine/vendor.h"\n' >"$T/lib/vendor/a/api.c"
	printf '/* a */\n' >"$T/lib/vendor/a/a.h"
	printf '/* b */\n' >"$T/lib/vendor/b/b.h"
	printf '#include "vendor/a/a.h"\n#include "vendor/b/b.h"\n' >"$T/lib/vendor/vendors.c"
}

teardown() {
	rm -rf "$T"
}

layering() {
	run /usr/bin/python3 "$CHECK" "$@"
}

@test "lib/ keeps its layers: no include reaches up, no engine file includes a vendor, no file over 900 lines" {
	layering --max-lines 900 "$TOP"
	[ "$status" -eq 0 ]
	[ -z "$output" ]
}

@test "a well-layered tree passes (the registry may include every vendor)" {
	layering "$T"
	[ "$status" -eq 0 ]
	[ -z "$output" ]
}

@test "a core file including a higher layer is refused, naming file, line and layer" {
	printf '#include "core/buf.h"\n#include "net/http.h"\n' >"$T/lib/core/err.c"
	layering "$T"
	[ "$status" -eq 1 ]
	[ "$output" = 'lib/core/err.c:2: core includes "net/http.h" of the higher layer net' ]
}

@test "an engine file including a vendor header is refused" {
	printf '#include "engine/vendor.h"\n#include "vendor/a/a.h"\n' >"$T/lib/engine/run.c"
	layering "$T"
	[ "$status" -eq 1 ]
	[ "$output" = 'lib/engine/run.c:2: engine includes "vendor/a/a.h" of the higher layer vendor' ]
}

@test "one vendor including another vendor's header is refused" {
	printf '#include "vendor/b/b.h"\n' >>"$T/lib/vendor/a/api.c"
	layering "$T"
	[ "$status" -eq 1 ]
	[ "$output" = 'lib/vendor/a/api.c:3: vendor a includes "vendor/b/b.h" of vendor b' ]
}

@test "an include without its layer, or of a missing file, is refused" {
	printf '#include "buf.h"\n#include "core/nothere.h"\n' >"$T/lib/core/err.c"
	layering "$T"
	[ "$status" -eq 1 ]
	[ "${lines[0]}" = 'lib/core/err.c:1: #include "buf.h" does not name a layer (write "core/buf.h", "vendor/clever/clever.h")' ]
	[ "${lines[1]}" = 'lib/core/err.c:2: #include "core/nothere.h": no such file in lib/' ]
	[ "${#lines[@]}" -eq 2 ]
}

@test "a source outside the layers' folders, or two that make one object name, are refused" {
	printf '/* stray */\n' >"$T/lib/stray.c"
	mkdir -p "$T/lib/vendor/a-b"
	printf '/* x */\n' >"$T/lib/vendor/a-b/x.c"
	printf '/* x */\n' >"$T/lib/vendor/a/b-x.c"
	layering "$T"
	[ "$status" -eq 1 ]
	[[ "$output" == *'lib/stray.c: not in a layer'* ]]
	[[ "$output" == *'makes the object name lib-vendor-a-b-x.o, as lib/vendor/a'* ]]
	[ "${#lines[@]}" -eq 2 ]
}

@test "a file over the line limit is refused with its length" {
	for i in $(seq 1 12); do echo "/* $i */"; done >"$T/lib/core/buf.h"
	layering --max-lines 10 "$T"
	[ "$status" -eq 1 ]
	[ "$output" = 'lib/core/buf.h: 12 lines, over 10: split it at its sections' ]
}

@test "the archive holds one member per library source (object names are unique)" {
	members=$(ar t "$TOP/${BUILD:-build}/libroster.a" | sort)
	[ -n "$members" ]
	[ -z "$(printf '%s\n' "$members" | uniq -d)" ]
	nsrc=$(cd "$TOP" && find lib -name '*.c' | wc -l)
	[ "$(printf '%s\n' "$members" | wc -l)" -eq "$nsrc" ]
}
