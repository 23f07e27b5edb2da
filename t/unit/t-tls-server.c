/*
 * t-tls-server.c - unit tests for the server side of common/tls: the
 * context's files (missing, garbage, a key that does not match, a key
 * with a passphrase, a chain, certificate and key in one file), and
 * handshakes with OpenSSL clients forked from this program over a
 * socketpair, a duplicated socketpair and two pipes: TLS 1.3 and 1.2,
 * 1.1 and 1.0 refused, plaintext and HTTP where a ClientHello should
 * be, a silent client, a client that hangs up, no tickets, no
 * renegotiation, writes that wait on the write descriptor, and
 * nothing read after close_notify or an error
 *
 * "t-tls-server serve -c cert [options]" is a one-connection server
 * for t/t8100-tls-server.sh (openssl s_client peers), and
 * "t-tls-server poke PORT [options]" a plaintext client; see
 * drv_usage().
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "common/buf.h"
#include "common/log.h"
#include "common/tls.h"
#include "common/util.h"
#include "t/unit/certs.h"
#include "t/unit/tap.h"

#define WAIT_MS		10000	/* the longest wait for a peer */
#define LINE_MAX_T	1024
#define BULK_N		(1024 * 1024)	/* bytes the server sends at once */
#define POKE_PAUSE_MS	200	/* between a plaintext client's writes */
#define SLOW_MS		300	/* a slow client's pause */
#define PIPE_SMALL	4096	/* the least pipe buffer Linux allows */
#define BIG_SANS	300	/* a certificate larger than PIPE_SMALL */

/* what a forked client does; it exits 0 when all went as expected */
enum cli_mode {
	CLI_ECHO = 0,		/* "hello", its echo, no ticket, close_notify */
	CLI_BULK,		/* "bulk", read BULK_N bytes slowly, "done" */
	CLI_CLOSE_PLAIN,	/* "hello", close_notify, "RSET" in plaintext */
	CLI_HANGUP,		/* "hello", then away without close_notify */
	CLI_BAD_RECORD,		/* "hello", a forged record, "RSET" */
	CLI_RENEG,		/* ask to renegotiate: refused */
	CLI_REFUSED,		/* the handshake must fail */
	CLI_VERIFY,		/* correo's client at verify, then echo */
};

struct cli {
	enum cli_mode	 mode;
	int		 minver, maxver;	/* 0: OpenSSL's defaults */
	int		 seclevel0;		/* allow TLS 1.0/1.1 */
	int		 slow;		/* pause after the ServerHello */
};

/* descriptors: the server's read and write ends, the client's */
struct conn {
	int		 srfd, swfd;
	int		 crfd, cwfd;
};

static char		 dir[256];
static char		 cafile[300], pemfile[300], crtfile[300];
static char		 keyfile[300], otherkey[300], chainfile[300];
static char		 leafkey[300], badfile[300], encfile[300];
static char		 bigfile[300];
static struct cred	 ca, inter, leaf, chained, other, big;
static struct tls_ctx	*sctx;

/* starts - whether s starts with prefix */
static int
starts(const char *s, const char *prefix)
{
	if (strncmp(s, prefix, strlen(prefix)) == 0)
		return 1;
	tap_diag("\"%s\" does not start with \"%s\"", s, prefix);
	return 0;
}

/* has - whether s contains sub */
static int
has(const char *s, const char *sub)
{
	if (strstr(s, sub) != NULL)
		return 1;
	tap_diag("\"%s\" does not contain \"%s\"", s, sub);
	return 0;
}

/*
 * pem_write - write path: cert, then extra (a chain certificate), then
 * key (each may be NULL), the key encrypted with "secret" when enc
 */
static int
pem_write(const char *path, X509 *cert, X509 *extra, EVP_PKEY *key,
    int enc)
{
	static char	 pass[] = "secret";
	FILE		*fp;
	int		 ok = 1;

	if ((fp = fopen(path, "w")) == NULL)
		return -1;
	if (cert != NULL && PEM_write_X509(fp, cert) != 1)
		ok = 0;
	if (extra != NULL && PEM_write_X509(fp, extra) != 1)
		ok = 0;
	if (key != NULL && PEM_write_PrivateKey(fp, key,
	    enc ? EVP_aes_256_cbc() : NULL, enc ? (unsigned char *)pass :
	    NULL, enc ? (int)strlen(pass) : 0, NULL, NULL) != 1)
		ok = 0;
	if (fclose(fp) != 0)
		ok = 0;
	return ok ? 0 : -1;
}

/* file_write - write text to path */
static int
file_write(const char *path, const char *text)
{
	FILE	*fp;

	if ((fp = fopen(path, "w")) == NULL)
		return -1;
	fputs(text, fp);
	return fclose(fp) == 0 ? 0 : -1;
}

/*
 * sess_getline - one line from the session into b, polling the
 * descriptor tls_want_fd() names; its length, 0 at EOF, -1 with errno
 */
static ssize_t
sess_getline(struct tls *t, struct buf *b)
{
	char	 c;
	ssize_t	 n;
	int	 rc;

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
		rc = poll_until(tls_want_fd(t), tls_want(t),
		    now_ms() + WAIT_MS);
		if (rc != 1) {
			errno = ETIMEDOUT;
			return -1;
		}
	}
}

/*
 * sess_putall - write everything, polling the descriptor tls_want_fd()
 * names; counts the waits for POLLOUT in *outwaits (may be NULL)
 */
static int
sess_putall(struct tls *t, const void *p, size_t len, int *outwaits)
{
	const char	*s = p;
	ssize_t		 n;

	while (len > 0) {
		if ((n = tls_write(t, s, len)) > 0) {
			s += n;
			len -= (size_t)n;
			continue;
		}
		if (n == -1 && errno != EAGAIN)
			return -1;
		if (tls_want(t) == POLLOUT && outwaits != NULL)
			(*outwaits)++;
		if (poll_until(tls_want_fd(t), tls_want(t),
		    now_ms() + WAIT_MS) != 1) {
			errno = ETIMEDOUT;
			return -1;
		}
	}
	return 0;
}

/* ssl_line - read a line with SSL_read into buf; its length or -1 */
static int
ssl_line(SSL *ssl, char *buf, size_t size)
{
	size_t	 len = 0;
	char	 c;

	while (len + 1 < size) {
		if (SSL_read(ssl, &c, 1) != 1)
			return -1;
		buf[len++] = c;
		if (c == '\n')
			break;
	}
	buf[len] = '\0';
	return (int)len;
}

/* raw_drain - read fd until EOF or error */
static void
raw_drain(int fd)
{
	char	 b[512];

	while (read(fd, b, sizeof(b)) > 0)
		;
}

/* client_verify - correo's own client at level verify on fd; exits */
static void
client_verify(int fd)
{
	struct tls_ctx	*cc;
	struct tls	*t;
	struct buf	 why, b;

	buf_init(&why, 1024);
	buf_init(&b, 1024);
	if ((cc = tls_client_ctx_new(cafile, NULL, &why)) == NULL)
		_exit(10);
	if (tls_client_start(cc, fd, 5, TLS_LEV_VERIFY, "mx.example.org",
	    NULL, &t, &why) != TLS_OK)
		_exit(11);
	if (tls_trust(t) != TLS_TRUST_VERIFIED)
		_exit(12);
	if (sess_putall(t, "hello\r\n", 7, NULL) != 0 ||
	    sess_getline(t, &b) != 7 || strcmp(buf_str(&b), "hello\r\n") != 0)
		_exit(13);
	tls_free(t);
	_exit(0);
}

/*
 * slow_cb - pause once the ServerHello is in, with the rest of the
 * server's flight still in the pipe (the ClientHello's own callback
 * comes before OpenSSL flushes it)
 */
static void
slow_cb(int write_p, int version, int type, const void *p, size_t len,
    SSL *ssl, void *arg)
{
	(void)version;
	(void)ssl;
	(void)arg;
	if (!write_p && type == SSL3_RT_HANDSHAKE && len > 0 &&
	    *(const unsigned char *)p == SSL3_MT_SERVER_HELLO)
		usleep(SLOW_MS * 1000);
}

/* client - an OpenSSL client on rfd/wfd doing c->mode; exits */
static void
client(int rfd, int wfd, const struct cli *c)
{
	static const char	 forged[] = "\027\003\003\000\005hello";
	SSL_SESSION		*ss;
	SSL_CTX			*cc;
	SSL			*ssl;
	char			 line[LINE_MAX_T];
	unsigned char		*bulk;
	size_t			 i, got;
	int			 n, r;

	signal(SIGPIPE, SIG_IGN);
	alarm(WAIT_MS / 1000);
	if (c->mode == CLI_VERIFY)
		client_verify(rfd);
	if ((cc = SSL_CTX_new(TLS_client_method())) == NULL)
		_exit(2);
	SSL_CTX_set_verify(cc, SSL_VERIFY_NONE, NULL);
	if (c->seclevel0) {
		SSL_CTX_set_security_level(cc, 0);
		(void)SSL_CTX_set_cipher_list(cc, "DEFAULT@SECLEVEL=0");
	}
	if ((c->minver != 0 &&
	    SSL_CTX_set_min_proto_version(cc, c->minver) != 1) ||
	    (c->maxver != 0 &&
	    SSL_CTX_set_max_proto_version(cc, c->maxver) != 1))
		_exit(3);
	if ((ssl = SSL_new(cc)) == NULL || SSL_set_rfd(ssl, rfd) != 1 ||
	    SSL_set_wfd(ssl, wfd) != 1)
		_exit(2);
	if (c->slow)
		SSL_set_msg_callback(ssl, slow_cb);
	r = SSL_connect(ssl);
	if (c->mode == CLI_REFUSED) {
		raw_drain(rfd);
		_exit(r == 1 ? 4 : 0);
	}
	if (r != 1)
		_exit(4);
	switch (c->mode) {
	case CLI_ECHO:
		if (SSL_write(ssl, "hello\r\n", 7) != 7 ||
		    ssl_line(ssl, line, sizeof(line)) != 7 ||
		    strcmp(line, "hello\r\n") != 0)
			_exit(5);
		/* any ticket came before the echo */
		ss = SSL_get1_session(ssl);
		n = ss != NULL && SSL_SESSION_has_ticket(ss);
		SSL_SESSION_free(ss);
		if (n)
			_exit(6);
		SSL_shutdown(ssl);
		raw_drain(rfd);
		_exit(0);
	case CLI_BULK:
		if (SSL_write(ssl, "bulk\n", 5) != 5 ||
		    (bulk = malloc(BULK_N)) == NULL)
			_exit(5);
		/* let the server fill the pipe and wait */
		usleep(300000);
		for (got = 0; got < BULK_N; got += (size_t)n)
			if ((n = SSL_read(ssl, bulk + got,
			    (int)(BULK_N - got))) <= 0)
				_exit(6);
		for (i = 0; i < BULK_N; i++)
			if (bulk[i] != (unsigned char)(i % 251))
				_exit(7);
		free(bulk);
		if (SSL_write(ssl, "done\n", 5) != 5)
			_exit(8);
		SSL_shutdown(ssl);
		raw_drain(rfd);
		_exit(0);
	case CLI_CLOSE_PLAIN:
		if (SSL_write(ssl, "hello\n", 6) != 6)
			_exit(5);
		SSL_shutdown(ssl);
		if (write_all(wfd, "RSET\r\n", 6) != 6)
			_exit(6);
		raw_drain(rfd);
		_exit(0);
	case CLI_HANGUP:
		if (SSL_write(ssl, "hello\n", 6) != 6)
			_exit(5);
		_exit(0);
	case CLI_BAD_RECORD:
		if (SSL_write(ssl, "hello\n", 6) != 6)
			_exit(5);
		usleep(100000);
		if (write_all(wfd, forged, sizeof(forged) - 1) !=
		    (ssize_t)sizeof(forged) - 1)
			_exit(6);
		usleep(100000);
		if (write_all(wfd, "RSET\r\n", 6) != 6)
			_exit(6);
		raw_drain(rfd);
		_exit(0);
	case CLI_RENEG:
		if (SSL_renegotiate(ssl) != 1)
			_exit(5);
		r = SSL_do_handshake(ssl);
		raw_drain(rfd);
		_exit(r == 1 ? 6 : 0);
	default:
		_exit(9);
	}
}

/* conn_socket - one socketpair; rfd == wfd on both sides */
static int
conn_socket(struct conn *c)
{
	int	 sv[2];

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == -1)
		return -1;
	c->srfd = c->swfd = sv[0];
	c->crfd = c->cwfd = sv[1];
	return 0;
}

/* conn_dup - one socketpair, the server's side duplicated: rfd != wfd */
static int
conn_dup(struct conn *c)
{
	if (conn_socket(c) != 0)
		return -1;
	if ((c->swfd = dup(c->srfd)) == -1)
		return -1;
	return 0;
}

/* conn_pipes - two pipes: each side reads one and writes the other */
static int
conn_pipes(struct conn *c)
{
	int	 up[2], down[2];

	if (pipe(up) == -1)
		return -1;
	if (pipe(down) == -1) {
		close(up[0]);
		close(up[1]);
		return -1;
	}
	c->srfd = up[0];
	c->cwfd = up[1];
	c->crfd = down[0];
	c->swfd = down[1];
	return 0;
}

/* conn_small_pipes - two pipes, the server's writes into PIPE_SMALL */
static int
conn_small_pipes(struct conn *c)
{
	if (conn_pipes(c) != 0)
		return -1;
	if (fcntl(c->swfd, F_SETPIPE_SZ, PIPE_SMALL) == -1)
		return -1;
	return 0;
}

/* fd_close - close fd unless it is -1 or the same as other */
static void
fd_close(int *fd, int keep)
{
	if (*fd != -1 && *fd != keep)
		close(*fd);
	*fd = -1;
}

/* conn_close_server - close the server's descriptors */
static void
conn_close_server(struct conn *c)
{
	fd_close(&c->swfd, c->srfd);
	fd_close(&c->srfd, -1);
}

/* conn_close_client - close the client's descriptors */
static void
conn_close_client(struct conn *c)
{
	fd_close(&c->cwfd, c->crfd);
	fd_close(&c->crfd, -1);
}

/* cli_start - fork a client doing cli on c's client side */
static pid_t
cli_start(struct conn *c, const struct cli *cli)
{
	pid_t	 pid;

	if ((pid = fork()) == -1)
		return -1;
	if (pid == 0) {
		conn_close_server(c);
		client(c->crfd, c->cwfd, cli);
	}
	conn_close_client(c);
	return pid;
}

/* cli_wait - the client's exit status, killing it after a while */
static int
cli_wait(pid_t pid)
{
	int	 i, st;

	if (pid <= 0)
		return -1;
	for (i = 0; i < WAIT_MS / 10; i++) {
		if (waitpid(pid, &st, WNOHANG) == pid)
			return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
		usleep(10000);
	}
	kill(pid, SIGKILL);
	waitpid(pid, &st, 0);
	return -1;
}

/*
 * start - a connection made by mk, a client doing cli on it, and the
 * server handshake with sctx; the status, the session in *tp
 */
static int
start(int (*mk)(struct conn *), const struct cli *cli, struct conn *c,
    pid_t *pid, struct tls **tp, struct buf *why)
{
	int	 rc;

	*tp = NULL;
	*pid = -1;
	c->srfd = c->swfd = c->crfd = c->cwfd = -1;
	if (mk(c) != 0 || (*pid = cli_start(c, cli)) == -1)
		return -100;
	rc = tls_server_start(sctx, c->srfd, c->swfd, 5, tp, why);
	if (rc != TLS_OK)
		tap_diag("server start: %s: %s", tls_strerror(rc),
		    buf_str(why));
	return rc;
}

/* finish - free the session, close the server's side; client's status */
static int
finish(struct conn *c, pid_t pid, struct tls *t)
{
	int	 st;

	tls_free(t);
	conn_close_server(c);
	st = cli_wait(pid);
	if (st != 0)
		tap_diag("client exit status %d", st);
	return st;
}

static void
t_ctx(void)
{
	struct tls_ctx	*c, *cc;
	struct tls	*t = (struct tls *)&t;
	struct buf	 why;
	char		 path[300];
	int		 sv[2];

	buf_init(&why, 4096);
	/* certificate and key in one file, or apart */
	c = tls_server_ctx_new(pemfile, NULL, &why);
	check(c != NULL);
	tls_ctx_free(c);
	c = tls_server_ctx_new(pemfile, "", &why);
	check(c != NULL);
	tls_ctx_free(c);
	c = tls_server_ctx_new(crtfile, keyfile, &why);
	check(c != NULL);
	tls_ctx_free(c);

	/* errors name the file */
	bsnprintf(path, sizeof(path), "%s/missing.pem", dir);
	check(tls_server_ctx_new(path, NULL, &why) == NULL);
	check(starts(buf_str(&why), "cannot load certificate "));
	check(has(buf_str(&why), "/missing.pem: No such file or directory"));
	check(tls_server_ctx_new(crtfile, path, &why) == NULL);
	check(starts(buf_str(&why), "cannot load key "));
	check(has(buf_str(&why), "/missing.pem: No such file or directory"));
	check(tls_server_ctx_new(badfile, keyfile, &why) == NULL);
	check(starts(buf_str(&why), "cannot load certificate "));
	check(has(buf_str(&why), "/garbage.pem: error:"));
	tap_diag("%s", buf_str(&why));
	/* a file without a key as the key, without a certificate as one */
	check(tls_server_ctx_new(crtfile, NULL, &why) == NULL);
	check(starts(buf_str(&why), "cannot load key "));
	check(has(buf_str(&why), "/mx.crt: no PEM private key in the file"));
	check(tls_server_ctx_new(keyfile, keyfile, &why) == NULL);
	check(starts(buf_str(&why), "cannot load certificate "));
	check(has(buf_str(&why), "/mx.key: no PEM certificate in the file"));
	/* a key that is not the certificate's */
	check(tls_server_ctx_new(crtfile, otherkey, &why) == NULL);
	check(starts(buf_str(&why), "key "));
	check(has(buf_str(&why), "/other.key does not match certificate "));
	check(has(buf_str(&why), "/mx.crt"));
	/* a key with a passphrase: refused, never prompted for */
	check(tls_server_ctx_new(crtfile, encfile, &why) == NULL);
	check(starts(buf_str(&why), "cannot load key "));
	check(has(buf_str(&why), "/enc.key: it has a passphrase (not "
	    "supported)"));
	check(tls_server_ctx_new(NULL, keyfile, &why) == NULL);
	check_str(buf_str(&why), "TLS: no certificate file");
	check(tls_server_ctx_new("", NULL, &why) == NULL);
	check_str(buf_str(&why), "TLS: no certificate file");
	if (getuid() != 0) {
		check_int(chmod(keyfile, 0), ==, 0);
		check(tls_server_ctx_new(crtfile, keyfile, &why) == NULL);
		check(has(buf_str(&why), "/mx.key: Permission denied"));
		check_int(chmod(keyfile, 0600), ==, 0);
	}
	check_int(ERR_peek_error(), ==, 0);

	/* a server context is no client's, and the other way round */
	check_int(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), ==, 0);
	check_int(tls_client_start(sctx, sv[0], 1, TLS_LEV_MAY, "x", NULL, &t,
	    &why), ==, TLS_CONFIG);
	check(t == NULL);
	cc = tls_client_ctx_new(cafile, NULL, &why);
	check(cc != NULL);
	t = (struct tls *)&t;
	check_int(tls_server_start(cc, sv[0], sv[0], 1, &t, &why), ==,
	    TLS_CONFIG);
	check(t == NULL);
	check_int(tls_server_start(NULL, sv[0], sv[0], 1, &t, &why), ==,
	    TLS_CONFIG);
	check_int(tls_server_start(sctx, -1, sv[0], 1, &t, &why), ==,
	    TLS_CONFIG);
	check_int(tls_server_start(sctx, sv[0], -1, 1, &t, &why), ==,
	    TLS_CONFIG);
	check_str(buf_str(&why), "TLS: bad arguments");
	tls_ctx_free(cc);
	close(sv[0]);
	close(sv[1]);
	buf_free(&why);
}

static void
t_tls13(void)
{
	struct cli	 cli = { CLI_ECHO, 0, 0, 0, 0 };
	struct conn	 c;
	struct tls	*t;
	struct buf	 why, b;
	pid_t		 pid;

	buf_init(&why, 1024);
	buf_init(&b, 1024);
	check_int(start(conn_socket, &cli, &c, &pid, &t, &why), ==, TLS_OK);
	if (t != NULL) {
		check_str(tls_version_name(t), "TLSv1.3");
		check(starts(tls_cipher_name(t), "TLS_"));
		check_int(tls_trust(t), ==, TLS_TRUST_ANONYMOUS);
		check(!tls_trusted(t));
		check_int(tls_info(t, &b), ==, BUF_OK);
		check(starts(buf_str(&b), "TLSv1.3 with cipher TLS_"));
		check(has(buf_str(&b), tls_cipher_name(t)));
		check(has(buf_str(&b), " bits)"));
		buf_reset(&b);
		check_int(tls_established(t, "client.example[192.0.2.1]", &b),
		    ==, BUF_OK);
		check(starts(buf_str(&b), "Anonymous TLS connection "
		    "established from client.example[192.0.2.1]: TLSv1.3 "
		    "with cipher TLS_"));
		tap_diag("%s", buf_str(&b));
		buf_reset(&b);
		check_int(tls_peer_cn(t, &b), ==, BUF_OK);
		check_str(buf_str(&b), "");
		check_int(tls_want_fd(t), ==, c.srfd);
		check_int(sess_getline(t, &b), ==, 7);
		check_str(buf_str(&b), "hello\r\n");
		check_int(sess_putall(t, b.data, b.len, NULL), ==, 0);
		/* the client's close_notify: EOF, for ever */
		check_int(sess_getline(t, &b), ==, 0);
		check_int(tls_read(t, &b, 0), ==, 0);
		errno = 0;
		check_int(tls_write(t, "221 bye\r\n", 9), ==, -1);
		check_int(errno, ==, EPIPE);
	}
	check_int(finish(&c, pid, t), ==, 0);
	buf_free(&b);
	buf_free(&why);
}

static void
t_tls12(void)
{
	struct cli	 cli = { CLI_ECHO, 0, TLS1_2_VERSION, 0, 0 };
	struct conn	 c;
	struct tls	*t;
	struct buf	 why, b;
	pid_t		 pid;

	buf_init(&why, 1024);
	buf_init(&b, 1024);
	check_int(start(conn_socket, &cli, &c, &pid, &t, &why), ==, TLS_OK);
	if (t != NULL) {
		check_str(tls_version_name(t), "TLSv1.2");
		/* forward secrecy, an AEAD: OpenSSL's defaults */
		check(starts(tls_cipher_name(t), "ECDHE-ECDSA-"));
		check_int(tls_info(t, &b), ==, BUF_OK);
		check(starts(buf_str(&b), "TLSv1.2 with cipher ECDHE-"));
		tap_diag("%s", buf_str(&b));
		check_int(sess_getline(t, &b), ==, 7);
		check_int(sess_putall(t, b.data, b.len, NULL), ==, 0);
		check_int(sess_getline(t, &b), ==, 0);
	}
	check_int(finish(&c, pid, t), ==, 0);
	buf_free(&b);
	buf_free(&why);
}

static void
t_old_versions(void)
{
	static const struct {
		int		 ver;
		const char	*name;
	} old[] = {
		{ TLS1_1_VERSION, "TLS 1.1" },
		{ TLS1_VERSION, "TLS 1.0" },
	};
	struct cli	 cli = { CLI_REFUSED, 0, 0, 1, 0 };
	struct conn	 c;
	struct tls	*t;
	struct buf	 why;
	pid_t		 pid;
	size_t		 i;

	buf_init(&why, 1024);
	for (i = 0; i < nitems(old); i++) {
		cli.minver = cli.maxver = old[i].ver;
		check_int(start(conn_socket, &cli, &c, &pid, &t, &why), ==,
		    TLS_PROTO);
		check(t == NULL);
		check(starts(buf_str(&why), "TLS handshake failed: error:"));
		check(has(buf_str(&why), "unsupported protocol"));
		tap_diag("%s: %s", old[i].name, buf_str(&why));
		check_int(finish(&c, pid, t), ==, 0);
	}
	/* a client that would take 1.1 or 1.2 gets 1.2 */
	cli.mode = CLI_ECHO;
	cli.minver = TLS1_1_VERSION;
	cli.maxver = TLS1_2_VERSION;
	check_int(start(conn_socket, &cli, &c, &pid, &t, &why), ==, TLS_OK);
	if (t != NULL) {
		struct buf	 b;

		buf_init(&b, 1024);
		check_str(tls_version_name(t), "TLSv1.2");
		check_int(sess_getline(t, &b), ==, 7);
		check_int(sess_putall(t, b.data, b.len, NULL), ==, 0);
		buf_free(&b);
	}
	check_int(finish(&c, pid, t), ==, 0);
	buf_free(&why);
}

/* raw_start - the server handshake after a plaintext client's bytes */
static int
raw_start(const char *bytes, size_t len, int hangup, int timeout,
    struct buf *why, long *ms)
{
	struct tls	*t = (struct tls *)&t;
	long long	 t0;
	int		 sv[2], rc;

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == -1)
		return -100;
	if (len > 0 && write_all(sv[1], bytes, len) != (ssize_t)len)
		return -100;
	if (hangup) {
		close(sv[1]);
		sv[1] = -1;
	}
	t0 = now_ms();
	rc = tls_server_start(sctx, sv[0], sv[0], timeout, &t, why);
	if (ms != NULL)
		*ms = (long)(now_ms() - t0);
	if (t != NULL) {
		tap_diag("a session where none should be");
		rc = -101;
	}
	tls_free(t);
	close(sv[0]);
	if (sv[1] != -1)
		close(sv[1]);
	return rc;
}

static void
t_not_tls(void)
{
	static const char	 part[] = "\026\003\001\001\000\001\000";
	struct buf		 why;
	long			 ms;

	buf_init(&why, 1024);
	/* SMTP where a ClientHello should be, as after STARTTLS + RSET */
	check_int(raw_start("EHLO client.example\r\n", 21, 0, 5, &why, NULL),
	    ==, TLS_PROTO);
	check(starts(buf_str(&why), "TLS handshake failed: error:"));
	check(has(buf_str(&why), "wrong version number"));
	tap_diag("%s", buf_str(&why));
	check_int(raw_start("RSET\r\n\026\003\001\000\005", 11, 0, 5, &why,
	    NULL), ==, TLS_PROTO);
	check(has(buf_str(&why), "wrong version number"));
	check_int(raw_start("GET / HTTP/1.1\r\n\r\n", 18, 0, 5, &why, NULL),
	    ==, TLS_PROTO);
	check(has(buf_str(&why), "http request"));
	/* a silent client: TLS_TIMEOUT after the timeout */
	check_int(raw_start("", 0, 0, 1, &why, &ms), ==, TLS_TIMEOUT);
	check_str(buf_str(&why), "TLS handshake: timed out");
	check_int(ms, >=, 900);
	check_int(ms, <, 3000);
	/* a few bytes then nothing: the whole handshake is bounded */
	check_int(raw_start(part, 3, 0, 1, &why, &ms), ==, TLS_TIMEOUT);
	check_int(ms, <, 3000);
	/* the client hangs up at once, or halfway through its hello */
	check_int(raw_start("", 0, 1, 5, &why, NULL), ==, TLS_EOF);
	check_str(buf_str(&why), "TLS handshake: lost connection");
	check_int(raw_start(part, sizeof(part) - 1, 1, 5, &why, NULL), ==,
	    TLS_EOF);
	check_str(buf_str(&why), "TLS handshake: lost connection");
	check_int(ERR_peek_error(), ==, 0);
	buf_free(&why);
}

static void
t_split_fds(void)
{
	struct cli	 cli = { CLI_ECHO, 0, 0, 0, 0 };
	struct tls_ctx	*bctx, *save = sctx;
	struct conn	 c;
	struct tls	*t;
	struct buf	 why, b;
	unsigned char	*bulk;
	long long	 t0;
	size_t		 i;
	pid_t		 pid;
	int		 waits = 0;

	buf_init(&why, 1024);
	buf_init(&b, 1024);
	/* one socket on two descriptors, as fd 0 and fd 1 under inetd */
	check_int(start(conn_dup, &cli, &c, &pid, &t, &why), ==, TLS_OK);
	check(c.srfd != c.swfd);
	if (t != NULL) {
		check_int(sess_getline(t, &b), ==, 7);
		check_int(sess_putall(t, b.data, b.len, NULL), ==, 0);
		check_int(sess_getline(t, &b), ==, 0);
	}
	check_int(finish(&c, pid, t), ==, 0);

	/* two pipes: reads wait on one, writes on the other */
	check_int(start(conn_pipes, &cli, &c, &pid, &t, &why), ==, TLS_OK);
	if (t != NULL) {
		check_int(sess_getline(t, &b), ==, 7);
		check_str(buf_str(&b), "hello\r\n");
		check_int(sess_putall(t, b.data, b.len, NULL), ==, 0);
		check_int(sess_getline(t, &b), ==, 0);
	}
	check_int(finish(&c, pid, t), ==, 0);

	/* more than a pipe holds: writes wait for POLLOUT on wfd */
	cli.mode = CLI_BULK;
	check_int(start(conn_pipes, &cli, &c, &pid, &t, &why), ==, TLS_OK);
	if (t != NULL && (bulk = malloc(BULK_N)) != NULL) {
		for (i = 0; i < BULK_N; i++)
			bulk[i] = (unsigned char)(i % 251);
		check_int(sess_getline(t, &b), ==, 5);
		check_str(buf_str(&b), "bulk\n");
		check_int(sess_putall(t, bulk, BULK_N, &waits), ==, 0);
		check_int(waits, >, 0);
		check_int(sess_getline(t, &b), ==, 5);
		check_str(buf_str(&b), "done\n");
		check_int(sess_getline(t, &b), ==, 0);
		free(bulk);
	}
	check_int(finish(&c, pid, t), ==, 0);

	/*
	 * A handshake flight larger than the pipe, to a client that reads
	 * it late: the handshake itself waits for POLLOUT on wfd
	 */
	cli.mode = CLI_ECHO;
	cli.slow = 1;
	if (!check((bctx = tls_server_ctx_new(bigfile, NULL, &why)) !=
	    NULL)) {
		tap_diag("%s", buf_str(&why));
	} else {
		sctx = bctx;
		t0 = now_ms();
		check_int(start(conn_small_pipes, &cli, &c, &pid, &t, &why),
		    ==, TLS_OK);
		check_int(now_ms() - t0, >=, SLOW_MS - 50);
		if (t != NULL) {
			check_int(sess_getline(t, &b), ==, 7);
			check_int(sess_putall(t, b.data, b.len, NULL), ==, 0);
			check_int(sess_getline(t, &b), ==, 0);
		}
		check_int(finish(&c, pid, t), ==, 0);
		sctx = save;
		tls_ctx_free(bctx);
	}
	buf_free(&b);
	buf_free(&why);
}

static void
t_after_close(void)
{
	struct cli	 cli = { CLI_CLOSE_PLAIN, 0, 0, 0, 0 };
	struct conn	 c;
	struct tls	*t;
	struct buf	 why, b;
	char		 raw[64];
	pid_t		 pid;

	buf_init(&why, 1024);
	buf_init(&b, 1024);
	/* close_notify, then "RSET" in plaintext: never read */
	check_int(start(conn_socket, &cli, &c, &pid, &t, &why), ==, TLS_OK);
	if (t != NULL) {
		check_int(sess_getline(t, &b), ==, 6);
		check_str(buf_str(&b), "hello\n");
		check_int(sess_getline(t, &b), ==, 0);
		check_int(tls_read(t, raw, sizeof(raw)), ==, 0);
		usleep(100000);
		check_int(tls_read(t, raw, sizeof(raw)), ==, 0);
		check_int(tls_pending(t), ==, 0);
		check_int(recv(c.srfd, raw, sizeof(raw), MSG_PEEK), ==, 6);
		check_mem(raw, 4, "RSET", 4);
	}
	check_int(finish(&c, pid, t), ==, 0);

	/* the client goes away without close_notify: EOF all the same */
	cli.mode = CLI_HANGUP;
	check_int(start(conn_socket, &cli, &c, &pid, &t, &why), ==, TLS_OK);
	if (t != NULL) {
		check_int(sess_getline(t, &b), ==, 6);
		check_int(sess_getline(t, &b), ==, 0);
		check_int(tls_read(t, raw, sizeof(raw)), ==, 0);
		errno = 0;
		check_int(tls_write(t, "421 bye\r\n", 9), ==, -1);
		check_int(errno, ==, EPIPE);
	}
	check_int(finish(&c, pid, t), ==, 0);

	/* a forged record: an error, for ever, and "RSET" never read */
	cli.mode = CLI_BAD_RECORD;
	check_int(start(conn_socket, &cli, &c, &pid, &t, &why), ==, TLS_OK);
	if (t != NULL) {
		check_int(sess_getline(t, &b), ==, 6);
		errno = 0;
		check_int(sess_getline(t, &b), ==, -1);
		check_int(errno, ==, EIO);
		usleep(200000);
		errno = 0;
		check_int(tls_read(t, raw, sizeof(raw)), ==, -1);
		check_int(errno, ==, EIO);
		errno = 0;
		check_int(tls_write(t, "250 ok\r\n", 8), ==, -1);
		check_int(errno, ==, EIO);
		check_int(tls_pending(t), ==, 0);
		check_int(recv(c.srfd, raw, sizeof(raw), MSG_PEEK), ==, 6);
		check_mem(raw, 4, "RSET", 4);
	}
	check_int(finish(&c, pid, t), ==, 0);
	check_int(ERR_peek_error(), ==, 0);
	buf_free(&b);
	buf_free(&why);
}

static void
t_no_reneg(void)
{
	struct cli	 cli = { CLI_RENEG, 0, TLS1_2_VERSION, 0, 0 };
	struct conn	 c;
	struct tls	*t;
	struct buf	 why, b;
	pid_t		 pid;

	buf_init(&why, 1024);
	buf_init(&b, 1024);
	check_int(start(conn_socket, &cli, &c, &pid, &t, &why), ==, TLS_OK);
	if (t != NULL) {
		/*
		 * the client gives up after our no_renegotiation (OpenSSL
		 * 3 refuses a client's renegotiation by default too; 1.1.1
		 * needs SSL_OP_NO_RENEGOTIATION)
		 */
		check_int(sess_getline(t, &b), <=, 0);
		check_int(tls_read(t, &b, 1), <=, 0);
	}
	check_int(finish(&c, pid, t), ==, 0);
	buf_free(&b);
	buf_free(&why);
}

static void
t_chain(void)
{
	struct cli	 cli = { CLI_VERIFY, 0, 0, 0, 0 };
	struct tls_ctx	*save = sctx;
	struct conn	 c;
	struct tls	*t;
	struct buf	 why, b;
	pid_t		 pid;

	buf_init(&why, 1024);
	buf_init(&b, 1024);
	/* leaf + intermediate: a client trusting the root verifies */
	sctx = tls_server_ctx_new(chainfile, leafkey, &why);
	if (!check(sctx != NULL)) {
		tap_diag("%s", buf_str(&why));
		sctx = save;
		return;
	}
	check_int(start(conn_socket, &cli, &c, &pid, &t, &why), ==, TLS_OK);
	if (t != NULL) {
		check_int(sess_getline(t, &b), ==, 7);
		check_int(sess_putall(t, b.data, b.len, NULL), ==, 0);
	}
	check_int(finish(&c, pid, t), ==, 0);
	tls_ctx_free(sctx);
	sctx = save;
	buf_free(&b);
	buf_free(&why);
}

/* setup - the CA, an intermediate, certificates and their files */
static int
setup(void)
{
	struct buf	 why, sans;
	size_t		 i;
	int		 ok = 0;

	buf_init(&sans, 65536);
	if (cred_make(&ca, "correo test CA", NULL, -CERT_DAY, CERT_DAY, NULL, 1) != 0 ||
	    cred_make(&inter, "correo test intermediate", NULL, -CERT_DAY, CERT_DAY,
	    &ca, 1) != 0 ||
	    cred_make(&leaf, "mx.example.org", "DNS:mx.example.org", -CERT_DAY,
	    CERT_DAY, &ca, 0) != 0 ||
	    cred_make(&chained, "mx.example.org", "DNS:mx.example.org", -CERT_DAY,
	    CERT_DAY, &inter, 0) != 0 ||
	    cred_make(&other, "other.example.org", NULL, -CERT_DAY, CERT_DAY, &ca,
	    0) != 0 ||
	    buf_adds(&sans, "DNS:mx.example.org") != BUF_OK)
		goto fail;
	for (i = 0; i < BIG_SANS; i++)
		if (buf_printf(&sans, ",DNS:host%zu.example.org", i) != BUF_OK)
			goto fail;
	if (cred_make(&big, "mx.example.org", buf_str(&sans), -CERT_DAY, CERT_DAY, &ca,
	    0) != 0)
		goto fail;
	bsnprintf(cafile, sizeof(cafile), "%s/ca.crt", dir);
	bsnprintf(pemfile, sizeof(pemfile), "%s/mx.pem", dir);
	bsnprintf(crtfile, sizeof(crtfile), "%s/mx.crt", dir);
	bsnprintf(keyfile, sizeof(keyfile), "%s/mx.key", dir);
	bsnprintf(otherkey, sizeof(otherkey), "%s/other.key", dir);
	bsnprintf(chainfile, sizeof(chainfile), "%s/chain.crt", dir);
	bsnprintf(leafkey, sizeof(leafkey), "%s/chain.key", dir);
	bsnprintf(badfile, sizeof(badfile), "%s/garbage.pem", dir);
	bsnprintf(encfile, sizeof(encfile), "%s/enc.key", dir);
	bsnprintf(bigfile, sizeof(bigfile), "%s/big.pem", dir);
	if (pem_write(cafile, ca.cert, NULL, NULL, 0) != 0 ||
	    pem_write(pemfile, leaf.cert, NULL, leaf.key, 0) != 0 ||
	    pem_write(crtfile, leaf.cert, NULL, NULL, 0) != 0 ||
	    pem_write(keyfile, NULL, NULL, leaf.key, 0) != 0 ||
	    pem_write(otherkey, NULL, NULL, other.key, 0) != 0 ||
	    pem_write(chainfile, chained.cert, inter.cert, NULL, 0) != 0 ||
	    pem_write(leafkey, NULL, NULL, chained.key, 0) != 0 ||
	    pem_write(encfile, NULL, NULL, leaf.key, 1) != 0 ||
	    pem_write(bigfile, big.cert, NULL, big.key, 0) != 0 ||
	    file_write(badfile, "-----BEGIN CERTIFICATE-----\nnot base64"
	    "\n-----END CERTIFICATE-----\n") != 0)
		goto fail;
	buf_init(&why, 1024);
	sctx = tls_server_ctx_new(pemfile, NULL, &why);
	if (sctx == NULL)
		tap_diag("server context: %s", buf_str(&why));
	else
		ok = 1;
	buf_free(&why);
fail:
	buf_free(&sans);
	return ok ? 0 : -1;
}

/* cleanup - remove the files, release everything */
static void
cleanup(void)
{
	const char *const files[] = {
		cafile, pemfile, crtfile, keyfile, otherkey, chainfile,
		leafkey, badfile, encfile, bigfile,
	};
	size_t	 i;

	for (i = 0; i < nitems(files); i++)
		unlink(files[i]);
	rmdir(dir);
	tls_ctx_free(sctx);
	cred_free(&ca);
	cred_free(&inter);
	cred_free(&leaf);
	cred_free(&chained);
	cred_free(&other);
	cred_free(&big);
}

/* drv_usage - the driver modes' synopses */
static int
drv_usage(void)
{
	fprintf(stderr, "usage: t-tls-server serve -c certfile [-k keyfile] "
	    "[-p portfile] [-t timeout] [-n lines] [-d] [-S]\n"
	    "       t-tls-server poke PORT [-s text]... [-w seconds]\n");
	return 2;
}

/* drv_listen - a listening socket on 127.0.0.1, its port in portfile */
static int
drv_listen(const char *portfile)
{
	struct sockaddr_in	 sin;
	socklen_t		 len = sizeof(sin);
	char			 tmp[320], num[16];
	int			 fd;

	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return -1;
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1 ||
	    listen(fd, 1) == -1 ||
	    getsockname(fd, (struct sockaddr *)&sin, &len) == -1) {
		close(fd);
		return -1;
	}
	/* written whole, then renamed: a reader never sees half */
	if (bsnprintf(tmp, sizeof(tmp), "%s.tmp", portfile) != 0 ||
	    bsnprintf(num, sizeof(num), "%u\n", ntohs(sin.sin_port)) != 0 ||
	    file_write(tmp, num) != 0 || rename(tmp, portfile) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/*
 * drv_smtp - plaintext SMTP up to STARTTLS on fd: "220", 250 to EHLO
 * (with STARTTLS), 220 to STARTTLS; then whatever the client sent
 * after STARTTLS and we read is thrown away (CVE-2011-0411) and
 * counted.  0, or -1 when the client went away first
 */
static int
drv_smtp(int fd)
{
	char	 buf[4096];
	size_t	 len = 0, i;
	ssize_t	 n;

	if (write_all(fd, "220 mx.example.org ESMTP\r\n", 26) != 26)
		return -1;
	for (;;) {
		for (i = 0; i < len && buf[i] != '\n'; i++)
			;
		if (i == len) {
			if (len == sizeof(buf) ||
			    poll_until(fd, POLLIN, now_ms() + WAIT_MS) != 1 ||
			    (n = read(fd, buf + len, sizeof(buf) - len)) <= 0)
				return -1;
			len += (size_t)n;
			continue;
		}
		i++;
		printf("smtp: %.*s\n", (int)(i > 1 && buf[i - 2] == '\r' ?
		    i - 2 : i - 1), buf);
		if (strncasecmp(buf, "STARTTLS", 8) == 0) {
			if (write_all(fd, "220 2.0.0 Ready to start TLS\r\n",
			    30) != 30)
				return -1;
			printf("discarded: %zu\n", len - i);
			fflush(stdout);
			return 0;
		}
		if (strncasecmp(buf, "EHLO", 4) == 0)
			n = write_all(fd, "250-mx.example.org\r\n"
			    "250 STARTTLS\r\n", 34);
		else
			n = write_all(fd, "502 5.5.2 no\r\n", 14);
		if (n < 0)
			return -1;
		memmove(buf, buf + i, len - i);
		len -= i;
	}
}

/*
 * drv_serve - accept one connection on 127.0.0.1 (the port in -p's
 * file), optionally speak SMTP up to STARTTLS (-S), start TLS
 * (reading the socket and writing a duplicate of it with -d), print
 * the outcome, then echo -n lines back as "echo: LINE" and close
 */
static int
drv_serve(int argc, char **argv)
{
	const char	*cert = NULL, *key = NULL, *portfile = "port";
	struct sockaddr_in sin;
	socklen_t	 slen = sizeof(sin);
	struct tls_ctx	*c;
	struct tls	*t = NULL;
	struct buf	 why, b, out;
	long long	 tmo = 10, lines = 1;
	char		 addr[INET_ADDRSTRLEN], peer[INET_ADDRSTRLEN + 8];
	int		 ch, lfd, fd, rfd, wfd, dup_w = 0, smtp = 0, rc;

	optind = 1;
	while ((ch = getopt(argc, argv, "c:k:p:t:n:dS")) != -1) {
		switch (ch) {
		case 'c':
			cert = optarg;
			break;
		case 'k':
			key = optarg;
			break;
		case 'p':
			portfile = optarg;
			break;
		case 't':
			if (num_parse(optarg, 0, 3600, &tmo, NULL) != 0)
				return drv_usage();
			break;
		case 'n':
			if (num_parse(optarg, 0, 1000, &lines, NULL) != 0)
				return drv_usage();
			break;
		case 'd':
			dup_w = 1;
			break;
		case 'S':
			smtp = 1;
			break;
		default:
			return drv_usage();
		}
	}
	if (cert == NULL || optind != argc)
		return drv_usage();
	buf_init(&why, 4096);
	buf_init(&b, 4096);
	buf_init(&out, 4096);
	if ((c = tls_server_ctx_new(cert, key, &why)) == NULL) {
		printf("status: context: %s\n", buf_str(&why));
		return 1;
	}
	if ((lfd = drv_listen(portfile)) == -1) {
		printf("status: listen: %s\n", strerror(errno));
		return 1;
	}
	if ((fd = accept(lfd, (struct sockaddr *)&sin, &slen)) == -1) {
		printf("status: accept: %s\n", strerror(errno));
		return 1;
	}
	close(lfd);
	if (inet_ntop(AF_INET, &sin.sin_addr, addr, sizeof(addr)) == NULL ||
	    bsnprintf(peer, sizeof(peer), "[%s]", addr) != 0)
		return 1;
	if (smtp && drv_smtp(fd) != 0) {
		printf("status: smtp: the client went away\n");
		return 1;
	}
	rfd = fd;
	wfd = dup_w ? dup(fd) : fd;
	if (wfd == -1)
		return 1;
	printf("fds: %s\n", rfd == wfd ? "one" : "two");
	rc = tls_server_start(c, rfd, wfd, (int)tmo, &t, &why);
	if (rc != TLS_OK) {
		printf("status: %s: %s\n", tls_strerror(rc), buf_str(&why));
		fflush(stdout);
		if (wfd != rfd)
			close(wfd);
		close(rfd);
		tls_ctx_free(c);
		return 1;
	}
	printf("status: ok\nversion: %s\ncipher: %s\n", tls_version_name(t),
	    tls_cipher_name(t));
	(void)tls_info(t, &b);
	printf("received: (using %s)\n", buf_str(&b));
	buf_reset(&b);
	(void)tls_established(t, peer, &b);
	printf("log: %s\n", buf_str(&b));
	fflush(stdout);
	for (; lines > 0; lines--) {
		if ((rc = (int)sess_getline(t, &b)) <= 0) {
			printf("%s\n", rc == 0 ? "eof" : strerror(errno));
			break;
		}
		while (b.len > 0 && (b.data[b.len - 1] == '\n' ||
		    b.data[b.len - 1] == '\r'))
			b.data[--b.len] = '\0';
		printf("read: %s\n", buf_str(&b));
		buf_reset(&out);
		if (buf_printf(&out, "echo: %s\r\n", buf_str(&b)) != BUF_OK ||
		    sess_putall(t, out.data, out.len, NULL) != 0) {
			printf("write: %s\n", strerror(errno));
			break;
		}
	}
	tls_free(t);
	if (wfd != rfd)
		close(wfd);
	close(rfd);
	tls_ctx_free(c);
	buf_free(&out);
	buf_free(&b);
	buf_free(&why);
	return 0;
}

/* unescape - \r, \n, \t and \\ in s, in place */
static void
unescape(char *s)
{
	char	*d = s;

	for (; *s != '\0'; s++) {
		if (*s != '\\' || s[1] == '\0') {
			*d++ = *s;
			continue;
		}
		s++;
		*d++ = *s == 'r' ? '\r' : *s == 'n' ? '\n' :
		    *s == 't' ? '\t' : *s;
	}
	*d = '\0';
}

/*
 * drv_poke - a plaintext client: connect to 127.0.0.1:PORT, send each
 * -s text (\r, \n escapes) POKE_PAUSE_MS apart, then print what comes
 * back, log-safe, until EOF or -w seconds pass
 */
static int
drv_poke(int argc, char **argv)
{
	struct sockaddr_in	 sin;
	const char		*texts[16];
	char			 got[1024], safe[LOG_SAFE_MAX];
	long long		 wait_s = 5, port, deadline;
	size_t			 ntexts = 0, i;
	ssize_t			 n;
	int			 ch, fd;

	if (argc < 2 || num_parse(argv[1], 1, 65535, &port, NULL) != 0)
		return drv_usage();
	optind = 2;
	while ((ch = getopt(argc, argv, "s:w:")) != -1) {
		switch (ch) {
		case 's':
			if (ntexts == nitems(texts))
				return drv_usage();
			unescape(optarg);
			texts[ntexts++] = optarg;
			break;
		case 'w':
			if (num_parse(optarg, 0, 3600, &wait_s, NULL) != 0)
				return drv_usage();
			break;
		default:
			return drv_usage();
		}
	}
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((unsigned short)port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((fd = socket(AF_INET, SOCK_STREAM, 0)) == -1 ||
	    connect(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1) {
		printf("connect: %s\n", strerror(errno));
		return 1;
	}
	for (i = 0; i < ntexts; i++) {
		if (i > 0)
			usleep(POKE_PAUSE_MS * 1000);
		if (write_all(fd, texts[i], strlen(texts[i])) < 0) {
			printf("write: %s\n", strerror(errno));
			break;
		}
	}
	deadline = now_ms() + wait_s * 1000;
	while (wait_s > 0 && poll_until(fd, POLLIN, deadline) == 1) {
		if ((n = read(fd, got, sizeof(got))) <= 0) {
			printf("closed\n");
			break;
		}
		log_safe(safe, sizeof(safe), got, (size_t)n);
		printf("got: %s\n", safe);
	}
	close(fd);
	return 0;
}

int
main(int argc, char **argv)
{
	char	 tmpl[] = "/tmp/t-tls-server.XXXXXX";

	signal(SIGPIPE, SIG_IGN);
	if (argc > 1 && strcmp(argv[1], "serve") == 0)
		return drv_serve(argc - 1, argv + 1);
	if (argc > 1 && strcmp(argv[1], "poke") == 0)
		return drv_poke(argc - 1, argv + 1);
	if (mkdtemp(tmpl) == NULL || str_copy(dir, sizeof(dir), tmpl) != 0)
		return 1;
	if (setup() != 0) {
		tap_diag("cannot make the test certificates");
		ERR_print_errors_fp(stderr);
		cleanup();
		return 1;
	}
	TEST(t_ctx, "contexts: the files, errors naming them, mismatches");
	TEST(t_tls13, "TLS 1.3: names, log line, echo, close_notify");
	TEST(t_tls12, "TLS 1.2 with OpenSSL's ECDHE ciphers");
	TEST(t_old_versions, "TLS 1.1 and 1.0 refused: unsupported protocol");
	TEST(t_not_tls, "plaintext, HTTP, silence, hang-ups in the handshake");
	TEST(t_split_fds, "rfd != wfd: a duplicated socket, two pipes");
	TEST(t_after_close, "nothing read after close_notify, EOF or an error");
	TEST(t_no_reneg, "a client's renegotiation is refused");
	TEST(t_chain, "the chain file's intermediate reaches the client");
	cleanup();
	return test_done();
}
