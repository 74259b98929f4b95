#ifndef ROSTER_SPAWN_H
#define ROSTER_SPAWN_H

#include "core/err.h"

#define SPAWN_MAX_STAGES 16

/* spawn_pipeline's answer when the deadline passed: the stages still
 * running were sent SIGTERM (then SIGKILL), and their status says so. */
#define SPAWN_DEADLINE 1

/* A stage's status besides its own exit codes. */
enum {
	SPAWN_NOT_RUN = -1,      /* never started, or never reaped */
	SPAWN_CANNOT_EXEC = 127, /* started, but the program could not be run */
	SPAWN_SIGNALED = 128,    /* plus the signal that ended it */
};

/* Runs n programs connected by pipes, like a shell pipeline with
 * pipefail: status[i] is each stage's own exit code (SPAWN_SIGNALED +
 * signal when a signal ended it, SPAWN_NOT_RUN when it was never started
 * or never reaped, SPAWN_CANNOT_EXEC when it could not be run), so no
 * stage's failure hides behind the last one's.
 *
 * argvs[i][0] is a path (no PATH search). envps (NULL: every stage
 * inherits the caller's environment) gives each stage its environment:
 * envps[i] is a NULL-terminated "NAME=value" array, or NULL to inherit.
 * The first stage reads in_path (NULL: /dev/null); the last writes
 * out_path (NULL: inherit stdout), created 0600 and truncated. stderr is
 * inherited. Past deadline (absolute epoch seconds by clk_now, 0 = none)
 * every stage still running gets SIGTERM, then SIGKILL 10 s later.
 *
 * SIGCHLD is set to its default disposition while the stages run (an
 * ignored SIGCHLD, inherited from a parent, would make their statuses
 * unreadable), and the caller's disposition is restored before returning.
 *
 * 0 when every stage ran (whatever its exit code); SPAWN_DEADLINE when the
 * deadline passed and stages were killed; -1 when one could not be started
 * (e filled): the stages already started are then stopped and reaped. */
int spawn_pipeline(char *const *const *argvs, char *const *const *envps, int n,
		   const char *in_path, const char *out_path, double deadline, int *status,
		   struct rt_err *e);

#endif
