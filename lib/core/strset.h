#ifndef ROSTER_STRSET_H
#define ROSTER_STRSET_H

#include <stddef.h>
#include <stdint.h>

/* A set of strings (open addressing, FNV-1a). The set owns copies of its
 * strings; strset_free releases them. Used for links already followed
 * (pager.h) and ids already written (a user in several role queries). */
struct strset {
	char **slot; /* size slots, NULL = empty */
	size_t size; /* a power of two, or 0 before the first insert */
	size_t count;
};

/* The project's one string hash (64-bit FNV-1a) over n bytes, for every
 * open-addressing table (this set, the snapshot map, normalize's tables,
 * the drop folds). */
uint64_t strset_hash(const void *p, size_t n);
void strset_init(struct strset *s);
void strset_free(struct strset *s);
int strset_has(const struct strset *s, const char *key);
/* 1: it was there already; 0: added (a copy); -1: out of memory. */
int strset_add(struct strset *s, const char *key);

#endif
