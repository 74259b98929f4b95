/* One stream of extract-sftp: its files staged, read into records (sent,
 * folded or turned into fold operations) and the stream ended. */
#include "engine/ingest_int.h"
#include "core/clock.h"
#include "core/err.h"
#include "core/log.h"
#include "core/vec.h"
#include "net/sftp.h"
#include "engine/drop.h"
#include "engine/extract.h"

#include <errno.h>
#include <fnmatch.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum sink_mode { TO_STREAM, TO_FOLD, TO_OPS };
struct op {
	char *key; /* NULL: no key */
	int cancel;
	char *json;
};
struct rec_sink {
	enum sink_mode mode;
	struct extract_run *x;
	struct fold *fold;
	struct op *ops;
	size_t nops, capops;
};

static int sink_record(void *ctx, const struct drop_file *f, const char *key, size_t keylen,
		       int cancel, const char *json, size_t len, struct rt_err *e)
{
	struct rec_sink *s = ctx;
	(void)f;
	switch (s->mode) {
	case TO_STREAM:
		if (cancel)
			return 0;
		if (extract_record(s->x, json, len)) {
			err_set(e, ERR_IO, "writing the output failed");
			return -1;
		}
		return 0;
	case TO_FOLD:
		if (fold_apply(s->fold, key, keylen, cancel, json, len))
			goto oom;
		return 0;
	case TO_OPS:
		if (VEC_RESERVE(s->ops, s->capops, s->nops + 1, 256))
			goto oom;
		struct op *o = &s->ops[s->nops];
		o->cancel = cancel;
		o->key = key ? strndup(key, keylen) : NULL;
		o->json = strndup(json, len);
		if ((key && !o->key) || !o->json) {
			free(o->key);
			free(o->json);
			goto oom;
		}
		s->nops++;
		return 0;
	}
oom:
	err_set(e, ERR_IO, "out of memory while reading %s", f->stream);
	return -1;
}

static void ops_free(struct rec_sink *s)
{
	for (size_t i = 0; i < s->nops; i++) {
		free(s->ops[i].key);
		free(s->ops[i].json);
	}
	free(s->ops);
	s->ops = NULL;
	s->nops = s->capops = 0;
}

static int has_cancel(const struct drop_file *f)
{
	for (const struct drop_col *c = f->cols; c && c->headers; c++)
		if (c->flags & DC_CANCEL)
			return 1;
	return 0;
}

static void day_of(const char *iso, char *out, size_t n)
{
	snprintf(out, n, "%.10s", *iso ? iso : "an earlier run");
}

/* Gets p's file into staging (unless the staged copy is the same file);
 * *again = 1 when it was ingested before (by ledger or by content). */
static int stage(struct run *r, struct pick *p, char *staged, size_t n, int *again,
		 char sha[65], struct rt_err *e)
{
	char sname[256];
	ingest_staged_name(p->x.name, sname, sizeof sname);
	snprintf(staged, n, "%s/%s", r->files, sname);
	*again = 0;
	sha[0] = 0;
	if (p->seen && access(staged, R_OK) == 0) {
		snprintf(sha, 65, "%s", p->seen->sha256);
		*again = 1;
		return 0;
	}
	if (isrc_fetch(&r->src, &p->x, staged, sha, e))
		return -1;
	struct ledger_entry *l = r->use_ledger && !r->o->reprocess
					 ? ledger_find(&r->ledger, p->x.name)
					 : NULL;
	if (l && !strcmp(l->sha256, sha)) {
		/* the same bytes again (touched or copied anew): nothing new */
		l->size = p->x.size;
		l->mtime = p->x.mtime;
		p->seen = l;
		*again = 1;
	}
	return 0;
}

static int read_one(struct run *r, struct pick *p, const char *staged, struct rec_sink *s,
		    struct drop_stats *st, struct rt_err *e)
{
	memset(st, 0, sizeof *st);
	int rc = drop_read(r->o->profile, p->f, staged, p->x.name, &r->o->drop,
			   &(struct drop_sink){s, sink_record}, st, e);
	log_info("%s: %s: %ld rows, %ld records, %ld dropped%s", r->x->source, p->x.name,
		 st->rows, st->records, st->rows_dropped, rc ? " (the file failed)" : "");
	return rc;
}

static void remember(struct run *r, const struct pick *p, const char *sha, long records)
{
	if (!r->use_ledger)
		return;
	struct ledger_entry x = {0};
	x.name = (char *)p->x.name;
	x.size = p->x.size;
	x.mtime = p->x.mtime;
	x.records = records;
	snprintf(x.sha256, sizeof x.sha256, "%s", sha);
	clk_iso8601(clk_now(), x.ingested_at, sizeof x.ingested_at);
	if (ledger_put(&r->ledger, &x))
		log_warn("%s: out of memory: %s is not in the ledger", r->x->source, p->x.name);
}

/* The manifest's word on file f ("bulk", "delta", "absent"), or "" when
 * the profile has no manifest or the drop none. */
static void manifest_mode(struct run *r, const struct drop_file *f, char *mode, size_t n)
{
	mode[0] = 0;
	if (!r->manifest_path[0] || !r->o->profile->manifest_mode)
		return;
	char key[128];
	snprintf(key, sizeof key, "%s", f->name);
	char *dot = strrchr(key, '.');
	if (dot)
		*dot = 0;
	struct rt_err e;
	err_clear(&e);
	if (r->o->profile->manifest_mode(r->manifest_path, key, mode, n, &e)) {
		log_err(LOG_WARN, &e);
		mode[0] = 0;
	}
}

void ingest_stage_manifest(struct run *r)
{
	const char *m = r->o->profile->manifest;
	if (!m)
		return;
	for (size_t i = 0; i < r->nls; i++) {
		const struct sftp_entry *x = &r->ls[i];
		if (!x->regular || fnmatch(m, x->name, 0) || !ingest_name_ok(x->name, NULL, 0))
			continue;
		char sha[65];
		struct rt_err e;
		err_clear(&e);
		snprintf(r->manifest_path, sizeof r->manifest_path, "%s/%s", r->files, x->name);
		if (isrc_fetch(&r->src, x, r->manifest_path, sha, &e)) {
			log_err(LOG_WARN, &e);
			log_warn("%s: without its manifest every file of the drop is read",
				 r->x->source);
			r->manifest_path[0] = 0;
		}
		return;
	}
	log_warn("%s: no %s in the drop; every file of the profile present is read",
		 r->src.where, m);
}

/* The name a manifest gives file f ("users" for users.csv). */
static void manifest_key(const struct drop_file *f, char *out, size_t n)
{
	snprintf(out, n, "%.*s", (int)strcspn(f->name, "."), f->name);
}

/* Each file of the stream: what the manifest says of it, whether it is in
 * the drop; into missing the required files that are not, into delta the
 * files the manifest marks delta. 1 when any file is there to be read. */
static int stream_files(struct run *r, const char *stream, char *missing, size_t nm,
			char *delta, size_t nd, int *absent)
{
	const struct ingest_opts *o = r->o;
	int any = 0, bundle = ingest_nfiles(o->profile) > 1;
	missing[0] = delta[0] = 0;
	*absent = 0;
	for (const struct drop_file *f = o->profile->files; f->name; f++) {
		if (strcmp(f->stream, stream))
			continue;
		char mode[32], mkey[128];
		int here = 0;
		manifest_mode(r, f, mode, sizeof mode);
		manifest_key(f, mkey, sizeof mkey);
		for (size_t i = 0; i < r->npicks; i++) {
			struct pick *p = &r->picks[i];
			if (p->f != f)
				continue;
			if (!strcmp(mode, "absent")) {
				log_warn("%s: %s is in the drop but the manifest says file.%s=absent; "
					 "it is not read", r->x->source, p->x.name, mkey);
				p->f = NULL;
				*absent = 1;
				continue;
			}
			here = any = 1;
		}
		if (!strcmp(mode, "delta")) {
			size_t l = strlen(delta);
			snprintf(delta + l, nd - l, "%s%s", l ? ", " : "", mkey);
		}
		/* the manifest decides where there is one (bulk and delta files
		 * must be there); else the profile */
		int required = mode[0] ? strcmp(mode, "absent") != 0 : !f->optional;
		if (bundle && required && !here) {
			size_t l = strlen(missing);
			snprintf(missing + l, nm - l, "%s%s", l ? ", " : "", f->name);
		}
	}
	return any;
}

static void fail_stream(struct run *r, const char *stream, const char *const *keys,
			const struct rt_err *e)
{
	extract_stream_begin(r->x, stream, keys);
	extract_stream_end(r->x, e);
}

/* One stream's pass over its files: the notes its end carries, and with
 * --take all the fold the files are folded into and where it is kept. */
struct pass {
	struct run *r;
	const char *stream;
	char note[512];
	int folding;
	struct fold fold;
	char fold_path[PATH_MAX + 128];
	struct rt_err e;
};

/* Are the stream's files there? 0: read them (*any: some file is picked);
 * 1: the stream is done with, failed when p->e says why, else left out. */
static int check_files(struct pass *ps, int *any, char *delta, size_t nd)
{
	struct run *r = ps->r;
	const struct ingest_opts *o = r->o;
	char missing[300];
	int absent;
	*any = stream_files(r, ps->stream, missing, sizeof missing, delta, nd, &absent);
	if (missing[0]) {
		err_set(&ps->e, ERR_DATA, "%s: %s not in the drop; %s is read only with %s",
			r->src.where, missing, ps->stream, strchr(missing, ',') ? "them" : "it");
		err_hint(&ps->e, "check --folder and --pattern, and that the vendor's export "
				 "finished; the stream is not marked complete, so later stages keep "
				 "what they have");
		return 1;
	}
	if (*any || o->take != TAKE_NEWEST)
		return 0;
	if (ingest_nfiles(o->profile) > 1) {
		log_info("%s: %s for %s in the drop; the stream is left out", r->x->source,
			 absent ? "the manifest marks the file absent" : "no file", ps->stream);
		return 1;
	}
	err_set(&ps->e, ERR_DATA, "%s: no file matching %s in %s", r->x->source,
		o->pattern ? o->pattern : o->profile->files[0].name, r->src.where);
	err_hint(&ps->e, "check --folder and --pattern, and that the file was delivered");
	return 1;
}

/* --take all: the fold of the files taken before, loaded. -1 (p->e) when
 * there is none to send or it cannot be read. */
static int open_fold(struct pass *ps, int any)
{
	struct run *r = ps->r;
	const struct ingest_opts *o = r->o;
	const char *source = r->x->source;
	const char *pattern = o->pattern ? o->pattern : o->profile->files[0].name;
	snprintf(ps->fold_path, sizeof ps->fold_path, "%s/%s.fold", r->staging, ps->stream);
	int have = !o->reprocess && access(ps->fold_path, F_OK) == 0;
	if (!any && !have) {
		/* an empty stream marked complete would empty the entity downstream */
		if (r->taken_before) {
			err_set(&ps->e, ERR_DATA, "%s: the ledger lists %zu file%s matching %s as "
						  "taken, but there is no fold %s",
				source, r->taken_before, r->taken_before > 1 ? "s" : "", pattern,
				ps->fold_path);
			err_hint(&ps->e, "run with --reprocess to fold every file in the drop again");
		} else {
			err_set(&ps->e, ERR_DATA, "%s: no file matching %s in %s", source, pattern,
				r->src.where);
			err_hint(&ps->e, "check --folder and --pattern, and that the file was "
					 "delivered");
		}
		return -1;
	}
	if (have && fold_load(&ps->fold, ps->fold_path, &ps->e))
		return -1;
	if (!any) {
		extract_note_add(ps->note, sizeof ps->note,
				 "no new file: the fold of the files taken before is sent again");
		log_info("%s: %s", source, ps->note);
	}
	return 0;
}

/* Sends the records of a fold; -1 (e) when the output fails. */
static int send_fold(struct extract_run *x, const struct fold *f, struct rt_err *e)
{
	for (size_t k = 0; k < f->n; k++)
		if (f->v[k].json && extract_record(x, f->v[k].json, strlen(f->v[k].json))) {
			err_set(e, ERR_IO, "writing the output failed");
			return -1;
		}
	return 0;
}

/* Folds the operations a file of --take all gave; -1 (e) out of memory. */
static int apply_ops(struct pass *ps, const struct rec_sink *s, const char *name)
{
	for (size_t k = 0; k < s->nops; k++) {
		const struct op *op = &s->ops[k];
		if (fold_apply(&ps->fold, op->key, op->key ? strlen(op->key) : 0, op->cancel,
			       op->json, strlen(op->json))) {
			err_set(&ps->e, ERR_IO, "out of memory while folding %s", name);
			return -1;
		}
	}
	return 0;
}

/* One picked file of the stream: staged, read, and its records sent (or
 * folded). -1 (p->e) when the stream fails with it. */
static int read_pick(struct pass *ps, struct pick *p)
{
	struct run *r = ps->r;
	struct extract_run *x = r->x;
	if (p->err.kind) {
		ps->e = p->err;
		return -1;
	}
	char staged[PATH_MAX + 300], sha[65];
	int again;
	if (stage(r, p, staged, sizeof staged, &again, sha, &ps->e))
		return -1;
	if (again && ps->folding) {
		log_info("%s: %s was ingested already (the same bytes); skipped", x->source,
			 p->x.name);
		return 0;
	}
	if (again) {
		char day[16];
		day_of(p->seen->ingested_at, day, sizeof day);
		extract_note_add(ps->note, sizeof ps->note,
				 "no new file: %s was ingested on %s; its records are sent again "
				 "from the staged copy",
				 p->x.name, day);
		log_info("%s: %s", x->source, ps->note);
	}
	struct rec_sink s = {.x = x};
	struct fold one = {0};
	struct drop_stats st;
	if (ps->folding)
		s.mode = TO_OPS;
	else if (has_cancel(p->f))
		s.mode = TO_FOLD, s.fold = &one;
	else
		s.mode = TO_STREAM;
	int rc = read_one(r, p, staged, &s, &st, &ps->e);
	if (st.note[0])
		extract_note_add(ps->note, sizeof ps->note, "%s: %s", p->x.name, st.note);
	if (rc == 0 && s.mode == TO_FOLD)
		rc = send_fold(x, &one, &ps->e);
	if (rc == 0 && s.mode == TO_OPS)
		rc = apply_ops(ps, &s, p->x.name);
	fold_free(&one);
	ops_free(&s);
	if (rc)
		return -1;
	if (!again) {
		p->read = 1;
		snprintf(p->sha, sizeof p->sha, "%s", sha);
		p->records = st.records;
	}
	return 0;
}

/* With --take all, after the files: the fold sent and saved. -1 (p->e)
 * when it could not be. */
static int close_fold(struct pass *ps, int failed)
{
	struct extract_run *x = ps->r->x;
	if (!failed && send_fold(x, &ps->fold, &ps->e))
		failed = 1;
	if (!failed && (fflush(x->out) || ferror(x->out) || x->write_failed)) {
		err_set(&ps->e, ERR_IO, "writing the output failed: %s", strerror(errno));
		failed = 1;
	}
	if (!failed && fold_save(&ps->fold, ps->fold_path, &ps->e))
		failed = 1;
	if (failed)
		log_warn("%s: the fold %s is kept as it was; the files of this run are taken "
			 "again on the next", x->source, ps->fold_path);
	return failed ? -1 : 0;
}

/* One stream: the files of the profile that feed it. It is complete only
 * when every required file feeding it was read completely. */
void ingest_one_stream(struct run *r, const char *stream, const char *const *keys)
{
	struct pass ps = {.r = r, .stream = stream, .folding = r->o->take == TAKE_ALL};
	struct extract_run *x = r->x;
	char delta[200];
	int any, failed = 0;
	err_clear(&ps.e);
	if (check_files(&ps, &any, delta, sizeof delta) || (ps.folding && open_fold(&ps, any))) {
		if (ps.e.kind)
			fail_stream(r, stream, keys, &ps.e);
		fold_free(&ps.fold);
		return;
	}
	extract_stream_begin(x, stream, keys);
	for (size_t i = 0; i < r->npicks && !failed; i++) {
		struct pick *p = &r->picks[i];
		if (p->f && !strcmp(p->f->stream, stream))
			failed = read_pick(&ps, p) != 0;
	}
	if (ps.folding)
		failed = close_fold(&ps, failed) != 0;
	else if (!failed && (fflush(x->out) || ferror(x->out) || x->write_failed)) {
		err_set(&ps.e, ERR_IO, "writing the output failed: %s", strerror(errno));
		failed = 1;
	}
	/* only now does the ledger learn of the files: with --take all a file
	 * it lists is never read again, so it must be in the saved fold */
	for (size_t i = 0; i < r->npicks && !failed; i++) {
		struct pick *p = &r->picks[i];
		if (p->read && p->f && !strcmp(p->f->stream, stream))
			remember(r, p, p->sha, p->records);
	}
	fold_free(&ps.fold);
	if (!failed && delta[0]) {
		char why[400];
		snprintf(why, sizeof why, "%s marks %s as delta: its records are changes, so the "
					  "stream is not marked complete (later stages keep what "
					  "they have)",
			 r->o->profile->manifest ? r->o->profile->manifest : "the manifest", delta);
		extract_note_add(ps.note, sizeof ps.note, "%s", why);
		snprintf(x->cur->note, sizeof x->cur->note, "%s", ps.note);
		extract_stream_end_changes(x, why);
		return;
	}
	snprintf(x->cur->note, sizeof x->cur->note, "%s", ps.note);
	extract_stream_end(x, failed ? &ps.e : NULL);
}
