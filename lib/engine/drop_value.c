/* The drop engine's pure parts: header names matched and shown, values
 * converted to their JSON types, dotted paths set and found, JSON strings
 * written as cJSON does (lib/engine/drop_int.h). */
#include "engine/drop_int.h"
#include "core/buf.h"
#include "core/civil.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- header names ---- */


static int is_alnum(unsigned char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* ASCII letters and digits of s[0..n), lower-cased, into out. */
void drop_norm_name(const char *s, size_t n, char out[DROP_NAMEMAX])
{
	size_t k = 0;
	for (size_t i = 0; i < n && s[i] && k + 1 < DROP_NAMEMAX; i++) {
		unsigned char c = (unsigned char)s[i];
		if (is_alnum(c))
			out[k++] = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
	}
	out[k] = 0;
}

/* Whether one of the "|"-separated names in alts normalises to name. */
int drop_name_matches(const char *alts, const char *name)
{
	char a[DROP_NAMEMAX];
	for (const char *p = alts;;) {
		size_t w = strcspn(p, "|");
		drop_norm_name(p, w, a);
		if (a[0] && !strcmp(a, name))
			return 1;
		if (!p[w])
			return 0;
		p += w + 1;
	}
}

/* Headers that are dropped whatever the profile says: a district's
 * export may carry them under any of these names. */
int drop_sensitive_name(const char *name)
{
	static const char *const names[] = {"ssn",   "socialsecurity", "socialsecuritynumber",
					    "ssn4",  "taxid",          "password",
					    "pin",   NULL};
	for (int i = 0; names[i]; i++)
		if (!strcmp(names[i], name))
			return 1;
	return 0;
}

/* Levenshtein distance of two normalised names (both under DROP_NAMEMAX). */
int drop_edit_distance(const char *a, const char *b)
{
	int la = (int)strlen(a), lb = (int)strlen(b);
	int row[DROP_NAMEMAX + 1];
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
void drop_first_name(const char *alts, char *out, size_t n)
{
	snprintf(out, n, "%.*s", (int)strcspn(alts, "|"), alts);
}

/* "A, B, C" from "A|B|C". */
void drop_accepted_names(const char *alts, char *out, size_t n)
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
void drop_shown_value(const char *s, size_t n, char out[48])
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

void drop_trim(const char **s, size_t *n)
{
	while (*n && ((*s)[0] == ' ' || (*s)[0] == '\t'))
		(*s)++, (*n)--;
	while (*n && ((*s)[*n - 1] == ' ' || (*s)[*n - 1] == '\t'))
		(*n)--;
}

int drop_digits(const char *s, size_t n, int *out)
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
	if (n == 8 && !drop_digits(s, 8, &y)) {
		if (y == 0)
			return 1;
		drop_digits(s, 4, &y), drop_digits(s + 4, 2, &m), drop_digits(s + 6, 2, &d);
	} else if (n == 10 && s[4] == '-' && s[7] == '-') {
		if (drop_digits(s, 4, &y) || drop_digits(s + 5, 2, &m) || drop_digits(s + 8, 2, &d))
			return -1;
		if (!y && !m && !d)
			return 1;
	} else {
		const char *a = memchr(s, '/', n);
		const char *b = a ? memchr(a + 1, '/', n - (size_t)(a + 1 - s)) : NULL;
		if (!b || a - s > 2 || b - a - 1 > 2 || n - (size_t)(b + 1 - s) != 4 ||
		    drop_digits(s, (size_t)(a - s), &m) || drop_digits(a + 1, (size_t)(b - a - 1), &d) ||
		    drop_digits(b + 1, 4, &y))
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
		if (hl < 1 || hl > 2 || drop_digits(s, hl, &h))
			return -1;
		i = hl + 1;
		if (e - i < 2 || drop_digits(s + i, 2, &m))
			return -1;
		i += 2;
		if (i < e) { /* seconds */
			int sec;
			if (s[i] != ':' || e - i != 3 || drop_digits(s + i + 1, 2, &sec) || sec > 59)
				return -1;
		}
	} else {
		if ((e != 3 && e != 4) || drop_digits(s, e - 2, &h) || drop_digits(s + e - 2, 2, &m))
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

cJSON *drop_str_item(const char *s, size_t n)
{
	char *t = strndup(s, n);
	cJSON *j = t ? cJSON_CreateString(t) : NULL;
	free(t);
	return j;
}

static cJSON *ref_item(const char *s, size_t n)
{
	cJSON *o = cJSON_CreateObject(), *v = drop_str_item(s, n);
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
	drop_trim(&t, &tn);
	drop_trim(&id, &idn);
	if (!tn || !idn) {
		*bad = 1;
		return NULL;
	}
	cJSON *o = cJSON_CreateObject(), *a = drop_str_item(t, tn), *b = drop_str_item(id, idn);
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
		drop_trim(&v, &vn);
		if (vn) {
			cJSON *it = t == DT_REFS      ? ref_item(v, vn)
				    : t == DT_USERIDS ? userid_item(v, vn, &bad)
						      : drop_str_item(v, vn);
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
int drop_convert(enum drop_type t, const char *s, size_t n, cJSON **out, struct buf *txt,
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
		cJSON *v = drop_str_item(s, n);
		if (!v) {
			cJSON_Delete(*out);
			*out = NULL;
		} else {
			cJSON_AddItemToArray(*out, v);
		}
	} else if (t == DT_STR) {
		*out = drop_str_item(s, n);
	}
	return *out ? 0 : -2;
}

/* Puts item at the dotted path of root (creating objects on the way).
 * When the path is already there: arrays are joined (several columns
 * feeding one list), objects are merged (a const "{}" under columns'
 * fields), anything else keeps the first value. Takes item. */
int drop_set_path(cJSON *root, const char *path, cJSON *item)
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


/* A JSON string as cJSON prints one: '"', '\\' and control characters
 * escaped (\u00xx in lower case but for \b \f \n \r \t), every other
 * byte as it is. */
char *drop_json_put(char *o, const char *s, size_t n)
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

/* The item at a dotted path of root, or NULL; *parent and seg (the last
 * segment) for replacing it. */
cJSON *drop_item_at(cJSON *root, const char *path, cJSON **parent, char seg[128])
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

