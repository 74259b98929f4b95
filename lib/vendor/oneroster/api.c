/* The OneRoster REST client (1.0, 1.1, 1.2 rostering): OAuth 2 client
 * credentials or two-legged OAuth 1.0a, the version fallback, limit/offset
 * paging checked against X-Total-Count, the imsx error bodies and what an
 * administrator should check. Records go out in the CSV bundle's shapes
 * (record.c), under the bundle's stream names. */
#include "core/b64.h"
#include "core/civil.h"
#include "core/clock.h"
#include "core/log.h"
#include "core/strset.h"
#include "core/wordlist.h"
#include "auth/oauth1.h"
#include "auth/oauth2.h"
#include "net/pager.h"
#include "net/versions.h"
#include "vendor/oneroster/oneroster.h"
#include "vendor/oneroster/oneroster_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const id_key[] = {"sourcedId", NULL};

/* stream (oneroster_<name>), collection path, envelope key */
static const struct entity {
	const char *name, *path, *envelope;
} entities[] = {
	{"orgs", "orgs", "orgs"},
	{"academic_sessions", "academicSessions", "academicSessions"},
	{"courses", "courses", "courses"},
	{"classes", "classes", "classes"},
	{"users", "users", "users"},
	{"enrollments", "enrollments", "enrollments"},
	{NULL, NULL, NULL},
};

const struct job_key oneroster_job_keys[] = {
	{"client_id", "--client-id", JK_PLAIN},
	{"client_secret", "--client-secret", JK_SECRET},
	{"scope", "--scope", JK_PLAIN},
	{"consumer_key", "--consumer-key", JK_PLAIN},
	{"consumer_secret", "--consumer-secret", JK_SECRET},
	{"versions", "--versions", JK_PLAIN},
	{"streams", "--streams", JK_PLAIN},
	{"delta", "--delta", JK_FLAG},
	{"full_every", "--full-every", JK_INTEGER},
	{"concurrency", "--concurrency", JK_INTEGER},
	{NULL, NULL, JK_PLAIN},
};

struct orx {
	struct extract_run *run;
	const struct extract_opts *o;
	const struct oneroster_opts *oo;
	int oauth1;
	const char *version;     /* the one that answered */
	struct buf root;         /* the version's service root, ending in '/' */
	struct buf auth;         /* "Authorization: ..."; wiped at the end */
	struct oauth2_token tok;
	struct oauth1_client oc;
	int limit;
	int concurrency;         /* pages in flight once the total is known */
	int full;                /* 1: a whole read; 0: changes since each stream's bookmark */
	int failed;              /* a stream failed */
	char last_full[64];      /* last night's last_full bookmark, or "" */
};

/* ---- hints ---- */

/* The imsx_StatusInfo's minor code: nested (1.1, 1.2) or flat (Ed-Fi). */
static const char *imsx_minor(const cJSON *j)
{
	const cJSON *flat = cJSON_GetObjectItemCaseSensitive(j, "imsx_codeMinor");
	if (cJSON_IsString(flat))
		return flat->valuestring;
	const cJSON *m = cJSON_GetObjectItemCaseSensitive(j, "imsx_CodeMinor");
	const cJSON *f = cJSON_GetObjectItemCaseSensitive(m, "imsx_codeMinorField");
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(f, 0),
							  "imsx_codeMinorFieldValue");
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

void oneroster_explain(struct rt_err *e, const struct http_resp *r, void *ud)
{
	const struct orx *c = ud;
	cJSON *j = r->body.data ? cJSON_ParseWithLength(r->body.data, r->body.len) : NULL;
	const cJSON *d = cJSON_GetObjectItemCaseSensitive(j, "imsx_description");
	const cJSON *err = cJSON_GetObjectItemCaseSensitive(j, "error");
	const cJSON *desc = cJSON_GetObjectItemCaseSensitive(j, "error_description");
	const char *minor = imsx_minor(j);
	if (minor)
		snprintf(e->code, sizeof e->code, "%s", minor);
	else if (cJSON_IsString(err))
		snprintf(e->code, sizeof e->code, "%s", err->valuestring);
	const char *said = cJSON_IsString(d) ? d->valuestring
			 : cJSON_IsString(desc) ? desc->valuestring : NULL;
	size_t l = strlen(e->msg);
	if (said && *said) {
		snprintf(e->msg + l, sizeof e->msg - l, ": %.200s", said);
	} else if (!j && r->body.len && !r->transport_error) {
		const char *ct = http_resp_header(r, "Content-Type");
		snprintf(e->msg + l, sizeof e->msg - l, " with %s",
			 ct && strstr(ct, "html") ? "an HTML page" : "a non-JSON body");
	}
	cJSON_Delete(j);
	const char *who = c && c->oo->secret_name ? c->oo->secret_name : "the job";
	switch (e->status) {
	case 401:
		if (!c)
			break;
		if (c->oauth1)
			err_hint(e, "the provider refused the OAuth 1.0a signature (%s, consumer key "
				    "\"%s\"): check the consumer key and the secret in %s, this "
				    "server's clock (a timestamp more than a few minutes off is "
				    "refused), and that --base-url is exactly the path the provider "
				    "gave (the path is signed)",
				 oauth1_method_name(c->oc.method), c->oo->consumer_key, who);
		else
			err_hint(e, "the provider refused the OAuth 2 bearer token of client \"%s\": "
				    "check the client id and the secret in %s, the token URL "
				    "(--token-url, with the appName), and that the connection accepts "
				    "OAuth 2", c->oo->client_id ? c->oo->client_id : "?", who);
		break;
	case 403:
		err_hint(e, "OneRoster is not enabled for this application, or the connection's "
			    "scope does not cover this data: in Infinite Campus, System Settings > "
			    "Digital Learning > OneRoster (the application and its scope)");
		break;
	case 404:
		err_hint(e, "no OneRoster service at this path: check --base-url (the part before "
			    "/ims/oneroster/) and --versions");
		break;
	case 429:
		err_hint(e, "the provider is throttling: lower --rate or run later");
		break;
	default:
		if (e->status >= 500)
			err_hint(e, "the provider is failing on its side; the run can be retried later");
	}
}

/* ---- auth ---- */

static int get_token(struct orx *c, struct rt_err *e)
{
	const struct oneroster_opts *oo = c->oo;
	oauth2_token_free(&c->tok);
	oauth2_token_init(&c->tok);
	if (oauth2_client_credentials(c->run->src, c->o->token_url, oo->client_id,
				      oo->client_secret, oo->scope, &c->tok, e)) {
		if (e->status == 401 || e->status == 400)
			err_hint(e, "the token endpoint refused client \"%s\": check the client id "
				    "and the secret in %s, and the appName in --token-url",
				 oo->client_id, oo->secret_name ? oo->secret_name : "the job");
		return -1;
	}
	err_redact_add(c->tok.access_token.data);
	buf_wipe(&c->auth);
	buf_init(&c->auth, 64 * 1024);
	if (buf_printf(&c->auth, "Authorization: Bearer %s", c->tok.access_token.data)) {
		err_set(e, ERR_DATA, "the access token is too long for a header");
		return -1;
	}
	return 0;
}

/* A token within a minute of its end is renewed before it is used. */
static int token_due(const struct orx *c)
{
	return c->tok.expires_at > 0 && clk_now() > c->tok.expires_at - 60;
}

/* What signs one request: the header it writes and the list it sits in. */
struct signer {
	struct orx *c;
	struct buf *auth;
	const char **hdr;
};

/* fetch_req.sign: a fresh nonce and timestamp for every attempt. */
static int sign(const struct fetch_req *q, void *ud, struct rt_err *e)
{
	struct signer *g = ud;
	buf_wipe(g->auth);
	buf_init(g->auth, 64 * 1024);
	if (buf_adds(g->auth, "Authorization: ") ||
	    oauth1_authorization(&g->c->oc, q->method, q->url, NULL, g->auth, e))
		return -1;
	g->hdr[0] = g->auth->data;
	return 0;
}

/* One GET under the rules: signed (OAuth 1.0a), or with a bearer token
 * renewed before its end and once on a 401 (renewed: that 401 came
 * already, on a request sent with the token before this one). */
static int get_renewed(struct orx *c, const char *url, struct http_resp *r, int renewed,
		       struct rt_err *e)
{
	const char *hdr[] = {NULL, "Accept: application/json", NULL};
	struct signer g = {c, &c->auth, hdr};
	for (;; renewed = 1) {
		if (!c->oauth1 && token_due(c) && get_token(c, e))
			return -1;
		hdr[0] = c->auth.data;
		struct fetch_req q = {.method = "GET", .url = url, .headers = hdr};
		if (c->oauth1) {
			q.sign = sign;
			q.sign_ud = &g;
		}
		if (!source_fetch(c->run->src, &q, r, e))
			return 0;
		if (c->oauth1 || renewed || e->status != 401)
			return -1;
		log_warn("oneroster: %s: 401, getting a new token and trying once more", e->endpoint);
		if (get_token(c, e))
			return -1;
	}
}

static int get(struct orx *c, const char *url, struct http_resp *r, struct rt_err *e)
{
	return get_renewed(c, url, r, 0, e);
}

/* ---- versions ---- */

static int set_root(struct orx *c, const char *v)
{
	const char *base = c->o->base_url;
	const char *at = strstr(base, "{version}");
	size_t n = strlen(base);
	buf_reset(&c->root);
	if (at) { /* Infinite Campus puts the version in its prefix too */
		buf_add(&c->root, base, (size_t)(at - base));
		buf_adds(&c->root, v);
		base = at + 9;
		n = strlen(base);
	}
	while (n && base[n - 1] == '/')
		n--;
	buf_add(&c->root, base, n);
	return buf_printf(&c->root, "/ims/oneroster/%s%s/", strcmp(v, "v1p2") ? "" : "rostering/",
			  v);
}

static int probe_version(const char *cand, void *ud, struct rt_err *e)
{
	struct orx *c = ud;
	struct buf url;
	struct http_resp r;
	c->version = cand;
	c->oc.method = strcmp(cand, "v1p0") ? OAUTH1_HMAC_SHA256 : OAUTH1_HMAC_SHA1;
	if (set_root(c, cand)) {
		err_set(e, ERR_CONFIG, "--base-url is too long");
		return -1;
	}
	buf_init(&url, 1 << 16);
	http_resp_init(&r, 16 << 20);
	buf_printf(&url, "%sorgs?limit=1&offset=0", c->root.data);
	int rc = get(c, url.data, &r, e);
	if (!rc) {
		/* a 200 that is not OneRoster's JSON is no service either */
		cJSON *j = cJSON_ParseWithLength(r.body.data ? r.body.data : "", r.body.len);
		if (!cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(j, "orgs"))) {
			char ep[256];
			const char *ct = http_resp_header(&r, "Content-Type");
			source_endpoint("GET", url.data, ep, sizeof ep);
			err_clear(e);
			err_where(e, c->run->source, ep);
			e->status = (int)r.status;
			err_set(e, ERR_DATA, "expected OneRoster's JSON, got %s (%zu bytes)",
				ct && strstr(ct, "html") ? "an HTML page"
				: j                      ? "JSON without an orgs array"
							 : "a body that is not JSON",
				r.body.len);
			err_hint(e, "an HTML page usually means --base-url points at the web "
				    "application or a login page, not at the OneRoster API");
			rc = -1;
		}
		cJSON_Delete(j);
	}
	http_resp_free(&r);
	buf_free(&url);
	return rc;
}

/* ---- paging ----
 *
 * limit/offset. The first page gives the total (X-Total-Count) when the
 * provider sends one: from there every page's offset is known, and the
 * rest are fetched several at a time (--concurrency), then read strictly
 * in offset order, exactly as one after another would read them. Without a
 * total, pages are read one after another until a short one. Records seen
 * before (offsets shift over a live table) are sent once. */

struct list {
	const struct entity *ent;
	struct strset seen;
	long long total; /* the first page's X-Total-Count; -1: none */
	long long read;  /* records on the pages read (duplicates included) */
	long dups;
	int limit;       /* what a full page holds (the server may cap ours) */
	int confirm;     /* a short first page without a total: one more tells */
	const char *since; /* a delta read: dateLastModified after this; NULL: all */
	char newest[64]; /* the latest dateLastModified read */
	char first_id[128]; /* the previous page's first sourcedId */
};

static long long header_total(const struct http_resp *r)
{
	const char *h = http_resp_header(r, "X-Total-Count");
	if (!h)
		return -1;
	char *end;
	long long n = strtoll(h, &end, 10);
	return end != h && n >= 0 ? n : -1;
}

static void page_url(const struct orx *c, const struct list *ls, long long offset, struct buf *url)
{
	buf_reset(url);
	buf_printf(url, "%s%s?limit=%d&offset=%lld", c->root.data, ls->ent->path, ls->limit,
		   offset);
	if (ls->since) {
		char f[128];
		snprintf(f, sizeof f, "dateLastModified>'%s'", ls->since);
		buf_adds(url, "&filter=");
		pct_encode(f, url);
	}
}

/* Reads the answer for the page at offset: *n records on it, *told its
 * X-Total-Count. */
static int page_records(struct orx *c, struct list *ls, long long offset, const char *url,
			const struct http_resp *r, int *n, long long *told, struct rt_err *e)
{
	*told = header_total(r);
	char ep[256];
	source_endpoint("GET", url, ep, sizeof ep);
	cJSON *j = cJSON_ParseWithLength(r->body.data ? r->body.data : "", r->body.len);
	const cJSON *list = cJSON_GetObjectItemCaseSensitive(j, ls->ent->envelope);
	if (!cJSON_IsArray(list)) {
		const char *ct = http_resp_header(r, "Content-Type");
		int html = ct && strstr(ct, "html");
		err_clear(e);
		err_where(e, c->run->source, ep);
		e->status = (int)r->status;
		err_set(e, ERR_DATA, "expected OneRoster's JSON envelope {\"%s\": [...]} at offset "
			    "%lld, got %s (%zu bytes)", ls->ent->envelope, offset,
			html ? "an HTML page"
			: j  ? "JSON without that array"
			     : "JSON that is cut short or malformed",
			r->body.len);
		err_hint(e, html ? "an HTML page usually means a login page or a proxy in front of "
				   "the API: check --base-url"
				 : "the records read so far are kept, the stream is not marked "
				   "complete; run again, and if it persists the provider sends "
				   "broken pages");
		cJSON_Delete(j);
		return -1;
	}
	cJSON *rec;
	int k = 0;
	cJSON_ArrayForEach(rec, (cJSON *)list) {
		const cJSON *id = cJSON_GetObjectItemCaseSensitive(rec, "sourcedId");
		(*n)++;
		if (!cJSON_IsString(id)) {
			log_warn("oneroster: %s: a record without a sourcedId left out", ep);
			continue;
		}
		if (k++ == 0) {
			if (offset && !strcmp(ls->first_id, id->valuestring)) {
				err_clear(e);
				err_where(e, c->run->source, ep);
				err_set(e, ERR_PAGING, "the page at offset %lld starts with the same "
					    "record as the page before (%.100s)", offset,
					id->valuestring);
				err_hint(e, "the provider ignores offset: the records read so far are "
					    "kept, the stream is not marked complete");
				cJSON_Delete(j);
				return -1;
			}
			snprintf(ls->first_id, sizeof ls->first_id, "%s", id->valuestring);
		}
		const cJSON *dlm = cJSON_GetObjectItemCaseSensitive(rec, "dateLastModified");
		/* ISO 8601 in one form per provider: text order is time order */
		if (cJSON_IsString(dlm) && strlen(dlm->valuestring) < sizeof ls->newest &&
		    strcmp(dlm->valuestring, ls->newest) > 0)
			snprintf(ls->newest, sizeof ls->newest, "%s", dlm->valuestring);
		int had = strset_add(&ls->seen, id->valuestring);
		if (had) {
			if (had < 0) {
				err_clear(e);
				err_set(e, ERR_IO, "out of memory recording the records read");
				cJSON_Delete(j);
				return -1;
			}
			ls->dups++;
			continue;
		}
		char *txt = NULL;
		if (!oneroster_flatten(rec, !strcmp(ls->ent->name, "users")))
			txt = cJSON_PrintUnformatted(rec);
		int w = txt ? extract_record(c->run, txt, strlen(txt)) : -1;
		free(txt);
		if (w) {
			err_clear(e);
			err_set(e, ERR_IO, "writing the output failed");
			cJSON_Delete(j);
			return -1;
		}
	}
	cJSON_Delete(j);
	return 0;
}

/* Reads one page at offset: *n records on it, *told its X-Total-Count. */
static int read_page(struct orx *c, struct list *ls, long long offset, int *n, long long *told,
		     struct rt_err *e)
{
	struct buf url;
	struct http_resp r;
	buf_init(&url, 1 << 16);
	http_resp_init(&r, 1 << 30);
	page_url(c, ls, offset, &url);
	*n = 0;
	int rc = get(c, url.data, &r, e) ? -1 : page_records(c, ls, offset, url.data, &r, n, told, e);
	http_resp_free(&r);
	buf_free(&url);
	return rc;
}

/* After page number page (at offset, n records, X-Total-Count told):
 * -1 with e filled, 1 the list is read, 0 read on. */
static int page_done(struct orx *c, struct list *ls, int page, long long offset, int n,
		     long long told, struct rt_err *e)
{
	if (!page)
		ls->total = told;
	else if (told != ls->total) {
		char ep[256];
		snprintf(ep, sizeof ep, "GET %s%s", strstr(c->root.data, "/ims/"), ls->ent->path);
		err_clear(e);
		err_where(e, c->run->source, ep);
		if (told < 0 || ls->total < 0)
			err_set(e, ERR_PAGING, "X-Total-Count came on some pages and not others");
		else
			err_set(e, ERR_PAGING, "X-Total-Count changed from %lld to %lld "
				    "mid-read (offset %lld)", ls->total, told, offset);
		err_hint(e, "the data changed while it was read (or the provider counts "
			    "wrongly): the records read are kept, the stream is not marked "
			    "complete; the next run reads it whole");
		return -1;
	}
	ls->read += n;
	if (n == 0)
		return 1;
	if (n > ls->limit) { /* it ignored limit: that was everything */
		log_warn("oneroster: %s: the provider sent %d records for limit %d (it ignores "
			 "limit): read as the whole list", ls->ent->path, n, ls->limit);
		return 1;
	}
	if (ls->total >= 0) {
		if (ls->read >= ls->total)
			return 1;
		if (n < ls->limit && !page)
			ls->limit = n; /* its cap, below ours */
		return 0;
	}
	if (n < ls->limit) {
		if (page || ls->confirm)
			return 1;
		/* a short first page without a total: the end, or the
		 * provider's cap below ours; one more page tells */
		ls->confirm = 1;
		ls->limit = n;
	}
	return 0;
}

/* ---- pages read ahead: several in flight, read in offset order ---- */

struct ahead_slot {
	struct buf url, auth;
	const char *hdr[3];
	struct signer g;
	int unsent; /* prepare failed: its error is not the provider's answer */
};

struct ahead {
	struct orx *c;
	struct list *ls;
	int *page;          /* the next page's number, moved on as pages are read */
	long long *offset;  /* and its offset */
	int npages;         /* request i is the page at start + i * limit */
	long long start;
	int done;           /* 1: the list is read */
	struct ahead_slot *slot;
	int n;
	struct rt_err *e;
};

static int ahead_prepare(void *ud, size_t i, struct fetch_req *q, struct rt_err *e)
{
	struct ahead *a = ud;
	struct orx *c = a->c;
	if (i >= (size_t)a->npages)
		return 1;
	struct ahead_slot *sl = &a->slot[i % (size_t)a->n];
	page_url(c, a->ls, a->start + (long long)i * a->ls->limit, &sl->url);
	sl->unsent = 1;
	if (!c->oauth1 && token_due(c) && get_token(c, e))
		return -1;
	/* each request its own copy of the header: a token renewed meanwhile
	 * does not pull it from under a request still being retried */
	buf_wipe(&sl->auth);
	buf_init(&sl->auth, 64 * 1024);
	if (!c->oauth1 && buf_adds(&sl->auth, c->auth.data ? c->auth.data : "")) {
		err_set(e, ERR_IO, "out of memory");
		return -1;
	}
	sl->unsent = 0;
	sl->hdr[0] = sl->auth.data;
	sl->hdr[1] = "Accept: application/json";
	sl->hdr[2] = NULL;
	sl->g = (struct signer){c, &sl->auth, sl->hdr};
	*q = (struct fetch_req){.method = "GET", .url = sl->url.data, .headers = sl->hdr};
	if (c->oauth1) {
		q->sign = sign;
		q->sign_ud = &sl->g;
	}
	return 0;
}

/* 0 read on, -1 failed (a->e filled), 1 the list is read, 2 a short page
 * in the middle: the offsets planned are wrong, read on one by one. */
static int ahead_deliver(void *ud, size_t i, int rc, struct http_resp *r, struct rt_err *e)
{
	struct ahead *a = ud;
	struct orx *c = a->c;
	struct ahead_slot *sl = &a->slot[i % (size_t)a->n];
	struct http_resp again;
	int n = 0;
	long long told = -1;
	http_resp_init(&again, 1 << 30);
	if (rc && !c->oauth1 && !sl->unsent && e->status == 401) {
		/* as get() does: a new token (unless one came since) and once more */
		int stale = !strcmp(sl->auth.data ? sl->auth.data : "", c->auth.data ? c->auth.data : "");
		if (stale)
			log_warn("oneroster: %s: 401, getting a new token and trying once more",
				 e->endpoint);
		err_clear(e);
		rc = (stale && get_token(c, e)) || get_renewed(c, sl->url.data, &again, 1, e) ? -1 : 0;
		r = &again;
	}
	if (!rc)
		rc = page_records(c, a->ls, *a->offset, sl->url.data, r, &n, &told, e) ? -1
		     : page_done(c, a->ls, *a->page, *a->offset, n, told, e);
	http_resp_free(&again);
	if (rc < 0) {
		*a->e = *e;
		return -1;
	}
	(*a->page)++;
	*a->offset += n;
	if (rc)
		a->done = 1;
	else if (n < a->ls->limit)
		rc = 2;
	return rc;
}

/* Reads the pages after the first, several at a time, up to the total or
 * the page cap. -1 with e filled, 1 the list is read, 0 read on one by one
 * from *page and *offset. */
static int read_ahead(struct orx *c, struct list *ls, int *page, long long *offset, int cap,
		      struct rt_err *e)
{
	long long left = ls->total - ls->read;
	long long pages = (left + ls->limit - 1) / ls->limit;
	if (pages > cap - *page)
		pages = cap - *page;
	if (pages <= 0)
		return 0;
	struct ahead a = {.c = c, .ls = ls, .page = page, .offset = offset,
			  .npages = (int)pages, .start = *offset, .n = c->concurrency, .e = e};
	a.slot = calloc((size_t)a.n, sizeof *a.slot);
	if (!a.slot) {
		err_set(e, ERR_IO, "out of memory");
		return -1;
	}
	for (int k = 0; k < a.n; k++) {
		buf_init(&a.slot[k].url, 1 << 16);
		buf_init(&a.slot[k].auth, 64 * 1024);
	}
	struct fetch_many m = {.concurrency = a.n, .max_body = 1 << 30, .prepare = ahead_prepare,
			       .deliver = ahead_deliver, .ud = &a};
	int rc = source_fetch_many(c->run->src, &m, e);
	for (int k = 0; k < a.n; k++) {
		buf_free(&a.slot[k].url);
		buf_wipe(&a.slot[k].auth);
	}
	free(a.slot);
	return rc < 0 ? -1 : a.done;
}

static int read_list(struct orx *c, struct list *ls, struct rt_err *e)
{
	struct pager pg;
	long long offset = 0;
	int rc = 0, ahead = 0;
	set_root(c, c->version); /* probe_version left it at the last candidate's */
	pager_init(&pg, c->root.data, c->o->max_pages);
	int cap = c->o->max_pages > 0 ? c->o->max_pages : PAGER_DEFAULT_MAX_PAGES;
	for (int page = 0;;) {
		int n;
		long long told = -1;
		if (page >= cap) {
			err_clear(e);
			err_where(e, c->run->source, NULL);
			err_set(e, ERR_PAGING, "%s: the page cap (%d pages) is reached", ls->ent->path,
				cap);
			err_hint(e, "raise --max-pages or --page-size");
			rc = -1;
			break;
		}
		if (page && ls->total >= 0 && c->concurrency > 1 && !ahead) {
			ahead = 1;
			if ((rc = read_ahead(c, ls, &page, &offset, cap, e)) != 0)
				break;
			continue;
		}
		if ((rc = read_page(c, ls, offset, &n, &told, e)))
			break;
		if ((rc = page_done(c, ls, page, offset, n, told, e)))
			break;
		offset += n;
		page++;
	}
	if (rc > 0)
		rc = 0;
	if (!rc && ls->total >= 0 && pager_check_total(&pg, ls->total, ls->read, e)) {
		char ep[256];
		snprintf(ep, sizeof ep, "GET %s%s", strstr(c->root.data, "/ims/"), ls->ent->path);
		err_where(e, c->run->source, ep);
		err_hint(e, "the provider's X-Total-Count disagrees with the records its pages "
			    "held: the records read are kept, the stream is not marked complete");
		rc = -1;
	}
	pager_free(&pg);
	return rc;
}

/* Seconds since the epoch of an ISO 8601 UTC time ("2026-12-08T00:22:00Z",
 * fractions and offsets ignored), or -1. */
static double iso_time(const char *s)
{
	int y, mo, d, h, mi, se;
	if (!s || sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d", &y, &mo, &d, &h, &mi, &se) != 6)
		return -1;
	return (double)civil_to_days(y, mo, d) * 86400 + h * 3600 + mi * 60 + se;
}

/* Reads one stream whole, or (a delta run) its changes since its bookmark
 * "since_<name>", the latest dateLastModified an earlier run read. The
 * bookmark moves on only when the stream is read completely. 0: complete. */
static int stream(struct orx *c, const struct entity *ent, int is_last)
{
	struct rt_err e;
	struct list ls = {.ent = ent, .total = -1, .limit = c->limit};
	char sname[64], key[64];
	snprintf(sname, sizeof sname, "oneroster_%s", ent->name);
	snprintf(key, sizeof key, "since_%s", ent->name);
	const char *old = extract_remembered(c->run, key);
	ls.since = c->full ? NULL : old;
	strset_init(&ls.seen);
	extract_stream_begin(c->run, sname, id_key);
	err_clear(&e);
	int rc = read_list(c, &ls, &e);
	if (ls.dups)
		extract_note_add(c->run->cur->note, sizeof c->run->cur->note,
				 "%ld records came twice (the data changed while it was read) and "
				 "were sent once", ls.dups);
	const char *next = !rc && ls.newest[0] && (!old || strcmp(ls.newest, old) > 0) ? ls.newest : old;
	if (next)
		extract_bookmark(c->run, key, next);
	c->failed |= rc != 0;
	/* the last stream's STATE is the run's last: a full read moves
	 * last_full on only when every stream was read */
	if (is_last && c->full && !c->failed && !c->oo->streams)
		extract_bookmark(c->run, "last_full", c->run->time_extracted);
	else if (is_last && c->last_full[0])
		extract_bookmark(c->run, "last_full", c->last_full);
	if (rc || !ls.since) {
		extract_stream_end(c->run, rc ? &e : NULL);
	} else {
		char why[160];
		snprintf(why, sizeof why, "a delta read: the records changed since %s", ls.since);
		extract_stream_end_changes(c->run, why);
	}
	strset_free(&ls.seen);
	return rc;
}

/* Whether this run reads everything: no --delta, no bookmark of a full
 * read, a full read due (--full-every days, an hour of slack), or another
 * API version than last time (1.2 may give new sourcedIds). */
static int full_due(const struct orx *c, const char *version)
{
	const char *last = extract_remembered(c->run, "last_full");
	const char *was = extract_remembered(c->run, "api_version");
	int days = c->oo->full_every > 0 ? c->oo->full_every : ONEROSTER_FULL_EVERY;
	double t = iso_time(last);
	if (!c->oo->delta || t < 0 || !was || strcmp(was, version))
		return 1;
	return clk_now() - t >= days * 86400.0 - 3600;
}

int oneroster_check_opts(const struct oneroster_opts *oo, const struct extract_opts *o,
			 struct rt_err *e)
{
	const char *lists[2] = {oo->streams, oo->versions};
	const char *what[2] = {"--streams", "--versions"};
	const char *known[2] = {ONEROSTER_STREAMS, ONEROSTER_VERSIONS_KNOWN};
	for (int k = 0; k < 2; k++) {
		char w[64];
		for (const char *p = lists[k]; list_next(&p, w, sizeof w);)
			if (!list_has(known[k], w)) {
				err_set(e, ERR_USAGE, "%s: unknown name '%s' (known: %s)", what[k], w,
					known[k]);
				return -1;
			}
	}
	if (!o->base_url) {
		err_set(e, ERR_USAGE, "OneRoster needs --base-url: the provider's URL before "
				      "/ims/oneroster/ (Infinite Campus: https://HOST/campus/api/"
				      "oneroster/{version}/APPNAME)");
		return -1;
	}
	if (oo->full_every < 0) {
		err_set(e, ERR_USAGE, "--full-every must be a whole number of days");
		return -1;
	}
	if (oo->concurrency < 0 || oo->concurrency > FETCH_MAX_CONCURRENCY) {
		err_set(e, ERR_USAGE, "--concurrency must be a whole number from 1 to %d",
			FETCH_MAX_CONCURRENCY);
		return -1;
	}
	if (oo->page_size > ONEROSTER_MAX_LIMIT) {
		err_set(e, ERR_USAGE, "--page-size %d is over %d", oo->page_size,
			ONEROSTER_MAX_LIMIT);
		return -1;
	}
	int two = oo->client_id || oo->client_secret, one = oo->consumer_key || oo->consumer_secret;
	if (two && one) {
		err_set(e, ERR_USAGE, "give OAuth 2 (--client-id, --client-secret) or OAuth 1.0a "
				      "(--consumer-key, --consumer-secret), not both");
		return -1;
	}
	if (one && (!oo->consumer_key || !oo->consumer_secret)) {
		err_set(e, ERR_USAGE, "OAuth 1.0a needs --consumer-key and --consumer-secret "
				      "creds:NAME");
		return -1;
	}
	if (!one && (!oo->client_id || !oo->client_secret || !o->token_url)) {
		err_set(e, ERR_USAGE, "OneRoster needs OAuth 2 (--client-id, --client-secret "
				      "creds:NAME and --token-url) or OAuth 1.0a (--consumer-key and "
				      "--consumer-secret creds:NAME)");
		return -1;
	}
	return 0;
}

int oneroster_extract(struct extract_run *run, const struct extract_opts *o,
		      const struct oneroster_opts *oo)
{
	struct orx c = {.run = run, .o = o, .oo = oo, .oauth1 = oo->consumer_key != NULL};
	struct rt_err e;
	const char *streams = oo->streams ? oo->streams : ONEROSTER_STREAMS;
	const char *cands[4];
	int n = 0, winner = 0;
	char w[16];
	for (const char *p = oo->versions ? oo->versions : ONEROSTER_VERSIONS;
	     n < 3 && list_next(&p, w, sizeof w);)
		for (int k = 0; k < 3; k++) {
			static const char *const all[] = {"v1p2", "v1p1", "v1p0"};
			if (!strcmp(w, all[k]))
				cands[n++] = all[k];
		}
	buf_init(&c.auth, 64 * 1024);
	buf_init(&c.root, 1 << 16);
	oauth2_token_init(&c.tok);
	c.oc = (struct oauth1_client){.consumer_key = oo->consumer_key,
				      .consumer_secret = oo->consumer_secret};
	c.limit = o->page_size > 0 ? o->page_size : ONEROSTER_PAGE_SIZE;
	c.concurrency = oo->concurrency > 0 ? oo->concurrency : ONEROSTER_CONCURRENCY;
	run->src->ud = &c;
	err_clear(&e);
	if ((!c.oauth1 && get_token(&c, &e)) ||
	    version_pick(cands, n, extract_remembered(run, "api_version"), probe_version, &c,
			 &winner, &e)) {
		if (!e.source[0])
			err_where(&e, run->source, NULL);
		extract_fail_all(run, "oneroster_", streams, &e);
	} else {
		c.version = cands[winner];
		c.oc.method = strcmp(c.version, "v1p0") ? OAUTH1_HMAC_SHA256 : OAUTH1_HMAC_SHA1;
		extract_bookmark(run, "api_version", c.version);
		const char *last = extract_remembered(run, "last_full");
		if (last)
			snprintf(c.last_full, sizeof c.last_full, "%s", last);
		c.full = full_due(&c, c.version);
		log_info("oneroster: reading %s with %s%s", c.version,
			 c.oauth1 ? oauth1_method_name(c.oc.method) : "OAuth 2",
			 c.full ? "" : ", changes only (delta)");
		const struct entity *final = NULL;
		for (const struct entity *ent = entities; ent->name; ent++) {
			char key[64];
			snprintf(key, sizeof key, "since_%s", ent->name);
			const char *kept = extract_remembered(run, key);
			if (list_has(streams, ent->name))
				final = ent;
			else if (kept) /* not read tonight: its bookmark stays */
				extract_bookmark(run, key, kept);
		}
		for (const struct entity *ent = entities; ent->name; ent++)
			if (list_has(streams, ent->name))
				stream(&c, ent, ent == final);
	}
	run->src->ud = NULL;
	buf_wipe(&c.auth);
	buf_free(&c.root);
	oauth2_token_free(&c.tok);
	return 0;
}
