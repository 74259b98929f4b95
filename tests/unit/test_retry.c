/* Retry: classify, then wait (DESIGN.md, Reliability rules). */
#include "core/clock.h"
#include "net/retry.h"
#include "tap.h"

#include <math.h>
#include <string.h>

/* Every code DESIGN.md names, with its class, one line per case. */
static const struct {
	long status;
	enum retry_class want;
} spot[] = {
	{100, RC_FAIL},     {101, RC_FAIL},     {200, RC_OK},       {201, RC_OK},
	{204, RC_OK},       {206, RC_OK},       {301, RC_OK},       {302, RC_OK},
	{304, RC_OK},       {308, RC_OK},       {400, RC_FAIL},     {401, RC_FAIL},
	{403, RC_FAIL},     {404, RC_FAIL},     {405, RC_FAIL},     {406, RC_FAIL},
	{407, RC_FAIL},     {408, RC_STATUS},   {409, RC_FAIL},     {410, RC_FAIL},
	{413, RC_FAIL},     {422, RC_FAIL},     {425, RC_STATUS},   {429, RC_THROTTLE},
	{451, RC_FAIL},     {499, RC_FAIL},     {500, RC_STATUS},   {501, RC_FAIL},
	{502, RC_STATUS},   {503, RC_STATUS},   {504, RC_STATUS},   {505, RC_FAIL},
	{507, RC_FAIL},     {511, RC_FAIL},     {599, RC_FAIL},
};

/* The rule for every other status, written independently of the table in
 * lib/net/retry.c. */
static enum retry_class rule(long s)
{
	if (s >= 200 && s <= 399)
		return RC_OK;
	if (s == 429)
		return RC_THROTTLE;
	if (s == 408 || s == 425 || s == 500 || s == 502 || s == 503 || s == 504)
		return RC_STATUS;
	return RC_FAIL;
}

static void test_classify(void)
{
	for (size_t i = 0; i < sizeof spot / sizeof spot[0]; i++)
		tap_ok(retry_classify(0, spot[i].status, 0) == spot[i].want, "HTTP %ld is %s",
		       spot[i].status, retry_class_name(spot[i].want));

	int wrong = 0;
	for (long s = 100; s <= 599; s++)
		if (retry_classify(0, s, 0) != rule(s)) {
			tap_diag("  HTTP %ld: got %s", s, retry_class_name(retry_classify(0, s, 0)));
			wrong++;
		}
	tap_ok(!wrong, "every status 100..599 follows the rule (%d wrong)", wrong);

	wrong = 0;
	for (long s = 0; s <= 599; s++)
		wrong += retry_classify(1, s, 0) != RC_NETWORK;
	tap_ok(!wrong, "a transport failure is a network retry whatever the status field holds");
	tap_ok(retry_classify(1, 403, 1) == RC_NETWORK, "a transport failure ignores a vendor throttle");
	/* which answers are a vendor's throttle is the vendor's hook (Google's:
	 * tests/unit/test_google.c); here, what the flag does */
	tap_ok(retry_classify(0, 403, 1) == RC_THROTTLE, "403 the vendor calls a throttle is a throttle");
	tap_ok(retry_classify(0, 403, 0) == RC_FAIL, "403 otherwise is not retried");
	tap_ok(retry_classify(0, 400, 1) == RC_FAIL, "a vendor throttle on 400 does not make it retried");
	tap_ok(retry_classify(0, 401, 1) == RC_FAIL, "nor on 401");
	tap_ok(retry_classify(0, 429, 1) == RC_THROTTLE, "429 with a vendor throttle stays a throttle");
	tap_ok(retry_classify(0, 503, 1) == RC_STATUS, "503 with a vendor throttle stays 503");
	tap_ok(retry_classify(0, 200, 1) == RC_OK, "a success with a stray throttle flag is a success");

	const char *names[5];
	int distinct = 1;
	for (int c = RC_OK; c <= RC_FAIL; c++) {
		names[c] = retry_class_name((enum retry_class)c);
		for (int d = RC_OK; d < c; d++)
			distinct &= strcmp(names[c], names[d]) != 0;
	}
	tap_ok(distinct, "every class has its own name");
}

/* Thousands of seeded draws per retry: the full-jitter bounds. */
static void test_backoff(void)
{
	struct retry_policy p;
	retry_policy_default(&p);
	TAP_EQ_INT(p.max_attempts, 3, "default: 3 requests per page");
	tap_ok(p.base == 1 && p.cap == 60 && p.throttle_floor == 1 && p.max_wait == 300 &&
		       p.deadline == 0,
	       "default: base 1 s, cap 60 s, throttle floor 1 s, ceiling 300 s, no deadline");

	static const unsigned long long seeds[] = {1, 42, 20261129};
	for (int s = 0; s < 3; s++) {
		clk_use_fake(0, seeds[s]);
		double prev_mean = -1;
		for (int retry = 1; retry <= 9; retry++) {
			double ceiling = fmin(p.cap, p.base * pow(2, retry - 1));
			double lo = INFINITY, hi = -INFINITY, sum = 0, tlo = INFINITY;
			int out = 0;
			const int n = 4000;
			for (int i = 0; i < n; i++) {
				double w = retry_backoff(&p, retry, 0, clk_uniform());
				double t = retry_backoff(&p, retry, 1, clk_uniform());
				out += !(w >= 0 && w <= ceiling) || !(t >= 1 && t <= fmax(1, ceiling));
				lo = fmin(lo, w);
				hi = fmax(hi, w);
				tlo = fmin(tlo, t);
				sum += w;
			}
			double mean = sum / n;
			tap_ok(!out && lo < 0.05 * ceiling && hi > 0.95 * ceiling,
			       "seed %llu retry %d: %d draws in [0, %g], spread %.3f..%.3f", seeds[s],
			       retry, n, ceiling, lo, hi);
			tap_ok(tlo == 1, "seed %llu retry %d: throttle waits never under the 1 s floor",
			       seeds[s], retry);
			if (retry <= 7)
				tap_ok(mean > prev_mean, "seed %llu retry %d: mean %.3f grows (was %.3f)",
				       seeds[s], retry, mean, prev_mean);
			else
				tap_ok(fabs(mean - 30) < 2, "seed %llu retry %d: capped, mean %.3f near 30",
				       seeds[s], retry, mean);
			prev_mean = mean;
		}
	}

	static const struct {
		int retry;
		double rnd, want;
	} exact[] = {
		{1, 0.5, 0.5}, {2, 0.5, 1},   {3, 0.5, 2}, {6, 0.5, 16},   {7, 0.5, 30},
		{8, 0.5, 30},  {1000, 0.5, 30}, {1, 0, 0}, {0, 0.5, 0.5}, {-3, 0.5, 0.5},
	};
	for (size_t i = 0; i < sizeof exact / sizeof exact[0]; i++)
		tap_ok(retry_backoff(&p, exact[i].retry, 0, exact[i].rnd) == exact[i].want,
		       "backoff(retry %d, draw %g) = %g", exact[i].retry, exact[i].rnd,
		       exact[i].want);
	tap_ok(retry_backoff(&p, 1, 1, 0) == 1, "a throttle with a zero draw still waits 1 s");
	tap_ok(retry_backoff(&p, 7, 1, 0.5) == 30, "the floor does not lower a longer backoff");
}

static void test_wait(void)
{
	struct retry_policy p;
	retry_policy_default(&p);
	static const struct {
		const char *name;
		int retry;
		enum retry_class c;
		double vendor, rnd, want;
	} cases[] = {
		{"vendor asked more than the backoff", 1, RC_THROTTLE, 10, 0.5, 10},
		{"nothing asked: the backoff", 3, RC_STATUS, -1, 0.25, 1},
		{"backoff larger than the vendor's wait", 4, RC_STATUS, 5, 0.9, 7.2},
		{"vendor's 120 s over the 60 s cap is kept", 7, RC_THROTTLE, 120, 0.5, 120},
		{"throttle: the floor beats a shorter vendor wait", 1, RC_THROTTLE, 0.2, 0, 1},
		{"throttle with Retry-After: 0 waits the floor", 2, RC_THROTTLE, 0, 0, 1},
		{"5xx has no floor", 1, RC_STATUS, -1, 0, 0},
		{"network failure: backoff only", 2, RC_NETWORK, -1, 0.5, 1},
		{"503 with Retry-After: 30", 1, RC_STATUS, 30, 0.99, 30},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		double w = retry_wait(&p, cases[i].retry, cases[i].c, cases[i].vendor, cases[i].rnd);
		tap_ok(fabs(w - cases[i].want) < 1e-9, "retry_wait: %s (%g)", cases[i].name, w);
	}
}

static void test_allowed(void)
{
	struct retry_policy p;
	struct rt_err e;
	retry_policy_default(&p);
	err_clear(&e);
	tap_ok(retry_wait_allowed(&p, 300, 1000, &e) == 0, "a wait of exactly the ceiling is slept");
	tap_ok(retry_wait_allowed(&p, 0, 1000, &e) == 0, "no wait is fine");

	strcpy(e.code, "stale");
	tap_ok(retry_wait_allowed(&p, 900, 1000, &e) == -1, "900 s is over the 300 s ceiling");
	tap_ok(e.kind == ERR_WAIT && e.wait == 900, "kind wait, e->wait holds the request");
	tap_ok(strstr(e.msg, "900 s") && strstr(e.msg, "300 s ceiling"),
	       "the message quotes the wait and the ceiling: %s", e.msg);
	tap_ok(!e.code[0], "the error is cleared before it is filled");

	tap_ok(retry_wait_allowed(&p, 300.25, 1000, &e) == -1 && strstr(e.msg, "300.250 s"),
	       "a fractional wait is quoted as asked: %s", e.msg);
	tap_ok(retry_wait_allowed(&p, 4294967296.0, 1000, &e) == -1 &&
		       strstr(e.msg, "4294967296 s"),
	       "a huge wait is quoted in full: %s", e.msg);
	tap_ok(retry_wait_allowed(&p, NAN, 1000, &e) == -1, "a wait that is not a number is refused");

	p.deadline = 1100;
	tap_ok(retry_wait_allowed(&p, 60, 1000, &e) == 0, "a wait that ends before the deadline");
	tap_ok(retry_wait_allowed(&p, 100, 1000, &e) == 0, "a wait that ends at the deadline");
	tap_ok(retry_wait_allowed(&p, 120, 1000, &e) == -1 && e.kind == ERR_WAIT && e.wait == 120,
	       "a wait past the deadline is refused");
	tap_ok(strstr(e.msg, "120 s") && strstr(e.msg, "deadline") && strstr(e.msg, "100 s left"),
	       "the message quotes the wait and the time left: %s", e.msg);
	tap_ok(retry_wait_allowed(&p, 30, 1200, &e) == -1 && strstr(e.msg, "0 s left"),
	       "already past the deadline: %s", e.msg);

	p.deadline = 0;
	p.max_wait = 0;
	tap_ok(retry_wait_allowed(&p, 1e6, 1000, &e) == 0, "max_wait 0 and deadline 0: no limit");
}

int main(void)
{
	test_classify();
	test_backoff();
	test_wait();
	test_allowed();
	return tap_done();
}
