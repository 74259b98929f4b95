#ifndef ROSTER_FETCH_H
#define ROSTER_FETCH_H

#include "core/err.h"
#include "net/http.h"
#include "net/retry.h"

/* A source: one vendor connection with the reliability rules of DESIGN.md
 * applied to every request: pacing, classification, at most
 * policy.max_attempts requests per page, waits from backoff or the vendor's
 * Retry-After or rate-limit reset, a wait ceiling and a run deadline.
 * Vendor knowledge comes in through the hooks; everything else is here. */

#define FETCH_MAX_WAITS 64

struct fetch_stats {
	long requests;
	long retries;
	double wait_total;
	int nwaits;
	double waits[FETCH_MAX_WAITS]; /* the waits requested, in order */
	long waits_dropped;            /* waits past FETCH_MAX_WAITS: counted in wait_total only */
	double paced; /* seconds spent keeping to the request rate and rate-limit windows */
};

/* A vendor that announces its rate-limit window in headers: the one with
 * the requests left in the window and the one with the window's reset
 * time (Unix epoch seconds). A success that says none are left paces the
 * next request to the reset; a 429's reset is its retry wait. */
struct rate_window {
	const char *remaining, *reset;
};

struct source {
	const char *name; /* "clever": used in every message */
	struct http_client *http;
	struct retry_policy policy;
	double min_interval; /* pacing: seconds between requests (60 / rate per minute) */
	double next_allowed; /* the earliest time of the next request */
	/* Optional vendor hooks (the vendor registry's, engine/vendor.h).
	 * window: its rate-limit headers, or NULL. throttle_reason copies the
	 * reason of an answer that is the vendor's throttle though its status
	 * says otherwise (Google's 403 rateLimitExceeded) into out, or leaves it
	 * empty. explain fills e->code and e->hint for a failed answer. */
	const struct rate_window *window;
	void (*throttle_reason)(const struct http_resp *r, char *out, size_t n);
	void (*explain)(struct rt_err *e, const struct http_resp *r, void *ud);
	void *ud;
	struct fetch_stats stats;
};

struct fetch_req {
	const char *method; /* "GET" */
	const char *url;
	const char *const *headers; /* NULL-terminated "Name: value" lines */
	const char *body;
	size_t body_len;
	const char *userpwd; /* HTTP Basic "id:secret", or NULL */
	/* Called before every attempt when set (OAuth 1.0a: a fresh nonce and
	 * timestamp each time, so a retry is not refused as a replay); it may
	 * rewrite the strings headers points to. -1 with e filled stops. */
	int (*sign)(const struct fetch_req *q, void *ud, struct rt_err *e);
	void *sign_ud;
};

/* Sets the defaults: DESIGN.md's retry policy, rate per minute (0 = no pacing). */
void source_init(struct source *s, const char *name, struct http_client *http, double rate_per_min);

/* Sends the request under the rules. 0: a 2xx answer is in resp. -1: e is
 * filled with source, endpoint ("GET /path"), status, vendor code, message
 * and hint; resp holds the last answer, if any. */
int source_fetch(struct source *s, const struct fetch_req *q, struct http_resp *resp,
		 struct rt_err *e);

/* Several requests at once (libcurl multi), each under the same rules as
 * source_fetch: the pacing when each attempt starts, sign before each
 * attempt, the same classification, waits and messages. prepare fills
 * request i (0, 1, ...) in *q, whose strings stay valid until deliver(i)
 * returns: 0 ready, 1 there is no request i (the end), -1 request i fails
 * with e filled (it is delivered so, in its turn). deliver gets every answer
 * in request order, as source_fetch returns it: rc 0 with a 2xx in r, or
 * -1 with e filled; r is freed after it returns. A nonzero return from
 * deliver stops: the requests still running are dropped and that value is
 * returned. 0: every request was delivered; -1 with e filled when the
 * transfers could not be set up. */
#define FETCH_MAX_CONCURRENCY 16

struct fetch_many {
	int concurrency;  /* requests in flight at most: 1..FETCH_MAX_CONCURRENCY */
	size_t max_body;  /* each answer's cap (http_resp_init) */
	int (*prepare)(void *ud, size_t i, struct fetch_req *q, struct rt_err *e);
	int (*deliver)(void *ud, size_t i, int rc, struct http_resp *r, struct rt_err *e);
	void *ud;
};

int source_fetch_many(struct source *s, const struct fetch_many *m, struct rt_err *e);

/* "GET /v3.0/users" (no host, no query: queries may hold tokens). */
void source_endpoint(const char *method, const char *url, char *out, size_t n);

#endif
