#include "engine/runjob.h"
#include "core/atomic.h"
#include "core/buf.h"
#include "core/clock.h"
#include "core/exitcode.h"
#include "core/log.h"
#include "core/spawn.h"
#include "core/wordlist.h"
#include "format/canon.h"
#include "format/jobfile.h"
#include "format/singer.h"
#include "auth/creds.h"
#include "auth/secret.h"
#include "engine/dedupe.h"
#include "engine/drop.h"
#include "engine/ingest.h"
#include "engine/mapping.h"
#include "vendor/clever/clever.h"
#include "vendor/google/google.h"
#include "vendor/graph/graph.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

extern char **environ;

/* How long dedupe | load-csv may run, from when they start, when the job
 * has a deadline: local work, so the sources' deadline is not theirs. */
#define FINAL_ALLOWANCE 600

/* At most this many names per reconciliation list in the printed report;
 * run-report.json has them all. */
#define RECONCILE_SHOWN 10

/* The source types the runner knows: extractor program, job keys, the
 * key (if any) that picks which of its raw streams a source reads, as a
 * comma-separated list of the names after "<type>_", and the yes/no key
 * (if any) that makes the extractor keep a snapshot between runs: run-job
 * then adds --snapshot OUTPUT/state/NAME.snapshot, beside its STATE; and
 * whether it keeps a staging folder (downloads and their ledger) there:
 * --staging OUTPUT/state/NAME.staging. A file drop (sftp) reads the raw
 * streams of the vendor its profile names (munis_, clever_, ...). */
static const struct source_type {
	const char *type;
	const char *program;
	const struct job_key *keys;
	const char *streams_key;
	const char *snapshot_key;
	int staging;
} source_types[] = {
	{"clever", "extract-clever", clever_job_keys, "streams", NULL, 0},
	{"graph", "extract-graph", graph_job_keys, "streams", "delta", 0},
	{"google", "extract-google", google_job_keys, "streams", NULL, 0},
	{"sftp", "extract-sftp", sftp_job_keys, NULL, NULL, 1},
};
#define NTYPES (sizeof source_types / sizeof source_types[0])

/* Keys a [source] takes that go to its normalize, not its extractor:
 * normalize knows their syntax and refuses a bad value (exit 2). */
#define ROLE_RULES_KEY "role_rules"
static const struct norm_key {
	const char *key, *flag, *syntax;
} norm_keys[] = {
	{ROLE_RULES_KEY, "--role-rules", "group:NAME=ROLE; orgunit:/PATH=ROLE; default=ROLE"},
	{"status_codes", "--status-codes", "CODE=active; CODE=inactive; ..."},
};
#define NNORM (sizeof norm_keys / sizeof norm_keys[0])

/* Keys every [source] takes, whatever its type. */
static const struct job_key common_keys[] = {
	{"base_url", "--base-url", JK_PLAIN},   {"token_url", "--token-url", JK_PLAIN},
	{"rate", "--rate", JK_NUMBER},            {"page_size", "--page-size", JK_INTEGER},
	{"max_pages", "--max-pages", JK_INTEGER}, {"timeout", "--timeout", JK_NUMBER},
	{"ca_file", "--ca-file", JK_PATH},      {NULL, NULL, JK_PLAIN},
};

static const char *const job_keys[] = {"name", "output", "work", "deadline", "max_wait",
				       "log_format", "jq", "credentials", "credentials_key",
				       NULL};

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
	char *snapshot;              /* --snapshot FILE for the extractor, or NULL */
	int wants_snapshot;          /* its type's snapshot_key is yes */
	const struct job_kv *norm[NNORM]; /* keys for normalize (norm_keys), or NULL */
	char prefix[32];             /* its raw streams are <prefix>_<entity> */
	char *staging;               /* --staging FOLDER for the extractor, or NULL */
	int people_done;             /* its canonical file activated the people stream */
	const struct job_kv *secret[8]; /* its JK_SECRET keys (creds:NAME) */
	int nsecret;
	int status[3]; /* extract, tee, normalize */
	int killed;    /* the deadline kill was needed */
	int exit;
};

struct run {
	const struct runjob_opts *o;
	struct job job;
	char *output, *work, *jq;
	char *creds, *creds_key; /* the credentials store and its key, when named */
	const char *name;
	const char *log_format;
	double deadline; /* seconds, 0 = none */
	double max_wait;
	struct src src[16];
	int nsrc;
	int final_status[2]; /* dedupe, load-csv; SPAWN_NOT_RUN when not run */
	int final_killed;    /* the final stage's allowance ran out */
	int final_tried;     /* dedupe | load-csv was to run */
	int final_ran;       /* load-csv was started this run */
	char *reconcile;     /* dedupe --reconcile FILE, in the work folder */
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
		while (nk < NNORM && strcmp(kv->key, norm_keys[nk].key))
			nk++;
		if (nk < NNORM) {
			if (refuse_clear_secret(r, kv, e))
				return -1;
			if (!*kv->value) {
				bad(r, kv->line, e, "%s is empty: give %s or leave the key out", kv->key,
				    norm_keys[nk].syntax);
				return -1;
			}
			s->norm[nk] = kv;
			continue;
		}
		const struct job_key *k = find_key(s->type->keys, kv->key);
		if (!k)
			k = find_key(common_keys, kv->key);
		if (k && k->kind != JK_SECRET && refuse_clear_secret(r, kv, e))
			return -1;
		if (!k) {
			char known[640] = "type, " ROLE_RULES_KEY ", status_codes";
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
			argv_add(&s->extract, k->flag);
			argv_add(&s->extract, kv->value);
		} else if (k->kind == JK_NUMBER || k->kind == JK_INTEGER) {
			double d;
			if (job_number(kv->value, k->kind == JK_INTEGER, &d)) {
				err_set(e, ERR_USAGE, "%s:%d: %s: '%s' is not a positive %s", r->job.path,
					kv->line, kv->key, kv->value,
					k->kind == JK_INTEGER ? "whole number" : "number");
				return -1;
			}
			argv_add(&s->extract, k->flag);
			argv_add(&s->extract, kv->value);
		} else if (k->kind == JK_FLAG) {
			int on;
			if (job_flag(kv->value, &on))
				return bad(r, kv->line, e, "%s: '%s' is not yes or no", kv->key,
					   kv->value);
			if (on)
				argv_add(&s->extract, k->flag);
			if (s->type->snapshot_key && !strcmp(k->key, s->type->snapshot_key))
				s->wants_snapshot = on;
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

/* The vendor whose raw streams the source reads: its type, or for a file
 * drop the vendor of its profile (the extractor refuses a bad profile
 * itself, but the runner needs the vendor to know what it feeds). */
static int set_prefix(struct run *r, struct src *s, struct rt_err *e)
{
	const char *profile = NULL;
	if (!s->type->staging) {
		snprintf(s->prefix, sizeof s->prefix, "%s", s->type->type);
		return 0;
	}
	profile = job_get(s->sec, "profile");
	const struct drop_profile *p = profile ? drop_profile_find(profile) : NULL;
	if (!p || !p->files[0].stream) {
		char known[256] = "";
		for (int i = 0; drop_profiles[i]; i++) {
			size_t l = strlen(known);
			snprintf(known + l, sizeof known - l, "%s%s", i ? ", " : "",
				 drop_profiles[i]->name);
		}
		bad(r, profile ? job_line(s->sec, "profile") : s->sec->line, e,
		    profile ? "unknown profile '%s'%s" : "[source %s] needs profile = (the drop's "
							 "format)%s",
		    profile ? profile : s->name, "");
		err_hint(e, "known profiles: %s (see extract-sftp --help)", known);
		return -1;
	}
	const char *st = p->files[0].stream, *us = strchr(st, '_');
	snprintf(s->prefix, sizeof s->prefix, "%.*s", us ? (int)(us - st) : (int)strlen(st), st);
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
			argv_add(&s->extract, "--credentials");
			argv_add(&s->extract, r->creds);
			argv_add(&s->extract, "--credentials-key");
			argv_add(&s->extract, r->creds_key);
		}
	}
	if (opened)
		creds_close(&c);
	return rc;
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
			err_hint(e, "known keys: name, output, work, deadline, max_wait, log_format, "
				    "jq, credentials, credentials_key");
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
	/* the job's path is relative to the job file; the variable's, as for
	 * creds and the extractors, to the current folder */
	if ((v = job_get(job, "credentials")))
		r->creds = job_path(&r->job, v);
	else if ((v = getenv("ROSTER_CREDENTIALS")) && *v)
		r->creds = strdup(v);
	if ((v = job_get(job, "credentials_key")))
		r->creds_key = job_path(&r->job, v);
	else if (r->creds)
		r->creds_key = cat3(r->creds, ".key", "");
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
		char types[200] = "";
		for (size_t t = 0; t < NTYPES; t++) {
			size_t l = strlen(types);
			snprintf(types + l, sizeof types - l, "%s%s", t ? ", " : "", source_types[t].type);
		}
		if (!type)
			return bad(r, sec->line, e, "[source %s] needs type = (one of: %s)", sec->name,
				   types);
		struct src *s = &r->src[r->nsrc++];
		s->name = sec->name;
		s->sec = sec;
		for (size_t t = 0; t < NTYPES; t++)
			if (!strcmp(source_types[t].type, type))
				s->type = &source_types[t];
		if (!s->type)
			return bad(r, job_line(sec, "type"), e, "unknown source type '%s' (known: %s)",
				   type, types);
		char *prog = cat3(r->o->bindir, "/", s->type->program);
		argv_add(&s->extract, prog);
		free(prog);
		if (add_source_args(r, s, e))
			return -1;
		if (set_prefix(r, s, e))
			return -1;
	}
	if (!r->nsrc)
		return bad(r, job->line, e, "the job has no [source NAME] section%s%s", "", "");
	return check_store(r, e);
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

static int usable(const struct src *s)
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

static int reads_type(const struct src *s, const char *raw)
{
	size_t tl = strlen(s->prefix);
	return !strncmp(raw, s->prefix, tl) && raw[tl] == '_';
}

/* Whether the source reads raw stream raw ("clever_users"): every stream
 * of its type, unless its job names some (streams = users,terms). */
static int reads(struct src *s, const char *raw)
{
	size_t tl = strlen(s->prefix);
	if (!reads_type(s, raw))
		return 0;
	const char *list = s->type->streams_key ? job_get(s->sec, s->type->streams_key) : NULL;
	if (!list)
		return 1;
	return list_has(list, raw + tl + 1);
}

/* Adds to feeds the canonical streams fed by the raw streams the source
 * reads (all: by every raw stream of its type); returns the new count. */
static int add_feeds(struct src *s, int all, const char **feeds, int nfeeds, int max)
{
	const struct mapper *m;
	for (size_t i = 0; (m = mapping_nth(i)); i++) {
		if (all ? !reads_type(s, m->raw) : !reads(s, m->raw))
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
	int nfeeds = add_feeds(s, 0, feeds, 0, 32);
	if (!nfeeds)
		nfeeds = add_feeds(s, 1, feeds, 0, 32);
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
	if (s->snapshot) {
		argv_add(&s->extract, "--snapshot");
		argv_add(&s->extract, s->snapshot);
	}
	if (s->staging) {
		argv_add(&s->extract, "--staging");
		argv_add(&s->extract, s->staging);
	}
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
	for (size_t k = 0; k < NNORM; k++)
		if (s->norm[k]) {
			argv_add(&norm, norm_keys[k].flag);
			argv_add(&norm, s->norm[k]->value);
		}
	if (r->log_format) {
		argv_add(&norm, "--log-format");
		argv_add(&norm, r->log_format);
	}
	char *const *stages[] = {s->extract.v, tee.v, norm.v};
	char **own = stage_env(s), **none = stage_env(NULL);
	char *const *envs[] = {own, none, none};
	log_info("source %s: %s | normalize", s->name, s->type->program);
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
	/* last night's must not pass for tonight's when dedupe stops early */
	r->reconcile = cat3(r->work, "/", "reconcile.json");
	if (r->reconcile && unlink(r->reconcile) && errno != ENOENT) {
		log_warn("%s: cannot remove the last run's reconciliation (%s): none this run",
			 r->reconcile, strerror(errno));
		free(r->reconcile);
		r->reconcile = NULL;
	}
	if (r->reconcile) {
		argv_add(&dd, "--reconcile");
		argv_add(&dd, r->reconcile);
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
	free(env);
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

/* What became of a pipeline's stages, for the report: the ones that did
 * not end 0 or 3 (partial: their streams say what failed), stages that
 * ended alike named together ("extract-clever and normalize were killed by
 * SIGTERM after the deadline"). "" when none failed. */
static void stage_words(char *out, size_t n, const char *const *prog, const int *status,
			int nstages, int killed)
{
	int done[4] = {0};
	out[0] = 0;
	for (int i = 0; i < nstages; i++) {
		int st = status[i];
		if (done[i] || st == EXIT_COMPLETE || st == EXIT_PARTIAL)
			continue;
		size_t l = strlen(out);
		int same = 0;
		for (int j = i + 1; j < nstages; j++)
			same += status[j] == st;
		snprintf(out + l, n - l, "%s%s", l ? "; " : "", prog[i]);
		for (int j = i + 1, k = 0; j < nstages; j++)
			if (status[j] == st) {
				done[j] = 1;
				l = strlen(out);
				snprintf(out + l, n - l, "%s%s", ++k == same ? " and " : ", ", prog[j]);
			}
		const char *was = same ? "were" : "was";
		l = strlen(out);
		if (st == SPAWN_NOT_RUN) {
			snprintf(out + l, n - l, " did not run, or %s exit status was lost",
				 same ? "their" : "its");
		} else if (st > SPAWN_SIGNALED && st < SPAWN_SIGNALED + 65) {
			int sig = st - SPAWN_SIGNALED;
			const char *name = sigabbrev_np(sig);
			char num[16];
			if (!name) {
				snprintf(num, sizeof num, "%d", sig);
				name = num;
			}
			snprintf(out + l, n - l, " %s killed by SIG%s%s", was, name,
				 killed && (sig == SIGTERM || sig == SIGKILL) ? " after the deadline"
				 : sig == SIGPIPE ? " (the next stage had stopped reading)"
						  : "");
		} else if (st == SPAWN_CANNOT_EXEC) {
			snprintf(out + l, n - l, " could not be started (exit 127)");
		} else {
			snprintf(out + l, n - l, " exited %d (%s)", st, exit_word(st));
		}
	}
}

/* The manifest's files, when load-csv wrote it during this run; NULL when
 * the manifest there is an older run's (or missing). */
static cJSON *this_runs_outputs(struct run *r)
{
	char started[40];
	if (!r->final_ran)
		return NULL;
	char *mp = cat3(r->output, "/", "manifest.json");
	cJSON *man = read_json(mp);
	free(mp);
	/* the same fixed-width ISO 8601 form on both sides: compared as text */
	clk_iso8601(r->started, started, sizeof started);
	const char *gen = jstr(man, "generated_at");
	cJSON *files = strlen(gen) == strlen(started) && strcmp(gen, started) >= 0
			       ? cJSON_DetachItemFromObjectCaseSensitive(man, "files")
			       : NULL;
	cJSON_Delete(man);
	if (files && !cJSON_IsArray(files)) {
		cJSON_Delete(files);
		files = NULL;
	}
	return files;
}

/* ---- the reconciliation (offboarding) ---- */

/* Whether a canonical file activated the people stream: normalize does so
 * only when the source's people were read completely. */
static int people_activated(const char *path)
{
	static const char tag[] = "{\"type\":\"ACTIVATE_VERSION\",\"stream\":\"people\"";
	FILE *f = fopen(path, "r");
	char *line = NULL;
	size_t cap = 0;
	int found = 0;
	if (!f)
		return 0;
	while (!found && getline(&line, &cap, f) > 0)
		found = !strncmp(line, tag, sizeof tag - 1);
	free(line);
	fclose(f);
	return found;
}

/* Whether the source is to read people: a raw stream it reads feeds them,
 * or the mapping does not know its type's streams (then assume it does). */
static int feeds_people(struct src *s)
{
	const char *feeds[32], *all[32];
	int n = add_feeds(s, 0, feeds, 0, 32);
	if (!add_feeds(s, 1, all, 0, 32))
		return 1;
	for (int i = 0; i < n; i++)
		if (!strcmp(feeds[i], "people"))
			return 1;
	return 0;
}

/* Why a type's people are not complete this run, as words in why, or
 * NULL: a source of that type that was to read people failed or did not
 * activate them. dedupe cannot see this when such a source wrote no
 * people record at all (or another source of the type did). */
static const char *type_gap(struct run *r, const char *type, char *why, size_t n)
{
	why[0] = 0;
	for (int i = 0; i < r->nsrc; i++) {
		struct src *s = &r->src[i];
		if (strcmp(s->prefix, type) || s->people_done || !feeds_people(s))
			continue;
		size_t l = strlen(why);
		snprintf(why + l, n - l, "%ssource %s %s", l ? "; " : "", s->name,
			 usable(s) ? "did not read all its people" : "failed");
	}
	return *why ? why : NULL;
}

static cJSON *find_pair(const cJSON *arr, const char *dir, const char *roster)
{
	cJSON *p;
	cJSON_ArrayForEach(p, arr)
		if (!strcmp(jstr(p, "directory"), dir) && !strcmp(jstr(p, "roster"), roster))
			return p;
	return NULL;
}

/* One side's names, in the job's order: the types of its sources that
 * were to read people, then any other source dedupe saw. */
static int side_names(struct run *r, const cJSON *sources, int directory, const char **names,
		      int max)
{
	const cJSON *s;
	int n = 0;
	for (int i = 0; i <= r->nsrc; i++) {
		const char *t = i < r->nsrc ? r->src[i].prefix : NULL;
		if (t && (dedupe_is_directory(t) != directory || !feeds_people(&r->src[i]) ||
			  (!directory && !dedupe_is_roster(t))))
			continue;
		cJSON_ArrayForEach(s, sources) {
			const char *name = jstr(s, "source"), *kind = jstr(s, "kind");
			int seen = 0;
			if (t ? strcmp(name, t) != 0
			      : directory ? strcmp(kind, "directory") != 0
					  : strcmp(kind, "roster") && strcmp(kind, "staff roster"))
				continue;
			for (int k = 0; k < n; k++)
				seen |= !strcmp(names[k], name);
			if (!seen && n < max)
				names[n++] = name;
		}
		int seen = !t;
		for (int k = 0; t && k < n; k++)
			seen |= !strcmp(names[k], t);
		if (!seen && n < max)
			names[n++] = t;
	}
	return n;
}

/* Whether dedupe saw the source (*seen) and found its people complete. */
static int dedupe_complete(const cJSON *sources, const char *name, int *seen)
{
	const cJSON *s;
	*seen = 0;
	cJSON_ArrayForEach(s, sources)
		if (!strcmp(jstr(s, "source"), name)) {
			*seen = 1;
			return cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(s, "complete"));
		}
	return 0;
}

/* The pair's skip reason ("google people incomplete (source gws failed)")
 * into out, or "" when both sides are complete. */
static void pair_gap(struct run *r, const cJSON *sources, const char *dir, const char *roster,
		     char *out, size_t n)
{
	const char *side[2] = {dir, roster};
	char why[2][300], names[200] = "", detail[620] = "";
	for (int i = 0; i < 2; i++) {
		int seen, done = dedupe_complete(sources, side[i], &seen);
		const char *gap = type_gap(r, side[i], why[i], sizeof why[i]);
		if (done && !gap)
			continue;
		if (!gap && !seen) /* activated, but not one person: nothing to compare */
			snprintf(why[i], sizeof why[i], "%s read no people", side[i]);
		size_t l = strlen(names);
		snprintf(names + l, sizeof names - l, "%s%s", l ? " and " : "", side[i]);
		if (gap || !seen) {
			l = strlen(detail);
			snprintf(detail + l, sizeof detail - l, "%s%s", l ? "; " : "", why[i]);
		}
	}
	if (!*names)
		out[0] = 0;
	else
		snprintf(out, n, "%s people incomplete%s%s%s", names, *detail ? " (" : "", detail,
			 *detail ? ")" : "");
}

/* What dedupe --reconcile wrote, with the pairs this run could not compare
 * moved to "skipped"; NULL when the job has no directory source and
 * dedupe wrote nothing. */
static cJSON *reconciliation(struct run *r)
{
	int ndir = 0;
	for (int i = 0; i < r->nsrc; i++)
		ndir += dedupe_is_directory(r->src[i].prefix);
	int ran = r->final_status[0] == EXIT_COMPLETE || r->final_status[0] == EXIT_PARTIAL;
	cJSON *rec = r->reconcile && ran ? read_json(r->reconcile) : NULL;
	cJSON *sources = cJSON_GetObjectItemCaseSensitive(rec, "sources");
	cJSON *pairs = cJSON_GetObjectItemCaseSensitive(rec, "pairs");
	cJSON *skipped = cJSON_GetObjectItemCaseSensitive(rec, "skipped");
	if (!cJSON_IsArray(sources) || !cJSON_IsArray(pairs) || !cJSON_IsArray(skipped)) {
		char why[200];
		cJSON_Delete(rec);
		if (!ndir)
			return NULL;
		if (!r->final_tried)
			snprintf(why, sizeof why, "not made: no source produced data, so dedupe did "
						  "not run");
		else if (!ran)
			snprintf(why, sizeof why, "not made: dedupe %s",
				 r->final_status[0] == SPAWN_NOT_RUN ? "did not run" : "failed");
		else
			snprintf(why, sizeof why, "not made: dedupe wrote no reconciliation (see "
						  "its messages)");
		rec = cJSON_CreateObject();
		cJSON_AddStringToObject(rec, "error", why);
		return rec;
	}
	const char *dn[32], *rn[32];
	int nd = side_names(r, sources, 1, dn, 32), nr = side_names(r, sources, 0, rn, 32);
	for (int i = 0; i < nd; i++)
		for (int j = 0; j < nr; j++) {
			char reason[900];
			pair_gap(r, sources, dn[i], rn[j], reason, sizeof reason);
			cJSON *p = find_pair(pairs, dn[i], rn[j]);
			if (!*reason && p)
				continue;
			if (!*reason) /* cannot be: dedupe compares every complete pair */
				snprintf(reason, sizeof reason, "not compared by dedupe");
			cJSON *sk = find_pair(skipped, dn[i], rn[j]);
			if (!sk) {
				sk = cJSON_CreateObject();
				cJSON_AddStringToObject(sk, "directory", dn[i]);
				cJSON_AddStringToObject(sk, "roster", rn[j]);
				cJSON_AddItemToArray(skipped, sk);
			}
			cJSON_DeleteItemFromObjectCaseSensitive(sk, "reason");
			cJSON_AddStringToObject(sk, "reason", reason);
			if (p)
				cJSON_Delete(cJSON_DetachItemViaPointer(pairs, p));
		}
	/* both lists in the job's order of directories, then rosters */
	const char *keys[2] = {"pairs", "skipped"};
	for (int l = 0; l < 2; l++) {
		cJSON *old = cJSON_DetachItemFromObjectCaseSensitive(rec, keys[l]), *p;
		cJSON *sorted = cJSON_AddArrayToObject(rec, keys[l]);
		for (int i = 0; i < nd; i++)
			for (int j = 0; j < nr; j++)
				while ((p = find_pair(old, dn[i], rn[j])))
					cJSON_AddItemToArray(sorted, cJSON_DetachItemViaPointer(old, p));
		while (old && old->child) /* pairs of names neither side lists (none expected) */
			cJSON_AddItemToArray(sorted, cJSON_DetachItemViaPointer(old, old->child));
		cJSON_Delete(old);
	}
	return rec;
}

static cJSON *build_report(struct run *r, int code)
{
	char ts[40], words[600];
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
		const char *names[] = {s->type->program, "tee", "normalize"};
		stage_words(words, sizeof words, names, s->status, 3, s->killed);
		if (*words)
			cJSON_AddStringToObject(o, "failure", words);
		if (s->status[2] == EXIT_USAGE) {
			/* upstream stages then die of a closed pipe: say which one to fix */
			char hint[600];
			const struct job_kv *kv = NULL;
			for (size_t k = 0; k < NNORM && !kv; k++)
				kv = s->norm[k];
			if (kv)
				snprintf(hint, sizeof hint, "normalize refused its configuration: check "
					 "%s = %.300s (%s:%d); normalize's own message is in "
					 "run-job's error output", kv->key, kv->value, r->job.path,
					 kv->line);
			else
				snprintf(hint, sizeof hint, "normalize refused its configuration%s; "
					 "normalize's own message is in run-job's error output",
					 r->jq ? ": check the job's jq program" : "");
			cJSON_AddStringToObject(o, "hint", hint);
		}
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
	static const char *const final_names[] = {"dedupe", "load-csv"};
	words[0] = 0;
	if (r->final_tried)
		stage_words(words, sizeof words, final_names, r->final_status, 2, r->final_killed);
	if (*words)
		cJSON_AddStringToObject(rep, "failure", words);
	cJSON *files = this_runs_outputs(r);
	cJSON_AddItemToObject(rep, "outputs", files ? files : cJSON_CreateArray());
	if (!files)
		cJSON_AddStringToObject(rep, "outputs_note",
					!r->final_ran
						? "nothing published this run; the previous files are "
						  "untouched"
						: "load-csv ran but wrote no manifest this run (see its "
						  "messages): which files it replaced is not known");
	cJSON *rec = reconciliation(r);
	if (rec)
		cJSON_AddItemToObject(rep, "reconciliation", rec);
	return rep;
}

/* Up to RECONCILE_SHOWN people of one list, a line each. */
static void print_people(FILE *f, const cJSON *pair, const char *list, const char *title,
			 const char *reason_key, const char *rp)
{
	const cJSON *all = cJSON_GetObjectItemCaseSensitive(pair, list), *p;
	int n = cJSON_GetArraySize(all), k = 0;
	if (!n)
		return;
	fprintf(f, "    %s:\n", title);
	cJSON_ArrayForEach(p, all) {
		if (k++ == RECONCILE_SHOWN) {
			fprintf(f, "      ... and %d more (see %s)\n", n - RECONCILE_SHOWN, rp);
			break;
		}
		const char *given = jstr(p, "given_name"), *family = jstr(p, "family_name");
		const char *email = jstr(p, "email"), *role = jstr(p, "role");
		const char *why = reason_key ? jstr(p, reason_key) : "";
		if (*given || *family)
			fprintf(f, "      %s%s%s", given, *given && *family ? " " : "", family);
		else
			fprintf(f, "      %s", jstr(p, "id"));
		fprintf(f, "%s%s%s%s%s%s%s%s\n", *email ? " <" : "", email, *email ? ">" : "",
			*role ? " (" : "", role, *role ? ")" : "", *why ? ": " : "", why);
	}
}

/* The reconciliation: a line per pair of a directory and a roster, then
 * the people of each list. Nothing when the job has no directory source. */
static void print_reconciliation(FILE *f, const cJSON *rep, const char *rp)
{
	const cJSON *rec = cJSON_GetObjectItemCaseSensitive(rep, "reconciliation"), *p;
	const cJSON *pairs = cJSON_GetObjectItemCaseSensitive(rec, "pairs");
	const cJSON *skipped = cJSON_GetObjectItemCaseSensitive(rec, "skipped");
	if (*jstr(rec, "error")) {
		fprintf(f, "\nReconciliation of directory accounts and rosters: %s\n",
			jstr(rec, "error"));
		return;
	}
	if (!cJSON_GetArraySize(pairs) && !cJSON_GetArraySize(skipped))
		return;
	fprintf(f, "\nReconciliation of directory accounts and rosters:\n");
	cJSON_ArrayForEach(p, pairs) {
		const char *d = jstr(p, "directory"), *ro = jstr(p, "roster");
		const cJSON *c = cJSON_GetObjectItemCaseSensitive(p, "counts");
		int absent = (int)jnum(c, "active_in_directory_absent_from_roster");
		int inactive = (int)jnum(c, "active_in_directory_inactive_in_roster");
		int none = (int)jnum(c, "in_roster_without_directory_account");
		int off = (int)jnum(c, "directory_account_inactive");
		char t[4][200];
		fprintf(f, "  %s vs %s: %d active account%s absent from %s, %d inactive in %s; "
			   "%d %s %s without a %s account; %d %s account%s inactive for %s %s %s\n",
			d, ro, absent, absent == 1 ? "" : "s", ro, inactive, ro, none, ro,
			none == 1 ? "person" : "people", d, off, d, off == 1 ? "" : "s",
			off == 1 ? "an active" : "active", ro, off == 1 ? "person" : "people");
		snprintf(t[0], sizeof t[0], "active in %s, absent from %s", d, ro);
		snprintf(t[1], sizeof t[1], "active in %s, inactive in %s", d, ro);
		snprintf(t[2], sizeof t[2], "active in %s without a %s account", ro, d);
		snprintf(t[3], sizeof t[3], "%s account inactive, active in %s", d, ro);
		print_people(f, p, "active_in_directory_absent_from_roster", t[0], NULL, rp);
		print_people(f, p, "active_in_directory_inactive_in_roster", t[1],
			     "roster_status_reason", rp);
		print_people(f, p, "in_roster_without_directory_account", t[2], NULL, rp);
		print_people(f, p, "directory_account_inactive", t[3], "status_reason", rp);
	}
	cJSON_ArrayForEach(p, skipped)
		fprintf(f, "  %s vs %s: not compared: %s\n", jstr(p, "directory"), jstr(p, "roster"),
			jstr(p, "reason"));
}

static void print_table(FILE *f, const cJSON *rep, const char *rp)
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
		if (!cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(s, "streams"))) {
			const char *why = jstr(s, "failure");
			char fallback[64];
			if (!*why) {
				snprintf(fallback, sizeof fallback, "the source exited %d",
					 (int)jnum(s, "exit"));
				why = fallback;
			}
			fprintf(f, "%-12s %-18s %-9s (no statistics: %s)\n", jstr(s, "name"), "-",
				"failed", why);
		}
	}
	fprintf(f, "\n%-12s %-24s %8s  %s\n", "output", "file", "rows", "status");
	cJSON_ArrayForEach(o, cJSON_GetObjectItemCaseSensitive(rep, "outputs")) {
		const char *reason = jstr(o, "reason");
		fprintf(f, "%-12s %-24s %8.0f  %s%s%s\n", jstr(o, "stream"), jstr(o, "file"),
			jnum(o, "rows"), jstr(o, "status"), *reason ? ": " : "", reason);
	}
	if (*jstr(rep, "outputs_note"))
		fprintf(f, "(%s)\n", jstr(rep, "outputs_note"));
	print_reconciliation(f, rep, rp);
	int first = 1;
	cJSON_ArrayForEach(s, cJSON_GetObjectItemCaseSensitive(rep, "sources")) {
		const char *failure = jstr(s, "failure");
		if (*failure) {
			if (first)
				fprintf(f, "\nErrors and notes:\n");
			first = 0;
			fprintf(f, "  %s: %s\n", jstr(s, "name"), failure);
		}
		if (*jstr(s, "hint"))
			fprintf(f, "  %s: hint: %s\n", jstr(s, "name"), jstr(s, "hint"));
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
	if (*jstr(rep, "failure")) {
		if (first)
			fprintf(f, "\nErrors and notes:\n");
		fprintf(f, "  %s\n", jstr(rep, "failure"));
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
	r.final_status[0] = r.final_status[1] = SPAWN_NOT_RUN;
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
	char *clean = realpath(r.output, NULL); /* "a/b/../../out" reads badly in a report */
	if (clean) {
		free(r.output);
		r.output = clean;
	}
	r.started = clk_now();
	int nusable = 0, hold = 0;
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
		if (s->wants_snapshot)
			s->snapshot = cat3(sb, ".snapshot", "");
		if (s->type->staging)
			s->staging = cat3(sb, ".staging", "");
		free(sb);
		run_source(&r, s);
		s->people_done = usable(s) && people_activated(s->canon);
		if (usable(s)) {
			nusable++;
		} else if (mark_incomplete(&r, s, &e)) {
			log_err(LOG_ERROR, &e);
			hold = 1;
		}
		code = i ? exit_combine(code, s->exit) : s->exit;
	}
	free(statedir);
	if (nusable && hold) {
		log_msg(LOG_ERROR, "a failed source's streams could not be marked incomplete: "
				   "nothing was published, the previous files in %s are untouched",
			r.output);
		code = exit_combine(code, EXIT_FAILED);
	} else if (nusable) {
		run_final(&r);
		/* one source failing (or refusing its configuration) beside others
		 * that worked is a partial run when files were published (load-csv
		 * 0 or 3); when the failed source held every file back, its own
		 * code (1 or 2) says what to fix */
		int published = r.final_status[1] == EXIT_COMPLETE ||
				r.final_status[1] == EXIT_PARTIAL;
		if (published && (code == EXIT_FAILED || code == EXIT_USAGE))
			code = EXIT_PARTIAL;
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
	const char *slash = rp ? strrchr(rp, '/') : NULL;
	print_table(stdout, rep, slash ? slash + 1 : rp ? rp : "run-report.json");
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
		free(r.src[i].snapshot);
		free(r.src[i].staging);
	}
	free(r.reconcile);
	free(r.output);
	free(r.work);
	free(r.jq);
	free(r.creds);
	free(r.creds_key);
	job_free(&r.job);
	return code;
}
