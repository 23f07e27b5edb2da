/*
 * policy.c - smtpd-lite's access decisions, as Postfix's smtpd_check.c
 * makes them (the contract is in policy.h)
 *
 * The restriction lists are evaluated by pol_list(), one table row per
 * restriction name (pol_restrictions[]).  Each check returns
 * PS_DUNNO (go on), PS_OK (this list permits) or PS_REJECT (the reply
 * is in the context); pol_reject() is the one place a reply is made,
 * where warn_if_reject and defer_if_reject apply, as in Postfix's
 * smtpd_check_reject().
 *
 * Match lists (mynetworks, relay_domains) share one shape: an entry
 * may be negated with '!', may name a file of more entries, or a
 * table; pol_*_one() match one entry and return enum pol_match, where
 * PM_NOT is a negated match that ends the walk.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/addr.h"
#include "common/buf.h"
#include "common/conf.h"
#include "common/dns.h"
#include "common/log.h"
#include "common/map.h"
#include "common/util.h"
#include "cmd/smtpd-lite/policy.h"

/*
 * Reply codes: Postfix's defaults for the parameters correo lacks,
 * relay_domains_reject_code, reject_code, defer_code,
 * unknown_client_reject_code, maps_rbl_reject_code,
 * unknown_local_recipient_reject_code,
 * unknown_virtual_mailbox_reject_code, non_fqdn_reject_code and
 * invalid_hostname_reject_code, then the codes Postfix fixes.
 */
#define POL_RELAY_CODE		554
#define POL_REJECT_CODE		554
#define POL_DEFER_CODE		450
#define POL_UNK_CLIENT_CODE	450
#define POL_RBL_CODE		554
#define POL_LOCAL_RCPT_CODE	550
#define POL_VIRT_MBOX_CODE	550
#define POL_NON_FQDN_CODE	504
#define POL_BAD_NAME_CODE	501
#define POL_LOGIN_CODE		553	/* sender login mismatch */
#define POL_TEMP_CODE		450	/* defer_if_*, a name lookup */
#define POL_RETRY_CODE		451	/* 4.3.0 lookup failure */
#define POL_SOFTWARE_CODE	451	/* 4.3.5 configuration error */
#define POL_DOUBLE_BOUNCE	"double-bounce"	/* double_bounce_sender */

#define POL_TEXT_MAX		510	/* a reply, as Postfix cuts it */
#define POL_FMT_MAX		16384	/* a reply before it is cut */
#define POL_FILE_MAX		(1024 * 1024)	/* a /file/name list */
#define POL_KEY_MAX		(MAP_KEY_MAX + 2)
#define POL_SEPARATORS		", \t\r\n"

#define POL_SOFTWARE_TEXT	"Server configuration error"

/* What one restriction decided. */
enum pol_status {
	PS_DUNNO,		/* no decision: the next one */
	PS_OK,			/* permit: this list ends */
	PS_REJECT,		/* the reply is made: everything ends */
};

/* What one match-list entry said. */
enum pol_match {
	PM_CONFIG = -2,		/* malformed: a configuration error */
	PM_TEMP = -1,		/* a table failed: try again later */
	PM_NO = 0,		/* no match: the next entry */
	PM_YES = 1,		/* a match: the list matches */
	PM_NOT = 2,		/* a "!pattern" match: the list does not */
};

/* A table lookup. */
enum pol_lookup {
	PL_NOTFOUND,
	PL_FOUND,
	PL_ERROR,		/* temporary */
	PL_UNSUPPORTED,		/* a table type correo does not have */
};

/* An address, IPv4-mapped IPv6 turned into IPv4. */
struct pol_ip {
	int		 family;	/* AF_INET or AF_INET6 */
	unsigned char	 a[16];		/* 4 or 16 bytes */
};

/* A deferred decision (Postfix's SMTPD_DEFER). */
struct pol_defer {
	int		 active;
	int		 code;
	char		 text[POL_TEXT_MAX + 1];
};

/* One policy_rcpt() evaluation. */
struct pol_ctx {
	struct policy_client	*c;
	const char		*rcpt;
	const char		*sender;
	struct buf		*reply;
	int			 code;	/* the reply's, on PS_REJECT */
	int			 warn;	/* warn_if_reject is armed */
	struct pol_defer	 if_permit, if_reject;
};

/* One restriction: its name, its check, whether it takes an argument. */
struct pol_restriction {
	const char	*name;
	enum pol_status	(*fn)(struct pol_ctx *, const char *arg);
	int		 flags;
};

#define POL_R_ARG	1	/* the next word is its argument */
#define POL_R_REQUIRED	2	/* rejects by default (open-relay check) */

static void	 pol_vformat(char *, int, const char *, const char *,
		    va_list) __attribute__((format(printf, 4, 0)));
static int	 pol_set(struct buf *, int, const char *, const char *, ...)
		    __attribute__((format(printf, 4, 5)));
static enum pol_status pol_reject_text(struct pol_ctx *, int, int,
		    const char *);
static enum pol_status pol_reject(struct pol_ctx *, int, int, const char *,
		    const char *, ...) __attribute__((format(printf, 5, 6)));
static void	 pol_defer_if(struct pol_ctx *, struct pol_defer *, int,
		    const char *, const char *, ...)
		    __attribute__((format(printf, 5, 6)));
static enum pol_status pol_config_error(struct pol_ctx *);
static enum pol_status pol_retry(struct pol_ctx *, const char *);
static void	 pol_warning(const struct pol_ctx *, const char *);
static int	 pol_parse_ip(const char *, struct pol_ip *);
static int	 pol_parse_net(const char *, struct pol_ip *, int *);
static int	 pol_net_match(const struct pol_ip *, const struct pol_ip *,
		    int);
static char	*pol_token(char **);
static char	*pol_read_file(const char *, struct buf *);
static enum pol_match pol_net_one(const char *, const struct pol_ip *,
		    const char *, int, struct buf *);
static enum pol_match pol_net_walk(const struct pol_ip *, struct buf *);
static enum pol_match pol_mynetworks(const char *, struct buf *);
static enum pol_match pol_dom_one(const char *, const char *, int,
		    struct buf *);
static enum pol_lookup pol_map_find(const char *, int, const char *,
		    struct buf *, struct buf *);
static enum pol_lookup pol_maps_find(const char *, const char *,
		    struct buf *, int, struct buf *);
static int	 pol_is_alias_map(const char *);
static int	 pol_split_ext(const char *);
static int	 pol_valid_hostname(const char *);
static int	 pol_valid_hostaddr(const char *);
static int	 pol_valid_literal(const char *);
static int	 pol_ip_pattern(const char *, const unsigned char *);
static int	 pol_has_required(const char *, int *, struct buf *);
static const struct pol_restriction *pol_find(const char *);
static enum pol_status pol_list(struct pol_ctx *, const char *);
static enum pol_status pol_from_code(struct pol_ctx *, int, struct buf *);
static enum pol_status pol_non_fqdn(struct pol_ctx *, const char *,
		    const char *);
static const char *pol_helo_name(const char *, char *, size_t);

static enum pol_status pol_permit(struct pol_ctx *, const char *);
static enum pol_status pol_reject_all(struct pol_ctx *, const char *);
static enum pol_status pol_defer_all(struct pol_ctx *, const char *);
static enum pol_status pol_defer_if_permit(struct pol_ctx *, const char *);
static enum pol_status pol_defer_if_reject(struct pol_ctx *, const char *);
static enum pol_status pol_permit_mynetworks(struct pol_ctx *,
		    const char *);
static enum pol_status pol_permit_sasl(struct pol_ctx *, const char *);
static enum pol_status pol_auth_dest(struct pol_ctx *, const char *);
static enum pol_status pol_reject_unauth(struct pol_ctx *, const char *);
static enum pol_status pol_defer_unauth(struct pol_ctx *, const char *);
static enum pol_status pol_unknown_client(struct pol_ctx *, const char *);
static enum pol_status pol_unknown_reverse(struct pol_ctx *,
		    const char *);
static enum pol_status pol_rbl_client(struct pol_ctx *, const char *);
static enum pol_status pol_unlisted_rcpt(struct pol_ctx *, const char *);
static enum pol_status pol_login_both(struct pol_ctx *, const char *);
static enum pol_status pol_login_auth(struct pol_ctx *, const char *);
static enum pol_status pol_login_unauth(struct pol_ctx *, const char *);
static enum pol_status pol_non_fqdn_rcpt(struct pol_ctx *, const char *);
static enum pol_status pol_non_fqdn_sender(struct pol_ctx *, const char *);
static enum pol_status pol_invalid_helo(struct pol_ctx *, const char *);
static enum pol_status pol_non_fqdn_helo(struct pol_ctx *, const char *);
static enum pol_status pol_dunno(struct pol_ctx *, const char *);

static const struct pol_restriction pol_restrictions[] = {
	{ "permit", pol_permit, 0 },
	{ "reject", pol_reject_all, POL_R_REQUIRED },
	{ "defer", pol_defer_all, POL_R_REQUIRED },
	{ "defer_if_permit", pol_defer_if_permit, POL_R_REQUIRED },
	{ "defer_if_reject", pol_defer_if_reject, 0 },
	{ "permit_mynetworks", pol_permit_mynetworks, 0 },
	{ "permit_sasl_authenticated", pol_permit_sasl, 0 },
	{ "permit_auth_destination", pol_auth_dest, 0 },
	{ "reject_unauth_destination", pol_reject_unauth, POL_R_REQUIRED },
	{ "defer_unauth_destination", pol_defer_unauth, POL_R_REQUIRED },
	{ "reject_unknown_client_hostname", pol_unknown_client, 0 },
	{ "reject_unknown_client", pol_unknown_client, 0 },
	{ "reject_unknown_reverse_client_hostname", pol_unknown_reverse, 0 },
	{ "reject_rbl_client", pol_rbl_client, POL_R_ARG },
	{ "reject_unlisted_recipient", pol_unlisted_rcpt, 0 },
	{ "reject_sender_login_mismatch", pol_login_both, 0 },
	{ "reject_authenticated_sender_login_mismatch", pol_login_auth, 0 },
	{ "reject_unauthenticated_sender_login_mismatch", pol_login_unauth,
	    0 },
	{ "reject_non_fqdn_recipient", pol_non_fqdn_rcpt, 0 },
	{ "reject_non_fqdn_sender", pol_non_fqdn_sender, 0 },
	{ "reject_invalid_helo_hostname", pol_invalid_helo, 0 },
	{ "reject_non_fqdn_helo_hostname", pol_non_fqdn_helo, 0 },
	{ "reject_unauth_pipelining", pol_dunno, 0 },
};

#define POL_WARN_IF_REJECT	"warn_if_reject"
#define POL_REQUIRED_TEXT	"reject_unauth_destination, " \
	"defer_unauth_destination, reject, defer or defer_if_permit"

/*
 * Replies.
 */

/*
 * pol_vformat - "CODE D.D.D text" into out (POL_TEXT_MAX + 1 bytes):
 * the enhanced code's class made the reply code's, cut at
 * POL_TEXT_MAX octets, control characters made spaces
 */
static void
pol_vformat(char *out, int code, const char *dsn, const char *fmt,
    va_list ap)
{
	struct buf	 b;
	size_t		 n, i;
	unsigned char	 ch;

	buf_init(&b, POL_FMT_MAX);
	if (buf_printf(&b, "%d %s ", code, dsn) != BUF_OK ||
	    buf_vprintf(&b, fmt, ap) != BUF_OK || b.len < 6) {
		buf_free(&b);
		(void)bsnprintf(out, POL_TEXT_MAX + 1, "%d %c.3.0 Error: "
		    "reply too long", code, '0' + code / 100 % 10);
		return;
	}
	b.data[4] = b.data[0];
	n = b.len;
	if (n > POL_TEXT_MAX) {
		n = POL_TEXT_MAX;
		while (n > 0 && ((unsigned char)b.data[n] & 0xc0) == 0x80)
			n--;		/* not inside a UTF-8 sequence */
	}
	for (i = 0; i < n; i++) {
		ch = (unsigned char)b.data[i];
		out[i] = ch < 0x20 || ch == 0x7f ? ' ' : (char)ch;
	}
	out[n] = '\0';
	buf_free(&b);
}

/* pol_set - a reply into the caller's buffer; returns the code */
static int
pol_set(struct buf *reply, int code, const char *dsn, const char *fmt, ...)
{
	char	 text[POL_TEXT_MAX + 1];
	va_list	 ap;

	va_start(ap, fmt);
	pol_vformat(text, code, dsn, fmt, ap);
	va_end(ap);
	buf_reset(reply);
	(void)buf_adds(reply, text);
	return code;
}

/* pol_warning - log warn_if_reject's "reject_warning" line */
static void
pol_warning(const struct pol_ctx *x, const char *text)
{
	char	 a[LOG_SAFE_MAX], s[LOG_SAFE_MAX], r[LOG_SAFE_MAX];

	log_warnx("%s: reject_warning: RCPT from [%s]: %s; from=<%s> to=<%s>",
	    x->c->log_id != NULL ? x->c->log_id : "NOQUEUE",
	    log_safe(a, sizeof(a), x->c->addr, strlen(x->c->addr)), text,
	    log_safe(s, sizeof(s), x->sender, strlen(x->sender)),
	    log_safe(r, sizeof(r), x->rcpt, strlen(x->rcpt)));
}

/*
 * pol_reject_text - the restriction rejects with text (its code is
 * code); hard replies (lookup and configuration errors) are not
 * softened by warn_if_reject
 */
static enum pol_status
pol_reject_text(struct pol_ctx *x, int hard, int code, const char *text)
{
	if (x->warn && !hard) {
		pol_warning(x, text);
		return PS_DUNNO;
	}
	if (code / 100 == 5 && x->if_reject.active) {
		x->if_reject.active = 0;
		code = x->if_reject.code;
		text = x->if_reject.text;
	}
	x->code = code;
	buf_reset(x->reply);
	(void)buf_adds(x->reply, text);
	return PS_REJECT;
}

/* pol_reject - format and reject (pol_reject_text) */
static enum pol_status
pol_reject(struct pol_ctx *x, int hard, int code, const char *dsn,
    const char *fmt, ...)
{
	char	 text[POL_TEXT_MAX + 1];
	va_list	 ap;

	va_start(ap, fmt);
	pol_vformat(text, code, dsn, fmt, ap);
	va_end(ap);
	return pol_reject_text(x, hard, code, text);
}

/* pol_defer_if - arm defer_if_permit or defer_if_reject (first wins) */
static void
pol_defer_if(struct pol_ctx *x, struct pol_defer *d, int code,
    const char *dsn, const char *fmt, ...)
{
	char	 text[POL_TEXT_MAX + 1];
	va_list	 ap;

	va_start(ap, fmt);
	pol_vformat(text, code, dsn, fmt, ap);
	va_end(ap);
	if (d == &x->if_permit && x->warn) {
		pol_warning(x, text);
		return;
	}
	if (d->active)
		return;
	d->active = 1;
	d->code = code;
	memcpy(d->text, text, sizeof(d->text));
}

/* pol_config_error - 451 4.3.5, the reason already logged */
static enum pol_status
pol_config_error(struct pol_ctx *x)
{
	return pol_reject(x, 1, POL_SOFTWARE_CODE, "4.3.5", "%s",
	    POL_SOFTWARE_TEXT);
}

/* pol_retry - 451 4.3.0 <what>: Temporary lookup failure */
static enum pol_status
pol_retry(struct pol_ctx *x, const char *what)
{
	return pol_reject(x, 1, POL_RETRY_CODE, "4.3.0",
	    "<%s>: Temporary lookup failure", what);
}

/*
 * Addresses and networks.
 */

/* pol_parse_ip - an IPv4 or IPv6 address; ::ffff:a.b.c.d is IPv4 */
static int
pol_parse_ip(const char *s, struct pol_ip *ip)
{
	static const unsigned char mapped[12] = {
		0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff
	};

	memset(ip, 0, sizeof(*ip));
	if (inet_pton(AF_INET, s, ip->a) == 1) {
		ip->family = AF_INET;
		return 0;
	}
	if (inet_pton(AF_INET6, s, ip->a) != 1)
		return -1;
	ip->family = AF_INET6;
	if (memcmp(ip->a, mapped, sizeof(mapped)) == 0) {
		memmove(ip->a, ip->a + 12, 4);
		memset(ip->a + 4, 0, 12);
		ip->family = AF_INET;
	}
	return 0;
}

/*
 * pol_parse_net - "addr", "addr/bits", "[addr]" or "[addr]/bits"; -1
 * when malformed or when bits past the mask are set
 */
static int
pol_parse_net(const char *pat, struct pol_ip *net, int *bits)
{
	char		 tmp[INET6_ADDRSTRLEN + 8];
	const char	*addr, *slash = NULL, *err, *close;
	long long	 v;
	size_t		 len = strlen(pat);
	int		 max, mapped, i;

	if (len == 0 || len >= sizeof(tmp))
		return -1;
	memcpy(tmp, pat, len + 1);
	if (tmp[0] == '[') {
		if ((close = strchr(tmp, ']')) == NULL)
			return -1;
		tmp[close - tmp] = '\0';
		addr = tmp + 1;
		if (close[1] == '/')
			slash = close + 1;
		else if (close[1] != '\0')
			return -1;
	} else {
		addr = tmp;
		if ((slash = strchr(tmp, '/')) != NULL)
			tmp[slash - tmp] = '\0';
	}
	/* "::ffff:10.0.0.0/104" is 10.0.0.0/8, as the client would be */
	mapped = strchr(addr, ':') != NULL;
	if (pol_parse_ip(addr, net) != 0)
		return -1;
	mapped = mapped && net->family == AF_INET;
	max = net->family == AF_INET ? 32 : 128;
	*bits = max;
	if (slash != NULL) {
		if (slash[1] == '\0' || strspn(slash + 1, "0123456789") !=
		    strlen(slash + 1) ||
		    num_parse(slash + 1, 0, mapped ? 128 : max, &v, &err) != 0)
			return -1;
		*bits = (int)v;
		if (mapped) {
			if (*bits < 96)
				return -1;
			*bits -= 96;
		}
	}
	for (i = *bits; i < max; i++)
		if (net->a[i / 8] & (0x80 >> (i % 8)))
			return -1;	/* host bits set */
	return 0;
}

/* pol_net_match - whether ip is inside net/bits */
static int
pol_net_match(const struct pol_ip *ip, const struct pol_ip *net, int bits)
{
	int	 full = bits / 8, rest = bits % 8;

	if (ip->family != net->family)
		return 0;
	if (memcmp(ip->a, net->a, (size_t)full) != 0)
		return 0;
	if (rest == 0)
		return 1;
	return ((ip->a[full] ^ net->a[full]) & (0xff << (8 - rest)) & 0xff)
	    == 0;
}

/*
 * pol_token - the next word of a /file/name list, NUL-terminated in
 * place: words are separated by white space and commas, and '#' at the
 * start of a word comments out the rest of its line; NULL at the end
 */
static char *
pol_token(char **pp)
{
	char	*p = *pp, *w;

	for (;;) {
		p += strspn(p, POL_SEPARATORS);
		if (*p != '#')
			break;
		p += strcspn(p, "\n");
	}
	if (*p == '\0') {
		*pp = p;
		return NULL;
	}
	w = p;
	p += strcspn(p, POL_SEPARATORS);
	if (*p != '\0')
		*p++ = '\0';
	*pp = p;
	return w;
}

/* pol_read_file - a whole /file/name list (malloc'd), NULL with why */
static char *
pol_read_file(const char *path, struct buf *why)
{
	struct buf	 b;
	struct stat	 st;
	char		 chunk[8192];
	ssize_t		 n;
	int		 fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)) < 0) {
		buf_printf(why, "open %s: %s", path, strerror(errno));
		return NULL;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		buf_printf(why, "%s: not a regular file", path);
		close(fd);
		return NULL;
	}
	buf_init(&b, POL_FILE_MAX);
	while ((n = read(fd, chunk, sizeof(chunk))) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 || buf_add(&b, chunk, (size_t)n) != BUF_OK) {
			buf_printf(why, "read %s: %s", path, n < 0 ?
			    strerror(errno) : "too long or out of memory");
			close(fd);
			buf_free(&b);
			return NULL;
		}
	}
	close(fd);
	if (b.data == NULL && buf_adds(&b, "") != BUF_OK) {
		buf_printf(why, "read %s: out of memory", path);
		return NULL;
	}
	if (memchr(b.data, '\0', b.len) != NULL) {
		buf_printf(why, "%s: NUL byte in the file", path);
		buf_free(&b);
		return NULL;
	}
	return buf_take(&b);
}

/*
 * pol_net_one - one mynetworks entry against ip (NULL: only check the
 * syntax); key is ip as text, the table key
 */
/*
 * pol_list_map - a "type:table" entry of the list param (mynetworks,
 * relay_domains): PM_YES when the table has key or, with parents, one
 * of key's parent domains; PM_NO when not, or when the map type is not
 * supported (skipped with a warning); PM_TEMP with why set when the
 * table cannot be read
 */
static enum pol_match
pol_list_map(const char *param, const char *pat, const char *key,
    int parents, struct buf *why)
{
	struct buf	 val, mwhy;
	struct map	*m;
	enum pol_match	 r = PM_NO;
	enum map_result	 mr;
	const char	*d;

	buf_init(&val, MAP_VALUE_MAX);
	buf_init(&mwhy, 1024);
	if ((m = map_open(pat, 0, &mwhy)) == NULL) {
		if (errno == EPROTONOSUPPORT)
			log_warnx("%s: %s: skipped", param, buf_str(&mwhy));
		else {
			buf_printf(why, "%s: %s", param, buf_str(&mwhy));
			r = PM_TEMP;
		}
	} else {
		for (d = key; d != NULL && r == PM_NO;) {
			mr = map_lookup(m, d, &val, &mwhy);
			if (mr == MAP_ERROR) {
				buf_printf(why, "%s: %s", param,
				    buf_str(&mwhy));
				r = PM_TEMP;
			} else if (mr == MAP_FOUND)
				r = PM_YES;
			else if (!parents)
				d = NULL;
			else if ((d = strchr(d, '.')) != NULL)
				d++;
		}
		map_close(m);
	}
	buf_free(&val);
	buf_free(&mwhy);
	return r;
}

static enum pol_match
pol_net_one(const char *pat, const struct pol_ip *ip, const char *key,
    int depth, struct buf *why)
{
	struct pol_ip	 net;
	enum pol_match	 r = PM_NO, sub;
	char		*text, *p, *w;
	int		 bits, neg = 0;

	if (*pat == '!') {
		neg = 1;
		pat++;
	}
	if (*pat == '\0' || *pat == '!') {
		buf_printf(why, "mynetworks: bad pattern \"%s%s\"",
		    neg ? "!" : "", pat);
		return PM_CONFIG;
	}
	if (*pat == '/') {
		if (depth > 0) {
			buf_printf(why, "mynetworks: %s: a file inside a file",
			    pat);
			return PM_CONFIG;
		}
		if ((text = pol_read_file(pat, why)) == NULL) {
			buf_printf(why, " (mynetworks)");
			return PM_CONFIG;
		}
		for (p = text; (w = pol_token(&p)) != NULL;) {
			sub = pol_net_one(w, ip, key, depth + 1, why);
			if (sub < 0) {
				free(text);
				return sub;
			}
			if (sub != PM_NO) {
				r = sub;
				break;
			}
		}
		free(text);
	} else if (pol_parse_net(pat, &net, &bits) == 0) {
		r = ip != NULL && pol_net_match(ip, &net, bits) ? PM_YES :
		    PM_NO;
	} else if (strchr(pat, ':') != NULL && pat[0] != '[' &&
	    strchr(pat, ':') != pat) {
		if (ip == NULL)
			return PM_NO;
		if ((r = pol_list_map("mynetworks", pat, key, 0, why)) ==
		    PM_TEMP)
			return r;
	} else {
		buf_printf(why, "mynetworks: bad net/mask pattern: \"%s\"",
		    pat);
		return PM_CONFIG;
	}
	if (neg && r == PM_YES)
		return PM_NOT;
	return r;
}

/*
 * pol_net_walk - mynetworks against ip (NULL: check the syntax of
 * every entry, the files' too)
 */
static enum pol_match
pol_net_walk(const struct pol_ip *ip, struct buf *why)
{
	char		**l = conf_list("mynetworks");
	char		 key[INET6_ADDRSTRLEN];
	enum pol_match	 r = PM_NO;
	size_t		 i;

	key[0] = '\0';
	if (ip != NULL && inet_ntop(ip->family, ip->a, key, sizeof(key)) ==
	    NULL)
		key[0] = '\0';
	for (i = 0; l[i] != NULL && r == PM_NO; i++)
		r = pol_net_one(l[i], ip, key, 0, why);
	conf_list_free(l);
	return r;
}

/*
 * pol_mynetworks - whether addr is in mynetworks: PM_YES, PM_NO (also
 * for a negated match), PM_TEMP or PM_CONFIG with why; the syntax of
 * the whole list is checked first, as Postfix does at start-up
 */
static enum pol_match
pol_mynetworks(const char *addr, struct buf *why)
{
	struct pol_ip	 ip;
	enum pol_match	 r;

	if ((r = pol_net_walk(NULL, why)) != PM_NO)
		return r;
	if (addr == NULL || pol_parse_ip(addr, &ip) != 0)
		return PM_NO;
	r = pol_net_walk(&ip, why);
	return r == PM_NOT ? PM_NO : r;
}

/* policy_mynetworks - 1 when addr is in mynetworks, 0 not, -1 error */
int
policy_mynetworks(const char *addr)
{
	struct buf	 why;
	enum pol_match	 r;

	buf_init(&why, 4096);
	r = pol_mynetworks(addr, &why);
	if (r < 0)
		log_warnx("%s", buf_str(&why));
	buf_free(&why);
	return r == PM_YES ? 1 : r < 0 ? -1 : 0;
}

/*
 * Domains.
 */



/*
 * pol_dom_one - one relay_domains entry against domain, with parent
 * domains matching (Postfix's parent_domain_matches_subdomains)
 */
static enum pol_match
pol_dom_one(const char *pat, const char *domain, int depth, struct buf *why)
{
	struct buf	 mwhy;
	enum pol_match	 r = PM_NO, sub;
	char		*text, *p, *w;
	size_t		 plen, dlen = strlen(domain);
	int		 neg = 0;

	if (*pat == '!') {
		neg = 1;
		pat++;
	}
	if (*pat == '\0' || *pat == '!') {
		log_warnx("relay_domains: bad pattern \"%s%s\": ignored",
		    neg ? "!" : "", pat);
		return PM_NO;
	}
	plen = strlen(pat);
	if (plen > 1 && pat[plen - 1] == '.' && pat[plen - 2] != '.')
		plen--;			/* "example.com." */
	if (*pat == '/') {
		if (depth > 0) {
			log_warnx("relay_domains: %s: a file inside a file: "
			    "ignored", pat);
			return PM_NO;
		}
		buf_init(&mwhy, 1024);
		if ((text = pol_read_file(pat, &mwhy)) == NULL) {
			buf_printf(why, "relay_domains: %s", buf_str(&mwhy));
			buf_free(&mwhy);
			return PM_TEMP;
		}
		buf_free(&mwhy);
		for (p = text; (w = pol_token(&p)) != NULL;) {
			sub = pol_dom_one(w, domain, depth + 1, why);
			if (sub != PM_NO) {
				r = sub;
				break;
			}
		}
		free(text);
		if (r < 0)
			return r;
	} else if (*pat == '[' || *domain == '[') {
		r = plen == dlen && strncasecmp(pat, domain, plen) == 0 ?
		    PM_YES : PM_NO;
	} else if (strchr(pat, ':') != NULL) {
		/* the domain, then each parent: a.b.c, b.c, c */
		if ((r = pol_list_map("relay_domains", pat, domain, 1,
		    why)) < 0)
			return r;
	} else if (*pat == '.') {
		/* ".example.com": the subdomains only */
		r = dlen > plen && strncasecmp(domain + dlen - plen, pat,
		    plen) == 0 ? PM_YES : PM_NO;
	} else {
		/* "example.com": itself and the subdomains */
		r = (dlen == plen && strncasecmp(domain, pat, plen) == 0) ||
		    (dlen > plen && domain[dlen - plen - 1] == '.' &&
		    strncasecmp(domain + dlen - plen, pat, plen) == 0) ?
		    PM_YES : PM_NO;
	}
	if (neg && r == PM_YES)
		return PM_NOT;
	return r;
}

/* policy_domain_class - where mail for domain goes (policy.h) */
enum policy_class
policy_domain_class(const char *domain)
{
	struct buf	 why;
	enum pol_match	 r = PM_NO;
	char		**l;
	size_t		 i;

	if (domain == NULL || *domain == '\0')
		return PC_LOCAL;
	if (conf_list_has("mydestination", domain) || addr_literal_is_mine(domain))
		return PC_LOCAL;
	if (conf_list_has("virtual_mailbox_domains", domain))
		return PC_VIRTUAL;
	buf_init(&why, 4096);
	l = conf_list("relay_domains");
	for (i = 0; l[i] != NULL && r == PM_NO; i++)
		r = pol_dom_one(l[i], domain, 0, &why);
	conf_list_free(l);
	if (r < 0)
		log_warnx("%s", buf_str(&why));
	buf_free(&why);
	return r == PM_YES ? PC_RELAY : r < 0 ? PC_TEMPFAIL : PC_REMOTE;
}

/*
 * Tables.
 */

/*
 * pol_map_find - key in one table; "proxy:" is dropped and
 * "unix:passwd.byname" is getpwnam(3)
 */
static enum pol_lookup
pol_map_find(const char *spec, int flags, const char *key,
    struct buf *value, struct buf *why)
{
	struct passwd	*pw;
	struct map	*m;
	enum map_result	 mr;

	if (strncasecmp(spec, "proxy:", 6) == 0)
		spec += 6;
	if (str_casecmp_ascii(spec, "unix:passwd.byname") == 0) {
		if (*key == '\0' || strchr(key, '@') != NULL)
			return PL_NOTFOUND;
		errno = 0;
		if ((pw = getpwnam(key)) != NULL) {
			buf_reset(value);
			(void)buf_adds(value, pw->pw_name);
			return PL_FOUND;
		}
		if (errno == 0 || errno == ENOENT || errno == ESRCH ||
		    errno == EBADF || errno == EPERM)
			return PL_NOTFOUND;
		buf_printf(why, "unix:passwd.byname: %s", strerror(errno));
		return PL_ERROR;
	}
	if ((m = map_open(spec, flags, why)) == NULL)
		return errno == EPROTONOSUPPORT ? PL_UNSUPPORTED : PL_ERROR;
	mr = map_lookup(m, key, value, why);
	map_close(m);
	return mr == MAP_FOUND ? PL_FOUND : mr == MAP_NOTFOUND ?
	    PL_NOTFOUND : PL_ERROR;
}

/* pol_is_alias_map - spec is one of alias_maps (aliases(5) format) */
static int
pol_is_alias_map(const char *spec)
{
	return conf_list_has("alias_maps", spec);
}

/*
 * pol_maps_find - key in the tables of param, in order: the first
 * found wins, an error stops; an unsupported type is skipped with a
 * warning, or is PL_UNSUPPORTED when strict
 */
static enum pol_lookup
pol_maps_find(const char *param, const char *key, struct buf *value,
    int strict, struct buf *why)
{
	char		**l = conf_list(param);
	struct buf	 mwhy;
	enum pol_lookup	 r = PL_NOTFOUND;
	size_t		 i;
	int		 flags;

	buf_init(&mwhy, 1024);
	for (i = 0; l[i] != NULL && r == PL_NOTFOUND; i++) {
		buf_reset(&mwhy);
		flags = strcmp(param, "local_recipient_maps") == 0 &&
		    pol_is_alias_map(l[i]) ? MAP_F_ALIASES : 0;
		r = pol_map_find(l[i], flags, key, value, &mwhy);
		if (r == PL_UNSUPPORTED && !strict) {
			log_warnx("%s: %s: skipped", param, buf_str(&mwhy));
			r = PL_NOTFOUND;
		}
	}
	if (r == PL_ERROR || r == PL_UNSUPPORTED) {
		buf_reset(why);
		buf_printf(why, "%s: %s", param, buf_str(&mwhy));
	}
	buf_free(&mwhy);
	conf_list_free(l);
	return r;
}

/*
 * pol_split_ext - the length of local's part before its extension
 * (recipient_delimiter, as runq splits it), or strlen(local) when none
 */
static int
pol_split_ext(const char *local)
{
	const char	*delim = conf_get("recipient_delimiter"), *ext;

	if (delim == NULL || *delim == '\0' ||
	    (ext = strpbrk(local, delim)) == NULL || ext == local)
		return (int)strlen(local);
	return (int)(ext - local);
}

/* policy_local_recipient - is rcpt a known user of ours (policy.h) */
int
policy_local_recipient(const char *rcpt, struct buf *reply)
{
	static const char *const special[] = {
		"postmaster", "mailer-daemon", POL_DOUBLE_BOUNCE,
	};
	struct buf		 val, why, key;
	enum policy_class	 cls;
	enum pol_lookup		 r = PL_NOTFOUND;
	const char		*at, *domain;
	char			*local = NULL;
	size_t			 i;
	int			 n, code = 0;

	buf_init(&val, MAP_VALUE_MAX);
	buf_init(&why, 4096);
	buf_init(&key, POL_KEY_MAX);
	at = strrchr(rcpt, '@');
	domain = at != NULL ? at + 1 : "";
	cls = policy_domain_class(domain);
	if (cls == PC_TEMPFAIL)
		goto retry;
	if (cls != PC_LOCAL && cls != PC_VIRTUAL)
		goto out;

	/* virtual_alias_maps: the address, then @domain (as runq) */
	r = pol_maps_find("virtual_alias_maps", rcpt, &val, 0, &why);
	if (r == PL_NOTFOUND && at != NULL) {
		if (buf_printf(&key, "@%s", domain) != BUF_OK)
			goto nomem;
		r = pol_maps_find("virtual_alias_maps", buf_str(&key), &val, 0,
		    &why);
	}
	if (r == PL_ERROR)
		goto retry;
	if (r == PL_FOUND)
		goto out;

	if (cls == PC_VIRTUAL) {
		if (*conf_get("virtual_mailbox_maps") == '\0')
			goto out;
		r = pol_maps_find("virtual_mailbox_maps", rcpt, &val, 0, &why);
		if (r == PL_NOTFOUND && at != NULL)
			r = pol_maps_find("virtual_mailbox_maps",
			    buf_str(&key), &val, 0, &why);
		if (r == PL_ERROR)
			goto retry;
		if (r == PL_NOTFOUND)
			code = pol_set(reply, POL_VIRT_MBOX_CODE, "5.1.1",
			    "<%s>: Recipient address rejected: User unknown "
			    "in virtual mailbox table", rcpt);
		goto out;
	}

	/* A local domain: the local part as runq looks it up. */
	if (*conf_get("local_recipient_maps") == '\0')
		goto out;
	n = at != NULL ? (int)(at - rcpt) : (int)strlen(rcpt);
	if ((local = strndup(rcpt, (size_t)n)) == NULL)
		goto nomem;
	str_lower(local);
	for (i = 0; i < nitems(special); i++)
		if (strcmp(local, special[i]) == 0)
			goto out;
	r = pol_maps_find("local_recipient_maps", local, &val, 0, &why);
	n = pol_split_ext(local);
	if (r == PL_NOTFOUND && local[n] != '\0') {
		local[n] = '\0';
		r = pol_maps_find("local_recipient_maps", local, &val, 0,
		    &why);
	}
	if (r == PL_ERROR)
		goto retry;
	if (r == PL_NOTFOUND)
		code = pol_set(reply, POL_LOCAL_RCPT_CODE, "5.1.1",
		    "<%s>: Recipient address rejected: User unknown in local "
		    "recipient table", rcpt);
	goto out;

nomem:
	buf_reset(&why);
	buf_printf(&why, "out of memory");
retry:
	if (why.len > 0)
		log_warnx("%s", buf_str(&why));
	code = pol_set(reply, POL_RETRY_CODE, "4.3.0",
	    "<%s>: Temporary lookup failure", rcpt);
out:
	free(local);
	buf_free(&val);
	buf_free(&why);
	buf_free(&key);
	return code;
}

/* policy_sender_login - reject_sender_login_mismatch (policy.h) */
int
policy_sender_login(const char *sasl_user, const char *sender,
    struct buf *reply)
{
	struct buf		 val, why, keys[5];
	enum policy_class	 cls;
	enum pol_lookup		 r = PL_NOTFOUND;
	const char		*at, *domain;
	char			*local = NULL, *owners, *w;
	size_t			 i, nkeys = 0;
	int			 n, code = 0, owned = 0;

	if (sender == NULL || *sender == '\0')
		return 0;
	if (sasl_user != NULL && *sasl_user == '\0')
		sasl_user = NULL;
	buf_init(&val, MAP_VALUE_MAX);
	buf_init(&why, 4096);
	for (i = 0; i < nitems(keys); i++)
		buf_init(&keys[i], POL_KEY_MAX);
	at = strrchr(sender, '@');
	domain = at != NULL ? at + 1 : "";
	n = at != NULL ? (int)(at - sender) : (int)strlen(sender);
	if ((local = strndup(sender, (size_t)n)) == NULL)
		goto nomem;
	n = pol_split_ext(local);
	cls = policy_domain_class(domain);
	if (cls == PC_TEMPFAIL)
		goto retry;

	/* user+ext@domain, user@domain, user+ext, user, @domain */
	if (buf_adds(&keys[nkeys++], sender) != BUF_OK)
		goto nomem;
	if (local[n] != '\0' && at != NULL &&
	    buf_printf(&keys[nkeys++], "%.*s@%s", n, local, domain) != BUF_OK)
		goto nomem;
	if (cls == PC_LOCAL && at != NULL) {
		if (buf_adds(&keys[nkeys++], local) != BUF_OK)
			goto nomem;
		if (local[n] != '\0' && buf_printf(&keys[nkeys++], "%.*s", n,
		    local) != BUF_OK)
			goto nomem;
	}
	if (at != NULL && buf_printf(&keys[nkeys++], "@%s", domain) != BUF_OK)
		goto nomem;
	for (i = 0; i < nkeys && r == PL_NOTFOUND; i++)
		r = pol_maps_find("smtpd_sender_login_maps",
		    buf_str(&keys[i]), &val, 1, &why);
	if (r == PL_ERROR)
		goto retry;
	if (r == PL_UNSUPPORTED) {
		log_warnx("%s", buf_str(&why));
		code = pol_set(reply, POL_SOFTWARE_CODE, "4.3.5", "%s",
		    POL_SOFTWARE_TEXT);
		goto out;
	}
	if (sasl_user == NULL) {
		if (r == PL_FOUND)
			code = pol_set(reply, POL_LOGIN_CODE, "5.7.1", "<%s>: "
			    "Sender address rejected: not logged in", sender);
		goto out;
	}
	if (r == PL_FOUND && val.data != NULL)
		for (owners = val.data; !owned &&
		    (w = pol_token(&owners)) != NULL;)
			owned = str_casecmp_ascii(w, sasl_user) == 0;
	if (!owned)
		code = pol_set(reply, POL_LOGIN_CODE, "5.7.1", "<%s>: Sender "
		    "address rejected: not owned by user %s", sender,
		    sasl_user);
	goto out;

nomem:
	buf_reset(&why);
	buf_printf(&why, "out of memory");
retry:
	if (why.len > 0)
		log_warnx("%s", buf_str(&why));
	code = pol_set(reply, POL_RETRY_CODE, "4.3.0",
	    "<%s>: Temporary lookup failure", sender);
out:
	free(local);
	buf_free(&val);
	buf_free(&why);
	for (i = 0; i < nitems(keys); i++)
		buf_free(&keys[i]);
	return code;
}

/*
 * The client's names.
 */

/* policy_client_name - the reverse and verified names (policy.h) */
enum policy_name_status
policy_client_name(struct policy_client *c)
{
	struct dns_addr	 a, *fwd;
	struct pol_ip	 ip, tmp;
	struct buf	 why;
	enum dns_status	 st;
	size_t		 i, n;

	if (c->name_status != POLICY_NAME_UNCHECKED)
		return c->name_status;
	c->name = c->reverse_name = "unknown";
	c->name_buf[0] = '\0';
	c->name_status = c->reverse_status = POLICY_NAME_PERM;
	if (c->addr == NULL || pol_parse_ip(c->addr, &ip) != 0)
		return c->name_status;
	memset(&a, 0, sizeof(a));
	a.family = ip.family;
	memcpy(&a.a, ip.a, ip.family == AF_INET ? 4 : 16);
	buf_init(&why, 1024);
	st = dns_ptr(&a, c->name_buf, sizeof(c->name_buf), &why);
	if (st == DNS_TEMPFAIL) {
		c->name_status = c->reverse_status = POLICY_NAME_TEMP;
		goto out;
	}
	/* no PTR, or a name that is an address, is no name */
	if (st != DNS_OK || c->name_buf[0] == '\0' ||
	    pol_parse_ip(c->name_buf, &tmp) == 0) {
		c->name_buf[0] = '\0';
		goto out;
	}
	str_lower(c->name_buf);
	c->reverse_name = c->name_buf;
	c->reverse_status = POLICY_NAME_OK;

	/* forward-confirmed: the name's addresses include the client's */
	if ((fwd = calloc(DNS_RR_MAX, sizeof(*fwd))) == NULL) {
		c->name_status = POLICY_NAME_TEMP;
		goto out;
	}
	st = dns_host(c->name_buf, ip.family == AF_INET ? DNS_INET4 :
	    DNS_INET6, fwd, DNS_RR_MAX, &n, &why);
	if (st == DNS_TEMPFAIL)
		c->name_status = POLICY_NAME_TEMP;
	else {
		c->name_status = POLICY_NAME_FORGED;
		for (i = 0; st == DNS_OK && i < n; i++)
			if (fwd[i].family == ip.family && memcmp(&fwd[i].a,
			    ip.a, ip.family == AF_INET ? 4 : 16) == 0) {
				c->name_status = POLICY_NAME_OK;
				c->name = c->name_buf;
				break;
			}
	}
	free(fwd);
out:
	buf_free(&why);
	return c->name_status;
}

/*
 * Syntax checks (Postfix's valid_hostname, valid_hostaddr).
 */

/* pol_valid_hostname - LDH (and '_') labels, not all numeric */
static int
pol_valid_hostname(const char *s)
{
	size_t		 len = strlen(s), label = 0;
	int		 alpha = 0;
	const char	*p;

	if (len == 0 || len > 255)
		return 0;
	for (p = s; *p != '\0'; p++) {
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    *p == '_') {
			alpha = 1;
			label++;
		} else if (*p >= '0' && *p <= '9') {
			label++;
		} else if (*p == '-') {
			if (label == 0 || p[1] == '.' || p[1] == '\0')
				return 0;
			label++;
		} else if (*p == '.') {
			if (label == 0 || label > 63)
				return 0;
			label = 0;
		} else
			return 0;
	}
	return label > 0 && label <= 63 && alpha;
}

/* pol_valid_hostaddr - an IPv4 or IPv6 address */
static int
pol_valid_hostaddr(const char *s)
{
	unsigned char	 a[16];

	return inet_pton(AF_INET, s, a) == 1 || inet_pton(AF_INET6, s, a) == 1;
}

/* pol_valid_literal - "[1.2.3.4]", "[IPv6:...]" (or "[::1]") */
static int
pol_valid_literal(const char *s)
{
	char	 tmp[INET6_ADDRSTRLEN + 8];
	size_t	 n = strlen(s);

	if (n < 3 || s[0] != '[' || s[n - 1] != ']' || n - 2 >= sizeof(tmp))
		return 0;
	memcpy(tmp, s + 1, n - 2);
	tmp[n - 2] = '\0';
	if (strncasecmp(tmp, "IPv6:", 5) == 0) {
		unsigned char	 a[16];

		return inet_pton(AF_INET6, tmp + 5, a) == 1;
	}
	return pol_valid_hostaddr(tmp);
}

/*
 * pol_ip_pattern - a DNSBL reply filter "d.d.d.d" where each octet may
 * be "[m..n;k]" against a[4]: 1 match, 0 not, -1 malformed (decided
 * on the whole pattern, whatever the address)
 */
static int
pol_ip_pattern(const char *pat, const unsigned char *a)
{
	const char	*p = pat;
	int		 octet, lo, hi, ok = 1, hit, bracket, v, digits;

	for (octet = 0; octet < 4; octet++) {
		if (octet > 0 && *p++ != '.')
			return -1;
		bracket = *p == '[';
		if (bracket)
			p++;
		hit = 0;
		for (;;) {
			for (v = 0, digits = 0; *p >= '0' && *p <= '9' &&
			    digits < 4; p++, digits++)
				v = v * 10 + (*p - '0');
			if (digits == 0 || digits > 3 || v > 255)
				return -1;
			lo = hi = v;
			if (bracket && p[0] == '.' && p[1] == '.') {
				p += 2;
				for (v = 0, digits = 0; *p >= '0' &&
				    *p <= '9' && digits < 4; p++, digits++)
					v = v * 10 + (*p - '0');
				if (digits == 0 || digits > 3 || v > 255 ||
				    v < lo)
					return -1;
				hi = v;
			}
			if (a[octet] >= lo && a[octet] <= hi)
				hit = 1;
			if (!bracket)
				break;
			if (*p == ';') {
				p++;
				continue;
			}
			if (*p++ != ']')
				return -1;
			break;
		}
		ok = ok && hit;
	}
	return *p == '\0' ? ok : -1;
}

/*
 * The restrictions.
 */

static enum pol_status
pol_permit(struct pol_ctx *x, const char *arg)
{
	(void)x;
	(void)arg;
	return PS_OK;
}

static enum pol_status
pol_dunno(struct pol_ctx *x, const char *arg)
{
	(void)x;
	(void)arg;
	return PS_DUNNO;
}

static enum pol_status
pol_reject_all(struct pol_ctx *x, const char *arg)
{
	(void)arg;
	return pol_reject(x, 0, POL_REJECT_CODE, "5.7.1", "<%s>: Recipient "
	    "address rejected: Access denied", x->rcpt);
}

static enum pol_status
pol_defer_all(struct pol_ctx *x, const char *arg)
{
	(void)arg;
	return pol_reject(x, 0, POL_DEFER_CODE, "4.3.2", "<%s>: Recipient "
	    "address rejected: Try again later", x->rcpt);
}

static enum pol_status
pol_defer_if_permit(struct pol_ctx *x, const char *arg)
{
	(void)arg;
	pol_defer_if(x, &x->if_permit, POL_TEMP_CODE, "4.7.0", "<%s>: "
	    "Recipient address rejected: defer_if_permit requested", x->rcpt);
	return PS_DUNNO;
}

static enum pol_status
pol_defer_if_reject(struct pol_ctx *x, const char *arg)
{
	(void)arg;
	pol_defer_if(x, &x->if_reject, POL_TEMP_CODE, "4.7.0", "<%s>: "
	    "Recipient address rejected: defer_if_reject requested", x->rcpt);
	return PS_DUNNO;
}

static enum pol_status
pol_permit_mynetworks(struct pol_ctx *x, const char *arg)
{
	struct buf	 why;
	enum pol_match	 r;

	(void)arg;
	buf_init(&why, 4096);
	r = pol_mynetworks(x->c->addr, &why);
	if (r < 0)
		log_warnx("%s", buf_str(&why));
	buf_free(&why);
	if (r == PM_CONFIG)
		return pol_config_error(x);
	if (r == PM_TEMP)
		return pol_retry(x, x->c->addr);
	return r == PM_YES ? PS_OK : PS_DUNNO;
}

static enum pol_status
pol_permit_sasl(struct pol_ctx *x, const char *arg)
{
	(void)arg;
	return x->c->sasl_user != NULL && *x->c->sasl_user != '\0' ? PS_OK :
	    PS_DUNNO;
}

/* pol_auth_dest - permit_auth_destination: ours, or relay_domains */
static enum pol_status
pol_auth_dest(struct pol_ctx *x, const char *arg)
{
	const char	*at = strrchr(x->rcpt, '@');

	(void)arg;
	if (at == NULL)
		return PS_OK;		/* a bare name is ours */
	switch (policy_domain_class(at + 1)) {
	case PC_TEMPFAIL:
		return pol_retry(x, x->rcpt);
	case PC_REMOTE:
		return PS_DUNNO;
	default:
		return PS_OK;
	}
}

static enum pol_status
pol_reject_unauth(struct pol_ctx *x, const char *arg)
{
	enum pol_status	 st = pol_auth_dest(x, arg);

	if (st != PS_DUNNO)
		return st == PS_OK ? PS_DUNNO : st;
	return pol_reject(x, 0, POL_RELAY_CODE, "5.7.1",
	    "<%s>: Relay access denied", x->rcpt);
}

static enum pol_status
pol_defer_unauth(struct pol_ctx *x, const char *arg)
{
	enum pol_status	 st = pol_auth_dest(x, arg);

	if (st != PS_DUNNO)
		return st == PS_OK ? PS_DUNNO : st;
	return pol_reject(x, 0, POL_RELAY_CODE - 100, "4.7.1",
	    "<%s>: Relay access denied", x->rcpt);
}

static enum pol_status
pol_unknown_client(struct pol_ctx *x, const char *arg)
{
	enum policy_name_status	 st = policy_client_name(x->c);

	(void)arg;
	if (st == POLICY_NAME_OK)
		return PS_DUNNO;
	return pol_reject(x, 0, st == POLICY_NAME_TEMP ? POL_TEMP_CODE :
	    POL_UNK_CLIENT_CODE, "4.7.25", "Client host rejected: cannot "
	    "find your hostname, [%s]", x->c->addr);
}

static enum pol_status
pol_unknown_reverse(struct pol_ctx *x, const char *arg)
{
	(void)arg;
	(void)policy_client_name(x->c);
	if (x->c->reverse_status == POLICY_NAME_OK)
		return PS_DUNNO;
	return pol_reject(x, 0, x->c->reverse_status == POLICY_NAME_TEMP ?
	    POL_TEMP_CODE : POL_UNK_CLIENT_CODE, "4.7.25", "Client host "
	    "rejected: cannot find your reverse hostname, [%s]", x->c->addr);
}

/* pol_rbl_client - reject_rbl_client domain[=d.d.d.d] */
static enum pol_status
pol_rbl_client(struct pol_ctx *x, const char *arg)
{
	static const unsigned char zero[4];
	struct dns_addr	*ans = NULL;
	struct pol_ip	 ip;
	struct buf	 q, why;
	enum pol_status	 st = PS_DUNNO;
	enum dns_status	 ds;
	const char	*eq, *filter = NULL;
	char		 domain[DNS_NAME_MAX];
	size_t		 dlen, i, n;
	int		 j, listed = 0;

	dlen = (eq = strchr(arg, '=')) != NULL ? (size_t)(eq - arg) :
	    strlen(arg);
	if (eq != NULL)
		filter = eq + 1;
	if (dlen == 0 || dlen >= sizeof(domain)) {
		log_warnx("reject_rbl_client: bad domain \"%s\"", arg);
		return pol_config_error(x);
	}
	memcpy(domain, arg, dlen);
	domain[dlen] = '\0';
	if (!pol_valid_hostname(domain) ||
	    (filter != NULL && pol_ip_pattern(filter, zero) < 0)) {
		log_warnx("reject_rbl_client: bad argument \"%s\"", arg);
		return pol_config_error(x);
	}
	if (pol_parse_ip(x->c->addr, &ip) != 0)
		return PS_DUNNO;	/* "unknown": nothing to look up */

	buf_init(&q, DNS_NAME_MAX);
	buf_init(&why, 1024);
	if (ip.family == AF_INET)
		buf_printf(&q, "%u.%u.%u.%u.", ip.a[3], ip.a[2], ip.a[1],
		    ip.a[0]);
	else
		for (j = 15; j >= 0; j--)
			buf_printf(&q, "%x.%x.", ip.a[j] & 0xf, ip.a[j] >> 4);
	if (buf_adds(&q, domain) != BUF_OK ||
	    (ans = calloc(DNS_RR_MAX, sizeof(*ans))) == NULL) {
		ds = DNS_TEMPFAIL;
		n = 0;
	} else
		ds = dns_host(buf_str(&q), DNS_INET4, ans, DNS_RR_MAX, &n,
		    &why);
	if (ds == DNS_TEMPFAIL) {
		pol_defer_if(x, &x->if_permit, POL_TEMP_CODE, "4.7.1",
		    "Client host rejected: cannot check [%s] in %s (DNS "
		    "lookup error)", x->c->addr, domain);
		goto out;
	}
	for (i = 0; ds == DNS_OK && i < n && !listed; i++) {
		const unsigned char *a = (const unsigned char *)&ans[i].a.v4;

		if (ans[i].family != AF_INET)
			continue;
		listed = filter != NULL ? pol_ip_pattern(filter, a) == 1 :
		    a[0] == 127;
	}
	if (listed)
		st = pol_reject(x, 0, POL_RBL_CODE, "4.7.1", "Service "
		    "unavailable; Client host [%s] blocked using %s",
		    x->c->addr, domain);
out:
	free(ans);
	buf_free(&q);
	buf_free(&why);
	return st;
}

/* pol_from_code - a reply made by a policy_*() function, as a reject */
static enum pol_status
pol_from_code(struct pol_ctx *x, int code, struct buf *r)
{
	enum pol_status	 st;

	if (code == 0)
		st = PS_DUNNO;
	else
		st = pol_reject_text(x, code / 100 == 4 && r->len > 6 &&
		    strncmp(r->data + 4, "4.3.", 4) == 0, code, buf_str(r));
	buf_free(r);
	return st;
}

static enum pol_status
pol_unlisted_rcpt(struct pol_ctx *x, const char *arg)
{
	struct buf	 r;

	(void)arg;
	buf_init(&r, POLICY_REPLY_MAX);
	return pol_from_code(x, policy_local_recipient(x->rcpt, &r), &r);
}

static enum pol_status
pol_login_both(struct pol_ctx *x, const char *arg)
{
	struct buf	 r;

	(void)arg;
	buf_init(&r, POLICY_REPLY_MAX);
	return pol_from_code(x, policy_sender_login(x->c->sasl_user,
	    x->sender, &r), &r);
}

static enum pol_status
pol_login_auth(struct pol_ctx *x, const char *arg)
{
	if (x->c->sasl_user == NULL || *x->c->sasl_user == '\0')
		return PS_DUNNO;
	return pol_login_both(x, arg);
}

static enum pol_status
pol_login_unauth(struct pol_ctx *x, const char *arg)
{
	if (x->c->sasl_user != NULL && *x->c->sasl_user != '\0')
		return PS_DUNNO;
	return pol_login_both(x, arg);
}

/* pol_non_fqdn - reject_non_fqdn_{recipient,sender} for addr */
static enum pol_status
pol_non_fqdn(struct pol_ctx *x, const char *addr, const char *what)
{
	const char	*at = strrchr(addr, '@');
	const char	*d = at != NULL ? at + 1 : "";

	if (*d == '[')
		return PS_DUNNO;
	if (pol_valid_hostname(d) && strchr(d, '.') != NULL)
		return PS_DUNNO;
	return pol_reject(x, 0, POL_NON_FQDN_CODE, "4.5.2", "<%s>: %s "
	    "address rejected: need fully-qualified address", addr, what);
}

static enum pol_status
pol_non_fqdn_rcpt(struct pol_ctx *x, const char *arg)
{
	(void)arg;
	return pol_non_fqdn(x, x->rcpt, "Recipient");
}

static enum pol_status
pol_non_fqdn_sender(struct pol_ctx *x, const char *arg)
{
	(void)arg;
	if (*x->sender == '\0')
		return PS_DUNNO;
	return pol_non_fqdn(x, x->sender, "Sender");
}

/* pol_helo_name - the HELO name without one trailing dot, into buf */
static const char *
pol_helo_name(const char *helo, char *buf, size_t size)
{
	size_t	 n = strlen(helo);

	if (n > 1 && helo[n - 1] == '.' && helo[n - 2] != '.')
		n--;
	if (n >= size)
		n = size - 1;
	memcpy(buf, helo, n);
	buf[n] = '\0';
	return buf;
}

/*
 * pol_helo_decided - what the HELO checks share: 1 with *st set when
 * there is no HELO (no opinion) or it is an address literal (valid: no
 * opinion; not: Postfix's "invalid ip address"), 0 for a name
 */
static int
pol_helo_decided(struct pol_ctx *x, const char *h, enum pol_status *st)
{
	if (h == NULL)
		*st = PS_DUNNO;
	else if (*h != '[')
		return 0;
	else if (pol_valid_literal(h))
		*st = PS_DUNNO;
	else
		*st = pol_reject(x, 0, POL_BAD_NAME_CODE, "5.5.2", "<%s>: "
		    "Helo command rejected: invalid ip address", h);
	return 1;
}

static enum pol_status
pol_invalid_helo(struct pol_ctx *x, const char *arg)
{
	char		 tmp[DNS_NAME_MAX + 2];
	const char	*h = x->c->helo;
	enum pol_status	 st;

	(void)arg;
	if (pol_helo_decided(x, h, &st))
		return st;
	if (strlen(h) <= DNS_NAME_MAX && (pol_valid_hostname(pol_helo_name(h,
	    tmp, sizeof(tmp))) || pol_valid_hostaddr(tmp)))
		return PS_DUNNO;
	return pol_reject(x, 0, POL_BAD_NAME_CODE, "5.5.2", "<%s>: Helo "
	    "command rejected: Invalid name", h);
}

static enum pol_status
pol_non_fqdn_helo(struct pol_ctx *x, const char *arg)
{
	char		 tmp[DNS_NAME_MAX + 2];
	const char	*h = x->c->helo;
	enum pol_status	 st;

	(void)arg;
	if (pol_helo_decided(x, h, &st))
		return st;
	if (strlen(h) <= DNS_NAME_MAX && pol_valid_hostname(pol_helo_name(h,
	    tmp, sizeof(tmp))) && strchr(tmp, '.') != NULL)
		return PS_DUNNO;
	return pol_reject(x, 0, POL_NON_FQDN_CODE, "5.5.2", "<%s>: Helo "
	    "command rejected: need fully-qualified hostname", h);
}

/*
 * The lists.
 */

/* pol_find - the restriction called name, or NULL */
static const struct pol_restriction *
pol_find(const char *name)
{
	size_t	 i;

	for (i = 0; i < nitems(pol_restrictions); i++)
		if (str_casecmp_ascii(pol_restrictions[i].name, name) == 0)
			return &pol_restrictions[i];
	return NULL;
}

/* pol_list - evaluate one restriction list */
static enum pol_status
pol_list(struct pol_ctx *x, const char *param)
{
	const struct pol_restriction	*r;
	enum pol_status			 st = PS_DUNNO;
	char				**l = conf_list(param);
	const char			*arg;
	size_t				 i = 0;

	x->warn = 0;
	while (st == PS_DUNNO && l[i] != NULL) {
		if (str_casecmp_ascii(l[i], POL_WARN_IF_REJECT) == 0) {
			x->warn = 1;
			i++;
			continue;
		}
		if ((r = pol_find(l[i])) == NULL) {
			log_warnx("%s: unknown smtpd restriction: \"%s\"",
			    param, l[i]);
			st = pol_config_error(x);
			break;
		}
		i++;
		arg = NULL;
		if (r->flags & POL_R_ARG) {
			if (l[i] == NULL) {
				log_warnx("%s: restriction %s requires an "
				    "argument", param, r->name);
				st = pol_config_error(x);
				break;
			}
			arg = l[i++];
		}
		st = r->fn(x, arg);
		x->warn = 0;
	}
	conf_list_free(l);
	return st;
}

/*
 * pol_has_required - whether param names a restriction that rejects by
 * default (*found); -1 with the first problem in why when a name is
 * unknown or an argument is missing (the scan goes on regardless)
 */
static int
pol_has_required(const char *param, int *found, struct buf *why)
{
	const struct pol_restriction	*r;
	char				**l = conf_list(param);
	size_t				 i;
	int				 rc = 0;

	*found = 0;
	for (i = 0; l[i] != NULL; i++) {
		if (str_casecmp_ascii(l[i], POL_WARN_IF_REJECT) == 0) {
			if (l[i + 1] != NULL)
				i++;	/* the next one does not count */
			continue;
		}
		if ((r = pol_find(l[i])) == NULL) {
			if (rc == 0)
				buf_printf(why, "%s: unknown smtpd "
				    "restriction: \"%s\"", param, l[i]);
			rc = -1;
			continue;
		}
		if (r->flags & POL_R_ARG) {
			if (l[i + 1] == NULL) {
				if (rc == 0)
					buf_printf(why, "%s: restriction %s "
					    "requires an argument", param,
					    r->name);
				rc = -1;
				break;
			}
			i++;
		}
		if (r->flags & POL_R_REQUIRED)
			*found = 1;
	}
	conf_list_free(l);
	return rc;
}

/* policy_check_config - whether policy_rcpt() can work (policy.h) */
int
policy_check_config(struct buf *why)
{
	int	 relay, rcpt;

	buf_reset(why);
	if (pol_has_required("smtpd_relay_restrictions", &relay, why) < 0 ||
	    pol_has_required("smtpd_recipient_restrictions", &rcpt, why) < 0)
		return -1;
	if (!relay && !rcpt) {
		buf_printf(why, "parameters \"smtpd_relay_restrictions\" and "
		    "\"smtpd_recipient_restrictions\": specify at least one "
		    "working instance of: %s", POL_REQUIRED_TEXT);
		return -1;
	}
	if (pol_net_walk(NULL, why) < 0)
		return -1;
	return 0;
}

/* policy_rcpt - the relay and recipient restrictions (policy.h) */
int
policy_rcpt(struct policy_client *c, const char *rcpt, const char *sender,
    struct buf *reply)
{
	static const char *const lists[] = {
		"smtpd_relay_restrictions", "smtpd_recipient_restrictions",
	};
	struct pol_ctx	 x;
	struct buf	 why;
	enum pol_status	 st = PS_DUNNO;
	size_t		 i;
	int		 in_relay, in_rcpt;

	memset(&x, 0, sizeof(x));
	x.c = c;
	x.rcpt = rcpt;
	x.sender = sender != NULL ? sender : "";
	x.reply = reply;
	buf_reset(reply);
	if (c->addr == NULL)
		c->addr = "unknown";

	/* Postfix will not start without a restriction that rejects. */
	buf_init(&why, 4096);
	(void)pol_has_required(lists[0], &in_relay, &why);
	(void)pol_has_required(lists[1], &in_rcpt, &why);
	if (!in_relay && !in_rcpt) {
		log_warnx("parameters \"%s\" and \"%s\": specify at least one "
		    "working instance of: %s", lists[0], lists[1],
		    POL_REQUIRED_TEXT);
		st = pol_config_error(&x);
	}
	buf_free(&why);

	for (i = 0; i < nitems(lists) && st != PS_REJECT; i++)
		st = pol_list(&x, lists[i]);
	if (st != PS_REJECT && x.if_permit.active)
		st = pol_reject_text(&x, 1, x.if_permit.code,
		    x.if_permit.text);
	return st == PS_REJECT ? x.code : 0;
}
