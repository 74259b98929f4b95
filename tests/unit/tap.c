#include "tap.h"
#include "buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

static int n_run, n_fail;

void tap_ok(int cond, const char *fmt, ...)
{
	va_list ap;
	n_run++;
	if (!cond)
		n_fail++;
	printf("%sok %d - ", cond ? "" : "not ", n_run);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

void tap_diag(const char *fmt, ...)
{
	va_list ap;
	printf("# ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
}

int tap_done(void)
{
	printf("1..%d\n", n_run);
	return n_fail ? 1 : 0;
}

char *tap_slurp(const char *path, unsigned long *len)
{
	struct buf b;
	buf_init(&b, 0);
	if (buf_read_file(&b, path)) {
		buf_free(&b);
		return NULL;
	}
	if (len)
		*len = b.len;
	return buf_steal(&b);
}

const char *tap_vectors(void)
{
	const char *v = getenv("VECTORS");
	return v && *v ? v : "tests/vectors";
}
