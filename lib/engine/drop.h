#ifndef ROSTER_DROP_H
#define ROSTER_DROP_H
#include "core/err.h"
#include "format/csvread.h"
#include <stddef.h>
/* Drop profiles: what one vendor's file drop looks like, as tables
 * (lib/vendor/<vendor>/drop.c), and the engine (lib/engine/drop.c) that reads a local
 * file by its profile into raw-stream records: the same stream and field
 * names the vendor's API extractor gives, so the same normalize maps them.
 *
 * Header drift: a required column missing fails the file, naming it and
 * the closest header present; an unknown column is a warning (once per
 * file); a bad value in a required field drops that row with an error
 * line naming file:line; a bad optional value drops only that field with
 * a warning. A row with more or fewer fields than the header fails the
 * file at that line (never shifted). Sensitive columns (SSN, passwords)
 * are dropped at read time: their values are never stored, logged or
 * emitted. */
enum drop_type {
	DT_STR,    /* text as given (trimmed of surrounding spaces) */
	DT_DATE,   /* MM/DD/YYYY, M/D/YYYY, YYYYMMDD, YYYY-MM-DD -> "YYYY-MM-DD";
		      an all-zero date (00000000) is "no date": the field is absent */
	DT_TIME,   /* "7:45 AM", "07:45", "0745", "15:45:00" -> "HH:MM" */
	DT_NUM,    /* a decimal number -> JSON number */
	DT_BOOL,   /* Y/N, Yes/No, TRUE/FALSE, T/F, 1/0 (any case) -> true/false */
	DT_LIST,   /* comma-separated inside one cell -> ["a","b"] */
	DT_ONE,    /* one value -> ["a"] (Clever's schools[] from School_id) */
	DT_REF,    /* an id -> {"sourcedId":"id"} (OneRoster) */
	DT_REFS,   /* comma-separated ids -> [{"sourcedId":"a"},...] */
	DT_USERIDS, /* "{type:id},{type:id}" -> [{"type":..,"identifier":..}] */
};
enum {
	DC_REQUIRED = 1,  /* the row is dropped when it is empty or bad */
	DC_SENSITIVE = 2, /* dropped at read time; path is NULL */
	DC_KEY = 4,       /* part of the fold key (in column order) */
	DC_CANCEL = 8,    /* a DT_BOOL that, when true, makes the row a cancellation */
	DC_KEY_ALT = 16,  /* with DC_KEY: the stand-in for the key column before it,
			     used only when that one is empty (Frontline: the
			     confirmation number, else the employee id) */
};
struct drop_col {
	/* Header names this column goes by, "|"-separated; matched ignoring
	 * ASCII case and every character that is not a letter or digit
	 * ("Employee External ID 01" == "employee_external_id_01"). */
	const char *headers;
	const char *path; /* field in the record; dots nest ("name.first"). Two
			     columns may share a header or a path: lists on one
			     path are joined (Teacher_id, Teacher_2_id -> teachers) */
	enum drop_type type;
	unsigned flags;
	int start, end;   /* fixed-width files: character range [start, end), 0-based */
};
/* A field every record of the file gets ("roles.teacher" needs no column). */
struct drop_const {
	const char *path;
	const char *json; /* JSON text: "\"staff\"", "{}", "true" */
};
struct drop_file {
	const char *name;   /* glob for the file's name in the drop ("students.csv", "*") */
	const char *stream; /* raw stream, "munis_employees" */
	const char *const *keys; /* the stream's key_properties */
	const struct drop_col *cols; /* ended by headers == NULL */
	const struct drop_const *consts; /* ended by path == NULL; may be NULL */
	const char *extra_prefix; /* columns starting with this are kept under it, no warning
				     ("metadata." in OneRoster orgs.csv); or NULL */
	/* Fixed-width files: no header; each line is cut by the columns'
	 * start/end. A line shorter than min_len is an error naming its line.
	 * A line starting with trailer is the trailer: the record count at
	 * [trailer_start, trailer_end) must equal the records read. */
	int fixed;
	int min_len;
	const char *trailer;
	int trailer_start, trailer_end;
	/* A bundle may lack this file (its stream, when no other file feeds
	 * it, is left out). 0: the file is required, and a drop without it
	 * fails the stream it feeds. */
	int optional;
	/* Each record spans DT_NUM days (the column at path days_path) from
	 * the DT_DATE at date_path: the engine hands one record per school
	 * day (Monday to Friday) to the sink, each with its own date, Days 1
	 * (the fraction on a last partial day) and its own fold key, so a
	 * later cancellation of one day removes that day only. NULL: no. */
	const char *days_path, *date_path;
};
/* Rows of the profiles' tables, for every vendor's drop.c: a column by
 * its headers, path, type and flags (COL); a string column (COL_STR), a
 * required one (COL_REQ), one never read (COL_GONE: personal data); the
 * end of a table (COL_END). A file of a bundle: its name, stream, keys,
 * columns and whether the bundle may lack it (DFILE); the end (DFILE_END). */
#define COL(h, p, t, fl) {h, p, t, fl, 0, 0}
#define COL_STR(h, p) COL(h, p, DT_STR, 0)
#define COL_REQ(h, p) COL(h, p, DT_STR, DC_REQUIRED)
#define COL_GONE(h) COL(h, NULL, DT_STR, DC_SENSITIVE)
#define COL_END COL(NULL, NULL, DT_STR, 0)
#define DFILE(n, s, k, c, opt) {.name = n, .stream = s, .keys = k, .cols = c, .optional = opt}
#define DFILE_END {.name = NULL}

struct drop_profile {
	const char *name;  /* "munis", "munis-fixed", "frontline", "aesop", "clever", "oneroster", "sds" */
	const char *about; /* one line for --help */
	const struct drop_file *files; /* in the order their streams are emitted; ended by name == NULL */
	/* Bundles: a file that says which others to read (OneRoster's
	 * manifest.csv), or NULL; and how to read it: the mode it gives file
	 * ("users" for users.csv) written to mode (size n): "bulk", "delta"
	 * or "absent". 0, or -1 with e naming the manifest's line. */
	const char *manifest;
	int (*manifest_mode)(const char *path, const char *file, char *mode, size_t n,
			     struct rt_err *e);
	/* Its files are increments (one day's absences), folded together with
	 * --take all; 0: each file is a whole snapshot, and --take all (which
	 * would keep people a newer snapshot dropped) is refused. */
	int increments;
};
/* The profiles are the vendors' (engine/vendor.h: vendor_drop_profile). */
/* The file spec of the profile that a file name belongs to, or NULL. */
const struct drop_file *drop_file_for(const struct drop_profile *p, const char *name);

struct drop_opts {
	struct csv_opts csv; /* encoding and delimiter (fixed files force CSV_FIXED) */
};
/* Where the engine's records go (extract-sftp's ingest layer). */
struct drop_sink {
	void *ctx;
	/* One record of f's stream: key (DC_KEY values joined by '\x1f', or
	 * NULL when the file has no key columns or every part that says who
	 * (the key columns before the first date) is empty: a vacancy is
	 * never folded into another), cancel (1 when a DC_CANCEL column is
	 * true: the record is not data, it removes key; a cancellation with
	 * no key is not passed on), the JSON object. 0, or -1 to stop (the sink filled e). */
	int (*record)(void *ctx, const struct drop_file *f, const char *key, size_t keylen,
		      int cancel, const char *json, size_t len, struct rt_err *e);
};
struct drop_stats {
	long rows;            /* data rows read */
	long records;         /* records handed to the sink (cancellations included) */
	long cancels;
	long rows_dropped;    /* bad required value */
	long fields_dropped;  /* bad optional value */
	long unknown_columns;
	long sensitive_columns;
	char note[512];       /* a summary worth the run report, "" if nothing happened */
};
/* Reads the local file path as f of profile p; shown is its name in
 * messages (the remote name). 0: read completely; -1: the file failed
 * (e names shown:line and what to fix). */
int drop_read(const struct drop_profile *p, const struct drop_file *f, const char *path,
	      const char *shown, const struct drop_opts *o, struct drop_sink *s,
	      struct drop_stats *st, struct rt_err *e);

/* For a profile's own readers (a manifest): */
#define DROP_NAMEMAX 96 /* a normalised header name longer than this is cut */
/* ASCII letters and digits of s[0..n), lower-cased, into out. */
void drop_norm_name(const char *s, size_t n, char out[DROP_NAMEMAX]);
/* s[0..*n) without its leading and trailing spaces and tabs. */
void drop_trim(const char **s, size_t *n);
/* A value for a message: at most 40 bytes (cut on a character
 * boundary), control characters as '?', so one cell cannot flood or
 * forge log lines. */
void drop_shown_value(const char *s, size_t n, char out[48]);
#endif
