/*
 * tls - TLS for SMTP (STARTTLS and wrapper mode): the client side with
 * Postfix's smtp_tls_security_level semantics, and the server side for
 * smtpd-lite
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
 * Server contexts.  tls_server_ctx_new() makes a server context from
 * smtpd_tls_cert_file (PEM: the server's certificate first, then any
 * intermediate certificates of its chain) and smtpd_tls_key_file (PEM;
 * NULL or "" means the key is in the certificate file, Postfix's
 * default).  A key with a passphrase is refused, never prompted for,
 * and the key must belong to the certificate.  TLS 1.2 or newer,
 * OpenSSL's default ciphers in the server's order of preference
 * (DHE with built-in groups sized to the key), no compression, no
 * renegotiation.  No session resumption: smtpd-lite serves one
 * connection per process, so a session cache would die with the
 * process and a ticket key would be this process's alone; there is no
 * cache and no ticket is ever sent.  No client certificate is asked
 * for, so server sessions are Anonymous.  A key readable by root only
 * must be loaded before privileges are dropped.  On failure it
 * returns NULL with a reason in why that names the file: "cannot load
 * certificate /etc/ssl/x.pem: No such file or directory", "cannot load
 * key /etc/ssl/x.pem: no PEM private key in the file", "cannot load
 * key /etc/ssl/x.key: it has a passphrase (not supported)", "cannot
 * load certificate /etc/ssl/x.pem: error:..." (OpenSSL's reasons),
 * "key /etc/ssl/x.key does not match certificate /etc/ssl/x.pem".  A
 * server context is refused by tls_client_start() and a client
 * context by tls_server_start() (TLS_CONFIG).
 * smtpd_tls_security_level is the caller's: tls_level_parse() reads
 * it, and none (no STARTTLS), may (STARTTLS offered) and encrypt
 * (required before MAIL) are smtpd-lite's to enforce.
 *
 * Server sessions.  tls_server_start() runs the server handshake on
 * rfd (read) and wfd (write): the same descriptor (inetd, systemd
 * Accept=yes: fd 0 and fd 1 are one socket) or two (pipes, a
 * wrapper).  Both are made non-blocking and stay the caller's.  The
 * whole handshake is bounded by timeout seconds (0: no limit).  It
 * returns TLS_OK with *tlsp as for a client, or TLS_TIMEOUT (the
 * client said nothing, or too little), TLS_EOF (the client went
 * away), TLS_ERROR (errno), TLS_NOMEM, TLS_CONFIG (bad arguments), or
 * TLS_PROTO with OpenSSL's reason ("TLS handshake failed: error:...:
 * wrong version number" for plaintext instead of a ClientHello,
 * "...: unsupported protocol" for TLS 1.1 or older).  The caller
 * prefixes the client's name.  With STARTTLS the caller sends and
 * flushes "220 2.0.0 Ready to start TLS", throws away any plaintext it
 * has read and buffered, calls tls_server_start(), and after success
 * forgets HELO, the transaction and AUTH (CVE-2011-0411, RFC 3207
 * 4.2).  Bytes the client pipelined after STARTTLS that the caller
 * never read go to the TLS parser, never to the SMTP one, and fail
 * the handshake.  In wrapper mode (smtpd_tls_wrappermode, port 465)
 * tls_server_start() comes before the greeting; after a failure
 * there is nothing to fall back to.  Everything below works on server
 * sessions as on client ones; tls_trust() is TLS_TRUST_ANONYMOUS and
 * tls_peer_cn() empty.
 *
 * I/O.  tls_read() and tls_write() behave like read(2) and send(2) on
 * a non-blocking socket: a byte count, 0 at the peer's close_notify
 * (or EOF), or -1 with errno; errno EAGAIN means "poll, then retry",
 * and tls_want() says for which events (POLLIN or POLLOUT: TLS may
 * need to write in order to read and vice versa), tls_want_fd() on
 * which descriptor (the read one for POLLIN, the write one for
 * POLLOUT; a client session's one descriptor).  tls_pending() says
 * how many decrypted bytes wait inside TLS, to be read without poll.
 * After close_notify (or an EOF without one, which SMTP's own QUIT
 * and "." make harmless) or any TLS error the session is dead:
 * tls_read() returns 0 (EOF) or -1 (EIO, or the system call's errno),
 * and tls_write() -1 with EPIPE or EIO, for ever; nothing is ever
 * read from the descriptor in plaintext again, so no caller falls back
 * silently.  This holds for server sessions too: after STARTTLS or in
 * wrapper mode the caller reads only through tls_read().
 *
 * With smtpio(3).  tls_smtpio_ops is the transport for
 * smtpio_set_ops(): after "220 Ready to start TLS", start TLS on
 * io->fd, then smtpio_set_ops(&io, &tls_smtpio_ops, tls) (which is
 * refused when the server pipelined plaintext after its 220); at the
 * end tls_free() the session, then smtpio_close().  TLS writes with
 * write(2), not send(2) with MSG_NOSIGNAL: callers (smtpd-lite too)
 * ignore SIGPIPE.
 *
 * Logging.  tls_info() appends "TLSv1.3 with cipher NAME (256/256
 * bits)", what a Received header puts inside "(using ...)";
 * tls_version_name() ("TLSv1.3") and tls_cipher_name()
 * ("TLS_AES_256_GCM_SHA384") are its parts, static strings valid while
 * the session is.  tls_established() appends the whole Postfix line,
 * "Verified TLS connection established to PEER: ..." with Verified
 * (trusted chain, name matched), Trusted (trusted chain), Untrusted (a
 * certificate, chain not trusted) or Anonymous (no certificate); for
 * a server session "Anonymous TLS connection established from PEER:
 * ...", as Postfix's smtpd logs it.  tls_peer_cn()
 * appends the peer certificate's subject CN made safe for logs, or ""
 * when there is none.  Appends report BUF_* codes.
 *
 * Errors.  Nothing here is fatal.  Failures return an enum
 * tls_status with a human-readable reason in why ("TLS handshake with
 * mx.example failed: error:...:tlsv1 alert protocol version", "server
 * certificate not trusted: self-signed certificate", "TLS handshake:
 * timed out", ...).  A peer that goes away in the middle of a
 * handshake is TLS_EOF ("...: lost connection") on either side.
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
	TLS_CONFIG = -8,	/* bad CA, certificate or key files, or
				   arguments */
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
struct tls_ctx *tls_server_ctx_new(const char *certfile,
	    const char *keyfile, struct buf *why);
struct tls_ctx *tls_ctx_free(struct tls_ctx *);

int	 tls_level_parse(const char *, enum tls_level *);
const char *tls_level_name(enum tls_level);

int	 tls_client_start(struct tls_ctx *, int fd, int timeout,
	    enum tls_level, const char *peername,
	    const char *const *match, struct tls **tlsp, struct buf *why);
int	 tls_server_start(struct tls_ctx *, int rfd, int wfd, int timeout,
	    struct tls **tlsp, struct buf *why);
struct tls *tls_free(struct tls *);

enum tls_trust tls_trust(const struct tls *);
int	 tls_trusted(const struct tls *);
int	 tls_matched(const struct tls *);

ssize_t	 tls_read(struct tls *, void *, size_t);
ssize_t	 tls_write(struct tls *, const void *, size_t);
short	 tls_want(const struct tls *);
int	 tls_want_fd(const struct tls *);
size_t	 tls_pending(const struct tls *);

int	 tls_info(const struct tls *, struct buf *);
int	 tls_established(const struct tls *, const char *peer, struct buf *);
int	 tls_peer_cn(const struct tls *, struct buf *);
const char *tls_version_name(const struct tls *);
const char *tls_cipher_name(const struct tls *);

const char *tls_strerror(int status);

/*
 * The server side as a module.  smtpd-lite runs once per connection,
 * and most sessions on port 25 never start TLS: loading OpenSSL at
 * every start would cost more time and memory than the rest of the
 * session (bench/smtpd).  So smtpd-lite is linked without OpenSSL and
 * loads smtpd-tls.so, which holds this file's code, when TLS is first
 * needed; the module hands over its entry points as one table, named
 * TLS_SERVER_API_SYMBOL, whose version and size the loader checks.
 */
#define TLS_SERVER_API_VERSION	1
#define TLS_SERVER_API_SYMBOL	"correo_tls_server_api"

struct tls_server_api {
	unsigned	  version;	/* TLS_SERVER_API_VERSION */
	size_t		  size;		/* sizeof(struct tls_server_api) */
	struct tls_ctx	*(*ctx_new)(const char *, const char *,
			    struct buf *);
	struct tls_ctx	*(*ctx_free)(struct tls_ctx *);
	int		 (*start)(struct tls_ctx *, int, int, int,
			    struct tls **, struct buf *);
	struct tls	*(*free)(struct tls *);
	ssize_t		 (*read)(struct tls *, void *, size_t);
	ssize_t		 (*write)(struct tls *, const void *, size_t);
	short		 (*want)(const struct tls *);
	size_t		 (*pending)(const struct tls *);
	int		 (*info)(const struct tls *, struct buf *);
};

#endif
