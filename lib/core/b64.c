/* Base64 (RFC 4648, sections 4 and 5).
 *
 * Decoding is strict, so that a key or token has exactly one text form:
 * - padding is optional, but when present it makes the length a multiple
 *   of 4 and is exactly what the last group needs ("Zg==", never "Zg=");
 * - '=' appears only at the end; no whitespace, no other alphabet;
 * - lengths with 1 left-over character (n % 4 == 1) are refused;
 * - the unused low bits of the last character must be zero ("Zh==" is
 *   refused; RFC 4648 section 3.5 lets a decoder do so). */
#include "core/b64.h"

#include <stdint.h>

static const char std_abc[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static const char url_abc[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

size_t b64_encoded_len(size_t n, int pad)
{
	size_t full = n / 3 * 4;
	if (n % 3 == 0)
		return full;
	return full + (pad ? 4 : n % 3 + 1);
}

size_t b64_encode(const void *in, size_t n, char *out, int url, int pad)
{
	const unsigned char *p = in;
	const char *abc = url ? url_abc : std_abc;
	size_t o = 0, i = 0;
	for (; n - i >= 3; i += 3) {
		uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];
		out[o++] = abc[v >> 18];
		out[o++] = abc[v >> 12 & 63];
		out[o++] = abc[v >> 6 & 63];
		out[o++] = abc[v & 63];
	}
	if (n - i) {
		uint32_t v = (uint32_t)p[i] << 16 | (n - i == 2 ? (uint32_t)p[i + 1] << 8 : 0);
		out[o++] = abc[v >> 18];
		out[o++] = abc[v >> 12 & 63];
		if (n - i == 2)
			out[o++] = abc[v >> 6 & 63];
		else if (pad)
			out[o++] = '=';
		if (pad)
			out[o++] = '=';
	}
	out[o] = '\0';
	return o;
}

/* The value of c in the alphabet, or -1. */
static int val(unsigned char c, int url)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == (url ? '-' : '+'))
		return 62;
	if (c == (url ? '_' : '/'))
		return 63;
	return -1;
}

int b64_decode(const char *in, size_t n, void *out, size_t *outn, int url)
{
	unsigned char *o = out;
	size_t len = n, k = 0;
	uint32_t acc = 0;

	/* Padding: one or two '=' closing a length that is a multiple of 4. */
	if (n && in[n - 1] == '=') {
		if (n % 4)
			return -1;
		len = in[n - 2] == '=' ? n - 2 : n - 1; /* any other '=' is a bad char */
	}
	if (len % 4 == 1)
		return -1;
	for (size_t i = 0; i < len; i++) {
		int v = val((unsigned char)in[i], url);
		if (v < 0)
			return -1;
		acc = acc << 6 | (uint32_t)v;
		if (i % 4 == 3) {
			o[k++] = (unsigned char)(acc >> 16);
			o[k++] = (unsigned char)(acc >> 8);
			o[k++] = (unsigned char)acc;
			acc = 0;
		}
	}
	switch (len % 4) {
	case 2: /* 12 bits: 1 byte and 4 spare bits */
		if (acc & 0xf)
			return -1;
		o[k++] = (unsigned char)(acc >> 4);
		break;
	case 3: /* 18 bits: 2 bytes and 2 spare bits */
		if (acc & 0x3)
			return -1;
		o[k++] = (unsigned char)(acc >> 10);
		o[k++] = (unsigned char)(acc >> 2);
		break;
	}
	*outn = k;
	return 0;
}

void b16_encode(const void *in, size_t n, char *out)
{
	static const char d[] = "0123456789abcdef";
	const unsigned char *p = in;
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = d[p[i] >> 4];
		out[2 * i + 1] = d[p[i] & 15];
	}
	out[2 * n] = 0;
}

static int unreserved(unsigned char c)
{
	return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '-' ||
	       c == '.' || c == '_' || c == '~';
}

int pct_encode(const char *s, struct buf *out)
{
	static const char hex[] = "0123456789ABCDEF";
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;
		if (unreserved(ch)) {
			if (buf_addc(out, (char)ch))
				return -1;
		} else {
			char e[3] = {'%', hex[ch >> 4], hex[ch & 15]};
			if (buf_add(out, e, 3))
				return -1;
		}
	}
	return 0;
}
