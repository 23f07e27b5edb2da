/*
 * fuzz-hdr.c - libFuzzer target for common/hdr
 *
 * The input is split at LF and each line is pushed from its own
 * allocation, freed right after its events are drained, so ASan sees a
 * parser that keeps a caller's line.  Each input runs twice: with a
 * field_max of 256 and with a tiny one taken from the input size.
 * Checked: events come as FIELD* END BODY*, raw ends in "\n" and holds
 * no empty line, rawlen <= field_max, the name and value agree with
 * raw, a body line is the line just pushed, and, when nothing was
 * truncated, the events give back the input.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/hdr.h"

#define FUZZ_FIELD_MAX	256
#define FUZZ_TINY_MOD	97

enum fuzz_phase {
	FUZZ_HEAD,		/* FIELD events may come */
	FUZZ_BODY,		/* after END */
};

struct fuzz {
	size_t		 field_max;
	enum fuzz_phase	 phase;
	int		 truncated;	/* some field was cut */
	struct buf	 back;		/* the input as the events give it */
	struct buf	 tmp;
};

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void	fuzz_field(struct fuzz *, const struct hdr_event *);
static void	fuzz_drain(struct fuzz *, struct hdr_parser *, const char *,
		    size_t);
static void	fuzz_run(const uint8_t *, size_t, size_t);

#define FUZZ_CHECK(x)	do { if (!(x)) abort(); } while (0)

/* fuzz_field - check one HDR_FIELD against its own raw text */
static void
fuzz_field(struct fuzz *f, const struct hdr_event *ev)
{
	const unsigned char	*r = (const unsigned char *)ev->raw;
	size_t			 i;

	FUZZ_CHECK(ev->rawlen > 0 && ev->rawlen <= f->field_max);
	FUZZ_CHECK(r[ev->rawlen - 1] == '\n');
	FUZZ_CHECK(r[0] != '\n' && memmem(r, ev->rawlen, "\n\n", 2) == NULL);
	FUZZ_CHECK(ev->valuelen <= ev->rawlen);
	FUZZ_CHECK(ev->name == ev->raw && ev->namelen > 0);
	FUZZ_CHECK(ev->value != NULL);
	for (i = 0; i < ev->namelen; i++)
		FUZZ_CHECK(r[i] > ' ' && r[i] <= '~' && r[i] != ':');
	for (; r[i] == ' ' || r[i] == '\t'; i++)
		;
	FUZZ_CHECK(r[i] == ':');

	/* hdr_name_is matches the name in any case, and nothing longer */
	buf_reset(&f->tmp);
	for (i = 0; i < ev->namelen; i++)
		FUZZ_CHECK(buf_addc(&f->tmp, r[i] ^ (((r[i] | 0x20) >= 'a' &&
		    (r[i] | 0x20) <= 'z') ? 0x20 : 0)) == BUF_OK);
	FUZZ_CHECK(hdr_name_is(ev, f->tmp.data));
	FUZZ_CHECK(buf_addc(&f->tmp, 'x') == BUF_OK);
	FUZZ_CHECK(!hdr_name_is(ev, f->tmp.data));
	for (i = ev->namelen; r[i] != ':'; i++)
		;

	/* the value is raw after the colon, unfolded, leading WSP gone */
	buf_reset(&f->tmp);
	for (i++; i < ev->rawlen; i++) {
		if (r[i] == '\n')
			continue;
		if (f->tmp.len == 0 && (r[i] == ' ' || r[i] == '\t'))
			continue;
		FUZZ_CHECK(buf_addc(&f->tmp, r[i]) == BUF_OK);
	}
	FUZZ_CHECK(f->tmp.len == ev->valuelen);
	FUZZ_CHECK(memcmp(f->tmp.data != NULL ? f->tmp.data : "", ev->value,
	    ev->valuelen) == 0);

	if (ev->truncated)
		f->truncated = 1;
	FUZZ_CHECK(buf_add(&f->back, ev->raw, ev->rawlen) == BUF_OK);
}

/* fuzz_drain - take every event now available; line was just pushed */
static void
fuzz_drain(struct fuzz *f, struct hdr_parser *p, const char *line,
    size_t len)
{
	struct hdr_event	 ev;
	int			 body = 0;

	while (hdr_next(p, &ev) != HDR_NONE) {
		switch (ev.type) {
		case HDR_FIELD:
			FUZZ_CHECK(f->phase == FUZZ_HEAD);
			fuzz_field(f, &ev);
			break;
		case HDR_END:
			FUZZ_CHECK(f->phase == FUZZ_HEAD);
			f->phase = FUZZ_BODY;
			FUZZ_CHECK(ev.implicit == (line == NULL || len > 0));
			if (!ev.implicit)
				FUZZ_CHECK(buf_addc(&f->back, '\n') ==
				    BUF_OK);
			break;
		case HDR_BODY:
			FUZZ_CHECK(f->phase == FUZZ_BODY && !body);
			FUZZ_CHECK(line != NULL && ev.line == line &&
			    ev.linelen == len);
			body = 1;
			FUZZ_CHECK(buf_add(&f->back, ev.line, ev.linelen) ==
			    BUF_OK && buf_addc(&f->back, '\n') == BUF_OK);
			break;
		case HDR_NONE:
			FUZZ_CHECK(0);
			break;
		}
	}
	FUZZ_CHECK(ev.type == HDR_NONE);
}

/* fuzz_run - parse data once with this field_max */
static void
fuzz_run(const uint8_t *data, size_t size, size_t field_max)
{
	struct fuzz		 f;
	struct hdr_parser	*p;
	struct hdr_event	 ev;
	const uint8_t		*nl;
	char			*line;
	size_t			 n, off;

	memset(&f, 0, sizeof(f));
	f.field_max = field_max;
	f.phase = FUZZ_HEAD;
	buf_init(&f.back, 2 * size + 2);
	buf_init(&f.tmp, size + 1);
	if ((p = hdr_new(field_max)) == NULL)
		abort();
	for (off = 0; off < size; off += n + (nl != NULL)) {
		nl = memchr(data + off, '\n', size - off);
		n = nl != NULL ? (size_t)(nl - (data + off)) : size - off;
		if ((line = malloc(n ? n : 1)) == NULL)
			abort();
		memcpy(line, data + off, n);
		FUZZ_CHECK(hdr_push(p, line, n) == 0);
		fuzz_drain(&f, p, line, n);
		free(line);
	}
	hdr_eof(p);
	fuzz_drain(&f, p, NULL, 0);
	FUZZ_CHECK(f.phase == FUZZ_BODY);
	FUZZ_CHECK(hdr_next(p, &ev) == HDR_NONE);
	hdr_eof(p);
	FUZZ_CHECK(hdr_next(p, &ev) == HDR_NONE);
	hdr_free(p);

	/* nothing cut: the events are the input, every line LF-ended */
	if (!f.truncated) {
		FUZZ_CHECK(f.back.len == size + (size > 0 &&
		    data[size - 1] != '\n'));
		FUZZ_CHECK(size == 0 || memcmp(f.back.data, data, size) == 0);
		FUZZ_CHECK(f.back.len == size || f.back.data[size] == '\n');
	}
	buf_free(&f.back);
	buf_free(&f.tmp);
}

/* LLVMFuzzerTestOneInput - one input, two limits */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_run(data, size, FUZZ_FIELD_MAX);
	fuzz_run(data, size, size % FUZZ_TINY_MOD);
	return 0;
}
