/*
 * fuzz-dns.c - libFuzzer target for common/dns's answer parser
 *
 * The input is a DNS message given to dns_parse() for MX, A, AAAA and
 * PTR in turn, with room for a few records.  Checked: a result that
 * is not DNS_OK returns no record and a reason; DNS_OK returns at most
 * the room given, each record of the type asked for, and names that
 * are NUL-terminated within DNS_NAME_MAX, MX preferences in 0-65535.
 */
#include <arpa/nameser.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/dns.h"

#define FUZZ_RR_MAX	4

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* LLVMFuzzerTestOneInput - one message, four record types */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	static const int types[] = { ns_t_mx, ns_t_a, ns_t_aaaa, ns_t_ptr };
	struct dns_rr	 rr[FUZZ_RR_MAX];
	struct buf	 why;
	enum dns_status	 st;
	size_t		 i, j, n;

	buf_init(&why, 1024);
	for (i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		buf_reset(&why);
		n = 99;
		st = dns_parse(data, len, types[i], rr, FUZZ_RR_MAX, &n, &why);
		if (st != DNS_OK) {
			if (n != 0 || why.len == 0)
				abort();
			continue;
		}
		if (n > FUZZ_RR_MAX)
			abort();
		for (j = 0; j < n; j++) {
			if (rr[j].type != types[i] ||
			    memchr(rr[j].name, '\0', DNS_NAME_MAX) == NULL ||
			    rr[j].pref < 0 || rr[j].pref > 65535)
				abort();
		}
	}
	buf_free(&why);
	return 0;
}
