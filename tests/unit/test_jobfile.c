/* Job-file parsing: values, comments, durations, and errors naming file:line. */
#include "jobfile.h"
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

int main(void)
{
	struct job j;
	struct rt_err e;
	int rc = load("# a district\n[job]\nname = lakeside  # trailing comment\noutput=out/x\n\n"
		      "[source clever]\ntype = clever\nclient_secret = env:SECRET_VAR\n"
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
