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

int http_request(struct http_client *c, const char *method, const char *url,
		 const char *const *headers, const char *body, size_t body_len,
		 const char *userpwd, struct http_resp *r)
{
	CURL *h = c->curl;
	struct curl_slist *hl = NULL;
	CURLcode rc;

	/* the caller's cap (http_resp_init) wins over the client's default */
	size_t cap = r->body.cap ? r->body.cap : c->opts.max_body;
	http_resp_free(r);
	http_resp_init(r, cap);
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
	curl_easy_reset(h); /* keeps the connection cache */
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
	char detail[CURL_ERROR_SIZE] = "";
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
	rc = curl_easy_perform(h);
	/* the secret must not linger in the handle */
	if (userpwd)
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

