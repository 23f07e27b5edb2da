/*
 * h-dns.c - correo-test dns: MX routing and host lookups, printed as
 * one status line and then one "pref host address" line per address
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/dns.h"
#include "common/util.h"
#include "t/helper/correo-test.h"

#define H_DNS_MAX	64	/* the most addresses -n accepts */

static int	h_dns_usage(void);

/* h_dns_usage - the synopsis, EX_USAGE */
static int
h_dns_usage(void)
{
	fprintf(stderr, "usage: correo-test dns [-s addr:port] [-p "
	    "inet_protocols] [-m myhostname] [-n max] mx|host|ptr name\n");
	return EX_USAGE;
}

/* h_dns - correo-test dns [options] mx|host|ptr name */
/*
 * h_dns_server - -s IP:PORT, the one name server of the dns and policy
 * commands; -1 when it is not that
 */
int
h_dns_server(const char *arg)
{
	char		 ip[64];
	const char	*colon, *err;
	long long	 v;

	if ((colon = strrchr(arg, ':')) == NULL ||
	    (size_t)(colon - arg) >= sizeof(ip) ||
	    num_parse(colon + 1, 1, 65535, &v, &err) == -1)
		return -1;
	memcpy(ip, arg, (size_t)(colon - arg));
	ip[colon - arg] = '\0';
	return dns_set_server(ip, (int)v);
}

int
h_dns(int argc, char **argv)
{
	struct dns_addr	 addrs[H_DNS_MAX];
	struct buf	 why;
	enum dns_status	 st;
	const char	*myhostname = NULL, *err;
	char		 ip[64], name[DNS_NAME_MAX];
	long long	 v;
	size_t		 i, n, max = DNS_MX_ADDRESS_LIMIT;
	int		 c, families = DNS_INET_ALL;

	buf_init(&why, 1024);
	while ((c = getopt(argc, argv, "m:n:p:s:")) != -1) {
		switch (c) {
		case 'm':
			myhostname = optarg;
			break;
		case 'n':
			if (num_parse(optarg, 0, H_DNS_MAX, &v, &err) == -1) {
				fprintf(stderr, "-n %s: %s\n", optarg, err);
				return EX_USAGE;
			}
			max = (size_t)v;
			break;
		case 'p':
			if (dns_families(optarg, &families, &why) == -1) {
				fprintf(stderr, "%s\n", buf_str(&why));
				buf_free(&why);
				return EX_USAGE;
			}
			break;
		case 's':
			if (h_dns_server(optarg) == -1)
				return h_dns_usage();
			break;
		default:
			return h_dns_usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (argc != 2)
		return h_dns_usage();
	if (strcmp(argv[0], "mx") == 0)
		st = dns_mx(argv[1], families, myhostname, addrs, max, &n,
		    &why);
	else if (strcmp(argv[0], "host") == 0)
		st = dns_host(argv[1], families, addrs, max, &n, &why);
	else if (strcmp(argv[0], "ptr") == 0) {
		n = 0;
		memset(&addrs[0], 0, sizeof(addrs[0]));
		addrs[0].family = strchr(argv[1], ':') ? AF_INET6 : AF_INET;
		if (inet_pton(addrs[0].family, argv[1], &addrs[0].a) != 1)
			return h_dns_usage();
		st = dns_ptr(&addrs[0], name, sizeof(name), &why);
		if (st == DNS_OK)
			printf("%s %s\n", dns_status_name(st), name);
		else
			printf("%s %s\n", dns_status_name(st), buf_str(&why));
		buf_free(&why);
		return 0;
	} else
		return h_dns_usage();
	if (st == DNS_OK)
		printf("%s\n", dns_status_name(st));
	else
		printf("%s %s\n", dns_status_name(st), buf_str(&why));
	for (i = 0; i < n; i++) {
		if (dns_addr_str(&addrs[i], ip, sizeof(ip)) == -1)
			ip[0] = '\0';
		printf("%d %s %s\n", addrs[i].pref, addrs[i].host, ip);
	}
	buf_free(&why);
	return 0;
}
