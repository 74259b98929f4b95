/* The bundle profiles (lib/vendor/clever/drop.c, lib/vendor/oneroster/drop.c,
 * lib/vendor/sds/drop.c): each fixture file of fixtures/drops read by the drop
 * engine into the exact records normalize expects: nested shapes, lists,
 * references, {type:id} user ids, booleans, dates; sensitive columns never
 * in the output; the Clever extra-field defect fails naming its line; the
 * header-only OneRoster bundle of tests/vectors reads with no records. */
#include "core/vec.h"
#include "engine/drop.h"
#include "engine/vendor.h"
#include "tap.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* What one file gave: its records one a line, keys one a line. */
struct got {
	char *out, *keys;
	size_t len, klen, cap, kcap;
	long n;
	int rc;
	struct drop_stats st;
	struct rt_err e;
};

static int append(char **s, size_t *len, size_t *cap, const char *p, size_t n)
{
	if (VEC_RESERVE(*s, *cap, *len + n + 2, 256))
		return -1;
	char *t = *s;
	memcpy(t + *len, p, n);
	t[*len + n] = '\n';
	t[*len + n + 1] = 0;
	*len += n + 1;
	return 0;
}

static int on_record(void *ctx, const struct drop_file *f, const char *key, size_t keylen,
		     int cancel, const char *json, size_t len, struct rt_err *e)
{
	struct got *g = ctx;
	(void)f, (void)e;
	g->n++;
	if (cancel)
		return -1; /* no bundle column cancels anything */
	return append(&g->out, &g->len, &g->cap, json, len) ||
	       append(&g->keys, &g->klen, &g->kcap, key ? key : "(none)", key ? keylen : 6);
}

static const char *fixtures(void)
{
	const char *f = getenv("FIXTURES");
	return f && *f ? f : "fixtures";
}

static void got_free(struct got *g)
{
	free(g->out);
	free(g->keys);
	memset(g, 0, sizeof *g);
}

/* Reads dir/name as the profile's file of that name. */
static void read_one(struct got *g, const char *profile, const char *dir, const char *name)
{
	char path[1024];
	memset(g, 0, sizeof *g);
	g->out = calloc(1, 1);
	g->keys = calloc(1, 1);
	g->cap = g->kcap = 1;
	const struct drop_profile *p = vendor_drop_profile(profile, NULL);
	const struct drop_file *f = p ? drop_file_for(p, name) : NULL;
	if (!f || !g->out || !g->keys) {
		tap_diag("profile %s has no file %s", profile, name);
		g->rc = -2;
		return;
	}
	snprintf(path, sizeof path, "%s/%s", dir, name);
	struct drop_sink s = {g, on_record};
	g->rc = drop_read(p, f, path, name, NULL, &s, &g->st, &g->e);
	if (g->rc)
		tap_diag("%s: %s", path, g->e.msg);
}

static void fixture(struct got *g, const char *profile, const char *sub, const char *name)
{
	char dir[512];
	snprintf(dir, sizeof dir, "%s/drops/%s", fixtures(), sub);
	read_one(g, profile, dir, name);
}

/* The record line whose text starts with prefix (its first field). */
static const char *line_with(const struct got *g, const char *prefix, char *out, size_t n)
{
	size_t pl = strlen(prefix);
	out[0] = 0;
	for (const char *p = g->out; p && *p;) {
		const char *e = strchr(p, '\n');
		size_t l = e ? (size_t)(e - p) : strlen(p);
		if (l >= pl && !memcmp(p, prefix, pl)) {
			snprintf(out, n, "%.*s", (int)l, p);
			return out;
		}
		p = e ? e + 1 : p + l;
	}
	return out;
}

static void expect_record(const struct got *g, const char *prefix, const char *want,
			  const char *name)
{
	char buf[4096];
	line_with(g, prefix, buf, sizeof buf);
	tap_ok(!strcmp(buf, want), "%s", name);
	if (strcmp(buf, want))
		tap_diag("  got  %s\n#   want %s", buf, want);
}

static void expect_absent(const struct got *g, const char *text, const char *what)
{
	int found = g->out && strstr(g->out, text) != NULL;
	tap_ok(!found, "%s is not in the output", what);
}

/* ---- Clever SFTP ---- */

static void test_clever_profile(void)
{
	const struct drop_profile *p = vendor_drop_profile("clever", NULL);
	tap_ok(p && !p->manifest, "the clever profile exists and has no manifest");
	if (!p)
		return;
	/* the three user files feed one stream, one after the other */
	const char *want[] = {"clever_schools", "clever_users", "clever_users", "clever_users",
			      "clever_sections", "clever_enrollments", NULL};
	int i = 0, same = 1;
	for (const struct drop_file *f = p->files; f->name; f++, i++)
		same &= want[i] && !strcmp(f->stream, want[i]);
	tap_ok(same && !want[i], "clever streams in order: schools, users x3, sections, enrollments");
	tap_ok(drop_file_for(p, "students.csv") && !drop_file_for(p, "Students.csv") &&
		       !drop_file_for(p, "admins.csv"),
	       "file names are case-sensitive; admins.csv (deprecated) is not read");
}

static void test_clever_schools(void)
{
	struct got g;
	fixture(&g, "clever", "clever-sftp", "schools.csv");
	TAP_EQ_INT(g.rc, 0, "schools.csv reads");
	TAP_EQ_INT(g.st.records, 4, "4 schools");
	expect_record(&g, "{\"id\":\"201\"",
		      "{\"id\":\"201\",\"name\":\"Bayview Middle School\",\"school_number\":\"201\","
		      "\"sis_id\":\"201\",\"state_id\":\"41-0871-201\",\"low_grade\":\"6\","
		      "\"high_grade\":\"8\",\"principal\":{\"name\":\"Yolanda Pérez\",\"email\":"
		      "\"yperez@mapleridge.example\"},\"location\":{\"address\":\"3300 Bayview Ave\","
		      "\"city\":\"Maple Ridge\",\"state\":\"OR\",\"zip\":\"97043\"},\"phone\":"
		      "\"(555) 013-2100\"}",
		      "a school: the API shape, principal and location nested");
	TAP_EQ_INT(g.st.unknown_columns, 0, "every schools.csv column is known");
	got_free(&g);
}

static void test_clever_students(void)
{
	struct got g;
	fixture(&g, "clever", "clever-sftp", "students.csv");
	TAP_EQ_INT(g.rc, 0, "students.csv reads");
	TAP_EQ_INT(g.st.records, 4, "4 students");
	expect_record(&g, "{\"id\":\"2400117\"",
		      "{\"id\":\"2400117\",\"name\":{\"first\":\"Mateo\",\"middle\":\"A\",\"last\":"
		      "\"Alvarez\"},\"email\":\"2400117@students.mapleridge.example\",\"roles\":{"
		      "\"student\":{\"school\":\"101\",\"schools\":[\"101\"],\"sis_id\":\"2400117\","
		      "\"student_number\":\"2400117\",\"state_id\":\"991200031\",\"grade\":"
		      "\"Kindergarten\",\"graduation_year\":\"2037\",\"credentials\":{"
		      "\"district_username\":\"malvarez17\"}}}}",
		      "a student: School_id as school and schools[], Student_id as id and sis_id");
	/* no e-mail and no middle name: the keys are absent, never "" */
	expect_record(&g, "{\"id\":\"2400423\"",
		      "{\"id\":\"2400423\",\"name\":{\"first\":\"Emily\",\"last\":\"Sato\"},\"roles\":"
		      "{\"student\":{\"school\":\"201\",\"schools\":[\"201\"],\"sis_id\":\"2400423\","
		      "\"student_number\":\"2400423\",\"state_id\":\"991200589\",\"grade\":\"7\","
		      "\"graduation_year\":\"2030\",\"credentials\":{\"district_username\":"
		      "\"esato23\"}}}}",
		      "empty optional cells are left out");
	tap_ok(g.out && strstr(g.out, "\"first\":\"José\",\"middle\":\"Luis\",\"last\":\"Hernández\""),
	       "UTF-8 names kept");
	/* passwords and personal data the model has no field for */
	expect_absent(&g, "Sprout-Kite-4417", "a Password value");
	expect_absent(&g, "Fjord-Pine-0491", "another Password value");
	expect_absent(&g, "2019", "a DOB (any form)");
	expect_absent(&g, "03/14", "a DOB as given");
	expect_absent(&g, "lalvarez@mail.example", "a Contact_email");
	expect_absent(&g, "C-88002", "a Contact_sis_id");
	expect_absent(&g, "Cedar", "a Student_street");
	expect_absent(&g, "Spanish", "a Home_language");
	expect_absent(&g, "Shoreline", "a quoted street with a comma");
	expect_absent(&g, "\"gender\"", "gender");
	TAP_EQ_INT(g.st.sensitive_columns, 17, "17 columns dropped at read time");
	TAP_EQ_INT(g.st.unknown_columns, 0, "no column of the real-world header is unknown");
	tap_ok(strstr(g.st.note, "Password") != NULL, "the note names the dropped columns");
	tap_ok(!strcmp(g.keys, "2400117\n2400253\n2400423\n2400491\n"), "keys are the Student_ids");
	got_free(&g);
}

static void test_clever_teachers_staff(void)
{
	struct got g;
	fixture(&g, "clever", "clever-sftp", "teachers.csv");
	TAP_EQ_INT(g.rc, 0, "teachers.csv reads");
	TAP_EQ_INT(g.st.records, 4, "4 teachers");
	expect_record(&g, "{\"id\":\"T-1021\"",
		      "{\"id\":\"T-1021\",\"name\":{\"first\":\"Aisha\",\"middle\":\"N\",\"last\":"
		      "\"Bello\"},\"email\":\"abello@mapleridge.example\",\"roles\":{\"teacher\":{"
		      "\"school\":\"102\",\"schools\":[\"102\"],\"sis_id\":\"T-1021\","
		      "\"teacher_number\":\"1021\",\"state_id\":\"880410039\",\"title\":"
		      "\"Music Teacher\",\"credentials\":{\"district_username\":\"abello\"}}}}",
		      "a teacher: number, state id, title, username");
	expect_absent(&g, "Treble-Clef-1021", "a teacher's Password");
	got_free(&g);

	fixture(&g, "clever", "clever-sftp", "staff.csv");
	TAP_EQ_INT(g.rc, 0, "staff.csv reads");
	TAP_EQ_INT(g.st.records, 2, "2 staff");
	expect_record(&g, "{\"id\":\"S-2201\"",
		      "{\"id\":\"S-2201\",\"name\":{\"first\":\"Jennifer\",\"last\":\"Walsh\"},"
		      "\"email\":\"jwalsh@mapleridge.example\",\"roles\":{\"staff\":{\"schools\":"
		      "[\"201\"],\"staff_id\":\"S-2201\",\"department\":\"Counseling\",\"title\":"
		      "\"School Counselor\",\"roles\":[\"Counselor\"],\"credentials\":{"
		      "\"district_username\":\"jwalsh\"}}}}",
		      "a staff member: staff_id, department, title, roles[] as the API has them");
	tap_ok(g.out && strstr(g.out, "\"title\":\"School Nurse\",\"credentials\""),
	       "an empty Role leaves roles[] out");
	expect_absent(&g, "Band-Aid-2203", "a staff Password");
	got_free(&g);
}

static void test_clever_sections(void)
{
	struct got g;
	fixture(&g, "clever", "clever-sftp", "sections.csv");
	TAP_EQ_INT(g.rc, 0, "sections.csv reads");
	TAP_EQ_INT(g.st.records, 3, "3 sections");
	expect_record(&g, "{\"id\":\"SEC-103\"",
		      "{\"id\":\"SEC-103\",\"sis_id\":\"SEC-103\",\"school\":\"102\",\"name\":"
		      "\"General Music - Bello\",\"course\":\"MUS-100\",\"course_name\":"
		      "\"General Music\",\"course_description\":\"Singing, rhythm and listening\","
		      "\"subject\":\"arts and music\",\"period\":\"4\",\"term\":{\"name\":"
		      "\"2024-2025 Semester 1\",\"start_date\":\"2024-08-26\",\"end_date\":"
		      "\"2025-01-24\"},\"teacher\":\"T-1021\",\"teachers\":[\"T-1021\",\"T-1028\"]}",
		      "a co-taught section: Teacher_2_id appended to teachers[], M/D/YYYY dates");
	expect_record(&g, "{\"id\":\"SEC-101\"",
		      "{\"id\":\"SEC-101\",\"sis_id\":\"SEC-101\",\"school\":\"101\",\"name\":"
		      "\"Kindergarten Homeroom - Delgado\",\"section_number\":\"1\",\"course\":"
		      "\"HR-K\",\"course_name\":\"Kindergarten Homeroom\",\"subject\":"
		      "\"homeroom/advisory\",\"grade\":\"Kindergarten\",\"period\":\"HR\",\"term\":{"
		      "\"name\":\"2024-2025 Semester 1\",\"start_date\":\"2024-08-26\",\"end_date\":"
		      "\"2025-01-24\"},\"teacher\":\"T-1007\",\"teachers\":[\"T-1007\"]}",
		      "a section with one teacher: empty co-teacher cells add nothing");
	got_free(&g);

	fixture(&g, "clever", "clever-sftp", "enrollments.csv");
	TAP_EQ_INT(g.rc, 0, "enrollments.csv reads");
	tap_ok(g.out && !strcmp(g.out, "{\"section\":\"SEC-101\",\"student\":\"2400117\",\"school\":"
				       "\"101\"}\n{\"section\":\"SEC-103\",\"student\":\"2400253\","
				       "\"school\":\"102\"}\n{\"section\":\"SEC-105\",\"student\":"
				       "\"2400423\",\"school\":\"201\"}\n"),
	       "enrollments: section, student, school");
	tap_ok(!strcmp(g.keys, "SEC-101\x1f" "2400117\nSEC-103\x1f" "2400253\nSEC-105\x1f" "2400423\n"),
	       "an enrollment's key is section and student");
	got_free(&g);
}

static void test_clever_extra_field(void)
{
	struct got g;
	fixture(&g, "clever", "clever-sftp-extra-field", "students.csv");
	TAP_EQ_INT(g.rc, -1, "a students.csv whose rows have one more field than its header fails");
	tap_ok(strstr(g.e.msg, "students.csv:2:") != NULL, "the error names the first such line");
	tap_ok(strstr(g.e.msg, "29") && strstr(g.e.msg, "28"), "and both field counts");
	TAP_EQ_INT(g.st.records, 0, "no row is emitted shifted");
	expect_absent(&g, "Lucia Alvarez", "the stray contact name");
	got_free(&g);
}

/* ---- OneRoster 1.1 ---- */

static void test_oneroster_profile(void)
{
	const struct drop_profile *p = vendor_drop_profile("oneroster", NULL);
	tap_ok(p && p->manifest && !strcmp(p->manifest, "manifest.csv") && p->manifest_mode,
	       "the oneroster profile has manifest.csv, and reads it");
	if (!p || !p->manifest_mode)
		return;
	tap_ok(!drop_file_for(p, "demographics.csv"), "demographics.csv is not in the profile");
	const struct drop_file *f = drop_file_for(p, "academicSessions.csv");
	tap_ok(f && !strcmp(f->stream, "oneroster_academic_sessions"),
	       "academicSessions.csv feeds oneroster_academic_sessions");

	char mode[16], path[512];
	struct rt_err e;
	snprintf(path, sizeof path, "%s/drops/oneroster/manifest.csv", fixtures());
	tap_ok(!p->manifest_mode(path, "users", mode, sizeof mode, &e) && !strcmp(mode, "delta"),
	       "manifest (CRLF, no final newline): the last line, file.users, is delta");
	tap_ok(!p->manifest_mode(path, "orgs", mode, sizeof mode, &e) && !strcmp(mode, "bulk"),
	       "manifest: file.orgs is bulk");
	tap_ok(!p->manifest_mode(path, "demographics", mode, sizeof mode, &e) &&
		       !strcmp(mode, "absent"),
	       "manifest: file.demographics is absent");
}

static void test_oneroster_orgs(void)
{
	struct got g;
	fixture(&g, "oneroster", "oneroster", "orgs.csv");
	TAP_EQ_INT(g.rc, 0, "orgs.csv reads");
	TAP_EQ_INT(g.st.records, 5, "5 orgs");
	expect_record(&g, "{\"sourcedId\":\"org-district\"",
		      "{\"sourcedId\":\"org-district\",\"name\":\"Maple Ridge Unified\",\"type\":"
		      "\"district\",\"identifier\":\"4108710\",\"metadata\":{\"city\":"
		      "\"Maple Ridge\",\"state\":\"OR\"}}",
		      "blank bulk status and dateLastModified left out; metadata.* kept");
	expect_record(&g, "{\"sourcedId\":\"org-201\"",
		      "{\"sourcedId\":\"org-201\",\"name\":\"Bayview Middle School\",\"type\":"
		      "\"school\",\"identifier\":\"201\",\"parent\":{\"sourcedId\":\"org-district\"},"
		      "\"metadata\":{\"state\":\"OR\"}}",
		      "parentSourcedId as a reference; an empty metadata cell left out");
	TAP_EQ_INT(g.st.unknown_columns, 0, "metadata.* columns are not unknown");
	got_free(&g);
}

static void test_oneroster_users(void)
{
	struct got g;
	fixture(&g, "oneroster", "oneroster", "users.csv");
	TAP_EQ_INT(g.rc, 0, "users.csv reads");
	TAP_EQ_INT(g.st.records, 6, "6 users");
	expect_record(&g, "{\"sourcedId\":\"usr-t1042\"",
		      "{\"sourcedId\":\"usr-t1042\",\"status\":\"active\",\"dateLastModified\":"
		      "\"2024-09-07T03:10:06.546Z\",\"enabledUser\":true,\"orgs\":[{\"sourcedId\":"
		      "\"org-201\"},{\"sourcedId\":\"org-district\"}],\"role\":\"teacher\","
		      "\"username\":\"sosei\",\"userIds\":[{\"type\":\"LDAP\",\"identifier\":"
		      "\"sosei\"},{\"type\":\"SIS\",\"identifier\":\"T-1042\"}],\"givenName\":"
		      "\"Samuel\",\"familyName\":\"Osei\",\"middleName\":\"K\",\"identifier\":"
		      "\"T-1042\",\"email\":\"sosei@mapleridge.example\",\"phone\":"
		      "\"(555) 013-4042\"}",
		      "a teacher: quoted comma list of org refs, {type:id} userIds, boolean");
	expect_record(&g, "{\"sourcedId\":\"usr-s2400423\"",
		      "{\"sourcedId\":\"usr-s2400423\",\"status\":\"active\",\"dateLastModified\":"
		      "\"2024-09-06T03:10:59.369Z\",\"enabledUser\":true,\"orgs\":[{\"sourcedId\":"
		      "\"org-201\"}],\"role\":\"student\",\"username\":\"esato23\",\"userIds\":[{"
		      "\"type\":\"SIS\",\"identifier\":\"2400423\"}],\"givenName\":\"Emily\","
		      "\"familyName\":\"Sato\",\"identifier\":\"2400423\",\"agents\":[{\"sourcedId\":"
		      "\"usr-g0423\"}],\"grades\":[\"07\"]}",
		      "a student: agents as references, grades as a list, leading zero kept");
	tap_ok(g.out && strstr(g.out, "\"sourcedId\":\"usr-a3310\",\"status\":\"active\","
					"\"dateLastModified\":\"2024-09-02T03:10:00.000Z\","
					"\"enabledUser\":false"),
	       "enabledUser false");
	tap_ok(g.out && strstr(g.out, "\"sourcedId\":\"usr-t1099\",\"status\":\"tobedeleted\""),
	       "a delta row keeps status tobedeleted");
	tap_ok(g.out && strstr(g.out, "\"role\":\"administrator\"") &&
		       strstr(g.out, "\"sourcedId\":\"usr-ad01\",\"status\":\"active\","
				     "\"dateLastModified\":\"2024-09-04T03:10:30.730Z\","
				     "\"enabledUser\":true"),
	       "enabledUser TRUE is true");
	expect_absent(&g, "Beaker-Flask-1042", "a password");
	expect_absent(&g, "Quiet-Paper-3310", "another password");
	expect_absent(&g, "\"password\"", "the password field");
	TAP_EQ_INT(g.st.sensitive_columns, 1, "password dropped at read time");
	got_free(&g);
}

static void test_oneroster_classes(void)
{
	struct got g;
	fixture(&g, "oneroster", "oneroster", "classes.csv");
	TAP_EQ_INT(g.rc, 0, "classes.csv reads");
	expect_record(&g, "{\"sourcedId\":\"cls-101\"",
		      "{\"sourcedId\":\"cls-101\",\"title\":\"Kindergarten Homeroom - Delgado\","
		      "\"grades\":[\"KG\",\"01\"],\"course\":{\"sourcedId\":\"crs-hr-k\"},"
		      "\"classCode\":\"HR-K-1\",\"classType\":\"homeroom\",\"location\":\"Room 4\","
		      "\"school\":{\"sourcedId\":\"org-101\"},\"terms\":[{\"sourcedId\":"
		      "\"as-2025-s1\"},{\"sourcedId\":\"as-2025\"}],\"subjects\":[\"homeroom\","
		      "\"advisory\"],\"periods\":[\"HR\",\"1\"]}",
		      "a class: course, school, terms[] references; lists");
	got_free(&g);

	fixture(&g, "oneroster", "oneroster", "enrollments.csv");
	TAP_EQ_INT(g.rc, 0, "enrollments.csv reads");
	expect_record(&g, "{\"sourcedId\":\"enr-105-t\"",
		      "{\"sourcedId\":\"enr-105-t\",\"class\":{\"sourcedId\":\"cls-105\"},\"school\":"
		      "{\"sourcedId\":\"org-201\"},\"user\":{\"sourcedId\":\"usr-t1042\"},\"role\":"
		      "\"teacher\",\"primary\":true,\"beginDate\":\"2024-08-26\",\"endDate\":"
		      "\"2025-01-24\"}",
		      "an enrollment: class, school, user references, primary, dates");
	got_free(&g);

	fixture(&g, "oneroster", "oneroster", "academicSessions.csv");
	TAP_EQ_INT(g.rc, 0, "academicSessions.csv reads");
	expect_record(&g, "{\"sourcedId\":\"as-2025-s1\"",
		      "{\"sourcedId\":\"as-2025-s1\",\"title\":\"2024-2025 Semester 1\",\"type\":"
		      "\"semester\",\"startDate\":\"2024-08-26\",\"endDate\":\"2025-01-24\","
		      "\"parent\":{\"sourcedId\":\"as-2025\"},\"schoolYear\":\"2025\"}",
		      "a session: parent reference, schoolYear a string");
	got_free(&g);

	fixture(&g, "oneroster", "oneroster", "courses.csv");
	TAP_EQ_INT(g.rc, 0, "courses.csv reads");
	expect_record(&g, "{\"sourcedId\":\"crs-hr-k\"",
		      "{\"sourcedId\":\"crs-hr-k\",\"schoolYear\":{\"sourcedId\":\"as-2025\"},"
		      "\"title\":\"Kindergarten Homeroom\",\"courseCode\":\"HR-K\",\"grades\":"
		      "[\"KG\"],\"org\":{\"sourcedId\":\"org-101\"},\"subjects\":[\"homeroom\","
		      "\"advisory\"]}",
		      "a course: list items trimmed");
	got_free(&g);
}

/* The header-only bundle of tests/vectors/oneroster (a ClassLink export's
 * headers): every file the profile lists reads with no records and no
 * unknown column; demographics, absent in its manifest, is not read. */
static void test_oneroster_vectors(void)
{
	char dir[512], path[600], mode[16];
	struct rt_err e;
	snprintf(dir, sizeof dir, "%s/oneroster/oneroster-example-csv", tap_vectors());
	const struct drop_profile *p = vendor_drop_profile("oneroster", NULL);
	int files = 0, ok = 1;
	for (const struct drop_file *f = p->files; f->name; f++, files++) {
		struct got g;
		char key[64];
		snprintf(key, sizeof key, "%.*s", (int)(strlen(f->name) - 4), f->name);
		snprintf(path, sizeof path, "%s/manifest.csv", dir);
		if (p->manifest_mode(path, key, mode, sizeof mode, &e) || strcmp(mode, "bulk")) {
			tap_diag("%s: manifest mode %s (%s)", f->name, mode, e.msg);
			ok = 0;
		}
		read_one(&g, "oneroster", dir, f->name);
		if (g.rc || g.n || g.st.rows || g.st.unknown_columns) {
			tap_diag("%s: rc %d, %ld records, %ld unknown columns", f->name, g.rc, g.n,
				 g.st.unknown_columns);
			ok = 0;
		}
		got_free(&g);
	}
	tap_ok(ok && files == 6, "the vectors' 6 bulk files read with 0 records and no unknown "
				 "column (metadata.* in orgs kept)");
	snprintf(path, sizeof path, "%s/manifest.csv", dir);
	tap_ok(!p->manifest_mode(path, "demographics", mode, sizeof mode, &e) &&
		       !strcmp(mode, "absent") && !drop_file_for(p, "demographics.csv"),
	       "the vectors' demographics is absent and never read, though its file is there");
}

/* ---- SDS v2.1 ---- */

static void test_sds(void)
{
	const struct drop_profile *p = vendor_drop_profile("sds", NULL);
	const char *want[] = {"sds_orgs", "sds_roles", "sds_users", "sds_academic_sessions",
			      "sds_courses", "sds_classes", "sds_enrollments", NULL};
	int i = 0, same = p != NULL;
	for (const struct drop_file *f = p ? p->files : NULL; f && f->name; f++, i++)
		same &= want[i] && !strcmp(f->stream, want[i]);
	tap_ok(same && !want[i] && !p->manifest, "sds streams in order, roles before users");

	struct got g;
	fixture(&g, "sds", "sds", "roles.csv");
	TAP_EQ_INT(g.rc, 0, "roles.csv reads");
	TAP_EQ_INT(g.st.records, 7, "7 role rows");
	const char *two = "{\"userSourcedId\":\"u-t1021\",\"orgSourcedId\":\"s-101\",\"role\":"
			  "\"teacher\",\"sessionSourcedId\":\"y-2025\",\"isPrimary\":false,"
			  "\"roleStartDate\":\"2024-08-26\",\"roleEndDate\":\"2025-06-13\"}\n"
			  "{\"userSourcedId\":\"u-t1021\",\"orgSourcedId\":\"s-102\",\"role\":"
			  "\"teacher\",\"sessionSourcedId\":\"y-2025\",\"isPrimary\":true,";
	tap_ok(g.out && !strncmp(g.out, two, strlen(two)),
	       "a user with two roles, one primary: FALSE/TRUE are booleans");
	tap_ok(!strncmp(g.keys, "u-t1021\x1fs-101\x1fteacher\n", 22), "a role's key is user, org, role");
	got_free(&g);

	fixture(&g, "sds", "sds", "users.csv");
	TAP_EQ_INT(g.rc, 0, "users.csv reads");
	TAP_EQ_INT(g.st.records, 7, "7 users");
	expect_record(&g, "{\"sourcedId\":\"u-t1021\"",
		      "{\"sourcedId\":\"u-t1021\",\"username\":\"abello@mapleridge.example\","
		      "\"givenName\":\"Aisha\",\"familyName\":\"Bello\",\"email\":"
		      "\"abello@mapleridge.example\",\"phone\":\"(555) 013-9912\"}",
		      "a user: flat, named as the SDS headers");
	expect_absent(&g, "Treble-Clef-1021", "an SDS password");
	expect_absent(&g, "Harbor-Lamp-8423", "another SDS password");
	got_free(&g);

	fixture(&g, "sds", "sds", "classes.csv");
	TAP_EQ_INT(g.rc, 0, "classes.csv reads");
	expect_record(&g, "{\"sourcedId\":\"k-105\"",
		      "{\"sourcedId\":\"k-105\",\"orgSourcedId\":\"s-201\",\"title\":"
		      "\"Life Science 7 - Osei - P3\",\"sessionSourcedIds\":[\"t-2025-s1\","
		      "\"y-2025\"],\"courseSourcedId\":\"c-sci700\"}",
		      "a class: sessionSourcedIds as a list");
	got_free(&g);

	const char *rest[] = {"orgs.csv", "academicSessions.csv", "courses.csv", "enrollments.csv"};
	const long counts[] = {4, 2, 2, 4};
	for (int k = 0; k < 4; k++) {
		fixture(&g, "sds", "sds", rest[k]);
		tap_ok(!g.rc && g.st.records == counts[k] && !g.st.unknown_columns, "%s: %ld records",
		       rest[k], counts[k]);
		got_free(&g);
	}
	fixture(&g, "sds", "sds", "academicSessions.csv");
	expect_record(&g, "{\"sourcedId\":\"y-2025\"",
		      "{\"sourcedId\":\"y-2025\",\"title\":\"2024-2025\",\"type\":\"schoolYear\","
		      "\"schoolYear\":\"2025\",\"startDate\":\"2024-08-26\",\"endDate\":"
		      "\"2025-06-13\"}",
		      "a session");
	got_free(&g);
}

/* Which files a bundle must have: Clever's staff.csv and SDS's files
 * past orgs, users and roles may be left out; OneRoster's manifest
 * decides, so its table marks none required. None is an increment. */
static void test_required_files(void)
{
	static const struct {
		const char *profile, *file;
		int optional;
	} want[] = {
		{"clever", "schools.csv", 0},		{"clever", "students.csv", 0},
		{"clever", "teachers.csv", 0},		{"clever", "staff.csv", 1},
		{"clever", "sections.csv", 0},		{"clever", "enrollments.csv", 0},
		{"sds", "orgs.csv", 0},			{"sds", "users.csv", 0},
		{"sds", "roles.csv", 0},		{"sds", "academicSessions.csv", 1},
		{"sds", "courses.csv", 1},		{"sds", "classes.csv", 1},
		{"sds", "enrollments.csv", 1},		{"oneroster", "orgs.csv", 1},
		{"oneroster", "academicSessions.csv", 1}, {"oneroster", "courses.csv", 1},
		{"oneroster", "classes.csv", 1},	{"oneroster", "users.csv", 1},
		{"oneroster", "enrollments.csv", 1},
	};
	int ok = 1;
	for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
		const struct drop_file *f =
			drop_file_for(vendor_drop_profile(want[i].profile, NULL), want[i].file);
		if (!f || f->optional != want[i].optional || f->days_path) {
			tap_diag("  %s %s: optional %d, want %d", want[i].profile, want[i].file,
				 f ? f->optional : -1, want[i].optional);
			ok = 0;
		}
	}
	tap_ok(ok, "bundles: Clever needs all but staff.csv; SDS needs orgs, users, roles; "
		   "OneRoster's files are all left to the manifest");
	tap_ok(!vendor_drop_profile("clever", NULL)->increments && !vendor_drop_profile("sds", NULL)->increments &&
		       !vendor_drop_profile("oneroster", NULL)->increments,
	       "bundles are whole snapshots, not increments");
}

int main(void)
{
	test_required_files();
	test_clever_profile();
	test_clever_schools();
	test_clever_students();
	test_clever_teachers_staff();
	test_clever_sections();
	test_clever_extra_field();
	test_oneroster_profile();
	test_oneroster_orgs();
	test_oneroster_users();
	test_oneroster_classes();
	test_oneroster_vectors();
	test_sds();
	return tap_done();
}
