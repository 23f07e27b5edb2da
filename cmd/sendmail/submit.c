/*
 * submit.c - read one message from standard input and queue it
 *
 * The message streams from stdin to the queue file: header lines go
 * through the header parser (common/hdr) for the fix-ups, body lines
 * are copied in pieces of at most SUBMIT_CHUNK bytes, so memory stays
 * flat whatever the size.  Line ends are stored as LF: CRLF and LF
 * input are both accepted (PHP's mail() mixes them); one CR before an
 * LF is removed, any other CR is data.  A line longer than 998 octets
 * is queued unchanged (man/sendmail.8, "LONG LINES").
 *
 * The spool group is held only around spool_open/spool_create and
 * spool_commit.  Nothing is acknowledged (exit 0) before spool_commit
 * has returned: the file and its name are on disk.
 */
#include <sys/stat.h>
#include <sys/types.h>

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sysexits.h>
#include <time.h>
#include <fcntl.h>
#include <unistd.h>

#include "common/addr.h"
#include "common/base64.h"
#include "common/buf.h"
#include "common/conf.h"
#include "common/hdr.h"
#include "common/log.h"
#include "common/priv.h"
#include "common/util.h"
#include "spool/spool.h"
#include "cmd/sendmail/sendmail.h"

#define SUBMIT_CHUNK	65536	/* body piece, and the read size */
#define SUBMIT_WAIT_STEP 100000	/* -odi: microseconds between looks */
#define SUBMIT_WAIT_TRIES 1200	/* -odi: 120 s in all */

enum piece {
	PIECE_EOF = 0,		/* nothing more */
	PIECE_LINE,		/* a whole line (its end removed) */
	PIECE_PART,		/* the first part of a longer line */
};

struct submit {
	struct sm		*sm;
	struct spool		 sp;
	struct spool_writer	 w;
	int			 writing;
	struct hdr_parser	*hp;
	char			 rbuf[SUBMIT_CHUNK];
	size_t			 rpos, rlen;
	int			 eof;
	struct buf		 line;		/* the piece being read */
	size_t			 piece_max;
	int			 dropped;	/* the line was cut at piece_max */
	int			 in_headers;
	int			 first_line;
	int			 midline;	/* after a PIECE_PART */
	int			 need_sep;	/* write the empty line first */
	int			 hops;
	int			 have_date, have_msgid, have_from;
	int			 have_resent;
	int			 eightbit;
	long long		 limit;
	char			*msgid;
	struct rcpt_list	 hdr_rcpts;	/* To, Cc, Bcc (-t) */
	struct rcpt_list	 resent_rcpts;	/* Resent-To, -Cc, -Bcc */
	struct buf		 out;		/* scratch for rewritten text */
	struct buf		 why;
	char			 date[64];
	char			 arrival[64];	/* "SECONDS.USEC" */
};

static struct submit	*cleanup_sub;

static const char *const addr_headers[] = {
	"From", "Sender", "Reply-To", "To", "Cc", "Resent-From",
	"Resent-Sender", "Resent-Reply-To", "Resent-To", "Resent-Cc",
	"Errors-To", "Return-Receipt-To", "Disposition-Notification-To",
	"Mail-Followup-To", "Mail-Reply-To", NULL
};

static void	 submit_cleanup(void);
static void	 submit_fail(struct submit *, int, const char *, ...)
		    __attribute__((format(printf, 3, 4), noreturn));
static enum piece read_piece(struct submit *);
static void	 put(struct submit *, const void *, size_t);
static void	 put_line(struct submit *, const char *, size_t);
static void	 do_field(struct submit *, const struct hdr_event *);
static void	 do_end(struct submit *, int);
static void	 do_events(struct submit *);
static void	 add_display(struct buf *, const char *);
static int	 mail_error(struct submit *, const char *);

/* submit_cleanup - fatal()'s hook: drop a half-written message */
static void
submit_cleanup(void)
{
	if (cleanup_sub != NULL && cleanup_sub->writing) {
		spool_abort(&cleanup_sub->w);
		cleanup_sub->writing = 0;
	}
}

/*
 * submit_fail - give up on this message.  Permanent errors under -oem
 * are mailed back to the sender instead (and the exit status is 0, as
 * sendmail's); everything else is reported per -oe and exits.
 */
static void
submit_fail(struct submit *s, int status, const char *fmt, ...)
{
	char	 msg[1024];
	va_list	 ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	submit_cleanup();
	if (s->sm->errors == SM_ERR_MAIL && status != EX_TEMPFAIL &&
	    mail_error(s, msg) == 0)
		exit(EX_OK);
	sm_fail(s->sm, status, "%s", msg);
}

/*
 * read_piece - the next line (PIECE_LINE, in s->line without its line
 * end) or, when a line is longer than piece_max, its next piece
 * (PIECE_PART).  In the headers (s->dropped) the rest of an overlong
 * line is discarded instead.  A final line without LF counts as a line.
 */
static enum piece
read_piece(struct submit *s)
{
	char	*nl;
	size_t	 n, room;
	ssize_t	 r;

	buf_reset(&s->line);
	s->dropped = 0;
	for (;;) {
		if (s->rpos == s->rlen) {
			if (s->eof)
				break;
			r = read(0, s->rbuf, sizeof(s->rbuf));
			if (r < 0) {
				if (errno == EINTR)
					continue;
				submit_fail(s, EX_IOERR, "read message: %s",
				    strerror(errno));
			}
			if (r == 0) {
				s->eof = 1;
				break;
			}
			s->rpos = 0;
			s->rlen = (size_t)r;
			if (memchr(s->rbuf, '\0', s->rlen) != NULL)
				submit_fail(s, EX_DATAERR, "message contains "
				    "a NUL byte: not queued");
		}
		n = s->rlen - s->rpos;
		nl = memchr(s->rbuf + s->rpos, '\n', n);
		if (nl != NULL)
			n = (size_t)(nl - (s->rbuf + s->rpos));
		room = s->piece_max - s->line.len;
		if (n > room) {
			if (!s->in_headers) {
				/* Emit a piece; keep a CR for the next one. */
				buf_add(&s->line, s->rbuf + s->rpos, room);
				s->rpos += room;
				if (s->line.data[s->line.len - 1] == '\r') {
					buf_truncate(&s->line,
					    s->line.len - 1);
					s->rpos--;
				}
				return PIECE_PART;
			}
			buf_add(&s->line, s->rbuf + s->rpos, room);
			s->dropped = 1;
		} else if (!s->dropped)
			buf_add(&s->line, s->rbuf + s->rpos, n);
		s->rpos += n;
		if (nl != NULL) {
			s->rpos++;
			if (s->line.len > 0 &&
			    s->line.data[s->line.len - 1] == '\r' &&
			    !s->dropped)
				buf_truncate(&s->line, s->line.len - 1);
			return PIECE_LINE;
		}
	}
	if (s->line.len > 0) {
		if (s->line.data[s->line.len - 1] == '\r')
			buf_truncate(&s->line, s->line.len - 1);
		return PIECE_LINE;
	}
	return PIECE_EOF;
}

/* put - content to the queue file, within message_size_limit */
static void
put(struct submit *s, const void *p, size_t n)
{
	const unsigned char	*u = p;
	size_t			 i;

	if (s->limit > 0 && s->w.size + (off_t)n > s->limit)
		submit_fail(s, EX_DATAERR, "message file too big: more than "
		    "message_size_limit = %lld bytes", s->limit);
	if (!s->eightbit)
		for (i = 0; i < n; i++)
			if (u[i] >= 0x80) {
				s->eightbit = 1;
				break;
			}
	/* Whatever stops a write (space, quota, size limit, I/O) may pass. */
	if (spool_write(&s->w, p, n) != 0)
		submit_fail(s, EX_TEMPFAIL, "write queue file: %s",
		    strerror(errno));
}

/* put_line - a line and its LF */
static void
put_line(struct submit *s, const char *p, size_t n)
{
	put(s, p, n);
	put(s, "\n", 1);
}

/*
 * add_display - a display name as an RFC 5322 phrase: atoms as they
 * are, a quoted string when it has specials, an RFC 2047 encoded word
 * when it has 8-bit bytes.
 */
static void
add_display(struct buf *b, const char *name)
{
	const char	*p;
	int		 plain = 1, eight = 0;

	for (p = name; *p; p++) {
		unsigned char	 c = (unsigned char)*p;

		if (c >= 0x80)
			eight = 1;
		else if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == ' ' ||
		    strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL))
			plain = 0;
	}
	if (eight) {
		buf_adds(b, "=?utf-8?B?");
		base64_encode(b, name, strlen(name));
		buf_adds(b, "?=");
	} else if (plain) {
		buf_adds(b, name);
	} else {
		buf_addc(b, '"');
		for (p = name; *p; p++) {
			if (*p == '"' || *p == '\\')
				buf_addc(b, '\\');
			buf_addc(b, *p);
		}
		buf_addc(b, '"');
	}
}

/* is_addr_header - whether a field holds addresses to qualify */
static int
is_addr_header(const struct hdr_event *ev)
{
	size_t	 i;

	for (i = 0; addr_headers[i] != NULL; i++)
		if (hdr_name_is(ev, addr_headers[i]))
			return 1;
	return 0;
}

/* do_field - one complete header field */
static void
do_field(struct submit *s, const struct hdr_event *ev)
{
	const char	*colon;
	size_t		 head, vlen;
	struct rcpt_list *to = NULL;

	if (hdr_name_is(ev, "Received") &&
	    ++s->hops > conf_int("hopcount_limit"))
		submit_fail(s, EX_DATAERR, "too many hops: more than "
		    "hopcount_limit = %lld Received: headers (mail "
		    "forwarding loop?)", conf_int("hopcount_limit"));
	if (hdr_name_is(ev, "Date"))
		s->have_date = 1;
	else if (hdr_name_is(ev, "Message-ID")) {
		s->have_msgid = 1;
		if (s->msgid == NULL)
			s->msgid = xstrndup(ev->value, ev->valuelen);
	} else if (hdr_name_is(ev, "From"))
		s->have_from = 1;
	if (ev->namelen > 7 && strncasecmp(ev->name, "resent-", 7) == 0)
		s->have_resent = 1;

	if (s->sm->extract) {
		if (hdr_name_is(ev, "To") || hdr_name_is(ev, "Cc") ||
		    hdr_name_is(ev, "Bcc"))
			to = &s->hdr_rcpts;
		else if (hdr_name_is(ev, "Resent-To") ||
		    hdr_name_is(ev, "Resent-Cc") ||
		    hdr_name_is(ev, "Resent-Bcc"))
			to = &s->resent_rcpts;
		buf_reset(&s->why);
		if (to != NULL && rcpt_add_list(to, ev->value, ev->valuelen,
		    &s->why) != 0)
			submit_fail(s, EX_DATAERR, "%.*s: header: %s",
			    (int)ev->namelen, ev->name, buf_str(&s->why));
	}
	/* Bcc never leaves with the message. */
	if (hdr_name_is(ev, "Bcc") || hdr_name_is(ev, "Resent-Bcc"))
		return;
	if (is_addr_header(ev) && !ev->truncated &&
	    (colon = memchr(ev->raw, ':', ev->rawlen)) != NULL) {
		head = (size_t)(colon + 1 - ev->raw);
		vlen = ev->rawlen - head - 1;	/* without the final LF */
		buf_reset(&s->out);
		buf_reset(&s->why);
		if (addr_qualify_list(ev->raw + head, vlen,
		    conf_get("myorigin"), &s->out, &s->why) == 0) {
			put(s, ev->raw, head);
			put_line(s, s->out.data ? s->out.data : "",
			    s->out.len);
			return;
		}
		log_debug("%.*s: header left as it is: %s", (int)ev->namelen,
		    ev->name, buf_str(&s->why));
	}
	put(s, ev->raw, ev->rawlen);
}

/* do_end - the header section is over: add what is missing */
static void
do_end(struct submit *s, int implicit)
{
	struct sm	*sm = s->sm;
	const char	*display = NULL;
	char		 stamp[32];
	struct tm	 tm;
	time_t		 now = time(NULL);

	if (!s->have_from) {
		buf_reset(&s->out);
		buf_adds(&s->out, "From: ");
		if (sm->fullname != NULL && *sm->fullname)
			display = sm->fullname;
		else if (sm->env_name != NULL && *sm->env_name)
			display = sm->env_name;
		else if (sm->gecos != NULL && *sm->gecos)
			display = sm->gecos;
		if (display != NULL) {
			add_display(&s->out, display);
			buf_adds(&s->out, " <");
		}
		if (*sm->env_sender != '\0')
			buf_adds(&s->out, sm->env_sender);
		else
			buf_printf(&s->out, "%s@%s", sm->login,
			    conf_get("myorigin"));
		if (display != NULL)
			buf_addc(&s->out, '>');
		put_line(s, s->out.data, s->out.len);
	}
	if (!s->have_date) {
		put(s, "Date: ", 6);
		put_line(s, s->date, strlen(s->date));
	}
	if (!s->have_msgid) {
		gmtime_r(&now, &tm);
		strftime(stamp, sizeof(stamp), "%Y%m%d%H%M%S", &tm);
		free(s->msgid);
		s->msgid = xasprintf("<%s.%s@%s>", stamp, s->w.id,
		    conf_get("myhostname"));
		put(s, "Message-ID: ", 12);
		put_line(s, s->msgid, strlen(s->msgid));
	}
	if (implicit)
		s->need_sep = 1;
	else
		put(s, "\n", 1);
	s->in_headers = 0;
	s->piece_max = SUBMIT_CHUNK;
}

/* do_events - drain the header parser */
static void
do_events(struct submit *s)
{
	struct hdr_event	 ev;

	while (hdr_next(s->hp, &ev) != HDR_NONE) {
		switch (ev.type) {
		case HDR_FIELD:
			do_field(s, &ev);
			break;
		case HDR_END:
			do_end(s, ev.implicit);
			break;
		case HDR_BODY:
			if (s->need_sep) {
				put(s, "\n", 1);
				s->need_sep = 0;
			}
			put_line(s, ev.line, ev.linelen);
			break;
		case HDR_NONE:
			break;
		}
	}
}

/* read_message - stdin to the queue file, with the header fix-ups */
static void
read_message(struct submit *s)
{
	enum piece	 pc;
	int		 at_start;

	s->hp = hdr_new((size_t)conf_size("header_size_limit"));
	if (s->hp == NULL)
		submit_fail(s, EX_TEMPFAIL, "out of memory");
	while ((pc = read_piece(s)) != PIECE_EOF) {
		at_start = !s->midline;
		s->midline = pc == PIECE_PART;
		if (pc == PIECE_LINE && at_start && !s->sm->ignore_dots &&
		    s->line.len == 1 && s->line.data[0] == '.')
			break;
		if (s->in_headers) {
			if (s->first_line) {
				s->first_line = 0;
				if (s->line.len >= 5 &&
				    memcmp(s->line.data, "From ", 5) == 0)
					continue;
			}
			if (hdr_push(s->hp, s->line.data ? s->line.data : "",
			    s->line.len) != 0)
				submit_fail(s, EX_TEMPFAIL, "out of memory");
			do_events(s);
			continue;
		}
		if (s->hp != NULL)
			s->hp = hdr_free(s->hp);
		if (s->need_sep) {
			put(s, "\n", 1);
			s->need_sep = 0;
		}
		if (pc == PIECE_PART)
			put(s, s->line.data, s->line.len);
		else
			put_line(s, s->line.data ? s->line.data : "",
			    s->line.len);
	}
	if (s->in_headers) {
		hdr_eof(s->hp);
		do_events(s);
	}
	if (s->hp != NULL)
		s->hp = hdr_free(s->hp);
}

/* envelope - the envelope records after the content */
static void
envelope(struct submit *s, struct rcpt_list *rcpts)
{
	struct sm	*sm = s->sm;
	struct timespec	 ts;
	char		 tbuf[64], obuf[512];
	size_t		 i;
	int		 rc = 0;

	clock_gettime(CLOCK_REALTIME, &ts);
	if (bsnprintf(tbuf, sizeof(tbuf), "%lld.%06ld", (long long)ts.tv_sec,
	    ts.tv_nsec / 1000) != 0 ||
	    bsnprintf(obuf, sizeof(obuf), "local uid=%lu user=%s",
	    (unsigned long)sm->uid, sm->login) != 0)
		submit_fail(s, EX_SOFTWARE, "envelope field too long");
	rc |= spool_env(&s->w, "time", tbuf);
	rc |= spool_env(&s->w, "origin", obuf);
	rc |= spool_env(&s->w, "sender", sm->env_sender);
	rc |= spool_env(&s->w, "body", sm->body ? sm->body :
	    s->eightbit ? "8BITMIME" : "7BIT");
	if (sm->ret != NULL)
		rc |= spool_env(&s->w, "ret", sm->ret);
	if (sm->envid != NULL)
		rc |= spool_env(&s->w, "envid", sm->envid);
	if (s->msgid != NULL && !str_has_ctl(s->msgid, strlen(s->msgid)))
		rc |= spool_env(&s->w, "message-id", s->msgid);
	for (i = 0; i < rcpts->n; i++)
		rc |= spool_add_rcpt(&s->w, rcpts->addr[i], NULL, sm->notify);
	if (rc != 0)
		submit_fail(s, errno == ENOMEM ? EX_TEMPFAIL : EX_DATAERR,
		    "envelope: %s", strerror(errno));
}

/*
 * mail_error - -oem: tell the sender by mail why the message was not
 * queued.  Returns 0 when the notice is queued.
 */
static int
mail_error(struct submit *s, const char *msg)
{
	struct sm		*sm = s->sm;
	struct spool_writer	 w;
	struct buf		 t, why;
	char			 origin[512];
	const char		*to;
	int			 rc = -1, opened = 0;

	to = sm->env_sender;
	if (to == NULL || *to == '\0')
		return -1;
	buf_init(&t, 65536);
	buf_init(&why, 4096);
	buf_printf(&t, "From: MAILER-DAEMON@%s\nTo: %s\nDate: %s\n"
	    "Subject: Mail not queued: %s\nAuto-Submitted: auto-replied\n\n"
	    "Your message could not be queued on %s:\n\n    %s\n\n"
	    "It was not sent; nothing of it was kept.\n",
	    conf_get("myhostname"), to, s->date, msg, conf_get("myhostname"),
	    msg);
	priv_group_on();
	if (s->sp.rootfd >= 0 || spool_open(&s->sp, conf_get(
	    "queue_directory"), SPOOL_SUBMIT, &why) == 0) {
		opened = 1;
		rc = spool_create(&s->sp, &w, &why);
	}
	priv_group_off();
	if (!opened || rc != 0)
		return -1;
	rc = -1;
	if (spool_write(&w, t.data, t.len) == 0 &&
	    spool_env(&w, "time", s->arrival) == 0 &&
	    bsnprintf(origin, sizeof(origin), "local uid=%lu user=%s",
	    (unsigned long)sm->uid, sm->login) == 0 &&
	    spool_env(&w, "origin", origin) == 0 &&
	    spool_env(&w, "sender", "") == 0 &&
	    spool_add_rcpt(&w, to, NULL, NULL) == 0 &&
	    spool_finish(&w, &why) == 0) {
		priv_group_on();
		rc = spool_commit(&w, &why);
		priv_group_off();
	}
	if (rc != 0) {
		spool_abort(&w);
		return -1;
	}
	log_mail("cleanup", "%s: message-id=<notice.%s@%s>", w.id, w.id,
	    conf_get("myhostname"));
	log_mail("qmgr", "%s: from=<>, size=%zu, nrcpt=1 (queue active)",
	    w.id, t.len);
	log_warnx("%s (mailed to <%s> as %s)", msg, to, w.id);
	buf_free(&t);
	buf_free(&why);
	return 0;
}

/*
 * wait_outcome - -odi on an installed host: root's runq (started by
 * correo-runq.path) delivers; watch the message through the descriptor
 * sendmail wrote it with (runq updates the same inode, and it stays
 * readable after runq removed the name) until every recipient has had
 * its attempt.
 * EX_NOUSER when a recipient failed for good; deferrals and a timeout
 * are a warning and 0, since the message is safely queued.
 */
static int
wait_outcome(struct submit *s)
{
	struct spool_msg	 m;
	struct buf		 why;
	struct stat		 st;
	size_t			 i;
	int			 tries, done, failed, deferred, gone;
	int			 status = EX_OK;

	buf_init(&why, 4096);
	for (tries = 0; tries < SUBMIT_WAIT_TRIES; tries++) {
		gone = fstat(s->w.fd, &st) == 0 && st.st_nlink == 0;
		buf_reset(&why);
		if (spool_load_fd(s->w.fd, s->w.id, &m, &why) != 0) {
			log_warnx("%s: queued; cannot watch its delivery: %s",
			    s->w.id, buf_str(&why));
			break;
		}
		done = gone || !m.busy;
		failed = deferred = 0;
		for (i = 0; i < m.nrcpt && done; i++) {
			if (m.rcpt[i].state == RCPT_PENDING &&
			    m.rcpt[i].attempts == 0 && !gone)
				done = 0;
			else if (m.rcpt[i].state == RCPT_PENDING)
				deferred = 1;
			else if (m.rcpt[i].state == RCPT_FAILED ||
			    m.rcpt[i].state == RCPT_BOUNCED)
				failed = 1;
		}
		spool_msg_free(&m);
		if (done) {
			if (failed)
				status = EX_NOUSER;
			if (deferred)
				log_warnx("%s: delivery deferred; the message "
				    "stays queued", s->w.id);
			goto out;
		}
		usleep(SUBMIT_WAIT_STEP);
	}
	if (tries == SUBMIT_WAIT_TRIES)
		log_warnx("%s: queued; delivery not finished after %d s",
		    s->w.id, SUBMIT_WAIT_TRIES * SUBMIT_WAIT_STEP / 1000000);
out:
	close(s->w.fd);
	s->w.fd = -1;
	buf_free(&why);
	return status;
}

/* submit - -bm: queue the message on stdin */
int
submit(struct sm *sm)
{
	struct submit	*s;
	struct rcpt_list rcpts = { NULL, 0, 0 };
	struct buf	 addr;
	struct tm	 tm;
	time_t		 now = time(NULL);
	size_t		 i;
	int		 flags, status = EX_OK;
	char		*args[4];

	s = xcalloc(1, sizeof(*s));
	s->sm = sm;
	s->sp.rootfd = -1;
	s->in_headers = 1;
	s->first_line = 1;
	s->limit = conf_size("message_size_limit");
	s->piece_max = (size_t)conf_size("header_size_limit");
	buf_init(&s->line, SUBMIT_CHUNK > s->piece_max ? SUBMIT_CHUNK :
	    s->piece_max);
	buf_init(&s->out, (size_t)conf_size("header_size_limit") * 2 + 1024);
	buf_init(&s->why, 4096);
	buf_init(&addr, ADDR_CANON_MAX);
	(void)bsnprintf(s->arrival, sizeof(s->arrival), "%lld.000000",
	    (long long)now);
	localtime_r(&now, &tm);
	strftime(s->date, sizeof(s->date), "%a, %d %b %Y %H:%M:%S %z (%Z)",
	    &tm);
	cleanup_sub = s;
	log_on_fatal(submit_cleanup);

	/* The envelope sender: -f, else the login name. */
	if (sm->sender != NULL) {
		if (qualify_addr(sm->sender, strlen(sm->sender),
		    ADDR_ALLOW_NULL | ADDR_ALLOW_BARE, &addr, &s->why) != 0)
			sm_fail(sm, EX_DATAERR, "bad sender address %s: %s",
			    sm->sender, buf_str(&s->why));
	} else if (qualify_addr(sm->login, strlen(sm->login), ADDR_ALLOW_BARE,
	    &addr, &s->why) != 0)
		sm_fail(sm, EX_DATAERR, "login name %s is not a valid address: "
		    "%s", sm->login, buf_str(&s->why));
	sm->env_sender = xstrdup(buf_str(&addr));

	/* Recipients on the command line, checked before reading. */
	for (i = 0; i < (size_t)sm->argc; i++) {
		buf_reset(&s->why);
		if (rcpt_add_list(&rcpts, sm->argv[i], strlen(sm->argv[i]),
		    &s->why) != 0)
			sm_fail(sm, EX_DATAERR, "bad recipient address %s: %s",
			    sm->argv[i], buf_str(&s->why));
	}

	flags = SPOOL_SUBMIT | (sm->private_spool ? SPOOL_CREATE : 0);
	priv_group_on();
	if (spool_open(&s->sp, conf_get("queue_directory"), flags,
	    &s->why) != 0) {
		priv_group_off();
		sm_fail(sm, EX_TEMPFAIL, "%s", buf_str(&s->why));
	}
	if (spool_create(&s->sp, &s->w, &s->why) != 0) {
		priv_group_off();
		sm_fail(sm, EX_TEMPFAIL, "%s", buf_str(&s->why));
	}
	priv_group_off();
	s->writing = 1;

	buf_reset(&s->out);
	buf_printf(&s->out, "Received: by %s (%s, from userid %lu)\n"
	    "\tid %s; %s\n", conf_get("myhostname"), conf_get("mail_name"),
	    (unsigned long)sm->uid, s->w.id, s->date);
	put(s, s->out.data, s->out.len);

	read_message(s);

	if (sm->extract) {
		struct rcpt_list *from = s->have_resent ? &s->resent_rcpts :
		    &s->hdr_rcpts;

		for (i = 0; i < from->n; i++)
			if (rcpt_add(&rcpts, from->addr[i]) != 0)
				submit_fail(s, EX_DATAERR, "too many "
				    "recipients");
	}
	if (rcpts.n == 0)
		submit_fail(s, EX_DATAERR, "no recipient addresses found%s",
		    sm->extract ? " in the message headers" : "");
	envelope(s, &rcpts);
	if (spool_finish(&s->w, &s->why) != 0)
		submit_fail(s, EX_TEMPFAIL, "%s", buf_str(&s->why));
	priv_group_on();
	/* -odi on an installed host reads the outcome through the fd. */
	if ((sm->delivery == SM_DELIVER_INTERACTIVE && !sm->private_spool ?
	    spool_commit_keep(&s->w, &s->why) :
	    spool_commit(&s->w, &s->why)) != 0) {
		priv_group_off();
		submit_fail(s, EX_TEMPFAIL, "%s", buf_str(&s->why));
	}
	priv_group_off();
	/* From here on the mail is safe. */
	s->writing = 0;
	log_mail("pickup", "%s: uid=%lu from=<%s>", s->w.id,
	    (unsigned long)sm->uid, sm->env_sender);
	if (s->msgid != NULL) {
		char	 safe[LOG_SAFE_MAX];

		log_mail("cleanup", "%s: message-id=%s", s->w.id,
		    log_safe(safe, sizeof(safe), s->msgid, strlen(s->msgid)));
	}
	log_mail("qmgr", "%s: from=<%s>, size=%lld, nrcpt=%zu (queue active)",
	    s->w.id, sm->env_sender, (long long)s->w.size, rcpts.n);
	if (sm->verbose)
		fprintf(stderr, "sendmail: queued as %s\n", s->w.id);

	/*
	 * Delivery starts at once: an installed host's correo-runq.path
	 * sees incoming/ fill; a private spool starts runq itself.
	 */
	if (sm->private_spool && sm->delivery != SM_DELIVER_QUEUE) {
		args[0] = "runq";
		args[1] = NULL;
		if (sm->delivery == SM_DELIVER_INTERACTIVE) {
			args[1] = "-I";
			args[2] = s->w.id;
			args[3] = NULL;
			status = run_sibling(sm, "runq", args, 1);
			/*
			 * runq -I reports a permanent failure as EX_NOUSER,
			 * EX_NOHOST or EX_DATAERR; anything else means the
			 * message waits in the queue for the next run.
			 */
			if (status != EX_OK && status != EX_NOUSER &&
			    status != EX_DATAERR && status != EX_NOHOST) {
				/* Not delivered now, but safely queued. */
				log_warnx("%s: delivery deferred (runq exited "
				    "%d); the message stays queued", s->w.id,
				    status);
				status = EX_OK;
			}
		} else
			run_sibling(sm, "runq", args, 0);
	} else if (sm->delivery == SM_DELIVER_INTERACTIVE)
		status = wait_outcome(s);
	spool_close(&s->sp);
	rcpt_free(&rcpts);
	return status;
}
