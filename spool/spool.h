/*
 * spool - the queue on disk: create, commit, walk, load, update, move,
 * remove.  Only this module builds queue paths, and it validates every
 * queue ID before it does (spool_id_ok).
 *
 * Layout under queue_directory (man/correo-spool.5 has the full
 * contract and the state table):
 *
 *	incoming/	committed submissions not yet picked up by runq
 *			(correo:correo-drop 1770: sendmail's group adds)
 *	queue/		picked-up messages; a file's mtime is its next try
 *	hold/		held messages (mailq -h)
 *
 * One file per message, created once and never copied: the writer makes
 * an unnamed file in incoming/ (O_TMPFILE; a named ".tmp" file where
 * the file system lacks it), writes the content and the envelope, fsyncs
 * it, and only then gives it its name (the queue ID) with linkat(2) and
 * fsyncs the directory.  A crash before the link leaves nothing; after
 * it, a complete file.  Readers also require the "end" record.
 *
 * File format, version 1 (text, LF line ends):
 *
 *	correo-queue 1 envelope=NNNNNNNNNNNN	fixed width; offset of the
 *						envelope
 *	<message content, exactly as it will be sent, LF line ends>
 *	time: SECONDS.USEC		arrival
 *	origin: local uid=N user=NAME | smtp client=...
 *	sender: ADDRESS			(empty for the null sender)
 *	... other "key: value" records (body, ret, envid, message-id, ...)
 *	R S F AAAAA NNNNNNNNNN ADDRESS	one per recipient: state, flags,
 *					attempts, next try (fixed width)
 *	L <reply, padded to SPOOL_REPLY_MAX>	its last reply
 *	M DEV INO LEN STAMP		the crash mark of a mailbox append
 *					(fixed width; all zero when none)
 *	end
 *
 * Recipient state is updated in place (spool_rcpt_update): one pwrite
 * of the fixed-width fields, then fdatasync.  Values never hold CR, LF
 * or NUL (the writer refuses them).
 *
 * Errors return -1 with a reason in "why" and errno preserved; ENOSPC,
 * EDQUOT and EFBIG mean "try again later" to the caller.
 */
#ifndef SPOOL_SPOOL_H
#define SPOOL_SPOOL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "common/buf.h"

#define SPOOL_VERSION		1
#define SPOOL_ID_MAX		32	/* including the NUL */
#define SPOOL_REPLY_MAX		240	/* bytes of last reply kept */
/*
 * The runner's lock in queue/: runq holds a flock on it while it works,
 * and whoever wants another pass (a second runq, smtpd-lite) sets its
 * time (futimens) while the flock is held.
 */
#define SPOOL_RUNNER_LOCK	".runq.lock"
#define SPOOL_ENV_MAX		(64 * 1024 * 1024)	/* envelope bytes */
#define SPOOL_ADDR_MAX		1024	/* one envelope address */

enum spool_dir {
	SPOOL_INCOMING = 0,
	SPOOL_QUEUE,
	SPOOL_HOLD,
	SPOOL_NDIRS
};

enum spool_open_flags {
	SPOOL_SUBMIT = 1,	/* only incoming/ (sendmail, smtpd-lite) */
	SPOOL_ADMIN = 2,	/* every directory (mailq, runq) */
	SPOOL_CREATE = 4,	/* make missing directories (private spool) */
};

struct spool {
	int	 rootfd;
	int	 dirfd[SPOOL_NDIRS];
	char	*path;
};

enum spool_rcpt_state {
	RCPT_PENDING = 'P',
	RCPT_DELIVERED = 'D',
	RCPT_FAILED = 'F',	/* permanent failure, bounce owed */
	RCPT_BOUNCED = 'B',	/* failure reported to the sender */
};

struct spool_rcpt {
	char	*addr;
	char	*orcpt;		/* DSN ORCPT, or NULL */
	char	*notify;	/* DSN NOTIFY, or NULL */
	int	 state;		/* enum spool_rcpt_state */
	int	 flags;		/* '-' or 'w' (delay warning sent) */
	long	 attempts;
	long long next;		/* next try, seconds since the epoch */
	char	 reply[SPOOL_REPLY_MAX + 1];
	off_t	 off;		/* where its R record's state starts */
	off_t	 reply_off;	/* where its L record's text starts */
	/* The crash mark of a mailbox append (M record), or all zero. */
	unsigned long long mark_dev, mark_ino;
	long long mark_len, mark_stamp;
	off_t	 mark_off;	/* where its M record's fields start; -1 */
};

/* A message being written. */
struct spool_writer {
	struct spool	*sp;
	int		 fd;
	int		 named;		/* fallback: a named temporary */
	char		 tmpname[64];
	char		 wbuf[65536];
	size_t		 wlen;
	off_t		 size;		/* content bytes written */
	struct buf	 env;		/* envelope records so far */
	size_t		 nrcpt;
	char		 id[SPOOL_ID_MAX];
};

/* A message read back. */
struct spool_msg {
	char		 id[SPOOL_ID_MAX];
	enum spool_dir	 dir;
	int		 fd;
	int		 locked;	/* 1: we hold LOCK_EX */
	int		 busy;		/* 1: a runner holds the lock */
	uid_t		 owner;		/* st_uid: who submitted, per kernel */
	off_t		 content_off;
	off_t		 content_len;
	off_t		 env_off;
	long long	 mtime;
	char		*time;		/* "SECONDS.USEC" */
	char		*sender;
	char		*origin;
	char		*body;
	char		*ret;
	char		*envid;
	char		*msgid;
	char		*verp;
	struct spool_rcpt *rcpt;
	size_t		 nrcpt;
	struct buf	 raw;		/* the envelope text; fields point in */
};

enum spool_load_flags {
	SPOOL_LOAD_PEEK = 0,	/* no lock; report busy if locked */
	SPOOL_LOAD_LOCK = 1,	/* take LOCK_EX without waiting */
	SPOOL_LOAD_WRITE = 2,	/* open read-write (implies LOCK) */
};

int	 spool_open(struct spool *, const char *path, int flags,
	    struct buf *why);
void	 spool_close(struct spool *);
int	 spool_id_ok(const char *);
const char *spool_dir_name(enum spool_dir);

int	 spool_create(struct spool *, struct spool_writer *, struct buf *);
int	 spool_write(struct spool_writer *, const void *, size_t);
int	 spool_env(struct spool_writer *, const char *key, const char *val);
int	 spool_add_rcpt(struct spool_writer *, const char *addr,
	    const char *orcpt, const char *notify);
int	 spool_finish(struct spool_writer *, struct buf *why);
int	 spool_commit(struct spool_writer *, struct buf *why);
int	 spool_commit_keep(struct spool_writer *, struct buf *why);
void	 spool_abort(struct spool_writer *);

int	 spool_walk(struct spool *, enum spool_dir,
	    int (*)(const char *id, const struct stat *, void *), void *,
	    struct buf *why);
int	 spool_load(struct spool *, enum spool_dir, const char *id, int flags,
	    struct spool_msg *, struct buf *why);
int	 spool_load_fd(int fd, const char *id, struct spool_msg *,
	    struct buf *why);
void	 spool_msg_free(struct spool_msg *);
int	 spool_env_each(struct spool_msg *,
	    int (*)(const char *key, const char *val, void *), void *,
	    struct buf *why);
int	 spool_rcpt_update(struct spool_msg *, size_t idx, struct buf *why);
int	 spool_rcpt_write(struct spool_msg *, size_t idx, struct buf *why);
int	 spool_msg_sync(struct spool_msg *, struct buf *why);
int	 spool_rcpt_mark(struct spool_msg *, size_t idx, struct buf *why);
int	 spool_set_due(struct spool_msg *, long long when);
int	 spool_move(struct spool *, const char *id, enum spool_dir from,
	    enum spool_dir to, struct buf *why);
int	 spool_move_nosync(struct spool *, const char *id,
	    enum spool_dir from, enum spool_dir to, struct buf *why);
int	 spool_sync_dirs(struct spool *, struct buf *why);
int	 spool_remove(struct spool *, const char *id, enum spool_dir,
	    struct buf *why);
int	 spool_sweep(struct spool *, long long older_than, struct buf *why);

#endif
