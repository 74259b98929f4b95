#!/usr/bin/python3
"""The reading of a Tyler Munis HR CSV extract (extract-sftp --profile
munis, lib/vendor/munis/drop.c and lib/engine/drop.c) in Python, for bench/drops.sh:

    /usr/bin/python3 bench/drops_ref.py [FILE] > raw.ndjson    (stdin without FILE)

Windows-1252 (UTF-8 when the file starts with a BOM), csv module, the
delimiter of the header row (comma, pipe, tab or semicolon), header names
matched to the profile's aliases, SSN and birth-date columns dropped
unread, values trimmed, dates to YYYY-MM-DD, FTE kept as written (1.000),
PrimaryJob to true/false, empty cells left out. It writes the Singer
messages of stream munis_employees (SCHEMA, RECORD lines, ACTIVATE_VERSION,
STATE); on the same file its RECORD lines' "record" objects equal
extract-sftp's.

    /usr/bin/python3 bench/drops_ref.py --compare A B

compares the "record" objects of the RECORD lines of two such outputs,
line by line: the same fields in the same order, the same values, numbers
as written. Prints the count, or the first difference and exits 1."""
import csv
import io
import json
import re
import sys
import time

STREAM = "munis_employees"
STR, DATE, NUM, BOOL = range(4)
# (header names, field, type, required), in the order of lib/vendor/munis/drop.c:
# records have their fields in this order.
COLUMNS = [
    ("EmployeeNumber|Employee|Employee Number|EmpNo|Emp_No|Emp No|Emp Num|Employee ID",
     "EmployeeNumber", STR, True),
    ("LastName|Last Name|Last|LName|Surname", "LastName", STR, True),
    ("FirstName|First Name|First|FName", "FirstName", STR, True),
    ("MiddleInitial|MI|Middle Initial|Middle|Middle Name", "MiddleInitial", STR, False),
    ("PreferredName|Preferred Name|Preferred|Nickname", "PreferredName", STR, False),
    ("JobClass|Job Class|Job Class Code|JobCode|Job Code", "JobClass", STR, False),
    ("JobClassDesc|Job Class Desc|Job Class Description|JobDesc|Job Title", "JobClassDesc",
     STR, False),
    ("Location|Loc|Location Code|LocCode|Building", "Location", STR, False),
    ("LocationDesc|Location Desc|Location Description|LocDesc|Building Name", "LocationDesc",
     STR, False),
    ("Department|Dept|Org|Department Code", "Department", STR, False),
    ("BargainingUnit|Group|Group/BU|Bargaining Unit|BU", "BargainingUnit", STR, False),
    ("Status|STAT|Employee Status|Status Code", "Status", STR, True),
    ("HireDate|Hire Date|Date Hired|Start Date", "HireDate", DATE, False),
    ("TermDate|Term Date|Termination Date|Date Terminated", "TermDate", DATE, False),
    ("FTE|FTE Percent", "FTE", NUM, False),
    ("WorkEmail|Work Email|Email|Email Address", "WorkEmail", STR, False),
    ("PrimaryJob|Primary|Primary Job|Primary Position|IsPrimary", "PrimaryJob", BOOL, False),
]
# Never read: the profile's sensitive columns, and these names in any profile.
SENSITIVE = ("SSN|Social Security|Social Security Number|SocSecNo|SSN4|TaxId"
             "|DOB|BirthDate|Birth Date|Date of Birth")
ALWAYS_SENSITIVE = {"ssn", "socialsecurity", "socialsecuritynumber", "ssn4", "taxid",
                    "password", "pin"}
YES = {"y", "yes", "true", "t", "1"}
NO = {"n", "no", "false", "f", "0"}
MDY = re.compile(r"([0-9]{1,2})/([0-9]{1,2})/([0-9]{4})\Z")
YMD_DASH = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})\Z")
YMD = re.compile(r"([0-9]{4})([0-9]{2})([0-9]{2})\Z")
NUMBER = re.compile(r"([-+]?)([0-9]*)(?:\.([0-9]*))?\Z")
DAYS = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)
BLANKS = " \t"


def norm(name):
    """A header name as matched: ASCII letters and digits, lower case."""
    return "".join(c for c in name.lower() if c.isascii() and c.isalnum())[:95]


def names(alts):
    return {norm(a) for a in alts.split("|")} - {""}


class Bad(Exception):
    pass


def conv_date(s):
    """"YYYY-MM-DD", None for an all-zero date; Bad when not a date."""
    m = MDY.match(s)
    if m:
        mo, d, y = map(int, m.groups())
    else:
        m = YMD_DASH.match(s) or YMD.match(s)
        if not m:
            raise Bad("is not a date (MM/DD/YYYY, YYYYMMDD or YYYY-MM-DD)")
        y, mo, d = map(int, m.groups())
    if not (y or mo or d):
        return None
    leap = y % 4 == 0 and y % 100 != 0 or y % 400 == 0
    if y < 1 or not 1 <= mo <= 12 or d < 1 or d > (29 if mo == 2 and leap else DAYS[mo - 1]):
        raise Bad("is not a date (MM/DD/YYYY, YYYYMMDD or YYYY-MM-DD)")
    return '"%04d-%02d-%02d"' % (y, mo, d)


def conv_num(s):
    """JSON number text keeping the digits given ("+007.50" -> 7.50)."""
    m = NUMBER.match(s)
    if not m or not (m.group(2) or m.group(3)):
        raise Bad("is not a number")
    sign, whole, frac = m.groups()
    whole = whole.lstrip("0") or "0"
    return ("-" if sign == "-" else "") + whole + ("." + frac if frac else "")


def conv_bool(s):
    w = s.lower() if s.isascii() else ""
    if w in YES:
        return "true"
    if w in NO:
        return "false"
    raise Bad("is not a yes/no value (Y/N, Yes/No, TRUE/FALSE, T/F, 1/0)")


def open_text(path):
    f = open(path, "rb") if path else sys.stdin.buffer
    bom = f.peek(3)[:3] == b"\xef\xbb\xbf"
    return io.TextIOWrapper(f, encoding="utf-8-sig" if bom else "cp1252", newline="")


def delimiter(line):
    """The one of , | tab ; seen most often outside quotes in the header."""
    counts, quoted = {",": 0, "|": 0, "\t": 0, ";": 0}, False
    for c in line:
        if c == '"':
            quoted = not quoted
        elif not quoted and c in counts:
            counts[c] += 1
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def read(path, out):
    shown = path or "stdin"
    text = open_text(path)
    first = text.readline()
    if not first:
        sys.exit("%s: the file is empty (no header row)" % shown)
    delim = delimiter(first)
    header = next(csv.reader([first], delimiter=delim))
    rows = csv.reader(text, delimiter=delim)

    keys = [norm(h.strip(BLANKS)) for h in header]
    secret = names(SENSITIVE) | ALWAYS_SENSITIVE
    used = set()
    plan = []  # (file column, '"Field":', type, required, field)
    for alts, field, typ, required in COLUMNS:
        want = names(alts)
        j = next((j for j, k in enumerate(keys) if k and k not in secret and k in want), None)
        if j is None:
            if required:
                sys.exit("%s: required column '%s' is missing" % (shown, alts.split("|")[0]))
            continue
        used.add(j)
        plan.append((j, json.dumps(field) + ":", typ, required, field))
    for j, k in enumerate(keys):
        if k in secret:
            print("%s: column '%s' dropped at read time" % (shown, header[j]), file=sys.stderr)
        elif j not in used and k:
            print("%s: unknown column '%s' ignored" % (shown, header[j]), file=sys.stderr)

    now = time.time()
    extracted = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now)) + ".%03dZ" % (
        int(now * 1000) % 1000)
    string = json.JSONEncoder(ensure_ascii=False).encode
    head = '{"type":"RECORD","stream":"%s","record":{' % STREAM
    tail = '},"time_extracted":"%s"}\n' % extracted
    out.write('{"type":"SCHEMA","stream":"%s","schema":{"type":"object",'
              '"additionalProperties":true},"key_properties":["EmployeeNumber"]}\n' % STREAM)
    width, count, dropped, buf = len(header), 0, 0, []
    for row in rows:
        if len(row) != width:
            if not any(v.strip(BLANKS) for v in row):
                continue  # a blank line, or a spreadsheet's ",,,,"
            sys.exit("%s:%d: %d fields, the header has %d" % (shown, rows.line_num, len(row),
                                                             width))
        if not any(v.strip(BLANKS) for v in row):
            continue
        parts = []
        for j, key, typ, required, field in plan:
            v = row[j].strip(BLANKS)
            try:
                if not v:
                    raise Bad("is empty")
                if typ == STR:
                    value = string(v)
                elif typ == DATE:
                    value = conv_date(v)
                    if value is None:
                        raise Bad("is empty")
                elif typ == NUM:
                    value = conv_num(v)
                else:
                    value = conv_bool(v)
            except Bad as why:
                if required:
                    print("%s:%d: column '%s': '%s' %s; row dropped" % (
                        shown, rows.line_num, field, v[:40], why), file=sys.stderr)
                    break
                if v:
                    print("%s:%d: column '%s': '%s' %s; field dropped" % (
                        shown, rows.line_num, field, v[:40], why), file=sys.stderr)
                continue
            parts.append(key + value)
        else:
            buf.append(head + ",".join(parts) + tail)
            count += 1
            if len(buf) >= 1024:
                out.write("".join(buf))
                buf = []
            continue
        dropped += 1
    out.write("".join(buf))
    version = int(now * 1000)
    out.write('{"type":"ACTIVATE_VERSION","stream":"%s","version":%d}\n' % (STREAM, version))
    out.write('{"type":"STATE","value":{"munis":{"streams":{"%s":{"status":"complete",'
              '"records":%d}},"bookmarks":{}}}}\n' % (STREAM, count))
    print("%s: %d records, %d rows dropped" % (shown, count, dropped), file=sys.stderr)


def records(path):
    """The "record" objects of path's RECORD lines: lists of (field, value)
    pairs, numbers as ("number", text)."""
    num = lambda s: ("number", s)  # noqa: E731
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if line.startswith('{"type":"RECORD"'):
                try:
                    msg = json.loads(line, object_pairs_hook=list, parse_float=num,
                                     parse_int=num)
                except ValueError as e:
                    sys.exit("drops_ref.py: %s:%d: not JSON: %s" % (path, n, e))
                yield n, dict(msg).get("record")


def compare(a, b):
    count = 0
    ra, rb = records(a), records(b)
    while True:
        x, y = next(ra, None), next(rb, None)
        if x is None and y is None:
            print(count)
            return 0
        if x is None or y is None or x[1] != y[1]:
            print("drops_ref.py: record %d differs:" % (count + 1), file=sys.stderr)
            for path, r in ((a, x), (b, y)):
                print("  %s:%s: %s" % (path, r[0], r[1]) if r else "  %s: no more records"
                      % path, file=sys.stderr)
            return 1
        count += 1


def main():
    if sys.argv[1:2] == ["--compare"] and len(sys.argv) == 4:
        sys.exit(compare(sys.argv[2], sys.argv[3]))
    if len(sys.argv) > 2 or sys.argv[1:2] and sys.argv[1].startswith("-"):
        sys.exit("usage: drops_ref.py [FILE] | drops_ref.py --compare A B")
    out = open(sys.stdout.fileno(), "w", encoding="utf-8", closefd=False)
    read(sys.argv[1] if len(sys.argv) == 2 else None, out)
    out.flush()


if __name__ == "__main__":
    main()
