/* The job runner, part one: reading the job file and checking it whole
 * before anything runs (man 5 roster-job). */
#include "engine/runjob_int.h"
#include "core/log.h"
#include "format/jobfile.h"
#include "auth/creds.h"
#include "auth/secret.h"
#include "engine/ingest.h"
#include "engine/load.h"
#include "engine/vendor.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const struct norm_key rj_norm_keys[NNORM] = {
	{ROLE_RULES_KEY, "--role-rules", "group:NAME=ROLE; orgunit:/PATH=ROLE; default=ROLE"},
	{"status_codes", "--status-codes", "CODE=active; CODE=inactive; ..."},
};

/* Keys every [source] takes, whatever its type. */
static const struct job_key common_keys[] = {
	{"base_url", "--base-url", JK_PLAIN},   {"token_url", "--token-url", JK_PLAIN},
	{"rate", "--rate", JK_NUMBER},            {"page_size", "--page-size", JK_INTEGER},
	{"max_pages", "--max-pages", JK_INTEGER}, {"timeout", "--timeout", JK_NUMBER},
	{"ca_file", "--ca-file", JK_PATH},      {NULL, NULL, JK_PLAIN},
};

static const char *const job_keys[] = {"name", "output", "work", "deadline", "max_wait",
				       "log_format", "jq", "credentials", "credentials_key",
				       "hold_deletes", "hold_changes", "hold_floor", NULL};

/* The type named name; -1 when there is none. */
static int source_type(const char *name, struct source_type *t)
{
	if (!strcmp(name, DROP_TYPE)) {
		*t = (struct source_type){.type = DROP_TYPE, .program = "extract-sftp",
					  .keys = sftp_job_keys, .staging = 1};
		return 0;
	}
	const struct vendor *v = vendor_find(name);
	if (!v || !v->program)
		return -1;
	*t = (struct source_type){.type = v->name, .program = v->program, .keys = v->job_keys,
				  .streams_key = v->streams_key, .snapshot_key = v->snapshot_key};
	return 0;
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

/* A value that looks like a secret written in clear is refused, whatever
 * its key: the job file is read by more people than the store. */
static int refuse_clear_secret(struct run *r, const struct job_kv *kv, struct rt_err *e)
{
	const char *why = job_looks_secret(kv->value);
	if (!why)
		return 0;
	bad(r, kv->line, e, "%s: the value looks like %s written in clear", kv->key, why);
	err_hint(e, "secrets go in the credentials store (creds --file FILE set NAME) and the job "
		    "names them (client_secret = creds:NAME); if this is not a secret, write it "
		    "differently or file an issue");
	return -1;
}

static int add_source_args(struct run *r, struct src *s, struct rt_err *e)
{
	struct job_section *sec = s->sec;
	for (int i = 0; i < sec->nkv; i++) {
		struct job_kv *kv = &sec->kv[i];
		if (!strcmp(kv->key, "type"))
			continue;
		size_t nk = 0;
		while (nk < NNORM && strcmp(kv->key, rj_norm_keys[nk].key))
			nk++;
		if (nk < NNORM) {
			if (refuse_clear_secret(r, kv, e))
				return -1;
			if (!*kv->value) {
				bad(r, kv->line, e, "%s is empty: give %s or leave the key out", kv->key,
				    rj_norm_keys[nk].syntax);
				return -1;
			}
			s->norm[nk] = kv;
			continue;
		}
		const struct job_key *k = find_key(s->type.keys, kv->key);
		if (!k)
			k = find_key(common_keys, kv->key);
		if (k && k->kind != JK_SECRET && refuse_clear_secret(r, kv, e))
			return -1;
		if (!k) {
			char known[640] = "type, " ROLE_RULES_KEY ", status_codes";
			for (int pass = 0; pass < 2; pass++) {
				const struct job_key *ks = pass ? common_keys : s->type.keys;
				for (int n = 0; ks[n].key; n++) {
					size_t l = strlen(known);
					snprintf(known + l, sizeof known - l, ", %s", ks[n].key);
				}
			}
			bad(r, kv->line, e, "unknown key '%s' for a %s source", kv->key,
			    s->type.type);
			err_hint(e, "known keys: %s", known);
			return -1;
		}
		if (k->kind == JK_SECRET) {
			if (!creds_is_ref(kv->value)) {
				bad(r, kv->line, e, "%s must name a stored secret (creds:NAME), not "
						    "hold it%s", kv->key,
				    strncmp(kv->value, "env:", 4) ? ""
					: " (secrets are no longer read from the environment)");
				err_hint(e, "a secret never goes in a job file: store it with "
					    "creds --file FILE set NAME, then write %s = creds:NAME",
					 kv->key);
				return -1;
			}
			if (s->nsecret >= (int)(sizeof s->secret / sizeof s->secret[0]))
				return bad(r, kv->line, e, "too many secrets in one source (%s)%s",
					   kv->key, "");
			s->secret[s->nsecret++] = kv;
			rj_argv_add(&s->extract, k->flag);
			rj_argv_add(&s->extract, kv->value);
		} else if (k->kind == JK_NUMBER || k->kind == JK_INTEGER) {
			double d;
			if (job_number(kv->value, k->kind == JK_INTEGER, &d)) {
				err_set(e, ERR_USAGE, "%s:%d: %s: '%s' is not a positive %s", r->job.path,
					kv->line, kv->key, kv->value,
					k->kind == JK_INTEGER ? "whole number" : "number");
				return -1;
			}
			rj_argv_add(&s->extract, k->flag);
			rj_argv_add(&s->extract, kv->value);
		} else if (k->kind == JK_FLAG) {
			int on;
			if (job_flag(kv->value, &on))
				return bad(r, kv->line, e, "%s: '%s' is not yes or no", kv->key,
					   kv->value);
			if (on)
				rj_argv_add(&s->extract, k->flag);
			if (s->type.snapshot_key && !strcmp(k->key, s->type.snapshot_key))
				s->wants_snapshot = on;
		} else if (k->kind == JK_PATH) {
			char *p = job_path(&r->job, kv->value);
			rj_argv_add(&s->extract, k->flag);
			rj_argv_add(&s->extract, p);
			free(p);
		} else {
			rj_argv_add(&s->extract, k->flag);
			rj_argv_add(&s->extract, kv->value);
		}
	}
	return 0;
}

/* The vendor whose raw streams the source reads: its type, or for a file
 * drop the vendor of its profile (the extractor refuses a bad profile
 * itself, but the runner needs the vendor to know what it feeds). */
static int set_vendor(struct run *r, struct src *s, struct rt_err *e)
{
	if (!s->type.staging) {
		s->vendor = vendor_find(s->type.type);
		return 0;
	}
	const char *profile = job_get(s->sec, "profile");
	const struct drop_profile *p = profile ? vendor_drop_profile(profile, &s->vendor) : NULL;
	if (!p) {
		char known[256] = "";
		for (size_t i = 0; (p = vendor_drop_nth(i, NULL)); i++) {
			size_t l = strlen(known);
			snprintf(known + l, sizeof known - l, "%s%s", i ? ", " : "", p->name);
		}
		bad(r, profile ? job_line(s->sec, "profile") : s->sec->line, e,
		    profile ? "unknown profile '%s'%s" : "[source %s] needs profile = (the drop's "
							 "format)%s",
		    profile ? profile : s->name, "");
		err_hint(e, "known profiles: %s (see extract-sftp --help)", known);
		return -1;
	}
	return 0;
}

/* Every secret the job names is in the store and decrypts under its key,
 * before anything runs: a bad key or an altered store is a configuration
 * error (exit 2), not a night of failed sources. Each secret is wiped as
 * soon as it is checked; the extractors read their own. */
static int check_store(struct run *r, struct rt_err *e)
{
	struct creds c;
	int opened = 0, rc = 0;
	for (int i = 0; i < r->nsrc && !rc; i++) {
		struct src *s = &r->src[i];
		for (int j = 0; j < s->nsecret && !rc; j++) {
			const struct job_kv *kv = s->secret[j];
			char *secret;
			if (!r->creds) {
				bad(r, kv->line, e, "%s = %s, but the job names no credentials file",
				    kv->key, kv->value);
				err_hint(e, "add credentials = FILE to [job] (the file creds set writes)");
				return -1;
			}
			if (!opened && creds_open(&c, r->creds, r->creds_key, 0, e))
				return -1;
			opened = 1;
			if (creds_get(&c, kv->value + 6, &secret, NULL, e)) {
				char msg[sizeof e->msg];
				snprintf(msg, sizeof msg, "%s", e->msg);
				err_set(e, ERR_CONFIG, "%s:%d: %s = %s: %s", r->job.path, kv->line,
					kv->key, kv->value, msg);
				rc = -1;
			}
			secret_free(secret);
		}
		if (s->nsecret) {
			rj_argv_add(&s->extract, "--credentials");
			rj_argv_add(&s->extract, r->creds);
			rj_argv_add(&s->extract, "--credentials-key");
			rj_argv_add(&s->extract, r->creds_key);
		}
	}
	if (opened)
		creds_close(&c);
	return rc;
}

/* hold_deletes, hold_changes (load-csv's limits: 10%, 500, off, or per
 * stream: people=5%,memberships=20%) and hold_floor (a count of rows),
 * checked here so that a bad one stops the job before any source runs. */
static int check_holds(struct run *r, struct job_section *job, struct rt_err *e)
{
	static const char *const keys[] = {"hold_deletes", "hold_changes", "hold_floor"};
	struct load_opts lo;
	struct rt_err why;
	load_opts_init(&lo);
	for (int k = 0; k < 3; k++) {
		const char *v = job_get(job, keys[k]);
		char *end;
		r->hold[k] = v;
		err_clear(&why);
		if (!v)
			continue;
		if (k < 2 && load_limits_parse(&lo, k ? 'c' : 'd', v, &why)) {
			err_set(e, ERR_USAGE, "%s:%d: %s: %s", r->job.path, job_line(job, keys[k]),
				keys[k], why.msg);
			return -1;
		}
		if (k == 2 && (strtol(v, &end, 10) < 0 || end == v || *end))
			return bad(r, job_line(job, keys[k]), e,
				   "hold_floor: '%s' is not a count of rows%s", v, "");
	}
	return 0;
}

/* The [job] section: its keys, the output and work folders, durations,
 * the log format, the jq program and the credentials store. */
static int check_job(struct run *r, struct job_section *job, struct rt_err *e)
{
	for (int i = 0; i < job->nkv; i++) {
		int ok = 0;
		for (int k = 0; job_keys[k]; k++)
			ok |= !strcmp(job_keys[k], job->kv[i].key);
		if (!ok) {
			char known[200] = "";
			for (int k = 0; job_keys[k]; k++) {
				size_t l = strlen(known);
				snprintf(known + l, sizeof known - l, "%s%s", k ? ", " : "", job_keys[k]);
			}
			bad(r, job->kv[i].line, e, "unknown key '%s' in [job]%s", job->kv[i].key, "");
			err_hint(e, "known keys: %s", known);
			return -1;
		}
		if (refuse_clear_secret(r, &job->kv[i], e))
			return -1;
	}
	const char *out = job_get(job, "output");
	if (!out)
		return bad(r, job->line, e, "[job] needs output = FOLDER%s%s", "", "");
	r->output = job_path(&r->job, out);
	const char *work = job_get(job, "work");
	r->work = work ? job_path(&r->job, work) : rj_cat3(r->output, "/", ".work");
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
	if (v && !(r->max_wait > 0))
		return bad(r, job_line(job, "max_wait"), e,
			   "max_wait: '%s' must be more than 0 seconds%s", v, "");
	r->log_format = job_get(job, "log_format");
	enum log_format lf;
	if (r->log_format && log_parse_format(r->log_format, &lf))
		return bad(r, job_line(job, "log_format"), e, "log_format: '%s' is not text or json%s",
			   r->log_format, "");
	if ((v = job_get(job, "jq")))
		r->jq = job_path(&r->job, v);
	if (check_holds(r, job, e))
		return -1;
	/* the job's path is relative to the job file; the variable's, as for
	 * creds and the extractors, to the current folder */
	if ((v = job_get(job, "credentials")))
		r->creds = job_path(&r->job, v);
	else if ((v = getenv("ROSTER_CREDENTIALS")) && *v)
		r->creds = strdup(v);
	if ((v = job_get(job, "credentials_key")))
		r->creds_key = job_path(&r->job, v);
	else if (r->creds)
		r->creds_key = rj_cat3(r->creds, ".key", "");
	return 0;
}

/* One [source NAME] section: its name, type, keys and vendor. */
static int check_source(struct run *r, struct job_section *sec, struct rt_err *e)
{
	if (!*sec->name ||
	    strspn(sec->name, "abcdefghijklmnopqrstuvwxyz0123456789_-") != strlen(sec->name))
		return bad(r, sec->line, e,
			   "a source needs a name of lower-case letters, digits, - and _: [source %s]%s",
			   sec->name, "");
	if (r->nsrc >= 16)
		return bad(r, sec->line, e, "at most 16 sources in a job%s%s", "", "");
	const char *type = job_get(sec, "type");
	char types[200] = "";
	const struct vendor *v;
	for (size_t t = 0; (v = vendor_api_nth(t)); t++) {
		size_t l = strlen(types);
		snprintf(types + l, sizeof types - l, "%s, ", v->name);
	}
	snprintf(types + strlen(types), sizeof types - strlen(types), "%s", DROP_TYPE);
	if (!type)
		return bad(r, sec->line, e, "[source %s] needs type = (one of: %s)", sec->name, types);
	struct src *s = &r->src[r->nsrc++];
	s->name = sec->name;
	s->sec = sec;
	if (source_type(type, &s->type))
		return bad(r, job_line(sec, "type"), e, "unknown source type '%s' (known: %s)", type,
			   types);
	char *prog = rj_cat3(r->o->bindir, "/", s->type.program);
	rj_argv_add(&s->extract, prog);
	free(prog);
	if (add_source_args(r, s, e) || set_vendor(r, s, e))
		return -1;
	return 0;
}

int rj_validate(struct run *r, struct rt_err *e)
{
	struct job_section *job = job_section(&r->job, "job", NULL);
	if (!job) {
		err_set(e, ERR_USAGE, "%s: no [job] section", r->job.path);
		err_hint(e, "start the file with [job] and output = FOLDER");
		return -1;
	}
	if (check_job(r, job, e))
		return -1;
	for (int i = 0; i < r->job.nsec; i++) {
		struct job_section *sec = &r->job.sec[i];
		if (!strcmp(sec->kind, "job"))
			continue;
		if (strcmp(sec->kind, "source"))
			return bad(r, sec->line, e, "unknown section [%s]; expected [job] or [source NAME]%s",
				   sec->kind, "");
		if (check_source(r, sec, e))
			return -1;
	}
	if (!r->nsrc)
		return bad(r, job->line, e, "the job has no [source NAME] section%s%s", "", "");
	return check_store(r, e);
}
