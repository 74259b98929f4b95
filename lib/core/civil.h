#ifndef ROSTER_CIVIL_H
#define ROSTER_CIVIL_H

/* Civil dates as day numbers: days since 1970-01-01 in the proleptic
 * Gregorian calendar (negative before it). Pure arithmetic, no time zone:
 * the drop engine and the Frontline mapper walk school days with it. */

/* The day number of y-m-d (m 1-12, d 1-31, not checked). */
long civil_to_days(long y, int m, int d);
/* The y-m-d of day number z. */
void civil_from_days(long z, long *y, int *m, int *d);
/* "YYYY-MM-DD" of day number z. */
void civil_format(long z, char out[32]);
/* 0 Sunday .. 6 Saturday. */
int civil_weekday(long z);
/* Saturday or Sunday: no school. */
int civil_weekend(long z);
/* The days of month m (1-12) of year y. */
int civil_month_days(long y, int m);

#endif
