/* Frontline Absence Management (formerly Aesop) -> canonical streams: all
 * of normalize's Frontline knowledge. The raw stream frontline_absences
 * has one record per absence day of a Report Writer export, or one per
 * absence of the Aesop daily file (vendor reference, sections 5.2-5.4);
 * extract-sftp has already turned dates into YYYY-MM-DD, times into HH:MM
 * and Days into a number, and removed cancellations (Deleted).
 *
 * absences, one per day:
 *   source_id  "<ConfirmationNumber>/<date>", else "<EmployeeExternalId>/
 *              <date>", else (a vacancy in the Aesop file) "vacancy/<date>"
 *   start/end  "<date>T<StartTime>" and "<date>T<EndTime>" when the time is
 *              given, else the date alone
 *   reason     AbsenceReason as given. The canonical model has no duration
 *              field, so a part of a day is said in the reason: a Duration
 *              that starts with "Half Day" is added in parentheses
 *              ("Personal Illness (Half Day AM)"); without such a Duration,
 *              a day the Days count covers only in part gets "(Half Day)"
 *              for a half and "(partial day)" otherwise (Days 0.5: its one
 *              day; Days 2.5: the last). Without an AbsenceReason the
 *              note alone is the reason ("Half Day AM"). Full Day, Custom
 *              and times given add nothing: the times say it.
 * A multi-day record (Aesop: Days > 1) becomes ceil(Days) absences on
 * consecutive school days: AbsenceDate, then the following weekdays
 * (Saturday and Sunday skipped), each with its own date in source_id.
 *
 * people: the absent employee (EmployeeExternalId), once per run however
 * many absences name them, role staff, given and family name from
 * EmployeeName "Last, First" (a name without a comma is the family name),
 * job_title from Title. No status: Frontline does not say who is active.
 * A vacancy (no EmployeeExternalId) makes no person.
 *
 * A record with Deleted true should never get here: it is left out and
 * counted with a warning (the absence it cancels may have gone by). */
#include "core/civil.h"
#include "format/jsonw.h"
#include "engine/mapping.h"
#include "vendor/frontline/frontline.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAX_DAYS 400 /* a multi-day absence longer than a school year is a bad record */

static const char cancelled[] =
	"cancelled absences (Deleted true; the ingest removes cancellations before normalize)";
static const char bad_time[] = "absence times that are not HH:MM (the date alone is used)";

enum { ABSENCES, PEOPLE }; /* frontline_absences feeds, in order */

/* An id: a non-empty string or a number at key, or -1. */
static int get_id(struct jscan *js, int rec, const char *key)
{
	int v = map_get(js, rec, key);
	if (v < 0)
		return -1;
	const struct jtok *t = &js->tok[v];
	return (t->type == JSCAN_STRING && t->start != t->end) || t->type == JSCAN_NUMBER ? v : -1;
}

static int digits(const char *s, int n)
{
	int v = 0;
	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

/* The day number of "YYYY-MM-DD" at string token tok, or -1 with *ok 0. */
static long parse_date(struct jscan *js, int tok, int *ok)
{
	*ok = 0;
	if (tok < 0 || js->tok[tok].type != JSCAN_STRING || js->tok[tok].escaped ||
	    js->tok[tok].end - js->tok[tok].start != 10)
		return -1;
	const char *s = js->text + js->tok[tok].start;
	int y = digits(s, 4), m = digits(s + 5, 2), d = digits(s + 8, 2);
	if (s[4] != '-' || s[7] != '-' || y < 0 || m < 1 || m > 12 || d < 1 ||
	    d > civil_month_days(y, m))
		return -1;
	*ok = 1;
	return civil_to_days(y, m, d);
}

/* The HH:MM text at string token tok, or NULL. */
static const char *hhmm(struct jscan *js, int tok)
{
	if (tok < 0 || js->tok[tok].type != JSCAN_STRING || js->tok[tok].escaped ||
	    js->tok[tok].end - js->tok[tok].start != 5)
		return NULL;
	const char *s = js->text + js->tok[tok].start;
	int h = digits(s, 2), m = digits(s + 3, 2);
	return s[2] == ':' && h >= 0 && h < 24 && m >= 0 && m < 60 ? s : NULL;
}

/* The time at key, or NULL (absent, or not HH:MM: counted). */
static const char *time_of(struct jscan *js, int rec, struct map_sink *out, const char *key)
{
	int v = map_get(js, rec, key);
	const char *t = hhmm(js, v);
	if (v >= 0 && !t)
		out->left_out(out, bad_time, 1);
	return t;
}

/* ,"field":"YYYY-MM-DD[THH:MM]" */
static int put_when(struct buf *b, const char *field, const char *date, const char *time)
{
	char s[32];
	snprintf(s, sizeof s, "%s%s%.5s", date, time ? "T" : "", time ? time : "");
	return jsonw_key(b, field, 0) || jsonw_str(b, s);
}

/* The person of employee id emp, unless one was made already this run. */
static int person(struct map_ctx *c, struct jscan *js, int rec, struct map_sink *out, int emp)
{
	buf_reset(&c->key);
	if (jscan_unescape(js, emp, &c->key))
		return -1;
	int first = map_first_time(&c->state->seen, c->key.data, c->key.len);
	if (first <= 0)
		return first;

	/* "Last, First": split at the first comma, blanks around each part trimmed */
	const char *given = NULL, *family = NULL;
	size_t gl = 0, fl = 0;
	int name = map_get(js, rec, "EmployeeName");
	buf_reset(&c->val);
	if (name >= 0 && js->tok[name].type == JSCAN_STRING) {
		if (jscan_unescape(js, name, &c->val))
			return -1;
		const char *s = c->val.data, *end = s + c->val.len;
		const char *comma = memchr(s, ',', c->val.len);
		const char *fe = comma ? comma : end;
		while (s < fe && strchr(" \t", *s))
			s++;
		while (fe > s && strchr(" \t", fe[-1]))
			fe--;
		family = s;
		fl = (size_t)(fe - s);
		if (comma) {
			const char *g = comma + 1, *ge = end;
			while (g < ge && strchr(" \t", *g))
				g++;
			while (ge > g && strchr(" \t", ge[-1]))
				ge--;
			given = g;
			gl = (size_t)(ge - g);
		}
	} else if (name >= 0) {
		out->left_out(out, map_wrong_type, 1);
	}

	struct buf *b = out->begin(out, PEOPLE);
	if (!b || map_head(js, b, "frontline", emp) || buf_adds(b, ",\"role\":\"staff\"") ||
	    (gl && (jsonw_key(b, "given_name", 0) || jsonw_strn(b, given, gl))) ||
	    (fl && (jsonw_key(b, "family_name", 0) || jsonw_strn(b, family, fl))) ||
	    map_put_value(js, out, b, "employee_id", emp) ||
	    map_put_value(js, out, b, "job_title", map_get(js, rec, "Title")) || buf_addc(b, '}'))
		return -1;
	return out->end(out);
}

enum { NOTE_NONE, NOTE_DURATION, NOTE_HALF, NOTE_PARTIAL };

/* The part-of-a-day note of day i of n (see the top). half: the Duration
 * starts with "Half Day"; other: it says something else (Full Day). */
static int day_note(int half, int other, double days, int i, int n)
{
	if (half)
		return NOTE_DURATION;
	double part = days - floor(days);
	if (other || i != n - 1 || !(days > 0) || part == 0)
		return NOTE_NONE;
	return part == 0.5 ? NOTE_HALF : NOTE_PARTIAL;
}

/* The reason of one day in r: AbsenceReason, then the note in parentheses
 * (or the note alone). 0, or -1 when r is full. */
static int day_reason(struct jscan *js, struct buf *r, int reason, int note, int duration)
{
	static const char *const text[] = {NULL, NULL, "Half Day", "partial day"};
	buf_reset(r);
	if (reason >= 0 && jscan_unescape(js, reason, r))
		return -1;
	if (note == NOTE_NONE)
		return 0;
	int paren = r->len > 0;
	if ((paren && buf_adds(r, " (")) ||
	    (note == NOTE_DURATION ? jscan_unescape(js, duration, r) : buf_adds(r, text[note])) ||
	    (paren && buf_addc(r, ')')))
		return -1;
	return 0;
}

MAPPER(map_absence)
{
	int del = map_get(js, rec, "Deleted");
	if (del >= 0 && js->tok[del].type == JSCAN_TRUE) {
		out->left_out(out, cancelled, 1);
		return MAP_OK;
	}
	int ok, dtok = map_get(js, rec, "AbsenceDate");
	long day = parse_date(js, dtok, &ok);
	if (!ok) {
		snprintf(why, whylen, dtok < 0 ? "it has no \"AbsenceDate\""
					       : "its \"AbsenceDate\" is not a date (YYYY-MM-DD)");
		return MAP_BAD;
	}

	double days = 1;
	int dn = map_get(js, rec, "Days");
	if (dn >= 0 && js->tok[dn].type == JSCAN_NUMBER)
		days = strtod(js->text + js->tok[dn].start, NULL);
	else if (dn >= 0)
		out->left_out(out, map_wrong_type, 1);
	int ndays = days > 1 ? (int)fmin(ceil(days), MAX_DAYS + 1) : 1;
	if (ndays > MAX_DAYS) {
		snprintf(why, whylen, "its \"Days\" is over %d (more than a school year)", MAX_DAYS);
		return MAP_BAD;
	}

	int conf = get_id(js, rec, "ConfirmationNumber");
	int emp = get_id(js, rec, "EmployeeExternalId");
	int id = conf >= 0 ? conf : emp;
	const char *start = time_of(js, rec, out, "StartTime");
	const char *end = time_of(js, rec, out, "EndTime");
	int reason = map_get(js, rec, "AbsenceReason");
	if (reason >= 0 && js->tok[reason].type != JSCAN_STRING) {
		out->left_out(out, map_wrong_type, 1);
		reason = -1;
	}
	/* whether Duration says a half day, or something else */
	int duration = map_get(js, rec, "Duration"), half = 0, other = 0;
	if (duration >= 0 && js->tok[duration].type == JSCAN_STRING) {
		buf_reset(&ctx->val);
		if (jscan_unescape(js, duration, &ctx->val))
			return MAP_FAIL;
		half = ctx->val.len >= 8 && !strncasecmp(ctx->val.data, "Half Day", 8);
		other = !half && ctx->val.len;
	} else if (duration >= 0) {
		out->left_out(out, map_wrong_type, 1);
	}
	int sub = map_get(js, rec, "SubstituteExternalId");
	int loc = map_get(js, rec, "Location");

	if (emp >= 0 && person(ctx, js, rec, out, emp))
		return MAP_FAIL;

	for (int i = 0, k = 0; i < ndays; i++, k++) {
		while (i && civil_weekend(day + k))
			k++; /* the next school day */
		char date[32];
		civil_format(day + k, date);

		/* source_id in val, reason in key */
		struct buf *v = &ctx->val, *r = &ctx->key;
		int note = day_note(half, other, days, i, ndays);
		buf_reset(v);
		struct buf *b = NULL;
		if ((id >= 0 ? jscan_unescape(js, id, v) : buf_adds(v, "vacancy")) ||
		    buf_addc(v, '/') || buf_adds(v, date) ||
		    day_reason(js, r, reason, note, duration) ||
		    !(b = out->begin(out, ABSENCES)) ||
		    buf_adds(b, "{\"source\":\"frontline\",\"source_id\":") ||
		    jsonw_strn(b, v->data, v->len) || map_put_value(js, out, b, "employee_id", emp) ||
		    put_when(b, "start", date, start) || put_when(b, "end", date, end) ||
		    ((reason >= 0 || note) &&
		     (jsonw_key(b, "reason", 0) || jsonw_strn(b, r->data, r->len))) ||
		    map_put_value(js, out, b, "substitute_employee_id", sub) ||
		    map_put_value(js, out, b, "location", loc) || buf_addc(b, '}') || out->end(out))
			return MAP_FAIL;
	}
	return MAP_OK;
}

const struct mapper map_frontline[] = {
	{"frontline_absences", {"absences", "people", NULL}, map_absence},
	{NULL, {NULL}, NULL},
};
