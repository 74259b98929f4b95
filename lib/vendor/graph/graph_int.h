#ifndef ROSTER_GRAPH_INT_H
#define ROSTER_GRAPH_INT_H

/* What the parts of the Graph client share, and no other file: api.c
 * (the token, pages, plain lists and the run), delta.c (delta rounds kept
 * in a snapshot) and hints.c (error answers and their hints, and the pure
 * helpers the unit tests check). */

#include "core/buf.h"
#include "format/snapshot.h"
#include "engine/extract.h"
#include "vendor/graph/graph.h"

#include <cjson/cJSON.h>

/* Every user property the roster needs. $select is always sent: without it
 * department, employeeId and accountEnabled are missing. Nothing here 501s
 * in a list, and lastModifiedDateTime does not exist on a user. */
#define USER_FIELDS                                                                    \
	"id,userPrincipalName,mail,givenName,surname,displayName,jobTitle,department,"  \
	"employeeId,employeeType,accountEnabled,userType,createdDateTime,"              \
	"employeeHireDate,employeeLeaveDateTime,companyName,officeLocation"
#define GROUP_FIELDS                                                                   \
	"id,displayName,description,mail,mailEnabled,mailNickname,securityEnabled,"     \
	"groupTypes,createdDateTime"
#define MEMBER_FIELDS "id,userPrincipalName,displayName,mail"
#define USER_TYPE "#microsoft.graph.user"

#define NEED_USERS "User.Read.All"
#define NEED_GROUPS "Group.Read.All (or GroupMember.Read.All)"

#define LINK_CAP (1 << 16)
#define PAGE_CAP ((size_t)256 << 20)

extern const char *const graph_id_key[], *const graph_member_key[];
/* what a stored object must not keep from a delta page */
extern const char *const graph_delta_skip[];

/* One collection read with /delta: its link and how this run read it. */
struct part {
	const char *name;     /* "users", "groups" */
	const char *bookmark; /* STATE key of its delta link */
	const char *hkey;     /* snapshot header key */
	const char *old_link; /* last run's link, when it matches the snapshot (last_state's) */
	struct buf new_link;
	int state;            /* 1 read, -1 failed, 0 not read yet */
	int full;             /* read from scratch */
	int reconciled;       /* from scratch because the link had expired */
	long changed, removed;
	struct rt_err err;    /* why it failed: both group streams report it */
};

enum { SET_USERS, SET_GROUPS, SET_MEMBERS, NSETS };

struct graph {
	struct extract_run *run;
	const struct extract_opts *o;
	const struct graph_opts *go;
	struct graph_ctx ctx;
	struct buf base;      /* "https://graph.microsoft.com/v1.0" */
	struct buf origin;    /* the base's origin: links must stay on it */
	struct buf token_url;
	struct buf auth;      /* "Authorization: Bearer ..."; wiped when replaced and at the end */
	double expires_at;    /* the token's, 0 when unknown */
	double issued_at;     /* when the token was got */
	int token_fresh;      /* got and not used yet: never renewed before one use */
	int token_failed;     /* the last graph_get failed getting a token, not on its URL */
	int top;
	long pages, items;    /* the current stream's, for progress lines */
	/* group ids of a complete groups stream, for the members stream */
	char **gids;
	size_t ngids, capgids;
	int groups_complete;
	struct graph_kinds kinds;
	long groups_gone;
	/* delta */
	struct snapshot_set sets[NSETS];
	cJSON *header; /* the snapshot's, or NULL */
	struct part users, groups;
	int full_due;
	int delta_failed;
};

typedef int (*item_fn)(struct graph *g, cJSON *item, void *ud, struct rt_err *e);

/* ---- api.c ---- */
/* Adds to the current stream's note. */
void graph_note(struct graph *g, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* One record of the current stream. 0, or -1 with e when stdout failed. */
int graph_emit(struct graph *g, const cJSON *obj, struct rt_err *e);
/* The object's "id" string, or NULL. */
const char *graph_id_of(const cJSON *obj);
/* Whether link stays on the base URL's origin. */
int graph_same_origin(const struct graph *g, const char *link);
/* Reads every page from first, following @odata.nextLink under the
 * pager's guards, handing each item to fn; with delta_link, the round's
 * final deltaLink is copied there. 0, or -1 with e. */
int graph_read_list(struct graph *g, const char *first, item_fn fn, void *ud,
		    struct buf *delta_link, struct rt_err *e);
/* A directory object's @odata.type, or NULL. */
const char *graph_type_of(const cJSON *obj);
/* A user member as Graph sent it plus its group's id; the others counted. */
int graph_emit_member(struct graph *g, const cJSON *m, const char *gid, struct rt_err *e);
void graph_stream_begin(struct graph *g, const char *name, const char *const *keys,
			const char *need);
void graph_stream_end(struct graph *g, const struct rt_err *e);
/* The note of the members that are not users, for the current stream. */
void graph_note_kinds(struct graph *g);
/* GET /users/$count (ConsistencyLevel: eventual, here only) against the
 * users read: a difference is a note, the count being eventually consistent. */
void graph_check_count(struct graph *g, long read);

/* ---- delta.c ---- */
/* e filled for an allocation that failed; -1. */
int graph_oom(struct rt_err *e);
/* Loads the snapshot and decides which parts are read in full. */
void graph_delta_prepare(struct graph *g);
/* The stream name read with delta; last: the last delta stream asked for
 * (the snapshot is saved after it). */
void graph_delta_stream(struct graph *g, const char *name, int last);

/* ---- hints.c ---- */
/* Appends to e->msg. */
void graph_add_msg(struct rt_err *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
