#include "err.h"
#include "exitcode.h"
#include "jsonw.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void err_clear(struct rt_err *e)
{
	memset(e, 0, sizeof *e);
}

void err_set(struct rt_err *e, enum err_kind kind, const char *fmt, ...)
{
	va_list ap;
	e->kind = kind;
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof e->msg, fmt, ap);
	va_end(ap);
}

void err_where(struct rt_err *e, const char *source, const char *endpoint)
{
	if (source)
		snprintf(e->source, sizeof e->source, "%s", source);
	if (endpoint)
		snprintf(e->endpoint, sizeof e->endpoint, "%s", endpoint);
}

void err_hint(struct rt_err *e, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(e->hint, sizeof e->hint, fmt, ap);
	va_end(ap);
}

void err_format(const struct rt_err *e, char *out, size_t n)
{
	char status[32] = "";
	char code[128] = "";
	if (e->status)
		snprintf(status, sizeof status, "%d ", e->status);
	if (e->code[0])
		snprintf(code, sizeof code, "(%s) ", e->code);
	snprintf(out, n, "%s%s%s%s%s%s%s%s%s", e->source, e->source[0] && e->endpoint[0] ? " " : "",
		 e->endpoint, e->source[0] || e->endpoint[0] ? ": " : "", status, code, e->msg,
		 e->hint[0] ? "; check: " : "", e->hint);
	utf8_scrub(out); /* the parts may have been cut mid-character */
}

const char *err_kind_name(enum err_kind k)
{
	static const char *names[] = {"none", "usage", "config", "auth", "network",
				      "http", "wait", "paging", "data", "io"};
	return (unsigned)k < sizeof names / sizeof names[0] ? names[k] : "unknown";
}

int exit_combine(int a, int b)
{
	/* Severity for cron: usage > failed > held > partial > complete. */
	static const int rank[] = {0, 3, 4, 1, 2};
	if (a < 0 || a > 4)
		a = EXIT_FAILED;
	if (b < 0 || b > 4)
		b = EXIT_FAILED;
	return rank[a] >= rank[b] ? a : b;
}
