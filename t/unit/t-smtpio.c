/*
 * t-smtpio.c - unit tests for common/smtpio: replies (multi-line, bad
 * codes, overlong lines, enhanced codes), timeouts, the body encoder
 * (CRLF, dot-stuffing) and connecting, with a socketpair or a real
 * socket as the peer
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

static void
t_body_big(void)
{
	struct smtpio	 io;
	struct buf	 in, want, got;
	char		 tmp[65536];
	size_t		 i, off, n;
	ssize_t		 r;
	pid_t		 pid;
	int		 sv[2], st, fd;
	char		 path[300];

	if (pair(sv) != 0)
		return;
	buf_init(&in, BIG_BODY + 100);
	for (i = 0; in.len < BIG_BODY; i++)
		buf_printf(&in, "%s%zu line\n", i % 3 == 0 ? "." : "", i);
	buf_init(&want, 2 * BIG_BODY + 100);
	encode(in.data, in.len, &want);
	bsnprintf(path, sizeof(path), "%s/body", dir);
	/* a reader that saves what arrives, so the writer can block */
	if ((pid = fork()) == 0) {
		close(sv[0]);
		fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		while ((r = read(sv[1], tmp, sizeof(tmp))) > 0)
			write_all(fd, tmp, (size_t)r);
		_exit(0);
	}
	close(sv[1]);
	smtpio_init(&io, sv[0], 10);
	for (off = 0; off < in.len; off += n) {
		n = in.len - off < 7919 ? in.len - off : 7919;
		if (smtpio_body_write(&io, in.data + off, n) != SMTPIO_OK)
			break;
	}
	check_int(off, ==, in.len);
	check_int(smtpio_body_end(&io), ==, SMTPIO_OK);
	check_int(smtpio_flush(&io), ==, SMTPIO_OK);
	smtpio_close(&io);
	waitpid(pid, &st, 0);
	buf_init(&got, 2 * BIG_BODY + 100);
	fd = open(path, O_RDONLY);
	while ((r = read(fd, tmp, sizeof(tmp))) > 0)
		buf_add(&got, tmp, (size_t)r);
	close(fd);
	check_int(got.len, ==, want.len);
	check(got.len == want.len && memcmp(got.data, want.data,
	    got.len) == 0);
	buf_free(&in);
	buf_free(&want);
	buf_free(&got);
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
	TEST(t_connect, "connecting: unix, inet, and bad destinations");
	cleanup();
	return test_done();
}
