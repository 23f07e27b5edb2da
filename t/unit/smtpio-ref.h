/*
 * smtpio-ref.h - the reference body encoder that t-smtpio and
 * fuzz-smtpio hold smtpio_body_encode() against
 *
 * ref_body_encode() appends to out the wire form of LF content with a
 * line limit (0: none), worked out line by line rather than byte by
 * byte: a CR before the LF (or at the very end) is the line end; the
 * content octets go out with a leading '.' doubled (it does not count)
 * and CRLF SPACE before an octet that would pass the limit (the SPACE
 * counts; a limit of 1 is SMTPIO_LINE_LIMIT_MIN); each line ends in
 * CRLF, and the content in ".".  The function is static: each test
 * program has its own copy.
 */
#ifndef T_UNIT_SMTPIO_REF_H
#define T_UNIT_SMTPIO_REF_H

#include <stddef.h>

#include "common/buf.h"
#include "common/smtpio.h"

static void	 ref_body_encode(const char *, size_t, size_t, struct buf *);

/* ref_body_encode - the wire form of in with the limit, line by line */
static void
ref_body_encode(const char *in, size_t len, size_t limit, struct buf *out)
{
	size_t	 i, end, cend, k, col;

	if (limit > 0 && limit < SMTPIO_LINE_LIMIT_MIN)
		limit = SMTPIO_LINE_LIMIT_MIN;
	for (i = 0; i < len; i = end + 1) {
		for (end = i; end < len && in[end] != '\n'; end++)
			;
		cend = end;
		if (cend > i && in[cend - 1] == '\r')
			cend--;
		for (k = i, col = 0; k < cend; k++, col++) {
			if (limit > 0 && col >= limit) {
				buf_adds(out, "\r\n ");
				col = 1;
			} else if (k == i && in[k] == '.')
				buf_addc(out, '.');
			buf_addc(out, in[k]);
		}
		buf_adds(out, "\r\n");
	}
	buf_adds(out, ".\r\n");
}

#endif
