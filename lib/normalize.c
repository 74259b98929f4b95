/* The normalize stage: maps raw vendor streams (Singer NDJSON) to the canonical
 * streams of DESIGN.md. Each line is read (lines.h), tokenized in place
 * (jscan.h) and mapped by its source's mapper (mapping.h) into one reused
 * output buffer that is written in large chunks: no allocation per record.
 * Only --jq sends records through libjq's jv, which is several times
 * slower (DESIGN.md). */
#include "normalize.h"
#include "canon.h"
#include "exitcode.h"
#include "jscan.h"
#include "jsonw.h"
#include "lines.h"
#include "log.h"
#include "mapping.h"
#include "singer.h"
#include "singer_read.h"

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
	const struct mapper *m = mapping_find(name);
	if (n->nraw == MAX_RAW || (!m && n->nunknown == MAX_UNKNOWN))
		return NULL;
	n->nunknown += !m;
	struct raw *r = &n->raws[n->nraw++];
	memset(r, 0, sizeof *r);
	snprintf(r->name, sizeof r->name, "%s", name);
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
	for (size_t i = 0; pl && (m = mapping_nth(i)); i++)
		same |= !strncmp(m->raw, like, pl);
	out[0] = 0;
	for (size_t i = 0; (m = mapping_nth(i)) && len < size; i++)
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
		char list[512];
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
	for (int d = 0; d < MAP_NDIRS; d++)
		groups_off |= c->dir[d].users_seen && !c->dir[d].group_rules_ok;
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
	else if (!n.jq_path || !jq_load(&n)) {
		read_all(&n, in);
		rc = finish(&n);
	}
	norm_free(&n);
	return rc;
}

/* ---- struct map_ctx (mapping.h): role rules and the per-run state of
 * directory sources, which normalize owns and hands to every mapper ---- */

const char map_wrong_type[] = "field values of an unexpected JSON type (ignored)";
static const char no_role_rules[] = "people without a role: no --role-rules given (role left out)";
static const char no_rule_matched[] = "people no role rule matched (role left out)";
static const char no_orgunit[] =
	"people whose org unit is not among the org units read (org_ids left out)";

#define SCRATCH_CAP (1 << 20) /* a single string taken out of a record */
#define NO_RULE 0x7fffffff    /* above any rule index */

static int ascii_lower(int c)
{
	return c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c;
}

/* a[0..an) and b[0..bn) equal, ASCII letters in either case. */
static int caseeq(const char *a, size_t an, const char *b, size_t bn)
{
	if (an != bn)
		return 0;
	for (size_t i = 0; i < an; i++)
		if (ascii_lower((unsigned char)a[i]) != ascii_lower((unsigned char)b[i]))
			return 0;
	return 1;
}

static uint64_t fnv1a(const char *s, size_t n)
{
	uint64_t h = 14695981039346656037ULL;
	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)s[i]) * 1099511628211ULL;
	return h;
}

static struct map_entry *table_find(const struct map_table *t, const char *key, size_t klen)
{
	if (!t->size)
		return NULL;
	for (size_t i = fnv1a(key, klen) & (t->size - 1);; i = (i + 1) & (t->size - 1)) {
		struct map_entry *e = &t->slot[i];
		if (!e->key)
			return NULL;
		if (e->klen == klen && !memcmp(e->key, key, klen))
			return e;
	}
}

/* Doubles the slots (kept at most half full). 0, or -1 out of memory. */
static int table_grow(struct map_table *t)
{
	size_t size = t->size ? t->size * 2 : 64;
	struct map_entry *slot = calloc(size, sizeof *slot);
	if (!slot)
		return -1;
	for (size_t k = 0; k < t->size; k++) {
		struct map_entry *e = &t->slot[k];
		if (!e->key)
			continue;
		size_t i = fnv1a(e->key, e->klen) & (size - 1);
		while (slot[i].key)
			i = (i + 1) & (size - 1);
		slot[i] = *e;
	}
	free(t->slot);
	t->slot = slot;
	t->size = size;
	return 0;
}

/* The entry of key, added (val NULL, n NO_RULE) when new; NULL out of memory. */
static struct map_entry *table_put(struct map_table *t, const char *key, size_t klen)
{
	struct map_entry *e = table_find(t, key, klen);
	if (e)
		return e;
	if ((t->count + 1) * 2 > t->size && table_grow(t))
		return NULL;
	char *copy = malloc(klen + 1);
	if (!copy)
		return NULL;
	memcpy(copy, key, klen);
	copy[klen] = 0;
	size_t i = fnv1a(key, klen) & (t->size - 1);
	while (t->slot[i].key)
		i = (i + 1) & (t->size - 1);
	e = &t->slot[i];
	e->key = copy;
	e->klen = klen;
	e->val = NULL;
	e->n = NO_RULE;
	t->count++;
	return e;
}

static void table_free(struct map_table *t)
{
	for (size_t i = 0; i < t->size; i++) {
		free(t->slot[i].key);
		free(t->slot[i].val);
	}
	free(t->slot);
	memset(t, 0, sizeof *t);
}

void map_ctx_init(struct map_ctx *c)
{
	memset(c, 0, sizeof *c);
	buf_init(&c->key, SCRATCH_CAP);
	buf_init(&c->val, SCRATCH_CAP);
}

void map_ctx_free(struct map_ctx *c)
{
	for (int i = 0; i < c->nrules; i++) {
		free(c->rules[i].text);
		free(c->rules[i].match);
	}
	free(c->rules);
	table_free(&c->groups);
	table_free(&c->people);
	table_free(&c->orgunits);
	buf_free(&c->key);
	buf_free(&c->val);
	memset(c, 0, sizeof *c);
}

static const char *const rule_roles[] = {"student", "teacher", "staff", "administrator", "aide"};

/* [*s, *e) without the blanks around it. */
static void trim(const char **s, const char **e)
{
	while (*s < *e && strchr(" \t\r\n", **s))
		(*s)++;
	while (*e > *s && strchr(" \t\r\n", (*e)[-1]))
		(*e)--;
}

/* One rule, [s, e) trimmed and not empty, into r. 0; -1 with why. */
static int parse_rule(struct map_rule *r, const char *s, const char *e, char *why, size_t n)
{
	int len = (int)(e - s);
	const char *eq = NULL;
	for (const char *p = s; p < e; p++)
		if (*p == '=')
			eq = p; /* the last: a group name may hold one, a role never */
	if (!eq) {
		snprintf(why, n, "\"%.*s\" has no =ROLE (a rule is group:NAME=ROLE, "
			 "orgunit:/PATH=ROLE or default=ROLE)", len, s);
		return -1;
	}
	const char *rs = eq + 1, *re = e, *ks = s, *ke = eq;
	trim(&rs, &re);
	trim(&ks, &ke);
	size_t rl = (size_t)(re - rs);
	for (size_t i = 0; i < sizeof rule_roles / sizeof rule_roles[0] && !r->role; i++)
		if (strlen(rule_roles[i]) == rl && !memcmp(rule_roles[i], rs, rl))
			r->role = rule_roles[i];
	if (!r->role) {
		snprintf(why, n, "\"%.*s\": unknown role \"%.*s\" (student, teacher, staff, "
			 "administrator or aide)", len, s, (int)rl, rs);
		return -1;
	}
	const char *colon = memchr(ks, ':', (size_t)(ke - ks));
	const char *ms = colon ? colon + 1 : ke, *me = ke, *kind_end = colon ? colon : ke;
	trim(&ms, &me);
	while (kind_end > ks && strchr(" \t", kind_end[-1]))
		kind_end--;
	size_t kl = (size_t)(kind_end - ks);
	if (kl == 7 && !memcmp(ks, "default", 7)) {
		if (colon) {
			snprintf(why, n, "\"%.*s\": default takes no match (default=ROLE)", len, s);
			return -1;
		}
		r->kind = RULE_DEFAULT;
	} else if (colon && kl == 5 && !memcmp(ks, "group", 5)) {
		r->kind = RULE_GROUP;
		if (ms == me) {
			snprintf(why, n, "\"%.*s\" names no group (group:NAME=ROLE, NAME a "
				 "group's name, email or id)", len, s);
			return -1;
		}
	} else if (colon && kl == 7 && !memcmp(ks, "orgunit", 7)) {
		r->kind = RULE_ORGUNIT;
		if (ms == me || *ms != '/') {
			snprintf(why, n, "\"%.*s\": an org unit path starts with / "
				 "(orgunit:/Students=student)", len, s);
			return -1;
		}
		while (me - ms > 1 && me[-1] == '/')
			me--; /* /Students/ is /Students */
	} else {
		snprintf(why, n, "\"%.*s\": unknown kind \"%.*s\" (group:NAME=ROLE, "
			 "orgunit:/PATH=ROLE or default=ROLE)", len, s, (int)kl, ks);
		return -1;
	}
	r->text = strndup(s, (size_t)len);
	r->match = strndup(ms, (size_t)(me - ms));
	if (!r->text || !r->match) {
		snprintf(why, n, "out of memory");
		return -1;
	}
	return 0;
}

int map_ctx_rules(struct map_ctx *c, const char *text, char *why, size_t n)
{
	int max = 1;
	for (const char *p = text; *p; p++)
		max += *p == ';';
	if (!(c->rules = calloc((size_t)max, sizeof *c->rules))) {
		snprintf(why, n, "out of memory");
		return -1;
	}
	for (const char *p = text; *p;) {
		const char *s = p, *e = strchr(p, ';');
		if (!e)
			e = p + strlen(p);
		p = *e ? e + 1 : e;
		trim(&s, &e);
		if (s == e)
			continue; /* "a=b;" or "a=b; ; c=d" */
		if (c->nrules && c->rules[c->nrules - 1].kind == RULE_DEFAULT) {
			snprintf(why, n, "\"%.*s\" follows default=, which matches everyone: "
				 "default must be the last rule", (int)(e - s), s);
			return -1;
		}
		struct map_rule *r = &c->rules[c->nrules++];
		if (parse_rule(r, s, e, why, n))
			return -1;
		c->ngroup_rules += r->kind == RULE_GROUP;
	}
	if (!c->nrules) {
		snprintf(why, n, "no rule given (group:NAME=ROLE, orgunit:/PATH=ROLE or "
			 "default=ROLE, separated by ;)");
		return -1;
	}
	return 0;
}

/* The text of string token tok in b (reset first), or NULL when tok is
 * not a non-empty string or b is full. */
static const char *text_of(struct buf *b, struct jscan *js, int tok)
{
	buf_reset(b);
	if (tok < 0 || js->tok[tok].type != JSCAN_STRING ||
	    js->tok[tok].start == js->tok[tok].end || jscan_unescape(js, tok, b))
		return NULL;
	return b->data;
}

/* The first group rule whose match is text[0..len), or NO_RULE. */
static int group_rule(const struct map_ctx *c, const char *text, size_t len)
{
	for (int i = 0; text && i < c->nrules; i++)
		if (c->rules[i].kind == RULE_GROUP &&
		    caseeq(text, len, c->rules[i].match, strlen(c->rules[i].match)))
			return i;
	return NO_RULE;
}

int map_group_seen(struct map_ctx *c, struct jscan *js, int id, const int *names, int nnames)
{
	if (!c->ngroup_rules)
		return 0;
	int best = NO_RULE;
	for (int i = 0; i < nnames; i++) {
		const char *name = text_of(&c->val, js, names[i]);
		int r = group_rule(c, name, c->val.len);
		best = r < best ? r : best;
	}
	const char *key = text_of(&c->key, js, id);
	int r = group_rule(c, key, c->key.len);
	best = r < best ? r : best;
	if (best == NO_RULE || !key)
		return 0;
	struct map_entry *e = table_put(&c->groups, c->key.data, c->key.len);
	if (!e)
		return -1;
	e->n = best < e->n ? best : e->n;
	return 0;
}

int map_member_seen(struct map_ctx *c, const struct map_dir_info *d, struct map_sink *out,
		    struct jscan *js, int group, int person)
{
	struct map_dir *s = &c->dir[d->id];
	if (!c->ngroup_rules)
		return 0;
	if (!s->members_seen) {
		s->members_seen = 1;
		s->groups_incomplete = c->complete && !c->complete(c->owner, d->groups);
	}
	if (s->groups_incomplete)
		out->left_out(out, d->no_group_names, 1);
	if (!text_of(&c->key, js, group))
		return 0;
	struct map_entry *g = table_find(&c->groups, c->key.data, c->key.len);
	int rule = g ? g->n : group_rule(c, c->key.data, c->key.len);
	if (rule == NO_RULE || !text_of(&c->key, js, person))
		return 0;
	struct map_entry *e = table_put(&c->people, c->key.data, c->key.len);
	if (!e)
		return -1;
	e->n = rule < e->n ? rule : e->n;
	return 0;
}

int map_orgunit_seen(struct map_ctx *c, struct jscan *js, int path, int id)
{
	if (!text_of(&c->key, js, path) || !text_of(&c->val, js, id))
		return 0;
	struct map_entry *e = table_put(&c->orgunits, c->key.data, c->key.len);
	if (!e)
		return -1;
	char *v = strndup(c->val.data, c->val.len);
	if (!v)
		return -1;
	free(e->val);
	e->val = v;
	return 0;
}

const char *map_orgunit_id(struct map_ctx *c, struct jscan *js, int path)
{
	if (!text_of(&c->key, js, path))
		return NULL;
	struct map_entry *e = table_find(&c->orgunits, c->key.data, c->key.len);
	return e ? e->val : NULL;
}

/* Path p is the org unit u or under it (ASCII case ignored). */
static int under(const char *p, size_t pl, const char *u)
{
	size_t ul = strlen(u);
	if (ul == 1) /* "/": the whole tree */
		return pl && p[0] == '/';
	return pl >= ul && caseeq(p, ul, u, ul) && (pl == ul || p[ul] == '/');
}

const char *map_role(struct map_ctx *c, const struct map_dir_info *d, struct map_sink *out,
		     struct jscan *js, int person, int orgunit)
{
	struct map_dir *s = &c->dir[d->id];
	if (!s->users_seen) {
		s->users_seen = 1;
		s->group_rules_ok = !c->complete || c->complete(c->owner, d->members);
	}
	int g = NO_RULE;
	if (c->ngroup_rules && !s->group_rules_ok) {
		out->left_out(out, d->no_group_rules, 1);
	} else if (c->ngroup_rules && text_of(&c->key, js, person)) {
		struct map_entry *e = table_find(&c->people, c->key.data, c->key.len);
		g = e ? e->n : NO_RULE;
	}
	const char *path = text_of(&c->val, js, orgunit);
	for (int i = 0; i < c->nrules; i++) {
		struct map_rule *r = &c->rules[i];
		if ((r->kind == RULE_GROUP && i == g) ||
		    (r->kind == RULE_ORGUNIT && path && under(path, c->val.len, r->match)) ||
		    r->kind == RULE_DEFAULT) {
			r->hits++;
			c->ruled++;
			return r->role;
		}
	}
	c->unruled++;
	out->left_out(out, c->nrules ? no_rule_matched : no_role_rules, !c->nrules);
	return NULL;
}

/* The element of array a that selector sel[0..n) picks: "k=v", the first
 * whose k is the string v; "k", the first whose k is true, else the first. */
static int select_in(struct jscan *js, int a, const char *sel, size_t n)
{
	if (a < 0 || js->tok[a].type != JSCAN_ARRAY || !js->tok[a].size)
		return -1;
	const char *eq = memchr(sel, '=', n);
	size_t kl = eq ? (size_t)(eq - sel) : n;
	for (int k = 0, v = a + 1; k < js->tok[a].size; k++, v = js->tok[v].next) {
		int f = jscan_get(js, v, sel, kl);
		if (f < 0)
			continue;
		if (eq ? jscan_streq(js, f, eq + 1, n - kl - 1) : js->tok[f].type == JSCAN_TRUE)
			return v;
	}
	return eq ? -1 : a + 1;
}

int map_path(struct jscan *js, int tok, const char *path)
{
	while (tok >= 0 && *path) {
		size_t n = strcspn(path, ".[");
		tok = jscan_get(js, tok, path, n);
		path += n;
		if (*path == '[') {
			const char *end = strchr(path, ']');
			if (!end)
				return -1; /* a table's mistake */
			tok = select_in(js, tok, path + 1, (size_t)(end - path - 1));
			path = end + 1;
		}
		if (*path == '.')
			path++;
	}
	return tok;
}

int map_put_fields(struct map_ctx *c, struct jscan *js, struct map_sink *out, struct buf *b,
		   const struct map_field *rows, int rec, unsigned flags)
{
	const char *done = NULL; /* the field last written: its alternatives are skipped */
	for (const struct map_field *r = rows; r->field; r++) {
		if ((done && !strcmp(done, r->field)) || (r->when & flags) != r->when)
			continue;
		if (r->kind == MK_CONST) {
			if (jsonw_key(b, r->field, 0) || jsonw_str(b, r->path))
				return -1;
			done = r->field;
			continue;
		}
		int v = map_path(js, rec, r->path);
		if (v < 0 || js->tok[v].type == JSCAN_NULL)
			continue;
		size_t mark = b->len;
		if (jsonw_key(b, r->field, 0))
			return -1;
		int rc = 1; /* the wrong type */
		if (r->kind == MK_STR) {
			rc = jscan_put_string(js, v, b);
		} else if (js->tok[v].type == JSCAN_STRING) { /* MK_ORGUNIT */
			const char *id = map_orgunit_id(c, js, v);
			if (!id) {
				b->len = mark;
				b->data[mark] = 0;
				out->left_out(out, no_orgunit, 0);
				continue;
			}
			rc = buf_addc(b, '[') || jsonw_str(b, id) || buf_addc(b, ']') ? -1 : 0;
		}
		if (rc < 0)
			return -1;
		if (rc > 0) {
			b->len = mark;
			b->data[mark] = 0;
			out->left_out(out, map_wrong_type, 1);
			continue;
		}
		done = r->field;
	}
	return 0;
}

int map_id(struct jscan *js, int rec, const char *key, char *why, size_t n)
{
	int id = jscan_get(js, rec, key, strlen(key));
	if (id < 0 || js->tok[id].type != JSCAN_STRING || js->tok[id].start == js->tok[id].end) {
		snprintf(why, n, id < 0 ? "it has no \"%s\"" : "its \"%s\" is not a non-empty string",
			 key);
		return -1;
	}
	return id;
}

int map_put_text(struct map_ctx *c, struct jscan *js, struct buf *b, const char *field,
		 const char *prefix, int tok, const char *suffix)
{
	buf_reset(&c->val);
	if (buf_adds(&c->val, prefix) || (tok >= 0 && jscan_unescape(js, tok, &c->val)) ||
	    buf_adds(&c->val, suffix))
		return -1;
	return jsonw_key(b, field, 0) || jsonw_strn(b, c->val.data, c->val.len);
}
