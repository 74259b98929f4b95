#ifndef ROSTER_OAUTH1_H
#define ROSTER_OAUTH1_H

#include "core/buf.h"
#include "core/err.h"

#include <stddef.h>

/* OAuth 1.0a request signing (RFC 5849 sections 3.4 to 3.6), the way
 * OneRoster 1.1 providers want every request signed: HMAC-SHA256, or
 * HMAC-SHA1 for OneRoster 1.0 (the method of RFC 5849 itself). Usually
 * two-legged: a consumer key and secret, no token.
 *
 * Every function appends to out and returns 0, or -1 with e filled and out
 * as it was. Nothing here keeps a pointer it was given or logs; a message
 * in e names what is wrong without quoting the URL or any secret. */

enum oauth1_method {
	OAUTH1_HMAC_SHA256, /* OneRoster 1.1 */
	OAUTH1_HMAC_SHA1,   /* OneRoster 1.0 and RFC 5849's examples */
};

/* "HMAC-SHA256" or "HMAC-SHA1": the oauth_signature_method value. */
const char *oauth1_method_name(enum oauth1_method m);

/* A protocol parameter (oauth_consumer_key, oauth_nonce...), its name and
 * value as they are, not encoded. */
struct oauth1_param {
	const char *name;
	const char *value;
};

/* What a client signs with. The strings are borrowed: the caller owns
 * them and wipes the secrets. */
struct oauth1_client {
	const char *consumer_key;
	const char *consumer_secret;
	const char *token;        /* NULL or "": two-legged, no oauth_token */
	const char *token_secret; /* NULL: empty */
	const char *realm;        /* NULL: no realm in the header (it is never signed) */
	enum oauth1_method method;
	int no_version; /* 1: leave out oauth_version="1.0" (it is optional) */
};

/* Section 3.6: the n bytes at s with A-Z a-z 0-9 - . _ ~ kept and every
 * other byte written %XX, upper-case hex (a space is %20, never +). */
int oauth1_pct_encode(const void *s, size_t n, struct buf *out);

/* Section 3.4.1.2, the base string URI of an absolute http or https URL:
 * scheme and host lower-cased, port 80 for http and 443 for https dropped
 * (any other kept), path as sent ("/" when empty), no query or fragment.
 * Refused (ERR_CONFIG): another scheme, no host, a bad port, and a user
 * name or password in the URL (credentials never ride in URLs here). */
int oauth1_base_uri(const char *url, struct buf *out, struct rt_err *e);

/* Section 3.4.1.3, the normalised parameters: every parameter of the URL's
 * query and of form_body (NULL when the body is not
 * application/x-www-form-urlencoded: only such a body is signed), each
 * decoded as a form ('+' is a space, %XX a byte), with the n protocol
 * parameters of oauth; every name and value encoded (section 3.6), the
 * pairs sorted by name then value, bytewise, joined as name=value with '&'.
 * Repeated names are all kept; oauth_signature is left out wherever it is.
 * Refused (ERR_CONFIG): a bad %XX in the query or the body. */
int oauth1_normalized_params(const char *url, const char *form_body,
			     const struct oauth1_param *oauth, size_t n, struct buf *out,
			     struct rt_err *e);

/* Section 3.4.1.1, the signature base string:
 *     METHOD "&" encode(base string URI) "&" encode(normalised parameters)
 * with the method upper-cased. */
int oauth1_base_string(const char *method, const char *url, const char *form_body,
		       const struct oauth1_param *oauth, size_t n, struct buf *out,
		       struct rt_err *e);

/* Section 3.4.2: base64 (standard alphabet, padded) of the HMAC of
 * base[0..len) under the key encode(consumer_secret) "&"
 * encode(token_secret); a NULL token secret is empty, so the key ends with
 * '&'. The key is built in a buffer that is wiped before it is freed. */
int oauth1_signature(enum oauth1_method m, const char *consumer_secret,
		     const char *token_secret, const char *base, size_t len, struct buf *out,
		     struct rt_err *e);

/* Section 3.5.1: the value of the Authorization header of one request,
 *     OAuth realm="R", oauth_consumer_key="K", oauth_nonce="N",
 *     oauth_signature_method="HMAC-SHA256", oauth_timestamp="T",
 *     oauth_token="TOK", oauth_version="1.0", oauth_signature="S"
 * (on one line; realm, oauth_token and oauth_version only as c says),
 * every value encoded (section 3.6) and quoted. The caller puts it after
 * "Authorization: ". form_body as for oauth1_normalized_params. This one
 * takes the nonce and the timestamp (seconds since the epoch), for tests
 * and for a caller with its own; the nonce must be non-empty. */
int oauth1_authorization_at(const struct oauth1_client *c, const char *method, const char *url,
			    const char *form_body, const char *nonce, long long timestamp,
			    struct buf *out, struct rt_err *e);

/* The same with a fresh nonce (oauth1_nonce) and the time of clk_now()
 * (core/clock.h: ROSTER_FAKE_CLOCK moves it in tests). */
int oauth1_authorization(const struct oauth1_client *c, const char *method, const char *url,
			 const char *form_body, struct buf *out, struct rt_err *e);

/* A nonce: OAUTH1_NONCE_LEN letters and digits (about 131 bits) drawn from
 * OpenSSL's RAND_bytes, and a NUL, into out. The length is inside the
 * 20 to 30 characters that oauthlib's servers accept by default. 0, or -1
 * with e filled when no random bytes came. */
#define OAUTH1_NONCE_LEN 22
int oauth1_nonce(char out[OAUTH1_NONCE_LEN + 1], struct rt_err *e);

#endif
