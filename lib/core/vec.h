#ifndef ROSTER_VEC_H
#define ROSTER_VEC_H

#include <stddef.h>

/* Growing an array of any element type, the one way the library does it:
 *
 *     struct item *v = NULL;  size_t n = 0, cap = 0;
 *     if (VEC_RESERVE(v, cap, n + 1, 16))
 *             return -1;      (v and cap are as they were)
 *     v[n++] = item;
 *
 * The capacity starts at first (at least 1) and doubles until it holds
 * need; sizes are checked for overflow. The array is the caller's: free
 * it with free(). */

/* Grows the array whose pointer is at pv (a T **, elements of esize
 * bytes, *cap of them allocated) to room for at least need elements: the
 * capacity doubles from *cap (first when 0), and is never more than max
 * (0: no limit). 0; -1 when need is above max, the size would overflow or
 * realloc fails, leaving the array and *cap as they were. */
int vec_reserve(void *pv, size_t *cap, size_t need, size_t esize, size_t first, size_t max);

/* vec_reserve for the array v (an lvalue of pointer type) whose capacity
 * is the size_t lvalue cap; does nothing when cap already holds need. */
#define VEC_RESERVE(v, cap, need, first)                                                   \
	((size_t)(need) <= (cap) ? 0 : vec_reserve(&(v), &(cap), (need), sizeof *(v), (first), 0))

#endif
