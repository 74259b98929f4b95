/* extract-clever: reads a district's data from the Clever API v3.0 and
 * writes it as Singer messages (clever_users, clever_schools,
 * clever_sections, clever_terms) on stdout. */
#include "core/exitcode.h"
#include "core/log.h"
#include "auth/secret.h"
#include "engine/prog.h"
#include "vendor/clever/clever.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void usage(FILE *f)
{
	fprintf(f,
		"usage: extract-clever [options] > raw.ndjson\n"
		"Reads users, schools, sections and terms of one district from Clever (v3.0)\n"
		"and writes Singer messages on stdout. Secrets come from the credentials\n"
		"store (creds(1)), never from the command line.\n\n"
		"  --client-id ID           the app's client id (gets the district token)\n"
		"  --client-secret creds:NAME  the stored entry holding the client secret\n"
		"  --token creds:NAME       the stored entry holding a district-app token\n"
		"                           (instead of the client id and secret)\n"
		"  --district ID            district to read when several connected the app\n"
		"  --streams LIST           any of " CLEVER_STREAMS " (default all)\n"
		"  --roles LIST             user roles to read (default\n"
		"                           " CLEVER_ROLES ")\n"
		EXTRACT_COMMON_HELP
		"  --help                   this text\n\n" EXIT_CODES_HELP);
}

enum { OPT_CLIENT_ID = XOPT_LAST, OPT_SECRET, OPT_TOKEN, OPT_DISTRICT, OPT_STREAMS, OPT_ROLES, OPT_HELP };

/* The vendor's extraction with its options, as extract_main_run calls it. */
static int run_clever(struct extract_run *run, const struct extract_opts *o, void *vo)
{
	return clever_extract(run, o, vo);
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		EXTRACT_COMMON_LONGOPTS,
		{"client-id", 1, 0, OPT_CLIENT_ID}, {"client-secret", 1, 0, OPT_SECRET},
		{"token", 1, 0, OPT_TOKEN}, {"district", 1, 0, OPT_DISTRICT},
		{"streams", 1, 0, OPT_STREAMS}, {"roles", 1, 0, OPT_ROLES},
		{"help", 0, 0, OPT_HELP}, {0, 0, 0, 0}};
	struct extract_opts o;
	struct clever_opts co = {0};
	const char *secret_ref = NULL, *token_ref = NULL;
	struct rt_err e;
	int opt;

	if (prog_init(argv[0]))
		return EXIT_USAGE;
	extract_opts_init(&o);
	err_clear(&e);
	while ((opt = extract_getopt(argc, argv, longopts, &o)) != -1) {
		switch (opt) {
		case EXTRACT_OPT_BAD: return EXIT_USAGE;
		case OPT_CLIENT_ID: co.client_id = optarg; break;
		case OPT_SECRET: secret_ref = optarg; break;
		case OPT_TOKEN: token_ref = optarg; break;
		case OPT_DISTRICT: co.district = optarg; break;
		case OPT_STREAMS: co.streams = optarg; break;
		case OPT_ROLES: co.roles = optarg; break;
		case OPT_HELP: usage(stdout); return EXIT_COMPLETE;
		default: usage(stderr); return EXIT_USAGE;
		}
	}
	char *secret = NULL, *token = NULL;
	char secret_name[128];
	int rc = EXIT_USAGE;
	secret_protect_process();
	if ((secret_ref &&
	     !(secret = extract_secret(&o, secret_ref, "--client-secret", &e))) ||
	    (token_ref && !(token = extract_secret(&o, token_ref, "--token", &e)))) {
		log_err(LOG_ERROR, &e);
		goto out;
	}
	err_redact_add(secret); /* in case a vendor echoes it in an error */
	err_redact_add(token);
	co.client_secret = secret;
	co.token = token;
	if (secret_ref) {
		snprintf(secret_name, sizeof secret_name, "the stored entry %s", secret_ref + 6);
		co.secret_name = secret_name;
	}
	co.page_size = o.page_size;
	if (clever_check_opts(&co, &e)) {
		log_err(LOG_ERROR, &e);
		goto out;
	}

	rc = extract_main_run("clever", &o, run_clever, &co);
out:
	secret_free(secret);
	secret_free(token);
	return prog_close_stdout(rc);
}
