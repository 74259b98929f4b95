#include "core/secfile.h"
#include "core/atomic.h"

#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *user_name(uid_t uid, char *tmp, size_t n)
{
	struct passwd *pw = getpwuid(uid);
	if (pw && pw->pw_name)
		return pw->pw_name;
	snprintf(tmp, n, "%lu", (unsigned long)uid);
	return tmp;
}

static int open_fail(const char *path, const char *what, struct rt_err *e)
{
	int errnum = errno;
	switch (errnum) {
	case ELOOP:
		err_set(e, ERR_CONFIG, "%s %s is a symbolic link", what, path);
		err_hint(e, "name the file itself, not a link to it (links are refused so "
			    "that nobody can point the program at another file)");
		break;
	case ENOENT:
		err_set(e, ERR_CONFIG, "%s %s does not exist", what, path);
		break;
	case EACCES:
		err_set(e, ERR_CONFIG, "%s %s cannot be read: %s", what, path, strerror(errnum));
		err_hint(e, "run as the file's owner, with chmod 600 %s", path);
		break;
	default:
		err_set(e, ERR_CONFIG, "%s %s cannot be opened: %s", what, path, strerror(errnum));
		break;
	}
	errno = errnum;
	return -1;
}

/* The checks OpenSSH makes of a private key, on the open descriptor (so
 * the file checked is the file read). */
static int check_stat(int fd, const char *path, const char *what, size_t cap, struct stat *st,
		      struct rt_err *e)
{
	char a[32], b[32];
	if (fstat(fd, st))
		return open_fail(path, what, e);
	if (!S_ISREG(st->st_mode)) {
		err_set(e, ERR_CONFIG, "%s %s is not a regular file", what, path);
		return -1;
	}
	if (st->st_uid != geteuid()) {
		err_set(e, ERR_CONFIG, "%s %s belongs to %s, not to %s who runs this", what, path,
			user_name(st->st_uid, a, sizeof a), user_name(geteuid(), b, sizeof b));
		err_hint(e, "chown %s %s (a file another user can replace could hold anything)",
			 user_name(geteuid(), b, sizeof b), path);
		return -1;
	}
	if (st->st_mode & 077) {
		err_set(e, ERR_CONFIG, "%s %s is open to %s (mode %04o)", what, path,
			(st->st_mode & 070) && (st->st_mode & 07) ? "group and others"
			: (st->st_mode & 070)			  ? "its group"
								  : "others",
			(unsigned)(st->st_mode & 07777));
		err_hint(e, "chmod 600 %s (only its owner may read or write it)", path);
		return -1;
	}
	if ((unsigned long long)st->st_size > cap) {
		err_set(e, ERR_CONFIG, "%s %s is %lld bytes, more than the %zu a %s may hold",
			what, path, (long long)st->st_size, cap, what);
		err_hint(e, "is it the right file?");
		return -1;
	}
	return 0;
}

int secfile_read(const char *path, const char *what, size_t cap, struct buf *out,
		 struct rt_err *e)
{
	struct stat st;
	buf_init(out, cap + 2); /* room for the size check's extra byte and the NUL */
	/* O_NONBLOCK: a FIFO put in the file's place must not hang the run */
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	if (fd < 0)
		return open_fail(path, what, e);
	if (check_stat(fd, path, what, cap, &st, e)) {
		close(fd);
		errno = EPERM;
		return -1;
	}
	/* One allocation of the final size: growing by realloc would leave
	 * copies of the secret behind in freed memory. */
	if (buf_reserve(out, (size_t)st.st_size + 1)) {
		close(fd);
		err_set(e, ERR_IO, "%s %s: out of memory", what, path);
		return -1;
	}
	for (;;) {
		size_t room = out->size - 1 - out->len;
		ssize_t r = read(fd, out->data + out->len, room);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			err_set(e, ERR_IO, "%s %s: read: %s", what, path, strerror(errno));
			break;
		}
		if (r == 0) {
			out->data[out->len] = 0;
			close(fd);
			return 0;
		}
		out->len += (size_t)r;
		if ((size_t)r == room) {
			err_set(e, ERR_IO, "%s %s grew while it was read", what, path);
			err_hint(e, "run again when nothing is writing to it");
			break;
		}
	}
	close(fd);
	buf_wipe(out);
	buf_init(out, cap + 2);
	return -1;
}

int secfile_create(const char *path, const char *what, const void *p, size_t n,
		   struct rt_err *e)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0) {
		int errnum = errno;
		err_set(e, errnum == EEXIST || errnum == ELOOP ? ERR_CONFIG : ERR_IO,
			"%s %s: cannot create it: %s", what, path,
			errnum == EEXIST   ? "it already exists (it is never overwritten)"
			: errnum == ELOOP ? "it is a symbolic link (never followed)"
					   : strerror(errnum));
		if (errnum == EEXIST)
			err_hint(e, "keep the existing file, or move it away yourself first");
		return -1;
	}
	const char *c = p;
	size_t left = n;
	const char *step = NULL;
	/* 0600 whatever the umask: fchmod after the open */
	if (fchmod(fd, 0600))
		step = "chmod";
	while (!step && left) {
		ssize_t w = write(fd, c, left);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			if (w == 0)
				errno = EIO;
			step = "write";
			break;
		}
		c += w;
		left -= (size_t)w;
	}
	if (!step && fsync(fd))
		step = "fsync";
	if (close(fd) && !step)
		step = "close";
	if (step) {
		err_set(e, ERR_IO, "%s %s: %s: %s", what, path, step, strerror(errno));
		unlink(path);
		return -1;
	}
	if (atomic_sync_dir(path, e)) {
		unlink(path); /* it might not survive a crash: leave nothing */
		return -1;
	}
	return 0;
}
