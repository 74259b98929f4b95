#include "core/civil.h"

#include <stdio.h>

/* Howard Hinnant's days_from_civil and civil_from_days: eras of 400
 * years (146097 days) make them exact for any year, negative ones too. */

long civil_to_days(long y, int m, int d)
{
	y -= m <= 2;
	long era = (y >= 0 ? y : y - 399) / 400;
	long yoe = y - era * 400;
	long doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

void civil_from_days(long z, long *y, int *m, int *d)
{
	z += 719468;
	long era = (z >= 0 ? z : z - 146096) / 146097;
	long doe = z - era * 146097;
	long yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	long doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	long mp = (5 * doy + 2) / 153;
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = yoe + era * 400 + (*m <= 2);
}

void civil_format(long z, char out[32])
{
	long y;
	int m, d;
	civil_from_days(z, &y, &m, &d);
	snprintf(out, 32, "%04ld-%02d-%02d", y, m, d);
}

int civil_weekday(long z)
{
	return (int)(((z % 7) + 7 + 4) % 7); /* 1970-01-01 was a Thursday; z % 7 may be negative */
}

int civil_weekend(long z)
{
	int wd = civil_weekday(z);
	return wd == 0 || wd == 6;
}

int civil_month_days(long y, int m)
{
	static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	return m == 2 && leap ? 29 : days[m - 1];
}
