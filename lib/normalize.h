#ifndef ROSTER_NORMALIZE_H
#define ROSTER_NORMALIZE_H

#include <stddef.h>
#include <stdio.h>

/* The normalize stage: reads raw Singer messages from in (named input in
 * messages), writes canonical streams to out. SCHEMA and ACTIVATE_VERSION
 * are carried to the canonical streams each raw stream feeds (lib/mapping.h);
 * STATE passes unchanged. jq_path, when not NULL, is a user's jq program
 * run on every canonical record. Returns the exit code (exitcode.h); a
 * summary goes to stderr. */
int normalize_run(FILE *in, const char *input, FILE *out, const char *jq_path);

/* "clever_users, clever_schools, ..." for --help. */
void normalize_known_streams(char *out, size_t size);

#endif
