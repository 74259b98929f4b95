/* Microsoft School Data Sync v2.1 -> canonical streams: all of
 * normalize's SDS knowledge. Records are flat, named as the SDS headers
 * (lib/vendor/sds/drop.c).
 *
 * users.csv says nothing about roles: roles.csv does, one row per user,
 * org and role, and comes first (the drop emits sds_roles before
 * sds_users). Each role row is remembered in SDS's map_state (seen):
 * the role of an isPrimary row wins, else the first row's; a guardian,
 * parent or relative role never wins over a canonical one. The grade goes
 * with the role that wins; the orgs of every canonical role row are the
 * person's org_ids (the winning row's first). So memory grows with the
 * users, one short string each.
 *
 * Decisions:
 * - status: active (SDS files list only what is to be synced; there is no
 *   status column).
 * - roles: student, teacher, aide and administrator as given (any case);
 *   principal and the district, site and system administrator roles are
 *   administrator; proctor is aide; guardian, parent and relative users are
 *   left out like Clever's contacts; a user with no roles.csv row, or only
 *   another role, gets no role (counted).
 * - org types: district, school and department as given; others are org
 *   units. Enrollment roles: student and teacher; aide, administrator and
 *   proctor are members.
 * - courses: there is no canonical courses stream; a class keeps its
 *   courseSourcedId. */
#include "format/jsonw.h"
#include "engine/mapping.h"
#include "vendor/sds/sds.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct map_field people_map[] = {
	STR("given_name", "givenName"),
	STR("family_name", "familyName"),
	STR("email", "email"),
	STR("username", "username"),
	END,
};

static const struct map_field orgs_map[] = {
	STR("name", "name"),
	STR("parent_id", "parentSourcedId"),
	END,
};

static const struct map_field groups_map[] = {
	STR("name", "title"),
	STR("org_id", "orgSourcedId"),
	STR("course", "courseSourcedId"),
	END,
};

static const struct map_field sessions_map[] = {
	STR("name", "title"),
	STR("start_date", "startDate"),
	STR("end_date", "endDate"),
	END,
};

static const char contact[] = ""; /* the packed role of guardians, parents, relatives */

static const struct map_name user_roles[] = {
	{"student", "student"},
	{"teacher", "teacher"},
	{"aide", "aide"},
	{"proctor", "aide"},
	{"administrator", "administrator"},
	{"principal", "administrator"},
	{"districtAdministrator", "administrator"},
	{"siteAdministrator", "administrator"},
	{"systemAdministrator", "administrator"},
	{"guardian", contact},
	{"parent", contact},
	{"relative", contact},
	{NULL, NULL},
};

static const char no_role_row[] = "users without a roles.csv row (role left out)";
static const char odd_role[] = "users whose roles.csv role is not a known one (role left out)";
static const char contacts[] = "guardian, parent and relative users (no canonical role)";
static const char roles_late[] =
	"users read before sds_roles was complete (their roles may be missing)";
static const char role_after_user[] = "roles.csv rows read after the first user (not used)";

/* Ranks of a remembered role: lower wins. */
enum { RANK_PRIMARY, RANK_OTHER, RANK_CONTACT, RANK_UNKNOWN };

/* The text of the string token tok into b (reset first): 0, or -1 when it
 * is not a string or b is full. */
static int text(struct jscan *js, int tok, struct buf *b)
{
	buf_reset(b);
	return tok < 0 || js->tok[tok].type != JSCAN_STRING || jscan_unescape(js, tok, b) ? -1 : 0;
}

/* A packed role: "role\x1fgrade\x1forg\x1forg..." (role "" for a contact,
 * "?" for an unknown role). Rebuilt from parts into a new malloc'd string. */
static char *pack(const char *role, size_t rl, const char *grade, size_t gl, const char *orgs,
		  size_t ol)
{
	char *p = malloc(rl + gl + ol + 3);
	if (!p)
		return NULL;
	char *q = p;
	memcpy(q, role, rl), q += rl, *q++ = '\x1f';
	memcpy(q, grade, gl), q += gl, *q++ = '\x1f';
	memcpy(q, orgs, ol), q += ol;
	*q = 0;
	return p;
}

/* The parts of packed value v: role, grade, orgs ("a\x1fb"), as ranges. */
static void unpack(const char *v, const char **role, size_t *rl, const char **grade, size_t *gl,
		   const char **orgs, size_t *ol)
{
	const char *g = strchr(v, '\x1f') + 1, *o = strchr(g, '\x1f') + 1;
	*role = v, *rl = (size_t)(g - 1 - v);
	*grade = g, *gl = (size_t)(o - 1 - g);
	*orgs = o, *ol = strlen(o);
}

/* 1 when org[0..n) is one of the "\x1f"-separated orgs[0..ol). */
static int has_org(const char *orgs, size_t ol, const char *org, size_t n)
{
	for (const char *p = orgs, *end = orgs + ol; p < end;) {
		const char *e = memchr(p, '\x1f', (size_t)(end - p));
		if (!e)
			e = end;
		if ((size_t)(e - p) == n && !memcmp(p, org, n))
			return 1;
		p = e + 1;
	}
	return 0;
}

MAPPER(map_role_row)
{
	int user = map_id(js, rec, "userSourcedId", why, whylen);
	if (user < 0)
		return MAP_BAD;
	if (ctx->state->started) {
		out->left_out(out, role_after_user, 1);
		return MAP_OK;
	}
	const struct map_name *r = NULL;
	map_lookup(ctx, js, rec, "role", user_roles, &r);
	int prim = jscan_get(js, rec, "isPrimary", 9);
	int rank = !r ? RANK_UNKNOWN
		   : r->canon == contact ? RANK_CONTACT
		   : prim >= 0 && js->tok[prim].type == JSCAN_TRUE ? RANK_PRIMARY
								     : RANK_OTHER;
	const char *role = !r ? "?" : r->canon;
	/* the org and grade of this row, side by side in ctx->val */
	struct buf *v = &ctx->val;
	size_t org_len = 0;
	if (!text(js, jscan_get(js, rec, "orgSourcedId", 12), v))
		org_len = v->len;
	if (buf_addc(v, '\x1f'))
		return MAP_FAIL;
	int g = jscan_get(js, rec, "grade", 5);
	if (g >= 0 && js->tok[g].type == JSCAN_STRING && jscan_unescape(js, g, v))
		return MAP_FAIL;
	const char *org = v->data, *grade = v->data + org_len + 1;
	size_t grade_len = v->len - org_len - 1;

	if (text(js, user, &ctx->key))
		return MAP_FAIL;
	struct map_entry *e = map_table_entry(&ctx->state->seen, ctx->key.data, ctx->key.len, 1);
	if (!e)
		return MAP_FAIL;
	const char *or = "", *og = "", *oo = "";
	size_t orl = 0, ogl = 0, ool = 0;
	if (e->val)
		unpack(e->val, &or, &orl, &og, &ogl, &oo, &ool);
	int wins = rank < e->n;
	int add_org = rank <= RANK_OTHER && org_len && !has_org(oo, ool, org, org_len);
	if (!wins && !add_org)
		return MAP_OK;
	/* orgs: the winner's first, then the others in row order */
	struct buf orgs;
	buf_init(&orgs, 0);
	int fail = 0;
	if (add_org && wins)
		fail = buf_add(&orgs, org, org_len) || (ool && buf_addc(&orgs, '\x1f'));
	fail = fail || buf_add(&orgs, oo, ool);
	if (add_org && !wins)
		fail = fail || (ool && buf_addc(&orgs, '\x1f')) || buf_add(&orgs, org, org_len);
	char *packed = NULL;
	if (!fail)
		packed = wins ? pack(role, strlen(role), grade, grade_len, orgs.data ? orgs.data : "",
				     orgs.len)
			      : pack(or, orl, og, ogl, orgs.data ? orgs.data : "", orgs.len);
	buf_free(&orgs);
	if (!packed)
		return MAP_FAIL;
	free(e->val);
	e->val = packed;
	if (wins)
		e->n = rank;
	return MAP_OK;
}

/* ,"org_ids":[...] from packed orgs[0..ol) (nothing when there are none). */
static int put_orgs(struct buf *b, const char *orgs, size_t ol)
{
	if (!ol)
		return 0;
	if (jsonw_key(b, "org_ids", 0) || buf_addc(b, '['))
		return -1;
	for (const char *p = orgs, *end = orgs + ol; p < end;) {
		const char *e = memchr(p, '\x1f', (size_t)(end - p));
		if (!e)
			e = end;
		if ((p != orgs && buf_addc(b, ',')) || jsonw_strn(b, p, (size_t)(e - p)))
			return -1;
		p = e + 1;
	}
	return buf_addc(b, ']');
}

MAPPER(map_user)
{
	int id = map_id(js, rec, "sourcedId", why, whylen);
	if (id < 0)
		return MAP_BAD;
	if (!ctx->state->started) {
		ctx->state->started = 1;
		if (ctx->complete && !ctx->complete(ctx->owner, "sds_roles"))
			out->left_out(out, roles_late, 1);
	}
	if (text(js, id, &ctx->key))
		return MAP_FAIL;
	struct map_entry *e = map_table_entry(&ctx->state->seen, ctx->key.data, ctx->key.len, 0);
	const char *role = NULL, *grade = "", *orgs = "";
	size_t rl = 0, gl = 0, ol = 0;
	if (!e) {
		out->left_out(out, no_role_row, 0);
	} else if (e->n == RANK_CONTACT) {
		out->left_out(out, contacts, 0);
		return MAP_OK;
	} else {
		unpack(e->val, &role, &rl, &grade, &gl, &orgs, &ol);
		if (e->n == RANK_UNKNOWN) {
			out->left_out(out, odd_role, 1);
			role = NULL;
		}
	}
	int student = role && rl == 7 && !memcmp(role, "student", 7);
	struct buf *b = out->begin(out, 0);
	if (!b || map_head(js, b, "sds", id) ||
	    (role && (jsonw_key(b, "role", 0) || jsonw_strn(b, role, rl))) ||
	    map_put_const(b, "status", "active") ||
	    map_put_fields(ctx, js, out, b, people_map, MAP_AT(rec, 0)) ||
	    (student && gl && (jsonw_key(b, "grade", 0) || jsonw_strn(b, grade, gl))) ||
	    put_orgs(b, orgs, ol) || buf_addc(b, '}') || out->end(out))
		return MAP_FAIL;
	return MAP_OK;
}

/* A null type is no type. */
MAPPER(map_org)
{
	return map_put_org(js, rec, ctx, out, why, whylen, "sds", orgs_map, NULL, "active");
}

MAPPER(map_class)
{
	int id = map_id(js, rec, "sourcedId", why, whylen);
	if (id < 0)
		return MAP_BAD;
	int terms = jscan_get(js, rec, "sessionSourcedIds", 17);
	int term = terms >= 0 && js->tok[terms].type == JSCAN_ARRAY && js->tok[terms].size &&
			   js->tok[terms + 1].type == JSCAN_STRING
		       ? terms + 1
		       : -1;
	struct buf *b = map_begin(ctx, js, out, 0, "sds", id, "section", groups_map, MAP_AT(rec, 0));
	if (b && term >= 0 && (jsonw_key(b, "term_id", 0) || jscan_put_string(js, term, b)))
		return MAP_FAIL;
	return map_end(out, b);
}

MAPPER(map_enrollment)
{
	int cls = map_id(js, rec, "classSourcedId", why, whylen);
	int user = cls < 0 ? -1 : map_id(js, rec, "userSourcedId", why, whylen);
	if (user < 0)
		return MAP_BAD;
	return map_put_membership(js, rec, ctx, out, "sds", cls, user);
}

MAPPER(map_session)
{
	return map_put_session(js, rec, ctx, out, why, whylen, "sds", sessions_map, NULL);
}

const struct mapper map_sds[] = {
	{"sds_orgs", {"orgs", NULL}, map_org},
	{"sds_roles", {NULL}, map_role_row},
	{"sds_users", {"people", NULL}, map_user},
	{"sds_academic_sessions", {"sessions", NULL}, map_session},
	{"sds_courses", {NULL}, map_courses_left_out},
	{"sds_classes", {"groups", NULL}, map_class},
	{"sds_enrollments", {"memberships", NULL}, map_enrollment},
	{NULL, {NULL}, NULL},
};
