/*
 * smtpio - the client side of an SMTP or LMTP conversation: connecting,
 * buffered line I/O with timeouts, replies, and the message body
 *
 * Connecting.  smtpio_connect() takes a destination in Postfix's
 * notation: "unix:/path/to/socket", or an inet destination
 * "[HOST]:PORT", "HOST:PORT", "[HOST]" or "HOST" (with an optional
 * "inet:" in front), where an IPv6 address must be bracketed ("[::1]:24"
 * or "[IPv6:::1]:24") and a missing port is the caller's default.  No
 * MX lookups happen here: HOST is resolved with getaddrinfo(3) (whose
 * own time is not bounded) and each address is tried in turn, each
 * connect(2) bounded by the timeout.  It returns a non-blocking,
 * close-on-exec descriptor, or -1 with the reason in why ("connect to
 * [::1]:24: Connection refused").
 *
 * The session.  struct smtpio wraps a connected descriptor with a read
 * and a write buffer of SMTPIO_BUFSZ bytes each; the caller owns the
 * struct (usually on the stack) and the descriptor (smtpio_close()
 * closes it).  Commands are buffered by smtpio_cmd() and go out when a
 * reply is read or the buffer fills, so a caller may pipeline.  Every
 * wait is bounded by the session's timeout in seconds (0: no limit),
 * which the caller changes between stages with smtpio_set_timeout(): a
 * whole reply must arrive within it, and each flush of the write
 * buffer must complete within it.  Writes use send(2) with
 * MSG_NOSIGNAL, so a peer that went away is an error, not a SIGPIPE.
 *
 * Replies.  smtpio_reply() reads one possibly multi-line reply
 * ("250-first", "250 last"; a bare "250" is a last line too) into a
 * struct smtpio_reply: the code, the RFC 3463 enhanced status code when
 * the first line carries one whose class matches the code ("2.1.5"),
 * else "", and the lines' text with code, separator and any enhanced
 * code removed, joined by '\n'.  Control characters in the text become
 * '?'.  Lines may end in CRLF or a bare LF.  Limits: SMTPIO_LINE_MAX
 * bytes a line, SMTPIO_REPLY_MAX bytes of text and SMTPIO_REPLY_LINES
 * lines a reply.  smtpio_reply_parse() is the same parser on one line
 * already in memory (tests and fuzzing).  A struct smtpio_reply is the
 * caller's; smtpio_reply_init() readies it, each read replaces its
 * contents, and smtpio_reply_free() (NULL is fine) releases the text.
 * smtpio_reply_str() appends the reply as one line, "452 4.2.2 text",
 * its lines joined by spaces.
 *
 * Transport.  By default the session reads and writes the descriptor
 * itself.  smtpio_set_ops() puts a transport under it instead (TLS
 * after STARTTLS: tls(3)'s tls_smtpio_ops): read and write behave like
 * read(2) and send(2) on a non-blocking socket, and after EAGAIN want
 * names the poll(2) events to wait for on the descriptor before trying
 * again.  The transport and its argument stay the caller's.  It is
 * refused (SMTPIO_SYNTAX) while the read buffer holds unread bytes,
 * which after "220 Ready to start TLS" are a plaintext injection, or
 * the write buffer holds unsent ones.  smtpio_close() forgets it.
 *
 * The body.  The message content is LF text; smtpio_body_write() sends
 * it with each LF as CRLF (a CR already before the LF is kept, not
 * doubled) and a '.' at the start of a line doubled (RFC 5321
 * 4.5.2), in any number of pieces; smtpio_body_end() ends an
 * unterminated last line and sends the final ".".  Memory stays flat:
 * the encoder works through the write buffer.  smtpio_body_encode() is
 * the pure encoder behind it, smtpio_body_finish() the pure end.  The
 * result does not depend on how the content is cut into pieces.
 *
 * Long lines (Postfix's smtp_line_length_limit).  The encoder has a
 * line limit: 0 (none) after smtpio_body_init(), whatever
 * smtpio_body_set_limit() sets after that (a negative value is 0; 1 is
 * taken as SMTPIO_LINE_LIMIT_MIN, 2, the least that leaves room for
 * the SPACE and one octet), kept by smtpio_body_end() and
 * smtpio_body_finish() for the next message.  A line of the content
 * longer than the limit (in octets, its line end not counted) is
 * broken as Postfix's smtp(8) breaks it, "to minimize the damage to
 * MIME formatted mail": CRLF SPACE goes in before the octet that would
 * pass the limit, and the SPACE counts towards the new line, so the
 * first line carries limit octets of the content and each continuation
 * at most limit - 1.  A line of exactly limit octets goes whole; 999
 * and a limit of 999 give 999 CRLF, 1000 give 999 CRLF SPACE 1.  A '.'
 * doubled at the start of a line does not count (RFC 5321 4.5.3.1.6).
 * A CR right before an LF, or at the very end, is the line end and
 * does not count; any other CR is content and does (a CR that reaches
 * the limit waits for the next byte to tell which).  A continuation
 * starts with the SPACE, so it is never dot-stuffed and never a lone
 * ".".  With a limit, one byte of input may become up to
 * SMTPIO_BODY_STEP bytes of output; without, at most 2.
 *
 * Extensions.  smtpio_parse_ext() reads the keywords of a 2xx EHLO or
 * LHLO reply into a struct smtpio_ext: the first line is the server's
 * name and skipped; each further line's first word (up to a space, an
 * '=' or the end, in any case) sets its flag in flags (enum
 * smtpio_ext_flag; unknown words are ignored).  "SIZE n" sets size to
 * n when n is a decimal number up to LLONG_MAX, else (no number, a bad
 * or a huge one, "SIZE=n") leaves it 0, meaning no limit known.  The
 * words after AUTH, or after the old syntax's "AUTH=" ("AUTH=LOGIN
 * PLAIN"), set SMTPIO_EXT_AUTH_PLAIN and SMTPIO_EXT_AUTH_LOGIN.
 *
 * Results and their texts, in Postfix's words.  smtpio_reply_dsn() is
 * the reply's enhanced status code, else "C.0.0" for its class C.
 * smtpio_reply_class() is 2 (delivered), 4 (deferred) or 5 (bounced)
 * with that code, where a reply of any other class is 5 with "5.5.0".
 * smtpio_reply_defer_dsn() is the reply's own code when it is a 4.X.Y
 * one, else "4.4.2": the code for a session that broke down on it.
 * smtpio_said() appends "host HOST said: REPLY (in reply to CMD)", or
 * with CMD NULL "host HOST refused to talk to me: REPLY".
 * smtpio_reply_result() is a recipient's result from a reply in one
 * call: smtpio_reply_class()'s value and code, and in text (replaced;
 * "(result text unavailable)" when it cannot hold it) the reply as one
 * line for 2xx, else smtpio_said()'s text.
 * smtpio_io_why() appends the text for a failed read or write (status
 * as returned by this module) while STAGE ("receiving the initial
 * server greeting"): "conversation with HOST timed out while STAGE",
 * "lost connection with HOST while STAGE", "malformed reply from HOST
 * while STAGE", "overlong reply ...", "out of memory while STAGE",
 * "error talking to HOST while STAGE: REASON" (an EPIPE or ECONNRESET
 * is a lost connection too); it returns the status code, "4.4.2" or
 * ("out of memory") "4.3.0", a static string.  These texts go into
 * the caller's buf (a failure to grow it leaves the text short);
 * smtpio_said() returns enum buf_status.
 *
 * Errors.  Every I/O function returns an enum smtpio_status; nothing
 * here is fatal.  After any error other than SMTPIO_OK the session is unfit
 * for more commands, except that a reply that failed to parse has been
 * consumed up to its bad line.  smtpio_strerror() names a status for a
 * reason text; errno is meaningful after SMTPIO_ERROR.
 */
#ifndef COMMON_SMTPIO_H
#define COMMON_SMTPIO_H

#include <stddef.h>
#include <sys/types.h>

#include "common/buf.h"

#define SMTPIO_BUFSZ		16384	/* the read buffer, the write buffer */
#define SMTPIO_LINE_MAX		4096	/* a reply line, no line end */
#define SMTPIO_REPLY_MAX	65536	/* one reply's text */
#define SMTPIO_REPLY_LINES	1000	/* one reply's lines */
#define SMTPIO_CMD_MAX		2048	/* a command line, no CRLF */
#define SMTPIO_DSN_MAX		16	/* "5.123.456", NUL, room */
#define SMTPIO_BODY_STEP	8	/* the most one input byte becomes */
#define SMTPIO_LINE_LIMIT_MIN	2	/* the least line limit but none */
#define SMTPIO_BODY_END_MAX	5	/* CRLF "." CRLF */

enum smtpio_status {
	SMTPIO_OK = 0,
	SMTPIO_TIMEOUT = -1,	/* the peer was too slow */
	SMTPIO_EOF = -2,	/* the peer closed the connection */
	SMTPIO_ERROR = -3,	/* a system call failed; see errno */
	SMTPIO_TOOLONG = -4,	/* a reply line or a reply past its limit */
	SMTPIO_SYNTAX = -5,	/* not a reply, or a command with CR or LF */
	SMTPIO_NOMEM = -6,	/* the reply text could not grow */
};

struct smtpio_body {
	int		 bol;		/* at the start of a line */
	int		 cr;		/* the last byte written was a CR */
	int		 held;		/* a CR at the limit, not written yet */
	size_t		 col;		/* octets of the wire line so far */
	size_t		 limit;		/* the line limit; 0: none */
};

enum smtpio_ext_flag {
	SMTPIO_EXT_PIPELINING = 1 << 0,
	SMTPIO_EXT_SIZE = 1 << 1,
	SMTPIO_EXT_8BITMIME = 1 << 2,
	SMTPIO_EXT_SMTPUTF8 = 1 << 3,
	SMTPIO_EXT_DSN = 1 << 4,
	SMTPIO_EXT_STARTTLS = 1 << 5,
	SMTPIO_EXT_AUTH = 1 << 6,
	SMTPIO_EXT_AUTH_PLAIN = 1 << 7,	/* AUTH ... PLAIN ... */
	SMTPIO_EXT_AUTH_LOGIN = 1 << 8,	/* AUTH ... LOGIN ... */
	SMTPIO_EXT_ENHANCEDSTATUSCODES = 1 << 9,
	SMTPIO_EXT_CHUNKING = 1 << 10,
};

struct smtpio_ext {
	int		 flags;		/* enum smtpio_ext_flag */
	long long	 size;		/* SIZE's number; 0: none known */
};

struct smtpio_ops {
	ssize_t		(*read)(void *, void *, size_t);
	ssize_t		(*write)(void *, const void *, size_t);
	short		(*want)(void *);	/* POLLIN or POLLOUT */
};

struct smtpio {
	int		 fd;
	const struct smtpio_ops *ops;	/* NULL: the descriptor itself */
	void		*ops_arg;
	int		 timeout;	/* seconds a wait; 0: none */
	size_t		 rpos, rlen;	/* unread: rbuf[rpos..rlen) */
	size_t		 wlen;		/* bytes waiting in wbuf */
	char		 rbuf[SMTPIO_BUFSZ];
	char		 wbuf[SMTPIO_BUFSZ];
	struct smtpio_body body;	/* the encoder's state during DATA */
};

struct smtpio_reply {
	int		 code;			/* 250 */
	char		 dsn[SMTPIO_DSN_MAX]; /* "2.1.5", or "" */
	size_t		 nlines;
	int		 done;		/* the last line was seen */
	struct buf	 text;		/* lines joined by '\n' */
};

int	 smtpio_connect(const char *dest, const char *default_port,
	    int timeout, struct buf *why);

void	 smtpio_init(struct smtpio *, int fd, int timeout);
void	 smtpio_set_timeout(struct smtpio *, int timeout);
int	 smtpio_close(struct smtpio *);
int	 smtpio_set_ops(struct smtpio *, const struct smtpio_ops *, void *);

int	 smtpio_cmd(struct smtpio *, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
int	 smtpio_write(struct smtpio *, const void *, size_t);
int	 smtpio_flush(struct smtpio *);

void	 smtpio_reply_init(struct smtpio_reply *);
void	 smtpio_reply_free(struct smtpio_reply *);
int	 smtpio_reply(struct smtpio *, struct smtpio_reply *);
int	 smtpio_reply_parse(struct smtpio_reply *, const char *line,
	    size_t len);
int	 smtpio_reply_str(const struct smtpio_reply *, struct buf *);

void	 smtpio_body_init(struct smtpio_body *);
void	 smtpio_body_set_limit(struct smtpio_body *, int limit);
size_t	 smtpio_body_encode(struct smtpio_body *, const char *in,
	    size_t len, char *out, size_t outsz, size_t *used);
size_t	 smtpio_body_finish(struct smtpio_body *,
	    char out[SMTPIO_BODY_END_MAX]);
int	 smtpio_body_write(struct smtpio *, const char *, size_t);
int	 smtpio_body_end(struct smtpio *);

void	 smtpio_parse_ext(const struct smtpio_reply *, struct smtpio_ext *);

void	 smtpio_reply_dsn(const struct smtpio_reply *, char *dsn,
	    size_t size);
int	 smtpio_reply_class(const struct smtpio_reply *, char *dsn,
	    size_t size);
const char *smtpio_reply_defer_dsn(const struct smtpio_reply *);
int	 smtpio_reply_result(const struct smtpio_reply *, const char *host,
	    const char *cmd, struct buf *text, char *dsn, size_t size);
int	 smtpio_said(struct buf *, const char *host,
	    const struct smtpio_reply *, const char *cmd);
const char *smtpio_io_why(struct buf *, int status, const char *host,
	    const char *stage);

const char *smtpio_strerror(int status);

#endif
