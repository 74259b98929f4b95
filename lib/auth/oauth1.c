#include "auth/oauth1.h"
#include "core/b64.h"
#include "core/clock.h"

#include <limits.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

const char *oauth1_method_name(enum oauth1_method m)
{
	return m == OAUTH1_HMAC_SHA1 ? "HMAC-SHA1" : "HMAC-SHA256";
}

/* Puts out back to its first start bytes: a failed call leaves it as it was. */
static int undo(struct buf *out, size_t start)
{
	if (out->data) {
		out->len = start;
		out->data[start] = 0;
	}
	return -1;
}

/* Makes sure out has a block and is NUL-terminated, for an empty result. */
static int terminated(struct buf *out)
{
	if (buf_reserve(out, 0))
		return -1;
	out->data[out->len] = 0;
	return 0;
}

static int unreserved(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '.' || c == '_' || c == '~';
}

int oauth1_pct_encode(const void *s, size_t n, struct buf *out)
{
	static const char hex[] = "0123456789ABCDEF";
	const unsigned char *p = s;
	size_t start = out->len;
	for (size_t i = 0; i < n; i++) {
		char e[3] = {'%', hex[p[i] >> 4], hex[p[i] & 15]};
		if (unreserved(p[i]) ? buf_addc(out, (char)p[i]) : buf_add(out, e, 3))
			return undo(out, start);
	}
	/* an empty value still leaves out NUL-terminated */
	return n ? 0 : terminated(out);
}

static int lower_add(struct buf *out, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (buf_addc(out, c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c))
			return -1;
	}
	return 0;
}

/* ---- the URL ---- */

struct url_parts {
	const char *scheme, *host, *path, *query;
	size_t scheme_len, host_len, path_len, query_len;
	long port; /* -1: none, or the scheme's default */
};

static int oom(struct rt_err *e, const char *what)
{
	err_set(e, ERR_IO, "out of memory building the OAuth 1.0a %s", what);
	return -1;
}

/* Splits an absolute http(s) URL. Messages name the part that is wrong and
 * never quote the URL: its query may hold anything. */
static int split_url(const char *url, struct url_parts *u, struct rt_err *e)
{
	memset(u, 0, sizeof *u);
	u->port = -1;
	if (!url || !*url) {
		err_set(e, ERR_CONFIG, "no URL to sign");
		return -1;
	}
	for (const char *p = url; *p; p++) {
		/* libcurl would send such bytes as they are, and the server would
		 * see another URL than the one signed */
		if ((unsigned char)*p <= ' ' || *p == 0x7f) {
			err_set(e, ERR_CONFIG, "the URL to sign holds a space or a control character");
			return -1;
		}
	}
	const char *sep = strstr(url, "://");
	u->scheme = url;
	u->scheme_len = sep ? (size_t)(sep - url) : 0;
	int https = u->scheme_len == 5 && !strncasecmp(url, "https", 5);
	if (!https && !(u->scheme_len == 4 && !strncasecmp(url, "http", 4))) {
		err_set(e, ERR_CONFIG, "the URL to sign is not an absolute http or https URL");
		return -1;
	}
	const char *a = sep + 3;
	size_t alen = strcspn(a, "/?#");
	if (memchr(a, '@', alen)) {
		err_set(e, ERR_CONFIG, "the URL to sign holds a user name or password");
		return -1;
	}
	const char *colon = NULL;
	if (*a == '[') { /* an IPv6 literal: its colons are not the port's */
		const char *close = memchr(a, ']', alen);
		if (!close) {
			err_set(e, ERR_CONFIG, "the URL to sign has an IPv6 host without its ']'");
			return -1;
		}
		u->host_len = (size_t)(close - a) + 1;
		if (u->host_len < alen && a[u->host_len] != ':') {
			err_set(e, ERR_CONFIG, "the URL to sign has text after its IPv6 host");
			return -1;
		}
		colon = u->host_len < alen ? a + u->host_len : NULL;
	} else {
		colon = memchr(a, ':', alen);
		u->host_len = colon ? (size_t)(colon - a) : alen;
	}
	u->host = a;
	if (!u->host_len) {
		err_set(e, ERR_CONFIG, "the URL to sign has no host");
		return -1;
	}
	if (colon) {
		const char *d = colon + 1, *end = a + alen;
		long port = 0;
		for (; d < end; d++) {
			if (*d < '0' || *d > '9' || (port = port * 10 + (*d - '0')) > 65535) {
				err_set(e, ERR_CONFIG, "the URL to sign has a bad port");
				return -1;
			}
		}
		/* an empty port is the default one (RFC 3986 section 6.2.3) */
		if (colon + 1 < end && port != (https ? 443 : 80))
			u->port = port;
	}
	u->path = a + alen;
	u->path_len = strcspn(u->path, "?#");
	if (u->path[u->path_len] == '?') {
		u->query = u->path + u->path_len + 1;
		u->query_len = strcspn(u->query, "#");
	}
	return 0;
}

static int add_base_uri(const struct url_parts *u, struct buf *out)
{
	int rc = lower_add(out, u->scheme, u->scheme_len) || buf_adds(out, "://") ||
		 lower_add(out, u->host, u->host_len);
	if (!rc && u->port >= 0)
		rc = buf_printf(out, ":%ld", u->port);
	if (!rc)
		rc = u->path_len ? buf_add(out, u->path, u->path_len) : buf_addc(out, '/');
	return rc ? -1 : 0;
}

int oauth1_base_uri(const char *url, struct buf *out, struct rt_err *e)
{
	struct url_parts u;
	size_t start = out->len;
	if (split_url(url, &u, e))
		return -1;
	if (add_base_uri(&u, out)) {
		undo(out, start);
		return oom(e, "base string URI");
	}
	return 0;
}

/* ---- the parameters ---- */

/* The collected parameters, encoded: each name and value NUL-terminated in
 * text, found by their offsets (text moves as it grows). */
struct params {
	struct buf text, tmp;
	size_t (*at)[2];
	size_t n, cap;
};

static void params_init(struct params *ps)
{
	memset(ps, 0, sizeof *ps);
	buf_init(&ps->text, 0);
	buf_init(&ps->tmp, 0);
}

static void params_free(struct params *ps)
{
	buf_free(&ps->text);
	buf_free(&ps->tmp);
	free(ps->at);
}

/* Adds one pair of raw bytes, encoding both. */
static int params_add(struct params *ps, const char *name, size_t nlen, const char *value,
		      size_t vlen)
{
	if (nlen == 15 && !memcmp(name, "oauth_signature", 15))
		return 0; /* section 3.4.1.3.1: never signed, wherever it comes from */
	if (ps->n == ps->cap) {
		size_t cap = ps->cap ? ps->cap * 2 : 32;
		void *p = cap < ps->cap || cap > SIZE_MAX / sizeof *ps->at
				  ? NULL
				  : realloc(ps->at, cap * sizeof *ps->at);
		if (!p)
			return -1;
		ps->at = p;
		ps->cap = cap;
	}
	size_t noff = ps->text.len;
	if (oauth1_pct_encode(name, nlen, &ps->text) || buf_add(&ps->text, "", 1))
		return -1;
	size_t voff = ps->text.len;
	if (oauth1_pct_encode(value, vlen, &ps->text) || buf_add(&ps->text, "", 1))
		return -1;
	ps->at[ps->n][0] = noff;
	ps->at[ps->n][1] = voff;
	ps->n++;
	return 0;
}

static int hexval(char c)
{
	return c >= '0' && c <= '9' ? c - '0'
	       : c >= 'A' && c <= 'F' ? c - 'A' + 10
	       : c >= 'a' && c <= 'f' ? c - 'a' + 10
				      : -1;
}

/* Form-decodes s[0..n) onto the end of b: '+' is a space, %XX a byte.
 * 1 for a '%' without two hex digits, -1 when b is full. */
static int form_decode(const char *s, size_t n, struct buf *b)
{
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (c == '%') {
			int hi = i + 2 < n ? hexval(s[i + 1]) : -1;
			int lo = hi >= 0 ? hexval(s[i + 2]) : -1;
			if (lo < 0)
				return 1;
			c = (char)(hi << 4 | lo);
			i += 2;
		} else if (c == '+') {
			c = ' ';
		}
		if (buf_addc(b, c))
			return -1;
	}
	return 0;
}

/* Adds every name=value of a query or form body; empty pieces ("a&&b") are
 * skipped and a piece without '=' has an empty value, as oauthlib and the
 * usual form decoders do. */
static int params_add_form(struct params *ps, const char *s, size_t n, const char *what,
			   struct rt_err *e)
{
	size_t i = 0;
	while (i < n) {
		const char *piece = s + i;
		const char *amp = memchr(piece, '&', n - i);
		size_t plen = amp ? (size_t)(amp - piece) : n - i;
		i += plen + 1;
		if (!plen)
			continue;
		const char *eq = memchr(piece, '=', plen);
		size_t nlen = eq ? (size_t)(eq - piece) : plen;
		buf_reset(&ps->tmp);
		int rc = form_decode(piece, nlen, &ps->tmp);
		size_t split = ps->tmp.len;
		if (!rc && eq)
			rc = form_decode(eq + 1, plen - nlen - 1, &ps->tmp);
		if (rc > 0) {
			err_set(e, ERR_CONFIG, "the %s has a '%%' that is not followed by two hex "
					       "digits", what);
			return -1;
		}
		if (rc || params_add(ps, ps->tmp.data ? ps->tmp.data : "", split,
				     ps->tmp.data ? ps->tmp.data + split : "", ps->tmp.len - split))
			return oom(e, "parameters");
	}
	return 0;
}

struct pair {
	const char *name, *value;
};

static int pair_cmp(const void *a, const void *b)
{
	const struct pair *x = a, *y = b;
	int c = strcmp(x->name, y->name);
	return c ? c : strcmp(x->value, y->value);
}

/* Section 3.4.1.3.2 onto out, from the encoded pairs. */
static int params_join(struct params *ps, struct buf *out)
{
	struct pair *v = ps->n ? calloc(ps->n, sizeof *v) : NULL;
	if (ps->n && !v)
		return -1;
	for (size_t i = 0; i < ps->n; i++) {
		v[i].name = ps->text.data + ps->at[i][0];
		v[i].value = ps->text.data + ps->at[i][1];
	}
	/* names then values, bytewise: joining first and sorting "name=value"
	 * would be wrong, as '=' sorts after '%', '-', '.' and the digits */
	if (ps->n)
		qsort(v, ps->n, sizeof *v, pair_cmp);
	int rc = ps->n ? 0 : terminated(out);
	for (size_t i = 0; i < ps->n && !rc; i++)
		rc = (i && buf_addc(out, '&')) || buf_adds(out, v[i].name) ||
		     buf_addc(out, '=') || buf_adds(out, v[i].value);
	free(v);
	return rc ? -1 : 0;
}

static int normalized(const struct url_parts *u, const char *form_body,
		      const struct oauth1_param *oauth, size_t n, struct buf *out,
		      struct rt_err *e)
{
	struct params ps;
	params_init(&ps);
	int rc = 0;
	if (u->query)
		rc = params_add_form(&ps, u->query, u->query_len, "query of the URL to sign", e);
	if (!rc && form_body)
		rc = params_add_form(&ps, form_body, strlen(form_body), "form body to sign", e);
	for (size_t i = 0; i < n && !rc; i++) {
		const char *name = oauth[i].name ? oauth[i].name : "";
		const char *value = oauth[i].value ? oauth[i].value : "";
		if (params_add(&ps, name, strlen(name), value, strlen(value)))
			rc = oom(e, "parameters");
	}
	if (!rc && params_join(&ps, out))
		rc = oom(e, "parameters");
	params_free(&ps);
	return rc;
}

int oauth1_normalized_params(const char *url, const char *form_body,
			     const struct oauth1_param *oauth, size_t n, struct buf *out,
			     struct rt_err *e)
{
	struct url_parts u;
	size_t start = out->len;
	if (split_url(url, &u, e))
		return -1;
	return normalized(&u, form_body, oauth, n, out, e) ? undo(out, start) : 0;
}

int oauth1_base_string(const char *method, const char *url, const char *form_body,
		       const struct oauth1_param *oauth, size_t n, struct buf *out,
		       struct rt_err *e)
{
	struct url_parts u;
	struct buf uri, np;
	size_t start = out->len;
	if (!method || !*method || strcspn(method, "&%= \t\r\n") != strlen(method)) {
		err_set(e, ERR_CONFIG, "no HTTP method to sign, or one with characters a method "
				       "cannot hold");
		return -1;
	}
	if (split_url(url, &u, e))
		return -1;
	buf_init(&uri, 0);
	buf_init(&np, 0);
	int rc = normalized(&u, form_body, oauth, n, &np, e);
	if (!rc) {
		for (const char *m = method; *m && !rc; m++)
			rc = buf_addc(out, *m >= 'a' && *m <= 'z' ? (char)(*m - 'a' + 'A') : *m);
		if (rc || buf_addc(out, '&') || add_base_uri(&u, &uri) ||
		    oauth1_pct_encode(uri.data, uri.len, out) || buf_addc(out, '&') ||
		    oauth1_pct_encode(np.data, np.len, out))
			rc = oom(e, "signature base string");
	}
	buf_free(&uri);
	buf_free(&np);
	return rc ? undo(out, start) : 0;
}

/* ---- the signature ---- */

int oauth1_signature(enum oauth1_method m, const char *consumer_secret,
		     const char *token_secret, const char *base, size_t len, struct buf *out,
		     struct rt_err *e)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	struct buf key;
	int rc = -1;
	if (!consumer_secret || !base) {
		err_set(e, ERR_CONFIG, "no consumer secret or no base string to sign");
		return -1;
	}
	/* the key is the secrets in clear: its buffer grows with a wipe
	 * (buf.h) and is wiped at the end */
	buf_init(&key, 0);
	if (oauth1_pct_encode(consumer_secret, strlen(consumer_secret), &key) ||
	    buf_addc(&key, '&') ||
	    oauth1_pct_encode(token_secret ? token_secret : "",
			      token_secret ? strlen(token_secret) : 0, &key)) {
		oom(e, "signing key");
	} else if (key.len > INT_MAX ||
		   !HMAC(m == OAUTH1_HMAC_SHA1 ? EVP_sha1() : EVP_sha256(), key.data,
			 (int)key.len, (const unsigned char *)base, len, md, &mdlen)) {
		err_set(e, ERR_CONFIG, "OpenSSL could not compute the %s signature",
			oauth1_method_name(m));
	} else if (buf_reserve(out, b64_encoded_len(mdlen, 1))) {
		oom(e, "signature");
	} else {
		out->len += b64_encode(md, mdlen, out->data + out->len, 0, 1);
		rc = 0;
	}
	buf_wipe(&key);
	explicit_bzero(md, sizeof md);
	return rc;
}

/* ---- the header ---- */

/* name="encode(value)", after ", " unless it is the first. */
static int header_param(struct buf *out, int first, const char *name, const char *value)
{
	return (!first && buf_adds(out, ", ")) || buf_adds(out, name) || buf_adds(out, "=\"") ||
	       oauth1_pct_encode(value, strlen(value), out) || buf_addc(out, '"');
}

int oauth1_authorization_at(const struct oauth1_client *c, const char *method, const char *url,
			    const char *form_body, const char *nonce, long long timestamp,
			    struct buf *out, struct rt_err *e)
{
	char ts[24];
	struct buf base, sig;
	size_t start = out->len;
	if (!c || !c->consumer_key || !*c->consumer_key || !c->consumer_secret ||
	    !*c->consumer_secret) {
		err_set(e, ERR_CONFIG, "the OAuth 1.0a consumer key or secret is empty");
		return -1;
	}
	if (!nonce || !*nonce || timestamp < 0) {
		err_set(e, ERR_CONFIG, "an OAuth 1.0a signature needs a nonce and a timestamp");
		return -1;
	}
	snprintf(ts, sizeof ts, "%lld", timestamp);
	int token = c->token && *c->token;
	/* the order of the header; sorting is the base string's business */
	struct oauth1_param p[6] = {
		{"oauth_consumer_key", c->consumer_key},
		{"oauth_nonce", nonce},
		{"oauth_signature_method", oauth1_method_name(c->method)},
		{"oauth_timestamp", ts},
	};
	size_t n = 4;
	if (token)
		p[n++] = (struct oauth1_param){"oauth_token", c->token};
	if (!c->no_version)
		p[n++] = (struct oauth1_param){"oauth_version", "1.0"};

	buf_init(&base, 0);
	buf_init(&sig, 0);
	int rc = oauth1_base_string(method, url, form_body, p, n, &base, e);
	if (!rc)
		rc = oauth1_signature(c->method, c->consumer_secret, c->token_secret, base.data,
				      base.len, &sig, e);
	if (!rc) {
		int first = 1;
		rc = buf_adds(out, "OAuth ");
		if (!rc && c->realm) {
			rc = header_param(out, first, "realm", c->realm);
			first = 0;
		}
		for (size_t i = 0; i < n && !rc; i++, first = 0)
			rc = header_param(out, first, p[i].name, p[i].value);
		if (!rc)
			rc = header_param(out, first, "oauth_signature", sig.data);
		if (rc)
			rc = oom(e, "Authorization header");
	}
	buf_free(&base);
	buf_free(&sig);
	return rc ? undo(out, start) : 0;
}

int oauth1_authorization(const struct oauth1_client *c, const char *method, const char *url,
			 const char *form_body, struct buf *out, struct rt_err *e)
{
	char nonce[OAUTH1_NONCE_LEN + 1];
	if (oauth1_nonce(nonce, e))
		return -1;
	return oauth1_authorization_at(c, method, url, form_body, nonce, (long long)clk_now(), out,
				       e);
}

int oauth1_nonce(char out[OAUTH1_NONCE_LEN + 1], struct rt_err *e)
{
	static const char alnum[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
	unsigned char raw[64];
	size_t got = 0;
	/* a byte of 248 or more is dropped (248 = 4 * 62), so every character
	 * is equally likely; one draw almost always suffices */
	for (int tries = 0; got < OAUTH1_NONCE_LEN && tries < 16; tries++) {
		if (RAND_bytes(raw, sizeof raw) != 1)
			break;
		for (size_t i = 0; i < sizeof raw && got < OAUTH1_NONCE_LEN; i++)
			if (raw[i] < 248)
				out[got++] = alnum[raw[i] % 62];
	}
	explicit_bzero(raw, sizeof raw);
	out[got] = 0;
	if (got < OAUTH1_NONCE_LEN) {
		err_set(e, ERR_CONFIG, "no random bytes for an OAuth 1.0a nonce (OpenSSL's "
				       "RAND_bytes failed)");
		return -1;
	}
	return 0;
}
