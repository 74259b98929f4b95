/* The normalize stage: maps raw vendor streams (Singer NDJSON) to the canonical
 * streams of DESIGN.md. Each line is read (lines.h), tokenized in place
 * (jscan.h) and mapped by its source's mapper (mapping.h) into one reused
 * output buffer that is written in large chunks: no allocation per record.
 * Only --jq sends records through libjq's jv, which is several times
 * slower (DESIGN.md). */
#include "engine/normalize.h"
#include "core/exitcode.h"
#include "core/lines.h"
#include "core/log.h"
#include "format/canon.h"
#include "format/jscan.h"
#include "format/jsonw.h"
#include "format/singer.h"
#include "format/singer_read.h"
#include "engine/mapping.h"
#include "engine/vendor.h"

#include <errno.h>
#include <jq.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FLUSH_AT (1 << 20) /* output is written in chunks of about 1 MB */
#define MAX_SAID 20        /* line errors printed; later ones are only counted */
#define MAX_RAW 64         /* distinct raw streams tracked one by one */
#define MAX_UNKNOWN 16     /* of which unknown ones (each named once) */
#define MAX_REASONS 16
#define MAX_CANON 16

struct raw { /* a raw stream seen in the input */
	char name[SINGER_STREAM_MAX];
	const struct mapper *m; /* NULL: no source knows it */
	struct map_state *state; /* its vendor's */
	int canon[MAP_MAX_FEEDS];
	int nfeeds;
	int schema, activated; /* how many SCHEMA and ACTIVATE_VERSION it had: two runs
				  concatenated are complete only if both were */
	int early;             /* RECORDs before its SCHEMA (warned once) */
	long long version;
	long in;
};

struct canon_out { /* a canonical stream */
	int fed, schema_sent, incomplete;
	long out, filtered;
};

struct norm {
	struct map_sink sink; /* first member: mappers see only this (and ctx) */
	const char *input;
	long lineno;
	FILE *fp;
	struct buf out;
	int write_failed, write_errno, read_failed;
	struct jscan js;
	struct singer_msg msg;
	struct raw raws[MAX_RAW];
	int nraw, nunknown;
	struct raw *cur;
	int cur_canon;
	struct canon_out cs[MAX_CANON];
	struct {
		const char *text;
		long n;
	} reasons[MAX_REASONS];
	int nreason;
	long records_in, bad_lines, record_errors, jq_errors, unknown, said;
	/* --jq */
	const char *jq_path;
	char *jq_text;
	jq_state *jq[MAX_CANON]; /* compiled per stream, so $stream is a constant */
	struct buf rec;
	struct map_ctx ctx; /* what mappers keep from one record to the next */
};

static void line_error(struct norm *n, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void line_error(struct norm *n, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	if (++n->said > MAX_SAID) {
		if (n->said == MAX_SAID + 1)
			log_msg(LOG_ERROR, "%s: more errors follow; only counted (see the summary)",
				n->input);
		return;
	}
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	log_msg(LOG_ERROR, "%s:%ld: %s", n->input, n->lineno, msg);
}

static void write_failed(struct norm *n)
{
	if (!n->write_failed)
		n->write_errno = errno;
	n->write_failed = 1;
}

static void flush(struct norm *n)
{
	if (n->out.len && fwrite(n->out.data, 1, n->out.len, n->fp) != n->out.len)
		write_failed(n);
	buf_reset(&n->out);
}

/* {"type":"RECORD","stream":S,"record":   then the record, then this: */
static int put_prefix(struct norm *n, int c)
{
	return buf_adds(&n->out, "{\"type\":\"RECORD\",\"stream\":\"") ||
	       buf_adds(&n->out, canon_streams[c].name) || buf_adds(&n->out, "\",\"record\":");
}

static int put_suffix(struct norm *n)
{
	int te = n->msg.time_extracted;
	if (te >= 0) {
		size_t mark = n->out.len;
		if (buf_adds(&n->out, ",\"time_extracted\":"))
			return -1;
		int rc = jscan_put_string(&n->js, te, &n->out);
		if (rc < 0)
			return -1;
		if (rc > 0)
			n->out.len = mark; /* not a string: left out */
	}
	return buf_adds(&n->out, "}\n");
}

/* A record was lost: the canonical streams it feeds (all of the raw
 * stream's, or under --jq the one that failed) get no ACTIVATE_VERSION. */
static void record_error(struct norm *n, int jq_canon, const char *why)
{
	struct raw *r = n->cur;
	char feeds[128] = "";
	for (int i = 0; i < r->nfeeds; i++) {
		int c = r->canon[i];
		if (jq_canon >= 0 && c != jq_canon)
			continue;
		n->cs[c].incomplete = 1;
		snprintf(feeds + strlen(feeds), sizeof feeds - strlen(feeds), "%s%s",
			 feeds[0] ? " and " : "", canon_streams[c].name);
	}
	if (jq_canon >= 0) {
		n->jq_errors++;
		line_error(n, "--jq on a %s record: %s; %s will not be marked complete",
			   canon_streams[jq_canon].name, why, feeds);
	} else {
		n->record_errors++;
		line_error(n, "%s record not mapped: %s; %s will not be marked complete", r->name,
			   why, feeds);
	}
}

static const char *jv_text(jv v, jv *keep)
{
	*keep = jv_get_kind(v) == JV_KIND_STRING ? v : jv_dump_string(v, 0);
	return jv_string_value(*keep);
}

static void jq_msg(void *data, jv msg)
{
	struct norm *n = data;
	jv keep;
	if (n->lineno)
		log_msg(LOG_ERROR, "%s:%ld: --jq: %s", n->input, n->lineno, jv_text(msg, &keep));
	else
		log_msg(LOG_ERROR, "--jq %s: %s", n->jq_path, jv_text(msg, &keep));
	jv_free(keep);
}

/* The program compiled for canonical stream c: one jq state per stream,
 * so that $stream is a constant the program can test. NULL if it fails. */
static jq_state *jq_for(struct norm *n, int c)
{
	if (n->jq[c])
		return n->jq[c];
	jq_state *jq = jq_init();
	if (!jq)
		return NULL;
	jq_set_error_cb(jq, jq_msg, n);
	jv args = jv_object_set(jv_object(), jv_string("stream"), jv_string(canon_streams[c].name));
	if (!jq_compile_args(jq, n->jq_text, args)) {
		jq_teardown(&jq);
		return NULL;
	}
	return n->jq[c] = jq;
}

/* Runs the --jq program on the record in n->rec; writes each object it
 * outputs. A record it outputs nothing for is counted as filtered. */
static int jq_record(struct norm *n, int c)
{
	jq_state *jq = jq_for(n, c);
	char why[1200];
	int emitted = 0;
	jv in = jv_parse_sized(n->rec.data, (int)n->rec.len);
	if (!jq || !jv_is_valid(in)) {
		jv_free(in);
		record_error(n, c, "the program could not be started");
		return 0;
	}
	jq_start(jq, in, 0);
	for (;;) {
		jv r = jq_next(jq);
		if (!jv_is_valid(r)) {
			if (jv_invalid_has_msg(jv_copy(r))) {
				jv keep;
				snprintf(why, sizeof why, "%s", jv_text(jv_invalid_get_msg(r), &keep));
				jv_free(keep);
				record_error(n, c, why);
				return 0;
			}
			jv_free(r);
			break;
		}
		if (jv_get_kind(r) != JV_KIND_OBJECT) {
			snprintf(why, sizeof why, "it output a %s, not an object",
				 jv_kind_name(jv_get_kind(r)));
			jv_free(r);
			record_error(n, c, why);
			return 0;
		}
		jv s = jv_dump_string(r, 0);
		int rc = put_prefix(n, c) || buf_adds(&n->out, jv_string_value(s)) || put_suffix(n);
		jv_free(s);
		if (rc)
			return -1;
		n->cs[c].out++;
		emitted++;
	}
	if (jq_halted(jq)) {
		record_error(n, c, "the program halted");
		return 0;
	}
	if (!emitted)
		n->cs[c].filtered++;
	return 0;
}

static struct buf *sink_begin(struct map_sink *s, int feed)
{
	struct norm *n = (struct norm *)s;
	n->cur_canon = n->cur->canon[feed];
	if (n->jq_text) {
		buf_reset(&n->rec);
		return &n->rec;
	}
	return put_prefix(n, n->cur_canon) ? NULL : &n->out;
}

static int sink_end(struct map_sink *s)
{
	struct norm *n = (struct norm *)s;
	if (n->jq_text)
		return jq_record(n, n->cur_canon);
	n->cs[n->cur_canon].out++;
	return put_suffix(n);
}

static void sink_left_out(struct map_sink *s, const char *reason, int warn)
{
	struct norm *n = (struct norm *)s;
	int i = 0;
	while (i < n->nreason && n->reasons[i].text != reason)
		i++;
	if (i == n->nreason) {
		if (i == MAX_REASONS)
			i--; /* cannot happen with today's mappers; keep counting */
		else
			n->reasons[n->nreason++].text = reason;
		if (warn)
			log_warn("%s:%ld: %s: %s (the first; all are counted in the summary)",
				 n->input, n->lineno, n->cur->name, reason);
	}
	n->reasons[i].n++;
}

/* The raw stream named in the current message, added on first sight. */
static struct raw *raw_for(struct norm *n)
{
	const char *name = n->msg.stream;
	if (n->cur && !strcmp(n->cur->name, name))
		return n->cur;
	for (int i = 0; i < n->nraw; i++)
		if (!strcmp(n->raws[i].name, name))
			return n->cur = &n->raws[i];
	/* unknown names must not take the slots of known streams */
	const struct vendor *v = NULL;
	const struct mapper *m = vendor_mapper(name, &v);
	if (n->nraw == MAX_RAW || (!m && n->nunknown == MAX_UNKNOWN))
		return NULL;
	n->nunknown += !m;
	struct raw *r = &n->raws[n->nraw++];
	memset(r, 0, sizeof *r);
	snprintf(r->name, sizeof r->name, "%s", name);
	if (m)
		r->state = &n->ctx.states[v - vendors];
	if ((r->m = m))
		for (; r->nfeeds < MAP_MAX_FEEDS && m->feeds[r->nfeeds]; r->nfeeds++)
			r->canon[r->nfeeds] = (int)(canon_find(m->feeds[r->nfeeds]) - canon_streams);
	return n->cur = r;
}

/* The raw streams known, or when like names a known source ("clever_x"),
 * that source's only: the list a mistyped stream name is checked against. */
static void known_list(char *out, size_t size, const char *like)
{
	const struct mapper *m;
	const char *us = like ? strchr(like, '_') : NULL;
	size_t pl = us ? (size_t)(us - like) + 1 : 0, len = 0;
	int same = 0;
	for (size_t i = 0; pl && (m = vendor_mapper_nth(i)); i++)
		same |= !strncmp(m->raw, like, pl);
	out[0] = 0;
	for (size_t i = 0; (m = vendor_mapper_nth(i)) && len < size; i++)
		if (!same || !strncmp(m->raw, like, pl))
			len += (size_t)snprintf(out + len, size - len, "%s%s", len ? ", " : "",
						m->raw);
}

void normalize_known_streams(char *out, size_t size)
{
	known_list(out, size, NULL);
}

/* The raw stream of a SCHEMA, RECORD or ACTIVATE_VERSION, or NULL when no
 * source knows it (an error, said once per stream, counted per message). */
static struct raw *known(struct norm *n)
{
	struct raw *r = raw_for(n);
	if (r && r->m)
		return r;
	n->unknown++;
	if (!r || !r->in++) {
		char list[1024];
		known_list(list, sizeof list, n->msg.stream);
		line_error(n, "unknown stream \"%s\": its messages are not mapped (known: %s)",
			   n->msg.stream, list);
	}
	return NULL;
}

static void on_schema(struct norm *n, struct raw *r)
{
	r->schema++;
	for (int i = 0; i < r->nfeeds; i++) {
		struct canon_out *c = &n->cs[r->canon[i]];
		const struct canon_stream *cs = &canon_streams[r->canon[i]];
		c->fed = 1;
		if (c->schema_sent)
			continue;
		c->schema_sent = 1;
		flush(n);
		if (singer_schema(n->fp, cs->name, canon_schema_json(cs), cs->keys))
			write_failed(n);
	}
}

static int on_record(struct norm *n, struct raw *r)
{
	char why[256] = "";
	r->in++;
	n->records_in++;
	for (int i = 0; i < r->nfeeds; i++)
		n->cs[r->canon[i]].fed = 1;
	if (!r->schema && !r->early++)
		log_warn("%s:%ld: a %s RECORD before the stream's SCHEMA", n->input, n->lineno,
			 r->name);
	if (n->js.tok[n->msg.body].type != JSCAN_OBJECT) {
		record_error(n, -1, "the record is not a JSON object");
		return 0;
	}
	n->ctx.state = r->state;
	int rc = r->m->map(&n->js, n->msg.body, &n->ctx, &n->sink, why, sizeof why);
	if (rc == MAP_BAD)
		record_error(n, -1, why);
	return rc == MAP_FAIL ? -1 : 0;
}

static int blank(const struct buf *line)
{
	for (size_t i = 0; i < line->len; i++)
		if (!strchr(" \t\r", line->data[i]))
			return 0;
	return 1;
}

static void read_all(struct norm *n, FILE *in)
{
	struct lines lr;
	struct rt_err e;
	int rc = 0;
	lines_init(&lr, in, n->input, 0);
	err_clear(&e);
	while (!n->write_failed && (rc = lines_next(&lr, &e)) > 0) {
		n->lineno = lr.lineno;
		if (blank(&lr.line))
			continue;
		if (singer_read(&n->js, lr.line.data, lr.line.len, &n->msg, &e)) {
			n->bad_lines++;
			line_error(n, "%s", e.msg);
			continue;
		}
		struct raw *r = n->msg.type == SINGER_STATE ? NULL : known(n);
		switch (n->msg.type) {
		case SINGER_STATE: /* passed on unchanged */
			if (buf_add(&n->out, lr.line.data, lr.line.len) || buf_addc(&n->out, '\n'))
				write_failed(n);
			break;
		case SINGER_SCHEMA:
			if (r)
				on_schema(n, r);
			break;
		case SINGER_RECORD:
			if (r && on_record(n, r))
				write_failed(n);
			break;
		case SINGER_ACTIVATE:
			if (r) {
				r->activated++;
				r->version = n->msg.version;
			}
			break;
		}
		if (n->out.len >= FLUSH_AT)
			flush(n);
	}
	if (rc < 0) {
		log_err(LOG_ERROR, &e);
		n->read_failed = 1;
	}
	lines_free(&lr);
}

/* ACTIVATE_VERSION for each canonical stream that is complete: every raw
 * stream feeding it was activated, every record mapped, every line read.
 * Written at the end, when all of that is known. */
static void activate(struct norm *n)
{
	for (int c = 0; c < canon_nstreams && c < MAX_CANON; c++) {
		if (!n->cs[c].fed)
			continue;
		char why[256] = "";
		long long version = 0;
		if (n->bad_lines || n->read_failed)
			snprintf(why, sizeof why, "the input has lines that could not be read");
		else if (n->cs[c].incomplete)
			snprintf(why, sizeof why, "some records could not be mapped");
		for (int i = 0; i < n->nraw && !why[0]; i++) {
			struct raw *r = &n->raws[i];
			for (int k = 0; k < r->nfeeds; k++) {
				if (r->canon[k] != c)
					continue;
				if (!r->activated)
					snprintf(why, sizeof why,
						 "%s has no ACTIVATE_VERSION (not read completely)",
						 r->name);
				else if (r->activated < r->schema)
					snprintf(why, sizeof why,
						 "%s has %d SCHEMA but %d ACTIVATE_VERSION (not read completely)",
						 r->name, r->schema, r->activated);
				else if (r->version > version)
					version = r->version;
			}
		}
		if (why[0]) {
			log_info("%s: not marked complete: %s", canon_streams[c].name, why);
			continue;
		}
		flush(n);
		if (singer_activate(n->fp, canon_streams[c].name, version))
			write_failed(n);
	}
}

/* How directory users got their roles, when any went by: per rule (a
 * rule that matched nobody is often a mistyped group name, so it is
 * warned about), guests, and those no rule matched. */
static void roles_summary(struct norm *n, struct buf *b)
{
	const struct map_ctx *c = &n->ctx;
	int groups_off = 0; /* group rules were not applied (warned already) */
	if (!c->ruled && !c->unruled && !c->guests)
		return;
	for (size_t v = 0; v < MAP_MAX_SOURCES; v++)
		groups_off |= c->states[v].dir.users_seen && !c->states[v].dir.group_rules_ok;
	buf_adds(b, "; roles:");
	for (int i = 0; i < c->nrules; i++) {
		const struct map_rule *r = &c->rules[i];
		buf_printf(b, " %ld by %s,", r->hits, r->text);
		if (!r->hits && (r->kind == RULE_ORGUNIT || (r->kind == RULE_GROUP && !groups_off)))
			log_warn("--role-rules: %s matched nobody", r->text);
	}
	if (c->guests)
		buf_printf(b, " %ld guests (userType Guest),", c->guests);
	buf_printf(b, " %ld by no rule", c->unruled);
}

static void summary(struct norm *n)
{
	struct buf b;
	buf_init(&b, 1 << 16);
	int any = 0;
	buf_printf(&b, "%s: records in:", n->input);
	for (int i = 0; i < n->nraw; i++)
		if (n->raws[i].m)
			buf_printf(&b, "%s %s %ld", any++ ? "," : "", n->raws[i].name,
				   n->raws[i].in);
	buf_adds(&b, any ? "; records out:" : " 0; records out:");
	any = 0;
	for (int c = 0; c < canon_nstreams && c < MAX_CANON; c++)
		if (n->cs[c].fed)
			buf_printf(&b, "%s %s %ld", any++ ? "," : "", canon_streams[c].name,
				   n->cs[c].out);
	if (!any)
		buf_adds(&b, " 0");
	for (int i = 0; i < n->nreason; i++)
		buf_printf(&b, "%s %ld %s", i ? "," : "; left out:", n->reasons[i].n,
			   n->reasons[i].text);
	if (n->jq_text) {
		buf_adds(&b, "; filtered out by --jq:");
		any = 0;
		for (int c = 0; c < canon_nstreams && c < MAX_CANON; c++)
			if (n->cs[c].fed)
				buf_printf(&b, "%s %s %ld", any++ ? "," : "",
					   canon_streams[c].name, n->cs[c].filtered);
		if (!any)
			buf_adds(&b, " 0");
	}
	roles_summary(n, &b);
	buf_printf(&b, "; errors: %ld (%ld unreadable lines, %ld unmapped records, ",
		   n->bad_lines + n->record_errors + n->jq_errors + n->unknown, n->bad_lines,
		   n->record_errors);
	if (n->jq_text)
		buf_printf(&b, "%ld --jq failures, ", n->jq_errors);
	buf_printf(&b, "%ld messages of unknown streams)", n->unknown);
	log_info("%s", b.data);
	buf_free(&b);
}

static int finish(struct norm *n)
{
	int rc = EXIT_COMPLETE;
	if (!n->write_failed)
		activate(n);
	flush(n);
	if (fflush(n->fp) || ferror(n->fp))
		write_failed(n);
	summary(n);
	if (n->record_errors || n->jq_errors || n->unknown)
		rc = EXIT_PARTIAL;
	if (n->bad_lines || n->read_failed)
		rc = exit_combine(rc, EXIT_FAILED);
	if (n->write_failed) {
		log_msg(LOG_ERROR, "writing the output failed: %s",
			n->write_errno ? strerror(n->write_errno) : "out of memory");
		rc = exit_combine(rc, EXIT_FAILED);
	}
	return rc;
}

/* Reads and compiles the --jq program once up front, so that a mistake in
 * it stops the run (exit 2) before anything is written. */
static int jq_load(struct norm *n)
{
	struct buf b;
	buf_init(&b, 1 << 20);
	int rc = buf_read_file(&b, n->jq_path);
	if (rc)
		log_msg(LOG_ERROR, "--jq %s: %s", n->jq_path,
			errno == EFBIG ? "over 1 MB" : strerror(errno));
	n->jq_text = buf_steal(&b);
	if (rc)
		return -1;
	return jq_for(n, (int)(canon_find("people") - canon_streams)) ? 0 : -1;
}

/* map_ctx's question to normalize: has raw stream name had an
 * ACTIVATE_VERSION for each of its SCHEMA so far? */
static int raw_complete(const void *owner, const char *name)
{
	const struct norm *n = owner;
	for (int i = 0; i < n->nraw; i++)
		if (!strcmp(n->raws[i].name, name))
			return n->raws[i].activated && n->raws[i].activated >= n->raws[i].schema;
	return 0;
}

static void norm_init(struct norm *n, const char *input, FILE *fp)
{
	memset(n, 0, sizeof *n);
	map_ctx_init(&n->ctx);
	n->ctx.complete = raw_complete;
	n->ctx.owner = n;
	n->sink.begin = sink_begin;
	n->sink.end = sink_end;
	n->sink.left_out = sink_left_out;
	n->input = input;
	n->fp = fp;
	buf_init(&n->out, 0);
	buf_init(&n->rec, 0);
	jscan_init(&n->js, 0, 0);
}

static void norm_free(struct norm *n)
{
	for (int c = 0; c < MAX_CANON; c++)
		if (n->jq[c])
			jq_teardown(&n->jq[c]);
	free(n->jq_text);
	map_ctx_free(&n->ctx);
	buf_free(&n->out);
	buf_free(&n->rec);
	jscan_free(&n->js);
}

int normalize_run(FILE *in, const char *input, FILE *out, const struct normalize_opts *o)
{
	struct norm n;
	char why[512];
	int rc = EXIT_USAGE;
	norm_init(&n, input, out);
	n.jq_path = o->jq_path;
	if (o->role_rules && map_ctx_rules(&n.ctx, o->role_rules, why, sizeof why))
		log_msg(LOG_ERROR, "--role-rules: %s", why);
	else if (o->status_codes && map_ctx_status_codes(&n.ctx, o->status_codes, why, sizeof why))
		log_msg(LOG_ERROR, "--status-codes: %s", why);
	else if (!n.jq_path || !jq_load(&n)) {
		read_all(&n, in);
		rc = finish(&n);
	}
	norm_free(&n);
	return rc;
}
