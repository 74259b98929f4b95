#ifndef ROSTER_GOOGLE_INT_H
#define ROSTER_GOOGLE_INT_H

/* What the two parts of the Google client share, and no other file:
 * api.c (the key, the token, pages and streams) and hints.c (Google's
 * error bodies, its throttles, and what an administrator should check). */

#include "core/buf.h"
#include "auth/jwt.h"
#include "engine/extract.h"
#include "vendor/google/google.h"

#include <stddef.h>

#define SCOPE_PREFIX "https://www.googleapis.com/auth/"

/* What the request in flight is: the hints differ. */
enum req_kind { REQ_TOKEN, REQ_CUSTOMER, REQ_MEMBERS };

struct google {
	struct extract_run *run;
	const struct extract_opts *o;
	const struct google_opts *go;
	struct buf base;       /* the base URL without a trailing '/' */
	const char *customer;  /* --customer or my_customer */
	/* from the key file; none of them secret */
	char *client_email, *client_id, *key_id, *token_uri;
	struct jwt_key *key;   /* kept for the new tokens of a long run */
	struct buf scope;      /* space-separated, for the JWT */
	struct buf scope_list; /* comma-separated, as the Admin console takes them */
	char *cands[8];        /* token endpoints to try, in order */
	int ncands;
	char *token_url;       /* the token endpoint that answered */
	const char *assertion; /* the signed JWT while a token is asked for */
	int abandoned;         /* token endpoints that said "not here" */
	struct buf auth;       /* "Authorization: Bearer ..."; wiped */
	double refresh_at;     /* when to get a new token; 0: Google did not say */
	enum req_kind req;
	const char *need_scope; /* the scope the list being read needs, for hints */
	char **groups;         /* group ids, for the members stream */
	size_t ngroups, capgroups;
	int groups_complete;
	long pages;    /* pages read in the current stream, for progress */
	long vanished; /* groups gone (404) before their members were read */
	int page_failed; /* the last page's own request failed (not a token request) */
};

/* Whether s holds what, ASCII case ignored (NULL holds nothing). */
int google_has_text(const char *s, const char *what);

#endif
