#ifndef ROSTER_STRSET_H
#define ROSTER_STRSET_H

#include <stddef.h>

/* A set of strings (open addressing, FNV-1a). The set owns copies of its
 * strings; strset_free releases them. Used for links already followed
 * (pager.h) and ids already written (a user in several role queries). */
struct strset {
	char **slot; /* size slots, NULL = empty */
	size_t size; /* a power of two, or 0 before the first insert */
	size_t count;
};

void strset_init(struct strset *s);
void strset_free(struct strset *s);
int strset_has(const struct strset *s, const char *key);
/* 1: it was there already; 0: added (a copy); -1: out of memory. */
int strset_add(struct strset *s, const char *key);

#endif
