#ifndef ROSTER_VERSIONS_H
#define ROSTER_VERSIONS_H

#include "core/err.h"

/* Version fallback: a source lists its candidates (API versions, token
 * endpoints) in preference order. The one that worked last night (from
 * STATE) is tried first. A candidate is abandoned only when the probe fails
 * with 404, 405 or 410, or when the probe says the vendor answered "no such
 * API" (e->kind == ERR_CONFIG with e->status 0 and code "no_such_api");
 * 401, 403, 5xx and network failures stop the search: they would fail on
 * every candidate and hide the real cause. */

/* probe returns 0 when the candidate works, -1 with e filled otherwise. */
typedef int (*version_probe)(const char *candidate, void *ud, struct rt_err *e);

/* 0 with *winner set to the index of the working candidate; -1 with e
 * filled (the last candidate's error, or a message listing every
 * candidate tried when all were abandoned). */
int version_pick(const char *const *candidates, int n, const char *remembered,
		 version_probe probe, void *ud, int *winner, struct rt_err *e);

/* 1 when this error abandons a candidate. */
int version_abandons(const struct rt_err *e);

#endif
