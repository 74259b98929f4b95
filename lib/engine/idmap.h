#ifndef ROSTER_IDMAP_H
#define ROSTER_IDMAP_H

#include "core/err.h"

#include <stddef.h>
#include <stdint.h>

/* The id map: which person id each key had on earlier nights, so that a
 * person keeps its id whatever source joins or leaves it (dedupe --ids;
 * the file's format and the rules are in man dedupe, FILES).
 *
 * A key is typed: a tag byte, then the value. 's' source\x1fsource_id,
 * 'e' employee_id, 'i' sis_id, 'm' email (trimmed, lower-cased), so an
 * employee_id "5" and a sis_id "5" are two keys. An id is "p-" and 16
 * hexadecimal digits, held as the 64-bit number the digits spell.
 *
 * Every id ever issued stays in the map with the night it was first
 * issued (nights are counted: each map written is the next night), live
 * or as an alias of the id it merged into, so none is issued twice.
 *
 * Ownership: struct idmap owns what it read from its file. The keys that
 * idmap_assign records are borrowed from its caller and must stay valid
 * until the last idmap_save; idmap_free releases everything else. */

/* What idmap_assign did tonight. */
struct idmap_stats {
	long kept;   /* persons that kept an id of the map */
	long fresh;  /* persons with no known key: a new id */
	long merged; /* ids retired as aliases: their person merged into an older id */
	long split;  /* persons split off an id that a larger part kept: a new id */
};

/* A person of tonight. */
struct idmap_person {
	long records;       /* the larger part of a split keeps the id */
	const char *minkey; /* its smallest "source\x1fsource_id": the new-id rule, ties */
};

/* A typed key of tonight, held by one person. */
struct idmap_key {
	uint64_t hash;   /* idmap_key_hash of key */
	const char *key; /* tag byte and value, NUL-terminated */
	long person;     /* index into the persons */
};

struct idmap;

/* NULL when out of memory. */
struct idmap *idmap_new(void);
void idmap_free(struct idmap *m);

/* Reads the map at path. A path that does not exist is an empty map: the
 * first night. 0, or -1 with e: ERR_IO (path cannot be read) or ERR_DATA
 * ("path:line: what is wrong there"). Never a partial map: after -1 only
 * idmap_free is left to call. */
int idmap_load(struct idmap *m, const char *path, struct rt_err *e);

/* Tonight's ids (the rules: man dedupe, FILES). keys are every distinct
 * typed key of the np persons, in idmap_hsort order (by hash); ids gets
 * each person's id. The map then holds tonight's night: the new ids, the
 * aliases, and each key of tonight with its person's id. 0, or -1 with e
 * (out of memory; the map is then only good for idmap_free). Call once. */
int idmap_assign(struct idmap *m, const struct idmap_person *ps, size_t np,
		 const struct idmap_key *keys, size_t nkeys, uint64_t *ids, struct rt_err *e);

const struct idmap_stats *idmap_stats(const struct idmap *m);
/* The night the map holds (0: an empty map never assigned). */
int idmap_night(const struct idmap *m);

/* Writes the map to path, whole or not at all (core/atomic.h). 0, or -1
 * with e (ERR_IO naming path). */
int idmap_save(const struct idmap *m, const char *path, struct rt_err *e);

/* The same two in a thread of their own, so that they overlap the
 * caller's work (reading the input; writing the output): a start, then
 * exactly one wait or end (idmap_free waits for a job still running).
 * The map is not to be touched in between, except by idmap_free. Without
 * a thread, start does the job at once.
 *
 * idmap_load_start always starts; idmap_load_wait returns what
 * idmap_load would have. idmap_save_start opens path's temporary file
 * (-1 with e when it cannot) and writes it; idmap_save_end renames it
 * into place when commit and the writing went well, else removes it:
 * 0 (written, or removed as asked), or -1 with e. */
int idmap_load_start(struct idmap *m, const char *path);
int idmap_load_wait(struct idmap *m, struct rt_err *e);
int idmap_save_start(struct idmap *m, const char *path, struct rt_err *e);
int idmap_save_end(struct idmap *m, int commit, struct rt_err *e);

/* The new-id rule: the first 8 bytes of SHA-256 of minkey, and for
 * variant n > 0 of minkey, 0x1f and n in decimal (a key that no source
 * key can be, as source_id holds no 0x1f). One digest context serves
 * every id (a new context per id costs three times the digest). The
 * struct owns it: idmap_hasher_free. A hasher whose init failed still
 * answers, through OpenSSL's one-shot digest. */
struct evp_md_st;
struct evp_md_ctx_st;
struct idmap_hasher {
	struct evp_md_st *md;
	struct evp_md_ctx_st *ctx;
};
void idmap_hasher_init(struct idmap_hasher *h);
void idmap_hasher_free(struct idmap_hasher *h);
uint64_t idmap_hash_id(struct idmap_hasher *h, const char *minkey, unsigned variant);
/* "p-" and 16 hexadecimal digits, NUL-terminated. */
void idmap_format(uint64_t id, char out[19]);
/* The hash of a typed key (core/strset.h's). */
uint64_t idmap_key_hash(const char *key);
/* Sorts n entries of esize bytes that start with a uint64_t by it (a
 * stable radix sort). 0, or -1 when out of memory (v unchanged). */
int idmap_hsort(void *v, size_t n, size_t esize);

#endif
