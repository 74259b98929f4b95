#ifndef ROSTER_JWT_H
#define ROSTER_JWT_H

#include "core/buf.h"
#include "core/err.h"

#include <stddef.h>

/* RS256 JSON Web Signatures in the compact serialization (RFC 7515, with
 * RSASSA-PKCS1-v1_5 and SHA-256 of RFC 7518 section 3.3): what Google's
 * service-account token grant (the JWT bearer assertion) needs.
 *
 * The header and the payload are signed as the exact bytes given, never
 * re-serialised, so RFC 7515 A.2 (whose payload holds CRLFs) comes out byte
 * for byte. base64url is RFC 4648 section 5 without padding (b64.h). */

/* An RSA private key of 2048 bits or more. It owns OpenSSL's key object;
 * jwt_key_free releases it, and OpenSSL clears the private numbers as it
 * frees them. */
struct jwt_key;

/* Loads an unencrypted RSA private key from PEM text in memory: PKCS#8
 * ("BEGIN PRIVATE KEY", what Google's key files hold) or PKCS#1 ("BEGIN RSA
 * PRIVATE KEY"). The text is read where it is, never copied: the caller
 * wipes it once this returns. Refused with NULL and e filled (ERR_CONFIG):
 * empty or non-PEM text, a public key or certificate, an encrypted key
 * (no passphrase is ever asked for), another key type, under 2048 bits,
 * and a key whose numbers do not belong together (altered text). */
struct jwt_key *jwt_key_from_pem(const char *pem, size_t len, struct rt_err *e);
void jwt_key_free(struct jwt_key *k); /* NULL is fine */

/* Appends the compact JWS
 *     BASE64URL(header) "." BASE64URL(payload) "." BASE64URL(signature)
 * to out, the signature taken over the ASCII of the first two parts. 0, or
 * -1 with e filled and out as it was. */
int jwt_sign_rs256(const struct jwt_key *k, const void *header, size_t hlen,
		   const void *payload, size_t plen, struct buf *out, struct rt_err *e);

#endif
