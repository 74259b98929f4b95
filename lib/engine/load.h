#ifndef ROSTER_LOAD_H
#define ROSTER_LOAD_H

#include "core/err.h"

#include <stdio.h>

/* The load-csv stage (man 1 load-csv): reads canonical Singer messages and
 * publishes DIR/<stream>.csv atomically for each stream that arrived
 * complete (at least one SCHEMA, and as many ACTIVATE_VERSION as SCHEMA
 * messages), then DIR/manifest.json, which describes every CSV file in
 * DIR. An incomplete stream keeps its previous file.
 *
 * Before a stream replaces its file, the two are compared by key (people
 * by id, memberships by source, group, person and role, the others by
 * source and source_id): rows added, removed and changed. A mass change
 * is held: the previous file stays, the new one is staged in o->held with
 * its change set, and the exit code is 4 until load_approve publishes the
 * staged file or load_discard drops it. */

/* A hold limit: more than value percent of the previous rows, or more
 * than value rows, or never. */
enum load_limit_kind { LIMIT_PERCENT = 1, LIMIT_COUNT, LIMIT_OFF };
struct load_limit {
	int kind;
	long value;
};

#define LOAD_MAX_STREAMS 16 /* canonical streams the limits can name */

struct load_opts {
	const char *dir;     /* the output folder */
	const char *held;    /* where held results wait; NULL: DIR/.held */
	const char *run_id;  /* this run's name in the manifest; NULL: its start time */
	int dry_run;         /* compare and report only: nothing is written but changes */
	const char *changes; /* the dry run's change set; NULL or "-": stdout */
	long floor;          /* fewer rows removed or changed than this never hold */
	/* per canonical stream (canon_streams' index): deletes, changes */
	struct load_limit deletes[LOAD_MAX_STREAMS], changed[LOAD_MAX_STREAMS];
};

/* Defaults: 10% removed, 75% changed, a floor of 25 rows. */
void load_opts_init(struct load_opts *o);
/* Sets limits from "10%", "500", "off", or a comma list whose items may
 * name a stream ("people=5%,memberships=20%"); a bare limit sets every
 * stream. which: 'd' (deletes) or 'c' (changes). 0, or -1 with e. */
int load_limits_parse(struct load_opts *o, int which, const char *spec, struct rt_err *e);

/* Reads in (named input in messages) and publishes. Returns the exit code
 * (exitcode.h): 4 when a stream was held (it wins over 3). */
int load_csv(FILE *in, const char *input, const struct load_opts *o);
/* Publishes the held results exactly as staged, when the files they were
 * compared with are still in place; exit code. */
int load_approve(const struct load_opts *o);
/* Drops the held results; the published files stay; exit code. */
int load_discard(const struct load_opts *o);

#endif
