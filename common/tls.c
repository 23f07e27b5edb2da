/*
 * tls.c - TLS for SMTP: the client side with Postfix's security levels,
 * the server side for smtpd-lite
 */
#include <sys/types.h>
#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "common/buf.h"
#include "common/log.h"
#include "common/smtpio.h"
#include "common/tls.h"
#include "common/util.h"

#define TLS_MS		1000	/* milliseconds a second */
#define TLS_ERRSZ	256	/* one OpenSSL error string */
#define TLS_WHO_MAX	(LOG_SAFE_MAX + 32)	/* "TLS handshake with NAME" */

enum tls_state {
	TLS_ST_OPEN = 0,	/* the session is sound */
	TLS_ST_CLOSED,		/* close_notify or EOF: reads are EOF */
	TLS_ST_DEAD,		/* a TLS error: everything fails */
};

struct tls_ctx {
	SSL_CTX		*ctx;
	int		 server;	/* from tls_server_ctx_new() */
};

struct tls {
	SSL		*ssl;
	X509		*cert;		/* the peer's, or NULL */
	enum tls_state	 state;
	enum tls_trust	 trust;
	int		 server;	/* a server session */
	int		 rfd;		/* read from, poll for POLLIN */
	int		 wfd;		/* written to, poll for POLLOUT */
	int		 trusted;	/* the chain verified */
	int		 matched;	/* a match name matched */
	short		 want;		/* after EAGAIN: POLLIN, POLLOUT */
};

static const char *const tls_levels[] = {
	[TLS_LEV_NONE] = "none",
	[TLS_LEV_MAY] = "may",
	[TLS_LEV_ENCRYPT] = "encrypt",
	[TLS_LEV_VERIFY] = "verify",
	[TLS_LEV_SECURE] = "secure",
};

static const char *const tls_trust_names[] = {
	[TLS_TRUST_ANONYMOUS] = "Anonymous",
	[TLS_TRUST_UNTRUSTED] = "Untrusted",
	[TLS_TRUST_TRUSTED] = "Trusted",
	[TLS_TRUST_VERIFIED] = "Verified",
};

static long long tls_now(void);
static int	 tls_wait(int, short, long long);
static int	 tls_fail(struct buf *, int, const char *, ...)
		    __attribute__((format(printf, 3, 4)));
static void	 tls_ossl_why(struct buf *);
static int	 tls_pem_has(const char *, const char *);
static int	 tls_file_fail(struct buf *, const char *, const char *, int);
static int	 tls_no_passphrase(char *, int, int, void *);
static int	 tls_nonblock(int);
static int	 tls_session(struct tls_ctx *, int, int, int, const char *,
		    struct tls **, struct buf *);
static int	 tls_eof_error(void);
static int	 tls_handshake(struct tls *, int, const char *, struct buf *);
static int	 tls_is_addr(const char *);
static int	 tls_match(X509 *, const char *);
static void	 tls_verify(struct tls *, const char *, const char *const *);
static void	 tls_shut(struct tls *);
static ssize_t	 tls_io_error(struct tls *, int, int);
static void	 tls_cn(const struct tls *, char *, size_t);
static ssize_t	 tls_op_read(void *, void *, size_t);
static ssize_t	 tls_op_write(void *, const void *, size_t);
static short	 tls_op_want(void *);

const struct smtpio_ops tls_smtpio_ops = {
	.read = tls_op_read,
	.write = tls_op_write,
	.want = tls_op_want,
};

/* tls_now - the monotonic clock in milliseconds */
static long long
tls_now(void)
{
	return now_ms();
}

/* tls_wait - wait until fd is ready for events or the deadline */
static int
tls_wait(int fd, short events, long long deadline)
{
	switch (poll_until(fd, events, deadline)) {
	case 1:
		return TLS_OK;
	case 0:
		return TLS_TIMEOUT;
	default:
		return TLS_ERROR;
	}
}

/* tls_fail - set why (when given) and return status, errno preserved */
static int
tls_fail(struct buf *why, int status, const char *fmt, ...)
{
	va_list	 ap;
	int	 save = errno;

	if (why != NULL) {
		buf_reset(why);
		va_start(ap, fmt);
		(void)buf_vprintf(why, fmt, ap);
		va_end(ap);
	}
	errno = save;
	return status;
}

/* tls_ossl_why - append OpenSSL's queued errors to why, emptying the queue */
static void
tls_ossl_why(struct buf *why)
{
	char		 s[TLS_ERRSZ];
	unsigned long	 e;
	int		 first = 1;

	while ((e = ERR_get_error()) != 0) {
		if (why == NULL)
			continue;
		ERR_error_string_n(e, s, sizeof(s));
		(void)buf_adds(why, first ? ": " : "; ");
		(void)buf_adds(why, s);
		first = 0;
	}
}

/* tls_client_ctx_new - a client context: TLS >= 1.2, the given or system CAs */
struct tls_ctx *
tls_client_ctx_new(const char *cafile, const char *capath, struct buf *why)
{
	struct tls_ctx	*tc;
	int		 ok;

	if (cafile != NULL && *cafile == '\0')
		cafile = NULL;
	if (capath != NULL && *capath == '\0')
		capath = NULL;
	if ((tc = calloc(1, sizeof(*tc))) == NULL) {
		tls_fail(why, TLS_NOMEM, "TLS context: out of memory");
		return NULL;
	}
	ERR_clear_error();
	if ((tc->ctx = SSL_CTX_new(TLS_client_method())) == NULL) {
		tls_fail(why, TLS_NOMEM, "TLS context");
		goto fail;
	}
	if (SSL_CTX_set_min_proto_version(tc->ctx, TLS1_2_VERSION) != 1) {
		tls_fail(why, TLS_CONFIG, "TLS context: minimum version");
		goto fail;
	}
	SSL_CTX_set_options(tc->ctx, SSL_OP_NO_COMPRESSION |
	    SSL_OP_NO_RENEGOTIATION);
	SSL_CTX_set_mode(tc->ctx, SSL_MODE_ENABLE_PARTIAL_WRITE |
	    SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	SSL_CTX_set_session_cache_mode(tc->ctx, SSL_SESS_CACHE_OFF);
	/* Verification runs and is recorded; tls_verify() applies it. */
	SSL_CTX_set_verify(tc->ctx, SSL_VERIFY_NONE, NULL);
	if (cafile != NULL || capath != NULL)
		ok = SSL_CTX_load_verify_locations(tc->ctx, cafile, capath);
	else
		ok = SSL_CTX_set_default_verify_paths(tc->ctx);
	if (ok != 1) {
		if (cafile == NULL && capath == NULL)
			tls_fail(why, TLS_CONFIG, "TLS: cannot load the "
			    "system CA store");
		else
			tls_fail(why, TLS_CONFIG, "TLS: cannot load "
			    "CAfile \"%s\", CApath \"%s\"",
			    cafile != NULL ? cafile : "",
			    capath != NULL ? capath : "");
		goto fail;
	}
	return tc;
fail:
	tls_ossl_why(why);
	return tls_ctx_free(tc);
}

/*
 * tls_pem_has - whether the PEM file path holds a block whose name ends
 * in suffix ("CERTIFICATE", "PRIVATE KEY"): 1, 0, or -1 when it cannot
 * be read through; OpenSSL's error queue is left empty
 */
static int
tls_pem_has(const char *path, const char *suffix)
{
	unsigned char	*data;
	unsigned long	 e;
	size_t		 nl, sl = strlen(suffix);
	long		 len;
	char		*name, *header;
	BIO		*bio;
	int		 found = 0;

	ERR_clear_error();
	if ((bio = BIO_new_file(path, "r")) == NULL) {
		ERR_clear_error();
		return -1;
	}
	while (PEM_read_bio(bio, &name, &header, &data, &len) == 1) {
		nl = strlen(name);
		if (nl >= sl && strcmp(name + nl - sl, suffix) == 0)
			found = 1;
		OPENSSL_free(name);
		OPENSSL_free(header);
		OPENSSL_free(data);
	}
	e = ERR_peek_last_error();
	BIO_free(bio);
	ERR_clear_error();
	if (ERR_GET_LIB(e) == ERR_LIB_PEM &&
	    ERR_GET_REASON(e) == PEM_R_NO_START_LINE)
		return found;
	return -1;
}

/*
 * tls_file_fail - why path (a "certificate" or a "key") did not load:
 * errno's text when it cannot be opened, "no ... in the file" when it
 * holds none, a passphrase when one was asked for, else OpenSSL's
 * errors
 */
static int
tls_file_fail(struct buf *why, const char *what, const char *path,
    int passphrase)
{
	FILE	*fp;
	int	 err;

	if ((fp = fopen(path, "re")) == NULL) {
		err = errno;
		ERR_clear_error();
		return tls_fail(why, TLS_CONFIG, "cannot load %s %s: %s", what,
		    path, strerror(err));
	}
	(void)fclose(fp);
	if (passphrase) {
		ERR_clear_error();
		return tls_fail(why, TLS_CONFIG, "cannot load %s %s: it has a "
		    "passphrase (not supported)", what, path);
	}
	tls_fail(why, TLS_CONFIG, "cannot load %s %s", what, path);
	tls_ossl_why(why);
	if (tls_pem_has(path, strcmp(what, "key") == 0 ? "PRIVATE KEY" :
	    "CERTIFICATE") == 0)
		tls_fail(why, TLS_CONFIG, "cannot load %s %s: no PEM %s in "
		    "the file", what, path, strcmp(what, "key") == 0 ?
		    "private key" : "certificate");
	return TLS_CONFIG;
}

/*
 * tls_no_passphrase - a PEM passphrase callback that never prompts;
 * it notes in *arg (an int, when not NULL) that it was asked
 */
static int
tls_no_passphrase(char *buf, int size, int rwflag, void *arg)
{
	(void)buf;
	(void)size;
	(void)rwflag;
	if (arg != NULL)
		*(int *)arg = 1;
	return -1;
}

/*
 * tls_server_ctx_new - a server context: TLS >= 1.2, the certificate
 * chain from certfile, its key from keyfile (NULL or "": certfile)
 */
struct tls_ctx *
tls_server_ctx_new(const char *certfile, const char *keyfile,
    struct buf *why)
{
	struct tls_ctx	*tc;
	EVP_PKEY	*key = NULL;
	X509		*cert;
	BIO		*bio = NULL;
	int		 asked = 0;

	if (keyfile == NULL || *keyfile == '\0')
		keyfile = certfile;
	if (certfile == NULL || *certfile == '\0') {
		tls_fail(why, TLS_CONFIG, "TLS: no certificate file");
		return NULL;
	}
	if ((tc = calloc(1, sizeof(*tc))) == NULL) {
		tls_fail(why, TLS_NOMEM, "TLS context: out of memory");
		return NULL;
	}
	tc->server = 1;
	ERR_clear_error();
	if ((tc->ctx = SSL_CTX_new(TLS_server_method())) == NULL) {
		tls_fail(why, TLS_NOMEM, "TLS context");
		goto fail_ossl;
	}
	if (SSL_CTX_set_min_proto_version(tc->ctx, TLS1_2_VERSION) != 1) {
		tls_fail(why, TLS_CONFIG, "TLS context: minimum version");
		goto fail_ossl;
	}
	/*
	 * One connection per process: a session cache dies with it and a
	 * ticket key is this process's own, so neither is kept, and no
	 * ticket (TLS 1.2 or 1.3) is sent.
	 */
	SSL_CTX_set_options(tc->ctx, SSL_OP_NO_COMPRESSION |
	    SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE |
	    SSL_OP_NO_TICKET);
	SSL_CTX_set_mode(tc->ctx, SSL_MODE_ENABLE_PARTIAL_WRITE |
	    SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	SSL_CTX_set_session_cache_mode(tc->ctx, SSL_SESS_CACHE_OFF);
	(void)SSL_CTX_set_num_tickets(tc->ctx, 0);
	(void)SSL_CTX_set_dh_auto(tc->ctx, 1);
	SSL_CTX_set_verify(tc->ctx, SSL_VERIFY_NONE, NULL);
	SSL_CTX_set_default_passwd_cb(tc->ctx, tls_no_passphrase);
	if (SSL_CTX_use_certificate_chain_file(tc->ctx, certfile) != 1 ||
	    (cert = SSL_CTX_get0_certificate(tc->ctx)) == NULL) {
		tls_file_fail(why, "certificate", certfile, 0);
		goto fail;
	}
	if ((bio = BIO_new_file(keyfile, "r")) == NULL ||
	    (key = PEM_read_bio_PrivateKey(bio, NULL, tls_no_passphrase,
	    &asked)) == NULL) {
		tls_file_fail(why, "key", keyfile, asked);
		goto fail;
	}
	if (X509_check_private_key(cert, key) != 1) {
		ERR_clear_error();
		tls_fail(why, TLS_CONFIG, "key %s does not match certificate "
		    "%s", keyfile, certfile);
		goto fail;
	}
	if (SSL_CTX_use_PrivateKey(tc->ctx, key) != 1 ||
	    SSL_CTX_check_private_key(tc->ctx) != 1) {
		tls_fail(why, TLS_CONFIG, "cannot use key %s", keyfile);
		goto fail_ossl;
	}
	EVP_PKEY_free(key);
	BIO_free(bio);
	return tc;
fail_ossl:
	tls_ossl_why(why);
fail:
	ERR_clear_error();
	EVP_PKEY_free(key);
	BIO_free(bio);
	return tls_ctx_free(tc);
}

/* tls_ctx_free - release a context; NULL is fine; returns NULL */
struct tls_ctx *
tls_ctx_free(struct tls_ctx *tc)
{
	if (tc == NULL)
		return NULL;
	SSL_CTX_free(tc->ctx);
	free(tc);
	return NULL;
}

/* tls_level_parse - a level from its Postfix name; 0 or -1 */
int
tls_level_parse(const char *s, enum tls_level *lev)
{
	size_t	 i;

	for (i = 0; i < sizeof(tls_levels) / sizeof(tls_levels[0]); i++) {
		if (strcasecmp(s, tls_levels[i]) == 0) {
			*lev = (enum tls_level)i;
			return 0;
		}
	}
	errno = EINVAL;
	return -1;
}

/* tls_level_name - the Postfix name of a level */
const char *
tls_level_name(enum tls_level lev)
{
	if ((size_t)lev >= sizeof(tls_levels) / sizeof(tls_levels[0]))
		return "unknown";
	return tls_levels[lev];
}

/* tls_is_addr - whether s is an IPv4 or IPv6 address literal */
static int
tls_is_addr(const char *s)
{
	struct in6_addr	 a6;
	struct in_addr	 a4;

	return inet_pton(AF_INET, s, &a4) == 1 ||
	    inet_pton(AF_INET6, s, &a6) == 1;
}

/* tls_match - whether cert matches name (RFC 6125, no partial wildcards) */
static int
tls_match(X509 *cert, const char *name)
{
	if (name == NULL || *name == '\0' || strlen(name) > TLS_NAME_MAX)
		return 0;
	if (tls_is_addr(name))
		return X509_check_ip_asc(cert, name, 0) == 1;
	return X509_check_host(cert, name, 0,
	    X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS, NULL) == 1;
}

/* tls_verify - record whether the chain is trusted and a name matches */
static void
tls_verify(struct tls *t, const char *peername, const char *const *match)
{
	const char *const	*m;

#if OPENSSL_VERSION_NUMBER >= 0x30000000L
	t->cert = SSL_get1_peer_certificate(t->ssl);
#else
	t->cert = SSL_get_peer_certificate(t->ssl);
#endif
	t->trusted = t->matched = 0;
	if (t->cert == NULL) {
		t->trust = TLS_TRUST_ANONYMOUS;
		return;
	}
	t->trusted = SSL_get_verify_result(t->ssl) == X509_V_OK;
	if (match == NULL || match[0] == NULL)
		t->matched = tls_match(t->cert, peername);
	else
		for (m = match; *m != NULL && !t->matched; m++)
			t->matched = tls_match(t->cert, *m);
	if (!t->trusted)
		t->trust = TLS_TRUST_UNTRUSTED;
	else if (!t->matched)
		t->trust = TLS_TRUST_TRUSTED;
	else
		t->trust = TLS_TRUST_VERIFIED;
}

/* tls_shut - send close_notify once, without waiting, if still sound */
static void
tls_shut(struct tls *t)
{
	if (t->state == TLS_ST_OPEN || t->state == TLS_ST_CLOSED) {
		ERR_clear_error();
		(void)SSL_shutdown(t->ssl);
		ERR_clear_error();
	}
	t->state = TLS_ST_DEAD;
}

/* tls_nonblock - make fd non-blocking; 0 or -1 */
static int
tls_nonblock(int fd)
{
	int	 fl;

	if ((fl = fcntl(fd, F_GETFL)) == -1)
		return -1;
	if (!(fl & O_NONBLOCK) && fcntl(fd, F_SETFL, fl | O_NONBLOCK) == -1)
		return -1;
	return 0;
}

/*
 * tls_session - a new session in *tp (set even on failure, for the
 * caller to free) reading rfd and writing wfd, both made non-blocking;
 * who ("TLS with mx.example") heads the reasons
 */
static int
tls_session(struct tls_ctx *tc, int rfd, int wfd, int server,
    const char *who, struct tls **tp, struct buf *why)
{
	struct tls	*t;
	int		 ok;

	if ((*tp = t = calloc(1, sizeof(*t))) == NULL)
		return tls_fail(why, TLS_NOMEM, "%s: out of memory", who);
	t->state = TLS_ST_DEAD;
	t->server = server;
	t->rfd = rfd;
	t->wfd = wfd;
	ERR_clear_error();
	if ((t->ssl = SSL_new(tc->ctx)) == NULL)
		return tls_fail(why, TLS_NOMEM, "%s", who);
	if (tls_nonblock(rfd) == -1 || (wfd != rfd && tls_nonblock(wfd) == -1))
		return tls_fail(why, TLS_ERROR, "%s: fcntl: %s", who,
		    strerror(errno));
	if (rfd == wfd)
		ok = SSL_set_fd(t->ssl, rfd);
	else
		ok = SSL_set_rfd(t->ssl, rfd) == 1 &&
		    SSL_set_wfd(t->ssl, wfd) == 1;
	if (ok != 1)
		return tls_fail(why, TLS_NOMEM, "%s: setup", who);
	if (server)
		SSL_set_accept_state(t->ssl);
	else
		SSL_set_connect_state(t->ssl);
	return TLS_OK;
}

/*
 * tls_eof_error - whether OpenSSL's first queued error is the peer's
 * EOF without close_notify (OpenSSL 3)
 */
static int
tls_eof_error(void)
{
#ifdef SSL_R_UNEXPECTED_EOF_WHILE_READING
	unsigned long	 e = ERR_peek_error();

	return ERR_GET_LIB(e) == ERR_LIB_SSL &&
	    ERR_GET_REASON(e) == SSL_R_UNEXPECTED_EOF_WHILE_READING;
#else
	return 0;
#endif
}

/*
 * tls_handshake - run the handshake of a new session within timeout
 * seconds (0: none), waiting on rfd to read and on wfd to write; who
 * ("TLS handshake with mx.example") heads the reasons
 */
static int
tls_handshake(struct tls *t, int timeout, const char *who, struct buf *why)
{
	long long	 deadline;
	int		 r, e, rc, err;

	deadline = timeout > 0 ? tls_now() + (long long)timeout * TLS_MS : 0;
	for (;;) {
		ERR_clear_error();
		errno = 0;
		if ((r = SSL_do_handshake(t->ssl)) == 1) {
			t->state = TLS_ST_OPEN;
			return TLS_OK;
		}
		e = SSL_get_error(t->ssl, r);
		err = errno;
		if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
			if (e == SSL_ERROR_WANT_READ)
				rc = tls_wait(t->rfd, POLLIN, deadline);
			else
				rc = tls_wait(t->wfd, POLLOUT, deadline);
			if (rc == TLS_OK)
				continue;
			if (rc == TLS_TIMEOUT)
				return tls_fail(why, rc, "%s: timed out", who);
			return tls_fail(why, rc, "%s: poll: %s", who,
			    strerror(errno));
		}
		if (e == SSL_ERROR_SYSCALL && ERR_peek_error() == 0) {
			if (err == 0 || err == ECONNRESET || err == EPIPE)
				return tls_fail(why, TLS_EOF, "%s: lost "
				    "connection", who);
			return tls_fail(why, TLS_ERROR, "%s: %s", who,
			    strerror(err));
		}
		if (e == SSL_ERROR_ZERO_RETURN || tls_eof_error())
			return tls_fail(why, TLS_EOF, "%s: lost connection",
			    who);
		return tls_fail(why, TLS_PROTO, "%s failed", who);
	}
}

/* tls_client_start - the client handshake on fd, bounded by timeout */
int
tls_client_start(struct tls_ctx *tc, int fd, int timeout,
    enum tls_level lev, const char *peername, const char *const *match,
    struct tls **tlsp, struct buf *why)
{
	struct tls	*t = NULL;
	char		 cn[LOG_SAFE_MAX], safe[LOG_SAFE_MAX];
	char		 who[TLS_WHO_MAX];
	long		 vr;
	int		 rc;

	*tlsp = NULL;
	if (tc == NULL || tc->server || fd < 0 || lev <= TLS_LEV_NONE ||
	    lev > TLS_LEV_SECURE || peername == NULL ||
	    strlen(peername) > TLS_NAME_MAX)
		return tls_fail(why, TLS_CONFIG, "TLS: bad arguments");
	log_safe(safe, sizeof(safe), peername, strlen(peername));
	if (bsnprintf(who, sizeof(who), "TLS with %s", safe) != 0)
		return tls_fail(why, TLS_CONFIG, "TLS: bad arguments");
	if ((rc = tls_session(tc, fd, fd, 0, who, &t, why)) != TLS_OK)
		goto fail;
	if (!tls_is_addr(peername) && *peername != '\0' &&
	    SSL_set_tlsext_host_name(t->ssl, peername) != 1) {
		rc = tls_fail(why, TLS_NOMEM, "%s: setup", who);
		goto fail;
	}
	if (bsnprintf(who, sizeof(who), "TLS handshake with %s", safe) != 0 ||
	    (rc = tls_handshake(t, timeout, who, why)) != TLS_OK)
		goto fail;
	tls_verify(t, peername, match);
	if (lev >= TLS_LEV_VERIFY && !t->trusted) {
		vr = SSL_get_verify_result(t->ssl);
		rc = tls_fail(why, TLS_UNTRUSTED, "server certificate not "
		    "trusted: %s", t->cert == NULL ? "no certificate" :
		    X509_verify_cert_error_string(vr));
		tls_shut(t);
		goto fail;
	}
	if (lev >= TLS_LEV_VERIFY && !t->matched) {
		tls_cn(t, cn, sizeof(cn));
		rc = tls_fail(why, TLS_NOMATCH, "server certificate not "
		    "verified: name mismatch (CN=%s) for %s", cn, safe);
		tls_shut(t);
		goto fail;
	}
	*tlsp = t;
	return TLS_OK;
fail:
	if (rc == TLS_PROTO || rc == TLS_NOMEM || rc == TLS_CONFIG)
		tls_ossl_why(why);
	else
		ERR_clear_error();
	tls_free(t);
	return rc;
}

/*
 * tls_server_start - the server handshake reading rfd and writing wfd,
 * bounded by timeout
 */
int
tls_server_start(struct tls_ctx *tc, int rfd, int wfd, int timeout,
    struct tls **tlsp, struct buf *why)
{
	struct tls	*t = NULL;
	int		 rc;

	*tlsp = NULL;
	if (tc == NULL || !tc->server || rfd < 0 || wfd < 0 || timeout < 0)
		return tls_fail(why, TLS_CONFIG, "TLS: bad arguments");
	if ((rc = tls_session(tc, rfd, wfd, 1, "TLS", &t, why)) != TLS_OK ||
	    (rc = tls_handshake(t, timeout, "TLS handshake", why)) != TLS_OK)
		goto fail;
	t->trust = TLS_TRUST_ANONYMOUS;
	*tlsp = t;
	return TLS_OK;
fail:
	if (rc == TLS_PROTO || rc == TLS_NOMEM)
		tls_ossl_why(why);
	else
		ERR_clear_error();
	tls_free(t);
	return rc;
}

/* tls_free - send close_notify if the session is sound, release it */
struct tls *
tls_free(struct tls *t)
{
	if (t == NULL)
		return NULL;
	if (t->ssl != NULL) {
		if (t->state == TLS_ST_OPEN)
			tls_shut(t);
		SSL_free(t->ssl);
	}
	X509_free(t->cert);
	free(t);
	return NULL;
}

/* tls_trust - how far the peer's certificate was verified */
enum tls_trust
tls_trust(const struct tls *t)
{
	return t->trust;
}

/* tls_trusted - whether the peer's chain verified */
int
tls_trusted(const struct tls *t)
{
	return t->trusted;
}

/* tls_matched - whether the peer's certificate matched a name */
int
tls_matched(const struct tls *t)
{
	return t->matched;
}

/*
 * tls_io_error - map an SSL_read/SSL_write failure to read(2)/send(2)
 * conventions; any failure but "retry" kills the session for good
 */
static ssize_t
tls_io_error(struct tls *t, int r, int writing)
{
	int	 e, err = errno;

	e = SSL_get_error(t->ssl, r);
	switch (e) {
	case SSL_ERROR_WANT_READ:
		t->want = POLLIN;
		errno = EAGAIN;
		return -1;
	case SSL_ERROR_WANT_WRITE:
		t->want = POLLOUT;
		errno = EAGAIN;
		return -1;
	case SSL_ERROR_ZERO_RETURN:
		/* close_notify: EOF for reads, EPIPE for writes, for ever. */
		goto eof;
	case SSL_ERROR_SSL:
		/* EOF without close_notify (OpenSSL 3): the same */
		if (tls_eof_error())
			goto eof;
		break;
	case SSL_ERROR_SYSCALL:
		if (ERR_peek_error() == 0 && err == 0)
			goto eof;		/* the same before OpenSSL 3 */
		if (ERR_peek_error() == 0) {
			t->state = TLS_ST_DEAD;
			errno = err;
			return -1;
		}
		break;
	default:
		break;
	}
	ERR_clear_error();
	t->state = TLS_ST_DEAD;
	errno = EIO;
	return -1;
eof:
	t->state = TLS_ST_CLOSED;
	ERR_clear_error();
	if (writing) {
		errno = EPIPE;
		return -1;
	}
	return 0;
}

/* tls_read - read(2) over TLS: bytes, 0 at close_notify, -1 with errno */
ssize_t
tls_read(struct tls *t, void *p, size_t len)
{
	size_t	 n = 0;
	int	 r;

	if (t->state == TLS_ST_CLOSED)
		return 0;
	if (t->state != TLS_ST_OPEN) {
		errno = EIO;
		return -1;
	}
	ERR_clear_error();
	errno = 0;
	r = SSL_read_ex(t->ssl, p, len, &n);
	if (r == 1)
		return (ssize_t)n;
	return tls_io_error(t, r, 0);
}

/* tls_write - send(2) over TLS: bytes written or -1 with errno */
ssize_t
tls_write(struct tls *t, const void *p, size_t len)
{
	size_t	 n = 0;
	int	 r;

	if (t->state == TLS_ST_CLOSED) {
		errno = EPIPE;
		return -1;
	}
	if (t->state != TLS_ST_OPEN) {
		errno = EIO;
		return -1;
	}
	if (len == 0)
		return 0;
	ERR_clear_error();
	errno = 0;
	r = SSL_write_ex(t->ssl, p, len, &n);
	if (r == 1)
		return (ssize_t)n;
	return tls_io_error(t, r, 1);
}

/* tls_want - the poll events the last EAGAIN waits for */
short
tls_want(const struct tls *t)
{
	return t->want != 0 ? t->want : POLLIN;
}

/* tls_want_fd - the descriptor to poll for tls_want()'s events */
int
tls_want_fd(const struct tls *t)
{
	return tls_want(t) == POLLOUT ? t->wfd : t->rfd;
}

/* tls_pending - decrypted bytes ready inside TLS */
size_t
tls_pending(const struct tls *t)
{
	int	 n;

	if (t->state != TLS_ST_OPEN)
		return 0;
	n = SSL_pending(t->ssl);
	return n > 0 ? (size_t)n : 0;
}

/* tls_op_read - tls_read() for smtpio */
static ssize_t
tls_op_read(void *arg, void *p, size_t len)
{
	return tls_read(arg, p, len);
}

/* tls_op_write - tls_write() for smtpio */
static ssize_t
tls_op_write(void *arg, const void *p, size_t len)
{
	return tls_write(arg, p, len);
}

/* tls_op_want - tls_want() for smtpio */
static short
tls_op_want(void *arg)
{
	return tls_want(arg);
}

/* tls_info - append "TLSv1.3 with cipher NAME (256/256 bits)" */
int
tls_info(const struct tls *t, struct buf *out)
{
	const SSL_CIPHER	*c;
	int			 bits, alg = 0;

	c = SSL_get_current_cipher(t->ssl);
	if (c == NULL)
		return buf_adds(out, "no TLS session");
	bits = SSL_CIPHER_get_bits(c, &alg);
	return buf_printf(out, "%s with cipher %s (%d/%d bits)",
	    SSL_get_version(t->ssl), SSL_CIPHER_get_name(c), bits, alg);
}

/* tls_version_name - the protocol's name, "TLSv1.3" */
const char *
tls_version_name(const struct tls *t)
{
	return SSL_get_version(t->ssl);
}

/* tls_cipher_name - the cipher's name, "TLS_AES_256_GCM_SHA384" */
const char *
tls_cipher_name(const struct tls *t)
{
	const SSL_CIPHER	*c;

	if ((c = SSL_get_current_cipher(t->ssl)) == NULL)
		return "(NONE)";
	return SSL_CIPHER_get_name(c);
}

/* tls_established - append Postfix's "... TLS connection established" */
int
tls_established(const struct tls *t, const char *peer, struct buf *out)
{
	char	 safe[LOG_SAFE_MAX];
	int	 rc;

	log_safe(safe, sizeof(safe), peer, strlen(peer));
	rc = buf_printf(out, "%s TLS connection established %s %s: ",
	    tls_trust_names[t->trust], t->server ? "from" : "to", safe);
	if (rc != BUF_OK)
		return rc;
	return tls_info(t, out);
}

/* tls_cn - the peer certificate's subject CN, log-safe, or "" */
static void
tls_cn(const struct tls *t, char *dst, size_t dstsz)
{
	X509_NAME_ENTRY	*ent;
	ASN1_STRING	*s;
	X509_NAME	*name;
	int		 i;

	dst[0] = '\0';
	if (t->cert == NULL ||
	    (name = X509_get_subject_name(t->cert)) == NULL ||
	    (i = X509_NAME_get_index_by_NID(name, NID_commonName, -1)) < 0 ||
	    (ent = X509_NAME_get_entry(name, i)) == NULL ||
	    (s = X509_NAME_ENTRY_get_data(ent)) == NULL ||
	    ASN1_STRING_length(s) < 0)
		return;
	log_safe(dst, dstsz, (const char *)ASN1_STRING_get0_data(s),
	    (size_t)ASN1_STRING_length(s));
}

/* tls_peer_cn - append the peer's subject CN, log-safe, or nothing */
int
tls_peer_cn(const struct tls *t, struct buf *out)
{
	char	 cn[LOG_SAFE_MAX];

	tls_cn(t, cn, sizeof(cn));
	return buf_adds(out, cn);
}

/* tls_strerror - a name for a status */
const char *
tls_strerror(int status)
{
	switch (status) {
	case TLS_OK:
		return "success";
	case TLS_TIMEOUT:
		return "timed out";
	case TLS_EOF:
		return "lost connection";
	case TLS_ERROR:
		return "system error";
	case TLS_PROTO:
		return "TLS handshake failed";
	case TLS_UNTRUSTED:
		return "server certificate not trusted";
	case TLS_NOMATCH:
		return "server certificate name mismatch";
	case TLS_NOMEM:
		return "out of memory";
	case TLS_CONFIG:
		return "TLS configuration error";
	default:
		return "unknown TLS status";
	}
}
