/*
 * addr - mail addresses: RFC 5321 paths and RFC 5322 address lists
 *
 * addr_parse_path() parses one envelope path -- an SMTP reverse- or
 * forward-path, "<user@example.org>", or a bare address such as
 * sendmail's -f argument -- and writes its canonical form.
 * addr_parse_list() walks an RFC 5322 address list (a To, Cc or Bcc
 * value) and calls back once per mailbox.  addr_qualify_list() appends
 * "@origin" to every mailbox of such a list that has no domain, and
 * changes nothing else.
 *
 * The canonical form.  "local@domain": the local part is written as a
 * dot-atom when it is one and as an RFC 5321 quoted string otherwise
 * (only '"' and '\' backslash-escaped); the domain has ASCII letters
 * lower-cased, one trailing dot removed and, for an address literal,
 * the IPv4 or IPv6 address rewritten in its usual form ([IPv6:::1]).
 * The null path is "" and a bare local part (ADDR_ALLOW_BARE, and in
 * lists) is just the local part.  A canonical address always parses
 * back to itself with addr_parse_path(..., ADDR_ALLOW_NULL |
 * ADDR_ALLOW_BARE | ADDR_UTF8, ...), never holds a control character,
 * CR, LF or NUL, and holds bytes >= 0x80 (valid UTF-8) only when
 * ADDR_UTF8 allowed them (lists: see addr_mbox.utf8).
 *
 * Syntax accepted.  Local parts: dot-atoms and quoted strings; '%', '!'
 * and the like are ordinary local-part characters, never routing.
 * Domains: LDH labels (letters, digits, '-' inside a label; with
 * ADDR_UTF8 also UTF-8 bytes), or an IPv4 [1.2.3.4] or IPv6
 * [IPv6:2001:db8::1] address literal; other address literals and
 * underscores are rejected.  Source routes <@a,@b:user@x> are checked
 * and dropped (RFC 5321 appendix C).
 *
 * Limits.  A label is at most 63 octets, a domain at most
 * ADDR_DOMAIN_MAX, and a whole address, unquoted "local@domain", at
 * most ADDR_MAX ("address too long"): generous rather than RFC 5321's
 * 64-octet local part, which real mail (SRS, VERP) exceeds.  The
 * canonical (quoted) form fits in ADDR_CANON_MAX; a struct buf handed
 * in as out should allow that much.  A list yields at most
 * ADDR_LIST_MAX mailboxes; display and group names are at most
 * ADDR_TEXT_MAX octets.  Parsing is linear in the input and does not
 * recurse (comments may nest to any depth).
 *
 * Errors.  Every function returns 0 or -1 and, on -1, a one-line
 * human-readable reason in why (suitable for an SMTP reply or a bounce
 * after log_safe()); running out of memory is "out of memory", an
 * ordinary error.  Nothing here logs, exits or aborts.
 *
 * Ownership.  out and why are the caller's; on failure out holds
 * nothing useful.  The strings in a struct addr_mbox are borrowed and
 * valid only during the callback.
 */
#ifndef COMMON_ADDR_H
#define COMMON_ADDR_H

#include <stddef.h>

#include "common/buf.h"

#define ADDR_LABEL_MAX	63	/* one domain label */
#define ADDR_DOMAIN_MAX	255	/* a domain, after the trailing dot */
#define ADDR_MAX	512	/* unquoted "local@domain" */
#define ADDR_CANON_MAX	(2 * ADDR_MAX + 2)	/* the quoted form */
#define ADDR_TEXT_MAX	8192	/* a display or group name */
#define ADDR_LIST_MAX	10000	/* mailboxes in one address list */

enum addr_flags {
	ADDR_ALLOW_NULL = 1,	/* "<>" is valid (MAIL FROM, -f <>) */
	ADDR_NEED_ANGLE = 2,	/* SMTP: must be "<...>" */
	ADDR_ALLOW_BARE = 4,	/* a local part with no @domain is ok */
	ADDR_UTF8 = 8,		/* UTF-8 allowed (SMTPUTF8, 8-bit -t) */
};

/* One mailbox found in an RFC 5322 address list (all borrowed). */
struct addr_mbox {
	const char	*addr;		/* canonical "local@domain" / "local" */
	const char	*local;		/* the local part, unquoted */
	const char	*domain;	/* canonical domain; NULL when bare */
	const char	*display;	/* display name as written, unfolded;
					 * NULL when there is none */
	const char	*group;		/* enclosing group's name or NULL */
	int		 utf8;		/* addr holds non-ASCII (UTF-8) bytes */
};

/*
 * addr_parse_path - one RFC 5321 path or bare address (see above) into
 * its canonical form.  With ADDR_ALLOW_NULL "<>" (and, without
 * ADDR_NEED_ANGLE, the empty string) is the null path, "".  Nothing may
 * surround the path: the caller splits off SMTP parameters first, with
 * addr_path_span().
 */
int	 addr_parse_path(const char *in, size_t len, int flags,
	    struct buf *out, struct buf *why);

/*
 * addr_path_span - the length of the path at the start of in: through
 * the '>' that closes a leading '<' (quotes and literals respected), or
 * up to the first space; 0 when a '<' is never closed.
 */
size_t	 addr_path_span(const char *in, size_t len);

/*
 * addr_parse_list - call cb for each mailbox of an RFC 5322 address
 * list, in order: name-addr ("Name <a@b>", obsolete route-addr too),
 * addr-spec, group ("name: a, b;", empty groups, a final group without
 * its ';'), comments and folding wherever CFWS may be, empty members
 * (",,") and "user@host (Full Name)".  Mailboxes without a domain are
 * returned bare.  Encoded words are display text like any other.
 * A non-zero return from cb stops the walk and is returned; -1 with why
 * means the list does not parse (nothing after the error is reported,
 * but mailboxes before it were).
 */
int	 addr_parse_list(const char *in, size_t len,
	    int (*cb)(const struct addr_mbox *, void *), void *arg,
	    struct buf *why);

/*
 * addr_qualify_list - in copies to out with "@origin" inserted after
 * every domainless mailbox ("root", "Logwatch <logwatch>"); everything
 * else stays byte for byte.  out is identical to in when nothing needed
 * qualifying.  -1 with why when in does not parse, when origin is not a
 * valid domain, or when a qualified address would be too long; the
 * caller then leaves the header alone.
 */
int	 addr_qualify_list(const char *in, size_t len, const char *origin,
	    struct buf *out, struct buf *why);

/*
 * addr_split - the parts of a canonical address: the unquoted local
 * part into local, and *domain pointed into addr (NULL for a bare name
 * or the null path).  -1 with why if addr is not canonical-looking or
 * local is too small.
 */
int	 addr_split(const char *addr, struct buf *local, const char **domain,
	    struct buf *why);

/*
 * addr_make - the canonical address for an unquoted local part and a
 * canonical domain (NULL: bare), quoting the local part as needed.
 * The parts are not otherwise checked; -1 with why when out is full.
 */
int	 addr_make(const char *local, size_t len, const char *domain,
	    struct buf *out, struct buf *why);

/* addr_is_null - whether a canonical address is the null path */
int	 addr_is_null(const char *addr);

/* addr_utf8_valid - whether s[0..n) is well-formed UTF-8 (RFC 3629) */
int	 addr_utf8_valid(const char *s, size_t n);

/* addr_literal_is_mine - "[a.b.c.d]"/"[IPv6:..]" of a local interface */
int	 addr_literal_is_mine(const char *domain);

#endif
