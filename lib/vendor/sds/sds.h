#ifndef ROSTER_SDS_H
#define ROSTER_SDS_H

#include "engine/drop.h"
#include "engine/mapping.h"

/* Microsoft School Data Sync v2.1 CSV: what normalize and the registry
 * (lib/vendor/vendors.c) need to know. Read from CSV bundles: the files
 * are described in drop.c, the mapping is map.c. */

/* normalize's mappers (map.c): sds_* -> orgs, people, groups,
 * memberships, sessions. */
extern const struct mapper map_sds[];
/* The v2.1 CSV bundle (drop.c). */
extern const struct drop_profile drop_sds;

#endif
