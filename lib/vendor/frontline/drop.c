/* Frontline Absence Management (formerly Aesop), vendor reference 5.2
 * and 5.3. "frontline" reads a Report Writer "Excel Compatible (csv)"
 * absence export (labels as Report Writer prints them, with the variants
 * districts' reports use); "aesop" reads the legacy fixed-width daily
 * file (M-D-YYYY.txt). Both give the raw stream frontline_absences, one
 * record per absence day. A Deleted/Cancel row is a cancellation of its
 * fold key: ConfirmationNumber+AbsenceDate, or EmployeeExternalId+
 * AbsenceDate when there is no confirmation number (the Aesop file never
 * has one; its key adds the shift). A row with neither (a vacancy) has
 * no key: it is kept as it is, and a cancellation of it cannot be
 * matched (warned, counted in the note). */
#include "engine/drop.h"
#include "vendor/frontline/frontline.h"

#include <stddef.h>

static const char *const absence_keys[] = {"ConfirmationNumber", "EmployeeExternalId",
					   "AbsenceDate", NULL};

static const struct drop_col report_cols[] = {
	{"Confirmation #|Confirmation Number|Conf #|Conf Number|Confirmation",
	 "ConfirmationNumber", DT_STR, DC_KEY, 0, 0},
	{"Employee External ID 01|Employee External ID 1|Employee External ID|Employee ID",
	 "EmployeeExternalId", DT_STR, DC_KEY | DC_KEY_ALT, 0, 0},
	{"Employee|Employee Name", "EmployeeName", DT_STR, 0, 0, 0},
	{"Title|Employee Title", "Title", DT_STR, 0, 0, 0},
	{"Location|School|Location Name", "Location", DT_STR, 0, 0, 0},
	{"Absence Date|Date|Absence Start Date", "AbsenceDate", DT_DATE, DC_REQUIRED | DC_KEY, 0,
	 0},
	{"Start Time", "StartTime", DT_TIME, 0, 0, 0},
	{"End Time", "EndTime", DT_TIME, 0, 0, 0},
	{"Duration|Absence Duration", "Duration", DT_STR, 0, 0, 0},
	{"Days|Absence Days", "Days", DT_NUM, 0, 0, 0},
	{"Absence Reason|Reason", "AbsenceReason", DT_STR, 0, 0, 0},
	{"Approval Status|Approval", "ApprovalStatus", DT_STR, 0, 0, 0},
	{"Substitute External ID 01|Substitute External ID 1|Substitute External ID|"
	 "Substitute ID",
	 "SubstituteExternalId", DT_STR, 0, 0, 0},
	{"Substitute|Substitute Name", "SubstituteName", DT_STR, 0, 0, 0},
	{"Pay Code", "PayCode", DT_STR, 0, 0, 0},
	{"Pay Rate", "PayRate", DT_NUM, 0, 0, 0},
	{"Deleted|Cancelled|Canceled", "Deleted", DT_BOOL, DC_CANCEL, 0, 0},
	{NULL, NULL, DT_STR, 0, 0, 0},
};

/* The Aesop File Layout, exactly as the reference gives it. The fold
 * key is Staff Id + Absence Date + Shift Description, so the AM and the
 * PM half of one person's day are two records. The shift comes after
 * the date: it tells a person's records of a day apart but names no one,
 * so a vacancy (no Staff Id) has no key and every vacancy is kept. A
 * cancellation is the posting sent again with Cancel Y (reference 5.3),
 * so its shift is the posting's: "Full Day" does not cancel a "Half Day
 * AM" posting. Shift Number of Days above 1 is expanded by the engine
 * into one record per school day (days_path, date_path). */
static const struct drop_col aesop_cols[] = {
	{"Staff Id", "EmployeeExternalId", DT_STR, DC_KEY, 8, 17},
	{"Absence Date", "AbsenceDate", DT_DATE, DC_REQUIRED | DC_KEY, 312, 320},
	{"Shift Description", "Duration", DT_STR, DC_KEY, 349, 379},
	{"Shift Number of Days", "Days", DT_NUM, 0, 379, 382},
	{"Sub Staff Id", "SubstituteExternalId", DT_STR, 0, 165, 176},
	{"Sub First Name", "SubstituteFirstName", DT_STR, 0, 176, 206},
	{"Sub Middle Name", "SubstituteMiddleName", DT_STR, 0, 206, 216},
	{"Sub Last Name", "SubstituteLastName", DT_STR, 0, 216, 246},
	{"Sub Pay Code", "PayCode", DT_STR, 0, 775, 795},
	{"External Absence Entitlement Code", "EntitlementCode", DT_STR, 0, 1065, 1085},
	{"Cancel", "Deleted", DT_BOOL, DC_CANCEL, 323, 324},
	{NULL, NULL, DT_STR, 0, 0, 0},
};

static const struct drop_file report_files[] = {
	{.name = "*", .stream = "frontline_absences", .keys = absence_keys, .cols = report_cols},
	{.name = NULL},
};

static const struct drop_file aesop_files[] = {
	{.name = "*",
	 .stream = "frontline_absences",
	 .keys = absence_keys,
	 .cols = aesop_cols,
	 .fixed = 1,
	 .min_len = 1085,
	 .days_path = "Days",
	 .date_path = "AbsenceDate"},
	{.name = NULL},
};

/* Both are increments: each file is one day's absences, folded together
 * with --take all. */
const struct drop_profile drop_frontline = {
	.name = "frontline",
	.about = "Frontline Absence Management Report Writer CSV (absence days)",
	.files = report_files,
	.increments = 1,
};
const struct drop_profile drop_aesop = {
	.name = "aesop",
	.about = "Frontline/Aesop legacy fixed-width daily absence file (M-D-YYYY.txt)",
	.files = aesop_files,
	.increments = 1,
};
