/* The job runner, part two: running it (man 1 run-job). Each source
 *   extract-<type> | tee RAW | normalize > CANON
 * then dedupe CANON... | load-csv --out OUTPUT, with pipefail semantics;
 * runjob_check.c reads the job first, runjob_report.c reports. */
#include "engine/runjob.h"
#include "engine/runjob_int.h"
#include "core/atomic.h"
#include "core/clock.h"
#include "core/exitcode.h"
#include "core/log.h"
#include "core/spawn.h"
#include "core/wordlist.h"
#include "format/canon.h"
#include "format/jobfile.h"
#include "format/singer.h"
#include "auth/creds.h"
#include "engine/prog.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

void rj_argv_add(struct argv *a, const char *s)
{
	if (a->n < 62)
		a->v[a->n++] = strdup(s);
	a->v[a->n] = NULL;
}

void rj_argv_free(struct argv *a)
{
	for (int i = 0; i < a->n; i++)
		free(a->v[i]);
	a->n = 0;
}

char *rj_cat3(const char *a, const char *b, const char *c)
{
	size_t n = strlen(a) + strlen(b) + strlen(c) + 1;
	char *p = malloc(n);
	if (p)
		snprintf(p, n, "%s%s%s", a, b, c);
	return p;
}

/* ---- running ---- */

/* The last STATE message's value of a raw file, kept for the next night. */
static void keep_state(struct src *s, struct rt_err *e)
{
	FILE *f = fopen(s->raw, "r");
	if (!f)
		return;
	char *line = NULL, *last = NULL;
	size_t cap = 0;
	ssize_t n;
	while ((n = getline(&line, &cap, f)) > 0)
		if (!strncmp(line, "{\"type\":\"STATE\"", 15)) {
			free(last);
			last = strdup(line);
		}
	free(line);
	fclose(f);
	if (!last)
		return;
	cJSON *j = cJSON_Parse(last);
	cJSON *v = cJSON_GetObjectItemCaseSensitive(j, "value");
	char *txt = v ? cJSON_Print(v) : NULL;
	if (txt && atomic_publish(s->state, txt, strlen(txt), 0644, e))
		log_err(LOG_WARN, e);
	free(txt);
	cJSON_Delete(j);
	free(last);
}

static double remaining(struct run *r)
{
	return r->deadline > 0 ? r->deadline - (clk_now() - r->started) : 0;
}

static int env_is(const char *entry, const char *name)
{
	size_t l = strlen(name);
	return !strncmp(entry, name, l) && entry[l] == '=';
}

/* A stage's environment: run-job's own, without ROSTER_CREDENTIALS except
 * for an extractor (keep). The other stages (tee, normalize with the
 * user's jq and its $ENV, dedupe, load-csv) have no business with the
 * store. The strings are environ's: free the array only. NULL when out of
 * memory. */
static char **stage_env(const struct src *keep)
{
	size_t n = 0, k = 0;
	while (environ[n])
		n++;
	char **v = malloc((n + 1) * sizeof *v);
	if (!v)
		return NULL;
	for (size_t i = 0; i < n; i++)
		if (keep || !env_is(environ[i], "ROSTER_CREDENTIALS"))
			v[k++] = environ[i];
	v[k] = NULL;
	return v;
}

int rj_usable(const struct src *s)
{
	return s->exit == EXIT_COMPLETE || s->exit == EXIT_PARTIAL;
}

/* Cuts a file back to its last whole line: a stage stopped half-way
 * through a line must not leave a line that is not JSON. */
static int cut_to_last_line(const char *path)
{
	int fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? 0 : -1;
	struct stat st;
	off_t end = fstat(fd, &st) ? -1 : st.st_size;
	char buf[4096];
	while (end > 0) {
		off_t from = end > (off_t)sizeof buf ? end - (off_t)sizeof buf : 0;
		ssize_t got = pread(fd, buf, (size_t)(end - from), from);
		if (got != end - from) {
			end = -1;
			break;
		}
		char *nl = memrchr(buf, '\n', (size_t)got);
		if (nl) {
			end = from + (nl - buf) + 1;
			break;
		}
		end = from;
	}
	int rc = end < 0 || (end < st.st_size && ftruncate(fd, end)) ? -1 : 0;
	return close(fd) || rc ? -1 : 0;
}

/* Whether the source reads raw stream raw (one of its vendor's,
 * "clever_users"): every one, unless its job names some (streams =
 * users,terms: the names after "<vendor>_"). */
static int reads(struct src *s, const char *raw)
{
	const char *list = s->type.streams_key ? job_get(s->sec, s->type.streams_key) : NULL;
	if (!list)
		return 1;
	return list_has(list, raw + strlen(s->vendor->name) + 1);
}

/* Adds to feeds the canonical streams fed by the raw streams the source
 * reads (all: by every raw stream of its vendor); returns the new count. */
int rj_add_feeds(struct src *s, int all, const char **feeds, int nfeeds, int max)
{
	for (const struct mapper *m = s->vendor->mappers; m && m->raw; m++) {
		if (!all && !reads(s, m->raw))
			continue;
		for (int k = 0; m->feeds[k]; k++) {
			int seen = 0;
			for (int d = 0; d < nfeeds; d++)
				seen |= !strcmp(feeds[d], m->feeds[k]);
			if (!seen && nfeeds < max && canon_find(m->feeds[k]))
				feeds[nfeeds++] = m->feeds[k];
		}
	}
	return nfeeds;
}

/* A source that failed (its extractor not found, crashed, killed, or a
 * configuration it refused) may have written no SCHEMA at all: load-csv
 * would then publish the other sources' records alone over the shared
 * files, erasing this source's. So its canonical file gets one SCHEMA,
 * without ACTIVATE_VERSION, for every canonical stream it feeds (those of
 * the raw streams it reads; every stream of its type when its stream list
 * names none the mapping knows), and load-csv keeps the previous files for
 * them. -1 when that failed. */
static int mark_incomplete(const struct run *r, struct src *s, struct rt_err *e)
{
	const char *feeds[32];
	int nfeeds = rj_add_feeds(s, 0, feeds, 0, 32);
	if (!nfeeds)
		nfeeds = rj_add_feeds(s, 1, feeds, 0, 32);
	if (cut_to_last_line(s->canon)) {
		err_set(e, ERR_IO, "%s: %s", s->canon, strerror(errno));
		return -1;
	}
	FILE *f = fopen(s->canon, "a");
	if (!f) {
		err_set(e, ERR_IO, "%s: %s", s->canon, strerror(errno));
		return -1;
	}
	int rc = 0;
	char list[400] = "";
	for (int i = 0; i < nfeeds; i++) {
		const struct canon_stream *cs = canon_find(feeds[i]);
		if (!rc)
			rc = singer_schema(f, cs->name, canon_schema_json(cs), cs->keys);
		size_t l = strlen(list);
		snprintf(list + l, sizeof list - l, "%s%s.csv", i ? ", " : "", cs->name);
	}
	if (fclose(f) || rc) {
		err_set(e, ERR_IO, "%s: %s", s->canon, strerror(errno));
		return -1;
	}
	log_warn("source %s failed: what it feeds keeps the previous files in %s (%s)", s->name,
		 r->output, nfeeds ? list : "none");
	return 0;
}

void rj_source_commands(struct run *r, struct src *s, struct argv *tee, struct argv *norm)
{
	char num[64];
	rj_argv_add(&s->extract, "--stats");
	rj_argv_add(&s->extract, s->stats);
	rj_argv_add(&s->extract, "--state");
	rj_argv_add(&s->extract, s->state);
	if (s->snapshot) {
		rj_argv_add(&s->extract, "--snapshot");
		rj_argv_add(&s->extract, s->snapshot);
	}
	if (s->staging) {
		rj_argv_add(&s->extract, "--staging");
		rj_argv_add(&s->extract, s->staging);
	}
	snprintf(num, sizeof num, "%g", r->max_wait);
	rj_argv_add(&s->extract, "--max-wait");
	rj_argv_add(&s->extract, num);
	if (r->deadline > 0) {
		double left = remaining(r);
		snprintf(num, sizeof num, "%g", left > 1 ? left : 1);
		rj_argv_add(&s->extract, "--deadline");
		rj_argv_add(&s->extract, num);
	}
	if (r->log_format) {
		rj_argv_add(&s->extract, "--log-format");
		rj_argv_add(&s->extract, r->log_format);
	}
	rj_argv_add(tee, "/usr/bin/tee");
	rj_argv_add(tee, s->raw);
	char *np = rj_cat3(r->o->bindir, "/", "normalize");
	rj_argv_add(norm, np);
	free(np);
	if (r->jq) {
		rj_argv_add(norm, "--jq");
		rj_argv_add(norm, r->jq);
	}
	for (size_t k = 0; k < NNORM; k++)
		if (s->norm[k]) {
			rj_argv_add(norm, rj_norm_keys[k].flag);
			rj_argv_add(norm, s->norm[k]->value);
		}
	if (r->log_format) {
		rj_argv_add(norm, "--log-format");
		rj_argv_add(norm, r->log_format);
	}
}

static void run_source(struct run *r, struct src *s)
{
	struct rt_err e;
	struct argv tee = {0}, norm = {0};
	err_clear(&e);
	rj_source_commands(r, s, &tee, &norm);
	char *const *stages[] = {s->extract.v, tee.v, norm.v};
	char **own = stage_env(s), **none = stage_env(NULL);
	char *const *envs[] = {own, none, none};
	log_info("source %s: %s | normalize", s->name, s->type.program);
	unlink(s->stats);
	double hard = r->deadline > 0 ? r->started + r->deadline + 60 : 0;
	int rc = -1;
	if (!own || !none) {
		for (int i = 0; i < 3; i++)
			s->status[i] = SPAWN_NOT_RUN;
		err_set(&e, ERR_IO, "source %s: out of memory", s->name);
	} else {
		rc = spawn_pipeline(stages, envs, 3, NULL, s->canon, hard, s->status, &e);
	}
	if (rc < 0) {
		log_err(LOG_ERROR, &e);
		s->exit = EXIT_FAILED;
	} else {
		s->killed = rc == SPAWN_DEADLINE;
		/* pipefail: the worst of the stages, tee's failure counts as a failure */
		s->exit = exit_combine(s->status[0], s->status[2]);
		if (s->status[1])
			s->exit = exit_combine(s->exit, EXIT_FAILED);
	}
	if (s->status[0] != EXIT_FAILED && s->status[0] != EXIT_USAGE &&
	    s->status[0] != SPAWN_NOT_RUN && s->status[0] < SPAWN_SIGNALED)
		keep_state(s, &e);
	free(own);
	free(none);
	rj_argv_free(&tee);
	rj_argv_free(&norm);
}

void rj_final_commands(struct run *r, struct argv *dd, struct argv *load)
{
	static const char *const hold_flags[] = {"--hold-deletes", "--hold-changes",
						 "--hold-floor"};
	char *p = rj_cat3(r->o->bindir, "/", "dedupe");
	rj_argv_add(dd, p);
	free(p);
	if (r->log_format) {
		rj_argv_add(dd, "--log-format");
		rj_argv_add(dd, r->log_format);
	}
	if (r->reconcile) {
		rj_argv_add(dd, "--reconcile");
		rj_argv_add(dd, r->reconcile);
	}
	/* the id map: read from the state, the next one kept in the work
	 * folder until load-csv has published (rj_keep_ids) */
	p = rj_cat3(r->state, "/", IDS_FILE);
	rj_argv_add(dd, "--ids");
	rj_argv_add(dd, p);
	free(p);
	p = rj_cat3(r->work, "/", IDS_NEXT);
	rj_argv_add(dd, "--ids-out");
	rj_argv_add(dd, p);
	free(p);
	for (int i = 0; i < r->nsrc; i++)
		rj_argv_add(dd, r->src[i].canon);
	p = rj_cat3(r->o->bindir, "/", "load-csv");
	rj_argv_add(load, p);
	free(p);
	rj_argv_add(load, "--out");
	rj_argv_add(load, r->output);
	p = rj_cat3(r->state, "/", "held");
	rj_argv_add(load, "--held");
	rj_argv_add(load, p);
	free(p);
	rj_argv_add(load, "--run-id");
	rj_argv_add(load, r->run_id);
	for (int k = 0; k < 3; k++)
		if (r->hold[k]) {
			rj_argv_add(load, hold_flags[k]);
			rj_argv_add(load, r->hold[k]);
		}
	if (r->o->mode == RJ_DRY_RUN) {
		rj_argv_add(load, "--dry-run");
		rj_argv_add(load, "--changes");
		rj_argv_add(load, r->o->changes ? r->o->changes : "-");
	}
	if (r->log_format) {
		rj_argv_add(load, "--log-format");
		rj_argv_add(load, r->log_format);
	}
}

static void run_final(struct run *r)
{
	struct argv dd = {0}, load = {0};
	struct rt_err e;
	/* last night's must not pass for tonight's when dedupe stops early */
	char *next = rj_cat3(r->work, "/", IDS_NEXT);
	if (next)
		unlink(next);
	free(next);
	r->reconcile = rj_cat3(r->work, "/", "reconcile.json");
	if (r->reconcile && unlink(r->reconcile) && errno != ENOENT) {
		log_warn("%s: cannot remove the last run's reconciliation (%s): none this run",
			 r->reconcile, strerror(errno));
		free(r->reconcile);
		r->reconcile = NULL;
	}
	rj_final_commands(r, &dd, &load);
	char *const *stages[] = {dd.v, load.v};
	char **env = stage_env(NULL);
	char *const *envs[] = {env, env};
	log_info("dedupe | load-csv --out %s", r->output);
	r->final_tried = 1;
	err_clear(&e);
	/* its own allowance from now: extraction may have used up the job's
	 * deadline, and the sources that completed must still be published */
	double hard = r->deadline > 0 ? clk_now() + FINAL_ALLOWANCE : 0;
	int rc = -1;
	if (!env)
		err_set(&e, ERR_IO, "dedupe | load-csv: out of memory");
	else
		rc = spawn_pipeline(stages, envs, 2, NULL, NULL, hard, r->final_status, &e);
	/* load-csv ran: started (a failure to start is always at or before the
	 * last stage) and executed (SPAWN_CANNOT_EXEC: it could not be) */
	r->final_ran = rc >= 0 && r->final_status[1] != SPAWN_CANNOT_EXEC;
	r->final_killed = rc == SPAWN_DEADLINE;
	if (rc < 0)
		log_err(LOG_ERROR, &e);
	else if (r->o->mode == RJ_RUN)
		rj_keep_ids(r);
	free(env);
	rj_argv_free(&dd);
	rj_argv_free(&load);
}

/* The files of source s: its raw, canonical and statistics files in the
 * work folder, its STATE (and snapshot, staging) under the state folder. */
void rj_src_paths(struct run *r, struct src *s)
{
	char *base = rj_cat3(r->work, "/", s->name);
	s->raw = rj_cat3(base, ".raw", ".ndjson");
	s->canon = rj_cat3(base, ".canon", ".ndjson");
	s->stats = rj_cat3(base, ".stats", ".json");
	free(base);
	char *sb = rj_cat3(r->state, "/", s->name);
	s->state = rj_cat3(sb, ".json", "");
	if (s->wants_snapshot)
		s->snapshot = rj_cat3(sb, ".snapshot", "");
	if (s->type.staging)
		s->staging = rj_cat3(sb, ".staging", "");
	free(sb);
}

/* Runs every source; the sources' combined exit code. *nusable: how many
 * can be handed to dedupe; *hold: a failed source's streams could not be
 * marked incomplete, so nothing may be published. */
static int run_sources(struct run *r, int *nusable, int *hold)
{
	struct rt_err e;
	int code = EXIT_COMPLETE;
	*nusable = *hold = 0;
	for (int i = 0; i < r->nsrc; i++) {
		struct src *s = &r->src[i];
		rj_src_paths(r, s);
		run_source(r, s);
		s->people_done = rj_usable(s) && rj_people_activated(s->canon);
		if (rj_usable(s)) {
			(*nusable)++;
		} else if (mark_incomplete(r, s, &e)) {
			log_err(LOG_ERROR, &e);
			*hold = 1;
		}
		code = i ? exit_combine(code, s->exit) : s->exit;
	}
	return code;
}

/* dedupe | load-csv over what the sources gave, when there is something
 * to publish; the run's exit code from the sources' code. */
static int publish(struct run *r, int code, int nusable, int hold)
{
	if (nusable && hold) {
		log_msg(LOG_ERROR, "a failed source's streams could not be marked incomplete: "
				   "nothing was published, the previous files in %s are untouched",
			r->output);
		return exit_combine(code, EXIT_FAILED);
	}
	if (!nusable) {
		log_msg(LOG_ERROR, "no source produced data: nothing was published, the previous "
				   "files in %s are untouched", r->output);
		return code;
	}
	run_final(r);
	/* one source failing (or refusing its configuration) beside others
	 * that worked is a partial run when files were published (load-csv
	 * 0 or 3); when the failed source held every file back, its own
	 * code (1 or 2) says what to fix */
	int published = r->final_status[1] == EXIT_COMPLETE || r->final_status[1] == EXIT_PARTIAL ||
			r->final_status[1] == EXIT_HELD;
	if (published && (code == EXIT_FAILED || code == EXIT_USAGE))
		code = EXIT_PARTIAL;
	code = exit_combine(code, r->final_status[0]);
	return exit_combine(code, r->final_status[1]);
}

/* Writes run-report.json and prints the table; the exit code (a report
 * that could not be written fails the run). */
static int report(struct run *r, int code)
{
	struct rt_err e;
	int dry = r->o->mode == RJ_DRY_RUN;
	cJSON *rep = rj_build_report(r, code);
	char *txt = cJSON_Print(rep);
	char *rp = r->o->report_path ? strdup(r->o->report_path)
		   : dry	     ? NULL
				     : rj_cat3(r->output, "/", "run-report.json");
	err_clear(&e);
	if ((!dry || rp) && (!txt || !rp || atomic_publish(rp, txt, strlen(txt), 0644, &e))) {
		if (!e.msg[0])
			err_set(&e, ERR_IO, "the run report: out of memory");
		log_err(LOG_ERROR, &e);
		code = exit_combine(code, EXIT_FAILED);
	}
	/* a dry run's change set may be on stdout: its table goes to stderr */
	FILE *f = dry ? stderr : r->o->out;
	const char *slash = rp ? strrchr(rp, '/') : NULL;
	rj_print_table(f, rep, slash ? slash + 1 : rp ? rp : "run-report.json");
	fprintf(f, "Run report (JSON): %s\n", rp ? rp : dry ? "(none: a dry run)" : "(not written)");
	free(rp);
	free(txt);
	cJSON_Delete(rep);
	return code;
}

static void run_free(struct run *r)
{
	for (int i = 0; i < r->nsrc; i++) {
		rj_argv_free(&r->src[i].extract);
		free(r->src[i].raw);
		free(r->src[i].canon);
		free(r->src[i].stats);
		free(r->src[i].state);
		free(r->src[i].snapshot);
		free(r->src[i].staging);
	}
	free(r->reconcile);
	free(r->output);
	free(r->work);
	free(r->state);
	free(r->scratch);
	free(r->jq);
	free(r->creds);
	free(r->creds_key);
	job_free(&r->job);
}

int runjob(const struct runjob_opts *o, struct rt_err *e)
{
	struct run r;
	int code = EXIT_COMPLETE;
	double began = (double)time(NULL); /* the files' clock, not the fake one */
	memset(&r, 0, sizeof r);
	r.o = o;
	r.final_status[0] = r.final_status[1] = SPAWN_NOT_RUN;
	err_clear(e);
	if (job_load(&r.job, o->job_path, e) || rj_validate(&r, e)) {
		run_free(&r);
		return EXIT_USAGE;
	}
	if (o->mode == RJ_CHECK) {
		err_clear(e);
		log_info("%s: the job file is valid (%d source%s)", o->job_path, r.nsrc,
			 r.nsrc == 1 ? "" : "s");
		run_free(&r);
		return EXIT_COMPLETE;
	}
	int dry = o->mode == RJ_DRY_RUN;
	if (!dry && o->mode != RJ_PRINT &&
	    (atomic_mkdirs(r.output, e) || (o->mode == RJ_RUN && atomic_mkdirs(r.work, e)))) {
		run_free(&r);
		return EXIT_FAILED;
	}
	char *clean = realpath(r.output, NULL); /* "a/b/../../out" reads badly in a report */
	if (clean) {
		free(r.output);
		r.output = clean;
	}
	if ((clean = realpath(r.work, NULL))) {
		free(r.work);
		r.work = clean;
	}
	r.state = rj_cat3(r.output, "/", "state");
	r.started = clk_now();
	clk_iso8601(r.started, r.run_id, sizeof r.run_id);
	if (o->mode == RJ_PRINT) {
		for (int i = 0; i < r.nsrc; i++)
			rj_src_paths(&r, &r.src[i]);
		rj_print_pipeline(&r, o->out);
		run_free(&r);
		return EXIT_COMPLETE;
	}
	if (o->mode == RJ_APPROVE || o->mode == RJ_DISCARD) {
		code = rj_release(&r, o->mode == RJ_APPROVE);
		run_free(&r);
		return code;
	}
	if (dry ? rj_scratch_make(&r, e) : atomic_mkdirs(r.state, e)) {
		run_free(&r);
		return EXIT_FAILED;
	}
	err_clear(e); /* from here on, failures are logged and reported as they happen */
	if (!dry) {
		prog_sweep(r.work, began); /* the output folder is load-csv's to sweep */
		prog_sweep(r.state, began);
	}
	int nusable, hold;
	code = run_sources(&r, &nusable, &hold);
	code = publish(&r, code, nusable, hold);
	r.finished = clk_now();
	code = report(&r, code);
	if (dry)
		rj_scratch_remove(&r);
	run_free(&r);
	return code;
}
