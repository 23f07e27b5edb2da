/*
 * runq.h - the queue runner's private declarations
 *
 * main.c	options, configuration, the runner lock, -w watch mode
 * queue.c	pickup (incoming/ -> queue/), the pass over due messages,
 *		one message's attempt: routing, results, retries, notices
 * local.c	local(8): aliases, .forward, mailboxes, commands, files,
 *		each delivery in a child running as the recipient
 * forward.c	new messages made by runq: forwards and notices
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

struct runq {
	int		 verbose;
	int		 force;		/* -f: ignore backoff, defer_transports */
	const char	*only_id;	/* -I */
	const char	*only_site;	/* -R: recipient domain */
	const char	*only_sender;	/* -S */
	int		 watch;		/* -w */
	int		 root;		/* running as root */
	uid_t		 owner_uid;	/* mail_owner */
	gid_t		 owner_gid;
	gid_t		 drop_gid;	/* setgid_group */
	struct spool	 sp;
	int		 lockfd;	/* queue/.runq.lock */
	long long	 now;
	int		 max_workers;
	int		 status;	/* -I: the outcome, sysexits */
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
};

/* The outcome of one recipient. */
struct rq_result {
	struct dlv_result	 r;
	const char		*relay;		/* "local", "none", ... */
	char			 orig[SPOOL_ADDR_MAX + 1];
};

/* queue.c */
int	 rq_pickup(struct runq *);
int	 rq_run(struct runq *);
int	 rq_message(struct runq *, const char *id);
long long rq_backoff(long attempts);

/* local.c */
void	 local_deliver(struct rq_msgctx *, size_t idx, struct rq_result *);
int	 local_is_mydestination(const char *domain);
int	 local_is_virtual(const char *domain);

/* forward.c */
int	 fwd_enqueue(struct runq *, const struct spool_msg *,
	    const char *sender, char **rcpts, size_t n,
	    const char *delivered_to, const char *orcpt, const char *notify,
	    char *id_out, size_t idsz, struct buf *why);
int	 fwd_notice(struct runq *, const struct spool_msg *, int kind,
	    size_t *idx, size_t n, const char *to, const char *sender,
	    char *id_out, size_t idsz, struct buf *why);

#endif
