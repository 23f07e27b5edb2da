/*
 * mailq.h - the queue program's private declarations
 *
 * main.c parses the command line, reads the configuration, decides who
 * may do what and runs one mode; list.c lists the queue (Postfix's
 * "postqueue -p" text, "postqueue -j" JSON lines); cat.c prints one
 * message ("postcat -q"); admin.c deletes, holds, releases and requeues
 * ("postsuper -d -h -H -r"); out.c holds the escaping and time helpers
 * they share.
 *
 * Every mode writes to stdout through stdio; a write error ends the run
 * with EX_IOERR, a closed pipe (EPIPE) ends it quietly with status 0,
 * as Postfix's postqueue does.
 */
#ifndef CMD_MAILQ_H
#define CMD_MAILQ_H

#include <stdio.h>
#include <sys/types.h>

#include "spool/spool.h"

#define MQ_TIME_MAX	64	/* mq_time_text() output, NUL included */
#define MQ_ID_LINE_MAX	256	/* one line of "-" input */

/* The administrative operations, in the order they run. */
enum mq_op {
	MQ_DELETE,		/* -d */
	MQ_REQUEUE,		/* -r */
	MQ_HOLD,		/* -h */
	MQ_RELEASE,		/* -H */
	MQ_NOPS
};

struct mq_ids {
	const char **ids;	/* as given: IDs, "ALL" or "-" */
	size_t	 n;
	int	 all;		/* "ALL" was among them */
};

struct mq {
	int		 verbose;	/* -v */
	int		 json;		/* -j */
	const char	*config;	/* -C */
	char		**overrides;	/* -o name=value */
	size_t		 noverrides;
	struct mq_ids	 cat;		/* -c */
	struct mq_ids	 op[MQ_NOPS];	/* -d -r -h -H */
	int		 admin;		/* any of -d -r -h -H */

	struct spool	 sp;
	const char	*mail_owner;	/* its name, from the configuration */
	uid_t		 owner_uid;	/* its uid, when it exists */
	int		 have_owner;
	int		 spool_owner;	/* queue_directory is the caller's */
	int		 status;	/* exit status so far */
};

/* main.c */
void	 mq_status(struct mq *, int);
int	 mq_load(struct mq *, const char *id, enum spool_dir first,
	    int flags, struct spool_msg *, struct buf *why);
void	 mq_note(const char *, ...) __attribute__((format(printf, 1, 2)));
void	 mq_flush(void);

/* list.c */
struct mq_ent {
	char		 id[SPOOL_ID_MAX];
	enum spool_dir	 dir;
};
#define MQ_DIR(d)	(1U << (d))
#define MQ_ALL_DIRS	(MQ_DIR(SPOOL_INCOMING) | MQ_DIR(SPOOL_QUEUE) | \
			    MQ_DIR(SPOOL_HOLD))

struct mq_ent *mq_collect(struct mq *, unsigned dirmask, size_t *);
int	 mq_list(struct mq *);

/* cat.c */
int	 mq_cat(struct mq *, const char *id);

/* admin.c */
int	 mq_admin(struct mq *);

/* out.c */
size_t	 mq_utf8_len(const unsigned char *, size_t);
void	 mq_put_printable(FILE *, const char *);
void	 mq_put_json(FILE *, const char *);
const char *mq_time_text(char *, size_t, long long, int with_year);
long long mq_arrival(const struct spool_msg *);
const char *mq_queue_name(const struct spool_msg *);

#endif
