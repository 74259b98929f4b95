#ifndef ROSTER_JSONW_H
#define ROSTER_JSONW_H

#include "buf.h"

#include <stddef.h>

/* Appending JSON text to a buf. Strings are escaped per RFC 8259; bytes
 * that are not valid UTF-8 are replaced by U+FFFD so output is always
 * valid JSON. Each returns 0, or -1 when the buf is over its cap. */
int jsonw_strn(struct buf *b, const char *s, size_t n);
int jsonw_str(struct buf *b, const char *s);
/* "key": (with the comma before it unless first) */
int jsonw_key(struct buf *b, const char *key, int first);

/* Length of the valid UTF-8 sequence at s (at most n bytes), or 0 when
 * it is not valid (overlong, surrogate, truncated, out of range). */
size_t utf8_seq_len(const unsigned char *s, size_t n);

/* Removes in place every byte of s that is not part of a valid UTF-8
 * sequence (a message cut at a byte count may end mid-character). */
void utf8_scrub(char *s);

#endif
