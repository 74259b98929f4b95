/* extract-oneroster: reads a district's rosters from a OneRoster REST
 * service (Infinite Campus and other SIS; 1.1 with 1.0 fallback, 1.2 when
 * named) and writes them as Singer messages (oneroster_orgs,
 * oneroster_academic_sessions, oneroster_courses, oneroster_classes,
 * oneroster_users, oneroster_enrollments) on stdout, in the shapes of the
 * OneRoster CSV bundle. */
#include "core/exitcode.h"
#include "core/log.h"
#include "auth/secret.h"
#include "engine/prog.h"
#include "vendor/oneroster/oneroster.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void usage(FILE *f)
{
	fprintf(f,
		"usage: extract-oneroster --base-url URL (OAUTH2 | OAUTH1) [options] > raw.ndjson\n"
		"Reads orgs, academic sessions, courses, classes, users (every role) and\n"
		"enrollments from a OneRoster REST service and writes Singer messages on\n"
		"stdout. Secrets come from the credentials store (creds(1)), never from\n"
		"the command line.\n\n"
		"  --base-url URL           the URL before /ims/oneroster/; {version} in it is\n"
		"                           replaced by the version tried (Infinite Campus:\n"
		"                           https://HOST/campus/api/oneroster/{version}/APP)\n"
		"OAUTH2 (client credentials):\n"
		"  --client-id ID           the application's client id\n"
		"  --client-secret creds:NAME  the stored entry holding its secret\n"
		"  --token-url URL          the token endpoint (Infinite Campus:\n"
		"                           https://HOST/campus/oauth2/token?appName=APP)\n"
		"  --scope SCOPES           scopes to ask for (default: none named)\n"
		"OAUTH1 (1.0a, HMAC-SHA256; HMAC-SHA1 for v1p0):\n"
		"  --consumer-key KEY       the consumer key\n"
		"  --consumer-secret creds:NAME  the stored entry holding the consumer secret\n"
		"Other options:\n"
		"  --versions LIST          versions to try, in order (default " ONEROSTER_VERSIONS ";\n"
		"                           known: " ONEROSTER_VERSIONS_KNOWN ")\n"
		"  --streams LIST           any of " ONEROSTER_STREAMS "\n"
		"                           (default all)\n"
		"  --delta                  read only what changed since the last run's STATE\n"
		"                           (--state), with a full read every --full-every\n"
		"                           days (default 7)\n"
		"  --concurrency N          pages in flight at once once a list's total is\n"
		"                           known (1 to 16, default 4), under the same pacing\n"
		EXTRACT_COMMON_HELP
		"  --help                   this text\n\n" EXIT_CODES_HELP);
}

enum {
	OPT_CLIENT_ID = XOPT_LAST, OPT_SECRET, OPT_SCOPE, OPT_CONSUMER_KEY, OPT_CONSUMER_SECRET,
	OPT_VERSIONS, OPT_STREAMS, OPT_DELTA, OPT_FULL_EVERY, OPT_CONCURRENCY,
	OPT_HELP
};

static int run_oneroster(struct extract_run *run, const struct extract_opts *o, void *vo)
{
	return oneroster_extract(run, o, vo);
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		EXTRACT_COMMON_LONGOPTS,
		{"client-id", 1, 0, OPT_CLIENT_ID}, {"client-secret", 1, 0, OPT_SECRET},
		{"scope", 1, 0, OPT_SCOPE}, {"consumer-key", 1, 0, OPT_CONSUMER_KEY},
		{"consumer-secret", 1, 0, OPT_CONSUMER_SECRET}, {"versions", 1, 0, OPT_VERSIONS},
		{"streams", 1, 0, OPT_STREAMS}, {"delta", 0, 0, OPT_DELTA},
		{"full-every", 1, 0, OPT_FULL_EVERY}, {"concurrency", 1, 0, OPT_CONCURRENCY},
		{"help", 0, 0, OPT_HELP}, {0, 0, 0, 0}};
	struct extract_opts o;
	struct oneroster_opts oo = {0};
	const char *secret_ref = NULL, *csecret_ref = NULL;
	struct rt_err e;
	int opt;

	if (prog_init(argv[0]))
		return EXIT_USAGE;
	extract_opts_init(&o);
	err_clear(&e);
	while ((opt = extract_getopt(argc, argv, longopts, &o)) != -1) {
		switch (opt) {
		case EXTRACT_OPT_BAD: return EXIT_USAGE;
		case OPT_CLIENT_ID: oo.client_id = optarg; break;
		case OPT_SECRET: secret_ref = optarg; break;
		case OPT_SCOPE: oo.scope = optarg; break;
		case OPT_CONSUMER_KEY: oo.consumer_key = optarg; break;
		case OPT_CONSUMER_SECRET: csecret_ref = optarg; break;
		case OPT_VERSIONS: oo.versions = optarg; break;
		case OPT_STREAMS: oo.streams = optarg; break;
		case OPT_DELTA: oo.delta = 1; break;
		case OPT_FULL_EVERY: {
			char *end;
			long n = strtol(optarg, &end, 10);
			oo.full_every = *optarg && !*end && n > 0 && n < 3650 ? (int)n : -1;
			break;
		}
		case OPT_CONCURRENCY: {
			char *end;
			long n = strtol(optarg, &end, 10);
			oo.concurrency = *optarg && !*end && n >= 1 && n <= FETCH_MAX_CONCURRENCY
					 ? (int)n : -1;
			break;
		}
		case OPT_HELP: usage(stdout); return EXIT_COMPLETE;
		default: usage(stderr); return EXIT_USAGE;
		}
	}
	char *secret = NULL, *csecret = NULL;
	char secret_name[128];
	int rc = EXIT_USAGE;
	secret_protect_process();
	if ((secret_ref && !(secret = extract_secret(&o, secret_ref, "--client-secret", &e))) ||
	    (csecret_ref &&
	     !(csecret = extract_secret(&o, csecret_ref, "--consumer-secret", &e)))) {
		log_err(LOG_ERROR, &e);
		goto out;
	}
	err_redact_add(secret); /* in case a provider echoes it in an error */
	err_redact_add(csecret);
	oo.client_secret = secret;
	oo.consumer_secret = csecret;
	const char *ref = secret_ref ? secret_ref : csecret_ref;
	if (ref) {
		snprintf(secret_name, sizeof secret_name, "the stored entry %s", ref + 6);
		oo.secret_name = secret_name;
	}
	oo.page_size = o.page_size;
	if (oneroster_check_opts(&oo, &o, &e)) {
		log_err(LOG_ERROR, &e);
		goto out;
	}
	rc = extract_main_run("oneroster", &o, run_oneroster, &oo);
out:
	secret_free(secret);
	secret_free(csecret);
	return prog_close_stdout(rc);
}
