#ifndef ROSTER_LOAD_INT_H
#define ROSTER_LOAD_INT_H

/* What the parts of load-csv share: load.c reads the input and publishes,
 * load_diff.c compares a stream with the file it would replace,
 * load_manifest.c writes the manifest and keeps held results. */
#include "engine/load.h"
#include "core/buf.h"
#include "core/htab.h"
#include "format/canon.h"

#include <stdio.h>

#define MAX_COLS 64

/* The file a stream would replace, read once (load_diff.c): each row's
 * key as a canonical CSV prefix, then the row as the file holds it (as a
 * canonical record when the file's columns are not the stream's), indexed
 * by key. */
struct prev_row {
	struct htab_key k; /* the key cells, canonical */
	size_t off;        /* the key in arena; the row follows it */
	size_t len;        /* the row's bytes */
	long next;         /* the next row of the same key, or -1 */
	unsigned char used;
};

struct prev {
	int exists;
	int rewritten; /* rows are canonical records (the header was another) */
	int map[MAX_COLS]; /* the file's column of each of the stream's fields */
	long rows;
	char sha256[65];
	char *arena;
	size_t alen, acap;
	struct prev_row *r;
	size_t n, cap;
	struct htab idx;
};

/* Where diff_stream hands each row of the new file, as the CSV record it
 * is (without CRLF), in order: load.c writes them. */
struct row_sink {
	int (*put)(struct row_sink *k, const char *rec, size_t len, struct rt_err *e);
};

/* What comparing a stream with its previous file found. */
struct diff {
	int compared; /* 0: no previous file */
	long before, after, added, removed, changed;
};

/* One stream of the input, then its outcome. A row is one allocation:
 * ncols cell pointers followed by the cells' text; free(row) frees all. */
struct stream {
	const struct canon_stream *cs; /* NULL: not a canonical stream */
	const char *name;              /* cs->name, or owned when cs is NULL */
	int ncols, nsort, sort[MAX_COLS];
	size_t flen[MAX_COLS]; /* each field name's length */
	int schemas, activates;
	long records, first_line;
	char ***rows;
	size_t nrows, cap;
	/* published, kept_previous, held, failed; would_publish in a dry run */
	const char *status;
	char reason[600], written_at[40], sha256[65];
	long out_rows;         /* rows of the file published (approved: as staged) */
	char from_run[80];     /* approved: the run that produced the rows */
	struct prev prev;
	struct diff diff;
};

struct load {
	struct stream *s; /* canon_streams' order first, then others as seen */
	int n;
	size_t cap;
	struct buf scratch;
	char **blocks; /* the rows' memory (row_alloc) */
	size_t nblocks, bcap, bsize, bused;
	const struct load_opts *o;
	char run_id[80], now[40];
	int held;      /* streams held this run */
	FILE *changes; /* a dry run's change set, while the streams are compared */
};

int load_init(struct load *L, const struct load_opts *o);
void load_free(struct load *L);
int load_present(const struct stream *s);
void load_stream_init(struct stream *s, const struct canon_stream *cs);
/* Writes the stream's sorted rows to path atomically; s->sha256 is set. */
int load_write_csv(struct stream *s, const char *path, struct rt_err *e);

/* load_diff.c */
/* Reads path (absent: prev->exists 0) as the stream's previous file. 0, or
 * -1 with e (unreadable, not a CSV this stream's columns fit). */
int prev_read(struct prev *p, const struct stream *s, const char *path, struct rt_err *e);
void prev_free(struct prev *p);
/* Counts (changes NULL) or also writes the change set as NDJSON lines;
 * with a sink, hands it every row. The stream's rows must be sorted. 0,
 * or -1 with e. */
int diff_stream(struct stream *s, FILE *changes, struct row_sink *sink, struct rt_err *e);
/* Counts the records of a CSV file after its header and hashes it. */
int csv_file_stat(const char *path, long *rows, char sha256[65], struct rt_err *e);
/* Whether the stream is to be held, with the reason in s->reason. */
int hold_decide(struct stream *s, const struct load_opts *o);

/* load_manifest.c */
/* dir/name then ext, malloc'd; NULL when out of memory. */
char *load_path(const char *dir, const char *name, const char *ext);
int manifest_write(struct load *L, const char *dir);
/* Stages the held streams' results and their change set in o->held;
 * removes an earlier run's staged results. 0, or -1 (reported). */
int held_stage(struct load *L);

#endif
