#include "net/http.h"
#include "core/vec.h"

#include <curl/curl.h>
#include <ctype.h>
#include <malloc.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct http_client {
	CURL *curl;
	struct http_opts opts;
};

static int g_curl_ready;

/* libcurl keeps its own copies of the Authorization header and of
 * user:password; these hooks wipe every block it frees, so no secret stays
 * behind in freed memory. */
static void wipe_free(void *p)
{
	if (p) {
		explicit_bzero(p, malloc_usable_size(p));
		free(p);
	}
}

static void *wipe_realloc(void *p, size_t n)
{
	if (!p)
		return malloc(n);
	if (!n) {
		wipe_free(p);
		return NULL;
	}
	size_t old = malloc_usable_size(p);
	void *q = malloc(n);
	if (q) {
		memcpy(q, p, old < n ? old : n);
		wipe_free(p);
	}
	return q;
}

static char *wipe_strdup(const char *s)
{
	return strdup(s);
}

struct http_client *http_client_new(const struct http_opts *o)
{
	if (!g_curl_ready) {
		if (curl_global_init_mem(CURL_GLOBAL_DEFAULT, malloc, wipe_free, wipe_realloc,
					 wipe_strdup, calloc) != CURLE_OK)
			return NULL;
		g_curl_ready = 1;
	}
	struct http_client *c = calloc(1, sizeof *c);
	if (!c)
		return NULL;
	c->curl = curl_easy_init();
	if (!c->curl) {
		free(c);
		return NULL;
	}
	if (o)
		c->opts = *o;
	if (c->opts.connect_timeout <= 0)
		c->opts.connect_timeout = 15;
	if (c->opts.timeout <= 0)
		c->opts.timeout = 120;
	if (!c->opts.max_body)
		c->opts.max_body = (size_t)256 << 20;
	return c;
}

void http_client_free(struct http_client *c)
{
	if (!c)
		return;
	curl_easy_cleanup(c->curl);
	free(c);
}

void http_resp_init(struct http_resp *r, size_t max_body)
{
	memset(r, 0, sizeof *r);
	buf_init(&r->body, max_body);
}

static void clear_headers(struct http_resp *r)
{
	for (size_t i = 0; i < r->nheaders; i++) {
		free(r->headers[i].name);
		free(r->headers[i].value);
	}
	free(r->headers);
	r->headers = NULL;
	r->nheaders = r->capheaders = 0;
}

void http_resp_free(struct http_resp *r)
{
	buf_free(&r->body);
	clear_headers(r);
}

const char *http_resp_header(const struct http_resp *r, const char *name)
{
	const char *v = NULL;
	for (size_t i = 0; i < r->nheaders; i++)
		if (!strcasecmp(r->headers[i].name, name))
			v = r->headers[i].value;
	return v;
}

int http_resp_is_json(const struct http_resp *r)
{
	const char *ct = http_resp_header(r, "Content-Type");
	if (!ct)
		return 0;
	size_t n = strcspn(ct, ";");
	if (n >= 16 && !strncasecmp(ct, "application/json", 16))
		return 1;
	return n >= 5 && !strncasecmp(ct + n - 5, "+json", 5);
}

static size_t on_body(char *p, size_t size, size_t n, void *ud)
{
	struct http_resp *r = ud;
	if (buf_add(&r->body, p, size * n)) {
		r->too_large = 1;
		snprintf(r->transport_msg, sizeof r->transport_msg,
			 "response body larger than %zu bytes", r->body.cap);
		return 0; /* aborts the transfer */
	}
	return size * n;
}

static size_t on_header(char *p, size_t size, size_t n, void *ud)
{
	struct http_resp *r = ud;
	size_t len = size * n;
	/* a new status line (after a redirect or 100-continue) starts afresh */
	if (len >= 5 && !strncmp(p, "HTTP/", 5)) {
		clear_headers(r);
		return len;
	}
	char *colon = memchr(p, ':', len);
	if (!colon)
		return len;
	size_t nl = (size_t)(colon - p);
	const char *v = colon + 1;
	size_t vl = len - nl - 1;
	while (vl && (*v == ' ' || *v == '\t'))
		v++, vl--;
	while (vl && isspace((unsigned char)v[vl - 1]))
		vl--;
	if (VEC_RESERVE(r->headers, r->capheaders, r->nheaders + 1, 16))
		return 0;
	struct http_header *h = r->headers;
	h[r->nheaders].name = strndup(p, nl);
	h[r->nheaders].value = strndup(v, vl);
	if (!h[r->nheaders].name || !h[r->nheaders].value) {
		free(h[r->nheaders].name);
		free(h[r->nheaders].value);
		return 0;
	}
	r->nheaders++;
	return len;
}

/* The request's headers as curl's list. -1 (r says why) when out of memory. */
static int header_list(const char *const *headers, struct curl_slist **out, struct http_resp *r)
{
	struct curl_slist *hl = NULL;
	for (int i = 0; headers && headers[i]; i++) {
		struct curl_slist *n = curl_slist_append(hl, headers[i]);
		if (!n) {
			curl_slist_free_all(hl);
			snprintf(r->transport_msg, sizeof r->transport_msg, "out of memory");
			r->transport_error = 1;
			return -1;
		}
		hl = n;
	}
	*out = hl;
	return 0;
}

/* Sets every option of one request on h (reset first: the connection cache
 * stays). detail is curl's error buffer, CURL_ERROR_SIZE bytes. */
static void set_options(const struct http_client *c, CURL *h, const char *method, const char *url,
			struct curl_slist *hl, const char *body, size_t body_len,
			const char *userpwd, struct http_resp *r, char *detail)
{
	curl_easy_reset(h);
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
	/* gzip and deflate only: zlib allocates through the wiping hooks
	 * above, brotli and zstd would keep unwiped copies of a token reply.
	 * HTTP/1.1 for the same reason: nghttp2 keeps its own copies of the
	 * Authorization header (its header tables). */
	curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, "gzip, deflate");
	curl_easy_setopt(h, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
	if (c->opts.ca_file)
		curl_easy_setopt(h, CURLOPT_CAINFO, c->opts.ca_file);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, (long)(c->opts.connect_timeout * 1000));
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)(c->opts.timeout * 1000));
	curl_easy_setopt(h, CURLOPT_USERAGENT, "roster-etl/0.1");
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hl);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, r);
	curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(h, CURLOPT_HEADERDATA, r);
	detail[0] = 0;
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, detail);
	if (userpwd) {
		curl_easy_setopt(h, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
		curl_easy_setopt(h, CURLOPT_USERPWD, userpwd);
	}
	if (!strcmp(method, "GET")) {
		curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
	} else {
		curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
		if (body) {
			curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
			curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body_len);
		}
	}
}

/* After a transfer: the secret out of the handle, the list freed, the
 * status and the transport error into r. */
static int finish(CURL *h, CURLcode rc, int had_userpwd, struct curl_slist *hl,
		  const char *detail, struct http_resp *r)
{
	/* the secret must not linger in the handle */
	if (had_userpwd)
		curl_easy_setopt(h, CURLOPT_USERPWD, "");
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, NULL);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, NULL);
	curl_slist_free_all(hl);
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &r->status);
	curl_easy_getinfo(h, CURLINFO_TOTAL_TIME, &r->elapsed);
	if (rc != CURLE_OK) {
		r->transport_error = 1;
		r->tls_refused = rc == CURLE_PEER_FAILED_VERIFICATION || rc == CURLE_SSL_CERTPROBLEM ||
				 rc == CURLE_SSL_CACERT_BADFILE;
		/* curl's own detail says which check failed (issuer, host name...) */
		if (!r->transport_msg[0])
			snprintf(r->transport_msg, sizeof r->transport_msg, "%s",
				 detail[0] ? detail : curl_easy_strerror(rc));
		return -1;
	}
	return 0;
}

/* A fresh response with the caller's cap (http_resp_init), else the client's. */
static void resp_restart(const struct http_client *c, struct http_resp *r)
{
	size_t cap = r->body.cap ? r->body.cap : c->opts.max_body;
	http_resp_free(r);
	http_resp_init(r, cap);
}

int http_request(struct http_client *c, const char *method, const char *url,
		 const char *const *headers, const char *body, size_t body_len,
		 const char *userpwd, struct http_resp *r)
{
	struct curl_slist *hl = NULL;
	char detail[CURL_ERROR_SIZE];
	resp_restart(c, r);
	if (header_list(headers, &hl, r))
		return -1;
	set_options(c, c->curl, method, url, hl, body, body_len, userpwd, r, detail);
	CURLcode rc = curl_easy_perform(c->curl);
	return finish(c->curl, rc, userpwd != NULL, hl, detail, r);
}

/* ---- several at once ---- */

struct multi_slot {
	CURL *h;
	struct curl_slist *hl;
	struct http_resp *r;
	int busy, userpwd;
	char detail[CURL_ERROR_SIZE];
};

struct http_multi {
	struct http_client *c;
	CURLM *m;
	int n;
	struct multi_slot *slot;
};

struct http_multi *http_multi_new(struct http_client *c, int n)
{
	struct http_multi *m = calloc(1, sizeof *m);
	if (!m)
		return NULL;
	m->c = c;
	m->n = n;
	m->m = curl_multi_init();
	m->slot = calloc((size_t)n, sizeof *m->slot);
	int ok = m->m && m->slot;
	for (int k = 0; ok && k < n; k++)
		ok = (m->slot[k].h = curl_easy_init()) != NULL;
	if (!ok) {
		http_multi_free(m);
		return NULL;
	}
	curl_multi_setopt(m->m, CURLMOPT_MAX_HOST_CONNECTIONS, (long)n);
	return m;
}

/* Ends slot k's transfer (done or not) and frees what it held. */
static void multi_end(struct http_multi *m, int k, CURLcode rc)
{
	struct multi_slot *sl = &m->slot[k];
	curl_multi_remove_handle(m->m, sl->h);
	finish(sl->h, rc, sl->userpwd, sl->hl, sl->detail, sl->r);
	sl->hl = NULL;
	sl->busy = 0;
}

void http_multi_free(struct http_multi *m)
{
	if (!m)
		return;
	for (int k = 0; m->slot && k < m->n; k++) {
		if (m->slot[k].busy)
			multi_end(m, k, CURLE_ABORTED_BY_CALLBACK);
		if (m->slot[k].h)
			curl_easy_cleanup(m->slot[k].h);
	}
	if (m->m)
		curl_multi_cleanup(m->m);
	free(m->slot);
	free(m);
}

int http_multi_start(struct http_multi *m, int k, const char *method, const char *url,
		     const char *const *headers, const char *body, size_t body_len,
		     const char *userpwd, struct http_resp *r)
{
	struct multi_slot *sl = &m->slot[k];
	resp_restart(m->c, r);
	if (sl->busy || header_list(headers, &sl->hl, r))
		return -1;
	sl->r = r;
	sl->userpwd = userpwd != NULL;
	set_options(m->c, sl->h, method, url, sl->hl, body, body_len, userpwd, r, sl->detail);
	if (curl_multi_add_handle(m->m, sl->h) != CURLM_OK) {
		curl_slist_free_all(sl->hl);
		sl->hl = NULL;
		snprintf(r->transport_msg, sizeof r->transport_msg, "could not start the request");
		r->transport_error = 1;
		return -1;
	}
	sl->busy = 1;
	return 0;
}

/* The slot of a transfer that ended (its response filled), or -1. */
static int multi_done(struct http_multi *m)
{
	CURLMsg *msg;
	int left;
	while ((msg = curl_multi_info_read(m->m, &left)))
		for (int k = 0; msg->msg == CURLMSG_DONE && k < m->n; k++)
			if (m->slot[k].busy && m->slot[k].h == msg->easy_handle) {
				multi_end(m, k, msg->data.result);
				return k;
			}
	return -1;
}

int http_multi_wait(struct http_multi *m, double timeout)
{
	int running, k;
	curl_multi_perform(m->m, &running);
	if ((k = multi_done(m)) >= 0)
		return k;
	curl_multi_poll(m->m, NULL, 0, timeout > 0 ? (int)(timeout * 1000) + 1 : 0, NULL);
	curl_multi_perform(m->m, &running);
	return multi_done(m);
}
