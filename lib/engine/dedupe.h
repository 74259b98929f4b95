#ifndef ROSTER_DEDUPE_H
#define ROSTER_DEDUPE_H

#include "core/err.h"

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
 * and in any input order), or with an id map the id its keys had on
 * earlier nights (dedupe_use_ids); sources = every (source, source_id) sorted;
 * each field from the first record, in precedence order, that has a
 * non-blank value; field_sources names the source that won each field.
 * Precedence: sources in the order they first appear in the people
 * stream, then source_id, then input order. status is active if any
 * record is; org_ids is the sorted union. People are written sorted by id.
 *
 * Reading and writing use a helper thread each (and one faults memory
 * in ahead): the output and the warnings are those of one thread.
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
struct idmap;

/* NULL when out of memory (or when lib/format/canon.c lacks a people field that
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

/* Stable ids across runs (engine/idmap.h), set before dedupe_finish. m
 * is the caller's, its load started (idmap_load_start): dedupe_finish
 * waits for it (its error is dedupe_finish's), takes each person's id from
 * it (idmap_assign), writes the updated map to save_to while the output
 * is written, and renames it into place only when all of the output was
 * written: a failed run leaves save_to as it was. The map borrows keys
 * from d: it is freed before or after d, but never used after d is.
 * Without a map the id is the rule above. */
void dedupe_use_ids(struct dedupe *d, struct idmap *m, const char *save_to);

/* The reconciliation of directory accounts with rosters (offboarding),
 * after a dedupe_finish that succeeded, as one JSON document on out.
 *
 * Directory sources are the source values graph and google (a table in
 * dedupe.c); every other source is a roster. A source is complete when
 * every input that held its people records also carried the people
 * stream's ACTIVATE_VERSION and no people record without source or
 * source_id. For each directory D and roster R that are
 * both complete (in the order they first appear), each merged person is
 * on at most one of four lists:
 *   active_in_directory_absent_from_roster  a D record active, no R record;
 *   active_in_directory_inactive_in_roster  a D record active, R records all
 *                                           inactive;
 *   in_roster_without_directory_account     an R record active, no D record;
 *   directory_account_inactive              an R record active, D records all
 *                                           inactive (suspended, disabled,
 *                                           deleted).
 * A record without a status is neither active nor inactive. Entries are
 * in person id order: id, directory_source_id and roster_source_id (the
 * side's first active record, else its first), the merged given_name,
 * family_name, email and role (guests are listed too, with their role),
 * status_reason (the directory record's) and, on the inactive-in-roster
 * list, roster_status_reason. Pairs that are not both complete are in
 * "skipped" with the reason. Shape (man dedupe):
 *   {"directory_sources":[...],"sources":[{"source","kind","records",
 *    "complete"}...],"pairs":[{"directory","roster","directory_people",
 *    "roster_people","counts":{LIST:N...},LIST:[entry...]...}...],
 *    "skipped":[{"directory","roster","reason"}...]}
 * Written entry by entry: memory stays what dedupe already holds. 0, or
 * -1 with e (ERR_IO: a write error, out of memory). */
int dedupe_reconcile(struct dedupe *d, FILE *out, struct rt_err *e);

/* The merged id of a person whose smallest (source, source_id) is this:
 * "p-" and 16 hex digits, NUL-terminated in out[19]. */
void dedupe_person_id(const char *source, const char *source_id, char out[19]);

#endif
