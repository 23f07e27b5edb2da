/*
 * admin.c - queue administration with postsuper's letters: -d delete,
 * -r requeue, -h hold, -H release
 *
 * As postsuper does, the "ALL" operations run first (delete, requeue,
 * hold, release, each over the whole queue), then the operations by
 * queue ID in the same order; an ID "-" reads IDs from stdin, one per
 * line.  Every message is locked (flock, without waiting) before it is
 * touched and stays locked until it has been removed or moved, so a
 * runner never has it at the same time: a message being delivered is
 * reported and left alone.  Each change is one line on stderr and in
 * the mail log ("ID: removed"), and the counts end the run ("Deleted:
 * 3 messages").  The caller's right to do this was checked before
 * (main.c).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>

#include "common/buf.h"
#include "common/log.h"
#include "common/util.h"
#include "spool/spool.h"
#include "cmd/mailq/mailq.h"

enum admin_result {
	ADMIN_DONE,		/* counted */
	ADMIN_SKIP,		/* nothing to do (already held, not held) */
	ADMIN_FAIL,		/* reported; the exit status is set */
};

static const struct {
	char		 letter;
	const char	*verb;		/* "... not deleted" */
	const char	*done;		/* the log line */
	const char	*total;		/* the summary */
	unsigned	 dirs;		/* where "ALL" looks */
} admin_ops[MQ_NOPS] = {
	[MQ_DELETE] = { 'd', "deleted", "removed", "Deleted", MQ_ALL_DIRS },
	[MQ_REQUEUE] = { 'r', "requeued", "requeued", "Requeued",
	    MQ_ALL_DIRS },
	[MQ_HOLD] = { 'h', "placed on hold", "placed on hold",
	    "Placed on hold", MQ_DIR(SPOOL_INCOMING) | MQ_DIR(SPOOL_QUEUE) },
	[MQ_RELEASE] = { 'H', "released", "released from hold",
	    "Released from hold", MQ_DIR(SPOOL_HOLD) },
};

/* postsuper's summary order */
static const enum mq_op admin_report_order[MQ_NOPS] = {
	MQ_REQUEUE, MQ_DELETE, MQ_HOLD, MQ_RELEASE
};

static enum admin_result admin_one(struct mq *, enum mq_op, const char *,
		    enum spool_dir, int);
static enum admin_result admin_requeue(struct mq *, struct spool_msg *,
		    int, int, struct buf *);
static enum admin_result admin_release(struct mq *, struct spool_msg *,
		    struct buf *);
static size_t	 admin_stdin(struct mq *, enum mq_op);

/*
 * admin_requeue - every pending recipient tried again at once: its
 * attempts and next try back to 0, and the message due now.  A message
 * in incoming/ that this user may not write (it still belongs to its
 * submitter) has nothing to reset unless a runner tried it there, so
 * it only fails when it does.
 */
static enum admin_result
admin_requeue(struct mq *mq, struct spool_msg *m, int named, int writable,
    struct buf *why)
{
	struct spool_rcpt	*r;
	size_t			 i;

	if (m->dir == SPOOL_HOLD) {
		log_warnx("%s: on hold: not requeued (release it with -H)",
		    m->id);
		if (named)
			mq_status(mq, EX_UNAVAILABLE);
		return ADMIN_FAIL;
	}
	for (i = 0; i < m->nrcpt; i++) {
		r = &m->rcpt[i];
		if (r->state != RCPT_PENDING ||
		    (r->attempts == 0 && r->next == 0))
			continue;
		if (!writable) {
			log_warnx("%s: cannot requeue: queue file not "
			    "writable", m->id);
			mq_status(mq, EX_NOPERM);
			return ADMIN_FAIL;
		}
		r->attempts = 0;
		r->next = 0;
		if (spool_rcpt_update(m, i, why) != 0) {
			log_warnx("%s", buf_str(why));
			mq_status(mq, EX_IOERR);
			return ADMIN_FAIL;
		}
	}
	if (spool_set_due(m, (long long)time(NULL)) != 0 && writable) {
		log_warn("%s: set the next try", m->id);
		mq_status(mq, EX_IOERR);
		return ADMIN_FAIL;
	}
	return ADMIN_DONE;
}

/*
 * admin_release - out of hold/: back to queue/, due now, when runq had
 * picked it up (the file belongs to the mail owner or root); back to
 * incoming/ when it still belongs to its submitter.
 */
static enum admin_result
admin_release(struct mq *mq, struct spool_msg *m, struct buf *why)
{
	enum spool_dir	 to = SPOOL_INCOMING;

	if (m->dir != SPOOL_HOLD)
		return ADMIN_SKIP;
	if (m->owner == 0 || (mq->have_owner && m->owner == mq->owner_uid)) {
		to = SPOOL_QUEUE;
		if (spool_set_due(m, (long long)time(NULL)) != 0) {
			log_warn("%s: set the next try", m->id);
			mq_status(mq, EX_IOERR);
			return ADMIN_FAIL;
		}
	}
	if (spool_move(&mq->sp, m->id, SPOOL_HOLD, to, why) != 0) {
		log_warnx("%s", buf_str(why));
		mq_status(mq, EX_IOERR);
		return ADMIN_FAIL;
	}
	return ADMIN_DONE;
}

/*
 * admin_one - one operation on one message.  named: the caller gave
 * the ID (an unknown one is an error then; with ALL it was only
 * delivered meanwhile).
 */
static enum admin_result
admin_one(struct mq *mq, enum mq_op op, const char *id, enum spool_dir dir,
    int named)
{
	struct spool_msg	 m;
	struct buf		 why;
	enum admin_result	 res = ADMIN_FAIL;
	int			 flags, loaded, writable;

	buf_init(&why, 4096);
	if (!spool_id_ok(id)) {
		log_warnx("%s: not a queue ID", id);
		mq_status(mq, EX_DATAERR);
		goto out;
	}
	flags = op == MQ_REQUEUE ? SPOOL_LOAD_WRITE : SPOOL_LOAD_LOCK;
	loaded = mq_load(mq, id, dir, flags, &m, &why) == 0;
	writable = loaded && op == MQ_REQUEUE;
	if (!loaded && op == MQ_REQUEUE && errno == EACCES && !m.busy) {
		/* Not ours to write: see what admin_requeue makes of it. */
		buf_reset(&why);
		loaded = mq_load(mq, id, dir, SPOOL_LOAD_LOCK, &m, &why) == 0;
	}
	if (!loaded) {
		if (m.busy) {
			log_warnx("%s: being delivered: not %s", id,
			    admin_ops[op].verb);
			mq_status(mq, EX_TEMPFAIL);
		} else if (errno == ENOENT) {
			if (named) {
				log_warnx("%s: no such message in the queue",
				    id);
				mq_status(mq, EX_NOINPUT);
			}
		} else if (op == MQ_DELETE && errno == EINVAL &&
		    spool_remove(&mq->sp, id, m.dir, &why) == 0) {
			/* Damaged: no runner can take it either. */
			mq_note("%s: removed (damaged queue file)", id);
			res = ADMIN_DONE;
		} else {
			log_warnx("%s", buf_str(&why));
			mq_status(mq, EX_TEMPFAIL);
		}
		goto out;
	}
	switch (op) {
	case MQ_DELETE:
		res = ADMIN_DONE;
		if (spool_remove(&mq->sp, m.id, m.dir, &why) != 0) {
			log_warnx("%s", buf_str(&why));
			mq_status(mq, EX_IOERR);
			res = ADMIN_FAIL;
		}
		break;
	case MQ_REQUEUE:
		res = admin_requeue(mq, &m, named, writable, &why);
		break;
	case MQ_HOLD:
		res = ADMIN_SKIP;
		if (m.dir == SPOOL_HOLD)
			break;
		res = ADMIN_DONE;
		if (spool_move(&mq->sp, m.id, m.dir, SPOOL_HOLD, &why) != 0) {
			log_warnx("%s", buf_str(&why));
			mq_status(mq, EX_IOERR);
			res = ADMIN_FAIL;
		}
		break;
	case MQ_RELEASE:
		res = admin_release(mq, &m, &why);
		break;
	case MQ_NOPS:
		panic("admin_one: bad operation");
	}
	if (res == ADMIN_DONE)
		mq_note("%s: %s", m.id, admin_ops[op].done);
	spool_msg_free(&m);
out:
	buf_free(&why);
	return res;
}

/*
 * admin_stdin - "-": the IDs on stdin, one per line; white space
 * around them and a "*" or "!" after them (as the listing prints
 * them) are dropped, empty lines skipped.  Returns how many were
 * done.
 */
static size_t
admin_stdin(struct mq *mq, enum mq_op op)
{
	char	 line[MQ_ID_LINE_MAX], *id;
	size_t	 len, done = 0;
	int	 c, toolong;

	while (fgets(line, sizeof(line), stdin) != NULL) {
		len = strlen(line);
		toolong = len > 0 && line[len - 1] != '\n' && !feof(stdin);
		if (toolong) {
			while ((c = getchar()) != EOF && c != '\n')
				;
			log_warnx("standard input: line too long for a "
			    "queue ID");
			mq_status(mq, EX_DATAERR);
			continue;
		}
		while (len > 0 && (line[len - 1] == '\n' ||
		    line[len - 1] == ' ' || line[len - 1] == '\t' ||
		    line[len - 1] == '*' || line[len - 1] == '!'))
			line[--len] = '\0';
		id = line + strspn(line, " \t");
		if (*id == '\0')
			continue;
		if (admin_one(mq, op, id, SPOOL_INCOMING, 1) == ADMIN_DONE)
			done++;
	}
	if (ferror(stdin)) {
		log_warn("read standard input");
		mq_status(mq, EX_IOERR);
	}
	return done;
}

/* mq_admin - run the -d -r -h -H operations; the exit status */
int
mq_admin(struct mq *mq)
{
	struct mq_ent	*ent;
	size_t		 count[MQ_NOPS], i, j, n;
	enum mq_op	 op;
	int		 k;

	memset(count, 0, sizeof(count));
	for (k = 0; k < MQ_NOPS; k++) {
		op = (enum mq_op)k;
		if (!mq->op[op].all)
			continue;
		if (mq->op[op].n > 1)
			log_warnx("option \"-%c ALL\" will ignore other "
			    "command line queue IDs", admin_ops[op].letter);
		ent = mq_collect(mq, admin_ops[op].dirs, &n);
		for (i = 0; i < n; i++)
			if (admin_one(mq, op, ent[i].id, ent[i].dir, 0) ==
			    ADMIN_DONE)
				count[op]++;
		free(ent);
	}
	for (k = 0; k < MQ_NOPS; k++) {
		op = (enum mq_op)k;
		if (mq->op[op].all)
			continue;
		for (j = 0; j < mq->op[op].n; j++) {
			if (strcmp(mq->op[op].ids[j], "-") == 0)
				count[op] += admin_stdin(mq, op);
			else if (admin_one(mq, op, mq->op[op].ids[j],
			    SPOOL_INCOMING, 1) == ADMIN_DONE)
				count[op]++;
		}
	}
	for (k = 0; k < MQ_NOPS; k++) {
		op = admin_report_order[k];
		if (count[op] > 0)
			mq_note("%s: %zu message%s", admin_ops[op].total,
			    count[op], count[op] > 1 ? "s" : "");
	}
	return mq->status;
}
