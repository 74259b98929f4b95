#ifndef ROSTER_SNAPSHOT_H
#define ROSTER_SNAPSHOT_H

#include "core/err.h"
#include "core/htab.h"

#include <cjson/cJSON.h>
#include <stddef.h>

/* The full set an incremental (delta) extractor keeps between runs: named
 * maps from a key (an object id) to a JSON object, persisted as NDJSON.
 *
 * A snapmap owns its keys and its cJSON objects; snapmap_free releases
 * them. Objects handed to snapmap_put become the map's; objects got with
 * snapmap_get stay the map's (valid until that key changes).
 *
 * The file: a header line (any JSON object the caller chooses), then one
 * line per entry, {"set":NAME,"key":KEY,"object":{...}}, sets in the order
 * given, keys in byte order. It is written with atomic.h (mode 0600: it
 * holds directory data), so a failed save leaves the previous file whole. */

struct snapmap_ent {
	struct htab_key k;
	cJSON *obj;
};

struct snapmap {
	struct snapmap_ent *v; /* count entries, in no particular order */
	size_t count, cap;
	struct htab index; /* core/htab.h */
};

void snapmap_init(struct snapmap *m);
void snapmap_free(struct snapmap *m);
/* Drops every entry; the map stays usable. */
void snapmap_clear(struct snapmap *m);
size_t snapmap_count(const struct snapmap *m);
/* The stored object, or NULL. */
cJSON *snapmap_get(const struct snapmap *m, const char *key);
/* Stores obj under key, replacing (and freeing) what was there. The map
 * takes obj even on failure. 0, or -1 when out of memory. */
int snapmap_put(struct snapmap *m, const char *key, cJSON *obj);
/* Merges changes into the object under key (created when absent): each
 * member of changes replaces the stored member of that name, members not
 * in changes are kept (a delta that leaves out a property never set).
 * Members whose names are in skip (NULL-terminated, may be NULL) are not
 * copied. 0, or -1 when out of memory. */
int snapmap_merge(struct snapmap *m, const char *key, const cJSON *changes,
		  const char *const *skip);
/* 1 when key was there (now removed), 0 when it was not. */
int snapmap_remove(struct snapmap *m, const char *key);
/* Removes every key that starts with prefix; the number removed. */
size_t snapmap_remove_prefix(struct snapmap *m, const char *prefix);
/* Every key in byte order: an array of n pointers into the map, valid
 * until the map changes; the caller frees the array (not the keys). NULL
 * with *n = 0 when empty; NULL with *n = (size_t)-1 when out of memory. */
const char **snapmap_keys(const struct snapmap *m, size_t *n);

struct snapshot_set {
	const char *name; /* "users" */
	struct snapmap map;
};

/* Reads path into the sets (each cleared first) and *header (the caller
 * frees it). 0 when read; 1 when the file does not exist (the sets are
 * empty, *header NULL); -1 with e filled when it cannot be read or is not
 * a snapshot (a line that is not JSON, a set not listed): the sets are
 * then empty and *header NULL. */
int snapshot_load(const char *path, cJSON **header, struct snapshot_set *sets, int nsets,
		  struct rt_err *e);
/* Writes header and every set to path atomically. 0, or -1 with e filled
 * (the previous file is untouched). */
int snapshot_save(const char *path, const cJSON *header, const struct snapshot_set *sets,
		  int nsets, struct rt_err *e);

#endif
