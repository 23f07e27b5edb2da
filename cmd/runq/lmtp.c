/*
 * lmtp.c - mailbox_transport = lmtp:unix:PATH | lmtp:[HOST]:PORT: one
 * LMTP session (RFC 2033) per call, for one message and any number of
 * recipients (see deliver.h)
 *
 * The conversation.  Connect (dest is "unix:/path", or "[HOST]:PORT",
 * "HOST:PORT", "[HOST]" or "HOST" with port 24; see smtpio.h), expect
 * 220, LHLO $myhostname, MAIL FROM:<sender> with BODY=8BITMIME when the
 * content has a byte above 127 and the server offers 8BITMIME, SMTPUTF8
 * when an envelope address needs it and the server offers it, and
 * SIZE=content length when it offers SIZE; RCPT TO:<addr> for each
 * recipient (pipelined when the server offers PIPELINING); DATA when
 * any was accepted; the content with CRLF line ends and dot-stuffing;
 * then one reply per accepted recipient, in RCPT order; QUIT.  Nothing
 * is prepended: the server adds its own Return-Path and Delivered-To.
 * 8-bit content goes as it is to a server that does not offer 8BITMIME
 * (no conversion), as Postfix does.
 *
 * The results.  Each recipient gets its own: the server's reply to its
 * RCPT or, once accepted, its reply after the content.  2xx is DLV_OK
 * with the reply as text ("250 2.0.0 <bob@x> ... Saved"); 4xx defers
 * and 5xx bounces, with the reply's enhanced status code (else X.0.0)
 * and "host DEST said: REPLY (in reply to RCPT TO command)".  A
 * rejected MAIL FROM gives every recipient that reply.  An address
 * that needs SMTPUTF8 when the server does not offer it bounces with
 * 5.6.7; one with control characters with 5.1.3.
 *
 * Session failures.  When the session breaks down (no connection, a
 * timeout, a lost connection, a reply that is not one, a greeting other
 * than 220, a 421 at any point), every recipient that has no result yet
 * is deferred with the reason: 4.4.1 when the connection failed, the
 * reply's own 4.X.Y code for a 421 or a refused greeting when it has
 * one, 4.4.2 otherwise.
 *
 * Timeouts.  With timeout > 0, every stage (each reply, each flush of
 * the output) has timeout seconds and connecting has at most
 * LMTP_CONNECT_TIMEOUT; with timeout <= 0, Postfix's lmtp_*_timeout
 * defaults apply (connect 30 s, LHLO/MAIL/RCPT/QUIT 300 s, DATA 120 s,
 * the content 180 s a write, its final reply 600 s).
 *
 * Long lines are sent whole, however long: the LMTP server is a local
 * store, and Postfix's separate lmtp_line_length_limit is not
 * implemented (smtp.c breaks lines for SMTP).  The extensions, the
 * reply codes and the failure texts are smtpio(3)'s, shared with
 * smtp.c.
 *
 * Memory.  The content is read twice in DLV_CHUNK pieces (once to look
 * for 8-bit bytes, once to send it) and never held whole.
 *
 * Returns 0 when the conversation ran to its end (r is DLV_OK
 * "delivered via DEST"; each recipient's own result says how it went),
 * -1 when it broke down (r holds the deferral every recipient without
 * a result got).  Either way every recipient has a result.
 */
#include <sys/types.h>

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/conf.h"
#include "common/smtpio.h"
#include "common/util.h"
#include "cmd/runq/deliver.h"

#define LMTP_PORT		"24"
#define LMTP_CONNECT_TIMEOUT	30
#define LMTP_DEF_HELO		300
#define LMTP_DEF_MAIL		300
#define LMTP_DEF_RCPT		300
#define LMTP_DEF_DATA_INIT	120
#define LMTP_DEF_DATA_XFER	180
#define LMTP_DEF_DATA_DONE	600
#define LMTP_DEF_QUIT		300
#define LMTP_WHY_MAX		4096
#define LMTP_GREETING		220
#define LMTP_DATA_GO		354
#define LMTP_SHUTDOWN		421

/* Where a recipient's RCPT TO stands. */
enum lmtp_acc {
	LMTP_RCPT_NONE = 0,	/* not sent, or refused */
	LMTP_RCPT_OK,		/* accepted */
	LMTP_RCPT_PENDING,	/* sent, reply not read yet */
};

/* What a stage waits for, named for the texts. */
enum lmtp_stage {
	LMTP_ST_CONNECT,
	LMTP_ST_GREETING,
	LMTP_ST_LHLO,
	LMTP_ST_MAIL,
	LMTP_ST_RCPT,
	LMTP_ST_DATA,
	LMTP_ST_BODY,
	LMTP_ST_DONE,
	LMTP_ST_QUIT,
};

struct lmtp_timeouts {
	int	 connect, helo, mail, rcpt, data_init, data_xfer, data_done;
	int	 quit;
};

struct lmtp {
	const char		*dest;
	const struct dlv_msg	*msg;
	struct lmtp_rcpt	*rcpt;
	size_t			 n;
	unsigned char		*accepted;	/* enum lmtp_acc, each */
	size_t			 naccepted;
	size_t			 next_reply;	/* first RCPT pending */
	size_t			 sent;		/* rcpt[0..sent) sent */
	unsigned char		*done;		/* has a result, each */
	struct lmtp_timeouts	 to;
	struct smtpio		*io;		/* NULL: not connected */
	struct smtpio_reply	 reply;
	struct smtpio_ext	 ext;		/* what LHLO offered */
	char			*chunk;		/* DLV_CHUNK bytes */
};

static const char *const lmtp_stage_text[] = {
	[LMTP_ST_CONNECT] = "connecting",
	[LMTP_ST_GREETING] = "receiving the initial server greeting",
	[LMTP_ST_LHLO] = "performing the LHLO handshake",
	[LMTP_ST_MAIL] = "sending MAIL FROM",
	[LMTP_ST_RCPT] = "sending RCPT TO",
	[LMTP_ST_DATA] = "sending DATA",
	[LMTP_ST_BODY] = "sending the message content",
	[LMTP_ST_DONE] = ("sending end of data -- message may be sent more "
	    "than once"),
	[LMTP_ST_QUIT] = "sending QUIT",
};

static const char *const lmtp_in_reply_to[] = {
	[LMTP_ST_CONNECT] = "connect",
	[LMTP_ST_GREETING] = "the initial greeting",
	[LMTP_ST_LHLO] = "LHLO command",
	[LMTP_ST_MAIL] = "MAIL FROM command",
	[LMTP_ST_RCPT] = "RCPT TO command",
	[LMTP_ST_DATA] = "DATA command",
	[LMTP_ST_BODY] = "end of DATA command",
	[LMTP_ST_DONE] = "end of DATA command",
	[LMTP_ST_QUIT] = "QUIT command",
};

static void	 lmtp_timeouts(struct lmtp_timeouts *, long);
static int	 lmtp_fail(struct lmtp *, struct dlv_result *, const char *,
		    const char *, ...) __attribute__((format(printf, 4, 5)));
static int	 lmtp_io_fail(struct lmtp *, struct dlv_result *, int,
		    enum lmtp_stage);
static void	 lmtp_finish(struct lmtp *, size_t, enum dlv_status,
		    const char *, const char *, ...)
		    __attribute__((format(printf, 5, 6)));
static void	 lmtp_reply_result(struct lmtp *, size_t, enum lmtp_stage);
static int	 lmtp_command(struct lmtp *, struct dlv_result *,
		    enum lmtp_stage, int);
static int	 lmtp_rcpt_replies(struct lmtp *, struct dlv_result *);
static int	 lmtp_send_body(struct lmtp *, struct dlv_result *);
static void	 lmtp_quit(struct lmtp *);

/* lmtp_timeouts - the per-stage timeouts from the caller's one */
static void
lmtp_timeouts(struct lmtp_timeouts *to, long timeout)
{
	int	 t;

	if (timeout <= 0) {
		to->connect = LMTP_CONNECT_TIMEOUT;
		to->helo = LMTP_DEF_HELO;
		to->mail = LMTP_DEF_MAIL;
		to->rcpt = LMTP_DEF_RCPT;
		to->data_init = LMTP_DEF_DATA_INIT;
		to->data_xfer = LMTP_DEF_DATA_XFER;
		to->data_done = LMTP_DEF_DATA_DONE;
		to->quit = LMTP_DEF_QUIT;
		return;
	}
	t = timeout > 86400 ? 86400 : (int)timeout;
	to->connect = t < LMTP_CONNECT_TIMEOUT ? t : LMTP_CONNECT_TIMEOUT;
	to->helo = to->mail = to->rcpt = t;
	to->data_init = to->data_xfer = to->data_done = to->quit = t;
}

/*
 * lmtp_finish - give recipient i its result (a formatted text cut to
 * fit by dlv_set)
 */
static void
lmtp_finish(struct lmtp *s, size_t i, enum dlv_status st, const char *dsn,
    const char *fmt, ...)
{
	struct buf	 b;
	va_list		 ap;
	int		 rc;

	buf_init(&b, SMTPIO_REPLY_MAX + LMTP_WHY_MAX);
	va_start(ap, fmt);
	rc = buf_vprintf(&b, fmt, ap);
	va_end(ap);
	dlv_set(&s->rcpt[i].result, st, dsn, "%s",
	    rc == BUF_OK ? buf_str(&b) : "(result text unavailable)");
	s->done[i] = 1;
	buf_free(&b);
}

/*
 * lmtp_fail - the session broke down: r and every recipient without a
 * result get DLV_DEFER with dsn and the text; returns -1
 */
static int
lmtp_fail(struct lmtp *s, struct dlv_result *r, const char *dsn,
    const char *fmt, ...)
{
	struct buf	 b;
	va_list		 ap;
	const char	*text;
	size_t		 i;
	int		 rc;

	buf_init(&b, SMTPIO_REPLY_MAX + LMTP_WHY_MAX);
	va_start(ap, fmt);
	rc = buf_vprintf(&b, fmt, ap);
	va_end(ap);
	text = rc == BUF_OK ? buf_str(&b) : "LMTP session failed";
	dlv_set(r, DLV_DEFER, dsn, "%s", text);
	for (i = 0; i < s->n; i++)
		if (!s->done[i])
			lmtp_finish(s, i, DLV_DEFER, dsn, "%s", text);
	buf_free(&b);
	return -1;
}

/* lmtp_io_fail - a failed read or write as a session failure */
static int
lmtp_io_fail(struct lmtp *s, struct dlv_result *r, int rc,
    enum lmtp_stage st)
{
	struct buf	 why;
	const char	*dsn;

	buf_init(&why, LMTP_WHY_MAX);
	dsn = smtpio_io_why(&why, rc, s->dest, lmtp_stage_text[st]);
	rc = lmtp_fail(s, r, dsn, "%s", buf_str(&why));
	buf_free(&why);
	return rc;
}

/*
 * lmtp_reply_result - recipient i's result from the reply just read:
 * 2xx delivered, 4xx deferred, 5xx bounced
 */
static void
lmtp_reply_result(struct lmtp *s, size_t i, enum lmtp_stage st)
{
	struct buf	 text;
	char		 dsn[SMTPIO_DSN_MAX];
	int		 cls;

	buf_init(&text, SMTPIO_REPLY_MAX + LMTP_WHY_MAX);
	cls = smtpio_reply_result(&s->reply, s->dest, lmtp_in_reply_to[st],
	    &text, dsn, sizeof(dsn));
	lmtp_finish(s, i, cls == 2 ? DLV_OK : cls == 4 ? DLV_DEFER :
	    DLV_BOUNCE, dsn, "%s", buf_str(&text));
	buf_free(&text);
}

/*
 * lmtp_command - read the reply to a command sent; a transport failure
 * or a 421 ends the session (-1), anything else is left in s->reply
 * for the caller to judge (0).  With want, a reply of another class
 * than want is a session failure as well.
 */
static int
lmtp_command(struct lmtp *s, struct dlv_result *r, enum lmtp_stage st,
    int want)
{
	struct buf	 text;
	int		 rc;

	if ((rc = smtpio_reply(s->io, &s->reply)) != SMTPIO_OK)
		return lmtp_io_fail(s, r, rc, st);
	if (s->reply.code / 100 == 3 && (st != LMTP_ST_DATA ||
	    s->reply.code != LMTP_DATA_GO))
		return lmtp_io_fail(s, r, SMTPIO_SYNTAX, st);
	if (s->reply.code != LMTP_SHUTDOWN &&
	    (want == 0 || s->reply.code / 100 == want))
		return 0;
	buf_init(&text, SMTPIO_REPLY_MAX + LMTP_WHY_MAX);
	(void)smtpio_said(&text, s->dest, &s->reply,
	    st == LMTP_ST_GREETING ? NULL : lmtp_in_reply_to[st]);
	rc = lmtp_fail(s, r, smtpio_reply_defer_dsn(&s->reply), "%s",
	    buf_str(&text));
	buf_free(&text);
	return rc;
}

/* lmtp_rcpt_replies - read the replies to the RCPT TO commands sent */
static int
lmtp_rcpt_replies(struct lmtp *s, struct dlv_result *r)
{
	size_t	 j;

	for (j = s->next_reply; j < s->sent; j++) {
		if (s->accepted[j] != LMTP_RCPT_PENDING)
			continue;
		if (lmtp_command(s, r, LMTP_ST_RCPT, 0) != 0)
			return -1;
		if (s->reply.code / 100 == 2) {
			s->accepted[j] = LMTP_RCPT_OK;
			s->naccepted++;
		} else {
			s->accepted[j] = LMTP_RCPT_NONE;
			lmtp_reply_result(s, j, LMTP_ST_RCPT);
		}
	}
	s->next_reply = s->sent;
	return 0;
}

/* lmtp_send_body - the content, encoded, and the final "." */
static int
lmtp_send_body(struct lmtp *s, struct dlv_result *r)
{
	off_t	 at;
	size_t	 n;
	int	 rc;

	smtpio_set_timeout(s->io, s->to.data_xfer);
	smtpio_body_init(&s->io->body);
	/*
	 * No line breaking: the server is a local store (Dovecot) that
	 * takes lines of any length.  Postfix's lmtp(8) has its own
	 * lmtp_line_length_limit; correo does not implement it, so LMTP
	 * content goes unlimited, byte for byte.
	 */
	smtpio_body_set_limit(&s->io->body, 0);
	for (at = 0; at < s->msg->len; at += (off_t)n) {
		n = DLV_CHUNK;
		if ((off_t)n > s->msg->len - at)
			n = (size_t)(s->msg->len - at);
		if (dlv_pread(s->msg, at, s->chunk, n) != 0)
			return lmtp_fail(s, r, "4.3.0", "cannot read queue "
			    "file: %s", strerror(errno));
		if ((rc = smtpio_body_write(s->io, s->chunk, n)) !=
		    SMTPIO_OK)
			return lmtp_io_fail(s, r, rc, LMTP_ST_BODY);
	}
	if ((rc = smtpio_body_end(s->io)) != SMTPIO_OK ||
	    (rc = smtpio_flush(s->io)) != SMTPIO_OK)
		return lmtp_io_fail(s, r, rc, LMTP_ST_BODY);
	return 0;
}

/* lmtp_quit - say goodbye; what the server answers does not matter */
static void
lmtp_quit(struct lmtp *s)
{
	smtpio_set_timeout(s->io, s->to.quit);
	if (smtpio_cmd(s->io, "QUIT") == SMTPIO_OK)
		(void)smtpio_reply(s->io, &s->reply);
}

/* lmtp_deliver - one LMTP session for one message (see deliver.h) */
int
lmtp_deliver(const char *dest, const struct dlv_msg *msg,
    struct lmtp_rcpt *rcpts, size_t n, long timeout, struct dlv_result *r)
{
	struct lmtp	 s;
	struct smtpio	*io = NULL;
	struct buf	 why, params;
	const char	*sender, *helo;
	size_t		 i;
	int		 fd, rc, eightbit, utf8, status = -1;

	memset(&s, 0, sizeof(s));
	s.dest = dest;
	s.msg = msg;
	s.rcpt = rcpts;
	s.n = n;
	lmtp_timeouts(&s.to, timeout);
	smtpio_reply_init(&s.reply);
	buf_init(&why, LMTP_WHY_MAX);
	buf_init(&params, 128);
	sender = msg->sender != NULL ? msg->sender : "";
	for (i = 0; i < n; i++) {
		memset(&rcpts[i].result, 0, sizeof(rcpts[i].result));
		rcpts[i].result.status = DLV_DEFER;
	}
	dlv_set(r, DLV_OK, "2.0.0", "delivered via %s", dest);
	if (n == 0)
		return 0;
	if ((s.accepted = calloc(n + 1, 1)) == NULL ||
	    (s.done = calloc(n + 1, 1)) == NULL ||
	    (s.chunk = malloc(DLV_CHUNK)) == NULL ||
	    (io = malloc(sizeof(*io))) == NULL) {
		if (s.done == NULL) {
			/* no bookkeeping: defer everyone by hand */
			dlv_set(r, DLV_DEFER, "4.3.0", "out of memory");
			for (i = 0; i < n; i++)
				rcpts[i].result = *r;
			goto out;
		}
		lmtp_fail(&s, r, "4.3.0", "out of memory");
		goto out;
	}
	if (dlv_scan_8bit(s.msg, s.chunk, &eightbit) != 0) {
		lmtp_fail(&s, r, "4.3.0", "cannot read queue file: %s",
		    strerror(errno));
		goto out;
	}
	utf8 = str_has_8bit(sender);
	for (i = 0; i < n; i++)
		if (str_has_8bit(rcpts[i].addr))
			utf8 = 1;

	/* Connect, greeting, LHLO. */
	if ((fd = smtpio_connect(dest, LMTP_PORT, s.to.connect, &why)) ==
	    -1) {
		lmtp_fail(&s, r, "4.4.1", "%s", buf_str(&why));
		goto out;
	}
	smtpio_init(io, fd, s.to.helo);
	s.io = io;
	if (lmtp_command(&s, r, LMTP_ST_GREETING, 2) != 0)
		goto out;
	if ((helo = conf_get("myhostname")) == NULL || *helo == '\0')
		helo = "localhost";
	if ((rc = smtpio_cmd(io, "LHLO %s", helo)) != SMTPIO_OK) {
		lmtp_io_fail(&s, r, rc, LMTP_ST_LHLO);
		goto out;
	}
	if (lmtp_command(&s, r, LMTP_ST_LHLO, 0) != 0)
		goto out;
	if (s.reply.code / 100 != 2) {
		for (i = 0; i < n; i++)
			lmtp_reply_result(&s, i, LMTP_ST_LHLO);
		goto quit;
	}
	smtpio_parse_ext(&s.reply, &s.ext);

	/* MAIL FROM, or why not. */
	if (utf8 && !(s.ext.flags & SMTPIO_EXT_SMTPUTF8) &&
	    str_has_8bit(sender)) {
		for (i = 0; i < n; i++)
			lmtp_finish(&s, i, DLV_BOUNCE, "5.6.7", "SMTPUTF8 is "
			    "required, but was not offered by host %s", dest);
		goto quit;
	}
	if (str_has_ctl(sender, strlen(sender))) {
		for (i = 0; i < n; i++)
			lmtp_finish(&s, i, DLV_BOUNCE, "5.1.7", "bad sender "
			    "address syntax");
		goto quit;
	}
	if ((eightbit && (s.ext.flags & SMTPIO_EXT_8BITMIME) &&
	    buf_adds(&params, " BODY=8BITMIME") != BUF_OK) ||
	    (utf8 && (s.ext.flags & SMTPIO_EXT_SMTPUTF8) &&
	    buf_adds(&params, " SMTPUTF8") != BUF_OK) ||
	    ((s.ext.flags & SMTPIO_EXT_SIZE) &&
	    buf_printf(&params, " SIZE=%lld", (long long)msg->len) != BUF_OK)) {
		lmtp_fail(&s, r, "4.3.0", "out of memory");
		goto out;
	}
	smtpio_set_timeout(io, s.to.mail);
	if ((rc = smtpio_cmd(io, "MAIL FROM:<%s>%s", sender,
	    buf_str(&params))) != SMTPIO_OK) {
		if (rc == SMTPIO_TOOLONG) {
			for (i = 0; i < n; i++)
				lmtp_finish(&s, i, DLV_BOUNCE, "5.1.7",
				    "sender address too long");
			goto quit;
		}
		lmtp_io_fail(&s, r, rc, LMTP_ST_MAIL);
		goto out;
	}
	if (lmtp_command(&s, r, LMTP_ST_MAIL, 0) != 0)
		goto out;
	if (s.reply.code / 100 != 2) {
		for (i = 0; i < n; i++)
			lmtp_reply_result(&s, i, LMTP_ST_MAIL);
		goto quit;
	}

	/* RCPT TO, pipelined when the server allows. */
	smtpio_set_timeout(io, s.to.rcpt);
	for (i = 0; i < n; i++) {
		if (str_has_8bit(rcpts[i].addr) &&
		    !(s.ext.flags & SMTPIO_EXT_SMTPUTF8)) {
			lmtp_finish(&s, i, DLV_BOUNCE, "5.6.7", "SMTPUTF8 is "
			    "required, but was not offered by host %s", dest);
			continue;
		}
		rc = smtpio_cmd(io, "RCPT TO:<%s>", rcpts[i].addr);
		if (rc == SMTPIO_SYNTAX || rc == SMTPIO_TOOLONG) {
			lmtp_finish(&s, i, DLV_BOUNCE, "5.1.3", "bad recipient "
			    "address syntax");
			continue;
		}
		if (rc != SMTPIO_OK) {
			lmtp_io_fail(&s, r, rc, LMTP_ST_RCPT);
			goto out;
		}
		s.accepted[i] = LMTP_RCPT_PENDING;
		s.sent = i + 1;
		if (!(s.ext.flags & SMTPIO_EXT_PIPELINING) &&
		    lmtp_rcpt_replies(&s, r) != 0)
			goto out;
	}
	if (lmtp_rcpt_replies(&s, r) != 0)
		goto out;
	if (s.naccepted == 0)
		goto quit;

	/* DATA, the content, and one reply per accepted recipient. */
	smtpio_set_timeout(io, s.to.data_init);
	if ((rc = smtpio_cmd(io, "DATA")) != SMTPIO_OK) {
		lmtp_io_fail(&s, r, rc, LMTP_ST_DATA);
		goto out;
	}
	if (lmtp_command(&s, r, LMTP_ST_DATA, 0) != 0)
		goto out;
	if (s.reply.code != LMTP_DATA_GO) {
		for (i = 0; i < n; i++)
			if (s.accepted[i] == LMTP_RCPT_OK)
				lmtp_reply_result(&s, i, LMTP_ST_DATA);
		goto quit;
	}
	if (lmtp_send_body(&s, r) != 0)
		goto out;
	smtpio_set_timeout(io, s.to.data_done);
	for (i = 0; i < n; i++) {
		if (s.accepted[i] != LMTP_RCPT_OK)
			continue;
		if (lmtp_command(&s, r, LMTP_ST_DONE, 0) != 0)
			goto out;
		lmtp_reply_result(&s, i, LMTP_ST_DONE);
	}
quit:
	lmtp_quit(&s);
	status = 0;
out:
	if (s.io != NULL)
		smtpio_close(s.io);
	free(io);
	free(s.accepted);
	free(s.done);
	free(s.chunk);
	smtpio_reply_free(&s.reply);
	buf_free(&why);
	buf_free(&params);
	return status;
}
