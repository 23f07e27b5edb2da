/*
 * data.c - the message content: DATA and BDAT, the Received header,
 * the commit
 *
 * The end of DATA (SMTP-NOTES 2.7).  Only CR LF ends a line.  A line
 * "." ends the content only when it ended in CR LF and so did the line
 * before it (the CR LF of the DATA command counts for the first line).
 * A bare CR or bare LF anywhere marks the message failed (550 5.5.2), a
 * NUL too (554 5.6.0); either way the content is read and thrown away
 * up to that real end, and only then does the one reply go out, so the
 * rest of a smuggling attempt stays content and never becomes commands
 * (CVE-2023-51764).  Lines are never split (io.c).  A line "..x" loses
 * its first dot.  Past message_size_limit (552 5.3.4) and past
 * hopcount_limit Received: headers (554 5.4.6) the message fails the
 * same way.
 *
 * BDAT (RFC 3030).  "BDAT n [LAST]": exactly n octets are read, with no
 * dot handling; chunks are joined and split into lines the same way,
 * with the same rules about CR and LF.  A malformed BDAT command ends
 * the session (the client's next octets cannot be told apart from
 * commands).  DATA after BDAT is 503.
 *
 * The spool.  The content is written as it arrives (with LF line ends,
 * as the spool stores it) behind our Received header; the envelope
 * goes last; spool_commit makes it durable and only then does "250
 * 2.0.0 Ok: queued as ID" go out, and runq is started or poked.
 */
#include <sys/types.h>

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/conf.h"
#include "common/log.h"
#include "common/tls.h"
#include "common/util.h"
#include "spool/spool.h"
#include "cmd/smtpd-lite/session.h"
#include "cmd/smtpd-lite/smtpd.h"

#define DATA_LINE_MAX	(1024 * 1024)	/* a content line: past it, 552 */

enum data_fail {
	DF_NONE = 0,
	DF_BARE,	/* 550 5.5.2 bare CR or LF */
	DF_NUL,		/* 554 5.6.0 */
	DF_SIZE,	/* 552 5.3.4 */
	DF_HOPS,	/* 554 5.4.6 */
	DF_LINE,	/* 552 5.3.4 a line too long */
	DF_WRITE,	/* 451 4.3.0 */
	DF_FULL,	/* 452 4.3.1 */
};

/* data_abort - throw away a message being received */
void
data_abort(struct session *s)
{
	if (s->d.open)
		spool_abort(&s->d.w);
	free(s->d.msgid);
	buf_free(&s->d.part);
	memset(&s->d, 0, sizeof(s->d));
	s->bdat_open = 0;
}

/* data_fail - the first reason a message fails wins */
static void
data_fail(struct session *s, int why)
{
	if (s->d.failed == DF_NONE)
		s->d.failed = why;
}

/* data_put - append to the queue file unless the message failed */
static void
data_put(struct session *s, const char *p, size_t n)
{
	if (s->d.failed != DF_NONE)
		return;
	if (spool_write(&s->d.w, p, n) != 0)
		data_fail(s, errno == ENOSPC || errno == EDQUOT ? DF_FULL :
		    DF_WRITE);
}

/* data_received - our Received header, first in the file */
static void
data_received(struct session *s)
{
	struct buf	 h, info;
	char		 date[64];
	struct tm	 tm;
	time_t		 now = time(NULL);
	const char	*proto;

	localtime_r(&now, &tm);
	strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S %z (%Z)", &tm);
	/* RFC 3848 */
	proto = !s->esmtp ? "SMTP" : s->io.tls != NULL ?
	    (s->auth_user ? "ESMTPSA" : "ESMTPS") :
	    (s->auth_user ? "ESMTPA" : "ESMTP");
	if (s->smtputf8)
		proto = !s->esmtp ? "UTF8SMTP" : s->io.tls != NULL ?
		    (s->auth_user ? "UTF8SMTPSA" : "UTF8SMTPS") :
		    (s->auth_user ? "UTF8SMTPA" : "UTF8SMTP");
	buf_init(&h, 4096);
	buf_init(&info, 1024);
	if (s->peer->local)
		buf_printf(&h, "Received: from %s (uid %lu)\n", s->helo,
		    (unsigned long)s->peer->uid);
	else
		buf_printf(&h, "Received: from %s (%s [%s])\n", s->helo,
		    s->peer->name, s->peer->addr);
	if (s->io.tls != NULL && tls_info(s->io.tls, &info) == BUF_OK)
		buf_printf(&h, "\t(using %s)\n", buf_str(&info));
	if (s->auth_user != NULL &&
	    conf_bool("smtpd_sasl_authenticated_header"))
		buf_printf(&h, "\t(Authenticated sender: %s)\n",
		    s->auth_user);
	buf_printf(&h, "\tby %s (%s) with %s id %s", conf_get("myhostname"),
	    conf_get("mail_name"), proto, s->d.w.id);
	if (s->nrcpt == 1)
		buf_printf(&h, "\n\tfor <%s>", s->rcpt[0].addr);
	buf_printf(&h, ";\n\t%s\n", date);
	data_put(s, h.data, h.len);
	buf_free(&h);
	buf_free(&info);
}

/* data_open - a new queue file, our Received header in it */
static int
data_open(struct session *s)
{
	struct buf	 why;

	data_abort(s);
	buf_init(&why, 1024);
	if (spool_create(&s->sp, &s->d.w, &why) != 0) {
		int	 full = errno == ENOSPC || errno == EDQUOT;

		log_warnx("%s", buf_str(&why));
		buf_free(&why);
		reply(s, full ? "452 4.3.1 Insufficient system storage" :
		    "451 4.3.0 Error: queue file write error");
		return -1;
	}
	buf_free(&why);
	s->d.open = 1;
	s->d.in_header = 1;
	buf_init(&s->d.part, DATA_LINE_MAX + 16);
	log_mail("smtpd", "%s: client=%s%s%s%s%s", s->d.w.id,
	    smtpd_clientname(s), s->auth_user ? ", sasl_method=" : "",
	    s->auth_user ? s->auth_mech : "", s->auth_user ?
	    ", sasl_username=" : "", s->auth_user ? s->auth_user : "");
	data_received(s);
	return 0;
}

/*
 * data_line - one content line (without its line end, dot already
 * undone): checks, header scan, written with LF
 */
static void
data_line(struct session *s, const char *p, size_t n, int flags)
{
	long long	 limit = conf_size("message_size_limit");

	if (flags & (SIO_BARELF | SIO_BARECR))
		data_fail(s, DF_BARE);
	if (flags & SIO_NUL)
		data_fail(s, DF_NUL);
	if (flags & SIO_TOOLONG)
		data_fail(s, DF_LINE);
	if (flags & SIO_8BIT)
		s->d.eightbit = 1;
	s->d.size += (long long)n + 1;
	if (limit > 0 && s->d.size > limit)
		data_fail(s, DF_SIZE);
	if (s->d.in_header) {
		if (n == 0)
			s->d.in_header = 0;
		else if (n >= 9 && strncasecmp(p, "Received:", 9) == 0) {
			if (++s->d.hops >= conf_int("hopcount_limit"))
				data_fail(s, DF_HOPS);
		} else if (n > 11 && strncasecmp(p, "Message-ID:", 11) == 0 &&
		    s->d.msgid == NULL) {
			size_t	 k = 11;

			while (k < n && (p[k] == ' ' || p[k] == '\t'))
				k++;
			if (n - k < 500) {
				char	 safe[LOG_SAFE_MAX];

				log_safe(safe, sizeof(safe), p + k, n - k);
				s->d.msgid = xstrdup(safe);
			}
		}
	}
	data_put(s, p, n);
	data_put(s, "\n", 1);
}

/* data_commit - the envelope, the commit, the reply */
static int
data_commit(struct session *s)
{
	struct buf	 why, origin;
	struct timespec	 ts;
	char		 tbuf[64], id[SPOOL_ID_MAX];
	size_t		 i;
	int		 rc = 0;

	switch (s->d.failed) {
	case DF_NONE:
		break;
	case DF_BARE:
		log_mail("smtpd", "NOQUEUE: reject: DATA from %s: bare <CR> "
		    "or <LF> in message content", smtpd_clientname(s));
		data_abort(s);
		return reply(s, "550 5.5.2 %s Error: bare <CR> or <LF> "
		    "received", conf_get("myhostname"));
	case DF_NUL:
		data_abort(s);
		return reply(s, "554 5.6.0 Error: message content contains "
		    "a NUL character");
	case DF_SIZE:
	case DF_LINE:
		data_abort(s);
		return reply(s, "552 5.3.4 Error: message file too big");
	case DF_HOPS:
		data_abort(s);
		return reply(s, "554 5.4.6 Error: too many hops");
	case DF_FULL:
		data_abort(s);
		return reply(s, "452 4.3.1 Insufficient system storage");
	default:
		data_abort(s);
		return reply(s, "451 4.3.0 Error: queue file write error");
	}
	buf_init(&why, 1024);
	buf_init(&origin, 2048);
	clock_gettime(CLOCK_REALTIME, &ts);
	bsnprintf(tbuf, sizeof(tbuf), "%lld.%06ld", (long long)ts.tv_sec,
	    ts.tv_nsec / 1000);
	if (s->peer->local)
		buf_printf(&origin, "local uid=%lu user=%s",
		    (unsigned long)s->peer->uid, s->peer->login);
	else
		buf_printf(&origin, "smtp client=%s helo=%s%s%s",
		    smtpd_clientname(s), s->helo, s->auth_user ? " sasl=" :
		    "", s->auth_user ? s->auth_user : "");
	rc |= spool_env(&s->d.w, "time", tbuf);
	rc |= spool_env(&s->d.w, "origin", buf_str(&origin));
	rc |= spool_env(&s->d.w, "sender", s->sender);
	rc |= spool_env(&s->d.w, "body", s->body8 || s->d.eightbit ?
	    "8BITMIME" : "7BIT");
	if (s->ret != NULL)
		rc |= spool_env(&s->d.w, "ret", s->ret);
	if (s->envid != NULL)
		rc |= spool_env(&s->d.w, "envid", s->envid);
	if (s->d.msgid != NULL)
		rc |= spool_env(&s->d.w, "message-id", s->d.msgid);
	for (i = 0; i < s->nrcpt; i++)
		rc |= spool_add_rcpt(&s->d.w, s->rcpt[i].addr,
		    s->rcpt[i].orcpt, s->rcpt[i].notify);
	if (rc != 0 || spool_finish(&s->d.w, &why) != 0 ||
	    spool_commit(&s->d.w, &why) != 0) {
		log_warnx("cannot queue a message from %s: %s",
		    smtpd_clientname(s), buf_str(&why));
		data_abort(s);
		buf_free(&why);
		buf_free(&origin);
		return reply(s, "451 4.3.0 Error: queue file write error");
	}
	s->d.open = 0;
	str_copy(id, sizeof(id), s->d.w.id);
	if (s->d.msgid != NULL)
		log_mail("cleanup", "%s: message-id=%s", id, s->d.msgid);
	log_mail("qmgr", "%s: from=<%s>, size=%lld, nrcpt=%zu (queue active)",
	    id, s->sender, (long long)s->d.w.size, s->nrcpt);
	buf_free(&why);
	buf_free(&origin);
	session_reset_tx(s);
	s->cmd_bytes = 0;
	rc = reply(s, "250 2.0.0 Ok: queued as %s", id);
	smtpd_start_runq();
	return rc;
}

/* data_dot - DATA: 354, the content up to the real end, one reply */
int
data_dot(struct session *s)
{
	struct buf	 line;
	int		 flags, prev_crlf = 1, rc;
	const char	*p;
	size_t		 n;

	if (data_open(s) != 0)
		return s->io.dead ? -1 : 0;
	if (reply(s, "354 End data with <CR><LF>.<CR><LF>") != 0)
		return -1;
	buf_init(&line, DATA_LINE_MAX + 16);
	for (;;) {
		rc = sio_getline(&s->io, &line, DATA_LINE_MAX, &flags);
		if (rc != SIO_OK) {
			log_mail("smtpd", "%s after DATA (%lld bytes) from "
			    "%s", rc == SIO_TIMEOUT ? "timeout" :
			    "lost connection", s->d.size,
			    smtpd_clientname(s));
			if (rc == SIO_TIMEOUT) {
				s->io.dead = 0;
				reply(s, "421 4.4.2 %s Error: timeout "
				    "exceeded", conf_get("myhostname"));
			}
			data_abort(s);
			buf_free(&line);
			return -1;
		}
		p = line.data != NULL ? line.data : "";
		n = line.len;
		if (n == 1 && p[0] == '.' && (flags & SIO_CRLF) &&
		    !(flags & (SIO_BARECR | SIO_NUL)) && prev_crlf)
			break;
		prev_crlf = (flags & SIO_CRLF) && !(flags & SIO_BARECR);
		if (n > 0 && p[0] == '.') {
			p++;
			n--;
		}
		data_line(s, p, n, flags);
	}
	buf_free(&line);
	return data_commit(s);
}

/*
 * data_chunk - split BDAT octets into lines: CR LF ends a line, a bare
 * CR or LF fails the message (the rule of DATA)
 */
static void
data_chunk(struct session *s, const char *p, size_t n)
{
	size_t	 i;
	int	 flags;

	for (i = 0; i < n; i++) {
		char	 c = p[i];

		if (s->d.part_cr) {
			s->d.part_cr = 0;
			if (c == '\n') {
				flags = SIO_CRLF;
				goto line;
			}
			buf_addc(&s->d.part, '\r');
			data_fail(s, DF_BARE);
		}
		if (c == '\r') {
			s->d.part_cr = 1;
			continue;
		}
		if (c == '\n') {
			data_fail(s, DF_BARE);
			flags = SIO_BARELF;
			goto line;
		}
		if (s->d.part.len < DATA_LINE_MAX)
			buf_addc(&s->d.part, c);
		else
			data_fail(s, DF_LINE);
		continue;
line:
		{
			size_t	 k;
			int	 f = flags;

			for (k = 0; k < s->d.part.len; k++) {
				unsigned char	 u = (unsigned char)
						    s->d.part.data[k];

				if (u == 0)
					f |= SIO_NUL;
				else if (u >= 0x80)
					f |= SIO_8BIT;
			}
			data_line(s, s->d.part.len ? s->d.part.data : "",
			    s->d.part.len, f);
			buf_reset(&s->d.part);
		}
	}
}

/* data_bdat - BDAT n [LAST] */
int
data_bdat(struct session *s, char *arg)
{
	char		*last, chunk[16384];
	long long	 n;
	const char	*err;
	ssize_t		 got;
	size_t		 want;

	last = strchr(arg, ' ');
	if (last != NULL) {
		*last++ = '\0';
		last += strspn(last, " ");
	}
	if (num_parse(arg, 0, LLONG_MAX, &n, &err) != 0 ||
	    (last != NULL && *last != '\0' && strcasecmp(last, "LAST") != 0)) {
		reply(s, "501 5.5.4 Syntax: BDAT count [LAST]");
		return -1;	/* the octets that follow cannot be told apart */
	}
	if (!s->in_mail || s->nrcpt == 0) {
		/* Read and drop the chunk, then refuse. */
		while (n > 0) {
			want = n > (long long)sizeof(chunk) ? sizeof(chunk) :
			    (size_t)n;
			if ((got = sio_read(&s->io, chunk, want)) <= 0)
				return -1;
			n -= got;
		}
		return reply(s, !s->in_mail ? "503 5.5.1 Error: need MAIL "
		    "command" : s->rcpt_refused ? "554 5.5.1 Error: no valid "
		    "recipients" : "503 5.5.1 Error: need RCPT command");
	}
	if (!s->bdat_open) {
		if (data_open(s) != 0)
			return s->io.dead ? -1 : 0;
		s->bdat_open = 1;
	}
	while (n > 0) {
		want = n > (long long)sizeof(chunk) ? sizeof(chunk) : (size_t)n;
		if ((got = sio_read(&s->io, chunk, want)) <= 0) {
			log_mail("smtpd", "lost connection after BDAT from %s",
			    smtpd_clientname(s));
			data_abort(s);
			return -1;
		}
		data_chunk(s, chunk, (size_t)got);
		n -= got;
	}
	if (last == NULL || *last == '\0')
		return reply(s, "250 2.0.0 Ok: %lld octets", s->d.size);
	/* The last chunk: a line not ended is ended here. */
	if (s->d.part_cr) {
		s->d.part_cr = 0;
		data_fail(s, DF_BARE);
	}
	if (s->d.part.len > 0)
		data_chunk(s, "\r\n", 2);
	s->bdat_open = 0;
	return data_commit(s);
}
