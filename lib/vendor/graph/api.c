#include "core/atomic.h"
#include "core/b64.h"
#include "core/clock.h"
#include "core/log.h"
#include "core/strset.h"
#include "core/wordlist.h"
#include "format/snapshot.h"
#include "net/pager.h"
#include "net/url.h"
#include "auth/oauth2.h"
#include "vendor/graph/graph.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---- wire facts ---- */

static const char *const all_streams = "groups,group_members,users,deleted_users";
/* Every user property the roster needs. $select is always sent: without it
 * department, employeeId and accountEnabled are missing. Nothing here 501s
 * in a list, and lastModifiedDateTime does not exist on a user. */
#define USER_FIELDS                                                                    \
	"id,userPrincipalName,mail,givenName,surname,displayName,jobTitle,department,"  \
	"employeeId,employeeType,accountEnabled,userType,createdDateTime,"              \
	"employeeHireDate,employeeLeaveDateTime,companyName,officeLocation"
#define GROUP_FIELDS                                                                   \
	"id,displayName,description,mail,mailEnabled,mailNickname,securityEnabled,"     \
	"groupTypes,createdDateTime"
#define MEMBER_FIELDS "id,userPrincipalName,displayName,mail"
#define USER_TYPE "#microsoft.graph.user"

#define NEED_USERS "User.Read.All"
#define NEED_GROUPS "Group.Read.All (or GroupMember.Read.All)"

#define LINK_CAP (1 << 16)
#define PAGE_CAP ((size_t)256 << 20)

static const char *const id_key[] = {"id", NULL};
static const char *const member_key[] = {"group_id", "id", NULL};
/* what a stored object must not keep from a delta page */
static const char *const delta_skip[] = {"@removed", "members@delta", NULL};

const struct job_key graph_job_keys[] = {
	{"tenant", "--tenant", JK_PLAIN},
	{"client_id", "--client-id", JK_PLAIN},
	{"client_secret", "--client-secret", JK_SECRET},
	{"streams", "--streams", JK_PLAIN},
	{"members", "--members", JK_PLAIN},
	{"delta", "--delta", JK_FLAG},
	{"full_every", "--full-every", JK_INTEGER},
	{NULL, NULL, JK_PLAIN},
};

/* ---- pure helpers ---- */

long graph_aadsts(const char *body, size_t len)
{
	cJSON *j = body && len ? cJSON_ParseWithLength(body, len) : NULL;
	const cJSON *codes = cJSON_GetObjectItemCaseSensitive(j, "error_codes");
	const cJSON *desc = cJSON_GetObjectItemCaseSensitive(j, "error_description");
	const cJSON *first = cJSON_GetArrayItem(codes, 0);
	long n = 0;
	if (cJSON_IsNumber(first) && first->valuedouble > 0)
		n = (long)first->valuedouble;
	else if (cJSON_IsString(desc)) {
		const char *p = strstr(desc->valuestring, "AADSTS");
		if (p && isdigit((unsigned char)p[6]))
			n = strtol(p + 6, NULL, 10);
	}
	cJSON_Delete(j);
	return n;
}

static void add_msg(struct rt_err *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void add_msg(struct rt_err *e, const char *fmt, ...)
{
	size_t l = strlen(e->msg);
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(e->msg + l, sizeof e->msg - l, fmt, ap);
	va_end(ap);
	err_redact_str(e->msg);
}

/* A refusal from the token endpoint, by AADSTS code. */
static void token_hint(struct rt_err *e, long status, long aad, const struct graph_ctx *c)
{
	const char *app = c->client_id ? c->client_id : "?";
	const char *tenant = c->tenant ? c->tenant : "?";
	const char *entry = c->secret_entry ? c->secret_entry : "NAME";
	switch (aad) {
	case 7000215:
		err_hint(e, "the client secret of application %s is wrong, or the secret's ID was "
			    "stored instead of its Value: copy the Value of a client secret (Entra admin "
			    "center > App registrations > the app > Certificates & secrets; make a new one "
			    "if the Value is no longer shown) and store it with `creds set %s`",
			 app, entry);
		return;
	case 7000222:
		err_hint(e, "the client secret of application %s has expired: make a new one in "
			    "Entra admin center > App registrations > the app > Certificates & secrets "
			    "and store its Value with `creds set %s`", app, entry);
		return;
	case 700016:
		err_hint(e, "the client id %s is not an application in tenant %s: check the tenant "
			    "and the Application (client) ID on the app's Overview page (Entra admin "
			    "center > App registrations); an app registered in another tenant must first "
			    "be consented in this one", app, tenant);
		return;
	case 90002:
		err_hint(e, "tenant %s was not found: check the tenant name, the Directory (tenant) "
			    "ID GUID on the Entra admin center's Overview page or a verified domain of "
			    "the tenant (such as district.onmicrosoft.com)", tenant);
		return;
	case 70011:
		err_hint(e, "the token endpoint refused the scope %s: check that --token-url is "
			    "Microsoft's v2.0 endpoint (.../oauth2/v2.0/token)", GRAPH_SCOPE);
		return;
	}
	if (status >= 500)
		err_hint(e, "Microsoft's sign-in service is failing on its side; the run can be "
			    "retried later");
	else
		err_hint(e, "tenant %s refused application %s with the secret in the stored entry "
			    "%s: check the tenant, the Application (client) ID and the secret's Value "
			    "(Entra admin center > App registrations)", tenant, app, entry);
}

/* A Graph error, by error.code and status (never by the message text). */
static void graph_hint(struct rt_err *e, long status, const char *code, const struct graph_ctx *c)
{
	const char *app = c->client_id ? c->client_id : "?";
	if (!strcmp(code, "Authorization_RequestDenied") || (status == 403 && !code[0])) {
		const char *need = c->need ? c->need : NEED_USERS " and " NEED_GROUPS;
		err_hint(e, "application %s lacks the Microsoft Graph application permission %s, or "
			    "it was never consented: Entra admin center > App registrations > the app > "
			    "API permissions > add it as an Application permission, then Grant admin "
			    "consent (Directory.Read.All also covers it); a token got before the consent "
			    "keeps the old permissions", app, need);
	} else if (!strcmp(code, "InvalidAuthenticationToken") || status == 401) {
		err_hint(e, "Graph refused a new access token too: check that --token-url is tenant "
			    "%s's v2.0 token endpoint and that nothing rewrites the Authorization "
			    "header (the token must be for %s)", c->tenant ? c->tenant : "?",
			 GRAPH_SCOPE);
	} else if (status == 410 || !strcmp(code, "syncStateNotFound") ||
		   !strcmp(code, "syncStateInvalid") || !strcmp(code, "resyncRequired")) {
		err_hint(e, "the delta link has expired (they last 7 days): everything is read again");
	} else if (status == 429) {
		err_hint(e, "Graph throttles each application per tenant (resource units per 10 s): "
			    "lower --rate (rate in the job), or run when the tenant is quieter");
	} else if (status == 400 && (!strcmp(code, "Request_UnsupportedQuery") ||
				     !strcmp(code, "Request_BadRequest"))) {
		err_hint(e, "Graph refused the query ($select of a property it does not know, or "
			    "$top outside 1..%d): check that --base-url is Graph's (%s) and "
			    "--page-size", GRAPH_MAX_TOP, GRAPH_BASE_URL);
	} else if (status == 404) {
		err_hint(e, "the object is gone (deleted during the run), or --base-url is not "
			    "Graph's (%s)", GRAPH_BASE_URL);
	} else if (status == 501) {
		err_hint(e, "Graph cannot return a $select-ed property in a list");
	} else if (status >= 500) {
		err_hint(e, "Graph is failing on its side; the run can be retried later");
	}
}

void graph_explain_answer(struct rt_err *e, long status, const char *ct, const char *body,
			  size_t len, const struct graph_ctx *c)
{
	cJSON *j = body && len ? cJSON_ParseWithLength(body, len) : NULL;
	const cJSON *err = cJSON_GetObjectItemCaseSensitive(j, "error");
	if (cJSON_IsString(err)) { /* the token endpoint: RFC 6749 section 5.2 */
		snprintf(e->code, sizeof e->code, "%.90s", err->valuestring);
		token_hint(e, status, graph_aadsts(body, len), c);
	} else if (cJSON_IsObject(err)) { /* Graph: {"error":{"code","message","innerError"}} */
		const cJSON *code = cJSON_GetObjectItemCaseSensitive(err, "code");
		const cJSON *m = cJSON_GetObjectItemCaseSensitive(err, "message");
		if (cJSON_IsString(code))
			snprintf(e->code, sizeof e->code, "%.90s", code->valuestring);
		if (cJSON_IsString(m) && *m->valuestring) {
			size_t n = strcspn(m->valuestring, "\r\n"); /* one line */
			add_msg(e, ": %.*s", (int)(n < 200 ? n : 200), m->valuestring);
		}
		if (c->token)
			token_hint(e, status, 0, c);
		else
			graph_hint(e, status, e->code, c);
	} else {
		int html = (ct && strstr(ct, "html")) ||
			   (body && len && body[strspn(body, " \t\r\n")] == '<');
		add_msg(e, " with %s", !len ? "an empty body" : html ? "an HTML page"
					 : j ? "JSON that is not an error body" : "a body that is not JSON");
		if (status >= 500)
			err_hint(e, "%s is failing on its side; the run can be retried later",
				 c->token ? "Microsoft's sign-in service" : "Graph");
		else if (c->token)
			err_hint(e, "the token endpoint did not answer as Microsoft's does: check "
				    "--token-url (%s)", GRAPH_TOKEN_URL);
		else if (html)
			err_hint(e, "an HTML page comes from a proxy, a sign-in page or a web server "
				    "that is not Graph: check --base-url (%s) and any proxy on the way",
				 GRAPH_BASE_URL);
		else
			graph_hint(e, status, "", c);
	}
	cJSON_Delete(j);
}

int graph_token_url(const char *tmpl, const char *tenant, struct buf *out)
{
	static const char mark[] = "{tenant}";
	int rc = 0;
	buf_reset(out);
	for (const char *p = tmpl; *p && !rc;) {
		const char *q = strstr(p, mark);
		if (!q) {
			rc = buf_adds(out, p);
			break;
		}
		rc = buf_add(out, p, (size_t)(q - p)) || pct_encode(tenant, out);
		p = q + sizeof mark - 1;
	}
	if (!out->data)
		rc |= buf_adds(out, "");
	return rc ? -1 : 0;
}

double graph_iso_time(const char *s)
{
	int y, mo, d, h, mi, se, n = 0;
	if (!s || sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &se, &n) != 6 ||
	    n != 19)
		return -1;
	const char *p = s + n;
	double frac = 0;
	if (*p == '.') {
		char *end;
		frac = strtod(p, &end);
		if (end == p + 1)
			return -1;
		p = end;
	}
	if (strcmp(p, "Z") || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 ||
	    se > 60 || y < 1970)
		return -1;
	struct tm tm = {.tm_year = y - 1900, .tm_mon = mo - 1, .tm_mday = d,
			.tm_hour = h, .tm_min = mi, .tm_sec = se};
	return (double)timegm(&tm) + frac;
}

int graph_full_due(const char *last_full, int days, double now)
{
	if (days <= 0)
		return 0;
	double t = graph_iso_time(last_full);
	/* an hour of slack: a nightly run a few seconds earlier than last week's
	 * must not push the full read to the next night */
	return t < 0 || now - t >= days * 86400.0 - 3600;
}

void graph_kinds_add(struct graph_kinds *k, const char *type)
{
	static const char prefix[] = "#microsoft.graph.";
	const char *name = !type ? "" : !strncmp(type, prefix, sizeof prefix - 1)
			 ? type + sizeof prefix - 1 : type + (*type == '#');
	k->total++;
	for (int i = 0; i < k->n; i++)
		if (!strcmp(k->k[i].name, name)) {
			k->k[i].count++;
			return;
		}
	if (k->n == GRAPH_KINDS) {
		k->other++;
		return;
	}
	snprintf(k->k[k->n].name, sizeof k->k[k->n].name, "%s", name);
	k->k[k->n++].count = 1;
}

void graph_kinds_note(const struct graph_kinds *k, char *out, size_t n)
{
	size_t l;
	if (!n)
		return;
	out[0] = 0;
	if (!k->total)
		return;
	snprintf(out, n, k->total == 1 ? "%ld member that is not a user was not kept: "
				       : "%ld members that are not users were not kept: ", k->total);
	for (int i = 0; i < k->n; i++) {
		l = strlen(out);
		if (k->k[i].name[0])
			snprintf(out + l, n - l, "%s%ld %s%s", i ? ", " : "", k->k[i].count,
				 k->k[i].name, k->k[i].count == 1 ? "" : "s");
		else
			snprintf(out + l, n - l, "%s%ld without @odata.type", i ? ", " : "",
				 k->k[i].count);
	}
	l = strlen(out);
	if (k->other)
		snprintf(out + l, n - l, "%s%ld of other types", k->n ? ", " : "", k->other);
}

/* ---- the run ---- */

/* One collection read with /delta: its link and how this run read it. */
struct part {
	const char *name;     /* "users", "groups" */
	const char *bookmark; /* STATE key of its delta link */
	const char *hkey;     /* snapshot header key */
	const char *old_link; /* last run's link, when it matches the snapshot (last_state's) */
	struct buf new_link;
	int state;            /* 1 read, -1 failed, 0 not read yet */
	int full;             /* read from scratch */
	int reconciled;       /* from scratch because the link had expired */
	long changed, removed;
	struct rt_err err;    /* why it failed: both group streams report it */
};

enum { SET_USERS, SET_GROUPS, SET_MEMBERS, NSETS };

struct graph {
	struct extract_run *run;
	const struct extract_opts *o;
	const struct graph_opts *go;
	struct graph_ctx ctx;
	struct buf base;      /* "https://graph.microsoft.com/v1.0" */
	struct buf origin;    /* the base's origin: links must stay on it */
	struct buf token_url;
	struct buf auth;      /* "Authorization: Bearer ..."; wiped when replaced and at the end */
	double expires_at;    /* the token's, 0 when unknown */
	double issued_at;     /* when the token was got */
	int token_fresh;      /* got and not used yet: never renewed before one use */
	int token_failed;     /* the last graph_get failed getting a token, not on its URL */
	int top;
	long pages, items;    /* the current stream's, for progress lines */
	/* group ids of a complete groups stream, for the members stream */
	char **gids;
	size_t ngids, capgids;
	int groups_complete;
	struct graph_kinds kinds;
	long groups_gone;
	/* delta */
	struct snapshot_set sets[NSETS];
	cJSON *header; /* the snapshot's, or NULL */
	struct part users, groups;
	int full_due;
	int delta_failed;
};

typedef int (*item_fn)(struct graph *g, cJSON *item, void *ud, struct rt_err *e);

static void note(struct graph *g, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void note(struct graph *g, const char *fmt, ...)
{
	struct extract_stream *s = g->run->cur;
	if (!s)
		return;
	va_list ap;
	va_start(ap, fmt);
	extract_note_vadd(s->note, sizeof s->note, fmt, ap);
	va_end(ap);
}

static void explain(struct rt_err *e, const struct http_resp *r, void *ud)
{
	struct graph *g = ud;
	if (r->transport_error) /* fetch.c's hint says what to check */
		return;
	graph_explain_answer(e, r->status, http_resp_header(r, "Content-Type"), r->body.data,
			     r->body.len, &g->ctx);
	const char *scope = http_resp_header(r, "x-ms-throttle-scope");
	if (r->status == 429 && scope)
		add_msg(e, " (throttle scope %.120s)", scope);
}

/* ---- token ---- */

static int get_token(struct graph *g, struct rt_err *e)
{
	struct oauth2_token t;
	oauth2_token_init(&t);
	g->ctx.token = 1;
	int rc = oauth2_client_credentials_form(g->run->src, g->token_url.data, g->go->client_id,
						g->go->client_secret, GRAPH_SCOPE, &t, e);
	g->ctx.token = 0;
	if (rc) {
		/* the tenant, app or secret was refused: configuration, not an outage */
		if (e->status == 400 || e->status == 401)
			e->kind = ERR_AUTH;
		err_where(e, g->run->source, NULL);
		g->token_failed = 1;
	} else {
		buf_wipe(&g->auth);
		buf_init(&g->auth, 64 * 1024);
		if (buf_printf(&g->auth, "Authorization: Bearer %s", t.access_token.data)) {
			err_set(e, ERR_AUTH, "the access token is too long for a header");
			err_where(e, g->run->source, NULL);
			rc = -1;
		}
		g->expires_at = t.expires_at;
		g->issued_at = clk_now();
		g->token_fresh = 1;
		/* oauth2.c registered the new token for masking; the secret again,
		 * so that it stays among the values masked however many tokens a
		 * long run gets */
		err_redact_add(g->go->client_secret);
	}
	oauth2_token_free(&t);
	return rc;
}

int graph_token_due(double issued_at, double expires_at, double now)
{
	if (expires_at <= 0)
		return 0;
	double margin = (expires_at - issued_at) / 2;
	if (margin > GRAPH_REFRESH_BEFORE)
		margin = GRAPH_REFRESH_BEFORE;
	if (margin < 0)
		margin = 0;
	return now >= expires_at - margin;
}

static int token_due(const struct graph *g)
{
	return !g->auth.len ||
	       (!g->token_fresh && graph_token_due(g->issued_at, g->expires_at, clk_now()));
}

/* GET with the token: a token about to expire is renewed first, and a 401
 * InvalidAuthenticationToken gets one new token and this request once more,
 * within the page's budget of requests (policy.max_attempts in all). When it
 * fails getting a token, g->token_failed says so: e is then the token
 * endpoint's error, not url's. */
static int graph_get(struct graph *g, const char *url, const char *accept, const char *extra,
		     struct http_resp *r, struct rt_err *e)
{
	struct source *src = g->run->src;
	int max = src->policy.max_attempts > 0 ? src->policy.max_attempts : 1;
	long used = 0;
	g->token_failed = 0;
	if (token_due(g)) {
		if (g->auth.len)
			log_info("graph: the access token expires in %.0f s: getting a new one",
				 g->expires_at - clk_now());
		if (get_token(g, e))
			return -1;
	}
	for (int again = 0;; again = 1) {
		const char *hdr[] = {g->auth.data, accept, extra, NULL};
		struct fetch_req q = {.method = "GET", .url = url, .headers = hdr};
		int saved = src->policy.max_attempts;
		long before = src->stats.requests;
		/* after a new token, only what is left of the page's requests */
		src->policy.max_attempts = max - (int)used;
		int rc = source_fetch(src, &q, r, e);
		src->policy.max_attempts = saved;
		used += src->stats.requests - before;
		g->token_fresh = 0;
		if (!rc)
			return 0;
		if (again || e->status != 401 ||
		    (e->code[0] && strcmp(e->code, "InvalidAuthenticationToken")))
			return -1;
		if (used >= max) {
			/* no request left for this page to try a new token with */
			err_hint(e, "Graph refused the access token on the last of the %d requests a "
				    "page may make, after failures on the others; the run can be "
				    "retried", max);
			return -1;
		}
		log_warn("graph: %s: Graph refused the access token (%s); getting a new one and "
			 "asking once more", e->endpoint,
			 e->code[0] ? e->code : "401");
		if (get_token(g, e))
			return -1;
	}
}

/* ---- pages ---- */

static int emit(struct graph *g, const cJSON *obj, struct rt_err *e)
{
	char *txt = cJSON_PrintUnformatted(obj);
	int w = txt ? extract_record(g->run, txt, strlen(txt)) : -1;
	free(txt);
	if (w)
		err_set(e, ERR_IO, "writing the output failed");
	return w;
}

static const char *id_of(const cJSON *obj)
{
	const cJSON *id = cJSON_GetObjectItemCaseSensitive(obj, "id");
	return cJSON_IsString(id) && *id->valuestring ? id->valuestring : NULL;
}

static int no_id(struct rt_err *e)
{
	err_set(e, ERR_DATA, "an object in the page's value has no id");
	err_hint(e, "Graph always returns id; check that --base-url is Graph's (%s)",
		 GRAPH_BASE_URL);
	return -1;
}

static int same_origin(const struct graph *g, const char *link)
{
	struct buf o;
	buf_init(&o, LINK_CAP);
	int same = !url_origin(link, &o) && !strcmp(o.data, g->origin.data);
	buf_free(&o);
	return same;
}

/* A 200 whose body is not a Graph collection. */
static void bad_page(struct graph *g, const struct http_resp *r, const cJSON *j,
		     const char *endpoint, struct rt_err *e)
{
	const char *ct = http_resp_header(r, "Content-Type");
	const char *b = r->body.data ? r->body.data : "";
	char c = b[strspn(b, " \t\r\n")];
	err_clear(e);
	err_where(e, g->run->source, endpoint);
	e->status = (int)r->status;
	if (j) {
		err_set(e, ERR_DATA, "expected a Graph collection (a value array), got other JSON "
				     "(%zu bytes)", r->body.len);
		err_hint(e, "check that --base-url is Graph's (%s)", GRAPH_BASE_URL);
	} else if ((ct && strstr(ct, "html")) || c == '<') {
		err_set(e, ERR_DATA, "expected Graph's JSON, got an HTML page (%zu bytes)",
			r->body.len);
		err_hint(e, "an HTML page comes from a proxy, a sign-in page or a web server that "
			    "is not Graph: check --base-url (%s) and any proxy on the way",
			 GRAPH_BASE_URL);
	} else if (c == '{' || c == '[') {
		err_set(e, ERR_DATA, "the page is cut short or damaged: its JSON does not parse "
				     "(%zu bytes)", r->body.len);
		err_hint(e, "the answer ended early (a proxy or a dropped connection); the "
			    "records of earlier pages are kept, the stream is not marked complete; "
			    "the run can be retried");
	} else {
		err_set(e, ERR_DATA, "expected Graph's JSON, got %s (%zu bytes%s%.60s)",
			r->body.len ? "a body that is not JSON" : "an empty body", r->body.len,
			ct ? ", " : "", ct ? ct : "");
		err_hint(e, "check that --base-url is Graph's (%s)", GRAPH_BASE_URL);
	}
}

static void progress(struct graph *g)
{
	if (g->pages % 20 == 0) /* progress for long runs */
		log_info("graph: %s: %ld pages read, %ld objects so far", g->run->cur->name,
			 g->pages, g->items);
}

/* Reads one page: each element of value to fn, the next link (or, on the
 * last page of a delta round, the deltaLink) out. */
static int read_page(struct graph *g, const char *url, struct http_resp *r, item_fn fn, void *ud,
		     struct buf *next, struct buf *delta_link, struct rt_err *e)
{
	if (graph_get(g, url, "Accept: application/json", NULL, r, e))
		return -1;
	char endpoint[256];
	source_endpoint("GET", url, endpoint, sizeof endpoint);
	cJSON *j = cJSON_ParseWithLength(r->body.data ? r->body.data : "", r->body.len);
	cJSON *value = cJSON_GetObjectItemCaseSensitive(j, "value"), *item;
	int rc = -1;
	if (!cJSON_IsArray(value)) {
		bad_page(g, r, j, endpoint, e);
		goto out;
	}
	/* the whole page parsed before any record goes out: a damaged page
	 * adds nothing */
	cJSON_ArrayForEach(item, value) {
		err_clear(e);
		if (!cJSON_IsObject(item)) {
			err_set(e, ERR_DATA, "an element of the page's value is not an object");
		} else if (!id_of(item)) {
			no_id(e);
		} else {
			g->items++;
			if (!fn(g, item, ud, e))
				continue;
		}
		err_where(e, g->run->source, endpoint);
		goto out;
	}
	const cJSON *nl = cJSON_GetObjectItemCaseSensitive(j, "@odata.nextLink");
	const cJSON *dl = cJSON_GetObjectItemCaseSensitive(j, "@odata.deltaLink");
	err_clear(e);
	if (nl) {
		if (!cJSON_IsString(nl) || !*nl->valuestring || buf_adds(next, nl->valuestring))
			err_set(e, ERR_PAGING, "the page's @odata.nextLink is not a usable link");
	} else if (delta_link) {
		if (!cJSON_IsString(dl) || !*dl->valuestring)
			err_set(e, ERR_PAGING, "the last page of a delta round has no @odata.deltaLink");
		else if (!same_origin(g, dl->valuestring))
			err_set(e, ERR_PAGING, "refused an @odata.deltaLink to another host (%.200s)",
				dl->valuestring);
		else if (buf_adds(delta_link, dl->valuestring))
			err_set(e, ERR_PAGING, "the @odata.deltaLink is too long");
	}
	if (e->kind) {
		err_where(e, g->run->source, endpoint);
		err_hint(e, "Graph's paging links are not what Graph documents: the stream is not "
			    "marked complete (records already written are kept)");
		goto out;
	}
	rc = 0;
out:
	cJSON_Delete(j);
	return rc;
}

/* Reads every page from first, following @odata.nextLink exactly as
 * received under the pager's guards (loop, other host, page cap). With
 * delta_link, the round's final deltaLink is copied there. */
static int read_list(struct graph *g, const char *first, item_fn fn, void *ud,
		     struct buf *delta_link, struct rt_err *e)
{
	struct buf url, next;
	struct pager pg;
	struct http_resp r;
	int rc;
	buf_init(&url, LINK_CAP);
	buf_init(&next, LINK_CAP);
	http_resp_init(&r, PAGE_CAP);
	buf_adds(&url, first);
	pager_init(&pg, first, g->o->max_pages);
	for (;;) {
		buf_reset(&next);
		if ((rc = read_page(g, url.data, &r, fn, ud, &next, delta_link, e)))
			break;
		g->pages++;
		progress(g);
		if (!next.len)
			break;
		if ((rc = pager_next(&pg, next.data, e))) {
			char endpoint[256];
			source_endpoint("GET", url.data, endpoint, sizeof endpoint);
			err_where(e, g->run->source, endpoint);
			break;
		}
		struct buf t = url;
		url = next;
		next = t;
	}
	http_resp_free(&r);
	pager_free(&pg);
	buf_free(&url);
	buf_free(&next);
	return rc;
}

/* ---- plain lists ---- */

static int emit_item(struct graph *g, cJSON *item, void *ud, struct rt_err *e)
{
	(void)ud;
	return emit(g, item, e);
}

static int keep_gid(struct graph *g, cJSON *item, void *ud, struct rt_err *e)
{
	(void)ud;
	if (g->ngids == g->capgids) {
		size_t cap = g->capgids ? g->capgids * 2 : 256;
		char **n = realloc(g->gids, cap * sizeof *n);
		if (!n)
			goto oom;
		g->gids = n;
		g->capgids = cap;
	}
	if (!(g->gids[g->ngids] = strdup(id_of(item))))
		goto oom;
	g->ngids++;
	return 0;
oom:
	err_set(e, ERR_IO, "out of memory recording the groups read");
	return -1;
}

static int emit_group(struct graph *g, cJSON *item, void *ud, struct rt_err *e)
{
	return keep_gid(g, item, ud, e) || emit(g, item, e) ? -1 : 0;
}

static void drop_gids(struct graph *g)
{
	for (size_t i = 0; i < g->ngids; i++)
		free(g->gids[i]);
	g->ngids = 0;
}

static const char *type_of(const cJSON *obj)
{
	const cJSON *t = cJSON_GetObjectItemCaseSensitive(obj, "@odata.type");
	return cJSON_IsString(t) ? t->valuestring : NULL;
}

/* A user member as Graph sent it plus its group's id; the others counted. */
static int emit_member(struct graph *g, const cJSON *m, const char *gid, struct rt_err *e)
{
	const char *type = type_of(m);
	if (!type || strcmp(type, USER_TYPE)) {
		graph_kinds_add(&g->kinds, type);
		return 0;
	}
	cJSON *dup = cJSON_Duplicate(m, 1);
	if (!dup || !cJSON_AddStringToObject(dup, "group_id", gid)) {
		cJSON_Delete(dup);
		err_set(e, ERR_IO, "out of memory");
		return -1;
	}
	int rc = emit(g, dup, e);
	cJSON_Delete(dup);
	return rc;
}

static int member_item(struct graph *g, cJSON *item, void *ud, struct rt_err *e)
{
	return emit_member(g, item, ud, e);
}

static void url_list(struct graph *g, struct buf *u, const char *path, const char *select)
{
	buf_reset(u);
	buf_printf(u, "%s/%s?$select=%s&$top=%d", g->base.data, path, select, g->top);
}

static void stream_begin(struct graph *g, const char *name, const char *const *keys,
			 const char *need)
{
	extract_stream_begin(g->run, name, keys);
	g->ctx.need = need;
	g->pages = g->items = 0;
}

static void stream_end(struct graph *g, const struct rt_err *e)
{
	g->ctx.need = NULL;
	extract_stream_end(g->run, e);
}

/* A members list that failed because its group is gone: Graph's 404
 * Request_ResourceNotFound on that group's own members URL (endpoint), not
 * on the token endpoint while renewing the token for it. */
static int group_gone(const struct graph *g, const struct rt_err *e, const char *endpoint)
{
	return !g->token_failed && e->status == 404 &&
	       !strcmp(e->code, "Request_ResourceNotFound") && !strcmp(e->endpoint, endpoint);
}

/* Members of every group: the ids of this run's groups stream, or a list
 * of ids when that stream was not read whole. */
static int read_members(struct graph *g, struct rt_err *e)
{
	struct buf u;
	int rc = 0;
	buf_init(&u, LINK_CAP);
	if (!g->groups_complete) {
		drop_gids(g);
		url_list(g, &u, "groups", "id");
		rc = read_list(g, u.data, keep_gid, NULL, NULL, e);
	}
	const char *rel = g->go->members && !strcmp(g->go->members, "transitive")
			? "transitiveMembers" : "members";
	for (size_t i = 0; !rc && i < g->ngids; i++) {
		struct buf path;
		buf_init(&path, LINK_CAP);
		buf_adds(&path, "groups/");
		pct_encode(g->gids[i], &path);
		buf_printf(&path, "/%s", rel);
		url_list(g, &u, path.data, MEMBER_FIELDS);
		buf_free(&path);
		char endpoint[sizeof e->endpoint];
		source_endpoint("GET", u.data, endpoint, sizeof endpoint);
		rc = read_list(g, u.data, member_item, g->gids[i], NULL, e);
		if (rc && group_gone(g, e, endpoint)) {
			/* deleted between the list and this call: it has no members now */
			log_warn("graph: group %s was deleted during the run; its members are not read",
				 g->gids[i]);
			g->groups_gone++;
			rc = 0;
		}
	}
	if (!rc && g->ngids > 1 && (size_t)g->groups_gone == g->ngids) {
		/* groups just listed do not all vanish in a few seconds: an empty
		 * but complete stream would erase every membership downstream */
		err_clear(e);
		err_set(e, ERR_HTTP, "every one of the %zu groups listed answered 404 "
				     "Request_ResourceNotFound for its %s", g->ngids, rel);
		err_where(e, g->run->source, NULL);
		e->status = 404;
		snprintf(e->code, sizeof e->code, "Request_ResourceNotFound");
		err_hint(e, "groups just listed are not all deleted seconds later: check that "
			    "--base-url is Graph's (%s) and any proxy on the way; the members stream "
			    "is not marked complete", GRAPH_BASE_URL);
		g->groups_gone = 0; /* the error says it; no note of deleted groups */
		rc = -1;
	}
	buf_free(&u);
	return rc;
}

static void kinds_note(struct graph *g)
{
	char text[400];
	graph_kinds_note(&g->kinds, text, sizeof text);
	if (text[0]) {
		note(g, "%s", text);
		log_info("graph: %s", text);
	}
	if (g->groups_gone)
		note(g, "%ld group%s deleted during the run", g->groups_gone,
		     g->groups_gone == 1 ? " was" : "s were");
}

/* GET /users/$count (an advanced query: ConsistencyLevel: eventual, here
 * only) against the users read. A difference is a warning, not a failure:
 * the count is eventually consistent. */
static void check_count(struct graph *g, long read)
{
	struct buf u;
	struct http_resp r;
	struct rt_err e;
	buf_init(&u, LINK_CAP);
	http_resp_init(&r, 1 << 20);
	buf_printf(&u, "%s/users/$count", g->base.data);
	err_clear(&e);
	if (graph_get(g, u.data, "Accept: text/plain", "ConsistencyLevel: eventual", &r, &e)) {
		char line[1024];
		err_format(&e, line, sizeof line);
		log_warn("graph: the user count could not be checked: %s", line);
		note(g, "the user count could not be checked (%d %s)", e.status, e.code);
	} else {
		const char *b = r.body.data ? r.body.data : "";
		if (!strncmp(b, "\xef\xbb\xbf", 3))
			b += 3;
		b += strspn(b, " \t\r\n");
		char *end;
		long long n = isdigit((unsigned char)*b) ? strtoll(b, &end, 10) : -1;
		if (n >= 0 && end[strspn(end, " \t\r\n")])
			n = -1;
		struct pager pg = {.pages = (int)g->pages};
		if (n < 0) {
			log_warn("graph: GET /v1.0/users/$count did not answer a number");
			note(g, "the user count could not be checked: /users/$count did not answer "
				"a number");
		} else if (pager_check_total(&pg, n, read, &e)) {
			log_warn("graph: /users/$count: %s; the count is eventually consistent "
				 "(users created or deleted in the last minutes may explain it)", e.msg);
			note(g, "/users/$count: %s (the count is eventually consistent)", e.msg);
		}
	}
	http_resp_free(&r);
	buf_free(&u);
}

static void plain_groups(struct graph *g)
{
	struct rt_err e;
	struct buf u;
	buf_init(&u, LINK_CAP);
	err_clear(&e);
	stream_begin(g, "graph_groups", id_key, NEED_GROUPS);
	drop_gids(g);
	url_list(g, &u, "groups", GROUP_FIELDS);
	int rc = read_list(g, u.data, emit_group, NULL, NULL, &e);
	g->groups_complete = rc == 0;
	stream_end(g, rc ? &e : NULL);
	buf_free(&u);
}

static void plain_members(struct graph *g)
{
	struct rt_err e;
	err_clear(&e);
	stream_begin(g, "graph_group_members", member_key, NEED_GROUPS);
	memset(&g->kinds, 0, sizeof g->kinds);
	g->groups_gone = 0;
	int rc = read_members(g, &e);
	kinds_note(g);
	stream_end(g, rc ? &e : NULL);
}

static void plain_users(struct graph *g)
{
	struct rt_err e;
	struct buf u;
	buf_init(&u, LINK_CAP);
	err_clear(&e);
	stream_begin(g, "graph_users", id_key, NEED_USERS);
	url_list(g, &u, "users", USER_FIELDS);
	int rc = read_list(g, u.data, emit_item, NULL, NULL, &e);
	if (!rc)
		check_count(g, g->run->cur->records);
	stream_end(g, rc ? &e : NULL);
	buf_free(&u);
}

static void deleted_users(struct graph *g)
{
	struct rt_err e;
	struct buf u;
	buf_init(&u, LINK_CAP);
	err_clear(&e);
	stream_begin(g, "graph_deleted_users", id_key, NEED_USERS);
	url_list(g, &u, "directory/deletedItems/microsoft.graph.user",
		 USER_FIELDS ",deletedDateTime");
	int rc = read_list(g, u.data, emit_item, NULL, NULL, &e);
	stream_end(g, rc ? &e : NULL);
	buf_free(&u);
}

/* ---- delta ---- */

static int oom(struct rt_err *e)
{
	err_set(e, ERR_IO, "out of memory applying the changes");
	return -1;
}

static int apply_user(struct graph *g, cJSON *item, void *ud, struct rt_err *e)
{
	struct part *p = ud;
	const char *id = id_of(item);
	if (cJSON_GetObjectItemCaseSensitive(item, "@removed")) {
		p->removed += snapmap_remove(&g->sets[SET_USERS].map, id);
		return 0;
	}
	p->changed++;
	return snapmap_merge(&g->sets[SET_USERS].map, id, item, delta_skip) ? oom(e) : 0;
}

static int member_keyname(struct buf *k, const char *gid, const char *mid)
{
	buf_reset(k);
	return buf_adds(k, gid) || buf_addc(k, '\t') || buf_adds(k, mid);
}

static int apply_group(struct graph *g, cJSON *item, void *ud, struct rt_err *e)
{
	struct part *p = ud;
	const char *gid = id_of(item);
	struct snapmap *members = &g->sets[SET_MEMBERS].map;
	struct buf k;
	int rc = 0;
	buf_init(&k, LINK_CAP);
	if (cJSON_GetObjectItemCaseSensitive(item, "@removed")) {
		p->removed += snapmap_remove(&g->sets[SET_GROUPS].map, gid);
		member_keyname(&k, gid, "");
		snapmap_remove_prefix(members, k.data);
		buf_free(&k);
		return 0;
	}
	p->changed++;
	if (snapmap_merge(&g->sets[SET_GROUPS].map, gid, item, delta_skip)) {
		buf_free(&k);
		return oom(e);
	}
	const cJSON *md = cJSON_GetObjectItemCaseSensitive(item, "members@delta"), *m;
	cJSON_ArrayForEach(m, md) {
		const char *mid = id_of(m), *type = type_of(m);
		if (!mid || member_keyname(&k, gid, mid)) {
			err_set(e, ERR_DATA, "a members@delta entry of group %s has no usable id", gid);
			rc = -1;
			break;
		}
		if (cJSON_GetObjectItemCaseSensitive(m, "@removed")) {
			snapmap_remove(members, k.data);
			continue;
		}
		/* what Graph says of a member in a delta round: its type and id */
		cJSON *o = cJSON_CreateObject();
		if (!o || (type && !cJSON_AddStringToObject(o, "@odata.type", type)) ||
		    !cJSON_AddStringToObject(o, "id", mid) || snapmap_put(members, k.data, o)) {
			rc = oom(e);
			break;
		}
	}
	buf_free(&k);
	return rc;
}

static void clear_part(struct graph *g, struct part *p)
{
	if (p == &g->users) {
		snapmap_clear(&g->sets[SET_USERS].map);
	} else {
		snapmap_clear(&g->sets[SET_GROUPS].map);
		snapmap_clear(&g->sets[SET_MEMBERS].map);
	}
	p->changed = p->removed = 0;
}

static int link_expired(const struct rt_err *e)
{
	return e->status == 410 ||
	       (e->status >= 400 && e->status < 500 &&
		(!strcmp(e->code, "syncStateNotFound") || !strcmp(e->code, "syncStateInvalid") ||
		 !strcmp(e->code, "resyncRequired")));
}

/* One delta round: from the stored link, or from scratch when a full read
 * is due, there is no usable link, or the link has expired. */
static int delta_round(struct graph *g, struct part *p, struct rt_err *e)
{
	struct buf first;
	int incremental = p->old_link && !g->full_due, rc;
	buf_init(&first, LINK_CAP);
	if (p == &g->users)
		buf_printf(&first, "%s/users/delta?$select=%s", g->base.data, USER_FIELDS);
	else
		buf_printf(&first, "%s/groups/delta?$select=%s,members", g->base.data, GROUP_FIELDS);
	item_fn fn = p == &g->users ? apply_user : apply_group;
	if (!incremental)
		clear_part(g, p);
	p->full = !incremental;
	log_info("graph: %s: %s", g->run->cur->name,
		 incremental ? "reading the changes since the last run (delta link)"
			     : "reading everything (a new delta round)");
	for (;;) {
		buf_reset(&p->new_link);
		rc = read_list(g, incremental ? p->old_link : first.data, fn, p, &p->new_link, e);
		if (!rc || !incremental || !link_expired(e))
			break;
		log_warn("graph: the %s delta link has expired (%d%s%s): reading all %s again "
			 "(full reconcile)", p->name, e->status, e->code[0] ? " " : "", e->code, p->name);
		clear_part(g, p);
		incremental = 0;
		p->full = p->reconciled = 1;
	}
	if (!rc && !p->full)
		log_info("graph: %s: %ld changed and %ld removed since the last run", p->name,
			 p->changed, p->removed);
	buf_free(&first);
	return rc;
}

/* Runs the part's round once; both group streams share the outcome. */
static int delta_part(struct graph *g, struct part *p, struct rt_err *e)
{
	if (!p->state) {
		err_clear(&p->err);
		p->state = delta_round(g, p, &p->err) ? -1 : 1;
	}
	if (p->state < 0) {
		*e = p->err;
		return -1;
	}
	if (p->reconciled)
		note(g, "delta link expired: full reconcile");
	return 0;
}

static int emit_set(struct graph *g, int set, struct rt_err *e)
{
	struct snapmap *m = &g->sets[set].map;
	size_t n;
	const char **keys = snapmap_keys(m, &n);
	int rc = 0;
	if (n == (size_t)-1)
		return oom(e);
	for (size_t i = 0; !rc && i < n; i++)
		rc = emit(g, snapmap_get(m, keys[i]), e);
	free(keys);
	return rc;
}

/* The members of one group, as keys[from..to) "gid\tmid" of the members set. */
struct range {
	const char *gid;
	size_t gl, from, to;
};

static int by_gid(const void *a, const void *b)
{
	const struct range *x = a, *y = b;
	size_t l = x->gl < y->gl ? x->gl : y->gl;
	int c = memcmp(x->gid, y->gid, l);
	return c ? c : (x->gl > y->gl) - (x->gl < y->gl);
}

/* transitiveMembers from the direct sets: every object reachable through
 * nested groups, each once per group (Graph lists the nested groups too). */
static int flatten(struct graph *g, const char *root, const char **keys, const struct range *idx,
		   size_t nidx, struct rt_err *e)
{
	struct strset seen;
	const char **stack = NULL;
	size_t sp = 0, cap = 0;
	int rc = 0;
	strset_init(&seen);
	if (strset_add(&seen, root) < 0)
		return oom(e);
	stack = malloc(16 * sizeof *stack);
	if (!stack) {
		strset_free(&seen);
		return oom(e);
	}
	cap = 16;
	stack[sp++] = root;
	while (!rc && sp) {
		const char *gid = stack[--sp];
		struct range want = {gid, strlen(gid), 0, 0};
		const struct range *r = bsearch(&want, idx, nidx, sizeof *idx, by_gid);
		for (size_t i = r ? r->from : 0; !rc && r && i < r->to; i++) {
			const cJSON *m = snapmap_get(&g->sets[SET_MEMBERS].map, keys[i]);
			const char *mid = keys[i] + r->gl + 1, *type = type_of(m);
			int had = strset_add(&seen, mid);
			if (had) {
				rc = had < 0 ? oom(e) : 0;
				continue;
			}
			rc = emit_member(g, m, root, e);
			if (!rc && type && !strcmp(type, "#microsoft.graph.group")) {
				if (sp == cap) {
					const char **n = realloc(stack, 2 * cap * sizeof *n);
					if (!n) {
						rc = oom(e);
						break;
					}
					stack = n;
					cap *= 2;
				}
				stack[sp++] = mid;
			}
		}
	}
	free(stack);
	strset_free(&seen);
	return rc;
}

static int emit_members(struct graph *g, struct rt_err *e)
{
	struct snapmap *mm = &g->sets[SET_MEMBERS].map;
	size_t n, nidx = 0;
	const char **keys = snapmap_keys(mm, &n);
	struct range *idx = NULL;
	int rc = 0;
	if (n == (size_t)-1)
		return oom(e);
	if (n && !(idx = malloc(n * sizeof *idx))) {
		free(keys);
		return oom(e);
	}
	for (size_t i = 0; i < n; i++) {
		size_t gl = strcspn(keys[i], "\t");
		if (nidx && idx[nidx - 1].gl == gl && !memcmp(idx[nidx - 1].gid, keys[i], gl)) {
			idx[nidx - 1].to = i + 1;
			continue;
		}
		idx[nidx++] = (struct range){keys[i], gl, i, i + 1};
	}
	int transitive = g->go->members && !strcmp(g->go->members, "transitive");
	if (transitive) {
		size_t ng;
		const char **gk = snapmap_keys(&g->sets[SET_GROUPS].map, &ng);
		if (ng == (size_t)-1)
			rc = oom(e);
		for (size_t i = 0; !rc && i < ng; i++)
			rc = flatten(g, gk[i], keys, idx, nidx, e);
		free(gk);
	} else {
		for (size_t r = 0; !rc && r < nidx; r++) {
			char *gid = strndup(idx[r].gid, idx[r].gl);
			if (!gid) {
				rc = oom(e);
				break;
			}
			/* else a group no longer there */
			if (snapmap_get(&g->sets[SET_GROUPS].map, gid))
				for (size_t i = idx[r].from; !rc && i < idx[r].to; i++)
					rc = emit_member(g, snapmap_get(mm, keys[i]), gid, e);
			free(gid);
		}
	}
	free(idx);
	free(keys);
	return rc;
}

/* Saves the snapshot and moves the bookmarks on, once every delta stream of
 * the run is complete; otherwise last run's links and snapshot stay. */
static void delta_finish(struct graph *g, int failed)
{
	if (failed || g->delta_failed) {
		log_warn("graph: a delta stream failed: the snapshot is kept as it was and the next "
			 "run starts again from the last run's delta links");
		return;
	}
	struct part *parts[2] = {&g->users, &g->groups};
	cJSON *h = cJSON_CreateObject();
	char now[40];
	int all_full = 1;
	clk_iso8601(clk_now(), now, sizeof now);
	cJSON_AddNumberToObject(h, "graph_snapshot", 1);
	for (int i = 0; i < 2; i++) {
		struct part *p = parts[i];
		const cJSON *old = cJSON_GetObjectItemCaseSensitive(g->header, p->hkey);
		if (p->state > 0)
			cJSON_AddStringToObject(h, p->hkey, p->new_link.data);
		else if (cJSON_IsString(old))
			cJSON_AddStringToObject(h, p->hkey, old->valuestring);
		else
			cJSON_AddNullToObject(h, p->hkey);
		if (p->state <= 0 || !p->full) /* not read this run, or read as changes */
			all_full = 0;
	}
	cJSON_AddStringToObject(h, "taken", now);
	struct rt_err e;
	char *dir = atomic_dir_of(g->go->snapshot);
	err_clear(&e);
	if (!dir || atomic_mkdirs(dir, &e) ||
	    snapshot_save(g->go->snapshot, h, g->sets, NSETS, &e)) {
		if (!e.kind)
			err_set(&e, ERR_IO, "out of memory");
		log_err(LOG_WARN, &e);
		log_warn("graph: the snapshot was not saved: the next run starts again from the "
			 "last run's delta links");
		note(g, "the snapshot could not be saved (%s): the next run starts from the previous "
			"one", e.msg);
	} else {
		for (int i = 0; i < 2; i++)
			if (parts[i]->state > 0)
				extract_bookmark(g->run, parts[i]->bookmark, parts[i]->new_link.data);
		if (all_full)
			extract_bookmark(g->run, "last_full", g->run->time_extracted);
		log_info("graph: snapshot saved: %zu users, %zu groups, %zu memberships",
			 snapmap_count(&g->sets[SET_USERS].map),
			 snapmap_count(&g->sets[SET_GROUPS].map),
			 snapmap_count(&g->sets[SET_MEMBERS].map));
	}
	free(dir);
	cJSON_Delete(h);
}

/* Before the token: the snapshot and the stored links that match it. Last
 * run's links are carried into this run's STATE until new ones replace
 * them, so a run that fails anywhere leaves the next one its starting point. */
static void delta_prepare(struct graph *g)
{
	struct rt_err e;
	err_clear(&e);
	int rc = snapshot_load(g->go->snapshot, &g->header, g->sets, NSETS, &e);
	const cJSON *ver = cJSON_GetObjectItemCaseSensitive(g->header, "graph_snapshot");
	if (rc < 0) {
		log_warn("graph: the snapshot %s cannot be used (%s): everything is read again",
			 g->go->snapshot, e.msg);
	} else if (rc == 1) {
		log_info("graph: no snapshot at %s yet: everything is read", g->go->snapshot);
	} else if (!cJSON_IsNumber(ver) || ver->valuedouble != 1) {
		log_warn("graph: %s is not a snapshot this program wrote: everything is read again",
			 g->go->snapshot);
		cJSON_Delete(g->header);
		g->header = NULL;
		for (int i = 0; i < NSETS; i++)
			snapmap_clear(&g->sets[i].map);
	}
	struct part *parts[2] = {&g->users, &g->groups};
	for (int i = 0; i < 2; i++) {
		struct part *p = parts[i];
		const char *stored = extract_remembered(g->run, p->bookmark);
		const cJSON *snap = cJSON_GetObjectItemCaseSensitive(g->header, p->hkey);
		if (stored && cJSON_IsString(snap) && !strcmp(stored, snap->valuestring) &&
		    same_origin(g, stored)) {
			p->old_link = stored;
			extract_bookmark(g->run, p->bookmark, stored);
		} else if (stored) {
			log_warn("graph: the stored %s delta link does not match the snapshot (or is "
				 "on another host): all %s are read again", p->name, p->name);
		}
	}
	const char *last = extract_remembered(g->run, "last_full");
	if (last)
		extract_bookmark(g->run, "last_full", last);
	g->full_due = g->go->full || graph_full_due(last, g->go->full_every, clk_now());
	if (g->go->full)
		log_info("graph: --full: the stored delta links are not used");
	else if (g->full_due)
		log_info("graph: a full read is due (--full-every %d; last one: %s)",
			 g->go->full_every, last ? last : "never");
}

static void delta_stream(struct graph *g, const char *name, int last)
{
	struct rt_err e;
	int rc;
	err_clear(&e);
	if (!strcmp(name, "users")) {
		stream_begin(g, "graph_users", id_key, NEED_USERS);
		rc = delta_part(g, &g->users, &e) || emit_set(g, SET_USERS, &e);
		if (!rc && g->users.full)
			check_count(g, (long)snapmap_count(&g->sets[SET_USERS].map));
	} else if (!strcmp(name, "groups")) {
		stream_begin(g, "graph_groups", id_key, NEED_GROUPS);
		rc = delta_part(g, &g->groups, &e) || emit_set(g, SET_GROUPS, &e);
	} else {
		stream_begin(g, "graph_group_members", member_key, NEED_GROUPS);
		memset(&g->kinds, 0, sizeof g->kinds);
		rc = delta_part(g, &g->groups, &e) || emit_members(g, &e);
		kinds_note(g);
	}
	if (rc && !e.source[0])
		err_where(&e, g->run->source, NULL);
	if (rc)
		g->delta_failed = 1;
	if (last)
		delta_finish(g, rc);
	stream_end(g, rc ? &e : NULL);
}

/* ---- the whole run ---- */

int graph_check_opts(const struct graph_opts *go, struct rt_err *e)
{
	char w[64];
	for (const char *p = go->streams; list_next(&p, w, sizeof w);)
		if (!list_has(all_streams, w)) {
			err_set(e, ERR_USAGE, "--streams: unknown name '%s' (known: %s)", w, all_streams);
			return -1;
		}
	if (go->streams && !list_next(&(const char *){go->streams}, w, sizeof w)) {
		err_set(e, ERR_USAGE, "--streams: no stream named (known: %s)", all_streams);
		return -1;
	}
	if (go->members && strcmp(go->members, "direct") && strcmp(go->members, "transitive")) {
		err_set(e, ERR_USAGE, "--members: expected direct or transitive, not '%s'",
			go->members);
		return -1;
	}
	if (go->page_size > GRAPH_MAX_TOP) {
		err_set(e, ERR_USAGE, "--page-size %d is over Graph's maximum of %d", go->page_size,
			GRAPH_MAX_TOP);
		return -1;
	}
	if (!go->tenant || !*go->tenant) {
		err_set(e, ERR_USAGE, "--tenant is required (the tenant GUID or a verified domain)");
		return -1;
	}
	if (!go->client_id || !*go->client_id) {
		err_set(e, ERR_USAGE, "--client-id is required (the application (client) id)");
		return -1;
	}
	if (go->delta && !go->snapshot) {
		err_set(e, ERR_USAGE, "--delta needs --snapshot FILE (where the full set is kept "
				      "between runs)");
		return -1;
	}
	if (go->full_every < 0) {
		err_set(e, ERR_USAGE, "--full-every: expected a whole number of days");
		return -1;
	}
	return 0;
}

/* The streams asked for, in Graph's order: members before users, so that
 * normalize knows the groups when it maps the people. */
static const char *const order[] = {"groups", "group_members", "users", "deleted_users"};

int graph_extract(struct extract_run *run, const struct extract_opts *o,
		  const struct graph_opts *go)
{
	struct graph g = {.run = run, .o = o, .go = go};
	const char *streams = go->streams ? go->streams : all_streams;
	char asked[128] = "";
	struct rt_err e;
	err_clear(&e);
	for (int i = 0; i < 4; i++)
		if (list_has(streams, order[i])) {
			size_t l = strlen(asked);
			snprintf(asked + l, sizeof asked - l, "%s%s", l ? "," : "", order[i]);
		}
	g.ctx = (struct graph_ctx){.tenant = go->tenant, .client_id = go->client_id,
				   .secret_entry = go->secret_entry};
	buf_init(&g.base, LINK_CAP);
	buf_init(&g.origin, LINK_CAP);
	buf_init(&g.token_url, LINK_CAP);
	buf_init(&g.auth, 64 * 1024);
	const char *base = o->base_url ? o->base_url : GRAPH_BASE_URL;
	buf_add(&g.base, base, strlen(base) - (*base && base[strlen(base) - 1] == '/'));
	buf_adds(&g.base, "/v1.0");
	g.top = o->page_size > 0 ? o->page_size : GRAPH_MAX_TOP;
	g.users = (struct part){.name = "users", .bookmark = "users_delta_link", .hkey = "users_delta"};
	g.groups = (struct part){.name = "groups", .bookmark = "groups_delta_link",
				 .hkey = "groups_delta"};
	buf_init(&g.users.new_link, LINK_CAP);
	buf_init(&g.groups.new_link, LINK_CAP);
	static const char *const set_names[NSETS] = {"users", "groups", "members"};
	for (int i = 0; i < NSETS; i++) {
		g.sets[i].name = set_names[i];
		snapmap_init(&g.sets[i].map);
	}
	run->src->explain = explain;
	run->src->ud = &g;
	/* a stream refused for want of a permission: the app's configuration */
	run->refused_code = "Authorization_RequestDenied";

	if (url_origin(g.base.data, &g.origin)) {
		err_set(&e, ERR_USAGE, "--base-url %s is not an absolute http(s) URL", base);
		err_where(&e, run->source, NULL);
		extract_fail_all(run, "graph_", asked, &e);
		goto out;
	}
	if (graph_token_url(o->token_url ? o->token_url : GRAPH_TOKEN_URL, go->tenant,
			    &g.token_url)) {
		err_set(&e, ERR_USAGE, "the token URL is too long");
		extract_fail_all(run, "graph_", asked, &e);
		goto out;
	}
	if (go->delta)
		delta_prepare(&g);
	if (get_token(&g, &e)) {
		/* without a token no stream can be read: each fails with the cause */
		extract_fail_all(run, "graph_", asked, &e);
		goto out;
	}
	const char *last_delta = NULL;
	for (int i = 0; go->delta && i < 3; i++)
		if (list_has(asked, order[i]))
			last_delta = order[i];
	for (int i = 0; i < 4; i++) {
		if (!list_has(asked, order[i]))
			continue;
		if (go->delta && i < 3)
			delta_stream(&g, order[i], order[i] == last_delta);
		else if (i == 0)
			plain_groups(&g);
		else if (i == 1)
			plain_members(&g);
		else if (i == 2)
			plain_users(&g);
		else
			deleted_users(&g);
	}
out:
	run->src->explain = NULL;
	run->src->ud = NULL;
	buf_wipe(&g.auth);
	buf_free(&g.base);
	buf_free(&g.origin);
	buf_free(&g.token_url);
	buf_free(&g.users.new_link);
	buf_free(&g.groups.new_link);
	drop_gids(&g);
	free(g.gids);
	for (int i = 0; i < NSETS; i++)
		snapmap_free(&g.sets[i].map);
	cJSON_Delete(g.header);
	return 0;
}
