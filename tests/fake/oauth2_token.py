#!/usr/bin/python3
"""A minimal OAuth 2.0 token endpoint (RFC 6749 section 4.4, client
credentials) for the library's tests.

--mode basic: accepts client authentication by HTTP Basic only
--mode body:  accepts it in the form body only (Basic gets 401 invalid_client)
--fail-first N: answers the first N requests with 503
--require-scope S: answers 400 invalid_scope unless the scope is S

Every request is logged as one JSON line to --log.
"""
import argparse
import base64
import json
import os
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--mode", choices=["basic", "body"], default="basic")
    ap.add_argument("--client-id", default="client-1")
    ap.add_argument("--client-secret", required=True)
    ap.add_argument("--fail-first", type=int, default=0)
    ap.add_argument("--require-scope", default=None)
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--log", required=True)
    args = ap.parse_args()
    state = {"n": 0}

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *a):
            pass

        def answer(self, status, obj):
            body = json.dumps(obj).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_POST(self):
            n = int(self.headers.get("Content-Length") or 0)
            form = urllib.parse.parse_qs(self.rfile.read(n).decode())
            basic = None
            auth = self.headers.get("Authorization", "")
            if auth.startswith("Basic "):
                ident, _, secret = base64.b64decode(auth[6:]).decode().partition(":")
                basic = (urllib.parse.unquote(ident), urllib.parse.unquote(secret))
            in_body = (form.get("client_id", [None])[0], form.get("client_secret", [None])[0])
            with open(args.log, "a") as f:
                f.write(json.dumps({"path": self.path, "basic": basic is not None,
                                    "body_creds": in_body[0] is not None,
                                    "grant_type": form.get("grant_type", [None])[0],
                                    "scope": form.get("scope", [None])[0]}) + "\n")
            state["n"] += 1
            if state["n"] <= args.fail_first:
                return self.answer(503, {"error": "temporarily_unavailable"})
            if form.get("grant_type") != ["client_credentials"]:
                return self.answer(400, {"error": "unsupported_grant_type"})
            if args.require_scope and form.get("scope") != [args.require_scope]:
                return self.answer(400, {"error": "invalid_scope",
                                         "error_description": "scope not granted to this client"})
            creds = basic if args.mode == "basic" else (in_body if in_body[0] else None)
            if args.mode == "body" and basic is not None:
                creds = None
            if creds != (args.client_id, args.client_secret):
                return self.answer(401, {"error": "invalid_client",
                                         "error_description": "client authentication failed"})
            self.answer(200, {"access_token": "tok-" + os.urandom(8).hex(),
                              "token_type": "Bearer", "expires_in": 3599})

    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    tmp = args.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write(str(srv.server_address[1]))
    os.rename(tmp, args.port_file)
    srv.serve_forever()


if __name__ == "__main__":
    main()
