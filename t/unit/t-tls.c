/*
 * t-tls.c - unit tests for common/tls: the security levels against a
 * TLS server forked from this program over a socketpair, with a test
 * CA and certificates made here in memory (trusted, name mismatch,
 * wildcards, expired, self-signed), SNI, a TLS 1.1-only server, a
 * silent peer, a plaintext peer, and no plaintext after close_notify
 *
 * "t-tls connect HOST PORT LEVEL PEERNAME [options]" is a small client
 * for t/t8000-tls-client.sh (real openssl s_server peers); see
 * drv_usage().
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "common/buf.h"
#include "common/smtpio.h"
#include "common/tls.h"
#include "common/util.h"
#include "t/unit/certs.h"
#include "t/unit/tap.h"

#define WAIT_MS		10000	/* the longest wait for a peer */
#define LINE_MAX_T	1024

enum srv_mode {
	SRV_ECHO = 0,		/* send "sni=NAME", echo one line, close */
	SRV_CLOSE_PLAIN,	/* send "hello", close_notify, then plaintext */
	SRV_TLS11,		/* TLS 1.1 only */
	SRV_SMTP,		/* 220, EHLO 250, QUIT 221, close */
};

static char		 dir[256];
static char		 cafile[300];
static struct cred	 ca;
static struct tls_ctx	*ctx;

/* starts - whether s starts with prefix */
static int
starts(const char *s, const char *prefix)
{
	if (strncmp(s, prefix, strlen(prefix)) == 0)
		return 1;
	tap_diag("\"%s\" does not start with \"%s\"", s, prefix);
	return 0;
}

/* server - the TLS server in a child process on fd; exits */
static void
server(int fd, const struct cred *cr, enum srv_mode mode)
{
	SSL_CTX		*sc;
	SSL		*ssl;
	const char	*sni;
	char		 line[LINE_MAX_T], out[LINE_MAX_T + 8];
	int		 n;

	signal(SIGPIPE, SIG_IGN);
	alarm(WAIT_MS / 1000);
	if ((sc = SSL_CTX_new(TLS_server_method())) == NULL ||
	    SSL_CTX_use_certificate(sc, cr->cert) != 1 ||
	    SSL_CTX_use_PrivateKey(sc, cr->key) != 1)
		_exit(2);
	if (mode == SRV_TLS11) {
		SSL_CTX_set_security_level(sc, 0);
		if (SSL_CTX_set_min_proto_version(sc, TLS1_1_VERSION) != 1 ||
		    SSL_CTX_set_max_proto_version(sc, TLS1_1_VERSION) != 1)
			_exit(3);
	}
	if ((ssl = SSL_new(sc)) == NULL || SSL_set_fd(ssl, fd) != 1)
		_exit(2);
	if (SSL_accept(ssl) != 1)
		_exit(4);
	if (mode == SRV_CLOSE_PLAIN) {
		SSL_write(ssl, "hello\n", 6);
		SSL_shutdown(ssl);
		(void)write_all(fd, "250 plaintext\r\n", 15);
		_exit(0);
	}
	if (mode == SRV_SMTP) {
		static const char *const say[] = {
			"220 mx.example.org ESMTP\r\n",
			"250-mx.example.org\r\n250 PIPELINING\r\n",
			"221 2.0.0 bye\r\n",
		};
		size_t	 i;

		for (i = 0; i < nitems(say); i++) {
			if (i > 0 && SSL_read(ssl, line, sizeof(line)) <= 0)
				_exit(6);
			SSL_write(ssl, say[i], (int)strlen(say[i]));
		}
		SSL_shutdown(ssl);
		_exit(0);
	}
	sni = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
	if (bsnprintf(out, sizeof(out), "sni=%s\n", sni != NULL ? sni :
	    "(none)") != 0 || SSL_write(ssl, out, (int)strlen(out)) <= 0)
		_exit(5);
	if ((n = SSL_read(ssl, line, sizeof(line))) > 0)
		SSL_write(ssl, line, n);
	SSL_shutdown(ssl);
	_exit(0);
}

/* peer_start - a server child on one end of a socketpair; the other */
static int
peer_start(const struct cred *cr, enum srv_mode mode, pid_t *pid)
{
	int	 sv[2];

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == -1)
		return -1;
	if ((*pid = fork()) == -1) {
		close(sv[0]);
		close(sv[1]);
		return -1;
	}
	if (*pid == 0) {
		close(sv[0]);
		server(sv[1], cr, mode);
	}
	close(sv[1]);
	return sv[0];
}

/* peer_stop - close our end, reap the child (killing it after a while) */
static void
peer_stop(int fd, pid_t pid)
{
	int	 i, st;

	if (fd >= 0)
		close(fd);
	for (i = 0; i < WAIT_MS / 10; i++) {
		if (waitpid(pid, &st, WNOHANG) != 0)
			return;
		usleep(10000);
	}
	kill(pid, SIGKILL);
	waitpid(pid, &st, 0);
}

/* tls_getline - one line from the session into b, waiting up to WAIT_MS */
static ssize_t
tls_getline(struct tls *t, int fd, struct buf *b)
{
	struct pollfd	 pfd;
	char		 c;
	ssize_t		 n;

	buf_reset(b);
	for (;;) {
		n = tls_read(t, &c, 1);
		if (n == 1) {
			if (buf_addc(b, c) != BUF_OK)
				return -1;
			if (c == '\n')
				return (ssize_t)b->len;
			continue;
		}
		if (n == 0)
			return b->len > 0 ? (ssize_t)b->len : 0;
		if (errno != EAGAIN)
			return -1;
		pfd.fd = fd;
		pfd.events = tls_want(t);
		pfd.revents = 0;
		if (poll(&pfd, 1, WAIT_MS) <= 0)
			return -1;
	}
}

/* tls_putall - write everything, waiting as needed */
static int
tls_putall(struct tls *t, int fd, const char *s, size_t len)
{
	struct pollfd	 pfd;
	ssize_t		 n;

	while (len > 0) {
		if ((n = tls_write(t, s, len)) > 0) {
			s += n;
			len -= (size_t)n;
			continue;
		}
		if (n == -1 && errno != EAGAIN)
			return -1;
		pfd.fd = fd;
		pfd.events = tls_want(t);
		pfd.revents = 0;
		if (poll(&pfd, 1, WAIT_MS) <= 0)
			return -1;
	}
	return 0;
}

/*
 * try - a handshake with a server presenting cr at level lev; returns
 * the status, leaving the session in *tp (or NULL) and the peer in
 * *fdp and *pidp for the caller to stop
 */
static int
try(const struct cred *cr, enum srv_mode mode, enum tls_level lev,
    const char *peername, const char *const *match, struct tls **tp,
    int *fdp, pid_t *pidp, struct buf *why)
{
	int	 rc;

	*tp = NULL;
	if ((*fdp = peer_start(cr, mode, pidp)) == -1)
		return -100;
	rc = tls_client_start(ctx, *fdp, 5, lev, peername, match, tp, why);
	if (rc != TLS_OK)
		tap_diag("%s at %s: %s: %s", peername, tls_level_name(lev),
		    tls_strerror(rc), buf_str(why));
	return rc;
}

/* outcome - try, then stop the peer; the status and the trust */
static int
outcome(const struct cred *cr, enum tls_level lev, const char *peername,
    const char *const *match, enum tls_trust *trust, struct buf *why)
{
	struct tls	*t;
	pid_t		 pid;
	int		 fd, rc;

	rc = try(cr, SRV_ECHO, lev, peername, match, &t, &fd, &pid, why);
	if (trust != NULL)
		*trust = t != NULL ? tls_trust(t) : TLS_TRUST_ANONYMOUS;
	tls_free(t);
	peer_stop(fd, pid);
	return rc;
}

static void
t_levels(void)
{
	enum tls_level	 lev;
	static const char *const names[] = {
		"none", "may", "encrypt", "verify", "secure",
	};
	size_t		 i;

	for (i = 0; i < nitems(names); i++) {
		check_int(tls_level_parse(names[i], &lev), ==, 0);
		check_int(lev, ==, i);
		check_str(tls_level_name(lev), names[i]);
	}
	check_int(tls_level_parse("VERIFY", &lev), ==, 0);
	check_int(lev, ==, TLS_LEV_VERIFY);
	check_int(tls_level_parse("dane", &lev), ==, -1);
	check_int(tls_level_parse("", &lev), ==, -1);
	check_str(tls_level_name((enum tls_level)99), "unknown");
	check_str(tls_strerror(TLS_NOMATCH),
	    "server certificate name mismatch");
	check_str(tls_strerror(12345), "unknown TLS status");
}

static void
t_ctx(void)
{
	struct tls_ctx	*c;
	struct tls	*t = (struct tls *)&t;
	struct buf	 why;
	char		 path[300];

	buf_init(&why, 1024);
	bsnprintf(path, sizeof(path), "%s/missing.pem", dir);
	c = tls_client_ctx_new(path, NULL, &why);
	check(c == NULL);
	check(strstr(buf_str(&why), "missing.pem") != NULL);
	c = tls_client_ctx_new(NULL, NULL, &why);
	check(c != NULL);
	/* level none, bad arguments: refused before any I/O */
	check_int(tls_client_start(c, 0, 1, TLS_LEV_NONE, "x", NULL, &t,
	    &why), ==, TLS_CONFIG);
	check(t == NULL);
	check_int(tls_client_start(c, -1, 1, TLS_LEV_MAY, "x", NULL, &t,
	    &why), ==, TLS_CONFIG);
	check(tls_ctx_free(c) == NULL);
	check(tls_ctx_free(NULL) == NULL);
	check(tls_free(NULL) == NULL);
	buf_free(&why);
}

static void
t_verified(void)
{
	struct cred	 leaf;
	struct tls	*t;
	struct buf	 why, b;
	pid_t		 pid;
	int		 fd;

	buf_init(&why, 1024);
	buf_init(&b, 1024);
	if (!check_int(cred_make(&leaf, "mx.example.org",
	    "DNS:mx.example.org,DNS:mail.example.org", -CERT_DAY, CERT_DAY, &ca, 0),
	    ==, 0))
		return;
	check_int(try(&leaf, SRV_ECHO, TLS_LEV_SECURE, "mx.example.org",
	    NULL, &t, &fd, &pid, &why), ==, TLS_OK);
	if (t != NULL) {
		check(tls_trusted(t));
		check(tls_matched(t));
		check_int(tls_trust(t), ==, TLS_TRUST_VERIFIED);
		check_int(tls_established(t, "mx.example.org[192.0.2.1]:25",
		    &b), ==, BUF_OK);
		check(starts(buf_str(&b), "Verified TLS connection "
		    "established to mx.example.org[192.0.2.1]:25: TLSv1.3 "
		    "with cipher TLS_"));
		check(strstr(buf_str(&b), " bits)") != NULL);
		tap_diag("%s", buf_str(&b));
		buf_reset(&b);
		check_int(tls_peer_cn(t, &b), ==, BUF_OK);
		check_str(buf_str(&b), "mx.example.org");
		/* the server saw SNI, and data goes both ways */
		check_int(tls_getline(t, fd, &b), >, 0);
		check_str(buf_str(&b), "sni=mx.example.org\n");
		check_int(tls_putall(t, fd, "EHLO client\r\n", 13), ==, 0);
		check_int(tls_getline(t, fd, &b), >, 0);
		check_str(buf_str(&b), "EHLO client\r\n");
		check_int(tls_pending(t), ==, 0);
		/* the server's close_notify: EOF, for ever */
		check_int(tls_getline(t, fd, &b), ==, 0);
		check_int(tls_read(t, &b, 0), ==, 0);
		errno = 0;
		check_int(tls_write(t, "QUIT\r\n", 6), ==, -1);
		check_int(errno, ==, EPIPE);
	}
	t = tls_free(t);
	peer_stop(fd, pid);

	/* a second name from the certificate, given as a match name */
	{
		const char *const m[] = { "example.org", "mail.example.org",
		    NULL };

		check_int(outcome(&leaf, TLS_LEV_VERIFY, "mx.example.org", m,
		    NULL, &why), ==, TLS_OK);
	}
	cred_free(&leaf);
	buf_free(&b);
	buf_free(&why);
}

static void
t_mismatch(void)
{
	struct cred	 leaf;
	enum tls_trust	 tr;
	struct tls	*t;
	struct buf	 why, b;
	pid_t		 pid;
	int		 fd;
	const char *const m[] = { "example.org", NULL };

	buf_init(&why, 1024);
	buf_init(&b, 1024);
	if (!check_int(cred_make(&leaf, "mx.example.org", "DNS:mx.example.org",
	    -CERT_DAY, CERT_DAY, &ca, 0), ==, 0))
		return;
	check_int(outcome(&leaf, TLS_LEV_VERIFY, "mx.example.com", NULL,
	    NULL, &why), ==, TLS_NOMATCH);
	check_str(buf_str(&why), "server certificate not verified: name "
	    "mismatch (CN=mx.example.org) for mx.example.com");
	check_int(outcome(&leaf, TLS_LEV_SECURE, "mx.example.org", m, NULL,
	    &why), ==, TLS_NOMATCH);
	check_int(outcome(&leaf, TLS_LEV_VERIFY, "", NULL, NULL, &why), ==,
	    TLS_NOMATCH);
	/* encrypt and may go on, as Trusted */
	check_int(outcome(&leaf, TLS_LEV_MAY, "mx.example.com", NULL, &tr,
	    &why), ==, TLS_OK);
	check_int(tr, ==, TLS_TRUST_TRUSTED);
	check_int(try(&leaf, SRV_ECHO, TLS_LEV_ENCRYPT, "mx.example.com",
	    NULL, &t, &fd, &pid, &why), ==, TLS_OK);
	if (t != NULL) {
		check(tls_trusted(t));
		check(!tls_matched(t));
		check_int(tls_established(t, "mx.example.com[192.0.2.1]:25",
		    &b), ==, BUF_OK);
		check(starts(buf_str(&b), "Trusted TLS connection "
		    "established to mx.example.com[192.0.2.1]:25: "));
		buf_reset(&b);
		check_int(tls_getline(t, fd, &b), >, 0);
		check_str(buf_str(&b), "sni=mx.example.com\n");
	}
	tls_free(t);
	peer_stop(fd, pid);
	cred_free(&leaf);
	buf_free(&b);
	buf_free(&why);
}

static void
t_wildcards(void)
{
	struct cred	 leaf;
	struct buf	 why;
	const char *const dot[] = { ".example.net", NULL };

	buf_init(&why, 1024);
	if (!check_int(cred_make(&leaf, "wild", "DNS:*.example.net,"
	    "DNS:f*.example.com,DNS:*.*.example.edu,IP:127.0.0.1", -CERT_DAY, CERT_DAY,
	    &ca, 0), ==, 0))
		return;
	check_int(outcome(&leaf, TLS_LEV_VERIFY, "mx.example.net", NULL,
	    NULL, &why), ==, TLS_OK);
	check_int(outcome(&leaf, TLS_LEV_VERIFY, "MX.Example.NET", NULL,
	    NULL, &why), ==, TLS_OK);
	/* the wildcard covers one label, the leftmost, only */
	check_int(outcome(&leaf, TLS_LEV_VERIFY, "a.mx.example.net", NULL,
	    NULL, &why), ==, TLS_NOMATCH);
	check_int(outcome(&leaf, TLS_LEV_VERIFY, "example.net", NULL, NULL,
	    &why), ==, TLS_NOMATCH);
	/* no partial-label wildcards, no wildcard below the leftmost */
	check_int(outcome(&leaf, TLS_LEV_VERIFY, "foo.example.com", NULL,
	    NULL, &why), ==, TLS_NOMATCH);
	check_int(outcome(&leaf, TLS_LEV_VERIFY, "a.b.example.edu", NULL,
	    NULL, &why), ==, TLS_NOMATCH);
	/* ".example.net": any name below it, as Postfix's dot-nexthop */
	check_int(outcome(&leaf, TLS_LEV_VERIFY, "mx.example.net", dot,
	    NULL, &why), ==, TLS_OK);
	/* an address literal matches an IP SAN, never a DNS one */
	check_int(outcome(&leaf, TLS_LEV_VERIFY, "127.0.0.1", NULL, NULL,
	    &why), ==, TLS_OK);
	check_int(outcome(&leaf, TLS_LEV_VERIFY, "127.0.0.2", NULL, NULL,
	    &why), ==, TLS_NOMATCH);
	cred_free(&leaf);
	buf_free(&why);
}

static void
t_untrusted(void)
{
	struct cred	 old, self;
	enum tls_trust	 tr;
	struct tls	*t;
	struct buf	 why, b;
	pid_t		 pid;
	int		 fd;

	buf_init(&why, 1024);
	buf_init(&b, 1024);
	if (!check_int(cred_make(&old, "mx.example.org", "DNS:mx.example.org",
	    -3 * CERT_DAY, -CERT_DAY, &ca, 0), ==, 0) ||
	    !check_int(cred_make(&self, "mx.example.org", "DNS:mx.example.org",
	    -CERT_DAY, CERT_DAY, NULL, 0), ==, 0))
		return;
	check_int(outcome(&old, TLS_LEV_VERIFY, "mx.example.org", NULL, NULL,
	    &why), ==, TLS_UNTRUSTED);
	check_str(buf_str(&why), "server certificate not trusted: "
	    "certificate has expired");
	check_int(outcome(&self, TLS_LEV_SECURE, "mx.example.org", NULL,
	    NULL, &why), ==, TLS_UNTRUSTED);
	check(strstr(buf_str(&why), "self") != NULL);
	check_int(outcome(&old, TLS_LEV_ENCRYPT, "mx.example.org", NULL, &tr,
	    &why), ==, TLS_OK);
	check_int(tr, ==, TLS_TRUST_UNTRUSTED);
	check_int(try(&self, SRV_ECHO, TLS_LEV_MAY, "mx.example.org", NULL,
	    &t, &fd, &pid, &why), ==, TLS_OK);
	if (t != NULL) {
		check(!tls_trusted(t));
		check(tls_matched(t));
		check_int(tls_established(t, "mx[192.0.2.1]:25", &b), ==,
		    BUF_OK);
		check(starts(buf_str(&b), "Untrusted TLS connection "
		    "established to mx[192.0.2.1]:25: TLSv1."));
	}
	tls_free(t);
	peer_stop(fd, pid);
	cred_free(&old);
	cred_free(&self);
	buf_free(&b);
	buf_free(&why);
}

static void
t_system_store(void)
{
	struct tls_ctx	*sys;
	struct tls_ctx	*save = ctx;
	struct cred	 leaf;
	struct buf	 why;

	/* the system store does not know the test CA */
	buf_init(&why, 1024);
	if (!check_int(cred_make(&leaf, "mx.example.org", "DNS:mx.example.org",
	    -CERT_DAY, CERT_DAY, &ca, 0), ==, 0))
		return;
	sys = tls_client_ctx_new(NULL, "", &why);
	check(sys != NULL);
	ctx = sys;
	check_int(outcome(&leaf, TLS_LEV_VERIFY, "mx.example.org", NULL,
	    NULL, &why), ==, TLS_UNTRUSTED);
	check_str(buf_str(&why), "server certificate not trusted: unable to "
	    "get local issuer certificate");
	ctx = save;
	tls_ctx_free(sys);
	cred_free(&leaf);
	buf_free(&why);
}

static void
t_old_protocol(void)
{
	struct cred	 leaf;
	struct tls	*t;
	struct buf	 why;
	pid_t		 pid;
	int		 fd, rc;

	buf_init(&why, 1024);
	if (!check_int(cred_make(&leaf, "mx.example.org", "DNS:mx.example.org",
	    -CERT_DAY, CERT_DAY, &ca, 0), ==, 0))
		return;
	rc = try(&leaf, SRV_TLS11, TLS_LEV_MAY, "mx.example.org", NULL, &t,
	    &fd, &pid, &why);
	check_int(rc, ==, TLS_PROTO);
	check(t == NULL);
	check(strstr(buf_str(&why), "TLS handshake with mx.example.org "
	    "failed: ") != NULL);
	check(strstr(buf_str(&why), "protocol") != NULL);
	peer_stop(fd, pid);
	cred_free(&leaf);
	buf_free(&why);
}

static void
t_silent_and_plain(void)
{
	struct tls	*t;
	struct buf	 why;
	struct timespec	 t0, t1;
	long		 ms;
	int		 sv[2];

	buf_init(&why, 1024);
	if (!check_int(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), ==, 0))
		return;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	check_int(tls_client_start(ctx, sv[0], 1, TLS_LEV_MAY, "mx", NULL, &t,
	    &why), ==, TLS_TIMEOUT);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ms = (t1.tv_sec - t0.tv_sec) * 1000 +
	    (t1.tv_nsec - t0.tv_nsec) / 1000000;
	check_int(ms, >=, 900);
	check_int(ms, <, 3000);
	check_str(buf_str(&why), "TLS handshake with mx: timed out");
	check(t == NULL);
	close(sv[0]);
	close(sv[1]);

	/* an SMTP greeting where a ServerHello should be */
	check_int(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), ==, 0);
	check_int(write_all(sv[1], "220 mx ESMTP\r\n", 14), ==, 14);
	check_int(tls_client_start(ctx, sv[0], 5, TLS_LEV_MAY, "mx", NULL, &t,
	    &why), ==, TLS_PROTO);
	check(starts(buf_str(&why), "TLS handshake with mx failed: "));
	close(sv[0]);
	close(sv[1]);

	/* the peer hangs up */
	check_int(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), ==, 0);
	close(sv[1]);
	check(tls_client_start(ctx, sv[0], 5, TLS_LEV_MAY, "mx", NULL, &t,
	    &why) < 0);
	close(sv[0]);
	buf_free(&why);
}

static void
t_no_plaintext_after_close(void)
{
	struct cred	 leaf;
	struct tls	*t;
	struct buf	 why, b;
	char		 raw[64];
	pid_t		 pid;
	int		 fd;

	buf_init(&why, 1024);
	buf_init(&b, 1024);
	if (!check_int(cred_make(&leaf, "mx.example.org", "DNS:mx.example.org",
	    -CERT_DAY, CERT_DAY, &ca, 0), ==, 0))
		return;
	check_int(try(&leaf, SRV_CLOSE_PLAIN, TLS_LEV_VERIFY,
	    "mx.example.org", NULL, &t, &fd, &pid, &why), ==, TLS_OK);
	if (t != NULL) {
		check_int(tls_getline(t, fd, &b), ==, 6);
		check_str(buf_str(&b), "hello\n");
		/* close_notify, then "250 plaintext": never seen */
		check_int(tls_getline(t, fd, &b), ==, 0);
		check_int(tls_read(t, raw, sizeof(raw)), ==, 0);
		check_int(tls_read(t, raw, sizeof(raw)), ==, 0);
		check_int(tls_pending(t), ==, 0);
		/* the bytes are still there: only the caller could read them */
		usleep(100000);
		check_int(recv(fd, raw, sizeof(raw), MSG_PEEK), >, 0);
	}
	tls_free(t);
	peer_stop(fd, pid);
	cred_free(&leaf);
	buf_free(&b);
	buf_free(&why);
}

static void
t_log_text(void)
{
	struct cred	 leaf;
	struct tls	*t;
	struct buf	 why, b;
	pid_t		 pid;
	int		 fd;

	buf_init(&why, 1024);
	buf_init(&b, 64);
	if (!check_int(cred_make(&leaf, "evil\nCN\001", "DNS:mx.example.org",
	    -CERT_DAY, CERT_DAY, &ca, 0), ==, 0))
		return;
	check_int(try(&leaf, SRV_ECHO, TLS_LEV_VERIFY, "mx.example.org", NULL,
	    &t, &fd, &pid, &why), ==, TLS_OK);
	if (t != NULL) {
		/* a CN made safe for the log */
		check_int(tls_peer_cn(t, &b), ==, BUF_OK);
		check_str(buf_str(&b), "evil\\012CN\\001");
		buf_reset(&b);
		check_int(tls_info(t, &b), ==, BUF_OK);
		check(starts(buf_str(&b), "TLSv1.3 with cipher "));
		/* the buffer's maximum is an ordinary error */
		buf_reset(&b);
		check_int(tls_established(t, "a-very-long-peer-name.example."
		    "org[192.0.2.1]:25", &b), ==, BUF_TOOBIG);
	}
	tls_free(t);
	peer_stop(fd, pid);
	cred_free(&leaf);
	buf_free(&b);
	buf_free(&why);
}

static void
t_smtpio(void)
{
	struct smtpio_reply	 r;
	struct smtpio		 io;
	struct cred		 leaf;
	struct tls		*t;
	struct buf		 why;
	pid_t			 pid;
	int			 fd, sv[2];
	static const char	 inject[] = "220 go ahead\r\n250 injected\r\n";

	buf_init(&why, 1024);
	smtpio_reply_init(&r);
	if (!check_int(cred_make(&leaf, "mx.example.org", "DNS:mx.example.org",
	    -CERT_DAY, CERT_DAY, &ca, 0), ==, 0))
		return;
	check_int(try(&leaf, SRV_SMTP, TLS_LEV_VERIFY, "mx.example.org",
	    NULL, &t, &fd, &pid, &why), ==, TLS_OK);
	if (t != NULL) {
		smtpio_init(&io, fd, 5);
		check_int(smtpio_set_ops(&io, &tls_smtpio_ops, t), ==,
		    SMTPIO_OK);
		check_int(smtpio_reply(&io, &r), ==, SMTPIO_OK);
		check_int(r.code, ==, 220);
		check_int(smtpio_cmd(&io, "EHLO client.example"), ==,
		    SMTPIO_OK);
		check_int(smtpio_reply(&io, &r), ==, SMTPIO_OK);
		check_int(r.code, ==, 250);
		check_str(buf_str(&r.text), "mx.example.org\nPIPELINING");
		check_int(smtpio_cmd(&io, "QUIT"), ==, SMTPIO_OK);
		check_int(smtpio_reply(&io, &r), ==, SMTPIO_OK);
		check_int(r.code, ==, 221);
		check_str(r.dsn, "2.0.0");
		/* after close_notify: EOF, never the descriptor's bytes */
		check_int(smtpio_reply(&io, &r), ==, SMTPIO_EOF);
		check_int(smtpio_cmd(&io, "NOOP"), ==, SMTPIO_OK);
		check_int(smtpio_flush(&io), ==, SMTPIO_EOF);
		t = tls_free(t);
		check_int(smtpio_close(&io), ==, SMTPIO_OK);
		fd = -1;
	}
	tls_free(t);
	peer_stop(fd, pid);

	/* STARTTLS injection: plaintext pipelined after the 220 */
	check_int(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), ==, 0);
	check_int(write_all(sv[1], inject, strlen(inject)), ==,
	    strlen(inject));
	smtpio_init(&io, sv[0], 5);
	check_int(smtpio_reply(&io, &r), ==, SMTPIO_OK);
	check_int(r.code, ==, 220);
	check_int(smtpio_set_ops(&io, &tls_smtpio_ops, NULL), ==,
	    SMTPIO_SYNTAX);
	check(io.ops == NULL);
	smtpio_close(&io);
	close(sv[1]);
	cred_free(&leaf);
	smtpio_reply_free(&r);
	buf_free(&why);
}

/* setup - the CA, in memory and as cafile, and the context trusting it */
static int
setup(void)
{
	struct buf	 why;
	FILE		*fp;

	if (cred_make(&ca, "correo test CA", NULL, -CERT_DAY, 2 * CERT_DAY, NULL, 1) != 0)
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

/* drv_usage - the client mode's synopsis */
static int
drv_usage(void)
{
	fprintf(stderr, "usage: t-tls connect HOST PORT LEVEL PEERNAME "
	    "[-C cafile] [-P capath] [-t timeout] [-m match]... "
	    "[-r lines] [-s line]\n");
	return 2;
}

/*
 * drv_connect - the client mode: connect (retrying while refused, for
 * a peer still starting), start TLS, print "status: ...", the trust,
 * the CN and the log line, then print -r lines from the peer ("eof"
 * if it closes first), send the -s line, and close
 */
static int
drv_connect(int argc, char **argv)
{
	const char	*match[16], *cafile_arg = NULL, *capath = NULL;
	const char	*send_line = NULL, *peername, *levname;
	char		 dest[600];
	enum tls_level	 lev;
	struct tls_ctx	*c;
	struct tls	*t = NULL;
	struct buf	 why, b;
	long long	 tmo = 10, nread = 0;
	ssize_t		 n;
	size_t		 nmatch = 0;
	int		 ch, fd = -1, rc, i;

	if (argc < 5)
		return drv_usage();
	if (bsnprintf(dest, sizeof(dest), "[%s]:%s", argv[1], argv[2]) != 0)
		return drv_usage();
	levname = argv[3];
	peername = argv[4];
	optind = 5;
	while ((ch = getopt(argc, argv, "C:P:t:m:r:s:")) != -1) {
		switch (ch) {
		case 'C':
			cafile_arg = optarg;
			break;
		case 'P':
			capath = optarg;
			break;
		case 't':
			if (num_parse(optarg, 0, 3600, &tmo, NULL) != 0)
				return drv_usage();
			break;
		case 'm':
			if (nmatch + 1 >= nitems(match))
				return drv_usage();
			match[nmatch++] = optarg;
			break;
		case 'r':
			if (num_parse(optarg, 0, 100, &nread, NULL) != 0)
				return drv_usage();
			break;
		case 's':
			send_line = optarg;
			break;
		default:
			return drv_usage();
		}
	}
	match[nmatch] = NULL;
	if (tls_level_parse(levname, &lev) != 0)
		return drv_usage();
	buf_init(&why, 4096);
	buf_init(&b, 4096);
	if ((c = tls_client_ctx_new(cafile_arg, capath, &why)) == NULL) {
		printf("status: context: %s\n", buf_str(&why));
		return 1;
	}
	for (i = 0; i < 100; i++) {
		fd = smtpio_connect(dest, "25", (int)tmo, &why);
		if (fd != -1 || errno != ECONNREFUSED)
			break;
		usleep(100000);
	}
	if (fd == -1) {
		printf("status: connect: %s\n", buf_str(&why));
		tls_ctx_free(c);
		return 1;
	}
	rc = tls_client_start(c, fd, (int)tmo, lev, peername,
	    nmatch > 0 ? match : NULL, &t, &why);
	if (rc != TLS_OK) {
		printf("status: %s: %s\n", tls_strerror(rc), buf_str(&why));
		close(fd);
		tls_ctx_free(c);
		return 1;
	}
	printf("status: ok\ntrusted: %d\nmatched: %d\n", tls_trusted(t),
	    tls_matched(t));
	(void)tls_peer_cn(t, &b);
	printf("cn: %s\n", buf_str(&b));
	buf_reset(&b);
	(void)tls_established(t, dest, &b);
	printf("log: %s\n", buf_str(&b));
	for (; nread > 0; nread--) {
		if ((n = tls_getline(t, fd, &b)) <= 0) {
			if (n == 0)
				printf("eof\n");
			else
				printf("read: %s\n", strerror(errno));
			break;
		}
		printf("read: %s", buf_str(&b));
	}
	if (send_line != NULL) {
		buf_reset(&b);
		if (buf_printf(&b, "%s\n", send_line) != BUF_OK ||
		    tls_putall(t, fd, b.data, b.len) != 0)
			printf("write: %s\n", strerror(errno));
	}
	tls_free(t);
	close(fd);
	tls_ctx_free(c);
	buf_free(&b);
	buf_free(&why);
	return 0;
}

int
main(int argc, char **argv)
{
	char	 tmpl[] = "/tmp/t-tls.XXXXXX";

	signal(SIGPIPE, SIG_IGN);
	if (argc > 1 && strcmp(argv[1], "connect") == 0)
		return drv_connect(argc - 1, argv + 1);
	if (mkdtemp(tmpl) == NULL || str_copy(dir, sizeof(dir), tmpl) != 0)
		return 1;
	if (setup() != 0) {
		tap_diag("cannot make the test CA");
		ERR_print_errors_fp(stderr);
		return 1;
	}
	TEST(t_levels, "security levels by name, status texts");
	TEST(t_ctx, "contexts: a missing CA file, bad arguments");
	TEST(t_verified, "verified: trusted chain, name, SNI, data, EOF");
	TEST(t_mismatch, "a name mismatch fails verify, not may/encrypt");
	TEST(t_wildcards, "RFC 6125 wildcards, dot names, addresses");
	TEST(t_untrusted, "expired and self-signed certificates");
	TEST(t_system_store, "the system store does not trust the test CA");
	TEST(t_old_protocol, "a TLS 1.1-only server is refused");
	TEST(t_silent_and_plain, "a silent peer times out; plaintext fails");
	TEST(t_no_plaintext_after_close, "nothing read after close_notify");
	TEST(t_log_text, "log text: a hostile CN, the buffer limit");
	TEST(t_smtpio, "smtpio over TLS; plaintext after 220 refused");
	tls_ctx_free(ctx);
	cred_free(&ca);
	unlink(cafile);
	rmdir(dir);
	return test_done();
}
