/*
 * fuzz-smtpio.c - libFuzzer target for common/smtpio's reply parser and
 * body encoder
 *
 * Replies: the input is split at LF (one CR before it dropped) and the
 * lines go to smtpio_reply_parse() until it fails or the reply is
 * done.  Checked: a finished reply has a code of 200-559, its text no
 * control byte but the '\n' between lines (nlines - 1 of them), an
 * enhanced status code of its own class or none; nothing is accepted
 * after the last line.
 *
 * The body: the input goes through smtpio_body_encode() in pieces and
 * with output room both taken from the input, then the end is added as
 * smtpio_body_end() does.  Checked against a byte-by-byte reference
 * encoder, and: every LF on the wire follows a CR, and no line of the
 * wire is "." before the last one (no early end of data).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/smtpio.h"

#define FUZZ_OUT_MAX	64

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void	fuzz_reply(const char *, size_t);
static void	fuzz_body(const char *, size_t);
static void	fuzz_reference(const char *, size_t, struct buf *);

/* fuzz_reply - parse the input as reply lines */
static void
fuzz_reply(const char *in, size_t len)
{
	struct smtpio_reply	 r;
	const char		*p = in, *nl;
	size_t			 n, i, nls;
	int			 rc = SMTPIO_OK;

	smtpio_reply_init(&r);
	while (p < in + len && !r.done) {
		nl = memchr(p, '\n', (size_t)(in + len - p));
		n = nl != NULL ? (size_t)(nl - p) : (size_t)(in + len - p);
		if (n > 0 && p[n - 1] == '\r')
			n--;
		if ((rc = smtpio_reply_parse(&r, p, n)) != SMTPIO_OK)
			break;
		p = nl != NULL ? nl + 1 : in + len;
	}
	if (rc == SMTPIO_OK && r.done) {
		if (r.code < 200 || r.code > 559)
			abort();
		if (r.dsn[0] != '\0' && r.dsn[0] != '0' + r.code / 100)
			abort();
		for (i = 0, nls = 0; i < r.text.len; i++) {
			unsigned char	 c = (unsigned char)r.text.data[i];

			if (c == '\n')
				nls++;
			else if (c < 0x20 || c == 0x7f)
				abort();
		}
		if (nls + 1 != r.nlines)
			abort();
		if (smtpio_reply_parse(&r, "250 x", 5) != SMTPIO_SYNTAX)
			abort();
	}
	smtpio_reply_free(&r);
}

/* fuzz_reference - the wire form, one byte at a time with look-behind */
static void
fuzz_reference(const char *in, size_t len, struct buf *out)
{
	size_t	 i;

	for (i = 0; i < len; i++) {
		if (in[i] == '\n') {
			if (i == 0 || in[i - 1] != '\r')
				buf_addc(out, '\r');
			buf_addc(out, '\n');
			continue;
		}
		if (in[i] == '.' && (i == 0 || in[i - 1] == '\n'))
			buf_addc(out, '.');
		buf_addc(out, in[i]);
	}
	if (len > 0 && in[len - 1] != '\n')
		buf_adds(out, in[len - 1] == '\r' ? "\n" : "\r\n");
	buf_adds(out, ".\r\n");
}

/* fuzz_body - encode in pieces, compare, check the wire's invariants */
static void
fuzz_body(const char *in, size_t len)
{
	struct smtpio_body	 b;
	struct buf		 wire, ref;
	char			 out[FUZZ_OUT_MAX];
	size_t			 off = 0, used, n, room, piece, i;
	unsigned int		 seed = len > 0 ? (unsigned char)in[0] : 0;

	buf_init(&wire, 4 * len + 16);
	buf_init(&ref, 4 * len + 16);
	smtpio_body_init(&b);
	while (off < len) {
		seed = seed * 1103515245u + 12345u;
		piece = 1 + (seed >> 8) % 97;
		room = 2 + (seed >> 16) % (FUZZ_OUT_MAX - 1);
		if (piece > len - off)
			piece = len - off;
		n = smtpio_body_encode(&b, in + off, piece, out, room, &used);
		if (n == 0 || used == 0 || used > piece || n > room)
			abort();
		buf_add(&wire, out, n);
		off += used;
	}
	if (!b.bol)
		buf_adds(&wire, b.cr ? "\n" : "\r\n");
	buf_adds(&wire, ".\r\n");
	fuzz_reference(in, len, &ref);
	if (wire.len != ref.len || memcmp(wire.data, ref.data, wire.len) != 0)
		abort();
	for (i = 0; i < wire.len; i++)
		if (wire.data[i] == '\n' &&
		    (i == 0 || wire.data[i - 1] != '\r'))
			abort();
	/* "." alone on a line only at the very end */
	if (wire.len > 3 && memcmp(wire.data, ".\r\n", 3) == 0)
		abort();
	for (i = 0; i + 5 <= wire.len - 3; i++)
		if (memcmp(wire.data + i, "\r\n.\r\n", 5) == 0)
			abort();
	buf_free(&wire);
	buf_free(&ref);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_reply((const char *)data, size);
	fuzz_body((const char *)data, size);
	return 0;
}
