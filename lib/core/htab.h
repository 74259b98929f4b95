#ifndef ROSTER_HTAB_H
#define ROSTER_HTAB_H

#include <stddef.h>

/* The library's one hash table: open addressing over string or byte-string
 * keys with a length, the project's FNV-1a (strset_hash in core/strset.h),
 * a power-of-two number of slots, linear probing, doubled once half full,
 * and removal by backward shift (no tombstones).
 *
 * It is an index over an array of entries that its user keeps in the
 * order they were added (with VEC_RESERVE), each entry of the user's own
 * type, starting with its key:
 *
 *     struct item { struct htab_key k; long value; };
 *     struct item *v; size_t n, cap; struct htab index;   (all zero: empty)
 *
 *     struct htab_pos at;
 *     if (HTAB_RESERVE(&index, v, n))            room for one more key
 *             return -1;
 *     size_t i = HTAB_LOOKUP(&index, v, key, len, &at);
 *     if (i)                                     there: v[i - 1]
 *             ...
 *     else                                       new: add it as entry n
 *             ... v[n] = (struct item){{copy, len}, 0}; htab_set(&index, &at, n++);
 *
 * A slot is one size_t: the entry's index and 32 bits of its key's hash,
 * so a probe looks at an entry only when the hashes agree, and growing
 * or removing never hashes a key again. The entries stay as small as the
 * user makes them (at most 2^32 - 2 of them). Entries whose key is NULL
 * are in the array but not in the index (a record without a key). The
 * user owns the entries and their keys. */

/* The first member of every entry. */
struct htab_key {
	char *key; /* NUL-terminated; it may hold a NUL of its own (len says where it ends) */
	size_t len;
};

struct htab {
	size_t *slot; /* size slots: 0 empty, else hash << 32 | (1 + the index of an entry) */
	size_t size;  /* a power of two, or 0 before the first key */
	size_t count; /* keys indexed */
};

/* Where a key that is not there would go (HTAB_LOOKUP, then htab_set). */
struct htab_pos {
	size_t slot, hash;
};

/* Every function takes the user's array (ent, entries of esize bytes,
 * each starting with a struct htab_key); the HTAB_ macros pass sizeof. */

/* Room to index one more key: the slots double (from 64) when the next
 * key would make them more than half full. 0, or -1 out of memory or past
 * the most entries (the table is as it was). */
int htab_reserve(struct htab *t, const void *ent, size_t esize, size_t n);
/* 1 + the index of the entry of key[0..len), or 0 when absent; then, when
 * at is not NULL, *at is where the key would go (valid until the table
 * changes; the table must have room: htab_reserve first). */
size_t htab_lookup(const struct htab *t, const void *ent, size_t esize, const void *key,
		   size_t len, struct htab_pos *at);
/* Indexes entry i, whose key HTAB_LOOKUP did not find, at *at. */
void htab_set(struct htab *t, const struct htab_pos *at, size_t i);
/* Takes entry i (indexed) out of the index; the entry itself is the user's. */
void htab_remove(struct htab *t, const void *ent, size_t esize, size_t i);
/* The entry indexed as from is now at index to (the user moved it, say
 * the last entry into the place of one removed). */
void htab_moved(struct htab *t, const void *ent, size_t esize, size_t from, size_t to);
/* Empties the index (the slots are kept). */
void htab_clear(struct htab *t);
/* Frees the slots (not the entries); the table is empty and usable. */
void htab_free(struct htab *t);

#define HTAB_RESERVE(t, v, n) htab_reserve((t), (v), sizeof *(v), (n))
#define HTAB_LOOKUP(t, v, key, len, at) htab_lookup((t), (v), sizeof *(v), (key), (len), (at))
#define HTAB_FIND(t, v, key, len) htab_lookup((t), (v), sizeof *(v), (key), (len), NULL)
#define HTAB_REMOVE(t, v, i) htab_remove((t), (v), sizeof *(v), (i))
#define HTAB_MOVED(t, v, from, to) htab_moved((t), (v), sizeof *(v), (from), (to))

#endif
