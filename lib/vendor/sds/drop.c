/* Microsoft School Data Sync CSV v2.1: fields named exactly as the SDS
 * headers (sourcedId, givenName, ...), flat records. SDS has no manifest
 * and no status columns. Streams go out in this order: orgs, roles,
 * users, academic sessions, courses, classes, enrollments: normalize takes
 * a person's role from roles.csv, so roles come BEFORE users.
 *
 * demographics.csv, userFlags.csv and relationships.csv are not in this
 * profile, so they are never read: birth data, race, IEP and lunch flags
 * and guardian links are personal data the canonical model has no field
 * for. */
#include "engine/drop.h"

#include <stddef.h>

/* A column whose field is named as its header: STR, REQ (required), KEY
 * (required, a key). */
#define STR(h) COL_STR(h, h)
#define REQ(h) COL_REQ(h, h)
#define KEY(h) COL(h, h, DT_STR, DC_REQUIRED | DC_KEY)

static const char *const k_sourced[] = {"sourcedId", NULL};
static const char *const k_roles[] = {"userSourcedId", "orgSourcedId", "role", NULL};
static const char *const k_enroll[] = {"classSourcedId", "userSourcedId", NULL};

static const struct drop_col orgs[] = {
	KEY("sourcedId"), REQ("name"), REQ("type"), STR("parentSourcedId"), COL_END,
};

static const struct drop_col users[] = {
	KEY("sourcedId"),
	REQ("username"),
	STR("givenName"),
	STR("familyName"),
	COL("password", NULL, DT_STR, DC_SENSITIVE),
	STR("activeDirectoryMatchId"),
	STR("email"),
	STR("phone"),
	STR("sms"),
	COL_END,
};

/* A user may have several rows (one per org and role); isPrimary marks
 * the main one. */
static const struct drop_col roles[] = {
	KEY("userSourcedId"),
	KEY("orgSourcedId"),
	KEY("role"),
	STR("sessionSourcedId"),
	STR("grade"),
	COL("isPrimary", "isPrimary", DT_BOOL, 0),
	COL("roleStartDate", "roleStartDate", DT_DATE, 0),
	COL("roleEndDate", "roleEndDate", DT_DATE, 0),
	COL_END,
};

static const struct drop_col academic_sessions[] = {
	KEY("sourcedId"),
	REQ("title"),
	REQ("type"),
	STR("schoolYear"),
	COL("startDate", "startDate", DT_DATE, 0),
	COL("endDate", "endDate", DT_DATE, 0),
	COL_END,
};

static const struct drop_col courses[] = {
	KEY("sourcedId"),
	STR("orgSourcedId"),
	REQ("title"),
	STR("code"),
	STR("schoolYearSourcedId"),
	STR("subject"),
	STR("grade"),
	COL_END,
};

static const struct drop_col classes[] = {
	KEY("sourcedId"),
	REQ("orgSourcedId"),
	REQ("title"),
	COL("sessionSourcedIds", "sessionSourcedIds", DT_LIST, 0),
	STR("courseSourcedId"),
	COL_END,
};

static const struct drop_col enrollments[] = {
	KEY("classSourcedId"), KEY("userSourcedId"), REQ("role"), COL_END,
};

/* SDS needs orgs, users and roles; a bundle may leave the others out. */
static const struct drop_file files[] = {
	DFILE("orgs.csv", "sds_orgs", k_sourced, orgs, 0),
	DFILE("roles.csv", "sds_roles", k_roles, roles, 0),
	DFILE("users.csv", "sds_users", k_sourced, users, 0),
	DFILE("academicSessions.csv", "sds_academic_sessions", k_sourced, academic_sessions, 1),
	DFILE("courses.csv", "sds_courses", k_sourced, courses, 1),
	DFILE("classes.csv", "sds_classes", k_sourced, classes, 1),
	DFILE("enrollments.csv", "sds_enrollments", k_enroll, enrollments, 1),
	DFILE_END,
};

const struct drop_profile drop_sds = {
	.name = "sds",
	.about = "Microsoft School Data Sync v2.1 CSVs: orgs, roles, users, academicSessions, courses, "
	"classes, enrollments",
	.files = files,
	.manifest = NULL,
	.increments = 0,
};
