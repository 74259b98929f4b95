#ifndef ROSTER_GOOGLE_H
#define ROSTER_GOOGLE_H

#include "core/buf.h"
#include "format/jobfile.h"
#include "net/fetch.h"
#include "engine/extract.h"
#include "engine/mapping.h"

/* Google Workspace Admin SDK Directory API: what the extractor needs to
 * know. A service account signs a JWT (jwt.h) to get an access token for
 * the admin it impersonates (domain-wide delegation); the wire facts live
 * in api.c, in one place, the mapping in map.c. */

/* The raw streams (google_<name>), in the order they are read. */
#define GOOGLE_STREAMS "orgunits,groups,group_members,users,deleted_users"

struct google_opts {
	char *key_json;          /* the stored service-account key file; wiped once parsed */
	const char *key_name;    /* where it came from ("the stored entry google"), for hints */
	const char *subject;     /* the admin to impersonate (the JWT's sub), or NULL */
	const char *customer;    /* NULL: my_customer (the impersonated admin's own) */
	const char *domain;      /* users and groups of this domain instead of the customer */
	const char *streams;     /* "orgunits,groups,group_members,users,deleted_users" */
	const char *scopes;      /* comma- or space-separated; short names get the prefix */
	int page_size;           /* lowers maxResults only */
};

#define GOOGLE_BASE_URL "https://admin.googleapis.com"
#define GOOGLE_RATE 2400 /* queries a minute per impersonated user, Google's default */
#define GOOGLE_MAX_USERS 500
#define GOOGLE_MAX_GROUPS 200 /* groups and members a page */

/* Runs the extraction: the key, a token, then every stream asked for, in
 * the order orgunits, groups, group_members, users, deleted_users. A key or
 * token failure fails every stream; otherwise each stream succeeds or fails
 * on its own. The exit code comes from extract_finish. */
int google_extract(struct extract_run *run, const struct extract_opts *o,
		   struct google_opts *go);
/* Checks the option values (stream names, subject, customer, domain,
 * scopes) before the key is read.
 * -1 with e filled. */
int google_check_opts(const struct google_opts *go, struct rt_err *e);

/* ---- the JWT bearer grant (unit-tested) ---- */

/* Google's header: {"alg":"RS256","typ":"JWT","kid":KID}, the key's
 * private_key_id as kid (left out when kid is NULL or empty). Appends to
 * out; 0, or -1 when out is over its cap. */
int google_jwt_header(struct buf *out, const char *kid);

/* The claim set of Google's JWT bearer grant, serialised in this order:
 * {"iss","sub","scope","aud","iat","exp"}. sub is the user to impersonate
 * (left out when NULL or empty); scope is space-separated; iat and exp are
 * whole epoch seconds. */
struct google_claims {
	const char *iss;   /* the service account's client_email */
	const char *sub;   /* the admin to impersonate, or NULL */
	const char *scope; /* "https://www.googleapis.com/auth/... ..." */
	const char *aud;   /* the key file's token_uri */
	long long iat, exp;
};

#define GOOGLE_JWT_MAX_LIFETIME 3600 /* Google refuses an assertion valid for longer */

/* Appends the claims as JSON to out. -1 when a string is missing or exp is
 * not after iat or more than GOOGLE_JWT_MAX_LIFETIME after it (Google would refuse
 * it), or when out is over its cap. */
int google_jwt_claims(struct buf *out, const struct google_claims *c);

/* The job-file keys of a [source] of type google, and their flags. */
extern const struct job_key google_job_keys[];
/* The fetch hooks (net/fetch.h): Google's throttles that arrive as 403
 * (errors[].reason userRateLimitExceeded, rateLimitExceeded,
 * quotaExceeded; status RESOURCE_EXHAUSTED; an ErrorInfo
 * RATE_LIMIT_EXCEEDED), and the hints for its error answers. */
void google_throttle_reason(const struct http_resp *r, char *out, size_t n);
void google_explain(struct rt_err *e, const struct http_resp *r, void *ud);
/* normalize's mappers (map.c). */
extern const struct mapper map_google[];

#endif
