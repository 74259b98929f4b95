#ifndef ROSTER_INGEST_H
#define ROSTER_INGEST_H

#include "core/err.h"
#include "core/htab.h"
#include "format/jobfile.h"
#include "engine/drop.h"
#include "engine/extract.h"

#include <stddef.h>

/* The ingest layer of extract-sftp: which files of a drop folder to take
 * (selection, settle, ledger), fetching them into a staging folder
 * (decompressing .gz on the way, with a cap on the expanded size), reading
 * them with the drop engine (lib/engine/drop.h) and emitting one raw stream per
 * file of the profile. The folder is on an SFTP server (lib/net/sftp.h) or
 * local (--local). */

enum ingest_take { TAKE_NEWEST, TAKE_ALL };

struct ingest_opts {
	const struct drop_profile *profile;
	/* SFTP: host and user required, a known_hosts file or a fingerprint,
	 * a key file or a password. Secrets are "creds:NAME" references,
	 * resolved through the credentials store when the run starts. */
	const char *host;
	int port;
	const char *user;
	const char *known_hosts;
	const char *fingerprint;
	const char *key_file;
	const char *passphrase_ref;
	const char *password_ref;
	const char *local;   /* a local file or folder instead of SFTP */
	const char *folder;  /* the remote folder; default "." */
	const char *pattern; /* fnmatch glob; default: the profile's file names */
	enum ingest_take take;
	double settle;       /* seconds; default 60 */
	const char *marker;  /* a name or glob; "{name}" is the file's name */
	const char *staging; /* ledger, staged copies and folds; required for SFTP */
	int reprocess;       /* ignore the ledger */
	unsigned long long max_expanded; /* cap for .gz files; default 1 GiB */
	struct drop_opts drop;
};

#define INGEST_DEFAULT_SETTLE 60
#define INGEST_DEFAULT_MAX_EXPANDED (1ULL << 30)
/* Attempts to fetch one file over SFTP (reconnecting after a lost connection). */
#define INGEST_ATTEMPTS 3

void ingest_opts_init(struct ingest_opts *o);
/* Checks a complete set of options (what is required, what goes together).
 * 0, or -1 with e (ERR_USAGE) saying what to fix. */
int ingest_check_opts(const struct ingest_opts *o, struct rt_err *e);
/* The whole run on stdout: streams, --stats, the exit code. */
int ingest_main(const struct ingest_opts *o, const struct extract_opts *xo);

/* The job-file keys of a [source] of type sftp. */
extern const struct job_key sftp_job_keys[];

/* ---- pure functions (exported for the unit tests) ---- */

/* "1073741824", "512K", "512M", "2G" (powers of 1024). 0 or -1. */
int ingest_parse_size(const char *s, unsigned long long *out);
/* 1 when a remote name may be taken: not empty, no '/', no "..", no byte
 * below 0x20 and no 0x7f. When not, shown gets the name with those bytes
 * escaped (\n, \xNN) for the error line. */
int ingest_name_ok(const char *name, char *shown, size_t n);
/* The date a file name carries (YYYYMMDD, YYYY-MM-DD, YYYY_MM_DD, M-D-YYYY,
 * MM-DD-YYYY, M_D_YYYY) as YYYYMMDD in *ymd: 1, or 0 when it has none. */
int ingest_name_date(const char *name, long *ymd);
/* The marker name for file name: marker with every "{name}" replaced. */
void ingest_marker_for(const char *marker, const char *name, char *out, size_t n);

/* The ledger: what was ingested, one JSON object a line. */
struct ledger_entry {
	char *name;
	unsigned long long size;
	long long mtime;
	char sha256[65];
	char ingested_at[40];
	long records;
};
struct ledger {
	struct ledger_entry *v;
	size_t n, cap;
};
/* Loads path (a missing file is an empty ledger). 0, or -1 with e naming
 * path:line. */
int ledger_load(struct ledger *l, const char *path, struct rt_err *e);
struct ledger_entry *ledger_find(struct ledger *l, const char *name);
/* Adds or replaces the entry for x->name (the strings are copied). 0 or -1. */
int ledger_put(struct ledger *l, const struct ledger_entry *x);
int ledger_save(const struct ledger *l, const char *path, struct rt_err *e);
void ledger_free(struct ledger *l);

/* A fold: the state a series of daily files adds up to. A record with a
 * key inserts or replaces that key (in place, keeping its first
 * position); a cancellation removes the key; a record without a key is
 * appended (never replaced), and a cancellation without one removes
 * nothing. Kept between runs as NDJSON: {"key":..,"record":{..}}, each
 * record reloaded as the text it was saved as (numbers as the file wrote
 * them). */
struct fold_item {
	struct htab_key k; /* k.key NULL: a record without a key */
	char *json;
};
struct fold {
	struct fold_item *v;
	size_t n, cap;
	struct htab index; /* the keys of v (core/htab.h) */
	size_t removed;    /* items with json == NULL */
};
int fold_load(struct fold *f, const char *path, struct rt_err *e);
int fold_apply(struct fold *f, const char *key, size_t keylen, int cancel, const char *json,
	       size_t len);
size_t fold_count(const struct fold *f);
int fold_save(const struct fold *f, const char *path, struct rt_err *e);
void fold_free(struct fold *f);

#endif
