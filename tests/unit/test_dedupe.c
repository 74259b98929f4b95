/* dedupe's merging: the key ladder, transitive merges, the id formula and
 * its stability in any input order, field precedence, key conflicts,
 * memberships, and what passes through untouched; the reconciliation of
 * directory accounts with rosters. */
#include "core/log.h"
#include "engine/dedupe.h"
#include "engine/vendor.h"
#include "tap.h"

#include <cjson/cJSON.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* A people RECORD line; extra is the record's further members. */
#define P(src, sid, extra)                                                                 \
	"{\"type\":\"RECORD\",\"stream\":\"people\",\"record\":{\"source\":\"" src            \
	"\",\"source_id\":\"" sid "\"" extra "}}\n"
#define M(src, group, person)                                                              \
	"{\"type\":\"RECORD\",\"stream\":\"memberships\",\"record\":{\"source\":\"" src       \
	"\",\"group_id\":\"" group "\",\"person_id\":\"" person "\",\"role\":\"member\"}}\n"

struct result {
	int rc;
	char *out;
	cJSON *people; /* array of the people records written */
	struct dedupe_stats st;
	struct rt_err e;
};

static void result_free(struct result *r)
{
	free(r->out);
	cJSON_Delete(r->people);
}

/* Runs the library over input, as one file named "t". */
static struct result run(const char *input)
{
	struct result r;
	size_t len = 0;
	memset(&r, 0, sizeof r);
	FILE *in = fmemopen((void *)input, strlen(input), "r");
	FILE *out = open_memstream(&r.out, &len);
	struct dedupe *d = dedupe_new(out);
	r.rc = dedupe_read(d, in, "t", &r.e);
	if (!r.rc)
		r.rc = dedupe_finish(d, &r.e);
	r.st = *dedupe_stats(d);
	dedupe_free(d);
	fclose(in);
	fclose(out);
	r.people = cJSON_CreateArray();
	for (char *line = r.out; line && *line;) {
		char *nl = strchr(line, '\n');
		cJSON *m = cJSON_ParseWithLength(line, nl ? (size_t)(nl - line) : strlen(line));
		cJSON *s = cJSON_GetObjectItem(m, "stream"), *t = cJSON_GetObjectItem(m, "type");
		if (cJSON_IsString(s) && !strcmp(s->valuestring, "people") && cJSON_IsString(t) &&
		    !strcmp(t->valuestring, "RECORD"))
			cJSON_AddItemToArray(r.people, cJSON_DetachItemFromObject(m, "record"));
		cJSON_Delete(m);
		line = nl ? nl + 1 : line + strlen(line);
	}
	return r;
}

static const char *str(const cJSON *o, const char *k)
{
	const char *s = cJSON_GetStringValue(cJSON_GetObjectItem(o, k));
	return s ? s : "(absent)";
}

/* The merged person holding source/source_id, or NULL. */
static cJSON *person(const struct result *r, const char *src, const char *sid)
{
	cJSON *p, *s;
	cJSON_ArrayForEach(p, r->people) cJSON_ArrayForEach(s, cJSON_GetObjectItem(p, "sources"))
		if (!strcmp(str(s, "source"), src) && !strcmp(str(s, "source_id"), sid))
			return p;
	return NULL;
}

/* The compact JSON of one member of a person (for whole-value checks). */
static int json_is(const cJSON *p, const char *k, const char *want)
{
	char *got = cJSON_PrintUnformatted(cJSON_GetObjectItem(p, k));
	int ok = got && !strcmp(got, want);
	if (!ok)
		tap_diag("  %s: got %s, want %s", k, got ? got : "(absent)", want);
	free(got);
	return ok;
}

static void test_ladder(void)
{
	struct result r = run(P("clever", "t-1", ",\"given_name\":\"Ada\"")
				      P("clever", "t-1", ",\"given_name\":\"Ada\""));
	TAP_EQ_INT(r.st.people_out, 1, "the same source+source_id twice is one person");
	tap_ok(json_is(person(&r, "clever", "t-1"), "sources",
		       "[{\"source\":\"clever\",\"source_id\":\"t-1\"}]"),
	       "  ... listed once in sources");
	result_free(&r);

	r = run(P("clever", "t-1", ",\"employee_id\":\"E-9\"")
			P("hr", "900", ",\"employee_id\":\" E-9 \""));
	TAP_EQ_INT(r.st.people_out, 1, "the same employee_id (trimmed) across sources");
	result_free(&r);

	r = run(P("clever", "s-1", ",\"sis_id\":\"S-42\"") P("sis", "42", ",\"sis_id\":\"S-42\""));
	TAP_EQ_INT(r.st.people_out, 1, "the same sis_id across sources");
	result_free(&r);

	r = run(P("clever", "t-1", ",\"email\":\"Ada.Lovelace@Example.ORG\"")
			P("graph", "u-1", ",\"email\":\"  ada.lovelace@example.org\""));
	TAP_EQ_INT(r.st.people_out, 1, "the same email in another case, trimmed");
	tap_ok(person(&r, "clever", "t-1") == person(&r, "graph", "u-1"), "  ... one person");
	result_free(&r);

	r = run(P("clever", "t-1", ",\"employee_id\":\"X1\"") P("sis", "9", ",\"sis_id\":\"X1\""));
	TAP_EQ_INT(r.st.people_out, 2, "a key matches only the same field (employee_id vs sis_id)");
	result_free(&r);

	r = run(P("a", "1", ",\"email\":\"\",\"sis_id\":\" \"") P("b", "2", ",\"email\":\"\",\"sis_id\":\" \""));
	TAP_EQ_INT(r.st.people_out, 2, "empty and blank keys match nothing");
	result_free(&r);

	r = run(P("a", "1", ",\"given_name\":\"Ann\"") P("a", "2", ",\"given_name\":\"Ann\""));
	TAP_EQ_INT(r.st.people_out, 2, "the same name alone is not a match");
	result_free(&r);
}

static void test_transitive(void)
{
	struct result r = run(P("clever", "t-1", ",\"email\":\"ada@x.org\"")
				      P("other", "o-1", ",\"email\":\"zed@x.org\"")
				      P("graph", "u-1", ",\"email\":\"ADA@x.org\",\"employee_id\":\"E-9\"")
				      P("hr", "900", ",\"employee_id\":\"E-9\""));
	cJSON *p = person(&r, "clever", "t-1");
	TAP_EQ_INT(r.st.people_out, 2, "A~B by email, B~C by employee_id: one cluster (+1 other)");
	tap_ok(p && p == person(&r, "hr", "900") && p == person(&r, "graph", "u-1"),
	       "  ... the three records are one person");
	TAP_EQ_INT(cJSON_GetArraySize(cJSON_GetObjectItem(p, "sources")), 3, "  ... with 3 sources");
	result_free(&r);
}

static void test_id(void)
{
	char id[19];
	dedupe_person_id("clever", "t-1", id);
	/* printf 'clever\x1ft-1' | sha256sum: ba44ffde50019cb7d08f... */
	tap_ok(!strcmp(id, "p-ba44ffde50019cb7"), "id = p- + 16 hex of SHA-256(source US source_id)");

	struct result r = run(P("graph", "u-1", ",\"email\":\"a@x\"") P("clever", "t-1", ",\"email\":\"a@x\""));
	tap_ok(!strcmp(str(person(&r, "graph", "u-1"), "id"), "p-ba44ffde50019cb7"),
	       "a merged id comes from the smallest source+source_id, whatever the order");
	result_free(&r);
}

/* Splits text into lines, shuffles them with a fixed generator. */
static char *shuffled(const char *text, unsigned seed)
{
	char *copy = strdup(text), *lines[64], *save = NULL;
	int n = 0;
	for (char *l = strtok_r(copy, "\n", &save); l && n < 64; l = strtok_r(NULL, "\n", &save))
		lines[n++] = l;
	for (int i = n - 1; i > 0; i--) {
		seed = seed * 1103515245u + 12345u;
		int j = (int)((seed >> 16) % (unsigned)(i + 1));
		char *t = lines[i];
		lines[i] = lines[j];
		lines[j] = t;
	}
	char *out = calloc(1, strlen(text) + 2);
	for (int i = 0; i < n; i++)
		strcat(strcat(out, lines[i]), "\n");
	free(copy);
	return out;
}

/* "id sources" of every person, in output order. */
static char *ids(const struct result *r)
{
	size_t cap = 4096;
	char *s = calloc(1, cap);
	cJSON *p;
	cJSON_ArrayForEach(p, r->people) {
		char *src = cJSON_PrintUnformatted(cJSON_GetObjectItem(p, "sources"));
		if (strlen(s) + strlen(src) + 40 < cap)
			strcat(strcat(strcat(strcat(s, str(p, "id")), " "), src), "\n");
		free(src);
	}
	return s;
}

static void test_order(void)
{
	const char *in = P("clever", "t-1", ",\"email\":\"ada@x.org\"")
		P("graph", "u-1", ",\"email\":\"Ada@X.org\",\"employee_id\":\"E-9\"")
		P("hr", "900", ",\"employee_id\":\"E-9\"") P("clever", "s-7", ",\"sis_id\":\"S-7\"")
		P("sis", "7", ",\"sis_id\":\"S-7\"") P("sis", "8", "") P("graph", "u-3", "")
		P("clever", "t-1", ",\"email\":\"ada@x.org\"");
	struct result base = run(in);
	char *want = ids(&base);
	int same = 1;
	for (unsigned seed = 1; seed <= 20; seed++) {
		char *text = shuffled(in, seed);
		struct result r = run(text);
		char *got = ids(&r);
		if (strcmp(got, want)) {
			same = 0;
			tap_diag("  seed %u:\n%s  want:\n%s", seed, got, want);
		}
		free(got);
		free(text);
		result_free(&r);
	}
	TAP_EQ_INT(base.st.people_out, 4, "8 records, 4 persons");
	tap_ok(same, "ids and sources are the same in 20 shuffled input orders");
	int sorted = 1;
	for (cJSON *p = base.people->child; p && p->next; p = p->next)
		sorted &= strcmp(str(p, "id"), str(p->next, "id")) < 0;
	tap_ok(sorted, "people are written sorted by id");
	free(want);
	result_free(&base);
}

static void test_precedence(void)
{
	/* sis first in the input: it wins each field it has a value for */
	struct result r = run(
		P("sis", "42", ",\"email\":\"ada@x.org\",\"given_name\":\"\",\"family_name\":\"Lovelace\""
			       ",\"status\":\"inactive\",\"status_reason\":\"left\",\"org_ids\":[\"b\",\"a\"]")
		P("clever", "t-9", ",\"email\":\"ada@x.org\",\"given_name\":\"Augusta\",\"job_title\":\"T9\"")
		P("clever", "t-1", ",\"email\":\"ADA@x.org\",\"given_name\":\"Ada\",\"family_name\":\"King\""
				   ",\"status\":\"active\",\"job_title\":\"T1\",\"middle_name\":\"\",\"org_ids\":[\"c\",\"a\"]"));
	cJSON *p = person(&r, "clever", "t-1");
	TAP_EQ_INT(r.st.people_out, 1, "three records, one person");
	tap_ok(!strcmp(str(p, "source"), "sis") && !strcmp(str(p, "source_id"), "42"),
	       "source/source_id are the first source's record");
	tap_ok(!strcmp(str(p, "family_name"), "Lovelace"), "the first source wins a field");
	tap_ok(!strcmp(str(p, "given_name"), "Ada"), "an empty value does not win over a value");
	tap_ok(!strcmp(str(p, "job_title"), "T1"), "within a source, the lower source_id wins");
	tap_ok(!strcmp(str(p, "middle_name"), ""), "an empty value is kept when no record has more");
	tap_ok(!strcmp(str(p, "status"), "active"), "status is active when any record is");
	tap_ok(!cJSON_GetObjectItem(p, "status_reason"), "status_reason goes with the status");
	tap_ok(!cJSON_GetObjectItem(p, "username"), "a field no record has stays absent");
	tap_ok(json_is(p, "org_ids", "[\"a\",\"b\",\"c\"]"), "org_ids is the sorted union");
	tap_ok(json_is(p, "field_sources",
		       "{\"status\":\"clever\",\"given_name\":\"clever\",\"middle_name\":\"clever\","
		       "\"family_name\":\"sis\",\"email\":\"sis\",\"job_title\":\"clever\"}"),
	       "field_sources names the winner of each field, in canonical order");
	tap_ok(json_is(p, "sources",
		       "[{\"source\":\"clever\",\"source_id\":\"t-1\"},{\"source\":\"clever\","
		       "\"source_id\":\"t-9\"},{\"source\":\"sis\",\"source_id\":\"42\"}]"),
	       "sources are sorted");
	result_free(&r);
}

static void test_conflicts(void)
{
	struct result r = run(P("clever", "t-1", ",\"email\":\"ada@x.org\",\"sis_id\":\"S-1\"")
				      P("graph", "u-1", ",\"email\":\"ada@x.org\",\"sis_id\":\"S-2\"")
				      P("sis", "9", ",\"email\":\"ada@x.org\",\"sis_id\":\"S-1\""));
	TAP_EQ_INT(r.st.conflicts, 1, "two sis_ids merged by email: one conflict counted");
	tap_ok(!strcmp(str(person(&r, "graph", "u-1"), "sis_id"), "S-1"),
	       "  ... the first source's sis_id is kept");
	result_free(&r);

	r = run(P("a", "1", ",\"email\":\"ada@x.org\",\"employee_id\":\"E1\"")
			P("b", "2", ",\"email\":\"Ada@X.org\",\"employee_id\":\"E1\""));
	TAP_EQ_INT(r.st.conflicts, 0, "keys equal once normalised are no conflict");
	result_free(&r);
}

static void test_memberships(void)
{
	const char *in = P("clever", "t-1", ",\"email\":\"a@x\"") P("graph", "u-1", ",\"email\":\"a@x\"")
		M("clever", "sec-1", "t-1") M("graph", "g-1", "u-1") M("clever", "sec-1", "t-404");
	struct result r = run(in);
	const char *want1 = "{\"type\":\"RECORD\",\"stream\":\"memberships\",\"record\":{\"source\":"
			    "\"clever\",\"group_id\":\"sec-1\",\"person_id\":\"p-ba44ffde50019cb7\","
			    "\"role\":\"member\",\"person_source_id\":\"t-1\"}}\n";
	tap_ok(r.out && strstr(r.out, want1), "person_id rewritten, person_source_id kept");
	tap_ok(r.out && strstr(r.out, "\"group_id\":\"g-1\",\"person_id\":\"p-ba44ffde50019cb7\""),
	       "the other source's membership points to the same person");
	tap_ok(r.out && strstr(r.out, M("clever", "sec-1", "t-404")),
	       "an unknown person's membership is kept as it came");
	TAP_EQ_INT(r.st.unknown_members, 1, "  ... and counted");
	TAP_EQ_INT(r.st.memberships, 3, "memberships counted");
	result_free(&r);
}

static void test_passthrough(void)
{
	const char *schema = "{\"type\":\"SCHEMA\",\"stream\":\"people\",\"schema\":{},\"key_properties\":[]}\n";
	const char *org = "{\"type\":\"RECORD\",\"stream\":\"orgs\",\"record\":{ \"source\":\"c\","
			  "\"source_id\":\"1\",\"x\":1.50}}\n";
	const char *state = "{\"type\":\"STATE\",\"value\":{\"c\":1}}\n";
	const char *act = "{\"type\":\"ACTIVATE_VERSION\",\"stream\":\"people\",\"version\":7}\n";
	const char *act_o = "{\"type\":\"ACTIVATE_VERSION\",\"stream\":\"orgs\",\"version\":7}\n";
	char in[2048], want[2048];
	snprintf(in, sizeof in, "%s%s%s%s%s\n%s", schema, P("c", "1", ""), act, org, state, act_o);
	struct result r = run(in);
	char *rec = strstr(r.out, "\"stream\":\"people\",\"record\"");
	snprintf(want, sizeof want, "%s%s%s%s", schema, org, state, act_o);
	tap_ok(r.rc == 0 && !strncmp(r.out, want, strlen(want)),
	       "SCHEMA, STATE, other streams pass through byte for byte, in order");
	tap_ok(rec && strstr(r.out, act) > rec && !strcmp(strstr(r.out, act), act),
	       "people's ACTIVATE_VERSION comes last, after the merged records");
	result_free(&r);
}

static void test_errors(void)
{
	struct result r = run(P("c", "1", "") "{\"type\":\"RECORD\",\n");
	TAP_EQ_INT(r.rc, -1, "a line that is not JSON stops the run");
	tap_ok(strstr(r.e.msg, "t:2: not JSON") != NULL, "  ... naming file:line (%s)", r.e.msg);
	result_free(&r);

	r = run("[1,2]\n");
	tap_ok(r.rc == -1 && strstr(r.e.msg, "t:1: not a JSON object"), "JSON that is no object");
	result_free(&r);

	const char *act = "{\"type\":\"ACTIVATE_VERSION\",\"stream\":\"people\",\"version\":7}\n";
	const char *nosid = "{\"type\":\"RECORD\",\"stream\":\"people\",\"record\":{\"source\":\"c\"}}\n";
	char in[1024];
	snprintf(in, sizeof in, "%s%s%s", P("c", "1", ""), nosid, act);
	r = run(in);
	TAP_EQ_INT(r.rc, 0, "a people record without source_id does not stop the run");
	TAP_EQ_INT(r.st.bad_people, 1, "  ... it is counted");
	tap_ok(r.out && strstr(r.out, nosid), "  ... and written unmerged");
	tap_ok(r.out && !strstr(r.out, act), "  ... and people's ACTIVATE_VERSION is withheld");
	TAP_EQ_INT(r.st.people_out, 1, "  ... the good record is still merged");
	result_free(&r);
}

/* ---- the reconciliation (offboarding) ---- */

#define ACT "{\"type\":\"ACTIVATE_VERSION\",\"stream\":\"people\",\"version\":1}\n"

/* dedupe over several inputs (one dedupe_read each), then its
 * reconciliation parsed; NULL when a step failed (rc says which). */
static cJSON *reconcile(const char *const *inputs, int n, int *rc)
{
	char *out = NULL, *doc = NULL;
	size_t len = 0, dlen = 0;
	struct rt_err e;
	FILE *o = open_memstream(&out, &len), *r = open_memstream(&doc, &dlen);
	struct dedupe *d = dedupe_new(o);
	*rc = 0;
	for (int i = 0; i < n && !*rc; i++) {
		FILE *in = fmemopen((void *)inputs[i], strlen(inputs[i]), "r");
		*rc = dedupe_read(d, in, "t", &e);
		fclose(in);
	}
	if (!*rc)
		*rc = dedupe_finish(d, &e) ? -2 : 0;
	if (!*rc)
		*rc = dedupe_reconcile(d, r, &e) ? -3 : 0;
	dedupe_free(d);
	fclose(o);
	fclose(r);
	cJSON *j = *rc ? NULL : cJSON_Parse(doc);
	if (!*rc && !j)
		tap_diag("  not JSON: %s", doc);
	free(out);
	free(doc);
	return j;
}

static cJSON *pair(const cJSON *doc, const char *dir, const char *roster)
{
	cJSON *p;
	cJSON_ArrayForEach(p, cJSON_GetObjectItem(doc, "pairs"))
		if (!strcmp(str(p, "directory"), dir) && !strcmp(str(p, "roster"), roster))
			return p;
	return NULL;
}

/* "source_id source_id|..." of a list: the directory's, else the roster's */
static int list_is(const cJSON *p, const char *list, const char *want)
{
	char got[1024] = "";
	const cJSON *e;
	cJSON_ArrayForEach(e, cJSON_GetObjectItem(p, list)) {
		const char *id = cJSON_GetObjectItem(e, "directory_source_id")
					 ? str(e, "directory_source_id") : str(e, "roster_source_id");
		snprintf(got + strlen(got), sizeof got - strlen(got), "%s%s", *got ? " " : "", id);
	}
	int ok = !strcmp(got, want);
	if (!ok)
		tap_diag("  %s: got '%s', want '%s'", list, got, want);
	return ok;
}

static long count(const cJSON *p, const char *list)
{
	const cJSON *c = cJSON_GetObjectItem(cJSON_GetObjectItem(p, "counts"), list);
	return cJSON_IsNumber(c) ? (long)c->valuedouble : -1;
}

static void test_reconcile_lists(void)
{
	const char *clever = P("clever", "c1", ",\"status\":\"active\",\"email\":\"mdelgado@mr.example\","
					"\"given_name\":\"Maria\",\"family_name\":\"Delgado\",\"role\":\"teacher\"")
		P("clever", "c2", ",\"status\":\"active\",\"employee_id\":\"1008\",\"given_name\":\"Daniel\"")
		P("clever", "c3", ",\"status\":\"active\",\"sis_id\":\"2028001\",\"given_name\":\"Ava\"")
		P("clever", "c4", ",\"status\":\"inactive\",\"status_reason\":\"withdrawn\","
				  "\"sis_id\":\"2028002\"")
		P("clever", "c5", ",\"status\":\"active\",\"email\":\"nobody@mr.example\"") ACT;
	const char *graph =
		P("graph", "g1", ",\"status\":\"active\",\"email\":\"MDelgado@MR.example\"")
		P("graph", "g2", ",\"status\":\"inactive\",\"status_reason\":\"deleted in Entra ID 2026-10-30\","
				 "\"employee_id\":\"1008\"")
		P("graph", "g4", ",\"status\":\"active\",\"sis_id\":\"2028002\"")
		P("graph", "g5", ",\"status\":\"active\",\"role\":\"guest\",\"email\":\"lfox@partner.example\"")
		P("graph", "g6", ",\"status\":\"inactive\",\"status_reason\":\"disabled in Entra ID\"")
		P("graph", "g7", ",\"email\":\"nobody@mr.example\"") ACT;
	const char *in[] = {clever, graph};
	int rc;
	cJSON *doc = reconcile(in, 2, &rc);
	cJSON *p = pair(doc, "graph", "clever");
	TAP_EQ_INT(rc, 0, "reconcile: merged and written");
	tap_ok(p != NULL, "graph vs clever is compared (both complete)");
	tap_ok(list_is(p, "active_in_directory_absent_from_roster", "g5"),
	       "an active account with no roster record is absent (the guest too)");
	tap_ok(list_is(p, "active_in_directory_inactive_in_roster", "g4"),
	       "an active account whose roster records are all inactive");
	tap_ok(list_is(p, "in_roster_without_directory_account", "c3"),
	       "an active roster person with no account");
	tap_ok(list_is(p, "directory_account_inactive", "g2"),
	       "an active roster person whose accounts are all inactive");
	TAP_EQ_INT(count(p, "active_in_directory_absent_from_roster"), 1, "counts per list");
	TAP_EQ_INT(count(p, "directory_account_inactive"), 1, "  ... and for the last list");
	const cJSON *e = cJSON_GetArrayItem(cJSON_GetObjectItem(p, "directory_account_inactive"), 0);
	tap_ok(!strcmp(str(e, "status_reason"), "deleted in Entra ID 2026-10-30") &&
		       !strcmp(str(e, "roster_source_id"), "c2") &&
		       !strcmp(str(e, "given_name"), "Daniel"),
	       "the entry has the directory's reason, the roster's id and the merged name");
	char id[19];
	dedupe_person_id("clever", "c2", id);
	tap_ok(!strcmp(str(e, "id"), id), "  ... and the merged person's id");
	e = cJSON_GetArrayItem(cJSON_GetObjectItem(p, "active_in_directory_absent_from_roster"), 0);
	tap_ok(!strcmp(str(e, "role"), "guest") && !cJSON_GetObjectItem(e, "roster_source_id"),
	       "a guest is listed with its role, and no roster id");
	e = cJSON_GetArrayItem(cJSON_GetObjectItem(p, "active_in_directory_inactive_in_roster"), 0);
	tap_ok(!strcmp(str(e, "roster_status_reason"), "withdrawn"),
	       "inactive in the roster: the roster's reason is given");
	char *text = cJSON_PrintUnformatted(p);
	tap_ok(text && !strstr(text, "\"g1\"") && !strstr(text, "\"c1\""),
	       "Maria (Entra mail in another case) merged with Clever: on no list");
	tap_ok(text && !strstr(text, "\"g6\""), "a disabled account no roster has is on no list");
	tap_ok(text && !strstr(text, "\"g7\"") && !strstr(text, "\"c5\""),
	       "a record without a status is neither active nor inactive");
	free(text);
	cJSON *srcs = cJSON_GetObjectItem(doc, "sources");
	tap_ok(!strcmp(str(cJSON_GetArrayItem(srcs, 0), "source"), "clever") &&
		       !strcmp(str(cJSON_GetArrayItem(srcs, 0), "kind"), "roster") &&
		       !strcmp(str(cJSON_GetArrayItem(srcs, 1), "kind"), "directory") &&
		       cJSON_IsTrue(cJSON_GetObjectItem(cJSON_GetArrayItem(srcs, 1), "complete")),
	       "sources in input order, with their kind and completeness");
	TAP_EQ_INT(cJSON_GetArraySize(cJSON_GetObjectItem(doc, "skipped")), 0, "nothing skipped");
	cJSON_Delete(doc);
}

static void test_reconcile_order(void)
{
	/* many absent accounts: listed by person id whatever the input order */
	char graph[8192] = "";
	for (int i = 0; i < 20; i++) {
		char line[256];
		snprintf(line, sizeof line, P("graph", "g%d", ",\"status\":\"active\""), i);
		strcat(graph, line);
	}
	strcat(graph, ACT);
	const char *in[] = {P("clever", "c", ",\"status\":\"active\"") ACT, graph};
	int rc, sorted = 1;
	cJSON *doc = reconcile(in, 2, &rc);
	cJSON *l = cJSON_GetObjectItem(pair(doc, "graph", "clever"), "active_in_directory_absent_from_roster");
	for (cJSON *e = l ? l->child : NULL; e && e->next; e = e->next)
		sorted &= strcmp(str(e, "id"), str(e->next, "id")) < 0;
	TAP_EQ_INT(cJSON_GetArraySize(l), 20, "20 absent accounts");
	tap_ok(sorted, "  ... sorted by person id");
	cJSON_Delete(doc);
}

static void test_reconcile_incomplete(void)
{
	const char *clever = P("clever", "c1", ",\"status\":\"active\"") ACT;
	const char *graph = P("graph", "g1", ",\"status\":\"active\"") ACT;
	const char *google_part = P("google", "o1", ",\"status\":\"active\"");
	const char *in[] = {clever, graph, google_part};
	int rc;
	cJSON *doc = reconcile(in, 3, &rc);
	cJSON *sk = cJSON_GetArrayItem(cJSON_GetObjectItem(doc, "skipped"), 0);
	tap_ok(pair(doc, "graph", "clever") && !pair(doc, "google", "clever"),
	       "a directory whose input had no people ACTIVATE_VERSION is not compared");
	tap_ok(!strcmp(str(sk, "directory"), "google") && !strcmp(str(sk, "roster"), "clever") &&
		       !strcmp(str(sk, "reason"), "google people incomplete"),
	       "  ... it is skipped with the reason");
	cJSON_Delete(doc);

	/* the same source in two inputs, one of them not activated */
	const char *more_clever = P("clever", "c2", ",\"status\":\"active\"");
	const char *in2[] = {clever, graph, more_clever};
	doc = reconcile(in2, 3, &rc);
	sk = cJSON_GetArrayItem(cJSON_GetObjectItem(doc, "skipped"), 0);
	tap_ok(!pair(doc, "graph", "clever") && !strcmp(str(sk, "reason"), "clever people incomplete"),
	       "one input holding a source's people without ACTIVATE_VERSION makes it incomplete");
	cJSON_Delete(doc);

	const char *in4[] = {clever,
			     P("graph", "g1", ",\"status\":\"active\"")
			     "{\"type\":\"RECORD\",\"stream\":\"people\",\"record\":{\"source\":\"graph\"}}\n" ACT};
	doc = reconcile(in4, 2, &rc);
	sk = cJSON_GetArrayItem(cJSON_GetObjectItem(doc, "skipped"), 0);
	tap_ok(!pair(doc, "graph", "clever") && !strcmp(str(sk, "reason"), "graph people incomplete"),
	       "an input with a people record written unmerged is incomplete, ACTIVATE_VERSION or not");
	cJSON_Delete(doc);

	const char *in3[] = {P("clever", "c1", ",\"status\":\"active\"") P("graph", "g1", "")};
	doc = reconcile(in3, 1, &rc);
	sk = cJSON_GetArrayItem(cJSON_GetObjectItem(doc, "skipped"), 0);
	tap_ok(!strcmp(str(sk, "reason"), "graph and clever people incomplete"),
	       "both sides incomplete: both named");
	cJSON_Delete(doc);
}

static void test_reconcile_three(void)
{
	/* one person in a roster and two directories: suspended in one only */
	const char *in[] = {
		P("clever", "c1", ",\"status\":\"active\",\"employee_id\":\"S-2201\"") ACT,
		P("graph", "g1", ",\"status\":\"active\",\"employee_id\":\"S-2201\","
				 "\"email\":\"rkim@mr.example\"") ACT,
		P("google", "o1", ",\"status\":\"inactive\",\"status_reason\":\"suspended (ADMIN)\","
				  "\"email\":\"RKim@mr.example\"") ACT};
	int rc;
	cJSON *doc = reconcile(in, 3, &rc);
	cJSON *g = pair(doc, "graph", "clever"), *o = pair(doc, "google", "clever");
	tap_ok(g && o, "a roster and two directories: two pairs");
	tap_ok(list_is(g, "directory_account_inactive", "") &&
		       list_is(g, "in_roster_without_directory_account", ""),
	       "  ... graph: the active account matches");
	tap_ok(list_is(o, "directory_account_inactive", "o1"), "  ... google: the suspended account");
	const cJSON *e = cJSON_GetArrayItem(cJSON_GetObjectItem(o, "directory_account_inactive"), 0);
	tap_ok(!strcmp(str(e, "status_reason"), "suspended (ADMIN)") &&
		       !strcmp(str(e, "roster_source_id"), "c1"),
	       "  ... with the reason and the roster id");
	tap_ok(!strcmp(str(cJSON_GetArrayItem(cJSON_GetObjectItem(doc, "pairs"), 0), "directory"),
		       "graph"),
	       "pairs in the order the directories first appear");
	cJSON_Delete(doc);
}

/* Merges the one-record input, then reconciles into out, which fails
 * every write: -1, ERR_IO, and the message names the system's reason. */
static void reconcile_into(const char *input, FILE *out, const char *reason, const char *what)
{
	struct rt_err e;
	char *o = NULL;
	size_t len = 0;
	err_clear(&e);
	FILE *mo = open_memstream(&o, &len);
	struct dedupe *d = dedupe_new(mo);
	FILE *i = fmemopen((void *)input, strlen(input), "r");
	int ok = !dedupe_read(d, i, "t", &e) && !dedupe_finish(d, &e);
	tap_ok(ok, "%s: the input merges", what);
	int rc = dedupe_reconcile(d, out, &e);
	tap_ok(rc == -1 && e.kind == ERR_IO &&
		       strstr(e.msg, "writing the reconciliation failed") && strstr(e.msg, reason),
	       "%s: the write error is reported (rc %d: %s)", what, rc, e.msg);
	dedupe_free(d);
	fclose(i);
	fclose(mo);
	free(o);
}

static void test_reconcile_misc(void)
{
	const char *in[] = {P("clever", "c1", ",\"status\":\"active\"") ACT};
	int rc;
	cJSON *doc = reconcile(in, 1, &rc);
	tap_ok(doc && !cJSON_GetArraySize(cJSON_GetObjectItem(doc, "pairs")) &&
		       !cJSON_GetArraySize(cJSON_GetObjectItem(doc, "skipped")),
	       "no directory source: no pairs, nothing skipped");
	tap_ok(json_is(doc, "directory_sources", "[\"graph\",\"google\"]"),
	       "the directory sources are named");
	cJSON_Delete(doc);
	tap_ok(vendor_scope_of("graph") == VENDOR_DIRECTORY &&
		       vendor_scope_of("google") == VENDOR_DIRECTORY &&
		       vendor_scope_of("clever") == VENDOR_ROSTER &&
		       vendor_scope_of("Graph") == VENDOR_ROSTER,
	       "graph and google are directories, the rest rosters");

	struct rt_err e;
	FILE *out = fopen("/dev/null", "w");
	struct dedupe *d = dedupe_new(out);
	TAP_EQ_INT(dedupe_reconcile(d, out, &e), -1, "reconcile before merging is an error");
	dedupe_free(d);
	fclose(out);

	/* a full disk (/dev/full is part of every Linux system: its absence
	 * is a failure, not a skip) */
	FILE *full = fopen("/dev/full", "w");
	tap_ok(full != NULL, "/dev/full can be opened");
	if (full) {
		reconcile_into(in[0], full, "No space left on device", "/dev/full");
		fclose(full);
	}
	/* a pipe whose reader is gone: EPIPE (SIGPIPE ignored, as a daemon's
	 * writer would see it), made here whatever the system */
	int fd[2];
	FILE *w = NULL;
	void (*was)(int) = signal(SIGPIPE, SIG_IGN);
	if (!pipe(fd)) {
		close(fd[0]);
		w = fdopen(fd[1], "w");
	}
	tap_ok(w != NULL, "a pipe with its reader closed");
	if (w) {
		reconcile_into(in[0], w, "Broken pipe", "a pipe without a reader");
		fclose(w);
	}
	signal(SIGPIPE, was);
}

int main(void)
{
	log_init("test_dedupe", NULL, LOG_ERROR); /* the expected warnings stay quiet */
	test_ladder();
	test_transitive();
	test_id();
	test_order();
	test_precedence();
	test_conflicts();
	test_memberships();
	test_passthrough();
	test_errors();
	test_reconcile_lists();
	test_reconcile_order();
	test_reconcile_incomplete();
	test_reconcile_three();
	test_reconcile_misc();
	return tap_done();
}
