/* Entra ID's delta rounds (/users/delta, /groups/delta with members@delta):
 * the changes are applied to the full set kept in the snapshot, and the
 * full set is what the streams carry, so ACTIVATE_VERSION keeps meaning
 * complete; a link that expired is a full read, noted in the stream. */
#include "vendor/graph/graph_int.h"
#include "core/atomic.h"
#include "core/buf.h"
#include "core/clock.h"
#include "core/err.h"
#include "core/log.h"
#include "core/strset.h"
#include "format/snapshot.h"
#include "engine/extract.h"
#include "vendor/graph/graph.h"

#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

/* ---- delta ---- */

int graph_oom(struct rt_err *e)
{
	err_set(e, ERR_IO, "out of memory applying the changes");
	return -1;
}

static int apply_user(struct graph *g, cJSON *item, void *ud, struct rt_err *e)
{
	struct part *p = ud;
	const char *id = graph_id_of(item);
	if (cJSON_GetObjectItemCaseSensitive(item, "@removed")) {
		p->removed += snapmap_remove(&g->sets[SET_USERS].map, id);
		return 0;
	}
	p->changed++;
	return snapmap_merge(&g->sets[SET_USERS].map, id, item, graph_delta_skip) ? graph_oom(e) : 0;
}

static int member_keyname(struct buf *k, const char *gid, const char *mid)
{
	buf_reset(k);
	return buf_adds(k, gid) || buf_addc(k, '\t') || buf_adds(k, mid);
}

static int apply_group(struct graph *g, cJSON *item, void *ud, struct rt_err *e)
{
	struct part *p = ud;
	const char *gid = graph_id_of(item);
	struct snapmap *members = &g->sets[SET_MEMBERS].map;
	struct buf k;
	int rc = 0;
	buf_init(&k, LINK_CAP);
	if (cJSON_GetObjectItemCaseSensitive(item, "@removed")) {
		p->removed += snapmap_remove(&g->sets[SET_GROUPS].map, gid);
		member_keyname(&k, gid, "");
		snapmap_remove_prefix(members, k.data);
		buf_free(&k);
		return 0;
	}
	p->changed++;
	if (snapmap_merge(&g->sets[SET_GROUPS].map, gid, item, graph_delta_skip)) {
		buf_free(&k);
		return graph_oom(e);
	}
	const cJSON *md = cJSON_GetObjectItemCaseSensitive(item, "members@delta"), *m;
	cJSON_ArrayForEach(m, md) {
		const char *mid = graph_id_of(m), *type = graph_type_of(m);
		if (!mid || member_keyname(&k, gid, mid)) {
			err_set(e, ERR_DATA, "a members@delta entry of group %s has no usable id", gid);
			rc = -1;
			break;
		}
		if (cJSON_GetObjectItemCaseSensitive(m, "@removed")) {
			snapmap_remove(members, k.data);
			continue;
		}
		/* what Graph says of a member in a delta round: its type and id */
		cJSON *o = cJSON_CreateObject();
		if (!o || (type && !cJSON_AddStringToObject(o, "@odata.type", type)) ||
		    !cJSON_AddStringToObject(o, "id", mid) || snapmap_put(members, k.data, o)) {
			rc = graph_oom(e);
			break;
		}
	}
	buf_free(&k);
	return rc;
}

static void clear_part(struct graph *g, struct part *p)
{
	if (p == &g->users) {
		snapmap_clear(&g->sets[SET_USERS].map);
	} else {
		snapmap_clear(&g->sets[SET_GROUPS].map);
		snapmap_clear(&g->sets[SET_MEMBERS].map);
	}
	p->changed = p->removed = 0;
}

static int link_expired(const struct rt_err *e)
{
	return e->status == 410 ||
	       (e->status >= 400 && e->status < 500 &&
		(!strcmp(e->code, "syncStateNotFound") || !strcmp(e->code, "syncStateInvalid") ||
		 !strcmp(e->code, "resyncRequired")));
}

/* One delta round: from the stored link, or from scratch when a full read
 * is due, there is no usable link, or the link has expired. */
static int delta_round(struct graph *g, struct part *p, struct rt_err *e)
{
	struct buf first;
	int incremental = p->old_link && !g->full_due, rc;
	buf_init(&first, LINK_CAP);
	if (p == &g->users)
		buf_printf(&first, "%s/users/delta?$select=%s", g->base.data, USER_FIELDS);
	else
		buf_printf(&first, "%s/groups/delta?$select=%s,members", g->base.data, GROUP_FIELDS);
	item_fn fn = p == &g->users ? apply_user : apply_group;
	if (!incremental)
		clear_part(g, p);
	p->full = !incremental;
	log_info("graph: %s: %s", g->run->cur->name,
		 incremental ? "reading the changes since the last run (delta link)"
			     : "reading everything (a new delta round)");
	for (;;) {
		buf_reset(&p->new_link);
		rc = graph_read_list(g, incremental ? p->old_link : first.data, fn, p, &p->new_link, e);
		if (!rc || !incremental || !link_expired(e))
			break;
		log_warn("graph: the %s delta link has expired (%d%s%s): reading all %s again "
			 "(full reconcile)", p->name, e->status, e->code[0] ? " " : "", e->code, p->name);
		clear_part(g, p);
		incremental = 0;
		p->full = p->reconciled = 1;
	}
	if (!rc && !p->full)
		log_info("graph: %s: %ld changed and %ld removed since the last run", p->name,
			 p->changed, p->removed);
	buf_free(&first);
	return rc;
}

/* Runs the part's round once; both group streams share the outcome. */
static int delta_part(struct graph *g, struct part *p, struct rt_err *e)
{
	if (!p->state) {
		err_clear(&p->err);
		p->state = delta_round(g, p, &p->err) ? -1 : 1;
	}
	if (p->state < 0) {
		*e = p->err;
		return -1;
	}
	if (p->reconciled)
		graph_note(g, "delta link expired: full reconcile");
	return 0;
}

static int emit_set(struct graph *g, int set, struct rt_err *e)
{
	struct snapmap *m = &g->sets[set].map;
	size_t n;
	const char **keys = snapmap_keys(m, &n);
	int rc = 0;
	if (n == (size_t)-1)
		return graph_oom(e);
	for (size_t i = 0; !rc && i < n; i++)
		rc = graph_emit(g, snapmap_get(m, keys[i]), e);
	free(keys);
	return rc;
}

/* The members of one group, as keys[from..to) "gid\tmid" of the members set. */
struct range {
	const char *gid;
	size_t gl, from, to;
};

static int by_gid(const void *a, const void *b)
{
	const struct range *x = a, *y = b;
	size_t l = x->gl < y->gl ? x->gl : y->gl;
	int c = memcmp(x->gid, y->gid, l);
	return c ? c : (x->gl > y->gl) - (x->gl < y->gl);
}

/* transitiveMembers from the direct sets: every object reachable through
 * nested groups, each once per group (Graph lists the nested groups too). */
static int flatten(struct graph *g, const char *root, const char **keys, const struct range *idx,
		   size_t nidx, struct rt_err *e)
{
	struct strset seen;
	const char **stack = NULL;
	size_t sp = 0, cap = 0;
	int rc = 0;
	strset_init(&seen);
	if (strset_add(&seen, root) < 0)
		return graph_oom(e);
	stack = malloc(16 * sizeof *stack);
	if (!stack) {
		strset_free(&seen);
		return graph_oom(e);
	}
	cap = 16;
	stack[sp++] = root;
	while (!rc && sp) {
		const char *gid = stack[--sp];
		struct range want = {gid, strlen(gid), 0, 0};
		const struct range *r = bsearch(&want, idx, nidx, sizeof *idx, by_gid);
		for (size_t i = r ? r->from : 0; !rc && r && i < r->to; i++) {
			const cJSON *m = snapmap_get(&g->sets[SET_MEMBERS].map, keys[i]);
			const char *mid = keys[i] + r->gl + 1, *type = graph_type_of(m);
			int had = strset_add(&seen, mid);
			if (had) {
				rc = had < 0 ? graph_oom(e) : 0;
				continue;
			}
			rc = graph_emit_member(g, m, root, e);
			if (!rc && type && !strcmp(type, "#microsoft.graph.group")) {
				if (sp == cap) {
					const char **n = realloc(stack, 2 * cap * sizeof *n);
					if (!n) {
						rc = graph_oom(e);
						break;
					}
					stack = n;
					cap *= 2;
				}
				stack[sp++] = mid;
			}
		}
	}
	free(stack);
	strset_free(&seen);
	return rc;
}

static int emit_members(struct graph *g, struct rt_err *e)
{
	struct snapmap *mm = &g->sets[SET_MEMBERS].map;
	size_t n, nidx = 0;
	const char **keys = snapmap_keys(mm, &n);
	struct range *idx = NULL;
	int rc = 0;
	if (n == (size_t)-1)
		return graph_oom(e);
	if (n && !(idx = malloc(n * sizeof *idx))) {
		free(keys);
		return graph_oom(e);
	}
	for (size_t i = 0; i < n; i++) {
		size_t gl = strcspn(keys[i], "\t");
		if (nidx && idx[nidx - 1].gl == gl && !memcmp(idx[nidx - 1].gid, keys[i], gl)) {
			idx[nidx - 1].to = i + 1;
			continue;
		}
		idx[nidx++] = (struct range){keys[i], gl, i, i + 1};
	}
	int transitive = g->go->members && !strcmp(g->go->members, "transitive");
	if (transitive) {
		size_t ng;
		const char **gk = snapmap_keys(&g->sets[SET_GROUPS].map, &ng);
		if (ng == (size_t)-1)
			rc = graph_oom(e);
		for (size_t i = 0; !rc && i < ng; i++)
			rc = flatten(g, gk[i], keys, idx, nidx, e);
		free(gk);
	} else {
		for (size_t r = 0; !rc && r < nidx; r++) {
			char *gid = strndup(idx[r].gid, idx[r].gl);
			if (!gid) {
				rc = graph_oom(e);
				break;
			}
			/* else a group no longer there */
			if (snapmap_get(&g->sets[SET_GROUPS].map, gid))
				for (size_t i = idx[r].from; !rc && i < idx[r].to; i++)
					rc = graph_emit_member(g, snapmap_get(mm, keys[i]), gid, e);
			free(gid);
		}
	}
	free(idx);
	free(keys);
	return rc;
}

/* Saves the snapshot and moves the bookmarks on, once every delta stream of
 * the run is complete; otherwise last run's links and snapshot stay. */
static void delta_finish(struct graph *g, int failed)
{
	if (failed || g->delta_failed) {
		log_warn("graph: a delta stream failed: the snapshot is kept as it was and the next "
			 "run starts again from the last run's delta links");
		return;
	}
	struct part *parts[2] = {&g->users, &g->groups};
	cJSON *h = cJSON_CreateObject();
	char now[40];
	int all_full = 1;
	clk_iso8601(clk_now(), now, sizeof now);
	cJSON_AddNumberToObject(h, "graph_snapshot", 1);
	for (int i = 0; i < 2; i++) {
		struct part *p = parts[i];
		const cJSON *old = cJSON_GetObjectItemCaseSensitive(g->header, p->hkey);
		if (p->state > 0)
			cJSON_AddStringToObject(h, p->hkey, p->new_link.data);
		else if (cJSON_IsString(old))
			cJSON_AddStringToObject(h, p->hkey, old->valuestring);
		else
			cJSON_AddNullToObject(h, p->hkey);
		if (p->state <= 0 || !p->full) /* not read this run, or read as changes */
			all_full = 0;
	}
	cJSON_AddStringToObject(h, "taken", now);
	struct rt_err e;
	char *dir = atomic_dir_of(g->go->snapshot);
	err_clear(&e);
	if (!dir || atomic_mkdirs(dir, &e) ||
	    snapshot_save(g->go->snapshot, h, g->sets, NSETS, &e)) {
		if (!e.kind)
			err_set(&e, ERR_IO, "out of memory");
		log_err(LOG_WARN, &e);
		log_warn("graph: the snapshot was not saved: the next run starts again from the "
			 "last run's delta links");
		graph_note(g, "the snapshot could not be saved (%s): the next run starts from the previous "
			"one", e.msg);
	} else {
		for (int i = 0; i < 2; i++)
			if (parts[i]->state > 0)
				extract_bookmark(g->run, parts[i]->bookmark, parts[i]->new_link.data);
		if (all_full)
			extract_bookmark(g->run, "last_full", g->run->time_extracted);
		log_info("graph: snapshot saved: %zu users, %zu groups, %zu memberships",
			 snapmap_count(&g->sets[SET_USERS].map),
			 snapmap_count(&g->sets[SET_GROUPS].map),
			 snapmap_count(&g->sets[SET_MEMBERS].map));
	}
	free(dir);
	cJSON_Delete(h);
}

/* Before the token: the snapshot and the stored links that match it. Last
 * run's links are carried into this run's STATE until new ones replace
 * them, so a run that fails anywhere leaves the next one its starting point. */
void graph_delta_prepare(struct graph *g)
{
	struct rt_err e;
	err_clear(&e);
	int rc = snapshot_load(g->go->snapshot, &g->header, g->sets, NSETS, &e);
	const cJSON *ver = cJSON_GetObjectItemCaseSensitive(g->header, "graph_snapshot");
	if (rc < 0) {
		log_warn("graph: the snapshot %s cannot be used (%s): everything is read again",
			 g->go->snapshot, e.msg);
	} else if (rc == 1) {
		log_info("graph: no snapshot at %s yet: everything is read", g->go->snapshot);
	} else if (!cJSON_IsNumber(ver) || ver->valuedouble != 1) {
		log_warn("graph: %s is not a snapshot this program wrote: everything is read again",
			 g->go->snapshot);
		cJSON_Delete(g->header);
		g->header = NULL;
		for (int i = 0; i < NSETS; i++)
			snapmap_clear(&g->sets[i].map);
	}
	struct part *parts[2] = {&g->users, &g->groups};
	for (int i = 0; i < 2; i++) {
		struct part *p = parts[i];
		const char *stored = extract_remembered(g->run, p->bookmark);
		const cJSON *snap = cJSON_GetObjectItemCaseSensitive(g->header, p->hkey);
		if (stored && cJSON_IsString(snap) && !strcmp(stored, snap->valuestring) &&
		    graph_same_origin(g, stored)) {
			p->old_link = stored;
			extract_bookmark(g->run, p->bookmark, stored);
		} else if (stored) {
			log_warn("graph: the stored %s delta link does not match the snapshot (or is "
				 "on another host): all %s are read again", p->name, p->name);
		}
	}
	const char *last = extract_remembered(g->run, "last_full");
	if (last)
		extract_bookmark(g->run, "last_full", last);
	g->full_due = g->go->full || graph_full_due(last, g->go->full_every, clk_now());
	if (g->go->full)
		log_info("graph: --full: the stored delta links are not used");
	else if (g->full_due)
		log_info("graph: a full read is due (--full-every %d; last one: %s)",
			 g->go->full_every, last ? last : "never");
}

void graph_delta_stream(struct graph *g, const char *name, int last)
{
	struct rt_err e;
	int rc;
	err_clear(&e);
	if (!strcmp(name, "users")) {
		graph_stream_begin(g, "graph_users", graph_id_key, NEED_USERS);
		rc = delta_part(g, &g->users, &e) || emit_set(g, SET_USERS, &e);
		if (!rc && g->users.full)
			graph_check_count(g, (long)snapmap_count(&g->sets[SET_USERS].map));
	} else if (!strcmp(name, "groups")) {
		graph_stream_begin(g, "graph_groups", graph_id_key, NEED_GROUPS);
		rc = delta_part(g, &g->groups, &e) || emit_set(g, SET_GROUPS, &e);
	} else {
		graph_stream_begin(g, "graph_group_members", graph_member_key, NEED_GROUPS);
		memset(&g->kinds, 0, sizeof g->kinds);
		rc = delta_part(g, &g->groups, &e) || emit_members(g, &e);
		graph_note_kinds(g);
	}
	if (rc && !e.source[0])
		err_where(&e, g->run->source, NULL);
	if (rc)
		g->delta_failed = 1;
	if (last)
		delta_finish(g, rc);
	graph_stream_end(g, rc ? &e : NULL);
}
