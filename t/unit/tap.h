/*
 * tap - a small TAP producer for C unit tests (in the manner of git's
 * t/unit-tests/test-lib): TEST() runs a function as one test point;
 * check(), check_int(), check_str() and check_mem() record failures
 * with file:line; a test point with no checks fails.  test_done()
 * prints the plan and returns the exit status.
 */
#ifndef T_UNIT_TAP_H
#define T_UNIT_TAP_H

#include <stddef.h>

#define TEST(fn, ...)	tap_run_(fn, __VA_ARGS__)
#define check(x)	tap_check_(!!(x), #x, __FILE__, __LINE__)
#define check_int(a, op, b) __extension__ ({			\
	long long ta_ = (long long)(a), tb_ = (long long)(b);		\
	tap_check_int_(ta_ op tb_, #a " " #op " " #b, ta_, tb_,		\
	    __FILE__, __LINE__); })
#define check_str(a, b)	tap_check_str_((a), (b), #a, #b, __FILE__, __LINE__)
#define check_mem(a, alen, b, blen) \
	tap_check_mem_((a), (alen), (b), (blen), __FILE__, __LINE__)

void	 tap_run_(void (*)(void), const char *, ...)
	    __attribute__((format(printf, 2, 3)));
int	 tap_check_(int, const char *, const char *, int);
int	 tap_check_int_(int, const char *, long long, long long,
	    const char *, int);
int	 tap_check_str_(const char *, const char *, const char *,
	    const char *, const char *, int);
int	 tap_check_mem_(const void *, size_t, const void *, size_t,
	    const char *, int);
void	 tap_skip(const char *, ...) __attribute__((format(printf, 1, 2)));
void	 tap_diag(const char *, ...) __attribute__((format(printf, 1, 2)));
int	 test_done(void);

#endif
