/* dedupe's memberships: a line rewritten without cJSON (most lines) is
 * byte for byte what cJSON writes after the same edits (person_source_id
 * moved last with the source's id, person_id the merged id), for lines of
 * every shape: nested values, numbers, literals, duplicate members,
 * escapes, white space, an unknown person. */
#include "core/log.h"
#include "engine/dedupe.h"
#include "tap.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *people =
	"{\"type\":\"RECORD\",\"stream\":\"people\",\"record\":{\"source\":\"clever\",\"source_id\":\"t-1\"}}\n"
	"{\"type\":\"RECORD\",\"stream\":\"people\",\"record\":{\"source\":\"clever\",\"source_id\":\"t \\\"2\"}}\n";

/* What the rewriting was before: cJSON's, with the id given. */
static char *oracle(const char *line, const char *id)
{
	cJSON *msg = cJSON_Parse(line);
	cJSON *rec = cJSON_GetObjectItemCaseSensitive(msg, "record");
	const char *pid = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(rec, "person_id"));
	char *copy = pid ? strdup(pid) : NULL, *text;
	cJSON_DeleteItemFromObjectCaseSensitive(rec, "person_source_id");
	cJSON_AddStringToObject(rec, "person_source_id", copy);
	cJSON_ReplaceItemInObjectCaseSensitive(rec, "person_id", cJSON_CreateString(id));
	text = cJSON_PrintUnformatted(msg);
	free(copy);
	cJSON_Delete(msg);
	return text;
}

/* The memberships line dedupe writes for line. */
static char *run(const char *line)
{
	size_t n = strlen(people) + strlen(line) + 2, len = 0;
	char *input = malloc(n), *out = NULL;
	snprintf(input, n, "%s%s\n", people, line);
	FILE *in = fmemopen(input, strlen(input), "r"), *o = open_memstream(&out, &len);
	struct dedupe *d = dedupe_new(o);
	struct rt_err e;
	err_clear(&e);
	int rc = dedupe_read(d, in, "t", &e) || dedupe_finish(d, &e);
	dedupe_free(d);
	fclose(in);
	fclose(o);
	free(input);
	char *m = out ? strstr(out, "\"stream\":\"memberships\"") : NULL;
	char *got = NULL;
	if (!rc && m) {
		while (m > out && m[-1] != '\n')
			m--;
		got = strndup(m, strcspn(m, "\n"));
	}
	free(out);
	return got;
}

int main(void)
{
	log_init("test_dedupe_members", NULL, LOG_ERROR);
	char t1[19], t2[19];
	dedupe_person_id("clever", "t-1", t1);
	dedupe_person_id("clever", "t \"2", t2);
	struct {
		const char *line, *id, *what;
	} cases[] = {
		{"{\"type\":\"RECORD\",\"stream\":\"memberships\",\"record\":{\"source\":\"clever\","
		 "\"group_id\":\"g\",\"person_id\":\"t-1\",\"role\":\"student\"}}", t1, "a plain line"},
		{"{\"type\":\"RECORD\",\"stream\":\"memberships\",\"record\":{\"person_source_id\":\"x\","
		 "\"source\":\"clever\",\"person_id\":\"t-1\",\"person_source_id\":7,\"person_id\":\"y\"},"
		 "\"time_extracted\":\"2026-01-01T00:00:00Z\"}", t1, "duplicate members: the first of each"},
		{"{\"type\":\"RECORD\",\"stream\":\"memberships\",\"record\":{\"source\":\"clever\","
		 "\"person_id\":\"t-1\",\"n\":[1,-2,0,{\"a\":[]},{},true,false,null],\"k\":123456789012345}}",
		 t1, "nested values, integers, literals"},
		{"{\"type\":\"RECORD\",\"stream\":\"memberships\",\"record\":{\"source\":\"clever\","
		 "\"person_id\":\"t-1\",\"f\":1.50,\"g\":1e3,\"h\":1234567890123456789,\"z\":-0}}", t1,
		 "numbers cJSON writes otherwise"},
		{"{\"type\":\"RECORD\",\"stream\":\"memberships\",\"record\":{\"source\":\"clever\","
		 "\"person_id\":\"t \\\"2\",\"u\":\"\\u00e9\\/\"}}", t2, "escapes"},
		{"{\"type\": \"RECORD\", \"stream\": \"memberships\", \"record\": {\"source\": \"clever\","
		 " \"person_id\": \"t-1\"}}", t1, "white space"},
		{"{\"type\":\"RECORD\",\"stream\":\"memberships\",\"record\":{\"source\":\"clever\","
		 "\"person_id\":\"t-1\",\"name\":\"Ren\xc3\xa9" "e\",\"x\":\"\x7f" "\"}}", t1, "UTF-8 and DEL as they are"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		char *want = oracle(cases[i].line, cases[i].id), *got = run(cases[i].line);
		tap_ok(want && got && !strcmp(want, got), "memberships, %s: as cJSON writes it", cases[i].what);
		if (!want || !got || strcmp(want, got))
			tap_diag("  got  %s\n  want %s", got ? got : "(none)", want ? want : "(none)");
		free(want);
		free(got);
	}
	const char *unknown = "{\"type\":\"RECORD\",\"stream\":\"memberships\",\"record\":{\"source\":"
			      "\"clever\",\"person_id\":\"nobody\",\"n\":1.50}}";
	char *got = run(unknown);
	tap_ok(got && !strcmp(got, unknown), "an unknown person: the line as it came");
	free(got);
	const char *norec = "{\"type\":\"RECORD\",\"stream\":\"memberships\",\"record\":[1]}";
	got = run(norec);
	tap_ok(got && !strcmp(got, norec), "a record that is no object: the line as it came");
	free(got);
	return tap_done();
}
