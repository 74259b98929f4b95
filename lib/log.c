#include "log.h"
#include "buf.h"
#include "clock.h"
#include "jsonw.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static const char *g_prog = "roster";
static enum log_format g_fmt = LOG_TEXT;
static enum log_level g_min = LOG_INFO;
static const char *level_names[] = {"debug", "info", "warning", "error"};

void log_init(const char *prog, enum log_format fmt, enum log_level min)
{
	const char *slash = strrchr(prog, '/');
	g_prog = slash ? slash + 1 : prog;
	g_fmt = fmt;
	g_min = min;
}

const char *log_prog(void)
{
	return g_prog;
}

int log_parse_format(const char *s, enum log_format *out)
{
	if (!strcmp(s, "text"))
		*out = LOG_TEXT;
	else if (!strcmp(s, "json"))
		*out = LOG_JSON;
	else
		return -1;
	return 0;
}

static void emit_json(enum log_level lvl, const char *msg, const struct rt_err *e)
{
	struct buf b;
	char ts[40];
	buf_init(&b, 1 << 20);
	clk_iso8601(clk_now(), ts, sizeof ts);
	buf_adds(&b, "{\"time\":");
	jsonw_str(&b, ts);
	buf_adds(&b, ",\"prog\":");
	jsonw_str(&b, g_prog);
	buf_adds(&b, ",\"level\":");
	jsonw_str(&b, level_names[lvl]);
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

void log_msg(enum log_level lvl, const char *fmt, ...)
{
	char msg[2048];
	va_list ap;
	if (lvl < g_min)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	err_redact_str(msg);
	if (g_fmt == LOG_JSON)
		emit_json(lvl, msg, NULL);
	else
		fprintf(stderr, "%s: %s%s%s\n", g_prog, lvl == LOG_INFO ? "" : level_names[lvl],
			lvl == LOG_INFO ? "" : ": ", msg);
}

void log_err(enum log_level lvl, const struct rt_err *e)
{
	char line[2048];
	if (lvl < g_min)
		return;
	if (g_fmt == LOG_JSON) {
		struct rt_err copy = *e;
		err_redact(&copy);
		emit_json(lvl, copy.msg, &copy);
		return;
	}
	err_format(e, line, sizeof line);
	fprintf(stderr, "%s: %s: %s\n", g_prog, level_names[lvl], line);
}
