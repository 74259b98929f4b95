/* dedupe's reading: each line is tokenized in place (format/jscan.h) and
 * what dedupe keeps of a people record is copied into an arena. cJSON
 * reads only the lines the two parsers would read differently (what jscan
 * refuses, NULs and surrogates in \u escapes), and the rare values that
 * are written as cJSON prints them (objects, arrays, numbers other than
 * short integers), so every line means what it did when cJSON read all.
 *
 * Lines are read in batches; a helper thread parses the first half of a
 * batch while the reader parses the second, each with its own tokens and
 * arena, and the reader then applies both halves in line order (records
 * kept, lines written or held, the first error), so nothing depends on
 * which thread parsed what. */
#include "engine/dedupe_int.h"
#include "core/buf.h"
#include "core/lines.h"
#include "core/log.h"
#include "core/vec.h"
#include "format/jscan.h"
#include "engine/idmap.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define ARENA_BLOCK (32 << 20)
#define HUGE_PAGE (2 << 20)
#define FAULT_STEP (4 << 20)  /* the helper faults pages in by this much */
#define FAULT_AHEAD (8 << 20) /* ahead of the memory in use */
#define FAULT_QUEUE 16
#define BATCH_LINES 4096
#define BATCH_BYTES (4 << 20)
#define SPLIT_AT 64 /* a batch of fewer lines is parsed by the reader alone */

/* What a line is, once parsed. */
enum { R_PASS, R_SCHEMA, R_PERSON, R_BAD, R_OOM, R_MEMBER, R_ACT_PEOPLE, R_ACT_MEMBERS };
/* Why a people record is written unmerged. */
enum { BAD_NO_RECORD = 1, BAD_NO_SOURCE, BAD_NO_SOURCE_ID, BAD_SEPARATOR };

struct parsed {
	int kind, why;
	struct prec rec;            /* R_PERSON: all but its input and seq */
	uint64_t hash[NKEYS + 1];   /* the hash of each of its typed keys (by KEY_) */
};

/* Faulting a fresh page in (the kernel zeroes it) is a good part of
 * reading a million records; a helper thread does it ahead of use, on
 * the other core. The helper only faults pages in (MADV_POPULATE_WRITE
 * never changes what they hold), so a range that moved (the records'
 * array grows) or is queued twice costs nothing but the fault. */
struct prefault {
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct {
		char *p;
		size_t n;
	} q[FAULT_QUEUE];
	unsigned head, tail;
	int stop;
};

static void *prefault_main(void *arg)
{
	struct prefault *f = arg;
	pthread_mutex_lock(&f->mu);
	for (;;) {
		while (f->head == f->tail && !f->stop)
			pthread_cond_wait(&f->cv, &f->mu);
		if (f->stop)
			break;
		char *p = f->q[f->tail % FAULT_QUEUE].p;
		size_t n = f->q[f->tail % FAULT_QUEUE].n;
		f->tail++;
		pthread_mutex_unlock(&f->mu);
		madvise(p, n, MADV_POPULATE_WRITE); /* advice: refused is fine */
		pthread_mutex_lock(&f->mu);
	}
	pthread_mutex_unlock(&f->mu);
	return NULL;
}

/* Starts the helper, once (before any other thread queues to it). */
static void prefault_start(struct dedupe *d)
{
	if (!d->pf && !d->pf_failed) {
		struct prefault *f = calloc(1, sizeof *f);
		if (!f || pthread_mutex_init(&f->mu, NULL)) {
			free(f);
			d->pf_failed = 1;
			return;
		}
		pthread_cond_init(&f->cv, NULL);
		if (pthread_create(&f->thread, NULL, prefault_main, f)) {
			pthread_cond_destroy(&f->cv);
			pthread_mutex_destroy(&f->mu);
			free(f);
			d->pf_failed = 1;
			return;
		}
		d->pf = f;
	}
}

/* Queues p[0..n) for the helper; without a helper, or with its queue
 * full, the pages fault when they are used. */
static void prefault(struct dedupe *d, char *p, size_t n)
{
	uintptr_t a = ((uintptr_t)p + 4095) & ~(uintptr_t)4095, z = ((uintptr_t)p + n) & ~(uintptr_t)4095;
	struct prefault *f = d->pf;
	if (z <= a || !f)
		return;
	pthread_mutex_lock(&f->mu);
	if (f->head - f->tail < FAULT_QUEUE) {
		f->q[f->head % FAULT_QUEUE].p = (char *)a;
		f->q[f->head % FAULT_QUEUE].n = z - a;
		f->head++;
		pthread_cond_signal(&f->cv);
	}
	pthread_mutex_unlock(&f->mu);
}

/* Keeps the pages of base[0..cap) faulted in up to FAULT_AHEAD past used;
 * *ahead is how far they are. */
static void fault_ahead(struct dedupe *d, char *base, size_t used, size_t cap, size_t *ahead)
{
	while (*ahead < used + FAULT_AHEAD && *ahead < cap) {
		size_t n = cap - *ahead < FAULT_STEP ? cap - *ahead : FAULT_STEP;
		prefault(d, base + *ahead, n);
		*ahead += n;
	}
}

void dedupe_prefault_stop(struct dedupe *d)
{
	struct prefault *f = d->pf;
	if (!f)
		return;
	pthread_mutex_lock(&f->mu);
	f->stop = 1;
	pthread_cond_signal(&f->cv);
	pthread_mutex_unlock(&f->mu);
	pthread_join(f->thread, NULL);
	pthread_cond_destroy(&f->cv);
	pthread_mutex_destroy(&f->mu);
	free(f);
	d->pf = NULL;
}

struct arena_blk {
	struct arena_blk *next;
	size_t len, cap;
	char data[];
};

static char *pctx_alloc(struct pctx *c, size_t n)
{
	struct arena_blk *b = c->arena;
	if (!b || b->cap - b->len < n) {
		size_t cap = n > ARENA_BLOCK ? n : ARENA_BLOCK;
		if (!(b = malloc(sizeof *b + cap)))
			return NULL;
		b->len = 0;
		b->cap = cap;
		b->next = c->arena;
		c->arena = b;
		dedupe_huge(b->data, cap);
		c->arena_ahead = 0;
	}
	b->len += n;
	fault_ahead(c->d, b->data, b->len, b->cap, &c->arena_ahead);
	return b->data + b->len - n;
}

void dedupe_pctx_init(struct pctx *c, struct dedupe *d)
{
	memset(c, 0, sizeof *c);
	c->d = d;
	jscan_init(&c->js, 0, JSCAN_DEPTH_LIMIT);
	buf_init(&c->scratch, 0);
	buf_init(&c->keytmp, 0);
}

void dedupe_pctx_free(struct pctx *c)
{
	while (c->arena) {
		struct arena_blk *b = c->arena;
		c->arena = b->next;
		free(b);
	}
	jscan_free(&c->js);
	buf_free(&c->scratch);
	buf_free(&c->keytmp);
	free(c->res);
}

void dedupe_huge(void *p, size_t n)
{
	uintptr_t a = ((uintptr_t)p + HUGE_PAGE - 1) & ~(uintptr_t)(HUGE_PAGE - 1);
	uintptr_t z = ((uintptr_t)p + n) & ~(uintptr_t)(HUGE_PAGE - 1);
	if (z > a)
		madvise((void *)a, z - a, MADV_HUGEPAGE); /* advice: refused is fine */
}

int dedupe_put_line(struct dedupe *d, const char *p, size_t n, struct rt_err *e)
{
	if (fwrite(p, 1, n, d->out) == n && putc('\n', d->out) != EOF && !ferror(d->out))
		return 0;
	err_set(e, ERR_IO, "writing the output failed: %s", strerror(errno));
	return -1;
}

/* Keeps a line for later; tag 0 adds none. */
static int hold(struct buf *b, char tag, const char *p, size_t n, struct rt_err *e)
{
	if ((!tag || !buf_addc(b, tag)) && !buf_add(b, p, n) && !buf_addc(b, '\n'))
		return 0;
	err_set(e, ERR_IO, "out of memory holding records (over %zu bytes)", b->cap);
	return -1;
}

/* ---- values ---- */

/* Whether a \u escape of tok is a NUL or a surrogate: cJSON cuts a string
 * at a NUL and refuses a lone surrogate, jscan replaces both. */
static int odd_escape(const struct jscan *js, const struct jtok *t)
{
	const char *p = js->text + t->start, *end = js->text + t->end;
	while ((p = memchr(p, '\\', (size_t)(end - p)))) {
		if (p[1] != 'u') {
			p += 2;
			continue;
		}
		unsigned cp = 0;
		for (int i = 2; i < 6; i++) /* jscan checked the 4 hex digits */
			cp = cp << 4 | (unsigned)(p[i] <= '9' ? p[i] - '0' : (p[i] | 0x20) - 'a' + 10);
		if (cp == 0 || (cp >= 0xd800 && cp <= 0xdfff))
			return 1;
		p += 6;
	}
	return 0;
}

static int needs_cjson(const struct jscan *js)
{
	for (int i = 0; i < js->ntok; i++)
		if (js->tok[i].escaped && odd_escape(js, &js->tok[i]))
			return 1;
	return 0;
}

/* An integer that cJSON prints as it is written: at most 15 digits (exact
 * in a double, printed without an exponent), no leading zero, not -0. */
int dedupe_plain_int(const char *p, size_t n)
{
	size_t i = p[0] == '-';
	if (n == 1 && p[0] == '0')
		return 1;
	if (n - i < 1 || n - i > 15 || p[i] == '0')
		return 0;
	for (; i < n; i++)
		if (p[i] < '0' || p[i] > '9')
			return 0;
	return 1;
}

/* Appends JSON text p[0..n) as cJSON_PrintUnformatted writes it, and its NUL. */
static int add_cjson(struct buf *b, const char *p, size_t n)
{
	cJSON *v = cJSON_ParseWithLength(p, n);
	char *t = v ? cJSON_PrintUnformatted(v) : NULL;
	int rc = t && !buf_add(b, t, strlen(t) + 1) ? 1 : -1;
	free(t);
	cJSON_Delete(v);
	return rc;
}

/* Appends a value as text and its NUL: a string as it is, a number or
 * boolean (or a stray object) as its JSON text. 1 if appended, 0 when
 * null, -1 when out of memory. */
static int add_value(struct buf *b, const struct jscan *js, int t)
{
	const struct jtok *k = &js->tok[t];
	const char *p = js->text + k->start;
	size_t n = (size_t)(k->end - k->start);
	switch (k->type) {
	case JSCAN_NULL:
		return 0;
	case JSCAN_STRING:
		return jscan_unescape(js, t, b) || buf_add(b, "", 1) ? -1 : 1;
	case JSCAN_TRUE:
	case JSCAN_FALSE:
		return buf_add(b, p, n) || buf_add(b, "", 1) ? -1 : 1;
	case JSCAN_NUMBER:
		if (dedupe_plain_int(p, n))
			return buf_add(b, p, n) || buf_add(b, "", 1) ? -1 : 1;
		return add_cjson(b, p, n);
	default:
		return add_cjson(b, p, n);
	}
}

/* Appends the trimmed value at offset at (email lower-cased). */
static int add_norm(struct buf *b, size_t at, int lower)
{
	size_t lead = strspn(b->data + at, " \t\r\n\v\f");
	size_t n = strlen(b->data + at + lead);
	while (n && strchr(" \t\r\n\v\f", b->data[at + lead + n - 1]))
		n--;
	size_t start = b->len;
	if (buf_reserve(b, n + 1)) /* first: the source is inside b and must not move */
		return -1;
	buf_add(b, b->data + at + lead, n);
	buf_add(b, "", 1);
	for (char *p = b->data + start; lower && *p; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p += 'a' - 'A';
	return 0;
}

/* The people field that key token k names, or -1. */
/* The people field that key token k names, or -1. Records come with
 * their fields in the canonical order (normalize writes them so): the
 * search starts after the field found last. */
static int field_of(struct pctx *c, int k, int *last)
{
	const struct dedupe *d = c->d;
	const struct jtok *t = &c->js.tok[k];
	const char *p = c->js.text + t->start;
	size_t n = (size_t)(t->end - t->start);
	if (t->escaped) {
		buf_reset(&c->keytmp);
		if (jscan_unescape(&c->js, k, &c->keytmp))
			return -1;
		p = c->keytmp.data;
		n = c->keytmp.len;
	}
	for (int i = 1; i <= d->nf; i++) {
		int f = (*last + i) % d->nf;
		if (d->flen[f] == n && !memcmp(d->cs->fields[f].name, p, n))
			return *last = f;
	}
	return -1;
}

/* The token of a non-empty string member of obj, or -1. */
static int str_tok(const struct jscan *js, int obj, const char *key)
{
	int t = jscan_get(js, obj, key, strlen(key));
	if (t < 0 || js->tok[t].type != JSCAN_STRING || js->tok[t].end == js->tok[t].start)
		return -1;
	return t;
}

/* What dedupe keeps of people record rec, into out (but its input and
 * seq): its strings in c's arena, the hashes of its typed keys in hash.
 * 0; 1 without a source or source_id string, or with 0x1f in one (*why
 * says which); -1 out of memory. */
static int parse_person(struct pctx *c, int rec, struct prec *out, uint64_t *hash, int *why)
{
	const struct dedupe *d = c->d;
	struct buf *b = &c->scratch;
	const struct jscan *js = &c->js;
	long off[MAX_FIELDS], noff[NKEYS];
	int tokf[MAX_FIELDS], norgs = 0, rc = 0, last = -1;

	if (js->tok[rec].type != JSCAN_OBJECT) {
		*why = BAD_NO_RECORD;
		return 1;
	}
	for (int f = 0; f < d->nf; f++)
		tokf[f] = -1;
	for (int k = rec + 1, i = 0; i < js->tok[rec].size; i++, k = js->tok[k + 1].next) {
		int f = field_of(c, k, &last);
		if (f >= 0 && tokf[f] < 0) /* the first of a name wins */
			tokf[f] = k + 1;
	}
	int src = tokf[d->f_source], sid = tokf[d->f_source_id];
	/* a non-empty string, as cJSON's string value was */
	if (src >= 0 && (js->tok[src].type != JSCAN_STRING || js->tok[src].end == js->tok[src].start))
		src = -1;
	if (sid >= 0 && (js->tok[sid].type != JSCAN_STRING || js->tok[sid].end == js->tok[sid].start))
		sid = -1;
	if (src < 0 || sid < 0) {
		*why = src < 0 ? BAD_NO_SOURCE : BAD_NO_SOURCE_ID;
		return 1;
	}
	buf_reset(b);
	if (buf_addc(b, dedupe_key_tag[KEY_SOURCE]) || jscan_unescape(js, src, b) ||
	    buf_addc(b, '\x1f'))
		return -1;
	size_t cut = b->len;
	if (jscan_unescape(js, sid, b) || buf_add(b, "", 1))
		return -1;
	/* the key joins source and source_id with 0x1f: a value holding it
	 * could make two people one */
	if (memchr(b->data + 1, '\x1f', cut - 2) || strchr(b->data + cut, '\x1f')) {
		*why = BAD_SEPARATOR;
		return 1;
	}
	for (int f = 0; f < d->nf; f++) {
		int v = dedupe_computed(d, f) ? -1 : tokf[f], got = 0;
		long at = (long)b->len;
		if (v >= 0 && f == d->f_orgs && js->tok[v].type == JSCAN_ARRAY) {
			got = 1;
			for (int x = v + 1, j = 0; j < js->tok[v].size; j++, x = js->tok[x].next) {
				int g = add_value(b, js, x);
				rc |= g < 0;
				norgs += g > 0;
			}
			if (!norgs) /* an empty list: present, and still a string */
				rc |= buf_add(b, "", 1);
		} else if (v >= 0) {
			got = add_value(b, js, v);
			rc |= got < 0;
			if (f == d->f_orgs && got > 0)
				norgs = 1; /* one string for a list: keep it as a list of one */
		}
		off[f] = got > 0 ? at : -1;
	}
	for (int k = 0; k < NKEYS; k++) {
		noff[k] = -1;
		if (off[d->f_key[k]] < 0 || dedupe_blank(b->data + off[d->f_key[k]]))
			continue;
		rc |= buf_addc(b, dedupe_key_tag[k]); /* the typed key: tag, then value */
		noff[k] = (long)b->len;
		rc |= add_norm(b, (size_t)off[d->f_key[k]], k == KEY_EMAIL);
	}
	if (rc || b->len > UINT32_MAX) /* offsets are 32 bits */
		return -1;
	char *blob = pctx_alloc(c, b->len);
	if (!blob)
		return -1;
	memcpy(blob, b->data, b->len);
	memset(out, 0, sizeof *out);
	out->blob = blob;
	for (int f = 0; f < d->nf; f++) /* never 0: the blob starts with the key's tag */
		out->val[f] = off[f] < 0 ? 0 : (uint32_t)off[f];
	for (int k = 0; k < NKEYS; k++)
		out->norm[k] = noff[k] < 0 ? 0 : (uint32_t)noff[k];
	out->norgs = norgs;
	/* hashed here, in the parser's thread, for merging */
	hash[KEY_SOURCE] = idmap_key_hash(blob);
	for (int k = 0; k < NKEYS; k++)
		hash[k] = noff[k] < 0 ? 0 : idmap_key_hash(blob + noff[k] - 1);
	return 0;
}

/* Tokenizes line into c->js; a line jscan refuses, or one it would read
 * otherwise than cJSON, is read by cJSON and tokenized as cJSON prints it
 * (*printed, the caller's to free). 0, or -1 with e. */
static int scan(struct pctx *c, const char *line, size_t len, const char *name, long lineno,
		char **printed, struct rt_err *e)
{
	*printed = NULL;
	if (!jscan_parse(&c->js, line, len) && !needs_cjson(&c->js))
		return 0;
	const char *end = line;
	/* len + 1: cJSON wants the NUL inside the length to accept the end */
	cJSON *msg = cJSON_ParseWithLengthOpts(line, len + 1, &end, 1);
	if (!msg) {
		err_set(e, ERR_DATA, "%s:%ld: not JSON (column %ld)", name, lineno,
			(long)(end - line) + 1);
		return -1;
	}
	*printed = cJSON_PrintUnformatted(msg);
	cJSON_Delete(msg);
	if (!*printed) {
		err_set(e, ERR_IO, "%s:%ld: out of memory", name, lineno);
		return -1;
	}
	if (jscan_parse(&c->js, *printed, strlen(*printed))) {
		err_set(e, ERR_DATA, "%s:%ld: not readable: %s", name, lineno, c->js.err);
		return -1;
	}
	return 0;
}

/* What one line is, into *r. 0, or -1 with c->e (the line is no Singer
 * message, or out of memory). */
static int parse_line(struct pctx *c, const char *line, size_t len, const char *name,
		      long lineno, struct parsed *r)
{
	char *printed;
	if (scan(c, line, len, name, lineno, &printed, &c->e))
		return -1;
	const struct jscan *js = &c->js;
	int isobj = js->tok[0].type == JSCAN_OBJECT;
	int type = isobj ? str_tok(js, 0, "type") : -1, stream = isobj ? str_tok(js, 0, "stream") : -1;
	int people = stream >= 0 && jscan_streq(js, stream, "people", 6);
	int memb = stream >= 0 && jscan_streq(js, stream, "memberships", 11);
	int record = type >= 0 && jscan_streq(js, type, "RECORD", 6);
	int activate = type >= 0 && jscan_streq(js, type, "ACTIVATE_VERSION", 16);
	int rc = 0;

	r->why = 0;
	if (type < 0) {
		err_set(&c->e, ERR_DATA, "%s:%ld: %s", name, lineno,
			!isobj ? "not a JSON object" : "not a Singer message: no \"type\"");
		rc = -1;
	} else if (record && people) {
		int rec = jscan_get(js, 0, "record", 6), got = 1;
		r->why = BAD_NO_RECORD;
		if (rec >= 0)
			got = parse_person(c, rec, &r->rec, r->hash, &r->why);
		r->kind = got < 0 ? R_OOM : got ? R_BAD : R_PERSON;
	} else if (record && memb) {
		r->kind = R_MEMBER;
	} else if (activate && (people || memb)) {
		r->kind = people ? R_ACT_PEOPLE : R_ACT_MEMBERS;
	} else {
		r->kind = people && jscan_streq(js, type, "SCHEMA", 6) ? R_SCHEMA : R_PASS;
	}
	free(printed);
	return rc;
}

/* Parses lines [first, last) of the batch into c->res; stops at the first
 * that fails (c->failed_at). */
static void parse_lines(struct pctx *c, size_t first, size_t last)
{
	const struct batch *bt = &c->d->batch;
	c->failed_at = SIZE_MAX;
	if (VEC_RESERVE(c->res, c->capres, last - first, 256)) {
		err_set(&c->e, ERR_IO, "%s:%ld: out of memory", bt->name, bt->l[first].lineno);
		c->failed_at = first;
		return;
	}
	for (size_t i = first; i < last; i++)
		if (parse_line(c, bt->text.data + bt->l[i].at, bt->l[i].len, bt->name, bt->l[i].lineno,
			       &c->res[i - first])) {
			c->failed_at = i;
			return;
		}
}

/* Applies what c found in lines [first, last), in their order. */
static int apply(struct dedupe *d, struct pctx *c, size_t first, size_t last, struct rt_err *e)
{
	static const char *const why[] = {
		[BAD_NO_RECORD] = "without a record object",
		[BAD_NO_SOURCE] = "without a source string",
		[BAD_NO_SOURCE_ID] = "without a source_id string",
		[BAD_SEPARATOR] = "whose source or source_id holds a control character (0x1f)"};
	const struct batch *bt = &d->batch;
	struct in_people *in = &d->activated[d->ninputs - 1];
	size_t end = c->failed_at < last ? c->failed_at : last;
	for (size_t i = first; i < end; i++) {
		const struct parsed *r = &c->res[i - first];
		const char *line = bt->text.data + bt->l[i].at;
		size_t len = bt->l[i].len, cap = d->cap;
		int rc = 0;
		switch (r->kind) {
		case R_PERSON:
			d->st.people_in++;
			if (d->nrecs >= INT_MAX || VEC_RESERVE(d->recs, d->cap, d->nrecs + 1, 1024)) {
				err_set(e, ERR_IO, "%s:%ld: out of memory after %zu people", bt->name,
					bt->l[i].lineno, d->nrecs);
				return -1;
			}
			if (d->cap != cap)
				dedupe_huge(d->recs, d->cap * sizeof *d->recs);
			fault_ahead(d, (char *)d->recs, (d->nrecs + 1) * sizeof *d->recs,
				    d->cap * sizeof *d->recs, &d->recs_ahead);
			size_t caphk = d->caphk;
			if (VEC_RESERVE(d->hk, d->caphk, d->nhk + NKEYS + 1, 4096)) {
				err_set(e, ERR_IO, "%s:%ld: out of memory after %zu people", bt->name,
					bt->l[i].lineno, d->nrecs);
				return -1;
			}
			if (d->caphk != caphk)
				dedupe_huge(d->hk, d->caphk * sizeof *d->hk);
			fault_ahead(d, (char *)d->hk, (d->nhk + NKEYS + 1) * sizeof *d->hk,
				    d->caphk * sizeof *d->hk, &d->hk_ahead);
			d->recs[d->nrecs] = r->rec;
			d->recs[d->nrecs].input = d->ninputs - 1;
			d->recs[d->nrecs].seq = (int)d->nrecs;
			for (int k = 0; k <= NKEYS; k++)
				if (k == KEY_SOURCE || r->rec.norm[k])
					d->hk[d->nhk++] = (struct hkey){r->hash[k], (int)d->nrecs, k};
			d->nrecs++;
			break;
		case R_OOM:
			err_set(e, ERR_IO, "%s:%ld: out of memory after %zu people", bt->name,
				bt->l[i].lineno, d->nrecs);
			return -1;
		case R_BAD:
			/* Not ours to invent a key: passed on as it is, and the people
			 * stream is not activated, so nothing downstream trusts it. */
			d->st.people_in++;
			log_msg(LOG_ERROR, "%s:%ld: people record %s: written unmerged; the people "
				"stream will not be activated", bt->name, bt->l[i].lineno, why[r->why]);
			d->st.bad_people++;
			in->bad = 1; /* whose person it is, nobody knows */
			rc = hold(&d->bad, 0, line, len, e);
			break;
		case R_MEMBER:
			d->st.memberships++;
			rc = hold(&d->members, 0, line, len, e);
			break;
		case R_ACT_PEOPLE:
		case R_ACT_MEMBERS:
			d->held_people += r->kind == R_ACT_PEOPLE;
			in->activations += r->kind == R_ACT_PEOPLE;
			rc = hold(&d->held, r->kind == R_ACT_PEOPLE ? 'p' : 'm', line, len, e);
			break;
		default:
			in->schemas += r->kind == R_SCHEMA;
			rc = dedupe_put_line(d, line, len, e);
		}
		if (rc)
			return -1;
	}
	if (end < last) {
		*e = c->e;
		return -1;
	}
	return 0;
}

/* ---- the helper that parses half of each batch ---- */

struct parser {
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	size_t first, last; /* its lines */
	int work, stop;
};

static void *parser_main(void *arg)
{
	struct dedupe *d = arg;
	struct parser *h = d->parser;
	pthread_mutex_lock(&h->mu);
	for (;;) {
		while (!h->work && !h->stop)
			pthread_cond_wait(&h->cv, &h->mu);
		if (h->stop)
			break;
		pthread_mutex_unlock(&h->mu);
		parse_lines(&d->pc[1], h->first, h->last);
		pthread_mutex_lock(&h->mu);
		h->work = 0;
		pthread_cond_broadcast(&h->cv);
	}
	pthread_mutex_unlock(&h->mu);
	return NULL;
}

static struct parser *parser_start(struct dedupe *d)
{
	if (d->parser || d->parser_failed)
		return d->parser;
	struct parser *h = calloc(1, sizeof *h);
	if (h && !pthread_mutex_init(&h->mu, NULL)) {
		pthread_cond_init(&h->cv, NULL);
		d->parser = h;
		if (!pthread_create(&h->thread, NULL, parser_main, d))
			return h;
		d->parser = NULL;
		pthread_cond_destroy(&h->cv);
		pthread_mutex_destroy(&h->mu);
	}
	free(h);
	d->parser_failed = 1;
	return NULL;
}

void dedupe_parser_stop(struct dedupe *d)
{
	struct parser *h = d->parser;
	if (!h)
		return;
	pthread_mutex_lock(&h->mu);
	h->stop = 1;
	pthread_cond_broadcast(&h->cv);
	pthread_mutex_unlock(&h->mu);
	pthread_join(h->thread, NULL);
	pthread_cond_destroy(&h->cv);
	pthread_mutex_destroy(&h->mu);
	free(h);
	d->parser = NULL;
}

/* Parses the batch, the helper taking its first half when it is large,
 * and applies it. */
static int run_batch(struct dedupe *d, struct rt_err *e)
{
	size_t n = d->batch.n, half = n / 2;
	struct parser *h = n >= SPLIT_AT ? parser_start(d) : NULL;
	if (!h) {
		parse_lines(&d->pc[0], 0, n);
		return apply(d, &d->pc[0], 0, n, e);
	}
	pthread_mutex_lock(&h->mu);
	h->first = 0;
	h->last = half;
	h->work = 1;
	pthread_cond_broadcast(&h->cv);
	pthread_mutex_unlock(&h->mu);
	parse_lines(&d->pc[0], half, n);
	pthread_mutex_lock(&h->mu);
	while (h->work)
		pthread_cond_wait(&h->cv, &h->mu);
	pthread_mutex_unlock(&h->mu);
	return apply(d, &d->pc[1], 0, half, e) || apply(d, &d->pc[0], half, n, e) ? -1 : 0;
}

int dedupe_read(struct dedupe *d, FILE *in, const char *name, struct rt_err *e)
{
	struct batch *bt = &d->batch;
	struct lines r;
	int rc = 0, got = 1;
	if (d->ninputs == INT_MAX ||
	    VEC_RESERVE(d->activated, d->capactivated, (size_t)d->ninputs + 1, 4)) {
		err_set(e, ERR_IO, "%s: out of memory", name);
		return -1;
	}
	memset(&d->activated[d->ninputs++], 0, sizeof *d->activated);
	prefault_start(d);
	bt->name = name;
	lines_init(&r, in, name, 0);
	while (!rc && got == 1) {
		buf_reset(&bt->text);
		bt->n = 0;
		while (bt->n < BATCH_LINES && bt->text.len < BATCH_BYTES &&
		       (got = lines_next(&r, e)) == 1) {
			if (dedupe_blank(r.line.data)) /* blank lines carry nothing */
				continue;
			if (VEC_RESERVE(bt->l, bt->cap, bt->n + 1, 256) ||
			    buf_add(&bt->text, r.line.data, r.line.len + 1)) { /* and its NUL */
				err_set(e, ERR_IO, "%s:%ld: out of memory", name, r.lineno);
				rc = -1;
				break;
			}
			bt->l[bt->n++] = (struct bline){bt->text.len - r.line.len - 1, r.line.len, r.lineno};
		}
		if (!rc && bt->n)
			rc = run_batch(d, e); /* an error of its lines comes before a read error */
	}
	lines_free(&r);
	return rc || got < 0 ? -1 : 0;
}
