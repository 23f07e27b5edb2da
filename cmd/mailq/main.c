#include <stdio.h>
#include <sysexits.h>

int
main(void)
{
	fprintf(stderr, "mailq: not built yet\n");
	return EX_UNAVAILABLE;
}
