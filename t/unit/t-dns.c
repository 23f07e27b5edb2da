/*
 * t-dns.c - unit tests for common/dns: the answer parser on crafted
 * messages, inet_protocols, address literals
 */
#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <string.h>

#include "common/buf.h"
#include "common/dns.h"
#include "t/unit/tap.h"

#define MSG_MAX		1024

/* A message under construction. */
struct msg {
	unsigned char	 b[MSG_MAX];
	size_t		 len;
};

static void	m_header(struct msg *, int, int, int);
static void	m_bytes(struct msg *, const void *, size_t);
static void	m_u16(struct msg *, unsigned);
static void	m_name(struct msg *, const char *);
static void	m_rr(struct msg *, int, const void *, size_t);
static void	m_mx(struct msg *, unsigned, const char *);
static enum dns_status parse(const struct msg *, int, struct dns_rr *,
		    size_t, size_t *);

/* m_bytes - append raw bytes */
static void
m_bytes(struct msg *m, const void *p, size_t n)
{
	if (m->len + n <= sizeof(m->b)) {
		memcpy(m->b + m->len, p, n);
		m->len += n;
	}
}

/* m_u16 - append a 16-bit number, network order */
static void
m_u16(struct msg *m, unsigned v)
{
	unsigned char	 c[2] = { (v >> 8) & 0xff, v & 0xff };

	m_bytes(m, c, 2);
}

/* m_name - append a name in wire form ("a.b" -> 1a1b0) */
static void
m_name(struct msg *m, const char *s)
{
	const char	*e;
	unsigned char	 l;

	while (*s != '\0') {
		e = strchr(s, '.');
		if (e == NULL)
			e = s + strlen(s);
		l = (unsigned char)(e - s);
		m_bytes(m, &l, 1);
		m_bytes(m, s, l);
		s = *e == '.' ? e + 1 : e;
	}
	m_bytes(m, "", 1);
}

/* m_header - the header, rcode, ancount, and the question example.test */
static void
m_header(struct msg *m, int rcode, int ancount, int qtype)
{
	m->len = 0;
	m_u16(m, 0x1234);			/* id */
	m_u16(m, 0x8180 | (unsigned)rcode);	/* QR RD RA, rcode */
	m_u16(m, 1);				/* qdcount */
	m_u16(m, (unsigned)ancount);
	m_u16(m, 0);
	m_u16(m, 0);
	m_name(m, "example.test");		/* at offset 12 */
	m_u16(m, (unsigned)qtype);
	m_u16(m, ns_c_in);
}

/* m_rr - an answer record owned by the question name (pointer 0xc00c) */
static void
m_rr(struct msg *m, int type, const void *rdata, size_t rdlen)
{
	m_u16(m, 0xc00c);
	m_u16(m, (unsigned)type);
	m_u16(m, ns_c_in);
	m_u16(m, 0);
	m_u16(m, 300);				/* ttl */
	m_u16(m, (unsigned)rdlen);
	m_bytes(m, rdata, rdlen);
}

/* m_mx - an MX record */
static void
m_mx(struct msg *m, unsigned pref, const char *host)
{
	struct msg	 rd;

	rd.len = 0;
	m_u16(&rd, pref);
	m_name(&rd, host);
	m_rr(m, ns_t_mx, rd.b, rd.len);
}

/* parse - dns_parse with a throw-away reason */
static enum dns_status
parse(const struct msg *m, int type, struct dns_rr *rr, size_t max,
    size_t *n)
{
	struct buf	 why;
	enum dns_status	 st;

	buf_init(&why, 1024);
	st = dns_parse(m->b, m->len, type, rr, max, n, &why);
	if (st != DNS_OK)
		check(why.len > 0);
	buf_free(&why);
	return st;
}

static void
t_mx(void)
{
	struct msg	 m;
	struct dns_rr	 rr[4];
	size_t		 n;

	m_header(&m, ns_r_noerror, 2, ns_t_mx);
	m_mx(&m, 20, "mx2.example.test");
	m_mx(&m, 10, "mx1.example.test");
	check_int(parse(&m, ns_t_mx, rr, 4, &n), ==, DNS_OK);
	check_int(n, ==, 2);
	check_int(rr[0].pref, ==, 20);
	check_str(rr[0].name, "mx2.example.test");
	check_int(rr[1].pref, ==, 10);
	check_str(rr[1].name, "mx1.example.test");
	/* the caller's array bounds the result */
	check_int(parse(&m, ns_t_mx, rr, 1, &n), ==, DNS_OK);
	check_int(n, ==, 1);
	/* other types are skipped */
	check_int(parse(&m, ns_t_a, rr, 4, &n), ==, DNS_OK);
	check_int(n, ==, 0);
}

static void
t_mx_compressed(void)
{
	struct msg	 m;
	struct dns_rr	 rr[2];
	unsigned char	 rd[] = { 0, 5, 3, 'm', 'x', '1', 0xc0, 12 };
	size_t		 n;

	m_header(&m, ns_r_noerror, 1, ns_t_mx);
	m_rr(&m, ns_t_mx, rd, sizeof(rd));
	check_int(parse(&m, ns_t_mx, rr, 2, &n), ==, DNS_OK);
	check_int(n, ==, 1);
	check_int(rr[0].pref, ==, 5);
	check_str(rr[0].name, "mx1.example.test");
}

static void
t_null_mx(void)
{
	struct msg	 m;
	struct dns_rr	 rr[2];
	unsigned char	 rd[] = { 0, 0, 0 };
	size_t		 n;

	m_header(&m, ns_r_noerror, 1, ns_t_mx);
	m_rr(&m, ns_t_mx, rd, sizeof(rd));
	check_int(parse(&m, ns_t_mx, rr, 2, &n), ==, DNS_OK);
	check_int(n, ==, 1);
	check_int(rr[0].pref, ==, 0);
	check_str(rr[0].name, "");
}

static void
t_addresses(void)
{
	struct msg	 m;
	struct dns_rr	 rr[2];
	unsigned char	 a[4] = { 192, 0, 2, 1 }, aaaa[16] = { 0x20, 1,
			    0xd, 0xb8, [15] = 2 };
	const char	 cname[] = "\3www\300\14";
	size_t		 n;

	m_header(&m, ns_r_noerror, 2, ns_t_a);
	m_rr(&m, ns_t_cname, cname, sizeof(cname) - 1);
	m_rr(&m, ns_t_a, a, sizeof(a));
	check_int(parse(&m, ns_t_a, rr, 2, &n), ==, DNS_OK);
	check_int(n, ==, 1);
	check_mem(rr[0].addr, 4, a, 4);

	m_header(&m, ns_r_noerror, 1, ns_t_aaaa);
	m_rr(&m, ns_t_aaaa, aaaa, sizeof(aaaa));
	check_int(parse(&m, ns_t_aaaa, rr, 2, &n), ==, DNS_OK);
	check_int(n, ==, 1);
	check_mem(rr[0].addr, 16, aaaa, 16);

	/* an A record of 5 bytes, an AAAA of 4 */
	m_header(&m, ns_r_noerror, 1, ns_t_a);
	m_rr(&m, ns_t_a, aaaa, 5);
	check_int(parse(&m, ns_t_a, rr, 2, &n), ==, DNS_TEMPFAIL);
	check_int(n, ==, 0);
	m_header(&m, ns_r_noerror, 1, ns_t_aaaa);
	m_rr(&m, ns_t_aaaa, a, 4);
	check_int(parse(&m, ns_t_aaaa, rr, 2, &n), ==, DNS_TEMPFAIL);
}

static void
t_rcode(void)
{
	struct msg	 m;
	struct dns_rr	 rr[2];
	size_t		 n;

	m_header(&m, ns_r_nxdomain, 0, ns_t_mx);
	check_int(parse(&m, ns_t_mx, rr, 2, &n), ==, DNS_NOTFOUND);
	m_header(&m, ns_r_servfail, 0, ns_t_mx);
	check_int(parse(&m, ns_t_mx, rr, 2, &n), ==, DNS_TEMPFAIL);
	m_header(&m, ns_r_refused, 0, ns_t_mx);
	check_int(parse(&m, ns_t_mx, rr, 2, &n), ==, DNS_TEMPFAIL);
	m_header(&m, ns_r_noerror, 0, ns_t_mx);
	check_int(parse(&m, ns_t_mx, rr, 2, &n), ==, DNS_OK);
	check_int(n, ==, 0);
}

static void
t_truncated(void)
{
	struct msg	 m, t;
	struct dns_rr	 rr[2];
	size_t		 n, len, bad = 0;

	m_header(&m, ns_r_noerror, 2, ns_t_mx);
	m_mx(&m, 10, "mx1.example.test");
	m_mx(&m, 20, "mx2.example.test");
	for (len = 0; len < m.len; len++) {
		memcpy(t.b, m.b, len);
		t.len = len;
		if (parse(&t, ns_t_mx, rr, 2, &n) != DNS_TEMPFAIL || n != 0)
			bad++;
	}
	check_int(bad, ==, 0);
}

static void
t_bad_counts(void)
{
	struct msg	 m;
	struct dns_rr	 rr[4];
	size_t		 n;

	m_header(&m, ns_r_noerror, 3, ns_t_mx);	/* says 3, has 2 */
	m_mx(&m, 10, "mx1.example.test");
	m_mx(&m, 20, "mx2.example.test");
	check_int(parse(&m, ns_t_mx, rr, 4, &n), ==, DNS_TEMPFAIL);
	check_int(n, ==, 0);
	m.b[4] = 0xff;					/* qdcount 65281 */
	m.b[7] = 2;
	check_int(parse(&m, ns_t_mx, rr, 4, &n), ==, DNS_TEMPFAIL);
	/* rdlength past the end of the message */
	m_header(&m, ns_r_noerror, 1, ns_t_mx);
	m_mx(&m, 10, "mx1.example.test");
	m.b[m.len - 22] = 0x40;			/* rdlength 0x4014 */
	check_int(parse(&m, ns_t_mx, rr, 4, &n), ==, DNS_TEMPFAIL);
	/* an MX exchange shorter than its rdlength */
	m_header(&m, ns_r_noerror, 1, ns_t_mx);
	{
		unsigned char	 rd[] = { 0, 10, 1, 'a', 0, 'x' };

		m_rr(&m, ns_t_mx, rd, sizeof(rd));
	}
	check_int(parse(&m, ns_t_mx, rr, 4, &n), ==, DNS_TEMPFAIL);
	/* a good record, then an owner name pointing past the end */
	m_header(&m, ns_r_noerror, 2, ns_t_mx);
	m_mx(&m, 10, "mx1.example.test");
	m_mx(&m, 20, "mx2.example.test");
	m.b[m.len - 32] = 0xc3;
	m.b[m.len - 31] = 0xff;
	check_int(parse(&m, ns_t_mx, rr, 4, &n), ==, DNS_TEMPFAIL);
	check_int(n, ==, 0);
	/* an MX of two bytes */
	m_header(&m, ns_r_noerror, 1, ns_t_mx);
	m_rr(&m, ns_t_mx, "\0\1", 2);
	check_int(parse(&m, ns_t_mx, rr, 4, &n), ==, DNS_TEMPFAIL);
}

static void
t_compression_loop(void)
{
	struct msg	 m;
	struct dns_rr	 rr[2];
	unsigned char	 rd[4] = { 0, 10, 0xc0, 0 };
	size_t		 n;

	m_header(&m, ns_r_noerror, 1, ns_t_mx);
	/* the exchange is a pointer to itself */
	rd[3] = (unsigned char)(m.len + 12 + 2);
	m_rr(&m, ns_t_mx, rd, sizeof(rd));
	check_int(parse(&m, ns_t_mx, rr, 2, &n), ==, DNS_TEMPFAIL);
	/* two pointers to each other */
	m_header(&m, ns_r_noerror, 1, ns_t_mx);
	{
		unsigned char	 rd2[] = { 0, 10, 1, 'a', 0xc0, 0 };

		rd2[5] = (unsigned char)(m.len + 12 + 6);
		m_rr(&m, ns_t_mx, rd2, sizeof(rd2));
		m_bytes(&m, "\1b\300", 3);
		m.b[m.len] = (unsigned char)(m.len - 3 - 4);
		m.len++;
	}
	check_int(parse(&m, ns_t_mx, rr, 2, &n), ==, DNS_TEMPFAIL);
	/* a pointer forward, past the end */
	m_header(&m, ns_r_noerror, 1, ns_t_mx);
	rd[2] = 0xc3;
	rd[3] = 0xff;
	m_rr(&m, ns_t_mx, rd, sizeof(rd));
	check_int(parse(&m, ns_t_mx, rr, 2, &n), ==, DNS_TEMPFAIL);
}

static void
t_long_names(void)
{
	struct msg	 m;
	struct dns_rr	 rr[2];
	char		 name[400];
	size_t		 n, i;

	/* 253 characters: the longest legal name */
	memset(name, 'a', sizeof(name));
	for (i = 63; i < 253; i += 64)
		name[i] = '.';
	name[253] = '\0';
	m_header(&m, ns_r_noerror, 1, ns_t_mx);
	m_mx(&m, 10, name);
	check_int(parse(&m, ns_t_mx, rr, 2, &n), ==, DNS_OK);
	check_int(n, ==, 1);
	check_int(strlen(rr[0].name), ==, 253);
	/* 320 characters in five labels: over 255 on the wire */
	memset(name, 'a', sizeof(name));
	for (i = 63; i < 320; i += 64)
		name[i] = '.';
	name[320] = '\0';
	m_header(&m, ns_r_noerror, 1, ns_t_mx);
	m_mx(&m, 10, name);
	check_int(parse(&m, ns_t_mx, rr, 2, &n), ==, DNS_TEMPFAIL);
	check_int(n, ==, 0);
	/* a label with a dot and a NUL comes back escaped */
	m_header(&m, ns_r_noerror, 1, ns_t_mx);
	m_rr(&m, ns_t_mx, "\0\12\3a.\0\0", 7);
	check_int(parse(&m, ns_t_mx, rr, 2, &n), ==, DNS_OK);
	check_str(rr[0].name, "a\\.\\000");
	/* a message longer than DNS allows is refused unread */
	m.len = 65537;
	check_int(parse(&m, ns_t_mx, rr, 2, &n), ==, DNS_TEMPFAIL);
}

static void
t_families(void)
{
	struct buf	 why;
	int		 f;

	buf_init(&why, 256);
	check_int(dns_families("ipv4", &f, &why), ==, 0);
	check_int(f, ==, DNS_INET4);
	check_int(dns_families("ipv6", &f, &why), ==, 0);
	check_int(f, ==, DNS_INET6);
	check_int(dns_families("all", &f, &why), ==, 0);
	check_int(f, ==, DNS_INET_ALL);
	check_int(dns_families(" ipv4, ipv6 ", &f, &why), ==, 0);
	check_int(f, ==, DNS_INET_ALL);
	check_int(dns_families("ipv5", &f, &why), ==, -1);
	check_str(buf_str(&why), "inet_protocols: unknown protocol \"ipv5\"");
	buf_reset(&why);
	check_int(dns_families(" , ", &f, &why), ==, -1);
	buf_free(&why);
}

static void
t_literals(void)
{
	struct buf	 why;
	struct dns_addr	 a[2];
	char		 s[64];
	size_t		 n;

	buf_init(&why, 256);
	check_int(dns_mx("[192.0.2.1]", DNS_INET_ALL, "me.example", a, 2, &n,
	    &why), ==, DNS_OK);
	check_int(n, ==, 1);
	check_int(a[0].family, ==, AF_INET);
	check_str(a[0].host, "[192.0.2.1]");
	check_int(dns_addr_str(&a[0], s, sizeof(s)), ==, 0);
	check_str(s, "192.0.2.1");
	check_int(dns_host("[IPv6:2001:db8::1]", DNS_INET6, a, 2, &n, &why),
	    ==, DNS_OK);
	check_int(a[0].family, ==, AF_INET6);
	check_int(dns_addr_str(&a[0], s, sizeof(s)), ==, 0);
	check_str(s, "2001:db8::1");
	check_int(dns_host("[IPv6:2001:db8::1]", DNS_INET4, a, 2, &n, &why),
	    ==, DNS_NOTFOUND);
	check_int(dns_host("[2001:db8::1]", DNS_INET_ALL, a, 2, &n, &why),
	    ==, DNS_NOTFOUND);
	check_int(dns_host("[]", DNS_INET_ALL, a, 2, &n, &why), ==,
	    DNS_NOTFOUND);
	check_int(n, ==, 0);
	check_int(dns_set_server("not an address", 53), ==, -1);
	check_int(dns_set_server("127.0.0.1", 0), ==, -1);
	check_int(dns_set_server(NULL, 0), ==, 0);
	buf_free(&why);
}

int
main(void)
{
	TEST(t_mx, "MX records, in message order");
	TEST(t_mx_compressed, "a compressed MX exchange");
	TEST(t_null_mx, "a null MX parses as an empty name");
	TEST(t_addresses, "A and AAAA records, CNAMEs skipped");
	TEST(t_rcode, "response codes");
	TEST(t_truncated, "every truncation is refused");
	TEST(t_bad_counts, "counts and lengths that do not match");
	TEST(t_compression_loop, "compression loops");
	TEST(t_long_names, "long and odd names");
	TEST(t_families, "inet_protocols");
	TEST(t_literals, "address literals");
	return test_done();
}
