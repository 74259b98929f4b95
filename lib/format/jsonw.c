#include "format/jsonw.h"
#include "core/utf8.h"

#include <string.h>

int jsonw_strn(struct buf *b, const char *str, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *s = (const unsigned char *)str;
	if (buf_reserve(b, n + 2))
		return -1;
	b->data[b->len++] = '"';
	size_t i = 0;
	while (i < n) {
		/* copy a run of plain bytes at once: the common case */
		size_t j = i;
		while (j < n && s[j] >= 0x20 && s[j] < 0x80 && s[j] != '"' && s[j] != '\\')
			j++;
		if (j > i && buf_add(b, s + i, j - i))
			return -1;
		i = j;
		if (i >= n)
			break;
		unsigned c = s[i];
		if (c >= 0x80) {
			size_t l = utf8_seq_len(s + i, n - i);
			if (l) {
				if (buf_add(b, s + i, l))
					return -1;
				i += l;
			} else {
				if (buf_add(b, "\xef\xbf\xbd", 3))
					return -1;
				i++;
			}
			continue;
		}
		char esc[7] = {'\\', 0};
		size_t el = 2;
		switch (c) {
		case '"': esc[1] = '"'; break;
		case '\\': esc[1] = '\\'; break;
		case '\n': esc[1] = 'n'; break;
		case '\r': esc[1] = 'r'; break;
		case '\t': esc[1] = 't'; break;
		case '\b': esc[1] = 'b'; break;
		case '\f': esc[1] = 'f'; break;
		default:
			memcpy(esc, "\\u00", 4);
			esc[4] = hex[c >> 4];
			esc[5] = hex[c & 15];
			el = 6;
		}
		if (buf_add(b, esc, el))
			return -1;
		i++;
	}
	return buf_addc(b, '"');
}

int jsonw_str(struct buf *b, const char *s)
{
	return jsonw_strn(b, s ? s : "", s ? strlen(s) : 0);
}

int jsonw_key(struct buf *b, const char *key, int first)
{
	if (!first && buf_addc(b, ','))
		return -1;
	if (jsonw_str(b, key))
		return -1;
	return buf_addc(b, ':');
}
