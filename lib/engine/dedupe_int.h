/* What the parts of dedupe share: dedupe_read.c (reading), dedupe.c
 * (merging, writing) and dedupe_reconcile.c (the offboarding report).
 * Only for those files. */
#ifndef ROSTER_DEDUPE_INT_H
#define ROSTER_DEDUPE_INT_H

#include "engine/dedupe.h"
#include "core/buf.h"
#include "format/canon.h"
#include "format/jscan.h"
#include "engine/idmap.h"
#include "engine/vendor.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define MAX_FIELDS 32

/* The ladder's keys past source + source_id; each matches only itself. */
enum { KEY_EMPLOYEE, KEY_SIS, KEY_EMAIL, NKEYS, KEY_SOURCE = NKEYS };
/* The byte before each key in a record's strings, so that a key and its
 * kind are one string (the id map's typed keys): by KEY_ index. */
extern const char dedupe_key_tag[NKEYS + 1];
extern const char *const dedupe_key_names[NKEYS]; /* their people fields */

/* One people record as read. Its strings are one block of dedupe's arena
 * that starts with the key; values are offsets into it (half the size of
 * pointers: a million records are held at once). */
struct prec {
	char *blob;               /* the tag byte, "source\x1fsource_id", its NUL, the values */
	uint32_t val[MAX_FIELDS]; /* by people field index: offset in blob; 0 = absent */
	uint32_t norm[NKEYS];     /* trimmed value (email lower-cased), just after its tag
				     byte; 0 = blank */
	int norgs;                /* org_ids: norgs strings in a row from its value */
	int cluster;              /* union-find root, then index of its person */
	int input;                /* which dedupe_read call read it (0, 1, ...) */
	int src;                  /* index of its source in dedupe.srcs */
	int seq;                  /* input order */
	int rank;                 /* seq of its source's first record */
};

static inline const char *pval(const struct prec *p, int f)
{
	return p->val[f] ? p->blob + p->val[f] : NULL;
}

static inline const char *pnorm(const struct prec *p, int k)
{
	return p->norm[k] ? p->blob + p->norm[k] : NULL;
}

/* "source\x1fsource_id" */
static inline const char *pkey(const struct prec *p)
{
	return p->blob + 1;
}

/* A typed key of a record (its tag byte and value), for merging. */
struct hkey {
	uint64_t hash;
	int rec;
	int k; /* KEY_ index */
};

static inline const char *hkey_str(const struct prec *recs, const struct hkey *h)
{
	const struct prec *p = &recs[h->rec];
	return h->k == KEY_SOURCE ? p->blob : p->blob + p->norm[h->k] - 1;
}

/* One distinct source of the people stream, for the reconciliation. */
struct dsrc {
	const char *name; /* a record's source value (owned by that record) */
	long rank;        /* seq of its first record: sources are listed in input order */
	long records;
	int directory;    /* a directory of accounts, not a roster */
	enum vendor_scope scope; /* whom it lists (the vendor registry) */
	int complete;     /* every input holding its people activated the people stream */
};

struct person {
	uint64_t id64; /* the id's 16 hex digits as a number: people are sorted by it
			  (first: idmap_hsort sorts by it) */
	int start, n;  /* its records: ord[start .. start + n), in precedence order */
	int first;     /* ord[start], its first record */
	char id[19];
};

struct arena_blk;
struct parsed;
struct parser;

/* What one parser holds: the reader's, or its helper's (dedupe_read.c). */
struct pctx {
	struct dedupe *d;        /* read only: the fields */
	struct jscan js;         /* the current line's tokens */
	struct buf scratch;      /* a record's strings, before the arena */
	struct buf keytmp;       /* an escaped member name, unescaped */
	struct arena_blk *arena; /* the records' strings it read */
	size_t arena_ahead;      /* bytes of its block faulted in */
	struct parsed *res;      /* what each line of its share is */
	size_t capres;
	size_t failed_at;        /* its line that failed, or SIZE_MAX */
	struct rt_err e;         /* why */
};

/* Lines read, for the parsers: each NUL-terminated in text. */
struct batch {
	struct buf text;
	struct bline {
		size_t at, len;
		long lineno;
	} *l;
	size_t n, cap;
	const char *name;
};

struct dedupe {
	FILE *out;
	const struct canon_stream *cs; /* people */
	int nf, f_id, f_source, f_source_id, f_status, f_reason, f_orgs, f_sources, f_fsrc, f_role;
	int f_key[NKEYS];
	size_t flen[MAX_FIELDS]; /* strlen of each field's name */
	struct buf fkey[MAX_FIELDS]; /* each field's name as a JSON key and its colon */
	struct pctx pc[2];       /* the reader's parser, its helper's */
	struct batch batch;
	struct parser *parser;   /* the helper thread, or NULL */
	int parser_failed;       /* no helper: none is tried again */
	struct prefault *pf;     /* the thread faulting pages in ahead, or NULL */
	int pf_failed;
	size_t recs_ahead, hk_ahead; /* bytes of recs and hk faulted in */
	struct prec *recs;
	size_t nrecs, cap;
	struct idmap *ids;  /* the caller's, or NULL: ids by today's rule alone */
	const char *ids_out; /* where the updated map goes */
	struct idmap_hasher hash; /* the rule's digests, without a map */
	struct hkey *hk;    /* every typed key of every record: as read, then by hash */
	size_t nhk, caphk;
	struct buf members; /* memberships messages, one a line, in input order */
	struct buf bad;     /* people messages written unmerged */
	struct buf held;    /* ACTIVATE_VERSION lines, each after a tag byte 'p' or 'm' */
	size_t held_people; /* how many of them are people's */
	struct dedupe_stats st;
	/* per input: its people SCHEMA and ACTIVATE_VERSION messages, and
	 * whether a people record of it was written unmerged. An input that
	 * is several runs concatenated (one SCHEMA each) is complete only
	 * when every one of them activated people: which source a lone
	 * ACTIVATE_VERSION belongs to, nobody can tell. */
	struct in_people {
		long schemas, activations;
		int bad;
	} *activated;
	int ninputs;
	size_t capactivated;
	/* kept from dedupe_finish for dedupe_reconcile */
	struct dsrc *srcs;
	int nsrcs;
	struct person *ps;
	size_t np;
	int *ord;
	int finished;
};

/* dedupe_read.c */
void dedupe_pctx_init(struct pctx *c, struct dedupe *d);
void dedupe_pctx_free(struct pctx *c);
/* End the helper threads of reading; reading is over. */
void dedupe_prefault_stop(struct dedupe *d);
void dedupe_parser_stop(struct dedupe *d);
int dedupe_put_line(struct dedupe *d, const char *p, size_t n, struct rt_err *e);
/* An integer that cJSON prints as it is written (p[0..n)). */
int dedupe_plain_int(const char *p, size_t n);
/* Asks for huge pages over p[0..n): on a VM every 4 KB page touched the
 * first time costs a fault, and a million people touch half a gigabyte. */
void dedupe_huge(void *p, size_t n);

static inline int dedupe_blank(const char *s)
{
	/* every blank byte is at most ' ': most values end the test at once */
	while ((unsigned char)*s <= ' ') {
		if (!*s)
			return 1;
		if (*s != ' ' && *s != '\t' && *s != '\r' && *s != '\n' && *s != '\v' && *s != '\f')
			return 0;
		s++;
	}
	return 0;
}

/* Fields dedupe makes, never read from a record. */
static inline int dedupe_computed(const struct dedupe *d, int f)
{
	return f == d->f_id || f == d->f_sources || f == d->f_fsrc;
}

/* dedupe_write.c: the merged people, in id order, to out. 0, or -1 with
 * e (a write error, out of memory). Warns about key conflicts. */
int dedupe_write_people(struct dedupe *d, struct rt_err *e);

/* For each field, the position in m of the record that wins it, or -1. */
void dedupe_choose(const struct dedupe *d, const int *m, int n, int *win);
/* A JSON object key, with the comma before it unless *first. */
int dedupe_put_key(struct buf *b, const char *name, int *first);

#endif
