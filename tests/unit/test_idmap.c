/* The id map (engine/idmap.h): the radix sort against qsort, the id rule
 * and its variants, a map read and written back unchanged, what a map
 * that is not one says, and the rules of idmap_assign on persons made by
 * hand: one id kept, the oldest of several, a split whose smaller part
 * takes the next id its keys name, new ids that skip every id issued, the
 * keys a present person no longer has. */
#include "engine/dedupe.h"
#include "engine/idmap.h"
#include "tap.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- the sort ---- */

struct e16 {
	uint64_t k;
	uint64_t seq;
};

struct e40 {
	uint64_t k;
	uint64_t seq;
	char pad[24];
};

static int by_k_seq(const void *pa, const void *pb)
{
	const struct e16 *a = pa, *b = pb;
	if (a->k != b->k)
		return a->k < b->k ? -1 : 1;
	return (a->seq > b->seq) - (a->seq < b->seq);
}

static uint64_t rnd(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* n entries whose keys are drawn by kind: 0 random, 1 few distinct
 * (stability), 2 small numbers (one bucket), 3 sorted, 4 reversed. */
static void check_sort(size_t n, int kind)
{
	struct e16 *a = malloc((n ? n : 1) * sizeof *a), *b = malloc((n ? n : 1) * sizeof *b);
	uint64_t s = 88172645463325252ULL + n;
	for (size_t i = 0; i < n; i++) {
		uint64_t r = rnd(&s);
		a[i].k = kind == 0 ? r : kind == 1 ? r % 7 << 60 | (r % 3) : kind == 2 ? r % 1000
			 : kind == 3 ? i : n - i;
		a[i].seq = i;
	}
	memcpy(b, a, (n ? n : 1) * sizeof *a);
	qsort(b, n, sizeof *b, by_k_seq); /* by key, then input order: what a stable sort gives */
	int rc = idmap_hsort(a, n, sizeof *a);
	tap_ok(rc == 0 && !memcmp(a, b, n * sizeof *a), "idmap_hsort: %zu entries of kind %d, as a "
	       "stable sort", n, kind);
	free(a);
	free(b);
}

static void test_sort(void)
{
	size_t sizes[] = {0, 1, 2, 33, 1000, 200000};
	for (size_t i = 0; i < sizeof sizes / sizeof *sizes; i++)
		for (int kind = 0; kind < 5; kind++)
			check_sort(sizes[i], kind);
	/* entries of another size than 16 bytes move whole */
	size_t n = 50000;
	struct e40 *a = malloc(n * sizeof *a);
	uint64_t s = 7;
	for (size_t i = 0; i < n; i++) {
		a[i].k = rnd(&s) % 5000;
		a[i].seq = i;
		memset(a[i].pad, (int)(i & 0x7f), sizeof a[i].pad);
	}
	int ok = !idmap_hsort(a, n, sizeof *a);
	for (size_t i = 1; ok && i < n; i++)
		ok = (a[i - 1].k < a[i].k || (a[i - 1].k == a[i].k && a[i - 1].seq < a[i].seq)) &&
		     a[i].pad[23] == (char)(a[i].seq & 0x7f);
	tap_ok(ok, "idmap_hsort: 40-byte entries sorted stably, moved whole");
	free(a);
}

/* ---- the id rule ---- */

static void test_rule(void)
{
	struct idmap_hasher h;
	char id[19], want[19];
	idmap_hasher_init(&h);
	idmap_format(idmap_hash_id(&h, "a\x1f" "1", 0), id);
	tap_ok(!strcmp(id, "p-839e11a421d370be"), "the rule: SHA-256 of the smallest key (%s)", id);
	dedupe_person_id("a", "1", want);
	tap_ok(!strcmp(id, want), "  ... as dedupe_person_id says");
	idmap_format(idmap_hash_id(&h, "a\x1f" "1", 1), id);
	tap_ok(!strcmp(id, "p-c69a670e58057ef5"), "variant 1: of the key, 0x1f and 1 (%s)", id);
	idmap_format(idmap_hash_id(&h, "a\x1f" "1", 2), id);
	tap_ok(!strcmp(id, "p-a103ac9bafa95a4e"), "variant 2 (%s)", id);
	idmap_hasher_free(&h);
	struct idmap_hasher none = {0}; /* an init that failed still answers */
	idmap_format(idmap_hash_id(&none, "a\x1f" "1", 0), id);
	tap_ok(!strcmp(id, "p-839e11a421d370be"), "a hasher without a context gives the same id");
	idmap_format(0x0123456789abcdefULL, id);
	tap_ok(!strcmp(id, "p-0123456789abcdef"), "idmap_format: p- and 16 lowercase digits");
}

/* ---- files ---- */

static char tmpdir[256];

static const char *path_of(const char *name)
{
	static char p[512];
	snprintf(p, sizeof p, "%s/%s", tmpdir, name);
	return p;
}

static void put(const char *name, const char *text)
{
	FILE *f = fopen(path_of(name), "w");
	fputs(text, f);
	fclose(f);
}

static char *get(const char *name)
{
	unsigned long n;
	return tap_slurp(path_of(name), &n);
}

/* Loads text as a map; the error message, or "" when it loaded. */
static const char *load_msg(const char *text, struct idmap **out)
{
	static char msg[512];
	struct rt_err e;
	err_clear(&e);
	put("map", text);
	struct idmap *m = idmap_new();
	int rc = idmap_load(m, path_of("map"), &e);
	snprintf(msg, sizeof msg, "%s", rc ? e.msg : "");
	if (out && !rc)
		*out = m;
	else
		idmap_free(m);
	return msg;
}

static void test_files(void)
{
	struct rt_err e;
	struct idmap *m = idmap_new();
	err_clear(&e);
	TAP_EQ_INT(idmap_load(m, path_of("none"), &e), 0, "a map that does not exist: the first night");
	TAP_EQ_INT(idmap_night(m), 0, "  ... night 0");
	idmap_free(m);

	/* read, then written back as it was, a night later (nobody tonight:
	 * every key stays; an alias of an alias is written resolved) */
	const char *text = "roster-ids 1\nnight 4\n"
			   "= p-0000000000000001 1 p-0000000000000002\n"
			   "= p-0000000000000002 3 p-00000000000000ff\n"
			   "+ p-00000000000000ff 1\n"
			   "e 5\ni 5\nm a\\x5cb@x.org\ns cl\\x20ever t\\x091\n"
			   "+ p-1000000000000000 2\n"
			   "end\n";
	m = NULL;
	const char *msg = load_msg(text, &m);
	tap_ok(m && !*msg, "a map with escapes, aliases and a live id without keys loads (%s)", msg);
	uint64_t none[1];
	err_clear(&e);
	if (m && !idmap_assign(m, NULL, 0, NULL, 0, none, &e) && !idmap_save(m, path_of("out"), &e)) {
		char *got = get("out");
		const char *want = "roster-ids 1\nnight 5\n"
				   "= p-0000000000000001 1 p-00000000000000ff\n"
				   "= p-0000000000000002 3 p-00000000000000ff\n"
				   "+ p-00000000000000ff 1\n"
				   "e 5\ni 5\nm a\\x5cb@x.org\ns cl\\x20ever t\\x091\n"
				   "+ p-1000000000000000 2\n"
				   "end\n";
		tap_ok(got && !strcmp(got, want), "  ... written back the same, night 5, aliases resolved");
		if (got && strcmp(got, want))
			tap_diag("  got:\n%s", got);
		free(got);
	} else {
		tap_ok(0, "  ... written back (%s)", e.msg);
	}
	idmap_free(m);

	/* what each fault says, with its line */
	struct {
		const char *text, *want;
	} bad[] = {
		{"roster-ids 1\nnight 1\n+ p-0000000000000001 1\ne a\rb\nend\n",
		 "4: a raw control character or space in a value"},
		{"roster-ids 1\nnight 1\n+ p-0000000000000001 1\ne \nend\n", "4: an empty value"},
		{"roster-ids 1\nnight 1\n+ p-0000000000000001 1\ns a b\\x1fc\nend\n",
		 "4: a value holding byte 0x1f"},
		{"roster-ids 1\nnight 1\n+ p-0000000000000001 1\ne a\\x00\nend\n",
		 "4: a value holding byte 0x00"},
		{"roster-ids 1\nnight 1\n+ p-000000000000000G 1\nend\n",
		 "3: 'p-000000000000000G' is not an id (p- and 16 lowercase hexadecimal digits)"},
		{"roster-ids 1\nnight 1\n+ p-0000000000000001 1 2\nend\n", "3: an id line is \"+ ID NIGHT\""},
		{"roster-ids 1\nnight 0\nend\n", "2: the second line is not \"night N\" (N from 1)"},
		{"roster-ids 1\n", "1: the map ends before its night line"},
	};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		char want[1024];
		snprintf(want, sizeof want, "%s:%s", path_of("map"), bad[i].want);
		msg = load_msg(bad[i].text, NULL);
		tap_ok(!strcmp(msg, want), "a bad map: %s", bad[i].want);
		if (strcmp(msg, want))
			tap_diag("  got '%s'", msg);
	}
	/* a NUL inside: written with its length, not as a C string */
	FILE *f = fopen(path_of("map"), "w");
	fwrite("roster-ids 1\nnight 1\ne\0x\nend\n", 1, 29, f);
	fclose(f);
	m = idmap_new();
	err_clear(&e);
	int rc = idmap_load(m, path_of("map"), &e);
	tap_ok(rc == -1 && strstr(e.msg, ":3: a NUL byte"), "a NUL byte in a line is an error (%s)", e.msg);
	idmap_free(m);
}

/* ---- tonight's ids ---- */

struct night {
	struct idmap_person ps[8];
	const char *pkeys[8][6]; /* each person's typed keys, NULL-ended */
	size_t np;
	uint64_t ids[8];
	char id[8][19];
	struct idmap_stats st;
	int rc;
};

static int by_hash(const void *pa, const void *pb)
{
	const struct idmap_key *a = pa, *b = pb;
	return a->hash < b->hash ? -1 : a->hash > b->hash;
}

/* Assigns tonight's ids with map m: each person's keys as typed strings. */
static void run_night(struct idmap *m, struct night *n)
{
	struct idmap_key keys[64];
	size_t nk = 0;
	struct rt_err e;
	for (size_t p = 0; p < n->np; p++)
		for (int j = 0; n->pkeys[p][j]; j++)
			keys[nk++] = (struct idmap_key){idmap_key_hash(n->pkeys[p][j]), n->pkeys[p][j],
							(long)p};
	qsort(keys, nk, sizeof *keys, by_hash);
	err_clear(&e);
	n->rc = idmap_assign(m, n->ps, n->np, keys, nk, n->ids, &e);
	for (size_t p = 0; p < n->np; p++)
		idmap_format(n->ids[p], n->id[p]);
	n->st = *idmap_stats(m);
}

static void test_rules(void)
{
	struct rt_err e;
	/* X (night 1) has a 1 and b 1; Y (night 2) has c 1; Z (night 2) has d 1 */
	const char *text = "roster-ids 1\nnight 2\n"
			   "+ p-0000000000000010 1\ne 5\ns a 1\ns b 1\n"
			   "+ p-0000000000000020 2\ns c 1\n"
			   "+ p-0000000000000030 2\nm z@x.org\ns d 1\n"
			   "end\n";
	struct idmap *m = NULL;
	const char *msg = load_msg(text, &m);
	tap_ok(m != NULL, "the rules' map loads (%s)", msg);
	if (!m)
		return;
	/* P0 {a 1, b 1} claims X; P1 {c 1, e 5} claims X (its employee_id) and Y:
	 * P0 is larger and keeps X, P1 takes Y, the next id its keys name.
	 * P2 {d 1} lost z@x.org: it keeps Z, and z@x.org is no key of Z any more.
	 * P3 {n 1} and P4 {zz 9} are new: the rule's ids */
	struct night n = {
		.ps = {{2, "a\x1f" "1"}, {2, "c\x1f" "1"}, {1, "d\x1f" "1"}, {1, "n\x1f" "1"},
		       {1, "zz\x1f" "9"}},
		.pkeys = {{"sa\x1f" "1", "sb\x1f" "1", NULL}, {"sc\x1f" "1", "e5", NULL},
			  {"sd\x1f" "1", NULL}, {"sn\x1f" "1", NULL}, {"szz\x1f" "9", NULL}},
		.np = 5,
	};
	run_night(m, &n);
	TAP_EQ_INT(n.rc, 0, "assign");
	tap_ok(!strcmp(n.id[0], "p-0000000000000010"), "the larger claimant keeps the id (%s)", n.id[0]);
	tap_ok(!strcmp(n.id[1], "p-0000000000000020"), "the other takes the next id its keys name (%s)",
	       n.id[1]);
	tap_ok(!strcmp(n.id[2], "p-0000000000000030"), "a source leaving a person keeps its id");
	struct idmap_hasher h;
	idmap_hasher_init(&h);
	char want[19];
	idmap_format(idmap_hash_id(&h, "n\x1f" "1", 0), want);
	tap_ok(!strcmp(n.id[3], want), "no known key: the rule's id (%s)", n.id[3]);
	idmap_format(idmap_hash_id(&h, "zz\x1f" "9", 0), want);
	tap_ok(!strcmp(n.id[4], want), "  ... another (%s)", n.id[4]);
	TAP_EQ_INT(n.st.kept, 3, "3 kept");
	TAP_EQ_INT(n.st.fresh, 2, "2 new");
	TAP_EQ_INT(n.st.split, 0, "none split off: P1 had an id of its own");
	TAP_EQ_INT(n.st.merged, 0, "none merged");
	err_clear(&e);
	TAP_EQ_INT(idmap_save(m, path_of("n3"), &e), 0, "saved");
	char *got = get("n3");
	tap_ok(got && strstr(got, "+ p-0000000000000010 1\ns a 1\ns b 1\n+ p-0000000000000020 2\n"
				   "e 5\ns c 1\n+ p-0000000000000030 2\ns d 1\n"),
	       "the keys follow their persons; z@x.org is gone, e 5 moved with P1");
	free(got);
	idmap_free(m);

	/* the oldest of several wins; the others are aliases, never issued again */
	m = NULL;
	load_msg("roster-ids 1\nnight 5\n"
		 "+ p-00000000000000aa 3\ns a 1\n"
		 "+ p-00000000000000bb 2\ns b 1\n"
		 "+ p-00000000000000cc 2\ns c 1\n"
		 "end\n", &m);
	tap_ok(m != NULL, "a second map loads");
	if (!m) {
		idmap_hasher_free(&h);
		return;
	}
	struct night n2 = {
		.ps = {{3, "a\x1f" "1"}, {1, "q\x1f" "1"}},
		.pkeys = {{"sa\x1f" "1", "sb\x1f" "1", "sc\x1f" "1", NULL}, {"sq\x1f" "1", NULL}},
		.np = 2,
	};
	run_night(m, &n2);
	tap_ok(!strcmp(n2.id[0], "p-00000000000000bb"), "first night first, then the smaller id (%s)",
	       n2.id[0]);
	TAP_EQ_INT(n2.st.merged, 2, "two ids retired as its aliases");
	err_clear(&e);
	idmap_save(m, path_of("n6"), &e);
	got = get("n6");
	tap_ok(got && strstr(got, "= p-00000000000000aa 3 p-00000000000000bb\n+ p-00000000000000bb 2\n"
				   "s a 1\ns b 1\ns c 1\n= p-00000000000000cc 2 p-00000000000000bb\n"),
	       "the aliases written, the keys with the id kept");
	tap_ok(got && strstr(got, "night 6\n"), "the map is night 6");
	free(got);
	idmap_free(m);
	idmap_hasher_free(&h);
}

/* The same persons in another order get the same ids. */
static void test_order(void)
{
	struct idmap *a = NULL, *b = NULL;
	const char *text = "roster-ids 1\nnight 1\n+ p-0000000000000001 1\ns a 1\ns b 1\nend\n";
	load_msg(text, &a);
	load_msg(text, &b);
	tap_ok(a && b, "two copies of a map");
	if (!a || !b) {
		idmap_free(a);
		idmap_free(b);
		return;
	}
	/* a 1 and b 1 split, one record each: the smaller key keeps the id */
	struct night x = {.ps = {{1, "a\x1f" "1"}, {1, "b\x1f" "1"}},
			  .pkeys = {{"sa\x1f" "1", NULL}, {"sb\x1f" "1", NULL}}, .np = 2};
	struct night y = {.ps = {{1, "b\x1f" "1"}, {1, "a\x1f" "1"}},
			  .pkeys = {{"sb\x1f" "1", NULL}, {"sa\x1f" "1", NULL}}, .np = 2};
	run_night(a, &x);
	run_night(b, &y);
	tap_ok(!strcmp(x.id[0], "p-0000000000000001") && !strcmp(y.id[1], "p-0000000000000001"),
	       "a split of equal parts: the smaller key keeps the id, in either order");
	tap_ok(!strcmp(x.id[1], y.id[0]), "  ... and the other gets the same new id (%s)", x.id[1]);
	TAP_EQ_INT(x.st.split, 1, "  ... counted as split off");
	struct rt_err e;
	err_clear(&e);
	idmap_save(a, path_of("oa"), &e);
	idmap_save(b, path_of("ob"), &e);
	char *ta = get("oa"), *tb = get("ob");
	tap_ok(ta && tb && !strcmp(ta, tb), "the same map either way");
	free(ta);
	free(tb);
	idmap_free(a);
	idmap_free(b);
}

/* The threaded load and save say what the plain ones do. */
static void test_jobs(void)
{
	struct rt_err e;
	struct idmap *m = idmap_new();
	put("map", "roster-ids 1\nnight 1\n+ p-1 1\nend\n");
	idmap_load_start(m, path_of("map"));
	err_clear(&e);
	TAP_EQ_INT(idmap_load_wait(m, &e), -1, "a load in a thread: its error");
	tap_ok(strstr(e.msg, "map:3: 'p-1' is not an id") != NULL, "  ... named (%s)", e.msg);
	idmap_free(m);

	m = idmap_new();
	idmap_load_start(m, path_of("nothing"));
	idmap_free(m); /* freed with its job running or done: waited for */
	tap_ok(1, "a map freed while its load may still run");

	m = idmap_new();
	idmap_load_start(m, path_of("nothing"));
	err_clear(&e);
	TAP_EQ_INT(idmap_load_wait(m, &e), 0, "no map yet: the first night");
	uint64_t none[1];
	idmap_assign(m, NULL, 0, NULL, 0, none, &e);
	unlink(path_of("job"));
	TAP_EQ_INT(idmap_save_start(m, path_of("job"), &e), 0, "a save in a thread starts");
	TAP_EQ_INT(idmap_save_end(m, 0, &e), 0, "  ... and ends without committing");
	tap_ok(access(path_of("job"), F_OK) != 0, "  ... leaving no file");
	TAP_EQ_INT(idmap_save_start(m, path_of("job"), &e), 0, "again");
	TAP_EQ_INT(idmap_save_end(m, 1, &e), 0, "  ... committed");
	char *got = get("job");
	tap_ok(got && !strcmp(got, "roster-ids 1\nnight 1\nend\n"), "  ... the map is there");
	free(got);
	err_clear(&e);
	TAP_EQ_INT(idmap_save_start(m, path_of("no/such/dir/map"), &e), -1,
		   "a save whose folder does not exist fails at its start");
	tap_ok(strstr(e.msg, "no/such/dir/map") != NULL, "  ... naming it (%s)", e.msg);
	idmap_free(m);
	unlink(path_of("job"));
}

int main(void)
{
	char t[256];
	tap_tmp_name(t, sizeof t, "idmap");
	snprintf(tmpdir, sizeof tmpdir, "%s", t);
	if (!mkdtemp(tmpdir)) {
		tap_ok(0, "a temporary folder");
		return tap_done();
	}
	test_sort();
	test_rule();
	test_files();
	test_rules();
	test_order();
	test_jobs();
	const char *names[] = {"map", "out", "n3", "n6", "oa", "ob", "job"};
	for (size_t i = 0; i < sizeof names / sizeof *names; i++)
		unlink(path_of(names[i]));
	rmdir(tmpdir);
	return tap_done();
}
