#include "auth/oauth2.h"
#include "core/b64.h"
#include "core/clock.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void oauth2_token_init(struct oauth2_token *t)
{
	memset(t, 0, sizeof *t);
	buf_init(&t->access_token, 64 * 1024);
}

void oauth2_token_free(struct oauth2_token *t)
{
	buf_wipe(&t->access_token);
}

/* The form body; with_secret adds client_id and client_secret to it. */
static int form(struct buf *b, const char *id, const char *secret, const char *scope, int with_secret)
{
	int rc = buf_adds(b, "grant_type=client_credentials");
	if (scope && *scope) {
		rc |= buf_adds(b, "&scope=");
		rc |= pct_encode(scope, b);
	}
	if (with_secret) {
		rc |= buf_adds(b, "&client_id=");
		rc |= pct_encode(id, b);
		rc |= buf_adds(b, "&client_secret=");
		rc |= pct_encode(secret, b);
	}
	return rc;
}

static int parse_token(const struct http_resp *r, struct oauth2_token *t, struct rt_err *e)
{
	cJSON *j = cJSON_ParseWithLength(r->body.data ? r->body.data : "", r->body.len);
	cJSON *at = cJSON_GetObjectItemCaseSensitive(j, "access_token");
	cJSON *exp = cJSON_GetObjectItemCaseSensitive(j, "expires_in");
	int rc = -1;
	if (!cJSON_IsString(at) || !*at->valuestring) {
		err_set(e, ERR_AUTH, "the token endpoint answered %s without an access_token",
			j ? "JSON" : "something that is not JSON");
		err_hint(e, "check the token URL in the job: it should be the vendor's OAuth 2 token endpoint");
	} else {
		buf_reset(&t->access_token);
		buf_adds(&t->access_token, at->valuestring);
		err_redact_add(at->valuestring);
		/* wipe cJSON's copy of the token before it is freed */
		explicit_bzero(at->valuestring, strlen(at->valuestring));
		t->expires_at = cJSON_IsNumber(exp) ? clk_now() + exp->valuedouble
			      : cJSON_IsString(exp) ? clk_now() + atof(exp->valuestring) : 0;
		rc = 0;
	}
	cJSON_Delete(j);
	return rc;
}

/* RFC 6749 section 5.2: {"error": code, "error_description": text}. */
static void oauth2_error_body(const struct http_resp *r, struct rt_err *e)
{
	cJSON *j = r->body.data ? cJSON_ParseWithLength(r->body.data, r->body.len) : NULL;
	const cJSON *code = cJSON_GetObjectItemCaseSensitive(j, "error");
	const cJSON *desc = cJSON_GetObjectItemCaseSensitive(j, "error_description");
	if (cJSON_IsString(code) && !e->code[0])
		snprintf(e->code, sizeof e->code, "%.90s", code->valuestring);
	if (cJSON_IsString(desc)) {
		/* the first line: Microsoft appends Trace ID, Correlation ID and
		 * Timestamp lines, which would break log lines apart */
		char first[208];
		snprintf(first, sizeof first, "%.*s", (int)strcspn(desc->valuestring, "\r\n"),
			 desc->valuestring);
		if (first[0] && !strstr(e->msg, first)) {
			size_t l = strlen(e->msg);
			snprintf(e->msg + l, sizeof e->msg - l, ": %.200s", first);
		}
	}
	cJSON_Delete(j);
}

static int client_credentials(struct source *s, const char *token_url, const char *id,
			      const char *secret, const char *scope, int body_only,
			      struct oauth2_token *t, struct rt_err *e)
{
	static const char *const hdr[] = {"Content-Type: application/x-www-form-urlencoded",
					  "Accept: application/json", NULL};
	struct buf userpwd, body;
	struct http_resp r;
	int rc;
	buf_init(&userpwd, 64 * 1024);
	buf_init(&body, 64 * 1024);
	http_resp_init(&r, 1 << 20);
	if (!body_only)
		buf_printf(&userpwd, "%s:%s", id, secret);
	form(&body, id, secret, scope, body_only);
	struct fetch_req q = {.method = "POST", .url = token_url, .headers = hdr,
			      .body = body.data, .body_len = body.len,
			      .userpwd = body_only ? NULL : userpwd.data};
	rc = source_fetch(s, &q, &r, e);
	if (rc)
		oauth2_error_body(&r, e);
	t->used_body_auth = body_only && rc == 0;
	/* fall back only when the client authentication itself was refused:
	 * resending the secret for a bad scope or grant would change nothing */
	if (rc && !body_only &&
	    (!strcmp(e->code, "invalid_client") || (e->status == 401 && !e->code[0]))) {
		/* fallback: credentials in the body instead of Basic */
		buf_wipe(&body);
		buf_init(&body, 64 * 1024);
		form(&body, id, secret, scope, 1);
		struct fetch_req q2 = {.method = "POST", .url = token_url, .headers = hdr,
				       .body = body.data, .body_len = body.len};
		err_clear(e);
		rc = source_fetch(s, &q2, &r, e);
		if (rc)
			oauth2_error_body(&r, e);
		t->used_body_auth = rc == 0;
	}
	if (rc == 0)
		err_clear(e); /* the first attempt's refusal is not this answer's error */
	if (rc == 0) {
		rc = parse_token(&r, t, e);
		if (rc)
			err_where(e, s->name, e->endpoint[0] ? e->endpoint : NULL);
	} else if ((e->status == 400 || e->status == 401) && !e->hint[0]) {
		err_hint(e, "the client id \"%s\" or its secret was refused by the token endpoint: "
			 "check both in the job's credentials (the secret may have expired or been rotated)",
			 id);
	}
	buf_wipe(&userpwd);
	buf_wipe(&body);
	/* the token response may echo the token: wipe the body too */
	buf_wipe(&r.body);
	http_resp_free(&r);
	return rc;
}

int oauth2_client_credentials(struct source *s, const char *token_url, const char *id,
			      const char *secret, const char *scope, struct oauth2_token *t,
			      struct rt_err *e)
{
	return client_credentials(s, token_url, id, secret, scope, 0, t, e);
}

int oauth2_client_credentials_form(struct source *s, const char *token_url, const char *id,
				   const char *secret, const char *scope, struct oauth2_token *t,
				   struct rt_err *e)
{
	return client_credentials(s, token_url, id, secret, scope, 1, t, e);
}
