#include "format/singer.h"
#include "core/buf.h"
#include "format/jsonw.h"

#include <string.h>

static int put(FILE *fp, struct buf *b)
{
	int rc = 0;
	if (!b->data || fwrite(b->data, 1, b->len, fp) != b->len || ferror(fp))
		rc = -1;
	buf_free(b);
	return rc;
}

int singer_schema(FILE *fp, const char *stream, const char *schema_json,
		  const char *const *keys)
{
	struct buf b;
	buf_init(&b, 0);
	buf_adds(&b, "{\"type\":\"SCHEMA\",\"stream\":");
	jsonw_str(&b, stream);
	buf_adds(&b, ",\"schema\":");
	buf_adds(&b, schema_json);
	buf_adds(&b, ",\"key_properties\":[");
	for (int i = 0; keys && keys[i]; i++) {
		if (i)
			buf_addc(&b, ',');
		jsonw_str(&b, keys[i]);
	}
	buf_adds(&b, "]}\n");
	return put(fp, &b);
}

int singer_record(FILE *fp, const char *stream, const char *record, size_t len,
		  const char *time_extracted)
{
	struct buf b;
	buf_init(&b, 0);
	buf_adds(&b, "{\"type\":\"RECORD\",\"stream\":");
	jsonw_str(&b, stream);
	buf_adds(&b, ",\"record\":");
	buf_add(&b, record, len);
	if (time_extracted) {
		buf_adds(&b, ",\"time_extracted\":");
		jsonw_str(&b, time_extracted);
	}
	buf_adds(&b, "}\n");
	return put(fp, &b);
}

int singer_state(FILE *fp, const char *value_json)
{
	struct buf b;
	buf_init(&b, 0);
	buf_adds(&b, "{\"type\":\"STATE\",\"value\":");
	buf_adds(&b, value_json);
	buf_adds(&b, "}\n");
	return put(fp, &b);
}

int singer_activate(FILE *fp, const char *stream, long long version)
{
	struct buf b;
	buf_init(&b, 0);
	buf_adds(&b, "{\"type\":\"ACTIVATE_VERSION\",\"stream\":");
	jsonw_str(&b, stream);
	buf_printf(&b, ",\"version\":%lld}\n", version);
	return put(fp, &b);
}
