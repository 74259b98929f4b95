#include "net/httpdate.h"

#include <string.h>
#include <time.h>

static const char *const day_short[7] = {"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"};
static const char *const day_long[7] = {"Monday", "Tuesday",  "Wednesday", "Thursday",
					"Friday", "Saturday", "Sunday"};
static const char *const months[12] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
				       "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

/* The fields of a date before it is checked and turned into seconds. */
struct hd {
	int year, month, day, hour, min, sec; /* month 1-12 */
};

/* Grammar pieces. Each takes the cursor, consumes on success and returns
 * 0, or returns -1 and leaves the caller to give up. */

static int lit(const char **p, const char *s)
{
	size_t n = strlen(s);
	if (strncmp(*p, s, n))
		return -1;
	*p += n;
	return 0;
}

/* One of names[0..n), matched in full; *idx is its index. */
static int word(const char **p, const char *const *names, int n, int *idx)
{
	for (int i = 0; i < n; i++)
		if (!lit(p, names[i])) {
			*idx = i;
			return 0;
		}
	return -1;
}

/* Exactly width ASCII digits. */
static int digits(const char **p, int width, int *v)
{
	*v = 0;
	for (int i = 0; i < width; i++) {
		char c = (*p)[i];
		if (c < '0' || c > '9')
			return -1;
		*v = *v * 10 + (c - '0');
	}
	*p += width;
	return 0;
}

static int month(const char **p, int *m)
{
	if (word(p, months, 12, m))
		return -1;
	(*m)++;
	return 0;
}

/* time-of-day = hour ":" minute ":" second, 2DIGIT each. */
static int time_of_day(const char **p, struct hd *d)
{
	return digits(p, 2, &d->hour) || lit(p, ":") || digits(p, 2, &d->min) || lit(p, ":") ||
	       digits(p, 2, &d->sec);
}

/* IMF-fixdate = day-name "," SP date1 SP time-of-day SP GMT
 * date1 = day SP month SP year (2DIGIT, 4DIGIT year) */
static int imf_fixdate(const char *p, struct hd *d)
{
	int wd;
	return word(&p, day_short, 7, &wd) || lit(&p, ", ") || digits(&p, 2, &d->day) ||
	       lit(&p, " ") || month(&p, &d->month) || lit(&p, " ") || digits(&p, 4, &d->year) ||
	       lit(&p, " ") || time_of_day(&p, d) || lit(&p, " GMT") || *p;
}

/* rfc850-date = day-name-l "," SP date2 SP time-of-day SP GMT
 * date2 = day "-" month "-" 2DIGIT; the century is decided later. */
static int rfc850_date(const char *p, struct hd *d)
{
	int wd;
	return word(&p, day_long, 7, &wd) || lit(&p, ", ") || digits(&p, 2, &d->day) ||
	       lit(&p, "-") || month(&p, &d->month) || lit(&p, "-") || digits(&p, 2, &d->year) ||
	       lit(&p, " ") || time_of_day(&p, d) || lit(&p, " GMT") || *p;
}

/* asctime-date = day-name SP date3 SP time-of-day SP year
 * date3 = month SP ( 2DIGIT / ( SP DIGIT ) ) */
static int asctime_date(const char *p, struct hd *d)
{
	int wd;
	if (word(&p, day_short, 7, &wd) || lit(&p, " ") || month(&p, &d->month) || lit(&p, " "))
		return -1;
	if (*p == ' ') {
		p++;
		if (digits(&p, 1, &d->day))
			return -1;
	} else if (digits(&p, 2, &d->day)) {
		return -1;
	}
	return lit(&p, " ") || time_of_day(&p, d) || lit(&p, " ") || digits(&p, 4, &d->year) || *p;
}

static int is_leap(long long y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int days_in_month(long long y, int m)
{
	static const int dm[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	return dm[m - 1] + (m == 2 && is_leap(y));
}

/* Days from 0001-01-01 to January 1st of year y (y >= 1), Gregorian. */
static long long days_before_year(long long y)
{
	y--;
	return y * 365 + y / 4 - y / 100 + y / 400;
}

/* POSIX seconds of the fields, without range checks (a day past the end of
 * its month simply runs into the next one). */
static long long to_epoch(const struct hd *d)
{
	static const int before[12] = {0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334};
	long long days = days_before_year(d->year) - days_before_year(1970) +
			 before[d->month - 1] + (d->month > 2 && is_leap(d->year)) + d->day - 1;
	return days * 86400 + d->hour * 3600 + d->min * 60 + d->sec;
}

/* RFC 9110: a two-digit year that appears more than 50 years in the future
 * is the most recent past year with those digits. Start in now's century,
 * then move by a century into the window (now - 50 years, now + 50 years]:
 * a fixed pivot would drift wrong as the years pass. */
static void rfc850_century(struct hd *d, double now)
{
	/* A clock beyond year 5000 is broken; casting it would be undefined. */
	time_t t = now > -1e11 && now < 1e11 ? (time_t)now : 0;
	struct tm tm;
	gmtime_r(&t, &tm);
	int year_now = tm.tm_year + 1900;
	struct hd limit = {year_now + 50, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
			   tm.tm_sec};
	long long lim = to_epoch(&limit);
	d->year += year_now - year_now % 100;
	if (to_epoch(d) > lim) {
		d->year -= 100;
	} else {
		d->year += 100;
		if (to_epoch(d) > lim)
			d->year -= 100;
	}
}

int http_date_parse(const char *s, double now, long long *epoch)
{
	struct hd d = {0};
	if (!s)
		return -1;
	if (rfc850_date(s, &d) == 0)
		rfc850_century(&d, now);
	else if (imf_fixdate(s, &d) && asctime_date(s, &d))
		return -1;
	if (d.year < 1 || d.day < 1 || d.day > days_in_month(d.year, d.month) || d.hour > 23 ||
	    d.min > 59 || d.sec > 60)
		return -1;
	*epoch = to_epoch(&d);
	return 0;
}

/* A value with its surrounding OWS (SP / HTAB) removed: [*b, *e). */
static void trim(const char *v, const char **b, const char **e)
{
	*b = v;
	*e = v + strlen(v);
	while (*b < *e && (**b == ' ' || **b == '\t'))
		(*b)++;
	while (*e > *b && ((*e)[-1] == ' ' || (*e)[-1] == '\t'))
		(*e)--;
}

/* 1*DIGIT over [b, e) as a double, clamped at 1e15 so that a value of any
 * length stays finite and never wraps. */
static int digits_value(const char *b, const char *e, double *v)
{
	if (b == e)
		return -1;
	*v = 0;
	for (; b < e; b++) {
		if (*b < '0' || *b > '9')
			return -1;
		if (*v < 1e15)
			*v = *v * 10 + (*b - '0');
	}
	if (*v > 1e15)
		*v = 1e15;
	return 0;
}

int retry_after_parse(const char *value, double now, double *delay)
{
	const char *b, *e;
	char tmp[64];
	long long when;
	if (!value)
		return -1;
	trim(value, &b, &e);
	if (b < e && *b >= '0' && *b <= '9')
		return digits_value(b, e, delay);
	/* HTTP-dates are at most 33 characters; longer is not one. */
	if ((size_t)(e - b) >= sizeof tmp)
		return -1;
	memcpy(tmp, b, (size_t)(e - b));
	tmp[e - b] = '\0';
	if (http_date_parse(tmp, now, &when))
		return -1;
	*delay = (double)when > now ? (double)when - now : 0;
	return 0;
}

int ratelimit_reset_parse(const char *value, double now, double *delay)
{
	const char *b, *e;
	double reset;
	if (!value)
		return -1;
	trim(value, &b, &e);
	if (digits_value(b, e, &reset))
		return -1;
	*delay = reset > now ? reset - now : 0;
	return 0;
}
