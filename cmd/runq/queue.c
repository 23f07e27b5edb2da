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

struct rq_due {
	char	**ids;
	size_t	 n, cap;
	long long now;
	int	 force;
};

static int	 rq_pickup_one(const char *, const struct stat *, void *);
static int	 rq_collect(const char *, const struct stat *, void *);
static int	 rq_cmp_id(const void *, const void *);
static void	 rq_scan_headers(struct rq_msgctx *);
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

/* rq_pickup_one - spool_walk's callback for incoming/ */
static int
rq_pickup_one(const char *id, const struct stat *st, void *arg)
{
	struct runq		*rq = arg;
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

/* rq_pickup - move what incoming/ holds into queue/ */
int
rq_pickup(struct runq *rq)
{
	struct buf	 why;
	int		 rc;

	buf_init(&why, 4096);
	rc = spool_walk(&rq->sp, SPOOL_INCOMING, rq_pickup_one, rq, &why);
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

	if (!d->force && st->st_mtime > d->now)
		return 0;
	if (d->n == d->cap) {
		d->cap = d->cap ? d->cap * 2 : 64;
		d->ids = xreallocarray(d->ids, d->cap, sizeof(char *));
	}
	d->ids[d->n++] = xstrdup(id);
	return 0;
}

static int
rq_cmp_id(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/*
 * rq_run - passes until nothing new is due: pickup, then every due
 * message in arrival order, in worker children.  Messages made during
 * the pass (forwards, notices) get their own pass at once.
 */
int
rq_run(struct runq *rq)
{
	struct rq_due	 d;
	struct buf	 why;
	size_t		 i;
	int		 running = 0, status, passes = 0;
	pid_t		 pid;

	buf_init(&why, 4096);
	do {
		memset(&d, 0, sizeof(d));
		rq->now = time(NULL);
		d.now = rq->now;
		d.force = rq->force;
		rq_pickup(rq);
		if (spool_walk(&rq->sp, SPOOL_QUEUE, rq_collect, &d,
		    &why) < 0)
			log_warnx("scan: %s", buf_str(&why));
		if (d.n > 1)
			qsort(d.ids, d.n, sizeof(char *), rq_cmp_id);
		for (i = 0; i < d.n; i++) {
			while (running >= rq->max_workers) {
				if (wait(&status) > 0)
					running--;
			}
			fflush(NULL);
			if ((pid = fork()) < 0) {
				log_warn("fork");
				rq_message(rq, d.ids[i]);
			} else if (pid == 0) {
				close(rq->lockfd);
				_exit(rq_message(rq, d.ids[i]) == EX_OK ?
				    0 : 1);
			} else
				running++;
			free(d.ids[i]);
		}
		while (running > 0)
			if (wait(&status) > 0 || errno == ECHILD)
				running--;
		free(d.ids);
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
static void
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

/* rq_in_list - whether a configuration list holds word */
static int
rq_in_list(const char *param, const char *word)
{
	char	**l = conf_list(param);
	size_t	 i;
	int	 found = 0;

	for (i = 0; l[i] != NULL; i++)
		if (str_casecmp_ascii(l[i], word) == 0)
			found = 1;
	conf_list_free(l);
	return found;
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
	const char		*svc = strcmp(res->relay, "local") == 0 ?
				    "local" : strcmp(res->relay, "virtual") ==
				    0 ? "virtual" : "smtp";

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

/*
 * rq_message - one attempt at one message; returns the sysexits outcome
 * for -I: EX_OK (delivered, or deferred: it waits in the queue) or
 * EX_NOUSER when a recipient failed for good.
 */
int
rq_message(struct runq *rq, const char *id)
{
	struct spool_msg	 m;
	struct rq_msgctx	 c;
	struct rq_result	 res;
	struct buf		 why;
	size_t			 i;
	long long		 next = 0, lifetime;
	double			 arrival;
	int			 pending = 0, failed = 0, deferred = 0, fd;

	buf_init(&why, 4096);
	rq->now = time(NULL);
	if (spool_load(&rq->sp, SPOOL_QUEUE, id, SPOOL_LOAD_WRITE, &m,
	    &why) != 0) {
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
		if (errno == ENOENT && rq->only_id != NULL) {
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
	c.rq = rq;
	c.m = &m;
	arrival = rq_arrival(&m);
	c.arrival = (long long)arrival;
	c.eightbit = m.body != NULL && strcmp(m.body, "8BITMIME") == 0;
	rq_scan_headers(&c);
	lifetime = conf_time(m.sender[0] == '\0' ? "bounce_queue_lifetime" :
	    "maximal_queue_lifetime");

	for (i = 0; i < m.nrcpt; i++) {
		struct spool_rcpt	*r = &m.rcpt[i];
		const char		*at = strrchr(r->addr, '@');
		const char		*transport;

		if (r->state != RCPT_PENDING)
			continue;
		if (!rq->force && r->next > rq->now) {
			pending = 1;
			if (next == 0 || r->next < next)
				next = r->next;
			continue;
		}
		at = at != NULL ? at + 1 : "";
		transport = local_is_mydestination(at) ? "local" :
		    local_is_virtual(at) ? "virtual" : "smtp";
		if (!rq->force && rq_in_list("defer_transports", transport)) {
			/* Waits for sendmail -q / runq -f; no attempt. */
			pending = 1;
			str_copy(r->reply, sizeof(r->reply),
			    "4.3.2 deferred transport");
			spool_rcpt_update(&m, i, &why);
			if (next == 0 || rq->now + rq_backoff(1) < next)
				next = rq->now + rq_backoff(1);
			continue;
		}
		memset(&res, 0, sizeof(res));
		res.relay = "none";
		if (strcmp(transport, "smtp") == 0)
			dlv_set(&res.r, DLV_DEFER, "4.4.0",
			    "remote delivery not available");
		else {
			res.relay = transport;
			local_deliver(&c, i, &res);
		}
		bsnprintf(r->reply, sizeof(r->reply), "%s %s", res.r.dsn,
		    res.r.text);
		switch (res.r.status) {
		case DLV_OK:
			r->state = RCPT_DELIVERED;
			rq_log(&c, i, &res, "sent", rq_now() - arrival);
			break;
		case DLV_DEFER:
			r->attempts++;
			r->next = rq->now + rq_backoff(r->attempts);
			rq_log(&c, i, &res, "deferred", rq_now() - arrival);
			if (rq->now - c.arrival >= lifetime) {
				r->state = RCPT_FAILED;
				failed = 1;
				log_mail("qmgr", "%s: from=<%s>, status=expired, "
				    "returned to sender", m.id, m.sender);
			} else {
				pending = 1;
				deferred = 1;
				if (next == 0 || r->next < next)
					next = r->next;
			}
			break;
		case DLV_BOUNCE:
			r->state = RCPT_FAILED;
			failed = 1;
			rq_log(&c, i, &res, "bounced", rq_now() - arrival);
			break;
		}
		if (spool_rcpt_write(&m, i, &why) != 0)
			log_warnx("%s", buf_str(&why));
	}
	rq_notices(&c);
	for (i = 0; i < m.nrcpt; i++)
		if (m.rcpt[i].state == RCPT_PENDING ||
		    m.rcpt[i].state == RCPT_FAILED)
			pending = 1;
	/*
	 * The outcomes are made durable once: by the removal when nothing
	 * is pending, else by one fdatasync.  A crash before either can
	 * only repeat this attempt (correo-spool.5).
	 */
	if (!pending) {
		if (spool_remove(&rq->sp, m.id, SPOOL_QUEUE, &why) == 0)
			log_mail("qmgr", "%s: removed", m.id);
		else
			log_warnx("%s", buf_str(&why));
	} else {
		if (next > 0)
			spool_set_due(&m, next);
		if (spool_msg_sync(&m, &why) != 0)
			log_warnx("%s", buf_str(&why));
	}
	for (i = 0; i < c.ndelivered_to; i++)
		free(c.delivered_to[i]);
	free(c.delivered_to);
	spool_msg_free(&m);
	buf_free(&why);
	if (failed)
		return EX_NOUSER;
	(void)deferred;
	return EX_OK;
}
