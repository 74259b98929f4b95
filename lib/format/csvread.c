#include "format/csvread.h"
#include "core/buf.h"
#include "core/vec.h"

#include <csv.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

/* How the reader works: the file is read in CHUNK blocks (converted to
 * UTF-8 first when it is Windows-1252). A small scanner walks the bytes
 * with the same RFC 4180 rules libcsv applies, to know what libcsv does
 * not tell: the line a row and a quoted field start on, NUL bytes, bad
 * UTF-8, over-long fields, and where each row ends. Each call hands libcsv
 * the bytes up to the end of one row, so libcsv reports exactly one row
 * per call and nothing has to be queued: memory is the two blocks plus
 * the longest row. */

#define CHUNK 65536
#define DEF_MAX_FIELD (1024 * 1024)
#define MIN_MAX_ROW (16 * 1024 * 1024)
#define MAX_FIELDS 100000

enum scan_state {
	S_ROW,    /* between rows: CR and LF are blank lines */
	S_FSTART, /* in a row, a field not begun */
	S_UNQ,    /* in an unquoted field */
	S_Q,      /* in a quoted field */
	S_QQ,     /* a quote in a quoted field: the end, or the first of "" */
	S_FIX,    /* CSV_FIXED: in a line */
};

enum overflow { OV_NONE, OV_FIELDS, OV_ROW, OV_MEM };

/* A UTF-8 check that runs byte by byte, across block boundaries. */
struct u8v {
	unsigned need;         /* continuation bytes still expected */
	unsigned char lo, hi;  /* the range the next one must be in */
};

struct csvr {
	int fd;
	char *name;
	int delim;
	enum csv_enc enc;
	int bom;
	int check_utf8;
	size_t max_field, max_row;

	unsigned char raw[CHUNK];
	unsigned char *conv; /* Windows-1252 converted, 3 bytes per byte at most */
	unsigned char *dec;  /* raw or conv: the UTF-8 being scanned */
	size_t dec_len, dec_pos;
	int eof, done, failed;
	struct rt_err err; /* a failure is repeated by every later call */

	struct csv_parser cp;
	int cp_ok;

	/* the scanner */
	int st;
	long line;       /* the line of the byte being scanned */
	int cr_counted;  /* the last byte was a CR counted as a line end */
	long row_line, quote_line;
	size_t flen;     /* bytes in the current field so far */
	int nfield;      /* the current field, 1-based */
	struct u8v v;

	/* the row being built: fields NUL-separated in data */
	struct buf data;
	size_t *off, *lens;
	char **f;
	int cap, n;
	int overflow, row_ready;
	struct csv_row row;
};

/* Windows-1252 0x80-0x9F; the five bytes it leaves undefined map to the
 * C1 controls of the same value, as the WHATWG Encoding Standard does. */
static const uint16_t cp1252_hi[32] = {
	0x20AC, 0x0081, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021,
	0x02C6, 0x2030, 0x0160, 0x2039, 0x0152, 0x008D, 0x017D, 0x008F,
	0x0090, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014,
	0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0x009D, 0x017E, 0x0178,
};

static size_t cp1252_to_utf8(const unsigned char *in, size_t n, unsigned char *out)
{
	size_t o = 0;
	for (size_t i = 0; i < n; i++) {
		unsigned c = in[i];
		if (c < 0x80) {
			out[o++] = (unsigned char)c;
			continue;
		}
		unsigned cp = c < 0xa0 ? cp1252_hi[c - 0x80] : c;
		if (cp < 0x800) {
			out[o++] = (unsigned char)(0xc0 | (cp >> 6));
			out[o++] = (unsigned char)(0x80 | (cp & 0x3f));
		} else {
			out[o++] = (unsigned char)(0xe0 | (cp >> 12));
			out[o++] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
			out[o++] = (unsigned char)(0x80 | (cp & 0x3f));
		}
	}
	return o;
}

/* 0, or -1 when c cannot come next (overlong, surrogate, > U+10FFFF,
 * a missing or stray continuation byte). */
static int u8v_byte(struct u8v *v, unsigned char c)
{
	if (v->need) {
		if (c < v->lo || c > v->hi)
			return -1;
		v->need--;
		v->lo = 0x80, v->hi = 0xbf;
		return 0;
	}
	if (c < 0x80)
		return 0;
	v->lo = 0x80, v->hi = 0xbf;
	if (c >= 0xc2 && c <= 0xdf)
		v->need = 1;
	else if (c == 0xe0)
		v->need = 2, v->lo = 0xa0;
	else if (c == 0xed)
		v->need = 2, v->hi = 0x9f;
	else if (c >= 0xe1 && c <= 0xef)
		v->need = 2;
	else if (c == 0xf0)
		v->need = 3, v->lo = 0x90;
	else if (c >= 0xf1 && c <= 0xf3)
		v->need = 3;
	else if (c == 0xf4)
		v->need = 3, v->hi = 0x8f;
	else
		return -1;
	return 0;
}

static int u8v_block(struct u8v *v, const unsigned char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if ((s[i] >= 0x80 || v->need) && u8v_byte(v, s[i]))
			return -1;
	return 0;
}

/* Reads until buf is full or the file ends; the count, or -1 (errno). */
static ssize_t read_full(int fd, unsigned char *buf, size_t n)
{
	size_t got = 0;
	while (got < n) {
		ssize_t k = read(fd, buf + got, n - got);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			return -1;
		if (k == 0)
			break;
		got += (size_t)k;
	}
	return (ssize_t)got;
}

/* Records the failure once; every later csvr_next repeats it. */
static int fail(struct csvr *r, struct rt_err *e)
{
	r->failed = 1;
	if (e)
		*e = r->err;
	return -1;
}

static int io_error(struct csvr *r, const char *what)
{
	err_clear(&r->err);
	err_set(&r->err, ERR_IO, "%s:%ld: %s: %s", r->name, r->line, what, strerror(errno));
	return -1;
}

/* Makes the k bytes in raw the block being scanned. */
static void use_block(struct csvr *r, size_t k)
{
	if (k < CHUNK)
		r->eof = 1;
	if (r->enc == CSV_ENC_CP1252) {
		r->dec_len = cp1252_to_utf8(r->raw, k, r->conv);
		r->dec = r->conv;
	} else {
		r->dec_len = k;
		r->dec = r->raw;
	}
	r->dec_pos = 0;
}

/* The next block into dec: 1, 0 at the end of the file, -1 on a read error. */
static int fill(struct csvr *r)
{
	if (r->eof)
		return 0;
	ssize_t k = read_full(r->fd, r->raw, CHUNK);
	if (k < 0)
		return io_error(r, "cannot read the file");
	use_block(r, (size_t)k);
	return k > 0;
}

static int no_space(unsigned char c)
{
	(void)c; /* spaces belong to the field (RFC 4180): libcsv trims by default */
	return 0;
}

static void on_field(void *s, size_t len, void *data)
{
	struct csvr *r = data;
	if (r->overflow)
		return;
	if (r->n == r->cap) {
		if (r->cap >= MAX_FIELDS) {
			r->overflow = OV_FIELDS;
			return;
		}
		/* three arrays of one capacity: each grows the same way */
		size_t need = (size_t)r->n + 1, c_off = (size_t)r->cap, c_lens = c_off, c_f = c_off;
		if (vec_reserve(&r->off, &c_off, need, sizeof *r->off, 32, MAX_FIELDS) ||
		    vec_reserve(&r->lens, &c_lens, need, sizeof *r->lens, 32, MAX_FIELDS) ||
		    vec_reserve(&r->f, &c_f, need, sizeof *r->f, 32, MAX_FIELDS)) {
			r->overflow = OV_MEM;
			return;
		}
		r->cap = (int)c_off;
	}
	r->off[r->n] = r->data.len;
	r->lens[r->n] = len;
	if ((len && buf_add(&r->data, s, len)) || buf_addc(&r->data, '\0')) {
		r->overflow = OV_ROW;
		return;
	}
	r->n++;
}

static void on_row(int c, void *data)
{
	struct csvr *r = data;
	(void)c;
	r->row_ready = 1;
}

static int data_error(struct csvr *r, long line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int data_error(struct csvr *r, long line, const char *fmt, ...)
{
	char what[400];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(what, sizeof what, fmt, ap);
	va_end(ap);
	err_clear(&r->err);
	err_set(&r->err, ERR_DATA, "%s:%ld: %s", r->name, line, what);
	return -1;
}

/* A NUL byte or (when checking) a byte that breaks UTF-8. */
static int check_byte(struct csvr *r, unsigned char c)
{
	if (c == 0)
		return data_error(r, r->line,
				  "a NUL byte in field %d; the file is not plain text: export it "
				  "again as CSV", r->nfield);
	if (r->check_utf8 && (c >= 0x80 || r->v.need) && u8v_byte(&r->v, c))
		return data_error(r, r->line,
				  "not valid UTF-8 (byte 0x%02X in field %d); set the encoding to "
				  "windows-1252 or auto, or export the file again as UTF-8", c,
				  r->nfield);
	return 0;
}

static int field_too_long(struct csvr *r)
{
	long line = r->st == S_Q || r->st == S_QQ ? r->quote_line
		    : r->st == S_FIX			   ? r->row_line
							   : r->line;
	return data_error(r, line,
			  "field %d is over %zu bytes; check for a quote that is never closed, "
			  "or raise the field limit", r->nfield, r->max_field);
}

static void count_line(struct csvr *r, unsigned char c, int in_quotes)
{
	/* LF ends a line; so does a CR outside quotes (CRLF counts once);
	 * a CR inside a quoted field is data */
	if (c == '\n') {
		if (!r->cr_counted)
			r->line++;
		r->cr_counted = 0;
	} else if (c == '\r' && !in_quotes) {
		r->line++;
		r->cr_counted = 1;
	} else {
		r->cr_counted = 0;
	}
}

/* Scans dec from dec_pos: 1 when a row ended (dec_pos is past its last
 * byte), 0 when the block ran out, -1 on an error in r->err. */
static int scan_csv(struct csvr *r)
{
	const unsigned char *d = r->dec;
	unsigned char delim = (unsigned char)r->delim;
	size_t i = r->dec_pos;
	int ended = 0;
	for (; i < r->dec_len && !ended; i++) {
		unsigned char c = d[i];
		int st = r->st;
		if (st == S_ROW) {
			if (c == '\r' || c == '\n') {
				count_line(r, c, 0);
				continue;
			}
			r->row_line = r->line;
			r->nfield = 1;
			r->flen = 0;
			st = S_FSTART;
		}
		if (check_byte(r, c)) {
			r->dec_pos = i;
			return -1;
		}
		switch (st) {
		case S_FSTART:
			if (c == '"') {
				r->st = S_Q;
				r->quote_line = r->line;
			} else if (c == delim) {
				r->nfield++;
				r->st = S_FSTART;
			} else if (c == '\r' || c == '\n') {
				r->st = S_ROW;
				ended = 1;
			} else {
				r->st = S_UNQ;
				r->flen = 1;
			}
			break;
		case S_UNQ:
			if (c == delim) {
				r->nfield++;
				r->flen = 0;
				r->st = S_FSTART;
			} else if (c == '\r' || c == '\n') {
				r->st = S_ROW;
				ended = 1;
			} else if (c == '"') {
				r->dec_pos = i;
				return data_error(r, r->line,
						  "a quote (\") inside unquoted field %d; quote the "
						  "whole field and double the quotes in it (\"\")",
						  r->nfield);
			} else {
				r->flen++;
			}
			break;
		case S_Q:
			if (c == '"')
				r->st = S_QQ;
			else
				r->flen++;
			break;
		case S_QQ:
			if (c == '"') {
				r->st = S_Q;
				r->flen++;
			} else if (c == delim) {
				r->nfield++;
				r->flen = 0;
				r->st = S_FSTART;
			} else if (c == '\r' || c == '\n') {
				r->st = S_ROW;
				ended = 1;
			} else {
				r->dec_pos = i;
				return data_error(r, r->line,
						  "text after the closing quote of field %d; a quote "
						  "inside a quoted field is written twice (\"\")",
						  r->nfield);
			}
			break;
		}
		count_line(r, c, st == S_Q);
		if (r->flen > r->max_field) {
			r->dec_pos = i;
			return field_too_long(r);
		}
	}
	r->dec_pos = i;
	return ended;
}

/* CSV_FIXED: each line is one field, copied as it is (a CR before the LF
 * removed). Same results as scan_csv. */
static int scan_fixed(struct csvr *r)
{
	const unsigned char *d = r->dec;
	size_t i = r->dec_pos, start = i;
	int ended = 0;
	for (; i < r->dec_len; i++) {
		unsigned char c = d[i];
		if (c != '\n' && r->st == S_ROW) {
			r->st = S_FIX;
			r->row_line = r->line;
			r->nfield = 1;
			r->flen = 0;
		}
		if (check_byte(r, c)) { /* the LF too: it may cut a character */
			r->dec_pos = i;
			return -1;
		}
		if (c == '\n') {
			ended = 1;
			break;
		}
		/* + 1: room for a CR that turns out to end the line */
		if (++r->flen > r->max_field + 1) {
			r->dec_pos = i;
			return field_too_long(r);
		}
	}
	if (i > start && buf_add(&r->data, d + start, i - start)) {
		r->dec_pos = i;
		r->overflow = OV_ROW;
		return 0;
	}
	r->dec_pos = i;
	if (ended) {
		r->dec_pos++;
		r->line++;
	}
	return ended;
}

static void row_reset(struct csvr *r)
{
	buf_reset(&r->data);
	r->n = 0;
	r->overflow = OV_NONE;
	r->row_ready = 0;
}

static int overflow_error(struct csvr *r)
{
	switch (r->overflow) {
	case OV_FIELDS:
		return data_error(r, r->row_line, "a row with more than %d fields", MAX_FIELDS);
	case OV_ROW:
		return data_error(r, r->row_line,
				  "a row over %zu bytes; check for a quote that is never closed",
				  r->max_row);
	default:
		errno = ENOMEM;
		return io_error(r, "cannot hold the row");
	}
}

/* Completes the fixed-width row in data: 1 when it is a row, 0 when the
 * line was blank. */
static int fixed_row(struct csvr *r)
{
	if (r->data.len && r->data.data[r->data.len - 1] == '\r')
		r->data.data[--r->data.len] = '\0';
	r->st = S_ROW;
	if (!r->data.len)
		return 0;
	if (r->data.len > r->max_field) {
		r->st = S_FIX;
		return field_too_long(r);
	}
	r->n = 1;
	r->off[0] = 0;
	r->lens[0] = r->data.len;
	return 1;
}

static void publish(struct csvr *r, struct csv_row **row)
{
	for (int i = 0; i < r->n; i++)
		r->f[i] = r->data.data + r->off[i];
	r->row.n = r->n;
	r->row.f = r->f;
	r->row.len = r->lens;
	r->row.line = r->row_line;
	*row = &r->row;
}

/* The end of the file: a last row without its newline, or the checks
 * that only the end can make. 1, 0 or -1 as csvr_next. */
static int at_end(struct csvr *r, struct csv_row **row, struct rt_err *e)
{
	if (r->check_utf8 && r->v.need) {
		data_error(r, r->line,
			   "not valid UTF-8 (the file ends inside a character, field %d); set the "
			   "encoding to windows-1252 or auto, or export the file again as UTF-8",
			   r->nfield);
		return fail(r, e);
	}
	if (r->delim == CSV_FIXED) {
		if (r->st == S_FIX) {
			int k = fixed_row(r);
			if (k < 0)
				return fail(r, e);
			if (k > 0) {
				publish(r, row);
				return 1;
			}
		}
		r->done = 1;
		return 0;
	}
	if (r->st == S_Q) {
		data_error(r, r->quote_line,
			   "quoted field %d starts here and is never closed (the file ends inside "
			   "it); close the quote, or double the quotes inside the field (\"\")",
			   r->nfield);
		return fail(r, e);
	}
	if (r->st == S_ROW) {
		r->done = 1;
		return 0;
	}
	if (csv_fini(&r->cp, on_field, on_row, r)) {
		data_error(r, r->row_line, "cannot parse this row (%s, field %d)",
			   csv_strerror(csv_error(&r->cp)), r->nfield);
		return fail(r, e);
	}
	r->st = S_ROW;
	if (r->overflow) {
		overflow_error(r);
		return fail(r, e);
	}
	if (!r->row_ready || r->n != r->nfield) {
		data_error(r, r->row_line, "cannot parse this row (%s, field %d)",
			   "the parser lost its place", r->nfield);
		return fail(r, e);
	}
	publish(r, row);
	return 1;
}

int csvr_next(struct csvr *r, struct csv_row **row, struct rt_err *e)
{
	if (r->failed)
		return fail(r, e);
	if (r->done)
		return 0;
	row_reset(r);
	if (r->delim == CSV_FIXED && !r->cap) {
		/* one field per row: the arrays are needed once */
		r->off = malloc(sizeof *r->off);
		r->lens = malloc(sizeof *r->lens);
		r->f = malloc(sizeof *r->f);
		if (!r->off || !r->lens || !r->f) {
			errno = ENOMEM;
			io_error(r, "cannot hold the row");
			return fail(r, e);
		}
		r->cap = 1;
	}
	for (;;) {
		if (r->dec_pos == r->dec_len) {
			int k = fill(r);
			if (k < 0)
				return fail(r, e);
			if (k == 0)
				return at_end(r, row, e);
		}
		size_t start = r->dec_pos;
		if (r->delim == CSV_FIXED) {
			int k = scan_fixed(r);
			if (k < 0)
				return fail(r, e);
			if (r->overflow) {
				overflow_error(r);
				return fail(r, e);
			}
			if (k > 0) {
				k = fixed_row(r);
				if (k < 0)
					return fail(r, e);
				if (k > 0) {
					publish(r, row);
					return 1;
				}
			}
			continue;
		}
		int k = scan_csv(r);
		if (k < 0)
			return fail(r, e);
		size_t n = r->dec_pos - start;
		if (n && csv_parse(&r->cp, r->dec + start, n, on_field, on_row, r) != n) {
			if (csv_error(&r->cp) == CSV_ENOMEM || csv_error(&r->cp) == CSV_ETOOBIG) {
				errno = ENOMEM;
				io_error(r, "cannot hold the field");
			} else {
				data_error(r, r->line, "cannot parse this row (%s, field %d)",
					   csv_strerror(csv_error(&r->cp)), r->nfield);
			}
			return fail(r, e);
		}
		if (r->overflow) {
			overflow_error(r);
			return fail(r, e);
		}
		if (k > 0) {
			if (!r->row_ready || r->n != r->nfield) {
				data_error(r, r->row_line, "cannot parse this row (%s, field %d)",
					   "the parser lost its place", r->nfield);
				return fail(r, e);
			}
			publish(r, row);
			return 1;
		}
	}
}

/* The one of , | tab ; seen most often outside quotes in the first row
 * (a tie, or none, is a comma). */
static int detect_delim(const unsigned char *d, size_t n)
{
	static const char cand[] = ",|\t;";
	size_t count[4] = {0};
	int inq = 0;
	size_t i = 0;
	while (i < n && (d[i] == '\r' || d[i] == '\n'))
		i++;
	for (; i < n; i++) {
		unsigned char c = d[i];
		if (c == '"') {
			inq = !inq;
		} else if (!inq) {
			if (c == '\r' || c == '\n')
				break;
			const char *p = memchr(cand, c, 4);
			if (p && c)
				count[p - cand]++;
		}
	}
	int best = 0;
	for (int k = 1; k < 4; k++)
		if (count[k] > count[best])
			best = k;
	return cand[best];
}

/* Files that are clearly not delimited text, named so the fix is obvious. */
static const char *not_text(const unsigned char *s, size_t n)
{
	if (n >= 2 && ((s[0] == 0xff && s[1] == 0xfe) || (s[0] == 0xfe && s[1] == 0xff)))
		return "UTF-16 text; export it again as UTF-8 (or Windows-1252) CSV";
	if (n >= 2 && s[0] == 0x1f && s[1] == 0x8b)
		return "gzip-compressed; it must be uncompressed first";
	if (n >= 4 && !memcmp(s, "PK\x03\x04", 4))
		return "a zip archive (an .xlsx workbook?); export the sheet as CSV";
	return NULL;
}

static void open_fail(struct csvr *r, struct rt_err *e)
{
	if (e)
		*e = r->err;
	csvr_close(r);
}

/* CSV_ENC_AUTO without a BOM: the whole file is valid UTF-8, or it is
 * Windows-1252. The first block is in raw; *again when it must be read
 * again (the check read past it). */
static int sniff(struct csvr *r, size_t first, int *again)
{
	struct u8v v = {0, 0x80, 0xbf};
	int ok = !u8v_block(&v, r->raw, first);
	*again = 0;
	if (ok && first == CHUNK) {
		*again = 1;
		for (;;) {
			ssize_t k = read_full(r->fd, r->raw, CHUNK);
			if (k < 0)
				return io_error(r, "cannot read the file");
			ok = !u8v_block(&v, r->raw, (size_t)k);
			if (!ok || k < CHUNK)
				break;
		}
	}
	r->enc = ok && !v.need ? CSV_ENC_UTF8 : CSV_ENC_CP1252;
	if (*again && lseek(r->fd, 0, SEEK_SET) < 0) {
		err_clear(&r->err);
		err_set(&r->err, ERR_IO, "%s: cannot read the file twice to find its encoding "
			"(%s); set the encoding explicitly", r->name, strerror(errno));
		return -1;
	}
	return 0;
}

struct csvr *csvr_open(const char *path, const char *name, const struct csv_opts *o,
		       struct rt_err *e)
{
	static const struct csv_opts defaults = {CSV_DELIM_AUTO, CSV_ENC_AUTO, 0};
	if (!o)
		o = &defaults;
	struct csvr *r = calloc(1, sizeof *r);
	if (!r) {
		if (e)
			err_set(e, ERR_IO, "%s: out of memory", name ? name : path);
		return NULL;
	}
	r->fd = -1;
	r->line = 1;
	r->st = S_ROW;
	r->v.lo = 0x80, r->v.hi = 0xbf;
	r->name = strdup(name ? name : path);
	r->max_field = o->max_field ? o->max_field : DEF_MAX_FIELD;
	r->max_row = r->max_field < MIN_MAX_ROW / 4 ? MIN_MAX_ROW : 4 * r->max_field;
	buf_init(&r->data, r->max_row);
	if (!r->name) {
		err_set(&r->err, ERR_IO, "%s: out of memory", path);
		open_fail(r, e);
		return NULL;
	}
	int d = o->delim;
	if (d != CSV_FIXED && d != CSV_DELIM_AUTO &&
	    (d < 1 || d > 0x7e || d == '"' || d == '\r' || d == '\n')) {
		err_set(&r->err, ERR_USAGE, "%s: the delimiter must be one of , | tab ; auto "
			"fixed", r->name);
		open_fail(r, e);
		return NULL;
	}
	if (o->enc != CSV_ENC_AUTO && o->enc != CSV_ENC_UTF8 && o->enc != CSV_ENC_CP1252) {
		err_set(&r->err, ERR_USAGE, "%s: the encoding must be auto, utf-8 or "
			"windows-1252", r->name);
		open_fail(r, e);
		return NULL;
	}
	r->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (r->fd < 0) {
		err_set(&r->err, ERR_IO, "%s: cannot open: %s", r->name, strerror(errno));
		open_fail(r, e);
		return NULL;
	}
	ssize_t k = read_full(r->fd, r->raw, CHUNK);
	if (k < 0) {
		io_error(r, "cannot read the file");
		open_fail(r, e);
		return NULL;
	}
	const char *why = not_text(r->raw, (size_t)k);
	if (why) {
		err_set(&r->err, ERR_DATA, "%s: not a text file: %s", r->name, why);
		open_fail(r, e);
		return NULL;
	}
	r->bom = k >= 3 && !memcmp(r->raw, "\xef\xbb\xbf", 3);
	/* a BOM says UTF-8 whatever was configured (as browsers decode) */
	r->enc = r->bom ? CSV_ENC_UTF8 : o->enc;
	int again = 0;
	if (r->enc == CSV_ENC_AUTO && sniff(r, (size_t)k, &again)) {
		open_fail(r, e);
		return NULL;
	}
	r->check_utf8 = r->enc == CSV_ENC_UTF8;
	if (r->enc == CSV_ENC_CP1252 && !(r->conv = malloc(3 * CHUNK))) {
		errno = ENOMEM;
		io_error(r, "cannot hold the file's blocks");
		open_fail(r, e);
		return NULL;
	}
	if (!again)
		use_block(r, (size_t)k);
	else if (fill(r) < 0) {
		open_fail(r, e);
		return NULL;
	}
	if (r->bom)
		r->dec_pos = 3;
	r->delim = d == CSV_DELIM_AUTO ? detect_delim(r->dec + r->dec_pos, r->dec_len - r->dec_pos)
				       : d;
	if (r->delim != CSV_FIXED) {
		if (csv_init(&r->cp, CSV_STRICT | CSV_STRICT_FINI)) {
			err_set(&r->err, ERR_IO, "%s: cannot start the CSV parser", r->name);
			open_fail(r, e);
			return NULL;
		}
		r->cp_ok = 1;
		csv_set_delim(&r->cp, (unsigned char)r->delim);
		csv_set_space_func(&r->cp, no_space);
		csv_set_blk_size(&r->cp, 4096);
	}
	return r;
}

enum csv_enc csvr_encoding(const struct csvr *r)
{
	return r->enc;
}

int csvr_delim(const struct csvr *r)
{
	return r->delim;
}

int csvr_bom(const struct csvr *r)
{
	return r->bom;
}

void csvr_close(struct csvr *r)
{
	if (!r)
		return;
	if (r->fd >= 0)
		close(r->fd);
	if (r->cp_ok)
		csv_free(&r->cp);
	buf_free(&r->data);
	free(r->off);
	free(r->lens);
	free(r->f);
	free(r->conv);
	free(r->name);
	free(r);
}

const char *csv_enc_name(enum csv_enc enc)
{
	switch (enc) {
	case CSV_ENC_UTF8:
		return "utf-8";
	case CSV_ENC_CP1252:
		return "windows-1252";
	default:
		return "auto";
	}
}

int csv_enc_parse(const char *s, enum csv_enc *out)
{
	static const struct {
		const char *name;
		enum csv_enc enc;
	} known[] = {
		{"auto", CSV_ENC_AUTO},		  {"utf-8", CSV_ENC_UTF8},
		{"utf8", CSV_ENC_UTF8},		  {"windows-1252", CSV_ENC_CP1252},
		{"cp1252", CSV_ENC_CP1252},
	};
	for (size_t i = 0; s && i < sizeof known / sizeof known[0]; i++)
		if (!strcasecmp(s, known[i].name)) {
			*out = known[i].enc;
			return 0;
		}
	return -1;
}

int csv_delim_parse(const char *s, int *out)
{
	static const struct {
		const char *name;
		int delim;
	} known[] = {
		{",", ','},   {"comma", ','},	  {"|", '|'},	       {"pipe", '|'},
		{"tab", '\t'}, {"\t", '\t'},	  {"\\t", '\t'},       {";", ';'},
		{"semicolon", ';'}, {"auto", CSV_DELIM_AUTO}, {"fixed", CSV_FIXED},
	};
	for (size_t i = 0; s && i < sizeof known / sizeof known[0]; i++)
		if (!strcasecmp(s, known[i].name)) {
			*out = known[i].delim;
			return 0;
		}
	return -1;
}
