/* OneRoster 1.1 CSV bundle: manifest.csv and one CSV per entity, read
 * into the OneRoster 1.1 REST JSON shapes ({sourcedId, status,
 * dateLastModified, ...}, references as {"sourcedId": id}), so a
 * OneRoster API extractor and this drop share lib/vendor/oneroster/map.c.
 *
 * The manifest says per file bulk, delta or absent (key "file.<name>",
 * the file name without ".csv"). In bulk files status and
 * dateLastModified are usually blank: they are then left out.
 * dateLastModified is an ISO 8601 date-time, kept as given.
 *
 * demographics.csv is not in this profile, so it is never read: birth
 * dates, sex and race are personal data the canonical model has no field
 * for. categories, lineItems, results and the resources files are
 * gradebook and content data, not rosters. */
#include "engine/drop.h"
#include "vendor/oneroster/oneroster.h"

#include <stddef.h>

#define COL(h, p, t, fl) {h, p, t, fl, 0, 0}
#define STR(h, p) COL(h, p, DT_STR, 0)
#define REQ(h, p) COL(h, p, DT_STR, DC_REQUIRED)
#define END COL(NULL, NULL, DT_STR, 0)
/* Every file's first three columns. */
#define BASE                                                       \
	COL("sourcedId", "sourcedId", DT_STR, DC_REQUIRED | DC_KEY), \
	STR("status", "status"),                                   \
	STR("dateLastModified", "dateLastModified")

static const char *const k_sourced[] = {"sourcedId", NULL};

/* metadata.* extension columns follow (kept under "metadata"). */
static const struct drop_col orgs[] = {
	BASE,
	REQ("name", "name"),
	REQ("type", "type"),
	STR("identifier", "identifier"),
	COL("parentSourcedId", "parent", DT_REF, 0),
	END,
};

static const struct drop_col academic_sessions[] = {
	BASE,
	REQ("title", "title"),
	REQ("type", "type"),
	COL("startDate", "startDate", DT_DATE, DC_REQUIRED),
	COL("endDate", "endDate", DT_DATE, DC_REQUIRED),
	COL("parentSourcedId", "parent", DT_REF, 0),
	STR("schoolYear", "schoolYear"),
	END,
};

static const struct drop_col courses[] = {
	BASE,
	COL("schoolYearSourcedId", "schoolYear", DT_REF, 0),
	REQ("title", "title"),
	STR("courseCode", "courseCode"),
	COL("grades", "grades", DT_LIST, 0),
	COL("orgSourcedId", "org", DT_REF, DC_REQUIRED),
	COL("subjects", "subjects", DT_LIST, 0),
	COL("subjectCodes", "subjectCodes", DT_LIST, 0),
	END,
};

static const struct drop_col classes[] = {
	BASE,
	REQ("title", "title"),
	COL("grades", "grades", DT_LIST, 0),
	COL("courseSourcedId", "course", DT_REF, DC_REQUIRED),
	STR("classCode", "classCode"),
	STR("classType", "classType"),
	STR("location", "location"),
	COL("schoolSourcedId", "school", DT_REF, DC_REQUIRED),
	COL("termSourcedIds", "terms", DT_REFS, DC_REQUIRED),
	COL("subjects", "subjects", DT_LIST, 0),
	COL("subjectCodes", "subjectCodes", DT_LIST, 0),
	COL("periods", "periods", DT_LIST, 0),
	END,
};

static const struct drop_col users[] = {
	BASE,
	COL("enabledUser", "enabledUser", DT_BOOL, 0),
	COL("orgSourcedIds", "orgs", DT_REFS, 0),
	REQ("role", "role"),
	STR("username", "username"),
	COL("userIds", "userIds", DT_USERIDS, 0),
	STR("givenName", "givenName"),
	STR("familyName", "familyName"),
	STR("middleName", "middleName"),
	STR("identifier", "identifier"),
	STR("email", "email"),
	STR("sms", "sms"),
	STR("phone", "phone"),
	COL("agentSourcedIds", "agents", DT_REFS, 0),
	COL("grades", "grades", DT_LIST, 0),
	COL("password", NULL, DT_STR, DC_SENSITIVE),
	END,
};

static const struct drop_col enrollments[] = {
	BASE,
	COL("classSourcedId", "class", DT_REF, DC_REQUIRED),
	COL("schoolSourcedId", "school", DT_REF, DC_REQUIRED),
	COL("userSourcedId", "user", DT_REF, DC_REQUIRED),
	REQ("role", "role"),
	COL("primary", "primary", DT_BOOL, 0),
	COL("beginDate", "beginDate", DT_DATE, 0),
	COL("endDate", "endDate", DT_DATE, 0),
	END,
};

/* Every file is optional here: manifest.csv says which the bundle has
 * (absent: not read; bulk or delta: read, and missing fails its stream). */
#define DFILE(n, s, c, x)                                                                  \
	{.name = n, .stream = s, .keys = k_sourced, .cols = c, .extra_prefix = x, .optional = 1}

/* Emitted with what others refer to first: orgs, sessions, courses,
 * classes, users, enrollments. */
static const struct drop_file files[] = {
	DFILE("orgs.csv", "oneroster_orgs", orgs, "metadata."),
	DFILE("academicSessions.csv", "oneroster_academic_sessions", academic_sessions, NULL),
	DFILE("courses.csv", "oneroster_courses", courses, NULL),
	DFILE("classes.csv", "oneroster_classes", classes, NULL),
	DFILE("users.csv", "oneroster_users", users, NULL),
	DFILE("enrollments.csv", "oneroster_enrollments", enrollments, NULL),
	{.name = NULL},
};

const struct drop_profile drop_oneroster = {
	.name = "oneroster",
	.about = "OneRoster 1.1 CSV bundle (manifest.csv): orgs, academicSessions, courses, classes, "
	"users, enrollments",
	.files = files,
	.manifest = "manifest.csv",
	.increments = 0,
};
