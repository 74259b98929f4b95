#ifndef ROSTER_RUNJOB_H
#define ROSTER_RUNJOB_H

/* The job runner: reads a job file, runs for each source
 *   extract-<type> | tee RAW | normalize > CANON
 * then  dedupe CANON... | load-csv --out OUTPUT
 * with pipefail semantics, keeps each source's STATE for the next night,
 * and writes the run report (JSON and a readable table). */

struct runjob_opts {
	const char *job_path;
	const char *report_path; /* NULL: OUTPUT/run-report.json */
	const char *bindir;      /* where the stage programs are */
	int validate_only;       /* check the job file and stop */
};

/* Returns the run's exit code (exitcode.h). */
int runjob(const struct runjob_opts *o);

#endif
