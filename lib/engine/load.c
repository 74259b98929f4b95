/* The load-csv stage: reads canonical Singer streams (normalize or dedupe
 * output), compares each complete stream with the file it would replace,
 * and publishes DIR/<stream>.csv for the streams that are complete and
 * not held, then DIR/manifest.json (load_manifest.c). */
#include "engine/load.h"
#include "engine/load_int.h"
#include "core/atomic.h"
#include "core/clock.h"
#include "core/exitcode.h"
#include "core/lines.h"
#include "core/log.h"
#include "core/vec.h"
#include "format/csvw.h"
#include "format/jscan.h"
#include "engine/prog.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define CHUNK (64 * 1024)

void load_opts_init(struct load_opts *o)
{
	memset(o, 0, sizeof *o);
	o->floor = 25;
	for (int i = 0; i < LOAD_MAX_STREAMS; i++) {
		o->deletes[i] = (struct load_limit){LIMIT_PERCENT, 10};
		o->changed[i] = (struct load_limit){LIMIT_PERCENT, 75};
	}
}

static int limit_parse(const char *s, size_t n, struct load_limit *l)
{
	char txt[32], *end;
	if (!n || n >= sizeof txt)
		return -1;
	memcpy(txt, s, n);
	txt[n] = 0;
	if (!strcmp(txt, "off")) {
		*l = (struct load_limit){LIMIT_OFF, 0};
		return 0;
	}
	long v = strtol(txt, &end, 10);
	if (end == txt || v < 0 || (*end && strcmp(end, "%")) || (*end && v > 100))
		return -1;
	*l = (struct load_limit){*end ? LIMIT_PERCENT : LIMIT_COUNT, v};
	return 0;
}

int load_limits_parse(struct load_opts *o, int which, const char *spec, struct rt_err *e)
{
	struct load_limit *set = which == 'd' ? o->deletes : o->changed;
	const char *p = spec;
	for (;;) {
		while (*p == ' ' || *p == ',')
			p++;
		if (!*p)
			break;
		size_t n = strcspn(p, ","), vn = n;
		while (vn && p[vn - 1] == ' ')
			vn--;
		const char *eq = memchr(p, '=', vn), *v = eq ? eq + 1 : p;
		int stream = -1;
		struct load_limit l;
		if (eq) {
			for (int i = 0; i < canon_nstreams; i++)
				if (strlen(canon_streams[i].name) == (size_t)(eq - p) &&
				    !memcmp(canon_streams[i].name, p, (size_t)(eq - p)))
					stream = i;
			if (stream < 0) {
				err_set(e, ERR_USAGE, "hold limit '%.*s': '%.*s' is not a canonical "
					"stream (orgs, people, groups, memberships, positions, absences, "
					"sessions)", (int)vn, p, (int)(eq - p), p);
				return -1;
			}
		}
		while (*v == ' ')
			v++;
		if (limit_parse(v, (size_t)(p + vn - v), &l)) {
			err_set(e, ERR_USAGE, "hold limit '%.*s': give a share (10%%), a count of "
				"rows (500) or off", (int)vn, p);
			return -1;
		}
		for (int i = 0; i < canon_nstreams && i < LOAD_MAX_STREAMS; i++)
			if (stream < 0 || stream == i)
				set[i] = l;
		p += n;
	}
	return 0;
}

int load_init(struct load *L, const struct load_opts *o)
{
	memset(L, 0, sizeof *L);
	buf_init(&L->scratch, 0);
	L->o = o;
	if (!(L->s = calloc((size_t)canon_nstreams, sizeof *L->s)))
		return -1;
	L->n = canon_nstreams;
	L->cap = (size_t)canon_nstreams;
	for (int i = 0; i < L->n; i++)
		load_stream_init(&L->s[i], &canon_streams[i]);
	return 0;
}

void load_stream_init(struct stream *s, const struct canon_stream *cs)
{
	s->cs = cs;
	s->name = cs->name;
	while (cs->fields[s->ncols].name) {
		s->flen[s->ncols] = strlen(cs->fields[s->ncols].name);
		s->ncols++;
	}
	for (int k = 0; cs->sort[k]; k++)
		s->sort[s->nsort++] = canon_field_index(cs, cs->sort[k]);
}

void load_free(struct load *L)
{
	for (int i = 0; i < L->n; i++) {
		free(L->s[i].rows); /* the rows themselves live in L->blocks */
		prev_free(&L->s[i].prev);
		if (!L->s[i].cs)
			free((char *)L->s[i].name);
	}
	free(L->s);
	for (size_t b = 0; b < L->nblocks; b++)
		free(L->blocks[b]);
	free(L->blocks);
	buf_free(&L->scratch);
}

static struct stream *stream_get(struct load *L, const char *name)
{
	for (int i = 0; i < L->n; i++)
		if (!strcmp(L->s[i].name, name))
			return &L->s[i];
	if (VEC_RESERVE(L->s, L->cap, (size_t)L->n + 1, 16))
		return NULL;
	struct stream *p = &L->s[L->n];
	memset(p, 0, sizeof *p);
	if (!(p->name = strdup(name)))
		return NULL;
	L->n++; /* counted only once its name is owned, so load_free stays right */
	return p;
}

int load_present(const struct stream *s)
{
	return s->cs ? s->schemas || s->activates || s->records : s->records > 0;
}

/* A number as cJSON prints one (integers plainly, else %.15g or %.17g),
 * so that a cell's text does not depend on how the input spelled it. */
static int render_number(struct buf *b, const char *text, size_t n)
{
	char tmp[64];
	if (n >= sizeof tmp)
		return buf_add(b, text, n);
	memcpy(tmp, text, n);
	tmp[n] = 0;
	double d = strtod(tmp, NULL);
	if (isnan(d) || isinf(d))
		return buf_adds(b, "null");
	if (d == 0 && signbit(d)) /* cJSON keeps the sign of a negative zero */
		return buf_adds(b, "-0");
	int vi = d >= INT_MAX ? INT_MAX : d <= (double)INT_MIN ? INT_MIN : (int)d;
	if (d == (double)vi)
		return buf_printf(b, "%d", vi);
	snprintf(tmp, sizeof tmp, "%1.15g", d);
	if (strtod(tmp, NULL) != d)
		snprintf(tmp, sizeof tmp, "%1.17g", d);
	return buf_adds(b, tmp);
}

/* A JSON value as cell text: arrays joined with ';' (org_ids, grades),
 * an object as field=value pairs (field_sources), and an object inside an
 * array as its values joined with ':' (sources: "clever:123;sis:9").
 * Inside such cells a '\\', ';', ':' or '=' of a value gets a backslash,
 * so "s1;s2" stays one element when the cell is split again. */
static int render(struct buf *b, struct jscan *js, int t, int depth)
{
	const struct jtok *k = &js->tok[t];
	int rc = 0;
	switch (k->type) {
	case JSCAN_NULL: return 0;
	case JSCAN_TRUE: return buf_adds(b, "true");
	case JSCAN_FALSE: return buf_adds(b, "false");
	case JSCAN_NUMBER: return render_number(b, js->text + k->start, (size_t)(k->end - k->start));
	case JSCAN_STRING:
		if (!depth)
			return jscan_unescape(js, t, b);
		buf_reset(&js->tmp);
		if (jscan_unescape(js, t, &js->tmp))
			return -1;
		for (size_t i = 0, from = 0; i <= js->tmp.len && !rc; i++) {
			char c = i < js->tmp.len ? js->tmp.data[i] : 0;
			if (i < js->tmp.len && c != '\\' && c != ';' && c != ':' && c != '=')
				continue;
			rc |= buf_add(b, js->tmp.data + from, i - from); /* the run before it */
			if (i < js->tmp.len)
				rc |= buf_addc(b, '\\') || buf_addc(b, c);
			from = i + 1;
		}
		return rc;
	case JSCAN_ARRAY:
		for (int v = t + 1, i = 0; i < k->size; i++, v = js->tok[v].next) {
			if (i)
				rc |= buf_adds(b, depth ? ":" : ";");
			rc |= render(b, js, v, depth + 1);
		}
		return rc;
	default: /* object */
		for (int key = t + 1, i = 0; i < k->size; i++, key = js->tok[key + 1].next) {
			if (i)
				rc |= buf_adds(b, depth ? ":" : ";");
			if (!depth)
				rc |= jscan_unescape(js, key, b) || buf_addc(b, '=');
			rc |= render(b, js, key + 1, depth + 1);
		}
		return rc;
	}
}

/* The stream's field that key token k names, or -1. */
static int field_of(const struct stream *s, struct jscan *js, int k)
{
	const struct jtok *t = &js->tok[k];
	const char *name = js->text + t->start;
	size_t len = (size_t)(t->end - t->start);
	if (t->escaped) {
		buf_reset(&js->tmp);
		if (jscan_unescape(js, k, &js->tmp))
			return -1;
		name = js->tmp.data;
		len = js->tmp.len;
	}
	for (int i = 0; i < s->ncols; i++)
		if (s->flen[i] == len && !memcmp(s->cs->fields[i].name, name, len))
			return i;
	return -1;
}

/* Room for n bytes of rows, from blocks of a few MiB: a million rows
 * are not a million mallocs. NULL when out of memory. */
#define BLOCK ((size_t)4 << 20)
static char *row_alloc(struct load *L, size_t n)
{
	n = (n + 15) & ~(size_t)15; /* the cell pointers stay aligned */
	if (!L->nblocks || L->bused + n > L->bsize) {
		size_t size = n > BLOCK ? n : BLOCK;
		if (VEC_RESERVE(L->blocks, L->bcap, L->nblocks + 1, 16))
			return NULL;
		if (!(L->blocks[L->nblocks] = malloc(size)))
			return NULL;
		L->nblocks++;
		L->bsize = size;
		L->bused = 0;
	}
	char *p = L->blocks[L->nblocks - 1] + L->bused;
	L->bused += n;
	return p;
}

/* A cell's text ends at its first NUL (a "\u0000" inside a value). */
static char **row_from_record(struct load *L, struct stream *s, struct jscan *js, int rec)
{
	struct buf *scratch = &L->scratch;
	size_t off[MAX_COLS];
	int val[MAX_COLS], rc = 0;
	for (int i = 0; i < s->ncols; i++)
		val[i] = -1;
	/* one walk over the record's members; a duplicate key: the first wins */
	for (int k = rec + 1, i = 0; i < js->tok[rec].size; i++, k = js->tok[k + 1].next) {
		int f = field_of(s, js, k);
		if (f >= 0 && val[f] < 0)
			val[f] = k + 1;
	}
	buf_reset(scratch);
	for (int i = 0; i < s->ncols; i++) {
		int v = val[i];
		const struct jtok *t = v >= 0 ? &js->tok[v] : NULL;
		off[i] = scratch->len;
		if (t && t->type == JSCAN_STRING && !t->escaped) /* most cells: copied as they are */
			rc |= buf_add(scratch, js->text + t->start, (size_t)(t->end - t->start) + 1);
		else
			rc |= (v >= 0 && render(scratch, js, v, 0)) || buf_add(scratch, "", 1);
		if (t && t->type == JSCAN_STRING && !t->escaped && !rc)
			scratch->data[scratch->len - 1] = 0; /* the closing quote copied with it */
	}
	size_t head = (size_t)s->ncols * sizeof(char *);
	char **row = rc ? NULL : (char **)row_alloc(L, head + scratch->len);
	if (!row)
		return NULL;
	memcpy((char *)row + head, scratch->data, scratch->len);
	for (int i = 0; i < s->ncols; i++)
		row[i] = (char *)row + head + off[i];
	return row;
}

static int add_record(struct load *L, struct stream *s, struct jscan *js, int rec)
{
	if (VEC_RESERVE(s->rows, s->cap, s->nrows + 1, 256))
		return -1;
	char **row = row_from_record(L, s, js, rec);
	if (!row)
		return -1;
	s->rows[s->nrows++] = row;
	return 0;
}

static int is(struct jscan *js, int t, const char *word)
{
	return t >= 0 && jscan_streq(js, t, word, strlen(word));
}

/* One Singer message. -1 means the input is unusable (already reported). */
static int on_message(struct load *L, struct jscan *js, struct buf *name, const char *file,
		      long line)
{
	static int warned_type;
	int type = jscan_get(js, 0, "type", 4), st = jscan_get(js, 0, "stream", 6);
	if (type < 0 || js->tok[type].type != JSCAN_STRING) {
		log_msg(LOG_ERROR, "%s:%ld: not a Singer message (no \"type\")", file, line);
		return -1;
	}
	if (is(js, type, "STATE"))
		return 0;
	int schema = is(js, type, "SCHEMA"), activate = is(js, type, "ACTIVATE_VERSION");
	if (!schema && !activate && !is(js, type, "RECORD")) {
		buf_reset(name);
		if (!warned_type++ && !jscan_unescape(js, type, name))
			log_warn("%s:%ld: message type '%s' ignored", file, line, name->data);
		return 0;
	}
	buf_reset(&js->tmp);
	if (!jscan_unescape(js, type, &js->tmp) && (st < 0 || js->tok[st].type != JSCAN_STRING)) {
		log_msg(LOG_ERROR, "%s:%ld: %s without a \"stream\"", file, line, js->tmp.data);
		return -1;
	}
	buf_reset(name);
	struct stream *s = jscan_unescape(js, st, name) ? NULL : stream_get(L, name->data);
	if (!s)
		goto nomem;
	if (schema) {
		s->schemas++;
		return 0;
	}
	if (activate) {
		s->activates++;
		return 0;
	}
	if (!s->records++)
		s->first_line = line;
	if (!s->cs) { /* reported once here, and in the manifest and exit code */
		if (s->records == 1)
			log_msg(LOG_ERROR, "%s:%ld: RECORD of stream '%s', which is not a canonical "
				"stream (run normalize first?); its records are not loaded",
				file, line, s->name);
		return 0;
	}
	int rec = jscan_get(js, 0, "record", 6);
	if (rec < 0 || js->tok[rec].type != JSCAN_OBJECT) {
		log_msg(LOG_ERROR, "%s:%ld: RECORD of '%s' without a \"record\" object", file, line,
			s->name);
		return -1;
	}
	if (add_record(L, s, js, rec))
		goto nomem;
	return 0;
nomem:
	log_msg(LOG_ERROR, "%s:%ld: out of memory", file, line);
	return -1;
}

/* Reads the whole input before anything is published: a corrupt line
 * anywhere means nothing is. */
static int load_read(struct load *L, FILE *fp, const char *file)
{
	struct lines r;
	struct rt_err e;
	struct jscan js;
	struct buf name;
	int rc = 0, got;
	err_clear(&e);
	lines_init(&r, fp, file, 0);
	jscan_init(&js, 0, 0);
	buf_init(&name, 0);
	while (!rc && (got = lines_next(&r, &e)) == 1) {
		if (!r.line.len || strspn(r.line.data, " \t\r") == r.line.len)
			continue; /* blank lines carry nothing */
		if (jscan_parse(&js, r.line.data, r.line.len)) {
			log_msg(LOG_ERROR, "%s:%ld: not JSON (column %zu: %s); the input is corrupt, "
				"nothing is published", file, r.lineno, js.err_pos + 1, js.err);
			rc = -1;
		} else if (js.tok[0].type != JSCAN_OBJECT) {
			log_msg(LOG_ERROR, "%s:%ld: not a JSON object; the input is corrupt, nothing "
				"is published", file, r.lineno);
			rc = -1;
		} else {
			rc = on_message(L, &js, &name, file, r.lineno);
		}
	}
	if (!rc && got < 0) {
		log_err(LOG_ERROR, &e);
		rc = -1;
	}
	buf_free(&name);
	jscan_free(&js);
	lines_free(&r);
	return rc;
}

/* Rows in a stable order: the stream's sort fields, then the whole row. */
static int cmp_rows(const void *pa, const void *pb, void *arg)
{
	const struct stream *s = arg;
	char *const *a = *(char **const *)pa, *const *b = *(char **const *)pb;
	int c = 0;
	for (int i = 0; !c && i < s->nsort; i++)
		c = strcmp(a[s->sort[i]], b[s->sort[i]]);
	for (int i = 0; !c && i < s->ncols; i++)
		c = strcmp(a[i], b[i]);
	return c;
}

/* A CSV file being written: the temporary file, a chunk of records not
 * yet written (a big stream is never held twice in memory), its hash. */
struct csv_out {
	struct row_sink sink;
	struct atomic_file a;
	struct buf chunk;
	EVP_MD_CTX *md;
	const char *path;
};

/* Appends the chunk to the file and to the hash, then empties it. */
static int flush(struct csv_out *o, struct rt_err *e)
{
	if (o->md)
		EVP_DigestUpdate(o->md, o->chunk.data, o->chunk.len);
	int rc = atomic_write(&o->a, o->chunk.data, o->chunk.len, e);
	buf_reset(&o->chunk);
	return rc;
}

static int out_put(struct row_sink *k, const char *rec, size_t len, struct rt_err *e)
{
	struct csv_out *o = (struct csv_out *)k;
	if (buf_add(&o->chunk, rec, len) || buf_add(&o->chunk, "\r\n", 2)) {
		err_set(e, ERR_IO, "%s: out of memory", o->path);
		return -1;
	}
	return o->chunk.len >= CHUNK ? flush(o, e) : 0;
}

/* Opens the temporary file and writes the header. */
static int out_open(struct csv_out *o, const struct stream *s, const char *path,
		    struct rt_err *e)
{
	const char *names[MAX_COLS];
	memset(o, 0, sizeof *o);
	o->sink.put = out_put;
	o->path = path;
	if (atomic_open(&o->a, path, 0644, e))
		return -1;
	o->md = EVP_MD_CTX_new();
	if (o->md && !EVP_DigestInit_ex(o->md, EVP_sha256(), NULL)) {
		EVP_MD_CTX_free(o->md);
		o->md = NULL; /* the hash is optional in the manifest */
	}
	buf_init(&o->chunk, 0);
	for (int i = 0; i < s->ncols; i++)
		names[i] = s->cs->fields[i].name;
	if (csvw_row(&o->chunk, names, s->ncols)) {
		err_set(e, ERR_IO, "%s: out of memory", path);
		atomic_abort(&o->a);
		EVP_MD_CTX_free(o->md);
		buf_free(&o->chunk);
		return -1;
	}
	return 0;
}

/* Commits the file (keep) or removes it; s->sha256 is the committed file's. */
static int out_close(struct csv_out *o, struct stream *s, int keep, struct rt_err *e)
{
	unsigned char digest[EVP_MAX_MD_SIZE];
	unsigned dlen = 0;
	int rc = keep ? flush(o, e) : -1;
	if (rc)
		atomic_abort(&o->a);
	else
		rc = atomic_commit(&o->a, e);
	s->sha256[0] = 0;
	if (!rc && o->md && EVP_DigestFinal_ex(o->md, digest, &dlen))
		for (unsigned i = 0; i < dlen; i++)
			sprintf(s->sha256 + 2 * i, "%02x", digest[i]);
	EVP_MD_CTX_free(o->md);
	buf_free(&o->chunk);
	return keep ? rc : 0;
}

int load_write_csv(struct stream *s, const char *path, struct rt_err *e)
{
	struct csv_out o;
	int rc = 0;
	if (out_open(&o, s, path, e))
		return -1;
	for (size_t r = 0; !rc && r < s->nrows; r++) {
		rc = csvw_row(&o.chunk, (const char *const *)s->rows[r], s->ncols);
		if (rc)
			err_set(e, ERR_IO, "%s: out of memory", path);
		else if (o.chunk.len >= CHUNK)
			rc = flush(&o, e);
	}
	return out_close(&o, s, !rc, e) || rc ? -1 : 0;
}

/* Why a stream is not published, or NULL when it is complete. */
static const char *incomplete(struct stream *s)
{
	if (!s->cs) {
		s->status = "failed";
		snprintf(s->reason, sizeof s->reason,
			 "not a canonical stream: %ld records, the first at line %ld, not loaded",
			 s->records, s->first_line);
		return s->reason;
	}
	if (s->schemas && s->activates >= s->schemas)
		return NULL;
	s->status = "kept_previous";
	if (!s->schemas)
		snprintf(s->reason, sizeof s->reason, "no SCHEMA message");
	else
		snprintf(s->reason, sizeof s->reason,
			 "%d SCHEMA but %d ACTIVATE_VERSION: a source feeding the stream "
			 "did not read it completely", s->schemas, s->activates);
	log_warn("%s: incomplete, the previous %s.csv is kept: %s", s->name, s->name, s->reason);
	return s->reason;
}

/* Sorts a complete stream, compares it with the file it would replace and,
 * but in a dry run, writes its new file on the way; publishes that unless
 * it is a mass change: status published, held, failed, or (a dry run)
 * compared. 0, or -1 when it failed. */
static int compare(struct load *L, struct stream *s)
{
	struct rt_err e;
	struct csv_out out;
	char *path = NULL;
	int dry = L->o->dry_run, opened = 0;
	err_clear(&e);
	if (s->nrows > 1) /* qsort_r on no rows would be handed a NULL array */
		qsort_r(s->rows, s->nrows, sizeof *s->rows, cmp_rows, s);
	int rc = asprintf(&path, "%s/%s.csv", L->o->dir, s->name) < 0 ? -1 : 0;
	if (rc) {
		path = NULL;
		err_set(&e, ERR_IO, "%s: out of memory", s->name);
	}
	if (!rc)
		rc = prev_read(&s->prev, s, path, &e);
	if (!rc && !dry)
		rc = out_open(&out, s, path, &e), opened = !rc;
	if (!rc) /* a dry run's change set is written in this same pass */
		rc = diff_stream(s, dry ? L->changes : NULL, dry ? NULL : &out.sink, &e);
	int held = !rc && hold_decide(s, L->o);
	if (opened && out_close(&out, s, !rc && !held, &e))
		rc = -1;
	if (rc) {
		s->status = "failed";
		snprintf(s->reason, sizeof s->reason, "%s", e.msg);
		log_err(LOG_ERROR, &e);
	} else if (held) {
		s->status = "held";
		L->held++;
	} else if (dry) {
		s->status = "compared";
	} else {
		s->status = "published";
		s->out_rows = (long)s->nrows;
		snprintf(s->written_at, sizeof s->written_at, "%s", L->now);
		log_info("published %s (%zu row%s)", path, s->nrows, s->nrows == 1 ? "" : "s");
	}
	free(path);
	return rc;
}

/* The comparison of every compared stream, one line each (what a dry run
 * or a hold shows). */
static void summary(struct load *L)
{
	log_info("%-12s %9s %9s %9s %9s %9s  %s", "stream", "before", "after", "added", "removed",
		 "changed", L->o->dry_run ? "would be" : "result");
	for (int i = 0; i < L->n; i++) {
		struct stream *s = &L->s[i];
		if (!load_present(s) || !s->status)
			continue;
		char before[24] = "-";
		if (s->diff.compared)
			snprintf(before, sizeof before, "%ld", s->diff.before);
		int held = !strcmp(s->status, "held");
		const char *what = !strcmp(s->status, "compared") ? "published" : s->status;
		if (s->diff.compared || held || !strcmp(what, "published"))
			log_info("%-12s %9s %9ld %9ld %9ld %9ld  %s%s%s", s->name, before,
				 s->diff.after, s->diff.added, s->diff.removed, s->diff.changed,
				 what, held ? ": " : "", held ? s->reason : "");
		else
			log_info("%-12s %9s %9s %9s %9s %9s  %s", s->name, "-", "-", "-", "-", "-",
				 what);
	}
}

/* The dry run's change set: opened before the streams are compared (each
 * writes its changes as it is compared), closed after. */
static int changes_open(struct load *L)
{
	const char *name = L->o->changes && strcmp(L->o->changes, "-") ? L->o->changes : NULL;
	if (!(L->changes = name ? fopen(name, "w") : stdout))
		log_msg(LOG_ERROR, "cannot write the change set to %s: %m", name);
	return L->changes ? 0 : -1;
}

static int changes_close(struct load *L)
{
	const char *name = L->changes != stdout ? L->o->changes : "stdout";
	int rc = fflush(L->changes) || ferror(L->changes) ? -1 : 0;
	if (L->changes != stdout && fclose(L->changes))
		rc = -1;
	L->changes = NULL;
	if (rc)
		log_msg(LOG_ERROR, "writing the change set to %s: %m", name);
	return rc;
}

/* Compares and publishes every complete stream that is not held;
 * returns the exit code. started: when this run began (temporary files
 * older than that are an earlier run's). */
static int load_publish(struct load *L, double started)
{
	struct rt_err e;
	const struct load_opts *o = L->o;
	int published = 0, others = 0, any = 0;
	err_clear(&e);
	for (int i = 0; i < L->n; i++)
		any |= load_present(&L->s[i]);
	if (!any) {
		log_msg(LOG_ERROR, "no canonical stream in the input: nothing to publish");
		return EXIT_FAILED;
	}
	if (o->dry_run && changes_open(L))
		return EXIT_FAILED;
	if (!o->dry_run) {
		if (atomic_mkdirs(o->dir, &e)) {
			log_err(LOG_ERROR, &e);
			return EXIT_FAILED;
		}
		prog_sweep(o->dir, started);
	}
	for (int i = 0; i < L->n; i++) {
		struct stream *s = &L->s[i];
		if (!load_present(s))
			continue;
		if (incomplete(s) || compare(L, s))
			others++;
		else if (!strcmp(s->status, "published"))
			published++;
	}
	if (o->dry_run) {
		summary(L);
		if (changes_close(L))
			return EXIT_FAILED;
		return L->held ? EXIT_HELD : others ? EXIT_PARTIAL : EXIT_COMPLETE;
	}
	if (L->held)
		summary(L);
	if (held_stage(L)) /* also clears what an earlier run held */
		others++;
	if (manifest_write(L, o->dir))
		others++;
	if (L->held)
		return EXIT_HELD;
	if (!published)
		return EXIT_FAILED;
	return others ? EXIT_PARTIAL : EXIT_COMPLETE;
}

int load_csv(FILE *in, const char *input, const struct load_opts *o)
{
	struct load L;
	int rc = EXIT_FAILED;
	double started = (double)time(NULL);
	if (load_init(&L, o)) {
		log_msg(LOG_ERROR, "out of memory");
		load_free(&L);
		return rc;
	}
	clk_iso8601(clk_now(), L.now, sizeof L.now);
	snprintf(L.run_id, sizeof L.run_id, "%s", o->run_id && *o->run_id ? o->run_id : L.now);
	if (!load_read(&L, in, input))
		rc = load_publish(&L, started);
	load_free(&L);
	return rc;
}
