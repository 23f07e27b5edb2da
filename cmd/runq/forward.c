/*
 * forward.c - the messages runq itself queues: forwards and notices
 *
 * Both go into incoming/ through the same spool calls as a submission
 * (one unnamed file, fsync'd, then named), with origin "forward" or
 * "notice"; they belong to runq's user (root or mail_owner), which is
 * what pickup requires of origins other than a local uid.  The pass
 * that made them picks them up at once.
 *
 * A forward (an alias or .forward expanding to addresses, as Postfix's
 * local(8) resubmits them) is the original content with a Delivered-To
 * header for the recipient it was delivered to first, so a loop is
 * noticed when it comes back (5.4.6); each new recipient keeps the
 * original recipient as its ORCPT.
 */
#include <errno.h>
#include <stdio.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/conf.h"
#include "common/log.h"
#include "common/util.h"
#include "spool/spool.h"
#include "cmd/runq/bounce.h"
#include "cmd/runq/runq.h"

/*
 * fwd_envelope - the records every runq-made message starts with; body
 * NULL when the writer already wrote it (bounce_write does)
 */
static int
fwd_envelope(struct spool_writer *w, const char *origin, const char *sender,
    const char *body)
{
	struct timespec	 ts;
	char		 t[64];

	clock_gettime(CLOCK_REALTIME, &ts);
	if (bsnprintf(t, sizeof(t), "%lld.%06ld", (long long)ts.tv_sec,
	    ts.tv_nsec / 1000) != 0)
		return -1;
	return spool_env(w, "time", t) != 0 || spool_env(w, "origin",
	    origin) != 0 || spool_env(w, "sender", sender) != 0 ||
	    (body != NULL && spool_env(w, "body", body) != 0) ? -1 : 0;
}

/* fwd_copy - the original content into the writer, in pieces */
static int
fwd_copy(struct spool_writer *w, const struct spool_msg *m)
{
	char	 chunk[DLV_CHUNK];
	off_t	 pos = 0;
	ssize_t	 n;

	while (pos < m->content_len) {
		n = pread(m->fd, chunk, (size_t)(m->content_len - pos) <
		    sizeof(chunk) ? (size_t)(m->content_len - pos) :
		    sizeof(chunk), m->content_off + pos);
		if (n <= 0) {
			if (n == 0)
				errno = EIO;
			return -1;
		}
		if (spool_write(w, chunk, (size_t)n) != 0)
			return -1;
		pos += n;
	}
	return 0;
}

/* fwd_commit - finish and name a runq-made message */
static int
fwd_commit(struct spool_writer *w, char *id_out, size_t idsz,
    struct buf *why)
{
	if (spool_finish(w, why) != 0 || spool_commit(w, why) != 0) {
		spool_abort(w);
		return -1;
	}
	return str_copy(id_out, idsz, w->id);
}

/*
 * fwd_enqueue - a forward: the content with "Delivered-To:
 * delivered_to" on top, from sender, to rcpts
 */
int
fwd_enqueue(struct runq *rq, const struct spool_msg *m, const char *sender,
    char **rcpts, size_t n, const char *delivered_to, const char *orcpt,
    const char *notify, char *id_out, size_t idsz, struct buf *why)
{
	struct spool_writer	 w;
	struct buf		 hdr;
	size_t			 i;
	int			 rc = -1;

	if (spool_create(&rq->sp, &w, why) != 0)
		return -1;
	buf_init(&hdr, SPOOL_ADDR_MAX + 64);
	if (buf_printf(&hdr, "Delivered-To: %s\n", delivered_to) != BUF_OK ||
	    spool_write(&w, hdr.data, hdr.len) != 0 || fwd_copy(&w, m) != 0 ||
	    fwd_envelope(&w, "forward", sender, m->body != NULL ? m->body :
	    "7BIT") != 0)
		goto fail;
	if (m->ret != NULL && spool_env(&w, "ret", m->ret) != 0)
		goto fail;
	if (m->envid != NULL && spool_env(&w, "envid", m->envid) != 0)
		goto fail;
	/* The original recipient survives the expansion (X-Original-To). */
	for (i = 0; i < n; i++)
		if (spool_add_rcpt(&w, rcpts[i], orcpt, notify) != 0)
			goto fail;
	buf_free(&hdr);
	return fwd_commit(&w, id_out, idsz, why);
fail:
	buf_printf(why, "queue forward: %s", strerror(errno));
	spool_abort(&w);
	buf_free(&hdr);
	return rc;
}

/* fwd_status - the DSN status at the front of a stored reply */
static void
fwd_status(const char *reply, char *status, size_t sz, const char **rest)
{
	size_t	 n = strspn(reply, "0123456789.");

	*rest = reply;
	status[0] = '\0';
	if (n >= 5 && n < sz && reply[1] == '.' &&
	    (reply[0] == '2' || reply[0] == '4' || reply[0] == '5')) {
		memcpy(status, reply, n);
		status[n] = '\0';
		*rest = reply + n + strspn(reply + n, " ");
	}
}

/*
 * fwd_diagnostic - RFC 3464's Diagnostic-Code and Remote-MTA from a
 * recipient's reply text: a remote server's reply ("host mx[192.0.2.1]
 * said: 550 5.1.1 ... (in reply to RCPT TO command)") is "smtp; 550
 * 5.1.1 ..." from "dns; mx"; anything else is "x-unix; text" and no
 * Remote-MTA
 */
static void
fwd_diagnostic(const char *text, char **diag, char **mta)
{
	const char	*said, *end, *br;

	*mta = NULL;
	if (strncmp(text, "host ", 5) == 0 &&
	    (said = strstr(text, " said: ")) != NULL) {
		br = memchr(text + 5, '[', (size_t)(said - text - 5));
		*mta = xasprintf("dns; %.*s", (int)((br != NULL ? br : said) -
		    text - 5), text + 5);
		end = strstr(said, " (in reply to ");
		*diag = xasprintf("smtp; %.*s", (int)(end != NULL ? end -
		    said - 7 : (ptrdiff_t)strlen(said + 7)), said + 7);
		return;
	}
	*diag = xasprintf("x-unix; %s", text);
}

/*
 * fwd_notice - a failure, delay or success notice about recipients
 * idx[0..n) of m, to "to", with envelope sender "sender" ("" normally;
 * the double-bounce address for notices about notices)
 */
int
fwd_notice(struct runq *rq, const struct spool_msg *m, int kind, size_t *idx,
    size_t n, const char *to, const char *sender, char *id_out, size_t idsz,
    struct buf *why)
{
	struct spool_writer	 w;
	struct bounce_info	 bi;
	struct bounce_rcpt	*br;
	char			(*status)[16];
	char			**diag, **mta;
	size_t			 i;
	int			 rc = -1;

	br = xcalloc(n, sizeof(*br));
	status = xcalloc(n, sizeof(*status));
	diag = xcalloc(n, sizeof(char *));
	mta = xcalloc(n, sizeof(char *));
	memset(&bi, 0, sizeof(bi));
	bi.kind = (enum bounce_kind)kind;
	bi.queue_id = m->id;
	bi.sender = m->sender;
	bi.to = to;
	bi.myhostname = conf_get("myhostname");
	bi.mail_name = conf_get("mail_name");
	bi.envid = m->envid;
	bi.ret = m->ret;
	bi.arrival = m->time != NULL ? (long long)strtod(m->time, NULL) : 0;
	bi.now = rq->now;
	bi.size_limit = (size_t)conf_size("bounce_size_limit");
	if (sender[0] != '\0')
		bi.postmaster_copy = "the sender of the message is the null "
		    "sender: this is a notice about a notice";
	for (i = 0; i < n; i++) {
		const struct spool_rcpt	*r = &m->rcpt[idx[i]];
		const char		*rest;

		fwd_status(r->reply, status[i], sizeof(status[i]), &rest);
		fwd_diagnostic(rest, &diag[i], &mta[i]);
		br[i].remote_mta = mta[i];
		br[i].addr = r->addr;
		br[i].orcpt = r->orcpt;
		br[i].status = status[i][0] ? status[i] : NULL;
		br[i].diagnostic = diag[i];
		br[i].last_attempt = rq->now;
		if (kind == BOUNCE_DELAY)
			br[i].will_retry_until = bi.arrival +
			    conf_time("maximal_queue_lifetime");
	}
	if (spool_create(&rq->sp, &w, why) != 0)
		goto out;
	if (bounce_write(&w, &bi, br, n, m->fd, m->content_off,
	    m->content_len, why) != 0 ||
	    fwd_envelope(&w, "notice", sender, NULL) != 0 ||
	    spool_add_rcpt(&w, to, NULL, NULL) != 0) {
		if (buf_str(why)[0] == '\0')
			buf_printf(why, "queue notice: %s", strerror(errno));
		spool_abort(&w);
		goto out;
	}
	rc = fwd_commit(&w, id_out, idsz, why);
out:
	for (i = 0; i < n; i++) {
		free(diag[i]);
		free(mta[i]);
	}
	free(diag);
	free(mta);
	free(status);
	free(br);
	return rc;
}
