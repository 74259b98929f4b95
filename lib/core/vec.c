#include "core/vec.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int vec_reserve(void *pv, size_t *cap, size_t need, size_t esize, size_t first, size_t max)
{
	if (need <= *cap)
		return 0;
	if (!esize || (max && need > max))
		return -1;
	size_t c = *cap ? *cap : first ? first : 1;
	while (c < need) {
		if (c > SIZE_MAX / 2)
			return -1;
		c *= 2;
	}
	if (max && c > max)
		c = max;
	if (c > SIZE_MAX / esize)
		return -1;
	void *v;
	memcpy(&v, pv, sizeof v); /* pv is a T **: read it without aliasing it as void ** */
	void *n = realloc(v, c * esize);
	if (!n)
		return -1;
	memcpy(pv, &n, sizeof n);
	*cap = c;
	return 0;
}
