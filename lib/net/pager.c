#include "net/pager.h"
#include "core/buf.h"
#include "net/url.h"

#include <stdlib.h>
#include <string.h>

/* Links are rarely longer than a few KiB; a longer one is refused as not a URL. */
#define LINK_CAP (1 << 16)

void pager_init(struct pager *p, const char *first_url, int max_pages)
{
	struct buf b;
	memset(p, 0, sizeof *p);
	p->pages = 1;
	p->max_pages = max_pages > 0 ? max_pages : PAGER_DEFAULT_MAX_PAGES;
	buf_init(&b, LINK_CAP);
	if (!url_origin(first_url, &b))
		p->origin = buf_steal(&b);
	/* A first URL that is not http(s) leaves origin NULL: pager_next then
	 * refuses every link, since none can be checked against it. */
	if (p->origin && (url_key(first_url, &b) || strset_add(&p->seen, b.data) < 0))
		p->oom = 1;
	buf_free(&b);
}

int pager_next(struct pager *p, const char *next_url, struct rt_err *e)
{
	struct buf origin, key;
	int rc = -1;
	err_clear(e);
	buf_init(&origin, LINK_CAP);
	buf_init(&key, LINK_CAP);
	if (!p->origin) {
		err_set(e, ERR_PAGING, "the first page's URL is not an absolute http(s) URL");
	} else if (p->oom) {
		err_set(e, ERR_PAGING, "out of memory recording the pages read");
	} else if (url_origin(next_url, &origin) || url_key(next_url, &key)) {
		err_set(e, ERR_PAGING, "the next link is not an absolute http(s) URL");
	} else if (strcmp(origin.data, p->origin)) {
		err_set(e, ERR_PAGING, "refused a next link to another host: %s (the list is on %s)",
			origin.data, p->origin);
		err_hint(e, "links are only followed on the host the list started on, so that "
			    "credentials never leave it; check the base URL");
	} else if (strset_has(&p->seen, key.data)) {
		err_set(e, ERR_PAGING, "the next link %s was already read: the server's paging loops",
			key.data);
	} else if (p->pages >= p->max_pages) {
		err_set(e, ERR_PAGING,
			"stopped at the cap of %d pages: the server still sent a next link",
			p->max_pages);
	} else if (strset_add(&p->seen, key.data) < 0) {
		err_set(e, ERR_PAGING, "out of memory recording the pages read");
	} else {
		p->pages++;
		rc = 0;
	}
	buf_free(&origin);
	buf_free(&key);
	return rc;
}

int pager_pages(const struct pager *p)
{
	return p->pages;
}

int pager_check_total(const struct pager *p, long long advertised, long long read,
		      struct rt_err *e)
{
	if (advertised < 0 || advertised == read)
		return 0;
	err_clear(e);
	err_set(e, ERR_PAGING, "the server advertised %lld records but %lld were read in %d page%s",
		advertised, read, p->pages, p->pages == 1 ? "" : "s");
	return -1;
}

void pager_free(struct pager *p)
{
	strset_free(&p->seen);
	free(p->origin);
	memset(p, 0, sizeof *p);
}
