/*
 * h-log.c - correo-test log-safe: escape stdin as a log line would
 */
#include <stdio.h>

#include "common/buf.h"
#include "common/log.h"
#include "t/helper/correo-test.h"

int
h_log_safe(int argc, char **argv)
{
	char	 in[4096], out[LOG_SAFE_MAX];
	size_t	 n;

	(void)argc;
	(void)argv;
	n = fread(in, 1, sizeof(in), stdin);
	printf("%s\n", log_safe(out, sizeof(out), in, n));
	return 0;
}
