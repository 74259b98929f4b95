#ifndef ROSTER_RUNJOB_H
#define ROSTER_RUNJOB_H

#include "core/err.h"

#include <stdio.h>

/* The job runner: reads a job file, runs for each source
 *   extract-<type> | tee RAW | normalize > CANON
 * then  dedupe CANON... | load-csv --out OUTPUT
 * with pipefail semantics, keeps each source's STATE for the next night,
 * and writes the run report (JSON and a readable table). */

/* What run-job is asked to do with the job. */
enum runjob_mode {
	RJ_RUN,      /* run it */
	RJ_CHECK,    /* check the job file and stop */
	RJ_DRY_RUN,  /* run everything in a scratch folder; publish and keep nothing
			but the change set */
	RJ_APPROVE,  /* publish what the last run held, as it was staged */
	RJ_DISCARD,  /* drop what the last run held */
	RJ_PRINT,    /* print the stage commands a run would run */
};

struct runjob_opts {
	const char *job_path;
	const char *report_path; /* NULL: OUTPUT/run-report.json (a dry run: none) */
	const char *bindir;      /* where the stage programs are */
	int mode;                /* enum runjob_mode */
	const char *changes;     /* a dry run's change set; NULL or "-": stdout */
	FILE *out;               /* where the report's table goes (the main's stdout) */
};

/* Runs the job; returns its exit code (exitcode.h). What stopped it before
 * any source ran (a bad job file: EXIT_USAGE; an output folder that cannot
 * be made: EXIT_FAILED) is in e, for the main to print; once sources run,
 * each failure is logged as it happens and summed up in the report. */
int runjob(const struct runjob_opts *o, struct rt_err *e);

#endif
