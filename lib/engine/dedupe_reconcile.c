#include "engine/dedupe_int.h"
#include "core/buf.h"
#include "core/log.h"
#include "format/jsonw.h"
#include "engine/vendor.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

enum { L_ABSENT, L_INACTIVE, L_NO_ACCOUNT, L_ACCOUNT_INACTIVE, NLISTS };
static const char *const list_names[NLISTS] = {
	"active_in_directory_absent_from_roster", "active_in_directory_inactive_in_roster",
	"in_roster_without_directory_account", "directory_account_inactive"};

/* What a person's records of one source say. A record without a status
 * is neither active nor inactive: it only makes the source present. */
struct side {
	int any, active, inactive;
	int first, first_active; /* positions among the person's records; -1: none */
};

static void side_of(const struct dedupe *d, const int *m, int n, int src, struct side *s)
{
	memset(s, 0, sizeof *s);
	s->first = s->first_active = -1;
	for (int j = 0; j < n; j++) {
		const struct prec *r = &d->recs[m[j]];
		const char *st = pval(r, d->f_status);
		if (r->src != src)
			continue;
		s->any++;
		if (s->first < 0)
			s->first = j;
		if (st && !strcmp(st, "active")) {
			s->active++;
			if (s->first_active < 0)
				s->first_active = j;
		} else if (st && !strcmp(st, "inactive")) {
			s->inactive++;
		}
	}
}

/* Whether a roster of this scope should list the person: a staff roster,
 * people some record gives a staff role (teacher, staff, administrator,
 * aide) and none the role student. */
static int expected_in(const struct dedupe *d, const struct person *p, enum vendor_scope scope)
{
	if (scope != VENDOR_STAFF)
		return 1;
	int staff = 0;
	for (int j = 0; j < p->n; j++) {
		const char *role = pval(&d->recs[d->ord[p->start + j]], d->f_role);
		if (role && !strcmp(role, "student"))
			return 0;
		staff |= role && (!strcmp(role, "teacher") || !strcmp(role, "staff") ||
				  !strcmp(role, "administrator") || !strcmp(role, "aide"));
	}
	return staff;
}

/* The list a person is on for directory D and roster R, or -1. dr and rr
 * get the position of the record that speaks for each side (its first
 * active one, else its first), -1 when the side has none. */
static int classify(const struct dedupe *d, const struct person *p, int D, int R, int *dr,
		    int *rr)
{
	const int *m = d->ord + p->start;
	struct side ds, rs;
	side_of(d, m, p->n, D, &ds);
	side_of(d, m, p->n, R, &rs);
	*dr = ds.first_active >= 0 ? ds.first_active : ds.first;
	*rr = rs.first_active >= 0 ? rs.first_active : rs.first;
	if (ds.active && !rs.any && !expected_in(d, p, d->srcs[R].scope))
		return -1;
	if (ds.active && !rs.any)
		return L_ABSENT;
	if (ds.active && rs.inactive == rs.any)
		return L_INACTIVE;
	if (rs.active && !ds.any)
		return L_NO_ACCOUNT;
	if (rs.active && !ds.active && ds.inactive == ds.any)
		return L_ACCOUNT_INACTIVE;
	return -1;
}

static int put_str_field(struct buf *b, const char *key, const char *v, int *first)
{
	return v ? dedupe_put_key(b, key, first) | jsonw_str(b, v) : 0;
}

/* One entry: the merged person's id, names, email and role (the values
 * dedupe wrote for it), the two sides' source_ids, and why the directory
 * account (and, when inactive, the roster record) is inactive. */
static int put_entry(const struct dedupe *d, const struct person *p, int list, int dr, int rr,
		     struct buf *b)
{
	static const char *const shown[] = {"given_name", "family_name", "email", "role"};
	const int *m = d->ord + p->start;
	const struct prec *D = dr >= 0 ? &d->recs[m[dr]] : NULL, *R = rr >= 0 ? &d->recs[m[rr]] : NULL;
	int win[MAX_FIELDS], first = 1, rc = 0;
	dedupe_choose(d, m, p->n, win);
	rc |= buf_addc(b, '{') | put_str_field(b, "id", p->id, &first);
	rc |= put_str_field(b, "directory_source_id", D ? pval(D, d->f_source_id) : NULL, &first);
	rc |= put_str_field(b, "roster_source_id", R ? pval(R, d->f_source_id) : NULL, &first);
	for (size_t i = 0; i < sizeof shown / sizeof shown[0]; i++) {
		int f = canon_field_index(d->cs, shown[i]);
		if (f >= 0 && win[f] >= 0)
			rc |= put_str_field(b, shown[i], pval(&d->recs[m[win[f]]], f), &first);
	}
	if (d->f_reason >= 0) {
		rc |= put_str_field(b, "status_reason", D ? pval(D, d->f_reason) : NULL, &first);
		if (list == L_INACTIVE)
			rc |= put_str_field(b, "roster_status_reason", R ? pval(R, d->f_reason) : NULL,
					    &first);
	}
	return rc | buf_addc(b, '}');
}

static int by_rank(const void *pa, const void *pb, void *arg)
{
	const struct dedupe *d = arg;
	long a = d->srcs[*(const int *)pa].rank, b = d->srcs[*(const int *)pb].rank;
	return (a > b) - (a < b);
}

static int flush_to(struct buf *b, FILE *out)
{
	int rc = b->len && fwrite(b->data, 1, b->len, out) != b->len ? -1 : 0;
	buf_reset(b);
	return rc;
}

/* One compared pair: counts, then the four lists, one entry a line. */
static int put_pair(const struct dedupe *d, int D, int R, struct buf *b, FILE *out)
{
	long cnt[NLISTS] = {0}, dn = 0, rn = 0;
	int rc = 0, dr, rr;
	for (size_t k = 0; k < d->np; k++) {
		int l = classify(d, &d->ps[k], D, R, &dr, &rr);
		dn += dr >= 0;
		rn += rr >= 0;
		if (l >= 0)
			cnt[l]++;
	}
	rc |= buf_adds(b, "{\"directory\":") | jsonw_str(b, d->srcs[D].name) |
	      buf_adds(b, ",\"roster\":") | jsonw_str(b, d->srcs[R].name) |
	      buf_printf(b, ",\"directory_people\":%ld,\"roster_people\":%ld,\"counts\":{", dn, rn);
	for (int l = 0; l < NLISTS; l++)
		rc |= buf_printf(b, "%s\"%s\":%ld", l ? "," : "", list_names[l], cnt[l]);
	rc |= buf_addc(b, '}');
	for (int l = 0; l < NLISTS && !rc; l++) {
		long n = 0;
		rc |= buf_printf(b, ",\n\"%s\":[", list_names[l]);
		for (size_t k = 0; k < d->np && !rc; k++) {
			if (classify(d, &d->ps[k], D, R, &dr, &rr) != l)
				continue;
			rc |= buf_adds(b, n++ ? ",\n " : "\n ") | put_entry(d, &d->ps[k], l, dr, rr, b);
			rc |= flush_to(b, out); /* entry by entry: the lists may be long */
		}
		rc |= buf_adds(b, n ? "\n]" : "]");
	}
	return rc | buf_addc(b, '}');
}

/* "google people incomplete", "graph and clever people incomplete" */
static int put_reason(struct buf *b, const struct dsrc *D, const struct dsrc *R)
{
	struct buf r;
	buf_init(&r, 0);
	int rc = buf_printf(&r, "%s%s%s people incomplete", D->complete ? "" : D->name,
			    !D->complete && !R->complete ? " and " : "", R->complete ? "" : R->name);
	rc |= rc ? 0 : jsonw_str(b, r.data);
	buf_free(&r);
	return rc;
}

int dedupe_reconcile(struct dedupe *d, FILE *out, struct rt_err *e)
{
	struct buf b;
	int rc = 0, npairs = 0, nskipped = 0;
	int *order = malloc((d->nsrcs ? (size_t)d->nsrcs : 1) * sizeof *order);
	if (!d->finished || !order) {
		free(order);
		err_set(e, ERR_IO, !order ? "out of memory reconciling the sources"
					  : "nothing merged to reconcile");
		return -1;
	}
	for (int i = 0; i < d->nsrcs; i++)
		order[i] = i;
	qsort_r(order, (size_t)d->nsrcs, sizeof *order, by_rank, d);
	buf_init(&b, 0);
	rc |= buf_adds(&b, "{\"directory_sources\":[");
	for (int i = 0, n = 0; vendors[i].name; i++)
		if (vendors[i].scope == VENDOR_DIRECTORY)
			rc |= (n++ ? buf_addc(&b, ',') : 0) | jsonw_str(&b, vendors[i].name);
	rc |= buf_adds(&b, "],\n\"sources\":[");
	for (int i = 0; i < d->nsrcs; i++) {
		const struct dsrc *s = &d->srcs[order[i]];
		rc |= buf_adds(&b, i ? ",\n " : "\n ") | buf_adds(&b, "{\"source\":") |
		      jsonw_str(&b, s->name) |
		      buf_printf(&b, ",\"kind\":\"%s\",\"records\":%ld,\"complete\":%s}",
				 s->directory		   ? "directory"
				 : s->scope == VENDOR_PARTIAL ? "partial (not compared)"
				 : s->scope == VENDOR_STAFF   ? "staff roster"
							   : "roster",
				 s->records,
				 s->complete ? "true" : "false");
	}
	rc |= buf_adds(&b, d->nsrcs ? "\n],\n\"pairs\":[" : "],\n\"pairs\":[");
	for (int pass = 0; pass < 2; pass++) {
		if (pass)
			rc |= buf_adds(&b, npairs ? "\n],\n\"skipped\":[" : "],\n\"skipped\":[");
		for (int i = 0; i < d->nsrcs && !rc; i++)
			for (int j = 0; j < d->nsrcs && !rc; j++) {
				const struct dsrc *D = &d->srcs[order[i]], *R = &d->srcs[order[j]];
				if (!D->directory || R->directory || R->scope == VENDOR_PARTIAL)
					continue;
				int both = D->complete && R->complete;
				if (!pass && both) {
					rc |= buf_adds(&b, npairs++ ? ",\n" : "\n");
					rc |= put_pair(d, order[i], order[j], &b, out);
				} else if (pass && !both) {
					rc |= buf_adds(&b, nskipped++ ? ",\n " : "\n ") |
					      buf_adds(&b, "{\"directory\":") | jsonw_str(&b, D->name) |
					      buf_adds(&b, ",\"roster\":") | jsonw_str(&b, R->name) |
					      buf_adds(&b, ",\"reason\":") | put_reason(&b, D, R) |
					      buf_addc(&b, '}');
				}
				rc |= flush_to(&b, out);
			}
	}
	rc |= buf_adds(&b, nskipped ? "\n]}\n" : "]}\n") | flush_to(&b, out);
	if (rc || fflush(out) || ferror(out)) {
		err_set(e, ERR_IO, "writing the reconciliation failed: %s",
			rc && !ferror(out) ? "out of memory" : strerror(errno));
		rc = -1;
	}
	if (!rc)
		log_info("reconciliation: %d pair%s of a directory and a roster compared, %d skipped "
			 "(incomplete people)", npairs, npairs == 1 ? "" : "s", nskipped);
	buf_free(&b);
	free(order);
	return rc;
}
