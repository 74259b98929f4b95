#ifndef ROSTER_EXITCODE_H
#define ROSTER_EXITCODE_H

/* The exit-code vocabulary of DESIGN.md, the same for every program. */
enum {
	EXIT_COMPLETE = 0, /* every stream read and written */
	EXIT_FAILED = 1,   /* nothing usable was produced */
	EXIT_USAGE = 2,    /* bad usage or configuration */
	EXIT_PARTIAL = 3,  /* some streams failed; the rest is valid and complete */
	EXIT_HELD = 4,     /* a safeguard refused to publish */
};

/* The text every --help ends with. */
#define EXIT_CODES_HELP                                                      \
	"Exit status:\n"                                                     \
	"  0  complete: every stream read and written\n"                    \
	"  1  failed: nothing usable was produced\n"                        \
	"  2  bad usage or configuration\n"                                 \
	"  3  partial: some streams failed; the others are complete\n"      \
	"  4  held: a safeguard refused to publish; last good output kept\n"

/* Combines two outcomes into the one a cron job should see. */
int exit_combine(int a, int b);

#endif
