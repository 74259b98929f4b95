#include "engine/vendor.h"

#include <string.h>

const struct vendor *vendor_find(const char *name)
{
	for (size_t i = 0; vendors[i].name; i++)
		if (!strcmp(vendors[i].name, name))
			return &vendors[i];
	return NULL;
}

const struct vendor *vendor_api_nth(size_t i)
{
	for (size_t k = 0; vendors[k].name; k++)
		if (vendors[k].program && i-- == 0)
			return &vendors[k];
	return NULL;
}

const struct drop_profile *vendor_drop_nth(size_t i, const struct vendor **v)
{
	for (size_t k = 0; vendors[k].name; k++)
		for (size_t d = 0; vendors[k].drops && vendors[k].drops[d]; d++)
			if (i-- == 0) {
				if (v)
					*v = &vendors[k];
				return vendors[k].drops[d];
			}
	return NULL;
}

const struct drop_profile *vendor_drop_profile(const char *name, const struct vendor **v)
{
	const struct drop_profile *p;
	for (size_t i = 0; (p = vendor_drop_nth(i, v)); i++)
		if (!strcmp(p->name, name))
			return p;
	return NULL;
}

const struct mapper *vendor_mapper_nth(size_t i)
{
	for (size_t k = 0; vendors[k].name; k++)
		for (const struct mapper *m = vendors[k].mappers; m && m->raw; m++)
			if (i-- == 0)
				return m;
	return NULL;
}

const struct mapper *vendor_mapper(const char *raw, const struct vendor **v)
{
	for (size_t k = 0; vendors[k].name; k++)
		for (const struct mapper *m = vendors[k].mappers; m && m->raw; m++)
			if (!strcmp(m->raw, raw)) {
				if (v)
					*v = &vendors[k];
				return m;
			}
	return NULL;
}

enum vendor_scope vendor_scope_of(const char *name)
{
	const struct vendor *v = vendor_find(name);
	return v ? v->scope : VENDOR_ROSTER;
}
