#include "core/atomic.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Fills e for a failed step; errno is the system's reason. */
static int fail(struct rt_err *e, const char *path, const char *step)
{
	int errnum = errno;
	err_set(e, ERR_IO, "%s: %s: %s", path, step, strerror(errnum));
	switch (errnum) {
	case ENOSPC:
	case EDQUOT: err_hint(e, "free space and quota on the output file system"); break;
	case EACCES:
	case EPERM:
	case EROFS: err_hint(e, "write permission on the output folder"); break;
	case EIO: err_hint(e, "the disk or network file system holding the output"); break;
	default: break;
	}
	errno = errnum;
	return -1;
}

char *atomic_dir_of(const char *path)
{
	const char *slash = strrchr(path, '/');
	if (!slash)
		return strdup(".");
	if (slash == path)
		return strdup("/");
	return strndup(path, (size_t)(slash - path));
}

int atomic_open(struct atomic_file *a, const char *path, mode_t mode, struct rt_err *e)
{
	const char *slash = strrchr(path, '/');
	const char *name = slash ? slash + 1 : path;
	int dirlen = slash ? (int)(slash - path + 1) : 0;
	mode_t mask = umask(0);
	umask(mask);
	memset(a, 0, sizeof *a);
	a->fd = -1;
	a->path = strdup(path);
	if (!a->path || asprintf(&a->tmp, "%.*s.%s.tmp.XXXXXX", dirlen, path, name) < 0) {
		a->tmp = NULL;
		errno = ENOMEM;
		fail(e, path, "cannot create a temporary file");
		atomic_abort(a);
		return -1;
	}
	a->fd = mkostemp(a->tmp, O_CLOEXEC);
	if (a->fd < 0) {
		fail(e, path, "cannot create a temporary file");
		free(a->tmp); /* mkostemp created nothing: nothing to unlink */
		a->tmp = NULL;
		atomic_abort(a);
		return -1;
	}
	/* mkostemp makes 0600; published files are meant to be read by the
	 * importers, so give them the asked mode (minus the umask). */
	if (fchmod(a->fd, (mode ? mode : 0644) & ~mask)) {
		fail(e, path, "chmod of the temporary file");
		atomic_abort(a);
		return -1;
	}
	return 0;
}

int atomic_write(struct atomic_file *a, const void *p, size_t n, struct rt_err *e)
{
	const char *c = p;
	while (n) {
		ssize_t w = write(a->fd, c, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			if (w == 0)
				errno = EIO;
			return fail(e, a->path, "write");
		}
		c += w;
		n -= (size_t)w;
	}
	return 0;
}

FILE *atomic_fp(struct atomic_file *a, struct rt_err *e)
{
	if (!a->fp && !(a->fp = fdopen(a->fd, "w")))
		fail(e, a->path, "fdopen");
	return a->fp;
}

int atomic_commit(struct atomic_file *a, struct rt_err *e)
{
	const char *step = NULL;
	if (a->fp && fflush(a->fp))
		step = "write";
	else if (fsync(a->fd))
		step = "fsync";
	/* close even after a failure, keeping the first error's errno */
	int saved = errno;
	int rc = a->fp ? fclose(a->fp) : close(a->fd);
	a->fp = NULL;
	a->fd = -1;
	if (!step && rc)
		step = "close";
	else
		errno = saved;
	if (!step && rename(a->tmp, a->path))
		step = "rename";
	if (step) {
		fail(e, a->path, step);
		atomic_abort(a);
		return -1;
	}
	free(a->tmp);
	a->tmp = NULL; /* renamed: nothing left to unlink */

	rc = atomic_sync_dir(a->path, e);
	atomic_abort(a);
	return rc;
}

int atomic_sync_dir(const char *path, struct rt_err *e)
{
	/* Without this a rename may be lost in a crash. */
	char *dir = atomic_dir_of(path);
	int dfd = dir ? open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1;
	int rc = 0;
	if (dfd < 0 || (fsync(dfd) && errno != EINVAL)) /* EINVAL: fs cannot sync folders */
		rc = fail(e, path, "renamed into place, but fsync of the folder failed "
				   "(the new file may not survive a crash)");
	if (dfd >= 0)
		close(dfd);
	free(dir);
	return rc;
}

int atomic_rename(const char *from, const char *to, struct rt_err *e)
{
	if (rename(from, to))
		return fail(e, to, "rename");
	return atomic_sync_dir(to, e);
}

void atomic_abort(struct atomic_file *a)
{
	if (a->fp)
		fclose(a->fp);
	else if (a->fd >= 0)
		close(a->fd);
	if (a->tmp)
		unlink(a->tmp);
	free(a->tmp);
	free(a->path);
	memset(a, 0, sizeof *a);
	a->fd = -1;
}

int atomic_publish(const char *path, const void *p, size_t n, mode_t mode, struct rt_err *e)
{
	struct atomic_file a;
	if (atomic_open(&a, path, mode, e))
		return -1;
	if (atomic_write(&a, p, n, e)) {
		atomic_abort(&a);
		return -1;
	}
	return atomic_commit(&a, e);
}

int atomic_mkdirs(const char *dir, struct rt_err *e)
{
	char *p = *dir ? strdup(dir) : NULL;
	if (!p) {
		errno = *dir ? ENOMEM : ENOENT;
		return fail(e, dir, "mkdir");
	}
	/* create each prefix in turn; an existing one is fine */
	for (char *s = p + 1;; s++) {
		if (*s != '/' && *s)
			continue;
		char c = *s;
		*s = 0;
		if (mkdir(p, 0755) && errno != EEXIST) {
			fail(e, p, "mkdir");
			free(p);
			return -1;
		}
		if (!(*s = c))
			break;
	}
	struct stat st;
	int rc = 0;
	if (stat(p, &st))
		rc = fail(e, p, "stat");
	else if (!S_ISDIR(st.st_mode)) {
		errno = ENOTDIR;
		rc = fail(e, p, "output folder");
	}
	free(p);
	return rc;
}

/* ".NAME.tmp.XXXXXX" as atomic_open makes it (mkostemp's six letters and
 * digits). */
static int temp_name(const char *n)
{
	size_t len = strlen(n);
	const char *x = n + len - 6;
	if (n[0] != '.' || len < 1 + 1 + 5 + 6 || strncmp(x - 5, ".tmp.", 5))
		return 0;
	for (int i = 0; i < 6; i++)
		if (!((x[i] >= 'a' && x[i] <= 'z') || (x[i] >= 'A' && x[i] <= 'Z') ||
		      (x[i] >= '0' && x[i] <= '9')))
			return 0;
	return 1;
}

int atomic_sweep(const char *dir, double before, long *removed, struct rt_err *e)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int rc = 0;
	*removed = 0;
	if (!d)
		return errno == ENOENT ? 0 : fail(e, dir, "reading the folder");
	while ((de = readdir(d))) {
		struct stat st;
		char path[4096];
		if (!temp_name(de->d_name) ||
		    snprintf(path, sizeof path, "%s/%s", dir, de->d_name) >= (int)sizeof path)
			continue;
		if (lstat(path, &st) || !S_ISREG(st.st_mode) || st.st_uid != geteuid() ||
		    (double)st.st_mtime >= before)
			continue;
		if (unlink(path) && errno != ENOENT) {
			if (!rc)
				rc = fail(e, path, "removing a leftover temporary file");
			continue;
		}
		(*removed)++;
	}
	closedir(d);
	return rc;
}

int atomic_copy(const char *from, const char *to, mode_t mode, struct rt_err *e)
{
	struct atomic_file a;
	char blk[1 << 16];
	ssize_t n;
	int fd = open(from, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		err_set(e, ERR_IO, "%s: %s", from, strerror(errno));
		return -1;
	}
	if (atomic_open(&a, to, mode, e)) {
		close(fd);
		return -1;
	}
	int rc = 0;
	while (!rc && (n = read(fd, blk, sizeof blk)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			err_set(e, ERR_IO, "%s: read: %s", from, strerror(errno));
			rc = -1;
		} else {
			rc = atomic_write(&a, blk, (size_t)n, e);
		}
	}
	close(fd);
	if (rc) {
		atomic_abort(&a); /* the temporary file goes */
		return -1;
	}
	return atomic_commit(&a, e);
}
