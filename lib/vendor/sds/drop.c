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
#include "vendor/sds/sds.h"

#include <stddef.h>

/* A column whose field is named as its header: H_STR, H_REQ (required), H_KEY
 * (required, a key). */
#define H_STR(h) COL_STR(h, h)
#define H_REQ(h) COL_REQ(h, h)
#define H_KEY(h) COL(h, h, DT_STR, DC_REQUIRED | DC_KEY)

static const char *const k_sourced[] = {"sourcedId", NULL};
static const char *const k_roles[] = {"userSourcedId", "orgSourcedId", "role", NULL};
static const char *const k_enroll[] = {"classSourcedId", "userSourcedId", NULL};

static const struct drop_col orgs[] = {
	H_KEY("sourcedId"), H_REQ("name"), H_REQ("type"), H_STR("parentSourcedId"), COL_END,
};

static const struct drop_col users[] = {
	H_KEY("sourcedId"),
	H_REQ("username"),
	H_STR("givenName"),
	H_STR("familyName"),
	COL("password", NULL, DT_STR, DC_SENSITIVE),
	H_STR("activeDirectoryMatchId"),
	H_STR("email"),
	H_STR("phone"),
	H_STR("sms"),
	COL_END,
};

/* A user may have several rows (one per org and role); isPrimary marks
 * the main one. */
static const struct drop_col roles[] = {
	H_KEY("userSourcedId"),
	H_KEY("orgSourcedId"),
	H_KEY("role"),
	H_STR("sessionSourcedId"),
	H_STR("grade"),
	COL("isPrimary", "isPrimary", DT_BOOL, 0),
	COL("roleStartDate", "roleStartDate", DT_DATE, 0),
	COL("roleEndDate", "roleEndDate", DT_DATE, 0),
	COL_END,
};

static const struct drop_col academic_sessions[] = {
	H_KEY("sourcedId"),
	H_REQ("title"),
	H_REQ("type"),
	H_STR("schoolYear"),
	COL("startDate", "startDate", DT_DATE, 0),
	COL("endDate", "endDate", DT_DATE, 0),
	COL_END,
};

static const struct drop_col courses[] = {
	H_KEY("sourcedId"),
	H_STR("orgSourcedId"),
	H_REQ("title"),
	H_STR("code"),
	H_STR("schoolYearSourcedId"),
	H_STR("subject"),
	H_STR("grade"),
	COL_END,
};

static const struct drop_col classes[] = {
	H_KEY("sourcedId"),
	H_REQ("orgSourcedId"),
	H_REQ("title"),
	COL("sessionSourcedIds", "sessionSourcedIds", DT_LIST, 0),
	H_STR("courseSourcedId"),
	COL_END,
};

static const struct drop_col enrollments[] = {
	H_KEY("classSourcedId"), H_KEY("userSourcedId"), H_REQ("role"), COL_END,
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
