/* run-job: runs a district's job file end to end and reports. */
#include "core/exitcode.h"
#include "core/log.h"
#include "auth/secret.h"
#include "engine/prog.h"
#include "engine/runjob.h"

#include <getopt.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void usage(FILE *f)
{
	fprintf(f,
		"usage: run-job [options] JOBFILE\n"
		"Runs every source of the job (extract | normalize), merges them (dedupe)\n"
		"and publishes the CSV files (load-csv); prints the run report and writes\n"
		"it as JSON, with the accounts of the directory sources (graph, google)\n"
		"that the rosters do not match, and the reverse. The job file format is\n"
		"in roster-job(5).\n\n"
		"  --report FILE      write the JSON run report here (default:\n"
		"                     OUTPUT/run-report.json)\n"
		"  --check            validate the job file and stop\n"
		"  --dry-run          run every stage in a scratch folder and publish\n"
		"                     nothing: write the change set the run would make\n"
		"  --changes FILE     the dry run's change set (NDJSON; default stdout)\n"
		"  --approve          publish what the last run held (exit 4), exactly as\n"
		"                     it was staged\n"
		"  --discard          drop what the last run held; the files stay as they are\n"
		"  --print-pipeline   print the stage commands the job runs, to rerun by hand\n"
		"  --bindir DIR       where the stage programs are (default: run-job's own folder)\n"
		"  --log-format F     text (default) or json, for run-job's own messages\n"
		"  --help             this text\n\n" EXIT_CODES_HELP);
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"report", 1, 0, 'r'},	    {"check", 0, 0, 'c'},   {"bindir", 1, 0, 'b'},
		{"dry-run", 0, 0, 'n'},	    {"changes", 1, 0, 'C'}, {"approve", 0, 0, 'a'},
		{"discard", 0, 0, 'd'},	    {"print-pipeline", 0, 0, 'p'},
		{"log-format", 1, 0, 'l'}, {"help", 0, 0, 'h'},    {0, 0, 0, 0}};
	struct runjob_opts o = {.out = stdout};
	char self[PATH_MAX];
	int opt, modes = 0;

	if (prog_init(argv[0]))
		return EXIT_USAGE;
	secret_protect_process(); /* it decrypts each secret once, to check the store */
	while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (opt) {
		case 'r': o.report_path = optarg; break;
		case 'c': o.mode = RJ_CHECK, modes++; break;
		case 'n': o.mode = RJ_DRY_RUN, modes++; break;
		case 'a': o.mode = RJ_APPROVE, modes++; break;
		case 'd': o.mode = RJ_DISCARD, modes++; break;
		case 'p': o.mode = RJ_PRINT, modes++; break;
		case 'C': o.changes = optarg; break;
		case 'b': o.bindir = optarg; break;
		case 'l':
			if (prog_log_format(optarg))
				return EXIT_USAGE;
			break;
		case 'h': usage(stdout); return EXIT_COMPLETE;
		default: usage(stderr); return EXIT_USAGE;
		}
	}
	if (optind != argc - 1 || modes > 1 || (o.changes && o.mode != RJ_DRY_RUN)) {
		if (modes > 1)
			log_msg(LOG_ERROR, "--check, --dry-run, --approve, --discard and "
					   "--print-pipeline exclude each other");
		else if (o.changes && o.mode != RJ_DRY_RUN)
			log_msg(LOG_ERROR, "--changes goes with --dry-run");
		usage(stderr);
		return EXIT_USAGE;
	}
	o.job_path = argv[optind];
	if (!o.bindir) {
		ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
		if (n <= 0) {
			log_msg(LOG_ERROR, "cannot find run-job's own folder; give --bindir");
			return EXIT_USAGE;
		}
		self[n] = 0;
		o.bindir = dirname(self);
	}
	struct rt_err e;
	int rc = runjob(&o, &e);
	if (e.kind != ERR_NONE)
		log_err(LOG_ERROR, &e);
	return prog_close_stdout(rc);
}
