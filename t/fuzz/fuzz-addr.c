/*
 * fuzz-addr.c - libFuzzer target for common/addr and common/idn
 *
 * The input is parsed as a path under several flag sets, as an address
 * list, and qualified.  Invariants: a canonical path re-parses to
 * itself and splits and joins back to itself; every mailbox's address
 * is a canonical path; qualifying twice is qualifying once, and leaves
 * no bare mailbox; idn_to_ascii() of its own output is that output.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/addr.h"
#include "common/buf.h"
#include "common/idn.h"

#define ANY	(ADDR_ALLOW_NULL | ADDR_ALLOW_BARE | ADDR_UTF8)

int	 LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void	 fz_assert(int);
static void	 fz_domain(const char *);
static void	 fz_canonical(const char *, size_t, int);
static int	 fz_mbox(const struct addr_mbox *, void *);
static int	 fz_bare(const struct addr_mbox *, void *);

/* fz_assert - crash, for libFuzzer, when an invariant does not hold */
static void
fz_assert(int ok)
{
	if (!ok)
		abort();
}

/* fz_domain - idn_to_ascii is idempotent on its output */
static void
fz_domain(const char *dom)
{
	struct buf	 a, b, why;

	buf_init(&a, IDN_INPUT_MAX);
	buf_init(&b, IDN_INPUT_MAX);
	buf_init(&why, 1024);
	if (idn_to_ascii(dom, &a, &why) == 0) {
		fz_assert(idn_to_ascii(buf_str(&a), &b, &why) == 0);
		fz_assert(strcmp(buf_str(&a), buf_str(&b)) == 0);
		fz_assert(a.len <= IDN_DOMAIN_MAX || dom[0] == '[');
	} else
		fz_assert(why.len > 0);
	buf_free(&a);
	buf_free(&b);
	buf_free(&why);
}

/* fz_canonical - a canonical address re-parses, splits and joins */
static void
fz_canonical(const char *addr, size_t len, int flags)
{
	struct buf	 again, local, joined, why;
	const char	*dom;
	size_t		 i;

	fz_assert(strlen(addr) == len);
	for (i = 0; i < len; i++) {
		unsigned char	 c = (unsigned char)addr[i];

		fz_assert(c >= 0x20 && c != 0x7f);
		fz_assert(c < 0x80 || (flags & ADDR_UTF8));
	}
	buf_init(&again, ADDR_CANON_MAX);
	buf_init(&local, ADDR_CANON_MAX);
	buf_init(&joined, ADDR_CANON_MAX);
	buf_init(&why, 1024);
	fz_assert(addr_parse_path(addr, len, flags & ~ADDR_NEED_ANGLE,
	    &again, &why) == 0);
	fz_assert(strcmp(buf_str(&again), addr) == 0);
	if (len > 0) {
		fz_assert(addr_split(addr, &local, &dom, &why) == 0);
		fz_assert(addr_make(buf_str(&local), local.len, dom, &joined,
		    &why) == 0);
		fz_assert(strcmp(buf_str(&joined), addr) == 0);
		if (dom != NULL)
			fz_domain(dom);
	}
	buf_free(&again);
	buf_free(&local);
	buf_free(&joined);
	buf_free(&why);
}

/* fz_mbox - every mailbox of a list is canonical */
static int
fz_mbox(const struct addr_mbox *mb, void *arg)
{
	const char	*at;

	(void)arg;
	fz_canonical(mb->addr, strlen(mb->addr), ANY);
	if (mb->domain != NULL) {
		at = mb->domain - 1;
		fz_assert(*at == '@');
	}
	return 0;
}

/* fz_bare - a qualified list has no bare mailbox */
static int
fz_bare(const struct addr_mbox *mb, void *arg)
{
	(void)arg;
	fz_assert(mb->domain != NULL);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const int	 flagsets[] = {
		0,
		ADDR_ALLOW_NULL | ADDR_NEED_ANGLE,
		ADDR_NEED_ANGLE | ADDR_UTF8,
		ADDR_ALLOW_BARE,
		ANY,
	};
	const char	*in = (const char *)data;
	struct buf	 out, q1, q2, why;
	size_t		 i;
	int		 listrc, qrc;

	buf_init(&out, ADDR_CANON_MAX);
	buf_init(&why, 1024);
	for (i = 0; i < sizeof(flagsets) / sizeof(flagsets[0]); i++) {
		buf_reset(&why);
		if (addr_parse_path(in, size, flagsets[i], &out, &why) == 0)
			fz_canonical(buf_str(&out), out.len, flagsets[i]);
		else
			fz_assert(why.len > 0);
	}
	(void)addr_path_span(in, size);
	buf_free(&out);

	buf_reset(&why);
	listrc = addr_parse_list(in, size, fz_mbox, NULL, &why);
	fz_assert(listrc == 0 || (listrc == -1 && why.len > 0));

	buf_init(&q1, 1 << 20);
	buf_init(&q2, 1 << 20);
	qrc = addr_qualify_list(in, size, "origin.example", &q1, &why);
	if (listrc != 0)
		fz_assert(qrc == -1);
	if (qrc == 0) {
		fz_assert(addr_parse_list(q1.data, q1.len, fz_bare, NULL,
		    &why) == 0);
		fz_assert(addr_qualify_list(q1.data, q1.len, "other.example",
		    &q2, &why) == 0);
		fz_assert(q1.len == q2.len &&
		    memcmp(buf_str(&q1), buf_str(&q2), q1.len) == 0);
	}
	buf_free(&q1);
	buf_free(&q2);
	buf_free(&why);
	return 0;
}
