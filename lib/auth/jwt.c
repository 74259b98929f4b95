#include "auth/jwt.h"
#include "core/b64.h"

#include <limits.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct jwt_key {
	EVP_PKEY *pkey;
};

#define MIN_BITS 2048 /* RFC 7518 section 3.3 */

/* Encrypted keys are refused without a prompt: OpenSSL's default callback
 * would ask on the terminal, and a nightly job has none. */
static int no_passphrase(char *buf, int size, int rwflag, void *u)
{
	(void)buf, (void)size, (void)rwflag, (void)u;
	return -1;
}

static int has(const char *p, size_t n, const char *what)
{
	return memmem(p, n, what, strlen(what)) != NULL;
}

/* What the text is when it is not a private key we can use: a message
 * that helps more than OpenSSL's "no start line". */
static const char *not_a_private_key(const char *p, size_t n)
{
	if (!has(p, n, "-----BEGIN "))
		return "the private key is not PEM text (no -----BEGIN line)";
	if (has(p, n, "-----BEGIN ENCRYPTED PRIVATE KEY") || has(p, n, "Proc-Type: 4,ENCRYPTED"))
		return "the private key is encrypted with a passphrase (an unencrypted key is needed)";
	if (has(p, n, "PRIVATE KEY-----"))
		return NULL;
	if (has(p, n, "-----BEGIN PUBLIC KEY") || has(p, n, "-----BEGIN RSA PUBLIC KEY"))
		return "the PEM text is a public key, not the private key";
	if (has(p, n, "-----BEGIN CERTIFICATE"))
		return "the PEM text is a certificate, not the private key";
	return NULL;
}

/* 1 when the private numbers belong together (p * q = n, d inverts e...). */
static int consistent(EVP_PKEY *pkey)
{
	EVP_PKEY_CTX *c = EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL);
	int ok = c && EVP_PKEY_check(c) == 1;
	EVP_PKEY_CTX_free(c);
	ERR_clear_error();
	return ok;
}

struct jwt_key *jwt_key_from_pem(const char *pem, size_t len, struct rt_err *e)
{
	const char *why = NULL;
	EVP_PKEY *pkey = NULL;
	BIO *bio = NULL;
	if (!pem || !len) {
		err_set(e, ERR_CONFIG, "the private key is empty");
		return NULL;
	}
	if (len > INT_MAX || (why = not_a_private_key(pem, len))) {
		err_set(e, ERR_CONFIG, "%s", why ? why : "the private key text is too long");
		return NULL;
	}
	/* a read-only memory BIO reads the caller's text in place: no copy of
	 * the key text is made here, so the caller's wipe is the only one needed */
	ERR_clear_error();
	bio = BIO_new_mem_buf(pem, (int)len);
	if (bio)
		pkey = PEM_read_bio_PrivateKey(bio, NULL, no_passphrase, NULL);
	BIO_free(bio);
	if (!pkey) {
		unsigned long oe = ERR_peek_last_error();
		const char *r = oe ? ERR_reason_error_string(oe) : NULL;
		err_set(e, ERR_CONFIG, "the PEM private key cannot be read%s%s%s",
			r ? " (OpenSSL: " : "", r ? r : "", r ? ")" : "");
		ERR_clear_error();
		return NULL;
	}
	if (EVP_PKEY_get_base_id(pkey) != EVP_PKEY_RSA) {
		err_set(e, ERR_CONFIG, "the private key is of type %s; RS256 needs an RSA key",
			EVP_PKEY_get0_type_name(pkey) ? EVP_PKEY_get0_type_name(pkey) : "non-RSA");
	} else if (EVP_PKEY_get_bits(pkey) < MIN_BITS) {
		err_set(e, ERR_CONFIG, "the RSA key has %d bits; RS256 needs %d or more",
			EVP_PKEY_get_bits(pkey), MIN_BITS);
	} else if (!consistent(pkey)) {
		/* caught here, a damaged key is named as such instead of Google's
		 * "Invalid JWT Signature" later */
		err_set(e, ERR_CONFIG, "the RSA private key is not consistent (its numbers do not "
				       "belong together): the key text was altered or damaged");
	} else {
		struct jwt_key *k = malloc(sizeof *k);
		if (k) {
			k->pkey = pkey;
			return k;
		}
		err_set(e, ERR_IO, "out of memory loading the private key");
	}
	EVP_PKEY_free(pkey);
	return NULL;
}

void jwt_key_free(struct jwt_key *k)
{
	if (!k)
		return;
	EVP_PKEY_free(k->pkey);
	free(k);
}

/* Appends the base64url of p[0..n) without padding. */
static int add_b64url(struct buf *out, const void *p, size_t n)
{
	size_t m = b64_encoded_len(n, 0);
	if (buf_reserve(out, m))
		return -1;
	out->len += b64_encode(p, n, out->data + out->len, 1, 0);
	return 0;
}

int jwt_sign_rs256(const struct jwt_key *k, const void *header, size_t hlen,
		   const void *payload, size_t plen, struct buf *out, struct rt_err *e)
{
	size_t start = out->len;
	EVP_MD_CTX *md = NULL;
	EVP_PKEY_CTX *pctx = NULL;
	unsigned char *sig = NULL;
	size_t siglen = 0, sigcap = 0;
	int rc = -1;
	if (!k || !k->pkey) {
		err_set(e, ERR_CONFIG, "no private key to sign with");
		return -1;
	}
	if (add_b64url(out, header, hlen) || buf_addc(out, '.') || add_b64url(out, payload, plen) ||
	    !(sig = malloc((size_t)EVP_PKEY_get_size(k->pkey)))) {
		err_set(e, ERR_IO, "out of memory building the JWT");
		goto out;
	}
	siglen = sigcap = (size_t)EVP_PKEY_get_size(k->pkey);
	ERR_clear_error();
	if (!(md = EVP_MD_CTX_new()) ||
	    EVP_DigestSignInit(md, &pctx, EVP_sha256(), NULL, k->pkey) != 1 ||
	    EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) <= 0 ||
	    EVP_DigestSign(md, sig, &siglen, (const unsigned char *)out->data + start,
			   out->len - start) != 1) {
		unsigned long oe = ERR_peek_last_error();
		err_set(e, ERR_CONFIG, "signing the JWT failed (OpenSSL: %s)",
			oe && ERR_reason_error_string(oe) ? ERR_reason_error_string(oe) : "no reason");
		ERR_clear_error();
		goto out;
	}
	if (buf_addc(out, '.') || add_b64url(out, sig, siglen)) {
		err_set(e, ERR_IO, "out of memory building the JWT");
		goto out;
	}
	rc = 0;
out:
	if (rc && out->data) { /* out as it was; what was added is wiped */
		explicit_bzero(out->data + start, out->len - start);
		out->len = start;
		out->data[start] = 0;
	}
	EVP_MD_CTX_free(md); /* frees pctx too */
	/* the raw signature completes the assertion, a bearer credential for an
	 * hour at the token endpoint: no copy of it is left in freed memory */
	if (sig)
		explicit_bzero(sig, sigcap);
	free(sig);
	return rc;
}
