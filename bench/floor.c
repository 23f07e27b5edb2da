/*
 * floor.c - the physical floor for durable queuing, and the bench driver
 *
 * bench-floor DIR <message
 *	The floor: read the message from standard input into a new file
 *	DIR/.tmp.PID, fsync it, rename it to DIR/SEC.NSEC.PID and fsync
 *	DIR.  Nothing less can hand a message over durably; an MTA's
 *	submission program does at least this plus its own start-up.
 *
 * bench-floor -n N DIR <message
 *	The floor for a queue run: one process writes N files, each as
 *	above (DIR/.tmp.PID, fsync, rename to DIR/PID.I, fsync DIR), from
 *	the message read once into memory (at most FLOOR_MAXMSG bytes).
 *	It prints "files=N seconds=S rate=R".  A delivery agent that puts
 *	N messages into a Maildir does at least this.
 *
 * bench-floor -r N [-j J] -i FILE [-q] -- COMMAND [ARG...]
 *	The driver: run COMMAND N times by fork+exec, J at a time
 *	(default 1), each with FILE as standard input and standard output
 *	on /dev/null (standard error too with -q).  It prints one line,
 *	"runs=N seconds=S rate=R", and exits 0, or exits 1 at the first
 *	run that fails (exit status not 0, or a signal) after waiting for
 *	the runs still going.
 *
 * bench-floor -s DIR
 *	The floor for an SMTP server started per connection (inetd,
 *	systemd's Accept=yes): one session on standard input and output,
 *	a reply to each command line (no extensions offered), and each
 *	message kept as the first form does (a new file, fsync, rename,
 *	fsync DIR) before its 250.  No checks, no limits: trusted load
 *	generators only (bench/smtpd).
 *
 * Self-contained on purpose (no libcommon): the Makefile links it
 * statically when it can, so its own start-up costs next to nothing.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define FLOOR_EX_USAGE		64
#define FLOOR_SMTPBUF		8192
#define FLOOR_EX_TEMPFAIL	75
#define FLOOR_BUFSIZE		65536
#define FLOOR_MAXRUNS		10000000
#define FLOOR_MAXJOBS		64
#define FLOOR_MAXMSG		(64L * 1024 * 1024)

static int	floor_queue(const char *);
static int	floor_many(long, const char *);
static int	floor_copy(int, int);
static int	floor_write(int, const char *, size_t);
static int	floor_drive(long, long, const char *, int, char **);
static int	floor_smtp(const char *);
static int	floor_keep(int, const char *, const char *, int);
static pid_t	floor_spawn(const char *, int, char **);
static int	floor_reap(long *, pid_t *);
static long	floor_number(const char *, long);
static double	floor_now(void);
static void	floor_usage(void);

/* floor_copy - copy fd in to fd out until end of file */
static int
floor_copy(int in, int out)
{
	static char	 buf[FLOOR_BUFSIZE];
	ssize_t		 n, w, off;

	for (;;) {
		n = read(in, buf, sizeof(buf));
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			return n == 0 ? 0 : -1;
		for (off = 0; off < n; off += w) {
			w = write(out, buf + off, (size_t)(n - off));
			if (w == -1 && errno == EINTR)
				w = 0;
			else if (w <= 0)
				return -1;
		}
	}
}

/* floor_queue - write stdin to a new file in dir, durably */
static int
floor_queue(const char *dir)
{
	struct timespec	 ts;
	char		 tmp[PATH_MAX], final[PATH_MAX];
	int		 fd, dfd;

	clock_gettime(CLOCK_REALTIME, &ts);
	if (snprintf(tmp, sizeof(tmp), "%s/.tmp.%ld", dir,
	    (long)getpid()) >= (int)sizeof(tmp) ||
	    snprintf(final, sizeof(final), "%s/%lld.%09ld.%ld", dir,
	    (long long)ts.tv_sec, ts.tv_nsec, (long)getpid()) >=
	    (int)sizeof(final)) {
		fprintf(stderr, "bench-floor: %s: path too long\n", dir);
		return FLOOR_EX_USAGE;
	}
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
	    0600)) == -1) {
		perror(tmp);
		return FLOOR_EX_TEMPFAIL;
	}
	if ((dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1) {
		perror(dir);
		close(fd);
		unlink(tmp);
		return FLOOR_EX_TEMPFAIL;
	}
	if (floor_copy(0, fd) == -1 || floor_keep(fd, tmp, final, dfd) == -1) {
		perror(tmp);
		unlink(tmp);
		return FLOOR_EX_TEMPFAIL;
	}
	close(dfd);
	return 0;
}

/* floor_keep - what makes a written file durable under its final name */
static int
floor_keep(int fd, const char *tmp, const char *final, int dfd)
{
	if (fsync(fd) == -1) {
		close(fd);
		return -1;
	}
	if (close(fd) == -1 || rename(tmp, final) == -1 || fsync(dfd) == -1)
		return -1;
	return 0;
}

/* floor_write - all of buf to fd */
static int
floor_write(int fd, const char *buf, size_t len)
{
	ssize_t	 w;
	size_t	 off;

	for (off = 0; off < len; off += (size_t)w) {
		w = write(fd, buf + off, len - off);
		if (w == -1 && errno == EINTR)
			w = 0;
		else if (w <= 0)
			return -1;
	}
	return 0;
}

/*
 * floor_many - n durable files in dir from one process: write, fsync,
 * rename, fsync the directory, n times; print the rate
 */
static int
floor_many(long n, const char *dir)
{
	char		 tmp[PATH_MAX], final[PATH_MAX];
	char		*msg;
	size_t		 len;
	ssize_t		 r;
	double		 t0, t;
	long		 i;
	int		 fd, dfd;

	if ((msg = malloc(FLOOR_MAXMSG)) == NULL) {
		perror("malloc");
		return FLOOR_EX_TEMPFAIL;
	}
	for (len = 0; len < FLOOR_MAXMSG; len += (size_t)r) {
		r = read(0, msg + len, FLOOR_MAXMSG - len);
		if (r == -1 && errno == EINTR)
			r = 0;
		else if (r == -1) {
			perror("stdin");
			free(msg);
			return FLOOR_EX_TEMPFAIL;
		} else if (r == 0)
			break;
	}
	if (len == FLOOR_MAXMSG) {
		fprintf(stderr, "bench-floor: message over %ld bytes\n",
		    FLOOR_MAXMSG);
		free(msg);
		return FLOOR_EX_USAGE;
	}
	if ((dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1) {
		perror(dir);
		free(msg);
		return FLOOR_EX_TEMPFAIL;
	}
	t0 = floor_now();
	for (i = 0; i < n; i++) {
		if (snprintf(tmp, sizeof(tmp), "%s/.tmp.%ld", dir,
		    (long)getpid()) >= (int)sizeof(tmp) ||
		    snprintf(final, sizeof(final), "%s/%ld.%ld", dir,
		    (long)getpid(), i) >= (int)sizeof(final)) {
			fprintf(stderr, "bench-floor: %s: path too long\n",
			    dir);
			break;
		}
		if ((fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
		    0600)) == -1) {
			perror(tmp);
			break;
		}
		if (floor_write(fd, msg, len) == -1 ||
		    floor_keep(fd, tmp, final, dfd) == -1) {
			perror(tmp);
			unlink(tmp);
			break;
		}
	}
	t = floor_now() - t0;
	close(dfd);
	free(msg);
	if (i < n) {
		fprintf(stderr, "bench-floor: failed after %ld of %ld files\n",
		    i, n);
		return FLOOR_EX_TEMPFAIL;
	}
	printf("files=%ld seconds=%.6f rate=%.1f\n", n, t,
	    t > 0 ? (double)n / t : 0.0);
	return 0;
}

/* floor_now - a monotonic clock in seconds */
static double
floor_now(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* floor_number - a decimal in [1, max], or -1 */
static long
floor_number(const char *s, long max)
{
	char	*end;
	long	 v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < 1 || v > max)
		return -1;
	return v;
}

/* floor_spawn - start one run of argv with input from path */
static pid_t
floor_spawn(const char *path, int quiet, char **argv)
{
	pid_t	 pid;
	int	 in, null;

	if ((pid = fork()) != 0)
		return pid;
	if ((in = open(path, O_RDONLY)) == -1 ||
	    (null = open("/dev/null", O_WRONLY)) == -1 ||
	    dup2(in, 0) == -1 || dup2(null, 1) == -1 ||
	    (quiet && dup2(null, 2) == -1)) {
		perror(path);
		_exit(FLOOR_EX_TEMPFAIL);
	}
	close(in);
	close(null);
	execvp(argv[0], argv);
	perror(argv[0]);
	_exit(127);
}

/* floor_reap - wait for one run; -1 if it failed, with *bad its status */
static int
floor_reap(long *running, pid_t *bad)
{
	pid_t	 pid;
	int	 status;

	while ((pid = waitpid(-1, &status, 0)) == -1 && errno == EINTR)
		;
	if (pid == -1) {
		perror("waitpid");
		*running = 0;
		return -1;
	}
	(*running)--;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	if (WIFEXITED(status))
		fprintf(stderr, "bench-floor: run exited %d\n",
		    WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		fprintf(stderr, "bench-floor: run killed by signal %d\n",
		    WTERMSIG(status));
	*bad = pid;
	return -1;
}

/* floor_drive - run argv n times, jobs at a time; print the rate */
static int
floor_drive(long n, long jobs, const char *path, int quiet, char **argv)
{
	double	 t0, t;
	long	 started, running;
	pid_t	 pid, bad;
	int	 failed;

	failed = 0;
	bad = 0;
	running = 0;
	t0 = floor_now();
	for (started = 0; started < n && !failed; started++) {
		while (running >= jobs && !failed)
			failed = floor_reap(&running, &bad) == -1;
		if (failed)
			break;
		if ((pid = floor_spawn(path, quiet, argv)) == -1) {
			perror("fork");
			failed = 1;
			break;
		}
		running++;
	}
	while (running > 0)
		if (floor_reap(&running, &bad) == -1)
			failed = 1;
	t = floor_now() - t0;
	if (failed) {
		fprintf(stderr, "bench-floor: %s: failed after %ld of %ld "
		    "runs\n", argv[0], started, n);
		return 1;
	}
	printf("runs=%ld seconds=%.6f rate=%.1f\n", n, t,
	    t > 0 ? (double)n / t : 0.0);
	return 0;
}

/* floor_usage - say how to call us and exit */
static void
floor_usage(void)
{
	fprintf(stderr, "usage: bench-floor DIR <message\n"
	    "       bench-floor -n N DIR <message\n"
	    "       bench-floor -s DIR\n"
	    "       bench-floor -r N [-j J] -i FILE [-q] -- COMMAND "
	    "[ARG...]\n");
	exit(FLOOR_EX_USAGE);
}

int
main(int argc, char **argv)
{
	const char	*input;
	long		 runs, jobs, files;
	int		 ch, quiet, smtp;

	smtp = 0;
	runs = 0;
	files = 0;
	jobs = 1;
	quiet = 0;
	input = NULL;
	while ((ch = getopt(argc, argv, "+i:j:n:qr:s")) != -1) {
		switch (ch) {
		case 's':
			smtp = 1;
			break;
		case 'i':
			input = optarg;
			break;
		case 'j':
			if ((jobs = floor_number(optarg, FLOOR_MAXJOBS)) == -1)
				floor_usage();
			break;
		case 'n':
			if ((files = floor_number(optarg, FLOOR_MAXRUNS)) == -1)
				floor_usage();
			break;
		case 'q':
			quiet = 1;
			break;
		case 'r':
			if ((runs = floor_number(optarg, FLOOR_MAXRUNS)) == -1)
				floor_usage();
			break;
		default:
			floor_usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (smtp) {
		if (argc != 1 || runs != 0 || files != 0 || input != NULL)
			floor_usage();
		return floor_smtp(argv[0]);
	}
	if (files != 0) {
		if (argc != 1 || runs != 0 || input != NULL)
			floor_usage();
		return floor_many(files, argv[0]);
	}
	if (runs == 0) {
		if (argc != 1 || input != NULL)
			floor_usage();
		return floor_queue(argv[0]);
	}
	if (argc < 1 || input == NULL)
		floor_usage();
	return floor_drive(runs, jobs, input, quiet, argv);
}

/* floor_line - the next line of standard input, CR LF cut; NULL at EOF */
static char *
floor_line(char *buf, size_t *len, size_t *off, char *line, size_t max)
{
	char	*nl;
	size_t	 n;
	ssize_t	 r;

	for (;;) {
		if ((nl = memchr(buf + *off, '\n', *len - *off)) != NULL) {
			n = (size_t)(nl - (buf + *off));
			if (n > 0 && buf[*off + n - 1] == '\r')
				n--;
			if (n >= max)
				n = max - 1;
			memcpy(line, buf + *off, n);
			line[n] = '\0';
			*off = (size_t)(nl - buf) + 1;
			return line;
		}
		memmove(buf, buf + *off, *len - *off);
		*len -= *off;
		*off = 0;
		if (*len == FLOOR_SMTPBUF)
			*len = 0;	/* an endless line: dropped */
		if ((r = read(0, buf + *len, FLOOR_SMTPBUF - *len)) <= 0)
			return NULL;
		*len += (size_t)r;
	}
}

static int
floor_reply(const char *s)
{
	return floor_write(1, s, strlen(s));
}

static int
floor_smtp(const char *dir)
{
	static char	 buf[FLOOR_SMTPBUF], line[FLOOR_SMTPBUF];
	struct timespec	 ts;
	char		 tmp[PATH_MAX], final[PATH_MAX];
	size_t		 len = 0, off = 0, n;
	int		 fd, dfd, seq = 0;

	if (floor_reply("220 floor ESMTP\r\n") == -1)
		return FLOOR_EX_TEMPFAIL;
	while (floor_line(buf, &len, &off, line, sizeof(line)) != NULL) {
		if (strncasecmp(line, "QUIT", 4) == 0)
			return floor_reply("221 bye\r\n") == -1;
		if (strncasecmp(line, "DATA", 4) != 0) {
			if (floor_reply(strncasecmp(line, "EHLO", 4) == 0 ?
			    "250 floor\r\n" : "250 ok\r\n") == -1)
				return FLOOR_EX_TEMPFAIL;
			continue;
		}
		clock_gettime(CLOCK_REALTIME, &ts);
		if (snprintf(tmp, sizeof(tmp), "%s/.tmp.%ld", dir,
		    (long)getpid()) >= (int)sizeof(tmp) ||
		    snprintf(final, sizeof(final), "%s/%lld.%09ld.%ld.%d",
		    dir, (long long)ts.tv_sec, ts.tv_nsec, (long)getpid(),
		    seq++) >= (int)sizeof(final))
			return FLOOR_EX_USAGE;
		if ((fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
		    0600)) == -1 || floor_reply("354 go\r\n") == -1)
			return FLOOR_EX_TEMPFAIL;
		while (floor_line(buf, &len, &off, line, sizeof(line)) !=
		    NULL && strcmp(line, ".") != 0) {
			n = strlen(line);
			line[n++] = '\n';
			if (floor_write(fd, line, n) == -1)
				return FLOOR_EX_TEMPFAIL;
		}
		if ((dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) ==
		    -1 || floor_keep(fd, tmp, final, dfd) == -1 ||
		    close(dfd) == -1 || floor_reply("250 queued\r\n") == -1)
			return FLOOR_EX_TEMPFAIL;
	}
	return 0;
}
