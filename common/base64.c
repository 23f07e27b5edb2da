/*
 * base64.c - RFC 4648 base64 (see base64.h)
 */
#include <string.h>

#include "common/base64.h"
#include "common/buf.h"

static const char b64[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* base64_value - the 6-bit value of c, or -1 */
static int
base64_value(int c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

/* base64_encode - append the encoding of in[0..n) */
int
base64_encode(struct buf *out, const void *in, size_t n)
{
	const unsigned char	*p = in;
	char			 q[4];
	size_t			 i;
	unsigned long		 v;
	int			 rc;

	for (i = 0; i < n; i += 3) {
		v = (unsigned long)p[i] << 16;
		if (i + 1 < n)
			v |= (unsigned long)p[i + 1] << 8;
		if (i + 2 < n)
			v |= p[i + 2];
		q[0] = b64[(v >> 18) & 63];
		q[1] = b64[(v >> 12) & 63];
		q[2] = i + 1 < n ? b64[(v >> 6) & 63] : '=';
		q[3] = i + 2 < n ? b64[v & 63] : '=';
		if ((rc = buf_add(out, q, 4)) != BUF_OK)
			return rc;
	}
	return BUF_OK;
}

/* base64_decode - append the decoding of a strict base64 text */
int
base64_decode(struct buf *out, const char *in, size_t n)
{
	size_t		 i, start = out->len;
	unsigned long	 v;
	int		 a, b, c, d, rc;
	unsigned char	 o[3];

	if (n % 4 != 0)
		return -1;
	for (i = 0; i < n; i += 4) {
		a = base64_value((unsigned char)in[i]);
		b = base64_value((unsigned char)in[i + 1]);
		c = in[i + 2] == '=' ? -2 : base64_value((unsigned char)in[i + 2]);
		d = in[i + 3] == '=' ? -2 : base64_value((unsigned char)in[i + 3]);
		if (a < 0 || b < 0 || c == -1 || d == -1 ||
		    (c == -2 && d != -2) || ((c == -2 || d == -2) &&
		    i + 4 != n))
			goto bad;
		v = ((unsigned long)a << 18) | ((unsigned long)b << 12);
		if (c >= 0)
			v |= (unsigned long)c << 6;
		if (d >= 0)
			v |= (unsigned long)d;
		o[0] = (unsigned char)(v >> 16);
		o[1] = (unsigned char)(v >> 8);
		o[2] = (unsigned char)v;
		if ((rc = buf_add(out, o, c < 0 ? 1 : d < 0 ? 2 : 3)) !=
		    BUF_OK) {
			buf_truncate(out, start);
			return rc;
		}
	}
	return 0;
bad:
	buf_truncate(out, start);
	return -1;
}
