/* OAuth 1.0a signing: every vector of tests/vectors/oauth1 (RFC 5849's
 * examples, oauthlib's HMAC-SHA256 cases, the section 3.6 encodings), the
 * worked example of the OneRoster reference, URLs and parameters at their
 * edges, and what is refused.
 *
 * With arguments it is the signer that tests/oauth1_oauthlib.bats checks
 * against oauthlib:
 *     test_oauth1 sign [--sha1] [--realm R] [--no-version] [--body FORM] [--base]
 *                      METHOD URL
 * reads the consumer key and secret (and optionally a token and its secret)
 * from stdin, one a line, so no secret is in argv, and prints the
 * Authorization header's value (nonce from RAND_bytes, time from the clock:
 * ROSTER_FAKE_CLOCK moves it); --base adds a line "base: " and the
 * signature base string it signed. */
#include "core/b64.h"
#include "core/buf.h"
#include "core/clock.h"
#include "core/err.h"
#include "auth/oauth1.h"
#include "tap.h"

#include <cjson/cJSON.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static cJSON *load(const char *name)
{
	char path[4096];
	unsigned long n = 0;
	snprintf(path, sizeof path, "%s/oauth1/%s", tap_vectors(), name);
	char *text = tap_slurp(path, &n);
	cJSON *j = text ? cJSON_ParseWithLength(text, n) : NULL;
	free(text);
	tap_ok(j != NULL, "%s reads", name);
	return j;
}

static const char *str(const cJSON *c, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(c, key);
	return cJSON_IsString(v) ? v->valuestring : "";
}

static int has(const cJSON *c, const char *key)
{
	return cJSON_GetObjectItemCaseSensitive(c, key) != NULL;
}

/* A JSON array of [name, value] pairs, pointing into the JSON; only the
 * names starting with prefix (NULL: all). */
static size_t pairs(const cJSON *arr, const char *prefix, struct oauth1_param *p, size_t max)
{
	size_t n = 0;
	const cJSON *it;
	cJSON_ArrayForEach(it, arr)
	{
		const char *k = cJSON_GetArrayItem(it, 0)->valuestring;
		if (n < max && (!prefix || !strncmp(k, prefix, strlen(prefix)))) {
			p[n].name = k;
			p[n++].value = cJSON_GetArrayItem(it, 1)->valuestring;
		}
	}
	return n;
}

static void check_str(const char *got, const char *want, const char *fmt, const char *id)
{
	int ok = got && !strcmp(got, want);
	char name[512];
	snprintf(name, sizeof name, fmt, id);
	tap_ok(ok, "%s", name);
	if (!ok) {
		tap_diag("  got  %s", got ? got : "(failed)");
		tap_diag("  want %s", want);
	}
}

/* The header's parameters, each name="value" as sent, sorted and joined by
 * newlines: RFC 5849 section 3.5.1 lets them come in any order. */
static void header_canon(const char *h, struct buf *out)
{
	char *v[32];
	size_t n = 0;
	char *copy = strdup(strncmp(h, "OAuth ", 6) ? "" : h + 6);
	for (char *save = NULL, *t = strtok_r(copy, ",", &save); t && n < 32;
	     t = strtok_r(NULL, ",", &save))
		v[n++] = t + strspn(t, " ");
	for (size_t i = 1; i < n; i++)
		for (size_t j = i; j > 0 && strcmp(v[j - 1], v[j]) > 0; j--) {
			char *x = v[j];
			v[j] = v[j - 1];
			v[j - 1] = x;
		}
	buf_reset(out);
	buf_adds(out, "");
	for (size_t i = 0; i < n; i++)
		buf_printf(out, "%s\n", v[i]);
	free(copy);
}

/* ---- the vectors ---- */

static void test_percent(void)
{
	cJSON *j = load("percent_encoding.json");
	const cJSON *c;
	int n = 0, good = 0;
	cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(j, "cases"))
	{
		const char *hex = str(c, "input_utf8_hex");
		size_t len = strlen(hex) / 2;
		char *raw = calloc(len + 1, 1);
		for (size_t i = 0; i < len; i++)
			sscanf(hex + 2 * i, "%2hhx", (unsigned char *)&raw[i]);
		struct buf b;
		buf_init(&b, 0);
		int ok = !oauth1_pct_encode(raw, len, &b) && !strcmp(b.data, str(c, "expected")) &&
			 !strcmp(raw, str(c, "input"));
		if (!ok)
			tap_diag("  %s: got %s, want %s", str(c, "input"), b.data, str(c, "expected"));
		good += ok;
		n++;
		buf_free(&b);
		free(raw);
	}
	tap_ok(n == 49 && good == n, "percent_encoding.json: %d of %d encodings as expected", good, n);
	cJSON_Delete(j);
}

/* Base string URI, normalised parameters, base string and (when given) the
 * signature of one vector case. */
static void check_case(const cJSON *c, const char *url, const char *body,
		       const struct oauth1_param *p, size_t n, enum oauth1_method m)
{
	const char *id = str(c, "id");
	struct buf b;
	struct rt_err e;
	buf_init(&b, 0);
	err_clear(&e);
	check_str(oauth1_base_uri(url, &b, &e) ? NULL : b.data, str(c, "expected_base_string_uri"),
		  "%s: base string URI", id);
	buf_reset(&b);
	check_str(oauth1_normalized_params(url, body, p, n, &b, &e) ? NULL : b.data,
		  str(c, "expected_normalized_params"), "%s: normalised parameters", id);
	buf_reset(&b);
	check_str(oauth1_base_string(str(c, "method"), url, body, p, n, &b, &e) ? NULL : b.data,
		  str(c, "expected_base_string"), "%s: signature base string", id);
	if (has(c, "expected_signature")) {
		struct buf sig;
		buf_init(&sig, 0);
		const char *bs = str(c, "expected_base_string");
		check_str(oauth1_signature(m, str(c, "consumer_secret"), str(c, "token_secret"), bs,
					   strlen(bs), &sig, &e)
				  ? NULL
				  : sig.data,
			  str(c, "expected_signature"), "%s: signature", id);
		/* the vector's key, by OpenSSL directly: the key rule is the one we use */
		unsigned char md[EVP_MAX_MD_SIZE];
		unsigned int ml = 0;
		char b64[128];
		const char *k = str(c, "expected_signing_key");
		HMAC(m == OAUTH1_HMAC_SHA1 ? EVP_sha1() : EVP_sha256(), k, (int)strlen(k),
		     (const unsigned char *)bs, strlen(bs), md, &ml);
		b64_encode(md, ml, b64, 0, 1);
		check_str(sig.data, b64, "%s: the same as HMAC under expected_signing_key", id);
		buf_free(&sig);
	}
	buf_free(&b);
}

static void test_rfc(void)
{
	cJSON *j = load("rfc5849_examples.json");
	const cJSON *c;
	char url[1024];
	int ncases = 0;
	cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(j, "cases"))
	{
		struct oauth1_param p[16];
		size_t n;
		snprintf(url, sizeof url, "%s://%s%s", str(c, "scheme"), str(c, "host"),
			 str(c, "request_target"));
		const char *body = has(c, "body") ? str(c, "body") : NULL;
		if (has(c, "oauth_params"))
			n = pairs(cJSON_GetObjectItemCaseSensitive(c, "oauth_params"), NULL, p, 16);
		else /* 3.4.1.1: the protocol parameters of its collection table */
			n = pairs(cJSON_GetObjectItemCaseSensitive(
					  c, "expected_params_decoded_in_collection_order"),
				  "oauth_", p, 16);
		check_case(c, url, body, p, n, OAUTH1_HMAC_SHA1);
		ncases++;
	}
	TAP_EQ_INT(ncases, 4, "rfc5849_examples.json: 4 cases");

	cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(j, "base_string_uri_examples"))
	{
		struct buf b;
		struct rt_err e;
		buf_init(&b, 0);
		snprintf(url, sizeof url, "%s://%s%s", str(c, "scheme"), str(c, "host_header"),
			 str(c, "request_target"));
		check_str(oauth1_base_uri(url, &b, &e) ? NULL : b.data,
			  str(c, "expected_base_string_uri"), "RFC 5849 3.4.1.2: %s", url);
		buf_free(&b);
	}

	/* section 1.2's photo request whole, from our header: realm, a token,
	 * no oauth_version; the RFC's header, in its order, is the same set */
	cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(j, "cases"))
	{
		if (strcmp(str(c, "id"), "rfc5849_1.2_photos"))
			continue;
		struct oauth1_client cl = {str(c, "consumer_key"), str(c, "consumer_secret"),
					   str(c, "token"), str(c, "token_secret"), str(c, "realm"),
					   OAUTH1_HMAC_SHA1, 1};
		struct buf h, got, want;
		struct rt_err e;
		buf_init(&h, 0);
		buf_init(&got, 0);
		buf_init(&want, 0);
		snprintf(url, sizeof url, "http://%s%s", str(c, "host"), str(c, "request_target"));
		struct oauth1_param p[8];
		size_t n = pairs(cJSON_GetObjectItemCaseSensitive(c, "oauth_params"), NULL, p, 8);
		const char *nonce = "", *ts = "";
		for (size_t i = 0; i < n; i++) {
			if (!strcmp(p[i].name, "oauth_nonce"))
				nonce = p[i].value;
			if (!strcmp(p[i].name, "oauth_timestamp"))
				ts = p[i].value;
		}
		int rc = oauth1_authorization_at(&cl, "GET", url, NULL, nonce, atoll(ts), &h, &e);
		header_canon(rc ? "" : h.data, &got);
		header_canon(str(c, "authorization_header"), &want);
		check_str(got.data, want.data, "%s: our Authorization header has the RFC's parameters",
			  "rfc5849_1.2_photos");
		const char *lead = "OAuth realm=\"Photos\", oauth_consumer_key=";
		tap_ok(!rc && !strncmp(h.data, lead, strlen(lead)),
		       "the realm comes first, then oauth_consumer_key");
		buf_free(&h);
		buf_free(&got);
		buf_free(&want);
	}
	cJSON_Delete(j);
}

static void test_hmac_sha256(void)
{
	cJSON *j = load("hmac_sha256.json");
	const cJSON *c;
	int ncases = 0, headers = 0;
	cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(j, "cases"))
	{
		struct oauth1_param p[16];
		size_t n = pairs(cJSON_GetObjectItemCaseSensitive(c, "oauth_params"), NULL, p, 16);
		const char *body = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(c, "body_signed"))
					   ? str(c, "body")
					   : NULL;
		check_case(c, str(c, "url"), body, p, n, OAUTH1_HMAC_SHA256);
		ncases++;
		/* post_non_form_body carries oauthlib's oauth_body_hash, an
		 * extension we do not send: its header cannot be ours */
		if (has(c, "extension"))
			continue;
		struct oauth1_client cl = {str(c, "consumer_key"), str(c, "consumer_secret"),
					   str(c, "token"), str(c, "token_secret"), NULL,
					   OAUTH1_HMAC_SHA256, 0};
		struct buf h, got, want;
		struct rt_err e;
		buf_init(&h, 0);
		buf_init(&got, 0);
		buf_init(&want, 0);
		int rc = oauth1_authorization_at(&cl, str(c, "method"), str(c, "url"), body,
						 str(c, "nonce"), atoll(str(c, "timestamp")), &h, &e);
		header_canon(rc ? "" : h.data, &got);
		header_canon(str(c, "expected_authorization_header"), &want);
		check_str(got.data, want.data, "%s: Authorization header (as a set)", str(c, "id"));
		headers++;
		buf_free(&h);
		buf_free(&got);
		buf_free(&want);
	}
	TAP_EQ_INT(ncases, 25, "hmac_sha256.json: 25 cases");
	TAP_EQ_INT(headers, 24, "hmac_sha256.json: 24 headers (all but the body-hash case)");
	cJSON_Delete(j);
}

/* ---- the reference's worked example ---- */

static void test_reference(void)
{
	const char *want_bs =
		"GET&https%3A%2F%2Fsis.example.org%2Fims%2Foneroster%2Fv1p1%2Fusers&filter%3Drole%"
		"253D%2527teacher%2527%2520AND%2520status%253D%2527active%2527%26limit%3D100%26oauth_"
		"consumer_key%3Dck-demo%26oauth_nonce%3Dn0nce123%26oauth_signature_method%3DHMAC-"
		"SHA256%26oauth_timestamp%3D1700000000%26oauth_version%3D1.0%26offset%3D0";
	const char *want_h =
		"OAuth oauth_consumer_key=\"ck-demo\", oauth_nonce=\"n0nce123\", "
		"oauth_signature_method=\"HMAC-SHA256\", oauth_timestamp=\"1700000000\", "
		"oauth_version=\"1.0\", "
		"oauth_signature=\"mGPZNJNP58H0yGEWAF%2B%2B%2FdxHCKm%2BvfOdES1AnvNuP%2BE%3D\"";
	const char *urls[] = {
		"https://sis.example.org/ims/oneroster/v1p1/users?limit=100&offset=0&filter=role%3D%"
		"27teacher%27%20AND%20status%3D%27active%27",
		"https://sis.example.org/ims/oneroster/v1p1/users?limit=100&offset=0&filter=role%3D%"
		"27teacher%27+AND+status%3D%27active%27",
	};
	const char *how[] = {"%20", "+"};
	struct oauth1_client cl = {"ck-demo", "cs/demo+secret", NULL, NULL, NULL,
				   OAUTH1_HMAC_SHA256, 0};
	for (int i = 0; i < 2; i++) {
		struct buf h, bs;
		struct rt_err e;
		struct oauth1_param p[] = {{"oauth_consumer_key", "ck-demo"},
					   {"oauth_nonce", "n0nce123"},
					   {"oauth_signature_method", "HMAC-SHA256"},
					   {"oauth_timestamp", "1700000000"},
					   {"oauth_version", "1.0"}};
		buf_init(&h, 0);
		buf_init(&bs, 0);
		check_str(oauth1_base_string("GET", urls[i], NULL, p, 5, &bs, &e) ? NULL : bs.data,
			  want_bs, "reference 4.3, spaces as %s: the base string", how[i]);
		check_str(oauth1_authorization_at(&cl, "GET", urls[i], NULL, "n0nce123", 1700000000,
						  &h, &e)
				  ? NULL
				  : h.data,
			  want_h, "reference 4.3, spaces as %s: the whole header, in our order", how[i]);
		buf_free(&h);
		buf_free(&bs);
	}
}

/* ---- edges ---- */

static void base_uri_is(const char *url, const char *want)
{
	struct buf b;
	struct rt_err e;
	buf_init(&b, 0);
	check_str(oauth1_base_uri(url, &b, &e) ? NULL : b.data, want, "base URI of %s", url);
	buf_free(&b);
}

static void params_are(const char *url, const char *body, const char *want, const char *what)
{
	struct buf b;
	struct rt_err e;
	buf_init(&b, 0);
	check_str(oauth1_normalized_params(url, body, NULL, 0, &b, &e) ? NULL : b.data, want, "%s",
		  what);
	buf_free(&b);
}

static void test_urls(void)
{
	base_uri_is("http://example.com:80/a", "http://example.com/a");
	base_uri_is("https://example.com:443/a", "https://example.com/a");
	base_uri_is("http://example.com:443/a", "http://example.com:443/a");
	base_uri_is("https://example.com:80/a", "https://example.com:80/a");
	base_uri_is("https://example.com:8443/a?b=c", "https://example.com:8443/a");
	base_uri_is("https://example.com:0443/a", "https://example.com/a");
	base_uri_is("https://example.com:/a", "https://example.com/a");
	base_uri_is("HTTPS://SIS.Example.ORG/IMS/OneRoster/v1p1/Users?Limit=5",
		    "https://sis.example.org/IMS/OneRoster/v1p1/Users");
	base_uri_is("https://example.com", "https://example.com/");
	base_uri_is("https://example.com?x=1", "https://example.com/");
	base_uri_is("https://example.com/a/b#frag", "https://example.com/a/b");
	base_uri_is("https://example.com/a%2fb/~c", "https://example.com/a%2fb/~c");
	base_uri_is("https://[2001:DB8::1]:8443/x", "https://[2001:db8::1]:8443/x");
	base_uri_is("https://[2001:db8::1]:443/x", "https://[2001:db8::1]/x");
	base_uri_is("http://127.0.0.1:8080/ims", "http://127.0.0.1:8080/ims");
}

static void test_params(void)
{
	params_are("https://h/p?a=2&a=10&a=1&a=1&b=x", NULL, "a=1&a=1&a=10&a=2&b=x",
		   "repeated names all kept, values sorted bytewise");
	params_are("https://h/p?a.b=1&a=2&a-b=3&a1=4&a%20=5&A=6", NULL,
		   "A=6&a=2&a%20=5&a-b=3&a.b=1&a1=4",
		   "sorted by name first (a before a-b), not by the joined name=value");
	params_are("https://h/p?q=a+b&r=a%20b&s=%2B&t=*&u=~&v=%C3%A9&w=%E6%97%A5%F0%9F%8E%93", NULL,
		   "q=a%20b&r=a%20b&s=%2B&t=%2A&u=~&v=%C3%A9&w=%E6%97%A5%F0%9F%8E%93",
		   "+ and %20 are a space (%20), %2B a plus, * becomes %2A, ~ stays, UTF-8 as bytes");
	params_are("https://h/p?n=%00x&m=%7e%2a", NULL, "m=~%2A&n=%00x",
		   "%00 is a byte like any other; lower-case escapes come out upper-case or decoded");
	params_are("https://h/p?a=1&&b&=&c==d#x=1", NULL, "=&a=1&b=&c=%3Dd",
		   "empty pieces skipped, no '=' is an empty value, the fragment is not a parameter");
	params_are("https://h/p?oauth_signature=abc&x=1", "oauth_signature=def&y=2", "x=1&y=2",
		   "oauth_signature is never signed, in the query or in the body");
	params_are("https://h/p?z=1", "a=%2F+b&c", "a=%2F%20b&c=&z=1", "form body parameters count");
	params_are("https://h/p", NULL, "", "no parameters at all: an empty string");

	/* the OneRoster filter a user writes, with + or %20 for its spaces */
	struct buf a, b;
	struct rt_err e;
	buf_init(&a, 0);
	buf_init(&b, 0);
	oauth1_normalized_params("https://h/users?filter=givenName%3D%27Jos%C3%A9+Mar%C3%ADa%27", NULL,
				 NULL, 0, &a, &e);
	oauth1_normalized_params("https://h/users?filter=givenName%3D%27Jos%C3%A9%20Mar%C3%ADa%27",
				 NULL, NULL, 0, &b, &e);
	check_str(a.data, "filter=givenName%3D%27Jos%C3%A9%20Mar%C3%ADa%27",
		  "%s", "a filter with UTF-8 and + for a space");
	check_str(b.data, a.data, "%s", "the same filter with %20: the same parameters");
	buf_free(&a);
	buf_free(&b);
}

static void refused(int rc, const struct rt_err *e, const struct buf *b, const char *want,
		    const char *what)
{
	tap_ok(rc == -1 && e->kind == ERR_CONFIG && strstr(e->msg, want) &&
		       !strcmp(b->data, "kept"),
	       "refused, out as it was: %s (\"%s\")", what, e->msg);
}

static void test_refused(void)
{
	struct {
		const char *url, *want, *what;
	} bad[] = {
		{"ftp://example.com/a", "not an absolute http", "another scheme"},
		{"example.com/a", "not an absolute http", "no scheme"},
		{"", "no URL", "an empty URL"},
		{"https://user:pw@example.com/a", "user name or password", "credentials in the URL"},
		{"https://example.com:44x/a", "bad port", "a port that is not a number"},
		{"https://example.com:70000/a", "bad port", "a port over 65535"},
		{"https:///a", "no host", "no host"},
		{"https://:8080/a", "no host", "a port without a host"},
		{"https://[::1/a", "IPv6", "an IPv6 host without its ']'"},
		{"https://example.com/a b", "space", "a space in the URL"},
		{"https://example.com/a?q=%zz", "two hex digits", "a bad %XX in the query"},
		{"https://example.com/a?q=1%", "two hex digits", "a '%' at the end of the query"},
		{"https://example.com/a?q=%4", "two hex digits", "a '%' with one hex digit"},
	};
	struct oauth1_client cl = {"key", "secret", NULL, NULL, NULL, OAUTH1_HMAC_SHA256, 0};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		struct buf b;
		struct rt_err e;
		buf_init(&b, 0);
		buf_adds(&b, "kept");
		err_clear(&e);
		int rc = oauth1_authorization_at(&cl, "GET", bad[i].url, NULL, "n", 1, &b, &e);
		refused(rc, &e, &b, bad[i].want, bad[i].what);
		tap_ok(!strstr(e.msg, "secret") && !strstr(e.msg, "example.com"),
		       "  the message quotes neither the URL nor a secret");
		buf_free(&b);
	}
	struct buf b;
	struct rt_err e;
	buf_init(&b, 0);
	buf_adds(&b, "kept");
	err_clear(&e);
	refused(oauth1_base_string("", "https://h/", NULL, NULL, 0, &b, &e), &e, &b, "method",
		"an empty method");
	refused(oauth1_base_string("G&T", "https://h/", NULL, NULL, 0, &b, &e), &e, &b, "method",
		"a method with '&'");
	refused(oauth1_normalized_params("https://h/", "a=%G0", NULL, 0, &b, &e), &e, &b,
		"form body", "a bad %XX in the form body, named as the body's");
	struct oauth1_client empty = {"key", "", NULL, NULL, NULL, OAUTH1_HMAC_SHA256, 0};
	refused(oauth1_authorization_at(&empty, "GET", "https://h/", NULL, "n", 1, &b, &e), &e, &b,
		"empty", "an empty consumer secret");
	empty.consumer_secret = "secret";
	empty.consumer_key = NULL;
	refused(oauth1_authorization_at(&empty, "GET", "https://h/", NULL, "n", 1, &b, &e), &e, &b,
		"empty", "no consumer key");
	refused(oauth1_authorization_at(&cl, "GET", "https://h/", NULL, "", 1, &b, &e), &e, &b,
		"nonce", "an empty nonce");
	refused(oauth1_authorization_at(&cl, "GET", "https://h/", NULL, "n", -1, &b, &e), &e, &b,
		"timestamp", "a negative timestamp");
	buf_free(&b);

	/* a header over out's cap: out as it was */
	buf_init(&b, 40);
	buf_adds(&b, "kept");
	err_clear(&e);
	int rc = oauth1_authorization_at(&cl, "GET", "https://h/", NULL, "n", 1, &b, &e);
	tap_ok(rc == -1 && e.kind == ERR_IO && !strcmp(b.data, "kept"),
	       "a header over out's cap fails, out as it was (%s)", e.msg);
	buf_free(&b);
}

/* ---- the header, the nonce and the clock ---- */

/* The value of name="..." in a header, still encoded; "" when absent. */
static void header_value(const char *h, const char *name, char *out, size_t n)
{
	char pat[64];
	snprintf(pat, sizeof pat, "%s=\"", name);
	const char *p = strstr(h, pat);
	const char *q = p ? strchr(p + strlen(pat), '"') : NULL;
	size_t len = q ? (size_t)(q - p - strlen(pat)) : 0;
	snprintf(out, n, "%.*s", (int)(len < n ? len : n - 1), p ? p + strlen(pat) : "");
}

static void test_header(void)
{
	struct buf h, h2;
	struct rt_err e;
	buf_init(&h, 0);
	buf_init(&h2, 0);
	struct oauth1_client cl = {"key with space", "s", "tok/en", NULL, "Roster \"Realm\"",
				   OAUTH1_HMAC_SHA1, 0};
	int rc = oauth1_authorization_at(&cl, "get", "https://h/p?a=1", NULL, "abc", 137131200, &h,
					 &e);
	const char *want =
		"OAuth realm=\"Roster%20%22Realm%22\", oauth_consumer_key=\"key%20with%20space\", "
		"oauth_nonce=\"abc\", oauth_signature_method=\"HMAC-SHA1\", "
		"oauth_timestamp=\"137131200\", oauth_token=\"tok%2Fen\", oauth_version=\"1.0\", "
		"oauth_signature=\"";
	tap_ok(!rc && !strncmp(h.data, want, strlen(want)) && h.data[h.len - 1] == '"',
	       "the header: realm, key, nonce, method, timestamp, token, version, signature; each "
	       "value encoded and quoted");
	if (rc || strncmp(h.data, want, strlen(want)))
		tap_diag("  got %s", rc ? e.msg : h.data);
	char sig[64];
	header_value(h.data, "oauth_signature", sig, sizeof sig);
	char raw[64];
	unsigned char md[64];
	size_t rn = 0, mn = 0;
	for (const char *p = sig; *p && rn < sizeof raw - 1; p++) {
		unsigned int x;
		if (*p == '%' && sscanf(p + 1, "%2x", &x) == 1) {
			raw[rn++] = (char)x;
			p += 2;
		} else {
			raw[rn++] = *p;
		}
	}
	raw[rn] = 0;
	tap_ok(rn == 28 && !b64_decode(raw, rn, md, &mn, 0) && mn == 20,
	       "an HMAC-SHA1 signature: 20 bytes in padded base64, %%-encoded in the header (%s)",
	       sig);

	cl.token_secret = "";
	rc = oauth1_authorization_at(&cl, "get", "https://h/p?a=1", NULL, "abc", 137131200, &h2,
				     &e);
	tap_ok(!rc && !strcmp(h.data, h2.data), "a NULL token secret signs as an empty one");

	buf_reset(&h2);
	cl.method = OAUTH1_HMAC_SHA256;
	cl.no_version = 1;
	cl.realm = NULL;
	cl.token = "";
	rc = oauth1_authorization_at(&cl, "GET", "https://h/p?a=1", NULL, "abc", 1700000000, &h2, &e);
	tap_ok(!rc && !strncmp(h2.data, "OAuth oauth_consumer_key=", 25) &&
		       strstr(h2.data, "oauth_signature_method=\"HMAC-SHA256\"") &&
		       !strstr(h2.data, "oauth_version") && !strstr(h2.data, "oauth_token") &&
		       !strstr(h2.data, "realm"),
	       "two-legged, HMAC-SHA256, no version, no realm: none of them in the header");
	buf_free(&h);
	buf_free(&h2);
}

static void test_nonce_and_clock(void)
{
	char a[OAUTH1_NONCE_LEN + 1], b[OAUTH1_NONCE_LEN + 1];
	struct rt_err e;
	int ok = !oauth1_nonce(a, &e) && !oauth1_nonce(b, &e);
	size_t alnum = 0;
	for (size_t i = 0; ok && a[i]; i++)
		alnum += (a[i] >= 'a' && a[i] <= 'z') || (a[i] >= 'A' && a[i] <= 'Z') ||
			 (a[i] >= '0' && a[i] <= '9');
	tap_ok(ok && strlen(a) == 22 && alnum == 22, "a nonce: 22 letters and digits (%s)", a);
	tap_ok(ok && strcmp(a, b), "two nonces differ");

	/* the clock's time, and a header that verifies with the nonce it shows */
	clk_use_fake(1790000000.75, 7);
	struct oauth1_client cl = {"ck", "cs", NULL, NULL, NULL, OAUTH1_HMAC_SHA256, 0};
	struct buf h, again;
	buf_init(&h, 0);
	buf_init(&again, 0);
	int rc = oauth1_authorization(&cl, "GET", "https://h/users?limit=5", NULL, &h, &e);
	char ts[32], nonce[64];
	header_value(rc ? "" : h.data, "oauth_timestamp", ts, sizeof ts);
	header_value(rc ? "" : h.data, "oauth_nonce", nonce, sizeof nonce);
	check_str(ts, "1790000000", "%s", "the timestamp is the clock's, in whole seconds");
	TAP_EQ_INT(strlen(nonce), OAUTH1_NONCE_LEN, "the header's nonce is a fresh one");
	rc = rc ? rc : oauth1_authorization_at(&cl, "GET", "https://h/users?limit=5", NULL, nonce,
					       1790000000, &again, &e);
	check_str(rc ? NULL : again.data, h.data, "%s",
		  "the same header from its nonce and timestamp given explicitly");
	clk_use_real();
	buf_free(&h);
	buf_free(&again);
}

/* ---- the signer for tests/oauth1_oauthlib.bats ---- */

/* The base string the header h was signed over, from its nonce and time. */
static int print_base(const struct oauth1_client *cl, const char *method, const char *url,
		      const char *body, const char *h)
{
	char nonce[128], ts[32];
	struct buf b;
	struct rt_err e;
	header_value(h, "oauth_nonce", nonce, sizeof nonce);
	header_value(h, "oauth_timestamp", ts, sizeof ts);
	struct oauth1_param p[6] = {{"oauth_consumer_key", cl->consumer_key},
				    {"oauth_nonce", nonce},
				    {"oauth_signature_method", oauth1_method_name(cl->method)},
				    {"oauth_timestamp", ts}};
	size_t n = 4;
	if (cl->token && *cl->token)
		p[n++] = (struct oauth1_param){"oauth_token", cl->token};
	if (!cl->no_version)
		p[n++] = (struct oauth1_param){"oauth_version", "1.0"};
	buf_init(&b, 0);
	int rc = oauth1_base_string(method, url, body, p, n, &b, &e);
	if (!rc)
		printf("base: %s\n", b.data);
	buf_free(&b);
	return rc;
}

static int sign_main(int argc, char **argv)
{
	struct oauth1_client cl = {0};
	const char *body = NULL;
	int base = 0, i = 2;
	for (; i < argc && argv[i][0] == '-'; i++) {
		if (!strcmp(argv[i], "--sha1"))
			cl.method = OAUTH1_HMAC_SHA1;
		else if (!strcmp(argv[i], "--no-version"))
			cl.no_version = 1;
		else if (!strcmp(argv[i], "--base"))
			base = 1;
		else if (!strcmp(argv[i], "--realm") && i + 1 < argc)
			cl.realm = argv[++i];
		else if (!strcmp(argv[i], "--body") && i + 1 < argc)
			body = argv[++i];
		else
			break;
	}
	if (argc - i != 2) {
		fprintf(stderr, "usage: test_oauth1 sign [--sha1] [--no-version] [--realm R] "
				"[--body FORM] [--base] METHOD URL <key-secret-token-tokensecret-lines\n");
		return 2;
	}
	char lines[4][1024] = {{0}};
	for (int l = 0; l < 4 && fgets(lines[l], sizeof lines[l], stdin); l++)
		lines[l][strcspn(lines[l], "\n")] = 0;
	cl.consumer_key = lines[0];
	cl.consumer_secret = lines[1];
	cl.token = lines[2];
	cl.token_secret = lines[3];
	struct rt_err e;
	struct buf h;
	buf_init(&h, 0);
	err_clear(&e);
	int rc = clk_from_env() ? -1 : oauth1_authorization(&cl, argv[i], argv[i + 1], body, &h, &e);
	if (rc)
		fprintf(stderr, "test_oauth1: %s\n", e.msg[0] ? e.msg : "bad ROSTER_FAKE_CLOCK");
	else
		printf("%s\n", h.data);
	if (!rc && base)
		rc = print_base(&cl, argv[i], argv[i + 1], body, h.data);
	explicit_bzero(lines, sizeof lines);
	buf_free(&h);
	return rc ? 1 : fclose(stdout) ? 1 : 0;
}

int main(int argc, char **argv)
{
	if (argc > 1 && !strcmp(argv[1], "sign"))
		return sign_main(argc, argv);
	test_percent();
	test_rfc();
	test_hmac_sha256();
	test_reference();
	test_urls();
	test_params();
	test_refused();
	test_header();
	test_nonce_and_clock();
	return tap_done();
}
