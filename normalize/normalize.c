/* normalize: maps raw vendor streams (Singer NDJSON) to the canonical
 * streams of DESIGN.md; the work is lib/engine/normalize.c. */
#include "core/exitcode.h"
#include "core/log.h"
#include "engine/normalize.h"
#include "engine/prog.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

static void usage(FILE *f)
{
	char list[2048];
	normalize_known_streams(list, sizeof list);
	fprintf(f,
		"usage: normalize [--role-rules RULES] [--status-codes CODES] [--jq FILE]\n"
		"                 [--log-format text|json] [FILE]\n"
		"Maps raw vendor streams (Singer messages, one a line, from FILE or standard\n"
		"input) to the canonical streams people, orgs, groups, memberships,\n"
		"sessions, positions and absences on standard output. SCHEMA and\n"
		"ACTIVATE_VERSION are carried over, STATE is passed on unchanged; a\n"
		"summary goes to standard error.\n"
		"Raw streams known: %s.\n\n"
		"  --role-rules RULES  the role of directory users (Entra ID, Google):\n"
		"                    rules separated by ;, tried in order, the first that\n"
		"                    matches wins: group:NAME=ROLE (member of the group with\n"
		"                    that name, email or id), orgunit:/PATH=ROLE (in that\n"
		"                    org unit or under it), default=ROLE (last); ROLE is\n"
		"                    student, teacher, staff, administrator or aide\n"
		"  --status-codes CODES  which HR status codes (Munis STAT) are active:\n"
		"                    CODE=active or CODE=inactive pairs separated by ;\n"
		"                    (codes case-sensitive); replaces the default\n"
		"                    \"A=active; L=active; T=inactive; R=inactive\"; other\n"
		"                    codes leave the status out, with a warning\n"
		"  --jq FILE         run the jq program in FILE on each canonical record\n"
		"                    ($stream is its stream's name): no output drops the\n"
		"                    record, each object output is written\n"
		"  --log-format F    text (default) or json\n"
		"  --help            this text\n\n" EXIT_CODES_HELP,
		list);
}

int main(int argc, char **argv)
{
	enum { OPT_JQ = 1000, OPT_ROLE_RULES, OPT_STATUS_CODES, OPT_LOG_FORMAT, OPT_HELP };
	static const struct option longopts[] = {{"jq", 1, 0, OPT_JQ},
						 {"role-rules", 1, 0, OPT_ROLE_RULES},
						 {"status-codes", 1, 0, OPT_STATUS_CODES},
						 {"log-format", 1, 0, OPT_LOG_FORMAT},
						 {"help", 0, 0, OPT_HELP},
						 {0, 0, 0, 0}};
	struct normalize_opts o = {NULL, NULL, NULL};
	int opt;

	if (prog_init(argv[0]))
		return EXIT_USAGE;
	while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (opt) {
		case OPT_JQ: o.jq_path = optarg; break;
		case OPT_ROLE_RULES: o.role_rules = optarg; break;
		case OPT_STATUS_CODES: o.status_codes = optarg; break;
		case OPT_LOG_FORMAT:
			if (prog_log_format(optarg))
				return EXIT_USAGE;
			break;
		case OPT_HELP: usage(stdout); return EXIT_COMPLETE;
		default: usage(stderr); return EXIT_USAGE;
		}
	}
	if (argc - optind > 1) {
		log_msg(LOG_ERROR, "one input FILE at most (got '%s' too)", argv[optind + 1]);
		return EXIT_USAGE;
	}
	const char *path = optind < argc ? argv[optind] : NULL;
	FILE *in = path ? fopen(path, "r") : stdin;
	if (!in) {
		log_msg(LOG_ERROR, "%s: %s", path, strerror(errno));
		return EXIT_USAGE;
	}

	int rc = normalize_run(in, path ? path : "stdin", stdout, &o);
	if (path)
		fclose(in);
	return prog_close_stdout(rc);
}
