/* The CSV reader: the csv-spectrum vectors parse to their expected JSON;
 * encodings (BOM, UTF-8, Windows-1252 checked byte for byte against
 * Python's codec), delimiters, line numbers, every error naming its line,
 * fixed-width lines, and a large file read in bounded memory. */
#include "core/buf.h"
#include "format/csvread.h"
#include "tap.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

static char g_path[4096];

/* Writes bytes to a fresh temporary file (g_path). 0 or -1. */
static int write_tmp(const void *bytes, size_t n)
{
	tap_tmp_name(g_path, sizeof g_path, "csvread");
	int fd = mkstemp(g_path);
	if (fd < 0)
		return -1;
	int ok = write(fd, bytes, n) == (ssize_t)n;
	return close(fd) == 0 && ok ? 0 : -1;
}

/* What reading a whole file gave. */
struct result {
	int opened;
	int rc; /* the last csvr_next: 0 end, -1 error */
	int rows;
	enum csv_enc enc;
	int delim, bom;
	struct rt_err e;
	struct buf text; /* "LINE:[f1][f2]\n" per row */
};

static void run_file(const char *path, int delim, enum csv_enc enc, size_t max_field,
		     struct result *res)
{
	struct csv_opts o = {delim, enc, max_field};
	struct csv_row *row;
	memset(res, 0, sizeof *res);
	buf_init(&res->text, 1 << 24);
	struct csvr *r = csvr_open(path, "drop.csv", &o, &res->e);
	if (!r)
		return;
	res->opened = 1;
	res->enc = csvr_encoding(r);
	res->delim = csvr_delim(r);
	res->bom = csvr_bom(r);
	while ((res->rc = csvr_next(r, &row, &res->e)) == 1) {
		res->rows++;
		buf_printf(&res->text, "%ld:", row->line);
		for (int i = 0; i < row->n; i++) {
			buf_addc(&res->text, '[');
			buf_add(&res->text, row->f[i], row->len[i]);
			buf_addc(&res->text, ']');
		}
		buf_addc(&res->text, '\n');
	}
	csvr_close(r);
}

static void run(const char *bytes, size_t n, int delim, enum csv_enc enc, size_t max_field,
		struct result *res)
{
	if (write_tmp(bytes, n)) {
		memset(res, 0, sizeof *res);
		buf_init(&res->text, 16);
		tap_diag("cannot write a temporary file");
		return;
	}
	run_file(g_path, delim, enc, max_field, res);
	unlink(g_path);
}

#define RUN(lit, delim, enc, res) run(lit, sizeof lit - 1, delim, enc, 0, res)

static const char *text(struct result *res)
{
	return res->text.data ? res->text.data : "";
}

/* Rows as expected and the end reached without an error. */
static void expect_rows(struct result *res, const char *want, const char *name)
{
	int ok = res->opened && res->rc == 0 && !strcmp(text(res), want);
	tap_ok(ok, "%s", name);
	if (!ok)
		tap_diag("  opened %d rc %d rows:\n%s  want:\n%s  error: %s", res->opened, res->rc,
			 text(res), want, res->e.msg);
}

/* Rows as expected, then an ERR_DATA whose message starts with
 * "drop.csv:LINE: " and holds word. */
static void expect_error(struct result *res, const char *rows, long line, const char *word,
			 const char *name)
{
	char prefix[64];
	snprintf(prefix, sizeof prefix, "drop.csv:%ld: ", line);
	int ok = res->opened && res->rc == -1 && res->e.kind == ERR_DATA &&
		 !strcmp(text(res), rows) && !strncmp(res->e.msg, prefix, strlen(prefix)) &&
		 strstr(res->e.msg, word);
	tap_ok(ok, "%s", name);
	if (!ok)
		tap_diag("  opened %d rc %d kind %d rows:\n%s  error: %s\n  want %s...%s",
			 res->opened, res->rc, res->e.kind, text(res), res->e.msg, prefix, word);
}

static void done(struct result *res)
{
	buf_free(&res->text);
}

/* csvs/NAME.csv read with the first row as header equals json/NAME.json. */
static void vector(const char *name)
{
	char path[1024];
	struct rt_err e;
	struct csv_row *row;
	snprintf(path, sizeof path, "%s/csv/json/%s.json", tap_vectors(), name);
	char *js = tap_slurp(path, NULL);
	cJSON *want = js ? cJSON_Parse(js) : NULL;
	free(js);
	snprintf(path, sizeof path, "%s/csv/csvs/%s.csv", tap_vectors(), name);
	struct csvr *r = csvr_open(path, name, NULL, &e);
	cJSON *got = cJSON_CreateArray();
	char **head = NULL;
	int nhead = 0, rc, ragged = 0;
	while (r && (rc = csvr_next(r, &row, &e)) == 1) {
		if (!head) {
			nhead = row->n;
			head = calloc((size_t)nhead, sizeof *head);
			for (int i = 0; i < nhead; i++)
				head[i] = strdup(row->f[i]);
			continue;
		}
		ragged |= row->n != nhead;
		cJSON *obj = cJSON_CreateObject();
		for (int i = 0; i < row->n && i < nhead; i++)
			cJSON_AddItemToObject(obj, head[i], cJSON_CreateString(row->f[i]));
		cJSON_AddItemToArray(got, obj);
	}
	int ok = want && r && rc == 0 && !ragged && csvr_delim(r) == ',' &&
		 csvr_encoding(r) == CSV_ENC_UTF8 && cJSON_Compare(want, got, 1);
	tap_ok(ok, "csv-spectrum %s", name);
	if (!ok) {
		char *g = cJSON_PrintUnformatted(got);
		tap_diag("  got %s (%s)", g, r ? e.msg : "not opened");
		free(g);
	}
	for (int i = 0; i < nhead; i++)
		free(head[i]);
	free(head);
	cJSON_Delete(want);
	cJSON_Delete(got);
	csvr_close(r);
}

static void spectrum(void)
{
	static const char *names[] = {
		"comma_in_quotes", "empty", "empty_crlf", "escaped_quotes", "json",
		"newlines", "newlines_crlf", "quotes_and_newlines", "simple", "simple_crlf",
		"utf8",
	};
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
		vector(names[i]);
}

static void encodings(void)
{
	struct result res;

	RUN("\xef\xbb\xbfId,Name\r\n1,Ann\r\n", CSV_DELIM_AUTO, CSV_ENC_AUTO, &res);
	expect_rows(&res, "1:[Id][Name]\n2:[1][Ann]\n", "BOM + CRLF: BOM removed, CR removed");
	tap_ok(res.bom == 1 && res.enc == CSV_ENC_UTF8, "BOM reported, UTF-8 used");
	done(&res);

	RUN("\xef\xbb\xbfId\n\xc3\xa9\n", ',', CSV_ENC_UTF8, &res);
	expect_rows(&res, "1:[Id]\n2:[\xc3\xa9]\n", "BOM removed with utf-8 configured");
	done(&res);

	RUN("\xef\xbb\xbfId\ncaf\xc3\xa9\n", ',', CSV_ENC_CP1252, &res);
	expect_rows(&res, "1:[Id]\n2:[caf\xc3\xa9]\n", "a BOM wins over windows-1252");
	tap_ok(res.enc == CSV_ENC_UTF8, "  and UTF-8 is reported");
	done(&res);

	RUN("Name,Note\r\nJos\xe9,\x80 5\r\n\x93quoted\x94,\x81\x8d\x8f\x90\x9d\r\n", ',',
	    CSV_ENC_AUTO, &res);
	expect_rows(&res,
		    "1:[Name][Note]\n2:[Jos\xc3\xa9][\xe2\x82\xac 5]\n"
		    "3:[\xe2\x80\x9cquoted\xe2\x80\x9d][\xc2\x81\xc2\x8d\xc2\x8f\xc2\x90\xc2\x9d]\n",
		    "Windows-1252 detected and converted (undefined bytes to C1 controls)");
	tap_ok(res.enc == CSV_ENC_CP1252 && !res.bom, "  windows-1252 reported");
	done(&res);

	RUN("Name\ncaf\xc3\xa9\n", ',', CSV_ENC_AUTO, &res);
	expect_rows(&res, "1:[Name]\n2:[caf\xc3\xa9]\n", "valid UTF-8 detected as UTF-8");
	tap_ok(res.enc == CSV_ENC_UTF8, "  utf-8 reported");
	done(&res);

	RUN("Name\ncaf\xc3\xa9\n", ',', CSV_ENC_CP1252, &res);
	expect_rows(&res, "1:[Name]\n2:[caf\xc3\x83\xc2\xa9]\n",
		    "windows-1252 configured converts even UTF-8-looking bytes");
	done(&res);

	RUN("a,b\n1,2\nx\xff,y\n", ',', CSV_ENC_UTF8, &res);
	expect_error(&res, "1:[a][b]\n2:[1][2]\n", 3, "UTF-8", "utf-8 configured: bad byte names line 3");
	done(&res);

	RUN("a\n\"x\ny\"\nok\n\xe2\x82\n", ',', CSV_ENC_UTF8, &res);
	expect_error(&res, "1:[a]\n2:[x\ny]\n4:[ok]\n", 5, "UTF-8",
		     "utf-8 configured: a truncated character names its line");
	done(&res);

	RUN("a\n\xed\xa0\x80\n", ',', CSV_ENC_UTF8, &res);
	expect_error(&res, "1:[a]\n", 2, "UTF-8", "utf-8 configured: a surrogate is refused");
	done(&res);

	RUN("a\n\xc0\xaf\n", ',', CSV_ENC_AUTO, &res);
	expect_rows(&res, "1:[a]\n2:[\xc3\x80\xc2\xaf]\n", "an overlong form is not UTF-8: windows-1252");
	done(&res);

	RUN("\xef\xbb\xbf" "a\n\xff\n", ',', CSV_ENC_AUTO, &res);
	expect_error(&res, "1:[a]\n", 2, "UTF-8", "BOM then a bad byte: error at its line");
	done(&res);
}

/* Every Windows-1252 byte (but NUL, CR, LF) as its own fixed-width line,
 * against Python's cp1252 codec with the five undefined bytes mapped to
 * the C1 controls (what the WHATWG decoder does). */
static void cp1252_table(void)
{
	static const char py[] =
		"import sys, codecs\n"
		"codecs.register_error('c1', lambda e: (''.join(chr(b) for b in "
		"e.object[e.start:e.end]), e.end))\n"
		"sys.stdout.buffer.write(sys.stdin.buffer.read().decode('cp1252', 'c1')"
		".encode('utf-8'))\n";
	char in[3 * 256];
	size_t n = 0;
	for (int b = 1; b < 256; b++) {
		if (b == '\n' || b == '\r')
			continue;
		in[n++] = 'x';
		in[n++] = (char)b;
		in[n++] = '\n';
	}
	if (write_tmp(in, n)) {
		tap_ok(0, "cp1252 table: temporary file");
		return;
	}
	char *want = tap_python(py, g_path, "the cp1252 codec");
	struct csv_opts o = {CSV_FIXED, CSV_ENC_CP1252, 0};
	struct rt_err e;
	struct csv_row *row;
	struct csvr *r = csvr_open(g_path, "table.txt", &o, &e);
	struct buf got;
	buf_init(&got, 1 << 20);
	int rows = 0, rc = -1;
	while (r && (rc = csvr_next(r, &row, &e)) == 1) {
		rows++;
		buf_add(&got, row->f[0], row->len[0]);
		buf_addc(&got, '\n');
	}
	csvr_close(r);
	unlink(g_path);
	int ok = want && rc == 0 && rows == 253 && got.data && !strcmp(got.data, want);
	tap_ok(ok, "all 253 Windows-1252 bytes convert as Python's codec does");
	if (!ok)
		tap_diag("  rows %d rc %d: %s", rows, rc, r ? e.msg : "not opened");
	buf_free(&got);
	free(want);
}

static void delimiters(void)
{
	struct result res;

	RUN("a|b\n\"1|x\"|2\n", '|', CSV_ENC_AUTO, &res);
	expect_rows(&res, "1:[a][b]\n2:[1|x][2]\n", "pipe");
	done(&res);

	RUN("a\tb\n\t1\t\n", '\t', CSV_ENC_AUTO, &res);
	expect_rows(&res, "1:[a][b]\n2:[][1][]\n", "tab (a leading tab is a delimiter, not space)");
	done(&res);

	RUN("a;b\n1,5;2\n", ';', CSV_ENC_AUTO, &res);
	expect_rows(&res, "1:[a][b]\n2:[1,5][2]\n", "semicolon");
	done(&res);

	RUN(" a , b \n", ',', CSV_ENC_AUTO, &res);
	expect_rows(&res, "1:[ a ][ b ]\n", "spaces belong to the field");
	done(&res);

	RUN("a;b;c\n1,5;2;3\n", CSV_DELIM_AUTO, CSV_ENC_AUTO, &res);
	expect_rows(&res, "1:[a][b][c]\n2:[1,5][2][3]\n", "auto: semicolon");
	tap_ok(res.delim == ';', "  reported ';'");
	done(&res);

	RUN("\n\"x,y,z\"|b|c\n", CSV_DELIM_AUTO, CSV_ENC_AUTO, &res);
	tap_ok(res.delim == '|' && res.rc == 0, "auto: commas inside quotes do not count");
	done(&res);

	RUN("a\tb\tc,d\n", CSV_DELIM_AUTO, CSV_ENC_AUTO, &res);
	tap_ok(res.delim == '\t', "auto: tab");
	done(&res);

	RUN("a,b|c\n", CSV_DELIM_AUTO, CSV_ENC_AUTO, &res);
	tap_ok(res.delim == ',', "auto: a tie is a comma");
	done(&res);

	RUN("single\n", CSV_DELIM_AUTO, CSV_ENC_AUTO, &res);
	tap_ok(res.delim == ',', "auto: no delimiter at all is a comma");
	done(&res);

	RUN("", CSV_DELIM_AUTO, CSV_ENC_AUTO, &res);
	expect_rows(&res, "", "an empty file has no rows");
	done(&res);

	int d;
	TAP_EQ_INT(csv_delim_parse("pipe", &d) == 0 && d == '|', 1, "csv_delim_parse pipe");
	TAP_EQ_INT(csv_delim_parse("tab", &d) == 0 && d == '\t', 1, "csv_delim_parse tab");
	TAP_EQ_INT(csv_delim_parse("\t", &d) == 0 && d == '\t', 1, "csv_delim_parse a tab");
	TAP_EQ_INT(csv_delim_parse(";", &d) == 0 && d == ';', 1, "csv_delim_parse ;");
	TAP_EQ_INT(csv_delim_parse("semicolon", &d) == 0 && d == ';', 1, "csv_delim_parse semicolon");
	TAP_EQ_INT(csv_delim_parse("comma", &d) == 0 && d == ',', 1, "csv_delim_parse comma");
	TAP_EQ_INT(csv_delim_parse("auto", &d) == 0 && d == CSV_DELIM_AUTO, 1, "csv_delim_parse auto");
	TAP_EQ_INT(csv_delim_parse("fixed", &d) == 0 && d == CSV_FIXED, 1, "csv_delim_parse fixed");
	TAP_EQ_INT(csv_delim_parse("colon", &d), -1, "csv_delim_parse refuses colon");
	TAP_EQ_INT(csv_delim_parse("", &d), -1, "csv_delim_parse refuses empty");
	enum csv_enc en;
	TAP_EQ_INT(csv_enc_parse("utf8", &en) == 0 && en == CSV_ENC_UTF8, 1, "csv_enc_parse utf8");
	TAP_EQ_INT(csv_enc_parse("UTF-8", &en) == 0 && en == CSV_ENC_UTF8, 1, "csv_enc_parse UTF-8");
	TAP_EQ_INT(csv_enc_parse("cp1252", &en) == 0 && en == CSV_ENC_CP1252, 1, "csv_enc_parse cp1252");
	TAP_EQ_INT(csv_enc_parse("windows-1252", &en) == 0 && en == CSV_ENC_CP1252, 1,
		   "csv_enc_parse windows-1252");
	TAP_EQ_INT(csv_enc_parse("auto", &en) == 0 && en == CSV_ENC_AUTO, 1, "csv_enc_parse auto");
	TAP_EQ_INT(csv_enc_parse("latin1", &en), -1, "csv_enc_parse refuses latin1");
	TAP_EQ_INT(csv_enc_parse("iso-8859-1", &en), -1, "csv_enc_parse refuses iso-8859-1");
	tap_ok(!strcmp(csv_enc_name(CSV_ENC_CP1252), "windows-1252") &&
		       !strcmp(csv_enc_name(CSV_ENC_UTF8), "utf-8") &&
		       !strcmp(csv_enc_name(CSV_ENC_AUTO), "auto"),
	       "csv_enc_name");
}

static void structure(void)
{
	struct result res;

	RUN("a,b\n1,2", ',', CSV_ENC_AUTO, &res);
	expect_rows(&res, "1:[a][b]\n2:[1][2]\n", "a missing final newline is fine");
	done(&res);

	RUN("a,b\n\"1\",\"2\"", ',', CSV_ENC_AUTO, &res);
	expect_rows(&res, "1:[a][b]\n2:[1][2]\n", "a missing final newline after a quote");
	done(&res);

	RUN("\n\na,b\r\n\r\n\n1,2\n\n", ',', CSV_ENC_AUTO, &res);
	expect_rows(&res, "3:[a][b]\n6:[1][2]\n", "blank lines are not rows, and are counted");
	done(&res);

	RUN("h\n\"a\nb\r\nc\"\nnext\n", ',', CSV_ENC_AUTO, &res);
	expect_rows(&res, "1:[h]\n2:[a\nb\r\nc]\n5:[next]\n",
		    "line breaks kept in quotes; later rows count them");
	done(&res);

	RUN("h\n\"x\ry\"\nz\n", ',', CSV_ENC_AUTO, &res);
	expect_rows(&res, "1:[h]\n2:[x\ry]\n3:[z]\n", "a lone CR inside quotes is kept");
	done(&res);

	RUN("a,\"b \"\"c\"\", d\"\n,,\n\"\"\n", ',', CSV_ENC_AUTO, &res);
	expect_rows(&res, "1:[a][b \"c\", d]\n2:[][][]\n3:[]\n",
		    "doubled quotes, empty fields, a quoted empty row");
	done(&res);

	RUN("a\rb\r\nc\n", ',', CSV_ENC_AUTO, &res);
	expect_rows(&res, "1:[a]\n2:[b]\n3:[c]\n", "a lone CR outside quotes ends a line");
	done(&res);
}

static void errors(void)
{
	struct result res;

	RUN("a,b\n1,\"open\n2,3\n4,5\n", ',', CSV_ENC_AUTO, &res);
	expect_error(&res, "1:[a][b]\n", 2, "never closed", "unterminated quote names its start line");
	done(&res);

	RUN("a,b\n1,x\"y\n", ',', CSV_ENC_AUTO, &res);
	expect_error(&res, "1:[a][b]\n", 2, "quote", "a quote inside an unquoted field");
	done(&res);

	RUN("a\n\"x\"y\n", ',', CSV_ENC_AUTO, &res);
	expect_error(&res, "1:[a]\n", 2, "closing quote", "text after a closing quote");
	done(&res);

	RUN("a,b\n1,x\0y\n", ',', CSV_ENC_AUTO, &res);
	expect_error(&res, "1:[a][b]\n", 2, "NUL", "a NUL byte");
	done(&res);

	RUN("a\n\n\"q\nq\"\0\n", ',', CSV_ENC_CP1252, &res);
	expect_error(&res, "1:[a]\n", 4, "NUL", "a NUL byte after a multi-line field");
	done(&res);

	run("a,b\n1,0123456789\n2,0123456789A\n", 32, ',', CSV_ENC_AUTO, 10, &res);
	expect_error(&res, "1:[a][b]\n2:[1][0123456789]\n", 3, "over 10 bytes",
		     "a field over max_field (10 is fine, 11 is not)");
	done(&res);

	run("\"01234567\"\"8\"\n\"x\n0123456789\"\n", 26, ',', CSV_ENC_AUTO, 10, &res);
	expect_error(&res, "1:[01234567\"8]\n", 2, "over 10 bytes",
		     "max_field counts the value, the quoted field's first line named");
	done(&res);

	/* the reader keeps failing after an error */
	struct rt_err e;
	struct csv_row *row;
	const char bad[] = "a\n\"b\n";
	write_tmp(bad, sizeof bad - 1);
	struct csvr *r = csvr_open(g_path, "drop.csv", NULL, &e);
	int a = r ? csvr_next(r, &row, &e) : 0;
	int b = r ? csvr_next(r, &row, &e) : 0;
	int c = r ? csvr_next(r, &row, &e) : 0;
	tap_ok(a == 1 && b == -1 && c == -1 && e.kind == ERR_DATA, "an error repeats");
	csvr_close(r);
	unlink(g_path);

	r = csvr_open("/nonexistent/drop.csv", "drop.csv", NULL, &e);
	tap_ok(!r && e.kind == ERR_IO && strstr(e.msg, "drop.csv"), "a missing file is ERR_IO");

	RUN("\xff\xfe" "a\0,\0b\0", ',', CSV_ENC_AUTO, &res);
	tap_ok(!res.opened && res.e.kind == ERR_DATA && strstr(res.e.msg, "UTF-16"),
	       "UTF-16 is refused at open");
	done(&res);

	RUN("\x1f\x8b\x08\0", ',', CSV_ENC_AUTO, &res);
	tap_ok(!res.opened && res.e.kind == ERR_DATA && strstr(res.e.msg, "gzip"),
	       "a gzip file is refused at open");
	done(&res);
}

static void fixed(void)
{
	struct result res;
	RUN("0001  Ann   \r\n0002\"Bob, x\r\n\r\n\nlast\rline\r\n  \n", CSV_FIXED, CSV_ENC_AUTO,
	    &res);
	expect_rows(&res, "1:[0001  Ann   ]\n2:[0002\"Bob, x]\n5:[last\rline]\n6:[  ]\n",
		    "fixed: lines whole, CR before LF removed, no quoting");
	tap_ok(res.delim == CSV_FIXED, "  fixed reported");
	done(&res);

	RUN("abc\r\ndef", CSV_FIXED, CSV_ENC_AUTO, &res);
	expect_rows(&res, "1:[abc]\n2:[def]\n", "fixed: missing final newline");
	done(&res);

	run("0123456789\n0123456789\r\n0123456789A\n", 36, CSV_FIXED, CSV_ENC_AUTO, 10, &res);
	expect_error(&res, "1:[0123456789]\n2:[0123456789]\n", 3, "over 10 bytes",
		     "fixed: a line over max_field");
	done(&res);

	RUN("ok\nab\xc3\nnext\n", CSV_FIXED, CSV_ENC_UTF8, &res);
	expect_error(&res, "1:[ok]\n", 2, "UTF-8", "fixed: a character cut by the line end");
	done(&res);

	RUN("ok\nx\0\n", CSV_FIXED, CSV_ENC_AUTO, &res);
	expect_error(&res, "1:[ok]\n", 2, "NUL", "fixed: a NUL byte");
	done(&res);
}

/* Files past one 64 KiB block: encoding found from the whole file, and a
 * character split across two blocks. */
static void blocks(void)
{
	struct buf b;
	struct result res;
	buf_init(&b, 1 << 22);
	buf_adds(&b, "h\n");
	while (b.len < 100000)
		buf_adds(&b, "plain ascii line\n");
	buf_adds(&b, "Jos\xe9\n");
	if (write_tmp(b.data, b.len))
		tap_diag("cannot write");
	run_file(g_path, ',', CSV_ENC_AUTO, 0, &res);
	unlink(g_path);
	tap_ok(res.enc == CSV_ENC_CP1252 && res.rc == 0 && !strncmp(text(&res), "1:[h]\n", 6) &&
		       strstr(text(&res), "[Jos\xc3\xa9]\n"),
	       "a Windows-1252 byte past the first block decides the encoding");
	done(&res);

	buf_reset(&b);
	buf_adds(&b, "h\n");
	while (b.len < 65535)
		buf_addc(&b, b.len % 40 ? 'x' : '\n');
	b.len = 65535;
	buf_adds(&b, "\xc3\xa9\n"); /* bytes 65535 and 65536: across the blocks */
	buf_adds(&b, "\"q\xe2\x82\xac\"\n");
	if (write_tmp(b.data, b.len))
		tap_diag("cannot write");
	run_file(g_path, ',', CSV_ENC_UTF8, 0, &res);
	unlink(g_path);
	tap_ok(res.enc == CSV_ENC_UTF8 && res.rc == 0 && strstr(text(&res), "x\xc3\xa9]\n") && strstr(text(&res), "[q\xe2\x82\xac]\n"),
	       "a character split across blocks is valid UTF-8");
	if (res.rc)
		tap_diag("  %s", res.e.msg);
	done(&res);
	buf_free(&b);
}

static long maxrss_kb(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_maxrss;
}

/* 200,000 rows (about 14 MB) read one at a time: the peak memory of the
 * process grows by far less than the file. */
static void big(void)
{
	char tmpl[4096];
	tap_tmp_name(tmpl, sizeof tmpl, "csvbig");
	int fd = mkstemp(tmpl);
	FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
	if (!f) {
		tap_ok(0, "big file written");
		return;
	}
	fputs("EmployeeNumber,LastName,FirstName,Note\r\n", f);
	for (int i = 0; i < 200000; i++)
		fprintf(f, "%06d,Lastname%d,First,\"a quoted, note \"\"%d\"\" padded......\"\r\n",
			i, i, i);
	fclose(f);
	long before = maxrss_kb();
	struct rt_err e;
	struct csv_row *row;
	struct csvr *r = csvr_open(tmpl, "big.csv", NULL, &e);
	long rows = 0, last_line = 0, bad = 0;
	int rc = -1;
	while (r && (rc = csvr_next(r, &row, &e)) == 1) {
		if (rows && (row->n != 4 || row->len[0] != 6 || strncmp(row->f[3], "a quoted, note \"", 16)))
			bad++;
		rows++;
		last_line = row->line;
	}
	csvr_close(r);
	long grew = maxrss_kb() - before;
	unlink(tmpl);
	TAP_EQ_INT(rows, 200001, "200,000 rows and the header read");
	TAP_EQ_INT(rc, 0, "  to the end without an error");
	TAP_EQ_INT(bad, 0, "  every row parsed right");
	TAP_EQ_INT(last_line, 200001, "  the last row's line");
	tap_ok(grew < 6 * 1024, "  peak memory grew %ld KiB for a 14 MB file", grew);
}

/* Small random inputs from an alphabet of the hard bytes, every mode:
 * never a crash, always an end or an error, fields NUL-terminated. */
static void random_inputs(void)
{
	static const char alpha[] = ",\"\r\n a|\t;\xff\xc3\xa9\0";
	static const int delims[] = {',', '|', '\t', ';', CSV_DELIM_AUTO, CSV_FIXED};
	unsigned seed = 12345;
	int ends = 0, errs = 0, broken = 0;
	for (int t = 0; t < 600; t++) {
		char in[64];
		size_t n = 0;
		seed = seed * 1103515245 + 12345;
		size_t len = (seed >> 16) % sizeof in;
		for (; n < len; n++) {
			seed = seed * 1103515245 + 12345;
			/* a NUL only in every fourth input: it ends the read */
			in[n] = alpha[(seed >> 16) % (sizeof alpha - 1 - (t % 4 != 0))];
		}
		if (write_tmp(in, n))
			break;
		struct csv_opts o = {delims[t % 6], (enum csv_enc)(t / 6 % 3), 16};
		struct rt_err e;
		struct csv_row *row;
		struct csvr *r = csvr_open(g_path, "fuzz.csv", &o, &e);
		int rc = -1;
		while (r && (rc = csvr_next(r, &row, &e)) == 1)
			for (int i = 0; i < row->n; i++)
				if (row->n < 1 || row->f[i][row->len[i]] || strlen(row->f[i]) != row->len[i] ||
				    row->line < 1)
					broken++;
		if (r && rc == 0)
			ends++;
		else if (r && rc == -1 && e.kind == ERR_DATA && strstr(e.msg, "fuzz.csv:"))
			errs++;
		csvr_close(r);
		unlink(g_path);
	}
	tap_ok(ends + errs == 600 && !broken && ends > 50 && errs > 50,
	       "600 random inputs: %d ends, %d errors naming a line, %d bad rows", ends, errs,
	       broken);
}

int main(void)
{
	spectrum();
	encodings();
	cp1252_table();
	delimiters();
	structure();
	errors();
	fixed();
	blocks();
	big();
	random_inputs();
	return tap_done();
}
