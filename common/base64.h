/*
 * base64 - RFC 4648 base64, for SMTP AUTH and RFC 2047 encoded words
 *
 * base64_encode appends the encoding of n bytes to out.  base64_decode
 * appends the decoding of a strict base64 text (the RFC 4648 alphabet,
 * '=' padding only at the end, no white space) and fails (-1) on
 * anything else, leaving out as it was.  Both return BUF_TOOBIG or
 * BUF_NOMEM from buf(3) when out cannot hold the result.
 */
#ifndef COMMON_BASE64_H
#define COMMON_BASE64_H

#include <stddef.h>

#include "common/buf.h"

int	 base64_encode(struct buf *out, const void *in, size_t n);
int	 base64_decode(struct buf *out, const char *in, size_t n);

#endif
