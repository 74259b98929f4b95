/* The id -> JSON map of delta snapshots: replace, merge, removal (also in
 * bulk against a plain model), keys in order, and the file round trip. */
#include "core/clock.h"
#include "format/snapshot.h"
#include "tap.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static cJSON *obj(const char *json)
{
	return cJSON_Parse(json);
}

static int has_str(const cJSON *o, const char *k, const char *v)
{
	const cJSON *x = cJSON_GetObjectItemCaseSensitive(o, k);
	return cJSON_IsString(x) && !strcmp(x->valuestring, v);
}

/* The model for the bulk test: key i present or not. */
#define POOL 300

static int model_check(const struct snapmap *m, const int *present)
{
	size_t want = 0;
	for (int i = 0; i < POOL; i++) {
		char k[32];
		snprintf(k, sizeof k, "id-%d", i);
		const cJSON *o = snapmap_get(m, k);
		if (!!o != !!present[i])
			return 0;
		if (o && !cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(o, "n")))
			return 0;
		want += present[i] != 0;
	}
	return snapmap_count(m) == want;
}

int main(void)
{
	struct snapmap m;
	snapmap_init(&m);
	tap_ok(snapmap_get(&m, "x") == NULL && snapmap_count(&m) == 0, "an empty map has nothing");
	tap_ok(snapmap_remove(&m, "x") == 0, "removing from an empty map is 0");

	snapmap_put(&m, "u1", obj("{\"id\":\"u1\",\"mail\":\"a@x.example\",\"jobTitle\":\"T\"}"));
	snapmap_put(&m, "u1", obj("{\"id\":\"u1\",\"mail\":\"b@x.example\"}"));
	tap_ok(has_str(snapmap_get(&m, "u1"), "mail", "b@x.example") &&
	       !cJSON_GetObjectItemCaseSensitive(snapmap_get(&m, "u1"), "jobTitle") &&
	       snapmap_count(&m) == 1, "put replaces the whole object");

	static const char *const skip[] = {"@removed", "members@delta", NULL};
	cJSON *ch = obj("{\"id\":\"u1\",\"jobTitle\":\"Grade 4 Teacher\",\"mail\":null,"
			"\"members@delta\":[]}");
	tap_ok(snapmap_merge(&m, "u1", ch, skip) == 0, "merge succeeds");
	const cJSON *u1 = snapmap_get(&m, "u1");
	tap_ok(has_str(u1, "jobTitle", "Grade 4 Teacher") &&
	       cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(u1, "mail")) &&
	       has_str(u1, "id", "u1"), "merge replaces and adds the members it carries");
	tap_ok(!cJSON_GetObjectItemCaseSensitive(u1, "members@delta"), "skipped members are not copied");
	snapmap_merge(&m, "u2", ch, skip);
	tap_ok(has_str(snapmap_get(&m, "u2"), "jobTitle", "Grade 4 Teacher") &&
	       snapmap_count(&m) == 2, "merge into a new key creates it");
	cJSON_Delete(ch);

	snapmap_put(&m, "g1\tm1", obj("{}"));
	snapmap_put(&m, "g1\tm2", obj("{}"));
	snapmap_put(&m, "g10\tm1", obj("{}"));
	TAP_EQ_INT(snapmap_remove_prefix(&m, "g1\t"), 2, "remove_prefix removes the group's keys only");
	tap_ok(snapmap_get(&m, "g10\tm1") != NULL, "a longer group id with the same start stays");

	size_t n;
	const char **keys = snapmap_keys(&m, &n);
	tap_ok(n == 3 && !strcmp(keys[0], "g10\tm1") && !strcmp(keys[1], "u1") &&
	       !strcmp(keys[2], "u2"), "keys come in byte order");
	free(keys);
	snapmap_clear(&m);
	keys = snapmap_keys(&m, &n);
	tap_ok(!keys && n == 0 && snapmap_count(&m) == 0, "clear empties the map");

	/* bulk: puts, removes and prefix removes against a plain model */
	int present[POOL] = {0}, ok = 1;
	clk_use_fake(1e9, 11);
	for (int step = 0; step < 20000 && ok; step++) {
		int i = (int)(clk_random() % POOL), op = (int)(clk_random() % 10);
		char k[32];
		snprintf(k, sizeof k, "id-%d", i);
		if (op < 6) {
			cJSON *o = cJSON_CreateObject();
			cJSON_AddNumberToObject(o, "n", step);
			ok = snapmap_put(&m, k, o) == 0;
			present[i] = 1;
		} else if (op < 9) {
			ok = snapmap_remove(&m, k) == present[i];
			present[i] = 0;
		} else {
			/* "id-1" + "7" removes id-17, id-170..179 */
			char p[32];
			int d = (int)(clk_random() % 30);
			snprintf(p, sizeof p, "id-%d", d);
			size_t want = 0;
			for (int x = 0; x < POOL; x++) {
				char kx[32];
				snprintf(kx, sizeof kx, "id-%d", x);
				if (!strncmp(kx, p, strlen(p)) && present[x]) {
					want++;
					present[x] = 0;
				}
			}
			ok = snapmap_remove_prefix(&m, p) == want;
		}
		if (step % 97 == 0)
			ok = ok && model_check(&m, present);
	}
	tap_ok(ok && model_check(&m, present), "20000 random operations agree with a plain model");
	keys = snapmap_keys(&m, &n);
	int sorted = 1;
	for (size_t i = 1; i < n; i++)
		sorted &= strcmp(keys[i - 1], keys[i]) < 0;
	tap_ok(sorted && n == snapmap_count(&m), "keys after the churn: all, sorted");
	free(keys);
	snapmap_free(&m);

	/* the file */
	char dir[] = "/tmp/snapshottestXXXXXX", path[128], line[256];
	if (!mkdtemp(dir))
		return 1;
	snprintf(path, sizeof path, "%s/s.ndjson", dir);
	struct snapshot_set sets[2] = {{"users", {0}}, {"members", {0}}};
	cJSON *h = NULL;
	struct rt_err e;
	err_clear(&e);
	TAP_EQ_INT(snapshot_load(path, &h, sets, 2, &e), 1, "no file: 1");
	snapmap_put(&sets[0].map, "b", obj("{\"id\":\"b\",\"name\":\"Zo\\u00eb \\\"Q\\\"\"}"));
	snapmap_put(&sets[0].map, "a", obj("{\"id\":\"a\"}"));
	snapmap_put(&sets[1].map, "g\tb", obj("{\"@odata.type\":\"#microsoft.graph.user\",\"id\":\"b\"}"));
	cJSON *hdr = obj("{\"graph_snapshot\":1,\"users_delta\":\"https://h.example/d?$deltatoken=x\"}");
	tap_ok(snapshot_save(path, hdr, sets, 2, &e) == 0, "save: %s", e.msg);
	struct stat st;
	tap_ok(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600, "the file is 0600");
	FILE *f = fopen(path, "r");
	int lines = 0;
	char second[256] = "";
	while (f && fgets(line, sizeof line, f))
		if (++lines == 2)
			snprintf(second, sizeof second, "%s", line);
	if (f)
		fclose(f);
	TAP_EQ_INT(lines, 4, "a header line and one line an entry");
	tap_ok(!strcmp(second, "{\"set\":\"users\",\"key\":\"a\",\"object\":{\"id\":\"a\"}}\n"),
	       "entries are {set, key, object}, keys in order: %.*s", (int)strcspn(second, "\n"),
	       second);
	for (int i = 0; i < 2; i++)
		snapmap_clear(&sets[i].map);
	tap_ok(snapshot_load(path, &h, sets, 2, &e) == 0, "load: %s", e.msg);
	tap_ok(h && has_str(h, "users_delta", "https://h.example/d?$deltatoken=x"), "the header comes back");
	tap_ok(has_str(snapmap_get(&sets[0].map, "b"), "name", "Zo\xc3\xab \"Q\"") &&
	       snapmap_count(&sets[0].map) == 2 && snapmap_get(&sets[1].map, "g\tb") != NULL,
	       "every entry comes back, with its set and key");
	cJSON_Delete(h);

	f = fopen(path, "a");
	if (f) {
		fputs("{\"set\":\"devices\",\"key\":\"x\",\"object\":{}}\n", f);
		fclose(f);
	}
	err_clear(&e);
	tap_ok(snapshot_load(path, &h, sets, 2, &e) == -1 && !h &&
	       snapmap_count(&sets[0].map) == 0 && strstr(e.msg, ":5:"),
	       "an unknown set is refused, naming the line, and nothing is kept: %s", e.msg);
	f = fopen(path, "w");
	if (f) {
		fputs("not json\n", f);
		fclose(f);
	}
	err_clear(&e);
	tap_ok(snapshot_load(path, &h, sets, 2, &e) == -1 && e.kind == ERR_DATA,
	       "a line that is not JSON is refused: %s", e.msg);

	snprintf(path, sizeof path, "%s/missing/s.ndjson", dir);
	err_clear(&e);
	tap_ok(snapshot_save(path, hdr, sets, 2, &e) == -1 && e.kind == ERR_IO,
	       "a save into a missing folder fails: %s", e.msg);
	cJSON_Delete(hdr);
	for (int i = 0; i < 2; i++)
		snapmap_free(&sets[i].map);

	char cmd[160];
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	if (system(cmd))
		tap_diag("could not remove %s", dir);
	return tap_done();
}
