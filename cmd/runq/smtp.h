/*
 * smtp - runq's SMTP client: one session on a connected descriptor,
 * any number of messages over it
 *
 * Connecting, MX lookups and choosing among addresses are the caller's:
 * smtp_open() takes a connected descriptor, which becomes the
 * session's: *sp is set whatever the outcome, and smtp_close() sends
 * QUIT when that still makes sense and closes the descriptor (only when
 * out of memory is *sp NULL, and the descriptor already closed).
 *
 * The session.  smtp_open() reads the greeting (220, else "host HOST
 * refused to talk to me: REPLY"), sends EHLO helo_name (HELO when EHLO
 * gets a 5xx), STARTTLS per tls_level, EHLO again after TLS, and AUTH
 * when auth_user is set.  TLS: at none STARTTLS is never sent; at may
 * it is sent when offered, and a failed handshake returns
 * SMTP_RETRY_PLAIN (the descriptor is dead: the caller reconnects and
 * calls smtp_open() again with tls_level none); at encrypt, verify and
 * secure a server without STARTTLS or a failed handshake defers 4.7.4
 * / 4.7.5.  AUTH: PLAIN when offered, else LOGIN; never in plaintext
 * unless auth_plaintext.  Every AUTH failure defers (4.7.0, or the
 * reply's code with its class made 4, as Postfix's
 * smtp_sasl_auth_soft_bounce): a plaintext connection, no PLAIN or
 * LOGIN offered, credentials refused ("SASL authentication failed;
 * server HOST said: 535 5.7.8 ...").
 *
 * smtp_send() runs one mail transaction: MAIL FROM with SIZE=len when
 * SIZE is offered (refused here with 5.3.4 when the server announced
 * a smaller limit, before anything is sent), BODY=8BITMIME when the
 * content has 8-bit bytes and 8BITMIME is offered (8-bit content to a
 * server without it goes as it is, as Postfix), SMTPUTF8 when an
 * address needs it and it is offered (when not: a sender that needs it
 * bounces everyone 5.6.7, a recipient only itself), RET=/ENVID= and
 * NOTIFY=/ORCPT= when DSN is offered; RCPT TO for each recipient,
 * pipelined with MAIL when PIPELINING is offered; DATA when any was
 * accepted; the content with CRLF and dot-stuffing; the final reply.
 * Each recipient gets one result: 2xx DLV_OK, 4xx DLV_DEFER, 5xx
 * DLV_BOUNCE with the reply's enhanced code (else X.0.0) and Postfix's
 * texts ("host mx.example.org[192.0.2.1] said: 550 5.1.1 <x@y>: User
 * unknown (in reply to RCPT TO command)"; success is "250 2.0.0 Ok:
 * queued as X").  A non-2xx reply to MAIL, DATA or the end of data
 * applies to every recipient still open.
 *
 * Failures.  A timeout, a lost connection, a malformed reply or a 421
 * ends the session: every recipient without a result is deferred
 * ("conversation with HOST timed out while sending message body",
 * "lost connection with HOST while receiving the initial server
 * greeting"; 4.4.2, or the 421's own 4.X.Y), r gets the same result,
 * and the function returns SMTP_BROKEN.  After SMTP_BROKEN only
 * smtp_close() is allowed.  SMTP_OK means the transaction ran to its
 * end (the recipients' results say how it went) and the session may
 * carry another message after smtp_next() (RSET).  SMTP_OK from
 * smtp_open() means ready for smtp_send(); SMTP_REFUSED means the
 * server refused the session with a reply (r says how: 4xx DLV_DEFER,
 * 5xx DLV_BOUNCE) and smtp_close() sends QUIT.
 *
 * Long lines.  opts.line_limit is Postfix's smtp_line_length_limit
 * (the caller passes conf_int("smtp_line_length_limit"), 999 by
 * default): a line of the content longer than that many octets, not
 * counting its CRLF, is broken by inserting CRLF SPACE before the octet
 * that would pass the limit, again and again (the SPACE counts towards
 * the continuation line), as Postfix's smtp(8) does; a line of exactly
 * line_limit octets goes whole, and 0 (or less) means no limit.  A '.'
 * doubled for transparency does not count, and a continuation,
 * starting with the SPACE, is never dot-stuffed and never a lone ".".
 * The exact rules are smtpio(3)'s (smtpio.h, "Long lines").  SIZE= is
 * the content's length before any breaking, as with Postfix.
 *
 * Timeouts.  opts.timeouts[SMTP_TO_*] in seconds, 0 meaning Postfix's
 * smtp_*_timeout default (connect 30, helo 300, starttls 300, mail 300,
 * rcpt 300, data_init 120, data_xfer 180, data_done 600, quit 300,
 * rset 20).  The connect timeout is the caller's; it is here only to
 * keep the table in one place (smtp_timeout()).
 *
 * Memory.  struct smtp is allocated by smtp_open() and released by
 * smtp_close() (NULL is fine).  The content is read in DLV_CHUNK
 * pieces, twice (8-bit scan, then sending), never whole.  Every string
 * in the options must outlive the session.  AUTH data is never logged
 * or put in results.  Nothing here is fatal; out of memory defers
 * (4.3.0).  Callers ignore SIGPIPE (TLS writes with write(2)).
 */
#ifndef CMD_RUNQ_SMTP_H
#define CMD_RUNQ_SMTP_H

#include <stddef.h>

#include "cmd/runq/deliver.h"

enum smtp_timeout {
	SMTP_TO_CONNECT = 0,
	SMTP_TO_HELO,
	SMTP_TO_STARTTLS,
	SMTP_TO_MAIL,
	SMTP_TO_RCPT,
	SMTP_TO_DATA_INIT,
	SMTP_TO_DATA_XFER,
	SMTP_TO_DATA_DONE,
	SMTP_TO_QUIT,
	SMTP_TO_RSET,
	SMTP_TO_MAX,
};

enum smtp_status {
	SMTP_OK = 0,		/* done; results say how it went */
	SMTP_BROKEN = -1,	/* the session broke down (all deferred) */
	SMTP_REFUSED = -2,	/* smtp_open: the server refused (r says) */
	SMTP_RETRY_PLAIN = -3,	/* smtp_open, may: reconnect without TLS */
};

struct tls_ctx;
struct smtp;

struct smtp_opts {
	const char	*helo_name;	/* myhostname; NULL: "localhost" */
	const char	*peername;	/* "mx.example.org", SNI, name check */
	const char	*peeraddr;	/* "192.0.2.1" for texts, or NULL */
	int		 tls_level;	/* enum tls_level */
	struct tls_ctx	*tls_ctx;	/* needed unless tls_level is none */
	const char *const *tls_match;	/* names to match, or NULL */
	const char	*auth_user;	/* NULL: no AUTH */
	const char	*auth_pass;
	int		 auth_plaintext; /* allow AUTH without TLS */
	int		 auth_tls_noplaintext; /* no PLAIN/LOGIN over TLS either */
	int		 wrapper;	/* TLS from the first byte (port 465) */
	int		 timeouts[SMTP_TO_MAX];	/* seconds; 0: default */
	int		 line_limit;	/* smtp_line_length_limit; 0: none */
};

struct smtp_rcpt {
	const char		*addr;
	const char		*orcpt;		/* "rfc822;a@b", or NULL */
	const char		*notify;	/* "SUCCESS,FAILURE", or NULL */
	struct dlv_result	 result;
};

int	 smtp_timeout(const struct smtp_opts *, enum smtp_timeout);
int	 smtp_open(int fd, const struct smtp_opts *, struct smtp **,
	    struct dlv_result *);
int	 smtp_send(struct smtp *, const struct dlv_msg *, const char *ret,
	    const char *envid, struct smtp_rcpt *, size_t n,
	    struct dlv_result *);
int	 smtp_next(struct smtp *, struct dlv_result *);
const char *smtp_tls_info(const struct smtp *);
struct smtp *smtp_close(struct smtp *);

#endif
