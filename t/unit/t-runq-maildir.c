/*
 * t-runq-maildir.c - unit tests for runq's Maildir agent
 * (cmd/runq/maildir.c): names, bytes, tmp/ left clean, links refused,
 * errors, and the result read back by Python's mailbox module and by
 * Dovecot's doveadm when it is installed
 */
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/util.h"
#include "cmd/runq/deliver.h"
#include "t/unit/tap.h"

#define QJUNK		"QUEUE-FILE-RECORDS\n"
#define NOBODY		65534
#define NAMES_MAX	64

static char	 dir[256];
static int	 nfile;

struct tmsg {
	struct dlv_msg	 m;
	char		 path[512];
};

/* Python: every message's bytes, sorted. */
static const char py_maildir[] =
	"import mailbox, sys\n"
	"box = mailbox.Maildir(sys.argv[1], factory=None, create=False)\n"
	"out = sys.stdout.buffer\n"
	"msgs = sorted(box.get_bytes(k) for k in box.keys())\n"
	"out.write(b'count %d\\n' % len(msgs))\n"
	"for m in msgs:\n"
	"    out.write(b'size %d\\n' % len(m) + m + b'--\\n')\n";

/* A Dovecot configuration for doveadm without a running Dovecot. */
static const char dovecot_conf[] =
	"ssl = no\n"
	"log_path = /dev/stderr\n"
	"passdb {\n  driver = static\n  args = password=x\n}\n"
	"userdb {\n  driver = static\n  args = uid=nobody\n}\n";

static const char c1[] = "Subject: one\n\nFrom here on\n>From there\n";
static const char c2[] = "Subject: two\n\nno newline at the end";
static const char c3[] = "Subject: three\r\n\r\nCRLF kept as it is\r\n";
#define H	"Return-Path: <alice@example.org>\n" \
		"X-Original-To: Bob@example.org\n" \
		"Delivered-To: bob@example.org\n"

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
mkmsg(struct tmsg *t, const char *content, size_t len)
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
	t->m.sender = "alice@example.org";
	t->m.recipient = "bob@example.org";
	t->m.orig_rcpt = "Bob@example.org";
	t->m.delivered_to = "bob@example.org";
	t->m.arrival = 1700000000;
	return 0;
}

/* rmmsg - close and remove a message's queue file */
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

/* list - the names in a directory (not . and ..), sorted; how many */
static int
list(const char *path, char names[][NAME_MAX + 1], int max)
{
	DIR		*d;
	struct dirent	*e;
	int		 n = 0, i, j;
	char		 tmp[NAME_MAX + 1];

	if ((d = opendir(path)) == NULL)
		return -1;
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		if (n == max)
			break;
		(void)str_copy(names[n++], NAME_MAX + 1, e->d_name);
	}
	closedir(d);
	for (i = 1; i < n; i++)
		for (j = i; j > 0 && strcmp(names[j - 1], names[j]) > 0; j--) {
			memcpy(tmp, names[j], sizeof(tmp));
			memcpy(names[j], names[j - 1], sizeof(tmp));
			memcpy(names[j - 1], tmp, sizeof(tmp));
		}
	return n;
}

/* count_in - how many entries a directory has; -1 when it cannot tell */
static int
count_in(const char *path)
{
	static char	 names[NAMES_MAX][NAME_MAX + 1];

	return list(path, names, NAMES_MAX);
}

/* mode_of - a path's permission bits, or -1 */
static int
mode_of(const char *path)
{
	struct stat	 st;

	return lstat(path, &st) == 0 ? (int)(st.st_mode & 07777) : -1;
}

/* name_ok - SEC.MusecPpidVdevIino.HOST,S=size with size the file's */
static int
name_ok(const char *name, long long size)
{
	const char	*p = name, *s;
	char		 want[64];

	while (*p >= '0' && *p <= '9')
		p++;
	if (p == name || strncmp(p, ".M", 2) != 0 || strchr(p, 'P') == NULL ||
	    strchr(p, 'V') == NULL || strchr(p, 'I') == NULL ||
	    strchr(p, ':') != NULL || strchr(p, '/') != NULL)
		return 0;
	if ((s = strstr(name, ",S=")) == NULL ||
	    bsnprintf(want, sizeof(want), ",S=%lld", size) != 0)
		return 0;
	return strcmp(s, want) == 0;
}

/* chown_one - nftw's callback: give the tree to nobody */
static int
chown_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return lchown(path, NOBODY, NOBODY);
}

/*
 * doveadm_check - doveadm fetch over the Maildir: each of want[] (the
 * whole files) comes back with its size; 1 when doveadm is missing.
 * As root, tree (holding the Maildir) is given to nobody first.
 */
static int
doveadm_check(const char *maildir, const char *tree, struct buf *want, int n)
{
	struct buf	 out, arg;
	char		 conf[512], loc[1024], uid[64], gid[64], user[64];
	char		 home[600], size[64];
	char		*argv[32];
	const char	*p;
	int		 i = 0, k, rc, fd, count = 0;

	buf_init(&out, 1 << 20);
	buf_init(&arg, 1024);
	path_in(conf, sizeof(conf), "dovecot.conf");
	if ((fd = open(conf, O_WRONLY | O_CREAT | O_TRUNC, 0644)) < 0 ||
	    write_all(fd, dovecot_conf, strlen(dovecot_conf)) < 0 ||
	    close(fd) != 0)
		return -1;
	if (geteuid() == 0) {
		/* Dovecot will not touch mail as root. */
		if (chmod(dir, 0755) != 0 ||
		    nftw(tree, chown_one, 16, FTW_PHYS) != 0)
			return -1;
		(void)bsnprintf(uid, sizeof(uid), "mail_uid=%d", NOBODY);
		(void)bsnprintf(gid, sizeof(gid), "mail_gid=%d", NOBODY);
	} else {
		(void)bsnprintf(uid, sizeof(uid), "mail_uid=%lu",
		    (unsigned long)geteuid());
		(void)bsnprintf(gid, sizeof(gid), "mail_gid=%lu",
		    (unsigned long)getegid());
	}
	(void)bsnprintf(loc, sizeof(loc), "mail_location=maildir:%s"
	    ":INDEX=MEMORY", maildir);
	(void)bsnprintf(user, sizeof(user), "USER=%s", "tester");
	(void)bsnprintf(home, sizeof(home), "HOME=%s", dir);
	argv[i++] = "env";
	argv[i++] = user;
	argv[i++] = home;
	argv[i++] = "doveadm";
	argv[i++] = "-c";
	argv[i++] = conf;
	argv[i++] = "-o";
	argv[i++] = loc;
	argv[i++] = "-o";
	argv[i++] = uid;
	argv[i++] = "-o";
	argv[i++] = gid;
	argv[i++] = "-o";
	argv[i++] = "first_valid_uid=0";
	argv[i++] = "-o";
	argv[i++] = "first_valid_gid=0";
	argv[i++] = "fetch";
	argv[i++] = "size.physical text";
	argv[i++] = "all";
	argv[i] = NULL;
	rc = run(argv, &out);
	if (rc == 127) {
		tap_diag("doveadm not installed: the Dovecot check skipped");
		buf_free(&out);
		buf_free(&arg);
		return 1;
	}
	check_int(rc, ==, 0);
	for (p = buf_str(&out); (p = strstr(p, "size.physical: ")) != NULL;
	    p++)
		count++;
	check_int(count, ==, n);
	for (k = 0; k < n; k++) {
		(void)bsnprintf(size, sizeof(size), "size.physical: %zu\n",
		    want[k].len);
		if (!check(strstr(buf_str(&out), size) != NULL) ||
		    !check(strstr(buf_str(&out), buf_str(&want[k])) != NULL))
			tap_diag("doveadm said: %s", buf_str(&out));
	}
	buf_free(&out);
	buf_free(&arg);
	return 0;
}

static void
t_deliver(void)
{
	static char		 names[NAMES_MAX][NAME_MAX + 1];
	static const char	*subs[] = { "tmp", "new", "cur" };
	struct dlv_result	 r;
	struct tmsg		 t[3];
	struct buf		 want[3], got, py;
	struct stat		 st;
	const char		*content[3] = { c1, c2, c3 };
	char			 md[512], sub[1024], file[2048];
	char			*argv[5];
	int			 i, n, rc;

	buf_init(&got, 1 << 20);
	buf_init(&py, 1 << 20);
	/* A new home: the parents are made too. */
	path_in(md, sizeof(md), "home/bob/Maildir/");
	for (i = 0; i < 3; i++) {
		buf_init(&want[i], 4096);
		if (!check(mkmsg(&t[i], content[i], strlen(content[i])) == 0))
			return;
		buf_printf(&want[i], "%s%s", H, content[i]);
	}
	check_int(maildir_deliver(md, &t[0].m, 1, &r), ==, 0);
	check_int(r.status, ==, DLV_OK);
	check_str(r.dsn, "2.0.0");
	check_int(maildir_deliver(md, &t[1].m, 0, &r), ==, 0);
	check_int(maildir_deliver(md, &t[2].m, 0, &r), ==, 0);
	check_int(maildir_sync(md, &r), ==, 0);
	check_int(r.status, ==, DLV_OK);

	check_int(mode_of(md), ==, 0700);
	for (i = 0; i < 3; i++) {
		(void)bsnprintf(sub, sizeof(sub), "%s%s", md, subs[i]);
		check_int(mode_of(sub), ==, 0700);
	}
	(void)bsnprintf(sub, sizeof(sub), "%stmp", md);
	check_int(count_in(sub), ==, 0);
	(void)bsnprintf(sub, sizeof(sub), "%scur", md);
	check_int(count_in(sub), ==, 0);
	(void)bsnprintf(sub, sizeof(sub), "%snew", md);
	n = list(sub, names, NAMES_MAX);
	check_int(n, ==, 3);
	for (i = 0; i < n; i++) {
		(void)bsnprintf(file, sizeof(file), "%s/%s", sub, names[i]);
		if (!check(stat(file, &st) == 0))
			continue;
		check_int(st.st_mode & 07777, ==, 0600);
		if (!check(name_ok(names[i], (long long)st.st_size)))
			tap_diag("name: %s", names[i]);
		if (i > 0)
			check(strcmp(names[i - 1], names[i]) != 0);
		check(slurp(file, &got) == 0);
		/* Exactly one of the three, byte for byte. */
		rc = 0;
		for (int k = 0; k < 3; k++)
			rc += got.len == want[k].len &&
			    memcmp(got.data, want[k].data, got.len) == 0;
		if (!check_int(rc, ==, 1))
			tap_diag("content: %s", buf_str(&got));
	}

	/* Python's mailbox module reads them back. */
	argv[0] = "python3";
	argv[1] = "-c";
	argv[2] = (char *)py_maildir;
	argv[3] = md;
	argv[4] = NULL;
	rc = run(argv, &got);
	if (rc == 127)
		tap_diag("python3 not found: the mailbox module check skipped");
	else {
		/* want[] sorted: "Return-Path..." then by the content. */
		struct buf	*s[3] = { &want[0], &want[1], &want[2] }, *x;

		for (i = 1; i < 3; i++)
			for (n = i; n > 0 && strcmp(s[n - 1]->data,
			    s[n]->data) > 0; n--) {
				x = s[n];
				s[n] = s[n - 1];
				s[n - 1] = x;
			}
		buf_printf(&py, "count 3\n");
		for (i = 0; i < 3; i++)
			buf_printf(&py, "size %zu\n%s--\n", s[i]->len,
			    s[i]->data);
		check_int(rc, ==, 0);
		check_str(buf_str(&got), buf_str(&py));
	}

	/* And Dovecot, as the integration tests will. */
	path_in(sub, sizeof(sub), "home");
	check(doveadm_check(md, sub, want, 3) >= 0);
	for (i = 0; i < 3; i++) {
		rmmsg(&t[i]);
		buf_free(&want[i]);
	}
	buf_free(&got);
	buf_free(&py);
}

static void
t_unique(void)
{
	static char		 names[NAMES_MAX][NAME_MAX + 1];
	struct dlv_result	 r;
	struct tmsg		 t;
	char			 md[512], sub[1024];
	int			 i, n, dup = 0;

	path_in(md, sizeof(md), "many/");
	if (!check(mkmsg(&t, c1, strlen(c1)) == 0))
		return;
	for (i = 0; i < 50; i++)
		check_int(maildir_deliver(md, &t.m, 0, &r), ==, 0);
	check_int(maildir_sync(md, &r), ==, 0);
	(void)bsnprintf(sub, sizeof(sub), "%snew", md);
	n = list(sub, names, NAMES_MAX);
	check_int(n, ==, 50);
	for (i = 1; i < n; i++)
		dup += strcmp(names[i - 1], names[i]) == 0;
	check_int(dup, ==, 0);
	(void)bsnprintf(sub, sizeof(sub), "%stmp", md);
	check_int(count_in(sub), ==, 0);
	rmmsg(&t);
}

/* host_child - (child) deliver under a host name that needs escapes */
static int
host_child(const char *md, struct tmsg *t)
{
	static char		 names[NAMES_MAX][NAME_MAX + 1];
	static const char	 host[] = "a/b:c,d.example";
	struct dlv_result	 r;
	char			 sub[1024];

	if (unshare(CLONE_NEWUTS) != 0 ||
	    sethostname(host, strlen(host)) != 0)
		return 77;
	if (maildir_deliver(md, &t->m, 1, &r) != 0)
		return 1;
	(void)bsnprintf(sub, sizeof(sub), "%snew", md);
	if (list(sub, names, NAMES_MAX) != 1)
		return 2;
	if (strstr(names[0], ".a\\057b\\072c\\054d.example,S=") == NULL)
		return 3;
	return 0;
}

static void
t_hostname(void)
{
	struct tmsg	 t;
	char		 md[512];
	pid_t		 pid;
	int		 status;

	if (geteuid() != 0) {
		tap_skip("needs root to set a host name in a namespace");
		return;
	}
	path_in(md, sizeof(md), "host/");
	if (!check(mkmsg(&t, c1, strlen(c1)) == 0))
		return;
	fflush(stdout);
	if (!check((pid = fork()) >= 0))
		return;
	if (pid == 0)
		_exit(host_child(md, &t));
	check(waitpid(pid, &status, 0) == pid && WIFEXITED(status));
	if (WEXITSTATUS(status) == 77)
		tap_skip("no UTS namespace here (unshare: not permitted)");
	else
		check_int(WEXITSTATUS(status), ==, 0);
	rmmsg(&t);
}

static void
t_links(void)
{
	struct dlv_result	 r;
	struct tmsg		 t;
	char			 md[512], sub[1024], other[512];

	if (!check(mkmsg(&t, c1, strlen(c1)) == 0))
		return;
	path_in(other, sizeof(other), "elsewhere");
	check(mkdir(other, 0700) == 0);

	/* tmp/ is a link: refused, nothing lands where it points. */
	path_in(md, sizeof(md), "ltmp/");
	check(mkdir(md, 0700) == 0);
	(void)bsnprintf(sub, sizeof(sub), "%stmp", md);
	check(symlink(other, sub) == 0);
	check_int(maildir_deliver(md, &t.m, 1, &r), ==, -1);
	check_int(r.status, ==, DLV_DEFER);
	check(strstr(r.text, "tmp") != NULL);
	check_int(count_in(other), ==, 0);

	/* new/ is a link: refused too, and tmp/ stays clean. */
	path_in(md, sizeof(md), "lnew/");
	check(mkdir(md, 0700) == 0);
	(void)bsnprintf(sub, sizeof(sub), "%snew", md);
	check(symlink(other, sub) == 0);
	check_int(maildir_deliver(md, &t.m, 1, &r), ==, -1);
	check_int(r.status, ==, DLV_DEFER);
	check_int(count_in(other), ==, 0);
	(void)bsnprintf(sub, sizeof(sub), "%stmp", md);
	check_int(count_in(sub), ==, 0);

	/* The Maildir itself may be a link the user made. */
	path_in(md, sizeof(md), "viadir");
	check(symlink("elsewhere", md) == 0);
	(void)bsnprintf(sub, sizeof(sub), "%s/", md);
	check_int(maildir_deliver(sub, &t.m, 1, &r), ==, 0);
	(void)bsnprintf(sub, sizeof(sub), "%s/new", other);
	check_int(count_in(sub), ==, 1);

	/* A file where the Maildir should be. */
	path_in(md, sizeof(md), "afile");
	check(close(open(md, O_WRONLY | O_CREAT, 0600)) == 0);
	(void)bsnprintf(sub, sizeof(sub), "%s/", md);
	check_int(maildir_deliver(sub, &t.m, 1, &r), ==, -1);
	check_int(r.status, ==, DLV_DEFER);
	rmmsg(&t);
}

static void
t_errors(void)
{
	struct dlv_result	 r;
	struct rlimit		 old, lim;
	struct tmsg		 t;
	struct buf		 b;
	char			 md[512], sub[1024];
	int			 i, rc;

	buf_init(&b, 1 << 20);
	for (i = 0; i < 1000; i++)
		buf_adds(&b, "0123456789012345678901234567890123456789\n");
	path_in(md, sizeof(md), "errors/");
	if (!check(mkmsg(&t, b.data, b.len) == 0))
		return;

	/* A write error (the file size limit): deferred, tmp/ clean. */
	signal(SIGXFSZ, SIG_IGN);
	if (!check(getrlimit(RLIMIT_FSIZE, &old) == 0))
		return;
	lim = old;
	lim.rlim_cur = 1000;
	if (!check(setrlimit(RLIMIT_FSIZE, &lim) == 0))
		return;
	rc = maildir_deliver(md, &t.m, 1, &r);
	check(setrlimit(RLIMIT_FSIZE, &old) == 0);
	signal(SIGXFSZ, SIG_DFL);
	check_int(rc, ==, -1);
	check_int(r.status, ==, DLV_DEFER);
	check_str(r.dsn, "4.2.2");
	check(strstr(r.text, strerror(EFBIG)) != NULL);
	(void)bsnprintf(sub, sizeof(sub), "%stmp", md);
	check_int(count_in(sub), ==, 0);
	(void)bsnprintf(sub, sizeof(sub), "%snew", md);
	check_int(count_in(sub), ==, 0);

	/* A short queue file: a read error, deferred, tmp/ clean. */
	t.m.len += 100;
	check_int(maildir_deliver(md, &t.m, 1, &r), ==, -1);
	check_int(r.status, ==, DLV_DEFER);
	check_str(r.dsn, "4.3.0");
	check(strstr(r.text, "read message") != NULL);
	(void)bsnprintf(sub, sizeof(sub), "%stmp", md);
	check_int(count_in(sub), ==, 0);
	t.m.len -= 100;

	/* An envelope with a line break: refused before anything lands. */
	t.m.delivered_to = "bob@example.org\nX-Evil: 1";
	check_int(maildir_deliver(md, &t.m, 1, &r), ==, -1);
	check_int(count_in(sub), ==, 0);
	(void)bsnprintf(sub, sizeof(sub), "%snew", md);
	check_int(count_in(sub), ==, 0);

	/* A Maildir we may not write into. */
	if (geteuid() != 0) {
		(void)bsnprintf(sub, sizeof(sub), "%stmp", md);
		check(chmod(sub, 0500) == 0);
		t.m.delivered_to = "bob@example.org";
		check_int(maildir_deliver(md, &t.m, 1, &r), ==, -1);
		check_int(r.status, ==, DLV_DEFER);
		check(strstr(r.text, strerror(EACCES)) != NULL);
		check(chmod(sub, 0700) == 0);
	}
	rmmsg(&t);
	buf_free(&b);
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

	if (bsnprintf(dir, sizeof(dir), "%s/t-runq-maildir.XXXXXX",
	    tmp ? tmp : "/tmp") != 0 || mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	TEST(t_deliver, "three deliveries: names, bytes, modes; Python and "
	    "doveadm read them");
	TEST(t_unique, "fifty deliveries in a row get fifty names");
	TEST(t_hostname, "'/', ':' and ',' in the host name are escaped");
	TEST(t_links, "tmp/ and new/ links are refused; the Maildir may be "
	    "one");
	TEST(t_errors, "write and read errors defer and leave tmp/ clean");
	rc = test_done();
	nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	return rc;
}
