/*
 * t-smtpd-policy.c - unit tests for smtpd-lite's access decisions
 * (cmd/smtpd-lite/policy.c): mynetworks, domain classes, the order of
 * the relay and recipient restrictions, the open-relay table of
 * SMTP-NOTES 3.9, recipient validation, sender login maps, and the
 * DNS checks' failure paths against a resolver that does not answer
 * (the answers themselves are t9000's, against dnsmasq)
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <ftw.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/conf.h"
#include "common/dns.h"
#include "common/log.h"
#include "common/util.h"
#include "cmd/smtpd-lite/policy.h"
#include "t/unit/tap.h"

static char		 dir[256];
static char		 maillog[300];
static struct buf	 reply;

/* path - a file in the scratch directory */
static const char *
path(const char *name)
{
	static char	 p[4][300];
	static int	 n;

	n = (n + 1) % 4;
	bsnprintf(p[n], sizeof(p[n]), "%s/%s", dir, name);
	return p[n];
}

/* put - write a scratch file */
static void
put(const char *name, const char *text)
{
	int	 fd;

	fd = open(path(name), O_WRONLY | O_CREAT | O_TRUNC, 0644);
	check(fd >= 0);
	if (fd < 0)
		return;
	check(write_all(fd, text, strlen(text)) == (ssize_t)strlen(text));
	close(fd);
}

/*
 * cfg - a fresh configuration: the base below, then extra lines; "@D"
 * in extra is the scratch directory
 */
static void
cfg(const char *extra)
{
	struct buf	 t, why;
	const char	*p;

	buf_init(&t, 65536);
	buf_init(&why, 4096);
	buf_printf(&t, "myhostname = mail.example.org\n"
	    "mydomain = example.org\n"
	    "mydestination = $myhostname, localhost.$mydomain, localhost, "
	    "Example.ORG\n"
	    "alias_maps = texthash:%s/aliases\n"
	    "mynetworks = 127.0.0.0/8, [::1]/128\n", dir);
	for (p = extra; *p != '\0'; p++) {
		if (p[0] == '@' && p[1] == 'D') {
			buf_adds(&t, dir);
			p++;
		} else
			buf_addc(&t, *p);
	}
	buf_addc(&t, '\n');
	if (conf_load_mem("t.conf", t.data, t.len, &why) != 0) {
		tap_diag("config: %s", buf_str(&why));
		check(!"configuration loads");
	}
	buf_free(&t);
	buf_free(&why);
}

/* client - a client at addr, nothing looked up */
static struct policy_client
client(const char *addr, const char *sasl_user)
{
	struct policy_client	 c;

	memset(&c, 0, sizeof(c));
	c.addr = addr;
	c.sasl_user = sasl_user;
	c.helo = "client.example.net";
	return c;
}

/* rcpt - policy_rcpt() for addr; the reply is in reply */
static int
rcpt(const char *addr, const char *sasl_user, const char *to,
    const char *from)
{
	struct policy_client	 c = client(addr, sasl_user);

	return policy_rcpt(&c, to, from, &reply);
}

/* logged - whether the mail log holds text (and empty it) */
static int
logged(const char *text)
{
	char	 buf[65536];
	ssize_t	 n;
	int	 fd, found;

	if ((fd = open(maillog, O_RDONLY)) < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	buf[n > 0 ? n : 0] = '\0';
	found = strstr(buf, text) != NULL;
	if (truncate(maillog, 0) != 0)
		found = 0;
	return found;
}

/* have_addr - whether an interface holds the IPv4 or IPv6 address s */
static int
have_addr(const char *s)
{
	struct ifaddrs	*ifa, *i;
	unsigned char	 want[16];
	int		 v6 = strchr(s, ':') != NULL, found = 0;

	if (inet_pton(v6 ? AF_INET6 : AF_INET, s, want) != 1 ||
	    getifaddrs(&ifa) != 0)
		return 0;
	for (i = ifa; i != NULL; i = i->ifa_next) {
		if (i->ifa_addr == NULL)
			continue;
		if (!v6 && i->ifa_addr->sa_family == AF_INET)
			found |= memcmp(&((struct sockaddr_in *)(void *)
			    i->ifa_addr)->sin_addr, want, 4) == 0;
		if (v6 && i->ifa_addr->sa_family == AF_INET6)
			found |= memcmp(&((struct sockaddr_in6 *)(void *)
			    i->ifa_addr)->sin6_addr, want, 16) == 0;
	}
	freeifaddrs(ifa);
	return found;
}

static void
t_mynetworks(void)
{
	static const struct {
		const char	*addr;
		int		 want;
	} cases[] = {
		{ "127.0.0.1", 1 },
		{ "127.255.255.255", 1 },
		{ "128.0.0.1", 0 },
		{ "126.255.255.255", 0 },
		{ "::1", 1 },
		{ "::2", 0 },
		{ "::ffff:127.0.0.1", 1 },	/* v4-mapped */
		{ "::FFFF:192.0.2.44", 1 },
		{ "192.0.2.0", 1 },
		{ "192.0.3.1", 0 },
		{ "2001:db8:ffff::1", 1 },
		{ "2001:DB8::", 1 },
		{ "2001:db9::", 0 },
		{ "198.51.100.7", 1 },
		{ "198.51.100.8", 0 },
		{ "2001:db9:1::5", 1 },
		{ "2001:db9:1::6", 0 },
		{ "10.1.255.1", 1 },
		{ "10.2.0.1", 0 },
		{ "fd00::1", 1 },
		{ "fe00::1", 0 },
		{ "unknown", 0 },
		{ "", 0 },
		{ "192.0.2", 0 },
		{ "[127.0.0.1]", 0 },
		{ "127.0.0.1 ", 0 },
		{ "localhost", 0 },
		{ "fe80::1%lo", 0 },
	};
	size_t	 i;

	cfg("mynetworks = 127.0.0.0/8, [::1]/128, 192.0.2.0/24,\n"
	    "  [2001:db8::]/32, 198.51.100.7, [2001:db9:1::5],\n"
	    "  10.1.0.0/16 fd00::/8");
	for (i = 0; i < nitems(cases); i++)
		if (!check_int(policy_mynetworks(cases[i].addr), ==,
		    cases[i].want))
			tap_diag("address \"%s\"", cases[i].addr);
	check_int(policy_mynetworks(NULL), ==, 0);

	/* An empty list matches nothing; 0.0.0.0/0 everything IPv4. */
	cfg("mynetworks =");
	check_int(policy_mynetworks("127.0.0.1"), ==, 0);
	check_int(policy_mynetworks("::1"), ==, 0);
	cfg("mynetworks = 0.0.0.0/0");
	check_int(policy_mynetworks("203.0.113.9"), ==, 1);
	check_int(policy_mynetworks("2001:db8::1"), ==, 0);
	check_int(policy_mynetworks("::ffff:203.0.113.9"), ==, 1);
	cfg("mynetworks = [::]/0");
	check_int(policy_mynetworks("2001:db8::1"), ==, 1);
	check_int(policy_mynetworks("203.0.113.9"), ==, 0);

	/* odd prefixes, and a v4-mapped network */
	cfg("mynetworks = 192.0.2.128/25, 198.51.100.0/23, "
	    "::ffff:10.0.0.0/104");
	check_int(policy_mynetworks("192.0.2.128"), ==, 1);
	check_int(policy_mynetworks("192.0.2.127"), ==, 0);
	check_int(policy_mynetworks("198.51.101.255"), ==, 1);
	check_int(policy_mynetworks("198.51.102.0"), ==, 0);
	check_int(policy_mynetworks("10.200.0.1"), ==, 1);
	check_int(policy_mynetworks("::ffff:10.200.0.1"), ==, 1);

	/* "!pattern" excludes, when it comes first */
	cfg("mynetworks = !192.0.2.5, 192.0.2.0/24, !192.0.2.6");
	check_int(policy_mynetworks("192.0.2.5"), ==, 0);
	check_int(policy_mynetworks("192.0.2.6"), ==, 1);
	check_int(policy_mynetworks("192.0.2.7"), ==, 1);

	/* a file of patterns, comments, commas */
	put("nets", "# trusted\n!10.9.0.0/16\n10.0.0.0/8, [fd00::]/8 # lab\n"
	    "  192.0.2.1\n");
	cfg("mynetworks = @D/nets, 198.51.100.0/24");
	check_int(policy_mynetworks("10.1.2.3"), ==, 1);
	check_int(policy_mynetworks("10.9.1.1"), ==, 0);
	check_int(policy_mynetworks("fd00::1"), ==, 1);
	check_int(policy_mynetworks("192.0.2.1"), ==, 1);
	check_int(policy_mynetworks("198.51.100.1"), ==, 1);
	check_int(policy_mynetworks("203.0.113.1"), ==, 0);

	/* a table: the address is the key */
	cfg("mynetworks = inline:{ 192.0.2.9=ok, 2001:db8::9=ok }");
	check_int(policy_mynetworks("192.0.2.9"), ==, 1);
	check_int(policy_mynetworks("::ffff:192.0.2.9"), ==, 1);
	check_int(policy_mynetworks("2001:DB8:0::9"), ==, 1);
	check_int(policy_mynetworks("192.0.2.10"), ==, 0);
	check_int(policy_mynetworks("unknown"), ==, 0);
	cfg("mynetworks = ldap:/etc/x.cf, 127.0.0.0/8");
	check_int(policy_mynetworks("127.0.0.1"), ==, 1);
	check_int(policy_mynetworks("192.0.2.1"), ==, 0);
	check(logged("map type ldap is not supported"));
	cfg("mynetworks = texthash:@D/nonexistent");
	check_int(policy_mynetworks("192.0.2.1"), ==, -1);
	check_int(policy_mynetworks("unknown"), ==, 0);
}

static void
t_mynetworks_bad(void)
{
	static const char *const bad[] = {
		"10.0.0.1/8",		/* host bits set */
		"10.0.0.0/33",
		"10.0.0.0/",
		"10.0.0.0/-1",
		"10.0.0.0/+8",
		"10.0.0.0/8/8",
		"999.0.0.0/8",
		"10.0.0",
		"example.com",
		"[::1",
		"[::1]x",
		"[::1]/129",
		"[2001:db8::1]/32",	/* host bits */
		"::ffff:10.0.0.0/95",
		"!",
		"!!10.0.0.0/8",
		"@D/nonexistent",
		"@D/nested",
		"127.0.0.0/8 bogus",	/* even after a match */
		"[127.0.0.1]/8x",
	};
	struct buf	 why, line;
	size_t		 i;

	buf_init(&why, 4096);
	buf_init(&line, 4096);
	put("nested", "10.0.0.0/8\n/etc/hosts\n");
	for (i = 0; i < nitems(bad); i++) {
		buf_reset(&line);
		buf_printf(&line, "mynetworks = %s", bad[i]);
		cfg(buf_str(&line));
		if (!check_int(policy_mynetworks("127.0.0.1"), ==, -1) ||
		    !check_int(policy_check_config(&why), ==, -1))
			tap_diag("mynetworks = %s", bad[i]);
		/* permit_mynetworks then fails closed */
		if (!check_int(rcpt("127.0.0.1", NULL, "u@example.org", ""),
		    ==, 451))
			tap_diag("mynetworks = %s", bad[i]);
		check_str(buf_str(&reply), "451 4.3.5 Server configuration "
		    "error");
	}
	check(logged("bad net/mask pattern: \"example.com\""));
	cfg("mynetworks = 10.0.0.0/8");
	check_int(policy_check_config(&why), ==, 0);
	buf_free(&why);
	buf_free(&line);
}

static void
t_domain_class(void)
{
	static const struct {
		const char		*domain;
		enum policy_class	 want;
	} cases[] = {
		{ "mail.example.org", PC_LOCAL },
		{ "example.org", PC_LOCAL },	/* "Example.ORG" listed */
		{ "EXAMPLE.org", PC_LOCAL },
		{ "localhost", PC_LOCAL },
		{ "localhost.example.org", PC_LOCAL },
		{ "sub.mail.example.org", PC_REMOTE },	/* exact only */
		{ "xample.org", PC_REMOTE },
		{ "", PC_LOCAL },		/* a bare name */
		{ "virt.example", PC_VIRTUAL },
		{ "x.virt.example", PC_REMOTE },
		{ "both.example", PC_LOCAL },	/* mydestination wins */
		{ "relay.example", PC_RELAY },
		{ "a.b.relay.example", PC_RELAY },	/* parent matching */
		{ "A.B.RELAY.EXAMPLE", PC_RELAY },
		{ "notrelay.example", PC_REMOTE },
		{ "relay.example.com", PC_REMOTE },
		{ "bad.relay.example", PC_REMOTE },	/* !bad.relay.example */
		{ "x.bad.relay.example", PC_REMOTE },
		{ "sub.example", PC_REMOTE },	/* .sub.example: below only */
		{ "a.sub.example", PC_RELAY },
		{ "filed.example", PC_RELAY },
		{ "x.filed.example", PC_RELAY },
		{ "tbl.example", PC_RELAY },
		{ "deep.x.tbl.example", PC_RELAY },
		{ "dot.example", PC_RELAY },	/* listed as "dot.example." */
		{ "remote.example", PC_REMOTE },
		{ "xn--lcal-5ve.example", PC_REMOTE },	/* IDN homograph */
		{ "[192.0.2.1]", PC_REMOTE },
		{ "[IPv6:2001:db8::1]", PC_REMOTE },
		{ "[127.0.0.1", PC_REMOTE },
		{ "[IPv6:127.0.0.1]", PC_REMOTE },
		{ "[203.0.113.5]", PC_RELAY },	/* a literal in relay_domains */
		{ "[198.51.100.77]", PC_LOCAL },	/* in mydestination */
	};
	size_t	 i;

	put("relays", "# more relay domains\nfiled.example\n");
	cfg("mydestination = $myhostname, localhost.$mydomain, localhost, "
	    "Example.ORG, both.example, [198.51.100.77]\n"
	    "virtual_mailbox_domains = virt.example, both.example\n"
	    "relay_domains = !bad.relay.example, relay.example, .sub.example,"
	    " @D/relays, inline:{ tbl.example=x }, dot.example.,"
	    " [203.0.113.5]");
	for (i = 0; i < nitems(cases); i++)
		if (!check_int(policy_domain_class(cases[i].domain), ==,
		    cases[i].want))
			tap_diag("domain \"%s\"", cases[i].domain);

	/* our own addresses are local, as runq delivers them */
	check_int(policy_domain_class("[127.0.0.1]"), ==,
	    have_addr("127.0.0.1") ? PC_LOCAL : PC_REMOTE);
	check_int(policy_domain_class("[IPv6:::1]"), ==,
	    have_addr("::1") ? PC_LOCAL : PC_REMOTE);
	check_int(policy_domain_class("[::1]"), ==, PC_REMOTE);

	/* a table that fails: try later */
	cfg("relay_domains = texthash:@D/nonexistent");
	check_int(policy_domain_class("remote.example"), ==, PC_TEMPFAIL);
	check_int(policy_domain_class("example.org"), ==, PC_LOCAL);
	check(logged("relay_domains: "));
	cfg("relay_domains = @D/nonexistent");
	check_int(policy_domain_class("remote.example"), ==, PC_TEMPFAIL);
	cfg("relay_domains = ldap:/etc/x.cf, relay.example");
	check_int(policy_domain_class("relay.example"), ==, PC_RELAY);
	check_int(policy_domain_class("remote.example"), ==, PC_REMOTE);
	cfg("relay_domains =");
	check_int(policy_domain_class("relay.example"), ==, PC_REMOTE);
}

/* The default lists: permit_mynetworks, permit_sasl_authenticated,
 * defer_unauth_destination. */
static void
t_default_lists(void)
{
	cfg("relay_domains = relay.example");
	check_int(rcpt("127.0.0.1", NULL, "u@remote.example", "a@b.example"),
	    ==, 0);
	check_int(rcpt("::1", NULL, "u@remote.example", ""), ==, 0);
	check_int(rcpt("192.0.2.1", NULL, "u@remote.example", "a@b.example"),
	    ==, 454);
	check_str(buf_str(&reply),
	    "454 4.7.1 <u@remote.example>: Relay access denied");
	check_int(rcpt("192.0.2.1", "bob", "u@remote.example", ""), ==, 0);
	check_int(rcpt("192.0.2.1", "", "u@remote.example", ""), ==, 454);
	check_int(rcpt("192.0.2.1", NULL, "u@example.org", ""), ==, 0);
	check_int(rcpt("192.0.2.1", NULL, "u@relay.example", ""), ==, 0);
	check_int(rcpt("192.0.2.1", NULL, "u@x.relay.example", ""), ==, 0);
	check_int(rcpt("192.0.2.1", NULL, "postmaster", ""), ==, 0);
	check_int(rcpt("unknown", NULL, "u@remote.example", ""), ==, 454);
	check_int(rcpt("unknown", NULL, "u@example.org", ""), ==, 0);
	check_int(rcpt("::ffff:127.0.0.1", NULL, "u@remote.example", ""), ==,
	    0);
	check_int(rcpt("192.0.2.1", NULL, "u@[192.0.2.1]", ""), ==, 454);
	check_int(policy_check_config(&reply), ==, 0);

	/* A relay_domains table that fails defers even the decision. */
	cfg("relay_domains = texthash:@D/nonexistent");
	check_int(rcpt("192.0.2.1", NULL, "u@remote.example", ""), ==, 451);
	check_str(buf_str(&reply),
	    "451 4.3.0 <u@remote.example>: Temporary lookup failure");
	check_int(rcpt("127.0.0.1", NULL, "u@remote.example", ""), ==, 0);
}

static void
t_order(void)
{
	/* the old style: everything in smtpd_recipient_restrictions */
	cfg("smtpd_relay_restrictions =\n"
	    "smtpd_recipient_restrictions = permit_mynetworks, "
	    "reject_unauth_destination");
	check_int(rcpt("192.0.2.1", NULL, "u@remote.example", ""), ==, 554);
	check_str(buf_str(&reply),
	    "554 5.7.1 <u@remote.example>: Relay access denied");
	check_int(rcpt("127.0.0.1", NULL, "u@remote.example", ""), ==, 0);
	check_int(rcpt("192.0.2.1", NULL, "u@example.org", ""), ==, 0);

	/* the order matters: reject_unauth_destination first */
	cfg("smtpd_relay_restrictions =\n"
	    "smtpd_recipient_restrictions = reject_unauth_destination, "
	    "permit_mynetworks");
	check_int(rcpt("127.0.0.1", NULL, "u@remote.example", ""), ==, 554);
	cfg("smtpd_relay_restrictions = permit_sasl_authenticated, "
	    "reject_unauth_destination, permit_mynetworks");
	check_int(rcpt("127.0.0.1", NULL, "u@remote.example", ""), ==, 554);
	check_int(rcpt("127.0.0.1", "bob", "u@remote.example", ""), ==, 0);

	/* a permit ends its list only: the recipient list still runs */
	cfg("smtpd_relay_restrictions = permit_mynetworks, "
	    "reject_unauth_destination\n"
	    "smtpd_recipient_restrictions = reject");
	check_int(rcpt("127.0.0.1", NULL, "u@remote.example", ""), ==, 554);
	check_str(buf_str(&reply), "554 5.7.1 <u@remote.example>: Recipient "
	    "address rejected: Access denied");
	cfg("smtpd_relay_restrictions = permit\n"
	    "smtpd_recipient_restrictions = reject_unauth_destination");
	check_int(rcpt("192.0.2.1", NULL, "u@remote.example", ""), ==, 554);
	check_int(rcpt("192.0.2.1", NULL, "u@example.org", ""), ==, 0);
	/* a reject in the relay list ends everything */
	cfg("smtpd_relay_restrictions = reject_unauth_destination\n"
	    "smtpd_recipient_restrictions = permit");
	check_int(rcpt("127.0.0.1", NULL, "u@remote.example", ""), ==, 554);

	/* names without case; permit_auth_destination; defer */
	cfg("smtpd_relay_restrictions = PERMIT_MYNETWORKS, "
	    "Reject_Unauth_Destination");
	check_int(rcpt("127.0.0.1", NULL, "u@remote.example", ""), ==, 0);
	check_int(rcpt("192.0.2.1", NULL, "u@remote.example", ""), ==, 554);
	cfg("smtpd_relay_restrictions = permit_auth_destination, reject");
	check_int(rcpt("192.0.2.1", NULL, "u@example.org", ""), ==, 0);
	check_int(rcpt("127.0.0.1", NULL, "u@remote.example", ""), ==, 554);
	cfg("smtpd_relay_restrictions = permit_mynetworks, defer");
	check_int(rcpt("192.0.2.1", NULL, "u@example.org", ""), ==, 450);
	check_str(buf_str(&reply), "450 4.3.2 <u@example.org>: Recipient "
	    "address rejected: Try again later");
	cfg("smtpd_relay_restrictions = reject_unauth_pipelining, "
	    "defer_unauth_destination");
	check_int(rcpt("192.0.2.1", NULL, "u@example.org", ""), ==, 0);
}

static void
t_open_relay_config(void)
{
	struct buf	 why;

	buf_init(&why, 4096);
	/* no restriction that rejects: every RCPT 451, even mynetworks */
	cfg("smtpd_relay_restrictions =\nsmtpd_recipient_restrictions =");
	check_int(rcpt("127.0.0.1", NULL, "u@example.org", ""), ==, 451);
	check_str(buf_str(&reply), "451 4.3.5 Server configuration error");
	check(logged("specify at least one working instance of: "
	    "reject_unauth_destination"));
	check_int(policy_check_config(&why), ==, -1);
	cfg("smtpd_relay_restrictions = permit_mynetworks, "
	    "permit_sasl_authenticated");
	check_int(rcpt("127.0.0.1", NULL, "u@example.org", ""), ==, 451);
	check_int(rcpt("192.0.2.1", NULL, "u@remote.example", ""), ==, 451);
	cfg("smtpd_relay_restrictions = permit_mynetworks, warn_if_reject "
	    "reject_unauth_destination");
	check_int(rcpt("192.0.2.1", NULL, "u@remote.example", ""), ==, 451);
	cfg("smtpd_relay_restrictions = permit_mynetworks, reject_rbl_client "
	    "reject");	/* "reject" is the argument here */
	check_int(rcpt("192.0.2.1", NULL, "u@remote.example", ""), ==, 451);
	/* any one of them will do */
	cfg("smtpd_relay_restrictions = defer_if_permit");
	check_int(policy_check_config(&why), ==, 0);
	check_int(rcpt("192.0.2.1", NULL, "u@example.org", ""), ==, 450);
	cfg("smtpd_relay_restrictions = permit_mynetworks, reject");
	check_int(policy_check_config(&why), ==, 0);

	/* unknown restrictions fail closed, when they are reached */
	cfg("smtpd_relay_restrictions = permit_mynetworks, check_client_access"
	    " hash:/etc/x, reject_unauth_destination");
	check_int(rcpt("127.0.0.1", NULL, "u@remote.example", ""), ==, 0);
	check_int(rcpt("192.0.2.1", NULL, "u@example.org", ""), ==, 451);
	check_str(buf_str(&reply), "451 4.3.5 Server configuration error");
	check(logged("unknown smtpd restriction: \"check_client_access\""));
	check_int(policy_check_config(&why), ==, -1);
	check(strstr(buf_str(&why), "check_client_access") != NULL);
	cfg("smtpd_relay_restrictions = permit_mynetworks, "
	    "reject_unauth_destination\n"
	    "smtpd_recipient_restrictions = check_policy_service "
	    "inet:127.0.0.1:10023");
	check_int(rcpt("127.0.0.1", NULL, "u@remote.example", ""), ==, 451);
	cfg("smtpd_relay_restrictions = reject_unauth_destination, "
	    "reject_rbl_client");
	check_int(rcpt("192.0.2.1", NULL, "u@example.org", ""), ==, 451);
	check(logged("restriction reject_rbl_client requires an argument"));
	check_int(policy_check_config(&why), ==, -1);
	buf_free(&why);
}

static void
t_defer_warn(void)
{
	/* defer_if_permit: a later reject still wins */
	cfg("smtpd_relay_restrictions = permit_sasl_authenticated, "
	    "defer_if_permit, reject_unauth_destination");
	check_int(rcpt("192.0.2.1", NULL, "u@remote.example", ""), ==, 554);
	check_int(rcpt("192.0.2.1", NULL, "u@example.org", ""), ==, 450);
	check_str(buf_str(&reply), "450 4.7.0 <u@example.org>: Recipient "
	    "address rejected: defer_if_permit requested");
	check_int(rcpt("192.0.2.1", "bob", "u@remote.example", ""), ==, 0);
	/* ... and an explicit permit in the other list does not undo it */
	cfg("smtpd_relay_restrictions = defer_if_permit, permit\n"
	    "smtpd_recipient_restrictions = permit");
	check_int(rcpt("127.0.0.1", NULL, "u@example.org", ""), ==, 450);

	/* defer_if_reject: a 5xx reject becomes its 450 */
	cfg("smtpd_relay_restrictions = defer_if_reject, "
	    "reject_unauth_destination");
	check_int(rcpt("192.0.2.1", NULL, "u@remote.example", ""), ==, 450);
	check_str(buf_str(&reply), "450 4.7.0 <u@remote.example>: Recipient "
	    "address rejected: defer_if_reject requested");
	check_int(rcpt("192.0.2.1", NULL, "u@example.org", ""), ==, 0);

	/* warn_if_reject: only the next one, only logged */
	cfg("smtpd_relay_restrictions = permit_mynetworks, warn_if_reject "
	    "reject, reject_unauth_destination");
	check_int(rcpt("192.0.2.1", NULL, "u@example.org", "s@b.example"), ==,
	    0);
	check(logged("NOQUEUE: reject_warning: RCPT from [192.0.2.1]: 554 "
	    "5.7.1 <u@example.org>: Recipient address rejected: Access "
	    "denied; from=<s@b.example> to=<u@example.org>"));
	check_int(rcpt("192.0.2.1", NULL, "u@remote.example", ""), ==, 554);
	cfg("smtpd_relay_restrictions = warn_if_reject "
	    "reject_unauth_destination, reject");
	check_int(rcpt("192.0.2.1", NULL, "u@remote.example", ""), ==, 554);
	check_str(buf_str(&reply), "554 5.7.1 <u@remote.example>: Recipient "
	    "address rejected: Access denied");
	check(logged("reject_warning"));
	/* configuration errors are never softened */
	cfg("smtpd_relay_restrictions = warn_if_reject check_foo, reject");
	check_int(rcpt("192.0.2.1", NULL, "u@example.org", ""), ==, 451);
}

static void
t_fqdn_helo(void)
{
	struct policy_client	 c;
	static const struct {
		const char	*helo;
		int		 invalid, nonfqdn;
	} helos[] = {
		{ "mail.example.com", 0, 0 },
		{ "mail.example.com.", 0, 0 },
		{ "mail_1.example.com", 0, 0 },
		{ "foo", 0, 504 },
		{ "[192.0.2.1]", 0, 0 },
		{ "[IPv6:2001:db8::1]", 0, 0 },
		{ "[192.0.2]", 501, 501 },
		{ "[example.com]", 501, 501 },
		{ "192.0.2.1", 0, 504 },
		{ "123.45", 501, 504 },
		{ "bad!name.example", 501, 504 },
		{ "-bad.example", 501, 504 },
		{ "bad-.example", 501, 504 },
		{ "a..b", 501, 504 },
		{ "", 501, 504 },
		{ NULL, 0, 0 },
	};
	size_t	 i;

	cfg("smtpd_relay_restrictions = reject_non_fqdn_recipient, "
	    "reject_non_fqdn_sender, permit_mynetworks, "
	    "reject_unauth_destination");
	check_int(rcpt("127.0.0.1", NULL, "u@localhost", ""), ==, 504);
	check_str(buf_str(&reply), "504 5.5.2 <u@localhost>: Recipient "
	    "address rejected: need fully-qualified address");
	check_int(rcpt("127.0.0.1", NULL, "postmaster", ""), ==, 504);
	check_int(rcpt("127.0.0.1", NULL, "u@[192.0.2.1]", ""), ==, 0);
	check_int(rcpt("127.0.0.1", NULL, "u@example.org", "s@host"), ==, 504);
	check_str(buf_str(&reply), "504 5.5.2 <s@host>: Sender address "
	    "rejected: need fully-qualified address");
	check_int(rcpt("127.0.0.1", NULL, "u@example.org", ""), ==, 0);
	check_int(rcpt("127.0.0.1", NULL, "u@example.org", "s@a.example"), ==,
	    0);

	for (i = 0; i < nitems(helos); i++) {
		c = client("127.0.0.1", NULL);
		c.helo = helos[i].helo;
		cfg("smtpd_relay_restrictions = reject_invalid_helo_hostname, "
		    "permit_mynetworks, reject");
		if (!check_int(policy_rcpt(&c, "u@example.org", "", &reply),
		    ==, helos[i].invalid))
			tap_diag("helo \"%s\"", helos[i].helo);
		cfg("smtpd_relay_restrictions = reject_non_fqdn_helo_hostname,"
		    " permit_mynetworks, reject");
		if (!check_int(policy_rcpt(&c, "u@example.org", "", &reply),
		    ==, helos[i].nonfqdn))
			tap_diag("helo \"%s\"", helos[i].helo);
	}
	c = client("127.0.0.1", NULL);
	c.helo = "foo";
	check_int(policy_rcpt(&c, "u@example.org", "", &reply), ==, 504);
	check_str(buf_str(&reply), "504 5.5.2 <foo>: Helo command rejected: "
	    "need fully-qualified hostname");
	cfg("smtpd_relay_restrictions = reject_invalid_helo_hostname, "
	    "reject_unauth_destination");
	c.helo = "bad!name";
	check_int(policy_rcpt(&c, "u@example.org", "", &reply), ==, 501);
	check_str(buf_str(&reply), "501 5.5.2 <bad!name>: Helo command "
	    "rejected: Invalid name");
	c.helo = "[1.2.3]";
	check_int(policy_rcpt(&c, "u@example.org", "", &reply), ==, 501);
	check_str(buf_str(&reply), "501 5.5.2 <[1.2.3]>: Helo command "
	    "rejected: invalid ip address");
}

/* SMTP-NOTES 3.9: the caller normalises, the policy never routes. */
static void
t_open_relay_table(void)
{
	static const char *const local_tricks[] = {
		"victim%remote.example@example.org",
		"remote.example!victim@example.org",
		"\"victim@remote.example\"@example.org",
		"victim%remote.example@mail.example.org",
		"\"victim%remote.example\"@localhost",
	};
	size_t	 i;

	cfg("alias_maps =\nrelay_domains =");
	for (i = 0; i < nitems(local_tricks); i++) {
		const char	*at = strrchr(local_tricks[i], '@');

		if (!check_int(policy_domain_class(at + 1), ==, PC_LOCAL))
			tap_diag("%s", local_tricks[i]);
		/* local: no relaying question */
		if (!check_int(rcpt("192.0.2.1", NULL, local_tricks[i], ""),
		    ==, 0))
			tap_diag("%s", local_tricks[i]);
		/* ... and nobody of that name lives here */
		if (!check_int(policy_local_recipient(local_tricks[i],
		    &reply), ==, 550))
			tap_diag("%s", local_tricks[i]);
	}
	check_str(buf_str(&reply), "550 5.1.1 <\"victim%remote.example\""
	    "@localhost>: Recipient address rejected: User unknown in local "
	    "recipient table");

	/* the route stripped: the final domain decides */
	check_int(rcpt("192.0.2.1", NULL, "victim@remote.example", ""), ==,
	    454);
	/* literals: relay denied unless ours */
	check_int(rcpt("192.0.2.1", NULL, "victim@[192.0.2.99]", ""), ==, 454);
	check_int(rcpt("192.0.2.1", NULL, "victim@[IPv6:2001:db8::99]", ""),
	    ==, 454);
	/* an IDN homograph is another domain */
	check_int(rcpt("192.0.2.1", NULL, "victim@xn--exmple-4nf.org", ""),
	    ==, 454);
	/* upper case in the domain (before normalisation) is still ours */
	check_int(rcpt("192.0.2.1", NULL, "root@EXAMPLE.ORG", ""), ==, 0);
	/* the sender and the HELO name never grant relaying */
	check_int(rcpt("192.0.2.1", NULL, "victim@remote.example",
	    "root@example.org"), ==, 454);
	check_int(rcpt("127.0.0.2", NULL, "victim@remote.example", ""), ==, 0);
}

static void
t_local_recipient(void)
{
	put("aliases", "# aliases(5)\npostmaster: root\nalice: root\n"
	    "Bob-List: alice,\n  root\n");
	cfg("");
	check_int(policy_local_recipient("root@example.org", &reply), ==, 0);
	check_int(policy_local_recipient("ROOT@example.org", &reply), ==, 0);
	check_int(policy_local_recipient("root@localhost", &reply), ==, 0);
	check_int(policy_local_recipient("root", &reply), ==, 0);
	check_int(policy_local_recipient("alice@example.org", &reply), ==, 0);
	check_int(policy_local_recipient("bob-list@example.org", &reply), ==,
	    0);
	check_int(policy_local_recipient("nosuchuser-xq7@example.org",
	    &reply), ==, 550);
	check_str(buf_str(&reply), "550 5.1.1 <nosuchuser-xq7@example.org>: "
	    "Recipient address rejected: User unknown in local recipient "
	    "table");
	check_int(policy_local_recipient("nosuchuser-xq7", &reply), ==, 550);
	check_int(policy_local_recipient("root:x@example.org", &reply), ==,
	    550);
	/* the special names */
	check_int(policy_local_recipient("MAILER-DAEMON@example.org", &reply),
	    ==, 0);
	check_int(policy_local_recipient("double-bounce@example.org", &reply),
	    ==, 0);
	check_int(policy_local_recipient("Postmaster", &reply), ==, 0);
	check_int(policy_local_recipient("postmaster+x@example.org", &reply),
	    ==, 550);
	/* other domains are not ours to check */
	check_int(policy_local_recipient("nosuchuser-xq7@remote.example",
	    &reply), ==, 0);

	/* extensions */
	check_int(policy_local_recipient("root+foo@example.org", &reply), ==,
	    550);
	cfg("recipient_delimiter = +");
	check_int(policy_local_recipient("root+foo@example.org", &reply), ==,
	    0);
	check_int(policy_local_recipient("alice+x+y@example.org", &reply), ==,
	    0);
	check_int(policy_local_recipient("nosuchuser-xq7+root@example.org",
	    &reply), ==, 550);
	check_int(policy_local_recipient("+root@example.org", &reply), ==,
	    550);
	check_int(policy_local_recipient("root-foo@example.org", &reply), ==,
	    550);
	cfg("recipient_delimiter = +-");
	check_int(policy_local_recipient("root-foo@example.org", &reply), ==,
	    0);
	check_int(policy_local_recipient("bob-list@example.org", &reply), ==,
	    0);

	/* an empty local_recipient_maps turns the check off */
	cfg("local_recipient_maps =");
	check_int(policy_local_recipient("nosuchuser-xq7@example.org",
	    &reply), ==, 0);
	/* tables of other types; a table that fails; an unknown type */
	cfg("local_recipient_maps = inline:{ carol=1 }, unix:passwd.byname");
	check_int(policy_local_recipient("carol@example.org", &reply), ==, 0);
	check_int(policy_local_recipient("root@example.org", &reply), ==, 0);
	check_int(policy_local_recipient("alice@example.org", &reply), ==,
	    550);
	cfg("local_recipient_maps = texthash:@D/nonexistent, "
	    "unix:passwd.byname");
	check_int(policy_local_recipient("root@example.org", &reply), ==, 451);
	check_str(buf_str(&reply), "451 4.3.0 <root@example.org>: Temporary "
	    "lookup failure");
	check(logged("local_recipient_maps: "));
	cfg("local_recipient_maps = unix:passwd.byname, "
	    "texthash:@D/nonexistent");
	check_int(policy_local_recipient("root@example.org", &reply), ==, 0);
	check_int(policy_local_recipient("nosuchuser-xq7@example.org",
	    &reply), ==, 451);
	cfg("local_recipient_maps = ldap:/etc/x.cf, proxy:unix:passwd.byname");
	check_int(policy_local_recipient("root@example.org", &reply), ==, 0);
	check_int(policy_local_recipient("nosuchuser-xq7@example.org",
	    &reply), ==, 550);
	check(logged("ldap"));
	/* an alias database not built yet: try later, never accept */
	cfg("alias_maps = hash:@D/aliases");
	check_int(policy_local_recipient("nosuchuser-xq7@example.org",
	    &reply), ==, 451);

	/* virtual_alias_maps: any domain of ours, and @domain */
	cfg("virtual_alias_maps = inline:{ nobody-here@example.org=root, "
	    "a1@virt.example=root, @catch.example=root }\n"
	    "virtual_mailbox_domains = virt.example, catch.example, "
	    "virt2.example\n"
	    "virtual_mailbox_maps = texthash:@D/vmbox");
	put("vmbox", "u1@virt.example virt/u1/\n@virt2.example virt2/\n");
	check_int(policy_local_recipient("nobody-here@example.org", &reply),
	    ==, 0);
	check_int(policy_local_recipient("u1@virt.example", &reply), ==, 0);
	check_int(policy_local_recipient("U1@virt.example", &reply), ==, 0);
	check_int(policy_local_recipient("a1@virt.example", &reply), ==, 0);
	check_int(policy_local_recipient("anyone@catch.example", &reply), ==,
	    0);
	check_int(policy_local_recipient("anyone@virt2.example", &reply), ==,
	    0);
	check_int(policy_local_recipient("u2@virt.example", &reply), ==, 550);
	check_str(buf_str(&reply), "550 5.1.1 <u2@virt.example>: Recipient "
	    "address rejected: User unknown in virtual mailbox table");
	check_int(policy_local_recipient("root@virt.example", &reply), ==,
	    550);
	check_int(policy_local_recipient("u1+x@virt.example", &reply), ==,
	    550);
	cfg("virtual_mailbox_domains = virt.example\nvirtual_mailbox_maps =");
	check_int(policy_local_recipient("u2@virt.example", &reply), ==, 0);
	cfg("virtual_mailbox_domains = virt.example\n"
	    "virtual_mailbox_maps = texthash:@D/nonexistent");
	check_int(policy_local_recipient("u2@virt.example", &reply), ==, 451);
	cfg("virtual_alias_maps = texthash:@D/nonexistent");
	check_int(policy_local_recipient("root@example.org", &reply), ==, 451);
	check_int(policy_local_recipient("root@remote.example", &reply), ==,
	    0);

	/* as a restriction */
	cfg("smtpd_relay_restrictions = permit_mynetworks, "
	    "reject_unauth_destination\n"
	    "smtpd_recipient_restrictions = reject_unlisted_recipient");
	check_int(rcpt("127.0.0.1", NULL, "nosuchuser-xq7@example.org", ""),
	    ==, 550);
	check_int(rcpt("127.0.0.1", NULL, "root@example.org", ""), ==, 0);
	check_int(rcpt("127.0.0.1", NULL, "x@remote.example", ""), ==, 0);
	cfg("smtpd_relay_restrictions = warn_if_reject "
	    "reject_unlisted_recipient, reject_unauth_destination");
	check_int(rcpt("127.0.0.1", NULL, "nosuchuser-xq7@example.org", ""),
	    ==, 0);
	check(logged("reject_warning"));
	cfg("local_recipient_maps = texthash:@D/nonexistent\n"
	    "smtpd_relay_restrictions = warn_if_reject "
	    "reject_unlisted_recipient, reject_unauth_destination");
	check_int(rcpt("127.0.0.1", NULL, "nosuchuser-xq7@example.org", ""),
	    ==, 451);
}

static void
t_sender_login(void)
{
	put("logins", "alice@example.org alice\n"
	    "shared@example.org alice, bob\n"
	    "@corp.example carol\n"
	    "dave dave\n"
	    "multi@example.org erin frank,grace\n");
	cfg("smtpd_sender_login_maps = texthash:@D/logins");
	check_int(policy_sender_login("alice", "alice@example.org", &reply),
	    ==, 0);
	check_int(policy_sender_login("ALICE", "alice@example.org", &reply),
	    ==, 0);
	check_int(policy_sender_login("bob", "alice@example.org", &reply), ==,
	    553);
	check_str(buf_str(&reply), "553 5.7.1 <alice@example.org>: Sender "
	    "address rejected: not owned by user bob");
	check_int(policy_sender_login("bob", "shared@example.org", &reply), ==,
	    0);
	check_int(policy_sender_login("alice", "shared@example.org", &reply),
	    ==, 0);
	check_int(policy_sender_login("grace", "multi@example.org", &reply),
	    ==, 0);
	check_int(policy_sender_login("frank", "multi@example.org", &reply),
	    ==, 0);
	check_int(policy_sender_login("fran", "multi@example.org", &reply),
	    ==, 553);
	check_int(policy_sender_login("carol", "any@corp.example", &reply),
	    ==, 0);
	check_int(policy_sender_login("alice", "any@corp.example", &reply),
	    ==, 553);
	/* nobody owns it: an authenticated user may not use it */
	check_int(policy_sender_login("alice", "x@remote.example", &reply),
	    ==, 553);
	/* the local part alone counts in local domains only */
	check_int(policy_sender_login("dave", "dave@example.org", &reply), ==,
	    0);
	check_int(policy_sender_login("dave", "dave@localhost", &reply), ==,
	    0);
	check_int(policy_sender_login("dave", "dave@remote.example", &reply),
	    ==, 553);
	/* the null sender is never checked */
	check_int(policy_sender_login("alice", "", &reply), ==, 0);
	check_int(policy_sender_login(NULL, "", &reply), ==, 0);
	/* not logged in: an owned sender is refused, others pass */
	check_int(policy_sender_login(NULL, "alice@example.org", &reply), ==,
	    553);
	check_str(buf_str(&reply), "553 5.7.1 <alice@example.org>: Sender "
	    "address rejected: not logged in");
	check_int(policy_sender_login("", "any@corp.example", &reply), ==,
	    553);
	check_int(policy_sender_login(NULL, "x@remote.example", &reply), ==,
	    0);
	/* extensions */
	check_int(policy_sender_login("alice", "alice+tag@example.org",
	    &reply), ==, 553);
	cfg("smtpd_sender_login_maps = texthash:@D/logins\n"
	    "recipient_delimiter = +");
	check_int(policy_sender_login("alice", "alice+tag@example.org",
	    &reply), ==, 0);
	check_int(policy_sender_login("dave", "dave+x@example.org", &reply),
	    ==, 0);
	check_int(policy_sender_login("bob", "alice+tag@example.org", &reply),
	    ==, 553);

	/* an empty list: nobody owns anything (as Postfix) */
	cfg("smtpd_sender_login_maps =");
	check_int(policy_sender_login("alice", "alice@example.org", &reply),
	    ==, 553);
	check_int(policy_sender_login(NULL, "alice@example.org", &reply), ==,
	    0);
	/* failures */
	cfg("smtpd_sender_login_maps = texthash:@D/nonexistent");
	check_int(policy_sender_login("alice", "alice@example.org", &reply),
	    ==, 451);
	check_str(buf_str(&reply), "451 4.3.0 <alice@example.org>: Temporary "
	    "lookup failure");
	cfg("smtpd_sender_login_maps = ldap:/etc/x.cf");
	check_int(policy_sender_login(NULL, "alice@example.org", &reply), ==,
	    451);
	check_str(buf_str(&reply), "451 4.3.5 Server configuration error");
	cfg("smtpd_sender_login_maps = inline:{ alice@example.org=alice }\n"
	    "relay_domains = texthash:@D/nonexistent");
	check_int(policy_sender_login("alice", "alice@example.org", &reply),
	    ==, 0);
	check_int(policy_sender_login("alice", "alice@remote.example",
	    &reply), ==, 451);

	/* as restrictions */
	cfg("smtpd_sender_login_maps = texthash:@D/logins\n"
	    "smtpd_relay_restrictions = reject_sender_login_mismatch, "
	    "permit_mynetworks, permit_sasl_authenticated, "
	    "reject_unauth_destination");
	check_int(rcpt("192.0.2.1", "bob", "x@remote.example",
	    "alice@example.org"), ==, 553);
	check_int(rcpt("192.0.2.1", "alice", "x@remote.example",
	    "alice@example.org"), ==, 0);
	check_int(rcpt("127.0.0.1", NULL, "x@remote.example",
	    "alice@example.org"), ==, 553);
	check_int(rcpt("127.0.0.1", NULL, "x@remote.example",
	    "x@remote.example"), ==, 0);
	cfg("smtpd_sender_login_maps = texthash:@D/logins\n"
	    "smtpd_relay_restrictions = "
	    "reject_authenticated_sender_login_mismatch, permit_mynetworks, "
	    "permit_sasl_authenticated, reject_unauth_destination");
	check_int(rcpt("127.0.0.1", NULL, "x@remote.example",
	    "alice@example.org"), ==, 0);
	check_int(rcpt("192.0.2.1", "bob", "x@remote.example",
	    "alice@example.org"), ==, 553);
	cfg("smtpd_sender_login_maps = texthash:@D/logins\n"
	    "smtpd_relay_restrictions = "
	    "reject_unauthenticated_sender_login_mismatch, permit_mynetworks,"
	    " permit_sasl_authenticated, reject_unauth_destination");
	check_int(rcpt("127.0.0.1", NULL, "x@remote.example",
	    "alice@example.org"), ==, 553);
	check_int(rcpt("192.0.2.1", "bob", "x@remote.example",
	    "alice@example.org"), ==, 0);
}

static void
t_client_names(void)
{
	struct policy_client	 c;
	struct sockaddr_in	 sin;
	socklen_t		 len = sizeof(sin);
	int			 fd;

	/* no address, nothing to look up */
	cfg("smtpd_relay_restrictions = reject_unknown_client_hostname, "
	    "reject_unauth_destination");
	check_int(rcpt("unknown", NULL, "u@example.org", ""), ==, 450);
	check_str(buf_str(&reply), "450 4.7.25 Client host rejected: cannot "
	    "find your hostname, [unknown]");
	c = client("unknown", NULL);
	check_int(policy_client_name(&c), ==, POLICY_NAME_PERM);
	check_str(c.name, "unknown");
	check_str(c.reverse_name, "unknown");
	check_int(c.reverse_status, ==, POLICY_NAME_PERM);

	/* what the caller found is used as it is */
	c = client("192.0.2.1", NULL);
	c.name = c.reverse_name = "mail.example.net";
	c.name_status = c.reverse_status = POLICY_NAME_OK;
	check_int(policy_rcpt(&c, "u@example.org", "", &reply), ==, 0);
	c.name = "unknown";
	c.name_status = POLICY_NAME_FORGED;
	check_int(policy_rcpt(&c, "u@example.org", "", &reply), ==, 450);
	c.name_status = POLICY_NAME_TEMP;
	check_int(policy_rcpt(&c, "u@example.org", "", &reply), ==, 450);
	check_str(buf_str(&reply), "450 4.7.25 Client host rejected: cannot "
	    "find your hostname, [192.0.2.1]");
	cfg("smtpd_relay_restrictions = "
	    "reject_unknown_reverse_client_hostname, "
	    "reject_unauth_destination");
	c.name_status = POLICY_NAME_FORGED;
	check_int(policy_rcpt(&c, "u@example.org", "", &reply), ==, 0);
	c.reverse_status = POLICY_NAME_PERM;
	check_int(policy_rcpt(&c, "u@example.org", "", &reply), ==, 450);
	check_str(buf_str(&reply), "450 4.7.25 Client host rejected: cannot "
	    "find your reverse hostname, [192.0.2.1]");
	cfg("smtpd_relay_restrictions = permit_mynetworks, "
	    "reject_unknown_client, reject_unauth_destination");
	check_int(rcpt("127.0.0.1", NULL, "u@example.org", ""), ==, 0);

	/* a DNS server that does not answer: 450, never a pass */
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	check(fd >= 0 && bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == 0 &&
	    getsockname(fd, (struct sockaddr *)&sin, &len) == 0);
	close(fd);		/* now nothing listens on that port */
	check_int(dns_set_server("127.0.0.1", ntohs(sin.sin_port)), ==, 0);
	c = client("192.0.2.1", NULL);
	check_int(policy_client_name(&c), ==, POLICY_NAME_TEMP);
	check_int(c.reverse_status, ==, POLICY_NAME_TEMP);
	check_str(c.name, "unknown");
	cfg("smtpd_relay_restrictions = reject_unknown_client_hostname, "
	    "reject_unauth_destination");
	check_int(rcpt("2001:db8::1", NULL, "u@example.org", ""), ==, 450);

	/* a DNSBL that does not answer: the final permit becomes 450 */
	cfg("smtpd_relay_restrictions = permit_mynetworks, "
	    "reject_unauth_destination, reject_rbl_client bl.example");
	check_int(rcpt("192.0.2.1", NULL, "u@example.org", ""), ==, 450);
	check_str(buf_str(&reply), "450 4.7.1 Client host rejected: cannot "
	    "check [192.0.2.1] in bl.example (DNS lookup error)");
	check_int(rcpt("192.0.2.1", NULL, "u@remote.example", ""), ==, 554);
	check_int(rcpt("127.0.0.1", NULL, "u@remote.example", ""), ==, 0);
	check_int(rcpt("unknown", NULL, "u@example.org", ""), ==, 0);
	cfg("smtpd_relay_restrictions = reject_rbl_client bl.example, "
	    "reject_unauth_destination\n"
	    "smtpd_recipient_restrictions = reject");
	check_int(rcpt("192.0.2.1", NULL, "u@example.org", ""), ==, 554);
	check_str(buf_str(&reply), "554 5.7.1 <u@example.org>: Recipient "
	    "address rejected: Access denied");
	dns_set_server(NULL, 0);

	/* malformed DNSBL arguments are configuration errors */
	cfg("smtpd_relay_restrictions = reject_rbl_client bad_domain!, "
	    "reject_unauth_destination");
	check_int(rcpt("192.0.2.1", NULL, "u@example.org", ""), ==, 451);
	cfg("smtpd_relay_restrictions = reject_rbl_client "
	    "bl.example=127.0.0.[3..2], reject_unauth_destination");
	check_int(rcpt("192.0.2.1", NULL, "u@example.org", ""), ==, 451);
	cfg("smtpd_relay_restrictions = reject_rbl_client "
	    "bl.example=127.0.0.256, reject_unauth_destination");
	check_int(rcpt("unknown", NULL, "u@example.org", ""), ==, 451);
	cfg("smtpd_relay_restrictions = reject_rbl_client =127.0.0.2, "
	    "reject_unauth_destination");
	check_int(rcpt("192.0.2.1", NULL, "u@example.org", ""), ==, 451);
}

static void
t_replies(void)
{
	struct buf	 small, big;
	char		 local[700];

	/* a reply is cut at 510 octets, and control characters go */
	memset(local, 'a', sizeof(local) - 1);
	local[sizeof(local) - 1] = '\0';
	buf_init(&big, 2048);
	buf_printf(&big, "%s@remote.example", local);
	cfg("");
	check_int(rcpt("192.0.2.1", NULL, buf_str(&big), ""), ==, 454);
	check_int(reply.len, ==, 510);
	check(strncmp(buf_str(&reply), "454 4.7.1 <aaa", 14) == 0);
	check_int(rcpt("192.0.2.1", NULL, "a\tb\177c@remote.example", ""), ==,
	    454);
	check_str(buf_str(&reply),
	    "454 4.7.1 <a b c@remote.example>: Relay access denied");
	/* a reply buffer too small keeps the code */
	buf_init(&small, 16);
	{
		struct policy_client	 c = client("192.0.2.1", NULL);

		check_int(policy_rcpt(&c, "u@remote.example", "", &small), ==,
		    454);
	}
	check_int(policy_local_recipient("nosuchuser-xq7@example.org",
	    &small), ==, 550);
	buf_free(&small);
	buf_free(&big);
	/* a NULL address is "unknown" */
	{
		struct policy_client	 c = client(NULL, NULL);

		check_int(policy_rcpt(&c, "u@remote.example", "", &reply), ==,
		    454);
		check_int(policy_rcpt(&c, "u@example.org", NULL, &reply), ==,
		    0);
	}
}

/* rm_one - nftw's callback for the clean-up */
static int
rm_one(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	if (flag == FTW_DP)
		return rmdir(p);
	return unlink(p);
}

int
main(void)
{
	const char	*tmp = getenv("TMPDIR");
	int		 rc;

	if (bsnprintf(dir, sizeof(dir), "%s/t-smtpd-policy.XXXXXX",
	    tmp ? tmp : "/tmp") != 0 || mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	/* one try of one second for the resolver tests */
	setenv("RES_OPTIONS", "timeout:1 attempts:1", 1);
	bsnprintf(maillog, sizeof(maillog), "%s/maillog", dir);
	log_init("t-smtpd-policy", "smtpd");
	log_stderr(0);
	if (log_open("t-smtpd-policy", maillog) != 0) {
		perror(maillog);
		return 1;
	}
	buf_init(&reply, POLICY_REPLY_MAX);
	put("aliases", "postmaster: root\n");

	TEST(t_mynetworks, "mynetworks: CIDR v4/v6, brackets, mapped, "
	    "negation, files, tables");
	TEST(t_mynetworks_bad, "mynetworks: malformed entries fail closed");
	TEST(t_domain_class, "domain classes: case, parent matching, "
	    "literals, files, tables");
	TEST(t_default_lists, "the default relay restrictions");
	TEST(t_order, "restriction order and list semantics");
	TEST(t_open_relay_config, "no rejecting restriction, unknown "
	    "restrictions: 451 4.3.5");
	TEST(t_defer_warn, "defer_if_permit, defer_if_reject, "
	    "warn_if_reject");
	TEST(t_fqdn_helo, "non-FQDN addresses and HELO names");
	TEST(t_open_relay_table, "the open-relay table of SMTP-NOTES 3.9");
	TEST(t_local_recipient, "local_recipient_maps, alias and virtual "
	    "maps");
	TEST(t_sender_login, "smtpd_sender_login_maps");
	TEST(t_client_names, "client names and DNSBLs: failures fail "
	    "closed");
	TEST(t_replies, "reply length, control characters, small buffers");
	rc = test_done();
	buf_free(&reply);
	conf_reset();
	nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	return rc;
}
