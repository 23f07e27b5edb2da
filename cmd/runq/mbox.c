/*
 * mbox.c - appends to mbox files: the mail spool and /file deliveries
 * (see deliver.h)
 *
 * Opening.  The file is opened with O_NOFOLLOW|O_NONBLOCK|O_NOCTTY
 * (O_RDWR so that mbox_undo can read it back; O_WRONLY when only that is
 * allowed) and created with O_CREAT|O_EXCL when missing, so a symbolic
 * link is never followed and a link planted between two attempts is
 * noticed.  fstat then wants a regular file with one link, owned by the
 * effective uid or by root.  After both locks are held the name must
 * still lead to the same inode, or everything is let go and tried again
 * (an MUA replaced the file).
 *
 * Refusals, as Postfix's local(8) (global/mbox_open.c, mail_copy.c):
 * a symbolic link, a non-file and a hard-linked file bounce (5.2.0:
 * they will not mend themselves, and the sender learns why); a file of
 * another owner defers (4.2.0, strict_mailbox_ownership); open errors
 * bounce (5.2.0, e.g. "Permission denied", "No such file or directory"
 * for a missing directory) unless they are the transient kind (ENOSPC,
 * EDQUOT, EIO, EROFS, EMFILE, ENOMEM, ...), which defer.  Write and
 * fsync errors always defer, with 4.2.2 for EDQUOT and EFBIG and 4.3.0
 * or 4.2.0 otherwise (Postfix bounces 5.2.2 on those two; we prefer a
 * retry, as sendmail's mail.local does, because quotas get freed).
 * mailbox_size_limit bounces 5.2.2 before anything is written, or when
 * the escaped message turns out to pass it.
 *
 * Locking, compatible with mutt, Dovecot and procmail on Debian: an
 * fcntl(2) write lock on the whole file (an open file description lock,
 * F_OFD_SETLK, which conflicts with everybody's F_SETLK locks and is
 * not lost when some other descriptor of the file is closed) and the
 * dotlock PATH.lock, stamped "correo PID HOST" before it is linked in
 * (see mbox_lock_create).  Neither is waited for
 * while holding the other: a try takes both or none, and tries repeat
 * with a growing pause (50 ms to 1 s) for mbox_lock_wait (20 s, as
 * Postfix's deliver_lock_attempts x deliver_lock_delay) before "mailbox
 * is locked" defers.  A dotlock older than MBOX_STALE_LOCK (500 s,
 * Postfix's stale_lock_time) is removed; ours is touched every
 * MBOX_LOCK_TOUCH seconds while a long append runs so it never looks
 * stale.  When the directory does not let us make the dotlock (EACCES,
 * EPERM: a /file in a directory the recipient cannot write), the fcntl
 * lock alone is used, with a warning, as Postfix does for files.
 *
 * Before those tries, a deliverer waits in the kernel for a flock(2) on
 * an existing mailbox (mbox_queue), holding nothing else, within the
 * same mbox_lock_wait.  Deliverers of our own to one mailbox so take
 * turns at once instead of finding each other's dotlock and pausing 50
 * ms or more (bench/smtpd: two local workers to one mbox spent most of
 * their time asleep).  A flock held by anybody else until the deadline
 * defers as "mailbox is locked", as the other locks do.  A program that
 * holds dotlock or fcntl lock and then waits for flock makes us give up
 * at mbox_lock_wait, and go on then, rather than hang.
 *
 * Writing.  The From_ line ("From SENDER  DATE", two spaces and the
 * asctime(3) date, as Postfix writes it), the prepended headers, the
 * content with mboxrd quoting (a line matching ^>*From  gets one more
 * '>', so readers that unquote get the message back exactly), a newline
 * when the content lacks a last one, and an empty line.  Output goes
 * through a buffer of MBOX_OUT_SIZE bytes and the content is read in
 * DLV_CHUNK pieces: memory is flat whatever the message size.  A failed
 * append is cut back with ftruncate(2) to where it started; a failed
 * fsync cuts back the whole batch, since none of it can be trusted.
 *
 * /dev/null, the one non-file allowed ("devnull: /dev/null" in aliases,
 * which Postfix delivers): opened without locks, appends succeed and
 * write nothing, undo has nothing to do.
 *
 * Undo.  The bytes after the crash mark's length are regenerated and
 * compared, not just the From_ line: the file is cut only when what
 * follows the mark is a prefix (or all) of this very message's append
 * with the mark's time stamp, so a foreign message appended after a
 * partial one is never cut away.
 */
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/log.h"
#include "common/util.h"
#include "cmd/runq/deliver.h"

#define MBOX_LOCK_WAIT_MS	20000	/* total wait for the locks */
#define MBOX_PAUSE_MIN_MS	50	/* first pause between tries */
#define MBOX_PAUSE_MAX_MS	1000	/* longest pause between tries */
#define MBOX_STALE_LOCK		500	/* seconds: an older dotlock is dead */
#define MBOX_LOCK_TOUCH		60	/* seconds between dotlock refreshes */
#define MBOX_OUT_SIZE		DLV_CHUNK
#define MBOX_HDR_MAX		(16 * 1024)	/* From_ line plus headers */
#define MBOX_OPEN_TRIES		4	/* create/open races in one try */
#define MBOX_LOCK_SUFFIX	".lock"
#define MBOX_DEVNULL		"/dev/null"

/* What a locking try came to. */
enum mbox_try {
	MBOX_TRY_OK,
	MBOX_TRY_BUSY,		/* locked by someone else: pause, try again */
	MBOX_TRY_FAIL,		/* refused or broken: the result says why */
};

/* Where the generated append goes. */
enum mbox_sink {
	MBOX_SINK_WRITE,	/* append to the mailbox */
	MBOX_SINK_COMPARE,	/* compare with the mailbox's bytes (undo) */
};

/* Why generation stopped early. */
enum mbox_stop {
	MBOX_STOP_NONE = 0,
	MBOX_STOP_FULL,		/* WRITE: mailbox_size_limit reached */
	MBOX_STOP_WERR,		/* WRITE: write error (err) */
	MBOX_STOP_RERR,		/* the message could not be read (err) */
	MBOX_STOP_DIFFER,	/* COMPARE: the file holds something else */
	MBOX_STOP_END,		/* COMPARE: the file ended, all matched */
};

/* The generator's output state. */
struct mbox_out {
	enum mbox_sink	 sink;
	struct mbox	*mb;
	char		*buf;		/* MBOX_OUT_SIZE bytes */
	size_t		 len;
	char		*cmp;		/* COMPARE: MBOX_OUT_SIZE bytes */
	off_t		 base;		/* file offset of the append */
	off_t		 done;		/* bytes flushed so far */
	off_t		 room;		/* most bytes allowed; -1: no limit */
	enum mbox_stop	 stop;
	int		 err;		/* errno of STOP_WERR / STOP_RERR */
	time_t		 touched;	/* last dotlock refresh */
};

static long	 mbox_lock_wait_ms = MBOX_LOCK_WAIT_MS;

static void	 mbox_init(struct mbox *, off_t);
static int	 mbox_transient(int);
static enum mbox_try mbox_open_file(struct mbox *, int, struct stat *,
		    struct dlv_result *);
static enum mbox_try mbox_dotlock(struct mbox *, const char *, int *,
		    struct dlv_result *);
static enum mbox_try mbox_try_once(struct mbox *, const char *, int,
		    int *, struct dlv_result *);
static void	 mbox_release(struct mbox *);
static long long mbox_now_ms(void);
static void	 mbox_pause(long);
static int	 mbox_open_null(struct mbox *, struct dlv_result *);
static int	 mbox_out_init(struct mbox_out *, struct mbox *,
		    enum mbox_sink, off_t, off_t);
static void	 mbox_out_free(struct mbox_out *);
static int	 mbox_out_flush(struct mbox_out *);
static int	 mbox_out_put(struct mbox_out *, const char *, size_t);
static int	 mbox_out_gts(struct mbox_out *, off_t);
static int	 mbox_emit(struct mbox_out *, const struct dlv_msg *,
		    const struct buf *);
static int	 mbox_cut(struct mbox *, off_t);

/* mbox_set_lock_wait - how long mbox_open waits for the locks */
void
mbox_set_lock_wait(long msec)
{
	mbox_lock_wait_ms = msec < 0 ? 0 : msec;
}

/* mbox_init - a closed mbox */
static void
mbox_init(struct mbox *mb, off_t size_limit)
{
	memset(mb, 0, sizeof(*mb));
	mb->fd = -1;
	mb->qfd = -1;
	mb->size_limit = size_limit > 0 ? size_limit : 0;
}

/*
 * mbox_transient - whether an open(2) or create error may go away by
 * itself (defer) rather than need a person (bounce)
 */
static int
mbox_transient(int err)
{
	switch (err) {
	case EAGAIN:
	case EBUSY:
	case EDQUOT:
	case EFBIG:
	case EINTR:
	case EIO:
	case EMFILE:
	case ENFILE:
	case ENOLCK:
	case ENOMEM:
	case ENOSPC:
	case EROFS:
	case ESTALE:
	case ETIMEDOUT:
	case ETXTBSY:
		return 1;
	default:
		return 0;
	}
}

/*
 * mbox_open_file - open or create mb->path without following a link and
 * check what it is; *st describes it on MBOX_TRY_OK
 */
static enum mbox_try
mbox_open_file(struct mbox *mb, int create_mode, struct stat *st,
    struct dlv_result *r)
{
	const int	 base = O_APPEND | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY |
			    O_CLOEXEC;
	struct stat	 lst;
	int		 i, fd = -1, fl, err = 0, created = 0;

	for (i = 0; i < MBOX_OPEN_TRIES && fd < 0; i++) {
		if ((fd = open(mb->path, O_RDWR | base)) < 0 &&
		    errno == EACCES)
			fd = open(mb->path, O_WRONLY | base);
		if (fd >= 0 || errno != ENOENT)
			break;
		fd = open(mb->path, O_RDWR | O_CREAT | O_EXCL | base,
		    create_mode);
		if (fd >= 0)
			created = 1;
		else if (errno != EEXIST)
			break;
	}
	if (fd < 0) {
		err = errno;
		if (err == ELOOP && lstat(mb->path, &lst) == 0 &&
		    S_ISLNK(lst.st_mode)) {
			dlv_set(r, DLV_BOUNCE, "5.2.0", "cannot update mailbox "
			    "%s: it is a symbolic link", mb->path);
		} else if (err == EISDIR || err == ENXIO) {
			dlv_set(r, DLV_BOUNCE, "5.2.0", "cannot update mailbox "
			    "%s: not a regular file", mb->path);
		} else if (i == MBOX_OPEN_TRIES) {
			/* The name keeps coming and going. */
			dlv_set(r, DLV_DEFER, "4.2.0", "cannot update mailbox "
			    "%s: %s", mb->path, strerror(err));
		} else {
			dlv_set(r, mbox_transient(err) ? DLV_DEFER : DLV_BOUNCE,
			    mbox_transient(err) ? dlv_errno_dsn(err) : "5.2.0",
			    "cannot open mailbox %s: %s", mb->path,
			    strerror(err));
		}
		return MBOX_TRY_FAIL;
	}
	if (fstat(fd, st) != 0) {
		err = errno;
		close(fd);
		dlv_set(r, DLV_DEFER, "4.2.0", "cannot update mailbox %s: "
		    "fstat: %s", mb->path, strerror(err));
		return MBOX_TRY_FAIL;
	}
	if (!S_ISREG(st->st_mode)) {
		close(fd);
		dlv_set(r, DLV_BOUNCE, "5.2.0", "cannot update mailbox %s: "
		    "not a regular file", mb->path);
		return MBOX_TRY_FAIL;
	}
	if (st->st_nlink == 0) {
		close(fd);		/* removed under us: again */
		return MBOX_TRY_BUSY;
	}
	if (st->st_nlink != 1) {
		close(fd);
		dlv_set(r, DLV_BOUNCE, "5.2.0", "cannot update mailbox %s: "
		    "it has %lu hard links", mb->path,
		    (unsigned long)st->st_nlink);
		return MBOX_TRY_FAIL;
	}
	if (st->st_uid != geteuid() && st->st_uid != 0) {
		close(fd);
		log_warnx("mailbox %s is owned by uid %lu, not by the "
		    "recipient (uid %lu)", mb->path, (unsigned long)st->st_uid,
		    (unsigned long)geteuid());
		dlv_set(r, DLV_DEFER, "4.2.0", "cannot update mailbox %s: "
		    "it is not owned by the recipient", mb->path);
		return MBOX_TRY_FAIL;
	}
	if ((fl = fcntl(fd, F_GETFL)) < 0 ||
	    fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) < 0) {
		err = errno;
		close(fd);
		dlv_set(r, DLV_DEFER, "4.2.0", "cannot update mailbox %s: "
		    "fcntl: %s", mb->path, strerror(err));
		return MBOX_TRY_FAIL;
	}
	mb->fd = fd;
	mb->created |= created;
	return MBOX_TRY_OK;
}

/*
 * mbox_lock_stamp - write "correo PID HOST" into our dotlock, so that
 * the next delivery can tell at once when its maker was killed (the
 * 500 s rule remains for other programs' locks, which mutt and
 * procmail leave empty)
 */
static void
mbox_lock_stamp(int fd)
{
	char	 host[256], line[320];

	if (gethostname(host, sizeof(host)) != 0)
		return;
	host[sizeof(host) - 1] = '\0';
	if (bsnprintf(line, sizeof(line), "correo %ld %s\n", (long)getpid(),
	    host) == 0)
		(void)write_all(fd, line, strlen(line));
}

/*
 * mbox_lock_dead - whether lockname is a correo dotlock of this host
 * whose process no longer exists
 */
static int
mbox_lock_dead(const char *lockname)
{
	char		 buf[320], host[256], *p, *end;
	long		 pid;
	ssize_t		 n;
	int		 fd;

	fd = open(lockname, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n < 10 || gethostname(host, sizeof(host)) != 0)
		return 0;
	buf[n] = '\0';
	host[sizeof(host) - 1] = '\0';
	if (strncmp(buf, "correo ", 7) != 0)
		return 0;
	pid = strtol(buf + 7, &end, 10);
	if (end == buf + 7 || *end != ' ' || pid <= 0)
		return 0;
	p = end + 1;
	p[strcspn(p, "\n")] = '\0';
	if (strcmp(p, host) != 0)
		return 0;
	return kill((pid_t)pid, 0) != 0 && errno == ESRCH;
}

/*
 * mbox_lock_create - create lockname already stamped, or -1 with errno
 * (EEXIST when it is there).  The stamp is written into an unnamed
 * O_TMPFILE in the mailbox directory, which is then linked under
 * lockname: a delivery killed at any point leaves either no lock or a
 * stamped one that the next delivery takes over at once, never an empty
 * one that would look like another program's lock for 500 s.  Where
 * the file system has no O_TMPFILE (NFS), O_CREAT|O_EXCL and a stamp.
 */
static int
mbox_lock_create(const char *lockname)
{
	char		 dir[PATH_MAX], proc[64];
	const char	*slash;
	int		 fd, err;
	size_t		 n;

	slash = strrchr(lockname, '/');
	n = slash == NULL ? 1 : (size_t)(slash - lockname);
	if (slash == lockname)
		n = 1;
	if (n < sizeof(dir)) {
		memcpy(dir, slash == NULL ? "." : lockname, n);
		dir[n] = '\0';
		fd = open(dir, O_TMPFILE | O_WRONLY | O_CLOEXEC, 0600);
		if (fd >= 0) {
			mbox_lock_stamp(fd);
			(void)bsnprintf(proc, sizeof(proc), "/proc/self/fd/%d",
			    fd);
			if (linkat(AT_FDCWD, proc, AT_FDCWD, lockname,
			    AT_SYMLINK_FOLLOW) == 0)
				return fd;
			err = errno;
			close(fd);
			if (err != ENOENT || access("/proc/self/fd", X_OK) == 0) {
				errno = err;
				return -1;
			}
			/* no /proc: the plain way below */
		} else if (errno != EOPNOTSUPP && errno != EISDIR &&
		    errno != EINVAL)
			return -1;
	}
	fd = open(lockname, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
	    O_NOCTTY | O_CLOEXEC, 0600);
	if (fd >= 0)
		mbox_lock_stamp(fd);
	return fd;
}

/*
 * mbox_dotlock - make lockname; on MBOX_TRY_OK mb->dotlock owns it,
 * unless *nodot got set (the directory will not have it: fcntl only)
 */
static enum mbox_try
mbox_dotlock(struct mbox *mb, const char *lockname, int *nodot,
    struct dlv_result *r)
{
	struct stat	 st;
	time_t		 now;
	int		 i, fd, err;

	for (i = 0; i < 2; i++) {
		fd = mbox_lock_create(lockname);
		if (fd >= 0) {
			if (fstat(fd, &st) != 0) {
				err = errno;
				close(fd);
				unlink(lockname);
				dlv_set(r, DLV_DEFER, "4.2.0", "cannot lock "
				    "mailbox %s: fstat %s: %s", mb->path,
				    lockname, strerror(err));
				return MBOX_TRY_FAIL;
			}
			close(fd);
			if ((mb->dotlock = strdup(lockname)) == NULL) {
				unlink(lockname);
				dlv_set(r, DLV_DEFER, "4.3.0", "cannot lock "
				    "mailbox %s: out of memory", mb->path);
				return MBOX_TRY_FAIL;
			}
			mb->lock_dev = st.st_dev;
			mb->lock_ino = st.st_ino;
			return MBOX_TRY_OK;
		}
		err = errno;
		if (err == EACCES || err == EPERM || err == ENAMETOOLONG) {
			log_warnx("cannot create lock file %s: %s; locking "
			    "mailbox %s with fcntl only", lockname,
			    strerror(err), mb->path);
			*nodot = 1;
			return MBOX_TRY_OK;
		}
		if (err != EEXIST) {
			dlv_set(r, mbox_transient(err) ? DLV_DEFER : DLV_BOUNCE,
			    mbox_transient(err) ? dlv_errno_dsn(err) : "5.2.0",
			    "cannot create lock file %s: %s", lockname,
			    strerror(err));
			return MBOX_TRY_FAIL;
		}
		if (lstat(lockname, &st) != 0) {
			if (errno == ENOENT)
				continue;	/* just went: again now */
			return MBOX_TRY_BUSY;
		}
		now = time(NULL);
		if (now - st.st_mtime <= MBOX_STALE_LOCK &&
		    !mbox_lock_dead(lockname))
			return MBOX_TRY_BUSY;
		if (unlink(lockname) != 0 && errno != ENOENT) {
			log_warn("cannot remove stale lock file %s", lockname);
			return MBOX_TRY_BUSY;
		}
		log_warnx("removed stale lock file %s (%lld s old, or its "
		    "maker is gone)", lockname, (long long)(now - st.st_mtime));
	}
	return MBOX_TRY_BUSY;
}

/*
 * mbox_try_once - open the file and take both locks, or nothing; with
 * *nodot set, the fcntl lock only
 */
static enum mbox_try
mbox_try_once(struct mbox *mb, const char *lockname, int create_mode,
    int *nodot, struct dlv_result *r)
{
	struct flock	 fl;
	struct stat	 st, now;
	enum mbox_try	 t;
	int		 rc, err;

	if ((t = mbox_open_file(mb, create_mode, &st, r)) != MBOX_TRY_OK)
		return t;
	if (!*nodot && (t = mbox_dotlock(mb, lockname, nodot, r)) !=
	    MBOX_TRY_OK) {
		mbox_release(mb);
		return t;
	}
	memset(&fl, 0, sizeof(fl));
	fl.l_type = F_WRLCK;
	fl.l_whence = SEEK_SET;
	fl.l_start = 0;
	fl.l_len = 0;
	if ((rc = fcntl(mb->fd, F_OFD_SETLK, &fl)) < 0 && errno == EINVAL)
		rc = fcntl(mb->fd, F_SETLK, &fl);	/* before Linux 3.15 */
	if (rc < 0) {
		err = errno;
		mbox_release(mb);
		if (err == EAGAIN || err == EACCES || err == EINTR)
			return MBOX_TRY_BUSY;
		dlv_set(r, DLV_DEFER, "4.2.0", "cannot lock mailbox %s: %s",
		    mb->path, strerror(err));
		return MBOX_TRY_FAIL;
	}
	/* Is the name still this file, and only this file? */
	if (fstat(mb->fd, &st) != 0 || lstat(mb->path, &now) != 0 ||
	    now.st_dev != st.st_dev || now.st_ino != st.st_ino ||
	    st.st_nlink != 1) {
		log_debug("mailbox %s changed while it was being locked",
		    mb->path);
		mbox_release(mb);
		return MBOX_TRY_BUSY;
	}
	return MBOX_TRY_OK;
}

/* mbox_release - let go of the locks and the file; keep the names */
static void
mbox_release(struct mbox *mb)
{
	struct stat	 st;

	if (mb->dotlock != NULL) {
		if (lstat(mb->dotlock, &st) == 0 && st.st_dev == mb->lock_dev &&
		    st.st_ino == mb->lock_ino) {
			if (unlink(mb->dotlock) != 0)
				log_warn("remove lock file %s", mb->dotlock);
		} else
			log_warnx("lock file %s was taken from us",
			    mb->dotlock);
		free(mb->dotlock);
		mb->dotlock = NULL;
	}
	if (mb->fd >= 0) {
		close(mb->fd);		/* and the fcntl lock with it */
		mb->fd = -1;
	}
}

/* mbox_alarm - SIGALRM while mbox_queue waits: interrupt flock(2) */
static void
mbox_alarm(int sig)
{
	(void)sig;
}

/*
 * mbox_queue - wait (until the deadline, in mbox_now_ms time) for a
 * flock on the mailbox when it is a regular file already; mb->qfd then
 * holds it until mbox_close.  -1 only when somebody held it all along;
 * a mailbox that is not there yet, or not a file, or any other error
 * is for the tries that follow to find.  SIGALRM every 100 ms interrupts the
 * wait (repeating, so that one arriving just before flock(2) blocks
 * cannot make it wait for ever); the previous handler and timer come
 * back afterwards.
 */
static int
mbox_queue(struct mbox *mb, long long deadline)
{
	struct sigaction	 sa, osa;
	struct itimerval	 it, oit;
	struct stat		 st;
	int			 fd, rc;

	if ((fd = open(mb->path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK |
	    O_NOCTTY | O_CLOEXEC)) < 0)
		return 0;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return 0;
	}
	if ((rc = flock(fd, LOCK_EX | LOCK_NB)) != 0 && errno == EWOULDBLOCK) {
		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = mbox_alarm;
		sigemptyset(&sa.sa_mask);
		sa.sa_flags = 0;	/* no SA_RESTART: flock returns EINTR */
		memset(&it, 0, sizeof(it));
		it.it_value.tv_usec = 100000;
		it.it_interval.tv_usec = 100000;
		if (sigaction(SIGALRM, &sa, &osa) == 0) {
			if (setitimer(ITIMER_REAL, &it, &oit) == 0) {
				while ((rc = flock(fd, LOCK_EX)) != 0 &&
				    errno == EINTR && mbox_now_ms() < deadline)
					;
				memset(&it, 0, sizeof(it));
				setitimer(ITIMER_REAL, &oit, NULL);
			}
			sigaction(SIGALRM, &osa, NULL);
		}
	}
	if (rc != 0) {
		rc = errno == EINTR || errno == EWOULDBLOCK ? -1 : 0;
		close(fd);
		return rc;
	}
	mb->qfd = fd;
	return 0;
}

/* mbox_now_ms - a monotonic clock in milliseconds */
static long long
mbox_now_ms(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* mbox_pause - sleep msec milliseconds */
static void
mbox_pause(long msec)
{
	struct timespec	 ts;

	ts.tv_sec = msec / 1000;
	ts.tv_nsec = (msec % 1000) * 1000000L;
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/* mbox_open_null - "alias: /dev/null": delivered, nothing written */
static int
mbox_open_null(struct mbox *mb, struct dlv_result *r)
{
	struct stat	 st;

	if ((mb->fd = open(MBOX_DEVNULL, O_WRONLY | O_CLOEXEC)) < 0 ||
	    fstat(mb->fd, &st) != 0 || !S_ISCHR(st.st_mode)) {
		dlv_set(r, DLV_DEFER, "4.3.0", "cannot open %s", MBOX_DEVNULL);
		mbox_close(mb);
		return -1;
	}
	mb->devnull = 1;
	mb->mark.dev = st.st_dev;
	mb->mark.ino = st.st_ino;
	mb->mark.stamp = (long long)time(NULL);
	dlv_set(r, DLV_OK, "2.0.0", "%s opened", MBOX_DEVNULL);
	return 0;
}

/*
 * mbox_open - open (create) and lock an mbox file for appending; the
 * mark is ready for the first append
 */
int
mbox_open(struct mbox *mb, const char *path, off_t size_limit,
    int create_mode, struct dlv_result *r)
{
	struct stat	 st;
	enum mbox_try	 t;
	long long	 deadline, left;
	size_t		 n = strlen(path);
	char		*lockname = NULL;
	long		 pause = MBOX_PAUSE_MIN_MS;
	int		 nodot = 0;

	mbox_init(mb, size_limit);
	if (n == 0 || n > PATH_MAX) {
		dlv_set(r, DLV_BOUNCE, "5.2.0", "bad mailbox name");
		return -1;
	}
	if ((mb->path = strdup(path)) == NULL ||
	    (lockname = malloc(n + sizeof(MBOX_LOCK_SUFFIX))) == NULL) {
		free(mb->path);
		mb->path = NULL;
		dlv_set(r, DLV_DEFER, "4.3.0", "cannot update mailbox %s: "
		    "out of memory", path);
		return -1;
	}
	memcpy(lockname, path, n);
	memcpy(lockname + n, MBOX_LOCK_SUFFIX, sizeof(MBOX_LOCK_SUFFIX));
	if (strcmp(path, MBOX_DEVNULL) == 0) {
		free(lockname);
		return mbox_open_null(mb, r);
	}

	deadline = mbox_now_ms() + mbox_lock_wait_ms;
	/* A flock held to the deadline leaves no time for the tries. */
	t = mbox_queue(mb, deadline) != 0 ? MBOX_TRY_BUSY :
	    mbox_try_once(mb, lockname, create_mode, &nodot, r);
	while (t == MBOX_TRY_BUSY) {
		if ((left = deadline - mbox_now_ms()) <= 0)
			break;
		mbox_pause(left < pause ? (long)left : pause);
		if ((pause *= 2) > MBOX_PAUSE_MAX_MS)
			pause = MBOX_PAUSE_MAX_MS;
		t = mbox_try_once(mb, lockname, create_mode, &nodot, r);
	}
	free(lockname);
	if (t == MBOX_TRY_BUSY)
		dlv_set(r, DLV_DEFER, "4.2.0", "cannot update mailbox %s: "
		    "mailbox is locked", path);
	if (t != MBOX_TRY_OK || fstat(mb->fd, &st) != 0) {
		if (t == MBOX_TRY_OK)
			dlv_set(r, DLV_DEFER, "4.2.0", "cannot update mailbox "
			    "%s: fstat: %s", path, strerror(errno));
		mbox_close(mb);
		return -1;
	}
	mb->mark.dev = st.st_dev;
	mb->mark.ino = st.st_ino;
	mb->mark.len = st.st_size;
	mb->mark.stamp = (long long)time(NULL);
	mb->batch_len = st.st_size;
	dlv_set(r, DLV_OK, "2.0.0", "mailbox %s locked", path);
	return 0;
}

/* mbox_out_init - an output state; -1 (ENOMEM) when memory runs out */
static int
mbox_out_init(struct mbox_out *o, struct mbox *mb, enum mbox_sink sink,
    off_t base, off_t room)
{
	memset(o, 0, sizeof(*o));
	o->sink = sink;
	o->mb = mb;
	o->base = base;
	o->room = room;
	o->touched = time(NULL);
	if ((o->buf = malloc(MBOX_OUT_SIZE)) == NULL)
		return -1;
	if (sink == MBOX_SINK_COMPARE &&
	    (o->cmp = malloc(MBOX_OUT_SIZE)) == NULL) {
		free(o->buf);
		o->buf = NULL;
		return -1;
	}
	return 0;
}

/* mbox_out_free - release an output state's buffers */
static void
mbox_out_free(struct mbox_out *o)
{
	free(o->buf);
	free(o->cmp);
	o->buf = o->cmp = NULL;
}

/*
 * mbox_out_flush - hand the buffered bytes to the sink; -1 when
 * generation must stop (o->stop says why)
 */
static int
mbox_out_flush(struct mbox_out *o)
{
	struct mbox	*mb = o->mb;
	size_t		 n = o->len;
	ssize_t		 r;
	time_t		 now;

	if (o->stop != MBOX_STOP_NONE)
		return -1;
	if (n == 0)
		return 0;
	if (o->sink == MBOX_SINK_WRITE) {
		if (o->room >= 0 && (off_t)n > o->room - o->done) {
			o->stop = MBOX_STOP_FULL;
			return -1;
		}
		if (write_all(mb->fd, o->buf, n) < 0) {
			o->err = errno;
			o->stop = MBOX_STOP_WERR;
			return -1;
		}
		o->done += (off_t)n;
		o->len = 0;
		now = time(NULL);
		if (mb->dotlock != NULL &&
		    now - o->touched >= MBOX_LOCK_TOUCH) {
			if (utimensat(AT_FDCWD, mb->dotlock, NULL,
			    AT_SYMLINK_NOFOLLOW) != 0)
				log_warn("touch lock file %s", mb->dotlock);
			o->touched = now;
		}
		return 0;
	}
	/* MBOX_SINK_COMPARE: room is what the file holds after base. */
	if ((off_t)n > o->room - o->done)
		n = (size_t)(o->room - o->done);
	while (n > 0) {
		r = pread(mb->fd, o->cmp, n, o->base + o->done);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			o->err = r == 0 ? EIO : errno;
			o->stop = MBOX_STOP_WERR;
			return -1;
		}
		if (memcmp(o->cmp, o->buf, (size_t)r) != 0) {
			o->stop = MBOX_STOP_DIFFER;
			return -1;
		}
		o->done += r;
		if ((size_t)r < o->len)
			memmove(o->buf, o->buf + r, o->len - (size_t)r);
		o->len -= (size_t)r;
		n -= (size_t)r;
	}
	if (o->len > 0) {
		o->stop = MBOX_STOP_END;
		return -1;
	}
	return 0;
}

/* mbox_out_put - buffer n bytes */
static int
mbox_out_put(struct mbox_out *o, const char *p, size_t n)
{
	size_t	 k;

	while (n > 0) {
		if (o->len == MBOX_OUT_SIZE && mbox_out_flush(o) != 0)
			return -1;
		k = MBOX_OUT_SIZE - o->len;
		if (k > n)
			k = n;
		memcpy(o->buf + o->len, p, k);
		o->len += k;
		p += k;
		n -= k;
	}
	return 0;
}

/* mbox_out_gts - buffer n '>' characters */
static int
mbox_out_gts(struct mbox_out *o, off_t n)
{
	static const char	 gts[] = ">>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>";
	size_t			 k;

	while (n > 0) {
		k = sizeof(gts) - 1;
		if ((off_t)k > n)
			k = (size_t)n;
		if (mbox_out_put(o, gts, k) != 0)
			return -1;
		n -= (off_t)k;
	}
	return 0;
}

/*
 * mbox_emit - generate the whole append (hdr: the From_ line and the
 * headers) into o; 0 when all of it went through, -1 when o->stop
 * ended it.
 *
 * Quoting is a small machine that survives chunk boundaries: at the
 * start of a line it counts '>' (gt) and then the bytes of "From " it
 * has seen (from), writing nothing yet; when "From " is complete it
 * writes one more '>' and what it held back, and at the first other
 * byte it writes what it held back as it was.  Nothing is buffered but
 * two counters, so a line of a million '>' costs no memory.
 */
static int
mbox_emit(struct mbox_out *o, const struct dlv_msg *msg, const struct buf *hdr)
{
	static const char	 from[] = "From ";
	const size_t		 fromlen = sizeof(from) - 1;
	char			*chunk;
	const char		*p, *end, *nl;
	off_t			 pos = 0, gt = 0;
	size_t			 n, f = 0;
	int			 bol = 1, last = '\n', rc = -1;

	if (mbox_out_put(o, hdr->data, hdr->len) != 0)
		return -1;
	if ((chunk = malloc(DLV_CHUNK)) == NULL) {
		o->err = ENOMEM;
		o->stop = MBOX_STOP_RERR;
		return -1;
	}
	while (pos < msg->len) {
		n = msg->len - pos > DLV_CHUNK ? DLV_CHUNK :
		    (size_t)(msg->len - pos);
		if (dlv_pread(msg, pos, chunk, n) != 0) {
			o->err = errno;
			o->stop = MBOX_STOP_RERR;
			goto out;
		}
		pos += (off_t)n;
		last = (unsigned char)chunk[n - 1];
		for (p = chunk, end = chunk + n; p < end; ) {
			if (!bol) {
				/* Inside a line: copy through its end. */
				if ((nl = memchr(p, '\n', (size_t)(end - p))) ==
				    NULL) {
					if (mbox_out_put(o, p,
					    (size_t)(end - p)) != 0)
						goto out;
					p = end;
					break;
				}
				if (mbox_out_put(o, p,
				    (size_t)(nl + 1 - p)) != 0)
					goto out;
				p = nl + 1;
				bol = 1;
				continue;
			}
			if (f == 0 && *p == '>') {
				gt++;
				p++;
				continue;
			}
			if (*p == from[f]) {
				p++;
				if (++f < fromlen)
					continue;
				/* ^>*From : one more '>'. */
				if (mbox_out_gts(o, gt + 1) != 0 ||
				    mbox_out_put(o, from, fromlen) != 0)
					goto out;
				gt = 0;
				f = 0;
				bol = 0;
				continue;
			}
			/* Not a From_ line: what was held back, as it was. */
			if (mbox_out_gts(o, gt) != 0 ||
			    mbox_out_put(o, from, f) != 0)
				goto out;
			gt = 0;
			f = 0;
			bol = 0;
			if (*p == '\n') {
				if (mbox_out_put(o, "\n", 1) != 0)
					goto out;
				p++;
				bol = 1;
			}
		}
	}
	/* The content ended inside a held-back prefix. */
	if (mbox_out_gts(o, gt) != 0 || mbox_out_put(o, from, f) != 0)
		goto out;
	if (last != '\n' && mbox_out_put(o, "\n", 1) != 0)
		goto out;
	if (mbox_out_put(o, "\n", 1) != 0 || mbox_out_flush(o) != 0)
		goto out;
	rc = 0;
out:
	free(chunk);
	return rc;
}

/* mbox_cut - ftruncate to len, retrying EINTR; -1 with errno */
static int
mbox_cut(struct mbox *mb, off_t len)
{
	int	 rc;

	while ((rc = ftruncate(mb->fd, len)) != 0 && errno == EINTR)
		;
	return rc;
}

/*
 * mbox_undo - after a crash: cut away this message's own partial or
 * complete earlier append that starts at mark->len; 1 when it cut, 0
 * when there was nothing to do, -1 on error (r says why: DEFER)
 */
int
mbox_undo(struct mbox *mb, const struct mbox_mark *mark,
    const struct dlv_msg *msg, struct dlv_result *r)
{
	struct mbox_out	 o;
	struct stat	 st;
	struct buf	 hdr;
	off_t		 tail;
	int		 rc = -1, err;

	if (mb->devnull)
		return 0;
	if (mb->fd < 0 || mb->mark.len != mb->batch_len) {
		dlv_set(r, DLV_DEFER, "4.3.0", "mbox_undo: mailbox %s is not "
		    "open or has been appended to", mb->path ? mb->path : "?");
		return -1;
	}
	if (fstat(mb->fd, &st) != 0) {
		dlv_set(r, DLV_DEFER, "4.2.0", "cannot update mailbox %s: "
		    "fstat: %s", mb->path, strerror(errno));
		return -1;
	}
	if (st.st_dev != mark->dev || st.st_ino != mark->ino) {
		log_warnx("mailbox %s is not the file of the crash mark "
		    "(inode %llu, now %llu): nothing undone", mb->path,
		    (unsigned long long)mark->ino,
		    (unsigned long long)st.st_ino);
		return 0;
	}
	if (st.st_size <= mark->len) {
		if (st.st_size < mark->len)
			log_warnx("mailbox %s is shorter (%lld) than at the "
			    "crash mark (%lld): nothing undone", mb->path,
			    (long long)st.st_size, (long long)mark->len);
		return 0;
	}
	tail = st.st_size - mark->len;
	buf_init(&hdr, MBOX_HDR_MAX);
	if (dlv_format_headers(&hdr, msg, 1, mark->stamp) != 0) {
		dlv_set(r, DLV_DEFER, "4.3.0", "cannot check mailbox %s: "
		    "headers: %s", mb->path, strerror(errno));
		buf_free(&hdr);
		return -1;
	}
	if (mbox_out_init(&o, mb, MBOX_SINK_COMPARE, mark->len, tail) != 0) {
		dlv_set(r, DLV_DEFER, "4.3.0", "cannot check mailbox %s: "
		    "out of memory", mb->path);
		buf_free(&hdr);
		return -1;
	}
	if (mbox_emit(&o, msg, &hdr) == 0 && o.done == tail)
		o.stop = MBOX_STOP_END;	/* the complete append, exactly */
	switch (o.stop) {
	case MBOX_STOP_END:
		if (mbox_cut(mb, mark->len) != 0 || fsync(mb->fd) != 0) {
			err = errno;
			dlv_set(r, DLV_DEFER, dlv_errno_dsn(err), "cannot "
			    "update mailbox %s: undo: %s", mb->path,
			    strerror(err));
			break;
		}
		log_info("mailbox %s: cut %lld bytes of an interrupted "
		    "delivery back to %lld", mb->path, (long long)tail,
		    (long long)mark->len);
		mb->mark.len = mb->batch_len = mark->len;
		rc = 1;
		break;
	case MBOX_STOP_WERR:
		if (o.err == EBADF) {
			log_warnx("mailbox %s cannot be read back: nothing "
			    "undone", mb->path);
			rc = 0;
			break;
		}
		dlv_set(r, DLV_DEFER, dlv_errno_dsn(o.err), "cannot check "
		    "mailbox %s: %s", mb->path, strerror(o.err));
		break;
	case MBOX_STOP_RERR:
		dlv_set(r, DLV_DEFER, "4.3.0", "cannot check mailbox %s: "
		    "error reading message: %s", mb->path, strerror(o.err));
		break;
	default:
		log_warnx("mailbox %s: the %lld bytes after the crash mark "
		    "(%lld) are not this message's (%s): nothing undone",
		    mb->path, (long long)tail, (long long)mark->len,
		    o.stop == MBOX_STOP_DIFFER ? "different content" :
		    "more than its append");
		rc = 0;
		break;
	}
	mbox_out_free(&o);
	buf_free(&hdr);
	return rc;
}

/*
 * mbox_append - append one message (not yet synced); on failure the
 * file is cut back to where the append started
 */
int
mbox_append(struct mbox *mb, const struct dlv_msg *msg,
    struct dlv_result *r)
{
	struct mbox_out	 o;
	struct stat	 st;
	struct buf	 hdr;
	off_t		 start, need, room = -1;
	int		 rc = -1, err;

	if (mb->fd < 0) {
		dlv_set(r, DLV_DEFER, "4.3.0", "mbox_append: mailbox not open");
		return -1;
	}
	if (mb->devnull) {
		dlv_set(r, DLV_OK, "2.0.0", "delivered to %s", MBOX_DEVNULL);
		return 0;
	}
	if (mb->mark.stamp == 0)
		mb->mark.stamp = (long long)time(NULL);
	if (fstat(mb->fd, &st) != 0) {
		dlv_set(r, DLV_DEFER, "4.2.0", "cannot update mailbox %s: "
		    "fstat: %s", mb->path, strerror(errno));
		return -1;
	}
	start = st.st_size;
	if (start != mb->mark.len) {
		/* Someone writes without locking: the mark would lie. */
		dlv_set(r, DLV_DEFER, "4.2.0", "cannot update mailbox %s: "
		    "it changed while locked (%lld bytes, expected %lld)",
		    mb->path, (long long)start, (long long)mb->mark.len);
		return -1;
	}
	buf_init(&hdr, MBOX_HDR_MAX);
	if (dlv_format_headers(&hdr, msg, 1, mb->mark.stamp) != 0) {
		dlv_set(r, DLV_DEFER, "4.3.0", "cannot update mailbox %s: "
		    "bad envelope: %s", mb->path, strerror(errno));
		buf_free(&hdr);
		return -1;
	}
	if (mb->size_limit > 0) {
		if (__builtin_add_overflow(msg->len, (off_t)hdr.len + 1,
		    &need) || start > mb->size_limit ||
		    need > mb->size_limit - start) {
			dlv_set(r, DLV_BOUNCE, "5.2.2", "cannot update "
			    "mailbox %s: mailbox full (mailbox_size_limit "
			    "%lld)", mb->path, (long long)mb->size_limit);
			buf_free(&hdr);
			return -1;
		}
		room = mb->size_limit - start;
	}
	if (mbox_out_init(&o, mb, MBOX_SINK_WRITE, start, room) != 0) {
		dlv_set(r, DLV_DEFER, "4.3.0", "cannot update mailbox %s: "
		    "out of memory", mb->path);
		buf_free(&hdr);
		return -1;
	}
	if (mbox_emit(&o, msg, &hdr) == 0) {
		mb->mark.len = start + o.done;
		mb->mark.stamp = (long long)time(NULL);
		dlv_set(r, DLV_OK, "2.0.0", "delivered to mailbox");
		rc = 0;
	} else {
		if (mbox_cut(mb, start) != 0)
			log_warn("mailbox %s: cannot cut a failed append back "
			    "to %lld", mb->path, (long long)start);
		err = o.err;
		if (o.stop == MBOX_STOP_FULL)
			dlv_set(r, DLV_BOUNCE, "5.2.2", "cannot update "
			    "mailbox %s: mailbox full (mailbox_size_limit "
			    "%lld)", mb->path, (long long)mb->size_limit);
		else if (o.stop == MBOX_STOP_RERR)
			dlv_set(r, DLV_DEFER, "4.3.0", "cannot update "
			    "mailbox %s: error reading message: %s", mb->path,
			    strerror(err));
		else
			dlv_set(r, DLV_DEFER, dlv_errno_dsn(err), "cannot "
			    "update mailbox %s: %s", mb->path, strerror(err));
	}
	mbox_out_free(&o);
	buf_free(&hdr);
	return rc;
}

/*
 * mbox_sync - make the batch's appends durable; when that fails none of
 * them can be trusted: cut back to the batch's start and defer
 */
int
mbox_sync(struct mbox *mb, struct dlv_result *r)
{
	char	*dir, *slash;
	int	 dfd, err = 0;

	if (mb->fd < 0) {
		dlv_set(r, DLV_DEFER, "4.3.0", "mbox_sync: mailbox not open");
		return -1;
	}
	if (!mb->devnull && fsync(mb->fd) != 0)
		err = errno;
	if (err == 0 && mb->created) {
		/* A new file: its name must be durable too. */
		if ((dir = strdup(mb->path)) == NULL)
			err = ENOMEM;
		else {
			if ((slash = strrchr(dir, '/')) == NULL) {
				dir[0] = '.';
				dir[1] = '\0';
			} else if (slash == dir)
				slash[1] = '\0';
			else
				*slash = '\0';
			if ((dfd = open(dir, O_RDONLY | O_DIRECTORY |
			    O_CLOEXEC)) < 0 || fsync(dfd) != 0)
				err = errno;
			if (dfd >= 0)
				close(dfd);
			free(dir);
		}
		if (err == EINVAL || err == EROFS)
			err = 0;	/* the directory cannot be synced */
		if (err == 0)
			mb->created = 0;
	}
	if (err != 0) {
		if (mbox_cut(mb, mb->batch_len) != 0)
			log_warn("mailbox %s: cannot cut back to %lld",
			    mb->path, (long long)mb->batch_len);
		mb->mark.len = mb->batch_len;
		dlv_set(r, DLV_DEFER, dlv_errno_dsn(err), "cannot update "
		    "mailbox %s: fsync: %s", mb->path, strerror(err));
		return -1;
	}
	mb->batch_len = mb->mark.len;
	dlv_set(r, DLV_OK, "2.0.0", "delivered to mailbox");
	return 0;
}

/* mbox_close - unlock and close; harmless on a failed or closed mbox */
void
mbox_close(struct mbox *mb)
{
	mbox_release(mb);
	if (mb->qfd >= 0) {
		close(mb->qfd);		/* and the flock with it */
		mb->qfd = -1;
	}
	free(mb->path);
	mb->path = NULL;
}
