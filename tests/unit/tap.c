#include "core/buf.h"
#include "core/clock.h"
#include "core/err.h"
#include "core/spawn.h"
#include "tap.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

static int n_run, n_fail;

void tap_ok(int cond, const char *fmt, ...)
{
	va_list ap;
	n_run++;
	if (!cond)
		n_fail++;
	printf("%sok %d - ", cond ? "" : "not ", n_run);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

void tap_diag(const char *fmt, ...)
{
	va_list ap;
	printf("# ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
}

int tap_done(void)
{
	printf("1..%d\n", n_run);
	return n_fail ? 1 : 0;
}

char *tap_slurp(const char *path, unsigned long *len)
{
	struct buf b;
	buf_init(&b, 0);
	if (buf_read_file(&b, path)) {
		buf_free(&b);
		return NULL;
	}
	if (len)
		*len = b.len;
	return buf_steal(&b);
}

const char *tap_vectors(void)
{
	const char *v = getenv("VECTORS");
	return v && *v ? v : "tests/vectors";
}

void tap_tmp_name(char *buf, unsigned long n, const char *what)
{
	const char *d = getenv("TMPDIR");
	snprintf(buf, n, "%s/test.%s.XXXXXX", d && *d ? d : P_tmpdir, what);
}

char *tap_python(const char *script, const char *req, const char *what)
{
	char out[4096];
	char *argv[] = {"/usr/bin/python3", "-c", (char *)script, NULL};
	char *const *argvs[] = {argv};
	int fd, status = -1;
	struct rt_err e;
	char *text = NULL;
	tap_tmp_name(out, sizeof out, "out");
	if ((fd = mkstemp(out)) < 0)
		return NULL;
	close(fd);
	if (!spawn_pipeline(argvs, NULL, 1, req, out, clk_now() + 120, &status, &e) && !status)
		text = tap_slurp(out, NULL);
	else
		tap_diag("python3 with %s failed (status %d)", what, status);
	unlink(out);
	return text;
}

int tap_wait_port(const char *port_file)
{
	for (int i = 0; i < 200; i++) {
		FILE *f = fopen(port_file, "r");
		int port = 0;
		if (f) {
			if (fscanf(f, "%d", &port) != 1)
				port = 0;
			fclose(f);
		}
		if (port)
			return port;
		usleep(50 * 1000);
	}
	return 0;
}

int tap_child(void (*fn)(void *), void *arg)
{
	int status;
	fflush(stdout); /* nothing buffered is written twice */
	fflush(stderr);
	pid_t pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		fn(arg);
		_exit(0);
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -1;
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return WEXITSTATUS(status);
}
