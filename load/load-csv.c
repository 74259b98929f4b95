/* load-csv: publishes canonical Singer streams as CSV files; the work is
 * lib/engine/load.c. */
#include "core/exitcode.h"
#include "core/log.h"
#include "engine/load.h"
#include "engine/prog.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

static void usage(FILE *f)
{
	fprintf(f,
		"usage: load-csv --out DIR [--log-format text|json] [FILE]\n"
		"Reads canonical Singer messages (normalize or dedupe output) from FILE or\n"
		"stdin and publishes DIR/STREAM.csv for each stream that arrived complete\n"
		"(a SCHEMA and an ACTIVATE_VERSION for each SCHEMA), atomically, with\n"
		"DIR/manifest.json. An incomplete stream leaves the previous file in place.\n\n"
		"  --out DIR          output folder (created if missing)\n"
		"  --log-format F     text (default) or json diagnostics on stderr\n"
		"  --help             this text\n\n" EXIT_CODES_HELP);
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {{"out", 1, 0, 'o'},
						 {"log-format", 1, 0, 'l'},
						 {"help", 0, 0, 'h'},
						 {0, 0, 0, 0}};
	const char *out = NULL, *file = "stdin";
	FILE *in = stdin;
	int opt;

	if (prog_init(argv[0]))
		return EXIT_USAGE;
	while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (opt) {
		case 'o': out = optarg; break;
		case 'l':
			if (prog_log_format(optarg))
				return EXIT_USAGE;
			break;
		case 'h': usage(stdout); return fclose(stdout) ? EXIT_FAILED : EXIT_COMPLETE;
		default: usage(stderr); return EXIT_USAGE;
		}
	}
	if (!out || !*out || argc - optind > 1) {
		log_msg(LOG_ERROR, !out || !*out ? "--out DIR is required" : "one input FILE at most");
		usage(stderr);
		return EXIT_USAGE;
	}
	if (optind < argc && strcmp(argv[optind], "-")) {
		file = argv[optind];
		if (!(in = fopen(file, "r"))) {
			log_msg(LOG_ERROR, "cannot open %s: %m", file);
			return EXIT_USAGE;
		}
	}

	int rc = load_csv(in, file, out);
	if (in != stdin)
		fclose(in);
	return prog_close_stdout(rc);
}
