#include "format/singer_read.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static const char *const type_names[] = {NULL, "SCHEMA", "RECORD", "STATE", "ACTIVATE_VERSION"};

static int bad(struct rt_err *e, const char *what, const char *type)
{
	err_set(e, ERR_DATA, "not a Singer message: %s%s%s", type ? type : "", type ? " " : "",
		what);
	return -1;
}

static int read_stream(struct jscan *js, int tok, struct singer_msg *m, struct rt_err *e)
{
	const struct jtok *t = &js->tok[tok];
	const char *name = type_names[m->type];
	if (t->type != JSCAN_STRING)
		return bad(e, "has a \"stream\" that is not a string", name);
	struct buf b;
	buf_init(&b, SINGER_STREAM_MAX - 1);
	int rc = jscan_unescape(js, tok, &b);
	if (!rc && b.len)
		memcpy(m->stream, b.data, b.len + 1);
	buf_free(&b);
	if (rc)
		return bad(e, "has a stream name over 127 bytes", name);
	if (!m->stream[0])
		return bad(e, "has an empty stream name", name);
	return 0;
}

static int read_version(struct jscan *js, int tok, struct singer_msg *m, struct rt_err *e)
{
	const struct jtok *t = &js->tok[tok];
	const char *p = js->text + t->start;
	char *end;
	if (t->type != JSCAN_NUMBER)
		return bad(e, "has a \"version\" that is not a number", "ACTIVATE_VERSION");
	errno = 0;
	m->version = strtoll(p, &end, 10);
	if (errno || end != js->text + t->end)
		return bad(e, "has a \"version\" that is not a whole number", "ACTIVATE_VERSION");
	return 0;
}

int singer_read(struct jscan *js, const char *line, size_t len, struct singer_msg *m,
		struct rt_err *e)
{
	enum { K_TYPE, K_STREAM, K_RECORD, K_VALUE, K_SCHEMA, K_VERSION, K_TIME, NKEYS };
	static const char *const keys[NKEYS] = {"type",   "stream",  "record",	       "value",
						"schema", "version", "time_extracted"};
	int at[NKEYS];

	memset(m, 0, sizeof *m);
	m->body = m->time_extracted = -1;
	if (jscan_parse(js, line, len)) {
		err_set(e, ERR_DATA, "not JSON: %s at column %zu", js->err, js->err_pos + 1);
		return -1;
	}
	const struct jtok *t = js->tok;
	if (t[0].type != JSCAN_OBJECT)
		return bad(e, "is JSON but not an object", NULL);
	/* one pass over the top-level keys; the first of a duplicate wins */
	for (int i = 0; i < NKEYS; i++)
		at[i] = -1;
	for (int k = 1, i = 0; i < t[0].size; i++, k = t[k + 1].next)
		for (int j = 0; j < NKEYS; j++)
			if (at[j] < 0 && jscan_streq(js, k, keys[j], strlen(keys[j]))) {
				at[j] = k + 1;
				break;
			}
	if (at[K_TYPE] < 0)
		return bad(e, "has no \"type\"", NULL);
	for (int i = SINGER_SCHEMA; i <= SINGER_ACTIVATE; i++)
		if (jscan_streq(js, at[K_TYPE], type_names[i], strlen(type_names[i])))
			m->type = (enum singer_type)i;
	if (!m->type)
		return bad(e, "has a \"type\" other than SCHEMA, RECORD, STATE, ACTIVATE_VERSION",
			   NULL);
	const char *name = type_names[m->type];
	if (m->type != SINGER_STATE) {
		if (at[K_STREAM] < 0)
			return bad(e, "has no \"stream\"", name);
		if (read_stream(js, at[K_STREAM], m, e))
			return -1;
	}
	switch (m->type) {
	case SINGER_RECORD:
		if ((m->body = at[K_RECORD]) < 0)
			return bad(e, "has no \"record\"", name);
		m->time_extracted = at[K_TIME];
		break;
	case SINGER_STATE:
		if ((m->body = at[K_VALUE]) < 0)
			return bad(e, "has no \"value\"", name);
		break;
	case SINGER_SCHEMA:
		m->body = at[K_SCHEMA]; /* normalize writes its own schemas */
		break;
	case SINGER_ACTIVATE:
		if (at[K_VERSION] < 0)
			return bad(e, "has no \"version\"", name);
		return read_version(js, at[K_VERSION], m, e);
	}
	return 0;
}
