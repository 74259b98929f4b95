/* lib/core/strset.c: the set, and the one string hash every table uses. */
#include "core/strset.h"
#include "tap.h"

#include <stdio.h>
#include <string.h>

int main(void)
{
	/* 64-bit FNV-1a reference values (the offset basis alone for "") */
	tap_ok(strset_hash("", 0) == 0xcbf29ce484222325ULL, "FNV-1a of \"\" is the offset basis");
	tap_ok(strset_hash("a", 1) == 0xaf63dc4c8601ec8cULL, "FNV-1a of \"a\"");
	tap_ok(strset_hash("foobar", 6) == 0x85944171f73967e8ULL, "FNV-1a of \"foobar\"");
	tap_ok(strset_hash("a\0b", 3) != strset_hash("a", 1), "a NUL byte inside the key counts");

	struct strset s;
	strset_init(&s);
	char k[32];
	int ok = 1;
	for (int i = 0; i < 5000; i++) {
		snprintf(k, sizeof k, "id-%d", i);
		ok &= strset_add(&s, k) == 0;
	}
	for (int i = 0; i < 5000; i++) {
		snprintf(k, sizeof k, "id-%d", i);
		ok &= strset_has(&s, k) && strset_add(&s, k) == 1;
	}
	tap_ok(ok && s.count == 5000, "5000 strings added once each, all found, none twice");
	tap_ok(!strset_has(&s, "id-5000") && !strset_has(&s, ""), "absent strings are not found");
	strset_free(&s);
	return tap_done();
}
