#ifndef ROSTER_EXTRACT_H
#define ROSTER_EXTRACT_H

#include "core/err.h"
#include "net/fetch.h"

#include <cjson/cJSON.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>

/* What every extractor shares: the common options, the Singer framing of
 * streams (SCHEMA first, ACTIVATE_VERSION only when read completely, STATE
 * with every stream's status), per-stream statistics, the --stats file and
 * the exit code. Vendor files only fetch pages and hand records over. */

struct extract_opts {
	const char *base_url;
	const char *token_url;
	const char *ca_file;
	const char *stats_path;
	const char *state_path; /* last night's STATE value, for remembered versions */
	const char *creds_path; /* the credentials store (NULL: $ROSTER_CREDENTIALS) */
	const char *creds_key;  /* its key (NULL: creds_path + ".key") */
	double rate;            /* requests per minute; 0 = the vendor's default */
	double max_wait;        /* ceiling for one wait, seconds */
	double deadline;        /* seconds from the start of the run; 0 = none */
	double timeout;         /* one request, seconds */
	int page_size;
	int max_pages;
};

/* The long options every extractor takes, with their help text. */
#define EXTRACT_COMMON_HELP                                                              \
	"  --base-url URL       the API's base URL (default: the vendor's)\n"              \
	"  --token-url URL      the token endpoint (default: the vendor's)\n"              \
	"  --rate N             at most N requests a minute (default: the vendor's limit)\n" \
	"  --max-wait SECONDS   longest single wait a vendor may ask for (default 300)\n"  \
	"  --deadline SECONDS   the run's deadline, from its start (default: none)\n"      \
	"  --timeout SECONDS    one request's time limit (default 120)\n"                  \
	"  --page-size N        records a page (default: the vendor's maximum)\n"          \
	"  --max-pages N        page cap per stream (default 100000)\n"                    \
	"  --ca-file FILE       extra CA bundle for TLS (tests)\n"                         \
	"  --stats FILE         write per-stream statistics as JSON to FILE\n"             \
	"  --state FILE         last run's STATE value (remembered API versions)\n"        \
	"  --log-format F       text (default) or json\n"                               \
	"  --credentials FILE   the credentials store (default $ROSTER_CREDENTIALS)\n"    \
	"  --credentials-key FILE  its key (default FILE.key)\n"

enum {
	XOPT_BASE_URL = 1000, XOPT_TOKEN_URL, XOPT_RATE, XOPT_MAX_WAIT, XOPT_DEADLINE,
	XOPT_TIMEOUT, XOPT_PAGE_SIZE, XOPT_MAX_PAGES, XOPT_CA_FILE, XOPT_STATS, XOPT_STATE,
	XOPT_LOG_FORMAT, XOPT_CREDS, XOPT_CREDS_KEY, XOPT_LAST
};
#define EXTRACT_COMMON_LONGOPTS                                                      \
	{"base-url", 1, 0, XOPT_BASE_URL}, {"token-url", 1, 0, XOPT_TOKEN_URL},      \
	{"rate", 1, 0, XOPT_RATE}, {"max-wait", 1, 0, XOPT_MAX_WAIT},                \
	{"deadline", 1, 0, XOPT_DEADLINE}, {"timeout", 1, 0, XOPT_TIMEOUT},          \
	{"page-size", 1, 0, XOPT_PAGE_SIZE}, {"max-pages", 1, 0, XOPT_MAX_PAGES},    \
	{"ca-file", 1, 0, XOPT_CA_FILE}, {"stats", 1, 0, XOPT_STATS},                \
	{"state", 1, 0, XOPT_STATE}, {"log-format", 1, 0, XOPT_LOG_FORMAT},          \
	{"credentials", 1, 0, XOPT_CREDS}, {"credentials-key", 1, 0, XOPT_CREDS_KEY}

void extract_opts_init(struct extract_opts *o);
/* Handles one common option. 1: handled; 0: not a common option;
 * -1: bad value (message in e). */
int extract_opt(struct extract_opts *o, int opt, const char *arg, struct rt_err *e);

/* getopt_long over longopts (EXTRACT_COMMON_LONGOPTS and the vendor's),
 * handling the common options itself: returns the next vendor option
 * (optarg set), -1 after the last one, or EXTRACT_OPT_BAD when a common
 * option's value or an argument left after the options was refused (said
 * on stderr: secrets never go on a command line); the caller then exits
 * EXIT_USAGE. */
#define EXTRACT_OPT_BAD (-2)
int extract_getopt(int argc, char **argv, const struct option *longopts, struct extract_opts *o);

/* The secret a "creds:NAME" option names, decrypted from the store of
 * --credentials (what names the option, for messages). Anything else is
 * refused: secrets never go on a command line. NULL with e filled, or the
 * secret: the caller wipes it with secret_free as soon as it is used. */
char *extract_secret(const struct extract_opts *o, const char *ref, const char *what,
		     struct rt_err *e);

#define EXTRACT_MAX_STREAMS 32

/* Where a stream stands: its "status" in STATE and --stats. */
enum extract_stream_state {
	STREAM_FAILED = -1,  /* ended on an error (err): "failed" */
	STREAM_OPEN = 0,     /* begun, not ended: "incomplete" */
	STREAM_COMPLETE = 1, /* read completely, ACTIVATE_VERSION sent: "complete" */
	STREAM_CHANGES = 2,  /* read completely, but changes only, not a whole
				snapshot (no ACTIVATE_VERSION): "changes" */
};

struct extract_stream {
	char name[64];
	enum extract_stream_state state;
	int refused; /* it failed on a refusal of our configuration: before any
			stream (extract_fail_all), an error of kind auth, config or
			usage; inside one, as the run's refused_by_kind and
			refused_code say */
	long records;
	struct fetch_stats before, stats;
	struct rt_err err;
	char note[512]; /* a warning worth showing in the run report */
};

struct extract_run {
	FILE *out;
	const char *source;
	struct source *src;
	long long version; /* ACTIVATE_VERSION: the run's start in epoch ms */
	char time_extracted[40];
	struct extract_stream streams[EXTRACT_MAX_STREAMS];
	int nstreams;
	struct extract_stream *cur;
	cJSON *bookmarks; /* owned: extra STATE values (versions, cursors) */
	cJSON *last_state; /* owned: --state input, or NULL */
	int write_failed;
	int start_refused; /* extract_fail_all's cause was a refusal */
	/* Set by the vendor before its streams (0 and NULL: no failure inside
	 * a stream is a refusal): */
	int refused_by_kind;      /* kind auth, config or usage is (Google) */
	const char *refused_code; /* the vendor's error code for a permission
				     the app lacks is (Graph) */
};

/* Appends the formatted text to note (size n), after "; " when note is
 * not empty, cut to fit: a stream's note gathers several warnings. */
void extract_note_add(char *note, size_t n, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void extract_note_vadd(char *note, size_t n, const char *fmt, va_list ap);
int extract_run_init(struct extract_run *r, FILE *out, const char *source, struct source *src,
		     const struct extract_opts *o, struct rt_err *e);
void extract_run_free(struct extract_run *r);
/* A remembered bookmark from last night's STATE ("api_version"), or NULL. */
const char *extract_remembered(const struct extract_run *r, const char *key);
void extract_bookmark(struct extract_run *r, const char *key, const char *value);

/* Starts a stream: SCHEMA (raw streams carry an open schema). */
void extract_stream_begin(struct extract_run *r, const char *stream, const char *const *keys);
/* One record, as JSON text. -1 when stdout failed (the caller stops). */
int extract_record(struct extract_run *r, const char *json, size_t len);
/* Ends the current stream: e == NULL means complete (ACTIVATE_VERSION);
 * otherwise failed with e. Writes the STATE with every stream's status. */
void extract_stream_end(struct extract_run *r, const struct rt_err *e);
/* Ends the current stream read completely whose records are changes, not
 * the whole entity (a OneRoster delta file): no ACTIVATE_VERSION, so later
 * stages keep what they have instead of replacing it with the changes.
 * why goes to the log. Its status is "changes"; it counts as complete for
 * the exit code. */
void extract_stream_end_changes(struct extract_run *r, const char *why);
/* Fails every stream of a comma-separated list that could not start
 * (no token, no API version): the cause is logged once, each stream's
 * STATE and statistics carry it. A cause of kind auth, config or usage is
 * a refusal (exit 2). */
void extract_fail_all(struct extract_run *r, const char *prefix, const char *streams,
		      const struct rt_err *e);

/* Writes --stats (if asked), checks stdout, returns the exit code:
 * 0 all complete, 3 some failed, 1 none complete or stdout failed.
 * Exit 2, the vendor refused our configuration (credentials, tenant, a
 * permission): no stream completed and every one failed on a refusal
 * (extract_stream's refused), or no stream was named and the start was refused. */
int extract_finish(struct extract_run *r, const struct extract_opts *o);

/* What every extractor's main does once its options are read: starts
 * libcurl, the source of the vendor named source with its registry row's
 * rate (unless --rate), rate-limit headers and hooks (engine/vendor.h), the
 * run on stdout, calls the vendor's extraction with its own options vo,
 * and returns the exit code (EXIT_FAILED when libcurl or the run could not
 * start, said on stderr). */
typedef int (*extract_vendor_fn)(struct extract_run *run, const struct extract_opts *o,
				 void *vo);
int extract_main_run(const char *source, const struct extract_opts *o, extract_vendor_fn fn,
		     void *vo);

#endif
