#ifndef ROSTER_FRONTLINE_H
#define ROSTER_FRONTLINE_H

#include "engine/drop.h"
#include "engine/mapping.h"

/* Frontline Absence Management (formerly Aesop): what normalize and the
 * registry (lib/vendor/vendors.c) need to know. Read from the nightly
 * absence exports only (no API client yet): their files are described in
 * drop.c, the mapping is map.c. */

/* normalize's mappers (map.c): frontline_absences -> absences, people. */
extern const struct mapper map_frontline[];
/* The Report Writer CSV export, and the legacy Aesop fixed-width daily
 * file (drop.c). */
extern const struct drop_profile drop_frontline, drop_aesop;

#endif
