#ifndef ROSTER_LOG_H
#define ROSTER_LOG_H

#include "core/err.h"

/* Diagnostics on stderr, never stdout. Text by default
 * ("prog: level: message"), one JSON object a line with --log-format json.
 * Callers never pass secrets. */
enum log_format { LOG_TEXT, LOG_JSON };
enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR };

/* Writes one diagnostic (msg and e already redacted; e NULL for a plain
 * message): format/logjson.h has the JSON one. */
typedef void (*log_writer)(enum log_level lvl, const char *msg, const struct rt_err *e);

/* prog names the program in every line; w NULL writes text. */
void log_init(const char *prog, log_writer w, enum log_level min);
/* "debug", "info", "warning", "error". */
const char *log_level_name(enum log_level lvl);
/* Parses "text" or "json"; returns -1 for anything else. */
int log_parse_format(const char *s, enum log_format *out);
void log_msg(enum log_level lvl, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
#define log_info(...) log_msg(LOG_INFO, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_WARN, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)
/* An error with all its fields: source, endpoint, status, code, hint. */
void log_err(enum log_level lvl, const struct rt_err *e);
const char *log_prog(void);

#endif
