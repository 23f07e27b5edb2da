/* stub: replaced by the module's own helper commands */
#include <stdio.h>
#include "t/helper/correo-test.h"

int
h_conf_dump(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	fprintf(stderr, "not built yet\n");
	return 69;
}
