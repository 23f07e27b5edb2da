/*
 * sendmail - the sendmail-compatible submission program
 *
 * WARNING: this program is installed set-group-ID to the spool group
 * (setgid_group, correo-drop).  Everything the caller hands it -- the
 * command line, the environment, standard input -- is hostile.  The
 * group is dropped before any parsing (priv_group_init) and taken back
 * only around the spool system calls (submit.c); it is given up for
 * good before reading a configuration the caller chose and before
 * running another program.  Who submitted is what the kernel says (the
 * real uid), never what the message says.
 *
 * Modes, as Postfix's sendmail(1): -bm (the default) queues a message;
 * -bp runs mailq, -bi newaliases, -bs smtpd-lite, -q runq; -bv prints
 * routing, -bP the configuration; -bd/-bD explain socket activation.
 */
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "common/addr.h"
#include "common/buf.h"
#include "common/conf.h"
#include "common/log.h"
#include "common/priv.h"
#include "common/setup.h"
#include "common/util.h"
#include "cmd/sendmail/sendmail.h"

#define SM_OPTSTRING	"+B:C:F:GIL:N:O:R:UV:X:b:f:h:imno:q::r:tv"

static const char *const sm_keep_env[] = { "TZ", NULL };

static void	 usage(void) __attribute__((noreturn));
static void	 sm_option_o(struct sm *, const char *);
static void	 sm_load_config(struct sm *, const char *env_config);
static int	 sm_print_config(struct sm *);
static int	 sm_verify(struct sm *);
static void	 sm_identity(struct sm *);
static int	 sm_check_notify(const char *);
static int	 sm_check_envid(const char *);

/* usage - the synopsis, and EX_USAGE */
static void
usage(void)
{
	fprintf(stderr,
	    "usage: sendmail [-tiv] [-f sender] [-F name] [-B 7BIT|8BITMIME]"
	    " [-N dsn] [-R full|hdrs]\n"
	    "                [-V envid] [-C config] [-O name=value]"
	    " [-o option] [--] [recipient ...]\n"
	    "       sendmail -bp | -bi | -bs | -bv rcpt ... |"
	    " -bP [-n] [name ...]\n"
	    "       sendmail -q | -qIqueue_id | -qRsite | -qSsender\n");
	exit(EX_USAGE);
}

/*
 * sm_fail - report an error the way -oe asks: on stderr (-oep, -oew),
 * not at all (-oeq), or, for -oem/-oee, also by mail (submit.c does
 * that before it calls here).  Then exit with the status.
 */
void
sm_fail(struct sm *sm, int status, const char *fmt, ...)
{
	char	 msg[1024];
	va_list	 ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (sm->errors == SM_ERR_QUIET)
		log_stderr(0);
	fatalx(status, "%s", msg);
}

/* sm_check_notify - -N: never, or a list of success, delay, failure */
static int
sm_check_notify(const char *s)
{
	char	*copy, *p, *tok;
	int	 ok = 1, never = 0, n = 0;

	copy = xstrdup(s);
	for (p = copy; (tok = strsep(&p, ",")) != NULL; n++) {
		if (str_casecmp_ascii(tok, "never") == 0)
			never = 1;
		else if (str_casecmp_ascii(tok, "success") != 0 &&
		    str_casecmp_ascii(tok, "delay") != 0 &&
		    str_casecmp_ascii(tok, "failure") != 0)
			ok = 0;
	}
	free(copy);
	return ok && !(never && n > 1);
}

/* sm_check_envid - -V: printable ASCII without spaces, at most 100 */
static int
sm_check_envid(const char *s)
{
	size_t	 n = strlen(s), i;

	if (n == 0 || n > 100)
		return 0;
	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] <= 0x20 || (unsigned char)s[i] >= 0x7f)
			return 0;
	return 1;
}

/* sm_option_o - sendmail's -oXvalue options */
static void
sm_option_o(struct sm *sm, const char *arg)
{
	switch (arg[0]) {
	case 'i':			/* -oi: a lone dot is data */
		sm->ignore_dots = 1;
		break;
	case 'd':			/* -odb, -odi, -odq */
		if (strcmp(arg, "db") == 0 || strcmp(arg, "d") == 0)
			sm->delivery = SM_DELIVER_BACKGROUND;
		else if (strcmp(arg, "di") == 0)
			sm->delivery = SM_DELIVER_INTERACTIVE;
		else if (strcmp(arg, "dq") == 0 || strcmp(arg, "dd") == 0)
			sm->delivery = SM_DELIVER_QUEUE;
		else {
			fprintf(stderr, "sendmail: -o%s: unknown delivery "
			    "mode (b, i or q)\n", arg);
			usage();
		}
		break;
	case 'e':			/* -oem -oee -oep -oeq -oew */
		switch (arg[1]) {
		case 'm':
		case 'e':
			sm->errors = SM_ERR_MAIL;
			break;
		case 'p':
			sm->errors = SM_ERR_PRINT;
			break;
		case 'q':
			sm->errors = SM_ERR_QUIET;
			break;
		case 'w':
			sm->errors = SM_ERR_WRITE;
			break;
		default:
			fprintf(stderr, "sendmail: -o%s: unknown error mode "
			    "(m, e, p, q or w)\n", arg);
			usage();
		}
		break;
	case 'A':			/* -oAfile: alias database (-bi) */
		sm->alias_file = arg + 1;
		break;
	case 'F':			/* -oFname: full name */
		sm->fullname = arg + 1;
		break;
	case '7':
		sm->body = "7BIT";
		break;
	case '8':
		sm->body = "8BITMIME";
		break;
	default:
		/* -om and the rest of sendmail's options: no meaning here. */
		log_debug("-o%s ignored", arg);
		break;
	}
}

/* sm_load_config - read the configuration */
static void
sm_load_config(struct sm *sm, const char *env_config)
{
	sm->config = setup_config(sm->config, env_config, sm->overrides,
	    sm->noverrides, sm->log_label);
}

/* sm_identity - the submitter, from the kernel's real uid */
static void
sm_identity(struct sm *sm)
{
	struct passwd	*pw;
	char		*comma;

	sm->uid = getuid();
	errno = 0;
	if ((pw = getpwuid(sm->uid)) == NULL)
		fatalx(EX_NOUSER, "no login name for user ID %lu",
		    (unsigned long)sm->uid);
	sm->login = xstrdup(pw->pw_name);
	sm->gecos = xstrdup(pw->pw_gecos ? pw->pw_gecos : "");
	if ((comma = strchr(sm->gecos, ',')) != NULL)
		*comma = '\0';
	/* A private spool: the caller is mail_owner (tests, the demo). */
	sm->private_spool = !priv_is_setgid() &&
	    strcmp(sm->login, conf_get("mail_owner")) == 0;
}

/*
 * run_sibling - run $daemon_directory/prog with args (NULL-terminated,
 * args[0] is the program name), passing on -C and -O as -C and -o.
 * wait: 1 waits and returns the exit status; 0 starts it detached in the
 * background and returns 0; -1 replaces this process.
 */
int
run_sibling(struct sm *sm, const char *prog, char **args, int wait)
{
	char	**av, *path;
	size_t	 n = 0, i, k = 0;
	pid_t	 pid;
	int	 status;

	priv_group_drop();
	while (args[n] != NULL)
		n++;
	av = xcalloc(n + 2 * sm->noverrides + 4, sizeof(*av));
	av[k++] = (char *)prog;
	if (sm->config != NULL) {
		av[k++] = "-C";
		av[k++] = (char *)sm->config;
	}
	for (i = 0; i < sm->noverrides; i++) {
		av[k++] = "-o";
		av[k++] = sm->overrides[i];
	}
	for (i = 1; i < n; i++)
		av[k++] = args[i];
	av[k] = NULL;
	path = xasprintf("%s/%s", conf_get("daemon_directory"), prog);
	log_debug("running %s", path);
	if (wait < 0) {
		execv(path, av);
		fatal(EX_UNAVAILABLE, "run %s", path);
	}
	fflush(NULL);
	if ((pid = fork()) < 0) {
		log_warn("fork %s", path);
		free(path);
		free(av);
		return EX_OSERR;
	}
	if (pid == 0) {
		if (!wait)
			detach();	/* no terminal, no stdin */
		execv(path, av);
		fprintf(stderr, "sendmail: run %s: %s\n", path,
		    strerror(errno));
		_exit(EX_UNAVAILABLE);
	}
	free(av);
	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR) {
			log_warn("wait for %s", path);
			free(path);
			return EX_OSERR;
		}
	}
	free(path);
	if (!wait)
		return 0;
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	return EX_SOFTWARE;
}

/* sm_print_config - -bP [-n] [name ...] */
static int
sm_print_config(struct sm *sm)
{
	struct buf	 why;
	int		 rc;

	buf_init(&why, 4096);
	rc = conf_print(stdout, sm->only_set ? CONF_PRINT_SET :
	    CONF_PRINT_ALL, sm->argc > 0 ? sm->argv : NULL, &why);
	if (fflush(stdout) != 0)
		fatal(EX_IOERR, "write standard output");
	if (rc != 0) {
		fprintf(stderr, "sendmail: %s\n", buf_str(&why));
		buf_free(&why);
		return EX_USAGE;
	}
	buf_free(&why);
	return EX_OK;
}

/*
 * sm_verify - -bv: how each recipient would be routed.  Nothing is
 * queued.  Until runq's routing exists this knows mydestination only:
 * local when the domain is listed there, otherwise remote.
 */
static int
sm_verify(struct sm *sm)
{
	struct buf	 why, addr;
	char		**dest;
	const char	*at;
	size_t		 i, j;
	int		 local, rc = EX_OK;

	if (sm->argc == 0)
		fatalx(EX_USAGE, "-bv: no recipients specified");
	buf_init(&why, 4096);
	buf_init(&addr, 4096);
	dest = conf_list("mydestination");
	for (i = 0; i < (size_t)sm->argc; i++) {
		struct rcpt_list	 l = { NULL, 0, 0 };

		buf_reset(&why);
		if (rcpt_add_list(&l, sm->argv[i], strlen(sm->argv[i]),
		    &why) != 0) {
			printf("%s: undeliverable: %s\n", sm->argv[i],
			    buf_str(&why));
			rc = EX_DATAERR;
			continue;
		}
		for (j = 0; j < l.n; j++) {
			at = strrchr(l.addr[j], '@');
			local = 0;
			for (size_t k = 0; at && dest[k] != NULL; k++)
				if (str_casecmp_ascii(at + 1, dest[k]) == 0)
					local = 1;
			if (local)
				printf("%s: deliverable: local, mailbox "
				    "of user %.*s (domain in mydestination)\n",
				    l.addr[j], (int)(at - l.addr[j]),
				    l.addr[j]);
			else
				printf("%s: deliverable: remote, to the mail "
				    "exchangers of %s\n", l.addr[j], at + 1);
		}
		rcpt_free(&l);
	}
	conf_list_free(dest);
	buf_free(&why);
	buf_free(&addr);
	if (fflush(stdout) != 0)
		fatal(EX_IOERR, "write standard output");
	return rc;
}

int
main(int argc, char **argv)
{
	struct sm	 sm;
	const char	*env_config, *env_name, *base;
	char		*args[8];
	int		 c, n_flag = 0;

	memset(&sm, 0, sizeof(sm));
	/* Read what we take from the environment, then cut it. */
	env_config = getenv("CORREO_CONFIG");
	env_name = getenv("NAME");
	env_config = env_config ? xstrdup(env_config) : NULL;
	sm.env_name = env_name ? xstrdup(env_name) : NULL;
	priv_group_init();
	priv_sanitize(sm_keep_env);
	signal(SIGXFSZ, SIG_IGN);	/* a file size limit is EFBIG */
	signal(SIGPIPE, SIG_IGN);
	log_init("sendmail", "sendmail");

	base = strrchr(argv[0], '/') ? strrchr(argv[0], '/') + 1 : argv[0];
	if (strcmp(base, "mailq") == 0)
		sm.mode = SM_MODE_MAILQ;
	else if (strcmp(base, "newaliases") == 0)
		sm.mode = SM_MODE_NEWALIASES;

	while ((c = getopt(argc, argv, SM_OPTSTRING)) != -1) {
		switch (c) {
		case 'B':
			if (str_casecmp_ascii(optarg, "7BIT") == 0)
				sm.body = "7BIT";
			else if (str_casecmp_ascii(optarg, "8BITMIME") == 0)
				sm.body = "8BITMIME";
			else {
				fprintf(stderr, "sendmail: -B %s: use 7BIT "
				    "or 8BITMIME\n", optarg);
				usage();
			}
			break;
		case 'C':
			sm.config = optarg;
			break;
		case 'F':
			sm.fullname = optarg;
			break;
		case 'G':		/* gateway submission: no meaning */
		case 'U':		/* initial user submission: none */
		case 'm':		/* "me too": obsolete */
			break;
		case 'n':		/* no aliasing (-bP -n: set only) */
			n_flag = 1;
			break;
		case 'I':
			sm.mode = SM_MODE_NEWALIASES;
			break;
		case 'L':		/* the log label (syslog_name) */
			sm.log_label = optarg;
			break;
		case 'N':
			if (!sm_check_notify(optarg)) {
				fprintf(stderr, "sendmail: -N %s: use never, "
				    "or success, delay, failure\n", optarg);
				usage();
			}
			sm.notify = optarg;
			break;
		case 'O':
			if (setup_override(&sm.overrides, &sm.noverrides,
			    optarg) != 0) {
				fprintf(stderr, "sendmail: -O %s: use "
				    "name=value\n", optarg);
				usage();
			}
			break;
		case 'R':
			if (str_casecmp_ascii(optarg, "full") == 0)
				sm.ret = "FULL";
			else if (str_casecmp_ascii(optarg, "hdrs") == 0)
				sm.ret = "HDRS";
			else {
				fprintf(stderr, "sendmail: -R %s: use full "
				    "or hdrs\n", optarg);
				usage();
			}
			break;
		case 'V':
			if (!sm_check_envid(optarg)) {
				fprintf(stderr, "sendmail: -V: the envelope "
				    "ID must be 1 to 100 printable ASCII "
				    "characters without spaces\n");
				usage();
			}
			sm.envid = optarg;
			break;
		case 'X':		/* traffic log: not supported, ignored */
		case 'h':		/* initial hop count: ignored */
			break;
		case 'b':
			if (optarg[0] == '\0' || optarg[1] != '\0') {
				fprintf(stderr, "sendmail: -b%s: unknown "
				    "mode\n", optarg);
				usage();
			}
			switch (optarg[0]) {
			case 'm':
				sm.mode = SM_MODE_ENQUEUE;
				break;
			case 'p':
				sm.mode = SM_MODE_MAILQ;
				break;
			case 'i':
				sm.mode = SM_MODE_NEWALIASES;
				break;
			case 's':
				sm.mode = SM_MODE_SMTP;
				break;
			case 'v':
				sm.mode = SM_MODE_VERIFY;
				break;
			case 'P':
				sm.mode = SM_MODE_CONFIG;
				break;
			case 'd':
			case 'D':
				sm.mode = SM_MODE_DAEMON;
				break;
			default:
				fprintf(stderr, "sendmail: -b%s: unknown "
				    "mode\n", optarg);
				usage();
			}
			break;
		case 'f':
		case 'r':
			sm.sender = optarg;
			break;
		case 'i':
			sm.ignore_dots = 1;
			break;
		case 'o':
			sm_option_o(&sm, optarg);
			break;
		case 'q':
			sm.mode = SM_MODE_RUNQ;
			if (optarg == NULL || optarg[0] == '\0')
				break;
			if (optarg[0] == 'I' || optarg[0] == 'R' ||
			    optarg[0] == 'S') {
				if (optarg[1] == '\0') {
					fprintf(stderr, "sendmail: -q%c needs "
					    "a value\n", optarg[0]);
					usage();
				}
				sm.runq_flag = optarg[0] == 'I' ? "-I" :
				    optarg[0] == 'R' ? "-R" : "-S";
				sm.runq_arg = optarg + 1;
			} else if (optarg[0] >= '0' && optarg[0] <= '9') {
				log_warnx("-q%s: the interval is ignored: "
				    "retries are run by correo-runq.timer or "
				    "cron (see runq(8)); running the queue "
				    "once", optarg);
			} else {
				fprintf(stderr, "sendmail: -q%s: unknown "
				    "queue option\n", optarg);
				usage();
			}
			break;
		case 't':
			sm.extract = 1;
			break;
		case 'v':
			sm.verbose++;
			log_verbose(sm.verbose);
			break;
		default:
			usage();
		}
	}
	sm.argc = argc - optind;
	sm.argv = argv + optind;
	sm.only_set = n_flag;

	sm_load_config(&sm, env_config);
	if (sm.verbose)
		log_verbose(sm.verbose);

	switch (sm.mode) {
	case SM_MODE_CONFIG:
		return sm_print_config(&sm);
	case SM_MODE_DAEMON:
		fatalx(EX_UNAVAILABLE, "-bd/-bD: correo runs no daemon; "
		    "receive mail with smtpd-lite under systemd socket "
		    "activation (smtpd-lite.socket) or inetd: see "
		    "smtpd-lite(8)");
	case SM_MODE_MAILQ:
		args[0] = "mailq";
		args[1] = sm.verbose ? "-v" : NULL;
		args[2] = NULL;
		return run_sibling(&sm, "mailq", args, -1);
	case SM_MODE_NEWALIASES:
		args[0] = "newaliases";
		args[1] = sm.alias_file ? "-A" : NULL;
		args[2] = (char *)sm.alias_file;
		args[3] = NULL;
		return run_sibling(&sm, "newaliases", args, -1);
	case SM_MODE_SMTP:
		/* The local user's SMTP session: no relay controls apply. */
		args[0] = "smtpd-lite";
		args[1] = "-S";
		args[2] = NULL;
		return run_sibling(&sm, "smtpd-lite", args, -1);
	case SM_MODE_RUNQ:
		args[0] = "runq";
		args[1] = "-f";
		args[2] = (char *)sm.runq_flag;
		args[3] = (char *)sm.runq_arg;
		args[4] = NULL;
		if (sm.verbose && sm.runq_flag == NULL)
			args[2] = "-v";
		return run_sibling(&sm, "runq", args, -1);
	case SM_MODE_VERIFY:
		return sm_verify(&sm);
	case SM_MODE_ENQUEUE:
		break;
	}
	if (sm.argc == 0 && !sm.extract)
		fatalx(EX_USAGE, "no recipients specified: name them on the "
		    "command line or use -t");
	sm_identity(&sm);
	return submit(&sm);
}
