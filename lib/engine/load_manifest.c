/* load-csv, part three: the manifest, which describes every CSV file in
 * the output folder, and the held results waiting for approval. */
#include "engine/load_int.h"
#include "core/atomic.h"
#include "core/clock.h"
#include "core/exitcode.h"
#include "core/log.h"
#include "format/jfile.h"
#include "format/jsonw.h"

#include <cjson/cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

char *load_path(const char *dir, const char *name, const char *ext)
{
	char *p = NULL;
	return asprintf(&p, "%s/%s%s", dir, name, ext) < 0 ? NULL : p;
}

static void put_str(struct buf *b, const char *key, const char *v)
{
	jsonw_key(b, key, 0);
	if (v && *v)
		jsonw_str(b, v);
	else
		buf_adds(b, "null");
}

/* The previous manifest's entry for file, when it describes the bytes
 * that are there now. */
static const cJSON *earlier(const cJSON *man, const char *file, const char *sha)
{
	const cJSON *f;
	cJSON_ArrayForEach(f, cJSON_GetObjectItemCaseSensitive(man, "files"))
		if (!strcmp(jfile_str(f, "file"), file))
			return *sha && !strcmp(jfile_str(f, "sha256"), sha) ? f : NULL;
	return NULL;
}

/* One file's entry: what is on disk (rows, sha256), who published it,
 * and what this run did with its stream (s: NULL when not in the input). */
static int put_file(struct buf *b, struct load *L, const cJSON *man, const char *file,
		    const char *stream, struct stream *s, int *first)
{
	char *path = load_path(L->o->dir, file, ""), sha[65] = "";
	const char *run = NULL, *at = NULL;
	long rows = 0;
	struct rt_err e;
	int kept = !s || !s->status || strcmp(s->status, "published");
	err_clear(&e);
	if (!path)
		return -1;
	if (!kept) {
		rows = s->out_rows;
		snprintf(sha, sizeof sha, "%s", s->sha256);
		run = s->from_run[0] ? s->from_run : L->run_id;
		at = s->written_at;
	} else if (s && s->prev.exists && s->prev.sha256[0]) {
		rows = s->prev.rows;
		snprintf(sha, sizeof sha, "%s", s->prev.sha256);
	} else if (csv_file_stat(path, &rows, sha, &e)) {
		log_err(LOG_WARN, &e); /* still listed: it is in the folder */
	}
	if (kept) {
		const cJSON *f = earlier(man, file, sha);
		run = f ? jfile_str(f, "run") : NULL;
		at = f ? jfile_str(f, "published_at") : NULL;
	}
	free(path);
	buf_adds(b, *first ? "\n{\"stream\":" : ",\n{\"stream\":");
	*first = 0;
	jsonw_str(b, stream);
	put_str(b, "file", file);
	buf_printf(b, ",\"rows\":%ld", rows);
	put_str(b, "sha256", sha);
	put_str(b, "run", run);
	put_str(b, "published_at", at);
	buf_printf(b, ",\"kept\":%s", kept ? "true" : "false");
	put_str(b, "status", s ? s->status : NULL);
	put_str(b, "reason", s ? s->reason : NULL);
	if (s && s->diff.compared)
		buf_printf(b, ",\"changes\":{\"before\":%ld,\"added\":%ld,\"removed\":%ld,"
			   "\"changed\":%ld}", s->diff.before, s->diff.added, s->diff.removed,
			   s->diff.changed);
	return buf_addc(b, '}');
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The folder's other CSV files (not a canonical stream's), sorted. */
static int other_files(const char *dir, char ***out, size_t *n)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	size_t cap = 0;
	*out = NULL;
	*n = 0;
	if (!d)
		return errno == ENOENT ? 0 : -1;
	while ((de = readdir(d))) {
		size_t l = strlen(de->d_name);
		if (de->d_name[0] == '.' || l < 5 || strcmp(de->d_name + l - 4, ".csv"))
			continue;
		char stem[256];
		snprintf(stem, sizeof stem, "%.*s", (int)(l - 4), de->d_name);
		if (canon_find(stem))
			continue;
		if (*n == cap) {
			char **v = realloc(*out, (cap = cap ? cap * 2 : 8) * sizeof *v);
			if (!v)
				break;
			*out = v;
		}
		if (!((*out)[*n] = strdup(de->d_name)))
			break;
		(*n)++;
	}
	closedir(d);
	if (*n > 1)
		qsort(*out, *n, sizeof **out, cmp_names);
	return 0;
}

int manifest_write(struct load *L, const char *dir)
{
	struct buf b;
	struct rt_err e;
	char *path = load_path(dir, "manifest.json", ""), **others = NULL;
	size_t nothers = 0;
	int first = 1, rc = 0;
	err_clear(&e);
	buf_init(&b, 0);
	cJSON *man = path ? jfile_read(path, 0, &e) : NULL;
	err_clear(&e); /* an unreadable manifest is replaced: it no longer describes */
	buf_adds(&b, "{\"generated_at\":");
	jsonw_str(&b, L->now);
	put_str(&b, "run", L->run_id);
	buf_adds(&b, ",\"files\":[");
	/* the canonical streams' files, then the input's streams without one */
	for (int i = 0; i < L->n && !rc; i++) {
		struct stream *s = &L->s[i];
		char file[300], *fp;
		struct stat st;
		if (!s->cs)
			continue;
		snprintf(file, sizeof file, "%s.csv", s->name);
		if (!(fp = load_path(dir, file, "")))
			rc = -1;
		else if (!stat(fp, &st) && S_ISREG(st.st_mode))
			rc = put_file(&b, L, man, file, s->name, load_present(s) ? s : NULL, &first);
		else if (load_present(s) && s->status) {
			buf_adds(&b, first ? "\n{\"stream\":" : ",\n{\"stream\":");
			first = 0;
			jsonw_str(&b, s->name);
			buf_printf(&b, ",\"file\":null,\"rows\":0,\"sha256\":null,\"run\":null,"
				   "\"published_at\":null,\"kept\":false");
			put_str(&b, "status", s->status);
			put_str(&b, "reason", s->reason);
			buf_addc(&b, '}');
		}
		free(fp);
	}
	if (!rc && other_files(dir, &others, &nothers))
		rc = -1;
	for (size_t i = 0; i < nothers && !rc; i++) {
		char stem[256];
		snprintf(stem, sizeof stem, "%.*s", (int)(strlen(others[i]) - 4), others[i]);
		rc = put_file(&b, L, man, others[i], stem, NULL, &first);
	}
	for (size_t i = 0; i < nothers; i++)
		free(others[i]);
	free(others);
	for (int i = 0; i < L->n && !rc; i++) {
		struct stream *s = &L->s[i];
		if (s->cs || !load_present(s))
			continue;
		buf_adds(&b, first ? "\n{\"stream\":" : ",\n{\"stream\":");
		first = 0;
		jsonw_str(&b, s->name);
		buf_printf(&b, ",\"file\":null,\"rows\":%ld,\"sha256\":null,\"run\":null,"
			   "\"published_at\":null,\"kept\":false", s->records);
		put_str(&b, "status", s->status);
		put_str(&b, "reason", s->reason);
		buf_addc(&b, '}');
	}
	cJSON_Delete(man);
	if (rc || buf_adds(&b, "\n]}\n") || !path) {
		err_set(&e, ERR_IO, "%s/manifest.json: out of memory, or the folder cannot be read",
			dir);
		rc = -1;
	} else {
		rc = atomic_publish(path, b.data, b.len, 0644, &e);
	}
	if (rc)
		log_err(LOG_ERROR, &e);
	free(path);
	buf_free(&b);
	return rc;
}
