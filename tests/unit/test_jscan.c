/* jscan: tokens, escapes, errors at the right byte, nesting limit, paths. */
#include "format/jscan.h"
#include "tap.h"

#include <stdio.h>
#include <string.h>

static struct jscan js;

static int parse(const char *text)
{
	return jscan_parse(&js, text, strlen(text));
}

/* The unescaped text of a string token, in a static buffer. */
static const char *str(int tok)
{
	static struct buf b;
	buf_free(&b);
	buf_init(&b, 0);
	if (tok < 0 || jscan_unescape(&js, tok, &b))
		return "(none)";
	return b.data ? b.data : "";
}

static void is_str(int tok, const char *want, const char *name)
{
	const char *got = str(tok);
	tap_ok(!strcmp(got, want), "%s", name);
	if (strcmp(got, want))
		tap_diag("  got '%s', want '%s'", got, want);
}

static void tokens(void)
{
	TAP_EQ_INT(parse(" {\"a\": [1, -2.5e+3, true, false, null], \"b\": {}, \"c\": \"x\"} "), 0,
		   "an object with every kind of value parses");
	TAP_EQ_INT(js.ntok, 12, "12 tokens");
	TAP_EQ_INT(js.tok[0].type, JSCAN_OBJECT, "the root is an object");
	TAP_EQ_INT(js.tok[0].size, 3, "with 3 members");
	TAP_EQ_INT(js.tok[0].start, 1, "starting at its brace");
	TAP_EQ_INT(js.tok[0].end, (long long)strlen(" {\"a\": [1, -2.5e+3, true, false, null], \"b\": {}, \"c\": \"x\"}"),
		   "ending after its closing brace");
	TAP_EQ_INT(js.tok[2].type, JSCAN_ARRAY, "a's value is an array");
	TAP_EQ_INT(js.tok[2].size, 5, "of 5 elements");
	TAP_EQ_INT(js.tok[2].next, 8, "whose subtree ends before token 8");
	TAP_EQ_INT(js.tok[4].type, JSCAN_NUMBER, "-2.5e+3 is a number");
	tap_ok(js.tok[4].end - js.tok[4].start == 7, "spanning its 7 bytes");
	TAP_EQ_INT(js.tok[5].type, JSCAN_TRUE, "true");
	TAP_EQ_INT(js.tok[6].type, JSCAN_FALSE, "false");
	TAP_EQ_INT(js.tok[7].type, JSCAN_NULL, "null");
	TAP_EQ_INT(js.tok[9].size, 0, "an empty object has no members");
	is_str(jscan_get(&js, 0, "c", 1), "x", "lookup of a key after a container");
	TAP_EQ_INT(jscan_get(&js, 0, "d", 1), -1, "a missing key is -1");
	TAP_EQ_INT(jscan_get(&js, 2, "a", 1), -1, "lookup in an array is -1");

	TAP_EQ_INT(parse("[[],[[]],{\"k\":[1]}]"), 0, "nested arrays parse");
	int n = 0;
	for (int k = 0, v = 1; k < js.tok[0].size; k++, v = js.tok[v].next)
		n++;
	TAP_EQ_INT(n, 3, "walking siblings by next visits 3 elements");
	TAP_EQ_INT(parse("\"just a string\""), 0, "a bare string is a JSON text");
	TAP_EQ_INT(parse("  42  "), 0, "so is a bare number with white space");
}

static void escapes(void)
{
	TAP_EQ_INT(parse("[\"a\\\"b\\\\c\\/d\\b\\f\\n\\r\\t\", \"plain\"]"), 0, "simple escapes parse");
	is_str(1, "a\"b\\c/d\b\f\n\r\t", "and unescape");
	TAP_EQ_INT(js.tok[1].escaped, 1, "the string is marked escaped");
	TAP_EQ_INT(js.tok[2].escaped, 0, "a plain one is not");
	TAP_EQ_INT(parse("[\"\\u00e9\\u20AC\", \"\\ud83d\\ude00!\", \"\\ud800x\", \"\\udc00\", \"\\u0000\"]"), 0,
		   "\\u escapes parse");
	is_str(1, "\xc3\xa9\xe2\x82\xac", "\\u00e9 and \\u20AC become UTF-8");
	is_str(2, "\xf0\x9f\x98\x80!", "a surrogate pair becomes one 4-byte character");
	is_str(3, "\xef\xbf\xbdx", "a lone high surrogate becomes U+FFFD");
	is_str(4, "\xef\xbf\xbd", "a lone low surrogate becomes U+FFFD");
	struct buf b;
	buf_init(&b, 0);
	jscan_unescape(&js, 5, &b);
	tap_ok(b.len == 3 && !memcmp(b.data, "\xef\xbf\xbd", 3),
	       "\\u0000 becomes U+FFFD: a NUL would cut C strings downstream");
	buf_free(&b);

	TAP_EQ_INT(parse("{\"na\\u006de\": \"caf\\u00e9\", \"x\": \"caf\xc3\xa9\"}"), 0,
		   "escaped keys parse");
	is_str(jscan_get(&js, 0, "name", 4), "caf\xc3\xa9", "an escaped key is found by its text");
	tap_ok(jscan_streq(&js, 2, "caf\xc3\xa9", 5), "streq unescapes");
	tap_ok(!jscan_streq(&js, 2, "caf", 3), "streq wants the whole string");
	tap_ok(jscan_tokeq(&js, 2, 4), "tokeq: escaped and plain forms are equal");
	tap_ok(jscan_tokeq(&js, 4, 2), "both ways round");

	buf_init(&b, 0);
	TAP_EQ_INT(parse("[\"a\\u00e9\\n\", \"bad \xff byte\", 12.5, true, null, {}]"), 0, "put_string input");
	jscan_put_string(&js, 1, &b);
	jscan_put_string(&js, 2, &b);
	jscan_put_string(&js, 3, &b);
	jscan_put_string(&js, 4, &b);
	TAP_EQ_INT(jscan_put_string(&js, 5, &b), 1, "put_string refuses null");
	TAP_EQ_INT(jscan_put_string(&js, 6, &b), 1, "and objects");
	tap_ok(!strcmp(b.data, "\"a\xc3\xa9\\n\"\"bad \xef\xbf\xbd byte\"\"12.5\"\"true\""),
	       "put_string re-escapes, repairs UTF-8, quotes numbers and booleans");
	if (strcmp(b.data, "\"a\xc3\xa9\\n\"\"bad \xef\xbf\xbd byte\"\"12.5\"\"true\""))
		tap_diag("  got %s", b.data);
	buf_free(&b);
}

/* Each text is rejected at the byte marked by ^ in its pattern. */
static void errors(void)
{
	static const struct {
		const char *text, *mark, *what;
	} bad[] = {
		{"", "^", "empty text"},
		{"   ", "   ^", "only white space"},
		{"{\"a\" 1}", "     ^", "missing colon"},
		{"{\"a\":1,}", "       ^", "trailing comma in an object"},
		{"[1,]", "   ^", "trailing comma in an array"},
		{"[1 2]", "   ^", "missing comma"},
		{"{\"a\":1]", "      ^", "mismatched bracket"},
		{"{a:1}", " ^", "unquoted key"},
		{"[01]", "  ^", "leading zero"},
		{"[-]", "  ^", "minus without digits"},
		{"[1.]", "   ^", "no digit after the point"},
		{"[1e]", "   ^", "no digit in the exponent"},
		{"[tru]", "    ^", "truncated true"},
		{"[nul", "    ^", "truncated null at the end"},
		{"[True]", " ^", "capitalised literal"},
		{"\"abc", "    ^", "unterminated string"},
		{"[\"a\tb\"]", "   ^", "raw tab in a string"},
		{"[\"\\x\"]", "   ^", "unknown escape"},
		{"[\"\\u12G4\"]", "      ^", "bad hex digit"},
		{"[\"\\u12\"]", "      ^", "short \\u escape"},
		{"{} {}", "   ^", "two values"},
		{"[1", "  ^", "unclosed array"},
		{"{\"a\":", "     ^", "missing value at the end"},
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		int rc = parse(bad[i].text);
		size_t want = strlen(bad[i].mark) - 1;
		tap_ok(rc == -1 && js.err_pos == want, "rejected: %s (byte %zu)", bad[i].what, want);
		if (rc != -1 || js.err_pos != want)
			tap_diag("  rc %d, err_pos %zu (%s)", rc, js.err_pos, js.err ? js.err : "");
	}
	/* the length is what counts, not a NUL */
	TAP_EQ_INT(jscan_parse(&js, "[1]xyz", 3), 0, "only len bytes are read");
}

static void limits(void)
{
	struct jscan d;
	jscan_init(&d, 0, 4);
	TAP_EQ_INT(jscan_parse(&d, "[[[[1]]]]", 9), 0, "nesting at the limit parses");
	TAP_EQ_INT(jscan_parse(&d, "[[[[[1]]]]]", 11), -1, "one deeper is refused");
	TAP_EQ_INT(d.err_pos, 4, "at the opening bracket that is too deep");
	jscan_free(&d);

	char deep[JSCAN_DEPTH_LIMIT * 2 + 8];
	memset(deep, '[', sizeof deep - 1);
	deep[sizeof deep - 1] = 0;
	TAP_EQ_INT(parse(deep), -1, "a default-depth scanner refuses a very deep text without crashing");

	jscan_init(&d, 5, 0);
	TAP_EQ_INT(jscan_parse(&d, "[1,2,3,4]", 9), 0, "5 tokens fit a 5-token limit");
	TAP_EQ_INT(jscan_parse(&d, "[1,2,3,4,5]", 11), -1, "6 do not");
	jscan_free(&d);

	/* reuse: the token array grows once and is kept */
	char big[4096];
	size_t n = 0;
	big[n++] = '[';
	for (int i = 0; i < 1000; i++)
		n += (size_t)snprintf(big + n, sizeof big - n, "%s%d", i ? "," : "", i % 10);
	big[n++] = ']';
	TAP_EQ_INT(jscan_parse(&js, big, n), 0, "1001 tokens parse");
	struct jtok *kept = js.tok;
	TAP_EQ_INT(jscan_parse(&js, big, n), 0, "and again");
	tap_ok(js.tok == kept, "without a new allocation");
}

static void paths(void)
{
	const char *user =
		"{\"id\":\"u1\",\"name\":{\"first\":\"Maria\",\"last\":\"Rivera\"},"
		"\"roles\":{\"teacher\":{\"credentials\":{\"district_username\":\"mrivera\"},"
		"\"schools\":[\"s1\",\"s2\"],\"sis_id\":\"T-1042\"}}}";
	TAP_EQ_INT(parse(user), 0, "a Clever user parses");
	is_str(jscan_path(&js, 0, "roles.teacher.sis_id"), "T-1042", "roles.teacher.sis_id");
	is_str(jscan_path(&js, 0, "roles.teacher.credentials.district_username"), "mrivera",
	       "a four-step path");
	is_str(jscan_path(&js, 0, "name.last"), "Rivera", "name.last");
	TAP_EQ_INT(jscan_path(&js, 0, "roles.student.sis_id"), -1, "a missing step gives -1");
	TAP_EQ_INT(jscan_path(&js, 0, "id.x"), -1, "a path through a string gives -1");
	TAP_EQ_INT(jscan_path(&js, 0, "name.firs"), -1, "a key prefix does not match");
	int teacher = jscan_path(&js, 0, "roles.teacher");
	is_str(jscan_path(&js, teacher, "sis_id"), "T-1042", "a path from an inner object");
	int schools = jscan_path(&js, 0, "roles.teacher.schools");
	TAP_EQ_INT(js.tok[schools].size, 2, "the schools array has 2 elements");
	is_str(js.tok[schools + 1].next, "s2", "its second element follows the first");
}

int main(void)
{
	jscan_init(&js, 0, 0);
	tokens();
	escapes();
	errors();
	limits();
	paths();
	jscan_free(&js);
	str(-1);
	return tap_done();
}
