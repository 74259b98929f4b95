#ifndef ROSTER_JSCAN_H
#define ROSTER_JSCAN_H

#include "core/buf.h"

#include <stddef.h>

/* An in-place JSON tokenizer for the per-record hot path (DESIGN.md: why
 * not jv for every record). One pass over the text fills an array of
 * tokens that point into it: nothing is copied, and once the token array
 * has grown to fit a record nothing is allocated either.
 *
 * It checks the whole grammar of RFC 8259 (structure, string escapes,
 * numbers, literals) but not the UTF-8 inside strings: jscan_put_string
 * and jsonw replace invalid bytes when a string is copied out.
 *
 * Tokens are in document order: a container is followed by its children,
 * an object's children alternate key (a string token) and value.
 * tok[i].next is the index just past i's subtree, so siblings are walked
 * without descending:
 *
 *     for (int v = a + 1, k = 0; k < s->tok[a].size; k++, v = s->tok[v].next)   array a
 *     for (int k = o + 1, i = 0; i < s->tok[o].size; i++, k = s->tok[k + 1].next)  object o: key k, value k + 1
 *
 * Ownership: struct jscan owns its token array and scratch buffer
 * (jscan_free). The text stays the caller's and must outlive the tokens;
 * the next jscan_parse invalidates them. */

enum jscan_type {
	JSCAN_OBJECT = 1,
	JSCAN_ARRAY,
	JSCAN_STRING,
	JSCAN_NUMBER,
	JSCAN_TRUE,
	JSCAN_FALSE,
	JSCAN_NULL,
};

struct jtok {
	unsigned char type;    /* enum jscan_type */
	unsigned char escaped; /* a string that holds backslash escapes */
	int start, end;        /* text bytes: a string's content between its quotes;
				  a container from its bracket to the closing one */
	int size;              /* object: members; array: elements */
	int next;              /* first token after this one's subtree */
};

#define JSCAN_DEPTH_LIMIT 256

struct jscan {
	const char *text;
	struct jtok *tok;
	int ntok, cap;
	int max_tokens; /* a document with more values is refused */
	int max_depth;  /* nesting deeper than this is refused (<= JSCAN_DEPTH_LIMIT) */
	struct buf tmp; /* scratch for unescaping */
	/* after a failed parse: */
	size_t err_pos;  /* byte offset where the text stopped being JSON */
	const char *err; /* what is wrong there (static text) */
};

/* 0 for either limit means the default (1,000,000 tokens, depth 64). */
void jscan_init(struct jscan *s, int max_tokens, int max_depth);
void jscan_free(struct jscan *s);

/* 0 when text[0..len) is exactly one JSON value with optional white space
 * around it (token 0 is the root); -1 otherwise, with err and err_pos. */
int jscan_parse(struct jscan *s, const char *text, size_t len);

/* The value of key in object obj, or -1 (no such key, obj not an object).
 * With duplicate keys the first wins (RFC 8259 leaves them undefined). */
int jscan_get(const struct jscan *s, int obj, const char *key, size_t klen);
/* Follows a dotted path of keys from tok ("roles.teacher.sis_id"), or -1. */
int jscan_path(const struct jscan *s, int tok, const char *path);

/* 1 if string token tok, unescaped, equals str[0..n). */
int jscan_streq(const struct jscan *s, int tok, const char *str, size_t n);
/* 1 if two string tokens hold the same text once unescaped. */
int jscan_tokeq(struct jscan *s, int a, int b);
/* Appends a string token's content unescaped (UTF-8; a lone surrogate
 * becomes U+FFFD), or any other token's text as it is. 0, or -1 when out
 * is over its cap. */
int jscan_unescape(const struct jscan *s, int tok, struct buf *out);
/* Appends tok as a JSON string: a string re-escaped canonically (invalid
 * UTF-8 becomes U+FFFD), a number, true or false as its text in quotes.
 * 0; 1 for null, objects and arrays (nothing appended); -1 when out is
 * over its cap. */
int jscan_put_string(struct jscan *s, int tok, struct buf *out);

#endif
