#include "format/snapshot.h"
#include "core/atomic.h"
#include "core/buf.h"
#include "core/htab.h"
#include "core/lines.h"
#include "core/vec.h"
#include "format/jsonw.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- the map: a core/htab.h index over an array of entries ---- */

void snapmap_init(struct snapmap *m)
{
	memset(m, 0, sizeof *m);
}

void snapmap_clear(struct snapmap *m)
{
	for (size_t i = 0; i < m->count; i++) {
		free(m->v[i].k.key);
		cJSON_Delete(m->v[i].obj);
	}
	m->count = 0;
	htab_clear(&m->index);
}

void snapmap_free(struct snapmap *m)
{
	snapmap_clear(m);
	free(m->v);
	htab_free(&m->index);
	memset(m, 0, sizeof *m);
}

size_t snapmap_count(const struct snapmap *m)
{
	return m->count;
}

cJSON *snapmap_get(const struct snapmap *m, const char *key)
{
	size_t i = HTAB_FIND(&m->index, m->v, key, strlen(key));
	return i ? m->v[i - 1].obj : NULL;
}

int snapmap_put(struct snapmap *m, const char *key, cJSON *obj)
{
	size_t len = strlen(key), i = HTAB_FIND(&m->index, m->v, key, len);
	if (i) {
		cJSON_Delete(m->v[i - 1].obj);
		m->v[i - 1].obj = obj;
		return 0;
	}
	struct htab_pos at;
	char *k = strdup(key);
	if (!k || HTAB_RESERVE(&m->index, m->v, m->count) ||
	    VEC_RESERVE(m->v, m->cap, m->count + 1, 64)) {
		free(k);
		cJSON_Delete(obj);
		return -1;
	}
	HTAB_LOOKUP(&m->index, m->v, key, len, &at);
	m->v[m->count] = (struct snapmap_ent){{k, len}, obj};
	htab_set(&m->index, &at, m->count++);
	return 0;
}

static int skipped(const char *name, const char *const *skip)
{
	for (int i = 0; skip && skip[i]; i++)
		if (!strcmp(skip[i], name))
			return 1;
	return 0;
}

int snapmap_merge(struct snapmap *m, const char *key, const cJSON *changes,
		  const char *const *skip)
{
	cJSON *obj = snapmap_get(m, key);
	if (!obj) {
		obj = cJSON_CreateObject();
		if (!obj || snapmap_put(m, key, obj))
			return -1;
	}
	const cJSON *c;
	cJSON_ArrayForEach(c, changes) {
		if (!c->string || skipped(c->string, skip))
			continue;
		cJSON *dup = cJSON_Duplicate(c, 1);
		if (!dup)
			return -1;
		if (cJSON_GetObjectItemCaseSensitive(obj, c->string)) {
			if (!cJSON_ReplaceItemInObjectCaseSensitive(obj, c->string, dup)) {
				cJSON_Delete(dup);
				return -1;
			}
		} else if (!cJSON_AddItemToObject(obj, c->string, dup)) {
			cJSON_Delete(dup);
			return -1;
		}
	}
	return 0;
}

/* Removes entry i: the last entry takes its place. */
static void remove_at(struct snapmap *m, size_t i)
{
	HTAB_REMOVE(&m->index, m->v, i);
	free(m->v[i].k.key);
	cJSON_Delete(m->v[i].obj);
	size_t last = --m->count;
	if (i != last) {
		m->v[i] = m->v[last];
		HTAB_MOVED(&m->index, m->v, last, i);
	}
}

int snapmap_remove(struct snapmap *m, const char *key)
{
	size_t i = HTAB_FIND(&m->index, m->v, key, strlen(key));
	if (!i)
		return 0;
	remove_at(m, i - 1);
	return 1;
}

size_t snapmap_remove_prefix(struct snapmap *m, const char *prefix)
{
	size_t n = 0, pl = strlen(prefix);
	/* a removal moves the last entry into the place just emptied: look at
	 * that place again */
	for (size_t i = 0; i < m->count;) {
		if (!strncmp(m->v[i].k.key, prefix, pl)) {
			remove_at(m, i);
			n++;
		} else {
			i++;
		}
	}
	return n;
}

static int by_bytes(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

const char **snapmap_keys(const struct snapmap *m, size_t *n)
{
	*n = 0;
	if (!m->count)
		return NULL;
	const char **k = malloc(m->count * sizeof *k);
	if (!k) {
		*n = (size_t)-1;
		return NULL;
	}
	for (size_t i = 0; i < m->count; i++)
		k[(*n)++] = m->v[i].k.key;
	qsort(k, *n, sizeof *k, by_bytes);
	return k;
}

/* ---- the file ---- */

int snapshot_load(const char *path, cJSON **header, struct snapshot_set *sets, int nsets,
		  struct rt_err *e)
{
	*header = NULL;
	for (int i = 0; i < nsets; i++)
		snapmap_clear(&sets[i].map);
	FILE *f = fopen(path, "r");
	if (!f) {
		if (errno == ENOENT)
			return 1;
		err_set(e, ERR_IO, "%s: %s", path, strerror(errno));
		return -1;
	}
	struct lines r;
	int got, rc = 0;
	lines_init(&r, f, path, 0);
	while (!rc && (got = lines_next(&r, e)) == 1) {
		cJSON *j = cJSON_ParseWithLength(r.line.data ? r.line.data : "", r.line.len);
		if (!cJSON_IsObject(j)) {
			err_set(e, ERR_DATA, "%s:%ld: not a JSON object", path, r.lineno);
			rc = -1;
		} else if (!*header) {
			*header = j;
			continue;
		} else {
			const cJSON *set = cJSON_GetObjectItemCaseSensitive(j, "set");
			const cJSON *key = cJSON_GetObjectItemCaseSensitive(j, "key");
			cJSON *obj = cJSON_DetachItemFromObjectCaseSensitive(j, "object");
			int k = -1;
			for (int i = 0; cJSON_IsString(set) && i < nsets; i++)
				if (!strcmp(sets[i].name, set->valuestring))
					k = i;
			if (k < 0 || !cJSON_IsString(key) || !obj) {
				err_set(e, ERR_DATA, "%s:%ld: not an entry of a known set", path, r.lineno);
				cJSON_Delete(obj);
				rc = -1;
			} else if (snapmap_put(&sets[k].map, key->valuestring, obj)) {
				err_set(e, ERR_IO, "%s: out of memory", path);
				rc = -1;
			}
		}
		cJSON_Delete(j);
	}
	if (!rc && got < 0)
		rc = -1;
	if (!rc && !*header) {
		err_set(e, ERR_DATA, "%s: empty (no header line)", path);
		rc = -1;
	}
	lines_free(&r);
	fclose(f);
	if (rc) {
		cJSON_Delete(*header);
		*header = NULL;
		for (int i = 0; i < nsets; i++)
			snapmap_clear(&sets[i].map);
	}
	return rc;
}

static int put_line(FILE *fp, struct buf *b)
{
	return buf_addc(b, '\n') || fwrite(b->data, 1, b->len, fp) != b->len ? -1 : 0;
}

int snapshot_save(const char *path, const cJSON *header, const struct snapshot_set *sets,
		  int nsets, struct rt_err *e)
{
	struct atomic_file a;
	struct buf b;
	int rc = 0;
	if (atomic_open(&a, path, 0600, e))
		return -1;
	FILE *fp = atomic_fp(&a, e);
	if (!fp) {
		atomic_abort(&a);
		return -1;
	}
	buf_init(&b, (size_t)64 << 20);
	char *h = cJSON_PrintUnformatted(header);
	rc = !h || buf_adds(&b, h) || put_line(fp, &b);
	free(h);
	for (int i = 0; !rc && i < nsets; i++) {
		size_t n;
		const char **keys = snapmap_keys(&sets[i].map, &n);
		if (n == (size_t)-1)
			rc = -1;
		for (size_t k = 0; !rc && k < n; k++) {
			char *obj = cJSON_PrintUnformatted(snapmap_get(&sets[i].map, keys[k]));
			buf_reset(&b);
			rc = !obj || buf_adds(&b, "{\"set\":") || jsonw_str(&b, sets[i].name) ||
			     buf_adds(&b, ",\"key\":") || jsonw_str(&b, keys[k]) ||
			     buf_adds(&b, ",\"object\":") || buf_adds(&b, obj) || buf_addc(&b, '}') ||
			     put_line(fp, &b);
			free(obj);
		}
		free(keys);
	}
	buf_free(&b);
	if (rc) {
		err_set(e, ERR_IO, "%s: writing the snapshot failed: %s", path,
			errno ? strerror(errno) : "out of memory");
		atomic_abort(&a);
		return -1;
	}
	return atomic_commit(&a, e);
}
