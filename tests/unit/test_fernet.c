/* Fernet: the fernet/spec vectors in tests/vectors/fernet/ (times from
 * derived_fields.json, so no ISO-8601 parser is needed), our own edge
 * cases (keys, the TTL and skew bounds, altered tokens), and interop with
 * Python's cryptography.fernet both ways. */
#include "core/b64.h"
#include "core/clock.h"
#include "core/spawn.h"
#include "auth/fernet.h"
#include "tap.h"

#include <cjson/cJSON.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define VKEY "cw_0x689RpI-jtRR7oE8h_eQsKImvJapLeSbXpwF4e4="
#define VTOKEN                                                                                \
	"gAAAAAAdwJ6wAAECAwQFBgcICQoLDA0ODy021cpGVWKZ_eEwCGM4BLLF_5CV9dOPmrhuVUPgJobwOz7JcbmrR" \
	"64jVmpU4IwqDA=="
#define VTIME 499162800 /* 1985-10-26T01:20:00-07:00 */

static cJSON *load(const char *name)
{
	char path[4096];
	unsigned long len;
	snprintf(path, sizeof path, "%s/fernet/%s", tap_vectors(), name);
	char *text = tap_slurp(path, &len);
	cJSON *root = text ? cJSON_ParseWithLength(text, len) : NULL;
	free(text);
	if (!root)
		tap_diag("cannot read %s", path);
	return root;
}

static const char *str(const cJSON *c, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(c, key);
	return cJSON_IsString(v) ? v->valuestring : "";
}

static double num(const cJSON *c, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(c, key);
	return cJSON_IsNumber(v) ? v->valuedouble : -1;
}

/* The epoch of case index of file, from derived_fields.json. */
static uint64_t now_of(const cJSON *derived, const char *file, int index)
{
	const cJSON *c;
	cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(derived, "cases"))
		if (!strcmp(str(c, "file"), file) && num(c, "index") == index)
			return (uint64_t)num(c, "now_epoch");
	tap_diag("no derived time for %s #%d", file, index);
	return 0;
}

/* Decrypted messages are wiped before they are freed, as callers must. */
static void drop(unsigned char *m, size_t n)
{
	if (m)
		OPENSSL_cleanse(m, n);
	free(m);
}

static struct fernet_key parse(const char *s)
{
	struct fernet_key k;
	if (fernet_key_parse(&k, s, strlen(s)))
		tap_diag("cannot parse key %s", s);
	return k;
}

static void test_generate(const cJSON *derived)
{
	cJSON *root = load("generate.json");
	const cJSON *c;
	int i = 0;
	tap_ok(cJSON_GetArraySize(root) == 1, "generate.json holds 1 case");
	cJSON_ArrayForEach(c, root) {
		struct fernet_key k = parse(str(c, "secret"));
		unsigned char iv[16] = {0};
		int j = 0;
		const cJSON *b;
		cJSON_ArrayForEach(b, cJSON_GetObjectItemCaseSensitive(c, "iv"))
			if (j < 16)
				iv[j++] = (unsigned char)b->valueint;
		const char *src = str(c, "src");
		char *tok = NULL;
		uint64_t now = now_of(derived, "generate.json", i);
		enum fernet_status st = fernet_encrypt(&k, src, strlen(src), now, iv, &tok);
		tap_ok(st == FERNET_OK && j == 16 && tok && !strcmp(tok, str(c, "token")),
		       "generate #%d: \"%s\" gives the vector's token byte for byte", i, src);
		if (tok && strcmp(tok, str(c, "token")))
			tap_diag("  got %s", tok);
		free(tok);
		fernet_key_wipe(&k);
		i++;
	}
	cJSON_Delete(root);
}

static void test_verify(const cJSON *derived)
{
	cJSON *root = load("verify.json");
	const cJSON *c;
	int i = 0;
	tap_ok(cJSON_GetArraySize(root) == 1, "verify.json holds 1 case");
	cJSON_ArrayForEach(c, root) {
		struct fernet_key k = parse(str(c, "secret"));
		const char *tok = str(c, "token"), *src = str(c, "src");
		unsigned char *m = NULL;
		size_t n = 0;
		uint64_t ts = 0;
		enum fernet_status st =
			fernet_decrypt(&k, tok, strlen(tok), now_of(derived, "verify.json", i),
				       (uint64_t)num(c, "ttl_sec"), &m, &n, &ts);
		tap_ok(st == FERNET_OK && n == strlen(src) && !memcmp(m, src, n) && ts == VTIME,
		       "verify #%d: decrypts to \"%s\" (%s)", i, src, fernet_status_text(st));
		drop(m, n);
		fernet_key_wipe(&k);
		i++;
	}
	cJSON_Delete(root);
}

/* invalid.json's reasons and the status each must give. */
static const struct {
	const char *desc;
	enum fernet_status want;
} reasons[] = {
	{"incorrect mac", FERNET_BAD_MAC},
	{"too short", FERNET_TOO_SHORT},
	{"invalid base64", FERNET_BAD_BASE64},
	{"payload size not multiple of block size", FERNET_BAD_SIZE},
	{"payload padding error", FERNET_BAD_PADDING},
	{"far-future TS (unacceptable clock skew)", FERNET_FUTURE},
	{"expired TTL", FERNET_EXPIRED},
	{"incorrect IV (causes padding error)", FERNET_BAD_PADDING},
};

static void test_invalid(const cJSON *derived)
{
	cJSON *root = load("invalid.json");
	const cJSON *c;
	int i = 0;
	tap_ok(cJSON_GetArraySize(root) == 8, "invalid.json holds 8 cases");
	cJSON_ArrayForEach(c, root) {
		const char *desc = str(c, "desc"), *tok = str(c, "token");
		size_t r = 0;
		while (r < sizeof reasons / sizeof reasons[0] && strcmp(reasons[r].desc, desc))
			r++;
		if (r == sizeof reasons / sizeof reasons[0]) {
			tap_ok(0, "invalid #%d: an unknown reason \"%s\"", i++, desc);
			continue;
		}
		struct fernet_key k = parse(str(c, "secret"));
		unsigned char *m = (unsigned char *)"untouched";
		size_t n = 1;
		enum fernet_status st =
			fernet_decrypt(&k, tok, strlen(tok), now_of(derived, "invalid.json", i),
				       (uint64_t)num(c, "ttl_sec"), &m, &n, NULL);
		tap_ok(st == reasons[r].want && !m && !n, "invalid #%d, %s: %s", i, desc,
		       fernet_status_text(reasons[r].want));
		if (st != reasons[r].want)
			tap_diag("  got %s", fernet_status_text(st));
		fernet_key_wipe(&k);
		i++;
	}
	cJSON_Delete(root);
}

static void test_keys(void)
{
	struct fernet_key k, k2;
	char text[FERNET_KEY_TEXT_LEN + 1], bad[80];
	tap_ok(!fernet_key_parse(&k, VKEY, 44), "the vector key (44 characters) parses");
	fernet_key_format(&k, text);
	tap_ok(!strcmp(text, VKEY), "and formats back to the same text");
	tap_ok(!fernet_key_parse(&k2, VKEY, 43) && !memcmp(&k, &k2, sizeof k),
	       "43 characters (no '=') give the same key");
	tap_ok(k.sign[0] == 0x73 && k.sign[15] == 0x87 && k.enc[0] == 0xf7 && k.enc[15] == 0xee,
	       "signing key first, encryption key last");
	const size_t lens[] = {0, 42, 45, 64};
	snprintf(bad, sizeof bad, "%sAAAAAAAAAAAAAAAAAAAA", VKEY);
	for (size_t i = 0; i < sizeof lens / sizeof lens[0]; i++)
		tap_ok(fernet_key_parse(&k2, bad, lens[i]) == -1, "a %zu-character key is rejected",
		       lens[i]);
	const struct {
		int at;
		char c;
		const char *why;
	} edits[] = {
		{2, '/', "the standard alphabet's '/'"}, {10, '+', "the standard alphabet's '+'"},
		{5, '%', "'%'"},			  {20, '=', "'=' in the middle"},
		{43, 'A', "44 characters without '=' (33 bytes)"},
		{42, '5', "nonzero unused bits in the last character"},
		{0, ' ', "a space"},
	};
	for (size_t i = 0; i < sizeof edits / sizeof edits[0]; i++) {
		snprintf(bad, sizeof bad, "%s", VKEY);
		bad[edits[i].at] = edits[i].c;
		tap_ok(fernet_key_parse(&k2, bad, 44) == -1, "a key with %s is rejected",
		       edits[i].why);
	}
	tap_ok(fernet_key_parse(&k2, NULL, 44) == -1, "a NULL key text is rejected");
	tap_ok(!fernet_key_generate(&k) && !fernet_key_generate(&k2) && memcmp(&k, &k2, sizeof k),
	       "two generated keys differ");
	fernet_key_format(&k, text);
	tap_ok(strlen(text) == 44 && text[43] == '=' && !fernet_key_parse(&k2, text, 44) &&
		       !memcmp(&k, &k2, sizeof k),
	       "a generated key round-trips through its text (%zu characters)", strlen(text));
	fernet_key_wipe(&k);
	static const struct fernet_key zero;
	tap_ok(!memcmp(&k, &zero, sizeof k), "fernet_key_wipe zeroes the key");
}

/* Encrypts msg at time t and decrypts at now with ttl: the status. */
static enum fernet_status trip(const struct fernet_key *k, const void *msg, size_t n,
			       uint64_t t, uint64_t now, uint64_t ttl)
{
	char *tok = NULL;
	unsigned char *m = NULL;
	size_t mn = 0;
	enum fernet_status st = fernet_encrypt(k, msg, n, t, NULL, &tok);
	if (!st)
		st = fernet_decrypt(k, tok, strlen(tok), now, ttl, &m, &mn, NULL);
	if (!st && (mn != n || memcmp(m, msg, n)))
		st = FERNET_CRYPTO;
	drop(m, mn);
	free(tok);
	return st;
}

static void test_time(const struct fernet_key *k)
{
	const uint64_t T = 1800000000;
	TAP_EQ_INT(trip(k, "x", 1, T, T + 60, 60), FERNET_OK, "ts + ttl == now: still valid");
	TAP_EQ_INT(trip(k, "x", 1, T, T + 61, 60), FERNET_EXPIRED, "ts + ttl < now: expired");
	TAP_EQ_INT(trip(k, "x", 1, T + 60, T, 60), FERNET_OK, "60 s ahead: within the skew");
	TAP_EQ_INT(trip(k, "x", 1, T + 61, T, 60), FERNET_FUTURE, "61 s ahead: from the future");
	TAP_EQ_INT(trip(k, "x", 1, T, T + 100000000, 0), FERNET_OK, "ttl 0: age is not checked");
	TAP_EQ_INT(trip(k, "x", 1, T + 100000, T, 0), FERNET_OK, "ttl 0: skew is not checked");
	TAP_EQ_INT(trip(k, "x", 1, 10, 20, UINT64_MAX), FERNET_OK,
		   "ts + ttl past 2^64 does not wrap into an expiry");
	TAP_EQ_INT(trip(k, "x", 1, UINT64_MAX - 10, UINT64_MAX - 5, 60), FERNET_OK,
		   "now + skew past 2^64 does not wrap into the future");
	TAP_EQ_INT(trip(k, "x", 1, UINT64_MAX, 5, 60), FERNET_FUTURE,
		   "the largest timestamp is from the future");
	uint64_t ts = 0;
	tap_ok(!fernet_token_time(VTOKEN, strlen(VTOKEN), &ts) && ts == VTIME,
	       "fernet_token_time reads the vector's timestamp");
	tap_ok(fernet_token_time(VTOKEN, 11, &ts) == -1 &&
		       fernet_token_time("AAAAAAAAAAAA", 12, &ts) == -1 &&
		       fernet_token_time("gAAAAAAdwJ6%", 12, &ts) == -1,
	       "fernet_token_time refuses short, wrong-version and non-base64 text");
}

/* Decodes tok, flips one byte (xor x) at off, encodes it back. */
static char *alter(const char *tok, size_t off, unsigned char x)
{
	size_t n = strlen(tok), rn;
	unsigned char *raw = malloc(n / 4 * 3 + 3);
	char *out = malloc(n + 1);
	if (!raw || !out || b64_decode(tok, n, raw, &rn, 1) || off >= rn) {
		free(raw);
		free(out);
		return NULL;
	}
	raw[off] ^= x;
	b64_encode(raw, rn, out, 1, 1);
	free(raw);
	return out;
}

static enum fernet_status dec_status(const struct fernet_key *k, const char *tok)
{
	unsigned char *m = NULL;
	size_t n = 0;
	if (!tok)
		return FERNET_CRYPTO;
	enum fernet_status st = fernet_decrypt(k, tok, strlen(tok), VTIME, 0, &m, &n, NULL);
	drop(m, n);
	return st;
}

static void test_tokens(const struct fernet_key *vk)
{
	struct fernet_key k, other;
	char *a = NULL, *b = NULL, *t;
	unsigned char ra[120], rb[120], *m = NULL;
	size_t na, nb, n = 0;
	fernet_key_generate(&k);
	fernet_key_generate(&other);

	fernet_encrypt(&k, "same", 4, VTIME, NULL, &a);
	fernet_encrypt(&k, "same", 4, VTIME, NULL, &b);
	tap_ok(a && b && strcmp(a, b) && !b64_decode(a, strlen(a), ra, &na, 1) &&
		       !b64_decode(b, strlen(b), rb, &nb, 1) && memcmp(ra + 9, rb + 9, 16),
	       "two encryptions of one message take different random IVs");
	TAP_EQ_INT(dec_status(&k, a), FERNET_OK, "and each decrypts");
	TAP_EQ_INT(dec_status(&other, a), FERNET_BAD_MAC, "a token under another key: BAD_MAC");
	free(b);
	b = NULL;

	tap_ok(!fernet_encrypt(&k, "", 0, VTIME, NULL, &b) && strlen(b) == b64_encoded_len(73, 1) &&
		       !fernet_decrypt(&k, b, strlen(b), VTIME, 60, &m, &n, NULL) && n == 0 &&
		       m && m[0] == '\0',
	       "the empty message: a 73-byte token that decrypts to 0 bytes");
	drop(m, n);
	free(b);
	b = NULL;

	/* 25 + 2 * 16 + 32 bytes: an exact block gets a whole block of padding */
	tap_ok(!fernet_encrypt(&k, "0123456789abcdef", 16, VTIME, NULL, &b) &&
		       strlen(b) == b64_encoded_len(89, 1),
	       "16 bytes take two blocks (a full block of padding)");
	TAP_EQ_INT(dec_status(&k, b), FERNET_OK, "and decrypt");
	free(b);

	/* One byte changed anywhere the MAC covers, or in the MAC itself */
	const struct {
		size_t off;
		const char *what;
	} spots[] = {{1, "timestamp"}, {8, "timestamp's last byte"}, {9, "IV"},
		     {30, "ciphertext"}, {60, "HMAC"}, {72, "HMAC's last byte"}};
	for (size_t i = 0; i < sizeof spots / sizeof spots[0]; i++) {
		t = alter(a, spots[i].off, 0x01);
		TAP_EQ_INT(dec_status(&k, t), FERNET_BAD_MAC, spots[i].what);
		free(t);
	}
	t = alter(a, 0, 0x01);
	TAP_EQ_INT(dec_status(&k, t), FERNET_BAD_VERSION, "version 0x81: BAD_VERSION");
	free(t);
	t = alter(a, 0, 0x80);
	TAP_EQ_INT(dec_status(&k, t), FERNET_BAD_VERSION, "version 0x00: BAD_VERSION");
	free(t);

	size_t al = strlen(a);
	tap_ok(dec_status(&k, (t = strndup(a, al - 2))) == FERNET_OK,
	       "a token without its '=' padding is accepted (padding is optional)");
	free(t);
	t = strdup(a);
	t[al - 1] = '\n';
	TAP_EQ_INT(dec_status(&k, t), FERNET_BAD_BASE64, "a newline in the token: BAD_BASE64");
	free(t);
	TAP_EQ_INT(fernet_decrypt(vk, NULL, 0, 0, 0, &m, &n, NULL), FERNET_BAD_BASE64,
		   "a NULL token: BAD_BASE64");
	TAP_EQ_INT(dec_status(vk, ""), FERNET_TOO_SHORT, "an empty token: TOO_SHORT");
	/* version 0x80 and zeros: the size decides */
	const struct {
		size_t n;
		enum fernet_status want;
		const char *why;
	} sizes[] = {{56, FERNET_TOO_SHORT, "56 bytes: no room for the MAC"},
		     {57, FERNET_TOO_SHORT, "57 bytes: no ciphertext"},
		     {58, FERNET_BAD_SIZE, "58 bytes: a 1-byte ciphertext"},
		     {72, FERNET_BAD_SIZE, "72 bytes: a 15-byte ciphertext"},
		     {74, FERNET_BAD_SIZE, "74 bytes: 17"}};
	for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
		char enc[120];
		memset(ra, 0, sizeof ra);
		ra[0] = 0x80;
		b64_encode(ra, sizes[i].n, enc, 1, 1);
		TAP_EQ_INT(dec_status(vk, enc), sizes[i].want, sizes[i].why);
	}
	free(a);

	int mute = 0;
	for (int s = FERNET_OK; s <= FERNET_CRYPTO; s++)
		mute += strlen(fernet_status_text((enum fernet_status)s)) < 2;
	TAP_EQ_INT(mute, 0, "every status has a phrase");
	fernet_key_wipe(&k);
	fernet_key_wipe(&other);
}

/* 64 KiB of numbered lines. */
static char *big_message(size_t *n)
{
	char *s = malloc(65536 + 64);
	size_t o = 0;
	for (int i = 0; s && o < 65536; i++)
		o += (size_t)sprintf(s + o, "line %05d: caf\xc3\xa9 \t d\xc3\xa9j\xc3\xa0\r\n", i);
	*n = 65536;
	return s;
}

static void test_big(void)
{
	struct fernet_key k;
	size_t n;
	char *s = big_message(&n);
	fernet_key_generate(&k);
	TAP_EQ_INT(trip(&k, s, n, VTIME, VTIME + 1, 60), FERNET_OK,
		   "a 64 KiB multi-line message round-trips");
	free(s);
	fernet_key_wipe(&k);
}

/* Python's cryptography.fernet. The request (operation, key, one item a
 * line) is its stdin, from a mkstemp file: no key on a command line. */
static const char py_script[] =
	"import sys\n"
	"from cryptography.fernet import Fernet\n"
	"lines = sys.stdin.read().split('\\n')\n"
	"f = Fernet(lines[1].encode())\n"
	"for x in lines[2:-1]:\n"
	"    if lines[0] == 'decrypt':\n"
	"        print(f.decrypt(x.encode()).hex())\n"
	"    else:\n"
	"        print(f.encrypt(bytes.fromhex(x)).decode())\n";

static void hex(FILE *f, const void *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		fprintf(f, "%02x", ((const unsigned char *)p)[i]);
	fputc('\n', f);
}

/* py_script on the request in req (tap_python). */
static char *python(const char *req)
{
	return tap_python(py_script, req, "cryptography.fernet");
}

#define MSG(s, what) {s, sizeof s - 1, what}
static const struct {
	const char *p;
	size_t n;
	const char *what;
} interop[] = {
	MSG("hello", "ASCII"),
	MSG("", "empty"),
	MSG("line one\nline two\r\n\nlast\n", "multi-line"),
	MSG("caf\xc3\xa9 \xe2\x82\xac \xff\xfe\x00\x80 raw", "non-ASCII and non-UTF-8 bytes"),
	MSG("0123456789abcdef", "one whole block"),
};
#define N_INTEROP (sizeof interop / sizeof interop[0])

static void test_python(void)
{
	char req[4096], text[FERNET_KEY_TEXT_LEN + 1];
	char *toks[N_INTEROP] = {0};
	struct fernet_key k;
	uint64_t before = (uint64_t)clk_now();
	fernet_key_generate(&k);
	fernet_key_format(&k, text);

	/* Ours, decrypted by Python. */
	tap_tmp_name(req, sizeof req, "req");
	int fd = mkstemp(req);
	FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
	if (!f) {
		tap_ok(0, "a temporary file for python3");
		return;
	}
	fprintf(f, "decrypt\n%s\n", text);
	for (size_t i = 0; i < N_INTEROP; i++) {
		fernet_encrypt(&k, interop[i].p, interop[i].n, before, NULL, &toks[i]);
		fprintf(f, "%s\n", toks[i]);
	}
	fclose(f);
	char *got = python(req), *line = got, *nl;
	for (size_t i = 0; i < N_INTEROP; i++) {
		char want[64] = "";
		for (size_t j = 0; j < interop[i].n; j++)
			sprintf(want + 2 * j, "%02x", (unsigned char)interop[i].p[j]);
		strcat(want, "\n");
		size_t wn = strlen(want);
		nl = line ? strchr(line, '\n') : NULL;
		tap_ok(nl && (size_t)(nl - line + 1) == wn && !strncmp(line, want, wn),
		       "python decrypts our token: %s", interop[i].what);
		line = nl ? nl + 1 : NULL;
		free(toks[i]);
	}
	free(got);

	/* Python's, decrypted by us. */
	if ((f = fopen(req, "w"))) {
		fprintf(f, "encrypt\n%s\n", text);
		for (size_t i = 0; i < N_INTEROP; i++)
			hex(f, interop[i].p, interop[i].n);
		fclose(f);
	}
	got = f ? python(req) : NULL;
	line = got;
	for (size_t i = 0; i < N_INTEROP; i++) {
		unsigned char *m = NULL;
		size_t n = 0;
		uint64_t ts = 0, now = (uint64_t)clk_now();
		nl = line ? strchr(line, '\n') : NULL;
		enum fernet_status st = nl ? fernet_decrypt(&k, line, (size_t)(nl - line), now, 60,
							    &m, &n, &ts)
					   : FERNET_BAD_BASE64;
		tap_ok(st == FERNET_OK && n == interop[i].n && !memcmp(m, interop[i].p, n) &&
			       ts >= before && ts <= now,
		       "we decrypt python's token: %s (%s)", interop[i].what,
		       fernet_status_text(st));
		drop(m, n);
		line = nl ? nl + 1 : NULL;
	}
	free(got);
	unlink(req);
	fernet_key_wipe(&k);
}

int main(void)
{
	cJSON *derived = load("derived_fields.json");
	struct fernet_key vk = parse(VKEY);
	tap_ok(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(derived, "cases")) == 10,
	       "derived_fields.json holds the 10 cases");
	test_generate(derived);
	test_verify(derived);
	test_invalid(derived);
	cJSON_Delete(derived);
	test_keys();
	test_time(&vk);
	test_tokens(&vk);
	test_big();
	test_python();
	fernet_key_wipe(&vk);
	return tap_done();
}
