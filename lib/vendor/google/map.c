/* Google Workspace (Admin SDK Directory) -> canonical streams: all of
 * normalize's Google knowledge. Which field feeds which canonical field is
 * in the tables; code holds what a table cannot say (status, member types
 * and roles, the role by the district's rules). Record shapes: the vendor
 * reference, section 2.4. The extractor sends org units, groups, group
 * members (each with the "group_id" it added), users and deleted users, in
 * that order: users find their org unit's id, and role rules by group
 * their members, in what came before. */
#include "engine/mapping.h"
#include "vendor/google/google.h"

#include <string.h>

static const struct map_dir_info google = {
	"google_groups",
	"google_group_members",
	"users given no role by group rules: google_group_members was not read completely "
	"(no ACTIVATE_VERSION) before the first user",
	"group members read before google_groups was complete (group rules by name or email "
	"may miss their groups)",
};

/* the conventional slot of a staff or student number */
#define NUMBER "externalIds[type=organization].value"

static const struct map_field people_map[] = {
	F("given_name", "name.givenName", 0),
	F("family_name", "name.familyName", 0),
	F("email", "primaryEmail", 0),
	F("username", "primaryEmail", 0),
	F("employee_id", NUMBER, MW_NOT_STUDENT),
	F("sis_id", NUMBER, MW_STUDENT),
	F("student_number", NUMBER, MW_STUDENT),
	{"org_ids", MK_ORGUNIT, MF_RECORD, 0, "orgUnitPath"},
	F("job_title", "organizations[primary].title", 0), /* the primary, else the first */
	F("department", "organizations[primary].department", 0),
	END,
};

static const struct map_field orgs_map[] = {
	CONST("type", "orgunit"),
	F("name", "name", 0),
	F("identifier", "orgUnitPath", 0),
	F("parent_id", "parentOrgUnitId", 0),
	END,
};

static const struct map_field groups_map[] = {
	CONST("type", "distribution"),
	F("name", "name", 0),
	END,
};

/* Member types other than USER: counted, not written (no person record). */
static const struct {
	const char *type, *reason;
} other_members[] = {
	{"GROUP", "group members that are groups (their own users are listed as USER members)"},
	{"CUSTOMER", "group members of type CUSTOMER (everyone in the domain, no person)"},
	{"EXTERNAL", "group members of type EXTERNAL (outside the domain, no user record)"},
};
static const char unknown_member[] = "group members of an unknown type";

/* The non-empty string at key, or -1. */
static int text_at(struct jscan *js, int obj, const char *key)
{
	int v = jscan_get(js, obj, key, strlen(key));
	if (v < 0 || js->tok[v].type != JSCAN_STRING || js->tok[v].start == js->tok[v].end)
		return -1;
	return v;
}

MAPPER_OF_VARIANT(map_user_or_deleted, deleted)
{
	int id = map_id(js, rec, "id", why, whylen);
	if (id < 0)
		return MAP_BAD;
	int path = jscan_get(js, rec, "orgUnitPath", 11);
	const char *role = map_role(ctx, &google, out, js, id, path);

	/* suspended and archived (an archived-user licence) both mean inactive;
	 * a user without either flag is taken as active */
	const char *reason = NULL, *prefix = NULL;
	int tok = -1;
	if (deleted) {
		tok = text_at(js, rec, "deletionTime");
		prefix = tok >= 0 ? "deleted in Google Workspace on " : "deleted in Google Workspace";
	} else if (map_is_true(js, rec, "suspended")) {
		tok = text_at(js, rec, "suspensionReason");
		prefix = tok >= 0 ? "suspended in Google Workspace (" : "suspended in Google Workspace";
	} else if (map_is_true(js, rec, "archived")) {
		reason = "archived in Google Workspace";
	}

	const struct map_status st = {reason || prefix ? "inactive" : "active", reason, prefix,
				      tok >= 0 && !deleted ? ")" : "", tok};
	return map_put_person(ctx, js, out, "google", id, role, &st, people_map,
			      MAP_AT(rec, map_role_flags(role)));
}

MAP_VARIANT(map_user, map_user_or_deleted, 0)
MAP_VARIANT(map_deleted, map_user_or_deleted, 1)

/* An org unit is an org; its path is remembered for the users' org_ids. */
MAPPER(map_orgunit)
{
	int id = map_id(js, rec, "orgUnitId", why, whylen);
	if (id < 0)
		return MAP_BAD;
	if (map_orgunit_seen(ctx, js, jscan_get(js, rec, "orgUnitPath", 11), id))
		return MAP_FAIL;
	return map_end(out, map_begin(ctx, js, out, 0, "google", id, NULL, orgs_map, MAP_AT(rec, 0)));
}

MAPPER(map_group)
{
	/* a group rule may name it by name, email or id */
	return map_dir_group(ctx, js, rec, out, why, whylen, "google", "name", "email", NULL, groups_map);
}

MAPPER(map_member)
{
	int group = map_id(js, rec, "group_id", why, whylen);
	if (group < 0)
		return MAP_BAD;
	int type = jscan_get(js, rec, "type", 4);
	if (type >= 0 && js->tok[type].type != JSCAN_NULL && !jscan_streq(js, type, "USER", 4)) {
		const char *reason = unknown_member;
		for (size_t i = 0; i < sizeof other_members / sizeof other_members[0]; i++) {
			const char *t = other_members[i].type;
			if (jscan_streq(js, type, t, strlen(t)))
				reason = other_members[i].reason;
		}
		out->left_out(out, reason, reason == unknown_member);
		return MAP_OK;
	}
	int id = map_id(js, rec, "id", why, whylen);
	if (id < 0)
		return MAP_BAD;
	if (map_member_seen(ctx, &google, out, js, group, id))
		return MAP_FAIL;
	int role = jscan_get(js, rec, "role", 4);
	int owner = role >= 0 && jscan_streq(js, role, "OWNER", 5); /* MANAGER, MEMBER: member */
	return map_put_member(js, out, 0, "google", group, id, owner ? "owner" : "member");
}

const struct mapper map_google[] = {
	{"google_orgunits", {"orgs", NULL}, map_orgunit},
	{"google_groups", {"groups", NULL}, map_group},
	{"google_group_members", {"memberships", NULL}, map_member},
	{"google_users", {"people", NULL}, map_user},
	{"google_deleted_users", {"people", NULL}, map_deleted},
	{NULL, {NULL}, NULL},
};
