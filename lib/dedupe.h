#ifndef ROSTER_DEDUPE_H
#define ROSTER_DEDUPE_H

#include "err.h"

#include <stdio.h>

/* Merging the same person within and across sources (DESIGN.md, dedupe).
 *
 * Input: Singer messages of the canonical streams, one input after the
 * other. Every message passes through to out as it arrives, except:
 *   - people RECORDs, held and merged: records that share a key are one
 *     person, transitively (union-find). The keys, each matching only the
 *     same field, trimmed and non-empty: source + source_id; employee_id;
 *     sis_id; email compared in ASCII lower case;
 *   - memberships RECORDs, held until every person is known, then written
 *     with person_id rewritten to the merged person's id (the source's id
 *     kept in person_source_id);
 *   - ACTIVATE_VERSION of people and memberships, held and written last,
 *     after the merged records: a later input may still merge into a
 *     person, so those streams are complete only at the end.
 * SCHEMA and STATE messages, other streams and ACTIVATE_VERSION of other
 * streams are copied byte for byte, in their order.
 *
 * A merged person: id = "p-" + the first 16 hex digits of SHA-256 of the
 * smallest "source\x1fsource_id" among its records (the same on every run
 * and in any input order); sources = every (source, source_id) sorted;
 * each field from the first record, in precedence order, that has a
 * non-blank value; field_sources names the source that won each field.
 * Precedence: sources in the order they first appear in the people
 * stream, then source_id, then input order. status is active if any
 * record is; org_ids is the sorted union. People are written sorted by id.
 *
 * Ownership: struct dedupe owns every record it holds; dedupe_free
 * releases them. out stays the caller's. */

struct dedupe_stats {
	long people_in;       /* people RECORDs read */
	long people_out;      /* merged persons written */
	long bad_people;      /* without source or source_id: written unmerged */
	long conflicts;       /* a key field that differs inside one merged person */
	long memberships;     /* memberships RECORDs read */
	long unknown_members; /* whose (source, person_id) is no known person */
	int sources;          /* distinct sources among people */
};

struct dedupe;

/* NULL when out of memory (or when lib/canon.c lacks a people field that
 * dedupe needs: a build mistake the unit tests catch). */
struct dedupe *dedupe_new(FILE *out);
void dedupe_free(struct dedupe *d);

/* Reads one input to its end. name is used in messages ("stdin" or the
 * file's name). 0, or -1 with e: a line that is not JSON or not a Singer
 * message (ERR_DATA, naming name:line), a read or write error (ERR_IO).
 * After -1 the run is over: only dedupe_free is left to call.
 *
 * A people record without source or source_id is reported (log.h) with
 * its line, counted in bad_people and written unmerged; the people
 * stream's ACTIVATE_VERSION messages are then withheld, so that a loader
 * keeps its previous people and the caller exits partial. */
int dedupe_read(struct dedupe *d, FILE *in, const char *name, struct rt_err *e);

/* Merges and writes the held records, then the held ACTIVATE_VERSION
 * messages. 0, or -1 with e (a write error, out of memory). Warnings for
 * key conflicts and unknown persons go to log.h. */
int dedupe_finish(struct dedupe *d, struct rt_err *e);

const struct dedupe_stats *dedupe_stats(const struct dedupe *d);

/* The merged id of a person whose smallest (source, source_id) is this:
 * "p-" and 16 hex digits, NUL-terminated in out[19]. */
void dedupe_person_id(const char *source, const char *source_id, char out[19]);

#endif
