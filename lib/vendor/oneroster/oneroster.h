#ifndef ROSTER_ONEROSTER_H
#define ROSTER_ONEROSTER_H

#include "engine/drop.h"
#include "engine/mapping.h"

/* OneRoster 1.1 (Infinite Campus and other SIS): what normalize and the
 * registry (lib/vendor/vendors.c) need to know. Read from CSV bundles only
 * (no REST client yet): the bundle is described in drop.c, the mapping is
 * map.c. */

/* normalize's mappers (map.c): oneroster_* -> orgs, people, groups,
 * memberships, sessions. */
extern const struct mapper map_oneroster[];
/* The CSV bundle, its manifest.csv deciding what is read (drop.c). */
extern const struct drop_profile drop_oneroster;

#endif
