#include "tap.h"

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
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	size_t cap = 4096, n = 0, r;
	char *p = malloc(cap + 1);
	while (p && (r = fread(p + n, 1, cap - n, f)) > 0) {
		n += r;
		if (n == cap) {
			char *q = realloc(p, cap * 2 + 1);
			if (!q) {
				free(p);
				p = NULL;
				break;
			}
			p = q;
			cap *= 2;
		}
	}
	fclose(f);
	if (!p)
		return NULL;
	p[n] = 0;
	if (len)
		*len = n;
	return p;
}

const char *tap_vectors(void)
{
	const char *v = getenv("VECTORS");
	return v && *v ? v : "tests/vectors";
}
