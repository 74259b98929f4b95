"""The IMS OneRoster personality of the fake vendor server, as Infinite
Campus and other OneRoster 1.0/1.1/1.2 providers serve it: OAuth 2.0 client
credentials at IC's token URL, two-legged OAuth 1.0a signatures, limit/offset
paging with X-Total-Count and Link, filter/sort/fields, imsx_StatusInfo
errors, and the gotchas of the reference's OneRoster section.

Paths. Each version's service root, either bare or behind IC's prefix with
the app name (the default serves both):
  v1p0  {prefix}/ims/oneroster/v1p0/
  v1p1  {prefix}/ims/oneroster/v1p1/
  v1p2  {prefix}/ims/oneroster/rostering/v1p2/ (grade book: /gradebook/v1p2/)
where prefix is "" or /campus/api/oneroster/<version>/<appName> (for v1p2
also the integrator form /campus/api). Under a root: orgs, schools,
academicSessions, terms (academic sessions of type term or semester),
gradingPeriods, courses, classes, users, students, teachers, enrollments,
demographics; each also as COLLECTION/{sourcedId}; and the nested lists
schools/{id}/classes|students|teachers|enrollments|terms|courses,
schools/{sid}/classes/{cid}/students|teachers|enrollments,
classes/{id}/students|teachers, courses/{id}/classes, terms/{id}/classes,
students|teachers|users/{id}/classes. Grade book collections (lineItems,
results, categories; v1p1 root or /gradebook/v1p2/) are empty and need
x-vendor-authorization: <vendorKey>:<vendorSecret> (else 401).
Token: POST /campus/oauth2/token?appName=<appName> (form grant_type=
client_credentials, optional scope; HTTP Basic client authentication).

Envelopes: a list is {"users": [...]} ({"orgs"} for /schools,
{"academicSessions"} for /terms and /gradingPeriods, {"users"} for
/students and /teachers); one record is {"user": {...}}, {"org": ...},
{"class": ...}, {"course": ...}, {"enrollment": ...}, {"academicSession":
...}, {"demographics": ...}. GUIDRefs get an absolute href under the
request's own root. v1p2 users have roles[] (roleType, role, org),
primaryOrg, userMasterIdentifier, preferred names and enabledUser as a
string instead of role and orgs, and (by default) new sourcedIds.

Queries: limit (default 100, silently capped at max_limit) and offset;
X-Total-Count on every page; Link with next, last, first and prev (full
URLs); filter=FIELD OP 'VALUE' with = != > >= < <= ~ (contains), dotted
paths into refs and arrays (school.sourcedId, roles.role), joined by AND or
OR (one kind; at most two predicates in 1.0 and 1.1); dates compare as
times; an unknown field is 400 invalid_filter_field. sort=FIELD
(400 invalid_sort_field) with orderBy=asc|desc, and the 1.1 OpenAPI's typo
acs taken as asc; fields=a,b (400 invalid_selection_field). A missing
record is 404 unknownobject.

Auth on the data paths: a bearer token from the token endpoint, or an OAuth
1.0a signature (Authorization: OAuth ..., or the oauth_* parameters in the
query) verified with oauthlib's server-side functions: the parameters
collected from the header and the query, the base string, the consumer
secret; then the timestamp window and nonce reuse. Failures are 401 with an
imsx body (minor unauthorisedrequest) and WWW-Authenticate.

Data directory (fixtures/oneroster): orgs.json, academicSessions.json,
courses.json, classes.json, users.json, enrollments.json, demographics.json
(JSON arrays of OneRoster 1.1 records; GUIDRefs as {"sourcedId", "type"},
hrefs are added when served; a user's "v1p2" object holds what differs in
1.2: role, sourcedId, preferred names) and clients.json {"app_name",
"oauth2": [{"client_id", "client_secret", "scopes"}], "oauth1":
[{"consumer_key", "consumer_secret", "active"}], "vendor_authorization"}.

Modes (from the case file):
  versions          versions served (default ["v1p0", "v1p1"]); the others
                    answer 404 (an HTML page: no API there)
  prefix            "any" (default), "standard" (bare roots only) or
                    "campus" (only IC's /campus/api/oneroster/<v>/<app>)
  app_name          the appName (default: clients.json's)
  token_path        default /campus/oauth2/token
  token_auth        client authentication at the token endpoint: "basic"
                    (default; credentials in the body are 401), "body" or
                    "either"
  scope_required    true: a token request without scope is 400 invalid_scope
  expires_in        token lifetime in seconds (default 3600), or a list for
                    the 1st, 2nd, ... token (the last repeats); checked
                    against the fake clock (fakebase.now)
  token_expires_after  N: the first token (or the first expiring_tokens)
                    answers 401 expired after N data requests
  expiring_tokens   how many tokens token_expires_after applies to (1)
  auth              flavours accepted: a list ("oauth2", "oauth1") for every
                    version, or {version: list}; default oauth1 and oauth2
                    for v1p0 and v1p1, oauth2 for v1p2
  signature_methods OAuth 1 methods accepted: a list, or {version: list};
                    default HMAC-SHA1 for v1p0, HMAC-SHA256 for v1p1 and v1p2
  timestamp_window  seconds oauth_timestamp may differ from the clock (300)
  oauth1_require_version  true: a request without oauth_version is 401
  oauth1_classlink  true: also accept ClassLink-style signatures (values
                    quoted with "/" left alone, the key form-encoded)
  not_enabled       true or [versions]: authenticated requests get 403
                    (OneRoster not enabled for the application)
  busy              [{"path" (pattern), "skip" (0), "count" (1),
                    "retry_after"}]: 429 server_busy after skip matches
  latency_ms        milliseconds every request of this personality waits
  max_limit         the silent cap on limit (default 5000)
  limit_ignored     true: limit and offset are ignored (the full set)
  total_count       "exact" (default), "absent", N (a total off by N), or
                    "growing" (each page of a list says one more)
  link_header       false: no Link header
  live_changes      [{"collection", "after" (list requests, default 1),
                    "add": [1.1 records], "remove": [sourcedIds]}]: the
                    data changes once, mid-read
  filter_ops        operators supported (default all; e.g. ["=", "~"]):
                    another is 400 invaliddata
  unknown_field     "error" (default: 400) or "warning" (200, the filter
                    ignored, a statusInfoSet warning in the body)
  strict_order_by   true: orderBy=acs is 400 invaliddata
  enabled_user      "boolean" (default in 1.0/1.1) or "string"
  periods           "string" (default) or "array"
  empty_arrays      "keep" (default) or "omit" (keys with [] are left out)
  hrefs             "absolute" (default) or "relative" (path only)
  scheme            the scheme of hrefs, Link URLs and the signed base
                    string URI ("http"; "https" as behind a TLS front end)
  error_form        "imsx" (default), "flat" (imsx_codeMinor as a string,
                    as Ed-Fi sends), "json" ({"error", "error_description"}),
                    "html" or "text"
  v1p2_ids          "new" (default: every user has another sourcedId in
                    1.2, as IC's 1.1 to 1.2 move gives) or "same"
  rekey             true: every user's sourcedId changes in every version
                    (a second run after a re-keying)
  synthetic_users   N: N more students, made on demand (benchmarks)
  served_log        FILE: one JSON line per request answered: method, path,
                    query, version, auth (oauth2, oauth1, basic, body, none),
                    status, started, ended, in_flight
"""
import copy
import datetime
import hashlib
import hmac
import base64
import binascii
import json
import os
import re
import threading
import time
import types
import urllib.parse
import uuid

from oauthlib.oauth1.rfc5849 import signature as oauth1_signature

from fakebase import Reply, html_reply, json_reply, mode_applies, now

ROOT = "/ims/oneroster/"
TOKEN_PATH = "/campus/oauth2/token"
DEFAULT_LIMIT = 100
MAX_LIMIT = 5000
ID_SPACE = uuid.UUID("6f1c2d3e-4b5a-4c6d-8e7f-90a1b2c3d4e5")
DATA_FILES = ("orgs", "academicSessions", "courses", "classes", "users", "enrollments", "demographics")
FILTER_OPS = ("!=", ">=", "<=", "=", ">", "<", "~")
DEFAULT_AUTH = {"v1p0": ["oauth1", "oauth2"], "v1p1": ["oauth2", "oauth1"], "v1p2": ["oauth2"]}
DEFAULT_METHODS = {"v1p0": ["HMAC-SHA1"], "v1p1": ["HMAC-SHA256"], "v1p2": ["HMAC-SHA256"]}


def role_of(*roles):
    return lambda r: bool(user_roles(r) & set(roles))


def user_roles(r):
    out = {r["role"]} if "role" in r else set()
    return out | {x.get("role") for x in r.get("roles") or []}


TERM_TYPES = ("term", "semester")
# a list path: (data collection, envelope key, single-record key, which records)
COLLECTIONS = {
    "orgs": ("orgs", "orgs", "org", None),
    "schools": ("orgs", "orgs", "org", lambda r: r.get("type") == "school"),
    "academicSessions": ("academicSessions", "academicSessions", "academicSession", None),
    "terms": ("academicSessions", "academicSessions", "academicSession",
              lambda r: r.get("type") in TERM_TYPES),
    "gradingPeriods": ("academicSessions", "academicSessions", "academicSession",
                       lambda r: r.get("type") == "gradingPeriod"),
    "courses": ("courses", "courses", "course", None),
    "classes": ("classes", "classes", "class", None),
    "enrollments": ("enrollments", "enrollments", "enrollment", None),
    "users": ("users", "users", "user", None),
    "students": ("users", "users", "user", role_of("student")),
    "teachers": ("users", "users", "user", role_of("teacher")),
    "demographics": ("demographics", "demographics", "demographics", None),
}
GRADEBOOK = {"lineItems": ("lineItems", "lineItem"), "results": ("results", "result"),
             "categories": ("categories", "category")}
# where a GUIDRef of a type points
REF_PATHS = {"org": "orgs", "user": "users", "student": "students", "teacher": "teachers",
             "class": "classes", "course": "courses", "academicSession": "academicSessions",
             "term": "terms", "gradingPeriod": "gradingPeriods", "enrollment": "enrollments",
             "demographics": "demographics", "lineItem": "lineItems", "result": "results",
             "category": "categories", "resource": "resources"}
USER_TYPES = ("user", "student", "teacher")

SYN_GIVEN = ["Ava", "José", "Zoë", "Liam", "Søren", "Amara", "Hana", "Mateo", "Chloé", "Noah",
             "Ingrid", "Kofi", "Priya", "Björn", "Sofía", "Ethan", "Nguyễn", "Aaliyah", "Dmitri", "Émile"]
SYN_FAMILY = ["Muñoz", "Ødegaard", "Chen", "Asante", "Ōkubo", "Park", "Åkesson", "Moreau",
              "Hernández", "Walker", "Johnson", "Volkov", "Raghunathan", "Lindqvist", "O'Brien",
              "Dubois", "Nakamura", "Fitzgerald", "Van der Berg", "Gonçalves"]
SYN_SCHOOLS = [("o-102", "04"), ("o-201", "07"), ("o-301", "10")]


class Fail(Exception):
    """An imsx error answer: status, minor code, description, extra headers."""

    def __init__(self, status, minor, description, headers=None):
        super().__init__(description)
        self.status, self.minor, self.description, self.headers = status, minor, description, headers or {}


def load_json(data_dir, name, default):
    path = os.path.join(data_dir, name)
    if not os.path.exists(path):
        return default
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def is_ref(v):
    return isinstance(v, dict) and "sourcedId" in v and "type" in v and set(v) <= {"href", "sourcedId", "type"}


def parse_time(s):
    """A datetime (UTC) for an ISO date or timestamp, else None."""
    if not isinstance(s, str) or not re.match(r"^\d{4}-\d{2}-\d{2}", s):
        return None
    try:
        t = datetime.datetime.fromisoformat(s.replace("Z", "+00:00"))
    except ValueError:
        return None
    return t if t.tzinfo else t.replace(tzinfo=datetime.timezone.utc)


def values_at(rec, path):
    """The leaf values at a dotted path; lists are looked through."""
    cur = [rec]
    for name in path.split("."):
        nxt = []
        for v in cur:
            for item in (v if isinstance(v, list) else [v]):
                if isinstance(item, dict) and name in item:
                    x = item[name]
                    nxt.extend(x if isinstance(x, list) else [x])
        cur = nxt
    return cur


def paths_of(rec, prefix=""):
    out = set()
    for k, v in rec.items():
        p = prefix + k
        out.add(p)
        for item in (v if isinstance(v, list) else [v]):
            if isinstance(item, dict):
                out |= paths_of(item, p + ".")
    return out


def as_text(v):
    if isinstance(v, bool):
        return "true" if v else "false"
    return "" if v is None else str(v)


def compare(value, op, want):
    if op == "~":
        return want.lower() in as_text(value).lower()
    a, b = parse_time(value), parse_time(want)
    if a is None or b is None:
        a, b = as_text(value), want
    return {"=": a == b, "!=": a != b, ">": a > b, ">=": a >= b, "<": a < b, "<=": a <= b}[op]


PREDICATE = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_.]*)\s*(!=|>=|<=|=|>|<|~)\s*'(.*)'\s*$", re.S)


def parse_filter(text):
    """([(field, op, value)], "AND"|"OR"|None). Raises Fail on bad syntax."""
    parts, joins, cur, quoted, i = [], [], "", False, 0
    while i < len(text):
        if text[i] == "'":
            quoted = not quoted
        if not quoted:
            word = next((w for w in (" AND ", " OR ") if text.startswith(w, i)), None)
            if word:
                parts.append(cur)
                joins.append(word.strip())
                cur, i = "", i + len(word)
                continue
        cur += text[i]
        i += 1
    parts.append(cur)
    preds = []
    for p in parts:
        m = PREDICATE.match(p)
        if not m:
            raise Fail(400, "invaliddata", "Invalid filter: %s" % text)
        preds.append((m.group(1), m.group(2), m.group(3)))
    if len(set(joins)) > 1:
        raise Fail(400, "invaliddata", "Invalid filter: AND and OR may not be mixed")
    return preds, (joins[0] if joins else None)


class Rows:
    """A collection's records: the fixture's, then n synthetic ones made on
    demand by make(i), so a benchmark's 100,000 users cost nothing until read."""

    def __init__(self, fixed, n=0, make=None):
        self.fixed, self.n, self.make = fixed, n, make

    def __len__(self):
        return len(self.fixed) + self.n

    def __getitem__(self, s):
        idx = range(len(self))[s]
        return [self.fixed[i] if i < len(self.fixed) else self.make(i - len(self.fixed)) for i in idx]

    def __iter__(self):
        yield from self.fixed
        for i in range(self.n):
            yield self.make(i)


class Route:
    """A parsed data path: prefix, version, service, the segments after the root."""

    def __init__(self, prefix, version, service, segs, root):
        self.prefix, self.version, self.service, self.segs, self.root = prefix, version, service, segs, root


def parse_route(path):
    i = path.find(ROOT)
    if i < 0:
        return None
    prefix, rest = path[:i], path[i + len(ROOT):].rstrip("/").split("/")
    if rest[0] in ("v1p0", "v1p1"):
        return Route(prefix, rest[0], "rostering", rest[1:], path[:i + len(ROOT)] + rest[0] + "/")
    if len(rest) >= 2 and rest[1] == "v1p2" and rest[0] in ("rostering", "gradebook", "resources"):
        return Route(prefix, "v1p2", rest[0], rest[2:], path[:i + len(ROOT)] + rest[0] + "/v1p2/")
    return None


class OneRoster:
    def __init__(self, data_dir, modes):
        self.modes = modes
        self.base = {name: load_json(data_dir, name + ".json", []) for name in DATA_FILES}
        self.clients = load_json(data_dir, "clients.json", {})
        self.app_name = modes.get("app_name", self.clients.get("app_name", "district"))
        self.lock = threading.Lock()
        self.tokens = {}       # access token -> {"client", "issued", "expires_in", "n", "uses"}
        self.issued = 0
        self.nonces = set()    # (consumer key, timestamp, nonce) seen
        self.list_counts = {}  # data collection -> list requests served (live_changes)
        self.growing = {}      # list path -> pages served (total_count "growing")
        self.busy_hits = {}
        self.in_flight = 0
        self.field_cache = {}
        self.log_lock = threading.Lock()
        self.sets = self.build_sets()

    # ---- the data, per version ----

    def build_sets(self):
        n = int(self.modes.get("synthetic_users", 0))
        sets = {}
        for v in ("v1p0", "v1p1", "v1p2"):
            coll = {}
            for name in DATA_FILES:
                recs = [self.version_record(name, r, v) for r in self.base[name]]
                if name == "users" and n:
                    coll[name] = Rows(recs, n, lambda i, v=v: self.version_record("users", synthetic_user(i), v))
                else:
                    coll[name] = Rows(recs)
            sets[v] = coll
        return sets

    def user_id(self, old, version, rec=None):
        uid = old
        if self.modes.get("rekey"):
            uid = str(uuid.uuid5(ID_SPACE, "rekey:" + uid))
        if version == "v1p2" and self.modes.get("v1p2_ids", "new") == "new":
            given = ((rec or {}).get("v1p2") or {}).get("sourcedId")
            uid = given or str(uuid.uuid5(ID_SPACE, "v1p2:" + uid))
        return uid

    def version_record(self, name, rec, version):
        """rec (1.1, as in the data) as the version serves it, hrefs not yet set."""
        def remap(v):
            if is_ref(v) and v["type"] in USER_TYPES:
                return {"sourcedId": self.user_id(v["sourcedId"], version), "type": v["type"]}
            if isinstance(v, list):
                return [remap(x) for x in v]
            if isinstance(v, dict):
                return {k: remap(x) for k, x in v.items()}
            return v
        out = {k: remap(v) for k, v in rec.items() if k != "v1p2"}
        if name in ("users", "demographics"):
            out["sourcedId"] = self.user_id(rec["sourcedId"], version, rec if name == "users" else None)
        if name == "users" and version == "v1p2":
            out = user_v1p2(out, rec.get("v1p2") or {})
        return out

    # ---- dispatch ----

    def owns(self, path):
        return path == self.modes.get("token_path", TOKEN_PATH) or ROOT in path

    def handle(self, req):
        started = time.time()
        with self.lock:
            self.in_flight += 1
            in_flight = self.in_flight
        info = {"version": None, "auth": "none"}
        try:
            if self.modes.get("latency_ms"):
                time.sleep(float(self.modes["latency_ms"]) / 1000)
            reply = self.dispatch(req, info)
        finally:
            with self.lock:
                self.in_flight -= 1
        self.served(req, info, reply.status, started, in_flight)
        return reply

    def served(self, req, info, status, started, in_flight):
        path = self.modes.get("served_log")
        if not path:
            return
        line = json.dumps({"method": req.method, "path": req.path, "query": req.query,
                           "version": info["version"], "auth": info["auth"], "status": status,
                           "started": round(started, 6), "ended": round(time.time(), 6),
                           "in_flight": in_flight}, ensure_ascii=False)
        with self.log_lock, open(path, "a", encoding="utf-8") as f:
            f.write(line + "\n")

    def dispatch(self, req, info):
        if req.path == self.modes.get("token_path", TOKEN_PATH):
            return self.token_endpoint(req, info)
        route = parse_route(req.path)
        if route is None or route.version not in self.modes.get("versions", ["v1p0", "v1p1"]) \
                or not self.prefix_ok(route):
            return html_reply(404, "Not Found")
        info["version"] = route.version
        try:
            self.authenticate(req, route, info)
            enabled = self.modes.get("not_enabled")
            if enabled is True or (isinstance(enabled, list) and route.version in enabled):
                raise Fail(403, "forbidden" if route.version == "v1p2" else "unauthorisedrequest",
                           "OneRoster is not enabled for application '%s'." % self.app_name)
            self.check_busy(req)
            if req.method != "GET":
                raise Fail(405, "unsupportedoperation", "%s is not supported on %s." % (req.method, req.path))
            return self.data(req, route)
        except Fail as e:
            return self.error(e, route.version, req)

    def prefix_ok(self, route):
        style = self.modes.get("prefix", "any")
        campus = route.prefix == "/campus/api/oneroster/%s/%s" % (route.version, self.app_name) or \
            (route.version == "v1p2" and route.prefix == "/campus/api")
        if style == "standard":
            return route.prefix == ""
        if style == "campus":
            return campus
        return route.prefix == "" or campus

    def check_busy(self, req):
        for i, rule in enumerate(self.modes.get("busy") or []):
            if not mode_applies(rule.get("path", True), req.path):
                continue
            with self.lock:
                n = self.busy_hits.get(i, 0)
                self.busy_hits[i] = n + 1
            skip = int(rule.get("skip", 0))
            if skip <= n < skip + int(rule.get("count", 1)):
                h = {"Retry-After": str(rule["retry_after"])} if "retry_after" in rule else {}
                raise Fail(429, "server_busy", "The server is busy; try again later.", h)

    # ---- errors ----

    def error(self, e, version, req):
        ref = str(uuid.uuid5(ID_SPACE, "%s %s?%s %s" % (req.method, req.path, req.raw_query, e.minor)))
        form = self.modes.get("error_form", "imsx")
        h = dict(e.headers)
        if form == "html":
            return html_reply(e.status, e.description, h)
        if form == "text":
            h["Content-Type"] = "text/plain; charset=utf-8"
            return Reply(e.status, "%d %s\n" % (e.status, e.description), h)
        if form == "json":
            return json_reply(e.status, {"error": e.minor, "error_description": e.description}, h)
        body = {"imsx_codeMajor": "failure", "imsx_severity": "error",
                "imsx_messageRefIdentifier": ref, "imsx_description": e.description}
        if form == "flat":
            body["imsx_codeMinor"] = e.minor
        else:
            body["imsx_CodeMinor"] = {"imsx_codeMinorField": [
                {"imsx_codeMinorFieldName": "TargetEndSystem", "imsx_codeMinorFieldValue": e.minor}]}
        return json_reply(e.status, body, h)

    # ---- the token endpoint (OAuth 2.0 client credentials) ----

    @staticmethod
    def oauth_error(status, error, description, headers=None):
        h = {"Cache-Control": "no-store", "Pragma": "no-cache"}
        h.update(headers or {})
        return json_reply(status, {"error": error, "error_description": description}, h)

    def token_endpoint(self, req, info):
        if req.method != "POST":
            return self.oauth_error(405, "invalid_request", "The token endpoint accepts POST only.",
                                    {"Allow": "POST"})
        app = req.arg("appName")
        if not app:
            return self.oauth_error(400, "invalid_request", "The appName query parameter is required.")
        form = {}
        if req.headers.get("content-type", "").split(";")[0].strip().lower() == \
                "application/x-www-form-urlencoded":
            form = {k: v[0] for k, v in urllib.parse.parse_qs(req.body, keep_blank_values=True).items()}
        basic = basic_credentials(req)
        body_creds = (form["client_id"], form.get("client_secret", "")) if "client_id" in form else None
        info["auth"] = "basic" if basic else ("body" if body_creds else "none")
        if basic and body_creds:
            return self.oauth_error(400, "invalid_request",
                                    "Use one client authentication method, not Basic and the body both.")
        if form.get("grant_type") != "client_credentials":
            if not form.get("grant_type"):
                return self.oauth_error(400, "invalid_request", "grant_type is required.")
            return self.oauth_error(400, "unsupported_grant_type",
                                    "Only client_credentials is supported.")
        how = self.modes.get("token_auth", "basic")
        challenge = {"WWW-Authenticate": 'Basic realm="%s"' % self.app_name}
        creds = basic or body_creds
        if creds is None or (how == "basic" and not basic) or (how == "body" and not body_creds):
            return self.oauth_error(401, "invalid_client", "Client authentication failed.", challenge)
        client = next((c for c in self.clients.get("oauth2", [])
                       if c["client_id"] == creds[0] and hmac.compare_digest(c["client_secret"], creds[1])), None)
        if client is None or app != self.app_name:
            return self.oauth_error(401, "invalid_client", "Client authentication failed.", challenge)
        allowed = client.get("scopes", [])
        asked = form.get("scope", "").split()
        if not asked and self.modes.get("scope_required"):
            return self.oauth_error(400, "invalid_scope", "A scope is required.")
        bad = [s for s in asked if s not in allowed]
        if bad:
            return self.oauth_error(400, "invalid_scope", "Scope not granted to this client: %s" % bad[0])
        with self.lock:
            n = self.issued
            self.issued += 1
            lifetimes = self.modes.get("expires_in", 3600)
            if isinstance(lifetimes, list):
                lifetime = lifetimes[min(n, len(lifetimes) - 1)]
            else:
                lifetime = lifetimes
            token = "or2." + base64.urlsafe_b64encode(os.urandom(24)).decode().rstrip("=")
            self.tokens[token] = {"client": client["client_id"], "issued": now(),
                                  "expires_in": int(lifetime), "n": n, "uses": 0}
        return json_reply(200, {"access_token": token, "token_type": "bearer", "expires_in": int(lifetime),
                                "scope": " ".join(asked or allowed)},
                          {"Cache-Control": "no-store", "Pragma": "no-cache"})

    # ---- authentication of data requests ----

    def flavours(self, version):
        auth = self.modes.get("auth", DEFAULT_AUTH)
        return auth.get(version, []) if isinstance(auth, dict) else auth

    def authenticate(self, req, route, info):
        auth = req.headers.get("authorization", "")
        scheme = auth.split(" ", 1)[0].lower()
        if scheme == "bearer":
            info["auth"] = "oauth2"
        elif scheme == "oauth" or "oauth_signature" in req.query:
            info["auth"] = "oauth1"
        if info["auth"] != "none" and info["auth"] not in self.flavours(route.version):
            raise Fail(401, "unauthorisedrequest",
                       "This connection does not accept %s." % {"oauth2": "OAuth 2.0 bearer tokens",
                                                                 "oauth1": "OAuth 1.0a signatures"}[info["auth"]],
                       self.challenge(route.version))
        if info["auth"] == "oauth2":
            self.check_bearer(auth[len("bearer "):].strip(), route)
        elif info["auth"] == "oauth1":
            self.check_signature(req, route)
        else:
            raise Fail(401, "unauthorisedrequest", "Authorization is required.", self.challenge(route.version))
        if route.service == "gradebook" or route.segs[:1] and route.segs[0] in GRADEBOOK:
            want = self.clients.get("vendor_authorization")
            if not want or req.headers.get("x-vendor-authorization") != want:
                raise Fail(401, "unauthorisedrequest",
                           "Grade book endpoints need the x-vendor-authorization header.")

    def challenge(self, version, error=None, description=None):
        schemes = []
        if "oauth2" in self.flavours(version):
            b = 'Bearer realm="OneRoster"'
            if error:
                b += ', error="%s", error_description="%s"' % (error, description)
            schemes.append(b)
        if "oauth1" in self.flavours(version):
            schemes.append('OAuth realm="OneRoster"')
        return {"WWW-Authenticate": ", ".join(schemes)} if schemes else {}

    def check_bearer(self, token, route):
        with self.lock:
            t = self.tokens.get(token)
            if t is not None:
                t["uses"] += 1
                uses, n = t["uses"], t["n"]
        if t is None:
            why = "The access token is invalid."
        else:
            after = self.modes.get("token_expires_after")
            counted = after is not None and n < int(self.modes.get("expiring_tokens", 1)) and uses > int(after)
            if not counted and now() < t["issued"] + t["expires_in"]:
                return
            why = "The access token expired."
        raise Fail(401, "unauthorisedrequest", why, self.challenge(route.version, "invalid_token", why))

    def check_signature(self, req, route):
        """Two-legged OAuth 1.0a (RFC 5849 3.4): the parameters from the
        Authorization header and the query, verified with oauthlib."""
        def refuse(why):
            raise Fail(401, "unauthorisedrequest", why, self.challenge(route.version))
        auth = req.headers.get("authorization", "")
        headers = {"Authorization": auth} if auth.lower().startswith("oauth ") else None
        try:
            params = oauth1_signature.collect_parameters(uri_query=req.raw_query, headers=headers,
                                                         exclude_oauth_signature=False)
        except ValueError:
            refuse("Malformed OAuth parameters.")
        oauth = {}
        for k, v in params:
            if k.startswith("oauth_"):
                if k in oauth:
                    refuse("Duplicate OAuth parameter: %s." % k)
                oauth[k] = v
        for k in ("oauth_consumer_key", "oauth_signature_method", "oauth_timestamp", "oauth_nonce",
                  "oauth_signature"):
            if not oauth.get(k):
                refuse("Missing OAuth parameter: %s." % k)
        if "oauth_version" in oauth and oauth["oauth_version"] != "1.0":
            refuse("Unsupported oauth_version: %s." % oauth["oauth_version"])
        if "oauth_version" not in oauth and self.modes.get("oauth1_require_version"):
            refuse("Missing OAuth parameter: oauth_version.")
        consumer = next((c for c in self.clients.get("oauth1", [])
                         if c["consumer_key"] == oauth["oauth_consumer_key"]), None)
        if consumer is None:
            refuse("Unknown consumer key.")
        if not consumer.get("active", True):
            refuse("The consumer key has expired or is inactive.")
        method = oauth["oauth_signature_method"]
        methods = self.modes.get("signature_methods", DEFAULT_METHODS)
        methods = methods.get(route.version, []) if isinstance(methods, dict) else methods
        if method not in methods:
            refuse("Unsupported signature method: %s." % method)
        try:
            stamp = int(oauth["oauth_timestamp"])
        except ValueError:
            refuse("Invalid oauth_timestamp.")
        if abs(now() - stamp) > float(self.modes.get("timestamp_window", 300)):
            refuse("The oauth_timestamp is outside the allowed window.")
        host = req.headers.get("host", "127.0.0.1")
        signed = types.SimpleNamespace(
            params=[(k, v) for k, v in params if k != "oauth_signature"],
            uri="%s://%s%s" % (self.modes.get("scheme", "http"), host, req.path), http_method=req.method,
            signature=oauth["oauth_signature"])
        verify = {"HMAC-SHA1": oauth1_signature.verify_hmac_sha1,
                  "HMAC-SHA256": oauth1_signature.verify_hmac_sha256}.get(method)
        ok = verify is not None and verify(signed, client_secret=consumer["consumer_secret"],
                                           resource_owner_secret="")
        if not ok and self.modes.get("oauth1_classlink") and method in ("HMAC-SHA1", "HMAC-SHA256"):
            ok = hmac.compare_digest(classlink_signature(signed, consumer["consumer_secret"], method),
                                     signed.signature)
        if not ok:
            refuse("Invalid signature.")
        key = (consumer["consumer_key"], stamp, oauth["oauth_nonce"])
        with self.lock:
            replay = key in self.nonces
            self.nonces.add(key)
        if replay:
            refuse("The oauth_nonce has already been used.")

    # ---- data ----

    def data(self, req, route):
        ctx = {"origin": "%s://%s" % (self.modes.get("scheme", "http"), req.headers.get("host", "127.0.0.1")),
               "root": route.root,
               "version": route.version}
        segs = route.segs
        if route.service == "gradebook" or (segs and segs[0] in GRADEBOOK):
            if len(segs) == 1 and segs[0] in GRADEBOOK:
                return self.page(req, ctx, [], GRADEBOOK[segs[0]][0], segs[0])
            raise Fail(404, "unknownobject", "No such resource: %s." % req.path)
        if route.service != "rostering" or not segs or segs[0] not in COLLECTIONS:
            raise Fail(404, "unknownobject", "No such resource: %s." % req.path)
        self.live_change(segs, len(segs) == 1)
        sets = self.sets[route.version]
        name, envelope, single, keep = COLLECTIONS[segs[0]]
        if len(segs) == 1:
            recs = [r for r in sets[name] if keep(r)] if keep else sets[name]
            return self.page(req, ctx, recs, envelope, name)
        rec = self.find(sets, segs[0], segs[1])
        if len(segs) == 2:
            fields = self.fields(req, name, route.version)
            return json_reply(200, {single: self.render(rec, ctx, fields)})
        nested = self.nested(sets, segs, rec)
        if nested is None:
            raise Fail(404, "unknownobject", "No such resource: %s." % req.path)
        recs, kind = nested
        return self.page(req, ctx, recs, COLLECTIONS[kind][1], COLLECTIONS[kind][0])

    def find(self, sets, kind, sid):
        name, _, single, keep = COLLECTIONS[kind]
        for r in sets[name]:
            if r["sourcedId"] == sid and (keep is None or keep(r)):
                return r
        raise Fail(404, "unknownobject", "No %s with sourcedId '%s' exists." % (single, sid))

    def nested(self, sets, segs, parent):
        """(records, collection kind) of a nested list, or None."""
        pid = parent["sourcedId"]

        def ref_id(r, key):
            v = r.get(key)
            return v.get("sourcedId") if isinstance(v, dict) else None

        def users_in(enrs, role):
            ids = {ref_id(e, "user") for e in enrs}
            return [u for u in sets["users"] if u["sourcedId"] in ids and role in user_roles(u)]

        def classes_of_user(uid):
            ids = {ref_id(e, "class") for e in sets["enrollments"] if ref_id(e, "user") == uid}
            return [c for c in sets["classes"] if c["sourcedId"] in ids]

        kind, child = segs[0], segs[2]
        if kind == "schools":
            classes = [c for c in sets["classes"] if ref_id(c, "school") == pid]
            enrs = [e for e in sets["enrollments"] if ref_id(e, "school") == pid]
            if len(segs) == 5 and child == "classes":
                cls = self.find(sets, "classes", segs[3])
                if ref_id(cls, "school") != pid:
                    raise Fail(404, "unknownobject", "No class with sourcedId '%s' exists in school '%s'."
                               % (segs[3], pid))
                enrs = [e for e in enrs if ref_id(e, "class") == segs[3]]
                return {"students": (users_in(enrs, "student"), "users"),
                        "teachers": (users_in(enrs, "teacher"), "users"),
                        "enrollments": (enrs, "enrollments")}.get(segs[4])
            if len(segs) != 3:
                return None
            if child == "classes":
                return classes, "classes"
            if child == "enrollments":
                return enrs, "enrollments"
            if child in ("students", "teachers"):
                role = child[:-1]
                return [u for u in sets["users"] if role in user_roles(u) and
                        pid in {o["sourcedId"] for o in u.get("orgs", []) + [x["org"] for x in u.get("roles", [])]}], "users"
            if child == "terms":
                ids = {t["sourcedId"] for c in classes for t in c.get("terms", [])}
                return [s for s in sets["academicSessions"] if s["sourcedId"] in ids], "academicSessions"
            if child == "courses":
                ids = {ref_id(c, "course") for c in classes}
                return [k for k in sets["courses"] if k["sourcedId"] in ids], "courses"
            return None
        if len(segs) != 3:
            return None
        if kind == "classes" and child in ("students", "teachers"):
            enrs = [e for e in sets["enrollments"] if ref_id(e, "class") == pid]
            return users_in(enrs, child[:-1]), "users"
        if kind == "courses" and child == "classes":
            return [c for c in sets["classes"] if ref_id(c, "course") == pid], "classes"
        if kind == "terms" and child == "classes":
            return [c for c in sets["classes"] if pid in {t["sourcedId"] for t in c.get("terms", [])}], "classes"
        if kind in ("students", "teachers", "users") and child == "classes":
            return classes_of_user(pid), "classes"
        return None

    def live_change(self, segs, is_list):
        changes = self.modes.get("live_changes") or []
        if not changes or not is_list:
            return
        name = COLLECTIONS[segs[0]][0]
        with self.lock:
            n = self.list_counts.get(name, 0)
            self.list_counts[name] = n + 1
            changed = False
            for ch in changes:
                if ch.get("collection") == name and n == int(ch.get("after", 1)):
                    gone = set(ch.get("remove") or [])
                    self.base[name] = [r for r in self.base[name] if r["sourcedId"] not in gone]
                    self.base[name] += copy.deepcopy(ch.get("add") or [])
                    changed = True
            if changed:
                self.sets = self.build_sets()

    # ---- lists: filter, sort, page, fields ----

    def known_fields(self, name, version):
        key = (name, version)
        if key not in self.field_cache:
            fields = set()
            for r in self.sets[version][name].fixed:
                fields |= paths_of(r)
            self.field_cache[key] = fields
        return self.field_cache[key]

    def fields(self, req, name, version):
        text = req.arg("fields")
        if text is None:
            return None
        wanted = [f.strip() for f in text.split(",") if f.strip()]
        known = self.known_fields(name, version)
        bad = [f for f in wanted if f not in known]
        if bad:
            raise Fail(400, "invalid_selection_field", "Unknown field in fields: %s" % bad[0])
        return wanted

    def page(self, req, ctx, recs, envelope, name):
        version = ctx["version"]
        known = self.known_fields(name, version) if name in self.base else set()
        warnings = []
        text = req.arg("filter")
        if text is not None:
            preds, join = parse_filter(text)
            if version != "v1p2" and len(preds) > 2:
                raise Fail(400, "invaliddata", "Invalid filter: at most two predicates are allowed.")
            ops = self.modes.get("filter_ops", FILTER_OPS)
            for f, op, _ in preds:
                if op not in ops:
                    raise Fail(400, "invaliddata", "Unsupported filter operator: %s" % op)
            bad = [f for f, _, _ in preds if f not in known]
            if bad and self.modes.get("unknown_field", "error") == "warning":
                warnings.append(("invalid_filter_field", "Unknown field in filter: %s" % bad[0]))
            elif bad:
                raise Fail(400, "invalid_filter_field", "Unknown field in filter: %s" % bad[0])
            else:
                def match(r):
                    hits = [self.predicate(r, p) for p in preds]
                    return any(hits) if join == "OR" else all(hits)
                recs = [r for r in recs if match(r)]
        sort = req.arg("sort")
        order = req.arg("orderBy")
        if order is not None and order not in ("asc", "desc", "acs") or \
                order == "acs" and self.modes.get("strict_order_by"):
            raise Fail(400, "invaliddata", "Invalid orderBy: %s" % order)
        if sort is not None:
            if sort not in known:
                raise Fail(400, "invalid_sort_field", "Unknown sort field: %s" % sort)
            recs = sorted(recs, key=lambda r: as_text((values_at(r, sort) or [""])[0]),
                          reverse=order == "desc")
        fields = self.fields(req, name, version) if name in self.base else None
        total = len(recs)
        try:
            limit = int(req.arg("limit", DEFAULT_LIMIT))
            offset = int(req.arg("offset", 0))
        except ValueError:
            raise Fail(400, "invaliddata", "limit and offset must be integers.")
        if limit < 1 or offset < 0:
            raise Fail(400, "invaliddata", "limit must be at least 1 and offset at least 0.")
        limit = min(limit, int(self.modes.get("max_limit", MAX_LIMIT)))
        if self.modes.get("limit_ignored"):
            rows = recs[:]
        else:
            rows = recs[offset:offset + limit]
        body = {envelope: [self.render(r, ctx, fields) for r in rows]}
        if warnings:
            body["statusInfoSet"] = [{"imsx_codeMajor": "success", "imsx_severity": "warning",
                                      "imsx_description": d, "imsx_CodeMinor": {"imsx_codeMinorField": [
                                          {"imsx_codeMinorFieldName": "TargetEndSystem",
                                           "imsx_codeMinorFieldValue": m}]}} for m, d in warnings]
        headers = {}
        told = self.told_total(req, total)
        if told is not None:
            headers["X-Total-Count"] = str(told)
        if self.modes.get("link_header", True) and not self.modes.get("limit_ignored"):
            link = self.link_header(req, ctx, total, limit, offset)
            if link:
                headers["Link"] = link
        return json_reply(200, body, headers)

    @staticmethod
    def predicate(rec, pred):
        field, op, want = pred
        vals = values_at(rec, field)
        if op == "!=":
            return all(compare(v, op, want) for v in vals)
        return any(compare(v, op, want) for v in vals)

    def told_total(self, req, total):
        mode = self.modes.get("total_count", "exact")
        if mode == "absent":
            return None
        if mode == "growing":
            with self.lock:
                n = self.growing.get(req.path, 0)
                self.growing[req.path] = n + 1
            return total + n
        if isinstance(mode, int) and not isinstance(mode, bool):
            return total + mode
        return total

    @staticmethod
    def link_header(req, ctx, total, limit, offset):
        keep = [(k, v) for k, v in urllib.parse.parse_qsl(req.raw_query, keep_blank_values=True)
                if k not in ("limit", "offset")]

        def url(off):
            q = urllib.parse.urlencode(keep + [("limit", limit), ("offset", off)], quote_via=urllib.parse.quote)
            return "<%s%s?%s>" % (ctx["origin"], req.path, q)
        links = []
        if offset + limit < total:
            links.append(url(offset + limit) + '; rel="next"')
        last = max(0, (total - 1) // limit * limit)
        links.append(url(last) + '; rel="last"')
        links.append(url(0) + '; rel="first"')
        if offset > 0:
            links.append(url(max(0, offset - limit)) + '; rel="prev"')
        return ", ".join(links)

    # ---- rendering ----

    def render(self, rec, ctx, fields=None):
        relative = self.modes.get("hrefs", "absolute") == "relative"
        omit_empty = self.modes.get("empty_arrays", "keep") == "omit"
        as_string = self.modes.get("enabled_user", "boolean") == "string" or ctx["version"] == "v1p2"
        base = ("" if relative else ctx["origin"]) + ctx["root"]

        def walk(v):
            if is_ref(v):
                return {"href": base + REF_PATHS.get(v["type"], v["type"]) + "/" + v["sourcedId"],
                        "sourcedId": v["sourcedId"], "type": v["type"]}
            if isinstance(v, dict):
                out = {}
                for k, x in v.items():
                    if x is None or (omit_empty and x == []):
                        continue
                    out[k] = walk(x)
                return out
            if isinstance(v, list):
                return [walk(x) for x in v]
            return v
        out = walk(rec)
        if "enabledUser" in out and isinstance(out["enabledUser"], bool) and as_string:
            out["enabledUser"] = "true" if out["enabledUser"] else "false"
        if "periods" in out and self.modes.get("periods", "string") == "array":
            out["periods"] = [p.strip() for p in str(out["periods"]).split(",")]
        if fields is not None:
            out = {k: out[k] for k in fields if k in out}
        return out


def basic_credentials(req):
    auth = req.headers.get("authorization", "")
    if not auth.lower().startswith("basic "):
        return None
    try:
        ident, _, secret = base64.b64decode(auth[6:].strip(), validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return None
    return urllib.parse.unquote(ident), urllib.parse.unquote(secret)


def classlink_signature(signed, secret, method):
    """The signature ClassLink's sample client makes: values quoted with "/"
    left alone, names not encoded, the key form-encoded (not RFC 5849)."""
    pairs = sorted(dict(signed.params).items())
    joined = "&".join(k + "=" + urllib.parse.quote(v) for k, v in pairs)
    base = "%s&%s&%s" % (signed.http_method,
                         urllib.parse.quote_plus(oauth1_signature.base_string_uri(signed.uri)),
                         urllib.parse.quote_plus(joined))
    digest = hashlib.sha256 if method == "HMAC-SHA256" else hashlib.sha1
    mac = hmac.new((urllib.parse.quote_plus(secret) + "&").encode(), base.encode(), digest)
    return base64.b64encode(mac.digest()).decode()


def user_v1p2(u, extra):
    """A 1.1 user as 1.2 sends it: roles[] and primaryOrg instead of role
    and orgs, enabledUser a string, and the new name fields."""
    role = extra.get("role", u["role"])
    orgs = u.get("orgs") or []
    out = {k: u[k] for k in ("sourcedId", "status", "dateLastModified", "metadata") if k in u}
    out["userMasterIdentifier"] = extra.get("userMasterIdentifier", u.get("identifier"))
    for k in ("username", "userIds"):
        if k in u:
            out[k] = u[k]
    out["enabledUser"] = "true" if u.get("enabledUser") in (True, "true") else "false"
    for k in ("givenName", "familyName", "middleName"):
        if k in u:
            out[k] = u[k]
    for k in ("preferredFirstName", "preferredMiddleName", "preferredLastName", "pronouns"):
        if k in extra:
            out[k] = extra[k]
    out["roles"] = [{"roleType": "primary" if i == 0 else "secondary", "role": role, "org": o}
                    for i, o in enumerate(orgs)]
    out["userProfiles"] = []
    if orgs:
        out["primaryOrg"] = orgs[0]
    for k in ("identifier", "email", "sms", "phone", "agents", "grades"):
        if k in u:
            out[k] = u[k]
    out["resources"] = []
    return out


def synthetic_user(i):
    """Student i of the synthetic_users mode, the same every run."""
    school, grade = SYN_SCHOOLS[i % len(SYN_SCHOOLS)]
    given, family = SYN_GIVEN[i % len(SYN_GIVEN)], SYN_FAMILY[(i // len(SYN_GIVEN)) % len(SYN_FAMILY)]
    num = "9%07d" % i
    stamp = datetime.datetime(2024, 8, 1, tzinfo=datetime.timezone.utc) + datetime.timedelta(seconds=37 * i)
    active = i % 50 != 49
    return {"sourcedId": "u-syn-%07d" % i, "status": "active" if active else "tobedeleted",
            "dateLastModified": stamp.strftime("%Y-%m-%dT%H:%M:%S.000Z"), "metadata": {},
            "username": num, "userIds": [{"type": "StudentNumber", "identifier": num}],
            "enabledUser": active, "givenName": given, "familyName": family, "middleName": "",
            "role": "student", "identifier": num, "email": "%s@students.lakesideisd.example" % num,
            "sms": "", "phone": "", "agents": [], "orgs": [{"sourcedId": school, "type": "org"}],
            "grades": [grade]}


# what fake_vendor.py --personality oneroster serves
PERSONALITY = OneRoster
