/* Microsoft Graph (Entra ID) -> canonical streams: all of normalize's Graph
 * knowledge. Which Graph property feeds which canonical field is in the
 * tables; code holds what a table cannot say (status, a group's type, the
 * role by the district's rules). Record shapes: the vendor reference,
 * sections 1.2 and 1.5. The extractor sends groups, group members (user
 * members only, each with the "group_id" it added), users and deleted
 * users, in that order: role rules by group need the members first. */
#include "engine/mapping.h"
#include "vendor/graph/graph.h"

#include <string.h>

static const struct map_dir_info graph = {
	"graph_groups",
	"graph_group_members",
	"users given no role by group rules: graph_group_members was not read completely "
	"(no ACTIVATE_VERSION) before the first user",
	"group members read before graph_groups was complete (group rules by name or email "
	"may miss their groups)",
};

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

MAPPER_OF_VARIANT(map_user_or_deleted, deleted)
{
	int id = map_id(js, rec, "id", why, whylen);
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

	struct map_status st = {status, reason, NULL, "", when};
	if (deleted)
		st.prefix = when >= 0 ? "deleted in Entra ID on " : "deleted in Entra ID";
	unsigned flags = map_role_flags(role) | (deleted ? 0 : MW_LIVE) | (guest ? 0 : MW_NOT_GUEST);
	return map_put_person(ctx, js, out, "graph", id, role, &st, people_map, MAP_AT(rec, flags));
}

MAP_VARIANT(map_user, map_user_or_deleted, 0)
MAP_VARIANT(map_deleted, map_user_or_deleted, 1)

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
	if (map_is_true(js, rec, "securityEnabled"))
		return "security";
	if (map_is_true(js, rec, "mailEnabled"))
		return "distribution";
	return NULL;
}

MAPPER(map_group)
{
	/* a group rule may name it by displayName, mail or id */
	return map_dir_group(ctx, js, rec, out, why, whylen, "graph", "displayName", "mail",
			     group_type(js, rec), groups_map);
}

MAPPER(map_member)
{
	int group = map_id(js, rec, "group_id", why, whylen);
	int id = group < 0 ? -1 : map_id(js, rec, "id", why, whylen);
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
	return map_put_member(js, out, 0, "graph", group, id, "member");
}

const struct mapper map_graph[] = {
	{"graph_groups", {"groups", NULL}, map_group},
	{"graph_group_members", {"memberships", NULL}, map_member},
	{"graph_users", {"people", NULL}, map_user},
	{"graph_deleted_users", {"people", NULL}, map_deleted},
	{NULL, {NULL}, NULL},
};
