/* Tyler Munis HR extracts (vendor reference 4.3): no public standard, so
 * each district's export differs. "munis" reads the CSV profiles (comma
 * or pipe, auto-detected; header names as districts spell them);
 * "munis-fixed" reads the fixed-width profile below. Both give the raw
 * stream munis_employees, one record per file row (an employee with
 * several jobs has several rows). SSN and birth-date columns are dropped
 * at read time.
 *
 * munis-fixed layout (0-based character ranges, end exclusive; text is
 * space-padded on the right, numbers zero-padded on the left; no header):
 *
 *   EmployeeNumber   0-6     zero-padded ("001007"), kept as given
 *   LastName         6-36
 *   FirstName       36-56
 *   MiddleInitial   56-57
 *   Location        57-61    Munis location code
 *   JobClass        61-71
 *   Status          71-72    STAT code (A, L, T, R, ...)
 *   HireDate        72-80    YYYYMMDD
 *   TermDate        80-88    YYYYMMDD; blank or 00000000 while active
 *   FTE             88-93    "1.000"
 *   Department      93-99
 *   BargainingUnit  99-105
 *   SSN            105-114   never read
 *   PrimaryJob     114-115   Y/N
 *   LocationDesc   115-145
 *   JobClassDesc   145-175
 *   WorkEmail      175-235
 *
 * A record is 235 characters; at least 115 (through PrimaryJob) must be
 * there, as tools that strip trailing blanks cut the descriptive fields
 * at the end. The last line is the trailer "TRL" + the record count,
 * 9 digits zero-padded (characters 3-12); a file without it, or with a
 * different count, was cut short and is refused. */
#include "engine/drop.h"
#include "vendor/munis/munis.h"

#include <stddef.h>

static const char *const employee_keys[] = {"EmployeeNumber", NULL};

/* The fold key is EmployeeNumber+JobClass+Location (one record per job),
 * so JobClass comes before Location in the tables. */
static const struct drop_col csv_cols[] = {
	{"EmployeeNumber|Employee|Employee Number|EmpNo|Emp_No|Emp No|Emp Num|Employee ID",
	 "EmployeeNumber", DT_STR, DC_REQUIRED | DC_KEY, 0, 0},
	{"LastName|Last Name|Last|LName|Surname", "LastName", DT_STR, DC_REQUIRED, 0, 0},
	{"FirstName|First Name|First|FName", "FirstName", DT_STR, DC_REQUIRED, 0, 0},
	{"MiddleInitial|MI|Middle Initial|Middle|Middle Name", "MiddleInitial", DT_STR, 0, 0, 0},
	{"PreferredName|Preferred Name|Preferred|Nickname", "PreferredName", DT_STR, 0, 0, 0},
	{"JobClass|Job Class|Job Class Code|JobCode|Job Code", "JobClass", DT_STR, DC_KEY, 0, 0},
	{"JobClassDesc|Job Class Desc|Job Class Description|JobDesc|Job Title", "JobClassDesc",
	 DT_STR, 0, 0, 0},
	{"Location|Loc|Location Code|LocCode|Building", "Location", DT_STR, DC_KEY, 0, 0},
	{"LocationDesc|Location Desc|Location Description|LocDesc|Building Name", "LocationDesc",
	 DT_STR, 0, 0, 0},
	{"Department|Dept|Org|Department Code", "Department", DT_STR, 0, 0, 0},
	{"BargainingUnit|Group|Group/BU|Bargaining Unit|BU", "BargainingUnit", DT_STR, 0, 0, 0},
	{"Status|STAT|Employee Status|Status Code", "Status", DT_STR, DC_REQUIRED, 0, 0},
	{"HireDate|Hire Date|Date Hired|Start Date", "HireDate", DT_DATE, 0, 0, 0},
	{"TermDate|Term Date|Termination Date|Date Terminated", "TermDate", DT_DATE, 0, 0, 0},
	{"FTE|FTE Percent", "FTE", DT_NUM, 0, 0, 0},
	{"WorkEmail|Work Email|Email|Email Address", "WorkEmail", DT_STR, 0, 0, 0},
	{"PrimaryJob|Primary|Primary Job|Primary Position|IsPrimary", "PrimaryJob", DT_BOOL, 0,
	 0, 0},
	{"SSN|Social Security|Social Security Number|SocSecNo|SSN4|TaxId", NULL, DT_STR,
	 DC_SENSITIVE, 0, 0},
	{"DOB|BirthDate|Birth Date|Date of Birth", NULL, DT_STR, DC_SENSITIVE, 0, 0},
	{NULL, NULL, DT_STR, 0, 0, 0},
};

static const struct drop_col fixed_cols[] = {
	{"EmployeeNumber", "EmployeeNumber", DT_STR, DC_REQUIRED | DC_KEY, 0, 6},
	{"LastName", "LastName", DT_STR, DC_REQUIRED, 6, 36},
	{"FirstName", "FirstName", DT_STR, DC_REQUIRED, 36, 56},
	{"MiddleInitial", "MiddleInitial", DT_STR, 0, 56, 57},
	{"JobClass", "JobClass", DT_STR, DC_KEY, 61, 71},
	{"JobClassDesc", "JobClassDesc", DT_STR, 0, 145, 175},
	{"Location", "Location", DT_STR, DC_KEY, 57, 61},
	{"LocationDesc", "LocationDesc", DT_STR, 0, 115, 145},
	{"Department", "Department", DT_STR, 0, 93, 99},
	{"BargainingUnit", "BargainingUnit", DT_STR, 0, 99, 105},
	{"Status", "Status", DT_STR, DC_REQUIRED, 71, 72},
	{"HireDate", "HireDate", DT_DATE, 0, 72, 80},
	{"TermDate", "TermDate", DT_DATE, 0, 80, 88},
	{"FTE", "FTE", DT_NUM, 0, 88, 93},
	{"WorkEmail", "WorkEmail", DT_STR, 0, 175, 235},
	{"PrimaryJob", "PrimaryJob", DT_BOOL, 0, 114, 115},
	{"SSN", NULL, DT_STR, DC_SENSITIVE, 105, 114},
	{NULL, NULL, DT_STR, 0, 0, 0},
};

static const struct drop_file csv_files[] = {
	{.name = "*", .stream = "munis_employees", .keys = employee_keys, .cols = csv_cols},
	{.name = NULL},
};

static const struct drop_file fixed_files[] = {
	{.name = "*",
	 .stream = "munis_employees",
	 .keys = employee_keys,
	 .cols = fixed_cols,
	 .fixed = 1,
	 .min_len = 115,
	 .trailer = "TRL",
	 .trailer_start = 3,
	 .trailer_end = 12},
	{.name = NULL},
};

/* Each file is a whole snapshot of the employees: increments 0. */
const struct drop_profile drop_munis = {
	.name = "munis",
	.about = "Tyler Munis HR employee extract: CSV with a header, comma or pipe",
	.files = csv_files,
	.increments = 0,
};
const struct drop_profile drop_munis_fixed = {
	.name = "munis-fixed",
	.about = "Tyler Munis HR employee extract: fixed width with a TRL count trailer",
	.files = fixed_files,
	.increments = 0,
};
