/*
 * h-addr.c - correo-test addr-path, addr-list and addr-qualify
 *
 * Each reads one case per line of stdin.  So that a case can hold the
 * bytes a line cannot, "\r", "\n", "\t", "\0" and "\xHH" in the input
 * stand for those bytes; any other backslash is itself (a quoted pair
 * is written as it is).  The output writes control bytes, and the
 * bytes >= 0x80 of text that is not UTF-8, the same way.
 *
 *	addr-path [null] [angle] [bare] [utf8]
 *		"<canonical>" or "error: reason" per line; the words set
 *		ADDR_ALLOW_NULL, ADDR_NEED_ANGLE, ADDR_ALLOW_BARE, ADDR_UTF8
 *	addr-list
 *		"in: line", then "  addr=<..> display=<..> group=<..>" per
 *		mailbox ("<>": none), "  (none)" or "  error: reason"
 *	addr-qualify origin
 *		the rewritten value or "error: reason" per line
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sysexits.h>

#include "common/addr.h"
#include "common/buf.h"
#include "t/helper/correo-test.h"

#define H_LINE_MAX	65536

static int	 h_hex(int);
static int	 h_decode(const char *, size_t, struct buf *);
static void	 h_put(const char *, size_t);
static int	 h_list_cb(const struct addr_mbox *, void *);
static int	 h_lines(int (*)(const struct buf *, void *), void *);
static int	 h_path_line(const struct buf *, void *);
static int	 h_list_line(const struct buf *, void *);
static int	 h_qualify_line(const struct buf *, void *);

/* h_hex - a hex digit's value or -1 */
static int
h_hex(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* h_decode - a line with its escapes replaced by the bytes */
static int
h_decode(const char *s, size_t n, struct buf *out)
{
	size_t	 i;
	int	 c, hi, lo;

	buf_reset(out);
	for (i = 0; i < n; i++) {
		c = (unsigned char)s[i];
		if (c == '\\' && i + 1 < n) {
			switch (s[i + 1]) {
			case 'r':
				c = '\r';
				i++;
				break;
			case 'n':
				c = '\n';
				i++;
				break;
			case 't':
				c = '\t';
				i++;
				break;
			case '0':
				c = '\0';
				i++;
				break;
			case 'x':
				if (i + 3 < n && (hi = h_hex(s[i + 2])) >= 0 &&
				    (lo = h_hex(s[i + 3])) >= 0) {
					c = hi * 16 + lo;
					i += 3;
				}
				break;
			default:
				break;
			}
		}
		if (buf_addc(out, c) != BUF_OK)
			return -1;
	}
	return 0;
}

/* h_put - write bytes with controls (and bytes of bad UTF-8) escaped */
static void
h_put(const char *s, size_t n)
{
	size_t		 i;
	unsigned char	 c;
	int		 utf8 = addr_utf8_valid(s, n);

	for (i = 0; i < n; i++) {
		c = (unsigned char)s[i];
		if (c == '\r')
			fputs("\\r", stdout);
		else if (c == '\n')
			fputs("\\n", stdout);
		else if (c == '\t')
			fputs("\\t", stdout);
		else if (c < 0x20 || c == 0x7f || (c >= 0x80 && !utf8))
			printf("\\x%02x", c);
		else
			putchar(c);
	}
}

/* h_lines - call fn with each decoded line of stdin */
static int
h_lines(int (*fn)(const struct buf *, void *), void *arg)
{
	struct buf	 b;
	char		*line = NULL;
	size_t		 cap = 0;
	ssize_t		 n;
	int		 rc = 0;

	buf_init(&b, H_LINE_MAX);
	while ((n = getline(&line, &cap, stdin)) > 0) {
		if (line[n - 1] == '\n')
			n--;
		if (h_decode(line, (size_t)n, &b) == -1) {
			fprintf(stderr, "correo-test: line too long\n");
			rc = EX_DATAERR;
			break;
		}
		if ((rc = fn(&b, arg)) != 0)
			break;
	}
	free(line);
	buf_free(&b);
	if (ferror(stdin)) {
		fprintf(stderr, "correo-test: read error\n");
		return EX_IOERR;
	}
	return rc;
}

/* h_path_line - one addr-path case */
static int
h_path_line(const struct buf *in, void *arg)
{
	struct buf	 out, why;
	int		 flags = *(int *)arg;

	buf_init(&out, ADDR_CANON_MAX);
	buf_init(&why, 1024);
	if (addr_parse_path(in->data, in->len, flags, &out, &why) == 0) {
		putchar('<');
		h_put(out.data != NULL ? out.data : "", out.len);
		puts(">");
	} else
		printf("error: %s\n", buf_str(&why));
	buf_free(&out);
	buf_free(&why);
	return 0;
}

/* h_addr_path - correo-test addr-path [null] [angle] [bare] [utf8] */
int
h_addr_path(int argc, char **argv)
{
	int	 i, flags = 0;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "null") == 0)
			flags |= ADDR_ALLOW_NULL;
		else if (strcmp(argv[i], "angle") == 0)
			flags |= ADDR_NEED_ANGLE;
		else if (strcmp(argv[i], "bare") == 0)
			flags |= ADDR_ALLOW_BARE;
		else if (strcmp(argv[i], "utf8") == 0)
			flags |= ADDR_UTF8;
		else {
			fprintf(stderr, "usage: correo-test addr-path "
			    "[null] [angle] [bare] [utf8]\n");
			return EX_USAGE;
		}
	}
	return h_lines(h_path_line, &flags);
}

/* h_list_cb - print one mailbox */
static int
h_list_cb(const struct addr_mbox *mb, void *arg)
{
	int	*count = arg;

	(*count)++;
	fputs("  addr=<", stdout);
	h_put(mb->addr, strlen(mb->addr));
	fputs("> display=<", stdout);
	if (mb->display != NULL)
		h_put(mb->display, strlen(mb->display));
	fputs("> group=<", stdout);
	if (mb->group != NULL)
		h_put(mb->group, strlen(mb->group));
	fputs(">", stdout);
	if (mb->utf8)
		fputs(" utf8", stdout);
	putchar('\n');
	return 0;
}

/* h_list_line - one addr-list case */
static int
h_list_line(const struct buf *in, void *arg)
{
	struct buf	 why;
	int		 count = 0;

	(void)arg;
	buf_init(&why, 1024);
	fputs("in: ", stdout);
	h_put(in->data, in->len);
	putchar('\n');
	if (addr_parse_list(in->data, in->len, h_list_cb, &count, &why) != 0)
		printf("  error: %s\n", buf_str(&why));
	else if (count == 0)
		puts("  (none)");
	buf_free(&why);
	return 0;
}

/* h_addr_list - correo-test addr-list */
int
h_addr_list(int argc, char **argv)
{
	(void)argv;
	if (argc != 1) {
		fprintf(stderr, "usage: correo-test addr-list\n");
		return EX_USAGE;
	}
	return h_lines(h_list_line, NULL);
}

/* h_qualify_line - one addr-qualify case */
static int
h_qualify_line(const struct buf *in, void *arg)
{
	struct buf	 out, why;

	buf_init(&out, H_LINE_MAX * 2);
	buf_init(&why, 1024);
	if (addr_qualify_list(in->data, in->len, arg, &out, &why) == 0) {
		h_put(out.data != NULL ? out.data : "", out.len);
		putchar('\n');
	} else
		printf("error: %s\n", buf_str(&why));
	buf_free(&out);
	buf_free(&why);
	return 0;
}

/* h_addr_qualify - correo-test addr-qualify origin */
int
h_addr_qualify(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: correo-test addr-qualify origin\n");
		return EX_USAGE;
	}
	return h_lines(h_qualify_line, argv[1]);
}
