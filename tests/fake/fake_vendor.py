#!/usr/bin/python3
"""A fake vendor server for the end-to-end tests.

    fake_vendor.py --personality clever[,graph,google,oneroster] --data DIR[,DIR...] --port-file FILE
                   [--port N] [--case FILE] [--log FILE]
                   [--tls-cert FILE --tls-key FILE]

Listens on 127.0.0.1 (port 0 picks a free one), writes the port to
--port-file once listening, and logs every request as one JSON line to --log:
{"method", "path", "query" (dict of lists), "headers" (lower-case names), "body"}.
With --tls-cert and --tls-key (PEM) it answers https (TLS 1.2 or later)
instead of http; a client that refuses the certificate is never logged.

A personality (clever.py, graph.py, google.py, oneroster.py: a module of this folder with
a top-level PERSONALITY = its class) answers as the vendor would.
Several personalities may share one server (a job reading three vendors
from one loopback port): --personality and --data then take comma-separated
lists in the same order, and each request goes to the first personality
whose owns(path) says the path is its (their paths do not overlap: Clever
/v3.0/ and /oauth/, Graph /v1.0/ and /TENANT/oauth2/, Google /admin/ and its
token paths, OneRoster every path with /ims/oneroster/ and /campus/oauth2/token). The case file
scripts deviations: {"rules": [...], "modes": {...}} (or just the list of
rules). A rule {"method", "path" (exact, or prefix ending in "*"), "query"
(dict that must match), "replies": [...]} answers the matching requests with
its replies in order; a reply is {"status", "headers", "body" | "json",
"delay", "cut", "repeat": N | "forever"} or {"pass": true} (the
personality's answer; "headers", "delay" and "cut" still apply). When a
rule's replies are used up, the next matching rule or the personality
answers. Modes are the personality's behaviour switches (see its module).
"""
import argparse
import importlib
import json
import os
import ssl
import sys
import threading
import time
import traceback
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from fakebase import Reply, Request, path_matches

HERE = os.path.dirname(os.path.abspath(__file__))


def personalities():
    """The personalities: every module of this folder that names its class
    with a top-level PERSONALITY = ...; a new vendor is a new module."""
    names = []
    for f in sorted(os.listdir(HERE)):
        if f.endswith(".py"):
            with open(os.path.join(HERE, f), encoding="utf-8") as fh:
                if any(line.startswith("PERSONALITY = ") for line in fh):
                    names.append(f[:-3])
    return names


class Router:
    """Several personalities on one server: the first that owns the path answers."""

    def __init__(self, personalities):
        self.personalities = personalities

    def handle(self, req):
        for p in self.personalities:
            if p.owns(req.path):
                return p.handle(req)
        return Reply(404, "no fake vendor serves this path\n", {"Content-Type": "text/plain"})


class Script:
    """The case's scripted replies, consumed in order per rule."""

    def __init__(self, rules):
        self.rules = [{"rule": r, "next": 0, "used": 0} for r in rules]
        self.lock = threading.Lock()

    @staticmethod
    def matches(rule, req):
        if rule.get("method", req.method).upper() != req.method:
            return False
        if not path_matches(rule.get("path", "*"), req.path):
            return False
        for k, want in (rule.get("query") or {}).items():
            got = req.query.get(k)
            if want is None:
                if got is not None:
                    return False
            elif got != (want if isinstance(want, list) else [want]):
                return False
        return True

    def take(self, req):
        with self.lock:
            for st in self.rules:
                replies = st["rule"].get("replies", [])
                if st["next"] >= len(replies) or not self.matches(st["rule"], req):
                    continue
                reply = replies[st["next"]]
                st["used"] += 1
                repeat = reply.get("repeat", 1)
                if repeat != "forever" and st["used"] >= int(repeat):
                    st["next"] += 1
                    st["used"] = 0
                return reply
        return None


def scripted_reply(spec, personality_reply):
    """Builds the Reply for a scripted reply spec."""
    if spec.get("pass"):
        reply = personality_reply()
    elif "json" in spec:
        reply = Reply(spec.get("status", 200), json.dumps(spec["json"], ensure_ascii=False),
                      {"Content-Type": "application/json; charset=utf-8"})
    else:
        reply = Reply(spec.get("status", 200), spec.get("body", ""),
                      {"Content-Type": "text/plain; charset=utf-8"})
    reply.headers.update(spec.get("headers") or {})
    return reply


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as real APIs: a cut body is then visible

    def log_message(self, *args):
        pass  # the request log is the record; stderr stays quiet

    def do_GET(self):
        self.dispatch()

    do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_GET

    def dispatch(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n).decode("utf-8", "replace") if n else ""
        url = urllib.parse.urlsplit(self.path)
        headers = {}
        for k, v in self.headers.items():
            k = k.lower()
            headers[k] = headers[k] + ", " + v if k in headers else v
        req = Request(self.command, url.path,
                      urllib.parse.parse_qs(url.query, keep_blank_values=True),
                      url.query, headers, body)
        srv = self.server
        srv.log_request_line(req)
        spec = srv.script.take(req) or {"pass": True}
        try:
            reply = scripted_reply(spec, lambda: srv.personality.handle(req))
        except Exception:  # a bug in the fake must show, not hang the client
            traceback.print_exc()
            reply = Reply(500, "fake server error\n", {"Content-Type": "text/plain"})
        if spec.get("delay"):
            time.sleep(float(spec["delay"]))
        self.send(reply, spec.get("cut"))

    def send(self, reply, cut):
        body = reply.body
        length = len(body)
        if cut is not None:
            # announce more than will come, send N bytes, then hang up
            body = body[:int(cut)]
            length = max(length, len(body) + 1)
            self.close_connection = True
        self.send_response(reply.status)
        for k, v in reply.headers.items():
            self.send_header(k, str(v))
        self.send_header("Content-Length", str(length))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)
        self.wfile.flush()


class FakeServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, port, personality, script, log_path):
        super().__init__(("127.0.0.1", port), Handler)
        self.personality = personality
        self.script = script
        self.log_lock = threading.Lock()
        self.log_file = open(log_path, "a", encoding="utf-8") if log_path else None

    def handle_error(self, request, client_address):
        # a client that hangs up (its timeout, a cut reply) or refuses the
        # certificate is a test condition, not a fault of the fake
        if not isinstance(sys.exc_info()[1], (ConnectionError, ssl.SSLError)):
            super().handle_error(request, client_address)

    def log_request_line(self, req):
        if not self.log_file:
            return
        line = json.dumps({"method": req.method, "path": req.path, "query": req.query,
                           "headers": req.headers, "body": req.body}, ensure_ascii=False)
        with self.log_lock:
            self.log_file.write(line + "\n")
            self.log_file.flush()


def load_case(path):
    if not path:
        return [], {}
    with open(path, encoding="utf-8") as f:
        case = json.load(f)
    if isinstance(case, list):
        return case, {}
    return case.get("rules", []), case.get("modes", {})


def main():
    ap = argparse.ArgumentParser(description="fake vendor server for tests")
    ap.add_argument("--personality", required=True,
                    help="one of %s, or several separated by commas" % ", ".join(personalities()))
    ap.add_argument("--data", required=True,
                    help="the personality's data directory (one per personality, comma-separated)")
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--case", help="JSON script: rules and modes")
    ap.add_argument("--log", help="NDJSON log of the requests received")
    ap.add_argument("--tls-cert", help="PEM certificate (chain): answer https")
    ap.add_argument("--tls-key", help="PEM private key of --tls-cert")
    args = ap.parse_args()
    if bool(args.tls_cert) != bool(args.tls_key):
        ap.error("--tls-cert and --tls-key go together")

    rules, modes = load_case(args.case)
    names = args.personality.split(",")
    dirs = args.data.split(",")
    known = personalities()
    if len(dirs) != len(names) or any(n not in known for n in names):
        ap.error("--personality: known: %s; --data: one folder per personality"
                 % ", ".join(known))
    made = []
    for name, data in zip(names, dirs):
        made.append(importlib.import_module(name).PERSONALITY(data, modes))
    personality = made[0] if len(made) == 1 else Router(made)
    server = FakeServer(args.port, personality, Script(rules), args.log)
    if args.tls_cert:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.minimum_version = ssl.TLSVersion.TLSv1_2
        ctx.load_cert_chain(args.tls_cert, args.tls_key)
        # the handshake runs in the request's thread, on its first read, so
        # a client that refuses the certificate does not block the others
        server.socket = ctx.wrap_socket(server.socket, server_side=True,
                                        do_handshake_on_connect=False)
    tmp = args.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % server.server_address[1])
    os.replace(tmp, args.port_file)  # readers never see a half-written port
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
