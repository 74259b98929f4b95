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
#include "core/err.h"
#include "format/csvread.h"
#include "vendor/oneroster/oneroster.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

/* Every file's first three columns. */
#define BASE                                                       \
	COL("sourcedId", "sourcedId", DT_STR, DC_REQUIRED | DC_KEY), \
	COL_STR("status", "status"),                                   \
	COL_STR("dateLastModified", "dateLastModified")

static const char *const k_sourced[] = {"sourcedId", NULL};

/* metadata.* extension columns follow (kept under "metadata"). */
static const struct drop_col orgs[] = {
	BASE,
	COL_REQ("name", "name"),
	COL_REQ("type", "type"),
	COL_STR("identifier", "identifier"),
	COL("parentSourcedId", "parent", DT_REF, 0),
	COL_END,
};

static const struct drop_col academic_sessions[] = {
	BASE,
	COL_REQ("title", "title"),
	COL_REQ("type", "type"),
	COL("startDate", "startDate", DT_DATE, DC_REQUIRED),
	COL("endDate", "endDate", DT_DATE, DC_REQUIRED),
	COL("parentSourcedId", "parent", DT_REF, 0),
	COL_STR("schoolYear", "schoolYear"),
	COL_END,
};

static const struct drop_col courses[] = {
	BASE,
	COL("schoolYearSourcedId", "schoolYear", DT_REF, 0),
	COL_REQ("title", "title"),
	COL_STR("courseCode", "courseCode"),
	COL("grades", "grades", DT_LIST, 0),
	COL("orgSourcedId", "org", DT_REF, DC_REQUIRED),
	COL("subjects", "subjects", DT_LIST, 0),
	COL("subjectCodes", "subjectCodes", DT_LIST, 0),
	COL_END,
};

static const struct drop_col classes[] = {
	BASE,
	COL_REQ("title", "title"),
	COL("grades", "grades", DT_LIST, 0),
	COL("courseSourcedId", "course", DT_REF, DC_REQUIRED),
	COL_STR("classCode", "classCode"),
	COL_STR("classType", "classType"),
	COL_STR("location", "location"),
	COL("schoolSourcedId", "school", DT_REF, DC_REQUIRED),
	COL("termSourcedIds", "terms", DT_REFS, DC_REQUIRED),
	COL("subjects", "subjects", DT_LIST, 0),
	COL("subjectCodes", "subjectCodes", DT_LIST, 0),
	COL("periods", "periods", DT_LIST, 0),
	COL_END,
};

static const struct drop_col users[] = {
	BASE,
	COL("enabledUser", "enabledUser", DT_BOOL, 0),
	COL("orgSourcedIds", "orgs", DT_REFS, 0),
	COL_REQ("role", "role"),
	COL_STR("username", "username"),
	COL("userIds", "userIds", DT_USERIDS, 0),
	COL_STR("givenName", "givenName"),
	COL_STR("familyName", "familyName"),
	COL_STR("middleName", "middleName"),
	COL_STR("identifier", "identifier"),
	COL_STR("email", "email"),
	COL_STR("sms", "sms"),
	COL_STR("phone", "phone"),
	COL("agentSourcedIds", "agents", DT_REFS, 0),
	COL("grades", "grades", DT_LIST, 0),
	COL("password", NULL, DT_STR, DC_SENSITIVE),
	COL_END,
};

static const struct drop_col enrollments[] = {
	BASE,
	COL("classSourcedId", "class", DT_REF, DC_REQUIRED),
	COL("schoolSourcedId", "school", DT_REF, DC_REQUIRED),
	COL("userSourcedId", "user", DT_REF, DC_REQUIRED),
	COL_REQ("role", "role"),
	COL("primary", "primary", DT_BOOL, 0),
	COL("beginDate", "beginDate", DT_DATE, 0),
	COL("endDate", "endDate", DT_DATE, 0),
	COL_END,
};

/* Every file is optional here: manifest.csv says which the bundle has
 * (absent: not read; bulk or delta: read, and missing fails its stream). */
#define OR_FILE(n, s, c, x)                                                                \
	{.name = n, .stream = s, .keys = k_sourced, .cols = c, .extra_prefix = x, .optional = 1}

/* Emitted with what others refer to first: orgs, sessions, courses,
 * classes, users, enrollments. */
static const struct drop_file files[] = {
	OR_FILE("orgs.csv", "oneroster_orgs", orgs, "metadata."),
	OR_FILE("academicSessions.csv", "oneroster_academic_sessions", academic_sessions, NULL),
	OR_FILE("courses.csv", "oneroster_courses", courses, NULL),
	OR_FILE("classes.csv", "oneroster_classes", classes, NULL),
	OR_FILE("users.csv", "oneroster_users", users, NULL),
	OR_FILE("enrollments.csv", "oneroster_enrollments", enrollments, NULL),
	DFILE_END,
};

/* manifest.csv: propertyName,value rows, "file.users" -> bulk, delta or absent. */
static int manifest_mode(const char *path, const char *file, char *mode, size_t n,
			 struct rt_err *e)
{
	struct csv_opts co = {.delim = ',', .enc = CSV_ENC_AUTO, .max_field = 0};
	struct csvr *cr = csvr_open(path, "manifest.csv", &co, e);
	struct csv_row *row;
	char want[DROP_NAMEMAX + 8], key[DROP_NAMEMAX];
	int got, first = 1, rc = -1;
	if (!cr)
		return -1;
	snprintf(want, sizeof want, "file.%s", file);
	mode[0] = 0;
	while ((got = csvr_next(cr, &row, e)) == 1) {
		if (first) { /* the header, propertyName,value */
			first = 0;
			drop_norm_name(row->f[0], row->len[0], key);
			if (row->n >= 2 && !strcmp(key, "propertyname"))
				continue;
		}
		if (row->n < 2)
			continue;
		const char *k = row->f[0], *v = row->f[1];
		size_t kn = row->len[0], vn = row->len[1];
		drop_trim(&k, &kn);
		drop_trim(&v, &vn);
		if (kn != strlen(want) || strncasecmp(k, want, kn))
			continue;
		char val[16];
		snprintf(val, sizeof val, "%.*s", (int)(vn < 15 ? vn : 15), v);
		for (char *c = val; *c; c++)
			*c = (char)(*c >= 'A' && *c <= 'Z' ? *c + 32 : *c);
		if (strcmp(val, "bulk") && strcmp(val, "delta") && strcmp(val, "absent")) {
			char sv[48];
			drop_shown_value(v, vn, sv);
			err_set(e, ERR_DATA, "manifest.csv:%ld: %s is '%s', not bulk, delta or absent",
				row->line, want, sv);
			goto out;
		}
		snprintf(mode, n, "%s", val);
		rc = 0;
		goto out;
	}
	if (got == 0) {
		err_set(e, ERR_DATA, "manifest.csv: no %s line", want);
		err_hint(e, "a OneRoster 1.1 manifest lists every file as bulk, delta or absent");
	}
out:
	csvr_close(cr);
	return rc;
}

const struct drop_profile drop_oneroster = {
	.name = "oneroster",
	.about = "OneRoster 1.1 CSV bundle (manifest.csv): orgs, academicSessions, courses, classes, "
	"users, enrollments",
	.files = files,
	.manifest = "manifest.csv",
	.manifest_mode = manifest_mode,
	.increments = 0,
};
