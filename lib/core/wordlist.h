#ifndef ROSTER_WORDLIST_H
#define ROSTER_WORDLIST_H

#include <stddef.h>

/* Comma-separated lists ("users,schools"), as options and job files write
 * them. Items are trimmed of spaces and tabs; empty items are skipped.
 *
 *     char w[64];
 *     for (const char *p = list; list_next(&p, w, sizeof w);)
 *             use(w);
 */

/* Copies the next item at *p into out (cut to n - 1 bytes) and moves *p
 * past it. 0 when there is no item left (p or *p may be NULL). */
int list_next(const char **p, char *out, size_t n);
/* 1 when word is one of the list's items. */
int list_has(const char *list, const char *word);

#endif
