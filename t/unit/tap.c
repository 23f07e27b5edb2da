/*
 * tap.c - TAP output for the C unit tests (see tap.h)
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "t/unit/tap.h"

static int	 tap_count;
static int	 tap_failed;
static int	 tap_checks;
static int	 tap_bad;
static int	 tap_skipped;

void
tap_diag(const char *fmt, ...)
{
	va_list	 ap;

	fputs("# ", stdout);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	fputc('\n', stdout);
}

void
tap_run_(void (*fn)(void), const char *fmt, ...)
{
	va_list	 ap;

	tap_checks = 0;
	tap_bad = 0;
	tap_skipped = 0;
	fflush(stdout);
	fn();
	tap_count++;
	if (tap_skipped) {
		printf("ok %d # SKIP ", tap_count);
	} else if (tap_bad || tap_checks == 0) {
		if (tap_checks == 0 && !tap_bad)
			tap_diag("test has no checks");
		printf("not ok %d - ", tap_count);
		tap_failed++;
	} else
		printf("ok %d - ", tap_count);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	fputc('\n', stdout);
	fflush(stdout);
}

void
tap_skip(const char *fmt, ...)
{
	va_list	 ap;

	tap_skipped = 1;
	fputs("# skip: ", stdout);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	fputc('\n', stdout);
}

int
tap_check_(int ok, const char *expr, const char *file, int line)
{
	tap_checks++;
	if (!ok) {
		tap_bad++;
		tap_diag("check \"%s\" failed at %s:%d", expr, file, line);
	}
	return ok;
}

int
tap_check_int_(int ok, const char *expr, long long a, long long b,
    const char *file, int line)
{
	if (!tap_check_(ok, expr, file, line))
		tap_diag("   left: %lld\n#  right: %lld", a, b);
	return ok;
}

int
tap_check_str_(const char *a, const char *b, const char *ea, const char *eb,
    const char *file, int line)
{
	int	 ok;

	ok = (a == NULL && b == NULL) ||
	    (a != NULL && b != NULL && strcmp(a, b) == 0);
	tap_checks++;
	if (!ok) {
		tap_bad++;
		tap_diag("check_str(%s, %s) failed at %s:%d", ea, eb, file,
		    line);
		tap_diag("   left: \"%s\"", a ? a : "(null)");
		tap_diag("  right: \"%s\"", b ? b : "(null)");
	}
	return ok;
}

int
tap_check_mem_(const void *a, size_t alen, const void *b, size_t blen,
    const char *file, int line)
{
	int	 ok = alen == blen && memcmp(a, b, alen) == 0;

	tap_checks++;
	if (!ok) {
		tap_bad++;
		tap_diag("check_mem failed at %s:%d (lengths %zu, %zu)", file,
		    line, alen, blen);
	}
	return ok;
}

int
test_done(void)
{
	printf("1..%d\n", tap_count);
	if (tap_count == 0) {
		tap_diag("no tests run");
		return 1;
	}
	return tap_failed ? 1 : 0;
}
