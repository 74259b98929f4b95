/* The load-csv stage: reads canonical Singer streams (normalize or dedupe output)
 * and publishes DIR/<stream>.csv for every stream that arrived complete,
 * plus DIR/manifest.json saying what happened to each stream. */
#include "engine/load.h"
#include "core/atomic.h"
#include "core/clock.h"
#include "core/exitcode.h"
#include "core/lines.h"
#include "core/log.h"
#include "core/vec.h"
#include "format/canon.h"
#include "format/csvw.h"
#include "format/jsonw.h"
#include "engine/prog.h"

#include <cjson/cJSON.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_COLS 64
#define CHUNK (64 * 1024)

/* One stream of the input, then its outcome. A row is one allocation:
 * ncols cell pointers followed by the cells' text; free(row) frees all. */
struct stream {
	const struct canon_stream *cs; /* NULL: not a canonical stream */
	const char *name;              /* cs->name, or owned when cs is NULL */
	int ncols, nsort, sort[MAX_COLS];
	int schemas, activates;
	long records, first_line;
	char ***rows;
	size_t nrows, cap;
	const char *status; /* published, kept_previous or failed */
	char reason[600], written_at[40], sha256[65];
};

struct load {
	struct stream *s; /* canon_streams' order first, then others as seen */
	int n;
	size_t cap;
	struct buf scratch;
};

static int load_init(struct load *L)
{
	buf_init(&L->scratch, 0);
	L->n = 0;
	L->cap = 0;
	if (!(L->s = calloc((size_t)canon_nstreams, sizeof *L->s)))
		return -1;
	L->n = canon_nstreams;
	L->cap = (size_t)canon_nstreams;
	for (int i = 0; i < L->n; i++) {
		struct stream *s = &L->s[i];
		s->cs = &canon_streams[i];
		s->name = s->cs->name;
		while (s->cs->fields[s->ncols].name)
			s->ncols++;
		for (int k = 0; s->cs->sort[k]; k++)
			s->sort[s->nsort++] = canon_field_index(s->cs, s->cs->sort[k]);
	}
	return 0;
}

static void load_free(struct load *L)
{
	for (int i = 0; i < L->n; i++) {
		for (size_t r = 0; r < L->s[i].nrows; r++)
			free(L->s[i].rows[r]);
		free(L->s[i].rows);
		if (!L->s[i].cs)
			free((char *)L->s[i].name);
	}
	free(L->s);
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

static int present(const struct stream *s)
{
	return s->cs ? s->schemas || s->activates || s->records : s->records > 0;
}

/* A JSON value as cell text: arrays joined with ';' (org_ids, grades),
 * an object as field=value pairs (field_sources), and an object inside an
 * array as its values joined with ':' (sources: "clever:123;sis:9").
 * Inside such cells a '\\', ';', ':' or '=' of a value gets a backslash. */
static int render(struct buf *b, const cJSON *v, int depth)
{
	int rc = 0, first = 1;
	if (!v || cJSON_IsNull(v))
		return 0;
	if (cJSON_IsString(v) && !depth)
		return buf_adds(b, v->valuestring);
	if (cJSON_IsString(v)) {
		/* inside a list cell the separators are escaped with a backslash,
		 * so "s1;s2" stays one element when the cell is split again */
		for (const char *p = v->valuestring; *p && !rc; p++) {
			if (strchr("\\;:=", *p))
				rc |= buf_addc(b, '\\');
			rc |= buf_addc(b, *p);
		}
		return rc;
	}
	if (!cJSON_IsArray(v) && !cJSON_IsObject(v)) { /* number, boolean */
		char *t = cJSON_PrintUnformatted(v);
		rc = t ? buf_adds(b, t) : -1;
		free(t);
		return rc;
	}
	for (const cJSON *c = v->child; c; c = c->next, first = 0) {
		if (!first)
			rc |= buf_adds(b, depth ? ":" : ";");
		if (cJSON_IsObject(v) && !depth)
			rc |= buf_printf(b, "%s=", c->string);
		rc |= render(b, c, depth + 1);
	}
	return rc;
}

static char **row_from_record(struct stream *s, const cJSON *rec, struct buf *scratch)
{
	size_t off[MAX_COLS];
	int rc = 0;
	buf_reset(scratch);
	for (int i = 0; i < s->ncols; i++) {
		off[i] = scratch->len;
		rc |= render(scratch, cJSON_GetObjectItemCaseSensitive(rec, s->cs->fields[i].name), 0);
		rc |= buf_add(scratch, "", 1);
	}
	size_t head = (size_t)s->ncols * sizeof(char *);
	char **row = rc ? NULL : malloc(head + scratch->len);
	if (!row)
		return NULL;
	memcpy((char *)row + head, scratch->data, scratch->len);
	for (int i = 0; i < s->ncols; i++)
		row[i] = (char *)row + head + off[i];
	return row;
}

static int add_record(struct load *L, struct stream *s, const cJSON *rec)
{
	if (VEC_RESERVE(s->rows, s->cap, s->nrows + 1, 256))
		return -1;
	char **row = row_from_record(s, rec, &L->scratch);
	if (!row)
		return -1;
	s->rows[s->nrows++] = row;
	return 0;
}

/* One Singer message. -1 means the input is unusable (already reported). */
static int on_message(struct load *L, const cJSON *msg, const char *file, long line)
{
	static int warned_type;
	const char *type = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(msg, "type"));
	const char *name = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(msg, "stream"));
	if (!type) {
		log_msg(LOG_ERROR, "%s:%ld: not a Singer message (no \"type\")", file, line);
		return -1;
	}
	if (!strcmp(type, "STATE"))
		return 0;
	if (strcmp(type, "SCHEMA") && strcmp(type, "RECORD") && strcmp(type, "ACTIVATE_VERSION")) {
		if (!warned_type++)
			log_warn("%s:%ld: message type '%s' ignored", file, line, type);
		return 0;
	}
	if (!name) {
		log_msg(LOG_ERROR, "%s:%ld: %s without a \"stream\"", file, line, type);
		return -1;
	}
	struct stream *s = stream_get(L, name);
	if (!s)
		goto nomem;
	if (!strcmp(type, "SCHEMA")) {
		s->schemas++;
		return 0;
	}
	if (!strcmp(type, "ACTIVATE_VERSION")) {
		s->activates++;
		return 0;
	}
	if (!s->records++)
		s->first_line = line;
	if (!s->cs) { /* reported once here, and in the manifest and exit code */
		if (s->records == 1)
			log_msg(LOG_ERROR, "%s:%ld: RECORD of stream '%s', which is not a canonical "
				"stream (run normalize first?); its records are not loaded",
				file, line, name);
		return 0;
	}
	const cJSON *rec = cJSON_GetObjectItemCaseSensitive(msg, "record");
	if (!cJSON_IsObject(rec)) {
		log_msg(LOG_ERROR, "%s:%ld: RECORD of '%s' without a \"record\" object", file, line,
			name);
		return -1;
	}
	if (add_record(L, s, rec))
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
	int rc = 0, got;
	err_clear(&e);
	lines_init(&r, fp, file, 0);
	while (!rc && (got = lines_next(&r, &e)) == 1) {
		if (!r.line.len || strspn(r.line.data, " \t\r") == r.line.len)
			continue; /* blank lines carry nothing */
		const char *end = r.line.data;
		/* length + 1: cJSON wants the NUL inside the length to accept the end */
		cJSON *msg = cJSON_ParseWithLengthOpts(r.line.data, r.line.len + 1, &end, 1);
		if (!cJSON_IsObject(msg)) {
			log_msg(LOG_ERROR, "%s:%ld: %s (column %ld); the input is corrupt, nothing is "
				"published", file, r.lineno, msg ? "not a JSON object" : "not JSON",
				(long)(end - r.line.data) + 1);
			rc = -1;
		} else {
			rc = on_message(L, msg, file, r.lineno);
		}
		cJSON_Delete(msg);
	}
	if (!rc && got < 0) {
		log_err(LOG_ERROR, &e);
		rc = -1;
	}
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

/* Appends the chunk to the file and to the hash, then empties it. */
static int flush(struct atomic_file *a, struct buf *chunk, EVP_MD_CTX *md, struct rt_err *e)
{
	if (md)
		EVP_DigestUpdate(md, chunk->data, chunk->len);
	int rc = atomic_write(a, chunk->data, chunk->len, e);
	buf_reset(chunk);
	return rc;
}

/* Writes the header and the rows in chunks (a big stream is never held
 * twice in memory) and records the file's SHA-256. */
static int write_csv(struct stream *s, const char *path, struct rt_err *e)
{
	const char *names[MAX_COLS];
	struct atomic_file a;
	struct buf chunk;
	unsigned char digest[EVP_MAX_MD_SIZE];
	unsigned dlen = 0;

	if (atomic_open(&a, path, 0644, e))
		return -1;
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	if (md && !EVP_DigestInit_ex(md, EVP_sha256(), NULL)) {
		EVP_MD_CTX_free(md);
		md = NULL; /* the hash is optional in the manifest */
	}
	buf_init(&chunk, 0);
	for (int i = 0; i < s->ncols; i++)
		names[i] = s->cs->fields[i].name;
	int rc = csvw_row(&chunk, names, s->ncols);
	for (size_t r = 0; !rc && r < s->nrows; r++) {
		rc = csvw_row(&chunk, (const char *const *)s->rows[r], s->ncols);
		if (rc)
			err_set(e, ERR_IO, "%s: out of memory", path);
		else if (chunk.len >= CHUNK)
			rc = flush(&a, &chunk, md, e);
	}
	if (!rc)
		rc = flush(&a, &chunk, md, e);
	buf_free(&chunk);
	if (rc)
		atomic_abort(&a);
	else
		rc = atomic_commit(&a, e);
	if (!rc && md && EVP_DigestFinal_ex(md, digest, &dlen))
		for (unsigned i = 0; i < dlen; i++)
			sprintf(s->sha256 + 2 * i, "%02x", digest[i]);
	EVP_MD_CTX_free(md);
	return rc;
}

static void publish(struct stream *s, const char *dir)
{
	struct rt_err e;
	char *path = NULL;
	err_clear(&e);
	s->status = "failed";
	if (!s->cs) {
		snprintf(s->reason, sizeof s->reason,
			 "not a canonical stream: %ld records, the first at line %ld, not loaded",
			 s->records, s->first_line);
		return;
	}
	if (!s->schemas || s->activates < s->schemas) {
		s->status = "kept_previous";
		if (!s->schemas)
			snprintf(s->reason, sizeof s->reason, "no SCHEMA message");
		else
			snprintf(s->reason, sizeof s->reason,
				 "%d SCHEMA but %d ACTIVATE_VERSION: a source feeding the stream "
				 "did not read it completely", s->schemas, s->activates);
		log_warn("%s: incomplete, the previous %s.csv is kept: %s", s->name, s->name,
			 s->reason);
		return;
	}
	if (s->nrows > 1) /* qsort_r on no rows would be handed a NULL array */
		qsort_r(s->rows, s->nrows, sizeof *s->rows, cmp_rows, s);
	if (asprintf(&path, "%s/%s.csv", dir, s->name) < 0) {
		path = NULL;
		err_set(&e, ERR_IO, "%s: out of memory", s->name);
	} else if (!write_csv(s, path, &e)) {
		s->status = "published";
		clk_iso8601(clk_now(), s->written_at, sizeof s->written_at);
		log_info("published %s (%zu row%s)", path, s->nrows, s->nrows == 1 ? "" : "s");
	}
	if (e.kind) {
		snprintf(s->reason, sizeof s->reason, "%s", e.msg);
		log_err(LOG_ERROR, &e);
	}
	free(path);
}

static void json_str_or_null(struct buf *b, const char *key, const char *v)
{
	jsonw_key(b, key, 0);
	if (v && *v)
		jsonw_str(b, v);
	else
		buf_adds(b, "null");
}

static int write_manifest(const struct load *L, const char *dir)
{
	struct buf b;
	struct rt_err e;
	char now[40], *path = NULL;
	int first = 1, rc = -1;
	err_clear(&e);
	buf_init(&b, 0);
	clk_iso8601(clk_now(), now, sizeof now);
	buf_adds(&b, "{\"generated_at\":");
	jsonw_str(&b, now);
	buf_adds(&b, ",\"files\":[");
	for (int i = 0; i < L->n; i++) {
		const struct stream *s = &L->s[i];
		char file[300];
		if (!present(s))
			continue;
		snprintf(file, sizeof file, "%s.csv", s->name);
		buf_adds(&b, first ? "\n" : ",\n");
		first = 0;
		buf_adds(&b, "{\"stream\":");
		jsonw_str(&b, s->name);
		json_str_or_null(&b, "file", s->cs ? file : NULL);
		buf_printf(&b, ",\"rows\":%ld", s->cs ? (long)s->nrows : s->records);
		json_str_or_null(&b, "status", s->status);
		json_str_or_null(&b, "reason", s->reason);
		json_str_or_null(&b, "written_at", s->written_at);
		json_str_or_null(&b, "sha256", s->sha256);
		buf_addc(&b, '}');
	}
	if (buf_adds(&b, "\n]}\n") || asprintf(&path, "%s/manifest.json", dir) < 0) {
		path = NULL;
		err_set(&e, ERR_IO, "%s/manifest.json: out of memory", dir);
	} else {
		rc = atomic_publish(path, b.data, b.len, 0644, &e);
	}
	if (rc)
		log_err(LOG_ERROR, &e);
	free(path);
	buf_free(&b);
	return rc;
}

/* Publishes every complete stream; returns the exit code. started: when
 * this run began (temporary files older than that are an earlier run's). */
static int load_publish(struct load *L, const char *dir, double started)
{
	struct rt_err e;
	int published = 0, others = 0;
	err_clear(&e);
	if (atomic_mkdirs(dir, &e)) {
		log_err(LOG_ERROR, &e);
		return EXIT_FAILED;
	}
	prog_sweep(dir, started);
	for (int i = 0; i < L->n; i++) {
		if (!present(&L->s[i]))
			continue;
		publish(&L->s[i], dir);
		if (!strcmp(L->s[i].status, "published"))
			published++;
		else
			others++;
	}
	if (!published && !others) {
		log_msg(LOG_ERROR, "no canonical stream in the input: nothing to publish");
		return EXIT_FAILED;
	}
	if (write_manifest(L, dir))
		others++;
	if (!published)
		return EXIT_FAILED;
	return others ? EXIT_PARTIAL : EXIT_COMPLETE;
}

int load_csv(FILE *in, const char *input, const char *dir)
{
	struct load L;
	int rc = EXIT_FAILED;
	double started = (double)time(NULL);
	if (load_init(&L))
		log_msg(LOG_ERROR, "out of memory");
	else if (!load_read(&L, in, input))
		rc = load_publish(&L, dir, started);
	load_free(&L);
	return rc;
}
