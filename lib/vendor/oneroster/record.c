/* A OneRoster REST record -> the shape of the CSV bundle's rows (drop.c):
 * one mapping (map.c) for both. */
#include "vendor/oneroster/oneroster_int.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* A GUIDRef: sourcedId with only href and type beside it. */
static int is_ref(const cJSON *v)
{
	if (!cJSON_IsObject(v) || !cJSON_IsString(cJSON_GetObjectItemCaseSensitive(v, "sourcedId")))
		return 0;
	for (const cJSON *k = v->child; k; k = k->next)
		if (strcmp(k->string, "sourcedId") && strcmp(k->string, "href") &&
		    strcmp(k->string, "type"))
			return 0;
	return 1;
}

/* Refs lose href and type; nulls, empty strings and empty lists go (the
 * bundle's reader leaves a blank cell out). */
static void tidy(cJSON *v)
{
	if (is_ref(v)) {
		cJSON_DeleteItemFromObjectCaseSensitive(v, "href");
		cJSON_DeleteItemFromObjectCaseSensitive(v, "type");
		return;
	}
	if (!cJSON_IsObject(v) && !cJSON_IsArray(v))
		return;
	cJSON *k = v->child;
	while (k) {
		cJSON *next = k->next;
		if (cJSON_IsObject(v) &&
		    (cJSON_IsNull(k) || (cJSON_IsArray(k) && !k->child) ||
		     (cJSON_IsString(k) && !*k->valuestring)))
			cJSON_Delete(cJSON_DetachItemViaPointer(v, k));
		else
			tidy(k);
		k = next;
	}
}

/* "1, 2" -> ["1","2"], as the bundle's list cells; "" goes. */
static int periods_list(cJSON *rec)
{
	cJSON *p = cJSON_GetObjectItemCaseSensitive(rec, "periods");
	if (!cJSON_IsString(p))
		return 0;
	cJSON *a = cJSON_CreateArray();
	if (!a)
		return -1;
	for (const char *s = p->valuestring; *s;) {
		const char *c = strchr(s, ',');
		size_t n = c ? (size_t)(c - s) : strlen(s);
		const char *t = s;
		size_t m = n;
		while (m && (*t == ' ' || *t == '\t'))
			t++, m--;
		while (m && (t[m - 1] == ' ' || t[m - 1] == '\t'))
			m--;
		if (m) {
			char *w = strndup(t, m);
			cJSON *it = w ? cJSON_CreateString(w) : NULL;
			free(w);
			if (!it || !cJSON_AddItemToArray(a, it)) {
				cJSON_Delete(it);
				cJSON_Delete(a);
				return -1;
			}
		}
		s += n + (c ? 1 : 0);
	}
	if (!a->child) {
		cJSON_Delete(a);
		cJSON_DeleteItemFromObjectCaseSensitive(rec, "periods");
		return 0;
	}
	return cJSON_ReplaceItemInObjectCaseSensitive(rec, "periods", a) ? 0 : (cJSON_Delete(a), -1);
}

/* enabledUser "true"/"false" (1.2, and some 1.1 servers) -> a boolean. */
static int enabled_bool(cJSON *rec)
{
	cJSON *en = cJSON_GetObjectItemCaseSensitive(rec, "enabledUser");
	if (!cJSON_IsString(en))
		return 0;
	int t = !strcasecmp(en->valuestring, "true");
	if (!t && strcasecmp(en->valuestring, "false"))
		return 0; /* neither: left as sent */
	cJSON *b = cJSON_CreateBool(t);
	return b && cJSON_ReplaceItemInObjectCaseSensitive(rec, "enabledUser", b) ? 0
										 : (cJSON_Delete(b), -1);
}

/* 1.2 role names -> 1.1's (map.c knows 1.1's). */
static const char *role_1p1(const char *r)
{
	static const char *const admin[] = {"districtAdministrator", "siteAdministrator",
					    "systemAdministrator", "principal", NULL};
	for (int i = 0; admin[i]; i++)
		if (!strcasecmp(r, admin[i]))
			return "administrator";
	return r;
}

/* A 1.2 user's roles[] (roleType primary first) -> role and orgs. */
static int roles_1p1(cJSON *rec)
{
	cJSON *roles = cJSON_GetObjectItemCaseSensitive(rec, "roles");
	if (!cJSON_IsArray(roles) || cJSON_GetObjectItemCaseSensitive(rec, "role"))
		return 0;
	const char *role = NULL;
	cJSON *orgs = cJSON_CreateArray(), *it;
	if (!orgs)
		return -1;
	cJSON_ArrayForEach(it, roles) {
		const cJSON *r = cJSON_GetObjectItemCaseSensitive(it, "role");
		const cJSON *t = cJSON_GetObjectItemCaseSensitive(it, "roleType");
		const cJSON *org = cJSON_GetObjectItemCaseSensitive(it, "org");
		const cJSON *oid = cJSON_GetObjectItemCaseSensitive(org, "sourcedId");
		if (cJSON_IsString(r) &&
		    (!role || (cJSON_IsString(t) && !strcmp(t->valuestring, "primary"))))
			role = r->valuestring;
		if (!cJSON_IsString(oid))
			continue;
		int dup = 0;
		for (const cJSON *o = orgs->child; o && !dup; o = o->next)
			dup = !strcmp(cJSON_GetObjectItemCaseSensitive(o, "sourcedId")->valuestring,
				      oid->valuestring);
		cJSON *ref = dup ? NULL : cJSON_CreateObject();
		if (!dup && (!ref || !cJSON_AddStringToObject(ref, "sourcedId", oid->valuestring) ||
			     !cJSON_AddItemToArray(orgs, ref))) {
			cJSON_Delete(ref);
			cJSON_Delete(orgs);
			return -1;
		}
	}
	if ((role && !cJSON_AddStringToObject(rec, "role", role_1p1(role))) ||
	    !cJSON_AddItemToObject(rec, "orgs", orgs)) {
		if (!cJSON_GetObjectItemCaseSensitive(rec, "orgs"))
			cJSON_Delete(orgs);
		return -1;
	}
	/* what 1.1 has no field for */
	static const char *const gone[] = {"roles", "primaryOrg", "userProfiles", "resources",
					   "userMasterIdentifier", NULL};
	for (int i = 0; gone[i]; i++)
		cJSON_DeleteItemFromObjectCaseSensitive(rec, gone[i]);
	return 0;
}

int oneroster_flatten(cJSON *rec, int is_user)
{
	if (is_user && (roles_1p1(rec) || enabled_bool(rec)))
		return -1;
	if (periods_list(rec))
		return -1;
	cJSON_DeleteItemFromObjectCaseSensitive(rec, "href");
	tidy(rec);
	return 0;
}
