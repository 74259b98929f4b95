/* Google's throttles that arrive as 403 (the vendor reference's table):
 * the hook finds them in both error forms, and with the fetch layer's
 * classification they are retried as throttles; every other 403 is not. */
#include "net/http.h"
#include "net/retry.h"
#include "vendor/google/google.h"
#include "tap.h"

#include <stdio.h>
#include <string.h>

/* The hook's reason for a 403 with this body ("" when none). */
static void reason_of(const char *body, char *out, size_t n)
{
	struct http_resp r;
	http_resp_init(&r, 1 << 16);
	r.status = 403;
	buf_adds(&r.body, body);
	out[0] = 0;
	google_throttle_reason(&r, out, n);
	http_resp_free(&r);
}

/* The class fetch.c gives a 403 with this body. */
static enum retry_class class_of(const char *body, char *reason, size_t n)
{
	reason_of(body, reason, n);
	return retry_classify(0, 403, reason[0] != 0);
}

int main(void)
{
	static const char *const throttles[] = {"userRateLimitExceeded", "rateLimitExceeded",
						"quotaExceeded", "RESOURCE_EXHAUSTED"};
	char body[512], reason[96];
	for (int i = 0; i < 4; i++) {
		snprintf(body, sizeof body,
			 "{\"error\":{\"code\":403,\"message\":\"slow down\",\"errors\":[{\"domain\":"
			 "\"usageLimits\",\"reason\":\"%s\",\"message\":\"slow down\"}]}}",
			 throttles[i]);
		enum retry_class c = class_of(body, reason, sizeof reason);
		tap_ok(c == RC_THROTTLE && !strcmp(reason, throttles[i]),
		       "403 with errors[].reason %s is a throttle (reason \"%s\")", throttles[i],
		       reason);
	}
	enum retry_class c = class_of("{\"error\":{\"code\":403,\"status\":\"RESOURCE_EXHAUSTED\","
				      "\"message\":\"Quota exceeded\"}}",
				      reason, sizeof reason);
	tap_ok(c == RC_THROTTLE && !strcmp(reason, "RESOURCE_EXHAUSTED"),
	       "403 with status RESOURCE_EXHAUSTED is a throttle");
	c = class_of("{\"error\":{\"code\":403,\"status\":\"PERMISSION_DENIED\",\"details\":[{"
		     "\"@type\":\"type.googleapis.com/google.rpc.ErrorInfo\",\"reason\":"
		     "\"RATE_LIMIT_EXCEEDED\"}]}}",
		     reason, sizeof reason);
	tap_ok(c == RC_THROTTLE && !strcmp(reason, "rateLimitExceeded"),
	       "403 with an ErrorInfo RATE_LIMIT_EXCEEDED is a throttle (rateLimitExceeded)");

	static const char *const not_throttles[] = {"", "forbidden", "insufficientPermissions",
						    "ratelimitexceeded", "rateLimitExceededX"};
	for (int i = 0; i < 5; i++) {
		snprintf(body, sizeof body,
			 "{\"error\":{\"code\":403,\"errors\":[{\"reason\":\"%s\"}]}}",
			 not_throttles[i]);
		c = class_of(body, reason, sizeof reason);
		tap_ok(c == RC_FAIL && !reason[0], "403 with reason \"%s\" is not retried",
		       not_throttles[i]);
	}
	c = class_of("{\"error\":{\"code\":403,\"status\":\"PERMISSION_DENIED\"}}", reason,
		     sizeof reason);
	tap_ok(c == RC_FAIL && !reason[0], "403 PERMISSION_DENIED is not retried");
	c = class_of("<html>Forbidden</html>", reason, sizeof reason);
	tap_ok(c == RC_FAIL && !reason[0], "403 with an HTML body is not retried");
	c = class_of("", reason, sizeof reason);
	tap_ok(c == RC_FAIL && !reason[0], "403 without a body is not retried");
	return tap_done();
}
