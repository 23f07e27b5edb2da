/*
 * h-conf.c - correo-test conf-dump [-n] [-o name=value]... [name...]
 *
 * Reads a configuration file from stdin, writes it as "correo.conf" in
 * a fresh temporary directory and loads it from there by that relative
 * name, so messages say "correo.conf, line N" and config_directory is
 * "." whatever the directory.  Then prints what sendmail -bP would:
 * every parameter, or the names given (-n: only those set).  Errors
 * print as "error: <why>" with exit status 1.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/conf.h"
#include "common/log.h"
#include "common/util.h"
#include "t/helper/correo-test.h"

#define H_CONF_MAX	(1024 * 1024)	/* the most read from stdin */
#define H_CONF_OPTS	32		/* -o options */

static int	 h_conf_write(const char *, const char *, size_t);

/* h_conf_write - the input as dir/correo.conf */
static int
h_conf_write(const char *path, const char *data, size_t len)
{
	int	 fd;

	if ((fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
	    0600)) < 0)
		return -1;
	if (write_all(fd, data, len) < 0) {
		close(fd);
		return -1;
	}
	return close(fd);
}

/* h_conf_dump - load stdin as correo.conf and print it as -bP would */
int
h_conf_dump(int argc, char **argv)
{
	struct buf	 in, why;
	const char	*tmp, *opts[H_CONF_OPTS];
	char		 dir[PATH_MAX], path[PATH_MAX], chunk[8192];
	size_t		 n, nopts = 0, i;
	int		 c, flags = CONF_PRINT_ALL, rc = 1;

	while ((c = getopt(argc, argv, "no:")) != -1) {
		switch (c) {
		case 'n':
			flags = CONF_PRINT_SET;
			break;
		case 'o':
			if (nopts == nitems(opts)) {
				fprintf(stderr, "conf-dump: too many -o\n");
				return 2;
			}
			opts[nopts++] = optarg;
			break;
		default:
			fprintf(stderr, "usage: conf-dump [-n] "
			    "[-o name=value] [name ...]\n");
			return 2;
		}
	}
	argv += optind;

	/* Tests must not write the system's mail log. */
	log_open(NULL, "/dev/null");

	buf_init(&in, H_CONF_MAX);
	buf_init(&why, 4096);
	while ((n = fread(chunk, 1, sizeof(chunk), stdin)) > 0)
		if (buf_add(&in, chunk, n) != BUF_OK) {
			fprintf(stderr, "conf-dump: input too large\n");
			return 2;
		}
	if ((tmp = getenv("TMPDIR")) == NULL || *tmp == '\0')
		tmp = "/tmp";
	if (bsnprintf(dir, sizeof(dir), "%s/correo-conf.XXXXXX", tmp) < 0 ||
	    mkdtemp(dir) == NULL ||
	    bsnprintf(path, sizeof(path), "%s/correo.conf", dir) < 0 ||
	    h_conf_write(path, buf_str(&in), in.len) < 0 ||
	    chdir(dir) < 0) {
		fprintf(stderr, "conf-dump: %s: %s\n", dir, strerror(errno));
		return 2;
	}

	for (i = 0; i < nopts; i++)
		if (conf_override(opts[i], &why) < 0)
			goto out;
	if (conf_load("correo.conf", &why) < 0)
		goto out;
	if (conf_print(stdout, flags, *argv != NULL ? argv : NULL, &why) < 0)
		goto out;
	rc = 0;
out:
	if (rc != 0)
		printf("error: %s\n", buf_str(&why));
	(void)unlink(path);
	(void)rmdir(dir);
	conf_reset();
	buf_free(&in);
	buf_free(&why);
	return rc;
}
