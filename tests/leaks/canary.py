#!/usr/bin/python3
"""The canary test: no secret leaks anywhere (see README.md beside this file).

    /usr/bin/python3 tests/leaks/canary.py [-v] [--keep]

Stores distinctive canary secrets in a credentials store, runs the pipeline
against the fake Clever server in the good case and in the failure cases,
and searches everything the programs leave (stdout, stderr, every file of
the job's folder) and what /proc shows of them while they run (argv, and
the environment where readable) for the canaries in every encoding a leak
could take. Prints TAP; exits 1 when anything failed.
"""
import base64
import binascii
import glob
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.path.abspath(os.environ.get("ROSTER_BIN") or os.path.join(TOP, "build", "bin"))
FAKE = os.path.join(TOP, "tests", "fake", "fake_vendor.py")
PY = "/usr/bin/python3"

CLIENT_ID = "canary-client-id"
# characters that URL-encoding, JSON and base64 all change
SECRET = "Cn4ry+Sec/ret=Q7x!~zz51%"
WRONG = "Wr0ng+Canary/Secret=9&x"
TOKEN = "c4n4ryt0k3n7f3e8d9c0b1a2f3e4d5c6b7a8f9e0"
CANARIES = {"client secret": SECRET, "wrong secret": WRONG, "district token": TOKEN}

results = []
VERBOSE = "-v" in sys.argv


def tap(ok, name, detail=""):
    results.append(ok)
    print(("ok" if ok else "not ok") + " %d - %s" % (len(results), name))
    if (not ok or VERBOSE) and detail:
        for line in detail.rstrip("\n").split("\n")[-40:]:
            print("#   " + line)
    sys.stdout.flush()


def b64_cores(raw):
    """The part of the base64 of raw that does not depend on what comes
    before or after it, at each of the three byte alignments."""
    out = []
    for k in range(3):
        for enc in (base64.b64encode, base64.urlsafe_b64encode):
            e = enc(b"\0" * k + raw + b"\0\0").decode()
            start = (k * 8 + 5) // 6
            end = ((k + len(raw)) * 8) // 6
            core = e[start:end]
            if len(core) >= 12:
                out.append(core)
    return out


def forms(s):
    """Every form in which a secret could leak: raw, URL-encoded, JSON
    escaped, hex, base64 (alone, at any alignment, and as Basic auth)."""
    raw = s.encode()
    f = {"raw": [s], "url-encoded": [urllib.parse.quote(s, safe=""),
                                      urllib.parse.quote_plus(s)],
         "json-escaped": [json.dumps(s)[1:-1], json.dumps(s)[1:-1].replace("/", "\\/")],
         "hex": [binascii.hexlify(raw).decode()],
         "base64": b64_cores(raw) + b64_cores(("%s:%s" % (CLIENT_ID, s)).encode())}
    return [(kind, v) for kind, vs in f.items() for v in vs]


FORMS = [(name, kind, v.encode()) for name, s in CANARIES.items() for kind, v in forms(s)]


def escaped_pattern(s):
    """Each byte as itself or escaped any way an encoder might: %HH (either
    case, also double-encoded %25HH), JSON \\u00HH, a backslash before it.
    Catches partial URL-encoding (a "/" left as is), lower-case hex and
    mixed forms that no fixed list holds."""
    alts = []
    for b in s.encode():
        h = "%02x" % b
        hx = "".join("[%s%s]" % (c, c.upper()) if c.isalpha() else c for c in h).encode()
        alts.append(b"(?:" + re.escape(bytes([b])) + b"|\\\\" + re.escape(bytes([b])) +
                    b"|%(?:25)?" + hx + b"|\\\\u00" + hx + b")")
    return re.compile(b"".join(alts))


PATTERNS = [(name, escaped_pattern(s)) for name, s in CANARIES.items()]


def hits(blob, where):
    found = []
    low = blob.lower()
    for name, kind, v in FORMS:
        # hex is case-free; the others are exact
        if (v.lower() in low) if kind == "hex" else (v in blob):
            found.append("%s (%s) in %s" % (name, kind, where))
    for name, rx in PATTERNS:
        m = rx.search(blob)
        if m and not any(f.startswith(name + " ") for f in found):
            found.append("%s (escaped: %r) in %s" % (name, m.group(0)[:80], where))
    return found


def self_test():
    """The search finds what it claims to: every canary in every encoding,
    planted inside other text. Without this the zero-hit checks could pass
    because the search is broken."""
    missed = []
    for name, s in CANARIES.items():
        raw = s.encode()
        basic = ("%s:%s" % (CLIENT_ID, s)).encode()
        plants = {"raw": raw, "quote": urllib.parse.quote(s, safe="").encode(),
                  "quote keeping /": urllib.parse.quote(s).encode(),
                  "quote lower-case hex": re.sub(r"%[0-9A-F]{2}", lambda m: m.group(0).lower(),
                                                 urllib.parse.quote(s, safe="")).encode(),
                  "quote_plus": urllib.parse.quote_plus(s).encode(),
                  "double-encoded": urllib.parse.quote(urllib.parse.quote(s, safe=""), safe="").encode(),
                  "json": json.dumps(s).encode(), "json ascii": json.dumps(s).replace("/", "\\/").encode(),
                  "hex": binascii.hexlify(raw), "HEX": binascii.hexlify(raw).upper()}
        for pre in range(3):
            for enc in (base64.b64encode, base64.urlsafe_b64encode):
                plants["%s +%d" % (enc.__name__, pre)] = enc(b"p" * pre + raw + b"q" * pre)
                plants["Basic %s +%d" % (enc.__name__, pre)] = b"Basic " + enc(b"p" * pre + basic)
            plants["base64 unpadded +%d" % pre] = base64.b64encode(b"p" * pre + raw).rstrip(b"=")
        for kind, v in plants.items():
            if not hits(b"before " + v + b" after", "plant"):
                missed.append("%s: %s (%r)" % (name, kind, v))
    clean = hits(open(__file__, "rb").read().replace(SECRET.encode(), b"").replace(
        WRONG.encode(), b"").replace(TOKEN.encode(), b""), "this script without its canaries")
    tap(not missed and not clean, "the search finds every canary form planted in text "
        "and nothing in clean text", "\n".join(missed + clean))


class ProcWatch(threading.Thread):
    """Samples /proc while a run goes: argv (and environ when readable) of
    every process started from the programs' folder."""

    def __init__(self):
        super().__init__(daemon=True)
        self.stop = threading.Event()
        self.found = []
        self.seen = {}

    def run(self):
        me = os.getpid()
        while not self.stop.is_set():
            for d in glob.glob("/proc/[0-9]*"):
                pid = int(d[6:])
                if pid == me:
                    continue
                try:
                    with open(d + "/cmdline", "rb") as f:
                        argv = f.read()
                except OSError:
                    continue
                prog = argv.split(b"\0", 1)[0].decode(errors="replace")
                if not prog.startswith(BIN + "/"):
                    continue
                name = os.path.basename(prog)
                self.seen[name] = self.seen.get(name, 0) + 1
                self.found += hits(argv, "argv of %s" % name)
                try:
                    with open(d + "/environ", "rb") as f:
                        self.found += hits(f.read(), "environment of %s" % name)
                except OSError:
                    pass  # the extractors are not dumpable: their environ is closed
            time.sleep(0.01)


class Fake:
    def __init__(self, vendor, rules):
        self.dir = vendor
        case = os.path.join(vendor, "case.json")
        with open(case, "w") as f:
            json.dump({"rules": rules}, f)
        port = os.path.join(vendor, "port")
        if os.path.exists(port):
            os.unlink(port)
        self.proc = subprocess.Popen(
            [PY, FAKE, "--personality", "clever", "--data", os.path.join(vendor, "data"),
             "--port-file", port, "--case", case, "--log", os.path.join(vendor, "requests.log")],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(200):
            if os.path.exists(port) and open(port).read().strip():
                break
            time.sleep(0.05)
        self.url = "http://127.0.0.1:%s" % open(port).read().strip()

    def close(self):
        self.proc.kill()
        self.proc.wait()


def creds(work, *args, stdin=None):
    p = subprocess.run([os.path.join(BIN, "creds"), "--file", os.path.join(work, "store", "creds")]
                       + list(args), input=stdin, capture_output=True, text=True, timeout=30)
    return p


def job_text(fake, timeout=10, key=None, log_format="text"):
    return ("[job]\nname = canary\noutput = out\ncredentials = store/creds\n" +
            ("credentials_key = %s\n" % key if key else "") +
            "log_format = %s\n" % log_format +
            "deadline = 5m\n\n[source clever]\ntype = clever\nbase_url = %s\n"
            "token_url = %s/oauth/tokens\nclient_id = %s\nclient_secret = creds:clever\n"
            "timeout = %s\n" % (fake, fake, CLIENT_ID, timeout))


def run(argv, cwd, env=None):
    watch = ProcWatch()
    watch.start()
    e = dict(os.environ)
    e.pop("ROSTER_CREDENTIALS", None)
    e.update(env or {})
    p = subprocess.run(argv, cwd=cwd, env=e, capture_output=True, timeout=120)
    watch.stop.set()
    watch.join()
    return p, watch


def search_tree(root):
    found = []
    for d, _, files in os.walk(root):
        for n in files:
            path = os.path.join(d, n)
            with open(path, "rb") as f:
                found += hits(f.read(), os.path.relpath(path, root))
    return found


def scenario(tmp, name, rules, expect_exit, stderr_has=(), secret=SECRET, timeout=10,
             mutate=None, direct=False, log_format="text", need_extractor=False):
    """One run in a fresh job folder; checks the exit, the messages and the
    absence of every canary form everywhere."""
    work = os.path.join(tmp, name, "job")
    vendor = os.path.join(tmp, name, "vendor")  # the vendor's side: not searched
    os.makedirs(os.path.join(work, "store"))
    shutil.copytree(os.path.join(tmp, "data"), os.path.join(vendor, "data"))
    fake = Fake(vendor, rules)
    try:
        k = creds(work, "keygen")
        s = creds(work, "set", "clever", stdin=secret + "\n")
        if k.returncode or s.returncode:
            tap(False, "%s: store set up" % name, k.stderr + s.stderr)
            return
        store = open(os.path.join(work, "store", "creds"), "rb").read()
        mode = os.stat(os.path.join(work, "store", "creds")).st_mode & 0o777
        if name == "demo":
            tap(not hits(store, "store/creds") and mode == 0o600,
                "the store holds no canary in any form and is mode 600",
                "mode %o\n%s" % (mode, "\n".join(hits(store, "store/creds"))))
        key = None
        if mutate:
            key = mutate(work)
        with open(os.path.join(work, "d.job"), "w") as f:
            f.write(job_text(fake.url, timeout, key, log_format))
        if direct:
            argv = [os.path.join(BIN, "extract-clever"), "--base-url", fake.url,
                    "--token-url", fake.url + "/oauth/tokens", "--client-id", CLIENT_ID,
                    "--credentials", "store/creds", "--client-secret", "creds:clever"] + (
                    ["--credentials-key", key] if key else []) + [
                    "--timeout", str(timeout), "--log-format", log_format,
                    "--stats", "stats.json"]
        else:
            argv = [os.path.join(BIN, "run-job"), "d.job"]
        p, watch = run(argv, work, {"ROSTER_FAKE_CLOCK": "1790000000:3"})
        out, err = p.stdout, p.stderr
        detail = "exit %d\n--- stderr\n%s" % (p.returncode, err.decode(errors="replace"))
        ok = p.returncode == expect_exit
        missing = [r for r in stderr_has if r.encode() not in err]
        tap(ok and not missing, "%s: exit %d%s" % (
            name, expect_exit, ", stderr says " + " / ".join(stderr_has) if stderr_has else ""),
            detail + ("missing: %s\n" % missing if missing else ""))
        leaks = hits(out, "stdout") + hits(err, "stderr") + search_tree(work) + watch.found
        tap(not leaks, "%s: no canary in stdout, stderr, %d files, argv or environment "
            "(%d /proc samples)" % (name, sum(len(f) for _, _, f in os.walk(work)),
                                    sum(watch.seen.values())), "\n".join(leaks))
        if need_extractor:
            tap(watch.seen.get("extract-clever", 0) > 0,
                "%s: the extractor's argv was seen in /proc while it ran" % name,
                "seen: %s" % watch.seen)
    finally:
        fake.close()


def tamper(work):
    path = os.path.join(work, "store", "creds")
    lines = open(path).read().split("\n")
    for i, l in enumerate(lines):
        if l.startswith("secret clever "):
            t = l[14:]
            mid = len(t) // 2
            lines[i] = l[:14] + t[:mid] + ("A" if t[mid] != "A" else "B") + t[mid + 1:]
    with open(path, "w") as f:
        f.write("\n".join(lines))
    return None


def other_key(work):
    creds(work, "--key", os.path.join(work, "store", "other.key"), "keygen")
    return "store/other.key"


def main():
    tmp = tempfile.mkdtemp(prefix="canary.")
    try:
        self_test()
        shutil.copytree(os.path.join(TOP, "fixtures", "clever"), os.path.join(tmp, "data"))
        path = os.path.join(tmp, "data", "clients.json")
        clients = json.load(open(path))
        clients[0]["client_id"] = CLIENT_ID
        clients[0]["client_secret"] = SECRET
        clients[0]["tokens"][0]["access_token"] = TOKEN
        json.dump(clients, open(path, "w"), indent=1)

        slow = [{"path": "/v3.0/*", "replies": [{"pass": True, "delay": 0.2,
                                                  "repeat": "forever"}]}]
        scenario(tmp, "demo", slow, 0, need_extractor=True)
        scenario(tmp, "demo-extractor-json-log", slow, 0, direct=True, log_format="json",
                 need_extractor=True)
        scenario(tmp, "wrong-secret-401", [], 2, ("401",), secret=WRONG)
        scenario(tmp, "wrong-secret-401-json-log", [], 2, ("401",), secret=WRONG, direct=True,
                 log_format="json")
        scenario(tmp, "token-401-scripted", [{"path": "/oauth/tokens", "replies": [
            {"status": 401, "json": {"error": "invalid_client"}, "repeat": "forever"}]}], 2,
            ("401",))
        scenario(tmp, "sections-403", [{"path": "/v3.0/sections", "replies": [
            {"status": 403, "json": {"message": "forbidden"}, "repeat": "forever"}]}], 3,
            ("403",))
        scenario(tmp, "users-500", [{"path": "/v3.0/users", "replies": [
            {"status": 500, "body": "oops", "repeat": "forever"}]}], 3, ("500",))
        scenario(tmp, "users-500-json-log", [{"path": "/v3.0/users", "replies": [
            {"status": 500, "body": "oops", "repeat": "forever"}]}], 3, ("500",),
            log_format="json")
        scenario(tmp, "schools-timeout", [{"path": "/v3.0/schools", "replies": [
            {"pass": True, "delay": 3, "repeat": "forever"}]}], 3, ("clever_schools",),
            timeout=1)
        # a vendor that echoes the secret or the token in its error text:
        # the extractor masks what it knows to be secret before writing it
        scenario(tmp, "token-401-echoes-secret", [{"path": "/oauth/tokens", "replies": [
            {"status": 401, "json": {"error": "invalid_client",
                                     "error_description": "bad secret " + SECRET},
             "repeat": "forever"}]}], 2, ("401",))
        scenario(tmp, "sections-403-echoes-token", [{"path": "/v3.0/sections", "replies": [
            {"status": 403, "json": {"message": "token " + TOKEN + " lacks scope"},
             "repeat": "forever"}]}], 3, ("403",))
        scenario(tmp, "users-500-echoes-header", [{"path": "/v3.0/users", "replies": [
            {"status": 500, "body": "Authorization: Bearer " + TOKEN,
             "repeat": "forever"}]}], 3, ("500",), log_format="json")
        scenario(tmp, "bad-key", [], 2, ("store/other.key", "does not match", "store/creds"),
                 mutate=other_key)
        scenario(tmp, "bad-key-extractor", [], 2,
                 ("store/other.key", "does not match", "store/creds"), mutate=other_key,
                 direct=True)
        scenario(tmp, "tampered-store", [], 2, ("store/creds", "was altered"), mutate=tamper)
        scenario(tmp, "tampered-store-extractor", [], 2, ("store/creds", "was altered"),
                 mutate=tamper, direct=True)
    finally:
        if "--keep" in sys.argv:
            print("# kept " + tmp)
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    print("1..%d" % len(results))
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
