#include "secret.h"

#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>

void secret_protect_process(void)
{
	struct rlimit none = {0, 0};
	setrlimit(RLIMIT_CORE, &none);
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
}

char *secret_take_env(const char *var)
{
	char *v = getenv(var);
	if (!v || !*v)
		return NULL;
	char *copy = strdup(v);
	explicit_bzero(v, strlen(v));
	unsetenv(var);
	return copy;
}

void secret_free(char *s)
{
	if (!s)
		return;
	explicit_bzero(s, strlen(s));
	free(s);
}
