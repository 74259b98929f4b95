/* The job runner, part three: the run report (run-report.json and the
 * table run-job prints) and the reconciliation of directory accounts
 * against the rosters that dedupe --reconcile computed. */
#include "engine/runjob_int.h"
#include "core/buf.h"
#include "core/clock.h"
#include "core/exitcode.h"
#include "core/spawn.h"
#include "format/jfile.h"
#include "engine/dedupe.h"
#include "engine/vendor.h"

#include <cjson/cJSON.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- the report ---- */

/* A file of this run (statistics, manifest, reconciliation); NULL when it
 * is missing or unreadable: the report says so where it needs it. */
static cJSON *read_json(const char *path)
{
	struct rt_err e;
	err_clear(&e);
	return jfile_read(path, 0, &e);
}

static const char *exit_word(int code)
{
	static const char *w[] = {"complete", "failed", "bad usage or configuration", "partial",
				  "held"};
	return code >= 0 && code <= 4 ? w[code] : "failed";
}


/* What became of a pipeline's stages, for the report: the ones that did
 * not end 0 or 3 (partial: their streams say what failed), stages that
 * ended alike named together ("extract-clever and normalize were killed by
 * SIGTERM after the deadline"). "" when none failed. */
static void stage_words(char *out, size_t n, const char *const *prog, const int *status,
			int nstages, int killed)
{
	int done[4] = {0};
	out[0] = 0;
	for (int i = 0; i < nstages; i++) {
		int st = status[i];
		if (done[i] || st == EXIT_COMPLETE || st == EXIT_PARTIAL)
			continue;
		size_t l = strlen(out);
		int same = 0;
		for (int j = i + 1; j < nstages; j++)
			same += status[j] == st;
		snprintf(out + l, n - l, "%s%s", l ? "; " : "", prog[i]);
		for (int j = i + 1, k = 0; j < nstages; j++)
			if (status[j] == st) {
				done[j] = 1;
				l = strlen(out);
				snprintf(out + l, n - l, "%s%s", ++k == same ? " and " : ", ", prog[j]);
			}
		const char *was = same ? "were" : "was";
		l = strlen(out);
		if (st == SPAWN_NOT_RUN) {
			snprintf(out + l, n - l, " did not run, or %s exit status was lost",
				 same ? "their" : "its");
		} else if (st > SPAWN_SIGNALED && st < SPAWN_SIGNALED + 65) {
			int sig = st - SPAWN_SIGNALED;
			const char *name = sigabbrev_np(sig);
			char num[16];
			if (!name) {
				snprintf(num, sizeof num, "%d", sig);
				name = num;
			}
			snprintf(out + l, n - l, " %s killed by SIG%s%s", was, name,
				 killed && (sig == SIGTERM || sig == SIGKILL) ? " after the deadline"
				 : sig == SIGPIPE ? " (the next stage had stopped reading)"
						  : "");
		} else if (st == SPAWN_CANNOT_EXEC) {
			snprintf(out + l, n - l, " could not be started (exit 127)");
		} else {
			snprintf(out + l, n - l, " exited %d (%s)", st, exit_word(st));
		}
	}
}

/* The manifest's files, when load-csv wrote it during this run; NULL when
 * the manifest there is an older run's (or missing). */
static cJSON *this_runs_outputs(struct run *r)
{
	char started[40];
	if (!r->final_ran)
		return NULL;
	char *mp = rj_cat3(r->output, "/", "manifest.json");
	cJSON *man = read_json(mp);
	free(mp);
	/* the same fixed-width ISO 8601 form on both sides: compared as text */
	clk_iso8601(r->started, started, sizeof started);
	const char *gen = jfile_str(man, "generated_at");
	cJSON *files = strlen(gen) == strlen(started) && strcmp(gen, started) >= 0
			       ? cJSON_DetachItemFromObjectCaseSensitive(man, "files")
			       : NULL;
	cJSON_Delete(man);
	if (files && !cJSON_IsArray(files)) {
		cJSON_Delete(files);
		files = NULL;
	}
	return files;
}

/* ---- the reconciliation (offboarding) ---- */

/* Whether a canonical file activated the people stream: normalize does so
 * only when the source's people were read completely. */
int rj_people_activated(const char *path)
{
	static const char tag[] = "{\"type\":\"ACTIVATE_VERSION\",\"stream\":\"people\"";
	FILE *f = fopen(path, "r");
	char *line = NULL;
	size_t cap = 0;
	int found = 0;
	if (!f)
		return 0;
	while (!found && getline(&line, &cap, f) > 0)
		found = !strncmp(line, tag, sizeof tag - 1);
	free(line);
	fclose(f);
	return found;
}

/* Whether the source is to read people: a raw stream it reads feeds them,
 * or the mapping does not know its type's streams (then assume it does). */
static int feeds_people(struct src *s)
{
	const char *feeds[32], *all[32];
	int n = rj_add_feeds(s, 0, feeds, 0, 32);
	if (!rj_add_feeds(s, 1, all, 0, 32))
		return 1;
	for (int i = 0; i < n; i++)
		if (!strcmp(feeds[i], "people"))
			return 1;
	return 0;
}

/* Why a type's people are not complete this run, as words in why, or
 * NULL: a source of that type that was to read people failed or did not
 * activate them. dedupe cannot see this when such a source wrote no
 * people record at all (or another source of the type did). */
static const char *type_gap(struct run *r, const char *type, char *why, size_t n)
{
	why[0] = 0;
	for (int i = 0; i < r->nsrc; i++) {
		struct src *s = &r->src[i];
		if (strcmp(s->vendor->name, type) || s->people_done || !feeds_people(s))
			continue;
		size_t l = strlen(why);
		snprintf(why + l, n - l, "%ssource %s %s", l ? "; " : "", s->name,
			 rj_usable(s) ? "did not read all its people" : "failed");
	}
	return *why ? why : NULL;
}

static cJSON *find_pair(const cJSON *arr, const char *dir, const char *roster)
{
	cJSON *p;
	cJSON_ArrayForEach(p, arr)
		if (!strcmp(jfile_str(p, "directory"), dir) && !strcmp(jfile_str(p, "roster"), roster))
			return p;
	return NULL;
}

/* One side's names, in the job's order: the types of its sources that
 * were to read people, then any other source dedupe saw. */
static int side_names(struct run *r, const cJSON *sources, int directory, const char **names,
		      int max)
{
	const cJSON *s;
	int n = 0;
	for (int i = 0; i <= r->nsrc; i++) {
		const char *t = i < r->nsrc ? r->src[i].vendor->name : NULL;
		enum vendor_scope sc = t ? vendor_scope_of(t) : VENDOR_ROSTER;
		if (t && ((sc == VENDOR_DIRECTORY) != directory || !feeds_people(&r->src[i]) ||
			  sc == VENDOR_PARTIAL))
			continue;
		cJSON_ArrayForEach(s, sources) {
			const char *name = jfile_str(s, "source"), *kind = jfile_str(s, "kind");
			int seen = 0;
			if (t ? strcmp(name, t) != 0
			      : directory ? strcmp(kind, "directory") != 0
					  : strcmp(kind, "roster") && strcmp(kind, "staff roster"))
				continue;
			for (int k = 0; k < n; k++)
				seen |= !strcmp(names[k], name);
			if (!seen && n < max)
				names[n++] = name;
		}
		int seen = !t;
		for (int k = 0; t && k < n; k++)
			seen |= !strcmp(names[k], t);
		if (!seen && n < max)
			names[n++] = t;
	}
	return n;
}

/* Whether dedupe saw the source (*seen) and found its people complete. */
static int dedupe_complete(const cJSON *sources, const char *name, int *seen)
{
	const cJSON *s;
	*seen = 0;
	cJSON_ArrayForEach(s, sources)
		if (!strcmp(jfile_str(s, "source"), name)) {
			*seen = 1;
			return cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(s, "complete"));
		}
	return 0;
}

/* The pair's skip reason ("google people incomplete (source gws failed)")
 * into out, or "" when both sides are complete. */
static void pair_gap(struct run *r, const cJSON *sources, const char *dir, const char *roster,
		     char *out, size_t n)
{
	const char *side[2] = {dir, roster};
	char why[2][300], names[200] = "", detail[620] = "";
	for (int i = 0; i < 2; i++) {
		int seen, done = dedupe_complete(sources, side[i], &seen);
		const char *gap = type_gap(r, side[i], why[i], sizeof why[i]);
		if (done && !gap)
			continue;
		if (!gap && !seen) /* activated, but not one person: nothing to compare */
			snprintf(why[i], sizeof why[i], "%s read no people", side[i]);
		size_t l = strlen(names);
		snprintf(names + l, sizeof names - l, "%s%s", l ? " and " : "", side[i]);
		if (gap || !seen) {
			l = strlen(detail);
			snprintf(detail + l, sizeof detail - l, "%s%s", l ? "; " : "", why[i]);
		}
	}
	if (!*names)
		out[0] = 0;
	else
		snprintf(out, n, "%s people incomplete%s%s%s", names, *detail ? " (" : "", detail,
			 *detail ? ")" : "");
}

/* What dedupe --reconcile wrote, with the pairs this run could not compare
 * moved to "skipped"; NULL when the job has no directory source and
 * dedupe wrote nothing. */
static cJSON *reconciliation(struct run *r)
{
	int ndir = 0;
	for (int i = 0; i < r->nsrc; i++)
		ndir += vendor_scope_of(r->src[i].vendor->name) == VENDOR_DIRECTORY;
	int ran = r->final_status[0] == EXIT_COMPLETE || r->final_status[0] == EXIT_PARTIAL;
	cJSON *rec = r->reconcile && ran ? read_json(r->reconcile) : NULL;
	cJSON *sources = cJSON_GetObjectItemCaseSensitive(rec, "sources");
	cJSON *pairs = cJSON_GetObjectItemCaseSensitive(rec, "pairs");
	cJSON *skipped = cJSON_GetObjectItemCaseSensitive(rec, "skipped");
	if (!cJSON_IsArray(sources) || !cJSON_IsArray(pairs) || !cJSON_IsArray(skipped)) {
		char why[200];
		cJSON_Delete(rec);
		if (!ndir)
			return NULL;
		if (!r->final_tried)
			snprintf(why, sizeof why, "not made: no source produced data, so dedupe did "
						  "not run");
		else if (!ran)
			snprintf(why, sizeof why, "not made: dedupe %s",
				 r->final_status[0] == SPAWN_NOT_RUN ? "did not run" : "failed");
		else
			snprintf(why, sizeof why, "not made: dedupe wrote no reconciliation (see "
						  "its messages)");
		rec = cJSON_CreateObject();
		cJSON_AddStringToObject(rec, "error", why);
		return rec;
	}
	const char *dn[32], *rn[32];
	int nd = side_names(r, sources, 1, dn, 32), nr = side_names(r, sources, 0, rn, 32);
	for (int i = 0; i < nd; i++)
		for (int j = 0; j < nr; j++) {
			char reason[900];
			pair_gap(r, sources, dn[i], rn[j], reason, sizeof reason);
			cJSON *p = find_pair(pairs, dn[i], rn[j]);
			if (!*reason && p)
				continue;
			if (!*reason) /* cannot be: dedupe compares every complete pair */
				snprintf(reason, sizeof reason, "not compared by dedupe");
			cJSON *sk = find_pair(skipped, dn[i], rn[j]);
			if (!sk) {
				sk = cJSON_CreateObject();
				cJSON_AddStringToObject(sk, "directory", dn[i]);
				cJSON_AddStringToObject(sk, "roster", rn[j]);
				cJSON_AddItemToArray(skipped, sk);
			}
			cJSON_DeleteItemFromObjectCaseSensitive(sk, "reason");
			cJSON_AddStringToObject(sk, "reason", reason);
			if (p)
				cJSON_Delete(cJSON_DetachItemViaPointer(pairs, p));
		}
	/* both lists in the job's order of directories, then rosters */
	const char *keys[2] = {"pairs", "skipped"};
	for (int l = 0; l < 2; l++) {
		cJSON *old = cJSON_DetachItemFromObjectCaseSensitive(rec, keys[l]), *p;
		cJSON *sorted = cJSON_AddArrayToObject(rec, keys[l]);
		for (int i = 0; i < nd; i++)
			for (int j = 0; j < nr; j++)
				while ((p = find_pair(old, dn[i], rn[j])))
					cJSON_AddItemToArray(sorted, cJSON_DetachItemViaPointer(old, p));
		while (old && old->child) /* pairs of names neither side lists (none expected) */
			cJSON_AddItemToArray(sorted, cJSON_DetachItemViaPointer(old, old->child));
		cJSON_Delete(old);
	}
	return rec;
}

/* What load-csv held: each stream with its reason and counts, where the
 * staged file and its change set are, and how to release them. */
static void add_holds(struct run *r, cJSON *rep, const cJSON *files)
{
	const cJSON *f;
	cJSON *held = NULL;
	cJSON_ArrayForEach(f, files) {
		if (strcmp(jfile_str(f, "status"), "held"))
			continue;
		if (!held)
			held = cJSON_AddArrayToObject(rep, "held");
		cJSON *h = cJSON_CreateObject();
		const char *name = jfile_str(f, "stream");
		char *dir = rj_cat3(r->state, "/held/", name);
		char *csv = dir ? rj_cat3(dir, ".csv", "") : NULL;
		char *chg = dir ? rj_cat3(dir, ".changes.ndjson", "") : NULL;
		cJSON_AddStringToObject(h, "stream", name);
		cJSON_AddStringToObject(h, "reason", jfile_str(f, "reason"));
		const cJSON *c = cJSON_GetObjectItemCaseSensitive(f, "changes");
		if (c)
			cJSON_AddItemToObject(h, "changes", cJSON_Duplicate(c, 1));
		cJSON_AddStringToObject(h, "staged", csv ? csv : "");
		cJSON_AddStringToObject(h, "change_set", chg ? chg : "");
		cJSON_AddItemToArray(held, h);
		free(dir);
		free(csv);
		free(chg);
	}
	if (held) {
		char *a = rj_cat3("run-job --approve ", r->o->job_path, "");
		char *d = rj_cat3("run-job --discard ", r->o->job_path, "");
		cJSON_AddStringToObject(rep, "release", a ? a : "run-job --approve JOB");
		cJSON_AddStringToObject(rep, "keep", d ? d : "run-job --discard JOB");
		free(a);
		free(d);
	}
}

cJSON *rj_build_report(struct run *r, int code)
{
	char ts[40], words[600];
	cJSON *rep = cJSON_CreateObject();
	cJSON_AddStringToObject(rep, "job", r->name);
	clk_iso8601(r->started, ts, sizeof ts);
	cJSON_AddStringToObject(rep, "started", ts);
	clk_iso8601(r->finished, ts, sizeof ts);
	cJSON_AddStringToObject(rep, "finished", ts);
	cJSON_AddNumberToObject(rep, "seconds", r->finished - r->started);
	cJSON_AddNumberToObject(rep, "exit", code);
	cJSON_AddStringToObject(rep, "outcome", exit_word(code));
	cJSON_AddStringToObject(rep, "output", r->output);
	cJSON *sources = cJSON_AddArrayToObject(rep, "sources");
	for (int i = 0; i < r->nsrc; i++) {
		struct src *s = &r->src[i];
		cJSON *o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "name", s->name);
		cJSON_AddStringToObject(o, "type", s->type.type);
		cJSON_AddNumberToObject(o, "exit", s->exit);
		cJSON *st = cJSON_AddObjectToObject(o, "stages");
		cJSON_AddNumberToObject(st, s->type.program, s->status[0]);
		cJSON_AddNumberToObject(st, "tee", s->status[1]);
		cJSON_AddNumberToObject(st, "normalize", s->status[2]);
		const char *names[] = {s->type.program, "tee", "normalize"};
		stage_words(words, sizeof words, names, s->status, 3, s->killed);
		if (*words)
			cJSON_AddStringToObject(o, "failure", words);
		if (s->status[2] == EXIT_USAGE) {
			/* upstream stages then die of a closed pipe: say which one to fix */
			char hint[600];
			const struct job_kv *kv = NULL;
			for (size_t k = 0; k < NNORM && !kv; k++)
				kv = s->norm[k];
			if (kv)
				snprintf(hint, sizeof hint, "normalize refused its configuration: check "
					 "%s = %.300s (%s:%d); normalize's own message is in "
					 "run-job's error output", kv->key, kv->value, r->job.path,
					 kv->line);
			else
				snprintf(hint, sizeof hint, "normalize refused its configuration%s; "
					 "normalize's own message is in run-job's error output",
					 r->jq ? ": check the job's jq program" : "");
			cJSON_AddStringToObject(o, "hint", hint);
		}
		cJSON_AddStringToObject(o, "raw", s->raw);
		cJSON *stats = read_json(s->stats);
		cJSON *streams = cJSON_DetachItemFromObjectCaseSensitive(stats, "streams");
		cJSON_AddItemToObject(o, "streams", streams ? streams : cJSON_CreateObject());
		cJSON_Delete(stats);
		cJSON_AddItemToArray(sources, o);
	}
	cJSON *st = cJSON_AddObjectToObject(rep, "stages");
	cJSON_AddNumberToObject(st, "dedupe", r->final_status[0]);
	cJSON_AddNumberToObject(st, "load-csv", r->final_status[1]);
	static const char *const final_names[] = {"dedupe", "load-csv"};
	words[0] = 0;
	if (r->final_tried)
		stage_words(words, sizeof words, final_names, r->final_status, 2, r->final_killed);
	if (*words)
		cJSON_AddStringToObject(rep, "failure", words);
	int dry = r->o->mode == RJ_DRY_RUN;
	cJSON *files = dry ? NULL : this_runs_outputs(r);
	cJSON_AddItemToObject(rep, "outputs", files ? files : cJSON_CreateArray());
	if (!files)
		cJSON_AddStringToObject(rep, "outputs_note",
					dry ? "a dry run: nothing was published; load-csv's table "
					      "above and the change set say what a run would change"
					: !r->final_ran
						? "nothing published this run; the previous files are "
						  "untouched"
						: "load-csv ran but wrote no manifest this run (see its "
						  "messages): which files it replaced is not known");
	add_holds(r, rep, files);
	cJSON *rec = reconciliation(r);
	if (rec)
		cJSON_AddItemToObject(rep, "reconciliation", rec);
	return rep;
}

/* Up to RECONCILE_SHOWN people of one list, a line each. */
static void print_people(FILE *f, const cJSON *pair, const char *list, const char *title,
			 const char *reason_key, const char *rp)
{
	const cJSON *all = cJSON_GetObjectItemCaseSensitive(pair, list), *p;
	int n = cJSON_GetArraySize(all), k = 0;
	if (!n)
		return;
	fprintf(f, "    %s:\n", title);
	cJSON_ArrayForEach(p, all) {
		if (k++ == RECONCILE_SHOWN) {
			fprintf(f, "      ... and %d more (see %s)\n", n - RECONCILE_SHOWN, rp);
			break;
		}
		const char *given = jfile_str(p, "given_name"), *family = jfile_str(p, "family_name");
		const char *email = jfile_str(p, "email"), *role = jfile_str(p, "role");
		const char *why = reason_key ? jfile_str(p, reason_key) : "";
		if (*given || *family)
			fprintf(f, "      %s%s%s", given, *given && *family ? " " : "", family);
		else
			fprintf(f, "      %s", jfile_str(p, "id"));
		fprintf(f, "%s%s%s%s%s%s%s%s\n", *email ? " <" : "", email, *email ? ">" : "",
			*role ? " (" : "", role, *role ? ")" : "", *why ? ": " : "", why);
	}
}

/* The reconciliation: a line per pair of a directory and a roster, then
 * the people of each list. Nothing when the job has no directory source. */
static void print_reconciliation(FILE *f, const cJSON *rep, const char *rp)
{
	const cJSON *rec = cJSON_GetObjectItemCaseSensitive(rep, "reconciliation"), *p;
	const cJSON *pairs = cJSON_GetObjectItemCaseSensitive(rec, "pairs");
	const cJSON *skipped = cJSON_GetObjectItemCaseSensitive(rec, "skipped");
	if (*jfile_str(rec, "error")) {
		fprintf(f, "\nReconciliation of directory accounts and rosters: %s\n",
			jfile_str(rec, "error"));
		return;
	}
	if (!cJSON_GetArraySize(pairs) && !cJSON_GetArraySize(skipped))
		return;
	fprintf(f, "\nReconciliation of directory accounts and rosters:\n");
	cJSON_ArrayForEach(p, pairs) {
		const char *d = jfile_str(p, "directory"), *ro = jfile_str(p, "roster");
		const cJSON *c = cJSON_GetObjectItemCaseSensitive(p, "counts");
		int absent = (int)jfile_num(c, "active_in_directory_absent_from_roster");
		int inactive = (int)jfile_num(c, "active_in_directory_inactive_in_roster");
		int none = (int)jfile_num(c, "in_roster_without_directory_account");
		int off = (int)jfile_num(c, "directory_account_inactive");
		char t[4][200];
		fprintf(f, "  %s vs %s: %d active account%s absent from %s, %d inactive in %s; "
			   "%d %s %s without a %s account; %d %s account%s inactive for %s %s %s\n",
			d, ro, absent, absent == 1 ? "" : "s", ro, inactive, ro, none, ro,
			none == 1 ? "person" : "people", d, off, d, off == 1 ? "" : "s",
			off == 1 ? "an active" : "active", ro, off == 1 ? "person" : "people");
		snprintf(t[0], sizeof t[0], "active in %s, absent from %s", d, ro);
		snprintf(t[1], sizeof t[1], "active in %s, inactive in %s", d, ro);
		snprintf(t[2], sizeof t[2], "active in %s without a %s account", ro, d);
		snprintf(t[3], sizeof t[3], "%s account inactive, active in %s", d, ro);
		print_people(f, p, "active_in_directory_absent_from_roster", t[0], NULL, rp);
		print_people(f, p, "active_in_directory_inactive_in_roster", t[1],
			     "roster_status_reason", rp);
		print_people(f, p, "in_roster_without_directory_account", t[2], NULL, rp);
		print_people(f, p, "directory_account_inactive", t[3], "status_reason", rp);
	}
	cJSON_ArrayForEach(p, skipped)
		fprintf(f, "  %s vs %s: not compared: %s\n", jfile_str(p, "directory"), jfile_str(p, "roster"),
			jfile_str(p, "reason"));
}

void rj_print_table(FILE *f, const cJSON *rep, const char *rp)
{
	const cJSON *s, *st, *o;
	fprintf(f, "\nRun report: %s: %s (exit %d) in %.1f s\n", jfile_str(rep, "job"),
		jfile_str(rep, "outcome"), (int)jfile_num(rep, "exit"), jfile_num(rep, "seconds"));
	fprintf(f, "\n%-12s %-18s %-9s %8s %8s %7s %8s\n", "source", "stream", "status", "records",
		"requests", "retries", "waited");
	cJSON_ArrayForEach(s, cJSON_GetObjectItemCaseSensitive(rep, "sources")) {
		cJSON_ArrayForEach(st, cJSON_GetObjectItemCaseSensitive(s, "streams")) {
			fprintf(f, "%-12s %-18s %-9s %8.0f %8.0f %7.0f %7.1fs\n", jfile_str(s, "name"),
				st->string, jfile_str(st, "status"), jfile_num(st, "records"),
				jfile_num(st, "requests"), jfile_num(st, "retries"), jfile_num(st, "wait_seconds"));
		}
		if (!cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(s, "streams"))) {
			const char *why = jfile_str(s, "failure");
			char fallback[64];
			if (!*why) {
				snprintf(fallback, sizeof fallback, "the source exited %d",
					 (int)jfile_num(s, "exit"));
				why = fallback;
			}
			fprintf(f, "%-12s %-18s %-9s (no statistics: %s)\n", jfile_str(s, "name"), "-",
				"failed", why);
		}
	}
	fprintf(f, "\n%-12s %-24s %8s  %s\n", "output", "file", "rows", "status");
	cJSON_ArrayForEach(o, cJSON_GetObjectItemCaseSensitive(rep, "outputs")) {
		const char *reason = jfile_str(o, "reason");
		fprintf(f, "%-12s %-24s %8.0f  %s%s%s\n", jfile_str(o, "stream"), jfile_str(o, "file"),
			jfile_num(o, "rows"), jfile_str(o, "status"), *reason ? ": " : "", reason);
	}
	if (*jfile_str(rep, "outputs_note"))
		fprintf(f, "(%s)\n", jfile_str(rep, "outputs_note"));
	const cJSON *h, *held = cJSON_GetObjectItemCaseSensitive(rep, "held");
	if (cJSON_GetArraySize(held)) {
		fprintf(f, "\nHeld: a mass change, not published; the previous files stay until "
			   "you decide:\n");
		cJSON_ArrayForEach(h, held) {
			const cJSON *c = cJSON_GetObjectItemCaseSensitive(h, "changes");
			fprintf(f, "  %s: %s\n    %.0f rows before: %.0f added, %.0f removed, %.0f "
				   "changed\n    review the changes: %s\n    the new file: %s\n",
				jfile_str(h, "stream"), jfile_str(h, "reason"), jfile_num(c, "before"),
				jfile_num(c, "added"), jfile_num(c, "removed"), jfile_num(c, "changed"),
				jfile_str(h, "change_set"), jfile_str(h, "staged"));
		}
		fprintf(f, "  publish what was held, as staged: %s\n  or keep the previous files: %s\n",
			jfile_str(rep, "release"), jfile_str(rep, "keep"));
	}
	print_reconciliation(f, rep, rp);
	int first = 1;
	cJSON_ArrayForEach(s, cJSON_GetObjectItemCaseSensitive(rep, "sources")) {
		const char *failure = jfile_str(s, "failure");
		if (*failure) {
			if (first)
				fprintf(f, "\nErrors and notes:\n");
			first = 0;
			fprintf(f, "  %s: %s\n", jfile_str(s, "name"), failure);
		}
		if (*jfile_str(s, "hint"))
			fprintf(f, "  %s: hint: %s\n", jfile_str(s, "name"), jfile_str(s, "hint"));
		cJSON_ArrayForEach(st, cJSON_GetObjectItemCaseSensitive(s, "streams")) {
			const cJSON *err = cJSON_GetObjectItemCaseSensitive(st, "error");
			const char *note = jfile_str(st, "note");
			if (cJSON_IsObject(err) || *note) {
				if (first)
					fprintf(f, "\nErrors and notes:\n");
				first = 0;
			}
			if (cJSON_IsObject(err))
				fprintf(f, "  %s %s: %s\n", jfile_str(s, "name"), st->string, jfile_str(err, "text"));
			if (*note)
				fprintf(f, "  %s %s: note: %s\n", jfile_str(s, "name"), st->string, note);
		}
	}
	if (*jfile_str(rep, "failure")) {
		if (first)
			fprintf(f, "\nErrors and notes:\n");
		fprintf(f, "  %s\n", jfile_str(rep, "failure"));
	}
	fprintf(f, "\nOutput folder: %s\n", jfile_str(rep, "output"));
}
