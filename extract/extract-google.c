/* extract-google: reads a Google Workspace customer's directory (Admin SDK
 * Directory API) with a service account that impersonates an admin, and
 * writes it as Singer messages (google_orgunits, google_groups,
 * google_group_members, google_users, google_deleted_users) on stdout. */
#include "core/exitcode.h"
#include "core/log.h"
#include "auth/secret.h"
#include "engine/prog.h"
#include "vendor/google/google.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void usage(FILE *f)
{
	fprintf(f,
		"usage: extract-google [options] > raw.ndjson\n"
		"Reads org units, groups, group members, users and deleted users of one\n"
		"Google Workspace customer and writes Singer messages on stdout. The\n"
		"service account's key comes from the credentials store (creds(1)), never\n"
		"from the command line.\n\n"
		"  --key creds:NAME         the stored entry holding the service account's\n"
		"                           JSON key file\n"
		"  --subject EMAIL          the admin to impersonate (domain-wide delegation)\n"
		"  --customer ID            the customer ID (default my_customer: the admin's own)\n"
		"  --domain DOMAIN          users and groups of this domain only\n"
		"  --streams LIST           any of (default all)\n"
		"                           " GOOGLE_STREAMS "\n"
		"  --scopes LIST            OAuth scopes (default the four admin.directory\n"
		"                           user, group, group.member and orgunit .readonly)\n"
		EXTRACT_COMMON_HELP
		"  --help                   this text\n\n" EXIT_CODES_HELP);
}

enum { OPT_KEY = XOPT_LAST, OPT_SUBJECT, OPT_CUSTOMER, OPT_DOMAIN, OPT_STREAMS, OPT_SCOPES, OPT_HELP };

/* The vendor's extraction with its options, as extract_main_run calls it;
 * google_extract wipes the key text once it is parsed. */
static int run_google(struct extract_run *run, const struct extract_opts *o, void *vo)
{
	return google_extract(run, o, vo);
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		EXTRACT_COMMON_LONGOPTS,
		{"key", 1, 0, OPT_KEY}, {"subject", 1, 0, OPT_SUBJECT},
		{"customer", 1, 0, OPT_CUSTOMER}, {"domain", 1, 0, OPT_DOMAIN},
		{"streams", 1, 0, OPT_STREAMS}, {"scopes", 1, 0, OPT_SCOPES},
		{"help", 0, 0, OPT_HELP}, {0, 0, 0, 0}};
	struct extract_opts o;
	struct google_opts go = {0};
	const char *key_ref = NULL;
	struct rt_err e;
	int opt;

	if (prog_init(argv[0]))
		return EXIT_USAGE;
	extract_opts_init(&o);
	err_clear(&e);
	while ((opt = extract_getopt(argc, argv, longopts, &o)) != -1) {
		switch (opt) {
		case EXTRACT_OPT_BAD: return EXIT_USAGE;
		case OPT_KEY: key_ref = optarg; break;
		case OPT_SUBJECT: go.subject = optarg; break;
		case OPT_CUSTOMER: go.customer = optarg; break;
		case OPT_DOMAIN: go.domain = optarg; break;
		case OPT_STREAMS: go.streams = optarg; break;
		case OPT_SCOPES: go.scopes = optarg; break;
		case OPT_HELP: usage(stdout); return EXIT_COMPLETE;
		default: usage(stderr); return EXIT_USAGE;
		}
	}
	char key_name[128];
	int rc = EXIT_USAGE;
	secret_protect_process();
	go.page_size = o.page_size;
	if (!key_ref) {
		log_msg(LOG_ERROR, "Google needs the service account's key file: --key creds:NAME");
		goto out;
	}
	/* options first: a usage error never decrypts the key */
	if (google_check_opts(&go, &e) ||
	    !(go.key_json = extract_secret(&o, key_ref, "--key", &e))) {
		log_err(LOG_ERROR, &e);
		goto out;
	}
	snprintf(key_name, sizeof key_name, "the stored entry %s", key_ref + 6);
	go.key_name = key_name;

	rc = extract_main_run("google", &o, run_google, &go);
out:
	secret_free(go.key_json);
	return prog_close_stdout(rc);
}
