/*
 * log - diagnostics for people and the mail log for programs
 *
 * Two audiences.  The person who ran a command reads stderr, as
 * "sendmail: fatal: ...".  pflogsumm and fail2ban read the mail log:
 * syslog(3) LOG_MAIL under "$syslog_name/service[pid]: ...", or, when
 * maillog_file is set, the same line with a traditional time stamp
 * appended to that file in one write(2).
 *
 * Severities, as Postfix's msg(3): log_warn*() continue, fatal*() run
 * the cleanup hook and exit with a sysexits(3) status, panic() is a bug
 * and aborts without cleanup.  The *x variants do not append
 * strerror(errno); the others do, and every function preserves errno.
 *
 * Text that came from outside (addresses, replies, header values) goes
 * through log_safe() before it is logged, so a log line never holds a
 * control character or a line break.
 */
#ifndef COMMON_LOG_H
#define COMMON_LOG_H

#include <stddef.h>

#define LOG_SAFE_MAX	1024	/* log_safe() output, NUL included */

void	 log_init(const char *progname, const char *service);
int	 log_open(const char *syslog_name, const char *maillog_file);
void	 log_stderr(int on);
void	 log_verbose(int level);
int	 log_level(void);
void	 log_on_fatal(void (*)(void));
const char *log_progname(void);

/* The mail log (and stderr when verbose). */
void	 log_mail(const char *service, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
void	 log_info(const char *fmt, ...)
	    __attribute__((format(printf, 1, 2)));
void	 log_debug(const char *fmt, ...)
	    __attribute__((format(printf, 1, 2)));

/* Both stderr and the mail log. */
void	 log_warn(const char *fmt, ...)
	    __attribute__((format(printf, 1, 2)));
void	 log_warnx(const char *fmt, ...)
	    __attribute__((format(printf, 1, 2)));
void	 log_error(const char *fmt, ...)
	    __attribute__((format(printf, 1, 2)));
__attribute__((noreturn)) void fatal(int status, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
__attribute__((noreturn)) void fatalx(int status, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
__attribute__((noreturn)) void panic(const char *fmt, ...)
	    __attribute__((format(printf, 1, 2)));

const char *log_safe(char *dst, size_t dstsz, const char *src, size_t len);

#endif
