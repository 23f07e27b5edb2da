/*
 * aliases - the aliases(5) file, in Postfix's syntax
 *
 * A file of logical lines (map.h: continuation lines start with white
 * space, '#' starts a comment line), each
 *
 *	name: value, value, ...
 *
 * The name is an atom or a quoted string ("a b": ...), local (no '@'
 * outside quotes), at most MAP_KEY_MAX bytes, and is handed out
 * unquoted and lower-case: names are case-insensitive.  The value is
 * kept as written (trimmed) and must not be empty.
 *
 * The value is a list separated by commas; a comma inside double
 * quotes does not separate, white space around an element is dropped
 * and empty elements are skipped.  Each element is one of
 *
 *	user, user@domain, "quoted local"@domain	ALIAS_ADDR
 *	\user		delivered without further aliasing	ALIAS_NOALIAS
 *	|command, "|command with, commas"		ALIAS_COMMAND
 *	/file/path, "/file with, commas"		ALIAS_FILE
 *	:include:/path/file				ALIAS_INCLUDE
 *
 * An element that is one quoted string is classified by its unquoted
 * text, so "|cmd" is a command; a backslash inside quotes escapes the
 * next character.  The text handed to the callback is: for ALIAS_ADDR
 * the element as written (quotes and all, for addr(3) to parse); for
 * ALIAS_NOALIAS what follows the backslash; for ALIAS_COMMAND what
 * follows the '|'; for ALIAS_FILE the path; for ALIAS_INCLUDE the path
 * after ":include:" (any case), without white space around it.
 *
 * aliases_parse() reads a file through map_text and calls fn for each
 * entry with the name, the value, and the line the entry starts on.
 * Every value is checked with aliases_split_value() first, so a file
 * that parses holds no value that fails at delivery time.  It returns
 * 0 at the end, -1 with "NAME, line N: reason" in why on the first
 * error, or -1 when fn returned -1 (fn fills why).
 *
 * aliases_split_value() splits one value (a stored one, at delivery
 * time) and calls fn for each element, once the whole value is known
 * to split (fn never sees part of a bad value); it returns 0, -1 with
 * a reason
 * in why for a syntax error (unterminated quotes, an empty command,
 * \ or :include: with nothing after it, a control character, a value
 * longer than MAP_VALUE_MAX), or -1 when fn returned non-zero (why is
 * then fn's business).  The text passed to fn is borrowed: it lives
 * until fn returns.  It allocates only for an element in quotes.
 *
 * aliases_format_element() appends the element as aliases_split_value
 * reads it back (quoted when it has to be), so that the elements
 * joined with ", " are a value that splits into the same elements.
 * It returns a buf(3) status.
 */
#ifndef COMMON_ALIASES_H
#define COMMON_ALIASES_H

#include <stddef.h>

#include "common/buf.h"
#include "common/map.h"

enum alias_kind {
	ALIAS_ADDR,		/* user, user@domain */
	ALIAS_NOALIAS,		/* \user */
	ALIAS_COMMAND,		/* |command */
	ALIAS_FILE,		/* /file/path */
	ALIAS_INCLUDE,		/* :include:/path/file */
};

int	 aliases_parse(struct map_text *,
	    int (*fn)(void *arg, const char *name, const char *value,
	    size_t vlen, int lineno, struct buf *why),
	    void *arg, struct buf *why);
int	 aliases_parse_mem(const char *name, const char *text, size_t len,
	    int (*fn)(void *arg, const char *name, const char *value,
	    size_t vlen, int lineno, struct buf *why),
	    void *arg, struct buf *why);
int	 aliases_split_value(const char *value, size_t len,
	    int (*fn)(enum alias_kind, const char *text, size_t len,
	    void *arg),
	    void *arg, struct buf *why);
int	 aliases_format_element(struct buf *, enum alias_kind,
	    const char *text, size_t len);
const char *aliases_kind_name(enum alias_kind);

#endif
