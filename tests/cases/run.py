#!/usr/bin/python3
"""End-to-end case runner: one case = one JSON file (tests/cases/README.md).

    run.py [-j N] [-k TEXT] [--keep] PATH...

PATH is a case file or a folder of <group>/<name>.json files. For each case:
start the fake vendor server with the case's script, run the command, check
exit code, stderr, stdout, the requests the fake received and the files
left behind. Prints TAP; exits 1 if a case failed.
"""
import argparse
import concurrent.futures
import csv
import io
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(os.path.dirname(HERE))
FAKE = os.path.join(TOP, "tests", "fake", "fake_vendor.py")
PYTHON = "/usr/bin/python3"
PLACEHOLDER = re.compile(r"\{(fake|port|bin|tmp|fixtures|vectors|ca|creds_key|creds)\}")


# ---- values and paths ----

def subst(value, vars_):
    """Replaces {fake}, {bin}, ... in every string of a JSON value."""
    if isinstance(value, str):
        return PLACEHOLDER.sub(lambda m: vars_[m.group(1)], value)
    if isinstance(value, list):
        return [subst(v, vars_) for v in value]
    if isinstance(value, dict):
        return {k: subst(v, vars_) for k, v in value.items()}
    return value


def dig(obj, path):
    """'a.b.0.c' into nested dicts/lists. Returns (found, value)."""
    for part in [p for p in str(path).split(".") if p != ""]:
        if isinstance(obj, dict) and part in obj:
            obj = obj[part]
        elif isinstance(obj, list) and re.fullmatch(r"-?\d+", part) and -len(obj) <= int(part) < len(obj):
            obj = obj[int(part)]
        else:
            return False, None
    return True, obj


def check_value(check, obj, where, fails):
    """One path check: {"path", "equals"|"match"|"exists"|"length"|"contains"|"gte"|"lte"}."""
    path = check.get("path", "")
    found, v = dig(obj, path)
    label = "%s %s" % (where, path or "(whole)")
    if "exists" in check:
        if found != bool(check["exists"]):
            fails.append("%s: expected %s" % (label, "present" if check["exists"] else "absent, got %s" % short(v)))
        return
    if not found:
        fails.append("%s: not found" % label)
        return
    if "equals" in check and v != check["equals"]:
        fails.append("%s: expected %s, got %s" % (label, short(check["equals"]), short(v)))
    if "match" in check and not re.search(check["match"], v if isinstance(v, str) else json.dumps(v)):
        fails.append("%s: %s does not match /%s/" % (label, short(v), check["match"]))
    if "length" in check and (not hasattr(v, "__len__") or len(v) != check["length"]):
        fails.append("%s: expected length %s, got %s" % (label, check["length"], short(v)))
    if "contains" in check and (not hasattr(v, "__contains__") or check["contains"] not in v):
        fails.append("%s: %s does not contain %s" % (label, short(v), short(check["contains"])))
    for op, ok in (("gte", lambda a, b: a >= b), ("lte", lambda a, b: a <= b)):
        if op in check and not (isinstance(v, (int, float)) and ok(v, check[op])):
            fails.append("%s: expected %s %s, got %s" % (label, op, check[op], short(v)))


def short(v, n=160):
    s = json.dumps(v, ensure_ascii=False) if not isinstance(v, str) else repr(v)
    return s if len(s) <= n else s[:n] + "..."


def path_matches(pattern, path):
    return path.startswith(pattern[:-1]) if pattern.endswith("*") else path == pattern


# ---- the fake server ----

def make_tls(folder, san, env):
    """A throwaway CA and a server certificate for SAN signed by it, made with
    the openssl command line. Returns (ca.pem, server.pem, server.key)."""
    os.makedirs(folder)
    f = lambda name: os.path.join(folder, name)
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"]
    with open(f("server.ext"), "w") as ext:
        ext.write("basicConstraints = critical, CA:FALSE\n"
                  "keyUsage = critical, digitalSignature, keyEncipherment\n"
                  "extendedKeyUsage = serverAuth\n"
                  "subjectAltName = %s\n" % san)
    cn = san.split(",")[0].split(":", 1)[-1].strip()
    for argv in (
            ["req", "-x509", "-new"] + ec + ["-keyout", f("ca.key"), "-out", f("ca.pem"),
             "-days", "2", "-subj", "/CN=roster-etl test CA",
             "-addext", "basicConstraints=critical,CA:TRUE",
             "-addext", "keyUsage=critical,keyCertSign,cRLSign"],
            ["req", "-new"] + ec + ["-keyout", f("server.key"), "-out", f("server.csr"),
             "-subj", "/CN=" + cn],
            ["x509", "-req", "-in", f("server.csr"), "-CA", f("ca.pem"), "-CAkey", f("ca.key"),
             "-set_serial", "2", "-days", "2", "-extfile", f("server.ext"), "-out", f("server.pem")]):
        p = subprocess.run(["openssl"] + argv, env=env, stdin=subprocess.DEVNULL,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        if p.returncode:
            raise RuntimeError("openssl %s failed: %s" % (argv[0], p.stdout.decode(errors="replace")[-500:]))
    return f("ca.pem"), f("server.pem"), f("server.key")


class Fake:
    def __init__(self, spec, vars_, env, work):
        self.dir = os.path.join(work, "fake")
        os.makedirs(self.dir)
        self.log = os.path.join(self.dir, "requests.log")
        personality = spec.get("personality", "clever")
        if isinstance(personality, list):  # several vendors on one port
            personality = ",".join(personality)
        data = subst(spec.get("data", ",".join("{fixtures}/" + p for p in personality.split(","))),
                     vars_)
        script = os.path.join(self.dir, "case.json")
        with open(script, "w", encoding="utf-8") as f:
            json.dump({"rules": spec.get("rules", []), "modes": spec.get("modes", {})}, f)
        port_file = os.path.join(self.dir, "port")
        argv = [PYTHON, FAKE, "--personality", personality, "--data", data, "--port-file", port_file,
                "--case", script, "--log", self.log]
        tls = spec.get("tls")
        self.scheme, self.ca = "http", ""
        if tls:
            san = tls.get("san", "IP:127.0.0.1") if isinstance(tls, dict) else "IP:127.0.0.1"
            self.ca, cert, key = make_tls(os.path.join(vars_["tmp"], "tls"), san, env)
            argv += ["--tls-cert", cert, "--tls-key", key]
            self.scheme = "https"
        self.err = open(os.path.join(self.dir, "stderr"), "w+")
        self.proc = subprocess.Popen(argv, env=env, stdout=self.err, stderr=self.err)
        deadline = time.time() + 10
        while not os.path.exists(port_file):
            if self.proc.poll() is not None or time.time() > deadline:
                self.stop()
                raise RuntimeError("the fake server did not start: " + self.stderr())
            time.sleep(0.02)
        with open(port_file) as f:
            self.port = f.read().strip()

    def stderr(self):
        self.err.seek(0)
        return self.err.read()[-2000:]

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def requests(self):
        if not os.path.exists(self.log):
            return []
        with open(self.log, encoding="utf-8") as f:
            return [json.loads(line) for line in f if line.strip()]


# ---- checks ----

def check_text(name, text, want, want_not, fails):
    for rx in want or []:
        if not re.search(rx, text, re.M):
            fails.append("%s does not match /%s/" % (name, rx))
    for rx in want_not or []:
        m = re.search(rx, text, re.M)
        if m:
            fails.append("%s matches /%s/ but must not: %r" % (name, rx, m.group(0)[:120]))


def check_stdout(spec, out, fails):
    check_text("stdout", out, spec.get("regex"), spec.get("not"), fails)
    singer = any(k in spec for k in ("records", "activate", "no_activate", "messages", "unique"))
    if not singer:
        return
    msgs = []
    for n, line in enumerate(out.splitlines(), 1):
        try:
            msgs.append(json.loads(line))
        except ValueError:
            fails.append("stdout line %d is not JSON: %s" % (n, short(line)))
            return
    records, activated, schema = {}, {}, set()
    for m in msgs:  # Singer framing: SCHEMA first, nothing after ACTIVATE_VERSION
        t, s = m.get("type"), m.get("stream")
        if t == "SCHEMA":
            schema.add(s)
        elif t == "RECORD":
            if s not in schema:
                fails.append("RECORD of %s before its SCHEMA" % s)
            if s in activated:
                fails.append("RECORD of %s after its ACTIVATE_VERSION" % s)
            records.setdefault(s, []).append(m.get("record"))
        elif t == "ACTIVATE_VERSION":
            activated[s] = activated.get(s, 0) + 1
    for s, n in (spec.get("records") or {}).items():
        got = len(records.get(s, []))
        if got != n:
            fails.append("stdout: %d RECORD of %s, expected %d" % (got, s, n))
    for s in spec.get("activate") or []:
        if activated.get(s) != 1:
            fails.append("stdout: %s has %d ACTIVATE_VERSION, expected 1" % (s, activated.get(s, 0)))
    for s in spec.get("no_activate") or []:
        if activated.get(s):
            fails.append("stdout: %s has ACTIVATE_VERSION but must not" % s)
    for s, key in (spec.get("unique") or {}).items():
        ids = [dig(r, key)[1] for r in records.get(s, [])]
        dups = sorted({i for i in ids if ids.count(i) > 1}, key=str)
        if dups:
            fails.append("stdout: %s has duplicate %s: %s" % (s, key, short(dups)))
    fails[:] = list(dict.fromkeys(fails))  # one line per framing fault
    for c in spec.get("messages") or []:
        sel = [m for m in msgs if all(m.get(k) == c[k] for k in ("type", "stream") if k in c)]
        if not sel:
            fails.append("stdout: no message with %s" % short({k: c[k] for k in ("type", "stream") if k in c}))
            continue
        which = c.get("which", "last")
        for m in sel if which == "all" else [sel[0] if which == "first" else sel[-1]]:
            check_value(c, m, "stdout %s %s" % (c.get("type", ""), which), fails)


def check_requests(specs, log, fails):
    for spec in specs:
        picked = [i for i, r in enumerate(log)
                  if r["method"] == spec.get("method", r["method"])
                  and path_matches(spec.get("path", "*"), r["path"])
                  and query_matches(spec.get("query") or {}, r["query"])]
        what = "%s %s%s" % (spec.get("method", "*"), spec.get("path", "*"),
                            " " + short(spec["query"]) if spec.get("query") else "")
        n = len(picked)
        if "count" in spec and n != spec["count"]:
            fails.append("requests %s: %d, expected %d" % (what, n, spec["count"]))
        if "min" in spec and n < spec["min"]:
            fails.append("requests %s: %d, expected at least %d" % (what, n, spec["min"]))
        if "max" in spec and n > spec["max"]:
            fails.append("requests %s: %d, expected at most %d" % (what, n, spec["max"]))
        bad = []  # one line per distinct mismatch, not one per request
        for r in (log[i] for i in picked):
            for h, rx in (spec.get("headers") or {}).items():
                v = r["headers"].get(h.lower())
                if rx is None:  # null: the header must be absent
                    if v is not None:
                        bad.append("header %s is present (%s), expected absent" % (h, short(v)))
                    continue
                if v is None or not re.search(rx, v):
                    bad.append("header %s is %s, expected /%s/" % (h, short(v), rx))
            for k, rx in (spec.get("each_query") or {}).items():
                v = r["query"].get(k)
                if not v or not re.search(rx, v[0]):
                    bad.append("query %s is %s, expected /%s/ in %s %s" % (
                        k, short(v), rx, r["path"], short(r["query"])))
        fails += ["requests %s: %s" % (what, b) for b in dict.fromkeys(bad)]
        if spec.get("before") and picked:
            earlier = [r for r in log[:picked[-1]] if path_matches(spec["before"], r["path"])]
            if earlier:
                fails.append("requests %s: expected before every %s, but %s came first" % (
                    what, spec["before"], earlier[0]["path"]))


def query_matches(want, got):
    """Each wanted key: a value (or list) equal to the request's, or null for absent."""
    for k, v in want.items():
        if v is None:
            if k in got:
                return False
        elif got.get(k) != (v if isinstance(v, list) else [v]):
            return False
    return True


def check_files(specs, tmp, seeded, fails):
    for rel, spec in specs.items():
        path = os.path.join(tmp, rel)
        exists = os.path.exists(path)
        if "exists" in spec and exists != spec["exists"]:
            fails.append("file %s: expected %s" % (rel, "to exist" if spec["exists"] else "not to exist"))
            continue
        if not exists:
            if len(spec) > ("exists" in spec):
                fails.append("file %s: missing" % rel)
            continue
        with open(path, encoding="utf-8", errors="replace", newline="") as f:
            text = f.read()
        if spec.get("unchanged") and text != seeded.get(rel):
            fails.append("file %s: changed, expected the seeded content %s, got %s" % (
                rel, short(seeded.get(rel)), short(text)))
        if "text" in spec and text != spec["text"]:
            fails.append("file %s: expected %s, got %s" % (rel, short(spec["text"]), short(text)))
        check_text("file " + rel, text, spec.get("regex"), spec.get("not"), fails)
        if "json" in spec:
            try:
                obj = json.loads(text)
            except ValueError:
                fails.append("file %s: not JSON: %s" % (rel, short(text)))
                continue
            for c in spec["json"]:
                check_value(c, obj, "file " + rel, fails)
        if "csv" in spec:
            check_csv(rel, text, spec["csv"], fails)


def check_csv(rel, text, spec, fails):
    rows = list(csv.reader(io.StringIO(text)))
    header, body = (rows[0], rows[1:]) if rows else ([], [])
    if "header" in spec and header != spec["header"]:
        fails.append("file %s: header %s, expected %s" % (rel, short(header), short(spec["header"])))
    if "rows" in spec and len(body) != spec["rows"]:
        fails.append("file %s: %d rows, expected %d" % (rel, len(body), spec["rows"]))
    dicts = [dict(zip(header, r)) for r in body]
    for want in spec.get("has") or []:
        if not any(all(d.get(k) == v for k, v in want.items()) for d in dicts):
            fails.append("file %s: no row with %s" % (rel, short(want)))
    for want in spec.get("lacks") or []:
        if any(all(d.get(k) == v for k, v in want.items()) for d in dicts):
            fails.append("file %s: a row has %s but must not" % (rel, short(want)))


# ---- the credentials store ----

class SetupFailed(Exception):
    """A case's setup step failed; fails says which."""


def make_creds(entries, vars_, env, fails):
    """{"NAME": "secret", ...}: makes {creds_key} with `creds keygen`, then
    stores each entry with `creds set NAME` (the secret on stdin, followed by
    the one newline the program strips, so it is stored exactly). A failed
    step is a failed case that says which step."""
    if not isinstance(entries, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in entries.items()):
        fails.append('setup: "creds" must be an object of NAME: "secret" strings')
        return
    if any(v.endswith("\r") for v in entries.values()):  # "\r\n" would be stripped whole
        fails.append('setup: a "creds" secret cannot end in a carriage return')
        return
    prog = os.path.join(vars_["bin"], "creds")
    if not os.access(prog, os.X_OK):
        fails.append("setup: %s is not built (or not executable): cannot make the credentials store" % prog)
        return
    steps = [(["keygen"], None, "keygen")] + [
        (["set", name], subst(secret, vars_) + "\n", "set %s" % name) for name, secret in entries.items()]
    for args, stdin, what in steps:
        argv = [prog, "--file", vars_["creds"]] + args
        try:
            p = subprocess.run(argv, cwd=vars_["tmp"], env=env,
                               input=(stdin or "").encode(), stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, timeout=30, start_new_session=True)
        except subprocess.TimeoutExpired:
            fails.append("setup: creds %s timed out after 30 s" % what)
            return
        if p.returncode:
            err = p.stderr.decode("utf-8", "replace").strip().splitlines()
            fails.append("setup: creds %s exited %d: %s" % (
                what, p.returncode, " / ".join(err[-3:]) or "(no message)"))
            return


# ---- one case ----

def run_case(path, opts):
    """Returns (passed, diagnostic lines)."""
    with open(path, encoding="utf-8") as f:
        case = json.load(f)
    work = tempfile.mkdtemp(prefix="case.")
    tmp = os.path.join(work, "tmp")
    os.makedirs(tmp)
    vars_ = {"bin": opts.bin, "tmp": tmp, "fixtures": os.path.join(TOP, "fixtures"),
             "vectors": os.environ.get("VECTORS", os.path.join(TOP, "tests", "vectors")),
             "fake": "", "port": "", "ca": "",
             "creds": os.path.join(tmp, "creds"), "creds_key": os.path.join(tmp, "creds.key")}
    env = dict(os.environ)
    env.pop("ROSTER_FAKE_CLOCK", None)
    env.pop("ROSTER_CREDENTIALS", None)  # a case names its store, or sets it in "env"
    if "clock" in case:
        env["ROSTER_FAKE_CLOCK"] = str(case["clock"])
    fails, diag, fake = [], [], None
    try:
        if "fake" in case:  # first: setup files may name {fake}
            fake = Fake(case["fake"], vars_, env, work)
            vars_["port"] = fake.port
            vars_["fake"] = "%s://127.0.0.1:%s" % (fake.scheme, fake.port)
            vars_["ca"] = fake.ca
        if "creds" in case or "creds_files" in case:  # before setup files: they may name {creds}
            entries = dict(case.get("creds") or {})
            for name, path in (case.get("creds_files") or {}).items():
                with open(subst(path, vars_), encoding="utf-8") as f:
                    text = f.read()  # a key file stored whole (its last newline is the one creds strips)
                entries[name] = text[:-1] if text.endswith("\n") else text
            make_creds(entries, vars_, env, fails)
            if fails:
                raise SetupFailed()
        seeded = {}
        for rel, content in ((case.get("setup") or {}).get("files") or {}).items():
            seeded[rel] = subst(content, vars_)
            os.makedirs(os.path.dirname(os.path.join(tmp, rel)), exist_ok=True)
            with open(os.path.join(tmp, rel), "w", encoding="utf-8", newline="") as f:
                f.write(seeded[rel])
        env.update(subst(case.get("env") or {}, vars_))
        cmd = subst(case["command"], vars_)
        argv = cmd if isinstance(cmd, list) else ["bash", "-o", "pipefail", "-c", cmd]
        if isinstance(cmd, list) and not os.access(argv[0], os.X_OK):
            return False, ["# %s is not built (or not executable)" % argv[0]]
        limit = case.get("timeout", opts.timeout)
        started = time.time()
        p = subprocess.Popen(argv, cwd=tmp, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, start_new_session=True)
        try:
            out, err = p.communicate(subst(case.get("stdin", ""), vars_).encode(), timeout=limit)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)
            out, err = p.communicate()
            fails.append("timed out after %g s (killed)" % limit)
        elapsed = time.time() - started
        out, err = out.decode("utf-8", "replace"), err.decode("utf-8", "replace")
        if fake:
            fake.stop()
        want_exit = case.get("exit", 0)
        want_exit = want_exit if isinstance(want_exit, list) else [want_exit]
        if p.returncode not in want_exit:
            fails.append("exit %s, expected %s" % (p.returncode, " or ".join(map(str, want_exit))))
        if "max_seconds" in case and elapsed > case["max_seconds"]:
            fails.append("took %.1f s, expected at most %g s (a wait was slept?)" % (elapsed, case["max_seconds"]))
        check_text("stderr", err, case.get("stderr"), case.get("stderr_not"), fails)
        check_stdout(case.get("stdout") or {}, out, fails)
        if fake:
            check_requests(case.get("requests") or [], fake.requests(), fails)
            if "Traceback" in fake.stderr():
                fails.append("the fake server raised an exception")
                diag += ["#   fake: " + l for l in fake.stderr().splitlines()[-10:]]
        check_files(case.get("files") or {}, tmp, seeded, fails)
        if fails or opts.verbose:
            diag += ["#   stderr: " + l for l in err.splitlines()[-15:]]
            if fake and opts.verbose:
                diag += ["#   request: %s %s %s" % (r["method"], r["path"], short(r["query"]))
                         for r in fake.requests()]
    except SetupFailed:  # already said in fails
        pass
    except Exception as e:  # a broken case file is a failed case, not a crashed runner
        fails.append("case error: %s: %s" % (type(e).__name__, e))
    finally:
        if fake:
            fake.stop()
        if opts.keep:
            diag.append("# kept %s" % work)
        else:
            shutil.rmtree(work, ignore_errors=True)
    return not fails, ["# " + f for f in fails] + diag


def find_cases(paths):
    found = []
    for p in paths:
        if os.path.isdir(p):
            for root, _, files in os.walk(p):
                found += [os.path.join(root, f) for f in files if f.endswith(".json")]
        else:
            found.append(p)
    return sorted(found)


def main():
    ap = argparse.ArgumentParser(description="runs end-to-end cases, prints TAP")
    ap.add_argument("paths", nargs="+")
    ap.add_argument("-j", type=int, default=4, help="cases run at once (default 4)")
    ap.add_argument("-k", help="only cases whose group/name contains this text")
    ap.add_argument("--keep", action="store_true", help="keep each case's temporary folder")
    ap.add_argument("-v", "--verbose", action="store_true", help="show stderr and requests")
    ap.add_argument("--timeout", type=float, default=60, help="default time limit a case (s)")
    opts = ap.parse_args()
    opts.bin = os.environ.get("ROSTER_BIN") or os.path.join(TOP, "build", "bin")
    cases = find_cases(opts.paths)
    names = ["%s/%s" % (os.path.basename(os.path.dirname(c)), os.path.basename(c)[:-5]) for c in cases]
    keep = [i for i, n in enumerate(names) if not opts.k or opts.k in n]
    print("1..%d" % len(keep), flush=True)
    failed = 0
    with concurrent.futures.ThreadPoolExecutor(max(1, opts.j)) as pool:
        futures = [pool.submit(run_case, cases[i], opts) for i in keep]
        for n, (i, fut) in enumerate(zip(keep, futures), 1):
            ok, diag = fut.result()
            failed += not ok
            print("%s %d - %s" % ("ok" if ok else "not ok", n, names[i]))
            for line in diag:
                print(line)
            sys.stdout.flush()
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
