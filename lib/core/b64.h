#ifndef ROSTER_B64_H
#define ROSTER_B64_H

#include "core/buf.h"

#include <stddef.h>

/* Byte-to-text encodings: base64 and base16 of RFC 4648, and percent-encoding.
 * Base64 comes in section 5's URL-safe alphabet (- and _), which
 * Fernet tokens and keys use, and section 4's standard one (+ and /). */

/* Characters b64_encode writes for n bytes with padding (without the NUL). */
size_t b64_encoded_len(size_t n, int pad);

/* Writes the encoding of in[0..n) and a NUL to out, which must hold
 * b64_encoded_len(n, pad) + 1 bytes. url: the URL-safe alphabet; pad: add
 * the '=' padding. Returns the characters written. */
size_t b64_encode(const void *in, size_t n, char *out, int url, int pad);

/* Decodes in[0..n) (padding optional, but when present it must be right;
 * no whitespace) into out, which must hold n / 4 * 3 + 3 bytes. 0 with
 * *outn set; -1 for a character outside the alphabet, a length no
 * encoding has, misplaced padding, or nonzero unused bits in the last
 * character (so every byte string has one encoding). */
int b64_decode(const char *in, size_t n, void *out, size_t *outn, int url);

/* Section 8's base16, lower case: 2 * n characters and a NUL into out
 * (a SHA-256 as ledgers and MACs print it). */
void b16_encode(const void *in, size_t n, char *out);

/* RFC 3986 section 2.1: every byte of s outside the unreserved set
 * (letters, digits, - . _ ~) as %XX, appended to out: a query or form
 * value. 0, or -1 when out is over its cap. */
int pct_encode(const char *s, struct buf *out);
#endif
