/*
 * t-sasl.c - unit tests for common/sasl
 *
 * passwd-file: every scheme with hashes made by other tools (openssl
 * passwd -1/-5/-6, mkpasswd -m yescrypt/bcrypt/descrypt, doveadm pw -s
 * BLF-CRYPT), unusable password fields (fail closed, logged once),
 * malformed lines, the world-readable warning, nologin/proxy/host,
 * duplicates, authzid, control characters, limits, missing files.
 *
 * dovecot: a fake auth server forked from this program on a UNIX
 * socket, run by a script of actions, which records every request: the
 * exact AUTH line (secured only under TLS, rip/lip only when they are
 * addresses, never no-penalty, resp last), OK with nologin, proxy,
 * reason, odd user names; FAIL and its temporary forms; protocol
 * errors, a silent server, EOF, the retry on a connection that broke
 * while idle, and a missing socket.
 *
 * Every test works in a fresh mkdtemp(3) directory under $TMPDIR (or
 * /tmp) with its own mail log.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <crypt.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/base64.h"
#include "common/buf.h"
#include "common/log.h"
#include "common/sasl.h"
#include "common/util.h"
#include "t/unit/tap.h"

/* openssl passwd -6 -salt saltsalt secret */
#define H_SHA512	"$6$saltsalt$TVLlQcbpFVof5W3Yz4DTP6gRstiNuHwwTt6G" \
			"Lc1E5n0U0aDehy0S5knV8wiOQSpT0Y77vwPZN.Pq.H91p5hVO1"
/* openssl passwd -6 -salt othersalt secret */
#define H_SHA512B	"$6$othersalt$yWbVSCJkZ2vwPSOjzg4gnuy.yIFq54VHHC2" \
			"Mn0XeCpHF6E4vSqSPQ/Q7TMZo3H9HnWE0Q4MIvE9DZW9eoiqoz/"
/* openssl passwd -6 -salt saltsalt 'pässwörd' (UTF-8) */
#define H_SHA512U	"$6$saltsalt$TQjRhpJdqmLx0U8it3EsUajwkmOMMvw5vhUF" \
			"c7mohzFFoj/QHrfYUHU1oSkwyCEoTUCDOiAOW135nel3bqtKe."
/* openssl passwd -6 -salt r 'with space' */
#define H_SHA512S	"$6$r$jnhyMJMQ.VvymjJByTCu6oub9YZbresQPwXu1UrgZdx" \
			"byyF9wCeTHtmKr1RxV3p.5WsmfAAQUkD2pPSkKz1Xo0"
/* openssl passwd -5 -salt saltsalt secret */
#define H_SHA256	"$5$saltsalt$0IyaXrmV7.sGNS6tirgqHLqX/G.FBvgkYA." \
			"lpPdS5sA"
/* openssl passwd -1 -salt saltsalt secret */
#define H_MD5		"$1$saltsalt$9xy1btjgzLYfb7hivXtC//"
/* mkpasswd -m yescrypt secret */
#define H_YESCRYPT	"$y$j9T$X2AQSOFyvxXMN2/HuanHp.$vbsPuw9Gqfms4w.Ny8." \
			"lkd.gBtZSVBD9caw8vMAbKE6"
/* mkpasswd -m bcrypt secret */
#define H_BCRYPT	"$2b$05$8rAuhRZbmW0IZ//1M9.HiOpHkRa28OdrqM9q1x." \
			"BK1pxyAUDbCb3K"
/* doveadm pw -s BLF-CRYPT -p x */
#define H_BCRYPT_DC	"$2y$05$wDFyE32wv8hVKiRwGFupueuvnB69leslTVS9v5qi" \
			"wKupoRn5oJ5ny"
/* mkpasswd -m descrypt -S ab secret */
#define H_DES		"abNANd1rDfiNc"

#define HS_STD		"VERSION\t1\t2\nMECH\tPLAIN\tplaintext\n"	\
			"MECH\tLOGIN\tplaintext\nSPID\t4242\nCUID\t7\n"	\
			"COOKIE\t0123456789abcdef0123456789abcdef\nDONE\n"
#define FAKE_LINE	32768

static char		 t_dir[PATH_MAX];
static char		 t_log[PATH_MAX + 16];
static char		 t_file[PATH_MAX + 16];
static char		 t_sock[PATH_MAX + 16];
static char		 t_req[PATH_MAX + 16];
static struct buf	 t_why;
static char		 t_who[SASL_USER_MAX + 1];
static pid_t		 fake_pid = -1;

static const char *
tmpdir(void)
{
	const char	*t = getenv("TMPDIR");

	return t != NULL && *t != '\0' ? t : "/tmp";
}

static int
t_rm(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	(void)remove(path);
	return 0;
}

/* t_begin - a fresh directory and mail log */
static void
t_begin(void)
{
	if (bsnprintf(t_dir, sizeof(t_dir), "%s/t-sasl.XXXXXX", tmpdir()) < 0 ||
	    mkdtemp(t_dir) == NULL)
		abort();
	if (bsnprintf(t_log, sizeof(t_log), "%s/maillog", t_dir) < 0 ||
	    bsnprintf(t_file, sizeof(t_file), "%s/passwd", t_dir) < 0 ||
	    bsnprintf(t_sock, sizeof(t_sock), "%s/auth-client", t_dir) < 0 ||
	    bsnprintf(t_req, sizeof(t_req), "%s/requests", t_dir) < 0)
		abort();
	log_stderr(0);
	if (log_open(NULL, t_log) != 0)
		abort();
	buf_reset(&t_why);
}

/* t_end - stop the fake server, remove the directory */
static void
t_end(void)
{
	int	 st;

	if (fake_pid > 0) {
		(void)kill(fake_pid, SIGKILL);
		(void)waitpid(fake_pid, &st, 0);
		fake_pid = -1;
	}
	log_open(NULL, "/dev/null");
	nftw(t_dir, t_rm, 16, FTW_DEPTH | FTW_PHYS);
}

/* t_slurp - a file's contents ("" when missing) into b */
static const char *
t_slurp(const char *path, struct buf *b)
{
	char	 chunk[4096];
	ssize_t	 n;
	int	 fd;

	buf_reset(b);
	if ((fd = open(path, O_RDONLY)) == -1)
		return buf_str(b);
	while ((n = read(fd, chunk, sizeof(chunk))) > 0)
		(void)buf_add(b, chunk, (size_t)n);
	close(fd);
	return buf_str(b);
}

/* t_count - how many times needle occurs in the mail log */
static int
t_count(const char *needle)
{
	struct buf	 b;
	const char	*p;
	int		 n = 0;

	buf_init(&b, 1 << 20);
	for (p = t_slurp(t_log, &b); (p = strstr(p, needle)) != NULL; p++)
		n++;
	buf_free(&b);
	return n;
}

/* t_write - the passwd-file with mode */
static void
t_write(const char *text, mode_t mode)
{
	int	 fd;

	(void)unlink(t_file);
	if ((fd = open(t_file, O_WRONLY | O_CREAT | O_TRUNC, 0600)) == -1 ||
	    write_all(fd, text, strlen(text)) == -1 || fchmod(fd, mode) == -1)
		abort();
	close(fd);
}

/* t_pf - one check on a new passwd-file handle */
static enum sasl_status
t_pf(const char *user, const char *pass, const char *authzid)
{
	struct sasl		*s;
	enum sasl_status	 st;

	if ((s = sasl_open("passwd-file", t_file, &t_why)) == NULL)
		abort();
	st = sasl_auth(s, user, pass, authzid, NULL, t_who, sizeof(t_who),
	    &t_why);
	sasl_close(s);
	return st;
}

/* t_crypt_has - whether libcrypt can check a hash like h */
static int
t_crypt_has(const char *h)
{
	struct crypt_data	 cd;
	const char		*out;

	memset(&cd, 0, sizeof(cd));
	out = crypt_r("x", h, &cd);
	return out != NULL && out[0] != '*';
}

/*
 * passwd-file
 */

static void
t_pf_schemes(void)
{
	static const struct {
		const char	*user, *pass;
		const char	*need;	/* a hash libcrypt must know */
	} ok[] = {
		{ "sha512", "secret", NULL },
		{ "sha512b", "secret", NULL },
		{ "crypt6", "secret", NULL },
		{ "bare6", "secret", NULL },
		{ "bare6s", "with space", NULL },
		{ "utf8", "p\xc3\xa4ssw\xc3\xb6rd", NULL },
		{ "sha256", "secret", NULL },
		{ "bare5", "secret", NULL },
		{ "md5", "secret", NULL },
		{ "lower", "secret", NULL },
		{ "plain", "secret", NULL },
		{ "clear", "secret", NULL },
		{ "colon", "se:cret", NULL },
		{ "baresy", "secret", H_YESCRYPT },
		{ "cryptsy", "secret", H_YESCRYPT },
		{ "blf", "secret", H_BCRYPT },
		{ "blfdc", "x", H_BCRYPT_DC },
		{ "des", "secret", H_DES },
	};
	size_t	 i;

	t_begin();
	t_write("# one user per scheme\n"
	    "sha512:{SHA512-CRYPT}" H_SHA512 ":1000:1000::/home/sha512::\n"
	    "sha512b:{SHA512-CRYPT}" H_SHA512B "\n"
	    "crypt6:{CRYPT}" H_SHA512 "\n"
	    "bare6:" H_SHA512 "\n"
	    "bare6s:" H_SHA512S ":::::\n"
	    "utf8:{SHA512-CRYPT}" H_SHA512U "\n"
	    "sha256:{SHA256-CRYPT}" H_SHA256 "\n"
	    "bare5:" H_SHA256 "\n"
	    "md5:{MD5-CRYPT}" H_MD5 "\n"
	    "lower:{sha512-crypt}" H_SHA512 "\n"
	    "plain:{PLAIN}secret::::::\n"
	    "clear:{CLEARTEXT}secret\n"
	    "colon:{CRYPT}" H_SHA512 "\n"
	    "baresy:" H_YESCRYPT "\n"
	    "cryptsy:{CRYPT}" H_YESCRYPT "\n"
	    "blf:{BLF-CRYPT}" H_BCRYPT "\n"
	    "blfdc:{BLF-CRYPT}" H_BCRYPT_DC "\n"
	    "des:{CRYPT}" H_DES "\n", 0600);
	for (i = 0; i < nitems(ok); i++) {
		if (ok[i].need != NULL && !t_crypt_has(ok[i].need)) {
			tap_diag("libcrypt cannot check %s's hash", ok[i].user);
			continue;
		}
		if (strcmp(ok[i].user, "colon") == 0) {
			/* se:cret is not secret */
			check_int(t_pf("colon", "se:cret", NULL), ==,
			    SASL_FAIL);
			check_int(t_pf("colon", "secret", NULL), ==, SASL_OK);
			continue;
		}
		if (!check_int(t_pf(ok[i].user, ok[i].pass, NULL), ==,
		    SASL_OK))
			tap_diag("%s: %s", ok[i].user, buf_str(&t_why));
		check_str(t_who, ok[i].user);
		check_int(t_pf(ok[i].user, "Secret", NULL), ==, SASL_FAIL);
		check_str(t_who, "");
		check_str(buf_str(&t_why), "authentication failed");
		check_int(t_pf(ok[i].user, "", NULL), ==, SASL_FAIL);
	}
	/* a password that is a prefix of the right one, or longer */
	check_int(t_pf("plain", "secre", NULL), ==, SASL_FAIL);
	check_int(t_pf("plain", "secrets", NULL), ==, SASL_FAIL);
	check_int(t_pf("sha512", "secre", NULL), ==, SASL_FAIL);
	check_int(t_pf("nobody", "secret", NULL), ==, SASL_FAIL);
	check(strstr(buf_str(&t_why), "unknown user") != NULL);
	check_int(t_count("warning"), ==, 0);
	t_end();
}

static void
t_pf_case(void)
{
	t_begin();
	t_write("Alice@Example.ORG:{PLAIN}secret\n", 0600);
	check_int(t_pf("alice@example.org", "secret", NULL), ==, SASL_OK);
	check_str(t_who, "Alice@Example.ORG");
	check_int(t_pf("ALICE@EXAMPLE.ORG", "secret", NULL), ==, SASL_OK);
	check_str(t_who, "Alice@Example.ORG");
	check_int(t_pf("alice", "secret", NULL), ==, SASL_FAIL);
	t_end();
}

static void
t_pf_bad_schemes(void)
{
	static const struct {
		const char	*user;
		const char	*reason;
	} bad[] = {
		{ "ssha", "unsupported password scheme" },
		{ "argon", "unsupported password scheme" },
		{ "b64", "unsupported password scheme" },
		{ "wrongpfx", "hash does not match its {SCHEME}" },
		{ "wrongblf", "hash does not match its {SCHEME}" },
		{ "bareplain", "no {SCHEME} and not a crypt(3) hash" },
		{ "empty", "empty password field" },
		{ "emptyval", "empty password value" },
		{ "unterm", "unterminated or overlong {SCHEME}" },
		{ "junk", "libcrypt cannot use this hash" },
		{ "junk6", "libcrypt cannot use this hash" },
	};
	struct sasl	*s;
	size_t		 i;

	t_begin();
	t_write("ssha:{SSHA}c2VjcmV0c2FsdA==\n"
	    "argon:{ARGON2ID}$argon2id$v=19$m=65536,t=3,p=1$c2FsdA$aGFzaA\n"
	    "b64:{PLAIN.b64}c2VjcmV0\n"
	    "wrongpfx:{SHA512-CRYPT}" H_SHA256 "\n"
	    "wrongblf:{BLF-CRYPT}" H_SHA512 "\n"
	    "bareplain:secret\n"
	    "empty:\n"
	    "emptyval:{PLAIN}\n"
	    "unterm:{PLAINsecret\n"
	    "junk:{CRYPT}$9$junk\n"
	    "junk6:{SHA512-CRYPT}$6$bad*salt$x\n", 0600);
	if ((s = sasl_open("passwd-file", t_file, &t_why)) == NULL)
		abort();
	for (i = 0; i < nitems(bad); i++) {
		/* even the "right" password fails: fail closed */
		check_int(sasl_auth(s, bad[i].user, "secret", NULL, NULL,
		    t_who, sizeof(t_who), &t_why), ==, SASL_FAIL);
		if (!check(strstr(buf_str(&t_why), bad[i].reason) != NULL))
			tap_diag("%s: %s", bad[i].user, buf_str(&t_why));
		check(strstr(buf_str(&t_why), "c2VjcmV0") == NULL);
		check_str(t_who, "");
	}
	sasl_close(s);
	/* one warning per handle, naming the scheme, never the password */
	check_int(t_count("unusable password field"), ==, 1);
	check_int(t_count("scheme SSHA"), ==, 1);
	check_int(t_count("secret"), ==, 0);
	check_int(t_pf("argon", "secret", NULL), ==, SASL_FAIL);
	check_int(t_count("unusable password field"), ==, 2);
	check_int(t_count("scheme ARGON2ID"), ==, 1);
	t_end();
}

static void
t_pf_malformed(void)
{
	struct sasl	*s;

	t_begin();
	t_write("\n"
	    "# comment:with:colons\n"
	    "nocolon\n"
	    ":{PLAIN}secret\n"
	    "bob:{PLAIN}bobsecret\n"
	    "no colon either\n"
	    "alice:{PLAIN}secret:1000:1000:Alice:/home/alice:/bin/sh:\n"
	    "last:{PLAIN}nonewline", 0600);
	if ((s = sasl_open("passwd-file", t_file, &t_why)) == NULL)
		abort();
	check_int(sasl_auth(s, "alice", "secret", NULL, NULL, t_who,
	    sizeof(t_who), &t_why), ==, SASL_OK);
	check_int(sasl_auth(s, "bob", "bobsecret", NULL, NULL, t_who,
	    sizeof(t_who), &t_why), ==, SASL_OK);
	check_int(sasl_auth(s, "last", "nonewline", NULL, NULL, t_who,
	    sizeof(t_who), &t_why), ==, SASL_OK);
	check_int(sasl_auth(s, "nocolon", "", NULL, NULL, t_who,
	    sizeof(t_who), &t_why), ==, SASL_FAIL);
	check_int(sasl_auth(s, "# comment", "with", NULL, NULL, t_who,
	    sizeof(t_who), &t_why), ==, SASL_FAIL);
	sasl_close(s);
	check_int(t_count("malformed lines skipped (the first at line 3"), ==,
	    1);
	t_end();
}

static void
t_pf_mode(void)
{
	t_begin();
	t_write("alice:{PLAIN}secret\n", 0600);
	check_int(t_pf("alice", "secret", NULL), ==, SASL_OK);
	check_int(t_count("world-readable"), ==, 0);
	t_write("alice:{PLAIN}secret\n", 0640);
	check_int(t_pf("alice", "secret", NULL), ==, SASL_OK);
	check_int(t_count("world-readable"), ==, 0);
	t_write("alice:{PLAIN}secret\n", 0644);
	check_int(t_pf("alice", "secret", NULL), ==, SASL_OK);
	check_int(t_count("world-readable"), ==, 1);
	check_int(t_pf("alice", "wrong", NULL), ==, SASL_FAIL);
	check_int(t_count("world-readable"), ==, 2);
	t_end();
}

static void
t_pf_refused(void)
{
	t_begin();
	t_write("nl:{PLAIN}secret::::::nologin\n"
	    "nl2:{PLAIN}secret::::::userdb_quota=1G nologin=y reason=down\n"
	    "px:{PLAIN}secret::::::proxy host=192.0.2.9\n"
	    "ho:{PLAIN}secret::::::host=192.0.2.9\n"
	    "fine:{PLAIN}secret:1:1:nologin:/home/fine:/bin/nologin:nologins\n",
	    0600);
	check_int(t_pf("nl", "secret", NULL), ==, SASL_FAIL);
	check(strstr(buf_str(&t_why), "nologin") != NULL);
	check_int(t_pf("nl2", "secret", NULL), ==, SASL_FAIL);
	check_int(t_pf("px", "secret", NULL), ==, SASL_FAIL);
	check(strstr(buf_str(&t_why), "proxy") != NULL);
	check_int(t_pf("ho", "secret", NULL), ==, SASL_FAIL);
	check_int(t_pf("fine", "secret", NULL), ==, SASL_OK);
	/* a wrong password is just that */
	check_int(t_pf("nl", "wrong", NULL), ==, SASL_FAIL);
	check_str(buf_str(&t_why), "authentication failed");
	t_end();
}

static void
t_pf_duplicate(void)
{
	t_begin();
	t_write("alice:{PLAIN}first\nALICE:{PLAIN}second\n", 0600);
	check_int(t_pf("alice", "first", NULL), ==, SASL_OK);
	check_int(t_pf("alice", "second", NULL), ==, SASL_FAIL);
	check_int(t_count("more than one line"), ==, 2);
	t_end();
}

static void
t_pf_authzid(void)
{
	t_begin();
	t_write("alice:{PLAIN}secret\nbob:{PLAIN}bobsecret\n", 0600);
	check_int(t_pf("alice", "secret", NULL), ==, SASL_OK);
	check_int(t_pf("alice", "secret", ""), ==, SASL_OK);
	check_int(t_pf("alice", "secret", "alice"), ==, SASL_OK);
	check_str(t_who, "alice");
	check_int(t_pf("alice", "secret", "bob"), ==, SASL_FAIL);
	check_str(buf_str(&t_why), "authorization identity differs");
	check_str(t_who, "");
	check_int(t_pf("alice", "secret", "ALICE"), ==, SASL_FAIL);
	check_int(t_pf("alice", "secret", "alice\n"), ==, SASL_FAIL);
	t_end();
}

static void
t_pf_ctl(void)
{
	static const struct {
		const char	*user, *pass, *authzid;
		const char	*reason;
	} bad[] = {
		{ "al\rice", "secret", NULL, "control character in the u" },
		{ "alice\n", "secret", NULL, "control character in the u" },
		{ "ali\tce", "secret", NULL, "control character in the u" },
		{ "al\001ice", "secret", NULL, "control character in the u" },
		{ "al\177ice", "secret", NULL, "control character in the u" },
		{ "alice", "sec\rret", NULL, "CR, LF or TAB in the password" },
		{ "alice", "secret\n", NULL, "CR, LF or TAB in the password" },
		{ "alice", "sec\tret", NULL, "CR, LF or TAB in the password" },
		{ "alice", "secret", "ali\tce", "control character in the a" },
		{ "", "secret", NULL, "empty user name" },
	};
	size_t	 i;

	t_begin();
	t_write("alice:{PLAIN}secret\nal\001ice:{PLAIN}secret\n"
	    "al\177ice:{PLAIN}secret\n", 0600);
	for (i = 0; i < nitems(bad); i++) {
		check_int(t_pf(bad[i].user, bad[i].pass, bad[i].authzid), ==,
		    SASL_FAIL);
		if (!check(strstr(buf_str(&t_why), bad[i].reason) != NULL))
			tap_diag("case %zu: %s", i, buf_str(&t_why));
		check(strstr(buf_str(&t_why), "secret") == NULL);
		check(strstr(buf_str(&t_why), "sec") == NULL);
	}
	check_int(t_pf("alice", "secret", NULL), ==, SASL_OK);
	t_end();
}

static void
t_pf_limits(void)
{
	char	 user[SASL_USER_MAX + 2], pass[SASL_PASS_MAX + 2];
	struct buf	 text;

	t_begin();
	memset(user, 'u', sizeof(user) - 1);
	user[sizeof(user) - 1] = '\0';
	memset(pass, 'p', sizeof(pass) - 1);
	pass[sizeof(pass) - 1] = '\0';
	/* the longest user name and password there may be */
	buf_init(&text, 1 << 16);
	user[SASL_USER_MAX] = '\0';
	pass[SASL_PASS_MAX] = '\0';
	(void)buf_printf(&text, "%s:{PLAIN}%s\n", user, pass);
	t_write(buf_str(&text), 0600);
	check_int(t_pf(user, pass, NULL), ==, SASL_OK);
	check_int(strlen(t_who), ==, SASL_USER_MAX);
	user[SASL_USER_MAX] = 'u';
	check_int(t_pf(user, pass, NULL), ==, SASL_FAIL);
	check(strstr(buf_str(&t_why), "user name longer") != NULL);
	user[SASL_USER_MAX] = '\0';
	pass[SASL_PASS_MAX] = 'p';
	check_int(t_pf(user, pass, NULL), ==, SASL_FAIL);
	check(strstr(buf_str(&t_why), "password longer") != NULL);
	buf_free(&text);
	t_end();
}

static void
t_pf_missing(void)
{
	struct sasl	*s;
	char		 small[4];

	t_begin();
	check_int(t_pf("alice", "secret", NULL), ==, SASL_TEMP);
	check(strstr(buf_str(&t_why), "No such file") != NULL);
	if (mkdir(t_file, 0700) == -1)
		abort();
	check_int(t_pf("alice", "secret", NULL), ==, SASL_TEMP);
	check(strstr(buf_str(&t_why), "not a regular file") != NULL);
	rmdir(t_file);
	t_write("", 0600);
	check_int(t_pf("alice", "secret", NULL), ==, SASL_FAIL);
	/* who too small for the name */
	t_write("alice:{PLAIN}secret\n", 0600);
	if ((s = sasl_open("passwd-file", t_file, &t_why)) == NULL)
		abort();
	check_int(sasl_auth(s, "alice", "secret", NULL, NULL, small,
	    sizeof(small), &t_why), ==, SASL_FAIL);
	check_str(small, "");
	check_int(sasl_auth(s, "alice", "secret", NULL, NULL, NULL, 0, NULL),
	    ==, SASL_OK);
	sasl_close(s);
	t_end();
}

static void
t_open(void)
{
	struct sasl	*s;

	t_begin();
	check(sasl_open("cyrus", "/x", &t_why) == NULL);
	check(strstr(buf_str(&t_why), "unsupported SASL type") != NULL);
	check(sasl_open("dovecot", "private/auth", &t_why) == NULL);
	check(strstr(buf_str(&t_why), "not absolute") != NULL);
	check(sasl_open("passwd-file", "", &t_why) == NULL);
	check(strstr(buf_str(&t_why), "empty") != NULL);
	check(sasl_open(NULL, "/x", NULL) == NULL);
	/* nothing is touched at open time */
	check((s = sasl_open("dovecot", "/nonexistent/auth", &t_why)) != NULL);
	sasl_close(s);
	sasl_close(NULL);
	t_end();
}

/*
 * Dovecot: a fake auth server running a script
 *
 *	accept		take the next connection (closing the last)
 *	hs[:TEXT]	read the client's lines up to CPID, send TEXT
 *			(default HS_STD)
 *	req		read one line, append it to t_req
 *	send:TEXT	send TEXT, "@ID@" replaced by the last request's id
 *	long		send SASL_LINE_MAX + 100 "x"s and no LF
 *	close		close the connection
 *	sleep		sleep (until killed)
 *
 * and after the script, wait for EOF, then sleep until killed.
 */

struct fake_conn {
	int	 fd;
	size_t	 len;
	char	 in[FAKE_LINE];
};

/* fake_getline - one line (LF removed) or -1 at EOF */
static int
fake_getline(struct fake_conn *c, char *out, size_t outsz)
{
	char	*nl;
	ssize_t	 n;

	for (;;) {
		if ((nl = memchr(c->in, '\n', c->len)) != NULL) {
			size_t	 l = (size_t)(nl - c->in);

			if (l >= outsz)
				l = outsz - 1;
			memcpy(out, c->in, l);
			out[l] = '\0';
			c->len -= (size_t)(nl - c->in) + 1;
			memmove(c->in, nl + 1, c->len);
			return 0;
		}
		if (c->len == sizeof(c->in))
			return -1;
		n = read(c->fd, c->in + c->len, sizeof(c->in) - c->len);
		if (n <= 0)
			return -1;
		c->len += (size_t)n;
	}
}

/* fake_send - text with @ID@ replaced */
static void
fake_send(int fd, const char *text, const char *id)
{
	struct buf	 b;
	const char	*p;

	buf_init(&b, 1 << 20);
	while ((p = strstr(text, "@ID@")) != NULL) {
		(void)buf_add(&b, text, (size_t)(p - text));
		(void)buf_adds(&b, id);
		text = p + 4;
	}
	(void)buf_adds(&b, text);
	(void)write_all(fd, b.data, b.len);
	buf_free(&b);
}

/* fake_run - the child: run script on the listening socket lfd */
static void
fake_run(int lfd, const char *const *script)
{
	static struct fake_conn	 c;
	char			 line[FAKE_LINE], id[32] = "0", *tab;
	size_t			 n;
	int			 rfd;

	signal(SIGPIPE, SIG_IGN);
	c.fd = -1;
	for (; *script != NULL; script++) {
		const char	*a = *script;

		if (strcmp(a, "accept") == 0) {
			if (c.fd != -1)
				close(c.fd);
			c.fd = accept(lfd, NULL, NULL);
			c.len = 0;
		} else if (strncmp(a, "hs", 2) == 0) {
			do {
				if (fake_getline(&c, line, sizeof(line)) == -1)
					_exit(1);
			} while (strncmp(line, "CPID\t", 5) != 0);
			fake_send(c.fd, a[2] == ':' ? a + 3 : HS_STD, id);
		} else if (strcmp(a, "req") == 0) {
			if (fake_getline(&c, line, sizeof(line)) == -1)
				_exit(1);
			rfd = open(t_req, O_WRONLY | O_APPEND | O_CREAT, 0600);
			(void)write_all(rfd, line, strlen(line));
			(void)write_all(rfd, "\n", 1);
			close(rfd);
			id[0] = '\0';
			if ((tab = strchr(line, '\t')) != NULL) {
				tab++;
				n = strcspn(tab, "\t");
				if (n >= sizeof(id))
					n = sizeof(id) - 1;
				memcpy(id, tab, n);
				id[n] = '\0';
			}
		} else if (strncmp(a, "send:", 5) == 0)
			fake_send(c.fd, a + 5, id);
		else if (strcmp(a, "long") == 0) {
			memset(line, 'x', SASL_LINE_MAX + 100);
			(void)write_all(c.fd, line, SASL_LINE_MAX + 100);
		} else if (strcmp(a, "close") == 0) {
			close(c.fd);
			c.fd = -1;
		} else if (strcmp(a, "sleep") == 0)
			for (;;)
				sleep(60);
	}
	if (c.fd != -1)
		while (fake_getline(&c, line, sizeof(line)) == 0)
			;
	for (;;)
		sleep(60);
}

/* fake_start - listen on t_sock, fork the server running script */
static void
fake_start(const char *const *script)
{
	struct sockaddr_un	 sa;
	int			 lfd;

	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	if (str_copy(sa.sun_path, sizeof(sa.sun_path), t_sock) == -1 ||
	    (lfd = socket(AF_UNIX, SOCK_STREAM, 0)) == -1 ||
	    bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) == -1 ||
	    listen(lfd, 8) == -1)
		abort();
	fflush(stdout);
	if ((fake_pid = fork()) == -1)
		abort();
	if (fake_pid == 0) {
		fake_run(lfd, script);
		_exit(0);
	}
	close(lfd);
}

/* fake_stop - kill the server and remove its socket */
static void
fake_stop(void)
{
	int	 st;

	if (fake_pid > 0) {
		(void)kill(fake_pid, SIGKILL);
		(void)waitpid(fake_pid, &st, 0);
		fake_pid = -1;
	}
	(void)unlink(t_sock);
}

/* t_dc_open - a dovecot handle on t_sock with timeout seconds */
static struct sasl *
t_dc_open(int timeout)
{
	struct sasl	*s;

	if ((s = sasl_open("dovecot", t_sock, &t_why)) == NULL)
		abort();
	if (timeout > 0)
		sasl_set_timeout(s, timeout);
	return s;
}

/* t_dc - one check; cl may be NULL */
static enum sasl_status
t_dc(struct sasl *s, const char *user, const char *pass,
    const struct sasl_client *cl)
{
	return sasl_auth(s, user, pass, NULL, cl, t_who, sizeof(t_who),
	    &t_why);
}

/* t_resp - "resp=" and the base64 of NUL user NUL pass, into b */
static const char *
t_resp(struct buf *b, const char *user, const char *pass)
{
	struct buf	 raw;

	buf_init(&raw, 4096);
	(void)buf_addc(&raw, '\0');
	(void)buf_adds(&raw, user);
	(void)buf_addc(&raw, '\0');
	(void)buf_adds(&raw, pass);
	buf_reset(b);
	(void)buf_adds(b, "resp=");
	(void)base64_encode(b, raw.data, raw.len);
	buf_free(&raw);
	return buf_str(b);
}

static void
t_dc_request(void)
{
	static const char *const script[] = {
		"accept", "hs", "req",
		"send:OK\t@ID@\tuser=alice@example.org\n",
		"req", "send:FAIL\t@ID@\tuser=alice\n",
		"req", "send:OK\t@ID@\n",
		NULL
	};
	struct sasl_client	 tls = {
		.rip = "192.0.2.1", .lip = "192.0.2.2", .rport = 40000,
		.lport = 587, .secured = 1, .service = "smtp",
	};
	struct sasl_client	 plain = {
		.rip = "unknown", .lip = "not:an:address", .rport = 70000,
		.lport = -1, .secured = 0, .service = NULL,
	};
	struct sasl_client	 v6 = { .rip = "2001:db8::1", .lip = "::1" };
	struct sasl		*s;
	struct buf		 want, got, resp;

	t_begin();
	buf_init(&want, 1 << 16);
	buf_init(&got, 1 << 16);
	buf_init(&resp, 4096);
	fake_start(script);
	s = t_dc_open(10);
	check_int(t_dc(s, "alice", "s3cret pass", &tls), ==, SASL_OK);
	check_str(t_who, "alice@example.org");
	check_int(t_dc(s, "alice", "wrong", &plain), ==, SASL_FAIL);
	check_str(t_who, "");
	check_int(t_dc(s, "Alice", "s3cret pass", &v6), ==, SASL_OK);
	check_str(t_who, "Alice");
	sasl_close(s);
	fake_stop();

	/* one connection, ids 1, 2, 3, fields as documented */
	(void)buf_printf(&want, "AUTH\t1\tPLAIN\tservice=smtp\t"
	    "lip=192.0.2.2\trip=192.0.2.1\tlport=587\trport=40000\tsecured\t"
	    "%s\n", t_resp(&resp, "alice", "s3cret pass"));
	(void)buf_printf(&want, "AUTH\t2\tPLAIN\tservice=smtp\t%s\n",
	    t_resp(&resp, "alice", "wrong"));
	(void)buf_printf(&want, "AUTH\t3\tPLAIN\tservice=smtp\tlip=::1\t"
	    "rip=2001:db8::1\t%s\n", t_resp(&resp, "Alice", "s3cret pass"));
	check_str(t_slurp(t_req, &got), buf_str(&want));
	check(strstr(buf_str(&got), "no-penalty") == NULL);
	buf_free(&want);
	buf_free(&got);
	buf_free(&resp);
	t_end();
}

static void
t_dc_refusals(void)
{
	static const char *const script[] = {
		"accept", "hs",
		"req", "send:OK\t@ID@\tuser=nl\tnologin\n",
		"req", "send:OK\t@ID@\tuser=nl2\tnologin\treason=Go\001taway\n",
		"req", "send:OK\t@ID@\tuser=px\tproxy\thost=192.0.2.9\n",
		"req", "send:OK\t@ID@\tuser=ho\thost=192.0.2.9\n",
		"req", "send:OK\t@ID@\tuser=rs\treason=maintenance\n",
		"req", "send:OK\t@ID@\tuser=a\001tb\n",
		"req", "send:OK\t@ID@\tuser=a\0010b\n",
		"req", "send:OK\t@ID@\tuser=\n",
		"req", "send:OK\t@ID@\tuser=a\001xb\t\toriginal_user=ab\n",
		"req", "send:OK\t@ID@\tuser=a\0011b\n",
		NULL
	};
	struct sasl	*s;

	t_begin();
	fake_start(script);
	s = t_dc_open(10);
	check_int(t_dc(s, "nl", "pw", NULL), ==, SASL_FAIL);
	check(strstr(buf_str(&t_why), "(nologin)") != NULL);
	check_str(t_who, "");
	check_int(t_dc(s, "nl2", "pw", NULL), ==, SASL_FAIL);
	check(strstr(buf_str(&t_why), "(nologin): Go\\011away") != NULL);
	check_int(t_dc(s, "px", "pw", NULL), ==, SASL_FAIL);
	check(strstr(buf_str(&t_why), "(proxy)") != NULL);
	check_int(t_dc(s, "ho", "pw", NULL), ==, SASL_FAIL);
	check(strstr(buf_str(&t_why), "(host)") != NULL);
	check_int(t_dc(s, "rs", "pw", NULL), ==, SASL_FAIL);
	check(strstr(buf_str(&t_why), "(reason): maintenance") != NULL);
	check_int(t_dc(s, "ab", "pw", NULL), ==, SASL_FAIL);
	check(strstr(buf_str(&t_why), "control character") != NULL);
	check_int(t_dc(s, "ab", "pw", NULL), ==, SASL_FAIL);
	check_int(t_dc(s, "ab", "pw", NULL), ==, SASL_FAIL);
	check_int(t_dc(s, "ab", "pw", NULL), ==, SASL_OK);
	check_str(t_who, "axb");
	check_int(t_dc(s, "ab", "pw", NULL), ==, SASL_FAIL);
	sasl_close(s);
	t_end();
}

static void
t_dc_fail(void)
{
	static const char *const script[] = {
		"accept", "hs",
		"req", "send:FAIL\t@ID@\tuser=alice\n",
		"req", "send:FAIL\t@ID@\tuser=alice\tcode=temp_fail\n",
		"req", "send:FAIL\t@ID@\ttemp\n",
		"req", "send:FAIL\t@ID@\treason=Password expired\n",
		"req", "send:FAIL\t@ID@\tcode=authz_fail\n",
		"req", "send:OK\t@ID@\tuser=alice\n",
		NULL
	};
	struct sasl	*s;

	t_begin();
	fake_start(script);
	s = t_dc_open(10);
	check_int(t_dc(s, "alice", "pw", NULL), ==, SASL_FAIL);
	check_str(buf_str(&t_why), "authentication failed");
	check_int(t_dc(s, "alice", "pw", NULL), ==, SASL_TEMP);
	check(strstr(buf_str(&t_why), "temporary") != NULL);
	check_int(t_dc(s, "alice", "pw", NULL), ==, SASL_TEMP);
	check_int(t_dc(s, "alice", "pw", NULL), ==, SASL_FAIL);
	check_str(buf_str(&t_why), "authentication failed: Password expired");
	check_int(t_dc(s, "alice", "pw", NULL), ==, SASL_FAIL);
	/* the same connection all along */
	check_int(t_dc(s, "alice", "pw", NULL), ==, SASL_OK);
	sasl_close(s);
	t_end();
}

/* t_dc_one - a fresh fake server with script, one check: its status */
static enum sasl_status
t_dc_one(const char *const *script, int timeout)
{
	struct sasl		*s;
	enum sasl_status	 st;

	fake_start(script);
	s = t_dc_open(timeout);
	st = t_dc(s, "alice", "secret", NULL);
	sasl_close(s);
	fake_stop();
	return st;
}

static void
t_dc_protocol(void)
{
	static const char *const v2[] = {
		"accept", "hs:VERSION\t2\t0\nMECH\tPLAIN\nDONE\n", NULL };
	static const char *const noplain[] = {
		"accept", "hs:VERSION\t1\t2\nMECH\tLOGIN\tplaintext\n"
		"MECH\tPLAIN\tprivate\nSPID\t1\nDONE\n", NULL };
	static const char *const master[] = {
		"accept", "hs:VERSION\t1\t1\nSPID\t1\n", NULL };
	static const char *const smtp[] = {
		"accept", "hs:220 mail.example ESMTP\n", NULL };
	static const char *const cont[] = {
		"accept", "hs", "req", "send:CONT\t@ID@\t\n", NULL };
	static const char *const otherid[] = {
		"accept", "hs", "req", "send:OK\t99\tuser=alice\n", NULL };
	static const char *const bogus[] = {
		"accept", "hs", "req", "send:BOGUS\t@ID@\n", NULL };
	static const char *const toolong[] = {
		"accept", "hs", "req", "long", NULL };
	static const char *const eof[] = {
		"accept", "hs", "req", "close", NULL };
	static const char *const eofhs[] = {
		"accept", "close", NULL };
	static const char *const newer[] = {
		"accept", "hs:VERSION\t1\t9\nMECH\tPLAIN\tplaintext\n"
		"MECH\tXOAUTH2\tnew-flag\nSPID\t1\nCUID\t1\nNEWTHING\tx\n"
		"COOKIE\tc\nDONE\n", "req", "send:OK\t@ID@\tuser=alice\tnew\n",
		NULL };
	static const struct {
		const char *const	*script;
		enum sasl_status	 want;
		const char		*reason;
	} c[] = {
		{ v2, SASL_TEMP, "protocol version 2" },
		{ noplain, SASL_TEMP, "no PLAIN" },
		{ master, SASL_TEMP, "auth-master or auth-userdb" },
		{ smtp, SASL_TEMP, "not a Dovecot auth socket" },
		{ cont, SASL_TEMP, "CONT" },
		{ otherid, SASL_TEMP, "no reply to request 1" },
		{ bogus, SASL_TEMP, "unexpected reply \"BOGUS\"" },
		{ toolong, SASL_TEMP, "longer than" },
		{ eof, SASL_TEMP, "closed the connection" },
		{ eofhs, SASL_TEMP, "closed the connection" },
		{ newer, SASL_OK, "" },
	};
	long long	 t0;
	size_t		 i;

	t_begin();
	for (i = 0; i < nitems(c); i++) {
		t0 = now_ms();
		check_int(t_dc_one(c[i].script, 5), ==, c[i].want);
		if (!check(strstr(buf_str(&t_why), c[i].reason) != NULL))
			tap_diag("case %zu: %s", i, buf_str(&t_why));
		/* none of them waits for the deadline */
		check_int(now_ms() - t0, <, 3000);
		check(strstr(buf_str(&t_why), "secret") == NULL);
	}
	t_end();
}

static void
t_dc_timeout(void)
{
	static const char *const silent[] = { "accept", "sleep", NULL };
	static const char *const slow[] = {
		"accept", "hs", "req", "sleep", NULL };
	long long	 t0, dt;

	t_begin();
	t0 = now_ms();
	check_int(t_dc_one(silent, 1), ==, SASL_TEMP);
	dt = now_ms() - t0;
	check(strstr(buf_str(&t_why), "timed out after 1 s") != NULL);
	check_int(dt, >=, 900);
	check_int(dt, <, 5000);
	t0 = now_ms();
	check_int(t_dc_one(slow, 1), ==, SASL_TEMP);
	dt = now_ms() - t0;
	check(strstr(buf_str(&t_why), "timed out") != NULL);
	check_int(dt, >=, 900);
	check_int(dt, <, 5000);
	t_end();
}

static void
t_dc_reconnect(void)
{
	/* the server drops the idle connection; the next check reconnects */
	static const char *const idle[] = {
		"accept", "hs", "req", "send:OK\t@ID@\tuser=alice\n", "close",
		"accept", "hs", "req", "send:OK\t@ID@\tuser=alice\n", NULL };
	/* EOF on a fresh connection is not retried */
	static const char *const fresh[] = {
		"accept", "hs", "req", "close", NULL };
	/* the server dies after one check */
	static const char *const once[] = {
		"accept", "hs", "req", "send:OK\t@ID@\tuser=alice\n", NULL };
	struct sasl	*s;
	struct buf	 got;
	long long	 t0;

	t_begin();
	buf_init(&got, 1 << 16);
	fake_start(idle);
	s = t_dc_open(5);
	check_int(t_dc(s, "alice", "secret", NULL), ==, SASL_OK);
	usleep(100 * 1000);
	check_int(t_dc(s, "alice", "secret", NULL), ==, SASL_OK);
	sasl_close(s);
	fake_stop();
	/* two connections, so each request is number 1 */
	t_slurp(t_req, &got);
	check(strncmp(buf_str(&got), "AUTH\t1\t", 7) == 0);
	check(strstr(buf_str(&got), "\nAUTH\t1\t") != NULL);
	(void)unlink(t_req);

	t0 = now_ms();
	fake_start(fresh);
	s = t_dc_open(5);
	check_int(t_dc(s, "alice", "secret", NULL), ==, SASL_TEMP);
	check_int(now_ms() - t0, <, 3000);
	sasl_close(s);
	fake_stop();

	/* Dovecot stopped between two checks: TEMP, quickly */
	fake_start(once);
	s = t_dc_open(5);
	check_int(t_dc(s, "alice", "secret", NULL), ==, SASL_OK);
	fake_stop();
	t0 = now_ms();
	check_int(t_dc(s, "alice", "secret", NULL), ==, SASL_TEMP);
	check(strstr(buf_str(&t_why), "cannot connect") != NULL);
	check_int(now_ms() - t0, <, 3000);
	/* and back again */
	fake_start(once);
	check_int(t_dc(s, "alice", "secret", NULL), ==, SASL_OK);
	sasl_close(s);
	buf_free(&got);
	t_end();
}

static void
t_dc_nosocket(void)
{
	struct sasl	*s;
	struct buf	 path;
	int		 fd;

	t_begin();
	s = t_dc_open(5);
	check_int(t_dc(s, "alice", "secret", NULL), ==, SASL_TEMP);
	check(strstr(buf_str(&t_why), "No such file") != NULL);
	/* checked before any backend: FAIL, not TEMP */
	check_int(sasl_auth(s, "alice", "secret", "bob", NULL, t_who,
	    sizeof(t_who), &t_why), ==, SASL_FAIL);
	check_str(buf_str(&t_why), "authorization identity differs");
	check_int(t_dc(s, "al\nice", "secret", NULL), ==, SASL_FAIL);
	sasl_close(s);
	/* a socket path that is a regular file */
	if ((fd = open(t_sock, O_WRONLY | O_CREAT, 0600)) == -1)
		abort();
	close(fd);
	s = t_dc_open(5);
	check_int(t_dc(s, "alice", "secret", NULL), ==, SASL_TEMP);
	check(strstr(buf_str(&t_why), "cannot connect") != NULL);
	sasl_close(s);
	/* a path longer than sun_path */
	buf_init(&path, 4096);
	(void)buf_adds(&path, "/");
	while (path.len < 200)
		(void)buf_adds(&path, "long/");
	check((s = sasl_open("dovecot", buf_str(&path), &t_why)) != NULL);
	check_int(t_dc(s, "alice", "secret", NULL), ==, SASL_TEMP);
	check(strstr(buf_str(&t_why), "too long") != NULL);
	sasl_close(s);
	buf_free(&path);
	t_end();
}

int
main(void)
{
	buf_init(&t_why, 4096);
	log_init("t-sasl", "test");
	signal(SIGPIPE, SIG_IGN);

	TEST(t_open, "sasl_open checks the type and the path only");
	TEST(t_pf_schemes, "passwd-file: every scheme, hashes from openssl, "
	    "mkpasswd and doveadm");
	TEST(t_pf_case, "passwd-file: user names match without ASCII case; "
	    "who as the file spells it");
	TEST(t_pf_bad_schemes, "passwd-file: unusable password fields fail "
	    "closed, logged once per handle");
	TEST(t_pf_malformed, "passwd-file: comments, blank and malformed "
	    "lines");
	TEST(t_pf_mode, "passwd-file: a world-readable file is a warning");
	TEST(t_pf_refused, "passwd-file: nologin, proxy and host refuse");
	TEST(t_pf_duplicate, "passwd-file: the first of two lines counts");
	TEST(t_pf_authzid, "an authorization identity must be the user");
	TEST(t_pf_ctl, "control characters are refused, the password never "
	    "shown");
	TEST(t_pf_limits, "user name and password limits");
	TEST(t_pf_missing, "passwd-file: missing file, directory, empty "
	    "file, small who");
	TEST(t_dc_request, "dovecot: the AUTH line, ids, secured, rip/lip "
	    "only when addresses");
	TEST(t_dc_refusals, "dovecot: OK with nologin, proxy, host, reason "
	    "or an odd user name is a failure");
	TEST(t_dc_fail, "dovecot: FAIL, and temp_fail as TEMP");
	TEST(t_dc_protocol, "dovecot: protocol errors are TEMP");
	TEST(t_dc_timeout, "dovecot: a silent server is TEMP at the "
	    "deadline");
	TEST(t_dc_reconnect, "dovecot: a stale connection is made again "
	    "once; a stopped server is TEMP");
	TEST(t_dc_nosocket, "dovecot: no socket, a file, a long path");

	buf_free(&t_why);
	return test_done();
}
