/*
 * sendmail.h - the submission program's private declarations
 *
 * main.c parses the command line (Postfix sendmail(1) semantics) and
 * runs a mode; submit.c reads one message from stdin, fixes its headers
 * and commits it to the spool; rcpt.c keeps the recipient list.
 */
#ifndef CMD_SENDMAIL_H
#define CMD_SENDMAIL_H

#include <sys/types.h>

#include "common/buf.h"

enum sm_mode {
	SM_MODE_ENQUEUE,	/* -bm, the default */
	SM_MODE_MAILQ,		/* -bp: runs mailq */
	SM_MODE_NEWALIASES,	/* -bi: runs newaliases */
	SM_MODE_SMTP,		/* -bs: runs smtpd-lite */
	SM_MODE_VERIFY,		/* -bv: how recipients would be routed */
	SM_MODE_CONFIG,		/* -bP: effective configuration */
	SM_MODE_DAEMON,		/* -bd, -bD: refused, with directions */
	SM_MODE_RUNQ,		/* -q...: runs runq */
};

enum sm_delivery {
	SM_DELIVER_BACKGROUND,	/* -odb (default): start delivery, go */
	SM_DELIVER_INTERACTIVE,	/* -odi: wait for the outcome */
	SM_DELIVER_QUEUE,	/* -odq: only queue */
};

enum sm_errors {
	SM_ERR_PRINT,		/* -oep (default): stderr and exit status */
	SM_ERR_MAIL,		/* -oem, -oee: mail the error back */
	SM_ERR_QUIET,		/* -oeq: exit status only */
	SM_ERR_WRITE,		/* -oew: like -oep (no write(1) here) */
};

struct rcpt_list {
	char	**addr;
	size_t	 n;
	size_t	 cap;
};

struct sm {
	enum sm_mode	 mode;
	enum sm_delivery delivery;
	enum sm_errors	 errors;
	int		 extract;	/* -t */
	int		 ignore_dots;	/* -i, -oi */
	int		 verbose;	/* -v */
	int		 only_set;	/* -bP -n */
	const char	*sender;	/* -f, -r; NULL: the login name */
	const char	*fullname;	/* -F, -oF */
	const char	*env_name;	/* $NAME, read before the env is cut */
	const char	*notify;	/* -N */
	const char	*ret;		/* -R */
	const char	*envid;		/* -V */
	const char	*body;		/* -B: 7BIT or 8BITMIME */
	const char	*alias_file;	/* -oA */
	const char	*config;	/* -C */
	const char	*log_label;	/* -L: syslog_name for this run */
	char		**overrides;	/* -O name=value */
	size_t		 noverrides;
	const char	*runq_flag;	/* -qI / -qR / -qS as runq's -I -R -S */
	const char	*runq_arg;
	char		**argv;		/* recipients on the command line */
	int		 argc;

	/* Who submits: from the kernel, never from the message. */
	uid_t		 uid;
	char		*login;
	char		*gecos;
	int		 private_spool;	/* the caller is mail_owner */

	/* Filled in while submitting. */
	char		*env_sender;	/* qualified envelope sender or "" */
	struct rcpt_list rcpts;
};

/* submit.c */
int	 submit(struct sm *);
int	 qualify_addr(const char *in, size_t len, int flags, struct buf *out,
	    struct buf *why);

/* rcpt.c */
int	 rcpt_add(struct rcpt_list *, const char *addr);
void	 rcpt_free(struct rcpt_list *);
int	 rcpt_add_list(struct rcpt_list *, const char *value, size_t len,
	    struct buf *why);

/* main.c */
int	 run_sibling(struct sm *, const char *prog, char **args, int wait);
__attribute__((noreturn)) void sm_fail(struct sm *, int status,
	    const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
