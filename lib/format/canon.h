#ifndef ROSTER_CANON_H
#define ROSTER_CANON_H

/* The canonical streams of DESIGN.md: their names, fields in the fixed
 * column order load-csv writes, and key properties. One table, used by
 * normalize (SCHEMA messages), dedupe and load-csv. */

enum canon_type { CANON_STRING, CANON_ARRAY, CANON_OBJECT_ARRAY, CANON_OBJECT };

struct canon_field {
	const char *name;
	enum canon_type type;
};

struct canon_stream {
	const char *name;
	const struct canon_field *fields; /* NULL-name terminated */
	const char *const *keys;          /* key_properties, NULL terminated */
	const char *const *sort;          /* fields that give the stable row order */
};

extern const struct canon_stream canon_streams[];
extern const int canon_nstreams;

const struct canon_stream *canon_find(const char *name);
/* The JSON Schema text of a stream (static storage, built on first use). */
const char *canon_schema_json(const struct canon_stream *s);
int canon_field_index(const struct canon_stream *s, const char *field);

#endif
