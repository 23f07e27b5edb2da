/*
 * t-addr.c - unit tests for common/addr and common/idn
 */
#include <stdlib.h>
#include <string.h>

#include "common/addr.h"
#include "common/buf.h"
#include "common/idn.h"
#include "common/util.h"
#include "t/unit/tap.h"

#define NUL_PATH	ADDR_ALLOW_NULL
#define SMTP_FROM	(ADDR_ALLOW_NULL | ADDR_NEED_ANGLE)
#define SMTP_RCPT	ADDR_NEED_ANGLE
#define ANY		(ADDR_ALLOW_NULL | ADDR_ALLOW_BARE | ADDR_UTF8)

/* One addr_parse_path() case: out NULL means an error containing err. */
struct path_case {
	const char	*in;
	int		 flags;
	const char	*out;
	const char	*err;
};

static const struct path_case path_cases[] = {
	/* plain, angle, null */
	{ "user@example.org", 0, "user@example.org", NULL },
	{ "<user@example.org>", 0, "user@example.org", NULL },
	{ "<user@example.org>", SMTP_RCPT, "user@example.org", NULL },
	{ "user@example.org", SMTP_RCPT, NULL, "missing '<'" },
	{ "<>", SMTP_FROM, "", NULL },
	{ "<>", SMTP_RCPT, NULL, "null address not allowed" },
	{ "<>", 0, NULL, "null address not allowed" },
	{ "", NUL_PATH, "", NULL },
	{ "", SMTP_FROM, NULL, "missing '<'" },
	{ "", 0, NULL, "empty address" },
	{ "<> ", SMTP_FROM, NULL, "text after '>'" },
	{ "<<>>", SMTP_FROM, NULL, "bad character in local part" },
	/* case, trailing dot */
	{ "User@EXAMPLE.Org", 0, "User@example.org", NULL },
	{ "u@example.org.", 0, "u@example.org", NULL },
	{ "u@example.org..", 0, NULL, "empty label in domain" },
	{ "u@.", 0, NULL, "empty domain" },
	{ "u@", 0, NULL, "empty domain" },
	{ "u@a..b", 0, NULL, "empty label in domain" },
	{ "u@.a", 0, NULL, "empty label in domain" },
	/* bare names */
	{ "root", 0, NULL, "address has no domain" },
	{ "root", ADDR_ALLOW_BARE, "root", NULL },
	{ "<root>", ADDR_ALLOW_BARE, "root", NULL },
	{ "<Postmaster>", SMTP_RCPT | ADDR_ALLOW_BARE, "Postmaster", NULL },
	{ "\"a b\"", ADDR_ALLOW_BARE, "\"a b\"", NULL },
	/* quoting */
	{ "\"a b\"@x", 0, "\"a b\"@x", NULL },
	{ "\"abc\"@x", 0, "abc@x", NULL },
	{ "\"a.b\"@x", 0, "a.b@x", NULL },
	{ "\"a..b\"@x", 0, "\"a..b\"@x", NULL },
	{ "\".a\"@x", 0, "\".a\"@x", NULL },
	{ "\"\"@x", 0, "\"\"@x", NULL },
	{ "\"x@y\"@z", 0, "\"x@y\"@z", NULL },
	{ "\"a\\\"b\"@x", 0, "\"a\\\"b\"@x", NULL },
	{ "\"a\\\\b\"@x", 0, "\"a\\\\b\"@x", NULL },
	{ "\"\\a\"@x", 0, "a@x", NULL },
	{ "\"a\"b@x", 0, NULL, "text after quoted local part" },
	{ "\"a@x", 0, NULL, "unterminated quoted string" },
	{ "\"a\\", 0, NULL, "bad quoted pair" },
	{ "<\"a>b\"@x>", 0, "\"a>b\"@x", NULL },
	/* dots */
	{ "a.b@x", 0, "a.b@x", NULL },
	{ "a..b@x", 0, NULL, "misplaced '.'" },
	{ ".a@x", 0, NULL, "misplaced '.'" },
	{ "a.@x", 0, NULL, "misplaced '.'" },
	{ "@x", 0, NULL, "empty local part" },
	/* percent and bang hacks are just characters */
	{ "user%host@relay", 0, "user%host@relay", NULL },
	{ "host!user@relay", 0, "host!user@relay", NULL },
	{ "a+tag=x/y{z}@x", 0, "a+tag=x/y{z}@x", NULL },
	/* more than one '@' */
	{ "a@b@c", 0, NULL, "more than one '@'" },
	{ "<a@b@c>", 0, NULL, "more than one '@'" },
	/* domains */
	{ "u@-a.b", 0, NULL, "begins or ends with '-'" },
	{ "u@a-.b", 0, NULL, "begins or ends with '-'" },
	{ "u@a-b.c", 0, "u@a-b.c", NULL },
	{ "u@a_b.c", 0, NULL, "bad character in domain" },
	{ "u@a b", 0, NULL, "bad character in domain" },
	{ "u@a,b", 0, NULL, "bad character in domain" },
	/* literals */
	{ "u@[1.2.3.4]", 0, "u@[1.2.3.4]", NULL },
	{ "u@[01.002.3.4]", 0, "u@[1.2.3.4]", NULL },
	{ "u@[1.2.3.256]", 0, NULL, "bad IPv4" },
	{ "u@[1.2.3]", 0, NULL, "bad IPv4" },
	{ "u@[1.2.3.4.5]", 0, NULL, "bad IPv4" },
	{ "u@[1.2.3.4", 0, NULL, "missing ']'" },
	{ "u@[]", 0, NULL, "bad address literal" },
	{ "u@[IPv6:2001:DB8:0:0:0:0:0:1]", 0, "u@[IPv6:2001:db8::1]", NULL },
	{ "u@[ipv6:::1]", 0, "u@[IPv6:::1]", NULL },
	{ "u@[IPv6:::ffff:192.0.2.1]", 0, "u@[IPv6:::ffff:192.0.2.1]",
	    NULL },
	{ "u@[IPv6:1::2::3]", 0, NULL, "bad IPv6" },
	{ "u@[IPv6:]", 0, NULL, "bad IPv6" },
	{ "u@[2001:db8::1]", 0, NULL, "bad IPv4" },
	{ "u@[x-tag:stuff]", 0, NULL, "unsupported address literal" },
	{ "<u@[1.2.3.4]>", SMTP_RCPT, "u@[1.2.3.4]", NULL },
	/* source routes */
	{ "<@a,@b:user@x>", 0, "user@x", NULL },
	{ "<@a.example:user@x>", SMTP_RCPT, "user@x", NULL },
	{ "<@a,b:user@x>", 0, NULL, "bad source route" },
	{ "<@:user@x>", 0, NULL, "bad domain in source route" },
	{ "<@a_b:user@x>", 0, NULL, "bad domain in source route" },
	{ "<@a,@b user@x>", 0, NULL, "bad source route" },
	{ "@a:user@x", 0, NULL, "empty local part" },
	/* angle brackets */
	{ "<u@x", 0, NULL, "missing closing '>'" },
	{ "<u@x> SIZE=10", SMTP_RCPT, NULL, "text after '>'" },
	{ "u@x>", 0, NULL, "bad character in domain" },
	{ "<u@x>>", 0, NULL, "text after '>'" },
	/* control characters and 8-bit */
	{ "u\r@x", 0, NULL, "control character" },
	{ "u@x\n", 0, NULL, "control character" },
	{ "u@x\tz", 0, NULL, "control character" },
	{ "\"a\x7f\"@x", 0, NULL, "control character" },
	{ "\"a\x01\"@x", ANY, NULL, "control character" },
	{ "u@b\xc3\xbc" "cher.de", 0, NULL, "non-ASCII" },
	{ "u@b\xc3\xbc" "cher.de", ADDR_UTF8, "u@b\xc3\xbc" "cher.de", NULL },
	{ "\xc3\xbc@x", ADDR_UTF8, "\xc3\xbc@x", NULL },
	{ "\"\xc3\xbc x\"@x", ADDR_UTF8, "\"\xc3\xbc x\"@x", NULL },
	{ "u@B\xc3\x9c" "CHER.de", ADDR_UTF8, "u@b\xc3\x9c" "cher.de", NULL },
	{ "\xfc@x", ADDR_UTF8, NULL, "invalid UTF-8" },
	{ "u@\xc0\xaf.de", ADDR_UTF8, NULL, "invalid UTF-8" },
	{ "u@\xed\xa0\x80.de", ADDR_UTF8, NULL, "invalid UTF-8" },
	{ "\"\\\xc3\xbc\"@x", ADDR_UTF8, NULL, "bad quoted pair" },
};

/* t_path_cases - the table above */
static void
t_path_cases(void)
{
	struct buf	 out, why;
	size_t		 i;
	int		 rc;

	buf_init(&out, ADDR_CANON_MAX);
	buf_init(&why, 256);
	for (i = 0; i < nitems(path_cases); i++) {
		const struct path_case	*c = &path_cases[i];

		buf_reset(&why);
		rc = addr_parse_path(c->in, strlen(c->in), c->flags, &out,
		    &why);
		if (c->out != NULL) {
			if (!check_int(rc, ==, 0))
				tap_diag("case %zu \"%s\": %s", i, c->in,
				    buf_str(&why));
			check_str(buf_str(&out), c->out);
		} else {
			if (!check_int(rc, ==, -1))
				tap_diag("case %zu \"%s\" gave \"%s\"", i,
				    c->in, buf_str(&out));
			if (!check(strstr(buf_str(&why), c->err) != NULL))
				tap_diag("case %zu \"%s\": \"%s\" lacks \"%s\"",
				    i, c->in, buf_str(&why), c->err);
		}
	}
	buf_free(&out);
	buf_free(&why);
}

/* t_path_nul - a NUL byte inside the length is an error, not an end */
static void
t_path_nul(void)
{
	struct buf	 out, why;

	buf_init(&out, ADDR_CANON_MAX);
	buf_init(&why, 256);
	check_int(addr_parse_path("a\0b@x", 5, ANY, &out, &why), ==, -1);
	check_str(buf_str(&why), "control character in address");
	check_int(addr_parse_path("<a@x>\0", 6, ANY, &out, &why), ==, -1);
	check_int(addr_parse_path("a@x\0", 3, 0, &out, &why), ==, 0);
	check_str(buf_str(&out), "a@x");
	buf_free(&out);
	buf_free(&why);
}

/* t_path_limits - label, domain and whole-address maxima */
static void
t_path_limits(void)
{
	struct buf	 in, out, why;
	size_t		 i;

	buf_init(&in, 4096);
	buf_init(&out, ADDR_CANON_MAX);
	buf_init(&why, 256);

	/* a 63-octet label passes, 64 does not */
	buf_sets(&in, "u@");
	for (i = 0; i < 63; i++)
		buf_addc(&in, 'a');
	buf_adds(&in, ".org");
	check_int(addr_parse_path(in.data, in.len, 0, &out, &why), ==, 0);
	buf_sets(&in, "u@a");
	for (i = 0; i < 63; i++)
		buf_addc(&in, 'a');
	check_int(addr_parse_path(in.data, in.len, 0, &out, &why), ==, -1);
	check_str(buf_str(&why), "domain label too long");

	/* a domain of 255 octets passes (plus a trailing dot), 256 not */
	buf_sets(&in, "u@");
	for (i = 0; i < 64; i++)
		buf_adds(&in, i < 63 ? "abc." : "abc");
	check_int(in.len, ==, 2 + 255);
	check_int(addr_parse_path(in.data, in.len, 0, &out, &why), ==, 0);
	buf_addc(&in, '.');
	check_int(addr_parse_path(in.data, in.len, 0, &out, &why), ==, 0);
	buf_truncate(&in, in.len - 1);
	buf_addc(&in, 'd');
	check_int(addr_parse_path(in.data, in.len, 0, &out, &why), ==, -1);
	check_str(buf_str(&why), "domain too long");

	/* a 100-octet local part is fine: RFC 5321's 64 is not enforced */
	buf_reset(&in);
	for (i = 0; i < 100; i++)
		buf_addc(&in, 'l');
	buf_adds(&in, "@x.org");
	check_int(addr_parse_path(in.data, in.len, 0, &out, &why), ==, 0);

	/* local@domain unquoted: 512 passes, 513 does not */
	buf_reset(&in);
	for (i = 0; i < ADDR_MAX - 6; i++)
		buf_addc(&in, 'l');
	buf_adds(&in, "@x.org");
	check_int(in.len, ==, ADDR_MAX);
	check_int(addr_parse_path(in.data, in.len, 0, &out, &why), ==, 0);
	buf_sets(&in, "l");
	for (i = 0; i < ADDR_MAX - 6; i++)
		buf_addc(&in, 'l');
	buf_adds(&in, "@x.org");
	check_int(addr_parse_path(in.data, in.len, 0, &out, &why), ==, -1);
	check_str(buf_str(&why), "address too long");

	/* quoted: 400 escaped quotes are 400 octets unquoted, 802 quoted */
	buf_sets(&in, "\"");
	for (i = 0; i < 400; i++)
		buf_adds(&in, "\\\"");
	buf_adds(&in, "\"@x");
	check_int(addr_parse_path(in.data, in.len, 0, &out, &why), ==, 0);
	check_int(out.len, ==, 400 * 2 + 2 + 2);

	/* a huge input is refused, never truncated */
	buf_reset(&in);
	for (i = 0; i < 4000; i++)
		buf_addc(&in, 'x');
	check_int(addr_parse_path(in.data, in.len, ADDR_ALLOW_BARE, &out,
	    &why), ==, -1);
	check_str(buf_str(&why), "address too long");

	/* a small output buffer is "address too long", not a crash */
	buf_free(&out);
	buf_init(&out, 4);
	check_int(addr_parse_path("abcdef@x", 8, 0, &out, &why), ==, -1);
	check_str(buf_str(&why), "address too long");

	buf_free(&in);
	buf_free(&out);
	buf_free(&why);
}

/* t_path_reparse - every canonical form parses back to itself */
static void
t_path_reparse(void)
{
	struct buf	 out, again, why;
	size_t		 i;

	buf_init(&out, ADDR_CANON_MAX);
	buf_init(&again, ADDR_CANON_MAX);
	buf_init(&why, 256);
	for (i = 0; i < nitems(path_cases); i++) {
		const struct path_case	*c = &path_cases[i];

		if (c->out == NULL || addr_parse_path(c->in, strlen(c->in),
		    c->flags, &out, &why) != 0)
			continue;
		check_int(addr_parse_path(out.data, out.len, ANY, &again,
		    &why), ==, 0);
		check_str(buf_str(&again), buf_str(&out));
	}
	buf_free(&out);
	buf_free(&again);
	buf_free(&why);
}

/* t_path_span - where the path ends in an SMTP argument */
static void
t_path_span(void)
{
	const char	*s;

	s = "<a@b> SIZE=10";
	check_int(addr_path_span(s, strlen(s)), ==, 5);
	s = "<\"a> b\"@x> BODY=8BITMIME";
	check_int(addr_path_span(s, strlen(s)), ==, 10);
	s = "<\"a\\\"> b\"@x>";
	check_int(addr_path_span(s, strlen(s)), ==, strlen(s));
	s = "<a@b";
	check_int(addr_path_span(s, strlen(s)), ==, 0);
	s = "a@b SIZE=1";
	check_int(addr_path_span(s, strlen(s)), ==, 3);
	s = "<>";
	check_int(addr_path_span(s, strlen(s)), ==, 2);
	check_int(addr_path_span("", 0), ==, 0);
}

/* t_split_make - the accessors */
static void
t_split_make(void)
{
	struct buf	 local, out, why;
	const char	*dom;

	buf_init(&local, ADDR_MAX);
	buf_init(&out, ADDR_CANON_MAX);
	buf_init(&why, 256);

	check_int(addr_split("user@example.org", &local, &dom, &why), ==, 0);
	check_str(buf_str(&local), "user");
	check_str(dom, "example.org");
	check_int(addr_split("\"a@b \\\"c\"@x", &local, &dom, &why), ==, 0);
	check_str(buf_str(&local), "a@b \"c");
	check_str(dom, "x");
	check_int(addr_split("root", &local, &dom, &why), ==, 0);
	check_str(buf_str(&local), "root");
	check(dom == NULL);
	check_int(addr_split("\"a b\"", &local, &dom, &why), ==, 0);
	check_str(buf_str(&local), "a b");
	check(dom == NULL);
	check_int(addr_split("", &local, &dom, &why), ==, 0);
	check_str(buf_str(&local), "");
	check(dom == NULL);
	check_int(addr_split("\"open", &local, &dom, &why), ==, -1);
	check_int(addr_split("\"a\"b", &local, &dom, &why), ==, -1);

	check_int(addr_make("a b", 3, "x", &out, &why), ==, 0);
	check_str(buf_str(&out), "\"a b\"@x");
	check_int(addr_make("a\"b\\", 4, NULL, &out, &why), ==, 0);
	check_str(buf_str(&out), "\"a\\\"b\\\\\"");
	check_int(addr_make("a.b", 3, "x", &out, &why), ==, 0);
	check_str(buf_str(&out), "a.b@x");
	check_int(addr_make("", 0, "x", &out, &why), ==, 0);
	check_str(buf_str(&out), "\"\"@x");

	check(addr_is_null(""));
	check(!addr_is_null("\"\"@x"));

	check(addr_utf8_valid("abc", 3));
	check(addr_utf8_valid("\xc3\xbc\xe2\x82\xac\xf0\x9f\x98\x80", 9));
	check(!addr_utf8_valid("\xc3", 1));
	check(!addr_utf8_valid("\xc0\x80", 2));
	check(!addr_utf8_valid("\xe0\x80\x80", 3));
	check(!addr_utf8_valid("\xed\xa0\x80", 3));
	check(!addr_utf8_valid("\xf4\x90\x80\x80", 4));
	check(!addr_utf8_valid("\xff", 1));
	buf_free(&local);
	buf_free(&out);
	buf_free(&why);
}

/* List results, collected as "addr|display|group;" per mailbox. */
static int
list_cb(const struct addr_mbox *mb, void *arg)
{
	struct buf	*b = arg;

	buf_printf(b, "%s|%s|%s%s;", mb->addr,
	    mb->display != NULL ? mb->display : "-",
	    mb->group != NULL ? mb->group : "-", mb->utf8 ? "|8" : "");
	return 0;
}

/* list_run - parse s: the mailboxes, then "error: why" on failure */
static const char *
list_run(struct buf *res, const char *s, size_t n)
{
	struct buf	 why;

	buf_reset(res);
	buf_init(&why, 256);
	if (addr_parse_list(s, n, list_cb, res, &why) != 0)
		buf_printf(res, "error: %s", buf_str(&why));
	buf_free(&why);
	return buf_str(res);
}

#define LIST(s)	list_run(&res, (s), strlen(s))

/* t_list - RFC 5322 address lists, real-mail forms */
static void
t_list(void)
{
	struct buf	 res;

	buf_init(&res, 65536);
	check_str(LIST(""), "");
	check_str(LIST("  (just a comment) "), "");
	check_str(LIST("root"), "root|-|-;");
	check_str(LIST("Logwatch <logwatch>"), "logwatch|Logwatch|-;");
	check_str(LIST("a@B.org, \"Smith, J\" <j@x>"),
	    "a@b.org|-|-;j@x|\"Smith, J\"|-;");
	check_str(LIST(",, a@b ,, , c@d ,"), "a@b|-|-;c@d|-|-;");
	check_str(LIST("user@host (Full Name)"), "user@host|-|-;");
	check_str(LIST("Dr. J. Who <who@x>"), "who@x|Dr. J. Who|-;");
	check_str(LIST("x@y <x@y>"), "x@y|x@y|-;");
	check_str(LIST("<@a,@b:u@x>"), "u@x|-|-;");
	check_str(LIST("<,@a,,@b:u@x>"), "u@x|-|-;");
	check_str(LIST("N <@a u@x>"), "error: bad route in address");
	check_str(LIST("undisclosed-recipients:;"), "");
	check_str(LIST("undisclosed-recipients:"), "");
	check_str(LIST("G: a@b, c;, d@e"), "a@b|-|G;c|-|G;d@e|-|-;");
	check_str(LIST("G: a; H: b;"), "a|-|G;b|-|H;");
	check_str(LIST("G : (x) ;"), "");
	check_str(LIST("G: H: a;;"), "error: group inside a group");
	check_str(LIST(": a;"), "error: group has no name");
	check_str(LIST("a;"), "a|-|-;error: ';' outside a group");
	check_str(LIST("a@b c@d"),
	    "error: bad address: text after it (missing '<'?)");
	check_str(LIST("a@b@c"), "error: more than one '@' in address");
	check_str(LIST("John Smith"),
	    "error: bad address: text after it (missing '<'?)");
	check_str(LIST("<>"), "error: empty address in '<>'");
	check_str(LIST("a>"), "error: unexpected '>'");
	check_str(LIST("<a@b"), "error: missing closing '>'");
	check_str(LIST("<a@b c>"), "error: bad address inside '<>'");
	check_str(LIST("\"open"), "error: unterminated quoted string");
	check_str(LIST("(open"), "error: unterminated comment");
	check_str(LIST("a@b)"), "error: unbalanced ')'");
	check_str(LIST("a@[1.2.3.4"), "error: missing ']'");
	check_str(LIST("a@1.2.3.4]"), "error: unbalanced ']'");
	check_str(LIST("a\\b@c"), "error: stray '\\'");
	check_str(LIST("a@[ 1.2.3.4 ]"), "a@[1.2.3.4]|-|-;");
	check_str(LIST("a@[IPv6:0::1]"), "a@[IPv6:::1]|-|-;");
	check_str(LIST("a@[1.2.3]"), "error: bad IPv4 address literal");
	check_str(LIST("a@b_c.d"), "error: bad character in domain");
	check_str(LIST("a..b@c"), "error: misplaced '.' in local part");
	check_str(LIST("\"a..b\"@c"), "\"a..b\"@c|-|-;");
	check_str(LIST("\"a\".\"b\"@c"), "a.b@c|-|-;");
	check_str(LIST("\"x@y\"@z"), "\"x@y\"@z|-|-;");
	check_str(LIST("a . b @ c . d"), "a.b@c.d|-|-;");
	check_str(LIST("a(1).(2)b@(3)c(4).(5)d"), "a.b@c.d|-|-;");
	check_str(LIST("user%host@relay, a!b"),
	    "user%host@relay|-|-;a!b|-|-;");
	check_str(LIST("x@y."), "x@y|-|-;");
	check_str(LIST("x@"), "error: missing domain after '@'");
	check_str(LIST("@x"), "error: empty local part");
	/* encoded words and 8-bit display names pass untouched */
	check_str(LIST("=?utf-8?q?M=C3=BCller,_Hans?= <m@x>"),
	    "m@x|=?utf-8?q?M=C3=BCller,_Hans?=|-;");
	check_str(LIST("=?utf-8?b?w7w=?= <m@x>"), "m@x|=?utf-8?b?w7w=?=|-;");
	check_str(LIST("M\xfcller <m@x>"), "m@x|M\xfcller|-;");
	check_str(LIST("\xc3\xbc@b\xc3\xbc.de"),
	    "\xc3\xbc@b\xc3\xbc.de|-|-|8;");
	check_str(LIST("\xfc@x"), "error: invalid UTF-8 in local part");
	/* folding */
	check_str(LIST("a@b,\r\n c@d"), "a@b|-|-;c@d|-|-;");
	check_str(LIST("A\r\n\tB <c@d>"), "c@d|A\tB|-;");
	check_str(LIST("a@b,\n c@d"), "a@b|-|-;c@d|-|-;");
	check_str(LIST("a@b\r\n"), "a@b|-|-;");
	check_str(LIST("\"a\r\n b\"@c"), "\"a b\"@c|-|-;");
	check_str(LIST("a@b,\r\nc@d"), "a@b|-|-;error: line break not "
	    "followed by white space in address list");
	check_str(LIST("a@b,\r c@d"),
	    "a@b|-|-;error: bare CR in address list");
	check_str(LIST("a@b\x01"), "error: control character in address list");
	check_str(LIST("\"a\x7f\"@b"),
	    "error: control character in address list");
	check_str(LIST("\"a\tb\"@c"), "error: control character in local part");
	check_str(list_run(&res, "a@b\0c@d", 7),
	    "error: control character in address list");
	buf_free(&res);
}

/* t_list_comments - nesting, quoted pairs, 1000 levels deep */
static void
t_list_comments(void)
{
	struct buf	 res, in;
	size_t		 i;

	buf_init(&res, 65536);
	buf_init(&in, 65536);
	check_str(LIST("(a (b (c)) d) x@y (e\\) f) (g\\(h)"), "x@y|-|-;");
	check_str(LIST("x@y (a \"b) (c\")"), "x@y|-|-;");
	check_str(LIST("x@y (a \"b) c\""),
	    "error: unterminated quoted string");
	check_str(LIST("x@y (a \\"), "error: unterminated comment");
	for (i = 0; i < 1000; i++)
		buf_addc(&in, '(');
	buf_adds(&in, "deep");
	for (i = 0; i < 1000; i++)
		buf_addc(&in, ')');
	buf_adds(&in, " x@y");
	check_str(list_run(&res, in.data, in.len), "x@y|-|-;");
	buf_truncate(&in, in.len - 5);
	check_str(list_run(&res, in.data, in.len - 1),
	    "error: unterminated comment");
	buf_reset(&in);
	for (i = 0; i < 1000; i++)
		buf_addc(&in, '(');
	check_str(list_run(&res, in.data, in.len),
	    "error: unterminated comment");
	buf_free(&res);
	buf_free(&in);
}

/* stop_cb - stop at the second mailbox */
static int
stop_cb(const struct addr_mbox *mb, void *arg)
{
	int	*n = arg;

	(void)mb;
	return ++*n == 2 ? 42 : 0;
}

/* t_list_limits - callbacks stop the walk; the count is bounded */
static void
t_list_limits(void)
{
	struct buf	 in, why;
	size_t		 i;
	int		 n = 0;

	buf_init(&in, 1 << 20);
	buf_init(&why, 256);
	check_int(addr_parse_list("a, b, c", 7, stop_cb, &n, &why), ==, 42);
	check_int(n, ==, 2);
	for (i = 0; i < ADDR_LIST_MAX; i++)
		buf_adds(&in, "a,");
	n = 0;
	check_int(addr_parse_list(in.data, in.len, stop_cb, &n, &why), ==,
	    42);
	check_int(addr_parse_list(in.data, in.len, NULL, NULL, &why), ==, 0);
	buf_adds(&in, "a");
	check_int(addr_parse_list(in.data, in.len, NULL, NULL, &why), ==, -1);
	check_str(buf_str(&why), "too many addresses in list");
	buf_reset(&in);
	buf_addc(&in, '"');
	for (i = 0; i < ADDR_TEXT_MAX; i++)
		buf_addc(&in, 'd');
	buf_adds(&in, "\" <a@b>");
	check_int(addr_parse_list(in.data, in.len, NULL, NULL, &why), ==, -1);
	check_str(buf_str(&why), "display name too long");
	buf_free(&in);
	buf_free(&why);
}

/* qualify - run addr_qualify_list, "error: why" on failure */
static const char *
qualify(struct buf *res, const char *s, const char *origin)
{
	struct buf	 why;

	buf_init(&why, 256);
	if (addr_qualify_list(s, strlen(s), origin, res, &why) != 0) {
		buf_reset(res);
		buf_printf(res, "error: %s", buf_str(&why));
	}
	buf_free(&why);
	return buf_str(res);
}

#define QUAL(s)	qualify(&res, (s), "Example.ORG")

/* t_qualify - bare names get @origin, the rest stays byte for byte */
static void
t_qualify(void)
{
	struct buf	 res, in, again, why;
	size_t		 i;

	buf_init(&res, 65536);
	buf_init(&in, 65536);
	buf_init(&again, 65536);
	buf_init(&why, 256);
	check_str(QUAL("root"), "root@example.org");
	check_str(QUAL("Logwatch <logwatch>"),
	    "Logwatch <logwatch@example.org>");
	check_str(QUAL("root (Charlie Root)"),
	    "root@example.org (Charlie Root)");
	check_str(QUAL("root(x)"), "root@example.org(x)");
	check_str(QUAL("\"a b\""), "\"a b\"@example.org");
	check_str(QUAL("a@b, \"Smith, J\" <j>,\r\n\tc"),
	    "a@b, \"Smith, J\" <j@example.org>,\r\n\tc@example.org");
	check_str(QUAL("=?utf-8?q?x,y?= <j>"),
	    "=?utf-8?q?x,y?= <j@example.org>");
	check_str(QUAL("G: a, b@c;, d"),
	    "G: a@example.org, b@c;, d@example.org");
	check_str(QUAL("undisclosed-recipients:;"),
	    "undisclosed-recipients:;");
	check_str(QUAL("  a@b  ,,  "), "  a@b  ,,  ");
	check_str(QUAL(""), "");
	check_str(QUAL("a b"), "error: bad address: text after it "
	    "(missing '<'?)");
	check_str(qualify(&res, "root", "bad_origin"),
	    "error: bad origin domain");
	check_str(qualify(&res, "root", "b\xc3\xbc.de"), "root@b\xc3\xbc.de");
	check_str(qualify(&res, "root", "[1.2.3.4]"), "root@[1.2.3.4]");

	/* qualifying must not produce an address that no longer parses */
	for (i = 0; i < ADDR_MAX - 2; i++)
		buf_addc(&in, 'l');
	check_int(addr_qualify_list(in.data, in.len, "x", &res, &why), ==, 0);
	check_int(addr_qualify_list(in.data, in.len, "xy", &res, &why), ==,
	    -1);
	check_str(buf_str(&why), "address too long");

	/* twice is once */
	qualify(&res, "a, b (c), <d>, G: e;", "x.org");
	check_str(buf_str(&res), "a@x.org, b@x.org (c), <d@x.org>, "
	    "G: e@x.org;");
	check_int(addr_qualify_list(res.data, res.len, "y.org", &again,
	    &why), ==, 0);
	check_str(buf_str(&again), buf_str(&res));
	buf_free(&res);
	buf_free(&in);
	buf_free(&again);
	buf_free(&why);
}

/* idn_run - idn_to_ascii, "error: why" on failure */
static const char *
idn_run(struct buf *res, const char *d)
{
	struct buf	 why;

	buf_init(&why, 512);
	if (idn_to_ascii(d, res, &why) != 0) {
		buf_reset(res);
		buf_printf(res, "error: %s", buf_str(&why));
	}
	buf_free(&why);
	return buf_str(res);
}

#define IDN(s)	idn_run(&res, (s))

/* t_idn - A-labels, the LDH check, libidn2's verdicts */
static void
t_idn(void)
{
	struct buf	 res, big;
	size_t		 i;

	buf_init(&res, 4096);
	buf_init(&big, 4096);
	check_str(IDN("example.org"), "example.org");
	check_str(IDN("Example.ORG."), "example.org");
	check_str(IDN("[1.2.3.4]"), "[1.2.3.4]");
	check_str(IDN("[IPv6:::1]"), "[IPv6:::1]");
	check_str(IDN("-bad.example"), "error: bad domain -bad.example: "
	    "domain label begins or ends with '-'");
	check_str(IDN("bad-.example"), "error: bad domain bad-.example: "
	    "domain label begins or ends with '-'");
	check_str(IDN("ex_ample.org"),
	    "error: bad domain ex_ample.org: bad character in domain");
	check_str(IDN("a..b"), "error: bad domain a..b: empty label in domain");
	check_str(IDN(""), "error: bad domain : empty domain");
	check_str(IDN("."), "error: bad domain .: empty domain");
	check_str(IDN("ab--cd.example"), "ab--cd.example");
	for (i = 0; i < 64; i++)
		buf_addc(&big, 'a');
	check_str(idn_run(&res, big.data), "error: bad domain aaaaaaaaaaaaaaa"
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa: domain label "
	    "too long");
	buf_reset(&big);
	for (i = 0; i < 62; i++)
		buf_adds(&big, "abc.");
	buf_adds(&big, "abcde.");
	check_int(big.len, ==, 254);
	check_int(strlen(idn_run(&res, big.data)), ==, 253);
	check_str(buf_str(&res) + 240, "abc.abc.abcde");
	buf_truncate(&big, big.len - 1);
	buf_adds(&big, "f");
	check(strstr(idn_run(&res, big.data), "domain too long") != NULL);
	buf_reset(&big);
	for (i = 0; i < 2000; i++)
		buf_addc(&big, 'a');
	check(strstr(idn_run(&res, big.data), "domain too long") != NULL);
	buf_free(&res);
	buf_free(&big);
}

/* t_idn_unicode - U-labels and A-labels, with libidn2's verdicts */
static void
t_idn_unicode(void)
{
	struct buf	 res;

	buf_init(&res, 4096);
	if (strstr(IDN("b\xc3\xbc" "cher.example"), "needs libidn2") != NULL) {
		tap_skip("%s", buf_str(&res));
		buf_free(&res);
		return;
	}
	check_str(IDN("b\xc3\xbc" "cher.example"), "xn--bcher-kva.example");
	check_str(IDN("B\xc3\x9c" "CHER.Example."), "xn--bcher-kva.example");
	check_str(IDN("\xef\xbd\x85\xef\xbd\x98\xef\xbd\x81\xef\xbd\x8d"
	    "\xef\xbd\x90\xef\xbd\x8c\xef\xbd\x85\xef\xbc\x8e\xef\xbd\x8f"
	    "\xef\xbd\x92\xef\xbd\x87"), "example.org");
	check_str(IDN("fa\xc3\x9f.de"), "xn--fa-hia.de");
	check_str(IDN("xn--bcher-kva.example"), "xn--bcher-kva.example");
	check_str(IDN("XN--BCHER-KVA.example"), "xn--bcher-kva.example");
	check(strncmp(IDN("xn--zz.example"),
	    "error: bad IDNA domain xn--zz.example: ", 39) == 0);
	check(strncmp(IDN("xn--a.example"),
	    "error: bad IDNA domain xn--a.example: ", 38) == 0);
	check_str(IDN("b\xc3\xbc" "cher_x.example"), "error: bad domain "
	    "b\xc3\xbc" "cher_x.example: bad character in domain");
	check_str(IDN("b\xfc" "cher.example"),
	    "error: bad IDNA domain b\\xfccher.example: invalid UTF-8");
	check(strncmp(IDN("a\xe2\x80\x90" "b.com"),
	    "error: bad IDNA domain a\xe2\x80\x90" "b.com: ", 30) == 0);
	buf_free(&res);
}

/* t_idn_missing - without libidn2, ASCII works and IDNs say why */
static void
t_idn_missing(void)
{
	struct buf	 res;

	buf_init(&res, 4096);
	idn_set_library("libcorreo-no-such-idn2.so.0");
	check_str(IDN("example.org"), "example.org");
	check(strncmp(IDN("b\xc3\xbc" "cher.example"),
	    "error: internationalized domain b\xc3\xbc" "cher.example needs "
	    "libidn2 (libcorreo-no-such-idn2.so.0: ", 81) == 0);
	check(strstr(IDN("xn--bcher-kva.example"), "needs libidn2") != NULL);
	idn_set_library(NULL);
	check_str(IDN("b\xc3\xbc" "cher.example"), "xn--bcher-kva.example");
	buf_free(&res);
}

int
main(void)
{
	TEST(t_path_cases, "addr_parse_path: %zu cases", nitems(path_cases));
	TEST(t_path_nul, "addr_parse_path: NUL inside the length");
	TEST(t_path_limits, "addr_parse_path: length limits");
	TEST(t_path_reparse, "addr_parse_path: canonical forms re-parse");
	TEST(t_path_span, "addr_path_span");
	TEST(t_split_make, "addr_split, addr_make, addr_utf8_valid");
	TEST(t_list, "addr_parse_list: forms, errors, folding");
	TEST(t_list_comments, "addr_parse_list: comments, 1000 deep");
	TEST(t_list_limits, "addr_parse_list: stop and limits");
	TEST(t_qualify, "addr_qualify_list");
	TEST(t_idn, "idn_to_ascii: ASCII domains");
	TEST(t_idn_unicode, "idn_to_ascii: IDNs through libidn2");
	TEST(t_idn_missing, "idn_to_ascii without libidn2");
	return test_done();
}
