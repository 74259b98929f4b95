/* lib/core/htab.c: the one hash table (an index over the user's array). */
#include "core/htab.h"
#include "core/vec.h"
#include "tap.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct item {
	struct htab_key k;
	long value;
};

struct table {
	struct item *v;
	size_t n, cap;
	struct htab index;
};

/* 1 added, 0 there already (value replaced), -1 out of memory. */
static int put(struct table *t, const char *key, size_t len, long value)
{
	if (HTAB_RESERVE(&t->index, t->v, t->n))
		return -1;
	struct htab_pos at;
	size_t i = HTAB_LOOKUP(&t->index, t->v, key, len, &at);
	if (i) {
		t->v[i - 1].value = value;
		return 0;
	}
	char *copy = malloc(len + 1);
	if (!copy || VEC_RESERVE(t->v, t->cap, t->n + 1, 16)) {
		free(copy);
		return -1;
	}
	memcpy(copy, key, len);
	copy[len] = 0;
	t->v[t->n] = (struct item){{copy, len}, value};
	htab_set(&t->index, &at, t->n++);
	return 1;
}

static long get(const struct table *t, const char *key, size_t len)
{
	size_t i = HTAB_FIND(&t->index, t->v, key, len);
	return i ? t->v[i - 1].value : -1;
}

/* Removes key: the last entry takes its place. */
static int del(struct table *t, const char *key, size_t len)
{
	size_t i = HTAB_FIND(&t->index, t->v, key, len);
	if (!i)
		return 0;
	i--;
	HTAB_REMOVE(&t->index, t->v, i);
	free(t->v[i].k.key);
	if (i != --t->n) {
		t->v[i] = t->v[t->n];
		HTAB_MOVED(&t->index, t->v, t->n, i);
	}
	return 1;
}

static void table_free(struct table *t)
{
	for (size_t i = 0; i < t->n; i++)
		free(t->v[i].k.key);
	free(t->v);
	htab_free(&t->index);
	memset(t, 0, sizeof *t);
}

int main(void)
{
	struct table t = {0};
	char k[32];
	tap_ok(get(&t, "a", 1) == -1, "an empty table finds nothing");

	int ok = 1;
	for (long i = 0; i < 20000; i++) {
		int n = snprintf(k, sizeof k, "key-%ld", i);
		ok &= put(&t, k, (size_t)n, i) == 1;
	}
	tap_ok(ok && t.n == 20000 && t.index.count == 20000, "20000 keys added");
	tap_ok(t.index.size == 65536, "the slots double once half full: 65536 for 20000 (%zu)",
	       t.index.size);
	ok = 1;
	for (long i = 0; i < 20000; i++) {
		int n = snprintf(k, sizeof k, "key-%ld", i);
		ok &= get(&t, k, (size_t)n) == i;
	}
	tap_ok(ok, "every key found with its value");
	ok = 1;
	for (long i = 0; i < 20000; i++) {
		int n = snprintf(k, sizeof k, "key-%ld", i);
		ok &= t.v[i].k.len == (size_t)n && !strcmp(t.v[i].k.key, k);
	}
	tap_ok(ok, "the entries stay in the order added");
	tap_ok(put(&t, "key-7", 5, 700) == 0 && get(&t, "key-7", 5) == 700 && t.n == 20000,
	       "a key added again replaces its value");
	tap_ok(get(&t, "key-", 4) == -1 && get(&t, "key-70", 4) == -1 && get(&t, "", 0) == -1,
	       "a prefix of a key is another key");

	/* byte strings: a NUL inside a key counts */
	tap_ok(put(&t, "a\0b", 3, 1) == 1 && put(&t, "a\0c", 3, 2) == 1 && put(&t, "a", 1, 3) == 1 &&
		       get(&t, "a\0b", 3) == 1 && get(&t, "a\0c", 3) == 2 && get(&t, "a", 1) == 3,
	       "keys with a NUL inside are whole keys");
	tap_ok(put(&t, "", 0, 9) == 1 && get(&t, "", 0) == 9, "the empty key is a key");

	/* removal: every other key, then the rest still found */
	ok = 1;
	for (long i = 0; i < 20000; i += 2) {
		int n = snprintf(k, sizeof k, "key-%ld", i);
		ok &= del(&t, k, (size_t)n) == 1;
	}
	tap_ok(ok && t.index.count == 10004 && t.n == 10004, "10000 keys removed");
	ok = 1;
	for (long i = 0; i < 20000; i++) {
		int n = snprintf(k, sizeof k, "key-%ld", i);
		long want = i % 2 ? (i == 7 ? 700 : i) : -1;
		ok &= get(&t, k, (size_t)n) == want;
	}
	tap_ok(ok, "after removals the others are all found, the removed ones not");
	tap_ok(del(&t, "key-0", 5) == 0, "a key removed twice: the second finds nothing");
	ok = 1;
	for (long i = 0; i < 20000; i += 2) {
		int n = snprintf(k, sizeof k, "key-%ld", i);
		ok &= put(&t, k, (size_t)n, -i) == 1 && get(&t, k, (size_t)n) == -i;
	}
	tap_ok(ok && t.n == 20004, "removed keys can come back");

	/* entries without a key are in the array, not in the index */
	struct table u = {0};
	ok = put(&u, "x", 1, 1) == 1;
	ok &= VEC_RESERVE(u.v, u.cap, u.n + 1, 16) == 0;
	u.v[u.n++] = (struct item){{NULL, 0}, 2};
	for (long i = 0; i < 100; i++) {
		int n = snprintf(k, sizeof k, "%ld", i);
		ok &= put(&u, k, (size_t)n, i) == 1;
	}
	tap_ok(ok && u.index.count == 101 && u.n == 102 && get(&u, "x", 1) == 1 &&
		       get(&u, "99", 2) == 99,
	       "an entry without a key is skipped when the slots grow");
	htab_clear(&u.index);
	tap_ok(u.index.count == 0 && get(&u, "x", 1) == -1, "a cleared index finds nothing");

	table_free(&t);
	for (size_t i = 0; i < u.n; i++)
		free(u.v[i].k.key);
	free(u.v);
	htab_free(&u.index);
	return tap_done();
}
