/*
 * pipe.c - |command and mailbox_command deliveries, with the semantics
 * of Postfix local(8) "EXTERNAL COMMAND DELIVERY" (see deliver.h)
 *
 * How the command runs.  Like local(8), the command is executed
 * directly where possible: when it holds none of the shell's special
 * characters (quotes, $, `, \, ;, &, |, <, >, parentheses, brackets,
 * braces, *, ?, ~, #, a line break), its first word is no shell
 * builtin or reserved word, and its first word is no variable
 * assignment, it is split at blanks and exec'ed, the program looked up
 * in PATH (/usr/bin:/bin) when its name has no '/'.  Otherwise it runs
 * as /bin/sh -c COMMAND.  A program that cannot be exec'ed ends the
 * child as a shell would: status 127 when it is not found, 126 when it
 * cannot run, EX_TEMPFAIL when the system is short of resources.
 *
 * It runs with the identity of the calling process (the caller switched
 * already), in its own process group, with the working directory HOME
 * when that is accessible and "/" otherwise, every signal at its
 * default and unblocked, descriptors 0-2 only: stdin is the message,
 * stdout and stderr go into one pipe that is read back.
 *
 * The environment is built from nothing, as local(8) documents it:
 * SHELL, HOME, USER and LOGNAME (the recipient user), LOCAL, DOMAIN,
 * EXTENSION (when there is one), RECIPIENT, ORIGINAL_RECIPIENT (when
 * known), SENDER, CLIENT_ADDRESS (when known), PATH=/usr/bin:/bin, and
 * TZ passed on from our own environment when set.  Every value but PATH
 * and TZ goes through Postfix's default command_expansion_filter: a
 * byte other than letters, digits and !@%-_=+:,./ becomes '_'.
 *
 * The message on stdin, as local(8) gives it to a command: a From_ line
 * "From SENDER  DATE" (MAILER-DAEMON for the null sender), then
 * Return-Path:, X-Original-To: and Delivered-To: (dlv_format_headers),
 * then the content as stored, LF line ends, no ">From " quoting and no
 * empty line appended.
 *
 * The outcome, from the exit status with Postfix's sys_exits table:
 * 0 is delivered; a sysexits(3) status takes that table's enhanced
 * status and text (EX_TEMPFAIL and EX_OSERR defer with 4.3.0, the
 * others bounce: EX_NOUSER 5.1.1, EX_NOHOST 5.1.2, EX_UNAVAILABLE 5.3.0,
 * ...); any other status bounces with 5.3.0 "Command died with status
 * N"; death by a signal defers with 4.3.0; running past time_limit
 * seconds kills the process group (SIGTERM, then SIGKILL after
 * PIPE_KILL_GRACE seconds) and defers with 4.3.0 "Command time limit
 * exceeded".  When a failed command's output starts with an enhanced
 * status code 4.X.Y or 5.X.Y, that code and its class decide instead
 * (Postfix 2.3 and later).  The first PIPE_OUTPUT_MAX bytes of output,
 * made printable, end the text: "... Command output: ...".  A
 * time_limit of 0 or less means no limit.
 *
 * A command that exits without reading all of its input is judged by
 * its exit status alone: SIGPIPE is ignored while we write, and EPIPE
 * just ends the writing.  The time limit covers the whole exchange:
 * output is read until every holder of the pipe closed it, so a
 * command that leaves a background process holding its stdout runs
 * into the limit, as with Postfix.  The message goes through in
 * DLV_CHUNK pieces, so memory stays flat whatever its size.
 *
 * The caller must not ignore SIGCHLD (the status would be lost).
 * pipe_deliver() returns 0 when r is DLV_OK, else -1; r says why.
 * dlv_format_headers() rather than dlv_write_headers() makes the
 * prepended lines, so that they go through the same non-blocking
 * writes, under the time limit, as the content.
 */
#include <sys/types.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/util.h"
#include "cmd/runq/deliver.h"

#define PIPE_OUTPUT_MAX	2048	/* output kept for the text */
#define PIPE_KILL_GRACE	2	/* seconds from SIGTERM to SIGKILL */
#define PIPE_ENV_MAX	16	/* variables, the NULL excluded */
#define PIPE_ENV_BYTES	65536
#define PIPE_HDR_MAX	65536	/* the From_ line and headers */
#define PIPE_PATH	"/usr/bin:/bin"
#define PIPE_SHELL	"/bin/sh"
#define PIPE_POLL_MS	20	/* child status polling without a pidfd */
#define PIPE_EXIT_NOTFOUND	127
#define PIPE_EXIT_NOEXEC	126
/* Postfix's default command_expansion_filter */
#define PIPE_ENV_CHARS	"1234567890!@%-_=+:,./" \
			"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
#define PIPE_SHELL_META	"\"'`$\\;&|<>()[]{}*?~#\n\r"

/* The argument vector and environment, built before the fork. */
struct pipe_exec {
	int		 shell;		/* run as /bin/sh -c */
	char		**argv;
	char		*envp[PIPE_ENV_MAX + 1];
	struct buf	 words;		/* argv's strings */
	struct buf	 env;		/* envp's strings */
};

/* One run of the command as the parent sees it. */
struct pipe_run {
	pid_t		 pid;
	int		 pidfd;		/* -1: poll waitpid */
	int		 in;		/* its stdin; -1 when done */
	int		 out;		/* stdout+stderr; -1 at EOF */
	int		 reaped;
	int		 status;	/* wait(2) status */
	int		 timed_out;
	int		 read_error;	/* errno of a failed pread */
	struct buf	 hdr;		/* what goes before it */
	size_t		 hdr_off;
	off_t		 msg_off;	/* content bytes taken so far */
	char		*chunk;		/* DLV_CHUNK bytes */
	size_t		 chunk_len, chunk_off;
	char		 output[PIPE_OUTPUT_MAX];
	size_t		 output_len;
};

/* Postfix's sys_exits table: status, enhanced status, text. */
static const struct pipe_exit {
	int		 status;
	const char	*dsn;
	const char	*text;
} pipe_exits[] = {
	{ EX_USAGE, "5.3.0", "command line usage error" },
	{ EX_DATAERR, "5.6.0", "data format error" },
	{ EX_NOINPUT, "5.3.0", "cannot open input" },
	{ EX_NOUSER, "5.1.1", "user unknown" },
	{ EX_NOHOST, "5.1.2", "host name unknown" },
	{ EX_UNAVAILABLE, "5.3.0", "service unavailable" },
	{ EX_SOFTWARE, "5.3.0", "internal software error" },
	{ EX_OSERR, "4.3.0", "system resource problem" },
	{ EX_OSFILE, "5.3.0", "critical OS file missing" },
	{ EX_CANTCREAT, "5.2.0", "can't create user output file" },
	{ EX_IOERR, "5.3.0", "input/output error" },
	{ EX_TEMPFAIL, "4.3.0", "temporary failure" },
	{ EX_PROTOCOL, "5.5.0", "remote error in protocol" },
	{ EX_NOPERM, "5.7.0", "permission denied" },
	{ EX_CONFIG, "5.3.5", "local configuration error" },
};

/* Words that make the first word of a command need the shell. */
static const char *const pipe_builtins[] = {
	"!", ".", ":", "[", "alias", "bg", "break", "case", "cd", "command",
	"continue", "do", "done", "elif", "else", "esac", "eval", "exec",
	"exit", "export", "false", "fc", "fg", "fi", "for", "function",
	"getopts", "hash", "if", "in", "jobs", "kill", "newgrp", "pwd",
	"read", "readonly", "return", "select", "set", "shift", "test",
	"then", "times", "trap", "true", "type", "ulimit", "umask",
	"unalias", "unset", "until", "wait", "while",
};

static int	 pipe_needs_shell(const char *);
static int	 pipe_env_add(struct pipe_exec *, size_t *, const char *,
		    const char *, int);
static int	 pipe_prepare(struct pipe_exec *, const char *,
		    const struct dlv_msg *, const struct dlv_env *,
		    struct buf *);
static void	 pipe_exec_free(struct pipe_exec *);
static void	 pipe_child(const struct pipe_exec *, const char *,
		    const char *, int, int) __attribute__((noreturn));
static void	 pipe_child_fail(const char *, int)
		    __attribute__((noreturn));
static void	 pipe_close_from(int);
static long long pipe_now(void);
static int	 pipe_feed(struct pipe_run *, const struct dlv_msg *);
static void	 pipe_drain(struct pipe_run *);
static void	 pipe_reap(struct pipe_run *, int);
static void	 pipe_kill(struct pipe_run *);
static void	 pipe_talk(struct pipe_run *, const struct dlv_msg *, long);
static size_t	 pipe_printable(const char *, size_t, char *, size_t);
static size_t	 pipe_output_dsn(const char *, char *, size_t);
static void	 pipe_result(struct pipe_run *, const char *,
		    struct dlv_result *);

/* pipe_needs_shell - whether command must run as /bin/sh -c command */
static int
pipe_needs_shell(const char *command)
{
	size_t	 n, i;

	if (strpbrk(command, PIPE_SHELL_META) != NULL)
		return 1;
	command += strspn(command, " \t");
	n = strcspn(command, " \t");
	if (memchr(command, '=', n) != NULL)
		return 1;
	for (i = 0; i < nitems(pipe_builtins); i++)
		if (strlen(pipe_builtins[i]) == n &&
		    memcmp(command, pipe_builtins[i], n) == 0)
			return 1;
	return 0;
}

/*
 * pipe_env_add - append NAME=value to the environment; filtered values
 * have bytes outside PIPE_ENV_CHARS replaced by '_'
 */
static int
pipe_env_add(struct pipe_exec *x, size_t *n, const char *name,
    const char *value, int filter)
{
	size_t	 i;
	char	 c;

	if (value == NULL)
		return 0;
	if (*n >= PIPE_ENV_MAX)
		return -1;
	if (buf_printf(&x->env, "%s=", name) != BUF_OK)
		return -1;
	for (i = 0; value[i] != '\0'; i++) {
		c = value[i];
		if (filter && strchr(PIPE_ENV_CHARS, c) == NULL)
			c = '_';
		if (buf_addc(&x->env, c) != BUF_OK)
			return -1;
	}
	if (buf_addc(&x->env, '\0') != BUF_OK)
		return -1;
	(*n)++;
	return 0;
}

/* pipe_prepare - the argument vector and environment of the command */
static int
pipe_prepare(struct pipe_exec *x, const char *command,
    const struct dlv_msg *msg, const struct dlv_env *env, struct buf *why)
{
	const char	*tz, *p;
	size_t		 n = 0, nwords, i, len;

	x->shell = pipe_needs_shell(command);
	x->argv = NULL;
	buf_init(&x->words, strlen(command) + 1);
	buf_init(&x->env, PIPE_ENV_BYTES);
	tz = getenv("TZ");
	if (pipe_env_add(x, &n, "SHELL", env->shell, 1) != 0 ||
	    pipe_env_add(x, &n, "HOME", env->home, 1) != 0 ||
	    pipe_env_add(x, &n, "USER", env->user, 1) != 0 ||
	    pipe_env_add(x, &n, "LOGNAME", env->user, 1) != 0 ||
	    pipe_env_add(x, &n, "LOCAL", env->local, 1) != 0 ||
	    pipe_env_add(x, &n, "DOMAIN", env->domain, 1) != 0 ||
	    pipe_env_add(x, &n, "EXTENSION", env->extension, 1) != 0 ||
	    pipe_env_add(x, &n, "RECIPIENT", msg->recipient, 1) != 0 ||
	    pipe_env_add(x, &n, "ORIGINAL_RECIPIENT", msg->orig_rcpt, 1) != 0 ||
	    pipe_env_add(x, &n, "SENDER", msg->sender != NULL ? msg->sender :
	    "", 1) != 0 ||
	    pipe_env_add(x, &n, "CLIENT_ADDRESS", env->client_address,
	    1) != 0 ||
	    pipe_env_add(x, &n, "PATH", PIPE_PATH, 0) != 0 ||
	    pipe_env_add(x, &n, "TZ", tz, 0) != 0) {
		buf_sets(why, "environment too large");
		return -1;
	}
	for (p = x->env.data, i = 0; i < n; i++, p += strlen(p) + 1)
		x->envp[i] = (char *)p;
	x->envp[n] = NULL;

	/* The words of a directly executed command, NUL-separated. */
	nwords = 0;
	for (p = command; *(p += strspn(p, " \t")) != '\0'; p += len) {
		len = strcspn(p, " \t");
		if (buf_add(&x->words, p, len) != BUF_OK ||
		    buf_addc(&x->words, '\0') != BUF_OK) {
			buf_sets(why, "out of memory");
			return -1;
		}
		nwords++;
	}
	if (nwords == 0) {
		buf_sets(why, "empty command");
		return -1;
	}
	if ((x->argv = calloc(nwords + 1, sizeof(*x->argv))) == NULL) {
		buf_sets(why, "out of memory");
		return -1;
	}
	for (p = x->words.data, i = 0; i < nwords; i++, p += strlen(p) + 1)
		x->argv[i] = (char *)p;
	return 0;
}

/* pipe_exec_free - release what pipe_prepare allocated */
static void
pipe_exec_free(struct pipe_exec *x)
{
	free(x->argv);
	x->argv = NULL;
	buf_free(&x->words);
	buf_free(&x->env);
}

/* pipe_close_from - close every descriptor from lowfd up */
static void
pipe_close_from(int lowfd)
{
	long	 max;
	int	 fd;

#ifdef SYS_close_range
	if (syscall(SYS_close_range, (unsigned int)lowfd, ~0U, 0) == 0)
		return;
#endif
	max = sysconf(_SC_OPEN_MAX);
	if (max < 0 || max > INT_MAX)
		max = 1024;
	for (fd = lowfd; fd < max; fd++)
		(void)close(fd);
}

/*
 * pipe_child_fail - in the child: say why the command could not start
 * on stderr (which the parent captures) and exit the way sh(1) would
 */
static void
pipe_child_fail(const char *what, int err)
{
	const char	*msg = strerror(err);

	(void)write_all(STDERR_FILENO, "cannot execute ", 15);
	(void)write_all(STDERR_FILENO, what, strlen(what));
	(void)write_all(STDERR_FILENO, ": ", 2);
	(void)write_all(STDERR_FILENO, msg, strlen(msg));
	(void)write_all(STDERR_FILENO, "\n", 1);
	switch (err) {
	case ENOENT:
	case ENOTDIR:
		_exit(PIPE_EXIT_NOTFOUND);
	case ENOMEM:
	case EAGAIN:
	case ENFILE:
	case EMFILE:
	case ETXTBSY:
		_exit(EX_TEMPFAIL);
	default:
		_exit(PIPE_EXIT_NOEXEC);
	}
}

/*
 * pipe_child - in the child: its own process group, default signals,
 * descriptors 0-2 only, cwd HOME or "/", then exec
 */
static void
pipe_child(const struct pipe_exec *x, const char *command,
    const char *home, int in, int out)
{
	struct sigaction	 sa;
	sigset_t		 none;
	char			 path[PATH_MAX];
	char			*sh_argv[4];
	const char		*dir, *next;
	size_t			 dlen, nlen;
	int			 sig, err, fd;

	(void)setpgid(0, 0);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	sigemptyset(&sa.sa_mask);
	for (sig = 1; sig < NSIG; sig++)
		(void)sigaction(sig, &sa, NULL);
	sigemptyset(&none);
	(void)sigprocmask(SIG_SETMASK, &none, NULL);
	if (dup2(in, STDIN_FILENO) == -1 || dup2(out, STDOUT_FILENO) == -1 ||
	    dup2(out, STDERR_FILENO) == -1)
		_exit(EX_OSERR);
	/* dup2 onto itself keeps close-on-exec */
	for (fd = STDIN_FILENO; fd <= STDERR_FILENO; fd++)
		(void)fcntl(fd, F_SETFD, 0);
	pipe_close_from(STDERR_FILENO + 1);
	if (home == NULL || *home == '\0' || chdir(home) == -1)
		(void)chdir("/");
	if (x->shell) {
		sh_argv[0] = (char *)"sh";
		sh_argv[1] = (char *)"-c";
		sh_argv[2] = (char *)command;
		sh_argv[3] = NULL;
		execve(PIPE_SHELL, sh_argv, x->envp);
		pipe_child_fail(PIPE_SHELL, errno);
	}
	if (strchr(x->argv[0], '/') != NULL) {
		execve(x->argv[0], x->argv, x->envp);
		pipe_child_fail(x->argv[0], errno);
	}
	err = ENOENT;
	nlen = strlen(x->argv[0]);
	for (dir = PIPE_PATH; *dir != '\0'; dir = next) {
		dlen = strcspn(dir, ":");
		next = dir[dlen] == ':' ? dir + dlen + 1 : dir + dlen;
		if (dlen + 1 + nlen + 1 > sizeof(path)) {
			err = ENAMETOOLONG;
			continue;
		}
		memcpy(path, dir, dlen);
		path[dlen] = '/';
		memcpy(path + dlen + 1, x->argv[0], nlen + 1);
		execve(path, x->argv, x->envp);
		if (errno != ENOENT && errno != ENOTDIR)
			err = errno;
	}
	pipe_child_fail(x->argv[0], err);
}

/* pipe_now - the monotonic clock in milliseconds */
static long long
pipe_now(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * pipe_feed - write what the command's stdin takes now: the headers,
 * then the content piece by piece; closes it at the end or on EPIPE.
 * Returns -1 when the queue file cannot be read (run->read_error).
 */
static int
pipe_feed(struct pipe_run *run, const struct dlv_msg *msg)
{
	const char	*p;
	size_t		 len, n;
	ssize_t		 w;

	while (run->in >= 0) {
		if (run->hdr_off < run->hdr.len) {
			p = run->hdr.data + run->hdr_off;
			len = run->hdr.len - run->hdr_off;
		} else {
			if (run->chunk_off == run->chunk_len) {
				if (run->msg_off >= msg->len) {
					close(run->in);
					run->in = -1;
					return 0;
				}
				n = DLV_CHUNK;
				if ((off_t)n > msg->len - run->msg_off)
					n = (size_t)(msg->len - run->msg_off);
				if (dlv_pread(msg, run->msg_off, run->chunk,
				    n) != 0) {
					run->read_error = errno;
					return -1;
				}
				run->msg_off += (off_t)n;
				run->chunk_len = n;
				run->chunk_off = 0;
			}
			p = run->chunk + run->chunk_off;
			len = run->chunk_len - run->chunk_off;
		}
		w = write(run->in, p, len);
		if (w > 0) {
			if (run->hdr_off < run->hdr.len)
				run->hdr_off += (size_t)w;
			else
				run->chunk_off += (size_t)w;
			continue;
		}
		if (w == -1 && errno == EINTR)
			continue;
		if (w == -1 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return 0;
		/* EPIPE or worse: the exit status will tell. */
		close(run->in);
		run->in = -1;
	}
	return 0;
}

/* pipe_drain - read the command's output; keep the first part */
static void
pipe_drain(struct pipe_run *run)
{
	char	 tmp[4096];
	ssize_t	 n;
	size_t	 keep;

	while (run->out >= 0) {
		n = read(run->out, tmp, sizeof(tmp));
		if (n > 0) {
			keep = sizeof(run->output) - run->output_len;
			if (keep > (size_t)n)
				keep = (size_t)n;
			memcpy(run->output + run->output_len, tmp, keep);
			run->output_len += keep;
			continue;
		}
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		close(run->out);
		run->out = -1;
	}
}

/* pipe_reap - collect the child's status, waiting or not */
static void
pipe_reap(struct pipe_run *run, int block)
{
	pid_t	 p;

	if (run->reaped)
		return;
	do
		p = waitpid(run->pid, &run->status, block ? 0 : WNOHANG);
	while (p == -1 && errno == EINTR);
	if (p == run->pid || (p == -1 && errno == ECHILD)) {
		if (p == -1)
			run->status = -1;
		run->reaped = 1;
	}
}

/*
 * pipe_kill - the time limit passed: SIGTERM to the process group,
 * SIGKILL after PIPE_KILL_GRACE seconds, then collect the child
 */
static void
pipe_kill(struct pipe_run *run)
{
	long long	 until;

	run->timed_out = 1;
	(void)kill(-run->pid, SIGTERM);
	until = pipe_now() + PIPE_KILL_GRACE * 1000LL;
	while (!run->reaped && pipe_now() < until) {
		pipe_reap(run, 0);
		if (!run->reaped)
			(void)poll(NULL, 0, PIPE_POLL_MS);
	}
	(void)kill(-run->pid, SIGKILL);
	pipe_reap(run, 1);
}

/*
 * pipe_talk - feed the command, read its output and wait for it, all
 * within time_limit seconds
 */
static void
pipe_talk(struct pipe_run *run, const struct dlv_msg *msg, long time_limit)
{
	struct pollfd	 pfd[3];
	long long	 deadline = 0, left;
	nfds_t		 n;
	int		 ms, in_i, out_i;

	if (time_limit > 0)
		deadline = pipe_now() + (long long)time_limit * 1000;
	if (pipe_feed(run, msg) != 0) {
		pipe_kill(run);
		return;
	}
	pipe_drain(run);
	for (;;) {
		if (!run->reaped)
			pipe_reap(run, 0);
		if (run->reaped && run->in >= 0) {
			close(run->in);
			run->in = -1;
		}
		if (run->reaped && run->out < 0)
			return;
		n = 0;
		in_i = out_i = -1;
		if (run->in >= 0) {
			pfd[n].fd = run->in;
			pfd[n].events = POLLOUT;
			in_i = (int)n++;
		}
		if (run->out >= 0) {
			pfd[n].fd = run->out;
			pfd[n].events = POLLIN;
			out_i = (int)n++;
		}
		ms = -1;
		if (!run->reaped) {
			if (run->pidfd >= 0) {
				pfd[n].fd = run->pidfd;
				pfd[n].events = POLLIN;
				n++;
			} else
				ms = PIPE_POLL_MS;
		}
		if (deadline != 0) {
			left = deadline - pipe_now();
			if (left <= 0) {
				pipe_kill(run);
				return;
			}
			if (ms == -1 || left < ms)
				ms = left > INT_MAX ? INT_MAX : (int)left;
		}
		if (poll(pfd, n, ms) == -1 && errno != EINTR) {
			pipe_kill(run);
			return;
		}
		if (in_i >= 0 && pfd[in_i].revents != 0 &&
		    pipe_feed(run, msg) != 0) {
			pipe_kill(run);
			return;
		}
		if (out_i >= 0 && pfd[out_i].revents != 0)
			pipe_drain(run);
	}
}

/*
 * pipe_printable - the output as one line: runs of white space and
 * line breaks become one space, other control bytes '?', ends trimmed
 */
static size_t
pipe_printable(const char *src, size_t len, char *dst, size_t dstsz)
{
	size_t		 i, o = 0;
	unsigned char	 c;
	int		 space = 0;

	for (i = 0; i < len && o + 2 < dstsz; i++) {
		c = (unsigned char)src[i];
		if (c == ' ' || c == '\t' || c == '\n' || c == '\r' ||
		    c == '\f' || c == '\v') {
			space = o > 0;
			continue;
		}
		if (space)
			dst[o++] = ' ';
		space = 0;
		dst[o++] = c < 0x20 || c == 0x7f ? '?' : (char)c;
	}
	dst[o] = '\0';
	return o;
}

/*
 * pipe_output_dsn - when the output starts with an enhanced status code
 * 4.X.Y or 5.X.Y followed by white space or the end, copy it to dsn and
 * return its length; else 0
 */
static size_t
pipe_output_dsn(const char *out, char *dsn, size_t dsnsz)
{
	size_t	 i, n, part;

	if ((out[0] != '4' && out[0] != '5') || out[1] != '.')
		return 0;
	i = 2;
	for (part = 0; part < 2; part++) {
		for (n = 0; n < 4 && out[i + n] >= '0' &&
		    out[i + n] <= '9'; n++)
			;
		if (n < 1 || n > 3)
			return 0;
		i += n;
		if (part == 0 && out[i++] != '.')
			return 0;
	}
	if (out[i] != '\0' && out[i] != ' ')
		return 0;
	if (i >= dsnsz)
		return 0;
	memcpy(dsn, out, i);
	dsn[i] = '\0';
	return i;
}

/* pipe_result - the outcome of a finished (or killed) command */
static void
pipe_result(struct pipe_run *run, const char *command, struct dlv_result *r)
{
	char			 out[PIPE_OUTPUT_MAX + 1], dsn[16];
	const char		*sep, *o;
	const struct pipe_exit	*e = NULL;
	enum dlv_status		 st;
	size_t			 i, n;
	int			 code;

	pipe_printable(run->output, run->output_len, out, sizeof(out));
	o = out;
	sep = *o != '\0' ? ". Command output: " : "";
	if (run->read_error != 0) {
		dlv_set(r, DLV_DEFER, "4.3.0", "cannot read queue file: %s",
		    strerror(run->read_error));
		return;
	}
	if (run->timed_out) {
		dlv_set(r, DLV_DEFER, "4.3.0", "Command time limit exceeded: "
		    "\"%s\"%s%s", command, sep, o);
		return;
	}
	if (run->status == -1) {
		dlv_set(r, DLV_DEFER, "4.3.0", "Command status unknown: \"%s\"",
		    command);
		return;
	}
	if (WIFSIGNALED(run->status)) {
		dlv_set(r, DLV_DEFER, "4.3.0", "Command died with signal %d: "
		    "\"%s\"%s%s", WTERMSIG(run->status), command, sep, o);
		return;
	}
	code = WEXITSTATUS(run->status);
	if (code == 0) {
		dlv_set(r, DLV_OK, "2.0.0", "delivered to command: %s",
		    command);
		return;
	}
	for (i = 0; i < nitems(pipe_exits); i++)
		if (pipe_exits[i].status == code)
			e = &pipe_exits[i];
	if (e != NULL)
		str_copy(dsn, sizeof(dsn), e->dsn);
	else
		str_copy(dsn, sizeof(dsn), "5.3.0");
	if ((n = pipe_output_dsn(o, dsn, sizeof(dsn))) > 0) {
		o += n;
		o += strspn(o, " ");
		if (*o == '\0')
			sep = "";
	}
	st = dsn[0] == '4' ? DLV_DEFER : DLV_BOUNCE;
	if (e != NULL)
		dlv_set(r, st, dsn, "%s%s%s", e->text, sep, o);
	else
		dlv_set(r, st, dsn, "Command died with status %d: \"%s\"%s%s",
		    code, command, sep, o);
}

/* pipe_deliver - deliver a message to a command (see deliver.h) */
int
pipe_deliver(const char *command, const struct dlv_msg *msg,
    const struct dlv_env *env, struct dlv_result *r)
{
	struct pipe_exec	 x;
	struct pipe_run		 run;
	struct sigaction	 ign, old_pipe;
	struct buf		 why;
	int			 in[2] = { -1, -1 }, out[2] = { -1, -1 };
	int			 save;

	memset(&run, 0, sizeof(run));
	run.pidfd = run.in = run.out = -1;
	buf_init(&run.hdr, PIPE_HDR_MAX);
	buf_init(&why, DLV_TEXT_MAX);
	if (pipe_prepare(&x, command, msg, env, &why) != 0) {
		dlv_set(r, DLV_DEFER, "4.3.0", "cannot run command \"%s\": %s",
		    command, buf_str(&why));
		goto out;
	}
	if (dlv_format_headers(&run.hdr, msg, 1, (long long)time(NULL)) != 0) {
		save = errno;
		dlv_set(r, save == EINVAL ? DLV_BOUNCE : DLV_DEFER,
		    save == EINVAL ? "5.3.0" : "4.3.0",
		    "cannot prepend headers: %s", strerror(save));
		goto out;
	}
	if ((run.chunk = malloc(DLV_CHUNK)) == NULL ||
	    pipe2(in, O_CLOEXEC) == -1 || pipe2(out, O_CLOEXEC) == -1) {
		dlv_set(r, DLV_DEFER, "4.3.0", "cannot run command \"%s\": %s",
		    command, strerror(errno));
		goto out;
	}
	memset(&ign, 0, sizeof(ign));
	ign.sa_handler = SIG_IGN;
	sigemptyset(&ign.sa_mask);
	(void)sigaction(SIGPIPE, &ign, &old_pipe);
	if ((run.pid = fork()) == -1) {
		save = errno;
		(void)sigaction(SIGPIPE, &old_pipe, NULL);
		dlv_set(r, DLV_DEFER, "4.3.0", "cannot run command \"%s\": "
		    "fork: %s", command, strerror(save));
		goto out;
	}
	if (run.pid == 0)
		pipe_child(&x, command, env->home, in[0], out[1]);
	(void)setpgid(run.pid, run.pid);
	close(in[0]);
	close(out[1]);
	in[0] = out[1] = -1;
	run.in = in[1];
	run.out = out[0];
	in[1] = out[0] = -1;
	(void)fcntl(run.in, F_SETFL, fcntl(run.in, F_GETFL) | O_NONBLOCK);
	(void)fcntl(run.out, F_SETFL, fcntl(run.out, F_GETFL) | O_NONBLOCK);
#ifdef SYS_pidfd_open
	run.pidfd = (int)syscall(SYS_pidfd_open, run.pid, 0);
#endif
	pipe_talk(&run, msg, env->time_limit);
	(void)sigaction(SIGPIPE, &old_pipe, NULL);
	pipe_result(&run, command, r);
out:
	if (run.in >= 0)
		close(run.in);
	if (run.out >= 0)
		close(run.out);
	if (run.pidfd >= 0)
		close(run.pidfd);
	if (in[0] >= 0)
		close(in[0]);
	if (in[1] >= 0)
		close(in[1]);
	if (out[0] >= 0)
		close(out[0]);
	if (out[1] >= 0)
		close(out[1]);
	free(run.chunk);
	buf_free(&run.hdr);
	buf_free(&why);
	pipe_exec_free(&x);
	return r->status == DLV_OK ? 0 : -1;
}
