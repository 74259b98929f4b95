#ifndef ROSTER_ONEROSTER_H
#define ROSTER_ONEROSTER_H

#include "format/jobfile.h"
#include "net/fetch.h"
#include "engine/drop.h"
#include "engine/extract.h"
#include "engine/mapping.h"

/* OneRoster 1.0, 1.1 and 1.2 (Infinite Campus and other SIS): what the
 * extractor, normalize and the registry (lib/vendor/vendors.c) need to
 * know. The REST client is api.c, the CSV bundle drop.c, the mapping
 * map.c: both readers emit the same raw streams with the same fields. */

/* The raw streams (oneroster_<name>), in the order they are read: what
 * others refer to first. */
#define ONEROSTER_STREAMS "orgs,academic_sessions,courses,classes,users,enrollments"
/* API versions tried, in order, unless the job names others; v1p2 is read
 * only when named. */
#define ONEROSTER_VERSIONS "v1p1,v1p0"
#define ONEROSTER_VERSIONS_KNOWN "v1p2,v1p1,v1p0"
/* Infinite Campus documents no limit: a pace that stays polite. */
#define ONEROSTER_RATE 600
#define ONEROSTER_PAGE_SIZE 1000
#define ONEROSTER_MAX_LIMIT 10000
#define ONEROSTER_CONCURRENCY 4

struct oneroster_opts {
	/* OAuth 2 client credentials (token endpoint: --token-url) */
	const char *client_id;
	char *client_secret;   /* from the store; kept to renew the token */
	const char *scope;
	/* or OAuth 1.0a, two-legged */
	const char *consumer_key;
	char *consumer_secret; /* from the store */
	const char *secret_name; /* "the stored entry NAME", for hints */
	const char *versions;  /* "v1p1,v1p0" */
	const char *streams;   /* ONEROSTER_STREAMS */
	int page_size;
	int delta;      /* read changes since last night's bookmark */
	int full_every; /* with delta: a full read every N days (0: never forced) */
	int concurrency; /* pages in flight once the total is known (0: the default; -1: bad) */
};
#define ONEROSTER_FULL_EVERY 7

/* Runs the extraction: token (OAuth 2) or signatures (OAuth 1.0a), the
 * version, then every stream asked for. Always returns 0: the exit code
 * comes from extract_finish. */
int oneroster_extract(struct extract_run *run, const struct extract_opts *o,
		      const struct oneroster_opts *oo);
/* Checks the option values. -1 with e filled (ERR_USAGE). */
int oneroster_check_opts(const struct oneroster_opts *oo, const struct extract_opts *o,
			 struct rt_err *e);

/* The job-file keys of a [source] of type oneroster. */
extern const struct job_key oneroster_job_keys[];
/* The hints hook (source->explain): the imsx_StatusInfo body and what to
 * check. */
void oneroster_explain(struct rt_err *e, const struct http_resp *r, void *ud);

/* normalize's mappers (map.c): oneroster_* -> orgs, people, groups,
 * memberships, sessions. */
extern const struct mapper map_oneroster[];
/* The CSV bundle, its manifest.csv deciding what is read (drop.c). */
extern const struct drop_profile drop_oneroster;

#endif
