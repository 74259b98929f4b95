/* load-csv: publishes canonical Singer streams as CSV files, holding a
 * mass change for approval; the work is lib/engine/load*.c. */
#include "core/exitcode.h"
#include "core/log.h"
#include "engine/load.h"
#include "engine/prog.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void usage(FILE *f)
{
	fprintf(f,
		"usage: load-csv --out DIR [options] [FILE]\n"
		"       load-csv --out DIR --approve | --discard [--held DIR]\n"
		"Reads canonical Singer messages (normalize or dedupe output) from FILE or\n"
		"stdin and publishes DIR/STREAM.csv for each stream that arrived complete\n"
		"(a SCHEMA and an ACTIVATE_VERSION for each SCHEMA), atomically, with\n"
		"DIR/manifest.json. An incomplete stream leaves the previous file in place.\n"
		"Each stream is first compared with the file it replaces; a mass change is\n"
		"held (the previous file stays, exit 4) until approved.\n\n"
		"  --out DIR            output folder (created if missing)\n"
		"  --hold-deletes L     hold a stream when more rows than L would be removed:\n"
		"                       10%% (default), a count (500), off, or per stream:\n"
		"                       people=5%%,memberships=20%%\n"
		"  --hold-changes L     the same for changed rows (default 75%%)\n"
		"  --hold-floor N       fewer removed or changed rows than N never hold (25);\n"
		"                       a stream going to zero rows is always held\n"
		"  --held DIR           where held results wait (default DIR/.held)\n"
		"  --approve            publish the held results exactly as staged\n"
		"  --discard            drop the held results; the published files stay\n"
		"  --dry-run            compare and report only; write nothing but the\n"
		"                       change set\n"
		"  --changes FILE       the dry run's change set (NDJSON; default stdout)\n"
		"  --run-id ID          this run's name in the manifest (default: its time)\n"
		"  --log-format F       text (default) or json diagnostics on stderr\n"
		"  --help               this text\n\n" EXIT_CODES_HELP);
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {{"out", 1, 0, 'o'},
						 {"hold-deletes", 1, 0, 'D'},
						 {"hold-changes", 1, 0, 'C'},
						 {"hold-floor", 1, 0, 'F'},
						 {"held", 1, 0, 'H'},
						 {"approve", 0, 0, 'a'},
						 {"discard", 0, 0, 'd'},
						 {"dry-run", 0, 0, 'n'},
						 {"changes", 1, 0, 'c'},
						 {"run-id", 1, 0, 'r'},
						 {"log-format", 1, 0, 'l'},
						 {"help", 0, 0, 'h'},
						 {0, 0, 0, 0}};
	struct load_opts o;
	struct rt_err e;
	const char *file = "stdin";
	FILE *in = stdin;
	int opt, approve = 0, discard = 0;
	char *end;

	if (prog_init(argv[0]))
		return EXIT_USAGE;
	load_opts_init(&o);
	err_clear(&e);
	while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (opt) {
		case 'o': o.dir = optarg; break;
		case 'D':
		case 'C':
			if (load_limits_parse(&o, opt == 'D' ? 'd' : 'c', optarg, &e)) {
				log_msg(LOG_ERROR, "--hold-%s: %s", opt == 'D' ? "deletes" : "changes",
					e.msg);
				return EXIT_USAGE;
			}
			break;
		case 'F':
			o.floor = strtol(optarg, &end, 10);
			if (end == optarg || *end || o.floor < 0) {
				log_msg(LOG_ERROR, "--hold-floor '%s': give a count of rows", optarg);
				return EXIT_USAGE;
			}
			break;
		case 'H': o.held = optarg; break;
		case 'a': approve = 1; break;
		case 'd': discard = 1; break;
		case 'n': o.dry_run = 1; break;
		case 'c': o.changes = optarg; break;
		case 'r': o.run_id = optarg; break;
		case 'l':
			if (prog_log_format(optarg))
				return EXIT_USAGE;
			break;
		case 'h': usage(stdout); return fclose(stdout) ? EXIT_FAILED : EXIT_COMPLETE;
		default: usage(stderr); return EXIT_USAGE;
		}
	}
	const char *bad = !o.dir || !*o.dir ? "--out DIR is required"
			  : approve + discard + o.dry_run > 1
				  ? "--approve, --discard and --dry-run exclude each other"
			  : (approve || discard) && argc > optind
				  ? "--approve and --discard read no input"
			  : o.changes && !o.dry_run ? "--changes goes with --dry-run"
			  : argc - optind > 1 ? "one input FILE at most"
					      : NULL;
	if (bad) {
		log_msg(LOG_ERROR, "%s", bad);
		usage(stderr);
		return EXIT_USAGE;
	}
	if (approve)
		return prog_close_stdout(load_approve(&o));
	if (discard)
		return prog_close_stdout(load_discard(&o));
	if (optind < argc && strcmp(argv[optind], "-")) {
		file = argv[optind];
		if (!(in = fopen(file, "r"))) {
			log_msg(LOG_ERROR, "cannot open %s: %m", file);
			return EXIT_USAGE;
		}
	}

	int rc = load_csv(in, file, &o);
	if (in != stdin)
		fclose(in);
	return prog_close_stdout(rc);
}
