/*
 * buf - bounded, binary-safe, growable byte strings
 *
 * A struct buf carries its own length and a mandatory maximum, set when
 * it is initialised (curl's dynbuf "toobig").  Appends that would pass
 * the maximum fail with BUF_TOOBIG and leave the contents unchanged, so
 * callers can map that to "line too long" or "message too big".  The
 * data is always NUL-terminated for convenience; the length is
 * authoritative and the data may hold NUL bytes.
 *
 * Ownership: the struct is the caller's (usually on the stack); the data
 * belongs to the buf until buf_take() hands it over.  buf_reset() keeps
 * the allocation; buf_free() releases it and returns NULL.  Pointers
 * into b->data are borrowed and die with the next append.
 *
 * Growth arithmetic is overflow-checked.  Allocation failure is
 * BUF_NOMEM, never fatal: per-message paths turn it into a temporary
 * failure.
 */
#ifndef COMMON_BUF_H
#define COMMON_BUF_H

#include <stdarg.h>
#include <stddef.h>

struct buf {
	char	*data;		/* NUL-terminated; may hold NULs */
	size_t	 len;		/* bytes in use, excluding the NUL */
	size_t	 cap;		/* bytes allocated */
	size_t	 max;		/* the most len may ever be */
};

enum buf_status {
	BUF_OK = 0,
	BUF_TOOBIG = -1,	/* the append would pass max */
	BUF_NOMEM = -2,		/* allocation failed */
};

void	 buf_init(struct buf *, size_t max);
void	 buf_reset(struct buf *);
struct buf *buf_free(struct buf *);
int	 buf_add(struct buf *, const void *, size_t);
int	 buf_adds(struct buf *, const char *);
int	 buf_addc(struct buf *, int);
int	 buf_printf(struct buf *, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
int	 buf_vprintf(struct buf *, const char *, va_list)
	    __attribute__((format(printf, 2, 0)));
int	 buf_set(struct buf *, const void *, size_t);
int	 buf_sets(struct buf *, const char *);
void	 buf_truncate(struct buf *, size_t);
char	*buf_take(struct buf *);
int	 buf_pread(struct buf *, int fd, size_t n, long long off);
const char *buf_str(const struct buf *);

#endif
