/* What the parts of the id map share: idmap.c (the map, reading it, the
 * threads) and idmap_night.c (tonight's ids, writing the map). Only for
 * those files. */
#ifndef ROSTER_IDMAP_INT_H
#define ROSTER_IDMAP_INT_H

#include "engine/idmap.h"
#include "core/atomic.h"

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#define MAGIC "roster-ids"
#define VERSION 1

struct mid {
	uint64_t id;
	uint64_t target; /* while loading: the id an alias line names */
	int night;       /* first issued */
	long alias;      /* index of the id it merged into (flattened), or -1: live */
	long person;     /* tonight's person holding it, or -1 */
	long line;       /* in the file read, for messages; 0: issued tonight */
};

struct mkey {
	uint64_t hash;
	const char *key; /* typed; in text, or borrowed from idmap_assign's caller */
	int32_t id;      /* index in ids: a live id */
	int32_t line;    /* in the file read, for messages */
};

/* A load or a save running in a thread of its own. */
struct idmap_job {
	pthread_t thread;
	int running;  /* a thread to join */
	int rc;       /* what the job returned */
	struct rt_err e;
	const char *path;
	struct atomic_file file; /* a save's temporary file, open from its start */
	int open;
};

struct idmap {
	int night;
	struct idmap_hasher hash;
	struct idmap_job job;
	char *text; /* the file read, its keys decoded in place */
	struct mid *ids;
	size_t nids, capids;
	struct mkey *keys;
	size_t nkeys, capkeys;
	struct idmap_stats st;
};

/* An id value and the index of its entry, for sorting by value. */
struct idval {
	uint64_t v;
	long i;
};

/* The entries sorted by id value (with idmap_hsort), or NULL. */
struct idval *idmap_by_value(const struct idmap *m);
/* Index of the entry of id value x in v (sorted), or -1. */
long idmap_find_id(const struct idval *v, size_t n, uint64_t x);
/* Writes the whole map to a (open). 0, or -1 with e. */
int idmap_write(const struct idmap *m, struct atomic_file *a, const char *path, struct rt_err *e);

#endif
