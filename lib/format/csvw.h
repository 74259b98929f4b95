#ifndef ROSTER_CSVW_H
#define ROSTER_CSVW_H

#include "core/buf.h"

#include <stddef.h>

/* Appending RFC 4180 CSV to a buf (the caller owns the buf).
 *
 * A cell is quoted when it holds a comma, a double quote, CR or LF, or
 * starts or ends with a space or tab (many readers, libcsv among them,
 * trim those from unquoted cells). Quotes inside are doubled. A record
 * ends with CRLF. A record of one empty cell is written "" so that it is
 * not read as a blank line.
 *
 * Formula neutralising (OWASP, CSV injection): a cell whose first byte is
 * = + - @ TAB or CR gets a leading single quote, so a spreadsheet shows it
 * as text instead of running it. This includes negative numbers ("-5" is
 * written '-5): a spreadsheet cannot tell "-5" from "-1+cmd|...", and
 * roster data has no numeric columns that need the sign kept.
 *
 * Bytes that are not valid UTF-8 are written as U+FFFD.
 * Each returns 0, or -1 when the buf is over its cap. */
int csvw_cell(struct buf *b, const char *s, size_t n);
/* n cells (NULL is an empty cell), separated by commas, then CRLF. */
int csvw_row(struct buf *b, const char *const *cells, int n);

#endif
