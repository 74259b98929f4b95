#ifndef ROSTER_MAPPING_H
#define ROSTER_MAPPING_H

#include "buf.h"
#include "jscan.h"

#include <stddef.h>
#include <string.h>

/* How normalize turns a raw vendor stream into canonical streams. Each
 * source keeps all of its mapping knowledge in one file, lib/map_<source>.c,
 * which exports a table of mappers (one per raw stream it knows). Adding a
 * source is that file plus one line in mapping_sources below.
 *
 * A mapper reads one raw record from tokens and writes canonical records
 * through a sink that normalize provides: the sink decides where the text
 * goes (straight to the output, or through the user's --jq program), the
 * mapper only builds JSON objects. */

#define MAP_MAX_FEEDS 4

struct map_sink {
	/* Starts a record of the mapper's feeds[feed]; returns the buf to
	 * append exactly one JSON object to, or NULL when output failed. */
	struct buf *(*begin)(struct map_sink *s, int feed);
	/* Ends it. 0, or -1 when output failed. */
	int (*end)(struct map_sink *s);
	/* Something was left out on purpose (a contact-only user, a field of
	 * the wrong type): counted per reason (a static string) in normalize's
	 * summary; warn asks for a warning naming the line as well. */
	void (*left_out)(struct map_sink *s, const char *reason, int warn);
};

enum {
	MAP_OK = 0,
	MAP_BAD = -1,  /* the record cannot be mapped (why says how); nothing was written */
	MAP_FAIL = -2, /* the sink failed; stop */
};

struct mapper {
	const char *raw;                      /* raw stream, "clever_users" */
	const char *feeds[MAP_MAX_FEEDS + 1]; /* canonical streams, NULL-terminated */
	/* Maps the record at token rec (an object) of js. */
	int (*map)(struct jscan *js, int rec, struct map_sink *out, char *why, size_t whylen);
};

/* Each source's mappers, ended by an entry with raw == NULL. */
extern const struct mapper map_clever[];

/* The i-th mapper over all sources (0, 1, ...), or NULL past the last. */
static inline const struct mapper *mapping_nth(size_t i)
{
	static const struct mapper *const mapping_sources[] = {map_clever};
	for (size_t s = 0; s < sizeof mapping_sources / sizeof mapping_sources[0]; s++)
		for (const struct mapper *m = mapping_sources[s]; m->raw; m++)
			if (i-- == 0)
				return m;
	return NULL;
}

/* The mapper of a raw stream, or NULL when no source knows it. */
static inline const struct mapper *mapping_find(const char *raw)
{
	const struct mapper *m;
	for (size_t i = 0; (m = mapping_nth(i)); i++)
		if (!strcmp(m->raw, raw))
			return m;
	return NULL;
}

#endif
