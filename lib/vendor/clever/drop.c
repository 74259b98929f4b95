/* Clever SFTP drop (spec v2.x): the CSVs a district uploads to Clever,
 * read into the raw streams extract-clever gives, in the shapes of
 * Clever's API v3.0 inner "data" records (as in fixtures/clever), so
 * lib/vendor/clever/map.c maps both. The file's id columns (School_id,
 * Student_id, ...) are the district's SIS ids: they become the record's
 * "id" and its sis_id (staff_id for staff), since the CSV has no Clever
 * ids. A teacher listed once per school gives a record per row, each
 * with its one school (a row has no list of schools).
 *
 * Personal data the canonical model has no field for (date of birth,
 * gender, race, ethnicity, home language, ELL/FRL/IEP status, addresses,
 * contacts) is declared sensitive, like passwords: it is dropped at read
 * time and never carried into any stream, log or file.
 *
 * students.csv, teachers.csv and staff.csv all feed clever_users: they
 * are consecutive entries with the same stream, which the ingest emits as
 * ONE stream, complete only when all three files were read. */
#include "engine/drop.h"
#include "vendor/clever/clever.h"

#include <stddef.h>

#define COL(h, p, t, fl) {h, p, t, fl, 0, 0}
#define STR(h, p) COL(h, p, DT_STR, 0)
#define REQ(h, p) COL(h, p, DT_STR, DC_REQUIRED)
#define GONE(h) COL(h, NULL, DT_STR, DC_SENSITIVE)
#define END COL(NULL, NULL, DT_STR, 0)

static const char *const k_id[] = {"id", NULL};
static const char *const k_enroll[] = {"section", "student", NULL};

static const struct drop_col schools[] = {
	COL("School_id", "id", DT_STR, DC_REQUIRED | DC_KEY),
	REQ("School_name", "name"),
	REQ("School_number", "school_number"),
	STR("School_id", "sis_id"),
	STR("State_id", "state_id"),
	STR("Low_grade", "low_grade"),
	STR("High_grade", "high_grade"),
	STR("Principal", "principal.name"),
	STR("Principal_email", "principal.email"),
	STR("School_address", "location.address"),
	STR("School_city", "location.city"),
	STR("School_state", "location.state"),
	STR("School_zip", "location.zip"),
	STR("School_phone", "phone"),
	END,
};

/* Columns are in the order of the record's fields, each object's fields
 * together, so the engine can write them in one pass. */
static const struct drop_col students[] = {
	COL("Student_id", "id", DT_STR, DC_REQUIRED | DC_KEY),
	REQ("First_name", "name.first"),
	STR("Middle_name", "name.middle"),
	REQ("Last_name", "name.last"),
	STR("Student_email", "email"),
	REQ("School_id", "roles.student.school"),
	COL("School_id", "roles.student.schools", DT_ONE, DC_REQUIRED),
	STR("Student_id", "roles.student.sis_id"),
	STR("Student_number", "roles.student.student_number"),
	STR("State_id", "roles.student.state_id"),
	STR("Grade", "roles.student.grade"),
	STR("Graduation_year", "roles.student.graduation_year"),
	STR("Username", "roles.student.credentials.district_username"),
	GONE("Password"),
	GONE("DOB"),
	GONE("Gender"),
	GONE("Race"),
	GONE("Hispanic_Latino"),
	GONE("Home_language"),
	GONE("Ell_status"),
	GONE("Frl_status"),
	GONE("IEP_status"),
	GONE("Student_street"),
	GONE("Student_city"),
	GONE("Student_state"),
	GONE("Student_zip"),
	GONE("Contact_name"),
	GONE("Contact_relationship"),
	GONE("Contact_type"),
	GONE("Contact_email"),
	GONE("Contact_phone"),
	GONE("Contact_sis_id"),
	END,
};

static const struct drop_col teachers[] = {
	COL("Teacher_id", "id", DT_STR, DC_REQUIRED | DC_KEY),
	REQ("First_name", "name.first"),
	STR("Middle_name", "name.middle"),
	REQ("Last_name", "name.last"),
	STR("Teacher_email", "email"),
	REQ("School_id", "roles.teacher.school"),
	COL("School_id", "roles.teacher.schools", DT_ONE, DC_REQUIRED),
	STR("Teacher_id", "roles.teacher.sis_id"),
	STR("Teacher_number", "roles.teacher.teacher_number"),
	STR("State_teacher_id", "roles.teacher.state_id"),
	STR("Title", "roles.teacher.title"),
	STR("Username", "roles.teacher.credentials.district_username"),
	GONE("Password"),
	END,
};

/* Clever's API puts the district's staff id in staff_id (and has no
 * sis_id or single school for staff). */
static const struct drop_col staff[] = {
	COL("Staff_id", "id", DT_STR, DC_REQUIRED | DC_KEY),
	STR("First_name", "name.first"),
	STR("Last_name", "name.last"),
	REQ("Staff_email", "email"),
	COL("School_id", "roles.staff.schools", DT_ONE, DC_REQUIRED),
	STR("Staff_id", "roles.staff.staff_id"),
	STR("Department", "roles.staff.department"),
	STR("Title", "roles.staff.title"),
	COL("Role", "roles.staff.roles", DT_ONE, 0),
	STR("Username", "roles.staff.credentials.district_username"),
	GONE("Password"),
	END,
};

/* Teacher_id is the primary teacher and the first of teachers[]; the
 * co-teacher columns append to teachers[] in this order (empty cells add
 * nothing). */
static const struct drop_col sections[] = {
	COL("Section_id", "id", DT_STR, DC_REQUIRED | DC_KEY),
	STR("Section_id", "sis_id"),
	REQ("School_id", "school"),
	STR("Name", "name"),
	STR("Section_number", "section_number"),
	STR("Course_number", "course"),
	STR("Course_name", "course_name"),
	STR("Course_description", "course_description"),
	STR("Subject", "subject"),
	STR("Grade", "grade"),
	STR("Period", "period"),
	STR("Term_name", "term.name"),
	COL("Term_start", "term.start_date", DT_DATE, 0),
	COL("Term_end", "term.end_date", DT_DATE, 0),
	REQ("Teacher_id", "teacher"),
	COL("Teacher_id", "teachers", DT_ONE, DC_REQUIRED),
	COL("Teacher_2_id", "teachers", DT_ONE, 0),
	COL("Teacher_3_id", "teachers", DT_ONE, 0),
	COL("Teacher_4_id", "teachers", DT_ONE, 0),
	COL("Teacher_5_id", "teachers", DT_ONE, 0),
	COL("Teacher_6_id", "teachers", DT_ONE, 0),
	COL("Teacher_7_id", "teachers", DT_ONE, 0),
	COL("Teacher_8_id", "teachers", DT_ONE, 0),
	COL("Teacher_9_id", "teachers", DT_ONE, 0),
	COL("Teacher_10_id", "teachers", DT_ONE, 0),
	END,
};

static const struct drop_col enrollments[] = {
	COL("Section_id", "section", DT_STR, DC_REQUIRED | DC_KEY),
	COL("Student_id", "student", DT_STR, DC_REQUIRED | DC_KEY),
	REQ("School_id", "school"),
	END,
};

/* (School_id is required, so every user has its role object.) */
/* opt: the bundle may lack the file (staff.csv: districts without staff
 * accounts leave it out); the others are required. */
#define DFILE(n, s, k, c, opt) {.name = n, .stream = s, .keys = k, .cols = c, .optional = opt}

static const struct drop_file files[] = {
	DFILE("schools.csv", "clever_schools", k_id, schools, 0),
	DFILE("students.csv", "clever_users", k_id, students, 0),
	DFILE("teachers.csv", "clever_users", k_id, teachers, 0),
	DFILE("staff.csv", "clever_users", k_id, staff, 1),
	DFILE("sections.csv", "clever_sections", k_id, sections, 0),
	DFILE("enrollments.csv", "clever_enrollments", k_enroll, enrollments, 0),
	{.name = NULL},
};

const struct drop_profile drop_clever = {
	.name = "clever",
	.about = "Clever SFTP CSVs: schools, students, teachers, staff, sections, enrollments",
	.files = files,
	.manifest = NULL,
	.increments = 0,
};
