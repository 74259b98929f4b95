#ifndef ROSTER_ONEROSTER_INT_H
#define ROSTER_ONEROSTER_INT_H

#include <cjson/cJSON.h>

/* Shared by api.c and record.c. */

/* Rewrites one record as the API version sent it into the shape the CSV
 * bundle's reader gives (drop.c), so map.c maps both alike: references
 * {"sourcedId": id} without href and type, empty lists and nulls left
 * out, enabledUser a boolean, periods a list, and a 1.2 user's roles[]
 * turned into the 1.1 role and orgs. 0, or -1 when out of memory. */
int oneroster_flatten(cJSON *rec, int is_user);

#endif
