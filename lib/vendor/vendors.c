/* The vendor registry (engine/vendor.h): one row per vendor, the one place
 * that names them all. A vendor's knowledge is in its folder
 * (lib/vendor/NAME/, its README.md lists its pieces outside lib/); its row
 * says what the engine needs of it. Adding a vendor: lib/vendor/README.md.
 *
 * The order is the order of run-job's source types, of normalize's raw
 * streams and of extract-sftp's profiles in messages and --help. */
#include "engine/vendor.h"
#include "vendor/clever/clever.h"
#include "vendor/frontline/frontline.h"
#include "vendor/google/google.h"
#include "vendor/graph/graph.h"
#include "vendor/munis/munis.h"
#include "vendor/oneroster/oneroster.h"
#include "vendor/sds/sds.h"

#include <stddef.h>

const struct vendor vendors[] = {
	{
		.name = "clever",
		.program = "extract-clever",
		.job_keys = clever_job_keys,
		.streams_key = "streams",
		.rate = CLEVER_RATE,
		.window = &clever_window,
		.explain = clever_explain,
		.mappers = map_clever,
		.drops = (const struct drop_profile *const[]){&drop_clever, NULL},
		.scope = VENDOR_ROSTER,
	},
	{
		.name = "graph", /* Microsoft Entra ID */
		.program = "extract-graph",
		.job_keys = graph_job_keys,
		.streams_key = "streams",
		.snapshot_key = "delta",
		.rate = GRAPH_RATE,
		.explain = graph_explain,
		.mappers = map_graph,
		.scope = VENDOR_DIRECTORY,
	},
	{
		.name = "google", /* Google Workspace */
		.program = "extract-google",
		.job_keys = google_job_keys,
		.streams_key = "streams",
		.rate = GOOGLE_RATE,
		.throttle_reason = google_throttle_reason,
		.explain = google_explain,
		.mappers = map_google,
		.scope = VENDOR_DIRECTORY,
	},
	{
		.name = "munis", /* Tyler Munis HR: the nightly extract */
		.mappers = map_munis,
		.drops = (const struct drop_profile *const[]){&drop_munis, &drop_munis_fixed, NULL},
		.scope = VENDOR_STAFF,
	},
	{
		.name = "frontline", /* Frontline Absence Management (Aesop) */
		.mappers = map_frontline,
		.drops = (const struct drop_profile *const[]){&drop_frontline, &drop_aesop, NULL},
		.scope = VENDOR_PARTIAL,
	},
	{
		.name = "oneroster", /* OneRoster REST (Infinite Campus...) and CSV bundles */
		.program = "extract-oneroster",
		.job_keys = oneroster_job_keys,
		.streams_key = "streams",
		.rate = ONEROSTER_RATE,
		.explain = oneroster_explain,
		.mappers = map_oneroster,
		.drops = (const struct drop_profile *const[]){&drop_oneroster, NULL},
		.scope = VENDOR_ROSTER,
	},
	{
		.name = "sds", /* Microsoft School Data Sync v2.1 CSV */
		.mappers = map_sds,
		.drops = (const struct drop_profile *const[]){&drop_sds, NULL},
		.scope = VENDOR_ROSTER,
	},
	{.name = NULL},
};
