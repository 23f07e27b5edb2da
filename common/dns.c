/*
 * dns.c - MX routing for the SMTP client (see dns.h)
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <errno.h>
#include <ifaddrs.h>
#include <netdb.h>
#include <netinet/in.h>
#include <resolv.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/dns.h"
#include "common/log.h"
#include "common/util.h"

#define DNS_ANSWER_MAX	65536	/* a DNS message, TCP included */

static int	dns_server_set;		/* dns_set_server() was called */
static struct sockaddr_in dns_server;

static int	dns_name_ok(const char *);
static int	dns_same_name(const char *, const char *);
static int	dns_literal(const char *, int, struct dns_addr *, size_t,
		    size_t *, struct buf *);
static enum dns_status dns_query(const char *, int, struct dns_rr *,
		    size_t, size_t *, struct buf *);
static enum dns_status dns_addrs(const char *, int, int, struct dns_addr *,
		    size_t, size_t *, struct buf *);
static int	dns_is_local(const struct dns_addr *, struct ifaddrs *);
static int	dns_mx_cmp(const void *, const void *);
static void	dns_shuffle(struct dns_rr *, size_t);

/* dns_status_name - "DNS_OK" and so on, for the tests and traces */
const char *
dns_status_name(enum dns_status st)
{
	switch (st) {
	case DNS_OK:
		return "DNS_OK";
	case DNS_NOTFOUND:
		return "DNS_NOTFOUND";
	case DNS_NULLMX:
		return "DNS_NULLMX";
	case DNS_TEMPFAIL:
		return "DNS_TEMPFAIL";
	case DNS_LOOP:
		return "DNS_LOOP";
	}
	return "DNS_?";
}

/* dns_families - inet_protocols ("ipv4", "ipv6", "all", a list) */
int
dns_families(const char *s, int *families, struct buf *why)
{
	const char	*p, *e;
	size_t		 len;
	int		 f = 0;

	for (p = s; *p != '\0'; p = e) {
		while (*p == ' ' || *p == '\t' || *p == ',')
			p++;
		if (*p == '\0')
			break;
		for (e = p; *e != '\0' && *e != ' ' && *e != '\t' &&
		    *e != ','; e++)
			;
		len = (size_t)(e - p);
		if (len == 4 && strncmp(p, "ipv4", len) == 0)
			f |= DNS_INET4;
		else if (len == 4 && strncmp(p, "ipv6", len) == 0)
			f |= DNS_INET6;
		else if (len == 3 && strncmp(p, "all", len) == 0)
			f |= DNS_INET_ALL;
		else {
			buf_printf(why, "inet_protocols: unknown protocol "
			    "\"%.*s\"", (int)(len > 32 ? 32 : len), p);
			return -1;
		}
	}
	if (f == 0) {
		buf_sets(why, "inet_protocols: no protocol");
		return -1;
	}
	*families = f;
	return 0;
}

/* dns_set_server - use only addr:port (IPv4) from now on: tests only */
int
dns_set_server(const char *addr, int port)
{
	if (addr == NULL) {
		dns_server_set = 0;
		return 0;
	}
	memset(&dns_server, 0, sizeof(dns_server));
	dns_server.sin_family = AF_INET;
	if (port <= 0 || port > 65535 ||
	    inet_pton(AF_INET, addr, &dns_server.sin_addr) != 1) {
		errno = EINVAL;
		return -1;
	}
	dns_server.sin_port = htons((unsigned short)port);
	dns_server_set = 1;
	return 0;
}

/* dns_name_ok - a host name we are willing to log and connect to */
static int
dns_name_ok(const char *s)
{
	const unsigned char	*p;

	for (p = (const unsigned char *)s; *p != '\0'; p++) {
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || *p == '-' || *p == '.' ||
		    *p == '_'))
			return 0;
	}
	return 1;
}

/* dns_same_name - names equal, ignoring case and a trailing dot */
static int
dns_same_name(const char *a, const char *b)
{
	size_t	 la = strlen(a), lb = strlen(b);

	if (la > 0 && a[la - 1] == '.')
		la--;
	if (lb > 0 && b[lb - 1] == '.')
		lb--;
	return la == lb && strncasecmp(a, b, la) == 0;
}

/* dns_parse - the answer records of one type from a DNS message */
enum dns_status
dns_parse(const unsigned char *msg, size_t len, int type,
    struct dns_rr *out, size_t max, size_t *n, struct buf *why)
{
	ns_msg		 h;
	ns_rr		 rr;
	const unsigned char *rd;
	char		 name[NS_MAXDNAME];
	size_t		 rdlen;
	int		 i, count, used;

	*n = 0;
	if (len > DNS_ANSWER_MAX || ns_initparse(msg, (int)len, &h) == -1) {
		buf_sets(why, "malformed DNS reply");
		return DNS_TEMPFAIL;
	}
	switch (ns_msg_getflag(h, ns_f_rcode)) {
	case ns_r_noerror:
		break;
	case ns_r_nxdomain:
		buf_sets(why, "host not found");
		return DNS_NOTFOUND;
	default:
		buf_printf(why, "DNS server failure (rcode %d)",
		    ns_msg_getflag(h, ns_f_rcode));
		return DNS_TEMPFAIL;
	}
	count = ns_msg_count(h, ns_s_an);
	for (i = 0; i < count; i++) {
		if (ns_parserr(&h, ns_s_an, i, &rr) == -1) {
			buf_sets(why, "malformed DNS reply");
			*n = 0;
			return DNS_TEMPFAIL;
		}
		if (ns_rr_class(rr) != ns_c_in || (int)ns_rr_type(rr) != type)
			continue;	/* CNAMEs on the way, say */
		rd = ns_rr_rdata(rr);
		rdlen = ns_rr_rdlen(rr);
		if (*n >= max)
			break;
		memset(&out[*n], 0, sizeof(out[*n]));
		out[*n].type = type;
		switch (type) {
		case ns_t_a:
			if (rdlen != 4)
				goto bad;
			memcpy(out[*n].addr, rd, 4);
			break;
		case ns_t_aaaa:
			if (rdlen != 16)
				goto bad;
			memcpy(out[*n].addr, rd, 16);
			break;
		case ns_t_mx:
		case ns_t_ptr:
			if (type == ns_t_mx) {
				if (rdlen < NS_INT16SZ + 1)
					goto bad;
				out[*n].pref = ns_get16(rd);
				rd += NS_INT16SZ;
				rdlen -= NS_INT16SZ;
			}
			used = dn_expand(ns_msg_base(h), ns_msg_end(h), rd,
			    name, sizeof(name));
			if (used < 0 || (size_t)used != rdlen)
				goto bad;
			if (strlen(name) >= DNS_NAME_MAX) {
				buf_sets(why, "DNS reply: name too long");
				*n = 0;
				return DNS_TEMPFAIL;
			}
			memcpy(out[*n].name, name, strlen(name) + 1);
			break;
		default:
			break;
		}
		(*n)++;
	}
	return DNS_OK;
bad:
	buf_sets(why, "malformed DNS reply: bad record data");
	*n = 0;
	return DNS_TEMPFAIL;
}

/* dns_query - one res_nquery for name/type, parsed */
static enum dns_status
dns_query(const char *name, int type, struct dns_rr *out, size_t max,
    size_t *n, struct buf *why)
{
	struct __res_state	 rs;
	unsigned char		*ans;
	enum dns_status		 st;
	const char		*tname;
	char			 safe[LOG_SAFE_MAX];
	int			 len;

	*n = 0;
	buf_reset(why);
	tname = type == ns_t_mx ? "MX" : type == ns_t_a ? "A" :
	    type == ns_t_aaaa ? "AAAA" : "PTR";
	log_safe(safe, sizeof(safe), name, strlen(name));
	memset(&rs, 0, sizeof(rs));
	if (res_ninit(&rs) == -1) {
		buf_printf(why, "cannot initialise the DNS resolver");
		return DNS_TEMPFAIL;
	}
	if (dns_server_set) {
		rs.nsaddr_list[0] = dns_server;
		rs.nscount = 1;
	}
	if ((ans = malloc(DNS_ANSWER_MAX)) == NULL) {
		res_nclose(&rs);
		buf_sets(why, "out of memory for a DNS reply");
		return DNS_TEMPFAIL;
	}
	len = res_nquery(&rs, name, ns_c_in, type, ans, DNS_ANSWER_MAX);
	if (len < 0) {
		switch (rs.res_h_errno) {
		case HOST_NOT_FOUND:
			buf_printf(why, "Host or domain name not found. Name "
			    "service error for name=%s type=%s: Host not "
			    "found", safe, tname);
			st = DNS_NOTFOUND;
			break;
		case NO_DATA:
			st = DNS_OK;	/* no records of this type */
			break;
		case NO_RECOVERY:
			buf_printf(why, "Name service error for name=%s "
			    "type=%s: Non-recoverable error", safe, tname);
			st = DNS_TEMPFAIL;
			break;
		default:
			buf_printf(why, "Host or domain name not found. Name "
			    "service error for name=%s type=%s: Host not "
			    "found, try again", safe, tname);
			st = DNS_TEMPFAIL;
			break;
		}
	} else if (len > DNS_ANSWER_MAX) {
		buf_printf(why, "DNS reply for name=%s type=%s too long",
		    safe, tname);
		st = DNS_TEMPFAIL;
	} else {
		st = dns_parse(ans, (size_t)len, type, out, max, n, why);
		if (st != DNS_OK)
			buf_printf(why, " (name=%s type=%s)", safe, tname);
	}
	free(ans);
	res_nclose(&rs);
	return st;
}

/* dns_literal - "[1.2.3.4]" or "[IPv6:...]": 1 if s is one, -1 if bad */
static int
dns_literal(const char *s, int families, struct dns_addr *out, size_t max,
    size_t *n, struct buf *why)
{
	char		 tmp[DNS_NAME_MAX];
	size_t		 len = strlen(s);
	struct dns_addr	 a;

	if (len < 2 || s[0] != '[' || s[len - 1] != ']')
		return 0;
	if (len - 2 >= sizeof(tmp)) {
		buf_sets(why, "address literal too long");
		return -1;
	}
	memcpy(tmp, s + 1, len - 2);
	tmp[len - 2] = '\0';
	memset(&a, 0, sizeof(a));
	if (strncasecmp(tmp, "IPv6:", 5) == 0) {
		a.family = AF_INET6;
		if (inet_pton(AF_INET6, tmp + 5, &a.a.v6) != 1) {
			buf_sets(why, "bad IPv6 address literal");
			return -1;
		}
		if (!(families & DNS_INET6)) {
			buf_sets(why, "IPv6 is disabled by inet_protocols");
			return -1;
		}
	} else {
		a.family = AF_INET;
		if (inet_pton(AF_INET, tmp, &a.a.v4) != 1) {
			buf_sets(why, "bad IPv4 address literal");
			return -1;
		}
		if (!(families & DNS_INET4)) {
			buf_sets(why, "IPv4 is disabled by inet_protocols");
			return -1;
		}
	}
	if (str_copy(a.host, sizeof(a.host), s) == -1) {
		buf_sets(why, "address literal too long");
		return -1;
	}
	*n = 0;
	if (max > 0) {
		out[0] = a;
		*n = 1;
	}
	return 1;
}

/* dns_addrs - append host's A/AAAA records to out[*n..max) */
static enum dns_status
dns_addrs(const char *host, int pref, int families, struct dns_addr *out,
    size_t max, size_t *n, struct buf *why)
{
	static const int types[] = { ns_t_a, ns_t_aaaa };
	struct dns_rr	*rr;
	size_t		 i, j, nrr;
	enum dns_status	 st, worst = DNS_NOTFOUND;
	int		 found = 0;

	if ((rr = calloc(DNS_RR_MAX, sizeof(*rr))) == NULL) {
		buf_sets(why, "out of memory for a DNS reply");
		return DNS_TEMPFAIL;
	}
	for (i = 0; i < nitems(types); i++) {
		if (!(families & (types[i] == ns_t_a ? DNS_INET4 : DNS_INET6)))
			continue;
		st = dns_query(host, types[i], rr, DNS_RR_MAX, &nrr, why);
		if (st == DNS_TEMPFAIL)
			worst = DNS_TEMPFAIL;
		if (st != DNS_OK)
			continue;
		for (j = 0; j < nrr; j++) {
			found = 1;
			if (*n >= max)
				break;
			memset(&out[*n], 0, sizeof(out[*n]));
			if (types[i] == ns_t_a) {
				out[*n].family = AF_INET;
				memcpy(&out[*n].a.v4, rr[j].addr, 4);
			} else {
				out[*n].family = AF_INET6;
				memcpy(&out[*n].a.v6, rr[j].addr, 16);
			}
			out[*n].pref = pref;
			memcpy(out[*n].host, host, strlen(host) + 1);
			(*n)++;
		}
	}
	free(rr);
	if (found) {
		buf_reset(why);
		return DNS_OK;
	}
	if (why->len == 0)
		buf_printf(why, "Host or domain name not found. Name service "
		    "error for name=%s: no address", host);
	return worst;
}

/* dns_host - the addresses of one host, no MX */
enum dns_status
dns_host(const char *host, int families, struct dns_addr *out, size_t max,
    size_t *n, struct buf *why)
{
	size_t	 len = strlen(host);
	int	 lit;

	*n = 0;
	if ((lit = dns_literal(host, families, out, max, n, why)) != 0)
		return lit > 0 ? DNS_OK : DNS_NOTFOUND;
	if (len == 0 || len >= DNS_NAME_MAX || !dns_name_ok(host)) {
		buf_sets(why, "malformed host name");
		return DNS_NOTFOUND;
	}
	return dns_addrs(host, 0, families, out, max, n, why);
}

/* dns_is_local - a is the address of one of our interfaces */
static int
dns_is_local(const struct dns_addr *a, struct ifaddrs *ifs)
{
	struct ifaddrs	*i;

	for (i = ifs; i != NULL; i = i->ifa_next) {
		if (i->ifa_addr == NULL || i->ifa_addr->sa_family != a->family)
			continue;
		if (a->family == AF_INET && memcmp(&((struct sockaddr_in *)
		    (void *)i->ifa_addr)->sin_addr, &a->a.v4, 4) == 0)
			return 1;
		if (a->family == AF_INET6 && memcmp(&((struct sockaddr_in6 *)
		    (void *)i->ifa_addr)->sin6_addr, &a->a.v6, 16) == 0)
			return 1;
	}
	return 0;
}

/* dns_mx_cmp - qsort by preference */
static int
dns_mx_cmp(const void *a, const void *b)
{
	const struct dns_rr	*x = a, *y = b;

	return (x->pref > y->pref) - (x->pref < y->pref);
}

/* dns_shuffle - random order within each run of equal preference */
static void
dns_shuffle(struct dns_rr *rr, size_t n)
{
	struct dns_rr	 tmp;
	size_t		 i, j, k, run;

	for (i = 0; i < n; i = j) {
		for (j = i + 1; j < n && rr[j].pref == rr[i].pref; j++)
			;
		for (run = j - i; run > 1; run--) {
			k = arc4random_uniform((unsigned)run);
			tmp = rr[i + run - 1];
			rr[i + run - 1] = rr[i + k];
			rr[i + k] = tmp;
		}
	}
}

/* dns_mx - the addresses to try for mail to domain, in order */
enum dns_status
dns_mx(const char *domain, int families, const char *myhostname,
    struct dns_addr *out, size_t max, size_t *n, struct buf *why)
{
	struct dns_rr	*mx;
	struct ifaddrs	*ifs = NULL;
	size_t		 nmx, i, j, k, first;
	enum dns_status	 st, hst;
	char		 safe[LOG_SAFE_MAX];
	int		 self = -1, tempfail = 0, null = 0, lit;

	*n = 0;
	if ((lit = dns_literal(domain, families, out, max, n, why)) != 0)
		return lit > 0 ? DNS_OK : DNS_NOTFOUND;
	log_safe(safe, sizeof(safe), domain, strlen(domain));
	if (strlen(domain) == 0 || strlen(domain) >= DNS_NAME_MAX ||
	    !dns_name_ok(domain)) {
		buf_printf(why, "malformed domain name %s", safe);
		return DNS_NOTFOUND;
	}
	if ((mx = calloc(DNS_MX_MAX, sizeof(*mx))) == NULL) {
		buf_sets(why, "out of memory for a DNS reply");
		return DNS_TEMPFAIL;
	}
	if (myhostname != NULL && getifaddrs(&ifs) == -1)
		ifs = NULL;
	st = dns_query(domain, ns_t_mx, mx, DNS_MX_MAX, &nmx, why);
	if (st != DNS_OK)
		goto done;

	/*
	 * RFC 7505: "." alone is a null MX; next to real hosts it is
	 * ignored.  A host name we would not use (a control character, a
	 * space) is ignored too; only such names is a temporary failure.
	 */
	for (i = j = 0; i < nmx; i++) {
		if (mx[i].name[0] == '\0')
			null = 1;
		else if (dns_name_ok(mx[i].name))
			mx[j++] = mx[i];
	}
	if (j == 0 && null) {
		buf_printf(why, "Domain %s does not accept mail (nullMX)",
		    safe);
		st = DNS_NULLMX;
		goto done;
	}
	if (j == 0 && nmx > 0) {
		buf_printf(why, "malformed MX host name for %s", safe);
		st = DNS_TEMPFAIL;
		goto done;
	}
	nmx = j;

	if (nmx == 0) {		/* the implicit MX */
		st = dns_addrs(domain, 0, families, out, max, n, why);
		if (st == DNS_OK && myhostname != NULL) {
			for (i = 0; i < *n; i++)
				if (dns_is_local(&out[i], ifs))
					break;
			if (i < *n || dns_same_name(domain, myhostname)) {
				*n = 0;
				st = DNS_LOOP;
			}
		}
		goto done;
	}
	qsort(mx, nmx, sizeof(*mx), dns_mx_cmp);
	dns_shuffle(mx, nmx);

	/* Myself by name: everything at or after that preference goes. */
	if (myhostname != NULL) {
		for (i = 0; i < nmx; i++) {
			if (dns_same_name(mx[i].name, myhostname)) {
				self = mx[i].pref;
				break;
			}
		}
	}
	for (i = 0; i < nmx && *n < max; i++) {
		if (self >= 0 && mx[i].pref >= self)
			break;
		first = *n;
		hst = dns_addrs(mx[i].name, mx[i].pref, families, out, max, n,
		    why);
		if (hst == DNS_TEMPFAIL)
			tempfail = 1;
		for (k = first; myhostname != NULL && k < *n; k++) {
			if (dns_is_local(&out[k], ifs)) {
				self = mx[i].pref;
				break;
			}
		}
	}
	if (self >= 0) {	/* myself by address: drop its peers too */
		for (i = j = 0; i < *n; i++)
			if (out[i].pref < self)
				out[j++] = out[i];
		*n = j;
	}
	if (*n > 0) {
		buf_reset(why);
		st = DNS_OK;
	} else if (self >= 0) {
		st = DNS_LOOP;
	} else
		st = tempfail ? DNS_TEMPFAIL : DNS_NOTFOUND;
done:
	if (st == DNS_LOOP) {
		buf_reset(why);
		buf_printf(why, "mail for %s loops back to myself", safe);
	}
	free(mx);
	if (ifs != NULL)
		freeifaddrs(ifs);
	return st;
}

/* dns_addr_str - a printable address */
int
dns_addr_str(const struct dns_addr *a, char *dst, size_t size)
{
	if (inet_ntop(a->family, &a->a, dst, (socklen_t)size) == NULL)
		return -1;
	return 0;
}

/* dns_ptr - the reverse name of an address, "" when it has none */
enum dns_status
dns_ptr(const struct dns_addr *a, char *name, size_t size, struct buf *why)
{
	struct buf	 q;
	struct dns_rr	 rr;
	const unsigned char *p;
	size_t		 i, n;
	enum dns_status	 st;

	name[0] = '\0';
	buf_init(&q, 128);
	if (a->family == AF_INET) {
		p = (const unsigned char *)&a->a.v4;
		buf_printf(&q, "%u.%u.%u.%u.in-addr.arpa", p[3], p[2], p[1],
		    p[0]);
	} else {
		p = (const unsigned char *)&a->a.v6;
		for (i = 16; i > 0; i--)
			buf_printf(&q, "%x.%x.", p[i - 1] & 0xf,
			    p[i - 1] >> 4);
		buf_adds(&q, "ip6.arpa");
	}
	if (q.data == NULL) {
		buf_sets(why, "out of memory");
		return DNS_TEMPFAIL;
	}
	st = dns_query(buf_str(&q), ns_t_ptr, &rr, 1, &n, why);
	buf_free(&q);
	if (st == DNS_OK && n > 0 && dns_name_ok(rr.name) &&
	    str_copy(name, size, rr.name) == -1) {
		name[0] = '\0';
		buf_sets(why, "reverse name too long");
		return DNS_TEMPFAIL;
	}
	return st;
}
