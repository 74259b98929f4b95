#ifndef ROSTER_ERR_H
#define ROSTER_ERR_H

#include <stddef.h>

/* What went wrong, filled by the library, printed only by a main.
 * Every field is optional except msg; an empty string means unknown.
 * It never holds a secret: callers pass endpoints without credentials. */
enum err_kind {
	ERR_NONE = 0,
	ERR_USAGE,   /* bad flag or job file */
	ERR_CONFIG,  /* configuration the vendor rejects or we cannot use */
	ERR_AUTH,    /* 401/403 or a token failure */
	ERR_NETWORK, /* transport failure after the retries */
	ERR_HTTP,    /* an HTTP status that is not retried, or retries exhausted */
	ERR_WAIT,    /* the vendor asked for a wait over the ceiling or deadline */
	ERR_PAGING,  /* a pagination guard tripped */
	ERR_DATA,    /* a body or line we cannot parse */
	ERR_IO,      /* local file system */
};

struct rt_err {
	enum err_kind kind;
	char source[48];    /* "clever" */
	char endpoint[256]; /* "GET /v3.0/sections" */
	int status;         /* HTTP status, 0 if none */
	char code[96];      /* the vendor's own error code or reason */
	char msg[512];      /* what happened */
	char hint[512];     /* what an administrator should check */
	double wait;        /* a wait the vendor requested, if that is the error */
};

void err_clear(struct rt_err *e);
void err_set(struct rt_err *e, enum err_kind kind, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void err_where(struct rt_err *e, const char *source, const char *endpoint);
void err_hint(struct rt_err *e, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Secrets this process holds (a client secret, a token): a vendor may echo
 * them in its error text, which goes to logs, STATE and reports. Each one
 * registered here (with its URL-encoded form) is masked with '*' wherever
 * err_set, err_hint, err_format, err_redact and the loggers put text, a
 * tail cut in the middle of one included. The copies are wiped at exit.
 * Secrets under 6 bytes are not registered (they would mask common text). */
void err_redact_add(const char *secret);
void err_redact_str(char *s);
void err_redact(struct rt_err *e);

/* One line: "clever GET /v3.0/sections: 403 (code): msg; check: hint". */
void err_format(const struct rt_err *e, char *out, size_t n);
const char *err_kind_name(enum err_kind k);

#endif
