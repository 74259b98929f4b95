#include "engine/dedupe_int.h"
#include "core/buf.h"
#include "core/htab.h"
#include "core/log.h"
#include "core/vec.h"
#include "format/canon.h"
#include "format/jsonw.h"
#include "engine/idmap.h"
#include "engine/vendor.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#define MAX_CONFLICT_WARNINGS 50 /* one line each; past that only the total */

const char *const dedupe_key_names[NKEYS] = {"employee_id", "sis_id", "email"};
const char dedupe_key_tag[NKEYS + 1] = {'e', 'i', 'm', 's'};

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
	dedupe_pctx_init(&d->pc[0], d);
	dedupe_pctx_init(&d->pc[1], d);
	buf_init(&d->batch.text, 0);
	for (int f = 0; f < MAX_FIELDS; f++)
		buf_init(&d->fkey[f], 0);
	idmap_hasher_init(&d->hash);
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
		d->f_key[k] = canon_field_index(d->cs, dedupe_key_names[k]);
	for (int f = 0; f < d->nf; f++) {
		d->flen[f] = strlen(d->cs->fields[f].name);
		if (jsonw_key(&d->fkey[f], d->cs->fields[f].name, 1))
			goto bad;
	}
	int need[] = {d->f_id, d->f_source, d->f_source_id, d->f_status, d->f_orgs, d->f_sources,
		      d->f_fsrc, d->f_role, d->f_key[0], d->f_key[1], d->f_key[2]};
	for (size_t i = 0; i < sizeof need / sizeof need[0]; i++)
		if (need[i] < 0)
			goto bad;
	return d;
bad:
	dedupe_free(d);
	return NULL;
}

void dedupe_free(struct dedupe *d)
{
	if (!d)
		return;
	dedupe_parser_stop(d);
	dedupe_prefault_stop(d);
	dedupe_pctx_free(&d->pc[0]);
	dedupe_pctx_free(&d->pc[1]);
	buf_free(&d->batch.text);
	free(d->batch.l);
	free(d->recs);
	free(d->hk);
	buf_free(&d->members);
	buf_free(&d->bad);
	buf_free(&d->held);
	for (int f = 0; f < MAX_FIELDS; f++)
		buf_free(&d->fkey[f]);
	idmap_hasher_free(&d->hash);
	free(d->activated);
	free(d->srcs);
	free(d->ps);
	free(d->ord);
	free(d);
}

void dedupe_use_ids(struct dedupe *d, struct idmap *m, const char *save_to)
{
	d->ids = m;
	d->ids_out = save_to;
}

/* e is an error of the map's file: said so, with the file. */
static void map_not_written(struct rt_err *e, const char *path)
{
	struct rt_err inner = *e;
	err_set(e, ERR_IO, "the id map was not written to %s: %s", path, inner.msg);
}

const struct dedupe_stats *dedupe_stats(const struct dedupe *d)
{
	return &d->st;
}

void dedupe_person_id(const char *source, const char *source_id, char out[19])
{
	struct idmap_hasher h;
	struct buf b;
	idmap_hasher_init(&h);
	buf_init(&b, 0);
	if (buf_printf(&b, "%s\x1f%s", source, source_id))
		memset(out, 0, 19);
	else
		idmap_format(idmap_hash_id(&h, b.data, 0), out);
	buf_free(&b);
	idmap_hasher_free(&h);
}

static const char *str_item(const cJSON *o, const char *k)
{
	const char *s = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, k));
	return s && *s ? s : NULL;
}

/* ---- merging ---- */

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

struct src_ent {
	struct htab_key k;
	int first; /* seq of its first record */
	int index; /* in order of names, once sorted */
};

static int by_src_name(const void *pa, const void *pb, void *arg)
{
	const struct src_ent *v = arg;
	return strcmp(v[*(const int *)pa].k.key, v[*(const int *)pb].k.key);
}

/* Each record's source (its index among the sources sorted by name) and
 * rank (the seq of its source's first record); then d->srcs. */
static int rank_sources(struct dedupe *d)
{
	struct src_ent *v = NULL;
	size_t n = 0, cap = 0;
	struct htab index = {0};
	int *order = NULL, rc = -1, last = -1;
	for (size_t i = 0; i < d->nrecs; i++) {
		struct prec *p = &d->recs[i];
		const char *name = pval(p, d->f_source);
		if (last < 0 || strcmp(v[last].k.key, name)) { /* runs of one source are the rule */
			size_t len = strlen(name);
			struct htab_pos at;
			size_t got;
			if (HTAB_RESERVE(&index, v, n) || VEC_RESERVE(v, cap, n + 1, 8))
				goto out;
			if ((got = HTAB_LOOKUP(&index, v, name, len, &at))) {
				last = (int)got - 1;
			} else {
				v[n] = (struct src_ent){{(char *)name, len}, p->seq, 0};
				htab_set(&index, &at, n);
				last = (int)n++;
			}
		}
		p->src = last;
	}
	if (!(order = malloc((n ? n : 1) * sizeof *order)) ||
	    !(d->srcs = calloc(n ? n : 1, sizeof *d->srcs)))
		goto out;
	for (size_t i = 0; i < n; i++)
		order[i] = (int)i;
	qsort_r(order, n, sizeof *order, by_src_name, v);
	for (size_t i = 0; i < n; i++)
		v[order[i]].index = (int)i;
	d->nsrcs = d->st.sources = (int)n;
	for (size_t i = 0; i < d->nrecs; i++) {
		struct prec *p = &d->recs[i];
		p->rank = v[p->src].first;
		p->src = v[p->src].index;
		struct dsrc *s = &d->srcs[p->src];
		if (!s->records++) {
			s->name = pval(p, d->f_source);
			s->rank = p->rank;
			s->scope = vendor_scope_of(s->name);
			s->directory = s->scope == VENDOR_DIRECTORY;
			s->complete = 1;
		}
		const struct in_people *in = &d->activated[p->input];
		s->complete &= !in->bad && in->activations > 0 && in->activations >= in->schemas;
	}
	rc = 0;
out:
	htab_free(&index);
	free(v);
	free(order);
	return rc;
}

static int by_hkey_str(const void *pa, const void *pb, void *arg)
{
	const struct prec *recs = arg;
	const struct hkey *a = pa, *b = pb;
	int r = strcmp(hkey_str(recs, a), hkey_str(recs, b));
	return r ? r : (a->rec > b->rec) - (a->rec < b->rec);
}

/* Unions the records that share a typed key. d->hk, every typed key of
 * every record as read, is sorted by hash and, within a hash, by key: a
 * record's source key is looked up there (memberships) and the distinct
 * keys go to the id map. */
static int unite_keys(struct dedupe *d, int *parent)
{
	size_t n = d->nhk;
	for (size_t i = 0; i < d->nrecs; i++)
		parent[i] = (int)i;
	if (idmap_hsort(d->hk, n, sizeof *d->hk))
		return -1;
	for (size_t i = 0, j; i < n; i = j) {
		int mixed = 0;
		for (j = i + 1; j < n && d->hk[j].hash == d->hk[i].hash; j++) /* a key's records */
			mixed |= strcmp(hkey_str(d->recs, &d->hk[i]), hkey_str(d->recs, &d->hk[j])) != 0;
		if (mixed) /* two keys of one hash: rare, so sorted only then */
			qsort_r(d->hk + i, j - i, sizeof *d->hk, by_hkey_str, d->recs);
		for (size_t x = i + 1; x < j; x++)
			if (!mixed || !strcmp(hkey_str(d->recs, &d->hk[x - 1]),
					      hkey_str(d->recs, &d->hk[x])))
				unite(parent, d->hk[x - 1].rec, d->hk[x].rec);
	}
	return 0;
}

/* The field precedence inside one person. */
static int by_precedence(const void *pa, const void *pb, void *arg)
{
	const struct dedupe *d = arg;
	const struct prec *a = &d->recs[*(const int *)pa], *b = &d->recs[*(const int *)pb];
	int r = (a->rank > b->rank) - (a->rank < b->rank);
	if (!r)
		r = strcmp(pval(a, d->f_source_id), pval(b, d->f_source_id));
	return r ? r : (a->seq > b->seq) - (a->seq < b->seq);
}

/* The smallest "source\x1fsource_id" of a person's records. */
static const char *min_key(const struct dedupe *d, const struct person *p)
{
	const char *min = pkey(&d->recs[d->ord[p->start]]);
	for (int j = 1; j < p->n; j++)
		if (strcmp(pkey(&d->recs[d->ord[p->start + j]]), min) < 0)
			min = pkey(&d->recs[d->ord[p->start + j]]);
	return min;
}

/* Tonight's ids from the map: each person, and each distinct typed key
 * with its person. */
static int ids_from_map(struct dedupe *d, struct person *ps, size_t np, struct rt_err *e)
{
	struct idmap_person *ip = malloc((np ? np : 1) * sizeof *ip);
	struct idmap_key *ik = malloc((d->nhk ? d->nhk : 1) * sizeof *ik);
	uint64_t *ids = malloc((np ? np : 1) * sizeof *ids);
	size_t nk = 0;
	int rc = -1;
	if (!ip || !ik || !ids) {
		err_set(e, ERR_IO, "out of memory assigning ids to %zu persons", np);
		goto out;
	}
	for (size_t k = 0; k < np; k++)
		ip[k] = (struct idmap_person){ps[k].n, min_key(d, &ps[k])};
	for (size_t i = 0; i < d->nhk; i++) {
		/* the keys are in hash order, their records in input order */
		if (i + 16 < d->nhk)
			__builtin_prefetch(&d->recs[d->hk[i + 16].rec]);
		if (i + 8 < d->nhk)
			__builtin_prefetch(hkey_str(d->recs, &d->hk[i + 8]));
		const char *s = hkey_str(d->recs, &d->hk[i]);
		if (nk && ik[nk - 1].hash == d->hk[i].hash && !strcmp(ik[nk - 1].key, s))
			continue; /* the same key of another record of the same person */
		ik[nk++] = (struct idmap_key){d->hk[i].hash, s, d->recs[d->hk[i].rec].cluster};
	}
	if ((rc = idmap_assign(d->ids, ip, np, ik, nk, ids, e)))
		goto out;
	for (size_t k = 0; k < np; k++)
		ps[k].id64 = ids[k];
out:
	free(ip);
	free(ik);
	free(ids);
	return rc;
}

/* Merges the records into persons, in d->ps sorted by id, their records
 * in d->ord in precedence order; each record's cluster is its person. */
static int persons(struct dedupe *d, struct rt_err *e)
{
	size_t n = d->nrecs, np = 0;
	int *parent = malloc((n ? n : 1) * sizeof *parent);
	int *at = malloc((n ? n : 1) * sizeof *at);
	int rc = -1;
	d->ord = malloc((n ? n : 1) * sizeof *d->ord);
	d->ps = malloc((n ? n : 1) * sizeof *d->ps);
	if (!parent || !at || !d->ord || !d->ps || rank_sources(d) || unite_keys(d, parent)) {
		err_set(e, ERR_IO, "out of memory merging %zu people", n);
		goto out;
	}
	/* persons in the order of their first record, records in input order */
	for (size_t i = 0; i < n; i++)
		at[i] = 0;
	for (size_t i = 0; i < n; i++) {
		int r = find(parent, (int)i);
		d->recs[i].cluster = r;
		at[r]++;
	}
	for (size_t i = 0, pos = 0; i < n; i++) {
		if (!at[i])
			continue;
		d->ps[np] = (struct person){0, (int)pos, 0, 0, {0}}; /* n counts its records below */
		pos += (size_t)at[i];
		at[i] = (int)np++;
	}
	for (size_t i = 0; i < n; i++) {
		struct person *p = &d->ps[at[d->recs[i].cluster]];
		d->recs[i].cluster = at[d->recs[i].cluster];
		d->ord[p->start + p->n++] = (int)i;
	}
	for (size_t k = 0; k < np; k++) {
		if (d->ps[k].n > 1)
			qsort_r(d->ord + d->ps[k].start, (size_t)d->ps[k].n, sizeof *d->ord,
				by_precedence, d);
		d->ps[k].first = d->ord[d->ps[k].start];
	}
	if (d->ids) {
		if (ids_from_map(d, d->ps, np, e))
			goto out;
	} else {
		for (size_t k = 0; k < np; k++)
			d->ps[k].id64 = idmap_hash_id(&d->hash, min_key(d, &d->ps[k]), 0);
	}
	for (size_t k = 0; k < np; k++)
		idmap_format(d->ps[k].id64, d->ps[k].id);
	/* stable: persons of one id (a 64-bit collision) stay in input order */
	if (idmap_hsort(d->ps, np, sizeof *d->ps)) {
		err_set(e, ERR_IO, "out of memory merging %zu people", n);
		goto out;
	}
	for (size_t k = 0; k < np; k++)
		for (int j = 0; j < d->ps[k].n; j++)
			d->recs[d->ord[d->ps[k].start + j]].cluster = (int)k;
	d->np = np;
	rc = 0;
out:
	free(parent);
	free(at);
	return rc;
}

/* ---- writing memberships ---- */

/* The person whose key is source\x1fsource_id, or NULL. */
static const struct person *lookup(const struct dedupe *d, const struct buf *key)
{
	uint64_t h = idmap_key_hash(key->data);
	size_t lo = 0, hi = d->nhk;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (d->hk[mid].hash < h)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (; lo < d->nhk && d->hk[lo].hash == h; lo++)
		if (!strcmp(hkey_str(d->recs, &d->hk[lo]), key->data))
			return &d->ps[d->recs[d->hk[lo].rec].cluster];
	return NULL;
}

/* Whether every token of the line is one cJSON prints as it is written
 * (strings without escapes, short integers, literals) and the line has
 * no white space: then cJSON_PrintUnformatted of it is the line itself,
 * and the rewritten line can be made from the tokens (most lines are so:
 * normalize writes them). */
static int plain_line(const struct jscan *js, size_t len)
{
	size_t n = 0;
	for (int i = 0; i < js->ntok; i++) {
		const struct jtok *t = &js->tok[i];
		size_t w = (size_t)(t->end - t->start);
		switch (t->type) {
		case JSCAN_STRING:
			if (t->escaped)
				return 0;
			n += w + 2;
			break;
		case JSCAN_OBJECT: /* braces, a colon a member, commas between */
			n += 2 + (size_t)t->size + (t->size ? (size_t)t->size - 1 : 0);
			break;
		case JSCAN_ARRAY:
			n += 2 + (t->size ? (size_t)t->size - 1 : 0);
			break;
		case JSCAN_NUMBER:
			if (!dedupe_plain_int(js->text + t->start, w))
				return 0;
			/* fall through */
		default:
			n += w;
		}
	}
	return n == len;
}

/* Token t and what it holds, compact; in the record object rec, the
 * first member named person_source_id left out (skip), the value of the
 * first named person_id made id, and person_source_id = pid added last:
 * what cJSON writes after the same edits. */
static int put_tok(struct buf *b, const struct jscan *js, int t, int rec, int skip, int pidv,
		   const char *id, int pid)
{
	const struct jtok *k = &js->tok[t];
	const char *p = js->text + k->start;
	int rc = 0, first = 1;
	if (t == pidv)
		return buf_addc(b, '"') | buf_adds(b, id) | buf_addc(b, '"');
	if (k->type == JSCAN_STRING)
		return buf_addc(b, '"') | buf_add(b, p, (size_t)(k->end - k->start)) | buf_addc(b, '"');
	if (k->type != JSCAN_OBJECT && k->type != JSCAN_ARRAY)
		return buf_add(b, p, (size_t)(k->end - k->start));
	int obj = k->type == JSCAN_OBJECT;
	rc |= buf_addc(b, obj ? '{' : '[');
	for (int i = 0, x = t + 1; i < k->size; i++) {
		int v = obj ? x + 1 : x;
		if (x != skip) {
			rc |= first ? 0 : buf_addc(b, ',');
			first = 0;
			if (obj)
				rc |= put_tok(b, js, x, rec, skip, pidv, id, pid) | buf_addc(b, ':');
			rc |= put_tok(b, js, v, rec, skip, pidv, id, pid);
		}
		x = js->tok[v].next;
	}
	if (t == rec)
		rc |= (first ? 0 : buf_addc(b, ',')) | buf_adds(b, "\"person_source_id\":") |
		      put_tok(b, js, pid, -1, -1, -1, NULL, -1);
	return rc | buf_addc(b, obj ? '}' : ']');
}

/* The first member of object obj named key: its key token, or -1. */
static int member(const struct jscan *js, int obj, const char *key)
{
	size_t n = strlen(key);
	for (int k = obj + 1, i = 0; i < js->tok[obj].size; i++, k = js->tok[k + 1].next)
		if ((size_t)(js->tok[k].end - js->tok[k].start) == n &&
		    !memcmp(js->text + js->tok[k].start, key, n))
			return k;
	return -1;
}

/* A non-empty string's token, or -1. */
static int str_val(const struct jscan *js, int k)
{
	if (k < 0 || js->tok[k + 1].type != JSCAN_STRING || js->tok[k + 1].end == js->tok[k + 1].start)
		return -1;
	return k + 1;
}

/* put_membership without cJSON, for a plain line (plain_line); 1 when the
 * line is not one. */
static int fast_membership(struct dedupe *d, const char *line, size_t len, struct buf *key,
			   struct buf *out, struct rt_err *e)
{
	struct jscan *js = &d->pc[0].js; /* reading is over: free to use */
	if (jscan_parse(js, line, len) || js->tok[0].type != JSCAN_OBJECT || !plain_line(js, len))
		return 1;
	int rk = member(js, 0, "record"), rec = rk >= 0 && js->tok[rk + 1].type == JSCAN_OBJECT ? rk + 1 : -1;
	int src = rec >= 0 ? str_val(js, member(js, rec, "source")) : -1;
	int pk = rec >= 0 ? member(js, rec, "person_id") : -1, pid = str_val(js, pk);
	const struct person *p = NULL;
	buf_reset(key);
	if (src >= 0 && pid >= 0 &&
	    !buf_printf(key, "%c%.*s\x1f%.*s", dedupe_key_tag[KEY_SOURCE],
			js->tok[src].end - js->tok[src].start, js->text + js->tok[src].start,
			js->tok[pid].end - js->tok[pid].start, js->text + js->tok[pid].start))
		p = lookup(d, key);
	if (!p)
		return 1; /* as it came, with a warning: the common way */
	buf_reset(out);
	if (put_tok(out, js, 0, rec, member(js, rec, "person_source_id"), pid, p->id, pid)) {
		err_set(e, ERR_IO, "out of memory rewriting memberships");
		return -1;
	}
	return dedupe_put_line(d, out->data, out->len, e);
}

/* One held memberships line, person_id rewritten when the person is
 * known; otherwise as it came. */
static int put_membership(struct dedupe *d, const char *line, size_t len, struct buf *key,
			  struct buf *out, struct rt_err *e)
{
	int fast = fast_membership(d, line, len, key, out, e);
	if (fast <= 0)
		return fast;
	cJSON *msg = cJSON_ParseWithLength(line, len); /* parsed once already: it is JSON */
	cJSON *rec = cJSON_GetObjectItemCaseSensitive(msg, "record");
	const char *src = str_item(rec, "source"), *pid = str_item(rec, "person_id");
	const struct person *p = NULL;
	char *text = NULL;
	int rc;

	buf_reset(key);
	if (src && pid && !buf_printf(key, "%c%s\x1f%s", dedupe_key_tag[KEY_SOURCE], src, pid))
		p = lookup(d, key);
	if (!p) {
		if (++d->st.unknown_members == 1)
			log_warn("memberships: %s person '%s' in group '%s' is not in the people "
				 "stream; kept with the source's person_id", src ? src : "?",
				 pid ? pid : "?", str_item(rec, "group_id") ? str_item(rec, "group_id")
									   : "?");
		cJSON_Delete(msg);
		return dedupe_put_line(d, line, len, e);
	}
	cJSON_DeleteItemFromObjectCaseSensitive(rec, "person_source_id");
	rc = !cJSON_AddStringToObject(rec, "person_source_id", pid) ||
	     !cJSON_ReplaceItemInObjectCaseSensitive(rec, "person_id", cJSON_CreateString(p->id)) ||
	     !(text = cJSON_PrintUnformatted(msg));
	if (rc)
		err_set(e, ERR_IO, "out of memory rewriting memberships");
	else
		rc = dedupe_put_line(d, text, strlen(text), e);
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
	struct buf key, out;
	struct rt_err *e;
};

static int member_line(struct dedupe *d, const char *p, size_t n, void *arg)
{
	struct members_ctx *c = arg;
	return put_membership(d, p, n, &c->key, &c->out, c->e);
}

static int bad_line(struct dedupe *d, const char *p, size_t n, void *e)
{
	return dedupe_put_line(d, p, n, e);
}

/* A held ACTIVATE_VERSION; people's are withheld when a record was bad. */
static int activate_line(struct dedupe *d, const char *p, size_t n, void *e)
{
	if (*p == 'p' && d->st.bad_people)
		return 0;
	return dedupe_put_line(d, p + 1, n - 1, e);
}

static void summary(struct dedupe *d, size_t withheld)
{
	struct dedupe_stats *s = &d->st;
	log_info("people: %zu record%s from %d source%s merged into %ld person%s; memberships: %ld",
		 d->nrecs, d->nrecs == 1 ? "" : "s", s->sources, s->sources == 1 ? "" : "s",
		 s->people_out, s->people_out == 1 ? "" : "s", s->memberships);
	if (d->ids) {
		const struct idmap_stats *i = idmap_stats(d->ids);
		log_info("ids (night %d): %ld kept, %ld new, %ld split off; %ld merged into an older "
			 "id (aliases recorded)", idmap_night(d->ids), i->kept, i->fresh, i->split,
			 i->merged);
	}
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
	int rc = -1, saving = 0;

	dedupe_parser_stop(d);
	dedupe_prefault_stop(d);
	if (d->ids && idmap_load_wait(d->ids, e))
		return -1;
	if (persons(d, e))
		goto out;
	/* the map is whole now: it is written while the people are */
	if (d->ids) {
		if (idmap_save_start(d->ids, d->ids_out, e)) {
			map_not_written(e, d->ids_out);
			goto out;
		}
		saving = 1;
	}
	if (dedupe_write_people(d, e))
		goto out;
	struct members_ctx mc = {{0}, {0}, e};
	buf_init(&mc.key, 0);
	buf_init(&mc.out, 0);
	rc = each_line(d, &d->bad, bad_line, e) || each_line(d, &d->members, member_line, &mc) ||
	     each_line(d, &d->held, activate_line, e) ? -1 : 0;
	buf_free(&mc.key);
	buf_free(&mc.out);
	if (!rc && fflush(d->out)) { /* before the summary: a full disk is no success */
		err_set(e, ERR_IO, "writing the output failed: %s", strerror(errno));
		rc = -1;
	}
	if (!rc)
		summary(d, d->st.bad_people ? d->held_people : 0);
out:
	if (saving) {
		/* renamed into place only when the output is whole */
		struct rt_err se;
		err_clear(&se);
		if (idmap_save_end(d->ids, !rc, &se) && !rc) {
			*e = se;
			map_not_written(e, d->ids_out);
			rc = -1;
		}
	}
	/* the persons stay for dedupe_reconcile; dedupe_free releases them */
	d->finished = !rc;
	return rc;
}
