#ifndef ROSTER_GRAPH_H
#define ROSTER_GRAPH_H

#include "core/buf.h"
#include "format/jobfile.h"
#include "net/fetch.h"
#include "engine/extract.h"
#include "engine/mapping.h"

/* Microsoft Entra ID through Microsoft Graph v1.0: what the extractor needs
 * to know. The wire facts live in api.c, in one place, the mapping in map.c. */

/* The raw streams (graph_<name>), in the order they are read. */
#define GRAPH_STREAMS "groups,group_members,users,deleted_users"

struct graph_opts {
	const char *tenant;        /* tenant GUID or verified domain */
	const char *client_id;     /* the application (client) id */
	const char *client_secret; /* from the store; the caller wipes it after the run
				      (a token may have to be renewed mid-run) */
	const char *secret_entry;  /* the store entry's NAME, for hints */
	const char *streams;       /* "groups,group_members,users,deleted_users" */
	const char *members;       /* "direct" (default) or "transitive" */
	int delta;                 /* incremental reads with /delta and a snapshot */
	int full;                  /* with delta: ignore the stored delta links */
	int full_every;            /* with delta: days between full reads; 0 = never */
	const char *snapshot;      /* with delta: the snapshot file */
	int page_size;             /* $top; at most GRAPH_MAX_TOP */
};

#define GRAPH_BASE_URL "https://graph.microsoft.com"
#define GRAPH_TOKEN_URL "https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token"
#define GRAPH_SCOPE "https://graph.microsoft.com/.default"
#define GRAPH_RATE 600   /* requests a minute: Graph meters resource units per app and tenant */
#define GRAPH_MAX_TOP 999
#define GRAPH_REFRESH_BEFORE 300 /* seconds: a token this close to expiry is renewed first
				    (half its lifetime, for a token that lives less than twice that) */

/* Runs the extraction: the token, then every stream asked for, in the
 * order groups, group_members, users, deleted_users. Each stream succeeds
 * or fails on its own; the exit code comes from extract_finish. */
int graph_extract(struct extract_run *run, const struct extract_opts *o,
		  const struct graph_opts *go);
/* Checks the option values. -1 with e filled (ERR_USAGE). */
int graph_check_opts(const struct graph_opts *go, struct rt_err *e);

/* The job-file keys of a [source] of type graph, and their flags. */
extern const struct job_key graph_job_keys[];
/* The hints hook (source->explain): graph_explain_answer for the run's
 * tenant and app, and Graph's throttle scope. */
void graph_explain(struct rt_err *e, const struct http_resp *r, void *ud);
/* normalize's mappers (map.c). */
extern const struct mapper map_graph[];

/* ---- pure helpers (unit-tested) ---- */

/* What the hints name: the tenant and app of the run, the stored entry of
 * the secret, and the permission the current stream needs. */
struct graph_ctx {
	const char *tenant;
	const char *client_id;
	const char *secret_entry;
	const char *need;  /* "User.Read.All", ...; NULL outside a stream */
	int token;         /* 1 while asking the token endpoint */
};

/* Fills e->code and e->hint for a failed answer, and adds the vendor's
 * message to e->msg (a Graph error.message; the token endpoint's
 * error_description is added by oauth2.c). Keys on the AADSTS code of a
 * token refusal and on error.code of a Graph body, never on message text. */
void graph_explain_answer(struct rt_err *e, long status, const char *content_type,
			  const char *body, size_t len, const struct graph_ctx *ctx);
/* The AADSTS number of a token endpoint's error body (error_codes[0], else
 * "AADSTSnnnn" in error_description), or 0. */
long graph_aadsts(const char *body, size_t len);
/* The token URL: every "{tenant}" of tmpl replaced by the URL-encoded
 * tenant. 0, or -1 when out is over its cap. */
int graph_token_url(const char *tmpl, const char *tenant, struct buf *out);
/* 1 when a full read is due: --full-every DAYS and the last one (an ISO
 * 8601 UTC time, as clk_iso8601 writes) is DAYS old or more, missing or
 * unreadable. 0 when days <= 0 or not due. */
int graph_full_due(const char *last_full, int days, double now);
/* 1 when a token got at issued_at and expiring at expires_at (epoch seconds)
 * is to be renewed at now: from min(GRAPH_REFRESH_BEFORE, half its lifetime)
 * before it expires. 0 when expires_at is unknown (<= 0). */
int graph_token_due(double issued_at, double expires_at, double now);
/* Seconds since the epoch of "YYYY-MM-DDTHH:MM:SS[.fff]Z"; -1 if not that. */
double graph_iso_time(const char *s);

/* Members that are not users, counted per type for the stream's note. */
#define GRAPH_KINDS 12
struct graph_kinds {
	int n;
	struct {
		char name[40]; /* "device", from "#microsoft.graph.device" */
		long count;
	} k[GRAPH_KINDS];
	long other; /* types past GRAPH_KINDS */
	long total;
};
void graph_kinds_add(struct graph_kinds *k, const char *odata_type);
/* "7 members that are not users were not kept: 2 groups, 4 devices,
 * 1 servicePrincipal", or "" when none. */
void graph_kinds_note(const struct graph_kinds *k, char *out, size_t n);

#endif
