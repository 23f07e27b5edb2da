/*
 * smtpio.c - the client side of an SMTP or LMTP conversation (see
 * smtpio.h)
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netdb.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/smtpio.h"
#include "common/util.h"

#define SMTPIO_HOST_MAX	1025	/* NI_MAXHOST */
#define SMTPIO_PORT_MAX	64
#define SMTPIO_MS	1000LL

static long long smtpio_now(void);
static long long smtpio_deadline(int);
static int	 smtpio_wait(int, short, long long);
static int	 smtpio_fail(struct buf *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));
static int	 smtpio_connect_unix(const char *, int, struct buf *);
static int	 smtpio_split(const char *, const char *, char *, char *,
		    struct buf *);
static int	 smtpio_connect_fd(int, const struct sockaddr *, socklen_t,
		    int);
static int	 smtpio_getline(struct smtpio *, long long, const char **,
		    size_t *);
static int	 smtpio_digits(const char *, size_t, size_t *);
static size_t	 smtpio_dsn(const char *, size_t, int, char *);
static void	 smtpio_body_restart(struct smtpio_body *);
static size_t	 smtpio_body_step(struct smtpio_body *, char, char *);

/* smtpio_now - the monotonic clock in milliseconds */
static long long
smtpio_now(void)
{
	return now_ms();
}

/* smtpio_deadline - when a wait of timeout seconds ends; 0: never */
static long long
smtpio_deadline(int timeout)
{
	if (timeout <= 0)
		return 0;
	return smtpio_now() + (long long)timeout * SMTPIO_MS;
}

/* smtpio_wait - wait until fd is ready for events or the deadline */
static int
smtpio_wait(int fd, short events, long long deadline)
{
	switch (poll_until(fd, events, deadline)) {
	case 1:
		return SMTPIO_OK;
	case 0:
		return SMTPIO_TIMEOUT;
	default:
		return SMTPIO_ERROR;
	}
}

/* smtpio_fail - set why (when given) and return -1, errno preserved */
static int
smtpio_fail(struct buf *why, const char *fmt, ...)
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
	return -1;
}

/*
 * smtpio_connect_fd - connect a non-blocking socket within timeout
 * seconds; returns 0 or -1 with errno (ETIMEDOUT when time ran out)
 */
static int
smtpio_connect_fd(int fd, const struct sockaddr *sa, socklen_t salen,
    int timeout)
{
	socklen_t	 len;
	int		 err, rc;

	if (connect(fd, sa, salen) == 0)
		return 0;
	if (errno != EINPROGRESS && errno != EINTR && errno != EAGAIN)
		return -1;
	rc = smtpio_wait(fd, POLLOUT, smtpio_deadline(timeout));
	if (rc == SMTPIO_TIMEOUT) {
		errno = ETIMEDOUT;
		return -1;
	}
	if (rc != SMTPIO_OK)
		return -1;
	err = 0;
	len = sizeof(err);
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == -1)
		return -1;
	if (err != 0) {
		errno = err;
		return -1;
	}
	return 0;
}

/* smtpio_connect_unix - connect to a UNIX-domain socket */
static int
smtpio_connect_unix(const char *path, int timeout, struct buf *why)
{
	struct sockaddr_un	 sun;
	int			 fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (*path == '\0')
		return smtpio_fail(why, "connect to unix:: empty socket path");
	if (str_copy(sun.sun_path, sizeof(sun.sun_path), path) == -1)
		return smtpio_fail(why, "connect to unix:%s: socket path too "
		    "long", path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1)
		return smtpio_fail(why, "socket: %s", strerror(errno));
	if (smtpio_connect_fd(fd, (struct sockaddr *)&sun, sizeof(sun),
	    timeout) == -1) {
		smtpio_fail(why, "connect to unix:%s: %s", path,
		    strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

/*
 * smtpio_split - "[HOST]:PORT", "HOST:PORT", "[HOST]" or "HOST" into
 * host and port (both at least SMTPIO_HOST_MAX and SMTPIO_PORT_MAX)
 */
static int
smtpio_split(const char *dest, const char *default_port, char *host,
    char *port, struct buf *why)
{
	const char	*end, *colon, *h;
	size_t		 hlen;

	if (*dest == '[') {
		if ((end = strchr(dest, ']')) == NULL)
			return smtpio_fail(why, "bad destination %s: no ']'",
			    dest);
		h = dest + 1;
		hlen = (size_t)(end - h);
		if (hlen >= 5 && strncasecmp(h, "IPv6:", 5) == 0) {
			h += 5;
			hlen -= 5;
		}
		end++;
		if (*end == ':')
			colon = end;
		else if (*end == '\0')
			colon = NULL;
		else
			return smtpio_fail(why, "bad destination %s: junk "
			    "after ']'", dest);
	} else {
		h = dest;
		colon = strrchr(dest, ':');
		if (colon != NULL && memchr(dest, ':',
		    (size_t)(colon - dest)) != NULL)
			return smtpio_fail(why, "bad destination %s: write an "
			    "IPv6 address as [ADDRESS]:PORT", dest);
		hlen = colon != NULL ? (size_t)(colon - dest) : strlen(dest);
	}
	if (hlen == 0 || hlen >= SMTPIO_HOST_MAX)
		return smtpio_fail(why, "bad destination %s: %s host", dest,
		    hlen == 0 ? "empty" : "overlong");
	memcpy(host, h, hlen);
	host[hlen] = '\0';
	if (colon != NULL) {
		if (colon[1] == '\0' ||
		    str_copy(port, SMTPIO_PORT_MAX, colon + 1) == -1)
			return smtpio_fail(why, "bad destination %s: bad port",
			    dest);
	} else if (default_port == NULL || str_copy(port, SMTPIO_PORT_MAX,
	    default_port) == -1)
		return smtpio_fail(why, "bad destination %s: no port", dest);
	return 0;
}

/* smtpio_connect - connect to a destination (see smtpio.h) */
int
smtpio_connect(const char *dest, const char *default_port, int timeout,
    struct buf *why)
{
	struct addrinfo	 hints, *res, *ai;
	char		 host[SMTPIO_HOST_MAX], port[SMTPIO_PORT_MAX];
	char		 addr[SMTPIO_HOST_MAX];
	int		 fd, rc, err;

	if (strncmp(dest, "unix:", 5) == 0)
		return smtpio_connect_unix(dest + 5, timeout, why);
	if (strncmp(dest, "inet:", 5) == 0)
		dest += 5;
	if (smtpio_split(dest, default_port, host, port, why) == -1)
		return -1;
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	if ((rc = getaddrinfo(host, port, &hints, &res)) != 0) {
		errno = EHOSTUNREACH;
		return smtpio_fail(why, "connect to %s: %s", dest,
		    gai_strerror(rc));
	}
	fd = -1;
	err = ECONNREFUSED;
	smtpio_fail(why, "connect to %s: no address", dest);
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		if (getnameinfo(ai->ai_addr, ai->ai_addrlen, addr,
		    sizeof(addr), NULL, 0, NI_NUMERICHOST) != 0)
			str_copy(addr, sizeof(addr), "?");
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK |
		    SOCK_CLOEXEC, ai->ai_protocol);
		if (fd == -1) {
			err = errno;
			smtpio_fail(why, "socket: %s", strerror(errno));
			continue;
		}
		if (smtpio_connect_fd(fd, ai->ai_addr, ai->ai_addrlen,
		    timeout) == 0)
			break;
		err = errno;
		smtpio_fail(why, "connect to %s[%s]:%s: %s", host, addr, port,
		    strerror(errno));
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd == -1)
		errno = err;
	return fd;
}

/* smtpio_init - a session on a connected descriptor */
void
smtpio_init(struct smtpio *io, int fd, int timeout)
{
	int	 fl;

	io->fd = fd;
	io->ops = NULL;
	io->ops_arg = NULL;
	io->timeout = timeout;
	io->rpos = io->rlen = 0;
	io->wlen = 0;
	smtpio_body_init(&io->body);
	if ((fl = fcntl(fd, F_GETFL)) != -1 && !(fl & O_NONBLOCK))
		(void)fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

/* smtpio_set_timeout - the bound on each wait from now on (seconds) */
void
smtpio_set_timeout(struct smtpio *io, int timeout)
{
	io->timeout = timeout;
}

/* smtpio_close - close the descriptor, drop what was not sent */
int
smtpio_close(struct smtpio *io)
{
	int	 rc = 0;

	if (io->fd >= 0)
		rc = close(io->fd);
	io->fd = -1;
	io->ops = NULL;
	io->ops_arg = NULL;
	io->wlen = io->rpos = io->rlen = 0;
	return rc == 0 ? SMTPIO_OK : SMTPIO_ERROR;
}

/* smtpio_set_ops - a transport under the session, unless data is buffered */
int
smtpio_set_ops(struct smtpio *io, const struct smtpio_ops *ops, void *arg)
{
	if (io->rpos != io->rlen || io->wlen != 0)
		return SMTPIO_SYNTAX;
	io->ops = ops;
	io->ops_arg = arg;
	return SMTPIO_OK;
}

/* smtpio_flush - send what the write buffer holds */
int
smtpio_flush(struct smtpio *io)
{
	long long	 deadline;
	size_t		 off = 0;
	ssize_t		 n;
	int		 rc;

	deadline = smtpio_deadline(io->timeout);
	while (off < io->wlen) {
		if (io->ops != NULL)
			n = io->ops->write(io->ops_arg, io->wbuf + off,
			    io->wlen - off);
		else
			n = send(io->fd, io->wbuf + off, io->wlen - off,
			    MSG_NOSIGNAL);
		if (n == -1 && errno == ENOTSOCK && io->ops == NULL)
			n = write(io->fd, io->wbuf + off, io->wlen - off);
		if (n > 0) {
			off += (size_t)n;
			continue;
		}
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			if ((rc = smtpio_wait(io->fd, io->ops != NULL ?
			    io->ops->want(io->ops_arg) : POLLOUT, deadline)) !=
			    SMTPIO_OK) {
				memmove(io->wbuf, io->wbuf + off,
				    io->wlen - off);
				io->wlen -= off;
				return rc;
			}
			continue;
		}
		if (n == -1 && (errno == EPIPE || errno == ECONNRESET)) {
			io->wlen = 0;
			return SMTPIO_EOF;
		}
		io->wlen = 0;
		return SMTPIO_ERROR;
	}
	io->wlen = 0;
	return SMTPIO_OK;
}

/* smtpio_write - buffer bytes, flushing as the buffer fills */
int
smtpio_write(struct smtpio *io, const void *p, size_t len)
{
	const char	*s = p;
	size_t		 n;
	int		 rc;

	while (len > 0) {
		if (io->wlen == sizeof(io->wbuf) &&
		    (rc = smtpio_flush(io)) != SMTPIO_OK)
			return rc;
		n = sizeof(io->wbuf) - io->wlen;
		if (n > len)
			n = len;
		memcpy(io->wbuf + io->wlen, s, n);
		io->wlen += n;
		s += n;
		len -= n;
	}
	return SMTPIO_OK;
}

/* smtpio_cmd - buffer one command line; CR or LF in it is refused */
int
smtpio_cmd(struct smtpio *io, const char *fmt, ...)
{
	struct buf	 line;
	va_list		 ap;
	int		 brc, rc;

	buf_init(&line, SMTPIO_CMD_MAX + 2);
	va_start(ap, fmt);
	brc = buf_vprintf(&line, fmt, ap);
	va_end(ap);
	if (brc == BUF_OK && line.len > SMTPIO_CMD_MAX)
		brc = BUF_TOOBIG;
	if (brc == BUF_OK)
		brc = buf_add(&line, "\r\n", 2);
	if (brc == BUF_TOOBIG)
		rc = SMTPIO_TOOLONG;
	else if (brc != BUF_OK)
		rc = SMTPIO_NOMEM;
	else if (memchr(line.data, '\r', line.len - 2) != NULL ||
	    memchr(line.data, '\n', line.len - 2) != NULL)
		rc = SMTPIO_SYNTAX;
	else
		rc = smtpio_write(io, line.data, line.len);
	buf_free(&line);
	return rc;
}

/*
 * smtpio_getline - the next line, its line end (CRLF or LF) removed,
 * borrowed from the read buffer until the next read
 */
static int
smtpio_getline(struct smtpio *io, long long deadline, const char **line,
    size_t *len)
{
	char	*nl;
	ssize_t	 n;
	int	 rc;

	for (;;) {
		nl = memchr(io->rbuf + io->rpos, '\n', io->rlen - io->rpos);
		if (nl != NULL) {
			*line = io->rbuf + io->rpos;
			*len = (size_t)(nl - *line);
			io->rpos += *len + 1;
			if (*len > 0 && (*line)[*len - 1] == '\r')
				(*len)--;
			if (*len > SMTPIO_LINE_MAX)
				return SMTPIO_TOOLONG;
			return SMTPIO_OK;
		}
		if (io->rlen - io->rpos > SMTPIO_LINE_MAX + 1)
			return SMTPIO_TOOLONG;
		if (io->rpos > 0) {
			memmove(io->rbuf, io->rbuf + io->rpos,
			    io->rlen - io->rpos);
			io->rlen -= io->rpos;
			io->rpos = 0;
		}
		if (io->ops != NULL)
			n = io->ops->read(io->ops_arg, io->rbuf + io->rlen,
			    sizeof(io->rbuf) - io->rlen);
		else
			n = read(io->fd, io->rbuf + io->rlen,
			    sizeof(io->rbuf) - io->rlen);
		if (n > 0) {
			io->rlen += (size_t)n;
			continue;
		}
		if (n == 0)
			return SMTPIO_EOF;
		if (errno == EINTR)
			continue;
		if (errno == ECONNRESET)
			return SMTPIO_EOF;
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			return SMTPIO_ERROR;
		if ((rc = smtpio_wait(io->fd, io->ops != NULL ?
		    io->ops->want(io->ops_arg) : POLLIN, deadline)) !=
		    SMTPIO_OK)
			return rc;
	}
}

/* smtpio_reply_init - an empty reply */
void
smtpio_reply_init(struct smtpio_reply *r)
{
	r->code = 0;
	r->dsn[0] = '\0';
	r->nlines = 0;
	r->done = 0;
	buf_init(&r->text, SMTPIO_REPLY_MAX);
}

/* smtpio_reply_free - release the text; NULL is fine */
void
smtpio_reply_free(struct smtpio_reply *r)
{
	if (r == NULL)
		return;
	buf_free(&r->text);
	r->code = 0;
	r->nlines = 0;
	r->done = 0;
}

/* smtpio_digits - how many (1-3) digits start s; 0 when none or more */
static int
smtpio_digits(const char *s, size_t len, size_t *n)
{
	size_t	 i;

	for (i = 0; i < len && i < 4 && s[i] >= '0' && s[i] <= '9'; i++)
		;
	*n = i;
	return i >= 1 && i <= 3;
}

/*
 * smtpio_dsn - the length of an RFC 3463 code of class cls starting s,
 * followed by a space or the end, copied to dsn; 0 when there is none
 */
static size_t
smtpio_dsn(const char *s, size_t len, int cls, char *dsn)
{
	size_t	 i = 0, n;

	if ((cls != '2' && cls != '4' && cls != '5') || len < 5 ||
	    s[0] != cls || s[1] != '.')
		return 0;
	i = 2;
	if (!smtpio_digits(s + i, len - i, &n))
		return 0;
	i += n;
	if (i >= len || s[i] != '.')
		return 0;
	i++;
	if (!smtpio_digits(s + i, len - i, &n))
		return 0;
	i += n;
	if (i < len && s[i] != ' ')
		return 0;
	if (dsn != NULL) {
		memcpy(dsn, s, i);
		dsn[i] = '\0';
	}
	return i;
}

/*
 * smtpio_reply_parse - add one reply line (its line end removed) to r;
 * r->done is set by the last line.  The first line fixes the code.
 */
int
smtpio_reply_parse(struct smtpio_reply *r, const char *line, size_t len)
{
	const char	*t;
	size_t		 tlen, i, n;
	int		 code, rc;
	char		 c;

	if (r->done || len > SMTPIO_LINE_MAX)
		return r->done ? SMTPIO_SYNTAX : SMTPIO_TOOLONG;
	if (r->nlines >= SMTPIO_REPLY_LINES)
		return SMTPIO_TOOLONG;
	if (len < 3 || line[0] < '2' || line[0] > '5' || line[1] < '0' ||
	    line[1] > '5' || line[2] < '0' || line[2] > '9')
		return SMTPIO_SYNTAX;
	if (len > 3 && line[3] != ' ' && line[3] != '-')
		return SMTPIO_SYNTAX;
	code = (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
	if (r->nlines > 0 && code != r->code)
		return SMTPIO_SYNTAX;
	t = len > 4 ? line + 4 : line + len;
	tlen = len > 4 ? len - 4 : 0;
	if (r->nlines == 0) {
		r->code = code;
		r->dsn[0] = '\0';
		buf_reset(&r->text);
		n = smtpio_dsn(t, tlen, line[0], r->dsn);
	} else
		n = smtpio_dsn(t, tlen, line[0], NULL);
	if (n > 0) {
		t += n;
		tlen -= n;
		if (tlen > 0) {
			t++;
			tlen--;
		}
	}
	if (r->nlines > 0 && (rc = buf_addc(&r->text, '\n')) != BUF_OK)
		return rc == BUF_TOOBIG ? SMTPIO_TOOLONG : SMTPIO_NOMEM;
	for (i = 0; i < tlen; i++) {
		c = t[i];
		if ((unsigned char)c < 0x20 || c == 0x7f)
			c = '?';
		if ((rc = buf_addc(&r->text, c)) != BUF_OK)
			return rc == BUF_TOOBIG ? SMTPIO_TOOLONG :
			    SMTPIO_NOMEM;
	}
	r->nlines++;
	if (len == 3 || line[3] == ' ')
		r->done = 1;
	return SMTPIO_OK;
}

/* smtpio_reply - flush what is buffered, then read one reply */
int
smtpio_reply(struct smtpio *io, struct smtpio_reply *r)
{
	long long	 deadline;
	const char	*line;
	size_t		 len;
	int		 rc;

	r->code = 0;
	r->dsn[0] = '\0';
	r->nlines = 0;
	r->done = 0;
	buf_reset(&r->text);
	if (io->wlen > 0 && (rc = smtpio_flush(io)) != SMTPIO_OK)
		return rc;
	deadline = smtpio_deadline(io->timeout);
	while (!r->done) {
		if ((rc = smtpio_getline(io, deadline, &line, &len)) !=
		    SMTPIO_OK)
			return rc;
		if ((rc = smtpio_reply_parse(r, line, len)) != SMTPIO_OK)
			return rc;
	}
	return SMTPIO_OK;
}

/*
 * smtpio_reply_str - append the reply as one line, "250 2.1.5 text",
 * its lines joined by a space
 */
int
smtpio_reply_str(const struct smtpio_reply *r, struct buf *out)
{
	size_t	 i;
	int	 rc;

	if ((rc = buf_printf(out, "%03d", r->code)) != BUF_OK)
		return rc;
	if (r->dsn[0] != '\0' && (rc = buf_printf(out, " %s", r->dsn)) !=
	    BUF_OK)
		return rc;
	if (r->text.len > 0 && (rc = buf_addc(out, ' ')) != BUF_OK)
		return rc;
	for (i = 0; i < r->text.len; i++)
		if ((rc = buf_addc(out, r->text.data[i] == '\n' ? ' ' :
		    r->text.data[i])) != BUF_OK)
			return rc;
	return BUF_OK;
}

/* smtpio_body_init - the encoder at the start of the content, no limit */
void
smtpio_body_init(struct smtpio_body *b)
{
	b->bol = 1;
	b->cr = 0;
	b->held = 0;
	b->col = 0;
	b->limit = 0;
}

/*
 * smtpio_body_set_limit - the line limit from now on; <= 0: none, and
 * at least SMTPIO_LINE_LIMIT_MIN (room for the SPACE and one octet)
 */
void
smtpio_body_set_limit(struct smtpio_body *b, int limit)
{
	if (limit <= 0)
		b->limit = 0;
	else if (limit < SMTPIO_LINE_LIMIT_MIN)
		b->limit = SMTPIO_LINE_LIMIT_MIN;
	else
		b->limit = (size_t)limit;
}

/* smtpio_body_restart - the encoder at the start of the next content */
static void
smtpio_body_restart(struct smtpio_body *b)
{
	size_t	 limit = b->limit;

	smtpio_body_init(b);
	b->limit = limit;
}

/*
 * smtpio_body_step - the output for one input byte c into out (room for
 * SMTPIO_BODY_STEP bytes), the state in b advanced; returns its length
 */
static size_t
smtpio_body_step(struct smtpio_body *b, char c, char *out)
{
	size_t	 o = 0;

	if (b->held) {
		/* a CR at the limit: the line end, or content to carry over */
		b->held = 0;
		out[o++] = '\r';
		out[o++] = '\n';
		if (c == '\n') {
			b->bol = 1;
			b->cr = 0;
			b->col = 0;
			return o;
		}
		out[o++] = ' ';
		out[o++] = '\r';
		b->col = 2;
		b->cr = 1;
	}
	if (c == '\n') {
		if (!b->cr)
			out[o++] = '\r';
		out[o++] = '\n';
		b->bol = 1;
		b->cr = 0;
		b->col = 0;
		return o;
	}
	if (b->limit > 0 && b->col >= b->limit) {
		if (c == '\r') {
			/* the line end, unless something but LF follows */
			b->held = 1;
			return o;
		}
		out[o++] = '\r';
		out[o++] = '\n';
		out[o++] = ' ';
		b->col = 1;
	} else if (c == '.' && b->bol)
		out[o++] = '.';
	out[o++] = c;
	b->col++;
	b->bol = 0;
	b->cr = c == '\r';
	return o;
}

/*
 * smtpio_body_encode - encode in[0..len) into out (at most outsz
 * bytes): LF as CRLF, a leading '.' doubled, lines past the limit
 * broken.  Returns the bytes written; *used says how much input was
 * consumed (a CR that reaches the limit is held in b, its output
 * decided by the next byte or smtpio_body_finish()).  Any outsz >=
 * SMTPIO_BODY_STEP makes progress (without a limit, any outsz >= 2).
 */
size_t
smtpio_body_encode(struct smtpio_body *b, const char *in, size_t len,
    char *out, size_t outsz, size_t *used)
{
	struct smtpio_body	 save;
	char			 step[SMTPIO_BODY_STEP];
	size_t			 i, o = 0, n;
	char			 c;

	for (i = 0; i < len; i++) {
		c = in[i];
		if (c != '\n' && !b->held && !(c == '.' && b->bol) &&
		    (b->limit == 0 || b->col < b->limit)) {
			/* the common case: one byte as it is */
			if (o >= outsz)
				break;
			out[o++] = c;
			b->col++;
			b->bol = 0;
			b->cr = c == '\r';
			continue;
		}
		save = *b;
		n = smtpio_body_step(b, c, step);
		if (o + n > outsz) {
			*b = save;
			break;
		}
		memcpy(out + o, step, n);
		o += n;
	}
	*used = i;
	return o;
}

/*
 * smtpio_body_finish - the end of the content into out: the last
 * line's end when it has none, then "."; the encoder is ready for the
 * next content with the same limit.  Returns the bytes written.
 */
size_t
smtpio_body_finish(struct smtpio_body *b, char out[SMTPIO_BODY_END_MAX])
{
	size_t	 o = 0;

	if (b->held || !b->bol) {
		if (b->held || !b->cr)
			out[o++] = '\r';
		out[o++] = '\n';
	}
	out[o++] = '.';
	out[o++] = '\r';
	out[o++] = '\n';
	smtpio_body_restart(b);
	return o;
}

/* smtpio_body_write - send a piece of the content, encoded */
int
smtpio_body_write(struct smtpio *io, const char *p, size_t len)
{
	size_t	 used;
	int	 rc;

	while (len > 0) {
		if (sizeof(io->wbuf) - io->wlen < SMTPIO_BODY_STEP &&
		    (rc = smtpio_flush(io)) != SMTPIO_OK)
			return rc;
		io->wlen += smtpio_body_encode(&io->body, p, len,
		    io->wbuf + io->wlen, sizeof(io->wbuf) - io->wlen, &used);
		p += used;
		len -= used;
	}
	return SMTPIO_OK;
}

/* smtpio_body_end - end the last line and the content with "." */
int
smtpio_body_end(struct smtpio *io)
{
	char	 end[SMTPIO_BODY_END_MAX];
	size_t	 n;

	n = smtpio_body_finish(&io->body, end);
	return smtpio_write(io, end, n);
}

/*
 * smtpio_parse_ext - the extensions a 2xx EHLO or LHLO reply offers
 * (the first line is the server's name and skipped), SIZE's number and
 * the AUTH mechanisms we know
 */
void
smtpio_parse_ext(const struct smtpio_reply *r, struct smtpio_ext *ext)
{
	static const struct {
		const char	*name;
		int		 flag;
	} known[] = {
		{ "8BITMIME", SMTPIO_EXT_8BITMIME },
		{ "SMTPUTF8", SMTPIO_EXT_SMTPUTF8 },
		{ "PIPELINING", SMTPIO_EXT_PIPELINING },
		{ "SIZE", SMTPIO_EXT_SIZE },
		{ "DSN", SMTPIO_EXT_DSN },
		{ "STARTTLS", SMTPIO_EXT_STARTTLS },
		{ "AUTH", SMTPIO_EXT_AUTH },
		{ "ENHANCEDSTATUSCODES", SMTPIO_EXT_ENHANCEDSTATUSCODES },
		{ "CHUNKING", SMTPIO_EXT_CHUNKING },
	};
	const char	*line, *end, *p, *why;
	char		 num[32];
	size_t		 len, i, wl;
	long long	 v;

	ext->flags = 0;
	ext->size = 0;
	if ((line = r->text.data) == NULL)
		return;
	line += strcspn(line, "\n");
	if (*line == '\0')
		return;
	for (line++; *line != '\0'; line = *end != '\0' ? end + 1 : end) {
		end = line + strcspn(line, "\n");
		len = strcspn(line, " =\n");
		for (i = 0; i < nitems(known); i++)
			if (strlen(known[i].name) == len &&
			    strncasecmp(line, known[i].name, len) == 0)
				ext->flags |= known[i].flag;
		if (len == 4 && strncasecmp(line, "SIZE", 4) == 0 &&
		    line[len] == ' ') {
			wl = strcspn(line + len + 1, " \n");
			if (wl > 0 && wl < sizeof(num)) {
				memcpy(num, line + len + 1, wl);
				num[wl] = '\0';
				if (num_parse(num, 0, LLONG_MAX, &v, &why) == 0)
					ext->size = v;
			}
		}
		if (len == 4 && strncasecmp(line, "AUTH", 4) == 0) {
			for (p = line + len; p < end; p += wl) {
				p += strspn(p, " =");
				wl = strcspn(p, " \n");
				if (wl == 5 && strncasecmp(p, "PLAIN", 5) == 0)
					ext->flags |= SMTPIO_EXT_AUTH_PLAIN;
				if (wl == 5 && strncasecmp(p, "LOGIN", 5) == 0)
					ext->flags |= SMTPIO_EXT_AUTH_LOGIN;
				if (wl == 0)
					break;
			}
		}
	}
}

/* smtpio_reply_dsn - the reply's enhanced status code, else "C.0.0" */
void
smtpio_reply_dsn(const struct smtpio_reply *r, char *dsn, size_t size)
{
	if (r->dsn[0] != '\0')
		(void)str_copy(dsn, size, r->dsn);
	else
		(void)bsnprintf(dsn, size, "%d.0.0", r->code / 100);
}

/*
 * smtpio_reply_class - 2, 4 or 5 for a result from the reply, with its
 * status code; any other class is 5 with "5.5.0"
 */
int
smtpio_reply_class(const struct smtpio_reply *r, char *dsn, size_t size)
{
	int	 cls = r->code / 100;

	if (cls != 2 && cls != 4 && cls != 5) {
		(void)str_copy(dsn, size, "5.5.0");
		return 5;
	}
	smtpio_reply_dsn(r, dsn, size);
	return cls;
}

/* smtpio_reply_defer_dsn - the reply's own 4.X.Y code, else "4.4.2" */
const char *
smtpio_reply_defer_dsn(const struct smtpio_reply *r)
{
	return r->dsn[0] == '4' ? r->dsn : "4.4.2";
}

/*
 * smtpio_said - append "host HOST said: REPLY (in reply to CMD)", or
 * with cmd NULL "host HOST refused to talk to me: REPLY"
 */
int
smtpio_said(struct buf *out, const char *host, const struct smtpio_reply *r,
    const char *cmd)
{
	int	 rc;

	if ((rc = buf_printf(out, cmd != NULL ? "host %s said: " :
	    "host %s refused to talk to me: ", host)) != BUF_OK ||
	    (rc = smtpio_reply_str(r, out)) != BUF_OK)
		return rc;
	if (cmd != NULL)
		return buf_printf(out, " (in reply to %s)", cmd);
	return BUF_OK;
}

/*
 * smtpio_reply_result - a recipient's result from a reply: the class,
 * the status code, and the text (the reply, or what the host said)
 */
int
smtpio_reply_result(const struct smtpio_reply *r, const char *host,
    const char *cmd, struct buf *text, char *dsn, size_t size)
{
	int	 cls, rc;

	cls = smtpio_reply_class(r, dsn, size);
	buf_reset(text);
	if (cls == 2)
		rc = smtpio_reply_str(r, text);
	else
		rc = smtpio_said(text, host, r, cmd);
	if (rc != BUF_OK) {
		buf_reset(text);
		(void)buf_adds(text, "(result text unavailable)");
	}
	return cls;
}

/*
 * smtpio_io_why - append why a read or write with host failed while at
 * stage; returns the status code for it
 */
const char *
smtpio_io_why(struct buf *out, int status, const char *host,
    const char *stage)
{
	switch (status) {
	case SMTPIO_TIMEOUT:
		(void)buf_printf(out, "conversation with %s timed out while "
		    "%s", host, stage);
		return "4.4.2";
	case SMTPIO_EOF:
		(void)buf_printf(out, "lost connection with %s while %s",
		    host, stage);
		return "4.4.2";
	case SMTPIO_SYNTAX:
	case SMTPIO_TOOLONG:
		(void)buf_printf(out, "%s reply from %s while %s",
		    status == SMTPIO_SYNTAX ? "malformed" : "overlong", host,
		    stage);
		return "4.4.2";
	case SMTPIO_NOMEM:
		(void)buf_printf(out, "out of memory while %s", stage);
		return "4.3.0";
	default:
		if (status == SMTPIO_ERROR && (errno == EPIPE ||
		    errno == ECONNRESET)) {
			(void)buf_printf(out, "lost connection with %s while "
			    "%s", host, stage);
			return "4.4.2";
		}
		(void)buf_printf(out, "error talking to %s while %s: %s",
		    host, stage, smtpio_strerror(status));
		return "4.4.2";
	}
}

/* smtpio_strerror - a status as text for a reason */
const char *
smtpio_strerror(int status)
{
	switch (status) {
	case SMTPIO_OK:
		return "success";
	case SMTPIO_TIMEOUT:
		return "conversation timed out";
	case SMTPIO_EOF:
		return "lost connection";
	case SMTPIO_ERROR:
		return strerror(errno);
	case SMTPIO_TOOLONG:
		return "reply too long";
	case SMTPIO_SYNTAX:
		return "malformed reply";
	case SMTPIO_NOMEM:
		return "out of memory";
	}
	return "unknown error";
}
