#ifndef ROSTER_STRSET_H
#define ROSTER_STRSET_H

#include "core/htab.h"

#include <stddef.h>
#include <stdint.h>

/* A set of strings (core/htab.h). The set owns copies of its strings;
 * strset_free releases them. Used for links already followed (pager.h)
 * and ids already written (a user in several role queries). */
struct strset {
	struct htab_key *v; /* the strings, in the order added */
	size_t count, cap;
	struct htab index;
};

/* The project's one string hash (64-bit FNV-1a) over n bytes, for the
 * one hash table (core/htab.h) and so every table built on it (this set,
 * the snapshot map, normalize's tables, the drop folds). */
uint64_t strset_hash(const void *p, size_t n);
void strset_init(struct strset *s);
void strset_free(struct strset *s);
int strset_has(const struct strset *s, const char *key);
/* 1: it was there already; 0: added (a copy); -1: out of memory. */
int strset_add(struct strset *s, const char *key);

#endif
