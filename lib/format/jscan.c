#include "format/jscan.h"
#include "format/jsonw.h"
#include "core/vec.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

void jscan_init(struct jscan *s, int max_tokens, int max_depth)
{
	memset(s, 0, sizeof *s);
	s->max_tokens = max_tokens > 0 ? max_tokens : 1000000;
	s->max_depth = max_depth > 0 && max_depth <= JSCAN_DEPTH_LIMIT ? max_depth : 64;
	buf_init(&s->tmp, 0);
}

void jscan_free(struct jscan *s)
{
	free(s->tok);
	s->tok = NULL;
	s->ntok = s->cap = 0;
	buf_free(&s->tmp);
}

static int fail(struct jscan *s, const char *at, const char *what)
{
	s->err_pos = (size_t)(at - s->text);
	s->err = what;
	return -1;
}

/* A new leaf-shaped token; containers get next and end when they close. */
static int new_tok(struct jscan *s, int type, const char *at)
{
	if (s->ntok == s->cap) {
		if (s->cap >= s->max_tokens)
			return fail(s, at, "too many values");
		size_t cap = (size_t)s->cap;
		if (vec_reserve(&s->tok, &cap, (size_t)s->ntok + 1, sizeof *s->tok, 256,
				(size_t)s->max_tokens))
			return fail(s, at, "out of memory");
		s->cap = (int)cap;
	}
	struct jtok *t = &s->tok[s->ntok];
	t->type = (unsigned char)type;
	t->escaped = 0;
	t->start = t->end = (int)(at - s->text);
	t->size = 0;
	t->next = s->ntok + 1;
	return s->ntok++;
}

/* Bytes that end a plain run inside a string: the quote, the backslash and
 * the control characters RFC 8259 forbids unescaped. */
#define ONES16 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1
static const unsigned char str_stop[256] = {ONES16, ONES16, ['"'] = 1, ['\\'] = 1};

static int hexval(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c |= 0x20;
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* *pp is at the opening quote; on success it is past the closing one. */
static int scan_string(struct jscan *s, const char **pp, const char *end)
{
	const char *p = *pp + 1;
	int t = new_tok(s, JSCAN_STRING, p);
	if (t < 0)
		return -1;
	for (;;) {
		while (p < end && !str_stop[(unsigned char)*p])
			p++;
		if (p == end)
			return fail(s, p, "unterminated string");
		if (*p == '"')
			break;
		if (*p != '\\')
			return fail(s, p, "control character in a string");
		s->tok[t].escaped = 1;
		if (++p == end)
			return fail(s, p, "unterminated string");
		switch (*p) {
		case '"': case '\\': case '/': case 'b': case 'f': case 'n': case 'r': case 't':
			p++;
			break;
		case 'u':
			for (int i = 1; i <= 4; i++)
				if (p + i >= end || hexval((unsigned char)p[i]) < 0)
					return fail(s, p + i, "expected 4 hex digits after \\u");
			p += 5;
			break;
		default:
			return fail(s, p, "unknown escape");
		}
	}
	s->tok[t].end = (int)(p - s->text);
	*pp = p + 1;
	return 0;
}

static int isdigit_(char c)
{
	return c >= '0' && c <= '9';
}

/* -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? */
static int scan_number(struct jscan *s, const char **pp, const char *end)
{
	const char *p = *pp;
	int t = new_tok(s, JSCAN_NUMBER, p);
	if (t < 0)
		return -1;
	if (*p == '-')
		p++;
	if (p == end || !isdigit_(*p))
		return fail(s, p, "expected a digit");
	if (*p++ != '0')
		while (p < end && isdigit_(*p))
			p++;
	if (p < end && *p == '.') {
		if (++p == end || !isdigit_(*p))
			return fail(s, p, "expected a digit after the decimal point");
		while (p < end && isdigit_(*p))
			p++;
	}
	if (p < end && (*p == 'e' || *p == 'E')) {
		p++;
		if (p < end && (*p == '+' || *p == '-'))
			p++;
		if (p == end || !isdigit_(*p))
			return fail(s, p, "expected a digit in the exponent");
		while (p < end && isdigit_(*p))
			p++;
	}
	s->tok[t].end = (int)(p - s->text);
	*pp = p;
	return 0;
}

static int scan_literal(struct jscan *s, const char **pp, const char *end)
{
	static const struct {
		const char *word;
		int type;
	} lits[] = {{"true", JSCAN_TRUE}, {"false", JSCAN_FALSE}, {"null", JSCAN_NULL}};
	const char *p = *pp;
	for (size_t i = 0; i < sizeof lits / sizeof lits[0]; i++) {
		size_t n = strlen(lits[i].word);
		if (*p != lits[i].word[0])
			continue;
		for (size_t k = 1; k < n; k++)
			if (p + k >= end || p[k] != lits[i].word[k])
				return fail(s, p + k, "expected true, false or null");
		int t = new_tok(s, lits[i].type, p);
		if (t < 0)
			return -1;
		s->tok[t].end = (int)(p - s->text + (int)n);
		*pp = p + n;
		return 0;
	}
	return fail(s, p, "expected a value");
}

/* What the parser expects next. */
enum want { W_VALUE, W_VALUE_OR_CLOSE, W_KEY, W_KEY_OR_CLOSE, W_COLON, W_COMMA_OR_CLOSE, W_END };

int jscan_parse(struct jscan *s, const char *text, size_t len)
{
	const char *p = text, *end = text + len;
	int stack[JSCAN_DEPTH_LIMIT];
	int depth = 0;
	enum want want = W_VALUE;

	s->text = text;
	s->ntok = 0;
	s->err = NULL;
	s->err_pos = 0;
	if (len > INT_MAX)
		return fail(s, p, "text over 2 GB");
	for (;;) {
		while (p < end && (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t'))
			p++;
		if (p == end)
			break;
		char c = *p;
		int top = depth ? stack[depth - 1] : -1;
		switch (want) {
		case W_END:
			return fail(s, p, "unexpected text after the value");
		case W_COLON:
			if (c != ':')
				return fail(s, p, "expected ':' after a key");
			p++;
			want = W_VALUE;
			continue;
		case W_COMMA_OR_CLOSE:
			if (c == ',') {
				p++;
				want = s->tok[top].type == JSCAN_OBJECT ? W_KEY : W_VALUE;
				continue;
			}
			if (c != (s->tok[top].type == JSCAN_OBJECT ? '}' : ']'))
				return fail(s, p, s->tok[top].type == JSCAN_OBJECT
							  ? "expected ',' or '}'"
							  : "expected ',' or ']'");
			break; /* close below */
		case W_KEY_OR_CLOSE:
			if (c == '}')
				break;
			/* fall through */
		case W_KEY:
			if (c != '"')
				return fail(s, p, "expected a string key");
			if (scan_string(s, &p, end))
				return -1;
			s->tok[top].size++;
			want = W_COLON;
			continue;
		case W_VALUE_OR_CLOSE:
			if (c == ']')
				break;
			/* fall through */
		case W_VALUE:
			if (top >= 0 && s->tok[top].type == JSCAN_ARRAY)
				s->tok[top].size++;
			if (c == '{' || c == '[') {
				if (depth == s->max_depth)
					return fail(s, p, "nested too deeply");
				int t = new_tok(s, c == '{' ? JSCAN_OBJECT : JSCAN_ARRAY, p);
				if (t < 0)
					return -1;
				stack[depth++] = t;
				p++;
				want = c == '{' ? W_KEY_OR_CLOSE : W_VALUE_OR_CLOSE;
				continue;
			}
			int rc = c == '"'		     ? scan_string(s, &p, end)
				 : c == '-' || isdigit_(c) ? scan_number(s, &p, end)
							     : scan_literal(s, &p, end);
			if (rc)
				return -1;
			want = depth ? W_COMMA_OR_CLOSE : W_END;
			continue;
		}
		/* c closes the container on top of the stack */
		s->tok[top].end = (int)(p - text) + 1;
		s->tok[top].next = s->ntok;
		depth--;
		p++;
		want = depth ? W_COMMA_OR_CLOSE : W_END;
	}
	if (want != W_END)
		return fail(s, p, s->ntok ? "unexpected end of the text" : "no JSON value");
	return 0;
}

int jscan_get(const struct jscan *s, int obj, const char *key, size_t klen)
{
	if (obj < 0 || obj >= s->ntok || s->tok[obj].type != JSCAN_OBJECT)
		return -1;
	const struct jtok *t = s->tok;
	int k = obj + 1;
	for (int i = 0; i < t[obj].size; i++, k = t[k + 1].next) {
		if (t[k].escaped) {
			if (jscan_streq(s, k, key, klen))
				return k + 1;
		} else if ((size_t)(t[k].end - t[k].start) == klen &&
			   !memcmp(s->text + t[k].start, key, klen)) {
			return k + 1;
		}
	}
	return -1;
}

int jscan_path(const struct jscan *s, int tok, const char *path)
{
	while (tok >= 0 && *path) {
		const char *dot = strchr(path, '.');
		size_t n = dot ? (size_t)(dot - path) : strlen(path);
		tok = jscan_get(s, tok, path, n);
		path += n + (dot ? 1 : 0);
	}
	return tok;
}

static void put_utf8(unsigned cp, char *out, size_t *n)
{
	if (cp < 0x80) {
		out[(*n)++] = (char)cp;
	} else if (cp < 0x800) {
		out[(*n)++] = (char)(0xc0 | cp >> 6);
		out[(*n)++] = (char)(0x80 | (cp & 0x3f));
	} else if (cp < 0x10000) {
		out[(*n)++] = (char)(0xe0 | cp >> 12);
		out[(*n)++] = (char)(0x80 | ((cp >> 6) & 0x3f));
		out[(*n)++] = (char)(0x80 | (cp & 0x3f));
	} else {
		out[(*n)++] = (char)(0xf0 | cp >> 18);
		out[(*n)++] = (char)(0x80 | ((cp >> 12) & 0x3f));
		out[(*n)++] = (char)(0x80 | ((cp >> 6) & 0x3f));
		out[(*n)++] = (char)(0x80 | (cp & 0x3f));
	}
}

static unsigned hex4(const char *p)
{
	return (unsigned)(hexval((unsigned char)p[0]) << 12 | hexval((unsigned char)p[1]) << 8 |
			  hexval((unsigned char)p[2]) << 4 | hexval((unsigned char)p[3]));
}

/* Decodes one escape at p (just after a backslash of a string the
 * scanner accepted) into out; returns the bytes of text it used. */
static size_t decode_escape(const char *p, const char *end, char out[4], size_t *n)
{
	*n = 0;
	if (*p != 'u') {
		switch (*p) {
		case 'b': out[0] = '\b'; break;
		case 'f': out[0] = '\f'; break;
		case 'n': out[0] = '\n'; break;
		case 'r': out[0] = '\r'; break;
		case 't': out[0] = '\t'; break;
		default: out[0] = *p; /* " \ / */
		}
		*n = 1;
		return 1;
	}
	unsigned cp = hex4(p + 1);
	size_t used = 5;
	if (cp >= 0xd800 && cp <= 0xdbff && end - p >= 11 && p[5] == '\\' && p[6] == 'u') {
		unsigned lo = hex4(p + 7);
		if (lo >= 0xdc00 && lo <= 0xdfff) {
			cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
			used = 11;
		}
	}
	/* a lone surrogate has no UTF-8 form; a NUL would cut the value short in
	 * every C string downstream (and merge ids that differ after it) */
	if ((cp >= 0xd800 && cp <= 0xdfff) || cp == 0)
		cp = 0xfffd;
	put_utf8(cp, out, n);
	return used;
}

int jscan_streq(const struct jscan *s, int tok, const char *str, size_t n)
{
	const struct jtok *t = &s->tok[tok];
	const char *p = s->text + t->start, *end = s->text + t->end;
	if (t->type != JSCAN_STRING)
		return 0;
	if (!t->escaped)
		return (size_t)(end - p) == n && !memcmp(p, str, n);
	size_t i = 0;
	while (p < end) {
		if (*p != '\\') {
			if (i == n || str[i++] != *p++)
				return 0;
			continue;
		}
		char dec[4];
		size_t dn;
		p += 1 + decode_escape(p + 1, end, dec, &dn);
		if (n - i < dn || memcmp(str + i, dec, dn))
			return 0;
		i += dn;
	}
	return i == n;
}

int jscan_unescape(const struct jscan *s, int tok, struct buf *out)
{
	const struct jtok *t = &s->tok[tok];
	const char *p = s->text + t->start, *end = s->text + t->end;
	if (t->type != JSCAN_STRING || !t->escaped)
		return buf_add(out, p, (size_t)(end - p));
	while (p < end) {
		const char *bs = memchr(p, '\\', (size_t)(end - p));
		size_t run = bs ? (size_t)(bs - p) : (size_t)(end - p);
		if (buf_add(out, p, run))
			return -1;
		p += run;
		if (!bs)
			break;
		char dec[4];
		size_t dn;
		p += 1 + decode_escape(p + 1, end, dec, &dn);
		if (buf_add(out, dec, dn))
			return -1;
	}
	return 0;
}

int jscan_tokeq(struct jscan *s, int a, int b)
{
	const struct jtok *ta = &s->tok[a], *tb = &s->tok[b];
	if (ta->type != JSCAN_STRING || tb->type != JSCAN_STRING)
		return 0;
	if (ta->escaped && tb->escaped) {
		buf_reset(&s->tmp);
		if (jscan_unescape(s, a, &s->tmp))
			return 0;
		return jscan_streq(s, b, s->tmp.data, s->tmp.len);
	}
	if (ta->escaped) {
		const struct jtok *x = ta;
		ta = tb, tb = x, b = a;
	}
	return jscan_streq(s, b, s->text + ta->start, (size_t)(ta->end - ta->start));
}

int jscan_put_string(struct jscan *s, int tok, struct buf *out)
{
	const struct jtok *t = &s->tok[tok];
	const char *p = s->text + t->start;
	switch (t->type) {
	case JSCAN_STRING:
		if (!t->escaped)
			return jsonw_strn(out, p, (size_t)(t->end - t->start));
		buf_reset(&s->tmp);
		if (jscan_unescape(s, tok, &s->tmp))
			return -1;
		return jsonw_strn(out, s->tmp.data, s->tmp.len);
	case JSCAN_NUMBER:
	case JSCAN_TRUE:
	case JSCAN_FALSE:
		return jsonw_strn(out, p, (size_t)(t->end - t->start));
	default:
		return 1;
	}
}
