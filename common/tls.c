/*
 * tls.c - the client side of TLS with Postfix's security levels
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
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <openssl/err.h>
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

enum tls_state {
	TLS_ST_OPEN = 0,	/* the session is sound */
	TLS_ST_CLOSED,		/* close_notify or EOF: reads are EOF */
	TLS_ST_DEAD,		/* a TLS error: everything fails */
};

struct tls_ctx {
	SSL_CTX		*ctx;
};

struct tls {
	SSL		*ssl;
	X509		*cert;		/* the peer's, or NULL */
	enum tls_state	 state;
	enum tls_trust	 trust;
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

/* tls_client_start - the client handshake on fd, bounded by timeout */
int
tls_client_start(struct tls_ctx *tc, int fd, int timeout,
    enum tls_level lev, const char *peername, const char *const *match,
    struct tls **tlsp, struct buf *why)
{
	struct tls	*t;
	char		 cn[LOG_SAFE_MAX], safe[LOG_SAFE_MAX];
	long long	 deadline;
	long		 vr;
	int		 fl, r, e, rc, err;

	*tlsp = NULL;
	if (tc == NULL || fd < 0 || lev <= TLS_LEV_NONE ||
	    lev > TLS_LEV_SECURE || peername == NULL ||
	    strlen(peername) > TLS_NAME_MAX)
		return tls_fail(why, TLS_CONFIG, "TLS: bad arguments");
	log_safe(safe, sizeof(safe), peername, strlen(peername));
	if ((t = calloc(1, sizeof(*t))) == NULL)
		return tls_fail(why, TLS_NOMEM, "TLS with %s: out of memory",
		    safe);
	t->state = TLS_ST_DEAD;
	ERR_clear_error();
	if ((t->ssl = SSL_new(tc->ctx)) == NULL) {
		rc = tls_fail(why, TLS_NOMEM, "TLS with %s", safe);
		goto fail;
	}
	if ((fl = fcntl(fd, F_GETFL)) == -1 ||
	    (!(fl & O_NONBLOCK) && fcntl(fd, F_SETFL, fl | O_NONBLOCK) == -1)) {
		rc = tls_fail(why, TLS_ERROR, "TLS with %s: fcntl: %s", safe,
		    strerror(errno));
		goto fail;
	}
	if (SSL_set_fd(t->ssl, fd) != 1 ||
	    (!tls_is_addr(peername) && *peername != '\0' &&
	    SSL_set_tlsext_host_name(t->ssl, peername) != 1)) {
		rc = tls_fail(why, TLS_NOMEM, "TLS with %s: setup", safe);
		goto fail;
	}
	deadline = timeout > 0 ? tls_now() + (long long)timeout * TLS_MS : 0;
	for (;;) {
		ERR_clear_error();
		errno = 0;
		if ((r = SSL_connect(t->ssl)) == 1)
			break;
		e = SSL_get_error(t->ssl, r);
		err = errno;
		if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
			rc = tls_wait(fd, e == SSL_ERROR_WANT_READ ? POLLIN :
			    POLLOUT, deadline);
			if (rc == TLS_OK)
				continue;
			if (rc == TLS_TIMEOUT)
				rc = tls_fail(why, rc, "TLS handshake with %s: "
				    "timed out", safe);
			else
				rc = tls_fail(why, rc, "TLS handshake with %s: "
				    "poll: %s", safe, strerror(errno));
			goto fail;
		}
		if (e == SSL_ERROR_SYSCALL && ERR_peek_error() == 0) {
			if (err == 0 || err == ECONNRESET || err == EPIPE)
				rc = tls_fail(why, TLS_EOF, "TLS handshake "
				    "with %s: lost connection", safe);
			else
				rc = tls_fail(why, TLS_ERROR, "TLS handshake "
				    "with %s: %s", safe, strerror(err));
			goto fail;
		}
		if (e == SSL_ERROR_ZERO_RETURN)
			rc = tls_fail(why, TLS_EOF, "TLS handshake with %s: "
			    "lost connection", safe);
		else
			rc = tls_fail(why, TLS_PROTO, "TLS handshake with %s "
			    "failed", safe);
		goto fail;
	}
	t->state = TLS_ST_OPEN;
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
		t->state = TLS_ST_CLOSED;
		ERR_clear_error();
		if (writing) {
			errno = EPIPE;
			return -1;
		}
		return 0;
	case SSL_ERROR_SYSCALL:
		if (ERR_peek_error() == 0 && err != 0) {
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

/* tls_established - append Postfix's "... TLS connection established" */
int
tls_established(const struct tls *t, const char *peer, struct buf *out)
{
	char	 safe[LOG_SAFE_MAX];
	int	 rc;

	log_safe(safe, sizeof(safe), peer, strlen(peer));
	rc = buf_printf(out, "%s TLS connection established to %s: ",
	    tls_trust_names[t->trust], safe);
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
