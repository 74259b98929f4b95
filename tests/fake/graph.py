"""The Microsoft Graph v1.0 (Entra ID) personality of the fake vendor server:
the tenant's token endpoint (client credentials) and the directory reads a
roster needs, with the gotchas of the reference's Graph section.

Paths: POST /{tenant}/oauth2/v2.0/token (tenant GUID or verified domain),
and under /v1.0/: users, users/$count, users/delta, users/{id|upn}, groups,
groups/$count, groups/delta, groups/{id}, groups/{id}/members and
/transitiveMembers (optionally cast: .../members/microsoft.graph.user),
directory/deletedItems/microsoft.graph.user and .../microsoft.graph.group.

Data directory (the first tenant of apps.json owns it; another tenant's
token sees an empty directory):
  apps.json          {"tenants": [{"id", "domains", "display_name", "apps":
                     [{"client_id", "client_secret", "secret_id",
                     "secret_expired", "permissions": [...]}]}]}
  users.json         user objects (every property the fake knows of them)
  deleted_users.json soft-deleted users (deletedDateTime, id-prefixed UPN)
  groups.json        group objects
  members.json       {"group id": [member object ids, in order]}
  objects.json       other directory objects (devices, ...) with @odata.type
  changes.json       change sets for delta rounds (or the mode "changes")

Tokens: the form fields are checked as Microsoft does (HTTP Basic client
authentication is accepted too), with its error bodies: unknown tenant 400
invalid_request AADSTS90002; a missing field 400 AADSTS90014; wrong
grant_type 400 AADSTS70003; unknown client id 400 unauthorized_client
AADSTS700016; bad scope 400 invalid_scope AADSTS70011; no secret 401
AADSTS7000218; wrong secret (or the secret's id) 401 invalid_client
AADSTS7000215; expired secret 401 AADSTS7000222. A token carries the app's
permissions ("roles") as granted when it was issued; a read the app has no
permission for answers 403 Authorization_RequestDenied.

Graph: $select honoured (unselected properties are missing, a property
never set is null; id always comes), an unknown property is 400
Request_BadRequest, skills/aboutMe/... in a list 501; $top 1..999 (else 400
Request_UnsupportedQuery "Invalid page size specified"), default page 100;
@odata.nextLink is absolute on the request's Host, repeats the request's
query options and adds $skiptoken; the last page has no nextLink key;
$count (the /$count segment or $count=true) needs ConsistencyLevel:
eventual (else 400); members are mixed directoryObjects with @odata.type.
Delta: /users/delta and /groups/delta take $select only; pages of
delta_page_size with nextLinks ($skiptoken) then @odata.deltaLink
($deltatoken); a later round lists only what changed (changed objects, new
ones, {"id", "@removed": {"reason": "changed"|"deleted"}}, groups with
members@delta); Prefer: return=minimal gives only the changed properties;
$deltatoken=latest gives just a deltaLink. Change sets: the directory
starts as the data files say; the first time a deltaLink of generation G
is used, change set G (if any) is applied, so each later round sees the
next change set (every endpoint serves the newest generation).
Every Graph answer carries request-id, client-request-id (the client's,
when it sent one) and x-ms-resource-unit; errors have innerError with
date (no zone), request-id and client-request-id; throttled answers carry
x-ms-throttle-scope and x-ms-throttle-information.

Modes (from the case file; PATH is a path pattern, a list of them, or true):
  expires_in           token lifetime in seconds: a number, or a list for
                       the 1st, 2nd, ... token (the last repeats); default 3599
  token_expires_after  N: the first token (or the first expiring_tokens
                       tokens) answers 401 InvalidAuthenticationToken (with
                       WWW-Authenticate) after N Graph requests; 0 = at once.
                       A token whose expires_in has passed (fake clock) too.
  expiring_tokens      how many tokens token_expires_after applies to (1)
  max_page             N: pages hold at most N items whatever $top says
  empty_first_page     PATH: a list's first page is empty, with a nextLink
  empty_last_page      PATH: the last page links to one more, empty, page
  foreign_next_link    PATH: the first page's nextLink is on another host
  repeat_next_link     PATH: a page fetched by a nextLink gives that same
                       link again (the same link twice, a loop)
  throttle             [{"path", "status" (429), "retry_after" (seconds, or
                       absent), "skip" (0), "count" (1), "code", "message"}]:
                       after `skip` matching requests, the next `count` are
                       throttled (Retry-After only when given); 503 answers
                       serviceNotAvailable
  count_offset         N added to what /users/$count says (eventual consistency)
  delta_page_size      objects a delta page (default 20)
  delta_members_chunk  N: members@delta lists at most N members an object; a
                       group with more appears again ({"id", "members@delta"})
  delta_expired        PATH: a $deltatoken request answers 410 Gone with a
                       Location (a fresh initial round) instead of changes;
                       tokens older than 7 days do so anyway
  delta_expired_status 410 (default) or 400 (syncStateNotFound, no Location)
  removed_in_first_round  an initial users round also lists the soft-deleted
                       users as @removed (reason changed)
  changes              change sets instead of changes.json: [{"users": {"add":
                       [...], "update": [{"id", ...}], "delete": [id | {"id",
                       "deletedDateTime"}], "purge": [...], "restore": [...]},
                       "groups": {"add", "update", "delete"}, "members":
                       {"add": {"gid": [ids]}, "remove": {"gid": [ids]}}}]
  vanished_groups      [group ids]: listed, but members calls answer 404
  link_scheme          scheme of the links made from the Host header ("http")
"""
import base64
import copy
import datetime
import hashlib
import json
import os
import threading
import urllib.parse
import uuid
import zlib

from fakebase import Reply, json_reply, mode_applies, now

SCOPE = "https://graph.microsoft.com/.default"
GRAPH_APP_ID = "00000003-0000-0000-c000-000000000000"
FOREIGN_HOST = "https://graph.elsewhere.example"
DEFAULT_TOP = 100
MAX_TOP = 999
DELTA_TOKEN_DAYS = 7
ODATA_JSON = "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8"
SKIP_PREFIX = "RFNwdAIAAQAAA"

USER_PROPS = [
    "id", "userPrincipalName", "mail", "givenName", "surname", "displayName", "jobTitle",
    "department", "employeeId", "employeeType", "accountEnabled", "userType", "createdDateTime",
    "employeeHireDate", "employeeLeaveDateTime", "employeeOrgData", "companyName",
    "officeLocation", "mobilePhone", "businessPhones", "preferredLanguage", "mailNickname",
    "usageLocation", "city", "country", "state", "streetAddress", "postalCode", "faxNumber",
    "otherMails", "proxyAddresses", "imAddresses", "ageGroup", "consentProvidedForMinor",
    "legalAgeGroupClassification", "creationType", "externalUserState",
    "externalUserStateChangeDateTime", "identities", "lastPasswordChangeDateTime",
    "passwordPolicies", "showInAddressList", "assignedLicenses", "assignedPlans",
    "onPremisesImmutableId", "onPremisesSamAccountName", "onPremisesSyncEnabled",
    "onPremisesLastSyncDateTime", "onPremisesDistinguishedName", "onPremisesDomainName",
    "onPremisesUserPrincipalName", "onPremisesExtensionAttributes", "securityIdentifier",
    "signInActivity", "deletedDateTime"]
# readable on one user only: in a list $select they answer 501
USER_SINGLE_ONLY = ["aboutMe", "birthday", "hireDate", "interests", "mySite", "pastProjects",
                    "preferredName", "responsibilities", "schools", "skills", "mailboxSettings"]
USER_DEFAULT = ["businessPhones", "displayName", "givenName", "jobTitle", "mail", "mobilePhone",
                "officeLocation", "preferredLanguage", "surname", "userPrincipalName"]
GROUP_PROPS = [
    "id", "displayName", "description", "mail", "mailEnabled", "mailNickname", "securityEnabled",
    "groupTypes", "createdDateTime", "visibility", "membershipRule",
    "membershipRuleProcessingState", "onPremisesSyncEnabled", "onPremisesLastSyncDateTime",
    "onPremisesSecurityIdentifier", "proxyAddresses", "isAssignableToRole", "classification",
    "expirationDateTime", "renewedDateTime", "preferredDataLocation", "securityIdentifier",
    "theme", "deletedDateTime"]
DEVICE_PROPS = [
    "id", "displayName", "deviceId", "operatingSystem", "operatingSystemVersion",
    "accountEnabled", "trustType", "isCompliant", "isManaged", "approximateLastSignInDateTime",
    "deletedDateTime"]
SP_PROPS = ["id", "displayName", "appId", "servicePrincipalType", "accountEnabled", "deletedDateTime"]
CONTACT_PROPS = ["id", "displayName", "mail", "givenName", "surname", "companyName", "deletedDateTime"]
TYPE_PROPS = {
    "#microsoft.graph.user": USER_PROPS,
    "#microsoft.graph.group": GROUP_PROPS,
    "#microsoft.graph.device": DEVICE_PROPS,
    "#microsoft.graph.servicePrincipal": SP_PROPS,
    "#microsoft.graph.orgContact": CONTACT_PROPS,
}
TYPE_DEFAULT = {
    "#microsoft.graph.user": USER_DEFAULT,
    "#microsoft.graph.group": [p for p in GROUP_PROPS if p != "id"],
}
DIRECTORY_OBJECT_PROPS = sorted({p for props in TYPE_PROPS.values() for p in props})

# application permissions that allow a read (Directory.* allow all)
READ_USERS = {"User.Read.All", "User.ReadWrite.All", "Directory.Read.All", "Directory.ReadWrite.All"}
READ_GROUPS = {"Group.Read.All", "Group.ReadWrite.All", "GroupMember.Read.All",
               "GroupMember.ReadWrite.All", "Directory.Read.All", "Directory.ReadWrite.All"}


def b64url(data):
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def unb64url(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def pack(prefix, obj):
    # opaque to clients (they must use links as they come), readable here
    return prefix + b64url(zlib.compress(json.dumps(obj, separators=(",", ":")).encode()))


def unpack(prefix, text):
    """The dict a token was made from, or None when it is not one of ours."""
    if not text or not text.startswith(prefix):
        return None
    try:
        obj = json.loads(zlib.decompress(unb64url(text[len(prefix):])))
    except (ValueError, UnicodeDecodeError, zlib.error):
        return None
    return obj if isinstance(obj, dict) else None


def aad_time(t):
    return datetime.datetime.fromtimestamp(t, datetime.timezone.utc).strftime("%Y-%m-%d %H:%M:%SZ")


def graph_date(t):
    # innerError.date: ISO 8601 without a zone
    return datetime.datetime.fromtimestamp(t, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")


def canonical(names, wanted):
    """Graph property names are case-insensitive in $select."""
    low = {n.lower(): n for n in names}
    return low.get(wanted.lower())


# ---- the directory and its generations ----

def load_json(data_dir, name, default):
    path = os.path.join(data_dir, name)
    if not os.path.exists(path):
        return default
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def deleted_upn(user):
    # a soft-deleted user's UPN gets its object id (no dashes) in front
    return user["id"].replace("-", "") + user["userPrincipalName"]


def apply_changes(state, cs):
    """A new state: state with one change set applied."""
    st = copy.deepcopy(state)
    users, deleted, groups, members = st["users"], st["deleted"], st["groups"], st["members"]

    def drop_member(oid):
        for gid in members:
            members[gid] = [m for m in members[gid] if m != oid]

    uc = cs.get("users") or {}
    for u in uc.get("add") or []:
        users[u["id"]] = copy.deepcopy(u)
    for upd in uc.get("update") or []:
        target = users.get(upd["id"]) or deleted.get(upd["id"])
        if target is not None:
            target.update({k: v for k, v in upd.items() if k != "id"})
    for d in uc.get("delete") or []:
        d = d if isinstance(d, dict) else {"id": d}
        u = users.pop(d["id"], None)
        if u is None:
            continue
        u["deletedDateTime"] = d.get("deletedDateTime") or "2024-12-02T17:05:44Z"
        u["userPrincipalName"] = deleted_upn(u)
        deleted[u["id"]] = u
        drop_member(u["id"])
    for oid in uc.get("purge") or []:
        users.pop(oid, None)
        deleted.pop(oid, None)
        drop_member(oid)
    for oid in uc.get("restore") or []:
        u = deleted.pop(oid, None)
        if u is not None:
            u.pop("deletedDateTime", None)
            prefix = oid.replace("-", "")
            if u["userPrincipalName"].startswith(prefix):
                u["userPrincipalName"] = u["userPrincipalName"][len(prefix):]
            users[oid] = u
    gc = cs.get("groups") or {}
    for g in gc.get("add") or []:
        groups[g["id"]] = copy.deepcopy(g)
        members.setdefault(g["id"], [])
    for upd in gc.get("update") or []:
        if upd["id"] in groups:
            groups[upd["id"]].update({k: v for k, v in upd.items() if k != "id"})
    for gid in gc.get("delete") or []:
        groups.pop(gid, None)
        members.pop(gid, None)
        drop_member(gid)
    mc = cs.get("members") or {}
    for gid, ids in (mc.get("add") or {}).items():
        lst = members.setdefault(gid, [])
        lst += [i for i in ids if i not in lst]
    for gid, ids in (mc.get("remove") or {}).items():
        members[gid] = [m for m in members.get(gid, []) if m not in ids]
    return st


def empty_state():
    return {"users": {}, "deleted": {}, "groups": {}, "members": {}, "objects": {}}


class Graph:
    def __init__(self, data_dir, modes):
        self.modes = modes
        self.apps = load_json(data_dir, "apps.json", {"tenants": []})
        s0 = empty_state()
        for u in load_json(data_dir, "users.json", []):
            s0["users"][u["id"]] = u
        for u in load_json(data_dir, "deleted_users.json", []):
            s0["deleted"][u["id"]] = u
        for g in load_json(data_dir, "groups.json", []):
            s0["groups"][g["id"]] = g
        s0["members"] = load_json(data_dir, "members.json", {})
        for o in load_json(data_dir, "objects.json", []):
            s0["objects"][o["id"]] = o
        changes = modes.get("changes")
        if changes is None:
            changes = load_json(data_dir, "changes.json", [])
        self.states = [s0]
        for cs in changes:
            self.states.append(apply_changes(self.states[-1], cs))
        self.gen = 0
        self.lock = threading.Lock()
        self.tokens = {}      # access token -> what it was issued for
        self.issued = 0
        self.throttle_hits = {}  # index of a throttle rule -> matching requests

    # ---- dispatch ----

    @staticmethod
    def token_tenant(path):
        parts = urllib.parse.unquote(path).strip("/").split("/")
        if len(parts) == 4 and parts[1:] == ["oauth2", "v2.0", "token"]:
            return parts[0]
        return None

    def owns(self, path):
        return path.startswith("/v1.0/") or path == "/v1.0" or self.token_tenant(path) is not None

    def handle(self, req):
        tenant = self.token_tenant(req.path)
        if tenant is not None:
            return self.token_endpoint(req, tenant)
        rid = str(uuid.uuid4())
        crid = req.headers.get("client-request-id") or rid
        reply, ru = self.graph(req, rid, crid)
        reply.headers.setdefault("request-id", rid)
        reply.headers.setdefault("client-request-id", crid)
        reply.headers.setdefault("x-ms-ags-diagnostic",
                                 '{"ServerInfo":{"DataCenter":"Test","Slice":"E","Ring":"1",'
                                 '"ScaleUnit":"000","RoleInstance":"FAKE-GRAPH"}}')
        reply.headers["x-ms-resource-unit"] = str(ru)
        reply.headers.setdefault("Strict-Transport-Security", "max-age=31536000")
        reply.headers.setdefault("Cache-Control", "no-cache")
        return reply

    # ---- the token endpoint ----

    def find_tenant(self, name):
        name = name.lower()
        for t in self.apps.get("tenants", []):
            if t["id"].lower() == name or name in [d.lower() for d in t.get("domains", [])]:
                return t
        return None

    def aad_error(self, status, error, code, text, req):
        t = now()
        trace, corr = str(uuid.uuid4()), req.headers.get("client-request-id") or str(uuid.uuid4())
        stamp = aad_time(t)
        desc = "AADSTS%d: %s\r\nTrace ID: %s\r\nCorrelation ID: %s\r\nTimestamp: %s" % (
            code, text, trace, corr, stamp)
        body = {"error": error, "error_description": desc, "error_codes": [code],
                "timestamp": stamp, "trace_id": trace, "correlation_id": corr,
                "error_uri": "https://login.microsoftonline.com/error?code=%d" % code}
        return json_reply(status, body, {"Cache-Control": "no-store, no-cache", "Pragma": "no-cache",
                                         "x-ms-request-id": trace, "client-request-id": corr})

    def token_endpoint(self, req, tenant_name):
        tenant = self.find_tenant(tenant_name)
        if tenant_name.lower() in ("common", "organizations", "consumers"):
            return self.aad_error(400, "invalid_request", 50059,
                                  "No tenant-identifying information found in either the request or "
                                  "implied by any provided credentials.", req)
        if tenant is None:
            return self.aad_error(400, "invalid_request", 90002,
                                  "Tenant '%s' not found. Check to make sure you have the correct tenant "
                                  "ID and are signing into the correct cloud. Check with your subscription "
                                  "administrator, this may happen if there are no active subscriptions "
                                  "for the tenant." % tenant_name, req)
        if req.method != "POST":
            return self.aad_error(400, "invalid_request", 900561,
                                  "The endpoint only accepts POST requests. Received a %s request."
                                  % req.method, req)
        ctype = req.headers.get("content-type", "")
        form = {}
        if ctype.split(";")[0].strip().lower() == "application/x-www-form-urlencoded":
            form = {k: v[0] for k, v in urllib.parse.parse_qs(req.body, keep_blank_values=True).items()}
        basic_id, basic_secret = self.basic(req)
        client_id = form.get("client_id") or basic_id
        secret = form.get("client_secret") if "client_secret" in form else basic_secret

        def missing(field):
            return self.aad_error(400, "invalid_request", 90014,
                                  "The required field '%s' is missing from the credential. Ensure that "
                                  "you have all the necessary parameters for the login request." % field, req)
        if not form.get("grant_type"):
            return missing("grant_type")
        if form["grant_type"] != "client_credentials":
            return self.aad_error(400, "unsupported_grant_type", 70003,
                                  "The app requested an unsupported grant type '%s'." % form["grant_type"], req)
        if not client_id:
            return missing("client_id")
        app = next((a for a in tenant.get("apps", []) if a["client_id"].lower() == client_id.lower()), None)
        if app is None:
            return self.aad_error(400, "unauthorized_client", 700016,
                                  "Application with identifier '%s' was not found in the directory '%s'. "
                                  "This can happen if the application has not been installed by the "
                                  "administrator of the tenant or consented to by any user in the tenant. "
                                  "You may have sent your authentication request to the wrong tenant."
                                  % (client_id, tenant.get("display_name", tenant["id"])), req)
        if "scope" not in form:
            return missing("scope")
        if form["scope"] != SCOPE:
            return self.aad_error(400, "invalid_scope", 70011,
                                  "The provided request must include a 'scope' input parameter. The "
                                  "provided value for the input parameter 'scope' is not valid. The scope "
                                  "%s is not valid." % form["scope"], req)
        if not secret:
            return self.aad_error(401, "invalid_client", 7000218,
                                  "The request body must contain the following parameter: "
                                  "'client_assertion' or 'client_secret'.", req)
        if secret != app["client_secret"]:
            return self.aad_error(401, "invalid_client", 7000215,
                                  "Invalid client secret provided. Ensure the secret being sent in the "
                                  "request is the client secret value, not the client secret ID, for a "
                                  "secret added to app '%s'." % app["client_id"], req)
        if app.get("secret_expired"):
            return self.aad_error(401, "invalid_client", 7000222,
                                  "The provided client secret keys for app '%s' are expired. Visit the "
                                  "Azure portal to create new keys for your app: "
                                  "https://aka.ms/NewClientSecret, or consider using certificate "
                                  "credentials for added security: https://aka.ms/certCreds."
                                  % app["client_id"], req)
        return self.issue(req, tenant, app)

    @staticmethod
    def basic(req):
        auth = req.headers.get("authorization", "")
        if not auth.startswith("Basic "):
            return None, None
        try:
            ident, _, secret = base64.b64decode(auth[6:], validate=True).decode().partition(":")
        except (ValueError, UnicodeDecodeError):
            return None, None
        # RFC 6749 2.3.1: both parts are form-urlencoded before Basic
        return urllib.parse.unquote_plus(ident), urllib.parse.unquote_plus(secret)

    def issue(self, req, tenant, app):
        with self.lock:
            n = self.issued
            self.issued += 1
            life = self.modes.get("expires_in", 3599)
            if isinstance(life, list):
                life = life[min(n, len(life) - 1)]
            life = int(life)
            t = now()
            claims = {"aud": "https://graph.microsoft.com", "iss": "https://sts.windows.net/%s/" % tenant["id"],
                      "iat": int(t), "exp": int(t) + life, "appid": app["client_id"], "tid": tenant["id"],
                      "roles": list(app.get("permissions", [])), "n": n}
            body = b64url(json.dumps(claims, separators=(",", ":")).encode())
            head = b64url(b'{"typ":"JWT","alg":"RS256","kid":"fake-graph"}')
            sig = b64url(hashlib.sha256((head + "." + body).encode()).digest())
            token = head + "." + body + "." + sig
            limit = self.modes.get("token_expires_after")
            if limit is not None and n >= int(self.modes.get("expiring_tokens", 1)):
                limit = None
            self.tokens[token] = {"tenant": tenant, "app": app, "roles": set(claims["roles"]),
                                  "exp": t + life, "uses": 0, "limit": limit}
        return json_reply(200, {"token_type": "Bearer", "expires_in": life, "ext_expires_in": life,
                                "access_token": token},
                          {"Cache-Control": "no-store, no-cache", "Pragma": "no-cache",
                           "x-ms-request-id": str(uuid.uuid4())})

    # ---- Graph ----

    def error(self, status, code, message, rid, crid, headers=None, inner_code=None):
        inner = {"date": graph_date(now()), "request-id": rid, "client-request-id": crid}
        if inner_code:
            inner = {"code": inner_code, **inner}
        h = {"request-id": rid, "client-request-id": crid}
        h.update(headers or {})
        return json_reply(status, {"error": {"code": code, "message": message, "innerError": inner}}, h)

    def authenticate(self, req, rid, crid):
        """(token info, None) or (None, the 401 reply)."""
        www = {"WWW-Authenticate": 'Bearer realm="", authorization_uri='
                                   '"https://login.microsoftonline.com/common/oauth2/authorize", '
                                   'client_id="%s"' % GRAPH_APP_ID}
        auth = req.headers.get("authorization", "")
        if not auth.startswith("Bearer ") or not auth[7:].strip():
            return None, self.error(401, "InvalidAuthenticationToken", "Access token is empty.",
                                    rid, crid, www)
        token = auth[7:].strip()
        with self.lock:
            info = self.tokens.get(token)
            if info is not None:
                info["uses"] += 1
                expired = (info["limit"] is not None and info["uses"] > info["limit"]) or now() >= info["exp"]
        if info is None:
            msg = ("Access token validation failure. Invalid audience." if token.startswith("eyJ")
                   else "CompactToken parsing failed with error code: 80049217")
            return None, self.error(401, "InvalidAuthenticationToken", msg, rid, crid, www)
        if expired:
            return None, self.error(401, "InvalidAuthenticationToken",
                                    "Access token has expired or is not yet valid.", rid, crid, www)
        return info, None

    def throttled(self, req, info, rid, crid):
        for i, rule in enumerate(self.modes.get("throttle") or []):
            if not mode_applies(rule.get("path", True), req.path):
                continue
            with self.lock:
                n = self.throttle_hits.get(i, 0) + 1
                self.throttle_hits[i] = n
            skip, count = int(rule.get("skip", 0)), int(rule.get("count", 1))
            if not skip < n <= skip + count:
                continue
            status = int(rule.get("status", 429))
            headers = {}
            if rule.get("retry_after") is not None:
                headers["Retry-After"] = str(rule["retry_after"])
            if status == 429:
                headers["x-ms-throttle-scope"] = "Tenant_Application/Read/%s/%s" % (
                    info["app"]["client_id"], info["tenant"]["id"])
                headers["x-ms-throttle-information"] = "ResourceUnitLimitExceeded"
                headers["x-ms-throttle-limit-percentage"] = "1.2"
                code = rule.get("code", "TooManyRequests")
                msg = rule.get("message") or (
                    "Too many requests. Please try again after %s seconds." % rule["retry_after"]
                    if rule.get("retry_after") is not None else "Too many requests.")
                return self.error(429, code, msg, rid, crid, headers, inner_code="ResourceUnitLimitExceeded")
            code = rule.get("code", "serviceNotAvailable" if status == 503 else "UnknownError")
            msg = rule.get("message", "The service is temporarily unavailable. Please retry later.")
            return self.error(status, code, msg, rid, crid, headers)
        return None

    def graph(self, req, rid, crid):
        """(reply, resource units) for a /v1.0/ request."""
        parts = [urllib.parse.unquote(p) for p in req.path.strip("/").split("/")][1:]
        ru = self.cost(req, parts)
        info, denied = self.authenticate(req, rid, crid)
        if denied:
            return denied, 1
        throttle = self.throttled(req, info, rid, crid)
        if throttle:
            return throttle, ru
        if req.method != "GET":
            return self.error(405, "Request_BadRequest", "The HTTP method '%s' is not allowed here."
                              % req.method, rid, crid), ru
        ctx = Ctx(self, req, info, rid, crid)
        try:
            return self.route(ctx, parts), ru
        except GraphError as e:
            return self.error(e.status, e.code, e.message, rid, crid, e.headers), ru

    def cost(self, req, parts):
        # resource units of the identity service's throttling (reference 1.8)
        if parts[:1] == ["users"] and len(parts) == 1:
            base = 2
        elif len(parts) >= 3 and parts[0] == "groups" and parts[2] == "members":
            base = 3
        elif len(parts) >= 3 and parts[0] == "groups" and parts[2] == "transitiveMembers":
            base = 5
        else:
            base = 1
        if "$select" in req.query:
            base -= 1
        if "$expand" in req.query:
            base += 1
        try:
            if int(req.arg("$top", "100")) < 20:
                base -= 1
        except ValueError:
            pass
        return max(base, 1)

    def state_for(self, info):
        tenants = self.apps.get("tenants", [])
        if not tenants or info["tenant"]["id"] != tenants[0]["id"]:
            return empty_state()
        with self.lock:
            return self.states[self.gen]

    def route(self, c, parts):
        if not parts:
            raise GraphError(400, "BadRequest", "Invalid version.")
        head = parts[0]
        if head == "users":
            c.need(READ_USERS)
            if len(parts) == 1:
                return self.list_objects(c, "users", list(c.state["users"].values()), "#microsoft.graph.user")
            if parts[1] == "$count" and len(parts) == 2:
                return self.count(c, len(c.state["users"]) + int(self.modes.get("count_offset", 0)))
            if parts[1] == "delta" and len(parts) == 2:
                return self.delta(c, "users")
            if len(parts) == 2:
                key = parts[1].lower()
                hit = [u for u in c.state["users"].values()
                       if u["id"].lower() == key or u["userPrincipalName"].lower() == key]
                if not hit:
                    raise not_found(parts[1])
                return self.one(c, hit[0], "#microsoft.graph.user", "users")
        elif head == "groups":
            c.need(READ_GROUPS)
            if len(parts) == 1:
                return self.list_objects(c, "groups", list(c.state["groups"].values()), "#microsoft.graph.group")
            if parts[1] == "$count" and len(parts) == 2:
                return self.count(c, len(c.state["groups"]))
            if parts[1] == "delta" and len(parts) == 2:
                return self.delta(c, "groups")
            group = c.state["groups"].get(parts[1])
            vanished = parts[1] in (self.modes.get("vanished_groups") or [])
            if group is None or (vanished and len(parts) > 2):
                raise not_found(parts[1])
            if len(parts) == 2:
                return self.one(c, group, "#microsoft.graph.group", "groups")
            if parts[2] in ("members", "transitiveMembers") and len(parts) <= 4:
                cast = parts[3] if len(parts) == 4 else None
                if cast is not None and "#" + cast not in TYPE_PROPS:
                    raise segment(cast)
                return self.members(c, group["id"], parts[2] == "transitiveMembers", cast)
        elif head == "directory" and len(parts) == 3 and parts[1] == "deletedItems":
            if parts[2] == "microsoft.graph.user":
                c.need(READ_USERS)
                return self.list_objects(c, "directoryObjects/microsoft.graph.user",
                                         list(c.state["deleted"].values()), "#microsoft.graph.user",
                                         default_extra=["deletedDateTime"])
            if parts[2] == "microsoft.graph.group":
                c.need(READ_GROUPS)
                return self.list_objects(c, "directoryObjects/microsoft.graph.group", [],
                                         "#microsoft.graph.group")
        raise segment(parts[-1])

    # ---- query options ----

    def select(self, c, otype, in_list=True):
        """The $select list in canonical names, or None."""
        raw = c.req.arg("$select")
        if raw is None:
            return None
        names = TYPE_PROPS.get(otype, DIRECTORY_OBJECT_PROPS)
        tname = otype.lstrip("#") if otype else "microsoft.graph.directoryObject"
        out = []
        for w in [x.strip() for x in raw.split(",") if x.strip()]:
            if w == "members" and otype == "#microsoft.graph.group" and c.delta:
                out.append("members")
                continue
            name = canonical(names, w)
            if name is None:
                single = canonical(USER_SINGLE_ONLY, w) if otype in ("#microsoft.graph.user", None) else None
                if single and in_list:
                    raise GraphError(501, "NotImplemented",
                                     "The '%s' property can only be read for a single user, not for a "
                                     "collection." % single)
                if single:
                    out.append(single)
                    continue
                raise GraphError(400, "Request_BadRequest",
                                 "Could not find a property named '%s' on type '%s'." % (w, tname))
            if name not in out:
                out.append(name)
        return out

    def top(self, c):
        raw = c.req.arg("$top")
        if raw is None:
            return DEFAULT_TOP
        try:
            n = int(raw)
        except ValueError:
            n = None
        if n is None or not 1 <= n <= MAX_TOP:
            raise GraphError(400, "Request_UnsupportedQuery",
                             "Invalid page size specified: '%s'. Must be between 1 and 999 inclusive." % raw)
        return n

    def check_options(self, c, allowed):
        for opt in c.req.query:
            if not opt.startswith("$") or opt in allowed:
                continue
            if opt == "$skip":
                raise GraphError(400, "Request_BadRequest", "'$skip' is not supported by the service.")
            if c.delta:
                raise GraphError(400, "Request_UnsupportedQuery",
                                 "The query option '%s' is not supported with delta queries." % opt)
            raise GraphError(400, "Request_UnsupportedQuery",
                             "The query option '%s' is not supported by this test server." % opt)

    def eventual(self, c):
        return c.req.headers.get("consistencylevel", "").strip().lower() == "eventual"

    # ---- projection ----

    @staticmethod
    def project(obj, otype, sel, typed, drop_nulls=False, default_extra=()):
        props = TYPE_PROPS.get(otype, [])
        keys = sel if sel is not None else TYPE_DEFAULT.get(otype, [p for p in props if p != "id"]) + list(default_extra)
        out = {}
        if typed:
            out["@odata.type"] = otype
        out["id"] = obj["id"]
        for k in keys:
            if k == "id" or k not in props:
                continue  # a property another type has is left out of this one
            v = obj.get(k)
            if k == "businessPhones" and v is None:
                v = []
            if v is None and drop_nulls:
                continue
            out[k] = v
        return out

    def context(self, c, what, sel):
        base = "%s/v1.0/$metadata#%s" % (c.origin, what)
        return base + ("(%s)" % ",".join(sel) if sel else "")

    # ---- lists and pages ----

    def list_objects(self, c, what, objs, otype, default_extra=()):
        self.check_options(c, {"$select", "$top", "$skiptoken", "$count"})
        sel = self.select(c, otype)
        top = self.top(c)
        counted = c.req.arg("$count")
        if counted is not None:
            if counted.lower() != "true":
                raise GraphError(400, "Request_BadRequest", "Invalid value for $count: '%s'." % counted)
            if not self.eventual(c):
                raise GraphError(400, "Request_BadRequest", "$count is not currently supported.")
        items = [self.project(o, otype, sel, False, default_extra=default_extra) for o in objs]
        body = {"@odata.context": self.context(c, what, sel)}
        if counted is not None:
            body["@odata.count"] = len(items)
        value, nxt = self.page(c, items, top, self.list_link(c))
        if nxt:
            body["@odata.nextLink"] = nxt
        body["value"] = value
        return odata_reply(body)

    def members(self, c, gid, transitive, cast):
        self.check_options(c, {"$select", "$top", "$skiptoken", "$count"})
        sel = self.select(c, "#" + cast if cast else None)
        top = self.top(c)
        objs = []
        for oid in (self.transitive(c.state, gid) if transitive else c.state["members"].get(gid, [])):
            obj, otype = self.resolve(c.state, oid)
            if obj is None or (cast and otype != "#" + cast):
                continue
            objs.append(self.project(obj, otype, sel, True))
        what = "directoryObjects" + ("/" + cast if cast else "")
        body = {"@odata.context": self.context(c, what, sel)}
        value, nxt = self.page(c, objs, top, self.list_link(c))
        if nxt:
            body["@odata.nextLink"] = nxt
        body["value"] = value
        return odata_reply(body)

    @staticmethod
    def resolve(state, oid):
        if oid in state["users"]:
            return state["users"][oid], "#microsoft.graph.user"
        if oid in state["groups"]:
            return state["groups"][oid], "#microsoft.graph.group"
        o = state["objects"].get(oid)
        if o is not None:
            return o, o.get("@odata.type", "#microsoft.graph.directoryObject")
        return None, None

    @staticmethod
    def transitive(state, gid):
        """Every member reached through nested groups, each once, in order."""
        out, seen, todo = [], {gid}, [gid]
        while todo:
            g = todo.pop(0)
            for m in state["members"].get(g, []):
                if m in seen:
                    continue
                seen.add(m)
                out.append(m)
                if m in state["groups"]:
                    todo.append(m)
        return out

    def one(self, c, obj, otype, what):
        self.check_options(c, {"$select"})
        sel = self.select(c, otype, in_list=False)
        body = {"@odata.context": self.context(c, what + "/$entity", sel)}
        body.update(self.project(obj, otype, sel, False))
        return odata_reply(body)

    def count(self, c, n):
        if not self.eventual(c):
            raise GraphError(400, "Request_BadRequest", "$count is not currently supported.")
        return Reply(200, str(n), {"Content-Type": "text/plain"})

    def list_link(self, c):
        """Links for a plain list: the request's own query options (as sent)
        and a $skiptoken."""
        keep = [p for p in c.req.raw_query.split("&")
                if p and urllib.parse.unquote(p.split("=")[0]) != "$skiptoken"]

        def link(tok):
            tok = dict(tok, p=c.req.path)
            return "%s%s?%s" % (c.origin, c.req.path, "&".join(keep + ["$skiptoken=" + pack(SKIP_PREFIX, tok)]))
        return link

    def page(self, c, items, size, link, tok=None):
        """(this page's items, the next link or None) for a list read with
        $skiptoken tokens {"o": offset, "z": the empty last page}."""
        if self.modes.get("max_page"):
            size = min(size, int(self.modes["max_page"]))
        first = "$skiptoken" not in c.req.query
        if tok is None and not first:
            tok = unpack(SKIP_PREFIX, c.req.arg("$skiptoken"))
            if tok is None or not isinstance(tok.get("o"), int) or tok.get("p", c.req.path) != c.req.path:
                raise GraphError(400, "Request_BadRequest",
                                 "The specified page token value has expired and can no longer be "
                                 "included in your request.")
        off = tok["o"] if tok else 0
        if first and mode_applies(self.modes.get("empty_first_page"), c.req.path):
            value, nxt = [], link({"o": 0})
        else:
            value = items[off:off + size]
            nxt = None
            if off + size < len(items):
                nxt = link({"o": off + size})
            elif items and not (tok or {}).get("z") and mode_applies(self.modes.get("empty_last_page"), c.req.path):
                nxt = link({"o": len(items), "z": 1})
        if not first and mode_applies(self.modes.get("repeat_next_link"), c.req.path):
            nxt = c.own_url  # the link just followed, once more
        if first and nxt and mode_applies(self.modes.get("foreign_next_link"), c.req.path):
            nxt = FOREIGN_HOST + nxt[len(c.origin):]
        return value, nxt

    # ---- delta ----

    def delta(self, c, kind):
        otype = "#microsoft.graph.user" if kind == "users" else "#microsoft.graph.group"
        path = "/v1.0/%s/delta" % kind
        dtok, stok = c.req.arg("$deltatoken"), c.req.arg("$skiptoken")
        if dtok is not None:
            self.check_options(c, {"$deltatoken"})
            if dtok == "latest":
                with self.lock:
                    g = self.gen
                sel = self.select(c, otype) or []
                body = {"@odata.context": self.context(c, kind, sel),
                        "@odata.deltaLink": self.delta_link(c, path, {"k": kind, "g": g, "s": sel}),
                        "value": []}
                return odata_reply(body)
            tok = unpack("", dtok)
            if tok is None or tok.get("k") != kind or not isinstance(tok.get("g"), int):
                raise GraphError(400, "Request_BadRequest", "Invalid delta token.")
            with self.lock:  # the night passes: the next change set shows
                self.gen = max(self.gen, min(tok["g"] + 1, len(self.states) - 1))
                cur = self.gen
            old = now() - float(tok.get("t", now())) > DELTA_TOKEN_DAYS * 86400
            if old or mode_applies(self.modes.get("delta_expired"), c.req.path):
                status = int(self.modes.get("delta_expired_status", 410))
                headers = {}
                if status == 410:
                    fresh = {"k": kind, "f": None, "t": cur, "s": tok.get("s"), "o": 0}
                    headers["Location"] = "%s%s?$skiptoken=%s" % (c.origin, path, pack(SKIP_PREFIX, fresh))
                raise GraphError(status, "syncStateNotFound",
                                 "The sync state was not found or has expired. Start a new delta "
                                 "round without a token.", headers)
            rnd = {"k": kind, "f": tok["g"], "t": cur, "s": tok.get("s"), "o": 0}
        elif stok is not None:
            self.check_options(c, {"$skiptoken"})
            rnd = unpack(SKIP_PREFIX, stok)
            if rnd is None or rnd.get("k") != kind:
                raise GraphError(400, "Request_BadRequest",
                                 "The specified page token value has expired and can no longer be "
                                 "included in your request.")
        else:
            self.check_options(c, {"$select"})
            with self.lock:
                cur = self.gen
            rnd = {"k": kind, "f": None, "t": cur, "s": self.select(c, otype), "o": 0}
        sel = rnd.get("s")
        minimal = "return=minimal" in c.req.headers.get("prefer", "").replace(" ", "").lower()
        entries = self.delta_entries(kind, rnd["f"], rnd["t"], sel, minimal)
        size = int(self.modes.get("delta_page_size", 20))

        def link(t):
            return "%s%s?$skiptoken=%s" % (c.origin, path, pack(SKIP_PREFIX, dict(rnd, **t)))
        value, nxt = self.page(c, entries, size, link, tok=rnd if stok is not None else None)
        body = {"@odata.context": self.context(c, kind, [s for s in (sel or []) if s != "members"])}
        if nxt:
            body["@odata.nextLink"] = nxt
        else:
            body["@odata.deltaLink"] = self.delta_link(c, path, {"k": kind, "g": rnd["t"], "s": sel})
        body["value"] = value
        reply = odata_reply(body)
        if minimal:
            reply.headers["Preference-Applied"] = "return=minimal"
        return reply

    def delta_link(self, c, path, tok):
        tok = dict(tok, t=int(now()))
        return "%s%s?$deltatoken=%s" % (c.origin, path, pack("", tok))

    def delta_entries(self, kind, from_gen, to_gen, sel, minimal):
        new = self.states[to_gen]
        old = self.states[from_gen] if from_gen is not None else None
        if kind == "users":
            return self.user_entries(old, new, sel, minimal)
        return self.group_entries(old, new, sel, minimal)

    def user_entries(self, old, new, sel, minimal):
        otype = "#microsoft.graph.user"
        out = []
        for uid, u in new["users"].items():
            cur = self.project(u, otype, sel, False, drop_nulls=True)
            if old is None:
                out.append(cur)
                continue
            prev_u = old["users"].get(uid)
            prev = self.project(prev_u, otype, sel, False, drop_nulls=True) if prev_u else None
            if prev == cur:
                continue
            if minimal and prev is not None:
                cur = {k: v for k, v in cur.items() if k == "id" or prev.get(k) != v}
            out.append(cur)
        if old is None:
            if self.modes.get("removed_in_first_round"):
                out += [{"id": uid, "@removed": {"reason": "changed"}} for uid in new["deleted"]]
            return out
        for uid in old["users"]:
            if uid not in new["users"]:
                out.append({"id": uid, "@removed": {"reason": "changed" if uid in new["deleted"] else "deleted"}})
        return out

    def group_entries(self, old, new, sel, minimal):
        otype = "#microsoft.graph.group"
        props = [s for s in sel if s != "members"] if sel is not None else None
        with_members = sel is None or "members" in sel
        chunk = int(self.modes.get("delta_members_chunk", 0))
        out = []

        def ref(state, oid, removed=False):
            _, t = self.resolve(state, oid)
            r = {"@odata.type": t or "#microsoft.graph.directoryObject", "id": oid}
            if removed:
                r["@removed"] = {"reason": "deleted"}
            return r

        for gid, g in new["groups"].items():
            cur = self.project(g, otype, props, False, drop_nulls=True)
            mem = new["members"].get(gid, [])
            if old is None:
                deltas = [ref(new, m) for m in mem]
            else:
                prev_g = old["groups"].get(gid)
                prev = self.project(prev_g, otype, props, False, drop_nulls=True) if prev_g else None
                before = old["members"].get(gid, []) if prev_g else []
                deltas = [ref(new, m) for m in mem if m not in before] + \
                         [ref(old, m, True) for m in before if m not in mem]
                if prev == cur and not (with_members and deltas):
                    continue
                if minimal and prev is not None:
                    cur = {k: v for k, v in cur.items() if k == "id" or prev.get(k) != v}
            if not with_members:
                out.append(cur)
                continue
            if chunk <= 0 or len(deltas) <= chunk:
                if deltas or old is None:
                    cur["members@delta"] = deltas
                out.append(cur)
                continue
            cur["members@delta"] = deltas[:chunk]
            out.append(cur)
            for i in range(chunk, len(deltas), chunk):
                out.append({"id": gid, "members@delta": deltas[i:i + chunk]})
        if old is not None:
            for gid in old["groups"]:
                if gid not in new["groups"]:
                    out.append({"id": gid, "@removed": {"reason": "deleted"}})
        return out


class GraphError(Exception):
    def __init__(self, status, code, message, headers=None):
        super().__init__(message)
        self.status, self.code, self.message, self.headers = status, code, message, headers


def not_found(oid):
    return GraphError(404, "Request_ResourceNotFound",
                      "Resource '%s' does not exist or one of its queried reference-property objects "
                      "are not present." % oid)


def segment(name):
    return GraphError(400, "BadRequest", "Resource not found for the segment '%s'." % name)


def odata_reply(body):
    return Reply(200, json.dumps(body, ensure_ascii=False),
                 {"Content-Type": ODATA_JSON, "OData-Version": "4.0"})


class Ctx:
    """One Graph request: who asks, from which host, and what they may read."""

    def __init__(self, graph, req, info, rid, crid):
        self.req, self.info, self.rid, self.crid = req, info, rid, crid
        scheme = graph.modes.get("link_scheme", "http")
        self.origin = "%s://%s" % (scheme, req.headers.get("host", "127.0.0.1"))
        self.own_url = self.origin + req.path + ("?" + req.raw_query if req.raw_query else "")
        self.state = graph.state_for(info)
        self.delta = req.path.rstrip("/").endswith("/delta")

    def need(self, allowed):
        if not (self.info["roles"] & allowed):
            raise GraphError(403, "Authorization_RequestDenied",
                             "Insufficient privileges to complete the operation.")


# what fake_vendor.py --personality graph serves
PERSONALITY = Graph
