#ifndef ROSTER_LOAD_H
#define ROSTER_LOAD_H

#include <stdio.h>

/* The load-csv stage: reads canonical Singer messages from in (named input
 * in messages) and publishes DIR/<stream>.csv atomically for each stream
 * that arrived complete (at least one SCHEMA, and as many ACTIVATE_VERSION
 * as SCHEMA messages), then DIR/manifest.json. An incomplete stream keeps
 * its previous file. Returns the exit code (exitcode.h). */
int load_csv(FILE *in, const char *input, const char *dir);

#endif
