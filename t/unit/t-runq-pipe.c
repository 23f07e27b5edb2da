/*
 * t-runq-pipe.c - unit tests for runq's pipe_deliver: what the command
 * gets (stdin, environment, cwd, descriptors, process group), how its
 * exit is judged (Postfix's sysexits table, signals, the time limit),
 * its output in the text, early exits, and a 20 MB message with flat
 * memory
 */
#include <sys/types.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/util.h"
#include "cmd/runq/deliver.h"
#include "t/unit/tap.h"

#define JUNK		"queue file records before the content\n"
#define CONTENT		"Subject: test\n\n.dot\nFrom me\nlast line\n"
#define BIG_SIZE	(20 * 1024 * 1024)
#define FLAT_KB		(6 * 1024)	/* allowed growth of our RSS */
#define SCRIPT	"#!/bin/sh\n/usr/bin/env | LC_ALL=C sort >\"$1\"\n"

static char	 dir[256];

/* qfile - a queue-like file: junk, then content; msg names the content */
static int
qfile(const char *content, size_t len, struct dlv_msg *msg)
{
	char	 path[300];
	int	 fd;

	bsnprintf(path, sizeof(path), "%s/q", dir);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (fd == -1 || write_all(fd, JUNK, strlen(JUNK)) < 0 ||
	    write_all(fd, content, len) < 0) {
		tap_diag("qfile: %s", strerror(errno));
		return -1;
	}
	memset(msg, 0, sizeof(*msg));
	msg->fd = fd;
	msg->off = (off_t)strlen(JUNK);
	msg->len = (off_t)len;
	msg->queue_id = "ABCDEF";
	msg->sender = "sender@example.org";
	msg->recipient = "bob+ext@example.org";
	msg->orig_rcpt = "Bob@Example.ORG";
	msg->delivered_to = "bob+ext@example.org";
	msg->arrival = 1700000000;
	return fd;
}

/* env_init - the user bob */
static void
env_init(struct dlv_env *env)
{
	memset(env, 0, sizeof(*env));
	env->user = "bob";
	env->home = dir;
	env->shell = "/bin/sh";
	env->extension = "ext";
	env->domain = "example.org";
	env->local = "bob+ext";
	env->time_limit = 10;
}

/* run - deliver CONTENT to command */
static int
run(const char *command, const struct dlv_env *env, struct dlv_result *r)
{
	struct dlv_msg	 msg;
	int		 fd, rc;

	if ((fd = qfile(CONTENT, strlen(CONTENT), &msg)) == -1)
		return -2;
	rc = pipe_deliver(command, &msg, env, r);
	close(fd);
	return rc;
}

/* slurp - a file's contents */
static int
slurp(const char *path, struct buf *b)
{
	char	 tmp[65536];
	ssize_t	 n;
	int	 fd;

	buf_reset(b);
	if ((fd = open(path, O_RDONLY)) == -1)
		return -1;
	while ((n = read(fd, tmp, sizeof(tmp))) > 0)
		if (buf_add(b, tmp, (size_t)n) != BUF_OK) {
			close(fd);
			return -1;
		}
	close(fd);
	return n == 0 ? 0 : -1;
}

/* scratch - a path in the scratch directory */
static const char *
scratch(const char *name)
{
	static char	 path[300];

	bsnprintf(path, sizeof(path), "%s/%s", dir, name);
	return path;
}

static void
t_stdin(void)
{
	struct dlv_env		 env;
	struct dlv_result	 r;
	struct buf		 got, cmd;
	const char		*nl;

	env_init(&env);
	buf_init(&got, 1 << 20);
	buf_init(&cmd, 1024);
	buf_printf(&cmd, "cat >%s", scratch("out"));
	check_int(run(buf_str(&cmd), &env, &r), ==, 0);
	check_int(r.status, ==, DLV_OK);
	check_str(r.dsn, "2.0.0");
	check(strncmp(r.text, "delivered to command: cat >", 27) == 0);
	check_int(slurp(scratch("out"), &got), ==, 0);
	/* "From sender  Www Mmm dd hh:mm:ss yyyy" */
	check(strncmp(got.data, "From sender@example.org  ", 25) == 0);
	nl = strchr(got.data, '\n');
	check(nl != NULL && nl - got.data == 25 + 24);
	if (nl != NULL)
		check_str(nl + 1, "Return-Path: <sender@example.org>\n"
		    "X-Original-To: Bob@Example.ORG\n"
		    "Delivered-To: bob+ext@example.org\n" CONTENT);
	buf_free(&got);
	buf_free(&cmd);
}

static void
t_stdin_null_sender(void)
{
	struct dlv_env		 env;
	struct dlv_result	 r;
	struct dlv_msg		 msg;
	struct buf		 got, cmd;
	int			 fd;

	env_init(&env);
	buf_init(&got, 1 << 20);
	buf_init(&cmd, 1024);
	buf_printf(&cmd, "cat >%s", scratch("out"));
	if ((fd = qfile("x", 1, &msg)) == -1)
		return;
	msg.sender = "";
	msg.orig_rcpt = NULL;
	msg.delivered_to = NULL;
	check_int(pipe_deliver(buf_str(&cmd), &msg, &env, &r), ==, 0);
	close(fd);
	check_int(slurp(scratch("out"), &got), ==, 0);
	check(strncmp(got.data, "From MAILER-DAEMON  ", 20) == 0);
	check(strstr(got.data, "\nReturn-Path: <>\nx") != NULL);
	/* no line end added to a last line without one */
	check(got.len > 0 && got.data[got.len - 1] == 'x');
	buf_free(&got);
	buf_free(&cmd);
}

/* exit_is - "exit N" gives status, dsn and a text starting with text */
static void
exit_is(int code, enum dlv_status status, const char *dsn, const char *text)
{
	struct dlv_env		 env;
	struct dlv_result	 r;
	char			 cmd[64];

	env_init(&env);
	bsnprintf(cmd, sizeof(cmd), "exit %d", code);
	check_int(run(cmd, &env, &r), ==, status == DLV_OK ? 0 : -1);
	if (!check_int(r.status, ==, status))
		tap_diag("exit %d", code);
	check_str(r.dsn, dsn);
	if (!check(strncmp(r.text, text, strlen(text)) == 0))
		tap_diag("exit %d: \"%s\"", code, r.text);
}

static void
t_exit_codes(void)
{
	exit_is(0, DLV_OK, "2.0.0", "delivered to command: exit 0");
	exit_is(EX_USAGE, DLV_BOUNCE, "5.3.0", "command line usage error");
	exit_is(EX_DATAERR, DLV_BOUNCE, "5.6.0", "data format error");
	exit_is(EX_NOINPUT, DLV_BOUNCE, "5.3.0", "cannot open input");
	exit_is(EX_NOUSER, DLV_BOUNCE, "5.1.1", "user unknown");
	exit_is(EX_NOHOST, DLV_BOUNCE, "5.1.2", "host name unknown");
	exit_is(EX_UNAVAILABLE, DLV_BOUNCE, "5.3.0", "service unavailable");
	exit_is(EX_SOFTWARE, DLV_BOUNCE, "5.3.0", "internal software error");
	exit_is(EX_OSERR, DLV_DEFER, "4.3.0", "system resource problem");
	exit_is(EX_OSFILE, DLV_BOUNCE, "5.3.0", "critical OS file missing");
	exit_is(EX_CANTCREAT, DLV_BOUNCE, "5.2.0",
	    "can't create user output file");
	exit_is(EX_IOERR, DLV_BOUNCE, "5.3.0", "input/output error");
	exit_is(EX_TEMPFAIL, DLV_DEFER, "4.3.0", "temporary failure");
	exit_is(EX_PROTOCOL, DLV_BOUNCE, "5.5.0", "remote error in protocol");
	exit_is(EX_NOPERM, DLV_BOUNCE, "5.7.0", "permission denied");
	exit_is(EX_CONFIG, DLV_BOUNCE, "5.3.5", "local configuration error");
	exit_is(1, DLV_BOUNCE, "5.3.0",
	    "Command died with status 1: \"exit 1\"");
	exit_is(63, DLV_BOUNCE, "5.3.0", "Command died with status 63");
	exit_is(79, DLV_BOUNCE, "5.3.0", "Command died with status 79");
	exit_is(255, DLV_BOUNCE, "5.3.0", "Command died with status 255");
}

static void
t_output(void)
{
	struct dlv_env		 env;
	struct dlv_result	 r;

	env_init(&env);
	run("echo hello; echo '  wor\tld ' >&2; printf 'x\\001y'; exit 1",
	    &env, &r);
	check_int(r.status, ==, DLV_BOUNCE);
	check_str(r.text, "Command died with status 1: \"echo hello; echo "
	    "'  wor?ld ' >&2; printf 'x\\001y'; exit 1\". Command output: "
	    "hello wor ld x?y");
	check_str(strstr(r.text, "Command output:"),
	    "Command output: hello wor ld x?y");
	run("echo no such mailbox; exit 67", &env, &r);
	check_str(r.text, "user unknown. Command output: no such mailbox");
	/* nothing is printed: no "Command output" */
	run("exit 75", &env, &r);
	check_str(r.text, "temporary failure");
	/* a lot of output: the text is cut, the command is not stuck */
	run("i=0; while [ $i -lt 2000 ]; do echo 0123456789abcdefghijklmnop"
	    "qrstuvwxyz0123456789abcdefghijklmnopqrstuvwxyz; i=$((i+1));"
	    " done; exit 1", &env, &r);
	check_int(r.status, ==, DLV_BOUNCE);
	check_int(strlen(r.text), ==, DLV_TEXT_MAX - 1);
	check_str(r.text + DLV_TEXT_MAX - 4, "...");
}

static void
t_output_dsn(void)
{
	struct dlv_env		 env;
	struct dlv_result	 r;

	env_init(&env);
	run("echo 5.2.2 mailbox full; exit 1", &env, &r);
	check_int(r.status, ==, DLV_BOUNCE);
	check_str(r.dsn, "5.2.2");
	check_str(r.text, "Command died with status 1: \"echo 5.2.2 mailbox "
	    "full; exit 1\". Command output: mailbox full");
	/* the code's class decides over the exit status */
	run("echo 4.2.1 try later; exit 67", &env, &r);
	check_int(r.status, ==, DLV_DEFER);
	check_str(r.dsn, "4.2.1");
	check_str(r.text, "user unknown. Command output: try later");
	run("echo 5.7.1; exit 75", &env, &r);
	check_int(r.status, ==, DLV_BOUNCE);
	check_str(r.dsn, "5.7.1");
	check_str(r.text, "temporary failure");
	/* not a code, or after a success: ignored */
	run("echo 5.2.2x; exit 1", &env, &r);
	check_str(r.dsn, "5.3.0");
	run("echo 2.0.0 fine; exit 1", &env, &r);
	check_str(r.dsn, "5.3.0");
	run("echo 5.1.1 no; exit 0", &env, &r);
	check_int(r.status, ==, DLV_OK);
}

static void
t_signal(void)
{
	struct dlv_env		 env;
	struct dlv_result	 r;

	env_init(&env);
	run("kill -9 $$", &env, &r);
	check_int(r.status, ==, DLV_DEFER);
	check_str(r.dsn, "4.3.0");
	check_str(r.text, "Command died with signal 9: \"kill -9 $$\"");
}

/* gone - whether a process is gone (or a zombie) */
static int
gone(pid_t pid)
{
	char	 path[64], stat[512];
	ssize_t	 n;
	int	 fd;

	bsnprintf(path, sizeof(path), "/proc/%ld/stat", (long)pid);
	if ((fd = open(path, O_RDONLY)) == -1)
		return 1;
	n = read(fd, stat, sizeof(stat) - 1);
	close(fd);
	if (n <= 0)
		return 1;
	stat[n] = '\0';
	return strstr(stat, ") Z ") != NULL || strstr(stat, ") X ") != NULL;
}

static void
t_time_limit(void)
{
	struct dlv_env		 env;
	struct dlv_result	 r;
	struct buf		 cmd, got;
	time_t			 t0;
	long long		 pid;

	env_init(&env);
	env.time_limit = 1;
	t0 = time(NULL);
	run("echo started; sleep 30", &env, &r);
	check(time(NULL) - t0 <= 3);
	check_int(r.status, ==, DLV_DEFER);
	check_str(r.dsn, "4.3.0");
	check_str(r.text, "Command time limit exceeded: \"echo started; sleep "
	    "30\". Command output: started");

	/* SIGTERM ignored: SIGKILL follows */
	t0 = time(NULL);
	run("trap '' TERM; sleep 30", &env, &r);
	check(time(NULL) - t0 <= 5);
	check_int(r.status, ==, DLV_DEFER);
	check(strncmp(r.text, "Command time limit exceeded", 27) == 0);

	/* a background process holding stdout: the whole group dies */
	buf_init(&cmd, 1024);
	buf_init(&got, 1024);
	buf_printf(&cmd, "sleep 30 & echo $! >%s; exit 0", scratch("pid"));
	t0 = time(NULL);
	run(buf_str(&cmd), &env, &r);
	check(time(NULL) - t0 <= 5);
	check_int(r.status, ==, DLV_DEFER);
	check(strncmp(r.text, "Command time limit exceeded", 27) == 0);
	check_int(slurp(scratch("pid"), &got), ==, 0);
	pid = strtoll(buf_str(&got), NULL, 10);
	check(pid > 1);
	if (pid > 1) {
		usleep(100000);
		check(gone((pid_t)pid));
	}
	buf_free(&cmd);
	buf_free(&got);
}

static void
t_environment(void)
{
	struct dlv_env		 env;
	struct dlv_result	 r;
	struct dlv_msg		 msg;
	struct buf		 got, cmd, want;
	int			 fd;

	env_init(&env);
	env.client_address = "192.0.2.1";
	setenv("CORREO_SECRET", "leak", 1);
	setenv("TZ", "Europe/Lisbon", 1);
	buf_init(&got, 1 << 16);
	buf_init(&cmd, 1024);
	buf_init(&want, 4096);
	/* env(1) from a script run directly, sorted into a file */
	fd = open(scratch("env.sh"), O_WRONLY | O_CREAT | O_TRUNC, 0700);
	write_all(fd, SCRIPT, strlen(SCRIPT));
	close(fd);
	buf_printf(&cmd, "%s/env.sh %s/env", dir, dir);
	if ((fd = qfile(CONTENT, strlen(CONTENT), &msg)) == -1)
		return;
	msg.sender = "a`b$c@example.org";
	if (!check_int(pipe_deliver(buf_str(&cmd), &msg, &env, &r), ==, 0))
		tap_diag("%s", r.text);
	close(fd);
	if (!check_int(slurp(scratch("env"), &got), ==, 0))
		return;
	buf_printf(&want,
	    "CLIENT_ADDRESS=192.0.2.1\n"
	    "DOMAIN=example.org\n"
	    "EXTENSION=ext\n"
	    "HOME=%s\n"
	    "LOCAL=bob+ext\n"
	    "LOGNAME=bob\n"
	    "ORIGINAL_RECIPIENT=Bob@Example.ORG\n"
	    "PATH=/usr/bin:/bin\n"
	    "RECIPIENT=bob+ext@example.org\n"
	    "SENDER=a_b_c@example.org\n"
	    "SHELL=/bin/sh\n"
	    "TZ=Europe/Lisbon\n"
	    "USER=bob\n", dir);
	/* the script's shell may add PWD */
	{
		char	*p;

		while ((p = strstr(got.data, "PWD=")) != NULL &&
		    (p == got.data || p[-1] == '\n')) {
			char	*e = strchr(p, '\n');

			memmove(p, e + 1, strlen(e + 1) + 1);
			got.len = strlen(got.data);
		}
	}
	check_str(buf_str(&got), buf_str(&want));
	check(strstr(buf_str(&got), "CORREO_SECRET") == NULL);

	/* no extension, no original recipient, no TZ: not set at all */
	unsetenv("TZ");
	env.extension = NULL;
	env.client_address = NULL;
	if ((fd = qfile(CONTENT, strlen(CONTENT), &msg)) == -1)
		return;
	msg.orig_rcpt = NULL;
	check_int(pipe_deliver(buf_str(&cmd), &msg, &env, &r), ==, 0);
	close(fd);
	check_int(slurp(scratch("env"), &got), ==, 0);
	check(strstr(buf_str(&got), "EXTENSION=") == NULL);
	check(strstr(buf_str(&got), "ORIGINAL_RECIPIENT=") == NULL);
	check(strstr(buf_str(&got), "CLIENT_ADDRESS=") == NULL);
	check(strstr(buf_str(&got), "TZ=") == NULL);
	check(strstr(buf_str(&got), "SENDER=sender@example.org\n") != NULL);
	unsetenv("CORREO_SECRET");
	buf_free(&got);
	buf_free(&cmd);
	buf_free(&want);
}

static void
t_exec_direct_or_shell(void)
{
	struct dlv_env		 env;
	struct dlv_result	 r;
	struct buf		 got, cmd;

	env_init(&env);
	buf_init(&got, 4096);
	buf_init(&cmd, 1024);
	/* no shell characters: exec'ed directly, our message */
	run("/nonexistent/program arg", &env, &r);
	check_int(r.status, ==, DLV_BOUNCE);
	check_str(r.text, "Command died with status 127: \"/nonexistent/"
	    "program arg\". Command output: cannot execute /nonexistent/"
	    "program: No such file or directory");
	run("no-such-program-here", &env, &r);
	check(strstr(r.text, "cannot execute no-such-program-here: No such "
	    "file") != NULL);
	/* with them: the shell's message */
	run("/nonexistent/program arg;", &env, &r);
	check_int(r.status, ==, DLV_BOUNCE);
	check(strstr(r.text, "cannot execute") == NULL);
	check(strstr(r.text, "not found") != NULL);
	/* a builtin, and an assignment, need the shell too */
	run("exit 3", &env, &r);
	check(strstr(r.text, "status 3") != NULL);
	run("X=1 false", &env, &r);
	check(strstr(r.text, "status 1") != NULL);
	/* the PATH search, and words split at blanks */
	buf_printf(&cmd, "printenv  \tPATH");
	run(buf_str(&cmd), &env, &r);
	check_int(r.status, ==, DLV_OK);
	run("printenv CORREO_NO_SUCH_VARIABLE", &env, &r);
	check_int(r.status, ==, DLV_BOUNCE);
	check_str(r.dsn, "5.3.0");
	/* not executable: 126 */
	run(scratch("q"), &env, &r);
	check(strstr(r.text, "status 126") != NULL);
	check(strstr(r.text, "Permission denied") != NULL);
	buf_free(&got);
	buf_free(&cmd);
}

static void
t_cwd_fds_pgrp(void)
{
	struct dlv_env		 env;
	struct dlv_result	 r;
	struct buf		 got, cmd;
	int			 fd;

	env_init(&env);
	buf_init(&got, 4096);
	buf_init(&cmd, 1024);
	buf_printf(&cmd, "pwd >%s", scratch("pwd"));
	run(buf_str(&cmd), &env, &r);
	check_int(slurp(scratch("pwd"), &got), ==, 0);
	check(got.len > 0 && got.data[got.len - 1] == '\n');
	buf_truncate(&got, got.len > 0 ? got.len - 1 : 0);
	check_str(buf_str(&got), dir);
	env.home = "/nonexistent/home";
	run(buf_str(&cmd), &env, &r);
	check_int(r.status, ==, DLV_OK);
	check_int(slurp(scratch("pwd"), &got), ==, 0);
	check_str(buf_str(&got), "/\n");

	/* a descriptor of ours that is not close-on-exec stays ours */
	fd = open("/dev/null", O_RDONLY);
	check(fd > 2);
	buf_reset(&cmd);
	buf_printf(&cmd, "test -e /proc/$$/fd/%d && exit 1; "
	    "test -e /proc/$$/fd/2 || exit 2; exit 0", fd);
	run(buf_str(&cmd), &env, &r);
	if (!check_int(r.status, ==, DLV_OK))
		tap_diag("%s", r.text);
	close(fd);

	/* its own process group */
	run("set -- $(cat /proc/$$/stat); test \"$5\" = $$", &env, &r);
	if (!check_int(r.status, ==, DLV_OK))
		tap_diag("%s", r.text);
	buf_free(&got);
	buf_free(&cmd);
}

/* big_file - a queue file with size bytes of numbered lines */
static int
big_file(size_t size, struct dlv_msg *msg)
{
	char	 line[80];
	size_t	 done = 0, n;
	int	 fd;

	if ((fd = qfile("", 0, msg)) == -1)
		return -1;
	while (done < size) {
		bsnprintf(line, sizeof(line), "%s%070zu\n",
		    done % 7 == 0 ? "." : "x", done);
		n = strlen(line);
		if (n > size - done)
			n = size - done;
		if (write_all(fd, line, n) < 0)
			return -1;
		done += n;
	}
	msg->len = (off_t)size;
	return fd;
}

/* maxrss_kb - our peak resident set */
static long
maxrss_kb(void)
{
	struct rusage	 ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_maxrss;
}

static void
t_epipe(void)
{
	struct dlv_env		 env;
	struct dlv_result	 r;
	struct dlv_msg		 msg;
	struct sigaction	 sa;
	int			 fd;

	env_init(&env);
	if ((fd = big_file(4 * 1024 * 1024, &msg)) == -1)
		return;
	/* exits at once: judged by its status, we survive the EPIPE */
	check_int(pipe_deliver("exit 0", &msg, &env, &r), ==, 0);
	check_int(r.status, ==, DLV_OK);
	check_int(pipe_deliver("head -c 10 >/dev/null; exit 69", &msg, &env,
	    &r), ==, -1);
	check_int(r.status, ==, DLV_BOUNCE);
	check_str(r.text, "service unavailable");
	check_int(pipe_deliver("exec 0<&-; sleep 0.2; exit 75", &msg, &env,
	    &r), ==, -1);
	check_int(r.status, ==, DLV_DEFER);
	/* SIGPIPE's disposition is ours again */
	sigaction(SIGPIPE, NULL, &sa);
	check(sa.sa_handler == SIG_DFL);
	close(fd);
}

static void
t_big(void)
{
	struct dlv_env		 env;
	struct dlv_result	 r;
	struct dlv_msg		 msg;
	struct buf		 cmd, hdr;
	struct stat		 st;
	char			 a[65536], b[65536];
	off_t			 off;
	long			 before;
	ssize_t			 na, nb;
	int			 fd, out, same = 1;

	env_init(&env);
	env.time_limit = 120;
	buf_init(&cmd, 1024);
	buf_init(&hdr, 4096);
	if ((fd = big_file(BIG_SIZE, &msg)) == -1)
		return;
	buf_printf(&cmd, "cat >%s", scratch("big"));
	before = maxrss_kb();
	check_int(pipe_deliver(buf_str(&cmd), &msg, &env, &r), ==, 0);
	if (!check(maxrss_kb() - before < FLAT_KB))
		tap_diag("RSS grew by %ld KB", maxrss_kb() - before);
	check_int(stat(scratch("big"), &st), ==, 0);
	/* the content follows the prepended lines, byte for byte */
	check_int(dlv_format_headers(&hdr, &msg, 1, 0), ==, 0);
	check_int(st.st_size, ==, (off_t)hdr.len + BIG_SIZE);
	out = open(scratch("big"), O_RDONLY);
	for (off = 0; off < BIG_SIZE && same; off += na) {
		na = pread(fd, a, sizeof(a), msg.off + off);
		nb = pread(out, b, sizeof(b), (off_t)hdr.len + off);
		same = na > 0 && na == nb && memcmp(a, b, (size_t)na) == 0;
	}
	check(same);
	close(out);
	close(fd);
	unlink(scratch("big"));
	buf_free(&cmd);
	buf_free(&hdr);
}

static void
t_bad_command(void)
{
	struct dlv_env		 env;
	struct dlv_result	 r;

	env_init(&env);
	check_int(run("   ", &env, &r), ==, -1);
	check_int(r.status, ==, DLV_DEFER);
	check(strstr(r.text, "empty command") != NULL);
}

/* cleanup - remove the scratch directory */
static void
cleanup(void)
{
	static const char *const names[] = { "q", "out", "pid", "env",
	    "env.sh", "pwd", "big" };
	size_t	 i;

	for (i = 0; i < nitems(names); i++)
		unlink(scratch(names[i]));
	rmdir(dir);
}

int
main(void)
{
	char	 tmpl[] = "/tmp/t-runq-pipe.XXXXXX";

	signal(SIGPIPE, SIG_DFL);
	signal(SIGCHLD, SIG_DFL);
	if (mkdtemp(tmpl) == NULL)
		return 1;
	str_copy(dir, sizeof(dir), tmpl);
	TEST(t_stdin, "stdin: From_ line, prepended headers, content");
	TEST(t_stdin_null_sender, "stdin: the null sender, no last LF");
	TEST(t_exit_codes, "exit statuses: Postfix's sysexits table");
	TEST(t_output, "output: captured, made printable, bounded");
	TEST(t_output_dsn, "output: an enhanced status code decides");
	TEST(t_signal, "death by a signal defers");
	TEST(t_time_limit, "command_time_limit kills the process group");
	TEST(t_environment, "the environment of local(8), nothing else");
	TEST(t_exec_direct_or_shell, "exec directly unless the shell is "
	    "needed");
	TEST(t_cwd_fds_pgrp, "cwd HOME or /, fds 0-2 only, own group");
	TEST(t_epipe, "a command that does not read its input");
	TEST(t_big, "20 MB through cat with flat memory");
	TEST(t_bad_command, "an empty command");
	cleanup();
	return test_done();
}
