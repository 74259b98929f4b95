/* Job-file parsing: values, comments, durations, and errors naming file:line. */
#include "format/jobfile.h"
#include "tap.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char path[64];

static int load(const char *text, struct job *j, struct rt_err *e)
{
	strcpy(path, "/tmp/jobtestXXXXXX");
	int fd = mkstemp(path);
	if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text))
		return -2;
	close(fd);
	err_clear(e);
	int rc = job_load(j, path, e);
	unlink(path);
	return rc;
}

static void expect_error(const char *name, const char *text, const char *where)
{
	struct job j;
	struct rt_err e;
	int rc = load(text, &j, &e);
	char want[128];
	snprintf(want, sizeof want, "%s:%s", path, where);
	tap_ok(rc == -1 && strstr(e.msg, want) != NULL, "%s -> %s", name, e.msg);
	job_free(&j);
}

/* What a job file may hold in clear, and what it may not. */
static void looks_secret(void)
{
	static const struct {
		const char *v;
		int secret;
	} t[] = {
		{"https://api.clever.com", 0},
		{"https://user:pw@example.org/x", 1},
		{"https://example.org/a:b@c", 0},
		{"-----BEGIN PRIVATE KEY-----", 1},
		{"Bearer 3f8e2a1c9b7d5e4f6a0c", 1},
		{"eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln", 1},
		{"cw_0x689RpI-jtRR7oE8h_eQsKImvJapLeSbXpwF4e4=", 1},
		{"Xq7Lm2Pz9Rk4Tv8Wb3Nc6Yd1", 1},  /* a random 24-character secret */
		{"aB3~dE6fG9hJ2kL5mN8pQ1rS4tU7", 1},
		{"0123456789abcdef0123", 0},       /* a client id: hex */
		{"LakesideUnifiedSchoolDistrict2024", 0},
		{"58da8a43cc70ab00017a1a87", 0},   /* a Clever district id */
		{"student,teacher,staff", 0},
		{"/var/lib/roster/Lakeside2024/Data", 0},
		{"demo-client-id", 0},
		{"1200", 0},
	};
	for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
		const char *why = job_looks_secret(t[i].v);
		tap_ok(!!why == t[i].secret, "%s %s a secret%s%s", t[i].v,
		       t[i].secret ? "looks like" : "does not look like", why ? ": " : "",
		       why ? why : "");
	}
}

int main(void)
{
	looks_secret();
	struct job j;
	struct rt_err e;
	int rc = load("# a district\n[job]\nname = lakeside  # trailing comment\noutput=out/x\n\n"
		      "[source clever]\ntype = clever\nclient_secret = creds:clever\n"
		      "base_url = http://h/#frag\n",
		      &j, &e);
	tap_ok(rc == 0, "a valid file loads");
	struct job_section *job = job_section(&j, "job", NULL);
	struct job_section *src = job_section(&j, "source", "clever");
	tap_ok(job && !strcmp(job_get(job, "name"), "lakeside"), "a trailing comment is removed");
	tap_ok(job && !strcmp(job_get(job, "output"), "out/x"), "spaces around = are optional");
	tap_ok(src && !strcmp(job_get(src, "base_url"), "http://h/#frag"),
	       "# inside a value (no space before it) is kept");
	tap_ok(src && job_line(src, "client_secret") == 8, "lines are remembered");
	tap_ok(job_get(src, "missing") == NULL, "an absent key is NULL");
	char *p = job_path(&j, "out/x");
	tap_ok(p && !strcmp(p, "/tmp/out/x"), "relative paths resolve against the job file's folder");
	free(p);
	job_free(&j);

	expect_error("a key before any section", "name = x\n[job]\n", "1:");
	expect_error("a line without =", "[job]\nname x\n", "2:");
	expect_error("an unterminated header", "[job]\n\n[source clever\n", "3:");
	expect_error("a key set twice", "[job]\nname = a\nname = b\n", "3:");
	expect_error("a section defined twice", "[job]\n[source a]\n[source a]\n", "3:");

	double d;
	tap_ok(job_duration("90", &d) == 0 && d == 90, "90 is seconds");
	tap_ok(job_duration("15m", &d) == 0 && d == 900, "15m");
	tap_ok(job_duration("2h", &d) == 0 && d == 7200, "2h");
	tap_ok(job_duration("2 h", &d) == -1, "'2 h' is refused");
	tap_ok(job_duration("-5", &d) == -1, "negative is refused");
	tap_ok(job_duration("soon", &d) == -1, "words are refused");
	return tap_done();
}
