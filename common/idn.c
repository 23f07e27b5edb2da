/*
 * idn.c - domains to A-labels, libidn2 loaded at run time (see idn.h)
 */
#include <dlfcn.h>
#include <stdlib.h>
#include <string.h>

#include <idn2.h>

#include "common/addr.h"
#include "common/buf.h"
#include "common/idn.h"
#include "common/util.h"

#define IDN_FLAGS	(IDN2_NONTRANSITIONAL | IDN2_NFC_INPUT)
#define IDN_ACE		"xn--"
#define IDN_ACE_LEN	(sizeof(IDN_ACE) - 1)
#define IDN_SHOW_MAX	255	/* octets of a domain quoted in a reason */

/* The libidn2 entry points, once loaded. */
static struct {
	void		*handle;
	int		 tried;
	char		 err[256];
	__typeof__(&idn2_to_ascii_8z)	to_ascii;
	__typeof__(&idn2_strerror)	errstr;
	__typeof__(&idn2_free)		release;
} idn_lib;

static const char *idn_soname = IDN_SONAME;

static int	 idn_show(struct buf *, const char *, size_t);
static int	 idn_fail(struct buf *, const char *, const char *, size_t,
		    const char *);
static int	 idn_load(const char *, size_t, struct buf *);
static int	 idn_convert(const char *, const char *, size_t, struct buf *,
		    struct buf *);
static int	 idn_alabels(const char *, size_t, struct buf *);
static int	 idn_ldh(const char *, size_t, const char *, size_t,
		    struct buf *);

/*
 * idn_show - the domain for a reason: controls, and every byte >= 0x80
 * when it is not UTF-8, as \xHH; at most IDN_SHOW_MAX input octets
 */
static int
idn_show(struct buf *why, const char *dom, size_t n)
{
	size_t		 i;
	int		 utf8, rc = BUF_OK;
	unsigned char	 c;

	if (n > IDN_SHOW_MAX)
		n = IDN_SHOW_MAX;
	utf8 = addr_utf8_valid(dom, n);
	for (i = 0; i < n && rc == BUF_OK; i++) {
		c = (unsigned char)dom[i];
		if (c < 0x20 || c == 0x7f || (c >= 0x80 && !utf8))
			rc = buf_printf(why, "\\x%02x", c);
		else
			rc = buf_addc(why, c);
	}
	return rc;
}

/* idn_fail - "what DOMAIN: detail" into why; returns -1 */
static int
idn_fail(struct buf *why, const char *what, const char *dom, size_t n,
    const char *detail)
{
	if (why == NULL)
		return -1;
	buf_reset(why);
	if (buf_printf(why, "%s ", what) != BUF_OK ||
	    idn_show(why, dom, n) != BUF_OK ||
	    buf_printf(why, ": %s", detail) != BUF_OK) {
		buf_reset(why);
		buf_adds(why, detail);
	}
	return -1;
}

/* idn_set_library - use soname from now on; forget what was loaded */
void
idn_set_library(const char *soname)
{
	if (idn_lib.handle != NULL)
		dlclose(idn_lib.handle);
	memset(&idn_lib, 0, sizeof(idn_lib));
	idn_soname = soname != NULL ? soname : IDN_SONAME;
}

/* idn_load - dlopen libidn2 once; dom names the domain in the reason */
static int
idn_load(const char *dom, size_t n, struct buf *why)
{
	const char	*e;

	if (!idn_lib.tried) {
		idn_lib.tried = 1;
		if ((idn_lib.handle = dlopen(idn_soname,
		    RTLD_NOW | RTLD_LOCAL)) == NULL) {
			e = dlerror();
			if (bsnprintf(idn_lib.err, sizeof(idn_lib.err), "%s",
			    e != NULL ? e : idn_soname) == -1)
				str_copy(idn_lib.err, sizeof(idn_lib.err),
				    "cannot load libidn2");
		} else {
			idn_lib.to_ascii = (__typeof__(idn_lib.to_ascii))
			    dlsym(idn_lib.handle, "idn2_to_ascii_8z");
			idn_lib.errstr = (__typeof__(idn_lib.errstr))
			    dlsym(idn_lib.handle, "idn2_strerror");
			idn_lib.release = (__typeof__(idn_lib.release))
			    dlsym(idn_lib.handle, "idn2_free");
			if (idn_lib.release == NULL)
				idn_lib.release = free;
			if (idn_lib.to_ascii == NULL ||
			    idn_lib.errstr == NULL) {
				bsnprintf(idn_lib.err, sizeof(idn_lib.err),
				    "%s: idn2_to_ascii_8z or idn2_strerror "
				    "missing", idn_soname);
				dlclose(idn_lib.handle);
				idn_lib.handle = NULL;
			}
		}
	}
	if (idn_lib.handle != NULL)
		return 0;
	if (why != NULL) {
		buf_reset(why);
		if (buf_adds(why, "internationalized domain ") != BUF_OK ||
		    idn_show(why, dom, n) != BUF_OK ||
		    buf_printf(why, " needs libidn2 (%s)", idn_lib.err) !=
		    BUF_OK) {
			buf_reset(why);
			buf_adds(why, "internationalized domain needs libidn2");
		}
	}
	return -1;
}

/*
 * idn_convert - s (NUL-terminated) through idn2_to_ascii_8z into out;
 * dom[0..n) is the whole domain, for the reason
 */
static int
idn_convert(const char *s, const char *dom, size_t n, struct buf *out,
    struct buf *why)
{
	char	*res = NULL;
	int	 rc;

	if (idn_load(dom, n, why) == -1)
		return -1;
	if ((rc = idn_lib.to_ascii(s, &res, IDN_FLAGS)) != IDN2_OK) {
		if (res != NULL)
			idn_lib.release(res);
		if (rc == IDN2_MALLOC)
			return idn_fail(why, "bad IDNA domain", dom, n,
			    "out of memory");
		return idn_fail(why, "bad IDNA domain", dom, n,
		    idn_lib.errstr(rc));
	}
	buf_reset(out);
	rc = buf_adds(out, res != NULL ? res : "");
	idn_lib.release(res);
	if (rc != BUF_OK)
		return idn_fail(why, "bad domain", dom, n,
		    rc == BUF_NOMEM ? "out of memory" : "domain too long");
	return 0;
}

/* idn_alabels - each "xn--" label of an ASCII domain must round-trip */
static int
idn_alabels(const char *d, size_t n, struct buf *why)
{
	struct buf	 lab, res;
	size_t		 i, j;
	int		 rc = 0;

	buf_init(&lab, IDN_INPUT_MAX);
	buf_init(&res, IDN_INPUT_MAX);
	for (i = 0; i < n && rc == 0; i = j + 1) {
		for (j = i; j < n && d[j] != '.'; j++)
			continue;
		if (j - i < IDN_ACE_LEN || strncmp(d + i, IDN_ACE,
		    IDN_ACE_LEN) != 0)
			continue;
		if (buf_set(&lab, d + i, j - i) != BUF_OK)
			rc = idn_fail(why, "bad domain", d, n, "out of memory");
		else if ((rc = idn_convert(lab.data, d, n, &res, why)) == 0 &&
		    strcmp(res.data, lab.data) != 0)
			rc = idn_fail(why, "bad IDNA domain", d, n,
			    "A-label does not round-trip");
	}
	buf_free(&lab);
	buf_free(&res);
	return rc;
}

/* idn_ldh - check an ASCII domain; dom[0..dn) names it in the reason */
static int
idn_ldh(const char *d, size_t n, const char *dom, size_t dn,
    struct buf *why)
{
	size_t	 i, lab = 0;
	char	 c;

	if (n == 0)
		return idn_fail(why, "bad domain", dom, dn, "empty domain");
	if (n > IDN_DOMAIN_MAX)
		return idn_fail(why, "bad domain", dom, dn, "domain too long");
	for (i = 0; i <= n; i++) {
		c = i < n ? d[i] : '.';
		if (c == '.') {
			if (lab == 0)
				return idn_fail(why, "bad domain", dom, dn,
				    "empty label in domain");
			if (lab > IDN_LABEL_MAX)
				return idn_fail(why, "bad domain", dom, dn,
				    "domain label too long");
			if (d[i - lab] == '-' || d[i - 1] == '-')
				return idn_fail(why, "bad domain", dom, dn,
				    "domain label begins or ends with '-'");
			lab = 0;
			continue;
		}
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    c == '-'))
			return idn_fail(why, "bad domain", dom, dn,
			    "bad character in domain");
		lab++;
	}
	return 0;
}

/* idn_to_ascii - the domain as A-labels, checked (see idn.h) */
int
idn_to_ascii(const char *domain, struct buf *out, struct buf *why)
{
	size_t	 n = strlen(domain), i;
	int	 high = 0, rc;

	buf_reset(out);
	if (n > IDN_INPUT_MAX)
		return idn_fail(why, "bad domain", domain, n,
		    "domain too long");
	if (n > 0 && domain[0] == '[') {
		if (domain[n - 1] != ']')
			return idn_fail(why, "bad domain", domain, n,
			    "missing ']' in address literal");
		if ((rc = buf_set(out, domain, n)) != BUF_OK)
			return idn_fail(why, "bad domain", domain, n,
			    rc == BUF_NOMEM ? "out of memory" :
			    "domain too long");
		return 0;
	}
	for (i = 0; i < n; i++)
		if ((unsigned char)domain[i] >= 0x80)
			high = 1;
	if (high) {
		if (!addr_utf8_valid(domain, n))
			return idn_fail(why, "bad IDNA domain", domain, n,
			    "invalid UTF-8");
		if (idn_convert(domain, domain, n, out, why) == -1)
			return -1;
	} else if ((rc = buf_set(out, domain, n)) != BUF_OK)
		return idn_fail(why, "bad domain", domain, n,
		    rc == BUF_NOMEM ? "out of memory" : "domain too long");
	if (out->len > 0 && out->data[out->len - 1] == '.')
		buf_truncate(out, out->len - 1);
	if (out->len > 0)
		str_lower(out->data);
	if (idn_ldh(buf_str(out), out->len, domain, n, why) == -1 ||
	    (!high && idn_alabels(out->data, out->len, why) == -1)) {
		buf_reset(out);
		return -1;
	}
	return 0;
}
