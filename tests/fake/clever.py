"""The Clever API v3.0 personality of the fake vendor server (district-app
tokens, the double-nested envelope, cursor paging by id, rate limits and the
gotchas of the reference's Clever section).

Data directory: <type>.json (a JSON array of inner records) is served at
/v3.0/<type>; clients.json lists the apps:
[{"client_id", "client_secret", "tokens": [Clever token objects]}].

Modes (from the case file):
  empty_last_page     the last page links to one more, empty, page
  html_errors         401 and 404 answer an HTML page (wrong kind of token)
  repeat_next_link    PATH|[PATHS]|true: the last page's next link points
                      back to the list's first next link (a loop)
  foreign_next_link   PATH|[PATHS]|true: the first page's next link is on
                      another host
  rate_limit          N requests a minute per token (default 1200)
  versions            API versions served (default ["v3.0"])
"""
import base64
import binascii
import json
import os
import threading
import urllib.parse

from fakebase import html_reply, json_reply, mode_applies, now

MAX_LIMIT = 10000
DEFAULT_LIMIT = 100
ROLES = ("student", "teacher", "staff", "district_admin", "contact")
FOREIGN_HOST = "https://api.elsewhere.example"


class Clever:
    def __init__(self, data_dir, modes):
        self.modes = modes
        self.collections = {}
        for name in sorted(os.listdir(data_dir)):
            if name.endswith(".json") and name != "clients.json":
                with open(os.path.join(data_dir, name), encoding="utf-8") as f:
                    recs = json.load(f)
                self.collections[name[:-5]] = sorted(recs, key=lambda r: r["id"])
        with open(os.path.join(data_dir, "clients.json"), encoding="utf-8") as f:
            self.clients = json.load(f)
        # bearer token -> district id
        self.tokens = {t["access_token"]: t["owner"]["id"]
                       for c in self.clients for t in c["tokens"]}
        self.lock = threading.Lock()
        self.window_counts = {}  # (token, window start) -> requests
        self.first_next = {}     # list key -> first next link issued (loop mode)

    # ---- dispatch ----

    def owns(self, path):
        first = path.strip("/").split("/")[0]
        return path == "/oauth/tokens" or first in self.modes.get("versions", ["v3.0"])

    def handle(self, req):
        if req.path == "/oauth/tokens":
            return self.tokens_endpoint(req)
        parts = req.path.strip("/").split("/")
        if parts[0] not in self.modes.get("versions", ["v3.0"]) or len(parts) < 2:
            return self.error(404, "Not Found")
        district, auth_error = self.bearer(req)
        if auth_error:
            return auth_error
        limited, rate_headers = self.count_request(req)
        if limited:
            return json_reply(429, {"message": "Too Many Requests"}, rate_headers)
        if req.method != "GET":
            reply = self.error(405, "Method Not Allowed")
        elif len(parts) == 2:
            reply = self.list_endpoint(req, parts[1], district)
        elif len(parts) == 3:
            reply = self.one_record(req, parts[1], parts[2], district)
        else:
            reply = self.error(404, "Not Found")
        reply.headers.update(rate_headers)
        return reply

    def error(self, status, message):
        # Clever's errors are {"message": ...}; in html_errors mode 401 and
        # 404 come back as a web page instead
        if self.modes.get("html_errors") and status in (401, 404):
            return html_reply(status, message)
        return json_reply(status, {"message": message})

    # ---- auth ----

    def tokens_endpoint(self, req):
        if req.method != "GET":
            # POST is the SSO code exchange: not a district-app token
            return json_reply(400, {"error": "invalid_grant",
                                    "error_description": "authorization code missing or invalid"})
        client = self.basic_client(req)
        if client is None:
            return json_reply(401, {"error": "invalid_client",
                                    "error_description": "client authentication failed: "
                                                         "unknown client id or wrong secret"})
        if req.arg("owner_type") != "district":
            return json_reply(400, {"error": "invalid_request",
                                    "error_description": "owner_type must be district"})
        want = req.arg("district")
        data = [t for t in client["tokens"] if want is None or t["owner"]["id"] == want]
        self_uri = "/oauth/tokens?owner_type=district" + (
            "&district=" + urllib.parse.quote(want) if want else "")
        return json_reply(200, {"data": data, "links": [{"rel": "self", "uri": self_uri}]})

    def basic_client(self, req):
        auth = req.headers.get("authorization", "")
        if not auth.startswith("Basic "):
            return None
        try:
            ident, _, secret = base64.b64decode(auth[6:], validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return None
        for c in self.clients:
            if c["client_id"] == ident and c["client_secret"] == secret:
                return c
        return None

    def bearer(self, req):
        auth = req.headers.get("authorization", "")
        if not auth.startswith("Bearer "):
            return None, self.error(401, "Unauthorized: a district-app bearer token is required")
        district = self.tokens.get(auth[7:].strip())
        if district is None:
            return None, self.error(401, "Unauthorized: invalid or revoked token")
        return district, None

    def count_request(self, req):
        """Fixed one-minute window per token. Returns (over the limit, headers)."""
        limit = int(self.modes.get("rate_limit", 1200))
        t = now()
        start = int(t) - int(t) % 60
        key = (req.headers.get("authorization"), start)
        with self.lock:
            n = self.window_counts.get(key, 0) + 1
            self.window_counts[key] = n
        headers = {"X-RateLimit-Limit": str(limit),
                   "X-RateLimit-Remaining": str(max(limit - n, 0)),
                   "X-RateLimit-Reset": str(start + 60),
                   "X-RateLimit-Bucket": "district-token"}
        return n > limit, headers

    # ---- data ----

    def records(self, kind, district):
        recs = self.collections.get(kind)
        if recs is None:
            return None
        if kind == "districts":
            return [r for r in recs if r["id"] == district]
        return [r for r in recs if r.get("district") == district]

    def one_record(self, req, kind, rec_id, district):
        recs = self.records(kind, district)
        hit = [r for r in recs or [] if r["id"] == rec_id]
        if not hit:
            return self.error(404, "Not Found")
        uri = "/%s/%s/%s" % (req.path.split("/")[1], kind, rec_id)
        return json_reply(200, {"data": hit[0], "links": [{"rel": "self", "uri": uri}]})

    def list_endpoint(self, req, kind, district):
        recs = self.records(kind, district)
        if recs is None:
            return self.error(404, "Not Found")
        role = req.arg("role")
        if kind == "users" and role is not None:
            role = "district_admin" if role == "districtadmin" else role
            if role not in ROLES:
                return self.error(400, "invalid role: %s" % role)
            recs = [r for r in recs if role in r.get("roles", {})]
        try:
            limit = int(req.arg("limit", DEFAULT_LIMIT))
        except ValueError:
            return self.error(400, "limit must be an integer")
        if limit > MAX_LIMIT:
            return self.error(413, "Request Entity Too Large: limit must be at most %d" % MAX_LIMIT)
        if limit < 1:
            return self.error(400, "limit must be at least 1")
        page, more_before, more_after = self.slice(recs, req, limit)
        links = self.links(req, page, more_before, more_after)
        prefix = "/" + req.path.split("/")[1] + "/" + kind + "/"
        data = [{"data": r, "uri": prefix + r["id"]} for r in page]
        return json_reply(200, {"data": data, "links": links})

    @staticmethod
    def slice(recs, req, limit):
        """Cursor paging by ascending id: (page, records before, records after)."""
        after, before = req.arg("starting_after"), req.arg("ending_before")
        if after is not None:
            rest = [r for r in recs if r["id"] > after]
            return rest[:limit], len(rest) < len(recs), len(rest) > limit
        if before is not None:
            head = [r for r in recs if r["id"] < before]
            return head[-limit:], len(head) > limit, len(head) < len(recs)
        return recs[:limit], False, len(recs) > limit

    def links(self, req, page, more_before, more_after):
        # the request's own parameters minus the cursors, in the order sent
        keep = [(k, v) for k, v in urllib.parse.parse_qsl(req.raw_query, keep_blank_values=True)
                if k not in ("starting_after", "ending_before")]

        def link(cursor, rec_id):
            return req.path + "?" + urllib.parse.urlencode(keep + [(cursor, rec_id)])

        self_uri = req.path + ("?" + req.raw_query if req.raw_query else "")
        links = [{"rel": "self", "uri": self_uri}]
        nxt = link("starting_after", page[-1]["id"]) if page and more_after else None
        first_page = req.arg("starting_after") is None and req.arg("ending_before") is None
        if nxt is None and page and self.modes.get("empty_last_page"):
            nxt = link("starting_after", page[-1]["id"])
        if mode_applies(self.modes.get("repeat_next_link"), req.path):
            key = req.path + "?" + urllib.parse.urlencode(keep)
            with self.lock:
                if nxt is None:
                    # loop back to the first next link given for this list
                    nxt = self.first_next.get(key) or (
                        link("starting_after", page[-1]["id"]) if page else self_uri)
                self.first_next.setdefault(key, nxt)
        if first_page and mode_applies(self.modes.get("foreign_next_link"), req.path):
            nxt = FOREIGN_HOST + (nxt or link("starting_after", page[-1]["id"] if page else ""))
        if nxt:
            links.append({"rel": "next", "uri": nxt})
        if page and more_before:
            links.append({"rel": "prev", "uri": link("ending_before", page[0]["id"])})
        return links


# what fake_vendor.py --personality clever serves
PERSONALITY = Clever
