#ifndef ROSTER_TAP_H
#define ROSTER_TAP_H

/* A minimal TAP producer for the C unit tests: tests/run-all counts the
 * "ok" and "not ok" lines of every test program. */
void tap_ok(int cond, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void tap_diag(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Prints the plan and returns the exit status (0 when all passed). */
int tap_done(void);
/* Reads a whole file (for vectors); NULL if it cannot. Caller frees. */
char *tap_slurp(const char *path, unsigned long *len);
/* The folder of the test vectors: $VECTORS or tests/vectors. */
const char *tap_vectors(void);
/* A mkstemp template "$TMPDIR/test.WHAT.XXXXXX" (or the system's
 * temporary folder) in buf. */
void tap_tmp_name(char *buf, unsigned long n, const char *what);
/* Runs Debian's /usr/bin/python3 -c script with the file req on its
 * stdin (an implementation we did not write, to check ours against); its
 * output, malloc'd, or NULL after a diagnostic naming what. */
char *tap_python(const char *script, const char *req, const char *what);
/* The port a fake server wrote to port_file, waiting up to 10 s for it;
 * 0 when none came. */
int tap_wait_port(const char *port_file);
/* Runs fn(arg) in a child process that then ends with _exit(0), and
 * returns how it ended: 0 for that clean end, the exit code when it exited
 * otherwise (a sanitizer report: 99, tests/run-all), 128 + the signal when
 * a signal ended it (an abort on a double free, 134; a bad pointer, 139),
 * -1 when no child could be made. For "harmless" checks: a double free or
 * a NULL dereference in fn is a failure the parent can see. */
int tap_child(void (*fn)(void *), void *arg);

#define TAP_EQ_INT(a, b, name)                                                     \
	do {                                                                       \
		long long _a = (a), _b = (b);                                      \
		tap_ok(_a == _b, "%s", name);                                      \
		if (_a != _b)                                                      \
			tap_diag("  got %lld, want %lld", _a, _b);                 \
	} while (0)

#endif
