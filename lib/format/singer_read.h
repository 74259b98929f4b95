#ifndef ROSTER_SINGER_READ_H
#define ROSTER_SINGER_READ_H

#include "core/err.h"
#include "format/jscan.h"

#include <stddef.h>

/* Reading one Singer message (DESIGN.md, wire format) from an NDJSON line,
 * without copying it: the parts are tokens of the caller's jscan, valid
 * until its next parse. */
enum singer_type { SINGER_SCHEMA = 1, SINGER_RECORD, SINGER_STATE, SINGER_ACTIVATE };

#define SINGER_STREAM_MAX 128

struct singer_msg {
	enum singer_type type;
	char stream[SINGER_STREAM_MAX]; /* unescaped; "" for STATE */
	int body;           /* token of RECORD's record, STATE's value, SCHEMA's schema; else -1 */
	int time_extracted; /* token of RECORD's time_extracted, or -1 */
	long long version;  /* ACTIVATE_VERSION's version */
};

/* 0, or -1 with what is wrong in e (ERR_DATA): "not JSON: expected ':'
 * after a key at byte 17", "not a Singer message: no \"type\"", ... */
int singer_read(struct jscan *js, const char *line, size_t len, struct singer_msg *m,
		struct rt_err *e);

#endif
