/*
 * util.c - small helpers (see util.h)
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sysexits.h>
#include <unistd.h>

#include "common/log.h"
#include "common/util.h"

void *
xmalloc(size_t n)
{
	void	*p;

	if ((p = malloc(n ? n : 1)) == NULL)
		fatal(EX_OSERR, "xmalloc");
	return p;
}

void *
xcalloc(size_t n, size_t m)
{
	void	*p;

	if ((p = calloc(n ? n : 1, m ? m : 1)) == NULL)
		fatal(EX_OSERR, "xcalloc");
	return p;
}

void *
xreallocarray(void *old, size_t n, size_t m)
{
	size_t	 sz;
	void	*p;

	if (__builtin_mul_overflow(n, m, &sz))
		fatalx(EX_OSERR, "xreallocarray: size overflow");
	if ((p = realloc(old, sz ? sz : 1)) == NULL)
		fatal(EX_OSERR, "xreallocarray");
	return p;
}

char *
xstrdup(const char *s)
{
	char	*p;

	if ((p = strdup(s)) == NULL)
		fatal(EX_OSERR, "xstrdup");
	return p;
}

char *
xstrndup(const char *s, size_t n)
{
	char	*p;

	if ((p = strndup(s, n)) == NULL)
		fatal(EX_OSERR, "xstrndup");
	return p;
}

char *
xasprintf(const char *fmt, ...)
{
	va_list	 ap;
	char	*p;
	int	 n;

	va_start(ap, fmt);
	n = vasprintf(&p, fmt, ap);
	va_end(ap);
	if (n < 0)
		fatal(EX_OSERR, "xasprintf");
	return p;
}

/* bsnprintf - snprintf that fails (-1) on error and on truncation */
int
bsnprintf(char *dst, size_t sz, const char *fmt, ...)
{
	va_list	 ap;
	int	 n;

	va_start(ap, fmt);
	n = vsnprintf(dst, sz, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sz) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}

/* str_copy - strlcpy that fails (-1) on truncation */
int
str_copy(char *dst, size_t sz, const char *src)
{
	size_t	 n = strlen(src);

	if (sz == 0 || n >= sz) {
		if (sz > 0)
			dst[0] = '\0';
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(dst, src, n + 1);
	return 0;
}

/*
 * num_parse - a decimal integer within [min, max]; on failure *why says
 * "invalid", "too small" or "too large".
 */
int
num_parse(const char *s, long long min, long long max, long long *out,
    const char **why)
{
	const char	*p = s;
	long long	 v = 0;
	int		 neg = 0, d;

	if (*p == '-' || *p == '+')
		neg = *p++ == '-';
	if (*p < '0' || *p > '9') {
		*why = "invalid";
		return -1;
	}
	for (; *p >= '0' && *p <= '9'; p++) {
		d = *p - '0';
		if (__builtin_mul_overflow(v, 10, &v) ||
		    __builtin_add_overflow(v, neg ? -d : d, &v)) {
			*why = neg ? "too small" : "too large";
			return -1;
		}
	}
	if (*p != '\0') {
		*why = "invalid";
		return -1;
	}
	if (v < min) {
		*why = "too small";
		return -1;
	}
	if (v > max) {
		*why = "too large";
		return -1;
	}
	*out = v;
	return 0;
}

/* str_lower - ASCII lower case in place (never locale-dependent) */
void
str_lower(char *s)
{
	for (; *s; s++)
		if (*s >= 'A' && *s <= 'Z')
			*s = (char)(*s - 'A' + 'a');
}

/* str_upper - ASCII upper case in place */
void
str_upper(char *s)
{
	for (; *s; s++)
		if (*s >= 'a' && *s <= 'z')
			*s = (char)(*s - 'a' + 'A');
}

/* str_casecmp_ascii - strcasecmp for ASCII only */
int
str_casecmp_ascii(const char *a, const char *b)
{
	int	 ca, cb;

	do {
		ca = (unsigned char)*a++;
		cb = (unsigned char)*b++;
		if (ca >= 'A' && ca <= 'Z')
			ca += 'a' - 'A';
		if (cb >= 'A' && cb <= 'Z')
			cb += 'a' - 'A';
	} while (ca == cb && ca != 0);
	return ca - cb;
}

/* str_has_8bit - whether s (NULL: no) holds a byte >= 0x80 */
int
str_has_8bit(const char *s)
{
	for (; s != NULL && *s != '\0'; s++)
		if ((unsigned char)*s >= 0x80)
			return 1;
	return 0;
}

/* str_has_ctl - whether s holds CR, LF, NUL or another C0/DEL byte */
int
str_has_ctl(const char *s, size_t n)
{
	size_t	 i;

	for (i = 0; i < n; i++) {
		unsigned char	 c = (unsigned char)s[i];

		if ((c < 0x20 && c != '\t') || c == 0x7f)
			return 1;
	}
	return 0;
}

/* write_all - write everything or fail; retries EINTR */
ssize_t
write_all(int fd, const void *p, size_t n)
{
	const char	*s = p;
	size_t		 done = 0;
	ssize_t		 w;

	while (done < n) {
		w = write(fd, s + done, n - done);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		done += (size_t)w;
	}
	return (ssize_t)done;
}

/* read_full - read until n bytes or end of file; retries EINTR */
ssize_t
read_full(int fd, void *p, size_t n)
{
	char	*s = p;
	size_t	 done = 0;
	ssize_t	 r;

	while (done < n) {
		r = read(fd, s + done, n - done);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (r == 0)
			break;
		done += (size_t)r;
	}
	return (ssize_t)done;
}

/* now_ms - the monotonic clock in milliseconds */
long long
now_ms(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* detach - a session of its own, stdio on /dev/null, a grandchild */
void
detach(void)
{
	int	 fd;

	setsid();
	if ((fd = open("/dev/null", O_RDWR)) >= 0) {
		dup2(fd, 0);
		dup2(fd, 1);
		dup2(fd, 2);
		if (fd > 2)
			close(fd);
	}
	if (fork() != 0)
		_exit(0);
}

/* poll_until - wait for events on fd until deadline: 1, 0 timeout, -1 */
int
poll_until(int fd, short events, long long deadline)
{
	struct pollfd	 pfd;
	long long	 left;
	int		 n, ms;

	for (;;) {
		ms = -1;
		if (deadline != 0) {
			left = deadline - now_ms();
			if (left <= 0)
				return 0;
			ms = left > INT_MAX ? INT_MAX : (int)left;
		}
		pfd.fd = fd;
		pfd.events = events;
		pfd.revents = 0;
		n = poll(&pfd, 1, ms);
		if (n > 0)
			return 1;
		if (n == 0)
			return 0;
		if (errno != EINTR)
			return -1;
	}
}
