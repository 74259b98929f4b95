/* The job runner, part four: what run-job does besides a run. It prints
 * the stage commands (--print-pipeline), releases what a run held
 * (--approve, --discard), and gives a dry run its own scratch folder. */
#include "engine/runjob_int.h"
#include "core/atomic.h"
#include "core/exitcode.h"
#include "core/log.h"
#include "core/spawn.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

extern char **environ;

/* ---- --print-pipeline ---- */

/* A word as the shell reads it back: bare when it is plain, else in
 * single quotes. */
static void put_word(FILE *f, const char *w)
{
	if (*w && strspn(w, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
			    "_./:=,@%+-") == strlen(w)) {
		fputs(w, f);
		return;
	}
	fputc('\'', f);
	for (; *w; w++)
		if (*w == '\'')
			fputs("'\\''", f);
		else
			fputc(*w, f);
	fputc('\'', f);
}

static void put_cmd(FILE *f, const struct argv *a, int from)
{
	for (int i = from; i < a->n; i++) {
		if (i > from)
			fputc(' ', f);
		put_word(f, a->v[i]);
	}
}

void rj_print_pipeline(struct run *r, FILE *f)
{
	fprintf(f, "#!/bin/bash\n# The stages run-job runs for ");
	put_word(f, r->o->job_path);
	fprintf(f, ", in its source order (run-job --print-pipeline).\n"
		   "# Each source: extract | tee RAW | normalize > CANON; then dedupe | load-csv.\n"
		   "# To rerun from the raw files the last run kept, run the normalize lines\n"
		   "# that read RAW, then the last line. Secrets stay in the credentials store.\n"
		   "set -o pipefail\n");
	for (int i = 0; i < r->nsrc; i++) {
		struct src *s = &r->src[i];
		struct argv tee = {0}, norm = {0};
		rj_source_commands(r, s, &tee, &norm);
		fprintf(f, "\n# source %s (%s)\n", s->name, s->type.type);
		put_cmd(f, &s->extract, 0);
		fputs(" \\\n  | ", f);
		put_cmd(f, &tee, 0);
		fputs(" \\\n  | ", f);
		put_cmd(f, &norm, 0);
		fputs(" > ", f);
		put_word(f, s->canon);
		fprintf(f, "\n# or from the raw file the last run kept:\n# ");
		put_cmd(f, &norm, 0);
		fputs(" < ", f);
		put_word(f, s->raw);
		fputs(" > ", f);
		put_word(f, s->canon);
		fputc('\n', f);
		rj_argv_free(&tee);
		rj_argv_free(&norm);
	}
	struct argv dd = {0}, load = {0};
	r->reconcile = rj_cat3(r->work, "/", "reconcile.json");
	rj_final_commands(r, &dd, &load);
	fputs("\n# merge and publish\n", f);
	put_cmd(f, &dd, 0);
	fputs(" \\\n  | ", f);
	put_cmd(f, &load, 0);
	fputc('\n', f);
	rj_argv_free(&dd);
	rj_argv_free(&load);
}

/* ---- --approve, --discard ---- */

int rj_release(struct run *r, int approve)
{
	struct argv load = {0};
	struct rt_err e;
	int status = SPAWN_NOT_RUN;
	char *held = rj_cat3(r->state, "/", "held");
	char *p = rj_cat3(r->o->bindir, "/", "load-csv");
	err_clear(&e);
	rj_argv_add(&load, p);
	free(p);
	rj_argv_add(&load, approve ? "--approve" : "--discard");
	rj_argv_add(&load, "--out");
	rj_argv_add(&load, r->output);
	rj_argv_add(&load, "--held");
	rj_argv_add(&load, held);
	if (r->log_format) {
		rj_argv_add(&load, "--log-format");
		rj_argv_add(&load, r->log_format);
	}
	char *const *stages[] = {load.v};
	char *const *envs[] = {environ};
	if (spawn_pipeline(stages, envs, 1, NULL, NULL, 0, &status, &e) < 0)
		log_err(LOG_ERROR, &e);
	int code = status >= 0 && status <= EXIT_HELD ? status : EXIT_FAILED;
	/* the id map of the held run goes with its people: kept on approval */
	char *ids = rj_cat3(held, "/", IDS_NEXT), *to = rj_cat3(r->state, "/", IDS_FILE);
	if (ids && to && !access(ids, F_OK)) {
		if (approve && code == EXIT_COMPLETE && rj_move_file(ids, to, &e)) {
			log_err(LOG_ERROR, &e);
			code = EXIT_FAILED;
		} else if (!approve) {
			unlink(ids);
		}
	}
	if (held && code == EXIT_COMPLETE)
		rmdir(held); /* only when empty */
	free(ids);
	free(to);
	free(held);
	rj_argv_free(&load);
	return code;
}

int rj_move_file(const char *from, const char *to, struct rt_err *e)
{
	if (!rename(from, to))
		return atomic_sync_dir(to, e);
	if (errno != EXDEV) {
		err_set(e, ERR_IO, "%s: rename to %s: %s", from, to, strerror(errno));
		return -1;
	}
	if (atomic_copy(from, to, 0600, e))
		return -1;
	unlink(from);
	return 0;
}

void rj_keep_ids(struct run *r)
{
	struct rt_err e;
	int st = r->final_status[1];
	char *next = rj_cat3(r->work, "/", IDS_NEXT), *to = NULL;
	err_clear(&e);
	if (!next || access(next, F_OK) || r->final_status[0] < 0 ||
	    r->final_status[0] >= SPAWN_CANNOT_EXEC) {
		free(next);
		return; /* dedupe wrote none, or did not finish */
	}
	if (st == EXIT_COMPLETE || st == EXIT_PARTIAL)
		to = rj_cat3(r->state, "/", IDS_FILE);
	else if (st == EXIT_HELD && !atomic_mkdirs(r->state, &e))
		to = rj_cat3(r->state, "/held/", IDS_NEXT);
	if (to && rj_move_file(next, to, &e))
		log_warn("the id map is not kept (%s): tomorrow's people keep the ids of the map "
			 "before this run", e.msg);
	free(to);
	free(next);
}

/* ---- the dry run's scratch folder ---- */

/* Copies the state folder's files (STATE, snapshots, the id map), not its
 * folders: a drop's staging is fetched again, held results are not read. */
static int copy_state(const char *from, const char *to, struct rt_err *e)
{
	DIR *d = opendir(from);
	struct dirent *de;
	int rc = 0;
	if (!d)
		return errno == ENOENT ? 0 : (err_set(e, ERR_IO, "%s: %s", from, strerror(errno)), -1);
	while (!rc && (de = readdir(d))) {
		char *src = rj_cat3(from, "/", de->d_name), *dst = rj_cat3(to, "/", de->d_name);
		struct stat st;
		if (!src || !dst) {
			err_set(e, ERR_IO, "out of memory");
			rc = -1;
		} else if (de->d_name[0] != '.' && !lstat(src, &st) && S_ISREG(st.st_mode)) {
			rc = atomic_copy(src, dst, 0600, e);
		}
		free(src);
		free(dst);
	}
	closedir(d);
	return rc;
}

int rj_scratch_make(struct run *r, struct rt_err *e)
{
	const char *tmp = getenv("TMPDIR");
	char *tpl = rj_cat3(tmp && *tmp ? tmp : "/tmp", "/", "run-job-dry.XXXXXX");
	if (!tpl || !mkdtemp(tpl)) {
		err_set(e, ERR_IO, "a dry run needs a scratch folder: %s: %s", tpl ? tpl : "",
			strerror(errno));
		free(tpl);
		return -1;
	}
	r->scratch = tpl;
	char *real_state = r->state;
	free(r->work);
	r->work = rj_cat3(tpl, "/", "work");
	r->state = rj_cat3(tpl, "/", "state");
	int rc = !r->work || !r->state || atomic_mkdirs(r->work, e) || atomic_mkdirs(r->state, e) ||
		 copy_state(real_state, r->state, e);
	free(real_state);
	if (rc) {
		if (!e->kind)
			err_set(e, ERR_IO, "a dry run's scratch folder: out of memory");
		rj_scratch_remove(r);
		return -1;
	}
	log_info("dry run: nothing is published; the sources run in %s, removed at the end", tpl);
	return 0;
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	return flag == FTW_DP ? rmdir(path) : unlink(path);
}

void rj_scratch_remove(struct run *r)
{
	if (r->scratch && nftw(r->scratch, rm_one, 16, FTW_DEPTH | FTW_PHYS))
		log_warn("%s: could not remove the dry run's scratch folder: %s", r->scratch,
			 strerror(errno));
}
