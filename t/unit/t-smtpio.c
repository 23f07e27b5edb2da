/*
 * t-smtpio.c - unit tests for common/smtpio: replies (multi-line, bad
 * codes, overlong lines, enhanced codes), timeouts, the body encoder
 * (CRLF, dot-stuffing, the line limit against a line-by-line
 * reference, in every cut), EHLO extensions, the result texts and
 * codes, and connecting, with a socketpair or a real socket as the peer
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/smtpio.h"
#include "common/util.h"
#include "t/unit/smtpio-ref.h"
#include "t/unit/tap.h"

#define BIG_BODY	(300 * 1024)

static char	 dir[256];

/* pair - a socketpair: sv[0] for smtpio, sv[1] the peer */
static int
pair(int sv[2])
{
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == -1) {
		tap_diag("socketpair: %s", strerror(errno));
		return -1;
	}
	return 0;
}

/* peer_says - what the peer sends, then one reply read by smtpio */
static int
peer_says(const char *text, size_t len, struct smtpio_reply *r, int shut)
{
	struct smtpio	 io;
	int		 sv[2], rc;

	if (pair(sv) != 0)
		return -100;
	if (write_all(sv[1], text, len) < 0)
		return -101;
	if (shut)
		shutdown(sv[1], SHUT_WR);
	smtpio_init(&io, sv[0], 5);
	rc = smtpio_reply(&io, r);
	smtpio_close(&io);
	close(sv[1]);
	return rc;
}

/* reply_is - one reply read from text has this code, dsn and text */
static void
reply_is(const char *in, int status, int code, const char *dsn,
    const char *text)
{
	struct smtpio_reply	 r;
	int			 rc;

	smtpio_reply_init(&r);
	rc = peer_says(in, strlen(in), &r, 1);
	if (!check_int(rc, ==, status))
		tap_diag("input: %s", in);
	if (status == SMTPIO_OK) {
		check_int(r.code, ==, code);
		check_str(r.dsn, dsn);
		check_str(buf_str(&r.text), text);
	}
	smtpio_reply_free(&r);
}

static void
t_reply_simple(void)
{
	reply_is("220 mx.example ESMTP ready\r\n", SMTPIO_OK, 220, "",
	    "mx.example ESMTP ready");
	reply_is("250\r\n", SMTPIO_OK, 250, "", "");
	reply_is("250 \r\n", SMTPIO_OK, 250, "", "");
	reply_is("354 go ahead\n", SMTPIO_OK, 354, "", "go ahead");
	reply_is("550 no\r\n250 ignored\r\n", SMTPIO_OK, 550, "", "no");
}

static void
t_reply_multi(void)
{
	struct smtpio_reply	 r;
	struct buf		 b;

	reply_is("250-mx.example\r\n250-8BITMIME\r\n250-SIZE 1000\r\n"
	    "250 PIPELINING\r\n", SMTPIO_OK, 250, "",
	    "mx.example\n8BITMIME\nSIZE 1000\nPIPELINING");
	reply_is("250-first\r\n250\r\n", SMTPIO_OK, 250, "", "first\n");
	reply_is("550-5.1.1 one\r\n550 5.1.1 two\r\n", SMTPIO_OK, 550,
	    "5.1.1", "one\ntwo");
	/* the code must not change within a reply */
	reply_is("250-a\r\n251 b\r\n", SMTPIO_SYNTAX, 0, "", "");
	/* a reply cut off by the peer closing */
	reply_is("250-a\r\n250-b\r\n", SMTPIO_EOF, 0, "", "");
	reply_is("250 no line end", SMTPIO_EOF, 0, "", "");

	smtpio_reply_init(&r);
	buf_init(&b, 1024);
	check_int(peer_says("452-4.2.2 mailbox\r\n452 4.2.2 full\r\n", 36,
	    &r, 1), ==, SMTPIO_OK);
	check_int(smtpio_reply_str(&r, &b), ==, BUF_OK);
	check_str(buf_str(&b), "452 4.2.2 mailbox full");
	buf_free(&b);
	smtpio_reply_free(&r);
}

static void
t_reply_bad_codes(void)
{
	reply_is("", SMTPIO_EOF, 0, "", "");
	reply_is("\r\n", SMTPIO_SYNTAX, 0, "", "");
	reply_is("25\r\n", SMTPIO_SYNTAX, 0, "", "");
	reply_is("abc hello\r\n", SMTPIO_SYNTAX, 0, "", "");
	reply_is("2500 x\r\n", SMTPIO_SYNTAX, 0, "", "");
	reply_is("250x\r\n", SMTPIO_SYNTAX, 0, "", "");
	reply_is("199 x\r\n", SMTPIO_SYNTAX, 0, "", "");
	reply_is("650 x\r\n", SMTPIO_SYNTAX, 0, "", "");
	reply_is("260 x\r\n", SMTPIO_SYNTAX, 0, "", "");
	reply_is(" 250 x\r\n", SMTPIO_SYNTAX, 0, "", "");
	reply_is("SSH-2.0-OpenSSH_9.2\r\n", SMTPIO_SYNTAX, 0, "", "");
}

static void
t_reply_enhanced(void)
{
	reply_is("250 2.1.5 Ok\r\n", SMTPIO_OK, 250, "2.1.5", "Ok");
	reply_is("550 5.1.1\r\n", SMTPIO_OK, 550, "5.1.1", "");
	reply_is("452 4.123.456 x\r\n", SMTPIO_OK, 452, "4.123.456", "x");
	/* the class must match the code */
	reply_is("550 2.1.5 odd\r\n", SMTPIO_OK, 550, "", "2.1.5 odd");
	/* not a code: too many digits, letters, no space after */
	reply_is("250 2.1234.5 x\r\n", SMTPIO_OK, 250, "", "2.1234.5 x");
	reply_is("250 2.1.5x\r\n", SMTPIO_OK, 250, "", "2.1.5x");
	reply_is("250 2.1. x\r\n", SMTPIO_OK, 250, "", "2.1. x");
	reply_is("250 2..5 x\r\n", SMTPIO_OK, 250, "", "2..5 x");
	reply_is("221 2.0.0 Bye\r\n", SMTPIO_OK, 221, "2.0.0", "Bye");
	reply_is("354 3.0.0 no such class\r\n", SMTPIO_OK, 354, "",
	    "3.0.0 no such class");
	/* control characters become '?' */
	reply_is("250 a\001b\tc\r\n", SMTPIO_OK, 250, "", "a?b?c");
}

static void
t_reply_limits(void)
{
	struct smtpio_reply	 r;
	struct buf		 in;
	size_t			 i;

	buf_init(&in, (size_t)-1);
	/* the longest line allowed, and one byte more */
	buf_adds(&in, "250 ");
	for (i = 4; i < SMTPIO_LINE_MAX; i++)
		buf_addc(&in, 'x');
	buf_adds(&in, "\r\n");
	smtpio_reply_init(&r);
	check_int(peer_says(in.data, in.len, &r, 1), ==, SMTPIO_OK);
	check_int(r.text.len, ==, SMTPIO_LINE_MAX - 4);
	buf_reset(&in);
	buf_adds(&in, "250 ");
	for (i = 4; i < SMTPIO_LINE_MAX + 1; i++)
		buf_addc(&in, 'x');
	buf_adds(&in, "\r\n");
	check_int(peer_says(in.data, in.len, &r, 1), ==, SMTPIO_TOOLONG);
	/* an endless line without a line end */
	buf_reset(&in);
	for (i = 0; i < SMTPIO_BUFSZ; i++)
		buf_addc(&in, '2');
	check_int(peer_says(in.data, in.len, &r, 1), ==, SMTPIO_TOOLONG);
	/* too many lines */
	buf_reset(&in);
	for (i = 0; i < SMTPIO_REPLY_LINES; i++)
		buf_adds(&in, "250-x\r\n");
	buf_adds(&in, "250 x\r\n");
	check_int(peer_says(in.data, in.len, &r, 1), ==, SMTPIO_TOOLONG);
	/* too much text in lines that are each fine */
	buf_reset(&in);
	for (i = 0; i < SMTPIO_REPLY_MAX / 1000 + 2; i++) {
		buf_adds(&in, "250-");
		while (in.len % 1006 != 1004)
			buf_addc(&in, 'y');
		buf_adds(&in, "\r\n");
	}
	buf_adds(&in, "250 end\r\n");
	check_int(peer_says(in.data, in.len, &r, 1), ==, SMTPIO_TOOLONG);
	smtpio_reply_free(&r);
	buf_free(&in);
}

static void
t_reply_parse_direct(void)
{
	struct smtpio_reply	 r;

	smtpio_reply_init(&r);
	check_int(smtpio_reply_parse(&r, "250-a", 5), ==, SMTPIO_OK);
	check_int(r.done, ==, 0);
	check_int(smtpio_reply_parse(&r, "250 b", 5), ==, SMTPIO_OK);
	check_int(r.done, ==, 1);
	check_int(r.nlines, ==, 2);
	/* nothing after the last line */
	check_int(smtpio_reply_parse(&r, "250 c", 5), ==, SMTPIO_SYNTAX);
	check_str(buf_str(&r.text), "a\nb");
	smtpio_reply_free(&r);
}

static void
t_timeout(void)
{
	struct smtpio		 io;
	struct smtpio_reply	 r;
	time_t			 t0;
	int			 sv[2];

	if (pair(sv) != 0)
		return;
	smtpio_reply_init(&r);
	smtpio_init(&io, sv[0], 1);
	write_all(sv[1], "250-partial\r\n", 13);
	t0 = time(NULL);
	check_int(smtpio_reply(&io, &r), ==, SMTPIO_TIMEOUT);
	check(time(NULL) - t0 <= 3);
	smtpio_close(&io);
	close(sv[1]);
	smtpio_reply_free(&r);
}

static void
t_write_timeout_and_eof(void)
{
	struct smtpio	 io;
	char		 block[4096];
	size_t		 i;
	int		 sv[2], rc = SMTPIO_OK;

	if (pair(sv) != 0)
		return;
	memset(block, 'a', sizeof(block));
	smtpio_init(&io, sv[0], 1);
	/* the peer never reads: the socket buffers fill up */
	for (i = 0; i < 4096 && rc == SMTPIO_OK; i++)
		rc = smtpio_write(&io, block, sizeof(block));
	if (rc == SMTPIO_OK)
		rc = smtpio_flush(&io);
	check_int(rc, ==, SMTPIO_TIMEOUT);
	/* the peer goes away: an error, not SIGPIPE */
	close(sv[1]);
	io.wlen = 0;
	rc = smtpio_write(&io, block, sizeof(block));
	if (rc == SMTPIO_OK)
		rc = smtpio_flush(&io);
	check_int(rc, ==, SMTPIO_EOF);
	smtpio_close(&io);
}

static void
t_cmd(void)
{
	struct smtpio	 io;
	struct buf	 big;
	char		 got[64];
	ssize_t		 n;
	int		 sv[2];

	if (pair(sv) != 0)
		return;
	smtpio_init(&io, sv[0], 5);
	check_int(smtpio_cmd(&io, "RCPT TO:<%s>", "a@b"), ==, SMTPIO_OK);
	check_int(smtpio_cmd(&io, "RCPT TO:<%s>", "a\r\nDATA"), ==,
	    SMTPIO_SYNTAX);
	check_int(smtpio_cmd(&io, "X%s", "\n"), ==, SMTPIO_SYNTAX);
	buf_init(&big, SMTPIO_CMD_MAX + 10);
	while (big.len < SMTPIO_CMD_MAX)
		buf_addc(&big, 'x');
	check_int(smtpio_cmd(&io, "%s", big.data), ==, SMTPIO_OK);
	buf_addc(&big, 'x');
	check_int(smtpio_cmd(&io, "%s", big.data), ==, SMTPIO_TOOLONG);
	buf_free(&big);
	check_int(io.wlen, ==, 15 + SMTPIO_CMD_MAX + 2);
	io.wlen = 15;
	check_int(smtpio_flush(&io), ==, SMTPIO_OK);
	n = read(sv[1], got, sizeof(got));
	check_mem(got, n < 0 ? 0 : (size_t)n, "RCPT TO:<a@b>\r\n", 15);
	smtpio_close(&io);
	close(sv[1]);
}

/* encode - the reference encoding: LF to CRLF (unless after CR), dots */
static void
encode(const char *in, size_t len, struct buf *out)
{
	size_t	 i;
	int	 bol = 1;

	for (i = 0; i < len; i++) {
		if (in[i] == '\n') {
			if (i == 0 || in[i - 1] != '\r')
				buf_addc(out, '\r');
			buf_addc(out, '\n');
			bol = 1;
			continue;
		}
		if (bol && in[i] == '.')
			buf_addc(out, '.');
		buf_addc(out, in[i]);
		bol = 0;
	}
	if (!bol)
		buf_adds(out, len > 0 && in[len - 1] == '\r' ? "\n" : "\r\n");
	buf_adds(out, ".\r\n");
}

/* body_is - the bytes smtpio sends for a body written in pieces of step */
static void
body_is(const char *in, size_t len, size_t step, const char *want,
    size_t wantlen)
{
	struct smtpio	 io;
	char		 got[4096];
	size_t		 off, n;
	ssize_t		 r;
	int		 sv[2];

	if (pair(sv) != 0)
		return;
	smtpio_init(&io, sv[0], 5);
	for (off = 0; off < len; off += n) {
		n = len - off < step ? len - off : step;
		check_int(smtpio_body_write(&io, in + off, n), ==, SMTPIO_OK);
	}
	check_int(smtpio_body_end(&io), ==, SMTPIO_OK);
	check_int(smtpio_flush(&io), ==, SMTPIO_OK);
	shutdown(sv[0], SHUT_WR);
	off = 0;
	while ((r = read(sv[1], got + off, sizeof(got) - off)) > 0)
		off += (size_t)r;
	if (!check_mem(got, off, want, wantlen))
		tap_diag("input \"%.*s\", step %zu", (int)len, in, step);
	smtpio_close(&io);
	close(sv[1]);
}

static void
t_body(void)
{
	static const struct {
		const char	*in, *out;
	} cases[] = {
		{ "", ".\r\n" },
		{ "a\n", "a\r\n.\r\n" },
		{ "abc", "abc\r\n.\r\n" },
		{ ".\n", "..\r\n.\r\n" },
		{ ".", "..\r\n.\r\n" },
		{ "a\n.b\n..c\nd.\n", "a\r\n..b\r\n...c\r\nd.\r\n.\r\n" },
		{ "a\r\nb\r\n", "a\r\nb\r\n.\r\n" },
		{ "a\r", "a\r\n.\r\n" },
		{ "a\rb\n", "a\rb\r\n.\r\n" },
		{ "\n\n.\n", "\r\n\r\n..\r\n.\r\n" },
		{ "Subject: x\n\nbody\n.\n", "Subject: x\r\n\r\nbody\r\n"
		    "..\r\n.\r\n" },
	};
	struct buf	 ref;
	size_t		 i, step;

	buf_init(&ref, 4096);
	for (i = 0; i < nitems(cases); i++) {
		buf_reset(&ref);
		encode(cases[i].in, strlen(cases[i].in), &ref);
		check_str(buf_str(&ref), cases[i].out);
		for (step = 1; step <= 4; step++)
			body_is(cases[i].in, strlen(cases[i].in), step,
			    cases[i].out, strlen(cases[i].out));
	}
	buf_free(&ref);
}

static void
t_body_encode_tiny(void)
{
	struct smtpio_body	 b;
	const char		*in = ".a\n.\n\nb";
	char			 out[2];
	struct buf		 got, ref;
	size_t			 off = 0, used, n;

	buf_init(&got, 1024);
	buf_init(&ref, 1024);
	smtpio_body_init(&b);
	while (off < strlen(in)) {
		n = smtpio_body_encode(&b, in + off, strlen(in) - off, out,
		    sizeof(out), &used);
		if (!check(n > 0))
			break;
		buf_add(&got, out, n);
		off += used;
	}
	check_str(buf_str(&got), "..a\r\n..\r\n\r\nb");
	/* no room for a pair: no progress, nothing consumed */
	smtpio_body_init(&b);
	check_int(smtpio_body_encode(&b, ".", 1, out, 1, &used), ==, 0);
	check_int(used, ==, 0);
	buf_free(&got);
	buf_free(&ref);
}

/*
 * body_through - what a reader at the other end receives when in goes
 * out through smtpio_body_write() in pieces of step with the line limit
 * (the reader saves it to a file, so the writer can block), in got
 */
static void
body_through(const char *in, size_t len, size_t step, int limit,
    struct buf *got)
{
	struct smtpio	 io;
	char		 tmp[65536];
	size_t		 off, n;
	ssize_t		 r;
	pid_t		 pid;
	int		 sv[2], st, fd;
	char		 path[300];

	if (pair(sv) != 0)
		return;
	bsnprintf(path, sizeof(path), "%s/body", dir);
	if ((pid = fork()) == 0) {
		close(sv[0]);
		fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		while ((r = read(sv[1], tmp, sizeof(tmp))) > 0)
			write_all(fd, tmp, (size_t)r);
		_exit(0);
	}
	close(sv[1]);
	smtpio_init(&io, sv[0], 10);
	smtpio_body_set_limit(&io.body, limit);
	for (off = 0; off < len; off += n) {
		n = len - off < step ? len - off : step;
		if (smtpio_body_write(&io, in + off, n) != SMTPIO_OK)
			break;
	}
	check_int(off, ==, len);
	check_int(smtpio_body_end(&io), ==, SMTPIO_OK);
	check_int(smtpio_flush(&io), ==, SMTPIO_OK);
	smtpio_close(&io);
	waitpid(pid, &st, 0);
	fd = open(path, O_RDONLY);
	while ((r = read(fd, tmp, sizeof(tmp))) > 0)
		buf_add(got, tmp, (size_t)r);
	close(fd);
}

/* big_is - in through a peer that makes the writer block, as expected */
static void
big_is(const struct buf *in, int limit)
{
	struct buf	 want, got;

	buf_init(&want, 2 * in->len + 100);
	ref_body_encode(in->data, in->len, (size_t)limit, &want);
	buf_init(&got, 2 * in->len + 100);
	body_through(in->data, in->len, 7919, limit, &got);
	check_int(got.len, ==, want.len);
	check(got.len == want.len && memcmp(got.data, want.data,
	    got.len) == 0);
	buf_free(&want);
	buf_free(&got);
}

static void
t_body_big(void)
{
	struct buf	 in;
	size_t		 i;

	buf_init(&in, BIG_BODY + 100);
	for (i = 0; in.len < BIG_BODY; i++)
		buf_printf(&in, "%s%zu line\n", i % 3 == 0 ? "." : "", i);
	big_is(&in, 0);
	buf_free(&in);
}

/*
 * encode_pieces - the pure encoder over in with the limit, fed in
 * pieces (pieces[] cycled; 0 ends the list) with out room cycled the
 * same way from rooms[], then finished, into out
 */
static void
encode_pieces(const char *in, size_t len, int limit, const size_t *pieces,
    const size_t *rooms, struct buf *out)
{
	struct smtpio_body	 b;
	char			 tmp[256], end[SMTPIO_BODY_END_MAX];
	size_t			 off = 0, used, n, piece, room;
	size_t			 pi = 0, ri = 0;

	smtpio_body_init(&b);
	smtpio_body_set_limit(&b, limit);
	while (off < len) {
		if (pieces[pi] == 0)
			pi = 0;
		if (rooms[ri] == 0)
			ri = 0;
		piece = pieces[pi++];
		room = rooms[ri++];
		if (piece > len - off)
			piece = len - off;
		if (room > sizeof(tmp))
			room = sizeof(tmp);
		n = smtpio_body_encode(&b, in + off, piece, tmp, room, &used);
		/* room for SMTPIO_BODY_STEP bytes always makes progress */
		if (used == 0 || used > piece || n > room) {
			check(!"the encoder broke its contract");
			return;
		}
		buf_add(out, tmp, n);
		off += used;
	}
	n = smtpio_body_finish(&b, end);
	buf_add(out, end, n);
}

/* rep - n copies of c appended */
static void
rep(struct buf *b, char c, size_t n)
{
	while (n-- > 0)
		buf_addc(b, c);
}

/* limit_is - in with the limit is want, whole, in pieces, on the wire */
static void
limit_is(const struct buf *in, int limit, const struct buf *want)
{
	static const size_t	 big[] = { 100000, 0 }, one[] = { 1, 0 };
	static const size_t	 odd[] = { 3, 1, 7, 2, 999, 1000, 5, 0 };
	static const size_t	 rooms[] = { SMTPIO_BODY_STEP, 9, 13, 64,
				    SMTPIO_BODY_STEP + 1, 256, 0 };
	static const size_t	 wide[] = { 256, 0 };
	struct buf		 got, ref;

	buf_init(&got, 4 * in->len + 64);
	buf_init(&ref, 4 * in->len + 64);
	ref_body_encode(in->data, in->len, (size_t)limit, &ref);
	if (!check_mem(ref.data, ref.len, want->data, want->len))
		tap_diag("the reference disagrees with the expectation");
	encode_pieces(in->data, in->len, limit, big, wide, &got);
	check_mem(got.data, got.len, want->data, want->len);
	buf_reset(&got);
	encode_pieces(in->data, in->len, limit, one, rooms, &got);
	check_mem(got.data, got.len, want->data, want->len);
	buf_reset(&got);
	encode_pieces(in->data, in->len, limit, odd, rooms, &got);
	check_mem(got.data, got.len, want->data, want->len);
	buf_reset(&got);
	body_through(in->data, in->len, 333, limit, &got);
	check_mem(got.data, got.len, want->data, want->len);
	buf_free(&got);
	buf_free(&ref);
}

/* spec - text appended with each "{cN}" as N copies of c */
static void
spec(struct buf *b, const char *text)
{
	char	*end;
	size_t	 n;

	for (; *text != '\0'; text++) {
		if (*text != '{' || text[1] == '\0') {
			buf_addc(b, *text);
			continue;
		}
		n = (size_t)strtoul(text + 2, &end, 10);
		rep(b, text[1], n);
		text = end;	/* the '}' */
	}
}

struct limit_case {
	const char	*in;		/* spec() text */
	int		 limit;
	const char	*out;		/* spec() text */
};

/* limit_cases - each case's input with its limit is its output */
static void
limit_cases(const struct limit_case *c, size_t n)
{
	struct buf	 in, want;
	size_t		 i;

	buf_init(&in, 16384);
	buf_init(&want, 16384);
	for (i = 0; i < n; i++) {
		buf_reset(&in);
		buf_reset(&want);
		spec(&in, c[i].in);
		spec(&want, c[i].out);
		limit_is(&in, c[i].limit, &want);
	}
	buf_free(&in);
	buf_free(&want);
}

static void
t_body_limit(void)
{
	static const struct limit_case	 cases[] = {
		/* 998 and 999 octets go whole; 1000 is broken after 999 */
		{ "{x998}\n", 999, "{x998}\r\n.\r\n" },
		{ "{x999}\n", 999, "{x999}\r\n.\r\n" },
		{ "{x1000}\n", 999, "{x999}\r\n x\r\n.\r\n" },
		{ "{x1000}", 999, "{x999}\r\n x\r\n.\r\n" },
		/* 5000: 999, then continuations of SPACE and 998 */
		{ "{y5000}\nnext\n", 999, "{y999}\r\n {y998}\r\n {y998}\r\n"
		    " {y998}\r\n {y998}\r\n {y9}\r\nnext\r\n.\r\n" },
		/* no limit: whole */
		{ "{y5000}\nnext\n", 0, "{y5000}\r\nnext\r\n.\r\n" },
		{ "{y5000}\nnext\n", -1, "{y5000}\r\nnext\r\n.\r\n" },
		{ "", 999, ".\r\n" },
		{ "\n", 999, "\r\n.\r\n" },
	};

	limit_cases(cases, nitems(cases));
}

static void
t_body_limit_dots(void)
{
	static const struct limit_case	 cases[] = {
		/* the doubled dot does not count */
		{ ".{x999}\n", 999, "..{x998}\r\n x\r\n.\r\n" },
		{ ".{x998}\n", 999, "..{x998}\r\n.\r\n" },
		/* a '.' just past the limit: " .", never a lone "." */
		{ "{x999}.\n.\n..\n", 999, "{x999}\r\n .\r\n..\r\n...\r\n"
		    ".\r\n" },
		{ "{x999}.", 999, "{x999}\r\n .\r\n.\r\n" },
		/* dots at every break */
		{ "{.12}", 3, "....\r\n ..\r\n ..\r\n ..\r\n ..\r\n .\r\n"
		    ".\r\n" },
		/* limit 2 (and 1, which is 2): a SPACE and one octet */
		{ ".abc\n.\n", 2, "..a\r\n b\r\n c\r\n..\r\n.\r\n" },
		{ ".abc\n.\n", 1, "..a\r\n b\r\n c\r\n..\r\n.\r\n" },
	};

	limit_cases(cases, nitems(cases));
}

static void
t_body_limit_cr(void)
{
	static const struct limit_case	 cases[] = {
		/* a CR before the LF is the line end, not content */
		{ "abc\r\n", 3, "abc\r\n.\r\n" },
		{ "abcd\r\n", 3, "abc\r\n d\r\n.\r\n" },
		{ "ab\r\n", 3, "ab\r\n.\r\n" },
		/* a CR at the limit, then content: carried over */
		{ "abc\rd\n", 3, "abc\r\n \rd\r\n.\r\n" },
		{ "abc\r\r\n", 3, "abc\r\n \r\r\n.\r\n" },
		{ "abc\r.\n", 3, "abc\r\n \r.\r\n.\r\n" },
		/* a CR inside counts */
		{ "a\rbc\n", 3, "a\rb\r\n c\r\n.\r\n" },
		{ "ab\rc\n", 3, "ab\r\r\n c\r\n.\r\n" },
		/* a CR at the very end is the line end */
		{ "abc\r", 3, "abc\r\n.\r\n" },
		{ "ab\r", 3, "ab\r\n.\r\n" },
		{ "abcdef\r", 3, "abc\r\n de\r\n f\r\n.\r\n" },
		/* CRs only */
		{ "\r\r\r\r\r\n", 3, "\r\r\r\r\n \r\r\n.\r\n" },
		{ "\r\n\r\n", 3, "\r\n\r\n.\r\n" },
		/* the real limit: 999 and CRLF, 999 and a bare CR */
		{ "{z999}\r\n{z999}\rz\n", 999, "{z999}\r\n{z999}\r\n \rz\r\n"
		    ".\r\n" },
	};

	limit_cases(cases, nitems(cases));
}

/*
 * t_body_limit_split - interesting inputs cut into two pieces at every
 * position, and fed byte by byte, come out as they do whole
 */
static void
t_body_limit_split(void)
{
	static const char *const inputs[] = {
		"abc\r\n.def\r\rgh\n\n.\r\n..ijklmnop\rq\r",
		".....\n\r\r\r\n.a.b.c.d.e.f\n",
		"xyzw\r\n",
		"\r",
	};
	static const size_t	 wide[] = { 256, 0 }, one[] = { 1, 0 };
	static const int	 limits[] = { 0, 1, 2, 3, 4, 7, 999 };
	struct buf		 whole, got;
	size_t			 i, j, at, bad, pieces[3];

	buf_init(&whole, 4096);
	buf_init(&got, 4096);
	for (i = 0; i < nitems(inputs); i++)
		for (j = 0; j < nitems(limits); j++) {
			const char	*in = inputs[i];
			size_t		 len = strlen(in);

			buf_reset(&whole);
			ref_body_encode(in, len, (size_t)(limits[j] > 0 ?
			    limits[j] : 0), &whole);
			bad = 0;
			for (at = 0; at <= len; at++) {
				pieces[0] = at > 0 ? at : len;
				pieces[1] = at > 0 ? len - at : 0;
				pieces[2] = 0;
				if (pieces[1] == 0)
					pieces[1] = 1;
				buf_reset(&got);
				encode_pieces(in, len, limits[j], pieces, wide,
				    &got);
				if (got.len != whole.len || memcmp(got.data,
				    whole.data, got.len) != 0)
					bad++;
			}
			buf_reset(&got);
			encode_pieces(in, len, limits[j], one, wide, &got);
			if (got.len != whole.len || memcmp(got.data,
			    whole.data, got.len) != 0)
				bad++;
			check_int(bad, ==, 0);
			if (bad != 0)
				tap_diag("input %zu, limit %d", i, limits[j]);
		}
	buf_free(&whole);
	buf_free(&got);
}

/*
 * t_body_limit_random - random content over a small alphabet, random
 * limits, random pieces and room, against the reference; the wire's
 * lines are within the limit and never a lone "." before the end
 */
static void
t_body_limit_random(void)
{
	static const char	 alpha[] = "ab.\r\n ";
	struct buf		 in, got, ref;
	size_t			 pieces[8], rooms[8], len, i, k, start, n;
	unsigned int		 seed = 20261124;
	int			 limit, round, bad = 0, toolong = 0, lone = 0;

	buf_init(&in, 8192);
	buf_init(&got, 65536);
	buf_init(&ref, 65536);
	for (round = 0; round < 3000; round++) {
		buf_reset(&in);
		buf_reset(&got);
		buf_reset(&ref);
		len = (size_t)rand_r(&seed) % (round < 2000 ? 60 : 3000);
		for (i = 0; i < len; i++)
			buf_addc(&in, alpha[rand_r(&seed) % (sizeof(alpha) -
			    1)]);
		limit = round % 7 == 0 ? 0 : 1 + rand_r(&seed) %
		    (round % 3 == 0 ? 1000 : 9);
		for (k = 0; k < nitems(pieces) - 1; k++) {
			pieces[k] = 1 + (size_t)rand_r(&seed) % 50;
			rooms[k] = SMTPIO_BODY_STEP + (size_t)rand_r(&seed) %
			    60;
		}
		pieces[k] = rooms[k] = 0;
		encode_pieces(in.data, in.len, limit, pieces, rooms, &got);
		ref_body_encode(in.data, in.len, (size_t)limit, &ref);
		if (got.len != ref.len || memcmp(got.data, ref.data,
		    got.len) != 0) {
			if (bad++ == 0)
				tap_diag("round %d, limit %d: \"%.*s\"", round,
				    limit, (int)in.len, in.data);
			continue;
		}
		/* the wire's lines; the last is the final "." */
		for (start = 0, i = 0; i + 1 < got.len; i++) {
			if (got.data[i] != '\r' || got.data[i + 1] != '\n')
				continue;
			n = i - start;
			if (n > 0 && got.data[start] == '.')
				n--;
			if (limit > 0 && n > (size_t)(limit < 2 ? 2 : limit) &&
			    toolong++ == 0)
				tap_diag("round %d, limit %d: line of %zu: "
				    "\"%.*s\"", round, limit, n,
				    (int)(i - start), got.data + start);
			if (i - start == 1 && got.data[start] == '.' &&
			    i + 2 != got.len)
				lone++;
			start = i + 2;
		}
	}
	check_int(bad, ==, 0);
	check_int(toolong, ==, 0);
	check_int(lone, ==, 0);
	buf_free(&in);
	buf_free(&got);
	buf_free(&ref);
}

/* t_body_limit_big - long lines across many flushes of the buffer */
static void
t_body_limit_big(void)
{
	struct buf	 in;
	size_t		 i;

	buf_init(&in, BIG_BODY + 10000);
	for (i = 0; in.len < BIG_BODY; i++) {
		if (i % 5 == 0)
			buf_addc(&in, '.');
		rep(&in, (char)('a' + i % 26), (i * 7919) % 4000);
		buf_adds(&in, i % 11 == 0 ? "\r\n" : "\n");
	}
	big_is(&in, 999);
	buf_free(&in);
}

/* t_body_limit_state - the limit is kept by the end, reset by init */
static void
t_body_limit_state(void)
{
	struct smtpio_body	 b;
	char			 out[64], end[SMTPIO_BODY_END_MAX];
	size_t			 used, n;

	smtpio_body_init(&b);
	check_int(b.limit, ==, 0);
	smtpio_body_set_limit(&b, 2);
	n = smtpio_body_encode(&b, "abc", 3, out, sizeof(out), &used);
	check_mem(out, n, "ab\r\n c", 6);
	check_int(used, ==, 3);
	n = smtpio_body_finish(&b, end);
	check_mem(end, n, "\r\n.\r\n", 5);
	/* the next message: the same limit, a fresh line */
	n = smtpio_body_encode(&b, ".abc", 4, out, sizeof(out), &used);
	check_mem(out, n, "..a\r\n b\r\n c", 11);
	n = smtpio_body_finish(&b, end);
	check_mem(end, n, "\r\n.\r\n", 5);
	/* a held CR and nothing else */
	n = smtpio_body_encode(&b, "ab\r", 3, out, sizeof(out), &used);
	check_mem(out, n, "ab", 2);
	check_int(used, ==, 3);
	n = smtpio_body_finish(&b, end);
	check_mem(end, n, "\r\n.\r\n", 5);
	/* an empty content */
	n = smtpio_body_finish(&b, end);
	check_mem(end, n, ".\r\n", 3);
	smtpio_body_set_limit(&b, -5);
	check_int(b.limit, ==, 0);
	smtpio_body_set_limit(&b, 7);
	smtpio_body_init(&b);
	check_int(b.limit, ==, 0);
	/* too little room for a break: nothing consumed */
	smtpio_body_set_limit(&b, 1);
	check_int(b.limit, ==, SMTPIO_LINE_LIMIT_MIN);
	n = smtpio_body_encode(&b, "abc", 3, out, 3, &used);
	check_mem(out, n, "ab", 2);
	check_int(used, ==, 2);
	n = smtpio_body_encode(&b, "c", 1, out, 3, &used);
	check_int(n, ==, 0);
	check_int(used, ==, 0);
	n = smtpio_body_encode(&b, "c", 1, out, 4, &used);
	check_mem(out, n, "\r\n c", 4);
	/* the most one byte makes: a held CR carried over, then a break */
	smtpio_body_init(&b);
	smtpio_body_set_limit(&b, 2);
	n = smtpio_body_encode(&b, "ab\r", 3, out, sizeof(out), &used);
	check_mem(out, n, "ab", 2);
	n = smtpio_body_encode(&b, "c", 1, out, SMTPIO_BODY_STEP - 1, &used);
	check_int(n, ==, 0);
	n = smtpio_body_encode(&b, "c", 1, out, SMTPIO_BODY_STEP, &used);
	check_mem(out, n, "\r\n \r\r\n c", SMTPIO_BODY_STEP);
}

/* ext_of - the extensions of an EHLO reply given as its lines */
static void
ext_of(const char *const *lines, struct smtpio_ext *ext)
{
	struct smtpio_reply	 r;
	size_t			 i;

	smtpio_reply_init(&r);
	for (i = 0; lines[i] != NULL; i++)
		if (!check_int(smtpio_reply_parse(&r, lines[i],
		    strlen(lines[i])), ==, SMTPIO_OK))
			tap_diag("line: %s", lines[i]);
	check_int(r.done, ==, 1);
	smtpio_parse_ext(&r, ext);
	smtpio_reply_free(&r);
}

#define ALL_BUT_AUTH	(SMTPIO_EXT_PIPELINING | SMTPIO_EXT_SIZE | \
			    SMTPIO_EXT_8BITMIME | SMTPIO_EXT_SMTPUTF8 | \
			    SMTPIO_EXT_DSN | SMTPIO_EXT_STARTTLS | \
			    SMTPIO_EXT_ENHANCEDSTATUSCODES | \
			    SMTPIO_EXT_CHUNKING)
#define AUTH_BOTH	(SMTPIO_EXT_AUTH | SMTPIO_EXT_AUTH_PLAIN | \
			    SMTPIO_EXT_AUTH_LOGIN)

static void
t_ext(void)
{
	static const struct {
		const char	*lines[12];
		int		 flags;
		long long	 size;
	} cases[] = {
		/* Postfix's */
		{ { "250-mx.example.org", "250-PIPELINING",
		    "250-SIZE 10240000", "250-VRFY", "250-ETRN",
		    "250-STARTTLS", "250-ENHANCEDSTATUSCODES", "250-8BITMIME",
		    "250-DSN", "250-SMTPUTF8", "250 CHUNKING", NULL },
		    ALL_BUT_AUTH, 10240000 },
		/* Dovecot's LHLO reply */
		{ { "250-mail.example.org", "250-8BITMIME", "250-CHUNKING",
		    "250-ENHANCEDSTATUSCODES", "250-PIPELINING",
		    "250-SMTPUTF8", "250 VRFY", NULL },
		    SMTPIO_EXT_8BITMIME | SMTPIO_EXT_CHUNKING |
		    SMTPIO_EXT_ENHANCEDSTATUSCODES | SMTPIO_EXT_PIPELINING |
		    SMTPIO_EXT_SMTPUTF8, 0 },
		/* the first line is the server's name, never a keyword */
		{ { "250 mx.example.org", NULL }, 0, 0 },
		{ { "250 PIPELINING", NULL }, 0, 0 },
		{ { "250-SIZE 5", "250 DSN", NULL }, SMTPIO_EXT_DSN, 0 },
		{ { "250", NULL }, 0, 0 },
		{ { "250-mx", "250", NULL }, 0, 0 },
		/* any case */
		{ { "250-mx", "250-pipelining", "250-size 1000",
		    "250-Auth plain login", "250-StartTLS", "250 8bitmime",
		    NULL }, SMTPIO_EXT_PIPELINING | SMTPIO_EXT_SIZE |
		    AUTH_BOTH | SMTPIO_EXT_STARTTLS | SMTPIO_EXT_8BITMIME,
		    1000 },
		/* AUTH: both syntaxes, unknown mechanisms */
		{ { "250-mx", "250-AUTH=LOGIN PLAIN", "250 AUTH CRAM-MD5",
		    NULL }, AUTH_BOTH, 0 },
		{ { "250-mx", "250 AUTH=PLAIN", NULL },
		    SMTPIO_EXT_AUTH | SMTPIO_EXT_AUTH_PLAIN, 0 },
		{ { "250-mx", "250 AUTH CRAM-MD5 XOAUTH2 SCRAM-SHA-1", NULL },
		    SMTPIO_EXT_AUTH, 0 },
		{ { "250-mx", "250 AUTH", NULL }, SMTPIO_EXT_AUTH, 0 },
		{ { "250-mx", "250 AUTH  LOGIN   PLAINX LOGINX", NULL },
		    SMTPIO_EXT_AUTH | SMTPIO_EXT_AUTH_LOGIN, 0 },
		{ { "250-mx", "250 XAUTH PLAIN", NULL }, 0, 0 },
		/* SIZE: numbers, no number, bad and huge ones */
		{ { "250-mx", "250 SIZE", NULL }, SMTPIO_EXT_SIZE, 0 },
		{ { "250-mx", "250 SIZE 0", NULL }, SMTPIO_EXT_SIZE, 0 },
		{ { "250-mx", "250 SIZE 1000 more", NULL }, SMTPIO_EXT_SIZE,
		    1000 },
		{ { "250-mx", "250 SIZE 9223372036854775807", NULL },
		    SMTPIO_EXT_SIZE, 9223372036854775807LL },
		{ { "250-mx", "250 SIZE 9223372036854775808", NULL },
		    SMTPIO_EXT_SIZE, 0 },
		{ { "250-mx", "250 SIZE 99999999999999999999999999999", NULL },
		    SMTPIO_EXT_SIZE, 0 },
		{ { "250-mx", "250 SIZE 123456789012345678901234567890123456",
		    NULL }, SMTPIO_EXT_SIZE, 0 },
		{ { "250-mx", "250 SIZE -5", NULL }, SMTPIO_EXT_SIZE, 0 },
		{ { "250-mx", "250 SIZE abc", NULL }, SMTPIO_EXT_SIZE, 0 },
		{ { "250-mx", "250 SIZE 12abc", NULL }, SMTPIO_EXT_SIZE, 0 },
		{ { "250-mx", "250 SIZE=1000", NULL }, SMTPIO_EXT_SIZE, 0 },
		{ { "250-mx", "250-SIZE 10", "250 SIZE 20", NULL },
		    SMTPIO_EXT_SIZE, 20 },
		/* garbage */
		{ { "250-mx", "250-PIPELININGX", "250-XPIPELINING",
		    "250- PIPELINING", "250-8BITMIME8", "250-SIZ 100",
		    "250-SIZES 100", "250-", "250-\001\002\003",
		    "250 DSN\tfoo", NULL }, 0, 0 },
		{ { "250-mx", "250-DSN foo=bar", "250-STARTTLS now",
		    "250 CHUNKING=yes", NULL }, SMTPIO_EXT_DSN |
		    SMTPIO_EXT_STARTTLS | SMTPIO_EXT_CHUNKING, 0 },
		{ { "250-2.0.0 mx", "250-2.0.0 PIPELINING", "250 2.0.0 DSN",
		    NULL }, SMTPIO_EXT_PIPELINING | SMTPIO_EXT_DSN, 0 },
	};
	struct smtpio_ext	 ext;
	struct smtpio_reply	 r;
	size_t			 i;

	for (i = 0; i < nitems(cases); i++) {
		ext.flags = -1;
		ext.size = -1;
		ext_of(cases[i].lines, &ext);
		if (!check_int(ext.flags, ==, cases[i].flags) |
		    !check_int(ext.size, ==, cases[i].size))
			tap_diag("case %zu: %s", i, cases[i].lines[1] != NULL ?
			    cases[i].lines[1] : cases[i].lines[0]);
	}
	/* a reply that was never read */
	smtpio_reply_init(&r);
	ext.flags = -1;
	ext.size = -1;
	smtpio_parse_ext(&r, &ext);
	check_int(ext.flags, ==, 0);
	check_int(ext.size, ==, 0);
	smtpio_reply_free(&r);
}

/* reply_of - r read from one line of text (replaced) */
static void
reply_of(struct smtpio_reply *r, const char *text)
{
	const char	*nl;

	smtpio_reply_free(r);
	smtpio_reply_init(r);
	while ((nl = strchr(text, '\n')) != NULL) {
		check_int(smtpio_reply_parse(r, text, (size_t)(nl - text)),
		    ==, SMTPIO_OK);
		text = nl + 1;
	}
	check_int(smtpio_reply_parse(r, text, strlen(text)), ==, SMTPIO_OK);
}

static void
t_reply_codes(void)
{
	static const struct {
		const char	*reply;
		int		 cls;
		const char	*dsn, *class_dsn, *defer;
	} cases[] = {
		{ "250 2.1.5 Ok", 2, "2.1.5", "2.1.5", "4.4.2" },
		{ "250 Ok", 2, "2.0.0", "2.0.0", "4.4.2" },
		{ "221 Bye", 2, "2.0.0", "2.0.0", "4.4.2" },
		{ "452 4.2.2 full", 4, "4.2.2", "4.2.2", "4.2.2" },
		{ "451 try later", 4, "4.0.0", "4.0.0", "4.4.2" },
		{ "421 4.7.0 bye", 4, "4.7.0", "4.7.0", "4.7.0" },
		{ "421 bye", 4, "4.0.0", "4.0.0", "4.4.2" },
		{ "550 5.1.1 unknown", 5, "5.1.1", "5.1.1", "4.4.2" },
		{ "554 no", 5, "5.0.0", "5.0.0", "4.4.2" },
		{ "550 4.1.1 mismatched", 5, "5.0.0", "5.0.0", "4.4.2" },
		{ "354 go ahead", 5, "3.0.0", "5.5.0", "4.4.2" },
		{ "334 VXNlcm5hbWU6", 5, "3.0.0", "5.5.0", "4.4.2" },
	};
	struct smtpio_reply	 r;
	char			 dsn[SMTPIO_DSN_MAX];
	size_t			 i;

	smtpio_reply_init(&r);
	for (i = 0; i < nitems(cases); i++) {
		reply_of(&r, cases[i].reply);
		smtpio_reply_dsn(&r, dsn, sizeof(dsn));
		check_str(dsn, cases[i].dsn);
		check_int(smtpio_reply_class(&r, dsn, sizeof(dsn)), ==,
		    cases[i].cls);
		check_str(dsn, cases[i].class_dsn);
		check_str(smtpio_reply_defer_dsn(&r), cases[i].defer);
	}
	smtpio_reply_free(&r);
}

static void
t_reply_texts(void)
{
	struct smtpio_reply	 r;
	struct buf		 b;
	char			 dsn[SMTPIO_DSN_MAX];

	smtpio_reply_init(&r);
	buf_init(&b, 4096);
	reply_of(&r, "550-5.1.1 <x@y>: Recipient address rejected:\n"
	    "550 5.1.1 User unknown");
	check_int(smtpio_said(&b, "mx.example.org[192.0.2.1]", &r,
	    "RCPT TO command"), ==, BUF_OK);
	check_str(buf_str(&b), "host mx.example.org[192.0.2.1] said: 550 "
	    "5.1.1 <x@y>: Recipient address rejected: User unknown (in "
	    "reply to RCPT TO command)");
	buf_reset(&b);
	reply_of(&r, "554 go away");
	check_int(smtpio_said(&b, "mx", &r, NULL), ==, BUF_OK);
	check_str(buf_str(&b), "host mx refused to talk to me: 554 go away");
	/* smtpio_said appends */
	check_int(smtpio_said(&b, "h", &r, "QUIT command"), ==, BUF_OK);
	check_str(buf_str(&b), "host mx refused to talk to me: 554 go away"
	    "host h said: 554 go away (in reply to QUIT command)");

	/* results: the reply for 2xx, what the host said for the rest */
	buf_reset(&b);
	buf_adds(&b, "old text");
	reply_of(&r, "250 2.0.0 Ok: queued as 4XyZ");
	check_int(smtpio_reply_result(&r, "mx", "end of DATA command", &b,
	    dsn, sizeof(dsn)), ==, 2);
	check_str(dsn, "2.0.0");
	check_str(buf_str(&b), "250 2.0.0 Ok: queued as 4XyZ");
	reply_of(&r, "452 4.2.2 Mailbox full");
	check_int(smtpio_reply_result(&r, "mx", "end of DATA command", &b,
	    dsn, sizeof(dsn)), ==, 4);
	check_str(dsn, "4.2.2");
	check_str(buf_str(&b), "host mx said: 452 4.2.2 Mailbox full (in "
	    "reply to end of DATA command)");
	reply_of(&r, "354 what");
	check_int(smtpio_reply_result(&r, "mx", "RSET command", &b, dsn,
	    sizeof(dsn)), ==, 5);
	check_str(dsn, "5.5.0");
	check_str(buf_str(&b), "host mx said: 354 what (in reply to RSET "
	    "command)");
	/* a text that does not fit */
	buf_free(&b);
	buf_init(&b, 30);
	reply_of(&r, "550 5.1.1 a rather long text that does not fit");
	check_int(smtpio_reply_result(&r, "mx", "RCPT TO command", &b, dsn,
	    sizeof(dsn)), ==, 5);
	check_str(buf_str(&b), "(result text unavailable)");
	buf_free(&b);
	smtpio_reply_free(&r);
}

static void
t_io_why(void)
{
	static const struct {
		int		 status, err;
		const char	*dsn, *text;
	} cases[] = {
		{ SMTPIO_TIMEOUT, 0, "4.4.2", "conversation with mx timed out "
		    "while sending message body" },
		{ SMTPIO_EOF, 0, "4.4.2", "lost connection with mx while "
		    "sending message body" },
		{ SMTPIO_SYNTAX, 0, "4.4.2", "malformed reply from mx while "
		    "sending message body" },
		{ SMTPIO_TOOLONG, 0, "4.4.2", "overlong reply from mx while "
		    "sending message body" },
		{ SMTPIO_NOMEM, 0, "4.3.0", "out of memory while sending "
		    "message body" },
		{ SMTPIO_ERROR, EPIPE, "4.4.2", "lost connection with mx "
		    "while sending message body" },
		{ SMTPIO_ERROR, ECONNRESET, "4.4.2", "lost connection with mx "
		    "while sending message body" },
		{ SMTPIO_ERROR, EACCES, "4.4.2", "error talking to mx while "
		    "sending message body: Permission denied" },
	};
	struct buf	 b;
	size_t		 i;

	buf_init(&b, 1024);
	for (i = 0; i < nitems(cases); i++) {
		buf_reset(&b);
		errno = cases[i].err;
		check_str(smtpio_io_why(&b, cases[i].status, "mx",
		    "sending message body"), cases[i].dsn);
		check_str(buf_str(&b), cases[i].text);
	}
	buf_free(&b);
}

/* listen_unix - a listening UNIX-domain socket at path */
static int
listen_unix(const char *path)
{
	struct sockaddr_un	 sun;
	int			 fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	str_copy(sun.sun_path, sizeof(sun.sun_path), path);
	unlink(path);
	if ((fd = socket(AF_UNIX, SOCK_STREAM, 0)) == -1 ||
	    bind(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1 ||
	    listen(fd, 5) == -1) {
		tap_diag("listen %s: %s", path, strerror(errno));
		return -1;
	}
	return fd;
}

/* listen_inet - a listening socket on 127.0.0.1; its port in *port */
static int
listen_inet(int *port)
{
	struct sockaddr_in	 sin;
	socklen_t		 len = sizeof(sin);
	int			 fd;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((fd = socket(AF_INET, SOCK_STREAM, 0)) == -1 ||
	    bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1 ||
	    listen(fd, 5) == -1 ||
	    getsockname(fd, (struct sockaddr *)&sin, &len) == -1) {
		tap_diag("listen inet: %s", strerror(errno));
		return -1;
	}
	*port = ntohs(sin.sin_port);
	return fd;
}

/* connect_ok - dest connects, and the listener sees it */
static void
connect_ok(const char *dest, const char *def, int lfd)
{
	struct buf	 why;
	int		 fd, afd;

	buf_init(&why, 1024);
	fd = smtpio_connect(dest, def, 5, &why);
	if (!check(fd >= 0))
		tap_diag("%s: %s", dest, buf_str(&why));
	afd = accept(lfd, NULL, NULL);
	check(afd >= 0);
	if (fd >= 0)
		close(fd);
	if (afd >= 0)
		close(afd);
	buf_free(&why);
}

/* connect_fails - dest does not connect, with a reason like want */
static void
connect_fails(const char *dest, const char *def, const char *want)
{
	struct buf	 why;
	int		 fd;

	buf_init(&why, 1024);
	fd = smtpio_connect(dest, def, 5, &why);
	check_int(fd, ==, -1);
	if (!check(strstr(buf_str(&why), want) != NULL))
		tap_diag("%s: \"%s\" lacks \"%s\"", dest, buf_str(&why), want);
	if (fd >= 0)
		close(fd);
	buf_free(&why);
}

static void
t_connect(void)
{
	char	 path[300], dest[400];
	int	 lfd, port;

	bsnprintf(path, sizeof(path), "%s/sock", dir);
	if ((lfd = listen_unix(path)) == -1)
		return;
	bsnprintf(dest, sizeof(dest), "unix:%s", path);
	connect_ok(dest, NULL, lfd);
	close(lfd);
	connect_fails(dest, NULL, "Connection refused");
	bsnprintf(dest, sizeof(dest), "unix:%s/nothing", dir);
	connect_fails(dest, NULL, "No such file or directory");
	connect_fails("unix:", NULL, "empty socket path");

	if ((lfd = listen_inet(&port)) == -1)
		return;
	bsnprintf(dest, sizeof(dest), "[127.0.0.1]:%d", port);
	connect_ok(dest, NULL, lfd);
	bsnprintf(dest, sizeof(dest), "127.0.0.1:%d", port);
	connect_ok(dest, NULL, lfd);
	bsnprintf(dest, sizeof(dest), "inet:127.0.0.1:%d", port);
	connect_ok(dest, NULL, lfd);
	bsnprintf(dest, sizeof(dest), "%d", port);
	connect_ok("[127.0.0.1]", dest, lfd);
	close(lfd);
	bsnprintf(dest, sizeof(dest), "[127.0.0.1]:%d", port);
	connect_fails(dest, NULL, "Connection refused");

	connect_fails("[127.0.0.1", "24", "no ']'");
	connect_fails("[127.0.0.1]x", "24", "junk after");
	connect_fails("::1:24", "24", "[ADDRESS]:PORT");
	connect_fails("127.0.0.1:", "24", "bad port");
	connect_fails(":24", "24", "empty host");
	connect_fails("127.0.0.1", NULL, "no port");
	connect_fails("[]:24", NULL, "empty host");
}

/* cleanup - remove the scratch directory */
static void
cleanup(void)
{
	char	 path[300];

	bsnprintf(path, sizeof(path), "%s/body", dir);
	unlink(path);
	bsnprintf(path, sizeof(path), "%s/sock", dir);
	unlink(path);
	rmdir(dir);
}

int
main(void)
{
	char	 tmpl[] = "/tmp/t-smtpio.XXXXXX";

	signal(SIGPIPE, SIG_DFL);
	if (mkdtemp(tmpl) == NULL)
		return 1;
	str_copy(dir, sizeof(dir), tmpl);
	TEST(t_reply_simple, "single-line replies");
	TEST(t_reply_multi, "multi-line replies, cut-off replies");
	TEST(t_reply_bad_codes, "what is not a reply");
	TEST(t_reply_enhanced, "enhanced status codes, control characters");
	TEST(t_reply_limits, "line, text and line-count limits");
	TEST(t_reply_parse_direct, "the line parser on its own");
	TEST(t_timeout, "a reply that does not come in time");
	TEST(t_write_timeout_and_eof, "a peer that does not read or is gone");
	TEST(t_cmd, "commands: CRLF, no line breaks inside, a length limit");
	TEST(t_body, "body: CRLF and dot-stuffing, in pieces of any size");
	TEST(t_body_encode_tiny, "the encoder with a two-byte output");
	TEST(t_body_big, "a large body through a blocking peer");
	TEST(t_body_limit, "line limit: 998, 999, 1000, 5000 octets, none");
	TEST(t_body_limit_dots, "line limit: dot-stuffing, no lone \".\"");
	TEST(t_body_limit_cr, "line limit: CR before LF, bare CR, CR at end");
	TEST(t_body_limit_split, "line limit: every cut, byte by byte");
	TEST(t_body_limit_random, "line limit: random content and pieces");
	TEST(t_body_limit_big, "line limit: long lines through many flushes");
	TEST(t_body_limit_state, "line limit: kept across messages, room");
	TEST(t_ext, "EHLO/LHLO extensions: real, odd and garbage replies");
	TEST(t_reply_codes, "status codes from replies");
	TEST(t_reply_texts, "Postfix's texts for replies and results");
	TEST(t_io_why, "Postfix's texts for failed reads and writes");
	TEST(t_connect, "connecting: unix, inet, and bad destinations");
	cleanup();
	return test_done();
}
