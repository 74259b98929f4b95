#include "core/b64.h"
#include "core/clock.h"
#include "core/log.h"
#include "core/strset.h"
#include "core/wordlist.h"
#include "net/pager.h"
#include "net/url.h"
#include "net/versions.h"
#include "vendor/clever/clever.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const versions[] = {"v3.0"};
static const char *const id_key[] = {"id", NULL};

struct clever {
	struct extract_run *run;
	const struct extract_opts *o;
	const struct clever_opts *co;
	const char *base;
	const char *version;
	struct buf auth; /* "Authorization: Bearer ..."; wiped at the end */
	int limit;
	/* users seen in an earlier role query: a multi-role user is sent once */
	struct strset seen;
	long students_no_email;
};

const struct job_key clever_job_keys[] = {
	{"client_id", "--client-id", JK_PLAIN},
	{"client_secret", "--client-secret", JK_SECRET},
	{"token", "--token", JK_SECRET},
	{"district", "--district", JK_PLAIN},
	{"streams", "--streams", JK_PLAIN},
	{"roles", "--roles", JK_PLAIN},
	{NULL, NULL, JK_PLAIN},
};

/* ---- hints: what an administrator should check, per status ---- */

const struct rate_window clever_window = {"X-RateLimit-Remaining", "X-RateLimit-Reset"};

void clever_explain(struct rt_err *e, const struct http_resp *r, void *ud)
{
	(void)ud;
	cJSON *j = r->body.data ? cJSON_ParseWithLength(r->body.data, r->body.len) : NULL;
	const cJSON *m = cJSON_GetObjectItemCaseSensitive(j, "message");
	const cJSON *err = cJSON_GetObjectItemCaseSensitive(j, "error");
	const cJSON *desc = cJSON_GetObjectItemCaseSensitive(j, "error_description");
	if (cJSON_IsString(err))
		snprintf(e->code, sizeof e->code, "%s", err->valuestring);
	const char *said = cJSON_IsString(m) ? m->valuestring
			 : cJSON_IsString(desc) ? desc->valuestring : NULL;
	if (said && *said) {
		size_t l = strlen(e->msg);
		snprintf(e->msg + l, sizeof e->msg - l, ": %.200s", said);
	} else if (!j && r->body.len && !r->transport_error) {
		size_t l = strlen(e->msg);
		snprintf(e->msg + l, sizeof e->msg - l, " with a non-JSON body");
	}
	cJSON_Delete(j);
	switch (e->status) {
	case 401:
		err_hint(e, "Clever refused the district token: the district may have disconnected "
			    "the app, or the token is not a district-app token");
		break;
	case 403:
		err_hint(e, "the app's token lacks the scope for this data: check in the Clever "
			    "dashboard that the district shares it with the app (read:sections, "
			    "read:students, read:teachers, ...)");
		break;
	case 404:
		err_hint(e, "Clever does not share this with the token: the record was deleted or not "
			    "shared, or the token is of the wrong kind (a user token instead of a "
			    "district-app token)");
		break;
	case 413:
		err_hint(e, "the page size is above Clever's maximum of %d", CLEVER_MAX_LIMIT);
		break;
	case 429:
		err_hint(e, "Clever's limit is %d requests a minute per token; lower --rate or run "
			    "later", CLEVER_RATE);
		break;
	default:
		if (e->status >= 500)
			err_hint(e, "Clever is failing on its side; the run can be retried later");
	}
}

/* ---- token ---- */

static int get_token(struct clever *c, struct rt_err *e)
{
	const struct clever_opts *co = c->co;
	if (co->token) {
		int rc = buf_printf(&c->auth, "Authorization: Bearer %s", co->token);
		explicit_bzero(co->token, strlen(co->token)); /* the header holds it now */
		if (rc)
			err_set(e, ERR_CONFIG, "the stored district token is too long for a header");
		return rc;
	}
	struct buf url, userpwd;
	struct http_resp r;
	int rc = -1;
	buf_init(&url, 8192);
	buf_init(&userpwd, 128 * 1024); /* a stored secret may be 64 KiB */
	http_resp_init(&r, 16 << 20);
	buf_adds(&url, c->o->token_url ? c->o->token_url : CLEVER_TOKEN_URL);
	buf_adds(&url, "?owner_type=district");
	if (co->district) {
		buf_adds(&url, "&district=");
		pct_encode(co->district, &url);
	}
	int too_long = buf_printf(&userpwd, "%s:%s", co->client_id, co->client_secret);
	/* needed for this request only: a retry uses userpwd */
	explicit_bzero(co->client_secret, strlen(co->client_secret));
	if (too_long) {
		err_set(e, ERR_CONFIG, "the client id and secret are too long for HTTP Basic auth");
		goto out;
	}
	static const char *const hdr[] = {"Accept: application/json", NULL};
	struct fetch_req q = {.method = "GET", .url = url.data, .headers = hdr,
			      .userpwd = userpwd.data};
	if (source_fetch(c->run->src, &q, &r, e)) {
		if (e->status == 401 || e->status == 400)
			err_hint(e, "Clever refused the client id \"%s\" with its secret: check the "
				    "client id and the secret in %s against the app's settings in the "
				    "Clever dashboard", co->client_id,
				 co->secret_name ? co->secret_name : "the job");
		goto out;
	}
	cJSON *j = cJSON_ParseWithLength(r.body.data ? r.body.data : "", r.body.len);
	const cJSON *data = cJSON_GetObjectItemCaseSensitive(j, "data");
	const cJSON *pick = NULL, *t;
	int n = 0;
	char ids[256] = "";
	err_where(e, c->run->source, "GET /oauth/tokens");
	if (!cJSON_IsArray(data)) {
		err_set(e, ERR_DATA, "the token list is not the JSON Clever sends (no data array)");
		err_hint(e, "check --token-url: it should be Clever's /oauth/tokens");
		cJSON_Delete(j);
		goto out;
	}
	cJSON_ArrayForEach(t, data) {
		const cJSON *owner = cJSON_GetObjectItemCaseSensitive(t, "owner");
		const cJSON *id = cJSON_GetObjectItemCaseSensitive(owner, "id");
		const char *sid = cJSON_IsString(id) ? id->valuestring : "?";
		size_t l = strlen(ids);
		snprintf(ids + l, sizeof ids - l, "%s%s", l ? ", " : "", sid);
		if (!co->district || !strcmp(sid, co->district)) {
			pick = t;
			n++;
		}
	}
	const cJSON *at = cJSON_GetObjectItemCaseSensitive(pick, "access_token");
	if (n == 1 && cJSON_IsString(at)) {
		err_redact_add(at->valuestring);
		rc = buf_printf(&c->auth, "Authorization: Bearer %s", at->valuestring);
		explicit_bzero(at->valuestring, strlen(at->valuestring));
		if (rc)
			err_set(e, ERR_DATA, "the district token Clever sent is too long for a header");
	} else if (n == 0) {
		err_set(e, ERR_CONFIG, co->district ? "no district token for district %s (tokens for: %s)"
						    : "no district has connected this app%s%s",
			co->district ? co->district : "", ids);
		err_hint(e, "the district must add the app in its Clever dashboard; with several "
			    "districts, name the one to read (district = in the job, --district)");
	} else {
		err_set(e, ERR_CONFIG, "%d districts have connected this app (%s)", n, ids);
		err_hint(e, "name the district to read (district = in the job, --district)");
	}
	/* wipe every token in the list before it is freed */
	cJSON_ArrayForEach(t, data) {
		cJSON *a = cJSON_GetObjectItemCaseSensitive(t, "access_token");
		if (cJSON_IsString(a))
			explicit_bzero(a->valuestring, strlen(a->valuestring));
	}
	cJSON_Delete(j);
out:
	buf_wipe(&r.body);
	buf_wipe(&userpwd);
	buf_free(&url);
	http_resp_free(&r);
	return rc;
}

/* ---- paging ---- */

/* Counts students Clever sends without an email (sharing is off by default). */
static void note_email(struct clever *c, const cJSON *rec)
{
	const cJSON *roles = cJSON_GetObjectItemCaseSensitive(rec, "roles");
	if (!cJSON_GetObjectItemCaseSensitive(roles, "student"))
		return;
	const cJSON *em = cJSON_GetObjectItemCaseSensitive(rec, "email");
	if (!cJSON_IsString(em) || !*em->valuestring)
		c->students_no_email++;
}

/* Reads one page: the double-nested envelope, records out, the next link. */
static int read_page(struct clever *c, const char *url, struct buf *next, int dedupe_users,
		     struct rt_err *e)
{
	const char *hdr[] = {c->auth.data, "Accept: application/json", NULL};
	struct http_resp r;
	int rc = -1;
	http_resp_init(&r, 1 << 30);
	struct fetch_req q = {.method = "GET", .url = url, .headers = hdr};
	buf_reset(next);
	if (source_fetch(c->run->src, &q, &r, e))
		goto out;
	char endpoint[256];
	source_endpoint("GET", url, endpoint, sizeof endpoint);
	cJSON *j = cJSON_ParseWithLength(r.body.data ? r.body.data : "", r.body.len);
	const cJSON *data = cJSON_GetObjectItemCaseSensitive(j, "data");
	if (!cJSON_IsArray(data)) {
		const char *ct = http_resp_header(&r, "Content-Type");
		err_clear(e);
		err_where(e, c->run->source, endpoint);
		e->status = (int)r.status;
		err_set(e, ERR_DATA, "expected Clever's JSON envelope, got %s%s (%zu bytes)",
			j ? "JSON without a data array" : "a body that is not JSON",
			ct ? (strstr(ct, "html") ? ", an HTML page" : "") : "", r.body.len);
		err_hint(e, "Clever answers HTML when the token is of the wrong kind or the base URL "
			    "is not the API's (%s)", CLEVER_BASE_URL);
		cJSON_Delete(j);
		goto out;
	}
	const cJSON *item;
	cJSON_ArrayForEach(item, data) {
		const cJSON *rec = cJSON_GetObjectItemCaseSensitive(item, "data");
		const cJSON *id = cJSON_GetObjectItemCaseSensitive(rec, "id");
		if (!cJSON_IsObject(rec)) {
			err_clear(e);
			err_where(e, c->run->source, endpoint);
			err_set(e, ERR_DATA, "an element of data[] has no inner data object");
			cJSON_Delete(j);
			goto out;
		}
		int had = dedupe_users && cJSON_IsString(id) ? strset_add(&c->seen, id->valuestring) : 0;
		if (had < 0) {
			err_clear(e);
			err_where(e, c->run->source, endpoint);
			err_set(e, ERR_IO, "out of memory recording the users read");
			cJSON_Delete(j);
			goto out;
		}
		if (had)
			continue;
		if (dedupe_users)
			note_email(c, rec);
		char *txt = cJSON_PrintUnformatted(rec);
		int w = txt ? extract_record(c->run, txt, strlen(txt)) : -1;
		free(txt);
		if (w) {
			err_set(e, ERR_IO, "writing the output failed");
			cJSON_Delete(j);
			goto out;
		}
	}
	const cJSON *links = cJSON_GetObjectItemCaseSensitive(j, "links"), *l;
	cJSON_ArrayForEach(l, links) {
		const cJSON *rel = cJSON_GetObjectItemCaseSensitive(l, "rel");
		const cJSON *uri = cJSON_GetObjectItemCaseSensitive(l, "uri");
		if (!cJSON_IsString(rel) || strcmp(rel->valuestring, "next"))
			continue;
		/* an unusable or second next link must not end the stream as complete */
		const char *why = NULL;
		if (next->len)
			why = "the page has two next links";
		else if (!cJSON_IsString(uri) || !*uri->valuestring)
			why = "the next link has no uri";
		else if (url_join(url, uri->valuestring, next))
			why = "the next link is not a usable URL";
		if (why) {
			err_clear(e);
			err_where(e, c->run->source, endpoint);
			err_set(e, ERR_PAGING, "%s (%.200s)", why,
				cJSON_IsString(uri) ? uri->valuestring : "no uri");
			err_hint(e, "Clever's paging links are not what Clever documents: the records "
				    "read so far are kept, the stream is not marked complete");
			cJSON_Delete(j);
			goto out;
		}
	}
	cJSON_Delete(j);
	rc = 0;
out:
	http_resp_free(&r);
	return rc;
}

/* Reads every page of one list, following rel=next links under the guards. */
static int read_list(struct clever *c, const char *path, const char *role, struct rt_err *e)
{
	struct buf url, next;
	struct pager pg;
	int rc = 0;
	buf_init(&url, 1 << 16);
	buf_init(&next, 1 << 16);
	buf_printf(&url, "%s/%s/%s?limit=%d", c->base, c->version, path, c->limit);
	if (role)
		buf_printf(&url, "&role=%s", role);
	pager_init(&pg, url.data, c->o->max_pages);
	for (;;) {
		if ((rc = read_page(c, url.data, &next, role != NULL, e)))
			break;
		if (!next.len)
			break;
		if ((rc = pager_next(&pg, next.data, e))) {
			err_where(e, c->run->source, NULL);
			break;
		}
		buf_reset(&url);
		buf_add(&url, next.data, next.len);
		if (pager_pages(&pg) % 20 == 0) /* progress for long runs */
			log_info("clever: %s: %ld records so far (%d pages of %s)", c->run->cur->name,
				 c->run->cur->records, pager_pages(&pg), path);
	}
	pager_free(&pg);
	buf_free(&url);
	buf_free(&next);
	return rc;
}

int clever_check_opts(const struct clever_opts *co, struct rt_err *e)
{
	const char *lists[2] = {co->streams, co->roles};
	const char *what[2] = {"--streams", "--roles"};
	const char *known[2] = {CLEVER_STREAMS, CLEVER_ROLES_KNOWN};
	for (int k = 0; k < 2; k++) {
		char w[64];
		for (const char *p = lists[k]; list_next(&p, w, sizeof w);)
			if (!list_has(known[k], w)) {
				err_set(e, ERR_USAGE, "%s: unknown name '%s' (known: %s)", what[k], w,
					known[k]);
				return -1;
			}
	}
	if (co->page_size > CLEVER_MAX_LIMIT) {
		err_set(e, ERR_USAGE, "--page-size %d is over Clever's maximum of %d", co->page_size,
			CLEVER_MAX_LIMIT);
		return -1;
	}
	if (!co->token && (!co->client_id || !co->client_secret)) {
		err_set(e, ERR_USAGE, "Clever needs a district token (--token creds:NAME) or a client id "
				      "with its secret (--client-id and --client-secret creds:NAME)");
		return -1;
	}
	return 0;
}

static int probe_version(const char *cand, void *ud, struct rt_err *e)
{
	/* the cheapest call that proves the version: one district, limit 1 */
	struct clever *c = ud;
	struct buf url;
	buf_init(&url, 1 << 16);
	buf_printf(&url, "%s/%s/districts?limit=1", c->base, cand);
	const char *hdr[] = {c->auth.data, "Accept: application/json", NULL};
	struct http_resp r;
	http_resp_init(&r, 16 << 20);
	struct fetch_req q = {.method = "GET", .url = url.data, .headers = hdr};
	int rc = source_fetch(c->run->src, &q, &r, e);
	http_resp_free(&r);
	buf_free(&url);
	return rc;
}

static void stream(struct clever *c, const char *name, const char *path, int users)
{
	struct rt_err e;
	char sname[64];
	snprintf(sname, sizeof sname, "clever_%s", name);
	extract_stream_begin(c->run, sname, id_key);
	err_clear(&e);
	int rc = 0;
	if (users) {
		const char *roles = c->co->roles ? c->co->roles : CLEVER_ROLES;
		char role[64];
		for (const char *p = roles; !rc && list_next(&p, role, sizeof role);)
			rc = read_list(c, path, role, &e);
		if (c->students_no_email) {
			snprintf(c->run->cur->note, sizeof c->run->cur->note,
				 "%ld students have no email: Clever shares student emails only when "
				 "the district enables it (Clever dashboard > the app's data sharing / "
				 "privacy settings, 'Student email')", c->students_no_email);
			log_warn("clever: %s", c->run->cur->note);
		}
	} else {
		rc = read_list(c, path, NULL, &e);
	}
	extract_stream_end(c->run, rc ? &e : NULL);
}

int clever_extract(struct extract_run *run, const struct extract_opts *o,
		   const struct clever_opts *co)
{
	struct clever c = {.run = run, .o = o, .co = co};
	struct rt_err e;
	const char *streams = co->streams ? co->streams : CLEVER_STREAMS;
	int winner = 0;
	buf_init(&c.auth, 64 * 1024);
	c.base = o->base_url ? o->base_url : CLEVER_BASE_URL;
	c.limit = o->page_size > 0 ? o->page_size : CLEVER_MAX_LIMIT;
	err_clear(&e);
	if (get_token(&c, &e) ||
	    version_pick(versions, 1, extract_remembered(run, "api_version"), probe_version, &c,
			 &winner, &e)) {
		/* without a token no stream can be read: each fails with the cause */
		if (!e.source[0])
			err_where(&e, run->source, NULL);
		extract_fail_all(run, "clever_", streams, &e);
	} else {
		c.version = versions[winner];
		extract_bookmark(run, "api_version", c.version);
		char w[32];
		for (const char *p = CLEVER_STREAMS; list_next(&p, w, sizeof w);)
			if (list_has(streams, w))
				stream(&c, w, w, !strcmp(w, "users"));
	}
	buf_wipe(&c.auth);
	strset_free(&c.seen);
	return 0;
}
