/*
 * idn - domains as DNS and SMTP want them: ASCII, with A-labels
 *
 * idn_to_ascii() turns a domain from an address into the form used for
 * routing and for the SMTP envelope without SMTPUTF8.  An ASCII domain
 * is lower-cased and checked: LDH labels (letters, digits, '-' not at
 * either end), no empty label, a label at most 63 octets, the whole at
 * most 253 octets; one trailing dot is removed.  A domain with bytes >=
 * 0x80 must be UTF-8 and goes through libidn2's idn2_to_ascii_8z() with
 * IDN2_NONTRANSITIONAL | IDN2_NFC_INPUT (UTS #46 mapping, IDNA2008),
 * after which the result is checked the same way -- STD3 rules are off
 * because they delete characters, so the LDH check is ours.  ASCII
 * labels beginning "xn--" are A-labels, and each is checked with
 * libidn2 too (it must decode and convert back to itself).  Address
 * literals "[...]" are returned unchanged.
 *
 * libidn2 is not linked: it is dlopen()ed ("libidn2.so.0") the first
 * time a domain needs it, so the common all-ASCII case costs nothing,
 * and the handle (or the failure) is kept for the life of the process.
 *
 * Ownership: out and why are the caller's; out should allow at least
 * IDN_DOMAIN_MAX octets.  Errors are -1 with a reason in why that
 * names the domain: "bad domain ex_ample.org: bad character in
 * domain", "bad IDNA domain xn--zz.example: <libidn2's text>", or
 * "internationalized domain X needs libidn2 (<dlerror text>)".
 * Running out of memory is "out of memory".  Nothing here logs or exits.
 */
#ifndef COMMON_IDN_H
#define COMMON_IDN_H

#include "common/buf.h"

#define IDN_DOMAIN_MAX	253	/* the converted domain, no trailing dot */
#define IDN_LABEL_MAX	63
#define IDN_INPUT_MAX	1024	/* the longest domain looked at */
#define IDN_SONAME	"libidn2.so.0"

int	 idn_to_ascii(const char *domain, struct buf *out, struct buf *why);

/*
 * idn_set_library - load libidn2 from soname (NULL: IDN_SONAME) from
 * now on, forgetting any handle or failure kept so far; for tests.
 */
void	 idn_set_library(const char *soname);

#endif
