#!/usr/bin/python3
"""The layering check of lib/ (lib/README.md): prints one line per
violation and exits 1 when there is any, 0 when the tree keeps its layers.

    tests/layering.py [--max-lines N] [TOP]    (TOP: the checkout, default .)

The layers, lowest first: core, format, net, auth, engine, vendor. A file
of lib/LAYER/ includes the project's headers by their layer path
("core/buf.h", "vendor/clever/clever.h"), and only from its own layer or
a lower one. No engine file includes a vendor header: the engine reads
the vendors through the registry's interface (engine/vendor.h), which
lib/vendor/vendors.c fills. A vendor's folder includes no other vendor's
headers. Every library source lies in a layer's folder (or a vendor's),
and no two of them make the same object name in the archive. With
--max-lines, no library file is longer than N lines.
"""
import os
import re
import sys

LAYERS = ["core", "format", "net", "auth", "engine", "vendor"]
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"')


def layer_of(rel):
    """(layer, vendor folder or None) of a path under lib/, or None."""
    parts = rel.split("/")
    if len(parts) < 2 or parts[0] not in LAYERS:
        return None
    if parts[0] == "vendor":
        return ("vendor", parts[1] if len(parts) > 2 else None)
    if len(parts) != 2:
        return None
    return (parts[0], None)


def check(top, max_lines):
    lib = os.path.join(top, "lib")
    problems = []
    objects = {}
    for dirpath, _, names in sorted(os.walk(lib)):
        for name in sorted(names):
            if not name.endswith((".c", ".h")):
                continue
            path = os.path.join(dirpath, name)
            rel = os.path.relpath(path, lib).replace(os.sep, "/")
            where = layer_of(rel)
            if where is None:
                problems.append(f"lib/{rel}: not in a layer's folder "
                                f"(lib/{{{','.join(LAYERS[:-1])}}}/ or lib/vendor/NAME/)")
                continue
            layer, vendor = where
            if name.endswith(".c"):
                obj = "lib-" + rel[:-2].replace("/", "-") + ".o"
                if obj in objects:
                    problems.append(f"lib/{rel}: makes the object name {obj}, as lib/{objects[obj]} does")
                objects[obj] = rel
            with open(path, encoding="utf-8", errors="replace") as f:
                lines = f.read().split("\n")
            if lines and lines[-1] == "":
                lines.pop()
            if max_lines and len(lines) > max_lines:
                problems.append(f"lib/{rel}: {len(lines)} lines, over {max_lines}: split it at its sections")
            for no, line in enumerate(lines, 1):
                m = INCLUDE.match(line)
                if not m:
                    continue
                inc = m.group(1)
                at = f"lib/{rel}:{no}"
                target = layer_of(inc)
                if target is None:
                    problems.append(f'{at}: #include "{inc}" does not name a layer '
                                    f'(write "core/buf.h", "vendor/clever/clever.h")')
                    continue
                if not os.path.isfile(os.path.join(lib, inc)):
                    problems.append(f'{at}: #include "{inc}": no such file in lib/')
                    continue
                tl, tv = target
                if LAYERS.index(tl) > LAYERS.index(layer):
                    problems.append(f'{at}: {layer} includes "{inc}" of the higher layer {tl}')
                elif tl == "vendor" and vendor is not None and tv != vendor:
                    problems.append(f'{at}: vendor {vendor} includes "{inc}" of vendor {tv}')
    return problems


def main(argv):
    max_lines = 0
    args = argv[1:]
    if args[:1] == ["--max-lines"]:
        max_lines = int(args[1])
        args = args[2:]
    top = args[0] if args else "."
    if not os.path.isdir(os.path.join(top, "lib")):
        print(f"layering: no lib/ folder in {top}", file=sys.stderr)
        return 2
    problems = check(top, max_lines)
    for p in problems:
        print(p)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
