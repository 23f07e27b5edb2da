/*
 * t-hdr.c - unit tests for common/hdr
 */
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/hdr.h"
#include "common/util.h"
#include "t/unit/tap.h"

#define T_LINE_MAX	4096	/* the reused line buffer of run() */
#define T_OUT_MAX	(1 << 20)

static struct buf	 out;

static void	esc(struct buf *, const char *, size_t);
static void	event(struct buf *, const struct hdr_event *);
static const char *run_n(size_t, const char *, size_t);
static const char *run(size_t, const char *);
static int	heap_used(size_t *);

/* esc - append bytes, unprintable ones as \xHH */
static void
esc(struct buf *b, const char *s, size_t n)
{
	size_t		 i;
	unsigned char	 c;

	for (i = 0; i < n; i++) {
		c = (unsigned char)s[i];
		if (c < ' ' || c > '~' || c == '\\')
			buf_printf(b, "\\x%02x", c);
		else
			buf_addc(b, c);
	}
}

/* event - append one event as a transcript line; check invariants */
static void
event(struct buf *b, const struct hdr_event *ev)
{
	switch (ev->type) {
	case HDR_FIELD:
		if (ev->rawlen == 0 || ev->raw[ev->rawlen - 1] != '\n' ||
		    ev->valuelen > ev->rawlen || ev->name != ev->raw ||
		    ev->value == NULL)
			buf_adds(b, "BAD ");
		buf_adds(b, "F ");
		esc(b, ev->name, ev->namelen);
		buf_addc(b, '=');
		esc(b, ev->value, ev->valuelen);
		if (ev->truncated)
			buf_adds(b, " T");
		break;
	case HDR_END:
		buf_printf(b, "E%d", ev->implicit);
		break;
	case HDR_BODY:
		buf_adds(b, "B ");
		esc(b, ev->line, ev->linelen);
		break;
	case HDR_NONE:
		buf_adds(b, "NONE");
		break;
	}
	buf_addc(b, '\n');
}

/*
 * run_n - parse a message (lines end in LF) through one reused line
 * buffer that is scribbled over after each push, so the parser cannot
 * lean on the caller keeping an earlier line; the transcript of events.
 */
static const char *
run_n(size_t max, const char *msg, size_t len)
{
	struct hdr_parser	*p;
	struct hdr_event	 ev;
	static char		 line[T_LINE_MAX];
	const char		*nl;
	size_t			 n;

	buf_free(&out);
	buf_init(&out, T_OUT_MAX);
	if ((p = hdr_new(max)) == NULL)
		return "hdr_new failed";
	while (len > 0) {
		nl = memchr(msg, '\n', len);
		n = nl != NULL ? (size_t)(nl - msg) : len;
		if (n > sizeof(line))
			return "line too long for the test";
		memcpy(line, msg, n);
		if (hdr_push(p, line, n) == -1)
			return "hdr_push failed";
		while (hdr_next(p, &ev) != HDR_NONE)
			event(&out, &ev);
		memset(line, '#', sizeof(line));
		n += nl != NULL;
		msg += n;
		len -= n;
	}
	hdr_eof(p);
	while (hdr_next(p, &ev) != HDR_NONE)
		event(&out, &ev);
	if (hdr_next(p, &ev) != HDR_NONE || ev.type != HDR_NONE)
		buf_adds(&out, "event after the end\n");
	hdr_free(p);
	return buf_str(&out);
}

/* run - run_n for a C string */
static const char *
run(size_t max, const char *msg)
{
	return run_n(max, msg, strlen(msg));
}

static void
t_simple(void)
{
	check_str(run(HDR_FIELD_MAX,
	    "From: a@example.org\n"
	    "To: b@example.org\n"
	    "Subject: hi there\n"
	    "\n"
	    "body\n"),
	    "F From=a@example.org\n"
	    "F To=b@example.org\n"
	    "F Subject=hi there\n"
	    "E0\n"
	    "B body\n");
}

static void
t_raw(void)
{
	struct hdr_parser	*p;
	struct hdr_event	 ev;

	p = hdr_new(HDR_FIELD_MAX);
	check(p != NULL);
	check_int(hdr_push(p, "Subject: one", 12), ==, 0);
	check_int(hdr_next(p, &ev), ==, HDR_NONE);
	check_int(hdr_push(p, " two", 4), ==, 0);
	check_int(hdr_next(p, &ev), ==, HDR_NONE);
	check_int(hdr_push(p, "\tthree ", 7), ==, 0);
	check_int(hdr_next(p, &ev), ==, HDR_NONE);
	check_int(hdr_push(p, "X-Next:x", 8), ==, 0);
	check_int(hdr_next(p, &ev), ==, HDR_FIELD);
	check_mem(ev.name, ev.namelen, "Subject", 7);
	check_mem(ev.raw, ev.rawlen, "Subject: one\n two\n\tthree \n", 26);
	check_mem(ev.value, ev.valuelen, "one two\tthree ", 14);
	check_int(ev.truncated, ==, 0);
	check_int(hdr_next(p, &ev), ==, HDR_NONE);
	hdr_eof(p);
	check_int(hdr_next(p, &ev), ==, HDR_FIELD);
	check_mem(ev.raw, ev.rawlen, "X-Next:x\n", 9);
	check_mem(ev.value, ev.valuelen, "x", 1);
	check_int(hdr_next(p, &ev), ==, HDR_END);
	check_int(ev.implicit, ==, 1);
	check_int(hdr_next(p, &ev), ==, HDR_NONE);
	check_int(hdr_next(p, &ev), ==, HDR_NONE);
	hdr_eof(p);
	check_int(hdr_next(p, &ev), ==, HDR_NONE);
	check(hdr_free(p) == NULL);
	check(hdr_free(NULL) == NULL);
}

static void
t_fold(void)
{
	check_str(run(HDR_FIELD_MAX,
	    "Subject: one\n"
	    " two\n"
	    "\tthree\n"
	    "To: a,\n"
	    "    b\n"
	    "\n"),
	    "F Subject=one two\\x09three\n"
	    "F To=a,    b\n"
	    "E0\n");
}

static void
t_unfold(void)
{
	/* leading WSP goes, across lines; trailing WSP stays */
	check_str(run(HDR_FIELD_MAX,
	    "Subject:\n"
	    "  hello\n"
	    " world  \n"
	    "X:   \n"
	    "\t\n"
	    "  x \n"
	    "Y: a \n"
	    " \n"
	    "\tb\n"),
	    "F Subject=hello world  \n"
	    "F X=x \n"
	    "F Y=a  \\x09b\n"
	    "E1\n");
}

static void
t_name_wsp(void)
{
	struct hdr_parser	*p;
	struct hdr_event	 ev;

	check_str(run(HDR_FIELD_MAX,
	    "Subject  : x\n"
	    "To\t:y\n"
	    "Cc \t : z\n"),
	    "F Subject=x\n"
	    "F To=y\n"
	    "F Cc=z\n"
	    "E1\n");
	check_str(run(HDR_FIELD_MAX, "Sub ject: x\nA: b\n"),
	    "E1\n"
	    "B Sub ject: x\n"
	    "B A: b\n");
	check_str(run(HDR_FIELD_MAX, ": x\n"), "E1\nB : x\n");
	check_str(run(HDR_FIELD_MAX, "Subject x\n"), "E1\nB Subject x\n");
	check_str(run(HDR_FIELD_MAX, "Subject \n"), "E1\nB Subject \n");

	p = hdr_new(HDR_FIELD_MAX);
	check_int(hdr_push(p, "BCC  : x", 8), ==, 0);
	hdr_eof(p);
	check_int(hdr_next(p, &ev), ==, HDR_FIELD);
	check_mem(ev.name, ev.namelen, "BCC", 3);
	check_mem(ev.raw, ev.rawlen, "BCC  : x\n", 9);
	check(hdr_name_is(&ev, "bcc"));
	hdr_free(p);
}

static void
t_empty_value(void)
{
	struct hdr_parser	*p;
	struct hdr_event	 ev;

	check_str(run(HDR_FIELD_MAX, "X-Empty:\nY:   \n\n"),
	    "F X-Empty=\n"
	    "F Y=\n"
	    "E0\n");
	p = hdr_new(HDR_FIELD_MAX);
	check_int(hdr_push(p, "X:", 2), ==, 0);
	hdr_eof(p);
	check_int(hdr_next(p, &ev), ==, HDR_FIELD);
	check(ev.value != NULL);
	check_int(ev.valuelen, ==, 0);
	check_mem(ev.raw, ev.rawlen, "X:\n", 3);
	hdr_free(p);
}

static void
t_8bit(void)
{
	check_str(run(HDR_FIELD_MAX,
	    "Subject: caf\xc3\xa9\n"
	    " \xff\n"
	    "\n"
	    "\xe9t\xe9\n"),
	    "F Subject=caf\\xc3\\xa9 \\xff\n"
	    "E0\n"
	    "B \\xe9t\\xe9\n");
	/* an 8-bit byte in the name: not a field */
	check_str(run(HDR_FIELD_MAX, "Caf\xe9: x\n"),
	    "E1\nB Caf\\xe9: x\n");
}

static void
t_nul(void)
{
	static const char	 msg[] = "X: a\0b\nY\0: c\n";

	check_str(run_n(HDR_FIELD_MAX, msg, sizeof(msg) - 1),
	    "F X=a\\x00b\n"
	    "E1\n"
	    "B Y\\x00: c\n");
}

static void
t_cr(void)
{
	check_str(run(HDR_FIELD_MAX, "X: a\rb\nY: c\r\n\r\n"),
	    "F X=a\\x0db\n"
	    "F Y=c\\x0d\n"
	    "E1\n"
	    "B \\x0d\n");
	check_str(run(HDR_FIELD_MAX, "X\r: a\n"), "E1\nB X\\x0d: a\n");
}

static void
t_blank_end(void)
{
	check_str(run(HDR_FIELD_MAX,
	    "A: b\n"
	    "\n"
	    "C: d\n"
	    "\n"
	    " e\n"
	    "\n"),
	    "F A=b\n"
	    "E0\n"
	    "B C: d\n"
	    "B \n"
	    "B  e\n"
	    "B \n");
	check_str(run(HDR_FIELD_MAX, "\nA: b\n"), "E0\nB A: b\n");
}

static void
t_implicit(void)
{
	struct hdr_parser	*p;
	struct hdr_event	 ev;
	const char		*line = "not a header";

	check_str(run(HDR_FIELD_MAX,
	    "A: b\n"
	    " c\n"
	    "not a header\n"
	    "C: d\n"
	    "\n"),
	    "F A=b c\n"
	    "E1\n"
	    "B not a header\n"
	    "B C: d\n"
	    "B \n");

	/* the events of one push arrive in order; the body line is ours */
	p = hdr_new(HDR_FIELD_MAX);
	check_int(hdr_push(p, "A: b", 4), ==, 0);
	check_int(hdr_next(p, &ev), ==, HDR_NONE);
	check_int(hdr_push(p, line, strlen(line)), ==, 0);
	check_int(hdr_next(p, &ev), ==, HDR_FIELD);
	check_int(hdr_next(p, &ev), ==, HDR_END);
	check_int(ev.implicit, ==, 1);
	check_int(hdr_next(p, &ev), ==, HDR_BODY);
	check(ev.line == line);
	check_int(ev.linelen, ==, strlen(line));
	check_int(hdr_next(p, &ev), ==, HDR_NONE);
	hdr_eof(p);
	check_int(hdr_next(p, &ev), ==, HDR_NONE);
	hdr_free(p);
}

static void
t_cont_start(void)
{
	check_str(run(HDR_FIELD_MAX, " x: y\nA: b\n"),
	    "E1\n"
	    "B  x: y\n"
	    "B A: b\n");
	check_str(run(HDR_FIELD_MAX, "\tA: b\n"), "E1\nB \\x09A: b\n");
}

static void
t_eof(void)
{
	check_str(run(HDR_FIELD_MAX, ""), "E1\n");
	check_str(run(HDR_FIELD_MAX, "A: b"), "F A=b\nE1\n");
	check_str(run(HDR_FIELD_MAX, "A: b\n c"), "F A=b c\nE1\n");
	check_str(run(HDR_FIELD_MAX, "A: b\n\n"), "F A=b\nE0\n");
	check_str(run(HDR_FIELD_MAX, "\n"), "E0\n");
	check_str(run(HDR_FIELD_MAX, "A: b\n\nx"), "F A=b\nE0\nB x\n");
	check_str(run(HDR_FIELD_MAX, "junk"), "E1\nB junk\n");
}

static void
t_truncate(void)
{
	struct hdr_parser	*p;
	struct hdr_event	 ev;

	/* exactly field_max bytes of raw text is not truncated */
	check_str(run(10, "Subj: xyz\n"), "F Subj=xyz\nE1\n");
	check_str(run(10, "Subj: xy\n z\n"), "F Subj=xy T\nE1\n");
	check_str(run(10, "Subj: xyzw\n z\nA: b\n"),
	    "F Subj=xyz T\nF A=b\nE1\n");
	/* a cut continuation that would be white space only is dropped */
	check_str(run(12, "Subj: xy\n   z\n"), "F Subj=xy T\nE1\n");
	check_str(run(13, "Subj: xy\n   zw\n"), "F Subj=xy T\nE1\n");
	check_str(run(14, "Subj: xy\n   zw\n"), "F Subj=xy   z T\nE1\n");
	/* the name and colon must fit, with the "\n" */
	check_str(run(8, "Subject: x\n"), "E1\nB Subject: x\n");
	check_str(run(9, "Subject: x\n"), "F Subject= T\nE1\n");
	check_str(run(0, "A: b\n"), "E1\nB A: b\n");

	p = hdr_new(10);
	check_int(hdr_push(p, "Subj: xy", 8), ==, 0);
	check_int(hdr_push(p, " z", 2), ==, 0);
	check_int(hdr_push(p, " more", 5), ==, 0);
	check_int(hdr_next(p, &ev), ==, HDR_NONE);
	check_int(hdr_push(p, "", 0), ==, 0);
	check_int(hdr_next(p, &ev), ==, HDR_FIELD);
	check_mem(ev.raw, ev.rawlen, "Subj: xy\n", 9);
	check_int(ev.truncated, ==, 1);
	check_int(hdr_next(p, &ev), ==, HDR_END);
	check_int(ev.implicit, ==, 0);
	hdr_free(p);
}

/* heap_used - bytes the allocator has handed out; -1 when unknown */
static int
heap_used(size_t *n)
{
#if defined(__GLIBC__) && (__GLIBC__ > 2 || __GLIBC_MINOR__ >= 33)
	*n = mallinfo2().uordblks;
	return 0;
#else
	*n = 0;
	return -1;
#endif
}

static void
t_huge(void)
{
	struct hdr_parser	*p;
	struct hdr_event	 ev;
	char			*big;
	size_t			 i, before, peak, u, fields = 0;
	int			 known;
	const size_t		 mb = 1024 * 1024, max = 4096;

	/* 1 MB of continuation lines, pushed one by one */
	known = heap_used(&before) == 0;
	peak = before;
	p = hdr_new(max);
	check_int(hdr_push(p, "To: a@example.org,", 18), ==, 0);
	for (i = 0; i < mb / 20; i++) {
		check_int(hdr_push(p, "  b@example.org,    ", 20), ==, 0);
		if (hdr_next(p, &ev) != HDR_NONE)
			fields++;
		if (heap_used(&u) == 0 && u > peak)
			peak = u;
	}
	check_int(fields, ==, 0);
	check_int(hdr_push(p, "Subject: x", 10), ==, 0);
	check_int(hdr_next(p, &ev), ==, HDR_FIELD);
	check(hdr_name_is(&ev, "to"));
	check_int(ev.truncated, ==, 1);
	check_int(ev.rawlen, <=, max);
	check_int(ev.raw[ev.rawlen - 1], ==, '\n');
	check(memmem(ev.raw, ev.rawlen, "\n\n", 2) == NULL);
	check_int(hdr_next(p, &ev), ==, HDR_NONE);
	/* memory stays near 4 field_max, nowhere near 1 MB */
	if (known)
		check_int(peak - before, <, 8 * max);

	/* one 1 MB field line: cut; one 1 MB body line: not copied */
	big = malloc(mb);
	check(big != NULL);
	if (big == NULL) {
		hdr_free(p);
		return;
	}
	memset(big, 'v', mb);
	memcpy(big, "Long:", 5);
	check_int(hdr_push(p, big, mb), ==, 0);
	check_int(hdr_next(p, &ev), ==, HDR_FIELD);
	check(hdr_name_is(&ev, "subject"));
	check_int(hdr_next(p, &ev), ==, HDR_NONE);
	check_int(hdr_push(p, "", 0), ==, 0);
	check_int(hdr_next(p, &ev), ==, HDR_FIELD);
	check(hdr_name_is(&ev, "long"));
	check_int(ev.truncated, ==, 1);
	check_int(ev.rawlen, ==, max);
	check_int(ev.valuelen, ==, max - 6);
	check_int(hdr_next(p, &ev), ==, HDR_END);
	check_int(hdr_next(p, &ev), ==, HDR_NONE);
	heap_used(&before);
	check_int(hdr_push(p, big, mb), ==, 0);
	check_int(hdr_next(p, &ev), ==, HDR_BODY);
	check(ev.line == big);
	check_int(ev.linelen, ==, mb);
	if (known && heap_used(&u) == 0)
		check_int(u, ==, before);
	check_int(hdr_next(p, &ev), ==, HDR_NONE);
	hdr_eof(p);
	check_int(hdr_next(p, &ev), ==, HDR_NONE);
	hdr_free(p);
	free(big);
}

static void
t_name_is(void)
{
	struct hdr_parser	*p;
	struct hdr_event	 ev;

	p = hdr_new(HDR_FIELD_MAX);
	check_int(hdr_push(p, "Message-ID: <x@y>", 17), ==, 0);
	hdr_eof(p);
	check_int(hdr_next(p, &ev), ==, HDR_FIELD);
	check(hdr_name_is(&ev, "Message-ID"));
	check(hdr_name_is(&ev, "message-id"));
	check(hdr_name_is(&ev, "MESSAGE-id"));
	check(!hdr_name_is(&ev, "Message-I"));
	check(!hdr_name_is(&ev, "Message-IDs"));
	check(!hdr_name_is(&ev, "Message_ID"));
	check(!hdr_name_is(&ev, ""));
	check_int(hdr_next(p, &ev), ==, HDR_END);
	check(!hdr_name_is(&ev, ""));
	check(!hdr_name_is(&ev, "Message-ID"));
	hdr_free(p);
}

static void
t_many(void)
{
	struct hdr_parser	*p;
	struct hdr_event	 ev;
	char			 line[64];
	int			 i, n, fields = 0, order = 1;
	const int		 count = 10000;

	p = hdr_new(HDR_FIELD_MAX);
	for (i = 0; i < count; i++) {
		check_int(bsnprintf(line, sizeof(line), "Received: from h%d",
		    i), ==, 0);
		check_int(hdr_push(p, line, strlen(line)), ==, 0);
		/* field i-1 becomes available when line i arrives */
		for (n = 0; hdr_next(p, &ev) != HDR_NONE; n++) {
			if (bsnprintf(line, sizeof(line), "from h%d",
			    i - 1) == -1 || !hdr_name_is(&ev, "received") ||
			    ev.valuelen != strlen(line) ||
			    memcmp(ev.value, line, ev.valuelen) != 0)
				order = 0;
			fields++;
		}
		if (n != (i > 0))
			order = 0;
	}
	check_int(hdr_push(p, "", 0), ==, 0);
	check_int(hdr_next(p, &ev), ==, HDR_FIELD);
	fields++;
	check_int(hdr_next(p, &ev), ==, HDR_END);
	check_int(hdr_next(p, &ev), ==, HDR_NONE);
	check_int(fields, ==, count);
	check(order);
	hdr_free(p);
}

int
main(void)
{
	TEST(t_simple, "simple fields, blank line, body");
	TEST(t_raw, "raw, name and value of a folded field");
	TEST(t_fold, "folding with SP and HTAB");
	TEST(t_unfold, "unfolding drops line breaks and leading WSP only");
	TEST(t_name_wsp, "white space between name and colon");
	TEST(t_empty_value, "empty values");
	TEST(t_8bit, "8-bit bytes are data; not in names");
	TEST(t_nul, "NUL is data in a value; not in a name");
	TEST(t_cr, "bare CR is data");
	TEST(t_blank_end, "an empty line ends the header section");
	TEST(t_implicit, "a non-header line ends it implicitly");
	TEST(t_cont_start, "a continuation line at the start");
	TEST(t_eof, "EOF in the header section, in the body, at once");
	TEST(t_truncate, "fields are cut at field_max");
	TEST(t_huge, "1 MB field and body lines: memory stays bounded");
	TEST(t_name_is, "hdr_name_is is ASCII case-insensitive and exact");
	TEST(t_many, "many fields, each reported when the next arrives");
	return test_done();
}
