/* The ingest layer of extract-sftp (lib/engine/ingest.h): select, settle, fetch,
 * stage, read and emit the files of a drop folder. */
#include "engine/ingest.h"
#include "core/atomic.h"
#include "core/b64.h"
#include "core/buf.h"
#include "core/civil.h"
#include "core/clock.h"
#include "core/exitcode.h"
#include "core/gunzip.h"
#include "core/htab.h"
#include "core/lines.h"
#include "core/log.h"
#include "core/vec.h"
#include "core/wordlist.h"
#include "format/jsonw.h"
#include "net/fetch.h"
#include "net/retry.h"
#include "net/sftp.h"
#include "auth/secret.h"

#include <cjson/cJSON.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <limits.h>
#include <stdarg.h>
#include <openssl/evp.h>
#include <pwd.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define LEDGER_LINE_CAP (64 << 10)
#define FOLD_LINE_CAP (16 << 20)
#define READ_CHUNK 65536

const struct job_key sftp_job_keys[] = {
	{"host", "--host", JK_PLAIN},
	{"port", "--port", JK_INTEGER},
	{"user", "--user", JK_PLAIN},
	{"known_hosts", "--known-hosts", JK_PATH},
	{"fingerprint", "--fingerprint", JK_PLAIN},
	{"key", "--key", JK_PATH},
	{"passphrase", "--passphrase", JK_SECRET},
	{"password", "--password", JK_SECRET},
	{"folder", "--folder", JK_PLAIN},
	{"pattern", "--pattern", JK_PLAIN},
	{"take", "--take", JK_PLAIN},
	{"settle", "--settle", JK_PLAIN},
	{"marker", "--marker", JK_PLAIN},
	{"profile", "--profile", JK_PLAIN},
	{"encoding", "--encoding", JK_PLAIN},
	{"delimiter", "--delimiter", JK_PLAIN},
	{"max_expanded", "--max-expanded", JK_PLAIN},
	{"local", "--local", JK_PATH},
	{"reprocess", "--reprocess", JK_FLAG},
	{NULL, NULL, JK_PLAIN},
};

void ingest_opts_init(struct ingest_opts *o)
{
	memset(o, 0, sizeof *o);
	o->folder = ".";
	o->take = TAKE_NEWEST;
	o->settle = INGEST_DEFAULT_SETTLE;
	o->max_expanded = INGEST_DEFAULT_MAX_EXPANDED;
	o->drop.csv.delim = CSV_DELIM_AUTO;
	o->drop.csv.enc = CSV_ENC_AUTO;
}

static int nfiles(const struct drop_profile *p)
{
	int n = 0;
	while (p->files[n].name)
		n++;
	return n;
}

/* The login when none is given: the account running the program, as ssh
 * and sftp default to. NULL when it has no name. */
static const char *login_name(void)
{
	const struct passwd *pw = getpwuid(geteuid());
	return pw && pw->pw_name && *pw->pw_name ? pw->pw_name : NULL;
}

int ingest_check_opts(const struct ingest_opts *o, struct rt_err *e)
{
	if (!o->profile) {
		err_set(e, ERR_USAGE, "--profile NAME is required");
		err_hint(e, "extract-sftp --help lists the profiles");
		return -1;
	}
	if (nfiles(o->profile) == 0) {
		err_set(e, ERR_USAGE, "--profile %s: the profile has no files", o->profile->name);
		return -1;
	}
	if (o->take == TAKE_ALL && nfiles(o->profile) > 1) {
		err_set(e, ERR_USAGE, "--take all does not apply to the %s profile: its files are "
				      "a bundle, a full snapshot each time", o->profile->name);
		err_hint(e, "leave --take at newest for bundle profiles");
		return -1;
	}
	/* folding snapshots would keep forever the people a newer one dropped */
	if (o->take == TAKE_ALL && !o->profile->increments) {
		err_set(e, ERR_USAGE, "--take all does not apply to the %s profile: %s files are "
				      "whole snapshots: take the newest", o->profile->name,
			o->profile->name);
		err_hint(e, "--take all is for profiles whose files are increments (one day's "
			    "absences); leave --take at newest");
		return -1;
	}
	if (o->take == TAKE_ALL && !o->staging) {
		err_set(e, ERR_USAGE, "--take all needs --staging DIR (the ledger of files already "
				      "taken and the fold live there)");
		return -1;
	}
	if (o->local) {
		if (o->host) {
			err_set(e, ERR_USAGE, "--local and --host exclude each other");
			return -1;
		}
		return 0;
	}
	if (!o->host || !*o->host) {
		err_set(e, ERR_USAGE, "--host HOST is required (or --local PATH for a local folder)");
		return -1;
	}
	if ((!o->user || !*o->user) && !login_name()) {
		err_set(e, ERR_USAGE, "--user NAME is required (this account has no name to default to)");
		return -1;
	}
	if (!o->known_hosts && !o->fingerprint) {
		err_set(e, ERR_USAGE, "--known-hosts FILE or --fingerprint SHA256:... is required: "
				      "the server's host key is checked before any credential is sent");
		err_hint(e, "ssh-keyscan -p PORT HOST | ssh-keygen -lf - prints the fingerprint; "
			    "compare it with the one the vendor gave you");
		return -1;
	}
	if (!o->key_file && !o->password_ref) {
		err_set(e, ERR_USAGE, "--key FILE or --password creds:NAME is required");
		return -1;
	}
	if (o->passphrase_ref && !o->key_file) {
		err_set(e, ERR_USAGE, "--passphrase goes with --key (the key file it unlocks)");
		return -1;
	}
	if (!o->staging) {
		err_set(e, ERR_USAGE, "--staging DIR is required with SFTP (downloads, the ledger "
				      "of files already taken)");
		return -1;
	}
	return 0;
}

/* ---- pure functions ---- */

int ingest_parse_size(const char *s, unsigned long long *out)
{
	char *end;
	if (!s || !isdigit((unsigned char)*s))
		return -1;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno)
		return -1;
	unsigned shift = 0;
	if (*end) {
		switch (toupper((unsigned char)*end)) {
		case 'K': shift = 10; break;
		case 'M': shift = 20; break;
		case 'G': shift = 30; break;
		case 'T': shift = 40; break;
		default: return -1;
		}
		end++;
		if (toupper((unsigned char)*end) == 'B' || toupper((unsigned char)*end) == 'I')
			end++; /* "512MB", "2GiB" */
		if (toupper((unsigned char)*end) == 'B')
			end++;
		if (*end)
			return -1;
	}
	if (v == 0 || v > (ULLONG_MAX >> shift))
		return -1;
	*out = v << shift;
	return 0;
}

int ingest_name_ok(const char *name, char *shown, size_t n)
{
	int ok = *name && !strchr(name, '/') && !strstr(name, "..");
	for (const unsigned char *p = (const unsigned char *)name; *p; p++)
		if (*p < 0x20 || *p == 0x7f)
			ok = 0;
	if (ok || !shown || !n)
		return ok;
	size_t o = 0;
	for (const unsigned char *p = (const unsigned char *)name; *p && o + 5 < n; p++) {
		if (*p == '\n')
			o += snprintf(shown + o, n - o, "\\n");
		else if (*p == '\r')
			o += snprintf(shown + o, n - o, "\\r");
		else if (*p == '\t')
			o += snprintf(shown + o, n - o, "\\t");
		else if (*p < 0x20 || *p == 0x7f)
			o += snprintf(shown + o, n - o, "\\x%02x", *p);
		else
			shown[o++] = (char)*p;
	}
	shown[o] = 0;
	return 0;
}

static int valid_ymd(long y, long m, long d)
{
	return y >= 1970 && y <= 2199 && m >= 1 && m <= 12 && d >= 1 &&
	       d <= civil_month_days(y, (int)m);
}

/* Digits at s (at most max of them), as a number in *v: their count. */
static int digits(const char *s, int max, long *v)
{
	int n = 0;
	*v = 0;
	while (n < max && isdigit((unsigned char)s[n]))
		*v = *v * 10 + (s[n++] - '0');
	return n;
}

int ingest_name_date(const char *name, long *ymd)
{
	size_t len = strlen(name);
	for (size_t i = 0; i < len; i++) {
		if (!isdigit((unsigned char)name[i]) || (i > 0 && isdigit((unsigned char)name[i - 1])))
			continue;
		const char *s = name + i;
		long a, b, c;
		int na = digits(s, 9, &a);
		/* YYYYMMDD: exactly eight digits */
		if (na == 8) {
			long y = a / 10000, m = a / 100 % 100, d = a % 100;
			if (valid_ymd(y, m, d)) {
				*ymd = a;
				return 1;
			}
			continue;
		}
		char sep = s[na];
		if (sep != '-' && sep != '_')
			continue;
		int nb = digits(s + na + 1, 3, &b);
		if (nb < 1 || nb > 2 || s[na + 1 + nb] != sep)
			continue;
		const char *t = s + na + 1 + nb + 1;
		int nc = digits(t, 5, &c);
		if (na == 4 && nc == 2 && valid_ymd(a, b, c)) { /* YYYY-MM-DD */
			*ymd = a * 10000 + b * 100 + c;
			return 1;
		}
		if (na <= 2 && nc == 4 && valid_ymd(c, a, b)) { /* M-D-YYYY, MM-DD-YYYY */
			*ymd = c * 10000 + a * 100 + b;
			return 1;
		}
	}
	return 0;
}

void ingest_marker_for(const char *marker, const char *name, char *out, size_t n)
{
	size_t o = 0;
	out[0] = 0;
	for (const char *p = marker; *p && o + 1 < n;) {
		if (!strncmp(p, "{name}", 6)) {
			o += snprintf(out + o, n - o, "%s", name);
			if (o >= n)
				o = n - 1;
			p += 6;
		} else {
			out[o++] = *p++;
		}
	}
	out[o] = 0;
}

/* ---- ledger ---- */

static void ledger_entry_free(struct ledger_entry *x)
{
	free(x->name);
	x->name = NULL;
}

struct ledger_entry *ledger_find(struct ledger *l, const char *name)
{
	for (size_t i = 0; i < l->n; i++)
		if (!strcmp(l->v[i].name, name))
			return &l->v[i];
	return NULL;
}

int ledger_put(struct ledger *l, const struct ledger_entry *x)
{
	struct ledger_entry *d = ledger_find(l, x->name);
	char *name = strdup(x->name);
	if (!name)
		return -1;
	if (!d) {
		if (VEC_RESERVE(l->v, l->cap, l->n + 1, 16)) {
			free(name);
			return -1;
		}
		d = &l->v[l->n++];
	} else {
		ledger_entry_free(d);
	}
	*d = *x;
	d->name = name;
	return 0;
}

void ledger_free(struct ledger *l)
{
	for (size_t i = 0; i < l->n; i++)
		ledger_entry_free(&l->v[i]);
	free(l->v);
	memset(l, 0, sizeof *l);
}

static const char *jstring(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static int jnumber(const cJSON *o, const char *k, double *out)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
	if (!cJSON_IsNumber(v))
		return -1;
	*out = v->valuedouble;
	return 0;
}

int ledger_load(struct ledger *l, const char *path, struct rt_err *e)
{
	memset(l, 0, sizeof *l);
	FILE *fp = fopen(path, "r");
	if (!fp) {
		if (errno == ENOENT)
			return 0; /* the first run */
		err_set(e, ERR_IO, "%s: %s", path, strerror(errno));
		return -1;
	}
	struct lines r;
	int rc = 0, got;
	lines_init(&r, fp, path, LEDGER_LINE_CAP);
	while ((got = lines_next(&r, e)) == 1) {
		if (!r.line.len)
			continue;
		cJSON *j = cJSON_ParseWithLength(r.line.data, r.line.len);
		struct ledger_entry x = {0};
		double size = 0, mtime = 0, records = 0;
		const char *name = jstring(j, "name"), *sha = jstring(j, "sha256");
		const char *at = jstring(j, "ingested_at");
		if (!name || jnumber(j, "size", &size) || jnumber(j, "mtime", &mtime) ||
		    (sha && strlen(sha) != 64)) {
			err_set(e, ERR_DATA, "%s:%ld: not a ledger entry (name, size, mtime, sha256)",
				path, r.lineno);
			err_hint(e, "the ledger was edited by hand; fix the line or remove the file "
				    "(every file in the drop is then taken again)");
			cJSON_Delete(j);
			rc = -1;
			break;
		}
		jnumber(j, "records", &records);
		x.name = (char *)name;
		x.size = (unsigned long long)size;
		x.mtime = (long long)mtime;
		x.records = (long)records;
		snprintf(x.sha256, sizeof x.sha256, "%s", sha ? sha : "");
		snprintf(x.ingested_at, sizeof x.ingested_at, "%s", at ? at : "");
		if (ledger_put(l, &x)) {
			err_set(e, ERR_IO, "%s: out of memory", path);
			cJSON_Delete(j);
			rc = -1;
			break;
		}
		cJSON_Delete(j);
	}
	if (got < 0)
		rc = -1;
	lines_free(&r);
	fclose(fp);
	if (rc)
		ledger_free(l);
	return rc;
}

int ledger_save(const struct ledger *l, const char *path, struct rt_err *e)
{
	struct buf b;
	buf_init(&b, (size_t)1 << 30);
	int bad = 0;
	for (size_t i = 0; i < l->n; i++) {
		const struct ledger_entry *x = &l->v[i];
		bad |= buf_adds(&b, "{\"name\":") || jsonw_str(&b, x->name) ||
		       buf_printf(&b, ",\"size\":%llu,\"mtime\":%lld,\"sha256\":\"%s\",", x->size,
				  x->mtime, x->sha256) ||
		       buf_adds(&b, "\"ingested_at\":") || jsonw_str(&b, x->ingested_at) ||
		       buf_printf(&b, ",\"records\":%ld}\n", x->records);
	}
	int rc = -1;
	if (bad)
		err_set(e, ERR_IO, "%s: out of memory", path);
	else
		rc = atomic_publish(path, b.data ? b.data : "", b.len, 0644, e);
	buf_free(&b);
	return rc;
}

/* ---- fold ---- */


int fold_apply(struct fold *f, const char *key, size_t keylen, int cancel, const char *json,
	       size_t len)
{
	size_t klen = key ? strnlen(key, keylen) : 0; /* a key ends at a NUL */
	struct htab_pos at;
	size_t i = 0;
	if (key) {
		if (HTAB_RESERVE(&f->index, f->v, f->n))
			return -1;
		i = HTAB_LOOKUP(&f->index, f->v, key, klen, &at);
	}
	if (i) { /* a key we hold (or held): replace or remove in place */
		struct fold_item *it = &f->v[i - 1];
		if (it->json)
			f->removed++;
		free(it->json);
		it->json = NULL;
		if (cancel)
			return 0;
		if (!(it->json = strndup(json, len)))
			return -1;
		f->removed--;
		return 0;
	}
	if (cancel) /* nothing to remove */
		return 0;
	if (VEC_RESERVE(f->v, f->cap, f->n + 1, 64))
		return -1;
	char *k = NULL, *j = strndup(json, len);
	if (!j || (key && !(k = strndup(key, klen)))) {
		free(j);
		return -1;
	}
	f->v[f->n] = (struct fold_item){{k, klen}, j};
	if (key)
		htab_set(&f->index, &at, f->n);
	f->n++;
	return 0;
}

size_t fold_count(const struct fold *f)
{
	return f->n - f->removed;
}

void fold_free(struct fold *f)
{
	for (size_t i = 0; i < f->n; i++) {
		free(f->v[i].k.key);
		free(f->v[i].json);
	}
	free(f->v);
	htab_free(&f->index);
	memset(f, 0, sizeof *f);
}

/* The record's text in a line as fold_save writes it,
 * {"key":"..."|null,"record":{...}}: reloaded as it was, since a reprint
 * would rewrite numbers ("Days":1.0 as 1, FTE 1.000 as 1). 0, or -1 when
 * the line is laid out otherwise (the caller reprints the parsed record). */
static int fold_record_text(const char *line, size_t len, const char **rec, size_t *rlen)
{
	static const char head[] = "{\"key\":", mid[] = ",\"record\":";
	size_t i = sizeof head - 1;
	if (len < i || memcmp(line, head, i))
		return -1;
	if (len - i >= 4 && !memcmp(line + i, "null", 4)) {
		i += 4;
	} else if (i < len && line[i] == '"') {
		for (i++; i < len && line[i] != '"'; i++)
			if (line[i] == '\\')
				i++;
		if (i >= len)
			return -1;
		i++;
	} else {
		return -1;
	}
	if (len - i < sizeof mid - 1 || memcmp(line + i, mid, sizeof mid - 1))
		return -1;
	i += sizeof mid - 1;
	size_t end = len;
	while (end > i && (line[end - 1] == ' ' || line[end - 1] == '\r'))
		end--;
	if (end <= i + 1 || line[end - 1] != '}' || line[i] != '{')
		return -1;
	/* the text between must be the record alone (no member after it) */
	const char *stop = NULL;
	cJSON *j = cJSON_ParseWithLengthOpts(line + i, end - 1 - i, &stop, 0);
	int whole = cJSON_IsObject(j) && stop == line + end - 1;
	cJSON_Delete(j);
	if (!whole)
		return -1;
	*rec = line + i;
	*rlen = end - 1 - i;
	return 0;
}

int fold_load(struct fold *f, const char *path, struct rt_err *e)
{
	memset(f, 0, sizeof *f);
	FILE *fp = fopen(path, "r");
	if (!fp) {
		if (errno == ENOENT)
			return 0;
		err_set(e, ERR_IO, "%s: %s", path, strerror(errno));
		return -1;
	}
	struct lines r;
	int rc = 0, got;
	lines_init(&r, fp, path, FOLD_LINE_CAP);
	while ((got = lines_next(&r, e)) == 1) {
		if (!r.line.len)
			continue;
		cJSON *j = cJSON_ParseWithLength(r.line.data, r.line.len);
		const cJSON *key = cJSON_GetObjectItemCaseSensitive(j, "key");
		const cJSON *rec = cJSON_GetObjectItemCaseSensitive(j, "record");
		const char *raw;
		size_t rawlen;
		char *txt = NULL;
		if (cJSON_IsObject(rec)) {
			if (fold_record_text(r.line.data, r.line.len, &raw, &rawlen) == 0)
				txt = strndup(raw, rawlen);
			else
				txt = cJSON_PrintUnformatted(rec);
		}
		if (!txt || !(cJSON_IsString(key) || cJSON_IsNull(key))) {
			err_set(e, ERR_DATA, "%s:%ld: not a fold entry ({\"key\":..,\"record\":{..}})",
				path, r.lineno);
			err_hint(e, "remove the file and run with --reprocess to rebuild it from "
				    "the staged files");
			rc = -1;
		} else if (fold_apply(f, cJSON_IsString(key) ? key->valuestring : NULL,
				      cJSON_IsString(key) ? strlen(key->valuestring) : 0, 0, txt,
				      strlen(txt))) {
			err_set(e, ERR_IO, "%s: out of memory", path);
			rc = -1;
		}
		free(txt);
		cJSON_Delete(j);
		if (rc)
			break;
	}
	if (got < 0)
		rc = -1;
	lines_free(&r);
	fclose(fp);
	if (rc)
		fold_free(f);
	return rc;
}

int fold_save(const struct fold *f, const char *path, struct rt_err *e)
{
	struct atomic_file a;
	if (atomic_open(&a, path, 0644, e))
		return -1;
	FILE *fp = atomic_fp(&a, e);
	if (!fp) {
		atomic_abort(&a);
		return -1;
	}
	struct buf b;
	buf_init(&b, FOLD_LINE_CAP);
	int bad = 0;
	for (size_t i = 0; i < f->n && !bad; i++) {
		const struct fold_item *it = &f->v[i];
		if (!it->json)
			continue;
		buf_reset(&b);
		bad = buf_adds(&b, "{\"key\":") ||
		      (it->k.key ? jsonw_str(&b, it->k.key) : buf_adds(&b, "null")) ||
		      buf_adds(&b, ",\"record\":") || buf_adds(&b, it->json) || buf_adds(&b, "}\n") ||
		      fwrite(b.data, 1, b.len, fp) != b.len;
	}
	buf_free(&b);
	if (bad) {
		err_set(e, ERR_IO, "%s: cannot write the fold", path);
		atomic_abort(&a);
		return -1;
	}
	return atomic_commit(&a, e);
}

/* ---- where files come from: SFTP or a local folder ---- */

struct isrc {
	const struct ingest_opts *o;
	struct sftp_conf conf;
	struct sftp_conn *conn;
	char dir[PATH_MAX]; /* local: the folder */
	char only[256];     /* local: the one file named by --local FILE, or "" */
	char where[400];    /* "user@host:port folder" or the local folder */
	double deadline;    /* absolute, 0: none */
};

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

static void isrc_drop(struct isrc *s)
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

static int isrc_list(struct isrc *s, struct sftp_entry **out, size_t *n, struct rt_err *e)
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
static int isrc_stat(struct isrc *s, const char *name, struct sftp_entry *x, struct rt_err *e)
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

static int fetch_file(struct isrc *s, const struct sftp_entry *x, const char *staged,
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

/* ---- one run ---- */

/* A file chosen for a stream. */
struct pick {
	const struct drop_file *f;
	struct sftp_entry x;
	struct ledger_entry *seen; /* the ledger says it was taken (name, size, mtime) */
	int young;                 /* to be checked again after the settle time */
	struct rt_err err;         /* not taken: why */
	/* read in this run: its ledger entry, added once its stream completed */
	int read;
	char sha[65];
	long records;
};

struct run {
	const struct ingest_opts *o;
	struct extract_run *x;
	struct isrc src;
	struct sftp_entry *ls;
	size_t nls;
	struct ledger ledger;
	int use_ledger;
	char staging[PATH_MAX];
	char files[PATH_MAX]; /* staging/files or a temporary folder */
	int tmp_files;        /* files is temporary: removed at the end */
	struct pick *picks;
	size_t npicks, cappicks;
	size_t taken_before; /* --take all: matching files the ledger had */
	char manifest_path[PATH_MAX + 256]; /* the staged manifest, or "" */
};

static int add_pick(struct run *r, const struct drop_file *f, const struct sftp_entry *x)
{
	if (VEC_RESERVE(r->picks, r->cappicks, r->npicks + 1, 16))
		return -1;
	struct pick *p = &r->picks[r->npicks++];
	memset(p, 0, sizeof *p);
	p->f = f;
	p->x = *x;
	return 0;
}

static void staged_name(const char *name, char *out, size_t n)
{
	snprintf(out, n, "%s", name);
	if (gunzip_name(out))
		out[strlen(out) - 3] = 0;
}

static int is_marker(const struct run *r, const char *name)
{
	const char *m = r->o->marker;
	if (!m)
		return 0;
	if (!strstr(m, "{name}"))
		return fnmatch(m, name, 0) == 0;
	char want[600];
	for (size_t i = 0; i < r->nls; i++) {
		ingest_marker_for(m, r->ls[i].name, want, sizeof want);
		if (strcmp(r->ls[i].name, name) && !strcmp(want, name))
			return 1;
	}
	return 0;
}

/* Does the listing entry belong to f (by pattern and profile)? */
static int matches(const struct run *r, const struct drop_file *f, const char *name)
{
	const struct ingest_opts *o = r->o;
	if (nfiles(o->profile) > 1)
		return (!o->pattern || !fnmatch(o->pattern, name, 0)) &&
		       drop_file_for(o->profile, name) == f;
	if (o->pattern)
		return !fnmatch(o->pattern, name, 0);
	if (r->src.only[0]) /* --local FILE: the file named */
		return 1;
	return !fnmatch(f->name, name, 0);
}

struct cand {
	const struct sftp_entry *x;
	long date;
};

static int by_date_mtime_name(const void *a, const void *b)
{
	const struct cand *p = a, *q = b;
	if (p->date != q->date)
		return p->date < q->date ? -1 : 1;
	if (p->x->mtime != q->x->mtime)
		return p->x->mtime < q->x->mtime ? -1 : 1;
	return strcmp(p->x->name, q->x->name);
}

/* The candidates of f, oldest first: by the dates in their names when
 * every one has one, else by mtime; then by name. */
static int candidates(struct run *r, const struct drop_file *f, struct cand **out, size_t *n)
{
	struct cand *c = calloc(r->nls ? r->nls : 1, sizeof *c);
	if (!c)
		return -1;
	size_t k = 0;
	int all_dated = 1;
	for (size_t i = 0; i < r->nls; i++) {
		const struct sftp_entry *x = &r->ls[i];
		if (!x->regular || is_marker(r, x->name) || !matches(r, f, x->name) ||
		    !ingest_name_ok(x->name, NULL, 0))
			continue;
		c[k].x = x;
		if (!ingest_name_date(x->name, &c[k].date))
			all_dated = 0;
		k++;
	}
	if (!all_dated)
		for (size_t i = 0; i < k; i++)
			c[i].date = 0;
	qsort(c, k, sizeof *c, by_date_mtime_name);
	*out = c;
	*n = k;
	return 0;
}

static void refuse_names(struct run *r)
{
	char shown[1100];
	for (size_t i = 0; i < r->nls; i++) {
		const struct sftp_entry *x = &r->ls[i];
		if (ingest_name_ok(x->name, shown, sizeof shown))
			continue;
		log_msg(LOG_ERROR, "%s: refused the file name '%s': a name with '/', '..' or a "
				   "control character is never taken; rename it on the server",
			r->src.where, shown);
	}
}

static int select_files(struct run *r, struct rt_err *e)
{
	const struct ingest_opts *o = r->o;
	for (const struct drop_file *f = o->profile->files; f->name; f++) {
		struct cand *c;
		size_t n;
		if (candidates(r, f, &c, &n)) {
			err_set(e, ERR_IO, "out of memory");
			return -1;
		}
		size_t from = o->take == TAKE_ALL ? 0 : (n ? n - 1 : 0);
		for (size_t i = from; i < n; i++) {
			if (add_pick(r, f, c[i].x)) {
				free(c);
				err_set(e, ERR_IO, "out of memory");
				return -1;
			}
			struct pick *p = &r->picks[r->npicks - 1];
			struct ledger_entry *l = r->use_ledger && !o->reprocess
							 ? ledger_find(&r->ledger, p->x.name)
							 : NULL;
			if (l && l->size == p->x.size && l->mtime == p->x.mtime)
				p->seen = l;
			if (o->take == TAKE_ALL && p->seen) {
				r->npicks--; /* taken on an earlier run */
				r->taken_before++;
			}
		}
		free(c);
	}
	return 0;
}

/* Whether file name's marker is in the listing; *mtime gets its time (the
 * newest, when a glob matches several). */
static int marker_present(const struct run *r, const char *name, char *want, size_t n,
			  long long *mtime)
{
	const char *m = r->o->marker;
	int found = 0;
	int glob = !strstr(m, "{name}");
	if (glob)
		snprintf(want, n, "%s", m);
	else
		ingest_marker_for(m, name, want, n);
	for (size_t i = 0; i < r->nls; i++) {
		const struct sftp_entry *x = &r->ls[i];
		if (glob ? fnmatch(m, x->name, 0) || !strcmp(x->name, name) : strcmp(want, x->name))
			continue;
		if (!found || x->mtime > *mtime)
			*mtime = x->mtime;
		found = 1;
	}
	return found;
}

static void not_settled(struct pick *p, const char *why)
{
	err_set(&p->err, ERR_DATA, "%s: %s; it will be taken on a later run", p->x.name, why);
	err_hint(&p->err, "files are taken once their writer is done; nothing was read from it");
}

/* Takes only files that are not being written: a marker says so, or the
 * size and mtime stay the same over the settle time. One wait covers all. */
static void settle(struct run *r)
{
	const struct ingest_opts *o = r->o;
	int waiting = 0;
	double now = clk_now();
	for (size_t i = 0; i < r->npicks; i++) {
		struct pick *p = &r->picks[i];
		if (p->seen)
			continue;
		if (o->marker) {
			char want[600];
			long long mtime = 0;
			if (!marker_present(r, p->x.name, want, sizeof want, &mtime)) {
				char why[700];
				snprintf(why, sizeof why, "no marker %s yet (still being written)", want);
				not_settled(p, why);
			} else if (mtime < p->x.mtime) {
				/* a marker left from an earlier delivery says nothing of this one */
				err_set(&p->err, ERR_DATA, "%s: the marker %s is older than the file: the "
							   "file was rewritten after it; not taken",
					p->x.name, want);
				err_hint(&p->err, "the writer renews the marker once the file is "
						  "complete; the file is taken on the first run after that");
			}
			continue;
		}
		if (o->settle > 0 && now - (double)p->x.mtime < o->settle)
			waiting = p->young = 1;
	}
	if (!waiting)
		return;
	log_info("%s: a file changed less than %g seconds ago; looking again in %g seconds",
		 r->src.where, o->settle, o->settle);
	clk_sleep(o->settle);
	for (size_t i = 0; i < r->npicks; i++) {
		struct pick *p = &r->picks[i];
		if (!p->young)
			continue;
		struct sftp_entry now_x;
		struct rt_err e;
		err_clear(&e);
		int rc = isrc_stat(&r->src, p->x.name, &now_x, &e);
		if (rc < 0)
			p->err = e;
		else if (rc > 0)
			not_settled(p, "it went away while it settled");
		else if (now_x.size != p->x.size || now_x.mtime != p->x.mtime)
			not_settled(p, "still being written (its size or time changed)");
	}
}

/* Where the records of one file go. */
enum sink_mode { TO_STREAM, TO_FOLD, TO_OPS };
struct op {
	char *key; /* NULL: no key */
	int cancel;
	char *json;
};
struct rec_sink {
	enum sink_mode mode;
	struct extract_run *x;
	struct fold *fold;
	struct op *ops;
	size_t nops, capops;
};

static int sink_record(void *ctx, const struct drop_file *f, const char *key, size_t keylen,
		       int cancel, const char *json, size_t len, struct rt_err *e)
{
	struct rec_sink *s = ctx;
	(void)f;
	switch (s->mode) {
	case TO_STREAM:
		if (cancel)
			return 0;
		if (extract_record(s->x, json, len)) {
			err_set(e, ERR_IO, "writing the output failed");
			return -1;
		}
		return 0;
	case TO_FOLD:
		if (fold_apply(s->fold, key, keylen, cancel, json, len))
			goto oom;
		return 0;
	case TO_OPS:
		if (VEC_RESERVE(s->ops, s->capops, s->nops + 1, 256))
			goto oom;
		struct op *o = &s->ops[s->nops];
		o->cancel = cancel;
		o->key = key ? strndup(key, keylen) : NULL;
		o->json = strndup(json, len);
		if ((key && !o->key) || !o->json) {
			free(o->key);
			free(o->json);
			goto oom;
		}
		s->nops++;
		return 0;
	}
oom:
	err_set(e, ERR_IO, "out of memory while reading %s", f->stream);
	return -1;
}

static void ops_free(struct rec_sink *s)
{
	for (size_t i = 0; i < s->nops; i++) {
		free(s->ops[i].key);
		free(s->ops[i].json);
	}
	free(s->ops);
	s->ops = NULL;
	s->nops = s->capops = 0;
}

static int has_cancel(const struct drop_file *f)
{
	for (const struct drop_col *c = f->cols; c && c->headers; c++)
		if (c->flags & DC_CANCEL)
			return 1;
	return 0;
}

static void day_of(const char *iso, char *out, size_t n)
{
	snprintf(out, n, "%.10s", *iso ? iso : "an earlier run");
}

/* Gets p's file into staging (unless the staged copy is the same file);
 * *again = 1 when it was ingested before (by ledger or by content). */
static int stage(struct run *r, struct pick *p, char *staged, size_t n, int *again,
		 char sha[65], struct rt_err *e)
{
	char sname[256];
	staged_name(p->x.name, sname, sizeof sname);
	snprintf(staged, n, "%s/%s", r->files, sname);
	*again = 0;
	sha[0] = 0;
	if (p->seen && access(staged, R_OK) == 0) {
		snprintf(sha, 65, "%s", p->seen->sha256);
		*again = 1;
		return 0;
	}
	if (fetch_file(&r->src, &p->x, staged, sha, e))
		return -1;
	struct ledger_entry *l = r->use_ledger && !r->o->reprocess
					 ? ledger_find(&r->ledger, p->x.name)
					 : NULL;
	if (l && !strcmp(l->sha256, sha)) {
		/* the same bytes again (touched or copied anew): nothing new */
		l->size = p->x.size;
		l->mtime = p->x.mtime;
		p->seen = l;
		*again = 1;
	}
	return 0;
}

static int read_one(struct run *r, struct pick *p, const char *staged, struct rec_sink *s,
		    struct drop_stats *st, struct rt_err *e)
{
	memset(st, 0, sizeof *st);
	int rc = drop_read(r->o->profile, p->f, staged, p->x.name, &r->o->drop,
			   &(struct drop_sink){s, sink_record}, st, e);
	log_info("%s: %s: %ld rows, %ld records, %ld dropped%s", r->x->source, p->x.name,
		 st->rows, st->records, st->rows_dropped, rc ? " (the file failed)" : "");
	return rc;
}

static void remember(struct run *r, const struct pick *p, const char *sha, long records)
{
	if (!r->use_ledger)
		return;
	struct ledger_entry x = {0};
	x.name = (char *)p->x.name;
	x.size = p->x.size;
	x.mtime = p->x.mtime;
	x.records = records;
	snprintf(x.sha256, sizeof x.sha256, "%s", sha);
	clk_iso8601(clk_now(), x.ingested_at, sizeof x.ingested_at);
	if (ledger_put(&r->ledger, &x))
		log_warn("%s: out of memory: %s is not in the ledger", r->x->source, p->x.name);
}

/* OneRoster: the manifest's word on file f ("bulk", "delta", "absent"),
 * or "" when the profile has no manifest or the drop none. */
static void manifest_mode(struct run *r, const struct drop_file *f, char *mode, size_t n)
{
	mode[0] = 0;
	if (!r->manifest_path[0])
		return;
	char key[128];
	snprintf(key, sizeof key, "%s", f->name);
	char *dot = strrchr(key, '.');
	if (dot)
		*dot = 0;
	struct rt_err e;
	err_clear(&e);
	if (drop_manifest_mode(r->manifest_path, key, mode, n, &e)) {
		log_err(LOG_WARN, &e);
		mode[0] = 0;
	}
}

static void stage_manifest(struct run *r)
{
	const char *m = r->o->profile->manifest;
	if (!m)
		return;
	for (size_t i = 0; i < r->nls; i++) {
		const struct sftp_entry *x = &r->ls[i];
		if (!x->regular || fnmatch(m, x->name, 0) || !ingest_name_ok(x->name, NULL, 0))
			continue;
		char sha[65];
		struct rt_err e;
		err_clear(&e);
		snprintf(r->manifest_path, sizeof r->manifest_path, "%s/%s", r->files, x->name);
		if (fetch_file(&r->src, x, r->manifest_path, sha, &e)) {
			log_err(LOG_WARN, &e);
			log_warn("%s: without its manifest every file of the drop is read",
				 r->x->source);
			r->manifest_path[0] = 0;
		}
		return;
	}
	log_warn("%s: no %s in the drop; every file of the profile present is read",
		 r->src.where, m);
}

/* The name a manifest gives file f ("users" for users.csv). */
static void manifest_key(const struct drop_file *f, char *out, size_t n)
{
	snprintf(out, n, "%.*s", (int)strcspn(f->name, "."), f->name);
}

/* Each file of the stream: what the manifest says of it, whether it is in
 * the drop; into missing the required files that are not, into delta the
 * files the manifest marks delta. 1 when any file is there to be read. */
static int stream_files(struct run *r, const char *stream, char *missing, size_t nm,
			char *delta, size_t nd, int *absent)
{
	const struct ingest_opts *o = r->o;
	int any = 0, bundle = nfiles(o->profile) > 1;
	missing[0] = delta[0] = 0;
	*absent = 0;
	for (const struct drop_file *f = o->profile->files; f->name; f++) {
		if (strcmp(f->stream, stream))
			continue;
		char mode[32], mkey[128];
		int here = 0;
		manifest_mode(r, f, mode, sizeof mode);
		manifest_key(f, mkey, sizeof mkey);
		for (size_t i = 0; i < r->npicks; i++) {
			struct pick *p = &r->picks[i];
			if (p->f != f)
				continue;
			if (!strcmp(mode, "absent")) {
				log_warn("%s: %s is in the drop but the manifest says file.%s=absent; "
					 "it is not read", r->x->source, p->x.name, mkey);
				p->f = NULL;
				*absent = 1;
				continue;
			}
			here = any = 1;
		}
		if (!strcmp(mode, "delta")) {
			size_t l = strlen(delta);
			snprintf(delta + l, nd - l, "%s%s", l ? ", " : "", mkey);
		}
		/* the manifest decides where there is one (bulk and delta files
		 * must be there); else the profile */
		int required = mode[0] ? strcmp(mode, "absent") != 0 : !f->optional;
		if (bundle && required && !here) {
			size_t l = strlen(missing);
			snprintf(missing + l, nm - l, "%s%s", l ? ", " : "", f->name);
		}
	}
	return any;
}

static void fail_stream(struct run *r, const char *stream, const char *const *keys,
			const struct rt_err *e)
{
	extract_stream_begin(r->x, stream, keys);
	extract_stream_end(r->x, e);
}

/* One stream: the files of the profile that feed it. It is complete only
 * when every required file feeding it was read completely. */
static void one_stream(struct run *r, const char *stream, const char *const *keys)
{
	const struct ingest_opts *o = r->o;
	struct extract_run *x = r->x;
	struct rt_err e;
	char note[512] = "", missing[300], delta[200];
	int failed = 0, absent;
	const char *pattern = o->pattern ? o->pattern : o->profile->files[0].name;
	err_clear(&e);

	int any = stream_files(r, stream, missing, sizeof missing, delta, sizeof delta, &absent);
	if (missing[0]) {
		err_set(&e, ERR_DATA, "%s: %s not in the drop; %s is read only with %s", r->src.where,
			missing, stream, strchr(missing, ',') ? "them" : "it");
		err_hint(&e, "check --folder and --pattern, and that the vendor's export finished; "
			    "the stream is not marked complete, so later stages keep what they have");
		fail_stream(r, stream, keys, &e);
		return;
	}
	if (!any && o->take == TAKE_NEWEST) {
		if (nfiles(o->profile) > 1) {
			log_info("%s: %s for %s in the drop; the stream is left out", x->source,
				 absent ? "the manifest marks the file absent" : "no file", stream);
			return;
		}
		err_set(&e, ERR_DATA, "%s: no file matching %s in %s", x->source, pattern,
			r->src.where);
		err_hint(&e, "check --folder and --pattern, and that the file was delivered");
		fail_stream(r, stream, keys, &e);
		return;
	}

	struct fold fold = {0};
	char fold_path[PATH_MAX + 128] = "";
	int folding = o->take == TAKE_ALL;
	if (folding) {
		snprintf(fold_path, sizeof fold_path, "%s/%s.fold", r->staging, stream);
		int have = !o->reprocess && access(fold_path, F_OK) == 0;
		if (!any && !have) {
			/* an empty stream marked complete would empty the entity downstream */
			if (r->taken_before) {
				err_set(&e, ERR_DATA, "%s: the ledger lists %zu file%s matching %s as "
						      "taken, but there is no fold %s",
					x->source, r->taken_before, r->taken_before > 1 ? "s" : "",
					pattern, fold_path);
				err_hint(&e, "run with --reprocess to fold every file in the drop again");
			} else {
				err_set(&e, ERR_DATA, "%s: no file matching %s in %s", x->source,
					pattern, r->src.where);
				err_hint(&e, "check --folder and --pattern, and that the file was "
					    "delivered");
			}
			fail_stream(r, stream, keys, &e);
			return;
		}
		if (have && fold_load(&fold, fold_path, &e)) {
			fail_stream(r, stream, keys, &e);
			return;
		}
		if (!any) {
			extract_note_add(note, sizeof note,
					 "no new file: the fold of the files taken before is sent again");
			log_info("%s: %s", x->source, note);
		}
	}
	extract_stream_begin(x, stream, keys);
	for (size_t i = 0; i < r->npicks && !failed; i++) {
		struct pick *p = &r->picks[i];
		if (!p->f || strcmp(p->f->stream, stream))
			continue;
		if (p->err.kind) {
			e = p->err;
			failed = 1;
			break;
		}
		char staged[PATH_MAX + 300], sha[65];
		int again;
		if (stage(r, p, staged, sizeof staged, &again, sha, &e)) {
			failed = 1;
			break;
		}
		if (again && folding) {
			log_info("%s: %s was ingested already (the same bytes); skipped", x->source,
				 p->x.name);
			continue;
		}
		if (again) {
			char day[16];
			day_of(p->seen->ingested_at, day, sizeof day);
			extract_note_add(note, sizeof note,
					 "no new file: %s was ingested on %s; its records are sent "
					 "again from the staged copy",
					 p->x.name, day);
			log_info("%s: %s", x->source, note);
		}
		struct rec_sink s = {.x = x};
		struct fold one = {0};
		struct drop_stats st;
		if (folding)
			s.mode = TO_OPS;
		else if (has_cancel(p->f))
			s.mode = TO_FOLD, s.fold = &one;
		else
			s.mode = TO_STREAM;
		int rc = read_one(r, p, staged, &s, &st, &e);
		if (st.note[0])
			extract_note_add(note, sizeof note, "%s: %s", p->x.name, st.note);
		if (rc == 0 && s.mode == TO_FOLD) {
			for (size_t k = 0; k < one.n && rc == 0; k++)
				if (one.v[k].json && extract_record(x, one.v[k].json,
								    strlen(one.v[k].json))) {
					err_set(&e, ERR_IO, "writing the output failed");
					rc = -1;
				}
		}
		if (rc == 0 && s.mode == TO_OPS) {
			for (size_t k = 0; k < s.nops && rc == 0; k++) {
				struct op *op = &s.ops[k];
				if (fold_apply(&fold, op->key, op->key ? strlen(op->key) : 0,
					       op->cancel, op->json, strlen(op->json))) {
					err_set(&e, ERR_IO, "out of memory while folding %s",
						p->x.name);
					rc = -1;
				}
			}
		}
		fold_free(&one);
		ops_free(&s);
		if (rc) {
			failed = 1;
			break;
		}
		if (!again) {
			p->read = 1;
			snprintf(p->sha, sizeof p->sha, "%s", sha);
			p->records = st.records;
		}
	}
	if (folding && !failed) {
		for (size_t k = 0; k < fold.n; k++)
			if (fold.v[k].json &&
			    extract_record(x, fold.v[k].json, strlen(fold.v[k].json))) {
				err_set(&e, ERR_IO, "writing the output failed");
				failed = 1;
				break;
			}
	}
	if (!failed && (fflush(x->out) || ferror(x->out) || x->write_failed)) {
		err_set(&e, ERR_IO, "writing the output failed: %s", strerror(errno));
		failed = 1;
	}
	if (folding && !failed && fold_save(&fold, fold_path, &e))
		failed = 1;
	if (folding && failed)
		log_warn("%s: the fold %s is kept as it was; the files of this run are taken "
			 "again on the next", x->source, fold_path);
	/* only now does the ledger learn of the files: with --take all a file
	 * it lists is never read again, so it must be in the saved fold */
	for (size_t i = 0; i < r->npicks && !failed; i++) {
		struct pick *p = &r->picks[i];
		if (p->read && p->f && !strcmp(p->f->stream, stream))
			remember(r, p, p->sha, p->records);
	}
	fold_free(&fold);
	if (!failed && delta[0]) {
		char why[400];
		snprintf(why, sizeof why, "%s marks %s as delta: its records are changes, so the "
					  "stream is not marked complete (later stages keep what "
					  "they have)",
			 o->profile->manifest ? o->profile->manifest : "the manifest", delta);
		extract_note_add(note, sizeof note, "%s", why);
		snprintf(x->cur->note, sizeof x->cur->note, "%s", note);
		extract_stream_end_changes(x, why);
		return;
	}
	snprintf(x->cur->note, sizeof x->cur->note, "%s", note);
	extract_stream_end(x, failed ? &e : NULL);
}

static int rm_tree_files(const char *dir)
{
	DIR *d = opendir(dir);
	if (!d)
		return -1;
	struct dirent *de;
	char path[PATH_MAX + 256];
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
		unlink(path);
	}
	closedir(d);
	return rmdir(dir);
}

/* The streams of the profile, each once, in the profile's order. */
static int stream_names(const struct drop_profile *p, char *out, size_t n)
{
	out[0] = 0;
	int k = 0;
	for (const struct drop_file *f = p->files; f->name; f++) {
		int seen = 0;
		for (const struct drop_file *g = p->files; g != f; g++)
			seen |= !strcmp(g->stream, f->stream);
		if (seen)
			continue;
		size_t l = strlen(out);
		snprintf(out + l, n - l, "%s%s", k++ ? "," : "", f->stream);
	}
	return k;
}

static int setup_staging(struct run *r, struct rt_err *e)
{
	const struct ingest_opts *o = r->o;
	if (o->staging) {
		snprintf(r->staging, sizeof r->staging, "%s", o->staging);
		snprintf(r->files, sizeof r->files, "%s/files", o->staging);
		if (atomic_mkdirs(r->files, e))
			return -1;
		char lp[PATH_MAX + 32];
		snprintf(lp, sizeof lp, "%s/ledger.jsonl", o->staging);
		if (ledger_load(&r->ledger, lp, e))
			return -1;
		r->use_ledger = 1;
		return 0;
	}
	const char *tmp = getenv("TMPDIR");
	snprintf(r->files, sizeof r->files, "%s/extract-sftp.XXXXXX", tmp && *tmp ? tmp : P_tmpdir);
	if (!mkdtemp(r->files)) {
		err_set(e, ERR_IO, "%s: cannot make a temporary folder: %s", r->files,
			strerror(errno));
		return -1;
	}
	r->tmp_files = 1;
	return 0;
}

static void ingest_run(struct run *r)
{
	const struct ingest_opts *o = r->o;
	struct extract_run *x = r->x;
	struct rt_err e;
	char streams[EXTRACT_MAX_STREAMS * 64];
	err_clear(&e);
	stream_names(o->profile, streams, sizeof streams);

	if (setup_staging(r, &e) || isrc_list(&r->src, &r->ls, &r->nls, &e)) {
		err_where(&e, x->source, r->src.where);
		extract_fail_all(x, "", streams, &e);
		return;
	}
	refuse_names(r);
	stage_manifest(r);
	if (select_files(r, &e)) {
		extract_fail_all(x, "", streams, &e);
		return;
	}
	settle(r);
	char w[64];
	for (const char *p = streams; list_next(&p, w, sizeof w);) {
		const char *const *keys = NULL;
		for (const struct drop_file *f = o->profile->files; f->name; f++)
			if (!strcmp(f->stream, w)) {
				keys = f->keys;
				break;
			}
		one_stream(r, w, keys);
	}
	if (r->use_ledger) {
		char lp[PATH_MAX + 32];
		snprintf(lp, sizeof lp, "%s/ledger.jsonl", r->staging);
		if (ledger_save(&r->ledger, lp, &e)) {
			log_err(LOG_ERROR, &e);
			log_warn("%s: the ledger was not saved: the next run takes these files again",
				 x->source);
		}
	}
}

/* The run's source name: the vendor of the profile's streams ("munis"). */
static void source_name(const struct drop_profile *p, char *out, size_t n)
{
	snprintf(out, n, "%.*s", (int)strcspn(p->files[0].stream, "_"), p->files[0].stream);
}

static int local_setup(struct isrc *s, struct rt_err *e)
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

int ingest_main(const struct ingest_opts *o, const struct extract_opts *xo)
{
	struct rt_err e;
	char *password = NULL, *passphrase = NULL;
	int rc = EXIT_USAGE, ssh = 0;
	struct run r;
	memset(&r, 0, sizeof r);
	r.o = o;
	r.src.o = o;
	err_clear(&e);

	if (o->local) {
		if (local_setup(&r.src, &e)) {
			log_err(LOG_ERROR, &e);
			return EXIT_USAGE;
		}
	} else {
		secret_protect_process();
		if (o->password_ref &&
		    !(password = extract_secret(xo, o->password_ref, "--password", &e)))
			goto out;
		if (o->passphrase_ref &&
		    !(passphrase = extract_secret(xo, o->passphrase_ref, "--passphrase", &e)))
			goto out;
		if (password)
			err_redact_add(password);
		if (passphrase)
			err_redact_add(passphrase);
		if (sftp_global_init(&e)) {
			rc = EXIT_FAILED;
			goto out;
		}
		ssh = 1;
		r.src.conf = (struct sftp_conf){
			.host = o->host,
			.port = o->port,
			.user = o->user && *o->user ? o->user : login_name(),
			.known_hosts = o->known_hosts,
			.fingerprint = o->fingerprint,
			.key_file = o->key_file,
			.passphrase = passphrase,
			.password = o->key_file ? NULL : password,
			.timeout = xo->timeout,
		};
		snprintf(r.src.where, sizeof r.src.where, "%s@%s:%d %s", r.src.conf.user, o->host,
			 o->port ? o->port : 22, o->folder);
	}
	if (xo->deadline > 0)
		r.src.deadline = clk_now() + xo->deadline;

	char name[48];
	struct source src;
	struct extract_run x;
	source_name(o->profile, name, sizeof name);
	source_init(&src, name, NULL, 0);
	if (extract_run_init(&x, stdout, name, &src, xo, &e)) {
		extract_run_free(&x);
		goto out;
	}
	r.x = &x;
	ingest_run(&r);
	rc = extract_finish(&x, xo);
	extract_run_free(&x);
	err_clear(&e);
out:
	if (e.kind)
		log_err(LOG_ERROR, &e);
	isrc_drop(&r.src);
	if (ssh)
		sftp_global_exit();
	secret_free(password);
	secret_free(passphrase);
	if (r.tmp_files)
		rm_tree_files(r.files);
	free(r.ls);
	free(r.picks);
	ledger_free(&r.ledger);
	return rc;
}
