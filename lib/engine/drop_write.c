/* How the drop engine writes a file's records: flat files as text in
 * column order, the others through a cJSON tree, two writers behind one
 * interface (struct writer in lib/engine/drop_int.h). */
#include "engine/drop_int.h"
#include "core/buf.h"

#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

/* ---- flat records, written directly ---- */

/* Whether f's records can be written as text in column order instead of
 * through a cJSON tree: every path one plain name given once, values
 * that are strings, numbers or booleans, no consts or extra columns.
 * Then the text is the same as cJSON_PrintUnformatted's, as cJSON keeps
 * members in the order they were added. */
int drop_flat_file(const struct drop_file *f)
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


/* "path": of every flat column into r->fkeys, once per file. */
int drop_flat_keys(struct reader *r)
{
	for (int i = 0; i < r->ncols; i++) {
		const char *p = r->f->cols[i].path;
		size_t n = p ? strlen(p) : 0;
		r->fkoff[i] = r->fkeys.len;
		if (p && buf_reserve(&r->fkeys, 6 * n + 3))
			return -1;
		if (p) {
			char *o = drop_json_put(r->fkeys.data + r->fkeys.len, p, n);
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
	cJSON *dn = drop_item_at(obj, r->f->days_path, &par, seg);
	cJSON *dt = drop_item_at(obj, r->f->date_path, &par, seg);
	return drop_span_of(r, dn && cJSON_IsRaw(dn) ? dn->valuestring : NULL,
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
			o = drop_json_put(o, r->fval[i], r->fvlen[i]);
	}
	*o++ = '}';
	r->json.len = (size_t)(o - r->json.data);
	r->json.data[r->json.len] = 0;
	return 0;
}

/* One record of the row (a day of it when it spans several), its text
 * json[0..len), to the sink. */
int drop_hand_over(struct reader *r, const char *json, size_t len, const char *key,
		   size_t keylen, int cancel, long line)
{
	/* Counting repeated keys holds every key of the file: done for daily
	 * increments (a day's absences), not for whole snapshots, whose
	 * reading must not grow with the file. */
	if (key && r->p->increments && drop_note_key(r, key, keylen, cancel, line))
		return drop_oom(r);
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
	if (!v || !drop_item_at(obj, path, &par, seg) ||
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


/* -- flat: text in column order -- */

/* A record begins and ends in flat_json: nothing to do before or after. */
static int flat_nothing(struct reader *r)
{
	(void)r;
	return 0;
}

static int flat_convert(struct reader *r, int i, const char *v, size_t n, const char **why)
{
	return drop_convert(r->f->cols[i].type, v, n, NULL, &r->txt, why);
}

static int flat_put(struct reader *r, int i)
{
	(void)r, (void)i; /* flat_json writes the values kept in r->txt */
	return 0;
}

static int flat_span(struct reader *r, long line, long *z0, char full[32], char last[32])
{
	const struct drop_file *f = r->f;
	return drop_span_of(r, flat_text(r, f->days_path, 1u << DT_NUM),
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

const struct writer drop_flat_writer = {
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
	return drop_convert(r->f->cols[i].type, v, n, &r->item, &r->txt, why);
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
	return drop_set_path(r->obj, path, item);
}

/* Columns kept under extra_prefix, as given, then the profile's consts. */
static int tree_finish(struct reader *r)
{
	for (int j = 0; r->kind && j < r->nf; j++) {
		if (r->kind[j] != COL_EXTRA)
			continue;
		const char *v = r->val[r->ncols + j];
		size_t n = r->vlen[r->ncols + j];
		drop_trim(&v, &n);
		cJSON *item = n ? drop_str_item(v, n) : NULL;
		if (n && (!item || drop_set_path(r->obj, r->hdr[j], item)))
			return -1;
	}
	for (const struct drop_const *k = r->f->consts; k && k->path; k++) {
		cJSON *item = cJSON_Parse(k->json);
		if (!item || drop_set_path(r->obj, k->path, item))
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

const struct writer drop_tree_writer = {
	.begin = tree_begin,
	.convert = tree_convert,
	.put = tree_put,
	.finish = tree_finish,
	.span = tree_span,
	.text = tree_record,
	.end = tree_end,
};
