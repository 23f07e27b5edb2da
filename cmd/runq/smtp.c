/*
 * smtp.c - runq's SMTP client session (see smtp.h): greeting, EHLO or
 * HELO, STARTTLS, AUTH, then mail transactions, each with one result a
 * recipient in Postfix's words
 *
 * The shape follows lmtp.c: a struct with the session and the current
 * transaction, one reader (smtp_command) that turns a transport
 * failure or a 421 into the end of the session, and result helpers
 * built on smtpio(3)'s Postfix texts and status codes, which lmtp.c
 * shares.  Extensions come from the last EHLO reply (smtpio_parse_ext),
 * the SIZE limit with them.  The body goes through smtpio's encoder
 * with opts.line_limit as its line limit.
 */
#include <sys/types.h>

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "common/base64.h"
#include "common/buf.h"
#include "common/smtpio.h"
#include "common/tls.h"
#include "common/util.h"
#include "cmd/runq/deliver.h"
#include "cmd/runq/smtp.h"

#define SMTP_WHY_MAX		4096
#define SMTP_HOST_MAX		(TLS_NAME_MAX + 64)
#define SMTP_AUTH_MAX		(SMTPIO_CMD_MAX - 32)
#define SMTP_GREETING		220
#define SMTP_TLS_GO		220
#define SMTP_AUTH_OK		235
#define SMTP_AUTH_MORE		334
#define SMTP_DATA_GO		354
#define SMTP_SHUTDOWN		421
#define SMTP_MAXTIME		86400
#define SMTP_HDR_SCAN_MAX	(1024 * 1024)	/* header bytes looked at for UTF-8 */

/* Where a recipient's RCPT TO stands. */
enum smtp_acc {
	SMTP_RCPT_NONE = 0,	/* not sent, or refused */
	SMTP_RCPT_OK,		/* accepted */
	SMTP_RCPT_PENDING,	/* sent, reply not read yet */
};

/* What a stage waits for, named for the texts. */
enum smtp_stage {
	SMTP_ST_GREETING,
	SMTP_ST_EHLO,
	SMTP_ST_HELO,
	SMTP_ST_STARTTLS,
	SMTP_ST_AUTH,
	SMTP_ST_MAIL,
	SMTP_ST_RCPT,
	SMTP_ST_DATA,
	SMTP_ST_BODY,
	SMTP_ST_DONE,
	SMTP_ST_RSET,
	SMTP_ST_QUIT,
};

struct smtp {
	struct smtp_opts	 opts;
	char			 host[SMTP_HOST_MAX];	/* name[addr] */
	struct smtpio		 io;
	struct tls		*tls;
	struct buf		 tlsinfo;
	struct smtpio_reply	 reply;
	struct smtpio_ext	 ext;		/* the last EHLO's offer */
	int			 broken;	/* no more commands */
	int			 sound;		/* QUIT is worth sending */
	char			*chunk;		/* DLV_CHUNK bytes */
	/* the transaction in progress */
	const struct dlv_msg	*msg;
	struct smtp_rcpt	*rcpt;
	size_t			 n;
	unsigned char		*accepted;	/* enum smtp_acc, each */
	unsigned char		*done;		/* has a result, each */
	size_t			 naccepted;
};

static const int smtp_default_to[SMTP_TO_MAX] = {
	[SMTP_TO_CONNECT] = 30,
	[SMTP_TO_HELO] = 300,
	[SMTP_TO_STARTTLS] = 300,
	[SMTP_TO_MAIL] = 300,
	[SMTP_TO_RCPT] = 300,
	[SMTP_TO_DATA_INIT] = 120,
	[SMTP_TO_DATA_XFER] = 180,
	[SMTP_TO_DATA_DONE] = 600,
	[SMTP_TO_QUIT] = 300,
	[SMTP_TO_RSET] = 20,
};

static const char *const smtp_stage_text[] = {
	[SMTP_ST_GREETING] = "receiving the initial server greeting",
	[SMTP_ST_EHLO] = "performing the EHLO handshake",
	[SMTP_ST_HELO] = "performing the HELO handshake",
	[SMTP_ST_STARTTLS] = "sending STARTTLS",
	[SMTP_ST_AUTH] = "performing the AUTH handshake",
	[SMTP_ST_MAIL] = "sending MAIL FROM",
	[SMTP_ST_RCPT] = "sending RCPT TO",
	[SMTP_ST_DATA] = "sending DATA command",
	[SMTP_ST_BODY] = "sending message body",
	[SMTP_ST_DONE] = ("sending end of data -- message may be sent more "
	    "than once"),
	[SMTP_ST_RSET] = "sending RSET",
	[SMTP_ST_QUIT] = "sending QUIT",
};

static const char *const smtp_in_reply_to[] = {
	[SMTP_ST_GREETING] = "the initial greeting",
	[SMTP_ST_EHLO] = "EHLO command",
	[SMTP_ST_HELO] = "HELO command",
	[SMTP_ST_STARTTLS] = "STARTTLS command",
	[SMTP_ST_AUTH] = "AUTH command",
	[SMTP_ST_MAIL] = "MAIL FROM command",
	[SMTP_ST_RCPT] = "RCPT TO command",
	[SMTP_ST_DATA] = "DATA command",
	[SMTP_ST_BODY] = "end of DATA command",
	[SMTP_ST_DONE] = "end of DATA command",
	[SMTP_ST_RSET] = "RSET command",
	[SMTP_ST_QUIT] = "QUIT command",
};

static void	 smtp_vset(struct dlv_result *, enum dlv_status, const char *,
		    const char *, va_list) __attribute__((format(printf, 4, 0)));
static void	 smtp_finish(struct smtp *, size_t, enum dlv_status,
		    const char *, const char *, ...)
		    __attribute__((format(printf, 5, 6)));
static int	 smtp_fail(struct smtp *, struct dlv_result *, const char *,
		    const char *, ...) __attribute__((format(printf, 4, 5)));
static int	 smtp_io_fail(struct smtp *, struct dlv_result *, int,
		    enum smtp_stage);
static void	 smtp_reply_result(struct smtp *, struct dlv_result *,
		    enum smtp_stage);
static void	 smtp_reply_all(struct smtp *, enum smtp_stage, int);
static int	 smtp_refuse(struct smtp *, struct dlv_result *,
		    enum smtp_stage);
static int	 smtp_command(struct smtp *, struct dlv_result *,
		    enum smtp_stage);
static int	 smtp_hello(struct smtp *, struct dlv_result *);
static int	 smtp_starttls(struct smtp *, struct dlv_result *);
static int	 smtp_wrap(struct smtp *, struct dlv_result *);
static int	 smtp_auth(struct smtp *, struct dlv_result *);
static int	 smtp_auth_fail(struct smtp *, struct dlv_result *);
static int	 smtp_send_b64(struct smtp *, const char *, const char *,
		    size_t);
static int	 smtp_rcpt_replies(struct smtp *, struct dlv_result *,
		    size_t);
static int	 smtp_send_body(struct smtp *, struct dlv_result *);

/* smtp_timeout - the timeout for a stage: the option, else the default */
int
smtp_timeout(const struct smtp_opts *o, enum smtp_timeout which)
{
	int	 t;

	if ((int)which < 0 || which >= SMTP_TO_MAX)
		return 0;
	t = o != NULL ? o->timeouts[which] : 0;
	if (t <= 0)
		t = smtp_default_to[which];
	return t > SMTP_MAXTIME ? SMTP_MAXTIME : t;
}

/* smtp_vset - fill a result from a format, or a fixed text when it fails */
static void
smtp_vset(struct dlv_result *r, enum dlv_status st, const char *dsn,
    const char *fmt, va_list ap)
{
	struct buf	 b;

	buf_init(&b, SMTPIO_REPLY_MAX + SMTP_WHY_MAX);
	if (buf_vprintf(&b, fmt, ap) == BUF_OK)
		dlv_set(r, st, dsn, "%s", buf_str(&b));
	else
		dlv_set(r, st, dsn, "(result text unavailable)");
	buf_free(&b);
}

/* smtp_finish - give recipient i of the transaction its result */
static void
smtp_finish(struct smtp *s, size_t i, enum dlv_status st, const char *dsn,
    const char *fmt, ...)
{
	va_list		 ap;

	va_start(ap, fmt);
	smtp_vset(&s->rcpt[i].result, st, dsn, fmt, ap);
	va_end(ap);
	s->done[i] = 1;
}

/*
 * smtp_fail - the session broke down: r and every recipient of the
 * transaction without a result get DLV_DEFER; returns SMTP_BROKEN
 */
static int
smtp_fail(struct smtp *s, struct dlv_result *r, const char *dsn,
    const char *fmt, ...)
{
	va_list		 ap;
	size_t		 i;

	va_start(ap, fmt);
	smtp_vset(r, DLV_DEFER, dsn, fmt, ap);
	va_end(ap);
	for (i = 0; i < s->n; i++)
		if (!s->done[i]) {
			s->rcpt[i].result = *r;
			s->done[i] = 1;
		}
	s->broken = 1;
	return SMTP_BROKEN;
}

/* smtp_io_fail - a failed read or write as the end of the session */
static int
smtp_io_fail(struct smtp *s, struct dlv_result *r, int rc,
    enum smtp_stage st)
{
	struct buf	 why;
	const char	*dsn;

	s->sound = 0;
	buf_init(&why, SMTP_WHY_MAX);
	dsn = smtpio_io_why(&why, rc, s->host, smtp_stage_text[st]);
	rc = smtp_fail(s, r, dsn, "%s", buf_str(&why));
	buf_free(&why);
	return rc;
}

/*
 * smtp_reply_result - a result from the reply just read: 2xx
 * delivered, 4xx deferred, anything else bounced
 */
static void
smtp_reply_result(struct smtp *s, struct dlv_result *r, enum smtp_stage st)
{
	struct buf	 text;
	char		 dsn[SMTPIO_DSN_MAX];
	int		 cls;

	buf_init(&text, SMTPIO_REPLY_MAX + SMTP_WHY_MAX);
	cls = smtpio_reply_result(&s->reply, s->host, smtp_in_reply_to[st],
	    &text, dsn, sizeof(dsn));
	dlv_set(r, cls == 2 ? DLV_OK : cls == 4 ? DLV_DEFER : DLV_BOUNCE, dsn,
	    "%s", buf_str(&text));
	buf_free(&text);
}

/*
 * smtp_reply_all - the reply just read for every recipient still open
 * (only the accepted ones when accepted_only)
 */
static void
smtp_reply_all(struct smtp *s, enum smtp_stage st, int accepted_only)
{
	size_t	 i;

	for (i = 0; i < s->n; i++) {
		if (s->done[i] || (accepted_only &&
		    s->accepted[i] != SMTP_RCPT_OK))
			continue;
		smtp_reply_result(s, &s->rcpt[i].result, st);
		s->done[i] = 1;
	}
}

/*
 * smtp_refuse - the server refused the session with the reply just
 * read (the greeting, EHLO/HELO): r as Postfix says it
 */
static int
smtp_refuse(struct smtp *s, struct dlv_result *r, enum smtp_stage st)
{
	struct buf	 text;
	char		 dsn[SMTPIO_DSN_MAX];
	int		 cls = s->reply.code / 100;

	buf_init(&text, SMTPIO_REPLY_MAX + SMTP_WHY_MAX);
	smtpio_reply_dsn(&s->reply, dsn, sizeof(dsn));
	if (cls != 4 && cls != 5)
		(void)str_copy(dsn, sizeof(dsn), "4.4.2");
	(void)smtpio_said(&text, s->host, &s->reply,
	    st == SMTP_ST_GREETING ? NULL : smtp_in_reply_to[st]);
	dlv_set(r, cls == 5 ? DLV_BOUNCE : DLV_DEFER, dsn, "%s",
	    buf_str(&text));
	buf_free(&text);
	if (s->reply.code == SMTP_SHUTDOWN)
		s->sound = 0;
	s->broken = 1;
	return SMTP_REFUSED;
}

/*
 * smtp_command - read the reply to a command sent; a transport failure
 * or a 421 ends the session (SMTP_BROKEN), anything else is left in
 * s->reply for the caller to judge (0)
 */
static int
smtp_command(struct smtp *s, struct dlv_result *r, enum smtp_stage st)
{
	struct buf	 text;
	int		 rc;

	if ((rc = smtpio_reply(&s->io, &s->reply)) != SMTPIO_OK)
		return smtp_io_fail(s, r, rc, st);
	if (s->reply.code != SMTP_SHUTDOWN)
		return 0;
	s->sound = 0;
	buf_init(&text, SMTPIO_REPLY_MAX + SMTP_WHY_MAX);
	(void)smtpio_said(&text, s->host, &s->reply,
	    st == SMTP_ST_GREETING ? NULL : smtp_in_reply_to[st]);
	rc = smtp_fail(s, r, smtpio_reply_defer_dsn(&s->reply), "%s",
	    buf_str(&text));
	buf_free(&text);
	return rc;
}

/* smtp_hello - EHLO, or HELO when EHLO gets a 5xx; the extensions */
static int
smtp_hello(struct smtp *s, struct dlv_result *r)
{
	const char	*helo = s->opts.helo_name;
	int		 rc;

	if (helo == NULL || *helo == '\0')
		helo = "localhost";
	smtpio_set_timeout(&s->io, smtp_timeout(&s->opts, SMTP_TO_HELO));
	if ((rc = smtpio_cmd(&s->io, "EHLO %s", helo)) != SMTPIO_OK)
		return smtp_io_fail(s, r, rc, SMTP_ST_EHLO);
	if ((rc = smtp_command(s, r, SMTP_ST_EHLO)) != 0)
		return rc;
	if (s->reply.code / 100 == 2) {
		smtpio_parse_ext(&s->reply, &s->ext);
		return SMTP_OK;
	}
	if (s->reply.code / 100 != 5)
		return smtp_refuse(s, r, SMTP_ST_EHLO);
	memset(&s->ext, 0, sizeof(s->ext));
	if ((rc = smtpio_cmd(&s->io, "HELO %s", helo)) != SMTPIO_OK)
		return smtp_io_fail(s, r, rc, SMTP_ST_HELO);
	if ((rc = smtp_command(s, r, SMTP_ST_HELO)) != 0)
		return rc;
	if (s->reply.code / 100 != 2)
		return smtp_refuse(s, r, SMTP_ST_HELO);
	return SMTP_OK;
}

/* smtp_starttls - STARTTLS per the level, and EHLO again under TLS */
static int
smtp_starttls(struct smtp *s, struct dlv_result *r)
{
	struct buf	 why;
	int		 lev = s->opts.tls_level, rc;

	if (lev == TLS_LEV_NONE || s->tls != NULL)
		return SMTP_OK;		/* no TLS, or TLS from the start */
	if (!(s->ext.flags & SMTPIO_EXT_STARTTLS)) {
		if (lev == TLS_LEV_MAY)
			return SMTP_OK;
		dlv_set(r, DLV_DEFER, "4.7.4", "TLS is required, but was not "
		    "offered by host %s", s->host);
		s->broken = 1;
		return SMTP_REFUSED;
	}
	smtpio_set_timeout(&s->io, smtp_timeout(&s->opts, SMTP_TO_STARTTLS));
	if ((rc = smtpio_cmd(&s->io, "STARTTLS")) != SMTPIO_OK)
		return smtp_io_fail(s, r, rc, SMTP_ST_STARTTLS);
	if ((rc = smtp_command(s, r, SMTP_ST_STARTTLS)) != 0)
		return rc;
	if (s->reply.code != SMTP_TLS_GO) {
		if (lev == TLS_LEV_MAY)
			return SMTP_OK;
		smtp_refuse(s, r, SMTP_ST_STARTTLS);
		r->status = DLV_DEFER;
		r->dsn[0] = '4';
		return SMTP_REFUSED;
	}
	buf_init(&why, SMTP_WHY_MAX);
	rc = tls_client_start(s->opts.tls_ctx, s->io.fd,
	    smtp_timeout(&s->opts, SMTP_TO_STARTTLS), (enum tls_level)lev,
	    s->opts.peername, s->opts.tls_match, &s->tls, &why);
	if (rc != TLS_OK) {
		dlv_set(r, DLV_DEFER, "4.7.5", "Cannot start TLS with host "
		    "%s: %s", s->host, buf_str(&why));
		buf_free(&why);
		s->broken = 1;
		s->sound = 0;
		return lev == TLS_LEV_MAY ? SMTP_RETRY_PLAIN : SMTP_REFUSED;
	}
	buf_free(&why);
	if (smtpio_set_ops(&s->io, &tls_smtpio_ops, s->tls) != SMTPIO_OK) {
		s->sound = 0;
		return smtp_fail(s, r, "4.7.5", "host %s sent plaintext after "
		    "its STARTTLS reply", s->host);
	}
	(void)tls_established(s->tls, s->host, &s->tlsinfo);
	return smtp_hello(s, r);
}

/*
 * smtp_wrap - TLS before the greeting (smtp_tls_wrappermode, port
 * 465): a failed handshake defers 4.7.5 whatever the level, since
 * there is no plaintext to fall back to on this port
 */
static int
smtp_wrap(struct smtp *s, struct dlv_result *r)
{
	struct buf	 why;
	int		 lev = s->opts.tls_level, rc;

	if (lev < TLS_LEV_ENCRYPT)
		lev = TLS_LEV_ENCRYPT;
	buf_init(&why, SMTP_WHY_MAX);
	rc = tls_client_start(s->opts.tls_ctx, s->io.fd,
	    smtp_timeout(&s->opts, SMTP_TO_STARTTLS), (enum tls_level)lev,
	    s->opts.peername, s->opts.tls_match, &s->tls, &why);
	if (rc != TLS_OK) {
		dlv_set(r, DLV_DEFER, "4.7.5", "Cannot start TLS with host "
		    "%s: %s", s->host, buf_str(&why));
		buf_free(&why);
		s->broken = 1;
		s->sound = 0;
		return SMTP_REFUSED;
	}
	buf_free(&why);
	if (smtpio_set_ops(&s->io, &tls_smtpio_ops, s->tls) != SMTPIO_OK) {
		s->sound = 0;
		return smtp_fail(s, r, "4.7.5", "cannot switch to TLS with "
		    "host %s", s->host);
	}
	(void)tls_established(s->tls, s->host, &s->tlsinfo);
	return SMTP_OK;
}

/*
 * smtp_send_b64 - send the base64 of data as a command line with
 * prefix (which may be ""), wiping the copy afterwards
 */
static int
smtp_send_b64(struct smtp *s, const char *prefix, const char *data,
    size_t len)
{
	struct buf	 b;
	int		 rc;

	buf_init(&b, SMTP_AUTH_MAX);
	if (base64_encode(&b, data, len) != BUF_OK)
		rc = SMTPIO_TOOLONG;
	else
		rc = smtpio_cmd(&s->io, "%s%s", prefix, buf_str(&b));
	if (b.data != NULL)
		explicit_bzero(b.data, b.len);
	buf_free(&b);
	return rc;
}

/*
 * smtp_auth_fail - the server rejected the credentials: always a
 * deferral (Postfix's smtp_sasl_auth_soft_bounce)
 */
static int
smtp_auth_fail(struct smtp *s, struct dlv_result *r)
{
	struct buf	 text;
	char		 dsn[SMTPIO_DSN_MAX];

	buf_init(&text, SMTPIO_REPLY_MAX + SMTP_WHY_MAX);
	(void)smtpio_reply_str(&s->reply, &text);
	smtpio_reply_dsn(&s->reply, dsn, sizeof(dsn));
	dsn[0] = '4';
	dlv_set(r, DLV_DEFER, dsn, "SASL authentication failed; server %s "
	    "said: %s", s->host, buf_str(&text));
	buf_free(&text);
	s->broken = 1;
	return SMTP_REFUSED;
}

/* smtp_auth - AUTH PLAIN, else AUTH LOGIN, when credentials are set */
static int
smtp_auth(struct smtp *s, struct dlv_result *r)
{
	const char	*user = s->opts.auth_user;
	const char	*pass = s->opts.auth_pass != NULL ?
			    s->opts.auth_pass : "";
	char		 resp[SMTP_AUTH_MAX];
	size_t		 ul, pl;
	int		 rc;

	if (user == NULL)
		return SMTP_OK;
	if (!(s->ext.flags & SMTPIO_EXT_AUTH))
		return SMTP_OK;	/* not offered: send without, as Postfix */
	if (s->tls == NULL && !s->opts.auth_plaintext) {
		dlv_set(r, DLV_DEFER, "4.7.0", "SASL authentication with "
		    "host %s refused: the connection is not encrypted",
		    s->host);
		s->broken = 1;
		return SMTP_REFUSED;
	}
	if (s->tls != NULL && s->opts.auth_tls_noplaintext) {
		dlv_set(r, DLV_DEFER, "4.7.0", "SASL authentication with "
		    "host %s refused: smtp_sasl_tls_security_options forbids "
		    "PLAIN and LOGIN", s->host);
		s->broken = 1;
		return SMTP_REFUSED;
	}
	if (!(s->ext.flags & (SMTPIO_EXT_AUTH_PLAIN | SMTPIO_EXT_AUTH_LOGIN))) {
		dlv_set(r, DLV_DEFER, "4.7.0", "SASL authentication failed: "
		    "host %s offers no mechanism we support", s->host);
		s->broken = 1;
		return SMTP_REFUSED;
	}
	ul = strlen(user);
	pl = strlen(pass);
	if (ul + pl + 2 > sizeof(resp) / 4 * 3 - 8) {
		dlv_set(r, DLV_DEFER, "4.7.0", "SASL authentication failed: "
		    "credentials too long");
		s->broken = 1;
		return SMTP_REFUSED;
	}
	smtpio_set_timeout(&s->io, smtp_timeout(&s->opts, SMTP_TO_HELO));
	if (s->ext.flags & SMTPIO_EXT_AUTH_PLAIN) {
		resp[0] = '\0';
		memcpy(resp + 1, user, ul);
		resp[ul + 1] = '\0';
		memcpy(resp + ul + 2, pass, pl);
		rc = smtp_send_b64(s, "AUTH PLAIN ", resp, ul + pl + 2);
		explicit_bzero(resp, sizeof(resp));
		if (rc != SMTPIO_OK)
			return smtp_io_fail(s, r, rc, SMTP_ST_AUTH);
		if ((rc = smtp_command(s, r, SMTP_ST_AUTH)) != 0)
			return rc;
	} else {
		if ((rc = smtpio_cmd(&s->io, "AUTH LOGIN")) != SMTPIO_OK)
			return smtp_io_fail(s, r, rc, SMTP_ST_AUTH);
		if ((rc = smtp_command(s, r, SMTP_ST_AUTH)) != 0)
			return rc;
		if (s->reply.code != SMTP_AUTH_MORE)
			return smtp_auth_fail(s, r);
		if ((rc = smtp_send_b64(s, "", user, ul)) != SMTPIO_OK)
			return smtp_io_fail(s, r, rc, SMTP_ST_AUTH);
		if ((rc = smtp_command(s, r, SMTP_ST_AUTH)) != 0)
			return rc;
		if (s->reply.code != SMTP_AUTH_MORE)
			return smtp_auth_fail(s, r);
		if ((rc = smtp_send_b64(s, "", pass, pl)) != SMTPIO_OK)
			return smtp_io_fail(s, r, rc, SMTP_ST_AUTH);
		if ((rc = smtp_command(s, r, SMTP_ST_AUTH)) != 0)
			return rc;
	}
	if (s->reply.code != SMTP_AUTH_OK)
		return smtp_auth_fail(s, r);
	return SMTP_OK;
}

/* smtp_open - greeting, EHLO/HELO, STARTTLS, AUTH (see smtp.h) */
int
smtp_open(int fd, const struct smtp_opts *opts, struct smtp **sp,
    struct dlv_result *r)
{
	struct smtp	*s;
	const char	*name;
	int		 rc;

	*sp = NULL;
	if ((s = calloc(1, sizeof(*s))) == NULL ||
	    (s->chunk = malloc(DLV_CHUNK)) == NULL) {
		free(s);
		(void)close(fd);
		dlv_set(r, DLV_DEFER, "4.3.0", "out of memory");
		return SMTP_BROKEN;
	}
	*sp = s;
	s->opts = *opts;
	name = opts->peername != NULL ? opts->peername : "localhost";
	if ((opts->peeraddr != NULL ? bsnprintf(s->host, sizeof(s->host),
	    "%s[%s]", name, opts->peeraddr) : str_copy(s->host,
	    sizeof(s->host), name)) != 0)
		(void)str_copy(s->host, sizeof(s->host), "(name too long)");
	buf_init(&s->tlsinfo, SMTP_WHY_MAX);
	smtpio_reply_init(&s->reply);
	smtpio_init(&s->io, fd, smtp_timeout(opts, SMTP_TO_HELO));
	s->sound = 1;
	dlv_set(r, DLV_OK, "2.0.0", "connected to %s", s->host);
	if (opts->tls_level != TLS_LEV_NONE && opts->tls_ctx == NULL) {
		dlv_set(r, DLV_DEFER, "4.7.5", "TLS is required, but no TLS "
		    "context was set up");
		s->broken = 1;
		s->sound = 0;
		return SMTP_REFUSED;
	}
	if (opts->wrapper && (rc = smtp_wrap(s, r)) != SMTP_OK)
		return rc;
	if ((rc = smtp_command(s, r, SMTP_ST_GREETING)) != 0)
		return rc;
	if (s->reply.code != SMTP_GREETING)
		return smtp_refuse(s, r, SMTP_ST_GREETING);
	if ((rc = smtp_hello(s, r)) != SMTP_OK ||
	    (rc = smtp_starttls(s, r)) != SMTP_OK ||
	    (rc = smtp_auth(s, r)) != SMTP_OK)
		return rc;
	return SMTP_OK;
}

/* smtp_rcpt_replies - read the replies to the RCPT TO commands sent */
static int
smtp_rcpt_replies(struct smtp *s, struct dlv_result *r, size_t upto)
{
	size_t	 j;
	int	 rc;

	for (j = 0; j < upto; j++) {
		if (s->accepted[j] != SMTP_RCPT_PENDING)
			continue;
		if ((rc = smtp_command(s, r, SMTP_ST_RCPT)) != 0)
			return rc;
		if (s->done[j]) {
			/* MAIL was refused: the reply does not count */
			s->accepted[j] = SMTP_RCPT_NONE;
		} else if (s->reply.code / 100 == 2) {
			s->accepted[j] = SMTP_RCPT_OK;
			s->naccepted++;
		} else {
			s->accepted[j] = SMTP_RCPT_NONE;
			smtp_reply_result(s, &s->rcpt[j].result,
			    SMTP_ST_RCPT);
			s->done[j] = 1;
		}
	}
	return SMTP_OK;
}

/* smtp_send_body - the content, encoded, and the final "." */
static int
smtp_send_body(struct smtp *s, struct dlv_result *r)
{
	off_t	 at;
	size_t	 n;
	int	 rc;

	smtpio_set_timeout(&s->io, smtp_timeout(&s->opts,
	    SMTP_TO_DATA_XFER));
	smtpio_body_init(&s->io.body);
	smtpio_body_set_limit(&s->io.body, s->opts.line_limit);
	for (at = 0; at < s->msg->len; at += (off_t)n) {
		n = DLV_CHUNK;
		if ((off_t)n > s->msg->len - at)
			n = (size_t)(s->msg->len - at);
		if (dlv_pread(s->msg, at, s->chunk, n) != 0) {
			s->sound = 0;
			return smtp_fail(s, r, "4.3.0", "cannot read queue "
			    "file: %s", strerror(errno));
		}
		if ((rc = smtpio_body_write(&s->io, s->chunk, n)) !=
		    SMTPIO_OK)
			return smtp_io_fail(s, r, rc, SMTP_ST_BODY);
	}
	if ((rc = smtpio_body_end(&s->io)) != SMTPIO_OK ||
	    (rc = smtpio_flush(&s->io)) != SMTPIO_OK)
		return smtp_io_fail(s, r, rc, SMTP_ST_BODY);
	return SMTP_OK;
}

/* smtp_send - one mail transaction (see smtp.h) */
/* smtp_header_8bit - whether the header section holds a byte >= 0x80 */
static int
smtp_header_8bit(struct smtp *s)
{
	off_t	 at;
	size_t	 n, i;
	int	 bol = 1;

	for (at = 0; at < s->msg->len && at < SMTP_HDR_SCAN_MAX;
	    at += (off_t)n) {
		n = DLV_CHUNK;
		if ((off_t)n > s->msg->len - at)
			n = (size_t)(s->msg->len - at);
		if (dlv_pread(s->msg, at, s->chunk, n) != 0)
			return 0;
		for (i = 0; i < n; i++) {
			if ((unsigned char)s->chunk[i] >= 0x80)
				return 1;
			if (s->chunk[i] == '\n') {
				if (bol)
					return 0;	/* the empty line */
				bol = 1;
			} else
				bol = 0;
		}
	}
	return 0;
}

int
smtp_send(struct smtp *s, const struct dlv_msg *msg, const char *ret,
    const char *envid, struct smtp_rcpt *rcpts, size_t n,
    struct dlv_result *r)
{
	struct buf	 params;
	const char	*sender;
	size_t		 i;
	int		 rc, eightbit, utf8, pipe, status = SMTP_OK;

	for (i = 0; i < n; i++)
		dlv_set(&rcpts[i].result, DLV_DEFER, "4.4.2", "not tried");
	dlv_set(r, DLV_OK, "2.0.0", "delivered via %s", s->host);
	if (n == 0)
		return SMTP_OK;
	s->msg = msg;
	s->rcpt = rcpts;
	s->n = 0;
	s->naccepted = 0;
	free(s->accepted);
	free(s->done);
	s->accepted = calloc(n, 1);
	s->done = calloc(n, 1);
	if (s->accepted == NULL || s->done == NULL) {
		dlv_set(r, DLV_DEFER, "4.3.0", "out of memory");
		for (i = 0; i < n; i++)
			rcpts[i].result = *r;
		return SMTP_OK;
	}
	s->n = n;
	if (s->broken)
		return smtp_fail(s, r, "4.4.2", "the session with %s is no "
		    "longer usable", s->host);
	buf_init(&params, 512);
	sender = msg->sender != NULL ? msg->sender : "";
	if (dlv_scan_8bit(s->msg, s->chunk, &eightbit) != 0) {
		dlv_set(r, DLV_DEFER, "4.3.0", "cannot read queue file: %s",
		    strerror(errno));
		for (i = 0; i < n; i++)
			smtp_finish(s, i, DLV_DEFER, "4.3.0", "%s", r->text);
		goto out;
	}
	utf8 = str_has_8bit(sender);
	for (i = 0; i < n; i++)
		if (str_has_8bit(rcpts[i].addr))
			utf8 = 1;
	/*
	 * UTF-8 in the header section asks for SMTPUTF8 too, when it is
	 * offered; without it the message goes as it is (as Postfix:
	 * only an address makes SMTPUTF8 a must).
	 */
	if (!utf8 && eightbit && (s->ext.flags & SMTPIO_EXT_SMTPUTF8) &&
	    smtp_header_8bit(s))
		utf8 = 1;

	/* Refusals before anything is sent. */
	if ((s->ext.flags & SMTPIO_EXT_SIZE) && s->ext.size > 0 &&
	    (long long)msg->len > s->ext.size) {
		for (i = 0; i < n; i++)
			smtp_finish(s, i, DLV_BOUNCE, "5.3.4", "message size "
			    "%lld exceeds size limit %lld of server %s",
			    (long long)msg->len, s->ext.size, s->host);
		goto out;
	}
	if (str_has_8bit(sender) && !(s->ext.flags & SMTPIO_EXT_SMTPUTF8)) {
		for (i = 0; i < n; i++)
			smtp_finish(s, i, DLV_BOUNCE, "5.6.7", "SMTPUTF8 is "
			    "required, but was not offered by host %s",
			    s->host);
		goto out;
	}
	if (str_has_ctl(sender, strlen(sender)) ||
	    (envid != NULL && (str_has_ctl(envid, strlen(envid)) ||
	    strchr(envid, ' ') != NULL)) ||
	    (ret != NULL && strcasecmp(ret, "FULL") != 0 &&
	    strcasecmp(ret, "HDRS") != 0)) {
		for (i = 0; i < n; i++)
			smtp_finish(s, i, DLV_BOUNCE, "5.1.7", "bad sender "
			    "address or envelope parameter syntax");
		goto out;
	}
	if (((s->ext.flags & SMTPIO_EXT_SIZE) &&
	    buf_printf(&params, " SIZE=%lld", (long long)msg->len) !=
	    BUF_OK) ||
	    (eightbit && (s->ext.flags & SMTPIO_EXT_8BITMIME) &&
	    buf_adds(&params, " BODY=8BITMIME") != BUF_OK) ||
	    (utf8 && (s->ext.flags & SMTPIO_EXT_SMTPUTF8) &&
	    buf_adds(&params, " SMTPUTF8") != BUF_OK) ||
	    (ret != NULL && (s->ext.flags & SMTPIO_EXT_DSN) &&
	    buf_printf(&params, " RET=%s", ret) != BUF_OK) ||
	    (envid != NULL && (s->ext.flags & SMTPIO_EXT_DSN) &&
	    buf_printf(&params, " ENVID=%s", envid) != BUF_OK)) {
		for (i = 0; i < n; i++)
			smtp_finish(s, i, DLV_DEFER, "4.3.0", "out of memory");
		goto out;
	}

	/* MAIL FROM, and RCPT TO pipelined with it when allowed. */
	pipe = (s->ext.flags & SMTPIO_EXT_PIPELINING) != 0;
	smtpio_set_timeout(&s->io, smtp_timeout(&s->opts, SMTP_TO_MAIL));
	if ((rc = smtpio_cmd(&s->io, "MAIL FROM:<%s>%s", sender,
	    buf_str(&params))) != SMTPIO_OK) {
		if (rc == SMTPIO_TOOLONG) {
			for (i = 0; i < n; i++)
				smtp_finish(s, i, DLV_BOUNCE, "5.1.7",
				    "sender address too long");
			goto out;
		}
		status = smtp_io_fail(s, r, rc, SMTP_ST_MAIL);
		goto out;
	}
	if (!pipe) {
		if ((status = smtp_command(s, r, SMTP_ST_MAIL)) != 0)
			goto out;
		if (s->reply.code / 100 != 2) {
			smtp_reply_all(s, SMTP_ST_MAIL, 0);
			goto out;
		}
	}
	smtpio_set_timeout(&s->io, smtp_timeout(&s->opts, SMTP_TO_RCPT));
	for (i = 0; i < n; i++) {
		if (s->done[i])
			continue;
		if (str_has_8bit(rcpts[i].addr) &&
		    !(s->ext.flags & SMTPIO_EXT_SMTPUTF8)) {
			smtp_finish(s, i, DLV_BOUNCE, "5.6.7", "SMTPUTF8 is "
			    "required, but was not offered by host %s",
			    s->host);
			continue;
		}
		buf_reset(&params);
		if ((s->ext.flags & SMTPIO_EXT_DSN) &&
		    ((rcpts[i].notify != NULL && buf_printf(&params,
		    " NOTIFY=%s", rcpts[i].notify) != BUF_OK) ||
		    (rcpts[i].orcpt != NULL && buf_printf(&params,
		    " ORCPT=%s", rcpts[i].orcpt) != BUF_OK))) {
			smtp_finish(s, i, DLV_BOUNCE, "5.1.3", "recipient "
			    "DSN parameters too long");
			continue;
		}
		rc = smtpio_cmd(&s->io, "RCPT TO:<%s>%s", rcpts[i].addr,
		    buf_str(&params));
		if (rc == SMTPIO_SYNTAX || rc == SMTPIO_TOOLONG) {
			smtp_finish(s, i, DLV_BOUNCE, "5.1.3", "bad recipient "
			    "address syntax");
			continue;
		}
		if (rc != SMTPIO_OK) {
			status = smtp_io_fail(s, r, rc, SMTP_ST_RCPT);
			goto out;
		}
		s->accepted[i] = SMTP_RCPT_PENDING;
		if (!pipe && (status = smtp_rcpt_replies(s, r, i + 1)) != 0)
			goto out;
	}
	if (pipe) {
		smtpio_set_timeout(&s->io, smtp_timeout(&s->opts,
		    SMTP_TO_MAIL));
		if ((status = smtp_command(s, r, SMTP_ST_MAIL)) != 0)
			goto out;
		if (s->reply.code / 100 != 2)
			smtp_reply_all(s, SMTP_ST_MAIL, 0);
		smtpio_set_timeout(&s->io, smtp_timeout(&s->opts,
		    SMTP_TO_RCPT));
	}
	if ((status = smtp_rcpt_replies(s, r, n)) != 0)
		goto out;
	if (s->naccepted == 0)
		goto out;

	/* DATA, the content, the one final reply. */
	smtpio_set_timeout(&s->io, smtp_timeout(&s->opts,
	    SMTP_TO_DATA_INIT));
	if ((rc = smtpio_cmd(&s->io, "DATA")) != SMTPIO_OK) {
		status = smtp_io_fail(s, r, rc, SMTP_ST_DATA);
		goto out;
	}
	if ((status = smtp_command(s, r, SMTP_ST_DATA)) != 0)
		goto out;
	if (s->reply.code != SMTP_DATA_GO) {
		smtp_reply_all(s, SMTP_ST_DATA, 1);
		goto out;
	}
	if ((status = smtp_send_body(s, r)) != 0)
		goto out;
	smtpio_set_timeout(&s->io, smtp_timeout(&s->opts,
	    SMTP_TO_DATA_DONE));
	if ((status = smtp_command(s, r, SMTP_ST_DONE)) != 0)
		goto out;
	smtp_reply_all(s, SMTP_ST_DONE, 1);
out:
	buf_free(&params);
	return status;
}

/* smtp_next - RSET, ready for the next smtp_send() */
int
smtp_next(struct smtp *s, struct dlv_result *r)
{
	int	 rc;

	s->n = 0;
	if (s->broken) {
		dlv_set(r, DLV_DEFER, "4.4.2", "the session with %s is no "
		    "longer usable", s->host);
		return SMTP_BROKEN;
	}
	smtpio_set_timeout(&s->io, smtp_timeout(&s->opts, SMTP_TO_RSET));
	if ((rc = smtpio_cmd(&s->io, "RSET")) != SMTPIO_OK)
		return smtp_io_fail(s, r, rc, SMTP_ST_RSET);
	if ((rc = smtp_command(s, r, SMTP_ST_RSET)) != 0)
		return rc;
	if (s->reply.code / 100 != 2) {
		smtp_reply_result(s, r, SMTP_ST_RSET);
		s->broken = 1;
		return SMTP_BROKEN;
	}
	dlv_set(r, DLV_OK, "2.0.0", "reset");
	return SMTP_OK;
}

/* smtp_tls_info - the "... TLS connection established ..." text, or "" */
const char *
smtp_tls_info(const struct smtp *s)
{
	return s != NULL ? buf_str(&s->tlsinfo) : "";
}

/* smtp_close - QUIT when the session is sound, close, release */
struct smtp *
smtp_close(struct smtp *s)
{
	if (s == NULL)
		return NULL;
	if (s->sound) {
		smtpio_set_timeout(&s->io, smtp_timeout(&s->opts,
		    SMTP_TO_QUIT));
		if (smtpio_cmd(&s->io, "QUIT") == SMTPIO_OK)
			(void)smtpio_reply(&s->io, &s->reply);
	}
	s->tls = tls_free(s->tls);
	(void)smtpio_close(&s->io);
	smtpio_reply_free(&s->reply);
	buf_free(&s->tlsinfo);
	free(s->accepted);
	free(s->done);
	free(s->chunk);
	free(s);
	return NULL;
}
