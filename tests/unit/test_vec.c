/* lib/core/vec.h: the one way an array grows. */
#include "core/vec.h"
#include "tap.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct pair {
	long a;
	char b[12];
};

int main(void)
{
	struct pair *v = NULL;
	size_t n = 0, cap = 0;
	int ok = 1;
	for (long i = 0; i < 10000; i++) {
		ok &= VEC_RESERVE(v, cap, n + 1, 16) == 0;
		v[n].a = i;
		memset(v[n].b, (int)(i & 0x7f), sizeof v[n].b);
		n++;
	}
	for (size_t i = 0; i < n; i++)
		ok &= v[i].a == (long)i && v[i].b[11] == (char)(i & 0x7f);
	tap_ok(ok, "10000 elements added one by one, all kept in order");
	tap_ok(cap == 16384, "the capacity doubles from the first: 16 -> 16384 (%zu)", cap);
	free(v);

	int *w = NULL;
	size_t wcap = 0, none = 0;
	tap_ok(VEC_RESERVE(w, wcap, none, 8) == 0 && !w && wcap == 0, "room for none allocates nothing");
	tap_ok(VEC_RESERVE(w, wcap, 100, 8) == 0 && wcap == 128, "room for 100 from 8: 128");
	int *before = w;
	tap_ok(VEC_RESERVE(w, wcap, 128, 8) == 0 && w == before && wcap == 128,
	       "room already there: nothing moves");
	tap_ok(vec_reserve(&w, &wcap, SIZE_MAX / 2 + 2, sizeof *w, 8, 0) == -1 && wcap == 128 &&
		       w == before,
	       "a size that would overflow fails and leaves the array as it was");
	tap_ok(vec_reserve(&w, &wcap, 1000, sizeof *w, 8, 600) == -1 && wcap == 128,
	       "more than the limit fails");
	tap_ok(vec_reserve(&w, &wcap, 500, sizeof *w, 8, 600) == 0 && wcap == 512,
	       "within the limit: doubled (512)");
	tap_ok(vec_reserve(&w, &wcap, 513, sizeof *w, 8, 600) == 0 && wcap == 600,
	       "doubling past the limit stops at the limit (600)");
	free(w);

	char *s = NULL;
	size_t scap = 0;
	tap_ok(VEC_RESERVE(s, scap, 1, 0) == 0 && scap == 1, "first 0 means 1");
	free(s);
	return tap_done();
}
