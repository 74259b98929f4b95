#include "core/htab.h"
#include "core/strset.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define FIRST_SIZE 64
#define IDX_BITS 32
#define IDX_MASK (((size_t)1 << IDX_BITS) - 1) /* a slot's 1 + index */
#define MAX_ENTRIES (IDX_MASK - 1)

_Static_assert(sizeof(size_t) >= 8, "a slot holds 32 bits of hash and 32 of index");

static const struct htab_key *key_at(const void *ent, size_t esize, size_t i)
{
	return (const struct htab_key *)(const void *)((const char *)ent + i * esize);
}

/* The low 32 bits of the key's hash: a slot keeps them above its index. */
static size_t hash_of(const void *key, size_t len)
{
	return (size_t)(strset_hash(key, len) & 0xffffffffu);
}

static size_t slot_hash(size_t s)
{
	return s >> IDX_BITS;
}

size_t htab_lookup(const struct htab *t, const void *ent, size_t esize, const void *key,
		   size_t len, struct htab_pos *at)
{
	if (!t->size)
		return 0; /* at is not used: a table without slots has no room */
	size_t h = hash_of(key, len), mask = t->size - 1, i = h & mask;
	for (size_t s; (s = t->slot[i]); i = (i + 1) & mask) {
		if (slot_hash(s) != h)
			continue;
		const struct htab_key *k = key_at(ent, esize, (s & IDX_MASK) - 1);
		if (k->len == len && !memcmp(k->key, key, len))
			return s & IDX_MASK;
	}
	if (at)
		*at = (struct htab_pos){i, h};
	return 0;
}

void htab_set(struct htab *t, const struct htab_pos *at, size_t i)
{
	t->slot[at->slot] = at->hash << IDX_BITS | (i + 1);
	t->count++;
}

int htab_reserve(struct htab *t, const void *ent, size_t esize, size_t n)
{
	(void)ent, (void)esize;
	if (n >= MAX_ENTRIES)
		return -1;
	if (t->size && (t->count + 1) * 2 <= t->size)
		return 0;
	size_t size = t->size ? t->size * 2 : FIRST_SIZE;
	if (size > ((size_t)1 << IDX_BITS) || size > SIZE_MAX / sizeof *t->slot)
		return -1;
	size_t *slot = calloc(size, sizeof *slot);
	if (!slot)
		return -1;
	for (size_t k = 0; k < t->size; k++) {
		size_t s = t->slot[k];
		if (!s)
			continue;
		size_t j = slot_hash(s) & (size - 1);
		while (slot[j])
			j = (j + 1) & (size - 1);
		slot[j] = s;
	}
	free(t->slot);
	t->slot = slot;
	t->size = size;
	return 0;
}

/* The slot that indexes entry i. */
static size_t slot_of(const struct htab *t, size_t h, size_t i)
{
	size_t j = h & (t->size - 1);
	while ((t->slot[j] & IDX_MASK) != i + 1)
		j = (j + 1) & (t->size - 1);
	return j;
}

void htab_remove(struct htab *t, const void *ent, size_t esize, size_t i)
{
	const struct htab_key *k = key_at(ent, esize, i);
	size_t mask = t->size - 1, hole = slot_of(t, hash_of(k->key, k->len), i);
	t->slot[hole] = 0;
	t->count--;
	/* move later slots of the probe run back so that every key stays
	 * reachable from its home slot */
	for (size_t j = (hole + 1) & mask; t->slot[j]; j = (j + 1) & mask) {
		size_t home = slot_hash(t->slot[j]) & mask;
		/* the slot at j may move to hole unless its home lies in (hole, j] */
		int stays = hole <= j ? (home > hole && home <= j) : (home > hole || home <= j);
		if (!stays) {
			t->slot[hole] = t->slot[j];
			t->slot[j] = 0;
			hole = j;
		}
	}
}

void htab_moved(struct htab *t, const void *ent, size_t esize, size_t from, size_t to)
{
	const struct htab_key *k = key_at(ent, esize, to);
	size_t j = slot_of(t, hash_of(k->key, k->len), from);
	t->slot[j] = (t->slot[j] & ~IDX_MASK) | (to + 1);
}

void htab_clear(struct htab *t)
{
	if (t->size)
		memset(t->slot, 0, t->size * sizeof *t->slot);
	t->count = 0;
}

void htab_free(struct htab *t)
{
	free(t->slot);
	memset(t, 0, sizeof *t);
}
