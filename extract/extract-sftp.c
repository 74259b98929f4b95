/* extract-sftp: takes a vendor's file drop (Munis, Frontline, Aesop,
 * Clever, OneRoster, SDS) from an SFTP folder or a local one and writes
 * its files as raw Singer streams on stdout: the same streams the vendor's
 * API extractor would give, so the same normalize maps them. */
#include "core/exitcode.h"
#include "core/log.h"
#include "engine/ingest.h"
#include "engine/prog.h"
#include "engine/vendor.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The profiles whose files are increments, "aesop, frontline". */
static void increment_profiles(char *out, size_t n)
{
	size_t l = 0;
	const struct drop_profile *p;
	out[0] = 0;
	for (size_t i = 0; (p = vendor_drop_nth(i, NULL)) && l < n; i++)
		if (p->increments)
			l += (size_t)snprintf(out + l, n - l, "%s%s", l ? ", " : "", p->name);
}

static void usage(FILE *f)
{
	char incr[200];
	const struct drop_profile *p;
	increment_profiles(incr, sizeof incr);
	fprintf(f,
		"usage: extract-sftp --profile NAME --host HOST [--user USER] --known-hosts FILE\n"
		"         (--key FILE [--passphrase creds:NAME] | --password creds:NAME)\n"
		"         --staging DIR [options] > raw.ndjson\n"
		"       extract-sftp --profile NAME --local PATH [options] > raw.ndjson\n"
		"Takes the files of a vendor's drop folder and writes them as raw Singer streams\n"
		"on stdout. A file is taken once it is no longer being written; files already\n"
		"taken are kept in a ledger and not downloaded again. Secrets come from the\n"
		"credentials store (creds(1)), never from the command line.\n\n"
		"Profiles:\n");
	for (size_t i = 0; (p = vendor_drop_nth(i, NULL)); i++)
		fprintf(f, "  %-12s %s\n", p->name, p->about);
	fprintf(f,
		"\n"
		"  --profile NAME           the drop's profile (above; required)\n"
		"  --host HOST              the SFTP server\n"
		"  --port N                 its port (default 22)\n"
		"  --user USER              the login (default: the account running this, as ssh does)\n"
		"  --known-hosts FILE       OpenSSH known_hosts holding the server's key (plain or\n"
		"                           hashed entries)\n"
		"  --fingerprint SHA256:..  or the server key's pinned fingerprint\n"
		"  --key FILE               private key (ed25519 or RSA, mode 0600)\n"
		"  --passphrase creds:NAME  the stored entry holding the key's passphrase\n"
		"  --password creds:NAME    the stored entry holding the password (without --key)\n"
		"  --local PATH             a local file or folder instead of SFTP (no network)\n"
		"  --folder DIR             the remote folder (default .)\n"
		"  --pattern GLOB           the files to take (default: the profile's file names)\n"
		"  --take newest|all        newest (default): the newest matching file (by a date\n"
		"                           in its name, else its time). all: every file not yet\n"
		"                           taken, oldest first, added up in a fold; only for\n"
		"                           profiles whose files are increments (%s);\n"
		"                           no file and no fold yet fails the stream\n"
		"  --settle SECONDS         a file changed less than SECONDS ago is looked at again\n"
		"                           after SECONDS and taken only if unchanged (default 60)\n"
		"  --marker NAME            instead: take a file only when NAME exists (a glob, or\n"
		"                           a name where {name} is the file's: \"{name}.done\");\n"
		"                           the marker must be at least as new as the file (an\n"
		"                           older one was left before the file was rewritten)\n"
		"  --staging DIR            staged copies, ledger.jsonl and folds (required with\n"
		"                           SFTP and with --take all)\n"
		"  --reprocess              ignore the ledger: take the files again\n"
		"  --max-expanded BYTES     most bytes a .gz file may expand to (512M, 2G; default\n"
		"                           1G)\n"
		"  --encoding E             auto (default), utf-8 or windows-1252\n"
		"  --delimiter D            auto (default), \",\", \"|\", tab, \";\" or fixed\n"
		EXTRACT_COMMON_HELP
		"  --help                   this text\n\n"
		"Bundles: a stream is complete only when every required file feeding it was\n"
		"read; a missing required file fails its stream, a missing optional one is\n"
		"left out. OneRoster's manifest.csv decides instead: absent is not read, bulk\n"
		"is a whole snapshot, delta is changes only: its stream's records are sent\n"
		"without ACTIVATE_VERSION (status \"changes\", not marked complete; later\n"
		"stages keep what they have), and exit 0.\n\n"
		"Example:\n"
		"  extract-sftp --profile munis --host sftp.mapleridge.example --user hr-export \\\n"
		"    --known-hosts known_hosts --key id_ed25519 --folder outgoing \\\n"
		"    --pattern 'munis_employees_*.csv' --credentials creds \\\n"
		"    --staging state/munis > raw.ndjson\n\n" EXIT_CODES_HELP,
		incr);
}

enum {
	OPT_PROFILE = XOPT_LAST, OPT_HOST, OPT_PORT, OPT_USER, OPT_KNOWN_HOSTS, OPT_FINGERPRINT,
	OPT_KEY, OPT_PASSPHRASE, OPT_PASSWORD, OPT_LOCAL, OPT_FOLDER, OPT_PATTERN, OPT_TAKE,
	OPT_SETTLE, OPT_MARKER, OPT_STAGING, OPT_REPROCESS, OPT_MAX_EXPANDED, OPT_ENCODING,
	OPT_DELIMITER, OPT_HELP
};

static int bad(const char *fmt, const char *arg)
{
	log_msg(LOG_ERROR, fmt, arg);
	return EXIT_USAGE;
}

static int option(struct ingest_opts *io, int opt, const char *arg)
{
	char *end;
	switch (opt) {
	case OPT_PROFILE:
		if (!(io->profile = vendor_drop_profile(arg, NULL)))
			return bad("--profile: no profile '%s' (extract-sftp --help lists them)", arg);
		return 0;
	case OPT_HOST: io->host = arg; return 0;
	case OPT_PORT: {
		errno = 0;
		long v = strtol(arg, &end, 10);
		if (errno || end == arg || *end || v < 1 || v > 65535)
			return bad("--port: expected a port from 1 to 65535, not '%s'", arg);
		io->port = (int)v;
		return 0;
	}
	case OPT_USER: io->user = arg; return 0;
	case OPT_KNOWN_HOSTS: io->known_hosts = arg; return 0;
	case OPT_FINGERPRINT: io->fingerprint = arg; return 0;
	case OPT_KEY: io->key_file = arg; return 0;
	case OPT_PASSPHRASE: io->passphrase_ref = arg; return 0;
	case OPT_PASSWORD: io->password_ref = arg; return 0;
	case OPT_LOCAL: io->local = arg; return 0;
	case OPT_FOLDER: io->folder = arg; return 0;
	case OPT_PATTERN: io->pattern = arg; return 0;
	case OPT_TAKE:
		if (!strcmp(arg, "newest"))
			io->take = TAKE_NEWEST;
		else if (!strcmp(arg, "all"))
			io->take = TAKE_ALL;
		else
			return bad("--take: expected newest or all, not '%s'", arg);
		return 0;
	case OPT_SETTLE: {
		errno = 0;
		double v = strtod(arg, &end);
		if (errno || end == arg || *end || !isfinite(v) || v < 0 || v > 86400)
			return bad("--settle: expected seconds from 0 to 86400, not '%s'", arg);
		io->settle = v;
		return 0;
	}
	case OPT_MARKER: io->marker = arg; return 0;
	case OPT_STAGING: io->staging = arg; return 0;
	case OPT_REPROCESS: io->reprocess = 1; return 0;
	case OPT_MAX_EXPANDED:
		if (ingest_parse_size(arg, &io->max_expanded))
			return bad("--max-expanded: expected bytes (1048576, 512M, 2G), not '%s'", arg);
		return 0;
	case OPT_ENCODING:
		if (csv_enc_parse(arg, &io->drop.csv.enc))
			return bad("--encoding: expected auto, utf-8 or windows-1252, not '%s'", arg);
		return 0;
	case OPT_DELIMITER:
		if (csv_delim_parse(arg, &io->drop.csv.delim))
			return bad("--delimiter: expected auto, \",\", \"|\", tab, \";\" or fixed, "
				   "not '%s'", arg);
		return 0;
	}
	usage(stderr);
	return EXIT_USAGE;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		EXTRACT_COMMON_LONGOPTS,
		{"profile", 1, 0, OPT_PROFILE}, {"host", 1, 0, OPT_HOST}, {"port", 1, 0, OPT_PORT},
		{"user", 1, 0, OPT_USER}, {"known-hosts", 1, 0, OPT_KNOWN_HOSTS},
		{"fingerprint", 1, 0, OPT_FINGERPRINT}, {"key", 1, 0, OPT_KEY},
		{"passphrase", 1, 0, OPT_PASSPHRASE}, {"password", 1, 0, OPT_PASSWORD},
		{"local", 1, 0, OPT_LOCAL}, {"folder", 1, 0, OPT_FOLDER},
		{"pattern", 1, 0, OPT_PATTERN}, {"take", 1, 0, OPT_TAKE},
		{"settle", 1, 0, OPT_SETTLE}, {"marker", 1, 0, OPT_MARKER},
		{"staging", 1, 0, OPT_STAGING}, {"reprocess", 0, 0, OPT_REPROCESS},
		{"max-expanded", 1, 0, OPT_MAX_EXPANDED}, {"encoding", 1, 0, OPT_ENCODING},
		{"delimiter", 1, 0, OPT_DELIMITER}, {"help", 0, 0, OPT_HELP}, {0, 0, 0, 0}};
	struct extract_opts o;
	struct ingest_opts io;
	struct rt_err e;
	int opt;

	if (prog_init(argv[0]))
		return EXIT_USAGE;
	extract_opts_init(&o);
	ingest_opts_init(&io);
	err_clear(&e);
	while ((opt = extract_getopt(argc, argv, longopts, &o)) != -1) {
		if (opt == OPT_HELP) {
			usage(stdout);
			return EXIT_COMPLETE;
		}
		if (opt == EXTRACT_OPT_BAD || opt == '?' || option(&io, opt, optarg))
			return EXIT_USAGE;
	}
	if (ingest_check_opts(&io, &e)) {
		log_err(LOG_ERROR, &e);
		return EXIT_USAGE;
	}
	return prog_close_stdout(ingest_main(&io, &o));
}
