/*
 * hdr - a streaming RFC 5322 header parser: push lines, pull events
 *
 * The caller reads a message one line at a time, removes the line end
 * itself (CRLF or LF; it never splits a line), and hands each line to
 * hdr_push().  After every hdr_push() and after hdr_eof() it calls
 * hdr_next() until that returns HDR_NONE (0).  The events come in the
 * order HDR_FIELD* HDR_END HDR_BODY*; hdr_next() after the last event
 * returns HDR_NONE.  The message is never held whole: the parser keeps
 * at most the field being collected and the field being reported.
 *
 *	if ((p = hdr_new(102400)) == NULL) tempfail;
 *	while (read a line) {
 *		if (hdr_push(p, line, len) == -1) tempfail;
 *		while (hdr_next(p, &ev) != HDR_NONE) use ev;
 *	}
 *	hdr_eof(p);
 *	while (hdr_next(p, &ev) != HDR_NONE) use ev;
 *	p = hdr_free(p);
 *
 * Syntax.  Lines may hold any bytes (NUL, 8-bit, bare CR) and are never
 * interpreted beyond this:
 * - A field line is a name of one or more printable ASCII characters
 *   other than ':' (RFC 5322 3.6.8 ftext), optional SP/HTAB (the obsolete
 *   syntax of 4.5.8, accepted), then ':'.
 * - A line that starts with SP or HTAB continues the field before it (a
 *   line of white space only is a continuation too, obs-FWS).  A field
 *   is complete when the next non-continuation line, or EOF, arrives, so
 *   hdr_push() of line N may report the field that ended at line N-1.
 * - An empty line ends the header section: HDR_END with implicit 0.
 *   Every later line is HDR_BODY, even empty ones or ones that look like
 *   fields.
 * - Any other line (not a field line, or a continuation with nothing to
 *   continue because it is the first line) ends the header section:
 *   HDR_END with implicit 1, then the same line as HDR_BODY.  Whoever
 *   writes the message out inserts the missing empty line.
 * - EOF in the header section reports the pending field, then HDR_END
 *   with implicit 1 and no body.  Empty input gives HDR_END only.
 * Values are not interpreted (no address parsing, encoded words left
 * alone); an mbox "From " line is the caller's business.
 *
 * Limits.  A field holds at most field_max bytes of raw text (Postfix's
 * header_size_limit, 102400).  The excess of a longer field is
 * discarded (the rest of its line and all further continuation lines),
 * the event says truncated, and raw still ends in "\n".  A truncated
 * continuation line is dropped entirely when what would remain of it is
 * white space only, so raw never holds a line that is empty or that
 * truncation made blank.  A line whose name and ':' do not fit in
 * field_max - 1 bytes is not a field line, so every reported field has
 * its whole name and its colon.  Body lines of any length pass through
 * uncopied.  Memory is O(field_max), never O(message).
 *
 * hdr_name_is() is 1 when the event is a HDR_FIELD whose name equals
 * name, ASCII case-insensitively, and 0 otherwise.
 *
 * Ownership.  The parser is the caller's; hdr_free() releases it and
 * returns NULL.  Every pointer in an event is borrowed: it is valid
 * until the next hdr_push(), hdr_next(), hdr_eof() or hdr_free().  A
 * HDR_BODY line may be the caller's own pointer from hdr_push(), so the
 * caller keeps its line until the events of that push are drained,
 * which the protocol above does anyway.
 *
 * Errors.  hdr_new() returns NULL and hdr_push() returns -1 with errno
 * ENOMEM when memory runs out; the caller tempfails, and after a failed
 * hdr_push() the parser is only good for hdr_free() (further pushes
 * fail, hdr_next() says HDR_NONE).  Calling hdr_push() or hdr_eof()
 * before the events of the previous call are drained, or hdr_push()
 * after hdr_eof(), is a bug: panic().
 */
#ifndef COMMON_HDR_H
#define COMMON_HDR_H

#include <stddef.h>

#define HDR_FIELD_MAX	102400	/* Postfix's header_size_limit default */

struct hdr_parser;			/* opaque */

enum hdr_event_type {
	HDR_NONE = 0,		/* nothing available: push more input */
	HDR_FIELD,		/* one complete header field */
	HDR_END,		/* the header section ended */
	HDR_BODY,		/* one body line */
};

struct hdr_event {
	enum hdr_event_type type;
	/* HDR_FIELD: */
	const char	*name;		/* field name as written, without */
	size_t		 namelen;	/* the white space before ':' */
	const char	*raw;		/* every physical line of the field */
	size_t		 rawlen;	/* as pushed, each followed by "\n" */
	const char	*value;		/* unfolded value: text after ':' */
	size_t		 valuelen;	/* with leading WSP removed, each */
					/* line break removed (RFC 5322 */
					/* 2.2.3: the WSP after it stays), */
					/* trailing WSP kept */
	int		 truncated;	/* the field passed field_max: raw */
					/* and value hold its first bytes */
					/* (raw still ends in "\n") */
	/* HDR_END: */
	int		 implicit;	/* ended by a non-header line (it */
					/* follows as HDR_BODY) or by EOF, */
					/* not by an empty line */
	/* HDR_BODY: */
	const char	*line;		/* the line, without its line end */
	size_t		 linelen;
};

struct hdr_parser *hdr_new(size_t field_max);
int	 hdr_push(struct hdr_parser *, const char *line, size_t len);
void	 hdr_eof(struct hdr_parser *);
int	 hdr_next(struct hdr_parser *, struct hdr_event *);
struct hdr_parser *hdr_free(struct hdr_parser *);
int	 hdr_name_is(const struct hdr_event *, const char *name);

#endif
