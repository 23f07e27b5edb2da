/*
 * t-spool.c - unit tests for spool/spool: the commit protocol, the
 * format, in-place updates, moves and what readers refuse
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/util.h"
#include "spool/spool.h"
#include "t/unit/tap.h"

static char	 dir[256];

/* mkspool - a fresh private spool */
static int
mkspool(struct spool *sp)
{
	struct buf	 why;
	int		 rc;

	buf_init(&why, 1024);
	rc = spool_open(sp, dir, SPOOL_ADMIN | SPOOL_CREATE, &why);
	if (rc != 0)
		tap_diag("spool_open: %s", buf_str(&why));
	buf_free(&why);
	return rc;
}

/* queue_one - write and commit a two-recipient message */
static int
queue_one(struct spool *sp, char *id, size_t idsz)
{
	struct spool_writer	 w;
	struct buf		 why;
	const char		*content = "Subject: t\n\nbody\n";
	int			 rc = -1;

	buf_init(&why, 1024);
	if (spool_create(sp, &w, &why) != 0)
		goto out;
	if (spool_write(&w, content, strlen(content)) != 0 ||
	    spool_env(&w, "time", "1700000000.000001") != 0 ||
	    spool_env(&w, "sender", "a@example.org") != 0 ||
	    spool_add_rcpt(&w, "b@example.org", NULL, NULL) != 0 ||
	    spool_add_rcpt(&w, "c@example.org", "rfc822;c@example.org",
	    "SUCCESS") != 0 || spool_finish(&w, &why) != 0 ||
	    spool_commit(&w, &why) != 0) {
		spool_abort(&w);
		goto out;
	}
	rc = str_copy(id, idsz, w.id);
out:
	if (rc != 0)
		tap_diag("queue_one: %s", buf_str(&why));
	buf_free(&why);
	return rc;
}

static void
t_roundtrip(void)
{
	struct spool		 sp;
	struct spool_msg	 m;
	struct buf		 why, content;
	char			 id[SPOOL_ID_MAX];

	buf_init(&why, 1024);
	buf_init(&content, 1024);
	if (!check(mkspool(&sp) == 0) || !check(queue_one(&sp, id,
	    sizeof(id)) == 0))
		return;
	check(spool_id_ok(id));
	check_int(spool_load(&sp, SPOOL_INCOMING, id, SPOOL_LOAD_PEEK, &m,
	    &why), ==, 0);
	check_str(m.sender, "a@example.org");
	check_str(m.time, "1700000000.000001");
	check_int(m.nrcpt, ==, 2);
	if (m.nrcpt == 2) {
		check_str(m.rcpt[0].addr, "b@example.org");
		check_int(m.rcpt[0].state, ==, RCPT_PENDING);
		check(m.rcpt[0].orcpt == NULL);
		check_str(m.rcpt[1].orcpt, "rfc822;c@example.org");
		check_str(m.rcpt[1].notify, "SUCCESS");
		check_str(m.rcpt[1].reply, "");
	}
	check_int(m.content_len, ==, 17);
	check_int(buf_pread(&content, m.fd, (size_t)m.content_len,
	    m.content_off), ==, 0);
	check_str(buf_str(&content), "Subject: t\n\nbody\n");
	check(!m.busy);
	spool_msg_free(&m);
	spool_close(&sp);
	buf_free(&why);
	buf_free(&content);
}

static void
t_update(void)
{
	struct spool		 sp;
	struct spool_msg	 m, m2, m3;
	struct buf		 why;
	char			 id[SPOOL_ID_MAX];
	struct stat		 st;

	buf_init(&why, 1024);
	if (!check(mkspool(&sp) == 0) || !check(queue_one(&sp, id,
	    sizeof(id)) == 0))
		return;
	check_int(spool_move(&sp, id, SPOOL_INCOMING, SPOOL_QUEUE, &why),
	    ==, 0);
	if (!check(spool_load(&sp, SPOOL_QUEUE, id, SPOOL_LOAD_WRITE, &m,
	    &why) == 0))
		return;
	/* A second runner cannot have it; a peek sees it busy. */
	check_int(spool_load(&sp, SPOOL_QUEUE, id, SPOOL_LOAD_LOCK, &m2,
	    &why), ==, -1);
	check(m2.busy || strstr(buf_str(&why), "being delivered") != NULL);
	check_int(spool_load(&sp, SPOOL_QUEUE, id, SPOOL_LOAD_PEEK, &m3,
	    &why), ==, 0);
	check(m3.busy);
	spool_msg_free(&m3);
	m.rcpt[0].state = RCPT_DELIVERED;
	m.rcpt[1].attempts = 3;
	m.rcpt[1].next = 1800000000;
	m.rcpt[1].flags = 'w';
	str_copy(m.rcpt[1].reply, sizeof(m.rcpt[1].reply),
	    "450 4.2.0 <c@example.org>: mailbox busy\r\nX");
	check_int(spool_rcpt_update(&m, 0, &why), ==, 0);
	check_int(spool_rcpt_update(&m, 1, &why), ==, 0);
	m.rcpt[1].mark_dev = 2049;
	m.rcpt[1].mark_ino = 18446744073709551615ULL;
	m.rcpt[1].mark_len = 123456789;
	m.rcpt[1].mark_stamp = 1800000001;
	check_int(spool_rcpt_mark(&m, 1, &why), ==, 0);
	check_int(spool_set_due(&m, 1800000000), ==, 0);
	spool_msg_free(&m);
	check_int(spool_load(&sp, SPOOL_QUEUE, id, SPOOL_LOAD_PEEK, &m,
	    &why), ==, 0);
	check_int(m.rcpt[0].state, ==, RCPT_DELIVERED);
	check_int(m.rcpt[1].state, ==, RCPT_PENDING);
	check_int(m.rcpt[1].attempts, ==, 3);
	check_int(m.rcpt[1].next, ==, 1800000000);
	check_int(m.rcpt[1].flags, ==, 'w');
	check(m.rcpt[1].mark_ino == 18446744073709551615ULL);
	check_int(m.rcpt[1].mark_dev, ==, 2049);
	check_int(m.rcpt[1].mark_len, ==, 123456789);
	check_int(m.rcpt[1].mark_stamp, ==, 1800000001);
	check_int(m.rcpt[0].mark_len, ==, 0);
	/* Control characters never reach the file. */
	check_str(m.rcpt[1].reply,
	    "450 4.2.0 <c@example.org>: mailbox busy  X");
	check_int(m.mtime, ==, 1800000000);
	check_int(fstat(m.fd, &st), ==, 0);
	check_int(st.st_mtime, ==, 1800000000);
	spool_msg_free(&m);
	check_int(spool_move(&sp, id, SPOOL_QUEUE, SPOOL_HOLD, &why), ==, 0);
	check_int(spool_remove(&sp, id, SPOOL_HOLD, &why), ==, 0);
	check_int(spool_load(&sp, SPOOL_HOLD, id, SPOOL_LOAD_PEEK, &m,
	    &why), ==, -1);
	spool_close(&sp);
	buf_free(&why);
}

/* damage - rewrite a queued file through a shell-free helper */
static int
damage(struct spool *sp, const char *id, off_t cut, const char *prefix)
{
	int	 fd;

	fd = openat(sp->dirfd[SPOOL_INCOMING], id, O_RDWR);
	if (fd < 0)
		return -1;
	if (cut >= 0 && ftruncate(fd, cut) != 0) {
		close(fd);
		return -1;
	}
	if (prefix != NULL && pwrite(fd, prefix, strlen(prefix), 0) < 0) {
		close(fd);
		return -1;
	}
	return close(fd);
}

static void
t_refuse(void)
{
	struct spool		 sp;
	struct spool_msg	 m;
	struct buf		 why;
	struct stat		 st;
	char			 id[SPOOL_ID_MAX], link[512];

	buf_init(&why, 1024);
	if (!check(mkspool(&sp) == 0))
		return;
	/* A file cut before its end record is never a message. */
	if (!check(queue_one(&sp, id, sizeof(id)) == 0))
		return;
	check_int(fstatat(sp.dirfd[SPOOL_INCOMING], id, &st, 0), ==, 0);
	check_int(damage(&sp, id, st.st_size - 4, NULL), ==, 0);
	check_int(spool_load(&sp, SPOOL_INCOMING, id, SPOOL_LOAD_PEEK, &m,
	    &why), ==, -1);
	check(strstr(buf_str(&why), "no end record") != NULL);
	/* Another version, or garbage, is refused. */
	buf_reset(&why);
	check_int(damage(&sp, id, -1, "correo-queue 2"), ==, 0);
	check_int(spool_load(&sp, SPOOL_INCOMING, id, SPOOL_LOAD_PEEK, &m,
	    &why), ==, -1);
	check(strstr(buf_str(&why), "version 1") != NULL);
	/* A file with a second name is not trusted. */
	buf_reset(&why);
	if (!check(queue_one(&sp, id, sizeof(id)) == 0))
		return;
	check_int(bsnprintf(link, sizeof(link), "%s/extra-link", dir), ==, 0);
	check_int(linkat(sp.dirfd[SPOOL_INCOMING], id, AT_FDCWD, link, 0),
	    ==, 0);
	check_int(spool_load(&sp, SPOOL_INCOMING, id, SPOOL_LOAD_PEEK, &m,
	    &why), ==, -1);
	unlink(link);
	/* Bad IDs never become paths. */
	check(!spool_id_ok("../../etc/x"));
	check(!spool_id_ok("short"));
	check(!spool_id_ok("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefg"));
	check(spool_id_ok("ABCDEFGHIJK"));
	check_int(spool_load(&sp, SPOOL_INCOMING, "../queue", 0, &m, &why),
	    ==, -1);
	check_int(spool_remove(&sp, "..", SPOOL_INCOMING, &why), ==, -1);
	spool_close(&sp);
	buf_free(&why);
}

static void
t_refuse_ctl(void)
{
	struct spool		 sp;
	struct spool_writer	 w;
	struct buf		 why;

	buf_init(&why, 1024);
	if (!check(mkspool(&sp) == 0) ||
	    !check(spool_create(&sp, &w, &why) == 0))
		return;
	check_int(spool_env(&w, "sender", "a@b\nR P - 0 0 evil"), ==, -1);
	check_int(spool_add_rcpt(&w, "x@y\r\nend", NULL, NULL), ==, -1);
	check_int(spool_add_rcpt(&w, "", NULL, NULL), ==, -1);
	check_int(spool_add_rcpt(&w, "x@y", "a\nb", NULL), ==, -1);
	spool_abort(&w);
	spool_close(&sp);
	buf_free(&why);
}

static void
t_sweep(void)
{
	struct spool		 sp;
	struct buf		 why;
	struct timespec		 old[2];
	int			 fd;

	buf_init(&why, 1024);
	if (!check(mkspool(&sp) == 0))
		return;
	fd = openat(sp.dirfd[SPOOL_INCOMING], ".tmp.1.2.3",
	    O_CREAT | O_WRONLY, 0600);
	check(fd >= 0);
	old[0].tv_sec = old[1].tv_sec = time(NULL) - 2 * 86400;
	old[0].tv_nsec = old[1].tv_nsec = 0;
	check_int(futimens(fd, old), ==, 0);
	close(fd);
	fd = openat(sp.dirfd[SPOOL_INCOMING], ".tmp.4.5.6",
	    O_CREAT | O_WRONLY, 0600);
	close(fd);
	check_int(spool_sweep(&sp, 86400, &why), ==, 1);
	check_int(faccessat(sp.dirfd[SPOOL_INCOMING], ".tmp.1.2.3", F_OK, 0),
	    ==, -1);
	check_int(faccessat(sp.dirfd[SPOOL_INCOMING], ".tmp.4.5.6", F_OK, 0),
	    ==, 0);
	spool_close(&sp);
	buf_free(&why);
}

/* walk_count - spool_walk's callback */
static int
walk_count(const char *id, const struct stat *st, void *arg)
{
	(void)id;
	(void)st;
	(*(int *)arg)++;
	return 0;
}

static void
t_walk(void)
{
	struct spool	 sp;
	struct buf	 why;
	char		 id[SPOOL_ID_MAX];
	int		 i, n = 0, fd;

	buf_init(&why, 1024);
	if (!check(mkspool(&sp) == 0))
		return;
	for (i = 0; i < 5; i++)
		check_int(queue_one(&sp, id, sizeof(id)), ==, 0);
	fd = openat(sp.dirfd[SPOOL_INCOMING], ".tmp.x", O_CREAT | O_WRONLY,
	    0600);
	close(fd);
	check_int(spool_walk(&sp, SPOOL_INCOMING, walk_count, &n, &why), ==,
	    0);
	check_int(n, >=, 5);
	spool_close(&sp);
	buf_free(&why);
}

/* rm_one - nftw's callback for the clean-up */
static int
rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

int
main(void)
{
	int		 rc;
	const char	*tmp = getenv("TMPDIR");

	if (bsnprintf(dir, sizeof(dir), "%s/t-spool.XXXXXX",
	    tmp ? tmp : "/tmp") != 0 || mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	TEST(t_roundtrip, "create, write, commit, load: what went in comes out");
	TEST(t_update, "recipient state is updated in place; locks; moves");
	TEST(t_refuse, "truncated, foreign and doubly linked files refused");
	TEST(t_refuse_ctl, "CR, LF and empty values never enter the envelope");
	TEST(t_sweep, "named temporaries older than the age are swept");
	TEST(t_walk, "walk lists messages, not temporaries");
	rc = test_done();
	nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	return rc;
}
