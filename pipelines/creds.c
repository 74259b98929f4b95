/* creds: the encrypted credentials store of the jobs (man 1 creds). Makes
 * a key, stores, lists, removes and checks named secrets, and rotates the
 * key. Secrets come from standard input or a no-echo prompt, never argv,
 * and are never printed. */
#include "core/clock.h"
#include "core/exitcode.h"
#include "core/log.h"
#include "auth/creds.h"
#include "auth/secret.h"
#include "engine/prog.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static void usage(FILE *f)
{
	fprintf(f,
		"usage: creds [--file FILE] [--key KEYFILE] COMMAND [NAME]\n"
		"The encrypted credentials store that job files name (creds:NAME).\n\n"
		"  keygen       create KEYFILE: a new random key, mode 0600 (never overwrites)\n"
		"  set NAME     store a secret read from standard input, or asked for on the\n"
		"               terminal without echo; one trailing newline is dropped\n"
		"  list         names and when each was set (never the secrets)\n"
		"  remove NAME  forget an entry\n"
		"  check        try every entry with the key; report those that fail\n"
		"  rotate       re-encrypt every entry under a new key, replacing KEYFILE\n\n"
		"  --file FILE     the credentials file (default $ROSTER_CREDENTIALS)\n"
		"  --key KEYFILE   its key (default FILE.key)\n"
		"  --raw           set: keep the secret's bytes exactly (no newline dropped)\n"
		"  --log-format F  text (default) or json\n"
		"  --help          this text\n\n"
		"Both files must be owned by the user running creds and closed to group and\n"
		"others (chmod 600).\n\n" EXIT_CODES_HELP);
}

static int fail(const struct rt_err *e)
{
	log_err(LOG_ERROR, e);
	return e->kind == ERR_IO ? EXIT_FAILED : EXIT_USAGE;
}

static void iso_time(uint64_t t, char out[32])
{
	time_t tt = (time_t)t;
	struct tm tm;
	if (!gmtime_r(&tt, &tm) || !strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm))
		snprintf(out, 32, "%llu", (unsigned long long)t);
}

/* Reads the secret before the store is opened and locked: a prompt must
 * not hold the lock, nor a store read before a rotation. */
static int read_secret(const char *name, int raw, char **secret, size_t *n, struct rt_err *e)
{
	char prompt[128];
	if (!creds_name_ok(name)) {
		err_set(e, ERR_USAGE, "\"%s\" cannot name an entry", name);
		err_hint(e, "up to %d letters, digits, '.', '_' and '-', starting with a letter "
			    "or digit", CREDS_NAME_MAX);
		return -1;
	}
	if (!isatty(0))
		return secret_read_fd(0, CREDS_SECRET_MAX, raw, secret, n, e);
	snprintf(prompt, sizeof prompt, "Secret for %s (not shown): ", name);
	return secret_read_tty(prompt, CREDS_SECRET_MAX, secret, n, e);
}

static int cmd_check(struct creds *c)
{
	int bad = 0;
	struct rt_err e;
	for (size_t i = 0; i < c->n; i++) {
		char *s;
		if (creds_get(c, c->v[i].name, &s, NULL, &e) == 0) {
			secret_free(s);
			printf("ok %s\n", c->v[i].name);
		} else {
			printf("FAILED %s: %s\n", c->v[i].name, e.msg);
			bad = 1;
		}
	}
	if (c->altered) {
		printf("FAILED %s: its checksum does not match: the file was altered\n", c->path);
		bad = 1;
	}
	return bad;
}

static int run(const char *cmd, const char *name, const char *file, const char *key, int raw)
{
	static const struct {
		const char *cmd;
		int needs_name, flags;
	} cmds[] = {{"keygen", 0, 0},		{"set", 1, CREDS_CREATE}, {"list", 0, 0},
		    {"remove", 1, 0},		{"rm", 1, 0},		  {"check", 0, CREDS_LENIENT},
		    {"rotate", 0, 0},		{NULL, 0, 0}};
	struct rt_err e;
	struct creds c;
	int i;
	err_clear(&e);
	for (i = 0; cmds[i].cmd && strcmp(cmds[i].cmd, cmd); i++)
		;
	if (!cmds[i].cmd || cmds[i].needs_name != (name != NULL)) {
		if (cmds[i].cmd)
			log_msg(LOG_ERROR, "%s %s a NAME", cmd,
				cmds[i].needs_name ? "needs" : "takes no");
		else
			log_msg(LOG_ERROR, "unknown command '%s'", cmd);
		usage(stderr);
		return EXIT_USAGE;
	}
	if (!strcmp(cmd, "keygen")) {
		char *def = NULL;
		if (!key && asprintf(&def, "%s.key", file) < 0)
			return EXIT_FAILED;
		int rc = creds_keygen(key ? key : def, &e);
		if (!rc)
			log_info("created key file %s (keep it on this server, mode 0600)",
				 key ? key : def);
		free(def);
		return rc ? fail(&e) : EXIT_COMPLETE;
	}
	if (!strcmp(cmd, "rotate")) {
		const char *note;
		if (creds_rotate(file, key, &note, &e))
			return fail(&e);
		log_info("rotated %s: %s", file, note);
		return EXIT_COMPLETE;
	}
	char *secret = NULL;
	size_t n = 0;
	int lock = -1, rc = 0;
	if (!strcmp(cmd, "set") && read_secret(name, raw, &secret, &n, &e))
		return fail(&e);
	if (name && (lock = creds_lock(file, &e)) < 0) { /* set, remove: a change */
		secret_free(secret);
		return fail(&e);
	}
	if (creds_open(&c, file, key, cmds[i].flags, &e)) {
		secret_free(secret);
		creds_unlock(lock);
		return fail(&e);
	}
	if (secret) {
		rc = creds_set(&c, name, secret, n, (uint64_t)clk_now(), &e);
		secret_free(secret);
		if (!rc && !(rc = creds_save(&c, &e)))
			log_info("set %s in %s", name, c.path);
	} else if (!strcmp(cmd, "list")) {
		for (size_t j = 0; j < c.n; j++) {
			char t[32];
			iso_time(c.v[j].set, t);
			printf("%s\t%s\n", c.v[j].name, t);
		}
	} else if (!strcmp(cmd, "check")) {
		rc = cmd_check(&c);
		creds_close(&c);
		return rc ? EXIT_USAGE : EXIT_COMPLETE;
	} else {
		rc = creds_remove(&c, name, &e);
		if (!rc && !(rc = creds_save(&c, &e)))
			log_info("removed %s from %s", name, c.path);
	}
	creds_close(&c);
	creds_unlock(lock);
	return rc ? fail(&e) : EXIT_COMPLETE;
}

int main(int argc, char **argv)
{
	enum { OPT_FILE = 1, OPT_KEY, OPT_RAW, OPT_LOG, OPT_HELP };
	static const struct option longopts[] = {
		{"file", 1, 0, OPT_FILE}, {"key", 1, 0, OPT_KEY}, {"raw", 0, 0, OPT_RAW},
		{"log-format", 1, 0, OPT_LOG}, {"help", 0, 0, OPT_HELP}, {0, 0, 0, 0}};
	const char *file = getenv("ROSTER_CREDENTIALS"), *key = NULL;
	int raw = 0, opt;

	if (prog_init(argv[0]))
		return EXIT_USAGE;
	while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (opt) {
		case OPT_FILE: file = optarg; break;
		case OPT_KEY: key = optarg; break;
		case OPT_RAW: raw = 1; break;
		case OPT_LOG:
			if (prog_log_format(optarg))
				return EXIT_USAGE;
			break;
		case OPT_HELP: usage(stdout); return EXIT_COMPLETE;
		default: usage(stderr); return EXIT_USAGE;
		}
	}
	if (optind >= argc || argc - optind > 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	const char *cmd = argv[optind], *name = argc - optind == 2 ? argv[optind + 1] : NULL;
	if ((!file || !*file) && !(key && !strcmp(cmd, "keygen"))) {
		log_msg(LOG_ERROR, "no credentials file: give --file FILE or set ROSTER_CREDENTIALS");
		return EXIT_USAGE;
	}
	secret_protect_process();
	return prog_close_stdout(run(cmd, name, file, key, raw));
}
