#ifndef ROSTER_CSVREAD_H
#define ROSTER_CSVREAD_H
#include "core/err.h"
#include <stddef.h>
/* Reading delimited text files (drops) with libcsv, one row at a time,
 * in memory that does not grow with the file. Fields come out as UTF-8:
 * a UTF-8 BOM is removed; Windows-1252 text is converted. CRLF and LF
 * both end a row; a missing final newline is fine; quoted fields keep
 * their commas, quotes and line breaks (RFC 4180); blank lines are not
 * rows. The reader does not know about headers: row 1 is the header for
 * the caller. */
enum csv_enc {
	CSV_ENC_AUTO = 0, /* BOM -> UTF-8; else valid UTF-8 -> UTF-8; else Windows-1252 */
	CSV_ENC_UTF8,
	CSV_ENC_CP1252,
};
/* delim: ',', '|', '\t', ';', CSV_DELIM_AUTO (0: the one of , | tab ; that
 * appears most often outside quotes in the first row), or CSV_FIXED: no
 * splitting at all, each line is one field (fixed-width files). */
#define CSV_DELIM_AUTO 0
#define CSV_FIXED (-1)
struct csv_opts {
	int delim;
	enum csv_enc enc;
	size_t max_field; /* a longer field is an error; 0: 1 MiB */
};
struct csv_row {
	int n;        /* fields */
	char **f;     /* NUL-terminated UTF-8 (a NUL byte in the input is an error) */
	size_t *len;
	long line;    /* physical line where the row starts (1-based) */
};
struct csvr;
/* Opens path; name is what messages call it ("munis_employees_20261128.csv").
 * With CSV_ENC_AUTO the whole file is checked once before reading. NULL
 * with e set (ERR_IO: cannot open; ERR_DATA: not text). */
struct csvr *csvr_open(const char *path, const char *name, const struct csv_opts *o,
		       struct rt_err *e);
/* The next row: 1 with *row valid until the next call, 0 at the end,
 * -1 with e naming name:line (an unterminated quote, a quote inside an
 * unquoted field, an over-long field, a NUL byte, a read error). */
int csvr_next(struct csvr *r, struct csv_row **row, struct rt_err *e);
enum csv_enc csvr_encoding(const struct csvr *r); /* what was used */
int csvr_delim(const struct csvr *r);             /* what was used */
int csvr_bom(const struct csvr *r);               /* 1: the file began with a UTF-8 BOM */
void csvr_close(struct csvr *r);
/* "utf-8", "windows-1252", "auto"; parse accepts those and "utf8", "cp1252",
 * "latin1"-style aliases are refused (say which are known). 0 or -1. */
const char *csv_enc_name(enum csv_enc enc);
int csv_enc_parse(const char *s, enum csv_enc *out);
/* ",", "|", "tab" or "\t", ";", "auto", "fixed". 0 or -1. */
int csv_delim_parse(const char *s, int *out);
#endif
