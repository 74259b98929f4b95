#include "spawn.h"
#include "clock.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static void kill_all(const pid_t *pids, const int *done, int n, int sig)
{
	for (int i = 0; i < n; i++)
		if (pids[i] > 0 && !done[i])
			kill(pids[i], sig);
}

int spawn_pipeline(char *const *const *argvs, int n, const char *in_path, const char *out_path,
		   double deadline, int *status, struct rt_err *e)
{
	pid_t pids[16];
	int done[16] = {0};
	int in = -1, out = -1, rc = 0;
	if (n < 1 || n > 16) {
		err_set(e, ERR_USAGE, "a pipeline has 1 to 16 stages");
		return -1;
	}
	in = open(in_path ? in_path : "/dev/null", O_RDONLY | O_CLOEXEC);
	if (in < 0) {
		err_set(e, ERR_IO, "%s: %s", in_path ? in_path : "/dev/null", strerror(errno));
		return -1;
	}
	if (out_path) {
		out = open(out_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
		if (out < 0) {
			err_set(e, ERR_IO, "%s: %s", out_path, strerror(errno));
			close(in);
			return -1;
		}
	}
	int prev = in;
	for (int i = 0; i < n; i++) {
		int p[2] = {-1, -1};
		if (i < n - 1 && pipe2(p, O_CLOEXEC)) {
			err_set(e, ERR_IO, "pipe: %s", strerror(errno));
			rc = -1;
			n = i;
			break;
		}
		int to = i < n - 1 ? p[1] : out;
		pids[i] = fork();
		if (pids[i] == 0) {
			dup2(prev, 0);
			if (to >= 0)
				dup2(to, 1);
			signal(SIGPIPE, SIG_DFL);
			execv(argvs[i][0], argvs[i]);
			fprintf(stderr, "cannot run %s: %s\n", argvs[i][0], strerror(errno));
			_exit(127);
		}
		if (pids[i] < 0) {
			err_set(e, ERR_IO, "fork: %s", strerror(errno));
			rc = -1;
		}
		close(prev);
		if (p[1] >= 0)
			close(p[1]);
		prev = p[0];
		if (rc) {
			if (prev >= 0)
				close(prev);
			n = i;
			break;
		}
	}
	if (rc == 0 && prev >= 0 && prev != in)
		close(prev);
	if (out >= 0)
		close(out);
	int left = n, termed = 0;
	double killat = 0;
	while (left > 0) {
		int st;
		pid_t w = waitpid(-1, &st, deadline > 0 ? WNOHANG : 0);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			break;
		if (w == 0) {
			double now = clk_now();
			if (!termed && now > deadline) {
				kill_all(pids, done, n, SIGTERM);
				termed = 1;
				killat = now + 10;
			} else if (termed && now > killat) {
				kill_all(pids, done, n, SIGKILL);
			}
			struct timespec ts = {0, 50 * 1000 * 1000};
			nanosleep(&ts, NULL);
			continue;
		}
		for (int i = 0; i < n; i++)
			if (pids[i] == w && !done[i]) {
				done[i] = 1;
				left--;
				status[i] = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
			}
	}
	return rc;
}
