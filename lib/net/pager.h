#ifndef ROSTER_PAGER_H
#define ROSTER_PAGER_H

#include "core/err.h"
#include "core/strset.h"

/* The pagination guards every connector runs its next links through
 * (DESIGN.md): a link seen before is a loop, a link to another origin is
 * refused (it would carry our token to a stranger), the page count has a
 * cap, and an advertised total must match what was read.
 *
 * A pager owns its copy of the first URL's origin and a hash set of every
 * link it let through (in url_key form, so two spellings of one page
 * match); pager_free releases them. */
struct pager {
	char *origin;   /* url_origin of the first URL; NULL when it had none */
	struct strset seen; /* links let through, in url_key form */
	int pages;      /* pages let through, the first included */
	int max_pages;
	int oom;        /* the first URL could not be recorded */
};

#define PAGER_DEFAULT_MAX_PAGES 100000

/* first_url: the absolute URL of the first page, already requested or
 * about to be. max_pages 0 = PAGER_DEFAULT_MAX_PAGES. */
void pager_init(struct pager *p, const char *first_url, int max_pages);

/* Call with the absolute next URL before following it. 0: follow it (it is
 * counted as a page). -1 with e cleared and filled (ERR_PAGING) when the
 * link was seen before (a loop: the message names the link), points to
 * another origin than the first URL (refused: the message names both), or
 * the page cap is reached. */
int pager_next(struct pager *p, const char *next_url, struct rt_err *e);

/* Pages let through so far, the first included. */
int pager_pages(const struct pager *p);

/* advertised < 0 = none. 0 when they agree or none was advertised; -1 with
 * e cleared and filled (ERR_PAGING) naming both numbers. */
int pager_check_total(const struct pager *p, long long advertised, long long read,
		      struct rt_err *e);

void pager_free(struct pager *p);

#endif
