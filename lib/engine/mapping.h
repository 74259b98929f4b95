#ifndef ROSTER_MAPPING_H
#define ROSTER_MAPPING_H

#include "core/buf.h"
#include "core/htab.h"
#include "format/jscan.h"

#include <stddef.h>
#include <string.h>

/* How normalize turns a raw vendor stream into canonical streams. Each
 * vendor keeps all of its mapping knowledge in one file, lib/vendor/NAME/map.c,
 * which exports a table of mappers (one per raw stream it knows), named in
 * its row of the vendor registry (engine/vendor.h).
 *
 * A mapper reads one raw record from tokens and writes canonical records
 * through a sink that normalize provides: the sink decides where the text
 * goes (straight to the output, or through the user's --jq program), the
 * mapper only builds JSON objects. What a mapper must remember from one
 * record to a later one (a directory's groups, org units, role rules) is
 * in a struct map_ctx that normalize owns and hands to every mapper. */

#define MAP_MAX_FEEDS 4

struct map_sink {
	/* Starts a record of the mapper's feeds[feed]; returns the buf to
	 * append exactly one JSON object to, or NULL when output failed. */
	struct buf *(*begin)(struct map_sink *s, int feed);
	/* Ends it. 0, or -1 when output failed. */
	int (*end)(struct map_sink *s);
	/* Something was left out on purpose (a contact-only user, a field of
	 * the wrong type): counted per reason (a static string) in normalize's
	 * summary; warn asks for a warning naming the line as well. */
	void (*left_out)(struct map_sink *s, const char *reason, int warn);
};

enum {
	MAP_OK = 0,
	MAP_BAD = -1,  /* the record cannot be mapped (why says how); nothing was written */
	MAP_FAIL = -2, /* the sink failed; stop */
};

struct map_ctx;

struct mapper {
	const char *raw;                      /* raw stream, "clever_users" */
	const char *feeds[MAP_MAX_FEEDS + 1]; /* canonical streams, NULL-terminated */
	/* Maps the record at token rec (an object) of js. */
	int (*map)(struct jscan *js, int rec, struct map_ctx *ctx, struct map_sink *out, char *why,
		   size_t whylen);
};

/* ---- Role rules and per-run state (directory sources) ----
 *
 * A directory (Entra ID, Google Workspace) does not say who is a student
 * or a teacher; the district says it with role rules (--role-rules), tried
 * in order, the first that matches wins:
 *
 *     group:NAME=ROLE     the person is a member of a group whose name,
 *                         email or id is NAME (ASCII case ignored), as
 *                         the source's group members stream says
 *     orgunit:/PATH=ROLE  the person's org unit is PATH or under it
 *     default=ROLE        anyone (last rule only)
 *
 * Group rules are resolved while the groups and members streams go by:
 * a group that matches a rule is remembered (id -> the first rule it
 * matches), then each member of such a group (person id -> the first such
 * rule); the user records that follow look themselves up. So memory grows
 * with matching groups and their members, with org units, never with all
 * users. That needs the members before the users: extractors send them in
 * that order, and map_role checks it. */

enum map_rule_kind { RULE_GROUP, RULE_ORGUNIT, RULE_DEFAULT };

struct map_rule {
	enum map_rule_kind kind;
	char *text;       /* the rule as given, trimmed: for messages and counts */
	char *match;      /* group name/email/id, or org unit path (no trailing /) */
	const char *role; /* static: one of the canonical roles */
	long hits;        /* people who got their role from this rule */
};

/* A string -> (string, int) table (core/htab.h). Keys are byte strings
 * with a length (an escaped NUL stays in them). The table owns copies of
 * its keys and values. */
struct map_entry {
	struct htab_key k;
	char *val;
	int n;
};

struct map_table {
	struct map_entry *v; /* in the order added */
	size_t count, cap;
	struct htab index;
};

/* Per-run state of one directory source. */
struct map_dir {
	int users_seen;        /* a user record of this source went by */
	int group_rules_ok;    /* decided at the first user: members were complete */
	int members_seen;      /* a member record went by */
	int groups_incomplete; /* decided at the first member: groups were not complete */
};

/* What one source's mappers keep from record to record during a run; what
 * it means is the vendor's (its map.c says). normalize gives each vendor
 * of the registry one, and points map_ctx.state at the one of the record
 * being mapped. */
struct map_state {
	struct map_table seen; /* keys already met (HR: a person made once; SDS: roles) */
	int started;           /* a later stream began (SDS: a user went by) */
	struct map_dir dir;    /* a directory source's role rules (map_role) */
};

#define MAP_MAX_SOURCES 32 /* vendors in the registry, at most */

/* Ownership: the struct owns rules, tables and scratch buffers;
 * map_ctx_free releases them. normalize owns the struct itself (one per
 * run) and sets complete/owner so that mappers can ask whether a raw
 * stream was read completely so far. The functions below are in
 * lib/engine/normalize.c. */
struct map_ctx {
	struct map_rule *rules;
	int nrules, ngroup_rules;
	struct map_table groups;   /* group id -> index of the first group rule it matches */
	struct map_table people;   /* person id -> index of the first group rule it gets */
	struct map_table orgunits; /* org unit path -> org unit id */
	long guests, unruled, ruled; /* people by how their role was set */
	struct buf key, val;         /* scratch for strings taken out of tokens */
	/* Whether raw stream raw has had an ACTIVATE_VERSION for every SCHEMA so
	 * far. NULL: every stream counts as complete. */
	int (*complete)(const void *owner, const char *raw);
	const void *owner;
	/* one per vendor of the registry, by its index; state: the current record's */
	struct map_state states[MAP_MAX_SOURCES];
	struct map_state *state;

	/* -- HR sources (Munis, Frontline): see "HR status codes" below -- */
	struct map_status_code *status_codes; /* --status-codes; NULL: the default table */
	int nstatus_codes;
	/* -- end of HR sources -- */
};

void map_ctx_init(struct map_ctx *c);
void map_ctx_free(struct map_ctx *c);
/* Parses RULES (";"-separated, see above) into c. 0; -1 with why naming
 * the rule that is wrong and how. */
int map_ctx_rules(struct map_ctx *c, const char *text, char *why, size_t whylen);

/* ---- HR status codes (Munis, Frontline) ----
 *
 * An HR system keeps a district-defined personnel status code per
 * employee (Munis: the STAT table). The status code table says which
 * codes are active and which inactive; codes it lacks leave the status
 * out (unknown). Default: A=active; L=active; T=inactive; R=inactive.
 * --status-codes replaces it: CODE=active|inactive pairs separated by ;,
 * blanks around each part ignored, codes case-sensitive. */
struct map_status_code {
	char *code;
	const char *status; /* static: "active" or "inactive" */
};

/* Parses TEXT (see above) into c, replacing the default table. 0; -1
 * with why naming the pair that is wrong and how. */
int map_ctx_status_codes(struct map_ctx *c, const char *text, char *why, size_t whylen);
/* "active", "inactive", or NULL when code[0..len) is not in the table. */
const char *map_status_of(const struct map_ctx *c, const char *code, size_t len);
/* Remembers key[0..len) in t: 1 the first time, 0 when seen before, -1
 * out of memory. */
int map_first_time(struct map_table *t, const char *key, size_t len);

/* ---- A string table for a mapper's state ----
 * The entry of key[0..len) in t, added (val NULL, n 0x7fffffff) when add
 * and new; NULL when absent (add 0) or out of memory. The table frees
 * val, which must come from malloc. */
struct map_entry *map_table_entry(struct map_table *t, const char *key, size_t len, int add);

/* What a directory source tells map_role about itself. */
struct map_dir_info {
	const char *groups, *members; /* its raw groups and group members streams */
	/* left-out reasons (static strings): users given no group role because
	 * the members were incomplete; members read while the groups were
	 * incomplete (a rule by group name or email may miss their group) */
	const char *no_group_rules, *no_group_names;
};

/* A group record went by: token id and the tokens that name it (-1 for
 * none). Remembers it when a group rule matches. 0, or -1 out of memory. */
int map_group_seen(struct map_ctx *c, struct jscan *js, int id, const int *names, int nnames);
struct map_field; /* a table row: see "Field tables" below */

/* A group record of a directory: its id at "id" (MAP_BAD with why when
 * it has none), remembered when a group rule names it by id or by the
 * value at name1 or name2 (NULL: none), then written to feed 0 as
 * map_begin does with type and rows. MAP_OK, MAP_BAD or MAP_FAIL. */
int map_dir_group(struct map_ctx *c, struct jscan *js, int rec, struct map_sink *out, char *why,
		  size_t whylen, const char *source, const char *name1, const char *name2,
		  const char *type, const struct map_field *rows);
/* A member record went by (person token, group id token). 0, or -1. */
int map_member_seen(struct map_ctx *c, const struct map_dir_info *d, struct map_sink *out,
		    struct jscan *js, int group, int person);
/* An org unit went by: path -> id, for map_orgunit_id. 0, or -1. */
int map_orgunit_seen(struct map_ctx *c, struct jscan *js, int path, int id);
/* The id of the org unit whose path is token path, or NULL if unknown.
 * Valid until the next call into c. */
const char *map_orgunit_id(struct map_ctx *c, struct jscan *js, int path);
/* The role of a user by the rules (person token id, org unit path token
 * or -1), or NULL when none matches (the role is left out). Counts it. */
const char *map_role(struct map_ctx *c, const struct map_dir_info *d, struct map_sink *out,
		     struct jscan *js, int person, int orgunit);

/* ---- Field tables: every mapper's one way from raw fields to canonical ones ----
 *
 * One row per canonical field, in output order. Consecutive rows for the
 * same field are alternatives: the first that applies and has a value
 * wins. A value absent or null leaves the field out; "" stays "".
 *
 * Paths are dotted keys, with a selector on an array step:
 *   externalIds[type=organization].value  the first element whose type is
 *                                         "organization"
 *   organizations[primary].title          the first element whose primary is
 *                                         true, else the first element
 * A path starts at the record, or (MF_BASE) at a second token the mapper
 * names: Clever's user rows read the user's chosen role object. */
enum map_kind {
	MK_CONST,   /* the path is the value itself */
	MK_STR,     /* a string (a number or boolean becomes its text) */
	MK_ORGUNIT, /* an org unit path, written as [its id] when known */
	MK_LIST,    /* an array of strings (nulls skipped; another value left out, counted) */
	MK_ONE,     /* one string, written as a list of it ("" gives []) */
};

/* Where a row's path starts. */
enum { MF_RECORD, MF_BASE };

/* A row's "when": bits that the mapper defines, all of which must be in
 * the flags it passes for the row to apply; 0: always. The directory
 * mappers' (Graph, Google, OneRoster) bits: */
enum {
	MW_STUDENT = 1,     /* the role is student */
	MW_NOT_STUDENT = 2, /* any other role, or none */
	MW_LIVE = 4,        /* not a deleted object */
	MW_NOT_GUEST = 8,
};

struct map_field {
	const char *field;
	enum map_kind kind;
	unsigned char from; /* MF_RECORD or MF_BASE */
	unsigned when;
	const char *path;
};

/* Rows of a table, for every vendor's map.c: */
#define F(f, p, w) {f, MK_STR, MF_RECORD, w, p}    /* a string, when w */
#define STR(f, p) F(f, p, 0)                       /* a string */
#define CONST(f, v) {f, MK_CONST, MF_RECORD, 0, v} /* the value v itself */
#define ONE(f, p) {f, MK_ONE, MF_RECORD, 0, p}     /* one string as a list */
#define ROLE(f, k, w, p) {f, k, MF_BASE, w, p}     /* kind k from the base token, when w */
#define END {NULL, MK_CONST, MF_RECORD, 0, NULL}

/* What a table's rows read and which of them apply. */
struct map_at {
	int rec;                /* the record: where MF_RECORD paths start */
	int base;               /* where MF_BASE paths start; -1: none */
	unsigned flags;         /* the "when" bits that hold for this record */
	const char *wrong_type; /* the left-out reason for a value of the wrong type;
				 * NULL: map_wrong_type */
};
/* The rows of record rec with flags: no base token, map_wrong_type. */
#define MAP_AT(rec, flags) (&(const struct map_at){(rec), -1, (flags), NULL})

/* The value at path from tok (selectors above), or -1. */
int map_path(struct jscan *js, int tok, const char *path);
/* Appends ,"field":value for each row that applies (its when bits all in
 * at->flags) and has a value. 0, or -1 when b is over its cap. */
int map_put_fields(struct map_ctx *c, struct jscan *js, struct map_sink *out, struct buf *b,
		   const struct map_field *rows, const struct map_at *at);
/* Begins a record of feed: {"source":SOURCE,"source_id":<token id's
 * text>, then ,"type":TYPE unless type is NULL, then the rows. The buf
 * to append the rest to (map_end closes it), or NULL when output failed. */
struct buf *map_begin(struct map_ctx *c, struct jscan *js, struct map_sink *out, int feed,
		      const char *source, int id, const char *type, const struct map_field *rows,
		      const struct map_at *at);
/* Closes the record map_begin gave (b NULL: it failed). MAP_OK or MAP_FAIL. */
int map_end(struct map_sink *out, struct buf *b);
/* Writes {"source":SOURCE,"group_id":<token group>,"person_id":<token
 * person>,"role":ROLE} to feed. MAP_OK or MAP_FAIL. */
int map_put_member(struct jscan *js, struct map_sink *out, int feed, const char *source, int group,
		   int person, const char *role);
/* MW_STUDENT when role is "student", else MW_NOT_STUDENT (no role too). */
unsigned map_role_flags(const char *role);
/* A person's status as a directory says it. */
struct map_status {
	const char *status;         /* "active" or "inactive"; NULL: left out */
	const char *reason;         /* status_reason as it is; NULL: none */
	const char *prefix, *suffix; /* else, prefix set: status_reason is
				      * prefix<string token tok's text>suffix */
	int tok;                    /* -1: prefix and suffix alone */
};
/* Writes a directory's person to feed 0: {"source":SOURCE,"source_id":<id>,
 * its role (NULL: left out), its status, the rows, its status_reason.
 * MAP_OK or MAP_FAIL. */
int map_put_person(struct map_ctx *c, struct jscan *js, struct map_sink *out, const char *source,
		   int id, const char *role, const struct map_status *st,
		   const struct map_field *rows, const struct map_at *at);
/* 1 when the value at key of obj is true. */
int map_is_true(struct jscan *js, int obj, const char *key);
/* Defines the mapper name (struct mapper's map) of a vendor's map.c, with
 * the parameters every mapper has, named as they all name them. */
#define MAPPER(name)                                                                         \
	static int name(struct jscan *js, int rec, struct map_ctx *ctx, struct map_sink *out,   \
			char *why, size_t whylen)
/* Two mappers of one function, say a directory's users and its deleted
 * users: MAPPER_OF_VARIANT defines the function fn, with a mapper's
 * parameters and int variant; MAP_VARIANT the mapper name, fn with
 * variant v. */
#define MAPPER_OF_VARIANT(fn, variant)                                                       \
	static int fn(struct jscan *js, int rec, struct map_ctx *ctx, struct map_sink *out,     \
		      char *why, size_t whylen, int variant)
#define MAP_VARIANT(name, fn, v)                                                             \
	MAPPER(name)                                                                         \
	{                                                                                    \
		return fn(js, rec, ctx, out, why, whylen, v);                                \
	}
/* The record's non-empty string id at key, or -1 with why. */
int map_id(struct jscan *js, int rec, const char *key, char *why, size_t whylen);
/* Appends ,"field":"prefix<token's text>suffix" (tok -1: no text). 0 or -1. */
int map_put_text(struct map_ctx *c, struct jscan *js, struct buf *b, const char *field,
		 const char *prefix, int tok, const char *suffix);

/* Reason for a value of the wrong JSON type (shared so it is counted once). */
extern const char map_wrong_type[];

/* ---- Helpers of the flat-record mappers (Munis, Frontline, OneRoster, SDS) ---- */

/* The value of key, or -1 when it is absent or null. */
int map_get(struct jscan *js, int rec, const char *key);
/* Appends ,"field":<token v as a string> when v >= 0. A value of the
 * wrong type (an object, an array) is left out and counted. 0, or -1. */
int map_put_value(struct jscan *js, struct map_sink *out, struct buf *b, const char *field, int v);
/* Appends ,"field":"value"; nothing when value is NULL. 0, or -1. */
int map_put_const(struct buf *b, const char *field, const char *value);
/* Starts a record: {"source":"SOURCE","source_id":<token id's text>
 * (the caller closes the object). 0, or -1. */
int map_head(struct jscan *js, struct buf *b, const char *source, int id);

/* A vendor's name for something and its canonical name. */
struct map_name {
	const char *given, *canon; /* canon NULL: left out */
};

/* The entry of table (ended by given NULL) whose given name is the string
 * at key of rec, ASCII case ignored: 1 with *hit set; 0 when the value is
 * another string or not a string; -1 when it is absent or null. Uses
 * c->key as scratch. */
int map_lookup(struct map_ctx *c, struct jscan *js, int rec, const char *key,
	       const struct map_name *table, const struct map_name **hit);

/* OneRoster and SDS share a model: their orgs, courses, sessions and
 * enrollments map the same way. */

/* A mapper's whole work for an org: its id at "sourcedId" (MAP_BAD with
 * why when it has none), then {"source":SOURCE,"source_id":ID, its type
 * (district, school and department as given, any case; another string is
 * "orgunit"; absent: left out; null: null_type, which may be NULL), the
 * rows and ,"status":STATUS (NULL: left out). MAP_OK, MAP_BAD or MAP_FAIL. */
int map_put_org(struct jscan *js, int rec, struct map_ctx *ctx, struct map_sink *out, char *why,
		size_t whylen, const char *source, const struct map_field *rows,
		const char *null_type, const char *status);

/* A mapper for a courses stream: there is no canonical one, so each
 * record is left out (counted). */
int map_courses_left_out(struct jscan *js, int rec, struct map_ctx *ctx, struct map_sink *out,
			 char *why, size_t whylen);
/* A mapper's whole work for a session: its id at "sourcedId" (MAP_BAD
 * with why when it has none); then, when skip is not NULL, the record is
 * left out for that reason (counted); else it is written: its type
 * (schoolYear, term, semester or gradingPeriod, any case; another is left
 * out, counted), then rows. MAP_OK, MAP_BAD or MAP_FAIL. */
int map_put_session(struct jscan *js, int rec, struct map_ctx *ctx, struct map_sink *out,
		    char *why, size_t whylen, const char *source, const struct map_field *rows,
		    const char *skip);
/* Writes the membership of person token user in group token cls, its role
 * from the record's role (student and teacher as given; aide,
 * administrator and proctor are members; another is left out, counted).
 * MAP_OK or MAP_FAIL. */
int map_put_membership(struct jscan *js, int rec, struct map_ctx *ctx, struct map_sink *out,
		       const char *source, int cls, int user);

#endif
