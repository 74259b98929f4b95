/* What the parts of dedupe share: dedupe.c (reading, merging, writing)
 * and dedupe_reconcile.c (the offboarding report). Only for those files. */
#ifndef ROSTER_DEDUPE_INT_H
#define ROSTER_DEDUPE_INT_H

#include "engine/dedupe.h"
#include "core/buf.h"
#include "format/canon.h"
#include "engine/vendor.h"

#include <stddef.h>
#include <stdio.h>

#define MAX_FIELDS 32

/* The ladder's keys past source + source_id; each matches only itself. */
enum { KEY_EMPLOYEE, KEY_SIS, KEY_EMAIL, NKEYS };

/* One people record as read. Its strings live in one allocation that
 * starts with the key, so a person costs a few hundred bytes. */
struct prec {
	char *key;                   /* "source\x1fsource_id", then the values; owned */
	const char *val[MAX_FIELDS]; /* by people field index; NULL = absent */
	const char *norm[NKEYS];     /* trimmed (email lower-cased); NULL = blank */
	int norgs;                   /* org_ids: norgs strings in a row from its val */
	int cluster;                 /* union-find root, then index of its person */
	int input;                   /* which dedupe_read call read it (0, 1, ...) */
	int src;                     /* index of its source in dedupe.srcs */
	long seq;                    /* input order */
	long rank;                   /* seq of its source's first record */
};

/* One distinct source of the people stream, for the reconciliation. */
struct dsrc {
	const char *name; /* a record's source value (owned by that record) */
	long rank;        /* seq of its first record: sources are listed in input order */
	long records;
	int directory;    /* a directory of accounts, not a roster */
	enum vendor_scope scope; /* whom it lists (the vendor registry) */
	int complete;     /* every input holding its people activated the people stream */
};

struct person {
	int start, n; /* its records: ord[start .. start + n), in precedence order */
	char id[19];
};

struct dedupe {
	FILE *out;
	const struct canon_stream *cs; /* people */
	int nf, f_id, f_source, f_source_id, f_status, f_reason, f_orgs, f_sources, f_fsrc, f_role;
	int f_key[NKEYS];
	struct prec *recs;
	size_t nrecs, cap;
	struct buf members; /* memberships messages, one a line, in input order */
	struct buf bad;     /* people messages written unmerged */
	struct buf held;    /* ACTIVATE_VERSION lines, each after a tag byte 'p' or 'm' */
	size_t held_people; /* how many of them are people's */
	struct buf scratch;
	struct dedupe_stats st;
	/* per input: its people SCHEMA and ACTIVATE_VERSION messages, and
	 * whether a people record of it was written unmerged. An input that
	 * is several runs concatenated (one SCHEMA each) is complete only
	 * when every one of them activated people: which source a lone
	 * ACTIVATE_VERSION belongs to, nobody can tell. */
	struct in_people {
		long schemas, activations;
		int bad;
	} *activated;
	int ninputs;
	size_t capactivated;
	/* kept from dedupe_finish for dedupe_reconcile */
	struct dsrc *srcs;
	int nsrcs;
	struct person *ps;
	size_t np;
	int *ord;
	int finished;
};

/* For each field, the position in m of the record that wins it, or -1. */
void dedupe_choose(const struct dedupe *d, const int *m, int n, int *win);
/* A JSON object key, with the comma before it unless *first. */
int dedupe_put_key(struct buf *b, const char *name, int *first);

#endif
