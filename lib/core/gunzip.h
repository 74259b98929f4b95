#ifndef ROSTER_GUNZIP_H
#define ROSTER_GUNZIP_H

#include "core/err.h"

#include <stddef.h>

/* Streaming gzip (or zlib) decompression for drop files: compressed bytes
 * go in as they arrive, decompressed chunks come out through a callback,
 * in memory that does not grow with the file. Several gzip members one
 * after the other (what `cat a.gz b.gz` gives) are one stream. The
 * expanded size is capped: a small file that expands without bound (a
 * decompression bomb) is refused before it fills the disk. Errors are
 * ERR_DATA naming the file. */

/* Receives each decompressed chunk: 0, or -1 to stop (fill e). */
typedef int (*gunzip_out_fn)(void *ctx, const void *data, size_t len, struct rt_err *e);

struct gunzip;

/* name is what messages call the file; cap is the most bytes it may
 * expand to (0: no cap). NULL when out of memory (e filled). */
struct gunzip *gunzip_new(const char *name, unsigned long long cap, gunzip_out_fn fn, void *ctx,
			  struct rt_err *e);
/* Feeds compressed bytes. 0, or -1 (corrupt data, over the cap, or the
 * callback stopped). After -1 the stream is unusable: free it. */
int gunzip_feed(struct gunzip *g, const void *data, size_t len, struct rt_err *e);
/* The input is over: -1 when it ended inside a member (a truncated file)
 * or held no member at all. */
int gunzip_finish(struct gunzip *g, struct rt_err *e);
/* Decompressed bytes handed out so far. */
unsigned long long gunzip_total(const struct gunzip *g);
void gunzip_free(struct gunzip *g);

/* A name that says it is compressed: ends with ".gz" (any case). */
int gunzip_name(const char *name);

#endif
