"""The Google Workspace personality of the fake vendor server: the OAuth 2.0
token endpoint of service accounts (JWT bearer grant, domain-wide
delegation) and the Admin SDK Directory API (users, groups, members, org
units) with the gotchas of the reference's Google section.

Data directory (fixtures/google):
  service-account.json     the key file: the fake reads client_email,
                           client_id and private_key_id (never private_key)
  service-account.pub.pem  its public half: assertions are verified with it
  delegation.json          {"customer_id", "domains" (the first is primary),
                           "project_number", "delegation": {client_id:
                           [scopes]} (the Admin console's domain-wide
                           delegation list), "admins": {email: [resources
                           its role may read: users, groups, orgunits]}}
  users.json, deleted-users.json, groups.json, orgunits.json
                           JSON arrays of Directory objects as Google sends them
  members.json             {group email: [member objects]} (direct members)

Token endpoint: POST /token, /oauth2/v4/token or /o/oauth2/token, form
grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer&assertion=JWT. The
assertion is verified (RS256, python3-jwt) and every claim checked against
the fake clock (fakebase.now): iss, aud, iat, exp, scope, sub. Google's
error bodies and wording. A token issued without sub (the service account's
own) works, but every Directory call with it is 403 forbidden; so is a sub
who is not an admin, or whose admin role cannot read the resource.

Directory: /admin/directory/v1/users, /groups, /groups/{groupKey}/members,
/customer/{customer}/orgunits. Paging by opaque pageToken/nextPageToken
(no nextPageToken on the last page, the list key left out when empty, no
total), maxResults limits 500/200/200, fields= partial responses, JSON
pretty-printed unless prettyPrint=false, int64 values as strings. Users and
groups need customer= or domain= (neither: 400 badRequest); my_customer or
the customer id is accepted, another customer id is 400 badRequest, a domain
that is not the customer's 403 forbidden. Members of nested groups come as
type GROUP unless includeDerivedMembership=true replaces each nested group
by its users. Org units: type=children (the default: one level below
orgUnitPath, default /), all, allIncludingParent; not paged. A token
without the resource's read scope gets 403 insufficientPermissions.

Modes (from the case file):
  max_results      "cap" (default: above the maximum is silently capped)
                   or "reject" (400 invalid, Google's range message)
  error_form       how error bodies look: "current" (default: errors[],
                   plus status and details[] where Google adds them),
                   "legacy" (code, message, errors[] only), "grpc" (code,
                   message, status, details[] with an ErrorInfo; no errors[])
  faults           [{"path": PATTERN (default every Directory path),
                     "method", "error": KIND, "times": N|"forever"
                     (default 1), "skip": N (let N matching requests
                     through first)}], applied after the token check and
                   before the scope and admin checks, in list order. KIND is one of
                   ERRORS below: userRateLimitExceeded, rateLimitExceeded
                   (403, usageLimits), quotaExceeded, resourceExhausted
                   (429 rateLimitExceeded, RESOURCE_EXHAUSTED), backendError
                   (503), internalError (500), accessNotConfigured,
                   forbidden, authError, insufficientPermissions,
                   badRequest, notFound, domainNotFound. Never a Retry-After.
  delegation       {client_id: [scopes]}: replaces delegation.json's list
                   ({} = domain-wide delegation not set up)
  admins           {email: [resources]}: replaces delegation.json's list
  my_customer_not_found  true: customer my_customer answers 404 "Domain
                   not found." (the impersonated user is not in a Workspace
                   customer)
  token_paths      token paths served (default all three)
  audiences        accepted aud values (default
                   ["https://oauth2.googleapis.com/token"])
  key_ids          private_key_ids the service account still has (default:
                   the key file's); an assertion whose kid is not one of
                   them fails as a deleted key does ("Invalid JWT Signature.")
  iat_skew         seconds an iat may be ahead of the fake clock (default 120)
  expires_in       the tokens' expires_in (default 3599)
  token_expires_after        N: the first token issued stops working after N
                             Directory requests (401 authError), as a token
                             that expired mid-run
  every_token_expires_after  N: the same for every token
  check_jwt        a test check, not Google's behaviour: {"header": {...},
                   "claims": {...}, "scopes": [set of scopes], "lifetime":
                   exp - iat}; an assertion that differs is refused with 400
                   invalid_request "check_jwt: ..." naming the difference
"""
import base64
import hashlib
import json
import os
import threading
import urllib.parse

import jwt

from fakebase import Reply, html_reply, now, path_matches

GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
TOKEN_PATHS = ("/token", "/oauth2/v4/token", "/o/oauth2/token")
AUDIENCE = "https://oauth2.googleapis.com/token"
DIR = "/admin/directory/v1/"
SCOPE_PREFIX = "https://www.googleapis.com/auth/"
MAX_LIFETIME = 3600

# the scopes that let a token read each resource (readonly or full)
READ_SCOPES = {
    "users": ("admin.directory.user.readonly", "admin.directory.user"),
    "groups": ("admin.directory.group.readonly", "admin.directory.group"),
    "members": ("admin.directory.group.member.readonly", "admin.directory.group.member",
                "admin.directory.group.readonly", "admin.directory.group"),
    "orgunits": ("admin.directory.orgunit.readonly", "admin.directory.orgunit"),
}
# the admin-role privilege each resource needs (members: reading groups)
PRIVILEGE = {"users": "users", "groups": "groups", "members": "groups", "orgunits": "orgunits"}
LIMITS = {"users": (100, 500), "groups": (200, 200), "members": (200, 200)}

SHORT_LIVED = ("Invalid JWT: Token must be a short-lived token (60 minutes) and in a "
               "reasonable timeframe. Check your iat and exp values in the JWT claim.")
UNAUTHORIZED_CLIENT = ("Client is unauthorized to retrieve access tokens using this method, "
                       "or client not authorized for any of the scopes requested.")

GRPC_STATUS = {400: "INVALID_ARGUMENT", 401: "UNAUTHENTICATED", 403: "PERMISSION_DENIED",
               404: "NOT_FOUND", 429: "RESOURCE_EXHAUSTED", 500: "INTERNAL", 503: "UNAVAILABLE"}
ERRORINFO = "type.googleapis.com/google.rpc.ErrorInfo"

# KIND -> (HTTP status, message, errors[0] message or None (= message), reason,
# domain, status in the current form or None, ErrorInfo reason or None)
ERRORS = {
    "forbidden": (403, "Not Authorized to access this resource/api", None, "forbidden",
                  "global", None, None),
    "authError": (401, "Request had invalid authentication credentials. Expected OAuth 2 "
                  "access token, login cookie or other valid authentication credential. See "
                  "https://developers.google.com/identity/sign-in/web/devconsole-project.",
                  "Invalid Credentials", "authError", "global", "UNAUTHENTICATED",
                  "ACCESS_TOKEN_EXPIRED"),
    "userRateLimitExceeded": (403, "User Rate Limit Exceeded", None, "userRateLimitExceeded",
                              "usageLimits", None, "RATE_LIMIT_EXCEEDED"),
    "rateLimitExceeded": (403, "Quota exceeded for quota metric 'Queries' and limit 'Queries "
                          "per minute per user' of service 'admin.googleapis.com' for consumer "
                          "'project_number:{project}'.", None, "rateLimitExceeded",
                          "usageLimits", "PERMISSION_DENIED", "RATE_LIMIT_EXCEEDED"),
    "quotaExceeded": (403, "Quota exceeded: too many concurrent requests for this operation",
                      None, "quotaExceeded", "usageLimits", None, "RATE_LIMIT_EXCEEDED"),
    "resourceExhausted": (429, "Resource has been exhausted (e.g. check quota).", None,
                          "rateLimitExceeded", "global", "RESOURCE_EXHAUSTED",
                          "RATE_LIMIT_EXCEEDED"),
    "backendError": (503, "Backend Error", None, "backendError", "global", None, None),
    "internalError": (500, "Internal error encountered.", None, "backendError", "global",
                      "INTERNAL", None),
    "accessNotConfigured": (403, "Admin SDK API has not been used in project {project} before "
                            "or it is disabled. Enable it by visiting https://console.developers."
                            "google.com/apis/api/admin.googleapis.com/overview?project={project} "
                            "then retry. If you enabled this API recently, wait a few minutes "
                            "for the action to propagate to our systems and retry.", None,
                            "accessNotConfigured", "usageLimits", "PERMISSION_DENIED",
                            "SERVICE_DISABLED"),
    "insufficientPermissions": (403, "Request had insufficient authentication scopes.",
                                "Insufficient Permission", "insufficientPermissions", "global",
                                "PERMISSION_DENIED", "ACCESS_TOKEN_SCOPE_INSUFFICIENT"),
    "badRequest": (400, "Bad Request", None, "badRequest", "global", None, None),
    "invalid": (400, "Invalid Input", None, "invalid", "global", None, None),
    "notFound": (404, "Resource Not Found: {what}", None, "notFound", "global", None, None),
    "domainNotFound": (404, "Domain not found.", None, "notFound", "global", None, None),
}


class Google:
    def __init__(self, data_dir, modes):
        self.modes = modes

        def load(name):
            with open(os.path.join(data_dir, name), encoding="utf-8") as f:
                return json.load(f)

        key = load("service-account.json")
        self.client_email = key["client_email"]
        self.client_id = key["client_id"]
        self.key_ids = set(modes.get("key_ids", [key["private_key_id"]]))
        with open(os.path.join(data_dir, "service-account.pub.pem"), "rb") as f:
            self.public_key = f.read()
        tenant = load("delegation.json")
        self.customer_id = tenant["customer_id"]
        self.domains = [d.lower() for d in tenant["domains"]]
        self.project = tenant["project_number"]
        self.delegation = modes.get("delegation", tenant["delegation"])
        self.admins = {k.lower(): v for k, v in modes.get("admins", tenant["admins"]).items()}
        self.users = load("users.json")
        self.deleted = load("deleted-users.json")
        self.groups = sorted(load("groups.json"), key=lambda g: g["email"])
        self.members = {k.lower(): v for k, v in load("members.json").items()}
        self.orgunits = load("orgunits.json")
        self.known_users = {u["primaryEmail"].lower() for u in self.users}
        for u in self.users:
            self.known_users.update(a.lower() for a in u.get("aliases", []))
        self.lock = threading.Lock()
        self.tokens = {}       # access token -> {"sub", "scopes", "expires_at", "uses", "limit"}
        self.issued = 0
        self.fault_seen = [0] * len(modes.get("faults", []))
        for f in modes.get("faults", []):  # a typo in a case should not look like a pass
            if f.get("error") not in ERRORS:
                raise ValueError("faults: unknown error %r (known: %s)"
                                 % (f.get("error"), ", ".join(sorted(ERRORS))))
        if modes.get("max_results", "cap") not in ("cap", "reject"):
            raise ValueError("max_results: cap or reject")
        if modes.get("error_form", "current") not in ("current", "legacy", "grpc"):
            raise ValueError("error_form: current, legacy or grpc")

    # ---- dispatch ----

    def owns(self, path):
        return path.startswith("/admin/") or path in TOKEN_PATHS

    def handle(self, req):
        if req.path in TOKEN_PATHS:
            if req.path not in self.modes.get("token_paths", TOKEN_PATHS):
                return html_reply(404, "Not Found")
            return self.token_endpoint(req)
        if not req.path.startswith(DIR):
            return html_reply(404, "Not Found")
        return self.directory(req)

    # ---- replies ----

    def reply(self, status, obj, req=None, headers=None):
        """Google pretty-prints JSON unless prettyPrint=false."""
        pretty = req is None or req.arg("prettyPrint", "true").lower() != "false"
        text = json.dumps(obj, ensure_ascii=False, indent=2 if pretty else None,
                          separators=None if pretty else (",", ":"))
        h = {"Content-Type": "application/json; charset=UTF-8", "Vary": "Origin, X-Origin, Referer"}
        h.update(headers or {})
        return Reply(status, text + ("\n" if pretty else ""), h)

    def oauth_error(self, status, error, description):
        return self.reply(status, {"error": error, "error_description": description})

    def error(self, kind, req=None, **fmt):
        """A Directory error body of KIND in the case's error_form."""
        status, message, item_message, reason, domain, cur_status, info = ERRORS[kind]
        fmt.setdefault("project", self.project)
        path = req.path if req else ""
        fmt.setdefault("what", "groupKey" if path.startswith(DIR + "groups/")
                       else "orgunit" if path.startswith(DIR + "customer/") else "userKey")
        message = message.format(**fmt)
        form = self.modes.get("error_form", "current")
        item = {"message": (item_message or message).format(**fmt), "domain": domain,
                "reason": reason}
        if kind == "authError":
            item.update({"location": "Authorization", "locationType": "header"})
        if kind == "accessNotConfigured":
            item["extendedHelp"] = "https://console.developers.google.com"
        details = []
        if kind == "accessNotConfigured":
            url = ("https://console.developers.google.com/apis/api/admin.googleapis.com/"
                   "overview?project=%s" % self.project)
            details.append({"@type": "type.googleapis.com/google.rpc.Help",
                            "links": [{"description": "Google developers console API activation",
                                       "url": url}]})
        if info:
            meta = {"service": "admin.googleapis.com", "consumer": "projects/" + self.project}
            if info == "RATE_LIMIT_EXCEEDED":
                meta.update({"quota_metric": "admin.googleapis.com/default",
                             "quota_limit": "defaultPerMinutePerUser"})
            details.append({"@type": ERRORINFO, "reason": info, "domain": "googleapis.com",
                            "metadata": meta})
        body = {"code": status, "message": message}
        if form == "legacy" or form == "current":
            body["errors"] = [item]
        if form == "current" and cur_status:
            body["status"] = cur_status
            if details:
                body["details"] = details
        if form == "grpc":
            body["status"] = cur_status or GRPC_STATUS.get(status, "UNKNOWN")
            if not any(d["@type"] == ERRORINFO for d in details):
                details.append({"@type": ERRORINFO, "reason": reason.upper(),
                                "domain": "googleapis.com",
                                "metadata": {"service": "admin.googleapis.com"}})
            body["details"] = details
        headers = {}
        if status == 401:
            headers["WWW-Authenticate"] = ('Bearer realm="https://accounts.google.com/", '
                                           'error="invalid_token"')
        return self.reply(status, {"error": body}, req, headers)

    # ---- token endpoint ----

    def token_endpoint(self, req):
        if req.method != "POST":
            return self.oauth_error(405, "invalid_request", "Method not allowed: use POST")
        form = urllib.parse.parse_qs(req.body, keep_blank_values=True)
        grant = (form.get("grant_type") or [""])[0]
        if grant != GRANT:
            return self.oauth_error(400, "unsupported_grant_type", "Invalid grant_type: " + grant)
        assertion = (form.get("assertion") or [""])[0]
        if not assertion:
            return self.oauth_error(400, "invalid_request", "Missing required parameter: assertion")
        try:
            header = jwt.get_unverified_header(assertion)
        except jwt.PyJWTError:
            return self.oauth_error(400, "invalid_grant", "Invalid JWT Signature.")
        try:
            claims = jwt.decode(assertion, self.public_key, algorithms=["RS256"],
                                options={"verify_signature": True, "verify_exp": False,
                                         "verify_iat": False, "verify_nbf": False,
                                         "verify_aud": False, "verify_iss": False})
        except jwt.PyJWTError:
            claims = None
        if claims is not None and claims.get("iss") != self.client_email:
            # a signature this key verifies, from another account: Google
            # looks the account up by iss and does not find it
            return self.oauth_error(400, "invalid_grant", "Invalid grant: account not found")
        if claims is None or ("kid" in header and header["kid"] not in self.key_ids):
            return self.oauth_error(400, "invalid_grant", "Invalid JWT Signature.")
        checked = self.check_jwt(header, claims)
        if checked:
            return self.oauth_error(400, "invalid_request", "check_jwt: " + checked)
        aud = claims.get("aud")
        if aud not in self.modes.get("audiences", [AUDIENCE]):
            return self.oauth_error(400, "invalid_grant",
                                    "Invalid JWT: Failed audience check. The right audience is "
                                    + AUDIENCE)
        t = now()
        iat, exp = claims.get("iat"), claims.get("exp")
        skew = float(self.modes.get("iat_skew", 120))
        if (not isinstance(iat, int) or not isinstance(exp, int) or isinstance(iat, bool)
                or iat > t + skew or exp <= t or exp <= iat or exp - iat > MAX_LIFETIME):
            return self.oauth_error(400, "invalid_grant", SHORT_LIVED)
        scope = claims.get("scope")
        if not isinstance(scope, str) or not scope.strip():
            return self.oauth_error(400, "invalid_scope", "Empty or missing scope not allowed.")
        scopes = scope.split(" ")
        if any(not s.startswith(SCOPE_PREFIX) or len(s) == len(SCOPE_PREFIX) for s in scopes):
            return self.oauth_error(400, "invalid_scope",
                                    "Invalid OAuth scope or ID token audience provided.")
        sub = claims.get("sub")
        if sub is not None:
            if not isinstance(sub, str) or "@" not in sub:
                return self.oauth_error(400, "invalid_grant", "Not a valid email.")
            if sub.lower() not in self.known_users:
                return self.oauth_error(400, "invalid_grant", "Invalid email or User ID")
            allowed = self.delegation.get(self.client_id)
            if allowed is None or not set(scopes) <= set(allowed):
                return self.oauth_error(401, "unauthorized_client", UNAUTHORIZED_CLIENT)
        token = "ya29.c." + base64.urlsafe_b64encode(os.urandom(48)).decode().rstrip("=")
        with self.lock:
            self.issued += 1
            limit = self.modes.get("every_token_expires_after")
            if limit is None and self.issued == 1:
                limit = self.modes.get("token_expires_after")
            expires_in = int(self.modes.get("expires_in", 3599))
            self.tokens[token] = {"sub": sub.lower() if sub else None, "scopes": set(scopes),
                                  "expires_at": t + expires_in, "uses": 0, "limit": limit}
        return self.reply(200, {"access_token": token, "expires_in": expires_in,
                                "token_type": "Bearer"})

    def check_jwt(self, header, claims):
        """The case's check_jwt mode: what differs, or None."""
        want = self.modes.get("check_jwt")
        if not want:
            return None
        for k, v in (want.get("header") or {}).items():
            if header.get(k) != v:
                return "header %s is %s, expected %s" % (
                    k, json.dumps(header.get(k)), json.dumps(v))
        if set(header) - set(want.get("header") or header):
            return "header has extra keys %s" % sorted(set(header) - set(want["header"]))
        for k, v in (want.get("claims") or {}).items():
            if claims.get(k) != v:
                return "claim %s is %s, expected %s" % (k, json.dumps(claims.get(k)), json.dumps(v))
        if "scopes" in want:
            got = claims.get("scope", "")
            if not isinstance(got, str) or sorted(got.split(" ")) != sorted(want["scopes"]):
                return "scope is %s, expected the scopes %s separated by spaces" % (
                    json.dumps(got), json.dumps(want["scopes"]))
        if "lifetime" in want:
            exp, iat = claims.get("exp"), claims.get("iat")
            life = exp - iat if isinstance(exp, int) and isinstance(iat, int) else None
            if life != want["lifetime"]:
                return "exp - iat is %s, expected %s" % (life, want["lifetime"])
        return None

    # ---- Directory ----

    def directory(self, req):
        parts = req.path[len(DIR):].strip("/").split("/")
        if parts == ["users"]:
            resource = "users"
        elif parts == ["groups"]:
            resource = "groups"
        elif len(parts) == 3 and parts[0] == "groups" and parts[2] == "members":
            resource = "members"
        elif len(parts) == 3 and parts[0] == "customer" and parts[2] == "orgunits":
            resource = "orgunits"
        else:
            return html_reply(404, "Not Found")
        token, fail = self.bearer(req)
        if fail:
            return fail
        fault = self.fault(req)
        if fault:
            return self.error(fault, req)
        if not any(SCOPE_PREFIX + s in token["scopes"] for s in READ_SCOPES[resource]):
            return self.error("insufficientPermissions", req)
        # the service account itself (no sub) is not an admin; nor is a
        # user without an admin role that may read this resource
        if token["sub"] is None or PRIVILEGE[resource] not in self.admins.get(token["sub"], []):
            return self.error("forbidden", req)
        if req.method != "GET":  # an insert or change needs a scope that is not readonly
            return self.error("insufficientPermissions", req)
        if resource == "users":
            reply = self.list_users(req)
        elif resource == "groups":
            reply = self.list_groups(req)
        elif resource == "members":
            reply = self.list_members(req, urllib.parse.unquote(parts[1]))
        else:
            reply = self.list_orgunits(req, urllib.parse.unquote(parts[1]))
        return reply

    def bearer(self, req):
        auth = req.headers.get("authorization", "")
        tok = auth[7:].strip() if auth.startswith("Bearer ") else None
        with self.lock:
            info = self.tokens.get(tok)
            if info is None or now() >= info["expires_at"]:
                return None, self.error("authError", req)
            info["uses"] += 1
            if info["limit"] is not None and info["uses"] > int(info["limit"]):
                return None, self.error("authError", req)
        return info, None

    def fault(self, req):
        """The first fault of the faults mode that takes this request."""
        with self.lock:
            for i, f in enumerate(self.modes.get("faults", [])):
                if f.get("method", req.method).upper() != req.method:
                    continue
                if not path_matches(f.get("path", DIR + "*"), req.path):
                    continue
                self.fault_seen[i] += 1
                n = self.fault_seen[i] - int(f.get("skip", 0))
                times = f.get("times", 1)
                if n >= 1 and (times == "forever" or n <= int(times)):
                    return f["error"]
        return None

    def customer_scope(self, req):
        """Checks customer/domain. Returns (domain filter or None, error reply or None)."""
        customer = req.arg("customer")
        domain = req.arg("domain")
        if customer is None and domain is None:
            return None, self.error("badRequest", req)
        if customer is not None:
            fail = self.check_customer(customer, req)
            if fail:
                return None, fail
        if domain is not None:
            if domain.lower() not in self.domains:
                # another customer's domain, or none Google knows
                return None, self.error("forbidden", req)
            return domain.lower(), None
        return None, None

    def check_customer(self, customer, req):
        if customer == "my_customer":
            if self.modes.get("my_customer_not_found"):
                return self.error("domainNotFound", req)
            return None
        if customer != self.customer_id:
            return self.error("badRequest", req)
        return None

    def page_size(self, req, resource):
        default, maximum = LIMITS[resource]
        raw = req.arg("maxResults")
        if raw is None:
            return default, None
        try:
            n = int(raw)
        except ValueError:
            return None, self.error_text(400, "Invalid int32 value: \"%s\"." % raw, "invalid", req)
        if n < 1 or n > maximum and self.modes.get("max_results", "cap") == "reject":
            return None, self.error_text(
                400, "Invalid value '%s'. Values must be within the range: [1, %d]"
                % (raw, maximum),
                "invalid", req)
        return min(n, maximum), None

    def error_text(self, status, message, reason, req):
        form = self.modes.get("error_form", "current")
        body = {"code": status, "message": message}
        if form != "grpc":
            body["errors"] = [{"message": message, "domain": "global", "reason": reason}]
        if form == "grpc":
            body["status"] = GRPC_STATUS.get(status, "UNKNOWN")
            body["details"] = [{"@type": ERRORINFO, "reason": reason.upper(),
                                "domain": "googleapis.com",
                                "metadata": {"service": "admin.googleapis.com"}}]
        return self.reply(status, {"error": body}, req)

    def paged(self, req, resource, items, list_key, kind, signature):
        """One page of items: the list key left out when empty, nextPageToken
        only when more follow; then fields= applied."""
        size, fail = self.page_size(req, resource)
        if fail:
            return fail
        start = 0
        tok = req.arg("pageToken")
        if tok:
            start = self.read_page_token(tok, signature)
            if start is None:
                return self.error_text(400, "Invalid Input: pageToken", "invalid", req)
        page = items[start:start + size]
        body = {"kind": kind, "etag": '"%s/%s"' % (self.customer_id, hashlib.sha256(
            (signature + str(start)).encode()).hexdigest()[:24])}
        if page:
            body[list_key] = page
        if start + size < len(items):
            body["nextPageToken"] = self.make_page_token(start + size, signature)
        return self.finish(req, body)

    @staticmethod
    def make_page_token(offset, signature):
        raw = json.dumps({"o": offset, "s": hashlib.sha256(signature.encode()).hexdigest()[:12]},
                         separators=(",", ":"))
        return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")

    @staticmethod
    def read_page_token(tok, signature):
        try:
            raw = base64.urlsafe_b64decode(tok + "=" * (-len(tok) % 4))
            v = json.loads(raw)
            if v["s"] != hashlib.sha256(signature.encode()).hexdigest()[:12]:
                return None
            return int(v["o"])
        except (ValueError, KeyError, TypeError):
            return None

    def finish(self, req, body):
        spec = req.arg("fields")
        if spec:
            try:
                body = apply_fields(body, parse_fields(spec))
            except ValueError:
                return self.error_text(400, "Invalid field selection " + spec,
                                       "invalidParameter", req)
        return self.reply(200, body, req)

    # users

    def list_users(self, req):
        domain, fail = self.customer_scope(req)
        if fail:
            return fail
        deleted = req.arg("showDeleted", "false").lower() == "true"
        users = self.deleted if deleted else self.users
        if domain:
            users = [u for u in users if u["primaryEmail"].lower().endswith("@" + domain)]
        order = req.arg("orderBy")
        keys = {"email": lambda u: u["primaryEmail"].lower(),
                "givenName": lambda u: (u.get("name", {}).get("givenName", "").lower(),
                                        u["primaryEmail"].lower()),
                "familyName": lambda u: (u.get("name", {}).get("familyName", "").lower(),
                                         u["primaryEmail"].lower())}
        if order is not None and order not in keys:
            return self.error_text(400, "Invalid value '%s'" % order, "invalid", req)
        users = sorted(users, key=keys[order] if order else lambda u: u["id"])
        if req.arg("sortOrder", "ASCENDING").upper() == "DESCENDING":
            users.reverse()
        projection = req.arg("projection", "basic")
        if projection not in ("basic", "full", "custom"):
            return self.error_text(400, "Invalid value '%s'" % projection, "invalid", req)
        mask = req.arg("customFieldMask")
        if projection == "custom" and not mask:
            return self.error_text(400, "Invalid Input: customFieldMask is required when "
                                   "projection is custom", "invalid", req)
        users = [self.project_user(u, projection, mask) for u in users]
        sig = "|".join(["users", req.arg("customer", ""), domain or "", str(deleted),
                        order or "", req.arg("sortOrder", ""), projection])
        return self.paged(req, "users", users, "users", "admin#directory#users", sig)

    @staticmethod
    def project_user(u, projection, mask):
        if projection == "full" or "customSchemas" not in u:
            return u
        u = dict(u)
        schemas = u.pop("customSchemas")
        if projection == "custom":
            keep = {k: v for k, v in schemas.items() if k in mask.split(",")}
            if keep:
                u["customSchemas"] = keep
        return u

    # groups and members

    def list_groups(self, req):
        domain, fail = self.customer_scope(req)
        if fail:
            return fail
        groups = self.groups
        if domain:
            groups = [g for g in groups if g["email"].lower().endswith("@" + domain)]
        sig = "|".join(["groups", req.arg("customer", ""), domain or ""])
        return self.paged(req, "groups", groups, "groups", "admin#directory#groups", sig)

    def find_group(self, key):
        key = key.lower()
        for g in self.groups:
            if key in (g["id"].lower(), g["email"].lower()) or key in [
                    a.lower() for a in g.get("aliases", []) + g.get("nonEditableAliases", [])]:
                return g
        return None

    def list_members(self, req, key):
        group = self.find_group(key)
        if group is None:
            return self.error("notFound", req, what="groupKey")
        derived = req.arg("includeDerivedMembership", "false").lower() == "true"
        members = self.expand(group["email"], set()) if derived else list(
            self.members.get(group["email"].lower(), []))
        roles = req.arg("roles")
        if roles:
            want = {r.strip().upper() for r in roles.split(",")}
            members = [m for m in members if m.get("role") in want]
        sig = "|".join(["members", group["id"], str(derived), roles or ""])
        return self.paged(req, "members", members, "members", "admin#directory#members", sig)

    def expand(self, email, seen):
        """Members with nested groups replaced by their members (Google's
        includeDerivedMembership): each member once, a direct role kept."""
        seen = seen | {email.lower()}
        out, ids = [], set()
        direct = self.members.get(email.lower(), [])
        for m in direct:
            if m.get("type") != "GROUP" and m["id"] not in ids:
                out.append(m)
                ids.add(m["id"])
        for m in direct:
            if m.get("type") == "GROUP" and m["email"].lower() not in seen:
                for d in self.expand(m["email"], seen):
                    if d["id"] not in ids:
                        d = dict(d)
                        d["role"] = "MEMBER"
                        out.append(d)
                        ids.add(d["id"])
        return out

    # org units

    def list_orgunits(self, req, customer):
        fail = self.check_customer(customer, req)
        if fail:
            return fail
        kind = req.arg("type", "children")
        if kind not in ("children", "all", "allIncludingParent"):
            return self.error_text(400, "Invalid value '%s'" % kind, "invalid", req)
        parent = req.arg("orgUnitPath", "/")
        if parent.startswith("id:"):
            hit = [o for o in self.orgunits if o["orgUnitId"] == parent]
            if not hit:
                return self.error("notFound", req, what="orgunit")
            parent = hit[0]["orgUnitPath"]
        if not parent.startswith("/"):
            parent = "/" + parent
        parent = parent.rstrip("/") or "/"
        if parent != "/" and not any(o["orgUnitPath"] == parent for o in self.orgunits):
            return self.error_text(400, "Invalid Input: OrgUnit: " + parent, "invalid", req)
        prefix = parent if parent == "/" else parent + "/"
        if kind == "children":
            units = [o for o in self.orgunits if o["parentOrgUnitPath"] == parent]
        else:
            units = [o for o in self.orgunits if o["orgUnitPath"].startswith(prefix)]
            if kind == "allIncludingParent" and parent != "/":
                units = [o for o in self.orgunits if o["orgUnitPath"] == parent] + units
        body = {"kind": "admin#directory#orgUnits", "etag": '"%s/orgunits"' % self.customer_id}
        if kind == "allIncludingParent" and parent == "/":
            body["organizationUnits"] = [{
                "kind": "admin#directory#orgUnit", "name": "Maple Ridge Unified",
                "description": "", "orgUnitPath": "/", "orgUnitId": "id:03ph8a2z0root1",
                "blockInheritance": False}] + units
        elif units:
            body["organizationUnits"] = units
        return self.finish(req, body)


# ---- fields= partial responses ----

def parse_fields(spec):
    """'nextPageToken,users(id,name/givenName)' -> {"nextPageToken": None,
    "users": {"id": None, "name": {"givenName": None}}}. None = everything."""
    tree, i = _parse_list(spec, 0)
    if i != len(spec):
        raise ValueError("unexpected ')'")
    return tree


def _parse_list(s, i):
    tree = {}
    while i < len(s):
        j = i
        while j < len(s) and s[j] not in ",()":
            j += 1
        path = s[i:j].strip()
        if not path:
            raise ValueError("empty field")
        sub = None
        if j < len(s) and s[j] == "(":
            sub, j = _parse_list(s, j + 1)
            if j >= len(s) or s[j] != ")":
                raise ValueError("missing ')'")
            j += 1
        node = tree
        names = path.split("/")
        for n in names[:-1]:
            node = node.setdefault(n, {}) if node.get(n, {}) is not None else {}
        if names[-1] in node and node[names[-1]] is not None and sub is not None:
            node[names[-1]].update(sub)
        else:
            node[names[-1]] = sub
        if j < len(s) and s[j] == ",":
            i = j + 1
            continue
        return tree, j
    return tree, i


def apply_fields(obj, tree):
    if tree is None:
        return obj
    if isinstance(obj, list):
        return [apply_fields(x, tree) for x in obj]
    if not isinstance(obj, dict):
        return obj
    if "*" in tree:
        return obj
    out = {}
    for k, sub in tree.items():
        if k in obj:
            out[k] = apply_fields(obj[k], sub)
    return out


# what fake_vendor.py --personality google serves
PERSONALITY = Google
