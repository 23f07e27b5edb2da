/*
 * list.c - the queue listing: Postfix's "postqueue -p" text (with -v
 * detail lines of our own) and its "postqueue -j" JSON lines
 *
 * Every message of incoming/, queue/ and hold/ is listed in one run,
 * sorted by queue ID, which sorts by arrival.  Each file is opened
 * once and read with two preads (spool_load without a lock); a file
 * that vanished meanwhile is looked for in the other directories (it
 * moved) or skipped (it was delivered).  Only pending recipients are
 * shown, as Postfix shows only those not yet delivered.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "common/buf.h"
#include "common/log.h"
#include "common/util.h"
#include "spool/spool.h"
#include "cmd/mailq/mailq.h"

/*
 * Postfix's layout for long queue IDs (enable_long_queue_ids = yes):
 * correo's IDs are always of that kind (time plus inode), so this is
 * the layout that fits them.
 */
#define LIST_HEAD_FMT	"%-17s %8s %-19s %s\n"
#define LIST_HEADINGS	"----Queue ID-----", "--Size--", \
			    "---Arrival Time----", "--Sender/Recipient------"
#define LIST_SENDER_FMT	"%-17s %8lld %19.19s "
#define LIST_RCPT_PAD	47	/* the recipient column */
#define LIST_DETAIL_PAD	49	/* -v lines under a recipient */
#define LIST_REASON_COL	76	/* "(reason)" ends here when it fits */
#define LIST_NULL_SENDER "MAILER-DAEMON"

struct list_walk {
	struct mq_ent	*ent;
	size_t		 n, cap;
	int		 nomem;
	enum spool_dir	 dir;		/* the directory being walked */
};

struct list_ctx {
	size_t		*ord;		/* recipients in print order */
	size_t		 ordcap;
	long long	 bytes;		/* content bytes listed */
	size_t		 count;		/* messages listed */
};

static const struct spool_rcpt *list_rcpt;	/* for list_rcpt_cmp */

static int	 list_add(const char *, const struct stat *, void *);
static int	 list_ent_cmp(const void *, const void *);
static int	 list_rcpt_cmp(const void *, const void *);
static int	 list_order(struct list_ctx *, const struct spool_msg *,
		    size_t *);
static void	 list_text(struct mq *, struct list_ctx *,
		    const struct spool_msg *);
static void	 list_json(const struct spool_msg *);

/* list_add - spool_walk callback: remember one queue file */
static int
list_add(const char *id, const struct stat *st, void *arg)
{
	struct list_walk *c = arg;
	struct mq_ent	*ne;
	size_t		 cap;

	(void)st;
	if (c->n == c->cap) {
		cap = c->cap ? c->cap * 2 : 1024;
		if ((ne = reallocarray(c->ent, cap, sizeof(*ne))) == NULL) {
			c->nomem = 1;
			return 1;
		}
		c->ent = ne;
		c->cap = cap;
	}
	if (str_copy(c->ent[c->n].id, sizeof(c->ent[c->n].id), id) != 0)
		return 0;	/* spool_walk only passes valid IDs */
	c->ent[c->n++].dir = c->dir;
	return 0;
}

/* list_ent_cmp - by queue ID (arrival), then directory */
static int
list_ent_cmp(const void *a, const void *b)
{
	const struct mq_ent	*x = a, *y = b;
	int			 rc;

	if ((rc = strcmp(x->id, y->id)) != 0)
		return rc;
	return (int)x->dir - (int)y->dir;
}

/*
 * list_rcpt_cmp - recipients with a reason first, grouped by reason so
 * that each "(reason)" line heads all that share it; file order within
 * a group
 */
static int
list_rcpt_cmp(const void *a, const void *b)
{
	size_t				 i = *(const size_t *)a;
	size_t				 j = *(const size_t *)b;
	const struct spool_rcpt		*x = &list_rcpt[i], *y = &list_rcpt[j];
	int				 rc;

	if ((x->reply[0] == '\0') != (y->reply[0] == '\0'))
		return x->reply[0] == '\0' ? 1 : -1;
	if ((rc = strcmp(x->reply, y->reply)) != 0)
		return rc;
	return i < j ? -1 : i > j;
}

/*
 * list_order - the pending recipients of m in the order the text
 * listing prints them; their number in *np.  -1 when out of memory.
 */
static int
list_order(struct list_ctx *c, const struct spool_msg *m, size_t *np)
{
	size_t	*no, i, n = 0;

	if (m->nrcpt > c->ordcap) {
		if ((no = reallocarray(c->ord, m->nrcpt, sizeof(*no))) ==
		    NULL)
			return -1;
		c->ord = no;
		c->ordcap = m->nrcpt;
	}
	for (i = 0; i < m->nrcpt; i++)
		if (m->rcpt[i].state == RCPT_PENDING)
			c->ord[n++] = i;
	list_rcpt = m->rcpt;
	qsort(c->ord, n, sizeof(*c->ord), list_rcpt_cmp);
	list_rcpt = NULL;
	*np = n;
	return 0;
}

/*
 * list_text - one message as postqueue -p shows it: the ID with "!"
 * (held) or "*" (being delivered), size, arrival, sender; then each
 * pending recipient, under its "(reason)" when it has one.  -v adds,
 * under each recipient, "attempts: N, next try: TIME" and, when there
 * is one, "last reply: TEXT".
 */
static void
list_text(struct mq *mq, struct list_ctx *c, const struct spool_msg *m)
{
	const struct spool_rcpt	*r;
	const char		*saved = "", *show;
	char			 idbuf[SPOOL_ID_MAX + 1], when[MQ_TIME_MAX];
	size_t			 n, i;
	int			 pad;

	if (c->count == 0)
		printf(LIST_HEAD_FMT, LIST_HEADINGS);
	else
		putchar('\n');
	if (bsnprintf(idbuf, sizeof(idbuf), "%s%s", m->id,
	    m->dir == SPOOL_HOLD ? "!" : m->busy ? "*" : "") != 0)
		panic("list_text: queue ID too long");
	printf(LIST_SENDER_FMT, idbuf, (long long)m->content_len,
	    mq_time_text(when, sizeof(when), mq_arrival(m), 0));
	mq_put_printable(stdout, *m->sender ? m->sender : LIST_NULL_SENDER);
	putchar('\n');
	if (list_order(c, m, &n) != 0) {
		log_warnx("%s: out of memory: recipients not listed", m->id);
		mq_status(mq, EX_TEMPFAIL);
		return;
	}
	for (i = 0; i < n; i++) {
		r = &m->rcpt[c->ord[i]];
		if (strcmp(saved, r->reply) != 0) {
			saved = r->reply;
			show = *saved ? saved : "reason unavailable";
			if ((pad = LIST_REASON_COL - (int)strlen(show)) < 0)
				pad = 0;
			printf("%*s(", pad, "");
			mq_put_printable(stdout, show);
			fputs(")\n", stdout);
		}
		printf("%*s", LIST_RCPT_PAD, "");
		mq_put_printable(stdout, r->addr);
		putchar('\n');
		if (!mq->verbose)
			continue;
		printf("%*sattempts: %ld, next try: %s\n", LIST_DETAIL_PAD,
		    "", r->attempts, r->next == 0 ? "as soon as possible" :
		    mq_time_text(when, sizeof(when), r->next, 1));
		if (r->reply[0] != '\0') {
			printf("%*slast reply: ", LIST_DETAIL_PAD, "");
			mq_put_printable(stdout, r->reply);
			putchar('\n');
		}
	}
}

/*
 * list_json - one message as one line of JSON: postqueue -j's members,
 * and per recipient also attempts, next_attempt and last_reply.
 */
static void
list_json(const struct spool_msg *m)
{
	const struct spool_rcpt	*r;
	size_t			 i, k = 0;

	fputs("{\"queue_name\": ", stdout);
	mq_put_json(stdout, mq_queue_name(m));
	fputs(", \"queue_id\": ", stdout);
	mq_put_json(stdout, m->id);
	printf(", \"arrival_time\": %lld, \"message_size\": %lld, "
	    "\"forced_expire\": false, \"sender\": ", mq_arrival(m),
	    (long long)m->content_len);
	mq_put_json(stdout, *m->sender ? m->sender : LIST_NULL_SENDER);
	fputs(", \"recipients\": [", stdout);
	for (i = 0; i < m->nrcpt; i++) {
		r = &m->rcpt[i];
		if (r->state != RCPT_PENDING)
			continue;
		fputs(k++ > 0 ? ", {\"address\": " : "{\"address\": ", stdout);
		mq_put_json(stdout, r->addr);
		if (r->reply[0] != '\0') {
			fputs(", \"delay_reason\": ", stdout);
			mq_put_json(stdout, r->reply);
		}
		printf(", \"attempts\": %ld, \"next_attempt\": %lld, "
		    "\"last_reply\": ", r->attempts, r->next);
		mq_put_json(stdout, r->reply);
		putchar('}');
	}
	fputs("]}\n", stdout);
}

/*
 * mq_collect - the queue files of the directories in dirmask
 * (MQ_DIR(SPOOL_INCOMING) and so on), sorted by queue ID and directory; a
 * file seen twice (it moved while the directories were read) is listed
 * once.  The array is the caller's to free.  A directory that cannot
 * be read, or no memory, is fatal (EX_TEMPFAIL).
 */
struct mq_ent *
mq_collect(struct mq *mq, unsigned dirmask, size_t *np)
{
	struct list_walk	 w;
	struct buf		 why;
	size_t			 i, k;
	int			 d;

	memset(&w, 0, sizeof(w));
	buf_init(&why, 4096);
	for (d = 0; d < SPOOL_NDIRS; d++) {
		if (!(dirmask & MQ_DIR(d)))
			continue;
		w.dir = (enum spool_dir)d;
		buf_reset(&why);
		if (spool_walk(&mq->sp, w.dir, list_add, &w, &why) < 0)
			fatalx(EX_TEMPFAIL, "%s", buf_str(&why));
		if (w.nomem)
			fatalx(EX_TEMPFAIL, "out of memory after %zu queue "
			    "files", w.n);
	}
	buf_free(&why);
	if (w.n > 0)
		qsort(w.ent, w.n, sizeof(*w.ent), list_ent_cmp);
	for (i = k = 0; i < w.n; i++)
		if (k == 0 || strcmp(w.ent[i].id, w.ent[k - 1].id) != 0)
			w.ent[k++] = w.ent[i];
	*np = k;
	return w.ent;
}

/*
 * mq_list - list the whole queue (text, or JSON with -j).  A queue
 * file that cannot be read is a warning, not the end of the listing.
 */
int
mq_list(struct mq *mq)
{
	struct list_ctx		 c;
	struct spool_msg	 m;
	struct mq_ent		*ent;
	struct buf		 why;
	size_t			 i, n;

	memset(&c, 0, sizeof(c));
	buf_init(&why, 4096);
	ent = mq_collect(mq, MQ_ALL_DIRS, &n);
	for (i = 0; i < n; i++) {
		buf_reset(&why);
		if (mq_load(mq, ent[i].id, ent[i].dir, SPOOL_LOAD_PEEK, &m,
		    &why) != 0) {
			/* Gone: delivered or deleted since the walk. */
			if (errno != ENOENT)
				log_warnx("%s", buf_str(&why));
			continue;
		}
		if (mq->json)
			list_json(&m);
		else
			list_text(mq, &c, &m);
		c.bytes += m.content_len;
		c.count++;
		spool_msg_free(&m);
		if (ferror(stdout))
			mq_flush();
	}
	if (!mq->json) {
		if (c.count == 0)
			printf("Mail queue is empty\n");
		else
			printf("\n-- %lld Kbytes in %zu Request%s.\n",
			    c.bytes / 1024, c.count, c.count == 1 ? "" : "s");
	}
	mq_flush();
	free(ent);
	free(c.ord);
	buf_free(&why);
	return mq->status;
}
