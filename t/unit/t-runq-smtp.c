/*
 * t-runq-smtp.c - unit tests for runq's SMTP client session against a
 * scripted server in a child process over a socketpair: per-recipient
 * results and their texts, PIPELINING, HELO fallback, SIZE, the body on
 * the wire, failures and timeouts, STARTTLS at may/encrypt/verify with
 * a CA made here in memory, AUTH PLAIN and LOGIN, RSET between messages
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "common/buf.h"
#include "common/tls.h"
#include "common/util.h"
#include "cmd/runq/deliver.h"
#include "cmd/runq/smtp.h"
#include "t/unit/certs.h"
#include "t/unit/tap.h"

#define CONTENT		"Subject: hi\n\n.leading dot\nline\n..two\n"
#define CONTENT_WIRE	("Subject: hi\r\n\r\n..leading dot\r\nline\r\n" \
			    "...two\r\n.\r\n")
#define HOST		"mx.example.org[192.0.2.1]"
#define SERVER_ALARM	20
#define SRV_LINE	8192

/* The server's connection: plaintext, or TLS after "T". */
struct srv {
	int		 fd;
	SSL_CTX		*sc;
	SSL		*ssl;
	char		 buf[SRV_LINE];
	size_t		 len;
};

static char		 dir[256];
static char		 cafile[300];
static struct cred	 ca, good, wrong;
static struct tls_ctx	*ctx;
static const struct cred *srv_cred;	/* the certificate "T" uses */

/* scratch - a path in the scratch directory */
static const char *
scratch(const char *name)
{
	static char	 path[300];

	bsnprintf(path, sizeof(path), "%s/%s", dir, name);
	return path;
}

/* srv_getline - one line (with its CRLF) into line; -1 at EOF */
static int
srv_getline(struct srv *sv, char *line, size_t size)
{
	char	*nl;
	size_t	 n;
	ssize_t	 got;

	for (;;) {
		if ((nl = memchr(sv->buf, '\n', sv->len)) != NULL) {
			n = (size_t)(nl - sv->buf) + 1;
			if (n >= size)
				_exit(7);
			memcpy(line, sv->buf, n);
			line[n] = '\0';
			memmove(sv->buf, sv->buf + n, sv->len - n);
			sv->len -= n;
			return 0;
		}
		if (sv->len == sizeof(sv->buf))
			_exit(7);
		if (sv->ssl != NULL)
			got = SSL_read(sv->ssl, sv->buf + sv->len,
			    (int)(sizeof(sv->buf) - sv->len));
		else
			got = read(sv->fd, sv->buf + sv->len,
			    sizeof(sv->buf) - sv->len);
		if (got <= 0)
			return -1;
		sv->len += (size_t)got;
	}
}

/* srv_put - send text and CRLF */
static void
srv_put(struct srv *sv, const char *text)
{
	char	 out[SRV_LINE];

	if (bsnprintf(out, sizeof(out), "%s\r\n", text) != 0)
		_exit(8);
	if (sv->ssl != NULL)
		SSL_write(sv->ssl, out, (int)strlen(out));
	else
		(void)write_all(sv->fd, out, strlen(out));
}

/* srv_tls - the server side of STARTTLS with srv_cred */
static void
srv_tls(struct srv *sv)
{
	if (sv->len != 0)
		_exit(9);
	if ((sv->sc = SSL_CTX_new(TLS_server_method())) == NULL ||
	    SSL_CTX_use_certificate(sv->sc, srv_cred->cert) != 1 ||
	    SSL_CTX_use_PrivateKey(sv->sc, srv_cred->key) != 1 ||
	    (sv->ssl = SSL_new(sv->sc)) == NULL ||
	    SSL_set_fd(sv->ssl, sv->fd) != 1)
		_exit(2);
	if (SSL_accept(sv->ssl) != 1)
		_exit(0);	/* the client gave up: its business */
}

/*
 * serve - the scripted server on fd.  Steps: "S text" sends text and
 * CRLF; "E prefix" reads a line that must start with prefix; "D" reads
 * the body up to "." into dir/data; "W n" sleeps n seconds; "C" closes
 * at once; "T" starts TLS; "G" sends garbage instead of a TLS
 * handshake.  At the end it reads until EOF.  Exits 0 when every line
 * was as expected.
 */
static void
serve(int fd, const char *const *script)
{
	struct srv	 sv;
	char		 line[SRV_LINE];
	size_t		 i;
	int		 dfd;

	signal(SIGPIPE, SIG_IGN);
	alarm(SERVER_ALARM);
	memset(&sv, 0, sizeof(sv));
	sv.fd = fd;
	for (i = 0; script[i] != NULL; i++) {
		const char	*s = script[i];

		switch (s[0]) {
		case 'S':
			srv_put(&sv, s + 2);
			break;
		case 'E':
			if (srv_getline(&sv, line, sizeof(line)) != 0 ||
			    strncmp(line, s + 2, strlen(s + 2)) != 0) {
				fprintf(stderr, "# server: wanted \"%s\", got "
				    "\"%s\"\n", s + 2, line);
				_exit(1);
			}
			line[0] = '\0';
			break;
		case 'D':
			dfd = open(scratch("data"), O_WRONLY | O_CREAT |
			    O_TRUNC, 0600);
			while (srv_getline(&sv, line, sizeof(line)) == 0) {
				write_all(dfd, line, strlen(line));
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
		case 'T':
			srv_tls(&sv);
			break;
		case 'G':
			(void)write_all(fd, "garbage garbage garbage\r\n", 25);
			break;
		}
	}
	while (srv_getline(&sv, line, sizeof(line)) == 0)
		;
	_exit(0);
}

/* server_start - a scripted server on one end of a socketpair */
static int
server_start(const char *const *script, pid_t *pid)
{
	int	 sv[2];

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == -1)
		return -1;
	if ((*pid = fork()) == 0) {
		close(sv[0]);
		serve(sv[1], script);
	}
	close(sv[1]);
	return sv[0];
}

/* server_ok - reap the server: whether it saw what it expected */
static int
server_ok(pid_t pid)
{
	int	 st;

	if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st) ||
	    WEXITSTATUS(st) != 0) {
		tap_diag("the server saw something unexpected");
		return 0;
	}
	return 1;
}

/* qfile - a queue-like file holding content after some junk */
static int
qfile(const char *content, size_t len, struct dlv_msg *msg)
{
	const char	*junk = "records\n";
	int		 fd;

	fd = open(scratch("q"), O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (fd == -1 || write_all(fd, junk, strlen(junk)) < 0 ||
	    write_all(fd, content, len) < 0) {
		tap_diag("qfile: %s", strerror(errno));
		return -1;
	}
	memset(msg, 0, sizeof(*msg));
	msg->fd = fd;
	msg->off = (off_t)strlen(junk);
	msg->len = (off_t)len;
	msg->queue_id = "ABCDEF";
	msg->sender = "s@example.org";
	return fd;
}

/* opts_init - the options every test starts from */
static void
opts_init(struct smtp_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->helo_name = "client.example.net";
	o->peername = "mx.example.org";
	o->peeraddr = "192.0.2.1";
	o->tls_level = TLS_LEV_NONE;
	o->tls_ctx = ctx;
	o->timeouts[SMTP_TO_HELO] = 5;
	o->timeouts[SMTP_TO_MAIL] = 5;
	o->timeouts[SMTP_TO_RCPT] = 5;
	o->timeouts[SMTP_TO_DATA_INIT] = 5;
	o->timeouts[SMTP_TO_DATA_XFER] = 5;
	o->timeouts[SMTP_TO_DATA_DONE] = 5;
	o->timeouts[SMTP_TO_QUIT] = 5;
	o->timeouts[SMTP_TO_STARTTLS] = 5;
}

/* rcpts_init - n recipients a@, b@, c@example.org */
static void
rcpts_init(struct smtp_rcpt *rc, size_t n)
{
	static const char *const names[] = {
		"a@example.org", "b@example.org", "c@example.org",
	};
	size_t	 i;

	memset(rc, 0, n * sizeof(*rc));
	for (i = 0; i < n; i++)
		rc[i].addr = names[i % nitems(names)];
}

/*
 * session - open, send content to the recipients, close, against a
 * server following script; returns smtp_open's value when it failed,
 * else smtp_send's, or -100 when the server saw something unexpected
 */
static int
session(const char *const *script, const struct smtp_opts *o,
    const char *content, size_t clen, struct smtp_rcpt *rc, size_t n,
    struct dlv_result *r)
{
	struct smtp	*s;
	struct dlv_msg	 msg;
	pid_t		 pid;
	int		 fd, qfd, st;

	if ((qfd = qfile(content, clen, &msg)) == -1)
		return -102;
	if ((fd = server_start(script, &pid)) == -1)
		return -101;
	st = smtp_open(fd, o, &s, r);
	if (st == SMTP_OK)
		st = smtp_send(s, &msg, NULL, NULL, rc, n, r);
	smtp_close(s);
	close(qfd);
	if (!server_ok(pid))
		return -100;
	return st;
}

/* data_is - the body as the server received it */
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

/* res_is - a result's status, code and text */
static void
res_is(const struct dlv_result *r, enum dlv_status st, const char *dsn,
    const char *text)
{
	check_int(r->status, ==, st);
	check_str(r->dsn, dsn);
	check_str(r->text, text);
}

static void
t_all_ok(void)
{
	static const char *const script[] = {
		"S 220 mx.example.org ESMTP",
		"E EHLO client.example.net\r\n",
		"S 250-mx.example.org",
		"S 250 8BITMIME",
		"E MAIL FROM:<s@example.org>\r\n",
		"S 250 2.1.0 Ok",
		"E RCPT TO:<a@example.org>\r\n",
		"S 250 2.1.5 Ok",
		"E RCPT TO:<b@example.org>\r\n",
		"S 250 2.1.5 Ok",
		"E DATA\r\n",
		"S 354 End data with <CR><LF>.<CR><LF>",
		"D",
		"S 250 2.0.0 Ok: queued as 4XyZ",
		"E QUIT\r\n",
		"S 221 2.0.0 Bye",
		NULL,
	};
	struct smtp_rcpt	 rc[2];
	struct smtp_opts	 o;
	struct dlv_result	 r;

	opts_init(&o);
	rcpts_init(rc, 2);
	check_int(session(script, &o, CONTENT, strlen(CONTENT), rc, 2, &r),
	    ==, SMTP_OK);
	res_is(&rc[0].result, DLV_OK, "2.0.0", "250 2.0.0 Ok: queued as 4XyZ");
	res_is(&rc[1].result, DLV_OK, "2.0.0", "250 2.0.0 Ok: queued as 4XyZ");
	res_is(&r, DLV_OK, "2.0.0", "delivered via " HOST);
	data_is(CONTENT_WIRE);
}

static void
t_rcpt_mixed(void)
{
	static const char *const script[] = {
		"S 220 mx.example.org ESMTP",
		"E EHLO ",
		"S 250 mx.example.org",
		"E MAIL FROM:<s@example.org>\r\n",
		"S 250 2.1.0 Ok",
		"E RCPT TO:<a@example.org>",
		"S 550 5.1.1 <a@example.org>: Recipient address rejected: "
		    "User unknown",
		"E RCPT TO:<b@example.org>",
		"S 452 4.5.3 Too many recipients",
		"E RCPT TO:<c@example.org>",
		"S 250 2.1.5 Ok",
		"E DATA",
		"S 354 go",
		"D",
		"S 250 2.0.0 Ok: queued as 1",
		"E QUIT",
		"S 221 Bye",
		NULL,
	};
	struct smtp_rcpt	 rc[3];
	struct smtp_opts	 o;
	struct dlv_result	 r;

	opts_init(&o);
	rcpts_init(rc, 3);
	check_int(session(script, &o, CONTENT, strlen(CONTENT), rc, 3, &r),
	    ==, SMTP_OK);
	res_is(&rc[0].result, DLV_BOUNCE, "5.1.1", "host " HOST " said: 550 5.1.1 "
	    "<a@example.org>: Recipient address rejected: User unknown (in "
	    "reply to RCPT TO command)");
	res_is(&rc[1].result, DLV_DEFER, "4.5.3", "host " HOST " said: 452 4.5.3 "
	    "Too many recipients (in reply to RCPT TO command)");
	res_is(&rc[2].result, DLV_OK, "2.0.0", "250 2.0.0 Ok: queued as 1");
	data_is(CONTENT_WIRE);
}

static void
t_greeting_421(void)
{
	static const char *const script[] = {
		"S 421 4.3.2 mx.example.org Service not available",
		NULL,
	};
	static const char *const script5[] = {
		"S 554 5.7.1 go away",
		"E QUIT",
		NULL,
	};
	struct smtp_rcpt	 rc[1];
	struct smtp_opts	 o;
	struct dlv_result	 r;

	opts_init(&o);
	rcpts_init(rc, 1);
	check_int(session(script, &o, CONTENT, strlen(CONTENT), rc, 1, &r),
	    ==, SMTP_BROKEN);
	res_is(&r, DLV_DEFER, "4.3.2", "host " HOST " refused to talk to me: "
	    "421 4.3.2 mx.example.org Service not available");
	check_int(session(script5, &o, CONTENT, strlen(CONTENT), rc, 1, &r),
	    ==, SMTP_REFUSED);
	res_is(&r, DLV_BOUNCE, "5.7.1", "host " HOST " refused to talk to me: "
	    "554 5.7.1 go away");
}

static void
t_mail_554(void)
{
	static const char *const script[] = {
		"S 220 mx.example.org ESMTP",
		"E EHLO ",
		"S 250 mx.example.org",
		"E MAIL FROM:<s@example.org>\r\n",
		"S 554 5.7.1 <s@example.org>: Sender address rejected",
		"E QUIT",
		"S 221 Bye",
		NULL,
	};
	struct smtp_rcpt	 rc[2];
	struct smtp_opts	 o;
	struct dlv_result	 r;

	opts_init(&o);
	rcpts_init(rc, 2);
	check_int(session(script, &o, CONTENT, strlen(CONTENT), rc, 2, &r),
	    ==, SMTP_OK);
	res_is(&rc[0].result, DLV_BOUNCE, "5.7.1", "host " HOST " said: 554 5.7.1 "
	    "<s@example.org>: Sender address rejected (in reply to MAIL FROM "
	    "command)");
	check_str(rc[1].result.text, rc[0].result.text);
}

static void
t_data_end_552(void)
{
	static const char *const script[] = {
		"S 220 mx.example.org ESMTP",
		"E EHLO ",
		"S 250 mx.example.org",
		"E MAIL FROM:",
		"S 250 Ok",
		"E RCPT TO:<a@example.org>",
		"S 250 Ok",
		"E RCPT TO:<b@example.org>",
		"S 550 5.1.1 no",
		"E DATA",
		"S 354 go",
		"D",
		"S 552 5.3.4 Message size exceeds fixed limit",
		"E QUIT",
		"S 221 Bye",
		NULL,
	};
	struct smtp_rcpt	 rc[2];
	struct smtp_opts	 o;
	struct dlv_result	 r;

	opts_init(&o);
	rcpts_init(rc, 2);
	check_int(session(script, &o, CONTENT, strlen(CONTENT), rc, 2, &r),
	    ==, SMTP_OK);
	res_is(&rc[0].result, DLV_BOUNCE, "5.3.4", "host " HOST " said: 552 5.3.4 "
	    "Message size exceeds fixed limit (in reply to end of DATA "
	    "command)");
	res_is(&rc[1].result, DLV_BOUNCE, "5.1.1", "host " HOST " said: 550 5.1.1 "
	    "no (in reply to RCPT TO command)");
}

static void
t_pipelining(void)
{
	/* The replies come only after all three commands arrived. */
	static const char *const script[] = {
		"S 220 mx.example.org ESMTP",
		"E EHLO ",
		"S 250-mx.example.org",
		"S 250-PIPELINING",
		"S 250-SIZE 1000000",
		"S 250-8BITMIME",
		"S 250 DSN",
		"E MAIL FROM:<s@example.org> SIZE=11 BODY=8BITMIME RET=HDRS "
		    "ENVID=abc\r\n",
		"E RCPT TO:<a@example.org> NOTIFY=SUCCESS,FAILURE "
		    "ORCPT=rfc822;A@example.org\r\n",
		"E RCPT TO:<b@example.org>\r\n",
		"S 250 2.1.0 Ok",
		"S 250 2.1.5 Ok",
		"S 550 5.1.1 unknown",
		"E DATA",
		"S 354 go",
		"D",
		"S 250 2.0.0 queued",
		"E QUIT",
		"S 221 Bye",
		NULL,
	};
	struct smtp_rcpt	 rc[2];
	struct smtp_opts	 o;
	struct dlv_result	 r;
	struct smtp		*s;
	struct dlv_msg		 msg;
	pid_t			 pid;
	int			 fd, qfd;

	opts_init(&o);
	o.timeouts[SMTP_TO_MAIL] = 2;
	rcpts_init(rc, 2);
	rc[0].notify = "SUCCESS,FAILURE";
	rc[0].orcpt = "rfc822;A@example.org";
	if ((qfd = qfile("h: \xc3\xa9\n\nbody\n", 11, &msg)) == -1 ||
	    (fd = server_start(script, &pid)) == -1) {
		check(0);
		return;
	}
	check_int(smtp_open(fd, &o, &s, &r), ==, SMTP_OK);
	check_int(smtp_send(s, &msg, "HDRS", "abc", rc, 2, &r), ==, SMTP_OK);
	smtp_close(s);
	close(qfd);
	check(server_ok(pid));
	res_is(&rc[0].result, DLV_OK, "2.0.0", "250 2.0.0 queued");
	res_is(&rc[1].result, DLV_BOUNCE, "5.1.1", "host " HOST " said: 550 5.1.1 "
	    "unknown (in reply to RCPT TO command)");
	unlink(scratch("data"));
}

static void
t_no_pipelining_waits(void)
{
	/* Without PIPELINING, RCPT waits for the MAIL reply. */
	static const char *const script[] = {
		"S 220 mx.example.org ESMTP",
		"E EHLO ",
		"S 250 mx.example.org",
		"E MAIL FROM:",
		"W 1",
		"S 250 Ok",
		"E RCPT TO:<a@example.org>",
		"S 550 5.1.1 no",
		"E QUIT",
		"S 221 Bye",
		NULL,
	};
	struct smtp_rcpt	 rc[1];
	struct smtp_opts	 o;
	struct dlv_result	 r;

	opts_init(&o);
	rcpts_init(rc, 1);
	check_int(session(script, &o, CONTENT, strlen(CONTENT), rc, 1, &r),
	    ==, SMTP_OK);
	check_int(rc[0].result.status, ==, DLV_BOUNCE);
}

static void
t_helo_fallback(void)
{
	static const char *const script[] = {
		"S 220 old.example.org SMTP",
		"E EHLO client.example.net",
		"S 502 5.5.2 Error: command not recognized",
		"E HELO client.example.net\r\n",
		"S 250 old.example.org",
		"E MAIL FROM:<s@example.org>\r\n",
		"S 250 Ok",
		"E RCPT TO:<a@example.org>\r\n",
		"S 250 Ok",
		"E DATA",
		"S 354 go",
		"D",
		"S 250 Ok",
		"E QUIT",
		"S 221 Bye",
		NULL,
	};
	static const char *const refused[] = {
		"S 220 old.example.org SMTP",
		"E EHLO client.example.net",
		"S 502 5.5.2 Error: command not recognized",
		"E HELO client.example.net\r\n",
		"S 550 5.7.1 not you",
		"E QUIT",
		"S 221 Bye",
		NULL,
	};
	struct smtp_rcpt	 rc[1];
	struct smtp_opts	 o;
	struct dlv_result	 r;

	opts_init(&o);
	rcpts_init(rc, 1);
	check_int(session(script, &o, CONTENT, strlen(CONTENT), rc, 1, &r),
	    ==, SMTP_OK);
	res_is(&rc[0].result, DLV_OK, "2.0.0", "250 Ok");
	data_is(CONTENT_WIRE);
	check_int(session(refused, &o, CONTENT, strlen(CONTENT), rc, 1, &r),
	    ==, SMTP_REFUSED);
	res_is(&r, DLV_BOUNCE, "5.7.1", "host " HOST " said: 550 5.7.1 not you "
	    "(in reply to HELO command)");
}

static void
t_size_refused(void)
{
	static const char *const script[] = {
		"S 220 mx.example.org ESMTP",
		"E EHLO ",
		"S 250-mx.example.org",
		"S 250 SIZE 10",
		"E QUIT",
		"S 221 Bye",
		NULL,
	};
	struct smtp_rcpt	 rc[2];
	struct smtp_opts	 o;
	struct dlv_result	 r;

	opts_init(&o);
	rcpts_init(rc, 2);
	check_int(session(script, &o, CONTENT, strlen(CONTENT), rc, 2, &r),
	    ==, SMTP_OK);
	res_is(&rc[0].result, DLV_BOUNCE, "5.3.4", "message size 37 exceeds size "
	    "limit 10 of server " HOST);
	check_int(rc[1].result.status, ==, DLV_BOUNCE);
}

/*
 * t_long_lines - smtp_line_length_limit: lines past opts.line_limit are
 * broken with CRLF SPACE, dot-stuffing intact; 0 sends them whole.  The
 * server's SIZE is too big to read, which is no limit (and no crash).
 */
static void
t_long_lines(void)
{
	static char	 mail[64];
	static const char *script[] = {
		"S 220 mx.example.org ESMTP",
		"E EHLO client.example.net\r\n",
		"S 250-mx.example.org",
		"S 250-size 99999999999999999999999999",
		"S 250 8BITMIME",
		mail,
		"S 250 2.1.0 Ok",
		"E RCPT TO:<a@example.org>\r\n",
		"S 250 2.1.5 Ok",
		"E DATA\r\n",
		"S 354 End data with <CR><LF>.<CR><LF>",
		"D",
		"S 250 2.0.0 Ok: queued as 4XyZ",
		"E QUIT\r\n",
		"S 221 2.0.0 Bye",
		NULL,
	};
	struct smtp_rcpt	 rc[1];
	struct smtp_opts	 o;
	struct dlv_result	 r;
	struct buf		 in, want, whole;
	size_t			 i;

	buf_init(&in, 65536);
	buf_init(&want, 65536);
	buf_init(&whole, 65536);
	buf_adds(&in, "Subject: long\n\n");
	rep(&in, 'x', 999);
	buf_adds(&in, "\n");
	rep(&in, 'x', 1000);
	buf_adds(&in, "\n.");
	rep(&in, 'y', 1999);
	buf_adds(&in, "\n");
	rep(&in, 'z', 999);
	buf_adds(&in, "\r\n");
	rep(&in, 'w', 5000);
	buf_adds(&in, "\n");
	bsnprintf(mail, sizeof(mail), "E MAIL FROM:<s@example.org> "
	    "SIZE=%zu\r\n", in.len);

	buf_adds(&want, "Subject: long\r\n\r\n");
	rep(&want, 'x', 999);
	buf_adds(&want, "\r\n");
	rep(&want, 'x', 999);
	buf_adds(&want, "\r\n x\r\n..");
	rep(&want, 'y', 998);
	buf_adds(&want, "\r\n ");
	rep(&want, 'y', 998);
	buf_adds(&want, "\r\n yyy\r\n");
	rep(&want, 'z', 999);
	buf_adds(&want, "\r\n");
	rep(&want, 'w', 999);
	for (i = 0; i < 4; i++) {
		buf_adds(&want, "\r\n ");
		rep(&want, 'w', 998);
	}
	buf_adds(&want, "\r\n wwwwwwwww\r\n.\r\n");

	opts_init(&o);
	o.line_limit = 999;
	rcpts_init(rc, 1);
	check_int(session(script, &o, in.data, in.len, rc, 1, &r), ==,
	    SMTP_OK);
	res_is(&rc[0].result, DLV_OK, "2.0.0", "250 2.0.0 Ok: queued as 4XyZ");
	data_is(buf_str(&want));

	/* no limit: byte for byte, but for CRLF and the dots */
	buf_adds(&whole, "Subject: long\r\n\r\n");
	rep(&whole, 'x', 999);
	buf_adds(&whole, "\r\n");
	rep(&whole, 'x', 1000);
	buf_adds(&whole, "\r\n..");
	rep(&whole, 'y', 1999);
	buf_adds(&whole, "\r\n");
	rep(&whole, 'z', 999);
	buf_adds(&whole, "\r\n");
	rep(&whole, 'w', 5000);
	buf_adds(&whole, "\r\n.\r\n");
	o.line_limit = 0;
	check_int(session(script, &o, in.data, in.len, rc, 1, &r), ==,
	    SMTP_OK);
	res_is(&rc[0].result, DLV_OK, "2.0.0", "250 2.0.0 Ok: queued as 4XyZ");
	data_is(buf_str(&whole));
	buf_free(&in);
	buf_free(&want);
	buf_free(&whole);
}

static void
t_lost_in_data(void)
{
	static const char *const script[] = {
		"S 220 mx.example.org ESMTP",
		"E EHLO ",
		"S 250 mx.example.org",
		"E MAIL FROM:",
		"S 250 Ok",
		"E RCPT TO:<a@example.org>",
		"S 250 Ok",
		"E RCPT TO:<b@example.org>",
		"S 550 5.1.1 no",
		"E DATA",
		"S 354 go",
		"C",
		NULL,
	};
	static const char *const small[] = {
		"S 220 mx.example.org ESMTP",
		"E EHLO ",
		"S 250 mx.example.org",
		"E MAIL FROM:",
		"S 250 Ok",
		"E RCPT TO:<a@example.org>",
		"S 250 Ok",
		"E RCPT TO:<b@example.org>",
		"S 250 Ok",
		"E DATA",
		"S 354 go",
		"D",
		"C",
		NULL,
	};
	struct smtp_rcpt	 rc[2];
	struct smtp_opts	 o;
	struct dlv_result	 r;
	char			*big;
	size_t			 bigsz = 4 * 1024 * 1024, i;

	opts_init(&o);
	rcpts_init(rc, 2);
	if ((big = malloc(bigsz + 1)) == NULL) {
		check(0);
		return;
	}
	for (i = 0; i < bigsz; i++)
		big[i] = i % 64 == 63 ? '\n' : 'x';
	big[bigsz] = '\0';
	check_int(session(script, &o, big, bigsz, rc, 2, &r), ==,
	    SMTP_BROKEN);
	res_is(&r, DLV_DEFER, "4.4.2", "lost connection with " HOST " while "
	    "sending message body");
	res_is(&rc[0].result, DLV_DEFER, "4.4.2", r.text);
	check_int(rc[1].result.status, ==, DLV_BOUNCE);
	free(big);
	check_int(session(small, &o, CONTENT, strlen(CONTENT), rc, 2, &r),
	    ==, SMTP_BROKEN);
	res_is(&rc[1].result, DLV_DEFER, "4.4.2", "lost connection with "
	    HOST " while sending end of data -- message may be sent more "
	    "than once");
	unlink(scratch("data"));
}

static void
t_timeout(void)
{
	static const char *const greet[] = {
		"W 3",
		NULL,
	};
	static const char *const rcpt[] = {
		"S 220 mx.example.org ESMTP",
		"E EHLO ",
		"S 250 mx.example.org",
		"E MAIL FROM:",
		"S 250 Ok",
		"E RCPT TO:<a@example.org>",
		"W 3",
		NULL,
	};
	struct smtp_rcpt	 rc[1];
	struct smtp_opts	 o;
	struct dlv_result	 r;

	opts_init(&o);
	o.timeouts[SMTP_TO_HELO] = 1;
	o.timeouts[SMTP_TO_RCPT] = 1;
	rcpts_init(rc, 1);
	check_int(session(greet, &o, CONTENT, strlen(CONTENT), rc, 1, &r),
	    ==, SMTP_BROKEN);
	res_is(&r, DLV_DEFER, "4.4.2", "conversation with " HOST " timed out "
	    "while receiving the initial server greeting");
	check_int(session(rcpt, &o, CONTENT, strlen(CONTENT), rc, 1, &r),
	    ==, SMTP_BROKEN);
	res_is(&rc[0].result, DLV_DEFER, "4.4.2", "conversation with " HOST
	    " timed out while sending RCPT TO");
}

static void
t_rset_reuse(void)
{
	static const char *const script[] = {
		"S 220 mx.example.org ESMTP",
		"E EHLO ",
		"S 250 mx.example.org",
		"E MAIL FROM:<s@example.org>",
		"S 250 Ok",
		"E RCPT TO:<a@example.org>",
		"S 250 Ok",
		"E DATA",
		"S 354 go",
		"D",
		"S 250 2.0.0 first",
		"E RSET",
		"S 250 2.0.0 Ok",
		"E MAIL FROM:<t@example.org>",
		"S 250 Ok",
		"E RCPT TO:<a@example.org>",
		"S 250 Ok",
		"E DATA",
		"S 354 go",
		"D",
		"S 250 2.0.0 second",
		"E QUIT",
		"S 221 Bye",
		NULL,
	};
	struct smtp_rcpt	 rc[1];
	struct smtp_opts	 o;
	struct dlv_result	 r;
	struct smtp		*s;
	struct dlv_msg		 msg;
	pid_t			 pid;
	int			 fd, qfd;

	opts_init(&o);
	rcpts_init(rc, 1);
	if ((qfd = qfile(CONTENT, strlen(CONTENT), &msg)) == -1 ||
	    (fd = server_start(script, &pid)) == -1) {
		check(0);
		return;
	}
	check_int(smtp_open(fd, &o, &s, &r), ==, SMTP_OK);
	check_int(smtp_send(s, &msg, NULL, NULL, rc, 1, &r), ==, SMTP_OK);
	check_str(rc[0].result.text, "250 2.0.0 first");
	check_int(smtp_next(s, &r), ==, SMTP_OK);
	msg.sender = "t@example.org";
	check_int(smtp_send(s, &msg, NULL, NULL, rc, 1, &r), ==, SMTP_OK);
	check_str(rc[0].result.text, "250 2.0.0 second");
	smtp_close(s);
	close(qfd);
	check(server_ok(pid));
	data_is(CONTENT_WIRE);
}

static void
t_auth(void)
{
	static const char *const plain[] = {
		"S 220 mx.example.org ESMTP",
		"E EHLO ",
		"S 250-mx.example.org",
		"S 250 AUTH LOGIN PLAIN",
		"E AUTH PLAIN AHVzZXIAc2VjcmV0\r\n",
		"S 235 2.7.0 Authentication successful",
		"E MAIL FROM:",
		"S 250 Ok",
		"E RCPT TO:",
		"S 250 Ok",
		"E DATA",
		"S 354 go",
		"D",
		"S 250 Ok",
		"E QUIT",
		NULL,
	};
	static const char *const login[] = {
		"S 220 mx.example.org ESMTP",
		"E EHLO ",
		"S 250-mx.example.org",
		"S 250 AUTH=LOGIN",
		"E AUTH LOGIN\r\n",
		"S 334 VXNlcm5hbWU6",
		"E dXNlcg==\r\n",
		"S 334 UGFzc3dvcmQ6",
		"E c2VjcmV0\r\n",
		"S 535 5.7.8 Error: authentication failed",
		"E QUIT",
		NULL,
	};
	static const char *const noauth[] = {
		"S 220 mx.example.org ESMTP",
		"E EHLO ",
		"S 250-mx.example.org",
		"S 250 AUTH PLAIN",
		"E QUIT",
		NULL,
	};
	struct smtp_rcpt	 rc[1];
	struct smtp_opts	 o;
	struct dlv_result	 r;

	opts_init(&o);
	o.auth_user = "user";
	o.auth_pass = "secret";
	o.auth_plaintext = 1;
	rcpts_init(rc, 1);
	check_int(session(plain, &o, CONTENT, strlen(CONTENT), rc, 1, &r),
	    ==, SMTP_OK);
	check_int(rc[0].result.status, ==, DLV_OK);
	unlink(scratch("data"));
	check_int(session(login, &o, CONTENT, strlen(CONTENT), rc, 1, &r),
	    ==, SMTP_REFUSED);
	res_is(&r, DLV_DEFER, "4.7.8", "SASL authentication failed; server "
	    HOST " said: 535 5.7.8 Error: authentication failed");
	o.auth_plaintext = 0;
	check_int(session(noauth, &o, CONTENT, strlen(CONTENT), rc, 1, &r),
	    ==, SMTP_REFUSED);
	check_int(r.status, ==, DLV_DEFER);
	check_str(r.dsn, "4.7.0");
}

static void
t_starttls(void)
{
	static const char *const tls[] = {
		"S 220 mx.example.org ESMTP",
		"E EHLO ",
		"S 250-mx.example.org",
		"S 250 STARTTLS",
		"E STARTTLS\r\n",
		"S 220 2.0.0 Ready to start TLS",
		"T",
		"E EHLO client.example.net\r\n",
		"S 250-mx.example.org",
		"S 250 AUTH PLAIN",
		"E AUTH PLAIN AHVzZXIAc2VjcmV0\r\n",
		"S 235 2.7.0 ok",
		"E MAIL FROM:",
		"S 250 Ok",
		"E RCPT TO:",
		"S 250 Ok",
		"E DATA",
		"S 354 go",
		"D",
		"S 250 2.0.0 Ok: queued over TLS",
		"E QUIT",
		"S 221 Bye",
		NULL,
	};
	static const char *const tlsfail[] = {
		"S 220 mx.example.org ESMTP",
		"E EHLO ",
		"S 250-mx.example.org",
		"S 250 STARTTLS",
		"E STARTTLS\r\n",
		"S 220 2.0.0 Ready to start TLS",
		"T",
		NULL,
	};
	static const char *const notls[] = {
		"S 220 mx.example.org ESMTP",
		"E EHLO ",
		"S 250 mx.example.org",
		"E QUIT",
		NULL,
	};
	static const char *const notls_auth[] = {
		"S 220 mx.example.org ESMTP",
		"E EHLO ",
		"S 250-mx.example.org",
		"S 250 AUTH PLAIN LOGIN",
		"E QUIT",
		NULL,
	};
	static const char *const garbage[] = {
		"S 220 mx.example.org ESMTP",
		"E EHLO ",
		"S 250-mx.example.org",
		"S 250 STARTTLS",
		"E STARTTLS\r\n",
		"S 220 2.0.0 Ready to start TLS",
		"G",
		NULL,
	};
	struct smtp_rcpt	 rc[1];
	struct smtp_opts	 o;
	struct dlv_result	 r;
	const char		*lev;

	opts_init(&o);
	rcpts_init(rc, 1);
	o.auth_user = "user";
	o.auth_pass = "secret";
	srv_cred = &good;
	for (lev = "\1\2\3"; *lev != '\0'; lev++) {
		o.tls_level = *lev;
		check_int(session(tls, &o, CONTENT, strlen(CONTENT), rc, 1,
		    &r), ==, SMTP_OK);
		res_is(&rc[0].result, DLV_OK, "2.0.0",
		    "250 2.0.0 Ok: queued over TLS");
		data_is(CONTENT_WIRE);
	}
	/* verify: a certificate for another name */
	srv_cred = &wrong;
	o.tls_level = TLS_LEV_VERIFY;
	check_int(session(tlsfail, &o, CONTENT, strlen(CONTENT), rc, 1, &r), ==,
	    SMTP_REFUSED);
	check_int(r.status, ==, DLV_DEFER);
	check_str(r.dsn, "4.7.5");
	check(strncmp(r.text, "Cannot start TLS with host " HOST ": ", 42) ==
	    0);
	check(strstr(r.text, "name mismatch") != NULL);
	/* encrypt: the other name is fine */
	o.tls_level = TLS_LEV_ENCRYPT;
	check_int(session(tls, &o, CONTENT, strlen(CONTENT), rc, 1, &r), ==,
	    SMTP_OK);
	unlink(scratch("data"));
	/* no STARTTLS offered */
	o.auth_user = NULL;
	check_int(session(notls, &o, CONTENT, strlen(CONTENT), rc, 1, &r), ==,
	    SMTP_REFUSED);
	res_is(&r, DLV_DEFER, "4.7.4", "TLS is required, but was not offered "
	    "by host " HOST);
	/* may: a failed handshake asks for a plaintext retry */
	o.tls_level = TLS_LEV_MAY;
	check_int(session(garbage, &o, CONTENT, strlen(CONTENT), rc, 1, &r),
	    ==, SMTP_RETRY_PLAIN);
	check_int(r.status, ==, DLV_DEFER);
	check_str(r.dsn, "4.7.5");
	check(strncmp(r.text, "Cannot start TLS with host " HOST ": TLS "
	    "handshake with mx.example.org failed: ", 80) == 0);
	/* may, encrypt: no AUTH in plaintext */
	o.auth_user = "user";
	check_int(session(notls_auth, &o, CONTENT, strlen(CONTENT), rc, 1,
	    &r), ==, SMTP_REFUSED);
	res_is(&r, DLV_DEFER, "4.7.0", "SASL authentication with host " HOST
	    " refused: the connection is not encrypted");
}

static void
t_tls_info(void)
{
	static const char *const tls[] = {
		"S 220 mx.example.org ESMTP",
		"E EHLO ",
		"S 250-mx.example.org",
		"S 250 STARTTLS",
		"E STARTTLS\r\n",
		"S 220 2.0.0 Ready to start TLS",
		"T",
		"E EHLO client.example.net\r\n",
		"S 250 mx.example.org",
		"E QUIT",
		"S 221 Bye",
		NULL,
	};
	struct smtp_opts	 o;
	struct dlv_result	 r;
	struct smtp		*s;
	pid_t			 pid;
	int			 fd;

	opts_init(&o);
	o.tls_level = TLS_LEV_VERIFY;
	srv_cred = &good;
	if ((fd = server_start(tls, &pid)) == -1) {
		check(0);
		return;
	}
	check_int(smtp_open(fd, &o, &s, &r), ==, SMTP_OK);
	check(strncmp(smtp_tls_info(s), "Verified TLS connection established "
	    "to " HOST ": TLSv1.", 64) == 0);
	smtp_close(s);
	check(server_ok(pid));
}

/* setup - the test CA, two server certificates, a client context */
static int
setup(void)
{
	struct buf	 why;
	FILE		*fp;

	if (cred_make(&ca, "correo test CA", NULL, -CERT_DAY, 2 * CERT_DAY, NULL,
	    1) != 0 ||
	    cred_make(&good, "mx.example.org", "DNS:mx.example.org", -CERT_DAY,
	    2 * CERT_DAY, &ca, 0) != 0 ||
	    cred_make(&wrong, "other.example.com", "DNS:other.example.com",
	    -CERT_DAY, 2 * CERT_DAY, &ca, 0) != 0)
		return -1;
	bsnprintf(cafile, sizeof(cafile), "%s/ca.pem", dir);
	if ((fp = fopen(cafile, "w")) == NULL)
		return -1;
	if (PEM_write_X509(fp, ca.cert) != 1) {
		fclose(fp);
		return -1;
	}
	if (fclose(fp) != 0)
		return -1;
	buf_init(&why, 1024);
	ctx = tls_client_ctx_new(cafile, NULL, &why);
	if (ctx == NULL)
		tap_diag("context: %s", buf_str(&why));
	buf_free(&why);
	return ctx == NULL ? -1 : 0;
}

int
main(void)
{
	char	 tmpl[] = "/tmp/t-runq-smtp.XXXXXX";

	signal(SIGPIPE, SIG_IGN);
	if (mkdtemp(tmpl) == NULL)
		return 1;
	str_copy(dir, sizeof(dir), tmpl);
	if (setup() != 0) {
		tap_diag("cannot set up the test CA");
		return 1;
	}
	TEST(t_all_ok, "250 for all; dot-stuffing on the wire");
	TEST(t_rcpt_mixed, "550 and 452 for some RCPTs, 250 for another");
	TEST(t_greeting_421, "421 and 554 at the greeting");
	TEST(t_mail_554, "554 at MAIL applies to all");
	TEST(t_data_end_552, "552 after the body");
	TEST(t_pipelining, "PIPELINING, SIZE, 8BITMIME, DSN parameters");
	TEST(t_no_pipelining_waits, "no PIPELINING: one command at a time");
	TEST(t_helo_fallback, "HELO after a 5xx to EHLO");
	TEST(t_size_refused, "bigger than the server's SIZE: not sent");
	TEST(t_long_lines, "smtp_line_length_limit: CRLF SPACE, or whole");
	TEST(t_lost_in_data, "connection lost during and after the body");
	TEST(t_timeout, "a server that hangs");
	TEST(t_rset_reuse, "two messages over one session with RSET");
	TEST(t_auth, "AUTH PLAIN, AUTH LOGIN, refusals");
	TEST(t_starttls, "STARTTLS at may, encrypt, verify");
	TEST(t_tls_info, "the TLS log line");
	tls_ctx_free(ctx);
	cred_free(&ca);
	cred_free(&good);
	cred_free(&wrong);
	unlink(cafile);
	unlink(scratch("q"));
	unlink(scratch("data"));
	rmdir(dir);
	return test_done();
}
