#include "net/url.h"

#include <ctype.h>
#include <string.h>

/* One component of a URL: where it starts, its length, and whether it was
 * there at all (an empty query "?" differs from no query). */
struct span {
	const char *p;
	size_t n;
	int set;
};

/* The five components of RFC 3986 appendix B; query and fragment without
 * their "?" and "#". */
struct uri {
	struct span scheme, auth, path, query, frag;
};

static int has_controls(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return 1;
	return 0;
}

static struct span take(const char **s, const char *stop)
{
	struct span sp = {*s, strcspn(*s, stop), 1};
	*s += sp.n;
	return sp;
}

static int split(const char *s, struct uri *u)
{
	memset(u, 0, sizeof *u);
	if (!s || has_controls(s))
		return -1;
	if (isalpha((unsigned char)*s)) {
		size_t n = 1;
		while (isalnum((unsigned char)s[n]) || s[n] == '+' || s[n] == '-' || s[n] == '.')
			n++;
		if (s[n] == ':') {
			u->scheme = (struct span){s, n, 1};
			s += n + 1;
		}
	}
	if (s[0] == '/' && s[1] == '/') {
		s += 2;
		u->auth = take(&s, "/?#");
	}
	u->path = take(&s, "?#");
	if (*s == '?') {
		s++;
		u->query = take(&s, "#");
	}
	if (*s == '#') {
		s++;
		u->frag = take(&s, "");
	}
	return 0;
}

static int add_span(struct buf *out, struct span sp)
{
	return buf_add(out, sp.p, sp.n);
}

/* Appends path with its "." and ".." segments removed (RFC 3986 5.2.4).
 * A ".." never climbs above the start of the path. */
static int add_path(struct buf *out, const char *in, size_t n)
{
	const char *end = in + n;
	size_t start = out->len;
	while (in < end) {
		size_t left = (size_t)(end - in);
		if (left >= 3 && !strncmp(in, "../", 3)) {
			in += 3;
		} else if (left >= 2 && !strncmp(in, "./", 2)) {
			in += 2;
		} else if (left >= 3 && !strncmp(in, "/./", 3)) {
			in += 2;
		} else if (left == 2 && !strncmp(in, "/.", 2)) {
			return buf_addc(out, '/');
		} else if ((left >= 4 && !strncmp(in, "/../", 4)) || (left == 3 && !strncmp(in, "/..", 3))) {
			/* Drop the last output segment with its leading "/". */
			while (out->len > start && out->data[out->len - 1] != '/')
				out->len--;
			if (out->len > start)
				out->len--;
			if (out->data)
				out->data[out->len] = '\0';
			if (left == 3)
				return buf_addc(out, '/');
			in += 3;
		} else if ((left == 1 && *in == '.') || (left == 2 && !strncmp(in, "..", 2))) {
			in = end;
		} else {
			/* Move one segment, with its leading "/", to the output. */
			const char *seg = in + (*in == '/');
			while (seg < end && *seg != '/')
				seg++;
			if (buf_add(out, in, (size_t)(seg - in)))
				return -1;
			in = seg;
		}
	}
	return 0;
}

/* The base's folder (up to its last "/") followed by a relative path. */
static int add_merged(struct buf *out, const struct uri *b, struct span rel)
{
	struct buf tmp;
	size_t dir = b->path.n;
	int rc;
	while (dir > 0 && b->path.p[dir - 1] != '/')
		dir--;
	buf_init(&tmp, out->cap ? out->cap : 1 << 16);
	if (b->auth.set && b->path.n == 0)
		rc = buf_addc(&tmp, '/');
	else
		rc = buf_add(&tmp, b->path.p, dir);
	rc = rc || buf_add(&tmp, rel.p, rel.n) || add_path(out, tmp.data, tmp.len);
	buf_free(&tmp);
	return rc ? -1 : 0;
}

static int add_part(struct buf *out, char mark, struct span sp)
{
	if (!sp.set)
		return 0;
	return buf_addc(out, mark) || add_span(out, sp);
}

static int fail(struct buf *out)
{
	buf_reset(out);
	return -1;
}

int url_join(const char *base, const char *ref, struct buf *out)
{
	struct uri b, r;
	buf_reset(out);
	if (split(base, &b) || split(ref, &r) || !b.scheme.set || !b.auth.set)
		return fail(out);
	if (r.scheme.set)
		return buf_adds(out, ref) ? fail(out) : 0;
	int rc = add_span(out, b.scheme) || buf_adds(out, "://");
	if (r.auth.set) {
		rc = rc || add_span(out, r.auth) || add_path(out, r.path.p, r.path.n) ||
		     add_part(out, '?', r.query);
	} else {
		rc = rc || add_span(out, b.auth);
		if (r.path.n == 0)
			rc = rc || add_span(out, b.path) ||
			     add_part(out, '?', r.query.set ? r.query : b.query);
		else if (r.path.p[0] == '/')
			rc = rc || add_path(out, r.path.p, r.path.n) || add_part(out, '?', r.query);
		else
			rc = rc || add_merged(out, &b, r.path) || add_part(out, '?', r.query);
	}
	rc = rc || add_part(out, '#', r.frag);
	return rc ? fail(out) : 0;
}

static int span_is(struct span sp, const char *s)
{
	return sp.n == strlen(s) && !strncasecmp(sp.p, s, sp.n);
}

int url_origin(const char *url, struct buf *out)
{
	struct uri u;
	buf_reset(out);
	if (split(url, &u) || !u.auth.set)
		return fail(out);
	int https = span_is(u.scheme, "https");
	if (!https && !span_is(u.scheme, "http"))
		return fail(out);
	/* authority = [ userinfo "@" ] host [ ":" port ]; the last "@" ends the userinfo. */
	const char *h = u.auth.p, *end = u.auth.p + u.auth.n;
	for (const char *q = h; q < end; q++)
		if (*q == '@')
			h = q + 1;
	const char *hend = h;
	if (*h == '[') {
		while (hend < end && *hend != ']')
			hend++;
		if (hend == end)
			return fail(out);
		hend++;
	} else {
		while (hend < end && *hend != ':')
			hend++;
	}
	if (hend == h || (hend < end && *hend != ':'))
		return fail(out);
	long port = https ? 443 : 80;
	if (hend < end && hend + 1 < end) {
		port = 0;
		for (const char *q = hend + 1; q < end; q++) {
			if (!isdigit((unsigned char)*q) || port > 65535)
				return fail(out);
			port = port * 10 + (*q - '0');
		}
		if (port < 1 || port > 65535)
			return fail(out);
	}
	int rc = buf_adds(out, https ? "https://" : "http://");
	for (const char *q = h; q < hend && !rc; q++)
		rc = buf_addc(out, (char)tolower((unsigned char)*q));
	rc = rc || buf_printf(out, ":%ld", port);
	return rc ? fail(out) : 0;
}

int url_path(const char *url, struct buf *out)
{
	struct uri u;
	buf_reset(out);
	if (split(url, &u))
		return fail(out);
	int absolute = u.scheme.set && u.auth.set;
	int bare = !u.scheme.set && !u.auth.set && u.path.n && u.path.p[0] == '/';
	if (!absolute && !bare)
		return fail(out);
	int rc = u.path.n ? add_span(out, u.path) : buf_addc(out, '/');
	return rc ? fail(out) : 0;
}

int url_key(const char *url, struct buf *out)
{
	struct uri u;
	if (url_origin(url, out) || split(url, &u))
		return fail(out);
	int rc = u.path.n ? add_span(out, u.path) : buf_addc(out, '/');
	rc = rc || add_part(out, '?', u.query);
	return rc ? fail(out) : 0;
}
