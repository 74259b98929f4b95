/* The CSV writer: every csv-spectrum vector written and read back with
 * libcsv gives the same values; quoting, formula neutralising, UTF-8. */
#include "core/buf.h"
#include "format/csvw.h"
#include "tap.h"

#include <cjson/cJSON.h>
#include <csv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAXREC 16
#define MAXCELL 16

/* What libcsv read: records of cells (owned). */
struct table {
	char *cell[MAXREC][MAXCELL];
	int ncell[MAXREC];
	int nrec;
	int overflow;
};

static void on_cell(void *s, size_t len, void *data)
{
	struct table *t = data;
	if (t->nrec >= MAXREC || t->ncell[t->nrec] >= MAXCELL) {
		t->overflow = 1;
		return;
	}
	t->cell[t->nrec][t->ncell[t->nrec]++] = s ? strndup(s, len) : strdup("");
}

static void on_record(int c, void *data)
{
	struct table *t = data;
	(void)c;
	if (t->nrec < MAXREC)
		t->nrec++;
}

static int read_csv(const char *p, size_t n, struct table *t)
{
	struct csv_parser cp;
	memset(t, 0, sizeof *t);
	if (csv_init(&cp, CSV_STRICT | CSV_STRICT_FINI))
		return -1;
	int ok = csv_parse(&cp, p, n, on_cell, on_record, t) == n &&
		 csv_fini(&cp, on_cell, on_record, t) == 0;
	csv_free(&cp);
	return ok && !t->overflow ? 0 : -1;
}

static void table_free(struct table *t)
{
	for (int r = 0; r < MAXREC; r++)
		for (int c = 0; c < t->ncell[r]; c++)
			free(t->cell[r][c]);
}

/* Header names from the first line of csvs/NAME.csv (plain names). */
static int header(const char *csv, char names[][32], int max)
{
	int n = 0;
	size_t len = strcspn(csv, "\r\n");
	for (size_t i = 0; i <= len && n < max; n++) {
		size_t w = strcspn(csv + i, ",\r\n");
		snprintf(names[n], 32, "%.*s", (int)(w < len - i ? w : len - i), csv + i);
		i += w + 1;
	}
	return n;
}

static void vector(const char *name, int byte_exact)
{
	char path[512], names[MAXCELL][32];
	const char *cells[MAXCELL];
	unsigned long csvlen;
	struct buf b;
	struct table t;

	snprintf(path, sizeof path, "%s/csv/json/%s.json", tap_vectors(), name);
	char *json = tap_slurp(path, NULL);
	snprintf(path, sizeof path, "%s/csv/csvs/%s.csv", tap_vectors(), name);
	char *csv = tap_slurp(path, &csvlen);
	cJSON *rows = json ? cJSON_Parse(json) : NULL;
	if (!csv || !cJSON_IsArray(rows)) {
		tap_ok(0, "%s: vector readable", name);
		goto out;
	}
	int ncol = header(csv, names, MAXCELL);
	buf_init(&b, 0);
	for (int c = 0; c < ncol; c++)
		cells[c] = names[c];
	csvw_row(&b, cells, ncol);
	const cJSON *row;
	cJSON_ArrayForEach(row, rows) {
		for (int c = 0; c < ncol; c++)
			cells[c] = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(row, names[c]));
		csvw_row(&b, cells, ncol);
	}

	int same = read_csv(b.data, b.len, &t) == 0 && t.nrec == cJSON_GetArraySize(rows) + 1;
	for (int r = 0; same && r < t.nrec; r++) {
		row = r ? cJSON_GetArrayItem(rows, r - 1) : NULL;
		same = t.ncell[r] == ncol;
		for (int c = 0; same && c < ncol; c++) {
			const char *want = r ? cJSON_GetStringValue(
						       cJSON_GetObjectItemCaseSensitive(row, names[c]))
					     : names[c];
			same = want && !strcmp(t.cell[r][c], want);
		}
	}
	tap_ok(same, "%s: written and read back by libcsv, same values", name);
	if (byte_exact)
		tap_ok(b.len == csvlen && !memcmp(b.data, csv, csvlen),
		       "%s: byte-identical to the vector", name);
	table_free(&t);
	buf_free(&b);
out:
	cJSON_Delete(rows);
	free(json);
	free(csv);
}

static void cell(const char *in, const char *want, const char *name)
{
	struct buf b;
	buf_init(&b, 0);
	csvw_cell(&b, in, strlen(in));
	tap_ok(!strcmp(b.data ? b.data : "", want), "%s", name);
	if (strcmp(b.data ? b.data : "", want))
		tap_diag("  got [%s], want [%s]", b.data ? b.data : "", want);
	buf_free(&b);
}

/* A cell survives libcsv (which trims unquoted blanks) as want. */
static void round_trip(const char *in, const char *want, const char *name)
{
	struct buf b;
	struct table t;
	const char *cells[] = {"x", in, "y"};
	buf_init(&b, 0);
	csvw_row(&b, cells, 3);
	int ok = read_csv(b.data, b.len, &t) == 0 && t.nrec == 1 && t.ncell[0] == 3 &&
		 !strcmp(t.cell[0][1], want) && !strcmp(t.cell[0][2], "y");
	tap_ok(ok, "read back: %s", name);
	table_free(&t);
	buf_free(&b);
}

static void row(const char *const *cells, int n, const char *want, const char *name)
{
	struct buf b;
	buf_init(&b, 0);
	csvw_row(&b, cells, n);
	tap_ok(!strcmp(b.data, want), "%s", name);
	buf_free(&b);
}

int main(void)
{
	static const char *names[] = {"comma_in_quotes", "empty", "empty_crlf", "escaped_quotes",
				      "json", "newlines", "newlines_crlf", "quotes_and_newlines",
				      "simple", "simple_crlf", "utf8"};
	for (unsigned i = 0; i < sizeof names / sizeof names[0]; i++)
		vector(names[i], !strcmp(names[i], "simple_crlf") ||
					 !strcmp(names[i], "newlines_crlf"));

	cell("plain", "plain", "a plain cell is not quoted");
	cell("two words", "two words", "an inner space needs no quotes");
	cell("", "", "an empty cell is empty");
	cell("a,b", "\"a,b\"", "a comma is quoted");
	cell("say \"hi\"", "\"say \"\"hi\"\"\"", "quotes are doubled inside quotes");
	cell("two\nlines", "\"two\nlines\"", "LF is quoted");
	cell("cr\rhere", "\"cr\rhere\"", "CR is quoted");
	cell(" lead", "\" lead\"", "a leading space is quoted");
	cell("trail ", "\"trail \"", "a trailing space is quoted");
	cell("tab\t", "\"tab\t\"", "a trailing tab is quoted");

	cell("=1+2", "'=1+2", "= is neutralised");
	cell("+15551234", "'+15551234", "+ is neutralised");
	cell("-5", "'-5", "- is neutralised, negative numbers too");
	cell("@SUM(A1)", "'@SUM(A1)", "@ is neutralised");
	cell("\tx", "\"'\tx\"", "a leading tab is neutralised (and quoted)");
	cell("\r=x", "\"'\r=x\"", "a leading CR is neutralised (and quoted)");
	cell("=HYPERLINK(\"http://e.x\",\"go\")", "\"'=HYPERLINK(\"\"http://e.x\"\",\"\"go\"\")\"",
	     "a formula with quotes and commas: neutralised inside the quotes");
	cell("a=b", "a=b", "= inside a cell is left alone");
	cell("'=x", "'=x", "a cell starting with ' is left alone");

	cell("Zo\xc3\xab \xca\xa4", "Zo\xc3\xab \xca\xa4", "valid UTF-8 is kept");
	cell("bad\xff", "bad\xef\xbf\xbd", "an invalid byte becomes U+FFFD");
	cell("\xe2\x82", "\xef\xbf\xbd\xef\xbf\xbd", "a cut sequence: U+FFFD per byte");
	cell("\xc0\xaf", "\xef\xbf\xbd\xef\xbf\xbd", "an overlong form is replaced");
	cell("\xed\xa0\x80", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd", "a surrogate is replaced");
	cell("\"\xff\"", "\"\"\"\xef\xbf\xbd\"\"\"", "replacement inside a quoted cell");

	round_trip(" padded ", " padded ", "spaces around a cell survive");
	round_trip("=cmd|' /C calc'!A0", "'=cmd|' /C calc'!A0", "a neutralised formula reads as '=...");
	round_trip("a\r\nb", "a\r\nb", "CRLF inside a cell survives");

	const char *three[] = {"a", NULL, "c"};
	row(three, 3, "a,,c\r\n", "a row ends with CRLF; NULL is an empty cell");
	const char *one[] = {""};
	row(one, 1, "\"\"\r\n", "a row of one empty cell is \"\", not a blank line");
	return tap_done();
}
