/* Base64: the RFC 4648 section 10 vectors in both alphabets, with and
 * without padding, a round trip of every length up to 100, and the
 * inputs a strict decoder refuses. Choice recorded here and in b64.h:
 * nonzero unused bits in the last character are rejected ("Zh==" is not
 * "f"), so every byte string has exactly one encoding. */
#include "core/b64.h"
#include "tap.h"

#include <stdio.h>
#include <string.h>

/* RFC 4648 section 10, then two of ours whose output differs between the
 * standard and the URL-safe alphabets. */
static const struct {
	const char *in;
	size_t n;
	const char *std, *url;
} vec[] = {
	{"", 0, "", ""},
	{"f", 1, "Zg==", "Zg=="},
	{"fo", 2, "Zm8=", "Zm8="},
	{"foo", 3, "Zm9v", "Zm9v"},
	{"foob", 4, "Zm9vYg==", "Zm9vYg=="},
	{"fooba", 5, "Zm9vYmE=", "Zm9vYmE="},
	{"foobar", 6, "Zm9vYmFy", "Zm9vYmFy"},
	{"\xfb\xef\xff", 3, "++//", "--__"},
	{"\xfb\xff", 2, "+/8=", "-_8="},
};

static void check_one(const char *in, size_t n, const char *want, int url, int pad)
{
	char enc[16], dec[16];
	size_t wlen = strlen(want), dn = 99;
	if (!pad)
		while (wlen && want[wlen - 1] == '=')
			wlen--;
	size_t got = b64_encode(in, n, enc, url, pad);
	tap_ok(got == wlen && got == b64_encoded_len(n, pad) && !memcmp(enc, want, wlen) &&
		       enc[got] == '\0',
	       "%s, %s: %zu bytes encode to \"%.*s\"", url ? "url" : "std",
	       pad ? "padded" : "unpadded", n, (int)wlen, want);
	int rc = b64_decode(want, wlen, dec, &dn, url);
	tap_ok(!rc && dn == n && !memcmp(dec, in, n), "%s: \"%.*s\" decodes back",
	       url ? "url" : "std", (int)wlen, want);
}

static void test_vectors(void)
{
	for (size_t i = 0; i < sizeof vec / sizeof vec[0]; i++)
		for (int pad = 0; pad < 2; pad++) {
			check_one(vec[i].in, vec[i].n, vec[i].std, 0, pad);
			check_one(vec[i].in, vec[i].n, vec[i].url, 1, pad);
		}
}

static void test_round_trip(void)
{
	unsigned char in[100], out[100 / 4 * 3 + 3 + 40];
	char enc[140];
	int bad = 0;
	for (size_t i = 0; i < sizeof in; i++)
		in[i] = (unsigned char)(i * 37 + 11);
	for (size_t n = 0; n <= sizeof in; n++)
		for (int v = 0; v < 4; v++) {
			size_t e = b64_encode(in, n, enc, v & 1, v & 2), dn;
			if (b64_decode(enc, e, out, &dn, v & 1) || dn != n || memcmp(in, out, n))
				bad++;
		}
	TAP_EQ_INT(bad, 0, "every length 0..100 round-trips in both alphabets, padded or not");
}

static const struct {
	const char *in;
	int url;
	const char *why;
} rejects[] = {
	{"Z", 1, "one character: no encoding has n % 4 == 1"},
	{"Zm9vY", 1, "five characters"},
	{"Zm9vY===", 1, "three '=' pad"},
	{"Zg=", 1, "padding that does not reach a multiple of 4"},
	{"Zm8==", 1, "one '=' too many"},
	{"Zg===", 1, "Zg with three '='"},
	{"====", 1, "only padding"},
	{"=", 1, "a lone '='"},
	{"Zg==Zg==", 1, "padding in the middle"},
	{"Zm=v", 1, "'=' before a data character"},
	{"Zg=a", 1, "'=' then a data character"},
	{"Zm9v\n", 1, "a trailing newline"},
	{"Zm 9v", 1, "a space"},
	{"Zm9v%A==", 1, "'%' (outside both alphabets)"},
	{"Zm.v", 1, "'.'"},
	{"+/8=", 1, "'+' and '/' in the URL-safe alphabet"},
	{"-_8=", 0, "'-' and '_' in the standard alphabet"},
	{"Zh==", 1, "nonzero unused bits after one byte"},
	{"Zh", 1, "nonzero unused bits, unpadded"},
	{"Zm9=", 1, "nonzero unused bits after two bytes"},
	{"Zm\xc3\xa9", 1, "a non-ASCII byte"},
};

static void test_rejects(void)
{
	unsigned char out[16];
	size_t n;
	for (size_t i = 0; i < sizeof rejects / sizeof rejects[0]; i++) {
		const char *in = rejects[i].in;
		tap_ok(b64_decode(in, strlen(in), out, &n, rejects[i].url) == -1, "rejected: %s",
		       rejects[i].why);
	}
	tap_ok(b64_decode("Zm\0v", 4, out, &n, 1) == -1, "rejected: a NUL byte");
	tap_ok(!b64_decode("Zm9vYg==", 6, out, &n, 1) && n == 4 && !memcmp(out, "foob", 4),
	       "only in[0..n) is read");
}

/* RFC 4648 section 10's base16 vectors, in lower case. */
static void test_base16(void)
{
	static const char *const in[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar"};
	static const char *const want[] = {"", "66", "666f", "666f6f", "666f6f62", "666f6f6261",
					   "666f6f626172"};
	for (int i = 0; i < 7; i++) {
		char out[16];
		memset(out, 'x', sizeof out);
		b16_encode(in[i], strlen(in[i]), out);
		tap_ok(!strcmp(out, want[i]), "base16 of \"%s\" is \"%s\"", in[i], want[i]);
	}
	char out[5];
	b16_encode("\x00\xff", 2, out);
	tap_ok(!strcmp(out, "00ff"), "base16 of bytes 0x00 0xff is 00ff");
}

int main(void)
{
	test_vectors();
	test_base16();
	test_round_trip();
	test_rejects();
	return tap_done();
}
