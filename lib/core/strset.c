#include "core/strset.h"

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

/* The slot that holds key, or the empty slot where it would go. */
static char **slot(const struct strset *s, const char *key)
{
	size_t i = strset_hash(key, strlen(key)) & (s->size - 1);
	while (s->slot[i] && strcmp(s->slot[i], key))
		i = (i + 1) & (s->size - 1);
	return &s->slot[i];
}

/* Doubles the table once it is half full, so probes stay short. */
static int grow(struct strset *s)
{
	if (s->size && (s->count + 1) * 2 <= s->size)
		return 0;
	struct strset bigger = *s;
	bigger.size = s->size ? s->size * 2 : 64;
	bigger.slot = calloc(bigger.size, sizeof *bigger.slot);
	if (!bigger.slot)
		return -1;
	for (size_t i = 0; i < s->size; i++)
		if (s->slot[i])
			*slot(&bigger, s->slot[i]) = s->slot[i];
	free(s->slot);
	*s = bigger;
	return 0;
}

void strset_init(struct strset *s)
{
	memset(s, 0, sizeof *s);
}

void strset_free(struct strset *s)
{
	for (size_t i = 0; i < s->size; i++)
		free(s->slot[i]);
	free(s->slot);
	memset(s, 0, sizeof *s);
}

int strset_has(const struct strset *s, const char *key)
{
	return s->size && *slot(s, key);
}

int strset_add(struct strset *s, const char *key)
{
	if (strset_has(s, key))
		return 1;
	char *copy = strdup(key);
	if (!copy || grow(s)) {
		free(copy);
		return -1;
	}
	*slot(s, key) = copy;
	s->count++;
	return 0;
}
