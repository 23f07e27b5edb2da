/*
 * util - small helpers every program needs
 *
 * x*alloc: die (EX_OSERR) when memory runs out; for configuration and
 * start-up only.  Per-message paths use buf(3) and treat ENOMEM as a
 * temporary failure.
 *
 * bsnprintf and str_copy treat truncation as failure (-1), so a path or
 * an address that does not fit is an error, never a shorter string.
 *
 * num_parse is strtonum(3) with a reason: it accepts optional white
 * space-free decimal digits only, within [min, max].
 *
 * now_ms is the monotonic clock in milliseconds; poll_until waits for
 * events on fd until the deadline (now_ms() time, 0: none): 1 ready,
 * 0 timed out, -1 error (EINTR is retried).
 *
 * detach, in a forked child that is to run on its own: a session of its
 * own, standard input, output and error on /dev/null, and a second fork
 * so that whoever waits for the child is done at once (detach returns
 * in the grandchild; the child exits in it).
 */
#ifndef COMMON_UTIL_H
#define COMMON_UTIL_H

#include <stddef.h>
#include <sys/types.h>

#define nitems(a)	(sizeof(a) / sizeof((a)[0]))

void	*xmalloc(size_t);
void	*xcalloc(size_t, size_t);
void	*xreallocarray(void *, size_t, size_t);
char	*xstrdup(const char *);
char	*xstrndup(const char *, size_t);
char	*xasprintf(const char *, ...) __attribute__((format(printf, 1, 2)));

int	 bsnprintf(char *, size_t, const char *, ...)
	    __attribute__((format(printf, 3, 4)));
int	 str_copy(char *, size_t, const char *);
int	 num_parse(const char *, long long, long long, long long *,
	    const char **);
void	 str_lower(char *);
void	 str_upper(char *);
int	 str_casecmp_ascii(const char *, const char *);
int	 str_has_ctl(const char *, size_t);
int	 str_has_8bit(const char *);

long long now_ms(void);
int	 poll_until(int fd, short events, long long deadline);
ssize_t	 write_all(int, const void *, size_t);
ssize_t	 read_full(int, void *, size_t);
void	 detach(void);

#endif
