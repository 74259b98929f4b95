#include "format/jobfile.h"
#include "core/vec.h"

#include <ctype.h>
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static char *trim(char *s)
{
	while (isspace((unsigned char)*s))
		s++;
	char *end = s + strlen(s);
	while (end > s && isspace((unsigned char)end[-1]))
		*--end = 0;
	return s;
}

static void strip_comment(char *s)
{
	for (char *p = s; *p; p++)
		if (*p == '#' && (p == s || isspace((unsigned char)p[-1]))) {
			*p = 0;
			return;
		}
}

static int add_section(struct job *j, const char *kind, const char *name, int line)
{
	if (VEC_RESERVE(j->sec, j->capsec, (size_t)j->nsec + 1, 8))
		return -1;
	struct job_section *s = &j->sec[j->nsec++];
	memset(s, 0, sizeof *s);
	s->kind = strdup(kind);
	s->name = strdup(name);
	s->line = line;
	return s->kind && s->name ? 0 : -1;
}

static int add_kv(struct job_section *s, const char *k, const char *v, int line)
{
	if (VEC_RESERVE(s->kv, s->capkv, (size_t)s->nkv + 1, 8))
		return -1;
	struct job_kv *kv = &s->kv[s->nkv++];
	kv->key = strdup(k);
	kv->value = strdup(v);
	kv->line = line;
	kv->used = 0;
	return kv->key && kv->value ? 0 : -1;
}

static int parse_line(struct job *j, char *s, int line, struct rt_err *e)
{
	strip_comment(s);
	s = trim(s);
	if (!*s)
		return 0;
	if (*s == '[') {
		char *end = strchr(s, ']');
		if (!end || end[1]) {
			err_set(e, ERR_USAGE, "%s:%d: a section header is [kind] or [kind name]", j->path, line);
			return -1;
		}
		*end = 0;
		char *kind = trim(s + 1), *name = kind;
		while (*name && !isspace((unsigned char)*name))
			name++;
		if (*name)
			*name++ = 0;
		name = trim(name);
		if (!*kind) {
			err_set(e, ERR_USAGE, "%s:%d: empty section header", j->path, line);
			return -1;
		}
		for (int i = 0; i < j->nsec; i++)
			if (!strcmp(j->sec[i].kind, kind) && !strcmp(j->sec[i].name, name)) {
				err_set(e, ERR_USAGE, "%s:%d: section [%s%s%s] already defined at line %d",
					j->path, line, kind, *name ? " " : "", name, j->sec[i].line);
				return -1;
			}
		return add_section(j, kind, name, line);
	}
	char *eq = strchr(s, '=');
	if (!eq) {
		err_set(e, ERR_USAGE, "%s:%d: expected key = value", j->path, line);
		return -1;
	}
	if (!j->nsec) {
		err_set(e, ERR_USAGE, "%s:%d: a setting before any [section]", j->path, line);
		return -1;
	}
	*eq = 0;
	char *k = trim(s), *v = trim(eq + 1);
	if (!*k) {
		err_set(e, ERR_USAGE, "%s:%d: a value without a key", j->path, line);
		return -1;
	}
	struct job_section *sec = &j->sec[j->nsec - 1];
	for (int i = 0; i < sec->nkv; i++)
		if (!strcmp(sec->kv[i].key, k)) {
			err_set(e, ERR_USAGE, "%s:%d: %s is already set at line %d", j->path, line, k,
				sec->kv[i].line);
			return -1;
		}
	return add_kv(sec, k, v, line);
}

int job_load(struct job *j, const char *path, struct rt_err *e)
{
	memset(j, 0, sizeof *j);
	j->path = strdup(path);
	char *tmp = strdup(path);
	/* an absolute folder: messages and the report then show clean paths */
	j->dir = tmp ? realpath(dirname(tmp), NULL) : NULL;
	if (tmp && !j->dir) {
		strcpy(tmp, path);
		j->dir = strdup(dirname(tmp));
	}
	free(tmp);
	FILE *f = fopen(path, "r");
	if (!f) {
		err_set(e, ERR_USAGE, "%s: cannot read the job file: %s", path, strerror(errno));
		return -1;
	}
	char line[8192];
	int n = 0, rc = 0;
	while (fgets(line, sizeof line, f)) {
		n++;
		if (!strchr(line, '\n') && !feof(f)) {
			err_set(e, ERR_USAGE, "%s:%d: line too long", path, n);
			rc = -1;
			break;
		}
		if ((rc = parse_line(j, line, n, e)))
			break;
	}
	fclose(f);
	return rc;
}

void job_free(struct job *j)
{
	for (int i = 0; i < j->nsec; i++) {
		for (int k = 0; k < j->sec[i].nkv; k++) {
			free(j->sec[i].kv[k].key);
			free(j->sec[i].kv[k].value);
		}
		free(j->sec[i].kv);
		free(j->sec[i].kind);
		free(j->sec[i].name);
	}
	free(j->sec);
	free(j->path);
	free(j->dir);
	memset(j, 0, sizeof *j);
}

struct job_section *job_section(struct job *j, const char *kind, const char *name)
{
	for (int i = 0; i < j->nsec; i++)
		if (!strcmp(j->sec[i].kind, kind) && (!name || !strcmp(j->sec[i].name, name)))
			return &j->sec[i];
	return NULL;
}

const char *job_get(struct job_section *s, const char *key)
{
	for (int i = 0; s && i < s->nkv; i++)
		if (!strcmp(s->kv[i].key, key)) {
			s->kv[i].used = 1;
			return s->kv[i].value;
		}
	return NULL;
}

int job_line(const struct job_section *s, const char *key)
{
	for (int i = 0; s && i < s->nkv; i++)
		if (!strcmp(s->kv[i].key, key))
			return s->kv[i].line;
	return s ? s->line : 0;
}

int job_duration(const char *v, double *out)
{
	char *end;
	errno = 0;
	double d = strtod(v, &end);
	if (errno || end == v || !isfinite(d) || d < 0)
		return -1;
	if (!strcmp(end, "") || !strcmp(end, "s"))
		*out = d;
	else if (!strcmp(end, "m"))
		*out = d * 60;
	else if (!strcmp(end, "h"))
		*out = d * 3600;
	else
		return -1;
	return 0;
}

int job_number(const char *v, int integer, double *out)
{
	char *end;
	errno = 0;
	double d = strtod(v, &end);
	if (errno || end == v || *end || !isfinite(d) || !(d > 0))
		return -1;
	if (integer && (d != floor(d) || d > INT_MAX))
		return -1;
	*out = d;
	return 0;
}

int job_flag(const char *v, int *on)
{
	static const char *const yes[] = {"yes", "true", "1"}, *const no[] = {"no", "false", "0"};
	for (int i = 0; i < 3; i++) {
		if (!strcasecmp(v, yes[i]) || !strcasecmp(v, no[i])) {
			*on = !strcasecmp(v, yes[i]);
			return 0;
		}
	}
	return -1;
}

char *job_path(const struct job *j, const char *p)
{
	if (p[0] == '/' || !j->dir)
		return strdup(p);
	size_t n = strlen(j->dir) + strlen(p) + 2;
	char *r = malloc(n);
	if (r)
		snprintf(r, n, "%s/%s", j->dir, p);
	return r;
}

/* Random strings switch between upper case, lower case and digits at
 * about two characters in three; words and names rarely do. */
static int looks_random(const char *v)
{
	size_t n = strlen(v), changes = 0;
	int classes = 0, prev = -1;
	if (n < 24 || strspn(v, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
				"0123456789+=_~-") != n)
		return 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)v[i];
		int cl = isupper(c) ? 0 : islower(c) ? 1 : isdigit(c) ? 2 : 3;
		if (cl < 3)
			classes |= 1 << cl;
		changes += prev >= 0 && cl != prev;
		prev = cl;
	}
	return classes == 7 && changes * 3 >= n;
}

const char *job_looks_secret(const char *v)
{
	const char *at, *scheme = strstr(v, "://");
	if (strstr(v, "-----BEGIN"))
		return "a private key or certificate";
	if (scheme && (at = strchr(scheme + 3, '@')) && memchr(scheme + 3, ':',
							   (size_t)(at - scheme - 3)) &&
	    !memchr(scheme + 3, '/', (size_t)(at - scheme - 3)))
		return "a password in a URL";
	if (!strncasecmp(v, "Bearer ", 7) || !strncasecmp(v, "Basic ", 6))
		return "an Authorization header";
	if (!strncmp(v, "eyJ", 3) && strchr(v, '.') && strchr(strchr(v, '.') + 1, '.'))
		return "a signed token (JWT)";
	if (!strncmp(v, "gAAAAA", 6) && strlen(v) >= 100)
		return "a Fernet token";
	if (strlen(v) == 44 && v[43] == '=' && strspn(v, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
		"abcdefghijklmnopqrstuvwxyz0123456789-_") == 43)
		return "a Fernet key";
	if (looks_random(v))
		return "a password, key or token";
	return NULL;
}
