/* Tyler Munis HR -> canonical streams: all of normalize's Munis knowledge.
 * The raw stream munis_employees has one record per row of the district's
 * HR extract, several rows per employee when the file lists each job
 * (vendor reference, section 4.3); extract-sftp has already turned dates
 * into YYYY-MM-DD, FTE into a number and PrimaryJob into a boolean.
 *
 * Every row is a position (source_id EmployeeNumber/JobClass/Location, an
 * absent part empty). One person per EmployeeNumber per run: the first
 * row of the employee whose PrimaryJob is true, or absent (a file without
 * that column, or a blank cell), makes the person; later rows of that
 * employee make positions only, as they would repeat the person with
 * another title. A row whose PrimaryJob is false makes no person, so an
 * employee whose rows all say false has none (the file names no primary
 * job: the district's export should mark one). EmployeeNumber is kept
 * exactly as given ("004417" stays zero-padded): it is what the
 * district's other systems call the employee.
 *
 * Status comes from the district's STAT codes through the status code
 * table (mapping.h, --status-codes): a code the table lacks leaves the
 * status out and is counted with a warning, never guessed. An inactive
 * person's status_reason is "<code> in Munis", with " since <TermDate>"
 * when the row has one. */
#include "format/jsonw.h"
#include "engine/mapping.h"
#include "vendor/munis/munis.h"

#include <stdio.h>
#include <string.h>

static const char unknown_code[] =
	"rows whose Status code is not in the status code table (status left out; "
	"--status-codes or the job's status_codes sets the codes)";
static const char no_status[] = "rows without a Status (status left out)";

enum { PEOPLE, POSITIONS }; /* munis_employees feeds, in order */

/* A non-empty string value of key, or -1. */
static int get_text(struct jscan *js, int rec, const char *key)
{
	int v = map_get(js, rec, key);
	return v >= 0 && js->tok[v].type == JSCAN_STRING && js->tok[v].start != js->tok[v].end ? v
												   : -1;
}

/* The first of keys whose value is present and not null, or -1. */
static int first_of(struct jscan *js, int rec, const char *a, const char *b)
{
	int v = map_get(js, rec, a);
	return v >= 0 ? v : map_get(js, rec, b);
}

/* The row's status by the table: "active", "inactive" or NULL (counted). */
static const char *row_status(struct map_ctx *c, struct jscan *js, struct map_sink *out, int code)
{
	if (code < 0) {
		out->left_out(out, no_status, 1);
		return NULL;
	}
	buf_reset(&c->key);
	if (jscan_unescape(js, code, &c->key))
		return NULL;
	const char *s = map_status_of(c, c->key.data, c->key.len);
	if (!s)
		out->left_out(out, unknown_code, 1);
	return s;
}

/* ,"source_id":"EmployeeNumber/JobClass/Location" */
static int position_id(struct map_ctx *c, struct jscan *js, struct buf *b, int num, int job,
		       int loc)
{
	struct buf *v = &c->val;
	buf_reset(v);
	if (jscan_unescape(js, num, v) || buf_addc(v, '/') ||
	    (job >= 0 && jscan_unescape(js, job, v)) || buf_addc(v, '/') ||
	    (loc >= 0 && jscan_unescape(js, loc, v)))
		return -1;
	return jsonw_key(b, "source_id", 0) || jsonw_strn(b, v->data, v->len);
}

/* ,"status_reason":"<code> in Munis[ since <TermDate>]" */
static int reason(struct map_ctx *c, struct jscan *js, struct buf *b, int code, int term)
{
	struct buf *v = &c->val;
	buf_reset(v);
	if (jscan_unescape(js, code, v) || buf_adds(v, " in Munis") ||
	    (term >= 0 && (buf_adds(v, " since ") || jscan_unescape(js, term, v))))
		return -1;
	return jsonw_key(b, "status_reason", 0) || jsonw_strn(b, v->data, v->len);
}

static int person(struct map_ctx *c, struct jscan *js, int rec, struct map_sink *out, int num,
		  const char *status, int code)
{
	int given = get_text(js, rec, "PreferredName");
	if (given < 0)
		given = map_get(js, rec, "FirstName");
	int loc = map_get(js, rec, "Location");
	int term = get_text(js, rec, "TermDate");
	struct buf *b = out->begin(out, PEOPLE);
	if (!b || map_head(js, b, "munis", num) || buf_adds(b, ",\"role\":\"staff\"") ||
	    map_put_const(b, "status", status) ||
	    map_put_value(js, out, b, "given_name", given) ||
	    map_put_value(js, out, b, "middle_name", map_get(js, rec, "MiddleInitial")) ||
	    map_put_value(js, out, b, "family_name", map_get(js, rec, "LastName")) ||
	    map_put_value(js, out, b, "email", map_get(js, rec, "WorkEmail")) ||
	    map_put_value(js, out, b, "employee_id", num))
		return -1;
	if (loc >= 0) {
		size_t mark = b->len;
		if (jsonw_key(b, "org_ids", 0) || buf_addc(b, '['))
			return -1;
		int rc = jscan_put_string(js, loc, b);
		if (rc < 0)
			return -1;
		if (rc > 0) {
			b->len = mark;
			b->data[mark] = 0;
			out->left_out(out, map_wrong_type, 1);
		} else if (buf_addc(b, ']')) {
			return -1;
		}
	}
	if (map_put_value(js, out, b, "job_title", map_get(js, rec, "JobClassDesc")) ||
	    map_put_value(js, out, b, "department", map_get(js, rec, "Department")))
		return -1;
	if (status && !strcmp(status, "inactive") && reason(c, js, b, code, term))
		return -1;
	return buf_addc(b, '}') || out->end(out);
}

/* Whether employee num has no person yet this run: 1 (now it has), 0,
 * or -1 (out of memory). */
static int first_person(struct map_ctx *c, struct jscan *js, int num)
{
	buf_reset(&c->key);
	if (jscan_unescape(js, num, &c->key))
		return -1;
	return map_first_time(&c->state->seen, c->key.data, c->key.len);
}

/* A code that can be part of an id: text or a number, else -1. */
static int id_part(struct jscan *js, int v)
{
	return v >= 0 && (js->tok[v].type == JSCAN_STRING || js->tok[v].type == JSCAN_NUMBER) ? v : -1;
}

static int position(struct map_ctx *c, struct jscan *js, int rec, struct map_sink *out, int num,
		    const char *status)
{
	int job = id_part(js, map_get(js, rec, "JobClass"));
	int loc = id_part(js, map_get(js, rec, "Location"));
	struct buf *b = out->begin(out, POSITIONS);
	if (!b || buf_adds(b, "{\"source\":\"munis\"") || position_id(c, js, b, num, job, loc) ||
	    map_put_value(js, out, b, "employee_id", num) ||
	    map_put_value(js, out, b, "title", first_of(js, rec, "JobClassDesc", "JobClass")) ||
	    map_put_value(js, out, b, "department", map_get(js, rec, "Department")) ||
	    map_put_value(js, out, b, "location", first_of(js, rec, "LocationDesc", "Location")) ||
	    /* a JSON number's text as the file gave it: 1.000 stays "1.000" */
	    map_put_value(js, out, b, "fte", map_get(js, rec, "FTE")) ||
	    map_put_value(js, out, b, "start_date", map_get(js, rec, "HireDate")) ||
	    map_put_value(js, out, b, "end_date", map_get(js, rec, "TermDate")) ||
	    map_put_const(b, "status", status) || buf_addc(b, '}'))
		return -1;
	return out->end(out);
}

MAPPER(map_employee)
{
	int num = map_id(js, rec, "EmployeeNumber", why, whylen);
	if (num < 0)
		return MAP_BAD;
	/* a code is text ("A"); a district's numeric codes may come as numbers */
	int code = get_text(js, rec, "Status");
	if (code < 0 && (code = map_get(js, rec, "Status")) >= 0 &&
	    js->tok[code].type != JSCAN_NUMBER)
		code = -1;
	const char *status = row_status(ctx, js, out, code);
	int primary = map_get(js, rec, "PrimaryJob");
	if (primary >= 0 && js->tok[primary].type != JSCAN_TRUE &&
	    js->tok[primary].type != JSCAN_FALSE) {
		out->left_out(out, map_wrong_type, 1);
		primary = -1; /* as if the file had no such column */
	}
	int make = primary < 0 || js->tok[primary].type == JSCAN_TRUE;
	if (make && (make = first_person(ctx, js, num)) < 0)
		return MAP_FAIL;
	if (make && person(ctx, js, rec, out, num, status, code))
		return MAP_FAIL;
	if (position(ctx, js, rec, out, num, status))
		return MAP_FAIL;
	return MAP_OK;
}

const struct mapper map_munis[] = {
	{"munis_employees", {"people", "positions", NULL}, map_employee},
	{NULL, {NULL}, NULL},
};
