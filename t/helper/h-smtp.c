/*
 * h-smtp.c - correo-test smtp: runq's SMTP client session on a message
 * file, for the shell tests
 *
 *	smtp [-t timeout] [-n count] [-l level] [-C cafile] [-N peername]
 *	    [-a user] [-p pass] [-P] DEST SENDER RCPT... <MESSAGE
 *		Connects to DEST ("[host]:port", "host:port", ...; port 25
 *		by default), runs smtp_open() and then count (default 1)
 *		smtp_send() of the content on stdin (LF line ends, as in
 *		the queue) with smtp_next() (RSET) between them, and
 *		smtp_close().  -l is the TLS level (none), -C the CA file,
 *		-N the peer name (default "localhost"), -a/-p the AUTH
 *		credentials, -P allows AUTH without TLS.  Prints
 *		"open: STATUS DSN TEXT", "tls: TEXT" when TLS is up, then
 *		for each message one line per recipient "RCPT: STATUS DSN
 *		TEXT" and "session: STATUS DSN TEXT".  Exits 0 when every
 *		step ran to its end, 1 otherwise.
 *
 * SENDER "" is the null sender.  MESSAGE must be a regular file.
 */
#include <sys/stat.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/smtpio.h"
#include "common/tls.h"
#include "common/util.h"
#include "cmd/runq/deliver.h"
#include "cmd/runq/smtp.h"
#include "t/helper/correo-test.h"

#define H_SMTP_RCPTS	1000
#define H_SMTP_WHY	1024

static void	 h_smtp_print(const char *, const struct dlv_result *);

/* h_smtp_print - one result line */
static void
h_smtp_print(const char *who, const struct dlv_result *r)
{
	static const char *const names[] = {
		[DLV_OK] = "ok", [DLV_DEFER] = "defer", [DLV_BOUNCE] = "bounce",
	};

	printf("%s: %s %s %s\n", who, names[r->status], r->dsn, r->text);
}

/* h_smtp - correo-test smtp [options] DEST SENDER RCPT... */
int
h_smtp(int argc, char **argv)
{
	static struct smtp_rcpt	 rcpts[H_SMTP_RCPTS];
	struct smtp_opts	 o;
	struct dlv_result	 r;
	struct dlv_msg		 msg;
	struct stat		 st;
	struct smtp		*s = NULL;
	struct tls_ctx		*ctx = NULL;
	struct buf		 why;
	const char		*err, *cafile = NULL;
	long long		 timeout = 30, count = 1, k;
	size_t			 i, n;
	int			 c, fd, lev = TLS_LEV_NONE, rc, ok = 1;
	enum tls_level		 tl;

	memset(&o, 0, sizeof(o));
	o.peername = "localhost";
	o.helo_name = "client.example.net";
	while ((c = getopt(argc, argv, "a:C:l:N:n:p:Pt:")) != -1) {
		switch (c) {
		case 'a':
			o.auth_user = optarg;
			break;
		case 'C':
			cafile = optarg;
			break;
		case 'l':
			if (tls_level_parse(optarg, &tl) != 0)
				goto usage;
			lev = (int)tl;
			break;
		case 'N':
			o.peername = optarg;
			break;
		case 'n':
			if (num_parse(optarg, 1, 100, &count, &err) != 0)
				goto usage;
			break;
		case 'p':
			o.auth_pass = optarg;
			break;
		case 'P':
			o.auth_plaintext = 1;
			break;
		case 't':
			if (num_parse(optarg, 1, 86400, &timeout, &err) != 0)
				goto usage;
			break;
		default:
			goto usage;
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 3 || (size_t)argc - 2 > H_SMTP_RCPTS)
		goto usage;
	if (fstat(STDIN_FILENO, &st) == -1 || !S_ISREG(st.st_mode)) {
		fprintf(stderr, "correo-test: stdin is not a regular file\n");
		return EX_USAGE;
	}
	signal(SIGPIPE, SIG_IGN);
	memset(&msg, 0, sizeof(msg));
	msg.fd = STDIN_FILENO;
	msg.len = st.st_size;
	msg.queue_id = "TESTID";
	msg.sender = argv[1];
	n = (size_t)argc - 2;
	for (i = 0; i < n; i++)
		rcpts[i].addr = argv[2 + i];
	for (i = 0; i < SMTP_TO_MAX; i++)
		o.timeouts[i] = (int)timeout;
	o.tls_level = lev;
	buf_init(&why, H_SMTP_WHY);
	if (lev != TLS_LEV_NONE &&
	    (ctx = tls_client_ctx_new(cafile, NULL, &why)) == NULL) {
		fprintf(stderr, "correo-test: %s\n", buf_str(&why));
		buf_free(&why);
		return EX_CONFIG;
	}
	o.tls_ctx = ctx;
	if ((fd = smtpio_connect(argv[0], "25", (int)timeout, &why)) == -1) {
		printf("open: defer 4.4.1 %s\n", buf_str(&why));
		buf_free(&why);
		tls_ctx_free(ctx);
		return 1;
	}
	buf_free(&why);
	rc = smtp_open(fd, &o, &s, &r);
	h_smtp_print("open", &r);
	if (rc != SMTP_OK)
		ok = 0;
	else if (*smtp_tls_info(s) != '\0')
		printf("tls: %s\n", smtp_tls_info(s));
	for (k = 0; ok && k < count; k++) {
		if (k > 0 && smtp_next(s, &r) != SMTP_OK) {
			h_smtp_print("next", &r);
			ok = 0;
			break;
		}
		if (smtp_send(s, &msg, NULL, NULL, rcpts, n, &r) != SMTP_OK)
			ok = 0;
		for (i = 0; i < n; i++)
			h_smtp_print(rcpts[i].addr, &rcpts[i].result);
		h_smtp_print("session", &r);
	}
	smtp_close(s);
	tls_ctx_free(ctx);
	return ok ? 0 : 1;
usage:
	fprintf(stderr, "usage: correo-test smtp [-t timeout] [-n count] "
	    "[-l level] [-C cafile] [-N peername] [-a user] [-p pass] [-P] "
	    "dest sender rcpt... <message\n");
	return EX_USAGE;
}
