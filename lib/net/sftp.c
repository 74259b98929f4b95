#include "net/sftp.h"
#include "core/b64.h"
#include "core/buf.h"
#include "core/secfile.h"
#include "core/vec.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <unistd.h>

#include <libssh2.h>
#include <libssh2_sftp.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>

#define KEY_CAP (64 * 1024) /* a private key file is a few kilobytes */
#define CHUNK (64 * 1024)

struct sftp_conn {
	int fd;
	LIBSSH2_SESSION *ssh;
	LIBSSH2_SFTP *sftp;
	char where[300]; /* "host:port" for messages */
	char fp[64];     /* "SHA256:" + 43 characters */
	char khname[300]; /* the host's name in known_hosts */
};

int sftp_global_init(struct rt_err *e)
{
	int rc = libssh2_init(0);
	if (rc) {
		err_set(e, ERR_CONFIG, "libssh2 cannot start (libssh2_init: %d)", rc);
		return -1;
	}
	return 0;
}

void sftp_global_exit(void)
{
	libssh2_exit();
}

const char *sftp_fingerprint(const struct sftp_conn *s)
{
	return s ? s->fp : "";
}

/* libssh2's own words for the last error, for messages. */
static const char *ssh_msg(struct sftp_conn *s, int *code)
{
	char *m = NULL;
	int rc = libssh2_session_last_error(s->ssh, &m, NULL, 0);
	if (code)
		*code = rc;
	return m && *m ? m : "unknown error";
}

static int is_net_error(int rc)
{
	switch (rc) {
	case LIBSSH2_ERROR_SOCKET_NONE:
	case LIBSSH2_ERROR_BANNER_RECV:
	case LIBSSH2_ERROR_BANNER_SEND:
	case LIBSSH2_ERROR_SOCKET_SEND:
	case LIBSSH2_ERROR_SOCKET_DISCONNECT:
	case LIBSSH2_ERROR_TIMEOUT:
	case LIBSSH2_ERROR_SOCKET_TIMEOUT:
	case LIBSSH2_ERROR_SOCKET_RECV:
	case LIBSSH2_ERROR_EAGAIN:
		return 1;
	default:
		return 0;
	}
}

/* A failure of the SSH layer: the connection, or else the session. */
static int ssh_fail(struct sftp_conn *s, const char *doing, struct rt_err *e)
{
	int rc;
	const char *m = ssh_msg(s, &rc);
	if (is_net_error(rc)) {
		err_set(e, ERR_NETWORK, "%s: %s: %s", s->where, doing, m);
		if (rc == LIBSSH2_ERROR_TIMEOUT || rc == LIBSSH2_ERROR_SOCKET_TIMEOUT)
			err_hint(e, "the server did not answer within the timeout; is it up and "
				    "is the network between here and there working?");
	} else {
		err_set(e, ERR_CONFIG, "%s: %s: %s (libssh2 error %d)", s->where, doing, m, rc);
	}
	return -1;
}

static const char *fx_name(unsigned long fx)
{
	switch (fx) {
	case LIBSSH2_FX_OK: return "ok";
	case LIBSSH2_FX_EOF: return "end of file";
	case LIBSSH2_FX_NO_SUCH_FILE: return "no such file";
	case LIBSSH2_FX_PERMISSION_DENIED: return "permission denied";
	case LIBSSH2_FX_FAILURE: return "failure";
	case LIBSSH2_FX_BAD_MESSAGE: return "bad message";
	case LIBSSH2_FX_NO_CONNECTION: return "no connection";
	case LIBSSH2_FX_CONNECTION_LOST: return "connection lost";
	case LIBSSH2_FX_OP_UNSUPPORTED: return "operation not supported";
	case LIBSSH2_FX_INVALID_HANDLE: return "invalid handle";
	case LIBSSH2_FX_NO_SUCH_PATH: return "no such path";
	case LIBSSH2_FX_FILE_ALREADY_EXISTS: return "file already exists";
	case LIBSSH2_FX_WRITE_PROTECT: return "write protected";
	case LIBSSH2_FX_NO_MEDIA: return "no media";
	case LIBSSH2_FX_NO_SPACE_ON_FILESYSTEM: return "no space on the file system";
	case LIBSSH2_FX_QUOTA_EXCEEDED: return "quota exceeded";
	case LIBSSH2_FX_UNKNOWN_PRINCIPAL: return "unknown principal";
	case LIBSSH2_FX_LOCK_CONFLICT: return "lock conflict";
	case LIBSSH2_FX_DIR_NOT_EMPTY: return "folder not empty";
	case LIBSSH2_FX_NOT_A_DIRECTORY: return "not a folder";
	case LIBSSH2_FX_INVALID_FILENAME: return "invalid file name";
	case LIBSSH2_FX_LINK_LOOP: return "link loop";
	default: return "unknown SFTP status";
	}
}

/* A failed SFTP request on path: the server's status when it sent one,
 * else the transport's error. Returns the SFTP status (0 if none). */
static unsigned long sftp_fail(struct sftp_conn *s, const char *doing, const char *path,
			       struct rt_err *e)
{
	int rc;
	const char *m = ssh_msg(s, &rc);
	if (rc == LIBSSH2_ERROR_SFTP_PROTOCOL) {
		unsigned long fx = libssh2_sftp_last_error(s->sftp);
		err_set(e, fx == LIBSSH2_FX_NO_CONNECTION || fx == LIBSSH2_FX_CONNECTION_LOST
				   ? ERR_NETWORK
				   : ERR_IO,
			"%s:%s: %s: %s (SFTP status %lu)", s->where, path, doing, fx_name(fx), fx);
		if (fx == LIBSSH2_FX_PERMISSION_DENIED)
			err_hint(e, "the server does not let this login read it; ask the "
				    "server's administrator for read access");
		else if (fx == LIBSSH2_FX_NO_SUCH_FILE || fx == LIBSSH2_FX_NO_SUCH_PATH)
			err_hint(e, "check the path (relative paths start in the login's home folder)");
		return fx;
	}
	err_set(e, is_net_error(rc) ? ERR_NETWORK : ERR_IO, "%s:%s: %s: %s", s->where, path,
		doing, m);
	return 0;
}

/* A TCP connection to host:port within ms milliseconds. */
static int tcp_connect(const char *host, int port, int ms, const char *where, struct rt_err *e)
{
	char ps[16];
	struct addrinfo hints = { 0 }, *res = NULL;
	snprintf(ps, sizeof ps, "%d", port);
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	int rc = getaddrinfo(host, ps, &hints, &res);
	if (rc) {
		err_set(e, ERR_NETWORK, "cannot connect to %s: %s", where, gai_strerror(rc));
		err_hint(e, "check the host name");
		return -1;
	}
	int fd = -1, last = 0;
	for (struct addrinfo *a = res; a; a = a->ai_next) {
		fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
		if (fd < 0) {
			last = errno;
			continue;
		}
		int fl = fcntl(fd, F_GETFL);
		fcntl(fd, F_SETFL, fl | O_NONBLOCK);
		if (connect(fd, a->ai_addr, a->ai_addrlen) == 0)
			goto connected;
		if (errno == EINPROGRESS) {
			struct pollfd p = { .fd = fd, .events = POLLOUT };
			int n;
			do
				n = poll(&p, 1, ms);
			while (n < 0 && errno == EINTR);
			if (n == 0) {
				last = ETIMEDOUT;
			} else if (n > 0) {
				int soerr = 0;
				socklen_t sl = sizeof soerr;
				if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) == 0 && !soerr)
					goto connected;
				last = soerr ? soerr : errno;
			} else {
				last = errno;
			}
		} else {
			last = errno;
		}
		close(fd);
		fd = -1;
		continue;
connected:
		fcntl(fd, F_SETFL, fl);
		break;
	}
	freeaddrinfo(res);
	if (fd < 0) {
		err_set(e, ERR_NETWORK, "cannot connect to %s: %s", where,
			last == ETIMEDOUT ? "no answer within the timeout" : strerror(last));
		err_hint(e, "is the SFTP server up, the host and port right, and no firewall "
			    "in the way?");
	}
	return fd;
}

/* The known_hosts key types, as the hostkey methods that use them. */
static const struct {
	int type;
	const char *methods;
} key_types[] = {
	{ LIBSSH2_KNOWNHOST_KEY_ED25519, "ssh-ed25519" },
	{ LIBSSH2_KNOWNHOST_KEY_ECDSA_256, "ecdsa-sha2-nistp256" },
	{ LIBSSH2_KNOWNHOST_KEY_ECDSA_384, "ecdsa-sha2-nistp384" },
	{ LIBSSH2_KNOWNHOST_KEY_ECDSA_521, "ecdsa-sha2-nistp521" },
	{ LIBSSH2_KNOWNHOST_KEY_SSHRSA, "rsa-sha2-512,rsa-sha2-256,ssh-rsa" },
	{ LIBSSH2_KNOWNHOST_KEY_SSHDSS, "ssh-dss" },
};

static int method_supported(const char **algs, int n, const char *m, size_t len)
{
	for (int i = 0; i < n; i++)
		if (strlen(algs[i]) == len && !memcmp(algs[i], m, len))
			return 1;
	return 0;
}

static void add_methods(struct buf *b, const char *list, const char **algs, int n)
{
	for (const char *p = list; *p;) {
		size_t len = strcspn(p, ",");
		if (method_supported(algs, n, p, len) && !strstr(b->data ? b->data : "", p)) {
			if (b->len)
				buf_addc(b, ',');
			buf_add(b, p, len);
		}
		p += len;
		if (*p == ',')
			p++;
	}
}

/* Which key types known_hosts holds for host:port. libssh2 has no lookup
 * by name (hashed entries hide it), so ask checkp with a key that cannot
 * match: a type it knows for the host answers MISMATCH. */
static int known_types(LIBSSH2_KNOWNHOSTS *kh, const char *name)
{
	int mask = 0;
	for (size_t i = 0; i < sizeof key_types / sizeof key_types[0]; i++) {
		struct libssh2_knownhost *k = NULL;
		int rc = libssh2_knownhost_checkp(kh, name, -1, "AAAA", 4,
						  LIBSSH2_KNOWNHOST_TYPE_PLAIN |
							  LIBSSH2_KNOWNHOST_KEYENC_BASE64 |
							  key_types[i].type,
						  &k);
		if (rc == LIBSSH2_KNOWNHOST_CHECK_MISMATCH)
			mask |= 1 << i;
	}
	return mask;
}

/* Puts the host key algorithms known_hosts has for this host first, so
 * that a server with several host keys shows the one we know. */
static int prefer_known(struct sftp_conn *s, int mask, struct rt_err *e)
{
	if (!mask)
		return 0; /* libssh2's defaults */
	const char **algs = NULL;
	int n = libssh2_session_supported_algs(s->ssh, LIBSSH2_METHOD_HOSTKEY, &algs);
	if (n <= 0)
		return 0;
	struct buf b;
	buf_init(&b, 4096);
	for (size_t i = 0; i < sizeof key_types / sizeof key_types[0]; i++)
		if (mask & (1 << i))
			add_methods(&b, key_types[i].methods, algs, n);
	for (size_t i = 0; i < sizeof key_types / sizeof key_types[0]; i++)
		if (!(mask & (1 << i)))
			add_methods(&b, key_types[i].methods, algs, n);
	int rc = 0;
	if (b.len && libssh2_session_method_pref(s->ssh, LIBSSH2_METHOD_HOSTKEY, b.data)) {
		err_set(e, ERR_CONFIG, "%s: libssh2 refused the host key algorithms %s", s->where,
			b.data);
		rc = -1;
	}
	libssh2_free(s->ssh, algs);
	buf_free(&b);
	return rc;
}

static const char *key_type_name(int type)
{
	switch (type) {
	case LIBSSH2_HOSTKEY_TYPE_RSA: return "ssh-rsa";
	case LIBSSH2_HOSTKEY_TYPE_DSS: return "ssh-dss";
	case LIBSSH2_HOSTKEY_TYPE_ECDSA_256: return "ecdsa-sha2-nistp256";
	case LIBSSH2_HOSTKEY_TYPE_ECDSA_384: return "ecdsa-sha2-nistp384";
	case LIBSSH2_HOSTKEY_TYPE_ECDSA_521: return "ecdsa-sha2-nistp521";
	case LIBSSH2_HOSTKEY_TYPE_ED25519: return "ssh-ed25519";
	default: return "unknown";
	}
}

static int knownhost_key_type(int type)
{
	switch (type) {
	case LIBSSH2_HOSTKEY_TYPE_RSA: return LIBSSH2_KNOWNHOST_KEY_SSHRSA;
	case LIBSSH2_HOSTKEY_TYPE_DSS: return LIBSSH2_KNOWNHOST_KEY_SSHDSS;
	case LIBSSH2_HOSTKEY_TYPE_ECDSA_256: return LIBSSH2_KNOWNHOST_KEY_ECDSA_256;
	case LIBSSH2_HOSTKEY_TYPE_ECDSA_384: return LIBSSH2_KNOWNHOST_KEY_ECDSA_384;
	case LIBSSH2_HOSTKEY_TYPE_ECDSA_521: return LIBSSH2_KNOWNHOST_KEY_ECDSA_521;
	case LIBSSH2_HOSTKEY_TYPE_ED25519: return LIBSSH2_KNOWNHOST_KEY_ED25519;
	default: return LIBSSH2_KNOWNHOST_KEY_UNKNOWN;
	}
}

/* "ssh-keyscan -p PORT HOST" (no -p for 22), for hints. */
static void keyscan_cmd(const struct sftp_conf *c, int port, char *out, size_t n)
{
	if (port == 22)
		snprintf(out, n, "ssh-keyscan %s", c->host);
	else
		snprintf(out, n, "ssh-keyscan -p %d %s", port, c->host);
}

static int check_host_key(struct sftp_conn *s, const struct sftp_conf *c, int port,
			  LIBSSH2_KNOWNHOSTS *kh, int kh_mask, struct rt_err *e)
{
	size_t klen = 0;
	int ktype = 0;
	const char *key = libssh2_session_hostkey(s->ssh, &klen, &ktype);
	const unsigned char *h =
		(const unsigned char *)libssh2_hostkey_hash(s->ssh, LIBSSH2_HOSTKEY_HASH_SHA256);
	if (!key || !h)
		return ssh_fail(s, "reading the server's host key", e);
	memcpy(s->fp, "SHA256:", 7);
	b64_encode(h, 32, s->fp + 7, 0, 0);
	char scan[400];
	keyscan_cmd(c, port, scan, sizeof scan);

	if (c->fingerprint) {
		if (strncmp(c->fingerprint, "SHA256:", 7)) {
			err_set(e, ERR_CONFIG,
				"the pinned fingerprint for %s is not of the form SHA256:<base64> "
				"(the \"SHA256:\" prefix is required); the server offers %s",
				s->where, s->fp);
			err_hint(e, "copy it as ssh-keygen -lf prints it, prefix included");
			return -1;
		}
		if (strcmp(c->fingerprint, s->fp)) {
			err_set(e, ERR_CONFIG,
				"host key for %s does not match the pinned fingerprint %s: the "
				"server offered %s %s",
				s->where, c->fingerprint, key_type_name(ktype), s->fp);
			err_hint(e, "someone may be intercepting the connection, or the server "
				    "was rebuilt: verify the fingerprint with the server's "
				    "administrator, then set fingerprint = %s in the job",
				 s->fp);
			return -1;
		}
	}
	if (kh) {
		struct libssh2_knownhost *k = NULL;
		int rc = libssh2_knownhost_checkp(kh, s->khname, -1, key, klen,
						  LIBSSH2_KNOWNHOST_TYPE_PLAIN |
							  LIBSSH2_KNOWNHOST_KEYENC_RAW |
							  knownhost_key_type(ktype),
						  &k);
		if (rc == LIBSSH2_KNOWNHOST_CHECK_MATCH)
			return 0;
		if (rc == LIBSSH2_KNOWNHOST_CHECK_MISMATCH ||
		    (rc == LIBSSH2_KNOWNHOST_CHECK_NOTFOUND && kh_mask)) {
			if (rc == LIBSSH2_KNOWNHOST_CHECK_MISMATCH)
				err_set(e, ERR_CONFIG,
					"host key for %s has CHANGED: known_hosts %s has another "
					"%s key; the server offered %s",
					s->where, c->known_hosts, key_type_name(ktype), s->fp);
			else
				err_set(e, ERR_CONFIG,
					"host key for %s has CHANGED: known_hosts %s has keys of "
					"other types for it; the server offered %s %s",
					s->where, c->known_hosts, key_type_name(ktype), s->fp);
			err_hint(e, "someone may be intercepting the connection, or the server "
				    "was rebuilt: verify %s with the server's administrator, then "
				    "update known_hosts or set fingerprint = %s in the job",
				 s->fp, s->fp);
			return -1;
		}
		if (rc == LIBSSH2_KNOWNHOST_CHECK_NOTFOUND) {
			err_set(e, ERR_CONFIG,
				"unknown host key for %s: known_hosts %s has no key for it; the "
				"server offered %s %s",
				s->where, c->known_hosts, key_type_name(ktype), s->fp);
			err_hint(e, "check %s with the server's administrator, then set "
				    "fingerprint = %s in the job, or add it with %s >> %s",
				 s->fp, s->fp, scan, c->known_hosts);
			return -1;
		}
		err_set(e, ERR_CONFIG, "%s: the host key check failed: %s", s->where,
			ssh_msg(s, NULL));
		return -1;
	}
	return 0;
}

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
	const char *m = ssh_msg(s, &code);
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
	if (is_net_error(code))
		return ssh_fail(s, "key authentication", e);
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
	ssh_msg(s, &code);
	if (auth_refused(code)) {
		err_set(e, ERR_AUTH, "%s@%s refused the password", c->user, s->where);
		err_hint(e, "is the password in the credentials store current, and the user name "
			    "right?");
		return -1;
	}
	return ssh_fail(s, "password authentication", e);
}

static int authenticate(struct sftp_conn *s, const struct sftp_conf *c, struct rt_err *e)
{
	char *methods = libssh2_userauth_list(s->ssh, c->user, strlen(c->user));
	if (!methods) {
		if (libssh2_userauth_authenticated(s->ssh))
			return 0; /* the server took "none" */
		return ssh_fail(s, "asking which logins the server accepts", e);
	}
	if (c->key_file)
		return auth_key(s, c, methods, e);
	return auth_password(s, c, methods, e);
}

struct sftp_conn *sftp_open(const struct sftp_conf *c, struct rt_err *e)
{
	int port = c->port ? c->port : 22;
	double t = c->timeout > 0 ? c->timeout : 60;
	int ms = t * 1000 > INT_MAX ? INT_MAX : (int)(t * 1000);
	if (!c->host || !*c->host || !c->user || !*c->user) {
		err_set(e, ERR_CONFIG, "SFTP needs a host and a user");
		return NULL;
	}
	if (c->password)
		err_redact_add(c->password);
	if (c->passphrase)
		err_redact_add(c->passphrase);
	struct sftp_conn *s = calloc(1, sizeof *s);
	if (!s) {
		err_set(e, ERR_IO, "out of memory");
		return NULL;
	}
	s->fd = -1;
	if (strchr(c->host, ':'))
		snprintf(s->where, sizeof s->where, "[%s]:%d", c->host, port);
	else
		snprintf(s->where, sizeof s->where, "%s:%d", c->host, port);
	/* as OpenSSH writes it: "[host]:port" unless the port is 22. libssh2's
	 * own port handling would also take a plain "host" entry for any port. */
	if (port == 22)
		snprintf(s->khname, sizeof s->khname, "%s", c->host);
	else
		snprintf(s->khname, sizeof s->khname, "[%s]:%d", c->host, port);
	if (!c->known_hosts && !c->fingerprint) {
		err_set(e, ERR_CONFIG, "no way to check the host key of %s: give known_hosts or "
				       "fingerprint", s->where);
		err_hint(e, "set fingerprint = SHA256:... (ssh-keygen -lf on the server's host "
			    "key) or known_hosts = FILE in the job");
		free(s);
		return NULL;
	}
	if (!c->key_file && !c->password) {
		err_set(e, ERR_CONFIG, "no credential for %s@%s: give a key file or a password",
			c->user, s->where);
		free(s);
		return NULL;
	}

	LIBSSH2_KNOWNHOSTS *kh = NULL;
	int kh_mask = 0;
	s->ssh = libssh2_session_init();
	if (!s->ssh) {
		err_set(e, ERR_IO, "libssh2 cannot create a session (out of memory?)");
		goto fail;
	}
	libssh2_session_set_blocking(s->ssh, 1);
	libssh2_session_set_timeout(s->ssh, ms);
	if (c->known_hosts) {
		FILE *f = fopen(c->known_hosts, "r");
		if (!f) {
			err_set(e, ERR_CONFIG, "known_hosts %s cannot be read: %s", c->known_hosts,
				strerror(errno));
			err_hint(e, "name a readable OpenSSH known_hosts file, or pin the key with "
				    "fingerprint = SHA256:...");
			goto fail;
		}
		fclose(f);
		kh = libssh2_knownhost_init(s->ssh);
		if (!kh) {
			err_set(e, ERR_IO, "libssh2 cannot hold known hosts (out of memory?)");
			goto fail;
		}
		if (libssh2_knownhost_readfile(kh, c->known_hosts, LIBSSH2_KNOWNHOST_FILE_OPENSSH) <
		    0) {
			err_set(e, ERR_CONFIG, "known_hosts %s: %s", c->known_hosts,
				ssh_msg(s, NULL));
			err_hint(e, "it must be an OpenSSH known_hosts file; a line libssh2 cannot "
				    "parse (@cert-authority, @revoked) fails the whole file");
			goto fail;
		}
		kh_mask = known_types(kh, s->khname);
		if (prefer_known(s, kh_mask, e))
			goto fail;
	}
	s->fd = tcp_connect(c->host, port, ms, s->where, e);
	if (s->fd < 0)
		goto fail;
	if (libssh2_session_handshake(s->ssh, s->fd)) {
		ssh_fail(s, "SSH handshake", e);
		if (e->kind == ERR_CONFIG)
			err_hint(e, "is it an SSH server? (the port may be another service's)");
		goto fail;
	}
	/* the host key before any credential leaves this machine */
	if (check_host_key(s, c, port, kh, kh_mask, e))
		goto fail;
	if (kh) {
		libssh2_knownhost_free(kh);
		kh = NULL;
	}
	if (authenticate(s, c, e))
		goto fail;
	s->sftp = libssh2_sftp_init(s->ssh);
	if (!s->sftp) {
		ssh_fail(s, "starting SFTP", e);
		err_hint(e, "does the server offer the sftp subsystem to %s?", c->user);
		goto fail;
	}
	return s;
fail:
	if (kh)
		libssh2_knownhost_free(kh);
	sftp_close(s);
	return NULL;
}

static void fill_entry(struct sftp_entry *out, const char *name, size_t len,
		       const LIBSSH2_SFTP_ATTRIBUTES *a)
{
	memset(out, 0, sizeof *out);
	if (len >= sizeof out->name)
		len = sizeof out->name - 1;
	memcpy(out->name, name, len);
	out->name[len] = 0;
	if (a->flags & LIBSSH2_SFTP_ATTR_SIZE)
		out->size = a->filesize;
	if (a->flags & LIBSSH2_SFTP_ATTR_ACMODTIME)
		out->mtime = (long long)a->mtime;
	out->regular = (a->flags & LIBSSH2_SFTP_ATTR_PERMISSIONS) &&
		       LIBSSH2_SFTP_S_ISREG(a->permissions);
}

int sftp_list(struct sftp_conn *s, const char *dir, struct sftp_entry **out, size_t *n,
	      struct rt_err *e)
{
	*out = NULL;
	*n = 0;
	LIBSSH2_SFTP_HANDLE *h = libssh2_sftp_opendir(s->sftp, dir);
	if (!h) {
		sftp_fail(s, "cannot open the folder", dir, e);
		return -1;
	}
	struct sftp_entry *v = NULL;
	size_t nv = 0, cap = 0;
	char name[1024];
	int rc = 0;
	for (;;) {
		LIBSSH2_SFTP_ATTRIBUTES a;
		memset(&a, 0, sizeof a);
		int len = libssh2_sftp_readdir_ex(h, name, sizeof name, NULL, 0, &a);
		if (len == 0)
			break;
		if (len < 0) {
			sftp_fail(s, "cannot read the folder", dir, e);
			rc = -1;
			break;
		}
		if (!strcmp(name, ".") || !strcmp(name, ".."))
			continue;
		if ((size_t)len >= sizeof v->name) {
			err_set(e, ERR_DATA, "%s:%s: a name of %d bytes, more than %zu", s->where,
				dir, len, sizeof v->name - 1);
			rc = -1;
			break;
		}
		if (VEC_RESERVE(v, cap, nv + 1, 64)) {
			err_set(e, ERR_IO, "out of memory listing %s:%s", s->where, dir);
			rc = -1;
			break;
		}
		fill_entry(&v[nv++], name, (size_t)len, &a);
	}
	libssh2_sftp_closedir(h);
	if (rc) {
		free(v);
		return -1;
	}
	*out = v;
	*n = nv;
	return 0;
}

int sftp_stat(struct sftp_conn *s, const char *path, struct sftp_entry *out, struct rt_err *e)
{
	LIBSSH2_SFTP_ATTRIBUTES a;
	memset(&a, 0, sizeof a);
	if (libssh2_sftp_stat_ex(s->sftp, path, strlen(path), LIBSSH2_SFTP_STAT, &a)) {
		int code;
		ssh_msg(s, &code);
		if (code == LIBSSH2_ERROR_SFTP_PROTOCOL) {
			unsigned long fx = libssh2_sftp_last_error(s->sftp);
			if (fx == LIBSSH2_FX_NO_SUCH_FILE || fx == LIBSSH2_FX_NO_SUCH_PATH)
				return 1;
		}
		sftp_fail(s, "cannot stat", path, e);
		return -1;
	}
	const char *base = strrchr(path, '/');
	base = base && base[1] ? base + 1 : path;
	fill_entry(out, base, strlen(base), &a);
	return 0;
}

int sftp_get(struct sftp_conn *s, const char *path, sftp_chunk_fn fn, void *ctx,
	     unsigned long long *got, struct rt_err *e)
{
	*got = 0;
	struct sftp_entry st;
	int rc = sftp_stat(s, path, &st, e);
	if (rc == 1) {
		err_set(e, ERR_IO, "%s:%s: cannot read: no such file", s->where, path);
		err_hint(e, "check the path (relative paths start in the login's home folder)");
		return -1;
	}
	if (rc)
		return -1;
	if (!st.regular) {
		err_set(e, ERR_IO, "%s:%s: not a regular file", s->where, path);
		return -1;
	}
	LIBSSH2_SFTP_HANDLE *h =
		libssh2_sftp_open_ex(s->sftp, path, strlen(path), LIBSSH2_FXF_READ, 0,
				     LIBSSH2_SFTP_OPENFILE);
	if (!h) {
		sftp_fail(s, "cannot open", path, e);
		return -1;
	}
	char *b = malloc(CHUNK);
	if (!b) {
		libssh2_sftp_close_handle(h);
		err_set(e, ERR_IO, "out of memory reading %s:%s", s->where, path);
		return -1;
	}
	rc = 0;
	for (;;) {
		ssize_t r = libssh2_sftp_read(h, b, CHUNK);
		if (r == 0)
			break;
		if (r < 0) {
			int code;
			const char *m = ssh_msg(s, &code);
			if (code == LIBSSH2_ERROR_SFTP_PROTOCOL) {
				sftp_fail(s, "read failed", path, e);
			} else {
				err_set(e, ERR_NETWORK,
					"%s:%s: connection lost after %llu of %llu bytes (%s)",
					s->where, path, *got, st.size, m);
				err_hint(e, "the network or the server dropped the connection; "
					    "the next run fetches the file again");
			}
			rc = -1;
			break;
		}
		if (fn(ctx, b, (size_t)r, e)) {
			rc = -1;
			break;
		}
		*got += (unsigned long long)r;
	}
	free(b);
	if (!rc && *got < st.size) {
		err_set(e, ERR_NETWORK, "%s:%s: connection lost after %llu of %llu bytes (the file "
					"ended early)",
			s->where, path, *got, st.size);
		err_hint(e, "the file may have been replaced while it was read, or the "
			    "connection dropped; the next run fetches it again");
		rc = -1;
	}
	libssh2_sftp_close_handle(h);
	return rc;
}

void sftp_close(struct sftp_conn *s)
{
	if (!s)
		return;
	if (s->sftp)
		libssh2_sftp_shutdown(s->sftp);
	if (s->ssh) {
		libssh2_session_disconnect(s->ssh, "done");
		libssh2_session_free(s->ssh);
	}
	if (s->fd >= 0)
		close(s->fd);
	free(s);
}
