/*
 * h-aliases.c - the aliases(5) parsers for golden tests
 *
 * correo-test aliases < file
 *	parse an aliases file (named "stdin" in messages) and print each
 *	entry and the elements of its value:
 *
 *		NAME line=N value=VALUE
 *			KIND TEXT
 *
 *	then "error: REASON" (exit status 1) if the file has an error.
 *
 * correo-test aliases-split < values
 *	split each line as a stored value and print its elements, and the
 *	value they make when joined again ("joined: ..."), which must
 *	split into the same elements ("MISMATCH" otherwise); a value that
 *	does not split prints "error: REASON" and the exit status is 1.
 *
 * Bytes outside printable ASCII, and the backslash, print as \xHH.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "common/aliases.h"
#include "common/buf.h"
#include "common/log.h"
#include "common/map.h"
#include "common/util.h"
#include "t/helper/correo-test.h"

#define H_ALIASES_MAX	(4 * 1024 * 1024)	/* the most read from stdin */
#define H_ALIASES_WHY	4096

static void	 h_aliases_put(const char *, size_t);
static int	 h_aliases_read(struct buf *);
static int	 h_aliases_elem(enum alias_kind, const char *, size_t, void *);
static int	 h_aliases_entry(void *, const char *, const char *, size_t,
		    int, struct buf *);
static int	 h_aliases_join(enum alias_kind, const char *, size_t, void *);
static int	 h_aliases_collect(enum alias_kind, const char *, size_t,
		    void *);

/* h_aliases_put - print bytes with the unprintable ones escaped */
static void
h_aliases_put(const char *s, size_t n)
{
	size_t		 i;
	unsigned char	 c;

	for (i = 0; i < n; i++) {
		c = (unsigned char)s[i];
		if (c < ' ' || c > '~' || c == '\\')
			printf("\\x%02x", c);
		else
			putchar(c);
	}
}

/* h_aliases_read - all of stdin; -1 when it is too big or unreadable */
static int
h_aliases_read(struct buf *in)
{
	char	 chunk[8192];
	ssize_t	 n;

	while ((n = read(0, chunk, sizeof(chunk))) > 0)
		if (buf_add(in, chunk, (size_t)n) != BUF_OK)
			return -1;
	return n < 0 ? -1 : 0;
}

/* h_aliases_elem - print one element */
static int
h_aliases_elem(enum alias_kind kind, const char *text, size_t len,
    void *arg)
{
	(void)arg;
	printf("\t%s ", aliases_kind_name(kind));
	h_aliases_put(text, len);
	putchar('\n');
	return 0;
}

/* h_aliases_entry - print one entry and its elements */
static int
h_aliases_entry(void *arg, const char *name, const char *value,
    size_t vlen, int lineno, struct buf *why)
{
	(void)arg;
	h_aliases_put(name, strlen(name));
	printf(" line=%d value=", lineno);
	h_aliases_put(value, vlen);
	putchar('\n');
	return aliases_split_value(value, vlen, h_aliases_elem, NULL, why);
}

/* h_aliases - correo-test aliases < file */
int
h_aliases(int argc, char **argv)
{
	struct buf	 in, why;
	int		 rc;

	(void)argv;
	if (argc != 1) {
		fprintf(stderr, "usage: correo-test aliases < file\n");
		return EX_USAGE;
	}
	log_open(NULL, "/dev/null");
	buf_init(&in, H_ALIASES_MAX);
	buf_init(&why, H_ALIASES_WHY);
	if (h_aliases_read(&in) != 0) {
		fprintf(stderr, "aliases: cannot read stdin\n");
		buf_free(&in);
		return EX_NOINPUT;
	}
	rc = aliases_parse_mem("stdin", buf_str(&in), in.len,
	    h_aliases_entry, NULL, &why);
	if (rc != 0) {
		fputs("error: ", stdout);
		h_aliases_put(why.data != NULL ? why.data : "", why.len);
		putchar('\n');
	}
	fflush(stdout);
	buf_free(&in);
	buf_free(&why);
	return rc != 0 ? 1 : 0;
}

/* h_aliases_join - append an element to the joined value */
static int
h_aliases_join(enum alias_kind kind, const char *text, size_t len,
    void *arg)
{
	struct buf	*joined = arg;

	if (joined->len > 0 && buf_adds(joined, ", ") != BUF_OK)
		return -1;
	return aliases_format_element(joined, kind, text, len) == BUF_OK ?
	    0 : -1;
}

/* h_aliases_collect - the elements as "KIND\tTEXT\n" */
static int
h_aliases_collect(enum alias_kind kind, const char *text, size_t len,
    void *arg)
{
	struct buf	*out = arg;

	if (buf_printf(out, "%s\t", aliases_kind_name(kind)) != BUF_OK ||
	    buf_add(out, text, len) != BUF_OK || buf_addc(out, '\n') != BUF_OK)
		return -1;
	return 0;
}

/* h_aliases_split - correo-test aliases-split < values */
int
h_aliases_split(int argc, char **argv)
{
	struct buf	 in, why, joined, first, again;
	const char	*p, *end, *nl;
	size_t		 n;
	int		 status = 0;

	(void)argv;
	if (argc != 1) {
		fprintf(stderr, "usage: correo-test aliases-split < values\n");
		return EX_USAGE;
	}
	buf_init(&in, H_ALIASES_MAX);
	buf_init(&why, H_ALIASES_WHY);
	buf_init(&joined, 4 * MAP_VALUE_MAX);
	buf_init(&first, 8 * MAP_VALUE_MAX);
	buf_init(&again, 8 * MAP_VALUE_MAX);
	if (h_aliases_read(&in) != 0) {
		fprintf(stderr, "aliases-split: cannot read stdin\n");
		buf_free(&in);
		return EX_NOINPUT;
	}
	for (p = buf_str(&in), end = p + in.len; p < end; p = nl + 1) {
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			nl = end;
		n = (size_t)(nl - p);
		fputs("value: ", stdout);
		h_aliases_put(p, n);
		putchar('\n');
		buf_reset(&joined);
		buf_reset(&first);
		buf_reset(&again);
		if (aliases_split_value(p, n, h_aliases_elem, NULL,
		    &why) != 0) {
			fputs("error: ", stdout);
			h_aliases_put(buf_str(&why), why.len);
			putchar('\n');
			status = 1;
			continue;
		}
		if (aliases_split_value(p, n, h_aliases_join, &joined,
		    &why) != 0 ||
		    aliases_split_value(p, n, h_aliases_collect, &first,
		    &why) != 0) {
			puts("error: joining failed");
			status = 1;
			continue;
		}
		fputs("joined: ", stdout);
		h_aliases_put(buf_str(&joined), joined.len);
		putchar('\n');
		if (aliases_split_value(joined.data != NULL ? joined.data :
		    "", joined.len, h_aliases_collect, &again, &why) != 0 ||
		    first.len != again.len ||
		    memcmp(buf_str(&first), buf_str(&again),
		    first.len) != 0) {
			puts("MISMATCH");
			status = 1;
		}
	}
	fflush(stdout);
	buf_free(&in);
	buf_free(&why);
	buf_free(&joined);
	buf_free(&first);
	buf_free(&again);
	return status;
}
