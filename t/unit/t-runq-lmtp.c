/*
 * t-runq-lmtp.c - unit tests for runq's lmtp_deliver against a scripted
 * LMTP server in a child process: per-recipient results, extensions
 * (8BITMIME, SMTPUTF8, PIPELINING, SIZE), the content on the wire, and
 * every way a session can fail
 */
#include <sys/types.h>
#include <sys/socket.h>
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
#include "common/util.h"
#include "cmd/runq/deliver.h"
#include "t/unit/tap.h"

#define CONTENT		"Subject: hi\n\n.leading dot\nline\n"
#define CONTENT_WIRE	"Subject: hi\r\n\r\n..leading dot\r\nline\r\n.\r\n"
#define SERVER_ALARM	20

static char	 dir[256];
static char	 sock[300];
static char	 dest[400];

/* scratch - a path in the scratch directory */
static const char *
scratch(const char *name)
{
	static char	 path[300];

	bsnprintf(path, sizeof(path), "%s/%s", dir, name);
	return path;
}

/* qfile - a queue-like file holding content after some junk */
static int
qfile(const char *content, struct dlv_msg *msg)
{
	const char	*junk = "records\n";
	int		 fd;

	fd = open(scratch("q"), O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (fd == -1 || write_all(fd, junk, strlen(junk)) < 0 ||
	    write_all(fd, content, strlen(content)) < 0) {
		tap_diag("qfile: %s", strerror(errno));
		return -1;
	}
	memset(msg, 0, sizeof(*msg));
	msg->fd = fd;
	msg->off = (off_t)strlen(junk);
	msg->len = (off_t)strlen(content);
	msg->queue_id = "ABCDEF";
	msg->sender = "s@example.org";
	msg->recipient = "alice@example.org";
	return fd;
}

/*
 * serve - the scripted server on one accepted connection.  Steps:
 * "S text" sends text and CRLF; "E prefix" reads a line that must
 * start with prefix; "D" reads the content up to "." into dir/data;
 * "W n" sleeps n seconds; "C" closes at once.  At the end of the
 * script it reads until EOF.  Exits 0 when every line was as expected.
 */
static void
serve(int lfd, const char *const *script)
{
	FILE	*in;
	char	*line = NULL;
	size_t	 cap = 0, i;
	ssize_t	 n;
	int	 fd, dfd;

	alarm(SERVER_ALARM);
	if ((fd = accept(lfd, NULL, NULL)) == -1)
		_exit(2);
	close(lfd);
	in = fdopen(dup(fd), "r");
	for (i = 0; script[i] != NULL; i++) {
		const char	*s = script[i];

		switch (s[0]) {
		case 'S':
			write_all(fd, s + 2, strlen(s + 2));
			write_all(fd, "\r\n", 2);
			break;
		case 'E':
			n = getline(&line, &cap, in);
			if (n < 0 || strncmp(line, s + 2, strlen(s + 2)) != 0) {
				fprintf(stderr, "# server: wanted \"%s\", got "
				    "\"%s\"\n", s + 2, n < 0 ? "EOF" : line);
				_exit(1);
			}
			break;
		case 'D':
			dfd = open(scratch("data"), O_WRONLY | O_CREAT |
			    O_TRUNC, 0600);
			while ((n = getline(&line, &cap, in)) > 0) {
				write_all(dfd, line, (size_t)n);
				if (strcmp(line, ".\r\n") == 0)
					break;
			}
			close(dfd);
			break;
		case 'W':
			sleep((unsigned int)strtol(s + 2, NULL, 10));
			break;
		case 'C':
			_exit(0);
		}
	}
	while (getline(&line, &cap, in) > 0)
		;
	_exit(0);
}

/* listen_unix - the server's socket at sock */
static int
listen_unix(void)
{
	struct sockaddr_un	 sun;
	int			 fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	str_copy(sun.sun_path, sizeof(sun.sun_path), sock);
	unlink(sock);
	if ((fd = socket(AF_UNIX, SOCK_STREAM, 0)) == -1 ||
	    bind(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1 ||
	    listen(fd, 5) == -1) {
		tap_diag("listen: %s", strerror(errno));
		return -1;
	}
	return fd;
}

/*
 * session - run lmtp_deliver of content to the addresses against a
 * server following script; returns lmtp_deliver's value, or -100 when
 * the server did not see what it expected
 */
static int
session(const char *const *script, const char *content, const char *sender,
    struct lmtp_rcpt *rcpts, size_t n, long timeout, struct dlv_result *r)
{
	struct dlv_msg	 msg;
	pid_t		 pid;
	int		 lfd, fd, rc, st;

	if ((lfd = listen_unix()) == -1)
		return -101;
	if ((pid = fork()) == 0)
		serve(lfd, script);
	close(lfd);
	if ((fd = qfile(content, &msg)) == -1)
		return -102;
	if (sender != NULL)
		msg.sender = sender;
	rc = lmtp_deliver(dest, &msg, rcpts, n, timeout, r);
	close(fd);
	if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st) ||
	    WEXITSTATUS(st) != 0) {
		tap_diag("the server saw something unexpected");
		return -100;
	}
	return rc;
}

/* data_is - the content as the server received it */
static void
data_is(const char *want)
{
	static char	 got[65536];
	size_t		 len = 0;
	ssize_t		 n;
	int		 fd;

	fd = open(scratch("data"), O_RDONLY);
	while (fd >= 0 && len < sizeof(got) &&
	    (n = read(fd, got + len, sizeof(got) - len)) > 0)
		len += (size_t)n;
	if (fd >= 0)
		close(fd);
	check_mem(got, len, want, strlen(want));
	unlink(scratch("data"));
}

/* rep - n copies of c appended */
static void
rep(struct buf *b, char c, size_t n)
{
	while (n-- > 0)
		buf_addc(b, c);
}

/* masked - text with our destination written as "unix:/TMP" */
static const char *
masked(const char *text)
{
	static char	 out[DLV_TEXT_MAX * 2];
	const char	*p;
	size_t		 o = 0, n = strlen(dest);

	for (p = text; *p != '\0' && o + 10 < sizeof(out); ) {
		if (strncmp(p, dest, n) == 0) {
			memcpy(out + o, "unix:/TMP", 9);
			o += 9;
			p += n;
		} else
			out[o++] = *p++;
	}
	out[o] = '\0';
	return out;
}

/* rcpt_is - one recipient's result */
static void
rcpt_is(const struct lmtp_rcpt *rc, enum dlv_status st, const char *dsn,
    const char *text)
{
	if (!check_int(rc->result.status, ==, st))
		tap_diag("%s: %s", rc->addr, rc->result.text);
	check_str(rc->result.dsn, dsn);
	check_str(masked(rc->result.text), text);
}

/* rcpts_init - the recipients a, b and c at example.org */
static void
rcpts_init(struct lmtp_rcpt *r, size_t n)
{
	static const char *const addrs[] = { "a@example.org",
	    "b@example.org", "c@example.org" };
	size_t	 i;

	memset(r, 0, n * sizeof(*r));
	for (i = 0; i < n; i++)
		r[i].addr = addrs[i % nitems(addrs)];
}

static void
t_two_recipients(void)
{
	static const char *const script[] = {
		"S 220 lmtp.example LMTP ready",
		"E LHLO ",
		"S 250-lmtp.example",
		"S 250-ENHANCEDSTATUSCODES",
		"S 250 8BITMIME",
		"E MAIL FROM:<s@example.org>\r\n",
		"S 250 2.1.0 OK",
		"E RCPT TO:<a@example.org>\r\n",
		"S 250 2.1.5 OK",
		"E RCPT TO:<b@example.org>\r\n",
		"S 250 2.1.5 OK",
		"E DATA\r\n",
		"S 354 go ahead",
		"D",
		"S 250 2.0.0 <a@example.org> abc Saved",
		"S 452 4.2.2 <b@example.org> Quota exceeded",
		"E QUIT\r\n",
		"S 221 2.0.0 Bye",
		NULL,
	};
	struct lmtp_rcpt	 rc[2];
	struct dlv_result	 r;

	rcpts_init(rc, 2);
	check_int(session(script, CONTENT, NULL, rc, 2, 10, &r), ==, 0);
	check_int(r.status, ==, DLV_OK);
	rcpt_is(&rc[0], DLV_OK, "2.0.0",
	    "250 2.0.0 <a@example.org> abc Saved");
	rcpt_is(&rc[1], DLV_DEFER, "4.2.2", "host unix:/TMP said: 452 4.2.2 "
	    "<b@example.org> Quota exceeded (in reply to end of DATA "
	    "command)");
	data_is(CONTENT_WIRE);
}

static void
t_unknown_user(void)
{
	static const char *const script[] = {
		"S 220 ready",
		"E LHLO ",
		"S 250 lmtp.example",
		"E MAIL FROM:<s@example.org>\r\n",
		"S 250 OK",
		"E RCPT TO:<a@example.org>",
		"S 250 OK",
		"E RCPT TO:<b@example.org>",
		"S 550 5.1.1 <b@example.org> User doesn't exist",
		"E RCPT TO:<c@example.org>",
		"S 250 OK",
		"E DATA",
		"S 354 go ahead",
		"D",
		"S 250 first",
		"S 250 third",
		"E QUIT",
		"S 221 Bye",
		NULL,
	};
	struct lmtp_rcpt	 rc[3];
	struct dlv_result	 r;

	rcpts_init(rc, 3);
	check_int(session(script, CONTENT, NULL, rc, 3, 10, &r), ==, 0);
	rcpt_is(&rc[0], DLV_OK, "2.0.0", "250 first");
	rcpt_is(&rc[1], DLV_BOUNCE, "5.1.1", "host unix:/TMP said: 550 5.1.1 "
	    "<b@example.org> User doesn't exist (in reply to RCPT TO "
	    "command)");
	rcpt_is(&rc[2], DLV_OK, "2.0.0", "250 third");
	data_is(CONTENT_WIRE);
}

static void
t_nobody_accepted(void)
{
	static const char *const script[] = {
		"S 220 ready",
		"E LHLO ",
		"S 250 lmtp.example",
		"E MAIL FROM:<>\r\n",
		"S 250 OK",
		"E RCPT TO:<a@example.org>",
		"S 450 4.2.1 try later",
		"E QUIT",
		"S 221 Bye",
		NULL,
	};
	struct lmtp_rcpt	 rc[1];
	struct dlv_result	 r;

	rcpts_init(rc, 1);
	check_int(session(script, CONTENT, "", rc, 1, 10, &r), ==, 0);
	rcpt_is(&rc[0], DLV_DEFER, "4.2.1", "host unix:/TMP said: 450 4.2.1 "
	    "try later (in reply to RCPT TO command)");
}

static void
t_mail_rejected(void)
{
	static const char *const script[] = {
		"S 220 ready",
		"E LHLO ",
		"S 250 lmtp.example",
		"E MAIL FROM:",
		"S 553 sender refused",
		"E QUIT",
		"S 221 Bye",
		NULL,
	};
	struct lmtp_rcpt	 rc[2];
	struct dlv_result	 r;

	rcpts_init(rc, 2);
	check_int(session(script, CONTENT, NULL, rc, 2, 10, &r), ==, 0);
	rcpt_is(&rc[0], DLV_BOUNCE, "5.0.0", "host unix:/TMP said: 553 "
	    "sender refused (in reply to MAIL FROM command)");
	rcpt_is(&rc[1], DLV_BOUNCE, "5.0.0", "host unix:/TMP said: 553 "
	    "sender refused (in reply to MAIL FROM command)");
}

static void
t_pipelining_8bit_size(void)
{
	/* the server answers only after both RCPTs: lock-step would hang */
	static const char *const script[] = {
		"S 220 ready",
		"E LHLO ",
		"S 250-lmtp.example",
		"S 250-PIPELINING",
		"S 250-SIZE 100000",
		"S 250 8BITMIME",
		"E MAIL FROM:<s@example.org> BODY=8BITMIME SIZE=25\r\n",
		"S 250 OK",
		"E RCPT TO:<a@example.org>",
		"E RCPT TO:<b@example.org>",
		"S 250 OK",
		"S 250 OK",
		"E DATA",
		"S 354 go ahead",
		"D",
		"S 250 one",
		"S 250 two",
		"E QUIT",
		"S 221 Bye",
		NULL,
	};
	struct lmtp_rcpt	 rc[2];
	struct dlv_result	 r;

	rcpts_init(rc, 2);
	check_int(session(script, "Subject: caf\xc3\xa9\n\nna\xc3\xafve\n.\n",
	    NULL, rc, 2, 3, &r), ==, 0);
	rcpt_is(&rc[0], DLV_OK, "2.0.0", "250 one");
	rcpt_is(&rc[1], DLV_OK, "2.0.0", "250 two");
	data_is("Subject: caf\xc3\xa9\r\n\r\nna\xc3\xafve\r\n..\r\n.\r\n");
}

/*
 * t_long_lines - LMTP never breaks lines (no lmtp_line_length_limit);
 * extensions in lower case, a SIZE too big to read and unknown words
 */
static void
t_long_lines(void)
{
	static char	 mail[64];
	static const char *script[] = {
		"S 220 ready",
		"E LHLO ",
		"S 250-lmtp.example",
		"S 250-pipelining",
		"S 250-SIZE 99999999999999999999999999",
		"S 250-X-UNKNOWN stuff",
		"S 250 enhancedstatuscodes",
		mail,
		"S 250 OK",
		"E RCPT TO:<a@example.org>",
		"S 250 OK",
		"E DATA",
		"S 354 go ahead",
		"D",
		"S 250 2.0.0 saved",
		"E QUIT",
		"S 221 Bye",
		NULL,
	};
	struct lmtp_rcpt	 rc[1];
	struct dlv_result	 r;
	struct buf		 in, want;

	buf_init(&in, 65536);
	buf_init(&want, 65536);
	buf_adds(&in, "Subject: long\n\n");
	rep(&in, 'x', 5000);
	buf_adds(&in, "\n.");
	rep(&in, 'y', 1200);
	buf_adds(&in, "\n");
	buf_adds(&want, "Subject: long\r\n\r\n");
	rep(&want, 'x', 5000);
	buf_adds(&want, "\r\n..");
	rep(&want, 'y', 1200);
	buf_adds(&want, "\r\n.\r\n");
	bsnprintf(mail, sizeof(mail), "E MAIL FROM:<s@example.org> "
	    "SIZE=%zu\r\n", in.len);
	rcpts_init(rc, 1);
	check_int(session(script, buf_str(&in), NULL, rc, 1, 3, &r), ==, 0);
	rcpt_is(&rc[0], DLV_OK, "2.0.0", "250 2.0.0 saved");
	data_is(buf_str(&want));
	buf_free(&in);
	buf_free(&want);
}

static void
t_8bit_not_offered(void)
{
	static const char *const script[] = {
		"S 220 ready",
		"E LHLO ",
		"S 250 lmtp.example",
		"E MAIL FROM:<s@example.org>\r\n",
		"S 250 OK",
		"E RCPT TO:<a@example.org>",
		"S 250 OK",
		"E DATA",
		"S 354 go ahead",
		"D",
		"S 250 fine",
		"E QUIT",
		"S 221 Bye",
		NULL,
	};
	struct lmtp_rcpt	 rc[1];
	struct dlv_result	 r;

	rcpts_init(rc, 1);
	check_int(session(script, "x: \xff\n", NULL, rc, 1, 10, &r), ==, 0);
	rcpt_is(&rc[0], DLV_OK, "2.0.0", "250 fine");
	data_is("x: \xff\r\n.\r\n");
}

static void
t_smtputf8(void)
{
	static const char *const offered[] = {
		"S 220 ready",
		"E LHLO ",
		"S 250-lmtp.example",
		"S 250 SMTPUTF8",
		"E MAIL FROM:<s@example.org> SMTPUTF8\r\n",
		"S 250 OK",
		"E RCPT TO:<j\xc3\xb6rg@example.org>",
		"S 250 OK",
		"E DATA",
		"S 354 go ahead",
		"D",
		"S 250 fine",
		"E QUIT",
		"S 221 Bye",
		NULL,
	};
	static const char *const not_offered[] = {
		"S 220 ready",
		"E LHLO ",
		"S 250 lmtp.example",
		"E MAIL FROM:<s@example.org>\r\n",
		"S 250 OK",
		"E RCPT TO:<a@example.org>",
		"S 250 OK",
		"E DATA",
		"S 354 go ahead",
		"D",
		"S 250 fine",
		"E QUIT",
		"S 221 Bye",
		NULL,
	};
	struct lmtp_rcpt	 rc[2];
	struct dlv_result	 r;

	rcpts_init(rc, 1);
	rc[0].addr = "j\xc3\xb6rg@example.org";
	check_int(session(offered, CONTENT, NULL, rc, 1, 10, &r), ==, 0);
	rcpt_is(&rc[0], DLV_OK, "2.0.0", "250 fine");
	data_is(CONTENT_WIRE);

	rcpts_init(rc, 2);
	rc[1].addr = "j\xc3\xb6rg@example.org";
	check_int(session(not_offered, CONTENT, NULL, rc, 2, 10, &r), ==, 0);
	rcpt_is(&rc[0], DLV_OK, "2.0.0", "250 fine");
	rcpt_is(&rc[1], DLV_BOUNCE, "5.6.7", "SMTPUTF8 is required, but was "
	    "not offered by host unix:/TMP");
}

/* all_deferred - every recipient and r deferred with dsn and text */
static void
all_deferred(const struct lmtp_rcpt *rc, size_t n,
    const struct dlv_result *r, const char *dsn, const char *text)
{
	size_t	 i;

	check_int(r->status, ==, DLV_DEFER);
	check_str(r->dsn, dsn);
	if (!check(strstr(masked(r->text), text) != NULL))
		tap_diag("\"%s\" lacks \"%s\"", r->text, text);
	for (i = 0; i < n; i++) {
		check_int(rc[i].result.status, ==, DLV_DEFER);
		check_str(rc[i].result.dsn, dsn);
		check_str(rc[i].result.text, r->text);
	}
}

static void
t_session_failures(void)
{
	static const char *const greet421[] = {
		"S 421 4.3.2 shutting down",
		NULL,
	};
	static const char *const greet554[] = {
		"S 554 go away",
		NULL,
	};
	static const char *const garbage[] = {
		"S hello there",
		NULL,
	};
	static const char *const rcpt421[] = {
		"S 220 ready",
		"E LHLO ",
		"S 250 lmtp.example",
		"E MAIL FROM:",
		"S 250 OK",
		"E RCPT TO:<a@example.org>",
		"S 250 OK",
		"E RCPT TO:<b@example.org>",
		"S 421 closing",
		NULL,
	};
	static const char *const lost[] = {
		"S 220 ready",
		"E LHLO ",
		"S 250 lmtp.example",
		"E MAIL FROM:",
		"S 250 OK",
		"E RCPT TO:<a@example.org>",
		"S 250 OK",
		"E RCPT TO:<b@example.org>",
		"S 250 OK",
		"E DATA",
		"S 354 go ahead",
		"C",
		NULL,
	};
	static const char *const half[] = {
		"S 220 ready",
		"E LHLO ",
		"S 250 lmtp.example",
		"E MAIL FROM:",
		"S 250 OK",
		"E RCPT TO:<a@example.org>",
		"S 250 OK",
		"E RCPT TO:<b@example.org>",
		"S 250 OK",
		"E DATA",
		"S 354 go ahead",
		"D",
		"S 250 2.0.0 first saved",
		"C",
		NULL,
	};
	struct lmtp_rcpt	 rc[2];
	struct dlv_result	 r;

	rcpts_init(rc, 2);
	check_int(session(greet421, CONTENT, NULL, rc, 2, 10, &r), ==, -1);
	all_deferred(rc, 2, &r, "4.3.2", "host unix:/TMP refused to talk to "
	    "me: 421 4.3.2 shutting down");
	rcpts_init(rc, 2);
	check_int(session(greet554, CONTENT, NULL, rc, 2, 10, &r), ==, -1);
	all_deferred(rc, 2, &r, "4.4.2", "refused to talk to me: 554 go away");
	rcpts_init(rc, 2);
	check_int(session(garbage, CONTENT, NULL, rc, 2, 10, &r), ==, -1);
	all_deferred(rc, 2, &r, "4.4.2", "malformed reply from unix:/TMP "
	    "while receiving the initial server greeting");
	rcpts_init(rc, 2);
	check_int(session(rcpt421, CONTENT, NULL, rc, 2, 10, &r), ==, -1);
	all_deferred(rc, 2, &r, "4.4.2", "said: 421 closing (in reply to RCPT "
	    "TO command)");
	rcpts_init(rc, 2);
	check_int(session(lost, CONTENT, NULL, rc, 2, 10, &r), ==, -1);
	check_int(r.status, ==, DLV_DEFER);
	check_str(r.dsn, "4.4.2");
	check(strstr(masked(r.text), "lost connection with unix:/TMP while "
	    "sending") != NULL);
	check_int(rc[0].result.status, ==, DLV_DEFER);
	check_int(rc[1].result.status, ==, DLV_DEFER);

	/* one reply came before the end: that one stays delivered */
	rcpts_init(rc, 2);
	check_int(session(half, CONTENT, NULL, rc, 2, 10, &r), ==, -1);
	rcpt_is(&rc[0], DLV_OK, "2.0.0", "250 2.0.0 first saved");
	rcpt_is(&rc[1], DLV_DEFER, "4.4.2", "lost connection with unix:/TMP "
	    "while sending end of data -- message may be sent more than once");
	data_is(CONTENT_WIRE);
}

static void
t_timeout(void)
{
	static const char *const slow[] = {
		"S 220 ready",
		"E LHLO ",
		"W 3",
		NULL,
	};
	struct lmtp_rcpt	 rc[1];
	struct dlv_result	 r;
	time_t			 t0;

	rcpts_init(rc, 1);
	t0 = time(NULL);
	check_int(session(slow, CONTENT, NULL, rc, 1, 1, &r), ==, -1);
	check(time(NULL) - t0 <= 4);
	all_deferred(rc, 1, &r, "4.4.2", "conversation with unix:/TMP timed "
	    "out while performing the LHLO handshake");
}

static void
t_connect_refused(void)
{
	struct lmtp_rcpt	 rc[2];
	struct dlv_result	 r;
	struct dlv_msg		 msg;
	int			 fd;

	rcpts_init(rc, 2);
	unlink(sock);
	if ((fd = qfile(CONTENT, &msg)) == -1)
		return;
	check_int(lmtp_deliver(dest, &msg, rc, 2, 10, &r), ==, -1);
	close(fd);
	all_deferred(rc, 2, &r, "4.4.1", "connect to unix:/TMP");
	check(strstr(r.text, "No such file or directory") != NULL);
	/* nothing to do: no connection at all */
	check_int(lmtp_deliver(dest, &msg, rc, 0, 10, &r), ==, 0);
	check_int(r.status, ==, DLV_OK);
}

static void
t_inet(void)
{
	static const char *const script[] = {
		"S 220 ready",
		"E LHLO ",
		"S 250 lmtp.example",
		"E MAIL FROM:",
		"S 250 OK",
		"E RCPT TO:<a@example.org>",
		"S 250 OK",
		"E DATA",
		"S 354 go ahead",
		"D",
		"S 250 2.0.0 saved",
		"E QUIT",
		"S 221 Bye",
		NULL,
	};
	struct sockaddr_in	 sin;
	socklen_t		 len = sizeof(sin);
	struct lmtp_rcpt	 rc[1];
	struct dlv_result	 r;
	struct dlv_msg		 msg;
	char			 where[64];
	pid_t			 pid;
	int			 lfd, fd, st;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((lfd = socket(AF_INET, SOCK_STREAM, 0)) == -1 ||
	    bind(lfd, (struct sockaddr *)&sin, sizeof(sin)) == -1 ||
	    listen(lfd, 5) == -1 ||
	    getsockname(lfd, (struct sockaddr *)&sin, &len) == -1) {
		tap_skip("no IPv4 loopback: %s", strerror(errno));
		return;
	}
	bsnprintf(where, sizeof(where), "[127.0.0.1]:%d", ntohs(sin.sin_port));
	if ((pid = fork()) == 0)
		serve(lfd, script);
	close(lfd);
	rcpts_init(rc, 1);
	if ((fd = qfile(CONTENT, &msg)) == -1)
		return;
	check_int(lmtp_deliver(where, &msg, rc, 1, 10, &r), ==, 0);
	close(fd);
	check_int(waitpid(pid, &st, 0), ==, pid);
	check(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	rcpt_is(&rc[0], DLV_OK, "2.0.0", "250 2.0.0 saved");
	data_is(CONTENT_WIRE);
}

static void
t_data_refused(void)
{
	static const char *const script[] = {
		"S 220 ready",
		"E LHLO ",
		"S 250 lmtp.example",
		"E MAIL FROM:",
		"S 250 OK",
		"E RCPT TO:<a@example.org>",
		"S 250 OK",
		"E RCPT TO:<b@example.org>",
		"S 550 5.1.1 unknown",
		"E DATA",
		"S 554 5.6.0 no thanks",
		"E QUIT",
		"S 221 Bye",
		NULL,
	};
	struct lmtp_rcpt	 rc[2];
	struct dlv_result	 r;

	rcpts_init(rc, 2);
	check_int(session(script, CONTENT, NULL, rc, 2, 10, &r), ==, 0);
	rcpt_is(&rc[0], DLV_BOUNCE, "5.6.0", "host unix:/TMP said: 554 5.6.0 "
	    "no thanks (in reply to DATA command)");
	rcpt_is(&rc[1], DLV_BOUNCE, "5.1.1", "host unix:/TMP said: 550 5.1.1 "
	    "unknown (in reply to RCPT TO command)");
}

static void
t_bad_addresses(void)
{
	static const char *const script[] = {
		"S 220 ready",
		"E LHLO ",
		"S 250 lmtp.example",
		"E MAIL FROM:",
		"S 250 OK",
		"E RCPT TO:<b@example.org>",
		"S 250 OK",
		"E DATA",
		"S 354 go ahead",
		"D",
		"S 250 fine",
		"E QUIT",
		"S 221 Bye",
		NULL,
	};
	struct lmtp_rcpt	 rc[2];
	struct dlv_result	 r;

	rcpts_init(rc, 2);
	rc[0].addr = "a@example.org>\r\nRCPT TO:<evil@example.org";
	rc[1].addr = "b@example.org";
	check_int(session(script, CONTENT, NULL, rc, 2, 10, &r), ==, 0);
	rcpt_is(&rc[0], DLV_BOUNCE, "5.1.3", "bad recipient address syntax");
	rcpt_is(&rc[1], DLV_OK, "2.0.0", "250 fine");
}

int
main(void)
{
	char	 tmpl[] = "/tmp/t-runq-lmtp.XXXXXX";

	signal(SIGPIPE, SIG_DFL);
	if (mkdtemp(tmpl) == NULL)
		return 1;
	str_copy(dir, sizeof(dir), tmpl);
	bsnprintf(sock, sizeof(sock), "%s/lmtp", dir);
	bsnprintf(dest, sizeof(dest), "unix:%s", sock);
	TEST(t_two_recipients, "two recipients, one reply each after DATA");
	TEST(t_unknown_user, "an unknown user gets its own 5xx");
	TEST(t_nobody_accepted, "no recipient accepted: no DATA");
	TEST(t_mail_rejected, "MAIL FROM refused: every recipient");
	TEST(t_pipelining_8bit_size, "PIPELINING, BODY=8BITMIME, SIZE");
	TEST(t_8bit_not_offered, "8-bit content without 8BITMIME");
	TEST(t_long_lines, "long lines go whole; odd LHLO keywords");
	TEST(t_smtputf8, "SMTPUTF8 offered or not");
	TEST(t_session_failures, "421, garbage, lost connections defer");
	TEST(t_timeout, "a server that stops answering");
	TEST(t_connect_refused, "no server at all");
	TEST(t_inet, "an inet destination");
	TEST(t_data_refused, "DATA refused");
	TEST(t_bad_addresses, "an address with a line break");
	unlink(sock);
	unlink(scratch("q"));
	unlink(scratch("data"));
	rmdir(dir);
	return test_done();
}
