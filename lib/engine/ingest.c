/* The ingest layer of extract-sftp (lib/engine/ingest.h): its options,
 * the files it selects and lets settle, and the run. The ledger and fold
 * are ingest_ledger.c, where files come from ingest_source.c, reading and
 * emitting a stream ingest_stream.c. */
#include "engine/ingest_int.h"
#include "core/atomic.h"
#include "core/civil.h"
#include "core/clock.h"
#include "core/err.h"
#include "core/exitcode.h"
#include "core/gunzip.h"
#include "core/log.h"
#include "core/vec.h"
#include "core/wordlist.h"
#include "format/csvread.h"
#include "format/jobfile.h"
#include "net/fetch.h"
#include "net/sftp.h"
#include "auth/secret.h"
#include "engine/drop.h"
#include "engine/extract.h"
#include "engine/prog.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fnmatch.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

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

int ingest_nfiles(const struct drop_profile *p)
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
	if (ingest_nfiles(o->profile) == 0) {
		err_set(e, ERR_USAGE, "--profile %s: the profile has no files", o->profile->name);
		return -1;
	}
	if (o->take == TAKE_ALL && ingest_nfiles(o->profile) > 1) {
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


/* ---- one run ---- */


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

void ingest_staged_name(const char *name, char *out, size_t n)
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
	if (ingest_nfiles(o->profile) > 1)
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
		/* before this run writes there: what is older is a killed run's */
		double now = (double)time(NULL);
		prog_sweep(r->staging, now);
		prog_sweep(r->files, now);
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
	ingest_stage_manifest(r);
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
		ingest_one_stream(r, w, keys);
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
		if (isrc_local_setup(&r.src, &e)) {
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
