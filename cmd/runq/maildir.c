/*
 * maildir.c - delivery to a Maildir (see deliver.h)
 *
 * The protocol is the one of https://cr.yp.to/proto/maildir.html: write
 * the message under a unique name in tmp/, fsync it, move it into new/,
 * and only then call it delivered.  Our steps:
 *
 *	DIR and any missing parent are made with mode 0700 (mkdir -p:
 *	home_mailbox = Maildir/ in a new home, a virtual mailbox in a new
 *	domain directory); DIR itself may be a symbolic link the user
 *	made.  tmp, new and cur are made 0700 when missing and opened
 *	with O_NOFOLLOW|O_DIRECTORY, and everything after that is
 *	relative to those descriptors (openat, renameat2), so nobody can
 *	swap a component for a link under us.  Whatever we made is
 *	fsync'ed into its parent, so the Maildir survives a crash too.
 *
 *	The file in tmp/ is named SEC.MusecPpidQn.HOST (Q: this process's
 *	delivery count, so a name is unique even within one microsecond)
 *	and created O_CREAT|O_EXCL|O_NOFOLLOW, mode 0600.  It gets the
 *	prepended headers and the content byte for byte: no From_ line,
 *	no quoting, LF line ends.
 *
 *	In new/ it is named SEC.MusecPpidVdevIino.HOST,S=SIZE: the
 *	modern identifier with the file's device and inode (unique while
 *	the file lives, so no two deliveries anywhere on the host can
 *	collide), and Dovecot's and Courier's ",S=" with the exact size
 *	in bytes, which lets Dovecot skip a stat.  In HOST '/' becomes
 *	"\057", ':' "\072" (the spec) and ',' "\054" (so ",S=" is only
 *	ever ours).
 *
 *	The move is renameat2(RENAME_NOREPLACE): atomic, one system call,
 *	and it never replaces an existing message (plain rename(2) would,
 *	silently).  Where the file system does not have it (EINVAL: NFS
 *	and some FUSE), link(2) then unlink(2), the spec's own way, which
 *	also never replaces.
 *
 *	With sync, new/ is fsync'ed before DLV_OK; without, maildir_sync()
 *	does it once for a batch.  On any failure the tmp/ file is removed
 *	(and a message already moved into new/ whose directory could not
 *	be synced is taken back out) and the result is DLV_DEFER.
 *
 * No quota: mailbox_size_limit is Postfix's limit on a whole mbox file
 * or on one Maildir file; a caller that wants the latter can set
 * RLIMIT_FSIZE in the delivery child, whose EFBIG then defers 4.2.2.
 */
#include <sys/stat.h>
#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/util.h"
#include "cmd/runq/deliver.h"

#define MAILDIR_MODE		0700	/* DIR, tmp, new, cur */
#define MAILDIR_FILE_MODE	0600
#define MAILDIR_TRIES		8	/* tmp name collisions in a row */
#define MAILDIR_HOST_MAX	(4 * 255 + 1)	/* escaped host name */
#define MAILDIR_NAME_MAX	(NAME_MAX + 1)
#define MAILDIR_HDR_MAX		(16 * 1024)

/* The three subdirectories, in the order they are made. */
enum maildir_sub {
	MAILDIR_TMP,
	MAILDIR_NEW,
	MAILDIR_CUR,
	MAILDIR_NSUB,
};

static const char *const maildir_subname[MAILDIR_NSUB] = {
	"tmp", "new", "cur",
};

static unsigned int	 maildir_count;	/* deliveries by this process */

static void	 maildir_host(char *, size_t);
static int	 maildir_fsync_parent(const char *);
static int	 maildir_mkdirs(const char *);
static int	 maildir_open(const char *, int *, const char **);
static int	 maildir_copy(int, const struct dlv_msg *, off_t *);

/* maildir_host - this host's name with '/', ':' and ',' escaped */
static void
maildir_host(char *out, size_t sz)
{
	char	 host[256];
	size_t	 i, o = 0;

	if (gethostname(host, sizeof(host)) != 0 || host[0] == '\0')
		(void)str_copy(host, sizeof(host), "localhost");
	host[sizeof(host) - 1] = '\0';
	for (i = 0; host[i] != '\0' && o + 5 < sz; i++) {
		switch (host[i]) {
		case '/':
			memcpy(out + o, "\\057", 4);
			o += 4;
			break;
		case ':':
			memcpy(out + o, "\\072", 4);
			o += 4;
			break;
		case ',':
			memcpy(out + o, "\\054", 4);
			o += 4;
			break;
		default:
			out[o++] = host[i];
			break;
		}
	}
	out[o] = '\0';
}

/* maildir_fsync_parent - make a new entry in path's directory durable */
static int
maildir_fsync_parent(const char *path)
{
	char	 dir[PATH_MAX];
	char	*slash;
	size_t	 n;
	int	 fd, rc = 0;

	if (str_copy(dir, sizeof(dir), path) != 0)
		return -1;
	for (n = strlen(dir); n > 1 && dir[n - 1] == '/'; n--)
		dir[n - 1] = '\0';
	if ((slash = strrchr(dir, '/')) == NULL)
		(void)str_copy(dir, sizeof(dir), ".");
	else if (slash == dir)
		slash[1] = '\0';
	else
		*slash = '\0';
	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return -1;
	if (fsync(fd) != 0 && errno != EINVAL && errno != EROFS)
		rc = -1;
	close(fd);
	return rc;
}

/*
 * maildir_mkdirs - make dir and its missing parents (mode 0700), each
 * fsync'ed into its parent; existing components are fine
 */
static int
maildir_mkdirs(const char *dir)
{
	char	 path[PATH_MAX];
	size_t	 i, n;

	if (str_copy(path, sizeof(path), dir) != 0)
		return -1;
	n = strlen(path);
	for (i = 1; i <= n; i++) {
		if (path[i] != '/' && path[i] != '\0')
			continue;
		if (path[i - 1] == '/')
			continue;	/* "//" or the trailing slash */
		path[i] = '\0';
		if (mkdir(path, MAILDIR_MODE) == 0) {
			if (maildir_fsync_parent(path) != 0)
				return -1;
		} else if (errno != EEXIST)
			return -1;
		if (i < n)
			path[i] = '/';
	}
	return 0;
}

/*
 * maildir_open - open DIR's tmp, new and cur (making what is missing);
 * fds[MAILDIR_TMP] and fds[MAILDIR_NEW] stay open; -1 with errno and
 * *step naming what failed
 */
static int
maildir_open(const char *dir, int *fds, const char **step)
{
	int	 dfd, i, made = 0, err;

	for (i = 0; i < MAILDIR_NSUB; i++)
		fds[i] = -1;
	*step = "open";
	if ((dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		if (errno != ENOENT)
			return -1;
		*step = "mkdir";
		if (maildir_mkdirs(dir) != 0)
			return -1;
		*step = "open";
		if ((dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
			return -1;
	}
	for (i = 0; i < MAILDIR_NSUB; i++) {
		*step = maildir_subname[i];
		if (mkdirat(dfd, maildir_subname[i], MAILDIR_MODE) == 0)
			made = 1;
		else if (errno != EEXIST)
			goto fail;
		fds[i] = openat(dfd, maildir_subname[i], O_RDONLY |
		    O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fds[i] < 0)
			goto fail;
	}
	close(fds[MAILDIR_CUR]);
	fds[MAILDIR_CUR] = -1;
	*step = "fsync";
	if (made && fsync(dfd) != 0 && errno != EINVAL && errno != EROFS)
		goto fail;
	close(dfd);
	return 0;
fail:
	err = errno;
	for (i = 0; i < MAILDIR_NSUB; i++)
		if (fds[i] >= 0) {
			close(fds[i]);
			fds[i] = -1;
		}
	close(dfd);
	errno = err;
	return -1;
}

/*
 * maildir_copy - the headers and the content to fd; *size is what was
 * written; -1 with errno (*size -1 when the message could not be read)
 */
static int
maildir_copy(int fd, const struct dlv_msg *msg, off_t *size)
{
	struct buf	 hdr;
	char		*chunk;
	off_t		 pos = 0;
	size_t		 n;
	int		 rc = -1;

	*size = 0;
	buf_init(&hdr, MAILDIR_HDR_MAX);
	if (dlv_write_headers(fd, msg, 0, 0, &hdr) != 0) {
		buf_free(&hdr);
		return -1;
	}
	*size = (off_t)hdr.len;
	buf_free(&hdr);
	if ((chunk = malloc(DLV_CHUNK)) == NULL)
		return -1;
	while (pos < msg->len) {
		n = msg->len - pos > DLV_CHUNK ? DLV_CHUNK :
		    (size_t)(msg->len - pos);
		if (dlv_pread(msg, pos, chunk, n) != 0) {
			*size = -1;
			goto out;
		}
		if (write_all(fd, chunk, n) < 0)
			goto out;
		pos += (off_t)n;
		*size += (off_t)n;
	}
	rc = 0;
out:
	free(chunk);
	return rc;
}

/* maildir_deliver - one message into dir/new, durably when sync */
int
maildir_deliver(const char *dir, const struct dlv_msg *msg, int sync,
    struct dlv_result *r)
{
	struct timespec	 now;
	struct stat	 st;
	char		 host[MAILDIR_HOST_MAX];
	char		 tmpname[MAILDIR_NAME_MAX], name[MAILDIR_NAME_MAX];
	const char	*step, *dsn = NULL;
	off_t		 size;
	int		 fds[MAILDIR_NSUB], fd = -1, i, err;
	int		 in_tmp = 0, in_new = 0;

	if (maildir_open(dir, fds, &step) != 0) {
		err = errno;
		dlv_set(r, DLV_DEFER, dlv_errno_dsn(err), "cannot deliver to "
		    "maildir %s: %s: %s", dir, step, strerror(err));
		return -1;
	}
	maildir_host(host, sizeof(host));
	clock_gettime(CLOCK_REALTIME, &now);
	for (i = 0; i < MAILDIR_TRIES && fd < 0; i++) {
		step = "name";
		if (bsnprintf(tmpname, sizeof(tmpname), "%lld.M%ldP%ldQ%u.%s",
		    (long long)now.tv_sec, now.tv_nsec / 1000L, (long)getpid(),
		    ++maildir_count, host) != 0)
			goto fail;
		step = "create";
		fd = openat(fds[MAILDIR_TMP], tmpname, O_WRONLY | O_CREAT |
		    O_EXCL | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC,
		    MAILDIR_FILE_MODE);
		if (fd < 0 && errno != EEXIST)
			goto fail;
	}
	if (fd < 0)
		goto fail;
	in_tmp = 1;
	step = "write";
	if (maildir_copy(fd, msg, &size) != 0) {
		if (size < 0) {
			step = "read message";
			dsn = "4.3.0";
		}
		goto fail;
	}
	step = "fsync";
	if (fsync(fd) != 0 || fstat(fd, &st) != 0)
		goto fail;
	step = "close";
	i = close(fd);
	fd = -1;
	if (i != 0)
		goto fail;
	step = "name";
	if (bsnprintf(name, sizeof(name), "%lld.M%ldP%ldV%llXI%llX.%s,S=%lld",
	    (long long)now.tv_sec, now.tv_nsec / 1000L, (long)getpid(),
	    (unsigned long long)st.st_dev, (unsigned long long)st.st_ino, host,
	    (long long)st.st_size) != 0)
		goto fail;
	step = "rename";
	if (renameat2(fds[MAILDIR_TMP], tmpname, fds[MAILDIR_NEW], name,
	    RENAME_NOREPLACE) == 0)
		in_tmp = 0;
	else if (errno != EINVAL && errno != ENOSYS)
		goto fail;
	else {
		/* No RENAME_NOREPLACE here: the spec's link and unlink. */
		step = "link";
		if (linkat(fds[MAILDIR_TMP], tmpname, fds[MAILDIR_NEW], name,
		    0) != 0)
			goto fail;
		in_new = 1;
		step = "unlink";
		if (unlinkat(fds[MAILDIR_TMP], tmpname, 0) != 0)
			goto fail;
		in_tmp = 0;
	}
	in_new = 1;
	step = "fsync new";
	if (sync && fsync(fds[MAILDIR_NEW]) != 0 && errno != EINVAL)
		goto fail;
	close(fds[MAILDIR_TMP]);
	close(fds[MAILDIR_NEW]);
	dlv_set(r, DLV_OK, "2.0.0", "delivered to maildir");
	return 0;

fail:
	err = errno;
	if (fd >= 0)
		close(fd);
	if (in_new)
		(void)unlinkat(fds[MAILDIR_NEW], name, 0);
	if (in_tmp)
		(void)unlinkat(fds[MAILDIR_TMP], tmpname, 0);
	close(fds[MAILDIR_TMP]);
	close(fds[MAILDIR_NEW]);
	dlv_set(r, DLV_DEFER, dsn != NULL ? dsn : dlv_errno_dsn(err),
	    "cannot deliver to maildir %s: %s: %s", dir, step, strerror(err));
	return -1;
}

/* maildir_sync - make a batch of deliveries to dir durable */
int
maildir_sync(const char *dir, struct dlv_result *r)
{
	int	 dfd, nfd = -1, err = 0;

	if ((dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0 ||
	    (nfd = openat(dfd, "new", O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC)) < 0 || (fsync(nfd) != 0 && errno != EINVAL))
		err = errno;
	if (nfd >= 0)
		close(nfd);
	if (dfd >= 0)
		close(dfd);
	if (err != 0) {
		dlv_set(r, DLV_DEFER, dlv_errno_dsn(err), "cannot deliver to "
		    "maildir %s: fsync new: %s", dir, strerror(err));
		return -1;
	}
	dlv_set(r, DLV_OK, "2.0.0", "delivered to maildir");
	return 0;
}
