/*
 * cat.c - mailq -c ID: one message as it will be sent, in the manner of
 * Postfix's "postcat -q": the envelope, then the content bytes exactly.
 *
 *	*** ENVELOPE RECORDS DIR/ID ***
 *	queue_name: NAME		as -j names it
 *	message_size: BYTES		the content
 *	message_arrival_time: TIME
 *	key: value			every envelope record, in file order
 *	recipient: ADDRESS		then, per recipient, indented:
 *	  state: P (pending)		D delivered, F failed, B bounced
 *	  flags: -			w: a delay warning was sent
 *	  attempts: N
 *	  next_try: TIME		or "as soon as possible"
 *	  last_reply: TEXT		when there is one
 *	  orcpt: / notify:		the DSN fields, when present
 *	*** MESSAGE CONTENTS DIR/ID ***
 *	<the content, byte for byte>
 *	*** MESSAGE FILE END DIR/ID ***
 *
 * Envelope text is printed with control characters as '?'; the content
 * is copied as it is, streamed with pread, never read whole.  When it
 * does not end with a newline one is written before the end line.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/log.h"
#include "common/util.h"
#include "spool/spool.h"
#include "cmd/mailq/mailq.h"

#define CAT_CHUNK	65536

static int	 cat_record(const char *, const char *, void *);
static const char *cat_state(int);
static int	 cat_content(const struct spool_msg *, struct buf *);

/* cat_record - spool_env_each callback: one "key: value" record */
static int
cat_record(const char *key, const char *val, void *arg)
{
	(void)arg;
	mq_put_printable(stdout, key);
	fputs(": ", stdout);
	mq_put_printable(stdout, val);
	putchar('\n');
	return 0;
}

/* cat_state - a recipient state's letter and name */
static const char *
cat_state(int state)
{
	switch (state) {
	case RCPT_PENDING:
		return "P (pending)";
	case RCPT_DELIVERED:
		return "D (delivered)";
	case RCPT_FAILED:
		return "F (failed, bounce owed)";
	case RCPT_BOUNCED:
		return "B (bounced)";
	default:
		return "? (unknown)";
	}
}

/* cat_content - copy the content to stdout, a chunk at a time */
static int
cat_content(const struct spool_msg *m, struct buf *why)
{
	char		 chunk[CAT_CHUNK];
	off_t		 off = m->content_off, end;
	ssize_t		 n;
	size_t		 want;
	int		 last = '\n';

	end = m->content_off + m->content_len;
	while (off < end) {
		want = end - off > (off_t)sizeof(chunk) ? sizeof(chunk) :
		    (size_t)(end - off);
		n = pread(m->fd, chunk, want, off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			buf_printf(why, "%s: read content: %s", m->id,
			    n == 0 ? "file shorter than its envelope says" :
			    strerror(errno));
			return -1;
		}
		fwrite(chunk, 1, (size_t)n, stdout);
		last = (unsigned char)chunk[n - 1];
		off += n;
		if (ferror(stdout))
			mq_flush();
	}
	if (last != '\n')
		putchar('\n');
	return 0;
}

/* mq_cat - print one message; the exit status so far */
int
mq_cat(struct mq *mq, const char *id)
{
	struct spool_msg	 m;
	struct buf		 why;
	const struct spool_rcpt	*r;
	const char		*dir;
	char			 when[MQ_TIME_MAX], flags[2] = "-";
	size_t			 i;

	buf_init(&why, 4096);
	if (!spool_id_ok(id)) {
		log_warnx("%s: not a queue ID", id);
		mq_status(mq, EX_DATAERR);
		goto out;
	}
	if (mq_load(mq, id, SPOOL_INCOMING, SPOOL_LOAD_PEEK, &m, &why) != 0) {
		if (errno == ENOENT) {
			log_warnx("%s: no such message in the queue", id);
			mq_status(mq, EX_NOINPUT);
		} else {
			log_warnx("%s", buf_str(&why));
			mq_status(mq, EX_TEMPFAIL);
		}
		goto out;
	}
	dir = spool_dir_name(m.dir);
	printf("*** ENVELOPE RECORDS %s/%s ***\n", dir, m.id);
	printf("queue_name: %s\n", mq_queue_name(&m));
	printf("message_size: %lld\n", (long long)m.content_len);
	printf("message_arrival_time: %s\n", mq_time_text(when, sizeof(when),
	    mq_arrival(&m), 1));
	buf_reset(&why);
	if (spool_env_each(&m, cat_record, NULL, &why) != 0) {
		log_warnx("%s", buf_str(&why));
		mq_status(mq, EX_TEMPFAIL);
	}
	for (i = 0; i < m.nrcpt; i++) {
		r = &m.rcpt[i];
		fputs("recipient: ", stdout);
		mq_put_printable(stdout, r->addr);
		flags[0] = (char)r->flags;
		printf("\n  state: %s\n", cat_state(r->state));
		cat_record("  flags", flags, NULL);
		printf("  attempts: %ld\n  next_try: %s\n", r->attempts,
		    r->next == 0 ? "as soon as possible" :
		    mq_time_text(when, sizeof(when), r->next, 1));
		if (r->reply[0] != '\0')
			cat_record("  last_reply", r->reply, NULL);
		if (r->orcpt != NULL)
			cat_record("  orcpt", r->orcpt, NULL);
		if (r->notify != NULL)
			cat_record("  notify", r->notify, NULL);
	}
	printf("*** MESSAGE CONTENTS %s/%s ***\n", dir, m.id);
	buf_reset(&why);
	if (cat_content(&m, &why) != 0) {
		log_warnx("%s", buf_str(&why));
		mq_status(mq, EX_IOERR);
	}
	printf("*** MESSAGE FILE END %s/%s ***\n", dir, m.id);
	spool_msg_free(&m);
out:
	buf_free(&why);
	mq_flush();
	return mq->status;
}
