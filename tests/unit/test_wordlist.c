/* Comma-separated lists as options and job files write them. */
#include "core/wordlist.h"
#include "tap.h"

#include <string.h>

int main(void)
{
	char w[8], got[128] = "";
	int n = 0;
	for (const char *p = " users, schools ,,terms,\t"; list_next(&p, w, sizeof w); n++) {
		strcat(got, w);
		strcat(got, "|");
	}
	tap_ok(n == 3 && !strcmp(got, "users|schools|terms|"),
	       "items are trimmed and empty ones skipped: %s", got);
	tap_ok(!list_next(&(const char *){""}, w, sizeof w), "an empty list has no item");
	const char *none = NULL;
	tap_ok(!list_next(&none, w, sizeof w), "a NULL list has no item");
	const char *p = "district_admin";
	tap_ok(list_next(&p, w, sizeof w) && !strcmp(w, "distric"), "a long item is cut to the buffer");
	tap_ok(list_has("users, terms", "terms"), "list_has finds a trimmed item");
	tap_ok(!list_has("users,terms", "term"), "list_has matches whole items only");
	tap_ok(!list_has(NULL, "users"), "list_has on no list");
	return tap_done();
}
