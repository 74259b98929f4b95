/* HTTP-date, Retry-After and X-RateLimit-Reset against the RFC 9110
 * vectors in tests/vectors/http-dates/, plus our own edge cases.
 *
 * Choices the vectors README asks us to record (see lib/net/httpdate.h):
 * - Strict where the grammar is: every invalid_* vector is rejected,
 *   including the ones a lenient parser might take (zone "UTC", a one-digit
 *   day in IMF-fixdate, lower-case names, a two-digit IMF year).
 * - Lenient, 1: the day name is not checked against the date (it carries
 *   no information the date lacks; a wrong one is still a date).
 * - Lenient, 2: second 60 (leap_second) is accepted and counted as the
 *   next second, as timegm does: 23:59:60 Dec 31 2016 = 1483228800.
 * - delay_large (2^32) is kept exactly, never wrapped; delays beyond 1e15 s
 *   are clamped there, and the wait ceiling refuses them anyway.
 * - OWS around a Retry-After or X-RateLimit-Reset value is removed before
 *   parsing (it is not part of a field value); http_date_parse itself
 *   takes no extra whitespace.
 * - rfc850 years: the year within 50 years of the reference time. */
#include "net/httpdate.h"
#include "tap.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The reference time of vectors that do not bring one: 2025-06-01. */
#define NOW 1748736000.0

static double num(const cJSON *c, const char *key, double dflt)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(c, key);
	return cJSON_IsNumber(v) ? v->valuedouble : dflt;
}

static const char *str(const cJSON *c, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(c, key);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static void run_case(const cJSON *c)
{
	const char *id = str(c, "id"), *in = str(c, "input"), *fmt = str(c, "format");
	int valid = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(c, "valid"));
	double now = num(c, "reference_now_epoch", NOW);
	long long epoch = -1;
	double delay = -1;
	if (!id || !in) {
		tap_ok(0, "a vector case without id or input");
		return;
	}
	if (!valid) {
		int d = http_date_parse(in, now, &epoch), r = retry_after_parse(in, now, &delay);
		tap_ok(d == -1 && r == -1, "%s: \"%s\" rejected", id, in);
		return;
	}
	if (fmt && !strcmp(fmt, "delay-seconds")) {
		double want = num(c, "expected_delay_seconds", -1);
		int r = retry_after_parse(in, now, &delay);
		tap_ok(r == 0 && delay == want, "%s: Retry-After \"%s\" = %.0f s", id, in, want);
		if (r || delay != want)
			tap_diag("  got rc %d, delay %f", r, delay);
		tap_ok(http_date_parse(in, now, &epoch) == -1, "%s: \"%s\" is not an HTTP-date", id, in);
		return;
	}
	long long want = (long long)num(c, "expected_epoch", -1);
	int r = http_date_parse(in, now, &epoch);
	tap_ok(r == 0 && epoch == want, "%s: \"%s\" = %lld", id, in, want);
	if (r || epoch != want)
		tap_diag("  got rc %d, epoch %lld", r, epoch);

	/* As a Retry-After: seconds from now, zero once passed. rfc850 cases
	 * keep their reference time, since it decides the century. */
	double ref = cJSON_GetObjectItemCaseSensitive(c, "reference_now_epoch") ? now : want - 42;
	double wdelay = want > ref ? want - ref : 0;
	tap_ok(!retry_after_parse(in, ref, &delay) && delay == wdelay,
	       "%s: as Retry-After, %.0f s from the reference time", id, wdelay);
	tap_ok(!retry_after_parse(in, want + 100, &delay) && delay == 0,
	       "%s: as Retry-After after that time: 0 s", id);
}

static void test_vectors(void)
{
	char path[4096];
	unsigned long len;
	snprintf(path, sizeof path, "%s/http-dates/http_dates.json", tap_vectors());
	char *text = tap_slurp(path, &len);
	cJSON *root = text ? cJSON_ParseWithLength(text, len) : NULL;
	const cJSON *cases = cJSON_GetObjectItemCaseSensitive(root, "cases"), *c;
	tap_ok(cJSON_GetArraySize(cases) == 36, "%s holds the 36 cases its README lists", path);
	cJSON_ArrayForEach(c, cases)
		run_case(c);
	cJSON_Delete(root);
	free(text);
}

/* Our own cases, beyond the vectors. */
static const struct {
	const char *in;
	double now;
	int ok;
	long long want;
	const char *why;
} dates[] = {
	{"Mon, 06 Nov 1994 08:49:37 GMT", NOW, 0, 784111777, "a wrong day name is accepted (lenient 1)"},
	{"Sun Nov 06 08:49:37 1994", NOW, 0, 784111777, "asctime with a two-digit day 06"},
	{"Sun Nov 6 08:49:37 1994", NOW, -1, 0, "asctime needs two spaces before a one-digit day"},
	{"Sun Nov  6 08:49:37 1994 GMT", NOW, -1, 0, "asctime has no zone"},
	{"Sun,  06 Nov 1994 08:49:37 GMT", NOW, -1, 0, "no extra spaces"},
	{"Sun, 06 Nov 1994 08:49:37 GMT ", NOW, -1, 0, "no trailing space in the date itself"},
	{"Sun, 06 Nov 1994 08:49:37", NOW, -1, 0, "IMF-fixdate needs GMT"},
	{"Sunday, 06-Nov-1994 08:49:37 GMT", NOW, -1, 0, "rfc850 year is 2DIGIT"},
	{"Sun, 06-Nov-94 08:49:37 GMT", NOW, -1, 0, "rfc850 needs the long day name"},
	{"Sunday, 06 Nov 1994 08:49:37 GMT", NOW, -1, 0, "IMF-fixdate needs the short day name"},
	{"Thu, 29 Feb 1900 00:00:00 GMT", NOW, -1, 0, "1900 is not a leap year"},
	{"Tue, 29 Feb 2000 00:00:00 GMT", NOW, 0, 951782400, "2000 is"},
	{"Tuesday, 29-Feb-00 00:00:00 GMT", NOW, 0, 951782400, "rfc850 Feb 29 of year 00 in 2025 is 2000"},
	{"Thu, 01 Jan 1970 00:60:00 GMT", NOW, -1, 0, "minute 60"},
	{"Thu, 01 Jan 1970 00:00:61 GMT", NOW, -1, 0, "second 61"},
	{"Thu, 00 Jan 1970 00:00:00 GMT", NOW, -1, 0, "day 00"},
	{"Thu, 01 Jan 0000 00:00:00 GMT", NOW, -1, 0, "year 0000 is not a Gregorian year"},
	{"Fri, 31 Dec 9999 23:59:59 GMT", NOW, 0, 253402300799, "the last 4-digit year"},
	{"Wed, 31 Dec 1969 23:59:59 GMT", NOW, 0, -1, "before the epoch"},
	{"Saturday, 01-Jan-01 00:00:00 GMT", 4070908800.0, 0, 4133980800,
	 "rfc850 year 01 seen in 2099 is 2101, 2 years ahead, not 2001"},
	{"Tuesday, 01-Jan-80 00:00:00 GMT", NOW, 0, 315532800, "rfc850 year 80 in 2025 is 1980"},
	{"Tuesday, 01-Jan-75 00:00:00 GMT", NOW, 0, 3313526400, "rfc850 year 75 in mid-2025 is 2075"},
	{"Thursday, 01-Jan-76 00:00:00 GMT", NOW, 0, 189302400, "rfc850 year 76 in mid-2025 is 1976"},
	{"Sun, 06 Nov 1994 08:49:37 GMT\n", NOW, -1, 0, "a trailing newline"},
};

static void test_dates(void)
{
	for (size_t i = 0; i < sizeof dates / sizeof dates[0]; i++) {
		long long e = 0;
		int r = http_date_parse(dates[i].in, dates[i].now, &e);
		tap_ok(r == dates[i].ok && (r || e == dates[i].want), "%s", dates[i].why);
		if (r != dates[i].ok || (!r && e != dates[i].want))
			tap_diag("  \"%s\": rc %d, epoch %lld", dates[i].in, r, e);
	}
	long long e;
	tap_ok(http_date_parse(NULL, NOW, &e) == -1, "NULL is not a date");
}

/* A header value, the time it arrived, and the wait it asks for. */
struct delay_case {
	const char *in;
	double now;
	int ok;
	double want;
	const char *why;
};

typedef int (*delay_parser)(const char *value, double now, double *delay);

static void run_delays(const char *header, delay_parser parse, const struct delay_case *c,
		       size_t n)
{
	for (size_t i = 0; i < n; i++) {
		double d = -1;
		int r = parse(c[i].in, c[i].now, &d);
		tap_ok(r == c[i].ok && (r || fabs(d - c[i].want) < 1e-9), "%s: %s", header, c[i].why);
		if (r != c[i].ok || (!r && fabs(d - c[i].want) >= 1e-9))
			tap_diag("  \"%s\": rc %d, delay %f", c[i].in, r, d);
	}
	double d;
	tap_ok(parse(NULL, c[0].now, &d) == -1, "%s: no value", header);
}

static const struct delay_case values[] = {
	{" 120\t", NOW, 0, 120, "Retry-After: OWS around the value is not part of it"},
	{"  Sun, 06 Nov 1994 08:49:37 GMT ", 784111700, 0, 77, "Retry-After date with OWS"},
	{"99999999999999999999999", NOW, 0, 1e15, "Retry-After beyond 1e15 s is clamped, not wrapped"},
	{"12 0", NOW, -1, 0, "Retry-After with inner space"},
	{" ", NOW, -1, 0, "Retry-After of only spaces"},
};

static void test_retry_after(void)
{
	double d;
	run_delays("Retry-After", retry_after_parse, values, sizeof values / sizeof values[0]);
	char longv[200];
	memset(longv, 'x', sizeof longv - 1);
	longv[sizeof longv - 1] = '\0';
	tap_ok(retry_after_parse(longv, NOW, &d) == -1, "a long garbage value is rejected");
}

static const struct delay_case resets[] = {
	{"1700000040", 1700000000, 0, 40, "reset 40 s ahead"},
	{"1700000900", 1700000000, 0, 900, "reset 15 minutes ahead"},
	{"1700000000", 1700000000.5, 0, 0, "reset just passed: no wait"},
	{"1600000000", 1700000000, 0, 0, "reset long past: no wait"},
	{"1700000040", 1700000000.25, 0, 39.75, "fractional now"},
	{" 1700000040 ", 1700000000, 0, 40, "OWS removed"},
	{"", 1700000000, -1, 0, "empty"},
	{"-5", 1700000000, -1, 0, "a sign"},
	{"17e8", 1700000000, -1, 0, "exponent form"},
	{"1700000040.5", 1700000000, -1, 0, "a fraction (Clever sends whole seconds)"},
	{"Sun, 06 Nov 1994 08:49:37 GMT", 1700000000, -1, 0, "a date is not an epoch"},
};

static void test_reset(void)
{
	run_delays("X-RateLimit-Reset", ratelimit_reset_parse, resets, sizeof resets / sizeof resets[0]);
}

int main(void)
{
	test_vectors();
	test_dates();
	test_retry_after();
	test_reset();
	return tap_done();
}
