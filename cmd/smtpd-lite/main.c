/*
 * smtpd-lite - receive mail over SMTP: one session per process
 *
 * Started per connection by inetd ("nowait": the socket is fd 0 and
 * 1), by systemd with Accept=yes (StandardInput=socket; or the
 * connection as fd 3 with LISTEN_FDS=1 and LISTEN_PID = us), or by
 * sendmail -bs for a local user (stdin/stdout are pipes or a terminal:
 * the peer is that user, relay controls do not apply, as Postfix's -bs).
 *
 * The peer.  A TCP socket on fd 0 gives it with getpeername(2) (an
 * IPv4-mapped IPv6 address is written as IPv4); otherwise, when fd 0
 * is not a socket, TCPREMOTEIP (ucspi-tcp), then REMOTE_ADDR (systemd),
 * else "unknown", which is never trusted.  A listening socket on fd 0
 * (Accept=no by mistake) is refused.  The client name is "unknown":
 * smtpd-lite does no DNS of its own unless a restriction needs it
 * (policy.c).
 *
 * Privileges.  smtpd-lite runs as mail_owner (correo) and needs no
 * more: it writes into the spool's incoming/ and reads its TLS key
 * (INSTALL puts correo in ssl-cert).  As root it refuses to run.
 *
 * Options: -C config, -o name=value (repeatable, as master.cf's -o:
 * smtpd_tls_wrappermode=yes for port 465, smtpd_sasl_auth_enable=yes
 * and smtpd_tls_auth_only=yes for 587), -v, and -S for sendmail -bs
 * (internal).
 */
#include <sys/file.h>
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/conf.h"
#include "common/log.h"
#include "common/priv.h"
#include "common/sasl.h"
#include "common/setup.h"
#include "common/tls.h"
#include "common/util.h"
#include "spool/spool.h"
#include "cmd/smtpd-lite/policy.h"
#include "cmd/smtpd-lite/session.h"
#include "cmd/smtpd-lite/smtpd.h"

static const char *const smtpd_keep_env[] = { "TZ", NULL };

/* What runq -N is given, so that it reads the configuration we read. */
static const char	 *smtpd_config;	/* -C, else $CORREO_CONFIG, or NULL */
static char		**smtpd_overrides;	/* -o name=value */
static size_t		  smtpd_noverrides;

static void
usage(void)
{
	fprintf(stderr, "usage: smtpd-lite [-Sv] [-C config] "
	    "[-o name=value]\n");
	exit(EX_USAGE);
}

/* sockaddr_text - an address as text, IPv4-mapped IPv6 as IPv4 */
static int
sockaddr_text(const struct sockaddr_storage *ss, char *addr, size_t asz,
    char *port, size_t psz)
{
	const struct sockaddr_in	*s4 = (const void *)ss;
	const struct sockaddr_in6	*s6 = (const void *)ss;
	struct in_addr			 a4;

	if (ss->ss_family == AF_INET) {
		if (inet_ntop(AF_INET, &s4->sin_addr, addr, (socklen_t)asz) ==
		    NULL)
			return -1;
		bsnprintf(port, psz, "%u", ntohs(s4->sin_port));
		return 0;
	}
	if (ss->ss_family == AF_INET6) {
		if (IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr)) {
			memcpy(&a4, &s6->sin6_addr.s6_addr[12], 4);
			if (inet_ntop(AF_INET, &a4, addr, (socklen_t)asz) ==
			    NULL)
				return -1;
		} else if (inet_ntop(AF_INET6, &s6->sin6_addr, addr,
		    (socklen_t)asz) == NULL)
			return -1;
		bsnprintf(port, psz, "%u", ntohs(s6->sin6_port));
		return 0;
	}
	return -1;
}

/* env_addr - an address from the environment, checked and normalised */
static int
env_addr(const char *name, char *out, size_t outsz)
{
	const char	*v = getenv(name);
	struct in6_addr	 a6;
	struct in_addr	 a4;

	if (v == NULL || *v == '\0')
		return -1;
	if (inet_pton(AF_INET, v, &a4) == 1)
		return inet_ntop(AF_INET, &a4, out, (socklen_t)outsz) ? 0 : -1;
	if (inet_pton(AF_INET6, v, &a6) == 1) {
		if (IN6_IS_ADDR_V4MAPPED(&a6)) {
			memcpy(&a4, &a6.s6_addr[12], 4);
			return inet_ntop(AF_INET, &a4, out,
			    (socklen_t)outsz) ? 0 : -1;
		}
		return inet_ntop(AF_INET6, &a6, out, (socklen_t)outsz) ? 0 :
		    -1;
	}
	return -1;
}

/*
 * find_peer - the connection's descriptor and who is at the other end
 * (see the top of the file); -1 when fd is a listening socket
 */
static int
find_peer(struct smtpd_peer *p, int *fd)
{
	struct sockaddr_storage	 ss;
	socklen_t		 sl = sizeof(ss);
	const char		*lp, *lf;
	int			 acc = 0;
	socklen_t		 al = sizeof(acc);

	str_copy(p->addr, sizeof(p->addr), "unknown");
	str_copy(p->name, sizeof(p->name), "unknown");
	*fd = 0;
	lp = getenv("LISTEN_PID");
	lf = getenv("LISTEN_FDS");
	if (lp != NULL && lf != NULL && strcmp(lf, "1") == 0) {
		long long	 pid;
		const char	*e;

		if (num_parse(lp, 1, LLONG_MAX, &pid, &e) == 0 &&
		    pid == (long long)getpid())
			*fd = 3;
	}
	unsetenv("LISTEN_PID");
	unsetenv("LISTEN_FDS");
	unsetenv("LISTEN_FDNAMES");
	if (getsockopt(*fd, SOL_SOCKET, SO_ACCEPTCONN, &acc, &al) == 0 &&
	    acc)
		return -1;
	if (getpeername(*fd, (struct sockaddr *)&ss, &sl) == 0 &&
	    (ss.ss_family == AF_INET || ss.ss_family == AF_INET6)) {
		if (sockaddr_text(&ss, p->addr, sizeof(p->addr), p->port,
		    sizeof(p->port)) != 0)
			str_copy(p->addr, sizeof(p->addr), "unknown");
		sl = sizeof(ss);
		if (getsockname(*fd, (struct sockaddr *)&ss, &sl) == 0) {
			char	 port[8];

			if (sockaddr_text(&ss, p->laddr, sizeof(p->laddr), port,
			    sizeof(port)) != 0)
				p->laddr[0] = '\0';
		}
		return 0;
	}
	/*
	 * Not a TCP socket (ucspi-tcp with a pipe, a Unix socket in the
	 * tests): the environment.
	 */
	if (env_addr("TCPREMOTEIP", p->addr, sizeof(p->addr)) != 0 &&
	    env_addr("REMOTE_ADDR", p->addr, sizeof(p->addr)) != 0)
		str_copy(p->addr, sizeof(p->addr), "unknown");
	return 0;
}

/*
 * smtpd_start_runq - delivery starts at once: runq -N, detached (it
 * pokes the running runner, or runs when it may: runq(8))
 */
/*
 * smtpd_nudge - what runq -N would do, without starting it when it
 * would do nothing: 1 when a running runner was poked (its lock file's
 * time set, as runq does), or when the spool is an installed one
 * (whose runner root's path unit, timer or cron starts); 0 when runq
 * must run (a private spool with no runner at work).  Saves a fork and
 * exec per message (bench/smtpd).
 */
static int
smtpd_nudge(void)
{
	char		 path[PATH_MAX];
	struct stat	 st;
	const char	*qd = conf_get("queue_directory");
	int		 fd;

	if (bsnprintf(path, sizeof(path), "%s/queue/%s", qd,
	    SPOOL_RUNNER_LOCK) != 0)
		return 0;
	if ((fd = open(path, O_RDWR | O_CLOEXEC | O_NOFOLLOW)) >= 0) {
		if (flock(fd, LOCK_EX | LOCK_NB) != 0 &&
		    errno == EWOULDBLOCK) {
			if (futimens(fd, NULL) != 0)
				log_warn("poke the running runq");
			close(fd);
			return 1;
		}
		close(fd);	/* a lock we took goes with it */
	}
	if (bsnprintf(path, sizeof(path), "%s/incoming", qd) != 0)
		return 0;
	return stat(path, &st) == 0 && (st.st_mode & 070) != 0;
}

void
smtpd_start_runq(void)
{
	char	 path[4096];
	pid_t	 pid;

	if (smtpd_nudge())
		return;
	if (bsnprintf(path, sizeof(path), "%s/runq",
	    conf_get("daemon_directory")) != 0)
		return;
	fflush(NULL);
	if ((pid = fork()) < 0) {
		log_warn("fork runq");
		return;
	}
	if (pid == 0) {
		detach();
		/* Not the client's connection (fd 3 under LISTEN_FDS). */
		closefrom(3);
		{
			char	**av;
			size_t	  n = 0, i;

			av = xcalloc(5 + 2 * smtpd_noverrides, sizeof(*av));
			av[n++] = "runq";
			av[n++] = "-N";
			if (smtpd_config != NULL) {
				av[n++] = "-C";
				av[n++] = (char *)smtpd_config;
			}
			/* The service's syslog_name is not runq's. */
			for (i = 0; i < smtpd_noverrides; i++) {
				if (strncmp(smtpd_overrides[i], "syslog_name=",
				    12) == 0)
					continue;
				av[n++] = "-o";
				av[n++] = smtpd_overrides[i];
			}
			av[n] = NULL;
			execv(path, av);
		}
		_exit(127);
	}
	while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
		;
}

/* tls_setup - the server context, when a certificate is configured */
static void
tls_setup(struct session *s)
{
	const char	*cert = conf_get("smtpd_tls_cert_file");
	const char	*level = conf_get("smtpd_tls_security_level");

	if (s->peer->local)
		return;		/* sendmail -bs: no STARTTLS, as Postfix */
	if (strcmp(level, "encrypt") == 0)
		s->tls_level_encrypt = 1;
	else if (*level != '\0' && strcmp(level, "may") != 0 &&
	    strcmp(level, "none") != 0)
		log_warnx("smtpd_tls_security_level = %s: not none, may or "
		    "encrypt; taken as may", level);
	if ((strcmp(level, "none") == 0 || *level == '\0') &&
	    !conf_bool("smtpd_tls_wrappermode"))
		return;
	if (*cert == '\0') {
		log_warnx("TLS is wanted (smtpd_tls_security_level = %s) but "
		    "smtpd_tls_cert_file is not set", level);
		s->tls_failed = 1;
		return;
	}
	/* The certificate is loaded when TLS starts (smtpd_tls_ctx). */
	s->tls_offer = 1;
	if (conf_bool("smtpd_tls_wrappermode"))
		(void)smtpd_tls_ctx(s);
}

/* smtpd_tls_ctx - the server context, made on first use; NULL if not */
struct tls_ctx *
smtpd_tls_ctx(struct session *s)
{
	struct buf	 why;

	if (s->tls_ctx != NULL || s->tls_failed || !s->tls_offer)
		return s->tls_ctx;
	buf_init(&why, 1024);
	s->tls_ctx = tls_server_ctx_new(conf_get("smtpd_tls_cert_file"),
	    conf_get("smtpd_tls_key_file"), &why);
	if (s->tls_ctx == NULL) {
		log_warnx("cannot start TLS: %s", buf_str(&why));
		s->tls_failed = 1;
	}
	buf_free(&why);
	return s->tls_ctx;
}

/* sasl_setup - the AUTH backend */
static void
sasl_setup(struct session *s)
{
	struct buf	 why;
	const char	*path = conf_get("smtpd_sasl_path");
	char		*full;

	if (s->peer->local || !conf_bool("smtpd_sasl_auth_enable"))
		return;
	full = *path == '/' ? xstrdup(path) : xasprintf("%s/%s",
	    conf_get("queue_directory"), path);
	buf_init(&why, 1024);
	if ((s->sasl = sasl_open(conf_get("smtpd_sasl_type"), full,
	    &why)) == NULL)
		log_warnx("SASL: %s", buf_str(&why));
	buf_free(&why);
	free(full);
}

/* smtpd_session - one session on the descriptors */
int
smtpd_session(struct smtpd_peer *peer, int rfd, int wfd)
{
	struct session	 s;
	struct passwd	*pw;
	struct buf	 why, stats;

	memset(&s, 0, sizeof(s));
	s.peer = peer;
	sio_init(&s.io, rfd, wfd, (int)conf_time("smtpd_timeout"));
	s.mynet = !peer->local && policy_mynetworks(peer->addr) == 1;
	s.pc.addr = peer->addr;
	log_mail("smtpd", "connect from %s", smtpd_clientname(&s));
	buf_init(&why, 1024);
	buf_init(&stats, 1024);
	/*
	 * A private spool (tests, the demo) is made as needed; the user
	 * database is asked only then (NSS costs memory in every session).
	 */
	if (spool_open(&s.sp, conf_get("queue_directory"), 0, &why) != 0 &&
	    (pw = getpwnam(conf_get("mail_owner"))) != NULL &&
	    pw->pw_uid == geteuid()) {
		buf_reset(&why);
		spool_close(&s.sp);
		(void)spool_open(&s.sp, conf_get("queue_directory"),
		    SPOOL_CREATE, &why);
	}
	if (s.sp.path == NULL) {
		log_warnx("%s", buf_str(&why));
		reply(&s, "421 4.3.0 %s Error: mail system unavailable",
		    conf_get("myhostname"));
		goto out;
	}
	if (!peer->local && policy_check_config(&why) != 0) {
		log_warnx("%s", buf_str(&why));
		reply(&s, "421 4.3.5 %s Error: server configuration error",
		    conf_get("myhostname"));
		goto out;
	}
	tls_setup(&s);
	sasl_setup(&s);
	if (conf_bool("smtpd_tls_wrappermode") && !peer->local) {
		if (s.tls_ctx == NULL) {
			log_warnx("smtpd_tls_wrappermode: no TLS context");
			goto out;
		}
		if (tls_server_start(s.tls_ctx, rfd, wfd,
		    (int)conf_time("smtpd_timeout"), &s.io.tls, &why) !=
		    TLS_OK) {
			log_mail("smtpd", "SSL_accept error from %s: %s",
			    smtpd_clientname(&s), buf_str(&why));
			goto out;
		}
	}
	/* Input before the greeting: a client that did not wait. */
	if (!peer->local && sio_pending(&s.io)) {
		log_mail("smtpd", "PREGREET from %s", smtpd_clientname(&s));
		reply(&s, "554 5.5.0 Error: SMTP protocol synchronization");
		goto out;
	}
	if (reply(&s, "220 %s", conf_get("smtpd_banner")) == 0)
		session_run(&s);
out:
	session_reset_tx(&s);
	session_stats(&s, &stats);
	log_mail("smtpd", "disconnect from %s %s", smtpd_clientname(&s),
	    buf_str(&stats));
	s.io.tls = tls_free(s.io.tls);
	s.tls_ctx = tls_ctx_free(s.tls_ctx);
	if (s.sasl != NULL)
		sasl_close(s.sasl);
	free(s.auth_user);
	spool_close(&s.sp);
	buf_free(&why);
	buf_free(&stats);
	return 0;
}

int
main(int argc, char **argv)
{
	struct smtpd_peer	 peer;
	struct passwd		*pw;
	const char		*env_config, *config = NULL;
	char			**overrides = NULL;
	size_t			 noverrides = 0;
	int			 c, fd, verbose = 0, local = 0, fl0, fl1;

	memset(&peer, 0, sizeof(peer));
	env_config = getenv("CORREO_CONFIG");
	env_config = env_config ? xstrdup(env_config) : NULL;
	/* The peer's environment first: priv_sanitize clears it. */
	if (find_peer(&peer, &fd) != 0) {
		fprintf(stderr, "smtpd-lite: fd %d is a listening socket: use "
		    "Accept=yes (systemd) or nowait (inetd)\n", fd);
		return EX_USAGE;
	}
	priv_sanitize(smtpd_keep_env);
	signal(SIGPIPE, SIG_IGN);
	log_init("smtpd-lite", "smtpd");
	log_stderr(0);		/* under inetd, stderr may be the client */
	while ((c = getopt(argc, argv, "C:o:Sv")) != -1) {
		switch (c) {
		case 'C':
			config = optarg;
			break;
		case 'o':
			if (setup_override(&overrides, &noverrides,
			    optarg) != 0) {
				fprintf(stderr, "smtpd-lite: -o %s: use "
				    "name=value\n", optarg);
				usage();
			}
			break;
		case 'S':
			local = 1;
			break;
		case 'v':
			log_verbose(++verbose);
			break;
		default:
			usage();
		}
	}
	if (optind != argc)
		usage();
	setup_config(config, env_config, overrides, noverrides, NULL);
	smtpd_config = config != NULL ? config : env_config;
	smtpd_overrides = overrides;
	smtpd_noverrides = noverrides;
	if (geteuid() == 0 && !local &&
	    strcmp(conf_get("mail_owner"), "root") != 0)
		fatalx(EX_NOPERM, "will not run as root: run it as mail_owner "
		    "%s", conf_get("mail_owner"));
	if (local) {
		/* sendmail -bs: the calling user, whatever the socket says */
		peer.local = 1;
		peer.uid = getuid();
		str_copy(peer.addr, sizeof(peer.addr), "127.0.0.1");
		str_copy(peer.name, sizeof(peer.name), "localhost");
		if ((pw = getpwuid(peer.uid)) != NULL)
			str_copy(peer.login, sizeof(peer.login), pw->pw_name);
		else
			bsnprintf(peer.login, sizeof(peer.login), "#%lu",
			    (unsigned long)peer.uid);
		fd = 0;
	}
	/* sio sets O_NONBLOCK; a terminal or pipe (-bs) gets it back. */
	fl0 = fcntl(fd, F_GETFL);
	fl1 = fcntl(fd == 0 ? 1 : fd, F_GETFL);
	smtpd_session(&peer, fd, fd == 0 ? 1 : fd);
	if (fl0 != -1)
		(void)fcntl(fd, F_SETFL, fl0);
	if (fl1 != -1)
		(void)fcntl(fd == 0 ? 1 : fd, F_SETFL, fl1);
	return EX_OK;
}
