#ifndef ROSTER_HTTPDATE_H
#define ROSTER_HTTPDATE_H

/* The vendor's "come back later" answers: Retry-After (RFC 9110 10.2.3)
 * and Clever's X-RateLimit-Reset. Pure functions: now is passed in. */

/* RFC 9110 5.6.7 HTTP-date in any of its three forms (IMF-fixdate,
 * rfc850-date, asctime-date), case-sensitive, strict grammar: exact widths,
 * single spaces, the literal GMT. Ranges are checked (hour 0-23, second up
 * to 60 for a leap second, the day against its month). Two lenient choices:
 * the day name is not checked against the date, and second 60 is accepted
 * and counted as the next second (POSIX time has no leap seconds).
 * now is used for the rfc850 two-digit year: the year within 50 years of
 * now, never more than 50 years ahead. *epoch: POSIX seconds (UTC).
 * 0 ok, -1 invalid. */
int http_date_parse(const char *s, double now, long long *epoch);

/* A Retry-After value: delay-seconds (1*DIGIT, leading zeros allowed, no
 * sign or fraction) or an HTTP-date. *delay = seconds from now, never
 * negative. A delay too large for a double to hold exactly is clamped to
 * 1e15 s rather than wrapped: the wait ceiling refuses it either way.
 * Surrounding spaces and tabs (OWS) are ignored. 0 ok, -1 invalid. */
int retry_after_parse(const char *value, double now, double *delay);

/* X-RateLimit-Reset as Clever sends it (Unix epoch seconds, 1*DIGIT):
 * *delay = max(0, reset - now). 0 ok, -1 invalid. */
int ratelimit_reset_parse(const char *value, double now, double *delay);

#endif
