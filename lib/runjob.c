#include "runjob.h"
#include "atomic.h"
#include "buf.h"
#include "clever.h"
#include "clock.h"
#include "exitcode.h"
#include "jobfile.h"
#include "log.h"
#include "spawn.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The source types the runner knows: extractor program and job keys. */
static const struct source_type {
	const char *type;
	const char *program;
	const struct job_key *keys;
} source_types[] = {
	{"clever", "extract-clever", clever_job_keys},
};

/* Keys every [source] takes, whatever its type. */
static const struct job_key common_keys[] = {
	{"base_url", "--base-url", JK_PLAIN},   {"token_url", "--token-url", JK_PLAIN},
	{"rate", "--rate", JK_PLAIN},           {"page_size", "--page-size", JK_PLAIN},
	{"max_pages", "--max-pages", JK_PLAIN}, {"timeout", "--timeout", JK_PLAIN},
	{"ca_file", "--ca-file", JK_PATH},      {NULL, NULL, JK_PLAIN},
};

static const char *const job_keys[] = {"name", "output", "work", "deadline", "max_wait",
				       "log_format", "jq", NULL};

struct argv {
	char *v[64];
	int n;
};

static void argv_add(struct argv *a, const char *s)
{
	if (a->n < 62)
		a->v[a->n++] = strdup(s);
	a->v[a->n] = NULL;
}

static void argv_free(struct argv *a)
{
	for (int i = 0; i < a->n; i++)
		free(a->v[i]);
	a->n = 0;
}

struct src {
	const char *name;
	const struct source_type *type;
	struct job_section *sec;
	struct argv extract;
	char *raw, *canon, *stats, *state;
	int status[3]; /* extract, tee, normalize */
	int exit;
};

struct run {
	const struct runjob_opts *o;
	struct job job;
	char *output, *work, *jq;
	const char *name;
	const char *log_format;
	double deadline; /* seconds, 0 = none */
	double max_wait;
	struct src src[16];
	int nsrc;
	int final_status[2]; /* dedupe, load-csv */
	double started, finished;
};

static char *cat3(const char *a, const char *b, const char *c)
{
	size_t n = strlen(a) + strlen(b) + strlen(c) + 1;
	char *p = malloc(n);
	if (p)
		snprintf(p, n, "%s%s%s", a, b, c);
	return p;
}

/* ---- validation ---- */

static int bad(struct run *r, int line, struct rt_err *e, const char *fmt, const char *a,
	       const char *b)
{
	char msg[400];
	snprintf(msg, sizeof msg, fmt, a, b);
	err_set(e, ERR_USAGE, "%s:%d: %s", r->job.path, line, msg);
	return -1;
}

static const struct job_key *find_key(const struct job_key *keys, const char *k)
{
	for (int i = 0; keys[i].key; i++)
		if (!strcmp(keys[i].key, k))
			return &keys[i];
	return NULL;
}

static int add_source_args(struct run *r, struct src *s, struct rt_err *e)
{
	struct job_section *sec = s->sec;
	for (int i = 0; i < sec->nkv; i++) {
		struct job_kv *kv = &sec->kv[i];
		if (!strcmp(kv->key, "type"))
			continue;
		const struct job_key *k = find_key(s->type->keys, kv->key);
		if (!k)
			k = find_key(common_keys, kv->key);
		if (!k) {
			char known[512] = "type";
			for (int pass = 0; pass < 2; pass++) {
				const struct job_key *ks = pass ? common_keys : s->type->keys;
				for (int n = 0; ks[n].key; n++) {
					size_t l = strlen(known);
					snprintf(known + l, sizeof known - l, ", %s", ks[n].key);
				}
			}
			bad(r, kv->line, e, "unknown key '%s' for a %s source", kv->key,
			    s->type->type);
			err_hint(e, "known keys: %s", known);
			return -1;
		}
		if (k->kind == JK_SECRET) {
			if (strncmp(kv->value, "env:", 4) || !kv->value[4]) {
				bad(r, kv->line, e, "%s must name where the secret is (env:VARIABLE), "
						    "not hold it%s", kv->key, "");
				err_hint(e, "a secret never goes in a job file: put it in an environment "
					    "variable and write %s = env:VARIABLE", kv->key);
				return -1;
			}
			argv_add(&s->extract, k->flag);
			argv_add(&s->extract, kv->value + 4);
		} else if (k->kind == JK_PATH) {
			char *p = job_path(&r->job, kv->value);
			argv_add(&s->extract, k->flag);
			argv_add(&s->extract, p);
			free(p);
		} else {
			argv_add(&s->extract, k->flag);
			argv_add(&s->extract, kv->value);
		}
	}
	return 0;
}

static int validate(struct run *r, struct rt_err *e)
{
	struct job_section *job = job_section(&r->job, "job", NULL);
	if (!job) {
		err_set(e, ERR_USAGE, "%s: no [job] section", r->job.path);
		err_hint(e, "start the file with [job] and output = FOLDER");
		return -1;
	}
	for (int i = 0; i < job->nkv; i++) {
		int ok = 0;
		for (int k = 0; job_keys[k]; k++)
			ok |= !strcmp(job_keys[k], job->kv[i].key);
		if (!ok) {
			bad(r, job->kv[i].line, e, "unknown key '%s' in [job]%s", job->kv[i].key, "");
			err_hint(e, "known keys: name, output, work, deadline, max_wait, log_format, jq");
			return -1;
		}
	}
	const char *out = job_get(job, "output");
	if (!out)
		return bad(r, job->line, e, "[job] needs output = FOLDER%s%s", "", "");
	r->output = job_path(&r->job, out);
	const char *work = job_get(job, "work");
	r->work = work ? job_path(&r->job, work) : cat3(r->output, "/", ".work");
	r->name = job_get(job, "name");
	if (!r->name)
		r->name = r->job.path;
	const char *v;
	r->max_wait = 300;
	if ((v = job_get(job, "deadline")) && job_duration(v, &r->deadline))
		return bad(r, job_line(job, "deadline"), e,
			   "deadline: '%s' is not a duration (90, 90s, 15m, 2h)%s", v, "");
	if ((v = job_get(job, "max_wait")) && job_duration(v, &r->max_wait))
		return bad(r, job_line(job, "max_wait"), e,
			   "max_wait: '%s' is not a duration (90, 90s, 15m, 2h)%s", v, "");
	r->log_format = job_get(job, "log_format");
	enum log_format lf;
	if (r->log_format && log_parse_format(r->log_format, &lf))
		return bad(r, job_line(job, "log_format"), e, "log_format: '%s' is not text or json%s",
			   r->log_format, "");
	if ((v = job_get(job, "jq")))
		r->jq = job_path(&r->job, v);
	for (int i = 0; i < r->job.nsec; i++) {
		struct job_section *sec = &r->job.sec[i];
		if (!strcmp(sec->kind, "job"))
			continue;
		if (strcmp(sec->kind, "source"))
			return bad(r, sec->line, e, "unknown section [%s]; expected [job] or [source NAME]%s",
				   sec->kind, "");
		if (!*sec->name || strspn(sec->name, "abcdefghijklmnopqrstuvwxyz0123456789_-") !=
					   strlen(sec->name))
			return bad(r, sec->line, e,
				   "a source needs a name of lower-case letters, digits, - and _: [source %s]%s",
				   sec->name, "");
		if (r->nsrc >= 16)
			return bad(r, sec->line, e, "at most 16 sources in a job%s%s", "", "");
		const char *type = job_get(sec, "type");
		if (!type)
			return bad(r, sec->line, e, "[source %s] needs type = (one of: clever)%s",
				   sec->name, "");
		struct src *s = &r->src[r->nsrc++];
		s->name = sec->name;
		s->sec = sec;
		for (size_t t = 0; t < sizeof source_types / sizeof source_types[0]; t++)
			if (!strcmp(source_types[t].type, type))
				s->type = &source_types[t];
		if (!s->type)
			return bad(r, job_line(sec, "type"), e, "unknown source type '%s' (known: clever)%s",
				   type, "");
		char *prog = cat3(r->o->bindir, "/", s->type->program);
		argv_add(&s->extract, prog);
		free(prog);
		if (add_source_args(r, s, e))
			return -1;
	}
	if (!r->nsrc)
		return bad(r, job->line, e, "the job has no [source NAME] section%s%s", "", "");
	return 0;
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

static void run_source(struct run *r, struct src *s)
{
	struct rt_err e;
	struct argv tee = {0}, norm = {0};
	char num[64];
	err_clear(&e);
	argv_add(&s->extract, "--stats");
	argv_add(&s->extract, s->stats);
	argv_add(&s->extract, "--state");
	argv_add(&s->extract, s->state);
	snprintf(num, sizeof num, "%g", r->max_wait);
	argv_add(&s->extract, "--max-wait");
	argv_add(&s->extract, num);
	if (r->deadline > 0) {
		double left = remaining(r);
		snprintf(num, sizeof num, "%g", left > 1 ? left : 1);
		argv_add(&s->extract, "--deadline");
		argv_add(&s->extract, num);
	}
	if (r->log_format) {
		argv_add(&s->extract, "--log-format");
		argv_add(&s->extract, r->log_format);
	}
	argv_add(&tee, "/usr/bin/tee");
	argv_add(&tee, s->raw);
	char *np = cat3(r->o->bindir, "/", "normalize");
	argv_add(&norm, np);
	free(np);
	if (r->jq) {
		argv_add(&norm, "--jq");
		argv_add(&norm, r->jq);
	}
	if (r->log_format) {
		argv_add(&norm, "--log-format");
		argv_add(&norm, r->log_format);
	}
	char *const *stages[] = {s->extract.v, tee.v, norm.v};
	log_info("source %s: %s | normalize", s->name, s->type->program);
	unlink(s->stats);
	double hard = r->deadline > 0 ? r->started + r->deadline + 60 : 0;
	if (spawn_pipeline(stages, 3, NULL, s->canon, hard, s->status, &e)) {
		log_err(LOG_ERROR, &e);
		s->exit = EXIT_FAILED;
	} else {
		/* pipefail: the worst of the stages, tee's failure counts as a failure */
		s->exit = exit_combine(s->status[0], s->status[2]);
		if (s->status[1])
			s->exit = exit_combine(s->exit, EXIT_FAILED);
	}
	if (s->status[0] != EXIT_FAILED && s->status[0] != EXIT_USAGE)
		keep_state(s, &e);
	argv_free(&tee);
	argv_free(&norm);
}

static void run_final(struct run *r)
{
	struct argv dd = {0}, load = {0};
	struct rt_err e;
	char *p = cat3(r->o->bindir, "/", "dedupe");
	argv_add(&dd, p);
	free(p);
	if (r->log_format) {
		argv_add(&dd, "--log-format");
		argv_add(&dd, r->log_format);
	}
	for (int i = 0; i < r->nsrc; i++)
		argv_add(&dd, r->src[i].canon);
	p = cat3(r->o->bindir, "/", "load-csv");
	argv_add(&load, p);
	free(p);
	argv_add(&load, "--out");
	argv_add(&load, r->output);
	if (r->log_format) {
		argv_add(&load, "--log-format");
		argv_add(&load, r->log_format);
	}
	char *const *stages[] = {dd.v, load.v};
	log_info("dedupe | load-csv --out %s", r->output);
	err_clear(&e);
	double hard = r->deadline > 0 ? r->started + r->deadline + 60 : 0;
	if (spawn_pipeline(stages, 2, NULL, NULL, hard, r->final_status, &e)) {
		log_err(LOG_ERROR, &e);
		r->final_status[0] = r->final_status[1] = EXIT_FAILED;
	}
	argv_free(&dd);
	argv_free(&load);
}

/* ---- the report ---- */

static cJSON *read_json(const char *path)
{
	struct buf b;
	buf_init(&b, 64 << 20);
	cJSON *j = buf_read_file(&b, path) || !b.data ? NULL : cJSON_ParseWithLength(b.data, b.len);
	buf_free(&b);
	return j;
}

static const char *exit_word(int code)
{
	static const char *w[] = {"complete", "failed", "bad usage or configuration", "partial",
				  "held"};
	return code >= 0 && code <= 4 ? w[code] : "failed";
}

static const char *jstr(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
	return cJSON_IsString(v) ? v->valuestring : "";
}

static double jnum(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
	return cJSON_IsNumber(v) ? v->valuedouble : 0;
}

static cJSON *build_report(struct run *r, int code)
{
	char ts[40];
	cJSON *rep = cJSON_CreateObject();
	cJSON_AddStringToObject(rep, "job", r->name);
	clk_iso8601(r->started, ts, sizeof ts);
	cJSON_AddStringToObject(rep, "started", ts);
	clk_iso8601(r->finished, ts, sizeof ts);
	cJSON_AddStringToObject(rep, "finished", ts);
	cJSON_AddNumberToObject(rep, "seconds", r->finished - r->started);
	cJSON_AddNumberToObject(rep, "exit", code);
	cJSON_AddStringToObject(rep, "outcome", exit_word(code));
	cJSON_AddStringToObject(rep, "output", r->output);
	cJSON *sources = cJSON_AddArrayToObject(rep, "sources");
	for (int i = 0; i < r->nsrc; i++) {
		struct src *s = &r->src[i];
		cJSON *o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "name", s->name);
		cJSON_AddStringToObject(o, "type", s->type->type);
		cJSON_AddNumberToObject(o, "exit", s->exit);
		cJSON *st = cJSON_AddObjectToObject(o, "stages");
		cJSON_AddNumberToObject(st, s->type->program, s->status[0]);
		cJSON_AddNumberToObject(st, "tee", s->status[1]);
		cJSON_AddNumberToObject(st, "normalize", s->status[2]);
		cJSON_AddStringToObject(o, "raw", s->raw);
		cJSON *stats = read_json(s->stats);
		cJSON *streams = cJSON_DetachItemFromObjectCaseSensitive(stats, "streams");
		cJSON_AddItemToObject(o, "streams", streams ? streams : cJSON_CreateObject());
		cJSON_Delete(stats);
		cJSON_AddItemToArray(sources, o);
	}
	cJSON *st = cJSON_AddObjectToObject(rep, "stages");
	cJSON_AddNumberToObject(st, "dedupe", r->final_status[0]);
	cJSON_AddNumberToObject(st, "load-csv", r->final_status[1]);
	char *mp = cat3(r->output, "/", "manifest.json");
	cJSON *man = read_json(mp);
	free(mp);
	cJSON *files = cJSON_DetachItemFromObjectCaseSensitive(man, "files");
	cJSON_AddItemToObject(rep, "outputs", files ? files : cJSON_CreateArray());
	cJSON_Delete(man);
	return rep;
}

static void print_table(FILE *f, const cJSON *rep)
{
	const cJSON *s, *st, *o;
	fprintf(f, "\nRun report: %s: %s (exit %d) in %.1f s\n", jstr(rep, "job"),
		jstr(rep, "outcome"), (int)jnum(rep, "exit"), jnum(rep, "seconds"));
	fprintf(f, "\n%-12s %-18s %-9s %8s %8s %7s %8s\n", "source", "stream", "status", "records",
		"requests", "retries", "waited");
	cJSON_ArrayForEach(s, cJSON_GetObjectItemCaseSensitive(rep, "sources")) {
		cJSON_ArrayForEach(st, cJSON_GetObjectItemCaseSensitive(s, "streams")) {
			fprintf(f, "%-12s %-18s %-9s %8.0f %8.0f %7.0f %7.1fs\n", jstr(s, "name"),
				st->string, jstr(st, "status"), jnum(st, "records"),
				jnum(st, "requests"), jnum(st, "retries"), jnum(st, "wait_seconds"));
		}
		if (!cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(s, "streams")))
			fprintf(f, "%-12s %-18s %-9s (no statistics: the extractor exited %d)\n",
				jstr(s, "name"), "-", "failed", (int)jnum(s, "exit"));
	}
	fprintf(f, "\n%-12s %-24s %8s  %s\n", "output", "file", "rows", "status");
	cJSON_ArrayForEach(o, cJSON_GetObjectItemCaseSensitive(rep, "outputs")) {
		const char *reason = jstr(o, "reason");
		fprintf(f, "%-12s %-24s %8.0f  %s%s%s\n", jstr(o, "stream"), jstr(o, "file"),
			jnum(o, "rows"), jstr(o, "status"), *reason ? ": " : "", reason);
	}
	int first = 1;
	cJSON_ArrayForEach(s, cJSON_GetObjectItemCaseSensitive(rep, "sources")) {
		cJSON_ArrayForEach(st, cJSON_GetObjectItemCaseSensitive(s, "streams")) {
			const cJSON *err = cJSON_GetObjectItemCaseSensitive(st, "error");
			const char *note = jstr(st, "note");
			if (cJSON_IsObject(err) || *note) {
				if (first)
					fprintf(f, "\nErrors and notes:\n");
				first = 0;
			}
			if (cJSON_IsObject(err))
				fprintf(f, "  %s %s: %s\n", jstr(s, "name"), st->string, jstr(err, "text"));
			if (*note)
				fprintf(f, "  %s %s: note: %s\n", jstr(s, "name"), st->string, note);
		}
	}
	fprintf(f, "\nOutput folder: %s\n", jstr(rep, "output"));
}

int runjob(const struct runjob_opts *o)
{
	struct run r;
	struct rt_err e;
	int code = EXIT_COMPLETE;
	memset(&r, 0, sizeof r);
	r.o = o;
	err_clear(&e);
	if (job_load(&r.job, o->job_path, &e) || validate(&r, &e)) {
		log_err(LOG_ERROR, &e);
		code = EXIT_USAGE;
		goto out;
	}
	if (o->validate_only) {
		log_info("%s: the job file is valid (%d source%s)", o->job_path, r.nsrc,
			 r.nsrc == 1 ? "" : "s");
		goto out;
	}
	char *statedir = cat3(r.output, "/", "state");
	if (atomic_mkdirs(r.output, &e) || atomic_mkdirs(r.work, &e) || atomic_mkdirs(statedir, &e)) {
		log_err(LOG_ERROR, &e);
		free(statedir);
		code = EXIT_FAILED;
		goto out;
	}
	r.started = clk_now();
	int usable = 0;
	for (int i = 0; i < r.nsrc; i++) {
		struct src *s = &r.src[i];
		s->raw = cat3(r.work, "/", s->name);
		char *base = s->raw;
		s->raw = cat3(base, ".raw", ".ndjson");
		s->canon = cat3(base, ".canon", ".ndjson");
		s->stats = cat3(base, ".stats", ".json");
		free(base);
		char *sb = cat3(statedir, "/", s->name);
		s->state = cat3(sb, ".json", "");
		free(sb);
		run_source(&r, s);
		if (s->exit == EXIT_COMPLETE || s->exit == EXIT_PARTIAL)
			usable++;
		code = i ? exit_combine(code, s->exit) : s->exit;
	}
	free(statedir);
	/* one source failing beside others that worked is a partial run */
	if (usable && code == EXIT_FAILED)
		code = EXIT_PARTIAL;
	if (usable) {
		run_final(&r);
		code = exit_combine(code, r.final_status[0]);
		code = exit_combine(code, r.final_status[1]);
	} else {
		log_msg(LOG_ERROR, "no source produced data: nothing was published, the previous "
				   "files in %s are untouched", r.output);
	}
	r.finished = clk_now();
	cJSON *rep = build_report(&r, code);
	char *txt = cJSON_Print(rep);
	char *rp = o->report_path ? strdup(o->report_path) : cat3(r.output, "/", "run-report.json");
	if (!txt || atomic_publish(rp, txt, strlen(txt), 0644, &e)) {
		log_err(LOG_ERROR, &e);
		code = exit_combine(code, EXIT_FAILED);
	}
	print_table(stdout, rep);
	printf("Run report (JSON): %s\n", rp);
	free(rp);
	free(txt);
	cJSON_Delete(rep);
out:
	for (int i = 0; i < r.nsrc; i++) {
		argv_free(&r.src[i].extract);
		free(r.src[i].raw);
		free(r.src[i].canon);
		free(r.src[i].stats);
		free(r.src[i].state);
	}
	free(r.output);
	free(r.work);
	free(r.jq);
	job_free(&r.job);
	return code;
}
