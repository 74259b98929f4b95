#ifndef ROSTER_URL_H
#define ROSTER_URL_H

#include "core/buf.h"

/* The few URL operations paging and messages need (RFC 3986). Each writes
 * its result into out, replacing what was there; on -1, out is left empty.
 * URLs holding ASCII control characters are refused everywhere. */

/* Resolves a link against the URL of the page it came from (RFC 3986
 * 5.2): an absolute URL is kept as it is (a vendor's nextLink is followed
 * verbatim); "//host/p" takes the base's scheme; "/path?q" takes the base's
 * scheme and authority; "?q" keeps the base's path; a relative path is
 * merged with the base's folder, and "." and ".." segments are removed.
 * The base must be absolute with an authority. 0 ok, -1 bad input. */
int url_join(const char *base, const char *ref, struct buf *out);

/* scheme://host:port of an http(s) URL: lower-cased scheme and host,
 * userinfo dropped, the default port made explicit ("https://api.clever.com
 * :443"), so two spellings of one server compare equal.
 * 0 ok, -1 not an absolute http(s) URL. */
int url_origin(const char *url, struct buf *out);

/* The path alone, for endpoints in messages ("/v3.0/users" of
 * "https://u:p@host/v3.0/users?token=x"): no userinfo, no query (queries may
 * hold tokens), no fragment; "/" when the path is empty. Also accepts a bare
 * "/path?q". 0 ok, -1 otherwise. */
int url_path(const char *url, struct buf *out);

/* The form in which two spellings of one http(s) resource compare equal:
 * url_origin + path + "?query", without userinfo and fragment. Used to
 * recognise a page already read. 0 ok, -1 as url_origin. */
int url_key(const char *url, struct buf *out);

#endif
