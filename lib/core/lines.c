#include "core/lines.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define BLOCK (256 * 1024)

void lines_init(struct lines *r, FILE *fp, const char *name, size_t max_line)
{
	r->fp = fp;
	r->name = name;
	r->lineno = 0;
	r->blk = NULL;
	r->bpos = r->blen = 0;
	r->eof = 0;
	buf_init(&r->line, max_line ? max_line : (size_t)64 << 20);
}

void lines_free(struct lines *r)
{
	buf_free(&r->line);
	free(r->blk);
	r->blk = NULL;
}

static int finish(struct lines *r, struct rt_err *e)
{
	r->lineno++;
	if (memchr(r->line.data, 0, r->line.len)) {
		err_set(e, ERR_DATA, "%s:%ld: line contains a NUL byte", r->name, r->lineno);
		return -1;
	}
	return 1;
}

int lines_next(struct lines *r, struct rt_err *e)
{
	buf_reset(&r->line);
	if (!r->blk && !(r->blk = malloc(BLOCK))) {
		err_set(e, ERR_IO, "%s: out of memory", r->name);
		return -1;
	}
	for (;;) {
		if (r->bpos == r->blen) {
			if (r->eof)
				break;
			r->blen = fread(r->blk, 1, BLOCK, r->fp);
			r->bpos = 0;
			if (r->blen == 0) {
				r->eof = 1;
				if (ferror(r->fp)) {
					err_set(e, ERR_IO, "%s: read error after line %ld: %s", r->name,
						r->lineno, strerror(errno));
					return -1;
				}
				break;
			}
		}
		char *start = r->blk + r->bpos;
		size_t avail = r->blen - r->bpos;
		char *nl = memchr(start, '\n', avail);
		size_t take = nl ? (size_t)(nl - start) : avail;
		if (buf_add(&r->line, start, take)) {
			err_set(e, ERR_DATA, "%s:%ld: line longer than %zu bytes", r->name,
				r->lineno + 1, r->line.cap);
			return -1;
		}
		r->bpos += take + (nl ? 1 : 0);
		if (nl)
			return finish(r, e);
	}
	if (r->line.len)
		return finish(r, e);
	return 0;
}
