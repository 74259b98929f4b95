#ifndef ROSTER_FERNET_H
#define ROSTER_FERNET_H

#include <stddef.h>
#include <stdint.h>

/* Fernet (github.com/fernet/spec), over OpenSSL: a token is the URL-safe
 * base64 of 0x80 | timestamp (64-bit big-endian seconds) | IV (16) |
 * AES-128-CBC ciphertext with PKCS#7 padding | HMAC-SHA256 of all the
 * bytes before it. Interoperable with Python's cryptography.fernet.
 *
 * A key is 32 bytes: the signing key (first 16) and the encryption key
 * (last 16), written as URL-safe base64 with padding (44 characters).
 * struct fernet_key holds raw key bytes: wipe it with fernet_key_wipe. */
struct fernet_key {
	unsigned char sign[16];
	unsigned char enc[16];
};

#define FERNET_KEY_TEXT_LEN 44 /* base64url of 32 bytes, with '=' */
#define FERNET_MAX_CLOCK_SKEW 60 /* seconds a token may be from the future (as pyca) */

enum fernet_status {
	FERNET_OK = 0,
	FERNET_BAD_BASE64,  /* not URL-safe base64 */
	FERNET_TOO_SHORT,   /* fewer than 73 bytes once decoded (but a partial block: BAD_SIZE) */
	FERNET_BAD_VERSION, /* the first byte is not 0x80 */
	FERNET_BAD_SIZE,    /* the ciphertext is not a whole number of blocks */
	FERNET_EXPIRED,     /* older than the TTL */
	FERNET_FUTURE,      /* timestamp more than the allowed skew ahead of now */
	FERNET_BAD_MAC,     /* the HMAC does not match: another key, or altered */
	FERNET_BAD_PADDING, /* the decrypted padding is wrong */
	FERNET_NOMEM,
	FERNET_CRYPTO,      /* OpenSSL failed (or no random bytes) */
};

/* One short phrase per status ("the HMAC does not match"). */
const char *fernet_status_text(enum fernet_status s);

/* Parses a key's text form (44 characters with '=', or 43 without).
 * 0, or -1 when it is not base64url of exactly 32 bytes. */
int fernet_key_parse(struct fernet_key *k, const char *s, size_t n);
/* Writes the text form (FERNET_KEY_TEXT_LEN characters and a NUL). */
void fernet_key_format(const struct fernet_key *k, char out[FERNET_KEY_TEXT_LEN + 1]);
/* 32 bytes from OpenSSL's RAND_bytes. 0, or -1. */
int fernet_key_generate(struct fernet_key *k);
/* Zeroes the key bytes (OPENSSL_cleanse). */
void fernet_key_wipe(struct fernet_key *k);

/* Encrypts msg[0..n) at time now into a token: *token is malloc'd,
 * NUL-terminated base64url with '=' padding (caller frees). iv NULL takes
 * 16 random bytes; a given iv is for the test vectors only. */
enum fernet_status fernet_encrypt(const struct fernet_key *k, const void *msg, size_t n,
				  uint64_t now, const unsigned char *iv, char **token);

/* Verifies and decrypts token[0..n), in the spec's order: base64, length,
 * version, block size, then (when ttl > 0) age and clock skew, HMAC
 * (compared in constant time), padding. On FERNET_OK *msg is malloc'd,
 * NUL-terminated after *msglen bytes; the caller wipes it (OPENSSL_cleanse
 * or secret_free) and frees it. ts, when not NULL, gets the token's
 * timestamp. On any other status nothing is allocated. */
enum fernet_status fernet_decrypt(const struct fernet_key *k, const char *token, size_t n,
				  uint64_t now, uint64_t ttl, unsigned char **msg,
				  size_t *msglen, uint64_t *ts);

/* The token's timestamp field, read without any verification (for
 * re-encrypting a verified entry at its original time). 0 or -1. */
int fernet_token_time(const char *token, size_t n, uint64_t *ts);

#endif
