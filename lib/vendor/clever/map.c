/* Clever v3.0 -> canonical streams: all of normalize's Clever knowledge.
 * Which Clever field feeds which canonical field is in the tables; code
 * holds only what a table cannot say (a user's role, a section's
 * memberships). Record shapes: the vendor reference, section 3.4, and
 * tests/vectors/clever. Every RECORD's record is Clever's inner "data". */
#include "engine/mapping.h"
#include "vendor/clever/clever.h"

#include <string.h>

/* A user's role, as the tables' "when" bits (engine/mapping.h). */
enum {
	CW_STUDENT = 1,
	CW_TEACHER = 2,
	CW_STAFF = 4,
	CW_STAFF_SIDE = 8, /* any role but student: teacher, staff, district admin */
};

/* The reason for a value of the wrong JSON type: Clever's own, counted
 * apart from the other sources' (the same text). */
static const char wrong_type[] = "field values of an unexpected JSON type (ignored)";

/* A Clever record's rows; a user's read its role object (roles.<role>,
 * where Clever keeps ids, credentials and schools) as the base token. */
#define AT(rec, role_tok, flags) (&(const struct map_at){(rec), (role_tok), (flags), wrong_type})

static const struct map_field people_map[] = {
	CONST("status", "active"), /* Clever lists only active users */
	STR("given_name", "name.first"),
	STR("middle_name", "name.middle"),
	STR("family_name", "name.last"),
	STR("email", "email"),
	ROLE("username", MK_STR, 0, "credentials.district_username"),
	ROLE("employee_id", MK_STR, CW_TEACHER, "teacher_number"),
	ROLE("employee_id", MK_STR, CW_STAFF, "staff_id"),
	ROLE("sis_id", MK_STR, 0, "sis_id"),
	ROLE("state_id", MK_STR, 0, "state_id"),
	ROLE("student_number", MK_STR, CW_STUDENT, "student_number"),
	ROLE("grade", MK_STR, CW_STUDENT, "grade"),
	ROLE("org_ids", MK_LIST, 0, "schools"),
	ROLE("org_ids", MK_ONE, 0, "school"), /* records that predate schools[] */
	ROLE("job_title", MK_STR, CW_STAFF_SIDE, "title"),
	ROLE("department", MK_STR, CW_STAFF, "department"),
	STR("updated_at", "last_modified"),
	END,
};

static const struct map_field orgs_map[] = {
	CONST("type", "school"),
	STR("name", "name"),
	STR("identifier", "school_number"),
	STR("parent_id", "district"),
	END,
};

static const struct map_field groups_map[] = {
	CONST("type", "section"),
	STR("name", "name"),
	STR("org_id", "school"),
	STR("course", "course"),
	STR("term_id", "term_id"),
	STR("subject", "subject"),
	ONE("grades", "grade"),
	END,
};

static const struct map_field sessions_map[] = {
	CONST("type", "term"),
	STR("name", "name"),
	STR("start_date", "start_date"),
	STR("end_date", "end_date"),
	END,
};

/* A user with several roles (Clever allows a teacher who is also staff)
 * becomes one person with the first role here that it has: the most
 * privileged staff-side role, as the one that grants the widest access
 * downstream. Fields then come from that role's object only. A user whose
 * only role is contact (a guardian) is left out: guardians are not among
 * the canonical roles. */
static const struct {
	const char *key, *role;
	unsigned flags; /* the when bits of the role */
} user_roles[] = {
	{"district_admin", "administrator", CW_STAFF_SIDE},
	{"staff", "staff", CW_STAFF | CW_STAFF_SIDE},
	{"teacher", "teacher", CW_TEACHER | CW_STAFF_SIDE},
	{"student", "student", CW_STUDENT},
};

static int map_simple(struct jscan *js, int rec, struct map_ctx *ctx, struct map_sink *out,
		      char *why, size_t whylen, int feed, const struct map_field *rows)
{
	int id = map_id(js, rec, "id", why, whylen);
	if (id < 0)
		return MAP_BAD;
	return map_end(out, map_begin(ctx, js, out, feed, "clever", id, NULL, rows, AT(rec, -1, 0)));
}

MAPPER(map_user)
{
	/* Clever needs no state from one record to the next */
	int id = map_id(js, rec, "id", why, whylen);
	if (id < 0)
		return MAP_BAD;
	int roles = jscan_get(js, rec, "roles", 5);
	for (size_t i = 0; i < sizeof user_roles / sizeof user_roles[0]; i++) {
		int r = jscan_get(js, roles, user_roles[i].key, strlen(user_roles[i].key));
		if (r < 0 || js->tok[r].type != JSCAN_OBJECT)
			continue;
		struct buf *b = out->begin(out, 0);
		if (!b || map_head(js, b, "clever", id) ||
		    map_put_const(b, "role", user_roles[i].role) ||
		    map_put_fields(ctx, js, out, b, people_map, AT(rec, r, user_roles[i].flags)))
			return MAP_FAIL;
		return map_end(out, b);
	}
	if (jscan_get(js, roles, "contact", 7) >= 0)
		out->left_out(out, "contact-only users (guardians have no canonical role)", 0);
	else
		out->left_out(out, "users without a student, teacher, staff or district_admin role", 1);
	return MAP_OK;
}

enum { GROUPS, MEMBERSHIPS }; /* clever_sections feeds, in order */

static int membership(struct jscan *js, struct map_sink *out, int group, int person,
		      const char *role)
{
	const struct jtok *p = &js->tok[person];
	if (p->type != JSCAN_STRING || p->start == p->end) {
		out->left_out(out, "section members whose id is not a non-empty string", 1);
		return 0;
	}
	return map_put_member(js, out, MEMBERSHIPS, "clever", group, person, role);
}

/* The members of an array field, or -1 with a note when it is not one. */
static int member_array(struct jscan *js, struct map_sink *out, int rec, const char *key)
{
	int a = jscan_get(js, rec, key, strlen(key));
	if (a >= 0 && js->tok[a].type != JSCAN_ARRAY) {
		if (js->tok[a].type != JSCAN_NULL)
			out->left_out(out, wrong_type, 1);
		return -1;
	}
	return a;
}

/* A section is a group; its teachers[] (co-teachers included), its primary
 * teacher when teachers[] lacks it, and its students[] are memberships. */
MAPPER(map_section)
{
	int id = map_id(js, rec, "id", why, whylen);
	if (id < 0)
		return MAP_BAD;
	if (map_end(out, map_begin(ctx, js, out, GROUPS, "clever", id, NULL, groups_map,
				   AT(rec, -1, 0))))
		return MAP_FAIL;

	int primary = jscan_get(js, rec, "teacher", 7);
	int listed = 0;
	int teachers = member_array(js, out, rec, "teachers");
	int students = member_array(js, out, rec, "students");
	for (int k = 0, v = teachers + 1; teachers >= 0 && k < js->tok[teachers].size;
	     k++, v = js->tok[v].next) {
		if (primary >= 0 && jscan_tokeq(js, primary, v))
			listed = 1;
		if (membership(js, out, id, v, "teacher"))
			return MAP_FAIL;
	}
	/* "teacher": "" or null means the section has no primary teacher */
	if (primary >= 0 && !listed && js->tok[primary].type != JSCAN_NULL &&
	    !(js->tok[primary].type == JSCAN_STRING && js->tok[primary].start == js->tok[primary].end) &&
	    membership(js, out, id, primary, "teacher"))
		return MAP_FAIL;
	for (int k = 0, v = students + 1; students >= 0 && k < js->tok[students].size;
	     k++, v = js->tok[v].next)
		if (membership(js, out, id, v, "student"))
			return MAP_FAIL;
	return MAP_OK;
}

MAPPER(map_school)
{
	return map_simple(js, rec, ctx, out, why, whylen, 0, orgs_map);
}

MAPPER(map_term)
{
	return map_simple(js, rec, ctx, out, why, whylen, 0, sessions_map);
}

/* An enrollments.csv row of a Clever SFTP drop (lib/vendor/clever/drop.c): one
 * student in one section. The API gives the same as a section's students[]. */
MAPPER(map_enrollment)
{
	(void)ctx;
	int section = map_id(js, rec, "section", why, whylen);
	int student = section < 0 ? -1 : map_id(js, rec, "student", why, whylen);
	if (student < 0)
		return MAP_BAD;
	return map_put_member(js, out, 0, "clever", section, student, "student");
}

const struct mapper map_clever[] = {
	{"clever_users", {"people", NULL}, map_user},
	{"clever_schools", {"orgs", NULL}, map_school},
	{"clever_sections", {"groups", "memberships", NULL}, map_section},
	{"clever_terms", {"sessions", NULL}, map_term},
	{"clever_enrollments", {"memberships", NULL}, map_enrollment},
	{NULL, {NULL}, NULL},
};
