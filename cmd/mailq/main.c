/*
 * mailq - list and administer the queue (Postfix's postqueue -p and -j,
 * postcat -q and postsuper -d -h -H -r, in one program)
 *
 * WARNING: this program is installed set-group-ID to the spool group
 * (setgid_group, correo-drop), so that anyone can list the queue, as
 * with Postfix.  The command line and the environment are hostile.  The
 * group is dropped at once (priv_group_init) and taken back only to
 * read the spool, after the options and the configuration are read; it
 * is given up for good before reading a configuration the caller chose
 * (-C, CORREO_CONFIG, -o), unless its directory is listed in the
 * default configuration's alternate_config_directories (setup_config,
 * the rule every program follows).  Reading a
 * message (-c) and changing the queue (-d -h -H -r) are for root, the
 * mail_owner user and the owner of a private spool only; who the caller
 * is comes from the kernel (the real uid), and the refusal comes before
 * the spool is opened.
 */
#include <sys/stat.h>
#include <sys/types.h>

#include <errno.h>
#include <getopt.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/conf.h"
#include "common/log.h"
#include "common/priv.h"
#include "common/setup.h"
#include "common/util.h"
#include "spool/spool.h"
#include "cmd/mailq/mailq.h"

#define MQ_OPTSTRING	"C:H:c:d:h:jo:r:v"
#define MQ_NOTE_MAX	4096

static const char *const mq_keep_env[] = { "TZ", NULL };

/* What a refused caller was not allowed to do, by option letter. */
static const char *const mq_op_verb[MQ_NOPS] = {
	[MQ_DELETE] = "delete",
	[MQ_REQUEUE] = "requeue",
	[MQ_HOLD] = "hold",
	[MQ_RELEASE] = "release",
};

static void	 usage(void) __attribute__((noreturn));
static void	 mq_add_id(struct mq_ids *, const char *);
static void	 mq_load_config(struct mq *, const char *env_config);
static void	 mq_authorize(struct mq *, const char *verb);
static void	 mq_open_spool(struct mq *);

/* usage - the synopsis, and EX_USAGE */
static void
usage(void)
{
	fprintf(stderr,
	    "usage: mailq [-v] [-j] [-C config] [-o name=value]\n"
	    "       mailq [-C config] [-o name=value] -c queue_id\n"
	    "       mailq [-v] [-C config] [-o name=value]"
	    " [-d queue_id] [-h queue_id]\n"
	    "             [-H queue_id] [-r queue_id]"
	    "   (queue_id: an ID, ALL or -)\n");
	exit(EX_USAGE);
}

/*
 * mq_status - note a problem's exit status; the first one is the
 * one the run exits with
 */
void
mq_status(struct mq *mq, int status)
{
	if (mq->status == EX_OK)
		mq->status = status;
}

/*
 * mq_note - what postsuper reports with msg_info: one line on stderr
 * ("mailq: ID: removed") and the same in the mail log
 */
void
mq_note(const char *fmt, ...)
{
	struct buf	 b;
	va_list		 ap;

	buf_init(&b, MQ_NOTE_MAX);
	va_start(ap, fmt);
	if (buf_vprintf(&b, fmt, ap) != BUF_OK)
		buf_sets(&b, "(message too long)");
	va_end(ap);
	/* Verbose, log_info() writes stderr itself. */
	if (log_level() == 0)
		fprintf(stderr, "%s: %s\n", log_progname(), buf_str(&b));
	log_info("%s", buf_str(&b));
	buf_free(&b);
}

/*
 * mq_flush - write out stdout; a reader that went away (EPIPE) ends
 * the run quietly, any other error with EX_IOERR
 */
void
mq_flush(void)
{
	if (fflush(stdout) == 0 && !ferror(stdout))
		return;
	if (errno == EPIPE)
		exit(EX_OK);
	fatal(EX_IOERR, "write standard output");
}

/*
 * mq_load - spool_load, looking in the other directories when the
 * file is not in the first one (it moved since we looked): first, then
 * onwards in the order messages travel.  -1 with errno ENOENT when it
 * is in none.
 */
int
mq_load(struct mq *mq, const char *id, enum spool_dir first, int flags,
    struct spool_msg *m, struct buf *why)
{
	static const enum spool_dir	 next[SPOOL_NDIRS][SPOOL_NDIRS] = {
		[SPOOL_INCOMING] = { SPOOL_INCOMING, SPOOL_QUEUE, SPOOL_HOLD },
		[SPOOL_QUEUE] = { SPOOL_QUEUE, SPOOL_HOLD, SPOOL_INCOMING },
		[SPOOL_HOLD] = { SPOOL_HOLD, SPOOL_QUEUE, SPOOL_INCOMING },
	};
	int				 i;

	for (i = 0; i < SPOOL_NDIRS; i++) {
		buf_reset(why);
		if (spool_load(&mq->sp, next[first][i], id, flags, m,
		    why) == 0)
			return 0;
		if (errno != ENOENT)
			return -1;
	}
	errno = ENOENT;
	return -1;
}

/* mq_add_id - remember one -c -d -h -H -r argument */
static void
mq_add_id(struct mq_ids *l, const char *id)
{
	l->ids = xreallocarray(l->ids, l->n + 1, sizeof(*l->ids));
	l->ids[l->n++] = id;
	if (strcmp(id, "ALL") == 0)
		l->all = 1;
}

/*
 * mq_load_config - read the configuration as every program does
 * (setup_config: the group goes first when the caller chose the file
 * or overrides); then who the mail owner is, and whether the spool is
 * the caller's
 */
static void
mq_load_config(struct mq *mq, const char *env_config)
{
	struct stat	 st;
	struct passwd	*pw;

	setup_config(mq->config, env_config, mq->overrides, mq->noverrides,
	    NULL);
	mq->mail_owner = conf_get("mail_owner");
	if ((pw = getpwnam(mq->mail_owner)) != NULL) {
		mq->owner_uid = pw->pw_uid;
		mq->have_owner = 1;
	}
	if (stat(conf_get("queue_directory"), &st) == 0 &&
	    st.st_uid == getuid())
		mq->spool_owner = 1;
}

/*
 * mq_authorize - reading messages and changing the queue are for
 * root, the mail owner and the owner of a private spool; anyone else
 * is refused here, before the spool is opened
 */
static void
mq_authorize(struct mq *mq, const char *verb)
{
	uid_t	 uid = getuid();

	if (uid == 0 || (mq->have_owner && uid == mq->owner_uid) ||
	    mq->spool_owner)
		return;
	fprintf(stderr, "%s: permission denied: only root or the mail owner "
	    "(%s) may %s messages\n", log_progname(), mq->mail_owner, verb);
	log_stderr(0);
	log_warnx("uid %lu: permission denied: may not %s messages",
	    (unsigned long)uid, verb);
	exit(EX_NOPERM);
}

/*
 * mq_open_spool - open every queue directory, with the group.  A
 * private spool (no group held, and the caller is the mail owner or
 * owns queue_directory) gets its missing directories made, as sendmail
 * makes them.
 */
static void
mq_open_spool(struct mq *mq)
{
	struct buf	 why;
	int		 flags = SPOOL_ADMIN, saved;

	if (!priv_is_setgid() && (mq->spool_owner ||
	    (mq->have_owner && getuid() == mq->owner_uid)))
		flags |= SPOOL_CREATE;
	buf_init(&why, 4096);
	priv_group_on();
	if (spool_open(&mq->sp, conf_get("queue_directory"), flags,
	    &why) != 0) {
		saved = errno;
		fatalx(saved == EACCES || saved == EPERM ? EX_NOPERM :
		    saved == ENOENT ? EX_CONFIG : EX_TEMPFAIL, "%s",
		    buf_str(&why));
	}
	buf_free(&why);
}

int
main(int argc, char **argv)
{
	struct mq	 mq;
	const char	*env_config, *verb = NULL;
	size_t		 i;
	int		 c, status;

	memset(&mq, 0, sizeof(mq));
	mq.sp.rootfd = -1;
	/* Read what we take from the environment, then cut it. */
	env_config = getenv("CORREO_CONFIG");
	env_config = env_config ? xstrdup(env_config) : NULL;
	priv_group_init();
	priv_sanitize(mq_keep_env);
	signal(SIGPIPE, SIG_IGN);	/* EPIPE ends the listing quietly */
	log_init("mailq", "mailq");

	opterr = 0;
	while ((c = getopt(argc, argv, MQ_OPTSTRING)) != -1) {
		switch (c) {
		case 'C':
			mq.config = optarg;
			break;
		case 'o':
			if (setup_override(&mq.overrides, &mq.noverrides,
			    optarg) != 0) {
				fprintf(stderr, "mailq: -o %s: use "
				    "name=value\n", optarg);
				usage();
			}
			break;
		case 'v':
			mq.verbose++;
			break;
		case 'j':
			mq.json = 1;
			break;
		case 'c':
			mq_add_id(&mq.cat, optarg);
			break;
		case 'd':
		case 'r':
		case 'h':
		case 'H':
			i = c == 'd' ? MQ_DELETE : c == 'r' ? MQ_REQUEUE :
			    c == 'h' ? MQ_HOLD : MQ_RELEASE;
			mq_add_id(&mq.op[i], optarg);
			if (verb == NULL)
				verb = mq_op_verb[i];
			mq.admin = 1;
			break;
		default:
			if (optopt != 0 && optopt != ':' &&
			    strchr(MQ_OPTSTRING, optopt) != NULL)
				fprintf(stderr, "mailq: -%c needs an "
				    "argument\n", optopt);
			else
				fprintf(stderr, "mailq: unknown option "
				    "-%c\n", optopt);
			usage();
		}
	}
	if (optind != argc) {
		fprintf(stderr, "mailq: unexpected argument: %s\n",
		    argv[optind]);
		usage();
	}
	if ((mq.json && (mq.admin || mq.cat.n > 0)) ||
	    (mq.admin && mq.cat.n > 0)) {
		fprintf(stderr, "mailq: -j, -c and -d/-h/-H/-r do not "
		    "combine\n");
		usage();
	}
	/* -vv and more: the trace levels as well. */
	if (mq.verbose > 1)
		log_verbose(mq.verbose - 1);

	mq_load_config(&mq, env_config);
	if (mq.admin)
		mq_authorize(&mq, verb);
	else if (mq.cat.n > 0)
		mq_authorize(&mq, "read");
	mq_open_spool(&mq);

	if (mq.admin)
		status = mq_admin(&mq);
	else if (mq.cat.n > 0) {
		for (i = 0; i < mq.cat.n; i++)
			status = mq_cat(&mq, mq.cat.ids[i]);
	} else
		status = mq_list(&mq);
	mq_flush();
	spool_close(&mq.sp);
	priv_group_off();
	for (i = 0; i < MQ_NOPS; i++)
		free(mq.op[i].ids);
	free(mq.cat.ids);
	free(mq.overrides);
	free((char *)env_config);
	conf_reset();
	return status;
}
