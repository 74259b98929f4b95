/* RS256 JWS: RFC 7515 A.2 reproduced byte for byte from tests/vectors/jwt
 * with both PEM forms of its key, the keys and texts refused, Google's
 * header and claims, and a token of ours checked by Python's PyJWT
 * (Debian's python3-jwt) against the public half of the key. */
#include "core/b64.h"
#include "core/buf.h"
#include "core/clock.h"
#include "core/spawn.h"
#include "auth/jwt.h"
#include "vendor/google/google.h"
#include "tap.h"

#include <cjson/cJSON.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char *slurp(const char *name, unsigned long *len)
{
	char path[4096];
	snprintf(path, sizeof path, "%s/jwt/%s", tap_vectors(), name);
	char *text = tap_slurp(path, len);
	if (!text)
		tap_diag("cannot read %s", path);
	return text;
}

static const char *str(const cJSON *c, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(c, key);
	return cJSON_IsString(v) ? v->valuestring : "";
}

/* An array of byte values ("payload_octets") into b. */
static void octets(const cJSON *c, const char *key, struct buf *b)
{
	const cJSON *v;
	cJSON_ArrayForEach(v, cJSON_GetObjectItemCaseSensitive(c, key))
		buf_addc(b, (char)v->valueint);
}

static struct jwt_key *load(const char *name, struct rt_err *e)
{
	unsigned long n = 0;
	char *pem = slurp(name, &n);
	err_clear(e);
	struct jwt_key *k = pem ? jwt_key_from_pem(pem, n, e) : NULL;
	free(pem);
	return k;
}

static void test_a2(const cJSON *v)
{
	struct buf hdr, pay;
	buf_init(&hdr, 0);
	buf_init(&pay, 0);
	octets(v, "protected_header_octets", &hdr);
	octets(v, "payload_octets", &pay);
	TAP_EQ_INT(hdr.len, 15, "A.2 header: 15 octets");
	TAP_EQ_INT(pay.len, 70, "A.2 payload: 70 octets");
	tap_ok(!strcmp(hdr.data, str(v, "protected_header_utf8")) &&
		       !strcmp(pay.data, str(v, "payload_utf8")) && strstr(pay.data, "\r\n "),
	       "the octets are the UTF-8 texts, CRLFs and leading spaces included");

	const char *si = str(v, "signing_input"), *sig = str(v, "signature_b64url");
	const char *files[] = {"rfc7515_a2_private_pkcs8.pem", "rfc7515_a2_private_pkcs1.pem"};
	const char *forms[] = {"PKCS#8", "PKCS#1"};
	for (int i = 0; i < 2; i++) {
		struct rt_err e;
		struct jwt_key *k = load(files[i], &e);
		tap_ok(k != NULL, "%s: the A.2 key loads (%s)", forms[i], k ? "ok" : e.msg);
		struct buf out;
		buf_init(&out, 0);
		buf_adds(&out, "prefix:"); /* appended after what out held */
		int rc = k ? jwt_sign_rs256(k, hdr.data, hdr.len, pay.data, pay.len, &out, &e) : -1;
		const char *jws = out.data + 7;
		const char *dot = rc ? NULL : strrchr(jws, '.');
		tap_ok(!rc && !strncmp(out.data, "prefix:", 7), "%s: signed, appended to out",
		       forms[i]);
		tap_ok(dot && (size_t)(dot - jws) == strlen(si) && !strncmp(jws, si, strlen(si)),
		       "%s: the signing input is A.2's byte for byte", forms[i]);
		tap_ok(dot && !strcmp(dot + 1, sig), "%s: the signature is A.2's signature_b64url",
		       forms[i]);
		if (dot && strcmp(dot + 1, sig))
			tap_diag("  got %s", dot + 1);
		tap_ok(!rc && !strcmp(jws, str(v, "compact_jws")), "%s: the compact JWS is A.2's",
		       forms[i]);
		buf_free(&out);
		jwt_key_free(k);
	}

	/* signature_hex and signature_b64url are the same 256 bytes */
	const char *hex = str(v, "signature_hex");
	unsigned char raw[256], dec[300];
	size_t dn = 0;
	for (int i = 0; i < 256 && strlen(hex) == 512; i++)
		sscanf(hex + 2 * i, "%2hhx", &raw[i]);
	tap_ok(strlen(hex) == 512 && !b64_decode(sig, strlen(sig), dec, &dn, 1) && dn == 256 &&
		       !memcmp(raw, dec, 256),
	       "signature_hex is signature_b64url decoded (256 bytes)");
	buf_free(&hdr);
	buf_free(&pay);
}

/* PEM text of a freshly made key: an EC key, a small RSA key, an encrypted one. */
static char *pem_of(EVP_PKEY *pk, int encrypted, size_t *n)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *p = NULL;
	long len;
	char pass[] = "not-a-real-passphrase";
	int ok = encrypted ? PEM_write_bio_PKCS8PrivateKey(b, pk, EVP_aes_128_cbc(), pass,
							   (int)strlen(pass), NULL, NULL)
			   : PEM_write_bio_PrivateKey(b, pk, NULL, NULL, 0, NULL, NULL);
	if (ok && (len = BIO_get_mem_data(b, &p)) > 0) {
		*n = (size_t)len;
		p = strndup(p, (size_t)len);
	} else {
		p = NULL;
	}
	BIO_free(b);
	EVP_PKEY_free(pk);
	return p;
}

static void refused(const char *text, size_t n, const char *what, const char *want)
{
	struct rt_err e;
	err_clear(&e);
	struct jwt_key *k = jwt_key_from_pem(text, n, &e);
	tap_ok(!k && e.kind == ERR_CONFIG && strstr(e.msg, want), "refused: %s (\"%s\")", what,
	       e.msg);
	jwt_key_free(k);
}

/* For tap_child. */
static void free_null(void *unused)
{
	(void)unused;
	jwt_key_free(NULL);
}

static void load_and_free(void *pem)
{
	struct rt_err e;
	err_clear(&e);
	struct jwt_key *k = jwt_key_from_pem(pem, strlen(pem), &e);
	if (!k)
		_exit(3);
	jwt_key_free(k);
}

static void test_refused(void)
{
	unsigned long n = 0;
	char *pub = slurp("rfc7515_a2_public_spki.pem", &n);
	char *priv = slurp("rfc7515_a2_private_pkcs8.pem", NULL);
	refused(pub ? pub : "", n, "the public half (SPKI PEM)", "public key");
	refused("", 0, "empty text", "empty");
	refused(NULL, 0, "no text", "empty");
	refused("hello, world\n", 13, "text that is not PEM", "not PEM");
	refused("-----BEGIN PRIVATE KEY-----\nnot base64 at all!\n-----END PRIVATE KEY-----\n",
		71, "a PEM block of garbage", "cannot be read");
	if (priv) {
		char *cut = strdup(priv);
		size_t l = strlen(cut);
		cut[l / 2] = 0;
		refused(cut, l / 2, "a PEM cut in half", "cannot be read");
		strcpy(cut, priv);
		cut[200] = cut[200] == 'A' ? 'B' : 'A'; /* inside n: still parses */
		char *end = strstr(cut, "-----END");
		refused(cut, end ? (size_t)(end - cut) + 26 : l,
			"a PEM with one character of the modulus changed", "not consistent");
		free(cut);
	}
	refused("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n", 58,
		"a certificate", "certificate");

	size_t pn = 0;
	char *p = pem_of(EVP_EC_gen("P-256"), 0, &pn);
	refused(p, pn, "an EC key", "RSA key");
	free(p);
	p = pem_of(EVP_RSA_gen(1024), 0, &pn);
	refused(p, pn, "a 1024-bit RSA key", "1024 bits");
	free(p);
	p = pem_of(EVP_RSA_gen(2048), 1, &pn);
	refused(p, pn, "an encrypted PKCS#8 key, without asking for a passphrase", "encrypted");
	free(p);
	tap_ok(priv && tap_child(load_and_free, priv) == 0,
	       "a key loaded and freed with jwt_key_free: a child doing it ends cleanly");
	free(pub);
	free(priv);

	struct rt_err e;
	struct buf out;
	buf_init(&out, 0);
	buf_adds(&out, "kept");
	err_clear(&e);
	tap_ok(jwt_sign_rs256(NULL, "{}", 2, "{}", 2, &out, &e) == -1 && !strcmp(out.data, "kept"),
	       "signing without a key fails and leaves out as it was");
	buf_free(&out);
	TAP_EQ_INT(tap_child(free_null, NULL), 0,
		   "jwt_key_free(NULL) is harmless: a child calling it ends cleanly (no crash, no "
		   "sanitizer report)");
	jwt_key_free(NULL); /* and here: a crash would end the whole test program */
}

/* What jwt_sign_rs256 leaves in memory. A failure puts out back as it was
 * and wipes what it had added there. The raw signature's buffer is wiped
 * before it is freed: with glibc's allocator the next block of its size is
 * that same block (its first 16 bytes reused by the allocator), so it must
 * not hold the signature's bytes; under ASan, whose allocator keeps freed
 * blocks aside, that check passes without showing anything. */
static void test_leftovers(void)
{
	struct rt_err e;
	struct jwt_key *k = load("rfc7515_a2_private_pkcs8.pem", &e);
	const char *hdr = "{\"alg\":\"RS256\",\"typ\":\"JWT\"}";
	const char *pay = "{\"iss\":\"reader@maple.iam.gserviceaccount.com\",\"iat\":1}";
	size_t hl = strlen(hdr), pl = strlen(pay);
	size_t input = b64_encoded_len(hl, 0) + 1 + b64_encoded_len(pl, 0);

	/* room for the signing input and its '.', not for the signature */
	struct buf out;
	buf_init(&out, 5 + input + 1 + 40);
	buf_adds(&out, "kept:");
	err_clear(&e);
	int rc = k ? jwt_sign_rs256(k, hdr, hl, pay, pl, &out, &e) : 0;
	size_t dirty = 0; /* the signing input and its '.' were written after "kept:" */
	for (size_t i = 5; out.data && i < 5 + input + 1 && i < out.size; i++)
		dirty += out.data[i] != 0;
	tap_ok(rc == -1 && e.kind == ERR_IO && !strcmp(out.data, "kept:"),
	       "a JWT over out's cap fails and leaves out as it was (%s)", e.msg);
	tap_ok(rc == -1 && dirty == 0, "what the failed call had added to out is wiped");
	if (dirty)
		tap_diag("  %zu bytes left after the kept text", dirty);
	buf_free(&out);

	jwt_key_free(k);
}

static void test_google_json(void)
{
	struct buf b;
	buf_init(&b, 0);
	google_jwt_header(&b, "3b2f0c9d8e7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c");
	tap_ok(!strcmp(b.data, "{\"alg\":\"RS256\",\"typ\":\"JWT\",\"kid\":"
			       "\"3b2f0c9d8e7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c\"}"),
	       "Google's header with kid");
	buf_reset(&b);
	google_jwt_header(&b, NULL);
	tap_ok(!strcmp(b.data, "{\"alg\":\"RS256\",\"typ\":\"JWT\"}"), "without a key id: no kid");

	struct google_claims c = {"reader@maple.iam.gserviceaccount.com", "sync-admin@mapleridge.example",
			       "https://www.googleapis.com/auth/a https://www.googleapis.com/auth/b",
			       "https://oauth2.googleapis.com/token", 1725330000, 1725333600};
	buf_reset(&b);
	tap_ok(!google_jwt_claims(&b, &c) &&
		       !strcmp(b.data, "{\"iss\":\"reader@maple.iam.gserviceaccount.com\","
				       "\"sub\":\"sync-admin@mapleridge.example\","
				       "\"scope\":\"https://www.googleapis.com/auth/a "
				       "https://www.googleapis.com/auth/b\","
				       "\"aud\":\"https://oauth2.googleapis.com/token\","
				       "\"iat\":1725330000,\"exp\":1725333600}"),
	       "the claims, in order, exp = iat + 3600");
	c.sub = NULL;
	buf_reset(&b);
	tap_ok(!google_jwt_claims(&b, &c) && !strstr(b.data, "sub"), "without a subject: no sub");
	c.sub = "a\"b\\c";
	buf_reset(&b);
	tap_ok(!google_jwt_claims(&b, &c) && strstr(b.data, "\"sub\":\"a\\\"b\\\\c\""),
	       "strings are JSON-escaped");
	c.exp = c.iat + 3601;
	tap_ok(google_jwt_claims(&b, &c) == -1, "exp more than an hour after iat is refused");
	c.exp = c.iat;
	tap_ok(google_jwt_claims(&b, &c) == -1, "exp not after iat is refused");
	c.exp = c.iat + 60;
	c.aud = NULL;
	tap_ok(google_jwt_claims(&b, &c) == -1, "a missing aud is refused");
	buf_free(&b);
}

/* PyJWT checks the token (signature, aud, exp) with the public PEM; a
 * token with one signature character changed must fail. The request is
 * stdin, from a mkstemp file: public key path, token, altered token. */
static const char py_script[] =
	"import sys, json, jwt\n"
	"lines = sys.stdin.read().split('\\n')\n"
	"pub = open(lines[0], 'rb').read()\n"
	"h = jwt.get_unverified_header(lines[1])\n"
	"c = jwt.decode(lines[1], pub, algorithms=['RS256'],\n"
	"               audience='https://oauth2.googleapis.com/token')\n"
	"print(json.dumps({'header': h, 'claims': c}, sort_keys=True))\n"
	"try:\n"
	"    jwt.decode(lines[2], pub, algorithms=['RS256'],\n"
	"               audience='https://oauth2.googleapis.com/token')\n"
	"    print('altered: accepted')\n"
	"except jwt.InvalidSignatureError:\n"
	"    print('altered: invalid signature')\n";

/* py_script on the request in req (tap_python). */
static char *python(const char *req)
{
	return tap_python(py_script, req, "jwt (PyJWT)");
}

static void test_python(void)
{
	struct rt_err e;
	struct jwt_key *k = load("rfc7515_a2_private_pkcs8.pem", &e);
	long long now = (long long)clk_now();
	struct google_claims c = {"roster-reader@mapleridge-roster.iam.gserviceaccount.com",
			       "sync-admin@mapleridge.example",
			       "https://www.googleapis.com/auth/admin.directory.user.readonly "
			       "https://www.googleapis.com/auth/admin.directory.orgunit.readonly",
			       "https://oauth2.googleapis.com/token", now, now + 3600};
	struct buf h, p, tok;
	buf_init(&h, 0);
	buf_init(&p, 0);
	buf_init(&tok, 0);
	google_jwt_header(&h, "a2-test-key");
	google_jwt_claims(&p, &c);
	int rc = k ? jwt_sign_rs256(k, h.data, h.len, p.data, p.len, &tok, &e) : -1;
	tap_ok(!rc, "a Google-style token is signed");

	char req[4096];
	tap_tmp_name(req, sizeof req, "req");
	int fd = mkstemp(req);
	FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
	if (!f || rc) {
		tap_ok(0, "a temporary file for python3");
		if (f)
			fclose(f);
	} else {
		char *alt = strdup(tok.data);
		size_t l = strlen(alt);
		alt[l - 5] = alt[l - 5] == 'A' ? 'B' : 'A';
		fprintf(f, "%s/jwt/rfc7515_a2_public_spki.pem\n%s\n%s\n", tap_vectors(), tok.data,
			alt);
		fclose(f);
		free(alt);
		char *got = python(req);
		char want[1024];
		snprintf(want, sizeof want,
			 "{\"claims\": {\"aud\": \"%s\", \"exp\": %lld, \"iat\": %lld, \"iss\": \"%s\", "
			 "\"scope\": \"%s\", \"sub\": \"%s\"}, \"header\": {\"alg\": \"RS256\", "
			 "\"kid\": \"a2-test-key\", \"typ\": \"JWT\"}}\n",
			 c.aud, c.exp, c.iat, c.iss, c.scope, c.sub);
		char *nl = got ? strchr(got, '\n') : NULL;
		tap_ok(nl && !strncmp(got, want, strlen(want)),
		       "PyJWT verifies our token with the public key: header and claims as sent");
		if (got && strncmp(got, want, strlen(want)))
			tap_diag("  got %s", got);
		tap_ok(nl && !strcmp(nl + 1, "altered: invalid signature\n"),
		       "PyJWT refuses the token with one signature character changed");
		free(got);
	}
	unlink(req);
	buf_free(&h);
	buf_free(&p);
	buf_free(&tok);
	jwt_key_free(k);
}

int main(void)
{
	unsigned long n = 0;
	char *text = slurp("rfc7515_a2_rs256.json", &n);
	cJSON *v = text ? cJSON_ParseWithLength(text, n) : NULL;
	free(text);
	tap_ok(v && !strcmp(str(v, "alg"), "RS256"), "rfc7515_a2_rs256.json reads");
	test_a2(v);
	cJSON_Delete(v);
	test_refused();
	test_leftovers();
	test_google_json();
	test_python();
	return tap_done();
}
