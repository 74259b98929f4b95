/* The SFTP client's login (net/sftp.h): a private key as OpenSSH reads
 * it, RSA keys signed rsa-sha2-512/256 with OpenSSL (libssh2 1.10 signs
 * them with SHA-1 only, which OpenSSH 8.8 and later refuse), passwords and
 * keyboard-interactive. */
#include "net/sftp_int.h"
#include "core/b64.h"
#include "core/buf.h"
#include "core/secfile.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>

#define KEY_CAP (64 * 1024) /* a private key file is a few kilobytes */

static int has_method(const char *list, const char *m)
{
	size_t n = strlen(m);
	for (const char *p = list; p && *p;) {
		size_t len = strcspn(p, ",");
		if (len == n && !memcmp(p, m, n))
			return 1;
		p += len;
		if (*p == ',')
			p++;
	}
	return 0;
}

/* keyboard-interactive with the password as the answer to every prompt. */
static void kbd_cb(const char *name, int name_len, const char *instruction, int instruction_len,
		   int num_prompts, const LIBSSH2_USERAUTH_KBDINT_PROMPT *prompts,
		   LIBSSH2_USERAUTH_KBDINT_RESPONSE *responses, void **abstract)
{
	(void)name, (void)name_len, (void)instruction, (void)instruction_len, (void)prompts;
	const char *pw = *abstract;
	for (int i = 0; i < num_prompts; i++) {
		/* libssh2 frees the answer with its allocator, the default free */
		responses[i].text = pw ? strdup(pw) : NULL;
		responses[i].length = responses[i].text ? (unsigned)strlen(pw) : 0;
	}
}

static int auth_refused(int rc)
{
	return rc == LIBSSH2_ERROR_AUTHENTICATION_FAILED ||
	       rc == LIBSSH2_ERROR_PUBLICKEY_UNVERIFIED || rc == LIBSSH2_ERROR_METHOD_NONE;
}

/* What we learn of a private key before handing it to libssh2. */
struct key_info {
	int openssh;       /* "BEGIN OPENSSH PRIVATE KEY" */
	int encrypted;     /* needs a passphrase */
	int rsa;           /* an RSA key */
	EVP_PKEY *pk;      /* the RSA key, when OpenSSL can hold it */
};

/* SSH wire reader over the decoded OpenSSH key. */
struct rd {
	const unsigned char *p;
	size_t n;
};

static int rd_u32(struct rd *r, unsigned long *v)
{
	if (r->n < 4)
		return -1;
	*v = (unsigned long)r->p[0] << 24 | (unsigned long)r->p[1] << 16 |
	     (unsigned long)r->p[2] << 8 | r->p[3];
	r->p += 4;
	r->n -= 4;
	return 0;
}

static int rd_str(struct rd *r, const unsigned char **s, size_t *len)
{
	unsigned long l;
	if (rd_u32(r, &l) || l > r->n)
		return -1;
	*s = r->p;
	*len = l;
	r->p += l;
	r->n -= l;
	return 0;
}

static int str_is(const unsigned char *s, size_t len, const char *want)
{
	return len == strlen(want) && !memcmp(s, want, len);
}

/* An RSA key from n, e, d (no CRT values: signing is slower, still fine). */
static EVP_PKEY *rsa_from(struct rd *r)
{
	const unsigned char *v[3];
	size_t l[3];
	for (int i = 0; i < 3; i++)
		if (rd_str(r, &v[i], &l[i]))
			return NULL;
	BIGNUM *bn[3] = { BN_bin2bn(v[0], (int)l[0], NULL), BN_bin2bn(v[1], (int)l[1], NULL),
			  BN_secure_new() };
	EVP_PKEY *pk = NULL;
	OSSL_PARAM_BLD *b = OSSL_PARAM_BLD_new();
	OSSL_PARAM *params = NULL;
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
	if (bn[2] && BN_bin2bn(v[2], (int)l[2], bn[2]) && bn[0] && bn[1] && b && ctx &&
	    OSSL_PARAM_BLD_push_BN(b, OSSL_PKEY_PARAM_RSA_N, bn[0]) &&
	    OSSL_PARAM_BLD_push_BN(b, OSSL_PKEY_PARAM_RSA_E, bn[1]) &&
	    OSSL_PARAM_BLD_push_BN(b, OSSL_PKEY_PARAM_RSA_D, bn[2]) &&
	    (params = OSSL_PARAM_BLD_to_param(b)) && EVP_PKEY_fromdata_init(ctx) > 0 &&
	    EVP_PKEY_fromdata(ctx, &pk, EVP_PKEY_KEYPAIR, params) <= 0)
		pk = NULL;
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(b);
	EVP_PKEY_CTX_free(ctx);
	BN_free(bn[0]);
	BN_free(bn[1]);
	BN_clear_free(bn[2]);
	return pk;
}

/* The unencrypted header of an OpenSSH key says whether it is encrypted
 * and its type; an unencrypted RSA one is read into OpenSSL. */
static void inspect_openssh(const struct buf *key, struct key_info *ki)
{
	const char *b = strstr(key->data, "-----BEGIN OPENSSH PRIVATE KEY-----");
	const char *end = strstr(key->data, "-----END OPENSSH PRIVATE KEY-----");
	if (!b || !end || end < b)
		return;
	ki->openssh = 1;
	b += strlen("-----BEGIN OPENSSH PRIVATE KEY-----");
	size_t n = (size_t)(end - b);
	char *text = malloc(n + 1);
	unsigned char *raw = malloc(n / 4 * 3 + 3);
	size_t tn = 0, rn = 0;
	if (!text || !raw)
		goto done;
	for (const char *p = b; p < end; p++)
		if (*p != '\n' && *p != '\r' && *p != ' ' && *p != '\t')
			text[tn++] = *p;
	if (b64_decode(text, tn, raw, &rn, 0))
		goto done;
	static const char magic[] = "openssh-key-v1";
	struct rd r = { raw, rn };
	const unsigned char *cipher, *kdf, *opts, *pub, *priv, *type;
	size_t cl, kl, ol, pl, vl, tl;
	unsigned long nkeys, c1, c2;
	if (rn < sizeof magic || memcmp(raw, magic, sizeof magic))
		goto done;
	r.p += sizeof magic;
	r.n -= sizeof magic;
	if (rd_str(&r, &cipher, &cl) || rd_str(&r, &kdf, &kl) || rd_str(&r, &opts, &ol) ||
	    rd_u32(&r, &nkeys) || nkeys != 1 || rd_str(&r, &pub, &pl) || rd_str(&r, &priv, &vl))
		goto done;
	ki->encrypted = !str_is(cipher, cl, "none");
	struct rd pr = { pub, pl };
	if (rd_str(&pr, &type, &tl))
		goto done;
	ki->rsa = str_is(type, tl, "ssh-rsa");
	if (ki->encrypted || !ki->rsa)
		goto done;
	struct rd sr = { priv, vl };
	if (rd_u32(&sr, &c1) || rd_u32(&sr, &c2) || c1 != c2 || rd_str(&sr, &type, &tl) ||
	    !str_is(type, tl, "ssh-rsa"))
		goto done;
	ki->pk = rsa_from(&sr);
done:
	if (text)
		explicit_bzero(text, n + 1);
	if (raw)
		explicit_bzero(raw, n / 4 * 3 + 3);
	free(text);
	free(raw);
}

static void inspect_key(const struct buf *key, const char *passphrase, struct key_info *ki)
{
	memset(ki, 0, sizeof *ki);
	inspect_openssh(key, ki);
	if (ki->openssh)
		return;
	ki->encrypted = strstr(key->data, "ENCRYPTED") != NULL;
	BIO *bio = BIO_new_mem_buf(key->data, (int)key->len);
	if (!bio)
		return;
	/* with no callback, OpenSSL takes u as the passphrase */
	EVP_PKEY *pk = PEM_read_bio_PrivateKey(bio, NULL, NULL, (void *)(passphrase ? passphrase : ""));
	BIO_free(bio);
	ERR_clear_error();
	if (pk && EVP_PKEY_is_a(pk, "RSA")) {
		ki->rsa = 1;
		ki->pk = pk;
	} else {
		EVP_PKEY_free(pk);
	}
}

static void put_u32(struct buf *b, size_t v)
{
	unsigned char x[4] = { v >> 24, v >> 16, v >> 8, v };
	buf_add(b, x, 4);
}

static void put_str(struct buf *b, const void *p, size_t n)
{
	put_u32(b, n);
	buf_add(b, p, n);
}

static int put_mpint(struct buf *b, EVP_PKEY *pk, const char *name)
{
	BIGNUM *bn = NULL;
	if (!EVP_PKEY_get_bn_param(pk, name, &bn))
		return -1;
	int n = BN_num_bytes(bn);
	unsigned char *x = malloc((size_t)n + 1);
	if (!x) {
		BN_free(bn);
		return -1;
	}
	x[0] = 0;
	BN_bn2bin(bn, x + 1);
	/* a leading zero byte when the top bit is set (RFC 4251 mpint) */
	int lead = n > 0 && (x[1] & 0x80);
	put_str(b, lead ? x : x + 1, (size_t)n + lead);
	free(x);
	BN_free(bn);
	return 0;
}

struct rsa_signer {
	EVP_PKEY *pk;
	const EVP_MD *md;
};

static LIBSSH2_USERAUTH_PUBLICKEY_SIGN_FUNC(rsa_sign)
{
	(void)session;
	struct rsa_signer *r = *abstract;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	size_t n = 0;
	*sig = NULL;
	if (!ctx || EVP_DigestSignInit(ctx, NULL, r->md, NULL, r->pk) <= 0 ||
	    EVP_DigestSign(ctx, NULL, &n, data, data_len) <= 0 || !(*sig = malloc(n)) ||
	    EVP_DigestSign(ctx, *sig, &n, data, data_len) <= 0) {
		free(*sig);
		*sig = NULL;
		EVP_MD_CTX_free(ctx);
		ERR_clear_error();
		return -1;
	}
	*sig_len = n;
	EVP_MD_CTX_free(ctx);
	return 0;
}

/* libssh2 1.10 signs RSA keys only as "ssh-rsa" (SHA-1), which OpenSSH
 * 8.8 and later refuse by default. libssh2 takes the algorithm name from
 * the blob's first string, so a blob named rsa-sha2-512 (or -256) and our
 * own signature make an RFC 8332 login. 0 in, 1 refused, -1 other error. */
static int auth_rsa_sha2(struct sftp_conn *s, const struct sftp_conf *c, EVP_PKEY *pk)
{
	static const char *algs[] = { "rsa-sha2-512", "rsa-sha2-256" };
	int rc = 1;
	for (int i = 0; i < 2 && rc == 1; i++) {
		struct buf blob;
		buf_init(&blob, 8192);
		put_str(&blob, algs[i], strlen(algs[i]));
		if (put_mpint(&blob, pk, OSSL_PKEY_PARAM_RSA_E) ||
		    put_mpint(&blob, pk, OSSL_PKEY_PARAM_RSA_N) || !blob.data) {
			buf_free(&blob);
			return -1;
		}
		struct rsa_signer rs = { pk, i == 0 ? EVP_sha512() : EVP_sha256() };
		void *abs = &rs;
		int r = libssh2_userauth_publickey(s->ssh, c->user, (unsigned char *)blob.data,
						   blob.len, rsa_sign, &abs);
		buf_free(&blob);
		if (r == 0)
			rc = 0;
		else if (!auth_refused(libssh2_session_last_errno(s->ssh)))
			rc = -1;
	}
	return rc;
}

static int auth_key(struct sftp_conn *s, const struct sftp_conf *c, const char *methods,
		    struct rt_err *e)
{
	struct buf key;
	if (secfile_read(c->key_file, "key file", KEY_CAP, &key, e)) {
		if (errno == ENOENT)
			err_hint(e, "name the private key file (not the .pub)");
		return -1;
	}
	if (!has_method(methods, "publickey")) {
		buf_wipe(&key);
		err_set(e, ERR_AUTH, "%s does not accept key logins for %s (it offers: %s)",
			s->where, c->user, methods);
		err_hint(e, "use a password for this server, or ask its administrator to allow "
			    "public key authentication");
		return -1;
	}
	struct key_info ki;
	inspect_key(&key, c->passphrase, &ki);
	if (ki.encrypted && (!c->passphrase || !*c->passphrase)) {
		buf_wipe(&key);
		EVP_PKEY_free(ki.pk);
		err_set(e, ERR_AUTH, "the key %s is encrypted and no passphrase was given",
			c->key_file);
		err_hint(e, "put the key's passphrase in the credentials store and name it in "
			    "the job");
		return -1;
	}
	int rc = 1;
	if (ki.pk) {
		rc = auth_rsa_sha2(s, c, ki.pk);
		EVP_PKEY_free(ki.pk);
	}
	if (rc == 1) /* not RSA, or a server that wants ssh-rsa itself */
		rc = libssh2_userauth_publickey_frommemory(s->ssh, c->user, strlen(c->user), NULL,
							   0, key.data, key.len,
							   c->passphrase ? c->passphrase : "");
	buf_wipe(&key);
	if (!rc)
		return 0;
	int code;
	const char *m = sftp_ssh_msg(s, &code);
	if (auth_refused(code)) {
		err_set(e, ERR_AUTH, "%s@%s refused the key %s", c->user, s->where, c->key_file);
		err_hint(e, "is the key's .pub line in the server's authorized_keys for %s? is "
			    "the user name right?%s (the server's log says why it refused)",
			 c->user,
			 ki.rsa && ki.encrypted && ki.openssh
				 ? " An encrypted OpenSSH-format RSA key is signed with SHA-1 "
				   "(ssh-rsa), which OpenSSH 8.8 and later refuse: use an ed25519 "
				   "key, or convert this one with ssh-keygen -p -m PEM -f FILE."
				 : "");
		return -1;
	}
	if (sftp_is_net_error(code))
		return sftp_ssh_fail(s, "key authentication", e);
	if (ki.encrypted) {
		err_set(e, ERR_AUTH, "the passphrase does not open the key %s", c->key_file);
		err_hint(e, "is the passphrase in the credentials store the one for this key?");
	} else {
		err_set(e, ERR_CONFIG, "cannot use the key %s: %s", c->key_file, m);
		err_hint(e, "name an OpenSSH or PEM private key (ed25519, RSA or ECDSA)");
	}
	return -1;
}

static int auth_password(struct sftp_conn *s, const struct sftp_conf *c, const char *methods,
			 struct rt_err *e)
{
	int rc;
	if (has_method(methods, "password")) {
		rc = libssh2_userauth_password_ex(s->ssh, c->user, strlen(c->user), c->password,
						  strlen(c->password), NULL);
	} else if (has_method(methods, "keyboard-interactive")) {
		void **abs = libssh2_session_abstract(s->ssh);
		*abs = (void *)c->password;
		rc = libssh2_userauth_keyboard_interactive_ex(s->ssh, c->user, strlen(c->user),
							      kbd_cb);
		*abs = NULL;
	} else {
		err_set(e, ERR_AUTH, "%s does not accept password logins for %s (it offers: %s)",
			s->where, c->user, methods);
		err_hint(e, "use a key (key_file in the job) for this server");
		return -1;
	}
	if (!rc)
		return 0;
	int code;
	sftp_ssh_msg(s, &code);
	if (auth_refused(code)) {
		err_set(e, ERR_AUTH, "%s@%s refused the password", c->user, s->where);
		err_hint(e, "is the password in the credentials store current, and the user name "
			    "right?");
		return -1;
	}
	return sftp_ssh_fail(s, "password authentication", e);
}

int sftp_authenticate(struct sftp_conn *s, const struct sftp_conf *c, struct rt_err *e)
{
	char *methods = libssh2_userauth_list(s->ssh, c->user, strlen(c->user));
	if (!methods) {
		if (libssh2_userauth_authenticated(s->ssh))
			return 0; /* the server took "none" */
		return sftp_ssh_fail(s, "asking which logins the server accepts", e);
	}
	if (c->key_file)
		return auth_key(s, c, methods, e);
	return auth_password(s, c, methods, e);
}
