/*
 * newaliases - not built yet.
 *
 * This program arrives with its own issue.  Until then it says so and
 * exits EX_UNAVAILABLE, so that sendmail's modes that run it (and admins)
 * get a clear answer instead of a missing file.
 */
#include <stdio.h>
#include <sysexits.h>

int
main(void)
{
	fprintf(stderr, "newaliases: not built yet\n");
	return EX_UNAVAILABLE;
}
