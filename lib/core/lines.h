#ifndef ROSTER_LINES_H
#define ROSTER_LINES_H

#include "core/buf.h"
#include "core/err.h"

#include <stdio.h>

/* Reads '\n'-terminated lines (the last may lack it) with a length cap.
 * The reader owns line; lines_free releases it. name is the input's name
 * for error messages ("-" or "stdin" for standard input). */
struct lines {
	FILE *fp;
	const char *name;
	struct buf line; /* the current line, without its '\n', NUL-terminated */
	long lineno;     /* 1-based number of the current line */
	char *blk;       /* read-ahead block, owned */
	size_t bpos, blen;
	int eof;
};

void lines_init(struct lines *r, FILE *fp, const char *name, size_t max_line);
/* A line holding a NUL byte is an error, never a silent truncation.
 * 1: a line is in r->line; 0: end of input; -1: error (too long, read error) in e. */
int lines_next(struct lines *r, struct rt_err *e);
void lines_free(struct lines *r);

#endif
