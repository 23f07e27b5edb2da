/*
 * h-hdr.c - correo-test hdr [field_max]: run the header parser over a
 * message on stdin and print its events, one a line:
 *
 *	FIELD name=NAME value=VALUE [truncated=1]
 *	END implicit=N
 *	BODY LINE
 *
 * Lines are split at LF, one CR before the LF is removed (as sendmail
 * does), and bytes outside printable ASCII, and the backslash, are
 * printed as \xHH.
 */
#include <stdio.h>
#include <stdlib.h>
#include <sysexits.h>

#include "common/hdr.h"
#include "common/util.h"
#include "t/helper/correo-test.h"

static void	h_hdr_put(const char *, size_t);
static void	h_hdr_drain(struct hdr_parser *);

/* h_hdr_put - print bytes with the unprintable ones escaped */
static void
h_hdr_put(const char *s, size_t n)
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

/* h_hdr_drain - print every event available now */
static void
h_hdr_drain(struct hdr_parser *p)
{
	struct hdr_event	 ev;

	while (hdr_next(p, &ev) != HDR_NONE) {
		switch (ev.type) {
		case HDR_FIELD:
			fputs("FIELD name=", stdout);
			h_hdr_put(ev.name, ev.namelen);
			fputs(" value=", stdout);
			h_hdr_put(ev.value, ev.valuelen);
			if (ev.truncated)
				fputs(" truncated=1", stdout);
			putchar('\n');
			break;
		case HDR_END:
			printf("END implicit=%d\n", ev.implicit);
			break;
		case HDR_BODY:
			fputs("BODY ", stdout);
			h_hdr_put(ev.line, ev.linelen);
			putchar('\n');
			break;
		case HDR_NONE:
			break;
		}
	}
}

/* h_hdr - correo-test hdr [field_max] < message */
int
h_hdr(int argc, char **argv)
{
	struct hdr_parser	*p;
	long long		 max = HDR_FIELD_MAX;
	const char		*why;
	char			*line = NULL;
	size_t			 cap = 0, len;
	ssize_t			 n;
	int			 status = 0;

	if (argc > 2 || (argc == 2 &&
	    num_parse(argv[1], 0, 1LL << 30, &max, &why) == -1)) {
		fprintf(stderr, "usage: correo-test hdr [field_max]\n");
		return EX_USAGE;
	}
	if ((p = hdr_new((size_t)max)) == NULL) {
		perror("hdr_new");
		return EX_TEMPFAIL;
	}
	while ((n = getline(&line, &cap, stdin)) > 0) {
		len = (size_t)n;
		if (line[len - 1] == '\n') {
			len--;
			if (len > 0 && line[len - 1] == '\r')
				len--;
		}
		if (hdr_push(p, line, len) == -1) {
			perror("hdr_push");
			status = EX_TEMPFAIL;
			break;
		}
		h_hdr_drain(p);
	}
	if (status == 0) {
		hdr_eof(p);
		h_hdr_drain(p);
	}
	free(line);
	hdr_free(p);
	fflush(stdout);
	return status;
}
