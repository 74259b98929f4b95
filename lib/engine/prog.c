#include "engine/prog.h"
#include "core/atomic.h"
#include "core/clock.h"
#include "core/exitcode.h"
#include "core/log.h"
#include "format/logjson.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int prog_init(const char *argv0)
{
	/* a closed stdin, stdout or stderr would be reused by the next open()
	 * and our output would land in a data file: hold them with /dev/null */
	int fd;
	while ((fd = open("/dev/null", O_RDWR)) >= 0 && fd <= 2)
		;
	if (fd > 2)
		close(fd);
	log_init(argv0, NULL, LOG_INFO);
	if (clk_from_env()) {
		log_msg(LOG_ERROR, "ROSTER_FAKE_CLOCK is malformed (want EPOCH[:SEED])");
		return EXIT_USAGE;
	}
	return 0;
}

int prog_log_format(const char *arg)
{
	enum log_format f;
	if (log_parse_format(arg, &f)) {
		log_msg(LOG_ERROR, "--log-format: expected text or json, got '%s'", arg);
		return EXIT_USAGE;
	}
	log_init(log_prog(), f == LOG_JSON ? logjson_write : NULL, LOG_INFO);
	return 0;
}

int prog_close_stdout(int rc)
{
	int bad = fflush(stdout) != 0 || ferror(stdout);
	if (fclose(stdout) != 0)
		bad = 1;
	if (bad && rc != EXIT_USAGE) {
		log_msg(LOG_ERROR, "writing the output failed: %s", strerror(errno));
		return EXIT_FAILED;
	}
	return rc;
}

void prog_sweep(const char *dir, double started)
{
	struct rt_err e;
	long swept = 0;
	err_clear(&e);
	if (atomic_sweep(dir, started, &swept, &e))
		log_err(LOG_WARN, &e); /* what is left takes room, but the run can go on */
	if (swept)
		log_info("%s: removed %ld temporary file%s an earlier, interrupted run left", dir,
			 swept, swept == 1 ? "" : "s");
}
