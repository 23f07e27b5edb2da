/*
 * priv.c - privileged start-up and the spool group (see priv.h)
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "common/log.h"
#include "common/priv.h"

extern char **environ;

static gid_t	 priv_rgid;
static gid_t	 priv_sgid;
static int	 priv_setgid;
static int	 priv_dropped;

/* priv_sanitize - fds 0-2 open, umask 027, environment allow-listed */
void
priv_sanitize(const char *const *keep)
{
	static char	*empty[] = { NULL };
	char		**kept, **e;
	size_t		 n = 0, i, len;
	int		 fd;

	for (fd = 0; fd < 3; fd++) {
		if (fcntl(fd, F_GETFD) == -1 && errno == EBADF &&
		    open("/dev/null", fd == 0 ? O_RDONLY : O_WRONLY) != fd)
			fatal(EX_OSERR, "open /dev/null");
	}
	umask(027);
	for (e = environ; e != NULL && *e != NULL; e++)
		n++;
	kept = calloc(n + 1, sizeof(*kept));
	if (kept == NULL)
		fatal(EX_OSERR, "priv_sanitize");
	n = 0;
	for (e = environ; e != NULL && *e != NULL; e++) {
#if defined(__SANITIZE_ADDRESS__)
		/* make asan: the sanitizers' settings reach our children. */
		if (strncmp(*e, "ASAN_OPTIONS=", 13) == 0 ||
		    strncmp(*e, "UBSAN_OPTIONS=", 14) == 0 ||
		    strncmp(*e, "LSAN_OPTIONS=", 13) == 0) {
			kept[n++] = *e;
			continue;
		}
#endif
		for (i = 0; keep != NULL && keep[i] != NULL; i++) {
			len = strlen(keep[i]);
			if (strncmp(*e, keep[i], len) == 0 &&
			    (*e)[len] == '=') {
				kept[n++] = *e;
				break;
			}
		}
	}
	kept[n] = NULL;
	environ = n ? kept : empty;
}

/* priv_group_init - note a set-group-ID start and drop the group now */
void
priv_group_init(void)
{
	priv_rgid = getgid();
	priv_sgid = getegid();
	priv_setgid = priv_rgid != priv_sgid;
	if (priv_setgid)
		priv_group_off();
}

int
priv_is_setgid(void)
{
	return priv_setgid && !priv_dropped;
}

/* priv_group_on - take the spool group back for a system call or two */
void
priv_group_on(void)
{
	if (!priv_setgid || priv_dropped)
		return;
	if (setresgid((gid_t)-1, priv_sgid, (gid_t)-1) != 0 ||
	    getegid() != priv_sgid)
		fatal(EX_OSERR, "cannot regain group %lu",
		    (unsigned long)priv_sgid);
}

/* priv_group_off - run with the caller's own group again */
void
priv_group_off(void)
{
	if (!priv_setgid || priv_dropped)
		return;
	if (setresgid((gid_t)-1, priv_rgid, (gid_t)-1) != 0 ||
	    getegid() != priv_rgid)
		fatal(EX_OSERR, "cannot drop group %lu",
		    (unsigned long)priv_sgid);
}

/* priv_group_drop - give the group up for good */
void
priv_group_drop(void)
{
	gid_t	 r, e, s;

	if (!priv_setgid || priv_dropped)
		return;
	if (setresgid(priv_rgid, priv_rgid, priv_rgid) != 0 ||
	    getresgid(&r, &e, &s) != 0 || r != priv_rgid || e != priv_rgid ||
	    s != priv_rgid)
		fatal(EX_OSERR, "cannot give up group %lu",
		    (unsigned long)priv_sgid);
	priv_dropped = 1;
}
