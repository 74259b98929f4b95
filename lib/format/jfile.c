#include "format/jfile.h"
#include "core/buf.h"

#include <errno.h>
#include <string.h>

cJSON *jfile_read(const char *path, size_t cap, struct rt_err *e)
{
	struct buf b;
	cJSON *j = NULL;
	buf_init(&b, cap ? cap : (size_t)64 << 20);
	if (buf_read_file(&b, path)) {
		if (errno != ENOENT)
			err_set(e, ERR_IO, "%s: %s", path, strerror(errno));
	} else if (!(j = cJSON_ParseWithLength(b.data ? b.data : "", b.len))) {
		err_set(e, ERR_DATA, "%s: not JSON", path);
	}
	buf_free(&b);
	return j;
}

const char *jfile_str(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
	return cJSON_IsString(v) ? v->valuestring : "";
}

double jfile_num(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
	return cJSON_IsNumber(v) ? v->valuedouble : 0;
}
