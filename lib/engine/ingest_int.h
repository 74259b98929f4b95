/* What the parts of extract-sftp's ingest share: ingest.c (options,
 * selection, the run), ingest_ledger.c, ingest_source.c, ingest_stream.c.
 * Only for those files. */
#ifndef ROSTER_INGEST_INT_H
#define ROSTER_INGEST_INT_H

#include "engine/ingest.h"
#include "net/sftp.h"

#include <limits.h>
#include <stddef.h>

struct isrc {
	const struct ingest_opts *o;
	struct sftp_conf conf;
	struct sftp_conn *conn;
	char dir[PATH_MAX]; /* local: the folder */
	char only[256];     /* local: the one file named by --local FILE, or "" */
	char where[400];    /* "user@host:port folder" or the local folder */
	double deadline;    /* absolute, 0: none */
};

/* A file chosen for a stream. */
struct pick {
	const struct drop_file *f;
	struct sftp_entry x;
	struct ledger_entry *seen; /* the ledger says it was taken (name, size, mtime) */
	int young;                 /* to be checked again after the settle time */
	struct rt_err err;         /* not taken: why */
	/* read in this run: its ledger entry, added once its stream completed */
	int read;
	char sha[65];
	long records;
};

struct run {
	const struct ingest_opts *o;
	struct extract_run *x;
	struct isrc src;
	struct sftp_entry *ls;
	size_t nls;
	struct ledger ledger;
	int use_ledger;
	char staging[PATH_MAX];
	char files[PATH_MAX]; /* staging/files or a temporary folder */
	int tmp_files;        /* files is temporary: removed at the end */
	struct pick *picks;
	size_t npicks, cappicks;
	size_t taken_before; /* --take all: matching files the ledger had */
	char manifest_path[PATH_MAX + 256]; /* the staged manifest, or "" */
};

/* The number of files of the profile. */
int ingest_nfiles(const struct drop_profile *p);
/* The name a file is staged under: its own, without ".gz". */
void ingest_staged_name(const char *name, char *out, size_t n);

/* ingest_source.c: --local PATH as the source; the folder's listing; one
 * entry (0 found, 1 no such file, -1 error); the connection closed; one
 * file fetched into staged, its sha256 in sha, retried on a lost connection. */
int isrc_local_setup(struct isrc *s, struct rt_err *e);
int isrc_list(struct isrc *s, struct sftp_entry **out, size_t *n, struct rt_err *e);
int isrc_stat(struct isrc *s, const char *name, struct sftp_entry *x, struct rt_err *e);
void isrc_drop(struct isrc *s);
int isrc_fetch(struct isrc *s, const struct sftp_entry *x, const char *staged, char sha[65],
	       struct rt_err *e);

/* ingest_stream.c: the profile's manifest staged first (when it has one);
 * one stream read, emitted and ended. */
void ingest_stage_manifest(struct run *r);
void ingest_one_stream(struct run *r, const char *stream, const char *const *keys);

#endif
