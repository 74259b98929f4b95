/* Masking of the secrets a process holds in every error text. */
#include "core/err.h"
#include "tap.h"

#include <stdio.h>
#include <string.h>

static void check(const char *in, const char *want, const char *name)
{
	char s[256];
	snprintf(s, sizeof s, "%s", in);
	err_redact_str(s);
	tap_ok(!strcmp(s, want), "%s", name);
	if (strcmp(s, want))
		tap_diag("  got \"%s\", want \"%s\"", s, want);
}

int main(void)
{
	check("bad secret Cn4ry+Sec/ret", "bad secret Cn4ry+Sec/ret",
	      "nothing is masked before a secret is registered");
	err_redact_add("Cn4ry+Sec/ret");
	err_redact_add("tok3n-c4n4ry-77");
	err_redact_add("abc"); /* too short to register: would mask ordinary text */
	check("bad secret Cn4ry+Sec/ret here", "bad secret ************* here",
	      "a registered secret is masked, the text around it kept");
	check("x=Cn4ry%2BSec%2Fret&y", "x=*****************&y", "its URL-encoded form too");
	check("tok3n-c4n4ry-77 and tok3n-c4n4ry-77", "*************** and ***************",
	      "every occurrence of each secret");
	check("the message was cut at tok3n-c4n", "the message was cut at *********",
	      "a message cut in the middle of a secret loses the part it holds");
	check("abc abcdef", "abc abcdef", "a secret under 6 bytes is not registered");
	check("tok3n", "tok3n", "a short tail that could be anything is kept");

	struct rt_err e;
	err_clear(&e);
	err_set(&e, ERR_AUTH, "vendor said: %s", "token tok3n-c4n4ry-77 lacks scope");
	err_hint(&e, "secret %s", "Cn4ry+Sec/ret");
	tap_ok(!strstr(e.msg, "tok3n-c4n4ry-77") && strstr(e.msg, "lacks scope"),
	       "err_set masks what it formats");
	tap_ok(!strstr(e.hint, "Cn4ry"), "err_hint masks what it formats");
	snprintf(e.code, sizeof e.code, "%s", "tok3n-c4n4ry-77");
	char line[512];
	err_format(&e, line, sizeof line);
	tap_ok(!strstr(line, "tok3n-c4n4ry-77"), "err_format masks a field set directly");
	err_redact(&e);
	tap_ok(!strcmp(e.code, "***************"), "err_redact masks every field");
	return tap_done();
}
