#ifndef ROSTER_SINGER_H
#define ROSTER_SINGER_H

#include <stddef.h>
#include <stdio.h>

/* Writing Singer messages (DESIGN.md, wire format) as NDJSON lines.
 * JSON arguments are already-serialised JSON text; the writer does not
 * re-parse them. Each returns 0, or -1 when the stream has a write error
 * (a full disk, a closed pipe): the caller reports and exits. */
int singer_schema(FILE *fp, const char *stream, const char *schema_json,
		  const char *const *key_properties);
int singer_record(FILE *fp, const char *stream, const char *record_json, size_t len,
		  const char *time_extracted);
int singer_state(FILE *fp, const char *value_json);
int singer_activate(FILE *fp, const char *stream, long long version);

#endif
