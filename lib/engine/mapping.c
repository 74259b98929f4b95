#include "engine/mapping.h"
#include "core/htab.h"
#include "core/vec.h"
#include "format/jsonw.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* struct map_ctx (mapping.h): role rules and the per-run state of
 * directory sources, which normalize owns and hands to every mapper, and
 * the helpers the table-driven mappers share. */

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


static struct map_entry *table_find(const struct map_table *t, const char *key, size_t klen)
{
	size_t i = HTAB_FIND(&t->index, t->v, key, klen);
	return i ? &t->v[i - 1] : NULL;
}

/* The entry of key, added (val NULL, n NO_RULE) when new; NULL out of memory. */
static struct map_entry *table_put(struct map_table *t, const char *key, size_t klen)
{
	struct map_entry *e = table_find(t, key, klen);
	if (e)
		return e;
	if (HTAB_RESERVE(&t->index, t->v, t->count) || VEC_RESERVE(t->v, t->cap, t->count + 1, 64))
		return NULL;
	char *copy = malloc(klen + 1);
	if (!copy)
		return NULL;
	memcpy(copy, key, klen);
	copy[klen] = 0;
	struct htab_pos at;
	HTAB_LOOKUP(&t->index, t->v, key, klen, &at);
	e = &t->v[t->count];
	*e = (struct map_entry){{copy, klen}, NULL, NO_RULE};
	htab_set(&t->index, &at, t->count++);
	return e;
}

static void table_free(struct map_table *t)
{
	for (size_t i = 0; i < t->count; i++) {
		free(t->v[i].k.key);
		free(t->v[i].val);
	}
	free(t->v);
	htab_free(&t->index);
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
	/* HR sources (Munis, Frontline) */
	for (int i = 0; i < c->nstatus_codes; i++)
		free(c->status_codes[i].code);
	free(c->status_codes);
	/* end of HR sources */
	for (size_t i = 0; i < MAP_MAX_SOURCES; i++)
		table_free(&c->states[i].seen);
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

/* The next item of a ";"-separated list at *p, trimmed, into [*s, *e):
 * 1, or 0 at its end. Empty items ("a=b;", "a=b; ; c=d") are skipped. */
static int next_item(const char **p, const char **s, const char **e)
{
	while (**p) {
		*s = *p;
		*e = strchr(*p, ';');
		if (!*e)
			*e = *p + strlen(*p);
		*p = **e ? *e + 1 : *e;
		trim(s, e);
		if (*s != *e)
			return 1;
	}
	return 0;
}

/* An array (calloc) with room for every item of a ";"-separated list, or
 * NULL with why. */
static void *item_array(const char *text, size_t size, char *why, size_t n)
{
	size_t max = 1;
	for (const char *p = text; *p; p++)
		max += *p == ';';
	void *a = calloc(max, size);
	if (!a)
		snprintf(why, n, "out of memory");
	return a;
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
	if (!(c->rules = item_array(text, sizeof *c->rules, why, n)))
		return -1;
	for (const char *p = text, *s, *e; next_item(&p, &s, &e);) {
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

/* ---- HR status codes (Munis) and per-run HR state ---- */

static const struct map_status_code default_status_codes[] = {
	{"A", "active"}, {"L", "active"}, {"T", "inactive"}, {"R", "inactive"},
};

int map_ctx_status_codes(struct map_ctx *c, const char *text, char *why, size_t n)
{
	if (!(c->status_codes = item_array(text, sizeof *c->status_codes, why, n)))
		return -1;
	for (const char *p = text, *s, *e; next_item(&p, &s, &e);) {
		int len = (int)(e - s);
		const char *eq = memchr(s, '=', (size_t)len);
		if (!eq) {
			snprintf(why, n, "\"%.*s\" has no =active or =inactive (a pair is "
				 "CODE=active or CODE=inactive)", len, s);
			return -1;
		}
		const char *cs = s, *ce = eq, *vs = eq + 1, *ve = e;
		trim(&cs, &ce);
		trim(&vs, &ve);
		size_t vl = (size_t)(ve - vs);
		const char *status = vl == 6 && !memcmp(vs, "active", 6)     ? "active"
				     : vl == 8 && !memcmp(vs, "inactive", 8) ? "inactive"
									     : NULL;
		if (cs == ce) {
			snprintf(why, n, "\"%.*s\" names no code (CODE=active or CODE=inactive)",
				 len, s);
			return -1;
		}
		if (!status) {
			snprintf(why, n, "\"%.*s\": \"%.*s\" is neither active nor inactive", len,
				 s, (int)vl, vs);
			return -1;
		}
		if (map_status_of(c, cs, (size_t)(ce - cs))) {
			snprintf(why, n, "\"%.*s\": code \"%.*s\" is given twice", len, s,
				 (int)(ce - cs), cs);
			return -1;
		}
		struct map_status_code *sc = &c->status_codes[c->nstatus_codes];
		if (!(sc->code = strndup(cs, (size_t)(ce - cs)))) {
			snprintf(why, n, "out of memory");
			return -1;
		}
		sc->status = status;
		c->nstatus_codes++;
	}
	if (!c->nstatus_codes) {
		snprintf(why, n, "no code given (CODE=active or CODE=inactive, separated by ;)");
		return -1;
	}
	return 0;
}

const char *map_status_of(const struct map_ctx *c, const char *code, size_t len)
{
	const struct map_status_code *t = c->status_codes ? c->status_codes : default_status_codes;
	int nt = c->status_codes ? c->nstatus_codes
				 : (int)(sizeof default_status_codes / sizeof default_status_codes[0]);
	for (int i = 0; i < nt; i++)
		if (strlen(t[i].code) == len && !memcmp(t[i].code, code, len))
			return t[i].status;
	return NULL;
}

int map_first_time(struct map_table *t, const char *key, size_t len)
{
	if (table_find(t, key, len))
		return 0;
	return table_put(t, key, len) ? 1 : -1;
}

/* ---- end of HR status codes ---- */

/* ---- SDS ---- */

struct map_entry *map_table_entry(struct map_table *t, const char *key, size_t len, int add)
{
	return add ? table_put(t, key, len) : table_find(t, key, len);
}

/* ---- end of SDS ---- */

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

int map_dir_group(struct map_ctx *c, struct jscan *js, int rec, struct map_sink *out, char *why,
		  size_t whylen, const char *source, const char *name1, const char *name2,
		  const char *type, const struct map_field *rows)
{
	int id = map_id(js, rec, "id", why, whylen);
	if (id < 0)
		return MAP_BAD;
	int names[2], nn = 0;
	for (const char *k = name1; k; k = k == name1 ? name2 : NULL)
		names[nn++] = jscan_get(js, rec, k, strlen(k));
	if (map_group_seen(c, js, id, names, nn))
		return MAP_FAIL;
	return map_end(out, map_begin(c, js, out, 0, source, id, type, rows, MAP_AT(rec, 0)));
}

int map_member_seen(struct map_ctx *c, const struct map_dir_info *d, struct map_sink *out,
		    struct jscan *js, int group, int person)
{
	struct map_dir *s = &c->state->dir;
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
	struct map_dir *s = &c->state->dir;
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
		/* a group rule that cannot be decided stops here: a later rule
		 * (default=staff) would give students and teachers a wrong role */
		if (r->kind == RULE_GROUP && !s->group_rules_ok)
			break;
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
		size_t n = 0; /* the key: up to a . or a [ */
		while (path[n] && path[n] != '.' && path[n] != '[')
			n++;
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

/* ,"field": (a table's field names need no escaping) */
static int put_key(struct buf *b, const char *field)
{
	size_t n = strlen(field);
	if (buf_reserve(b, n + 4))
		return -1;
	b->data[b->len++] = ',';
	b->data[b->len++] = '"';
	memcpy(b->data + b->len, field, n);
	b->len += n;
	b->data[b->len++] = '"';
	b->data[b->len++] = ':';
	b->data[b->len] = 0;
	return 0;
}

static void roll_back(struct buf *b, size_t mark)
{
	b->len = mark;
	b->data[mark] = 0;
}

/* Writes value token v as kind. 0; 1 when v has a type the kind cannot
 * take, 2 for an org unit that is not known (nothing useful written, the
 * caller rolls back); -1 buf full. */
static int put_value(struct map_ctx *c, struct jscan *js, struct map_sink *out,
		     enum map_kind kind, int v, struct buf *b, const char *wrong_type)
{
	const struct jtok *t = &js->tok[v];
	if (kind == MK_STR)
		return jscan_put_string(js, v, b);
	if (kind == MK_ORGUNIT) {
		if (t->type != JSCAN_STRING)
			return 1;
		const char *id = map_orgunit_id(c, js, v);
		if (!id)
			return 2;
		return buf_addc(b, '[') || jsonw_str(b, id) || buf_addc(b, ']') ? -1 : 0;
	}
	if (kind == MK_ONE) {
		if (t->type == JSCAN_STRING && t->start == t->end)
			return buf_adds(b, "[]");
		if (buf_addc(b, '['))
			return -1;
		int rc = jscan_put_string(js, v, b);
		return rc ? rc : buf_addc(b, ']');
	}
	if (t->type != JSCAN_ARRAY) /* MK_LIST */
		return 1;
	int first = 1, rc = buf_addc(b, '[');
	for (int k = 0, e = v + 1; k < t->size && !rc; k++, e = js->tok[e].next) {
		if (js->tok[e].type == JSCAN_NULL)
			continue;
		size_t mark = b->len;
		if (!first && buf_addc(b, ','))
			return -1;
		int r = jscan_put_string(js, e, b);
		if (r > 0) {
			roll_back(b, mark);
			out->left_out(out, wrong_type, 1);
			continue;
		}
		rc = r;
		first = 0;
	}
	return rc ? rc : buf_addc(b, ']');
}

int map_put_fields(struct map_ctx *c, struct jscan *js, struct map_sink *out, struct buf *b,
		   const struct map_field *rows, const struct map_at *at)
{
	const char *wrong_type = at->wrong_type ? at->wrong_type : map_wrong_type;
	const char *done = NULL; /* the field last written: its alternatives are skipped */
	for (const struct map_field *r = rows; r->field; r++) {
		if ((done && !strcmp(done, r->field)) || (r->when & at->flags) != r->when)
			continue;
		if (r->kind == MK_CONST) {
			if (put_key(b, r->field) || jsonw_str(b, r->path))
				return -1;
			done = r->field;
			continue;
		}
		int v = map_path(js, r->from == MF_BASE ? at->base : at->rec, r->path);
		if (v < 0 || js->tok[v].type == JSCAN_NULL)
			continue;
		size_t mark = b->len;
		if (put_key(b, r->field))
			return -1;
		int rc = put_value(c, js, out, r->kind, v, b, wrong_type);
		if (rc < 0)
			return -1;
		if (rc > 0) {
			roll_back(b, mark);
			out->left_out(out, rc == 2 ? no_orgunit : wrong_type, rc != 2);
			continue;
		}
		done = r->field;
	}
	return 0;
}

struct buf *map_begin(struct map_ctx *c, struct jscan *js, struct map_sink *out, int feed,
		      const char *source, int id, const char *type, const struct map_field *rows,
		      const struct map_at *at)
{
	struct buf *b = out->begin(out, feed);
	if (!b || map_head(js, b, source, id) || map_put_const(b, "type", type) ||
	    map_put_fields(c, js, out, b, rows, at))
		return NULL;
	return b;
}

int map_end(struct map_sink *out, struct buf *b)
{
	return !b || buf_addc(b, '}') || out->end(out) ? MAP_FAIL : MAP_OK;
}

int map_put_member(struct jscan *js, struct map_sink *out, int feed, const char *source, int group,
		   int person, const char *role)
{
	struct buf *b = out->begin(out, feed);
	if (!b || buf_adds(b, "{\"source\":") || jsonw_str(b, source) ||
	    buf_adds(b, ",\"group_id\":") || jscan_put_string(js, group, b) ||
	    buf_adds(b, ",\"person_id\":") || jscan_put_string(js, person, b) ||
	    map_put_const(b, "role", role))
		return MAP_FAIL;
	return map_end(out, b);
}

unsigned map_role_flags(const char *role)
{
	return role && !strcmp(role, "student") ? MW_STUDENT : MW_NOT_STUDENT;
}

int map_put_person(struct map_ctx *c, struct jscan *js, struct map_sink *out, const char *source,
		   int id, const char *role, const struct map_status *st,
		   const struct map_field *rows, const struct map_at *at)
{
	struct buf *b = out->begin(out, 0);
	if (!b || map_head(js, b, source, id) || map_put_const(b, "role", role) ||
	    map_put_const(b, "status", st->status) || map_put_fields(c, js, out, b, rows, at) ||
	    map_put_const(b, "status_reason", st->reason) ||
	    (st->prefix &&
	     map_put_text(c, js, b, "status_reason", st->prefix, st->tok, st->suffix)))
		return MAP_FAIL;
	return map_end(out, b);
}

int map_is_true(struct jscan *js, int obj, const char *key)
{
	int v = jscan_get(js, obj, key, strlen(key));
	return v >= 0 && js->tok[v].type == JSCAN_TRUE;
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

/* ---- Helpers of the flat-record mappers ---- */

/* district, school and department: the org types both keep as given. */
static const struct map_name org_types[] = {
	{"district", "district"}, {"school", "school"}, {"department", "department"}, {NULL, NULL},
};

static const struct map_name session_types[] = {
	{"schoolYear", "schoolYear"}, {"term", "term"}, {"semester", "semester"},
	{"gradingPeriod", "gradingPeriod"}, {NULL, NULL},
};

static const struct map_name member_roles[] = {
	{"student", "student"}, {"teacher", "teacher"}, {"aide", "member"},
	{"administrator", "member"}, {"proctor", "member"}, {NULL, NULL},
};

static const char courses[] = "courses (no canonical courses stream; classes keep the course id)";
static const char odd_session[] = "sessions whose type is not schoolYear, term, semester or "
				  "gradingPeriod (type left out)";
static const char odd_member[] = "enrollments whose role is not student, teacher, aide, "
				 "administrator or proctor";

int map_get(struct jscan *js, int rec, const char *key)
{
	int v = jscan_get(js, rec, key, strlen(key));
	return v >= 0 && js->tok[v].type == JSCAN_NULL ? -1 : v;
}

int map_put_value(struct jscan *js, struct map_sink *out, struct buf *b, const char *field, int v)
{
	if (v < 0)
		return 0;
	size_t mark = b->len;
	if (jsonw_key(b, field, 0))
		return -1;
	int rc = jscan_put_string(js, v, b);
	if (rc > 0) {
		b->len = mark;
		b->data[mark] = 0;
		out->left_out(out, map_wrong_type, 1);
	}
	return rc < 0 ? -1 : 0;
}

int map_put_const(struct buf *b, const char *field, const char *value)
{
	return value && (jsonw_key(b, field, 0) || jsonw_str(b, value));
}

int map_head(struct jscan *js, struct buf *b, const char *source, int id)
{
	return buf_adds(b, "{\"source\":") || jsonw_str(b, source) ||
	       buf_adds(b, ",\"source_id\":") || jscan_put_string(js, id, b);
}

int map_lookup(struct map_ctx *c, struct jscan *js, int rec, const char *key,
	       const struct map_name *table, const struct map_name **hit)
{
	int v = map_get(js, rec, key);
	if (v < 0)
		return -1;
	buf_reset(&c->key);
	if (js->tok[v].type != JSCAN_STRING || jscan_unescape(js, v, &c->key) || !c->key.len)
		return 0;
	for (const struct map_name *m = table; m->given; m++)
		if (caseeq(m->given, strlen(m->given), c->key.data, c->key.len)) {
			*hit = m;
			return 1;
		}
	return 0;
}

int map_put_org(struct jscan *js, int rec, struct map_ctx *ctx, struct map_sink *out, char *why,
		size_t whylen, const char *source, const struct map_field *rows,
		const char *null_type, const char *status)
{
	int id = map_id(js, rec, "sourcedId", why, whylen);
	if (id < 0)
		return MAP_BAD;
	const struct map_name *t = NULL;
	int found = map_lookup(ctx, js, rec, "type", org_types, &t);
	const char *type = found > 0 ? t->canon : found == 0 ? "orgunit" : NULL;
	if (found < 0 && jscan_get(js, rec, "type", 4) >= 0)
		type = null_type; /* "type": null */
	struct buf *b = map_begin(ctx, js, out, 0, source, id, type, rows, MAP_AT(rec, 0));
	if (b && map_put_const(b, "status", status))
		return MAP_FAIL;
	return map_end(out, b);
}

int map_courses_left_out(struct jscan *js, int rec, struct map_ctx *ctx, struct map_sink *out,
			 char *why, size_t n)
{
	(void)js, (void)rec, (void)ctx, (void)why, (void)n;
	out->left_out(out, courses, 0);
	return MAP_OK;
}

int map_put_session(struct jscan *js, int rec, struct map_ctx *ctx, struct map_sink *out,
		    char *why, size_t whylen, const char *source, const struct map_field *rows,
		    const char *skip)
{
	int id = map_id(js, rec, "sourcedId", why, whylen);
	if (id < 0)
		return MAP_BAD;
	if (skip) {
		out->left_out(out, skip, 0);
		return MAP_OK;
	}
	const struct map_name *t = NULL;
	int found = map_lookup(ctx, js, rec, "type", session_types, &t);
	if (found == 0)
		out->left_out(out, odd_session, 1);
	return map_end(out, map_begin(ctx, js, out, 0, source, id, found > 0 ? t->canon : NULL,
				      rows, MAP_AT(rec, 0)));
}

int map_put_membership(struct jscan *js, int rec, struct map_ctx *ctx, struct map_sink *out,
		       const char *source, int cls, int user)
{
	const struct map_name *r = NULL;
	if (map_lookup(ctx, js, rec, "role", member_roles, &r) <= 0) {
		out->left_out(out, odd_member, 1);
		return MAP_OK;
	}
	return map_put_member(js, out, 0, source, cls, user, r->canon);
}
