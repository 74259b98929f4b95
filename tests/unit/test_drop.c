/* The drop engine and the Munis / Frontline / Aesop profiles: each
 * fixture of fixtures/drops read to its exact records (Windows-1252
 * converted, zero padding kept, fold keys, cancellations, SSN nowhere),
 * and header drift, field-count, fixed-width and trailer failures. */
#include "engine/drop.h"
#include "engine/vendor.h"
#include "tap.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAXREC 64

/* What the sink was given. */
struct got {
	int n;
	char *json[MAXREC];
	char *key[MAXREC]; /* NULL when the file had no key */
	int cancel[MAXREC];
	int stop_after; /* >0: the sink fails at that record */
};

static int on_record(void *ctx, const struct drop_file *f, const char *key, size_t keylen,
		     int cancel, const char *json, size_t len, struct rt_err *e)
{
	struct got *g = ctx;
	(void)f;
	if (g->stop_after && g->n + 1 >= g->stop_after) {
		err_set(e, ERR_IO, "sink full");
		return -1;
	}
	if (g->n == MAXREC || strlen(json) != len || (key && strlen(key) != keylen))
		return -1;
	g->json[g->n] = strdup(json);
	g->key[g->n] = key ? strdup(key) : NULL;
	g->cancel[g->n] = cancel;
	g->n++;
	return 0;
}

static void got_free(struct got *g)
{
	for (int i = 0; i < g->n; i++) {
		free(g->json[i]);
		free(g->key[i]);
	}
	memset(g, 0, sizeof *g);
}

/* Everything the sink got, one record a line (to search for bytes). */
static char *all_json(const struct got *g)
{
	size_t n = 1;
	for (int i = 0; i < g->n; i++)
		n += strlen(g->json[i]) + 1;
	char *s = calloc(1, n);
	for (int i = 0; s && i < g->n; i++)
		strcat(strcat(s, g->json[i]), "\n");
	return s;
}

/* stderr goes to a file while a read runs, so messages can be checked. */
static char errfile[256];
static int saved_fd = -1;

static void capture_start(void)
{
	tap_tmp_name(errfile, sizeof errfile, "droperr");
	int fd = mkstemp(errfile);
	fflush(stderr);
	saved_fd = dup(2);
	dup2(fd, 2);
	close(fd);
}

static char *capture_end(void)
{
	fflush(stderr);
	dup2(saved_fd, 2);
	close(saved_fd);
	char *s = tap_slurp(errfile, NULL);
	unlink(errfile);
	return s ? s : strdup("");
}

static const char *fixtures(void)
{
	const char *d = getenv("DROP_FIXTURES");
	return d && *d ? d : "fixtures/drops";
}

/* Reads a file by profile (its only file spec); stderr in *err if asked. */
static int read_as(const char *profile, const char *path, const char *shown, struct got *g,
		   struct drop_stats *st, struct rt_err *e, char **err)
{
	const struct drop_profile *p = vendor_drop_profile(profile, NULL);
	const struct drop_file *f = p ? drop_file_for(p, shown) : NULL;
	struct drop_opts o = {.csv = {.delim = CSV_DELIM_AUTO, .enc = CSV_ENC_AUTO}};
	struct drop_sink s = {.ctx = g, .record = on_record};
	if (!f) {
		tap_diag("no profile %s for %s", profile, shown);
		return -2;
	}
	capture_start();
	int rc = drop_read(p, f, path, shown, &o, &s, st, e);
	char *text = capture_end();
	if (err)
		*err = text;
	else
		free(text);
	return rc;
}

static int read_fixture(const char *profile, const char *rel, struct got *g,
			struct drop_stats *st, char **err)
{
	char path[512];
	struct rt_err e;
	snprintf(path, sizeof path, "%s/%s", fixtures(), rel);
	const char *base = strrchr(rel, '/') ? strrchr(rel, '/') + 1 : rel;
	int rc = read_as(profile, path, base, g, st, &e, err);
	if (rc)
		tap_diag("%s: %s", rel, e.msg);
	return rc;
}

/* A temporary file holding text; its name in path. */
static void write_tmp(char *path, size_t n, const char *text)
{
	tap_tmp_name(path, n, "drop");
	int fd = mkstemp(path);
	FILE *f = fd >= 0 ? fdopen(fd, "wb") : NULL;
	if (f) {
		fputs(text, f);
		fclose(f);
	}
}

/* The record whose field k is v, parsed (caller deletes), or NULL. */
static cJSON *find(const struct got *g, const char *k, const char *v, int nth, int *at)
{
	for (int i = 0; i < g->n; i++) {
		cJSON *o = cJSON_Parse(g->json[i]);
		const cJSON *x = cJSON_GetObjectItemCaseSensitive(o, k);
		if (cJSON_IsString(x) && !strcmp(x->valuestring, v) && !nth--) {
			if (at)
				*at = i;
			return o;
		}
		cJSON_Delete(o);
	}
	return NULL;
}

static const char *str(const cJSON *o, const char *k)
{
	const cJSON *x = cJSON_GetObjectItemCaseSensitive(o, k);
	return cJSON_IsString(x) ? x->valuestring : NULL;
}

static int str_is(const cJSON *o, const char *k, const char *v)
{
	const char *s = str(o, k);
	if (!s || strcmp(s, v)) {
		tap_diag("  %s is '%s', want '%s'", k, s ? s : "(absent)", v);
		return 0;
	}
	return 1;
}

static int absent(const cJSON *o, const char *k)
{
	return o && !cJSON_GetObjectItemCaseSensitive(o, k);
}

static int has(const char *hay, const char *needle)
{
	if (hay && strstr(hay, needle))
		return 1;
	tap_diag("  '%s' not found in: %s", needle, hay ? hay : "(null)");
	return 0;
}

static int lacks(const char *hay, const char *needle)
{
	return hay && !strstr(hay, needle);
}

/* The raw text of o's field k ("1.000" keeps its digits). */
static int raw_is(const char *json, const char *frag)
{
	return has(json, frag);
}

static void test_registry(void)
{
	const char *names[] = {"munis", "munis-fixed", "frontline", "aesop"};
	for (int i = 0; i < 4; i++) {
		const struct drop_profile *p = vendor_drop_profile(names[i], NULL);
		tap_ok(p && p->about[0] && drop_file_for(p, "11-23-2026.txt"),
		       "profile %s is registered with a file spec", names[i]);
	}
	tap_ok(!vendor_drop_profile("munis2", NULL), "an unknown profile is not found");
	const struct drop_file *f = drop_file_for(vendor_drop_profile("munis", NULL), "x.csv");
	tap_ok(f && !strcmp(f->stream, "munis_employees") && !strcmp(f->keys[0], "EmployeeNumber") &&
		       !f->keys[1],
	       "munis: stream munis_employees, key_properties [EmployeeNumber]");
	f = drop_file_for(vendor_drop_profile("aesop", NULL), "11-3-2017.txt");
	tap_ok(f && !strcmp(f->stream, "frontline_absences") && f->fixed && f->min_len == 1085,
	       "aesop: stream frontline_absences, fixed width, records of 1085 characters");
	tap_ok(f && !f->optional && f->days_path && !strcmp(f->days_path, "Days") &&
		       f->date_path && !strcmp(f->date_path, "AbsenceDate"),
	       "aesop: required; a record spans Days school days from AbsenceDate");
	f = drop_file_for(vendor_drop_profile("frontline", NULL), "abs.csv");
	tap_ok(f && !f->optional && !f->days_path && !f->date_path,
	       "frontline: required; one row a day already (no expansion)");
	tap_ok(vendor_drop_profile("aesop", NULL)->increments && vendor_drop_profile("frontline", NULL)->increments &&
		       !vendor_drop_profile("munis", NULL)->increments &&
		       !vendor_drop_profile("munis-fixed", NULL)->increments,
	       "aesop and frontline files are increments; Munis files are whole snapshots");
}

static void test_munis_cp1252(void)
{
	struct got g = {0};
	struct drop_stats st;
	char *err = NULL;
	int rc = read_fixture("munis", "munis/munis_employees_20261128.csv", &g, &st, &err);
	tap_ok(rc == 0, "munis profile 1 (Windows-1252, CRLF, comma) reads");
	TAP_EQ_INT(st.rows, 14, "munis: 14 rows");
	TAP_EQ_INT(g.n, 14, "munis: 14 records");
	TAP_EQ_INT(st.sensitive_columns, 1, "munis: the SSN column is counted as dropped");
	tap_ok(st.rows_dropped == 0 && st.fields_dropped == 0 && st.unknown_columns == 0,
	       "munis: nothing else dropped");
	tap_ok(!strcmp(st.note, "SSN column dropped at read time"), "munis note: %s", st.note);
	tap_ok(g.n && !strcmp(g.json[0],
			      "{\"EmployeeNumber\":\"1007\",\"LastName\":\"Delgado\",\"FirstName\":"
			      "\"Maria\",\"MiddleInitial\":\"L\",\"JobClass\":\"TCH-K\","
			      "\"JobClassDesc\":\"Teacher Kindergarten\",\"Location\":\"0110\","
			      "\"LocationDesc\":\"ALDER CREEK ELEM\",\"Department\":\"1100\","
			      "\"BargainingUnit\":\"CERT\",\"Status\":\"A\",\"HireDate\":"
			      "\"2014-08-18\",\"FTE\":1.000,\"WorkEmail\":"
			      "\"mdelgado@mapleridge.example\"}"),
	       "munis: the first record exactly (dates ISO, FTE a number with its digits, "
	       "empty cells absent)");
	tap_ok(g.n && g.key[0] && !memcmp(g.key[0], "1007\x1fTCH-K\x1f" "0110", 16),
	       "munis: fold key EmployeeNumber+JobClass+Location");
	cJSON *o = find(&g, "EmployeeNumber", "1063", 0, NULL);
	tap_ok(o && str_is(o, "FirstName", "\xc3\x89lodie"),
	       "munis: Windows-1252 0xC9 became UTF-8 \u00c9lodie");
	cJSON_Delete(o);
	o = find(&g, "EmployeeNumber", "1091", 0, NULL);
	tap_ok(o && str_is(o, "LastName", "Pe\xc3\xb1" "a") && absent(o, "WorkEmail"),
	       "munis: Pe\u00f1a converted; blank WorkEmail left out");
	cJSON_Delete(o);
	o = find(&g, "EmployeeNumber", "1014", 0, NULL);
	tap_ok(o && str_is(o, "PreferredName", "Rob") && absent(o, "MiddleInitial") &&
		       absent(o, "TermDate") && absent(o, "PrimaryJob"),
	       "munis: PreferredName kept; empty optional cells and missing columns absent");
	cJSON_Delete(o);
	o = find(&g, "EmployeeNumber", "1105", 0, NULL);
	tap_ok(o && str_is(o, "Status", "T") && str_is(o, "TermDate", "2026-06-30"),
	       "munis: the terminated employee has Status T and TermDate");
	cJSON_Delete(o);
	o = find(&g, "EmployeeNumber", "1098", 0, NULL);
	tap_ok(o && str_is(o, "LocationDesc", "TRANSPORTATION, NORTH YARD"),
	       "munis: a quoted value keeps its comma");
	cJSON_Delete(o);
	o = find(&g, "EmployeeNumber", "1084", 0, NULL);
	tap_ok(o && str_is(o, "WorkEmail", "jwalsh@mapleridge.example"),
	       "munis: Jennifer Walsh (Clever S-2201) is 1084 with her Clever email");
	cJSON_Delete(o);
	o = find(&g, "EmployeeNumber", "1070", 0, NULL);
	tap_ok(o && str_is(o, "LastName", "O'Neill"), "munis: O'Neill kept");
	cJSON_Delete(o);
	char *all = all_json(&g);
	tap_ok(lacks(all, "900-12") && lacks(all, "SSN") && lacks(err, "900-12"),
	       "munis: no SSN value in any record or message");
	free(all);
	free(err);
	got_free(&g);
}

static void test_munis_bom(void)
{
	struct got g = {0};
	struct drop_stats st;
	int rc = read_fixture("munis", "munis/munis_employees_bom.csv", &g, &st, NULL);
	tap_ok(rc == 0 && g.n == 4, "munis profile 2 (UTF-8 BOM, other header spellings): 4 "
				    "records");
	tap_ok(st.unknown_columns == 0 && st.sensitive_columns == 1,
	       "munis BOM: 'Employee Number', 'Group/BU', 'MI' ... all matched");
	cJSON *o = find(&g, "EmployeeNumber", "1007", 0, NULL);
	tap_ok(o != NULL, "munis BOM: the BOM is not part of the first header name");
	cJSON_Delete(o);
	o = find(&g, "EmployeeNumber", "1119", 0, NULL);
	tap_ok(o && str_is(o, "LastName", "Tr\xe1\xba\xa7n") && str_is(o, "BargainingUnit", "CLASS"),
	       "munis BOM: Tr\u1ea7n kept as UTF-8; Group/BU -> BargainingUnit");
	cJSON_Delete(o);
	o = find(&g, "EmployeeNumber", "1063", 0, NULL);
	tap_ok(o && str_is(o, "FirstName", "\xc3\x89lodie"), "munis BOM: \u00c9lodie");
	cJSON_Delete(o);
	char *all = all_json(&g);
	tap_ok(lacks(all, "900-12"), "munis BOM: no SSN value");
	free(all);
	got_free(&g);
}

static void test_munis_pipe(void)
{
	struct got g = {0};
	struct drop_stats st;
	int rc = read_fixture("munis", "munis/munis_employees_pipe.txt", &g, &st, NULL);
	tap_ok(rc == 0 && g.n == 5, "munis profile 3 (pipe, no quoting, no final newline): 5 "
				    "records");
	tap_ok(!st.note[0], "munis pipe: nothing to note (%s)", st.note);
	cJSON *o = find(&g, "EmployeeNumber", "1098", 0, NULL);
	tap_ok(o && str_is(o, "LocationDesc", "TRANSPORTATION, NORTH YARD") &&
		       str_is(o, "HireDate", "2019-09-03") && str_is(o, "BargainingUnit", "CLASS"),
	       "munis pipe: a comma is plain text; YYYYMMDD dates; EmpNo and Group matched");
	cJSON_Delete(o);
	o = find(&g, "EmployeeNumber", "1105", 0, NULL);
	tap_ok(o && str_is(o, "TermDate", "2026-06-30") && str_is(o, "WorkEmail",
								     "ghale@mapleridge.example"),
	       "munis pipe: the last line without a newline is read");
	cJSON_Delete(o);
	got_free(&g);
}

static void test_munis_fixed(void)
{
	struct got g = {0};
	struct drop_stats st;
	char *err = NULL;
	int rc = read_fixture("munis-fixed", "munis/munis_employees_fixed.txt", &g, &st, &err);
	tap_ok(rc == 0 && g.n == 14 && st.rows == 14,
	       "munis-fixed: 14 records, the trailer count agrees");
	cJSON *o = find(&g, "EmployeeNumber", "001007", 0, NULL);
	tap_ok(o && str_is(o, "LastName", "Delgado") && str_is(o, "JobClass", "TCH-K") &&
		       str_is(o, "HireDate", "2014-08-18") && absent(o, "TermDate") &&
		       cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, "PrimaryJob")) &&
		       str_is(o, "WorkEmail", "mdelgado@mapleridge.example"),
	       "munis-fixed: zero padding kept (001007); 00000000 TermDate absent; fields cut "
	       "and trimmed");
	cJSON_Delete(o);
	tap_ok(g.n && g.key[0] && !memcmp(g.key[0], "001007\x1fTCH-K\x1f" "0110", 18),
	       "munis-fixed: fold key with the padded number");
	int at = -1;
	o = find(&g, "EmployeeNumber", "001063", 0, &at);
	tap_ok(o && str_is(o, "FirstName", "\xc3\x89lodie") && str_is(o, "Location", "0310") &&
		       str_is(o, "JobClass", "TCH-FL") && str_is(o, "Status", "A"),
	       "munis-fixed: columns after a converted \u00c9 are cut on characters, not bytes");
	if (at >= 0)
		tap_ok(raw_is(g.json[at], "\"FTE\":1.000"), "munis-fixed: FTE 1.000");
	cJSON_Delete(o);
	o = find(&g, "EmployeeNumber", "001105", 0, NULL);
	tap_ok(o && str_is(o, "TermDate", "2026-06-30"), "munis-fixed: TermDate of the "
							   "terminated employee");
	cJSON_Delete(o);
	char *all = all_json(&g);
	tap_ok(lacks(all, "900121007") && lacks(all, "SSN") && lacks(err, "900121"),
	       "munis-fixed: the SSN range is never read");
	tap_ok(st.sensitive_columns == 1 && has(st.note, "SSN column dropped"),
	       "munis-fixed: note says the SSN column was dropped");
	free(all);
	free(err);
	got_free(&g);
}

static void test_munis_multi(void)
{
	struct got g = {0};
	struct drop_stats st;
	int rc = read_fixture("munis", "munis/munis_positions_multi.csv", &g, &st, NULL);
	tap_ok(rc == 0 && g.n == 8, "munis profile 5 (one row per job): 8 records");
	int a = -1, b = -1;
	cJSON *o1 = find(&g, "EmployeeNumber", "1021", 0, &a);
	cJSON *o2 = find(&g, "EmployeeNumber", "1021", 1, &b);
	tap_ok(o1 && o2 && cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o1, "PrimaryJob")) &&
		       cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(o2, "PrimaryJob")),
	       "munis multi: PrimaryJob Y -> true, N -> false");
	tap_ok(a >= 0 && b >= 0 && g.key[a] && g.key[b] && strcmp(g.key[a], g.key[b]) &&
		       !strcmp(g.key[b], "1021\x1fTCH-MUS\x1f" "0110"),
	       "munis multi: each job has its own fold key");
	tap_ok(a >= 0 && raw_is(g.json[a], "\"FTE\":0.600"), "munis multi: FTE 0.600");
	cJSON_Delete(o1);
	cJSON_Delete(o2);
	o1 = find(&g, "EmployeeNumber", "1070", 1, &a);
	tap_ok(o1 && str_is(o1, "JobClassDesc", "Athletic Director") &&
		       str_is(o1, "BargainingUnit", "ADMIN") && raw_is(g.json[a], "\"FTE\":0.000"),
	       "munis multi: O'Neill's second job");
	cJSON_Delete(o1);
	o1 = find(&g, "EmployeeNumber", "1105", 0, NULL);
	tap_ok(o1 && str_is(o1, "Status", "T") && str_is(o1, "TermDate", "2026-06-30") &&
		       str_is(o1, "HireDate", "2009-08-17"),
	       "munis multi: terminated with Status T and TermDate");
	cJSON_Delete(o1);
	got_free(&g);
}

static void test_frontline_report(void)
{
	struct got g = {0};
	struct drop_stats st;
	int rc = read_fixture("frontline", "frontline/absences_report.csv", &g, &st, NULL);
	tap_ok(rc == 0 && g.n == 9 && st.records == 9, "frontline report: 9 records");
	TAP_EQ_INT(st.cancels, 1, "frontline report: one Deleted row");
	tap_ok(!st.note[0], "frontline report: nothing dropped (%s)", st.note);
	int at = -1;
	cJSON *o = find(&g, "ConfirmationNumber", "482913077", 0, &at);
	tap_ok(o && at >= 0 &&
		       !strcmp(g.json[at],
			       "{\"ConfirmationNumber\":\"482913077\",\"EmployeeExternalId\":\"1042\","
			       "\"EmployeeName\":\"Osei, Samuel\",\"Title\":\"Teacher Science\","
			       "\"Location\":\"Bayview Middle School\",\"AbsenceDate\":\"2026-11-23\","
			       "\"StartTime\":\"07:45\",\"EndTime\":\"15:15\",\"Duration\":\"Full "
			       "Day\",\"Days\":1.0,\"AbsenceReason\":\"Personal Illness\","
			       "\"ApprovalStatus\":\"Approved\",\"SubstituteExternalId\":\"S20981\","
			       "\"SubstituteName\":\"Reyes, Ana\",\"PayCode\":\"SUBCERT\","
			       "\"PayRate\":125.00,\"Deleted\":false}"),
	       "frontline report: a record exactly (MM/DD/YYYY and h:mm AM converted, quoted "
	       "\"Last, First\")");
	tap_ok(at >= 0 && g.key[at] && !strcmp(g.key[at], "482913077\x1f" "2026-11-23") &&
		       !g.cancel[at],
	       "frontline report: fold key ConfirmationNumber+AbsenceDate");
	cJSON_Delete(o);
	int n101 = 0;
	for (int i = 0; i < g.n; i++)
		n101 += g.key[i] && !strncmp(g.key[i], "482913101\x1f", 10);
	tap_ok(n101 == 3, "frontline report: the multi-day absence is three rows, three keys");
	o = find(&g, "ConfirmationNumber", "482913101", 2, NULL);
	tap_ok(o && str_is(o, "AbsenceDate", "2026-11-25") &&
		       str_is(o, "EmployeeName", "Marchand, \xc3\x89lodie") &&
		       str_is(o, "SubstituteName", "Ib\xc3\xa1\xc3\xb1" "ez, Jos\xc3\xa9"),
	       "frontline report: third day; UTF-8 names");
	cJSON_Delete(o);
	o = find(&g, "ConfirmationNumber", "482913145", 0, &at);
	tap_ok(o && str_is(o, "Duration", "Half Day AM") && str_is(o, "EndTime", "11:30") &&
		       raw_is(g.json[at], "\"Days\":0.5") && absent(o, "SubstituteExternalId") &&
		       absent(o, "PayRate"),
	       "frontline report: half day AM, unfilled (no sub, no pay fields)");
	cJSON_Delete(o);
	o = find(&g, "ConfirmationNumber", "482913146", 0, NULL);
	tap_ok(o && str_is(o, "Duration", "Half Day PM") && str_is(o, "StartTime", "11:30") &&
		       str_is(o, "EndTime", "15:15"),
	       "frontline report: half day PM");
	cJSON_Delete(o);
	o = find(&g, "ConfirmationNumber", "482913190", 0, &at);
	tap_ok(o && absent(o, "EmployeeExternalId") && absent(o, "EmployeeName") &&
		       str_is(o, "AbsenceReason", "Vacancy Position") && g.key[at] &&
		       !strcmp(g.key[at], "482913190\x1f" "2026-11-25"),
	       "frontline report: the vacancy has no employee id and keys on its confirmation");
	cJSON_Delete(o);
	o = find(&g, "ConfirmationNumber", "482913160", 0, &at);
	tap_ok(o && at >= 0 && g.cancel[at] &&
		       cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, "Deleted")) &&
		       !strcmp(g.key[at], "482913160\x1f" "2026-11-23"),
	       "frontline report: Deleted=Yes is a cancellation of its key");
	cJSON_Delete(o);
	got_free(&g);
}

static void test_aesop(void)
{
	struct got g1 = {0}, g2 = {0};
	struct drop_stats st;
	int rc = read_fixture("aesop", "frontline/11-23-2026.txt", &g1, &st, NULL);
	tap_ok(rc == 0 && st.rows == 5 && g1.n == 7 && st.records == 7 && st.cancels == 0,
	       "aesop 11-23: 5 rows, 7 records (the 3-day absence is 3), no cancels");
	tap_ok(has(st.note, "1 multi-day row expanded into 3 school days"),
	       "aesop 11-23: the note says the 3-day row was expanded");
	int at = -1;
	cJSON *o = find(&g1, "EmployeeExternalId", "1063", 0, &at);
	tap_ok(o && at >= 0 &&
		       !strcmp(g1.json[at],
			       "{\"EmployeeExternalId\":\"1063\",\"AbsenceDate\":\"2026-11-23\","
			       "\"Duration\":\"Full Day\",\"Days\":1.0,\"SubstituteExternalId\":"
			       "\"S20977\",\"SubstituteFirstName\":\"Jos\xc3\xa9\","
			       "\"SubstituteLastName\":\"Ib\xc3\xa1\xc3\xb1" "ez\",\"PayCode\":"
			       "\"SUBCERT\",\"EntitlementCode\":\"PROFDEV\",\"Deleted\":false}"),
	       "aesop: the multi-day record's first day exactly (Days 3.0 -> 1.0 a day; cut on "
	       "characters after the Windows-1252 sub name)");
	cJSON_Delete(o);
	const char *want[] = {"2026-11-23", "2026-11-24", "2026-11-25"};
	int days_ok = 1;
	for (int i = 0; i < 3; i++) {
		o = find(&g1, "EmployeeExternalId", "1063", i, &at);
		char key[64];
		snprintf(key, sizeof key, "1063\x1f%s\x1f" "Full Day", want[i]);
		days_ok &= o && str_is(o, "AbsenceDate", want[i]) && raw_is(g1.json[at], "\"Days\":1.0") &&
			   str_is(o, "SubstituteExternalId", "S20977") && g1.key[at] &&
			   !strcmp(g1.key[at], key);
		cJSON_Delete(o);
	}
	tap_ok(days_ok, "aesop: Marchand's Days 3.0 from Monday 11-23 is 11-23, 11-24, 11-25, each "
			"with its own date and key, the sub on every day");
	o = find(&g1, "EmployeeExternalId", "1007", 0, NULL);
	tap_ok(o && str_is(o, "Duration", "Half Day AM") && str_is(o, "SubstituteMiddleName", "M"),
	       "aesop: half day AM, sub middle name");
	cJSON_Delete(o);
	o = find(&g1, "EmployeeExternalId", "1014", 0, &at);
	tap_ok(o && str_is(o, "Duration", "Half Day PM") && raw_is(g1.json[at], "\"Days\":0.5") &&
		       absent(o, "SubstituteExternalId"),
	       "aesop: half day PM without a sub");
	cJSON_Delete(o);
	rc = read_fixture("aesop", "frontline/11-24-2026.txt", &g2, &st, NULL);
	tap_ok(rc == 0 && g2.n == 3 && st.cancels == 1, "aesop 11-24: 3 records, 1 cancel");
	int a = -1, b = -1;
	cJSON_Delete(find(&g1, "EmployeeExternalId", "1056", 0, &a));
	cJSON_Delete(find(&g2, "EmployeeExternalId", "1056", 0, &b));
	tap_ok(a >= 0 && b >= 0 && !g1.cancel[a] && g2.cancel[b] && g1.key[a] && g2.key[b] &&
		       !strcmp(g1.key[a], g2.key[b]) &&
		       !strcmp(g2.key[b], "1056\x1f" "2026-11-23\x1f" "Full Day"),
	       "aesop: the later file cancels (Cancel=Y) the earlier posting's key "
	       "EmployeeExternalId+AbsenceDate+Shift Description");
	got_free(&g1);
	got_free(&g2);
}

/* ---- Aesop days: expansion, cancels of one day, shifts, vacancies ---- */

/* One Aesop record (reference 5.3 layout) and its CRLF onto text. */
static void aesop_add(char *text, size_t n, const char *staff, const char *date,
		      const char *shift, const char *days, char cancel)
{
	char line[1088];
	memset(line, ' ', 1085);
	line[1085] = 0;
	memcpy(line, "ABS", 3);
	memcpy(line + 8, staff, strlen(staff));
	memcpy(line + 312, date, 8);
	line[323] = cancel;
	memcpy(line + 349, shift, strlen(shift));
	memcpy(line + 379, days, strlen(days));
	memcpy(line + 1065, "SICK", 4);
	size_t k = strlen(text);
	snprintf(text + k, n - k, "%s\r\n", line);
}

/* What a fold would hold after these sink calls in order, ";"-joined,
 * '\x1f' shown as '|' and a record with no key as "-". */
static void fold_of(const struct got *const *gs, int ng, char *out, size_t n)
{
	const char *k[4 * MAXREC];
	int live[4 * MAXREC], nk = 0;
	for (int gi = 0; gi < ng; gi++) {
		const struct got *g = gs[gi];
		for (int i = 0; i < g->n; i++) {
			int j = 0;
			while (g->key[i] && j < nk && !(k[j] && !strcmp(k[j], g->key[i])))
				j++;
			if (g->key[i] && j < nk)
				live[j] = !g->cancel[i];
			else if (!g->cancel[i])
				k[nk] = g->key[i], live[nk++] = 1;
		}
	}
	size_t o = 0;
	out[0] = 0;
	for (int j = 0; j < nk && o + 1 < n; j++) {
		if (!live[j])
			continue;
		int w = snprintf(out + o, n - o, "%s%s", o ? ";" : "", k[j] ? k[j] : "-");
		if (w < 0 || (size_t)w >= n - o)
			break;
		o += (size_t)w;
	}
	for (char *c = out; *c; c++)
		if (*c == '\x1f')
			*c = '|';
}

static void test_aesop_days(void)
{
	static char text[16384];
	char path[256], fold[1024], *err = NULL;
	struct got g1 = {0}, g2 = {0};
	struct drop_stats st;
	struct rt_err e;
	/* Thursday 12-03 for 3 days, Friday 12-04 for 2.5, Saturday 12-05
	 * for 2 (a make-up day: the first day is the date given) */
	text[0] = 0;
	aesop_add(text, sizeof text, "1063", "20261203", "Full Day", "3.0", 'N');
	aesop_add(text, sizeof text, "1042", "20261204", "Full Day", "2.5", 'N');
	aesop_add(text, sizeof text, "1084", "20261205", "Full Day", "2", 'N');
	write_tmp(path, sizeof path, text);
	int rc = read_as("aesop", path, "12-3-2026.txt", &g1, &st, &e, NULL);
	tap_ok(rc == 0 && st.rows == 3 && g1.n == 8 && st.records == 8,
	       "aesop days: 3 rows of 3, 2.5 and 2 days are 8 day records");
	tap_ok(has(st.note, "3 multi-day rows expanded into 8 school days"),
	       "aesop days: the note counts the expanded rows and their days");
	const char *want[][3] = {
		{"1063", "2026-12-03", "\"Days\":1.0"}, {"1063", "2026-12-04", "\"Days\":1.0"},
		{"1063", "2026-12-07", "\"Days\":1.0"}, {"1042", "2026-12-04", "\"Days\":1.0"},
		{"1042", "2026-12-07", "\"Days\":1.0"}, {"1042", "2026-12-08", "\"Days\":0.5"},
		{"1084", "2026-12-05", "\"Days\":1,"},  {"1084", "2026-12-07", "\"Days\":1,"},
	};
	int ok = g1.n == 8;
	for (int i = 0; ok && i < 8; i++) {
		char key[64], date[48];
		snprintf(key, sizeof key, "%s\x1f%s\x1f" "Full Day", want[i][0], want[i][1]);
		snprintf(date, sizeof date, "\"AbsenceDate\":\"%s\"", want[i][1]);
		ok &= raw_is(g1.json[i], date) && raw_is(g1.json[i], want[i][2]) && g1.key[i] &&
		      !strcmp(g1.key[i], key) && !g1.cancel[i];
		if (!ok)
			tap_diag("  record %d: %s", i, g1.json[i]);
	}
	tap_ok(ok, "aesop days: Thursday's 3 days skip the weekend (12-03, 12-04, 12-07); 2.5 "
		   "days end with Days 0.5; a Saturday start keeps its date; each day its own key");
	unlink(path);

	/* the next file cancels day 2 of Marchand's 3 and the whole of Osei's 2.5 */
	text[0] = 0;
	aesop_add(text, sizeof text, "1063", "20261204", "Full Day", "1.0", 'Y');
	aesop_add(text, sizeof text, "1042", "20261204", "Full Day", "2.5", 'Y');
	write_tmp(path, sizeof path, text);
	rc = read_as("aesop", path, "12-4-2026.txt", &g2, &st, &e, NULL);
	tap_ok(rc == 0 && st.rows == 2 && g2.n == 4 && st.cancels == 4,
	       "aesop days: a 1-day cancel is one cancellation, a 2.5-day cancel is three");
	const struct got *both[] = {&g1, &g2};
	fold_of(both, 2, fold, sizeof fold);
	tap_ok(!strcmp(fold, "1063|2026-12-03|Full Day;1063|2026-12-07|Full Day;"
			     "1084|2026-12-05|Full Day;1084|2026-12-07|Full Day"),
	       "aesop days: cancelling day 2 of 3 leaves days 1 and 3; a multi-day cancel "
	       "removes each of its days");
	if (strcmp(fold, "1063|2026-12-03|Full Day;1063|2026-12-07|Full Day;"
			 "1084|2026-12-05|Full Day;1084|2026-12-07|Full Day"))
		tap_diag("  fold: %s", fold);
	unlink(path);
	got_free(&g1);
	got_free(&g2);

	/* AM and PM halves of one person's day; two vacancies of one day;
	 * a cancel of a vacancy; the same posting twice in one file */
	text[0] = 0;
	aesop_add(text, sizeof text, "1007", "20261207", "Half Day AM", "0.5", 'N');
	aesop_add(text, sizeof text, "1007", "20261207", "Half Day PM", "0.5", 'N');
	aesop_add(text, sizeof text, "", "20261207", "Full Day", "1.0", 'N');
	aesop_add(text, sizeof text, "", "20261207", "Full Day", "1.0", 'N');
	aesop_add(text, sizeof text, "", "20261207", "Full Day", "1.0", 'Y');
	aesop_add(text, sizeof text, "1014", "20261207", "Full Day", "1.0", 'N');
	aesop_add(text, sizeof text, "1014", "20261207", "Full Day", "1.0", 'N');
	aesop_add(text, sizeof text, "1021", "20261207", "Full Day", "1.0", 'N');
	aesop_add(text, sizeof text, "1021", "20261207", "Full Day", "1.0", 'Y');
	aesop_add(text, sizeof text, "1021", "20261207", "Full Day", "1.0", 'N');
	write_tmp(path, sizeof path, text);
	rc = read_as("aesop", path, "12-7-2026.txt", &g1, &st, &e, &err);
	tap_ok(rc == 0 && st.rows == 10 && g1.n == 9 && st.cancels == 1,
	       "aesop shifts: 10 rows, 9 to the sink (the vacancy's cancel is not passed)");
	const struct got *one[] = {&g1};
	fold_of(one, 1, fold, sizeof fold);
	tap_ok(!strcmp(fold, "1007|2026-12-07|Half Day AM;1007|2026-12-07|Half Day PM;-;-;"
			     "1014|2026-12-07|Full Day;1021|2026-12-07|Full Day"),
	       "aesop shifts: AM and PM halves are two records; two vacancies of a day stay two "
	       "(no key)");
	if (strcmp(fold, "1007|2026-12-07|Half Day AM;1007|2026-12-07|Half Day PM;-;-;"
			 "1014|2026-12-07|Full Day;1021|2026-12-07|Full Day"))
		tap_diag("  fold: %s", fold);
	tap_ok(has(err, "12-7-2026.txt:5: a cancellation with no 'Staff Id': it cannot be "
			"matched") &&
		       has(st.note, "1 cancellation with no key that could not be matched (ignored)"),
	       "aesop shifts: a cancellation with no staff id is warned (file:line) and counted in "
	       "the note");
	tap_ok(has(err, "12-7-2026.txt:7: the same key as line 6: this row replaces that one") &&
		       has(st.note, "1 row replaced an earlier row of the file with the same key") &&
		       lacks(err, ":10: the same key"),
	       "aesop shifts: a key given twice in one file is counted; a re-post after its "
	       "cancel is not");
	free(err);
	unlink(path);
	got_free(&g1);

	/* Days beyond a year: one record, warned */
	text[0] = 0;
	aesop_add(text, sizeof text, "1063", "20261203", "Full Day", "999", 'N');
	write_tmp(path, sizeof path, text);
	rc = read_as("aesop", path, "12-3-2026.txt", &g1, &st, &e, &err);
	tap_ok(rc == 0 && g1.n == 1 && has(err, "12-3-2026.txt:1: Days 999 is more days than one "
						 "record can span"),
	       "aesop days: Days 999 is kept as one record with a warning");
	free(err);
	unlink(path);
	got_free(&g1);
}

/* The Report Writer file has a row per day already: Days is 1 or less
 * and nothing is expanded; its vacancies without a confirmation number
 * have no key. */
static void test_frontline_no_expansion(void)
{
	char path[256];
	struct got g = {0};
	struct drop_stats st;
	struct rt_err e;
	write_tmp(path, sizeof path,
		  "Confirmation #,Employee External ID 01,Absence Date,Days,Absence Reason\n"
		  "482913101,1063,11/23/2026,1.0,Professional Development\n"
		  ",,11/25/2026,1.0,Vacancy Position\n"
		  ",,11/25/2026,1.0,Vacancy Position\n");
	int rc = read_as("frontline", path, "abs.csv", &g, &st, &e, NULL);
	tap_ok(rc == 0 && g.n == 3 && lacks(st.note, "multi-day") && g.key[0] && !g.key[1] &&
		       !g.key[2],
	       "frontline report: not expanded; two vacancies with neither id have no key");
	unlink(path);
	got_free(&g);
}

/* ---- drift and failures ---- */

#define MUNIS_HDR "EmployeeNumber,LastName,FirstName,Status,HireDate,SSN"

static void test_required_missing(void)
{
	char path[256];
	struct got g = {0};
	struct drop_stats st;
	struct rt_err e;
	write_tmp(path, sizeof path,
		  "Employee Numbr,LastName,FirstName,Status\r\n1007,Delgado,Maria,A\r\n");
	int rc = read_as("munis", path, "emp.csv", &g, &st, &e, NULL);
	tap_ok(rc == -1 && e.kind == ERR_DATA && g.n == 0, "a required column missing fails the "
							    "file");
	tap_ok(has(e.msg, "emp.csv: required column 'EmployeeNumber' is missing (closest header: "
			  "'Employee Numbr')"),
	       "it names the column and the closest header");
	tap_ok(has(e.hint, "EmpNo") && has(e.hint, "Employee Number"),
	       "the hint lists the accepted names");
	unlink(path);
	got_free(&g);
}

static void test_drift(void)
{
	char path[256];
	struct got g = {0};
	struct drop_stats st;
	struct rt_err e;
	char *err = NULL;
	write_tmp(path, sizeof path,
		  MUNIS_HDR ",Shoe Size\r\n"
			    "1007,Delgado,Maria,A,08/18/2014,900-55-0001,9\r\n"
			    "1014,Kim,Robert,,08/20/2018,900-55-0002,10\r\n"
			    "1021,Bello,Aisha,A,02/30/2016,900-55-0003,8\r\n"
			    ",Park,Kevin,A,08/17/2020,900-55-0004,11\r\n"
			    "1035,Chen-Whitaker,Laura,A,20120820,900-55-0005,7\r\n");
	int rc = read_as("munis", path, "emp.csv", &g, &st, &e, &err);
	tap_ok(rc == 0, "drift: the file reads with rows and fields dropped");
	TAP_EQ_INT(st.rows, 5, "drift: 5 rows");
	TAP_EQ_INT(g.n, 3, "drift: 3 records");
	TAP_EQ_INT(st.rows_dropped, 2, "drift: 2 rows dropped (empty required values)");
	TAP_EQ_INT(st.fields_dropped, 1, "drift: 1 field dropped (Feb 30)");
	TAP_EQ_INT(st.unknown_columns, 1, "drift: 1 unknown column");
	TAP_EQ_INT(st.sensitive_columns, 1, "drift: 1 sensitive column");
	tap_ok(!strcmp(st.note, "2 rows dropped (bad required values), 1 field dropped, 1 unknown "
				"column: Shoe Size; SSN column dropped at read time"),
	       "drift: the note (%s)", st.note);
	tap_ok(has(err, "emp.csv:3: required column 'Status' is empty; row dropped") &&
		       has(err, "emp.csv:5: required column 'EmployeeNumber' is empty; row dropped"),
	       "drift: each dropped row is an error naming file:line and the column");
	tap_ok(has(err, "emp.csv:4: column 'HireDate': '02/30/2016' is not a date") &&
		       has(err, "field dropped"),
	       "drift: the bad optional value is a warning naming file:line and the column");
	const char *w = strstr(err, "Shoe Size");
	tap_ok(w && !strstr(w + 1, "Shoe Size"), "drift: the unknown column is warned once");
	cJSON *o = find(&g, "EmployeeNumber", "1021", 0, NULL);
	tap_ok(o && absent(o, "HireDate") && str_is(o, "LastName", "Bello"),
	       "drift: the row keeps its other fields");
	cJSON_Delete(o);
	char *all = all_json(&g);
	tap_ok(lacks(all, "900-55") && lacks(err, "900-55") && lacks(all, "Shoe"),
	       "drift: SSN never in records or messages; the unknown column not emitted");
	free(all);
	free(err);
	unlink(path);
	got_free(&g);
}

static void test_bad_required_value(void)
{
	char path[256];
	struct got g = {0};
	struct drop_stats st;
	struct rt_err e;
	char *err = NULL;
	write_tmp(path, sizeof path,
		  "Confirmation #,Employee External ID 01,Absence Date,Start Time,Days,Deleted,"
		  "Social Security Number,PIN\n"
		  "1,1007,11/24/2026,12:15 PM,1,No,900-66-0001,4321\n"
		  "2,1014,13/45/2026,7:45 AM,1,No,900-66-0002,4322\n"
		  "3,1021,2026-11-24,25:00,abc,maybe,900-66-0003,4323\n"
		  ",1028,11/24/2026,12:05 AM,0.5,N,900-66-0004,4324\n"
		  ",,11/24/2026,1530,0.5,N,900-66-0005,4325\n");
	int rc = read_as("frontline", path, "abs.csv", &g, &st, &e, &err);
	tap_ok(rc == 0 && g.n == 4 && st.rows_dropped == 1,
	       "bad required value: the row with a bad Absence Date is dropped");
	tap_ok(has(err, "abs.csv:3: column 'Absence Date': '13/45/2026' is not a date") &&
		       has(err, "row dropped"),
	       "bad required value: an error naming file:line and the column");
	TAP_EQ_INT(st.fields_dropped, 3, "bad optional values: 3 fields dropped");
	tap_ok(st.sensitive_columns == 2 && has(st.note, "Social Security Number, PIN columns "
							 "dropped at read time"),
	       "headers named like an SSN or PIN are dropped though the profile does not list "
	       "them");
	cJSON *o = find(&g, "ConfirmationNumber", "1", 0, NULL);
	tap_ok(o && str_is(o, "StartTime", "12:15"), "12:15 PM -> 12:15");
	cJSON_Delete(o);
	int at = -1;
	o = find(&g, "ConfirmationNumber", "3", 0, &at);
	tap_ok(o && absent(o, "StartTime") && absent(o, "Days") && absent(o, "Deleted") &&
		       str_is(o, "AbsenceDate", "2026-11-24") && !g.cancel[at],
	       "25:00, abc and maybe are dropped fields; YYYY-MM-DD kept");
	cJSON_Delete(o);
	o = find(&g, "EmployeeExternalId", "1028", 0, &at);
	tap_ok(o && str_is(o, "StartTime", "00:05") && absent(o, "ConfirmationNumber") &&
		       g.key[at] && !strcmp(g.key[at], "1028\x1f" "2026-11-24"),
	       "12:05 AM -> 00:05; no confirmation number: key EmployeeExternalId+AbsenceDate");
	cJSON_Delete(o);
	o = find(&g, "AbsenceDate", "2026-11-24", 3, &at);
	tap_ok(o && str_is(o, "StartTime", "15:30") && at >= 0 && !g.key[at],
	       "1530 -> 15:30; neither id: no key (never folded into another record)");
	cJSON_Delete(o);
	char *all = all_json(&g);
	tap_ok(lacks(all, "900-66") && lacks(err, "900-66") && lacks(all, "432") &&
		       lacks(err, "4321"),
	       "SSN and PIN values nowhere");
	free(all);
	free(err);
	unlink(path);
	got_free(&g);
}

static void test_field_count(void)
{
	char path[256];
	struct got g = {0};
	struct drop_stats st;
	struct rt_err e;
	write_tmp(path, sizeof path,
		  MUNIS_HDR "\n1007,Delgado,Maria,A,08/18/2014,900-77-0001\n"
			    "1014,Kim,Robert,A,08/20/2018,900-77-0002,Extra\n");
	int rc = read_as("munis", path, "emp.csv", &g, &st, &e, NULL);
	tap_ok(rc == -1 && e.kind == ERR_DATA, "a row with an extra field fails the file");
	tap_ok(has(e.msg, "emp.csv:3: 7 fields, the header has 6: a stray delimiter or a missing "
			  "quote; the row is not shifted into the wrong columns"),
	       "it names the line and both counts");
	tap_ok(lacks(e.msg, "900-77") && lacks(e.hint, "900-77"), "no value in the error");
	unlink(path);
	got_free(&g);
	write_tmp(path, sizeof path, MUNIS_HDR "\n1007,Delgado\n");
	rc = read_as("munis", path, "emp.csv", &g, &st, &e, NULL);
	tap_ok(rc == -1 && has(e.msg, "emp.csv:2: 2 fields, the header has 6"),
	       "a row with fields missing fails the file");
	unlink(path);
	got_free(&g);
	write_tmp(path, sizeof path, "");
	rc = read_as("munis", path, "emp.csv", &g, &st, &e, NULL);
	tap_ok(rc == -1 && e.kind == ERR_DATA && has(e.msg, "empty"), "an empty file fails");
	unlink(path);
	got_free(&g);
}

/* A munis-fixed record from its parts (space-padded to 235). */
static void fixed_line(char *out, const char *num, const char *last)
{
	memset(out, ' ', 235);
	out[235] = 0;
	memcpy(out, num, strlen(num));
	memcpy(out + 6, last, strlen(last));
	memcpy(out + 36, "Test", 4);
	memcpy(out + 57, "0110TCH-K     A20140818", 23);
	memcpy(out + 105, "900880001Y", 10);
}

static void test_fixed_failures(void)
{
	char path[256], l1[240], l2[240], text[1024];
	struct got g = {0};
	struct drop_stats st;
	struct rt_err e;
	fixed_line(l1, "002001", "Able");
	fixed_line(l2, "002002", "Baker");
	snprintf(text, sizeof text, "%s\r\n%s\r\nTRL000000002\r\n", l1, l2);
	write_tmp(path, sizeof path, text);
	int rc = read_as("munis-fixed", path, "f.txt", &g, &st, &e, NULL);
	tap_ok(rc == 0 && g.n == 2, "fixed: a good file with its trailer reads");
	unlink(path);
	got_free(&g);

	snprintf(text, sizeof text, "%s\r\n%s\r\nTRL000000003\r\n", l1, l2);
	write_tmp(path, sizeof path, text);
	rc = read_as("munis-fixed", path, "f.txt", &g, &st, &e, NULL);
	tap_ok(rc == -1 && e.kind == ERR_DATA &&
		       has(e.msg, "f.txt:3: the trailer says 3 records, the file has 2: the file is "
				  "cut short or the export failed"),
	       "fixed: a trailer count mismatch fails naming both numbers");
	unlink(path);
	got_free(&g);

	snprintf(text, sizeof text, "%s\r\n%s\r\n", l1, l2);
	write_tmp(path, sizeof path, text);
	rc = read_as("munis-fixed", path, "f.txt", &g, &st, &e, NULL);
	tap_ok(rc == -1 && e.kind == ERR_DATA && has(e.msg, "f.txt: no trailer line") &&
		       has(e.msg, "cut short"),
	       "fixed: a missing trailer fails (a partial file)");
	unlink(path);
	got_free(&g);

	snprintf(text, sizeof text, "%s\r\n%.80s\r\nTRL000000002\r\n", l1, l2);
	write_tmp(path, sizeof path, text);
	rc = read_as("munis-fixed", path, "f.txt", &g, &st, &e, NULL);
	tap_ok(rc == -1 && has(e.msg, "f.txt:2: 80 characters") && has(e.msg, "at least 115"),
	       "fixed: a short line fails naming its line and length");
	unlink(path);
	got_free(&g);

	snprintf(text, sizeof text, "%s\r\nTRL000000001\r\n%s\r\n", l1, l2);
	write_tmp(path, sizeof path, text);
	rc = read_as("munis-fixed", path, "f.txt", &g, &st, &e, NULL);
	tap_ok(rc == -1 && has(e.msg, "f.txt:3: a line after the trailer"),
	       "fixed: a line after the trailer fails");
	unlink(path);
	got_free(&g);

	/* an Aesop line one character short of the layout */
	char *rec = malloc(1100);
	memset(rec, ' ', 1084);
	rec[1084] = 0;
	memcpy(rec + 8, "1042", 4);
	memcpy(rec + 312, "20261123", 8);
	snprintf(text, sizeof text, "%.0s", "");
	write_tmp(path, sizeof path, rec);
	rc = read_as("aesop", path, "11-23-2026.txt", &g, &st, &e, NULL);
	tap_ok(rc == -1 && has(e.msg, "11-23-2026.txt:1: 1084 characters") &&
		       has(e.msg, "at least 1085"),
	       "aesop: a record under 1085 characters fails naming the line");
	free(rec);
	unlink(path);
	got_free(&g);
}

static void test_sink_stop(void)
{
	struct got g = {.stop_after = 2};
	struct drop_stats st;
	struct rt_err e;
	char path[512];
	snprintf(path, sizeof path, "%s/munis/munis_employees_20261128.csv", fixtures());
	int rc = read_as("munis", path, "m.csv", &g, &st, &e, NULL);
	tap_ok(rc == -1 && g.n == 1 && st.records == 1 && has(e.msg, "sink full"),
	       "a sink that fails stops the read with its error");
	got_free(&g);
}

/* A profile of the test's own: nested paths, consts, list types, a list
 * fed by several columns, extra_prefix, no key columns. */
static const struct drop_col shape_cols[] = {
	{"Id", "id", DT_STR, DC_REQUIRED, 0, 0},
	{"First", "name.first", DT_STR, 0, 0, 0},
	{"Last", "name.last", DT_STR, 0, 0, 0},
	{"School", "roles.teacher.school", DT_STR, 0, 0, 0},
	{"School", "roles.teacher.schools", DT_ONE, 0, 0, 0},
	{"Other School", "roles.teacher.schools", DT_ONE, 0, 0, 0},
	{"Grades", "grades", DT_LIST, 0, 0, 0},
	{"Org", "org", DT_REF, 0, 0, 0},
	{"Orgs", "orgs", DT_REFS, 0, 0, 0},
	{"User Ids", "userIds", DT_USERIDS, 0, 0, 0},
	{"Password", "password", DT_STR, 0, 0, 0},
	{NULL, NULL, DT_STR, 0, 0, 0},
};
static const struct drop_const shape_consts[] = {
	{"roles.teacher", "{}"},
	{"kind", "\"user\""},
	{NULL, NULL},
};
static const struct drop_file shape_files[] = {
	{.name = "*", .stream = "test_users", .cols = shape_cols, .consts = shape_consts,
	 .extra_prefix = "metadata."},
	{.name = NULL},
};
static const struct drop_profile shape = {.name = "shape", .about = "test", .files = shape_files};

static void test_shapes(void)
{
	char path[256];
	struct got g = {0};
	struct drop_stats st;
	struct rt_err e;
	struct drop_opts o = {.csv = {.delim = CSV_DELIM_AUTO}};
	struct drop_sink s = {.ctx = &g, .record = on_record};
	write_tmp(path, sizeof path,
		  "Id,First,Last,School,Other School,Grades,Org,Orgs,User Ids,metadata.color,"
		  "Password\n"
		  "u1,Ana,Reyes,s1,s2,\"09, 10\",o1,\"o2,o3\",\"{Fed:123},{District:u-1}\",blue,"
		  "hunter22\n"
		  "u2,,,,,,,,,,\n"
		  "u3,,,,,,,,Fed,,\n");
	capture_start();
	int rc = drop_read(&shape, &shape_files[0], path, "users.csv", &o, &s, &st, &e);
	char *err = capture_end();
	tap_ok(rc == 0 && g.n == 3, "shapes: 3 records");
	tap_ok(g.n && !g.key[0], "shapes: no key columns -> key NULL");
	tap_ok(g.n && !strcmp(g.json[0],
			      "{\"id\":\"u1\",\"name\":{\"first\":\"Ana\",\"last\":\"Reyes\"},"
			      "\"roles\":{\"teacher\":{\"school\":\"s1\",\"schools\":[\"s1\","
			      "\"s2\"]}},\"grades\":[\"09\",\"10\"],\"org\":{\"sourcedId\":"
			      "\"o1\"},\"orgs\":[{\"sourcedId\":\"o2\"},{\"sourcedId\":\"o3\"}],"
			      "\"userIds\":[{\"type\":\"Fed\",\"identifier\":\"123\"},{\"type\":"
			      "\"District\",\"identifier\":\"u-1\"}],\"metadata\":{\"color\":"
			      "\"blue\"},\"kind\":\"user\"}"),
	       "shapes: nested paths, DT_ONE columns joined into one list, lists, refs, "
	       "userIds, extra_prefix, consts");
	tap_ok(g.n > 1 && !strcmp(g.json[1], "{\"id\":\"u2\",\"roles\":{\"teacher\":{}},"
					     "\"kind\":\"user\"}"),
	       "shapes: empty cells absent; the const {} role still there");
	tap_ok(g.n > 2 && !strstr(g.json[2], "userIds") && st.fields_dropped == 1 &&
		       has(err, "users.csv:4: column 'User Ids': 'Fed' is not a list of {type:id}"),
	       "shapes: a malformed userIds cell is a dropped field");
	char *all = all_json(&g);
	tap_ok(lacks(all, "hunter22") && lacks(err, "hunter22") && st.sensitive_columns == 1,
	       "shapes: a Password header is dropped even when a profile maps it");
	free(all);
	free(err);
	unlink(path);
	got_free(&g);
}

static void test_manifest(void)
{
	char path[256], mode[16];
	struct rt_err e;
	const struct drop_profile *p = vendor_drop_profile("oneroster", NULL);
	tap_ok(p && p->manifest_mode, "manifest: the oneroster profile reads its manifest");
	if (!p || !p->manifest_mode)
		return;
	write_tmp(path, sizeof path,
		  "propertyName,value\r\nmanifest.version,1.0\r\noneroster.version,1.1\r\n"
		  "file.users,bulk\r\nfile.enrollments,Delta\r\nfile.demographics,absent\r\n"
		  "file.orgs,sometimes");
	tap_ok(!p->manifest_mode(path, "users", mode, sizeof mode, &e) && !strcmp(mode, "bulk"),
	       "manifest: file.users bulk");
	tap_ok(!p->manifest_mode(path, "enrollments", mode, sizeof mode, &e) &&
		       !strcmp(mode, "delta"),
	       "manifest: Delta -> delta");
	tap_ok(!p->manifest_mode(path, "demographics", mode, sizeof mode, &e) &&
		       !strcmp(mode, "absent"),
	       "manifest: absent");
	tap_ok(p->manifest_mode(path, "orgs", mode, sizeof mode, &e) == -1 &&
		       has(e.msg, "manifest.csv:7: file.orgs is 'sometimes'"),
	       "manifest: an unknown mode fails naming the line");
	tap_ok(p->manifest_mode(path, "classes", mode, sizeof mode, &e) == -1 &&
		       has(e.msg, "no file.classes line"),
	       "manifest: a file it does not list fails");
	unlink(path);
}

int main(void)
{
	test_registry();
	test_munis_cp1252();
	test_munis_bom();
	test_munis_pipe();
	test_munis_fixed();
	test_munis_multi();
	test_frontline_report();
	test_aesop();
	test_aesop_days();
	test_frontline_no_expansion();
	test_required_missing();
	test_drift();
	test_bad_required_value();
	test_field_count();
	test_fixed_failures();
	test_sink_stop();
	test_shapes();
	test_manifest();
	return tap_done();
}
