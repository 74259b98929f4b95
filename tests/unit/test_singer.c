/* Singer I/O: messages written by lib/format/singer.c read back by
 * lib/format/singer_read.c, errors for lines that are not Singer messages, and a
 * write error reported (a full disk must not look like success). */
#include "core/lines.h"
#include "format/singer.h"
#include "format/singer_read.h"
#include "tap.h"

#include <stdio.h>
#include <string.h>

static int body_is(struct jscan *js, const struct singer_msg *m, const char *want)
{
	if (m->body < 0)
		return 0;
	const struct jtok *t = &js->tok[m->body];
	size_t n = (size_t)(t->end - t->start); /* end is one past the closing bracket */
	return n == strlen(want) && !memcmp(js->text + t->start, want, n);
}

int main(void)
{
	FILE *f = tmpfile();
	static const char *const keys[] = {"id", NULL};
	const char *rec = "{\"id\":\"a1\",\"name\":{\"first\":\"Zo\xc3\xab\"}}";
	tap_ok(f && singer_schema(f, "clever_users", "{\"type\":\"object\"}", keys) == 0,
	       "SCHEMA written");
	tap_ok(singer_record(f, "clever_users", rec, strlen(rec), "2026-11-29T03:00:00.000Z") == 0,
	       "RECORD written");
	tap_ok(singer_record(f, "odd \"stream\"\n", "{}", 2, NULL) == 0,
	       "RECORD with a stream name that needs escaping");
	tap_ok(singer_state(f, "{\"clever\":{\"streams\":{}}}") == 0, "STATE written");
	tap_ok(singer_activate(f, "clever_users", 1764385200123LL) == 0, "ACTIVATE_VERSION written");
	rewind(f);

	struct lines r;
	struct jscan js;
	struct singer_msg m;
	struct rt_err e;
	lines_init(&r, f, "tmp", 0);
	jscan_init(&js, 0, 0);
	err_clear(&e);
	int n = 0;
	enum singer_type want[] = {SINGER_SCHEMA, SINGER_RECORD, SINGER_RECORD, SINGER_STATE,
				   SINGER_ACTIVATE};
	while (lines_next(&r, &e) == 1) {
		int rc = singer_read(&js, r.line.data, r.line.len, &m, &e);
		tap_ok(rc == 0 && n < 5 && m.type == want[n], "line %ld reads back as type %d", r.lineno,
		       n < 5 ? (int)want[n] : -1);
		if (n == 0)
			tap_ok(!strcmp(m.stream, "clever_users") && body_is(&js, &m, "{\"type\":\"object\"}"),
			       "SCHEMA: stream and schema");
		if (n == 1) {
			tap_ok(body_is(&js, &m, rec), "RECORD: the record's bytes are unchanged (UTF-8 kept)");
			tap_ok(m.time_extracted >= 0, "RECORD: time_extracted is there");
		}
		if (n == 2)
			tap_ok(!strcmp(m.stream, "odd \"stream\"\n"), "an escaped stream name round-trips");
		if (n == 3)
			tap_ok(body_is(&js, &m, "{\"clever\":{\"streams\":{}}}"), "STATE: the value");
		if (n == 4)
			tap_ok(!strcmp(m.stream, "clever_users") && m.version == 1764385200123LL,
			       "ACTIVATE_VERSION: stream and version");
		n++;
	}
	TAP_EQ_INT(n, 5, "five messages read");
	lines_free(&r);
	fclose(f);

	static const char *const bad[] = {
		"{\"type\":\"RECORD\",\"stream\":\"s\",\"record\":{\"id\":1}",
		"not json",
		"{\"stream\":\"s\",\"record\":{}}",
		"{\"type\":\"BANANA\",\"stream\":\"s\"}",
		"{\"type\":\"RECORD\",\"record\":{}}",
		"{\"type\":\"RECORD\",\"stream\":\"s\"}",
		"{\"type\":\"ACTIVATE_VERSION\",\"stream\":\"s\"}",
		"[1,2]",
	};
	static const char *const why[] = {
		"a truncated line", "text", "no type", "an unknown type", "a RECORD without stream",
		"a RECORD without record", "ACTIVATE_VERSION without version", "an array",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		err_clear(&e);
		int rc = singer_read(&js, bad[i], strlen(bad[i]), &m, &e);
		tap_ok(rc == -1 && e.kind == ERR_DATA && e.msg[0], "%s is refused: %s", why[i], e.msg);
	}
	jscan_free(&js);

	FILE *full = fopen("/dev/full", "w");
	if (full) {
		setvbuf(full, NULL, _IONBF, 0);
		tap_ok(singer_record(full, "s", "{}", 2, NULL) == -1, "a full disk is a write error");
		fclose(full);
	} else {
		tap_ok(0, "/dev/full can be opened");
	}
	return tap_done();
}
