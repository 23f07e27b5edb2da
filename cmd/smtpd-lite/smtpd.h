/*
 * smtpd.h - smtpd-lite's private declarations
 *
 * main.c	launch: configuration, the peer (socket, LISTEN_FDS,
 *		TCPREMOTEIP, REMOTE_ADDR), -bs mode, then one session
 * io.c		the connection: read(2) into our own buffer (so that
 *		STARTTLS can throw plaintext away), lines that end only at
 *		LF and are never split, replies, TLS underneath
 * session.c	the command table and the state machine
 * data.c	DATA and BDAT: the end-of-data rule, the Received header,
 *		the spool commit
 * policy.c	relay, recipient and sender decisions (policy.h)
 */
#ifndef CMD_SMTPD_H
#define CMD_SMTPD_H

#include <sys/types.h>

#include <stddef.h>

#include "common/buf.h"
#include "spool/spool.h"

#define SIO_RBUF	16384
#define SIO_WBUF	8192

/* What sio_getline saw about a line. */
enum sio_flags {
	SIO_CRLF = 1 << 0,	/* ended in CR LF */
	SIO_BARELF = 1 << 1,	/* ended in LF without CR */
	SIO_BARECR = 1 << 2,	/* a CR not followed by LF inside */
	SIO_NUL = 1 << 3,	/* a NUL inside */
	SIO_TOOLONG = 1 << 4,	/* longer than the maximum: cut, rest read */
	SIO_CTL = 1 << 5,	/* another control character inside */
	SIO_8BIT = 1 << 6,	/* a byte >= 0x80 inside */
};

enum sio_status {
	SIO_OK = 0,
	SIO_EOF = -1,
	SIO_TIMEOUT = -2,
	SIO_ERROR = -3,
};

struct tls;

struct sio {
	int		 rfd, wfd;
	struct tls	*tls;
	int		 timeout;	/* seconds, per read or write */
	char		 rbuf[SIO_RBUF];
	size_t		 rlen, roff;
	char		 wbuf[SIO_WBUF];
	size_t		 wlen;
	int		 dead;		/* EOF, error, TLS closed: no more I/O */
	long long	 in_bytes, out_bytes;
};

void	 sio_init(struct sio *, int rfd, int wfd, int timeout);
int	 sio_getline(struct sio *, struct buf *line, size_t max, int *flags);
ssize_t	 sio_read(struct sio *, char *, size_t);
int	 sio_pending(struct sio *);
void	 sio_discard(struct sio *);
int	 sio_write(struct sio *, const void *, size_t);
int	 sio_printf(struct sio *, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
int	 sio_flush(struct sio *);

/* The peer, as main.c found it. */
struct smtpd_peer {
	char		 addr[64];	/* "192.0.2.1", "2001:db8::1", "unknown" */
	char		 name[256];	/* verified name, or "unknown" */
	char		 port[8];
	char		 laddr[64];	/* our address, or "" */
	int		 local;		/* sendmail -bs: a local user */
	uid_t		 uid;		/* -bs: who */
	char		 login[64];	/* -bs: their login */
};

int	 smtpd_session(struct smtpd_peer *, int rfd, int wfd);
void	 smtpd_start_runq(void);

#endif
