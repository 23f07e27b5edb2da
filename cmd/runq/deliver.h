/*
 * deliver.h - runq's local delivery agents
 *
 * runq (main.c, queue.c) decides what to deliver where; the agents
 * here put one message into one place and say how it went.  They know
 * nothing of the queue, of aliases or of privileges: runq calls them in
 * a child that already runs as the recipient (local.c), and reports the
 * results back to the parent, which alone writes the queue file.
 *
 * The message.  struct dlv_msg names the queue file's content by
 * descriptor and offsets; agents read it with pread(2) in pieces of at
 * most DLV_CHUNK bytes, so memory stays flat whatever the size.  The
 * content is stored with LF line ends; agents that talk to a peer (LMTP)
 * convert to CRLF and dot-stuff.
 *
 * The prepended headers.  Every agent that writes a message file
 * (mbox, Maildir, /file) and every command (|command, mailbox_command)
 * gets, in this order and as Postfix's local(8) writes them:
 *
 *	Return-Path: <SENDER>
 *	X-Original-To: ORIG_RCPT	(when orig_rcpt is set)
 *	Delivered-To: RECIPIENT		(when dlv_msg.delivered_to is set)
 *
 * (Postfix's mail_copy() writes X-Original-To before Delivered-To.)
 * mbox files get "From SENDER  DATE" first (MAILER-DAEMON for the null
 * sender; two spaces and an asctime(3) date in local time, as Postfix).
 *
 * Outcomes.  Each call fills a struct dlv_result: DLV_OK, DLV_DEFER
 * (try again later: a lock held too long, a full disk, exit 75) or
 * DLV_BOUNCE (never: a mailbox over mailbox_size_limit, a command's
 * permanent exit), an RFC 3463 status ("2.0.0", "4.2.0", "5.2.2"...)
 * and one line of text for the log and the bounce ("delivered to
 * mailbox", "cannot update mailbox /var/mail/bob: File too large").
 *
 * Durability.  Nothing is reported DLV_OK before the data is on disk:
 * mbox_sync / maildir_sync fsync what the batch wrote, and callers only
 * report success after them.  Appending several messages to one mailbox
 * and syncing once is allowed and is how runq batches.
 */
#ifndef CMD_RUNQ_DELIVER_H
#define CMD_RUNQ_DELIVER_H

#include <sys/types.h>

#include "common/buf.h"

#define DLV_CHUNK	65536
#define DLV_TEXT_MAX	1024	/* result text */

enum dlv_status {
	DLV_OK = 0,
	DLV_DEFER,
	DLV_BOUNCE,
};

struct dlv_result {
	enum dlv_status	 status;
	char		 dsn[16];		/* "2.0.0", "4.3.0", "5.2.2" */
	char		 text[DLV_TEXT_MAX];
};

struct dlv_msg {
	int		 fd;		/* the queue file (read-only use) */
	off_t		 off;		/* where the content starts */
	off_t		 len;		/* content bytes */
	const char	*queue_id;
	const char	*sender;	/* envelope sender; "" = null sender */
	const char	*recipient;	/* the final address delivered to */
	const char	*orig_rcpt;	/* X-Original-To, or NULL */
	const char	*delivered_to;	/* Delivered-To, or NULL */
	long long	 arrival;	/* seconds since the epoch */
};

/*
 * The crash mark of an mbox append: which file, how long it was before
 * the append, and the From_ line's time stamp.  runq records it in the
 * queue file before the append; a retry after a crash hands it back to
 * mbox_undo(), which cuts the file back when (and only when) what
 * follows that length is this message's own partial append.
 */
struct mbox_mark {
	dev_t		 dev;
	ino_t		 ino;
	off_t		 len;
	long long	 stamp;
};

/*
 * mbox.c: the mail spool and /file deliveries (mbox.c's comment has the
 * details: checks, locks, DSNs).
 *
 * mbox_open() opens PATH without following links, creating it with
 * create_mode when missing; wants a regular file with one link, owned
 * by the effective uid or root (the one exception: "/dev/null", where
 * appends succeed and write nothing); takes an fcntl lock and the dotlock
 * PATH.lock, waiting up to 20 s (mbox_set_lock_wait()) before it defers
 * "mailbox is locked".  On success mb->mark is ready for the first
 * append: dev, ino, len = the current size, stamp = now.  Record it,
 * then append.  On failure r says why and mbox_close() is harmless.
 *
 * mbox_undo(), right after mbox_open() and before any append: when the
 * file is the mark's and what follows mark->len is this message's own
 * append (a prefix of it, or all of it) with mark->stamp, cut the file
 * back to mark->len and sync: 1.  Anything else is left alone, with a
 * warning: 0.  -1 with r (DLV_DEFER) when it could not look.  After a
 * cut mb->mark.len is mark->len.
 *
 * mbox_append() writes one message at the end (not synced) and leaves
 * mb->mark ready for the next one (len = the new end, stamp = now).  A
 * zero mb->mark.stamp is set to now first.  On failure the file is cut
 * back to where the append started: DLV_BOUNCE 5.2.2 for
 * mailbox_size_limit, DLV_DEFER for everything else.
 *
 * mbox_sync() fsyncs what the appends since the last sync (or the open)
 * wrote, and the directory when mbox_open() created the file.  When that
 * fails, all of those appends are cut away and every one of them must
 * be reported DLV_DEFER.  Nothing is durable before it returns 0.
 *
 * mbox_close() removes the dotlock, drops the fcntl lock and closes.
 */
struct mbox {
	int		 fd;
	char		*path;
	char		*dotlock;	/* NULL when not dotlocked */
	struct mbox_mark mark;		/* of the append in progress */
	off_t		 size_limit;	/* mailbox_size_limit; 0: none */
	/* private to mbox.c */
	off_t		 batch_len;	/* the length at the last sync */
	int		 created;	/* mbox_open made the file */
	dev_t		 lock_dev;	/* the dotlock we made */
	ino_t		 lock_ino;
	int		 devnull;	/* PATH is /dev/null: write nothing */
	int		 qfd;		/* flock'd: correo's own queue */
};

/* mbox.c - mbox files (the mail spool, /file deliveries) */
int	 mbox_open(struct mbox *, const char *path, off_t size_limit,
	    int create_mode, struct dlv_result *);
int	 mbox_undo(struct mbox *, const struct mbox_mark *,
	    const struct dlv_msg *, struct dlv_result *);
int	 mbox_append(struct mbox *, const struct dlv_msg *,
	    struct dlv_result *);
int	 mbox_sync(struct mbox *, struct dlv_result *);
void	 mbox_close(struct mbox *);
void	 mbox_set_lock_wait(long msec);	/* tests; default 20000 */

/*
 * maildir.c: Maildir (home_mailbox ending in "/", virtual mailboxes).
 * maildir_deliver() makes DIR and DIR/{tmp,new,cur} when missing (0700;
 * tmp, new and cur are never followed when they are symbolic links),
 * writes DIR/tmp/NAME (0600: the headers, then the content exactly),
 * fsyncs it and renames it to DIR/new/NAME,S=SIZE without replacing
 * anything; with sync it fsyncs DIR/new too, otherwise maildir_sync()
 * does that once for a batch.  No quota (mailbox_size_limit does not
 * apply).  Failures defer (DLV_DEFER) and leave nothing in tmp/.
 */
int	 maildir_deliver(const char *dir, const struct dlv_msg *, int sync,
	    struct dlv_result *);
int	 maildir_sync(const char *dir, struct dlv_result *);

/* pipe.c - |command and mailbox_command */
struct dlv_env {
	const char	*user;
	const char	*home;
	const char	*shell;
	const char	*extension;	/* or NULL */
	const char	*domain;
	const char	*local;
	const char	*client_address;	/* or NULL */
	long		 time_limit;	/* command_time_limit, seconds */
};
int	 pipe_deliver(const char *command, const struct dlv_msg *,
	    const struct dlv_env *, struct dlv_result *);

/* lmtp.c - mailbox_transport = lmtp:unix:PATH | lmtp:[HOST]:PORT */
struct lmtp_rcpt {
	const char		*addr;
	struct dlv_result	 result;
};
int	 lmtp_deliver(const char *dest, const struct dlv_msg *,
	    struct lmtp_rcpt *, size_t n, long timeout, struct dlv_result *);

/*
 * dlv.c - common helpers for the agents.
 *
 * dlv_format_headers() puts the From_ line (when from_line, with the
 * time stamp stamp) and the prepended headers in out, replacing what it
 * held; dlv_write_headers() does that in scratch and writes it to fd
 * (scratch holds the bytes written afterwards).  Both return 0, or -1
 * with errno: EINVAL for a control character in an address or a stamp
 * out of range, EMSGSIZE when the buffer's maximum is too small (allow
 * 3 * ADDR_CANON_MAX + 100), or write(2)'s.
 *
 * dlv_pread() reads n bytes of the content at offset at (0 is the first
 * byte of the content): 0, or -1 with errno (EIO: the file is short).
 *
 * dlv_errno_dsn() is the transient status for a failed write: "4.2.2"
 * (EDQUOT, EFBIG), "4.3.0" (ENOSPC, EIO, ENOMEM...) or "4.2.0".
 *
 * dlv_set() fills a result; the text is cut to fit (ending in "...")
 * and control characters in it become '?'.
 */
int	 dlv_format_headers(struct buf *out, const struct dlv_msg *,
	    int from_line, long long stamp);
int	 dlv_write_headers(int fd, const struct dlv_msg *, int from_line,
	    long long stamp, struct buf *scratch);
int	 dlv_pread(const struct dlv_msg *, off_t at, void *, size_t n);
int	 dlv_scan_8bit(const struct dlv_msg *, char *chunk, int *eightbit);
const char *dlv_errno_dsn(int);
void	 dlv_set(struct dlv_result *, enum dlv_status, const char *dsn,
	    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

#endif
