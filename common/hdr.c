/*
 * hdr.c - a streaming RFC 5322 header parser (see hdr.h)
 *
 * Two field slots: "cur" collects the field whose lines are arriving,
 * "out" holds the complete field that hdr_next() reports.  When a line
 * completes cur, the slots swap, so the line can be copied into cur at
 * once and the caller never has to keep two lines.  The pending events
 * of one push (at most a field, the end, a body line) are flags.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/hdr.h"
#include "common/log.h"

enum hdr_state {
	HDR_S_HEAD,		/* in the header section */
	HDR_S_BODY,		/* after HDR_END */
	HDR_S_EOF,		/* hdr_eof() was called */
	HDR_S_FAILED,		/* out of memory: only hdr_free() is left */
};

enum hdr_pending {
	HDR_P_FIELD = 1 << 0,	/* out holds a field to report */
	HDR_P_END = 1 << 1,	/* the end of the header section */
	HDR_P_BODY = 1 << 2,	/* the body line in p->body */
};

struct hdr_field {
	struct buf	 raw;		/* physical lines, each + "\n" */
	struct buf	 value;		/* the unfolded value */
	size_t		 namelen;	/* the name is raw.data[0..namelen) */
	int		 active;	/* holds a field */
	int		 truncated;	/* the field passed field_max */
	int		 vstarted;	/* value has its first non-WSP byte */
};

struct hdr_parser {
	size_t		 field_max;
	enum hdr_state	 state;
	struct hdr_field cur;		/* the field being collected */
	struct hdr_field out;		/* the complete field to report */
	unsigned int	 pending;	/* enum hdr_pending flags */
	int		 implicit;	/* for the pending HDR_END */
	const char	*body;		/* the pending HDR_BODY line, which */
	size_t		 bodylen;	/* is the caller's own */
};

/* A field larger than this is clamped, so buf arithmetic has room. */
#define HDR_FIELD_MAX_CLAMP	(SIZE_MAX / 4)

static int	hdr_is_wsp(unsigned char);
static int	hdr_is_ftext(unsigned char);
static int	hdr_lower(unsigned char);
static int	hdr_field_line(const struct hdr_parser *, const char *, size_t,
		    size_t *, size_t *);
static void	hdr_field_init(struct hdr_field *, size_t);
static void	hdr_field_reset(struct hdr_field *);
static int	hdr_field_add(struct hdr_parser *, struct hdr_field *,
		    const char *, size_t, size_t);
static void	hdr_finish(struct hdr_parser *);
static int	hdr_fail(struct hdr_parser *);

/* hdr_is_wsp - SP or HTAB (RFC 5234 WSP) */
static int
hdr_is_wsp(unsigned char c)
{
	return c == ' ' || c == '\t';
}

/* hdr_is_ftext - printable US-ASCII except ':' (RFC 5322 3.6.8) */
static int
hdr_is_ftext(unsigned char c)
{
	return c >= '!' && c <= '~' && c != ':';
}

/* hdr_lower - ASCII lower case, whatever the locale */
static int
hdr_lower(unsigned char c)
{
	return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c;
}

/*
 * hdr_field_line - is this "name WSP* :"?  On yes, *namelen and *colon
 * are set.  The name and colon must fit in field_max - 1 bytes, so that
 * a truncated field always keeps them (and its "\n").
 */
static int
hdr_field_line(const struct hdr_parser *p, const char *line, size_t len,
    size_t *namelen, size_t *colon)
{
	const unsigned char	*s = (const unsigned char *)line;
	size_t			 i, lim;

	lim = len < p->field_max ? len : p->field_max;
	for (i = 0; i < lim && hdr_is_ftext(s[i]); i++)
		;
	if (i == 0)
		return 0;
	*namelen = i;
	for (; i < lim && hdr_is_wsp(s[i]); i++)
		;
	if (i == lim || s[i] != ':')
		return 0;
	if (p->field_max < 2 || i > p->field_max - 2)
		return 0;
	*colon = i;
	return 1;
}

/* hdr_field_init - an empty slot whose buffers hold up to max bytes */
static void
hdr_field_init(struct hdr_field *f, size_t max)
{
	buf_init(&f->raw, max);
	buf_init(&f->value, max);
	f->namelen = 0;
	f->active = 0;
	f->truncated = 0;
	f->vstarted = 0;
}

/* hdr_field_reset - empty the slot, keep its allocations */
static void
hdr_field_reset(struct hdr_field *f)
{
	buf_reset(&f->raw);
	buf_reset(&f->value);
	f->namelen = 0;
	f->active = 0;
	f->truncated = 0;
	f->vstarted = 0;
}

/*
 * hdr_field_add - append one physical line to f; the value starts at
 * byte voff of the line (past the colon on the first line, 0 after).
 * Past field_max the line is cut and later lines are dropped; a cut
 * continuation that would be white space only is dropped as a whole.
 */
static int
hdr_field_add(struct hdr_parser *p, struct hdr_field *f, const char *line,
    size_t len, size_t voff)
{
	const unsigned char	*s = (const unsigned char *)line;
	size_t			 room, n, i;

	if (f->truncated)
		return 0;
	room = p->field_max - f->raw.len;
	n = len;
	if (n >= room) {
		n = room > 0 ? room - 1 : 0;
		f->truncated = 1;
		if (voff == 0) {
			for (i = 0; i < n && hdr_is_wsp(s[i]); i++)
				;
			if (i == n)
				return 0;
		}
	}
	if (buf_add(&f->raw, line, n) != BUF_OK ||
	    buf_addc(&f->raw, '\n') != BUF_OK)
		return -1;
	i = voff;
	if (!f->vstarted) {
		for (; i < n && hdr_is_wsp(s[i]); i++)
			;
		if (i < n)
			f->vstarted = 1;
	}
	if (i < n && buf_add(&f->value, line + i, n - i) != BUF_OK)
		return -1;
	return 0;
}

/* hdr_finish - the field in cur is complete: move it to out */
static void
hdr_finish(struct hdr_parser *p)
{
	struct hdr_field	 tmp;

	if (!p->cur.active)
		return;
	tmp = p->out;
	p->out = p->cur;
	p->cur = tmp;
	hdr_field_reset(&p->cur);
	p->pending |= HDR_P_FIELD;
}

/* hdr_fail - out of memory: drop everything, refuse more work */
static int
hdr_fail(struct hdr_parser *p)
{
	p->state = HDR_S_FAILED;
	p->pending = 0;
	errno = ENOMEM;
	return -1;
}

/* hdr_new - a parser for one message; NULL on ENOMEM */
struct hdr_parser *
hdr_new(size_t field_max)
{
	struct hdr_parser	*p;

	if ((p = calloc(1, sizeof(*p))) == NULL)
		return NULL;
	if (field_max > HDR_FIELD_MAX_CLAMP)
		field_max = HDR_FIELD_MAX_CLAMP;
	p->field_max = field_max;
	p->state = HDR_S_HEAD;
	hdr_field_init(&p->cur, field_max);
	hdr_field_init(&p->out, field_max);
	return p;
}

/* hdr_free - release the parser; returns NULL */
struct hdr_parser *
hdr_free(struct hdr_parser *p)
{
	if (p != NULL) {
		buf_free(&p->cur.raw);
		buf_free(&p->cur.value);
		buf_free(&p->out.raw);
		buf_free(&p->out.value);
		free(p);
	}
	return NULL;
}

/* hdr_push - one line without its line end; -1 on ENOMEM */
int
hdr_push(struct hdr_parser *p, const char *line, size_t len)
{
	size_t	 namelen, colon;

	if (p->state == HDR_S_FAILED) {
		errno = ENOMEM;
		return -1;
	}
	if (p->pending != 0)
		panic("hdr_push: events of the previous line not drained");
	if (p->state == HDR_S_EOF)
		panic("hdr_push: input after hdr_eof");
	if (line == NULL)
		line = "";

	if (p->state == HDR_S_BODY) {
		p->body = line;
		p->bodylen = len;
		p->pending = HDR_P_BODY;
		return 0;
	}

	if (len == 0) {
		hdr_finish(p);
		p->pending |= HDR_P_END;
		p->implicit = 0;
		p->state = HDR_S_BODY;
		return 0;
	}
	if (hdr_is_wsp((unsigned char)line[0]) && p->cur.active) {
		if (hdr_field_add(p, &p->cur, line, len, 0) == -1)
			return hdr_fail(p);
		return 0;
	}
	hdr_finish(p);
	if (hdr_field_line(p, line, len, &namelen, &colon)) {
		p->cur.active = 1;
		p->cur.namelen = namelen;
		if (hdr_field_add(p, &p->cur, line, len, colon + 1) == -1)
			return hdr_fail(p);
		return 0;
	}
	p->pending |= HDR_P_END | HDR_P_BODY;
	p->implicit = 1;
	p->body = line;
	p->bodylen = len;
	p->state = HDR_S_BODY;
	return 0;
}

/* hdr_eof - the input ended: report the pending field and the end */
void
hdr_eof(struct hdr_parser *p)
{
	if (p->state == HDR_S_FAILED)
		return;
	if (p->pending != 0)
		panic("hdr_eof: events of the last line not drained");
	if (p->state == HDR_S_HEAD) {
		hdr_finish(p);
		p->pending |= HDR_P_END;
		p->implicit = 1;
	}
	p->state = HDR_S_EOF;
}

/* hdr_next - the next event, or HDR_NONE when more input is needed */
int
hdr_next(struct hdr_parser *p, struct hdr_event *ev)
{
	memset(ev, 0, sizeof(*ev));
	if (p->pending & HDR_P_FIELD) {
		p->pending &= ~(unsigned int)HDR_P_FIELD;
		ev->type = HDR_FIELD;
		ev->raw = buf_str(&p->out.raw);
		ev->rawlen = p->out.raw.len;
		ev->name = ev->raw;
		ev->namelen = p->out.namelen;
		ev->value = buf_str(&p->out.value);
		ev->valuelen = p->out.value.len;
		ev->truncated = p->out.truncated;
	} else if (p->pending & HDR_P_END) {
		p->pending &= ~(unsigned int)HDR_P_END;
		ev->type = HDR_END;
		ev->implicit = p->implicit;
	} else if (p->pending & HDR_P_BODY) {
		p->pending &= ~(unsigned int)HDR_P_BODY;
		ev->type = HDR_BODY;
		ev->line = p->body;
		ev->linelen = p->bodylen;
		p->body = NULL;
		p->bodylen = 0;
	} else
		ev->type = HDR_NONE;
	return ev->type;
}

/* hdr_name_is - does the field's name equal name, ASCII any case? */
int
hdr_name_is(const struct hdr_event *ev, const char *name)
{
	size_t	 i, n;

	if (ev->type != HDR_FIELD)
		return 0;
	n = strlen(name);
	if (n != ev->namelen)
		return 0;
	for (i = 0; i < n; i++)
		if (hdr_lower((unsigned char)ev->name[i]) !=
		    hdr_lower((unsigned char)name[i]))
			return 0;
	return 1;
}
