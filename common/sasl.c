/*
 * sasl - password checks for smtpd-lite's AUTH: Dovecot's auth-client
 * protocol and Dovecot's passwd-file format.  See sasl.h.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <crypt.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/base64.h"
#include "common/buf.h"
#include "common/log.h"
#include "common/sasl.h"
#include "common/util.h"

#define SASL_FIELDS_MAX	64	/* fields of a Dovecot reply */
#define SASL_HASH_MAX	1024	/* a passwd-file password field */
#define SASL_SCHEME_MAX	32	/* a {SCHEME} name */
#define SASL_WHY_MAX	1024	/* why's text */
#define DC_MAJOR	1	/* Dovecot auth protocol version we speak */
#define DC_MINOR	2
#define DC_ESCAPE	'\001'	/* Dovecot's tab-escaping character */

/*
 * An unknown user still costs one crypt(3) of this (openssl passwd -6
 * -salt dummysaltdummysa x), so timing does not tell who exists.
 */
#define PF_DUMMY_HASH	"$6$dummysaltdummysa$.YyK8/PacERLHjvoYsPahbs84" \
			"qAYUaqIA0t/gMO/pJjDqJA8iVQNJgF4UfpAB8VEaJ96" \
			"GELcq2JBBtR4tZGNS0"

enum sasl_type {
	SASL_TYPE_DOVECOT = 0,
	SASL_TYPE_PASSWD_FILE,
};

/* passwd-file warnings already logged for this handle */
enum pf_warn {
	PF_WARN_MODE = 1 << 0,		/* world-readable */
	PF_WARN_MALFORMED = 1 << 1,	/* a line without user or ":" */
	PF_WARN_SCHEME = 1 << 2,	/* an unusable password field */
	PF_WARN_DUP = 1 << 3,		/* a user on two lines */
};

/* what went wrong on the Dovecot connection, for the one retry */
enum dc_err {
	DC_ERR_NONE = 0,
	DC_ERR_BROKEN,		/* EOF, EPIPE, ECONNRESET: maybe stale */
	DC_ERR_OTHER,		/* timeout, protocol, anything else */
};

enum pf_kind {
	PF_CRYPT = 0,		/* crypt_r(3), the value is the setting */
	PF_PLAIN,		/* the value is the password */
};

static const struct pf_scheme {
	const char	*name;
	enum pf_kind	 kind;
	const char	*prefix[3];	/* the value must start with one */
} pf_schemes[] = {
	{ "CRYPT", PF_CRYPT, { NULL } },
	{ "SHA512-CRYPT", PF_CRYPT, { "$6$" } },
	{ "SHA256-CRYPT", PF_CRYPT, { "$5$" } },
	{ "MD5-CRYPT", PF_CRYPT, { "$1$" } },
	{ "BLF-CRYPT", PF_CRYPT, { "$2a$", "$2b$", "$2y$" } },
	{ "PLAIN", PF_PLAIN, { NULL } },
	{ "CLEARTEXT", PF_PLAIN, { NULL } },
};

struct sasl {
	enum sasl_type	 type;
	char		*path;
	int		 timeout;	/* seconds per sasl_auth() */
	unsigned int	 warned;	/* enum pf_warn bits */

	/* Dovecot */
	int		 fd;		/* -1: not connected */
	unsigned int	 reqid;		/* the last request's id */
	enum dc_err	 err;		/* the last failure's kind */
	size_t		 inoff;		/* in[] consumed up to */
	size_t		 inlen;		/* in[] filled up to */
	char		 in[SASL_LINE_MAX + 1];
};

static enum sasl_status sasl_fail(struct buf *, enum sasl_status,
	    const char *, ...) __attribute__((format(printf, 3, 4)));
static enum sasl_status sasl_vfail(struct buf *, enum sasl_status,
	    const char *, va_list) __attribute__((format(printf, 3, 0)));
static enum sasl_status sasl_check(const char *, const char *,
	    const char *, struct buf *);
static int	 ct_equal(const char *, size_t, const char *, size_t);
static int	 secret_init(struct buf *, size_t);
static void	 secret_free(struct buf *);

static void	 dc_drop(struct sasl *);
static enum sasl_status dc_fail(struct sasl *, enum dc_err, struct buf *,
	    const char *, ...) __attribute__((format(printf, 4, 5)));
static enum sasl_status dc_connect(struct sasl *, long long, struct buf *);
static enum sasl_status dc_handshake(struct sasl *, long long, struct buf *);
static enum sasl_status dc_write(struct sasl *, const char *, size_t,
	    long long, struct buf *);
static enum sasl_status dc_readline(struct sasl *, long long, char **,
	    struct buf *);
static enum sasl_status dc_wait(struct sasl *, short, long long,
	    struct buf *);
static size_t	 dc_split(char *, char **, size_t);
static size_t	 dc_unescape(char *);
static int	 dc_is_ip(const char *);
static int	 dc_service_ok(const char *);
static enum sasl_status dc_request(struct sasl *, const char *,
	    const char *, const struct sasl_client *, long long, char *,
	    size_t, struct buf *);
static enum sasl_status dc_auth(struct sasl *, const char *, const char *,
	    const struct sasl_client *, long long, char *, size_t,
	    struct buf *);

static enum sasl_status pf_read(struct sasl *, char **, size_t *,
	    struct buf *);
static const char *pf_field(const char *, const char *, int, size_t *);
static const char *pf_refused(const char *, size_t);
static enum sasl_status pf_verify(struct sasl *, const char *, size_t,
	    const char *, struct buf *);
static int	 pf_crypt_equal(const char *, const char *, int *);
static enum sasl_status pf_auth(struct sasl *, const char *, const char *,
	    char *, size_t, struct buf *);

/* sasl_fail - set why (when given) to the reason and return status */
static enum sasl_status
sasl_fail(struct buf *why, enum sasl_status status, const char *fmt, ...)
{
	enum sasl_status st;
	va_list		 ap;

	va_start(ap, fmt);
	st = sasl_vfail(why, status, fmt, ap);
	va_end(ap);
	return st;
}

/* sasl_vfail - sasl_fail with a va_list; errno is kept */
static enum sasl_status
sasl_vfail(struct buf *why, enum sasl_status status, const char *fmt,
    va_list ap)
{
	int	 saved = errno;

	if (why != NULL) {
		buf_reset(why);
		(void)buf_vprintf(why, fmt, ap);
	}
	errno = saved;
	return status;
}

/* sasl_open - a handle for backend type; checks arguments only */
struct sasl *
sasl_open(const char *type, const char *path, struct buf *why)
{
	struct sasl	*s;
	enum sasl_type	 t;
	char		 safe[LOG_SAFE_MAX];

	if (type == NULL || path == NULL) {
		(void)sasl_fail(why, SASL_TEMP, "SASL: no type or no path");
		return NULL;
	}
	if (strcmp(type, "dovecot") == 0)
		t = SASL_TYPE_DOVECOT;
	else if (strcmp(type, "passwd-file") == 0)
		t = SASL_TYPE_PASSWD_FILE;
	else {
		(void)sasl_fail(why, SASL_TEMP, "unsupported SASL type \"%s\""
		    " (dovecot or passwd-file)",
		    log_safe(safe, sizeof(safe), type, strlen(type)));
		return NULL;
	}
	if (path[0] != '/') {
		(void)sasl_fail(why, SASL_TEMP, "SASL %s path \"%s\" is %s",
		    type, log_safe(safe, sizeof(safe), path, strlen(path)),
		    path[0] == '\0' ? "empty" : "not absolute");
		return NULL;
	}
	if ((s = calloc(1, sizeof(*s))) == NULL ||
	    (s->path = strdup(path)) == NULL) {
		free(s);
		(void)sasl_fail(why, SASL_TEMP, "SASL: out of memory");
		return NULL;
	}
	s->type = t;
	s->timeout = SASL_TIMEOUT;
	s->fd = -1;
	return s;
}

/* sasl_set_timeout - seconds for one sasl_auth() (at least 1) */
void
sasl_set_timeout(struct sasl *s, int seconds)
{
	s->timeout = seconds < 1 ? 1 : seconds;
}

/* sasl_close - drop the connection, release the handle (NULL is fine) */
void
sasl_close(struct sasl *s)
{
	if (s == NULL)
		return;
	dc_drop(s);
	free(s->path);
	free(s);
}

/* sasl_check - what no backend is asked about (SASL_FAIL), else OK */
static enum sasl_status
sasl_check(const char *user, const char *pass, const char *authzid,
    struct buf *why)
{
	size_t	 ulen, plen, i;

	if (user == NULL || *user == '\0')
		return sasl_fail(why, SASL_FAIL, "empty user name");
	if (pass == NULL)
		return sasl_fail(why, SASL_FAIL, "no password");
	ulen = strlen(user);
	plen = strlen(pass);
	if (ulen > SASL_USER_MAX)
		return sasl_fail(why, SASL_FAIL, "user name longer than %d "
		    "bytes", SASL_USER_MAX);
	if (plen > SASL_PASS_MAX)
		return sasl_fail(why, SASL_FAIL, "password longer than %d "
		    "bytes", SASL_PASS_MAX);
	if (str_has_ctl(user, ulen) || strchr(user, '\t') != NULL)
		return sasl_fail(why, SASL_FAIL, "control character in the "
		    "user name");
	for (i = 0; i < plen; i++)
		if (pass[i] == '\r' || pass[i] == '\n' || pass[i] == '\t')
			return sasl_fail(why, SASL_FAIL, "CR, LF or TAB in the "
			    "password");
	if (authzid != NULL && *authzid != '\0') {
		if (str_has_ctl(authzid, strlen(authzid)) ||
		    strchr(authzid, '\t') != NULL)
			return sasl_fail(why, SASL_FAIL, "control character "
			    "in the authorization identity");
		if (strcmp(authzid, user) != 0)
			return sasl_fail(why, SASL_FAIL, "authorization "
			    "identity differs");
	}
	return SASL_OK;
}

/* sasl_auth - check user and pass with the backend; see sasl.h */
enum sasl_status
sasl_auth(struct sasl *s, const char *user, const char *pass,
    const char *authzid, const struct sasl_client *cl, char *who,
    size_t whosz, struct buf *why)
{
	static const struct sasl_client	 none;
	enum sasl_status		 st;
	long long			 deadline;

	if (who != NULL && whosz > 0)
		who[0] = '\0';
	if (why != NULL)
		buf_reset(why);
	if ((st = sasl_check(user, pass, authzid, why)) != SASL_OK)
		return st;
	if (cl == NULL)
		cl = &none;
	deadline = now_ms() + (long long)s->timeout * 1000;
	if (s->type == SASL_TYPE_DOVECOT)
		return dc_auth(s, user, pass, cl, deadline, who, whosz, why);
	return pf_auth(s, user, pass, who, whosz, why);
}

/*
 * ct_equal - whether a (alen bytes, the candidate) equals b, in a time
 * that depends on alen only
 */
static int
ct_equal(const char *a, size_t alen, const char *b, size_t blen)
{
	volatile unsigned char	 d = 0;
	size_t			 i, j;

	for (i = 0; i < alen; i++) {
		j = i < blen ? i : 0;
		d |= (unsigned char)a[i] ^ (unsigned char)(blen ? b[j] : 0);
	}
	return d == 0 && alen == blen;
}

/*
 * secret_init - a buf for secrets: max bytes allocated at once, so no
 * realloc() leaves a copy behind; secret_free() wipes it
 */
static int
secret_init(struct buf *b, size_t max)
{
	buf_init(b, max);
	if (buf_printf(b, "%*s", (int)max, "") != BUF_OK)
		return -1;
	buf_reset(b);
	return 0;
}

/* secret_free - wipe and release a secret_init() buf */
static void
secret_free(struct buf *b)
{
	if (b->data != NULL)
		explicit_bzero(b->data, b->cap);
	buf_free(b);
}

/*
 * Dovecot
 */

/* dc_drop - close the connection; the next request connects anew */
static void
dc_drop(struct sasl *s)
{
	if (s->fd != -1)
		(void)close(s->fd);
	s->fd = -1;
	s->reqid = 0;
	s->inoff = s->inlen = 0;
}

/* dc_fail - drop the connection, note err, set why: SASL_TEMP */
static enum sasl_status
dc_fail(struct sasl *s, enum dc_err err, struct buf *why, const char *fmt,
    ...)
{
	enum sasl_status st;
	va_list		 ap;
	int		 saved = errno;

	dc_drop(s);
	s->err = err;
	errno = saved;		/* dc_fail keeps errno, as sasl_fail does */
	va_start(ap, fmt);
	st = sasl_vfail(why, SASL_TEMP, fmt, ap);
	va_end(ap);
	return st;
}

/* dc_connect - connect to the auth-client socket and shake hands */
static enum sasl_status
dc_connect(struct sasl *s, long long deadline, struct buf *why)
{
	struct sockaddr_un	 sa;
	socklen_t		 len;
	int			 fd, r, soerr;

	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	if (str_copy(sa.sun_path, sizeof(sa.sun_path), s->path) == -1)
		return dc_fail(s, DC_ERR_OTHER, why, "Dovecot auth socket "
		    "path too long: %s", s->path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd == -1)
		return dc_fail(s, DC_ERR_OTHER, why, "Dovecot auth socket: "
		    "socket: %s", strerror(errno));
	s->fd = fd;
	while ((r = connect(fd, (struct sockaddr *)&sa, sizeof(sa))) == -1 &&
	    errno == EINTR)
		;
	if (r == -1 && errno == EINPROGRESS) {
		r = poll_until(fd, POLLOUT, deadline);
		if (r == 0)
			return dc_fail(s, DC_ERR_OTHER, why, "cannot connect "
			    "to Dovecot auth socket %s: timed out", s->path);
		len = sizeof(soerr);
		if (r == 1 && getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr,
		    &len) == 0) {
			errno = soerr;
			r = soerr == 0 ? 0 : -1;
		} else
			r = -1;
	}
	if (r == -1)
		return dc_fail(s, DC_ERR_OTHER, why, "cannot connect to "
		    "Dovecot auth socket %s: %s", s->path,
		    errno == EAGAIN ? "server busy" : strerror(errno));
	return dc_handshake(s, deadline, why);
}

/*
 * dc_handshake - send VERSION and CPID, read the server's VERSION,
 * MECH, SPID, CUID, COOKIE up to DONE
 */
static enum sasl_status
dc_handshake(struct sasl *s, long long deadline, struct buf *why)
{
	char		 hello[64], *line, *f[SASL_FIELDS_MAX];
	char		 safe[LOG_SAFE_MAX];
	size_t		 nf, i;
	int		 version = 0, mechs = 0, plain = 0, priv;
	enum sasl_status st;

	if (bsnprintf(hello, sizeof(hello), "VERSION\t%d\t%d\nCPID\t%ld\n",
	    DC_MAJOR, DC_MINOR, (long)getpid()) == -1)
		return dc_fail(s, DC_ERR_OTHER, why, "Dovecot handshake");
	if ((st = dc_write(s, hello, strlen(hello), deadline, why)) != SASL_OK)
		return st;
	for (;;) {
		if ((st = dc_readline(s, deadline, &line, why)) != SASL_OK)
			return st;
		nf = dc_split(line, f, nitems(f));
		if (!version) {
			if (nf < 3 || strcmp(f[0], "VERSION") != 0)
				return dc_fail(s, DC_ERR_OTHER, why,
				    "%s is not a Dovecot auth socket: "
				    "\"%s\"", s->path, log_safe(safe,
				    sizeof(safe), f[0], strlen(f[0])));
			if (strcmp(f[1], "1") != 0)
				return dc_fail(s, DC_ERR_OTHER, why,
				    "Dovecot auth protocol version %s, not "
				    "%d", log_safe(safe, sizeof(safe), f[1],
				    strlen(f[1])), DC_MAJOR);
			version = 1;
		} else if (strcmp(f[0], "MECH") == 0 && nf >= 2) {
			mechs++;
			for (priv = 0, i = 2; i < nf; i++)
				if (strcmp(f[i], "private") == 0)
					priv = 1;
			if (!priv && str_casecmp_ascii(f[1], "PLAIN") == 0)
				plain = 1;
		} else if (strcmp(f[0], "SPID") == 0) {
			/* auth-master and auth-userdb send VERSION, SPID */
			if (mechs == 0)
				return dc_fail(s, DC_ERR_OTHER, why,
				    "%s is not Dovecot's auth-client socket "
				    "(auth-master or auth-userdb?)", s->path);
		} else if (strcmp(f[0], "DONE") == 0)
			break;
		/* CUID, COOKIE and anything new: not needed */
	}
	if (!plain)
		return dc_fail(s, DC_ERR_OTHER, why, "Dovecot offers no PLAIN "
		    "mechanism (auth_mechanisms)");
	return SASL_OK;
}

/* dc_write - send n bytes before the deadline */
static enum sasl_status
dc_write(struct sasl *s, const char *p, size_t n, long long deadline,
    struct buf *why)
{
	enum sasl_status st;
	ssize_t		 w;

	while (n > 0) {
		w = send(s->fd, p, n, MSG_NOSIGNAL);
		if (w >= 0) {
			p += w;
			n -= (size_t)w;
			continue;
		}
		if (errno == EINTR)
			continue;
		if (errno == EPIPE || errno == ECONNRESET)
			return dc_fail(s, DC_ERR_BROKEN, why, "Dovecot auth "
			    "server closed the connection");
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			return dc_fail(s, DC_ERR_OTHER, why, "writing to "
			    "Dovecot auth socket: %s", strerror(errno));
		if ((st = dc_wait(s, POLLOUT, deadline, why)) != SASL_OK)
			return st;
	}
	return SASL_OK;
}

/* dc_wait - wait for events on the socket until the deadline */
static enum sasl_status
dc_wait(struct sasl *s, short events, long long deadline, struct buf *why)
{
	switch (poll_until(s->fd, events, deadline)) {
	case 0:
		return dc_fail(s, DC_ERR_OTHER, why, "Dovecot auth server: "
		    "timed out after %d s", s->timeout);
	case -1:
		return dc_fail(s, DC_ERR_OTHER, why, "Dovecot auth socket: "
		    "poll: %s", strerror(errno));
	default:
		return SASL_OK;
	}
}

/*
 * dc_readline - the next line, LF removed, NUL-terminated in s->in;
 * valid until the next read
 */
static enum sasl_status
dc_readline(struct sasl *s, long long deadline, char **line,
    struct buf *why)
{
	enum sasl_status st;
	char		*nl;
	ssize_t		 r;

	for (;;) {
		nl = memchr(s->in + s->inoff, '\n', s->inlen - s->inoff);
		if (nl != NULL) {
			*nl = '\0';
			*line = s->in + s->inoff;
			s->inoff = (size_t)(nl - s->in) + 1;
			return SASL_OK;
		}
		if (s->inoff > 0) {
			memmove(s->in, s->in + s->inoff, s->inlen - s->inoff);
			s->inlen -= s->inoff;
			s->inoff = 0;
		}
		if (s->inlen >= SASL_LINE_MAX)
			return dc_fail(s, DC_ERR_OTHER, why, "Dovecot auth "
			    "protocol: line longer than %d bytes",
			    SASL_LINE_MAX);
		r = read(s->fd, s->in + s->inlen, SASL_LINE_MAX - s->inlen);
		if (r > 0) {
			s->inlen += (size_t)r;
			continue;
		}
		if (r == 0 || errno == ECONNRESET)
			return dc_fail(s, DC_ERR_BROKEN, why, "Dovecot auth "
			    "server closed the connection");
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			return dc_fail(s, DC_ERR_OTHER, why, "reading from "
			    "Dovecot auth socket: %s", strerror(errno));
		if ((st = dc_wait(s, POLLIN, deadline, why)) != SASL_OK)
			return st;
	}
}

/* dc_split - cut line at TABs into at most max fields */
static size_t
dc_split(char *line, char **f, size_t max)
{
	size_t	 n = 0;
	char	*tab;

	while (n < max) {
		f[n++] = line;
		if ((tab = strchr(line, '\t')) == NULL)
			break;
		*tab = '\0';
		line = tab + 1;
	}
	return n;
}

/*
 * dc_unescape - undo Dovecot's tab-escaping in place (\001 then 0, 1,
 * t, r, n or l); returns the length, which counts any NUL it made
 */
static size_t
dc_unescape(char *p)
{
	char	*o = p;
	size_t	 n = 0;

	for (; *p != '\0'; p++) {
		if (*p == DC_ESCAPE && p[1] != '\0') {
			switch (*++p) {
			case '0':
				o[n++] = '\0';
				break;
			case '1':
				o[n++] = DC_ESCAPE;
				break;
			case 't':
				o[n++] = '\t';
				break;
			case 'r':
				o[n++] = '\r';
				break;
			case 'n':
			case 'l':
				o[n++] = '\n';
				break;
			default:
				o[n++] = *p;
				break;
			}
		} else
			o[n++] = *p;
	}
	o[n] = '\0';
	return n;
}

/* dc_is_ip - whether s is an IPv4 or IPv6 address literal */
static int
dc_is_ip(const char *s)
{
	struct in6_addr	 a6;
	struct in_addr	 a4;

	if (s == NULL)
		return 0;
	return inet_pton(AF_INET, s, &a4) == 1 ||
	    inet_pton(AF_INET6, s, &a6) == 1;
}

/* dc_service_ok - a service name Dovecot can take as it is */
static int
dc_service_ok(const char *s)
{
	if (*s == '\0' || strlen(s) > 64)
		return 0;
	for (; *s != '\0'; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		    (*s >= '0' && *s <= '9') || *s == '-' || *s == '_' ||
		    *s == '.'))
			return 0;
	return 1;
}

/* dc_auth - one request, connecting first; once more if the kept
 * connection turns out to have broken while idle */
static enum sasl_status
dc_auth(struct sasl *s, const char *user, const char *pass,
    const struct sasl_client *cl, long long deadline, char *who,
    size_t whosz, struct buf *why)
{
	enum sasl_status st;
	int		 kept, tries;

	for (tries = 0; tries < 2; tries++) {
		kept = s->fd != -1;
		s->err = DC_ERR_NONE;
		if (!kept && (st = dc_connect(s, deadline, why)) != SASL_OK)
			return st;
		st = dc_request(s, user, pass, cl, deadline, who, whosz, why);
		if (st != SASL_TEMP || !kept || s->err != DC_ERR_BROKEN)
			return st;
	}
	return st;
}

/* dc_request - send AUTH, read its OK, FAIL or CONT */
static enum sasl_status
dc_request(struct sasl *s, const char *user, const char *pass,
    const struct sasl_client *cl, long long deadline, char *who,
    size_t whosz, struct buf *why)
{
	struct buf	 req;
	char		 plain[SASL_USER_MAX + SASL_PASS_MAX + 2];
	char		*line, *f[SASL_FIELDS_MAX];
	const char	*name = NULL;
	char		 safe[LOG_SAFE_MAX], idstr[16];
	const char	*service, *refuse = NULL, *reason = NULL;
	size_t		 ulen, plen, nf, i, nlen = 0;
	int		 temp = 0, bad = 0;
	enum sasl_status st;

	service = cl->service != NULL ? cl->service : "smtp";
	if (!dc_service_ok(service))
		return sasl_fail(why, SASL_TEMP, "bad SASL service name");
	if (++s->reqid == 0)
		s->reqid = 1;
	if (bsnprintf(idstr, sizeof(idstr), "%u", s->reqid) == -1)
		return dc_fail(s, DC_ERR_OTHER, why, "Dovecot request id");

	/* "AUTH id PLAIN service= lip= rip= lport= rport= secured resp=" */
	ulen = strlen(user);
	plen = strlen(pass);
	plain[0] = '\0';
	memcpy(plain + 1, user, ulen);
	plain[1 + ulen] = '\0';
	memcpy(plain + 2 + ulen, pass, plen);
	if (secret_init(&req, SASL_LINE_MAX) == -1) {
		explicit_bzero(plain, sizeof(plain));
		return sasl_fail(why, SASL_TEMP, "SASL: out of memory");
	}
	bad |= buf_printf(&req, "AUTH\t%s\tPLAIN\tservice=%s", idstr,
	    service);
	if (dc_is_ip(cl->lip))
		bad |= buf_printf(&req, "\tlip=%s", cl->lip);
	if (dc_is_ip(cl->rip))
		bad |= buf_printf(&req, "\trip=%s", cl->rip);
	if (cl->lport > 0 && cl->lport <= 65535)
		bad |= buf_printf(&req, "\tlport=%d", cl->lport);
	if (cl->rport > 0 && cl->rport <= 65535)
		bad |= buf_printf(&req, "\trport=%d", cl->rport);
	if (cl->secured)
		bad |= buf_adds(&req, "\tsecured");
	bad |= buf_adds(&req, "\tresp=");
	bad |= base64_encode(&req, plain, ulen + plen + 2);
	bad |= buf_addc(&req, '\n');
	explicit_bzero(plain, sizeof(plain));
	if (bad != BUF_OK) {
		secret_free(&req);
		return dc_fail(s, DC_ERR_OTHER, why, "Dovecot request too "
		    "long or out of memory");
	}
	st = dc_write(s, req.data, req.len, deadline, why);
	secret_free(&req);
	if (st != SASL_OK)
		return st;

	if ((st = dc_readline(s, deadline, &line, why)) != SASL_OK)
		return st;
	nf = dc_split(line, f, nitems(f));
	if (nf < 2 || strcmp(f[1], idstr) != 0)
		return dc_fail(s, DC_ERR_OTHER, why, "Dovecot auth protocol: "
		    "\"%s\" is no reply to request %s", log_safe(safe,
		    sizeof(safe), f[0], strlen(f[0])), idstr);
	if (strcmp(f[0], "CONT") == 0)
		return dc_fail(s, DC_ERR_OTHER, why, "Dovecot auth protocol: "
		    "CONT for a PLAIN request with its response");
	if (strcmp(f[0], "OK") != 0 && strcmp(f[0], "FAIL") != 0)
		return dc_fail(s, DC_ERR_OTHER, why, "Dovecot auth protocol: "
		    "unexpected reply \"%s\"", log_safe(safe, sizeof(safe),
		    f[0], strlen(f[0])));
	for (i = 2; i < nf; i++) {
		if (strncmp(f[i], "user=", 5) == 0 && name == NULL) {
			nlen = dc_unescape(f[i] + 5);
			name = f[i] + 5;
		} else if (strcmp(f[i], "nologin") == 0)
			refuse = "nologin";
		else if (strcmp(f[i], "proxy") == 0 && refuse == NULL)
			refuse = "proxy";
		else if (strncmp(f[i], "host=", 5) == 0 && refuse == NULL)
			refuse = "host";
		else if (strncmp(f[i], "reason=", 7) == 0) {
			reason = f[i] + 7;
			(void)dc_unescape(f[i] + 7);
		} else if (strcmp(f[i], "code=temp_fail") == 0 ||
		    strcmp(f[i], "temp") == 0)
			temp = 1;
	}
	if (strcmp(f[0], "FAIL") == 0) {
		if (temp)
			return sasl_fail(why, SASL_TEMP, "Dovecot: temporary "
			    "authentication failure%s%s", reason ? ": " : "",
			    reason ? log_safe(safe, sizeof(safe), reason,
			    strlen(reason)) : "");
		return sasl_fail(why, SASL_FAIL, "authentication failed%s%s",
		    reason ? ": " : "", reason ? log_safe(safe,
		    sizeof(safe), reason, strlen(reason)) : "");
	}

	/* OK, but "OK does not mean access granted" */
	if (refuse != NULL || reason != NULL)
		return sasl_fail(why, SASL_FAIL, "Dovecot refused the login "
		    "(%s)%s%s", refuse != NULL ? refuse : "reason",
		    reason ? ": " : "", reason ? log_safe(safe, sizeof(safe),
		    reason, strlen(reason)) : "");
	if (name == NULL) {
		name = user;
		nlen = strlen(user);
	}
	if (nlen == 0 || nlen != strlen(name) || str_has_ctl(name, nlen) ||
	    strchr(name, '\t') != NULL)
		return sasl_fail(why, SASL_FAIL, "Dovecot's user name is "
		    "empty or holds a control character");
	if (who != NULL && str_copy(who, whosz, name) == -1)
		return sasl_fail(why, SASL_FAIL, "Dovecot's user name is too "
		    "long: %s", log_safe(safe, sizeof(safe), name, nlen));
	return SASL_OK;
}

/*
 * passwd-file
 */

/* pf_read - the whole file into *data (wipe and free it), or TEMP */
static enum sasl_status
pf_read(struct sasl *s, char **data, size_t *len, struct buf *why)
{
	struct stat	 st;
	ssize_t		 r;
	char		*p;
	int		 fd;

	*data = NULL;
	*len = 0;
	fd = open(s->path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd == -1)
		return sasl_fail(why, SASL_TEMP, "cannot open passwd-file %s: "
		    "%s", s->path, strerror(errno));
	if (fstat(fd, &st) == -1) {
		(void)sasl_fail(why, SASL_TEMP, "passwd-file %s: fstat: %s",
		    s->path, strerror(errno));
		(void)close(fd);
		return SASL_TEMP;
	}
	if (!S_ISREG(st.st_mode) || st.st_size > SASL_FILE_MAX) {
		(void)close(fd);
		return sasl_fail(why, SASL_TEMP, "passwd-file %s: %s",
		    s->path, S_ISREG(st.st_mode) ? "too big" :
		    "not a regular file");
	}
	if ((st.st_mode & S_IROTH) && !(s->warned & PF_WARN_MODE)) {
		s->warned |= PF_WARN_MODE;
		log_warnx("passwd-file %s is world-readable: anyone on this "
		    "host can try to crack its hashes (chmod o-r)", s->path);
	}
	if ((p = malloc((size_t)st.st_size + 1)) == NULL) {
		(void)close(fd);
		return sasl_fail(why, SASL_TEMP, "passwd-file %s: out of "
		    "memory", s->path);
	}
	r = read_full(fd, p, (size_t)st.st_size);
	(void)close(fd);
	if (r < 0) {
		(void)sasl_fail(why, SASL_TEMP, "reading passwd-file %s: %s",
		    s->path, strerror(errno));
		explicit_bzero(p, (size_t)st.st_size);
		free(p);
		return SASL_TEMP;
	}
	p[r] = '\0';
	*data = p;
	*len = (size_t)r;
	return SASL_OK;
}

/*
 * pf_field - the n-th ":"-field (0: the user) of the line [p, end) and
 * its length; the last one asked for (n == -1: the extra fields) runs
 * to the end of the line.  NULL when the line is shorter.
 */
static const char *
pf_field(const char *p, const char *end, int n, size_t *len)
{
	const char	*c;
	int		 i, last = n < 0;

	if (last)
		n = 7;
	for (i = 0; i < n; i++) {
		if ((c = memchr(p, ':', (size_t)(end - p))) == NULL)
			return NULL;
		p = c + 1;
	}
	if (last || (c = memchr(p, ':', (size_t)(end - p))) == NULL)
		c = end;
	*len = (size_t)(c - p);
	return p;
}

/*
 * pf_refused - the extra field (space-separated) that refuses the login,
 * as Dovecot's OK would: nologin, proxy or host; NULL when none does
 */
static const char *
pf_refused(const char *p, size_t len)
{
	static const char *const words[] = { "nologin", "proxy", "host" };
	const char	*end = p + len, *w;
	size_t		 i, n;

	while (p < end) {
		while (p < end && *p == ' ')
			p++;
		for (w = p; p < end && *p != ' '; p++)
			;
		for (i = 0; i < nitems(words); i++) {
			n = strlen(words[i]);
			if ((size_t)(p - w) >= n &&
			    memcmp(w, words[i], n) == 0 &&
			    ((size_t)(p - w) == n || w[n] == '='))
				return words[i];
		}
	}
	return NULL;
}

/*
 * pf_crypt_equal - whether crypt_r(pass, hash) gives hash; -1 (with
 * *unsupported) when libcrypt cannot use the hash
 */
static int
pf_crypt_equal(const char *pass, const char *hash, int *unsupported)
{
	struct crypt_data	*cd;
	const char		*out;
	int			 eq = 0;

	*unsupported = 0;
	if ((cd = calloc(1, sizeof(*cd))) == NULL)
		return -1;
	out = crypt_r(pass, hash, cd);
	if (out == NULL || out[0] == '*' || out[0] == '\0')
		*unsupported = 1;
	else
		eq = ct_equal(out, strlen(out), hash, strlen(hash));
	explicit_bzero(cd, sizeof(*cd));
	free(cd);
	return *unsupported ? -1 : eq;
}

/*
 * pf_verify - pass against the password field [pw, pw + len): OK,
 * FAIL (wrong or unusable, fail closed) or TEMP (out of memory)
 */
static enum sasl_status
pf_verify(struct sasl *s, const char *pw, size_t len, const char *pass,
    struct buf *why)
{
	const struct pf_scheme	*sc = NULL;
	const char		*val = pw, *rb;
	char			 name[SASL_SCHEME_MAX + 1];
	char			 hash[SASL_HASH_MAX + 1];
	char			 safe[LOG_SAFE_MAX];
	const char		*problem = NULL;
	size_t			 vlen = len, i, k;
	int			 eq = 0, unsupported = 0, prefixed;

	name[0] = '\0';
	if (len > 0 && pw[0] == '{') {
		rb = memchr(pw, '}', len);
		if (rb == NULL || (size_t)(rb - pw - 1) > SASL_SCHEME_MAX)
			problem = "unterminated or overlong {SCHEME}";
		else {
			memcpy(name, pw + 1, (size_t)(rb - pw - 1));
			name[rb - pw - 1] = '\0';
			val = rb + 1;
			vlen = len - (size_t)(val - pw);
			for (i = 0; i < nitems(pf_schemes); i++)
				if (str_casecmp_ascii(name,
				    pf_schemes[i].name) == 0)
					sc = &pf_schemes[i];
			if (sc == NULL)
				problem = "unsupported password scheme";
		}
	} else if (len > 0 && pw[0] == '$')
		sc = &pf_schemes[0];	/* CRYPT, passwd-file's default */
	else
		problem = len == 0 ? "empty password field" :
		    "no {SCHEME} and not a crypt(3) hash";
	if (problem == NULL && vlen == 0)
		problem = "empty password value";
	if (problem == NULL && vlen > SASL_HASH_MAX)
		problem = "password value too long";
	if (problem == NULL && sc->kind == PF_CRYPT && sc->prefix[0] != NULL) {
		for (prefixed = 0, k = 0; k < nitems(sc->prefix) &&
		    sc->prefix[k] != NULL; k++)
			if (vlen >= strlen(sc->prefix[k]) &&
			    memcmp(val, sc->prefix[k],
			    strlen(sc->prefix[k])) == 0)
				prefixed = 1;
		if (!prefixed)
			problem = "hash does not match its {SCHEME}";
	}
	if (problem == NULL && memchr(val, '\0', vlen) != NULL)
		problem = "NUL in the password field";
	if (problem == NULL) {
		memcpy(hash, val, vlen);
		hash[vlen] = '\0';
		if (sc->kind == PF_PLAIN)
			eq = ct_equal(pass, strlen(pass), hash, vlen);
		else {
			eq = pf_crypt_equal(pass, hash, &unsupported);
			if (eq == -1 && !unsupported) {
				explicit_bzero(hash, sizeof(hash));
				return sasl_fail(why, SASL_TEMP, "passwd-file: "
				    "out of memory");
			}
			if (unsupported)
				problem = "libcrypt cannot use this hash";
		}
		explicit_bzero(hash, sizeof(hash));
	}
	if (problem != NULL) {
		if (name[0] != '\0')
			(void)log_safe(safe, sizeof(safe), name, strlen(name));
		else
			(void)str_copy(safe, sizeof(safe), sc != NULL ?
			    sc->name : "none");
		if (!(s->warned & PF_WARN_SCHEME)) {
			s->warned |= PF_WARN_SCHEME;
			log_warnx("passwd-file %s: unusable password field "
			    "(scheme %s): %s", s->path, safe, problem);
		}
		return sasl_fail(why, SASL_FAIL, "passwd-file: unusable "
		    "password field (scheme %s): %s", safe, problem);
	}
	if (eq != 1)
		return sasl_fail(why, SASL_FAIL, "authentication failed");
	return SASL_OK;
}

/* pf_auth - look user up in the passwd-file, check pass */
static enum sasl_status
pf_auth(struct sasl *s, const char *user, const char *pass, char *who,
    size_t whosz, struct buf *why)
{
	char		*data, *p, *end, *eol;
	const char	*found = NULL, *found_end = NULL, *f, *pw, *no;
	char		 safe[LOG_SAFE_MAX];
	size_t		 len, ulen = strlen(user), flen, pwlen, i;
	long		 lineno = 0, badline = 0;
	int		 dup = 0, same, unsupported;
	enum sasl_status st;

	if ((st = pf_read(s, &data, &len, why)) != SASL_OK)
		return st;
	end = data + len;
	for (p = data; p < end; p = eol + 1) {
		lineno++;
		if ((eol = memchr(p, '\n', (size_t)(end - p))) == NULL)
			eol = end;
		if (eol == p || *p == '#')
			continue;
		f = pf_field(p, eol, 0, &flen);
		if (flen == 0 || memchr(p, ':', (size_t)(eol - p)) == NULL) {
			if (badline == 0)
				badline = lineno;
			continue;
		}
		if (flen != ulen)
			continue;
		for (same = 1, i = 0; i < ulen; i++) {
			char	 a = f[i], b = user[i];

			if (a >= 'A' && a <= 'Z')
				a = (char)(a - 'A' + 'a');
			if (b >= 'A' && b <= 'Z')
				b = (char)(b - 'A' + 'a');
			if (a != b)
				same = 0;
		}
		if (!same)
			continue;
		if (found != NULL)
			dup = 1;
		else {
			found = p;
			found_end = eol;
		}
	}
	if (badline != 0 && !(s->warned & PF_WARN_MALFORMED)) {
		s->warned |= PF_WARN_MALFORMED;
		log_warnx("passwd-file %s: malformed lines skipped (the first "
		    "at line %ld: no user name or no \":\")", s->path,
		    badline);
	}
	if (dup && !(s->warned & PF_WARN_DUP)) {
		s->warned |= PF_WARN_DUP;
		log_warnx("passwd-file %s: user %s is on more than one line; "
		    "the first counts", s->path, log_safe(safe, sizeof(safe),
		    user, ulen));
	}
	if (found == NULL) {
		/* as long as a real check, so timing tells nothing */
		(void)pf_crypt_equal(pass, PF_DUMMY_HASH, &unsupported);
		st = sasl_fail(why, SASL_FAIL, "authentication failed "
		    "(unknown user)");
	} else {
		/* found has a ":" (checked above), so field 1 exists */
		pw = pf_field(found, found_end, 1, &pwlen);
		f = pf_field(found, found_end, -1, &flen);
		st = pf_verify(s, pw, pwlen, pass, why);
		if (st == SASL_OK && f != NULL &&
		    (no = pf_refused(f, flen)) != NULL)
			st = sasl_fail(why, SASL_FAIL, "passwd-file: login "
			    "refused (%s)", no);
		if (st == SASL_OK && who != NULL && whosz <= ulen)
			st = sasl_fail(why, SASL_FAIL, "user name too long "
			    "for the caller");
		else if (st == SASL_OK && who != NULL) {
			memcpy(who, found, ulen);
			who[ulen] = '\0';
		}
	}
	explicit_bzero(data, len);
	free(data);
	return st;
}
