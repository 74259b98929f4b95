/* Microsoft Graph (Entra ID) -> canonical streams: all of normalize's Graph
 * knowledge. Which Graph property feeds which canonical field is in the
 * tables; code holds what a table cannot say (status, a group's type, the
 * role by the district's rules). Record shapes: the vendor reference,
 * sections 1.2 and 1.5. The extractor sends groups, group members (user
 * members only, each with the "group_id" it added), users and deleted
 * users, in that order: role rules by group need the members first. */
#include "format/jsonw.h"
#include "engine/mapping.h"
#include "vendor/graph/graph.h"

#include <stdio.h>
#include <string.h>

static const struct map_dir_info graph = {
	MAP_DIR_GRAPH,
	"graph_groups",
	"graph_group_members",
	"users given no role by group rules: graph_group_members was not read completely "
	"(no ACTIVATE_VERSION) before the first user",
	"group members read before graph_groups was complete (group rules by name or email "
	"may miss their groups)",
};

#define F(f, p, w) {f, MK_STR, w, p}
#define END {NULL, MK_CONST, 0, NULL}

static const struct map_field people_map[] = {
	F("given_name", "givenName", 0),
	F("family_name", "surname", 0),
	F("email", "mail", 0),
	/* a guest's is name_home.example#EXT#@tenant, not an address */
	F("email", "userPrincipalName", MW_LIVE | MW_NOT_GUEST),
	/* a deleted object's has its id glued in front: it would match nobody */
	F("username", "userPrincipalName", MW_LIVE),
	/* districts keep the staff or student number in employeeId */
	F("employee_id", "employeeId", MW_NOT_STUDENT),
	F("sis_id", "employeeId", MW_STUDENT),
	F("student_number", "employeeId", MW_STUDENT),
	F("job_title", "jobTitle", 0),
	F("department", "department", 0),
	END,
};

static const struct map_field groups_map[] = {
	F("name", "displayName", 0),
	END,
};

static const char no_enabled[] =
	"users without accountEnabled (status left out; the extractor must $select it)";
static const char not_user[] = "group members that are not users";

/* {"source":"graph","source_id":ID  (the caller closes the object) */
static int head(struct jscan *js, struct buf *b, int id)
{
	return buf_adds(b, "{\"source\":\"graph\",\"source_id\":") || jscan_put_string(js, id, b);
}

static int is_true(struct jscan *js, int obj, const char *key)
{
	int v = jscan_get(js, obj, key, strlen(key));
	return v >= 0 && js->tok[v].type == JSCAN_TRUE;
}

static int map_user_or_deleted(struct jscan *js, int rec, struct map_ctx *ctx,
			       struct map_sink *out, char *why, size_t n, int deleted)
{
	int id = map_id(js, rec, "id", why, n);
	if (id < 0)
		return MAP_BAD;
	int type = jscan_get(js, rec, "userType", 8);
	int guest = type >= 0 && jscan_streq(js, type, "Guest", 5);
	const char *role = "guest"; /* always, whatever the rules say */
	if (guest)
		ctx->guests++;
	else
		role = map_role(ctx, &graph, out, js, id, -1);

	/* accountEnabled is the only "is active" flag Graph has */
	const char *status = "inactive", *reason = "disabled in Entra ID";
	int when = -1;
	if (deleted) {
		reason = NULL;
		when = jscan_get(js, rec, "deletedDateTime", 15);
		if (when >= 0 && js->tok[when].type != JSCAN_STRING)
			when = -1;
	} else {
		int en = jscan_get(js, rec, "accountEnabled", 14);
		int t = en < 0 ? JSCAN_NULL : js->tok[en].type;
		if (t == JSCAN_TRUE) {
			status = "active";
			reason = NULL;
		} else if (t != JSCAN_FALSE) {
			out->left_out(out, t == JSCAN_NULL ? no_enabled : map_wrong_type, 1);
			status = reason = NULL;
		}
	}

	unsigned flags = (role && !strcmp(role, "student") ? MW_STUDENT : MW_NOT_STUDENT) |
			 (deleted ? 0 : MW_LIVE) | (guest ? 0 : MW_NOT_GUEST);
	struct buf *b = out->begin(out, 0);
	if (!b || head(js, b, id) ||
	    (role && (buf_adds(b, ",\"role\":") || jsonw_str(b, role))) ||
	    (status && (buf_adds(b, ",\"status\":") || jsonw_str(b, status))) ||
	    map_put_fields(ctx, js, out, b, people_map, rec, flags) ||
	    (reason && (buf_adds(b, ",\"status_reason\":") || jsonw_str(b, reason))) ||
	    (deleted && map_put_text(ctx, js, b, "status_reason",
				     when >= 0 ? "deleted in Entra ID on " : "deleted in Entra ID",
				     when, "")) ||
	    buf_addc(b, '}') || out->end(out))
		return MAP_FAIL;
	return MAP_OK;
}

static int map_user(struct jscan *js, int rec, struct map_ctx *ctx, struct map_sink *out,
		    char *why, size_t n)
{
	return map_user_or_deleted(js, rec, ctx, out, why, n, 0);
}

static int map_deleted(struct jscan *js, int rec, struct map_ctx *ctx, struct map_sink *out,
		       char *why, size_t n)
{
	return map_user_or_deleted(js, rec, ctx, out, why, n, 1);
}

/* A Microsoft 365 group (groupTypes has "Unified") is for mail and
 * sharing; otherwise securityEnabled makes it a security group, even when
 * it also has mail. NULL when neither says (the type is left out). */
static const char *group_type(struct jscan *js, int rec)
{
	int types = jscan_get(js, rec, "groupTypes", 10);
	if (types >= 0 && js->tok[types].type == JSCAN_ARRAY)
		for (int k = 0, v = types + 1; k < js->tok[types].size; k++, v = js->tok[v].next)
			if (jscan_streq(js, v, "Unified", 7))
				return "distribution";
	if (is_true(js, rec, "securityEnabled"))
		return "security";
	if (is_true(js, rec, "mailEnabled"))
		return "distribution";
	return NULL;
}

static int map_group(struct jscan *js, int rec, struct map_ctx *ctx, struct map_sink *out,
		     char *why, size_t n)
{
	int id = map_id(js, rec, "id", why, n);
	if (id < 0)
		return MAP_BAD;
	/* a group rule may name it by displayName, mail or id */
	int names[] = {jscan_get(js, rec, "displayName", 11), jscan_get(js, rec, "mail", 4)};
	if (map_group_seen(ctx, js, id, names, 2))
		return MAP_FAIL;
	const char *type = group_type(js, rec);
	struct buf *b = out->begin(out, 0);
	if (!b || head(js, b, id) || (type && (buf_adds(b, ",\"type\":") || jsonw_str(b, type))) ||
	    map_put_fields(ctx, js, out, b, groups_map, rec, 0) || buf_addc(b, '}') ||
	    out->end(out))
		return MAP_FAIL;
	return MAP_OK;
}

static int map_member(struct jscan *js, int rec, struct map_ctx *ctx, struct map_sink *out,
		      char *why, size_t n)
{
	int group = map_id(js, rec, "group_id", why, n);
	int id = group < 0 ? -1 : map_id(js, rec, "id", why, n);
	if (id < 0)
		return MAP_BAD;
	/* the extractor keeps users only; should another type come, it is no person */
	int type = jscan_get(js, rec, "@odata.type", 11);
	if (type >= 0 && js->tok[type].type != JSCAN_NULL &&
	    !jscan_streq(js, type, "#microsoft.graph.user", 21)) {
		out->left_out(out, not_user, 1);
		return MAP_OK;
	}
	if (map_member_seen(ctx, &graph, out, js, group, id))
		return MAP_FAIL;
	struct buf *b = out->begin(out, 0);
	if (!b || buf_adds(b, "{\"source\":\"graph\",\"group_id\":") ||
	    jscan_put_string(js, group, b) || buf_adds(b, ",\"person_id\":") ||
	    jscan_put_string(js, id, b) || buf_adds(b, ",\"role\":\"member\"}") || out->end(out))
		return MAP_FAIL;
	return MAP_OK;
}

const struct mapper map_graph[] = {
	{"graph_groups", {"groups", NULL}, map_group},
	{"graph_group_members", {"memberships", NULL}, map_member},
	{"graph_users", {"people", NULL}, map_user},
	{"graph_deleted_users", {"people", NULL}, map_deleted},
	{NULL, {NULL}, NULL},
};
