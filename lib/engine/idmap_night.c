/* The id map's night: tonight's ids from the claims of tonight's keys
 * (man dedupe, FILES), and the map written back. */
#include "engine/idmap_int.h"
#include "core/atomic.h"
#include "core/buf.h"
#include "core/vec.h"

#include <stdlib.h>
#include <string.h>

#define WRITE_AT (1 << 20) /* the map is written in chunks of about 1 MB */

/* ---- tonight's ids ---- */

/* Whether person a wins an id over b (-1: nobody yet): more records, then
 * the smaller key. */
static int better(const struct idmap_person *ps, long a, long b)
{
	if (b < 0)
		return 1;
	if (a == b)
		return 0;
	if (ps[a].records != ps[b].records)
		return ps[a].records > ps[b].records;
	return strcmp(ps[a].minkey, ps[b].minkey) < 0;
}

static long live(const struct idmap *m, long id)
{
	while (m->ids[id].alias >= 0)
		id = m->ids[id].alias;
	return id;
}

struct cand {
	uint64_t v; /* the id it would get by the new-id rule */
	long person;
};

static int by_cand(const void *pa, const void *pb, void *arg)
{
	const struct idmap_person *ps = arg;
	const struct cand *a = pa, *b = pb;
	return strcmp(ps[a->person].minkey, ps[b->person].minkey);
}

static int has(const uint64_t *v, size_t n, uint64_t x)
{
	for (size_t i = 0; i < n; i++)
		if (v[i] == x)
			return 1;
	return 0;
}

static int in_cands(const struct cand *c, size_t n, uint64_t x)
{
	size_t lo = 0, hi = n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (c[mid].v < x)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < n && c[lo].v == x;
}

/* The ids of the persons no id went to, in the order of the id the rule
 * gives them (then their key), so that who gets a variant does not
 * depend on the input's order: the rule's id unless it was ever issued,
 * else the first variant never issued. */
static int issue_new(struct idmap *m, const struct idmap_person *ps, size_t np, long *pid,
		     const unsigned char *claimed)
{
	struct cand *c = malloc((np ? np : 1) * sizeof *c);
	struct idval *old = idmap_by_value(m);
	uint64_t *variants = NULL;
	size_t nc = 0, nold = m->nids, nvar = 0, capvar = 0;
	int rc = -1;
	if (!c || !old)
		goto out;
	for (size_t p = 0; p < np; p++)
		if (pid[p] < 0)
			c[nc++] = (struct cand){idmap_hash_id(&m->hash, ps[p].minkey, 0), (long)p};
	if (idmap_hsort(c, nc, sizeof *c))
		goto out;
	for (size_t i = 0, j; i < nc; i = j) {
		for (j = i + 1; j < nc && c[j].v == c[i].v;)
			j++;
		if (j - i > 1) /* two keys, one id: a 64-bit collision */
			qsort_r(c + i, j - i, sizeof *c, by_cand, (void *)ps);
	}
	if (VEC_RESERVE(m->ids, m->capids, m->nids + nc, 1024))
		goto out;
	for (size_t i = 0, o = 0; i < nc; i++) {
		long p = c[i].person;
		uint64_t v = c[i].v;
		while (o < nold && old[o].v < v)
			o++;
		int taken = (o < nold && old[o].v == v) || (i && c[i - 1].v == v);
		for (unsigned n = 1; taken; n++) {
			v = idmap_hash_id(&m->hash, ps[p].minkey, n);
			taken = idmap_find_id(old, nold, v) >= 0 || in_cands(c, nc, v) || has(variants, nvar, v);
		}
		if (v != c[i].v) {
			if (VEC_RESERVE(variants, capvar, nvar + 1, 16))
				goto out;
			variants[nvar++] = v;
		}
		pid[p] = (long)m->nids;
		m->ids[m->nids++] = (struct mid){v, 0, m->night + 1, -1, p, 0};
		if (claimed[p])
			m->st.split++;
		else
			m->st.fresh++;
	}
	rc = 0;
out:
	free(c);
	free(old);
	free(variants);
	return rc;
}

/* The claims of the persons on the ids their keys had, oldest id first
 * (first night, then smaller id), each person winning at most one: the
 * larger claimant of an id gets it; an id that all its claimants had an
 * older one for is retired, an alias of the largest one's. */
static void settle_claims(struct idmap *m, const struct idmap_person *ps, const uint64_t *cl,
			  size_t ncl, const struct idval *byage, long *pid)
{
	for (size_t i = 0, j; i < ncl; i = j) {
		uint64_t rank = cl[i] >> 32;
		long id = byage[rank].i, best = -1, any = -1;
		for (j = i; j < ncl && cl[j] >> 32 == rank; j++) {
			long p = (long)(cl[j] & 0xffffffffu);
			if (better(ps, p, any))
				any = p;
			if (pid[p] < 0 && better(ps, p, best))
				best = p;
		}
		if (best >= 0) {
			pid[best] = id;
			m->ids[id].person = best;
			m->st.kept++;
		} else {
			m->ids[id].alias = pid[any];
			m->st.merged++;
		}
	}
}

/* The live ids by age: first night, then value. */
static struct idval *by_age(const struct idmap *m, uint32_t *rank)
{
	struct idval *v = idmap_by_value(m);
	if (!v)
		return NULL;
	for (size_t i = 0; i < m->nids; i++)
		v[i].v = (uint64_t)m->ids[v[i].i].night; /* a stable sort keeps the values' order */
	if (idmap_hsort(v, m->nids, sizeof *v)) {
		free(v);
		return NULL;
	}
	for (size_t i = 0; i < m->nids; i++)
		rank[v[i].i] = (uint32_t)i;
	return v;
}

int idmap_assign(struct idmap *m, const struct idmap_person *ps, size_t np,
		 const struct idmap_key *keys, size_t nkeys, uint64_t *ids, struct rt_err *e)
{
	long *pid = malloc((np ? np : 1) * sizeof *pid);
	unsigned char *claimed = calloc(np ? np : 1, 1), *matched = calloc(m->nkeys + 1, 1);
	uint64_t *cl = malloc((nkeys ? nkeys : 1) * sizeof *cl);
	uint32_t *rank = malloc((m->nids ? m->nids : 1) * sizeof *rank);
	struct idval *byage = NULL;
	size_t ncl = 0, n = 0;
	int rc = -1;
	if (!pid || !claimed || !matched || !cl || !rank || np > UINT32_MAX ||
	    !(byage = by_age(m, rank)))
		goto out;
	for (size_t p = 0; p < np; p++)
		pid[p] = -1;
	/* both sorted by hash: one pass pairs tonight's keys with the map's */
	for (size_t i = 0, j = 0; i < nkeys; i++) {
		if (i + 8 < nkeys)
			__builtin_prefetch(keys[i + 8].key);
		while (j < m->nkeys && m->keys[j].hash < keys[i].hash)
			j++;
		if (j + 8 < m->nkeys)
			__builtin_prefetch(m->keys[j + 8].key);
		for (size_t x = j; x < m->nkeys && m->keys[x].hash == keys[i].hash; x++)
			if (!strcmp(m->keys[x].key, keys[i].key)) {
				matched[x] = 1;
				claimed[keys[i].person] = 1;
				cl[ncl++] = (uint64_t)rank[live(m, m->keys[x].id)] << 32 |
					    (uint64_t)keys[i].person;
				break;
			}
	}
	if (idmap_hsort(cl, ncl, sizeof *cl))
		goto out;
	settle_claims(m, ps, cl, ncl, byage, pid);
	if (issue_new(m, ps, np, pid, claimed))
		goto out;
	/* the map's keys not seen tonight stay, but a present person's
	 * matching keys are what it has tonight: kept in place */
	for (size_t x = 0; x < m->nkeys; x++) {
		if (x + 16 < m->nkeys && !matched[x + 16]) { /* in hash order: each a miss */
			__builtin_prefetch(m->keys[x + 16].key);
			__builtin_prefetch(&m->ids[m->keys[x + 16].id]);
		}
		if (matched[x])
			continue;
		long id = live(m, m->keys[x].id);
		if (m->keys[x].key[0] != 's' && m->ids[id].person >= 0)
			continue;
		m->keys[n] = m->keys[x];
		m->keys[n++].id = (int32_t)id;
	}
	/* tonight's keys go to their person's id */
	m->nkeys = n;
	if (VEC_RESERVE(m->keys, m->capkeys, n + nkeys, 4096))
		goto out;
	for (size_t i = 0; i < nkeys; i++)
		m->keys[m->nkeys++] = (struct mkey){keys[i].hash, keys[i].key, (int32_t)pid[keys[i].person], 0};
	for (size_t i = 0; i < m->nids; i++)
		if (m->ids[i].alias >= 0)
			m->ids[i].alias = live(m, m->ids[i].alias);
	for (size_t p = 0; p < np; p++)
		ids[p] = m->ids[pid[p]].id;
	m->night++;
	rc = 0;
out:
	if (rc)
		err_set(e, ERR_IO, "out of memory assigning ids to %zu persons", np);
	free(pid);
	free(claimed);
	free(matched);
	free(cl);
	free(rank);
	free(byage);
	return rc;
}

/* ---- writing ---- */

/* A value with every byte that is a space, a control character or the
 * backslash written \xHH: one field of a line. */
static int put_esc(struct buf *b, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	int rc = 0;
	for (size_t i = 0; i < n;) {
		size_t j = i;
		while (j < n && (unsigned char)s[j] > ' ' && s[j] != 0x7f && s[j] != '\\')
			j++;
		rc |= buf_add(b, s + i, j - i);
		if (j < n) {
			unsigned char c = (unsigned char)s[j];
			char esc[4] = {'\\', 'x', hex[c >> 4], hex[c & 15]};
			rc |= buf_add(b, esc, 4);
			j++;
		}
		i = j;
	}
	return rc;
}

static int put_key(struct buf *b, const char *key)
{
	const char *v = key + 1, *us = key[0] == 's' ? strchr(v, '\x1f') : NULL;
	int rc = buf_addc(b, key[0]) | buf_addc(b, ' ');
	if (us)
		rc |= put_esc(b, v, (size_t)(us - v)) | buf_addc(b, ' ') | put_esc(b, us + 1, strlen(us + 1));
	else
		rc |= put_esc(b, v, strlen(v));
	return rc | buf_addc(b, '\n');
}

/* A key to write: its id's value first, for idmap_hsort. */
struct wkey {
	uint64_t id;
	const char *key;
};

/* Sorts a few keys of one id (insertion: an id has a handful). */
static void sort_few(struct wkey *k, size_t n)
{
	for (size_t i = 1; i < n; i++)
		for (size_t j = i; j > 0 && strcmp(k[j - 1].key, k[j].key) > 0; j--) {
			struct wkey t = k[j];
			k[j] = k[j - 1];
			k[j - 1] = t;
		}
}

static char *put_dec(char *w, long v)
{
	char tmp[24];
	int n = 0;
	do
		tmp[n++] = (char)('0' + v % 10);
	while ((v /= 10) > 0);
	while (n)
		*w++ = tmp[--n];
	return w;
}

/* "+ ID NIGHT" or "= ID NIGHT TARGET", and its newline. */
static int put_id(struct buf *b, const struct idmap *m, const struct mid *x)
{
	if (buf_reserve(b, 64))
		return -1;
	char *w = b->data + b->len;
	*w++ = x->alias >= 0 ? '=' : '+';
	*w++ = ' ';
	idmap_format(x->id, w);
	w += 18;
	*w++ = ' ';
	w = put_dec(w, x->night);
	if (x->alias >= 0) {
		*w++ = ' ';
		idmap_format(m->ids[x->alias].id, w);
		w += 18;
	}
	*w++ = '\n';
	*w = 0;
	b->len = (size_t)(w - b->data);
	return 0;
}

int idmap_write(const struct idmap *m, struct atomic_file *a, const char *path, struct rt_err *e)
{
	struct idval *v = idmap_by_value(m);
	struct wkey *k = malloc((m->nkeys ? m->nkeys : 1) * sizeof *k);
	struct buf b;
	int rc = -1, bad = 0;

	buf_init(&b, 0);
	if (!v || !k)
		goto oom;
	/* the keys in id order, then key order within an id: ids and keys are
	 * both walked in value order, so a key's id is never looked up */
	for (size_t x = 0; x < m->nkeys; x++) {
		if (x + 16 < m->nkeys) /* keys in hash order: their ids are anywhere */
			__builtin_prefetch(&m->ids[m->keys[x + 16].id]);
		k[x] = (struct wkey){m->ids[m->keys[x].id].id, m->keys[x].key};
	}
	if (idmap_hsort(k, m->nkeys, sizeof *k))
		goto oom;
	bad = buf_printf(&b, MAGIC " %d\nnight %d\n", VERSION, m->night);
	for (size_t r = 0, x = 0, ahead = 0; !bad && r < m->nids; r++) {
		if (r + 8 < m->nids)
			__builtin_prefetch(&m->ids[v[r + 8].i]);
		for (; ahead < m->nkeys && ahead < x + 32; ahead++)
			__builtin_prefetch(k[ahead].key); /* in hash order once: a miss each */
		bad |= put_id(&b, m, &m->ids[v[r].i]);
		size_t end = x;
		while (end < m->nkeys && k[end].id == v[r].v)
			end++;
		sort_few(k + x, end - x);
		for (; x < end; x++)
			bad |= put_key(&b, k[x].key);
		if (!bad && b.len >= WRITE_AT) {
			if (atomic_write(a, b.data, b.len, e))
				goto out;
			buf_reset(&b);
		}
	}
	if (bad || buf_adds(&b, "end\n"))
		goto oom;
	rc = atomic_write(a, b.data, b.len, e);
	goto out;
oom:
	err_set(e, ERR_IO, "%s: out of memory writing the id map", path);
out:
	buf_free(&b);
	free(v);
	free(k);
	return rc;
}

int idmap_save(const struct idmap *m, const char *path, struct rt_err *e)
{
	struct atomic_file a;
	if (atomic_open(&a, path, 0644, e))
		return -1;
	if (idmap_write(m, &a, path, e)) {
		atomic_abort(&a);
		return -1;
	}
	return atomic_commit(&a, e);
}
