#ifndef ROSTER_UTF8_H
#define ROSTER_UTF8_H

#include <stddef.h>

/* Length of the valid UTF-8 sequence at s (at most n bytes), or 0 when
 * it is not valid (overlong, surrogate, truncated, out of range). */
size_t utf8_seq_len(const unsigned char *s, size_t n);

/* Removes in place every byte of s that is not part of a valid UTF-8
 * sequence (a message cut at a byte count may end mid-character). */
void utf8_scrub(char *s);

#endif
