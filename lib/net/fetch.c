#include "net/fetch.h"
#include "core/clock.h"
#include "core/log.h"
#include "net/httpdate.h"
#include "net/url.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void source_init(struct source *s, const char *name, struct http_client *http, double rate)
{
	memset(s, 0, sizeof *s);
	s->name = name;
	s->http = http;
	retry_policy_default(&s->policy);
	s->min_interval = rate > 0 ? 60.0 / rate : 0;
}

void source_endpoint(const char *method, const char *url, char *out, size_t n)
{
	struct buf p;
	buf_init(&p, 4096);
	if (url_path(url, &p) || !p.data)
		snprintf(out, n, "%s (unparsable URL)", method);
	else
		snprintf(out, n, "%s %s", method, p.data);
	buf_free(&p);
}

/* Paces requests: waits until the earliest allowed time, then books the
 * next slot. A wait over the ceiling or past the deadline is not slept:
 * -1 with e filled, as for a retry wait. The deadline itself is checked
 * before every request, so a run ends by its own hand, not by a kill. */
static int pace(struct source *s, struct rt_err *e)
{
	double now = clk_now();
	if (s->policy.deadline > 0 && now >= s->policy.deadline) {
		err_clear(e);
		err_set(e, ERR_WAIT, "the run's deadline has passed; no further request is sent");
		err_hint(e, "allow a longer deadline in the job, or find what made the run slow "
			    "(waits and retries are in the run report)");
		return -1;
	}
	if (s->next_allowed > now) {
		double d = s->next_allowed - now;
		if (retry_wait_allowed(&s->policy, d, now, e))
			return -1;
		if (d >= 1)
			log_info("%s: pacing: waiting %.3f s before the next request", s->name, d);
		s->stats.paced += d;
		clk_sleep(d);
	}
	now = clk_now();
	s->next_allowed = now + s->min_interval;
	return 0;
}

/* A vendor that announces an exhausted window (its remaining header at 0,
 * with a reset time) is not asked again before the reset. */
static void note_rate_headers(struct source *s, const struct http_resp *r)
{
	if (!s->window)
		return;
	const char *rem = http_resp_header(r, s->window->remaining);
	const char *reset = http_resp_header(r, s->window->reset);
	double delay;
	if (rem && reset && atol(rem) <= 0 && !ratelimit_reset_parse(reset, clk_now(), &delay)) {
		double until = clk_now() + delay;
		if (until > s->next_allowed)
			s->next_allowed = until;
	}
}

/* What the vendor asked us to wait, or -1. */
static double vendor_wait(const struct source *s, const struct http_resp *r)
{
	const char *v = http_resp_header(r, "Retry-After");
	double d;
	if (v && !retry_after_parse(v, clk_now(), &d))
		return d;
	v = s->window ? http_resp_header(r, s->window->reset) : NULL;
	if (v && r->status == 429 && !ratelimit_reset_parse(v, clk_now(), &d))
		return d;
	return -1;
}

static const char *reason_phrase(long status)
{
	static const struct { long status; const char *text; } t[] = {
		{400, "Bad Request"}, {401, "Unauthorized"}, {403, "Forbidden"}, {404, "Not Found"},
		{405, "Method Not Allowed"}, {408, "Request Timeout"}, {409, "Conflict"},
		{410, "Gone"}, {413, "Content Too Large"}, {422, "Unprocessable Content"},
		{425, "Too Early"}, {429, "Too Many Requests"}, {500, "Internal Server Error"},
		{501, "Not Implemented"}, {502, "Bad Gateway"}, {503, "Service Unavailable"},
		{504, "Gateway Timeout"}, {505, "HTTP Version Not Supported"},
	};
	for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
		if (t[i].status == status)
			return t[i].text;
	return "HTTP error";
}

static void fill_error(struct source *s, struct rt_err *e, const struct http_resp *r,
		       const char *endpoint, int attempts, enum retry_class c)
{
	err_clear(e);
	err_where(e, s->name, endpoint);
	if (r->transport_error) {
		err_set(e, ERR_NETWORK, "%s (after %d request%s)", r->transport_msg, attempts,
			attempts == 1 ? "" : "s");
		if (r->too_large)
			err_hint(e, "the answer is larger than this program accepts for one page: "
				    "lower the page size (page_size in the job, --page-size)");
		else if (r->tls_refused)
			err_hint(e, "the server's certificate is not trusted or is not for this host name: "
				    "check the URL in the job, the system's CA store, or ca_file / --ca-file "
				    "for a private CA");
		else
			err_hint(e, "check that the host is reachable from this server and answers in time");
	} else {
		e->status = (int)r->status;
		/* a throttle that arrives as 403 is not an authorisation problem */
		int auth = (r->status == 401 || r->status == 403) && c != RC_THROTTLE;
		err_set(e, auth ? ERR_AUTH : ERR_HTTP, "%s%s", reason_phrase(r->status),
			attempts > 1 ? " on every request" : "");
		if (attempts > 1) {
			size_t l = strlen(e->msg);
			snprintf(e->msg + l, sizeof e->msg - l, " (%d requests)", attempts);
		}
	}
	if (s->explain)
		s->explain(e, r, s->ud);
}

/* Before each attempt: the pacing and the deadline, then the signature. */
static int attempt_begin(struct source *s, const struct fetch_req *q, const char *endpoint,
			 struct rt_err *e)
{
	if (pace(s, e) || (q->sign && q->sign(q, q->sign_ud, e))) {
		err_where(e, s->name, endpoint);
		return -1;
	}
	return 0;
}

/* After each attempt: classify. 0: a 2xx in resp. -1: failed, e filled.
 * 1: to be sent again after *wait seconds (counted and said on stderr). */
static int attempt_end(struct source *s, const char *endpoint, int attempt,
		       struct http_resp *resp, double *wait, struct rt_err *e)
{
	int max = s->policy.max_attempts > 0 ? s->policy.max_attempts : 1;
	char reason[96] = "";
	s->stats.requests++;
	if (!resp->transport_error) {
		/* a 429's reset is this request's retry wait (vendor_wait); a
		 * success that says the window is spent paces the next one */
		if (resp->status < 300)
			note_rate_headers(s, resp);
		if (s->throttle_reason && resp->status >= 400)
			s->throttle_reason(resp, reason, sizeof reason);
	}
	enum retry_class c = retry_classify(resp->transport_error, resp->status, reason[0] != 0);
	if (resp->tls_refused || resp->too_large) /* the same again next time */
		c = RC_FAIL;
	if (c == RC_OK)
		return 0;
	if (c == RC_FAIL || attempt >= max) {
		fill_error(s, e, resp, endpoint, attempt, c);
		if (reason[0] && !e->code[0])
			snprintf(e->code, sizeof e->code, "%s", reason);
		return -1;
	}
	double asked = resp->transport_error ? -1 : vendor_wait(s, resp);
	*wait = retry_wait(&s->policy, attempt, c, asked, clk_uniform());
	if (retry_wait_allowed(&s->policy, *wait, clk_now(), e)) {
		char hint[sizeof e->hint];
		memcpy(hint, e->hint, sizeof hint);
		err_where(e, s->name, endpoint);
		e->status = (int)resp->status;
		if (s->explain) /* for the vendor's code and message; the wait's hint stays */
			s->explain(e, resp, s->ud);
		memcpy(e->hint, hint, sizeof hint);
		return -1;
	}
	s->stats.retries++;
	s->stats.wait_total += *wait;
	if (s->stats.nwaits < FETCH_MAX_WAITS)
		s->stats.waits[s->stats.nwaits++] = *wait;
	else
		s->stats.waits_dropped++;
	if (resp->transport_error)
		log_warn("%s %s: %s; retrying in %.3f s (request %d of %d)", s->name, endpoint,
			 resp->transport_msg, *wait, attempt + 1, max);
	else
		log_warn("%s %s: HTTP %ld (%s%s%s); retrying in %.3f s%s (request %d of %d)",
			 s->name, endpoint, resp->status, retry_class_name(c), reason[0] ? ", " : "",
			 reason, *wait, asked >= 0 ? " as the vendor asked" : "", attempt + 1, max);
	return 1;
}

int source_fetch(struct source *s, const struct fetch_req *q, struct http_resp *resp,
		 struct rt_err *e)
{
	char endpoint[256];
	source_endpoint(q->method, q->url, endpoint, sizeof endpoint);
	for (int attempt = 1;; attempt++) {
		double wait = 0;
		if (attempt_begin(s, q, endpoint, e))
			return -1;
		http_request(s->http, q->method, q->url, q->headers, q->body, q->body_len,
			     q->userpwd, resp);
		int rc = attempt_end(s, endpoint, attempt, resp, &wait, e);
		if (rc <= 0)
			return rc;
		clk_sleep(wait);
	}
}

/* ---- several at once ----
 *
 * Request i lives in slot i % n; it is prepared only once request i - n
 * was delivered, so at most n are in flight, waiting for a retry, or held
 * until the ones before them are delivered. */

enum { SL_FREE, SL_READY, SL_RUNNING, SL_DONE };

struct many_slot {
	int state, attempt, rc;
	double due; /* SL_READY: the earliest start (a retry's wait) */
	struct fetch_req q;
	char endpoint[256];
	struct http_resp resp;
	struct rt_err err;
};

static void many_ended(struct source *s, struct many_slot *sl)
{
	double wait = 0;
	int rc = attempt_end(s, sl->endpoint, sl->attempt, &sl->resp, &wait, &sl->err);
	if (rc <= 0) {
		sl->state = SL_DONE;
		sl->rc = rc;
	} else {
		sl->state = SL_READY;
		sl->due = clk_now() + wait;
	}
}

static void many_start(struct source *s, struct http_multi *hm, int k, struct many_slot *sl)
{
	sl->attempt++;
	if (attempt_begin(s, &sl->q, sl->endpoint, &sl->err)) {
		sl->state = SL_DONE;
		sl->rc = -1;
		return;
	}
	const struct fetch_req *q = &sl->q;
	sl->state = SL_RUNNING;
	if (http_multi_start(hm, k, q->method, q->url, q->headers, q->body, q->body_len,
			     q->userpwd, &sl->resp))
		many_ended(s, sl); /* counted and classified as a failed transfer */
}

int source_fetch_many(struct source *s, const struct fetch_many *fm, struct rt_err *e)
{
	int n = fm->concurrency < 1 ? 1 : fm->concurrency > FETCH_MAX_CONCURRENCY
						 ? FETCH_MAX_CONCURRENCY : fm->concurrency;
	struct many_slot *slot = calloc((size_t)n, sizeof *slot);
	struct http_multi *hm = slot ? http_multi_new(s->http, n) : NULL;
	size_t head = 0, next = 0; /* the next to deliver, the next to prepare */
	int end = 0, rc = 0;
	if (!hm) {
		err_clear(e);
		err_where(e, s->name, NULL);
		err_set(e, ERR_IO, "out of memory setting up concurrent requests");
		rc = -1;
		goto out;
	}
	for (;;) {
		struct many_slot *sl;
		while (head < next && (sl = &slot[head % (size_t)n])->state == SL_DONE) {
			rc = fm->deliver(fm->ud, head, sl->rc, &sl->resp, &sl->err);
			http_resp_free(&sl->resp);
			sl->state = SL_FREE;
			head++;
			if (rc)
				goto out;
		}
		if (end && head == next)
			break;
		while (!end && next < head + (size_t)n) {
			sl = &slot[next % (size_t)n];
			memset(sl, 0, sizeof *sl);
			err_clear(&sl->err);
			int p = fm->prepare(fm->ud, next, &sl->q, &sl->err);
			if (p > 0) {
				end = 1;
				break;
			}
			http_resp_init(&sl->resp, fm->max_body);
			sl->state = p ? SL_DONE : SL_READY;
			sl->rc = p ? -1 : 0;
			if (!p)
				source_endpoint(sl->q.method, sl->q.url, sl->endpoint, sizeof sl->endpoint);
			next++;
		}
		/* start what is due, in request order; pacing holds the rest back
		 * without stopping the transfers already running */
		int running = 0;
		for (size_t i = head; i < next; i++)
			running += slot[i % (size_t)n].state == SL_RUNNING;
		double wake = -1;
		for (size_t i = head; i < next; i++) {
			sl = &slot[i % (size_t)n];
			double now = clk_now();
			if (sl->state != SL_READY)
				continue;
			/* (a virtual clock's pacing is slept: it takes no time) */
			if (sl->due > now || (running && s->next_allowed > now && !clk_is_fake())) {
				double t = sl->due > s->next_allowed ? sl->due : s->next_allowed;
				if (wake < 0 || t < wake)
					wake = t;
				if (sl->due > now)
					continue;
				break;
			}
			many_start(s, hm, (int)(i % (size_t)n), sl);
			running += sl->state == SL_RUNNING;
		}
		if (running) {
			double t = wake < 0 ? 1 : wake - clk_now();
			int k = http_multi_wait(hm, t < 0 ? 0 : t > 1 ? 1 : t);
			if (k >= 0)
				many_ended(s, &slot[k]);
		} else if (wake >= 0) {
			clk_sleep(wake - clk_now());
		}
	}
out:
	http_multi_free(hm); /* ends what still runs: its slot's answer is dropped */
	for (size_t i = head; slot && i < next; i++)
		http_resp_free(&slot[i % (size_t)n].resp);
	free(slot);
	return rc;
}
