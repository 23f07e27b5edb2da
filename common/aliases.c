/*
 * aliases.c - the aliases(5) file, in Postfix's syntax (see aliases.h)
 *
 * The entry parser works on one logical line from map_text: the name
 * (an atom or a quoted string), a colon, the value.  The value is
 * split by aliases_split_value(), which walks it once, tracking double
 * quotes so that a comma inside them does not separate, and classifies
 * each element by its first characters (or, for an element that is one
 * quoted string, by the first characters of its unquoted text).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/aliases.h"
#include "common/buf.h"
#include "common/log.h"
#include "common/map.h"
#include "common/util.h"

#define ALIASES_INCLUDE		":include:"
#define ALIASES_INCLUDE_LEN	(sizeof(ALIASES_INCLUDE) - 1)
#define ALIASES_CLIP		100	/* name text quoted in a message */

static int	 aliases_isspace(int);
static int	 aliases_isctl(int);
static int	 aliases_blank(const char *, size_t);
static int	 aliases_fail(struct buf *, const char *, int, const char *,
		    ...) __attribute__((format(printf, 4, 5)));
static int	 aliases_reason(struct buf *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));
static int	 aliases_check_elem(enum alias_kind, const char *, size_t,
		    void *);
static int	 aliases_entry(struct map_text *, const char *, size_t, int,
		    struct buf *,
		    int (*)(void *, const char *, const char *, size_t, int,
		    struct buf *), void *, struct buf *);
static size_t	 aliases_quote_end(const char *, size_t);
static int	 aliases_unquote(struct buf *, const char *, size_t);
static int	 aliases_element(const char *, size_t, struct buf *,
		    int (*)(enum alias_kind, const char *, size_t, void *),
		    void *, struct buf *);
static int	 aliases_split_pass(const char *, size_t,
		    int (*)(enum alias_kind, const char *, size_t, void *),
		    void *, struct buf *, struct buf *);
static int	 aliases_needs_quotes(const char *, size_t);
static int	 aliases_add_quoted(struct buf *, const char *, const char *,
		    size_t);

static const char *const aliases_kind_names[] = {
	[ALIAS_ADDR] = "ADDR",
	[ALIAS_NOALIAS] = "NOALIAS",
	[ALIAS_COMMAND] = "COMMAND",
	[ALIAS_FILE] = "FILE",
	[ALIAS_INCLUDE] = "INCLUDE",
};

/* aliases_isspace - white space inside a line: a space or a tab */
static int
aliases_isspace(int c)
{
	return c == ' ' || c == '\t';
}

/* aliases_isctl - a control character other than a tab */
static int
aliases_isctl(int c)
{
	unsigned char	 u = (unsigned char)c;

	return (u < 0x20 && u != '\t') || u == 0x7f;
}

/* aliases_blank - whether n bytes are all white space (or none) */
static int
aliases_blank(const char *s, size_t n)
{
	size_t	 i;

	for (i = 0; i < n; i++)
		if (!aliases_isspace(s[i]))
			return 0;
	return 1;
}

/* aliases_fail - "NAME, line N: reason" into why; returns -1 */
static int
aliases_fail(struct buf *why, const char *name, int lineno,
    const char *fmt, ...)
{
	va_list	 ap;

	buf_reset(why);
	(void)buf_printf(why, "%s, line %d: ", name, lineno);
	va_start(ap, fmt);
	(void)buf_vprintf(why, fmt, ap);
	va_end(ap);
	errno = EINVAL;
	return -1;
}

/* aliases_reason - a reason without location into why; returns -1 */
static int
aliases_reason(struct buf *why, const char *fmt, ...)
{
	va_list	 ap;

	buf_reset(why);
	va_start(ap, fmt);
	(void)buf_vprintf(why, fmt, ap);
	va_end(ap);
	errno = EINVAL;
	return -1;
}

/* aliases_kind_name - "ADDR", "COMMAND"... for traces and tests */
const char *
aliases_kind_name(enum alias_kind kind)
{
	if ((size_t)kind >= nitems(aliases_kind_names))
		return "?";
	return aliases_kind_names[kind];
}

/* aliases_check_elem - the split callback that only checks */
static int
aliases_check_elem(enum alias_kind kind, const char *text, size_t len,
    void *arg)
{
	(void)kind;
	(void)text;
	(void)len;
	(void)arg;
	return 0;
}

/*
 * aliases_entry - one logical line "name: value": check it and hand
 * the lower-case unquoted name and the value to fn
 */
static int
aliases_entry(struct map_text *t, const char *s, size_t n, int lineno,
    struct buf *name,
    int (*fn)(void *, const char *, const char *, size_t, int,
    struct buf *), void *arg, struct buf *why)
{
	const char	*p = s, *end = s + n, *colon, *q;
	char		 clip[LOG_SAFE_MAX], *reason;
	size_t		 nlen;

	buf_reset(name);
	if (*p == '"') {
		for (p++;; p++) {
			if (p == end)
				return aliases_fail(why, t->name, lineno,
				    "unterminated quoted alias name");
			if (*p == '"')
				break;
			if (*p == '\\' && p + 1 < end)
				p++;
			if (buf_addc(name, *p) != BUF_OK)
				return aliases_fail(why, t->name, lineno,
				    "alias name too long (more than %d "
				    "bytes)", MAP_KEY_MAX);
		}
		for (p++; p < end && aliases_isspace(*p); p++)
			;
		if (p == end || *p != ':')
			return aliases_fail(why, t->name, lineno,
			    "missing colon after alias name");
	} else {
		if ((colon = memchr(p, ':', n)) == NULL)
			return aliases_fail(why, t->name, lineno,
			    "missing colon after alias name");
		for (nlen = (size_t)(colon - p);
		    nlen > 0 && aliases_isspace(p[nlen - 1]); nlen--)
			;
		for (q = p; q < p + nlen; q++) {
			if (aliases_isspace(*q) || *q == '"' || *q == '@') {
				log_safe(clip, ALIASES_CLIP, p, nlen);
				return aliases_fail(why, t->name, lineno,
				    *q == '@' ? "alias name must be local: %s" :
				    "alias name with white space or quotes "
				    "must be quoted: %s", clip);
			}
		}
		if (buf_add(name, p, nlen) != BUF_OK)
			return aliases_fail(why, t->name, lineno,
			    "alias name too long (more than %d bytes)",
			    MAP_KEY_MAX);
		p = colon;
	}
	if (name->len == 0)
		return aliases_fail(why, t->name, lineno, "empty alias name");
	if (name->len > MAP_KEY_MAX)
		return aliases_fail(why, t->name, lineno,
		    "alias name too long (more than %d bytes)", MAP_KEY_MAX);
	str_lower(name->data);
	for (p++; p < end && aliases_isspace(*p); p++)
		;
	if (p == end) {
		log_safe(clip, ALIASES_CLIP, name->data, name->len);
		return aliases_fail(why, t->name, lineno,
		    "missing value after \"%s:\"", clip);
	}
	if ((size_t)(end - p) > MAP_VALUE_MAX)
		return aliases_fail(why, t->name, lineno,
		    "value too long (more than %d bytes)", MAP_VALUE_MAX);
	if (aliases_split_value(p, (size_t)(end - p), aliases_check_elem,
	    NULL, why) != 0) {
		/* Put the location in front of the reason. */
		if ((reason = buf_take(why)) == NULL)
			return aliases_fail(why, t->name, lineno,
			    "out of memory");
		aliases_fail(why, t->name, lineno, "%s", reason);
		free(reason);
		return -1;
	}
	return fn(arg, name->data, p, (size_t)(end - p), lineno, why);
}

/* aliases_parse - every entry of an aliases(5) text, in order */
int
aliases_parse(struct map_text *t,
    int (*fn)(void *, const char *, const char *, size_t, int,
    struct buf *), void *arg, struct buf *why)
{
	struct buf	 line, name;
	int		 lineno, r, rc = 0;

	buf_init(&line, MAP_LINE_MAX);
	buf_init(&name, MAP_KEY_MAX + 1);
	while ((r = map_text_next(t, &line, &lineno, why)) == 1) {
		if ((rc = aliases_entry(t, line.data, line.len, lineno, &name,
		    fn, arg, why)) != 0)
			break;
	}
	if (r == -1)
		rc = -1;
	buf_free(&line);
	buf_free(&name);
	return rc;
}

/* aliases_parse_mem - aliases_parse() over text in memory */
int
aliases_parse_mem(const char *name, const char *text, size_t len,
    int (*fn)(void *, const char *, const char *, size_t, int,
    struct buf *), void *arg, struct buf *why)
{
	struct map_text	 t;
	int		 rc;

	map_text_mem(&t, name, text, len);
	rc = aliases_parse(&t, fn, arg, why);
	map_text_close(&t);
	return rc;
}

/*
 * aliases_quote_end - where the quoted string that starts at s[0]
 * ends: the index of its closing quote, or n when it is unterminated
 */
static size_t
aliases_quote_end(const char *s, size_t n)
{
	size_t	 i;

	for (i = 1; i < n; i++) {
		if (s[i] == '\\')
			i++;
		else if (s[i] == '"')
			return i;
	}
	return n;
}

/* aliases_unquote - the text of a quoted string's inside, unescaped */
static int
aliases_unquote(struct buf *u, const char *s, size_t n)
{
	size_t	 i;

	buf_reset(u);
	for (i = 0; i < n; i++) {
		if (s[i] == '\\' && i + 1 < n)
			i++;
		if (buf_addc(u, s[i]) != BUF_OK)
			return -1;
	}
	return 0;
}

/*
 * aliases_element - classify one trimmed, non-empty element and hand
 * it to fn; u is scratch space for an unquoted text
 */
static int
aliases_element(const char *e, size_t n, struct buf *u,
    int (*fn)(enum alias_kind, const char *, size_t, void *), void *arg,
    struct buf *why)
{
	enum alias_kind	 kind;
	const char	*s = e;
	size_t		 len = n;

	if (e[0] == '"' && aliases_quote_end(e, n) == n - 1) {
		if (aliases_unquote(u, e + 1, n - 2) != 0)
			return aliases_reason(why, "out of memory");
		s = u->data != NULL ? u->data : "";
		len = u->len;
		if (len > 0 && (s[0] == '|' || s[0] == '/' ||
		    (len >= ALIASES_INCLUDE_LEN && strncasecmp(s,
		    ALIASES_INCLUDE, ALIASES_INCLUDE_LEN) == 0))) {
			/* Classified below by its unquoted text. */
		} else {
			s = e;
			len = n;
			return fn(ALIAS_ADDR, s, len, arg) != 0 ? -1 : 0;
		}
	} else if (e[0] == '"') {
		/* "quoted local"@domain and the like: an address. */
		return fn(ALIAS_ADDR, e, n, arg) != 0 ? -1 : 0;
	}

	if (s[0] == '|') {
		kind = ALIAS_COMMAND;
		s++;
		len--;
		if (aliases_blank(s, len))
			return aliases_reason(why, "empty command after |");
	} else if (s[0] == '/') {
		kind = ALIAS_FILE;
	} else if (len >= ALIASES_INCLUDE_LEN &&
	    strncasecmp(s, ALIASES_INCLUDE, ALIASES_INCLUDE_LEN) == 0) {
		kind = ALIAS_INCLUDE;
		s += ALIASES_INCLUDE_LEN;
		len -= ALIASES_INCLUDE_LEN;
		while (len > 0 && aliases_isspace(*s)) {
			s++;
			len--;
		}
		while (len > 0 && aliases_isspace(s[len - 1]))
			len--;
		if (len == 0)
			return aliases_reason(why, "missing file name after "
			    ":include:");
	} else if (s[0] == '\\') {
		kind = ALIAS_NOALIAS;
		s++;
		len--;
		while (len > 0 && aliases_isspace(*s)) {
			s++;
			len--;
		}
		if (len == 0)
			return aliases_reason(why, "missing user name after "
			    "the backslash");
	} else
		kind = ALIAS_ADDR;
	return fn(kind, s, len, arg) != 0 ? -1 : 0;
}

/*
 * aliases_split_pass - one walk over a value, calling fn for each
 * element; stops at the first error
 */
static int
aliases_split_pass(const char *value, size_t len,
    int (*fn)(enum alias_kind, const char *, size_t, void *), void *arg,
    struct buf *u, struct buf *why)
{
	const char	*p = value, *end = value + len, *start, *e;
	size_t		 n;
	int		 inq, rc = 0;

	while (p < end && rc == 0) {
		start = p;
		inq = 0;
		for (; p < end; p++) {
			if (inq) {
				if (*p == '\\' && p + 1 < end)
					p++;
				else if (*p == '"')
					inq = 0;
			} else if (*p == '"')
				inq = 1;
			else if (*p == ',')
				break;
		}
		if (inq)
			return aliases_reason(why, "unterminated quoted "
			    "string");
		e = start;
		n = (size_t)(p - start);
		if (p < end)
			p++;		/* the comma */
		while (n > 0 && aliases_isspace(*e)) {
			e++;
			n--;
		}
		while (n > 0 && aliases_isspace(e[n - 1]))
			n--;
		if (n > 0)
			rc = aliases_element(e, n, u, fn, arg, why);
	}
	return rc;
}

/*
 * aliases_split_value - the elements of one value, in order; the
 * whole value is checked before fn sees the first element
 */
int
aliases_split_value(const char *value, size_t len,
    int (*fn)(enum alias_kind, const char *, size_t, void *), void *arg,
    struct buf *why)
{
	struct buf	 u;
	size_t		 i;
	int		 rc;

	if (len > MAP_VALUE_MAX)
		return aliases_reason(why, "value too long (more than %d "
		    "bytes)", MAP_VALUE_MAX);
	for (i = 0; i < len; i++)
		if (aliases_isctl(value[i]))
			return aliases_reason(why, "control character in "
			    "value");
	buf_init(&u, MAP_VALUE_MAX);
	rc = aliases_split_pass(value, len, aliases_check_elem, NULL, &u,
	    why);
	if (rc == 0 && fn != aliases_check_elem)
		rc = aliases_split_pass(value, len, fn, arg, &u, why);
	buf_free(&u);
	return rc;
}

/*
 * aliases_needs_quotes - whether text would not read back as itself
 * without quotes: a quote or comma in it, white space at either end
 */
static int
aliases_needs_quotes(const char *text, size_t len)
{
	return len == 0 || memchr(text, '"', len) != NULL ||
	    memchr(text, ',', len) != NULL || memchr(text, '\\', len) != NULL ||
	    aliases_isspace(text[0]) || aliases_isspace(text[len - 1]);
}

/* aliases_add_quoted - append "PREFIXTEXT" with \ before " and \ */
static int
aliases_add_quoted(struct buf *out, const char *prefix, const char *text,
    size_t len)
{
	size_t	 i;
	int	 rc;

	if ((rc = buf_addc(out, '"')) != BUF_OK ||
	    (rc = buf_adds(out, prefix)) != BUF_OK)
		return rc;
	for (i = 0; i < len; i++) {
		if ((text[i] == '"' || text[i] == '\\') &&
		    (rc = buf_addc(out, '\\')) != BUF_OK)
			return rc;
		if ((rc = buf_addc(out, text[i])) != BUF_OK)
			return rc;
	}
	return buf_addc(out, '"');
}

/* aliases_format_element - the element as a value would hold it */
int
aliases_format_element(struct buf *out, enum alias_kind kind,
    const char *text, size_t len)
{
	int	 rc;

	switch (kind) {
	case ALIAS_NOALIAS:
		if ((rc = buf_addc(out, '\\')) != BUF_OK)
			return rc;
		return buf_add(out, text, len);
	case ALIAS_COMMAND:
		if (aliases_needs_quotes(text, len))
			return aliases_add_quoted(out, "|", text, len);
		if ((rc = buf_addc(out, '|')) != BUF_OK)
			return rc;
		return buf_add(out, text, len);
	case ALIAS_INCLUDE:
		if (aliases_needs_quotes(text, len))
			return aliases_add_quoted(out, ALIASES_INCLUDE, text,
			    len);
		if ((rc = buf_adds(out, ALIASES_INCLUDE)) != BUF_OK)
			return rc;
		return buf_add(out, text, len);
	case ALIAS_FILE:
		if (aliases_needs_quotes(text, len))
			return aliases_add_quoted(out, "", text, len);
		return buf_add(out, text, len);
	case ALIAS_ADDR:
	default:
		return buf_add(out, text, len);
	}
}
