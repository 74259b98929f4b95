#ifndef ROSTER_HTTP_H
#define ROSTER_HTTP_H

#include "core/buf.h"

#include <stddef.h>

/* HTTP over libcurl. One client owns one easy handle, so connections are
 * reused across requests; gzip/deflate are accepted; TLS verification is
 * always on (ca_file replaces the system's CA bundle with the given one:
 * a private CA, or a test CA on loopback). */
struct http_opts {
	double connect_timeout; /* seconds; 0 = 15 */
	double timeout;         /* whole request, seconds; 0 = 120 */
	const char *ca_file;    /* NULL = system store */
	size_t max_body;        /* cap on a response body; 0 = 256 MiB */
};

struct http_header {
	char *name; /* as received */
	char *value;
};

/* A response. It owns body and headers; http_resp_free releases them. */
struct http_resp {
	long status;         /* 0 when no HTTP answer arrived */
	int transport_error; /* 1 when the transfer failed (connect, reset, timeout, cut body) */
	int tls_refused;     /* 1 when the server's certificate was refused: not worth a retry */
	int too_large;       /* 1 when the body went over the cap: not worth a retry either */
	char transport_msg[256];
	struct buf body;
	struct http_header *headers;
	size_t nheaders, capheaders;
	double elapsed;
};

struct http_client; /* opaque; owns a CURL handle */

struct http_client *http_client_new(const struct http_opts *o);
void http_client_free(struct http_client *c);

/* One request, no retries (those are fetch.h's business). headers is a
 * NULL-terminated list of "Name: value" lines; body may be NULL. userpwd,
 * when not NULL, is sent as HTTP Basic ("id:secret"). The response is
 * filled even on transport failure. Returns 0 when an HTTP answer arrived
 * whole, -1 otherwise (see resp->transport_msg). */
int http_request(struct http_client *c, const char *method, const char *url,
		 const char *const *headers, const char *body, size_t body_len,
		 const char *userpwd, struct http_resp *resp);

/* Several requests at once on one curl multi handle (one connection cache):
 * n slots, each one request at a time, sent as http_request sends it. A
 * slot's response belongs to the caller; it is filled when the slot's
 * transfer ends. http_multi_free ends the transfers still running. */
struct http_multi;
struct http_multi *http_multi_new(struct http_client *c, int n);
void http_multi_free(struct http_multi *m);
/* Starts a request on idle slot k; r is filled when http_multi_wait returns
 * k. -1 (r says why) when it could not start. */
int http_multi_start(struct http_multi *m, int k, const char *method, const char *url,
		     const char *const *headers, const char *body, size_t body_len,
		     const char *userpwd, struct http_resp *r);
/* Moves the transfers on for at most timeout seconds: the slot of one that
 * ended (its response filled), or -1 when none did. */
int http_multi_wait(struct http_multi *m, double timeout);

void http_resp_init(struct http_resp *r, size_t max_body);
void http_resp_free(struct http_resp *r);
/* Case-insensitive header lookup (the last one wins); NULL when absent. */
const char *http_resp_header(const struct http_resp *r, const char *name);
/* 1 when the Content-Type says JSON (application/json or +json). */
int http_resp_is_json(const struct http_resp *r);


#endif
