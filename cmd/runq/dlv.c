/*
 * dlv.c - helpers shared by runq's delivery agents (see deliver.h)
 */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/util.h"
#include "cmd/runq/deliver.h"

#define DLV_FMT_MAX	65536	/* dlv_set's text before it is cut */
#define DLV_NULL_SENDER	"MAILER-DAEMON"

static int	 dlv_add_header(struct buf *, const char *, const char *, int);
static int	 dlv_add_date(struct buf *, long long);

/*
 * dlv_add_header - append "name: value\n", or "name: <value>\n" with
 * angle; a value with a control character is EINVAL
 */
static int
dlv_add_header(struct buf *out, const char *name, const char *value,
    int angle)
{
	int	 rc;

	if (str_has_ctl(value, strlen(value))) {
		errno = EINVAL;
		return -1;
	}
	if (angle)
		rc = buf_printf(out, "%s: <%s>\n", name, value);
	else
		rc = buf_printf(out, "%s: %s\n", name, value);
	if (rc != BUF_OK) {
		errno = rc == BUF_NOMEM ? ENOMEM : EMSGSIZE;
		return -1;
	}
	return 0;
}

/*
 * dlv_add_date - append the asctime(3) form of a time stamp in local
 * time, "Tue Nov 24 01:27:47 2026", with English names whatever the
 * locale
 */
static int
dlv_add_date(struct buf *out, long long stamp)
{
	static const char	*wday[] = { "Sun", "Mon", "Tue", "Wed", "Thu",
				    "Fri", "Sat" };
	static const char	*mon[] = { "Jan", "Feb", "Mar", "Apr", "May",
				    "Jun", "Jul", "Aug", "Sep", "Oct", "Nov",
				    "Dec" };
	struct tm		 tm;
	time_t			 t = (time_t)stamp;
	int			 rc;

	if ((long long)t != stamp || localtime_r(&t, &tm) == NULL ||
	    tm.tm_wday < 0 || tm.tm_wday > 6 || tm.tm_mon < 0 ||
	    tm.tm_mon > 11) {
		errno = EINVAL;
		return -1;
	}
	rc = buf_printf(out, "%s %s %2d %02d:%02d:%02d %lld", wday[tm.tm_wday],
	    mon[tm.tm_mon], tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
	    (long long)tm.tm_year + 1900);
	if (rc != BUF_OK) {
		errno = rc == BUF_NOMEM ? ENOMEM : EMSGSIZE;
		return -1;
	}
	return 0;
}

/*
 * dlv_format_headers - the From_ line (when from_line) and the
 * prepended headers, in place of out's contents
 */
int
dlv_format_headers(struct buf *out, const struct dlv_msg *msg,
    int from_line, long long stamp)
{
	const char	*sender = msg->sender != NULL ? msg->sender : "";

	buf_reset(out);
	if (str_has_ctl(sender, strlen(sender))) {
		errno = EINVAL;
		return -1;
	}
	if (from_line) {
		if (buf_printf(out, "From %s  ", *sender != '\0' ? sender :
		    DLV_NULL_SENDER) != BUF_OK) {
			errno = EMSGSIZE;
			return -1;
		}
		if (dlv_add_date(out, stamp) != 0)
			return -1;
		if (buf_addc(out, '\n') != BUF_OK) {
			errno = EMSGSIZE;
			return -1;
		}
	}
	if (dlv_add_header(out, "Return-Path", sender, 1) != 0)
		return -1;
	if (msg->orig_rcpt != NULL && *msg->orig_rcpt != '\0' &&
	    dlv_add_header(out, "X-Original-To", msg->orig_rcpt, 0) != 0)
		return -1;
	if (msg->delivered_to != NULL && *msg->delivered_to != '\0' &&
	    dlv_add_header(out, "Delivered-To", msg->delivered_to, 0) != 0)
		return -1;
	return 0;
}

/*
 * dlv_write_headers - write what dlv_format_headers makes to fd; scratch
 * holds those bytes afterwards
 */
int
dlv_write_headers(int fd, const struct dlv_msg *msg, int from_line,
    long long stamp, struct buf *scratch)
{
	if (dlv_format_headers(scratch, msg, from_line, stamp) != 0)
		return -1;
	if (write_all(fd, scratch->data, scratch->len) < 0)
		return -1;
	return 0;
}

/*
 * dlv_pread - n bytes of the content from offset at (0: the first byte
 * of the content); -1 with errno, EIO when the queue file is short
 */
int
dlv_pread(const struct dlv_msg *msg, off_t at, void *dst, size_t n)
{
	char	*p = dst;
	size_t	 done = 0;
	ssize_t	 r;
	off_t	 pos;

	if (at < 0 || at > msg->len || (off_t)n > msg->len - at ||
	    __builtin_add_overflow(msg->off, at, &pos)) {
		errno = EINVAL;
		return -1;
	}
	while (done < n) {
		r = pread(msg->fd, p + done, n - done, pos + (off_t)done);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			if (r == 0)
				errno = EIO;
			return -1;
		}
		done += (size_t)r;
	}
	return 0;
}

/*
 * dlv_errno_dsn - the enhanced status of a failed write or create:
 * mailbox full for quota and file size limits, system full for a full
 * disk, a mailbox problem otherwise (all transient: 4.x.x)
 */
const char *
dlv_errno_dsn(int err)
{
	switch (err) {
	case EDQUOT:
	case EFBIG:
		return "4.2.2";
	case ENOSPC:
	case ENOMEM:
	case EMFILE:
	case ENFILE:
	case EIO:
		return "4.3.0";
	default:
		return "4.2.0";
	}
}

/*
 * dlv_set - fill in a result; the text is cut to DLV_TEXT_MAX - 1 bytes
 * (ending in "...") and control characters become '?'
 */
void
dlv_set(struct dlv_result *r, enum dlv_status status, const char *dsn,
    const char *fmt, ...)
{
	static const char	 ell[] = "...";
	struct buf		 b;
	va_list			 ap;
	const char		*src;
	size_t			 i, n;
	int			 rc;

	r->status = status;
	if (str_copy(r->dsn, sizeof(r->dsn), dsn) != 0)
		(void)str_copy(r->dsn, sizeof(r->dsn), status == DLV_OK ?
		    "2.0.0" : status == DLV_BOUNCE ? "5.0.0" : "4.0.0");
	buf_init(&b, DLV_FMT_MAX);
	va_start(ap, fmt);
	rc = buf_vprintf(&b, fmt, ap);
	va_end(ap);
	src = rc == BUF_OK ? buf_str(&b) : fmt;
	n = strlen(src);
	if (n > sizeof(r->text) - 1)
		n = sizeof(r->text) - sizeof(ell);
	for (i = 0; i < n; i++) {
		unsigned char	 c = (unsigned char)src[i];

		r->text[i] = c < 0x20 || c == 0x7f ? '?' : (char)c;
	}
	if (n < strlen(src)) {
		memcpy(r->text + n, ell, sizeof(ell));
		n += sizeof(ell) - 1;
	}
	r->text[n] = '\0';
	buf_free(&b);
}


/*
 * dlv_scan_8bit - whether the content has a byte above 127, read in
 * pieces through chunk (DLV_CHUNK bytes); -1 when it cannot be read
 */
int
dlv_scan_8bit(const struct dlv_msg *msg, char *chunk, int *eightbit)
{
	off_t	 at;
	size_t	 n, i;

	*eightbit = 0;
	for (at = 0; at < msg->len; at += (off_t)n) {
		n = DLV_CHUNK;
		if ((off_t)n > msg->len - at)
			n = (size_t)(msg->len - at);
		if (dlv_pread(msg, at, chunk, n) != 0)
			return -1;
		for (i = 0; i < n; i++)
			if ((unsigned char)chunk[i] >= 0x80) {
				*eightbit = 1;
				return 0;
			}
	}
	return 0;
}
