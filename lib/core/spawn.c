#include "core/spawn.h"
#include "core/clock.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

/* In the child: in and out become stdin and stdout, then the program. */
static void child(int in, int out, char *const *argv, char *const *envp)
{
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	signal(SIGPIPE, SIG_DFL);
	/* first above stderr, so that dup2 never meets an fd already in place
	 * (dup2 onto itself would keep close-on-exec) */
	in = fcntl(in, F_DUPFD_CLOEXEC, 3);
	if (out >= 0)
		out = fcntl(out, F_DUPFD_CLOEXEC, 3);
	if (in < 0 || dup2(in, 0) < 0 || (out >= 0 && dup2(out, 1) < 0)) {
		dprintf(2, "cannot run %s: %s\n", argv[0], strerror(errno));
		_exit(SPAWN_CANNOT_EXEC);
	}
	execve(argv[0], argv, envp ? envp : environ);
	dprintf(2, "cannot run %s: %s\n", argv[0], strerror(errno));
	_exit(SPAWN_CANNOT_EXEC);
}

static void kill_all(const pid_t *pids, const int *done, int n, int sig)
{
	for (int i = 0; i < n; i++)
		if (pids[i] > 0 && !done[i])
			kill(pids[i], sig);
}

/* Waits for each started stage by its own pid. A stage that cannot be
 * waited for (ECHILD: someone else reaped it) keeps SPAWN_NOT_RUN, a failure.
 * Returns SPAWN_DEADLINE when the deadline kill was needed, else 0. */
static int reap(const pid_t *pids, int n, double deadline, int *status)
{
	int done[SPAWN_MAX_STAGES] = {0};
	int left = 0, termed = 0;
	double killat = 0;
	for (int i = 0; i < n; i++) {
		done[i] = pids[i] <= 0;
		left += !done[i];
	}
	while (left > 0) {
		for (int i = 0; i < n; i++) {
			if (done[i])
				continue;
			int st;
			pid_t w;
			do
				w = waitpid(pids[i], &st, deadline > 0 ? WNOHANG : 0);
			while (w < 0 && errno == EINTR);
			if (w == 0)
				continue;
			done[i] = 1;
			left--;
			if (w == pids[i])
				status[i] = WIFEXITED(st) ? WEXITSTATUS(st)
					  : WIFSIGNALED(st) ? SPAWN_SIGNALED + WTERMSIG(st)
							    : SPAWN_NOT_RUN;
		}
		if (left == 0 || deadline <= 0)
			continue;
		double now = clk_now();
		if (!termed && now > deadline) {
			kill_all(pids, done, n, SIGTERM);
			termed = 1;
			killat = now + 10;
		} else if (termed && now > killat) {
			kill_all(pids, done, n, SIGKILL);
			killat = now + 10;
		}
		struct timespec ts = {0, 50 * 1000 * 1000};
		nanosleep(&ts, NULL);
	}
	return termed ? SPAWN_DEADLINE : 0;
}

int spawn_pipeline(char *const *const *argvs, char *const *const *envps, int n,
		   const char *in_path, const char *out_path, double deadline, int *status,
		   struct rt_err *e)
{
	pid_t pids[SPAWN_MAX_STAGES];
	int prev = -1, out = -1, started = 0, rc = 0;
	struct sigaction dfl, old;

	if (n < 1 || n > SPAWN_MAX_STAGES) {
		err_set(e, ERR_USAGE, "a pipeline has 1 to %d stages", SPAWN_MAX_STAGES);
		return -1;
	}
	for (int i = 0; i < n; i++) {
		status[i] = SPAWN_NOT_RUN;
		pids[i] = -1;
	}
	memset(&dfl, 0, sizeof dfl);
	dfl.sa_handler = SIG_DFL;
	sigemptyset(&dfl.sa_mask);
	sigaction(SIGCHLD, &dfl, &old);

	prev = open(in_path ? in_path : "/dev/null", O_RDONLY | O_CLOEXEC);
	if (prev < 0) {
		err_set(e, ERR_IO, "%s: %s", in_path ? in_path : "/dev/null", strerror(errno));
		rc = -1;
		goto restore;
	}
	if (out_path) {
		out = open(out_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
		if (out < 0) {
			err_set(e, ERR_IO, "%s: %s", out_path, strerror(errno));
			close(prev);
			rc = -1;
			goto restore;
		}
	}
	for (int i = 0; i < n; i++) {
		int p[2] = {-1, -1};
		if (i < n - 1 && pipe2(p, O_CLOEXEC)) {
			err_set(e, ERR_IO, "pipe: %s", strerror(errno));
			rc = -1;
			break;
		}
		pid_t pid = fork();
		if (pid == 0)
			child(prev, i < n - 1 ? p[1] : out, argvs[i], envps ? envps[i] : NULL);
		if (pid < 0) {
			err_set(e, ERR_IO, "fork: %s", strerror(errno));
			if (p[0] >= 0) {
				close(p[0]);
				close(p[1]);
			}
			rc = -1;
			break;
		}
		pids[i] = pid;
		started = i + 1;
		close(prev);
		if (p[1] >= 0)
			close(p[1]);
		prev = p[0]; /* -1 after the last stage */
	}
	if (prev >= 0)
		close(prev);
	if (out >= 0)
		close(out);
	if (rc) {
		/* the stages already started would wait for ever on a pipe that
		 * nobody reads or writes any more: SIGTERM them at once (SIGKILL
		 * 10 s later), and reap them */
		reap(pids, started, clk_now() - 1, status);
	} else {
		rc = reap(pids, n, deadline, status);
	}
restore:
	sigaction(SIGCHLD, &old, NULL);
	return rc;
}
