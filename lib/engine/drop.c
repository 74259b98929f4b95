/* The drop engine: reads a file by its profile (lib/engine/drop.h). The
 * profiles are tables (lib/vendor/<vendor>/drop.c); everything that is not a
 * table lives here: header matching, value conversion, fold keys,
 * multi-day records into school days, fixed-width cutting, trailers and
 * the note for the run report. */
#include "engine/drop_int.h"
#include "core/buf.h"
#include "core/civil.h"
#include "core/err.h"
#include "core/htab.h"
#include "core/log.h"
#include "core/utf8.h"
#include "core/vec.h"
#include "format/csvread.h"

#include <cjson/cJSON.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const struct drop_file *drop_file_for(const struct drop_profile *p, const char *name)
{
	for (const struct drop_file *f = p->files; f->name; f++)
		if (!fnmatch(f->name, name, 0))
			return f;
	return NULL;
}

/* The most days one record may span: longer is a typo, not a leave. */
#define MAXSPAN 366

/* ---- reading ---- */


int drop_oom(struct reader *r)
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
		drop_first_name(r->f->cols[i].headers, out, n);
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
int drop_note_key(struct reader *r, const char *key, size_t n, int cancel, long line)
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
int drop_span_of(struct reader *r, const char *t, const char *date, long line, long *z0,
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
		drop_shown_value(t, strlen(t), shown);
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
		drop_trim(&v, &n);
		int cv = n ? r->w->convert(r, i, v, n, &why) : 1;
		if (cv == -2 || buf_addc(&r->txt, 0))
			return -1;
		if (cv == -1) {
			col_name(r, i, name, sizeof name);
			drop_shown_value(v, n, shown);
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
		return rc > 0 ? 0 : drop_oom(r);
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
			rc = drop_oom(r);
			break;
		}
		const char *key = nkey ? (r->key.data ? r->key.data : "") : NULL;
		rc = drop_hand_over(r, text, len, key, nkey ? r->key.len : 0, cancel, line);
	}
	w->end(r);
	return rc;
}

/* Reads the header row: which file column feeds which profile column. */
static int read_header(struct reader *r, const struct csv_row *row)
{
	const struct drop_file *f = r->f;
	char (*nh)[DROP_NAMEMAX] = NULL;
	r->nf = row->n;
	r->hdr = calloc((size_t)row->n, sizeof *r->hdr);
	r->kind = calloc((size_t)row->n, 1);
	nh = calloc((size_t)row->n, sizeof *nh);
	if (!r->hdr || !r->kind || !nh)
		goto nomem;
	for (int j = 0; j < row->n; j++) {
		const char *h = row->f[j];
		size_t n = row->len[j];
		drop_trim(&h, &n);
		if (!(r->hdr[j] = strndup(h, n)))
			goto nomem;
		for (char *c = r->hdr[j]; *c; c++) /* names go into messages */
			if ((unsigned char)*c < 0x20 || *c == 0x7f)
				*c = '?';
		drop_norm_name(h, n, nh[j]);
		r->kind[j] = drop_sensitive_name(nh[j]) ? COL_SENSITIVE : COL_UNKNOWN;
		for (int i = 0; i < r->ncols && nh[j][0]; i++)
			if ((f->cols[i].flags & DC_SENSITIVE) && drop_name_matches(f->cols[i].headers, nh[j]))
				r->kind[j] = COL_SENSITIVE;
	}
	/* a sensitive column is never read, whatever else its name matches */
	for (int i = 0; i < r->ncols; i++) {
		const struct drop_col *c = &f->cols[i];
		r->at[i] = -1;
		if (c->flags & DC_SENSITIVE)
			continue;
		for (int j = 0; j < row->n && r->at[i] < 0; j++) {
			if (r->kind[j] == COL_SENSITIVE || !nh[j][0] || !drop_name_matches(c->headers, nh[j]))
				continue;
			r->at[i] = j;
			r->kind[j] = COL_USED;
		}
	}
	for (int i = 0; i < r->ncols; i++) {
		const struct drop_col *c = &f->cols[i];
		if (!(c->flags & DC_REQUIRED) || (c->flags & DC_SENSITIVE) || r->at[i] >= 0)
			continue;
		char want[96], alts[512], an[DROP_NAMEMAX];
		int best = -1, bestd = 1 << 30;
		for (const char *p = c->headers;;) {
			size_t w = strcspn(p, "|");
			drop_norm_name(p, w, an);
			for (int j = 0; j < row->n; j++) {
				int d = nh[j][0] ? drop_edit_distance(an, nh[j]) : 1 << 29;
				if (d < bestd)
					bestd = d, best = j;
			}
			if (!p[w])
				break;
			p += w + 1;
		}
		drop_first_name(c->headers, want, sizeof want);
		drop_accepted_names(c->headers, alts, sizeof alts);
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
			dup |= drop_name_matches(f->cols[i].headers, nh[j]);
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
	return drop_oom(r);
}

static int all_empty(const struct csv_row *row)
{
	for (int j = 0; j < row->n; j++) {
		const char *v = row->f[j];
		size_t n = row->len[j];
		drop_trim(&v, &n);
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
		drop_trim(&c, &cn);
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
		return drop_oom(r);
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

/* The reader's tables for file f; 0, or -1 out of memory. */
static int reader_init(struct reader *r, const struct drop_file *f)
{
	while (f->cols[r->ncols].headers)
		r->ncols++;
	buf_init(&r->key, 1 << 20);
	buf_init(&r->txt, 1 << 22);
	buf_init(&r->unknown, 4096);
	buf_init(&r->sens, 1024);
	buf_init(&r->json, (size_t)-1 / 4); /* no cap but memory, as cJSON's printing */
	buf_init(&r->fkeys, 1 << 20);
	r->flat = drop_flat_file(f);
	r->w = r->flat ? &drop_flat_writer : &drop_tree_writer;
	r->at = calloc((size_t)r->ncols + 1, sizeof *r->at);
	r->koff = calloc((size_t)r->ncols + 1, sizeof *r->koff);
	r->has = calloc((size_t)r->ncols + 1, 1);
	if (!r->at || !r->koff || !r->has)
		return -1;
	if (r->flat) {
		size_t nc = (size_t)r->ncols + 1;
		r->fkoff = calloc(nc, sizeof *r->fkoff);
		r->fklen = calloc(nc, sizeof *r->fklen);
		r->fval = calloc(nc, sizeof *r->fval);
		r->fvlen = calloc(nc, sizeof *r->fvlen);
		r->fraw = calloc(nc, 1);
		if (!r->fkoff || !r->fklen || !r->fval || !r->fvlen || !r->fraw || drop_flat_keys(r))
			return -1;
	}
	for (int i = 0; i < r->ncols; i++) {
		r->at[i] = -1;
		if (f->fixed && (f->cols[i].flags & DC_SENSITIVE)) {
			char nm[96];
			drop_first_name(f->cols[i].headers, nm, sizeof nm);
			r->st->sensitive_columns++;
			if ((r->sens.len && buf_adds(&r->sens, ", ")) || buf_adds(&r->sens, nm))
				return -1;
		}
	}
	return 0;
}

static void reader_free(struct reader *r)
{
	for (int j = 0; r->hdr && j < r->nf; j++)
		free(r->hdr[j]);
	free(r->hdr);
	free(r->kind);
	free(r->at);
	free(r->koff);
	free(r->has);
	free(r->fkoff);
	free(r->fklen);
	free(r->fval);
	free(r->fvlen);
	free(r->fraw);
	buf_free(&r->fkeys);
	free(r->val);
	free(r->vlen);
	free(r->cp);
	buf_free(&r->key);
	buf_free(&r->txt);
	buf_free(&r->unknown);
	buf_free(&r->sens);
	buf_free(&r->json);
	for (size_t i = 0; i < r->nseen; i++)
		free(r->seen[i].k.key);
	free(r->seen);
	htab_free(&r->seen_index);
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
	if (reader_init(&r, f))
		goto nomem;
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
	reader_free(&r);
	return rc;
}
