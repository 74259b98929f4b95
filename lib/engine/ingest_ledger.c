/* The ledger of files taken and the fold of --take all (lib/engine/ingest.h). */
#include "engine/ingest_int.h"
#include "core/atomic.h"
#include "core/buf.h"
#include "core/err.h"
#include "core/htab.h"
#include "core/lines.h"
#include "core/vec.h"
#include "format/jsonw.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LEDGER_LINE_CAP (64 << 10)
#define FOLD_LINE_CAP (16 << 20)

/* ---- ledger ---- */

static void ledger_entry_free(struct ledger_entry *x)
{
	free(x->name);
	x->name = NULL;
}

struct ledger_entry *ledger_find(struct ledger *l, const char *name)
{
	for (size_t i = 0; i < l->n; i++)
		if (!strcmp(l->v[i].name, name))
			return &l->v[i];
	return NULL;
}

int ledger_put(struct ledger *l, const struct ledger_entry *x)
{
	struct ledger_entry *d = ledger_find(l, x->name);
	char *name = strdup(x->name);
	if (!name)
		return -1;
	if (!d) {
		if (VEC_RESERVE(l->v, l->cap, l->n + 1, 16)) {
			free(name);
			return -1;
		}
		d = &l->v[l->n++];
	} else {
		ledger_entry_free(d);
	}
	*d = *x;
	d->name = name;
	return 0;
}

void ledger_free(struct ledger *l)
{
	for (size_t i = 0; i < l->n; i++)
		ledger_entry_free(&l->v[i]);
	free(l->v);
	memset(l, 0, sizeof *l);
}

static const char *jstring(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static int jnumber(const cJSON *o, const char *k, double *out)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
	if (!cJSON_IsNumber(v))
		return -1;
	*out = v->valuedouble;
	return 0;
}

int ledger_load(struct ledger *l, const char *path, struct rt_err *e)
{
	memset(l, 0, sizeof *l);
	FILE *fp = fopen(path, "r");
	if (!fp) {
		if (errno == ENOENT)
			return 0; /* the first run */
		err_set(e, ERR_IO, "%s: %s", path, strerror(errno));
		return -1;
	}
	struct lines r;
	int rc = 0, got;
	lines_init(&r, fp, path, LEDGER_LINE_CAP);
	while ((got = lines_next(&r, e)) == 1) {
		if (!r.line.len)
			continue;
		cJSON *j = cJSON_ParseWithLength(r.line.data, r.line.len);
		struct ledger_entry x = {0};
		double size = 0, mtime = 0, records = 0;
		const char *name = jstring(j, "name"), *sha = jstring(j, "sha256");
		const char *at = jstring(j, "ingested_at");
		if (!name || jnumber(j, "size", &size) || jnumber(j, "mtime", &mtime) ||
		    (sha && strlen(sha) != 64)) {
			err_set(e, ERR_DATA, "%s:%ld: not a ledger entry (name, size, mtime, sha256)",
				path, r.lineno);
			err_hint(e, "the ledger was edited by hand; fix the line or remove the file "
				    "(every file in the drop is then taken again)");
			cJSON_Delete(j);
			rc = -1;
			break;
		}
		jnumber(j, "records", &records);
		x.name = (char *)name;
		x.size = (unsigned long long)size;
		x.mtime = (long long)mtime;
		x.records = (long)records;
		snprintf(x.sha256, sizeof x.sha256, "%s", sha ? sha : "");
		snprintf(x.ingested_at, sizeof x.ingested_at, "%s", at ? at : "");
		if (ledger_put(l, &x)) {
			err_set(e, ERR_IO, "%s: out of memory", path);
			cJSON_Delete(j);
			rc = -1;
			break;
		}
		cJSON_Delete(j);
	}
	if (got < 0)
		rc = -1;
	lines_free(&r);
	fclose(fp);
	if (rc)
		ledger_free(l);
	return rc;
}

int ledger_save(const struct ledger *l, const char *path, struct rt_err *e)
{
	struct buf b;
	buf_init(&b, (size_t)1 << 30);
	int bad = 0;
	for (size_t i = 0; i < l->n; i++) {
		const struct ledger_entry *x = &l->v[i];
		bad |= buf_adds(&b, "{\"name\":") || jsonw_str(&b, x->name) ||
		       buf_printf(&b, ",\"size\":%llu,\"mtime\":%lld,\"sha256\":\"%s\",", x->size,
				  x->mtime, x->sha256) ||
		       buf_adds(&b, "\"ingested_at\":") || jsonw_str(&b, x->ingested_at) ||
		       buf_printf(&b, ",\"records\":%ld}\n", x->records);
	}
	int rc = -1;
	if (bad)
		err_set(e, ERR_IO, "%s: out of memory", path);
	else
		rc = atomic_publish(path, b.data ? b.data : "", b.len, 0644, e);
	buf_free(&b);
	return rc;
}

/* ---- fold ---- */


int fold_apply(struct fold *f, const char *key, size_t keylen, int cancel, const char *json,
	       size_t len)
{
	size_t klen = key ? strnlen(key, keylen) : 0; /* a key ends at a NUL */
	struct htab_pos at;
	size_t i = 0;
	if (key) {
		if (HTAB_RESERVE(&f->index, f->v, f->n))
			return -1;
		i = HTAB_LOOKUP(&f->index, f->v, key, klen, &at);
	}
	if (i) { /* a key we hold (or held): replace or remove in place */
		struct fold_item *it = &f->v[i - 1];
		if (it->json)
			f->removed++;
		free(it->json);
		it->json = NULL;
		if (cancel)
			return 0;
		if (!(it->json = strndup(json, len)))
			return -1;
		f->removed--;
		return 0;
	}
	if (cancel) /* nothing to remove */
		return 0;
	if (VEC_RESERVE(f->v, f->cap, f->n + 1, 64))
		return -1;
	char *k = NULL, *j = strndup(json, len);
	if (!j || (key && !(k = strndup(key, klen)))) {
		free(j);
		return -1;
	}
	f->v[f->n] = (struct fold_item){{k, klen}, j};
	if (key)
		htab_set(&f->index, &at, f->n);
	f->n++;
	return 0;
}

size_t fold_count(const struct fold *f)
{
	return f->n - f->removed;
}

void fold_free(struct fold *f)
{
	for (size_t i = 0; i < f->n; i++) {
		free(f->v[i].k.key);
		free(f->v[i].json);
	}
	free(f->v);
	htab_free(&f->index);
	memset(f, 0, sizeof *f);
}

/* The record's text in a line as fold_save writes it,
 * {"key":"..."|null,"record":{...}}: reloaded as it was, since a reprint
 * would rewrite numbers ("Days":1.0 as 1, FTE 1.000 as 1). 0, or -1 when
 * the line is laid out otherwise (the caller reprints the parsed record). */
static int fold_record_text(const char *line, size_t len, const char **rec, size_t *rlen)
{
	static const char head[] = "{\"key\":", mid[] = ",\"record\":";
	size_t i = sizeof head - 1;
	if (len < i || memcmp(line, head, i))
		return -1;
	if (len - i >= 4 && !memcmp(line + i, "null", 4)) {
		i += 4;
	} else if (i < len && line[i] == '"') {
		for (i++; i < len && line[i] != '"'; i++)
			if (line[i] == '\\')
				i++;
		if (i >= len)
			return -1;
		i++;
	} else {
		return -1;
	}
	if (len - i < sizeof mid - 1 || memcmp(line + i, mid, sizeof mid - 1))
		return -1;
	i += sizeof mid - 1;
	size_t end = len;
	while (end > i && (line[end - 1] == ' ' || line[end - 1] == '\r'))
		end--;
	if (end <= i + 1 || line[end - 1] != '}' || line[i] != '{')
		return -1;
	/* the text between must be the record alone (no member after it) */
	const char *stop = NULL;
	cJSON *j = cJSON_ParseWithLengthOpts(line + i, end - 1 - i, &stop, 0);
	int whole = cJSON_IsObject(j) && stop == line + end - 1;
	cJSON_Delete(j);
	if (!whole)
		return -1;
	*rec = line + i;
	*rlen = end - 1 - i;
	return 0;
}

int fold_load(struct fold *f, const char *path, struct rt_err *e)
{
	memset(f, 0, sizeof *f);
	FILE *fp = fopen(path, "r");
	if (!fp) {
		if (errno == ENOENT)
			return 0;
		err_set(e, ERR_IO, "%s: %s", path, strerror(errno));
		return -1;
	}
	struct lines r;
	int rc = 0, got;
	lines_init(&r, fp, path, FOLD_LINE_CAP);
	while ((got = lines_next(&r, e)) == 1) {
		if (!r.line.len)
			continue;
		cJSON *j = cJSON_ParseWithLength(r.line.data, r.line.len);
		const cJSON *key = cJSON_GetObjectItemCaseSensitive(j, "key");
		const cJSON *rec = cJSON_GetObjectItemCaseSensitive(j, "record");
		const char *raw;
		size_t rawlen;
		char *txt = NULL;
		if (cJSON_IsObject(rec)) {
			if (fold_record_text(r.line.data, r.line.len, &raw, &rawlen) == 0)
				txt = strndup(raw, rawlen);
			else
				txt = cJSON_PrintUnformatted(rec);
		}
		if (!txt || !(cJSON_IsString(key) || cJSON_IsNull(key))) {
			err_set(e, ERR_DATA, "%s:%ld: not a fold entry ({\"key\":..,\"record\":{..}})",
				path, r.lineno);
			err_hint(e, "remove the file and run with --reprocess to rebuild it from "
				    "the staged files");
			rc = -1;
		} else if (fold_apply(f, cJSON_IsString(key) ? key->valuestring : NULL,
				      cJSON_IsString(key) ? strlen(key->valuestring) : 0, 0, txt,
				      strlen(txt))) {
			err_set(e, ERR_IO, "%s: out of memory", path);
			rc = -1;
		}
		free(txt);
		cJSON_Delete(j);
		if (rc)
			break;
	}
	if (got < 0)
		rc = -1;
	lines_free(&r);
	fclose(fp);
	if (rc)
		fold_free(f);
	return rc;
}

int fold_save(const struct fold *f, const char *path, struct rt_err *e)
{
	struct atomic_file a;
	if (atomic_open(&a, path, 0644, e))
		return -1;
	FILE *fp = atomic_fp(&a, e);
	if (!fp) {
		atomic_abort(&a);
		return -1;
	}
	struct buf b;
	buf_init(&b, FOLD_LINE_CAP);
	int bad = 0;
	for (size_t i = 0; i < f->n && !bad; i++) {
		const struct fold_item *it = &f->v[i];
		if (!it->json)
			continue;
		buf_reset(&b);
		bad = buf_adds(&b, "{\"key\":") ||
		      (it->k.key ? jsonw_str(&b, it->k.key) : buf_adds(&b, "null")) ||
		      buf_adds(&b, ",\"record\":") || buf_adds(&b, it->json) || buf_adds(&b, "}\n") ||
		      fwrite(b.data, 1, b.len, fp) != b.len;
	}
	buf_free(&b);
	if (bad) {
		err_set(e, ERR_IO, "%s: cannot write the fold", path);
		atomic_abort(&a);
		return -1;
	}
	return atomic_commit(&a, e);
}
