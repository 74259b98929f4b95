/* Where extract-sftp's files come from: an SFTP server (with its
 * reconnections) or a local folder; a file fetched into staging. */
#include "engine/ingest_int.h"
#include "core/atomic.h"
#include "core/b64.h"
#include "core/clock.h"
#include "core/err.h"
#include "core/gunzip.h"
#include "core/log.h"
#include "core/vec.h"
#include "net/retry.h"
#include "net/sftp.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define READ_CHUNK 65536

/* ---- where files come from: SFTP or a local folder ---- */


static void remote_path(const struct isrc *s, const char *name, char *out, size_t n)
{
	const char *dir = s->o->local ? s->dir : s->o->folder;
	size_t l = strlen(dir);
	if (!strcmp(dir, ".") && !s->o->local)
		snprintf(out, n, "%s", name);
	else
		snprintf(out, n, "%s%s%s", dir, l && dir[l - 1] == '/' ? "" : "/", name);
}

static int isrc_connect(struct isrc *s, struct rt_err *e)
{
	if (s->o->local || s->conn)
		return 0;
	err_clear(e);
	s->conn = sftp_open(&s->conf, e);
	return s->conn ? 0 : -1;
}

void isrc_drop(struct isrc *s)
{
	if (s->conn)
		sftp_close(s->conn);
	s->conn = NULL;
}

/* Waits before another attempt; -1 (e filled) when the deadline forbids it. */
static int backoff(struct isrc *s, int attempt, struct rt_err *e)
{
	struct retry_policy p;
	retry_policy_default(&p);
	p.deadline = s->deadline;
	double w = retry_backoff(&p, attempt, 0, clk_uniform());
	struct rt_err we;
	err_clear(&we);
	if (retry_wait_allowed(&p, w, clk_now(), &we)) {
		snprintf(e->hint, sizeof e->hint, "%s", we.msg);
		return -1;
	}
	clk_sleep(w);
	return 0;
}

/* Connects, retrying a lost or refused connection (never a refused key). */
static int isrc_open(struct isrc *s, struct rt_err *e)
{
	for (int attempt = 1;; attempt++) {
		if (isrc_connect(s, e) == 0)
			return 0;
		if (e->kind != ERR_NETWORK || attempt >= INGEST_ATTEMPTS)
			return -1;
		log_warn("%s: %s; trying again (attempt %d of %d)", s->where, e->msg, attempt + 1,
			 INGEST_ATTEMPTS);
		if (backoff(s, attempt, e))
			return -1;
	}
}

static int cmp_name(const void *a, const void *b)
{
	return strcmp(((const struct sftp_entry *)a)->name, ((const struct sftp_entry *)b)->name);
}

static int local_entry(const char *path, const char *name, int follow, struct sftp_entry *x,
		       struct rt_err *e)
{
	struct stat st;
	if ((follow ? stat(path, &st) : lstat(path, &st))) {
		if (errno == ENOENT)
			return 1;
		err_set(e, ERR_IO, "%s: %s", path, strerror(errno));
		return -1;
	}
	memset(x, 0, sizeof *x);
	snprintf(x->name, sizeof x->name, "%s", name);
	x->size = (unsigned long long)st.st_size;
	x->mtime = (long long)st.st_mtime;
	x->regular = S_ISREG(st.st_mode);
	return 0;
}

int isrc_list(struct isrc *s, struct sftp_entry **out, size_t *n, struct rt_err *e)
{
	*out = NULL;
	*n = 0;
	if (!s->o->local) {
		if (isrc_open(s, e))
			return -1;
		if (sftp_list(s->conn, s->o->folder, out, n, e) == 0)
			return 0;
		if (e->kind != ERR_NETWORK)
			return -1;
		isrc_drop(s); /* once more on a fresh connection */
		if (isrc_open(s, e))
			return -1;
		return sftp_list(s->conn, s->o->folder, out, n, e);
	}
	char path[PATH_MAX + 256];
	if (s->only[0]) {
		struct sftp_entry *x = calloc(1, sizeof *x);
		if (!x) {
			err_set(e, ERR_IO, "out of memory");
			return -1;
		}
		remote_path(s, s->only, path, sizeof path);
		int rc = local_entry(path, s->only, 1, x, e);
		if (rc) {
			if (rc > 0)
				err_set(e, ERR_IO, "%s: no such file", path);
			free(x);
			return -1;
		}
		*out = x;
		*n = 1;
		return 0;
	}
	DIR *d = opendir(s->dir);
	if (!d) {
		err_set(e, ERR_IO, "%s: %s", s->dir, strerror(errno));
		err_hint(e, "--local names a file or a folder that exists");
		return -1;
	}
	size_t cap = 0;
	struct dirent *de;
	int rc = 0;
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (VEC_RESERVE(*out, cap, *n + 1, 32)) {
			err_set(e, ERR_IO, "out of memory");
			rc = -1;
			break;
		}
		remote_path(s, de->d_name, path, sizeof path);
		int got = local_entry(path, de->d_name, 0, &(*out)[*n], e);
		if (got < 0) {
			rc = -1;
			break;
		}
		if (got == 0)
			(*n)++;
	}
	closedir(d);
	if (rc) {
		free(*out);
		*out = NULL;
		*n = 0;
		return -1;
	}
	if (*n) /* an empty folder has no array at all */
		qsort(*out, *n, sizeof **out, cmp_name);
	return 0;
}

/* 0 found, 1 no such file, -1 error. */
int isrc_stat(struct isrc *s, const char *name, struct sftp_entry *x, struct rt_err *e)
{
	char path[PATH_MAX + 256];
	remote_path(s, name, path, sizeof path);
	if (s->o->local)
		return local_entry(path, name, s->only[0] != 0, x, e);
	if (isrc_open(s, e))
		return -1;
	int rc = sftp_stat(s->conn, path, x, e);
	if (rc < 0 && e->kind == ERR_NETWORK) {
		isrc_drop(s);
		if (isrc_open(s, e))
			return -1;
		rc = sftp_stat(s->conn, path, x, e);
	}
	return rc;
}

static int isrc_get(struct isrc *s, const char *name, sftp_chunk_fn fn, void *ctx,
		    unsigned long long *got, struct rt_err *e)
{
	char path[PATH_MAX + 256];
	remote_path(s, name, path, sizeof path);
	*got = 0;
	if (!s->o->local) {
		if (isrc_open(s, e))
			return -1;
		return sftp_get(s->conn, path, fn, ctx, got, e);
	}
	int fd = open(path, O_RDONLY | O_CLOEXEC | (s->only[0] ? 0 : O_NOFOLLOW));
	if (fd < 0) {
		err_set(e, ERR_IO, "%s: %s", path, strerror(errno));
		return -1;
	}
	static char chunk[READ_CHUNK];
	int rc = 0;
	for (;;) {
		ssize_t r = read(fd, chunk, sizeof chunk);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			err_set(e, ERR_IO, "%s: read: %s", path, strerror(errno));
			rc = -1;
			break;
		}
		if (r == 0)
			break;
		*got += (unsigned long long)r;
		if (fn(ctx, chunk, (size_t)r, e)) {
			rc = -1;
			break;
		}
	}
	close(fd);
	return rc;
}

/* ---- fetching one file into staging ---- */

struct fetch_sink {
	struct atomic_file af;
	EVP_MD_CTX *md;
	struct gunzip *gz;
};

static int sink_out(void *ctx, const void *d, size_t n, struct rt_err *e)
{
	struct fetch_sink *f = ctx;
	return atomic_write(&f->af, d, n, e);
}

static int sink_chunk(void *ctx, const void *d, size_t n, struct rt_err *e)
{
	struct fetch_sink *f = ctx;
	if (!EVP_DigestUpdate(f->md, d, n)) {
		err_set(e, ERR_IO, "SHA-256 failed");
		return -1;
	}
	return f->gz ? gunzip_feed(f->gz, d, n, e) : atomic_write(&f->af, d, n, e);
}

/* One attempt: the file into a temporary name beside staged, renamed over
 * it only when complete; on any failure staged is left as it was. */
static int fetch_once(struct isrc *s, const struct sftp_entry *x, const char *staged,
		      char sha[65], struct rt_err *e)
{
	struct fetch_sink f = {0};
	unsigned long long got = 0;
	int rc = -1, done = 0;
	if (atomic_open(&f.af, staged, 0600, e))
		return -1;
	if (!(f.md = EVP_MD_CTX_new()) || !EVP_DigestInit_ex(f.md, EVP_sha256(), NULL)) {
		err_set(e, ERR_IO, "cannot start SHA-256");
		goto out;
	}
	if (gunzip_name(x->name) &&
	    !(f.gz = gunzip_new(x->name, s->o->max_expanded, sink_out, &f, e)))
		goto out;
	if (isrc_get(s, x->name, sink_chunk, &f, &got, e))
		goto out;
	if (f.gz && gunzip_finish(f.gz, e))
		goto out;
	if (got != x->size) {
		err_set(e, ERR_DATA, "%s: %llu bytes read where the folder listed %llu: it changed "
				     "while it was read", x->name, got, x->size);
		err_hint(e, "it will be taken on a later run, once it stops changing");
		goto out;
	}
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned mdlen = 0;
	if (!EVP_DigestFinal_ex(f.md, md, &mdlen)) {
		err_set(e, ERR_IO, "SHA-256 failed");
		goto out;
	}
	b16_encode(md, mdlen, sha);
	done = 1; /* commit releases the temporary file, whatever it returns */
	rc = atomic_commit(&f.af, e);
out:
	if (!done)
		atomic_abort(&f.af);
	gunzip_free(f.gz);
	EVP_MD_CTX_free(f.md);
	return rc;
}

int isrc_fetch(struct isrc *s, const struct sftp_entry *x, const char *staged,
	       char sha[65], struct rt_err *e)
{
	for (int attempt = 1;; attempt++) {
		err_clear(e);
		if (fetch_once(s, x, staged, sha, e) == 0)
			return 0;
		if (s->o->local || e->kind != ERR_NETWORK || attempt >= INGEST_ATTEMPTS)
			return -1;
		log_warn("%s: %s; reconnecting (attempt %d of %d)", s->where, e->msg, attempt + 1,
			 INGEST_ATTEMPTS);
		isrc_drop(s);
		if (backoff(s, attempt, e))
			return -1;
	}
}


int isrc_local_setup(struct isrc *s, struct rt_err *e)
{
	struct stat st;
	if (stat(s->o->local, &st)) {
		err_set(e, ERR_USAGE, "--local %s: %s", s->o->local, strerror(errno));
		return -1;
	}
	if (S_ISDIR(st.st_mode)) {
		snprintf(s->dir, sizeof s->dir, "%s", s->o->local);
	} else {
		const char *slash = strrchr(s->o->local, '/');
		const char *base = slash ? slash + 1 : s->o->local;
		if (!*base || strlen(base) >= sizeof s->only) {
			err_set(e, ERR_USAGE, "--local %s: not a file name", s->o->local);
			return -1;
		}
		snprintf(s->only, sizeof s->only, "%s", base);
		if (slash)
			snprintf(s->dir, sizeof s->dir, "%.*s", (int)(slash - s->o->local + (slash == s->o->local)),
				 s->o->local);
		else
			snprintf(s->dir, sizeof s->dir, ".");
	}
	snprintf(s->where, sizeof s->where, "%.399s", s->dir);
	return 0;
}
