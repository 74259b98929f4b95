#ifndef ROSTER_ATOMIC_H
#define ROSTER_ATOMIC_H

#include "core/err.h"

#include <stddef.h>
#include <stdio.h>
#include <sys/types.h>

/* Publishing a file atomically (DESIGN.md, Output safety): the data goes
 * to a temporary file ".NAME.tmp.XXXXXX" in the target's folder; commit
 * flushes it, fsyncs it, renames it over the target and fsyncs the folder.
 * Readers see the previous file or the new one, never a half-written one.
 *
 * The struct owns the temporary file and the path copies. After
 * atomic_open succeeds, exactly one of atomic_commit or atomic_abort must
 * be called; both release everything, and neither leaves the temporary
 * file behind. Write through atomic_write (the fd) or through the FILE*
 * of atomic_fp, not both. After a failed write, call atomic_abort.
 *
 * Errors are ERR_IO and name the target file, the step and the system's
 * reason ("out/people.csv: fsync: Input/output error"). */
struct atomic_file {
	char *path; /* the target */
	char *tmp;  /* the temporary file, while it exists */
	int fd;
	FILE *fp;   /* set by atomic_fp */
};

/* mode 0 means 0644; the process umask applies, as it would to open(2). */
int atomic_open(struct atomic_file *a, const char *path, mode_t mode, struct rt_err *e);
int atomic_write(struct atomic_file *a, const void *p, size_t n, struct rt_err *e);
/* A stdio stream on the temporary file (owned by a; do not fclose it). */
FILE *atomic_fp(struct atomic_file *a, struct rt_err *e);
/* 0: the target now holds the new data. -1: the target is unchanged
 * (except when only the final folder fsync failed: then the new file is in
 * place but may not survive a crash, and the message says so). */
int atomic_commit(struct atomic_file *a, struct rt_err *e);
void atomic_abort(struct atomic_file *a);

/* open + write + commit of one buffer. */
int atomic_publish(const char *path, const void *p, size_t n, mode_t mode, struct rt_err *e);
/* Copies the file from over to, atomically (open + writes + commit), in
 * blocks: a file of any size. mode 0 means 0644. */
int atomic_copy(const char *from, const char *to, mode_t mode, struct rt_err *e);
/* The folder of path ("." when it has none, "/" at the root), malloc'd;
 * NULL when out of memory. */
char *atomic_dir_of(const char *path);
/* fsync of the folder holding path, after a rename or a create there. */
int atomic_sync_dir(const char *path, struct rt_err *e);
/* rename(2) then the folder's fsync: from replaces to in one step. */
int atomic_rename(const char *from, const char *to, struct rt_err *e);
/* mkdir -p; folders get 0755 minus the umask. */
int atomic_mkdirs(const char *dir, struct rt_err *e);
/* Removes what a killed run left in dir: regular files of our own
 * temporary name (".NAME.tmp.XXXXXX"), owned by this user and last
 * changed before `before` (seconds since the epoch), so a run still
 * writing its own is left alone. *removed counts them. 0; -1 when dir
 * cannot be read or a file cannot be removed (e names it; the others are
 * still removed). */
int atomic_sweep(const char *dir, double before, long *removed, struct rt_err *e);

#endif
