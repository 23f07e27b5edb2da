/*
 * bounce.c - delivery status notices (see bounce.h)
 *
 * The notice, with LF line ends like every queued message.  The parts
 * and fields follow RFC 3464 (and RFC 6522 multipart/report) and the
 * layout of Postfix's bounce(8) notices, so tools that read those read
 * these; the explanation's wording is correo's own.
 *
 *	From: MAILER-DAEMON@HOST (Mail Delivery System)
 *	To: <SENDER>
 *	Subject: SUBJECT
 *	Date: Tue, 24 Nov 2026 02:16:57 +0000
 *	Message-ID: <20261124021657.QUEUEID.KIND.NOTICEID@HOST>
 *	Auto-Submitted: auto-replied
 *	MIME-Version: 1.0
 *	Content-Type: multipart/report; report-type=delivery-status;
 *	 boundary="QUEUEID.1795400217.0123456789abcdef"
 *	Content-Transfer-Encoding: 7bit | 8bit
 *
 *	This is a MIME-encapsulated message: a delivery status notification.
 *
 *	--BOUNDARY
 *	Content-Description: Notification
 *	Content-Type: text/plain; charset=us-ascii
 *
 *	The explanation for people: who reports, what happened, what is
 *	attached, then the original's queue ID, sender and arrival, and
 *	one paragraph per recipient with its status, reason (the
 *	diagnostic without its type), remote server and, for delays,
 *	until when it is retried.  Lines are wrapped at 72 columns.
 *
 *	--BOUNDARY
 *	Content-Description: Delivery report
 *	Content-Type: message/delivery-status
 *
 *	Reporting-MTA: dns; HOST
 *	X-Correo-Queue-ID: QUEUEID
 *	X-Correo-Sender: rfc822; SENDER
 *	Arrival-Date: DATE			(when known)
 *	Original-Envelope-Id: ENVID		(when given)
 *
 *	Final-Recipient: rfc822; ADDRESS
 *	Original-Recipient: rfc822;ADDRESS	(DSN ORCPT, when given)
 *	Action: failed | delayed | delivered | relayed | expanded
 *	Status: 5.1.1
 *	Remote-MTA: dns; mx.example.org	(when known)
 *	Diagnostic-Code: smtp; 550 5.1.1 ...	(when known)
 *	Last-Attempt-Date: DATE			(when known)
 *	Will-Retry-Until: DATE			(delay notices)
 *
 *	... one such group per recipient, each after an empty line
 *
 *	--BOUNDARY
 *	Content-Description: Undelivered Message
 *	Content-Type: message/rfc822 | text/rfc822-headers
 *	Content-Transfer-Encoding: 7bit | 8bit
 *
 *	the original as stored (LF), whole or its header lines only
 *
 *	--BOUNDARY--
 *
 * Subjects, the de-facto standard ones: "Undelivered Mail Returned to
 * Sender", "Delayed Mail (still being retried)", "Successful Mail
 * Delivery Report"; postmaster copies: "Postmaster Copy: Undelivered
 * Mail", "Postmaster Warning: Delayed Mail", "Postmaster Copy:
 * Successful Mail Delivery Report".  KIND in the Message-ID is bounce,
 * delay or success; NOTICEID is the notice's own queue ID, unique
 * among live queue files, so no two notices share a Message-ID.  The
 * Message-ID is one token and never folded (it may pass 78 columns,
 * never 998).  Other fields fold at 78 columns before a space; an
 * address longer than a line stays whole (up to 998 columns), a
 * diagnostic's longer word is split (see bounce.h).
 *
 * The third part's description is "Undelivered Message" (failure,
 * whole), "Undelivered Message Headers" (failure and delay, headers)
 * or "Message Headers" (success); there is no third part when msg_fd is
 * -1.  Its Content-Transfer-Encoding, and the top one, is 8bit when the
 * attached bytes hold a byte >= 0x80 or a NUL, else 7bit.
 *
 * The boundary.  RFC 2046 needs a boundary that occurs in no line of
 * the body.  Ours is the original's queue ID (letters and digits only),
 * the time and 16 hexadecimal digits from getrandom(2), at most 60
 * characters: whoever wrote the original cannot know it in advance.
 * The scan of the attached bytes makes sure anyway: when "--BOUNDARY"
 * occurs anywhere in them, new random digits are drawn (a few times,
 * then the notice fails).  What this module writes itself is cleaned
 * printable ASCII that never holds the random digits.
 *
 * The delimiter before a part boundary takes the LF before it (RFC 2046
 * 5.1.1), so an empty line precedes each "--BOUNDARY" and the attached
 * original keeps its last LF; one is added when it has none.
 */
#include <sys/random.h>
#include <sys/types.h>

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/util.h"
#include "spool/spool.h"
#include "cmd/runq/bounce.h"

#define BOUNCE_FOLD		78	/* header fields: fold at */
#define BOUNCE_HARD		998	/* RFC 5322 line limit */
#define BOUNCE_WRAP		72	/* the explanation: wrap at */
#define BOUNCE_OUT_FLUSH	32768	/* hand output to the spool at */
#define BOUNCE_OUT_MAX		(1024 * 1024)
#define BOUNCE_BOUNDARY_MAX	70	/* RFC 2046 */
#define BOUNCE_ID_BOUNDARY	24	/* queue ID characters in it */
#define BOUNCE_TRIES		8	/* boundaries drawn, at most */
#define BOUNCE_DATE_MAX		64
#define BOUNCE_TYPE_MAX		32	/* "smtp", "x-unix", "dns"... */

enum bounce_attach {
	ATTACH_NONE,		/* the original could not be read */
	ATTACH_FULL,		/* message/rfc822 */
	ATTACH_HEADERS,		/* text/rfc822-headers */
};

/* Why only the headers are attached: for the explanation. */
enum bounce_hdrs_why {
	HDRS_KIND,		/* delay or success notice */
	HDRS_POSTMASTER,	/* a postmaster copy */
	HDRS_RET,		/* the sender asked for RET=HDRS */
	HDRS_SIZE,		/* larger than bounce_size_limit */
};

/* The output: the notice goes to the writer through a bounded buffer. */
struct bounce_out {
	struct spool_writer *w;
	struct buf	 b;		/* not yet handed to spool_write */
	struct buf	 v;		/* a cleaned value */
	struct buf	 t;		/* a typed value, a formatted line */
	int		 err;		/* errno of the first failure */
	const char	*what;		/* what failed */
};

/* What of the original goes into the third part. */
struct bounce_plan {
	enum bounce_attach how;
	enum bounce_hdrs_why hdrs_why;
	off_t		 len;		/* content bytes attached */
	int		 addlf;		/* they do not end in LF */
	int		 eightbit;
	char		 boundary[BOUNCE_BOUNDARY_MAX + 1];
};

static void	 out_flush(struct bounce_out *);
static void	 out_add(struct bounce_out *, const void *, size_t);
static void	 out_adds(struct bounce_out *, const char *);
static void	 out_printf(struct bounce_out *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));
static void	 out_fail(struct bounce_out *, int);
static const char *clean(struct bounce_out *, struct buf *, const char *);
static const char *typed(struct bounce_out *, const char *, const char *);
static size_t	 type_len(const char *);
static void	 put_words(struct bounce_out *, size_t, size_t, size_t,
		    const char *, const char *);
static void	 put_field(struct bounce_out *, const char *, const char *,
		    size_t);
static void	 put_para(struct bounce_out *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));
static void	 put_item(struct bounce_out *, const char *, const char *,
		    size_t);
static void	 fmt_date(char *, size_t, long long);
static void	 fmt_duration(char *, size_t, long long);
static const char *action_of(const struct bounce_info *,
		    const struct bounce_rcpt *);
static const char *status_of(const struct bounce_info *,
		    const struct bounce_rcpt *);
static int	 status_ok(const char *);
static void	 host_clean(char *, size_t, const char *);
static int	 plan_attach(struct bounce_plan *, const struct bounce_info *,
		    int, off_t, off_t, struct buf *, struct buf *);
static int	 header_extent(struct bounce_plan *, int, off_t, off_t,
		    size_t, struct buf *, struct buf *);
static int	 scan(struct bounce_plan *, int, off_t, struct buf *,
		    struct buf *);
static void	 make_boundary(struct bounce_plan *, const char *,
		    long long);
static void	 write_headers(struct bounce_out *, const struct bounce_info *,
		    const struct bounce_plan *, long long);
static void	 write_text(struct bounce_out *, const struct bounce_info *,
		    const struct bounce_rcpt *, size_t,
		    const struct bounce_plan *, long long);
static void	 write_report(struct bounce_out *, const struct bounce_info *,
		    const struct bounce_rcpt *, size_t,
		    const struct bounce_plan *);
static int	 write_original(struct bounce_out *,
		    const struct bounce_info *, const struct bounce_plan *,
		    int, off_t, struct buf *, struct buf *);
static int	 read_at(struct buf *, int, off_t, size_t, struct buf *);

static const char *const wday_name[] = {
	"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"
};
static const char *const month_name[] = {
	"Jan", "Feb", "Mar", "Apr", "May", "Jun",
	"Jul", "Aug", "Sep", "Oct", "Nov", "Dec"
};

/* bounce_write - write a delivery status notice into a new queue file */
int
bounce_write(struct spool_writer *w, const struct bounce_info *info,
    const struct bounce_rcpt *rcpt, size_t n, int msg_fd, off_t content_off,
    off_t content_len, struct buf *why)
{
	struct bounce_out	 o;
	struct bounce_plan	 plan;
	struct buf		 chunk;
	long long		 now;
	size_t			 i;
	int			 rc = -1, tries, found, e;

	if (info == NULL || info->queue_id == NULL || *info->queue_id ==
	    '\0' || info->myhostname == NULL || *info->myhostname == '\0' ||
	    rcpt == NULL || n == 0 || content_off < 0 || content_len < 0) {
		buf_printf(why, "bounce notice: no queue ID, myhostname or "
		    "recipient");
		errno = EINVAL;
		return -1;
	}
	for (i = 0; i < n; i++) {
		if (rcpt[i].addr == NULL || *rcpt[i].addr == '\0') {
			buf_printf(why, "bounce notice for %s: recipient %zu "
			    "has no address", info->queue_id, i + 1);
			errno = EINVAL;
			return -1;
		}
	}
	now = info->now ? info->now : (long long)time(NULL);

	memset(&o, 0, sizeof(o));
	o.w = w;
	buf_init(&o.b, BOUNCE_OUT_MAX);
	buf_init(&o.v, BOUNCE_VALUE_MAX + 1);
	buf_init(&o.t, 3 * BOUNCE_VALUE_MAX);
	buf_init(&chunk, BOUNCE_CHUNK);

	/* What to attach, then a boundary that is not in it. */
	if (plan_attach(&plan, info, msg_fd, content_off, content_len, &chunk,
	    why) != 0)
		goto out;
	for (tries = 0;; tries++) {
		make_boundary(&plan, info->queue_id, now);
		if (plan.how == ATTACH_NONE)
			break;
		if ((found = scan(&plan, msg_fd, content_off, &chunk,
		    why)) < 0)
			goto out;
		if (!found)
			break;
		if (tries + 1 == BOUNCE_TRIES) {
			buf_printf(why, "bounce notice for %s: no MIME "
			    "boundary is free of the message's text",
			    info->queue_id);
			errno = EINVAL;
			goto out;
		}
	}

	write_headers(&o, info, &plan, now);
	out_adds(&o, "This is a MIME-encapsulated message: a delivery status "
	    "notification.\n\n");
	write_text(&o, info, rcpt, n, &plan, now);
	write_report(&o, info, rcpt, n, &plan);
	if (plan.how != ATTACH_NONE && write_original(&o, info, &plan, msg_fd,
	    content_off, &chunk, why) != 0)
		goto out;
	out_printf(&o, "\n--%s--\n", plan.boundary);
	out_flush(&o);
	if (o.err == 0 && spool_env(w, "body", plan.eightbit ? "8BITMIME" :
	    "7BIT") != 0) {
		o.err = errno;
		o.what = "add the body record";
	}
	if (o.err != 0) {
		buf_printf(why, "bounce notice for %s: %s: %s", info->queue_id,
		    o.what, strerror(o.err));
		errno = o.err;
		goto out;
	}
	rc = 0;
out:
	e = errno;
	buf_free(&o.b);
	buf_free(&o.v);
	buf_free(&o.t);
	buf_free(&chunk);
	errno = e;
	return rc;
}

/* out_flush - hand the buffered output to the queue file */
static void
out_flush(struct bounce_out *o)
{
	if (o->err == 0 && o->b.len > 0 &&
	    spool_write(o->w, o->b.data, o->b.len) != 0) {
		o->err = errno ? errno : EIO;
		o->what = "write queue file";
	}
	buf_reset(&o->b);
}

/* out_fail - remember a buffer failure (the first failure wins) */
static void
out_fail(struct bounce_out *o, int status)
{
	if (o->err == 0) {
		o->err = status == BUF_NOMEM ? ENOMEM : EFBIG;
		o->what = "compose";
	}
}

/* out_add - append bytes to the notice */
static void
out_add(struct bounce_out *o, const void *p, size_t n)
{
	int	 rc;

	if (o->err != 0)
		return;
	if ((rc = buf_add(&o->b, p, n)) != BUF_OK) {
		out_fail(o, rc);
		return;
	}
	if (o->b.len >= BOUNCE_OUT_FLUSH)
		out_flush(o);
}

/* out_adds - append a string to the notice */
static void
out_adds(struct bounce_out *o, const char *s)
{
	out_add(o, s, strlen(s));
}

/* out_printf - append formatted text to the notice */
static void
out_printf(struct bounce_out *o, const char *fmt, ...)
{
	va_list	 ap;
	int	 rc;

	if (o->err != 0)
		return;
	va_start(ap, fmt);
	rc = buf_vprintf(&o->b, fmt, ap);
	va_end(ap);
	if (rc != BUF_OK) {
		out_fail(o, rc);
		return;
	}
	if (o->b.len >= BOUNCE_OUT_FLUSH)
		out_flush(o);
}

/*
 * clean - s as printable US-ASCII: CR, LF, TAB and SP runs become one
 * space (none at either end), other control bytes, DEL and 8-bit bytes
 * become '?', and the result is cut at BOUNCE_VALUE_MAX bytes ending in
 * "...".  NULL is the empty string.  The result lives in dst.
 */
static const char *
clean(struct bounce_out *o, struct buf *dst, const char *s)
{
	int	 space = 0, rc = BUF_OK;

	buf_reset(dst);
	for (; s != NULL && *s != '\0' && rc == BUF_OK; s++) {
		unsigned char	 c = (unsigned char)*s;

		if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
			space = dst->len > 0;
			continue;
		}
		if (c < 0x20 || c >= 0x7f)
			c = '?';
		if (dst->len + (size_t)space + 1 > BOUNCE_VALUE_MAX - 3) {
			rc = buf_adds(dst, "...");
			break;
		}
		if (space)
			rc = buf_addc(dst, ' ');
		if (rc == BUF_OK)
			rc = buf_addc(dst, c);
		space = 0;
	}
	if (rc != BUF_OK) {
		out_fail(o, rc);
		buf_reset(dst);
	}
	return dst->data != NULL ? dst->data : "";
}

/* type_len - length of a leading "type;" (atom letters), else 0 */
static size_t
type_len(const char *s)
{
	size_t	 i;

	for (i = 0; i < BOUNCE_TYPE_MAX; i++) {
		unsigned char	 c = (unsigned char)s[i];

		if (c == ';')
			return i;
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '-'))
			return 0;
	}
	return 0;
}

/*
 * typed - val cleaned, as "type; text" (RFC 3464 diagnostic-type,
 * mta-name-type, address-type): kept when it starts with "type;", else
 * deftype is put before it.  The result lives in o->t.
 */
static const char *
typed(struct bounce_out *o, const char *val, const char *deftype)
{
	const char	*v = clean(o, &o->v, val);
	int		 rc;

	buf_reset(&o->t);
	if (type_len(v) > 0)
		rc = buf_adds(&o->t, v);
	else
		rc = buf_printf(&o->t, "%s; %s", deftype, v);
	if (rc != BUF_OK) {
		out_fail(o, rc);
		return "";
	}
	return o->t.data;
}

/*
 * put_words - write the words of a cleaned text (single spaces), the
 * first at column col: a line is broken before a word that would pass
 * width, the next line starting with lead; a word longer than hard
 * columns is split at hard.  Ends with LF.
 */
static void
put_words(struct bounce_out *o, size_t col, size_t width, size_t hard,
    const char *lead, const char *text)
{
	const char	*p = text, *sp;
	size_t		 wl, k, leadlen = strlen(lead);
	int		 first = 1;

	while (*p != '\0') {
		sp = strchr(p, ' ');
		wl = sp != NULL ? (size_t)(sp - p) : strlen(p);
		if (!first && col + 1 + wl > width) {
			out_add(o, "\n", 1);
			out_adds(o, lead);
			col = leadlen;
		} else if (!first) {
			out_add(o, " ", 1);
			col++;
		}
		while (col + wl > hard) {
			k = col < hard ? hard - col : 0;
			out_add(o, p, k);
			p += k;
			wl -= k;
			out_add(o, "\n", 1);
			out_adds(o, lead);
			col = leadlen;
		}
		out_add(o, p, wl);
		col += wl;
		p += wl;
		if (*p == ' ')
			p++;
		first = 0;
	}
	out_add(o, "\n", 1);
}

/*
 * put_field - one header field "Name: value" with a cleaned value,
 * folded at BOUNCE_FOLD before a space; a word longer than hard is split
 * (hard is BOUNCE_FOLD for text, BOUNCE_HARD for addresses).
 */
static void
put_field(struct bounce_out *o, const char *name, const char *val,
    size_t hard)
{
	if (*val == '\0') {
		out_printf(o, "%s:\n", name);
		return;
	}
	out_printf(o, "%s: ", name);
	put_words(o, strlen(name) + 2, BOUNCE_FOLD, hard, " ", val);
}

/* put_para - a paragraph of the explanation, wrapped, then an empty line */
static void
put_para(struct bounce_out *o, const char *fmt, ...)
{
	va_list	 ap;
	int	 rc;

	buf_reset(&o->t);
	va_start(ap, fmt);
	rc = buf_vprintf(&o->t, fmt, ap);
	va_end(ap);
	if (rc != BUF_OK) {
		out_fail(o, rc);
		return;
	}
	put_words(o, 0, BOUNCE_WRAP, BOUNCE_HARD, "", clean(o, &o->v,
	    o->t.data));
	out_add(o, "\n", 1);
}

/* put_item - "    Label: value" in a recipient's paragraph, wrapped */
static void
put_item(struct bounce_out *o, const char *label, const char *val,
    size_t hard)
{
	out_printf(o, "    %s: ", label);
	put_words(o, strlen(label) + 6, BOUNCE_WRAP, hard, "        ", val);
}

/* fmt_date - an RFC 5322 date-time in local time with a numeric zone */
static void
fmt_date(char *dst, size_t sz, long long t)
{
	struct tm	 tm;
	time_t		 tt = (time_t)t;
	long		 off;
	int		 sign = '+';

	if (localtime_r(&tt, &tm) == NULL || tm.tm_year + 1900 > 9999 ||
	    tm.tm_year + 1900 < 1900) {
		tt = 0;
		if (gmtime_r(&tt, &tm) == NULL)
			memset(&tm, 0, sizeof(tm));
	}
	off = tm.tm_gmtoff / 60;
	if (off < 0) {
		sign = '-';
		off = -off;
	}
	if (bsnprintf(dst, sz, "%s, %d %s %04d %02d:%02d:%02d %c%02ld%02ld",
	    wday_name[tm.tm_wday % 7], tm.tm_mday, month_name[tm.tm_mon % 12],
	    tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec, sign,
	    off / 60 % 100, off % 60) != 0)
		str_copy(dst, sz, "Thu, 1 Jan 1970 00:00:00 +0000");
}

/* fmt_duration - "2 days 3 hours", "5 hours 10 minutes", "7 minutes" */
static void
fmt_duration(char *dst, size_t sz, long long secs)
{
	long long	 d, h, m;
	int		 rc;

	if (secs < 60) {
		str_copy(dst, sz, "less than a minute");
		return;
	}
	d = secs / 86400;
	h = secs % 86400 / 3600;
	m = secs % 3600 / 60;
	if (d > 0)
		rc = bsnprintf(dst, sz, "%lld day%s %lld hour%s", d,
		    d == 1 ? "" : "s", h, h == 1 ? "" : "s");
	else if (h > 0)
		rc = bsnprintf(dst, sz, "%lld hour%s %lld minute%s", h,
		    h == 1 ? "" : "s", m, m == 1 ? "" : "s");
	else
		rc = bsnprintf(dst, sz, "%lld minute%s", m, m == 1 ? "" : "s");
	if (rc != 0)
		str_copy(dst, sz, "a long time");
}

/* action_of - the recipient's Action, or the kind's when missing or odd */
static const char *
action_of(const struct bounce_info *info, const struct bounce_rcpt *r)
{
	static const char *const ok[] = {
		"failed", "delayed", "delivered", "relayed", "expanded"
	};
	size_t	 i;

	for (i = 0; r->action != NULL && i < nitems(ok); i++)
		if (str_casecmp_ascii(r->action, ok[i]) == 0)
			return ok[i];
	switch (info->kind) {
	case BOUNCE_DELAY:
		return "delayed";
	case BOUNCE_SUCCESS:
		return "delivered";
	case BOUNCE_FAILURE:
	default:
		return "failed";
	}
}

/* status_ok - an RFC 3463 status code: [245].1*3DIGIT.1*3DIGIT */
static int
status_ok(const char *s)
{
	int	 part, n;

	if (s == NULL || (s[0] != '2' && s[0] != '4' && s[0] != '5') ||
	    s[1] != '.')
		return 0;
	s += 2;
	for (part = 0; part < 2; part++) {
		for (n = 0; *s >= '0' && *s <= '9'; s++)
			n++;
		if (n < 1 || n > 3)
			return 0;
		if (part == 0 && *s++ != '.')
			return 0;
	}
	return *s == '\0';
}

/* status_of - the recipient's Status, or the kind's when missing or odd */
static const char *
status_of(const struct bounce_info *info, const struct bounce_rcpt *r)
{
	if (status_ok(r->status))
		return r->status;
	switch (info->kind) {
	case BOUNCE_DELAY:
		return "4.0.0";
	case BOUNCE_SUCCESS:
		return "2.0.0";
	case BOUNCE_FAILURE:
	default:
		return "5.0.0";
	}
}

/* host_clean - a host name for From: and Message-ID: [A-Za-z0-9.-] */
static void
host_clean(char *dst, size_t sz, const char *host)
{
	size_t	 i;

	for (i = 0; i + 1 < sz && host[i] != '\0'; i++) {
		unsigned char	 c = (unsigned char)host[i];

		dst[i] = ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '.' || c == '-') ? (char)c :
		    '-';
	}
	dst[i] = '\0';
}

/* read_at - read n bytes of the original at off into b (replacing it) */
static int
read_at(struct buf *b, int fd, off_t off, size_t n, struct buf *why)
{
	int	 e;

	buf_reset(b);
	if (buf_pread(b, fd, n, (long long)off) != 0) {
		e = errno;
		buf_printf(why, "read the original message: %s", strerror(e));
		errno = e;
		return -1;
	}
	return 0;
}

/*
 * plan_attach - decide what of the original to attach, as Postfix does:
 * the whole message for a failure unless RET=HDRS or it is larger than
 * size_limit, else its header lines.
 */
static int
plan_attach(struct bounce_plan *plan, const struct bounce_info *info,
    int fd, off_t off, off_t len, struct buf *chunk, struct buf *why)
{
	memset(plan, 0, sizeof(*plan));
	if (fd < 0) {
		plan->how = ATTACH_NONE;
		return 0;
	}
	plan->how = ATTACH_HEADERS;
	if (info->kind != BOUNCE_FAILURE)
		plan->hdrs_why = HDRS_KIND;
	else if (info->postmaster_copy != NULL)
		plan->hdrs_why = HDRS_POSTMASTER;
	else if (info->ret != NULL && str_casecmp_ascii(info->ret, "HDRS") == 0)
		plan->hdrs_why = HDRS_RET;
	else if (info->size_limit > 0 && (unsigned long long)len >
	    (unsigned long long)info->size_limit)
		plan->hdrs_why = HDRS_SIZE;
	else {
		plan->how = ATTACH_FULL;
		plan->len = len;
		if (len > 0) {
			if (read_at(chunk, fd, off + len - 1, 1, why) != 0)
				return -1;
			plan->addlf = chunk->data[0] != '\n';
		}
		return 0;
	}
	return header_extent(plan, fd, off, len, info->size_limit, chunk, why);
}

/*
 * header_extent - how many bytes of the content are its header lines,
 * whole lines only, at most limit bytes (0: no limit).  The header
 * section ends at the first empty line or at the first line that is
 * neither a field ("name:", the name printable ASCII without ':',
 * optional white space before the colon) nor a continuation (leading
 * SP or HTAB, not on the first line).  A last line without LF counts
 * when it is a field; plan->addlf says so.
 */
static int
header_extent(struct bounce_plan *plan, int fd, off_t off, off_t len,
    size_t limit, struct buf *chunk, struct buf *why)
{
	enum { L_START, L_NAME, L_WSP, L_REST } st = L_START;
	off_t		 pos = 0, good = 0;
	size_t		 i, n;
	int		 first = 1;

	while (pos < len) {
		n = (size_t)(len - pos < BOUNCE_CHUNK ? len - pos :
		    BOUNCE_CHUNK);
		if (read_at(chunk, fd, off + pos, n, why) != 0)
			return -1;
		for (i = 0; i < n; i++, pos++) {
			unsigned char	 c = (unsigned char)chunk->data[i];

			if (limit > 0 && (unsigned long long)pos >=
			    (unsigned long long)limit)
				goto done;
			if (c == '\n') {
				if (st != L_REST)
					goto done;
				good = pos + 1;
				first = 0;
				st = L_START;
				continue;
			}
			switch (st) {
			case L_START:
				if (c == ' ' || c == '\t') {
					if (first)
						goto done;
					st = L_REST;
				} else if (c > ' ' && c < 0x7f && c != ':')
					st = L_NAME;
				else
					goto done;
				break;
			case L_NAME:
				if (c == ':')
					st = L_REST;
				else if (c == ' ' || c == '\t')
					st = L_WSP;
				else if (c <= ' ' || c >= 0x7f)
					goto done;
				break;
			case L_WSP:
				if (c == ':')
					st = L_REST;
				else if (c != ' ' && c != '\t')
					goto done;
				break;
			case L_REST:
				break;
			}
		}
	}
	/* EOF: a last field without its LF is still a header line. */
	if (st == L_REST) {
		good = len;
		plan->addlf = 1;
	}
done:
	plan->len = good;
	return 0;
}

/*
 * make_boundary - QUEUEID.TIME.RANDOM: the queue ID's letters and
 * digits (at most BOUNCE_ID_BOUNDARY), the time, 16 hexadecimal digits
 * from getrandom(2) (the clock and the process ID when it fails)
 */
static void
make_boundary(struct bounce_plan *plan, const char *queue_id, long long now)
{
	static uint64_t	 counter;
	char		 id[BOUNCE_ID_BOUNDARY + 1];
	uint64_t	 r;
	struct timespec	 ts;
	size_t		 i, j;

	for (i = j = 0; queue_id[i] != '\0' && j < BOUNCE_ID_BOUNDARY; i++) {
		unsigned char	 c = (unsigned char)queue_id[i];

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9'))
			id[j++] = (char)c;
	}
	id[j] = '\0';
	if (getrandom(&r, sizeof(r), GRND_NONBLOCK) != (ssize_t)sizeof(r)) {
		/* splitmix64 of the clock, the process and a counter */
		clock_gettime(CLOCK_REALTIME, &ts);
		r = (uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 20) ^
		    ((uint64_t)getpid() << 40) ^ ++counter *
		    0x9e3779b97f4a7c15ULL;
		r = (r ^ (r >> 30)) * 0xbf58476d1ce4e5b9ULL;
		r = (r ^ (r >> 27)) * 0x94d049bb133111ebULL;
		r ^= r >> 31;
	}
	if (bsnprintf(plan->boundary, sizeof(plan->boundary), "%s.%lld.%016llx",
	    id, now, (unsigned long long)r) != 0)
		(void)bsnprintf(plan->boundary, sizeof(plan->boundary),
		    "%016llx", (unsigned long long)r);
}

/*
 * scan - read what will be attached: note 8-bit (or NUL) bytes, and
 * return 1 when "--BOUNDARY" occurs in it, 0 when not, -1 on error
 */
static int
scan(struct bounce_plan *plan, int fd, off_t off, struct buf *chunk,
    struct buf *why)
{
	char		 pat[BOUNCE_BOUNDARY_MAX + 3];
	char		 seam[2 * (BOUNCE_BOUNDARY_MAX + 3)];
	size_t		 plen, keep, carry = 0, k, n, i;
	off_t		 pos = 0;

	if (bsnprintf(pat, sizeof(pat), "--%s", plan->boundary) != 0)
		return 1;
	plen = strlen(pat);
	keep = plen - 1;
	plan->eightbit = 0;
	while (pos < plan->len) {
		n = (size_t)(plan->len - pos < BOUNCE_CHUNK ? plan->len - pos :
		    BOUNCE_CHUNK);
		if (read_at(chunk, fd, off + pos, n, why) != 0)
			return -1;
		/* Across the seam: the last keep bytes, then the new ones. */
		k = n < keep ? n : keep;
		memcpy(seam + carry, chunk->data, k);
		if (memmem(seam, carry + k, pat, plen) != NULL ||
		    memmem(chunk->data, n, pat, plen) != NULL)
			return 1;
		if (n >= keep) {
			memcpy(seam, chunk->data + n - keep, keep);
			carry = keep;
		} else if (carry + k > keep) {
			memmove(seam, seam + carry + k - keep, keep);
			carry = keep;
		} else
			carry += k;
		for (i = 0; i < n && !plan->eightbit; i++) {
			unsigned char	 c = (unsigned char)chunk->data[i];

			if (c >= 0x80 || c == '\0')
				plan->eightbit = 1;
		}
		pos += (off_t)n;
	}
	return 0;
}

/* write_headers - the notice's own header section */
static void
write_headers(struct bounce_out *o, const struct bounce_info *info,
    const struct bounce_plan *plan, long long now)
{
	char		 host[256], qid[SPOOL_ID_MAX], date[BOUNCE_DATE_MAX];
	char		 stamp[32];
	const char	*subject, *kind, *to;
	struct tm	 tm;
	time_t		 tt = (time_t)now;

	host_clean(host, sizeof(host), info->myhostname);
	switch (info->kind) {
	case BOUNCE_DELAY:
		kind = "delay";
		subject = info->postmaster_copy ? "Postmaster Warning: "
		    "Delayed Mail" : "Delayed Mail (still being retried)";
		break;
	case BOUNCE_SUCCESS:
		kind = "success";
		subject = info->postmaster_copy ? "Postmaster Copy: "
		    "Successful Mail Delivery Report" :
		    "Successful Mail Delivery Report";
		break;
	case BOUNCE_FAILURE:
	default:
		kind = "bounce";
		subject = info->postmaster_copy ? "Postmaster Copy: "
		    "Undelivered Mail" : "Undelivered Mail Returned to Sender";
		break;
	}
	out_printf(o, "From: MAILER-DAEMON@%s (Mail Delivery System)\n", host);
	to = info->to != NULL && *info->to != '\0' ? info->to :
	    info->sender != NULL && *info->sender != '\0' ? info->sender : NULL;
	buf_reset(&o->t);
	if (to != NULL)
		(void)buf_printf(&o->t, "<%s>", clean(o, &o->v, to));
	else
		(void)buf_printf(&o->t, "<postmaster@%s>", host);
	put_field(o, "To", clean(o, &o->v, buf_str(&o->t)), BOUNCE_HARD);
	out_printf(o, "Subject: %s\n", subject);
	fmt_date(date, sizeof(date), now);
	out_printf(o, "Date: %s\n", date);
	if (gmtime_r(&tt, &tm) == NULL || strftime(stamp, sizeof(stamp),
	    "%Y%m%d%H%M%S", &tm) == 0)
		str_copy(stamp, sizeof(stamp), "0");
	buf_reset(&o->t);
	host_clean(qid, sizeof(qid), info->queue_id);
	(void)buf_printf(&o->t, "<%s.%s.%s.%s@%s>", stamp, qid, kind,
	    o->w->id[0] != '\0' ? o->w->id : "0", host);
	put_field(o, "Message-ID", clean(o, &o->v, buf_str(&o->t)),
	    BOUNCE_HARD);
	out_adds(o, "Auto-Submitted: auto-replied\n");
	out_adds(o, "MIME-Version: 1.0\n");
	out_printf(o, "Content-Type: multipart/report; "
	    "report-type=delivery-status;\n boundary=\"%s\"\n", plan->boundary);
	out_printf(o, "Content-Transfer-Encoding: %s\n\n",
	    plan->eightbit ? "8bit" : "7bit");
}

/* write_text - the first part: the explanation for people */
static void
write_text(struct bounce_out *o, const struct bounce_info *info,
    const struct bounce_rcpt *rcpt, size_t n, const struct bounce_plan *plan,
    long long now)
{
	char		 host[256], name[64], date[BOUNCE_DATE_MAX];
	char		 dur[64];
	const char	*attached = "", *v, *st;
	size_t		 i, tl;

	out_printf(o, "--%s\n", plan->boundary);
	out_adds(o, "Content-Description: Notification\n"
	    "Content-Type: text/plain; charset=us-ascii\n\n");
	host_clean(host, sizeof(host), info->myhostname);
	host_clean(name, sizeof(name), info->mail_name != NULL ?
	    info->mail_name : "correo");
	put_para(o, "This is an automatic notice from the mail system (%s) "
	    "at %s.", name, host);
	if (info->postmaster_copy != NULL) {
		v = clean(o, &o->v, info->postmaster_copy);
		tl = strlen(v);
		put_para(o, "This copy goes to the postmaster: %s%s", v,
		    tl > 0 && v[tl - 1] == '.' ? "" : ".");
	}

	switch (plan->how) {
	case ATTACH_NONE:
		attached = "The message itself could not be read, so it is "
		    "not attached.";
		break;
	case ATTACH_FULL:
		attached = "A delivery report and your message are attached.";
		break;
	case ATTACH_HEADERS:
		switch (plan->hdrs_why) {
		case HDRS_SIZE:
			attached = "A delivery report and the headers of your "
			    "message are attached; the message was too large "
			    "to return whole.";
			break;
		case HDRS_RET:
			attached = "A delivery report and the headers of your "
			    "message are attached, as you asked.";
			break;
		case HDRS_KIND:
		case HDRS_POSTMASTER:
		default:
			attached = "A delivery report and the headers of the "
			    "message are attached.";
			break;
		}
		break;
	}

	switch (info->kind) {
	case BOUNCE_DELAY:
		fmt_duration(dur, sizeof(dur), info->arrival > 0 &&
		    now > info->arrival ? now - info->arrival : 0);
		put_para(o, "A message has not yet been delivered to %s of its "
		    "recipients.  It has waited in the queue for %s, and the "
		    "mail system keeps trying: there is no need to send it "
		    "again.  If it still cannot be delivered when the time "
		    "given below runs out, it will come back with a final "
		    "notice.", n == 1 ? "one" : "some", dur);
		put_para(o, "%s", attached);
		break;
	case BOUNCE_SUCCESS:
		put_para(o, "A message was delivered to the recipients listed "
		    "below; its sender asked to be told (a DSN request for "
		    "success).  %s", attached);
		break;
	case BOUNCE_FAILURE:
	default:
		put_para(o, "A message could not be delivered to %s of its "
		    "recipients.  The mail system has given up on %s; the "
		    "reasons are listed below.  %s", n == 1 ? "one" : "some",
		    n == 1 ? "it" : "them", attached);
		if (info->postmaster_copy == NULL)
			put_para(o, "If you need help, write to the postmaster "
			    "of %s and include this notice%s", host,
			    plan->how == ATTACH_NONE ? "." : "; you may leave "
			    "out the attached message.");
		break;
	}

	put_item(o, "Queue ID", clean(o, &o->v, info->queue_id), BOUNCE_HARD);
	buf_reset(&o->t);
	(void)buf_printf(&o->t, "<%s>", clean(o, &o->v, info->sender));
	put_item(o, "Sender", clean(o, &o->v, buf_str(&o->t)), BOUNCE_HARD);
	if (info->arrival > 0) {
		fmt_date(date, sizeof(date), info->arrival);
		put_item(o, "Arrived", date, BOUNCE_HARD);
	}
	out_add(o, "\n", 1);

	for (i = 0; i < n && o->err == 0; i++) {
		const struct bounce_rcpt	*r = &rcpt[i];

		buf_reset(&o->t);
		(void)buf_printf(&o->t, "<%s>:", clean(o, &o->v, r->addr));
		put_words(o, 0, BOUNCE_WRAP, BOUNCE_HARD, "    ",
		    clean(o, &o->v, buf_str(&o->t)));
		st = status_of(info, r);
		buf_reset(&o->t);
		(void)buf_printf(&o->t, "%s (%s, %s)", st, action_of(info, r),
		    st[0] == '2' ? "success" : st[0] == '4' ?
		    "temporary problem" : "permanent failure");
		put_item(o, "Status", clean(o, &o->v, buf_str(&o->t)),
		    BOUNCE_WRAP);
		if (r->diagnostic != NULL) {
			v = clean(o, &o->v, r->diagnostic);
			/* People need not read "smtp;": skip the type. */
			if ((tl = type_len(v)) > 0) {
				v += tl + 1;
				v += *v == ' ';
			}
			if (*v != '\0')
				put_item(o, info->kind == BOUNCE_SUCCESS ?
				    "Details" : "Reason", v, BOUNCE_WRAP);
		}
		if (r->remote_mta != NULL) {
			v = clean(o, &o->v, r->remote_mta);
			if ((tl = type_len(v)) > 0) {
				v += tl + 1;
				v += *v == ' ';
			}
			if (*v != '\0')
				put_item(o, "Server", v, BOUNCE_HARD);
		}
		if (info->kind == BOUNCE_DELAY && r->will_retry_until > 0) {
			fmt_date(date, sizeof(date), r->will_retry_until);
			put_item(o, "Retried until", date, BOUNCE_HARD);
		}
		out_add(o, "\n", 1);
	}
}

/* write_report - the second part: message/delivery-status */
static void
write_report(struct bounce_out *o, const struct bounce_info *info,
    const struct bounce_rcpt *rcpt, size_t n, const struct bounce_plan *plan)
{
	char		 host[256], date[BOUNCE_DATE_MAX];
	size_t		 i;

	host_clean(host, sizeof(host), info->myhostname);
	out_printf(o, "--%s\n", plan->boundary);
	out_adds(o, "Content-Description: Delivery report\n"
	    "Content-Type: message/delivery-status\n\n");
	out_printf(o, "Reporting-MTA: dns; %s\n", host);
	put_field(o, "X-Correo-Queue-ID", clean(o, &o->v, info->queue_id),
	    BOUNCE_HARD);
	put_field(o, "X-Correo-Sender", typed(o, info->sender != NULL ?
	    info->sender : "", "rfc822"), BOUNCE_HARD);
	if (info->arrival > 0) {
		fmt_date(date, sizeof(date), info->arrival);
		out_printf(o, "Arrival-Date: %s\n", date);
	}
	if (info->envid != NULL && *info->envid != '\0')
		put_field(o, "Original-Envelope-Id", clean(o, &o->v,
		    info->envid), BOUNCE_HARD);

	for (i = 0; i < n && o->err == 0; i++) {
		const struct bounce_rcpt	*r = &rcpt[i];

		out_add(o, "\n", 1);
		buf_reset(&o->t);
		(void)buf_printf(&o->t, "rfc822; %s", clean(o, &o->v,
		    r->addr));
		put_field(o, "Final-Recipient", clean(o, &o->v,
		    buf_str(&o->t)), BOUNCE_HARD);
		if (r->orcpt != NULL && *r->orcpt != '\0')
			put_field(o, "Original-Recipient", typed(o, r->orcpt,
			    "rfc822"), BOUNCE_HARD);
		out_printf(o, "Action: %s\n", action_of(info, r));
		out_printf(o, "Status: %s\n", status_of(info, r));
		if (r->remote_mta != NULL && *r->remote_mta != '\0')
			put_field(o, "Remote-MTA", typed(o, r->remote_mta,
			    "dns"), BOUNCE_HARD);
		if (r->diagnostic != NULL && *r->diagnostic != '\0')
			put_field(o, "Diagnostic-Code", typed(o,
			    r->diagnostic, "x-unix"), BOUNCE_FOLD);
		if (r->last_attempt > 0) {
			fmt_date(date, sizeof(date), r->last_attempt);
			out_printf(o, "Last-Attempt-Date: %s\n", date);
		}
		if (info->kind == BOUNCE_DELAY && r->will_retry_until > 0) {
			fmt_date(date, sizeof(date), r->will_retry_until);
			out_printf(o, "Will-Retry-Until: %s\n", date);
		}
	}
}

/* write_original - the third part: the original, or its header lines */
static int
write_original(struct bounce_out *o, const struct bounce_info *info,
    const struct bounce_plan *plan, int fd, off_t off, struct buf *chunk,
    struct buf *why)
{
	off_t	 pos = 0;
	size_t	 n;

	out_printf(o, "\n--%s\n", plan->boundary);
	out_printf(o, "Content-Description: %s\n", plan->how == ATTACH_FULL ?
	    "Undelivered Message" : info->kind == BOUNCE_SUCCESS ?
	    "Message Headers" : "Undelivered Message Headers");
	out_printf(o, "Content-Type: %s\n", plan->how == ATTACH_FULL ?
	    "message/rfc822" : "text/rfc822-headers");
	out_printf(o, "Content-Transfer-Encoding: %s\n\n", plan->eightbit ?
	    "8bit" : "7bit");
	out_flush(o);
	while (pos < plan->len && o->err == 0) {
		n = (size_t)(plan->len - pos < BOUNCE_CHUNK ? plan->len - pos :
		    BOUNCE_CHUNK);
		if (read_at(chunk, fd, off + pos, n, why) != 0)
			return -1;
		if (spool_write(o->w, chunk->data, n) != 0) {
			o->err = errno ? errno : EIO;
			o->what = "write queue file";
		}
		pos += (off_t)n;
	}
	if (plan->addlf)
		out_add(o, "\n", 1);
	return 0;
}
