/*
 * h-lmtp.c - correo-test lmtp and pipe: runq's LMTP client and command
 * delivery on a message file, for the shell tests
 *
 *	lmtp [-t timeout] DEST SENDER RCPT... <MESSAGE
 *		One lmtp_deliver() session to DEST ("unix:/path",
 *		"[host]:port", ...) for the content on stdin (LF line ends,
 *		as in the queue).  Prints one line per recipient,
 *		"RCPT: STATUS DSN TEXT" with STATUS ok, defer or bounce, then
 *		"session: STATUS DSN TEXT".  Exits 0 when the session ran
 *		to its end, 1 when it broke down.
 *
 *	pipe [-t time_limit] [-o orig_rcpt] [-d delivered_to]
 *	    [-c client_address] COMMAND SENDER RECIPIENT USER HOME <MESSAGE
 *		One pipe_deliver() of the content on stdin to COMMAND, as
 *		mailbox_command runs it for RECIPIENT (USER's mailbox;
 *		LOCAL, DOMAIN and EXTENSION come from RECIPIENT with "+" as
 *		the delimiter; SHELL is /bin/sh).  Prints "STATUS DSN TEXT"
 *		and exits 0 when delivered, 1 otherwise.
 *
 * SENDER "" is the null sender.  A MESSAGE that is not a regular file
 * is copied to a temporary file first.
 */
#include <sys/stat.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/util.h"
#include "cmd/runq/deliver.h"
#include "t/helper/correo-test.h"

#define H_LMTP_RCPTS	1000
#define H_ADDR_MAX	1024

static int	 h_message(struct dlv_msg *);
static const char *h_status(enum dlv_status);
static void	 h_print(const char *, const struct dlv_result *);

/* h_message - stdin as the content of a message */
static int
h_message(struct dlv_msg *msg)
{
	struct stat	 st;
	FILE		*tmp;
	char		 b[65536];
	size_t		 n;

	memset(msg, 0, sizeof(*msg));
	msg->fd = STDIN_FILENO;
	if (fstat(STDIN_FILENO, &st) == -1) {
		perror("correo-test: stdin");
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		if ((tmp = tmpfile()) == NULL) {
			perror("correo-test: tmpfile");
			return -1;
		}
		while ((n = fread(b, 1, sizeof(b), stdin)) > 0)
			if (fwrite(b, 1, n, tmp) != n)
				break;
		if (ferror(stdin) || fflush(tmp) != 0) {
			perror("correo-test: copying stdin");
			return -1;
		}
		msg->fd = fileno(tmp);
		if (fstat(msg->fd, &st) == -1)
			return -1;
	}
	msg->off = 0;
	msg->len = st.st_size;
	msg->queue_id = "TESTID";
	msg->arrival = (long long)time(NULL);
	return 0;
}

/* h_status - a status as a word */
static const char *
h_status(enum dlv_status st)
{
	switch (st) {
	case DLV_OK:
		return "ok";
	case DLV_DEFER:
		return "defer";
	case DLV_BOUNCE:
		return "bounce";
	}
	return "?";
}

/* h_print - one result line */
static void
h_print(const char *who, const struct dlv_result *r)
{
	if (who != NULL)
		printf("%s: ", who);
	printf("%s %s %s\n", h_status(r->status), r->dsn, r->text);
}

/* h_lmtp - correo-test lmtp [-t timeout] DEST SENDER RCPT... */
int
h_lmtp(int argc, char **argv)
{
	struct lmtp_rcpt	 rcpts[H_LMTP_RCPTS];
	struct dlv_result	 r;
	struct dlv_msg		 msg;
	const char		*why;
	long long		 timeout = 30;
	size_t			 i, n;
	int			 c, rc;

	while ((c = getopt(argc, argv, "t:")) != -1) {
		switch (c) {
		case 't':
			if (num_parse(optarg, 0, 86400, &timeout, &why) != 0) {
				fprintf(stderr, "correo-test: -t %s: %s\n",
				    optarg, why);
				return EX_USAGE;
			}
			break;
		default:
			goto usage;
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 3 || (size_t)argc - 2 > H_LMTP_RCPTS)
		goto usage;
	if (h_message(&msg) != 0)
		return EX_IOERR;
	msg.sender = argv[1];
	msg.recipient = argv[2];
	n = (size_t)argc - 2;
	memset(rcpts, 0, sizeof(rcpts));
	for (i = 0; i < n; i++)
		rcpts[i].addr = argv[2 + i];
	rc = lmtp_deliver(argv[0], &msg, rcpts, n, (long)timeout, &r);
	for (i = 0; i < n; i++)
		h_print(rcpts[i].addr, &rcpts[i].result);
	h_print("session", &r);
	return rc == 0 ? 0 : 1;
usage:
	fprintf(stderr, "usage: correo-test lmtp [-t timeout] dest sender "
	    "rcpt... <message\n");
	return EX_USAGE;
}

/* h_pipe - correo-test pipe [options] COMMAND SENDER RECIPIENT USER HOME */
int
h_pipe(int argc, char **argv)
{
	struct dlv_result	 r;
	struct dlv_msg		 msg;
	struct dlv_env		 env;
	char			 local[H_ADDR_MAX], *at, *plus;
	const char		*why, *orig = NULL, *dto = NULL;
	long long		 limit = 60;
	int			 c, rc;

	memset(&env, 0, sizeof(env));
	while ((c = getopt(argc, argv, "c:d:o:t:")) != -1) {
		switch (c) {
		case 'c':
			env.client_address = optarg;
			break;
		case 'd':
			dto = optarg;
			break;
		case 'o':
			orig = optarg;
			break;
		case 't':
			if (num_parse(optarg, 0, 86400, &limit, &why) != 0) {
				fprintf(stderr, "correo-test: -t %s: %s\n",
				    optarg, why);
				return EX_USAGE;
			}
			break;
		default:
			goto usage;
		}
	}
	argc -= optind;
	argv += optind;
	if (argc != 5)
		goto usage;
	if (str_copy(local, sizeof(local), argv[2]) != 0) {
		fprintf(stderr, "correo-test: recipient too long\n");
		return EX_USAGE;
	}
	if ((at = strrchr(local, '@')) != NULL) {
		*at = '\0';
		env.domain = at + 1;
	} else
		env.domain = "";
	env.local = local;
	if ((plus = strchr(local, '+')) != NULL)
		env.extension = plus + 1;
	env.user = argv[3];
	env.home = argv[4];
	env.shell = "/bin/sh";
	env.time_limit = (long)limit;
	if (h_message(&msg) != 0)
		return EX_IOERR;
	msg.sender = argv[1];
	msg.recipient = argv[2];
	msg.orig_rcpt = orig;
	msg.delivered_to = dto;
	rc = pipe_deliver(argv[0], &msg, &env, &r);
	h_print(NULL, &r);
	return rc == 0 ? 0 : 1;
usage:
	fprintf(stderr, "usage: correo-test pipe [-t time_limit] "
	    "[-o orig_rcpt] [-d delivered_to] [-c client_address] command "
	    "sender recipient user home <message\n");
	return EX_USAGE;
}
