/* dedupe's writing of the merged people: each person's fields chosen and
 * rendered as a RECORD line, in id order. Two threads share the work by
 * chunks of persons, the caller's rendering the even ones and writing
 * every chunk in order, a helper the odd ones: rendering is most of the
 * writing, and output and warnings stay in person order. */
#include "engine/dedupe_int.h"
#include "core/buf.h"
#include "core/log.h"
#include "core/vec.h"
#include "format/jsonw.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define CHUNK 2048 /* persons rendered at a time: about 1 MB of output */
#define MAX_CONFLICT_WARNINGS 50 /* one line each; past that only the total */

/* A key that differs inside a person: record b's from a's, which was kept. */
struct conflict {
	size_t person;
	int key, a, b;
};

/* One renderer's state: what it renders into and sorts with. */
struct wctx {
	const struct dedupe *d;
	struct buf out;
	const char **tmpv;
	size_t tmpcap;
	struct conflict *cf;
	size_t ncf, capcf;
	size_t first, last; /* the chunk rendered: persons [first, last) */
	int oom;
};


/* For each field, the position in m of the record that wins it, or -1:
 * the first with a non-blank value, else the first with an empty one. */
void dedupe_choose(const struct dedupe *d, const int *m, int n, int *win)
{
	const struct prec *R = d->recs;
	if (n == 1) { /* the one record wins what it has, blank or not */
		for (int f = 0; f < d->nf; f++)
			win[f] = R[m[0]].val[f] ? 0 : -1;
		if (d->f_reason >= 0 && win[d->f_status] < 0)
			win[d->f_reason] = -1;
		return;
	}
	for (int f = 0; f < d->nf; f++) {
		win[f] = -1;
		for (int j = 0; j < n; j++) {
			const char *v = pval(&R[m[j]], f);
			if (v && win[f] < 0)
				win[f] = j;
			if (v && !dedupe_blank(v)) {
				win[f] = j;
				break;
			}
		}
	}
	/* one active record keeps the person active; the reason goes with the status */
	for (int j = 0; j < n; j++) {
		const char *st = pval(&R[m[j]], d->f_status);
		if (st && !strcmp(st, "active")) {
			win[d->f_status] = j;
			break;
		}
	}
	if (d->f_reason >= 0) {
		int s = win[d->f_status];
		win[d->f_reason] = s >= 0 && R[m[s]].val[d->f_reason] ? s : -1;
	}
}

/* Notes each record whose key differs from the one kept (warned about by
 * the writer, in person order). */
static void conflicts(struct wctx *c, size_t k, const int *m, int n, const int *win)
{
	const struct dedupe *d = c->d;
	const struct prec *R = d->recs;
	for (int key = 0; key < NKEYS; key++) {
		int w = win[d->f_key[key]];
		if (w < 0 || !R[m[w]].norm[key])
			continue;
		for (int j = 0; j < n; j++) {
			const struct prec *b = &R[m[j]];
			if (!b->norm[key] || !strcmp(pnorm(b, key), pnorm(&R[m[w]], key)))
				continue;
			if (VEC_RESERVE(c->cf, c->capcf, c->ncf + 1, 16)) {
				c->oom = 1;
				return;
			}
			c->cf[c->ncf++] = (struct conflict){k, key, m[w], m[j]};
		}
	}
}

int dedupe_put_key(struct buf *b, const char *name, int *first)
{
	int rc = jsonw_key(b, name, *first);
	*first = 0;
	return rc;
}

/* What jsonw_str writes, without its care for the string of printable
 * ASCII that most values are. */
static int put_str(struct buf *b, const char *s)
{
	size_t n = strlen(s);
	if (buf_reserve(b, n + 2))
		return -1;
	char *w = b->data + b->len;
	*w++ = '"';
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c < 0x20 || c >= 0x80 || c == '"' || c == '\\')
			return jsonw_strn(b, s, n); /* nothing appended yet */
		*w++ = (char)c;
	}
	*w++ = '"';
	*w = 0;
	b->len += n + 2;
	return 0;
}

/* A people field's key, from the ones made once. */
static int put_fkey(const struct dedupe *d, struct buf *b, int f, int *first)
{
	int rc = (*first ? 0 : buf_addc(b, ',')) | buf_add(b, d->fkey[f].data, d->fkey[f].len);
	*first = 0;
	return rc;
}

static int has_orgs(const struct dedupe *d, const int *m, int n)
{
	for (int j = 0; j < n; j++)
		if (d->recs[m[j]].val[d->f_orgs])
			return 1;
	return 0;
}

static int by_pstr(const void *pa, const void *pb)
{
	return strcmp(*(const char *const *)pa, *(const char *const *)pb);
}

/* The sorted union of the records' org_ids. */
static int put_orgs(struct wctx *c, const int *m, int n, struct buf *b)
{
	const struct dedupe *d = c->d;
	size_t nv = 0;
	int rc = 0;
	for (int j = 0; j < n; j++) {
		const struct prec *r = &d->recs[m[j]];
		const char *s = pval(r, d->f_orgs);
		for (int k = 0; k < r->norgs; k++, s += strlen(s) + 1) {
			if (VEC_RESERVE(c->tmpv, c->tmpcap, nv + 1, 16))
				return -1;
			c->tmpv[nv++] = s;
		}
	}
	const char **v = c->tmpv;
	if (nv > 1)
		qsort(v, nv, sizeof *v, by_pstr);
	rc |= buf_addc(b, '[');
	for (size_t i = 0; i < nv; i++)
		if (!i || strcmp(v[i - 1], v[i]))
			rc |= (i ? buf_addc(b, ',') : 0) | put_str(b, v[i]);
	rc |= buf_addc(b, ']');
	return rc;
}

/* [{"source","source_id"}...] sorted by key, each once. */
static int put_sources(struct wctx *c, const int *m, int n, struct buf *b)
{
	const struct dedupe *d = c->d;
	int rc = VEC_RESERVE(c->tmpv, c->tmpcap, (size_t)n, 16) || buf_addc(b, '[');
	const char **keys = c->tmpv;
	for (int j = 0; !rc && j < n; j++)
		keys[j] = pkey(&d->recs[m[j]]);
	if (!rc && n > 1)
		qsort(keys, (size_t)n, sizeof *keys, by_pstr);
	for (int j = 0; !rc && j < n; j++) {
		if (j && !strcmp(keys[j - 1], keys[j]))
			continue;
		const char *sid = strchr(keys[j], '\x1f') + 1;
		rc |= (j ? buf_addc(b, ',') : 0) | buf_adds(b, "{\"source\":") |
		      jsonw_strn(b, keys[j], (size_t)(sid - 1 - keys[j])) |
		      buf_adds(b, ",\"source_id\":") | put_str(b, sid) | buf_addc(b, '}');
	}
	return rc | buf_addc(b, ']');
}

/* The fields that a record won, with the winning source. */
static int put_field_sources(const struct dedupe *d, const int *m, const int *win,
			     struct buf *b)
{
	int rc = buf_addc(b, '{'), first = 1;
	for (int f = 0; f < d->nf; f++) {
		if (win[f] < 0 || dedupe_computed(d, f) || f == d->f_source || f == d->f_source_id ||
		    f == d->f_orgs)
			continue;
		rc |= put_fkey(d, b, f, &first);
		rc |= put_str(b, pval(&d->recs[m[win[f]]], d->f_source));
	}
	return rc | buf_addc(b, '}');
}

/* One merged person's RECORD message, fields in the canonical order, as
 * singer_record writes it (format/singer.h). */
static int render(struct wctx *c, const struct person *p, const int *m, const int *win,
		  struct buf *b)
{
	const struct dedupe *d = c->d;
	int rc = 0, first = 1;
	rc |= buf_adds(b, "{\"type\":\"RECORD\",\"stream\":\"people\",\"record\":{");
	for (int f = 0; f < d->nf; f++) {
		const char *v = NULL;
		if (f == d->f_orgs && has_orgs(d, m, p->n))
			rc |= put_fkey(d, b, f, &first) | put_orgs(c, m, p->n, b);
		else if (f == d->f_sources)
			rc |= put_fkey(d, b, f, &first) | put_sources(c, m, p->n, b);
		else if (f == d->f_fsrc)
			rc |= put_fkey(d, b, f, &first) | put_field_sources(d, m, win, b);
		else if (f == d->f_id)
			v = p->id;
		else if (f == d->f_source || f == d->f_source_id)
			v = pval(&d->recs[m[0]], f);
		else if (f != d->f_orgs && win[f] >= 0)
			v = pval(&d->recs[m[win[f]]], f);
		if (v)
			rc |= put_fkey(d, b, f, &first) | put_str(b, v);
	}
	return rc | buf_adds(b, "}}\n");
}

/* Persons are written in id order, their records lie in input order: each
 * is a miss of the cache (half the time of writing, unfetched), so the
 * next ones are fetched ahead in steps: a person's first record, then
 * that record's strings. */
static void prefetch(const struct dedupe *d, size_t k)
{
	const size_t far = 8;
	if (k + 2 * far < d->np) {
		const char *r = (const char *)&d->recs[d->ps[k + 2 * far].first];
		for (int i = 0; i < 4; i++)
			__builtin_prefetch(r + 64 * i);
	}
	if (k + far < d->np) {
		const char *blob = d->recs[d->ps[k + far].first].blob;
		for (int i = 0; i < 5; i++)
			__builtin_prefetch(blob + 64 * i);
	}
}

/* Renders persons [first, last) into c. */
static void render_chunk(struct wctx *c, size_t first, size_t last)
{
	const struct dedupe *d = c->d;
	buf_reset(&c->out);
	c->ncf = 0;
	c->oom = 0;
	c->first = first;
	c->last = last;
	for (size_t k = first; k < last && !c->oom; k++) {
		const struct person *p = &d->ps[k];
		int win[MAX_FIELDS];
		prefetch(d, k);
		/* one record (the most): no need to look in ord */
		const int *m = p->n == 1 ? &p->first : d->ord + p->start;
		dedupe_choose(d, m, p->n, win);
		conflicts(c, k, m, p->n, win);
		c->oom |= render(c, p, m, win, &c->out) != 0;
	}
}

/* Writes a rendered chunk and warns about its conflicts. */
static int emit(struct dedupe *d, struct wctx *c, struct rt_err *e)
{
	const struct prec *R = d->recs;
	if (c->oom) {
		err_set(e, ERR_IO, "out of memory writing the persons from %s", d->ps[c->first].id);
		return -1;
	}
	for (size_t i = 0; i < c->ncf; i++) {
		const struct conflict *x = &c->cf[i];
		const struct prec *a = &R[x->a], *b = &R[x->b];
		int f = d->f_key[x->key];
		if (++d->st.conflicts <= MAX_CONFLICT_WARNINGS)
			log_warn("%s: merged records disagree on %s: %s %s has '%s' (kept), "
				 "%s %s has '%s'", d->ps[x->person].id, dedupe_key_names[x->key],
				 pval(a, d->f_source), pval(a, d->f_source_id), pval(a, f),
				 pval(b, d->f_source), pval(b, d->f_source_id), pval(b, f));
	}
	if (c->out.len && fwrite(c->out.data, 1, c->out.len, d->out) != c->out.len) {
		err_set(e, ERR_IO, "writing the output failed: %s", strerror(errno));
		return -1;
	}
	d->st.people_out += (long)(c->last - c->first);
	return 0;
}

/* The helper: the odd chunks, one at a time, each handed over whole. */
struct helper {
	struct wctx c;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	size_t next;   /* the chunk it renders next */
	int ready;     /* c holds chunk next - 2, rendered, not yet written */
	int stop;      /* the writer gave up */
};

static size_t nchunks(const struct dedupe *d)
{
	return (d->np + CHUNK - 1) / CHUNK;
}

static void *helper_main(void *arg)
{
	struct helper *h = arg;
	const struct dedupe *d = h->c.d;
	for (size_t k = 1; k < nchunks(d); k += 2) {
		pthread_mutex_lock(&h->mu);
		while (h->ready && !h->stop)
			pthread_cond_wait(&h->cv, &h->mu);
		int stop = h->stop;
		pthread_mutex_unlock(&h->mu);
		if (stop)
			break;
		size_t last = (k + 1) * CHUNK < d->np ? (k + 1) * CHUNK : d->np;
		render_chunk(&h->c, k * CHUNK, last);
		pthread_mutex_lock(&h->mu);
		h->ready = 1;
		pthread_cond_signal(&h->cv);
		pthread_mutex_unlock(&h->mu);
	}
	return NULL;
}

static void wctx_free(struct wctx *c)
{
	buf_free(&c->out);
	free(c->tmpv);
	free(c->cf);
}

int dedupe_write_people(struct dedupe *d, struct rt_err *e)
{
	struct wctx mine = {.d = d};
	struct helper h = {.c = {.d = d}};
	pthread_t t;
	int rc = 0, threaded;
	buf_init(&mine.out, 0);
	buf_init(&h.c.out, 0);
	pthread_mutex_init(&h.mu, NULL);
	pthread_cond_init(&h.cv, NULL);
	threaded = nchunks(d) > 1 && !pthread_create(&t, NULL, helper_main, &h);
	for (size_t k = 0; !rc && k < nchunks(d); k++) {
		size_t last = (k + 1) * CHUNK < d->np ? (k + 1) * CHUNK : d->np;
		if (!(k % 2) || !threaded) {
			render_chunk(&mine, k * CHUNK, last);
			rc = emit(d, &mine, e);
			continue;
		}
		pthread_mutex_lock(&h.mu);
		while (!h.ready)
			pthread_cond_wait(&h.cv, &h.mu);
		pthread_mutex_unlock(&h.mu);
		rc = emit(d, &h.c, e);
		pthread_mutex_lock(&h.mu);
		h.ready = 0;
		h.stop = rc != 0;
		pthread_cond_signal(&h.cv);
		pthread_mutex_unlock(&h.mu);
	}
	if (threaded) {
		pthread_mutex_lock(&h.mu);
		h.stop = 1; /* when the writer stopped early */
		pthread_cond_signal(&h.cv);
		pthread_mutex_unlock(&h.mu);
		pthread_join(t, NULL);
	}
	pthread_mutex_destroy(&h.mu);
	pthread_cond_destroy(&h.cv);
	wctx_free(&mine);
	wctx_free(&h.c);
	return rc;
}
