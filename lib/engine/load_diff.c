/* load-csv, part two: the file a stream would replace, read back and
 * compared with the new rows by key; the change set; the hold rule.
 *
 * Both sides are compared as canonical CSV records: each cell written by
 * csvw_cell, the way load-csv writes it. The previous file's cells are
 * unquoted and written again, so a file quoted another way (a spreadsheet
 * saved it) still compares equal cell by cell. A stream's key is its
 * leading sort columns: people by id (by id, source and source_id when id
 * is empty), memberships by source, group_id, person_id and role, the
 * others by source and source_id. */
#include "engine/load_int.h"
#include "core/log.h"
#include "core/vec.h"
#include "format/csvw.h"
#include "format/jsonw.h"

#include <errno.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

#define ARENA_CAP ((size_t)64 << 30)

/* ---- reading a CSV file back ---- */

struct csvin {
	FILE *f;
	const char *path;
	char blk[1 << 16];
	size_t pos, len;
	int eof;
	long line; /* lines read so far */
	EVP_MD_CTX *md;
};

static int fill(struct csvin *c, struct rt_err *e)
{
	c->pos = 0;
	c->len = fread(c->blk, 1, sizeof c->blk, c->f);
	if (c->len < sizeof c->blk) {
		if (ferror(c->f)) {
			err_set(e, ERR_IO, "%s: read: %s", c->path, strerror(errno));
			return -1;
		}
		c->eof = 1;
	}
	if (c->md && c->len)
		EVP_DigestUpdate(c->md, c->blk, c->len);
	return 0;
}

/* The next record's bytes, without its line end, in rec: 1, 0 at the
 * end, -1 with e (a quoted cell not closed, a read error). Blank lines are
 * skipped. */
static int next_record(struct csvin *c, struct buf *rec, struct rt_err *e)
{
	int inq = 0;
	long first = c->line + 1;
	buf_reset(rec);
	for (;;) {
		if (c->pos == c->len) {
			if (c->eof)
				break;
			if (fill(c, e))
				return -1;
			continue;
		}
		const char *p = c->blk + c->pos, *end = c->blk + c->len;
		const char *q = memchr(p, '\n', (size_t)(end - p));
		if (!q)
			q = end;
		/* quotes toggle whether a line end ends the record */
		for (const char *d = p; (d = memchr(d, '"', (size_t)(q - d))); d++)
			inq = !inq;
		if (buf_add(rec, p, (size_t)(q - p))) {
			err_set(e, ERR_IO, "%s:%ld: a record over %zu bytes", c->path, first, rec->cap);
			return -1;
		}
		c->pos = (size_t)(q - c->blk);
		if (q == end)
			continue;
		c->pos++;
		c->line++;
		if (inq) {
			if (buf_addc(rec, '\n')) {
				err_set(e, ERR_IO, "%s:%ld: a record over %zu bytes", c->path, first,
					rec->cap);
				return -1;
			}
			continue;
		}
		if (rec->len && rec->data[rec->len - 1] == '\r')
			rec->data[--rec->len] = 0;
		if (rec->len)
			return 1;
		first = c->line + 1; /* a blank line */
	}
	if (inq) {
		err_set(e, ERR_DATA, "%s:%ld: a quoted cell opened here is not closed", c->path,
			first);
		return -1;
	}
	if (rec->len && rec->data[rec->len - 1] == '\r')
		rec->data[--rec->len] = 0;
	if (!rec->len)
		return 0;
	c->line++;
	return 1;
}

/* Splits a record into unquoted cells, each NUL-terminated in cells;
 * off[i] is where cell i starts. Returns the number of cells (at most
 * max: it stops there), or -1 when out of memory. */
static int split(const char *p, size_t n, struct buf *cells, size_t *off, int max)
{
	const char *end = p + n;
	int k = 0;
	buf_reset(cells);
	for (;;) {
		size_t at = cells->len;
		if (p < end && *p == '"') {
			p++;
			for (;;) {
				const char *q = memchr(p, '"', (size_t)(end - p));
				if (!q)
					q = end;
				if (buf_add(cells, p, (size_t)(q - p)))
					return -1;
				p = q < end ? q + 1 : end;
				if (p < end && *p == '"') { /* a doubled quote */
					if (buf_addc(cells, '"'))
						return -1;
					p++;
					continue;
				}
				break;
			}
		}
		const char *q = memchr(p, ',', (size_t)(end - p)); /* the rest as it is */
		if (!q)
			q = end;
		if (buf_add(cells, p, (size_t)(q - p)) || buf_add(cells, "", 1))
			return -1;
		if (k < max)
			off[k++] = at;
		if (q == end || k == max)
			return k;
		p = q + 1;
	}
}

static void hex(const unsigned char *d, unsigned n, char out[65])
{
	out[0] = 0;
	for (unsigned i = 0; i < n && i < 32; i++)
		sprintf(out + 2 * i, "%02x", d[i]);
}

static int csvin_open(struct csvin *c, const char *path, struct rt_err *e)
{
	memset(c, 0, sizeof *c);
	c->path = path;
	if (!(c->f = fopen(path, "r"))) {
		if (errno != ENOENT)
			err_set(e, ERR_IO, "%s: %s", path, strerror(errno));
		return errno == ENOENT ? 1 : -1;
	}
	c->md = EVP_MD_CTX_new();
	if (c->md && !EVP_DigestInit_ex(c->md, EVP_sha256(), NULL)) {
		EVP_MD_CTX_free(c->md);
		c->md = NULL;
	}
	return 0;
}

static void csvin_close(struct csvin *c, char sha256[65])
{
	unsigned char d[EVP_MAX_MD_SIZE];
	unsigned n = 0;
	if (sha256) {
		sha256[0] = 0;
		if (c->md && EVP_DigestFinal_ex(c->md, d, &n))
			hex(d, n, sha256);
	}
	EVP_MD_CTX_free(c->md);
	fclose(c->f);
}

int csv_file_stat(const char *path, long *rows, char sha256[65], struct rt_err *e)
{
	struct csvin *c = malloc(sizeof *c);
	struct buf rec;
	int got, rc;
	*rows = 0;
	if (!c) {
		err_set(e, ERR_IO, "%s: out of memory", path);
		return -1;
	}
	if ((rc = csvin_open(c, path, e))) {
		free(c);
		if (rc > 0)
			err_set(e, ERR_IO, "%s: %s", path, strerror(ENOENT));
		return -1;
	}
	buf_init(&rec, 0);
	long n = 0;
	while ((got = next_record(c, &rec, e)) == 1)
		n++;
	*rows = n > 0 ? n - 1 : 0; /* the header is not a row */
	csvin_close(c, sha256);
	buf_free(&rec);
	free(c);
	return got < 0 ? -1 : 0;
}

/* ---- the canonical record ---- */

/* How many leading columns make the key of a row whose first cell is
 * first: people by id alone once they have one. */
static int key_cells(const struct stream *s, const char *first)
{
	return !strcmp(s->cs->fields[0].name, "id") && *first ? 1 : s->nsort;
}

/* The row's canonical record in out; *keylen: its key's bytes. */
static int canonical(struct buf *out, const struct stream *s, const char *const *cells,
		     size_t *keylen)
{
	int k = key_cells(s, cells[0]);
	buf_reset(out);
	for (int i = 0; i < s->ncols; i++) {
		const char *c = cells[i] ? cells[i] : "";
		if ((i && buf_addc(out, ',')) || csvw_cell(out, c, strlen(c)))
			return -1;
		if (i == k - 1)
			*keylen = out->len;
	}
	return 0;
}

void prev_free(struct prev *p)
{
	free(p->arena);
	free(p->r);
	htab_free(&p->idx);
	memset(p, 0, sizeof *p);
}

/* Which column of the file holds each of the stream's fields (-1: none);
 * *same: the file's columns are the stream's, in its order. */
static int header_map(const struct stream *s, const char *cells, const size_t *off, int nc,
		      int *map, int *same, const char *path, struct rt_err *e)
{
	*same = nc == s->ncols;
	for (int i = 0; i < s->ncols; i++) {
		map[i] = -1;
		for (int c = 0; c < nc; c++)
			if (!strcmp(cells + off[c], s->cs->fields[i].name))
				map[i] = c;
		*same &= map[i] == i;
	}
	for (int k = 0; k < s->nsort; k++)
		if (s->sort[k] != k || map[k] < 0) {
			err_set(e, ERR_DATA, "%s: the header has no column %s, so the file cannot be "
				"compared with the new rows (move it away to publish without a "
				"comparison)", path, s->cs->fields[s->sort[k]].name);
			return -1;
		}
	return 0;
}

static int arena_add(struct prev *p, const char *d, size_t n)
{
	if (VEC_RESERVE(p->arena, p->acap, p->alen + n, 1 << 20))
		return -1;
	memcpy(p->arena + p->alen, d, n);
	p->alen += n;
	return 0;
}

/* A row of the file as a canonical record, cells in the stream's order. */
static int rewrite(const struct stream *s, const int *map, const char *rec, size_t len,
		   struct buf *cells, struct buf *out, size_t *keylen)
{
	size_t off[MAX_COLS * 2];
	const char *cv[MAX_COLS];
	int n = split(rec, len, cells, off, MAX_COLS * 2);
	if (n < 0)
		return -1;
	for (int i = 0; i < s->ncols; i++)
		cv[i] = map[i] >= 0 && map[i] < n ? cells->data + off[map[i]] : "";
	return canonical(out, s, cv, keylen);
}

/* Only the key cells of a row whose columns are the stream's. */
static int key_only(const struct stream *s, const char *rec, size_t len, struct buf *cells,
		    struct buf *out, size_t *keylen)
{
	size_t off[MAX_COLS];
	int n = split(rec, len, cells, off, s->nsort);
	if (n < 0)
		return -1;
	const char *first = cells->data + off[0];
	int k = key_cells(s, first);
	buf_reset(out);
	for (int i = 0; i < k; i++) {
		const char *c = i < n ? cells->data + off[i] : "";
		if ((i && buf_addc(out, ',')) || csvw_cell(out, c, strlen(c)))
			return -1;
	}
	*keylen = out->len;
	return 0;
}

int prev_read(struct prev *p, const struct stream *s, const char *path, struct rt_err *e)
{
	struct csvin *c = malloc(sizeof *c);
	struct buf rec, cells, one;
	size_t off[MAX_COLS * 2];
	int map[MAX_COLS], same = 0, got, rc;
	memset(p, 0, sizeof *p);
	for (int i = 0; i < MAX_COLS; i++)
		map[i] = -1;
	if (!c) {
		err_set(e, ERR_IO, "%s: out of memory", path);
		return -1;
	}
	if ((rc = csvin_open(c, path, e))) {
		free(c);
		return rc > 0 ? 0 : -1; /* no previous file: nothing to compare */
	}
	p->exists = 1;
	buf_init(&rec, 0);
	buf_init(&cells, 0);
	buf_init(&one, 0);
	got = next_record(c, &rec, e);
	int nc = got == 1 ? split(rec.data, rec.len, &cells, off, MAX_COLS * 2) : 0;
	rc = got < 0 || nc < 0 ? -1 : 0;
	if (!rc && got == 1)
		rc = header_map(s, cells.data, off, nc, map, &same, path, e);
	p->rewritten = !same;
	memcpy(p->map, map, sizeof map);
	while (!rc && got == 1 && (got = next_record(c, &rec, e)) == 1) {
		size_t keylen = 0, at = p->alen;
		/* the key is always made canonical (a spreadsheet may quote every
		 * cell); the row is kept as it is when the columns are the same,
		 * and made canonical only if it then differs (diff_stream) */
		if ((same ? key_only(s, rec.data, rec.len, &cells, &one, &keylen)
			  : rewrite(s, map, rec.data, rec.len, &cells, &one, &keylen)) ||
		    VEC_RESERVE(p->r, p->cap, p->n + 1, 1024) || arena_add(p, one.data, keylen) ||
		    (same ? arena_add(p, rec.data, rec.len) : arena_add(p, one.data, one.len))) {
			err_set(e, ERR_IO, "%s: out of memory reading it back", path);
			rc = -1;
			break;
		}
		p->r[p->n++] = (struct prev_row){{NULL, keylen}, at, same ? rec.len : one.len, -1, 0};
	}
	if (got < 0)
		rc = -1;
	p->rows = (long)p->n;
	csvin_close(c, p->sha256);
	free(c);
	buf_free(&rec);
	buf_free(&cells);
	buf_free(&one);
	/* the arena no longer moves: index the rows, same keys chained in order */
	for (size_t i = 0; !rc && i < p->n; i++) {
		struct htab_pos at;
		p->r[i].k.key = p->arena + p->r[i].off;
		if (HTAB_RESERVE(&p->idx, p->r, i)) {
			err_set(e, ERR_IO, "%s: out of memory indexing it", path);
			rc = -1;
			break;
		}
		size_t hit = HTAB_LOOKUP(&p->idx, p->r, p->r[i].k.key, p->r[i].k.len, &at);
		if (!hit) {
			htab_set(&p->idx, &at, i);
			continue;
		}
		long j = (long)hit - 1;
		while (p->r[j].next >= 0)
			j = p->r[j].next;
		p->r[j].next = (long)i;
	}
	return rc;
}

/* ---- comparing ---- */

struct emit {
	FILE *f;
	const struct stream *s;
	struct buf line, a, b;
	size_t aoff[MAX_COLS * 2], boff[MAX_COLS * 2];
};

/* "key":{...} of a canonical record's cells */
static int put_key(struct emit *m, const char *cells, const size_t *off, int k)
{
	int rc = buf_adds(&m->line, ",\"key\":{");
	for (int i = 0; i < k; i++) {
		rc |= jsonw_key(&m->line, m->s->cs->fields[i].name, !i);
		rc |= jsonw_str(&m->line, cells + off[i]);
	}
	return rc | buf_addc(&m->line, '}');
}

/* Fields of cells (NULL: none) that differ from other (NULL: every field
 * that is not empty). */
static int put_fields(struct emit *m, const char *name, const char *cells, const size_t *off,
		      const char *other, const size_t *ooff)
{
	int rc = buf_printf(&m->line, ",\"%s\":", name), first = 1;
	if (!cells)
		return rc | buf_adds(&m->line, "null");
	rc |= buf_addc(&m->line, '{');
	for (int i = 0; i < m->s->ncols; i++) {
		const char *v = cells + off[i];
		if (other ? !strcmp(v, other + ooff[i]) : !*v)
			continue;
		rc |= jsonw_key(&m->line, m->s->cs->fields[i].name, first);
		rc |= jsonw_str(&m->line, v);
		first = 0;
	}
	return rc | buf_addc(&m->line, '}');
}

/* One line of the change set: before and after are canonical records
 * (NULL for an add or a remove). */
static int emit(struct emit *m, const char *op, const char *before, size_t blen,
		const char *after, size_t alen, struct rt_err *e)
{
	const char *bc = NULL, *ac = NULL;
	int rc = 0;
	if (before && split(before, blen, &m->b, m->boff, MAX_COLS * 2) >= 0)
		bc = m->b.data;
	if (after && split(after, alen, &m->a, m->aoff, MAX_COLS * 2) >= 0)
		ac = m->a.data;
	if ((before && !bc) || (after && !ac))
		rc = -1;
	const char *kc = ac ? ac : bc;
	const size_t *ko = ac ? m->aoff : m->boff;
	buf_reset(&m->line);
	rc |= buf_adds(&m->line, "{\"stream\":") || jsonw_str(&m->line, m->s->name);
	rc |= buf_printf(&m->line, ",\"op\":\"%s\"", op);
	if (!rc)
		rc |= put_key(m, kc, ko, key_cells(m->s, kc));
	if (!rc) {
		int change = bc && ac;
		rc |= put_fields(m, "before", bc, m->boff, change ? ac : NULL, m->aoff);
		rc |= put_fields(m, "after", ac, m->aoff, change ? bc : NULL, m->boff);
	}
	rc |= buf_adds(&m->line, "}\n");
	if (rc) {
		err_set(e, ERR_IO, "%s: out of memory writing the change set", m->s->name);
		return -1;
	}
	if (fwrite(m->line.data, 1, m->line.len, m->f) != m->line.len) {
		err_set(e, ERR_IO, "writing the change set: %s", strerror(errno));
		return -1;
	}
	return 0;
}

/* Whether previous row j holds the same cells as the canonical record
 * rec: byte for byte, or once rewritten canonically (a file quoted
 * another way). The canonical form of row j is left in canon. */
static int same_row(const struct stream *s, long j, const char *rec, size_t len,
		    struct buf *cells, struct buf *canon)
{
	const struct prev *p = &s->prev;
	const char *row = p->arena + p->r[j].off + p->r[j].k.len;
	size_t rlen = p->r[j].len, keylen;
	buf_reset(canon);
	if (rlen == len && !memcmp(row, rec, len))
		return buf_add(canon, row, rlen) ? -1 : 1;
	if (p->rewritten)
		return buf_add(canon, row, rlen) ? -1 : 0;
	if (rewrite(s, p->map, row, rlen, cells, canon, &keylen))
		return -1;
	return canon->len == len && !memcmp(canon->data, rec, len);
}

int diff_stream(struct stream *s, FILE *changes, struct row_sink *sink, struct rt_err *e)
{
	struct prev *p = &s->prev;
	struct diff *d = &s->diff;
	struct buf rec, cells, canon;
	struct emit m = {.f = changes, .s = s};
	int rc = 0;
	memset(d, 0, sizeof *d);
	d->compared = p->exists;
	d->before = p->rows;
	d->after = (long)s->nrows;
	buf_init(&rec, 0);
	buf_init(&cells, 0);
	buf_init(&canon, 0);
	buf_init(&m.line, 0);
	buf_init(&m.a, 0);
	buf_init(&m.b, 0);
	for (size_t i = 0; i < p->n; i++)
		p->r[i].used = 0;
	for (size_t r = 0; !rc && r < s->nrows; r++) {
		size_t keylen = 0;
		if (canonical(&rec, s, (const char *const *)s->rows[r], &keylen)) {
			err_set(e, ERR_IO, "%s: out of memory comparing", s->name);
			rc = -1;
			break;
		}
		if (sink && (rc = sink->put(sink, rec.data, rec.len, e)))
			break;
		size_t hit = p->n ? HTAB_FIND(&p->idx, p->r, rec.data, keylen) : 0;
		long same = -1, other = -1;
		for (long j = (long)hit - 1; j >= 0 && same < 0; j = p->r[j].next) {
			if (p->r[j].used)
				continue;
			int eq = same_row(s, j, rec.data, rec.len, &cells, &canon);
			if (eq < 0) {
				err_set(e, ERR_IO, "%s: out of memory comparing", s->name);
				rc = -1;
				break;
			}
			if (eq)
				same = j;
			else if (other < 0)
				other = j;
		}
		if (rc)
			break;
		if (same >= 0) {
			p->r[same].used = 1;
		} else if (other >= 0) {
			p->r[other].used = 1;
			d->changed++;
			if (changes && same_row(s, other, rec.data, rec.len, &cells, &canon) < 0)
				rc = -1;
			else if (changes)
				rc = emit(&m, "change", canon.data, canon.len, rec.data, rec.len, e);
		} else {
			d->added++;
			if (changes)
				rc = emit(&m, "add", NULL, 0, rec.data, rec.len, e);
		}
	}
	for (size_t i = 0; !rc && i < p->n; i++)
		if (!p->r[i].used) {
			d->removed++;
			if (changes && same_row(s, (long)i, "", 0, &cells, &canon) < 0)
				rc = -1;
			else if (changes)
				rc = emit(&m, "remove", canon.data, canon.len, NULL, 0, e);
		}
	if (rc && !e->kind)
		err_set(e, ERR_IO, "%s: out of memory comparing", s->name);
	buf_free(&rec);
	buf_free(&cells);
	buf_free(&canon);
	buf_free(&m.line);
	buf_free(&m.a);
	buf_free(&m.b);
	return rc;
}

/* ---- the hold rule ---- */

static int over(const struct load_limit *l, long n, long of)
{
	if (l->kind == LIMIT_OFF)
		return 0;
	if (l->kind == LIMIT_COUNT)
		return n > l->value;
	return n * 100 > l->value * of;
}

static void limit_text(const struct load_limit *l, char *out, size_t n)
{
	snprintf(out, n, l->kind == LIMIT_PERCENT ? "%ld%%" : "%ld rows", l->value);
}

int hold_decide(struct stream *s, const struct load_opts *o)
{
	const struct diff *d = &s->diff;
	int i = (int)(s->cs - canon_streams);
	char lim[32];
	if (!d->compared || !d->before || i < 0 || i >= LOAD_MAX_STREAMS)
		return 0;
	if (!d->after) {
		snprintf(s->reason, sizeof s->reason,
			 "would remove all %ld rows (a stream going to zero rows is always held)",
			 d->before);
		return 1;
	}
	if (d->removed >= o->floor && over(&o->deletes[i], d->removed, d->before)) {
		limit_text(&o->deletes[i], lim, sizeof lim);
		snprintf(s->reason, sizeof s->reason,
			 "would remove %ld of %ld rows (%.1f%%), over the limit of %s", d->removed,
			 d->before, 100.0 * (double)d->removed / (double)d->before, lim);
		return 1;
	}
	if (d->changed >= o->floor && over(&o->changed[i], d->changed, d->before)) {
		limit_text(&o->changed[i], lim, sizeof lim);
		snprintf(s->reason, sizeof s->reason,
			 "would change %ld of %ld rows (%.1f%%), over the limit of %s", d->changed,
			 d->before, 100.0 * (double)d->changed / (double)d->before, lim);
		return 1;
	}
	return 0;
}
