#!/usr/bin/python3
"""load-csv in Python (standard library only), for bench/load.sh:

    /usr/bin/python3 bench/load_ref.py --out DIR [FILE] < dedupe-output.ndjson

Reads Singer messages (NDJSON) and writes DIR/STREAM.csv for every complete
canonical stream, then DIR/manifest.json, as lib/engine/load.c does: cells
rendered the same way (arrays joined with ';', people.sources as
source:source_id;..., field_sources as field=source;..., a backslash before
'\\', ';', ':' and '=' inside list cells), the formula guard ('), the same
quoting (lib/format/csvw.c), CRLF, U+FFFD for bytes that are not UTF-8,
rows sorted by the stream's sort fields and then the whole row in byte
order. Each file is written to a temporary file, fsynced and renamed, with
its SHA-256 in the manifest. On the pipeline's own NDJSON the CSV files are
byte for byte those of load-csv.

Not copied: the sweep of temporary files a killed run left, and cJSON's
parsing quirks (cJSON keeps the first of two equal keys, Python the last;
cJSON refuses \\u escapes of lone surrogates)."""
import hashlib
import json
import os
import re
import sys
import tempfile
import time

# The canonical model (lib/format/canon.c): each stream's columns in order,
# and the fields that sort its rows (before the whole row).
STREAMS = {
    "orgs": (["source", "source_id", "type", "name", "identifier", "parent_id", "status"],
             ["source", "source_id"]),
    "people": (["id", "source", "source_id", "role", "status", "given_name", "middle_name",
                "family_name", "email", "username", "employee_id", "sis_id", "state_id",
                "student_number", "grade", "org_ids", "job_title", "department", "updated_at",
                "status_reason", "sources", "field_sources"],
               ["id", "source", "source_id"]),
    "groups": (["source", "source_id", "type", "name", "org_id", "course", "term_id", "subject",
                "grades"],
               ["source", "source_id"]),
    "memberships": (["source", "group_id", "person_id", "role", "person_source_id"],
                    ["source", "group_id", "person_id", "role"]),
    "positions": (["source", "source_id", "employee_id", "title", "department", "location", "fte",
                   "start_date", "end_date", "status"],
                  ["source", "source_id"]),
    "absences": (["source", "source_id", "employee_id", "start", "end", "reason",
                  "substitute_employee_id", "location"],
                 ["source", "source_id"]),
    "sessions": (["source", "source_id", "type", "name", "start_date", "end_date", "parent_id"],
                 ["source", "source_id"]),
}

CHUNK = 64 * 1024
# Inside a list cell these get a backslash, so "s1;s2" stays one element.
LIST_ESCAPE = str.maketrans({c: "\\" + c for c in "\\;:="})
NEEDS_QUOTES = re.compile(r'[,"\r\n]|^[ \t]|[ \t]\Z')
FORMULA_START = tuple("=+-@\t\r")
# Some cell of the row needs quotes or the guard (the cells joined by NUL,
# with a NUL before the first and after the last): the rest are written as
# they are, which is most rows.
CAREFUL_ROW = re.compile(r'[,"\r\n\t]|\0[ =+\-@]| \0')
# A byte that is not UTF-8 is read as a surrogate (surrogateescape).
NOT_UTF8 = re.compile("[\udc80-\udcff]")
# cJSON holds every number as a double: ints are read as floats here too.
DECODER = json.JSONDecoder(parse_int=float, strict=False)


class Stream:
    def __init__(self, name):
        self.name = name
        self.columns, sort = STREAMS.get(name, (None, None))
        self.sort = [self.columns.index(f) for f in sort] if sort else None
        self.schemas = self.activates = self.records = self.first_line = 0
        self.rows = []  # each row: its sort cells then all its cells, joined by NUL
        self.status = self.reason = self.written_at = self.sha256 = None

    def present(self):
        if self.columns:
            return self.schemas or self.activates or self.records
        return self.records > 0


def log(level, text):
    sys.stderr.write("load_ref.py: %s%s\n" % ("" if level == "info" else level + ": ", text))


def number(d):
    """A number as cJSON_PrintUnformatted (cJSON 1.7.15) writes it."""
    if d != d or d in (float("inf"), float("-inf")):
        return "null"
    text = "%1.15g" % d
    back = float(text)
    if abs(back - d) > max(abs(back), abs(d)) * sys.float_info.epsilon:
        text = "%1.17g" % d
    return text


def cell_text(v, depth=0):
    """A JSON value as cell text (render() of lib/engine/load.c): arrays joined
    with ';', an object as field=value pairs, and an object or array inside an
    array as its values joined with ':'."""
    if v is None:
        return ""
    if isinstance(v, str):
        return v.translate(LIST_ESCAPE) if depth else v
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return number(v)
    # (a string item is escaped here rather than in a call: the common case)
    if isinstance(v, dict) and not depth:
        return ";".join(k + "=" + (x.translate(LIST_ESCAPE) if type(x) is str else cell_text(x, 1))
                        for k, x in v.items())
    items = v.values() if isinstance(v, dict) else v
    return (":" if depth else ";").join(
        x.translate(LIST_ESCAPE) if type(x) is str else cell_text(x, depth + 1) for x in items)


def no_nuls(v):
    """load-csv's JSON reader (lib/format/jscan.c) decodes a \\u0000 as
    U+FFFD, so that no value is cut short at a NUL: the same here."""
    if isinstance(v, str):
        return v.replace("\0", "\ufffd")
    if isinstance(v, list):
        return [no_nuls(x) for x in v]
    if isinstance(v, dict):
        return {k.replace("\0", "\ufffd"): no_nuls(x) for k, x in v.items()}
    return v


def csv_cell(s):
    """One cell as lib/format/csvw.c writes it."""
    if not s:
        return s
    quote = NEEDS_QUOTES.search(s)
    if s.startswith(FORMULA_START):  # a spreadsheet would run it
        s = "'" + s
    if quote:
        s = '"' + s.replace('"', '""') + '"'
    return s


def add_record(s, rec):
    cells = []
    for name in s.columns:
        v = rec.get(name)
        cells.append(v if type(v) is str else "" if v is None else cell_text(v))
    s.rows.append("\0".join([cells[i] for i in s.sort] + cells))


def read(inp, file, streams):
    """Every message of the input; a line that is not a Singer message stops
    the run (exit 1) before anything is written. Returns whether a line held
    bytes that are not UTF-8."""
    warned_type = bad_utf8 = False
    for lineno, line in enumerate(inp, 1):
        line = line[:-1] if line.endswith(b"\n") else line
        if not line.strip(b" \t\r"):
            continue  # blank lines carry nothing
        if b"\0" in line:
            fail("%s:%d: line contains a NUL byte" % (file, lineno))
        try:
            text = line.decode("utf-8")
        except UnicodeDecodeError:
            text = line.decode("utf-8", "surrogateescape")
            bad_utf8 = True
        try:
            msg = DECODER.decode(text)
        except ValueError as e:
            fail("%s:%d: not JSON (%s); the input is corrupt, nothing is published"
                 % (file, lineno, e))
        if not isinstance(msg, dict):
            fail("%s:%d: not a JSON object; the input is corrupt, nothing is published"
                 % (file, lineno))
        kind, name = msg.get("type"), msg.get("stream")
        if not isinstance(kind, str):
            fail('%s:%d: not a Singer message (no "type")' % (file, lineno))
        if kind == "STATE":
            continue
        if kind not in ("SCHEMA", "RECORD", "ACTIVATE_VERSION"):
            if not warned_type:
                log("warning", "%s:%d: message type '%s' ignored" % (file, lineno, kind))
            warned_type = True
            continue
        if not isinstance(name, str):
            fail('%s:%d: %s without a "stream"' % (file, lineno, kind))
        s = streams.get(name) or streams.setdefault(name, Stream(name))
        if kind == "SCHEMA":
            s.schemas += 1
            continue
        if kind == "ACTIVATE_VERSION":
            s.activates += 1
            continue
        s.records += 1
        if s.records == 1:
            s.first_line = lineno
        if not s.columns:
            if s.records == 1:
                log("error", "%s:%d: RECORD of stream '%s', which is not a canonical stream "
                    "(run normalize first?); its records are not loaded" % (file, lineno, name))
            continue
        rec = msg.get("record")
        if not isinstance(rec, dict):
            fail('%s:%d: RECORD of \'%s\' without a "record" object' % (file, lineno, name))
        if "\\u0000" in text:
            rec = no_nuls(rec)
        add_record(s, rec)
    return bad_utf8


def write_csv(s, path, bad_utf8):
    """The header and the sorted rows, through a temporary file that is
    fsynced and renamed over PATH; returns the file's SHA-256."""
    folder = os.path.dirname(path) or "."
    fd, tmp = tempfile.mkstemp(prefix="." + os.path.basename(path) + ".tmp.", dir=folder)
    digest = hashlib.sha256()
    try:
        with os.fdopen(fd, "wb") as f:
            lines, size = [",".join(s.columns) + "\r\n"], 0
            skip = len(s.sort)
            for row in s.rows:
                cells = row.split("\0")[skip:]
                if CAREFUL_ROW.search("\0" + row + "\0"):
                    line = ",".join(map(csv_cell, cells)) + "\r\n"
                else:
                    line = ",".join(cells) + "\r\n"
                lines.append(line)
                size += len(line)
                if size >= CHUNK:
                    write_chunk(f, digest, lines, bad_utf8)
                    lines, size = [], 0
            write_chunk(f, digest, lines, bad_utf8)
            f.flush()
            os.fchmod(f.fileno(), 0o644)
            os.fsync(f.fileno())
        os.rename(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise
    fsync_dir(folder)
    return digest.hexdigest()


def write_chunk(f, digest, lines, bad_utf8):
    text = "".join(lines)
    if bad_utf8:
        text = NOT_UTF8.sub("\ufffd", text)
    data = text.encode("utf-8")
    digest.update(data)
    f.write(data)


def fsync_dir(folder):
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def now():
    t = time.time()
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + ".%03dZ" % (t * 1000 % 1000)


def publish(s, folder, bad_utf8):
    s.status = "failed"
    if not s.columns:
        s.reason = ("not a canonical stream: %d records, the first at line %d, not loaded"
                    % (s.records, s.first_line))
        return
    if not s.schemas or s.activates < s.schemas:
        s.status = "kept_previous"
        s.reason = ("no SCHEMA message" if not s.schemas else
                    "%d SCHEMA but %d ACTIVATE_VERSION: a source feeding the stream did not "
                    "read it completely" % (s.schemas, s.activates))
        log("warning", "%s: incomplete, the previous %s.csv is kept: %s"
            % (s.name, s.name, s.reason))
        return
    # Code point order is UTF-8 byte order; a byte that is not UTF-8 sorts as that byte.
    if bad_utf8:
        s.rows.sort(key=lambda row: row.encode("utf-8", "surrogateescape"))
    else:
        s.rows.sort()
    path = os.path.join(folder, s.name + ".csv")
    try:
        s.sha256 = write_csv(s, path, bad_utf8)
    except OSError as e:
        s.reason = "%s: %s" % (path, e.strerror)
        log("error", s.reason)
        return
    s.status, s.written_at = "published", now()
    log("info", "published %s (%d row%s)" % (path, len(s.rows), "" if len(s.rows) == 1 else "s"))


def write_manifest(streams, folder):
    files = []
    for s in streams.values():
        if s.present():
            files.append(json.dumps({
                "stream": s.name, "file": s.name + ".csv" if s.columns else None,
                "rows": len(s.rows) if s.columns else s.records, "status": s.status,
                "reason": s.reason, "written_at": s.written_at, "sha256": s.sha256,
            }, ensure_ascii=False, separators=(",", ":")))
    text = '{"generated_at":%s,"files":[\n%s\n]}\n' % (json.dumps(now()), ",\n".join(files))
    path = os.path.join(folder, "manifest.json")
    fd, tmp = tempfile.mkstemp(prefix=".manifest.json.tmp.", dir=folder)
    with os.fdopen(fd, "wb") as f:
        f.write(text.encode("utf-8"))
        os.fchmod(f.fileno(), 0o644)
        os.fsync(f.fileno())
    os.rename(tmp, path)
    fsync_dir(folder)


def fail(text):
    log("error", text)
    sys.exit(1)


def main():
    args = sys.argv[1:]
    if len(args) not in (2, 3) or args[0] != "--out":
        sys.stderr.write("usage: load_ref.py --out DIR [FILE]\n")
        sys.exit(2)
    folder, file = args[1], args[2] if len(args) == 3 else "-"
    streams = {name: Stream(name) for name in STREAMS}  # canonical order first
    if file == "-":
        bad_utf8 = read(sys.stdin.buffer, "stdin", streams)
    else:
        with open(file, "rb") as inp:
            bad_utf8 = read(inp, file, streams)
    os.makedirs(folder, exist_ok=True)
    published = others = 0
    for s in streams.values():
        if s.present():
            publish(s, folder, bad_utf8)
            published += s.status == "published"
            others += s.status != "published"
    if not published and not others:
        fail("no canonical stream in the input: nothing to publish")
    write_manifest(streams, folder)
    sys.exit(0 if published and not others else 3 if published else 1)


if __name__ == "__main__":
    main()
