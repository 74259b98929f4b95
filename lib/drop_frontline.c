/* Frontline Absence Management (formerly Aesop), vendor reference 5.2
 * and 5.3. "frontline" reads a Report Writer "Excel Compatible (csv)"
 * absence export (labels as Report Writer prints them, with the variants
 * districts' reports use); "aesop" reads the legacy fixed-width daily
 * file (M-D-YYYY.txt). Both give the raw stream frontline_absences, one
 * record per absence day. A Deleted/Cancel row is a cancellation of its
 * fold key: ConfirmationNumber+AbsenceDate, or EmployeeExternalId+
 * AbsenceDate when there is no confirmation number (the Aesop file never
 * has one). */
#include "drop.h"

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

/* The Aesop File Layout, exactly as the reference gives it. */
static const struct drop_col aesop_cols[] = {
	{"Staff Id", "EmployeeExternalId", DT_STR, DC_KEY, 8, 17},
	{"Absence Date", "AbsenceDate", DT_DATE, DC_REQUIRED | DC_KEY, 312, 320},
	{"Shift Description", "Duration", DT_STR, 0, 349, 379},
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
	 .min_len = 1085},
	{.name = NULL},
};

const struct drop_profile drop_frontline = {
	"frontline", "Frontline Absence Management Report Writer CSV (absence days)",
	report_files, NULL};
const struct drop_profile drop_aesop = {
	"aesop", "Frontline/Aesop legacy fixed-width daily absence file (M-D-YYYY.txt)",
	aesop_files, NULL};
