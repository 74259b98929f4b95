#include "core/strset.h"
#include "core/htab.h"
#include "core/vec.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

uint64_t strset_hash(const void *p, size_t n)
{
	const unsigned char *s = p;
	uint64_t h = 14695981039346656037ULL;
	for (size_t i = 0; i < n; i++)
		h = (h ^ s[i]) * 1099511628211ULL;
	return h;
}

void strset_init(struct strset *s)
{
	memset(s, 0, sizeof *s);
}

void strset_free(struct strset *s)
{
	for (size_t i = 0; i < s->count; i++)
		free(s->v[i].key);
	free(s->v);
	htab_free(&s->index);
	memset(s, 0, sizeof *s);
}

int strset_has(const struct strset *s, const char *key)
{
	return HTAB_FIND(&s->index, s->v, key, strlen(key)) != 0;
}

int strset_add(struct strset *s, const char *key)
{
	size_t len = strlen(key);
	if (HTAB_FIND(&s->index, s->v, key, len))
		return 1;
	struct htab_pos at;
	char *copy = strdup(key);
	if (!copy || HTAB_RESERVE(&s->index, s->v, s->count) ||
	    VEC_RESERVE(s->v, s->cap, s->count + 1, 64)) {
		free(copy);
		return -1;
	}
	HTAB_LOOKUP(&s->index, s->v, key, len, &at);
	s->v[s->count] = (struct htab_key){copy, len};
	htab_set(&s->index, &at, s->count++);
	return 0;
}
