#include "core/err.h"
#include "core/b64.h"
#include "core/buf.h"
#include "core/exitcode.h"
#include "core/utf8.h"

#include <stdarg.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#define REDACT_MAX 64
#define REDACT_MIN 6
static char *g_redact[REDACT_MAX];
static size_t g_nredact;

static void redact_free(void)
{
	for (size_t i = 0; i < g_nredact; i++) {
		explicit_bzero(g_redact[i], strlen(g_redact[i]));
		free(g_redact[i]);
	}
	g_nredact = 0;
}

static void redact_keep(char *copy)
{
	if (!copy)
		return;
	for (size_t i = 0; i < g_nredact; i++)
		if (!strcmp(g_redact[i], copy)) {
			/* registered again: it becomes the newest, so a run that gets
			 * many tokens never pushes its long-lived secret out */
			explicit_bzero(copy, strlen(copy));
			free(copy);
			copy = g_redact[i];
			memmove(g_redact + i, g_redact + i + 1, (g_nredact - i - 1) * sizeof g_redact[0]);
			g_redact[g_nredact - 1] = copy;
			return;
		}
	if (g_nredact == REDACT_MAX) { /* full: the oldest goes */
		explicit_bzero(g_redact[0], strlen(g_redact[0]));
		free(g_redact[0]);
		memmove(g_redact, g_redact + 1, (REDACT_MAX - 1) * sizeof g_redact[0]);
		g_nredact--;
	}
	g_redact[g_nredact++] = copy;
}

void err_redact_add(const char *s)
{
	static int registered;
	size_t n = s ? strlen(s) : 0;
	if (n < REDACT_MIN)
		return;
	if (!registered && !atexit(redact_free))
		registered = 1;
	redact_keep(strdup(s));
	struct buf enc; /* the form a query string or form body would carry */
	buf_init(&enc, 3 * n + 1);
	if (pct_encode(s, &enc) == 0 && enc.len != n)
		redact_keep(buf_steal(&enc));
	buf_wipe(&enc);
}

void err_redact_str(char *s)
{
	size_t n = strlen(s);
	for (size_t i = 0; i < g_nredact; i++) {
		const char *r = g_redact[i];
		size_t rl = strlen(r);
		for (char *p = s; (p = strstr(p, r)); p += rl)
			memset(p, '*', rl);
		/* a message cut short may end with the start of a secret */
		for (size_t k = rl - 1 < n ? rl - 1 : n; k >= REDACT_MIN; k--)
			if (!memcmp(s + n - k, r, k)) {
				memset(s + n - k, '*', k);
				break;
			}
	}
}

void err_redact(struct rt_err *e)
{
	err_redact_str(e->msg);
	err_redact_str(e->hint);
	err_redact_str(e->code);
	err_redact_str(e->endpoint);
}

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
	err_redact_str(e->msg);
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
	err_redact_str(e->hint);
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
	err_redact_str(out);
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
