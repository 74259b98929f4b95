/* dedupe: merges the same person within and across sources (lib/dedupe.h)
 * and passes every other Singer message through. */
#include "dedupe.h"
#include "exitcode.h"
#include "log.h"
#include "prog.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void usage(FILE *f)
{
	fprintf(f,
		"usage: dedupe [--log-format text|json] [FILE...]\n"
		"Reads canonical Singer messages (normalize output) from each FILE in turn, or\n"
		"stdin, and merges people that share source+source_id, employee_id, sis_id or\n"
		"email (case-insensitive), transitively. Each person gets a stable id, its\n"
		"sources and the source of each field; memberships point to the merged id.\n"
		"Other messages pass through. The first source in the input wins a field.\n\n"
		"  --log-format F     text (default) or json diagnostics on stderr\n"
		"  --help             this text\n\n" EXIT_CODES_HELP);
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"log-format", 1, 0, 'l'}, {"help", 0, 0, 'h'}, {0, 0, 0, 0}};
	int opt, rc = EXIT_COMPLETE;

	if (prog_init(argv[0]))
		return EXIT_USAGE;
	while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (opt) {
		case 'l':
			if (prog_log_format(optarg))
				return EXIT_USAGE;
			break;
		case 'h': usage(stdout); return fclose(stdout) ? EXIT_FAILED : EXIT_COMPLETE;
		default: usage(stderr); return EXIT_USAGE;
		}
	}

	/* Every input is opened first: a missing one fails before any output. */
	int nin = argc > optind ? argc - optind : 1;
	FILE **in = calloc((size_t)nin, sizeof *in);
	const char **names = calloc((size_t)nin, sizeof *names);
	struct dedupe *d = in && names ? dedupe_new(stdout) : NULL;
	struct rt_err e;
	err_clear(&e);
	if (!d) {
		log_msg(LOG_ERROR, "out of memory");
		rc = EXIT_FAILED;
	}
	for (int i = 0; d && i < nin && rc == EXIT_COMPLETE; i++) {
		names[i] = optind + i < argc ? argv[optind + i] : "-";
		in[i] = strcmp(names[i], "-") ? fopen(names[i], "r") : stdin;
		if (!in[i]) {
			log_msg(LOG_ERROR, "cannot open %s: %m", names[i]);
			rc = EXIT_USAGE;
		}
		if (!strcmp(names[i], "-"))
			names[i] = "stdin";
	}
	for (int i = 0; rc == EXIT_COMPLETE && i < nin; i++)
		if (dedupe_read(d, in[i], names[i], &e))
			rc = EXIT_FAILED;
	if (rc == EXIT_COMPLETE && dedupe_finish(d, &e))
		rc = EXIT_FAILED;
	if (e.kind)
		log_err(LOG_ERROR, &e);
	if (rc == EXIT_COMPLETE && dedupe_stats(d)->bad_people)
		rc = EXIT_PARTIAL;

	for (int i = 0; in && i < nin; i++)
		if (in[i] && in[i] != stdin)
			fclose(in[i]);
	free(in);
	free(names);
	dedupe_free(d);
	return prog_close_stdout(rc);
}
