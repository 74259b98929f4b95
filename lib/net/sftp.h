#ifndef ROSTER_SFTP_H
#define ROSTER_SFTP_H
#include "core/err.h"
#include <stddef.h>
/* An SFTP client over libssh2 for drop folders. The server's host key is
 * checked before any credential is sent: against an OpenSSH known_hosts
 * file (plain or hashed entries, [host]:port for other ports) or a pinned
 * "SHA256:<base64>" fingerprint (as ssh-keygen -l prints it). An unknown
 * or changed key is refused (ERR_CONFIG) with the fingerprint the server
 * offered and how to pin it. Auth: a private key file (ed25519, RSA; an
 * OpenSSH or PEM key, refused when group or others can read it, as
 * OpenSSH does) with an optional passphrase, or a password. Refused
 * credentials are ERR_AUTH naming user@host:port and what to check. Every
 * blocking step is bounded by timeout. */
struct sftp_conf {
	const char *host;
	int port;                /* 0: 22 */
	const char *user;
	const char *known_hosts; /* file, or NULL */
	const char *fingerprint; /* "SHA256:...", or NULL; at least one of the two */
	const char *key_file;    /* private key, or NULL */
	const char *passphrase;  /* secret, or NULL */
	const char *password;    /* secret, or NULL; used when key_file is NULL */
	double timeout;          /* seconds per blocking step; 0: 60 */
};
struct sftp_entry {
	char name[256];          /* the name in the folder, as the server sent it */
	unsigned long long size;
	long long mtime;         /* seconds since the epoch */
	int regular;             /* a regular file (not a folder, link, device) */
};
struct sftp_conn;
struct sftp_conn *sftp_open(const struct sftp_conf *c, struct rt_err *e);
/* The entries of folder dir ("." and ".." left out), malloc'd array
 * in *out (caller frees), count in *n. 0 or -1. */
int sftp_list(struct sftp_conn *s, const char *dir, struct sftp_entry **out, size_t *n,
	      struct rt_err *e);
/* 0 found, 1 no such file, -1 error. */
int sftp_stat(struct sftp_conn *s, const char *path, struct sftp_entry *out, struct rt_err *e);
/* Reads the whole file at path, handing each chunk to fn (which returns 0,
 * or -1 to stop: then sftp_get returns -1 with whatever fn put in e).
 * *got = bytes delivered. A connection lost or a file shorter than its
 * stat said part way is ERR_NETWORK naming host:path and the bytes read. */
typedef int (*sftp_chunk_fn)(void *ctx, const void *data, size_t len, struct rt_err *e);
int sftp_get(struct sftp_conn *s, const char *path, sftp_chunk_fn fn, void *ctx,
	     unsigned long long *got, struct rt_err *e);
/* The host key's fingerprint as "SHA256:..." (valid while s is open). */
const char *sftp_fingerprint(const struct sftp_conn *s);
void sftp_close(struct sftp_conn *s);
/* libssh2_init/exit, once per process. 0 or -1. */
int sftp_global_init(struct rt_err *e);
void sftp_global_exit(void);
#endif
