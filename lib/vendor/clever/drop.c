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

static const char *const k_id[] = {"id", NULL};
static const char *const k_enroll[] = {"section", "student", NULL};

static const struct drop_col schools[] = {
	COL("School_id", "id", DT_STR, DC_REQUIRED | DC_KEY),
	COL_REQ("School_name", "name"),
	COL_REQ("School_number", "school_number"),
	COL_STR("School_id", "sis_id"),
	COL_STR("State_id", "state_id"),
	COL_STR("Low_grade", "low_grade"),
	COL_STR("High_grade", "high_grade"),
	COL_STR("Principal", "principal.name"),
	COL_STR("Principal_email", "principal.email"),
	COL_STR("School_address", "location.address"),
	COL_STR("School_city", "location.city"),
	COL_STR("School_state", "location.state"),
	COL_STR("School_zip", "location.zip"),
	COL_STR("School_phone", "phone"),
	COL_END,
};

/* Columns are in the order of the record's fields, each object's fields
 * together, so the engine can write them in one pass. */
static const struct drop_col students[] = {
	COL("Student_id", "id", DT_STR, DC_REQUIRED | DC_KEY),
	COL_REQ("First_name", "name.first"),
	COL_STR("Middle_name", "name.middle"),
	COL_REQ("Last_name", "name.last"),
	COL_STR("Student_email", "email"),
	COL_REQ("School_id", "roles.student.school"),
	COL("School_id", "roles.student.schools", DT_ONE, DC_REQUIRED),
	COL_STR("Student_id", "roles.student.sis_id"),
	COL_STR("Student_number", "roles.student.student_number"),
	COL_STR("State_id", "roles.student.state_id"),
	COL_STR("Grade", "roles.student.grade"),
	COL_STR("Graduation_year", "roles.student.graduation_year"),
	COL_STR("Username", "roles.student.credentials.district_username"),
	COL_GONE("Password"),
	COL_GONE("DOB"),
	COL_GONE("Gender"),
	COL_GONE("Race"),
	COL_GONE("Hispanic_Latino"),
	COL_GONE("Home_language"),
	COL_GONE("Ell_status"),
	COL_GONE("Frl_status"),
	COL_GONE("IEP_status"),
	COL_GONE("Student_street"),
	COL_GONE("Student_city"),
	COL_GONE("Student_state"),
	COL_GONE("Student_zip"),
	COL_GONE("Contact_name"),
	COL_GONE("Contact_relationship"),
	COL_GONE("Contact_type"),
	COL_GONE("Contact_email"),
	COL_GONE("Contact_phone"),
	COL_GONE("Contact_sis_id"),
	COL_END,
};

static const struct drop_col teachers[] = {
	COL("Teacher_id", "id", DT_STR, DC_REQUIRED | DC_KEY),
	COL_REQ("First_name", "name.first"),
	COL_STR("Middle_name", "name.middle"),
	COL_REQ("Last_name", "name.last"),
	COL_STR("Teacher_email", "email"),
	COL_REQ("School_id", "roles.teacher.school"),
	COL("School_id", "roles.teacher.schools", DT_ONE, DC_REQUIRED),
	COL_STR("Teacher_id", "roles.teacher.sis_id"),
	COL_STR("Teacher_number", "roles.teacher.teacher_number"),
	COL_STR("State_teacher_id", "roles.teacher.state_id"),
	COL_STR("Title", "roles.teacher.title"),
	COL_STR("Username", "roles.teacher.credentials.district_username"),
	COL_GONE("Password"),
	COL_END,
};

/* Clever's API puts the district's staff id in staff_id (and has no
 * sis_id or single school for staff). */
static const struct drop_col staff[] = {
	COL("Staff_id", "id", DT_STR, DC_REQUIRED | DC_KEY),
	COL_STR("First_name", "name.first"),
	COL_STR("Last_name", "name.last"),
	COL_REQ("Staff_email", "email"),
	COL("School_id", "roles.staff.schools", DT_ONE, DC_REQUIRED),
	COL_STR("Staff_id", "roles.staff.staff_id"),
	COL_STR("Department", "roles.staff.department"),
	COL_STR("Title", "roles.staff.title"),
	COL("Role", "roles.staff.roles", DT_ONE, 0),
	COL_STR("Username", "roles.staff.credentials.district_username"),
	COL_GONE("Password"),
	COL_END,
};

/* Teacher_id is the primary teacher and the first of teachers[]; the
 * co-teacher columns append to teachers[] in this order (empty cells add
 * nothing). */
static const struct drop_col sections[] = {
	COL("Section_id", "id", DT_STR, DC_REQUIRED | DC_KEY),
	COL_STR("Section_id", "sis_id"),
	COL_REQ("School_id", "school"),
	COL_STR("Name", "name"),
	COL_STR("Section_number", "section_number"),
	COL_STR("Course_number", "course"),
	COL_STR("Course_name", "course_name"),
	COL_STR("Course_description", "course_description"),
	COL_STR("Subject", "subject"),
	COL_STR("Grade", "grade"),
	COL_STR("Period", "period"),
	COL_STR("Term_name", "term.name"),
	COL("Term_start", "term.start_date", DT_DATE, 0),
	COL("Term_end", "term.end_date", DT_DATE, 0),
	COL_REQ("Teacher_id", "teacher"),
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
	COL_END,
};

static const struct drop_col enrollments[] = {
	COL("Section_id", "section", DT_STR, DC_REQUIRED | DC_KEY),
	COL("Student_id", "student", DT_STR, DC_REQUIRED | DC_KEY),
	COL_REQ("School_id", "school"),
	COL_END,
};

/* (School_id is required, so every user has its role object.) */
/* The bundle may lack staff.csv (districts without staff accounts leave
 * it out); the others are required. */
static const struct drop_file files[] = {
	DFILE("schools.csv", "clever_schools", k_id, schools, 0),
	DFILE("students.csv", "clever_users", k_id, students, 0),
	DFILE("teachers.csv", "clever_users", k_id, teachers, 0),
	DFILE("staff.csv", "clever_users", k_id, staff, 1),
	DFILE("sections.csv", "clever_sections", k_id, sections, 0),
	DFILE("enrollments.csv", "clever_enrollments", k_enroll, enrollments, 0),
	DFILE_END,
};

const struct drop_profile drop_clever = {
	.name = "clever",
	.about = "Clever SFTP CSVs: schools, students, teachers, staff, sections, enrollments",
	.files = files,
	.manifest = NULL,
	.increments = 0,
};
