#ifndef ROSTER_JOBFILE_H
#define ROSTER_JOBFILE_H

#include "core/err.h"

/* Job files: one per district, an INI-like text (man 5 roster-job):
 *
 *   [job]                      settings of the whole run
 *   name = lakeside
 *   output = out/lakeside      relative paths are relative to the job file
 *   [source clever]            one section per source; the word after
 *   type = clever              "source" is the source's name in the run
 *   client_secret = creds:NAME secrets are named (the store), never written here
 *
 * The parser keeps every key with its line so that validation errors name
 * file:line. Values are trimmed; "#" starts a comment at the beginning of a
 * line or after whitespace. */

struct job_kv {
	char *key;
	char *value;
	int line;
	int used; /* set by job_get: keys nobody asked for are reported */
};

struct job_section {
	char *kind; /* "job", "source", "normalize" */
	char *name; /* the word after the kind, or "" */
	int line;
	struct job_kv *kv;
	int nkv;
	size_t capkv;
};

struct job {
	char *path;
	char *dir; /* the job file's folder, for relative paths */
	struct job_section *sec;
	int nsec;
	size_t capsec;
};

/* 0, or -1 with e naming file:line. */
int job_load(struct job *j, const char *path, struct rt_err *e);
void job_free(struct job *j);

struct job_section *job_section(struct job *j, const char *kind, const char *name);
/* The value of key in s, or NULL; marks it used. */
const char *job_get(struct job_section *s, const char *key);
int job_line(const struct job_section *s, const char *key);

/* "90", "90s", "15m", "2h" into seconds. -1 if malformed, negative or not
 * finite (inf, nan). */
int job_duration(const char *v, double *out);
/* A positive finite number ("1200", "2.5"); with integer, a whole number
 * from 1 to INT_MAX. -1 otherwise. */
int job_number(const char *v, int integer, double *out);
/* A yes/no value: yes, true, 1 (*on = 1) or no, false, 0 (*on = 0), in
 * any case. -1 otherwise. */
int job_flag(const char *v, int *on);
/* What a value written in clear looks like when it seems to be a secret
 * ("a private key", "a password in a URL"), or NULL. A heuristic: PEM
 * blocks, URLs with a password, JWTs, Authorization values, Fernet keys
 * and tokens, and long random-looking strings of letters and digits. */
const char *job_looks_secret(const char *v);
/* Resolves a path relative to the job file; caller frees. */
char *job_path(const struct job *j, const char *p);

/* How a job-file key of a source becomes a flag of its extractor. */
enum job_key_kind {
	JK_PLAIN,  /* --flag value */
	JK_PATH,   /* --flag path, resolved against the job file's folder */
	JK_SECRET, /* value must be creds:NAME (a stored secret); passed as is */
	JK_NUMBER, /* --flag value, a positive finite number */
	JK_INTEGER, /* --flag value, a positive whole number */
	JK_FLAG,   /* yes/true/1: --flag alone; no/false/0: nothing */
};
struct job_key {
	const char *key;
	const char *flag;
	enum job_key_kind kind;
};

#endif
