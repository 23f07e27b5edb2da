/*
 * session.h - one SMTP session's state (session.c, data.c, main.c)
 */
#ifndef CMD_SMTPD_SESSION_H
#define CMD_SMTPD_SESSION_H

#include <stdarg.h>

#include "common/buf.h"
#include "spool/spool.h"
#include "cmd/smtpd-lite/policy.h"
#include "cmd/smtpd-lite/smtpd.h"

#define SMTPD_NSTATS	15	/* counted verbs; [SMTPD_NSTATS]: unknown */

struct sasl;
struct tls_ctx;

struct smtpd_rcpt {
	char	*addr;
	char	*orcpt;		/* "rfc822;a@b" decoded, or NULL */
	char	*notify;	/* "SUCCESS,FAILURE", or NULL */
};

/* The content being received (DATA or BDAT). */
struct smtpd_data {
	struct spool_writer	 w;
	int			 open;
	int			 failed;	/* enum data_fail */
	int			 in_header;
	int			 hops;
	long long		 size;
	int			 eightbit;
	char			*msgid;
	struct buf		 part;		/* BDAT: a line not yet ended */
	int			 part_cr;	/* BDAT: a CR ended a chunk */
};

struct session {
	struct sio		 io;
	struct smtpd_peer	*peer;
	struct policy_client	 pc;		/* caches the client's name */
	struct spool		 sp;
	struct tls_ctx		*tls_ctx;	/* NULL: no STARTTLS */
	int			 tls_failed;	/* certificate would not load */
	int			 tls_offer;	/* STARTTLS is on the EHLO list */
	int			 tls_level_encrypt;
	struct sasl		*sasl;
	char			 clientname[340];
	char			 helo[256];
	int			 esmtp;
	int			 mynet;
	char			*auth_user;
	const char		*auth_mech;
	int			 auth_failures;
	int			 errors;
	long long		 cmd_bytes;	/* since the last message */
	int			 quit;
	const char		*last_verb;
	long			 counts[SMTPD_NSTATS + 1];
	/* the transaction */
	int			 in_mail;
	char			*sender;
	int			 smtputf8;
	int			 body8;
	char			*ret, *envid;
	struct smtpd_rcpt	*rcpt;
	size_t			 nrcpt;
	int			 rcpt_refused;
	int			 bdat_open;
	struct smtpd_data	 d;
};

/* session.c */
int	 reply(struct session *, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
const char *smtpd_clientname(struct session *);
void	 session_reset_tx(struct session *);
int	 session_auth_offered(struct session *);
int	 session_run(struct session *);
int	 session_tls_only_auth(struct session *);

/* main.c */
struct tls_ctx *smtpd_tls_ctx(struct session *);
void	 session_stats(struct session *, struct buf *);

/* data.c */
int	 data_dot(struct session *);
int	 data_bdat(struct session *, char *);
void	 data_abort(struct session *);

#endif
