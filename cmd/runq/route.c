/*
 * route.c - which transport and next hop a recipient goes to, as
 * Postfix's trivial-rewrite(8) decides it
 *
 * The default choice by the recipient's domain: mydestination (and
 * this host's own [address] literals) go to local, virtual mailbox
 * domains to virtual, everything else to default_transport ("smtp"),
 * whose next hop is taken, in order, from default_transport's own
 * ":nexthop", relayhost, or the recipient domain.
 *
 * transport_maps override that.  Keys are tried in transport(5)'s
 * order: the whole address, the address without its extension (when
 * recipient_delimiter is set), the domain, each parent domain as
 * ".parent" (walking up), and "*".  The first map of the list that has
 * a key wins.  A result is "transport:nexthop":
 *	":" or ""		nothing changes (the default above)
 *	"smtp:"			that transport, next hop the recipient domain
 *	":[gw.example]"		the default transport, that next hop
 *	"smtp:[gw]:587"		both
 * Transports: smtp and relay (remote SMTP), lmtp (LMTP, next hop
 * "unix:/path", "inet:host:port" or "[host]:port"), local, virtual,
 * error (bounce with the next hop as text: "error:5.1.1 no such
 * user"), retry (defer the same way), discard (drop it, logged as
 * sent).  Any other name defers, as Postfix does when master.cf lacks
 * the service ("4.3.5 mail transport unavailable").
 *
 * A map that cannot be read defers the recipient (4.3.0), as Postfix's
 * "transport table lookup failure".  Maps are opened once per process
 * and kept (rq_route_close releases them).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/buf.h"
#include "common/conf.h"
#include "common/log.h"
#include "common/map.h"
#include "common/util.h"
#include "cmd/runq/runq.h"

static struct map	**route_maps;	/* transport_maps, opened once */
static size_t		  route_nmaps;
static int		  route_opened;

/* route_open_maps - transport_maps, once; -1 when one cannot be opened */
static int
route_open_maps(struct buf *why)
{
	char		**specs;
	struct map	 *mp;
	size_t		  i;

	if (route_opened)
		return 0;
	specs = conf_list("transport_maps");
	for (i = 0; specs[i] != NULL; i++) {
		buf_reset(why);
		if ((mp = map_open(specs[i], 0, why)) == NULL) {
			if (errno == EPROTONOSUPPORT) {
				log_warnx("transport_maps: %s", buf_str(why));
				continue;
			}
			conf_list_free(specs);
			rq_route_close();
			return -1;
		}
		if (map_is_stale(mp))
			log_warnx("transport_maps: %s is newer than its "
			    "database: run newaliases -m", map_source(mp));
		route_maps = xreallocarray(route_maps, route_nmaps + 1,
		    sizeof(*route_maps));
		route_maps[route_nmaps++] = mp;
	}
	conf_list_free(specs);
	route_opened = 1;
	return 0;
}

/* rq_route_close - release the maps (the next rq_route reopens them) */
void
rq_route_close(void)
{
	size_t	 i;

	for (i = 0; i < route_nmaps; i++)
		map_close(route_maps[i]);
	free(route_maps);
	route_maps = NULL;
	route_nmaps = 0;
	route_opened = 0;
}

/* route_lookup - one key in the maps, in order: 1 found, 0 not, -1 error */
static int
route_lookup(const char *key, struct buf *value, struct buf *why)
{
	size_t	 i;
	int	 rc;

	for (i = 0; i < route_nmaps; i++) {
		buf_reset(value);
		if ((rc = map_lookup(route_maps[i], key, value, why)) != 0)
			return rc < 0 ? -1 : 1;
	}
	return 0;
}

/*
 * route_search - transport(5)'s search order for addr; 1 with the value
 * in value, 0 when nothing matches, -1 on a map error
 */
static int
route_search(const char *addr, struct buf *value, struct buf *why)
{
	struct buf	 key;
	const char	*at, *delim, *d;
	size_t		 ext;
	int		 rc;

	if (route_nmaps == 0)
		return 0;
	buf_init(&key, SPOOL_ADDR_MAX + 16);
	at = strrchr(addr, '@');
	if ((rc = route_lookup(addr, value, why)) != 0)
		goto out;
	delim = conf_get("recipient_delimiter");
	if (at != NULL && *delim != '\0' &&
	    (ext = strcspn(addr, delim)) < (size_t)(at - addr) && ext > 0) {
		buf_add(&key, addr, ext);
		buf_adds(&key, at);
		if ((rc = route_lookup(buf_str(&key), value, why)) != 0)
			goto out;
	}
	if (at != NULL && at[1] != '\0') {
		if ((rc = route_lookup(at + 1, value, why)) != 0)
			goto out;
		for (d = strchr(at + 1, '.'); d != NULL && d[1] != '\0';
		    d = strchr(d + 1, '.')) {
			if ((rc = route_lookup(d, value, why)) != 0)
				goto out;
		}
	}
	rc = route_lookup("*", value, why);
out:
	buf_free(&key);
	return rc;
}

/* route_kind - a transport name's kind */
static enum rq_tkind
route_kind(const char *t)
{
	static const struct {
		const char	*name;
		enum rq_tkind	 kind;
	} names[] = {
		{ "smtp", RT_SMTP }, { "relay", RT_SMTP },
		{ "lmtp", RT_LMTP }, { "local", RT_LOCAL },
		{ "virtual", RT_VIRTUAL }, { "error", RT_ERROR },
		{ "retry", RT_RETRY }, { "discard", RT_DISCARD },
	};
	size_t	 i;

	for (i = 0; i < nitems(names); i++)
		if (strcmp(t, names[i].name) == 0)
			return names[i].kind;
	return RT_UNKNOWN;
}

/* route_set - transport and next hop from "t:nh" text (either may be "") */
static void
route_set(struct rq_route *rt, const char *t, size_t tlen, const char *nh)
{
	char	 name[sizeof(rt->transport)];

	if (tlen >= sizeof(name))
		tlen = sizeof(name) - 1;
	memcpy(name, t, tlen);
	name[tlen] = '\0';
	str_copy(rt->transport, sizeof(rt->transport), name);
	rt->kind = route_kind(name);
	str_copy(rt->nexthop, sizeof(rt->nexthop), nh);
}

/*
 * rq_route - the transport and next hop for addr (a queued recipient);
 * 0, or -1 with why set when a map cannot be read (defer)
 */
int
rq_route(const char *addr, struct rq_route *rt, struct buf *why)
{
	struct buf	 value;
	const char	*at, *domain, *def, *colon, *relay;
	int		 rc;

	memset(rt, 0, sizeof(*rt));
	at = strrchr(addr, '@');
	domain = at != NULL ? at + 1 : "";
	if (*domain == '\0' || local_is_mydestination(domain))
		route_set(rt, "local", 5, "");
	else if (local_is_virtual(domain))
		route_set(rt, "virtual", 7, domain);
	else {
		def = conf_get("default_transport");
		colon = strchr(def, ':');
		relay = conf_get("relayhost");
		if (colon != NULL && colon[1] != '\0')
			route_set(rt, def, (size_t)(colon - def), colon + 1);
		else
			route_set(rt, def, colon != NULL ?
			    (size_t)(colon - def) : strlen(def),
			    *relay != '\0' ? relay : domain);
	}

	/*
	 * virtual_alias_maps rewrites before anything routes, as Postfix's
	 * cleanup does: local(8) expands the address, and its new addresses
	 * are routed in their turn (transport_maps included).
	 */
	if (*domain != '\0' && (rc = local_has_virtual_alias(addr, why)) != 0) {
		if (rc < 0)
			return -1;
		route_set(rt, "local", 5, "");
		str_copy(rt->key, sizeof(rt->key), "local");
		return 0;
	}

	if (route_open_maps(why) != 0)
		return -1;
	buf_init(&value, MAP_VALUE_MAX + 1);
	rc = route_search(addr, &value, why);
	if (rc < 0) {
		buf_free(&value);
		return -1;
	}
	if (rc > 0) {
		const char	*v = buf_str(&value);

		v += strspn(v, " \t");
		colon = strchr(v, ':');
		if (colon == NULL)	/* "smtp": a transport, no next hop */
			colon = v + strlen(v);
		if (colon > v) {
			/* A transport: its next hop, or the domain. */
			route_set(rt, v, (size_t)(colon - v),
			    *colon == ':' && colon[1] != '\0' ? colon + 1 :
			    domain);
		} else if (colon[0] == ':' && colon[1] != '\0')
			str_copy(rt->nexthop, sizeof(rt->nexthop), colon + 1);
	}
	buf_free(&value);
	if (rt->kind == RT_SMTP || rt->kind == RT_LMTP)
		bsnprintf(rt->key, sizeof(rt->key), "%s:%s",
		    rt->kind == RT_SMTP ? "smtp" : "lmtp", rt->nexthop);
	else
		str_copy(rt->key, sizeof(rt->key), "local");
	return 0;
}

/*
 * rq_nexthop_parse - split an SMTP next hop into host, port and whether
 * MX records are looked up: "domain", "domain:port", "[host]",
 * "[host]:port", "[ipv6:addr]:port"; -1 when malformed
 */
int
rq_nexthop_parse(const char *nh, char *host, size_t hostsz, int *port,
    int *mx, struct buf *why)
{
	const char	*end, *p;
	long long	 v;
	const char	*err;
	size_t		 n;

	*port = 25;
	*mx = 1;
	if (*nh == '[') {
		if ((end = strchr(nh, ']')) == NULL) {
			buf_printf(why, "malformed next hop %s: missing ]", nh);
			return -1;
		}
		*mx = 0;
		p = nh + 1;
		n = (size_t)(end - p);
		if (n > 5 && strncasecmp(p, "ipv6:", 5) == 0) {
			p += 5;
			n -= 5;
		}
		end++;
	} else {
		end = strchr(nh, ':');
		if (end == NULL)
			end = nh + strlen(nh);
		p = nh;
		n = (size_t)(end - p);
	}
	if (n == 0 || n >= hostsz) {
		buf_printf(why, "malformed next hop %s", nh);
		return -1;
	}
	memcpy(host, p, n);
	host[n] = '\0';
	if (*end == ':') {
		if (strcmp(end + 1, "smtp") == 0)
			v = 25;
		else if (strcmp(end + 1, "submission") == 0)
			v = 587;
		else if (strcmp(end + 1, "submissions") == 0 ||
		    strcmp(end + 1, "smtps") == 0)
			v = 465;
		else if (num_parse(end + 1, 1, 65535, &v, &err) != 0) {
			buf_printf(why, "malformed next hop %s: port %s", nh,
			    err);
			return -1;
		}
		*port = (int)v;
	} else if (*end != '\0') {
		buf_printf(why, "malformed next hop %s", nh);
		return -1;
	}
	return 0;
}
