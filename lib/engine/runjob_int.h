#ifndef ROSTER_RUNJOB_INT_H
#define ROSTER_RUNJOB_INT_H

/* What the three parts of the job runner share, and no other file:
 * runjob.c runs a job, runjob_check.c reads and checks its job file,
 * runjob_report.c writes the run report and the reconciliation. */

#include "core/err.h"
#include "format/jobfile.h"
#include "engine/runjob.h"
#include "engine/vendor.h"

#include <cjson/cJSON.h>
#include <stdio.h>

/* How long dedupe | load-csv may run, from when they start, when the job
 * has a deadline: local work, so the sources' deadline is not theirs. */
#define FINAL_ALLOWANCE 600

/* At most this many names per reconciliation list in the printed report;
 * run-report.json has them all. */
#define RECONCILE_SHOWN 10

/* What the runner needs of a source's type: its extractor program, job
 * keys, the key (if any) that picks which of its raw streams a source
 * reads, as a comma-separated list of the names after "<vendor>_", and the
 * yes/no key (if any) that makes the extractor keep a snapshot between
 * runs: run-job then adds --snapshot OUTPUT/state/NAME.snapshot, beside
 * its STATE; and whether it keeps a staging folder (downloads and their
 * ledger) there: --staging OUTPUT/state/NAME.staging. The types are the
 * registry's vendors that have an API extractor (engine/vendor.h), and
 * sftp, a file drop read by extract-sftp, whose profile names the vendor
 * whose raw streams it reads. */
struct source_type {
	const char *type;
	const char *program;
	const struct job_key *keys;
	const char *streams_key;
	const char *snapshot_key;
	int staging;
};

#define DROP_TYPE "sftp"

/* Keys a [source] takes that go to its normalize, not its extractor:
 * normalize knows their syntax and refuses a bad value (exit 2). */
#define ROLE_RULES_KEY "role_rules"
struct norm_key {
	const char *key, *flag, *syntax;
};
#define NNORM 2
extern const struct norm_key rj_norm_keys[NNORM];

/* A stage's command line: rj_argv_add copies each word. */
struct argv {
	char *v[64];
	int n;
};

/* One [source] of the job: what it runs and how that went. */
struct src {
	const char *name;
	struct source_type type;
	const struct vendor *vendor; /* whose raw streams it reads (<vendor>_<entity>) */
	struct job_section *sec;
	struct argv extract;
	char *raw, *canon, *stats, *state;
	char *snapshot;              /* --snapshot FILE for the extractor, or NULL */
	int wants_snapshot;          /* its type's snapshot_key is yes */
	const struct job_kv *norm[NNORM]; /* keys for normalize (rj_norm_keys), or NULL */
	char *staging;               /* --staging FOLDER for the extractor, or NULL */
	int people_done;             /* its canonical file activated the people stream */
	const struct job_kv *secret[8]; /* its JK_SECRET keys (creds:NAME) */
	int nsecret;
	int status[3]; /* extract, tee, normalize */
	int killed;    /* the deadline kill was needed */
	int exit;
};

/* One run of a job: the job as read, its sources, the final stage. */
struct run {
	const struct runjob_opts *o;
	struct job job;
	char *output, *work, *jq;
	char *state;             /* OUTPUT/state: STATE, snapshots, held results, ids */
	char *scratch;           /* a dry run's own folder (work and a copy of state) */
	char run_id[40];         /* the run's start, as the manifest names it */
	const char *hold[3];     /* hold_deletes, hold_changes, hold_floor */
	char *creds, *creds_key; /* the credentials store and its key, when named */
	const char *name;
	const char *log_format;
	double deadline; /* seconds, 0 = none */
	double max_wait;
	struct src src[16];
	int nsrc;
	int final_status[2]; /* dedupe, load-csv; SPAWN_NOT_RUN when not run */
	int final_killed;    /* the final stage's allowance ran out */
	int final_tried;     /* dedupe | load-csv was to run */
	int final_ran;       /* load-csv was started this run */
	char *reconcile;     /* dedupe --reconcile FILE, in the work folder */
	double started, finished;
};

/* ---- runjob.c ---- */
void rj_argv_add(struct argv *a, const char *s);
void rj_argv_free(struct argv *a);
/* a, b and c joined, malloc'd; NULL when out of memory. */
char *rj_cat3(const char *a, const char *b, const char *c);
/* Whether the source's canonical file can be handed to dedupe: it ran to
 * the end, complete or partial. */
int rj_usable(const struct src *s);
/* Adds to feeds the canonical streams fed by the raw streams the source
 * reads (all: by every raw stream of its vendor); returns the new count. */
int rj_add_feeds(struct src *s, int all, const char **feeds, int nfeeds, int max);

/* The commands of source s: its extractor (s->extract gets the run's
 * flags), tee and normalize. */
void rj_source_commands(struct run *r, struct src *s, struct argv *tee, struct argv *norm);
/* The final commands: dedupe and load-csv. */
void rj_final_commands(struct run *r, struct argv *dd, struct argv *load);
/* The files of source s (raw, canonical, statistics, STATE, ...). */
void rj_src_paths(struct run *r, struct src *s);

/* dedupe's id map in the state folder, and the next night's in the work
 * folder until load-csv has published (then it replaces the map; when
 * load-csv held, it waits in state/held for --approve). */
#define IDS_FILE "people.ids"
#define IDS_NEXT "people.ids.next"

/* ---- runjob_modes.c ---- */
/* Keeps dedupe's new id map as load-csv's exit says: over the map when it
 * published (0, 3), beside the held files when it held (4). */
void rj_keep_ids(struct run *r);
/* rename(2), or a copy when from and to are on two file systems. */
int rj_move_file(const char *from, const char *to, struct rt_err *e);
/* Prints the job's stage commands as a shell script on f. */
void rj_print_pipeline(struct run *r, FILE *f);
/* --approve / --discard: load-csv on the held results; the exit code. */
int rj_release(struct run *r, int approve);
/* A dry run's scratch folder: r->work and r->state point into it, the
 * state a copy of the job's. 0, or -1 with e. */
int rj_scratch_make(struct run *r, struct rt_err *e);
void rj_scratch_remove(struct run *r);

/* ---- runjob_check.c ---- */
/* Reads the job (r->o->job_path) into r and checks it whole: sections, keys,
 * types, profiles, secrets in the store. 0, or -1 with e (ERR_USAGE or
 * ERR_CONFIG, naming the job file's line). */
int rj_validate(struct run *r, struct rt_err *e);

/* ---- runjob_report.c ---- */
/* Whether the canonical file at path activated the people stream. */
int rj_people_activated(const char *path);
/* The run report (run-report.json's document) of run r ending with code. */
cJSON *rj_build_report(struct run *r, int code);
/* The report as a table on f; rp names run-report.json. */
void rj_print_table(FILE *f, const cJSON *rep, const char *rp);

#endif
