/*
 * addr.c - RFC 5321 paths and RFC 5322 address lists (see addr.h)
 *
 * Both parsers end in the same canonicaliser (canon_build), so a path
 * from SMTP, an argument of sendmail and a mailbox from a To header all
 * come out in one form.  The list parser is a small lexer (CFWS,
 * atoms, quoted strings, literals, specials) under a recursive-descent
 * parser that is at most two levels deep (a group holds mailboxes);
 * comments are skipped with a depth counter, not recursion.
 */
#include <arpa/inet.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "common/addr.h"

enum tok_type {
	TOK_END,		/* end of input */
	TOK_ATOM,		/* 1*atext (and 8-bit bytes), encoded words */
	TOK_QUOTED,		/* "..." */
	TOK_LITERAL,		/* [...] */
	TOK_SPECIAL,		/* one of < > @ , ; : . */
};

struct tok {
	enum tok_type	 type;
	int		 c;		/* TOK_SPECIAL: which */
	size_t		 start;		/* the raw span in the input */
	size_t		 end;
};

struct lex {
	const char	*in;
	size_t		 len;
	size_t		 pos;
	struct buf	*why;
};

/* The state of one addr_parse_list() walk. */
struct walk {
	struct lex	 lx;
	int		(*cb)(const struct addr_mbox *, void *);
	void		*arg;
	int		(*qcb)(size_t, void *);	/* domainless mailbox */
	void		*qarg;
	size_t		 count;
	int		 ingroup;
	int		 wasgroup;	/* the last address was a group */
	struct buf	 local;		/* unquoted local part */
	struct buf	 dom;		/* raw domain */
	struct buf	 addr;		/* canonical address */
	struct buf	 display;
	struct buf	 group;
	struct buf	 scratch;
};

/* One addr_qualify_list() insertion list. */
struct qual {
	struct buf	 at;		/* size_t offsets */
};

enum qual_stop {
	QUAL_NOMEM = 1,		/* qual_note could not grow its list */
	QUAL_BARE = 2,		/* a qualified list still has a bare name */
};

#define IPV6_TAG	"IPv6:"
#define IPV6_TAG_LEN	(sizeof(IPV6_TAG) - 1)

static int	 fail(struct buf *, const char *);
static int	 fail_buf(struct buf *, int);
static int	 is_atext(int);
static int	 is_wsp(int);
static int	 local_needs_quote(const char *, size_t);
static int	 local_append(struct buf *, const char *, size_t);
static int	 local_check(const char *, size_t, int, struct buf *);
static int	 literal_canon(const char *, size_t, struct buf *,
		    struct buf *);
static int	 domain_canon(const char *, size_t, int, struct buf *,
		    struct buf *);
static int	 canon_build(const char *, size_t, const char *, size_t,
		    int, struct buf *, size_t *, struct buf *);
static int	 path_route(const char *, size_t, size_t *, struct buf *,
		    struct buf *);
static int	 path_mailbox(const char *, size_t, size_t, int, int,
		    struct buf *, struct buf *, struct buf *);
static int	 lex_fail(struct lex *, const char *);
static int	 lex_fold(struct lex *);
static int	 lex_cfws(struct lex *);
static int	 lex_encoded_word(struct lex *, size_t *);
static int	 lex_next(struct lex *, struct tok *);
static int	 tok_is_word(const struct tok *);
static int	 tok_unquote(struct walk *, const struct tok *, struct buf *);
static int	 text_copy(struct walk *, size_t, size_t, struct buf *,
		    const char *);
static int	 walk_local(struct walk *, size_t *);
static int	 walk_domain(struct walk *, struct buf *);
static int	 walk_route(struct walk *);
static int	 walk_mailbox(struct walk *, int, size_t, size_t);
static int	 walk_group(struct walk *, size_t, size_t);
static int	 walk_address(struct walk *);
static int	 walk_list(const char *, size_t,
		    int (*)(const struct addr_mbox *, void *), void *,
		    int (*)(size_t, void *), void *, struct buf *);
static int	 qual_note(size_t, void *);
static int	 qual_count(const struct addr_mbox *, void *);

/* fail - set why and return -1 */
static int
fail(struct buf *why, const char *msg)
{
	if (why != NULL) {
		buf_reset(why);
		buf_adds(why, msg);
	}
	return -1;
}

/* fail_buf - why for a failed append (the buffer limit or ENOMEM) */
static int
fail_buf(struct buf *why, int rc)
{
	return fail(why, rc == BUF_NOMEM ? "out of memory" :
	    "address too long");
}

/* is_atext - RFC 5322 atext, ASCII only */
static int
is_atext(int c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9'))
		return 1;
	return c != '\0' && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL;
}

/* is_wsp - space or tab */
static int
is_wsp(int c)
{
	return c == ' ' || c == '\t';
}

/* addr_utf8_valid - whether s[0..n) is well-formed UTF-8 (RFC 3629) */
int
addr_utf8_valid(const char *s, size_t n)
{
	const unsigned char	*p = (const unsigned char *)s;
	size_t			 i = 0, k, need;
	uint32_t		 cp, min;

	while (i < n) {
		if (p[i] < 0x80) {
			i++;
			continue;
		}
		if (p[i] >= 0xc2 && p[i] <= 0xdf) {
			need = 1;
			cp = p[i] & 0x1f;
			min = 0x80;
		} else if (p[i] >= 0xe0 && p[i] <= 0xef) {
			need = 2;
			cp = p[i] & 0x0f;
			min = 0x800;
		} else if (p[i] >= 0xf0 && p[i] <= 0xf4) {
			need = 3;
			cp = p[i] & 0x07;
			min = 0x10000;
		} else
			return 0;
		if (n - i - 1 < need)
			return 0;
		for (k = 1; k <= need; k++) {
			if ((p[i + k] & 0xc0) != 0x80)
				return 0;
			cp = cp << 6 | (p[i + k] & 0x3f);
		}
		if (cp < min || cp > 0x10ffff ||
		    (cp >= 0xd800 && cp <= 0xdfff))
			return 0;
		i += need + 1;
	}
	return 1;
}

/* local_needs_quote - whether an unquoted local part is not a dot-atom */
static int
local_needs_quote(const char *l, size_t n)
{
	size_t	 i;

	if (n == 0 || l[0] == '.' || l[n - 1] == '.')
		return 1;
	for (i = 0; i < n; i++) {
		unsigned char	 c = (unsigned char)l[i];

		if (c == '.') {
			if (l[i + 1] == '.')
				return 1;
		} else if (c < 0x80 && !is_atext(c))
			return 1;
	}
	return 0;
}

/* local_append - a local part, quoted when it must be, onto out */
static int
local_append(struct buf *out, const char *l, size_t n)
{
	size_t	 i;
	int	 rc;

	if (!local_needs_quote(l, n))
		return buf_add(out, l, n);
	if ((rc = buf_addc(out, '"')) != BUF_OK)
		return rc;
	for (i = 0; i < n; i++) {
		if ((l[i] == '"' || l[i] == '\\') &&
		    (rc = buf_addc(out, '\\')) != BUF_OK)
			return rc;
		if ((rc = buf_addc(out, l[i])) != BUF_OK)
			return rc;
	}
	return buf_addc(out, '"');
}

/* local_check - an unquoted local part may be canonical */
static int
local_check(const char *l, size_t n, int flags, struct buf *why)
{
	size_t	 i;
	int	 high = 0;

	for (i = 0; i < n; i++) {
		unsigned char	 c = (unsigned char)l[i];

		if (c < 0x20 || c == 0x7f)
			return fail(why, "control character in local part");
		if (c >= 0x80)
			high = 1;
	}
	if (high && !(flags & ADDR_UTF8))
		return fail(why, "non-ASCII character in local part");
	if (high && !addr_utf8_valid(l, n))
		return fail(why, "invalid UTF-8 in local part");
	return 0;
}

/* literal_canon - check an address literal's inside, append "[...]" */
static int
literal_canon(const char *s, size_t n, struct buf *out, struct buf *why)
{
	char		 tmp[INET6_ADDRSTRLEN + 1];
	unsigned char	 a6[16];
	unsigned int	 oct[4], v;
	size_t		 i, k, digits;
	int		 rc;

	if (n >= IPV6_TAG_LEN && strncasecmp(s, IPV6_TAG, IPV6_TAG_LEN) == 0) {
		s += IPV6_TAG_LEN;
		n -= IPV6_TAG_LEN;
		if (n == 0 || n >= sizeof(tmp))
			return fail(why, "bad IPv6 address literal");
		memcpy(tmp, s, n);
		tmp[n] = '\0';
		if (inet_pton(AF_INET6, tmp, a6) != 1 ||
		    inet_ntop(AF_INET6, a6, tmp, sizeof(tmp)) == NULL)
			return fail(why, "bad IPv6 address literal");
		rc = buf_printf(out, "[%s%s]", IPV6_TAG, tmp);
		return rc == BUF_OK ? 0 : fail_buf(why, rc);
	}
	if (n == 0 || s[0] < '0' || s[0] > '9') {
		if (memchr(s, ':', n) != NULL)
			return fail(why, "unsupported address literal");
		return fail(why, "bad address literal");
	}
	for (i = 0, k = 0; k < 4; k++) {
		if (k > 0) {
			if (i >= n || s[i] != '.')
				return fail(why, "bad IPv4 address literal");
			i++;
		}
		for (v = 0, digits = 0; i < n && s[i] >= '0' && s[i] <= '9';
		    i++, digits++)
			v = v * 10 + (unsigned int)(s[i] - '0');
		if (digits == 0 || digits > 3 || v > 255)
			return fail(why, "bad IPv4 address literal");
		oct[k] = v;
	}
	if (i != n)
		return fail(why, "bad IPv4 address literal");
	rc = buf_printf(out, "[%u.%u.%u.%u]", oct[0], oct[1], oct[2], oct[3]);
	return rc == BUF_OK ? 0 : fail_buf(why, rc);
}

/*
 * domain_canon - check a domain (LDH labels or an address literal) and
 * append its canonical form to out
 */
static int
domain_canon(const char *d, size_t n, int flags, struct buf *out,
    struct buf *why)
{
	size_t	 i, lab, start = out->len;
	int	 high = 0, lhigh = 0, rc;

	if (n > 0 && d[0] == '[') {
		if (n < 2 || d[n - 1] != ']')
			return fail(why, "missing ']' in address literal");
		return literal_canon(d + 1, n - 2, out, why);
	}
	if (n > 1 && d[n - 1] == '.')
		n--;
	if (n == 0 || (n == 1 && d[0] == '.'))
		return fail(why, "empty domain");
	if (n > ADDR_DOMAIN_MAX)
		return fail(why, "domain too long");
	for (i = 0, lab = 0; i <= n; i++) {
		unsigned char	 c = i < n ? (unsigned char)d[i] : '.';

		if (c == '.') {
			if (lab == 0)
				return fail(why, "empty label in domain");
			if (lab > ADDR_LABEL_MAX && !lhigh)
				return fail(why, "domain label too long");
			if (d[i - lab] == '-' || d[i - 1] == '-')
				return fail(why,
				    "domain label begins or ends with '-'");
			lab = 0;
			lhigh = 0;
			continue;
		}
		lab++;
		if (c >= 0x80) {
			if (!(flags & ADDR_UTF8))
				return fail(why,
				    "non-ASCII character in domain");
			high = lhigh = 1;
		} else if (c == '@')
			return fail(why, "more than one '@' in address");
		else if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '-'))
			return fail(why, "bad character in domain");
	}
	if (high && !addr_utf8_valid(d, n))
		return fail(why, "invalid UTF-8 in domain");
	if ((rc = buf_add(out, d, n)) != BUF_OK)
		return fail_buf(why, rc);
	for (i = start; i < out->len; i++)
		if (out->data[i] >= 'A' && out->data[i] <= 'Z')
			out->data[i] = (char)(out->data[i] - 'A' + 'a');
	return 0;
}

/*
 * canon_build - the canonical address from an unquoted local part and a
 * raw domain (NULL: bare) into out; *domoff is where the domain starts
 */
static int
canon_build(const char *l, size_t ln, const char *d, size_t dn, int flags,
    struct buf *out, size_t *domoff, struct buf *why)
{
	size_t	 at;
	int	 rc;

	buf_reset(out);
	if (local_check(l, ln, flags, why) == -1)
		return -1;
	if ((rc = local_append(out, l, ln)) != BUF_OK)
		return fail_buf(why, rc);
	at = out->len;
	if (d != NULL) {
		if ((rc = buf_addc(out, '@')) != BUF_OK)
			return fail_buf(why, rc);
		if (domain_canon(d, dn, flags, out, why) == -1)
			return -1;
		/* unquoted length: local + '@' + domain */
		if (ln + out->len - at > ADDR_MAX)
			return fail(why, "address too long");
		if (domoff != NULL)
			*domoff = at + 1;
	} else {
		if (ln > ADDR_MAX)
			return fail(why, "address too long");
		if (domoff != NULL)
			*domoff = 0;
	}
	return 0;
}

/* path_route - check an RFC 5321 A-d-l "@a,@b:" at in[*pos] */
static int
path_route(const char *in, size_t len, size_t *pos, struct buf *scratch,
    struct buf *why)
{
	size_t	 i = *pos, j;

	for (;;) {
		if (i >= len || in[i] != '@')
			return fail(why, "bad source route");
		for (j = ++i; j < len && in[j] != ',' && in[j] != ':'; j++)
			continue;
		if (j >= len)
			return fail(why, "bad source route");
		buf_reset(scratch);
		if (j == i || in[i] == '[' ||
		    domain_canon(in + i, j - i, ADDR_UTF8, scratch, why) == -1)
			return fail(why, "bad domain in source route");
		i = j + 1;
		if (in[j] == ':')
			break;
	}
	*pos = i;
	return 0;
}

/*
 * path_mailbox - the Mailbox of a path from in[i] on (inside '<' when
 * angle), canonical into out; local is scratch
 */
static int
path_mailbox(const char *in, size_t len, size_t i, int angle, int flags,
    struct buf *local, struct buf *out, struct buf *why)
{
	size_t	 j, end = len;
	int	 rc;

	if (i < len && in[i] == '"') {
		for (i++; ; i++) {
			if (i >= len)
				return fail(why, "unterminated quoted string");
			if (in[i] == '"')
				break;
			if (in[i] == '\\' && (++i >= len ||
			    (unsigned char)in[i] >= 0x80))
				return fail(why,
				    "bad quoted pair in local part");
			if ((rc = buf_addc(local, in[i])) != BUF_OK)
				return fail_buf(why, rc);
		}
		i++;
		if (i < len && in[i] != '@' && !(angle && in[i] == '>'))
			return fail(why, "text after quoted local part");
	} else {
		for (j = i; j < len && in[j] != '@' &&
		    !(angle && in[j] == '>'); j++) {
			unsigned char	 c = (unsigned char)in[j];

			if (c != '.' && c < 0x80 && !is_atext(c))
				return fail(why, "bad character in local part");
		}
		if (j == i)
			return fail(why, "empty local part");
		if (local_needs_quote(in + i, j - i))
			return fail(why, "misplaced '.' in local part");
		if ((rc = buf_add(local, in + i, j - i)) != BUF_OK)
			return fail_buf(why, rc);
		i = j;
	}
	if (angle) {
		for (j = i; j < len && in[j] != '>'; j++)
			continue;
		if (j >= len)
			return fail(why, "missing closing '>'");
		if (j + 1 != len)
			return fail(why, "text after '>'");
		end = j;
	}
	if (i < end && in[i] == '@')
		return canon_build(buf_str(local), local->len, in + i + 1,
		    end - i - 1, flags, out, NULL, why);
	if (!(flags & ADDR_ALLOW_BARE))
		return fail(why, "address has no domain");
	return canon_build(buf_str(local), local->len, NULL, 0, flags, out,
	    NULL, why);
}

/* addr_parse_path - one RFC 5321 path or bare address, canonical */
int
addr_parse_path(const char *in, size_t len, int flags, struct buf *out,
    struct buf *why)
{
	struct buf	 local;
	size_t		 i = 0, j;
	int		 angle = 0, rc;

	buf_reset(out);
	for (j = 0; j < len; j++) {
		unsigned char	 c = (unsigned char)in[j];

		if (c < 0x20 || c == 0x7f)
			return fail(why, "control character in address");
		if (c >= 0x80 && !(flags & ADDR_UTF8))
			return fail(why, "non-ASCII character in address");
	}
	if (len > 0 && in[0] == '<')
		angle = 1;
	else if (flags & ADDR_NEED_ANGLE)
		return fail(why, "missing '<'");
	if (angle) {
		i = 1;
		if (i < len && in[i] == '>') {
			if (len != 2)
				return fail(why, "text after '>'");
			if (!(flags & ADDR_ALLOW_NULL))
				return fail(why, "null address not allowed");
			return 0;
		}
		if (i < len && in[i] == '@') {
			buf_init(&local, ADDR_CANON_MAX);
			rc = path_route(in, len, &i, &local, why);
			buf_free(&local);
			if (rc == -1)
				return -1;
		}
	} else if (len == 0) {
		if (!(flags & ADDR_ALLOW_NULL))
			return fail(why, "empty address");
		return 0;
	}

	buf_init(&local, ADDR_MAX + 1);
	rc = path_mailbox(in, len, i, angle, flags, &local, out, why);
	buf_free(&local);
	if (rc == -1)
		buf_reset(out);
	return rc;
}

/* addr_path_span - the length of the path at the start of in */
size_t
addr_path_span(const char *in, size_t len)
{
	size_t	 i;
	int	 quoted = 0;

	if (len == 0 || in[0] != '<') {
		for (i = 0; i < len && in[i] != ' '; i++)
			continue;
		return i;
	}
	for (i = 1; i < len; i++) {
		if (quoted && in[i] == '\\')
			i++;
		else if (in[i] == '"')
			quoted = !quoted;
		else if (!quoted && in[i] == '>')
			return i + 1;
	}
	return 0;
}

/* addr_split - the unquoted local part and the domain of an address */
int
addr_split(const char *addr, struct buf *local, const char **domain,
    struct buf *why)
{
	const char	*p = addr, *at;
	int		 rc;

	buf_reset(local);
	*domain = NULL;
	if (*p == '"') {
		for (p++; *p != '"'; p++) {
			if (*p == '\\')
				p++;
			if (*p == '\0')
				return fail(why, "not a canonical address");
			if ((rc = buf_addc(local, *p)) != BUF_OK)
				return fail_buf(why, rc);
		}
		p++;
		if (*p == '@')
			*domain = p + 1;
		else if (*p != '\0')
			return fail(why, "not a canonical address");
		return 0;
	}
	if ((at = strchr(p, '@')) == NULL)
		rc = buf_adds(local, p);
	else {
		rc = buf_add(local, p, (size_t)(at - p));
		*domain = at + 1;
	}
	return rc == BUF_OK ? 0 : fail_buf(why, rc);
}

/* addr_make - the canonical address for a local part and a domain */
int
addr_make(const char *local, size_t len, const char *domain,
    struct buf *out, struct buf *why)
{
	int	 rc;

	buf_reset(out);
	if ((rc = local_append(out, local, len)) != BUF_OK ||
	    (domain != NULL && ((rc = buf_addc(out, '@')) != BUF_OK ||
	    (rc = buf_adds(out, domain)) != BUF_OK)))
		return fail_buf(why, rc);
	return 0;
}

/* addr_is_null - whether a canonical address is the null path */
int
addr_is_null(const char *addr)
{
	return addr[0] == '\0';
}

/*
 * The RFC 5322 lexer.
 */

/* lex_fail - set why for the list and return -1 */
static int
lex_fail(struct lex *lx, const char *msg)
{
	return fail(lx->why, msg);
}

/* lex_fold - step over a line break at pos, which must be folding */
static int
lex_fold(struct lex *lx)
{
	size_t	 i = lx->pos;

	if (lx->in[i] == '\r') {
		if (i + 1 >= lx->len || lx->in[i + 1] != '\n')
			return lex_fail(lx, "bare CR in address list");
		i++;
	}
	i++;
	if (i < lx->len && !is_wsp(lx->in[i]))
		return lex_fail(lx,
		    "line break not followed by white space in address list");
	lx->pos = i;
	return 0;
}

/* lex_cfws - skip white space, folding and (nested) comments */
static int
lex_cfws(struct lex *lx)
{
	size_t	 depth;
	char	 c;

	while (lx->pos < lx->len) {
		c = lx->in[lx->pos];
		if (is_wsp(c)) {
			lx->pos++;
			continue;
		}
		if (c == '\r' || c == '\n') {
			if (lex_fold(lx) == -1)
				return -1;
			continue;
		}
		if (c != '(')
			return 0;
		for (depth = 1, lx->pos++; depth > 0; ) {
			if (lx->pos >= lx->len)
				return lex_fail(lx, "unterminated comment");
			c = lx->in[lx->pos];
			if (c == '\r' || c == '\n') {
				if (lex_fold(lx) == -1)
					return -1;
				continue;
			}
			if (c == '\\') {
				if (++lx->pos >= lx->len)
					return lex_fail(lx,
					    "unterminated comment");
				c = lx->in[lx->pos];
				if (c == '\r' || c == '\n')
					return lex_fail(lx,
					    "line break after '\\'");
			} else if (c == '(')
				depth++;
			else if (c == ')')
				depth--;
			lx->pos++;
		}
	}
	return 0;
}

/*
 * lex_encoded_word - an RFC 2047 encoded word at pos ends at *end; its
 * text may hold specials (',' in a Q-encoded name), which stay inside
 */
static int
lex_encoded_word(struct lex *lx, size_t *end)
{
	const char	*s = lx->in;
	size_t		 i = lx->pos + 2, part;

	for (part = 0; part < 2; part++) {
		size_t	 start = i;

		while (i < lx->len && s[i] > ' ' && s[i] < 0x7f && s[i] != '?')
			i++;
		if (i == start || i >= lx->len || s[i] != '?')
			return 0;
		i++;
	}
	while (i < lx->len && s[i] > ' ' && s[i] < 0x7f && s[i] != '?')
		i++;
	if (i + 1 >= lx->len || s[i] != '?' || s[i + 1] != '=')
		return 0;
	*end = i + 2;
	return 1;
}

/* lex_next - the next token after CFWS */
static int
lex_next(struct lex *lx, struct tok *t)
{
	const char	*s = lx->in;
	size_t		 i, end;
	unsigned char	 c;

	if (lex_cfws(lx) == -1)
		return -1;
	t->start = lx->pos;
	t->c = 0;
	if (lx->pos >= lx->len) {
		t->type = TOK_END;
		t->end = lx->pos;
		return 0;
	}
	c = (unsigned char)s[lx->pos];
	switch (c) {
	case '"':
		for (i = lx->pos + 1; ; i++) {
			if (i >= lx->len)
				return lex_fail(lx,
				    "unterminated quoted string");
			if (s[i] == '"')
				break;
			if (s[i] == '\\') {
				if (++i >= lx->len)
					return lex_fail(lx,
					    "unterminated quoted string");
				if (s[i] == '\r' || s[i] == '\n')
					return lex_fail(lx,
					    "line break after '\\'");
			} else if (s[i] == '\r' || s[i] == '\n') {
				lx->pos = i;
				if (lex_fold(lx) == -1)
					return -1;
				i = lx->pos - 1;
			}
		}
		t->type = TOK_QUOTED;
		lx->pos = i + 1;
		break;
	case '[':
		for (i = lx->pos + 1; ; i++) {
			if (i >= lx->len)
				return lex_fail(lx, "missing ']'");
			if (s[i] == ']')
				break;
			if (s[i] == '[' || s[i] == '\\')
				return lex_fail(lx,
				    "bad character in domain literal");
			if (s[i] == '\r' || s[i] == '\n') {
				lx->pos = i;
				if (lex_fold(lx) == -1)
					return -1;
				i = lx->pos - 1;
			}
		}
		t->type = TOK_LITERAL;
		lx->pos = i + 1;
		break;
	case ')':
		return lex_fail(lx, "unbalanced ')'");
	case ']':
		return lex_fail(lx, "unbalanced ']'");
	case '\\':
		return lex_fail(lx, "stray '\\'");
	case '<': case '>': case '@': case ',': case ';': case ':': case '.':
		t->type = TOK_SPECIAL;
		t->c = c;
		lx->pos++;
		break;
	default:
		if (c == '=' && lx->pos + 1 < lx->len &&
		    s[lx->pos + 1] == '?' && lex_encoded_word(lx, &end))
			lx->pos = end;
		while (lx->pos < lx->len &&
		    ((unsigned char)s[lx->pos] >= 0x80 || is_atext(s[lx->pos])))
			lx->pos++;
		if (lx->pos == t->start)
			return lex_fail(lx, "bad character in address list");
		t->type = TOK_ATOM;
		break;
	}
	t->end = lx->pos;
	return 0;
}

/* tok_is_word - an atom or a quoted string */
static int
tok_is_word(const struct tok *t)
{
	return t->type == TOK_ATOM || t->type == TOK_QUOTED;
}

/* tok_unquote - append a word's content (quotes, pairs, CRLF removed) */
static int
tok_unquote(struct walk *w, const struct tok *t, struct buf *out)
{
	const char	*s = w->lx.in;
	size_t		 i;
	int		 rc;

	if (t->type != TOK_QUOTED) {
		if ((rc = buf_add(out, s + t->start, t->end - t->start)) !=
		    BUF_OK)
			return fail_buf(w->lx.why, rc);
		return 0;
	}
	for (i = t->start + 1; i < t->end - 1; i++) {
		if (s[i] == '\r' || s[i] == '\n')
			continue;
		if (s[i] == '\\')
			i++;
		if ((rc = buf_addc(out, s[i])) != BUF_OK)
			return fail_buf(w->lx.why, rc);
	}
	return 0;
}

/* text_copy - a display or group name as written, unfolded */
static int
text_copy(struct walk *w, size_t start, size_t end, struct buf *out,
    const char *what)
{
	size_t	 i;
	int	 rc;

	buf_reset(out);
	for (i = start; i < end; i++) {
		if (w->lx.in[i] == '\r' || w->lx.in[i] == '\n')
			continue;
		if ((rc = buf_addc(out, w->lx.in[i])) != BUF_OK) {
			if (rc == BUF_NOMEM)
				return fail(w->lx.why, "out of memory");
			return fail(w->lx.why, what);
		}
	}
	return 0;
}

/* walk_local - word *("." word) into w->local; *end after the last word */
static int
walk_local(struct walk *w, size_t *end)
{
	struct tok	 t;
	size_t		 save;

	buf_reset(&w->local);
	if (lex_next(&w->lx, &t) == -1)
		return -1;
	if (!tok_is_word(&t)) {
		if (t.type == TOK_SPECIAL && t.c == '@')
			return lex_fail(&w->lx, "empty local part");
		if (t.type == TOK_SPECIAL && t.c == '.')
			return lex_fail(&w->lx, "misplaced '.' in local part");
		return lex_fail(&w->lx, "bad local part");
	}
	for (;;) {
		if (tok_unquote(w, &t, &w->local) == -1)
			return -1;
		*end = t.end;
		save = w->lx.pos;
		if (lex_next(&w->lx, &t) == -1)
			return -1;
		if (t.type != TOK_SPECIAL || t.c != '.') {
			w->lx.pos = save;
			return 0;
		}
		if (buf_addc(&w->local, '.') != BUF_OK)
			return fail(w->lx.why, "address too long");
		if (lex_next(&w->lx, &t) == -1)
			return -1;
		if (!tok_is_word(&t))
			return lex_fail(&w->lx, "misplaced '.' in local part");
	}
}

/* walk_domain - a dot-atom, obsolete domain or literal into out, raw */
static int
walk_domain(struct walk *w, struct buf *out)
{
	struct tok	 t;
	size_t		 save, i;
	int		 prev_atom = 0, rc = BUF_OK;

	buf_reset(out);
	save = w->lx.pos;
	if (lex_next(&w->lx, &t) == -1)
		return -1;
	if (t.type == TOK_LITERAL) {
		for (i = t.start; i < t.end && rc == BUF_OK; i++)
			if (!is_wsp(w->lx.in[i]) && w->lx.in[i] != '\r' &&
			    w->lx.in[i] != '\n')
				rc = buf_addc(out, w->lx.in[i]);
		return rc == BUF_OK ? 0 : fail(w->lx.why, "domain too long");
	}
	if (t.type != TOK_ATOM && !(t.type == TOK_SPECIAL && t.c == '.'))
		return lex_fail(&w->lx, "missing domain after '@'");
	for (;;) {
		if (t.type == TOK_ATOM) {
			if (prev_atom)
				break;
			rc = buf_add(out, w->lx.in + t.start, t.end - t.start);
			prev_atom = 1;
		} else if (t.type == TOK_SPECIAL && t.c == '.') {
			rc = buf_addc(out, '.');
			prev_atom = 0;
		} else
			break;
		if (rc != BUF_OK)
			return fail(w->lx.why, "domain too long");
		save = w->lx.pos;
		if (lex_next(&w->lx, &t) == -1)
			return -1;
	}
	w->lx.pos = save;
	return 0;
}

/* walk_route - an obsolete route "@a,@b:" after '<' (checked, dropped) */
static int
walk_route(struct walk *w)
{
	struct tok	 t;
	int		 seen = 0;

	for (;;) {
		if (lex_next(&w->lx, &t) == -1)
			return -1;
		if (t.type != TOK_SPECIAL)
			return lex_fail(&w->lx, "bad route in address");
		if (t.c == ',')
			continue;
		if (t.c == ':' && seen)
			return 0;
		if (t.c != '@')
			return lex_fail(&w->lx, "bad route in address");
		if (walk_domain(w, &w->dom) == -1)
			return -1;
		buf_reset(&w->scratch);
		if (w->dom.len == 0 || w->dom.data[0] == '[' ||
		    domain_canon(w->dom.data, w->dom.len, ADDR_UTF8,
		    &w->scratch, w->lx.why) == -1)
			return lex_fail(&w->lx, "bad domain in route");
		seen = 1;
	}
}

/*
 * walk_mailbox - an addr-spec, inside '<' when angle; the display name
 * (if any) is the raw span [ds, de).  Calls back.
 */
static int
walk_mailbox(struct walk *w, int angle, size_t ds, size_t de)
{
	struct addr_mbox	 mb;
	struct tok		 t;
	size_t			 save, lend = 0, domoff;
	int			 hasdom = 0, rc;
	unsigned char		 c;
	size_t			 i;

	if (angle) {
		save = w->lx.pos;
		if (lex_next(&w->lx, &t) == -1)
			return -1;
		if (t.type == TOK_SPECIAL && t.c == '>')
			return lex_fail(&w->lx, "empty address in '<>'");
		if (t.type == TOK_SPECIAL && (t.c == '@' || t.c == ',')) {
			w->lx.pos = save;
			if (walk_route(w) == -1)
				return -1;
		} else
			w->lx.pos = save;
	}
	if (walk_local(w, &lend) == -1)
		return -1;
	save = w->lx.pos;
	if (lex_next(&w->lx, &t) == -1)
		return -1;
	if (t.type == TOK_SPECIAL && t.c == '@') {
		if (walk_domain(w, &w->dom) == -1)
			return -1;
		hasdom = 1;
		save = w->lx.pos;
		if (lex_next(&w->lx, &t) == -1)
			return -1;
		if (t.type == TOK_SPECIAL && t.c == '@')
			return lex_fail(&w->lx, "more than one '@' in address");
	}
	if (angle) {
		if (t.type == TOK_END)
			return lex_fail(&w->lx, "missing closing '>'");
		if (t.type != TOK_SPECIAL || t.c != '>')
			return lex_fail(&w->lx, "bad address inside '<>'");
	} else {
		w->lx.pos = save;
		if (tok_is_word(&t))
			return lex_fail(&w->lx,
			    "bad address: text after it (missing '<'?)");
	}
	if (canon_build(w->local.data != NULL ? w->local.data : "",
	    w->local.len, hasdom ? buf_str(&w->dom) : NULL, w->dom.len,
	    ADDR_UTF8, &w->addr, &domoff, w->lx.why) == -1)
		return -1;
	if (++w->count > ADDR_LIST_MAX)
		return lex_fail(&w->lx, "too many addresses in list");
	memset(&mb, 0, sizeof(mb));
	mb.addr = buf_str(&w->addr);
	mb.local = buf_str(&w->local);
	mb.domain = hasdom ? mb.addr + domoff : NULL;
	for (i = 0; i < w->addr.len; i++) {
		c = (unsigned char)w->addr.data[i];
		if (c >= 0x80)
			mb.utf8 = 1;
	}
	if (de > ds) {
		if (text_copy(w, ds, de, &w->display,
		    "display name too long") == -1)
			return -1;
		mb.display = buf_str(&w->display);
	}
	if (w->ingroup)
		mb.group = buf_str(&w->group);
	if (!hasdom && w->qcb != NULL && (rc = w->qcb(lend, w->qarg)) != 0)
		return rc;
	if (w->cb != NULL && (rc = w->cb(&mb, w->arg)) != 0)
		return rc;
	return 0;
}

/* walk_group - "name:" was read; the members through ';' or the end */
static int
walk_group(struct walk *w, size_t ns, size_t ne)
{
	struct tok	 t;
	size_t		 save;
	int		 rc;

	if (w->ingroup)
		return lex_fail(&w->lx, "group inside a group");
	if (ne <= ns)
		return lex_fail(&w->lx, "group has no name");
	if (text_copy(w, ns, ne, &w->group, "group name too long") == -1)
		return -1;
	w->ingroup = 1;
	for (;;) {
		save = w->lx.pos;
		if (lex_next(&w->lx, &t) == -1)
			return -1;
		if (t.type == TOK_END || (t.type == TOK_SPECIAL && t.c == ';'))
			break;
		if (t.type == TOK_SPECIAL && t.c == ',')
			continue;
		w->lx.pos = save;
		if ((rc = walk_address(w)) != 0)
			return rc;
		if (lex_next(&w->lx, &t) == -1)
			return -1;
		if (t.type == TOK_END || (t.type == TOK_SPECIAL && t.c == ';'))
			break;
		if (t.type != TOK_SPECIAL || t.c != ',')
			return lex_fail(&w->lx,
			    "expected ',' or ';' after address in group");
	}
	w->ingroup = 0;
	w->wasgroup = 1;
	return 0;
}

/*
 * walk_address - one address: look ahead to the first '<', ':', ',',
 * ';', '>' or the end to tell a name-addr, a group and an addr-spec
 * apart, then parse it.
 */
static int
walk_address(struct walk *w)
{
	struct tok	 t;
	size_t		 start = w->lx.pos, ds = 0, de = 0;
	int		 n = 0;

	w->wasgroup = 0;
	for (;;) {
		if (lex_next(&w->lx, &t) == -1)
			return -1;
		if (t.type == TOK_END)
			break;
		if (t.type == TOK_SPECIAL && strchr("<:,;>", t.c) != NULL)
			break;
		if (n++ == 0)
			ds = t.start;
		de = t.end;
	}
	if (t.type == TOK_SPECIAL && t.c == '<')
		return walk_mailbox(w, 1, ds, de);
	if (t.type == TOK_SPECIAL && t.c == ':')
		return walk_group(w, ds, de);
	if (t.type == TOK_SPECIAL && t.c == '>')
		return lex_fail(&w->lx, "unexpected '>'");
	if (n == 0)
		return lex_fail(&w->lx, "empty address");
	w->lx.pos = start;
	return walk_mailbox(w, 0, 0, 0);
}

/* walk_list - the whole list; qcb (internal) hears of bare mailboxes */
static int
walk_list(const char *in, size_t len,
    int (*cb)(const struct addr_mbox *, void *),
    void *arg, int (*qcb)(size_t, void *), void *qarg, struct buf *why)
{
	struct walk	 w;
	struct tok	 t;
	size_t		 i, save;
	int		 rc = 0;

	for (i = 0; i < len; i++) {
		unsigned char	 c = (unsigned char)in[i];

		if ((c < 0x20 && c != '\t' && c != '\r' && c != '\n') ||
		    c == 0x7f)
			return fail(why, "control character in address list");
	}
	memset(&w, 0, sizeof(w));
	w.lx.in = in;
	w.lx.len = len;
	w.lx.why = why;
	w.cb = cb;
	w.qcb = qcb;
	w.arg = arg;
	w.qarg = qarg;
	buf_init(&w.local, ADDR_MAX + 1);
	buf_init(&w.dom, ADDR_MAX + 1);
	buf_init(&w.addr, ADDR_CANON_MAX);
	buf_init(&w.display, ADDR_TEXT_MAX);
	buf_init(&w.group, ADDR_TEXT_MAX);
	buf_init(&w.scratch, ADDR_CANON_MAX);
	for (;;) {
		save = w.lx.pos;
		if ((rc = lex_next(&w.lx, &t)) != 0)
			break;
		if (t.type == TOK_END)
			break;
		if (t.type == TOK_SPECIAL && t.c == ',')
			continue;
		w.lx.pos = save;
		if ((rc = walk_address(&w)) != 0)
			break;
		if ((rc = lex_next(&w.lx, &t)) != 0)
			break;
		if (t.type == TOK_END)
			break;
		if (w.wasgroup && (t.type != TOK_SPECIAL || t.c == '<')) {
			/* obsolete: "a: b;c: d;" with no ',' between */
			w.lx.pos = t.start;
			continue;
		}
		if (t.type != TOK_SPECIAL || t.c != ',') {
			rc = fail(why, t.type == TOK_SPECIAL && t.c == ';' ?
			    "';' outside a group" :
			    "expected ',' between addresses");
			break;
		}
	}
	buf_free(&w.local);
	buf_free(&w.dom);
	buf_free(&w.addr);
	buf_free(&w.display);
	buf_free(&w.group);
	buf_free(&w.scratch);
	return rc;
}

/* addr_parse_list - call cb for each mailbox of an address list */
int
addr_parse_list(const char *in, size_t len,
    int (*cb)(const struct addr_mbox *, void *), void *arg, struct buf *why)
{
	return walk_list(in, len, cb, arg, NULL, NULL, why);
}

/* qual_note - remember where "@origin" goes */
static int
qual_note(size_t at, void *arg)
{
	struct qual	*q = arg;

	if (buf_add(&q->at, &at, sizeof(at)) != BUF_OK)
		return QUAL_NOMEM;
	return 0;
}

/* qual_count - every mailbox of a qualified list must have a domain */
static int
qual_count(const struct addr_mbox *mb, void *arg)
{
	(void)arg;
	return mb->domain == NULL ? QUAL_BARE : 0;
}

/* addr_qualify_list - append "@origin" to every domainless mailbox */
int
addr_qualify_list(const char *in, size_t len, const char *origin,
    struct buf *out, struct buf *why)
{
	struct qual	 q;
	struct buf	 dom;
	size_t		 i, n, at, prev = 0;
	int		 rc;

	buf_reset(out);
	buf_init(&dom, ADDR_CANON_MAX);
	if (domain_canon(origin, strlen(origin), ADDR_UTF8, &dom, why) == -1) {
		buf_free(&dom);
		return fail(why, "bad origin domain");
	}
	buf_init(&q.at, ADDR_LIST_MAX * sizeof(size_t));
	rc = walk_list(in, len, NULL, NULL, qual_note, &q, why);
	if (rc != 0) {
		if (rc == QUAL_NOMEM)
			rc = fail(why, "out of memory");
		goto out;
	}
	n = q.at.len / sizeof(size_t);
	for (i = 0; i <= n; i++) {
		if (i < n)
			memcpy(&at, q.at.data + i * sizeof(size_t), sizeof(at));
		else
			at = len;
		if ((rc = buf_add(out, in + prev, at - prev)) != BUF_OK ||
		    (i < n && ((rc = buf_addc(out, '@')) != BUF_OK ||
		    (rc = buf_add(out, dom.data, dom.len)) != BUF_OK))) {
			rc = fail(why, rc == BUF_NOMEM ? "out of memory" :
			    "header value too long");
			goto out;
		}
		prev = at;
	}
	/* A qualified address may now be too long: check the result. */
	rc = 0;
	if (n > 0 && (rc = walk_list(out->data, out->len, qual_count, NULL,
	    NULL, NULL, why)) == QUAL_BARE)
		rc = fail(why, "qualified list still has a bare name");
 out:
	if (rc != 0)
		buf_reset(out);
	buf_free(&q.at);
	buf_free(&dom);
	return rc == 0 ? 0 : -1;
}

/*
 * addr_literal_is_mine - whether "[a.b.c.d]" or "[IPv6:...]" is an
 * address of one of this host's interfaces (getifaddrs(3)); compared
 * as addresses, not as text
 */
int
addr_literal_is_mine(const char *domain)
{
	struct ifaddrs	*ifa, *i;
	unsigned char	 want[16];
	char		 tmp[INET6_ADDRSTRLEN + 8];
	const char	*a;
	size_t		 n = strlen(domain);
	int		 found = 0, fam;

	if (n < 3 || domain[0] != '[' || domain[n - 1] != ']' ||
	    n - 2 >= sizeof(tmp))
		return 0;
	memcpy(tmp, domain + 1, n - 2);
	tmp[n - 2] = '\0';
	if (strncasecmp(tmp, "IPv6:", 5) == 0) {
		a = tmp + 5;
		fam = AF_INET6;
	} else {
		a = tmp;
		fam = AF_INET;
	}
	if (inet_pton(fam, a, want) != 1 || getifaddrs(&ifa) != 0)
		return 0;
	for (i = ifa; i != NULL && !found; i = i->ifa_next) {
		if (i->ifa_addr == NULL || i->ifa_addr->sa_family != fam)
			continue;
		if (fam == AF_INET)
			found = memcmp(&((struct sockaddr_in *)(void *)
			    i->ifa_addr)->sin_addr, want, 4) == 0;
		else
			found = memcmp(&((struct sockaddr_in6 *)(void *)
			    i->ifa_addr)->sin6_addr, want, 16) == 0;
	}
	freeifaddrs(ifa);
	return found;
}
