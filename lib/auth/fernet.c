/* Fernet tokens over OpenSSL (see fernet.h for the layout). Every buffer
 * that held key bytes or plaintext is wiped before it is freed, on the
 * error paths too. */
#include "auth/fernet.h"
#include "core/b64.h"

#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#define VERSION 0x80
#define HDR 25 /* version, timestamp, IV */
#define MAC 32
#define BLOCK 16
#define MIN_RAW (HDR + BLOCK + MAC)
#define CHUNK (1 << 20) /* EVP lengths are ints: feed it in pieces */

const char *fernet_status_text(enum fernet_status s)
{
	switch (s) {
	case FERNET_OK: return "ok";
	case FERNET_BAD_BASE64: return "the token is not URL-safe base64";
	case FERNET_TOO_SHORT: return "the token is too short";
	case FERNET_BAD_VERSION: return "the token version is not 0x80";
	case FERNET_BAD_SIZE: return "the ciphertext is not a whole number of blocks";
	case FERNET_EXPIRED: return "the token has expired";
	case FERNET_FUTURE: return "the token is dated in the future";
	case FERNET_BAD_MAC: return "the HMAC does not match";
	case FERNET_BAD_PADDING: return "the decrypted padding is wrong";
	case FERNET_NOMEM: return "out of memory";
	case FERNET_CRYPTO: return "the crypto library failed";
	}
	return "unknown status";
}

int fernet_key_parse(struct fernet_key *k, const char *s, size_t n)
{
	unsigned char raw[FERNET_KEY_TEXT_LEN / 4 * 3 + 3];
	size_t len = 0;
	int rc = -1;
	if (s && (n == FERNET_KEY_TEXT_LEN || n == FERNET_KEY_TEXT_LEN - 1) &&
	    !b64_decode(s, n, raw, &len, 1) && len == 32) {
		memcpy(k->sign, raw, 16);
		memcpy(k->enc, raw + 16, 16);
		rc = 0;
	}
	OPENSSL_cleanse(raw, sizeof raw);
	return rc;
}

void fernet_key_format(const struct fernet_key *k, char out[FERNET_KEY_TEXT_LEN + 1])
{
	unsigned char raw[32];
	memcpy(raw, k->sign, 16);
	memcpy(raw + 16, k->enc, 16);
	b64_encode(raw, sizeof raw, out, 1, 1);
	OPENSSL_cleanse(raw, sizeof raw);
}

int fernet_key_generate(struct fernet_key *k)
{
	unsigned char raw[32];
	int rc = RAND_bytes(raw, sizeof raw) == 1 ? 0 : -1;
	if (!rc) {
		memcpy(k->sign, raw, 16);
		memcpy(k->enc, raw + 16, 16);
	}
	OPENSSL_cleanse(raw, sizeof raw);
	return rc;
}

void fernet_key_wipe(struct fernet_key *k)
{
	OPENSSL_cleanse(k, sizeof *k);
}

/* Runs in[0..n) through the cipher into out; *outn gets the bytes written,
 * the final (padding) block included. 0; -1 when an update fails; -2 when
 * the final block does (on decryption: the padding is wrong). */
static int crypt_all(EVP_CIPHER_CTX *c, int enc, const unsigned char *in, size_t n,
		     unsigned char *out, size_t *outn)
{
	size_t o = 0;
	int w;
	for (size_t i = 0; i < n; i += CHUNK) {
		int l = n - i > CHUNK ? CHUNK : (int)(n - i);
		if (!(enc ? EVP_EncryptUpdate(c, out + o, &w, in + i, l)
			  : EVP_DecryptUpdate(c, out + o, &w, in + i, l)))
			return -1;
		o += (size_t)w;
	}
	if (!(enc ? EVP_EncryptFinal_ex(c, out + o, &w) : EVP_DecryptFinal_ex(c, out + o, &w)))
		return -2;
	*outn = o + (size_t)w;
	return 0;
}

static int mac(const struct fernet_key *k, const unsigned char *p, size_t n, unsigned char *md)
{
	unsigned int mdlen = 0;
	return HMAC(EVP_sha256(), k->sign, sizeof k->sign, p, n, md, &mdlen) && mdlen == MAC
		       ? 0
		       : -1;
}

enum fernet_status fernet_encrypt(const struct fernet_key *k, const void *msg, size_t n,
				  uint64_t now, const unsigned char *iv, char **token)
{
	enum fernet_status st = FERNET_CRYPTO;
	EVP_CIPHER_CTX *c = NULL;
	unsigned char *raw = NULL;
	size_t ctlen = 0;

	*token = NULL;
	if (n > SIZE_MAX / 2 - MIN_RAW) /* the base64 length must not wrap */
		return FERNET_NOMEM;
	size_t cap = HDR + (n / BLOCK + 1) * BLOCK + MAC;
	raw = malloc(cap);
	if (!raw)
		return FERNET_NOMEM;
	raw[0] = VERSION;
	for (int i = 0; i < 8; i++)
		raw[1 + i] = (unsigned char)(now >> (56 - 8 * i));
	if (iv)
		memcpy(raw + 9, iv, 16);
	else if (RAND_bytes(raw + 9, 16) != 1)
		goto out;
	c = EVP_CIPHER_CTX_new();
	if (!c || !EVP_EncryptInit_ex(c, EVP_aes_128_cbc(), NULL, k->enc, raw + 9) ||
	    crypt_all(c, 1, msg, n, raw + HDR, &ctlen) || HDR + ctlen + MAC != cap ||
	    mac(k, raw, HDR + ctlen, raw + HDR + ctlen))
		goto out;
	*token = malloc(b64_encoded_len(cap, 1) + 1);
	if (!*token) {
		st = FERNET_NOMEM;
		goto out;
	}
	b64_encode(raw, cap, *token, 1, 1);
	st = FERNET_OK;
out:
	EVP_CIPHER_CTX_free(c); /* wipes the key schedule */
	free(raw); /* version, time, IV, ciphertext, MAC: nothing secret */
	return st;
}

/* The status of a token's framing, before any key is used; *raw (the
 * decoded bytes, malloc'd) and *len on FERNET_OK. */
static enum fernet_status unframe(const char *token, size_t n, unsigned char **raw, size_t *len)
{
	*raw = NULL;
	if (!token)
		return FERNET_BAD_BASE64;
	unsigned char *r = malloc(n / 4 * 3 + 3);
	if (!r)
		return FERNET_NOMEM;
	enum fernet_status st = FERNET_OK;
	if (b64_decode(token, n, r, len, 1))
		st = FERNET_BAD_BASE64;
	else if (*len < HDR + MAC)
		st = FERNET_TOO_SHORT;
	else if (r[0] != VERSION)
		st = FERNET_BAD_VERSION;
	else if ((*len - HDR - MAC) % BLOCK) /* a partial block, as in the vectors */
		st = FERNET_BAD_SIZE;
	else if (*len < MIN_RAW)
		st = FERNET_TOO_SHORT; /* no ciphertext at all */
	if (st)
		free(r);
	else
		*raw = r;
	return st;
}

static uint64_t get_time(const unsigned char *p)
{
	uint64_t t = 0;
	for (int i = 0; i < 8; i++)
		t = t << 8 | p[i];
	return t;
}

enum fernet_status fernet_decrypt(const struct fernet_key *k, const char *token, size_t n,
				  uint64_t now, uint64_t ttl, unsigned char **msg,
				  size_t *msglen, uint64_t *ts)
{
	unsigned char *raw, *out = NULL, md[MAC];
	EVP_CIPHER_CTX *c = NULL;
	size_t len, outlen = 0;
	int rc;

	*msg = NULL;
	*msglen = 0;
	enum fernet_status st = unframe(token, n, &raw, &len);
	if (st)
		return st;
	uint64_t t = get_time(raw + 1);
	size_t body = len - MAC;
	/* ts + ttl < now and now + skew < ts, written so that nothing wraps */
	if (ttl > 0 && t < now && now - t > ttl)
		st = FERNET_EXPIRED;
	else if (ttl > 0 && t > now && t - now > FERNET_MAX_CLOCK_SKEW)
		st = FERNET_FUTURE;
	else if (mac(k, raw, body, md))
		st = FERNET_CRYPTO;
	else if (CRYPTO_memcmp(md, raw + body, MAC))
		st = FERNET_BAD_MAC;
	else if (!(out = malloc(body - HDR + BLOCK + 1)))
		st = FERNET_NOMEM;
	else if (!(c = EVP_CIPHER_CTX_new()) ||
		 !EVP_DecryptInit_ex(c, EVP_aes_128_cbc(), NULL, k->enc, raw + 9))
		st = FERNET_CRYPTO;
	else if ((rc = crypt_all(c, 0, raw + HDR, body - HDR, out, &outlen)))
		st = rc == -2 ? FERNET_BAD_PADDING : FERNET_CRYPTO;
	EVP_CIPHER_CTX_free(c);
	free(raw);
	if (st) {
		if (out) /* may hold part of the plaintext */
			OPENSSL_cleanse(out, body - HDR + BLOCK + 1);
		free(out);
		return st;
	}
	out[outlen] = '\0';
	*msg = out;
	*msglen = outlen;
	if (ts)
		*ts = t;
	return FERNET_OK;
}

int fernet_token_time(const char *token, size_t n, uint64_t *ts)
{
	unsigned char head[12 / 4 * 3 + 3];
	size_t len;
	/* 12 characters are exactly the version byte and the timestamp */
	if (!token || n < 12 || b64_decode(token, 12, head, &len, 1) || len != 9 ||
	    head[0] != VERSION)
		return -1;
	*ts = get_time(head + 1);
	return 0;
}
