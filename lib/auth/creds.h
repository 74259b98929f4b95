#ifndef ROSTER_CREDS_H
#define ROSTER_CREDS_H

#include "core/err.h"
#include "auth/fernet.h"

#include <stddef.h>
#include <stdint.h>

/* The credentials store (DESIGN.md, Credentials; man 1 creds for the
 * format): a text file of named Fernet tokens under a key kept in a
 * separate file. The file carries the key's id (so a wrong key is told
 * apart from an altered file) and a closing HMAC over every line before it
 * (so a removed, added, reordered or renamed entry is noticed).
 *
 * struct creds owns its strings and the key; creds_close wipes the key.
 * It never holds a decrypted secret: creds_get hands each one to the
 * caller, who wipes it (secret_free) as soon as it is used. */

#define CREDS_NAME_MAX 64
#define CREDS_SECRET_MAX 65536 /* one secret: a service-account JSON or a PEM fits */
#define CREDS_FILE_MAX (4u << 20)
#define CREDS_KEY_FILE_MAX 256

struct creds_entry {
	char name[CREDS_NAME_MAX + 1];
	char *token;
	uint64_t set; /* when it was set: the token's time */
};

struct creds {
	char *path, *key_path;
	struct fernet_key key;
	char key_id[17];
	struct creds_entry *v;
	size_t n, cap;
	int altered; /* CREDS_LENIENT: the checksum did not match */
};

enum {
	CREDS_CREATE = 1,  /* a missing credentials file is an empty store */
	CREDS_LENIENT = 2, /* read entries even when the checksum fails (check) */
};

/* Opens path under the key in key_path (NULL: path + ".key"): both files
 * pass secfile's checks, the key parses, the key id matches, the checksum
 * matches. ERR_CONFIG errors name the file and say whether the key does
 * not match or the file was altered. On failure c holds nothing. */
int creds_open(struct creds *c, const char *path, const char *key_path, int flags,
	       struct rt_err *e);
void creds_close(struct creds *c);

/* A store name is [A-Za-z0-9][A-Za-z0-9._-]*, at most CREDS_NAME_MAX. */
int creds_name_ok(const char *name);
const struct creds_entry *creds_find(const struct creds *c, const char *name);

/* Decrypts the entry: *secret is malloc'd and NUL-terminated after *len
 * bytes (len may be NULL); free it with secret_free. */
int creds_get(const struct creds *c, const char *name, char **secret, size_t *len,
	      struct rt_err *e);
/* Adds or replaces an entry (in memory; creds_save publishes). */
int creds_set(struct creds *c, const char *name, const void *secret, size_t n, uint64_t now,
	      struct rt_err *e);
int creds_remove(struct creds *c, const char *name, struct rt_err *e);
/* Writes the store atomically (mode 0600). */
int creds_save(struct creds *c, struct rt_err *e);

/* Changes of the store (set, remove, rotate) hold an exclusive lock on
 * its folder from reading the store to publishing it, so two at once cannot
 * lose an update or write a store under a key that was just replaced.
 * Readers need no lock: the store is replaced in one rename. Returns the
 * lock's descriptor, or -1 with e filled. */
int creds_lock(const char *path, struct rt_err *e);
void creds_unlock(int fd);

/* Creates a key file: 32 random bytes as base64url and a newline, 0600,
 * never over an existing file. */
int creds_keygen(const char *key_path, struct rt_err *e);

/* Re-encrypts every entry under a new key: the key goes to KEY.new, the
 * store is published, then KEY.new replaces KEY. Run again after an
 * interruption, it finishes the rotation (or starts it over). *note gets a
 * static sentence about what was done. */
int creds_rotate(const char *path, const char *key_path, const char **note, struct rt_err *e);

/* For programs that need one secret: ref is "creds:NAME"; path NULL means
 * $ROSTER_CREDENTIALS. Opens the store, decrypts NAME, closes (wiping the
 * key). what names the option or key the reference came from, for
 * messages. Returns the secret (secret_free it) or NULL with e filled. */
char *creds_resolve(const char *path, const char *key_path, const char *ref, const char *what,
		    struct rt_err *e);

/* 1 when ref has the form creds:NAME. */
int creds_is_ref(const char *ref);

#endif
