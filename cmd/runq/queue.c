/*
 * queue.c - pickup, the pass over due messages, and one message's attempt
 *
 * Pickup moves committed submissions from incoming/ to queue/ after
 * checking that the file is what it claims: one link, and the submitter
 * the envelope names is the file's owner (the kernel's word), or, for
 * runq's and smtpd-lite's own messages, root or mail_owner.  A file that
 * fails is moved to hold/ with a warning, never delivered.  As root,
 * pickup gives the file to mail_owner:setgid_group, mode 0640.
 *
 * A pass picks up, then attempts every message in queue/ whose time has
 * come (the file's mtime is its next try), up to
 * local_destination_concurrency_limit at once, each in a worker child
 * holding the message's flock.  The attempt delivers every pending
 * recipient that is due, records each outcome in place, sends the
 * notices the outcomes call for (RFC 3464: failures, delays, DSN
 * successes), and removes the file when no recipient is pending.
 */
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/conf.h"
#include "common/log.h"
#include "common/util.h"
#include "spool/spool.h"
#include "cmd/runq/bounce.h"
#include "cmd/runq/runq.h"

#define RQ_LOCK_WAIT	60000	/* ms a worker waits for a held message */
#define RQ_SESSION_MSGS	10	/* messages per session, at least */

/* Route keys met by an attempt that were not its own. */
struct rq_keys {
	char	**v;
	size_t	 n;
};

struct rq_due {
	char	**ids;
	size_t	 n, cap;
	long long now;
	long long soonest;	/* the earliest next try not due yet; 0 */
	int	 force;
};

static void	 rq_due_add(struct rq_due *, const char *);

static int	 rq_pickup_one(const char *, const struct stat *, void *);
static int	 rq_collect(const char *, const struct stat *, void *);
static int	 rq_cmp_id(const void *, const void *);
static int	 rq_due_rcpt(const struct runq *, const struct spool_rcpt *);
static void	 rq_remote_worker(struct runq *, const char *, char **,
		    size_t) __attribute__((noreturn));
static int	 rq_attempt_keys(struct runq *, const char *, const char *,
		    struct rq_conncache *, int, struct rq_keys *);
static int	 rq_filter(struct runq *, struct spool_msg *);
static void	 rq_log(struct rq_msgctx *, size_t, const struct rq_result *,
		    const char *status, double delay);
static void	 rq_notices(struct rq_msgctx *);
static int	 rq_notify_has(const char *, const char *);
static int	 rq_incoming_waiting(struct runq *);

/* rq_backoff - seconds until the next try after this many attempts */
long long
rq_backoff(long attempts)
{
	long long	 t = conf_time("minimal_backoff_time");
	long long	 max = conf_time("maximal_backoff_time");
	long		 i;

	for (i = 1; i < attempts && t < max; i++)
		t *= 2;
	return t < max ? t : max;
}

/*
 * rq_origin_uid - the uid= of a "local uid=N user=NAME" origin, or -1
 * when the origin is not a local submission
 */
static long long
rq_origin_uid(const char *origin)
{
	const char	*p, *err;
	char		 num[32];
	long long	 v;
	size_t		 n;

	if (origin == NULL || strncmp(origin, "local uid=", 10) != 0)
		return -1;
	p = origin + 10;
	n = strspn(p, "0123456789");
	if (n == 0 || n >= sizeof(num))
		return -2;
	memcpy(num, p, n);
	num[n] = '\0';
	if (num_parse(num, 0, 4294967295LL, &v, &err) != 0)
		return -2;
	return v;
}

/* What rq_pickup_one works with. */
struct rq_pickup_arg {
	struct runq	*rq;
	struct rq_due	*picked;	/* NULL, or where moved IDs go */
};

/* rq_pickup_one - spool_walk's callback for incoming/ */
static int
rq_pickup_one(const char *id, const struct stat *st, void *arg)
{
	struct rq_pickup_arg	*pa = arg;
	struct runq		*rq = pa->rq;
	struct spool_msg	 m;
	struct buf		 why;
	struct stat		 st2;
	long long		 uid;
	int			 fd, trusted;

	(void)st;
	buf_init(&why, 4096);
	if (spool_load(&rq->sp, SPOOL_INCOMING, id, SPOOL_LOAD_PEEK, &m,
	    &why) != 0) {
		log_warnx("pickup: %s", buf_str(&why));
		if (spool_move(&rq->sp, id, SPOOL_INCOMING, SPOOL_HOLD,
		    &why) == 0)
			log_warnx("%s: held: not a valid queue file", id);
		buf_free(&why);
		return 0;
	}
	uid = rq_origin_uid(m.origin);
	trusted = m.owner == 0 || m.owner == rq->owner_uid;
	if (uid == -2 || (uid >= 0 && (uid_t)uid != m.owner) ||
	    (uid < 0 && !trusted)) {
		log_warnx("%s: file owner uid %lu does not match its origin "
		    "(%s): held", id, (unsigned long)m.owner,
		    m.origin ? m.origin : "none");
		spool_msg_free(&m);
		spool_move(&rq->sp, id, SPOOL_INCOMING, SPOOL_HOLD, &why);
		buf_free(&why);
		return 0;
	}
	spool_msg_free(&m);
	/* The directories are fsync'd once for the whole pickup. */
	if (spool_move_nosync(&rq->sp, id, SPOOL_INCOMING, SPOOL_QUEUE,
	    &why) != 0) {
		log_warnx("pickup: %s", buf_str(&why));
		buf_free(&why);
		return 0;
	}
	if (pa->picked != NULL)
		rq_due_add(pa->picked, id);
	/* No new name can be made for it now: check the link count. */
	fd = openat(rq->sp.dirfd[SPOOL_QUEUE], id, O_RDONLY | O_NOFOLLOW |
	    O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st2) != 0 || st2.st_nlink != 1) {
		log_warnx("%s: more than one link after pickup: held", id);
		spool_move(&rq->sp, id, SPOOL_QUEUE, SPOOL_HOLD, &why);
	} else if (rq->root && (fchown(fd, rq->owner_uid, rq->drop_gid) != 0 ||
	    fchmod(fd, 0640) != 0))
		log_warn("%s: give to mail_owner", id);
	if (fd >= 0)
		close(fd);
	buf_free(&why);
	return 0;
}

/*
 * rq_pickup - move what incoming/ holds into queue/; the IDs moved are
 * added to picked when it is not NULL (rq_run's incremental passes)
 */
int
rq_pickup(struct runq *rq, struct rq_due *picked)
{
	struct rq_pickup_arg	 pa = { rq, picked };
	struct buf	 why;
	int		 rc;

	buf_init(&why, 4096);
	rc = spool_walk(&rq->sp, SPOOL_INCOMING, rq_pickup_one, &pa, &why);
	if (rc < 0)
		log_warnx("pickup: %s", buf_str(&why));
	/* Before any delivery: a picked-up message never reappears. */
	if (spool_sync_dirs(&rq->sp, &why) != 0)
		log_warnx("pickup: %s", buf_str(&why));
	buf_free(&why);
	return rc;
}

/* rq_any - spool_walk's callback: stop at the first message */
static int
rq_any(const char *id, const struct stat *st, void *arg)
{
	(void)id;
	(void)st;
	(void)arg;
	return 1;
}

/* rq_incoming_waiting - whether incoming/ holds a message */
static int
rq_incoming_waiting(struct runq *rq)
{
	struct buf	 why;
	int		 rc;

	buf_init(&why, 1024);
	rc = spool_walk(&rq->sp, SPOOL_INCOMING, rq_any, NULL, &why);
	buf_free(&why);
	return rc > 0;
}

/* rq_collect - spool_walk's callback: note due messages */
static int
rq_collect(const char *id, const struct stat *st, void *arg)
{
	struct rq_due	*d = arg;

	if (!d->force && st->st_mtime > d->now) {
		if (d->soonest == 0 || st->st_mtime < d->soonest)
			d->soonest = st->st_mtime;
		return 0;
	}
	rq_due_add(d, id);
	return 0;
}

static void
rq_due_add(struct rq_due *d, const char *id)
{
	if (d->n == d->cap) {
		d->cap = d->cap ? d->cap * 2 : 64;
		d->ids = xreallocarray(d->ids, d->cap, sizeof(char *));
	}
	d->ids[d->n++] = xstrdup(id);
}

static int
rq_cmp_id(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* One worker's work: a route key and its messages. */
struct rq_job {
	char	*key;		/* "local" or a remote route */
	char	**ids;
	size_t	 n, cap;
	int	 local;
};

struct rq_sched {
	struct rq_job	*jobs;
	size_t		 njobs;
	pid_t		*pids;		/* running workers */
	size_t		 npids;
	int		 local_mbox;	/* a local(8) recipient is due */
};

/*
 * rq_job_for - the job for a route key, "local" for local(8)'s (made on
 * first use; remote keys never read "local")
 */
static struct rq_job *
rq_job_for(struct rq_sched *s, const char *key)
{
	size_t	 i;

	for (i = 0; i < s->njobs; i++)
		if (strcmp(s->jobs[i].key, key) == 0)
			return &s->jobs[i];
	s->jobs = xreallocarray(s->jobs, s->njobs + 1, sizeof(*s->jobs));
	memset(&s->jobs[s->njobs], 0, sizeof(*s->jobs));
	s->jobs[s->njobs].key = xstrdup(key);
	return &s->jobs[s->njobs++];
}

static void
rq_job_add(struct rq_job *j, const char *id)
{
	if (j->n > 0 && strcmp(j->ids[j->n - 1], id) == 0)
		return;
	if (j->n == j->cap) {
		j->cap = j->cap ? j->cap * 2 : 8;
		j->ids = xreallocarray(j->ids, j->cap, sizeof(char *));
	}
	j->ids[j->n++] = xstrdup(id);
}

/*
 * rq_classify - which workers a due message needs: one local job of
 * its own when any recipient goes to local(8) (or when nothing else
 * does: the attempt still sends notices and sets the next try), and
 * the job of every remote route one of its due recipients takes
 */
static void
rq_classify(struct runq *rq, struct rq_sched *s, const char *id)
{
	struct spool_msg	 m;
	struct rq_route		 rt;
	struct buf		 why;
	size_t			 i;
	int			 local = 0, remote = 0;

	buf_init(&why, 1024);
	if (spool_load(&rq->sp, SPOOL_QUEUE, id, SPOOL_LOAD_PEEK, &m,
	    &why) != 0) {
		local = 1;	/* the attempt says what is wrong */
		s->local_mbox = 1;
		goto out;
	}
	for (i = 0; i < m.nrcpt; i++) {
		if (!rq_due_rcpt(rq, &m.rcpt[i]))
			continue;
		buf_reset(&why);
		if (rq_route(m.rcpt[i].addr, &rt, &why) != 0) {
			local = 1;
			s->local_mbox = 1;
		} else if (strcmp(rt.key, "local") != 0) {
			rq_job_add(rq_job_for(s, rt.key), id);
			remote = 1;
		} else {
			local = 1;
			if (rt.kind != RT_VIRTUAL)
				s->local_mbox = 1;
		}
	}
	spool_msg_free(&m);
out:
	if (local || !remote) {
		struct rq_job	*j = rq_job_for(s, "local");

		j->local = 1;
		rq_job_add(j, id);
	}
	buf_free(&why);
}

/* rq_reap - wait for one worker; 0 when there was none */
static int
rq_reap(struct rq_sched *s)
{
	pid_t	 pid;
	size_t	 i;
	int	 status;

	if ((pid = wait(&status)) < 0)
		return errno == EINTR;
	for (i = 0; i < s->npids; i++) {
		if (s->pids[i] != pid)
			continue;
		s->pids[i] = s->pids[--s->npids];
		break;
	}
	return 1;
}

/*
 * rq_launch - start one worker for job ji with ids[0..n); in the child
 * local jobs run rq_attempt as they always did, remote ones
 * rq_remote_worker
 */
static void
rq_launch(struct runq *rq, struct rq_sched *s, size_t ji, char **ids,
    size_t n)
{
	struct rq_job	*j = &s->jobs[ji];
	pid_t		 pid;
	size_t		 i;

	fflush(NULL);
	if ((pid = fork()) < 0) {
		log_warn("fork");
		if (j->local)
			for (i = 0; i < n; i++)
				rq_attempt(rq, ids[i], "local", NULL, 1);
		return;
	}
	if (pid == 0) {
		if (!j->local)
			rq_remote_worker(rq, j->key, ids, n);
		close(rq->lockfd);
		for (i = 0; i < n; i++)
			rq_attempt(rq, ids[i], "local", NULL, 1);
		_exit(0);
	}
	s->pids[s->npids++] = pid;
}

/*
 * rq_deal - job ji's messages dealt out among nw workers, in turn (so
 * each gets some of the oldest), each started within plimit workers
 */
static void
rq_deal(struct runq *rq, struct rq_sched *s, size_t ji, size_t nw,
    int plimit)
{
	struct rq_job	*j = &s->jobs[ji];
	char		**part = xcalloc(j->n, sizeof(char *));
	size_t		 w, i, n;

	for (w = 0; w < nw; w++) {
		for (n = 0, i = w; i < j->n; i += nw)
			part[n++] = j->ids[i];
		while ((int)s->npids >= plimit)
			if (!rq_reap(s))
				break;
		rq_launch(rq, s, ji, part, n);
	}
	free(part);
}

/*
 * rq_schedule - run the jobs: each remote route gets up to
 * smtp_destination_concurrency_limit workers, one session each, with
 * its messages dealt out among them (at least RQ_SESSION_MSGS per
 * worker, so a few messages share one session); the local job's
 * messages are dealt out among up to local_destination_concurrency_
 * limit workers, which attempt theirs one after another (a worker per
 * message cost a fork and an exit each: bench/smtpd), or among up to
 * default_destination_concurrency_limit when every due local
 * recipient is a virtual mailbox (Postfix's virtual(8) has that
 * limit: no mbox lock is shared there); all workers together stay
 * within default_process_limit.
 */
static void
rq_schedule(struct runq *rq, struct rq_sched *s)
{
	size_t		 ji, k, nw, total = 0;
	long long	 dlimit = conf_int("smtp_destination_concurrency_limit");
	int		 plimit = (int)conf_int("default_process_limit");
	int		 llimit = s->local_mbox ? rq->max_workers :
			    (int)conf_int("default_destination_concurrency_limit");

	for (ji = 0; ji < s->njobs; ji++)
		total += s->jobs[ji].local ? (size_t)llimit : (size_t)dlimit;
	s->pids = xcalloc(total + 1, sizeof(pid_t));
	/* Remote routes first: their workers keep a session each. */
	for (ji = 0; ji < s->njobs; ji++) {
		struct rq_job	*j = &s->jobs[ji];

		if (j->local)
			continue;
		nw = (j->n + RQ_SESSION_MSGS - 1) / RQ_SESSION_MSGS;
		rq_deal(rq, s, ji, nw < (size_t)dlimit ? nw : (size_t)dlimit,
		    plimit);
	}
	for (ji = 0; ji < s->njobs; ji++) {
		struct rq_job	*j = &s->jobs[ji];

		if (!j->local)
			continue;
		rq_deal(rq, s, ji, j->n < (size_t)llimit ? j->n :
		    (size_t)llimit, plimit);
	}
	while (s->npids > 0)
		if (!rq_reap(s))
			break;
	for (ji = 0; ji < s->njobs; ji++) {
		for (k = 0; k < s->jobs[ji].n; k++)
			free(s->jobs[ji].ids[k]);
		free(s->jobs[ji].ids);
		free(s->jobs[ji].key);
	}
	free(s->jobs);
	free(s->pids);
}

/*
 * rq_run - passes until nothing new is due: pickup, then every due
 * message in arrival order, in worker children (rq_schedule).
 * Messages made during the pass (forwards, notices) get their own pass
 * at once.
 *
 * Like Postfix's queue manager, which scans incoming/ whenever it is
 * woken and deferred/ every queue_run_delay, a runner that stays
 * (poked again and again, or -w) reads the whole of queue/ only when
 * something there may be due: at its first pass, with -f, -R or -S,
 * when the earliest next try seen in the last full scan has come, and
 * at least every queue_run_delay.  Its other passes attempt just what
 * their pickup moved in: a busy runner no longer stats every deferred
 * message for each new one (bench/smtpd).  A message its own attempts
 * defer is due minimal_backoff_time later at the soonest, so a pass
 * that attempted anything brings the next full scan that close.
 */
int
rq_run(struct runq *rq)
{
	struct rq_due	 d;
	struct rq_sched	 s;
	struct buf	 why;
	size_t		 i;
	int		 passes = 0, full;

	buf_init(&why, 4096);
	do {
		memset(&d, 0, sizeof(d));
		memset(&s, 0, sizeof(s));
		rq->now = time(NULL);
		d.now = rq->now;
		d.force = rq->force;
		full = rq->force || rq->only_site != NULL ||
		    rq->only_sender != NULL || rq->next_full == 0 ||
		    rq->now >= rq->next_full;
		rq_pickup(rq, full ? NULL : &d);
		if (full) {
			if (spool_walk(&rq->sp, SPOOL_QUEUE, rq_collect, &d,
			    &why) < 0)
				log_warnx("scan: %s", buf_str(&why));
			rq->next_full = rq->now +
			    conf_time("queue_run_delay");
			if (d.soonest != 0 && d.soonest < rq->next_full)
				rq->next_full = d.soonest;
		}
		if (d.n > 0 && rq->now + rq_backoff(1) < rq->next_full)
			rq->next_full = rq->now + rq_backoff(1);
		if (d.n > 1)
			qsort(d.ids, d.n, sizeof(char *), rq_cmp_id);
		for (i = 0; i < d.n; i++) {
			rq_classify(rq, &s, d.ids[i]);
			free(d.ids[i]);
		}
		free(d.ids);
		rq_route_close();
		rq_schedule(rq, &s);
		/* New mail that arrived meanwhile: another pass. */
		passes++;
	} while (passes < 100 && rq_incoming_waiting(rq));
	buf_free(&why);
	return 0;
}

/*
 * rq_scan_headers - what loop detection needs from the header section:
 * the Delivered-To values (lower-cased) and the Received count
 */
void
rq_scan_headers(struct rq_msgctx *c)
{
	struct spool_msg	*m = c->m;
	struct buf		 line;
	char			 chunk[8192];
	off_t			 pos = 0;
	ssize_t			 n, i;
	int			 done = 0;

	buf_init(&line, 4096);
	while (!done && pos < m->content_len && pos < RQ_HDR_SCAN_MAX) {
		n = pread(m->fd, chunk, sizeof(chunk), m->content_off + pos);
		if (n <= 0)
			break;
		if (n > m->content_len - pos)
			n = (ssize_t)(m->content_len - pos);
		for (i = 0; i < n && !done; i++) {
			if (chunk[i] != '\n') {
				buf_addc(&line, chunk[i]);
				continue;
			}
			if (line.len == 0) {
				done = 1;
				break;
			}
			if (line.len > 13 &&
			    strncasecmp(line.data, "Delivered-To:", 13) == 0 &&
			    c->ndelivered_to < 100) {
				char	*v = line.data + 13;

				v += strspn(v, " \t");
				str_lower(v);
				c->delivered_to = xreallocarray(c->delivered_to,
				    c->ndelivered_to + 1, sizeof(char *));
				c->delivered_to[c->ndelivered_to++] =
				    xstrdup(v);
			} else if (line.len >= 9 &&
			    strncasecmp(line.data, "Received:", 9) == 0)
				c->hops++;
			buf_reset(&line);
		}
		pos += n;
	}
	buf_free(&line);
}

/* rq_filter - -R site and -S sender: whether this message is wanted */
static int
rq_filter(struct runq *rq, struct spool_msg *m)
{
	const char	*at;
	size_t		 i, n, sl;

	if (rq->only_sender != NULL &&
	    strcasestr(m->sender, rq->only_sender) == NULL)
		return 0;
	if (rq->only_site == NULL)
		return 1;
	sl = strlen(rq->only_site);
	for (i = 0; i < m->nrcpt; i++) {
		if (m->rcpt[i].state != RCPT_PENDING ||
		    (at = strrchr(m->rcpt[i].addr, '@')) == NULL)
			continue;
		at++;
		n = strlen(at);
		if (str_casecmp_ascii(at, rq->only_site) == 0 ||
		    (n > sl && at[n - sl - 1] == '.' &&
		    str_casecmp_ascii(at + n - sl, rq->only_site) == 0))
			return 1;
	}
	return 0;
}

/* rq_notify_has - whether a DSN NOTIFY list holds a keyword */
static int
rq_notify_has(const char *notify, const char *word)
{
	const char	*p = notify;
	size_t		 n = strlen(word);

	while (p != NULL && *p != '\0') {
		if (strncasecmp(p, word, n) == 0 &&
		    (p[n] == ',' || p[n] == '\0'))
			return 1;
		if ((p = strchr(p, ',')) != NULL)
			p++;
	}
	return 0;
}


/*
 * rq_log - one recipient's outcome, in Postfix's format, so that
 * pflogsumm counts it (status=sent, deferred, bounced)
 */
static void
rq_log(struct rq_msgctx *c, size_t idx, const struct rq_result *res,
    const char *status, double delay)
{
	struct spool_rcpt	*r = &c->m->rcpt[idx];
	char			 text[LOG_SAFE_MAX], orig[LOG_SAFE_MAX];
	const char		*svc = res->service != NULL ? res->service :
				    "smtp";

	log_safe(text, sizeof(text), res->r.text, strlen(res->r.text));
	if (res->orig[0] != '\0' && strcmp(res->orig, r->addr) != 0) {
		log_safe(orig, sizeof(orig), res->orig, strlen(res->orig));
		log_mail(svc, "%s: to=<%s>, orig_to=<%s>, relay=%s, "
		    "delay=%.2f, delays=0/0/0/%.2f, dsn=%s, status=%s (%s)",
		    c->m->id, r->addr, orig, res->relay, delay, delay,
		    res->r.dsn, status, text);
	} else
		log_mail(svc, "%s: to=<%s>, relay=%s, delay=%.2f, "
		    "delays=0/0/0/%.2f, dsn=%s, status=%s (%s)", c->m->id,
		    r->addr, res->relay, delay, delay, res->r.dsn, status,
		    text);
	if (c->rq->only_id != NULL)
		fprintf(stderr, "%s: %s: %s (%s %s)\n", c->m->id, r->addr,
		    status, res->r.dsn, res->r.text);
}

/*
 * rq_notices - the notices this attempt calls for: a failure notice
 * for every failed recipient not yet reported (a double bounce to
 * postmaster when the sender is null; nothing at all when the sender is
 * the double-bounce address), delay notices once per recipient after
 * delay_warning_time, and DSN success notices.
 */
static void
rq_notices(struct rq_msgctx *c)
{
	struct runq		*rq = c->rq;
	struct spool_msg	*m = c->m;
	struct buf		 why, dbl, pm;
	size_t			*idx, nfail = 0, ndelay = 0, nok = 0, i;
	size_t			*didx, *oidx;
	char			 id[SPOOL_ID_MAX];
	const char		*to, *from = "";
	long long		 dw = conf_time("delay_warning_time");
	int			 null_sender = m->sender[0] == '\0';

	buf_init(&why, 4096);
	buf_init(&dbl, 1024);
	buf_init(&pm, 1024);
	idx = xcalloc(m->nrcpt, sizeof(size_t));
	didx = xcalloc(m->nrcpt, sizeof(size_t));
	oidx = xcalloc(m->nrcpt, sizeof(size_t));
	buf_printf(&dbl, "%s@%s", conf_get("double_bounce_sender"),
	    conf_get("myorigin"));
	for (i = 0; i < m->nrcpt; i++) {
		struct spool_rcpt	*r = &m->rcpt[i];
		const char		*nt = r->notify;

		if (r->state == RCPT_FAILED) {
			if (nt == NULL || rq_notify_has(nt, "FAILURE"))
				idx[nfail++] = i;
			else {
				r->state = RCPT_BOUNCED;
				spool_rcpt_update(m, i, &why);
			}
		} else if (r->state == RCPT_PENDING && dw > 0 &&
		    r->flags != 'w' && rq->now - c->arrival >= dw &&
		    !null_sender && (nt == NULL || rq_notify_has(nt,
		    "DELAY")))
			didx[ndelay++] = i;
		else if (r->state == RCPT_DELIVERED && r->flags != 's' &&
		    nt != NULL && rq_notify_has(nt, "SUCCESS") &&
		    !null_sender)
			oidx[nok++] = i;
	}
	if (nfail > 0) {
		to = m->sender;
		if (null_sender) {
			/* A failed notice: postmaster hears of it, once. */
			to = conf_get("2bounce_notice_recipient");
			if (strchr(to, '@') == NULL) {
				buf_reset(&pm);
				buf_printf(&pm, "%s@%s", to,
				    conf_get("myorigin"));
				to = buf_str(&pm);
			}
			from = buf_str(&dbl);
		}
		if (str_casecmp_ascii(m->sender, buf_str(&dbl)) == 0) {
			log_mail("bounce", "%s: undeliverable double bounce: "
			    "discarded", m->id);
		} else if (fwd_notice(rq, m, BOUNCE_FAILURE, idx, nfail, to,
		    from, id, sizeof(id), &why) == 0) {
			log_mail("bounce", "%s: %s non-delivery notification: "
			    "%s", m->id, null_sender ? "postmaster" : "sender",
			    id);
		} else {
			log_warnx("%s: cannot queue the failure notice: %s",
			    m->id, buf_str(&why));
			goto out;	/* keep F: retried next time */
		}
		for (i = 0; i < nfail; i++) {
			m->rcpt[idx[i]].state = RCPT_BOUNCED;
			spool_rcpt_update(m, idx[i], &why);
		}
	}
	if (ndelay > 0 && fwd_notice(rq, m, BOUNCE_DELAY, didx, ndelay,
	    m->sender, "", id, sizeof(id), &why) == 0) {
		log_mail("bounce", "%s: sender delay notification: %s",
		    m->id, id);
		for (i = 0; i < ndelay; i++) {
			m->rcpt[didx[i]].flags = 'w';
			spool_rcpt_update(m, didx[i], &why);
		}
	}
	if (nok > 0 && fwd_notice(rq, m, BOUNCE_SUCCESS, oidx, nok,
	    m->sender, "", id, sizeof(id), &why) == 0) {
		log_mail("bounce", "%s: sender delivery status notification: "
		    "%s", m->id, id);
		for (i = 0; i < nok; i++) {
			m->rcpt[oidx[i]].flags = 's';
			spool_rcpt_update(m, oidx[i], &why);
		}
	}
out:
	free(idx);
	free(didx);
	free(oidx);
	buf_free(&why);
	buf_free(&dbl);
	buf_free(&pm);
}

/* rq_arrival - the envelope's arrival time in seconds */
static double
rq_arrival(const struct spool_msg *m)
{
	return m->time != NULL ? strtod(m->time, NULL) : 0;
}

/* rq_now - the time of day with fractions */
static double
rq_now(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* rq_keys_add - note a route key once */
static void
rq_keys_add(struct rq_keys *k, const char *key)
{
	size_t	 i;

	if (k == NULL)
		return;
	for (i = 0; i < k->n; i++)
		if (strcmp(k->v[i], key) == 0)
			return;
	k->v = xreallocarray(k->v, k->n + 1, sizeof(char *));
	k->v[k->n++] = xstrdup(key);
}

static void
rq_keys_free(struct rq_keys *k)
{
	size_t	 i;

	for (i = 0; i < k->n; i++)
		free(k->v[i]);
	free(k->v);
	k->v = NULL;
	k->n = 0;
}

/* rq_due_rcpt - whether recipient r is attempted now */
static int
rq_due_rcpt(const struct runq *rq, const struct spool_rcpt *r)
{
	return r->state == RCPT_PENDING && (rq->force || r->next <= rq->now);
}

/*
 * rq_local_route - the outcome of a route that is not a remote
 * delivery: error, retry, discard, an unknown transport; 0 when the
 * recipient goes to local(8)
 */
static int
rq_local_route(const struct rq_route *rt, struct rq_result *res)
{
	const char	*t = rt->nexthop;
	size_t		 n;

	res->relay = "none";
	res->service = rt->transport;
	switch (rt->kind) {
	case RT_LOCAL:
	case RT_VIRTUAL:
		res->relay = rt->kind == RT_LOCAL ? "local" : "virtual";
		res->service = res->relay;
		return 0;
	case RT_ERROR:
	case RT_RETRY:
		/* "5.1.1 text", "text": the code when it leads the text */
		n = strspn(t, "0123456789.");
		if (n >= 5 && n < 12 && t[n] == ' ' &&
		    t[0] == (rt->kind == RT_ERROR ? '5' : '4') && t[1] == '.') {
			char	 dsn[12];

			memcpy(dsn, t, n);
			dsn[n] = '\0';
			dlv_set(&res->r, rt->kind == RT_ERROR ? DLV_BOUNCE :
			    DLV_DEFER, dsn, "%s", t + n + 1);
		} else
			dlv_set(&res->r, rt->kind == RT_ERROR ? DLV_BOUNCE :
			    DLV_DEFER, rt->kind == RT_ERROR ? "5.0.0" :
			    "4.0.0", "%s", *t ? t : rt->kind == RT_ERROR ?
			    "delivery refused by transport_maps" :
			    "delivery deferred by transport_maps");
		return 1;
	case RT_DISCARD:
		dlv_set(&res->r, DLV_OK, "2.0.0", "%s", *t ? t : "discarded");
		return 1;
	default:
		res->service = "qmgr";
		dlv_set(&res->r, DLV_DEFER, "4.3.5", "mail transport "
		    "unavailable: %s is not a transport correo has",
		    rt->transport);
		return 1;
	}
}

/* The tallies of one attempt. */
struct rq_tally {
	long long	 next;
	long long	 lifetime;
	double		 arrival;
	int		 pending, failed;
};

/* rq_outcome - record recipient i's result: state, log, next try */
static void
rq_outcome(struct rq_msgctx *c, size_t i, struct rq_result *res,
    struct rq_tally *t, struct buf *why)
{
	struct runq		*rq = c->rq;
	struct spool_rcpt	*r = &c->m->rcpt[i];

	bsnprintf(r->reply, sizeof(r->reply), "%s %s", res->r.dsn,
	    res->r.text);
	switch (res->r.status) {
	case DLV_OK:
		r->state = RCPT_DELIVERED;
		rq_log(c, i, res, "sent", rq_now() - t->arrival);
		break;
	case DLV_DEFER:
		r->attempts++;
		r->next = rq->now + rq_backoff(r->attempts);
		rq_log(c, i, res, "deferred", rq_now() - t->arrival);
		if (rq->now - c->arrival >= t->lifetime) {
			r->state = RCPT_FAILED;
			t->failed = 1;
			log_mail("qmgr", "%s: from=<%s>, status=expired, "
			    "returned to sender", c->m->id, c->m->sender);
		} else {
			t->pending = 1;
			if (t->next == 0 || r->next < t->next)
				t->next = r->next;
		}
		break;
	case DLV_BOUNCE:
		r->state = RCPT_FAILED;
		t->failed = 1;
		rq_log(c, i, res, "bounced", rq_now() - t->arrival);
		break;
	}
	if (spool_rcpt_write(c->m, i, why) != 0)
		log_warnx("%s", buf_str(why));
}

/* A group of recipients of one message for one remote route. */
struct rq_group {
	struct rq_route	 rt;
	size_t		*idx;
	size_t		 n;
};

/*
 * rq_load - load a message for an attempt; with wait, a message that
 * another worker holds is waited for (at most RQ_LOCK_WAIT ms): no
 * worker ever waits while it holds a message, so this cannot deadlock
 */
static int
rq_load(struct runq *rq, const char *id, struct spool_msg *m, int wait,
    struct buf *why)
{
	long long	 deadline = now_ms() + RQ_LOCK_WAIT;
	useconds_t	 pause = 10000;

	for (;;) {
		buf_reset(why);
		if (spool_load(&rq->sp, SPOOL_QUEUE, id, SPOOL_LOAD_WRITE, m,
		    why) == 0)
			return 0;
		if (!m->busy || !wait || now_ms() >= deadline)
			return -1;
		usleep(pause);
		if (pause < 200000)
			pause *= 2;
	}
}

/*
 * rq_attempt - one attempt at one message, for the recipients whose
 * route key is only_key ("local" for everything that is not SMTP or
 * LMTP; NULL for all of them).  Remote routes go over cc's sessions;
 * with only_key "local" they are skipped and their keys noted in
 * keys (when not NULL).  Returns the sysexits outcome for -I: EX_OK
 * (delivered, or deferred: it waits in the queue) or EX_NOUSER when a
 * recipient failed for good.
 */
int
rq_attempt(struct runq *rq, const char *id, const char *only_key,
    struct rq_conncache *cc, int wait)
{
	return rq_attempt_keys(rq, id, only_key, cc, wait, NULL);
}

static int
rq_attempt_keys(struct runq *rq, const char *id, const char *only_key,
    struct rq_conncache *cc, int wait, struct rq_keys *keys)
{
	struct spool_msg	 m;
	struct rq_msgctx	 c;
	struct rq_result	 res, *gres;
	struct rq_route		 rt;
	struct rq_group		*groups = NULL;
	struct rq_tally		 t;
	struct buf		 why;
	size_t			 i, j, ngroups = 0;
	int			 failed = 0, fd;

	buf_init(&why, 4096);
	rq->now = time(NULL);
	if (rq_load(rq, id, &m, wait, &why) != 0) {
		if (m.busy && rq->only_id != NULL) {
			/* Another runner has it: wait for its outcome. */
			fd = openat(rq->sp.dirfd[SPOOL_QUEUE], id, O_RDONLY |
			    O_CLOEXEC);
			if (fd >= 0 && flock(fd, LOCK_SH) == 0)
				close(fd);
			buf_reset(&why);
			if (spool_load(&rq->sp, SPOOL_QUEUE, id,
			    SPOOL_LOAD_PEEK, &m, &why) != 0)
				return EX_OK;	/* done and removed */
			for (i = 0; i < m.nrcpt; i++)
				if (m.rcpt[i].state == RCPT_FAILED ||
				    m.rcpt[i].state == RCPT_BOUNCED)
					failed = 1;
			spool_msg_free(&m);
			return failed ? EX_NOUSER : EX_OK;
		}
		if (errno == ENOENT && rq->only_id != NULL && only_key != NULL &&
		    strcmp(only_key, "local") == 0) {
			fprintf(stderr, "runq: %s: not in the queue (delivered "
			    "or held)\n", id);
			return EX_OK;
		}
		if (!m.busy && errno != ENOENT) {
			/* Not a message we can read: out of the way, kept. */
			log_warnx("%s", buf_str(&why));
			buf_reset(&why);
			if (spool_move(&rq->sp, id, SPOOL_QUEUE, SPOOL_HOLD,
			    &why) == 0)
				log_warnx("%s: held: not a valid queue file", id);
		}
		buf_free(&why);
		return EX_OK;
	}
	if (!rq_filter(rq, &m)) {
		spool_msg_free(&m);
		buf_free(&why);
		return EX_OK;
	}
	memset(&c, 0, sizeof(c));
	memset(&t, 0, sizeof(t));
	c.rq = rq;
	c.m = &m;
	t.arrival = rq_arrival(&m);
	c.arrival = (long long)t.arrival;
	c.eightbit = m.body != NULL && strcmp(m.body, "8BITMIME") == 0;
	t.lifetime = conf_time(m.sender[0] == '\0' ? "bounce_queue_lifetime" :
	    "maximal_queue_lifetime");

	for (i = 0; i < m.nrcpt; i++) {
		struct spool_rcpt	*r = &m.rcpt[i];

		if (r->state != RCPT_PENDING)
			continue;
		if (!rq_due_rcpt(rq, r)) {
			t.pending = 1;
			if (t.next == 0 || r->next < t.next)
				t.next = r->next;
			continue;
		}
		memset(&res, 0, sizeof(res));
		buf_reset(&why);
		if (rq_route(r->addr, &rt, &why) != 0) {
			memset(&rt, 0, sizeof(rt));
			rt.kind = RT_RETRY;
			str_copy(rt.transport, sizeof(rt.transport), "retry");
			bsnprintf(rt.nexthop, sizeof(rt.nexthop), "4.3.0 "
			    "transport table lookup failure: %s",
			    buf_str(&why));
			str_copy(rt.key, sizeof(rt.key), "local");
		}
		if (only_key != NULL && strcmp(rt.key, only_key) != 0) {
			/* Another worker's: it stays pending for it. */
			t.pending = 1;
			rq_keys_add(keys, rt.key);
			continue;
		}
		if (!rq->force && conf_list_has("defer_transports",
		    rt.transport)) {
			/* Waits for sendmail -q / runq -f; no attempt. */
			t.pending = 1;
			str_copy(r->reply, sizeof(r->reply),
			    "4.3.2 deferred transport");
			spool_rcpt_update(&m, i, &why);
			if (t.next == 0 || rq->now + rq_backoff(1) < t.next)
				t.next = rq->now + rq_backoff(1);
			continue;
		}
		if (rt.kind == RT_SMTP || rt.kind == RT_LMTP) {
			/* Sent below, one transaction per route. */
			for (j = 0; j < ngroups; j++)
				if (strcmp(groups[j].rt.key, rt.key) == 0)
					break;
			if (j == ngroups) {
				groups = xreallocarray(groups, ngroups + 1,
				    sizeof(*groups));
				memset(&groups[j], 0, sizeof(groups[j]));
				groups[j].rt = rt;
				groups[j].idx = xcalloc(m.nrcpt,
				    sizeof(size_t));
				ngroups++;
			}
			groups[j].idx[groups[j].n++] = i;
			continue;
		}
		if (rq_local_route(&rt, &res) == 0) {
			if (!c.scanned) {
				rq_scan_headers(&c);
				c.scanned = 1;
			}
			local_deliver(&c, i, &res);
		}
		rq_outcome(&c, i, &res, &t, &why);
	}
	for (j = 0; j < ngroups; j++) {
		gres = xcalloc(groups[j].n, sizeof(*gres));
		rq_remote_deliver(&c, &groups[j].rt, groups[j].idx, gres,
		    groups[j].n, cc);
		for (i = 0; i < groups[j].n; i++)
			rq_outcome(&c, groups[j].idx[i], &gres[i], &t, &why);
		free(gres);
		free(groups[j].idx);
	}
	free(groups);
	rq_notices(&c);
	for (i = 0; i < m.nrcpt; i++)
		if (m.rcpt[i].state == RCPT_PENDING ||
		    m.rcpt[i].state == RCPT_FAILED)
			t.pending = 1;
	/*
	 * The outcomes are made durable once: by the removal when nothing
	 * is pending, else by one fdatasync.  A crash before either can
	 * only repeat this attempt (correo-spool.5).
	 */
	if (!t.pending) {
		if (spool_remove(&rq->sp, m.id, SPOOL_QUEUE, &why) == 0)
			log_mail("qmgr", "%s: removed", m.id);
		else
			log_warnx("%s", buf_str(&why));
	} else {
		if (t.next > 0)
			spool_set_due(&m, t.next);
		if (spool_msg_sync(&m, &why) != 0)
			log_warnx("%s", buf_str(&why));
	}
	for (i = 0; i < c.ndelivered_to; i++)
		free(c.delivered_to[i]);
	free(c.delivered_to);
	spool_msg_free(&m);
	buf_free(&why);
	return t.failed ? EX_NOUSER : EX_OK;
}

/*
 * rq_remote_worker - in a new process: become mail_owner (after the
 * password maps are open), then one attempt per message for key over
 * one session cache; the exit code is 1 when a recipient failed
 */
static void
rq_remote_worker(struct runq *rq, const char *key, char **ids, size_t n)
{
	struct rq_conncache	*cc;
	size_t			 i;
	int			 failed = 0;

	if (rq->lockfd >= 0)
		close(rq->lockfd);
	cc = rq_conncache_new(rq);
	if (rq_remote_prepare(rq, cc) != 0)
		_exit(2);
	for (i = 0; i < n; i++)
		if (rq_attempt(rq, ids[i], key, cc, 1) == EX_NOUSER)
			failed = 1;
	rq_conncache_free(cc);
	_exit(failed);
}

/*
 * rq_message - -I: one message now, all its routes: the local ones in
 * this process, each remote route in a worker of its own (which runs as
 * mail_owner), one after the other
 */
int
rq_message(struct runq *rq, const char *id)
{
	struct rq_keys	 keys;
	size_t		 i;
	pid_t		 pid;
	int		 rc, status;

	memset(&keys, 0, sizeof(keys));
	rc = rq_attempt_keys(rq, id, "local", NULL, 1, &keys);
	for (i = 0; i < keys.n; i++) {
		char	*one[1];

		one[0] = (char *)id;
		fflush(NULL);
		if ((pid = fork()) < 0) {
			log_warn("fork");
			continue;
		}
		if (pid == 0)
			rq_remote_worker(rq, keys.v[i], one, 1);
		while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
			;
		if (WIFEXITED(status) && WEXITSTATUS(status) == 1)
			rc = EX_NOUSER;
	}
	rq_keys_free(&keys);
	return rc;
}
