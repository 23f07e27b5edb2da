/*
 * correo-test - exposes library internals to the shell tests, in the
 * manner of git's test-tool: "correo-test NAME args..." runs one entry
 * of the table below.  Parsers read stdin and print a canonical form,
 * so golden tests are "correo-test X <case.in >out && cmp case.ref out".
 */
#include <stdio.h>
#include <string.h>
#include <sysexits.h>

#include "common/log.h"
#include "common/util.h"
#include "t/helper/correo-test.h"

static const struct {
	const char	*name;
	int		(*fn)(int, char **);
	const char	*usage;
} cmds[] = {
	HELPER_COMMANDS
};

int
main(int argc, char **argv)
{
	size_t	 i;

	log_init("correo-test", "test");
	if (argc >= 2) {
		for (i = 0; i < nitems(cmds); i++)
			if (strcmp(argv[1], cmds[i].name) == 0)
				return cmds[i].fn(argc - 1, argv + 1);
	}
	fprintf(stderr, "usage: correo-test command [args]\n");
	for (i = 0; i < nitems(cmds); i++)
		fprintf(stderr, "  %s %s\n", cmds[i].name, cmds[i].usage);
	return EX_USAGE;
}
