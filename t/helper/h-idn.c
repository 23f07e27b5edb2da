/*
 * h-idn.c - correo-test idn: one domain per line of stdin to its
 * A-label form, or "error: reason"
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sysexits.h>

#include "common/buf.h"
#include "common/idn.h"
#include "t/helper/correo-test.h"

/* h_idn - correo-test idn < domains */
int
h_idn(int argc, char **argv)
{
	struct buf	 out, why;
	char		*line = NULL;
	size_t		 cap = 0;
	ssize_t		 n;

	(void)argv;
	if (argc != 1) {
		fprintf(stderr, "usage: correo-test idn\n");
		return EX_USAGE;
	}
	buf_init(&out, IDN_INPUT_MAX);
	buf_init(&why, 1024);
	while ((n = getline(&line, &cap, stdin)) > 0) {
		if (line[n - 1] == '\n')
			line[--n] = '\0';
		if (idn_to_ascii(line, &out, &why) == 0)
			printf("%s\n", buf_str(&out));
		else
			printf("error: %s\n", buf_str(&why));
	}
	free(line);
	buf_free(&out);
	buf_free(&why);
	return ferror(stdin) ? EX_IOERR : 0;
}
