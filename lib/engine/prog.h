#ifndef ROSTER_PROG_H
#define ROSTER_PROG_H

/* What every main does the same way. */

/* The first call of a main: diagnostics on stderr as text, named after
 * argv0, and the clock seam from the environment (ROSTER_FAKE_CLOCK).
 * 0, or EXIT_USAGE after a message when the variable is malformed. */
int prog_init(const char *argv0);

/* --log-format ARG: 0, or EXIT_USAGE after a message naming ARG. */
int prog_log_format(const char *arg);

/* Closes stdout and checks it (a full disk must not look like success):
 * returns rc, or EXIT_FAILED after a message when the output was lost. */
int prog_close_stdout(int rc);

/* Removes the temporary files an earlier, killed run left in dir (those
 * changed before started, the time(2) this run began: atomic_sweep) and
 * says how many; a folder it cannot sweep is a warning, the run goes on. */
void prog_sweep(const char *dir, double started);

#endif
