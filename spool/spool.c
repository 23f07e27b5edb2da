/*
 * spool.c - the queue on disk (see spool.h and man/correo-spool.5)
 */
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/types.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/log.h"
#include "common/util.h"
#include "spool/spool.h"

#define SPOOL_MAGIC		"correo-queue 1 envelope="
#define SPOOL_OFFW		12	/* digits of the envelope offset */
#define SPOOL_PRELUDE_LEN	(sizeof(SPOOL_MAGIC) - 1 + SPOOL_OFFW + 1)
#define SPOOL_STATUS_LEN	20	/* "S F AAAAA NNNNNNNNNN" */
#define SPOOL_MARK_LEN		75	/* "D{20} I{20} L{20} S{12}" */
#define SPOOL_MARK_FMT		"%020llu %020llu %020lld %012lld"
#define SPOOL_TMP_PREFIX	".tmp."

static const char *const spool_dirs[SPOOL_NDIRS] = {
	"incoming", "queue", "hold"
};

static const char id_alphabet[] =
    "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

static int	 spool_flush(struct spool_writer *);
static int	 spool_make_id(struct spool_writer *, struct buf *);
static int	 spool_value_ok(const char *);
static int	 spool_parse_env(struct spool_msg *, struct buf *);
static int	 spool_read_env(struct spool_msg *, const struct stat *,
		    struct buf *);

/* spool_dir_name - "incoming", "queue" or "hold" */
const char *
spool_dir_name(enum spool_dir d)
{
	return d < SPOOL_NDIRS ? spool_dirs[d] : "?";
}

/*
 * spool_id_ok - whether s is a well-formed queue ID: 11 to 31 letters
 * and digits.  Every path built from an ID is checked with this first.
 */
int
spool_id_ok(const char *s)
{
	size_t	 n;

	for (n = 0; s[n] != '\0'; n++) {
		char	 c = s[n];

		if (!((c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') ||
		    (c >= 'a' && c <= 'z')))
			return 0;
		if (n >= SPOOL_ID_MAX - 1)
			return 0;
	}
	return n >= 11;
}

/*
 * spool_open - open the queue's directories.  SPOOL_CREATE makes the
 * missing ones (a private spool owned by the caller); an installed
 * spool is made by "make install" with its modes from the manifest.
 */
int
spool_open(struct spool *sp, const char *path, int flags, struct buf *why)
{
	int	 i, fd;

	sp->rootfd = -1;
	for (i = 0; i < SPOOL_NDIRS; i++)
		sp->dirfd[i] = -1;
	sp->path = NULL;
	if ((flags & SPOOL_CREATE) && mkdir(path, 0700) != 0 &&
	    errno != EEXIST) {
		buf_printf(why, "create queue directory %s: %s", path,
		    strerror(errno));
		return -1;
	}
	sp->rootfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (sp->rootfd < 0) {
		buf_printf(why, "open queue directory %s: %s", path,
		    strerror(errno));
		return -1;
	}
	for (i = 0; i < SPOOL_NDIRS; i++) {
		if (!(flags & SPOOL_ADMIN) && i != SPOOL_INCOMING)
			continue;
		if ((flags & SPOOL_CREATE) &&
		    mkdirat(sp->rootfd, spool_dirs[i], 0700) != 0 &&
		    errno != EEXIST) {
			buf_printf(why, "create %s/%s: %s", path,
			    spool_dirs[i], strerror(errno));
			goto fail;
		}
		/*
		 * A directory fd that can be fsync'd needs read access;
		 * incoming/ is 1770 so that sendmail's group has it.
		 */
		fd = openat(sp->rootfd, spool_dirs[i],
		    O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
		if (fd < 0) {
			buf_printf(why, "open %s/%s: %s", path, spool_dirs[i],
			    strerror(errno));
			goto fail;
		}
		sp->dirfd[i] = fd;
	}
	sp->path = strdup(path);
	if (sp->path == NULL) {
		buf_printf(why, "open queue: %s", strerror(errno));
		goto fail;
	}
	return 0;
fail:
	spool_close(sp);
	return -1;
}

/* spool_close - release the directory descriptors */
void
spool_close(struct spool *sp)
{
	int	 i;

	for (i = 0; i < SPOOL_NDIRS; i++) {
		if (sp->dirfd[i] >= 0)
			close(sp->dirfd[i]);
		sp->dirfd[i] = -1;
	}
	if (sp->rootfd >= 0)
		close(sp->rootfd);
	sp->rootfd = -1;
	free(sp->path);
	sp->path = NULL;
}

/*
 * spool_create - start a message: an unnamed file in incoming/ that
 * vanishes if we die before spool_commit.  Needs write access to
 * incoming/ (sendmail holds its group around this call only).
 */
int
spool_create(struct spool *sp, struct spool_writer *w, struct buf *why)
{
	char		 prelude[SPOOL_PRELUDE_LEN + 1];
	struct timespec	 ts;
	int		 dfd = sp->dirfd[SPOOL_INCOMING];

	memset(w, 0, sizeof(*w));
	w->sp = sp;
	w->fd = -1;
	buf_init(&w->env, SPOOL_ENV_MAX);
	if (dfd < 0) {
		buf_printf(why, "queue not open for submission");
		return -1;
	}
	w->fd = openat(dfd, ".", O_TMPFILE | O_RDWR | O_CLOEXEC, 0640);
	if (w->fd >= 0 && access("/proc/self/fd", X_OK) != 0) {
		/* linkat() of an O_TMPFILE needs /proc without privilege. */
		close(w->fd);
		w->fd = -1;
		errno = EOPNOTSUPP;
	}
	if (w->fd < 0 && (errno == EOPNOTSUPP || errno == EISDIR ||
	    errno == EINVAL)) {
		clock_gettime(CLOCK_REALTIME, &ts);
		if (bsnprintf(w->tmpname, sizeof(w->tmpname),
		    SPOOL_TMP_PREFIX "%ld.%ld.%ld", (long)getpid(),
		    (long)ts.tv_sec, ts.tv_nsec) != 0) {
			buf_printf(why, "temporary name too long");
			return -1;
		}
		w->fd = openat(dfd, w->tmpname,
		    O_CREAT | O_EXCL | O_RDWR | O_CLOEXEC | O_NOFOLLOW, 0640);
		w->named = w->fd >= 0;
	}
	if (w->fd < 0) {
		buf_printf(why, "create queue file in %s/incoming: %s",
		    sp->path, strerror(errno));
		return -1;
	}
	if (spool_make_id(w, why) != 0) {
		spool_abort(w);
		return -1;
	}
	/* The envelope offset is filled in by spool_finish. */
	memcpy(prelude, SPOOL_MAGIC, sizeof(SPOOL_MAGIC) - 1);
	memset(prelude + sizeof(SPOOL_MAGIC) - 1, '0', SPOOL_OFFW);
	prelude[SPOOL_PRELUDE_LEN - 1] = '\n';
	memcpy(w->wbuf, prelude, SPOOL_PRELUDE_LEN);
	w->wlen = SPOOL_PRELUDE_LEN;
	return 0;
}

/* spool_flush - write out the buffered bytes */
static int
spool_flush(struct spool_writer *w)
{
	if (w->wlen > 0 && write_all(w->fd, w->wbuf, w->wlen) < 0)
		return -1;
	w->wlen = 0;
	return 0;
}

/* spool_write - append message content (buffered) */
int
spool_write(struct spool_writer *w, const void *p, size_t n)
{
	const char	*s = p;

	w->size += (off_t)n;
	if (n >= sizeof(w->wbuf)) {
		if (spool_flush(w) < 0)
			return -1;
		return write_all(w->fd, s, n) < 0 ? -1 : 0;
	}
	if (w->wlen + n > sizeof(w->wbuf) && spool_flush(w) < 0)
		return -1;
	memcpy(w->wbuf + w->wlen, s, n);
	w->wlen += n;
	return 0;
}

/* spool_value_ok - an envelope value holds no CR, LF or NUL */
static int
spool_value_ok(const char *v)
{
	return strpbrk(v, "\r\n") == NULL;
}

/* spool_env - add one "key: value" envelope record */
int
spool_env(struct spool_writer *w, const char *key, const char *val)
{
	if (!spool_value_ok(key) || !spool_value_ok(val)) {
		errno = EINVAL;
		return -1;
	}
	if (buf_printf(&w->env, "%s: %s\n", key, val) != BUF_OK) {
		errno = ENOMEM;
		return -1;
	}
	return 0;
}

/* spool_add_rcpt - add a pending recipient (DSN fields may be NULL) */
int
spool_add_rcpt(struct spool_writer *w, const char *addr, const char *orcpt,
    const char *notify)
{
	int	 rc;

	if (!spool_value_ok(addr) || (orcpt && !spool_value_ok(orcpt)) ||
	    (notify && !spool_value_ok(notify)) || *addr == '\0' ||
	    strlen(addr) > SPOOL_ADDR_MAX) {
		errno = EINVAL;
		return -1;
	}
	rc = buf_printf(&w->env, "R %c - %05d %010d %s\n", RCPT_PENDING, 0, 0,
	    addr);
	if (rc == BUF_OK && orcpt != NULL)
		rc = buf_printf(&w->env, "O %s\n", orcpt);
	if (rc == BUF_OK && notify != NULL)
		rc = buf_printf(&w->env, "N %s\n", notify);
	if (rc == BUF_OK)
		rc = buf_printf(&w->env, "L %-*s\n", SPOOL_REPLY_MAX, "");
	if (rc == BUF_OK)
		rc = buf_printf(&w->env, "M " SPOOL_MARK_FMT "\n", 0ULL, 0ULL,
		    0LL, 0LL);
	if (rc != BUF_OK) {
		errno = ENOMEM;
		return -1;
	}
	w->nrcpt++;
	return 0;
}

/*
 * spool_finish - write the envelope and the end record, fill in the
 * envelope offset, and make the file durable.  Needs no privilege.
 */
int
spool_finish(struct spool_writer *w, struct buf *why)
{
	char	 off[SPOOL_OFFW + 2];
	off_t	 env_off;

	env_off = (off_t)SPOOL_PRELUDE_LEN + w->size;
	/* Content, envelope and end record in as few writes as fit. */
	if (buf_add(&w->env, "end\n", 4) != BUF_OK) {
		buf_printf(why, "envelope too large");
		return -1;
	}
	if (w->wlen + w->env.len <= sizeof(w->wbuf)) {
		memcpy(w->wbuf + w->wlen, w->env.data, w->env.len);
		w->wlen += w->env.len;
		if (spool_flush(w) < 0) {
			buf_printf(why, "write queue file: %s",
			    strerror(errno));
			return -1;
		}
	} else if (spool_flush(w) < 0 ||
	    write_all(w->fd, w->env.data, w->env.len) < 0) {
		buf_printf(why, "write queue file: %s", strerror(errno));
		return -1;
	}
	if (bsnprintf(off, sizeof(off), "%0*lld", SPOOL_OFFW,
	    (long long)env_off) != 0 || strlen(off) != SPOOL_OFFW) {
		buf_printf(why, "message too large for the queue format");
		return -1;
	}
	if (pwrite(w->fd, off, SPOOL_OFFW, sizeof(SPOOL_MAGIC) - 1) !=
	    SPOOL_OFFW) {
		buf_printf(why, "write queue file: %s", strerror(errno));
		return -1;
	}
	if (fsync(w->fd) != 0) {
		buf_printf(why, "fsync queue file: %s", strerror(errno));
		return -1;
	}
	return 0;
}

/*
 * spool_make_id - the queue ID: arrival time (seconds, microseconds) in
 * fixed-width base 62, then the inode, so IDs sort by arrival and two
 * live files can never share one.  Made when the file is created, so
 * the Received header can name it.
 */
static int
spool_make_id(struct spool_writer *w, struct buf *why)
{
	struct timespec		 ts;
	struct stat		 st;
	unsigned long long	 v;
	char			*p = w->id;
	char			 tmp[16];
	int			 i, n;

	if (fstat(w->fd, &st) != 0) {
		buf_printf(why, "fstat queue file: %s", strerror(errno));
		return -1;
	}
	clock_gettime(CLOCK_REALTIME, &ts);
	v = (unsigned long long)ts.tv_sec;
	for (i = 5; i >= 0; i--, v /= 62)
		p[i] = id_alphabet[v % 62];
	v = (unsigned long long)(ts.tv_nsec / 1000);
	for (i = 9; i >= 6; i--, v /= 62)
		p[i] = id_alphabet[v % 62];
	v = (unsigned long long)st.st_ino;
	n = 0;
	do {
		tmp[n++] = id_alphabet[v % 62];
		v /= 62;
	} while (v != 0 && n < (int)sizeof(tmp));
	for (i = 0; i < n; i++)
		p[10 + i] = tmp[n - 1 - i];
	p[10 + n] = '\0';
	return 0;
}

/*
 * spool_commit - give the finished file its name and make the name
 * durable.  From here on the mail is safe.  Needs write access to
 * incoming/ (sendmail holds its group around this call only).
 */
int
spool_commit(struct spool_writer *w, struct buf *why)
{
	if (spool_commit_keep(w, why) != 0)
		return -1;
	close(w->fd);
	w->fd = -1;
	return 0;
}

/*
 * spool_commit_keep - spool_commit, keeping the descriptor open in w->fd
 * (the caller closes it): sendmail -odi reads the outcome through it
 */
int
spool_commit_keep(struct spool_writer *w, struct buf *why)
{
	char	 proc[64];
	int	 dfd = w->sp->dirfd[SPOOL_INCOMING];
	int	 rc;

	if (w->named) {
		rc = renameat(dfd, w->tmpname, dfd, w->id);
	} else {
		if (bsnprintf(proc, sizeof(proc), "/proc/self/fd/%d",
		    w->fd) != 0)
			return -1;
		rc = linkat(AT_FDCWD, proc, dfd, w->id, AT_SYMLINK_FOLLOW);
	}
	if (rc != 0) {
		buf_printf(why, "name queue file %s: %s", w->id,
		    strerror(errno));
		return -1;
	}
	w->named = 0;
	if (fsync(dfd) != 0) {
		/* Named but not durable: take it back rather than lie. */
		buf_printf(why, "fsync %s/incoming: %s", w->sp->path,
		    strerror(errno));
		unlinkat(dfd, w->id, 0);
		return -1;
	}
	buf_free(&w->env);
	return 0;
}

/* spool_abort - forget a message that was not committed */
void
spool_abort(struct spool_writer *w)
{
	if (w->fd >= 0)
		close(w->fd);
	w->fd = -1;
	if (w->named && w->sp != NULL)
		unlinkat(w->sp->dirfd[SPOOL_INCOMING], w->tmpname, 0);
	w->named = 0;
	buf_free(&w->env);
}

/*
 * spool_walk - call fn for every queue file in one directory, with its
 * lstat; entries that are not well-formed IDs are skipped (temporary
 * files belong to spool_sweep).  Stops early when fn returns non-zero.
 */
int
spool_walk(struct spool *sp, enum spool_dir d,
    int (*fn)(const char *, const struct stat *, void *), void *arg,
    struct buf *why)
{
	struct dirent	*de;
	struct stat	 st;
	DIR		*dir;
	int		 fd, rc = 0;

	if (sp->dirfd[d] < 0) {
		buf_printf(why, "%s not open", spool_dirs[d]);
		return -1;
	}
	if ((fd = openat(sp->dirfd[d], ".", O_RDONLY | O_DIRECTORY |
	    O_CLOEXEC)) < 0 || (dir = fdopendir(fd)) == NULL) {
		buf_printf(why, "read %s/%s: %s", sp->path, spool_dirs[d],
		    strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	while ((de = readdir(dir)) != NULL) {
		if (!spool_id_ok(de->d_name))
			continue;
		if (fstatat(sp->dirfd[d], de->d_name, &st,
		    AT_SYMLINK_NOFOLLOW) != 0)
			continue;	/* gone meanwhile */
		if (!S_ISREG(st.st_mode))
			continue;
		if ((rc = fn(de->d_name, &st, arg)) != 0)
			break;
	}
	closedir(dir);
	return rc;
}

/* spool_msg_free - release what spool_load built */
void
spool_msg_free(struct spool_msg *m)
{
	if (m->fd >= 0)
		close(m->fd);
	m->fd = -1;
	free(m->rcpt);
	m->rcpt = NULL;
	m->nrcpt = 0;
	buf_free(&m->raw);
}

/*
 * spool_read_env - read and parse the prelude and envelope of the file
 * open as m->fd (st its fstat); fills the rest of m
 */
static int
spool_read_env(struct spool_msg *m, const struct stat *stp, struct buf *why)
{
	char		 pre[SPOOL_PRELUDE_LEN];
	struct stat	 st = *stp;
	long long	 off;
	const char	*err;
	ssize_t		 n;
	size_t		 want;
	const char	*id = m->id;

	n = pread(m->fd, pre, sizeof(pre), 0);
	if (n != (ssize_t)sizeof(pre) ||
	    memcmp(pre, SPOOL_MAGIC, sizeof(SPOOL_MAGIC) - 1) != 0 ||
	    pre[sizeof(pre) - 1] != '\n') {
		buf_printf(why, "%s: not a correo version %d queue file", id,
		    SPOOL_VERSION);
		errno = EINVAL;
		return -1;
	}
	pre[sizeof(pre) - 1] = '\0';
	if (num_parse(pre + sizeof(SPOOL_MAGIC) - 1, SPOOL_PRELUDE_LEN,
	    (long long)st.st_size, &off, &err) != 0) {
		buf_printf(why, "%s: envelope offset %s", id, err);
		errno = EINVAL;
		return -1;
	}
	m->content_off = SPOOL_PRELUDE_LEN;
	m->env_off = (off_t)off;
	m->content_len = m->env_off - m->content_off;
	if (st.st_size - off > SPOOL_ENV_MAX) {
		buf_printf(why, "%s: envelope too large", id);
		errno = EINVAL;
		return -1;
	}
	want = (size_t)(st.st_size - off);
	if (buf_pread(&m->raw, m->fd, want, off) != 0) {
		buf_printf(why, "%s: read envelope: %s", id, strerror(errno));
		return -1;
	}
	if (spool_parse_env(m, why) != 0) {
		errno = EINVAL;
		return -1;
	}
	return 0;
}

/*
 * spool_load_fd - the state of a message through a descriptor of its
 * own: the writer of a message keeps its descriptor to learn the
 * outcome even after runq removed the file (sendmail -odi).  No lock is
 * taken and a link count of 0 is fine.
 */
int
spool_load_fd(int fd, const char *id, struct spool_msg *m, struct buf *why)
{
	struct stat	 st;

	memset(m, 0, sizeof(*m));
	buf_init(&m->raw, SPOOL_ENV_MAX);
	m->fd = -1;
	if (str_copy(m->id, sizeof(m->id), id) != 0 ||
	    (m->fd = dup(fd)) < 0 || fstat(m->fd, &st) != 0) {
		buf_printf(why, "%s: %s", id, strerror(errno));
		spool_msg_free(m);
		return -1;
	}
	m->owner = st.st_uid;
	m->mtime = st.st_mtime;
	if (flock(m->fd, LOCK_SH | LOCK_NB) != 0)
		m->busy = errno == EWOULDBLOCK;
	else
		flock(m->fd, LOCK_UN);
	if (spool_read_env(m, &st, why) != 0) {
		spool_msg_free(m);
		return -1;
	}
	return 0;
}

/*
 * spool_load - open one queue file and read its envelope.  Refuses what
 * is not a complete version-1 file: no prelude, a bad offset, no "end".
 */
int
spool_load(struct spool *sp, enum spool_dir d, const char *id, int flags,
    struct spool_msg *m, struct buf *why)
{
	struct stat	 st;
	int		 oflags;

	memset(m, 0, sizeof(*m));
	m->fd = -1;
	buf_init(&m->raw, SPOOL_ENV_MAX);
	if (!spool_id_ok(id)) {
		buf_printf(why, "bad queue ID");
		return -1;
	}
	if (str_copy(m->id, sizeof(m->id), id) != 0)
		return -1;
	m->dir = d;
	oflags = (flags & SPOOL_LOAD_WRITE) ? O_RDWR : O_RDONLY;
	m->fd = openat(sp->dirfd[d], id, oflags | O_NOFOLLOW | O_CLOEXEC |
	    O_NONBLOCK);
	if (m->fd < 0) {
		buf_printf(why, "%s: open: %s", id, strerror(errno));
		goto fail;
	}
	if (fstat(m->fd, &st) != 0 || !S_ISREG(st.st_mode) ||
	    st.st_nlink != 1) {
		buf_printf(why, "%s: not a plain queue file", id);
		errno = EINVAL;
		goto fail;
	}
	m->owner = st.st_uid;
	m->mtime = st.st_mtime;
	if (flags & (SPOOL_LOAD_LOCK | SPOOL_LOAD_WRITE)) {
		if (flock(m->fd, LOCK_EX | LOCK_NB) != 0) {
			if (errno == EWOULDBLOCK)
				m->busy = 1;
			buf_printf(why, "%s: %s", id, m->busy ?
			    "being delivered" : strerror(errno));
			goto fail;
		}
		m->locked = 1;
	} else if (flock(m->fd, LOCK_SH | LOCK_NB) != 0) {
		m->busy = errno == EWOULDBLOCK;
	} else
		flock(m->fd, LOCK_UN);
	if (spool_read_env(m, &st, why) != 0)
		goto fail;
	return 0;
fail:
	spool_msg_free(m);
	return -1;
}

/* spool_ufield - an unsigned fixed-width field; -1 if not digits or
 * too large */
static int
spool_ufield(const char *p, size_t n, unsigned long long *out)
{
	unsigned long long	 v = 0;
	size_t			 i;

	for (i = 0; i < n; i++) {
		if (p[i] < '0' || p[i] > '9' ||
		    __builtin_mul_overflow(v, 10, &v) ||
		    __builtin_add_overflow(v, (unsigned)(p[i] - '0'), &v))
			return -1;
	}
	*out = v;
	return 0;
}

/* spool_field - the number in a fixed-width field, or -1 */
static long long
spool_field(const char *p, size_t n)
{
	long long	 v = 0;
	size_t		 i;

	for (i = 0; i < n; i++) {
		if (p[i] < '0' || p[i] > '9')
			return -1;
		v = v * 10 + (p[i] - '0');
	}
	return v;
}

/*
 * spool_parse_env - split the envelope into records; fields point into
 * m->raw.  Unknown keys are skipped (a later minor addition), a missing
 * "end" or a malformed recipient record is an error.
 */
static int
spool_parse_env(struct spool_msg *m, struct buf *why)
{
	struct spool_rcpt	*r = NULL;
	char			*p = m->raw.data, *end, *nl, *v;
	size_t			 cap = 0, len;
	int			 seen_end = 0;

	end = p + m->raw.len;
	while (p < end) {
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			break;
		*nl = '\0';
		len = (size_t)(nl - p);
		if (seen_end) {
			buf_printf(why, "%s: data after the end record", m->id);
			return -1;
		}
		if (strcmp(p, "end") == 0) {
			seen_end = 1;
		} else if (p[0] == 'R' && p[1] == ' ') {
			if (len < 24 || p[3] != ' ' || p[5] != ' ' ||
			    p[11] != ' ' || p[22] != ' ') {
				buf_printf(why, "%s: bad recipient record",
				    m->id);
				return -1;
			}
			if (m->nrcpt == cap) {
				struct spool_rcpt	*nr;

				cap = cap ? cap * 2 : 8;
				nr = reallocarray(m->rcpt, cap, sizeof(*nr));
				if (nr == NULL) {
					buf_printf(why, "%s: out of memory",
					    m->id);
					return -1;
				}
				m->rcpt = nr;
			}
			r = &m->rcpt[m->nrcpt++];
			memset(r, 0, sizeof(*r));
			r->state = p[2];
			r->flags = p[4];
			r->attempts = (long)spool_field(p + 6, 5);
			r->next = spool_field(p + 12, 10);
			r->addr = p + 23;
			r->off = m->env_off + (p + 2 - m->raw.data);
			r->reply_off = -1;
			r->mark_off = -1;
			if (r->attempts < 0 || r->next < 0) {
				buf_printf(why, "%s: bad recipient record",
				    m->id);
				return -1;
			}
		} else if (p[0] == 'M' && p[1] == ' ') {
			unsigned long long	 ml;

			if (r == NULL || len != 2 + SPOOL_MARK_LEN ||
			    p[22] != ' ' || p[43] != ' ' || p[64] != ' ' ||
			    spool_ufield(p + 2, 20, &r->mark_dev) != 0 ||
			    spool_ufield(p + 23, 20, &r->mark_ino) != 0 ||
			    spool_ufield(p + 44, 20, &ml) != 0 ||
			    ml > (unsigned long long)LLONG_MAX ||
			    (r->mark_stamp = spool_field(p + 65, 12)) < 0) {
				buf_printf(why, "%s: bad mark record", m->id);
				return -1;
			}
			r->mark_len = (long long)ml;
			r->mark_off = m->env_off + (p + 2 - m->raw.data);
		} else if ((p[0] == 'O' || p[0] == 'N' || p[0] == 'L') &&
		    p[1] == ' ') {
			if (r == NULL) {
				buf_printf(why, "%s: %c record before any "
				    "recipient", m->id, p[0]);
				return -1;
			}
			if (p[0] == 'O')
				r->orcpt = p + 2;
			else if (p[0] == 'N')
				r->notify = p + 2;
			else {
				if (len != 2 + SPOOL_REPLY_MAX) {
					buf_printf(why, "%s: bad reply record",
					    m->id);
					return -1;
				}
				r->reply_off = m->env_off + (p + 2 -
				    m->raw.data);
				memcpy(r->reply, p + 2, SPOOL_REPLY_MAX);
				len = SPOOL_REPLY_MAX;
				while (len > 0 && r->reply[len - 1] == ' ')
					len--;
				r->reply[len] = '\0';
			}
		} else if ((v = strstr(p, ": ")) != NULL) {
			*v = '\0';
			v += 2;
			if (strcmp(p, "time") == 0)
				m->time = v;
			else if (strcmp(p, "sender") == 0)
				m->sender = v;
			else if (strcmp(p, "origin") == 0)
				m->origin = v;
			else if (strcmp(p, "body") == 0)
				m->body = v;
			else if (strcmp(p, "ret") == 0)
				m->ret = v;
			else if (strcmp(p, "envid") == 0)
				m->envid = v;
			else if (strcmp(p, "message-id") == 0)
				m->msgid = v;
		}
		p = nl + 1;
	}
	if (!seen_end) {
		buf_printf(why, "%s: incomplete queue file (no end record)",
		    m->id);
		return -1;
	}
	if (m->sender == NULL || m->time == NULL) {
		buf_printf(why, "%s: envelope without sender or time", m->id);
		return -1;
	}
	return 0;
}

/*
 * spool_env_each - call fn(key, value, arg) for every "key: value"
 * envelope record of a loaded message, in file order, known to
 * spool_msg or not (mailq -c, correo-test spool-dump).  Recipient
 * records (R, O, N, L) and "end" are not passed.  Reads the envelope
 * again with one pread.  Stops early when fn returns non-zero and
 * returns that; -1 with a reason in why when the envelope cannot be
 * read.
 */
int
spool_env_each(struct spool_msg *m,
    int (*fn)(const char *, const char *, void *), void *arg,
    struct buf *why)
{
	struct stat	 st;
	struct buf	 env;
	char		*p, *end, *nl, *v;
	int		 rc = 0;

	if (fstat(m->fd, &st) != 0) {
		buf_printf(why, "%s: fstat: %s", m->id, strerror(errno));
		return -1;
	}
	if (st.st_size < m->env_off ||
	    st.st_size - m->env_off > SPOOL_ENV_MAX) {
		buf_printf(why, "%s: queue file changed size", m->id);
		errno = EINVAL;
		return -1;
	}
	buf_init(&env, SPOOL_ENV_MAX);
	if (buf_pread(&env, m->fd, (size_t)(st.st_size - m->env_off),
	    m->env_off) != 0) {
		buf_printf(why, "%s: read envelope: %s", m->id,
		    strerror(errno));
		buf_free(&env);
		return -1;
	}
	p = env.data ? env.data : "";
	end = p + env.len;
	while (rc == 0 && p < end &&
	    (nl = memchr(p, '\n', (size_t)(end - p))) != NULL) {
		*nl = '\0';
		if (strchr("RONL", p[0]) != NULL && p[0] != '\0' &&
		    p[1] == ' ')
			;	/* a recipient's record */
		else if (strcmp(p, "end") == 0)
			break;
		else if ((v = strstr(p, ": ")) != NULL) {
			*v = '\0';
			rc = fn(p, v + 2, arg);
		}
		p = nl + 1;
	}
	buf_free(&env);
	return rc;
}

/*
 * spool_rcpt_update - write recipient idx's state, flags, attempts, next
 * try and reply back in place, then fdatasync.  The message must have
 * been loaded with SPOOL_LOAD_WRITE.
 */
int
spool_rcpt_update(struct spool_msg *m, size_t idx, struct buf *why)
{
	if (spool_rcpt_write(m, idx, why) != 0)
		return -1;
	if (fdatasync(m->fd) != 0) {
		buf_printf(why, "%s: update queue file: %s", m->id,
		    strerror(errno));
		return -1;
	}
	return 0;
}

/*
 * spool_rcpt_write - spool_rcpt_update without the fdatasync: several
 * recipients, then one spool_msg_sync (or a spool_remove, which makes
 * the outcome durable its own way)
 */
int
spool_rcpt_write(struct spool_msg *m, size_t idx, struct buf *why)
{
	struct spool_rcpt	*r;
	char			 st[SPOOL_STATUS_LEN + 1];
	char			 reply[SPOOL_REPLY_MAX + 1];
	size_t			 i, n;

	if (idx >= m->nrcpt || !m->locked)
		panic("spool_rcpt_update: bad call");
	r = &m->rcpt[idx];
	if (r->attempts > 99999)
		r->attempts = 99999;
	if (r->next < 0 || r->next > 9999999999LL)
		r->next = 9999999999LL;
	if (bsnprintf(st, sizeof(st), "%c %c %05ld %010lld", r->state,
	    r->flags, r->attempts, r->next) != 0)
		panic("spool_rcpt_update: status does not fit");
	if (pwrite(m->fd, st, SPOOL_STATUS_LEN, r->off) != SPOOL_STATUS_LEN)
		goto fail;
	if (r->reply_off >= 0) {
		n = strlen(r->reply);
		for (i = 0; i < SPOOL_REPLY_MAX; i++) {
			unsigned char	 c = i < n ? (unsigned char)r->reply[i] :
			    ' ';

			reply[i] = (c < 0x20 || c == 0x7f) ? ' ' : (char)c;
		}
		if (pwrite(m->fd, reply, SPOOL_REPLY_MAX, r->reply_off) !=
		    SPOOL_REPLY_MAX)
			goto fail;
	}
	return 0;
fail:
	buf_printf(why, "%s: update queue file: %s", m->id, strerror(errno));
	return -1;
}

/*
 * spool_rcpt_mark - write recipient idx's mailbox crash mark (mark_dev,
 * mark_ino, mark_len, mark_stamp) in place, then fdatasync.
 */
int
spool_rcpt_mark(struct spool_msg *m, size_t idx, struct buf *why)
{
	struct spool_rcpt	*r;
	char			 f[SPOOL_MARK_LEN + 1];

	if (idx >= m->nrcpt || !m->locked || m->rcpt[idx].mark_off < 0)
		panic("spool_rcpt_mark: bad call");
	r = &m->rcpt[idx];
	if (r->mark_len < 0 || r->mark_stamp < 0 ||
	    r->mark_stamp > 999999999999LL ||
	    bsnprintf(f, sizeof(f), SPOOL_MARK_FMT, r->mark_dev, r->mark_ino,
	    r->mark_len, r->mark_stamp) != 0 || strlen(f) != SPOOL_MARK_LEN)
		panic("spool_rcpt_mark: mark does not fit");
	if (pwrite(m->fd, f, SPOOL_MARK_LEN, r->mark_off) != SPOOL_MARK_LEN ||
	    fdatasync(m->fd) != 0) {
		buf_printf(why, "%s: update queue file: %s", m->id,
		    strerror(errno));
		return -1;
	}
	return 0;
}

/* spool_msg_sync - make the in-place writes durable */
int
spool_msg_sync(struct spool_msg *m, struct buf *why)
{
	if (fdatasync(m->fd) != 0) {
		buf_printf(why, "%s: update queue file: %s", m->id,
		    strerror(errno));
		return -1;
	}
	return 0;
}

/* spool_set_due - the message's next try, kept as the file's mtime */
int
spool_set_due(struct spool_msg *m, long long when)
{
	struct timespec	 ts[2];

	ts[0].tv_sec = 0;
	ts[0].tv_nsec = UTIME_OMIT;
	ts[1].tv_sec = (time_t)when;
	ts[1].tv_nsec = 0;
	if (futimens(m->fd, ts) != 0)
		return -1;
	m->mtime = when;
	return 0;
}

/* spool_move - rename a message between directories, durably */
int
spool_move(struct spool *sp, const char *id, enum spool_dir from,
    enum spool_dir to, struct buf *why)
{
	if (spool_move_nosync(sp, id, from, to, why) != 0)
		return -1;
	if (fsync(sp->dirfd[to]) != 0 || fsync(sp->dirfd[from]) != 0) {
		buf_printf(why, "%s: fsync after move: %s", id,
		    strerror(errno));
		return -1;
	}
	return 0;
}

/*
 * spool_move_nosync - the rename alone: a batch of moves followed by
 * one spool_sync_dirs (runq's pickup)
 */
int
spool_move_nosync(struct spool *sp, const char *id, enum spool_dir from,
    enum spool_dir to, struct buf *why)
{
	if (!spool_id_ok(id)) {
		buf_printf(why, "bad queue ID");
		errno = EINVAL;
		return -1;
	}
	if (renameat(sp->dirfd[from], id, sp->dirfd[to], id) != 0) {
		buf_printf(why, "%s: move %s to %s: %s", id, spool_dirs[from],
		    spool_dirs[to], strerror(errno));
		return -1;
	}
	return 0;
}

/* spool_sync_dirs - fsync the directories after a batch of moves */
int
spool_sync_dirs(struct spool *sp, struct buf *why)
{
	int	 i;

	for (i = 0; i < SPOOL_NDIRS; i++)
		if (sp->dirfd[i] >= 0 && fsync(sp->dirfd[i]) != 0) {
			buf_printf(why, "fsync %s: %s", spool_dirs[i],
			    strerror(errno));
			return -1;
		}
	return 0;
}

/* spool_remove - delete a message, durably */
int
spool_remove(struct spool *sp, const char *id, enum spool_dir d,
    struct buf *why)
{
	if (!spool_id_ok(id)) {
		buf_printf(why, "bad queue ID");
		errno = EINVAL;
		return -1;
	}
	if (unlinkat(sp->dirfd[d], id, 0) != 0) {
		buf_printf(why, "%s: remove: %s", id, strerror(errno));
		return -1;
	}
	if (fsync(sp->dirfd[d]) != 0) {
		buf_printf(why, "%s: fsync after remove: %s", id,
		    strerror(errno));
		return -1;
	}
	return 0;
}

/*
 * spool_sweep - remove named temporary files in incoming/ older than
 * the given age (seconds): what a writer killed on a file system
 * without O_TMPFILE leaves behind.
 */
int
spool_sweep(struct spool *sp, long long older_than, struct buf *why)
{
	struct dirent	*de;
	struct stat	 st;
	DIR		*dir;
	time_t		 now = time(NULL);
	int		 fd, n = 0, dfd = sp->dirfd[SPOOL_INCOMING];

	if ((fd = openat(dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0 ||
	    (dir = fdopendir(fd)) == NULL) {
		buf_printf(why, "read incoming: %s", strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	while ((de = readdir(dir)) != NULL) {
		if (strncmp(de->d_name, SPOOL_TMP_PREFIX,
		    sizeof(SPOOL_TMP_PREFIX) - 1) != 0)
			continue;
		if (fstatat(dfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0)
			continue;
		if (now - st.st_mtime < older_than)
			continue;
		if (unlinkat(dfd, de->d_name, 0) == 0)
			n++;
	}
	closedir(dir);
	return n;
}
