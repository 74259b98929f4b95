/* OneRoster 1.1 -> canonical streams: all of normalize's OneRoster
 * knowledge. Records have the OneRoster 1.1 REST JSON shapes (a CSV
 * bundle is read into the same by lib/vendor/oneroster/drop.c): references are
 * {"sourcedId": id} objects, lists are arrays.
 *
 * Decisions the specification leaves to the reader:
 * - status "tobedeleted" (delta files) or enabledUser false make a person
 *   or org inactive; groups, memberships and sessions have no status, so
 *   such records are left out (counted).
 * - identifier is the SIS's id for the user: sis_id for everyone, and the
 *   student number for students. It is NOT the employee id: a SIS number
 *   taken for an HR number would merge strangers in dedupe.
 * - roles: student, teacher, administrator and aide as given (any case);
 *   guardian, parent and relative users are left out like Clever's
 *   contacts; another role leaves the role out, with a warning.
 * - org types: district, school and department as given; local, state,
 *   national and anything else are org units (canonical has no others).
 * - enrollments: student and teacher as given; aide, administrator and
 *   proctor are members (not teachers: that would grant them a class).
 * - courses: there is no canonical courses stream; a class keeps its
 *   course's sourcedId. */
#include "format/jsonw.h"
#include "engine/mapping.h"
#include "vendor/oneroster/oneroster.h"

#include <stdio.h>
#include <string.h>

static const struct map_field people_map[] = {
	F("given_name", "givenName", 0),
	F("middle_name", "middleName", 0),
	F("family_name", "familyName", 0),
	F("email", "email", 0),
	F("username", "username", 0),
	F("sis_id", "identifier", 0),
	F("student_number", "identifier", MW_STUDENT),
	END,
};

static const struct map_field orgs_map[] = {
	F("name", "name", 0),
	F("identifier", "identifier", 0),
	F("parent_id", "parent.sourcedId", 0),
	END,
};

static const struct map_field groups_map[] = {
	F("name", "title", 0),
	F("org_id", "school.sourcedId", 0),
	F("course", "course.sourcedId", 0),
	END,
};

static const struct map_field sessions_map[] = {
	F("name", "title", 0),
	F("start_date", "startDate", 0),
	F("end_date", "endDate", 0),
	F("parent_id", "parent.sourcedId", 0),
	END,
};

static const struct map_name user_roles[] = {
	{"student", "student"}, {"teacher", "teacher"}, {"administrator", "administrator"},
	{"aide", "aide"}, {"guardian", NULL}, {"parent", NULL}, {"relative", NULL}, {NULL, NULL},
};

static const char deleted[] = "groups, memberships and sessions with status tobedeleted";
static const char contacts[] = "guardian, parent and relative users (no canonical role)";
static const char odd_role[] =
	"users whose role is not student, teacher, administrator or aide (role left out)";

static int is_deleted(struct jscan *js, int rec)
{
	int s = jscan_get(js, rec, "status", 6);
	return s >= 0 && jscan_streq(js, s, "tobedeleted", 11);
}

/* The first element of the array at key, or -1. */
static int first(struct jscan *js, int rec, const char *key)
{
	int a = jscan_get(js, rec, key, strlen(key));
	return a >= 0 && js->tok[a].type == JSCAN_ARRAY && js->tok[a].size ? a + 1 : -1;
}

/* ,"field":"text" for a string token; nothing for -1 or another type. */
static int put_str(struct jscan *js, struct buf *b, const char *field, int tok)
{
	if (tok < 0 || js->tok[tok].type != JSCAN_STRING)
		return 0;
	return jsonw_key(b, field, 0) || jscan_put_string(js, tok, b);
}

/* ,"org_ids":[...] from orgs[].sourcedId (nothing when there is no orgs[]). */
static int put_org_ids(struct jscan *js, struct buf *b, int rec)
{
	int a = jscan_get(js, rec, "orgs", 4);
	if (a < 0 || js->tok[a].type != JSCAN_ARRAY)
		return 0;
	if (jsonw_key(b, "org_ids", 0) || buf_addc(b, '['))
		return -1;
	int n = 0;
	for (int k = 0, v = a + 1; k < js->tok[a].size; k++, v = js->tok[v].next) {
		int id = jscan_get(js, v, "sourcedId", 9);
		if (id < 0 || js->tok[id].type != JSCAN_STRING)
			continue;
		if ((n++ && buf_addc(b, ',')) || jscan_put_string(js, id, b))
			return -1;
	}
	return buf_addc(b, ']');
}

MAPPER(map_user)
{
	int id = map_id(js, rec, "sourcedId", why, whylen);
	if (id < 0)
		return MAP_BAD;
	const struct map_name *r = NULL;
	if (map_lookup(ctx, js, rec, "role", user_roles, &r) > 0 && !r->canon) {
		out->left_out(out, contacts, 0);
		return MAP_OK;
	}
	if (!r)
		out->left_out(out, odd_role, 1);
	const char *role = r ? r->canon : NULL;
	const char *status = "active", *reason = NULL;
	int en = jscan_get(js, rec, "enabledUser", 11);
	if (is_deleted(js, rec))
		status = "inactive", reason = "to be deleted in OneRoster";
	else if (en >= 0 && js->tok[en].type == JSCAN_FALSE)
		status = "inactive", reason = "disabled in OneRoster";
	unsigned flags = map_role_flags(role);
	int grade = first(js, rec, "grades");
	struct buf *b = out->begin(out, 0);
	if (!b || map_head(js, b, "oneroster", id) || map_put_const(b, "role", role) ||
	    map_put_const(b, "status", status) ||
	    map_put_fields(ctx, js, out, b, people_map, MAP_AT(rec, flags)) ||
	    (flags == MW_STUDENT && put_str(js, b, "grade", grade)) || put_org_ids(js, b, rec) ||
	    put_str(js, b, "updated_at", jscan_get(js, rec, "dateLastModified", 16)) ||
	    map_put_const(b, "status_reason", reason) || buf_addc(b, '}') || out->end(out))
		return MAP_FAIL;
	return MAP_OK;
}

/* A null type is an org unit's; local, state, national and any other
 * string too. */
MAPPER(map_org)
{
	return map_put_org(js, rec, ctx, out, why, whylen, "oneroster", orgs_map, "orgunit",
			   is_deleted(js, rec) ? "inactive" : "active");
}

MAPPER(map_class)
{
	int id = map_id(js, rec, "sourcedId", why, whylen);
	if (id < 0)
		return MAP_BAD;
	if (is_deleted(js, rec)) {
		out->left_out(out, deleted, 0);
		return MAP_OK;
	}
	int term = first(js, rec, "terms");
	term = term < 0 ? -1 : jscan_get(js, term, "sourcedId", 9);
	int grades = jscan_get(js, rec, "grades", 6);
	struct buf *b =
		map_begin(ctx, js, out, 0, "oneroster", id, "section", groups_map, MAP_AT(rec, 0));
	if (!b || put_str(js, b, "term_id", term) || put_str(js, b, "subject", first(js, rec, "subjects")))
		return MAP_FAIL;
	if (grades >= 0 && js->tok[grades].type == JSCAN_ARRAY) {
		if (jsonw_key(b, "grades", 0) || buf_addc(b, '['))
			return MAP_FAIL;
		int k = 0;
		for (int i = 0, v = grades + 1; i < js->tok[grades].size; i++, v = js->tok[v].next)
			if (js->tok[v].type == JSCAN_STRING &&
			    ((k++ && buf_addc(b, ',')) || jscan_put_string(js, v, b)))
				return MAP_FAIL;
		if (buf_addc(b, ']'))
			return MAP_FAIL;
	}
	return map_end(out, b);
}

MAPPER(map_enrollment)
{
	int cls = map_path(js, rec, "class.sourcedId");
	int user = map_path(js, rec, "user.sourcedId");
	if (cls < 0 || user < 0 || js->tok[cls].type != JSCAN_STRING ||
	    js->tok[user].type != JSCAN_STRING) {
		snprintf(why, whylen, "it has no %s", cls < 0 || js->tok[cls].type != JSCAN_STRING
							 ? "class.sourcedId string"
							 : "user.sourcedId string");
		return MAP_BAD;
	}
	if (is_deleted(js, rec)) {
		out->left_out(out, deleted, 0);
		return MAP_OK;
	}
	return map_put_membership(js, rec, ctx, out, "oneroster", cls, user);
}

MAPPER(map_session)
{
	return map_put_session(js, rec, ctx, out, why, whylen, "oneroster", sessions_map,
			       is_deleted(js, rec) ? deleted : NULL);
}

const struct mapper map_oneroster[] = {
	{"oneroster_orgs", {"orgs", NULL}, map_org},
	{"oneroster_academic_sessions", {"sessions", NULL}, map_session},
	{"oneroster_courses", {NULL}, map_courses_left_out},
	{"oneroster_classes", {"groups", NULL}, map_class},
	{"oneroster_users", {"people", NULL}, map_user},
	{"oneroster_enrollments", {"memberships", NULL}, map_enrollment},
	{NULL, {NULL}, NULL},
};
