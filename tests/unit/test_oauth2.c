/* OAuth 2 client credentials against a token endpoint in Python: Basic
 * first, the body fallback, a refused secret, and retries. */
#include "core/clock.h"
#include "auth/oauth2.h"
#include "tap.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define SECRET "Canary-0auth2-S3cret"

static char dir[64];
static pid_t server;

static int start_scoped(const char *mode, int fail_first, const char *scope, char *url, size_t n)
{
	char pf[128], log[128], ff[16];
	snprintf(pf, sizeof pf, "%s/port", dir);
	snprintf(log, sizeof log, "%s/log", dir);
	snprintf(ff, sizeof ff, "%d", fail_first);
	unlink(pf);
	unlink(log);
	server = fork();
	if (server == 0) {
		execl("/usr/bin/python3", "python3", "tests/fake/oauth2_token.py", "--mode", mode,
		      "--client-secret", SECRET, "--fail-first", ff, "--port-file", pf, "--log", log,
		      "--require-scope", scope ? scope : "roster.read", (char *)NULL);
		_exit(127);
	}
	int port = tap_wait_port(pf);
	if (!port)
		return -1;
	snprintf(url, n, "http://127.0.0.1:%d/oauth2/token", port);
	return 0;
}

static int start(const char *mode, int fail_first, char *url, size_t n)
{
	return start_scoped(mode, fail_first, NULL, url, n);
}

static void stop(void)
{
	kill(server, SIGTERM);
	waitpid(server, NULL, 0);
}

static int requests(void)
{
	char log[128], line[512];
	int n = 0;
	snprintf(log, sizeof log, "%s/log", dir);
	FILE *f = fopen(log, "r");
	while (f && fgets(line, sizeof line, f))
		n++;
	if (f)
		fclose(f);
	return n;
}

static int get(const char *id, const char *secret, const char *url, struct oauth2_token *t,
	       struct rt_err *e, struct source *s)
{
	struct http_client *h = http_client_new(NULL);
	source_init(s, "test", h, 0);
	oauth2_token_init(t);
	err_clear(e);
	int rc = oauth2_client_credentials(s, url, id, secret, "roster.read", t, e);
	http_client_free(h);
	return rc;
}

int main(void)
{
	char url[256];
	struct oauth2_token t;
	struct rt_err e;
	struct source s;
	strcpy(dir, "/tmp/oauth2testXXXXXX");
	if (!mkdtemp(dir))
		return 1;
	clk_use_fake(1e9, 7); /* waits are recorded, not slept */

	tap_ok(start("basic", 0, url, sizeof url) == 0, "the token endpoint starts");
	int rc = get("client-1", SECRET, url, &t, &e, &s);
	tap_ok(rc == 0 && t.access_token.len > 4 && !strncmp(t.access_token.data, "tok-", 4),
	       "Basic auth gets a token");
	tap_ok(!t.used_body_auth && requests() == 1, "one request, no fallback");
	tap_ok(t.expires_at > 1e9 + 3000, "expires_in is kept");
	oauth2_token_free(&t);
	stop();

	start("body", 0, url, sizeof url);
	rc = get("client-1", SECRET, url, &t, &e, &s);
	tap_ok(rc == 0 && t.used_body_auth, "a server that refuses Basic gets the credentials in the body");
	TAP_EQ_INT(requests(), 2, "exactly two requests: Basic, then the body");
	oauth2_token_free(&t);
	stop();

	start("basic", 0, url, sizeof url);
	rc = get("client-1", "wrong-secret", url, &t, &e, &s);
	char line[2048];
	err_format(&e, line, sizeof line);
	tap_ok(rc == -1 && e.status == 401 && !strcmp(e.code, "invalid_client"),
	       "a wrong secret fails with 401 invalid_client: %s", line);
	tap_ok(strstr(e.hint, "client-1") != NULL, "the hint names the client id to check");
	tap_ok(strstr(line, "wrong-secret") == NULL, "the error never holds the secret");
	oauth2_token_free(&t);
	stop();

	start("basic", 2, url, sizeof url);
	rc = get("client-1", SECRET, url, &t, &e, &s);
	tap_ok(rc == 0, "503, 503, then a token");
	TAP_EQ_INT(s.stats.requests, 3, "three requests for one token");
	TAP_EQ_INT(s.stats.retries, 2, "two retries");
	oauth2_token_free(&t);
	stop();

	start_scoped("basic", 0, "another.scope", url, sizeof url);
	rc = get("client-1", SECRET, url, &t, &e, &s);
	tap_ok(rc == -1 && !strcmp(e.code, "invalid_scope"), "a refused scope fails with its code: %s",
	       e.code);
	TAP_EQ_INT(requests(), 1, "a refused scope does not resend the secret in the body");
	oauth2_token_free(&t);
	stop();

	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	if (system(cmd))
		tap_diag("could not remove %s", dir);
	return tap_done();
}
