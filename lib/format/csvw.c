#include "format/csvw.h"
#include "core/utf8.h"
#include "format/jsonw.h"

#include <string.h>

static int is_blank(unsigned char c)
{
	return c == ' ' || c == '\t';
}

static int needs_quotes(const unsigned char *s, size_t n)
{
	if (n && (is_blank(s[0]) || is_blank(s[n - 1])))
		return 1;
	for (size_t i = 0; i < n; i++)
		if (s[i] == ',' || s[i] == '"' || s[i] == '\r' || s[i] == '\n')
			return 1;
	return 0;
}

/* The bytes that make a cell more than a plain copy: a separator, a
 * quote, a line end, or a byte that is not ASCII (checked as UTF-8). A
 * table: this test runs on every byte load-csv writes. */
#define X8 1, 1, 1, 1, 1, 1, 1, 1
#define X64 X8, X8, X8, X8, X8, X8, X8, X8
static const unsigned char special_byte[256] = {
	['\n'] = 1, ['\r'] = 1, ['"'] = 1, [','] = 1,
	[128] = X64, X64, /* 0x80-0xff, in order after the designator */
};
#undef X8
#undef X64

static int special(unsigned char c)
{
	return special_byte[c];
}

static int cell_slow(struct buf *b, const unsigned char *s, size_t n)
{
	int quote = needs_quotes(s, n);
	int neutralise = n && memchr("=+-@\t\r", s[0], 6);
	/* buf_add/addc (not direct stores) keep the buf NUL-terminated */
	if ((quote && buf_addc(b, '"')) || (neutralise && buf_addc(b, '\'')))
		return -1;
	size_t i = 0;
	while (i < n) {
		/* copy a run of plain ASCII at once: the common case */
		size_t j = i;
		while (j < n && s[j] < 0x80 && s[j] != '"')
			j++;
		if (j > i && buf_add(b, s + i, j - i))
			return -1;
		if ((i = j) >= n)
			break;
		if (s[i] == '"') {
			if (buf_add(b, "\"\"", 2))
				return -1;
			i++;
			continue;
		}
		size_t l = utf8_seq_len(s + i, n - i);
		if (buf_add(b, l ? (const char *)s + i : "\xef\xbf\xbd", l ? l : 3))
			return -1;
		i += l ? l : 1;
	}
	return quote ? buf_addc(b, '"') : 0;
}

/* 1 when the cell is written as it is: plain ASCII, no formula guard, no
 * blank at either end. */
static int plain(const unsigned char *s, size_t n)
{
	size_t k = 0;
	while (k < n && !special(s[k]))
		k++;
	return k == n && (!n || (!is_blank(s[0]) && !is_blank(s[n - 1]) && !memchr("=+-@", s[0], 4)));
}

int csvw_cell(struct buf *b, const char *str, size_t n)
{
	const unsigned char *s = (const unsigned char *)str;
	if (plain(s, n))
		return buf_add(b, s, n);
	return cell_slow(b, s, n);
}

int csvw_row(struct buf *b, const char *const *cells, int n)
{
	if (n == 1 && (!cells[0] || !cells[0][0]))
		return buf_adds(b, "\"\"\r\n");
	for (int i = 0; i < n; i++) {
		const char *c = cells[i] ? cells[i] : "";
		size_t len = strlen(c);
		/* a plain cell is copied straight in: most of a roster's cells */
		if (plain((const unsigned char *)c, len) && !buf_reserve(b, len + 1)) {
			if (i)
				b->data[b->len++] = ',';
			memcpy(b->data + b->len, c, len);
			b->len += len;
			b->data[b->len] = 0;
		} else if ((i && buf_addc(b, ',')) || csvw_cell(b, c, len)) {
			return -1;
		}
	}
	return buf_adds(b, "\r\n");
}
