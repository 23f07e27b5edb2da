/*
 * runq.h - the queue runner's private declarations
 *
 * main.c	options, configuration, the runner lock, -w watch mode
 * queue.c	pickup (incoming/ -> queue/), the pass over due messages,
 *		one message's attempt: routing, results, retries, notices
 * local.c	local(8): aliases, .forward, mailboxes, commands, files,
 *		each delivery in a child running as the recipient
 * forward.c	new messages made by runq: forwards and notices
 * route.c	transport and next hop of a recipient (transport_maps,
 *		relayhost, default_transport)
 * remote.c	SMTP and LMTP delivery: MX lookups, sessions kept open
 *		for the next message (struct rq_conncache), TLS, AUTH
 * deliver.h	the delivery agents (mbox.c, maildir.c, pipe.c, lmtp.c)
 * bounce.h	the RFC 3464 notices (bounce.c)
 */
#ifndef CMD_RUNQ_H
#define CMD_RUNQ_H

#include <sys/types.h>

#include "common/buf.h"
#include "spool/spool.h"
#include "cmd/runq/deliver.h"

#define RQ_ALIAS_DEPTH	100	/* nested alias expansions: 5.4.6 past it */
#define RQ_EXPAND_MAX	1000	/* addresses one recipient expands to */
#define RQ_HDR_SCAN_MAX	(1024 * 1024)	/* header bytes scanned for loops */

struct rq_due;

struct runq {
	int		 verbose;
	int		 force;		/* -f: ignore backoff, defer_transports */
	const char	*only_id;	/* -I */
	const char	*only_site;	/* -R: recipient domain */
	const char	*only_sender;	/* -S */
	int		 watch;		/* -w */
	int		 nudge;		/* -N: poke, or run only if we may */
	int		 root;		/* running as root */
	uid_t		 owner_uid;	/* mail_owner */
	gid_t		 owner_gid;
	gid_t		 drop_gid;	/* setgid_group */
	struct spool	 sp;
	int		 lockfd;	/* queue/.runq.lock */
	long long	 now;
	int		 max_workers;
	int		 status;	/* -I: the outcome, sysexits */
	long long	 next_full;	/* rq_run: when to scan queue/ again */
};

/* What one message's attempt needs to know about its content. */
struct rq_msgctx {
	struct runq		*rq;
	struct spool_msg	*m;
	long long		 arrival;
	char			**delivered_to;	/* Delivered-To values, lower */
	size_t			 ndelivered_to;
	int			 hops;		/* Received: headers */
	int			 eightbit;
	int			 forwarded;	/* new messages made */
	int			 scanned;	/* rq_scan_headers done */
};

#define RQ_KEY_MAX	(SPOOL_ADDR_MAX + 16)	/* "smtp:NEXTHOP" */
#define RQ_RELAY_MAX	320	/* "host[addr]:port" */

/* The outcome of one recipient. */
struct rq_result {
	struct dlv_result	 r;
	const char		*relay;		/* "local", "none", ... */
	const char		*service;	/* log: "local", "smtp", ... */
	char			 relaybuf[RQ_RELAY_MAX];
	char			 orig[SPOOL_ADDR_MAX + 1];
};

/* Transports (route.c). */
enum rq_tkind {
	RT_LOCAL = 0,
	RT_VIRTUAL,
	RT_SMTP,	/* smtp, relay */
	RT_LMTP,
	RT_ERROR,	/* bounce with the next hop as text */
	RT_RETRY,	/* defer with the next hop as text */
	RT_DISCARD,
	RT_UNKNOWN,	/* not a transport correo has: defer */
};

struct rq_route {
	enum rq_tkind	 kind;
	char		 transport[32];
	char		 nexthop[SPOOL_ADDR_MAX + 1];
	char		 key[RQ_KEY_MAX];	/* "local", "smtp:NH", "lmtp:NH" */
};

struct rq_conncache;

/* queue.c */
int	 rq_pickup(struct runq *, struct rq_due *);
int	 rq_run(struct runq *);
int	 rq_message(struct runq *, const char *id);
int	 rq_attempt(struct runq *, const char *id, const char *only_key,
	    struct rq_conncache *, int wait);
void	 rq_scan_headers(struct rq_msgctx *);

/* route.c */
int	 rq_route(const char *addr, struct rq_route *, struct buf *why);
void	 rq_route_close(void);
int	 rq_nexthop_parse(const char *nh, char *host, size_t hostsz,
	    int *port, int *mx, struct buf *why);

/* remote.c */
struct rq_conncache *rq_conncache_new(struct runq *);
void	 rq_conncache_free(struct rq_conncache *);
int	 rq_remote_prepare(struct runq *, struct rq_conncache *);
void	 rq_remote_deliver(struct rq_msgctx *, const struct rq_route *,
	    const size_t *idx, struct rq_result *, size_t n,
	    struct rq_conncache *);
long long rq_backoff(long attempts);

/* local.c */
void	 local_deliver(struct rq_msgctx *, size_t idx, struct rq_result *);
int	 local_is_mydestination(const char *domain);
int	 local_is_virtual(const char *domain);
int	 local_has_virtual_alias(const char *addr, struct buf *why);

/* forward.c */
int	 fwd_enqueue(struct runq *, const struct spool_msg *,
	    const char *sender, char **rcpts, size_t n,
	    const char *delivered_to, const char *orcpt, const char *notify,
	    char *id_out, size_t idsz, struct buf *why);
int	 fwd_notice(struct runq *, const struct spool_msg *, int kind,
	    size_t *idx, size_t n, const char *to, const char *sender,
	    char *id_out, size_t idsz, struct buf *why);

#endif
