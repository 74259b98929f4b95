#ifndef ROSTER_JSONW_H
#define ROSTER_JSONW_H

#include "core/buf.h"

#include <stddef.h>

/* Appending JSON text to a buf. Strings are escaped per RFC 8259; bytes
 * that are not valid UTF-8 are replaced by U+FFFD so output is always
 * valid JSON. Each returns 0, or -1 when the buf is over its cap. */
int jsonw_strn(struct buf *b, const char *s, size_t n);
int jsonw_str(struct buf *b, const char *s);
/* "key": (with the comma before it unless first) */
int jsonw_key(struct buf *b, const char *key, int first);

#endif
