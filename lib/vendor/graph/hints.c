/* Graph's error answers and the hints they get (keyed on the AADSTS code
 * of a token refusal and on error.code of a Graph body, never on message
 * text), and the other pure helpers the unit tests check: the token URL,
 * times, the kinds of members that are not users. */
#include "vendor/graph/graph_int.h"
#include "core/b64.h"
#include "core/buf.h"
#include "core/err.h"
#include "vendor/graph/graph.h"

#include <cjson/cJSON.h>
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---- pure helpers ---- */

long graph_aadsts(const char *body, size_t len)
{
	cJSON *j = body && len ? cJSON_ParseWithLength(body, len) : NULL;
	const cJSON *codes = cJSON_GetObjectItemCaseSensitive(j, "error_codes");
	const cJSON *desc = cJSON_GetObjectItemCaseSensitive(j, "error_description");
	const cJSON *first = cJSON_GetArrayItem(codes, 0);
	long n = 0;
	if (cJSON_IsNumber(first) && first->valuedouble > 0)
		n = (long)first->valuedouble;
	else if (cJSON_IsString(desc)) {
		const char *p = strstr(desc->valuestring, "AADSTS");
		if (p && isdigit((unsigned char)p[6]))
			n = strtol(p + 6, NULL, 10);
	}
	cJSON_Delete(j);
	return n;
}

void graph_add_msg(struct rt_err *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void graph_add_msg(struct rt_err *e, const char *fmt, ...)
{
	size_t l = strlen(e->msg);
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(e->msg + l, sizeof e->msg - l, fmt, ap);
	va_end(ap);
	err_redact_str(e->msg);
}

/* A refusal from the token endpoint, by AADSTS code. */
static void token_hint(struct rt_err *e, long status, long aad, const struct graph_ctx *c)
{
	const char *app = c->client_id ? c->client_id : "?";
	const char *tenant = c->tenant ? c->tenant : "?";
	const char *entry = c->secret_entry ? c->secret_entry : "NAME";
	switch (aad) {
	case 7000215:
		err_hint(e, "the client secret of application %s is wrong, or the secret's ID was "
			    "stored instead of its Value: copy the Value of a client secret (Entra admin "
			    "center > App registrations > the app > Certificates & secrets; make a new one "
			    "if the Value is no longer shown) and store it with `creds set %s`",
			 app, entry);
		return;
	case 7000222:
		err_hint(e, "the client secret of application %s has expired: make a new one in "
			    "Entra admin center > App registrations > the app > Certificates & secrets "
			    "and store its Value with `creds set %s`", app, entry);
		return;
	case 700016:
		err_hint(e, "the client id %s is not an application in tenant %s: check the tenant "
			    "and the Application (client) ID on the app's Overview page (Entra admin "
			    "center > App registrations); an app registered in another tenant must first "
			    "be consented in this one", app, tenant);
		return;
	case 90002:
		err_hint(e, "tenant %s was not found: check the tenant name, the Directory (tenant) "
			    "ID GUID on the Entra admin center's Overview page or a verified domain of "
			    "the tenant (such as district.onmicrosoft.com)", tenant);
		return;
	case 70011:
		err_hint(e, "the token endpoint refused the scope %s: check that --token-url is "
			    "Microsoft's v2.0 endpoint (.../oauth2/v2.0/token)", GRAPH_SCOPE);
		return;
	}
	if (status >= 500)
		err_hint(e, "Microsoft's sign-in service is failing on its side; the run can be "
			    "retried later");
	else
		err_hint(e, "tenant %s refused application %s with the secret in the stored entry "
			    "%s: check the tenant, the Application (client) ID and the secret's Value "
			    "(Entra admin center > App registrations)", tenant, app, entry);
}

/* A Graph error, by error.code and status (never by the message text). */
static void graph_hint(struct rt_err *e, long status, const char *code, const struct graph_ctx *c)
{
	const char *app = c->client_id ? c->client_id : "?";
	if (!strcmp(code, "Authorization_RequestDenied") || (status == 403 && !code[0])) {
		const char *need = c->need ? c->need : NEED_USERS " and " NEED_GROUPS;
		err_hint(e, "application %s lacks the Microsoft Graph application permission %s, or "
			    "it was never consented: Entra admin center > App registrations > the app > "
			    "API permissions > add it as an Application permission, then Grant admin "
			    "consent (Directory.Read.All also covers it); a token got before the consent "
			    "keeps the old permissions", app, need);
	} else if (!strcmp(code, "InvalidAuthenticationToken") || status == 401) {
		err_hint(e, "Graph refused a new access token too: check that --token-url is tenant "
			    "%s's v2.0 token endpoint and that nothing rewrites the Authorization "
			    "header (the token must be for %s)", c->tenant ? c->tenant : "?",
			 GRAPH_SCOPE);
	} else if (status == 410 || !strcmp(code, "syncStateNotFound") ||
		   !strcmp(code, "syncStateInvalid") || !strcmp(code, "resyncRequired")) {
		err_hint(e, "the delta link has expired (they last 7 days): everything is read again");
	} else if (status == 429) {
		err_hint(e, "Graph throttles each application per tenant (resource units per 10 s): "
			    "lower --rate (rate in the job), or run when the tenant is quieter");
	} else if (status == 400 && (!strcmp(code, "Request_UnsupportedQuery") ||
				     !strcmp(code, "Request_BadRequest"))) {
		err_hint(e, "Graph refused the query ($select of a property it does not know, or "
			    "$top outside 1..%d): check that --base-url is Graph's (%s) and "
			    "--page-size", GRAPH_MAX_TOP, GRAPH_BASE_URL);
	} else if (status == 404) {
		err_hint(e, "the object is gone (deleted during the run), or --base-url is not "
			    "Graph's (%s)", GRAPH_BASE_URL);
	} else if (status == 501) {
		err_hint(e, "Graph cannot return a $select-ed property in a list");
	} else if (status >= 500) {
		err_hint(e, "Graph is failing on its side; the run can be retried later");
	}
}

void graph_explain_answer(struct rt_err *e, long status, const char *ct, const char *body,
			  size_t len, const struct graph_ctx *c)
{
	cJSON *j = body && len ? cJSON_ParseWithLength(body, len) : NULL;
	const cJSON *err = cJSON_GetObjectItemCaseSensitive(j, "error");
	if (cJSON_IsString(err)) { /* the token endpoint: RFC 6749 section 5.2 */
		snprintf(e->code, sizeof e->code, "%.90s", err->valuestring);
		token_hint(e, status, graph_aadsts(body, len), c);
	} else if (cJSON_IsObject(err)) { /* Graph: {"error":{"code","message","innerError"}} */
		const cJSON *code = cJSON_GetObjectItemCaseSensitive(err, "code");
		const cJSON *m = cJSON_GetObjectItemCaseSensitive(err, "message");
		if (cJSON_IsString(code))
			snprintf(e->code, sizeof e->code, "%.90s", code->valuestring);
		if (cJSON_IsString(m) && *m->valuestring) {
			size_t n = strcspn(m->valuestring, "\r\n"); /* one line */
			graph_add_msg(e, ": %.*s", (int)(n < 200 ? n : 200), m->valuestring);
		}
		if (c->token)
			token_hint(e, status, 0, c);
		else
			graph_hint(e, status, e->code, c);
	} else {
		int html = (ct && strstr(ct, "html")) ||
			   (body && len && body[strspn(body, " \t\r\n")] == '<');
		graph_add_msg(e, " with %s", !len ? "an empty body" : html ? "an HTML page"
					 : j ? "JSON that is not an error body" : "a body that is not JSON");
		if (status >= 500)
			err_hint(e, "%s is failing on its side; the run can be retried later",
				 c->token ? "Microsoft's sign-in service" : "Graph");
		else if (c->token)
			err_hint(e, "the token endpoint did not answer as Microsoft's does: check "
				    "--token-url (%s)", GRAPH_TOKEN_URL);
		else if (html)
			err_hint(e, "an HTML page comes from a proxy, a sign-in page or a web server "
				    "that is not Graph: check --base-url (%s) and any proxy on the way",
				 GRAPH_BASE_URL);
		else
			graph_hint(e, status, "", c);
	}
	cJSON_Delete(j);
}

int graph_token_url(const char *tmpl, const char *tenant, struct buf *out)
{
	static const char mark[] = "{tenant}";
	int rc = 0;
	buf_reset(out);
	for (const char *p = tmpl; *p && !rc;) {
		const char *q = strstr(p, mark);
		if (!q) {
			rc = buf_adds(out, p);
			break;
		}
		rc = buf_add(out, p, (size_t)(q - p)) || pct_encode(tenant, out);
		p = q + sizeof mark - 1;
	}
	if (!out->data)
		rc |= buf_adds(out, "");
	return rc ? -1 : 0;
}

double graph_iso_time(const char *s)
{
	int y, mo, d, h, mi, se, n = 0;
	if (!s || sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &se, &n) != 6 ||
	    n != 19)
		return -1;
	const char *p = s + n;
	double frac = 0;
	if (*p == '.') {
		char *end;
		frac = strtod(p, &end);
		if (end == p + 1)
			return -1;
		p = end;
	}
	if (strcmp(p, "Z") || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 ||
	    se > 60 || y < 1970)
		return -1;
	struct tm tm = {.tm_year = y - 1900, .tm_mon = mo - 1, .tm_mday = d,
			.tm_hour = h, .tm_min = mi, .tm_sec = se};
	return (double)timegm(&tm) + frac;
}

int graph_full_due(const char *last_full, int days, double now)
{
	if (days <= 0)
		return 0;
	double t = graph_iso_time(last_full);
	/* an hour of slack: a nightly run a few seconds earlier than last week's
	 * must not push the full read to the next night */
	return t < 0 || now - t >= days * 86400.0 - 3600;
}

void graph_kinds_add(struct graph_kinds *k, const char *type)
{
	static const char prefix[] = "#microsoft.graph.";
	const char *name = !type ? "" : !strncmp(type, prefix, sizeof prefix - 1)
			 ? type + sizeof prefix - 1 : type + (*type == '#');
	k->total++;
	for (int i = 0; i < k->n; i++)
		if (!strcmp(k->k[i].name, name)) {
			k->k[i].count++;
			return;
		}
	if (k->n == GRAPH_KINDS) {
		k->other++;
		return;
	}
	snprintf(k->k[k->n].name, sizeof k->k[k->n].name, "%s", name);
	k->k[k->n++].count = 1;
}

void graph_kinds_note(const struct graph_kinds *k, char *out, size_t n)
{
	size_t l;
	if (!n)
		return;
	out[0] = 0;
	if (!k->total)
		return;
	snprintf(out, n, k->total == 1 ? "%ld member that is not a user was not kept: "
				       : "%ld members that are not users were not kept: ", k->total);
	for (int i = 0; i < k->n; i++) {
		l = strlen(out);
		if (k->k[i].name[0])
			snprintf(out + l, n - l, "%s%ld %s%s", i ? ", " : "", k->k[i].count,
				 k->k[i].name, k->k[i].count == 1 ? "" : "s");
		else
			snprintf(out + l, n - l, "%s%ld without @odata.type", i ? ", " : "",
				 k->k[i].count);
	}
	l = strlen(out);
	if (k->other)
		snprintf(out + l, n - l, "%s%ld of other types", k->n ? ", " : "", k->other);
}
