#include "engine/extract.h"
#include "core/atomic.h"
#include "core/clock.h"
#include "core/exitcode.h"
#include "core/log.h"
#include "core/utf8.h"
#include "core/wordlist.h"
#include "format/jsonw.h"
#include "format/singer.h"
#include "auth/creds.h"
#include "engine/prog.h"
#include "engine/vendor.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

void extract_opts_init(struct extract_opts *o)
{
	memset(o, 0, sizeof *o);
	o->max_wait = 300;
	o->timeout = 120;
}

static int number(const char *arg, double min, double *out, const char *flag, struct rt_err *e)
{
	char *end;
	errno = 0;
	double v = strtod(arg, &end);
	if (errno || end == arg || *end || !isfinite(v) || v < min) {
		err_set(e, ERR_USAGE, "%s: not a number >= %g: '%s'", flag, min, arg);
		return -1;
	}
	*out = v;
	return 1;
}

int extract_opt(struct extract_opts *o, int opt, const char *arg, struct rt_err *e)
{
	double v;
	int rc;
	switch (opt) {
	case XOPT_BASE_URL: o->base_url = arg; return 1;
	case XOPT_TOKEN_URL: o->token_url = arg; return 1;
	case XOPT_CA_FILE: o->ca_file = arg; return 1;
	case XOPT_STATS: o->stats_path = arg; return 1;
	case XOPT_STATE: o->state_path = arg; return 1;
	case XOPT_CREDS: o->creds_path = arg; return 1;
	case XOPT_CREDS_KEY: o->creds_key = arg; return 1;
	case XOPT_RATE: return number(arg, 0, &o->rate, "--rate", e);
	case XOPT_MAX_WAIT: return number(arg, 0.001, &o->max_wait, "--max-wait", e);
	case XOPT_DEADLINE: return number(arg, 0, &o->deadline, "--deadline", e);
	case XOPT_TIMEOUT: return number(arg, 0.001, &o->timeout, "--timeout", e);
	case XOPT_PAGE_SIZE:
		rc = number(arg, 1, &v, "--page-size", e);
		o->page_size = (int)v;
		return rc;
	case XOPT_MAX_PAGES:
		rc = number(arg, 1, &v, "--max-pages", e);
		o->max_pages = (int)v;
		return rc;
	case XOPT_LOG_FORMAT:
		if (prog_log_format(arg)) {
			err_set(e, ERR_USAGE, "--log-format: expected text or json");
			return -1;
		}
		return 1;
	}
	return 0;
}

static cJSON *read_state(const char *path, struct rt_err *e)
{
	struct buf b;
	buf_init(&b, 16 << 20);
	if (buf_read_file(&b, path)) {
		if (errno != ENOENT) /* ENOENT: the first run, nothing remembered */
			err_set(e, ERR_USAGE, "--state %s: %s", path, strerror(errno));
		buf_free(&b);
		return NULL;
	}
	cJSON *j = cJSON_ParseWithLength(b.data ? b.data : "", b.len);
	if (!j)
		log_warn("--state %s is not JSON; starting without remembered versions", path);
	buf_free(&b);
	return j;
}

int extract_run_init(struct extract_run *r, FILE *out, const char *source, struct source *src,
		     const struct extract_opts *o, struct rt_err *e)
{
	memset(r, 0, sizeof *r);
	r->out = out;
	r->source = source;
	r->src = src;
	double now = clk_now();
	r->version = (long long)(now * 1000);
	clk_iso8601(now, r->time_extracted, sizeof r->time_extracted);
	r->bookmarks = cJSON_CreateObject();
	if (o->state_path) {
		err_clear(e);
		r->last_state = read_state(o->state_path, e);
		if (e->kind)
			return -1;
	}
	src->policy.max_wait = o->max_wait;
	if (o->deadline > 0)
		src->policy.deadline = now + o->deadline;
	return 0;
}

void extract_run_free(struct extract_run *r)
{
	cJSON_Delete(r->bookmarks);
	cJSON_Delete(r->last_state);
	r->bookmarks = r->last_state = NULL;
}

const char *extract_remembered(const struct extract_run *r, const char *key)
{
	/* accepts the STATE value itself or a whole STATE message */
	const cJSON *v = r->last_state;
	const cJSON *inner = cJSON_GetObjectItemCaseSensitive(v, "value");
	if (inner)
		v = inner;
	v = cJSON_GetObjectItemCaseSensitive(v, r->source);
	v = cJSON_GetObjectItemCaseSensitive(v, "bookmarks");
	v = cJSON_GetObjectItemCaseSensitive(v, key);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

void extract_bookmark(struct extract_run *r, const char *key, const char *value)
{
	cJSON_DeleteItemFromObjectCaseSensitive(r->bookmarks, key);
	cJSON_AddStringToObject(r->bookmarks, key, value);
}

static void put_err(cJSON *o, const struct rt_err *in)
{
	char line[2048];
	struct rt_err copy = *in, *e = &copy;
	/* JSON must stay valid UTF-8 where a vendor's text was cut short */
	utf8_scrub(e->msg);
	utf8_scrub(e->hint);
	utf8_scrub(e->code);
	utf8_scrub(e->endpoint);
	err_redact(e);
	err_format(e, line, sizeof line);
	cJSON *x = cJSON_AddObjectToObject(o, "error");
	cJSON_AddStringToObject(x, "kind", err_kind_name(e->kind));
	cJSON_AddStringToObject(x, "source", e->source);
	cJSON_AddStringToObject(x, "endpoint", e->endpoint);
	if (e->status)
		cJSON_AddNumberToObject(x, "status", e->status);
	cJSON_AddStringToObject(x, "code", e->code);
	cJSON_AddStringToObject(x, "message", e->msg);
	cJSON_AddStringToObject(x, "hint", e->hint);
	if (e->wait > 0)
		cJSON_AddNumberToObject(x, "requested_wait", e->wait);
	cJSON_AddStringToObject(x, "text", line);
}

/* Raw streams carry the vendor's records as they are: an open schema. */
static const char raw_schema[] = "{\"type\":\"object\",\"additionalProperties\":true}";

static const char *status_name(enum extract_stream_state state)
{
	switch (state) {
	case STREAM_COMPLETE: return "complete";
	case STREAM_CHANGES: return "changes";
	case STREAM_FAILED: return "failed";
	case STREAM_OPEN: break;
	}
	return "incomplete";
}

/* Whether e, failing a stream, is the vendor refusing our configuration
 * (exit 2, extract_finish): before any stream is read (extract_fail_all)
 * an error of kind auth, config or usage; inside a stream, what the vendor
 * set in refused_by_kind and refused_code. */
static int refusal(const struct extract_run *r, const struct rt_err *e, int in_stream)
{
	int by_kind = e->kind == ERR_AUTH || e->kind == ERR_CONFIG || e->kind == ERR_USAGE;
	if (!in_stream)
		return by_kind;
	return (r->refused_by_kind && by_kind) ||
	       (r->refused_code && !strcmp(e->code, r->refused_code));
}

static void write_state(struct extract_run *r)
{
	cJSON *root = cJSON_CreateObject();
	cJSON *src = cJSON_AddObjectToObject(root, r->source);
	cJSON *streams = cJSON_AddObjectToObject(src, "streams");
	for (int i = 0; i < r->nstreams; i++) {
		struct extract_stream *s = &r->streams[i];
		cJSON *o = cJSON_AddObjectToObject(streams, s->name);
		cJSON_AddStringToObject(o, "status", status_name(s->state));
		cJSON_AddNumberToObject(o, "records", (double)s->records);
		if (s->state == STREAM_FAILED)
			put_err(o, &s->err);
	}
	cJSON_AddItemToObject(src, "bookmarks", cJSON_Duplicate(r->bookmarks, 1));
	char *txt = cJSON_PrintUnformatted(root);
	if (!txt || singer_state(r->out, txt))
		r->write_failed = 1;
	free(txt);
	cJSON_Delete(root);
}

static struct extract_stream *new_stream(struct extract_run *r, const char *name)
{
	if (r->nstreams >= EXTRACT_MAX_STREAMS)
		return NULL;
	struct extract_stream *s = &r->streams[r->nstreams++];
	memset(s, 0, sizeof *s);
	snprintf(s->name, sizeof s->name, "%s", name);
	s->before = r->src->stats;
	return s;
}

void extract_stream_begin(struct extract_run *r, const char *stream, const char *const *keys)
{
	r->cur = new_stream(r, stream);
	if (singer_schema(r->out, stream, raw_schema, keys))
		r->write_failed = 1;
	log_info("%s: reading %s", r->source, stream);
}

int extract_record(struct extract_run *r, const char *json, size_t len)
{
	if (singer_record(r->out, r->cur->name, json, len, r->time_extracted)) {
		r->write_failed = 1;
		return -1;
	}
	r->cur->records++;
	return 0;
}

static void close_stats(struct extract_run *r, struct extract_stream *s)
{
	const struct fetch_stats *now = &r->src->stats;
	s->stats.requests = now->requests - s->before.requests;
	s->stats.retries = now->retries - s->before.retries;
	s->stats.wait_total = now->wait_total - s->before.wait_total;
	s->stats.paced = now->paced - s->before.paced;
	s->stats.waits_dropped = now->waits_dropped - s->before.waits_dropped;
	s->stats.nwaits = now->nwaits - s->before.nwaits;
	memcpy(s->stats.waits, now->waits + s->before.nwaits, s->stats.nwaits * sizeof(double));
}

void extract_stream_end(struct extract_run *r, const struct rt_err *e)
{
	struct extract_stream *s = r->cur;
	if (!s)
		return;
	close_stats(r, s);
	if (e) {
		s->state = STREAM_FAILED;
		s->err = *e;
		s->refused = refusal(r, e, 1);
		log_err(LOG_ERROR, e);
		log_warn("%s: %s failed after %ld records; it is not marked complete", r->source,
			 s->name, s->records);
	} else {
		s->state = STREAM_COMPLETE;
		if (singer_activate(r->out, s->name, r->version))
			r->write_failed = 1;
		log_info("%s: %s complete: %ld records, %ld requests", r->source, s->name,
			 s->records, s->stats.requests);
	}
	write_state(r);
	r->cur = NULL;
}

void extract_stream_end_changes(struct extract_run *r, const char *why)
{
	struct extract_stream *s = r->cur;
	if (!s)
		return;
	close_stats(r, s);
	s->state = STREAM_CHANGES;
	log_info("%s: %s read: %ld records, not marked complete: %s", r->source, s->name,
		 s->records, why);
	write_state(r);
	r->cur = NULL;
}

void extract_fail_all(struct extract_run *r, const char *prefix, const char *streams,
		      const struct rt_err *e)
{
	log_err(LOG_ERROR, e);
	int refused = refusal(r, e, 0);
	if (refused)
		r->start_refused = 1;
	char w[40];
	for (const char *p = streams; list_next(&p, w, sizeof w);) {
		if (r->nstreams < EXTRACT_MAX_STREAMS) {
			struct extract_stream *s = &r->streams[r->nstreams++];
			memset(s, 0, sizeof *s);
			snprintf(s->name, sizeof s->name, "%s%s", prefix, w);
			s->state = STREAM_FAILED;
			s->err = *e;
			s->refused = refused;
			/* a SCHEMA without ACTIVATE_VERSION: downstream keeps last night's
			 * files for what this stream feeds instead of publishing without it */
			if (singer_schema(r->out, s->name, raw_schema, NULL))
				r->write_failed = 1;
		}
	}
	log_warn("%s: no stream could be read", r->source);
	write_state(r);
}

static int write_stats(struct extract_run *r, const char *path, struct rt_err *e)
{
	cJSON *root = cJSON_CreateObject();
	cJSON_AddStringToObject(root, "source", r->source);
	cJSON *streams = cJSON_AddObjectToObject(root, "streams");
	for (int i = 0; i < r->nstreams; i++) {
		struct extract_stream *s = &r->streams[i];
		cJSON *o = cJSON_AddObjectToObject(streams, s->name);
		cJSON_AddStringToObject(o, "status", status_name(s->state));
		cJSON_AddNumberToObject(o, "records", (double)s->records);
		cJSON_AddNumberToObject(o, "requests", (double)s->stats.requests);
		cJSON_AddNumberToObject(o, "retries", (double)s->stats.retries);
		cJSON_AddNumberToObject(o, "wait_seconds", s->stats.wait_total);
		cJSON_AddNumberToObject(o, "paced_seconds", s->stats.paced);
		cJSON *w = cJSON_AddArrayToObject(o, "waits");
		for (int k = 0; k < s->stats.nwaits; k++)
			cJSON_AddItemToArray(w, cJSON_CreateNumber(s->stats.waits[k]));
		if (s->stats.waits_dropped)
			cJSON_AddNumberToObject(o, "waits_not_listed", (double)s->stats.waits_dropped);
		if (s->state == STREAM_FAILED)
			put_err(o, &s->err);
		else
			cJSON_AddNullToObject(o, "error");
		if (s->note[0])
			cJSON_AddStringToObject(o, "note", s->note);
	}
	char *txt = cJSON_Print(root);
	cJSON_Delete(root);
	int rc = txt ? atomic_publish(path, txt, strlen(txt), 0644, e) : -1;
	free(txt);
	return rc;
}

int extract_finish(struct extract_run *r, const struct extract_opts *o)
{
	int ok = 0, failed = 0, refused = 0;
	struct rt_err e;
	err_clear(&e);
	for (int i = 0; i < r->nstreams; i++) {
		const struct extract_stream *s = &r->streams[i];
		if (s->state == STREAM_COMPLETE || s->state == STREAM_CHANGES) {
			ok++;
		} else {
			failed++;
			refused += s->refused;
		}
	}
	int stats_failed = o->stats_path && write_stats(r, o->stats_path, &e);
	if (stats_failed)
		log_err(LOG_ERROR, &e);
	if (fflush(r->out) || ferror(r->out) || r->write_failed) {
		log_msg(LOG_ERROR, "writing the output failed: %s", strerror(errno));
		return EXIT_FAILED;
	}
	if (stats_failed) /* the run report would lose every figure and error */
		return ok && !failed ? EXIT_PARTIAL : EXIT_FAILED;
	/* the one rule for exit 2: nothing read, and nothing failed but on the
	 * vendor refusing our configuration (even when no stream was named) */
	if (ok == 0 && refused == failed && (refused || r->start_refused))
		return EXIT_USAGE;
	if (failed == 0 && ok > 0)
		return EXIT_COMPLETE;
	return ok ? EXIT_PARTIAL : EXIT_FAILED;
}

void extract_note_vadd(char *note, size_t n, const char *fmt, va_list ap)
{
	size_t l = strlen(note);
	if (l && l + 2 < n) {
		memcpy(note + l, "; ", 3);
		l += 2;
	}
	if (l < n)
		vsnprintf(note + l, n - l, fmt, ap);
}

void extract_note_add(char *note, size_t n, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	extract_note_vadd(note, n, fmt, ap);
	va_end(ap);
}

int extract_getopt(int argc, char **argv, const struct option *longopts, struct extract_opts *o)
{
	struct rt_err e;
	int opt;
	err_clear(&e);
	while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		int rc = extract_opt(o, opt, optarg, &e);
		if (rc < 0) {
			log_err(LOG_ERROR, &e);
			return EXTRACT_OPT_BAD;
		}
		if (!rc)
			return opt;
	}
	if (optind < argc) {
		log_msg(LOG_ERROR, "unexpected argument '%s' (secrets never go on the command line)",
			argv[optind]);
		return EXTRACT_OPT_BAD;
	}
	return -1;
}

char *extract_secret(const struct extract_opts *o, const char *ref, const char *what,
		     struct rt_err *e)
{
	return creds_resolve(o->creds_path, o->creds_key, ref, what, e);
}

int extract_main_run(const char *source, const struct extract_opts *o, extract_vendor_fn fn,
		     void *vo)
{
	const struct vendor *v = vendor_find(source);
	if (!v) {
		log_msg(LOG_ERROR, "no vendor '%s' in the registry (lib/vendor/vendors.c)", source);
		return EXIT_FAILED;
	}
	struct http_opts ho = {.timeout = o->timeout, .ca_file = o->ca_file};
	struct http_client *http = http_client_new(&ho);
	struct rt_err e;
	int rc = EXIT_FAILED;
	if (!http) {
		log_msg(LOG_ERROR, "cannot start libcurl");
		return rc;
	}
	struct source src;
	struct extract_run run;
	err_clear(&e);
	source_init(&src, source, http, o->rate > 0 ? o->rate : v->rate);
	src.window = v->window;
	src.throttle_reason = v->throttle_reason;
	src.explain = v->explain;
	if (extract_run_init(&run, stdout, source, &src, o, &e) == 0) {
		fn(&run, o, vo);
		rc = extract_finish(&run, o);
	} else {
		log_err(LOG_ERROR, &e);
	}
	extract_run_free(&run);
	http_client_free(http);
	return rc;
}
