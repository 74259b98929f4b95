#ifndef ROSTER_LOGJSON_H
#define ROSTER_LOGJSON_H

#include "core/log.h"

/* --log-format json: each diagnostic as one JSON object a line on stderr
 * (time, prog, level, msg, and for an error its kind, source, endpoint,
 * status, code, hint and wait). A log_writer for log_init; the text
 * arrives redacted. */
void logjson_write(enum log_level lvl, const char *msg, const struct rt_err *e);

#endif
