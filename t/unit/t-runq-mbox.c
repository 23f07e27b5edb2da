/*
 * t-runq-mbox.c - unit tests for runq's mbox agent (cmd/runq/mbox.c) and
 * the shared helpers (cmd/runq/dlv.c): the bytes written, mboxrd quoting
 * read back by Python's mailbox module, the size limit, write errors
 * cut back, crash undo, locking, and the files that are refused
 */
#include <sys/resource.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <grp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/util.h"
#include "cmd/runq/deliver.h"
#include "t/unit/tap.h"

#define STAMP		1700000000LL	/* Tue Nov 14 22:13:20 2023 UTC */
#define DATE		"Tue Nov 14 22:13:20 2023"
#define QJUNK		"QUEUE-FILE-RECORDS\n"	/* before the content */
#define NOBODY		65534
#define BIG_LINES	1000000		/* 100 bytes each: 100 MB */

static char	 dir[256];
static int	 nfile;

/* A message as runq hands it over, with its queue file. */
struct tmsg {
	struct dlv_msg	 m;
	char		 path[512];
};

/*
 * The Python side: read the mbox with mailbox.mbox, undo the mboxrd
 * quoting, and print what it found.
 */
static const char py_mbox[] =
	"import mailbox, re, sys\n"
	"box = mailbox.mbox(sys.argv[1], create=False)\n"
	"out = sys.stdout.buffer\n"
	"keys = box.keys()\n"
	"out.write(b'count %d\\n' % len(keys))\n"
	"for k in keys:\n"
	"    m = box.get_message(k)\n"
	"    data = re.sub(rb'(?m)^>(>*From )', rb'\\1', box.get_bytes(k))\n"
	"    out.write(b'from ' + m.get_from().encode() + b'\\n')\n"
	"    out.write(b'return-path ' + str(m['Return-Path']).encode() +"
	" b'\\n')\n"
	"    out.write(b'size %d\\n' % len(data))\n"
	"    out.write(data + b'--\\n')\n";

/* path_in - dir/name */
static const char *
path_in(char *out, size_t sz, const char *name)
{
	if (bsnprintf(out, sz, "%s/%s", dir, name) != 0)
		abort();
	return out;
}

/* mkmsg - a queue file holding junk and then content */
static int
mkmsg(struct tmsg *t, const char *content, size_t len, const char *sender)
{
	int	 fd;

	memset(t, 0, sizeof(*t));
	if (bsnprintf(t->path, sizeof(t->path), "%s/q%d", dir, nfile++) != 0)
		return -1;
	if ((fd = open(t->path, O_RDWR | O_CREAT | O_TRUNC, 0600)) < 0)
		return -1;
	if (write_all(fd, QJUNK, strlen(QJUNK)) < 0 ||
	    write_all(fd, content, len) < 0) {
		close(fd);
		return -1;
	}
	t->m.fd = fd;
	t->m.off = (off_t)strlen(QJUNK);
	t->m.len = (off_t)len;
	t->m.queue_id = "4Z1abcDEF";
	t->m.sender = sender;
	t->m.recipient = "bob@example.org";
	t->m.orig_rcpt = "Bob@example.org";
	t->m.delivered_to = "bob@example.org";
	t->m.arrival = STAMP;
	return 0;
}

/* rmmsg - close a message's queue file */
static void
rmmsg(struct tmsg *t)
{
	if (t->m.fd >= 0)
		close(t->m.fd);
	t->m.fd = -1;
	unlink(t->path);
}

/* slurp - a whole (small) file into b */
static int
slurp(const char *path, struct buf *b)
{
	struct stat	 st;
	int		 fd, rc;

	buf_reset(b);
	if ((fd = open(path, O_RDONLY)) < 0)
		return -1;
	if (fstat(fd, &st) != 0) {
		close(fd);
		return -1;
	}
	rc = buf_pread(b, fd, (size_t)st.st_size, 0);
	close(fd);
	return rc;
}

/* fsize - a file's size, or -1 */
static long long
fsize(const char *path)
{
	struct stat	 st;

	return lstat(path, &st) == 0 ? (long long)st.st_size : -1;
}

/* run - argv with stdout into out; the exit status, 127: no program */
static int
run(char *const argv[], struct buf *out)
{
	char	 chunk[4096];
	pid_t	 pid;
	ssize_t	 n;
	int	 p[2], status;

	buf_reset(out);
	if (pipe(p) != 0)
		return -1;
	fflush(stdout);
	if ((pid = fork()) < 0)
		return -1;
	if (pid == 0) {
		dup2(p[1], 1);
		close(p[0]);
		close(p[1]);
		execvp(argv[0], argv);
		_exit(127);
	}
	close(p[1]);
	while ((n = read(p[0], chunk, sizeof(chunk))) > 0)
		if (buf_add(out, chunk, (size_t)n) != BUF_OK)
			break;
	close(p[0]);
	if (waitpid(pid, &status, 0) < 0)
		return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

/* open_ok - mbox_open that must work */
static int
open_ok(struct mbox *mb, const char *path, off_t limit)
{
	struct dlv_result	 r;

	if (mbox_open(mb, path, limit, 0600, &r) != 0) {
		tap_diag("mbox_open %s: %s %s", path, r.dsn, r.text);
		return -1;
	}
	return 0;
}

/* append_ok - mbox_append with a fixed From_ time stamp */
static int
append_ok(struct mbox *mb, const struct tmsg *t)
{
	struct dlv_result	 r;

	mb->mark.stamp = STAMP;
	if (mbox_append(mb, &t->m, &r) != 0) {
		tap_diag("mbox_append: %s %s", r.dsn, r.text);
		return -1;
	}
	return 0;
}

static const char c1[] = "Subject: one\n\nhello\nFrom the start\n"
	">From quoted\n>>From twice\nFrom\nFromage\n From x\n>\n>>\n";
static const char e1[] = "Subject: one\n\nhello\n>From the start\n"
	">>From quoted\n>>>From twice\nFrom\nFromage\n From x\n>\n>>\n";
static const char c2[] = "Subject: two\n\nno newline at the end";
static const char c3[] = "Subject: three\n\n>>>Fro\nFrom ";
static const char e3[] = "Subject: three\n\n>>>Fro\n>From \n";
#define H1	"Return-Path: <alice@example.org>\n" \
		"X-Original-To: Bob@example.org\n" \
		"Delivered-To: bob@example.org\n"
#define H2	"Return-Path: <>\n"
#define H3	"Return-Path: <\"a b\"@example.org>\n" \
		"X-Original-To: Bob@example.org\n" \
		"Delivered-To: bob@example.org\n"

static void
t_append(void)
{
	struct mbox		 mb;
	struct dlv_result	 r;
	struct tmsg		 t1, t2, t3;
	struct buf		 got, want;
	struct stat		 st;
	char			 path[512];
	char			*argv[5];
	int			 rc;

	buf_init(&got, 1 << 20);
	buf_init(&want, 1 << 20);
	path_in(path, sizeof(path), "append");
	if (!check(mkmsg(&t1, c1, strlen(c1), "alice@example.org") == 0) ||
	    !check(mkmsg(&t2, c2, strlen(c2), "") == 0) ||
	    !check(mkmsg(&t3, c3, strlen(c3), "\"a b\"@example.org") == 0))
		return;
	t2.m.orig_rcpt = NULL;
	t2.m.delivered_to = NULL;
	if (!check(open_ok(&mb, path, 0) == 0))
		return;
	check(mb.dotlock != NULL);
	check_int(mb.mark.len, ==, 0);
	check(append_ok(&mb, &t1) == 0);
	check_int(mb.mark.len, ==, fsize(path));
	check(mb.mark.stamp != 0);
	check(append_ok(&mb, &t2) == 0);
	check(append_ok(&mb, &t3) == 0);
	check_int(mb.mark.len, ==, fsize(path));
	check_int(mbox_sync(&mb, &r), ==, 0);
	check_int(r.status, ==, DLV_OK);
	mbox_close(&mb);
	check(mb.fd == -1 && mb.path == NULL && mb.dotlock == NULL);
	check(stat(path, &st) == 0 && (st.st_mode & 07777) == 0600);
	check(fsize(path) >= 0 && access("append.lock", F_OK) != 0);

	/* The exact bytes. */
	buf_printf(&want, "From alice@example.org  " DATE "\n%s%s\n", H1, e1);
	buf_printf(&want, "From MAILER-DAEMON  " DATE "\n%s%s\n\n", H2, c2);
	buf_printf(&want, "From \"a b\"@example.org  " DATE "\n%s%s\n", H3,
	    e3);
	check(slurp(path, &got) == 0);
	check_str(buf_str(&got), buf_str(&want));

	/* What Python's mailbox module makes of it. */
	buf_reset(&want);
	buf_printf(&want, "count 3\n");
	buf_printf(&want, "from alice@example.org  " DATE "\n"
	    "return-path <alice@example.org>\nsize %zu\n%s%s--\n",
	    strlen(H1) + strlen(c1), H1, c1);
	buf_printf(&want, "from MAILER-DAEMON  " DATE "\n"
	    "return-path <>\nsize %zu\n%s%s\n--\n",
	    strlen(H2) + strlen(c2) + 1, H2, c2);
	buf_printf(&want, "from \"a b\"@example.org  " DATE "\n"
	    "return-path <\"a b\"@example.org>\nsize %zu\n%s%s\n--\n",
	    strlen(H3) + strlen(c3) + 1, H3, c3);
	argv[0] = "python3";
	argv[1] = "-c";
	argv[2] = (char *)py_mbox;
	argv[3] = path;
	argv[4] = NULL;
	rc = run(argv, &got);
	if (rc == 127)
		tap_diag("python3 not found: the mailbox module check skipped");
	else {
		check_int(rc, ==, 0);
		check_str(buf_str(&got), buf_str(&want));
	}
	rmmsg(&t1);
	rmmsg(&t2);
	rmmsg(&t3);
	buf_free(&got);
	buf_free(&want);
}

static void
t_empty_and_headers(void)
{
	struct mbox		 mb;
	struct dlv_result	 r;
	struct tmsg		 t;
	struct buf		 got, hdr;
	char			 path[512];

	buf_init(&got, 4096);
	buf_init(&hdr, 64);
	path_in(path, sizeof(path), "empty");
	if (!check(mkmsg(&t, "", 0, "x@example.org") == 0) ||
	    !check(open_ok(&mb, path, 0) == 0))
		return;
	t.m.orig_rcpt = "";
	check(append_ok(&mb, &t) == 0);
	check(mbox_sync(&mb, &r) == 0);
	mbox_close(&mb);
	check(slurp(path, &got) == 0);
	check_str(buf_str(&got), "From x@example.org  " DATE "\n"
	    "Return-Path: <x@example.org>\nDelivered-To: bob@example.org\n\n");

	/* An envelope with a line break never reaches a file. */
	t.m.sender = "evil@example.org\nX-Injected: yes";
	check(open_ok(&mb, path, 0) == 0);
	check_int(mbox_append(&mb, &t.m, &r), ==, -1);
	check_int(r.status, ==, DLV_DEFER);
	mbox_close(&mb);
	check_int(fsize(path), ==, got.len);

	/* The helpers on their own. */
	check_int(dlv_format_headers(&hdr, &t.m, 0, 0), ==, -1);
	check_int(errno, ==, EINVAL);
	t.m.sender = "a-rather-long-sender-address@example.org";
	check_int(dlv_format_headers(&hdr, &t.m, 0, 0), ==, -1);
	check_int(errno, ==, EMSGSIZE);
	rmmsg(&t);
	buf_free(&got);
	buf_free(&hdr);
}

static void
t_set(void)
{
	struct dlv_result	 r;
	char			 big[3000];

	dlv_set(&r, DLV_DEFER, "4.2.0", "a\tb\nc\001d %s", "x\ry");
	check_int(r.status, ==, DLV_DEFER);
	check_str(r.dsn, "4.2.0");
	check_str(r.text, "a?b?c?d x?y");
	memset(big, 'z', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	dlv_set(&r, DLV_BOUNCE, "5.2.2.2.2.2.2.2.2.2", "%s", big);
	check_str(r.dsn, "5.0.0");
	check_int(strlen(r.text), ==, DLV_TEXT_MAX - 1);
	check_str(r.text + DLV_TEXT_MAX - 4, "...");
	check_str(dlv_errno_dsn(EDQUOT), "4.2.2");
	check_str(dlv_errno_dsn(ENOSPC), "4.3.0");
	check_str(dlv_errno_dsn(EACCES), "4.2.0");
}

static void
t_size_limit(void)
{
	struct mbox		 mb;
	struct dlv_result	 r;
	struct tmsg		 t, f;
	struct buf		 hdr, froms;
	char			 path[512];
	long long		 before;
	int			 i;

	buf_init(&hdr, 16384);
	buf_init(&froms, 16384);
	path_in(path, sizeof(path), "limit");
	for (i = 0; i < 100; i++)
		buf_adds(&froms, "From x\n");
	if (!check(mkmsg(&t, c1, strlen(c1), "a@example.org") == 0) ||
	    !check(mkmsg(&f, froms.data, froms.len, "a@example.org") == 0) ||
	    !check(open_ok(&mb, path, 0) == 0))
		return;
	check(append_ok(&mb, &t) == 0);
	check(mbox_sync(&mb, &r) == 0);
	mbox_close(&mb);
	before = fsize(path);

	/* Over the limit before anything is written. */
	check(open_ok(&mb, path, before + 10) == 0);
	check_int(mbox_append(&mb, &t.m, &r), ==, -1);
	check_int(r.status, ==, DLV_BOUNCE);
	check_str(r.dsn, "5.2.2");
	check(strstr(r.text, "mailbox full") != NULL);
	mbox_close(&mb);
	check_int(fsize(path), ==, before);

	/* Over it only once quoted: written, then cut back. */
	check(dlv_format_headers(&hdr, &f.m, 1, STAMP) == 0);
	check(open_ok(&mb, path, before + (off_t)hdr.len + 700 + 1 + 50) == 0);
	mb.mark.stamp = STAMP;
	check_int(mbox_append(&mb, &f.m, &r), ==, -1);
	check_int(r.status, ==, DLV_BOUNCE);
	check_str(r.dsn, "5.2.2");
	check_int(mb.mark.len, ==, before);
	mbox_close(&mb);
	check_int(fsize(path), ==, before);

	/* An exact fit is fine. */
	check(open_ok(&mb, path, before + (off_t)hdr.len + 800 + 1) == 0);
	check(append_ok(&mb, &f) == 0);
	check(mbox_sync(&mb, &r) == 0);
	mbox_close(&mb);
	check_int(fsize(path), ==, before + (long long)hdr.len + 801);
	rmmsg(&t);
	rmmsg(&f);
	buf_free(&hdr);
	buf_free(&froms);
}

static void
t_write_error(void)
{
	struct mbox		 mb;
	struct dlv_result	 r;
	struct rlimit		 old, lim;
	struct tmsg		 t, big;
	struct buf		 b;
	char			 path[512];
	long long		 before;
	int			 rc, i;

	buf_init(&b, 1 << 20);
	for (i = 0; i < 2000; i++)
		buf_adds(&b, "0123456789012345678901234567890123456789\n");
	path_in(path, sizeof(path), "fsize");
	if (!check(mkmsg(&t, c1, strlen(c1), "a@example.org") == 0) ||
	    !check(mkmsg(&big, b.data, b.len, "a@example.org") == 0) ||
	    !check(open_ok(&mb, path, 0) == 0))
		return;
	check(append_ok(&mb, &t) == 0);
	check(mbox_sync(&mb, &r) == 0);
	before = fsize(path);

	signal(SIGXFSZ, SIG_IGN);
	if (!check(getrlimit(RLIMIT_FSIZE, &old) == 0))
		return;
	lim = old;
	lim.rlim_cur = (rlim_t)before + 100;
	if (!check(setrlimit(RLIMIT_FSIZE, &lim) == 0))
		return;
	rc = mbox_append(&mb, &big.m, &r);
	check(setrlimit(RLIMIT_FSIZE, &old) == 0);
	signal(SIGXFSZ, SIG_DFL);
	check_int(rc, ==, -1);
	check_int(r.status, ==, DLV_DEFER);
	check_str(r.dsn, "4.2.2");
	check(strstr(r.text, strerror(EFBIG)) != NULL);
	check_int(fsize(path), ==, before);
	check_int(mb.mark.len, ==, before);

	/* The mailbox is still good for the next one. */
	check(append_ok(&mb, &t) == 0);
	check(mbox_sync(&mb, &r) == 0);
	mbox_close(&mb);
	check_int(fsize(path), ==, 2 * before);

	/* A short queue file is a read error, also cut back. */
	big.m.len += 10;
	check(open_ok(&mb, path, 0) == 0);
	check_int(mbox_append(&mb, &big.m, &r), ==, -1);
	check_int(r.status, ==, DLV_DEFER);
	check(strstr(r.text, "error reading message") != NULL);
	mbox_close(&mb);
	check_int(fsize(path), ==, 2 * before);
	rmmsg(&t);
	rmmsg(&big);
	buf_free(&b);
}

/* append_raw - write s at the end of path, as a crashed writer left it */
static int
append_raw(const char *path, const char *s, size_t n)
{
	int	 fd, rc;

	if ((fd = open(path, O_WRONLY | O_APPEND)) < 0)
		return -1;
	rc = write_all(fd, s, n) < 0 ? -1 : 0;
	close(fd);
	return rc;
}

static void
t_undo(void)
{
	struct mbox		 mb;
	struct mbox_mark	 mark;
	struct dlv_result	 r;
	struct tmsg		 a, b;
	char			 path[512];
	const char		*partial = "From b@example.org  " DATE "\n"
				    "Return-Path: <b@example.org>\n"
				    "X-Original-To: Bob@example.org\n"
				    "Delivered-To: bob@example.org\n"
				    "Subject: one\n\nhel";
	const char		*foreign = "From c@example.org  " DATE "\n"
				    "Subject: other\n\nbody\n\n";
	long long		 base, full;

	path_in(path, sizeof(path), "undo");
	if (!check(mkmsg(&a, c1, strlen(c1), "a@example.org") == 0) ||
	    !check(mkmsg(&b, c1, strlen(c1), "b@example.org") == 0) ||
	    !check(open_ok(&mb, path, 0) == 0))
		return;
	check(append_ok(&mb, &a) == 0);
	check(mbox_sync(&mb, &r) == 0);
	mark = mb.mark;
	mark.stamp = STAMP;
	mbox_close(&mb);
	base = fsize(path);
	check_int(mark.len, ==, base);

	/* A partial append of b, written by hand: cut. */
	check(append_raw(path, partial, strlen(partial)) == 0);
	check(open_ok(&mb, path, 0) == 0);
	check_int(mbox_undo(&mb, &mark, &b.m, &r), ==, 1);
	check_int(fsize(path), ==, base);
	check_int(mb.mark.len, ==, base);
	/* ... and the retry appends it whole. */
	check(append_ok(&mb, &b) == 0);
	check(mbox_sync(&mb, &r) == 0);
	mbox_close(&mb);
	full = fsize(path);

	/* The complete append is cut too (and appended again). */
	check(open_ok(&mb, path, 0) == 0);
	check_int(mbox_undo(&mb, &mark, &b.m, &r), ==, 1);
	check_int(fsize(path), ==, base);
	mbox_close(&mb);

	/* Just the first bytes of the From_ line: ours, cut. */
	check(append_raw(path, "From b@exa", 10) == 0);
	check(open_ok(&mb, path, 0) == 0);
	check_int(mbox_undo(&mb, &mark, &b.m, &r), ==, 1);
	mbox_close(&mb);
	check_int(fsize(path), ==, base);

	/* Another time stamp: another From_ line, left alone. */
	check(append_raw(path, partial, strlen(partial)) == 0);
	mark.stamp = STAMP + 1;
	check(open_ok(&mb, path, 0) == 0);
	check_int(mbox_undo(&mb, &mark, &b.m, &r), ==, 0);
	mbox_close(&mb);
	check_int(fsize(path), ==, base + (long long)strlen(partial));
	mark.stamp = STAMP;

	/* Another message: left alone. */
	check(open_ok(&mb, path, 0) == 0);
	check_int(mbox_undo(&mb, &mark, &a.m, &r), ==, 0);
	mbox_close(&mb);
	check_int(fsize(path), ==, base + (long long)strlen(partial));

	/* A foreign message after the partial one: left alone. */
	check(append_raw(path, foreign, strlen(foreign)) == 0);
	check(open_ok(&mb, path, 0) == 0);
	check_int(mbox_undo(&mb, &mark, &b.m, &r), ==, 0);
	mbox_close(&mb);
	check_int(fsize(path), ==, base + (long long)(strlen(partial) +
	    strlen(foreign)));

	/* Another file, or a shorter one: nothing to do. */
	mark.ino++;
	check(open_ok(&mb, path, 0) == 0);
	check_int(mbox_undo(&mb, &mark, &b.m, &r), ==, 0);
	mbox_close(&mb);
	mark.ino--;
	mark.len = full + 1000;
	check(open_ok(&mb, path, 0) == 0);
	check_int(mbox_undo(&mb, &mark, &b.m, &r), ==, 0);
	/* Not after an append. */
	check(append_ok(&mb, &a) == 0);
	check_int(mbox_undo(&mb, &mark, &b.m, &r), ==, -1);
	mbox_close(&mb);
	rmmsg(&a);
	rmmsg(&b);
}

/* ms_since - milliseconds since t0 */
static long
ms_since(const struct timespec *t0)
{
	struct timespec	 t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (t.tv_sec - t0->tv_sec) * 1000 +
	    (t.tv_nsec - t0->tv_nsec) / 1000000;
}

enum holder {
	HOLD_MBOX,		/* mbox_open: both locks */
	HOLD_FCNTL,		/* F_SETLK only, as an MUA might */
};

/*
 * hold - a child that locks path and keeps it until told (or for
 * hold_ms when that is > 0); the pid, with *tell the pipe to release it
 */
static pid_t
hold(const char *path, enum holder how, long hold_ms, int *tell)
{
	struct mbox		 mb;
	struct dlv_result	 r;
	struct flock		 fl;
	pid_t			 pid;
	char			 c;
	int			 up[2], down[2], fd;

	if (pipe(up) != 0 || pipe(down) != 0)
		return -1;
	fflush(stdout);
	if ((pid = fork()) < 0)
		return -1;
	if (pid == 0) {
		close(up[0]);
		close(down[1]);
		if (how == HOLD_MBOX) {
			if (mbox_open(&mb, path, 0, 0600, &r) != 0)
				_exit(1);
		} else {
			memset(&fl, 0, sizeof(fl));
			fl.l_type = F_WRLCK;
			fl.l_whence = SEEK_SET;
			if ((fd = open(path, O_RDWR | O_CREAT, 0600)) < 0 ||
			    fcntl(fd, F_SETLK, &fl) != 0)
				_exit(1);
		}
		if (write(up[1], "L", 1) != 1)
			_exit(1);
		if (hold_ms > 0)
			usleep((useconds_t)hold_ms * 1000);
		else if (read(down[0], &c, 1) < 0)
			_exit(1);
		if (how == HOLD_MBOX)
			mbox_close(&mb);
		_exit(0);
	}
	close(up[1]);
	close(down[0]);
	if (read(up[0], &c, 1) != 1) {
		close(up[0]);
		close(down[1]);
		waitpid(pid, NULL, 0);
		return -1;
	}
	close(up[0]);
	*tell = down[1];
	return pid;
}

/* release - let a holder go and reap it; its exit status */
static int
release(pid_t pid, int tell)
{
	int	 status;

	(void)write(tell, "R", 1);	/* EPIPE when it went by itself */
	close(tell);
	if (waitpid(pid, &status, 0) < 0)
		return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

/*
 * locked_300ms - with a lock wait of 300 ms, path (held by somebody
 * else) is "mailbox is locked", 4.2.0, after the wait and not long after
 */
static void
locked_300ms(const char *path)
{
	struct mbox		 mb;
	struct dlv_result	 r;
	struct timespec		 t0;
	long			 ms;

	mbox_set_lock_wait(300);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	check_int(mbox_open(&mb, path, 0, 0600, &r), ==, -1);
	ms = ms_since(&t0);
	check_int(ms, >=, 290);
	check_int(ms, <, 3000);
	check_int(r.status, ==, DLV_DEFER);
	check_str(r.dsn, "4.2.0");
	check(strstr(r.text, "mailbox is locked") != NULL);
	mbox_close(&mb);
}

static void
t_lock(void)
{
	struct mbox		 mb, mb2;
	struct dlv_result	 r;
	struct timespec		 t0;
	char			 path[512], lock[512];
	pid_t			 pid;
	int			 tell;

	path_in(path, sizeof(path), "locked");
	path_in(lock, sizeof(lock), "locked.lock");

	/* Held with both locks: a short wait defers. */
	if (!check((pid = hold(path, HOLD_MBOX, 0, &tell)) > 0))
		return;
	check(access(lock, F_OK) == 0);
	locked_300ms(path);
	check(access(lock, F_OK) == 0);	/* the holder's, untouched */
	check_int(release(pid, tell), ==, 0);
	check(access(lock, F_OK) != 0);

	/* Held for a while: we wait and get it. */
	if (!check((pid = hold(path, HOLD_MBOX, 400, &tell)) > 0))
		return;
	mbox_set_lock_wait(10000);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	check_int(mbox_open(&mb, path, 0, 0600, &r), ==, 0);
	check_int(ms_since(&t0), >=, 300);
	mbox_close(&mb);
	check_int(release(pid, tell), ==, 0);

	/* An fcntl lock alone (an MUA without dotlocks) is respected. */
	if (!check((pid = hold(path, HOLD_FCNTL, 0, &tell)) > 0))
		return;
	mbox_set_lock_wait(200);
	check_int(mbox_open(&mb, path, 0, 0600, &r), ==, -1);
	check(strstr(r.text, "mailbox is locked") != NULL);
	check(access(lock, F_OK) != 0);	/* ours did not stay */
	check_int(release(pid, tell), ==, 0);

	/* So is a fresh dotlock alone. */
	check(close(open(lock, O_WRONLY | O_CREAT | O_EXCL, 0600)) == 0);
	check_int(mbox_open(&mb, path, 0, 0600, &r), ==, -1);
	check(strstr(r.text, "mailbox is locked") != NULL);
	check(access(lock, F_OK) == 0);
	check(unlink(lock) == 0);

	/* Within one process, a second open of a locked mailbox waits. */
	check(open_ok(&mb, path, 0) == 0);
	check_int(mbox_open(&mb2, path, 0, 0600, &r), ==, -1);
	mbox_close(&mb2);
	mbox_close(&mb);
	mbox_set_lock_wait(20000);
}

/* flock_child - a process holding a flock on path for ms (-1: until killed) */
static pid_t
flock_child(const char *path, long ms)
{
	struct timespec	 ts;
	int		 fd, p[2];
	pid_t		 pid;
	char		 c;

	if (pipe(p) != 0 || (pid = fork()) < 0)
		return -1;
	if (pid == 0) {
		close(p[0]);
		if ((fd = open(path, O_RDONLY)) < 0 || flock(fd, LOCK_EX) != 0)
			_exit(1);
		(void)write(p[1], "L", 1);
		if (ms < 0)
			for (;;)
				pause();
		ts.tv_sec = ms / 1000;
		ts.tv_nsec = (ms % 1000) * 1000000L;
		nanosleep(&ts, NULL);
		_exit(0);
	}
	close(p[1]);
	if (read(p[0], &c, 1) != 1) {
		close(p[0]);
		return -1;
	}
	close(p[0]);
	return pid;
}

static void
t_queue(void)
{
	struct mbox		 mb;
	struct dlv_result	 r;
	struct timespec		 t0;
	char			 path[512];
	pid_t			 pid;
	long			 ms;
	int			 status;

	path_in(path, sizeof(path), "queued");
	check(close(open(path, O_WRONLY | O_CREAT | O_EXCL, 0600)) == 0);

	/* Another deliverer's turn: we get ours as soon as it ends. */
	if (!check((pid = flock_child(path, 300)) > 0))
		return;
	mbox_set_lock_wait(10000);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	check_int(mbox_open(&mb, path, 0, 0600, &r), ==, 0);
	ms = ms_since(&t0);
	check_int(ms, >=, 200);
	check_int(ms, <, 1000);		/* no pause of 50 ms to 1 s after it */
	check(mb.qfd >= 0);
	mbox_close(&mb);
	check_int(mb.qfd, ==, -1);
	waitpid(pid, &status, 0);

	/* A flock that is never let go: the wait still ends, and defers. */
	if (!check((pid = flock_child(path, -1)) > 0))
		return;
	locked_300ms(path);
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	mbox_set_lock_wait(20000);
}

static void
t_stale(void)
{
	struct mbox		 mb;
	struct dlv_result	 r;
	struct timespec		 ts[2];
	char			 path[512], lock[512];

	path_in(path, sizeof(path), "stale");
	path_in(lock, sizeof(lock), "stale.lock");
	mbox_set_lock_wait(300);

	/* 400 s old: still somebody's. */
	check(close(open(lock, O_WRONLY | O_CREAT | O_EXCL, 0600)) == 0);
	clock_gettime(CLOCK_REALTIME, &ts[0]);
	ts[0].tv_sec -= 400;
	ts[1] = ts[0];
	check(utimensat(AT_FDCWD, lock, ts, 0) == 0);
	check_int(mbox_open(&mb, path, 0, 0600, &r), ==, -1);
	mbox_close(&mb);
	check(access(lock, F_OK) == 0);

	/* 600 s old: stale, removed, and the delivery goes on. */
	ts[0].tv_sec -= 200;
	ts[1] = ts[0];
	check(utimensat(AT_FDCWD, lock, ts, 0) == 0);
	check_int(mbox_open(&mb, path, 0, 0600, &r), ==, 0);
	check(mb.dotlock != NULL);
	check(access(lock, F_OK) == 0);		/* ours now */
	mbox_close(&mb);
	check(access(lock, F_OK) != 0);
	mbox_set_lock_wait(20000);
}

/* refused - mbox_open must fail with status and dsn */
static void
refused(const char *path, enum dlv_status status, const char *dsn,
    const char *text)
{
	struct mbox		 mb;
	struct dlv_result	 r;
	int			 ok;

	check_int(mbox_open(&mb, path, 0, 0600, &r), ==, -1);
	ok = check_int(r.status, ==, status);
	ok &= check_str(r.dsn, dsn);
	ok &= check(strstr(r.text, text) != NULL);
	if (!ok)
		tap_diag("%s: %s", path, r.text);
	mbox_close(&mb);
}

static void
t_refuse(void)
{
	char	 path[512], other[512], lock[512];

	mbox_set_lock_wait(200);
	/* A symbolic link, dangling or not, is never followed. */
	path_in(path, sizeof(path), "link");
	path_in(other, sizeof(other), "target");
	check(symlink(other, path) == 0);
	refused(path, DLV_BOUNCE, "5.2.0", "symbolic link");
	check(access(other, F_OK) != 0);
	check(close(open(other, O_WRONLY | O_CREAT, 0600)) == 0);
	refused(path, DLV_BOUNCE, "5.2.0", "symbolic link");
	check_int(fsize(other), ==, 0);
	path_in(lock, sizeof(lock), "link.lock");
	check(access(lock, F_OK) != 0);

	/* A directory, a FIFO (no hang). */
	path_in(path, sizeof(path), "adir");
	check(mkdir(path, 0700) == 0);
	refused(path, DLV_BOUNCE, "5.2.0", "not a regular file");
	path_in(path, sizeof(path), "fifo");
	check(mkfifo(path, 0600) == 0);
	refused(path, DLV_BOUNCE, "5.2.0", "not a regular file");

	/* A hard-linked file. */
	path_in(path, sizeof(path), "hard");
	path_in(other, sizeof(other), "hard2");
	check(close(open(path, O_WRONLY | O_CREAT, 0600)) == 0);
	check(link(path, other) == 0);
	refused(path, DLV_BOUNCE, "5.2.0", "2 hard links");

	/* A missing directory: a bounce, as Postfix. */
	path_in(path, sizeof(path), "nodir/mbox");
	refused(path, DLV_BOUNCE, "5.2.0", "No such file or directory");
	mbox_set_lock_wait(20000);
}

static void
t_owner(void)
{
	char	 path[512];

	if (geteuid() != 0) {
		tap_skip("needs root to give a file to another user");
		return;
	}
	path_in(path, sizeof(path), "theirs");
	check(close(open(path, O_WRONLY | O_CREAT, 0600)) == 0);
	check(chown(path, NOBODY, NOBODY) == 0);
	refused(path, DLV_DEFER, "4.2.0", "not owned by the recipient");
	check_int(fsize(path), ==, 0);
}

/* no_dotlock - (child) deliver into a directory we cannot write */
static int
no_dotlock(const char *path, struct tmsg *t)
{
	struct mbox		 mb;
	struct dlv_result	 r;

	if (geteuid() == 0 && (setgroups(0, NULL) != 0 ||
	    setresgid(NOBODY, NOBODY, NOBODY) != 0 ||
	    setresuid(NOBODY, NOBODY, NOBODY) != 0 || geteuid() != NOBODY))
		return 2;
	if (mbox_open(&mb, path, 0, 0600, &r) != 0)
		return 4;
	if (mb.dotlock != NULL)
		return 5;
	if (mbox_append(&mb, &t->m, &r) != 0 || mbox_sync(&mb, &r) != 0)
		return 6;
	mbox_close(&mb);
	return 0;
}

static void
t_no_dotlock(void)
{
	struct tmsg	 t;
	char		 d[512], path[512];
	pid_t		 pid;
	int		 status;

	path_in(d, sizeof(d), "ro");
	if (!check(mkmsg(&t, c1, strlen(c1), "a@example.org") == 0))
		return;
	if (!check(bsnprintf(path, sizeof(path), "%s/mbox", d) == 0) ||
	    !check(mkdir(d, 0755) == 0) ||
	    !check(close(open(path, O_WRONLY | O_CREAT, 0600)) == 0))
		return;
	if (geteuid() == 0) {
		/* The child becomes nobody; dir must be reachable. */
		check(chown(path, NOBODY, NOBODY) == 0);
		check(chmod(dir, 0755) == 0);
	}
	check(chmod(d, 0555) == 0);
	fflush(stdout);
	if (!check((pid = fork()) >= 0))
		return;
	if (pid == 0)
		_exit(no_dotlock(path, &t));
	check(waitpid(pid, &status, 0) == pid);
	check(WIFEXITED(status));
	check_int(WEXITSTATUS(status), ==, 0);
	check(fsize(path) > 0);
	check(chmod(d, 0755) == 0);
	check(chmod(dir, 0700) == 0);
	rmmsg(&t);
}

static void
t_changed(void)
{
	struct mbox		 mb;
	struct dlv_result	 r;
	struct tmsg		 t;
	char			 path[512];

	path_in(path, sizeof(path), "changed");
	if (!check(mkmsg(&t, c1, strlen(c1), "a@example.org") == 0) ||
	    !check(open_ok(&mb, path, 0) == 0))
		return;
	check(append_ok(&mb, &t) == 0);
	/* Someone writes without locking: the mark would be wrong. */
	check(append_raw(path, "junk\n", 5) == 0);
	check_int(mbox_append(&mb, &t.m, &r), ==, -1);
	check_int(r.status, ==, DLV_DEFER);
	check(strstr(r.text, "changed") != NULL);
	mbox_close(&mb);
	rmmsg(&t);
}

static void
t_devnull(void)
{
	struct mbox		 mb;
	struct dlv_result	 r;
	struct tmsg		 t;

	if (!check(mkmsg(&t, c1, strlen(c1), "a@example.org") == 0))
		return;
	check(open_ok(&mb, "/dev/null", 0) == 0);
	check(mb.dotlock == NULL);
	check(append_ok(&mb, &t) == 0);
	check_int(mbox_undo(&mb, &mb.mark, &t.m, &r), ==, 0);
	check_int(mbox_sync(&mb, &r), ==, 0);
	check_int(r.status, ==, DLV_OK);
	mbox_close(&mb);
	check(access("/dev/null.lock", F_OK) != 0);
	rmmsg(&t);
}

/* quote_ref - mboxrd quoting the simple way, line by line */
static void
quote_ref(const char *p, size_t n, struct buf *out)
{
	size_t	 i = 0, j, k;

	while (i < n) {
		for (j = i; j < n && p[j] != '\n'; j++)
			;
		for (k = i; k < j && p[k] == '>'; k++)
			;
		if (j - k >= 5 && memcmp(p + k, "From ", 5) == 0)
			buf_addc(out, '>');
		buf_add(out, p + i, j < n ? j + 1 - i : j - i);
		i = j + 1;
	}
	if (n > 0 && p[n - 1] != '\n')
		buf_addc(out, '\n');
	buf_addc(out, '\n');
}

/* lcg - a small deterministic random number generator */
static unsigned int
lcg(unsigned int *state)
{
	*state = *state * 1103515245u + 12345u;
	return (*state >> 16) & 0x7fff;
}

static void
t_quote(void)
{
	static const char	 alpha[] = ">>>From  \n\nxFrm";
	struct mbox		 mb;
	struct tmsg		 t;
	struct buf		 content, want, got;
	char			 path[512];
	unsigned int		 seed = 42;
	size_t			 at, len;
	int			 i, bad = 0;

	buf_init(&content, 4 * DLV_CHUNK);
	buf_init(&want, 8 * DLV_CHUNK);
	buf_init(&got, 8 * DLV_CHUNK);
	path_in(path, sizeof(path), "quote");
	for (i = 0; i < 300 && bad < 3; i++) {
		buf_reset(&content);
		if (i < 40) {
			/* A From_ line or a '>' run across a chunk edge. */
			at = DLV_CHUNK - 8 + (size_t)(i % 20) / 2;
			while (content.len < at - 1)
				buf_addc(&content, 'x');
			buf_addc(&content, '\n');
			if (i % 2)
				buf_adds(&content, ">>>>>>>>>>>>>>>>");
			buf_adds(&content, i % 4 < 2 ? "From a\n" : "Frox\n");
		} else {
			len = lcg(&seed) % (i < 250 ? 200 : 3 * DLV_CHUNK);
			while (content.len < len)
				buf_addc(&content,
				    alpha[lcg(&seed) % (sizeof(alpha) - 1)]);
		}
		unlink(path);
		if (mkmsg(&t, content.data, content.len, "q@example.org") != 0) {
			bad++;
			continue;
		}
		if (open_ok(&mb, path, 0) != 0 || append_ok(&mb, &t) != 0)
			bad++;
		mbox_close(&mb);
		check(dlv_format_headers(&want, &t.m, 1, STAMP) == 0);
		quote_ref(content.data, content.len, &want);
		if (slurp(path, &got) != 0 || got.len != want.len ||
		    memcmp(got.data, want.data, got.len) != 0) {
			tap_diag("case %d: %zu bytes of content quoted wrong",
			    i, content.len);
			bad++;
		}
		rmmsg(&t);
	}
	check_int(bad, ==, 0);
	buf_free(&content);
	buf_free(&want);
	buf_free(&got);
}

/* maxrss - the peak resident set in kilobytes */
static long
maxrss(void)
{
	struct rusage	 ru;

	return getrusage(RUSAGE_SELF, &ru) == 0 ? ru.ru_maxrss : -1;
}

static void
t_big(void)
{
	struct mbox		 mb;
	struct dlv_result	 r;
	struct tmsg		 t;
	struct buf		 hdr, line;
	char			 path[512], tail[4];
	char			*chunk;
	long			 before, after;
	long long		 i, froms = 0;
	size_t			 per = 10000, n = 0;
	int			 fd;

	buf_init(&hdr, 16384);
	buf_init(&line, 200);
	path_in(path, sizeof(path), "big");
	if (!check(mkmsg(&t, "", 0, "big@example.org") == 0) ||
	    !check((chunk = malloc(per * 100)) != NULL))
		return;
	/* 10^6 lines of 100 bytes; every 1000th starts "From ". */
	for (i = 0; i < BIG_LINES; i++) {
		if (i % 1000 == 0) {
			memcpy(chunk + n, "From line", 9);
			froms++;
		} else
			memcpy(chunk + n, "Some text", 9);
		memset(chunk + n + 9, 'x', 90);
		chunk[n + 99] = '\n';
		n += 100;
		if (n == per * 100) {
			if (!check(write_all(t.m.fd, chunk, n) >= 0))
				return;
			n = 0;
		}
	}
	free(chunk);
	t.m.len = (off_t)BIG_LINES * 100;
	check(dlv_format_headers(&hdr, &t.m, 1, STAMP) == 0);

	before = maxrss();
	check(open_ok(&mb, path, 0) == 0);
	check(append_ok(&mb, &t) == 0);
	check(mbox_sync(&mb, &r) == 0);
	mbox_close(&mb);
	after = maxrss();
	tap_diag("ru_maxrss %ld kB before, %ld kB after", before, after);
	check_int(after - before, <, 4096);
	check_int(fsize(path), ==, (long long)hdr.len + t.m.len + froms + 1);
	fd = open(path, O_RDONLY);
	check(fd >= 0 && pread(fd, tail, 3, fsize(path) - 3) == 3);
	check(memcmp(tail, "x\n\n", 3) == 0);
	if (fd >= 0)
		close(fd);
	unlink(path);
	rmmsg(&t);
	buf_free(&hdr);
	buf_free(&line);
}

/* rm_one - nftw's callback for the clean-up */
static int
rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	if (flag == FTW_DP)
		return rmdir(path);
	return unlink(path);
}

int
main(void)
{
	int		 rc;
	const char	*tmp = getenv("TMPDIR");

	signal(SIGPIPE, SIG_IGN);
	setenv("TZ", "UTC", 1);
	tzset();
	if (bsnprintf(dir, sizeof(dir), "%s/t-runq-mbox.XXXXXX",
	    tmp ? tmp : "/tmp") != 0 || mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	if (chdir(dir) != 0) {
		perror(dir);
		return 1;
	}
	TEST(t_append, "three appends: exact bytes, mboxrd, Python reads "
	    "them back");
	TEST(t_empty_and_headers, "an empty message; envelopes with line "
	    "breaks are refused");
	TEST(t_set, "dlv_set bounds and cleans the text");
	TEST(t_size_limit, "mailbox_size_limit bounces 5.2.2 and cuts back");
	TEST(t_write_error, "a write error (RLIMIT_FSIZE) is cut back and "
	    "deferred");
	TEST(t_undo, "undo cuts this message's partial append, nothing else");
	TEST(t_lock, "fcntl and dot locks are waited for, then defer");
	TEST(t_queue, "deliverers to one mailbox take turns on its flock");
	TEST(t_stale, "a dotlock older than 500 s is removed");
	TEST(t_refuse, "links, directories, FIFOs and hard links are refused");
	TEST(t_owner, "a mailbox of another user defers");
	TEST(t_no_dotlock, "an unwritable directory means fcntl locking only");
	TEST(t_changed, "an unlocked writer between appends defers");
	TEST(t_quote, "mboxrd quoting across chunk edges matches a line-by-"
	    "line reference");
	TEST(t_devnull, "/dev/null takes anything and keeps nothing");
	TEST(t_big, "a 100 MB message with flat memory");
	rc = test_done();
	if (chdir("/") == 0)
		nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	return rc;
}
