#ifndef ROSTER_SPAWN_H
#define ROSTER_SPAWN_H

#include "err.h"

/* Runs n programs connected by pipes, like a shell pipeline with
 * pipefail: status[i] is each stage's own exit code (128 + signal when a
 * signal ended it), so no stage's failure hides behind the last one's.
 * The first stage reads in_path (NULL: /dev/null); the last writes
 * out_path (NULL: inherit stdout), created 0600 and truncated. stderr is
 * inherited. Past deadline (absolute epoch seconds, 0 = none) every stage
 * still running gets SIGTERM, then SIGKILL 10 s later.
 * 0 when every stage ran (whatever its exit code); -1 when one could not
 * be started (e filled). */
int spawn_pipeline(char *const *const *argvs, int n, const char *in_path, const char *out_path,
		   double deadline, int *status, struct rt_err *e);

#endif
