/*
 * fuzz-spool.c - the queue file reader on arbitrary file contents
 *
 * Each input becomes the one file of a private spool's queue/, named by
 * a valid ID, and goes through spool_load (peek and locked-for-write),
 * spool_env_each and, when it loads, an in-place update of every
 * recipient followed by a reload that must agree.  Invariants: a loaded
 * message has a sender and a time, offsets inside the file, and
 * recipients whose fixed-width records survive an update.
 */
#include <sys/stat.h>

#include <fcntl.h>
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/util.h"
#include "spool/spool.h"

int	 LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static struct spool	 sp;
static int		 ready;
static char		 topdir[64];

/* rm_one, cleanup - the private spool goes when the fuzzer exits */
static int
rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static void
cleanup(void)
{
	spool_close(&sp);
	if (topdir[0] != '\0')
		nftw(topdir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* count_env - spool_env_each's callback */
static int
count_env(const char *key, const char *val, void *arg)
{
	(void)val;
	if (key == NULL)
		abort();
	(*(size_t *)arg)++;
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char	 id[] = "AAAAAAAAAAA";
	struct spool_msg	 m, m2;
	struct buf		 why;
	char			 dir[] = "/tmp/fuzz-spool.XXXXXX";
	size_t			 i, n = 0;
	int			 fd;

	buf_init(&why, 4096);
	if (!ready) {
		if (mkdtemp(dir) == NULL ||
		    spool_open(&sp, dir, SPOOL_ADMIN | SPOOL_CREATE, &why) != 0)
			abort();
		(void)str_copy(topdir, sizeof(topdir), dir);
		atexit(cleanup);
		ready = 1;
	}
	fd = openat(sp.dirfd[SPOOL_QUEUE], id, O_CREAT | O_TRUNC | O_WRONLY,
	    0600);
	if (fd < 0 || (size > 0 && write_all(fd, data, size) < 0))
		abort();
	close(fd);
	if (spool_load(&sp, SPOOL_QUEUE, id, SPOOL_LOAD_PEEK, &m, &why) == 0) {
		if (m.sender == NULL || m.time == NULL ||
		    m.env_off < m.content_off || m.content_len < 0 ||
		    (size_t)m.env_off > size)
			abort();
		(void)spool_env_each(&m, count_env, &n, &why);
		spool_msg_free(&m);
	}
	buf_reset(&why);
	if (spool_load(&sp, SPOOL_QUEUE, id, SPOOL_LOAD_WRITE, &m, &why) == 0) {
		for (i = 0; i < m.nrcpt; i++) {
			m.rcpt[i].attempts++;
			m.rcpt[i].state = RCPT_DELIVERED;
			str_copy(m.rcpt[i].reply, sizeof(m.rcpt[i].reply),
			    "250 ok");
			if (spool_rcpt_update(&m, i, &why) != 0)
				abort();
		}
		if (spool_load(&sp, SPOOL_QUEUE, id, SPOOL_LOAD_PEEK, &m2,
		    &why) != 0 || m2.nrcpt != m.nrcpt)
			abort();
		for (i = 0; i < m.nrcpt; i++)
			if (m2.rcpt[i].state != RCPT_DELIVERED ||
			    strcmp(m2.rcpt[i].addr, m.rcpt[i].addr) != 0 ||
			    (m.rcpt[i].reply_off >= 0 &&
			    strcmp(m2.rcpt[i].reply, "250 ok") != 0))
				abort();
		spool_msg_free(&m2);
		spool_msg_free(&m);
	}
	buf_free(&why);
	return 0;
}
