#include "net/sftp.h"
#include "net/sftp_int.h"
#include "core/b64.h"
#include "core/buf.h"
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

#define CHUNK (64 * 1024)

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
const char *sftp_ssh_msg(struct sftp_conn *s, int *code)
{
	char *m = NULL;
	int rc = libssh2_session_last_error(s->ssh, &m, NULL, 0);
	if (code)
		*code = rc;
	return m && *m ? m : "unknown error";
}

int sftp_is_net_error(int rc)
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
int sftp_ssh_fail(struct sftp_conn *s, const char *doing, struct rt_err *e)
{
	int rc;
	const char *m = sftp_ssh_msg(s, &rc);
	if (sftp_is_net_error(rc)) {
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
	const char *m = sftp_ssh_msg(s, &rc);
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
	err_set(e, sftp_is_net_error(rc) ? ERR_NETWORK : ERR_IO, "%s:%s: %s: %s", s->where, path,
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
		return sftp_ssh_fail(s, "reading the server's host key", e);
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
			sftp_ssh_msg(s, NULL));
		return -1;
	}
	return 0;
}

/* A connection not yet made to c's server: its names for messages and
 * known_hosts; NULL with e when c cannot work (no way to check the host
 * key, no credential). */
static struct sftp_conn *conn_new(const struct sftp_conf *c, int port, struct rt_err *e)
{
	if (!c->host || !*c->host || !c->user || !*c->user) {
		err_set(e, ERR_CONFIG, "SFTP needs a host and a user");
		return NULL;
	}
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
	return s;
}

/* Reads c->known_hosts into *kh (the caller frees it) and puts the host
 * key types it holds for this host first in the offer. 0, or -1 with e. */
static int load_known_hosts(struct sftp_conn *s, const struct sftp_conf *c,
			    LIBSSH2_KNOWNHOSTS **kh, int *mask, struct rt_err *e)
{
	FILE *f = fopen(c->known_hosts, "r");
	if (!f) {
		err_set(e, ERR_CONFIG, "known_hosts %s cannot be read: %s", c->known_hosts,
			strerror(errno));
		err_hint(e, "name a readable OpenSSH known_hosts file, or pin the key with "
			    "fingerprint = SHA256:...");
		return -1;
	}
	fclose(f);
	*kh = libssh2_knownhost_init(s->ssh);
	if (!*kh) {
		err_set(e, ERR_IO, "libssh2 cannot hold known hosts (out of memory?)");
		return -1;
	}
	if (libssh2_knownhost_readfile(*kh, c->known_hosts, LIBSSH2_KNOWNHOST_FILE_OPENSSH) < 0) {
		err_set(e, ERR_CONFIG, "known_hosts %s: %s", c->known_hosts, sftp_ssh_msg(s, NULL));
		err_hint(e, "it must be an OpenSSH known_hosts file; a line libssh2 cannot "
			    "parse (@cert-authority, @revoked) fails the whole file");
		return -1;
	}
	*mask = known_types(*kh, s->khname);
	return prefer_known(s, *mask, e);
}

struct sftp_conn *sftp_open(const struct sftp_conf *c, struct rt_err *e)
{
	int port = c->port ? c->port : 22;
	double t = c->timeout > 0 ? c->timeout : 60;
	int ms = t * 1000 > INT_MAX ? INT_MAX : (int)(t * 1000);
	if (c->password)
		err_redact_add(c->password);
	if (c->passphrase)
		err_redact_add(c->passphrase);
	struct sftp_conn *s = conn_new(c, port, e);
	if (!s)
		return NULL;
	LIBSSH2_KNOWNHOSTS *kh = NULL;
	int kh_mask = 0;
	s->ssh = libssh2_session_init();
	if (!s->ssh) {
		err_set(e, ERR_IO, "libssh2 cannot create a session (out of memory?)");
		goto fail;
	}
	libssh2_session_set_blocking(s->ssh, 1);
	libssh2_session_set_timeout(s->ssh, ms);
	if (c->known_hosts && load_known_hosts(s, c, &kh, &kh_mask, e))
		goto fail;
	s->fd = tcp_connect(c->host, port, ms, s->where, e);
	if (s->fd < 0)
		goto fail;
	if (libssh2_session_handshake(s->ssh, s->fd)) {
		sftp_ssh_fail(s, "SSH handshake", e);
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
	if (sftp_authenticate(s, c, e))
		goto fail;
	s->sftp = libssh2_sftp_init(s->ssh);
	if (!s->sftp) {
		sftp_ssh_fail(s, "starting SFTP", e);
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
		sftp_ssh_msg(s, &code);
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
			const char *m = sftp_ssh_msg(s, &code);
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
