/* dedupe's reading: each line is tokenized in place (format/jscan.h) and
 * what dedupe keeps of a people record is copied into one arena. cJSON
 * reads only the lines the two parsers would read differently (what jscan
 * refuses, NULs and surrogates in \u escapes), and the rare values that
 * are written as cJSON prints them (objects, arrays, numbers other than
 * short integers), so every line means what it did when cJSON read all. */
#include "engine/dedupe_int.h"
#include "core/buf.h"
#include "core/lines.h"
#include "core/log.h"
#include "core/vec.h"
#include "format/jscan.h"

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

/* Queues p[0..n) for the helper, started the first time; without a
 * helper, or with its queue full, the pages fault when they are used. */
static void prefault(struct dedupe *d, char *p, size_t n)
{
	uintptr_t a = ((uintptr_t)p + 4095) & ~(uintptr_t)4095, z = ((uintptr_t)p + n) & ~(uintptr_t)4095;
	if (z <= a || d->pf_failed)
		return;
	if (!d->pf) {
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
	struct prefault *f = d->pf;
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

char *dedupe_alloc(struct dedupe *d, size_t n)
{
	struct arena_blk *b = d->arena;
	if (!b || b->cap - b->len < n) {
		size_t cap = n > ARENA_BLOCK ? n : ARENA_BLOCK;
		if (!(b = malloc(sizeof *b + cap)))
			return NULL;
		b->len = 0;
		b->cap = cap;
		b->next = d->arena;
		d->arena = b;
		dedupe_huge(b->data, cap);
		d->arena_ahead = 0;
	}
	b->len += n;
	fault_ahead(d, b->data, b->len, b->cap, &d->arena_ahead);
	return b->data + b->len - n;
}

void dedupe_arena_free(struct dedupe *d)
{
	while (d->arena) {
		struct arena_blk *b = d->arena;
		d->arena = b->next;
		free(b);
	}
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
static int plain_int(const char *p, size_t n)
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
		if (plain_int(p, n))
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
static int field_of(struct dedupe *d, int k)
{
	const struct jtok *t = &d->js.tok[k];
	const char *p = d->js.text + t->start;
	size_t n = (size_t)(t->end - t->start);
	if (t->escaped) {
		buf_reset(&d->keytmp);
		if (jscan_unescape(&d->js, k, &d->keytmp))
			return -1;
		p = d->keytmp.data;
		n = d->keytmp.len;
	}
	for (int f = 0; f < d->nf; f++)
		if (d->flen[f] == n && !memcmp(d->cs->fields[f].name, p, n))
			return f;
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

/* Copies what dedupe needs of people record rec into d->recs: the key
 * (already in the scratch buffer, with its tag byte), then the values. */
static int add_person(struct dedupe *d, int rec)
{
	struct buf *b = &d->scratch;
	const struct jscan *js = &d->js;
	long off[MAX_FIELDS], noff[NKEYS];
	int tokf[MAX_FIELDS], norgs = 0, rc = 0;

	for (int f = 0; f < d->nf; f++)
		tokf[f] = -1;
	for (int k = rec + 1, i = 0; i < js->tok[rec].size; i++, k = js->tok[k + 1].next) {
		int f = field_of(d, k);
		if (f >= 0 && tokf[f] < 0 && !dedupe_computed(d, f)) /* the first of a name wins */
			tokf[f] = k + 1;
	}
	for (int f = 0; f < d->nf; f++) {
		int v = tokf[f], got = 0;
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
	if (rc || d->nrecs >= INT_MAX || b->len > UINT32_MAX) /* counted in int, offsets */
		return -1;
	size_t cap = d->cap;
	if (VEC_RESERVE(d->recs, d->cap, d->nrecs + 1, 1024))
		return -1;
	if (d->cap != cap)
		dedupe_huge(d->recs, d->cap * sizeof *d->recs);
	fault_ahead(d, (char *)d->recs, (d->nrecs + 1) * sizeof *d->recs, d->cap * sizeof *d->recs,
		    &d->recs_ahead);
	char *blob = dedupe_alloc(d, b->len);
	if (!blob)
		return -1;
	memcpy(blob, b->data, b->len);
	struct prec *p = &d->recs[d->nrecs];
	memset(p, 0, sizeof *p);
	p->blob = blob;
	for (int f = 0; f < d->nf; f++) /* never 0: the blob starts with the key's tag */
		p->val[f] = off[f] < 0 ? 0 : (uint32_t)off[f];
	for (int k = 0; k < NKEYS; k++)
		p->norm[k] = noff[k] < 0 ? 0 : (uint32_t)noff[k];
	p->norgs = norgs;
	p->input = d->ninputs - 1;
	p->seq = (int)d->nrecs++;
	return 0;
}

/* ---- reading ---- */

static int on_person(struct dedupe *d, const char *line, size_t len, const char *name,
		     long lineno, struct rt_err *e)
{
	const struct jscan *js = &d->js;
	int rec = jscan_get(js, 0, "record", 6);
	int isobj = rec >= 0 && js->tok[rec].type == JSCAN_OBJECT;
	int src = isobj ? str_tok(js, rec, "source") : -1;
	int sid = isobj ? str_tok(js, rec, "source_id") : -1;
	struct buf *b = &d->scratch;
	int odd = 0;
	d->st.people_in++;
	buf_reset(b);
	if (src >= 0 && sid >= 0) {
		if (buf_addc(b, dedupe_key_tag[KEY_SOURCE]) || jscan_unescape(js, src, b) ||
		    buf_addc(b, '\x1f'))
			goto oom;
		size_t cut = b->len;
		if (jscan_unescape(js, sid, b) || buf_add(b, "", 1))
			goto oom;
		/* the key joins source and source_id with 0x1f: a value holding it
		 * could make two people one */
		odd = memchr(b->data + 1, '\x1f', cut - 2) || strchr(b->data + cut, '\x1f');
	}
	if (src < 0 || sid < 0 || odd) {
		/* Not ours to invent a key: passed on as it is, and the people
		 * stream is not activated, so nothing downstream trusts it. */
		log_msg(LOG_ERROR, "%s:%ld: people record %s: written unmerged; the people "
			"stream will not be activated", name, lineno,
			!isobj	   ? "without a record object"
			: src < 0 ? "without a source string"
			: sid < 0 ? "without a source_id string"
				  : "whose source or source_id holds a control character (0x1f)");
		d->st.bad_people++;
		d->activated[d->ninputs - 1].bad = 1; /* whose person it is, nobody knows */
		return hold(&d->bad, 0, line, len, e);
	}
	if (!add_person(d, rec))
		return 0;
oom:
	err_set(e, ERR_IO, "%s:%ld: out of memory after %zu people", name, lineno, d->nrecs);
	return -1;
}

/* Tokenizes line into d->js; a line jscan refuses, or one it would read
 * otherwise than cJSON, is read by cJSON and tokenized as cJSON prints it
 * (*printed, the caller's to free). 0, or -1 with e. */
static int scan(struct dedupe *d, const char *line, size_t len, const char *name,
		long lineno, char **printed, struct rt_err *e)
{
	*printed = NULL;
	if (!jscan_parse(&d->js, line, len) && !needs_cjson(&d->js))
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
	if (jscan_parse(&d->js, *printed, strlen(*printed))) {
		err_set(e, ERR_DATA, "%s:%ld: not readable: %s", name, lineno, d->js.err);
		return -1;
	}
	return 0;
}

static int on_line(struct dedupe *d, const char *line, size_t len, const char *name,
		   long lineno, struct rt_err *e)
{
	char *printed;
	if (scan(d, line, len, name, lineno, &printed, e))
		return -1;
	const struct jscan *js = &d->js;
	int isobj = js->tok[0].type == JSCAN_OBJECT;
	int type = isobj ? str_tok(js, 0, "type") : -1, stream = isobj ? str_tok(js, 0, "stream") : -1;
	int people = stream >= 0 && jscan_streq(js, stream, "people", 6);
	int memb = stream >= 0 && jscan_streq(js, stream, "memberships", 11);
	int record = type >= 0 && jscan_streq(js, type, "RECORD", 6);
	int activate = type >= 0 && jscan_streq(js, type, "ACTIVATE_VERSION", 16);
	int rc = 0;

	if (type < 0) {
		err_set(e, ERR_DATA, "%s:%ld: %s", name, lineno,
			!isobj ? "not a JSON object" : "not a Singer message: no \"type\"");
		rc = -1;
	} else if (record && people) {
		rc = on_person(d, line, len, name, lineno, e);
	} else if (record && memb) {
		d->st.memberships++;
		rc = hold(&d->members, 0, line, len, e);
	} else if (activate && (people || memb)) {
		d->held_people += people;
		if (people)
			d->activated[d->ninputs - 1].activations++;
		rc = hold(&d->held, people ? 'p' : 'm', line, len, e);
	} else {
		if (people && jscan_streq(js, type, "SCHEMA", 6))
			d->activated[d->ninputs - 1].schemas++;
		rc = dedupe_put_line(d, line, len, e);
	}
	free(printed);
	return rc;
}

int dedupe_read(struct dedupe *d, FILE *in, const char *name, struct rt_err *e)
{
	struct lines r;
	int rc = 0, got = 0;
	if (d->ninputs == INT_MAX ||
	    VEC_RESERVE(d->activated, d->capactivated, (size_t)d->ninputs + 1, 4)) {
		err_set(e, ERR_IO, "%s: out of memory", name);
		return -1;
	}
	memset(&d->activated[d->ninputs++], 0, sizeof *d->activated);
	lines_init(&r, in, name, 0);
	while (!rc && (got = lines_next(&r, e)) == 1)
		if (!dedupe_blank(r.line.data)) /* blank lines carry nothing */
			rc = on_line(d, r.line.data, r.line.len, name, r.lineno, e);
	lines_free(&r);
	return rc || got < 0 ? -1 : 0;
}
