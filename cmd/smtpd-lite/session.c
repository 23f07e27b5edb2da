/*
 * session.c - one SMTP session: the command table and its state
 *
 * Each command has a row: its verb, the function that runs it, and
 * whether it must be the last of a pipelined group (RFC 2920: EHLO,
 * HELO, DATA, NOOP, VRFY, EXPN, QUIT, STARTTLS, AUTH).  After such a
 * command, input that is already waiting is a client that did not wait
 * for our reply: "554 5.5.0 Error: SMTP protocol synchronization" and
 * the end, as Postfix's smtpd_forbid_unauth_pipelining.  The same
 * holds for input sent before the greeting.
 *
 * Command lines end only at CR LF: a bare LF is "500 5.5.2 Error: bare
 * <LF> received" and the end of the session; a NUL or another control
 * character refuses the line (500 5.5.2); a line longer than
 * line_length_limit is read to its end and refused (500 5.5.2 Error:
 * command too long).  HTTP requests and header-like lines end the
 * session with "221 2.7.0 Error: I can break rules, too. Goodbye."
 *
 * Errors count: past smtpd_soft_error_limit each error reply waits
 * smtpd_error_sleep_time; at smtpd_hard_error_limit the session ends
 * with 421 4.7.0.  Silence for smtpd_timeout ends it with 421 4.4.2.
 *
 * Replies carry RFC 2034 enhanced status codes and Postfix's wording
 * where Postfix has one.  The transaction's content is data.c's.
 */
#include <sys/types.h>

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "common/addr.h"
#include "common/base64.h"
#include "common/buf.h"
#include "common/conf.h"
#include "common/idn.h"
#include "common/log.h"
#include "common/sasl.h"
#include "common/tls.h"
#include "common/util.h"
#include "cmd/smtpd-lite/policy.h"
#include "cmd/smtpd-lite/session.h"
#include "cmd/smtpd-lite/smtpd.h"

#define SMTPD_AUTH_LINE_MAX	12288	/* a SASL response line */
#define SMTPD_AUTH_FAIL_MAX	3	/* failed AUTH per session */
#define SMTPD_PREDATA_MAX	(1024 * 1024)	/* command bytes per message */

static int	 cmd_ehlo(struct session *, char *);
static int	 cmd_helo(struct session *, char *);
static int	 cmd_mail(struct session *, char *);
static int	 cmd_rcpt(struct session *, char *);
static int	 cmd_data(struct session *, char *);
static int	 cmd_bdat(struct session *, char *);
static int	 cmd_rset(struct session *, char *);
static int	 cmd_noop(struct session *, char *);
static int	 cmd_quit(struct session *, char *);
static int	 cmd_help(struct session *, char *);
static int	 cmd_vrfy(struct session *, char *);
static int	 cmd_expn(struct session *, char *);
static int	 cmd_etrn(struct session *, char *);
static int	 cmd_starttls(struct session *, char *);
static int	 cmd_auth(struct session *, char *);

enum cmd_flags {
	CMD_LAST = 1 << 0,	/* must end a pipelined group */
	CMD_ARGS = 1 << 1,	/* takes arguments */
};

static const struct smtpd_cmd {
	const char	*verb;
	int		(*fn)(struct session *, char *);
	int		 flags;
	size_t		 stat;		/* index into session.counts */
} smtpd_cmds[] = {
	{ "EHLO", cmd_ehlo, CMD_LAST | CMD_ARGS, 0 },
	{ "HELO", cmd_helo, CMD_LAST | CMD_ARGS, 1 },
	{ "MAIL", cmd_mail, CMD_ARGS, 2 },
	{ "RCPT", cmd_rcpt, CMD_ARGS, 3 },
	{ "DATA", cmd_data, CMD_LAST, 4 },
	{ "BDAT", cmd_bdat, CMD_ARGS, 5 },
	{ "RSET", cmd_rset, 0, 6 },
	{ "NOOP", cmd_noop, CMD_LAST | CMD_ARGS, 7 },
	{ "QUIT", cmd_quit, 0, 8 },
	{ "HELP", cmd_help, CMD_LAST | CMD_ARGS, 9 },
	{ "VRFY", cmd_vrfy, CMD_LAST | CMD_ARGS, 10 },
	{ "EXPN", cmd_expn, CMD_LAST | CMD_ARGS, 11 },
	{ "ETRN", cmd_etrn, CMD_LAST | CMD_ARGS, 12 },
	{ "STARTTLS", cmd_starttls, CMD_LAST | CMD_ARGS, 13 },
	{ "AUTH", cmd_auth, CMD_ARGS, 14 },
};

static const char *const smtpd_stat_names[SMTPD_NSTATS] = {
	"ehlo", "helo", "mail", "rcpt", "data", "bdat", "rset", "noop",
	"quit", "help", "vrfy", "expn", "etrn", "starttls", "auth",
};

/* Requests that are not SMTP: an HTTP client or a proxy. */
static const char *const smtpd_forbidden[] = {
	"GET", "POST", "PUT", "HEAD", "CONNECT", "OPTIONS", "DELETE",
	"TRACE", "PATCH",
};

/* reply - one reply line (or several joined by \n), counted, flushed */
int
reply(struct session *s, const char *fmt, ...)
{
	char		 text[1024];
	const char	*p, *nl;
	va_list		 ap;
	int		 code;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	code = (text[0] - '0') * 100 + (text[1] - '0') * 10 + (text[2] - '0');
	/* multi-line: "250-..." for all but the last */
	for (p = text; (nl = strchr(p, '\n')) != NULL; p = nl + 1) {
		if (nl - p < 4)
			continue;
		sio_printf(&s->io, "%.3s-%.*s", p, (int)(nl - p - 4), p + 4);
		sio_write(&s->io, "\r\n", 2);
	}
	sio_printf(&s->io, "%s", p);
	sio_write(&s->io, "\r\n", 2);
	if (code >= 400) {
		s->errors++;
		if (s->errors >= conf_int("smtpd_soft_error_limit") &&
		    conf_time("smtpd_error_sleep_time") > 0) {
			sio_flush(&s->io);
			sleep((unsigned)conf_time("smtpd_error_sleep_time"));
		}
	}
	return sio_flush(&s->io) == SIO_OK ? 0 : -1;
}

/* smtpd_clientname - "name[addr]" for logs */
const char *
smtpd_clientname(struct session *s)
{
	if (s->clientname[0] == '\0')
		bsnprintf(s->clientname, sizeof(s->clientname), "%s[%s]",
		    s->peer->name, s->peer->addr);
	return s->clientname;
}

/* session_reset_tx - forget the mail transaction */
void
session_reset_tx(struct session *s)
{
	size_t	 i;

	free(s->sender);
	s->sender = NULL;
	for (i = 0; i < s->nrcpt; i++) {
		free(s->rcpt[i].addr);
		free(s->rcpt[i].orcpt);
		free(s->rcpt[i].notify);
	}
	free(s->rcpt);
	s->rcpt = NULL;
	s->nrcpt = 0;
	s->in_mail = 0;
	s->smtputf8 = 0;
	s->body8 = 0;
	free(s->ret);
	free(s->envid);
	s->ret = s->envid = NULL;
	s->rcpt_refused = 0;
	data_abort(s);
}

/* xtext_decode - RFC 3461 xtext; NULL when malformed or not printable */
static char *
xtext_decode(const char *in)
{
	struct buf	 b;
	const char	*p;
	char		*out;
	int		 hi, lo;

	buf_init(&b, 1024);
	for (p = in; *p != '\0'; p++) {
		unsigned char	 c = (unsigned char)*p;

		if (c == '+') {
			hi = p[1] ? (p[1] >= 'A' && p[1] <= 'F' ? p[1] - 'A'
			    + 10 : p[1] >= '0' && p[1] <= '9' ? p[1] - '0' :
			    -1) : -1;
			lo = hi >= 0 && p[2] ? (p[2] >= 'A' && p[2] <= 'F' ?
			    p[2] - 'A' + 10 : p[2] >= '0' && p[2] <= '9' ?
			    p[2] - '0' : -1) : -1;
			if (lo < 0)
				goto bad;
			c = (unsigned char)(hi * 16 + lo);
			p += 2;
		} else if (c < 33 || c > 126 || c == '=')
			goto bad;
		/* decoded: printable ASCII only, never CR, LF or NUL */
		if (c < 32 || c > 126)
			goto bad;
		buf_addc(&b, (char)c);
	}
	out = xstrdup(buf_str(&b));
	buf_free(&b);
	return out;
bad:
	buf_free(&b);
	return NULL;
}

/*
 * session_helo_ok - a HELO/EHLO argument fit for logs and Received: a
 * domain or an address literal, printable, no spaces
 */
static int
session_helo_ok(const char *h)
{
	size_t	 n = strlen(h);

	if (n == 0 || n > 255)
		return 0;
	for (; *h != '\0'; h++)
		if ((unsigned char)*h <= 32 || (unsigned char)*h >= 127)
			return 0;
	return 1;
}

static int
do_hello(struct session *s, char *arg, int esmtp)
{
	long long	 limit = conf_size("message_size_limit");

	if (*arg == '\0')
		return reply(s, "501 5.5.4 Syntax: %s hostname",
		    esmtp ? "EHLO" : "HELO");
	arg[strcspn(arg, " \t")] = '\0';
	if (!session_helo_ok(arg))
		return reply(s, "501 5.5.2 <%.100s>: Helo command rejected: "
		    "Invalid name", "?");
	session_reset_tx(s);
	str_copy(s->helo, sizeof(s->helo), arg);
	s->esmtp = esmtp;
	if (!esmtp)
		return reply(s, "250 %s", conf_get("myhostname"));
	sio_printf(&s->io, "250-%s\r\n", conf_get("myhostname"));
	sio_printf(&s->io, "250-PIPELINING\r\n");
	if (limit > 0)
		sio_printf(&s->io, "250-SIZE %lld\r\n", limit);
	else
		sio_printf(&s->io, "250-SIZE\r\n");
	if ((s->tls_offer && !s->tls_failed) && s->io.tls == NULL)
		sio_printf(&s->io, "250-STARTTLS\r\n");
	if (session_auth_offered(s))
		sio_printf(&s->io, "250-AUTH PLAIN LOGIN\r\n");
	sio_printf(&s->io, "250-ENHANCEDSTATUSCODES\r\n");
	sio_printf(&s->io, "250-8BITMIME\r\n");
	sio_printf(&s->io, "250-DSN\r\n");
	if (conf_bool("smtputf8_enable"))
		sio_printf(&s->io, "250-SMTPUTF8\r\n");
	sio_printf(&s->io, "250 CHUNKING\r\n");
	return sio_flush(&s->io) == SIO_OK ? 0 : -1;
}

static int
cmd_ehlo(struct session *s, char *arg)
{
	return do_hello(s, arg, 1);
}

static int
cmd_helo(struct session *s, char *arg)
{
	return do_hello(s, arg, 0);
}

/* session_auth_offered - whether AUTH is on the EHLO list now */
int
session_auth_offered(struct session *s)
{
	if (s->peer->local || !conf_bool("smtpd_sasl_auth_enable"))
		return 0;
	if (s->auth_user != NULL)
		return 0;
	return s->io.tls != NULL || !session_tls_only_auth(s);
}

/*
 * session_tls_only_auth - AUTH only under TLS: smtpd_tls_auth_only, or
 * smtpd_tls_security_level = encrypt (which implies it, as in Postfix)
 */
int
session_tls_only_auth(struct session *s)
{
	return conf_bool("smtpd_tls_auth_only") || s->tls_level_encrypt;
}

/* tls_required - encrypt level and no TLS yet: 530 */
static int
tls_required(struct session *s)
{
	return s->tls_level_encrypt && s->io.tls == NULL && !s->peer->local;
}

/*
 * parse_path - "FROM:<addr> params" / "TO:<addr> params": the canonical
 * address (IDN domains as A-labels) in out, params at *rest; a reply
 * code when refused
 */
static int
parse_path(struct session *s, const char *arg, const char *kw, int null_ok,
    int is_rcpt, struct buf *out, char **rest)
{
	struct buf	 canon, why, dom;
	const char	*p, *at;
	size_t		 n, kl = strlen(kw);
	int		 flags;

	if (strncasecmp(arg, kw, kl) != 0)
		return reply(s, "501 5.5.4 Syntax: %s", is_rcpt ?
		    "RCPT TO:<address>" : "MAIL FROM:<address>"), -1;
	p = arg + kl;
	p += strspn(p, " ");
	n = addr_path_span(p, strlen(p));
	if (n == 0 || *p != '<')
		return reply(s, "501 5.5.4 Syntax: %s", is_rcpt ?
		    "RCPT TO:<address>" : "MAIL FROM:<address>"), -1;
	buf_init(&canon, ADDR_CANON_MAX + 16);
	buf_init(&why, 1024);
	buf_init(&dom, 1024);
	flags = ADDR_NEED_ANGLE | (null_ok ? ADDR_ALLOW_NULL : 0) | ADDR_UTF8;
	/* <postmaster> without a domain: RFC 5321 says take it */
	if (is_rcpt && n == 12 && strncasecmp(p, "<postmaster>", 12) == 0) {
		buf_printf(&canon, "postmaster@%s", conf_get("myhostname"));
	} else if (addr_parse_path(p, n, flags, &canon, &why) != 0) {
		reply(s, "501 %s <%.*s>: %s", is_rcpt ? "5.1.3" : "5.1.7",
		    (int)(n > 2 ? n - 2 : 0), p + 1, is_rcpt ?
		    "Bad recipient address syntax" :
		    "Bad sender address syntax");
		goto fail;
	}
	/* one form for everything: the domain as A-labels */
	if ((at = strrchr(buf_str(&canon), '@')) != NULL && at[1] != '[') {
		const unsigned char *c;
		int		 ascii = 1;

		for (c = (const unsigned char *)at + 1; *c; c++)
			if (*c >= 0x80)
				ascii = 0;
		if (!ascii) {
			if (idn_to_ascii(at + 1, &dom, &why) != 0) {
				reply(s, "501 %s <%s>: %s", is_rcpt ? "5.1.3" :
				    "5.1.7", buf_str(&canon), buf_str(&why));
				goto fail;
			}
			buf_reset(out);
			buf_add(out, buf_str(&canon), (size_t)(at -
			    buf_str(&canon)) + 1);
			buf_adds(out, buf_str(&dom));
			goto done;
		}
	}
	buf_reset(out);
	buf_adds(out, buf_str(&canon));
done:
	*rest = (char *)p + n;
	buf_free(&canon);
	buf_free(&why);
	buf_free(&dom);
	return 0;
fail:
	buf_free(&canon);
	buf_free(&why);
	buf_free(&dom);
	return -1;
}

/* sender_restrictions - smtpd_sender_restrictions, at MAIL */
static int
sender_restrictions(struct session *s, const char *sender)
{
	char		**l = conf_list("smtpd_sender_restrictions");
	struct buf	 r;
	size_t		 i;
	int		 rc = 0;

	buf_init(&r, 2048);
	for (i = 0; l[i] != NULL && rc == 0 && !s->peer->local; i++) {
		if (strcmp(l[i], "permit") == 0)
			break;
		if (strcmp(l[i], "permit_mynetworks") == 0) {
			if (s->mynet)
				break;
		} else if (strcmp(l[i], "permit_sasl_authenticated") == 0) {
			if (s->auth_user != NULL)
				break;
		} else if (strcmp(l[i], "reject") == 0) {
			reply(s, "554 5.7.1 <%s>: Sender address "
			    "rejected: Access denied", sender);
			rc = -1;
		} else if (strcmp(l[i], "reject_sender_login_mismatch") ==
		    0 || strcmp(l[i], "reject_authenticated_sender_login_"
		    "mismatch") == 0 || strcmp(l[i], "reject_"
		    "unauthenticated_sender_login_mismatch") == 0) {
			if (s->auth_user == NULL && l[i][7] == 'a')
				continue;
			if (s->auth_user != NULL && l[i][7] == 'u')
				continue;
			buf_reset(&r);
			if (policy_sender_login(s->auth_user, sender, &r) != 0) {
				log_mail("smtpd", "NOQUEUE: reject: MAIL from "
				    "%s: %s; from=<%s> proto=%s helo=<%s>",
				    smtpd_clientname(s), buf_str(&r), sender,
				    s->esmtp ? "ESMTP" : "SMTP", s->helo);
				reply(s, "%s", buf_str(&r));
				rc = -1;
			}
		} else {
			log_warnx("smtpd_sender_restrictions: %s is not a "
			    "restriction correo has", l[i]);
			reply(s, "451 4.3.5 Server configuration error");
			rc = -1;
		}
	}
	conf_list_free(l);
	buf_free(&r);
	return rc;
}

static int
cmd_mail(struct session *s, char *arg)
{
	struct buf	 addr;
	char		*rest, *tok, *save, *v;
	long long	 size = -1, limit = conf_size("message_size_limit");
	const char	*err;

	if (s->helo[0] == '\0')
		return reply(s, "503 5.5.1 Error: send HELO/EHLO first");
	if (s->in_mail)
		return reply(s, "503 5.5.1 Error: nested MAIL command");
	if (tls_required(s))
		return reply(s, "530 5.7.0 Must issue a STARTTLS command "
		    "first");
	buf_init(&addr, ADDR_CANON_MAX + 16);
	if (parse_path(s, arg, "FROM:", 1, 0, &addr, &rest) != 0)
		goto out;
	session_reset_tx(s);
	for (tok = strtok_r(rest, " ", &save); tok != NULL;
	    tok = strtok_r(NULL, " ", &save)) {
		v = strchr(tok, '=');
		if (v != NULL)
			*v++ = '\0';
		if (!s->esmtp) {
			reply(s, "555 5.5.4 Unsupported option: %s", tok);
			goto out;
		}
		if (strcasecmp(tok, "SIZE") == 0) {
			if (v == NULL || num_parse(v, 0, LLONG_MAX, &size,
			    &err) != 0) {
				reply(s, "501 5.5.4 Bad message size syntax");
				goto out;
			}
		} else if (strcasecmp(tok, "BODY") == 0 && v != NULL &&
		    (strcasecmp(v, "7BIT") == 0 ||
		    strcasecmp(v, "8BITMIME") == 0)) {
			s->body8 = strcasecmp(v, "8BITMIME") == 0;
		} else if (strcasecmp(tok, "SMTPUTF8") == 0 && v == NULL &&
		    conf_bool("smtputf8_enable")) {
			s->smtputf8 = 1;
		} else if (strcasecmp(tok, "RET") == 0 && v != NULL &&
		    (strcasecmp(v, "FULL") == 0 ||
		    strcasecmp(v, "HDRS") == 0) && s->ret == NULL) {
			s->ret = xstrdup(v);
			str_upper(s->ret);
		} else if (strcasecmp(tok, "ENVID") == 0 && v != NULL &&
		    s->envid == NULL) {
			if ((s->envid = xtext_decode(v)) == NULL ||
			    strlen(s->envid) > 100) {
				reply(s, "501 5.5.4 Bad ENVID parameter "
				    "syntax");
				goto out;
			}
		} else if (strcasecmp(tok, "AUTH") == 0 && v != NULL) {
			char	*a = xtext_decode(v);

			/* RFC 4954 5: kept only from a trusted client */
			if (a == NULL) {
				reply(s, "501 5.5.4 Bad AUTH parameter syntax");
				goto out;
			}
			free(a);
		} else {
			reply(s, "555 5.5.4 Unsupported option: %s", tok);
			goto out;
		}
	}
	if (limit > 0 && size > limit) {
		reply(s, "552 5.3.4 Message size exceeds fixed limit");
		goto out;
	}
	if (str_has_8bit(buf_str(&addr)) && !s->smtputf8) {
		reply(s, "553 5.6.7 Must declare SMTPUTF8 to send unicode "
		    "address");
		goto out;
	}
	if (sender_restrictions(s, buf_str(&addr)) != 0)
		goto out;
	s->sender = xstrdup(buf_str(&addr));
	s->in_mail = 1;
	reply(s, "250 2.1.0 Ok");
out:
	buf_free(&addr);
	return s->io.dead ? -1 : 0;
}

static int
cmd_rcpt(struct session *s, char *arg)
{
	struct buf		 addr, r;
	struct smtpd_rcpt	*rc;
	char			*rest, *tok, *save, *v, *orcpt = NULL;
	char			*notify = NULL;
	const char		*at;
	int			 code;

	if (!s->in_mail)
		return reply(s, "503 5.5.1 Error: need MAIL command");
	buf_init(&addr, ADDR_CANON_MAX + 16);
	buf_init(&r, 2048);
	if (parse_path(s, arg, "TO:", 0, 1, &addr, &rest) != 0)
		goto out;
	for (tok = strtok_r(rest, " ", &save); tok != NULL;
	    tok = strtok_r(NULL, " ", &save)) {
		v = strchr(tok, '=');
		if (v != NULL)
			*v++ = '\0';
		if (strcasecmp(tok, "NOTIFY") == 0 && v != NULL &&
		    notify == NULL && s->esmtp) {
			char	*w, *sv, *copy = xstrdup(v);
			int	 never = 0, other = 0, bad = 0;

			for (w = strtok_r(copy, ",", &sv); w != NULL;
			    w = strtok_r(NULL, ",", &sv)) {
				if (strcasecmp(w, "NEVER") == 0)
					never = 1;
				else if (strcasecmp(w, "SUCCESS") == 0 ||
				    strcasecmp(w, "FAILURE") == 0 ||
				    strcasecmp(w, "DELAY") == 0)
					other = 1;
				else
					bad = 1;
			}
			free(copy);
			if (bad || (never && other) || (!never && !other)) {
				reply(s, "501 5.5.4 Error: Bad NOTIFY "
				    "parameter syntax");
				goto out;
			}
			notify = xstrdup(v);
			str_upper(notify);
		} else if (strcasecmp(tok, "ORCPT") == 0 && v != NULL &&
		    orcpt == NULL && s->esmtp) {
			char	*semi = strchr(v, ';'), *dec = NULL;

			if (semi == NULL || (dec = xtext_decode(semi + 1)) ==
			    NULL || strlen(dec) > 500) {
				free(dec);
				reply(s, "501 5.5.4 Error: Bad ORCPT parameter "
				    "syntax");
				goto out;
			}
			*semi = '\0';
			orcpt = xasprintf("%s;%s", v, dec);
			free(dec);
		} else {
			reply(s, "555 5.5.4 Unsupported option: %s", tok);
			goto out;
		}
	}
	if (str_has_8bit(buf_str(&addr)) && !s->smtputf8) {
		reply(s, "553 5.6.7 Must declare SMTPUTF8 to send unicode "
		    "address");
		goto out;
	}
	if (s->nrcpt >= (size_t)conf_int("smtpd_recipient_limit")) {
		reply(s, "452 4.5.3 Error: too many recipients");
		goto out;
	}
	/* Relay and recipient checks; sendmail -bs is a local user. */
	if (!s->peer->local) {
		s->pc.helo = s->helo;
		s->pc.sasl_user = s->auth_user;
		code = policy_rcpt(&s->pc, buf_str(&addr), s->sender, &r);
		if (code == 0 && (at = strrchr(buf_str(&addr), '@')) !=
		    NULL) {
			enum policy_class cl = policy_domain_class(at + 1);

			if (cl == PC_TEMPFAIL) {
				buf_reset(&r);
				buf_printf(&r, "451 4.3.0 <%s>: Temporary lookup "
				    "failure", buf_str(&addr));
				code = 451;
			} else if (cl == PC_LOCAL || cl == PC_VIRTUAL) {
				buf_reset(&r);
				code = policy_local_recipient(buf_str(&addr),
				    &r);
			}
		}
		if (code != 0) {
			log_mail("smtpd", "NOQUEUE: reject: RCPT from %s: %s; "
			    "from=<%s> to=<%s> proto=%s helo=<%s>",
			    smtpd_clientname(s), buf_str(&r), s->sender,
			    buf_str(&addr), s->esmtp ? "ESMTP" : "SMTP",
			    s->helo);
			s->rcpt_refused++;
			reply(s, "%s", buf_str(&r));
			goto out;
		}
	}
	s->rcpt = xreallocarray(s->rcpt, s->nrcpt + 1, sizeof(*s->rcpt));
	rc = &s->rcpt[s->nrcpt++];
	rc->addr = xstrdup(buf_str(&addr));
	rc->orcpt = orcpt;
	rc->notify = notify;
	orcpt = notify = NULL;
	reply(s, "250 2.1.5 Ok");
out:
	free(orcpt);
	free(notify);
	buf_free(&addr);
	buf_free(&r);
	return s->io.dead ? -1 : 0;
}

static int
cmd_data(struct session *s, char *arg)
{
	if (*arg != '\0')
		return reply(s, "501 5.5.4 Syntax: DATA");
	if (s->bdat_open)
		return reply(s, "503 5.5.1 Error: DATA after BDAT");
	if (!s->in_mail)
		return reply(s, "503 5.5.1 Error: need MAIL command");
	if (s->nrcpt == 0)
		return reply(s, s->rcpt_refused ? "554 5.5.1 Error: no valid "
		    "recipients" : "503 5.5.1 Error: need RCPT command");
	return data_dot(s);
}

static int
cmd_bdat(struct session *s, char *arg)
{
	if (!s->esmtp) {
		/* CHUNKING is an extension: after HELO the octets that
		 * follow cannot be told from commands, so this ends here. */
		reply(s, "503 5.5.1 Error: send EHLO first");
		return -1;
	}
	return data_bdat(s, arg);
}

static int
cmd_rset(struct session *s, char *arg)
{
	if (*arg != '\0')
		return reply(s, "501 5.5.4 Syntax: RSET");
	session_reset_tx(s);
	return reply(s, "250 2.0.0 Ok");
}

static int
cmd_noop(struct session *s, char *arg)
{
	(void)arg;
	return reply(s, "250 2.0.0 Ok");
}

static int
cmd_quit(struct session *s, char *arg)
{
	(void)arg;
	reply(s, "221 2.0.0 Bye");
	s->quit = 1;
	return -1;
}

static int
cmd_help(struct session *s, char *arg)
{
	(void)arg;
	return reply(s, "214 2.0.0 Commands: EHLO HELO MAIL RCPT DATA "
	    "BDAT RSET NOOP QUIT HELP VRFY STARTTLS AUTH");
}

static int
cmd_vrfy(struct session *s, char *arg)
{
	if (*arg == '\0')
		return reply(s, "501 5.5.4 Syntax: VRFY address");
	/* Never tells which users exist (SMTP-NOTES 3.8). */
	return reply(s, "252 2.5.2 Send some mail, I'll try my best");
}

static int
cmd_expn(struct session *s, char *arg)
{
	(void)arg;
	return reply(s, "502 5.5.1 EXPN command is disabled");
}

static int
cmd_etrn(struct session *s, char *arg)
{
	(void)arg;
	return reply(s, "502 5.5.1 Error: ETRN is not supported");
}

static int
cmd_starttls(struct session *s, char *arg)
{
	struct buf	 why, info;

	if (*arg != '\0')
		return reply(s, "501 5.5.4 Syntax: STARTTLS");
	if (s->io.tls != NULL)
		return reply(s, "503 5.5.1 Error: TLS already active");
	if (!s->tls_offer)
		return reply(s, "502 5.5.1 Error: command not implemented");
	if (smtpd_tls_ctx(s) == NULL)
		return reply(s, "454 4.7.0 TLS not available due to local "
		    "problem");
	if (reply(s, "220 2.0.0 Ready to start TLS") != 0)
		return -1;
	/* CVE-2011-0411: nothing sent before the handshake counts. */
	sio_discard(&s->io);
	buf_init(&why, 1024);
	if (tls_server_start(s->tls_ctx, s->io.rfd, s->io.wfd,
	    (int)conf_time("smtpd_timeout"), &s->io.tls, &why) != TLS_OK) {
		log_mail("smtpd", "SSL_accept error from %s: %s",
		    smtpd_clientname(s), buf_str(&why));
		buf_free(&why);
		s->io.dead = 1;
		return -1;
	}
	buf_init(&info, 1024);
	tls_info(s->io.tls, &info);
	log_mail("smtpd", "Anonymous TLS connection established from %s: %s",
	    smtpd_clientname(s), buf_str(&info));
	buf_free(&info);
	buf_free(&why);
	/* RFC 3207 4.2: everything learned before TLS is forgotten. */
	session_reset_tx(s);
	s->helo[0] = '\0';
	s->esmtp = 0;
	free(s->auth_user);
	s->auth_user = NULL;
	return 0;
}

/* auth_read - one SASL response line: 0, or -1 (reply sent or dead) */
static int
auth_read(struct session *s, struct buf *line, struct buf *dec)
{
	int	 flags, rc;

	rc = sio_getline(&s->io, line, SMTPD_AUTH_LINE_MAX, &flags);
	if (rc != SIO_OK)
		return -1;
	if (flags & SIO_TOOLONG)
		return reply(s, "500 5.5.6 SASL response limit exceeded"), -1;
	if (!(flags & SIO_CRLF))
		return reply(s, "500 5.5.2 Error: bare <LF> received"),
		    s->io.dead = 1, -1;
	if (strcmp(buf_str(line), "*") == 0)
		return reply(s, "501 5.7.0 Authentication aborted"), -1;
	buf_reset(dec);
	if (base64_decode(dec, line->data, line->len) != 0)
		return reply(s, "501 5.5.2 Cannot decode response"), -1;
	return 0;
}

/* auth_fields - split PLAIN's authzid\0user\0pass; -1 when malformed */
static int
auth_fields(struct buf *dec, char **authz, char **user, char **pass)
{
	char	*p = dec->data, *end = dec->data + dec->len;
	char	*z1, *z2;

	if ((z1 = memchr(p, '\0', dec->len)) == NULL ||
	    (z2 = memchr(z1 + 1, '\0', (size_t)(end - z1 - 1))) == NULL)
		return -1;
	if (memchr(z2 + 1, '\0', (size_t)(end - z2 - 1)) != NULL)
		return -1;
	*authz = xstrndup(p, (size_t)(z1 - p));
	*user = xstrndup(z1 + 1, (size_t)(z2 - z1 - 1));
	*pass = xstrndup(z2 + 1, (size_t)(end - z2 - 1));
	return 0;
}

static int
cmd_auth(struct session *s, char *arg)
{
	struct sasl_client	 cl;
	struct buf		 line, dec, why;
	const char		*mech;
	char			*init, *authz = NULL, *user = NULL;
	char			*pass = NULL, who[256];
	int			 rc = 0, st;

	if (s->peer->local || !conf_bool("smtpd_sasl_auth_enable"))
		return reply(s, "503 5.5.1 Error: authentication not enabled");
	if (s->io.tls == NULL && session_tls_only_auth(s))
		return reply(s, "538 5.7.11 Encryption required for "
		    "requested authentication mechanism");
	if (s->helo[0] == '\0' || !s->esmtp)
		return reply(s, "503 5.5.1 Error: send EHLO first");
	if (s->auth_user != NULL)
		return reply(s, "503 5.5.1 Error: already authenticated");
	if (s->in_mail)
		return reply(s, "503 5.5.1 Error: MAIL transaction in "
		    "progress");
	mech = arg;
	init = strchr(arg, ' ');
	if (init != NULL) {
		*init++ = '\0';
		init += strspn(init, " ");
	}
	buf_init(&line, SMTPD_AUTH_LINE_MAX + 16);
	buf_init(&dec, SMTPD_AUTH_LINE_MAX + 16);
	buf_init(&why, 1024);
	if (strcasecmp(mech, "PLAIN") == 0) {
		if (init == NULL || *init == '\0') {
			if (reply(s, "334 ") != 0 ||
			    auth_read(s, &line, &dec) != 0)
				goto out;
		} else if (strcmp(init, "=") == 0)
			buf_reset(&dec);
		else if (base64_decode(&dec, init, strlen(init)) != 0) {
			reply(s, "501 5.5.2 Cannot decode response");
			goto out;
		}
		if (auth_fields(&dec, &authz, &user, &pass) != 0) {
			reply(s, "501 5.5.2 Invalid authentication response");
			goto out;
		}
	} else if (strcasecmp(mech, "LOGIN") == 0) {
		if (init != NULL && *init != '\0') {
			if (base64_decode(&dec, init, strlen(init)) != 0) {
				reply(s, "501 5.5.2 Cannot decode response");
				goto out;
			}
		} else if (reply(s, "334 VXNlcm5hbWU6") != 0 ||
		    auth_read(s, &line, &dec) != 0)
			goto out;
		user = xstrndup(dec.data, dec.len);
		if (strlen(user) != dec.len) {
			reply(s, "501 5.5.2 Invalid authentication response");
			goto out;
		}
		if (reply(s, "334 UGFzc3dvcmQ6") != 0 ||
		    auth_read(s, &line, &dec) != 0)
			goto out;
		pass = xstrndup(dec.data, dec.len);
		if (strlen(pass) != dec.len) {
			reply(s, "501 5.5.2 Invalid authentication response");
			goto out;
		}
		authz = xstrdup("");
	} else {
		reply(s, "504 5.5.4 Unsupported authentication mechanism");
		goto out;
	}
	mech = strcasecmp(mech, "PLAIN") == 0 ? "PLAIN" : "LOGIN";
	if (s->sasl == NULL) {
		reply(s, "454 4.7.0 Temporary authentication failure");
		goto out;
	}
	memset(&cl, 0, sizeof(cl));
	cl.rip = s->peer->addr;
	cl.lip = s->peer->laddr[0] ? s->peer->laddr : NULL;
	{
		long long	 port;
		const char	*e;

		cl.rport = num_parse(s->peer->port, 0, 65535, &port, &e) == 0 ?
		    (int)port : 0;
	}
	cl.secured = s->io.tls != NULL;
	cl.service = "smtp";
	who[0] = '\0';
	st = sasl_auth(s->sasl, user, pass, authz, &cl, who, sizeof(who),
	    &why);
	if (st == SASL_OK) {
		s->auth_user = xstrdup(who[0] ? who : user);
		s->auth_mech = mech;
		reply(s, "235 2.7.0 Authentication successful");
		goto out;
	}
	if (st == SASL_TEMP) {
		log_warnx("%s: SASL %s authentication aborted: %s",
		    smtpd_clientname(s), mech, buf_str(&why));
		reply(s, "454 4.7.0 Temporary authentication failure");
		goto out;
	}
	/* The line fail2ban's postfix-sasl filter looks for. */
	log_mail("smtpd", "warning: %s: SASL %s authentication failed: %s",
	    smtpd_clientname(s), mech, strcasecmp(mech, "LOGIN") == 0 ?
	    "UGFzc3dvcmQ6" : "authentication failure");
	s->auth_failures++;
	if (s->auth_failures >= SMTPD_AUTH_FAIL_MAX) {
		reply(s, "421 4.7.0 %s Error: too many failed "
		    "authentication attempts", conf_get("myhostname"));
		rc = -1;
		s->quit = 1;
		goto out;
	}
	sleep(1);
	reply(s, "535 5.7.8 Error: authentication failed: authentication "
	    "failure");
out:
	if (pass != NULL)
		explicit_bzero(pass, strlen(pass));
	if (dec.data != NULL)
		explicit_bzero(dec.data, dec.len);
	free(authz);
	free(user);
	free(pass);
	buf_free(&line);
	buf_free(&dec);
	buf_free(&why);
	return rc != 0 || s->io.dead ? -1 : 0;
}

/* forbidden - an HTTP request or a header line instead of SMTP */
static int
forbidden(const char *line)
{
	size_t	 i, n = strcspn(line, " ");

	for (i = 0; i < nitems(smtpd_forbidden); i++)
		if (strlen(smtpd_forbidden[i]) == n &&
		    strncasecmp(line, smtpd_forbidden[i], n) == 0)
			return 1;
	/* "Host: x", "User-Agent: y" */
	return n > 1 && line[n - 1] == ':' && strchr(line, ':') ==
	    line + n - 1 && !(n == 5 && strncasecmp(line, "MAIL", 4) == 0) &&
	    !(n == 5 && strncasecmp(line, "RCPT", 4) == 0);
}

/*
 * session_run - the loop: a command, its reply, until QUIT, the end
 * of the connection or a fatal error
 */
int
session_run(struct session *s)
{
	struct buf		 line;
	const struct smtpd_cmd	*c;
	size_t			 i, n, vl;
	int			 flags, rc;
	long long		 max = conf_int("line_length_limit");

	buf_init(&line, (size_t)max + 16);
	s->last_verb = "CONNECT";
	for (;;) {
		if (s->errors >= conf_int("smtpd_hard_error_limit")) {
			log_mail("smtpd", "too many errors after %s from %s",
			    s->last_verb, smtpd_clientname(s));
			reply(s, "421 4.7.0 %s Error: too many errors",
			    conf_get("myhostname"));
			break;
		}
		rc = sio_getline(&s->io, &line, (size_t)max, &flags);
		if (rc == SIO_TIMEOUT) {
			s->io.dead = 0;
			reply(s, "421 4.4.2 %s Error: timeout exceeded",
			    conf_get("myhostname"));
			log_mail("smtpd", "timeout after %s from %s",
			    s->last_verb, smtpd_clientname(s));
			break;
		}
		if (rc != SIO_OK) {
			if (!s->quit)
				log_mail("smtpd", "lost connection after %s "
				    "from %s", s->last_verb,
				    smtpd_clientname(s));
			break;
		}
		/*
		 * Commands are bounded too, not only content: past
		 * SMTPD_PREDATA_MAX octets without a message (NOOP floods,
		 * endless RCPT or RSET) the session ends.
		 */
		s->cmd_bytes += (long long)line.len + 2;
		if (s->cmd_bytes > SMTPD_PREDATA_MAX) {
			log_mail("smtpd", "too much data before DATA from %s",
			    smtpd_clientname(s));
			reply(s, "421 4.7.0 %s Error: too much data before "
			    "DATA", conf_get("myhostname"));
			break;
		}
		if (flags & SIO_BARELF) {
			reply(s, "500 5.5.2 %s Error: bare <LF> received",
			    conf_get("myhostname"));
			break;
		}
		if (flags & SIO_TOOLONG) {
			reply(s, "500 5.5.2 Error: command too long");
			continue;
		}
		if (flags & (SIO_NUL | SIO_CTL | SIO_BARECR)) {
			reply(s, "500 5.5.2 Error: command contains a "
			    "control character");
			continue;
		}
		if (forbidden(buf_str(&line))) {
			log_mail("smtpd", "warning: non-SMTP command from %s: "
			    "%.100s", smtpd_clientname(s), buf_str(&line));
			reply(s, "221 2.7.0 Error: I can break rules, too. "
			    "Goodbye.");
			break;
		}
		vl = strcspn(buf_str(&line), " ");
		c = NULL;
		for (i = 0; i < nitems(smtpd_cmds); i++) {
			n = strlen(smtpd_cmds[i].verb);
			if (n == vl && strncasecmp(buf_str(&line),
			    smtpd_cmds[i].verb, n) == 0)
				c = &smtpd_cmds[i];
		}
		if (c == NULL) {
			s->counts[SMTPD_NSTATS]++;
			reply(s, "500 5.5.2 Error: command not recognized");
			continue;
		}
		s->counts[c->stat]++;
		s->last_verb = c->verb;
		if ((c->flags & CMD_LAST) && sio_pending(&s->io)) {
			log_mail("smtpd", "improper command pipelining after "
			    "%s from %s: %.100s", c->verb,
			    smtpd_clientname(s), buf_str(&line));
			reply(s, "554 5.5.0 Error: SMTP protocol "
			    "synchronization");
			break;
		}
		{
			char	*arg = line.data + vl;

			arg += strspn(arg, " ");
			if (!(c->flags & CMD_ARGS) && *arg != '\0' &&
			    c->fn != cmd_data && c->fn != cmd_rset) {
				reply(s, "501 5.5.4 Syntax: %s", c->verb);
				continue;
			}
			if (c->fn(s, arg) != 0)
				break;
		}
	}
	buf_free(&line);
	return 0;
}

/* session_stats - "ehlo=1 mail=1 rcpt=1 data=1 quit=1 commands=5" */
void
session_stats(struct session *s, struct buf *out)
{
	size_t	 i;
	long	 total = 0;

	for (i = 0; i < SMTPD_NSTATS; i++) {
		if (s->counts[i] == 0)
			continue;
		buf_printf(out, "%s=%ld ", smtpd_stat_names[i], s->counts[i]);
		total += s->counts[i];
	}
	if (s->counts[SMTPD_NSTATS] > 0) {
		buf_printf(out, "unknown=%ld ", s->counts[SMTPD_NSTATS]);
		total += s->counts[SMTPD_NSTATS];
	}
	buf_printf(out, "commands=%ld", total);
}
