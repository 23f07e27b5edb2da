/*
 * t-runq-bounce.c - unit tests for cmd/runq/bounce: notices are built
 * into a private spool, loaded back, and parsed with Python's email
 * package by t/lib-dsn-check.py (skipped, with a note, when python3 is
 * missing).  T_KEEP=1 in the environment keeps the directory with the
 * notices for a look.
 */
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <libgen.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/util.h"
#include "spool/spool.h"
#include "cmd/runq/bounce.h"
#include "t/unit/tap.h"

#define T_NOW		1795400217LL	/* Mon, 23 Nov 2026 02:16:57 */
#define T_ARRIVAL	(T_NOW - 4 * 3600 - 600)
#define T_NOTICE_MAX	(8 * 1024 * 1024)
#define T_ARGS_MAX	64

static char	 dir[256];
static char	 script[PATH_MAX];
static int	 have_python;
static int	 nfile;
static struct spool sp;

/* The original as loaded back from the spool, and its copy on disk. */
struct orig {
	struct spool_msg m;
	char		 path[PATH_MAX];
};

/* A notice as loaded back from the spool. */
struct notice {
	struct buf	 content;
	char		 body[16];	/* its "body" envelope record */
	char		 path[PATH_MAX];
};

static const char *small_msg =
	"Received: from localhost by host.example.org\n"
	"From: Alice <alice@example.org>\n"
	"To: bob@example.net, carol@example.net\n"
	"Subject: lunch\n"
	"  on Friday\n"
	"Message-ID: <1@example.org>\n"
	"\n"
	"See you at noon.\n"
	"--\n"
	"Alice\n";

/* save - a file in the test directory with these bytes */
static int
save(char *path, size_t sz, const char *name, const void *p, size_t n)
{
	int	 fd, rc;

	if (bsnprintf(path, sz, "%s/%s.%d", dir, name, ++nfile) != 0)
		return -1;
	if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600)) < 0)
		return -1;
	rc = write_all(fd, p, n) < 0 ? -1 : 0;
	close(fd);
	return rc;
}

/* mkorig - queue an original message and load it back */
static int
mkorig(struct orig *o, const char *content, size_t len)
{
	struct spool_writer	 w;
	struct buf		 why;
	size_t			 off, k;
	char			 id[SPOOL_ID_MAX];
	int			 rc = -1;

	memset(o, 0, sizeof(*o));
	o->m.fd = -1;
	buf_init(&why, 1024);
	if (spool_create(&sp, &w, &why) != 0)
		goto out;
	for (off = 0; off < len; off += k) {
		k = len - off < 100000 ? len - off : 100000;
		if (spool_write(&w, content + off, k) != 0)
			break;
	}
	if (off < len || spool_env(&w, "time", "1795385217.000001") != 0 ||
	    spool_env(&w, "sender", "alice@example.org") != 0 ||
	    spool_add_rcpt(&w, "bob@example.net", NULL, NULL) != 0 ||
	    spool_finish(&w, &why) != 0 || spool_commit(&w, &why) != 0) {
		spool_abort(&w);
		goto out;
	}
	if (str_copy(id, sizeof(id), w.id) != 0 || spool_load(&sp,
	    SPOOL_INCOMING, id, SPOOL_LOAD_PEEK, &o->m, &why) != 0)
		goto out;
	rc = save(o->path, sizeof(o->path), "orig", content, len);
out:
	if (rc != 0)
		tap_diag("mkorig: %s", buf_str(&why));
	buf_free(&why);
	return rc;
}

/* mknotice - write a notice with bounce_write, commit, load it back */
static int
mknotice(struct notice *nt, const struct bounce_info *info,
    const struct bounce_rcpt *r, size_t n, const struct orig *o)
{
	struct spool_writer	 w;
	struct spool_msg	 m;
	struct buf		 why;
	char			 id[SPOOL_ID_MAX];
	int			 rc = -1, loaded = 0;

	memset(nt, 0, sizeof(*nt));
	buf_init(&nt->content, T_NOTICE_MAX);
	buf_init(&why, 1024);
	if (spool_create(&sp, &w, &why) != 0)
		goto out;
	if (bounce_write(&w, info, r, n, o ? o->m.fd : -1,
	    o ? o->m.content_off : 0, o ? o->m.content_len : 0, &why) != 0 ||
	    spool_env(&w, "time", "1795400217.000001") != 0 ||
	    spool_env(&w, "sender", "") != 0 ||
	    spool_add_rcpt(&w, "alice@example.org", NULL, NULL) != 0 ||
	    spool_finish(&w, &why) != 0 || spool_commit(&w, &why) != 0) {
		spool_abort(&w);
		goto out;
	}
	if (str_copy(id, sizeof(id), w.id) != 0 || spool_load(&sp,
	    SPOOL_INCOMING, id, SPOOL_LOAD_PEEK, &m, &why) != 0)
		goto out;
	loaded = 1;
	if (buf_pread(&nt->content, m.fd, (size_t)m.content_len,
	    m.content_off) != 0 || str_copy(nt->body, sizeof(nt->body),
	    m.body ? m.body : "") != 0)
		goto out;
	rc = save(nt->path, sizeof(nt->path), "notice", nt->content.data,
	    nt->content.len);
out:
	if (rc != 0)
		tap_diag("mknotice: %s", buf_str(&why));
	if (loaded)
		spool_msg_free(&m);
	buf_free(&why);
	return rc;
}

/* dsn_check - run t/lib-dsn-check.py on a notice; 1 when it passes */
static int
dsn_check(const struct notice *nt, ...)
{
	const char	*argv[T_ARGS_MAX];
	va_list		 ap;
	size_t		 n = 0;
	pid_t		 pid;
	int		 status;

	if (!have_python) {
		tap_diag("python3 missing: %s not parsed", nt->path);
		return 1;
	}
	argv[n++] = "python3";
	argv[n++] = script;
	argv[n++] = nt->path;
	va_start(ap, nt);
	while (n < T_ARGS_MAX - 1 && (argv[n] = va_arg(ap, const char *)) !=
	    NULL)
		n++;
	va_end(ap);
	argv[n] = NULL;
	fflush(stdout);
	if ((pid = fork()) < 0)
		return 0;
	if (pid == 0) {
		execvp(argv[0], (char *const *)argv);
		_exit(127);
	}
	if (waitpid(pid, &status, 0) != pid)
		return 0;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		tap_diag("lib-dsn-check.py %s failed", nt->path);
		return 0;
	}
	return 1;
}

/* base_info - a failure notice for o */
static void
base_info(struct bounce_info *info, const struct orig *o)
{
	memset(info, 0, sizeof(*info));
	info->kind = BOUNCE_FAILURE;
	info->queue_id = o ? o->m.id : "4ABCDEFGHIJ";
	info->sender = "alice@example.org";
	info->myhostname = "host.example.org";
	info->mail_name = "correo";
	info->arrival = T_ARRIVAL;
	info->now = T_NOW;
	info->size_limit = BOUNCE_SIZE_LIMIT;
}

static void
t_failure(void)
{
	struct orig		 o;
	struct notice		 nt;
	struct bounce_info	 info;
	struct bounce_rcpt	 r[2];
	char			 qid[80];

	if (!check(mkorig(&o, small_msg, strlen(small_msg)) == 0))
		return;
	base_info(&info, &o);
	info.envid = "QQ314159";
	memset(r, 0, sizeof(r));
	r[0].addr = "bob@example.net";
	r[0].orcpt = "rfc822;Bob@Example.NET";
	r[0].action = "failed";
	r[0].status = "5.1.1";
	r[0].diagnostic = "smtp; 550 5.1.1 <bob@example.net>: Recipient "
	    "address rejected: User unknown in virtual mailbox table";
	r[0].remote_mta = "dns; mx.example.net";
	r[0].last_attempt = T_NOW - 5;
	r[1].addr = "carol@example.net";
	r[1].status = "5.2.2";
	r[1].diagnostic = "mailbox full";
	if (!check(mknotice(&nt, &info, r, 2, &o) == 0))
		return;
	check(strncmp(nt.content.data, "From: MAILER-DAEMON@host.example.org "
	    "(Mail Delivery System)\nTo: <alice@example.org>\nSubject: "
	    "Undelivered Mail Returned to Sender\nDate: ", 103) == 0);
	check(strstr(nt.content.data, "\nAuto-Submitted: auto-replied\n") !=
	    NULL);
	check_str(nt.body, "7BIT");
	check(bsnprintf(qid, sizeof(qid), "X-Correo-Queue-ID=%s", o.m.id) ==
	    0);
	check(dsn_check(&nt, "--kind", "failure", "--rcpts", "2",
	    "--attach", "full", "--original", o.path, "--cte", "7bit",
	    "--max-line", "78", "--to", "alice@example.org",
	    "--msg", "Reporting-MTA=dns; host.example.org",
	    "--msg", qid,
	    "--msg", "X-Correo-Sender=rfc822; alice@example.org",
	    "--msg", "Original-Envelope-Id=QQ314159",
	    "--msg", "Arrival-Date=Sun, 22 Nov 2026 22:06:57 +0000",
	    "--rcpt", "1:Final-Recipient=rfc822; bob@example.net",
	    "--rcpt", "1:Original-Recipient=rfc822;Bob@Example.NET",
	    "--rcpt", "1:Action=failed",
	    "--rcpt", "1:Status=5.1.1",
	    "--rcpt", "1:Remote-MTA=dns; mx.example.net",
	    "--rcpt", "1:Diagnostic-Code=smtp; 550 5.1.1 <bob@example.net>: "
	    "Recipient address rejected: User unknown in virtual mailbox table",
	    "--rcpt", "1:Last-Attempt-Date=Mon, 23 Nov 2026 02:16:52 +0000",
	    "--rcpt", "1:Will-Retry-Until=-",
	    "--rcpt", "2:Final-Recipient=rfc822; carol@example.net",
	    "--rcpt", "2:Original-Recipient=-",
	    "--rcpt", "2:Action=failed",
	    "--rcpt", "2:Status=5.2.2",
	    "--rcpt", "2:Remote-MTA=-",
	    "--rcpt", "2:Diagnostic-Code=x-unix; mailbox full",
	    "--rcpt", "2:Last-Attempt-Date=-",
	    "--text", "host.example.org",
	    "--text", "Reason: 550 5.1.1 <bob@example.net>: Recipient",
	    "--text", "Server: mx.example.net",
	    "--text", "and your message are attached",
	    NULL));
	spool_msg_free(&o.m);
	buf_free(&nt.content);
}

static void
t_ret_hdrs(void)
{
	struct orig		 o;
	struct notice		 nt;
	struct bounce_info	 info;
	struct bounce_rcpt	 r;

	if (!check(mkorig(&o, small_msg, strlen(small_msg)) == 0))
		return;
	base_info(&info, &o);
	info.ret = "hdrs";
	memset(&r, 0, sizeof(r));
	r.addr = "bob@example.net";
	if (!check(mknotice(&nt, &info, &r, 1, &o) == 0))
		return;
	check(strstr(nt.content.data, "See you at noon") == NULL);
	check(strstr(nt.content.data, "Subject: lunch\n  on Friday\n"
	    "Message-ID: <1@example.org>\n\n--") != NULL);
	check(dsn_check(&nt, "--kind", "failure", "--rcpts", "1",
	    "--attach", "headers", "--original", o.path, "--cte", "7bit",
	    "--rcpt", "1:Status=5.0.0", "--rcpt", "1:Action=failed",
	    "--rcpt", "1:Diagnostic-Code=-",
	    "--text", "as you asked", NULL));
	spool_msg_free(&o.m);
	buf_free(&nt.content);
}

static void
t_delay(void)
{
	struct orig		 o;
	struct notice		 nt;
	struct bounce_info	 info;
	struct bounce_rcpt	 r;

	if (!check(mkorig(&o, small_msg, strlen(small_msg)) == 0))
		return;
	base_info(&info, &o);
	info.kind = BOUNCE_DELAY;
	memset(&r, 0, sizeof(r));
	r.addr = "bob@example.net";
	r.status = "4.4.1";
	r.diagnostic = "connect to mx.example.net[192.0.2.1]:25: Connection "
	    "timed out";
	r.last_attempt = T_NOW - 60;
	r.will_retry_until = T_ARRIVAL + 5 * 86400;
	if (!check(mknotice(&nt, &info, &r, 1, &o) == 0))
		return;
	check(dsn_check(&nt, "--kind", "delay", "--rcpts", "1",
	    "--attach", "headers", "--original", o.path, "--cte", "7bit",
	    "--max-line", "78",
	    "--rcpt", "1:Action=delayed", "--rcpt", "1:Status=4.4.1",
	    "--rcpt", "1:Diagnostic-Code=x-unix; connect to "
	    "mx.example.net[192.0.2.1]:25: Connection timed out",
	    "--rcpt", "1:Will-Retry-Until=Fri, 27 Nov 2026 22:06:57 +0000",
	    "--text", "for 4 hours 10 minutes",
	    "--text", "Retried until: Fri, 27 Nov 2026 22:06:57 +0000",
	    NULL));
	check(strstr(nt.content.data, "Content-Description: Undelivered "
	    "Message Headers\nContent-Type: text/rfc822-headers\n") != NULL);
	spool_msg_free(&o.m);
	buf_free(&nt.content);
}

static void
t_success(void)
{
	struct orig		 o;
	struct notice		 nt;
	struct bounce_info	 info;
	struct bounce_rcpt	 r[3];

	if (!check(mkorig(&o, small_msg, strlen(small_msg)) == 0))
		return;
	base_info(&info, &o);
	info.kind = BOUNCE_SUCCESS;
	info.ret = "FULL";	/* success notices carry headers anyway */
	memset(r, 0, sizeof(r));
	r[0].addr = "bob@example.net";
	r[0].action = "delivered";
	r[0].diagnostic = "x-unix; delivered to mailbox";
	r[1].addr = "carol@example.net";
	r[1].action = "relayed";
	r[1].status = "2.0.0";
	r[1].remote_mta = "mx.example.net";
	r[1].diagnostic = "smtp; 250 2.0.0 Ok: queued as 123";
	r[2].addr = "list@example.org";
	r[2].action = "EXPANDED";
	r[2].status = "2.0.0 ";		/* malformed: the default */
	if (!check(mknotice(&nt, &info, r, 3, &o) == 0))
		return;
	check(dsn_check(&nt, "--kind", "success", "--rcpts", "3",
	    "--attach", "headers", "--original", o.path, "--cte", "7bit",
	    "--rcpt", "1:Action=delivered", "--rcpt", "1:Status=2.0.0",
	    "--rcpt", "2:Action=relayed",
	    "--rcpt", "2:Remote-MTA=dns; mx.example.net",
	    "--rcpt", "3:Action=expanded", "--rcpt", "3:Status=2.0.0",
	    "--text", "Details: 250 2.0.0 Ok: queued as 123", NULL));
	check(strstr(nt.content.data, "Content-Description: Message Headers\n")
	    != NULL);
	spool_msg_free(&o.m);
	buf_free(&nt.content);
}

static void
t_eightbit(void)
{
	static const char	*msg8 = "Subject: caf\xc3\xa9\n\n"
	    "Gr\xc3\xbc\xc3\x9f" "e\n";
	static const char	*msg8body = "Subject: plain\n\n"
	    "Gr\xc3\xbc\xc3\x9f" "e\n";
	struct orig		 o;
	struct notice		 nt;
	struct bounce_info	 info;
	struct bounce_rcpt	 r;

	memset(&r, 0, sizeof(r));
	r.addr = "bob@example.net";
	if (!check(mkorig(&o, msg8, strlen(msg8)) == 0))
		return;
	base_info(&info, &o);
	if (!check(mknotice(&nt, &info, &r, 1, &o) == 0))
		return;
	check_str(nt.body, "8BITMIME");
	check(dsn_check(&nt, "--kind", "failure", "--attach", "full",
	    "--original", o.path, "--cte", "8bit", NULL));
	spool_msg_free(&o.m);
	buf_free(&nt.content);

	/* 8-bit only in the body, headers attached: 7bit. */
	if (!check(mkorig(&o, msg8body, strlen(msg8body)) == 0))
		return;
	base_info(&info, &o);
	info.kind = BOUNCE_DELAY;
	r.will_retry_until = T_NOW + 3600;
	if (!check(mknotice(&nt, &info, &r, 1, &o) == 0))
		return;
	check_str(nt.body, "7BIT");
	check(dsn_check(&nt, "--kind", "delay", "--attach", "headers",
	    "--original", o.path, "--cte", "7bit", NULL));
	spool_msg_free(&o.m);
	buf_free(&nt.content);
}

static void
t_large(void)
{
	struct orig		 o;
	struct notice		 nt;
	struct bounce_info	 info;
	struct bounce_rcpt	 r;
	struct buf		 big;
	size_t			 i;

	buf_init(&big, 2 * 1024 * 1024);
	check(buf_adds(&big, "From: alice@example.org\nSubject: big\n\n") ==
	    BUF_OK);
	for (i = 0; big.len < 1024 * 1024; i++)
		if (buf_printf(&big, "line %06zu of a large message body, "
		    "long enough to add up quickly\n", i) != BUF_OK)
			break;
	if (!check(mkorig(&o, big.data, big.len) == 0))
		return;
	base_info(&info, &o);
	info.size_limit = 50000;
	memset(&r, 0, sizeof(r));
	r.addr = "bob@example.net";
	r.status = "5.3.4";
	r.diagnostic = "smtp; 552 5.3.4 Message size exceeds fixed limit";
	if (!check(mknotice(&nt, &info, &r, 1, &o) == 0))
		return;
	check_int(nt.content.len, <, 10000);
	check(dsn_check(&nt, "--kind", "failure", "--attach", "headers",
	    "--original", o.path, "--cte", "7bit",
	    "--text", "too large to return whole", NULL));
	buf_free(&nt.content);

	/* Within the limit: whole; no limit at all: whole too. */
	info.size_limit = big.len;
	if (!check(mknotice(&nt, &info, &r, 1, &o) == 0))
		return;
	check(dsn_check(&nt, "--attach", "full", "--original", o.path, NULL));
	buf_free(&nt.content);
	info.size_limit = 0;
	if (!check(mknotice(&nt, &info, &r, 1, &o) == 0))
		return;
	check(dsn_check(&nt, "--attach", "full", "--original", o.path, NULL));
	buf_free(&nt.content);
	spool_msg_free(&o.m);
	buf_free(&big);
}

static void
t_header_cut(void)
{
	static const char	*nolf = "Subject: no body and no final LF";
	static const char	*nobody = "Subject: a\nX-A: 1\n";
	static const char	*notfield = "Subject: a\nnot a field\nX: 1\n";
	struct orig		 o;
	struct notice		 nt;
	struct bounce_info	 info;
	struct bounce_rcpt	 r;

	memset(&r, 0, sizeof(r));
	r.addr = "bob@example.net";

	/* RET=HDRS under a small limit: whole header lines that fit. */
	if (!check(mkorig(&o, small_msg, strlen(small_msg)) == 0))
		return;
	base_info(&info, &o);
	info.ret = "HDRS";
	info.size_limit = 100;
	if (!check(mknotice(&nt, &info, &r, 1, &o) == 0))
		return;
	check(dsn_check(&nt, "--attach", "headers", "--original", o.path,
	    "--limit", "100", NULL));
	check(strstr(nt.content.data, "7bit\n\nReceived: from localhost by "
	    "host.example.org\nFrom: Alice <alice@example.org>\n\n--") != NULL);
	spool_msg_free(&o.m);
	buf_free(&nt.content);

	/* No final LF: one is added, whole or headers. */
	if (!check(mkorig(&o, nolf, strlen(nolf)) == 0))
		return;
	base_info(&info, &o);
	if (!check(mknotice(&nt, &info, &r, 1, &o) == 0))
		return;
	check(dsn_check(&nt, "--attach", "full", "--original", o.path, NULL));
	buf_free(&nt.content);
	info.ret = "HDRS";
	if (!check(mknotice(&nt, &info, &r, 1, &o) == 0))
		return;
	check(dsn_check(&nt, "--attach", "headers", "--original", o.path,
	    NULL));
	spool_msg_free(&o.m);
	buf_free(&nt.content);

	/* Headers only, no empty line; a line that is no field ends them. */
	if (!check(mkorig(&o, nobody, strlen(nobody)) == 0))
		return;
	base_info(&info, &o);
	info.ret = "HDRS";
	if (!check(mknotice(&nt, &info, &r, 1, &o) == 0))
		return;
	check(dsn_check(&nt, "--attach", "headers", "--original", o.path,
	    NULL));
	spool_msg_free(&o.m);
	buf_free(&nt.content);
	if (!check(mkorig(&o, notfield, strlen(notfield)) == 0))
		return;
	base_info(&info, &o);
	info.kind = BOUNCE_DELAY;
	if (!check(mknotice(&nt, &info, &r, 1, &o) == 0))
		return;
	check(strstr(nt.content.data, "7bit\n\nSubject: a\n\n--") != NULL);
	check(dsn_check(&nt, "--attach", "headers", "--original", o.path,
	    NULL));
	spool_msg_free(&o.m);
	buf_free(&nt.content);

	/* An empty original. */
	if (!check(mkorig(&o, "", 0) == 0))
		return;
	base_info(&info, &o);
	if (!check(mknotice(&nt, &info, &r, 1, &o) == 0))
		return;
	check(dsn_check(&nt, "--attach", "full", "--original", o.path, NULL));
	spool_msg_free(&o.m);
	buf_free(&nt.content);
}

static void
t_hostile(void)
{
	struct orig		 o;
	struct notice		 nt;
	struct bounce_info	 info;
	struct bounce_rcpt	 r[3];
	struct buf		 diag, word;
	size_t			 i;
	const char		*p;

	if (!check(mkorig(&o, small_msg, strlen(small_msg)) == 0))
		return;
	base_info(&info, &o);
	info.envid = "id\r\nBcc: victim@example.com";
	info.sender = "alice\x01@example.org";
	buf_init(&diag, 64 * 1024);
	buf_init(&word, 64 * 1024);
	check(buf_adds(&diag, "smtp; 550-5.1.1 first line\r\n550-5.1.1 "
	    "second\rline\n550 5.1.1 \x1b[31mred\x7f \xff\xfe end\r\n"
	    "Subject: injected\n\n--boundary\n") == BUF_OK);
	for (i = 0; diag.len < 10 * 1024; i++)
		check(buf_printf(&diag, "word%zu\t ", i) == BUF_OK);
	for (i = 0; i < 10 * 1024; i++)
		check(buf_addc(&word, 'x') == BUF_OK);
	memset(r, 0, sizeof(r));
	r[0].addr = "bob@example.net";
	r[0].diagnostic = diag.data;
	r[0].remote_mta = "dns; mx\r\n.example.net";
	r[1].addr = "carol\r\n@example.net";
	r[1].diagnostic = word.data;	/* 10 KB without a space */
	r[1].orcpt = "rfc822;carol\n@example.net";
	r[2].addr = "dave@example.net";
	r[2].diagnostic = "smtp; 550 before the NUL\0after the NUL";
	r[2].action = "failed\nX-Evil: 1";
	r[2].status = "5.1.1\n";
	if (!check(mknotice(&nt, &info, r, 3, &o) == 0))
		return;
	/* Nothing before the attachment holds a control byte but LF. */
	p = strstr(nt.content.data, "Content-Type: message/rfc822\n");
	check(p != NULL);
	for (i = 0; p != NULL && nt.content.data + i < p; i++) {
		unsigned char	 c = (unsigned char)nt.content.data[i];

		if ((c < 0x20 && c != '\n') || c >= 0x7f) {
			check(!"control or 8-bit byte in the notice");
			break;
		}
	}
	check(strstr(nt.content.data, "\nX-Evil") == NULL);
	check(strstr(nt.content.data, "\nBcc:") == NULL);
	check(strstr(nt.content.data, "\nSubject: injected") == NULL);
	check(strstr(nt.content.data, "after the NUL") == NULL);
	check(dsn_check(&nt, "--kind", "failure", "--rcpts", "3",
	    "--attach", "full", "--original", o.path, "--max-line", "78",
	    "--msg", "Original-Envelope-Id=id Bcc: victim@example.com",
	    "--msg", "X-Correo-Sender=rfc822; alice?@example.org",
	    "--to", "alice?@example.org",
	    "--rcpt", "1:Remote-MTA=dns; mx .example.net",
	    "--rcpt", "2:Final-Recipient=rfc822; carol @example.net",
	    "--rcpt", "2:Original-Recipient=rfc822;carol @example.net",
	    "--rcpt", "3:Diagnostic-Code=smtp; 550 before the NUL",
	    "--rcpt", "3:Action=failed", "--rcpt", "3:Status=5.0.0",
	    NULL));
	spool_msg_free(&o.m);
	buf_free(&nt.content);
	buf_free(&diag);
	buf_free(&word);
}

static void
t_many(void)
{
	struct orig		 o;
	struct notice		 nt;
	struct bounce_info	 info;
	struct bounce_rcpt	*r;
	char			(*addr)[64];
	size_t			 i, n = 1000;

	if (!check(mkorig(&o, small_msg, strlen(small_msg)) == 0))
		return;
	base_info(&info, &o);
	r = calloc(n, sizeof(*r));
	addr = calloc(n, sizeof(*addr));
	if (!check(r != NULL && addr != NULL))
		return;
	for (i = 0; i < n; i++) {
		check(bsnprintf(addr[i], sizeof(addr[i]),
		    "user%04zu@example.net", i) == 0);
		r[i].addr = addr[i];
		r[i].status = "5.1.1";
		r[i].diagnostic = "smtp; 550 5.1.1 User unknown";
		r[i].remote_mta = "dns; mx.example.net";
		r[i].last_attempt = T_NOW - 1;
	}
	if (!check(mknotice(&nt, &info, r, n, &o) == 0))
		return;
	check(dsn_check(&nt, "--kind", "failure", "--rcpts", "1000",
	    "--attach", "full", "--original", o.path,
	    "--rcpt", "1000:Final-Recipient=rfc822; user0999@example.net",
	    "--rcpt-all", "Diagnostic-Code=smtp; 550 5.1.1 User unknown",
	    NULL));
	free(r);
	free(addr);
	spool_msg_free(&o.m);
	buf_free(&nt.content);
}

static void
t_postmaster(void)
{
	struct orig		 o;
	struct notice		 nt;
	struct bounce_info	 info;
	struct bounce_rcpt	 r;

	if (!check(mkorig(&o, small_msg, strlen(small_msg)) == 0))
		return;
	base_info(&info, &o);
	info.sender = "";
	info.postmaster_copy = "the sender of this bounce could not be "
	    "notified (a double bounce)";
	memset(&r, 0, sizeof(r));
	r.addr = "bob@example.net";
	r.diagnostic = "smtp; 550 5.1.1 User unknown";
	if (!check(mknotice(&nt, &info, &r, 1, &o) == 0))
		return;
	check(dsn_check(&nt, "--kind", "failure", "--postmaster",
	    "--attach", "headers", "--original", o.path,
	    "--to", "postmaster@host.example.org",
	    "--msg", "X-Correo-Sender=rfc822;",
	    "--text", "This copy goes to the postmaster: the sender of this",
	    NULL));
	buf_free(&nt.content);

	info.to = "root@host.example.org";
	info.kind = BOUNCE_DELAY;
	r.will_retry_until = T_NOW + 86400;
	if (!check(mknotice(&nt, &info, &r, 1, &o) == 0))
		return;
	check(dsn_check(&nt, "--kind", "delay", "--postmaster",
	    "--attach", "headers", "--to", "root@host.example.org", NULL));
	spool_msg_free(&o.m);
	buf_free(&nt.content);
}

static void
t_no_original(void)
{
	struct notice		 nt;
	struct bounce_info	 info;
	struct bounce_rcpt	 r;

	base_info(&info, NULL);
	memset(&r, 0, sizeof(r));
	r.addr = "bob@example.net";
	if (!check(mknotice(&nt, &info, &r, 1, NULL) == 0))
		return;
	check_str(nt.body, "7BIT");
	check(dsn_check(&nt, "--kind", "failure", "--attach", "none",
	    "--text", "could not be read", NULL));
	buf_free(&nt.content);
}

static void
t_boundary_lookalike(void)
{
	struct orig		 o;
	struct notice		 nt;
	struct bounce_info	 info;
	struct bounce_rcpt	 r;
	struct buf		 msg;
	char			 id[SPOOL_ID_MAX];

	/* Lines that start like the boundary: queue ID and time. */
	if (!check(mkorig(&o, small_msg, strlen(small_msg)) == 0))
		return;
	check(str_copy(id, sizeof(id), o.m.id) == 0);
	spool_msg_free(&o.m);
	buf_init(&msg, 4096);
	check(buf_printf(&msg, "Subject: x\n\n--%s.%lld.\n--%s.%lld.0\n--\n"
	    "--%s.%lld.0000000000000000--\n", id, T_NOW, id, T_NOW, id,
	    T_NOW) == BUF_OK);
	if (!check(mkorig(&o, msg.data, msg.len) == 0))
		return;
	base_info(&info, &o);
	info.queue_id = id;
	memset(&r, 0, sizeof(r));
	r.addr = "bob@example.net";
	if (!check(mknotice(&nt, &info, &r, 1, &o) == 0))
		return;
	check(dsn_check(&nt, "--attach", "full", "--original", o.path, NULL));
	spool_msg_free(&o.m);
	buf_free(&nt.content);
	buf_free(&msg);
}

static void
t_errors(void)
{
	struct spool_writer	 w;
	struct bounce_info	 info;
	struct bounce_rcpt	 r;
	struct orig		 o;
	struct buf		 why;

	buf_init(&why, 1024);
	memset(&r, 0, sizeof(r));
	base_info(&info, NULL);
	if (!check(spool_create(&sp, &w, &why) == 0))
		return;
	check_int(bounce_write(&w, &info, &r, 0, -1, 0, 0, &why), ==, -1);
	check_int(errno, ==, EINVAL);
	check_int(bounce_write(&w, &info, &r, 1, -1, 0, 0, &why), ==, -1);
	check_int(errno, ==, EINVAL);
	r.addr = "bob@example.net";
	info.myhostname = NULL;
	check_int(bounce_write(&w, &info, &r, 1, -1, 0, 0, &why), ==, -1);
	check_int(errno, ==, EINVAL);
	spool_abort(&w);

	/* The original is shorter than the queue file says: EIO. */
	if (!check(mkorig(&o, small_msg, strlen(small_msg)) == 0))
		return;
	base_info(&info, &o);
	buf_reset(&why);
	if (!check(spool_create(&sp, &w, &why) == 0))
		return;
	check_int(bounce_write(&w, &info, &r, 1, o.m.fd, o.m.content_off,
	    o.m.content_len + 1000000, &why), ==, -1);
	check_int(errno, ==, EIO);
	check(strstr(buf_str(&why), "read the original") != NULL);
	spool_abort(&w);
	spool_msg_free(&o.m);
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

/* find_script - t/lib-dsn-check.py next to the build, or from the cwd */
static void
find_script(void)
{
	char	 exe[PATH_MAX];
	ssize_t	 n;
	pid_t	 pid;
	int	 status;

	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n > 0) {
		exe[n] = '\0';
		if (bsnprintf(script, sizeof(script),
		    "%s/../../../t/lib-dsn-check.py", dirname(exe)) != 0 ||
		    access(script, R_OK) != 0)
			script[0] = '\0';
	}
	if (script[0] == '\0')
		(void)str_copy(script, sizeof(script), "t/lib-dsn-check.py");
	if (access(script, R_OK) != 0)
		return;
	fflush(stdout);
	if ((pid = fork()) == 0) {
		execlp("python3", "python3", "-c", "import email.policy",
		    (char *)NULL);
		_exit(127);
	}
	have_python = pid > 0 && waitpid(pid, &status, 0) == pid &&
	    WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

int
main(void)
{
	struct buf	 why;
	int		 rc;
	const char	*tmp = getenv("TMPDIR");

	setenv("TZ", "UTC", 1);
	if (bsnprintf(dir, sizeof(dir), "%s/t-runq-bounce.XXXXXX",
	    tmp ? tmp : "/tmp") != 0 || mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	buf_init(&why, 1024);
	if (spool_open(&sp, dir, SPOOL_ADMIN | SPOOL_CREATE, &why) != 0) {
		fprintf(stderr, "spool_open: %s\n", buf_str(&why));
		return 1;
	}
	buf_free(&why);
	find_script();
	if (!have_python)
		tap_diag("python3 or %s missing: notices are not parsed",
		    script);
	TEST(t_failure, "failure: whole original, report fields, explanation");
	TEST(t_ret_hdrs, "RET=HDRS: headers only, as text/rfc822-headers");
	TEST(t_delay, "delay: headers, Will-Retry-Until, time queued");
	TEST(t_success, "success: delivered, relayed, expanded; headers");
	TEST(t_eightbit, "8-bit originals make an 8bit notice");
	TEST(t_large, "1 MB original over bounce_size_limit: headers only");
	TEST(t_header_cut, "header lines cut at the limit, no final LF");
	TEST(t_hostile, "CR, LF, NUL, escapes and 10 KB diagnostics");
	TEST(t_many, "1000 recipients");
	TEST(t_postmaster, "postmaster copies: subject, To:, headers only");
	TEST(t_no_original, "an unreadable original: two parts");
	TEST(t_boundary_lookalike, "original lines that mimic the boundary");
	TEST(t_errors, "bad arguments and a short original fail cleanly");
	rc = test_done();
	spool_close(&sp);
	if (getenv("T_KEEP") == NULL)
		nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	return rc;
}
