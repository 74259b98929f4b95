#include "core/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static const char *g_prog = "roster";
static log_writer g_writer; /* NULL: text */
static enum log_level g_min = LOG_INFO;
static const char *level_names[] = {"debug", "info", "warning", "error"};

void log_init(const char *prog, log_writer w, enum log_level min)
{
	const char *slash = strrchr(prog, '/');
	g_prog = slash ? slash + 1 : prog;
	g_writer = w;
	g_min = min;
}

const char *log_level_name(enum log_level lvl)
{
	return level_names[lvl];
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
	if (g_writer)
		g_writer(lvl, msg, NULL);
	else
		fprintf(stderr, "%s: %s%s%s\n", g_prog, lvl == LOG_INFO ? "" : level_names[lvl],
			lvl == LOG_INFO ? "" : ": ", msg);
}

void log_err(enum log_level lvl, const struct rt_err *e)
{
	char line[2048];
	if (lvl < g_min)
		return;
	if (g_writer) {
		struct rt_err copy = *e;
		err_redact(&copy);
		g_writer(lvl, copy.msg, &copy);
		return;
	}
	err_format(e, line, sizeof line);
	fprintf(stderr, "%s: %s: %s\n", g_prog, level_names[lvl], line);
}
