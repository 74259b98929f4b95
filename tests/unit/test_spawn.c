/* spawn_pipeline: each stage's own status (pipefail), signals, the deadline
 * kill, an ignored SIGCHLD, programs that cannot start, per-stage
 * environments, and a pipe that cannot be made half-way through. */
#include "core/clock.h"
#include "core/spawn.h"
#include "tap.h"

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

/* pipe2 as spawn.c sees it: this definition takes the place of the C
 * library's, so a test can make the Nth call from now fail. */
static int pipe2_fail_in;

int pipe2(int fd[2], int flags)
{
	if (pipe2_fail_in > 0 && --pipe2_fail_in == 0) {
		errno = EMFILE;
		return -1;
	}
	return (int)syscall(SYS_pipe2, fd, flags);
}

static int open_fds(void)
{
	int n = 0;
	DIR *d = opendir("/proc/self/fd");
	if (!d)
		return -1;
	while (readdir(d))
		n++;
	closedir(d);
	return n;
}

static char *slurp(const char *path)
{
	unsigned long len;
	char *s = tap_slurp(path, &len);
	return s ? s : calloc(1, 1);
}

int main(void)
{
	struct rt_err e;
	int st[4], rc;
	char tmp[] = "/tmp/spawntestXXXXXX";
	if (!mkdtemp(tmp)) {
		perror("mkdtemp");
		return 1;
	}
	char out[64], in[64];
	snprintf(out, sizeof out, "%s/out", tmp);
	snprintf(in, sizeof in, "%s/in", tmp);
	clk_use_real();
	alarm(60); /* a hang is a failure, not a stuck test run */

	{
		char *a[] = {"/bin/true", NULL}, *b[] = {"/bin/false", NULL};
		char *c[] = {"/bin/sh", "-c", "exit 3", NULL};
		char *const *argvs[] = {a, b, c};
		err_clear(&e);
		rc = spawn_pipeline(argvs, NULL, 3, NULL, NULL, 0, st, &e);
		tap_ok(rc == 0 && st[0] == 0 && st[1] == 1 && st[2] == 3,
		       "true | false | sh -c 'exit 3': each stage's own status (%d %d %d)", st[0],
		       st[1], st[2]);
	}
	{
		char *a[] = {"/bin/sh", "-c", "kill -KILL $$", NULL}, *b[] = {"/bin/cat", NULL};
		char *const *argvs[] = {a, b};
		rc = spawn_pipeline(argvs, NULL, 2, NULL, "/dev/null", 0, st, &e);
		tap_ok(rc == 0 && st[0] == SPAWN_SIGNALED + SIGKILL && st[1] == 0,
		       "a stage killed by a signal is 128 + the signal (%d %d)", st[0], st[1]);
	}
	{
		char *a[] = {"/bin/echo", "hello", NULL};
		char *b[] = {"/bin/sh", "-c", "cat >/dev/null; exit 5", NULL};
		char *c[] = {"/bin/cat", NULL};
		char *const *argvs[] = {a, b, c};
		rc = spawn_pipeline(argvs, NULL, 3, NULL, out, 0, st, &e);
		tap_ok(rc == 0 && st[0] == 0 && st[1] == 5 && st[2] == 0,
		       "pipefail: a failing middle stage is seen behind a last stage that "
		       "succeeded (%d %d %d)", st[0], st[1], st[2]);
	}
	{
		FILE *f = fopen(in, "w");
		fputs("line one\nline two\n", f);
		fclose(f);
		char *a[] = {"/bin/cat", NULL}, *b[] = {"/usr/bin/sort", "-r", NULL};
		char *const *argvs[] = {a, b};
		rc = spawn_pipeline(argvs, NULL, 2, in, out, 0, st, &e);
		char *got = slurp(out);
		tap_ok(rc == 0 && !strcmp(got, "line two\nline one\n"),
		       "the first stage reads in_path, the last writes out_path");
		free(got);
	}
	{
		char *a[] = {"/bin/sleep", "100", NULL};
		char *const *argvs[] = {a};
		double t0 = clk_now();
		rc = spawn_pipeline(argvs, NULL, 1, NULL, NULL, t0 + 1, st, &e);
		double took = clk_now() - t0;
		tap_ok(rc == SPAWN_DEADLINE && st[0] == SPAWN_SIGNALED + SIGTERM && took < 5,
		       "past the deadline a stage is sent SIGTERM (rc %d, status %d, %.1f s)", rc,
		       st[0], took);
	}
	{
		struct sigaction ign, was;
		memset(&ign, 0, sizeof ign);
		ign.sa_handler = SIG_IGN;
		sigaction(SIGCHLD, &ign, NULL);
		char *a[] = {"/bin/true", NULL}, *b[] = {"/bin/false", NULL};
		char *const *argvs[] = {a, b};
		st[0] = st[1] = 0;
		rc = spawn_pipeline(argvs, NULL, 2, NULL, NULL, 0, st, &e);
		tap_ok(rc == 0 && st[0] == 0 && st[1] == 1,
		       "SIGCHLD ignored by the parent: a failing stage is still seen (%d %d)", st[0],
		       st[1]);
		char *c[] = {"/bin/sh", "-c", "exit 4", NULL};
		char *const *argvs2[] = {c};
		rc = spawn_pipeline(argvs2, NULL, 1, NULL, NULL, clk_now() + 30, st, &e);
		tap_ok(rc == 0 && st[0] == 4, "... with a deadline too (%d)", st[0]);
		sigaction(SIGCHLD, NULL, &was);
		tap_ok(was.sa_handler == SIG_IGN, "the caller's SIGCHLD disposition is restored");
		ign.sa_handler = SIG_DFL;
		sigaction(SIGCHLD, &ign, NULL);
	}
	{
		char *a[] = {"/nonexistent/program", NULL}, *b[] = {"/bin/cat", NULL};
		char *const *argvs[] = {a, b};
		rc = spawn_pipeline(argvs, NULL, 2, NULL, "/dev/null", 0, st, &e);
		tap_ok(rc == 0 && st[0] == SPAWN_CANNOT_EXEC && st[1] == 0,
		       "a program that cannot be started exits 127 (%d %d)", st[0], st[1]);
	}
	{
		setenv("SPAWN_TEST_INHERITED", "yes", 1);
		char *a[] = {"/usr/bin/env", NULL}, *b[] = {"/bin/cat", NULL};
		char *only[] = {"ONLY=1", NULL};
		char *const *argvs[] = {a, b};
		char *const *envs[] = {only, NULL};
		rc = spawn_pipeline(argvs, envs, 2, NULL, out, 0, st, &e);
		char *got = slurp(out);
		tap_ok(rc == 0 && !strcmp(got, "ONLY=1\n"),
		       "a stage's environment is exactly the one given");
		for (char *p = got; *p; p++)
			*p = *p == '\n' ? ' ' : *p;
		if (strcmp(got, "ONLY=1 "))
			tap_diag("  got %.200s", got);
		free(got);
		char *const *argvs2[] = {a};
		char *const *inherit[] = {NULL};
		rc = spawn_pipeline(argvs2, inherit, 1, NULL, out, 0, st, &e);
		got = slurp(out);
		tap_ok(rc == 0 && strstr(got, "SPAWN_TEST_INHERITED=yes\n"),
		       "a NULL environment inherits the caller's");
		free(got);
		rc = spawn_pipeline(argvs2, NULL, 1, NULL, out, 0, st, &e);
		got = slurp(out);
		tap_ok(rc == 0 && strstr(got, "SPAWN_TEST_INHERITED=yes\n"),
		       "no environments at all: every stage inherits");
		free(got);
	}
	{
		/* the first stage writes for ever: a leaked read end of its pipe
		 * would block it, and the wait for it, for ever */
		char *a[] = {"/usr/bin/yes", NULL}, *b[] = {"/bin/cat", NULL};
		char *const *argvs[] = {a, b, b};
		int before = open_fds();
		double t0 = clk_now();
		st[0] = st[1] = st[2] = 0;
		err_clear(&e);
		pipe2_fail_in = 2;
		rc = spawn_pipeline(argvs, NULL, 3, NULL, NULL, 0, st, &e);
		pipe2_fail_in = 0;
		double took = clk_now() - t0;
		tap_ok(rc == -1 && strstr(e.msg, "pipe") != NULL,
		       "a pipe that cannot be made is an error (rc %d: %s)", rc, e.msg);
		tap_ok(st[0] > SPAWN_SIGNALED && st[1] == SPAWN_NOT_RUN && st[2] == SPAWN_NOT_RUN &&
		       took < 5,
		       "the stage already started is stopped and reaped; the others never ran "
		       "(%d %d %d, %.1f s)", st[0], st[1], st[2], took);
		TAP_EQ_INT(open_fds(), before, "no file descriptor is left open");
		pipe2_fail_in = 1;
		rc = spawn_pipeline(argvs, NULL, 3, NULL, NULL, 0, st, &e);
		pipe2_fail_in = 0;
		tap_ok(rc == -1 && st[0] == SPAWN_NOT_RUN, "the first pipe failing: nothing was started");
		TAP_EQ_INT(open_fds(), before, "... and no file descriptor is left open");
	}
	{
		char *a[] = {"/bin/true", NULL};
		char *const *argvs[] = {a};
		rc = spawn_pipeline(argvs, NULL, 1, "/nonexistent/input", NULL, 0, st, &e);
		tap_ok(rc == -1 && strstr(e.msg, "/nonexistent/input") && st[0] == SPAWN_NOT_RUN,
		       "an input that cannot be opened names it, nothing runs");
	}
	unlink(out);
	unlink(in);
	rmdir(tmp);
	return tap_done();
}
