#include "auth/secret.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <termios.h>
#include <unistd.h>

void secret_protect_process(void)
{
	struct rlimit none = {0, 0};
	setrlimit(RLIMIT_CORE, &none);
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
}

void secret_free(char *s)
{
	if (!s)
		return;
	explicit_bzero(s, strlen(s));
	free(s);
}

static void wipe_free(char *p, size_t n)
{
	explicit_bzero(p, n);
	free(p);
}

/* Reads until EOF (or, with one_line, a newline) into p[0..cap]: cap + 1
 * bytes read means "too long". */
static ssize_t read_all(int fd, char *p, size_t cap, int one_line)
{
	size_t n = 0;
	while (n <= cap) {
		ssize_t r = read(fd, p + n, one_line ? 1 : cap + 1 - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -1;
		if (r == 0)
			break;
		n += (size_t)r;
		if (one_line && p[n - 1] == '\n')
			break;
	}
	return (ssize_t)n;
}

/* p holds SLACK(cap) bytes: the secret, a newline or CR LF to drop, one
 * byte more to notice a longer input, and the NUL. */
#define SLACK(cap) ((cap) + 4)

static int finish(char *p, size_t n, size_t cap, int raw, char **out, size_t *len,
		  struct rt_err *e)
{
	if (!raw && n && p[n - 1] == '\n')
		n -= (n > 1 && p[n - 2] == '\r') ? 2 : 1;
	if (n > cap) {
		err_set(e, ERR_USAGE, "the secret is longer than %zu bytes", cap);
		goto bad;
	}
	p[n] = 0;
	if (!n) {
		err_set(e, ERR_USAGE, "the secret is empty");
		goto bad;
	}
	if (strlen(p) != n) {
		err_set(e, ERR_USAGE, "the secret holds a NUL byte");
		err_hint(e, "store binary secrets as base64");
		goto bad;
	}
	*out = p;
	if (len)
		*len = n;
	return 0;
bad:
	wipe_free(p, SLACK(cap));
	return -1;
}

int secret_read_fd(int fd, size_t cap, int raw, char **out, size_t *len, struct rt_err *e)
{
	char *p = calloc(1, SLACK(cap));
	*out = NULL;
	if (!p) {
		err_set(e, ERR_IO, "out of memory");
		return -1;
	}
	ssize_t n = read_all(fd, p, cap + 2, 0);
	if (n < 0) {
		err_set(e, ERR_IO, "cannot read the secret: %s", strerror(errno));
		wipe_free(p, SLACK(cap));
		return -1;
	}
	return finish(p, (size_t)n, cap, raw, out, len, e);
}

static int tty_fd = -1;
static struct termios tty_saved;

static void tty_restore(int sig)
{
	tcsetattr(tty_fd, TCSAFLUSH, &tty_saved);
	signal(sig, SIG_DFL);
	raise(sig);
}

int secret_read_tty(const char *prompt, size_t cap, char **out, size_t *len, struct rt_err *e)
{
	/* no SIGTSTP: a stop restores echo, and the read would go on echoing
	 * after the resume; ^Z is ignored while the secret is typed */
	static const int sigs[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGTSTP};
	struct sigaction sa = {.sa_handler = tty_restore}, ign = {.sa_handler = SIG_IGN}, old[5];
	struct termios t;
	*out = NULL;
	tty_fd = open("/dev/tty", O_RDWR | O_CLOEXEC | O_NOCTTY);
	if (tty_fd < 0 || tcgetattr(tty_fd, &tty_saved)) {
		err_set(e, ERR_USAGE, "no terminal to ask for the secret on");
		err_hint(e, "give the secret on standard input (a pipe or a file)");
		if (tty_fd >= 0)
			close(tty_fd);
		return -1;
	}
	char *p = calloc(1, SLACK(cap));
	if (!p) {
		close(tty_fd);
		err_set(e, ERR_IO, "out of memory");
		return -1;
	}
	for (int i = 0; i < 5; i++)
		sigaction(sigs[i], sigs[i] == SIGTSTP ? &ign : &sa, &old[i]);
	t = tty_saved;
	t.c_lflag &= ~(tcflag_t)(ECHO | ECHONL);
	t.c_lflag |= ICANON;
	ssize_t n = -1;
	if (write(tty_fd, prompt, strlen(prompt)) >= 0 && !tcsetattr(tty_fd, TCSAFLUSH, &t))
		n = read_all(tty_fd, p, cap + 2, 1);
	int errnum = errno;
	tcsetattr(tty_fd, TCSAFLUSH, &tty_saved);
	for (int i = 0; i < 5; i++)
		sigaction(sigs[i], &old[i], NULL);
	if (write(tty_fd, "\n", 1) < 0) {
		/* the newline the user typed was not echoed; nothing else to do */
	}
	close(tty_fd);
	tty_fd = -1;
	if (n < 0) {
		err_set(e, ERR_IO, "cannot read the secret from the terminal: %s",
			strerror(errnum));
		wipe_free(p, SLACK(cap));
		return -1;
	}
	return finish(p, (size_t)n, cap, 0, out, len, e);
}
