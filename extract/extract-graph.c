/* extract-graph: reads a tenant's users and groups from Microsoft Entra ID
 * through Microsoft Graph v1.0 and writes them as Singer messages
 * (graph_groups, graph_group_members, graph_users, graph_deleted_users) on
 * stdout. */
#include "core/exitcode.h"
#include "core/log.h"
#include "auth/secret.h"
#include "engine/prog.h"
#include "vendor/graph/graph.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void usage(FILE *f)
{
	fprintf(f,
		"usage: extract-graph --tenant T --client-id ID --client-secret creds:NAME [options]\n"
		"         > raw.ndjson\n"
		"Reads the groups, group members, users and deleted users of one Microsoft Entra\n"
		"ID tenant through Microsoft Graph v1.0 and writes Singer messages on stdout.\n"
		"Secrets come from the credentials store (creds(1)), never from the command line.\n\n"
		"  --tenant T               tenant GUID or verified domain\n"
		"  --client-id ID           the application (client) id\n"
		"  --client-secret creds:NAME  the stored entry holding the client secret\n"
		"  --streams LIST           any of " GRAPH_STREAMS "\n"
		"                           (default all)\n"
		"  --members direct|transitive  members of each group, or nested groups\n"
		"                           flattened (default direct)\n"
		"  --delta                  incremental: read only the changes since the last run\n"
		"                           (/delta links kept in STATE) and emit the full set\n"
		"  --snapshot FILE          with --delta: the full set kept between runs (required)\n"
		"  --full                   with --delta: read everything, ignoring stored links\n"
		"  --full-every DAYS        with --delta: read everything when the last full read\n"
		"                           is DAYS days old\n"
		EXTRACT_COMMON_HELP
		"  --help                   this text\n\n" EXIT_CODES_HELP);
}

enum {
	OPT_TENANT = XOPT_LAST, OPT_CLIENT_ID, OPT_SECRET, OPT_STREAMS, OPT_MEMBERS, OPT_DELTA,
	OPT_FULL, OPT_FULL_EVERY, OPT_SNAPSHOT, OPT_HELP
};

static int days(const char *arg, int *out)
{
	char *end;
	errno = 0;
	long v = strtol(arg, &end, 10);
	if (errno || end == arg || *end || v < 1 || v > INT_MAX / 86400) {
		log_msg(LOG_ERROR, "--full-every: expected a whole number of days from 1, not '%s'",
			arg);
		return -1;
	}
	*out = (int)v;
	return 0;
}

/* The vendor's extraction with its options, as extract_main_run calls it. */
static int run_graph(struct extract_run *run, const struct extract_opts *o, void *vo)
{
	return graph_extract(run, o, vo);
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		EXTRACT_COMMON_LONGOPTS,
		{"tenant", 1, 0, OPT_TENANT}, {"client-id", 1, 0, OPT_CLIENT_ID},
		{"client-secret", 1, 0, OPT_SECRET}, {"streams", 1, 0, OPT_STREAMS},
		{"members", 1, 0, OPT_MEMBERS}, {"delta", 0, 0, OPT_DELTA}, {"full", 0, 0, OPT_FULL},
		{"full-every", 1, 0, OPT_FULL_EVERY}, {"snapshot", 1, 0, OPT_SNAPSHOT},
		{"help", 0, 0, OPT_HELP}, {0, 0, 0, 0}};
	struct extract_opts o;
	struct graph_opts go = {0};
	const char *secret_ref = NULL;
	struct rt_err e;
	int opt;

	if (prog_init(argv[0]))
		return EXIT_USAGE;
	extract_opts_init(&o);
	err_clear(&e);
	while ((opt = extract_getopt(argc, argv, longopts, &o)) != -1) {
		switch (opt) {
		case EXTRACT_OPT_BAD: return EXIT_USAGE;
		case OPT_TENANT: go.tenant = optarg; break;
		case OPT_CLIENT_ID: go.client_id = optarg; break;
		case OPT_SECRET: secret_ref = optarg; break;
		case OPT_STREAMS: go.streams = optarg; break;
		case OPT_MEMBERS: go.members = optarg; break;
		case OPT_DELTA: go.delta = 1; break;
		case OPT_FULL: go.full = 1; break;
		case OPT_FULL_EVERY:
			if (days(optarg, &go.full_every))
				return EXIT_USAGE;
			break;
		case OPT_SNAPSHOT: go.snapshot = optarg; break;
		case OPT_HELP: usage(stdout); return EXIT_COMPLETE;
		default: usage(stderr); return EXIT_USAGE;
		}
	}
	go.page_size = o.page_size;
	if (graph_check_opts(&go, &e)) {
		log_err(LOG_ERROR, &e);
		return EXIT_USAGE;
	}
	if (!secret_ref) {
		log_msg(LOG_ERROR, "--client-secret creds:NAME is required (the stored entry holding "
				   "the application's client secret)");
		return EXIT_USAGE;
	}
	if (!go.delta && (go.full || go.full_every || go.snapshot))
		log_warn("--full, --full-every and --snapshot apply only with --delta; without it "
			 "every run reads everything");

	char *secret = NULL;
	int rc = EXIT_USAGE;
	secret_protect_process();
	if (!(secret = extract_secret(&o, secret_ref, "--client-secret", &e))) {
		log_err(LOG_ERROR, &e);
		goto out;
	}
	err_redact_add(secret); /* in case a vendor echoes it in an error */
	go.client_secret = secret;
	go.secret_entry = strncmp(secret_ref, "creds:", 6) ? secret_ref : secret_ref + 6;

	rc = extract_main_run("graph", &o, run_graph, &go);
out:
	secret_free(secret); /* kept until now: a token may be renewed mid-run */
	return prog_close_stdout(rc);
}
