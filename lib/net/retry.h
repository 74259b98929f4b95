#ifndef ROSTER_RETRY_H
#define ROSTER_RETRY_H

#include "core/err.h"

/* Retry is classify, then wait (DESIGN.md, Reliability rules). Both steps
 * are pure functions: the caller brings the clock and the random draw, so
 * tests can check every case without sleeping. */

enum retry_class {
	RC_OK,       /* a usable answer: 2xx or 3xx */
	RC_NETWORK,  /* no complete answer: retried */
	RC_STATUS,   /* a transient status (408 425 500 502 503 504): retried */
	RC_THROTTLE, /* the vendor asked us to slow down: retried, with a floor */
	RC_FAIL,     /* an answer that will not change if asked again */
};

/* transport: 0 = a complete HTTP response arrived; 1 = network failure
 * (connect, reset, DNS temporary, timeout, body cut short).
 * status: the HTTP status (ignored when transport != 0).
 * vendor_throttle: the vendor's hook recognised the answer as its throttle
 * (Google's 403 with reason rateLimitExceeded). It only matters with 403:
 * other codes are classified by their status alone.
 * 2xx/3xx -> RC_OK; 429 -> RC_THROTTLE; 403 the vendor calls a throttle ->
 * RC_THROTTLE; 408 425 500 502 503 504 -> RC_STATUS; everything else
 * (1xx, other 4xx, 501, 505, ...) -> RC_FAIL. */
enum retry_class retry_classify(int transport, long status, int vendor_throttle);
/* "ok", "network", "transient status", "throttled", "not retried". */
const char *retry_class_name(enum retry_class c);

struct retry_policy {
	int max_attempts;      /* requests per page, first try included: 3 */
	double base;           /* first backoff ceiling, seconds: 1 */
	double cap;            /* backoff ceiling cap: 60 */
	double throttle_floor; /* minimum wait after a throttle: 1 */
	double max_wait;       /* ceiling for any single wait: 300, 0 = none */
	double deadline;       /* absolute epoch seconds of the run's deadline, 0 = none */
};

void retry_policy_default(struct retry_policy *p);

/* Full jitter: rnd01 * min(cap, base * 2^(retry-1)), retry = 1 for the
 * first retry; at least throttle_floor when throttle is set. rnd01 is a
 * draw in [0, 1) (clk_uniform). */
double retry_backoff(const struct retry_policy *p, int retry, int throttle, double rnd01);

/* The wait before the next attempt: the larger of the backoff and what the
 * vendor asked (vendor_wait < 0 = nothing asked). The vendor's wait is
 * never shortened: waking early only earns another throttle. */
double retry_wait(const struct retry_policy *p, int retry, enum retry_class c, double vendor_wait,
		  double rnd01);

/* 0 if the wait may be slept now; -1 otherwise, with e cleared and filled:
 * kind ERR_WAIT, e->wait = wait, a message that quotes the requested wait in
 * seconds and says whether it is over the ceiling or past the deadline. */
int retry_wait_allowed(const struct retry_policy *p, double wait, double now, struct rt_err *e);

#endif
