/*
 * io.c - smtpd-lite's side of the connection
 *
 * Input is read with read(2) (or TLS) into sio.rbuf, never through
 * stdio, so that what a client pipelined before STARTTLS is in a buffer
 * of ours and sio_discard() can throw it away (CVE-2011-0411).
 *
 * Lines.  sio_getline() returns one line without its line end.  Only LF
 * ends a line; the flags say whether CR LF or a bare LF ended it and
 * whether a bare CR, a NUL or another control character is inside.
 * A line is never split: past max octets the rest is read and thrown
 * away up to the LF, and SIO_TOOLONG says so, so a line can never turn
 * into two (a fake "." line) at a buffer boundary.  A line that the
 * connection ends in the middle of is no line: SIO_EOF.
 *
 * Every read and write is bounded by sio.timeout seconds (poll(2)).
 * After EOF, an error, a timeout or the end of TLS, sio.dead is set and
 * nothing more is read or written; in particular nothing is ever read
 * in plaintext once TLS has been on (tls_read keeps failing).
 */
#include <sys/socket.h>
#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/tls.h"
#include "common/util.h"
#include "cmd/smtpd-lite/smtpd.h"

/* sio_nonblock - O_NONBLOCK on a descriptor */
static void
sio_nonblock(int fd)
{
	int	 fl;

	if ((fl = fcntl(fd, F_GETFL)) != -1 && !(fl & O_NONBLOCK))
		(void)fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

void
sio_init(struct sio *s, int rfd, int wfd, int timeout)
{
	memset(s, 0, sizeof(*s));
	s->rfd = rfd;
	s->wfd = wfd;
	s->timeout = timeout;
	/* Every wait goes through poll(2), with the timeout. */
	sio_nonblock(rfd);
	if (wfd != rfd)
		sio_nonblock(wfd);
}

/* sio_wait - poll fd for events within the timeout; 0 ready, else status */
static int
sio_wait(struct sio *s, int fd, short events)
{
	struct pollfd	 p;
	int		 rc;

	p.fd = fd;
	p.events = events;
	do {
		rc = poll(&p, 1, s->timeout > 0 ? s->timeout * 1000 : -1);
	} while (rc < 0 && errno == EINTR);
	if (rc == 0)
		return SIO_TIMEOUT;
	if (rc < 0)
		return SIO_ERROR;
	return SIO_OK;
}

/* sio_fill - read more input; SIO_OK, or EOF/TIMEOUT/ERROR (dead) */
static int
sio_fill(struct sio *s)
{
	ssize_t	 n;
	int	 rc;

	if (s->dead)
		return SIO_EOF;
	if (s->roff > 0) {
		memmove(s->rbuf, s->rbuf + s->roff, s->rlen - s->roff);
		s->rlen -= s->roff;
		s->roff = 0;
	}
	for (;;) {
		if (s->tls != NULL)
			n = tls_read(s->tls, s->rbuf + s->rlen,
			    sizeof(s->rbuf) - s->rlen);
		else
			n = read(s->rfd, s->rbuf + s->rlen,
			    sizeof(s->rbuf) - s->rlen);
		if (n > 0) {
			s->rlen += (size_t)n;
			s->in_bytes += n;
			return SIO_OK;
		}
		if (n == 0) {
			s->dead = 1;
			return SIO_EOF;
		}
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN && errno != EWOULDBLOCK) {
			s->dead = 1;
			return SIO_ERROR;
		}
		if (s->tls != NULL && tls_want(s->tls) == POLLOUT)
			rc = sio_wait(s, s->wfd, POLLOUT);
		else
			rc = sio_wait(s, s->rfd, POLLIN);
		if (rc != SIO_OK) {
			s->dead = 1;
			return rc;
		}
	}
}

/* sio_getline - one line (see the top of the file) */
int
sio_getline(struct sio *s, struct buf *line, size_t max, int *flags)
{
	size_t	 i;
	int	 rc, lastcr = 0, stored_cr = 0;
	char	 c;

	buf_reset(line);
	*flags = 0;
	for (;;) {
		for (i = s->roff; i < s->rlen; i++) {
			c = s->rbuf[i];
			if (c == '\n') {
				if (lastcr) {
					*flags |= SIO_CRLF;
					if (stored_cr) {
						line->len--;
						line->data[line->len] = '\0';
					}
				} else
					*flags |= SIO_BARELF;
				s->roff = i + 1;
				return SIO_OK;
			}
			if (lastcr)
				*flags |= SIO_BARECR;	/* CR, then not LF */
			lastcr = c == '\r';
			if (c == '\0')
				*flags |= SIO_NUL;
			else if ((unsigned char)c >= 0x80)
				*flags |= SIO_8BIT;
			else if ((unsigned char)c < 0x20 && c != '\r' &&
			    c != '\t')
				*flags |= SIO_CTL;
			/* the CR of the CR LF does not count against max */
			if (line->len < max || (c == '\r' && line->len == max)) {
				if (buf_addc(line, c) != BUF_OK) {
					s->dead = 1;
					return SIO_ERROR;
				}
				stored_cr = lastcr;
			} else {
				*flags |= SIO_TOOLONG;
				stored_cr = 0;
			}
		}
		s->roff = s->rlen;
		if ((rc = sio_fill(s)) != SIO_OK)
			return rc;
	}
}

/* sio_read - up to n bytes of input (BDAT chunks); 0 never: EOF is < 0 */
ssize_t
sio_read(struct sio *s, char *p, size_t n)
{
	size_t	 have;
	int	 rc;

	if (s->roff == s->rlen && (rc = sio_fill(s)) != SIO_OK)
		return rc;
	have = s->rlen - s->roff;
	if (have > n)
		have = n;
	memcpy(p, s->rbuf + s->roff, have);
	s->roff += have;
	return (ssize_t)have;
}

/*
 * sio_pending - whether input waits: buffered here or in TLS, or
 * readable on the descriptor right now
 */
int
sio_pending(struct sio *s)
{
	struct pollfd	 p;

	if (s->roff < s->rlen)
		return 1;
	if (s->dead)
		return 0;
	if (s->tls != NULL && tls_pending(s->tls) > 0)
		return 1;
	p.fd = s->rfd;
	p.events = POLLIN;
	if (poll(&p, 1, 0) != 1 || !(p.revents & (POLLIN | POLLHUP)))
		return 0;
	/* Readable may only mean the end: that is no pipelined input. */
	if (s->tls == NULL) {
		char	 c;
		ssize_t	 n = recv(s->rfd, &c, 1, MSG_PEEK | MSG_DONTWAIT);

		if (n == 0 || (n < 0 && errno == ENOTSOCK &&
		    (p.revents & POLLHUP) && !(p.revents & POLLIN)))
			return 0;
	}
	return 1;
}

/* sio_discard - forget buffered input (STARTTLS) */
void
sio_discard(struct sio *s)
{
	s->roff = s->rlen = 0;
}

/* sio_flush - write out what is buffered */
int
sio_flush(struct sio *s)
{
	size_t	 off = 0;
	ssize_t	 n;
	int	 rc;

	while (off < s->wlen) {
		if (s->dead)
			return SIO_ERROR;
		if (s->tls != NULL)
			n = tls_write(s->tls, s->wbuf + off, s->wlen - off);
		else
			n = write(s->wfd, s->wbuf + off, s->wlen - off);
		if (n > 0) {
			off += (size_t)n;
			s->out_bytes += n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			if (s->tls != NULL && tls_want(s->tls) == POLLIN)
				rc = sio_wait(s, s->rfd, POLLIN);
			else
				rc = sio_wait(s, s->wfd, POLLOUT);
			if (rc == SIO_OK)
				continue;
		}
		s->dead = 1;
		s->wlen = 0;
		return SIO_ERROR;
	}
	s->wlen = 0;
	return SIO_OK;
}

int
sio_write(struct sio *s, const void *p, size_t n)
{
	const char	*c = p;
	size_t		 k;

	while (n > 0) {
		if (s->wlen == sizeof(s->wbuf) && sio_flush(s) != SIO_OK)
			return SIO_ERROR;
		k = sizeof(s->wbuf) - s->wlen;
		if (k > n)
			k = n;
		memcpy(s->wbuf + s->wlen, c, k);
		s->wlen += k;
		c += k;
		n -= k;
	}
	return SIO_OK;
}

int
sio_printf(struct sio *s, const char *fmt, ...)
{
	char	 line[2048];
	va_list	 ap;
	int	 n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (n < 0)
		return SIO_ERROR;
	if ((size_t)n >= sizeof(line))
		n = (int)sizeof(line) - 1;
	return sio_write(s, line, (size_t)n);
}
