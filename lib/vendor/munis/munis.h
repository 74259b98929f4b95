#ifndef ROSTER_MUNIS_H
#define ROSTER_MUNIS_H

#include "engine/drop.h"
#include "engine/mapping.h"

/* Tyler Munis HR: what normalize and the registry (lib/vendor/vendors.c)
 * need to know. Read from the nightly HR extract only (no API client yet):
 * its files are described in drop.c, its mapping is map.c. */

/* normalize's mappers (map.c): munis_employees -> people, positions. */
extern const struct mapper map_munis[];
/* The HR extract as CSV or pipe-delimited text, and as fixed-width text
 * with a record-count trailer (drop.c). */
extern const struct drop_profile drop_munis, drop_munis_fixed;

#endif
