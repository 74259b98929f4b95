#include "core/buf.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void buf_init(struct buf *b, size_t cap)
{
	b->data = NULL;
	b->len = b->size = 0;
	b->cap = cap ? cap : (size_t)1 << 30;
}

void buf_free(struct buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->size = 0;
}

void buf_wipe(struct buf *b)
{
	if (b->data)
		explicit_bzero(b->data, b->size);
	buf_free(b);
}

void buf_reset(struct buf *b)
{
	b->len = 0;
	if (b->data)
		b->data[0] = 0;
}

int buf_reserve(struct buf *b, size_t extra)
{
	if (extra > b->cap || b->len > b->cap - extra)
		return -1;
	size_t need = b->len + extra + 1;
	if (need <= b->size)
		return 0;
	size_t n = b->size ? b->size : 256;
	while (n < need)
		n *= 2;
	/* not realloc: the old block is wiped before it is freed, so a buffer
	 * that held a secret leaves no copy behind when it grows */
	char *p = malloc(n);
	if (!p)
		return -1;
	if (b->data) {
		memcpy(p, b->data, b->len + 1);
		explicit_bzero(b->data, b->size);
		free(b->data);
	}
	b->data = p;
	b->size = n;
	return 0;
}

int buf_add(struct buf *b, const void *p, size_t n)
{
	if (buf_reserve(b, n))
		return -1;
	if (n)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = 0;
	return 0;
}

int buf_adds(struct buf *b, const char *s)
{
	return buf_add(b, s, strlen(s));
}

int buf_addc(struct buf *b, char c)
{
	if (b->len + 1 < b->size) {
		b->data[b->len++] = c;
		b->data[b->len] = 0;
		return 0;
	}
	return buf_add(b, &c, 1);
}

int buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || buf_reserve(b, (size_t)n))
		return -1;
	va_start(ap, fmt);
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
	return 0;
}

char *buf_steal(struct buf *b)
{
	char *p = b->data;
	if (!p)
		p = calloc(1, 1);
	b->data = NULL;
	b->len = b->size = 0;
	return p;
}

int buf_read_file(struct buf *b, const char *path)
{
	FILE *f = fopen(path, "rb");
	char chunk[8192];
	size_t n;
	int rc = 0;
	if (!f)
		return -1;
	while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
		if (buf_add(b, chunk, n)) {
			rc = -1;
			errno = EFBIG;
			break;
		}
	if (ferror(f)) {
		rc = -1;
		errno = EIO;
	}
	fclose(f);
	return rc;
}
