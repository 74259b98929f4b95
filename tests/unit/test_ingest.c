/* The ingest layer's pure parts: sizes, refused names, dates in names,
 * marker names, the ledger and the fold (insert, replace, cancel, keyless
 * records, saved and loaded back). */
#include "engine/ingest.h"
#include "tap.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int size_is(const char *s, unsigned long long want)
{
	unsigned long long v = 0;
	return ingest_parse_size(s, &v) == 0 && v == want;
}

static int size_bad(const char *s)
{
	unsigned long long v = 0;
	return ingest_parse_size(s, &v) == -1;
}

static int date_is(const char *name, long want)
{
	long d = -1;
	int got = ingest_name_date(name, &d);
	if (want == 0)
		return got == 0;
	if (!got || d != want)
		tap_diag("  %s: got %d %ld, want %ld", name, got, d, want);
	return got == 1 && d == want;
}

/* The fold's live records, in order, joined by '|'. */
static void dump(const struct fold *f, char *out, size_t n)
{
	out[0] = 0;
	for (size_t i = 0; i < f->n; i++)
		if (f->v[i].json) {
			size_t l = strlen(out);
			snprintf(out + l, n - l, "%s%s", l ? "|" : "", f->v[i].json);
		}
}

int main(void)
{
	tap_ok(size_is("1073741824", 1073741824ULL) && size_is("512M", 512ULL << 20) &&
		       size_is("2G", 2ULL << 30) && size_is("64k", 64 << 10) &&
		       size_is("2GiB", 2ULL << 30) && size_is("100MB", 100ULL << 20),
	       "sizes: bytes and K/M/G suffixes");
	tap_ok(size_bad("") && size_bad("0") && size_bad("-1") && size_bad("1.5G") &&
		       size_bad("12X") && size_bad("M") && size_bad("99999999999999999999") &&
		       size_bad("20000000000000G"),
	       "sizes: empty, zero, negative, fractions, unknown suffixes, overflow refused");

	char shown[64];
	tap_ok(ingest_name_ok("munis_employees_20261128.csv", NULL, 0) &&
		       ingest_name_ok("11-3-2017.txt", NULL, 0) && ingest_name_ok(".hidden", NULL, 0),
	       "ordinary names are taken");
	tap_ok(!ingest_name_ok("a\nb.csv", shown, sizeof shown) && !strcmp(shown, "a\\nb.csv"),
	       "a newline is refused and shown escaped: %s", shown);
	tap_ok(!ingest_name_ok("x\x1b[2J.csv", shown, sizeof shown) &&
		       !strcmp(shown, "x\\x1b[2J.csv"),
	       "an escape sequence is refused and shown escaped: %s", shown);
	tap_ok(!ingest_name_ok("..", shown, sizeof shown) && !ingest_name_ok("a..b", NULL, 0) &&
		       !ingest_name_ok("../etc/passwd", NULL, 0) && !ingest_name_ok("a/b", NULL, 0) &&
		       !ingest_name_ok("", NULL, 0) && !ingest_name_ok("del\x7f", NULL, 0),
	       "'..', '/', empty and DEL are refused");

	tap_ok(date_is("munis_employees_20261128.csv", 20261128) &&
		       date_is("absences_2026-11-24.csv", 20261124) &&
		       date_is("export_2026_11_24.csv", 20261124) &&
		       date_is("11-3-2017.txt", 20171103) && date_is("11-24-2026.txt", 20261124) &&
		       date_is("03-09-2026.txt", 20260309) && date_is("3_9_2026.csv", 20260309),
	       "dates in names: YYYYMMDD, YYYY-MM-DD, YYYY_MM_DD, M-D-YYYY, MM-DD-YYYY, M_D_YYYY");
	tap_ok(date_is("employees.csv", 0) && date_is("batch_123456789.csv", 0) &&
		       date_is("run_20261332.csv", 0) && date_is("x_2026-02-30.csv", 0) &&
		       date_is("x_20260229.csv", 0) && date_is("x_20280229.csv", 20280229) &&
		       date_is("v1-2-3.csv", 0),
	       "no date: none, longer digit runs, impossible months and days");

	char m[128];
	ingest_marker_for("{name}.done", "a.csv", m, sizeof m);
	tap_ok(!strcmp(m, "a.csv.done"), "marker {name}.done");
	ingest_marker_for("READY", "a.csv", m, sizeof m);
	tap_ok(!strcmp(m, "READY"), "marker without {name}");
	ingest_marker_for("{name}-{name}", "ab", m, 4);
	tap_ok(!strcmp(m, "ab-"), "marker cut to its buffer");

	/* ledger */
	char path[256];
	tap_tmp_name(path, sizeof path, "ledger");
	int fd = mkstemp(path);
	close(fd);
	unlink(path);
	struct rt_err e;
	err_clear(&e);
	struct ledger l;
	tap_ok(ledger_load(&l, path, &e) == 0 && l.n == 0, "a missing ledger is empty");
	struct ledger_entry x = {.name = "a \"q\".csv", .size = 10, .mtime = 1795953829,
				 .records = 3};
	memset(x.sha256, 'a', 64);
	snprintf(x.ingested_at, sizeof x.ingested_at, "2026-11-28T03:00:00.000Z");
	ledger_put(&l, &x);
	x.name = "b.csv";
	x.size = 20;
	ledger_put(&l, &x);
	x.name = "a \"q\".csv";
	x.size = 11;
	ledger_put(&l, &x);
	tap_ok(l.n == 2 && ledger_find(&l, "a \"q\".csv")->size == 11, "put replaces by name");
	tap_ok(ledger_save(&l, path, &e) == 0, "ledger saved");
	ledger_free(&l);
	struct ledger l2;
	tap_ok(ledger_load(&l2, path, &e) == 0 && l2.n == 2 &&
		       ledger_find(&l2, "a \"q\".csv")->size == 11 &&
		       ledger_find(&l2, "b.csv")->mtime == 1795953829 &&
		       ledger_find(&l2, "b.csv")->records == 3 &&
		       !strcmp(ledger_find(&l2, "b.csv")->ingested_at, "2026-11-28T03:00:00.000Z") &&
		       strlen(ledger_find(&l2, "b.csv")->sha256) == 64,
	       "ledger loaded back the same");
	ledger_free(&l2);
	FILE *fp = fopen(path, "a");
	fputs("{\"name\":\"c.csv\"}\n", fp);
	fclose(fp);
	err_clear(&e);
	tap_ok(ledger_load(&l2, path, &e) == -1 && strstr(e.msg, ":3: not a ledger entry"),
	       "a bad ledger line names its line: %s", e.msg);
	unlink(path);

	/* fold */
	struct fold f = {0};
	char got[512];
	fold_apply(&f, "A\x1f" "2026-11-23", 13, 0, "{\"d\":1}", 7);
	fold_apply(&f, "B\x1f" "2026-11-23", 13, 0, "{\"d\":2}", 7);
	fold_apply(&f, NULL, 0, 0, "{\"nokey\":1}", 11);
	fold_apply(&f, "A\x1f" "2026-11-23", 13, 0, "{\"d\":3}", 7);
	dump(&f, got, sizeof got);
	tap_ok(!strcmp(got, "{\"d\":3}|{\"d\":2}|{\"nokey\":1}") && fold_count(&f) == 3,
	       "a key replaces in place; keyless records are appended: %s", got);
	fold_apply(&f, "B\x1f" "2026-11-23", 13, 1, "{\"d\":9}", 7);
	fold_apply(&f, "Z", 1, 1, "{}", 2);
	dump(&f, got, sizeof got);
	tap_ok(!strcmp(got, "{\"d\":3}|{\"nokey\":1}") && fold_count(&f) == 2,
	       "a cancellation removes its key; one for an unknown key does nothing: %s", got);
	fold_apply(&f, "B\x1f" "2026-11-23", 13, 0, "{\"d\":4}", 7);
	tap_ok(fold_count(&f) == 3, "a cancelled key can come back");
	for (int i = 0; i < 1000; i++) {
		char k[32], j[32];
		snprintf(k, sizeof k, "k%d", i);
		snprintf(j, sizeof j, "{\"i\":%d}", i);
		fold_apply(&f, k, strlen(k), 0, j, strlen(j));
	}
	for (int i = 0; i < 1000; i += 2) {
		char k[32];
		snprintf(k, sizeof k, "k%d", i);
		fold_apply(&f, k, strlen(k), 1, "{}", 2);
	}
	tap_ok(fold_count(&f) == 503, "a thousand keys, half cancelled: %zu", fold_count(&f));
	tap_tmp_name(path, sizeof path, "fold");
	fd = mkstemp(path);
	close(fd);
	tap_ok(fold_save(&f, path, &e) == 0, "fold saved");
	struct fold g = {0};
	tap_ok(fold_load(&g, path, &e) == 0 && fold_count(&g) == 503, "fold loaded back");
	fold_apply(&g, "A\x1f" "2026-11-23", 13, 1, "{}", 2);
	fold_apply(&g, "k1", 2, 1, "{}", 2);
	fold_apply(&g, NULL, 0, 0, "{\"nokey\":2}", 11);
	tap_ok(fold_count(&g) == 502, "keys survive the round trip (cancel after load)");
	char *txt = tap_slurp(path, NULL);
	tap_ok(txt && strstr(txt, "{\"key\":\"A\\u001f2026-11-23\",\"record\":{\"d\":3}}\n") &&
		       strstr(txt, "{\"key\":null,\"record\":{\"nokey\":1}}\n"),
	       "fold file: one {key, record} a line");
	free(txt);
	fp = fopen(path, "w");
	fputs("{\"key\":\"x\",\"record\":{}}\nnot json\n", fp);
	fclose(fp);
	struct fold h = {0};
	err_clear(&e);
	tap_ok(fold_load(&h, path, &e) == -1 && strstr(e.msg, ":2: not a fold entry") && h.n == 0,
	       "a bad fold line names its line");
	unlink(path);
	fold_free(&f);
	fold_free(&g);
	fold_free(&h);

	/* job keys: every one maps to a flag */
	int n = 0, ok = 1;
	for (const struct job_key *k = sftp_job_keys; k->key; k++, n++)
		ok &= k->flag && !strncmp(k->flag, "--", 2);
	tap_ok(ok && n == 19, "sftp_job_keys: 19 keys, each a --flag");
	return tap_done();
}
