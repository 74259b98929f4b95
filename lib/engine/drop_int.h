/* What the parts of the drop engine share: drop.c (reading a file),
 * drop_value.c (names and values), drop_write.c (the two record writers).
 * Only for those files. */
#ifndef ROSTER_DROP_INT_H
#define ROSTER_DROP_INT_H

#include "engine/drop.h"
#include "core/buf.h"
#include "core/htab.h"

#include <cjson/cJSON.h>
#include <stddef.h>

/* A key seen in one file (replacements are counted for the note). */
struct seen {
	struct htab_key k;
	long line;
	int live; /* 0 once a later row cancelled it */
};

struct writer;

enum { COL_USED, COL_UNKNOWN, COL_SENSITIVE, COL_EXTRA };

struct reader {
	const struct drop_profile *p;
	const struct drop_file *f;
	const char *shown;
	struct drop_sink *s;
	struct drop_stats *st;
	struct rt_err *e;
	int ncols;
	int *at;         /* per profile column: its file column, -1 when absent */
	int nf;          /* fields of the header (CSV) */
	char **hdr;      /* per file column: the header as given, trimmed */
	unsigned char *kind; /* per file column: COL_* */
	const char **val; /* per profile column: this row's value (not NUL-terminated) */
	size_t *vlen;
	size_t *cp;      /* fixed width: byte offset of each code point of the line */
	size_t cpn;
	struct buf key, txt, unknown, sens;
	struct buf json;   /* a flat record's text */
	struct buf fkeys;  /* flat: each column's "path": */
	size_t *fkoff, *fklen; /* flat, per profile column: its "path": in fkeys */
	const char **fval; /* flat, per profile column: this record's value text */
	size_t *fvlen;
	unsigned char *fraw; /* flat, per profile column: the value is JSON as it is */
	int flat;          /* flat_file: records written without cJSON */
	const struct writer *w; /* how this file's records are written */
	cJSON *obj;        /* the tree writer: this row's record */
	cJSON *item;       /* the tree writer: the value just converted */
	char *printed;     /* the tree writer: the record's text */
	size_t *koff;      /* per profile column: its value's text in txt */
	unsigned char *has; /* per profile column: whether the record has it */
	struct seen *seen; /* the keys of this file so far */
	size_t nseen, capseen;
	struct htab seen_index;
	long replaced;     /* rows whose key an earlier row of the file had */
	long unmatched;    /* cancellations with no identifying key part */
	long expanded, expanded_days; /* multi-day rows, the day records they gave */
};

struct writer {
	/* Starts the row's record. 0, or -1 out of memory. */
	int (*begin)(struct reader *r);
	/* Converts column i's value (trimmed, not empty): what drop_convert says. */
	int (*convert)(struct reader *r, int i, const char *v, size_t n, const char **why);
	/* Puts the value of column i just converted into the record. 0 or -1. */
	int (*put)(struct reader *r, int i);
	/* After the columns: the rest of the record. 0 or -1. */
	int (*finish)(struct reader *r);
	/* How many school days the record spans (span_of). */
	int (*span)(struct reader *r, long line, long *z0, char full[32], char last[32]);
	/* The record's text in *text, *len (valid until the next call); day and
	 * days, when given, stand for its date and Days (a day of a record
	 * that spans several). 0, or -1 out of memory. */
	int (*text)(struct reader *r, const char *day, const char *days, const char **text,
		    size_t *len);
	/* Frees what the row's record held. */
	void (*end)(struct reader *r);
};

/* drop_value.c */
/* Whether one of the "|"-separated names in alts normalises to name. */
int drop_name_matches(const char *alts, const char *name);
/* Headers that are dropped whatever the profile says: a district's
 * export may carry them under any of these names. */
int drop_sensitive_name(const char *name);
/* Levenshtein distance of two normalised names (both under DROP_NAMEMAX). */
int drop_edit_distance(const char *a, const char *b);
/* The first name of a column ("EmployeeNumber" of "EmployeeNumber|EmpNo"). */
void drop_first_name(const char *alts, char *out, size_t n);
/* "A, B, C" from "A|B|C". */
void drop_accepted_names(const char *alts, char *out, size_t n);
/* n (at least one) ASCII digits: 0 and their value in *out; else -1. */
int drop_digits(const char *s, size_t n, int *out);
/* A cJSON string of s[0..n), or NULL (out of memory). */
cJSON *drop_str_item(const char *s, size_t n);
/* Converts a non-empty trimmed value. 0 with *out (and the value's text
 * for the fold key in txt); 1: a value that means "none" (the field is
 * absent); -1: bad (*why says what was expected); -2: out of memory.
 * out NULL: the text only (flat records are written from it), for the
 * types flat_file allows. */
int drop_convert(enum drop_type t, const char *s, size_t n, cJSON **out, struct buf *txt,
		 const char **why);
/* Puts item at the dotted path of root (creating objects on the way).
 * When the path is already there: arrays are joined (several columns
 * feeding one list), objects are merged (a const "{}" under columns'
 * fields), anything else keeps the first value. Takes item. */
int drop_set_path(cJSON *root, const char *path, cJSON *item);
/* A JSON string as cJSON prints one: '"', '\\' and control characters
 * escaped (\u00xx in lower case but for \b \f \n \r \t), every other
 * byte as it is. */
char *drop_json_put(char *o, const char *s, size_t n);
/* The item at a dotted path of root, or NULL; *parent and seg (the last
 * segment) for replacing it. */
cJSON *drop_item_at(cJSON *root, const char *path, cJSON **parent, char seg[128]);

/* drop_write.c */
/* Whether f's records can be written as text in column order instead of
 * through a cJSON tree: every path one plain name given once, values
 * that are strings, numbers or booleans, no consts or extra columns.
 * Then the text is the same as cJSON_PrintUnformatted's, as cJSON keeps
 * members in the order they were added. */
int drop_flat_file(const struct drop_file *f);
/* "path": of every flat column into r->fkeys, once per file. */
int drop_flat_keys(struct reader *r);
/* One record of the row (a day of it when it spans several), its text
 * json[0..len), to the sink. */
int drop_hand_over(struct reader *r, const char *json, size_t len, const char *key,
		   size_t keylen, int cancel, long line);
/* The two writers: text in column order (flat files), a cJSON tree. */
extern const struct writer drop_flat_writer;
extern const struct writer drop_tree_writer;

/* drop.c, for the writers */
/* Sets r->e to "out of memory"; -1. */
int drop_oom(struct reader *r);
/* Notes the key of a record handed to the sink: a data row whose key a
 * live earlier row of this file has replaces that row (counted, as two
 * postings of one key in one file are worth a look); a cancellation ends
 * the key. 0, or -1 (out of memory). */
int drop_note_key(struct reader *r, const char *key, size_t n, int cancel, long line);
/* How many school days the row spans (f->days_path): 1 when it is one
 * day or less (or cannot be expanded: warned). Else *z0 is its first
 * day (days since 1970), full the Days text of a whole day and last that
 * of the last day ("" when it is whole too), with the digits given ("3.0"
 * -> "1.0" ... "1.0"; "2.5" -> "1.0", "1.0", "0.5"). */
int drop_span_of(struct reader *r, const char *t, const char *date, long line, long *z0,
		 char full[32], char last[32]);

#endif
