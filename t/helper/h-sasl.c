/*
 * h-sasl.c - correo-test sasl: common/sasl's backends for the shell
 * tests
 *
 *	sasl [-s] [-t timeout] [-r rip] [-l lip] [-p rport] [-P lport]
 *	    TYPE PATH [USER PASS [AUTHZID]]
 *		One sasl_open(TYPE, PATH), then one sasl_auth() with
 *		USER and PASS, or, without them, one per line of stdin
 *		("USER PASS [AUTHZID]", separated by single spaces; an
 *		empty line is skipped), all on the same handle, so a
 *		Dovecot connection is kept between them.  Prints one
 *		line per check and flushes it: "OK WHO", "FAIL WHY" or
 *		"TEMP WHY".  -s: the client is under TLS (secured);
 *		-t: seconds for one check (default: sasl's own).
 *
 * Exits 0 when every check ran, EX_USAGE or EX_CONFIG when it could
 * not start.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/sasl.h"
#include "common/util.h"
#include "t/helper/correo-test.h"

#define H_SASL_LINE	4096

static void	 h_sasl_one(struct sasl *, const struct sasl_client *,
	    const char *, const char *, const char *);

/* h_sasl_one - one check, one line of output */
static void
h_sasl_one(struct sasl *s, const struct sasl_client *cl, const char *user,
    const char *pass, const char *authzid)
{
	static const char	*names[] = { "OK", "FAIL", "TEMP" };
	struct buf		 why;
	char			 who[SASL_USER_MAX + 1];
	enum sasl_status	 st;

	buf_init(&why, 4096);
	st = sasl_auth(s, user, pass, authzid, cl, who, sizeof(who), &why);
	printf("%s %s\n", (unsigned)st < nitems(names) ? names[st] : "?",
	    st == SASL_OK ? who : buf_str(&why));
	fflush(stdout);
	buf_free(&why);
}

int
h_sasl(int argc, char **argv)
{
	struct sasl_client	 cl;
	struct sasl		*s;
	struct buf		 why;
	char			 line[H_SASL_LINE], *user, *pass, *authzid;
	long long		 n;
	const char		*err;
	int			 c, timeout = 0;

	memset(&cl, 0, sizeof(cl));
	cl.service = "smtp";
	while ((c = getopt(argc, argv, "sl:p:P:r:t:")) != -1) {
		switch (c) {
		case 's':
			cl.secured = 1;
			break;
		case 'l':
			cl.lip = optarg;
			break;
		case 'r':
			cl.rip = optarg;
			break;
		case 'p':
		case 'P':
		case 't':
			if (num_parse(optarg, 0, 65535, &n, &err) == -1) {
				fprintf(stderr, "correo-test sasl: -%c %s: "
				    "%s\n", c, optarg, err);
				return EX_USAGE;
			}
			if (c == 'p')
				cl.rport = (int)n;
			else if (c == 'P')
				cl.lport = (int)n;
			else
				timeout = (int)n;
			break;
		default:
			goto usage;
		}
	}
	argc -= optind;
	argv += optind;
	if (argc != 2 && argc != 4 && argc != 5)
		goto usage;
	buf_init(&why, 4096);
	if ((s = sasl_open(argv[0], argv[1], &why)) == NULL) {
		printf("open: %s\n", buf_str(&why));
		buf_free(&why);
		return EX_CONFIG;
	}
	buf_free(&why);
	if (timeout > 0)
		sasl_set_timeout(s, timeout);
	if (argc >= 4)
		h_sasl_one(s, &cl, argv[2], argv[3],
		    argc == 5 ? argv[4] : NULL);
	else {
		while (fgets(line, sizeof(line), stdin) != NULL) {
			line[strcspn(line, "\n")] = '\0';
			if (line[0] == '\0')
				continue;
			user = line;
			pass = strchr(user, ' ');
			if (pass == NULL)
				pass = user + strlen(user);
			else
				*pass++ = '\0';
			authzid = strchr(pass, ' ');
			if (authzid != NULL)
				*authzid++ = '\0';
			h_sasl_one(s, &cl, user, pass, authzid);
		}
	}
	sasl_close(s);
	return 0;
usage:
	fprintf(stderr, "usage: correo-test sasl [-s] [-t timeout] [-r rip] "
	    "[-l lip] [-p rport] [-P lport] type path [user pass [authzid]]\n");
	return EX_USAGE;
}
