#include "engine/idmap.h"
#include "core/atomic.h"
#include "core/buf.h"
#include "core/strset.h"
#include "core/vec.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAGIC "roster-ids"
#define VERSION 1
#define WRITE_AT (1 << 20) /* the map is written in chunks of about 1 MB */

struct mid {
	uint64_t id;
	uint64_t target; /* while loading: the id an alias line names */
	int night;       /* first issued */
	long alias;      /* index of the id it merged into (flattened), or -1: live */
	long person;     /* tonight's person holding it, or -1 */
	long line;       /* in the file read, for messages; 0: issued tonight */
};

struct mkey {
	uint64_t hash;
	const char *key; /* typed; in text, or borrowed from idmap_assign's caller */
	long id;         /* index in ids: a live id */
	long line;
};

struct idmap {
	int night;
	char *text; /* the file read, its keys decoded in place */
	struct mid *ids;
	size_t nids, capids;
	struct mkey *keys;
	size_t nkeys, capkeys;
	struct idmap_stats st;
};

/* An id value and the index of its entry, for sorting by value. */
struct idval {
	uint64_t v;
	long i;
};

struct idmap *idmap_new(void)
{
	return calloc(1, sizeof(struct idmap));
}

void idmap_free(struct idmap *m)
{
	if (!m)
		return;
	free(m->text);
	free(m->ids);
	free(m->keys);
	free(m);
}

const struct idmap_stats *idmap_stats(const struct idmap *m)
{
	return &m->st;
}

int idmap_night(const struct idmap *m)
{
	return m->night;
}

uint64_t idmap_key_hash(const char *key)
{
	return strset_hash(key, strlen(key));
}

uint64_t idmap_hash_id(const char *minkey, unsigned variant)
{
	unsigned char md[SHA256_DIGEST_LENGTH];
	char small[256], *p = small;
	size_t n = strlen(minkey), len = n;
	memset(md, 0, sizeof md); /* a failed digest still gives a well-formed id */
	if (variant) {
		if (n + 12 > sizeof small && !(p = malloc(n + 12)))
			return 0;
		memcpy(p, minkey, n);
		len = n + (size_t)sprintf(p + n, "\x1f%u", variant);
	}
	SHA256((const unsigned char *)(variant ? p : minkey), len, md);
	if (p != small)
		free(p);
	uint64_t v = 0;
	for (int i = 0; i < 8; i++)
		v = v << 8 | md[i];
	return v;
}

void idmap_format(uint64_t id, char out[19])
{
	snprintf(out, 19, "p-%016" PRIx64, id);
}

#define RADIX_BITS 11
#define RADIX (1 << RADIX_BITS)

int idmap_hsort(void *v, size_t n, size_t esize)
{
	char *a = v, *buf = n > 1 ? malloc(n * esize) : NULL, *tmp = buf;
	size_t *count = n > 1 ? malloc(RADIX * sizeof *count) : NULL;
	if (n > 1 && (!buf || !count)) {
		free(buf);
		free(count);
		return -1;
	}
	for (int shift = 0; n > 1 && shift < 64; shift += RADIX_BITS) {
		uint64_t h;
		memset(count, 0, RADIX * sizeof *count);
		for (size_t i = 0; i < n; i++) {
			memcpy(&h, a + i * esize, sizeof h);
			count[(h >> shift) & (RADIX - 1)]++;
		}
		memcpy(&h, a, sizeof h);
		if (count[(h >> shift) & (RADIX - 1)] == n)
			continue; /* one digit for all: this pass would change nothing */
		for (size_t i = 0, sum = 0; i < RADIX; i++) {
			size_t c = count[i];
			count[i] = sum;
			sum += c;
		}
		for (size_t i = 0; i < n; i++) {
			memcpy(&h, a + i * esize, sizeof h);
			memcpy(tmp + count[(h >> shift) & (RADIX - 1)]++ * esize, a + i * esize, esize);
		}
		char *t = a;
		a = tmp;
		tmp = t;
	}
	if (a != v) /* an odd number of passes left the sorted copy in buf */
		memcpy(v, a, n * esize);
	free(buf);
	free(count);
	return 0;
}

/* The entries sorted by id value (with idmap_hsort), or NULL. */
static struct idval *by_value(const struct idmap *m)
{
	struct idval *v = malloc((m->nids ? m->nids : 1) * sizeof *v);
	if (!v)
		return NULL;
	for (size_t i = 0; i < m->nids; i++)
		v[i] = (struct idval){m->ids[i].id, (long)i};
	if (idmap_hsort(v, m->nids, sizeof *v)) {
		free(v);
		return NULL;
	}
	return v;
}

/* Index of the entry of id value x in v (sorted), or -1. */
static long find_id(const struct idval *v, size_t n, uint64_t x)
{
	size_t lo = 0, hi = n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (v[mid].v < x)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < n && v[lo].v == x ? v[lo].i : -1;
}

/* ---- reading ---- */

struct reader {
	const char *path;
	long line;
	struct rt_err *e;
};

static int bad(struct reader *r, const char *fmt, const char *what)
{
	char msg[256];
	snprintf(msg, sizeof msg, fmt, what);
	err_set(r->e, ERR_DATA, "%s:%ld: %s", r->path, r->line, msg);
	return -1;
}

static int hexdigit(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* "p-" and 16 lowercase hex digits, exactly. */
static int parse_id(const char *s, size_t n, uint64_t *out)
{
	uint64_t v = 0;
	if (n != 18 || s[0] != 'p' || s[1] != '-')
		return -1;
	for (size_t i = 2; i < 18; i++) {
		int h = hexdigit(s[i]);
		if (h < 0)
			return -1;
		v = v << 4 | (unsigned)h;
	}
	*out = v;
	return 0;
}

static int parse_night(const char *s, size_t n, int max, int *out)
{
	long v = 0;
	if (!n || n > 9 || *s == '0')
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	if (v < 1 || v > max)
		return -1;
	*out = (int)v;
	return 0;
}

/* Splits line (NUL-terminated, no '\n') at single spaces into at most max
 * fields. The number of fields, or -1 when there are more. */
static int fields(char *line, char **f, size_t *len, int max)
{
	int n = 0;
	for (char *p = line;; p++) {
		char *sp = strchr(p, ' ');
		if (n == max)
			return -1;
		f[n] = p;
		len[n] = sp ? (size_t)(sp - p) : strlen(p);
		n++;
		if (!sp)
			return n;
		p = sp;
	}
}

/* Decodes an escaped value (\xHH for a byte) from s[0..n) to w, which may
 * be s or before it. The bytes written, or -1. */
static long decode(struct reader *r, const char *s, size_t n, char *w, int source)
{
	char *start = w;
	if (!n)
		return bad(r, "an empty value%s", "");
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '\\') {
			int h1 = i + 3 <= n && s[i + 1] == 'x' ? hexdigit(s[i + 2]) : -1;
			int h2 = h1 >= 0 ? hexdigit(s[i + 3]) : -1;
			if (h2 < 0)
				return bad(r, "a bad escape (expected \\xHH, lowercase hex)%s", "");
			c = (unsigned char)(h1 << 4 | h2);
			i += 3;
			if (!c || (source && c == 0x1f))
				return bad(r, "a value holding byte 0x%s", c ? "1f" : "00");
		} else if (c <= ' ' || c == 0x7f) {
			return bad(r, "a raw control character or space in a value%s", "");
		}
		*w++ = (char)c;
	}
	return (long)(w - start);
}

static int add_id(struct idmap *m, struct reader *r, char **f, size_t *len, int nf, int alias)
{
	struct mid x = {0, 0, 0, -1, -1, r->line};
	if (nf != (alias ? 4 : 3))
		return bad(r, alias ? "an alias line is \"= ID NIGHT ID\"%s" : "an id line is \"+ ID NIGHT\"%s", "");
	f[1][len[1]] = 0;
	if (parse_id(f[1], len[1], &x.id))
		return bad(r, "'%s' is not an id (p- and 16 lowercase hexadecimal digits)", f[1]);
	f[2][len[2]] = 0;
	if (parse_night(f[2], len[2], m->night, &x.night))
		return bad(r, "'%s' is not a night of this map (1 to the map's night)", f[2]);
	if (alias && parse_id(f[3], len[3], &x.target))
		return bad(r, "'%s' is not an id (p- and 16 lowercase hexadecimal digits)", f[3]);
	x.alias = alias ? -2 : -1; /* -2: the target is looked up once all are read */
	if (VEC_RESERVE(m->ids, m->capids, m->nids + 1, 1024)) {
		err_set(r->e, ERR_IO, "%s: out of memory", r->path);
		return -1;
	}
	m->ids[m->nids++] = x;
	return 0;
}

static int add_key(struct idmap *m, struct reader *r, char **f, size_t *len, int nf, int last)
{
	char tag = f[0][0];
	int source = tag == 's';
	if (last < 0)
		return bad(r, "a key before any id line%s", "");
	if (m->ids[last].alias != -1)
		return bad(r, "a key after an alias line (an alias has no keys of its own)%s", "");
	if (nf != (source ? 3 : 2))
		return bad(r, source ? "a source key is \"s SOURCE SOURCE_ID\"%s" : "a key is \"TAG VALUE\"%s", "");
	/* decoded in place, the tag first: "s" SOURCE 0x1f SOURCE_ID */
	char *w = f[0] + 1;
	long n = decode(r, f[1], len[1], w, source);
	if (n < 0)
		return -1;
	w += n;
	if (source) {
		*w++ = '\x1f';
		if ((n = decode(r, f[2], len[2], w, 1)) < 0)
			return -1;
		w += n;
	}
	*w = 0;
	if (VEC_RESERVE(m->keys, m->capkeys, m->nkeys + 1, 4096)) {
		err_set(r->e, ERR_IO, "%s: out of memory", r->path);
		return -1;
	}
	m->keys[m->nkeys++] = (struct mkey){idmap_key_hash(f[0]), f[0], last, r->line};
	return 0;
}

/* Aliases point at a live id, flattened; a missing target or a cycle is
 * an error naming the alias's line. */
static int resolve_aliases(struct idmap *m, struct reader *r, const struct idval *v)
{
	for (size_t i = 0; i < m->nids; i++) {
		struct mid *x = &m->ids[i];
		if (x->alias != -2)
			continue;
		x->alias = find_id(v, m->nids, x->target);
		if (x->alias < 0) {
			char id[19];
			idmap_format(x->target, id);
			r->line = x->line;
			return bad(r, "an alias of %s, an id the map does not hold", id);
		}
	}
	for (size_t i = 0; i < m->nids; i++) {
		long y = (long)i;
		size_t steps = 0;
		while (m->ids[y].alias >= 0 && steps++ <= m->nids)
			y = m->ids[y].alias;
		if (steps > m->nids) {
			r->line = m->ids[i].line;
			return bad(r, "aliases that form a cycle%s", "");
		}
		if ((size_t)y != i)
			m->ids[i].alias = y;
	}
	return 0;
}

/* No id twice, no key twice. */
static int check_unique(struct idmap *m, struct reader *r, const struct idval *v)
{
	char what[160];
	for (size_t i = 1; i < m->nids; i++)
		if (v[i].v == v[i - 1].v) {
			long a = m->ids[v[i - 1].i].line, b = m->ids[v[i].i].line;
			char id[19];
			idmap_format(v[i].v, id);
			snprintf(what, sizeof what, "id %s is listed twice (lines %ld and %ld)", id,
				 a < b ? a : b, a < b ? b : a);
			r->line = a < b ? b : a;
			return bad(r, "%s", what);
		}
	if (idmap_hsort(m->keys, m->nkeys, sizeof *m->keys)) {
		err_set(r->e, ERR_IO, "%s: out of memory", r->path);
		return -1;
	}
	for (size_t i = 1; i < m->nkeys; i++)
		for (size_t j = i; j-- > 0 && m->keys[j].hash == m->keys[i].hash;)
			if (!strcmp(m->keys[j].key, m->keys[i].key)) {
				long a = m->keys[j].line, b = m->keys[i].line;
				int n = snprintf(what, sizeof what, "key '%c %.60s", m->keys[i].key[0],
						 m->keys[i].key + 1);
				for (char *p = what; *p; p++)
					if (*p == '\x1f')
						*p = ' ';
				snprintf(what + n, sizeof what - (size_t)n, "' is listed twice (lines %ld and %ld)",
					 a < b ? a : b, a < b ? b : a);
				r->line = a < b ? b : a;
				return bad(r, "%s", what);
			}
	return 0;
}

static int parse(struct idmap *m, struct reader *r, char *text, size_t size)
{
	char *f[5];
	size_t len[5];
	long last = -1;
	int ended = 0;
	for (char *p = text; p < text + size;) {
		char *nl = memchr(p, '\n', (size_t)(text + size - p));
		char *line = p;
		if (nl)
			*nl = 0;
		p = nl ? nl + 1 : text + size;
		r->line++;
		if (memchr(line, 0, (size_t)(p - line) - (nl ? 1 : 0)))
			return bad(r, "a NUL byte%s", "");
		if (ended)
			return bad(r, "a line after \"end\"%s", "");
		if (r->line == 1) {
			if (!strcmp(line, MAGIC " 1"))
				continue;
			if (!strncmp(line, MAGIC " ", sizeof MAGIC))
				return bad(r, "id map version %.20s is not supported (this dedupe reads "
					   "version 1)", line + sizeof MAGIC);
			return bad(r, "not an id map: the first line is not \"" MAGIC " 1\"%s", "");
		}
		int nf = fields(line, f, len, 4);
		if (r->line == 2) {
			if (nf != 2 || strncmp(f[0], "night", len[0]) || len[0] != 5 ||
			    parse_night(f[1], len[1], INT_MAX - 1, &m->night))
				return bad(r, "the second line is not \"night N\" (N from 1)%s", "");
			continue;
		}
		if (nf < 0)
			return bad(r, "a line of too many fields%s", "");
		if (len[0] != 1 && strcmp(line, "end"))
			return bad(r, "an unknown line (expected +, =, s, e, i, m or end)%s", "");
		switch (len[0] == 1 ? f[0][0] : 'z') {
		case '+':
		case '=':
			if (add_id(m, r, f, len, nf, f[0][0] == '='))
				return -1;
			last = (long)m->nids - 1;
			break;
		case 's':
		case 'e':
		case 'i':
		case 'm':
			if (add_key(m, r, f, len, nf, (int)last))
				return -1;
			break;
		case 'z':
			ended = 1;
			break;
		default:
			return bad(r, "an unknown line (expected +, =, s, e, i, m or end)%s", "");
		}
	}
	if (!r->line) {
		r->line = 1;
		return bad(r, "an empty file, not an id map%s", "");
	}
	if (r->line < 2 || !ended)
		return bad(r, r->line < 2 ? "the map ends before its night line%s"
					  : "the map ends without its last line \"end\": cut short?%s", "");
	struct idval *v = by_value(m);
	if (!v) {
		err_set(r->e, ERR_IO, "%s: out of memory", r->path);
		return -1;
	}
	int rc = check_unique(m, r, v) || resolve_aliases(m, r, v) ? -1 : 0;
	free(v);
	return rc;
}

int idmap_load(struct idmap *m, const char *path, struct rt_err *e)
{
	struct reader r = {path, 0, e};
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT)
		return 0; /* the first night */
	if (fd < 0 || fstat(fd, &st) || !S_ISREG(st.st_mode)) {
		err_set(e, ERR_IO, "%s: cannot read the id map: %s", path,
			fd >= 0 && !S_ISREG(st.st_mode) ? "not a regular file" : strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	size_t size = (size_t)st.st_size, got = 0;
	if (!(m->text = malloc(size + 1))) {
		close(fd);
		err_set(e, ERR_IO, "%s: out of memory reading the id map (%zu bytes)", path, size);
		return -1;
	}
	while (got < size) {
		ssize_t n = read(fd, m->text + got, size - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			err_set(e, ERR_IO, "%s: cannot read the id map: %s", path,
				n < 0 ? strerror(errno) : "it shrank while read");
			close(fd);
			return -1;
		}
		got += (size_t)n;
	}
	close(fd);
	m->text[size] = 0;
	return parse(m, &r, m->text, size);
}

/* ---- tonight's ids ---- */

/* Whether person a wins an id over b (-1: nobody yet): more records, then
 * the smaller key. */
static int better(const struct idmap_person *ps, long a, long b)
{
	if (b < 0)
		return 1;
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
	struct idval *old = by_value(m);
	uint64_t *variants = NULL;
	size_t nc = 0, nold = m->nids, nvar = 0, capvar = 0;
	int rc = -1;
	if (!c || !old)
		goto out;
	for (size_t p = 0; p < np; p++)
		if (pid[p] < 0)
			c[nc++] = (struct cand){idmap_hash_id(ps[p].minkey, 0), (long)p};
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
			v = idmap_hash_id(ps[p].minkey, n);
			taken = find_id(old, nold, v) >= 0 || in_cands(c, nc, v) || has(variants, nvar, v);
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
	struct idval *v = by_value(m);
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
	struct mkey *nk = malloc((nkeys + m->nkeys + 1) * sizeof *nk);
	struct idval *byage = NULL;
	size_t ncl = 0, n = 0;
	int rc = -1;
	if (!pid || !claimed || !matched || !cl || !rank || !nk || np > UINT32_MAX ||
	    !(byage = by_age(m, rank)))
		goto out;
	for (size_t p = 0; p < np; p++)
		pid[p] = -1;
	/* both sorted by hash: one pass pairs tonight's keys with the map's */
	for (size_t i = 0, j = 0; i < nkeys; i++) {
		while (j < m->nkeys && m->keys[j].hash < keys[i].hash)
			j++;
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
	/* tonight's keys go to their person's id; the others stay, but a
	 * present person's matching keys are what it has tonight */
	for (size_t i = 0; i < nkeys; i++)
		nk[n++] = (struct mkey){keys[i].hash, keys[i].key, pid[keys[i].person], 0};
	for (size_t x = 0; x < m->nkeys; x++) {
		long id = live(m, m->keys[x].id);
		if (matched[x] || (m->keys[x].key[0] != 's' && m->ids[id].person >= 0))
			continue;
		nk[n++] = (struct mkey){m->keys[x].hash, m->keys[x].key, id, m->keys[x].line};
	}
	free(m->keys);
	m->keys = nk;
	m->nkeys = m->capkeys = n;
	nk = NULL;
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
	free(nk);
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

static int by_key_str(const void *pa, const void *pb, void *arg)
{
	const struct mkey *k = arg;
	return strcmp(k[*(const long *)pa].key, k[*(const long *)pb].key);
}

/* The keys' indices grouped by their id in value order (v), each group
 * sorted; start[r] is where the group of v[r] begins. */
static long *group_keys(const struct idmap *m, const struct idval *v, size_t *start)
{
	long *order = malloc((m->nkeys ? m->nkeys : 1) * sizeof *order);
	size_t *pos = malloc((m->nids ? m->nids : 1) * sizeof *pos);
	if (!order || !pos) {
		free(order);
		free(pos);
		return NULL;
	}
	for (size_t r = 0; r < m->nids; r++)
		pos[v[r].i] = r;
	memset(start, 0, (m->nids + 1) * sizeof *start);
	for (size_t x = 0; x < m->nkeys; x++)
		start[pos[m->keys[x].id] + 1]++;
	for (size_t r = 0; r < m->nids; r++)
		start[r + 1] += start[r];
	for (size_t x = 0; x < m->nkeys; x++)
		order[start[pos[m->keys[x].id]]++] = (long)x;
	for (size_t r = m->nids; r > 0; r--) /* back to where each group begins */
		start[r] = start[r - 1];
	start[0] = 0;
	for (size_t r = 0; r < m->nids; r++)
		if (start[r + 1] - start[r] > 1)
			qsort_r(order + start[r], start[r + 1] - start[r], sizeof *order, by_key_str,
				m->keys);
	free(pos);
	return order;
}

int idmap_save(const struct idmap *m, const char *path, struct rt_err *e)
{
	struct idval *v = by_value(m);
	size_t *start = malloc((m->nids + 1) * sizeof *start);
	long *order = v && start ? group_keys(m, v, start) : NULL;
	struct atomic_file a;
	struct buf b;
	int rc = -1, open = 0;
	char id[19], to[19];

	buf_init(&b, 0);
	if (!order) {
		err_set(e, ERR_IO, "%s: out of memory writing the id map", path);
		goto out;
	}
	if (atomic_open(&a, path, 0644, e))
		goto out;
	open = 1;
	int bad = buf_printf(&b, MAGIC " %d\nnight %d\n", VERSION, m->night);
	for (size_t r = 0; !bad && r < m->nids; r++) {
		const struct mid *x = &m->ids[v[r].i];
		idmap_format(x->id, id);
		if (x->alias >= 0) {
			idmap_format(m->ids[x->alias].id, to);
			bad |= buf_printf(&b, "= %s %d %s\n", id, x->night, to);
		} else {
			bad |= buf_printf(&b, "+ %s %d\n", id, x->night);
		}
		for (size_t k = start[r]; k < start[r + 1]; k++)
			bad |= put_key(&b, m->keys[order[k]].key);
		if (!bad && b.len >= WRITE_AT) {
			if (atomic_write(&a, b.data, b.len, e))
				goto out;
			buf_reset(&b);
		}
	}
	if (bad || buf_adds(&b, "end\n")) {
		err_set(e, ERR_IO, "%s: out of memory writing the id map", path);
		goto out;
	}
	if (atomic_write(&a, b.data, b.len, e))
		goto out;
	open = 0;
	rc = atomic_commit(&a, e);
out:
	if (open)
		atomic_abort(&a);
	buf_free(&b);
	free(v);
	free(start);
	free(order);
	return rc;
}
