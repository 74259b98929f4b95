#include "core/wordlist.h"

#include <stdio.h>
#include <string.h>

int list_next(const char **p, char *out, size_t n)
{
	const char *s = p ? *p : NULL;
	while (s && *s) {
		s += strspn(s, " \t");
		size_t l = strcspn(s, ","), k = l;
		while (k && (s[k - 1] == ' ' || s[k - 1] == '\t'))
			k--;
		const char *item = s;
		s += l + (s[l] == ',');
		if (k) {
			snprintf(out, n, "%.*s", (int)(k < n ? k : n - 1), item);
			*p = s;
			return 1;
		}
	}
	if (p)
		*p = s;
	return 0;
}

int list_has(const char *list, const char *word)
{
	char w[256];
	for (const char *p = list; list_next(&p, w, sizeof w);)
		if (!strcmp(w, word))
			return 1;
	return 0;
}
