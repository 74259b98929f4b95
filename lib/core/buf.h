#ifndef ROSTER_BUF_H
#define ROSTER_BUF_H
#include <stddef.h>

/* A growable byte buffer. The struct owns data; buf_free releases it.
 * cap bounds growth: an append past cap fails (returns -1) so that a
 * runaway response or line cannot eat the machine's memory. data is kept
 * NUL-terminated after every successful append. Growing wipes the old
 * block before freeing it, so only buf_wipe is needed for a secret. */
struct buf {
	char *data;
	size_t len;
	size_t size;
	size_t cap;
};

void buf_init(struct buf *b, size_t cap);
void buf_free(struct buf *b);
/* buf_free for a buffer that held a secret: zeroes every byte first. */
void buf_wipe(struct buf *b);
void buf_reset(struct buf *b);
int buf_reserve(struct buf *b, size_t extra);
int buf_add(struct buf *b, const void *p, size_t n);
int buf_adds(struct buf *b, const char *s);
int buf_addc(struct buf *b, char c);
int buf_printf(struct buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Appends a whole file (up to the cap). 0, or -1 with errno set
 * (EFBIG when the file is larger than the cap). */
int buf_read_file(struct buf *b, const char *path);
/* Takes ownership of the data out of b (NUL-terminated, never NULL) and
 * leaves b empty. */
char *buf_steal(struct buf *b);

#endif
