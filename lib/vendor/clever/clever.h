#ifndef ROSTER_CLEVER_H
#define ROSTER_CLEVER_H

#include "format/jobfile.h"
#include "engine/extract.h"

/* Clever API v3.0 (Secure Sync district data): what the extractor needs
 * to know. The wire facts live in clever.c, in one place. */

struct clever_opts {
	const char *client_id;
	char *client_secret;       /* from the store; wiped once the token is got */
	const char *secret_name;   /* where it came from ("the stored entry clever"), for hints */
	char *token;              /* a stored district-app token; wiped once copied */
	const char *district;      /* district id, to pick among several tokens */
	const char *streams;       /* "users,schools,sections,terms" */
	const char *roles;         /* "student,teacher,staff,district_admin" */
	int page_size;             /* checked against Clever's maximum */
};

#define CLEVER_BASE_URL "https://api.clever.com"
#define CLEVER_TOKEN_URL "https://clever.com/oauth/tokens"
#define CLEVER_RATE 1200 /* requests a minute per token */
#define CLEVER_MAX_LIMIT 10000

/* Runs the extraction: token, then every stream asked for. The exit code
 * comes from extract_finish; a token failure fails every stream. */
int clever_extract(struct extract_run *run, const struct extract_opts *o,
		   const struct clever_opts *co);
/* Checks the option values (stream and role names). -1 with e filled. */
int clever_check_opts(const struct clever_opts *co, struct rt_err *e);

/* The job-file keys of a [source] of type clever, and their flags. */
extern const struct job_key clever_job_keys[];

#endif
