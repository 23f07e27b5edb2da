/*
 * dns - MX routing for the SMTP client (libresolv, no getaddrinfo)
 *
 * dns_mx() turns a recipient domain into the ordered list of addresses
 * to try: the MX records by preference (random order among equal
 * preferences), each host's A and/or AAAA records (IPv4 before IPv6
 * when both families are enabled), the implicit MX (the domain's own
 * addresses at preference 0) when the domain has no MX, the null MX of
 * RFC 7505, and the mail loop check: MX hosts whose preference is at or
 * above that of a host that is myself (its name is myhostname, or one
 * of its addresses is on a local interface, getifaddrs(3)) are dropped,
 * and when none is left the result is DNS_LOOP (names compare without
 * case or a trailing dot; myhostname NULL turns the check off).  An MX
 * "." next to real hosts, and MX host names with characters other than
 * letters, digits, '-', '_' and '.', are ignored; when only such
 * names are left the result is DNS_TEMPFAIL.  Hosts are resolved in
 * order until the caller's array is full (the caller passes
 * smtp_mx_address_limit, DNS_MX_ADDRESS_LIMIT by default); a host found
 * to be myself by address after the array filled up is not noticed.
 * Domains "[1.2.3.4]" and "[IPv6:...]" are address literals and resolve
 * to themselves without DNS.  dns_host() is the same without MX, for
 * "[host]" relay hosts.  dns_ptr() is the reverse name, for logs.
 *
 * The resolver is res_ninit(3) on a private state per call: servers,
 * timeouts, retries and options come from resolv.conf and RES_OPTIONS.
 * Queries use res_nquery (no search list: names are absolute).
 * dns_set_server() replaces the servers of every later call with one
 * IPv4 address and port: it is for the test helper and the unit tests
 * only (the library never reads the environment).
 *
 * dns_parse() is the answer parser on its own (exposed for the unit
 * tests and the fuzzer): it keeps the answer-section records of one
 * type and class IN, rejects a malformed message (truncated, counts
 * that do not match, compression loops, names longer than
 * DNS_NAME_MAX - 1) and maps the response code.
 *
 * Ownership: every output is written into caller-supplied arrays; no
 * pointer is returned and nothing is allocated across calls.  Limits:
 * names are at most DNS_NAME_MAX - 1 bytes; at most DNS_MX_MAX MX
 * records and DNS_RR_MAX records of one answer are considered.
 *
 * Errors are results, never fatal: DNS_NOTFOUND (NXDOMAIN or no
 * address: a bounce, 5.1.2), DNS_NULLMX (5.1.10), DNS_TEMPFAIL (server
 * failure, timeout, malformed answer, out of memory: defer), DNS_LOOP
 * (5.4.6).  Each fills *why with a sentence for the log and the DSN.
 */
#ifndef COMMON_DNS_H
#define COMMON_DNS_H

#include <stddef.h>
#include <netinet/in.h>

#include "common/buf.h"

#define DNS_NAME_MAX		256	/* a host name, NUL included */
#define DNS_MX_MAX		32	/* MX records considered per domain */
#define DNS_RR_MAX		64	/* records kept from one answer */
#define DNS_MX_ADDRESS_LIMIT	5	/* Postfix smtp_mx_address_limit */

/* inet_protocols */
enum dns_family {
	DNS_INET4 = 1,
	DNS_INET6 = 2,
	DNS_INET_ALL = DNS_INET4 | DNS_INET6,
};

enum dns_status {
	DNS_OK = 0,
	DNS_NOTFOUND,		/* NXDOMAIN, no address: 5.1.2 */
	DNS_NULLMX,		/* RFC 7505: 5.1.10 */
	DNS_TEMPFAIL,		/* SERVFAIL, timeout, bad reply: defer */
	DNS_LOOP,		/* an MX points back at this host: 5.4.6 */
};

struct dns_addr {
	int		 family;	/* AF_INET or AF_INET6 */
	union {
		struct in_addr	 v4;
		struct in6_addr	 v6;
	}		 a;
	char		 host[DNS_NAME_MAX];	/* the MX host it came from */
	int		 pref;		/* its MX preference (0: implicit) */
};

/* One answer record, as dns_parse() keeps it. */
struct dns_rr {
	int		 type;		/* ns_t_mx, ns_t_a, ns_t_aaaa, ns_t_ptr */
	int		 pref;		/* MX preference */
	char		 name[DNS_NAME_MAX];	/* MX exchange, PTR target */
	unsigned char	 addr[16];	/* A (4 bytes) or AAAA (16 bytes) */
};

int	 dns_families(const char *inet_protocols, int *families,
	    struct buf *why);
int	 dns_set_server(const char *addr, int port);
enum dns_status dns_parse(const unsigned char *msg, size_t len, int type,
	    struct dns_rr *out, size_t max, size_t *n, struct buf *why);
enum dns_status dns_mx(const char *domain, int families,
	    const char *myhostname, struct dns_addr *out, size_t max,
	    size_t *n, struct buf *why);
enum dns_status dns_host(const char *host, int families,
	    struct dns_addr *out, size_t max, size_t *n, struct buf *why);
enum dns_status dns_ptr(const struct dns_addr *, char *name, size_t size,
	    struct buf *why);
const char *dns_status_name(enum dns_status);
int	 dns_addr_str(const struct dns_addr *, char *dst, size_t size);

#endif
