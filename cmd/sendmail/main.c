#include <stdio.h>
#include <sysexits.h>

int
main(void)
{
	fprintf(stderr, "sendmail: not built yet\n");
	return EX_UNAVAILABLE;
}
