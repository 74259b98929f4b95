/* Clever v3.0 -> canonical streams: all of normalize's Clever knowledge.
 * Which Clever field feeds which canonical field is in the tables; code
 * holds only what a table cannot say (a user's role, a section's
 * memberships). Record shapes: the vendor reference, section 3.4, and
 * tests/vectors/clever. Every RECORD's record is Clever's inner "data". */
#include "format/jsonw.h"
#include "engine/mapping.h"
#include "vendor/clever/clever.h"

#include <stdio.h>
#include <string.h>

enum kind {
	K_CONST, /* the path is the value itself */
	K_STR,   /* a string (a number or boolean becomes its text) */
	K_LIST,  /* an array of strings */
	K_ONE,   /* one string, written as a list of it ("" gives []) */
};

/* Where a path starts: the record, or a user's chosen role object
 * (roles.<role>, where Clever keeps ids, credentials and schools). */
enum { FROM_RECORD, FROM_ROLE };

/* User roles, as bits for the tables' roles column. */
enum { R_STUDENT = 1, R_TEACHER = 2, R_STAFF = 4, R_ADMIN = 8, R_ANY = 15 };

/* One canonical field. Consecutive rows for the same field are
 * alternatives: the first that has a value wins. A value that is absent
 * or null leaves the field out (unknown); "" stays "" (empty). */
struct field_map {
	const char *field;
	enum kind kind;
	unsigned char from;
	unsigned char roles; /* users only: the roles the row applies to; 0 = any */
	const char *path;
};

#define CONST(f, v) {f, K_CONST, FROM_RECORD, 0, v}
#define STR(f, p) {f, K_STR, FROM_RECORD, 0, p}
#define ONE(f, p) {f, K_ONE, FROM_RECORD, 0, p}
#define ROLE(f, k, r, p) {f, k, FROM_ROLE, r, p}
#define END {NULL, K_CONST, 0, 0, NULL}

static const struct field_map people_map[] = {
	CONST("status", "active"), /* Clever lists only active users */
	STR("given_name", "name.first"),
	STR("middle_name", "name.middle"),
	STR("family_name", "name.last"),
	STR("email", "email"),
	ROLE("username", K_STR, R_ANY, "credentials.district_username"),
	ROLE("employee_id", K_STR, R_TEACHER, "teacher_number"),
	ROLE("employee_id", K_STR, R_STAFF, "staff_id"),
	ROLE("sis_id", K_STR, R_ANY, "sis_id"),
	ROLE("state_id", K_STR, R_ANY, "state_id"),
	ROLE("student_number", K_STR, R_STUDENT, "student_number"),
	ROLE("grade", K_STR, R_STUDENT, "grade"),
	ROLE("org_ids", K_LIST, R_ANY, "schools"),
	ROLE("org_ids", K_ONE, R_ANY, "school"), /* records that predate schools[] */
	ROLE("job_title", K_STR, R_TEACHER | R_STAFF | R_ADMIN, "title"),
	ROLE("department", K_STR, R_STAFF, "department"),
	STR("updated_at", "last_modified"),
	END,
};

static const struct field_map orgs_map[] = {
	CONST("type", "school"),
	STR("name", "name"),
	STR("identifier", "school_number"),
	STR("parent_id", "district"),
	END,
};

static const struct field_map groups_map[] = {
	CONST("type", "section"),
	STR("name", "name"),
	STR("org_id", "school"),
	STR("course", "course"),
	STR("term_id", "term_id"),
	STR("subject", "subject"),
	ONE("grades", "grade"),
	END,
};

static const struct field_map sessions_map[] = {
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
	unsigned char bit;
} user_roles[] = {
	{"district_admin", "administrator", R_ADMIN},
	{"staff", "staff", R_STAFF},
	{"teacher", "teacher", R_TEACHER},
	{"student", "student", R_STUDENT},
};

static const char wrong_type[] = "field values of an unexpected JSON type (ignored)";

static int put_key(struct buf *b, const char *field)
{
	size_t n = strlen(field);
	if (buf_reserve(b, n + 4))
		return -1;
	b->data[b->len++] = ',';
	b->data[b->len++] = '"';
	memcpy(b->data + b->len, field, n);
	b->len += n;
	b->data[b->len++] = '"';
	b->data[b->len++] = ':';
	b->data[b->len] = 0;
	return 0;
}

/* Writes value token v as kind. 0; 1 when v has a type the kind cannot
 * take (nothing useful written, the caller rolls back); -1 buf full. */
static int put_value(struct jscan *js, struct map_sink *out, enum kind kind, int v, struct buf *b)
{
	const struct jtok *t = &js->tok[v];
	if (kind == K_STR)
		return jscan_put_string(js, v, b);
	if (kind == K_ONE) {
		if (t->type == JSCAN_STRING && t->start == t->end)
			return buf_adds(b, "[]");
		if (buf_addc(b, '['))
			return -1;
		int rc = jscan_put_string(js, v, b);
		return rc ? rc : buf_addc(b, ']');
	}
	if (t->type != JSCAN_ARRAY)
		return 1;
	int first = 1, rc = buf_addc(b, '[');
	for (int k = 0, e = v + 1; k < t->size && !rc; k++, e = js->tok[e].next) {
		if (js->tok[e].type == JSCAN_NULL)
			continue;
		size_t mark = b->len;
		if (!first && buf_addc(b, ','))
			return -1;
		int r = jscan_put_string(js, e, b);
		if (r > 0) {
			b->len = mark;
			b->data[mark] = 0;
			out->left_out(out, wrong_type, 1);
			continue;
		}
		rc = r;
		first = 0;
	}
	return rc ? rc : buf_addc(b, ']');
}

/* Appends ,"field":value for every row that applies and has a value. */
static int map_fields(struct jscan *js, struct map_sink *out, struct buf *b,
		      const struct field_map *rows, int rec, int role_tok, unsigned role)
{
	const char *done = NULL; /* the field last written: its alternatives are skipped */
	for (const struct field_map *r = rows; r->field; r++) {
		if ((done && !strcmp(done, r->field)) || (r->roles && !(r->roles & role)))
			continue;
		if (r->kind == K_CONST) {
			if (put_key(b, r->field) || jsonw_str(b, r->path))
				return -1;
			done = r->field;
			continue;
		}
		int v = jscan_path(js, r->from == FROM_ROLE ? role_tok : rec, r->path);
		if (v < 0 || js->tok[v].type == JSCAN_NULL)
			continue;
		size_t mark = b->len;
		if (put_key(b, r->field))
			return -1;
		int rc = put_value(js, out, r->kind, v, b);
		if (rc < 0)
			return -1;
		if (rc > 0) {
			b->len = mark;
			b->data[mark] = 0;
			out->left_out(out, wrong_type, 1);
			continue;
		}
		done = r->field;
	}
	return 0;
}

/* The record's id, which every canonical record needs as source_id. */
static int record_id(struct jscan *js, int rec, char *why, size_t n)
{
	int id = jscan_get(js, rec, "id", 2);
	if (id < 0 || js->tok[id].type != JSCAN_STRING || js->tok[id].start == js->tok[id].end) {
		snprintf(why, n, "%s", id < 0 ? "it has no \"id\"" : "its \"id\" is not a non-empty string");
		return -1;
	}
	return id;
}

/* {"source":"clever","source_id":ID  (the caller closes the object) */
static int head(struct jscan *js, struct buf *b, int id)
{
	return buf_adds(b, "{\"source\":\"clever\",\"source_id\":") || jscan_put_string(js, id, b);
}

static int map_simple(struct jscan *js, int rec, struct map_sink *out, char *why, size_t n,
		      const struct field_map *rows)
{
	int id = record_id(js, rec, why, n);
	if (id < 0)
		return MAP_BAD;
	struct buf *b = out->begin(out, 0);
	if (!b || head(js, b, id) || map_fields(js, out, b, rows, rec, -1, 0) || buf_addc(b, '}') ||
	    out->end(out))
		return MAP_FAIL;
	return MAP_OK;
}

static int map_user(struct jscan *js, int rec, struct map_ctx *ctx,
		    struct map_sink *out, char *why, size_t n)
{
	(void)ctx; /* Clever needs no state from one record to the next */
	int id = record_id(js, rec, why, n);
	if (id < 0)
		return MAP_BAD;
	int roles = jscan_get(js, rec, "roles", 5);
	for (size_t i = 0; i < sizeof user_roles / sizeof user_roles[0]; i++) {
		int r = jscan_get(js, roles, user_roles[i].key, strlen(user_roles[i].key));
		if (r < 0 || js->tok[r].type != JSCAN_OBJECT)
			continue;
		struct buf *b = out->begin(out, 0);
		if (!b || head(js, b, id) || buf_adds(b, ",\"role\":") ||
		    jsonw_str(b, user_roles[i].role) ||
		    map_fields(js, out, b, people_map, rec, r, user_roles[i].bit) ||
		    buf_addc(b, '}') || out->end(out))
			return MAP_FAIL;
		return MAP_OK;
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
	struct buf *b = out->begin(out, MEMBERSHIPS);
	if (!b || buf_adds(b, "{\"source\":\"clever\",\"group_id\":") ||
	    jscan_put_string(js, group, b) || buf_adds(b, ",\"person_id\":") ||
	    jscan_put_string(js, person, b) || buf_adds(b, ",\"role\":") || jsonw_str(b, role) ||
	    buf_addc(b, '}'))
		return -1;
	return out->end(out);
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
static int map_section(struct jscan *js, int rec, struct map_ctx *ctx,
		       struct map_sink *out, char *why, size_t n)
{
	(void)ctx;
	int id = record_id(js, rec, why, n);
	if (id < 0)
		return MAP_BAD;
	struct buf *b = out->begin(out, GROUPS);
	if (!b || head(js, b, id) || map_fields(js, out, b, groups_map, rec, -1, 0) ||
	    buf_addc(b, '}') || out->end(out))
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

static int map_school(struct jscan *js, int rec, struct map_ctx *ctx,
		      struct map_sink *out, char *why, size_t n)
{
	(void)ctx;
	return map_simple(js, rec, out, why, n, orgs_map);
}

static int map_term(struct jscan *js, int rec, struct map_ctx *ctx,
		    struct map_sink *out, char *why, size_t n)
{
	(void)ctx;
	return map_simple(js, rec, out, why, n, sessions_map);
}

/* An enrollments.csv row of a Clever SFTP drop (lib/vendor/clever/drop.c): one
 * student in one section. The API gives the same as a section's students[]. */
static int map_enrollment(struct jscan *js, int rec, struct map_ctx *ctx,
			  struct map_sink *out, char *why, size_t n)
{
	(void)ctx;
	int section = map_id(js, rec, "section", why, n);
	int student = section < 0 ? -1 : map_id(js, rec, "student", why, n);
	if (student < 0)
		return MAP_BAD;
	struct buf *b = out->begin(out, 0);
	if (!b || buf_adds(b, "{\"source\":\"clever\",\"group_id\":") ||
	    jscan_put_string(js, section, b) || buf_adds(b, ",\"person_id\":") ||
	    jscan_put_string(js, student, b) || buf_adds(b, ",\"role\":\"student\"}") ||
	    out->end(out))
		return MAP_FAIL;
	return MAP_OK;
}

const struct mapper map_clever[] = {
	{"clever_users", {"people", NULL}, map_user},
	{"clever_schools", {"orgs", NULL}, map_school},
	{"clever_sections", {"groups", "memberships", NULL}, map_section},
	{"clever_terms", {"sessions", NULL}, map_term},
	{"clever_enrollments", {"memberships", NULL}, map_enrollment},
	{NULL, {NULL}, NULL},
};
