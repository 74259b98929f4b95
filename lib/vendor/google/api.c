#include "vendor/google/google_int.h"
#include "core/b64.h"
#include "core/buf.h"
#include "core/clock.h"
#include "core/err.h"
#include "core/log.h"
#include "core/wordlist.h"
#include "format/jobfile.h"
#include "format/jsonw.h"
#include "net/fetch.h"
#include "net/http.h"
#include "net/pager.h"
#include "net/versions.h"
#include "auth/jwt.h"
#include "engine/extract.h"
#include "vendor/google/google.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const all_streams = GOOGLE_STREAMS;
static const char *const default_scopes =
	"admin.directory.user.readonly,admin.directory.group.readonly,"
	"admin.directory.group.member.readonly,admin.directory.orgunit.readonly";
#define DIRECTORY "/admin/directory/v1"
#define DEFAULT_TOKEN_URI "https://oauth2.googleapis.com/token"
#define JWT_BEARER "urn:ietf:params:oauth:grant-type:jwt-bearer"
/* Older token endpoints some clients still use, tried after the key's own. */
static const char *const older_token_urls[] = {"https://www.googleapis.com/oauth2/v4/token",
					       "https://accounts.google.com/o/oauth2/token"};
#define REFRESH_MARGIN 300 /* a new token when less than 5 minutes remain */
#define SEPS ", \t\r\n"    /* scopes: job files write commas, Google writes spaces */

static const char *const id_key[] = {"id", NULL};
static const char *const member_keys[] = {"group_id", "id", NULL};
static const char *const orgunit_key[] = {"orgUnitId", NULL};

const struct job_key google_job_keys[] = {
	{"key", "--key", JK_SECRET},
	{"subject", "--subject", JK_PLAIN},
	{"customer", "--customer", JK_PLAIN},
	{"domain", "--domain", JK_PLAIN},
	{"streams", "--streams", JK_PLAIN},
	{"scopes", "--scopes", JK_PLAIN},
	{NULL, NULL, JK_PLAIN},
};


static void wipe_reset(struct buf *b)
{
	if (b->data)
		explicit_bzero(b->data, b->size);
	buf_reset(b);
}

int google_has_text(const char *s, const char *what)
{
	return s && strcasestr(s, what) != NULL;
}

static const char *customer_label(const struct google *g)
{
	return g->go->customer ? g->go->customer : "my_customer";
}

/* ---- the JWT bearer grant ---- */

int google_jwt_header(struct buf *out, const char *kid)
{
	int rc = buf_adds(out, "{\"alg\":\"RS256\",\"typ\":\"JWT\"");
	if (kid && *kid) {
		rc |= buf_adds(out, ",\"kid\":");
		rc |= jsonw_str(out, kid);
	}
	rc |= buf_addc(out, '}');
	return rc ? -1 : 0;
}

int google_jwt_claims(struct buf *out, const struct google_claims *c)
{
	if (!c->iss || !c->scope || !c->aud || c->exp <= c->iat ||
	    c->exp - c->iat > GOOGLE_JWT_MAX_LIFETIME)
		return -1;
	int rc = buf_adds(out, "{\"iss\":") | jsonw_str(out, c->iss);
	if (c->sub && *c->sub)
		rc |= buf_adds(out, ",\"sub\":") | jsonw_str(out, c->sub);
	rc |= buf_adds(out, ",\"scope\":") | jsonw_str(out, c->scope);
	rc |= buf_adds(out, ",\"aud\":") | jsonw_str(out, c->aud);
	rc |= buf_printf(out, ",\"iat\":%lld,\"exp\":%lld}", c->iat, c->exp);
	return rc ? -1 : 0;
}

/* ---- the key file ---- */

static char *dup_str(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	return cJSON_IsString(v) && *v->valuestring ? strdup(v->valuestring) : NULL;
}

/* Parses the service-account key file and loads its private key. Every
 * copy of the key text is wiped here: the stored secret as soon as cJSON
 * has parsed it, cJSON's copy once OpenSSL has read it. */
static int load_key(struct google *g, char *text, struct rt_err *e)
{
	const char *name = g->go->key_name ? g->go->key_name : "the stored key";
	size_t n = text ? strlen(text) : 0;
	int pem = n && strstr(text, "-----BEGIN") && text[strspn(text, " \t\r\n")] == '-';
	cJSON *j = n ? cJSON_ParseWithLength(text, n) : NULL;
	if (text)
		explicit_bzero(text, n);
	cJSON *pk = cJSON_GetObjectItemCaseSensitive(j, "private_key");
	const cJSON *type = cJSON_GetObjectItemCaseSensitive(j, "type");
	int rc = -1;
	if (!cJSON_IsObject(j)) {
		err_set(e, ERR_CONFIG, "%s is not a JSON key file%s", name,
			pem ? " (it holds PEM text)" : "");
		err_hint(e, "store the service account's whole JSON key file, as downloaded from the "
			    "Cloud console (IAM > Service accounts > Keys): creds set NAME < key.json");
	} else if (cJSON_IsString(type) && strcmp(type->valuestring, "service_account")) {
		err_set(e, ERR_CONFIG, "%s is a key file of type \"%.40s\", not a service account's",
			name, type->valuestring);
		err_hint(e, "the Directory API needs a service account's JSON key (Cloud console > IAM "
			    "> Service accounts > Keys > Add key > JSON), not a user or OAuth client file");
	} else if (!(g->client_email = dup_str(j, "client_email")) || !cJSON_IsString(pk)) {
		err_set(e, ERR_CONFIG, "%s has no %s", name,
			g->client_email ? "private_key" : "client_email");
		err_hint(e, "store the service account's whole JSON key file, as downloaded");
	} else if (!(g->key = jwt_key_from_pem(pk->valuestring, strlen(pk->valuestring), e))) {
		char why[sizeof e->msg];
		memcpy(why, e->msg, sizeof why);
		err_set(e, ERR_CONFIG, "the private_key of %.100s: %.300s", name, why);
		err_hint(e, "make a new JSON key for %s in the Cloud console and store it (creds set)",
			 g->client_email);
	} else {
		g->client_id = dup_str(j, "client_id");
		g->key_id = dup_str(j, "private_key_id");
		g->token_uri = dup_str(j, "token_uri");
		if (!g->token_uri)
			g->token_uri = strdup(DEFAULT_TOKEN_URI);
		rc = g->token_uri ? 0 : -1;
		if (rc)
			err_set(e, ERR_IO, "out of memory reading the key file");
	}
	if (cJSON_IsString(pk))
		explicit_bzero(pk->valuestring, strlen(pk->valuestring));
	cJSON_Delete(j);
	return rc;
}

/* scope and scope_list from --scopes or the defaults. */
static int build_scopes(struct google *g)
{
	const char *p = g->go->scopes ? g->go->scopes : default_scopes;
	int rc = 0;
	while (*(p += strspn(p, SEPS))) {
		size_t l = strcspn(p, SEPS);
		int full = !strncmp(p, "https://", 8);
		for (int k = 0; k < 2; k++) {
			struct buf *b = k ? &g->scope_list : &g->scope;
			if (b->len)
				rc |= buf_addc(b, k ? ',' : ' ');
			if (!full)
				rc |= buf_adds(b, SCOPE_PREFIX);
			rc |= buf_add(b, p, l);
		}
		p += l;
	}
	return rc || !g->scope.len ? -1 : 0;
}

/* ---- token ---- */

static int set_token(struct google *g, const struct http_resp *r, struct rt_err *e)
{
	cJSON *j = cJSON_ParseWithLength(r->body.data ? r->body.data : "", r->body.len);
	cJSON *at = cJSON_GetObjectItemCaseSensitive(j, "access_token");
	const cJSON *exp = cJSON_GetObjectItemCaseSensitive(j, "expires_in");
	int rc = -1;
	if (!cJSON_IsString(at) || !*at->valuestring) {
		err_set(e, ERR_AUTH, "the token endpoint answered %s without an access_token",
			j ? "JSON" : "something that is not JSON");
		err_hint(e, "token_uri in the key file (or --token-url) should be Google's OAuth 2 "
			    "token endpoint");
	} else {
		err_redact_add(at->valuestring);
		wipe_reset(&g->auth);
		rc = buf_printf(&g->auth, "Authorization: Bearer %s", at->valuestring);
		if (rc)
			err_set(e, ERR_DATA, "the access token Google sent is too long for a header");
		double s = cJSON_IsNumber(exp) ? exp->valuedouble
			 : cJSON_IsString(exp) ? atof(exp->valuestring) : 0;
		/* five minutes before the end; half-way for a token shorter than ten */
		g->refresh_at = s > 0 ? clk_now() + s - fmin(REFRESH_MARGIN, s / 2) : 0;
	}
	if (cJSON_IsString(at)) /* cJSON's copy of the token */
		explicit_bzero(at->valuestring, strlen(at->valuestring));
	cJSON_Delete(j);
	return rc;
}

/* POSTs the assertion to url; the version_pick probe. */
static int token_request(const char *url, void *ud, struct rt_err *e)
{
	struct google *g = ud;
	static const char *const hdr[] = {"Content-Type: application/x-www-form-urlencoded",
					  "Accept: application/json", NULL};
	struct buf body;
	struct http_resp r;
	buf_init(&body, 64 * 1024);
	http_resp_init(&r, 1 << 20);
	int rc = buf_adds(&body, "grant_type=") | pct_encode(JWT_BEARER, &body) |
		 buf_adds(&body, "&assertion=") | pct_encode(g->assertion, &body);
	if (rc) {
		err_set(e, ERR_CONFIG, "the signed assertion is too long for a token request");
	} else {
		struct fetch_req q = {.method = "POST", .url = url, .headers = hdr,
				      .body = body.data, .body_len = body.len};
		rc = source_fetch(g->run->src, &q, &r, e);
		if (rc == 0 && (rc = set_token(g, &r, e))) {
			char ep[256];
			source_endpoint("POST", url, ep, sizeof ep);
			err_where(e, g->run->source, ep);
		}
		if (rc && version_abandons(e))
			g->abandoned++;
	}
	buf_wipe(&body);
	buf_wipe(&r.body); /* it held the token */
	http_resp_free(&r);
	return rc;
}

/* The token endpoints to try: --token-url (one URL, or several separated
 * by commas, tried in order), else the key's token_uri and then the older
 * endpoints Google still answers. The JWT's aud is the key's token_uri
 * whichever one answers: it is the audience Google checks. */
static int token_candidates(struct google *g)
{
	char w[4096];
	if (g->o->token_url) {
		for (const char *p = g->o->token_url; g->ncands < 8 && list_next(&p, w, sizeof w);)
			if (!(g->cands[g->ncands++] = strdup(w)))
				return -1;
		return g->ncands ? 0 : -1;
	}
	if (!(g->cands[g->ncands++] = strdup(g->token_uri)))
		return -1;
	for (int i = 0; i < 2; i++)
		if (strcmp(older_token_urls[i], g->token_uri) &&
		    !(g->cands[g->ncands++] = strdup(older_token_urls[i])))
			return -1;
	return 0;
}

/* A new JWT, then a new access token: at the start, when less than five
 * minutes remain, and after a 401. */
static int get_token(struct google *g, struct rt_err *e)
{
	struct buf hdr, claims, jws;
	enum req_kind was = g->req;
	long long now = (long long)floor(clk_now());
	struct google_claims c = {.iss = g->client_email, .sub = g->go->subject,
				  .scope = g->scope.data, .aud = g->token_uri, .iat = now,
				  .exp = now + GOOGLE_JWT_MAX_LIFETIME};
	int rc = -1;
	buf_init(&hdr, 64 * 1024);
	buf_init(&claims, 64 * 1024);
	buf_init(&jws, 256 * 1024);
	g->req = REQ_TOKEN;
	if (google_jwt_header(&hdr, g->key_id) || google_jwt_claims(&claims, &c)) {
		err_set(e, ERR_CONFIG, "the JWT claims cannot be built (a value is too long)");
		goto out;
	}
	if (jwt_sign_rs256(g->key, hdr.data, hdr.len, claims.data, claims.len, &jws, e))
		goto out;
	/* good for an hour at the token endpoint: masked like the token */
	err_redact_add(jws.data);
	g->assertion = jws.data;
	if (g->token_url) { /* the endpoint picked for the first token */
		rc = token_request(g->token_url, g, e);
	} else if (g->ncands == 1) {
		if (!(rc = token_request(g->cands[0], g, e)))
			g->token_url = strdup(g->cands[0]);
	} else {
		int winner = 0;
		g->abandoned = 0;
		rc = version_pick((const char *const *)g->cands, g->ncands,
				  extract_remembered(g->run, "token_uri"), token_request, g, &winner, e);
		if (!rc) {
			g->token_url = strdup(g->cands[winner]);
		} else if (g->abandoned == g->ncands) {
			char tried[400] = "";
			for (int i = 0; i < g->ncands; i++) {
				size_t l = strlen(tried);
				snprintf(tried + l, sizeof tried - l, "%s%.120s", i ? ", " : "",
					 g->cands[i]);
			}
			err_set(e, ERR_CONFIG, "no token endpoint answered (tried %s)", tried);
			err_hint(e, "token_uri in the key file should be Google's token endpoint; "
				    "another one can be named with --token-url");
		}
	}
	if (!rc && !g->token_url) {
		rc = -1;
		err_set(e, ERR_IO, "out of memory");
	}
	if (!rc)
		extract_bookmark(g->run, "token_uri", g->token_url);
	if (rc && !e->source[0])
		err_where(e, g->run->source, NULL);
out:
	g->assertion = NULL;
	g->req = was;
	buf_free(&hdr);
	buf_free(&claims);
	buf_wipe(&jws);
	return rc;
}

/* ---- pages ---- */

/* GET url with the token: a new token first when it is about to expire,
 * and once after a 401, with the request asked once more. The page keeps
 * one budget of policy.max_attempts requests (DESIGN.md): the requests
 * after a new token are what the ones before it left. page_failed tells a
 * failure of the page's own request from one of a token request. */
static int fetch_page(struct google *g, const char *url, struct http_resp *r, struct rt_err *e)
{
	struct source *s = g->run->src;
	const int saved = s->policy.max_attempts;
	const int max = saved > 0 ? saved : 1;
	long used = 0;
	g->page_failed = 0;
	if (g->refresh_at > 0 && clk_now() >= g->refresh_at) {
		log_info("google: the access token is about to expire: getting a new one");
		if (get_token(g, e))
			return -1;
	}
	for (int again = 0;; again++) {
		const char *hdr[] = {g->auth.data, "Accept: application/json", NULL};
		struct fetch_req q = {.method = "GET", .url = url, .headers = hdr};
		long before = s->stats.requests;
		s->policy.max_attempts = max - (int)used;
		int rc = source_fetch(s, &q, r, e);
		s->policy.max_attempts = saved;
		used += s->stats.requests - before;
		if (rc == 0)
			return 0;
		g->page_failed = 1;
		if (e->status != 401 || again)
			return -1;
		if (used >= max) {
			err_hint(e, "the access token was refused on the page's last allowed request (%d), "
				    "after the others had failed: no new token was asked for; the run can be "
				    "retried", max);
			return -1;
		}
		log_warn("google %s: 401: getting a new access token and asking once more (%ld of "
			 "%d requests left for this page)", e->endpoint, max - used, max);
		g->page_failed = 0;
		if (get_token(g, e))
			return -1;
	}
}

static int add_group(struct google *g, const char *id)
{
	if (g->ngroups == g->capgroups) {
		size_t cap = g->capgroups ? 2 * g->capgroups : 64;
		char **v = realloc(g->groups, cap * sizeof *v);
		if (!v)
			return -1;
		g->groups = v;
		g->capgroups = cap;
	}
	if (!(g->groups[g->ngroups] = strdup(id)))
		return -1;
	g->ngroups++;
	return 0;
}

static void free_groups(struct google *g)
{
	for (size_t i = 0; i < g->ngroups; i++)
		free(g->groups[i]);
	free(g->groups);
	g->groups = NULL;
	g->ngroups = g->capgroups = 0;
}

/* What one list reads and where its records go. */
struct list {
	const char *key;      /* the array of records: "users", "members"... */
	const char *group_id; /* members: added to each record */
	int emit;             /* write the records (0: only collect group ids) */
	int collect;          /* keep each record's id as a group to read */
	int paged;            /* follow nextPageToken */
};

static void page_error(struct google *g, const char *url, struct rt_err *e, enum err_kind kind,
		       const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static void page_error(struct google *g, const char *url, struct rt_err *e, enum err_kind kind,
		       const char *fmt, ...)
{
	char ep[256], msg[sizeof e->msg];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	source_endpoint("GET", url, ep, sizeof ep);
	err_clear(e);
	err_where(e, g->run->source, ep);
	err_set(e, kind, "%s", msg);
}

/* Reads one page: its records out, the next page's token into next. */
static int read_page(struct google *g, const char *url, const struct list *l, struct buf *next,
		     struct rt_err *e)
{
	struct http_resp r;
	cJSON *j = NULL;
	int rc = -1;
	http_resp_init(&r, 1 << 30);
	buf_reset(next);
	if (fetch_page(g, url, &r, e))
		goto done;
	if (++g->pages % 20 == 0) /* progress for long runs */
		log_info("google: %s: %ld records so far (%ld pages)", g->run->cur->name,
			 g->run->cur->records, g->pages);
	j = cJSON_ParseWithLength(r.body.data ? r.body.data : "", r.body.len);
	cJSON *items = cJSON_GetObjectItemCaseSensitive(j, l->key), *item;
	const cJSON *tok = cJSON_GetObjectItemCaseSensitive(j, "nextPageToken");
	if (!cJSON_IsObject(j)) {
		page_error(g, url, e, ERR_DATA, "expected Google's JSON, got %s",
			   j ? "JSON that is not an object" : "a body that is not JSON");
		err_hint(e, "the base URL should be Google's Admin SDK (%s)", GOOGLE_BASE_URL);
		goto done;
	}
	/* Google leaves an empty list out: no key is an empty page */
	if (items && !cJSON_IsArray(items)) {
		page_error(g, url, e, ERR_DATA, "\"%s\" is not an array", l->key);
		goto done;
	}
	cJSON_ArrayForEach(item, items) {
		const cJSON *id = cJSON_GetObjectItemCaseSensitive(item, "id");
		if (!cJSON_IsObject(item)) {
			page_error(g, url, e, ERR_DATA, "an element of \"%s\" is not an object", l->key);
			goto done;
		}
		if (l->collect && cJSON_IsString(id) && add_group(g, id->valuestring)) {
			page_error(g, url, e, ERR_IO, "out of memory recording the groups");
			goto done;
		}
		if (!l->emit)
			continue;
		if (l->group_id)
			cJSON_AddStringToObject(item, "group_id", l->group_id);
		char *txt = cJSON_PrintUnformatted(item);
		int w = txt ? extract_record(g->run, txt, strlen(txt)) : -1;
		free(txt);
		if (w) {
			page_error(g, url, e, ERR_IO, "writing the output failed");
			goto done;
		}
	}
	if (l->paged && tok && !cJSON_IsNull(tok)) {
		if (!cJSON_IsString(tok)) {
			page_error(g, url, e, ERR_PAGING, "nextPageToken is not a string");
			goto done;
		}
		if (buf_adds(next, tok->valuestring)) {
			page_error(g, url, e, ERR_PAGING, "nextPageToken is too long");
			goto done;
		}
	}
	rc = 0;
done:
	cJSON_Delete(j);
	http_resp_free(&r);
	return rc;
}

/* Reads every page of one list under the pager's guards: the next URL is
 * the first one with pageToken, so a token seen twice is a loop. */
static int read_list(struct google *g, const char *first, const struct list *l,
		     struct rt_err *e)
{
	struct buf url, token;
	struct pager pg;
	int rc;
	buf_init(&url, 1 << 16);
	buf_init(&token, 1 << 16);
	buf_adds(&url, first);
	pager_init(&pg, first, g->o->max_pages);
	for (;;) {
		if ((rc = read_page(g, url.data, l, &token, e)) || !token.len)
			break;
		buf_reset(&url);
		if (buf_adds(&url, first) || buf_adds(&url, "&pageToken=") ||
		    pct_encode(token.data, &url)) {
			err_clear(e);
			err_set(e, ERR_PAGING, "nextPageToken is too long");
			rc = -1;
		} else {
			rc = pager_next(&pg, url.data, e);
		}
		if (rc) {
			char ep[256];
			source_endpoint("GET", first, ep, sizeof ep);
			err_where(e, g->run->source, ep);
			err_hint(e, "Google's paging went wrong (page tokens last 3 days and are never "
				    "repeated): the records read so far are kept, the stream is not marked "
				    "complete");
			break;
		}
	}
	pager_free(&pg);
	buf_free(&url);
	buf_free(&token);
	return rc;
}

/* ---- streams ---- */

static int limit(const struct google *g, int max)
{
	int ps = g->go->page_size;
	return ps > 0 && ps < max ? ps : max;
}

/* "customer=C" or "domain=D" for users and groups. */
static void owner_query(const struct google *g, struct buf *u)
{
	if (g->go->domain) {
		buf_adds(u, "domain=");
		pct_encode(g->go->domain, u);
	} else {
		buf_adds(u, "customer=");
		pct_encode(g->customer, u);
	}
}

static int list_groups(struct google *g, int emit, struct rt_err *e)
{
	struct buf u;
	struct list l = {.key = "groups", .emit = emit, .collect = 1, .paged = 1};
	buf_init(&u, 1 << 16);
	buf_printf(&u, "%s" DIRECTORY "/groups?", g->base.data);
	owner_query(g, &u);
	buf_printf(&u, "&maxResults=%d", limit(g, GOOGLE_MAX_GROUPS));
	free_groups(g);
	g->req = REQ_CUSTOMER;
	g->need_scope = "admin.directory.group.readonly";
	int rc = read_list(g, u.data, &l, e);
	g->groups_complete = rc == 0;
	buf_free(&u);
	return rc;
}

/* Google's answer for a resource that does not exist: 404 with the reason
 * notFound (errors[]) or, in the newer form, NOT_FOUND / an ErrorInfo. */
static int google_not_found(const struct rt_err *e)
{
	return e->status == 404 &&
	       (!strcasecmp(e->code, "notFound") || !strcmp(e->code, "NOT_FOUND"));
}

static int read_members(struct google *g, struct rt_err *e)
{
	int rc = 0;
	g->vanished = 0;
	/* the groups stream's list when it was complete; otherwise read it now */
	if (!g->groups_complete && list_groups(g, 0, e)) {
		char why[sizeof e->msg];
		memcpy(why, e->msg, sizeof why);
		snprintf(e->msg, sizeof e->msg, "the groups could not be listed: %.400s", why);
		return -1;
	}
	for (size_t i = 0; !rc && i < g->ngroups; i++) {
		struct buf u;
		struct list l = {.key = "members", .group_id = g->groups[i], .emit = 1,
				 .paged = 1};
		buf_init(&u, 1 << 16);
		buf_printf(&u, "%s" DIRECTORY "/groups/", g->base.data);
		pct_encode(g->groups[i], &u);
		buf_printf(&u, "/members?maxResults=%d&includeDerivedMembership=true",
			   limit(g, GOOGLE_MAX_GROUPS));
		g->req = REQ_MEMBERS;
		g->need_scope = "admin.directory.group.member.readonly";
		rc = read_list(g, u.data, &l, e);
		/* deleted since it was listed: only when the group's own members
		 * request got Google's notFound, never a token request's 404 */
		if (rc && g->page_failed && google_not_found(e)) {
			log_warn("google: group %s is gone (404): its members are skipped",
				 g->groups[i]);
			g->vanished++;
			rc = 0;
		}
		buf_free(&u);
	}
	if (!rc && g->ngroups > 1 && (size_t)g->vanished == g->ngroups) {
		/* e still holds the last group's 404: its endpoint and status stay */
		err_set(e, ERR_HTTP, "every one of the %zu groups answered 404 for its members: that "
				     "many are not all deleted between the groups list and their members",
			g->ngroups);
		err_hint(e, "check the base URL (--base-url) and any proxy in front of Google; the "
			    "members stream is not marked complete, so the memberships read last time "
			    "are kept");
		g->vanished = 0;
		rc = -1;
	}
	if (g->vanished)
		snprintf(g->run->cur->note, sizeof g->run->cur->note,
			 "%ld group%s deleted while the members were read (404): skipped",
			 g->vanished, g->vanished == 1 ? " was" : "s were");
	return rc;
}

static int read_users(struct google *g, int deleted, struct rt_err *e)
{
	struct buf u;
	struct list l = {.key = "users", .emit = 1, .paged = 1};
	buf_init(&u, 1 << 16);
	buf_printf(&u, "%s" DIRECTORY "/users?", g->base.data);
	owner_query(g, &u);
	buf_printf(&u, "&maxResults=%d&projection=basic%s", limit(g, GOOGLE_MAX_USERS),
		   deleted ? "&showDeleted=true" : "&orderBy=email");
	g->req = REQ_CUSTOMER;
	g->need_scope = "admin.directory.user.readonly";
	int rc = read_list(g, u.data, &l, e);
	buf_free(&u);
	return rc;
}

static int read_orgunits(struct google *g, struct rt_err *e)
{
	struct buf u;
	/* not paged; type=all, since the default (children) shows one level only */
	struct list l = {.key = "organizationUnits", .emit = 1};
	buf_init(&u, 1 << 16);
	buf_printf(&u, "%s" DIRECTORY "/customer/", g->base.data);
	pct_encode(g->customer, &u);
	buf_adds(&u, "/orgunits?type=all");
	g->req = REQ_CUSTOMER;
	g->need_scope = "admin.directory.orgunit.readonly";
	int rc = read_list(g, u.data, &l, e);
	buf_free(&u);
	return rc;
}

static void stream(struct google *g, const char *name)
{
	struct rt_err e;
	char sname[64];
	const char *const *keys = !strcmp(name, "group_members") ? member_keys
				  : !strcmp(name, "orgunits")    ? orgunit_key
								 : id_key;
	snprintf(sname, sizeof sname, "google_%s", name);
	extract_stream_begin(g->run, sname, keys);
	err_clear(&e);
	g->pages = 0;
	int rc;
	if (!strcmp(name, "orgunits"))
		rc = read_orgunits(g, &e);
	else if (!strcmp(name, "groups"))
		rc = list_groups(g, 1, &e);
	else if (!strcmp(name, "group_members"))
		rc = read_members(g, &e);
	else
		rc = read_users(g, !strcmp(name, "deleted_users"), &e);
	if (rc && !e.source[0])
		err_where(&e, g->run->source, NULL);
	extract_stream_end(g->run, rc ? &e : NULL);
}

int google_check_opts(const struct google_opts *go, struct rt_err *e)
{
	char w[64];
	for (const char *p = go->streams; list_next(&p, w, sizeof w);)
		if (!list_has(all_streams, w)) {
			err_set(e, ERR_USAGE, "--streams: unknown name '%s' (known: %s)", w, all_streams);
			return -1;
		}
	const char *first = go->streams;
	if (go->streams && !list_next(&first, w, sizeof w)) {
		err_set(e, ERR_USAGE, "--streams: no stream named");
		return -1;
	}
	if (go->subject && (!strchr(go->subject, '@') || strpbrk(go->subject, " \t/"))) {
		err_set(e, ERR_USAGE, "--subject: expected the email address of an admin, got '%s'",
			go->subject);
		return -1;
	}
	const char *what[2] = {"--customer", "--domain"}, *val[2] = {go->customer, go->domain};
	for (int i = 0; i < 2; i++)
		if (val[i] && (!*val[i] || strpbrk(val[i], " \t/?&#"))) {
			err_set(e, ERR_USAGE, "%s: not a %s: '%s'", what[i],
				i ? "domain name" : "customer ID", val[i]);
			return -1;
		}
	if (go->scopes && !go->scopes[strspn(go->scopes, SEPS)]) {
		err_set(e, ERR_USAGE, "--scopes: no scope named");
		return -1;
	}
	return 0;
}

int google_extract(struct extract_run *run, const struct extract_opts *o,
		   struct google_opts *go)
{
	struct google g = {.run = run, .o = o, .go = go};
	struct rt_err e;
	const char *streams = go->streams ? go->streams : all_streams;
	buf_init(&g.base, 1 << 16);
	buf_init(&g.scope, 64 * 1024);
	buf_init(&g.scope_list, 64 * 1024);
	buf_init(&g.auth, 64 * 1024);
	buf_adds(&g.base, o->base_url ? o->base_url : GOOGLE_BASE_URL);
	while (g.base.len && g.base.data[g.base.len - 1] == '/')
		g.base.data[--g.base.len] = 0;
	g.customer = customer_label(&g);
	run->src->ud = &g;
	/* a stream's auth or configuration error is a refusal, as before the
	 * streams: an outage on any stream still makes the exit 1 */
	run->refused_by_kind = 1;
	err_clear(&e);
	if (!go->subject)
		log_warn("google: no --subject: Google gives the service account a token, but the "
			 "Directory API answers 403 unless it impersonates an admin");
	int bad = load_key(&g, go->key_json, &e);
	if (!bad && build_scopes(&g)) {
		err_set(&e, ERR_USAGE, "--scopes: no usable scope");
		bad = 1;
	}
	if (!bad && token_candidates(&g)) {
		err_set(&e, ERR_USAGE, "--token-url: no usable URL");
		bad = 1;
	}
	if (bad || get_token(&g, &e)) {
		/* without a token no stream can be read: each fails with the cause */
		if (!e.source[0])
			err_where(&e, run->source, NULL);
		extract_fail_all(run, "google_", streams, &e);
	} else {
		static const char *const order[] = {"orgunits", "groups", "group_members", "users",
						    "deleted_users"};
		for (int i = 0; i < 5; i++)
			if (list_has(streams, order[i]))
				stream(&g, order[i]);
	}
	run->src->ud = NULL;
	free_groups(&g);
	jwt_key_free(g.key);
	buf_wipe(&g.auth);
	buf_free(&g.base);
	buf_free(&g.scope);
	buf_free(&g.scope_list);
	free(g.client_email);
	free(g.client_id);
	free(g.key_id);
	free(g.token_uri);
	free(g.token_url);
	for (int i = 0; i < g.ncands; i++)
		free(g.cands[i]);
	return 0;
}
