/*
 * log.c - diagnostics and the mail log (see log.h)
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"

#define LOG_LINE_MAX	4096

static const char *log_prog = "correo";
static const char *log_service = "correo";
static char	 log_syslog_name[64] = "correo";
static char	 log_ident[128];
static int	 log_file_fd = -1;
static int	 log_to_stderr = 1;
static int	 log_verbosity;
static int	 log_syslog_open;
static void	(*log_cleanup)(void);
static int	 log_in_fatal;

static void	 log_emit(const char *, int, const char *, const char *,
		    va_list, int) __attribute__((format(printf, 4, 0)));

/* log_init - name the program (stderr) and its default service */
void
log_init(const char *progname, const char *service)
{
	const char	*p;

	if ((p = strrchr(progname, '/')) != NULL)
		progname = p + 1;
	log_prog = progname;
	log_service = service;
}

/* log_open - where the mail log goes, after the configuration is read */
int
log_open(const char *syslog_name, const char *maillog_file)
{
	if (syslog_name != NULL && *syslog_name != '\0')
		snprintf(log_syslog_name, sizeof(log_syslog_name), "%s",
		    syslog_name);
	if (log_file_fd >= 0) {
		close(log_file_fd);
		log_file_fd = -1;
	}
	if (maillog_file != NULL && *maillog_file != '\0') {
		log_file_fd = open(maillog_file,
		    O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY,
		    0640);
		if (log_file_fd < 0)
			return -1;
	}
	return 0;
}

/* log_stderr - whether warnings also go to stderr */
void
log_stderr(int on)
{
	log_to_stderr = on;
}

/* log_verbose - -v levels: 1 traces to stderr, 2 more */
void
log_verbose(int level)
{
	log_verbosity = level;
}

int
log_level(void)
{
	return log_verbosity;
}

/* log_on_fatal - the cleanup hook run by fatal() */
void
log_on_fatal(void (*fn)(void))
{
	log_cleanup = fn;
}

const char *
log_progname(void)
{
	return log_prog;
}

/*
 * log_name_for - the syslog name a service's lines carry: syslog_name
 * for the program's own service; for the others a program logs for
 * (smtpd-lite's cleanup and qmgr lines), syslog_name without its last
 * "/part", so that a submission service's "correo/submission" gives
 * correo/submission/smtpd but correo/cleanup, as Postfix's daemons do
 */
static const char *
log_name_for(const char *service, char *buf, size_t size)
{
	const char	*slash = strrchr(log_syslog_name, '/');
	size_t		 n;

	if (slash == NULL || strcmp(service, log_service) == 0)
		return log_syslog_name;
	n = (size_t)(slash - log_syslog_name);
	if (n == 0 || n >= size)
		return log_syslog_name;
	memcpy(buf, log_syslog_name, n);
	buf[n] = '\0';
	return buf;
}

/* log_write_mail - one line to syslog or to maillog_file */
static void
log_write_mail(const char *service, int prio, const char *line)
{
	char		 out[LOG_LINE_MAX + 256], stamp[32], host[256];
	char		 namebuf[sizeof(log_syslog_name)];
	const char	*name;
	struct tm	 tm;
	time_t		 now;
	int		 n;

	if (service == NULL)
		service = log_service;
	name = log_name_for(service, namebuf, sizeof(namebuf));
	if (log_file_fd >= 0) {
		now = time(NULL);
		localtime_r(&now, &tm);
		strftime(stamp, sizeof(stamp), "%b %e %H:%M:%S", &tm);
		if (gethostname(host, sizeof(host)) != 0)
			snprintf(host, sizeof(host), "localhost");
		host[sizeof(host) - 1] = '\0';
		n = snprintf(out, sizeof(out), "%s %s %s/%s[%ld]: %s\n",
		    stamp, host, name, service, (long)getpid(),
		    line);
		if (n < 0)
			return;
		if ((size_t)n >= sizeof(out)) {
			n = sizeof(out) - 1;
			out[n - 1] = '\n';
		}
		(void)write(log_file_fd, out, (size_t)n);
		return;
	}
	n = snprintf(log_ident, sizeof(log_ident), "%s/%s", name, service);
	if (n < 0 || (size_t)n >= sizeof(log_ident))
		snprintf(log_ident, sizeof(log_ident), "correo");
	/* openlog() keeps the pointer; the ident changes with the service. */
	if (log_syslog_open)
		closelog();
	openlog(log_ident, LOG_PID | LOG_NDELAY, LOG_MAIL);
	log_syslog_open = 1;
	syslog(prio, "%s", line);
}

/*
 * log_emit - format once, send to the mail log and, for warnings and
 * worse (or when verbose), to stderr.
 */
static void
log_emit(const char *service, int prio, const char *tag, const char *fmt,
    va_list ap, int with_errno)
{
	char	 msg[LOG_LINE_MAX], line[LOG_LINE_MAX + 64];
	int	 saved = errno, n;

	n = vsnprintf(msg, sizeof(msg), fmt, ap);
	if (n < 0)
		snprintf(msg, sizeof(msg), "(unformattable message)");
	if (with_errno) {
		size_t	 len = strlen(msg);

		snprintf(msg + len, sizeof(msg) - len, ": %s",
		    strerror(saved));
	}
	snprintf(line, sizeof(line), "%s%s", tag, msg);
	if (prio != LOG_DEBUG || log_verbosity > 0)
		log_write_mail(service, prio, line);
	if ((prio <= LOG_WARNING && log_to_stderr) ||
	    (prio >= LOG_INFO && log_verbosity > 0))
		fprintf(stderr, "%s: %s\n", log_prog, line);
	errno = saved;
}

void
log_mail(const char *service, const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	log_emit(service, LOG_INFO, "", fmt, ap, 0);
	va_end(ap);
}

void
log_info(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	log_emit(NULL, LOG_INFO, "", fmt, ap, 0);
	va_end(ap);
}

void
log_debug(const char *fmt, ...)
{
	va_list	 ap;

	if (log_verbosity == 0)
		return;
	va_start(ap, fmt);
	log_emit(NULL, LOG_DEBUG, "", fmt, ap, 0);
	va_end(ap);
}

void
log_warn(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	log_emit(NULL, LOG_WARNING, "warning: ", fmt, ap, 1);
	va_end(ap);
}

void
log_warnx(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	log_emit(NULL, LOG_WARNING, "warning: ", fmt, ap, 0);
	va_end(ap);
}

void
log_error(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	log_emit(NULL, LOG_ERR, "error: ", fmt, ap, 0);
	va_end(ap);
}

/* log_fatal_exit - the shared tail of fatal() and fatalx() */
static void __attribute__((noreturn))
log_fatal_exit(int status)
{
	if (!log_in_fatal && log_cleanup != NULL) {
		log_in_fatal = 1;
		log_cleanup();
	}
	exit(status);
}

void
fatal(int status, const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	log_emit(NULL, LOG_CRIT, "fatal: ", fmt, ap, 1);
	va_end(ap);
	log_fatal_exit(status);
}

void
fatalx(int status, const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	log_emit(NULL, LOG_CRIT, "fatal: ", fmt, ap, 0);
	va_end(ap);
	log_fatal_exit(status);
}

void
panic(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	log_emit(NULL, LOG_CRIT, "panic: ", fmt, ap, 0);
	va_end(ap);
	abort();
}

/*
 * log_safe - copy untrusted text for a log line: printable ASCII and
 * UTF-8 bytes pass, everything else becomes \ooo; the output is cut
 * (with "...") rather than overflowing dst.  Returns dst.
 */
const char *
log_safe(char *dst, size_t dstsz, const char *src, size_t len)
{
	static const char	 ell[] = "...";
	size_t			 i, o = 0;

	if (dstsz < sizeof(ell) + 5)
		panic("log_safe: buffer too small");
	for (i = 0; i < len; i++) {
		unsigned char	 c = (unsigned char)src[i];

		if (o + 5 + sizeof(ell) > dstsz) {
			memcpy(dst + o, ell, sizeof(ell));
			return dst;
		}
		if ((c >= 0x20 && c < 0x7f && c != '\\') || c >= 0x80)
			dst[o++] = (char)c;
		else if (c == '\\') {
			dst[o++] = '\\';
			dst[o++] = '\\';
		} else
			o += (size_t)snprintf(dst + o, dstsz - o, "\\%03o", c);
	}
	dst[o] = '\0';
	return dst;
}
