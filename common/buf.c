/*
 * buf.c - bounded, binary-safe, growable byte strings (see buf.h)
 */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/buf.h"

static int	buf_reserve(struct buf *, size_t);

/* buf_init - an empty buffer that may grow to max bytes */
void
buf_init(struct buf *b, size_t max)
{
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
	b->max = max;
}

/* buf_reset - forget the contents, keep the allocation */
void
buf_reset(struct buf *b)
{
	b->len = 0;
	if (b->data != NULL)
		b->data[0] = '\0';
}

/* buf_free - release the data; returns NULL for "b = buf_free(b)" use */
struct buf *
buf_free(struct buf *b)
{
	if (b != NULL) {
		free(b->data);
		b->data = NULL;
		b->len = b->cap = 0;
	}
	return NULL;
}

/* buf_reserve - make room for extra more bytes plus the NUL */
static int
buf_reserve(struct buf *b, size_t extra)
{
	size_t	 need, ncap;
	char	*p;

	if (__builtin_add_overflow(b->len, extra, &need) || need > b->max ||
	    need == SIZE_MAX)
		return BUF_TOOBIG;
	if (need + 1 <= b->cap)
		return BUF_OK;
	ncap = b->cap ? b->cap : 64;
	while (ncap < need + 1) {
		if (__builtin_mul_overflow(ncap, 2, &ncap))
			return BUF_TOOBIG;
	}
	if (b->max < SIZE_MAX && ncap > b->max + 1)
		ncap = b->max + 1;
	if ((p = realloc(b->data, ncap)) == NULL)
		return BUF_NOMEM;
	b->data = p;
	b->cap = ncap;
	return BUF_OK;
}

/* buf_add - append n bytes */
int
buf_add(struct buf *b, const void *p, size_t n)
{
	int	 rc;

	if ((rc = buf_reserve(b, n)) != BUF_OK)
		return rc;
	if (n > 0)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
	return BUF_OK;
}

/* buf_adds - append a C string */
int
buf_adds(struct buf *b, const char *s)
{
	return buf_add(b, s, strlen(s));
}

/* buf_addc - append one byte */
int
buf_addc(struct buf *b, int c)
{
	unsigned char	 ch = (unsigned char)c;

	return buf_add(b, &ch, 1);
}

/* buf_set - replace the contents */
int
buf_set(struct buf *b, const void *p, size_t n)
{
	buf_reset(b);
	return buf_add(b, p, n);
}

/* buf_sets - replace the contents with a C string */
int
buf_sets(struct buf *b, const char *s)
{
	return buf_set(b, s, strlen(s));
}

/* buf_vprintf - append formatted text; truncation is impossible */
int
buf_vprintf(struct buf *b, const char *fmt, va_list ap)
{
	va_list	 aq;
	int	 n, rc;

	va_copy(aq, ap);
	n = vsnprintf(NULL, 0, fmt, aq);
	va_end(aq);
	if (n < 0)
		return BUF_NOMEM;
	if ((rc = buf_reserve(b, (size_t)n)) != BUF_OK)
		return rc;
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	b->len += (size_t)n;
	return BUF_OK;
}

/* buf_printf - append formatted text */
int
buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list	 ap;
	int	 rc;

	va_start(ap, fmt);
	rc = buf_vprintf(b, fmt, ap);
	va_end(ap);
	return rc;
}

/* buf_truncate - shorten to n bytes (no-op when already shorter) */
void
buf_truncate(struct buf *b, size_t n)
{
	if (n < b->len) {
		b->len = n;
		b->data[n] = '\0';
	}
}

/* buf_take - hand the data to the caller (never NULL unless NOMEM) */
char *
buf_take(struct buf *b)
{
	char	*p;

	if (b->data == NULL) {
		if (buf_reserve(b, 0) != BUF_OK)
			return NULL;
		b->data[0] = '\0';
	}
	p = b->data;
	b->data = NULL;
	b->len = b->cap = 0;
	return p;
}

/* buf_str - the contents as a C string ("" when empty) */
const char *
buf_str(const struct buf *b)
{
	return b->data != NULL ? b->data : "";
}

/*
 * buf_pread - append exactly n bytes read from fd at offset off;
 * -1 with errno (EIO for a short file) on failure, contents unchanged
 */
int
buf_pread(struct buf *b, int fd, size_t n, long long off)
{
	size_t	 done = 0;
	ssize_t	 r;

	if (buf_reserve(b, n) != BUF_OK) {
		errno = EFBIG;
		return -1;
	}
	while (done < n) {
		r = pread(fd, b->data + b->len + done, n - done,
		    (off_t)(off + (long long)done));
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			if (r == 0)
				errno = EIO;
			b->data[b->len] = '\0';
			return -1;
		}
		done += (size_t)r;
	}
	b->len += n;
	b->data[b->len] = '\0';
	return 0;
}
