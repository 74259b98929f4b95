/* dedupe: merges the same person within and across sources (lib/engine/dedupe.h)
 * and passes every other Singer message through. */
#include "core/atomic.h"
#include "core/exitcode.h"
#include "core/log.h"
#include "engine/dedupe.h"
#include "engine/idmap.h"
#include "engine/prog.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void usage(FILE *f)
{
	fprintf(f,
		"usage: dedupe [--ids FILE --ids-out NEWFILE] [--reconcile FILE]\n"
		"              [--log-format text|json] [FILE...]\n"
		"Reads canonical Singer messages (normalize output) from each FILE in turn, or\n"
		"stdin, and merges people that share source+source_id, employee_id, sis_id or\n"
		"email (case-insensitive), transitively. Each person gets a stable id, its\n"
		"sources and the source of each field; memberships point to the merged id.\n"
		"Other messages pass through. The first source in the input wins a field.\n\n"
		"  --ids FILE         the id map of the previous night (none yet: the first\n"
		"                     night): a person keeps its id whatever source joins or\n"
		"                     leaves; needs --ids-out\n"
		"  --ids-out NEWFILE  where the updated map goes (written whole, only when\n"
		"                     the merged output was written); the caller moves it over\n"
		"                     FILE once that output is published\n"
		"  --reconcile FILE   also write FILE (JSON): for each directory source (graph,\n"
		"                     google) and roster source whose people are complete,\n"
		"                     active accounts absent or inactive in the roster, roster\n"
		"                     people without an account or whose account is inactive\n"
		"  --log-format F     text (default) or json diagnostics on stderr\n"
		"  --help             this text\n\n" EXIT_CODES_HELP);
}

/* The reconciliation, published whole or not at all (lib/core/atomic.h). */
static int write_reconcile(struct dedupe *d, const char *path)
{
	struct atomic_file a;
	struct rt_err e;
	FILE *fp;
	err_clear(&e);
	if (atomic_open(&a, path, 0644, &e))
		goto fail;
	if (!(fp = atomic_fp(&a, &e)) || dedupe_reconcile(d, fp, &e)) {
		atomic_abort(&a);
		goto fail;
	}
	if (atomic_commit(&a, &e))
		goto fail;
	return 0;
fail:
	log_err(LOG_ERROR, &e);
	log_msg(LOG_ERROR, "the reconciliation was not written to %s", path);
	return -1;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"ids", 1, 0, 'i'},	   {"ids-out", 1, 0, 'o'}, {"reconcile", 1, 0, 'r'},
		{"log-format", 1, 0, 'l'}, {"help", 0, 0, 'h'},	   {0, 0, 0, 0}};
	int opt, rc = EXIT_COMPLETE;
	const char *reconcile = NULL, *ids = NULL, *ids_out = NULL;

	if (prog_init(argv[0]))
		return EXIT_USAGE;
	while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (opt) {
		case 'r': reconcile = optarg; break;
		case 'i': ids = optarg; break;
		case 'o': ids_out = optarg; break;
		case 'l':
			if (prog_log_format(optarg))
				return EXIT_USAGE;
			break;
		case 'h': usage(stdout); return fclose(stdout) ? EXIT_FAILED : EXIT_COMPLETE;
		default: usage(stderr); return EXIT_USAGE;
		}
	}

	if (!ids != !ids_out || (ids && !strcmp(ids, ids_out))) {
		log_msg(LOG_ERROR, "%s", ids && ids_out ? "--ids-out must name another file than "
				   "--ids: the map read stays whole until the caller replaces it"
				   : ids ? "--ids needs --ids-out NEWFILE: where the updated id map goes"
					 : "--ids-out needs --ids FILE: the id map it updates");
		usage(stderr);
		return EXIT_USAGE;
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
	/* the map is read while the input is (its error is dedupe_finish's) */
	struct idmap *map = NULL;
	if (rc == EXIT_COMPLETE && ids) {
		if (!(map = idmap_new())) {
			err_set(&e, ERR_IO, "out of memory");
			rc = EXIT_FAILED;
		} else {
			idmap_load_start(map, ids);
			dedupe_use_ids(d, map, ids_out);
		}
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
	/* the merged output is whole by now: a reconciliation that cannot be
	 * written leaves the run partial, not failed */
	if (reconcile && (rc == EXIT_COMPLETE || rc == EXIT_PARTIAL) && write_reconcile(d, reconcile))
		rc = EXIT_PARTIAL;

	for (int i = 0; in && i < nin; i++)
		if (in[i] && in[i] != stdin)
			fclose(in[i]);
	free(in);
	free(names);
	dedupe_free(d);
	idmap_free(map);
	return prog_close_stdout(rc);
}
