#include "net/versions.h"
#include "core/log.h"

#include <stdio.h>
#include <string.h>

int version_abandons(const struct rt_err *e)
{
	if (e->status == 404 || e->status == 405 || e->status == 410)
		return 1;
	return e->status == 0 && !strcmp(e->code, "no_such_api");
}

int version_pick(const char *const *cands, int n, const char *remembered, version_probe probe,
		 void *ud, int *winner, struct rt_err *e)
{
	int order[32];
	int k = 0, first = -1;
	char tried[400] = "";
	if (n <= 0 || n > 32) {
		err_set(e, ERR_CONFIG, "no version candidates");
		return -1;
	}
	for (int i = 0; remembered && i < n; i++)
		if (!strcmp(cands[i], remembered))
			first = i;
	if (first >= 0)
		order[k++] = first;
	for (int i = 0; i < n; i++)
		if (i != first)
			order[k++] = i;
	for (int i = 0; i < k; i++) {
		const char *c = cands[order[i]];
		err_clear(e);
		if (probe(c, ud, e) == 0) {
			*winner = order[i];
			return 0;
		}
		if (!version_abandons(e))
			return -1;
		log_info("%s%s%s%s%s is not offered here (%d); trying the next candidate",
			 e->source, e->source[0] ? " " : "", e->endpoint,
			 e->source[0] || e->endpoint[0] ? ": " : "", c, e->status);
		size_t l = strlen(tried);
		snprintf(tried + l, sizeof tried - l, "%s%s", l ? ", " : "", c);
	}
	err_set(e, ERR_CONFIG, "none of the API versions answered (tried %s)", tried);
	err_hint(e, "the server may not offer this API at that base URL; check the base URL in the job");
	return -1;
}
