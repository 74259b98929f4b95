/* lib/engine/vendor.c and lib/vendor/vendors.c: the one vendor registry,
 * as the engine reads it. */
#include "engine/vendor.h"
#include "engine/mapping.h"
#include "tap.h"

#include <string.h>

int main(void)
{
	size_t nv = 0;
	int unique = 1, found = 1, own = 1;
	while (vendors[nv].name)
		nv++;
	/* normalize keeps one map_state per vendor in a fixed array */
	tap_ok(nv > 0 && nv <= MAP_MAX_SOURCES, "%zu vendors, at most MAP_MAX_SOURCES (%d)", nv,
	       MAP_MAX_SOURCES);
	for (size_t i = 0; i < nv; i++) {
		for (size_t j = 0; j < i; j++)
			unique &= strcmp(vendors[i].name, vendors[j].name) != 0;
		found &= vendor_find(vendors[i].name) == &vendors[i];
	}
	tap_ok(unique, "no two rows name the same vendor");
	tap_ok(found, "vendor_find finds each row by its name");

	const struct mapper *m;
	size_t nm = 0;
	for (size_t i = 0; (m = vendor_mapper_nth(i)); i++, nm++) {
		const struct vendor *v = NULL;
		/* a raw stream is its vendor's: "clever_users" is clever's */
		own &= vendor_mapper(m->raw, &v) == m && v &&
		       !strncmp(m->raw, v->name, strlen(v->name)) && m->raw[strlen(v->name)] == '_';
	}
	tap_ok(nm > 0 && own, "each of %zu mappers is found by its raw stream, with the vendor whose "
	       "name prefixes it", nm);
	const struct drop_profile *p;
	int readers = 1;
	for (size_t i = 0; (p = vendor_drop_nth(i, NULL)); i++)
		readers &= !p->manifest == !p->manifest_mode;
	tap_ok(readers, "every drop profile with a manifest has its reader, and only those");
	const struct vendor *v = &vendors[0];
	tap_ok(!vendor_mapper("nobody_users", &v) && v == &vendors[0],
	       "an unknown raw stream has no mapper and leaves the vendor as it was");
	tap_ok(vendor_mapper("clever_users", NULL) != NULL, "the vendor is optional");
	return tap_done();
}
