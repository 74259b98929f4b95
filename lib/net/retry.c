#include "net/retry.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* Statuses worth asking again, one line per case (DESIGN.md). Anything not
 * listed and not 2xx/3xx will give the same answer next time: RC_FAIL. */
static const struct {
	long lo, hi;
	enum retry_class c;
} status_rules[] = {
	{200, 399, RC_OK},
	{408, 408, RC_STATUS},   /* Request Timeout */
	{425, 425, RC_STATUS},   /* Too Early */
	{429, 429, RC_THROTTLE}, /* Too Many Requests */
	{500, 500, RC_STATUS},   /* Internal Server Error */
	{502, 504, RC_STATUS},   /* Bad Gateway, Service Unavailable, Gateway Timeout */
};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

enum retry_class retry_classify(int transport, long status, int vendor_throttle)
{
	if (transport)
		return RC_NETWORK;
	if (status == 403 && vendor_throttle)
		return RC_THROTTLE;
	for (size_t i = 0; i < COUNT(status_rules); i++)
		if (status >= status_rules[i].lo && status <= status_rules[i].hi)
			return status_rules[i].c;
	return RC_FAIL;
}

const char *retry_class_name(enum retry_class c)
{
	static const char *const names[] = {"ok", "network", "transient status", "throttled",
					    "not retried"};
	return (unsigned)c < COUNT(names) ? names[c] : "unknown";
}

void retry_policy_default(struct retry_policy *p)
{
	p->max_attempts = 3;
	p->base = 1;
	p->cap = 60;
	p->throttle_floor = 1;
	p->max_wait = 300;
	p->deadline = 0;
}

double retry_backoff(const struct retry_policy *p, int retry, int throttle, double rnd01)
{
	/* The exponent stops growing long before it could overflow: by then
	 * the cap has won anyway. */
	int n = retry < 1 ? 0 : retry > 60 ? 59 : retry - 1;
	double ceiling = fmin(p->cap, ldexp(p->base, n));
	double r = rnd01 < 0 ? 0 : rnd01 > 1 ? 1 : rnd01;
	double wait = r * ceiling;
	if (throttle && wait < p->throttle_floor)
		wait = p->throttle_floor;
	return wait;
}

double retry_wait(const struct retry_policy *p, int retry, enum retry_class c, double vendor_wait,
		  double rnd01)
{
	double wait = retry_backoff(p, retry, c == RC_THROTTLE, rnd01);
	return vendor_wait > wait ? vendor_wait : wait;
}

/* "300" for whole seconds, "1.234" otherwise: the message quotes what was
 * asked, not a rounded or scientific form of it. */
static void fmt_seconds(double s, char *out, size_t n)
{
	if (s == floor(s) && fabs(s) < 1e15)
		snprintf(out, n, "%.0f", s);
	else
		snprintf(out, n, "%.3f", s);
}

int retry_wait_allowed(const struct retry_policy *p, double wait, double now, struct rt_err *e)
{
	char w[64], lim[64];
	int over = p->max_wait > 0 && !(wait <= p->max_wait);
	int late = p->deadline > 0 && !(now + wait <= p->deadline);
	if (!over && !late)
		return 0;
	err_clear(e);
	fmt_seconds(wait, w, sizeof w);
	if (over) {
		fmt_seconds(p->max_wait, lim, sizeof lim);
		err_set(e, ERR_WAIT, "the requested wait of %s s is over the %s s ceiling", w, lim);
	} else {
		double left = p->deadline - now;
		fmt_seconds(left > 0 ? floor(left) : 0, lim, sizeof lim);
		err_set(e, ERR_WAIT,
			"the requested wait of %s s would end past the run's deadline (%s s left)", w,
			lim);
	}
	err_hint(e, "the vendor is limiting this client: rerun later, or allow a longer wait");
	e->wait = wait;
	return -1;
}
