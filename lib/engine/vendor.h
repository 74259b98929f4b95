#ifndef ROSTER_VENDOR_H
#define ROSTER_VENDOR_H

#include "format/jobfile.h"
#include "net/fetch.h"
#include "engine/drop.h"
#include "engine/mapping.h"

#include <stddef.h>

/* The vendor registry: one row per vendor, in lib/vendor/vendors.c (the
 * one file that names them all; lib/vendor/README.md says how to add
 * one). The engine knows a vendor only through its row: run-job (source
 * types, job keys, what a source feeds), normalize (the mappers), dedupe
 * (directory or roster, and whom a roster lists), extract-sftp (the drop
 * profiles) and every extractor (rate, fetch hooks). No engine file
 * includes a vendor's header. */

/* Whom a vendor's people are, for the reconciliation of directory
 * accounts against the rosters (dedupe --reconcile). */
enum vendor_scope {
	VENDOR_ROSTER,    /* a roster of everyone it serves (Clever, an SIS) */
	VENDOR_STAFF,     /* a roster of staff only (an HR system: Munis) */
	VENDOR_PARTIAL,   /* some people only (Frontline: who was absent): not compared */
	VENDOR_DIRECTORY, /* sign-in accounts (Entra ID, Google Workspace) */
};

struct vendor {
	/* The source type in job files, the prefix of its raw streams
	 * (clever_users) and the source of its canonical records. */
	const char *name;

	/* -- its API extractor; program NULL: read from drops only -- */
	const char *program;             /* "extract-clever" */
	const struct job_key *job_keys;  /* [source] keys beyond the common ones */
	const char *streams_key;         /* the job key naming some of its raw streams, or NULL */
	const char *snapshot_key;        /* the yes/no key that keeps a snapshot between runs */
	double rate;                     /* requests a minute by default (pacing) */
	/* The fetch layer's hooks (net/fetch.h), NULL when the vendor needs none:
	 * its rate-limit headers, its throttles that arrive as other codes, and
	 * the hints for its error answers. */
	const struct rate_window *window;
	void (*throttle_reason)(const struct http_resp *r, char *out, size_t n);
	void (*explain)(struct rt_err *e, const struct http_resp *r, void *ud);

	/* -- normalize: one mapper per raw stream, ended by raw == NULL -- */
	const struct mapper *mappers;
	/* -- its drop profiles (extract-sftp --profile), NULL-terminated; or NULL -- */
	const struct drop_profile *const *drops;
	enum vendor_scope scope;
};

/* Every vendor, ended by a row whose name is NULL (lib/vendor/vendors.c). */
extern const struct vendor vendors[];

/* The vendor named name, or NULL. */
const struct vendor *vendor_find(const char *name);
/* The i-th vendor that has an API extractor (0, 1, ...), or NULL past the last. */
const struct vendor *vendor_api_nth(size_t i);
/* The drop profile named name and its vendor (*v, when v is not NULL), or NULL. */
const struct drop_profile *vendor_drop_profile(const char *name, const struct vendor **v);
/* The i-th drop profile over all vendors, or NULL past the last. */
const struct drop_profile *vendor_drop_nth(size_t i, const struct vendor **v);
/* The mapper of raw stream raw ("clever_users") and its vendor (*v, when
 * v is not NULL), or NULL when no vendor has one. */
const struct mapper *vendor_mapper(const char *raw, const struct vendor **v);
/* The i-th mapper over all vendors, or NULL past the last. */
const struct mapper *vendor_mapper_nth(size_t i);
/* The scope of the people whose source is name: a vendor not in the
 * registry (a test's "sis") counts as a roster of everyone. */
enum vendor_scope vendor_scope_of(const char *name);

#endif
