#ifndef ROSTER_SFTP_INT_H
#define ROSTER_SFTP_INT_H

/* What the two parts of the SFTP client share, and no other file:
 * sftp.c (the connection, the host key check, listing and fetching files)
 * and sftp_auth.c (logging in: private keys, RSA signed with SHA-2,
 * passwords). */

#include "core/err.h"
#include "net/sftp.h"

#include <libssh2.h>
#include <libssh2_sftp.h>

struct sftp_conn {
	int fd;
	LIBSSH2_SESSION *ssh;
	LIBSSH2_SFTP *sftp;
	char where[300]; /* "host:port" for messages */
	char fp[64];     /* "SHA256:" + 43 characters */
	char khname[300]; /* the host's name in known_hosts */
};

/* libssh2's own words for the last error (its code in *code, if asked). */
const char *sftp_ssh_msg(struct sftp_conn *s, int *code);
/* 1 when a libssh2 error code is the network's (a retry may help). */
int sftp_is_net_error(int rc);
/* A failure of the SSH layer while doing something: ERR_NETWORK or
 * ERR_CONFIG in e; -1. */
int sftp_ssh_fail(struct sftp_conn *s, const char *doing, struct rt_err *e);
/* Logs in as c->user with c's key or password, once the host key was
 * checked. 0, or -1 with e saying what the server refused and what to check. */
int sftp_authenticate(struct sftp_conn *s, const struct sftp_conf *c, struct rt_err *e);

#endif
