#include "format/canon.h"
#include "core/buf.h"
#include "format/jsonw.h"

#include <string.h>

#define S(n) {n, CANON_STRING}
#define A(n) {n, CANON_ARRAY}
#define END {NULL, CANON_STRING}

static const struct canon_field orgs_f[] = {
	S("source"), S("source_id"), S("type"), S("name"), S("identifier"), S("parent_id"),
	S("status"), END};
static const struct canon_field people_f[] = {
	S("id"), S("source"), S("source_id"), S("role"), S("status"), S("given_name"),
	S("middle_name"), S("family_name"), S("email"), S("username"), S("employee_id"),
	S("sis_id"), S("state_id"), S("student_number"), S("grade"), A("org_ids"),
	S("job_title"), S("department"), S("updated_at"), S("status_reason"),
	{"sources", CANON_OBJECT_ARRAY}, {"field_sources", CANON_OBJECT}, END};
static const struct canon_field groups_f[] = {
	S("source"), S("source_id"), S("type"), S("name"), S("org_id"), S("course"),
	S("term_id"), S("subject"), A("grades"), END};
static const struct canon_field memberships_f[] = {
	S("source"), S("group_id"), S("person_id"), S("role"), S("person_source_id"), END};
static const struct canon_field positions_f[] = {
	S("source"), S("source_id"), S("employee_id"), S("title"), S("department"),
	S("location"), S("fte"), S("start_date"), S("end_date"), S("status"), END};
static const struct canon_field absences_f[] = {
	S("source"), S("source_id"), S("employee_id"), S("start"), S("end"), S("reason"),
	S("substitute_employee_id"), S("location"), END};
static const struct canon_field sessions_f[] = {
	S("source"), S("source_id"), S("type"), S("name"), S("start_date"), S("end_date"),
	S("parent_id"), END};

static const char *const k_src[] = {"source", "source_id", NULL};
static const char *const k_people[] = {"id", "source", "source_id", NULL};
static const char *const k_memb[] = {"source", "group_id", "person_id", "role", NULL};

const struct canon_stream canon_streams[] = {
	{"orgs", orgs_f, k_src, k_src},
	{"people", people_f, k_src, k_people},
	{"groups", groups_f, k_src, k_src},
	{"memberships", memberships_f, k_memb, k_memb},
	{"positions", positions_f, k_src, k_src},
	{"absences", absences_f, k_src, k_src},
	{"sessions", sessions_f, k_src, k_src},
};
const int canon_nstreams = sizeof canon_streams / sizeof canon_streams[0];

const struct canon_stream *canon_find(const char *name)
{
	for (int i = 0; i < canon_nstreams; i++)
		if (!strcmp(canon_streams[i].name, name))
			return &canon_streams[i];
	return NULL;
}

int canon_field_index(const struct canon_stream *s, const char *field)
{
	for (int i = 0; s->fields[i].name; i++)
		if (!strcmp(s->fields[i].name, field))
			return i;
	return -1;
}

const char *canon_schema_json(const struct canon_stream *s)
{
	static char *cache[16];
	int idx = (int)(s - canon_streams);
	if (idx < 0 || idx >= canon_nstreams)
		return "{}";
	if (cache[idx])
		return cache[idx];
	struct buf b;
	buf_init(&b, 0);
	buf_adds(&b, "{\"type\":\"object\",\"properties\":{");
	for (int i = 0; s->fields[i].name; i++) {
		jsonw_key(&b, s->fields[i].name, i == 0);
		switch (s->fields[i].type) {
		case CANON_STRING: buf_adds(&b, "{\"type\":[\"string\",\"null\"]}"); break;
		case CANON_ARRAY:
			buf_adds(&b, "{\"type\":\"array\",\"items\":{\"type\":\"string\"}}");
			break;
		case CANON_OBJECT_ARRAY:
			buf_adds(&b, "{\"type\":\"array\",\"items\":{\"type\":\"object\"}}");
			break;
		case CANON_OBJECT: buf_adds(&b, "{\"type\":\"object\"}"); break;
		}
	}
	buf_adds(&b, "}}");
	cache[idx] = buf_steal(&b);
	return cache[idx];
}
