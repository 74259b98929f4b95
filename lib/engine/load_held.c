/* load-csv, part four: held results. A stream held as a mass change is
 * staged in the held folder (its file as it would have been published and
 * its change set) and described in held.json, so that an approval
 * publishes exactly the bytes that were reviewed, and only over the file
 * they were compared with. */
#include "engine/load_int.h"
#include "core/atomic.h"
#include "core/clock.h"
#include "core/exitcode.h"
#include "core/log.h"
#include "format/jfile.h"
#include "format/jsonw.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define HELD_JSON "held.json"

static char *held_dir(const struct load_opts *o)
{
	char *p = NULL;
	if (o->held)
		return strdup(o->held);
	return asprintf(&p, "%s/.held", o->dir) < 0 ? NULL : p;
}


/* held.json's streams, or NULL when nothing is held (or it is unreadable:
 * then *bad is set and e says why). */
static cJSON *held_read(const char *dir, int *bad, struct rt_err *e)
{
	char *p = load_path(dir, HELD_JSON, "");
	cJSON *j = p ? jfile_read(p, 0, e) : NULL;
	*bad = !p || e->kind;
	if (!p)
		err_set(e, ERR_IO, "%s: out of memory", dir);
	else if (e->kind == ERR_DATA)
		err_hint(e, "remove the held folder to drop what it held");
	free(p);
	return j;
}

static void remove_staged(const char *dir, const char *stream)
{
	char *a = load_path(dir, stream, ".csv"), *b = load_path(dir, stream, ".changes.ndjson");
	if (a)
		unlink(a);
	if (b)
		unlink(b);
	free(a);
	free(b);
}

/* Writes the held stream's file and change set into dir. */
static int stage_one(struct stream *s, const char *dir, char sha[65], struct rt_err *e)
{
	char *csv = load_path(dir, s->name, ".csv"), *chg = load_path(dir, s->name, ".changes.ndjson");
	struct atomic_file a;
	int rc = -1;
	if (!csv || !chg)
		err_set(e, ERR_IO, "%s: out of memory", dir);
	else if (!load_write_csv(s, csv, e) && !atomic_open(&a, chg, 0600, e)) {
		snprintf(sha, 65, "%s", s->sha256);
		FILE *f = atomic_fp(&a, e);
		if (!f || diff_stream(s, f, NULL, e) || fflush(f)) {
			if (f && !e->kind)
				err_set(e, ERR_IO, "%s: write: %s", chg, strerror(errno));
			atomic_abort(&a);
		} else {
			rc = atomic_commit(&a, e);
		}
	}
	s->sha256[0] = 0; /* not published */
	free(csv);
	free(chg);
	return rc;
}

static void put_entry(struct buf *b, const struct stream *s, const char *sha, const char *run,
		      const char *now, int first)
{
	buf_adds(b, first ? "\n{\"stream\":" : ",\n{\"stream\":");
	jsonw_str(b, s->name);
	buf_printf(b, ",\"rows\":%zu,\"sha256\":\"%s\",\"previous_rows\":%ld,"
		   "\"previous_sha256\":\"%s\",\"added\":%ld,\"removed\":%ld,\"changed\":%ld",
		   s->nrows, sha, s->prev.rows, s->prev.sha256, s->diff.added, s->diff.removed,
		   s->diff.changed);
	jsonw_key(b, "reason", 0);
	jsonw_str(b, s->reason);
	jsonw_key(b, "run", 0);
	jsonw_str(b, run);
	jsonw_key(b, "held_at", 0);
	jsonw_str(b, now);
	buf_addc(b, '}');
}

int held_stage(struct load *L)
{
	struct rt_err e;
	struct buf b;
	int bad, rc = 0, n = 0;
	char *dir = held_dir(L->o), *hj = NULL;
	err_clear(&e);
	if (!dir || !(hj = load_path(dir, HELD_JSON, ""))) {
		free(dir);
		log_msg(LOG_ERROR, "out of memory staging held results");
		return -1;
	}
	cJSON *old = held_read(dir, &bad, &e), *ent;
	if (bad)
		log_err(LOG_WARN, &e);
	if (!old && !L->held) {
		free(dir);
		free(hj);
		return 0;
	}
	buf_init(&b, 0);
	buf_adds(&b, "{\"output\":");
	jsonw_str(&b, L->o->dir);
	buf_adds(&b, ",\"streams\":[");
	/* an earlier run's hold stays until this run publishes or holds that stream */
	cJSON_ArrayForEach(ent, cJSON_GetObjectItemCaseSensitive(old, "streams")) {
		const struct canon_stream *cs = canon_find(jfile_str(ent, "stream"));
		struct stream *s = cs ? &L->s[cs - canon_streams] : NULL;
		if (!s)
			continue;
		if (s->status && (!strcmp(s->status, "published") || !strcmp(s->status, "held"))) {
			if (!strcmp(s->status, "published"))
				remove_staged(dir, s->name);
			continue;
		}
		char *t = cJSON_PrintUnformatted(ent);
		buf_adds(&b, n++ ? ",\n" : "\n");
		buf_adds(&b, t ? t : "{}");
		free(t);
	}
	if (L->held && atomic_mkdirs(dir, &e)) {
		log_err(LOG_ERROR, &e);
		rc = -1;
	}
	for (int i = 0; !rc && i < L->n; i++) {
		struct stream *s = &L->s[i];
		char sha[65] = "";
		if (!s->status || strcmp(s->status, "held"))
			continue;
		if (stage_one(s, dir, sha, &e)) {
			log_err(LOG_ERROR, &e);
			rc = -1;
			break;
		}
		put_entry(&b, s, sha, L->run_id, L->now, !n++);
		log_warn("%s: held, the previous %s.csv is kept: %s. The new file and its changes "
			 "are in %s (%s.csv, %s.changes.ndjson); publish them with "
			 "load-csv --approve, or drop them with --discard", s->name, s->name, s->reason,
			 dir, s->name, s->name);
	}
	buf_adds(&b, "\n]}\n");
	if (!rc && n)
		rc = atomic_publish(hj, b.data, b.len, 0600, &e);
	else if (!rc && unlink(hj) && errno != ENOENT) {
		err_set(&e, ERR_IO, "%s: %s", hj, strerror(errno));
		rc = -1;
	}
	if (rc && e.kind)
		log_err(LOG_ERROR, &e);
	cJSON_Delete(old);
	buf_free(&b);
	free(hj);
	free(dir);
	return rc;
}

/* Whether the staged file and the file it was compared with are as
 * held.json says; the reason in e when not. */
static int still_valid(const cJSON *ent, const char *hdir, const char *out, struct rt_err *e)
{
	const char *name = jfile_str(ent, "stream");
	char *staged = load_path(hdir, name, ".csv"), *pub = load_path(out, name, ".csv"), sha[65];
	long rows;
	int rc = -1;
	struct rt_err ignore;
	err_clear(&ignore);
	if (!staged || !pub)
		err_set(e, ERR_IO, "out of memory");
	else if (!canon_find(name))
		err_set(e, ERR_DATA, "held.json names '%s', which is not a canonical stream", name);
	else if (csv_file_stat(staged, &rows, sha, e))
		;
	else if (strcmp(sha, jfile_str(ent, "sha256")))
		err_set(e, ERR_DATA, "%s changed after it was held (its SHA-256 is not the one "
			"held.json gives): it is not what was reviewed; --discard it and run again",
			staged);
	else if (csv_file_stat(pub, &rows, sha, &ignore) && *jfile_str(ent, "previous_sha256"))
		err_set(e, ERR_DATA, "%s is gone since the hold: run again", pub);
	else if (strcmp(ignore.kind ? "" : sha, jfile_str(ent, "previous_sha256")))
		err_set(e, ERR_DATA, "%s changed after the hold (a later run published it): the "
			"held result was compared with another file; --discard it and run again", pub);
	else
		rc = 0;
	free(staged);
	free(pub);
	return rc;
}

static void drop_all(const char *hdir, const cJSON *held)
{
	const cJSON *ent;
	cJSON_ArrayForEach(ent, cJSON_GetObjectItemCaseSensitive(held, "streams"))
		remove_staged(hdir, jfile_str(ent, "stream"));
	char *hj = load_path(hdir, HELD_JSON, "");
	if (hj)
		unlink(hj);
	free(hj);
	rmdir(hdir); /* only when empty: run-job keeps its own files there */
}

int load_approve(const struct load_opts *o)
{
	struct rt_err e;
	struct load L;
	int bad, rc = EXIT_COMPLETE, n = 0;
	char *hdir = held_dir(o);
	const cJSON *ent;
	err_clear(&e);
	cJSON *held = hdir ? held_read(hdir, &bad, &e) : NULL;
	if (!hdir || bad || !held) {
		if (!hdir || bad)
			log_err(LOG_ERROR, &e);
		else
			log_info("nothing is held in %s: nothing to approve", hdir);
		free(hdir);
		cJSON_Delete(held);
		return !hdir || bad ? EXIT_FAILED : EXIT_COMPLETE;
	}
	cJSON_ArrayForEach(ent, cJSON_GetObjectItemCaseSensitive(held, "streams"))
		if (still_valid(ent, hdir, o->dir, &e)) {
			log_err(LOG_ERROR, &e);
			log_msg(LOG_ERROR, "nothing is published: every held stream is approved "
				"together or not at all");
			rc = EXIT_FAILED;
			break;
		}
	if (rc == EXIT_COMPLETE && load_init(&L, o)) {
		log_msg(LOG_ERROR, "out of memory");
		rc = EXIT_FAILED;
	} else if (rc == EXIT_COMPLETE) {
		clk_iso8601(clk_now(), L.now, sizeof L.now);
		snprintf(L.run_id, sizeof L.run_id, "%s", o->run_id && *o->run_id ? o->run_id : L.now);
		cJSON_ArrayForEach(ent, cJSON_GetObjectItemCaseSensitive(held, "streams")) {
			const char *name = jfile_str(ent, "stream");
			struct stream *s = &L.s[canon_find(name) - canon_streams];
			char *from = load_path(hdir, name, ".csv"), *to = load_path(o->dir, name, ".csv");
			if (from && to && !atomic_copy(from, to, 0644, &e)) {
				s->schemas = s->activates = 1;
				s->status = "published";
				s->out_rows = (long)jfile_num(ent, "rows");
				snprintf(s->sha256, sizeof s->sha256, "%s", jfile_str(ent, "sha256"));
				snprintf(s->written_at, sizeof s->written_at, "%s", L.now);
				snprintf(s->from_run, sizeof s->from_run, "%s", jfile_str(ent, "run"));
				snprintf(s->reason, sizeof s->reason, "approved; it was held: %s",
					 jfile_str(ent, "reason"));
				log_info("approved: published %s (%ld rows, held by run %s)", to,
					 s->out_rows, s->from_run);
				n++;
			} else {
				if (!e.kind)
					err_set(&e, ERR_IO, "%s: out of memory", name);
				log_err(LOG_ERROR, &e);
				rc = EXIT_PARTIAL;
			}
			free(from);
			free(to);
		}
		if (n && manifest_write(&L, o->dir))
			rc = EXIT_PARTIAL;
		if (rc == EXIT_COMPLETE)
			drop_all(hdir, held);
		load_free(&L);
	}
	cJSON_Delete(held);
	free(hdir);
	return rc;
}

int load_discard(const struct load_opts *o)
{
	struct rt_err e;
	int bad;
	char *hdir = held_dir(o);
	const cJSON *ent;
	err_clear(&e);
	cJSON *held = hdir ? held_read(hdir, &bad, &e) : NULL;
	if (!hdir || bad) {
		log_err(LOG_ERROR, &e);
		free(hdir);
		return EXIT_FAILED;
	}
	if (!held)
		log_info("nothing is held in %s: nothing to discard", hdir);
	cJSON_ArrayForEach(ent, cJSON_GetObjectItemCaseSensitive(held, "streams"))
		log_info("discarded the held %s (run %s: %s); %s/%s.csv stays as it is",
			 jfile_str(ent, "stream"), jfile_str(ent, "run"), jfile_str(ent, "reason"), o->dir,
			 jfile_str(ent, "stream"));
	if (held)
		drop_all(hdir, held);
	cJSON_Delete(held);
	free(hdir);
	return EXIT_COMPLETE;
}
