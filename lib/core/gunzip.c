/* Streaming gzip decompression with zlib (lib/core/gunzip.h). */
#include "core/gunzip.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <zlib.h>

#define OUT_CHUNK 65536

struct gunzip {
	z_stream z;
	char name[256];
	unsigned long long cap, total;
	gunzip_out_fn fn;
	void *ctx;
	int in_member;  /* a member started and has not ended */
	int members;    /* members ended */
	unsigned char out[OUT_CHUNK];
};

int gunzip_name(const char *name)
{
	size_t n = strlen(name);
	return n > 3 && !strcasecmp(name + n - 3, ".gz");
}

struct gunzip *gunzip_new(const char *name, unsigned long long cap, gunzip_out_fn fn, void *ctx,
			  struct rt_err *e)
{
	struct gunzip *g = calloc(1, sizeof *g);
	if (!g) {
		err_set(e, ERR_IO, "%s: out of memory", name);
		return NULL;
	}
	/* 15 + 32: the largest window, and a gzip or zlib header detected */
	if (inflateInit2(&g->z, 15 + 32) != Z_OK) {
		err_set(e, ERR_IO, "%s: cannot start zlib", name);
		free(g);
		return NULL;
	}
	snprintf(g->name, sizeof g->name, "%s", name);
	g->cap = cap;
	g->fn = fn;
	g->ctx = ctx;
	return g;
}

static int corrupt(struct gunzip *g, const char *why, struct rt_err *e)
{
	err_set(e, ERR_DATA, "%s: not a valid gzip file (%s) after %llu bytes expanded", g->name,
		why, g->total);
	err_hint(e, "the file is damaged or was cut short; ask for it to be sent again");
	return -1;
}

static int emit(struct gunzip *g, size_t n, struct rt_err *e)
{
	if (!n)
		return 0;
	if (g->cap && g->total + n > g->cap) {
		err_set(e, ERR_DATA,
			"%s: expands past %llu bytes (a decompression bomb, or raise max_expanded)",
			g->name, g->cap);
		err_hint(e, "--max-expanded BYTES (job key max_expanded) sets the limit");
		return -1;
	}
	g->total += n;
	return g->fn(g->ctx, g->out, n, e);
}

int gunzip_feed(struct gunzip *g, const void *data, size_t len, struct rt_err *e)
{
	g->z.next_in = (unsigned char *)data;
	g->z.avail_in = (uInt)len;
	while (g->z.avail_in > 0) {
		if (!g->in_member && g->members > 0) {
			/* another member follows the one that ended */
			if (inflateReset(&g->z) != Z_OK)
				return corrupt(g, "reset", e);
		}
		g->in_member = 1;
		g->z.next_out = g->out;
		g->z.avail_out = OUT_CHUNK;
		int rc = inflate(&g->z, Z_NO_FLUSH);
		size_t n = OUT_CHUNK - g->z.avail_out;
		if (rc == Z_STREAM_END) {
			g->in_member = 0;
			g->members++;
		} else if (rc == Z_BUF_ERROR && n == 0) {
			break; /* needs more input than this chunk had */
		} else if (rc != Z_OK) {
			return corrupt(g, g->z.msg ? g->z.msg : "bad data", e);
		}
		if (emit(g, n, e))
			return -1;
	}
	/* drain what inflate holds back when output was full */
	while (g->in_member) {
		g->z.next_out = g->out;
		g->z.avail_out = OUT_CHUNK;
		int rc = inflate(&g->z, Z_NO_FLUSH);
		size_t n = OUT_CHUNK - g->z.avail_out;
		if (rc == Z_STREAM_END) {
			g->in_member = 0;
			g->members++;
		} else if (rc != Z_OK && rc != Z_BUF_ERROR) {
			return corrupt(g, g->z.msg ? g->z.msg : "bad data", e);
		}
		if (emit(g, n, e))
			return -1;
		if (n == 0 || rc == Z_BUF_ERROR)
			break;
	}
	return 0;
}

int gunzip_finish(struct gunzip *g, struct rt_err *e)
{
	if (g->in_member || g->members == 0) {
		err_set(e, ERR_DATA, "%s: the gzip data ends early (a truncated file) after %llu "
				     "bytes expanded", g->name, g->total);
		err_hint(e, "the file was cut short; ask for it to be sent again");
		return -1;
	}
	return 0;
}

unsigned long long gunzip_total(const struct gunzip *g)
{
	return g->total;
}

void gunzip_free(struct gunzip *g)
{
	if (!g)
		return;
	inflateEnd(&g->z);
	free(g);
}
