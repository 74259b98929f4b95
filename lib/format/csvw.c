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

int csvw_cell(struct buf *b, const char *str, size_t n)
{
	const unsigned char *s = (const unsigned char *)str;
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

int csvw_row(struct buf *b, const char *const *cells, int n)
{
	if (n == 1 && (!cells[0] || !cells[0][0]))
		return buf_adds(b, "\"\"\r\n");
	for (int i = 0; i < n; i++) {
		const char *c = cells[i] ? cells[i] : "";
		if ((i && buf_addc(b, ',')) || csvw_cell(b, c, strlen(c)))
			return -1;
	}
	return buf_adds(b, "\r\n");
}
