/*
 * fuzz-smtpd.c - libFuzzer target for smtpd-lite's command parser and
 * its DATA/BDAT state machine (cmd/smtpd-lite: session.c, data.c, io.c)
 *
 * The input is the client's byte stream (at most FUZZ_INPUT_MAX bytes).
 * Each input is one session, run in this process by session_run() on a
 * struct session set up as main.c's smtpd_session() sets it up, on one
 * end of a Unix socketpair (one descriptor to read and write, as under
 * inetd).  main.c is not linked (it has main()): smtpd_tls_ctx() and
 * smtpd_start_runq() are here, the latter only counts.
 *
 * The client.  smtpd-lite ends the session of a client that does not
 * wait for a reply where RFC 2920 says it must (554 5.5.0 after EHLO,
 * DATA, ...), so the input cannot simply be written at once.  The
 * target is linked with --wrap=poll: each time the server is about to
 * block waiting for input on the connection, __wrap_poll() plays the
 * client and writes the next part of the input; each time it waits to
 * write, the client reads the replies.  A part ends after a line (up
 * to LF) that a careful client waits after: one that starts with an
 * upper-case EHLO, HELO, DATA, NOOP, HELP, VRFY, EXPN, ETRN, STARTTLS,
 * AUTH or QUIT, or the line ".".  Lower-case verbs are pipelined
 * without a wait, which is how inputs reach the synchronization check.
 * When the input is used up the client shuts down its side, so the
 * server sees the end of the connection and never waits for
 * smtpd_timeout.  One thread, no fork, deterministic.
 *
 * The configuration is private (conf_load_mem): a spool in a directory
 * made once (under /dev/shm when it can, where fsync is free) and
 * removed at exit, mail_owner the current user, a client 192.0.2.1
 * outside mynetworks, mydestination fuzz.example with the local users
 * alice and bob (recipient_delimiter +), relay_domains relay.example,
 * limits that short inputs reach (message_size_limit 4000,
 * hopcount_limit 5, smtpd_recipient_limit 4), smtpd_error_sleep_time
 * 0, smtpd_timeout 1s, STARTTLS with a self-signed certificate made at
 * start-up, AUTH PLAIN and LOGIN against a passwd-file that has the
 * user "fuzz" (password "fuzzpass"), and reject_sender_login_mismatch
 * with fuzz@fuzz.example owned by fuzz.  sleep(3) is wrapped as well
 * and returns at once (smtpd-lite sleeps 1 s before a 535).
 *
 * Checked (abort() when not so):
 *   - the end of DATA: when the server reads its first content line
 *     (a line read with data.c's maximum), the end is computed from
 *     the input by data.c's rule (just past the first "." CR LF line
 *     whose line before ended in CR LF and held no other CR; the DATA
 *     command's line counts); when it next reads a command, it must
 *     have read exactly that far: an octet more is a smuggled command
 *     (--wrap=sio_getline gives the position, from sio's counters);
 *     there is such a start for each 354;
 *   - every reply line starts with three digits, the first 2 to 5,
 *     then a space or a dash, holds no CR or LF and ends with CR LF;
 *     the lines of a multi-line reply share their code and the output
 *     does not end inside one; only after "220 2.0.0 Ready to start
 *     TLS" may other bytes (TLS records) follow;
 *   - the files in the spool's incoming/ are exactly the messages of
 *     the "250 2.0.0 Ok: queued as ID" replies (so an aborted message
 *     leaves nothing), and runq was started once for each;
 *   - a queued file holds neither CR nor NUL (the spool stores LF
 *     text), and loads (spool_load) with a sender and 1 to
 *     smtpd_recipient_limit recipients;
 *   - a message that came by DATA (its 250 follows a 354) is, after
 *     our Received header, what the client sent: somewhere in the
 *     input right after a CR LF, each line as stored or with the dot
 *     that was taken away before it, each ended by CR LF, then "." CR
 *     LF;
 *   - the only sleep is the one before each 535 5.7.8.
 * The queued files are then removed.
 *
 * FUZZ_SMTPD_TRACE=1 in the environment writes each session to stderr
 * as a script for t/helper/smtpd-chat.py ("E", an "R" per part with
 * "P 0.2" between parts, "A"), then the replies: a finding becomes a
 * t6000 test.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <poll.h>
#include <pthread.h>
#include <pwd.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "common/buf.h"
#include "common/conf.h"
#include "common/log.h"
#include "common/sasl.h"
#include "common/tls.h"
#include "common/util.h"
#include "spool/spool.h"
#include "cmd/smtpd-lite/policy.h"
#include "cmd/smtpd-lite/session.h"
#include "cmd/smtpd-lite/smtpd.h"

#define FUZZ_INPUT_MAX	(64 * 1024)	/* longer inputs are skipped */
#define FUZZ_OUT_MAX	(8 * 1024 * 1024)	/* replies kept per session */
#define FUZZ_FILE_MAX	(1024 * 1024)	/* a queued file read back */
#define FUZZ_RCPT_MAX	4		/* smtpd_recipient_limit */
#define FUZZ_DATA_MAX	(1024 * 1024)	/* data.c's DATA_LINE_MAX */
#define FUZZ_NONE	SIZE_MAX
#define FUZZ_QUEUED	"250 2.0.0 Ok: queued as "
#define FUZZ_STARTTLS	"220 2.0.0 Ready to start TLS"
#define FUZZ_AUTHFAIL	"535 5.7.8 "

#define FUZZ_CHECK(x)	do { if (!(x)) fuzz_fail(#x, __LINE__); } while (0)

int		 LLVMFuzzerTestOneInput(const uint8_t *, size_t);
int		 __real_poll(struct pollfd *, nfds_t, int);
int		 __wrap_poll(struct pollfd *, nfds_t, int);
unsigned int	 __real_sleep(unsigned int);
unsigned int	 __wrap_sleep(unsigned int);
int		 __real_sio_getline(struct sio *, struct buf *, size_t, int *);
int		 __wrap_sio_getline(struct sio *, struct buf *, size_t, int *);

/* The client's side of the session under way. */
struct fuzz_client {
	int		 fd;		/* ours; -1 when no session runs */
	int		 server_fd;	/* the server's end */
	const char	*in;
	size_t		 len;
	size_t		 off;		/* sent so far */
	size_t		 part_end;	/* the end of the part being sent */
	int		 shut;		/* SHUT_WR done */
	struct buf	 out;		/* what the server wrote */
	unsigned int	 sleeps;
	unsigned int	 runqs;
	unsigned int	 datas;		/* DATA contents begun */
	size_t		 data_end;	/* where the DATA under way must end */
	int		 in_data;
	pthread_t	 thread;	/* the one that runs the session */
};

static struct fuzz_client	 fc = { .fd = -1, .server_fd = -1 };
static struct tls_ctx		*fuzz_tls;
static struct sasl		*fuzz_sasl;
static char			 topdir[256];
static char			*spooldir;
static struct spool		 chk;	/* the harness's view of the spool */
static int			 trace;

/* The verbs a careful client waits after (they must end a group). */
static const char *const fuzz_wait_verbs[] = {
	"EHLO", "HELO", "DATA", "NOOP", "HELP", "VRFY", "EXPN", "ETRN",
	"STARTTLS", "AUTH", "QUIT",
};

/* rm_one, cleanup - the private directory goes when the fuzzer exits */
static int
rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static void
cleanup(void)
{
	if (chk.path != NULL)
		spool_close(&chk);
	if (topdir[0] != '\0')
		nftw(topdir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	topdir[0] = '\0';
}

/*
 * fuzz_fail - an invariant does not hold: show the replies, remove
 * the private directory (libFuzzer keeps the input), abort
 */
static void
fuzz_fail(const char *what, int line)
{
	fprintf(stderr, "fuzz-smtpd.c:%d: check failed: %s\n", line, what);
	if (fc.out.len > 0)
		fprintf(stderr, "replies:\n%.*s\n", (int)(fc.out.len > 4096 ?
		    4096 : fc.out.len), fc.out.data);
	cleanup();
	abort();
}

/*
 * smtpd_tls_ctx - main.c's, with one context made at start-up and
 * kept for every session
 */
struct tls_ctx *
smtpd_tls_ctx(struct session *s)
{
	if (s->tls_ctx != NULL || s->tls_failed || !s->tls_offer)
		return s->tls_ctx;
	if ((s->tls_ctx = fuzz_tls) == NULL)
		s->tls_failed = 1;
	return s->tls_ctx;
}

/* smtpd_start_runq - counted, never started */
void
smtpd_start_runq(void)
{
	fc.runqs++;
}

/* fuzz_in_session - whether the caller is the session's thread */
static int
fuzz_in_session(void)
{
	return fc.fd >= 0 && pthread_equal(pthread_self(), fc.thread);
}

/*
 * __wrap_sleep - smtpd-lite's sleeps take no time here (libFuzzer's
 * own threads sleep as usual)
 */
unsigned int
__wrap_sleep(unsigned int secs)
{
	if (!fuzz_in_session())
		return __real_sleep(secs);
	fc.sleeps++;
	return 0;
}

/* fuzz_escape - bytes as smtpd-chat.py text (\r \n \t \0 \\ \xHH) */
static void
fuzz_escape(FILE *f, const char *p, size_t n)
{
	size_t		 i;
	unsigned char	 c;

	for (i = 0; i < n; i++) {
		c = (unsigned char)p[i];
		if (c == '\r')
			fputs("\\r", f);
		else if (c == '\n')
			fputs("\\n", f);
		else if (c == '\t')
			fputs("\\t", f);
		else if (c == '\0')
			fputs("\\0", f);
		else if (c == '\\')
			fputs("\\\\", f);
		else if (c < 0x20 || c >= 0x7f)
			fprintf(f, "\\x%02x", c);
		else
			fputc(c, f);
	}
}

/* fuzz_part_end - where the part that starts at off ends (see top) */
static size_t
fuzz_part_end(size_t off)
{
	const char	*p, *nl, *end = fc.in + fc.len;
	size_t		 i, n, vl;

	for (p = fc.in + off; p < end; p = nl + 1) {
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			return fc.len;
		n = (size_t)(nl - p);
		if (n > 0 && p[n - 1] == '\r')
			n--;
		if (n == 1 && p[0] == '.')
			return (size_t)(nl + 1 - fc.in);
		for (i = 0; i < nitems(fuzz_wait_verbs); i++) {
			vl = strlen(fuzz_wait_verbs[i]);
			if (n >= vl && memcmp(p, fuzz_wait_verbs[i], vl) == 0 &&
			    (n == vl || p[vl] == ' '))
				return (size_t)(nl + 1 - fc.in);
		}
	}
	return fc.len;
}

/* fuzz_drain - read what the server wrote, without waiting */
static void
fuzz_drain(void)
{
	char	 tmp[16384];
	ssize_t	 n;

	for (;;) {
		n = recv(fc.fd, tmp, sizeof(tmp), MSG_DONTWAIT);
		if (n > 0) {
			FUZZ_CHECK(buf_add(&fc.out, tmp, (size_t)n) == BUF_OK);
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		return;
	}
}

/*
 * fuzz_feed - the server waits for input: the rest of the part under
 * way, else the next part, else the end of the connection
 */
static void
fuzz_feed(void)
{
	ssize_t	 n;

	if (fc.off == fc.part_end && fc.off < fc.len) {
		fc.part_end = fuzz_part_end(fc.off);
		if (trace) {
			fputs(fc.off == 0 ? "E\nR " : "P 0.2\nR ", stderr);
			fuzz_escape(stderr, fc.in + fc.off, fc.part_end -
			    fc.off);
			fputc('\n', stderr);
		}
	}
	if (fc.off < fc.part_end) {
		do {
			n = send(fc.fd, fc.in + fc.off, fc.part_end - fc.off,
			    MSG_DONTWAIT | MSG_NOSIGNAL);
		} while (n < 0 && errno == EINTR);
		if (n > 0)
			fc.off += (size_t)n;
		/* EAGAIN: the server reads some and comes back for more */
		return;
	}
	if (!fc.shut) {
		shutdown(fc.fd, SHUT_WR);
		fc.shut = 1;
	}
}

/*
 * fuzz_data_end - where content that starts at p ends by data.c's rule
 * (see there), computed here on the input: just past the first line
 * "." CR LF whose line before ended in CR LF with no other CR (the
 * line of the DATA command counts); FUZZ_NONE when the input ends
 * first
 */
static size_t
fuzz_data_end(size_t p)
{
	const char	*nl;
	size_t		 n;
	int		 crlf, prev_crlf = 1;

	while (p < fc.len) {
		if ((nl = memchr(fc.in + p, '\n', fc.len - p)) == NULL)
			return FUZZ_NONE;
		n = (size_t)(nl - (fc.in + p));
		crlf = n > 0 && nl[-1] == '\r';
		n -= (size_t)crlf;
		if (n == 1 && fc.in[p] == '.' && crlf && prev_crlf)
			return (size_t)(nl + 1 - fc.in);
		prev_crlf = crlf && memchr(fc.in + p, '\r', n) == NULL;
		p = (size_t)(nl + 1 - fc.in);
	}
	return FUZZ_NONE;
}

/*
 * __wrap_sio_getline - every line smtpd-lite reads (session.c, data.c):
 * DATA's lines are the ones read with data.c's maximum.  When the first
 * of them is read, the end of the content is computed from the input;
 * when the next command line is read, the server must have read up to
 * exactly there: not one octet more (a smuggled command), not less.
 */
int
__wrap_sio_getline(struct sio *s, struct buf *line, size_t max, int *flags)
{
	size_t	 at;

	if (!fuzz_in_session() || s->tls != NULL)
		return __real_sio_getline(s, line, max, flags);
	/* the next octet of the input the server will look at */
	at = (size_t)s->in_bytes - (s->rlen - s->roff);
	FUZZ_CHECK(at <= fc.off);
	if (max == FUZZ_DATA_MAX && !fc.in_data) {
		fc.in_data = 1;
		fc.datas++;
		fc.data_end = fuzz_data_end(at);
	} else if (max != FUZZ_DATA_MAX && fc.in_data) {
		fc.in_data = 0;
		FUZZ_CHECK(at == fc.data_end);
	}
	return __real_sio_getline(s, line, max, flags);
}

/*
 * __wrap_poll - every poll(2) of the program: on the server's end of
 * the connection, the client acts first (a blocking wait for input
 * gets input, a wait to write gets the replies read); the rest as is
 */
int
__wrap_poll(struct pollfd *fds, nfds_t nfds, int timeout)
{
	nfds_t	 i;

	for (i = 0; i < nfds && fuzz_in_session(); i++) {
		if (fds[i].fd != fc.server_fd)
			continue;
		fuzz_drain();
		if ((fds[i].events & POLLIN) && timeout != 0)
			fuzz_feed();
	}
	return __real_poll(fds, nfds, timeout);
}

/* fuzz_cert - a self-signed certificate and its key, in one PEM file */
static int
fuzz_cert(const char *path)
{
	EVP_PKEY	*k;
	X509		*x;
	X509_NAME	*name;
	FILE		*f;
	int		 rc = -1;

	if ((k = EVP_EC_gen("P-256")) == NULL)
		return -1;
	if ((x = X509_new()) == NULL)
		goto out;
	name = X509_get_subject_name(x);
	if (X509_set_version(x, 2) != 1 ||
	    ASN1_INTEGER_set(X509_get_serialNumber(x), 1) != 1 ||
	    X509_gmtime_adj(X509_getm_notBefore(x), -3600) == NULL ||
	    X509_gmtime_adj(X509_getm_notAfter(x), 86400L * 3650) == NULL ||
	    X509_set_pubkey(x, k) != 1 ||
	    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
	    (const unsigned char *)"fuzz.example", -1, -1, 0) != 1 ||
	    X509_set_issuer_name(x, name) != 1 ||
	    X509_sign(x, k, EVP_sha256()) == 0)
		goto out;
	if ((f = fopen(path, "w")) == NULL)
		goto out;
	if (PEM_write_X509(f, x) == 1 &&
	    PEM_write_PrivateKey(f, k, NULL, NULL, 0, NULL, NULL) == 1)
		rc = 0;
	if (fclose(f) != 0)
		rc = -1;
out:
	X509_free(x);
	EVP_PKEY_free(k);
	return rc;
}

/* fuzz_init - the private directory, configuration, TLS and SASL */
static void
fuzz_init(void)
{
	static const char	 passwd[] = "fuzz:{PLAIN}fuzzpass\n";
	struct passwd		*pw;
	struct buf		 why, conf;
	char			*cert, *pwfile;
	const char		*base;
	int			 fd;

	trace = getenv("FUZZ_SMTPD_TRACE") != NULL;
	log_init("fuzz-smtpd", "smtpd");
	log_stderr(0);
	log_open(NULL, "/dev/null");
	buf_init(&why, 4096);
	buf_init(&conf, 16384);
	base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
	FUZZ_CHECK(bsnprintf(topdir, sizeof(topdir), "%s/fuzz-smtpd.XXXXXX",
	    base) == 0);
	FUZZ_CHECK(mkdtemp(topdir) != NULL);
	atexit(cleanup);
	spooldir = xasprintf("%s/spool", topdir);
	cert = xasprintf("%s/cert.pem", topdir);
	pwfile = xasprintf("%s/passwd", topdir);
	FUZZ_CHECK(fuzz_cert(cert) == 0);
	fd = open(pwfile, O_WRONLY | O_CREAT | O_EXCL, 0600);
	FUZZ_CHECK(fd >= 0);
	FUZZ_CHECK(write_all(fd, passwd, sizeof(passwd) - 1) ==
	    (ssize_t)sizeof(passwd) - 1);
	close(fd);
	FUZZ_CHECK((pw = getpwuid(geteuid())) != NULL);
	buf_printf(&conf,
	    "myhostname = fuzz.example\n"
	    "mydestination = fuzz.example, localhost\n"
	    "relay_domains = relay.example\n"
	    "mynetworks = 127.0.0.0/8\n"
	    "queue_directory = %s\n"
	    "daemon_directory = %s/nonexistent\n"
	    "mail_owner = %s\n"
	    "alias_maps =\n"
	    "local_recipient_maps = inline:{ alice=1, bob=1 }\n"
	    "recipient_delimiter = +\n"
	    "message_size_limit = 4000\n"
	    "hopcount_limit = 5\n"
	    "smtpd_recipient_limit = %d\n"
	    "smtpd_timeout = 1s\n"
	    "smtpd_error_sleep_time = 0\n"
	    "smtpd_tls_security_level = may\n"
	    "smtpd_tls_cert_file = %s\n"
	    "smtpd_sasl_auth_enable = yes\n"
	    "smtpd_sasl_type = passwd-file\n"
	    "smtpd_sasl_path = %s\n"
	    "smtpd_sasl_authenticated_header = yes\n"
	    "smtpd_sender_restrictions = reject_sender_login_mismatch\n"
	    "smtpd_sender_login_maps = inline:{ fuzz@fuzz.example=fuzz }\n",
	    spooldir, topdir, pw->pw_name, FUZZ_RCPT_MAX, cert, pwfile);
	if (conf_load_mem("fuzz-smtpd.conf", conf.data, conf.len, &why) != 0)
		fuzz_fail(buf_str(&why), __LINE__);
	if (policy_check_config(&why) != 0)
		fuzz_fail(buf_str(&why), __LINE__);
	if ((fuzz_tls = tls_server_ctx_new(cert, "", &why)) == NULL)
		fuzz_fail(buf_str(&why), __LINE__);
	if ((fuzz_sasl = sasl_open("passwd-file", pwfile, &why)) == NULL)
		fuzz_fail(buf_str(&why), __LINE__);
	if (spool_open(&chk, spooldir, SPOOL_ADMIN | SPOOL_CREATE, &why) != 0)
		fuzz_fail(buf_str(&why), __LINE__);
	buf_init(&fc.out, FUZZ_OUT_MAX);
	free(cert);
	free(pwfile);
	buf_free(&conf);
	buf_free(&why);
}

/*
 * fuzz_session - smtpd_session() (main.c) for the client 192.0.2.1 on
 * fd, without its PREGREET check: input only comes when asked for
 */
static void
fuzz_session(int fd)
{
	struct smtpd_peer	 peer;
	struct session		 s;
	struct buf		 why, stats;

	memset(&peer, 0, sizeof(peer));
	str_copy(peer.addr, sizeof(peer.addr), "192.0.2.1");
	str_copy(peer.name, sizeof(peer.name), "unknown");
	str_copy(peer.port, sizeof(peer.port), "50000");
	str_copy(peer.laddr, sizeof(peer.laddr), "192.0.2.25");
	memset(&s, 0, sizeof(s));
	s.peer = &peer;
	sio_init(&s.io, fd, fd, (int)conf_time("smtpd_timeout"));
	s.mynet = policy_mynetworks(peer.addr) == 1;
	s.pc.addr = peer.addr;
	buf_init(&why, 1024);
	buf_init(&stats, 1024);
	if (spool_open(&s.sp, spooldir, SPOOL_CREATE, &why) != 0)
		fuzz_fail(buf_str(&why), __LINE__);
	s.tls_offer = 1;		/* smtpd_tls_security_level = may */
	s.sasl = fuzz_sasl;
	if (reply(&s, "220 %s", conf_get("smtpd_banner")) == 0)
		session_run(&s);
	session_reset_tx(&s);
	session_stats(&s, &stats);
	s.io.tls = tls_free(s.io.tls);
	s.tls_ctx = NULL;		/* fuzz_tls stays */
	free(s.auth_user);
	spool_close(&s.sp);
	buf_free(&why);
	buf_free(&stats);
}

/*
 * fuzz_replies - check the reply lines; the queue IDs of "queued as"
 * go to ids, one per line, and those that answer a 354 (DATA, not
 * BDAT) to dids as well; returns the number of 535 5.7.8 replies
 */
static unsigned int
fuzz_replies(struct buf *ids, struct buf *dids, unsigned int *n354)
{
	const char	*p = fc.out.data, *end = fc.out.data + fc.out.len;
	const char	*crlf, *q;
	char		 cont[4] = "";
	unsigned int	 authfail = 0;
	size_t		 n;
	int		 after354 = 0;

	while (p < end) {
		crlf = memmem(p, (size_t)(end - p), "\r\n", 2);
		FUZZ_CHECK(crlf != NULL);
		n = (size_t)(crlf - p);
		FUZZ_CHECK(n >= 4);
		FUZZ_CHECK(p[0] >= '2' && p[0] <= '5');
		FUZZ_CHECK(p[1] >= '0' && p[1] <= '9');
		FUZZ_CHECK(p[2] >= '0' && p[2] <= '9');
		FUZZ_CHECK(p[3] == ' ' || p[3] == '-');
		for (q = p; q < crlf; q++)
			FUZZ_CHECK(*q != '\r' && *q != '\n');
		FUZZ_CHECK(cont[0] == '\0' || memcmp(cont, p, 3) == 0);
		if (p[3] == '-') {
			memcpy(cont, p, 3);
			cont[3] = '\0';
		} else
			cont[0] = '\0';
		if (n > strlen(FUZZ_QUEUED) && memcmp(p, FUZZ_QUEUED,
		    strlen(FUZZ_QUEUED)) == 0) {
			buf_add(ids, p + strlen(FUZZ_QUEUED), n -
			    strlen(FUZZ_QUEUED));
			buf_addc(ids, '\n');
			if (after354) {
				buf_add(dids, p + strlen(FUZZ_QUEUED), n -
				    strlen(FUZZ_QUEUED));
				buf_addc(dids, '\n');
			}
		}
		after354 = memcmp(p, "354 ", 4) == 0;
		*n354 += (unsigned int)after354;
		if (n >= strlen(FUZZ_AUTHFAIL) && memcmp(p, FUZZ_AUTHFAIL,
		    strlen(FUZZ_AUTHFAIL)) == 0)
			authfail++;
		p = crlf + 2;
		/* After this line the client speaks TLS, or nothing. */
		if (n == strlen(FUZZ_STARTTLS) && memcmp(p - 2 - n,
		    FUZZ_STARTTLS, n) == 0)
			return authfail;
	}
	FUZZ_CHECK(cont[0] == '\0');
	return authfail;
}

/*
 * fuzz_data_at - whether the input at p is the content c of a message
 * that came by DATA: each line as it is or with a dot before it (the
 * one the server took away), each ended by CR LF, then "." CR LF
 */
static int
fuzz_data_at(size_t p, const char *c, size_t clen)
{
	const char	*in = fc.in, *nl;
	size_t		 len = fc.len, n;
	int		 dot;

	while (clen > 0) {
		if ((nl = memchr(c, '\n', clen)) == NULL)
			return 0;
		n = (size_t)(nl - c);
		dot = p < len && in[p] == '.';
		p += (size_t)dot;
		if ((dot && n == 0) || p + n + 2 > len ||
		    memcmp(in + p, c, n) != 0 || in[p + n] != '\r' ||
		    in[p + n + 1] != '\n')
			return 0;
		p += n + 2;
		c = nl + 1;
		clen -= n + 1;
	}
	return p + 3 <= len && memcmp(in + p, ".\r\n", 3) == 0;
}

/*
 * fuzz_data - content that came by DATA: after our Received header
 * (its last line is the date, after the line that ends with ';'), it
 * is in the input right after a CR LF, ended by CR LF "." CR LF
 */
static void
fuzz_data(const char *c, size_t clen)
{
	const char	*nl, *end = c + clen;
	size_t		 i;
	int		 semi = 0;

	FUZZ_CHECK(clen > 15 && memcmp(c, "Received: from ", 15) == 0);
	for (;;) {
		nl = memchr(c, '\n', (size_t)(end - c));
		FUZZ_CHECK(nl != NULL && nl > c);
		if (semi) {
			FUZZ_CHECK(c[0] == '\t');
			break;
		}
		semi = nl[-1] == ';';
		c = nl + 1;
	}
	c = nl + 1;
	clen = (size_t)(end - c);
	for (i = 0; i + 1 < fc.len; i++)
		if (fc.in[i] == '\r' && fc.in[i + 1] == '\n' &&
		    fuzz_data_at(i + 2, c, clen))
			return;
	fuzz_fail("DATA content is not what the client sent before "
	    "CR LF . CR LF", __LINE__);
}

/*
 * fuzz_queued - check one queued file against the rules (and its
 * content against the input when it came by DATA); remove it
 */
static void
fuzz_queued(const char *id, int by_data)
{
	struct spool_msg	 m;
	struct buf		 why, file;
	struct stat		 st;
	int			 fd;

	buf_init(&file, FUZZ_FILE_MAX);
	fd = openat(chk.dirfd[SPOOL_INCOMING], id, O_RDONLY | O_CLOEXEC);
	FUZZ_CHECK(fd >= 0 && fstat(fd, &st) == 0);
	FUZZ_CHECK(st.st_size > 0 && st.st_size < FUZZ_FILE_MAX);
	FUZZ_CHECK(buf_pread(&file, fd, (size_t)st.st_size, 0) == BUF_OK);
	close(fd);
	FUZZ_CHECK(memchr(file.data, '\r', file.len) == NULL);
	FUZZ_CHECK(memchr(file.data, '\0', file.len) == NULL);
	buf_init(&why, 4096);
	if (spool_load(&chk, SPOOL_INCOMING, id, SPOOL_LOAD_PEEK, &m,
	    &why) != 0)
		fuzz_fail(buf_str(&why), __LINE__);
	FUZZ_CHECK(m.sender != NULL);
	FUZZ_CHECK(m.nrcpt >= 1 && m.nrcpt <= FUZZ_RCPT_MAX);
	FUZZ_CHECK(m.content_off >= 0 && m.content_off <= m.env_off &&
	    (size_t)m.env_off <= file.len);
	if (by_data)
		fuzz_data(file.data + m.content_off, (size_t)(m.env_off -
		    m.content_off));
	spool_msg_free(&m);
	buf_free(&why);
	buf_free(&file);
	FUZZ_CHECK(unlinkat(chk.dirfd[SPOOL_INCOMING], id, 0) == 0);
}

/* fuzz_has_id - whether id is one of the lines of ids */
static int
fuzz_has_id(const struct buf *ids, const char *id)
{
	const char	*p = ids->data, *end = ids->data + ids->len, *hit;
	size_t		 n = strlen(id);

	while (p < end && (hit = memmem(p, (size_t)(end - p), id, n)) !=
	    NULL) {
		if ((hit == ids->data || hit[-1] == '\n') && hit + n < end &&
		    hit[n] == '\n')
			return 1;
		p = hit + 1;
	}
	return 0;
}

/* fuzz_spool - incoming/ holds exactly the queued messages (ids) */
static void
fuzz_spool(const struct buf *ids, const struct buf *dids)
{
	struct dirent	*de;
	DIR		*d;
	char		*path;
	size_t		 found = 0, want = 0, i;

	for (i = 0; i < ids->len; i++)
		if (ids->data[i] == '\n')
			want++;
	path = xasprintf("%s/incoming", spooldir);
	FUZZ_CHECK((d = opendir(path)) != NULL);
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		/* a leftover temporary is not an ID: this fails too */
		FUZZ_CHECK(spool_id_ok(de->d_name));
		FUZZ_CHECK(fuzz_has_id(ids, de->d_name));
		fuzz_queued(de->d_name, fuzz_has_id(dids, de->d_name));
		found++;
	}
	closedir(d);
	free(path);
	FUZZ_CHECK(found == want);
	FUZZ_CHECK(fc.runqs == want);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int	 ready;
	struct buf	 ids, dids;
	int		 sv[2];
	unsigned int	 authfail, n354 = 0;

	if (size > FUZZ_INPUT_MAX)
		return 0;
	if (!ready) {
		fuzz_init();
		ready = 1;
	}
	FUZZ_CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) ==
	    0);
	buf_reset(&fc.out);
	fc.thread = pthread_self();
	fc.fd = sv[0];
	fc.server_fd = sv[1];
	fc.in = (const char *)data;
	fc.len = size;
	fc.off = fc.part_end = 0;
	fc.shut = 0;
	fc.sleeps = fc.runqs = fc.datas = 0;
	fc.in_data = 0;
	fuzz_session(sv[1]);
	close(sv[1]);
	fuzz_drain();
	fc.fd = fc.server_fd = -1;
	close(sv[0]);
	if (trace)
		fprintf(stderr, "A\n--- replies\n%.*s--- end\n",
		    (int)fc.out.len, fc.out.data != NULL ? fc.out.data : "");
	buf_init(&ids, 65536);
	buf_init(&dids, 65536);
	authfail = fuzz_replies(&ids, &dids, &n354);
	FUZZ_CHECK(fc.sleeps == authfail);
	/* every 354 was followed by content lines, seen by the wrapper */
	FUZZ_CHECK(fc.datas == n354);
	fuzz_spool(&ids, &dids);
	buf_free(&ids);
	buf_free(&dids);
	return 0;
}
