#include "vendor/graph/graph_int.h"
#include "core/b64.h"
#include "core/buf.h"
#include "core/clock.h"
#include "core/err.h"
#include "core/log.h"
#include "core/wordlist.h"
#include "format/jobfile.h"
#include "format/snapshot.h"
#include "net/fetch.h"
#include "net/http.h"
#include "net/pager.h"
#include "net/url.h"
#include "auth/oauth2.h"
#include "engine/extract.h"
#include "vendor/graph/graph.h"

#include <cjson/cJSON.h>
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- wire facts ---- */

static const char *const all_streams = GRAPH_STREAMS;

const char *const graph_id_key[] = {"id", NULL};
const char *const graph_member_key[] = {"group_id", "id", NULL};
/* what a stored object must not keep from a delta page */
const char *const graph_delta_skip[] = {"@removed", "members@delta", NULL};

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

/* ---- the run ---- */


void graph_note(struct graph *g, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void graph_note(struct graph *g, const char *fmt, ...)
{
	struct extract_stream *s = g->run->cur;
	if (!s)
		return;
	va_list ap;
	va_start(ap, fmt);
	extract_note_vadd(s->note, sizeof s->note, fmt, ap);
	va_end(ap);
}

void graph_explain(struct rt_err *e, const struct http_resp *r, void *ud)
{
	struct graph *g = ud;
	if (r->transport_error || !g) /* fetch.c's hint says what to check */
		return;
	graph_explain_answer(e, r->status, http_resp_header(r, "Content-Type"), r->body.data,
			     r->body.len, &g->ctx);
	const char *scope = http_resp_header(r, "x-ms-throttle-scope");
	if (r->status == 429 && scope)
		graph_add_msg(e, " (throttle scope %.120s)", scope);
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

int graph_emit(struct graph *g, const cJSON *obj, struct rt_err *e)
{
	char *txt = cJSON_PrintUnformatted(obj);
	int w = txt ? extract_record(g->run, txt, strlen(txt)) : -1;
	free(txt);
	if (w)
		err_set(e, ERR_IO, "writing the output failed");
	return w;
}

const char *graph_id_of(const cJSON *obj)
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

int graph_same_origin(const struct graph *g, const char *link)
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
		} else if (!graph_id_of(item)) {
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
		else if (!graph_same_origin(g, dl->valuestring))
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
int graph_read_list(struct graph *g, const char *first, item_fn fn, void *ud,
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
	return graph_emit(g, item, e);
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
	if (!(g->gids[g->ngids] = strdup(graph_id_of(item))))
		goto oom;
	g->ngids++;
	return 0;
oom:
	err_set(e, ERR_IO, "out of memory recording the groups read");
	return -1;
}

static int emit_group(struct graph *g, cJSON *item, void *ud, struct rt_err *e)
{
	return keep_gid(g, item, ud, e) || graph_emit(g, item, e) ? -1 : 0;
}

static void drop_gids(struct graph *g)
{
	for (size_t i = 0; i < g->ngids; i++)
		free(g->gids[i]);
	g->ngids = 0;
}

const char *graph_type_of(const cJSON *obj)
{
	const cJSON *t = cJSON_GetObjectItemCaseSensitive(obj, "@odata.type");
	return cJSON_IsString(t) ? t->valuestring : NULL;
}

/* A user member as Graph sent it plus its group's id; the others counted. */
int graph_emit_member(struct graph *g, const cJSON *m, const char *gid, struct rt_err *e)
{
	const char *type = graph_type_of(m);
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
	int rc = graph_emit(g, dup, e);
	cJSON_Delete(dup);
	return rc;
}

static int member_item(struct graph *g, cJSON *item, void *ud, struct rt_err *e)
{
	return graph_emit_member(g, item, ud, e);
}

static void url_list(struct graph *g, struct buf *u, const char *path, const char *select)
{
	buf_reset(u);
	buf_printf(u, "%s/%s?$select=%s&$top=%d", g->base.data, path, select, g->top);
}

void graph_stream_begin(struct graph *g, const char *name, const char *const *keys,
			 const char *need)
{
	extract_stream_begin(g->run, name, keys);
	g->ctx.need = need;
	g->pages = g->items = 0;
}

void graph_stream_end(struct graph *g, const struct rt_err *e)
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
		rc = graph_read_list(g, u.data, keep_gid, NULL, NULL, e);
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
		rc = graph_read_list(g, u.data, member_item, g->gids[i], NULL, e);
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

void graph_note_kinds(struct graph *g)
{
	char text[400];
	graph_kinds_note(&g->kinds, text, sizeof text);
	if (text[0]) {
		graph_note(g, "%s", text);
		log_info("graph: %s", text);
	}
	if (g->groups_gone)
		graph_note(g, "%ld group%s deleted during the run", g->groups_gone,
		     g->groups_gone == 1 ? " was" : "s were");
}

/* GET /users/$count (an advanced query: ConsistencyLevel: eventual, here
 * only) against the users read. A difference is a warning, not a failure:
 * the count is eventually consistent. */
void graph_check_count(struct graph *g, long read)
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
		graph_note(g, "the user count could not be checked (%d %s)", e.status, e.code);
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
			graph_note(g, "the user count could not be checked: /users/$count did not answer "
				"a number");
		} else if (pager_check_total(&pg, n, read, &e)) {
			log_warn("graph: /users/$count: %s; the count is eventually consistent "
				 "(users created or deleted in the last minutes may explain it)", e.msg);
			graph_note(g, "/users/$count: %s (the count is eventually consistent)", e.msg);
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
	graph_stream_begin(g, "graph_groups", graph_id_key, NEED_GROUPS);
	drop_gids(g);
	url_list(g, &u, "groups", GROUP_FIELDS);
	int rc = graph_read_list(g, u.data, emit_group, NULL, NULL, &e);
	g->groups_complete = rc == 0;
	graph_stream_end(g, rc ? &e : NULL);
	buf_free(&u);
}

static void plain_members(struct graph *g)
{
	struct rt_err e;
	err_clear(&e);
	graph_stream_begin(g, "graph_group_members", graph_member_key, NEED_GROUPS);
	memset(&g->kinds, 0, sizeof g->kinds);
	g->groups_gone = 0;
	int rc = read_members(g, &e);
	graph_note_kinds(g);
	graph_stream_end(g, rc ? &e : NULL);
}

static void plain_users(struct graph *g)
{
	struct rt_err e;
	struct buf u;
	buf_init(&u, LINK_CAP);
	err_clear(&e);
	graph_stream_begin(g, "graph_users", graph_id_key, NEED_USERS);
	url_list(g, &u, "users", USER_FIELDS);
	int rc = graph_read_list(g, u.data, emit_item, NULL, NULL, &e);
	if (!rc)
		graph_check_count(g, g->run->cur->records);
	graph_stream_end(g, rc ? &e : NULL);
	buf_free(&u);
}

static void deleted_users(struct graph *g)
{
	struct rt_err e;
	struct buf u;
	buf_init(&u, LINK_CAP);
	err_clear(&e);
	graph_stream_begin(g, "graph_deleted_users", graph_id_key, NEED_USERS);
	url_list(g, &u, "directory/deletedItems/microsoft.graph.user",
		 USER_FIELDS ",deletedDateTime");
	int rc = graph_read_list(g, u.data, emit_item, NULL, NULL, &e);
	graph_stream_end(g, rc ? &e : NULL);
	buf_free(&u);
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
		graph_delta_prepare(&g);
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
			graph_delta_stream(&g, order[i], order[i] == last_delta);
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
