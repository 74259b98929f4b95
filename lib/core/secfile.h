#ifndef ROSTER_SECFILE_H
#define ROSTER_SECFILE_H

#include "core/buf.h"
#include "core/err.h"

#include <stddef.h>

/* Files that hold keys or secrets (DESIGN.md, Credentials), handled as
 * OpenSSH handles private keys: opened with O_NOFOLLOW (a symbolic link is
 * refused), a regular file owned by the user running the program, with no
 * permission bit for group or others, and at most cap bytes. "what" names
 * the kind of file in messages ("key file", "credentials file").
 *
 * Errors are ERR_CONFIG (ERR_IO for a failed read) and name the file and
 * the command that fixes it: "chmod 600 FILE", "chown USER FILE". */

/* Reads the whole file into out (initialised here, owned by the caller:
 * buf_wipe it). On failure out is empty. errno is ENOENT when the file
 * does not exist, so a caller may treat that case on its own. */
int secfile_read(const char *path, const char *what, size_t cap, struct buf *out,
		 struct rt_err *e);

/* Creates path with O_CREAT | O_EXCL | O_NOFOLLOW and mode 0600 (it never
 * replaces anything, not even through a symbolic link), writes p[0..n),
 * fsyncs it and its folder. On failure nothing is left behind. */
int secfile_create(const char *path, const char *what, const void *p, size_t n,
		   struct rt_err *e);

#endif
