/* faultshim: an LD_PRELOAD library that makes write(2), fsync(2) and
 * rename(2) fail on chosen files, to prove that a failed run never leaves a
 * half-written output (STYLE.md item 11).
 *
 *   FAULT_PATH   substring of the file's path that selects it (required;
 *                for rename, of either path as the program passes it)
 *   FAULT_OPS    which calls fail: any of write,fsync,rename (default all)
 *   FAULT_ERRNO  ENOSPC (default) or EIO; or SIGKILL: the process is
 *                killed at that call instead, as kill -9 or a crash would
 *   FAULT_AFTER  let a file grow to this many bytes before writes fail
 *                (a partial write first, as a filling disk does)
 *
 * The path of an fd is read from /proc/self/fd rather than tracked from
 * open calls: glibc's own fopen and mkstemp open files through internal
 * calls that an LD_PRELOAD library cannot intercept, while the link under
 * /proc names every fd however it was opened. stdio writes (fwrite,
 * fflush) also use glibc's internal write and are not seen; a fault on such
 * a file shows up at fsync. fsync and fdatasync fail alike.
 *
 * Under AddressSanitizer, set ASAN_OPTIONS=verify_asan_link_order=0. */
#include <dlfcn.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int selected(const char *op, const char *path)
{
	const char *want = getenv("FAULT_PATH");
	const char *ops = getenv("FAULT_OPS");
	if (!want || !*want || !path || !strstr(path, want))
		return 0;
	return !ops || strstr(ops, op) != NULL;
}

static int fd_selected(const char *op, int fd)
{
	char link[64], path[4096];
	snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
	ssize_t n = readlink(link, path, sizeof path - 1);
	if (n < 0)
		return 0;
	path[n] = 0;
	return selected(op, path);
}

static int fault_errno(void)
{
	const char *e = getenv("FAULT_ERRNO");
	if (e && !strcmp(e, "SIGKILL"))
		kill(getpid(), SIGKILL);
	return e && !strcmp(e, "EIO") ? EIO : ENOSPC;
}

#define REAL(name) ((__typeof__(&name))dlsym(RTLD_NEXT, #name))

ssize_t write(int fd, const void *p, size_t n)
{
	if (fd_selected("write", fd)) {
		const char *after = getenv("FAULT_AFTER");
		off_t pos = lseek(fd, 0, SEEK_CUR);
		long long room = after ? atoll(after) - (long long)pos : 0;
		if (room <= 0) {
			errno = fault_errno();
			return -1;
		}
		if ((long long)n > room)
			n = (size_t)room;
	}
	return REAL(write)(fd, p, n);
}

int fsync(int fd)
{
	if (fd_selected("fsync", fd)) {
		errno = fault_errno();
		return -1;
	}
	return REAL(fsync)(fd);
}

int fdatasync(int fd)
{
	if (fd_selected("fsync", fd)) {
		errno = fault_errno();
		return -1;
	}
	return REAL(fdatasync)(fd);
}

int rename(const char *from, const char *to)
{
	if (selected("rename", from) || selected("rename", to)) {
		errno = fault_errno();
		return -1;
	}
	return REAL(rename)(from, to);
}

int renameat(int fromfd, const char *from, int tofd, const char *to)
{
	if (selected("rename", from) || selected("rename", to)) {
		errno = fault_errno();
		return -1;
	}
	return REAL(renameat)(fromfd, from, tofd, to);
}
