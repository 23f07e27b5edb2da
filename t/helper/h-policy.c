/*
 * h-policy.c - correo-test policy: smtpd-lite's access decisions
 * (cmd/smtpd-lite/policy.c) from the shell
 *
 * The configuration is $CORREO_CONFIG (none: the defaults) with -o
 * name=value overrides; -s addr:port sends every DNS query there.
 * Commands, one result line each:
 *	rcpt CLIENT RCPT [SENDER [SASL_USER [HELO]]]
 *			"0", or the reply ("554 5.7.1 <x@y>: Relay ...");
 *			"-" for SASL_USER or HELO means none
 *	name CLIENT	"STATUS NAME REVERSE_STATUS REVERSE_NAME"
 *	local RCPT	policy_local_recipient(): "0" or the reply
 *	sender USER SENDER	policy_sender_login(); USER "-": none
 *	mynetworks ADDR	"1", "0" or "-1"
 *	class DOMAIN	"local", "virtual", "relay", "remote", "tempfail"
 *	check		"ok", or "error: <why>"
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/conf.h"
#include "common/dns.h"
#include "common/util.h"
#include "cmd/smtpd-lite/policy.h"
#include "t/helper/correo-test.h"

static int		 h_policy_usage(void);
static const char	*h_policy_status(enum policy_name_status);
static void		 h_policy_reply(int, const struct buf *);

/* h_policy_usage - the synopsis, EX_USAGE */
static int
h_policy_usage(void)
{
	fprintf(stderr, "usage: correo-test policy [-s addr:port] [-o "
	    "name=value]... rcpt|name|local|sender|mynetworks|class|check "
	    "args\n");
	return EX_USAGE;
}

/* h_policy_status - a name status as a word */
static const char *
h_policy_status(enum policy_name_status st)
{
	switch (st) {
	case POLICY_NAME_OK:
		return "OK";
	case POLICY_NAME_TEMP:
		return "TEMP";
	case POLICY_NAME_PERM:
		return "PERM";
	case POLICY_NAME_FORGED:
		return "FORGED";
	default:
		return "UNCHECKED";
	}
}

/* h_policy_reply - "0" or the reply */
static void
h_policy_reply(int code, const struct buf *reply)
{
	if (code == 0)
		printf("0\n");
	else
		printf("%s\n", buf_str(reply));
}

/* h_policy - correo-test policy [options] command args */
int
h_policy(int argc, char **argv)
{
	static const char *const classes[] = {
		"local", "virtual", "relay", "remote", "tempfail",
	};
	struct policy_client	 c;
	struct buf		 why, reply;
	const char		*conf;
	int			 ch, rc = 0;

	buf_init(&why, 4096);
	buf_init(&reply, POLICY_REPLY_MAX);
	if ((conf = getenv("CORREO_CONFIG")) != NULL &&
	    conf_load(conf, &why) != 0) {
		fprintf(stderr, "%s\n", buf_str(&why));
		return EX_CONFIG;
	}
	while ((ch = getopt(argc, argv, "o:s:")) != -1) {
		switch (ch) {
		case 'o':
			if (conf_override(optarg, &why) != 0) {
				fprintf(stderr, "%s\n", buf_str(&why));
				return EX_USAGE;
			}
			break;
		case 's':
			if (h_dns_server(optarg) == -1)
				return h_policy_usage();
			break;
		default:
			return h_policy_usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 1)
		return h_policy_usage();
	memset(&c, 0, sizeof(c));
	if (strcmp(argv[0], "rcpt") == 0 && argc >= 3 && argc <= 6) {
		c.addr = argv[1];
		c.sasl_user = argc > 4 && strcmp(argv[4], "-") != 0 ?
		    argv[4] : NULL;
		c.helo = argc > 5 && strcmp(argv[5], "-") != 0 ? argv[5] :
		    NULL;
		h_policy_reply(policy_rcpt(&c, argv[2], argc > 3 ? argv[3] :
		    "", &reply), &reply);
	} else if (strcmp(argv[0], "name") == 0 && argc == 2) {
		c.addr = argv[1];
		(void)policy_client_name(&c);
		printf("%s %s %s %s\n", h_policy_status(c.name_status),
		    c.name, h_policy_status(c.reverse_status),
		    c.reverse_name);
	} else if (strcmp(argv[0], "local") == 0 && argc == 2) {
		h_policy_reply(policy_local_recipient(argv[1], &reply),
		    &reply);
	} else if (strcmp(argv[0], "sender") == 0 && argc == 3) {
		h_policy_reply(policy_sender_login(strcmp(argv[1], "-") != 0 ?
		    argv[1] : NULL, argv[2], &reply), &reply);
	} else if (strcmp(argv[0], "mynetworks") == 0 && argc == 2) {
		printf("%d\n", policy_mynetworks(argv[1]));
	} else if (strcmp(argv[0], "class") == 0 && argc == 2) {
		printf("%s\n", classes[policy_domain_class(argv[1])]);
	} else if (strcmp(argv[0], "check") == 0 && argc == 1) {
		if (policy_check_config(&why) == 0)
			printf("ok\n");
		else
			printf("error: %s\n", buf_str(&why));
	} else
		rc = h_policy_usage();
	buf_free(&why);
	buf_free(&reply);
	return rc;
}
