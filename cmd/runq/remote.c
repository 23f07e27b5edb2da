/*
 * remote.c - delivery to other hosts: SMTP (Postfix's smtp(8)) and LMTP
 *
 * rq_remote_deliver() takes the recipients of one message that share a
 * route (transport and next hop, route.c) and gives each a result.
 *
 * SMTP.  The next hop "domain" is looked up in DNS (dns_mx: MX records
 * by preference, shuffled among equals, the implicit MX, null MX,
 * "loops back to myself"); "[host]" is resolved without MX (dns_host).
 * The addresses (at most smtp_mx_address_limit) are tried in order:
 * a connection that fails, a greeting or EHLO that is refused, a
 * session that breaks, and recipients deferred with a 4xx reply all
 * move on to the next address, for the recipients still deferred only,
 * until smtp_mx_session_limit sessions have been had.  A recipient
 * accepted or refused (5xx) by one host is never sent again.  DNS
 * failures: a name that does not exist bounces 5.1.2 (4.4.4 when the
 * next hop is not the recipient's domain, i.e. relayhost or a
 * transport_maps entry: that is a configuration problem, not the
 * recipient's), a null MX bounces 5.1.10, a loop 5.4.6, and a temporary
 * failure defers 4.4.3.
 *
 * Sessions are kept.  A session that carried a transaction to its end
 * stays in the cache under its route key; the next message for the
 * same route goes over it after RSET (smtp_next).  A cached session
 * that turns out to be dead is closed and the recipients go over a new
 * one.  rq_conncache_free() says QUIT to every session left.  A worker
 * process serves one route (queue.c), so one entry is what it uses;
 * -I, which delivers one message to all its routes, uses several.
 *
 * TLS and AUTH.  smtp_tls_security_level (none may encrypt verify
 * secure), smtp_tls_CAfile/CApath (else the system store), the names a
 * certificate must match (smtp_tls_verify_cert_match: hostname;
 * smtp_tls_secure_cert_match: nexthop, dot-nexthop), and implicit TLS
 * (smtp_tls_wrappermode) are passed to smtp.c.  Under "may" a failed
 * handshake is retried in plaintext on a new connection.  With
 * smtp_sasl_auth_enable, smtp_sasl_password_maps gives "user:password"
 * for the server's host name, else the next hop as written ("[host]:
 * port"), else the next hop without port and brackets.  The maps are
 * opened by rq_remote_prepare() while the worker is still root (the
 * file is readable by root only); the worker then becomes mail_owner
 * before it talks to anybody.  smtp_sasl_security_options (sessions
 * without TLS) with noplaintext (Postfix's default) forbids PLAIN and
 * LOGIN there; smtp_sasl_tls_security_options does the same for TLS
 * sessions.  Passwords are never logged or written to the queue.
 *
 * Logging: the connection failures ("connect to mx[192.0.2.1]:25:
 * Connection refused"), the TLS line ("Trusted TLS connection
 * established to ..."), and, by queue.c, each recipient's outcome with
 * relay=host[addr]:port.
 */
#include <sys/types.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/conf.h"
#include "common/dns.h"
#include "common/idn.h"
#include "common/log.h"
#include "common/map.h"
#include "common/smtpio.h"
#include "common/tls.h"
#include "common/util.h"
#include "cmd/runq/runq.h"
#include "cmd/runq/smtp.h"

#define RQ_CONN_MAX	4	/* sessions one process keeps open */
#define RQ_CRED_MAX	512	/* "user:password" */

struct rq_conn {
	char		 key[RQ_KEY_MAX];
	struct smtp	*s;
	char		 relay[RQ_RELAY_MAX];	/* "host[addr]:port" */
	char		 addr[DNS_NAME_MAX];	/* "192.0.2.1" */
	int		 used;		/* RSET before the next transaction */
	int		 tls;		/* TLS is on */
};

struct rq_conncache {
	struct runq	*rq;
	struct rq_conn	 conn[RQ_CONN_MAX];
	struct tls_ctx	*tls;
	int		 tls_failed;	/* the context could not be made */
	struct map	**pw;		/* smtp_sasl_password_maps */
	size_t		 npw;
	int		 prepared;
};

/* One delivery's working state. */
struct rq_rx {
	struct rq_msgctx	*c;
	const struct rq_route	*rt;
	struct rq_conncache	*cc;
	struct smtp_rcpt	*rcpts;
	struct rq_result	*res;
	const size_t		*idx;
	size_t			 n;
	char			 host[DNS_NAME_MAX];	/* of the next hop */
	int			 port;
	int			 mx;
	int			 own;	/* the next hop is the rcpt domain */
	int			 sessions;
	struct dlv_result	 last;	/* the latest session-wide failure */
	char			 lastrelay[RQ_RELAY_MAX];
	struct dlv_msg		 dm;
};

struct rq_conncache *
rq_conncache_new(struct runq *rq)
{
	struct rq_conncache	*cc = xcalloc(1, sizeof(*cc));

	cc->rq = rq;
	return cc;
}

/* remote_drop - close one cached session (QUIT when it is sound) */
static void
remote_drop(struct rq_conn *k)
{
	k->s = smtp_close(k->s);
	k->key[0] = '\0';
	k->used = 0;
}

void
rq_conncache_free(struct rq_conncache *cc)
{
	size_t	 i;

	if (cc == NULL)
		return;
	for (i = 0; i < RQ_CONN_MAX; i++)
		if (cc->conn[i].s != NULL)
			remote_drop(&cc->conn[i]);
	for (i = 0; i < cc->npw; i++)
		map_close(cc->pw[i]);
	free(cc->pw);
	cc->tls = tls_ctx_free(cc->tls);
	free(cc);
}

/*
 * rq_remote_prepare - open smtp_sasl_password_maps, then, as root,
 * become mail_owner for good; -1 when the identity cannot be changed
 */
int
rq_remote_prepare(struct runq *rq, struct rq_conncache *cc)
{
	struct buf	 why;
	struct map	*mp;
	char		**specs;
	size_t		 i;

	if (cc->prepared)
		return 0;
	cc->prepared = 1;
	buf_init(&why, 1024);
	if (conf_bool("smtp_sasl_auth_enable")) {
		specs = conf_list("smtp_sasl_password_maps");
		for (i = 0; specs[i] != NULL; i++) {
			buf_reset(&why);
			if ((mp = map_open(specs[i], 0, &why)) == NULL) {
				log_warnx("smtp_sasl_password_maps: %s",
				    buf_str(&why));
				continue;
			}
			if (map_is_stale(mp))
				log_warnx("smtp_sasl_password_maps: %s is "
				    "newer than its database: run newaliases "
				    "-m", map_source(mp));
			cc->pw = xreallocarray(cc->pw, cc->npw + 1,
			    sizeof(*cc->pw));
			cc->pw[cc->npw++] = mp;
		}
		conf_list_free(specs);
	}
	buf_free(&why);
	if (!rq->root || rq->owner_uid == 0)
		return 0;	/* a private spool: we are mail_owner */
	if (setgroups(1, &rq->drop_gid) != 0 ||
	    setresgid(rq->owner_gid, rq->owner_gid, rq->owner_gid) != 0 ||
	    setresuid(rq->owner_uid, rq->owner_uid, rq->owner_uid) != 0 ||
	    getuid() != rq->owner_uid || geteuid() != rq->owner_uid ||
	    setuid(0) == 0) {
		log_warn("cannot become mail_owner for remote delivery");
		return -1;
	}
	return 0;
}

/*
 * remote_sasl - credentials for a server: "user:password" in out, 1;
 * 0 when there are none
 */
static int
remote_sasl(struct rq_rx *x, const char *mxhost, char *out, size_t outsz)
{
	struct buf	 val, why, key;
	const char	*keys[3];
	size_t		 i, j;
	int		 found = 0;

	if (x->cc->npw == 0 || !conf_bool("smtp_sasl_auth_enable"))
		return 0;
	buf_init(&val, RQ_CRED_MAX + 16);
	buf_init(&why, 1024);
	buf_init(&key, 1024);
	buf_adds(&key, x->host);
	keys[0] = mxhost;
	keys[1] = x->rt->nexthop;
	keys[2] = buf_str(&key);
	for (i = 0; i < 3 && !found; i++) {
		if (keys[i] == NULL || *keys[i] == '\0')
			continue;
		for (j = 0; j < x->cc->npw && !found; j++) {
			buf_reset(&val);
			switch (map_lookup(x->cc->pw[j], keys[i], &val, &why)) {
			case MAP_FOUND:
				found = str_copy(out, outsz, buf_str(&val)) ==
				    0 && strchr(out, ':') != NULL;
				if (!found)
					log_warnx("smtp_sasl_password_maps: "
					    "entry for %s is not user:password",
					    keys[i]);
				break;
			case MAP_ERROR:
				log_warnx("smtp_sasl_password_maps: %s",
				    buf_str(&why));
				break;
			default:
				break;
			}
		}
	}
	buf_free(&val);
	buf_free(&why);
	buf_free(&key);
	return found;
}


/* remote_level - smtp_tls_security_level; -1 when it is not a level */
static int
remote_level(void)
{
	const char	*v = conf_get("smtp_tls_security_level");
	enum tls_level	 lev;

	if (*v == '\0')
		return TLS_LEV_NONE;
	if (tls_level_parse(v, &lev) != 0)
		return -1;
	return (int)lev;
}

/* remote_matches - the names a certificate may match, for verify/secure */
static const char **
remote_matches(struct rq_rx *x, int level, const char *mxhost,
    struct buf *store)
{
	char		**l;
	const char	**out;
	size_t		  i, n = 0, *offs;

	l = conf_list(level == TLS_LEV_SECURE ? "smtp_tls_secure_cert_match" :
	    "smtp_tls_verify_cert_match");
	for (i = 0; l[i] != NULL; i++)
		;
	out = xcalloc(i + 1, sizeof(*out));
	offs = xcalloc(i + 1, sizeof(*offs));
	buf_reset(store);
	for (i = 0; l[i] != NULL; i++) {
		offs[n++] = store->len;
		if (strcasecmp(l[i], "hostname") == 0)
			buf_adds(store, mxhost);
		else if (strcasecmp(l[i], "nexthop") == 0)
			buf_adds(store, x->host);
		else if (strcasecmp(l[i], "dot-nexthop") == 0)
			buf_printf(store, ".%s", x->host);
		else
			buf_adds(store, l[i]);
		buf_addc(store, '\0');
	}
	for (i = 0; i < n; i++)
		out[i] = store->data + offs[i];
	out[n] = NULL;
	free(offs);
	conf_list_free(l);
	return out;
}

/* remote_opts - the session options for one server */
static void
remote_opts(struct rq_rx *x, struct smtp_opts *o, int level,
    const char *mxhost, const char *addr)
{
	static const char *const tnames[SMTP_TO_MAX] = {
		"smtp_connect_timeout", "smtp_helo_timeout",
		"smtp_starttls_timeout", "smtp_mail_timeout",
		"smtp_rcpt_timeout", "smtp_data_init_timeout",
		"smtp_data_xfer_timeout", "smtp_data_done_timeout",
		"smtp_quit_timeout", "smtp_rset_timeout",
	};
	size_t	 i;

	memset(o, 0, sizeof(*o));
	o->helo_name = conf_get("smtp_helo_name");
	o->peername = mxhost;
	o->peeraddr = addr;
	o->tls_level = level;
	o->tls_ctx = x->cc->tls;
	for (i = 0; i < SMTP_TO_MAX; i++)
		o->timeouts[i] = (int)conf_time(tnames[i]);
	o->auth_plaintext = !conf_list_has("smtp_sasl_security_options",
	    "noplaintext");
}

/* remote_tls_ctx - the TLS context, made once; NULL when it cannot be */
static struct tls_ctx *
remote_tls_ctx(struct rq_conncache *cc, struct buf *why)
{
	const char	*cafile, *capath;

	if (cc->tls != NULL || cc->tls_failed)
		return cc->tls;
	cafile = conf_get("smtp_tls_CAfile");
	capath = conf_get("smtp_tls_CApath");
	cc->tls = tls_client_ctx_new(*cafile ? cafile : NULL,
	    *capath ? capath : NULL, why);
	if (cc->tls == NULL) {
		cc->tls_failed = 1;
		log_warnx("cannot set up TLS: %s", buf_str(why));
	}
	return cc->tls;
}

/* remote_set_last - remember the latest session-wide failure */
static void
remote_set_last(struct rq_rx *x, const struct dlv_result *r,
    const char *relay)
{
	x->last = *r;
	str_copy(x->lastrelay, sizeof(x->lastrelay), relay);
}

/*
 * remote_session - connect to one address and open a session; the
 * session, or NULL with x->last set
 */
static struct smtp *
remote_session(struct rq_rx *x, const char *mxhost, const char *addr,
    char *relay, size_t relaysz, int *tls_on)
{
	struct smtp_opts	 o;
	struct smtp		*s;
	struct dlv_result	 r;
	struct buf		 why, names;
	const char		**match = NULL;
	char			 dest[DNS_NAME_MAX + 16], cred[RQ_CRED_MAX];
	char			*pass;
	const char		*reason;
	int			 level, fd, rc, tries;

	buf_init(&why, 1024);
	buf_init(&names, 4096);
	bsnprintf(relay, relaysz, "%s[%s]:%d", mxhost, addr, x->port);
	level = remote_level();
	if (level < 0) {
		dlv_set(&r, DLV_DEFER, "4.3.5", "invalid "
		    "smtp_tls_security_level: %s",
		    conf_get("smtp_tls_security_level"));
		remote_set_last(x, &r, "none");
		s = NULL;
		goto out;
	}
	if (conf_bool("smtp_tls_wrappermode") && level == TLS_LEV_NONE)
		level = TLS_LEV_ENCRYPT;
	if (level != TLS_LEV_NONE && remote_tls_ctx(x->cc, &why) == NULL) {
		if (level != TLS_LEV_MAY) {
			dlv_set(&r, DLV_DEFER, "4.7.5", "TLS is required, but "
			    "cannot be set up: %s", buf_str(&why));
			remote_set_last(x, &r, "none");
			s = NULL;
			goto out;
		}
		level = TLS_LEV_NONE;
	}
	cred[0] = '\0';
	pass = NULL;
	if (remote_sasl(x, mxhost, cred, sizeof(cred)) &&
	    (pass = strchr(cred, ':')) != NULL)
		*pass++ = '\0';
	for (tries = 0; tries < 2; tries++) {
		remote_opts(x, &o, level, mxhost, addr);
		o.wrapper = conf_bool("smtp_tls_wrappermode");
		o.line_limit = (int)conf_int("smtp_line_length_limit");
		if (level >= TLS_LEV_VERIFY)
			o.tls_match = match = remote_matches(x, level, mxhost,
			    &names);
		if (pass != NULL) {
			o.auth_user = cred;
			o.auth_pass = pass;
			o.auth_tls_noplaintext = conf_list_has(
			    "smtp_sasl_tls_security_options", "noplaintext");
		}
		bsnprintf(dest, sizeof(dest), "[%s]:%d", addr, x->port);
		buf_reset(&why);
		fd = smtpio_connect(dest, "25", o.timeouts[SMTP_TO_CONNECT],
		    &why);
		if (fd < 0) {
			reason = strrchr(buf_str(&why), ':');
			reason = reason != NULL ? reason + 2 : buf_str(&why);
			dlv_set(&r, DLV_DEFER, "4.4.1", "connect to %s: %s",
			    relay, reason);
			log_mail("smtp", "connect to %s: %s", relay, reason);
			remote_set_last(x, &r, "none");
			s = NULL;
			break;
		}
		rc = smtp_open(fd, &o, &s, &r);
		free(match);
		match = NULL;
		if (rc == SMTP_OK) {
			x->sessions++;
			if (*smtp_tls_info(s) != '\0') {
				*tls_on = 1;
				log_mail("smtp", "%s", smtp_tls_info(s));
			}
			break;
		}
		s = smtp_close(s);
		if (rc == SMTP_RETRY_PLAIN && level == TLS_LEV_MAY) {
			log_mail("smtp", "%s: %s; retrying without TLS",
			    relay, r.text);
			level = TLS_LEV_NONE;
			continue;
		}
		if (rc == SMTP_REFUSED)
			x->sessions++;
		remote_set_last(x, &r, relay);
		break;
	}
	free(match);
out:
	explicit_bzero(cred, sizeof(cred));
	buf_free(&why);
	buf_free(&names);
	return s;
}

/*
 * remote_send - one transaction over k for the recipients still
 * deferred; 0 when the session is still good, -1 when it broke
 */
static int
remote_send(struct rq_rx *x, struct rq_conn *k)
{
	struct smtp_rcpt	*sub;
	struct dlv_result	 r;
	size_t			*map, i, m = 0;
	int			 rc;

	sub = xcalloc(x->n, sizeof(*sub));
	map = xcalloc(x->n, sizeof(*map));
	for (i = 0; i < x->n; i++) {
		if (x->res[i].r.status != DLV_DEFER)
			continue;
		sub[m] = x->rcpts[i];
		map[m++] = i;
	}
	if (k->used && smtp_next(k->s, &r) != SMTP_OK) {
		free(sub);
		free(map);
		return -1;
	}
	k->used = 1;
	rc = smtp_send(k->s, &x->dm, x->c->m->ret, x->c->m->envid, sub, m,
	    &r);
	for (i = 0; i < m; i++) {
		struct rq_result	*res = &x->res[map[i]];

		res->r = sub[i].result;
		str_copy(res->relaybuf, sizeof(res->relaybuf), k->relay);
		res->relay = res->relaybuf;
	}
	if (rc != SMTP_OK)
		remote_set_last(x, &r, k->relay);
	free(sub);
	free(map);
	return rc == SMTP_OK ? 0 : -1;
}

/* remote_left - recipients still deferred */
static size_t
remote_left(const struct rq_rx *x)
{
	size_t	 i, n = 0;

	for (i = 0; i < x->n; i++)
		if (x->res[i].r.status == DLV_DEFER)
			n++;
	return n;
}

/* remote_cache_slot - where a new session for key goes */
static struct rq_conn *
remote_cache_slot(struct rq_conncache *cc, const char *key)
{
	size_t	 i;

	for (i = 0; i < RQ_CONN_MAX; i++)
		if (strcmp(cc->conn[i].key, key) == 0 || cc->conn[i].s == NULL)
			break;
	if (i == RQ_CONN_MAX)
		i = 0;		/* the oldest goes */
	if (cc->conn[i].s != NULL)
		remote_drop(&cc->conn[i]);
	return &cc->conn[i];
}

/* remote_resolve - the addresses of the next hop; -1 with x->last set */
static int
remote_resolve(struct rq_rx *x, struct dns_addr *addrs, size_t max,
    size_t *n)
{
	struct buf	 why;
	struct dlv_result r;
	enum dns_status	 st;
	int		 fam, own;

	buf_init(&why, 1024);
	if (dns_families(conf_get("inet_protocols"), &fam, &why) != 0) {
		dlv_set(&r, DLV_DEFER, "4.3.5", "%s", buf_str(&why));
		remote_set_last(x, &r, "none");
		buf_free(&why);
		return -1;
	}
	if (x->mx)
		st = dns_mx(x->host, fam, conf_get("myhostname"), addrs, max,
		    n, &why);
	else {
		struct in6_addr	 a6;
		char		 lit[DNS_NAME_MAX + 8];
		const char	*h = x->host;

		/* dns_host() knows addresses as literals: "[v4]", "[IPv6:v6]" */
		if (inet_pton(AF_INET6, h, &a6) == 1)
			h = bsnprintf(lit, sizeof(lit), "[IPv6:%s]", h) == 0 ?
			    lit : h;
		else if (inet_pton(AF_INET, h, &a6) == 1)
			h = bsnprintf(lit, sizeof(lit), "[%s]", h) == 0 ?
			    lit : h;
		st = dns_host(h, fam, addrs, max, n, &why);
	}
	own = x->own;
	switch (st) {
	case DNS_OK:
		buf_free(&why);
		return 0;
	case DNS_NOTFOUND:
		if (own)
			dlv_set(&r, DLV_BOUNCE, "5.1.2", "%s", buf_str(&why));
		else
			dlv_set(&r, DLV_DEFER, "4.4.4", "%s", buf_str(&why));
		break;
	case DNS_NULLMX:
		dlv_set(&r, own ? DLV_BOUNCE : DLV_DEFER, own ? "5.1.10" :
		    "4.4.4", "%s", buf_str(&why));
		break;
	case DNS_LOOP:
		dlv_set(&r, DLV_BOUNCE, "5.4.6", "%s", buf_str(&why));
		break;
	default:
		dlv_set(&r, DLV_DEFER, "4.4.3", "%s", buf_str(&why));
		break;
	}
	remote_set_last(x, &r, "none");
	buf_free(&why);
	return -1;
}

/*
 * remote_host_alabel - the next hop's internationalized name as
 * A-labels for DNS; -1 with every result set when it has none
 */
static int
remote_host_alabel(struct rq_rx *x)
{
	struct buf	 out, why;
	size_t		 i;
	int		 rc = 0;

	buf_init(&out, 1024);
	buf_init(&why, 1024);
	if (idn_to_ascii(x->host, &out, &why) == 0 &&
	    str_copy(x->host, sizeof(x->host), buf_str(&out)) == 0)
		goto done;
	for (i = 0; i < x->n; i++)
		dlv_set(&x->res[i].r, DLV_BOUNCE, "5.1.2", "%s",
		    why.len ? buf_str(&why) : "domain name too long");
	rc = -1;
done:
	buf_free(&out);
	buf_free(&why);
	return rc;
}

/* remote_smtp - the SMTP route: see the top of the file */
static void
remote_smtp(struct rq_rx *x)
{
	struct dns_addr	 addrs[64];
	struct rq_conn	*k = NULL, fresh;
	char		 addr[DNS_NAME_MAX], tried[DNS_NAME_MAX];
	size_t		 i, naddr = 0, max;
	int		 limit, broke;

	tried[0] = '\0';
	/* A session kept from an earlier message first. */
	for (i = 0; i < RQ_CONN_MAX; i++)
		if (x->cc->conn[i].s != NULL &&
		    strcmp(x->cc->conn[i].key, x->rt->key) == 0)
			k = &x->cc->conn[i];
	if (k != NULL) {
		broke = remote_send(x, k);
		str_copy(tried, sizeof(tried), k->addr);
		if (broke)
			remote_drop(k);
		if (remote_left(x) == 0)
			goto out;
		if (broke) {
			/* A dead cached session is no attempt: again. */
			for (i = 0; i < x->n; i++)
				if (x->res[i].r.status == DLV_DEFER &&
				    strcmp(x->res[i].r.dsn, "4.4.2") == 0)
					tried[0] = '\0';
		}
	}
	max = (size_t)conf_int("smtp_mx_address_limit");
	if (max == 0 || max > nitems(addrs))
		max = nitems(addrs);
	if (remote_resolve(x, addrs, max, &naddr) != 0)
		goto out;
	limit = (int)conf_int("smtp_mx_session_limit");
	for (i = 0; i < naddr && remote_left(x) > 0; i++) {
		struct smtp	*s;
		int		 tls_on = 0;

		if (limit > 0 && x->sessions >= limit)
			break;
		if (dns_addr_str(&addrs[i], addr, sizeof(addr)) != 0 ||
		    strcmp(addr, tried) == 0)
			continue;
		memset(&fresh, 0, sizeof(fresh));
		s = remote_session(x, x->mx ? addrs[i].host : x->host, addr,
		    fresh.relay, sizeof(fresh.relay), &tls_on);
		if (s == NULL)
			continue;
		k = remote_cache_slot(x->cc, x->rt->key);
		*k = fresh;
		k->s = s;
		k->tls = tls_on;
		str_copy(k->key, sizeof(k->key), x->rt->key);
		str_copy(k->addr, sizeof(k->addr), addr);
		if (remote_send(x, k) != 0)
			remote_drop(k);
	}
out:
	if (x->last.dsn[0] == '\0') {
		dlv_set(&x->last, DLV_DEFER, "4.4.1", "no address of %s "
		    "could be tried", x->rt->nexthop);
		str_copy(x->lastrelay, sizeof(x->lastrelay), "none");
	}
	/* Whoever is left gets the last session-wide failure. */
	for (i = 0; i < x->n; i++) {
		struct rq_result	*res = &x->res[i];

		if (res->r.status != DLV_DEFER || x->last.dsn[0] == '\0')
			continue;
		if (strcmp(res->r.dsn, "4.4.2") == 0 &&
		    strcmp(res->r.text, "not tried") == 0) {
			res->r = x->last;
			str_copy(res->relaybuf, sizeof(res->relaybuf),
			    x->lastrelay);
			res->relay = res->relaybuf;
		}
	}
}

/* remote_lmtp - the LMTP route: one session per message */
static void
remote_lmtp(struct rq_rx *x)
{
	struct lmtp_rcpt	*lr;
	struct dlv_result	 r;
	size_t			 i;

	lr = xcalloc(x->n, sizeof(*lr));
	for (i = 0; i < x->n; i++)
		lr[i].addr = x->rcpts[i].addr;
	lmtp_deliver(x->rt->nexthop, &x->dm, lr, x->n, 0, &r);
	for (i = 0; i < x->n; i++) {
		x->res[i].r = lr[i].result;
		str_copy(x->res[i].relaybuf, sizeof(x->res[i].relaybuf),
		    x->rt->nexthop);
		x->res[i].relay = x->res[i].relaybuf;
	}
	free(lr);
}

/*
 * remote_alabel - addr with its internationalized domain as A-labels
 * when the local part is ASCII (then the address needs no SMTPUTF8,
 * RFC 6531 section 3.2), or NULL to send it as it is
 */
static char *
remote_alabel(const char *addr)
{
	struct buf	 out, why;
	const char	*at = strrchr(addr, '@');
	char		*local, *res = NULL;

	if (at == NULL || !str_has_8bit(at + 1))
		return NULL;
	local = xstrndup(addr, (size_t)(at - addr));
	buf_init(&out, 1024);
	buf_init(&why, 1024);
	if (!str_has_8bit(local) && idn_to_ascii(at + 1, &out, &why) == 0) {
		struct buf	 a;

		buf_init(&a, SPOOL_ADDR_MAX + 1100);
		buf_printf(&a, "%s@%s", local, buf_str(&out));
		res = xstrdup(buf_str(&a));
		buf_free(&a);
	}
	free(local);
	buf_free(&out);
	buf_free(&why);
	return res;
}

/*
 * remote_orcpt - "rfc822;" and addr in xtext (RFC 3461: '+', '=' and
 * bytes outside 33..126 as +XX), or NULL when addr is not ASCII
 */
static char *
remote_orcpt(const char *addr)
{
	struct buf	 b;
	const unsigned char *p;
	char		*out;

	if (str_has_8bit(addr))
		return NULL;
	buf_init(&b, 4 * SPOOL_ADDR_MAX + 64);
	buf_adds(&b, "rfc822;");
	for (p = (const unsigned char *)addr; *p != '\0'; p++) {
		if (*p < 33 || *p > 126 || *p == '+' || *p == '=')
			buf_printf(&b, "+%02X", *p);
		else
			buf_addc(&b, *p);
	}
	out = xstrdup(buf_str(&b));
	buf_free(&b);
	return out;
}

/*
 * rq_remote_deliver - deliver the recipients idx[0..n) of c's message
 * over route rt; each res[i] gets its outcome
 */
void
rq_remote_deliver(struct rq_msgctx *c, const struct rq_route *rt,
    const size_t *idx, struct rq_result *res, size_t n,
    struct rq_conncache *cc)
{
	struct rq_rx	 x;
	struct buf	 why;
	char		**notify, **orcpt, **alabel, *sender;
	size_t		 i;

	memset(&x, 0, sizeof(x));
	x.c = c;
	x.rt = rt;
	x.cc = cc;
	x.res = res;
	x.idx = idx;
	x.n = n;
	x.rcpts = xcalloc(n, sizeof(*x.rcpts));
	notify = xcalloc(n, sizeof(*notify));
	orcpt = xcalloc(n, sizeof(*orcpt));
	alabel = xcalloc(n, sizeof(*alabel));
	sender = remote_alabel(c->m->sender);
	x.dm.fd = c->m->fd;
	x.dm.off = c->m->content_off;
	x.dm.len = c->m->content_len;
	x.dm.queue_id = c->m->id;
	x.dm.sender = sender != NULL ? sender : c->m->sender;
	x.dm.arrival = c->arrival;
	for (i = 0; i < n; i++) {
		struct spool_rcpt	*r = &c->m->rcpt[idx[i]];

		alabel[i] = remote_alabel(r->addr);
		x.rcpts[i].addr = alabel[i] != NULL ? alabel[i] : r->addr;
		/* Without an ORCPT of its own, the address as queued (as
		 * Postfix's smtp(8) sends its original recipient). */
		x.rcpts[i].orcpt = r->orcpt != NULL ? r->orcpt :
		    (orcpt[i] = remote_orcpt(r->addr));
		/* NOTIFY keywords as RFC 3461 writes them (Postfix too) */
		if (r->notify != NULL) {
			notify[i] = xstrdup(r->notify);
			str_upper(notify[i]);
		}
		x.rcpts[i].notify = notify[i];
		res[i].service = rt->kind == RT_LMTP ? "lmtp" : "smtp";
		res[i].relay = "none";
		dlv_set(&res[i].r, DLV_DEFER, "4.4.2", "not tried");
	}
	buf_init(&why, 512);
	if (rt->kind == RT_LMTP)
		remote_lmtp(&x);
	else if (rq_nexthop_parse(rt->nexthop, x.host, sizeof(x.host),
	    &x.port, &x.mx, &why) != 0) {
		for (i = 0; i < n; i++)
			dlv_set(&res[i].r, DLV_DEFER, "4.3.5", "%s",
			    buf_str(&why));
	} else {
		if (conf_bool("smtp_tls_wrappermode") &&
		    strchr(rt->nexthop, ']') != NULL &&
		    strstr(rt->nexthop, "]:") == NULL)
			x.port = 465;
		/* Is the next hop the recipients' own domain? */
		{
			const char	*at = strrchr(c->m->rcpt[idx[0]].addr,
					    '@');

			x.own = x.mx && x.port == 25 && at != NULL &&
			    str_casecmp_ascii(rt->nexthop, at + 1) == 0;
		}
		/* A name without A-labels has given every result. */
		if (!str_has_8bit(x.host) || remote_host_alabel(&x) == 0)
			remote_smtp(&x);
	}
	buf_free(&why);
	for (i = 0; i < n; i++) {
		free(notify[i]);
		free(orcpt[i]);
		free(alabel[i]);
	}
	free(notify);
	free(orcpt);
	free(alabel);
	free(sender);
	free(x.rcpts);
}
