#ifndef ROSTER_CLEVER_H
#define ROSTER_CLEVER_H

#include "format/jobfile.h"
#include "net/fetch.h"
#include "engine/drop.h"
#include "engine/extract.h"
#include "engine/mapping.h"

/* Clever API v3.0 (Secure Sync district data), and Clever's CSV drop:
 * what the extractor, normalize and the registry (lib/vendor/vendors.c)
 * need to know. The wire facts live in api.c, the mapping in map.c, the
 * drop's files in drop.c. */

/* The raw streams the API gives (clever_<name>), in the order they are
 * read, and the user roles it reads by default; contact (guardians) may
 * be asked for too. */
#define CLEVER_STREAMS "schools,terms,users,sections"
#define CLEVER_ROLES "student,teacher,staff,district_admin"
#define CLEVER_ROLES_KNOWN CLEVER_ROLES ",contact"

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
/* X-RateLimit-Remaining and X-RateLimit-Reset, per token. */
extern const struct rate_window clever_window;
/* The hints hook (source->explain): Clever's error body and what to check. */
void clever_explain(struct rt_err *e, const struct http_resp *r, void *ud);
/* normalize's mappers (map.c) and the CSV drop's profile (drop.c). */
extern const struct mapper map_clever[];
extern const struct drop_profile drop_clever;

#endif
