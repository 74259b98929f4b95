#include "engine/idmap_int.h"
#include "core/atomic.h"
#include "core/buf.h"
#include "core/strset.h"
#include "core/vec.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct idmap *idmap_new(void)
{
	struct idmap *m = calloc(1, sizeof *m);
	if (m)
		idmap_hasher_init(&m->hash);
	return m;
}

void idmap_free(struct idmap *m)
{
	if (!m)
		return;
	if (m->job.running) /* a job still running uses the map */
		pthread_join(m->job.thread, NULL);
	if (m->job.open)
		atomic_abort(&m->job.file);
	idmap_hasher_free(&m->hash);
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

void idmap_hasher_init(struct idmap_hasher *h)
{
	h->md = EVP_MD_fetch(NULL, "SHA256", NULL);
	h->ctx = h->md ? EVP_MD_CTX_new() : NULL;
}

void idmap_hasher_free(struct idmap_hasher *h)
{
	EVP_MD_CTX_free(h->ctx);
	EVP_MD_free(h->md);
	h->ctx = NULL;
	h->md = NULL;
}

uint64_t idmap_hash_id(struct idmap_hasher *h, const char *minkey, unsigned variant)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	char tail[16];
	unsigned len = 0;
	size_t n = variant ? (size_t)snprintf(tail, sizeof tail, "\x1f%u", variant) : 0;
	EVP_MD_CTX *own = h->ctx ? NULL : EVP_MD_CTX_new();
	EVP_MD_CTX *c = h->ctx ? h->ctx : own;
	if (!c || !EVP_DigestInit_ex(c, h->md ? h->md : EVP_sha256(), NULL) ||
	    !EVP_DigestUpdate(c, minkey, strlen(minkey)) || (n && !EVP_DigestUpdate(c, tail, n)) ||
	    !EVP_DigestFinal_ex(c, md, &len))
		memset(md, 0, sizeof md); /* a failed digest still gives a well-formed id */
	EVP_MD_CTX_free(own);
	uint64_t v = 0;
	for (int i = 0; i < 8; i++)
		v = v << 8 | md[i];
	return v;
}

void idmap_format(uint64_t id, char out[19])
{
	static const char hex[] = "0123456789abcdef";
	out[0] = 'p';
	out[1] = '-';
	for (int i = 0; i < 16; i++)
		out[2 + i] = hex[(id >> (60 - 4 * i)) & 15];
	out[18] = 0;
}

#define RADIX_BITS 11
#define RADIX (1 << RADIX_BITS)

/* memcpy of a run-time size is a call for each entry; entries are made
 * of 8-byte words, copied inline */
static inline void move(char *to, const char *from, size_t esize)
{
	if (esize % 8) {
		memcpy(to, from, esize);
		return;
	}
	for (size_t i = 0; i < esize; i += 8)
		memcpy(to + i, from + i, 8);
}

static inline uint64_t key_at(const char *a, size_t i, size_t esize)
{
	uint64_t h;
	memcpy(&h, a + i * esize, sizeof h);
	return h;
}

/* LSD radix passes over bits [0, bits) of n entries, from a to tmp and
 * back; the result ends in a. count has RADIX entries. */
static void lsd(char *a, char *tmp, size_t n, size_t esize, int bits, size_t *count)
{
	char *from = a, *to = tmp;
	for (int shift = 0; shift < bits; shift += RADIX_BITS) {
		memset(count, 0, RADIX * sizeof *count);
		for (size_t i = 0; i < n; i++)
			count[(key_at(from, i, esize) >> shift) & (RADIX - 1)]++;
		if (count[(key_at(from, 0, esize) >> shift) & (RADIX - 1)] == n)
			continue; /* one digit for all: this pass would change nothing */
		for (size_t i = 0, sum = 0; i < RADIX; i++) {
			size_t c = count[i];
			count[i] = sum;
			sum += c;
		}
		for (size_t i = 0; i < n; i++)
			move(to + count[(key_at(from, i, esize) >> shift) & (RADIX - 1)]++ * esize,
			     from + i * esize, esize);
		char *t = from;
		from = to;
		to = t;
	}
	if (from != a)
		memcpy(a, from, n * esize);
}

/* Insertion sort, stable, for the few entries of one bucket. */
static void few(char *a, size_t n, size_t esize, char *hold)
{
	for (size_t i = 1; i < n; i++) {
		uint64_t h = key_at(a, i, esize);
		size_t j = i;
		if (key_at(a, j - 1, esize) <= h)
			continue;
		memcpy(hold, a + i * esize, esize);
		for (; j > 0 && key_at(a, j - 1, esize) > h; j--)
			move(a + j * esize, a + (j - 1) * esize, esize);
		memcpy(a + j * esize, hold, esize);
	}
}

/* One pass on the top bits spreads the entries into buckets small enough
 * to sort in the cache; then each bucket on the other bits. */
int idmap_hsort(void *v, size_t n, size_t esize)
{
	char *a = v;
	size_t i = 1;
	while (i < n && key_at(a, i - 1, esize) <= key_at(a, i, esize))
		i++;
	if (i >= n)
		return 0; /* sorted already (a map is written in id order) */
	char *tmp = malloc(n * esize), *hold = malloc(esize);
	size_t *count = malloc(RADIX * sizeof *count), *start = malloc((RADIX + 1) * sizeof *start);
	if (!tmp || !hold || !count || !start) {
		free(tmp);
		free(hold);
		free(count);
		free(start);
		return -1;
	}
	const int top = 64 - RADIX_BITS;
	memset(count, 0, RADIX * sizeof *count);
	for (i = 0; i < n; i++)
		count[key_at(a, i, esize) >> top]++;
	start[0] = 0;
	for (size_t b = 0; b < RADIX; b++)
		start[b + 1] = start[b] + count[b];
	memcpy(count, start, RADIX * sizeof *count);
	for (i = 0; i < n; i++)
		move(tmp + count[key_at(a, i, esize) >> top]++ * esize, a + i * esize, esize);
	for (size_t b = 0; b < RADIX; b++) {
		size_t s = start[b + 1] - start[b];
		char *src = tmp + start[b] * esize, *dst = a + start[b] * esize;
		memcpy(dst, src, s * esize);
		if (s > 32)
			lsd(dst, src, s, esize, top, count);
		else if (s > 1)
			few(dst, s, esize, hold);
	}
	free(tmp);
	free(hold);
	free(count);
	free(start);
	return 0;
}

struct idval *idmap_by_value(const struct idmap *m)
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

long idmap_find_id(const struct idval *v, size_t n, uint64_t x)
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
	if (m->nids >= INT32_MAX || r->line >= INT32_MAX)
		return bad(r, "a map of over 2^31 ids or lines%s", "");
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
	m->keys[m->nkeys++] = (struct mkey){idmap_key_hash(f[0]), f[0], (int32_t)last, (int32_t)r->line};
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
		x->alias = idmap_find_id(v, m->nids, x->target);
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
	struct idval *v = idmap_by_value(m);
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

/* ---- in a thread of their own ---- */

static void *load_job(void *arg)
{
	struct idmap *m = arg;
	m->job.rc = idmap_load(m, m->job.path, &m->job.e);
	return NULL;
}

int idmap_load_start(struct idmap *m, const char *path)
{
	err_clear(&m->job.e);
	m->job.path = path;
	if (!pthread_create(&m->job.thread, NULL, load_job, m))
		m->job.running = 1;
	else
		load_job(m); /* no thread: loaded now */
	return 0;
}

int idmap_load_wait(struct idmap *m, struct rt_err *e)
{
	if (m->job.running)
		pthread_join(m->job.thread, NULL);
	m->job.running = 0;
	if (m->job.rc)
		*e = m->job.e;
	return m->job.rc;
}

static void *save_job(void *arg)
{
	struct idmap *m = arg;
	m->job.rc = idmap_write(m, &m->job.file, m->job.path, &m->job.e);
	return NULL;
}

int idmap_save_start(struct idmap *m, const char *path, struct rt_err *e)
{
	err_clear(&m->job.e);
	m->job.path = path;
	m->job.rc = 0;
	if (atomic_open(&m->job.file, path, 0644, e))
		return -1;
	m->job.open = 1;
	if (!pthread_create(&m->job.thread, NULL, save_job, m))
		m->job.running = 1;
	else
		save_job(m); /* no thread: written now */
	return 0;
}

int idmap_save_end(struct idmap *m, int commit, struct rt_err *e)
{
	if (m->job.running)
		pthread_join(m->job.thread, NULL);
	m->job.running = 0;
	if (!m->job.open)
		return -1;
	m->job.open = 0;
	if (m->job.rc || !commit) {
		atomic_abort(&m->job.file);
		if (m->job.rc)
			*e = m->job.e;
		return m->job.rc ? -1 : 0;
	}
	return atomic_commit(&m->job.file, e);
}
