/* Google's error answers: the two error body forms, the throttles that
 * arrive as 403 (the fetch layer retries what google_throttle_reason
 * finds), and the hints: what an administrator should check for a token
 * refusal (delegation, scopes, the key, the clock) or an API refusal. */
#include "vendor/google/google_int.h"
#include "core/clock.h"
#include "core/err.h"
#include "net/http.h"
#include "vendor/google/google.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

/* ---- error bodies and hints ---- */

static const char *const throttles[] = {"userRateLimitExceeded", "rateLimitExceeded",
					"quotaExceeded", "RESOURCE_EXHAUSTED"};

static int is_throttle(const char *r)
{
	for (size_t i = 0; r && i < sizeof throttles / sizeof throttles[0]; i++)
		if (!strcmp(r, throttles[i]))
			return 1;
	return 0;
}

/* Google sends quota errors as 403 with a reason in errors[] (or a status
 * RESOURCE_EXHAUSTED): the fetch layer retries what this finds. */
void google_throttle_reason(const struct http_resp *r, char *out, size_t n)
{
	cJSON *j = r->body.data ? cJSON_ParseWithLength(r->body.data, r->body.len) : NULL;
	const cJSON *err = cJSON_GetObjectItemCaseSensitive(j, "error"), *x;
	const char *found = NULL;
	cJSON_ArrayForEach(x, cJSON_GetObjectItemCaseSensitive(err, "errors")) {
		const cJSON *reason = cJSON_GetObjectItemCaseSensitive(x, "reason");
		if (!found && cJSON_IsString(reason) && is_throttle(reason->valuestring))
			found = reason->valuestring;
	}
	const cJSON *st = cJSON_GetObjectItemCaseSensitive(err, "status");
	if (!found && cJSON_IsString(st) && is_throttle(st->valuestring))
		found = st->valuestring;
	/* the gRPC-style form has no errors[]: an ErrorInfo says it instead */
	cJSON_ArrayForEach(x, cJSON_GetObjectItemCaseSensitive(err, "details")) {
		const cJSON *reason = cJSON_GetObjectItemCaseSensitive(x, "reason");
		if (!found && cJSON_IsString(reason) &&
		    !strcmp(reason->valuestring, "RATE_LIMIT_EXCEEDED"))
			found = "rateLimitExceeded";
	}
	if (found)
		snprintf(out, n, "%s", found);
	cJSON_Delete(j);
}

/* Reads both of Google's error shapes: the OAuth one of the token endpoint
 * {"error": code, "error_description": text} and the API one {"error":
 * {"code", "message", "errors": [{"reason"}], "status", "details"}}. */
static void error_body(const struct http_resp *r, char *code, size_t cn, char *said, size_t sn,
		       int *json)
{
	cJSON *j = r->body.data ? cJSON_ParseWithLength(r->body.data, r->body.len) : NULL;
	const cJSON *err = cJSON_GetObjectItemCaseSensitive(j, "error");
	const cJSON *c = NULL, *m = NULL;
	*json = j != NULL;
	if (cJSON_IsString(err)) {
		c = err;
		m = cJSON_GetObjectItemCaseSensitive(j, "error_description");
	} else if (cJSON_IsObject(err)) {
		const cJSON *first = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(err, "errors"), 0);
		c = cJSON_GetObjectItemCaseSensitive(first, "reason");
		if (!cJSON_IsString(c)) { /* newer front ends: ErrorInfo in details[] */
			const cJSON *d;
			cJSON_ArrayForEach(d, cJSON_GetObjectItemCaseSensitive(err, "details")) {
				const cJSON *dr = cJSON_GetObjectItemCaseSensitive(d, "reason");
				if (!cJSON_IsString(c) && cJSON_IsString(dr))
					c = dr;
			}
		}
		if (!cJSON_IsString(c))
			c = cJSON_GetObjectItemCaseSensitive(err, "status");
		m = cJSON_GetObjectItemCaseSensitive(err, "message");
	}
	snprintf(code, cn, "%s", cJSON_IsString(c) ? c->valuestring : "");
	snprintf(said, sn, "%s", cJSON_IsString(m) ? m->valuestring : "");
	cJSON_Delete(j);
}

static void token_hint(struct google *g, struct rt_err *e, const char *said)
{
	const char *c = e->code, *sub = g->go->subject;
	const char *cid = g->client_id ? g->client_id : "(the service account's Unique ID)";
	const char *name = g->go->key_name ? g->go->key_name : "the stored key";
	if (!strcmp(c, "unauthorized_client")) {
		e->kind = ERR_AUTH;
		err_hint(e, "domain-wide delegation is not set up: add client id %s with exactly the "
			    "scopes %s in the Admin console > Security > Access and data control > API "
			    "controls > Domain-wide delegation (a super admin; up to 24 h to apply)",
			 cid, g->scope_list.data);
	} else if (!strcmp(c, "invalid_grant")) {
		e->kind = ERR_AUTH;
		if (google_has_text(said, "signature"))
			err_hint(e, "Google no longer knows key %s of %s: it was deleted or replaced in "
				    "the Cloud console (IAM > Service accounts > Keys); make a new JSON key "
				    "and store it in %s (creds set)",
				 g->key_id ? g->key_id : "(no private_key_id)", g->client_email, name);
		else if (google_has_text(said, "short-lived") || google_has_text(said, "timeframe") ||
			 google_has_text(said, "iat") || google_has_text(said, " exp"))
			err_hint(e, "this server's clock is off (an assertion is valid for one hour from "
				    "its iat, which was %.0f): set the clock with NTP", floor(clk_now()));
		else if (google_has_text(said, "email") || google_has_text(said, "user id"))
			err_hint(e, sub ? "the subject %s is not a user of the Workspace domain (or is "
					  "misspelled): name an existing admin (subject = in the job, "
					  "--subject)"
					: "the service account %s is not valid: check client_email in the "
					  "key file",
				 sub ? sub : g->client_email);
		else if (google_has_text(said, "deleted") || google_has_text(said, "disabled"))
			err_hint(e, "the service account %s or the subject %s was deleted or disabled",
				 g->client_email, sub ? sub : "(none)");
		else
			err_hint(e, "Google refused the signed assertion; the causes: a deleted or "
				    "replaced key (\"Invalid JWT Signature\"), this server's clock off by "
				    "minutes (iat/exp), a subject that is not a user of the domain "
				    "(\"Invalid email or User ID\"), a deleted service account or subject");
	} else if (!strcmp(c, "invalid_client")) {
		e->kind = ERR_AUTH;
		err_hint(e, "Google does not know the service account %s, or it is disabled: check it "
			    "in the Cloud console (IAM > Service accounts) and the key in %s",
			 g->client_email, name);
	} else if (!strcmp(c, "invalid_scope")) {
		e->kind = ERR_CONFIG;
		err_hint(e, "Google refused the scopes %s: give full scope URLs or the short names "
			    "admin.directory.*.readonly (--scopes)", g->scope_list.data);
	} else if (e->status == 404 || e->status == 405 || e->status == 410) {
		e->kind = ERR_CONFIG;
		err_hint(e, "this is not Google's token endpoint: token_uri in the key file (or "
			    "--token-url) should name it");
	} else if (e->status >= 500) {
		err_hint(e, "Google's token endpoint is failing on its side; the run can be retried "
			    "later");
	} else if (e->status == 400 || e->status == 401 || e->status == 403) {
		e->kind = ERR_AUTH;
		err_hint(e, "Google refused the token request of %s: check the key in %s and the "
			    "domain-wide delegation of client id %s",
			 g->client_email, name, cid);
	}
}

static void api_hint(struct google *g, struct rt_err *e, const char *said)
{
	const char *c = e->code, *sub = g->go->subject;
	if (!strcmp(c, "accessNotConfigured") || !strcmp(c, "SERVICE_DISABLED") ||
	    google_has_text(said, "has not been used in project")) {
		e->kind = ERR_CONFIG;
		err_hint(e, "the Admin SDK API is not enabled in the service account's Cloud project "
			    "(named in the message): enable it in the Cloud console (APIs & Services > "
			    "Library > Admin SDK API), then wait a few minutes");
	} else if (e->status == 429 || is_throttle(c)) {
		err_hint(e, "Google's quota (by default 2400 queries a minute for the impersonated "
			    "admin) was exceeded on every try: lower --rate, or raise the quota in the "
			    "Cloud console (APIs & Services > Admin SDK API > Quotas)");
	} else if (!strcmp(c, "insufficientPermissions") ||
		   !strcmp(c, "ACCESS_TOKEN_SCOPE_INSUFFICIENT")) {
		e->kind = ERR_CONFIG;
		err_hint(e, "the token's scopes do not cover this list: add " SCOPE_PREFIX "%s to "
			    "--scopes and to the domain-wide delegation of client id %s (asked for: %s)",
			 g->need_scope, g->client_id ? g->client_id : "(the service account's)",
			 g->scope_list.data);
	} else if (e->status == 403) {
		e->kind = ERR_AUTH;
		if (!sub)
			err_hint(e, "the job must name an admin to impersonate (subject = an admin's "
				    "email in the job, --subject): the service account itself is not a "
				    "Workspace admin");
		else if (g->req == REQ_CUSTOMER && g->go->domain && !google_has_text(e->endpoint, "orgunits"))
			err_hint(e, "%s is not a domain of this Workspace customer, or %s is not a "
				    "Workspace admin whose role can read users and groups (Admin console > "
				    "Account > Admin roles): check --domain and the admin role",
				 g->go->domain, sub);
		else
			err_hint(e, "%s is not a Workspace admin, or its admin role cannot read users, "
				    "groups or org units: give it a role with those read privileges "
				    "(Admin console > Account > Admin roles)%s",
				 sub, g->req == REQ_MEMBERS ? "; or the group belongs to another domain"
							    : "");
	} else if (e->status == 401) {
		err_hint(e, "Google refused the access token, a new one included: check the "
			    "domain-wide delegation of client id %s and that %s is still an admin",
			 g->client_id ? g->client_id : "(the service account's)", sub ? sub : "the subject");
	} else if (g->req == REQ_CUSTOMER &&
		   (e->status == 404 || (e->status == 400 && (!strcmp(c, "badRequest") ||
							      google_has_text(said, "customer") ||
							      google_has_text(said, "domain"))))) {
		e->kind = ERR_CONFIG;
		if (g->go->domain && !google_has_text(e->endpoint, "orgunits"))
			err_hint(e, "%s is not a domain of this Workspace customer, or %s is not an "
				    "admin in it: check --domain (domain = in the job)",
				 g->go->domain, sub ? sub : "the subject");
		else if (!g->go->customer)
			err_hint(e, "the impersonated admin %s is not in the domain of customer "
				    "my_customer (Google found no customer for it): impersonate an admin "
				    "of the district's own Workspace, or name its customer ID (--customer "
				    "ID; Admin console > Account > Account settings)",
				 sub ? sub : "(none: name one with --subject)");
		else
			err_hint(e, "customer %s is not the customer of the impersonated admin %s: "
				    "check the customer ID (Admin console > Account > Account settings), "
				    "or leave --customer out for my_customer",
				 g->go->customer, sub ? sub : "(none)");
	} else if (e->status == 400) {
		err_hint(e, "Google refused the request's parameters: the message says which");
	} else if (e->status >= 500) {
		err_hint(e, "Google failed on its side (backendError is transient, more frequent on "
			    "long lists): the run can be retried later");
	}
}

/* The explain hook: the vendor's code and text, and what to check. */
void google_explain(struct rt_err *e, const struct http_resp *r, void *ud)
{
	struct google *g = ud;
	char code[96], said[256];
	int json;
	if (r->transport_error)
		return; /* the library's hint about the network stays */
	error_body(r, code, sizeof code, said, sizeof said, &json);
	if (code[0])
		snprintf(e->code, sizeof e->code, "%s", code);
	size_t l = strlen(e->msg);
	if (said[0] && !strcasestr(e->msg, said)) /* not "Bad Request: Bad Request" */
		snprintf(e->msg + l, sizeof e->msg - l, ": %.300s", said);
	else if (!json && r->body.len)
		snprintf(e->msg + l, sizeof e->msg - l, " with a non-JSON body");
	err_redact_str(e->msg);
	if (!g) /* no run of ours is going on: no hint to give */
		return;
	if (g->req == REQ_TOKEN)
		token_hint(g, e, said);
	else
		api_hint(g, e, said);
}
