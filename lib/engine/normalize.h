#ifndef ROSTER_NORMALIZE_H
#define ROSTER_NORMALIZE_H

#include <stddef.h>
#include <stdio.h>

struct normalize_opts {
	const char *jq_path;    /* --jq: a jq program run on every canonical record, or NULL */
	const char *role_rules; /* --role-rules: directory users' role rules (mapping.h), or NULL */
	const char *status_codes; /* --status-codes: HR status code table (mapping.h), or NULL */
};

/* The normalize stage: reads raw Singer messages from in (named input in
 * messages), writes canonical streams to out. SCHEMA and ACTIVATE_VERSION
 * are carried to the canonical streams each raw stream feeds (lib/engine/mapping.h);
 * STATE passes unchanged. Role rules, status codes and the jq program are
 * checked before anything is read: a bad one is EXIT_USAGE. Returns the exit code
 * (exitcode.h); a summary goes to stderr. */
int normalize_run(FILE *in, const char *input, FILE *out, const struct normalize_opts *o);

/* "clever_users, clever_schools, ..." for --help. */
void normalize_known_streams(char *out, size_t size);

#endif
