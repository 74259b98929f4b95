/* Pagination guards and the URL operations paging relies on. */
#include "core/buf.h"
#include "net/pager.h"
#include "net/url.h"
#include "tap.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define CLEVER "https://api.clever.com/v3.0/users?limit=2"

/* Resolution cases. Clever's next links are relative, Graph's nextLink is
 * absolute; the rest are RFC 3986 section 5.4's examples (base
 * http://a/b/c/d;p?q), "normal" then "abnormal". */
static const struct {
	const char *base, *ref, *want;
} joins[] = {
	{CLEVER, "/v3.0/users?limit=2&starting_after=64a1f0c2b3d4e5f60718293a",
	 "https://api.clever.com/v3.0/users?limit=2&starting_after=64a1f0c2b3d4e5f60718293a"},
	{"http://127.0.0.1:8080/v3.0/sections?limit=100", "/v3.0/sections?starting_after=x",
	 "http://127.0.0.1:8080/v3.0/sections?starting_after=x"},
	{"https://graph.microsoft.com/v1.0/users?$top=999",
	 "https://graph.microsoft.com/v1.0/users?$top=999&$skiptoken=RFNwdAIAAQAAACY6",
	 "https://graph.microsoft.com/v1.0/users?$top=999&$skiptoken=RFNwdAIAAQAAACY6"},
	{"https://graph.microsoft.com/v1.0/users", "https://graph.microsoft.com/v1.0/a/../users",
	 "https://graph.microsoft.com/v1.0/a/../users"}, /* absolute links are followed verbatim */
	{"https://sis.example.org/ims/oneroster/v1p1/users?limit=100", "users?limit=100&offset=100",
	 "https://sis.example.org/ims/oneroster/v1p1/users?limit=100&offset=100"},
	{"https://h.example", "next?p=2", "https://h.example/next?p=2"},
	{"http://a/b/c/d;p?q", "g:h", "g:h"},
	{"http://a/b/c/d;p?q", "g", "http://a/b/c/g"},
	{"http://a/b/c/d;p?q", "./g", "http://a/b/c/g"},
	{"http://a/b/c/d;p?q", "g/", "http://a/b/c/g/"},
	{"http://a/b/c/d;p?q", "/g", "http://a/g"},
	{"http://a/b/c/d;p?q", "//g", "http://g"},
	{"http://a/b/c/d;p?q", "?y", "http://a/b/c/d;p?y"},
	{"http://a/b/c/d;p?q", "g?y", "http://a/b/c/g?y"},
	{"http://a/b/c/d;p?q", "#s", "http://a/b/c/d;p?q#s"},
	{"http://a/b/c/d;p?q", "g#s", "http://a/b/c/g#s"},
	{"http://a/b/c/d;p?q", "g?y#s", "http://a/b/c/g?y#s"},
	{"http://a/b/c/d;p?q", ";x", "http://a/b/c/;x"},
	{"http://a/b/c/d;p?q", "g;x", "http://a/b/c/g;x"},
	{"http://a/b/c/d;p?q", "g;x?y#s", "http://a/b/c/g;x?y#s"},
	{"http://a/b/c/d;p?q", "", "http://a/b/c/d;p?q"},
	{"http://a/b/c/d;p?q", ".", "http://a/b/c/"},
	{"http://a/b/c/d;p?q", "./", "http://a/b/c/"},
	{"http://a/b/c/d;p?q", "..", "http://a/b/"},
	{"http://a/b/c/d;p?q", "../", "http://a/b/"},
	{"http://a/b/c/d;p?q", "../g", "http://a/b/g"},
	{"http://a/b/c/d;p?q", "../..", "http://a/"},
	{"http://a/b/c/d;p?q", "../../", "http://a/"},
	{"http://a/b/c/d;p?q", "../../g", "http://a/g"},
	{"http://a/b/c/d;p?q", "../../../g", "http://a/g"},
	{"http://a/b/c/d;p?q", "../../../../g", "http://a/g"},
	{"http://a/b/c/d;p?q", "/./g", "http://a/g"},
	{"http://a/b/c/d;p?q", "/../g", "http://a/g"},
	{"http://a/b/c/d;p?q", "g.", "http://a/b/c/g."},
	{"http://a/b/c/d;p?q", ".g", "http://a/b/c/.g"},
	{"http://a/b/c/d;p?q", "g..", "http://a/b/c/g.."},
	{"http://a/b/c/d;p?q", "..g", "http://a/b/c/..g"},
	{"http://a/b/c/d;p?q", "./../g", "http://a/b/g"},
	{"http://a/b/c/d;p?q", "./g/.", "http://a/b/c/g/"},
	{"http://a/b/c/d;p?q", "g/./h", "http://a/b/c/g/h"},
	{"http://a/b/c/d;p?q", "g/../h", "http://a/b/c/h"},
	{"http://a/b/c/d;p?q", "g;x=1/./y", "http://a/b/c/g;x=1/y"},
	{"http://a/b/c/d;p?q", "g;x=1/../y", "http://a/b/c/y"},
	{"http://a/b/c/d;p?q", "g?y/./x", "http://a/b/c/g?y/./x"},
	{"http://a/b/c/d;p?q", "g#s/../x", "http://a/b/c/g#s/../x"},
	/* Bad input: no base to resolve against, or control characters. */
	{"/v3.0/users", "/v3.0/users?starting_after=x", NULL},
	{"api.clever.com/v3.0/users", "?x", NULL},
	{CLEVER, "/v3.0/users?starting_after=x\r\nX-Evil: 1", NULL},
	{CLEVER, NULL, NULL},
};

static void test_join(void)
{
	struct buf out;
	buf_init(&out, 4096);
	for (size_t i = 0; i < sizeof joins / sizeof joins[0]; i++) {
		buf_adds(&out, "stale");
		int r = url_join(joins[i].base, joins[i].ref, &out);
		const char *ref = joins[i].ref ? joins[i].ref : "(null)";
		if (joins[i].want)
			tap_ok(!r && !strcmp(out.data, joins[i].want), "join %s + %s = %s",
			       joins[i].base, ref, joins[i].want);
		else
			tap_ok(r == -1 && out.len == 0, "join %s + %s: refused, nothing written",
			       joins[i].base, strchr(ref, '\r') ? "(a link with CR LF)" : ref);
		if (joins[i].want && (r || strcmp(out.data, joins[i].want)))
			tap_diag("  got rc %d: %s", r, out.data ? out.data : "");
	}
	buf_free(&out);

	struct buf tiny;
	buf_init(&tiny, 16);
	tap_ok(url_join(CLEVER, "/v3.0/users?starting_after=x", &tiny) == -1 && tiny.len == 0,
	       "a result over the buffer's cap fails cleanly");
	buf_free(&tiny);
}

static const struct {
	const char *url, *origin, *path;
} urls[] = {
	{"https://API.Clever.com/v3.0/users?limit=2", "https://api.clever.com:443", "/v3.0/users"},
	{"HTTPS://h.example", "https://h.example:443", "/"},
	{"http://127.0.0.1:8080/x?y#z", "http://127.0.0.1:8080", "/x"},
	{"http://user:secret@Host.example:0080/a/b?token=abc", "http://host.example:80", "/a/b"},
	{"https://h.example:/p", "https://h.example:443", "/p"},
	{"https://[::1]:8443/v1.0/users", "https://[::1]:8443", "/v1.0/users"},
	{"https://h.example?x=1", "https://h.example:443", "/"},
	{"/v3.0/users?limit=2", NULL, "/v3.0/users"},
	{"ftp://h.example/file", NULL, "/file"},
	{"https://", NULL, "/"},
	{"https://h.example:99999/", NULL, "/"},
	{"https://h.example:44x/", NULL, "/"},
	{"https://h.example:0/", NULL, "/"},
	{"https://user@/p", NULL, "/p"},
	{"https://[::1/p", NULL, "/p"},
	{"mailto:someone@h.example", NULL, NULL},
	{"users", NULL, NULL},
	{"", NULL, NULL},
};

static void test_origin_path(void)
{
	struct buf o, p;
	buf_init(&o, 4096);
	buf_init(&p, 4096);
	for (size_t i = 0; i < sizeof urls / sizeof urls[0]; i++) {
		int r = url_origin(urls[i].url, &o);
		if (urls[i].origin)
			tap_ok(!r && !strcmp(o.data, urls[i].origin), "origin of %s is %s", urls[i].url,
			       urls[i].origin);
		else
			tap_ok(r == -1 && o.len == 0, "%s has no http(s) origin", urls[i].url);
		r = url_path(urls[i].url, &p);
		if (urls[i].path)
			tap_ok(!r && !strcmp(p.data, urls[i].path), "path of %s is %s", urls[i].url,
			       urls[i].path);
		else
			tap_ok(r == -1, "%s has no path for a message", urls[i].url);
	}
	url_path("https://u:hunter2@h.example/a?access_token=hunter2", &p);
	tap_ok(!strstr(p.data, "hunter2"), "no userinfo or query secret in a message path: %s",
	       p.data);
	tap_ok(!url_key("https://API.clever.com:443/v3.0/users?limit=2#frag", &o) &&
		       !strcmp(o.data, "https://api.clever.com:443/v3.0/users?limit=2"),
	       "url_key: one spelling per page (%s)", o.data);
	buf_free(&o);
	buf_free(&p);
}

static void test_guards(void)
{
	struct pager pg;
	struct rt_err e;
	err_clear(&e);

	pager_init(&pg, CLEVER, 0);
	TAP_EQ_INT(pager_pages(&pg), 1, "the first page counts");
	tap_ok(pager_next(&pg, CLEVER "&starting_after=a", &e) == 0, "a new link is followed");
	tap_ok(pager_next(&pg, CLEVER "&starting_after=b", &e) == 0, "another new link");
	TAP_EQ_INT(pager_pages(&pg), 3, "three pages");
	tap_ok(pager_next(&pg, CLEVER "&starting_after=a", &e) == -1 && e.kind == ERR_PAGING,
	       "a link seen before is a loop");
	tap_ok(strstr(e.msg, "starting_after=a") && strstr(e.msg, "already read"),
	       "the loop message names the link: %s", e.msg);
	tap_ok(pager_next(&pg, CLEVER, &e) == -1, "a link back to the first page is a loop");
	tap_ok(pager_next(&pg, "https://API.clever.com:443/v3.0/users?limit=2&starting_after=b#x",
			  &e) == -1,
	       "another spelling of a page read is a loop too");
	TAP_EQ_INT(pager_pages(&pg), 3, "refused links are not counted");

	tap_ok(pager_next(&pg, "https://evil.example/v3.0/users?starting_after=c", &e) == -1 &&
		       e.kind == ERR_PAGING,
	       "a link to another host is refused");
	tap_ok(strstr(e.msg, "evil.example") && strstr(e.msg, "api.clever.com"),
	       "the message names both hosts: %s", e.msg);
	tap_ok(pager_next(&pg, "http://api.clever.com/v3.0/users?starting_after=c", &e) == -1,
	       "a downgrade to http is another origin");
	tap_ok(pager_next(&pg, "https://api.clever.com:8443/v3.0/users?starting_after=c", &e) == -1,
	       "another port is another origin");
	tap_ok(pager_next(&pg, "/v3.0/users?starting_after=c", &e) == -1 &&
		       strstr(e.msg, "not an absolute"),
	       "a relative link must be joined first: %s", e.msg);
	tap_ok(pager_next(&pg, "https://api.clever.com/v3.0/users?starting_after=c", &e) == 0,
	       "the pager still works after refusals");
	pager_free(&pg);

	pager_init(&pg, "https://graph.microsoft.com/v1.0/users?$top=999", 3);
	tap_ok(!pager_next(&pg, "https://graph.microsoft.com/v1.0/users?$top=999&$skiptoken=A", &e) &&
		       !pager_next(&pg, "https://graph.microsoft.com/v1.0/users?$top=999&$skiptoken=B",
				   &e),
	       "cap 3: the second and third pages are followed");
	tap_ok(pager_next(&pg, "https://graph.microsoft.com/v1.0/users?$top=999&$skiptoken=C", &e) ==
			       -1 &&
		       e.kind == ERR_PAGING && strstr(e.msg, "3 pages"),
	       "cap 3: a fourth is refused: %s", e.msg);
	TAP_EQ_INT(pager_pages(&pg), 3, "cap 3: three pages read");
	pager_free(&pg);

	/* The default cap, and the set growing through 100,000 links. */
	pager_init(&pg, CLEVER, 0);
	char link[128];
	int refused = 0;
	for (int i = 1; i < 100000; i++) {
		snprintf(link, sizeof link, CLEVER "&starting_after=%d", i);
		refused += pager_next(&pg, link, &e) != 0;
	}
	TAP_EQ_INT(refused, 0, "default cap: 99,999 new links followed");
	TAP_EQ_INT(pager_pages(&pg), 100000, "default cap: 100,000 pages");
	tap_ok(pager_next(&pg, CLEVER "&starting_after=x", &e) == -1 && strstr(e.msg, "100000 pages"),
	       "default cap: the next one is refused: %s", e.msg);
	tap_ok(pager_next(&pg, CLEVER "&starting_after=5000", &e) == -1 &&
		       strstr(e.msg, "already read"),
	       "a loop is still found among 100,000 links");
	pager_free(&pg);

	pager_init(&pg, "api.clever.com/v3.0/users", 0);
	tap_ok(pager_next(&pg, CLEVER, &e) == -1 && strstr(e.msg, "first page"),
	       "a first URL without a scheme refuses every link: %s", e.msg);
	pager_free(&pg);
}

/* What pager_free leaves: every field zero, so that a second free frees
 * nothing and a freed pager lets no link through as seen. */
static int pager_empty(const struct pager *p)
{
	return !p->origin && !p->seen.v && !p->seen.cap && !p->seen.count && !p->seen.index.slot &&
	       !p->seen.index.size && !p->pages &&
	       !p->max_pages && !p->oom && !pager_pages(p) && !strset_has(&p->seen, CLEVER);
}

/* In a child (tap_child): a pager holding an origin and a grown set of
 * links, freed twice. */
static void free_twice(void *unused)
{
	struct pager pg;
	struct rt_err e;
	char link[128];
	(void)unused;
	err_clear(&e);
	pager_init(&pg, CLEVER, 0);
	for (int i = 1; i < 100; i++) {
		snprintf(link, sizeof link, CLEVER "&starting_after=%d", i);
		if (pager_next(&pg, link, &e))
			_exit(3);
	}
	pager_free(&pg);
	pager_free(&pg);
}

static void test_totals(void)
{
	struct pager pg;
	struct rt_err e;
	err_clear(&e);
	pager_init(&pg, CLEVER, 0);
	pager_next(&pg, CLEVER "&offset=2", &e);
	tap_ok(pager_check_total(&pg, -1, 5, &e) == 0, "no advertised total: nothing to check");
	tap_ok(pager_check_total(&pg, 120, 120, &e) == 0, "advertised total matches");
	tap_ok(pager_check_total(&pg, 0, 0, &e) == 0, "an empty list that says so");
	tap_ok(pager_check_total(&pg, 120, 118, &e) == -1 && e.kind == ERR_PAGING,
	       "fewer records than advertised");
	tap_ok(strstr(e.msg, "120") && strstr(e.msg, "118"), "the message names both: %s", e.msg);
	tap_ok(pager_check_total(&pg, 4300, 4400, &e) == -1 && strstr(e.msg, "4300") &&
		       strstr(e.msg, "4400"),
	       "more records than advertised: %s", e.msg);
	pager_free(&pg);
	tap_ok(pager_empty(&pg), "pager_free leaves the pager empty: no origin, no links, no pages");
	pager_free(&pg);
	tap_ok(pager_empty(&pg), "pager_free twice is harmless: the pager is still empty after the second");
	TAP_EQ_INT(tap_child(free_twice, NULL), 0,
		   "pager_free twice on a pager that held links ends cleanly in a child (no double "
		   "free, no sanitizer report)");
}

int main(void)
{
	test_join();
	test_origin_path();
	test_guards();
	test_totals();
	return tap_done();
}
