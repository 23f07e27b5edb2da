/*
 * fuzz-smtpio.c - libFuzzer target for common/smtpio's reply parser,
 * EHLO extension parser, result texts and body encoder
 *
 * Replies: the input is split at LF (one CR before it dropped) and the
 * lines go to smtpio_reply_parse() until it fails or the reply is
 * done.  Checked: a finished reply has a code of 200-559, its text no
 * control byte but the '\n' between lines (nlines - 1 of them), an
 * enhanced status code of its own class or none; nothing is accepted
 * after the last line.  Then smtpio_parse_ext() on it: known flags
 * only, a SIZE of 0 or more; and the result helpers: a class of 2, 4
 * or 5 with a code of that class, a text.
 *
 * The body: the input goes through smtpio_body_encode() in pieces and
 * with output room both taken from the input, with a line limit taken
 * from the input too (none half of the time), then smtpio_body_finish().
 * Checked against the line-by-line reference encoder of
 * t/unit/smtpio-ref.h, and: every LF on the wire follows a CR, no line
 * of the wire is "." before the last one (no early end of data), and
 * no line is longer than the limit (a doubled dot not counted).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/smtpio.h"
#include "t/unit/smtpio-ref.h"

#define FUZZ_OUT_MAX	64
#define FUZZ_EXT_ALL	((SMTPIO_EXT_CHUNKING << 1) - 1)

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void	fuzz_reply(const char *, size_t);
static void	fuzz_body(const char *, size_t);
static void	fuzz_ext(const struct smtpio_reply *);

/* fuzz_ext - the extension parser and the result helpers on a reply */
static void
fuzz_ext(const struct smtpio_reply *r)
{
	struct smtpio_ext	 ext;
	struct buf		 text;
	char			 dsn[SMTPIO_DSN_MAX];
	int			 cls;

	smtpio_parse_ext(r, &ext);
	if ((ext.flags & ~FUZZ_EXT_ALL) != 0 || ext.size < 0)
		abort();
	if (ext.size > 0 && !(ext.flags & SMTPIO_EXT_SIZE))
		abort();
	buf_init(&text, SMTPIO_REPLY_MAX + 1024);
	cls = smtpio_reply_result(r, "mx.example", "RCPT TO command", &text,
	    dsn, sizeof(dsn));
	if ((cls != 2 && cls != 4 && cls != 5) || dsn[0] != '0' + cls ||
	    text.len == 0)
		abort();
	if (smtpio_reply_defer_dsn(r)[0] != '4')
		abort();
	buf_free(&text);
}

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
		fuzz_ext(&r);
	}
	smtpio_reply_free(&r);
}

/* fuzz_body - encode in pieces, compare, check the wire's invariants */
static void
fuzz_body(const char *in, size_t len)
{
	struct smtpio_body	 b;
	struct buf		 wire, ref;
	char			 out[FUZZ_OUT_MAX], end[SMTPIO_BODY_END_MAX];
	size_t			 off = 0, used, n, room, piece, i, start;
	unsigned int		 seed = len > 0 ? (unsigned char)in[0] : 0;
	int			 limit = 0;

	if (len > 1 && ((unsigned char)in[1] & 1))
		limit = 1 + (unsigned char)in[1] % 40;
	buf_init(&wire, 8 * len + 16);
	buf_init(&ref, 8 * len + 16);
	smtpio_body_init(&b);
	smtpio_body_set_limit(&b, limit);
	while (off < len) {
		seed = seed * 1103515245u + 12345u;
		piece = 1 + (seed >> 8) % 97;
		room = SMTPIO_BODY_STEP + (seed >> 16) %
		    (FUZZ_OUT_MAX - SMTPIO_BODY_STEP + 1);
		if (piece > len - off)
			piece = len - off;
		n = smtpio_body_encode(&b, in + off, piece, out, room, &used);
		/* room for SMTPIO_BODY_STEP bytes always makes progress */
		if (used == 0 || used > piece || n > room)
			abort();
		buf_add(&wire, out, n);
		off += used;
	}
	n = smtpio_body_finish(&b, end);
	buf_add(&wire, end, n);
	ref_body_encode(in, len, (size_t)limit, &ref);
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
	/* every line within the limit, a doubled dot not counted */
	for (start = 0, i = 0; limit > 0 && i + 1 < wire.len; i++) {
		if (wire.data[i] != '\r' || wire.data[i + 1] != '\n')
			continue;
		n = i - start;
		if (n > 0 && wire.data[start] == '.')
			n--;
		if (n > (size_t)(limit < SMTPIO_LINE_LIMIT_MIN ?
		    SMTPIO_LINE_LIMIT_MIN : limit))
			abort();
		start = i + 2;
	}
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
