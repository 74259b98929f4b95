#ifndef ROSTER_JFILE_H
#define ROSTER_JFILE_H

#include "core/err.h"

#include <cjson/cJSON.h>
#include <stddef.h>

/* Small JSON files read whole (a manifest, held.json, a run report, a
 * statistics file) and the lookups their readers share. */

/* The file's JSON, or NULL: absent (e untouched), or unreadable, over cap
 * bytes (0: 64 MiB) or not JSON (e says which, naming path). */
cJSON *jfile_read(const char *path, size_t cap, struct rt_err *e);
/* o's member k as a string; "" when it is absent or not a string. */
const char *jfile_str(const cJSON *o, const char *k);
/* o's member k as a number; 0 when it is absent or not a number. */
double jfile_num(const cJSON *o, const char *k);

#endif
