#include "jsonw.h"

#include <string.h>

size_t utf8_seq_len(const unsigned char *s, size_t n)
{
	unsigned c = s[0];
	size_t len;
	unsigned min;
	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		len = 2, min = 0x80;
	else if (c >= 0xe0 && c <= 0xef)
		len = 3, min = 0x800;
	else if (c >= 0xf0 && c <= 0xf4)
		len = 4, min = 0x10000;
	else
		return 0;
	if (n < len)
		return 0;
	unsigned cp = c & (0x3f >> (len - 1));
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

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

void utf8_scrub(char *s)
{
	size_t n = strlen(s), w = 0;
	for (size_t i = 0; i < n;) {
		size_t l = utf8_seq_len((const unsigned char *)s + i, n - i);
		if (!l) {
			i++;
			continue;
		}
		memmove(s + w, s + i, l);
		w += l;
		i += l;
	}
	s[w] = 0;
}
