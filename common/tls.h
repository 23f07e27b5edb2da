/*
 * tls - the client side of TLS for SMTP (STARTTLS) with Postfix's
 * smtp_tls_security_level semantics
 *
 * Contexts.  tls_client_ctx_new() makes a client context: TLS 1.2 or
 * newer only, trusting the system CA store, or smtp_tls_CAfile and/or
 * smtp_tls_CApath when either is given (then only those).  A context
 * holds no per-session state; one serves many sessions.  It belongs to
 * the caller, who releases it with tls_ctx_free() (NULL is fine) after
 * its sessions.  Nothing here keeps global state beyond OpenSSL's own
 * initialisation.
 *
 * Security levels.  enum tls_level is Postfix's none, may, encrypt,
 * verify and secure; tls_level_parse() and tls_level_name() convert.
 * Which level applies, and whether "may" falls back to plaintext after
 * a failed handshake (on a new connection), is the caller's business.
 *
 * Sessions.  tls_client_start() runs the handshake on a connected
 * descriptor (made non-blocking; the caller still owns it and closes
 * it after tls_free()), the whole handshake bounded by timeout
 * seconds (0: no limit).  SNI is the peer name unless that is an
 * address literal.  After the handshake it records whether the chain
 * is trusted and whether the certificate matches
 * one of the match names (RFC 6125 via X509_check_host: a wildcard
 * only as the whole leftmost label, never partial; a match name
 * starting with "." matches any subdomain, as Postfix's
 * "dot-nexthop"); with no match names, the peer name is matched.  At
 * verify and secure an untrusted chain or a mismatched name fails the
 * start (TLS_UNTRUSTED, TLS_NOMATCH; the connection is shut down);
 * at may and encrypt the session goes on.  On success *tlsp is a new
 * struct tls owned by the caller: tls_free() (NULL is fine) sends
 * close_notify when the session is still sound and releases it.
 *
 * I/O.  tls_read() and tls_write() behave like read(2) and send(2) on
 * a non-blocking socket: a byte count, 0 at the peer's close_notify
 * (or EOF), or -1 with errno; errno EAGAIN means "poll, then retry",
 * and tls_want() says for which events (POLLIN or POLLOUT: TLS may
 * need to write in order to read and vice versa).  tls_pending() says
 * how many decrypted bytes wait inside TLS, to be read without poll.
 * After close_notify or any TLS error the session is dead: tls_read()
 * returns 0 (EOF) or -1 (EIO), and tls_write() -1 with EPIPE or EIO,
 * for ever; nothing is ever read from the descriptor in plaintext
 * again, so no caller falls back silently.
 *
 * With smtpio(3).  tls_smtpio_ops is the transport for
 * smtpio_set_ops(): after "220 Ready to start TLS", start TLS on
 * io->fd, then smtpio_set_ops(&io, &tls_smtpio_ops, tls) (which is
 * refused when the server pipelined plaintext after its 220); at the
 * end tls_free() the session, then smtpio_close().  TLS writes with
 * write(2), not send(2) with MSG_NOSIGNAL: callers ignore SIGPIPE.
 *
 * Logging.  tls_info() appends "TLSv1.3 with cipher NAME (256/256
 * bits)"; tls_established() the whole Postfix line, "Verified TLS
 * connection established to PEER: ..." with Verified (trusted chain,
 * name matched), Trusted (trusted chain), Untrusted (a certificate,
 * chain not trusted) or Anonymous (no certificate).  tls_peer_cn()
 * appends the peer certificate's subject CN made safe for logs, or ""
 * when there is none.  Appends report BUF_* codes.
 *
 * Errors.  Nothing here is fatal.  Failures return an enum
 * tls_status with a human-readable reason in why ("TLS handshake with
 * mx.example failed: error:...:tlsv1 alert protocol version", "server
 * certificate not trusted: self-signed certificate", ...).
 */
#ifndef COMMON_TLS_H
#define COMMON_TLS_H

#include <stddef.h>
#include <sys/types.h>

#include "common/buf.h"

#define TLS_NAME_MAX	255	/* a peer or match name, NUL excluded */

enum tls_level {
	TLS_LEV_NONE = 0,	/* no TLS */
	TLS_LEV_MAY,		/* opportunistic: anything goes */
	TLS_LEV_ENCRYPT,	/* TLS required, certificate unchecked */
	TLS_LEV_VERIFY,		/* trusted chain, matching name */
	TLS_LEV_SECURE,		/* as verify (no DNS-based trust here) */
};

enum tls_status {
	TLS_OK = 0,
	TLS_TIMEOUT = -1,	/* the peer was too slow */
	TLS_EOF = -2,		/* the peer closed during the handshake */
	TLS_ERROR = -3,		/* a system call failed; see errno */
	TLS_PROTO = -4,		/* the handshake failed (alert, ...) */
	TLS_UNTRUSTED = -5,	/* verify/secure: chain not trusted */
	TLS_NOMATCH = -6,	/* verify/secure: name does not match */
	TLS_NOMEM = -7,		/* OpenSSL or buf out of memory */
	TLS_CONFIG = -8,	/* bad CA file/path or arguments */
};

enum tls_trust {
	TLS_TRUST_ANONYMOUS = 0,	/* no certificate */
	TLS_TRUST_UNTRUSTED,		/* chain not trusted */
	TLS_TRUST_TRUSTED,		/* chain trusted, name not matched */
	TLS_TRUST_VERIFIED,		/* chain trusted and name matched */
};

struct smtpio_ops;
struct tls_ctx;
struct tls;

extern const struct smtpio_ops tls_smtpio_ops;

struct tls_ctx *tls_client_ctx_new(const char *cafile, const char *capath,
	    struct buf *why);
struct tls_ctx *tls_ctx_free(struct tls_ctx *);

int	 tls_level_parse(const char *, enum tls_level *);
const char *tls_level_name(enum tls_level);

int	 tls_client_start(struct tls_ctx *, int fd, int timeout,
	    enum tls_level, const char *peername,
	    const char *const *match, struct tls **tlsp, struct buf *why);
struct tls *tls_free(struct tls *);

enum tls_trust tls_trust(const struct tls *);
int	 tls_trusted(const struct tls *);
int	 tls_matched(const struct tls *);

ssize_t	 tls_read(struct tls *, void *, size_t);
ssize_t	 tls_write(struct tls *, const void *, size_t);
short	 tls_want(const struct tls *);
size_t	 tls_pending(const struct tls *);

int	 tls_info(const struct tls *, struct buf *);
int	 tls_established(const struct tls *, const char *peer, struct buf *);
int	 tls_peer_cn(const struct tls *, struct buf *);

const char *tls_strerror(int status);

#endif
