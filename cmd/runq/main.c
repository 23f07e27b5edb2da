/*
 * runq - the queue runner: the only program that delivers
 *
 * One pass over the due messages, then exit (or, with -w, wait for new
 * mail and retry times and pass again, forever).  On an installed host
 * systemd starts it as root when incoming/ fills (correo-runq.path) and
 * for retries (correo-runq.timer); cron does without systemd.  Local
 * deliveries run in children switched to the recipient (local.c).
 *
 * Runners coordinate by kernel locks only: queue/.runq.lock is held
 * (flock) by the runner doing passes; a second runq that cannot have it
 * touches the lock file so that the first rescans after its pass, and
 * exits: a burst of submissions makes one runner, not a thousand.  A
 * runq -f that cannot have it leaves queue/.runq.flush first, which
 * makes the runner's next pass a forced one.  Each
 * message is flock'ed while it is attempted, so no two processes ever
 * deliver it at once (-I uses that to wait for a message another runner
 * holds).
 */
#include <sys/file.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/conf.h"
#include "common/log.h"
#include "common/priv.h"
#include "common/setup.h"
#include "common/util.h"
#include "spool/spool.h"
#include "cmd/runq/runq.h"

#define RQ_OPTSTRING	"C:I:NR:S:fo:vw"
#define RQ_LOCKNAME	SPOOL_RUNNER_LOCK
#define RQ_FLUSHNAME	".runq.flush"	/* -f asked the runner for it */
#define RQ_SWEEP_AGE	86400	/* named temporaries older than this */

static const char *const rq_keep_env[] = { "TZ", NULL };

static void	 usage(void) __attribute__((noreturn));
static int	 rq_lock(struct runq *);
static int	 rq_private_spool(struct runq *);
static void	 rq_poke(struct runq *);
static void	 rq_ask_flush(struct runq *);
static void	 rq_pass(struct runq *);
static int	 rq_rescan_wanted(struct runq *, struct timespec *);
static int	 rq_watch(struct runq *);

static void
usage(void)
{
	fprintf(stderr, "usage: runq [-fNvw] [-C config] [-o name=value] "
	    "[-I queue_id] [-R site] [-S sender]\n");
	exit(EX_USAGE);
}

/*
 * rq_lock - take the runner lock without waiting: 1 when we are the
 * runner, 0 when another one is (it has been asked to rescan).
 */
static int
rq_lock(struct runq *rq)
{
	rq->lockfd = openat(rq->sp.dirfd[SPOOL_QUEUE], RQ_LOCKNAME,
	    O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (rq->lockfd < 0)
		fatal(EX_TEMPFAIL, "open %s/queue/%s", rq->sp.path,
		    RQ_LOCKNAME);
	/* mail_owner's programs (smtpd-lite's runq -N) must poke it too */
	if (rq->root && fchown(rq->lockfd, rq->owner_uid, rq->owner_gid) != 0)
		log_warn("chown %s/queue/%s", rq->sp.path, RQ_LOCKNAME);
	if (flock(rq->lockfd, LOCK_EX | LOCK_NB) == 0)
		return 1;
	if (errno != EWOULDBLOCK)
		fatal(EX_TEMPFAIL, "lock %s/queue/%s", rq->sp.path,
		    RQ_LOCKNAME);
	if (rq->force && rq->only_id == NULL && rq->only_site == NULL &&
	    rq->only_sender == NULL)
		rq_ask_flush(rq);
	rq_poke(rq);
	return 0;
}

/*
 * rq_ask_flush - -f while another runner is at work (runq -w, or a
 * pass the path unit started): the poke alone would get an ordinary
 * pass, which leaves deferred mail until its next try, so leave the
 * runner queue/.runq.flush, which rq_pass takes as -f
 */
static void
rq_ask_flush(struct runq *rq)
{
	int	 fd;

	fd = openat(rq->sp.dirfd[SPOOL_QUEUE], RQ_FLUSHNAME,
	    O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0) {
		log_warn("ask the running runq for a forced pass");
		return;
	}
	close(fd);
	log_debug("another runq is running: asked it for a forced pass");
}

/* rq_pass - rq_run, forced (-f) when a runq -f asked for it */
static void
rq_pass(struct runq *rq)
{
	int	 force = rq->force;

	if (unlinkat(rq->sp.dirfd[SPOOL_QUEUE], RQ_FLUSHNAME, 0) == 0)
		rq->force = 1;
	rq_run(rq);
	rq->force = force;
}

/*
 * rq_private_spool - whether this spool is a private one (tests, the
 * demo): its incoming/ is not shared with the setgid group, so nobody
 * but its owner delivers from it
 */
static int
rq_private_spool(struct runq *rq)
{
	struct stat	 st;

	return fstat(rq->sp.dirfd[SPOOL_INCOMING], &st) == 0 &&
	    (st.st_mode & 070) == 0;
}

/* rq_poke - ask the running runner for another pass */
static void
rq_poke(struct runq *rq)
{
	if (futimens(rq->lockfd, NULL) != 0)
		log_warn("poke the running runq");
	log_debug("another runq is running: asked it to rescan");
}

/* rq_rescan_wanted - whether somebody poked us since *since */
static int
rq_rescan_wanted(struct runq *rq, struct timespec *since)
{
	struct stat	 st;

	if (fstat(rq->lockfd, &st) != 0)
		return 0;
	return st.st_mtim.tv_sec > since->tv_sec ||
	    (st.st_mtim.tv_sec == since->tv_sec &&
	    st.st_mtim.tv_nsec >= since->tv_nsec);
}

/*
 * rq_watch - -w: pass, then sleep until incoming/ gets a file, the lock
 * file is poked, or something in queue/ may be due (rq->next_full, at
 * most queue_run_delay away); forever.
 */
static int
rq_watch(struct runq *rq)
{
	struct pollfd	 pfd;
	char		 ev[4096];
	char		 path[4096];
	long long	 delay = conf_time("queue_run_delay"), wait;
	int		 ifd;

	if ((ifd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK)) < 0)
		fatal(EX_OSERR, "inotify_init1");
	if (bsnprintf(path, sizeof(path), "%s/incoming", rq->sp.path) != 0 ||
	    inotify_add_watch(ifd, path, IN_CREATE | IN_MOVED_TO) < 0)
		fatal(EX_OSERR, "watch %s", path);
	if (bsnprintf(path, sizeof(path), "%s/queue/%s", rq->sp.path,
	    RQ_LOCKNAME) != 0 ||
	    inotify_add_watch(ifd, path, IN_ATTRIB) < 0)
		fatal(EX_OSERR, "watch %s", path);
	log_info("watching %s/incoming (retries every %llds)", rq->sp.path,
	    delay);
	for (;;) {
		rq_pass(rq);
		/* Until the next full scan (rq_run), queue_run_delay at most. */
		wait = rq->next_full - (long long)time(NULL);
		if (wait > delay)
			wait = delay;
		if (wait > 86400)
			wait = 86400;
		if (wait < 1)
			wait = 1;
		pfd.fd = ifd;
		pfd.events = POLLIN;
		if (poll(&pfd, 1, (int)(wait * 1000)) < 0 && errno != EINTR)
			fatal(EX_OSERR, "poll");
		while (read(ifd, ev, sizeof(ev)) > 0)
			;
	}
}

int
main(int argc, char **argv)
{
	struct runq	 rq;
	struct passwd	*pw;
	struct group	*gr;
	struct timespec	 start;
	struct buf	 why;
	const char	*env_config, *config = NULL;
	char		**overrides = NULL;
	size_t		 noverrides = 0;
	int		 c, flags;

	memset(&rq, 0, sizeof(rq));
	env_config = getenv("CORREO_CONFIG");
	env_config = env_config ? xstrdup(env_config) : NULL;
	priv_sanitize(rq_keep_env);
	signal(SIGPIPE, SIG_IGN);
	signal(SIGXFSZ, SIG_IGN);
	log_init("runq", "qmgr");
	while ((c = getopt(argc, argv, RQ_OPTSTRING)) != -1) {
		switch (c) {
		case 'C':
			config = optarg;
			break;
		case 'I':
			if (!spool_id_ok(optarg)) {
				fprintf(stderr, "runq: -I %s: not a queue ID\n",
				    optarg);
				exit(EX_USAGE);
			}
			rq.only_id = optarg;
			break;
		case 'R':
			rq.only_site = optarg;
			break;
		case 'S':
			rq.only_sender = optarg;
			break;
		case 'f':
			rq.force = 1;
			break;
		case 'o':
			if (setup_override(&overrides, &noverrides,
			    optarg) != 0) {
				fprintf(stderr, "runq: -o %s: use name=value\n",
				    optarg);
				usage();
			}
			break;
		case 'v':
			rq.verbose++;
			log_verbose(rq.verbose);
			break;
		case 'w':
			rq.watch = 1;
			break;
		case 'N':
			rq.nudge = 1;
			break;
		default:
			usage();
		}
	}
	if (optind != argc)
		usage();
	setup_config(config, env_config, overrides, noverrides, NULL);

	rq.root = geteuid() == 0;
	if ((pw = getpwnam(conf_get("mail_owner"))) == NULL)
		fatalx(EX_CONFIG, "mail_owner %s: no such user",
		    conf_get("mail_owner"));
	rq.owner_uid = pw->pw_uid;
	rq.owner_gid = pw->pw_gid;
	rq.drop_gid = pw->pw_gid;
	if ((gr = getgrnam(conf_get("setgid_group"))) != NULL)
		rq.drop_gid = gr->gr_gid;
	if (!rq.root && geteuid() != rq.owner_uid)
		fatalx(EX_NOPERM, "run as root or as mail_owner %s",
		    conf_get("mail_owner"));
	rq.max_workers = (int)conf_int("local_destination_concurrency_limit");

	buf_init(&why, 4096);
	/* A private spool (mail_owner is the caller) is made as needed. */
	flags = SPOOL_ADMIN | (geteuid() == rq.owner_uid ? SPOOL_CREATE : 0);
	if (spool_open(&rq.sp, conf_get("queue_directory"), flags, &why) != 0)
		fatalx(EX_TEMPFAIL, "%s", buf_str(&why));
	if (spool_sweep(&rq.sp, RQ_SWEEP_AGE, &why) > 0)
		log_info("removed temporary files left by killed writers");

	if (rq.only_id != NULL) {
		/*
		 * -I: this message now, whoever else is running; then, when
		 * no runner is at work, a pass for what it made (forwards,
		 * notices).
		 */
		rq_pickup(&rq, NULL);
		rq.status = rq_message(&rq, rq.only_id);
		rq.only_id = NULL;
		if (rq_lock(&rq))
			rq_pass(&rq);
		return rq.status;
	}
	if (rq.watch) {
		/* The watcher waits for a running pass, then stays. */
		if (!rq_lock(&rq) && flock(rq.lockfd, LOCK_EX) != 0)
			fatal(EX_TEMPFAIL, "lock %s/queue/%s", rq.sp.path,
			    RQ_LOCKNAME);
		return rq_watch(&rq);
	}
	if (!rq_lock(&rq))
		return EX_OK;	/* the runner was poked */
	if (rq.nudge && !rq.root && !rq_private_spool(&rq))
		return EX_OK;	/* root's runq (path unit, timer, cron) will */
	do {
		clock_gettime(CLOCK_REALTIME, &start);
		rq_pass(&rq);
	} while (rq_rescan_wanted(&rq, &start));
	return EX_OK;
}
