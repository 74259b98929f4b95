#include "format/logjson.h"
#include "core/buf.h"
#include "core/clock.h"
#include "format/jsonw.h"

#include <stdio.h>

void logjson_write(enum log_level lvl, const char *msg, const struct rt_err *e)
{
	struct buf b;
	char ts[40];
	buf_init(&b, 1 << 20);
	clk_iso8601(clk_now(), ts, sizeof ts);
	buf_adds(&b, "{\"time\":");
	jsonw_str(&b, ts);
	buf_adds(&b, ",\"prog\":");
	jsonw_str(&b, log_prog());
	buf_adds(&b, ",\"level\":");
	jsonw_str(&b, log_level_name(lvl));
	if (e) {
		buf_adds(&b, ",\"kind\":");
		jsonw_str(&b, err_kind_name(e->kind));
		if (e->source[0]) {
			buf_adds(&b, ",\"source\":");
			jsonw_str(&b, e->source);
		}
		if (e->endpoint[0]) {
			buf_adds(&b, ",\"endpoint\":");
			jsonw_str(&b, e->endpoint);
		}
		if (e->status)
			buf_printf(&b, ",\"status\":%d", e->status);
		if (e->code[0]) {
			buf_adds(&b, ",\"code\":");
			jsonw_str(&b, e->code);
		}
		if (e->hint[0]) {
			buf_adds(&b, ",\"hint\":");
			jsonw_str(&b, e->hint);
		}
		if (e->wait > 0)
			buf_printf(&b, ",\"wait\":%.3f", e->wait);
	}
	buf_adds(&b, ",\"msg\":");
	jsonw_str(&b, msg);
	buf_adds(&b, "}\n");
	fwrite(b.data, 1, b.len, stderr);
	buf_free(&b);
}
