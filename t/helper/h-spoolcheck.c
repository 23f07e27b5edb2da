/*
 * h-spoolcheck.c - correo-test spool-check QUEUE_DIRECTORY: load every
 * message in incoming/, queue/ and hold/ with spool_load(), and list
 * every directory entry that is not a loadable message.  Prints
 * "N messages, M bad" and exits 1 when anything is bad: the crash tests
 * use it to prove a kill leaves only complete messages or nothing.
 */
#include <sys/stat.h>

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "common/buf.h"
#include "spool/spool.h"
#include "t/helper/correo-test.h"

int
h_spool_check(int argc, char **argv)
{
	struct spool	 sp;
	struct spool_msg m;
	struct dirent	*de;
	struct buf	 why;
	DIR		*dir;
	int		 d, fd, good = 0, bad = 0;

	if (argc != 2) {
		fprintf(stderr, "usage: correo-test spool-check dir\n");
		return 64;
	}
	buf_init(&why, 4096);
	if (spool_open(&sp, argv[1], SPOOL_ADMIN | SPOOL_CREATE, &why) != 0) {
		fprintf(stderr, "%s\n", buf_str(&why));
		return 1;
	}
	for (d = 0; d < SPOOL_NDIRS; d++) {
		fd = openat(sp.dirfd[d], ".", O_RDONLY | O_DIRECTORY);
		if (fd < 0 || (dir = fdopendir(fd)) == NULL)
			return 1;
		while ((de = readdir(dir)) != NULL) {
			if (strcmp(de->d_name, ".") == 0 ||
			    strcmp(de->d_name, "..") == 0)
				continue;
			buf_reset(&why);
			if (spool_load(&sp, (enum spool_dir)d, de->d_name,
			    SPOOL_LOAD_PEEK, &m, &why) == 0) {
				good++;
				spool_msg_free(&m);
			} else {
				bad++;
				printf("bad: %s/%s: %s\n", spool_dir_name(
				    (enum spool_dir)d), de->d_name,
				    buf_str(&why));
			}
		}
		closedir(dir);
	}
	printf("%d messages, %d bad\n", good, bad);
	spool_close(&sp);
	buf_free(&why);
	return bad ? 1 : 0;
}
