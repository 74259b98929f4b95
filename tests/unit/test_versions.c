/* Version fallback: which answers abandon a candidate, and the order tried. */
#include "net/versions.h"
#include "tap.h"

#include <string.h>

struct script {
	const char *cand[4];
	int status[4]; /* what each candidate answers; 0 = works */
	const char *tried[8];
	int ntried;
};

static int probe(const char *cand, void *ud, struct rt_err *e)
{
	struct script *s = ud;
	s->tried[s->ntried++] = cand;
	for (int i = 0; s->cand[i]; i++)
		if (!strcmp(s->cand[i], cand)) {
			if (!s->status[i])
				return 0;
			e->status = s->status[i];
			err_set(e, ERR_HTTP, "HTTP %d", s->status[i]);
			return -1;
		}
	return -1;
}

static void run(const char *name, int s0, int s1, int s2, const char *remembered, int want_rc,
		int want_winner, int want_tried)
{
	struct script s = {{"v3", "v2", "v1", NULL}, {s0, s1, s2}, {0}, 0};
	struct rt_err e;
	int winner = -1;
	err_clear(&e);
	int rc = version_pick(s.cand, 3, remembered, probe, &s, &winner, &e);
	tap_ok(rc == want_rc && (rc || winner == want_winner) && s.ntried == want_tried,
	       "%s (rc %d, winner %d, tried %d)", name, rc, winner, s.ntried);
}

int main(void)
{
	run("first candidate works", 0, 0, 0, NULL, 0, 0, 1);
	run("404 falls back to the next", 404, 0, 0, NULL, 0, 1, 2);
	run("405 and 410 fall back", 405, 410, 0, NULL, 0, 2, 3);
	run("401 stops the search", 401, 0, 0, NULL, -1, -1, 1);
	run("403 stops the search", 403, 0, 0, NULL, -1, -1, 1);
	run("500 stops the search", 500, 0, 0, NULL, -1, -1, 1);
	run("503 stops the search", 503, 0, 0, NULL, -1, -1, 1);
	run("all 404: fails after every candidate", 404, 404, 404, NULL, -1, -1, 3);
	run("remembered winner is tried first", 0, 0, 0, "v1", 0, 2, 1);
	run("remembered winner gone: falls back in order", 0, 0, 404, "v1", 0, 0, 2);
	run("unknown remembered name is ignored", 404, 0, 0, "v9", 0, 1, 2);

	struct script s = {{"v3", "v2", "v1", NULL}, {404, 404, 404}, {0}, 0};
	struct rt_err e;
	int w;
	err_clear(&e);
	version_pick(s.cand, 3, NULL, probe, &s, &w, &e);
	tap_ok(strstr(e.msg, "v3, v2, v1") != NULL, "the error lists every candidate tried: %s", e.msg);

	struct rt_err x;
	err_clear(&x);
	strcpy(x.code, "no_such_api");
	tap_ok(version_abandons(&x), "the vendor's own 'no such API' answer abandons a candidate");
	return tap_done();
}
