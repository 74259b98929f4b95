#include "auth/creds.h"
#include "core/atomic.h"
#include "core/b64.h"
#include "core/buf.h"
#include "core/secfile.h"
#include "core/vec.h"

#include <errno.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#define HEADER "roster-credentials 1\n"

/* Both derived from the signing key, each under its own label, so neither
 * can stand in for the other or for a Fernet HMAC (whose input starts
 * with 0x80). */
static void derive(const struct fernet_key *k, const char *label, unsigned char out[32])
{
	unsigned int n = 32;
	HMAC(EVP_sha256(), k->sign, sizeof k->sign, (const unsigned char *)label, strlen(label),
	     out, &n);
}

static void key_id(const struct fernet_key *k, char out[17])
{
	unsigned char d[32];
	derive(k, "roster-credentials key-id", d);
	b16_encode(d, 8, out);
}

static void file_mac(const struct fernet_key *k, const char *data, size_t n, char out[65])
{
	unsigned char mk[32], m[32];
	unsigned int len = 32;
	derive(k, "roster-credentials file-mac", mk);
	HMAC(EVP_sha256(), mk, sizeof mk, (const unsigned char *)data, n, m, &len);
	OPENSSL_cleanse(mk, sizeof mk);
	b16_encode(m, 32, out);
}

int creds_name_ok(const char *s)
{
	size_t n = strlen(s);
	if (!n || n > CREDS_NAME_MAX || *s == '.' || *s == '-' || *s == '_')
		return 0;
	return strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") == n;
}

int creds_is_ref(const char *ref)
{
	return ref && !strncmp(ref, "creds:", 6) && creds_name_ok(ref + 6);
}

/* -2 when the key file does not exist (the caller gives the hint). */
static int read_key(const char *path, struct fernet_key *k, struct rt_err *e)
{
	struct buf b;
	if (secfile_read(path, "key file", CREDS_KEY_FILE_MAX, &b, e))
		return errno == ENOENT ? -2 : -1;
	size_t n = b.len; /* the key and at most one line ending */
	if (n && b.data[n - 1] == '\n')
		n -= n > 1 && b.data[n - 2] == '\r' ? 2 : 1;
	int rc = fernet_key_parse(k, b.data, n);
	buf_wipe(&b);
	if (rc) {
		err_set(e, ERR_CONFIG, "key file %s does not hold a key", path);
		err_hint(e, "a key is one line of 44 characters of URL-safe base64, as made by "
			    "creds keygen");
	}
	return rc;
}

static void clear(struct creds *c)
{
	for (size_t i = 0; i < c->n; i++)
		free(c->v[i].token);
	free(c->v);
	free(c->path);
	free(c->key_path);
	fernet_key_wipe(&c->key);
	memset(c, 0, sizeof *c);
}

void creds_close(struct creds *c)
{
	clear(c);
}

static int altered(const struct creds *c, struct rt_err *e, const char *why)
{
	err_set(e, ERR_CONFIG, "credentials file %s was altered: %s", c->path, why);
	err_hint(e, "restore it from a backup, or store the secrets again with creds set");
	return -1;
}

static int add_entry(struct creds *c, const char *name, size_t nlen, const char *tok,
		     size_t tlen)
{
	if (VEC_RESERVE(c->v, c->cap, c->n + 1, 8))
		return -1;
	struct creds_entry *x = &c->v[c->n];
	memset(x, 0, sizeof *x);
	memcpy(x->name, name, nlen);
	if (!(x->token = strndup(tok, tlen)))
		return -1;
	fernet_token_time(tok, tlen, &x->set);
	c->n++;
	return 0;
}

/* Parses the text in b, checking the key id and the checksum. */
static int parse(struct creds *c, const char *data, size_t len, int flags, struct rt_err *e)
{
	size_t hl = strlen(HEADER);
	if (len < hl || memcmp(data, HEADER, hl)) {
		err_set(e, ERR_CONFIG, "%s is not a credentials file (it does not start with "
				       "\"roster-credentials 1\")", c->path);
		err_hint(e, "point --credentials (or the job's credentials key) at the file "
			    "creds set writes");
		return -1;
	}
	const char *p = data + hl, *end = data + len;
	const char *nl = memchr(p, '\n', (size_t)(end - p));
	if (!nl || nl - p != 7 + 16 || memcmp(p, "key-id ", 7))
		return altered(c, e, "its key-id line is missing or damaged");
	if (memcmp(p + 7, c->key_id, 16)) {
		err_set(e, ERR_CONFIG, "the key in %s does not match credentials file %s (the "
				       "file was written under key id %.16s, this key's id is %s)",
			c->key_path, c->path, p + 7, c->key_id);
		char next[4096];
		snprintf(next, sizeof next, "%s.new", c->key_path);
		if (access(next, F_OK) == 0)
			err_hint(e, "%s is left from an interrupted creds rotate: run creds rotate "
				    "again to finish it", next);
		else
			err_hint(e, "use the key the file was made with (creds --key FILE)");
		return -1;
	}
	for (p = nl + 1; p < end; p = nl + 1) {
		nl = memchr(p, '\n', (size_t)(end - p));
		if (!nl)
			return altered(c, e, "its last line is cut off");
		size_t n = (size_t)(nl - p);
		if (n > 4 && !memcmp(p, "mac ", 4)) {
			char want[65];
			if (nl + 1 != end)
				return altered(c, e, "lines follow its checksum");
			file_mac(&c->key, data, (size_t)(p - data), want);
			if (n != 4 + 64 || CRYPTO_memcmp(p + 4, want, 64)) {
				if (!(flags & CREDS_LENIENT))
					return altered(c, e, "its checksum does not match (a line "
							     "was changed, added or removed)");
				c->altered = 1;
			}
			return 0;
		}
		const char *name = p + 7, *sp = n > 7 ? memchr(name, ' ', n - 7) : NULL;
		if (n <= 7 || memcmp(p, "secret ", 7) || !sp || sp == name ||
		    (size_t)(sp - name) > CREDS_NAME_MAX)
			return altered(c, e, "a line is neither an entry nor its checksum");
		char nm[CREDS_NAME_MAX + 1];
		memcpy(nm, name, (size_t)(sp - name));
		nm[sp - name] = 0;
		if (!creds_name_ok(nm) || creds_find(c, nm))
			return altered(c, e, "an entry's name is damaged or repeated");
		if (add_entry(c, nm, strlen(nm), sp + 1, (size_t)(nl - sp - 1))) {
			err_set(e, ERR_IO, "%s: out of memory", c->path);
			return -1;
		}
	}
	return altered(c, e, "its checksum line is missing (was it cut short?)");
}

int creds_open(struct creds *c, const char *path, const char *key_path, int flags,
	       struct rt_err *e)
{
	memset(c, 0, sizeof *c);
	c->path = strdup(path);
	if (key_path)
		c->key_path = strdup(key_path);
	else if (asprintf(&c->key_path, "%s.key", path) < 0)
		c->key_path = NULL;
	if (!c->path || !c->key_path) {
		err_set(e, ERR_IO, "%s: out of memory", path);
		clear(c);
		return -1;
	}
	int krc = read_key(c->key_path, &c->key, e);
	if (krc == -2 && access(path, F_OK) == 0)
		err_hint(e, "%s was stored under that key, and no other key opens it: put the key "
			    "file back (a new key is for a new store)", path);
	else if (krc == -2)
		err_hint(e, "make a key first: creds --key %s keygen", c->key_path);
	if (krc) {
		clear(c);
		return -1;
	}
	key_id(&c->key, c->key_id);
	struct buf b;
	if (secfile_read(c->path, "credentials file", CREDS_FILE_MAX, &b, e)) {
		if (errno == ENOENT && (flags & CREDS_CREATE))
			return 0;
		if (errno == ENOENT)
			err_hint(e, "store a secret with: creds --file %s set NAME", path);
		clear(c);
		return -1;
	}
	int rc = parse(c, b.data, b.len, flags, e);
	buf_free(&b);
	if (rc)
		clear(c);
	return rc;
}

const struct creds_entry *creds_find(const struct creds *c, const char *name)
{
	for (size_t i = 0; i < c->n; i++)
		if (!strcmp(c->v[i].name, name))
			return &c->v[i];
	return NULL;
}

static int no_entry(const struct creds *c, const char *name, struct rt_err *e)
{
	err_set(e, ERR_CONFIG, "credentials file %s has no entry \"%s\"", c->path, name);
	err_hint(e, "store it with: creds --file %s set %s", c->path, name);
	return -1;
}

int creds_get(const struct creds *c, const char *name, char **secret, size_t *len,
	      struct rt_err *e)
{
	const struct creds_entry *x = creds_find(c, name);
	*secret = NULL;
	if (!x)
		return no_entry(c, name, e);
	unsigned char *msg;
	size_t n;
	enum fernet_status st = fernet_decrypt(&c->key, x->token, strlen(x->token), 0, 0, &msg,
					       &n, NULL);
	if (st != FERNET_OK) {
		err_set(e, ERR_CONFIG, "entry \"%s\" of credentials file %s does not decrypt "
				       "(%s): the file was altered", name, c->path,
			fernet_status_text(st));
		err_hint(e, "store the secret again with: creds --file %s set %s", c->path, name);
		return -1;
	}
	if (strlen((char *)msg) != n) { /* secret_free would wipe only up to the NUL */
		OPENSSL_cleanse(msg, n);
		free(msg);
		err_set(e, ERR_CONFIG, "entry \"%s\" of credentials file %s holds a NUL byte",
			name, c->path);
		err_hint(e, "store it again with creds set (secrets are text; binary ones as base64)");
		return -1;
	}
	*secret = (char *)msg;
	if (len)
		*len = n;
	return 0;
}

int creds_set(struct creds *c, const char *name, const void *secret, size_t n, uint64_t now,
	      struct rt_err *e)
{
	char *tok;
	if (!creds_name_ok(name)) {
		err_set(e, ERR_USAGE, "\"%s\" cannot name an entry", name);
		err_hint(e, "up to %d letters, digits, '.', '_' and '-', starting with a letter "
			    "or digit", CREDS_NAME_MAX);
		return -1;
	}
	enum fernet_status st = fernet_encrypt(&c->key, secret, n, now, NULL, &tok);
	if (st != FERNET_OK) {
		err_set(e, ERR_IO, "cannot encrypt: %s", fernet_status_text(st));
		return -1;
	}
	for (size_t i = 0; i < c->n; i++)
		if (!strcmp(c->v[i].name, name)) {
			free(c->v[i].token);
			c->v[i].token = tok;
			c->v[i].set = now;
			return 0;
		}
	/* kept sorted by name, so the file and the listing are stable */
	size_t at = 0;
	while (at < c->n && strcmp(c->v[at].name, name) < 0)
		at++;
	if (add_entry(c, name, strlen(name), tok, strlen(tok))) {
		free(tok);
		err_set(e, ERR_IO, "out of memory");
		return -1;
	}
	free(tok);
	struct creds_entry x = c->v[c->n - 1];
	memmove(&c->v[at + 1], &c->v[at], (c->n - 1 - at) * sizeof x);
	c->v[at] = x;
	c->v[at].set = now;
	return 0;
}

int creds_remove(struct creds *c, const char *name, struct rt_err *e)
{
	for (size_t i = 0; i < c->n; i++)
		if (!strcmp(c->v[i].name, name)) {
			free(c->v[i].token);
			memmove(&c->v[i], &c->v[i + 1], (c->n - i - 1) * sizeof c->v[0]);
			c->n--;
			return 0;
		}
	return no_entry(c, name, e);
}

int creds_save(struct creds *c, struct rt_err *e)
{
	struct buf b;
	char mac[65];
	int rc = -1;
	buf_init(&b, CREDS_FILE_MAX);
	if (buf_printf(&b, HEADER "key-id %s\n", c->key_id))
		goto full;
	for (size_t i = 0; i < c->n; i++)
		if (buf_printf(&b, "secret %s %s\n", c->v[i].name, c->v[i].token))
			goto full;
	file_mac(&c->key, b.data, b.len, mac);
	if (buf_printf(&b, "mac %s\n", mac))
		goto full;
	/* exactly 0600, whatever the umask: not atomic_publish's mode & ~umask */
	struct atomic_file a;
	if (atomic_open(&a, c->path, 0600, e) == 0) {
		if (fchmod(a.fd, 0600)) {
			err_set(e, ERR_IO, "%s: chmod of the temporary file: %s", c->path,
				strerror(errno));
			atomic_abort(&a);
		} else if (atomic_write(&a, b.data, b.len, e)) {
			atomic_abort(&a);
		} else {
			rc = atomic_commit(&a, e);
		}
	}
	buf_free(&b);
	return rc;
full:
	err_set(e, ERR_USAGE, "credentials file %s would be larger than %u bytes", c->path,
		CREDS_FILE_MAX);
	buf_free(&b);
	return -1;
}

/* A new random key in k, written to a new file at key_path. */
static int new_key(const char *key_path, struct fernet_key *k, struct rt_err *e)
{
	char text[FERNET_KEY_TEXT_LEN + 2];
	if (fernet_key_generate(k)) {
		err_set(e, ERR_IO, "no random bytes for a key (OpenSSL's RAND_bytes failed)");
		return -1;
	}
	fernet_key_format(k, text);
	strcat(text, "\n");
	int rc = secfile_create(key_path, "key file", text, strlen(text), e);
	OPENSSL_cleanse(text, sizeof text);
	if (rc)
		fernet_key_wipe(k);
	return rc;
}

int creds_keygen(const char *key_path, struct rt_err *e)
{
	struct fernet_key k;
	int rc = new_key(key_path, &k, e);
	fernet_key_wipe(&k);
	return rc;
}

/* The key id a store was written under, read without its key. */
static int stored_key_id(const char *path, char out[17], struct rt_err *e)
{
	struct buf b;
	if (secfile_read(path, "credentials file", CREDS_FILE_MAX, &b, e))
		return -1;
	size_t hl = strlen(HEADER);
	int ok = b.len >= hl + 7 + 16 && !memcmp(b.data, HEADER, hl) &&
		 !memcmp(b.data + hl, "key-id ", 7);
	if (ok) {
		memcpy(out, b.data + hl + 7, 16);
		out[16] = 0;
	} else {
		err_set(e, ERR_CONFIG, "%s is not a credentials file", path);
	}
	buf_free(&b);
	return ok ? 0 : -1;
}

static int key_file_id(const char *path, char out[17], struct rt_err *e)
{
	struct fernet_key k;
	if (read_key(path, &k, e))
		return -1;
	key_id(&k, out);
	fernet_key_wipe(&k);
	return 0;
}

/* Re-encrypts every entry of c under k, at its original time. */
static int reencrypt(struct creds *c, const struct fernet_key *k, struct rt_err *e)
{
	for (size_t i = 0; i < c->n; i++) {
		char *plain, *tok;
		size_t n;
		if (creds_get(c, c->v[i].name, &plain, &n, e))
			return -1;
		enum fernet_status st = fernet_encrypt(k, plain, n, c->v[i].set, NULL, &tok);
		OPENSSL_cleanse(plain, n);
		free(plain);
		if (st != FERNET_OK) {
			err_set(e, ERR_IO, "cannot encrypt: %s", fernet_status_text(st));
			return -1;
		}
		free(c->v[i].token);
		c->v[i].token = tok;
	}
	return 0;
}

int creds_rotate(const char *path, const char *key_path, const char **note, struct rt_err *e)
{
	char *kp = NULL, *next = NULL;
	struct creds c;
	struct fernet_key nk;
	char file_id[17], id[17];
	int rc = -1, lock = -1;
	*note = "";
	if (key_path)
		kp = strdup(key_path);
	else if (asprintf(&kp, "%s.key", path) < 0)
		kp = NULL;
	if (!kp || asprintf(&next, "%s.new", kp) < 0) {
		free(kp);
		err_set(e, ERR_IO, "out of memory");
		return -1;
	}
	if ((lock = creds_lock(path, e)) < 0)
		goto out;
	if (access(next, F_OK) == 0) {
		/* an earlier rotation stopped: before publishing the store (its
		 * new key, whole or not, was never used: start over) or after
		 * (finish it by putting the new key in place) */
		struct rt_err ignored;
		if (stored_key_id(path, file_id, e))
			goto out;
		if (key_file_id(kp, id, &ignored) == 0 && !strcmp(id, file_id)) {
			if (unlink(next)) {
				err_set(e, ERR_IO, "%s: cannot remove the unused key of an "
						   "interrupted rotation: %s", next, strerror(errno));
				goto out;
			}
		} else if (key_file_id(next, id, e) == 0 && !strcmp(id, file_id)) {
			if (atomic_rename(next, kp, e) == 0) {
				*note = "finished an interrupted rotation: the store was already "
					"under the new key";
				rc = 0;
			}
			goto out;
		} else {
			err_set(e, ERR_CONFIG, "neither %s nor %s matches credentials file %s", kp,
				next, path);
			err_hint(e, "find the key the file was made with");
			goto out;
		}
	}
	if (creds_open(&c, path, kp, 0, e))
		goto out;
	/* the new key is written first, but the store stays under the old
	 * one until every entry was re-encrypted and published */
	if (new_key(next, &nk, e) == 0) {
		int published = 0;
		if (reencrypt(&c, &nk, e) == 0) {
			fernet_key_wipe(&c.key);
			c.key = nk;
			key_id(&c.key, c.key_id);
			published = creds_save(&c, e) == 0;
			if (published && atomic_rename(next, kp, e) == 0) {
				*note = "every entry is now under the new key";
				rc = 0;
			}
		}
		if (!published) /* the store is still under the old key: KEY.new is unused */
			unlink(next);
	}
	fernet_key_wipe(&nk);
	creds_close(&c);
out:
	creds_unlock(lock);
	free(kp);
	free(next);
	return rc;
}

int creds_lock(const char *path, struct rt_err *e)
{
	/* the folder, not a file: the store and its key are replaced by
	 * renames, and a lock on a replaced file would guard nothing */
	char *dir = atomic_dir_of(path);
	int fd = dir ? open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1;
	if (fd < 0)
		err_set(e, ERR_CONFIG, "%s: cannot open the folder of credentials file %s: %s",
			dir ? dir : "?", path, strerror(errno));
	else
		while (flock(fd, LOCK_EX) && errno == EINTR)
			;
	free(dir);
	return fd;
}

void creds_unlock(int fd)
{
	if (fd >= 0)
		close(fd); /* releases the lock */
}

char *creds_resolve(const char *path, const char *key_path, const char *ref, const char *what,
		    struct rt_err *e)
{
	struct creds c;
	char *secret = NULL;
	if (!creds_is_ref(ref)) {
		err_set(e, ERR_USAGE, "%s takes the name of a stored secret (creds:NAME)", what);
		err_hint(e, "secrets never go on a command line or in a job file: store it with "
			    "creds set NAME and give creds:NAME");
		return NULL;
	}
	if (!path || !*path)
		path = getenv("ROSTER_CREDENTIALS");
	if (!path || !*path) {
		err_set(e, ERR_USAGE, "%s names a stored secret, but no credentials file is given",
			what);
		err_hint(e, "--credentials FILE (or ROSTER_CREDENTIALS)");
		return NULL;
	}
	if (creds_open(&c, path, key_path, 0, e))
		return NULL;
	creds_get(&c, ref + 6, &secret, NULL, e);
	creds_close(&c);
	return secret;
}
