/* What extract-graph knows as pure logic: the admin hints for token and
 * Graph refusals, the AADSTS code, the token URL, the full-read schedule,
 * when a token is renewed,
 * the note on members that are not users, the option checks; and the
 * token request in the form body only, against a token endpoint in Python. */
#include "core/clock.h"
#include "auth/oauth2.h"
#include "vendor/graph/graph.h"
#include "tap.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define TENANT "mapleridge.onmicrosoft.com"
#define APP "0c9f3a7e-51b2-4d8c-9e6a-7b2d1f4e8a90"

static const struct graph_ctx users_ctx = {TENANT, APP, "mapleridge-graph", "User.Read.All", 0};
static const struct graph_ctx groups_ctx = {TENANT, APP, "mapleridge-graph",
					    "Group.Read.All (or GroupMember.Read.All)", 0};
static const struct graph_ctx token_ctx = {TENANT, APP, "mapleridge-graph", NULL, 1};

static struct rt_err explain(long status, const char *ct, const char *body,
			     const struct graph_ctx *c)
{
	struct rt_err e;
	err_clear(&e);
	e.status = (int)status;
	err_set(&e, ERR_HTTP, "Status %ld", status);
	graph_explain_answer(&e, status, ct, body, body ? strlen(body) : 0, c);
	return e;
}

#define AAD(code, err, desc)                                                          \
	"{\"error\":\"" err "\",\"error_description\":\"AADSTS" #code ": " desc           \
	"\\r\\nTrace ID: 0b7e5c1a\\r\\nCorrelation ID: 5d2a7f3e\\r\\nTimestamp: "         \
	"2024-09-03 02:11:40Z\",\"error_codes\":[" #code "],\"timestamp\":\"2024-09-03 02:11:40Z\"}"

static void hints(void)
{
	struct rt_err e = explain(401, "application/json",
				  AAD(7000215, "invalid_client", "Invalid client secret provided."),
				  &token_ctx);
	tap_ok(!strcmp(e.code, "invalid_client"), "a token refusal's code is its error: %s", e.code);
	tap_ok(strstr(e.hint, "Value") && strstr(e.hint, "creds set mapleridge-graph") &&
	       strstr(e.hint, APP), "AADSTS7000215: the secret's Value, creds set NAME: %s", e.hint);
	e = explain(401, "application/json",
		    AAD(7000222, "invalid_client", "The provided client secret keys are expired."),
		    &token_ctx);
	tap_ok(strstr(e.hint, "expired") && strstr(e.hint, "Certificates & secrets") &&
	       strstr(e.hint, "creds set mapleridge-graph"), "AADSTS7000222: make a new secret: %s",
	       e.hint);
	e = explain(400, "application/json",
		    AAD(700016, "unauthorized_client", "Application with identifier was not found."),
		    &token_ctx);
	tap_ok(strstr(e.hint, APP) && strstr(e.hint, "tenant " TENANT),
	       "AADSTS700016: the client id is not an app in the tenant: %s", e.hint);
	e = explain(400, "application/json", AAD(90002, "invalid_request", "Tenant not found."),
		    &token_ctx);
	tap_ok(strstr(e.hint, "tenant " TENANT " was not found") != NULL,
	       "AADSTS90002: the tenant is not found: %s", e.hint);
	/* no error_codes: the code comes from the description */
	e = explain(401, "application/json",
		    "{\"error\":\"invalid_client\",\"error_description\":\"AADSTS7000222: expired\"}",
		    &token_ctx);
	tap_ok(strstr(e.hint, "expired") != NULL, "the AADSTS code is found in the description too");
	TAP_EQ_INT(graph_aadsts(AAD(700016, "unauthorized_client", "x"),
				sizeof AAD(700016, "unauthorized_client", "x") - 1), 700016,
		   "graph_aadsts reads error_codes");
	TAP_EQ_INT(graph_aadsts("{\"error\":\"x\"}", 13), 0, "no code: 0");
	TAP_EQ_INT(graph_aadsts("<html>", 6), 0, "not JSON: 0");

	static const char denied[] =
		"{\"error\":{\"code\":\"Authorization_RequestDenied\",\"message\":\"Insufficient "
		"privileges to complete the operation.\",\"innerError\":{\"date\":\"2024-09-03T02:14:07\","
		"\"request-id\":\"4fa8171b\",\"client-request-id\":\"4fa8171b\"}}}";
	e = explain(403, "application/json", denied, &users_ctx);
	tap_ok(!strcmp(e.code, "Authorization_RequestDenied") &&
	       strstr(e.msg, "Insufficient privileges"), "a Graph error's code and message: %s", e.msg);
	tap_ok(strstr(e.hint, "User.Read.All") && strstr(e.hint, "admin consent") &&
	       strstr(e.hint, "API permissions"), "users: User.Read.All and admin consent: %s", e.hint);
	e = explain(403, "application/json", denied, &groups_ctx);
	tap_ok(strstr(e.hint, "Group.Read.All") && strstr(e.hint, "GroupMember.Read.All"),
	       "groups: Group.Read.All or GroupMember.Read.All: %s", e.hint);

	e = explain(429, "application/json",
		    "{\"error\":{\"code\":\"TooManyRequests\",\"message\":\"Too many requests\"}}",
		    &users_ctx);
	tap_ok(strstr(e.hint, "--rate") != NULL, "429 whatever its code: throttled, --rate: %s", e.hint);
	e = explain(410, "application/json",
		    "{\"error\":{\"code\":\"syncStateNotFound\",\"message\":\"gone\"}}", &users_ctx);
	tap_ok(strstr(e.hint, "delta link") != NULL, "410: the delta link expired: %s", e.hint);
	e = explain(502, "text/html", "<html><body>Bad gateway</body></html>", &users_ctx);
	tap_ok(strstr(e.msg, "an HTML page") && strstr(e.hint, "failing"),
	       "an HTML 502 says so and blames the other side: %s; %s", e.msg, e.hint);
	e = explain(404, "text/html", "<!DOCTYPE html><p>Not here</p>", &users_ctx);
	tap_ok(strstr(e.hint, "--base-url") != NULL, "an HTML 404: check the base URL: %s", e.hint);
	e = explain(400, "text/plain", "nonsense", &token_ctx);
	tap_ok(strstr(e.msg, "not JSON") && strstr(e.hint, "--token-url"),
	       "a token endpoint that answers something else: check --token-url: %s", e.hint);
	e = explain(401, "application/json",
		    "{\"error\":{\"code\":\"InvalidAuthenticationToken\",\"message\":\"Access token "
		    "has expired or is not yet valid.\\r\\nmore\"}}", &users_ctx);
	tap_ok(!strchr(e.msg, '\r') && !strchr(e.msg, '\n'), "a message is kept to its first line");
}

static void pure(void)
{
	struct buf b;
	buf_init(&b, 4096);
	tap_ok(graph_token_url(GRAPH_TOKEN_URL, TENANT, &b) == 0 &&
	       !strcmp(b.data, "https://login.microsoftonline.com/" TENANT "/oauth2/v2.0/token"),
	       "the tenant goes into the token URL: %s", b.data);
	graph_token_url("http://127.0.0.1:9/{tenant}/t?x={tenant}", "a b/c", &b);
	tap_ok(!strcmp(b.data, "http://127.0.0.1:9/a%20b%2Fc/t?x=a%20b%2Fc"),
	       "every {tenant}, URL-encoded: %s", b.data);
	graph_token_url("http://127.0.0.1:9/token", TENANT, &b);
	tap_ok(!strcmp(b.data, "http://127.0.0.1:9/token"), "a URL without {tenant} is kept");
	buf_free(&b);

	double t = graph_iso_time("2026-11-29T03:04:05.250Z");
	tap_ok(t > 1795921445.2 && t < 1795921445.3, "ISO time with a fraction: %.3f", t);
	tap_ok(graph_iso_time("2026-11-29T03:04:05Z") == 1795921445, "ISO time without one");
	tap_ok(graph_iso_time("2026-11-29 03:04:05Z") < 0 && graph_iso_time("yesterday") < 0 &&
	       graph_iso_time("2026-13-01T00:00:00Z") < 0 && graph_iso_time(NULL) < 0,
	       "other forms are refused");
	double now = 1795921445;
	tap_ok(!graph_full_due("2026-11-29T03:04:05Z", 0, now), "no --full-every: never due");
	tap_ok(graph_full_due(NULL, 7, now), "never read in full: due");
	tap_ok(graph_full_due("garbage", 7, now), "an unreadable time: due");
	tap_ok(graph_full_due("2026-11-21T03:04:05Z", 7, now), "8 days ago with 7: due");
	tap_ok(graph_full_due("2026-11-22T03:04:35Z", 7, now),
	       "7 days less 30 s with 7: due (a nightly run a little early)");
	tap_ok(!graph_full_due("2026-11-23T03:04:05Z", 7, now), "6 days ago with 7: not due");

	/* token renewal: min(GRAPH_REFRESH_BEFORE, half the lifetime) before expiry */
	tap_ok(!graph_token_due(now, now + 3599, now + 3000) &&
	       graph_token_due(now, now + 3599, now + 3300),
	       "a 1 h token: renewed from 5 minutes before it expires");
	tap_ok(!graph_token_due(now, now + 120, now + 1) &&
	       !graph_token_due(now, now + 120, now + 59.9) &&
	       graph_token_due(now, now + 120, now + 60),
	       "a 120 s token: renewed at half its life, not before every request");
	tap_ok(!graph_token_due(now, now + 600, now + 299) && graph_token_due(now, now + 600, now + 300),
	       "a 10 minute token: renewed at 5 minutes left");
	tap_ok(graph_token_due(now, now, now) && graph_token_due(now, now - 5, now),
	       "a token with no lifetime left is due");
	tap_ok(!graph_token_due(now, 0, now + 1e6), "an unknown expiry is never due");

	struct graph_kinds k = {0};
	char note[256];
	graph_kinds_note(&k, note, sizeof note);
	tap_ok(!note[0], "no member left out: no note");
	graph_kinds_add(&k, "#microsoft.graph.group");
	graph_kinds_add(&k, "#microsoft.graph.device");
	graph_kinds_add(&k, "#microsoft.graph.device");
	graph_kinds_add(&k, "#microsoft.graph.group");
	graph_kinds_add(&k, "#microsoft.graph.device");
	graph_kinds_add(&k, "#microsoft.graph.servicePrincipal");
	graph_kinds_add(&k, "#microsoft.graph.device");
	graph_kinds_note(&k, note, sizeof note);
	tap_ok(!strcmp(note, "7 members that are not users were not kept: 2 groups, 4 devices, "
			     "1 servicePrincipal"), "the note counts each type: %s", note);
	memset(&k, 0, sizeof k);
	graph_kinds_add(&k, "#microsoft.graph.orgContact");
	graph_kinds_note(&k, note, sizeof note);
	tap_ok(!strcmp(note, "1 member that is not a user was not kept: 1 orgContact"),
	       "one: %s", note);
	memset(&k, 0, sizeof k);
	for (int i = 0; i < GRAPH_KINDS + 2; i++) {
		char t[40];
		snprintf(t, sizeof t, "#microsoft.graph.t%d", i);
		graph_kinds_add(&k, t);
	}
	graph_kinds_add(&k, NULL);
	graph_kinds_note(&k, note, sizeof note);
	tap_ok(strstr(note, "3 of other types") != NULL && k.total == GRAPH_KINDS + 3,
	       "types past the table are counted together: %s", note);
}

static void opts(void)
{
	struct graph_opts go = {.tenant = TENANT, .client_id = APP};
	struct rt_err e;
	err_clear(&e);
	tap_ok(graph_check_opts(&go, &e) == 0, "tenant and client id suffice");
	go.page_size = 1000;
	tap_ok(graph_check_opts(&go, &e) == -1 && strstr(e.msg, "999"), "--page-size 1000 is refused: %s",
	       e.msg);
	go.page_size = 999;
	go.streams = "users,teachers";
	tap_ok(graph_check_opts(&go, &e) == -1 && strstr(e.msg, "teachers"),
	       "an unknown stream is refused: %s", e.msg);
	go.streams = "deleted_users, group_members";
	tap_ok(graph_check_opts(&go, &e) == 0, "known streams pass");
	go.members = "nested";
	tap_ok(graph_check_opts(&go, &e) == -1, "--members nested is refused");
	go.members = "transitive";
	go.delta = 1;
	tap_ok(graph_check_opts(&go, &e) == -1 && strstr(e.msg, "--snapshot"),
	       "--delta without --snapshot is refused: %s", e.msg);
	go.snapshot = "state/x.snapshot";
	tap_ok(graph_check_opts(&go, &e) == 0, "--delta with --snapshot passes");
	go.tenant = "";
	tap_ok(graph_check_opts(&go, &e) == -1 && strstr(e.msg, "--tenant"), "a tenant is required");
	tap_ok(!strcmp(graph_job_keys[5].key, "delta") && graph_job_keys[5].kind == JK_FLAG &&
	       graph_job_keys[6].kind == JK_INTEGER && graph_job_keys[2].kind == JK_SECRET,
	       "job keys: delta is a flag, full_every a whole number, client_secret a secret");
}

/* ---- the form-body token request ---- */

#define SECRET "Canary-gr4ph-S3cret"
static char dir[64];
static pid_t server;

static int start(const char *mode, char *url, size_t n)
{
	char pf[128], log[128];
	snprintf(pf, sizeof pf, "%s/port", dir);
	snprintf(log, sizeof log, "%s/log", dir);
	unlink(pf);
	unlink(log);
	server = fork();
	if (server == 0) {
		execl("/usr/bin/python3", "python3", "tests/fake/oauth2_token.py", "--mode", mode,
		      "--client-secret", SECRET, "--port-file", pf, "--log", log, "--require-scope",
		      GRAPH_SCOPE, (char *)NULL);
		_exit(127);
	}
	int port = tap_wait_port(pf);
	if (!port)
		return -1;
	snprintf(url, n, "http://127.0.0.1:%d/t/oauth2/v2.0/token", port);
	return 0;
}

static void stop(void)
{
	kill(server, SIGTERM);
	waitpid(server, NULL, 0);
}

static char *logged(void)
{
	char path[128];
	unsigned long n;
	snprintf(path, sizeof path, "%s/log", dir);
	return tap_slurp(path, &n);
}

static void form_token(void)
{
	char url[256];
	struct oauth2_token t;
	struct rt_err e;
	struct source s;
	strcpy(dir, "/tmp/graphtestXXXXXX");
	if (!mkdtemp(dir)) {
		tap_ok(0, "a temporary folder");
		return;
	}
	struct http_client *h = http_client_new(NULL);
	tap_ok(start("body", url, sizeof url) == 0, "the token endpoint starts");
	source_init(&s, "graph", h, 0);
	oauth2_token_init(&t);
	err_clear(&e);
	int rc = oauth2_client_credentials_form(&s, url, "client-1", SECRET, GRAPH_SCOPE, &t, &e);
	char *log = logged();
	tap_ok(rc == 0 && t.access_token.len > 4 && t.used_body_auth, "the form body gets a token");
	tap_ok(log && !strstr(log, "\"basic\": true") && strstr(log, "\"body_creds\": true") &&
	       s.stats.requests == 1, "one request, credentials in the body, no Basic: %s",
	       log ? log : "");
	free(log);
	oauth2_token_free(&t);
	stop();

	tap_ok(start("basic", url, sizeof url) == 0, "a Basic-only endpoint starts");
	source_init(&s, "graph", h, 0);
	oauth2_token_init(&t);
	err_clear(&e);
	rc = oauth2_client_credentials_form(&s, url, "client-1", SECRET, GRAPH_SCOPE, &t, &e);
	tap_ok(rc == -1 && e.status == 401 && s.stats.requests == 1,
	       "the form-only request is not retried with Basic");
	oauth2_token_free(&t);
	stop();
	http_client_free(h);

	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	if (system(cmd))
		tap_diag("could not remove %s", dir);
}

int main(void)
{
	clk_use_fake(1e9, 7); /* waits are recorded, not slept */
	hints();
	pure();
	opts();
	form_token();
	return tap_done();
}
