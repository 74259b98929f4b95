/* The drop engine: reads a file by its profile (lib/engine/drop.h). The
 * profiles are tables (lib/vendor/<vendor>/drop.c); everything that is not a
 * table lives here: header matching, value conversion, fold keys,
 * multi-day records into school days, fixed-width cutting, trailers and
 * the note for the run report. */
#include "engine/drop.h"
#include "core/buf.h"
#include "core/civil.h"
#include "core/htab.h"
#include "core/log.h"
#include "core/utf8.h"
#include "core/vec.h"
#include "format/jsonw.h"

#include <cjson/cJSON.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

const struct drop_file *drop_file_for(const struct drop_profile *p, const char *name)
{
	for (const struct drop_file *f = p->files; f->name; f++)
		if (!fnmatch(f->name, name, 0))
			return f;
	return NULL;
}

/* ---- header names ---- */

#define NAMEMAX 96 /* a normalised header name longer than this is cut */

static int is_alnum(unsigned char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* ASCII letters and digits of s[0..n), lower-cased, into out. */
static void norm(const char *s, size_t n, char out[NAMEMAX])
{
	size_t k = 0;
	for (size_t i = 0; i < n && s[i] && k + 1 < NAMEMAX; i++) {
		unsigned char c = (unsigned char)s[i];
		if (is_alnum(c))
			out[k++] = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
	}
	out[k] = 0;
}

/* Whether one of the "|"-separated names in alts normalises to name. */
static int name_matches(const char *alts, const char *name)
{
	char a[NAMEMAX];
	for (const char *p = alts;;) {
		size_t w = strcspn(p, "|");
		norm(p, w, a);
		if (a[0] && !strcmp(a, name))
			return 1;
		if (!p[w])
			return 0;
		p += w + 1;
	}
}

/* Headers that are dropped whatever the profile says: a district's
 * export may carry them under any of these names. */
static int sensitive_name(const char *name)
{
	static const char *const names[] = {"ssn",   "socialsecurity", "socialsecuritynumber",
					    "ssn4",  "taxid",          "password",
					    "pin",   NULL};
	for (int i = 0; names[i]; i++)
		if (!strcmp(names[i], name))
			return 1;
	return 0;
}

/* Levenshtein distance of two normalised names (both under NAMEMAX). */
static int edit_distance(const char *a, const char *b)
{
	int la = (int)strlen(a), lb = (int)strlen(b);
	int row[NAMEMAX + 1];
	for (int j = 0; j <= lb; j++)
		row[j] = j;
	for (int i = 1; i <= la; i++) {
		int diag = row[0];
		row[0] = i;
		for (int j = 1; j <= lb; j++) {
			int up = row[j];
			int best = diag + (a[i - 1] != b[j - 1]);
			if (up + 1 < best)
				best = up + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			row[j] = best;
			diag = up;
		}
	}
	return row[lb];
}

/* The first name of a column ("EmployeeNumber" of "EmployeeNumber|EmpNo"). */
static void first_name(const char *alts, char *out, size_t n)
{
	snprintf(out, n, "%.*s", (int)strcspn(alts, "|"), alts);
}

/* "A, B, C" from "A|B|C". */
static void accepted_names(const char *alts, char *out, size_t n)
{
	size_t k = 0;
	out[0] = 0;
	for (const char *p = alts; *p && k + 1 < n; p++) {
		int w = snprintf(out + k, n - k, "%s", *p == '|' ? ", " : (char[]){*p, 0});
		if (w < 0 || (size_t)w >= n - k)
			break;
		k += (size_t)w;
	}
}

/* A value for a message: at most 40 bytes (cut on a character
 * boundary), control characters as '?', so one cell cannot flood or
 * forge log lines. */
static void shown_value(const char *s, size_t n, char out[48])
{
	size_t k = 0;
	for (size_t i = 0; i < n && k < 40;) {
		unsigned char c = (unsigned char)s[i];
		size_t l = c < 0x80 ? 1 : (c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : 2);
		if (i + l > n || k + l > 40)
			break;
		if (c < 0x20 || c == 0x7f)
			out[k++] = '?';
		else
			memcpy(out + k, s + i, l), k += l;
		i += l;
	}
	if (k < n)
		memcpy(out + k, "...", 3), k += 3;
	out[k] = 0;
}

/* ---- values ---- */

static void trim(const char **s, size_t *n)
{
	while (*n && ((*s)[0] == ' ' || (*s)[0] == '\t'))
		(*s)++, (*n)--;
	while (*n && ((*s)[*n - 1] == ' ' || (*s)[*n - 1] == '\t'))
		(*n)--;
}

static int digits(const char *s, size_t n, int *out)
{
	int v = 0;
	if (!n)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return 0;
}

/* 0 and "YYYY-MM-DD" in out; 1 for an all-zero date (HR systems write
 * 00000000 for "no date"); -1 when it is not a date. */
static int conv_date(const char *s, size_t n, char out[32])
{
	int y = 0, m = 0, d = 0;
	if (n == 8 && !digits(s, 8, &y)) {
		if (y == 0)
			return 1;
		digits(s, 4, &y), digits(s + 4, 2, &m), digits(s + 6, 2, &d);
	} else if (n == 10 && s[4] == '-' && s[7] == '-') {
		if (digits(s, 4, &y) || digits(s + 5, 2, &m) || digits(s + 8, 2, &d))
			return -1;
		if (!y && !m && !d)
			return 1;
	} else {
		const char *a = memchr(s, '/', n);
		const char *b = a ? memchr(a + 1, '/', n - (size_t)(a + 1 - s)) : NULL;
		if (!b || a - s > 2 || b - a - 1 > 2 || n - (size_t)(b + 1 - s) != 4 ||
		    digits(s, (size_t)(a - s), &m) || digits(a + 1, (size_t)(b - a - 1), &d) ||
		    digits(b + 1, 4, &y))
			return -1;
		if (!y && !m && !d)
			return 1;
	}
	if (y < 1 || m < 1 || m > 12 || d < 1 || d > civil_month_days(y, m))
		return -1;
	/* by hand, not snprintf: a date or two in every row (y is 4 digits) */
	out[0] = (char)('0' + y / 1000), out[1] = (char)('0' + y / 100 % 10);
	out[2] = (char)('0' + y / 10 % 10), out[3] = (char)('0' + y % 10);
	out[4] = '-', out[5] = (char)('0' + m / 10), out[6] = (char)('0' + m % 10);
	out[7] = '-', out[8] = (char)('0' + d / 10), out[9] = (char)('0' + d % 10);
	out[10] = 0;
	return 0;
}

/* "7:45 AM", "07:45", "0745", "15:45:00", "7:45:00 PM" -> "HH:MM". */
static int conv_time(const char *s, size_t n, char out[32])
{
	int h, m, ampm = 0; /* 1 AM, 2 PM */
	size_t i = 0, e = n;
	while (e && s[e - 1] == ' ')
		e--;
	if (e >= 2 && (s[e - 1] == 'M' || s[e - 1] == 'm')) {
		char c = s[e - 2];
		if (c == 'A' || c == 'a')
			ampm = 1;
		else if (c == 'P' || c == 'p')
			ampm = 2;
		else
			return -1;
		e -= 2;
		while (e && s[e - 1] == ' ')
			e--;
	}
	const char *colon = memchr(s, ':', e);
	if (colon) {
		size_t hl = (size_t)(colon - s);
		if (hl < 1 || hl > 2 || digits(s, hl, &h))
			return -1;
		i = hl + 1;
		if (e - i < 2 || digits(s + i, 2, &m))
			return -1;
		i += 2;
		if (i < e) { /* seconds */
			int sec;
			if (s[i] != ':' || e - i != 3 || digits(s + i + 1, 2, &sec) || sec > 59)
				return -1;
		}
	} else {
		if ((e != 3 && e != 4) || digits(s, e - 2, &h) || digits(s + e - 2, 2, &m))
			return -1;
	}
	if (m > 59)
		return -1;
	if (ampm) {
		if (h < 1 || h > 12)
			return -1;
		h = h % 12 + (ampm == 2 ? 12 : 0);
	} else if (h > 23) {
		return -1;
	}
	snprintf(out, 32, "%02d:%02d", h, m);
	return 0;
}

/* A decimal number as JSON number text ("+007.50" -> "7.50"), keeping
 * the digits given (an FTE of "1.000" stays 1.000). */
static int conv_num(const char *s, size_t n, struct buf *out)
{
	size_t i = 0;
	int neg = 0;
	if (i < n && (s[i] == '-' || s[i] == '+'))
		neg = s[i++] == '-';
	size_t ib = i;
	while (i < n && s[i] >= '0' && s[i] <= '9')
		i++;
	size_t ie = i, fb = i, fe = i;
	if (i < n && s[i] == '.') {
		fb = ++i;
		while (i < n && s[i] >= '0' && s[i] <= '9')
			i++;
		fe = i;
	}
	if (i != n || (ie == ib && fe == fb))
		return -1;
	while (ie - ib > 1 && s[ib] == '0')
		ib++;
	if ((neg && buf_addc(out, '-')) ||
	    (ie == ib ? buf_addc(out, '0') : buf_add(out, s + ib, ie - ib)) ||
	    (fe > fb && (buf_addc(out, '.') || buf_add(out, s + fb, fe - fb))))
		return -2;
	return 0;
}

static int conv_bool(const char *s, size_t n, int *out)
{
	static const char *const yes[] = {"y", "yes", "true", "t", "1", NULL};
	static const char *const no[] = {"n", "no", "false", "f", "0", NULL};
	char w[8];
	if (n >= sizeof w)
		return -1;
	for (size_t i = 0; i < n; i++)
		w[i] = (char)(s[i] >= 'A' && s[i] <= 'Z' ? s[i] + 32 : s[i]);
	w[n] = 0;
	for (int i = 0; yes[i]; i++)
		if (!strcmp(w, yes[i]))
			return *out = 1, 0;
	for (int i = 0; no[i]; i++)
		if (!strcmp(w, no[i]))
			return *out = 0, 0;
	return -1;
}

static cJSON *str_item(const char *s, size_t n)
{
	char *t = strndup(s, n);
	cJSON *j = t ? cJSON_CreateString(t) : NULL;
	free(t);
	return j;
}

static cJSON *ref_item(const char *s, size_t n)
{
	cJSON *o = cJSON_CreateObject(), *v = str_item(s, n);
	if (!o || !v || !cJSON_AddItemToObject(o, "sourcedId", v)) {
		cJSON_Delete(o);
		cJSON_Delete(v);
		return NULL;
	}
	return o;
}

/* "{type:id}" -> {"type":..,"identifier":..}; NULL and *bad when malformed. */
static cJSON *userid_item(const char *s, size_t n, int *bad)
{
	if (n >= 2 && s[0] == '{' && s[n - 1] == '}')
		s++, n -= 2;
	const char *c = memchr(s, ':', n);
	if (!c) {
		*bad = 1;
		return NULL;
	}
	const char *t = s, *id = c + 1;
	size_t tn = (size_t)(c - s), idn = n - tn - 1;
	trim(&t, &tn);
	trim(&id, &idn);
	if (!tn || !idn) {
		*bad = 1;
		return NULL;
	}
	cJSON *o = cJSON_CreateObject(), *a = str_item(t, tn), *b = str_item(id, idn);
	if (!o || !a || !b || !cJSON_AddItemToObject(o, "type", a) ||
	    !cJSON_AddItemToObject(o, "identifier", b)) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

/* A cell that holds a comma-separated list (braces protect commas of
 * DT_USERIDS items). 1: every item was empty (the field is absent). */
static int conv_list(enum drop_type t, const char *s, size_t n, cJSON **out)
{
	cJSON *a = cJSON_CreateArray();
	int bad = 0;
	if (!a)
		return -2;
	for (size_t i = 0; i <= n && !bad;) {
		size_t j = i;
		int depth = 0;
		while (j < n && (s[j] != ',' || depth)) {
			depth += s[j] == '{' ? 1 : s[j] == '}' ? -1 : 0;
			j++;
		}
		const char *v = s + i;
		size_t vn = j - i;
		trim(&v, &vn);
		if (vn) {
			cJSON *it = t == DT_REFS      ? ref_item(v, vn)
				    : t == DT_USERIDS ? userid_item(v, vn, &bad)
						      : str_item(v, vn);
			if (!it) {
				cJSON_Delete(a);
				return bad ? -1 : -2;
			}
			cJSON_AddItemToArray(a, it);
		}
		i = j + 1;
	}
	if (!cJSON_GetArraySize(a)) {
		cJSON_Delete(a);
		return 1;
	}
	*out = a;
	return 0;
}

/* Converts a non-empty trimmed value. 0 with *out (and the value's text
 * for the fold key in txt); 1: a value that means "none" (the field is
 * absent); -1: bad (*why says what was expected); -2: out of memory.
 * out NULL: the text only (flat records are written from it), for the
 * types flat_file allows. */
static int convert(enum drop_type t, const char *s, size_t n, cJSON **out, struct buf *txt,
		   const char **why)
{
	size_t at = txt->len;
	char tmp[32];
	int b, r;
	cJSON *unused;
	if (!out)
		out = &unused;
	*out = NULL;
	switch (t) {
	case DT_DATE:
		*why = "is not a date (MM/DD/YYYY, YYYYMMDD or YYYY-MM-DD)";
		if ((r = conv_date(s, n, tmp)))
			return r;
		if (buf_adds(txt, tmp))
			return -2;
		if (out == &unused)
			return 0;
		return (*out = cJSON_CreateString(tmp)) ? 0 : -2;
	case DT_TIME:
		*why = "is not a time (h:mm AM/PM, HH:MM or HHMM)";
		if (conv_time(s, n, tmp))
			return -1;
		if (buf_adds(txt, tmp))
			return -2;
		if (out == &unused)
			return 0;
		return (*out = cJSON_CreateString(tmp)) ? 0 : -2;
	case DT_NUM:
		*why = "is not a number";
		if ((r = conv_num(s, n, txt)) || buf_addc(txt, 0))
			return r ? r : -2;
		txt->len--; /* the NUL made the number a C string for CreateRaw */
		if (out == &unused)
			return 0;
		return (*out = cJSON_CreateRaw(txt->data + at)) ? 0 : -2;
	case DT_BOOL:
		*why = "is not a yes/no value (Y/N, Yes/No, TRUE/FALSE, T/F, 1/0)";
		if (conv_bool(s, n, &b))
			return -1;
		if (buf_adds(txt, b ? "true" : "false"))
			return -2;
		if (out == &unused)
			return 0;
		return (*out = cJSON_CreateBool(b)) ? 0 : -2;
	case DT_LIST:
	case DT_REFS:
	case DT_USERIDS:
		*why = "is not a list of {type:id} items";
		if (buf_add(txt, s, n))
			return -2;
		return conv_list(t, s, n, out);
	case DT_ONE:
	case DT_REF:
	case DT_STR:
		break;
	}
	if (buf_add(txt, s, n))
		return -2;
	if (out == &unused)
		return 0;
	if (t == DT_REF)
		*out = ref_item(s, n);
	else if (t == DT_ONE && (*out = cJSON_CreateArray())) {
		cJSON *v = str_item(s, n);
		if (!v) {
			cJSON_Delete(*out);
			*out = NULL;
		} else {
			cJSON_AddItemToArray(*out, v);
		}
	} else if (t == DT_STR) {
		*out = str_item(s, n);
	}
	return *out ? 0 : -2;
}

/* Puts item at the dotted path of root (creating objects on the way).
 * When the path is already there: arrays are joined (several columns
 * feeding one list), objects are merged (a const "{}" under columns'
 * fields), anything else keeps the first value. Takes item. */
static int set_path(cJSON *root, const char *path, cJSON *item)
{
	char seg[128];
	cJSON *o = root;
	for (const char *p = path;;) {
		size_t w = strcspn(p, ".");
		snprintf(seg, sizeof seg, "%.*s", (int)w, p);
		cJSON *child = cJSON_GetObjectItemCaseSensitive(o, seg);
		if (!p[w]) {
			if (!child)
				return cJSON_AddItemToObject(o, seg, item) ? 0 : (cJSON_Delete(item), -1);
			int arrays = cJSON_IsArray(child) && cJSON_IsArray(item);
			if (arrays || (cJSON_IsObject(child) && cJSON_IsObject(item))) {
				while (item->child) {
					cJSON *c = cJSON_DetachItemViaPointer(item, item->child);
					if (arrays)
						cJSON_AddItemToArray(child, c);
					else if (cJSON_GetObjectItemCaseSensitive(child, c->string))
						cJSON_Delete(c);
					else
						cJSON_AddItemToObject(child, c->string, c);
				}
			}
			cJSON_Delete(item);
			return 0;
		}
		if (!child) {
			child = cJSON_CreateObject();
			if (!child || !cJSON_AddItemToObject(o, seg, child)) {
				cJSON_Delete(child);
				cJSON_Delete(item);
				return -1;
			}
		} else if (!cJSON_IsObject(child)) {
			cJSON_Delete(item); /* a profile giving a.b and a: the first wins */
			return 0;
		}
		o = child;
		p += w + 1;
	}
}

/* ---- flat records, written directly ---- */

/* Whether f's records can be written as text in column order instead of
 * through a cJSON tree: every path one plain name given once, values
 * that are strings, numbers or booleans, no consts or extra columns.
 * Then the text is the same as cJSON_PrintUnformatted's, as cJSON keeps
 * members in the order they were added. */
static int flat_file(const struct drop_file *f)
{
	if ((f->consts && f->consts->path) || f->extra_prefix)
		return 0;
	for (const struct drop_col *c = f->cols; c->headers; c++) {
		if (!c->path)
			continue;
		if (strchr(c->path, '.') || (c->type != DT_STR && c->type != DT_DATE &&
					     c->type != DT_TIME && c->type != DT_NUM &&
					     c->type != DT_BOOL))
			return 0;
		for (const struct drop_col *d = f->cols; d < c; d++)
			if (d->path && !strcmp(d->path, c->path))
				return 0;
	}
	return 1;
}

/* A JSON string as cJSON prints one: '"', '\\' and control characters
 * escaped (\u00xx in lower case but for \b \f \n \r \t), every other
 * byte as it is. */
static char *json_put(char *o, const char *s, size_t n)
{
	*o++ = '"';
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c >= 0x20 && c != '"' && c != '\\') {
			*o++ = (char)c;
			continue;
		}
		*o++ = '\\';
		switch (c) {
		case '"': *o++ = '"'; break;
		case '\\': *o++ = '\\'; break;
		case '\b': *o++ = 'b'; break;
		case '\f': *o++ = 'f'; break;
		case '\n': *o++ = 'n'; break;
		case '\r': *o++ = 'r'; break;
		case '\t': *o++ = 't'; break;
		default:
			*o++ = 'u', *o++ = '0', *o++ = '0';
			*o++ = "0123456789abcdef"[c >> 4];
			*o++ = "0123456789abcdef"[c & 15];
		}
	}
	*o++ = '"';
	return o;
}

/* ---- keys seen in one file (replacements are counted for the note) ---- */

struct seen {
	struct htab_key k;
	long line;
	int live; /* 0 once a later row cancelled it */
};


/* ---- school days ---- */

/* The most days one record may span: longer is a typo, not a leave. */
#define MAXSPAN 366

/* The item at a dotted path of root, or NULL; *parent and seg (the last
 * segment) for replacing it. */
static cJSON *item_at(cJSON *root, const char *path, cJSON **parent, char seg[128])
{
	cJSON *o = root;
	for (const char *p = path;;) {
		size_t w = strcspn(p, ".");
		snprintf(seg, 128, "%.*s", (int)w, p);
		cJSON *c = cJSON_GetObjectItemCaseSensitive(o, seg);
		if (!p[w] || !c) {
			*parent = o;
			return c;
		}
		o = c;
		p += w + 1;
	}
}

/* ---- reading ---- */

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

static int oom(struct reader *r)
{
	err_set(r->e, ERR_IO, "%s: out of memory", r->shown);
	return -1;
}

/* The name messages give column i: the file's header, else the profile's. */
static void col_name(const struct reader *r, int i, char *out, size_t n)
{
	if (r->at[i] >= 0 && r->hdr)
		snprintf(out, n, "%s", r->hdr[r->at[i]]);
	else
		first_name(r->f->cols[i].headers, out, n);
}

/* The key parts before the first date key column say whose record it is
 * (every part, when no key column is a date); the parts after it only
 * tell records of one person and day apart (Aesop's shift). */
static int identifying(const struct drop_file *f, int i)
{
	for (int j = 0; j < i; j++)
		if ((f->cols[j].flags & DC_KEY) && f->cols[j].type == DT_DATE)
			return 0;
	return f->cols[i].type != DT_DATE;
}

/* The fold key of the row into r->key: the DC_KEY parts in column order
 * joined by '\x1f', a DC_KEY_ALT column standing in for the part before
 * it when that one is empty; day, when given, in place of the value of
 * the date_path column. *ident: whether an identifying part is
 * non-empty. The number of parts, or -1 (out of memory). */
static int make_key(struct reader *r, const size_t *koff, const unsigned char *has,
		    const char *day, int *ident)
{
	const struct drop_file *f = r->f;
	int nkey = 0, last_empty = 0;
	size_t last_at = 0;
	*ident = 0;
	buf_reset(&r->key);
	for (int i = 0; i < r->ncols; i++) {
		const struct drop_col *c = &f->cols[i];
		if (!(c->flags & DC_KEY) || (c->flags & DC_SENSITIVE))
			continue;
		const char *part = has[i] ? r->txt.data + koff[i] : "";
		if (day && c->type == DT_DATE && c->path && f->date_path &&
		    !strcmp(c->path, f->date_path))
			part = day;
		if (*part && identifying(f, i))
			*ident = 1;
		if (c->flags & DC_KEY_ALT) {
			if (nkey && last_empty) {
				r->key.len = last_at;
				if (r->key.data)
					r->key.data[last_at] = 0;
				if (buf_adds(&r->key, part))
					return -1;
				last_empty = !*part;
			}
			continue;
		}
		if (nkey++ && buf_addc(&r->key, '\x1f'))
			return -1;
		last_at = r->key.len;
		if (buf_adds(&r->key, part))
			return -1;
		last_empty = !*part;
	}
	return nkey;
}

/* "Staff Id" or "Confirmation # or Employee External ID 01": the
 * identifying key columns, for messages. */
static void ident_names(const struct reader *r, char *out, size_t n)
{
	char name[128];
	size_t k = 0;
	out[0] = 0;
	for (int i = 0; i < r->ncols && k + 1 < n; i++) {
		const struct drop_col *c = &r->f->cols[i];
		if (!(c->flags & DC_KEY) || (c->flags & DC_SENSITIVE) || !identifying(r->f, i))
			continue;
		col_name(r, i, name, sizeof name);
		int w = snprintf(out + k, n - k, "%s'%s'", k ? " or " : "", name);
		if (w < 0 || (size_t)w >= n - k)
			break;
		k += (size_t)w;
	}
}

/* Notes the key of a record handed to the sink: a data row whose key a
 * live earlier row of this file has replaces that row (counted, as two
 * postings of one key in one file are worth a look); a cancellation ends
 * the key. 0, or -1 (out of memory). */
static int note_key(struct reader *r, const char *key, size_t n, int cancel, long line)
{
	if (HTAB_RESERVE(&r->seen_index, r->seen, r->nseen))
		return -1;
	struct htab_pos at;
	size_t i = HTAB_LOOKUP(&r->seen_index, r->seen, key, n, &at);
	struct seen *e = i ? &r->seen[i - 1] : NULL;
	if (!e) {
		char *copy = malloc(n + 1);
		if (!copy || VEC_RESERVE(r->seen, r->capseen, r->nseen + 1, 1024)) {
			free(copy);
			return -1;
		}
		memcpy(copy, key, n);
		copy[n] = 0;
		e = &r->seen[r->nseen];
		*e = (struct seen){{copy, n}, 0, 0};
		htab_set(&r->seen_index, &at, r->nseen++);
	} else if (e->live && !cancel) {
		r->replaced++;
		log_info("%s:%ld: the same key as line %ld: this row replaces that one", r->shown,
			 line, e->line);
	}
	e->live = !cancel;
	e->line = line;
	return 0;
}

/* How many school days the row spans (f->days_path): 1 when it is one
 * day or less (or cannot be expanded: warned). Else *z0 is its first
 * day (days since 1970), full the Days text of a whole day and last that
 * of the last day ("" when it is whole too), with the digits given ("3.0"
 * -> "1.0" ... "1.0"; "2.5" -> "1.0", "1.0", "0.5"). */
static int span_of(struct reader *r, const char *t, const char *date, long line, long *z0,
		   char full[32], char last[32])
{
	const struct drop_file *f = r->f;
	if (!t || t[0] == '-')
		return 1;
	const char *dot = strchr(t, '.');
	size_t il = dot ? (size_t)(dot - t) : strlen(t);
	const char *fr = dot ? dot + 1 : "";
	size_t fl = strlen(fr);
	long whole = 0;
	int frac = 0;
	for (size_t i = 0; i < il && whole <= MAXSPAN; i++)
		whole = whole * 10 + (t[i] - '0');
	for (size_t i = 0; i < fl; i++)
		frac |= fr[i] != '0';
	long n = whole + frac;
	if (n < 2)
		return 1;
	char shown[48];
	if (n > MAXSPAN || fl > 20) {
		shown_value(t, strlen(t), shown);
		log_warn("%s:%ld: %s %s is more days than one record can span (%d at most); kept as "
			 "one record, not expanded",
			 r->shown, line, f->days_path, shown, MAXSPAN);
		return 1;
	}
	long y;
	int m, d;
	if (!date || sscanf(date, "%4ld-%2d-%2d", &y, &m, &d) != 3) {
		log_warn("%s:%ld: %s days but no %s: kept as one record, not expanded", r->shown,
			 line, t, f->date_path);
		return 1;
	}
	*z0 = civil_to_days(y, m, d);
	snprintf(full, 32, "1%s%.*s", fl ? "." : "", (int)fl, "00000000000000000000");
	if (frac)
		snprintf(last, 32, "0.%s", fr);
	else
		last[0] = 0;
	return (int)n;
}

/* "path": of every flat column into r->fkeys, once per file. */
static int flat_keys(struct reader *r)
{
	for (int i = 0; i < r->ncols; i++) {
		const char *p = r->f->cols[i].path;
		size_t n = p ? strlen(p) : 0;
		r->fkoff[i] = r->fkeys.len;
		if (p && buf_reserve(&r->fkeys, 6 * n + 3))
			return -1;
		if (p) {
			char *o = json_put(r->fkeys.data + r->fkeys.len, p, n);
			*o++ = ':';
			r->fkeys.len = (size_t)(o - r->fkeys.data);
			r->fkeys.data[r->fkeys.len] = 0;
		}
		r->fklen[i] = r->fkeys.len - r->fkoff[i];
	}
	return 0;
}

/* span_of's texts from a cJSON record: Days when it is a number, the
 * date when it is a string. */
static int span_of_obj(struct reader *r, cJSON *obj, long line, long *z0, char full[32],
		       char last[32])
{
	cJSON *par;
	char seg[128];
	cJSON *dn = item_at(obj, r->f->days_path, &par, seg);
	cJSON *dt = item_at(obj, r->f->date_path, &par, seg);
	return span_of(r, dn && cJSON_IsRaw(dn) ? dn->valuestring : NULL,
		       dt && cJSON_IsString(dt) ? dt->valuestring : NULL, line, z0, full, last);
}

/* The text of a flat record's field at path (the first column giving it
 * a value) when its type is one of types, else NULL. */
static const char *flat_text(const struct reader *r, const char *path, unsigned types)
{
	for (int i = 0; i < r->ncols; i++) {
		const struct drop_col *c = &r->f->cols[i];
		if (c->path && r->has[i] && !strcmp(c->path, path))
			return types & (1u << c->type) ? r->txt.data + r->koff[i] : NULL;
	}
	return NULL;
}

/* A flat record into r->json, the fields in column order (the order set_path
 * would add them); day and days, when given, stand for the values of the
 * date_path and days_path fields. */
static int flat_json(struct reader *r, const char *day, const char *days)
{
	const struct drop_file *f = r->f;
	size_t need = 2;
	/* the values and their lengths first, so the text is reserved once */
	for (int i = 0; i < r->ncols; i++) {
		const struct drop_col *c = &f->cols[i];
		if (!c->path || !r->has[i])
			continue;
		const char *v = r->txt.data + r->koff[i];
		r->fraw[i] = c->type == DT_NUM || c->type == DT_BOOL;
		if (day && !strcmp(c->path, f->date_path))
			v = day, r->fraw[i] = 0;
		else if (days && !strcmp(c->path, f->days_path))
			v = days, r->fraw[i] = 1;
		r->fval[i] = v;
		r->fvlen[i] = strlen(v);
		need += 1 + r->fklen[i] + 6 * r->fvlen[i] + 2;
	}
	buf_reset(&r->json);
	if (buf_reserve(&r->json, need))
		return -1;
	char *o = r->json.data;
	*o++ = '{';
	for (int i = 0; i < r->ncols; i++) {
		if (!r->f->cols[i].path || !r->has[i])
			continue;
		if (o - r->json.data > 1)
			*o++ = ',';
		memcpy(o, r->fkeys.data + r->fkoff[i], r->fklen[i]);
		o += r->fklen[i];
		if (r->fraw[i])
			memcpy(o, r->fval[i], r->fvlen[i]), o += r->fvlen[i];
		else
			o = json_put(o, r->fval[i], r->fvlen[i]);
	}
	*o++ = '}';
	r->json.len = (size_t)(o - r->json.data);
	r->json.data[r->json.len] = 0;
	return 0;
}

/* One record of the row (a day of it when it spans several), its text
 * json[0..len), to the sink. */
static int hand_over(struct reader *r, const char *json, size_t len, const char *key,
		     size_t keylen, int cancel, long line)
{
	/* Counting repeated keys holds every key of the file: done for daily
	 * increments (a day's absences), not for whole snapshots, whose
	 * reading must not grow with the file. */
	if (key && r->p->increments && note_key(r, key, keylen, cancel, line))
		return oom(r);
	int rc = r->s->record(r->s->ctx, r->f, key, keylen, cancel, json, len, r->e);
	if (!rc) {
		r->st->records++;
		r->st->cancels += cancel;
	}
	return rc;
}

/* Puts a new value at an existing path of obj (a day's date and Days). */
static int replace_at(cJSON *obj, const char *path, cJSON *v)
{
	cJSON *par;
	char seg[128];
	if (!v || !item_at(obj, path, &par, seg) ||
	    !cJSON_ReplaceItemInObjectCaseSensitive(par, seg, v)) {
		cJSON_Delete(v);
		return -1;
	}
	return 0;
}

/* ---- the two writers of a file's records ----
 *
 * A flat file's records (flat_file) are written as text straight into
 * r->json, in column order; any other file's go through a cJSON tree.
 * Which one is chosen once per file (r->w); emit_row does the rest. */

struct writer {
	/* Starts the row's record. 0, or -1 out of memory. */
	int (*begin)(struct reader *r);
	/* Converts column i's value (trimmed, not empty): what convert says. */
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

/* -- flat: text in column order -- */

/* A record begins and ends in flat_json: nothing to do before or after. */
static int flat_nothing(struct reader *r)
{
	(void)r;
	return 0;
}

static int flat_convert(struct reader *r, int i, const char *v, size_t n, const char **why)
{
	return convert(r->f->cols[i].type, v, n, NULL, &r->txt, why);
}

static int flat_put(struct reader *r, int i)
{
	(void)r, (void)i; /* flat_json writes the values kept in r->txt */
	return 0;
}

static int flat_span(struct reader *r, long line, long *z0, char full[32], char last[32])
{
	const struct drop_file *f = r->f;
	return span_of(r, flat_text(r, f->days_path, 1u << DT_NUM),
		       flat_text(r, f->date_path, 1u << DT_STR | 1u << DT_DATE | 1u << DT_TIME),
		       line, z0, full, last);
}

static int flat_record(struct reader *r, const char *day, const char *days, const char **text,
		       size_t *len)
{
	if (flat_json(r, day, days))
		return -1;
	*text = r->json.data;
	*len = r->json.len;
	return 0;
}

static void flat_end(struct reader *r)
{
	(void)r;
}

static const struct writer flat_writer = {
	.begin = flat_nothing,
	.convert = flat_convert,
	.put = flat_put,
	.finish = flat_nothing,
	.span = flat_span,
	.text = flat_record,
	.end = flat_end,
};

/* -- tree: a cJSON object per row -- */

static int tree_begin(struct reader *r)
{
	return (r->obj = cJSON_CreateObject()) ? 0 : -1;
}

static int tree_convert(struct reader *r, int i, const char *v, size_t n, const char **why)
{
	cJSON_Delete(r->item);
	r->item = NULL;
	return convert(r->f->cols[i].type, v, n, &r->item, &r->txt, why);
}

static int tree_put(struct reader *r, int i)
{
	const char *path = r->f->cols[i].path;
	cJSON *item = r->item;
	r->item = NULL;
	if (!path) {
		cJSON_Delete(item);
		return 0;
	}
	return set_path(r->obj, path, item);
}

/* Columns kept under extra_prefix, as given, then the profile's consts. */
static int tree_finish(struct reader *r)
{
	for (int j = 0; r->kind && j < r->nf; j++) {
		if (r->kind[j] != COL_EXTRA)
			continue;
		const char *v = r->val[r->ncols + j];
		size_t n = r->vlen[r->ncols + j];
		trim(&v, &n);
		cJSON *item = n ? str_item(v, n) : NULL;
		if (n && (!item || set_path(r->obj, r->hdr[j], item)))
			return -1;
	}
	for (const struct drop_const *k = r->f->consts; k && k->path; k++) {
		cJSON *item = cJSON_Parse(k->json);
		if (!item || set_path(r->obj, k->path, item))
			return -1;
	}
	return 0;
}

static int tree_span(struct reader *r, long line, long *z0, char full[32], char last[32])
{
	return span_of_obj(r, r->obj, line, z0, full, last);
}

static int tree_record(struct reader *r, const char *day, const char *days, const char **text,
		       size_t *len)
{
	if (day && (replace_at(r->obj, r->f->date_path, cJSON_CreateString(day)) ||
		    replace_at(r->obj, r->f->days_path, cJSON_CreateRaw(days))))
		return -1;
	free(r->printed);
	if (!(r->printed = cJSON_PrintUnformatted(r->obj)))
		return -1;
	*text = r->printed;
	*len = strlen(r->printed);
	return 0;
}

static void tree_end(struct reader *r)
{
	cJSON_Delete(r->obj);
	cJSON_Delete(r->item);
	free(r->printed);
	r->obj = r->item = NULL;
	r->printed = NULL;
}

static const struct writer tree_writer = {
	.begin = tree_begin,
	.convert = tree_convert,
	.put = tree_put,
	.finish = tree_finish,
	.span = tree_span,
	.text = tree_record,
	.end = tree_end,
};

/* The row's values in r->val into the record (r->w), their texts into
 * r->txt (r->koff, r->has); *cancel when a DC_CANCEL column is true. 0;
 * 1 when the row is dropped (logged, counted); -1 out of memory. */
static int put_values(struct reader *r, long line, int *cancel)
{
	const struct drop_file *f = r->f;
	char name[128], shown[48];
	memset(r->has, 0, (size_t)r->ncols);
	buf_reset(&r->txt);
	for (int i = 0; i < r->ncols; i++) {
		const struct drop_col *c = &f->cols[i];
		const char *v = r->val[i], *why = "";
		size_t n = r->vlen[i];
		r->koff[i] = r->txt.len;
		if (c->flags & DC_SENSITIVE)
			continue; /* never looked at */
		trim(&v, &n);
		int cv = n ? r->w->convert(r, i, v, n, &why) : 1;
		if (cv == -2 || buf_addc(&r->txt, 0))
			return -1;
		if (cv == -1) {
			col_name(r, i, name, sizeof name);
			shown_value(v, n, shown);
			if (c->flags & DC_REQUIRED) {
				log_msg(LOG_ERROR, "%s:%ld: column '%s': '%s' %s; row dropped", r->shown,
					line, name, shown, why);
				r->st->rows_dropped++;
				return 1;
			}
			log_warn("%s:%ld: column '%s': '%s' %s; field dropped", r->shown, line, name,
				 shown, why);
			r->st->fields_dropped++;
			r->txt.data[r->koff[i]] = 0; /* no key part from a dropped value */
			continue;
		}
		if (cv == 1) {
			if (c->flags & DC_REQUIRED) {
				col_name(r, i, name, sizeof name);
				log_msg(LOG_ERROR, "%s:%ld: required column '%s' is empty; row dropped",
					r->shown, line, name);
				r->st->rows_dropped++;
				return 1;
			}
			continue;
		}
		r->has[i] = 1;
		/* a yes/no value's text is "true" or "false" */
		if ((c->flags & DC_CANCEL) && c->type == DT_BOOL &&
		    !strcmp(r->txt.data + r->koff[i], "true"))
			*cancel = 1;
		if (r->w->put(r, i))
			return -1;
	}
	return r->w->finish(r) ? -1 : 0;
}

/* One data row, its values in r->val: to a record, a dropped row or a
 * dropped field. 0, or -1 (out of memory, the sink stopped). */
static int emit_row(struct reader *r, long line)
{
	const struct drop_file *f = r->f;
	const struct writer *w = r->w;
	int cancel = 0, ident, nkey = 0, rc = w->begin(r) ? -1 : put_values(r, line, &cancel);
	if (!rc)
		nkey = make_key(r, r->koff, r->has, NULL, &ident);
	if (rc || nkey < 0) {
		w->end(r);
		return rc > 0 ? 0 : oom(r);
	}
	/* A cancellation must name whose record it removes: with no
	 * identifying key part (an Aesop vacancy: no staff id) it would
	 * match nothing or, worse, every vacancy of the day. */
	if (cancel && !ident) {
		char names[256];
		ident_names(r, names, sizeof names);
		log_warn("%s:%ld: a cancellation with no %s: it cannot be matched to an earlier "
			 "record; ignored",
			 r->shown, line, names[0] ? names : "key");
		r->unmatched++;
		w->end(r);
		return 0;
	}
	/* A record with no identifying key part is no one's record to
	 * replace: it goes on with no key (appended, never folded), so the
	 * vacancies of a day stay apart. */
	if (!ident)
		nkey = 0;
	/* A record spanning several days is one record per school day, each
	 * with its own date, Days and key, so that a later cancellation of
	 * one day removes that day only. */
	long z = 0;
	char full[32], last[32], day[32];
	int ndays = !f->days_path || !f->date_path ? 1 : w->span(r, line, &z, full, last);
	if (ndays > 1) {
		r->expanded++;
		r->expanded_days += ndays;
	}
	for (int d = 0; !rc && d < ndays; d++) {
		const char *text, *dt = NULL;
		size_t len;
		if (ndays > 1) {
			/* the first day is the date given, even a weekend's */
			while (d && (z++, civil_weekend(z)))
				;
			civil_format(z, day);
			dt = d == ndays - 1 && last[0] ? last : full;
		}
		if (w->text(r, ndays > 1 ? day : NULL, dt, &text, &len) ||
		    (ndays > 1 && nkey && make_key(r, r->koff, r->has, day, &ident) < 0)) {
			rc = oom(r);
			break;
		}
		const char *key = nkey ? (r->key.data ? r->key.data : "") : NULL;
		rc = hand_over(r, text, len, key, nkey ? r->key.len : 0, cancel, line);
	}
	w->end(r);
	return rc;
}

/* Reads the header row: which file column feeds which profile column. */
static int read_header(struct reader *r, const struct csv_row *row)
{
	const struct drop_file *f = r->f;
	char (*nh)[NAMEMAX] = NULL;
	r->nf = row->n;
	r->hdr = calloc((size_t)row->n, sizeof *r->hdr);
	r->kind = calloc((size_t)row->n, 1);
	nh = calloc((size_t)row->n, sizeof *nh);
	if (!r->hdr || !r->kind || !nh)
		goto nomem;
	for (int j = 0; j < row->n; j++) {
		const char *h = row->f[j];
		size_t n = row->len[j];
		trim(&h, &n);
		if (!(r->hdr[j] = strndup(h, n)))
			goto nomem;
		for (char *c = r->hdr[j]; *c; c++) /* names go into messages */
			if ((unsigned char)*c < 0x20 || *c == 0x7f)
				*c = '?';
		norm(h, n, nh[j]);
		r->kind[j] = sensitive_name(nh[j]) ? COL_SENSITIVE : COL_UNKNOWN;
		for (int i = 0; i < r->ncols && nh[j][0]; i++)
			if ((f->cols[i].flags & DC_SENSITIVE) && name_matches(f->cols[i].headers, nh[j]))
				r->kind[j] = COL_SENSITIVE;
	}
	/* a sensitive column is never read, whatever else its name matches */
	for (int i = 0; i < r->ncols; i++) {
		const struct drop_col *c = &f->cols[i];
		r->at[i] = -1;
		if (c->flags & DC_SENSITIVE)
			continue;
		for (int j = 0; j < row->n && r->at[i] < 0; j++) {
			if (r->kind[j] == COL_SENSITIVE || !nh[j][0] || !name_matches(c->headers, nh[j]))
				continue;
			r->at[i] = j;
			r->kind[j] = COL_USED;
		}
	}
	for (int i = 0; i < r->ncols; i++) {
		const struct drop_col *c = &f->cols[i];
		if (!(c->flags & DC_REQUIRED) || (c->flags & DC_SENSITIVE) || r->at[i] >= 0)
			continue;
		char want[96], alts[512], an[NAMEMAX];
		int best = -1, bestd = 1 << 30;
		for (const char *p = c->headers;;) {
			size_t w = strcspn(p, "|");
			norm(p, w, an);
			for (int j = 0; j < row->n; j++) {
				int d = nh[j][0] ? edit_distance(an, nh[j]) : 1 << 29;
				if (d < bestd)
					bestd = d, best = j;
			}
			if (!p[w])
				break;
			p += w + 1;
		}
		first_name(c->headers, want, sizeof want);
		accepted_names(c->headers, alts, sizeof alts);
		if (best >= 0 && r->hdr[best][0])
			err_set(r->e, ERR_DATA,
				"%s: required column '%s' is missing (closest header: '%.80s')", r->shown,
				want, r->hdr[best]);
		else
			err_set(r->e, ERR_DATA, "%s: required column '%s' is missing", r->shown, want);
		err_hint(r->e, "the header row (line %ld) must name it; accepted names: %s",
			 row->line, alts);
		free(nh);
		return -1;
	}
	size_t plen = f->extra_prefix ? strlen(f->extra_prefix) : 0;
	for (int j = 0; j < row->n; j++) {
		if (r->kind[j] == COL_SENSITIVE) {
			r->st->sensitive_columns++;
			log_info("%s: column '%s' dropped at read time (personal data that is never "
				 "read)", r->shown, r->hdr[j]);
			if ((r->sens.len && buf_adds(&r->sens, ", ")) || buf_adds(&r->sens, r->hdr[j]))
				goto nomem;
			continue;
		}
		if (r->kind[j] != COL_UNKNOWN)
			continue;
		if (plen && !strncasecmp(r->hdr[j], f->extra_prefix, plen) && r->hdr[j][plen]) {
			r->kind[j] = COL_EXTRA;
			continue;
		}
		char label[128];
		int dup = 0;
		if (!r->hdr[j][0]) { /* a spreadsheet's trailing delimiter, as a rule */
			log_info("%s: column %d has no header name; ignored", r->shown, j + 1);
			continue;
		}
		for (int i = 0; i < r->ncols && nh[j][0]; i++)
			dup |= name_matches(f->cols[i].headers, nh[j]);
		snprintf(label, sizeof label, "%.100s", r->hdr[j]);
		log_warn("%s: %s column '%s' ignored%s", r->shown, dup ? "duplicate" : "unknown",
			 label, dup ? " (the first one is read)" : " (not in this profile)");
		r->st->unknown_columns++;
		if ((r->unknown.len && buf_adds(&r->unknown, ", ")) || buf_adds(&r->unknown, label))
			goto nomem;
	}
	free(nh);
	return 0;
nomem:
	free(nh);
	return oom(r);
}

static int all_empty(const struct csv_row *row)
{
	for (int j = 0; j < row->n; j++) {
		const char *v = row->f[j];
		size_t n = row->len[j];
		trim(&v, &n);
		if (n)
			return 0;
	}
	return 1;
}

static int csv_row(struct reader *r, const struct csv_row *row)
{
	if (row->n != r->nf) {
		if (all_empty(row))
			return 0;
		err_set(r->e, ERR_DATA,
			"%s:%ld: %d field%s, the header has %d: a stray delimiter or a missing "
			"quote; the row is not shifted into the wrong columns",
			r->shown, row->line, row->n, row->n == 1 ? "" : "s", r->nf);
		err_hint(r->e, "fix the export so every row has the header's columns (quote "
			       "values that hold the delimiter)");
		return -1;
	}
	if (all_empty(row))
		return 0; /* a spreadsheet's trailing ",,,," line */
	r->st->rows++;
	for (int i = 0; i < r->ncols; i++) {
		int j = r->at[i];
		r->val[i] = j >= 0 ? row->f[j] : "";
		r->vlen[i] = j >= 0 ? row->len[j] : 0;
	}
	for (int j = 0; j < r->nf; j++) {
		r->val[r->ncols + j] = row->f[j];
		r->vlen[r->ncols + j] = row->len[j];
	}
	return emit_row(r, row->line);
}

/* Code-point offsets of a fixed-width line (the reader gave UTF-8). */
static int cut_points(struct reader *r, const char *s, size_t n, size_t *count)
{
	size_t k = 0;
	for (size_t i = 0; i < n;) {
		if (VEC_RESERVE(r->cp, r->cpn, k + 2, 2048))
			return -1;
		r->cp[k++] = i;
		unsigned char c = (unsigned char)s[i];
		size_t l = c < 0xc0 ? 1 : c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : 2;
		i += l < n - i ? l : n - i;
	}
	if (!r->cpn && !(r->cp = malloc((r->cpn = 1) * sizeof *r->cp)))
		return -1;
	r->cp[k] = n;
	*count = k;
	return 0;
}

static int fixed_row(struct reader *r, const struct csv_row *row, int *trailer_seen)
{
	const struct drop_file *f = r->f;
	const char *s = row->f[0];
	size_t n = row->len[0], cps;
	if (*trailer_seen) {
		err_set(r->e, ERR_DATA, "%s:%ld: a line after the trailer", r->shown, row->line);
		err_hint(r->e, "the trailer must be the last line; two exports may have been "
			       "joined");
		return -1;
	}
	if (f->trailer && !strncmp(s, f->trailer, strlen(f->trailer))) {
		const char *c = (size_t)f->trailer_start < n ? s + f->trailer_start : "";
		size_t cn = (size_t)f->trailer_start < n
				    ? ((size_t)f->trailer_end < n ? (size_t)f->trailer_end : n) -
					      (size_t)f->trailer_start
				    : 0;
		long want = 0;
		trim(&c, &cn);
		for (size_t i = 0; i < cn && want >= 0; i++)
			want = c[i] >= '0' && c[i] <= '9' && want < 100000000000L
				       ? want * 10 + (c[i] - '0')
				       : -1;
		*trailer_seen = 1;
		if (!cn || want < 0) {
			err_set(r->e, ERR_DATA, "%s:%ld: the trailer has no record count at "
						"characters %d-%d",
				r->shown, row->line, f->trailer_start, f->trailer_end);
			return -1;
		}
		if (want != r->st->rows) {
			err_set(r->e, ERR_DATA,
				"%s:%ld: the trailer says %ld records, the file has %ld: the file is "
				"cut short or the export failed",
				r->shown, row->line, want, r->st->rows);
			err_hint(r->e, "run the export again and drop the whole file");
			return -1;
		}
		return 0;
	}
	if (cut_points(r, s, n, &cps))
		return oom(r);
	if (cps < (size_t)f->min_len) {
		err_set(r->e, ERR_DATA,
			"%s:%ld: %zu characters, a record of this layout has at least %d: the line "
			"is cut short or the file is not in the %s layout",
			r->shown, row->line, cps, f->min_len, r->p->name);
		err_hint(r->e, "check the export's layout and that the file was complete");
		return -1;
	}
	r->st->rows++;
	for (int i = 0; i < r->ncols; i++) {
		const struct drop_col *c = &f->cols[i];
		size_t a = (size_t)c->start < cps ? (size_t)c->start : cps;
		size_t b = (size_t)c->end < cps ? (size_t)c->end : cps;
		if (b < a)
			b = a;
		r->val[i] = s + r->cp[a];
		r->vlen[i] = r->cp[b] - r->cp[a];
	}
	return emit_row(r, row->line);
}

/* Appends ", <v> <one|many><what>" to the note. */
static void add_note(char *note, size_t n, long v, const char *one, const char *many,
		     const char *what)
{
	size_t k = strlen(note);
	if (k < n - 1)
		snprintf(note + k, n - k, "%s%ld %s%s", k ? ", " : "", v, v == 1 ? one : many, what);
}

static void make_note(struct reader *r)
{
	struct drop_stats *st = r->st;
	char *note = st->note;
	size_t n = sizeof st->note;
	note[0] = 0;
	if (st->rows_dropped)
		add_note(note, n, st->rows_dropped, "row", "rows", " dropped (bad required values)");
	if (st->fields_dropped)
		add_note(note, n, st->fields_dropped, "field", "fields", " dropped");
	if (r->expanded) {
		add_note(note, n, r->expanded, "multi-day row", "multi-day rows", " expanded into ");
		add_note(note + strlen(note), n - strlen(note), r->expanded_days, "school day",
			 "school days", "");
	}
	if (r->replaced)
		add_note(note, n, r->replaced, "row", "rows",
			 " replaced an earlier row of the file with the same key");
	if (r->unmatched)
		add_note(note, n, r->unmatched, "cancellation", "cancellations",
			 " with no key that could not be matched (ignored)");
	if (st->unknown_columns) {
		add_note(note, n, st->unknown_columns, "unknown column", "unknown columns", ": ");
		size_t k = strlen(note);
		snprintf(note + k, n - k, "%s", r->unknown.data ? r->unknown.data : "");
	}
	if (st->sensitive_columns) {
		size_t k = strlen(note);
		snprintf(note + k, n - k, "%s%s column%s dropped at read time", k ? "; " : "",
			 r->sens.data ? r->sens.data : "", st->sensitive_columns == 1 ? "" : "s");
	}
	utf8_scrub(note);
}

int drop_read(const struct drop_profile *p, const struct drop_file *f, const char *path,
	      const char *shown, const struct drop_opts *o, struct drop_sink *s,
	      struct drop_stats *st, struct rt_err *e)
{
	struct reader r = {.p = p, .f = f, .shown = shown, .s = s, .st = st, .e = e};
	struct csv_opts co = o ? o->csv : (struct csv_opts){0};
	struct csvr *cr = NULL;
	struct csv_row *row;
	int rc = -1, got, header = !f->fixed, trailer_seen = 0;
	memset(st, 0, sizeof *st);
	err_clear(e);
	while (f->cols[r.ncols].headers)
		r.ncols++;
	buf_init(&r.key, 1 << 20);
	buf_init(&r.txt, 1 << 22);
	buf_init(&r.unknown, 4096);
	buf_init(&r.sens, 1024);
	buf_init(&r.json, (size_t)-1 / 4); /* no cap but memory, as cJSON's printing */
	buf_init(&r.fkeys, 1 << 20);
	r.flat = flat_file(f);
	r.w = r.flat ? &flat_writer : &tree_writer;
	r.at = calloc((size_t)r.ncols + 1, sizeof *r.at);
	r.koff = calloc((size_t)r.ncols + 1, sizeof *r.koff);
	r.has = calloc((size_t)r.ncols + 1, 1);
	if (!r.at || !r.koff || !r.has)
		goto nomem;
	if (r.flat) {
		size_t nc = (size_t)r.ncols + 1;
		r.fkoff = calloc(nc, sizeof *r.fkoff);
		r.fklen = calloc(nc, sizeof *r.fklen);
		r.fval = calloc(nc, sizeof *r.fval);
		r.fvlen = calloc(nc, sizeof *r.fvlen);
		r.fraw = calloc(nc, 1);
		if (!r.fkoff || !r.fklen || !r.fval || !r.fvlen || !r.fraw || flat_keys(&r))
			goto nomem;
	}
	for (int i = 0; i < r.ncols; i++) {
		r.at[i] = -1;
		if (f->fixed && (f->cols[i].flags & DC_SENSITIVE)) {
			char nm[96];
			first_name(f->cols[i].headers, nm, sizeof nm);
			st->sensitive_columns++;
			if ((r.sens.len && buf_adds(&r.sens, ", ")) || buf_adds(&r.sens, nm))
				goto nomem;
		}
	}
	if (f->fixed)
		co.delim = CSV_FIXED;
	if (!(cr = csvr_open(path, shown, &co, e)))
		goto out;
	while ((got = csvr_next(cr, &row, e)) == 1) {
		if (header) {
			header = 0;
			if (read_header(&r, row))
				goto out;
			size_t nv = (size_t)r.ncols + (size_t)r.nf + 1;
			r.val = calloc(nv, sizeof *r.val);
			r.vlen = calloc(nv, sizeof *r.vlen);
			if (!r.val || !r.vlen)
				goto nomem;
			continue;
		}
		if (f->fixed && !r.val) {
			r.val = calloc((size_t)r.ncols + 1, sizeof *r.val);
			r.vlen = calloc((size_t)r.ncols + 1, sizeof *r.vlen);
			if (!r.val || !r.vlen)
				goto nomem;
		}
		if (f->fixed ? fixed_row(&r, row, &trailer_seen) : csv_row(&r, row))
			goto out;
	}
	if (got < 0)
		goto out;
	if (header) {
		err_set(e, ERR_DATA, "%s: the file is empty (no header row)", shown);
		err_hint(e, "the export may have failed or still be running");
		goto out;
	}
	if (f->fixed && f->trailer && !trailer_seen) {
		err_set(e, ERR_DATA,
			"%s: no trailer line (%s...) after %ld records: the file is cut short or the "
			"export failed",
			shown, f->trailer, st->rows);
		err_hint(e, "a complete export ends with its trailer; drop the whole file again");
		goto out;
	}
	rc = 0;
	goto out;
nomem:
	err_set(e, ERR_IO, "%s: out of memory", shown);
out:
	make_note(&r);
	if (cr)
		csvr_close(cr);
	for (int j = 0; r.hdr && j < r.nf; j++)
		free(r.hdr[j]);
	free(r.hdr);
	free(r.kind);
	free(r.at);
	free(r.koff);
	free(r.has);
	free(r.fkoff);
	free(r.fklen);
	free(r.fval);
	free(r.fvlen);
	free(r.fraw);
	buf_free(&r.fkeys);
	free(r.val);
	free(r.vlen);
	free(r.cp);
	buf_free(&r.key);
	buf_free(&r.txt);
	buf_free(&r.unknown);
	buf_free(&r.sens);
	buf_free(&r.json);
	for (size_t i = 0; i < r.nseen; i++)
		free(r.seen[i].k.key);
	free(r.seen);
	htab_free(&r.seen_index);
	return rc;
}

int drop_manifest_mode(const char *path, const char *file, char *mode, size_t n,
		       struct rt_err *e)
{
	struct csv_opts co = {.delim = ',', .enc = CSV_ENC_AUTO, .max_field = 0};
	struct csvr *cr = csvr_open(path, "manifest.csv", &co, e);
	struct csv_row *row;
	char want[NAMEMAX + 8], key[NAMEMAX];
	int got, first = 1, rc = -1;
	if (!cr)
		return -1;
	snprintf(want, sizeof want, "file.%s", file);
	mode[0] = 0;
	while ((got = csvr_next(cr, &row, e)) == 1) {
		if (first) { /* the header, propertyName,value */
			first = 0;
			norm(row->f[0], row->len[0], key);
			if (row->n >= 2 && !strcmp(key, "propertyname"))
				continue;
		}
		if (row->n < 2)
			continue;
		const char *k = row->f[0], *v = row->f[1];
		size_t kn = row->len[0], vn = row->len[1];
		trim(&k, &kn);
		trim(&v, &vn);
		if (kn != strlen(want) || strncasecmp(k, want, kn))
			continue;
		char val[16];
		snprintf(val, sizeof val, "%.*s", (int)(vn < 15 ? vn : 15), v);
		for (char *c = val; *c; c++)
			*c = (char)(*c >= 'A' && *c <= 'Z' ? *c + 32 : *c);
		if (strcmp(val, "bulk") && strcmp(val, "delta") && strcmp(val, "absent")) {
			char sv[48];
			shown_value(v, vn, sv);
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
