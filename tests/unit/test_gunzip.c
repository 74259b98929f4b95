/* Streaming gunzip: round trips fed whole and a byte at a time, several
 * members, zlib data, the expansion cap, truncated and corrupt input. */
#include "core/gunzip.h"
#include "core/vec.h"
#include "tap.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

/* gzip (or zlib, with window 15) of data, malloc'd; *n its length. */
static unsigned char *deflated(const void *data, size_t len, int window, size_t *n)
{
	z_stream z;
	memset(&z, 0, sizeof z);
	if (deflateInit2(&z, 9, Z_DEFLATED, window, 9, Z_DEFAULT_STRATEGY) != Z_OK)
		return NULL;
	size_t cap = deflateBound(&z, len) + 64;
	unsigned char *out = malloc(cap);
	z.next_in = (unsigned char *)data;
	z.avail_in = (uInt)len;
	z.next_out = out;
	z.avail_out = (uInt)cap;
	int rc = deflate(&z, Z_FINISH);
	*n = cap - z.avail_out;
	deflateEnd(&z);
	if (rc != Z_STREAM_END) {
		free(out);
		return NULL;
	}
	return out;
}

struct got {
	char *data;
	size_t len, cap;
	int calls;
	int stop_after; /* the callback refuses the call after this many (0: never) */
};

static int collect(void *ctx, const void *d, size_t n, struct rt_err *e)
{
	struct got *g = ctx;
	if (g->stop_after && ++g->calls > g->stop_after) {
		err_set(e, ERR_IO, "disk full");
		return -1;
	}
	if (VEC_RESERVE(g->data, g->cap, g->len + n, 256)) {
		err_set(e, ERR_IO, "out of memory");
		return -1;
	}
	memcpy(g->data + g->len, d, n);
	g->len += n;
	return 0;
}

/* Feeds in in pieces of step bytes; the return of the last call made. */
static int run(const unsigned char *in, size_t len, size_t step, unsigned long long cap,
	       struct got *g, struct rt_err *e)
{
	memset(g, 0, sizeof *g);
	err_clear(e);
	struct gunzip *z = gunzip_new("drop.csv.gz", cap, collect, g, e);
	if (!z)
		return -2;
	int rc = 0;
	for (size_t i = 0; i < len && rc == 0; i += step)
		rc = gunzip_feed(z, in + i, len - i < step ? len - i : step, e);
	if (rc == 0)
		rc = gunzip_finish(z, e);
	gunzip_free(z);
	return rc;
}

int main(void)
{
	struct rt_err e;
	struct got g;
	/* a text long enough for several output chunks */
	size_t tlen = 300000;
	char *text = malloc(tlen);
	for (size_t i = 0; i < tlen; i++)
		text[i] = "EmployeeNumber,LastName\n1007,Delgado\n"[i % 37] + (char)(i % 7 == 0);
	size_t gzlen, zlen;
	unsigned char *gz = deflated(text, tlen, 15 + 16, &gzlen);
	unsigned char *zl = deflated(text, tlen, 15, &zlen);
	tap_ok(gz && zl, "test data compressed");

	tap_ok(run(gz, gzlen, gzlen, 0, &g, &e) == 0 && g.len == tlen &&
		       !memcmp(g.data, text, tlen),
	       "gzip fed whole expands to the original");
	free(g.data);
	tap_ok(run(gz, gzlen, 1, 0, &g, &e) == 0 && g.len == tlen && !memcmp(g.data, text, tlen),
	       "gzip fed a byte at a time expands to the original");
	free(g.data);
	tap_ok(run(zl, zlen, 4096, 0, &g, &e) == 0 && g.len == tlen && !memcmp(g.data, text, tlen),
	       "zlib data is detected and expanded too");
	free(g.data);

	/* two members back to back (cat a.gz b.gz) */
	size_t alen, blen;
	unsigned char *a = deflated("first,line\n", 11, 31, &alen);
	unsigned char *b = deflated("second,line\n", 12, 31, &blen);
	unsigned char *ab = malloc(alen + blen);
	memcpy(ab, a, alen);
	memcpy(ab + alen, b, blen);
	tap_ok(run(ab, alen + blen, alen + blen, 0, &g, &e) == 0 && g.len == 23 &&
		       !memcmp(g.data, "first,line\nsecond,line\n", 23),
	       "two gzip members are one stream");
	free(g.data);
	tap_ok(run(ab, alen + blen, 3, 0, &g, &e) == 0 && g.len == 23,
	       "two members fed in 3-byte pieces");
	free(g.data);

	/* the cap: exactly at it is fine, one byte over is refused */
	tap_ok(run(gz, gzlen, 8192, tlen, &g, &e) == 0 && g.len == tlen,
	       "expanding to exactly the cap is allowed");
	free(g.data);
	int rc = run(gz, gzlen, 8192, tlen - 1, &g, &e);
	tap_ok(rc == -1 && e.kind == ERR_DATA && g.len < tlen &&
		       strstr(e.msg, "drop.csv.gz: expands past 299999 bytes") &&
		       strstr(e.msg, "decompression bomb"),
	       "one byte over the cap is refused, naming the file and the limit");
	tap_diag("  %s", e.msg);
	free(g.data);

	/* a bomb: 20 MB of zeros in a few KB, cap 1 MB */
	size_t zeros = 20 << 20, bomblen;
	char *z = calloc(1, zeros);
	unsigned char *bomb = deflated(z, zeros, 31, &bomblen);
	tap_ok(bomb && bomblen < 64 * 1024, "the bomb is small (%zu bytes)", bomblen);
	rc = run(bomb, bomblen, 65536, 1 << 20, &g, &e);
	tap_ok(rc == -1 && g.len <= (1 << 20) && strstr(e.msg, "expands past 1048576 bytes"),
	       "a bomb stops at the cap, never writing past it");
	free(g.data);

	/* truncated: every cut short of the end is an error */
	int all = 1;
	for (size_t cut = 0; cut < gzlen; cut += gzlen / 13 + 1) {
		rc = run(gz, cut, 4096, 0, &g, &e);
		all &= rc == -1 && e.kind == ERR_DATA && strstr(e.msg, "drop.csv.gz") != NULL;
		free(g.data);
	}
	rc = run(gz, gzlen - 1, 4096, 0, &g, &e);
	all &= rc == -1 && strstr(e.msg, "ends early") != NULL;
	free(g.data);
	tap_ok(all, "a truncated file is an error naming it (%s)", e.msg);

	/* corrupt: a flipped byte in the middle, garbage, a plain text file */
	unsigned char *bad = malloc(gzlen);
	memcpy(bad, gz, gzlen);
	bad[gzlen / 2] ^= 0x55;
	rc = run(bad, gzlen, 4096, 0, &g, &e);
	tap_ok(rc == -1 && e.kind == ERR_DATA && strstr(e.msg, "drop.csv.gz"),
	       "a corrupt file is an error naming it: %s", e.msg);
	free(g.data);
	rc = run((const unsigned char *)"EmployeeNumber,LastName\n", 24, 24, 0, &g, &e);
	tap_ok(rc == -1 && strstr(e.msg, "not a valid gzip file"), "plain text is not gzip");
	free(g.data);
	/* a member followed by garbage */
	memcpy(bad, gz, gzlen);
	unsigned char *tail = malloc(gzlen + 5);
	memcpy(tail, gz, gzlen);
	memcpy(tail + gzlen, "junk!", 5);
	rc = run(tail, gzlen + 5, 4096, 0, &g, &e);
	tap_ok(rc == -1 && e.kind == ERR_DATA, "garbage after the last member is an error");
	free(g.data);

	/* the callback stopping stops the stream with its error */
	memset(&g, 0, sizeof g);
	err_clear(&e);
	g.stop_after = 1;
	struct gunzip *s = gunzip_new("x.gz", 0, collect, &g, &e);
	rc = gunzip_feed(s, gz, gzlen, &e);
	tap_ok(rc == -1 && !strcmp(e.msg, "disk full") && gunzip_total(s) > 0,
	       "a callback error stops the stream");
	gunzip_free(s);
	free(g.data);

	tap_ok(gunzip_name("a.csv.gz") && gunzip_name("A.CSV.GZ") && !gunzip_name("a.csv") &&
		       !gunzip_name(".gz") && !gunzip_name("gz"),
	       "gunzip_name: a .gz suffix after a name");

	free(text);
	free(gz);
	free(zl);
	free(a);
	free(b);
	free(ab);
	free(z);
	free(bomb);
	free(bad);
	free(tail);
	return tap_done();
}
