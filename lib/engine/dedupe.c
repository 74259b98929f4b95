#include "engine/dedupe_int.h"
#include "core/buf.h"
#include "core/lines.h"
#include "core/log.h"
#include "core/vec.h"
#include "format/canon.h"
#include "format/jsonw.h"
#include "format/singer.h"
#include "engine/vendor.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <limits.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

#define MAX_CONFLICT_WARNINGS 50 /* one line each; past that only the total */

static const char *const key_names[NKEYS] = {"employee_id", "sis_id", "email"};

static int blank(const char *s)
{
	return s[strspn(s, " \t\r\n\v\f")] == 0;
}

struct dedupe *dedupe_new(FILE *out)
{
	struct dedupe *d = calloc(1, sizeof *d);
	if (!d)
		return NULL;
	d->out = out;
	d->cs = canon_find("people");
	while (d->cs && d->cs->fields[d->nf].name)
		d->nf++;
	buf_init(&d->members, 0);
	buf_init(&d->bad, 0);
	buf_init(&d->held, 0);
	buf_init(&d->scratch, 0);
	if (!d->cs || d->nf > MAX_FIELDS) /* the canonical table and this file disagree */
		goto bad;
	d->f_id = canon_field_index(d->cs, "id");
	d->f_source = canon_field_index(d->cs, "source");
	d->f_source_id = canon_field_index(d->cs, "source_id");
	d->f_status = canon_field_index(d->cs, "status");
	d->f_reason = canon_field_index(d->cs, "status_reason");
	d->f_role = canon_field_index(d->cs, "role");
	d->f_orgs = canon_field_index(d->cs, "org_ids");
	d->f_sources = canon_field_index(d->cs, "sources");
	d->f_fsrc = canon_field_index(d->cs, "field_sources");
	for (int k = 0; k < NKEYS; k++)
		d->f_key[k] = canon_field_index(d->cs, key_names[k]);
	int need[] = {d->f_id, d->f_source, d->f_source_id, d->f_status, d->f_orgs, d->f_sources,
		      d->f_fsrc, d->f_role, d->f_key[0], d->f_key[1], d->f_key[2]};
	for (size_t i = 0; i < sizeof need / sizeof need[0]; i++)
		if (need[i] < 0)
			goto bad;
	return d;
bad:
	free(d);
	return NULL;
}

void dedupe_free(struct dedupe *d)
{
	if (!d)
		return;
	for (size_t i = 0; i < d->nrecs; i++)
		free(d->recs[i].key);
	free(d->recs);
	buf_free(&d->members);
	buf_free(&d->bad);
	buf_free(&d->held);
	buf_free(&d->scratch);
	free(d->activated);
	free(d->srcs);
	free(d->ps);
	free(d->ord);
	free(d);
}

const struct dedupe_stats *dedupe_stats(const struct dedupe *d)
{
	return &d->st;
}

static void id_of_key(const char *key, char out[19])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned len = 0;
	memset(md, 0, sizeof md); /* a failed digest still gives a well-formed id */
	EVP_Digest(key, strlen(key), md, &len, EVP_sha256(), NULL);
	memcpy(out, "p-", 2);
	for (int i = 0; i < 8; i++)
		snprintf(out + 2 + 2 * i, 3, "%02x", md[i]);
}

void dedupe_person_id(const char *source, const char *source_id, char out[19])
{
	struct buf b;
	buf_init(&b, 0);
	if (buf_printf(&b, "%s\x1f%s", source, source_id))
		memset(out, 0, 19);
	else
		id_of_key(b.data, out);
	buf_free(&b);
}

/* ---- reading ---- */

static int put_line(struct dedupe *d, const char *p, size_t n, struct rt_err *e)
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

/* Appends a field's value as text and its NUL: a string as it is, a
 * number or boolean (or a stray object) as its JSON text. 1 if appended,
 * 0 when absent or null, -1 when out of memory. */
static int add_value(struct buf *b, const cJSON *v)
{
	if (!v || cJSON_IsNull(v))
		return 0;
	if (cJSON_IsString(v))
		return buf_add(b, v->valuestring, strlen(v->valuestring) + 1) ? -1 : 1;
	char *t = cJSON_PrintUnformatted(v);
	int rc = t && !buf_add(b, t, strlen(t) + 1) ? 1 : -1;
	free(t);
	return rc;
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

static int computed(const struct dedupe *d, int f)
{
	return f == d->f_id || f == d->f_sources || f == d->f_fsrc;
}

/* Copies what dedupe needs of a people record into d->recs. */
static int add_person(struct dedupe *d, const cJSON *rec, const char *src, const char *sid)
{
	struct buf *b = &d->scratch;
	long off[MAX_FIELDS], noff[NKEYS];
	int norgs = 0, rc = 0;

	buf_reset(b);
	rc |= buf_adds(b, src) | buf_addc(b, '\x1f') | buf_adds(b, sid) | buf_add(b, "", 1);
	for (int f = 0; f < d->nf; f++) {
		const cJSON *v = computed(d, f) ? NULL : cJSON_GetObjectItemCaseSensitive(rec,
								d->cs->fields[f].name);
		long at = (long)b->len;
		int got = 0;
		if (f == d->f_orgs && cJSON_IsArray(v)) {
			const cJSON *x;
			got = 1;
			cJSON_ArrayForEach(x, v) {
				int g = add_value(b, x);
				rc |= g < 0;
				norgs += g > 0;
			}
		} else {
			got = add_value(b, v);
			rc |= got < 0;
			if (f == d->f_orgs && got > 0)
				norgs = 1; /* one string for a list: keep it as a list of one */
		}
		off[f] = got > 0 ? at : -1;
	}
	for (int k = 0; k < NKEYS; k++) {
		noff[k] = -1;
		if (off[d->f_key[k]] < 0 || blank(b->data + off[d->f_key[k]]))
			continue;
		noff[k] = (long)b->len;
		rc |= add_norm(b, (size_t)off[d->f_key[k]], k == KEY_EMAIL);
	}
	if (rc || d->nrecs >= INT_MAX) /* records are counted in int */
		return -1;
	if (VEC_RESERVE(d->recs, d->cap, d->nrecs + 1, 1024))
		return -1;
	struct prec *p = &d->recs[d->nrecs];
	memset(p, 0, sizeof *p);
	if (!(p->key = malloc(b->len))) /* not buf_steal: exact size, scratch reused */
		return -1;
	memcpy(p->key, b->data, b->len);
	for (int f = 0; f < d->nf; f++)
		p->val[f] = off[f] < 0 ? NULL : p->key + off[f];
	for (int k = 0; k < NKEYS; k++)
		p->norm[k] = noff[k] < 0 ? NULL : p->key + noff[k];
	p->norgs = norgs;
	p->input = d->ninputs - 1;
	p->seq = (long)d->nrecs++;
	return 0;
}

static const char *str_item(const cJSON *o, const char *k)
{
	const char *s = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, k));
	return s && *s ? s : NULL;
}

static int on_person(struct dedupe *d, const cJSON *msg, const char *line, size_t len,
		     const char *name, long lineno, struct rt_err *e)
{
	const cJSON *rec = cJSON_GetObjectItemCaseSensitive(msg, "record");
	const char *src = str_item(rec, "source"), *sid = str_item(rec, "source_id");
	d->st.people_in++;
	/* the key joins source and source_id with 0x1f: a value holding it could
	 * make two people one */
	int odd = src && sid && (strchr(src, '\x1f') || strchr(sid, '\x1f'));
	if (!src || !sid || odd) {
		/* Not ours to invent a key: passed on as it is, and the people
		 * stream is not activated, so nothing downstream trusts it. */
		log_msg(LOG_ERROR, "%s:%ld: people record %s: written unmerged; the people "
			"stream will not be activated", name, lineno,
			!cJSON_IsObject(rec) ? "without a record object"
			: !src		     ? "without a source string"
			: !sid		     ? "without a source_id string"
					     : "whose source or source_id holds a control character (0x1f)");
		d->st.bad_people++;
		d->activated[d->ninputs - 1].bad = 1; /* whose person it is, nobody knows */
		return hold(&d->bad, 0, line, len, e);
	}
	if (add_person(d, rec, src, sid)) {
		err_set(e, ERR_IO, "%s:%ld: out of memory after %zu people", name, lineno, d->nrecs);
		return -1;
	}
	return 0;
}

static int on_line(struct dedupe *d, const char *line, size_t len, const char *name,
		   long lineno, struct rt_err *e)
{
	const char *end = line;
	/* len + 1: cJSON wants the NUL inside the length to accept the end */
	cJSON *msg = cJSON_ParseWithLengthOpts(line, len + 1, &end, 1);
	const char *type = str_item(msg, "type"), *stream = str_item(msg, "stream");
	int rc = 0, people = stream && !strcmp(stream, "people");
	int memb = stream && !strcmp(stream, "memberships");

	if (!cJSON_IsObject(msg) || !type) {
		err_set(e, ERR_DATA, "%s:%ld: %s", name, lineno,
			!msg ? "not JSON" : !cJSON_IsObject(msg) ? "not a JSON object"
							 : "not a Singer message: no \"type\"");
		if (!msg)
			snprintf(e->msg + strlen(e->msg), sizeof e->msg - strlen(e->msg),
				 " (column %ld)", (long)(end - line) + 1);
		cJSON_Delete(msg);
		return -1;
	}
	if (!strcmp(type, "RECORD") && people) {
		rc = on_person(d, msg, line, len, name, lineno, e);
	} else if (!strcmp(type, "RECORD") && memb) {
		d->st.memberships++;
		rc = hold(&d->members, 0, line, len, e);
	} else if (!strcmp(type, "ACTIVATE_VERSION") && (people || memb)) {
		d->held_people += people;
		if (people)
			d->activated[d->ninputs - 1].activations++;
		rc = hold(&d->held, people ? 'p' : 'm', line, len, e);
	} else {
		if (people && !strcmp(type, "SCHEMA"))
			d->activated[d->ninputs - 1].schemas++;
		rc = put_line(d, line, len, e);
	}
	cJSON_Delete(msg);
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
		if (!blank(r.line.data)) /* blank lines carry nothing */
			rc = on_line(d, r.line.data, r.line.len, name, r.lineno, e);
	lines_free(&r);
	return rc || got < 0 ? -1 : 0;
}

/* ---- merging ---- */

static int cmp_str(const char *a, const char *b)
{
	return strcmp(a, b);
}

static int cmp_seq(const struct prec *a, const struct prec *b)
{
	return (a->seq > b->seq) - (a->seq < b->seq);
}

struct sort_ctx {
	const struct dedupe *d;
	int k; /* by_norm: which key */
};

static int by_source(const void *pa, const void *pb, void *arg)
{
	const struct sort_ctx *c = arg;
	const struct prec *a = &c->d->recs[*(const int *)pa], *b = &c->d->recs[*(const int *)pb];
	int r = cmp_str(a->val[c->d->f_source], b->val[c->d->f_source]);
	return r ? r : cmp_seq(a, b);
}

static int by_key(const void *pa, const void *pb, void *arg)
{
	const struct sort_ctx *c = arg;
	const struct prec *a = &c->d->recs[*(const int *)pa], *b = &c->d->recs[*(const int *)pb];
	int r = cmp_str(a->key, b->key);
	return r ? r : cmp_seq(a, b);
}

static int by_norm(const void *pa, const void *pb, void *arg)
{
	const struct sort_ctx *c = arg;
	const struct prec *a = &c->d->recs[*(const int *)pa], *b = &c->d->recs[*(const int *)pb];
	int r = cmp_str(a->norm[c->k], b->norm[c->k]);
	return r ? r : cmp_seq(a, b);
}

/* Person first (the union-find root), then the field precedence. */
static int by_precedence(const void *pa, const void *pb, void *arg)
{
	const struct sort_ctx *c = arg;
	const struct prec *a = &c->d->recs[*(const int *)pa], *b = &c->d->recs[*(const int *)pb];
	int r = (a->cluster > b->cluster) - (a->cluster < b->cluster);
	if (!r)
		r = (a->rank > b->rank) - (a->rank < b->rank);
	if (!r)
		r = cmp_str(a->val[c->d->f_source_id], b->val[c->d->f_source_id]);
	return r ? r : cmp_seq(a, b);
}

static int by_id(const void *pa, const void *pb)
{
	const struct person *a = pa, *b = pb;
	int r = strcmp(a->id, b->id);
	return r ? r : (a->start > b->start) - (a->start < b->start);
}

static int by_pstr(const void *pa, const void *pb)
{
	return strcmp(*(const char *const *)pa, *(const char *const *)pb);
}

static int find(int *parent, int x)
{
	while (parent[x] != x)
		x = parent[x] = parent[parent[x]]; /* path halving */
	return x;
}

static void unite(int *parent, int a, int b)
{
	a = find(parent, a);
	b = find(parent, b);
	if (a != b)
		parent[a > b ? a : b] = a > b ? b : a;
}

/* Unions the records that are neighbours in idx (sorted by a key) and
 * equal on it. */
static void unite_runs(const struct dedupe *d, int *parent, const int *idx, int n, int k)
{
	for (int i = 1; i < n; i++) {
		const struct prec *a = &d->recs[idx[i - 1]], *b = &d->recs[idx[i]];
		const char *x = k < 0 ? a->key : a->norm[k], *y = k < 0 ? b->key : b->norm[k];
		if (x && y && !strcmp(x, y))
			unite(parent, idx[i - 1], idx[i]);
	}
}

/* Sets every record's cluster to its union-find root, and its rank.
 * bykey gets the records sorted by key (the memberships' lookup table). */
static int unite_keys(struct dedupe *d, int *bykey)
{
	int n = (int)d->nrecs, m;
	size_t sz = (n ? (size_t)n : 1) * sizeof(int);
	int *parent = malloc(sz), *idx = malloc(sz);
	struct sort_ctx c = {d, -1};
	if (!parent || !idx) {
		free(parent);
		free(idx);
		return -1;
	}
	for (int i = 0; i < n; i++)
		parent[i] = idx[i] = i;
	qsort_r(idx, (size_t)n, sizeof *idx, by_source, &c);
	for (int i = 0; i < n; i++) {
		struct prec *p = &d->recs[idx[i]];
		int same = i && !strcmp(d->recs[idx[i - 1]].val[d->f_source], p->val[d->f_source]);
		p->rank = same ? d->recs[idx[i - 1]].rank : p->seq;
		d->st.sources += !same;
		p->src = d->st.sources - 1;
	}
	if (!(d->srcs = calloc(d->st.sources ? (size_t)d->st.sources : 1, sizeof *d->srcs))) {
		free(parent);
		free(idx);
		return -1;
	}
	d->nsrcs = d->st.sources;
	for (int i = 0; i < n; i++) {
		const struct prec *p = &d->recs[idx[i]];
		struct dsrc *s = &d->srcs[p->src];
		if (!s->records++) {
			s->name = p->val[d->f_source];
			s->rank = p->rank;
			s->scope = vendor_scope_of(s->name);
			s->directory = s->scope == VENDOR_DIRECTORY;
			s->complete = 1;
		}
		const struct in_people *in = &d->activated[p->input];
		s->complete &= !in->bad && in->activations > 0 && in->activations >= in->schemas;
	}
	memcpy(bykey, idx, (size_t)n * sizeof *idx);
	qsort_r(bykey, (size_t)n, sizeof *bykey, by_key, &c);
	unite_runs(d, parent, bykey, n, -1);
	for (c.k = 0; c.k < NKEYS; c.k++) {
		m = 0;
		for (int i = 0; i < n; i++)
			if (d->recs[i].norm[c.k])
				idx[m++] = i;
		qsort_r(idx, (size_t)m, sizeof *idx, by_norm, &c);
		unite_runs(d, parent, idx, m, c.k);
	}
	for (int i = 0; i < n; i++)
		d->recs[i].cluster = find(parent, i);
	free(parent);
	free(idx);
	return 0;
}

/* ---- writing people ---- */

/* For each field, the position in m of the record that wins it, or -1:
 * the first with a non-blank value, else the first with an empty one. */
void dedupe_choose(const struct dedupe *d, const int *m, int n, int *win)
{
	const struct prec *R = d->recs;
	for (int f = 0; f < d->nf; f++) {
		win[f] = -1;
		for (int j = 0; j < n; j++) {
			const char *v = R[m[j]].val[f];
			if (v && win[f] < 0)
				win[f] = j;
			if (v && !blank(v)) {
				win[f] = j;
				break;
			}
		}
	}
	/* one active record keeps the person active; the reason goes with the status */
	for (int j = 0; j < n; j++)
		if (R[m[j]].val[d->f_status] && !strcmp(R[m[j]].val[d->f_status], "active")) {
			win[d->f_status] = j;
			break;
		}
	if (d->f_reason >= 0) {
		int s = win[d->f_status];
		win[d->f_reason] = s >= 0 && R[m[s]].val[d->f_reason] ? s : -1;
	}
}

/* Warns about each record whose key differs from the one kept. */
static void conflicts(struct dedupe *d, const struct person *p, const int *m, const int *win)
{
	const struct prec *R = d->recs;
	for (int k = 0; k < NKEYS; k++) {
		int f = d->f_key[k], w = win[f];
		if (w < 0 || !R[m[w]].norm[k])
			continue;
		const struct prec *a = &R[m[w]];
		for (int j = 0; j < p->n; j++) {
			const struct prec *b = &R[m[j]];
			if (!b->norm[k] || !strcmp(b->norm[k], a->norm[k]))
				continue;
			if (++d->st.conflicts <= MAX_CONFLICT_WARNINGS)
				log_warn("%s: merged records disagree on %s: %s %s has '%s' (kept), "
					 "%s %s has '%s'", p->id, key_names[k], a->val[d->f_source],
					 a->val[d->f_source_id], a->val[f], b->val[d->f_source],
					 b->val[d->f_source_id], b->val[f]);
		}
	}
}

int dedupe_put_key(struct buf *b, const char *name, int *first)
{
	int rc = jsonw_key(b, name, *first);
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

/* The sorted union of the records' org_ids. */
static int put_orgs(const struct dedupe *d, const int *m, int n, struct buf *b)
{
	const char **v = NULL;
	size_t nv = 0, cap = 0;
	int rc = 0;
	for (int j = 0; j < n; j++) {
		const struct prec *r = &d->recs[m[j]];
		const char *s = r->val[d->f_orgs];
		for (int k = 0; k < r->norgs; k++, s += strlen(s) + 1) {
			if (VEC_RESERVE(v, cap, nv + 1, 16)) {
				free(v);
				return -1;
			}
			v[nv++] = s;
		}
	}
	if (nv)
		qsort(v, nv, sizeof *v, by_pstr);
	rc |= buf_addc(b, '[');
	for (size_t i = 0; i < nv; i++)
		if (!i || strcmp(v[i - 1], v[i]))
			rc |= (i ? buf_addc(b, ',') : 0) | jsonw_str(b, v[i]);
	rc |= buf_addc(b, ']');
	free(v);
	return rc;
}

/* [{"source","source_id"}...] sorted by key, each once. */
static int put_sources(const struct dedupe *d, const int *m, int n, struct buf *b)
{
	const char **keys = malloc((size_t)n * sizeof *keys);
	int rc = !keys || buf_addc(b, '[');
	for (int j = 0; !rc && j < n; j++)
		keys[j] = d->recs[m[j]].key;
	if (!rc)
		qsort(keys, (size_t)n, sizeof *keys, by_pstr);
	for (int j = 0; !rc && j < n; j++) {
		if (j && !strcmp(keys[j - 1], keys[j]))
			continue;
		const char *sid = strchr(keys[j], '\x1f') + 1;
		rc |= (j ? buf_addc(b, ',') : 0) | buf_adds(b, "{\"source\":") |
		      jsonw_strn(b, keys[j], (size_t)(sid - 1 - keys[j])) |
		      buf_adds(b, ",\"source_id\":") | jsonw_str(b, sid) | buf_addc(b, '}');
	}
	free(keys);
	return rc | buf_addc(b, ']');
}

/* The fields that a record won, with the winning source. */
static int put_field_sources(const struct dedupe *d, const int *m, const int *win,
			     struct buf *b)
{
	int rc = buf_addc(b, '{'), first = 1;
	for (int f = 0; f < d->nf; f++) {
		if (win[f] < 0 || computed(d, f) || f == d->f_source || f == d->f_source_id ||
		    f == d->f_orgs)
			continue;
		rc |= dedupe_put_key(b, d->cs->fields[f].name, &first);
		rc |= jsonw_str(b, d->recs[m[win[f]]].val[d->f_source]);
	}
	return rc | buf_addc(b, '}');
}

/* One merged person's record, fields in the canonical order. */
static int render(const struct dedupe *d, const struct person *p, const int *m,
		  const int *win, struct buf *b)
{
	int rc = 0, first = 1;
	buf_reset(b);
	rc |= buf_addc(b, '{');
	for (int f = 0; f < d->nf; f++) {
		const char *name = d->cs->fields[f].name, *v = NULL;
		if (f == d->f_orgs && has_orgs(d, m, p->n))
			rc |= dedupe_put_key(b, name, &first) | put_orgs(d, m, p->n, b);
		else if (f == d->f_sources)
			rc |= dedupe_put_key(b, name, &first) | put_sources(d, m, p->n, b);
		else if (f == d->f_fsrc)
			rc |= dedupe_put_key(b, name, &first) | put_field_sources(d, m, win, b);
		else if (f == d->f_id)
			v = p->id;
		else if (f == d->f_source || f == d->f_source_id)
			v = d->recs[m[0]].val[f];
		else if (f != d->f_orgs && win[f] >= 0)
			v = d->recs[m[win[f]]].val[f];
		if (v)
			rc |= dedupe_put_key(b, name, &first) | jsonw_str(b, v);
	}
	return rc | buf_addc(b, '}');
}

/* Groups the records of each person, names it, and sorts persons by id. */
static struct person *persons(struct dedupe *d, int *ord, size_t *np)
{
	int n = (int)d->nrecs;
	struct sort_ctx c = {d, -1};
	struct person *ps = malloc((n ? (size_t)n : 1) * sizeof *ps);
	if (!ps)
		return NULL;
	for (int i = 0; i < n; i++)
		ord[i] = i;
	qsort_r(ord, (size_t)n, sizeof *ord, by_precedence, &c);
	*np = 0;
	for (int i = 0; i < n;) {
		struct person *p = &ps[(*np)++];
		const char *min = d->recs[ord[i]].key;
		p->start = i;
		for (; i < n && d->recs[ord[i]].cluster == d->recs[ord[p->start]].cluster; i++)
			if (strcmp(d->recs[ord[i]].key, min) < 0)
				min = d->recs[ord[i]].key;
		p->n = i - p->start;
		id_of_key(min, p->id);
	}
	qsort(ps, *np, sizeof *ps, by_id);
	for (size_t k = 0; k < *np; k++)
		for (int j = 0; j < ps[k].n; j++)
			d->recs[ord[ps[k].start + j]].cluster = (int)k;
	return ps;
}

/* ---- writing memberships ---- */

/* The person whose key is source\x1fsource_id, or NULL. */
static const struct person *lookup(const struct dedupe *d, const int *bykey,
				   const struct person *ps, const char *key)
{
	size_t lo = 0, hi = d->nrecs;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int r = strcmp(d->recs[bykey[mid]].key, key);
		if (!r)
			return &ps[d->recs[bykey[mid]].cluster];
		if (r < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/* One held memberships line, person_id rewritten when the person is
 * known; otherwise as it came. */
static int put_membership(struct dedupe *d, const int *bykey, const struct person *ps,
			  const char *line, size_t len, struct buf *key, struct rt_err *e)
{
	cJSON *msg = cJSON_ParseWithLength(line, len); /* parsed once already: it is JSON */
	cJSON *rec = cJSON_GetObjectItemCaseSensitive(msg, "record");
	const char *src = str_item(rec, "source"), *pid = str_item(rec, "person_id");
	const struct person *p = NULL;
	char *text = NULL;
	int rc;

	buf_reset(key);
	if (src && pid && !buf_printf(key, "%s\x1f%s", src, pid))
		p = lookup(d, bykey, ps, key->data);
	if (!p) {
		if (++d->st.unknown_members == 1)
			log_warn("memberships: %s person '%s' in group '%s' is not in the people "
				 "stream; kept with the source's person_id", src ? src : "?",
				 pid ? pid : "?", str_item(rec, "group_id") ? str_item(rec, "group_id")
									   : "?");
		cJSON_Delete(msg);
		return put_line(d, line, len, e);
	}
	cJSON_DeleteItemFromObjectCaseSensitive(rec, "person_source_id");
	rc = !cJSON_AddStringToObject(rec, "person_source_id", pid) ||
	     !cJSON_ReplaceItemInObjectCaseSensitive(rec, "person_id", cJSON_CreateString(p->id)) ||
	     !(text = cJSON_PrintUnformatted(msg));
	if (rc)
		err_set(e, ERR_IO, "out of memory rewriting memberships");
	else
		rc = put_line(d, text, strlen(text), e);
	free(text);
	cJSON_Delete(msg);
	return rc;
}

/* Calls fn on each '\n'-ended line of b. */
static int each_line(struct dedupe *d, const struct buf *b,
		     int (*fn)(struct dedupe *, const char *, size_t, void *), void *arg)
{
	for (size_t at = 0; at < b->len;) {
		const char *p = b->data + at, *nl = memchr(p, '\n', b->len - at);
		if (fn(d, p, (size_t)(nl - p), arg))
			return -1;
		at += (size_t)(nl - p) + 1;
	}
	return 0;
}

struct members_ctx {
	const int *bykey;
	const struct person *ps;
	struct buf key;
	struct rt_err *e;
};

static int member_line(struct dedupe *d, const char *p, size_t n, void *arg)
{
	struct members_ctx *c = arg;
	return put_membership(d, c->bykey, c->ps, p, n, &c->key, c->e);
}

static int bad_line(struct dedupe *d, const char *p, size_t n, void *e)
{
	return put_line(d, p, n, e);
}

/* A held ACTIVATE_VERSION; people's are withheld when a record was bad. */
static int activate_line(struct dedupe *d, const char *p, size_t n, void *e)
{
	if (*p == 'p' && d->st.bad_people)
		return 0;
	return put_line(d, p + 1, n - 1, e);
}

static void summary(struct dedupe *d, size_t withheld)
{
	struct dedupe_stats *s = &d->st;
	log_info("people: %zu record%s from %d source%s merged into %ld person%s; memberships: %ld",
		 d->nrecs, d->nrecs == 1 ? "" : "s", s->sources, s->sources == 1 ? "" : "s",
		 s->people_out, s->people_out == 1 ? "" : "s", s->memberships);
	if (s->conflicts)
		log_warn("%ld key conflict%s inside merged persons (%ld shown); the first source's "
			 "value was kept", s->conflicts, s->conflicts == 1 ? "" : "s",
			 s->conflicts < MAX_CONFLICT_WARNINGS ? s->conflicts : MAX_CONFLICT_WARNINGS);
	if (s->unknown_members)
		log_warn("memberships: %ld of %ld refer to a person not in the people stream and "
			 "keep the source's person_id", s->unknown_members, s->memberships);
	if (s->bad_people)
		log_msg(LOG_ERROR, "people: %ld record%s without source or source_id; %zu people "
			"ACTIVATE_VERSION withheld, so the previous people output is kept",
			s->bad_people, s->bad_people == 1 ? "" : "s", withheld);
}

int dedupe_finish(struct dedupe *d, struct rt_err *e)
{
	size_t n = d->nrecs, np = 0;
	int *bykey = malloc((n ? n : 1) * sizeof *bykey), *ord = malloc((n ? n : 1) * sizeof *ord);
	struct person *ps = NULL;
	struct buf b;
	int rc = -1;

	buf_init(&b, 0);
	if (!bykey || !ord || unite_keys(d, bykey) || !(ps = persons(d, ord, &np))) {
		err_set(e, ERR_IO, "out of memory merging %zu people", n);
		goto out;
	}
	for (size_t k = 0; k < np; k++) {
		int win[MAX_FIELDS];
		dedupe_choose(d, ord + ps[k].start, ps[k].n, win);
		conflicts(d, &ps[k], ord + ps[k].start, win);
		if (render(d, &ps[k], ord + ps[k].start, win, &b)) {
			err_set(e, ERR_IO, "out of memory writing person %s", ps[k].id);
			goto out;
		}
		if (singer_record(d->out, "people", b.data, b.len, NULL)) {
			err_set(e, ERR_IO, "writing the output failed: %s", strerror(errno));
			goto out;
		}
		d->st.people_out++;
	}
	struct members_ctx mc = {bykey, ps, {0}, e};
	buf_init(&mc.key, 0);
	rc = each_line(d, &d->bad, bad_line, e) || each_line(d, &d->members, member_line, &mc) ||
	     each_line(d, &d->held, activate_line, e) ? -1 : 0;
	buf_free(&mc.key);
	if (!rc && fflush(d->out)) { /* before the summary: a full disk is no success */
		err_set(e, ERR_IO, "writing the output failed: %s", strerror(errno));
		rc = -1;
	}
	if (!rc)
		summary(d, d->st.bad_people ? d->held_people : 0);
out:
	buf_free(&b);
	/* the persons stay for dedupe_reconcile; dedupe_free releases them */
	d->ps = ps;
	d->np = np;
	d->ord = ord;
	d->finished = !rc;
	free(bykey);
	return rc;
}
