#!/usr/bin/python3
"""The canary test: no secret leaks anywhere (see README.md beside this file).

    /usr/bin/python3 tests/leaks/canary.py [-v] [--keep]

Stores distinctive canary secrets in a credentials store (Clever's client
secret, the Entra app's client secret, Google's service-account key), runs
the pipeline against the fake Clever, Graph and Google servers (one server,
three personalities) in the good case and in the failure cases, and
searches everything the programs leave (stdout, stderr, every file of the
job's folder) and what /proc shows of them while they run (argv, and the
environment where readable) for the canaries in every encoding a leak
could take. The access tokens and JWT assertions the fakes issue are
random or time-bound: they are read from the fake's request log after each
run and searched as canaries too. File drops are fetched over SFTP from a
real OpenSSH sshd (tests/sftp): its login password, the passphrase of an
encrypted client key and that key file are made at each start, so they
become canaries at run time. Needs root (the sshd harness does). Prints
TAP; exits 1 when anything failed.
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
CLOCK = "1790000000:3"  # the programs' and the fakes' clock: JWT times must agree

CLIENT_ID = "canary-client-id"
# characters that URL-encoding, JSON and base64 all change
SECRET = "Cn4ry+Sec/ret=Q7x!~zz51%"
WRONG = "Wr0ng+Canary/Secret=9&x"
TOKEN = "c4n4ryt0k3n7f3e8d9c0b1a2f3e4d5c6b7a8f9e0"
# Entra ID: the app registration's secret (Azure secrets hold ~ . _ too)
TENANT = "mapleridge.onmicrosoft.com"
GRAPH_CLIENT_ID = "0c9f3a7e-51b2-4d8c-9e6a-7b2d1f4e8a90"        # User.Read.All, Group.Read.All
GRAPH_USERS_ONLY_ID = "5a2e8c14-7f3b-4e9d-a1c6-3b8f0d2e7a51"    # User.Read.All only
GRAPH_SECRET = "Gr4ph~Cn4ry+Sec/ret=.Q8_z%k"
GRAPH_WRONG = "Wr0ng~Gr4ph+Cn4ry/Sec=.7Kp&"
# tokens a scripted vendor hands out (the fakes' own are read from their log)
GRAPH_TOKEN = "eyJ0eXAiOiJKV1QiLCJjbnJ5IjoxfQ.eyJjNG40cnkiOiJncmFwaCJ9.Gr4phCn4ryS1gn-9f8e7d6c5b4a3_21"
GOOGLE_TOKEN = "ya29.c.c4n4ryG00gleT0k3n-7f3e8d9c0b1a2f3e4d5c6b7a8_f9e0zz"
GOOGLE_SUBJECT = "sync-admin@mapleridge.example"
# SFTP: the real sshd's password and key passphrase are random (read at run
# time); what a district could mistype is ours, with the characters a shell,
# a URL and JSON all treat specially
SFTP_WRONG_PASSWORD = "Wr0ng+Sftp/Pa55=w0rd!~%41"
SFTP_WRONG_PASSPHRASE = "Wr0ng+Key/Pa55=phr4se&~%73"
# OneRoster (Infinite Campus): the OAuth 2 client's secret and the OAuth
# 1.0a consumer secret (signed with, never sent)
OR_CLIENT_ID = "lakeside-roster"
OR_SECRET = "0r2~Cn4ry+Sec/ret=Q9&z%k"
OR_CONSUMER_KEY = "ck-demo"
OR_CONSUMER_SECRET = "0r1~Cn4ry+Cons/umer=Z3&x%"
CANARIES = {"client secret": SECRET, "wrong secret": WRONG, "district token": TOKEN,
            "graph client secret": GRAPH_SECRET, "graph wrong secret": GRAPH_WRONG,
            "graph scripted token": GRAPH_TOKEN, "google scripted token": GOOGLE_TOKEN,
            "sftp wrong password": SFTP_WRONG_PASSWORD,
            "sftp wrong passphrase": SFTP_WRONG_PASSPHRASE,
            "oneroster client secret": OR_SECRET, "oneroster consumer secret": OR_CONSUMER_SECRET}
# whose client id goes with a secret in HTTP Basic auth
IDENTS = {"client secret": CLIENT_ID, "wrong secret": CLIENT_ID, "district token": CLIENT_ID,
          "graph client secret": GRAPH_CLIENT_ID, "graph wrong secret": GRAPH_CLIENT_ID,
          "oneroster client secret": OR_CLIENT_ID}
# Google's service-account key file: its private_key is the RSA test key of
# RFC 7515 A.2, so the canary is the key material itself
KEY_FILE = os.path.join(TOP, "fixtures", "google", "service-account.json")
KEY_JSON = open(KEY_FILE, encoding="utf-8").read()
PEM = json.loads(KEY_JSON)["private_key"]
PEM_LINES = [l for l in PEM.strip().split("\n") if not l.startswith("-----")]
DER = base64.b64decode("".join(PEM_LINES))

results = []
VERBOSE = "-v" in sys.argv
# real secrets made at run time (the sshd's password, the key's passphrase
# and lines): what this test prints names them, never shows them
HIDDEN = {}
_HIDING = {}


def hide(text):
    """text with each HIDDEN secret, in any form the search knows, replaced
    by its name."""
    if not HIDDEN:
        return text
    blob = text.encode()
    for value, label in sorted(HIDDEN.items(), key=lambda h: -len(h[0])):
        if value not in _HIDING:
            _HIDING[value] = [re.compile(re.escape(v.encode()), re.I if kind == "hex" else 0)
                              for kind, v in forms(value)] + [escaped_pattern(value)]
        for rx in _HIDING[value]:
            blob = rx.sub(("<%s>" % label).encode(), blob)
    return blob.decode(errors="replace")


def tap(ok, name, detail=""):
    results.append(ok)
    print(("ok" if ok else "not ok") + " %d - %s" % (len(results), name))
    if (not ok or VERBOSE) and detail:
        for line in hide(detail).rstrip("\n").split("\n")[-40:]:
            print("#   " + line)
    sys.stdout.flush()


def der_rsa_private(der):
    """The private integers (d, p, q, dp, dq, qi) of a PKCS#8 RSA key, as
    big-endian bytes without leading zeros."""
    def item(buf, i):
        tag, n = buf[i], buf[i + 1]
        i += 2
        if n & 0x80:
            k = n & 0x7f
            n = int.from_bytes(buf[i:i + k], "big")
            i += k
        return tag, buf[i:i + n], i + n

    def items(buf):
        out, i = [], 0
        while i < len(buf):
            tag, body, i = item(buf, i)
            out.append((tag, body))
        return out

    _, pkcs8, _ = item(der, 0)
    octets = [b for t, b in items(pkcs8) if t == 0x04][0]   # PrivateKeyInfo.privateKey
    _, rsa, _ = item(octets, 0)                               # RSAPrivateKey
    ints = [b.lstrip(b"\0") for t, b in items(rsa) if t == 0x02]
    # version, n, e, d, p, q, dp, dq, qi: n and e are public
    return dict(zip(["d", "p", "q", "dp", "dq", "qi"], ints[3:9]))


KEY_INTS = der_rsa_private(DER)


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


def forms(s, ident=None):
    """Every form in which a secret could leak: raw, URL-encoded, JSON
    escaped, hex, base64 (alone, at any alignment, and as Basic auth, with
    and without the form-encoding RFC 6749 asks for first)."""
    raw = s.encode()
    basic = []
    if ident:
        basic = b64_cores(("%s:%s" % (ident, s)).encode()) + b64_cores(
            ("%s:%s" % (urllib.parse.quote_plus(ident), urllib.parse.quote_plus(s))).encode())
    f = {"raw": [s], "url-encoded": [urllib.parse.quote(s, safe=""),
                                      urllib.parse.quote_plus(s)],
         "json-escaped": [json.dumps(s)[1:-1], json.dumps(s)[1:-1].replace("/", "\\/")],
         "hex": [binascii.hexlify(raw).decode()],
         "base64": b64_cores(raw) + basic}
    return [(kind, v) for kind, vs in f.items() for v in vs]


def binary_forms(raw, number=False):
    """The forms of key material that is bytes, not text: hex (also with
    colons, as openssl -text prints it), base64 and base64url at any
    alignment (a JWK member is the base64url of the integer), decimal."""
    f = [("hex", binascii.hexlify(raw).decode())] + [("base64", c) for c in b64_cores(raw)]
    if number:
        f.append(("colon hex", ":".join("%02x" % b for b in raw[:12])))
        f.append(("decimal", str(int.from_bytes(raw, "big"))))
    return f


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


def text_canary(name, s, ident=None):
    """(name, [(kind, bytes)], escaped pattern) for a secret that is text."""
    return (name, [(kind, v.encode()) for kind, v in forms(s, ident)], escaped_pattern(s))


def binary_canary(name, raw, number=False):
    return (name, [(kind, v.encode()) for kind, v in binary_forms(raw, number)], None)


def key_canaries():
    """Google's private key: each base64 line of its PEM body (as the key
    file holds them, between \\n escapes), the DER bytes, and each private
    integer on its own."""
    out = [text_canary("google key PEM line %d" % (i + 1), l) for i, l in enumerate(PEM_LINES)]
    out.append(binary_canary("google key DER", DER))
    out += [binary_canary("google key %s" % k, v, number=True) for k, v in KEY_INTS.items()]
    return out


STATIC = [text_canary(name, s, IDENTS.get(name)) for name, s in CANARIES.items()] + key_canaries()
CASE_FREE = ("hex", "colon hex")


def hits(blob, where, canaries=STATIC):
    found = []
    low = blob.lower()
    for name, fs, rx in canaries:
        mine = False
        for kind, v in fs:
            # hex is case-free; the others are exact
            if (v.lower() in low) if kind in CASE_FREE else (v in blob):
                found.append("%s (%s) in %s" % (name, kind, where))
                mine = True
        if rx is not None and not mine:
            m = rx.search(blob)
            if m:
                shown = "" if name in HIDDEN.values() else ": %r" % m.group(0)[:80]
                found.append("%s (escaped%s) in %s" % (name, shown, where))
    return found


def sent(log_path):
    """What the programs sent the fakes, from the request log: the Graph
    and Google access tokens (Bearer) and the JWT assertions signed with
    Google's key, scripted canary tokens left out."""
    seen = {"graph token": [], "google token": [], "google assertion": [], "oneroster token": []}
    lines = open(log_path, encoding="utf-8").read().splitlines() if os.path.exists(log_path) else []
    for line in lines:
        try:
            req = json.loads(line)
        except ValueError:
            continue
        auth = (req.get("headers") or {}).get("authorization", "")
        path = req.get("path", "")
        if auth.startswith("Bearer ") and auth[7:].strip():
            kind = ("graph token" if path.startswith("/v1.0") else
                    "google token" if path.startswith("/admin/") else
                    "oneroster token" if "/ims/oneroster/" in path else None)
            if kind and auth[7:].strip() not in seen[kind]:
                seen[kind].append(auth[7:].strip())
        if req.get("method") == "POST" and path in ("/token", "/oauth2/v4/token", "/o/oauth2/token"):
            for a in urllib.parse.parse_qs(req.get("body") or "").get("assertion", []):
                if a not in seen["google assertion"]:
                    seen["google assertion"].append(a)
    # a scripted token is a canary already: only what the fakes made counts
    return {k: [v for v in vs if v not in CANARIES.values()] for k, vs in seen.items()}


def issued(log_path):
    """The credentials the fakes handed out during a run, as canaries:
    each token and assertion whole, and its last part alone (a JWT's
    signature, the random part of a ya29 token). Returns (canaries,
    {"graph token": n, "google token": n, "google assertion": n})."""
    seen = sent(log_path)
    out = []
    for kind, values in seen.items():
        for i, v in enumerate(values):
            out.append(text_canary("%s %d" % (kind, i + 1), v))
            if v.count(".") == 2:
                part = "signature" if v.startswith("eyJ") else "random part"
                out.append(text_canary("%s %d %s" % (kind, i + 1, part), v.rsplit(".", 1)[1]))
    return out, {k: len(v) for k, v in seen.items()}


def joined(blob):
    """blob without line breaks, blanks and \\n escapes: base64 that was
    wrapped anew (another PEM width, PKCS#1 instead of PKCS#8) is whole here."""
    return re.sub(rb"\\[nr]|\s", b"", blob)


def key_hits(blob, where, canaries=STATIC):
    """Key material (Google's key, the SFTP key file's bytes) in blob once
    wrapping is undone."""
    flat = joined(blob)
    found = []
    for name, fs, rx in canaries:
        if rx is None:
            for kind, v in fs:
                if kind == "base64" and v in flat:
                    found.append("%s (base64, rewrapped) in %s" % (name, where))
                    break
    return found


def search(blob, where, extra=()):
    """Every canary, static and issued during the run, in every form."""
    canaries = STATIC + list(extra)
    found = hits(blob, where, canaries)
    if not any(f.startswith(("google key ", "sftp key ")) for f in found):
        found += key_hits(blob, where, canaries)
    return found


def openssl_text(name, raw):
    """How `openssl pkey -text` prints an integer: colon hex, 15 bytes a line."""
    raw = (b"\0" + raw) if raw[0] & 0x80 else raw
    rows = [":".join("%02x" % b for b in raw[i:i + 15]) for i in range(0, len(raw), 15)]
    return ("%s:\n    " % name + ":\n    ".join(rows) + "\n").encode()


def self_test():
    """The search finds what it claims to: every canary in every encoding,
    planted inside other text. Without this the zero-hit checks could pass
    because the search is broken."""
    missed = []
    texts = dict(CANARIES)
    texts.update(("google key PEM line %d" % (i + 1), l) for i, l in enumerate(PEM_LINES))
    for name, s in texts.items():
        raw = s.encode()
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
                if name in IDENTS:
                    basic = ("%s:%s" % (IDENTS[name], s)).encode()
                    form = ("%s:%s" % (urllib.parse.quote_plus(IDENTS[name]),
                                       urllib.parse.quote_plus(s))).encode()
                    plants["Basic %s +%d" % (enc.__name__, pre)] = b"Basic " + enc(b"p" * pre + basic)
                    plants["Basic form-encoded %s +%d" % (enc.__name__, pre)] = (
                        b"Basic " + enc(b"p" * pre + form))
            plants["base64 unpadded +%d" % pre] = base64.b64encode(b"p" * pre + raw).rstrip(b"=")
        for kind, v in plants.items():
            if not hits(b"before " + v + b" after", "plant"):
                missed.append("%s: %s (%r)" % (name, kind, v[:60]))
    # the key as a whole, as the programs could hold it: the key file, the
    # PEM, the DER, the same key as PKCS#1 or as a JWK, openssl's text dump
    vectors = os.path.join(TOP, "tests", "vectors", "jwt")
    jwk = json.load(open(os.path.join(vectors, "rfc7515_a2_rs256.json")))["jwk_private"]
    key_plants = {"the key file": KEY_JSON.encode(), "the PEM": PEM.encode(),
                  "the PEM in JSON with \\/": json.dumps(PEM).replace("/", "\\/").encode(),
                  "the PKCS#1 PEM": open(os.path.join(vectors, "rfc7515_a2_private_pkcs1.pem"), "rb").read(),
                  "the PEM rewrapped at 76": b"\r\n".join(
                      base64.b64encode(DER)[i:i + 76] for i in range(0, len(base64.b64encode(DER)), 76)),
                  "DER hex": binascii.hexlify(DER), "DER HEX": binascii.hexlify(DER).upper()}
    for pre in range(3):
        for enc in (base64.b64encode, base64.urlsafe_b64encode):
            key_plants["DER %s +%d" % (enc.__name__, pre)] = enc(b"p" * pre + DER)
    for k, raw in KEY_INTS.items():
        key_plants["JWK %s" % k] = json.dumps({k: jwk[k]}).encode()
        key_plants["hex %s" % k] = binascii.hexlify(raw)
        key_plants["openssl -text %s" % k] = openssl_text(k, raw)
        key_plants["decimal %s" % k] = str(int.from_bytes(raw, "big")).encode()
    for kind, v in key_plants.items():
        if not search(b"before " + v + b" after", "plant"):
            missed.append("google key: %s" % kind)
    # what the fakes issue is read from their request log, then searched
    made_jwt = "eyJ0eXAiOiJKV1QifQ.eyJuIjo3fQ.TWFkZVVwU2lnbmF0dXJlRm9yVGhlU2VsZlRlc3Q"
    made_ya29 = "ya29.c.TWFkZVVwR29vZ2xlVG9rZW5Gb3JUaGVTZWxmVGVzdA_x-y"
    made_assertion = "eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiJ4In0.QXNzZXJ0aW9uU2lnbmF0dXJlTWFkZVVw"
    made_or2 = "or2.TWFkZVVwT25lUm9zdGVyVG9rZW4tX3g"
    log = os.path.join(tempfile.mkdtemp(prefix="canary-log."), "requests.log")
    with open(log, "w") as f:
        for req in ({"method": "GET", "path": "/v1.0/users", "headers": {"authorization": "Bearer " + made_jwt}},
                    {"method": "GET", "path": "/admin/directory/v1/users",
                     "headers": {"authorization": "Bearer " + made_ya29}},
                    {"method": "POST", "path": "/token", "headers": {}, "body":
                     "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer&assertion=" + made_assertion},
                    {"method": "GET", "path": "/admin/directory/v1/groups",
                     "headers": {"authorization": "Bearer " + GOOGLE_TOKEN}},
                    {"method": "GET", "path": "/ims/oneroster/v1p1/users",
                     "headers": {"authorization": "Bearer " + made_or2}}):
            f.write(json.dumps(req) + "\n")
    extra, counts = issued(log)
    shutil.rmtree(os.path.dirname(log))
    if counts != {"graph token": 1, "google token": 1, "google assertion": 1, "oneroster token": 1}:
        missed.append("request log read as %s" % counts)
    for kind, v in (("graph token", made_jwt), ("graph token signature", made_jwt.rsplit(".", 1)[1]),
                    ("google token", made_ya29), ("google token url-encoded", urllib.parse.quote(made_ya29)),
                    ("google assertion", made_assertion), ("oneroster token", made_or2),
                    ("google assertion signature as JSON", json.dumps({"sig": made_assertion.rsplit(".", 1)[1]}))):
        if not search(b"before " + v.encode() + b" after", "plant", extra):
            missed.append("issued %s: %s" % (kind, v))
    # clean text: this script without its canaries, and the public half of
    # Google's key (the same modulus: it must not look like a leak)
    me = open(__file__, "rb").read()
    for s in CANARIES.values():
        me = me.replace(s.encode(), b"")
    clean = search(me, "this script without its canaries")
    public = dict((k, v) for k, v in json.loads(KEY_JSON).items() if k != "private_key")
    for what, blob in (("the public key", open(os.path.join(
                           TOP, "fixtures", "google", "service-account.pub.pem"), "rb").read()),
                       ("the public JWK", json.dumps({"n": jwk["n"], "e": jwk["e"]}).encode()),
                       ("the key file without private_key", json.dumps(public).encode())):
        clean += search(blob, what)
    tap(not missed and not clean, "the search finds every canary form planted in text "
        "and nothing in clean text", "\n".join(missed + clean))


class ProcWatch(threading.Thread):
    """Samples /proc while a run goes: argv (and environ when readable) of
    every process started from the programs' folder. What it reads is kept
    (each distinct text once) and searched after the run, when the tokens
    issued during it are known too."""

    def __init__(self):
        super().__init__(daemon=True)
        self.stop = threading.Event()
        self.blobs = {}
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
                self.blobs.setdefault(argv, "argv of %s" % name)
                try:
                    with open(d + "/environ", "rb") as f:
                        self.blobs.setdefault(f.read(), "environment of %s" % name)
                except OSError:
                    pass  # the extractors are not dumpable: their environ is closed
            time.sleep(0.01)

    def found(self, extra=()):
        out = []
        for blob, where in self.blobs.items():
            out += search(blob, where, extra)
        return out


class Fake:
    """The fake vendor server: Clever, Graph and Google on one port, each
    with its data folder in the vendor's folder, on the programs' clock."""

    def __init__(self, vendor, rules, modes=None):
        self.dir = vendor
        case = os.path.join(vendor, "case.json")
        with open(case, "w") as f:
            json.dump({"rules": rules, "modes": modes or {}}, f)
        port = os.path.join(vendor, "port")
        if os.path.exists(port):
            os.unlink(port)
        self.log = os.path.join(vendor, "requests.log")
        self.proc = subprocess.Popen(
            [PY, FAKE, "--personality", "clever,graph,google,oneroster", "--data", ",".join(
                os.path.join(vendor, d) for d in ("data", "graph", "google", "oneroster")),
             "--port-file", port, "--case", case, "--log", self.log],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            env=dict(os.environ, ROSTER_FAKE_CLOCK=CLOCK))
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


def job_text(fake, timeout=10, key=None, log_format="text", sources=("clever",),
             graph_client=GRAPH_CLIENT_ID):
    text = ("[job]\nname = canary\noutput = out\ncredentials = store/creds\n" +
            ("credentials_key = %s\n" % key if key else "") +
            "log_format = %s\n" % log_format + "deadline = 5m\n")
    if "clever" in sources:
        text += ("\n[source clever]\ntype = clever\nbase_url = %s\n"
                 "token_url = %s/oauth/tokens\nclient_id = %s\nclient_secret = creds:clever\n"
                 "timeout = %s\n" % (fake, fake, CLIENT_ID, timeout))
    if "graph" in sources:
        text += ("\n[source entra]\ntype = graph\nbase_url = %s\n"
                 "token_url = %s/{tenant}/oauth2/v2.0/token\ntenant = %s\nclient_id = %s\n"
                 "client_secret = creds:entra\ntimeout = %s\nrole_rules = group:All Teachers=teacher; "
                 "group:Students=student; default=staff\n" % (fake, fake, TENANT, graph_client, timeout))
    if "google" in sources:
        text += ("\n[source google]\ntype = google\nbase_url = %s\ntoken_url = %s/token\n"
                 "key = creds:google\nsubject = %s\ntimeout = %s\nrole_rules = orgunit:/Students=student; "
                 "group:teachers@mapleridge.example=teacher; default=staff\n"
                 % (fake, fake, GOOGLE_SUBJECT, timeout))
    if "oneroster" in sources:
        text += ("\n[source ic]\ntype = oneroster\nbase_url = %s\n"
                 "token_url = %s/campus/oauth2/token?appName=lakeside\nclient_id = %s\n"
                 "client_secret = creds:oneroster\ntimeout = %s\n" % (fake, fake, OR_CLIENT_ID, timeout))
    if "oneroster1" in sources:
        text += ("\n[source ic1]\ntype = oneroster\nbase_url = %s\nconsumer_key = %s\n"
                 "consumer_secret = creds:oneroster1\ntimeout = %s\n" % (fake, OR_CONSUMER_KEY, timeout))
    return text


def extractor_argv(which, fake, key, timeout, log_format, graph_client=GRAPH_CLIENT_ID):
    """One extractor run alone, as run-job would run it (stdout kept)."""
    store = ["--credentials", "store/creds"] + (["--credentials-key", key] if key else [])
    common = ["--base-url", fake, "--timeout", str(timeout), "--log-format", log_format,
              "--stats", "stats.json"]
    if which == "clever":
        return [os.path.join(BIN, "extract-clever"), "--base-url", fake,
                "--token-url", fake + "/oauth/tokens", "--client-id", CLIENT_ID,
                "--credentials", "store/creds", "--client-secret", "creds:clever"] + (
                ["--credentials-key", key] if key else []) + [
                "--timeout", str(timeout), "--log-format", log_format,
                "--stats", "stats.json"]
    if which == "oneroster":
        return [os.path.join(BIN, "extract-oneroster"), "--client-id", OR_CLIENT_ID,
                "--client-secret", "creds:oneroster", "--token-url",
                fake + "/campus/oauth2/token?appName=lakeside"] + store + common
    if which == "oneroster1":
        return [os.path.join(BIN, "extract-oneroster"), "--consumer-key", OR_CONSUMER_KEY,
                "--consumer-secret", "creds:oneroster1"] + store + common
    if which == "graph":
        return [os.path.join(BIN, "extract-graph"), "--tenant", TENANT, "--client-id", graph_client,
                "--client-secret", "creds:entra", "--token-url",
                fake + "/{tenant}/oauth2/v2.0/token"] + store + common
    return [os.path.join(BIN, "extract-google"), "--key", "creds:google", "--subject", GOOGLE_SUBJECT,
            "--token-url", fake + "/token"] + store + common


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


def search_tree(root, extra=()):
    found = []
    for d, _, files in os.walk(root):
        for n in files:
            path = os.path.join(d, n)
            with open(path, "rb") as f:
                found += search(f.read(), os.path.relpath(path, root), extra)
    return found


EXTRACTOR = {"clever": "extract-clever", "graph": "extract-graph", "google": "extract-google",
             "oneroster": "extract-oneroster", "oneroster1": "extract-oneroster"}


def scenario(tmp, name, rules, expect_exit, stderr_has=(), secret=SECRET, timeout=10,
             mutate=None, direct=False, log_format="text", need_extractor=False,
             sources=("clever",), modes=None, graph_secret=GRAPH_SECRET,
             graph_client=GRAPH_CLIENT_ID, need_issued=None, also=()):
    """One run in a fresh job folder; checks the exit, the messages and the
    absence of every canary form everywhere. direct=True runs
    extract-clever alone, direct="graph" or "google" that extractor;
    otherwise run-job runs the sources named. need_issued: the least
    number of tokens and assertions the request log must show, so that
    searching for them is not vacuous. also: more (name, text) canaries."""
    work = os.path.join(tmp, name, "job")
    vendor = os.path.join(tmp, name, "vendor")  # the vendor's side: not searched
    os.makedirs(os.path.join(work, "store"))
    for d in ("data", "graph", "google", "oneroster"):
        shutil.copytree(os.path.join(tmp, d), os.path.join(vendor, d))
    fake = Fake(vendor, rules, modes)
    try:
        k = creds(work, "keygen")
        s = [creds(work, "set", "clever", stdin=secret + "\n"),
             creds(work, "set", "entra", stdin=graph_secret + "\n"),
             creds(work, "set", "google", stdin=KEY_JSON),
             creds(work, "set", "oneroster", stdin=OR_SECRET + "\n"),
             creds(work, "set", "oneroster1", stdin=OR_CONSUMER_SECRET + "\n")]
        if k.returncode or any(x.returncode for x in s):
            tap(False, "%s: store set up" % name, k.stderr + "".join(x.stderr for x in s))
            return
        store = open(os.path.join(work, "store", "creds"), "rb").read()
        mode = os.stat(os.path.join(work, "store", "creds")).st_mode & 0o777
        if name == "demo":
            tap(not search(store, "store/creds") and mode == 0o600,
                "the store holds no canary in any form and is mode 600",
                "mode %o\n%s" % (mode, "\n".join(search(store, "store/creds"))))
        key = None
        if mutate:
            key = mutate(work)
        with open(os.path.join(work, "d.job"), "w") as f:
            f.write(job_text(fake.url, timeout, key, log_format, sources, graph_client))
        if direct:
            which = "clever" if direct is True else direct
            argv = extractor_argv(which, fake.url, key, timeout, log_format, graph_client)
            extractors = [EXTRACTOR[which]]
        else:
            argv = [os.path.join(BIN, "run-job"), "d.job"]
            extractors = [EXTRACTOR[x] for x in sources]
        p, watch = run(argv, work, {"ROSTER_FAKE_CLOCK": CLOCK})
        out, err = p.stdout, p.stderr
        detail = "exit %d\n--- stderr\n%s" % (p.returncode, err.decode(errors="replace"))
        ok = p.returncode == expect_exit
        missing = [r for r in stderr_has if r.encode() not in err]
        tap(ok and not missing, "%s: exit %d%s" % (
            name, expect_exit, ", stderr says " + " / ".join(stderr_has) if stderr_has else ""),
            detail + ("missing: %s\n" % missing if missing else ""))
        extra, counts = issued(fake.log)
        extra += [text_canary(n, v) for n, v in also]
        leaks = (search(out, "stdout", extra) + search(err, "stderr", extra) +
                 search_tree(work, extra) + watch.found(extra))
        tap(not leaks, "%s: no canary in stdout, stderr, %d files, argv or environment "
            "(%d /proc samples, %d issued tokens and assertions)" % (
                name, sum(len(f) for _, _, f in os.walk(work)), sum(watch.seen.values()),
                sum(counts.values())), "\n".join(leaks))
        if need_extractor:
            tap(all(watch.seen.get(x, 0) > 0 for x in extractors),
                "%s: the extractor's argv was seen in /proc while it ran" % name
                if len(extractors) == 1 else
                "%s: each extractor's argv was seen in /proc while it ran" % name,
                "seen: %s" % watch.seen)
        if need_issued:
            # the vendor received each of them: the search must find them there
            log = open(fake.log, "rb").read() if os.path.exists(fake.log) else b""
            in_log = search(log, "the vendor's request log", extra)
            unfound = [c[0] for c in extra if not any(f.startswith(c[0] + " (") for f in in_log)]
            short = {k: (counts.get(k, 0), n) for k, n in need_issued.items() if counts.get(k, 0) < n}
            tap(not short and not unfound, "%s: the request log shows what the fakes issued (%s) "
                "and the search finds each in it" % (
                    name, ", ".join("%d %s" % (counts.get(k, 0), k) for k in need_issued)),
                "found, wanted at least: %s\nnot found in the log: %s" % (short, unfound))
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


# ---- SFTP: extract-sftp against a real OpenSSH sshd (tests/sftp) ----------

SSHD_ENV = os.path.join(TOP, "tests", "sftp", "sshd-env.sh")
DROP = os.path.join(TOP, "fixtures", "drops", "munis", "munis_employees_20261128.csv")
DROP_ROWS = len([l for l in open(DROP, "rb").read().splitlines() if l.strip()]) - 1  # a header


class Sshd:
    """The sshd of tests/sftp/sshd-env.sh, started once for every SFTP
    scenario. Its settings come through a pipe (they hold the password and
    the passphrase) and stay in this process. Its folder (host and client
    keys, config, log) is the server's side: not searched, like the fake
    vendor's."""

    def __init__(self, folder):
        self.dir = folder
        self.log = os.path.join(folder, "sshd.log")
        p = subprocess.run(["bash", SSHD_ENV, "start", folder], cwd=TOP, stdin=subprocess.DEVNULL,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120)
        self.env = dict(l.split("=", 1) for l in p.stdout.decode().splitlines() if "=" in l)
        need = ("SSHD_PORT", "SSHD_USER", "SSHD_HOME", "SSHD_KNOWN_HOSTS", "SSHD_KEY_ENC",
                "SSHD_PASSWORD", "SSHD_PASSPHRASE")
        self.error = None
        if p.returncode or not all(self.env.get(k) for k in need):
            self.error = "sshd-env.sh start: exit %d\n%s" % (p.returncode, p.stderr.decode(errors="replace"))

    def log_size(self):
        return os.path.getsize(self.log) if os.path.exists(self.log) else 0

    def saw(self, start, timeout=5):
        """What sshd logged from byte start on, once each connection made
        since has ended (some lines come after the client has gone)."""
        deadline = time.time() + timeout
        while True:
            with open(self.log, "rb") as f:
                f.seek(start)
                text = f.read().decode(errors="replace")
            ports = re.findall(r"Connection from \S+ port (\d+)", text)
            if ports and all(re.search(r"(?:Disconnected from|Connection closed by|Received disconnect "
                                       r"from|Connection reset by)\b.* port %s\b" % n, text)
                             for n in ports):
                return text
            if time.time() > deadline:
                return text
            time.sleep(0.05)

    def close(self):
        subprocess.run(["bash", SSHD_ENV, "stop", self.dir], cwd=TOP, stdin=subprocess.DEVNULL,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=60)


def sftp_key_body(path):
    """The base64 lines of an OpenSSH private key file's body."""
    return [l.strip() for l in open(path, encoding="ascii").read().strip().split("\n")
            if l.strip() and not l.startswith("-----")]


def sftp_canaries(env):
    """The sshd's password, the key's passphrase and the encrypted key file:
    each base64 line of its body (a line short enough to occur by chance
    is left to the others), the body joined, and its bytes (found in any
    wrapping, hex and base64 at any alignment)."""
    lines = sftp_key_body(env["SSHD_KEY_ENC"])
    HIDDEN.update({env["SSHD_PASSWORD"]: "sftp password", env["SSHD_PASSPHRASE"]: "sftp key passphrase"})
    HIDDEN.update((l, "sftp key line %d" % (i + 1)) for i, l in enumerate(lines) if len(l) >= 16)
    HIDDEN["".join(lines)] = "sftp key body"
    out = [text_canary("sftp password", env["SSHD_PASSWORD"]),
           text_canary("sftp key passphrase", env["SSHD_PASSPHRASE"])]
    out += [text_canary("sftp key line %d" % (i + 1), l) for i, l in enumerate(lines) if len(l) >= 16]
    out.append(text_canary("sftp key body", "".join(lines)))
    out.append(binary_canary("sftp key bytes", base64.b64decode("".join(lines))))
    return out


def sftp_self_test(sshd, canaries):
    """The search finds the run-time canaries in every form planted in
    text, and nothing in what is public: the key's public half, the
    known_hosts files, the host key's fingerprint."""
    e = sshd.env
    missed = []
    for name, s in (("sftp password", e["SSHD_PASSWORD"]), ("sftp key passphrase", e["SSHD_PASSPHRASE"])):
        raw = s.encode()
        plants = {"raw": raw, "quote": urllib.parse.quote(s, safe="").encode(),
                  "json": json.dumps(s).encode(), "hex": binascii.hexlify(raw),
                  "HEX": binascii.hexlify(raw).upper(),
                  "double-encoded": urllib.parse.quote(urllib.parse.quote(s, safe=""), safe="").encode(),
                  "user:password base64": base64.b64encode(("%s:%s" % (e["SSHD_USER"], s)).encode())}
        for pre in range(3):
            for enc in (base64.b64encode, base64.urlsafe_b64encode):
                plants["%s +%d" % (enc.__name__, pre)] = enc(b"p" * pre + raw + b"q" * pre)
        for kind, v in plants.items():
            if not search(b"before " + v + b" after", "plant", canaries):
                missed.append("%s: %s" % (name, kind))
    key = open(e["SSHD_KEY_ENC"], "rb").read()
    lines = sftp_key_body(e["SSHD_KEY_ENC"])
    body = base64.b64decode("".join(lines))
    plants = {"the key file": key, "the key file in JSON": json.dumps(key.decode()).encode(),
              "the body on one line": "".join(lines).encode(),
              "the body rewrapped at 64": b"\r\n".join(
                  base64.b64encode(body)[i:i + 64] for i in range(0, len(base64.b64encode(body)), 64)),
              "the key's bytes in hex": binascii.hexlify(body)}
    plants.update(("key line %d alone" % (i + 1), l.encode()) for i, l in enumerate(lines) if len(l) >= 16)
    for pre in range(3):
        plants["the key's bytes base64 +%d" % pre] = base64.b64encode(b"p" * pre + body)
    for kind, v in plants.items():
        if not search(b"before " + v + b" after", "plant", canaries):
            missed.append("sftp key: %s" % kind)
    clean = []
    for what, blob in (("the key's public half", open(e["SSHD_KEY_ENC"] + ".pub", "rb").read()),
                       ("known_hosts", open(e["SSHD_KNOWN_HOSTS"], "rb").read()),
                       ("hashed known_hosts", open(e["SSHD_KNOWN_HOSTS_HASHED"], "rb").read()),
                       ("the host key's fingerprint", e["SSHD_FINGERPRINT"].encode())):
        clean += search(blob, what, canaries)
    tap(not missed and not clean, "sftp: the search finds the sshd's password, the passphrase and "
        "the key file in every form planted in text, and nothing in the public key, known_hosts "
        "or the fingerprint", "\n".join(missed + clean))


def sftp_job_text(sshd, known_hosts, auth, log_format):
    e = sshd.env
    text = ("[job]\nname = canary\noutput = out\ncredentials = store/creds\nlog_format = %s\n"
            "deadline = 5m\n\n[source hr]\ntype = sftp\nprofile = munis\nhost = 127.0.0.1\n"
            "port = %s\nuser = %s\nknown_hosts = %s\npattern = munis_employees_*.csv\ntimeout = 20\n"
            % (log_format, e["SSHD_PORT"], e["SSHD_USER"], known_hosts))
    if auth == "password":
        return text + "password = creds:sftp-password\n"
    return text + "key = %s\npassphrase = creds:sftp-passphrase\n" % e["SSHD_KEY_ENC"]


def sftp_argv(sshd, known_hosts, auth, log_format):
    """extract-sftp alone, as run-job would run it (stdout kept)."""
    e = sshd.env
    argv = [os.path.join(BIN, "extract-sftp"), "--profile", "munis", "--host", "127.0.0.1",
            "--port", e["SSHD_PORT"], "--user", e["SSHD_USER"], "--known-hosts", known_hosts,
            "--pattern", "munis_employees_*.csv", "--credentials", "store/creds",
            "--staging", "staging", "--stats", "stats.json", "--timeout", "20",
            "--log-format", log_format]
    if auth == "password":
        return argv + ["--password", "creds:sftp-password"]
    return argv + ["--key", e["SSHD_KEY_ENC"], "--passphrase", "creds:sftp-passphrase"]


def sftp_scenario(tmp, sshd, canaries, name, auth, expect_exit, stderr_has=(), password=None,
                  passphrase=None, direct=False, log_format="text", unknown_host=False,
                  sshd_has=(), sshd_lacks=()):
    """One extract-sftp run (direct=True) or run-job run of a [source hr]
    of type sftp, in a fresh job folder whose store holds the password and
    the passphrase (the right ones unless given). Checks the exit and the
    messages (stderr_has: texts, or (label, text) for a text that changes
    from run to run), what sshd logged (sshd_has, sshd_lacks: what was or was not
    tried on it), and the absence of every canary form in stdout, stderr,
    every file of the folder (the staging copy and ledger, stats, STATE, the
    run's files) and /proc."""
    e = sshd.env
    work = os.path.join(tmp, name, "job")
    os.makedirs(os.path.join(work, "store"))
    k = creds(work, "keygen")
    s = [creds(work, "set", "sftp-password", stdin=(password or e["SSHD_PASSWORD"]) + "\n"),
         creds(work, "set", "sftp-passphrase", stdin=(passphrase or e["SSHD_PASSPHRASE"]) + "\n")]
    if k.returncode or any(x.returncode for x in s):
        tap(False, "%s: store set up" % name, k.stderr + "".join(x.stderr for x in s))
        return
    if name == "sftp-password":
        store = open(os.path.join(work, "store", "creds"), "rb").read()
        mode = os.stat(os.path.join(work, "store", "creds")).st_mode & 0o777
        tap(not search(store, "store/creds", canaries) and mode == 0o600,
            "sftp: the store holds neither the password nor the passphrase in any form and is mode 600",
            "mode %o\n%s" % (mode, "\n".join(search(store, "store/creds", canaries))))
    known_hosts = e["SSHD_KNOWN_HOSTS"]
    if unknown_host:
        known_hosts = os.path.join(work, "known_hosts")
        open(known_hosts, "w").close()
    with open(os.path.join(work, "d.job"), "w") as f:
        f.write(sftp_job_text(sshd, known_hosts, auth, log_format))
    argv = (sftp_argv(sshd, known_hosts, auth, log_format) if direct
            else [os.path.join(BIN, "run-job"), "d.job"])
    start = sshd.log_size()
    p, watch = run(argv, work)
    out, err = p.stdout, p.stderr
    detail = "exit %d\n--- stderr\n%s" % (p.returncode, err.decode(errors="replace"))
    says = [r if isinstance(r, tuple) else (r, r) for r in stderr_has]
    missing = [r for _, r in says if r.encode() not in err]
    tap(p.returncode == expect_exit and not missing, "%s: exit %d%s" % (
        name, expect_exit, ", stderr says " + " / ".join(l for l, _ in says) if says else ""),
        detail + ("missing: %s\n" % missing if missing else ""))
    if sshd_has or sshd_lacks:
        log = sshd.saw(start)
        absent = [w for w in sshd_has if w not in log]
        there = [w for w in sshd_lacks if w in log]
        tap(not absent and not there, "%s: sshd's log shows %s" % (name, "; ".join(
            ["%r" % w for w in sshd_has] + ["no %r" % w for w in sshd_lacks])),
            "missing: %s\nthere: %s\n--- sshd.log\n%s" % (absent, there, log))
    leaks = (search(out, "stdout", canaries) + search(err, "stderr", canaries) +
             search_tree(work, canaries) + watch.found(canaries))
    tap(not leaks, "%s: no canary in stdout, stderr, %d files, argv or environment (%d /proc samples)" % (
        name, sum(len(f) for _, _, f in os.walk(work)), sum(watch.seen.values())), "\n".join(leaks))
    if expect_exit == 0:
        tap(watch.seen.get("extract-sftp", 0) > 0,
            "%s: the extractor's argv was seen in /proc while it ran" % name, "seen: %s" % watch.seen)


def sftp_scenarios(tmp):
    """Password and key logins to a real sshd, good and refused, and an
    unknown host key, through run-job and extract-sftp alone."""
    sshd = Sshd(os.path.join(tmp, "sftp-server"))
    try:
        if sshd.error:
            tap(False, "sftp: sshd started (tests/sftp/sshd-env.sh; needs root)", sshd.error)
            return
        e = sshd.env
        canaries = sftp_canaries(e)
        sftp_self_test(sshd, canaries)
        # the drop: the fixture, old enough to be settled
        drop = os.path.join(e["SSHD_HOME"], os.path.basename(DROP))
        shutil.copyfile(DROP, drop)
        os.chmod(drop, 0o644)
        os.utime(drop, (time.time() - 7200,) * 2)
        login = "%s@127.0.0.1:%s" % (e["SSHD_USER"], e["SSHD_PORT"])
        read = "%s: %d rows" % (os.path.basename(DROP), DROP_ROWS)
        user = e["SSHD_USER"]
        # (1) the password from the store
        sftp_scenario(tmp, sshd, canaries, "sftp-password", "password", 0, (read,),
                      sshd_has=("Accepted password for " + user,))
        sftp_scenario(tmp, sshd, canaries, "sftp-password-extractor", "password", 0, (read,),
                      direct=True, sshd_has=("Accepted password for " + user,))
        sftp_scenario(tmp, sshd, canaries, "sftp-password-extractor-json-log", "password", 0,
                      (read,), direct=True, log_format="json",
                      sshd_has=("Accepted password for " + user,))
        # (2) a wrong password stored under the name: sent, refused
        for name, direct, fmt in (("sftp-wrong-password", False, "text"),
                                  ("sftp-wrong-password-extractor", True, "text"),
                                  ("sftp-wrong-password-extractor-json-log", True, "json")):
            sftp_scenario(tmp, sshd, canaries, name, "password", 2,
                          (("the login user@127.0.0.1:PORT", login), "refused the password"),
                          password=SFTP_WRONG_PASSWORD, direct=direct, log_format=fmt,
                          sshd_has=("Failed password for " + user,), sshd_lacks=("Accepted",))
        # (3) the encrypted ed25519 key, its passphrase from the store
        sftp_scenario(tmp, sshd, canaries, "sftp-key-passphrase", "key", 0, (read,),
                      sshd_has=("Accepted publickey for " + user,))
        sftp_scenario(tmp, sshd, canaries, "sftp-key-passphrase-extractor-json-log", "key", 0,
                      (read,), direct=True, log_format="json",
                      sshd_has=("Accepted publickey for " + user,))
        for name, direct in (("sftp-wrong-passphrase", False), ("sftp-wrong-passphrase-extractor", True)):
            sftp_scenario(tmp, sshd, canaries, name, "key", 2, ("does not open the key",),
                          passphrase=SFTP_WRONG_PASSPHRASE, direct=direct, sshd_lacks=("Accepted",))
        # (4) an unknown host key, a password configured: refused before
        # any login, so the password is neither sent nor shown
        for name, direct, fmt in (("sftp-unknown-host", False, "text"),
                                  ("sftp-unknown-host-extractor-json-log", True, "json")):
            sftp_scenario(tmp, sshd, canaries, name, "password", 2,
                          ("unknown host key", ("the offered fingerprint", e["SSHD_FINGERPRINT"])),
                          direct=direct,
                          log_format=fmt, unknown_host=True,
                          sshd_has=("Connection from 127.0.0.1",),
                          sshd_lacks=("password", "publickey", "authenticating user", "Accepted"))
    finally:
        sshd.close()


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
        # the Entra apps (all permissions; users only) get the canary secret
        shutil.copytree(os.path.join(TOP, "fixtures", "graph"), os.path.join(tmp, "graph"))
        path = os.path.join(tmp, "graph", "apps.json")
        apps = json.load(open(path))
        for app in apps["tenants"][0]["apps"]:
            if app["client_id"] in (GRAPH_CLIENT_ID, GRAPH_USERS_ONLY_ID):
                app["client_secret"] = GRAPH_SECRET
        json.dump(apps, open(path, "w"), indent=1)
        shutil.copytree(os.path.join(TOP, "fixtures", "google"), os.path.join(tmp, "google"))
        # the OneRoster client and consumer get the canary secrets
        shutil.copytree(os.path.join(TOP, "fixtures", "oneroster"), os.path.join(tmp, "oneroster"))
        path = os.path.join(tmp, "oneroster", "clients.json")
        orc = json.load(open(path))
        orc["oauth2"][0]["client_secret"] = OR_SECRET
        orc["oauth1"][0]["consumer_secret"] = OR_CONSUMER_SECRET
        json.dump(orc, open(path, "w"), indent=1)

        slow = [{"path": "/v3.0/*", "replies": [{"pass": True, "delay": 0.2,
                                                  "repeat": "forever"}]}]
        slow_graph = [{"path": "/v1.0/*", "replies": [{"pass": True, "delay": 0.2,
                                                       "repeat": "forever"}]}]
        slow_google = [{"path": "/admin/*", "replies": [{"pass": True, "delay": 0.2,
                                                         "repeat": "forever"}]}]
        everything = ("clever", "graph", "google")
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

        # Entra ID (Graph) and Google Workspace: the Graph client secret, the
        # Google service-account key, the tokens both issue, the JWT assertion
        issued_all = {"graph token": 1, "google token": 1, "google assertion": 1}
        quick = [dict(r, replies=[dict(r["replies"][0], delay=0.1)])
                 for r in slow + slow_graph + slow_google]
        scenario(tmp, "three-sources", quick, 0, sources=everything,
                 need_extractor=True, need_issued=issued_all)
        scenario(tmp, "three-sources-json-log", [], 0, sources=everything, log_format="json",
                 need_issued=issued_all)
        scenario(tmp, "graph-extractor-json-log", slow_graph, 0, direct="graph",
                 log_format="json", need_extractor=True, need_issued={"graph token": 1})
        scenario(tmp, "google-extractor-json-log", slow_google, 0, direct="google",
                 log_format="json", need_extractor=True,
                 need_issued={"google token": 1, "google assertion": 1})
        scenario(tmp, "graph-wrong-secret-401", [], 2, ("AADSTS7000215",), sources=("graph",),
                 graph_secret=GRAPH_WRONG)
        scenario(tmp, "graph-wrong-secret-401-extractor-json-log", [], 2, ("AADSTS7000215",),
                 direct="graph", log_format="json", graph_secret=GRAPH_WRONG)
        scenario(tmp, "graph-403-denied", [], 3, ("Authorization_RequestDenied",),
                 sources=("graph",), graph_client=GRAPH_USERS_ONLY_ID,
                 need_issued={"graph token": 1})
        scenario(tmp, "graph-403-denied-extractor-json-log", [], 3,
                 ("Authorization_RequestDenied",), direct="graph", log_format="json",
                 graph_client=GRAPH_USERS_ONLY_ID, need_issued={"graph token": 1})
        scenario(tmp, "graph-token-expired-mid-run", [], 0, sources=("graph",),
                 modes={"token_expires_after": 3}, need_issued={"graph token": 2})
        scenario(tmp, "graph-token-expired-mid-run-extractor-json-log", [], 0, direct="graph",
                 log_format="json", modes={"token_expires_after": 3},
                 need_issued={"graph token": 2})
        scenario(tmp, "google-unauthorized-client-401", [], 2, ("unauthorized_client",),
                 sources=("google",), modes={"delegation": {}},
                 need_issued={"google assertion": 1})
        scenario(tmp, "google-unauthorized-client-401-extractor-json-log", [], 2,
                 ("unauthorized_client",), direct="google", log_format="json",
                 modes={"delegation": {}}, need_issued={"google assertion": 1})
        groups_forbidden = {"faults": [{"path": "/admin/directory/v1/groups*",
                                        "error": "forbidden", "times": "forever"}]}
        scenario(tmp, "google-403-forbidden", [], 3, ("403", "forbidden"), sources=("google",),
                 modes=groups_forbidden, need_issued={"google token": 1})
        scenario(tmp, "google-403-forbidden-extractor-json-log", [], 3, ("403", "forbidden"),
                 direct="google", log_format="json", modes=groups_forbidden,
                 need_issued={"google token": 1})
        throttled = {"faults": [
            {"path": "/admin/directory/v1/users", "error": "userRateLimitExceeded", "times": 2},
            {"path": "/admin/directory/v1/groups", "error": "resourceExhausted", "times": 1}]}
        scenario(tmp, "google-throttle-then-success", [], 0,
                 ("userRateLimitExceeded",), sources=("google",), modes=throttled,
                 need_issued={"google token": 1})
        scenario(tmp, "google-throttle-then-success-extractor-json-log", [], 0,
                 ("userRateLimitExceeded",), direct="google", log_format="json",
                 modes=throttled, need_issued={"google token": 1})
        scenario(tmp, "google-token-expired-mid-run", [], 0, direct="google",
                 modes={"token_expires_after": 3}, need_issued={"google token": 2})
        # vendors that echo what they were sent: the Graph secret (raw and as
        # the form body carried it), the scripted tokens in error bodies
        token_path = "/%s/oauth2/v2.0/token" % TENANT
        scenario(tmp, "graph-token-401-echoes-secret", [{"path": token_path, "replies": [
            {"status": 401, "json": {
                "error": "invalid_client", "error_codes": [7000215],
                "error_description": "AADSTS7000215: Invalid client secret provided: %s "
                                     "(client_secret=%s)" % (GRAPH_SECRET,
                                                             urllib.parse.quote_plus(GRAPH_SECRET))},
             "repeat": "forever"}]}], 2, ("AADSTS7000215",), sources=("graph",))
        graph_token_rule = {"path": token_path, "replies": [
            {"json": {"token_type": "Bearer", "expires_in": 3599, "ext_expires_in": 3599,
                      "access_token": GRAPH_TOKEN}, "repeat": "forever"}]}
        scenario(tmp, "graph-403-echoes-token", [graph_token_rule, {"path": "/v1.0/*", "replies": [
            {"status": 403, "json": {"error": {
                "code": "Authorization_RequestDenied",
                "message": "Insufficient privileges for token %s (Authorization: Bearer %s)"
                           % (GRAPH_TOKEN, GRAPH_TOKEN)}},
             "repeat": "forever"}]}], 2, ("Authorization_RequestDenied",), direct="graph",
            log_format="json")
        scenario(tmp, "graph-500-echoes-header", [graph_token_rule, {"path": "/v1.0/*", "replies": [
            {"status": 500, "body": "Authorization: Bearer " + GRAPH_TOKEN, "repeat": "forever"}]}],
            3, ("500",), sources=("clever", "graph"))
        google_token_rule = {"path": "/token", "replies": [
            {"json": {"access_token": GOOGLE_TOKEN, "expires_in": 3599, "token_type": "Bearer"},
             "repeat": "forever"}]}
        scenario(tmp, "google-401-echoes-token", [google_token_rule, {"path": "/admin/*", "replies": [
            {"status": 401, "json": {"error": {
                "code": 401, "status": "UNAUTHENTICATED",
                "message": "Request had invalid authentication credentials: Bearer " + GOOGLE_TOKEN,
                "errors": [{"message": "Invalid Credentials " + GOOGLE_TOKEN, "domain": "global",
                            "reason": "authError"}]}},
             "repeat": "forever"}]}], 2, ("401",), sources=("google",),
            need_issued={"google assertion": 1})
        scenario(tmp, "google-403-echoes-token", [google_token_rule, {"path": "/admin/*", "replies": [
            {"status": 403, "json": {"error": {
                "code": 403, "message": "token %s may not read this" % GOOGLE_TOKEN,
                "errors": [{"message": "Not Authorized", "domain": "global", "reason": "forbidden"}]}},
             "repeat": "forever"}]}], 2, ("403",), direct="google", log_format="json",
            need_issued={"google assertion": 1})
        # the assertion is the same on every run (the same key, claims and
        # clock): the one an earlier run sent, echoed by the token endpoint
        assertion = (sent(os.path.join(tmp, "google-unauthorized-client-401", "vendor",
                                       "requests.log"))["google assertion"] or ["none"])[0]
        scenario(tmp, "google-400-echoes-assertion", [{"path": "/token", "replies": [
            {"status": 400, "json": {"error": "invalid_grant",
                                     "error_description": "Invalid JWT Signature: " + assertion},
             "repeat": "forever"}]}], 2, ("invalid_grant",), sources=("google",),
            need_issued={"google assertion": 1},
            also=[("google assertion echoed", assertion),
                  ("google assertion echoed signature", assertion.rsplit(".", 1)[-1])])

        # OneRoster: the client secret, the tokens the fake issues (one
        # renewed on a 401), the consumer secret a signature is made with,
        # and providers that echo them
        scenario(tmp, "oneroster-demo", [], 0, sources=("oneroster",),
                 need_issued={"oneroster token": 1})
        scenario(tmp, "oneroster-oauth1-extractor-json-log", [], 0, direct="oneroster1",
                 log_format="json")
        scenario(tmp, "oneroster-token-expired-mid-run", [], 0, sources=("oneroster",),
                 modes={"token_expires_after": 2}, need_issued={"oneroster token": 2})
        scenario(tmp, "oneroster-token-401-echoes-secret", [{"path": "/campus/oauth2/token",
            "replies": [{"status": 401, "json": {
                "error": "invalid_client",
                "error_description": "Bad secret %s (%s)" % (OR_SECRET, urllib.parse.quote_plus(OR_SECRET))},
             "repeat": "forever"}]}], 2, ("invalid_client",), direct="oneroster")
        scenario(tmp, "oneroster-oauth1-401-echoes-secret", [{"path": "/ims/*", "replies": [
            {"status": 401, "json": {"imsx_codeMajor": "failure", "imsx_severity": "error",
                                     "imsx_description": "Signature made with %s is wrong" % OR_CONSUMER_SECRET},
             "repeat": "forever"}]}], 2, ("401",), sources=("oneroster1",))

        # file drops over SFTP from a real sshd: the password, the key's
        # passphrase and the key file
        sftp_scenarios(tmp)
    finally:
        if "--keep" in sys.argv:
            print("# kept " + tmp)
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    print("1..%d" % len(results))
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
