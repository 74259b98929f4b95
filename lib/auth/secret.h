#ifndef ROSTER_SECRET_H
#define ROSTER_SECRET_H

#include "core/err.h"

#include <stddef.h>

/* Secrets in memory: read once, wiped when done, never in a core dump.
 * The credentials store (creds.h) hands out secrets as malloc'd strings
 * that end with a NUL; secret_free wipes and frees them. */

/* No core dumps and no ptrace by other users of this process: a crash must
 * not write the secrets it holds to disk. */
void secret_protect_process(void);

/* Wipes and frees a NUL-terminated secret (NULL is fine). */
void secret_free(char *s);

/* Reads a secret to the end of fd (a pipe or file) into one buffer of cap
 * bytes allocated up front (growing would leave copies behind). Unless
 * raw, one trailing "\n" or "\r\n" is dropped, as `echo` adds one. An
 * empty secret, a NUL byte or more than cap bytes is refused (ERR_USAGE).
 * *out is NUL-terminated; free it with secret_free. */
int secret_read_fd(int fd, size_t cap, int raw, char **out, size_t *len, struct rt_err *e);

/* Asks for a secret on the controlling terminal (/dev/tty) with echo off,
 * restoring the terminal even when interrupted. Same result as
 * secret_read_fd for one line. */
int secret_read_tty(const char *prompt, size_t cap, char **out, size_t *len, struct rt_err *e);

#endif
