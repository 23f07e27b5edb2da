/*
 * bounce - runq's delivery status notices (RFC 3464 multipart/report)
 *
 * runq decides when a message bounces, when its sender is warned of a
 * delay (delay_warning_time) and when a DSN NOTIFY=SUCCESS is owed, and
 * to whom each notice goes.  This module only writes the notice: the
 * caller creates a spool_writer, calls bounce_write(), then sets the
 * envelope (the null sender, the notice's recipient, the time), and
 * finishes and commits the file.  bounce.c documents the notice's
 * format at its top.
 *
 *	spool_create(sp, &w, why);
 *	bounce_write(&w, &info, rcpts, n, m.fd, m.content_off,
 *	    m.content_len, why);
 *	spool_env(&w, "time", ...); spool_env(&w, "sender", "");
 *	spool_add_rcpt(&w, original_sender, NULL, NULL);
 *	spool_finish(&w, why); spool_commit(&w, why);
 *
 * bounce_write() writes the content with spool_write() and adds one
 * envelope record itself, "body" (7BIT, or 8BITMIME when the attached
 * part of the original holds 8-bit bytes), since only it knows; the
 * caller adds every other record.
 *
 * The original.  The content is read from msg_fd at content_off for
 * content_len bytes with pread(2), in pieces of BOUNCE_CHUNK bytes: at
 * most twice (a scan for 8-bit bytes and for the MIME boundary, then
 * the copy), never whole in memory.  What is attached, as Postfix's
 * bounce(8) does:
 *	- the whole message (message/rfc822) for a failure notice when
 *	  ret is not "HDRS" and the message is no larger than size_limit
 *	  (0: no limit);
 *	- otherwise its header section only (text/rfc822-headers): for
 *	  RET=HDRS, for a message larger than size_limit, for delay and
 *	  success notices and for every postmaster copy.  The header lines
 *	  are copied whole, and only as many as fit in size_limit.
 *	- nothing when msg_fd is -1 (the original could not be read: a
 *	  notice is still sent, saying so).
 *
 * Untrusted text.  Addresses, diagnostics and the other strings come
 * from the queue file and from remote servers.  Every value written
 * into a header field, the delivery report or the explanation is
 * cleaned first: CR, LF and TAB become spaces, other control bytes,
 * DEL and bytes >= 0x80 become '?', runs of white space become one
 * space, and a value is cut at BOUNCE_VALUE_MAX bytes (ending in
 * "...").  Long fields are folded at 78 columns (at a space where there
 * is one; a longer word is split, which unfolding turns into a space).
 * So everything this module writes is printable US-ASCII; only the
 * attached original keeps its bytes, as stored.
 *
 * Ownership.  Nothing is kept: every pointer in bounce_info and
 * bounce_rcpt is borrowed for the duration of the call.
 *
 * Errors.  bounce_write() returns 0, or -1 with a reason in why and
 * errno set: EINVAL for a bad argument (no recipients, no queue ID, no
 * myhostname, a recipient without an address), EIO or the read's errno
 * when the original cannot be read, the write's errno (ENOSPC...) when
 * the queue file cannot be written, ENOMEM.  After an error the writer
 * holds a partial notice: the caller spool_abort()s it (and may try
 * again with msg_fd -1 when the original was unreadable).  Nothing is
 * logged and nothing is fatal.
 */
#ifndef CMD_RUNQ_BOUNCE_H
#define CMD_RUNQ_BOUNCE_H

#include <stddef.h>
#include <sys/types.h>

#include "common/buf.h"
#include "spool/spool.h"

#define BOUNCE_CHUNK		65536	/* bytes per pread of the original */
#define BOUNCE_VALUE_MAX	2048	/* one cleaned value, at most */
#define BOUNCE_SIZE_LIMIT	50000	/* Postfix's bounce_size_limit */

enum bounce_kind {
	BOUNCE_FAILURE,		/* Action: failed */
	BOUNCE_DELAY,		/* Action: delayed (delay_warning_time) */
	BOUNCE_SUCCESS,		/* Action: delivered, relayed, expanded */
};

struct bounce_rcpt {
	const char	*addr;		/* final recipient (required) */
	const char	*orcpt;		/* DSN ORCPT ("rfc822;x@y"), or NULL */
	const char	*action;	/* "failed", "delayed", "delivered", */
					/* "relayed", "expanded"; NULL: by */
					/* kind */
	const char	*status;	/* "5.1.1", "4.4.1", "2.0.0"; NULL or */
					/* malformed: 5.0.0, 4.0.0, 2.0.0 */
	const char	*diagnostic;	/* "smtp; 550 5.1.1 ..." or text */
					/* ("x-unix; " is put before text */
					/* without a type), or NULL */
	const char	*remote_mta;	/* "dns; mx.example.org", or NULL */
	long long	 last_attempt;	/* seconds since the epoch, or 0 */
	long long	 will_retry_until; /* delay notices; 0: not shown */
};

struct bounce_info {
	enum bounce_kind kind;
	const char	*queue_id;	/* of the original (required) */
	const char	*sender;	/* original envelope sender; "" or */
					/* NULL: the null sender */
	const char	*to;		/* the To: address; NULL: sender */
					/* (postmaster@myhostname when that */
					/* is the null sender too) */
	const char	*myhostname;	/* Reporting-MTA, From: (required) */
	const char	*mail_name;	/* "correo"; NULL: "correo" */
	const char	*envid;		/* Original-Envelope-Id, or NULL */
	const char	*ret;		/* "FULL", "HDRS" or NULL (full) */
	long long	 arrival;	/* Arrival-Date; 0: not shown */
	long long	 now;		/* Date:; 0: time(NULL) */
	size_t		 size_limit;	/* bounce_size_limit; 0: no limit */
	const char	*postmaster_copy; /* NULL, or why the postmaster */
					/* gets this copy (headers only) */
};

int	 bounce_write(struct spool_writer *, const struct bounce_info *,
	    const struct bounce_rcpt *, size_t n, int msg_fd,
	    off_t content_off, off_t content_len, struct buf *why);

#endif
