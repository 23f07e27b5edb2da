/*
 * t-aliases.c - unit tests for common/aliases
 *
 * The entry parser runs over text in memory (aliases_parse_mem); the
 * callbacks write what they see into a buffer, "name|line|value" per
 * entry and "KIND:text" per element, one a line, for check_str().
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/aliases.h"
#include "common/buf.h"
#include "common/log.h"
#include "common/map.h"
#include "common/util.h"
#include "t/unit/tap.h"

static struct buf t_out, t_why;

static int	 t_entry(void *, const char *, const char *, size_t, int,
		    struct buf *);
static int	 t_elem(enum alias_kind, const char *, size_t, void *);
static int	 t_stop(enum alias_kind, const char *, size_t, void *);
static int	 t_entry_stop(void *, const char *, const char *, size_t, int,
		    struct buf *);
static int	 t_join(enum alias_kind, const char *, size_t, void *);
static const char *t_parse(const char *);
static const char *t_split(const char *);
static int	 t_roundtrip(const char *);

/* t_entry - "name|line|value\n" */
static int
t_entry(void *arg, const char *name, const char *value, size_t vlen,
    int lineno, struct buf *why)
{
	(void)arg;
	(void)why;
	buf_printf(&t_out, "%s|%d|", name, lineno);
	buf_add(&t_out, value, vlen);
	buf_addc(&t_out, '\n');
	return 0;
}

/* t_entry_stop - the callback refuses the second entry */
static int
t_entry_stop(void *arg, const char *name, const char *value, size_t vlen,
    int lineno, struct buf *why)
{
	int	*n = arg;

	(void)name;
	(void)value;
	(void)vlen;
	if (++*n == 2) {
		buf_sets(why, "stopped");
		return -1;
	}
	(void)lineno;
	return 0;
}

/* t_elem - "KIND:text\n" into the buffer given (or t_out) */
static int
t_elem(enum alias_kind kind, const char *text, size_t len, void *arg)
{
	struct buf	*out = arg != NULL ? arg : &t_out;

	buf_printf(out, "%s:", aliases_kind_name(kind));
	buf_add(out, text, len);
	buf_addc(out, '\n');
	return 0;
}

/* t_stop - stop at the second element */
static int
t_stop(enum alias_kind kind, const char *text, size_t len, void *arg)
{
	int	*n = arg;

	(void)kind;
	(void)text;
	(void)len;
	return ++*n == 2 ? 1 : 0;
}

/* t_join - append an element to the value being joined */
static int
t_join(enum alias_kind kind, const char *text, size_t len, void *arg)
{
	struct buf	*joined = arg;

	if (joined->len > 0)
		buf_adds(joined, ", ");
	return aliases_format_element(joined, kind, text, len);
}

/* t_parse - what the entry parser sees, or "error: why" */
static const char *
t_parse(const char *text)
{
	buf_reset(&t_out);
	buf_reset(&t_why);
	if (aliases_parse_mem("al", text, strlen(text), t_entry, NULL,
	    &t_why) != 0) {
		buf_adds(&t_out, "error: ");
		buf_adds(&t_out, buf_str(&t_why));
	}
	return buf_str(&t_out);
}

/* t_split - the elements of a value, or "error: why" */
static const char *
t_split(const char *value)
{
	buf_reset(&t_out);
	buf_reset(&t_why);
	if (aliases_split_value(value, strlen(value), t_elem, NULL,
	    &t_why) != 0) {
		buf_adds(&t_out, "error: ");
		buf_adds(&t_out, buf_str(&t_why));
	}
	return buf_str(&t_out);
}

/* t_roundtrip - the joined elements split into the same elements */
static int
t_roundtrip(const char *value)
{
	struct buf	 a, b, joined;
	int		 ok;

	buf_init(&a, 1 << 20);
	buf_init(&b, 1 << 20);
	buf_init(&joined, 1 << 20);
	ok = aliases_split_value(value, strlen(value), t_elem, &a,
	    &t_why) == 0 &&
	    aliases_split_value(value, strlen(value), t_join, &joined,
	    &t_why) == 0 &&
	    aliases_split_value(buf_str(&joined), joined.len, t_elem, &b,
	    &t_why) == 0 &&
	    strcmp(buf_str(&a), buf_str(&b)) == 0;
	if (!ok)
		tap_diag("round trip of [%s] via [%s]: [%s] vs [%s]", value,
		    buf_str(&joined), buf_str(&a), buf_str(&b));
	buf_free(&a);
	buf_free(&b);
	buf_free(&joined);
	return ok;
}

static void
t_entries(void)
{
	check_str(t_parse(
	    "# the file\n"
	    "Root: jane\n"
	    "list:a,\n"
	    "  b\n"
	    "\n"
	    "# inside\n"
	    "\tc\n"
	    "\"Two Words\" :x\n"
	    "\"q\\\"uote\\\\\": y\n"
	    "colon::z\n"
	    "tab:\t\"|cmd\"\t\n"),
	    "root|2|jane\n"
	    "list|3|a, b c\n"
	    "two words|8|x\n"
	    "q\"uote\\|9|y\n"
	    "colon|10|:z\n"
	    "tab|11|\"|cmd\"\n");
	check_str(t_parse(""), "");
	check_str(t_parse("# only a comment\n\n  \n"), "");
	check_str(t_parse("a: b\r\nc: d"), "a|1|b\nc|2|d\n");
}

static void
t_entry_errors(void)
{
	char	*big;
	size_t	 n;

	check_str(t_parse("a: b\nno colon here\n"),
	    "a|1|b\nerror: al, line 2: missing colon after alias name");
	check_str(t_parse("a:\n"),
	    "error: al, line 1: missing value after \"a:\"");
	check_str(t_parse("a:    \n"),
	    "error: al, line 1: missing value after \"a:\"");
	check_str(t_parse(": b\n"), "error: al, line 1: empty alias name");
	check_str(t_parse("\"\": b\n"), "error: al, line 1: empty alias name");
	check_str(t_parse("u@example.org: b\n"),
	    "error: al, line 1: alias name must be local: u@example.org");
	check_str(t_parse("a b: c\n"),
	    "error: al, line 1: alias name with white space or quotes must "
	    "be quoted: a b");
	check_str(t_parse("a\"b: c\n"),
	    "error: al, line 1: alias name with white space or quotes must "
	    "be quoted: a\"b");
	check_str(t_parse("\"ab: c\n"),
	    "error: al, line 1: unterminated quoted alias name");
	check_str(t_parse("\"ab\" c: d\n"),
	    "error: al, line 1: missing colon after alias name");
	check_str(t_parse("a: \"b\n"),
	    "error: al, line 1: unterminated quoted string");
	check_str(t_parse("a: b, |\n"),
	    "error: al, line 1: empty command after |");
	check_str(t_parse("x: y\n  a: b\n c\n"), "x|1|y a: b c\n");
	check_str(t_parse("  a: b\n"),
	    "error: al, line 1: continuation line (it starts with white "
	    "space) with no line before it");
	check_str(t_parse("a: b\x1b[2J\n"),
	    "error: al, line 1: control character (0x1b) in line");

	/* Names and values at and past their limits. */
	big = malloc(MAP_VALUE_MAX + 64);
	check(big != NULL);
	if (big == NULL)
		return;
	memset(big, 'n', MAP_KEY_MAX);
	memcpy(big + MAP_KEY_MAX, ": v\n", 5);
	check_int(strlen(t_parse(big)), ==, MAP_KEY_MAX + 5);
	memset(big, 'n', MAP_KEY_MAX + 1);
	memcpy(big + MAP_KEY_MAX + 1, ": v\n", 5);
	check_str(t_parse(big), "error: al, line 1: alias name too long "
	    "(more than 1024 bytes)");
	memcpy(big, "a: ", 3);
	n = 3 + MAP_VALUE_MAX;
	memset(big + 3, 'v', MAP_VALUE_MAX);
	big[n] = '\0';
	check_int(strlen(t_parse(big)), ==, 4 + MAP_VALUE_MAX + 1);
	big[n] = 'v';
	big[n + 1] = '\0';
	check_str(t_parse(big),
	    "error: al, line 1: value too long (more than 65536 bytes)");
	free(big);
}

static void
t_entry_stop_cb(void)
{
	int	 n = 0;

	buf_reset(&t_why);
	check_int(aliases_parse_mem("al", "a: b\nc: d\ne: f\n", 15,
	    t_entry_stop, &n, &t_why), ==, -1);
	check_int(n, ==, 2);
	check_str(buf_str(&t_why), "stopped");
}

static void
t_kinds(void)
{
	check_str(t_split("jane"), "ADDR:jane\n");
	check_str(t_split("jane@example.org, \"jane doe\"@example.org"),
	    "ADDR:jane@example.org\nADDR:\"jane doe\"@example.org\n");
	check_str(t_split("\\jane, \\ joe, \\\"a, b\"@x"),
	    "NOALIAS:jane\nNOALIAS:joe\nNOALIAS:\"a, b\"@x\n");
	check_str(t_split("|/usr/bin/vacation jane, | cat"),
	    "COMMAND:/usr/bin/vacation jane\nCOMMAND: cat\n");
	check_str(t_split("\"|/usr/bin/procmail -a x,y\""),
	    "COMMAND:/usr/bin/procmail -a x,y\n");
	check_str(t_split("\"|echo \\\"hi\\\"\""), "COMMAND:echo \"hi\"\n");
	check_str(t_split("/var/log/x, \"/tmp/a,b\", \"/tmp/sp \""),
	    "FILE:/var/log/x\nFILE:/tmp/a,b\nFILE:/tmp/sp \n");
	check_str(t_split(":include:/etc/l, :Include: /etc/m ,"
	    "\":include: /a,b \""),
	    "INCLUDE:/etc/l\nINCLUDE:/etc/m\nINCLUDE:/a,b\n");
	check_str(t_split("\"jane\", \"\", \"\\\\x\""),
	    "ADDR:\"jane\"\nADDR:\"\"\nADDR:\"\\\\x\"\n");
	check_str(t_split(" a ,, , b,"), "ADDR:a\nADDR:b\n");
	check_str(t_split(""), "");
	check_str(t_split(" , "), "");
	check_str(t_split("a\tb, c"), "ADDR:a\tb\nADDR:c\n");
}

static void
t_split_errors(void)
{
	char	*big;
	int	 n = 0;

	check_str(t_split("a, \"b"), "error: unterminated quoted string");
	check_str(t_split("\"b\\"), "error: unterminated quoted string");
	check_str(t_split("\"b\\\""), "error: unterminated quoted string");
	check_str(t_split("|"), "error: empty command after |");
	check_str(t_split("|   "), "error: empty command after |");
	check_str(t_split("\"|  \""), "error: empty command after |");
	check_str(t_split("\\"), "error: missing user name after the "
	    "backslash");
	check_str(t_split(":include:"), "error: missing file name after "
	    ":include:");
	check_str(t_split("\":include:  \""), "error: missing file name "
	    "after :include:");
	check_str(t_split("a\nb"), "error: control character in value");
	check_str(t_split("a\x7f"), "error: control character in value");
	/* A bad value: no element reaches the callback. */
	check_str(t_split("good, also-good, \"bad"),
	    "error: unterminated quoted string");
	check_str(t_split("good, |"), "error: empty command after |");
	buf_reset(&t_why);
	check_int(aliases_split_value("a\0b", 3, t_elem, NULL, &t_why), ==,
	    -1);
	/* The callback stops the walk. */
	check_int(aliases_split_value("a, b, c", 7, t_stop, &n, &t_why), ==,
	    -1);
	check_int(n, ==, 2);
	/* Too long. */
	big = malloc(MAP_VALUE_MAX + 2);
	check(big != NULL);
	if (big == NULL)
		return;
	memset(big, 'a', MAP_VALUE_MAX + 1);
	big[MAP_VALUE_MAX + 1] = '\0';
	check_str(t_split(big), "error: value too long (more than 65536 "
	    "bytes)");
	big[MAP_VALUE_MAX] = '\0';
	check_int(strlen(t_split(big)), ==, 5 + MAP_VALUE_MAX + 1);
	free(big);
}

static void
t_hostile(void)
{
	struct buf	 v;
	int		 i;

	/* Many elements, many commas, long quoted strings. */
	buf_init(&v, MAP_VALUE_MAX);
	for (i = 0; i < 5000; i++)
		buf_printf(&v, "u%d,", i);
	i = 0;
	check_int(aliases_split_value(v.data, v.len, t_stop, &i, &t_why), ==,
	    -1);
	i = 0;
	buf_reset(&t_out);
	check_int(aliases_split_value(v.data, v.len, t_elem, NULL, &t_why), ==,
	    0);
	check(strstr(buf_str(&t_out), "ADDR:u4999\n") != NULL);
	buf_reset(&v);
	buf_addc(&v, '"');
	for (i = 0; i < 20000; i++)
		buf_adds(&v, "\\\",");
	buf_addc(&v, '"');
	buf_reset(&t_out);
	check_int(aliases_split_value(v.data, v.len, t_elem, NULL, &t_why), ==,
	    0);
	check_int(t_out.len, ==, strlen("ADDR:") + v.len + 1);
	buf_reset(&v);
	for (i = 0; i < 20000; i++)
		buf_adds(&v, ",\"\"");
	check_int(aliases_split_value(v.data, v.len, t_elem, NULL, &t_why), ==,
	    0);
	buf_free(&v);
}

static void
t_format(void)
{
	static const char *const values[] = {
		"jane, \"jane doe\"@example.org, \"a,b\"@c",
		"\\jane, \\\"x, y\"@z",
		"|/bin/cat, \"|echo \\\"a, b\\\"\", \"| spaced \", |a\\b",
		"/x, \"/a,b\", \"/t \", /a\"b\", \"/q\\\"\"",
		":include:/x, \":include:/a,b\", \":include:/x\\\"\"",
		"\"\\|escaped\", \"\", \"\\\"x\\\"\"",
		"a\tb,\tc",
		"|echo \"a, b\" c",
		":include:\"x, y\"",
	};
	struct buf	 out;
	size_t		 i;

	for (i = 0; i < nitems(values); i++)
		check(t_roundtrip(values[i]));
	buf_init(&out, 1024);
	check_int(aliases_format_element(&out, ALIAS_COMMAND, "a,b", 3), ==,
	    BUF_OK);
	check_str(buf_str(&out), "\"|a,b\"");
	buf_reset(&out);
	check_int(aliases_format_element(&out, ALIAS_FILE, "/x", 2), ==,
	    BUF_OK);
	check_str(buf_str(&out), "/x");
	buf_reset(&out);
	check_int(aliases_format_element(&out, ALIAS_INCLUDE, "/a \"b\"", 6),
	    ==, BUF_OK);
	check_str(buf_str(&out), "\":include:/a \\\"b\\\"\"");
	buf_reset(&out);
	check_int(aliases_format_element(&out, ALIAS_NOALIAS, "j", 1), ==,
	    BUF_OK);
	check_str(buf_str(&out), "\\j");
	buf_free(&out);
	check_str(aliases_kind_name(ALIAS_INCLUDE), "INCLUDE");
	check_str(aliases_kind_name((enum alias_kind)99), "?");
}

int
main(void)
{
	log_init("t-aliases", "test");
	log_stderr(0);
	log_open(NULL, "/dev/null");
	buf_init(&t_out, 1 << 22);
	buf_init(&t_why, 4096);
	TEST(t_entries, "entries: names, continuation, comments, quotes");
	TEST(t_entry_errors, "entry errors name the line");
	TEST(t_entry_stop_cb, "the entry callback can stop the parse");
	TEST(t_kinds, "every element kind, quoted and not");
	TEST(t_split_errors, "bad values: no element reaches the callback");
	TEST(t_hostile, "many elements, many quotes");
	TEST(t_format, "formatted elements split back the same");
	buf_free(&t_out);
	buf_free(&t_why);
	return test_done();
}
