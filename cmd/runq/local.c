/*
 * local.c - local(8): delivery to recipients in mydestination and in
 * virtual_mailbox_domains
 *
 * The order is Postfix's local(8):
 *	virtual_alias_maps (any domain): the address becomes others;
 *	Delivered-To loop and hopcount checks (5.4.6);
 *	aliases (alias_maps: user+ext, then user): addresses are forwarded
 *	  as a new message (forward.c) with a Delivered-To header, so a
 *	  chain of aliases is a chain of messages that loop detection and
 *	  the depth limit (RQ_ALIAS_DEPTH Delivered-To headers) can see;
 *	  |commands and /files are delivered here; owner-NAME, when it
 *	  exists, becomes the envelope sender of NAME's expansion;
 *	the user: unknown users bounce 5.1.1;
 *	~/.forward (forward_path), read as the user;
 *	the mailbox: mailbox_transport (LMTP), mailbox_command,
 *	  home_mailbox (Maildir when it ends in "/", else mbox), or
 *	  mail_spool_directory/USER (mbox).
 * Virtual mailboxes: virtual_mailbox_maps gives the path under
 * virtual_mailbox_base (Maildir when it ends in "/"),
 * virtual_uid_maps/virtual_gid_maps the owner.
 *
 * Every delivery to a file, a mailbox or a command runs in a child
 * switched to the recipient (initgroups, setresgid, setresuid, checked),
 * or to default_privs for root's aliases; the parent alone writes the
 * queue file.  They talk over a socketpair: the child sends MARK lines
 * (an mbox append about to start: the parent records the crash mark and
 * answers GO), FWD lines (the addresses of a .forward) and one RES line
 * with the outcome.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "common/addr.h"
#include "common/aliases.h"
#include "common/buf.h"
#include "common/conf.h"
#include "common/log.h"
#include "common/map.h"
#include "common/util.h"
#include "spool/spool.h"
#include "cmd/runq/runq.h"

#define LOCAL_FWD_MAX	(64 * 1024)	/* a .forward or :include: file */
#define LOCAL_MSG_MAX	(DLV_TEXT_MAX + 256)

/* Who a child runs as. */
struct local_id {
	uid_t		 uid;
	gid_t		 gid;
	const char	*name;		/* for initgroups; NULL: none */
	const char	*home;
	const char	*shell;
};

/* What a child is to do. */
enum local_job_kind {
	JOB_MAILBOX,		/* the user's mailbox (with .forward first) */
	JOB_COMMAND,		/* |command from an alias */
	JOB_FILE,		/* /file from an alias */
	JOB_VIRTUAL,		/* a virtual mailbox path */
};

struct local_job {
	enum local_job_kind	 kind;
	const char		*target;	/* command, file or path */
	const char		*user;		/* local part, no extension */
	const char		*extension;
	const char		*domain;
	int			 check_forward;
};

/* One recipient's expansion. */
struct local_x {
	struct rq_msgctx	*c;
	size_t			 idx;
	struct rq_result	*res;
	char			**fwd;		/* addresses to forward to */
	size_t			 nfwd;
	const char		*fwd_sender;
	char			 alias_name[SPOOL_ADDR_MAX + 1];
	int			 outcome_set;
	int			 marked;	/* a mark was stored this attempt */
	const char		*domain;	/* the recipient's domain */
	int			 depth;
};

static int	 local_child(struct local_x *, const struct local_id *,
		    const struct local_job *);
static int	 local_read_as(const struct local_id *, const char *,
		    struct buf *);
static void	 local_switch(const struct local_id *);
static void	 local_privs(struct local_id *);
static int	 local_read_forward(const char *, uid_t, struct buf *);
static void	 local_expand_text(struct local_x *, const char *, size_t,
		    const char *, const struct local_id *, const char *);
static void	 local_result(struct local_x *, enum dlv_status,
		    const char *dsn, const char *fmt, ...)
		    __attribute__((format(printf, 4, 5)));



/* local_is_mydestination - the domain is delivered here by local(8) */
int
local_is_mydestination(const char *domain)
{
	return conf_list_has("mydestination", domain) ||
	    addr_literal_is_mine(domain);
}

/* local_is_virtual - the domain is a virtual mailbox domain */
int
local_is_virtual(const char *domain)
{
	return conf_list_has("virtual_mailbox_domains", domain);
}

/* local_result - the recipient's outcome (the worst one wins) */
static void
local_result(struct local_x *x, enum dlv_status st, const char *dsn,
    const char *fmt, ...)
{
	char	 text[DLV_TEXT_MAX];
	va_list	 ap;

	if (x->outcome_set && x->res->r.status >= st)
		return;
	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	dlv_set(&x->res->r, st, dsn, "%s", text);
	x->outcome_set = 1;
}

/* local_lookup - a key in every map of a list; 1 found, 0 not, -1 error */
static int
local_lookup(const char *param, const char *key, struct buf *value,
    struct buf *why)
{
	char		**specs = conf_list(param);
	struct map	*mp;
	size_t		 i;
	int		 rc = 0;

	for (i = 0; specs[i] != NULL && rc == 0; i++) {
		buf_reset(why);
		if ((mp = map_open(specs[i], strcmp(param, "alias_maps") == 0 ?
		    MAP_F_ALIASES : 0, why)) == NULL) {
			if (errno == EPROTONOSUPPORT) {
				log_debug("%s: %s", param, buf_str(why));
				continue;
			}
			rc = -1;
			break;
		}
		if (map_is_stale(mp))
			log_warnx("%s: %s is newer than its database: run "
			    "newaliases", param, map_source(mp));
		rc = map_lookup(mp, key, value, why);
		map_close(mp);
	}
	conf_list_free(specs);
	return rc;
}

/*
 * local_virtual_alias - addr's value in virtual_alias_maps: the whole
 * address, then @domain; 1 found (in value), 0 not, -1 with why set
 */
static int
local_virtual_alias(const char *addr, const char *domain, struct buf *value,
    struct buf *why)
{
	struct buf	 key;
	int		 rc;

	if (*conf_get("virtual_alias_maps") == '\0')
		return 0;
	rc = local_lookup("virtual_alias_maps", addr, value, why);
	if (rc != 0 || domain == NULL)
		return rc;
	buf_init(&key, SPOOL_ADDR_MAX + 2);
	if (buf_printf(&key, "@%s", domain) == BUF_OK)
		rc = local_lookup("virtual_alias_maps", buf_str(&key), value,
		    why);
	buf_free(&key);
	return rc;
}

/*
 * local_has_virtual_alias - whether virtual_alias_maps rewrites addr:
 * 1, 0, or -1 with why set.  rq_route sends such an address here
 * whatever its domain, as Postfix rewrites before it routes.
 */
int
local_has_virtual_alias(const char *addr, struct buf *why)
{
	struct buf	 val;
	const char	*at = strrchr(addr, '@');
	int		 rc;

	buf_init(&val, MAP_VALUE_MAX + 1);
	rc = local_virtual_alias(addr, at != NULL ? at + 1 : NULL, &val, why);
	buf_free(&val);
	return rc;
}

/* local_add_fwd - one address of an expansion (deduplicated) */
static int
local_add_fwd(struct local_x *x, const char *addr)
{
	size_t	 i;

	for (i = 0; i < x->nfwd; i++)
		if (strcmp(x->fwd[i], addr) == 0)
			return 0;
	if (x->nfwd >= RQ_EXPAND_MAX)
		return -1;
	x->fwd = xreallocarray(x->fwd, x->nfwd + 1, sizeof(char *));
	x->fwd[x->nfwd++] = xstrdup(addr);
	return 0;
}

/* local_flush_fwd - queue the collected addresses as one forward */
static void
local_flush_fwd(struct local_x *x, const char *delivered_to)
{
	struct spool_rcpt	*r;
	struct buf	 why, orcpt;
	char		 id[SPOOL_ID_MAX];
	size_t		 i;

	if (x->nfwd == 0)
		return;
	buf_init(&why, 4096);
	buf_init(&orcpt, SPOOL_ADDR_MAX + 16);
	r = &x->c->m->rcpt[x->idx];
	if (r->orcpt != NULL)
		buf_adds(&orcpt, r->orcpt);
	else
		buf_printf(&orcpt, "rfc822;%s", r->addr);
	if (fwd_enqueue(x->c->rq, x->c->m, x->fwd_sender != NULL ?
	    x->fwd_sender : x->c->m->sender, x->fwd, x->nfwd, delivered_to,
	    buf_str(&orcpt), r->notify, id, sizeof(id), &why) != 0)
		local_result(x, DLV_DEFER, "4.3.0", "cannot forward: %s",
		    buf_str(&why));
	else {
		local_result(x, DLV_OK, "2.0.0", "forwarded as %s", id);
		log_mail("local", "%s: %s: forwarded as %s", x->c->m->id,
		    delivered_to, id);
	}
	for (i = 0; i < x->nfwd; i++)
		free(x->fwd[i]);
	free(x->fwd);
	x->fwd = NULL;
	x->nfwd = 0;
	buf_free(&why);
	buf_free(&orcpt);
}

/* local_switch - become id in a child; any failure is fatal there */
static void
local_switch(const struct local_id *id)
{
	uid_t	 r, e, s;
	gid_t	 rg, eg, sg;

	if (geteuid() != 0)
		return;		/* a private spool: deliver as ourselves */
	if ((id->name != NULL ? initgroups(id->name, id->gid) :
	    setgroups(1, &id->gid)) != 0 ||
	    setresgid(id->gid, id->gid, id->gid) != 0 ||
	    setresuid(id->uid, id->uid, id->uid) != 0 ||
	    getresuid(&r, &e, &s) != 0 || getresgid(&rg, &eg, &sg) != 0 ||
	    r != id->uid || e != id->uid || s != id->uid ||
	    rg != id->gid || eg != id->gid || sg != id->gid)
		fatal(EX_OSERR, "switch to uid %lu gid %lu",
		    (unsigned long)id->uid, (unsigned long)id->gid);
}

/* local_send - one protocol line from the child */
static void
local_send(int fd, const char *fmt, ...)
{
	char	 line[LOCAL_MSG_MAX + LOCAL_FWD_MAX];
	va_list	 ap;
	int	 n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line) - 1, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(line) - 1)
		n = (int)sizeof(line) - 2;
	line[n++] = '\n';
	(void)write_all(fd, line, (size_t)n);
}

/* local_msg - the delivery agents' view of the message */
static void
local_msg(struct local_x *x, struct dlv_msg *dm, const char *recipient)
{
	struct spool_msg	*m = x->c->m;
	struct spool_rcpt	*r = &m->rcpt[x->idx];

	memset(dm, 0, sizeof(*dm));
	dm->fd = m->fd;
	dm->off = m->content_off;
	dm->len = m->content_len;
	dm->queue_id = m->id;
	dm->sender = m->sender;
	dm->recipient = recipient;
	dm->orig_rcpt = conf_bool("enable_original_recipient") ?
	    (r->orcpt != NULL && strncasecmp(r->orcpt, "rfc822;", 7) == 0 ?
	    r->orcpt + 7 : r->addr) : NULL;
	dm->delivered_to = recipient;
	dm->arrival = x->c->arrival;
}

/* local_read_forward - a .forward file, checked as Postfix checks it */
static int
local_read_forward(const char *path, uid_t uid, struct buf *out)
{
	struct stat	 st;
	char		 chunk[4096];
	ssize_t		 n;
	int		 fd;

	fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT || errno == ENOTDIR ? 0 : -1;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) ||
	    (st.st_uid != uid && st.st_uid != 0) ||
	    (st.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
		log_warnx("%s: not a regular file owned by the user or root "
		    "and writable only by its owner: ignored", path);
		close(fd);
		return 0;
	}
	while ((n = read(fd, chunk, sizeof(chunk))) > 0)
		if (buf_add(out, chunk, (size_t)n) != BUF_OK) {
			log_warnx("%s: longer than %d bytes: the rest is "
			    "ignored", path, LOCAL_FWD_MAX);
			break;
		}
	close(fd);
	return out->len > 0 ? 1 : 2;	/* 2: exists, empty */
}

/*
 * local_read_as - local_read_forward in a child switched to id, so
 * that a user's :include: can name only what the user may read
 */
static int
local_read_as(const struct local_id *id, const char *path, struct buf *out)
{
	char	 chunk[4096];
	pid_t	 pid;
	ssize_t	 n;
	int	 p[2], status, rc;

	if (pipe2(p, O_CLOEXEC) != 0)
		return -1;
	fflush(NULL);
	if ((pid = fork()) < 0) {
		close(p[0]);
		close(p[1]);
		return -1;
	}
	if (pid == 0) {
		close(p[0]);
		local_switch(id);
		rc = local_read_forward(path, id->uid, out);
		if (rc == 1)
			(void)write_all(p[1], out->data, out->len);
		_exit(rc < 0 ? 1 : 0);
	}
	close(p[1]);
	while ((n = read(p[0], chunk, sizeof(chunk))) > 0)
		if (buf_add(out, chunk, (size_t)n) != BUF_OK)
			break;
	close(p[0]);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		errno = EACCES;
		return -1;
	}
	return out->len > 0 ? 1 : 0;
}

/*
 * local_expand_path - forward_path's local(8) variables: $home, $user,
 * $extension, $recipient_delimiter, $local, $domain, also as ${name},
 * and ${name?text} / ${name:text}
 */
static int
local_expand_path(const char *tmpl, const struct local_job *job,
    const struct local_id *id, struct buf *out)
{
	const char	*p = tmpl, *name, *val, *end;
	char		 nm[64], alt[256];
	size_t		 n;
	int		 brace, op;

	buf_reset(out);
	while (*p) {
		if (*p != '$') {
			buf_addc(out, *p++);
			continue;
		}
		p++;
		brace = *p == '{';
		if (brace)
			p++;
		name = p;
		n = strspn(p, "abcdefghijklmnopqrstuvwxyz_");
		if (n == 0 || n >= sizeof(nm))
			return -1;
		memcpy(nm, name, n);
		nm[n] = '\0';
		p += n;
		op = 0;
		alt[0] = '\0';
		if (brace && (*p == '?' || *p == ':')) {
			op = *p++;
			if ((end = strchr(p, '}')) == NULL ||
			    (size_t)(end - p) >= sizeof(alt))
				return -1;
			memcpy(alt, p, (size_t)(end - p));
			alt[end - p] = '\0';
			p = end;
		}
		if (brace) {
			if (*p != '}')
				return -1;
			p++;
		}
		val = strcmp(nm, "home") == 0 ? id->home :
		    strcmp(nm, "user") == 0 ? job->user :
		    strcmp(nm, "extension") == 0 ? job->extension :
		    strcmp(nm, "recipient_delimiter") == 0 ?
		    (job->extension ? conf_get("recipient_delimiter") : NULL) :
		    strcmp(nm, "local") == 0 ? job->user :
		    strcmp(nm, "domain") == 0 ? job->domain : NULL;
		if (val != NULL && *val == '\0')
			val = NULL;
		if (op == '?')
			val = val != NULL ? alt : NULL;
		else if (op == ':')
			val = val == NULL ? alt : val;
		else if (val == NULL && (strcmp(nm, "extension") == 0 ||
		    strcmp(nm, "recipient_delimiter") == 0))
			return 1;	/* this path needs an extension */
		if (val != NULL)
			buf_adds(out, val);
	}
	return 0;
}

/* local_child_main - the delivery child's work; returns the outcome */
static void
local_child_main(int sock, struct local_x *x, const struct local_id *id,
    const struct local_job *job, struct dlv_result *r)
{
	struct spool_rcpt	*rc = &x->c->m->rcpt[x->idx];
	struct dlv_msg		 dm;
	struct dlv_env		 env;
	struct mbox		 mb;
	struct buf		 path, fwd;
	char			**paths;
	const char		*mbox_path = NULL;
	char			 go[8];
	char			 recipient[SPOOL_ADDR_MAX + 1];
	size_t			 i;
	int			 rcode;

	buf_init(&path, 4096);
	buf_init(&fwd, LOCAL_FWD_MAX);
	if (bsnprintf(recipient, sizeof(recipient), "%s@%s", job->user,
	    job->domain) != 0)
		(void)str_copy(recipient, sizeof(recipient), rc->addr);
	local_msg(x, &dm, job->kind == JOB_MAILBOX ? recipient : rc->addr);
	memset(&env, 0, sizeof(env));
	env.user = job->user;
	env.home = id->home;
	env.shell = id->shell;
	env.extension = job->extension;
	env.domain = job->domain;
	env.local = job->user;
	env.time_limit = conf_time("command_time_limit");

	switch (job->kind) {
	case JOB_COMMAND:
		pipe_deliver(job->target, &dm, &env, r);
		goto out;
	case JOB_FILE:
		mbox_path = job->target;
		break;
	case JOB_VIRTUAL:
		if (job->target[strlen(job->target) - 1] == '/') {
			maildir_deliver(job->target, &dm, 1, r);
			goto out;
		}
		mbox_path = job->target;
		break;
	case JOB_MAILBOX:
		if (job->check_forward) {
			paths = conf_list("forward_path");
			for (i = 0; paths[i] != NULL; i++) {
				rcode = local_expand_path(paths[i], job, id,
				    &path);
				if (rcode != 0)
					continue;
				buf_reset(&fwd);
				rcode = local_read_forward(buf_str(&path),
				    id->uid, &fwd);
				if (rcode == 1) {
					/* The parent expands it. */
					for (size_t k = 0; k < fwd.len; k++)
						if (fwd.data[k] == '\n')
							fwd.data[k] = '\001';
					local_send(sock, "FWD %s %s",
					    buf_str(&path), buf_str(&fwd));
					dlv_set(r, DLV_OK, "2.0.0",
					    "forwarded by %s",
					    buf_str(&path));
					conf_list_free(paths);
					goto out;
				}
				if (rcode < 0) {
					dlv_set(r, DLV_DEFER, "4.3.0",
					    "cannot read %s: %s",
					    buf_str(&path), strerror(errno));
					conf_list_free(paths);
					goto out;
				}
				if (rcode == 2)
					break;	/* exists, empty: no forward */
			}
			conf_list_free(paths);
		}
		if (*conf_get("mailbox_transport") != '\0') {
			struct lmtp_rcpt	 lr;
			const char		*t = conf_get("mailbox_transport");

			if (strncmp(t, "lmtp:", 5) != 0) {
				dlv_set(r, DLV_DEFER, "4.3.5", "mailbox_transport "
				    "%s: only lmtp: is supported", t);
				goto out;
			}
			memset(&lr, 0, sizeof(lr));
			lr.addr = recipient;
			lmtp_deliver(t + 5, &dm, &lr, 1, 300, r);
			if (r->status == DLV_OK || lr.result.dsn[0] != '\0')
				*r = lr.result;
			goto out;
		}
		if (*conf_get("mailbox_command") != '\0') {
			pipe_deliver(conf_get("mailbox_command"), &dm, &env,
			    r);
			goto out;
		}
		buf_reset(&path);
		if (*conf_get("home_mailbox") != '\0') {
			buf_printf(&path, "%s/%s", id->home,
			    conf_get("home_mailbox"));
			if (path.data[path.len - 1] == '/') {
				maildir_deliver(buf_str(&path), &dm, 1, r);
				goto out;
			}
		} else
			buf_printf(&path, "%s/%s",
			    conf_get("mail_spool_directory"), job->user);
		mbox_path = buf_str(&path);
		break;
	}
	/* An mbox append, with its crash mark recorded first. */
	if (mbox_open(&mb, mbox_path, job->kind == JOB_VIRTUAL ?
	    conf_size("virtual_mailbox_limit") :
	    conf_size("mailbox_size_limit"), 0600, r) != 0)
		goto out;
	if (!x->marked && (rc->mark_len != 0 || rc->mark_ino != 0)) {
		struct mbox_mark	 old;

		old.dev = (dev_t)rc->mark_dev;
		old.ino = (ino_t)rc->mark_ino;
		old.len = (off_t)rc->mark_len;
		old.stamp = rc->mark_stamp;
		if (mbox_undo(&mb, &old, &dm, r) < 0) {
			mbox_close(&mb);
			goto out;
		}
		mb.mark.len = lseek(mb.fd, 0, SEEK_END);
	}
	if (job->kind != JOB_FILE) {
		if (mb.mark.stamp == 0)
			mb.mark.stamp = (long long)time(NULL);
		local_send(sock, "MARK %llu %llu %lld %lld",
		    (unsigned long long)mb.mark.dev,
		    (unsigned long long)mb.mark.ino, (long long)mb.mark.len,
		    mb.mark.stamp);
		if (read(sock, go, sizeof(go)) < 2 || strncmp(go, "GO", 2)) {
			dlv_set(r, DLV_DEFER, "4.3.0", "queue manager gone");
			mbox_close(&mb);
			goto out;
		}
	}
	if (mbox_append(&mb, &dm, r) == 0 && mbox_sync(&mb, r) == 0)
		dlv_set(r, DLV_OK, "2.0.0", job->kind == JOB_FILE ?
		    "delivered to file: %s" : "delivered to mailbox",
		    mbox_path);
	mbox_close(&mb);
out:
	buf_free(&path);
	buf_free(&fwd);
}

/*
 * local_child - run one job in a child as id; the outcome lands in
 * x->res (worst wins); a .forward's addresses join x->fwd
 */
static int
local_child(struct local_x *x, const struct local_id *id,
    const struct local_job *job)
{
	struct spool_msg	*m = x->c->m;
	struct spool_rcpt	*rc = &m->rcpt[x->idx];
	struct dlv_result	 r;
	struct buf		 in, why;
	char			 chunk[4096], *line, *nl;
	pid_t			 pid;
	ssize_t			 n;
	int			 sv[2], status, got = 0;
	int			 continue_reading = 0;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
		local_result(x, DLV_DEFER, "4.3.0", "socketpair: %s",
		    strerror(errno));
		return -1;
	}
	fflush(NULL);
	if ((pid = fork()) < 0) {
		close(sv[0]);
		close(sv[1]);
		local_result(x, DLV_DEFER, "4.3.0", "fork: %s",
		    strerror(errno));
		return -1;
	}
	if (pid == 0) {
		close(sv[0]);
		local_switch(id);
		memset(&r, 0, sizeof(r));
		dlv_set(&r, DLV_DEFER, "4.3.0", "delivery agent failed");
		local_child_main(sv[1], x, id, job, &r);
		local_send(sv[1], "RES %d %s %s", (int)r.status,
		    r.dsn[0] ? r.dsn : "4.3.0", r.text);
		_exit(0);
	}
	close(sv[1]);
	buf_init(&in, LOCAL_FWD_MAX + LOCAL_MSG_MAX + 1024);
	buf_init(&why, 4096);
	while ((n = read(sv[0], chunk, sizeof(chunk))) > 0) {
		if (buf_add(&in, chunk, (size_t)n) != BUF_OK)
			break;
		while ((nl = memchr(in.data, '\n', in.len)) != NULL) {
			*nl = '\0';
			line = in.data;
			if (strncmp(line, "MARK ", 5) == 0) {
				unsigned long long	 dev, ino;
				long long		 len, stamp;

				if (sscanf(line + 5, "%llu %llu %lld %lld",
				    &dev, &ino, &len, &stamp) == 4) {
					rc->mark_dev = dev;
					rc->mark_ino = ino;
					rc->mark_len = len;
					rc->mark_stamp = stamp;
					if (spool_rcpt_mark(m, x->idx,
					    &why) == 0) {
						(void)write_all(sv[0], "GO\n",
						    3);
						x->marked = 1;
						continue_reading = 1;
					} else
						log_warnx("%s",
						    buf_str(&why));
				}
				/* Never leave the child waiting. */
				if (!continue_reading)
					(void)write_all(sv[0], "NO\n", 3);
				continue_reading = 0;
			} else if (strncmp(line, "FWD ", 4) == 0) {
				char	*sp = strchr(line + 4, ' ');

				if (sp != NULL) {
					*sp++ = '\0';
					/* Your own name in .forward: mailbox. */
					(void)str_copy(x->alias_name,
					    sizeof(x->alias_name), job->user);
					for (char *q = sp; *q; q++)
						if (*q == '\001')
							*q = '\n';
					local_expand_text(x, sp, strlen(sp),
					    "forward", id, line + 4);
				}
			} else if (strncmp(line, "RES ", 4) == 0) {
				int	 st;
				char	 dsn[16];
				int	 off = 0;

				if (sscanf(line + 4, "%d %15s %n", &st, dsn,
				    &off) == 2 && off > 0) {
					local_result(x, (enum dlv_status)st,
					    dsn, "%s", line + 4 + off);
					got = 1;
				}
			}
			n = (ssize_t)(nl + 1 - in.data);
			memmove(in.data, nl + 1, in.len - (size_t)n);
			buf_truncate(&in, in.len - (size_t)n);
		}
	}
	close(sv[0]);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (!got)
		local_result(x, DLV_DEFER, "4.3.0", "delivery agent died%s",
		    WIFSIGNALED(status) ? " (signal)" : "");
	buf_free(&in);
	buf_free(&why);
	return 0;
}

/* The context of one element callback. */
struct local_el {
	struct local_x		*x;
	const char		*class;		/* "alias" or "forward" */
	const struct local_id	*id;		/* who runs commands, files */
	const char		*origin;	/* the alias or file, for logs */
};

static int	 local_element(enum alias_kind, const char *, size_t, void *);

/*
 * local_expand_text - an alias value or a .forward / :include: file:
 * addresses are forwarded, commands and files delivered as id, \user
 * delivered to that user's mailbox
 */
static void
local_expand_text(struct local_x *x, const char *text, size_t len,
    const char *class, const struct local_id *id, const char *origin)
{
	struct local_el	 el;
	struct buf	 clean, why;
	const char	*p = text, *end = text + len, *nl;

	/* Files: one or more lines; '#' lines are comments. */
	buf_init(&clean, LOCAL_FWD_MAX + 1);
	buf_init(&why, 4096);
	while (p < end) {
		nl = memchr(p, '\n', (size_t)(end - p));
		if (nl == NULL)
			nl = end;
		if (*p != '#') {
			if (clean.len > 0)
				buf_addc(&clean, ',');
			buf_add(&clean, p, (size_t)(nl - p));
		}
		p = nl + 1;
	}
	el.x = x;
	el.class = class;
	el.id = id;
	el.origin = origin;
	if (++x->depth > RQ_ALIAS_DEPTH)
		local_result(x, DLV_BOUNCE, "5.4.6", "alias expansion too "
		    "deep (more than %d levels) at %s", RQ_ALIAS_DEPTH,
		    origin);
	else if (aliases_split_value(buf_str(&clean), clean.len,
	    local_element, &el, &why) != 0)
		local_result(x, DLV_DEFER, "4.3.0", "%s: %s", origin,
		    buf_str(&why));
	x->depth--;
	buf_free(&clean);
	buf_free(&why);
}

/* local_user_id - a user's identity; 0 found, -1 unknown */
static int
local_user_id(const char *user, struct local_id *id)
{
	struct passwd	*pw;

	if ((pw = getpwnam(user)) == NULL)
		return -1;
	id->uid = pw->pw_uid;
	id->gid = pw->pw_gid;
	id->name = xstrdup(pw->pw_name);
	id->home = xstrdup(pw->pw_dir);
	id->shell = xstrdup(pw->pw_shell);
	return 0;
}

/*
 * local_mailbox - deliver to a local user's mailbox, with .forward
 * first unless noforward; the mail spool directory's group joins the
 * user's identity, as Postfix's local(8) does on Debian
 */
static void
local_mailbox(struct local_x *x, const char *user, const char *ext,
    int noforward)
{
	struct local_job	 job;
	struct local_id		 id;
	struct stat		 st;

	if (local_user_id(user, &id) != 0) {
		local_result(x, DLV_BOUNCE, "5.1.1", "unknown user: \"%s\"",
		    user);
		return;
	}
	if (*conf_get("home_mailbox") == '\0' &&
	    *conf_get("mailbox_command") == '\0' &&
	    stat(conf_get("mail_spool_directory"), &st) == 0 &&
	    (st.st_mode & S_IWGRP) && st.st_gid != 0)
		id.gid = st.st_gid;
	memset(&job, 0, sizeof(job));
	job.kind = JOB_MAILBOX;
	job.user = user;
	job.extension = ext;
	job.domain = x->domain != NULL ? x->domain : conf_get("myhostname");
	job.check_forward = !noforward;
	local_child(x, &id, &job);
}

/* local_element - one element of an expansion */
static int
local_element(enum alias_kind kind, const char *text, size_t len, void *arg)
{
	struct local_el		*el = arg;
	struct local_x		*x = el->x;
	struct local_job	 job;
	struct buf		 addr, why, inc;
	char			*t = xstrndup(text, len);
	const char		*allow;

	buf_init(&addr, ADDR_CANON_MAX);
	buf_init(&why, 4096);
	memset(&job, 0, sizeof(job));
	job.user = el->id->name != NULL ? el->id->name : "";
	job.domain = x->domain != NULL ? x->domain : conf_get("myhostname");
	switch (kind) {
	case ALIAS_ADDR:
		if (addr_parse_path(t, len, ADDR_ALLOW_BARE | ADDR_UTF8,
		    &addr, &why) != 0) {
			local_result(x, DLV_BOUNCE, "5.1.3", "%s: bad address "
			    "%s: %s", el->origin, t, buf_str(&why));
			break;
		}
		if (strchr(buf_str(&addr), '@') == NULL) {
			/* A name that expands to itself is its mailbox. */
			if (str_casecmp_ascii(buf_str(&addr),
			    x->alias_name) == 0 && x->alias_name[0]) {
				local_mailbox(x, x->alias_name, NULL, 1);
				break;
			}
			buf_printf(&addr, "@%s", conf_get("myorigin"));
		}
		if (local_add_fwd(x, buf_str(&addr)) != 0)
			local_result(x, DLV_BOUNCE, "5.4.6", "%s: more than %d "
			    "addresses", el->origin, RQ_EXPAND_MAX);
		break;
	case ALIAS_NOALIAS:
		str_lower(t);
		local_mailbox(x, t, NULL, 1);
		break;
	case ALIAS_COMMAND:
	case ALIAS_FILE:
		allow = kind == ALIAS_COMMAND ? "allow_mail_to_commands" :
		    "allow_mail_to_files";
		if (!conf_list_has(allow, el->class)) {
			local_result(x, DLV_BOUNCE, "5.7.1", "mail to %s is "
			    "restricted (%s)", kind == ALIAS_COMMAND ?
			    "command" : "file", allow);
			break;
		}
		job.kind = kind == ALIAS_COMMAND ? JOB_COMMAND : JOB_FILE;
		job.target = t;
		if (el->id->uid == 0 && geteuid() == 0) {
			struct local_id	 privs;

			/* Root's commands and files: default_privs. */
			local_privs(&privs);
			local_child(x, &privs, &job);
		} else
			local_child(x, el->id, &job);
		break;
	case ALIAS_INCLUDE:
		buf_init(&inc, LOCAL_FWD_MAX);
		/* A user's :include: is read as that user, never as root. */
		if ((strcmp(el->class, "forward") == 0 ?
		    local_read_as(el->id, t, &inc) :
		    local_read_forward(t, el->id->uid, &inc)) < 0)
			local_result(x, DLV_DEFER, "4.3.0", "cannot read "
			    ":include: %s: %s", t, strerror(errno));
		else if (inc.len > 0)
			local_expand_text(x, inc.data, inc.len, el->class,
			    el->id, t);
		buf_free(&inc);
		break;
	}
	free(t);
	buf_free(&addr);
	buf_free(&why);
	return 0;
}

/* local_privs - default_privs, who runs root's alias commands */
static void
local_privs(struct local_id *id)
{
	if (geteuid() != 0 || local_user_id(conf_get("default_privs"),
	    id) != 0) {
		id->uid = geteuid();
		id->gid = getegid();
		id->name = NULL;
		id->home = "/";
		id->shell = "/bin/sh";
	}
}

/*
 * local_virtual - a virtual mailbox: the address in virtual_mailbox_maps
 * (then its @domain catch-all) gives the path under virtual_mailbox_base
 */
static void
local_virtual(struct local_x *x, const char *addr, const char *domain)
{
	struct local_job	 job;
	struct local_id		 id;
	struct buf		 val, why, path;
	char			 key[SPOOL_ADDR_MAX + 2];
	long long		 n;
	const char		*err;
	int			 rc;

	buf_init(&val, 4096);
	buf_init(&why, 4096);
	buf_init(&path, 4096);
	rc = local_lookup("virtual_mailbox_maps", addr, &val, &why);
	if (rc == 0 && bsnprintf(key, sizeof(key), "@%s", domain) == 0)
		rc = local_lookup("virtual_mailbox_maps", key, &val, &why);
	if (rc < 0) {
		local_result(x, DLV_DEFER, "4.3.0", "virtual_mailbox_maps: %s",
		    buf_str(&why));
		goto out;
	}
	if (rc == 0) {
		local_result(x, DLV_BOUNCE, "5.1.1", "unknown user: \"%s\" "
		    "(not in virtual_mailbox_maps)", addr);
		goto out;
	}
	memset(&id, 0, sizeof(id));
	id.home = "/";
	id.shell = "/bin/sh";
	if (local_lookup("virtual_uid_maps", addr, &path, &why) != 1 ||
	    num_parse(buf_str(&path), 0, 4294967295LL, &n, &err) != 0) {
		local_result(x, DLV_DEFER, "4.3.5", "virtual_uid_maps: no uid "
		    "for %s", addr);
		goto out;
	}
	id.uid = (uid_t)n;
	buf_reset(&path);
	if (local_lookup("virtual_gid_maps", addr, &path, &why) != 1 ||
	    num_parse(buf_str(&path), 0, 4294967295LL, &n, &err) != 0) {
		local_result(x, DLV_DEFER, "4.3.5", "virtual_gid_maps: no gid "
		    "for %s", addr);
		goto out;
	}
	id.gid = (gid_t)n;
	if ((long long)id.uid < conf_int("virtual_minimum_uid") &&
	    geteuid() == 0) {
		local_result(x, DLV_DEFER, "4.3.5", "virtual uid %lu is below "
		    "virtual_minimum_uid", (unsigned long)id.uid);
		goto out;
	}
	buf_reset(&path);
	buf_printf(&path, "%s/%s", conf_get("virtual_mailbox_base"),
	    buf_str(&val));
	memset(&job, 0, sizeof(job));
	job.kind = JOB_VIRTUAL;
	job.target = buf_str(&path);
	job.user = addr;
	job.domain = domain;
	local_child(x, &id, &job);
out:
	buf_free(&val);
	buf_free(&why);
	buf_free(&path);
}

/*
 * local_deliver - recipient idx of the message, in mydestination or a
 * virtual mailbox domain; the outcome goes to res
 */
void
local_deliver(struct rq_msgctx *c, size_t idx, struct rq_result *res)
{
	struct local_x		 x;
	struct spool_rcpt	*r = &c->m->rcpt[idx];
	struct local_id		 privs;
	struct buf		 val, why, key;
	const char		*at, *delim;
	char			*local, *ext = NULL, *user;
	size_t			 i;
	int			 rc;

	memset(&x, 0, sizeof(x));
	x.c = c;
	x.idx = idx;
	x.res = res;
	buf_init(&val, 65536);
	buf_init(&why, 4096);
	buf_init(&key, SPOOL_ADDR_MAX + 2);
	(void)str_copy(res->orig, sizeof(res->orig), r->orcpt != NULL &&
	    strncasecmp(r->orcpt, "rfc822;", 7) == 0 ? r->orcpt + 7 : "");
	at = strrchr(r->addr, '@');
	local = xstrndup(r->addr, at != NULL ? (size_t)(at - r->addr) :
	    strlen(r->addr));
	at = at != NULL ? at + 1 : conf_get("myhostname");
	x.domain = at;
	str_lower(local);
	user = local;

	/* Loops: this address delivered to before, or too many hops. */
	for (i = 0; i < c->ndelivered_to; i++)
		if (str_casecmp_ascii(c->delivered_to[i], r->addr) == 0) {
			local_result(&x, DLV_BOUNCE, "5.4.6", "mail forwarding "
			    "loop for %s", r->addr);
			goto out;
		}
	if (c->hops > conf_int("hopcount_limit") ||
	    c->ndelivered_to >= RQ_ALIAS_DEPTH) {
		local_result(&x, DLV_BOUNCE, "5.4.6", "too many hops (%d "
		    "Received:, %zu Delivered-To:)", c->hops,
		    c->ndelivered_to);
		goto out;
	}

	rc = local_virtual_alias(r->addr, at, &val, &why);
	if (rc < 0) {
		local_result(&x, DLV_DEFER, "4.3.0", "virtual_alias_maps: %s",
		    buf_str(&why));
		goto out;
	}
	if (rc == 1) {
		local_privs(&privs);
		local_expand_text(&x, val.data, val.len, "alias", &privs,
		    "virtual_alias_maps");
		local_flush_fwd(&x, r->addr);
		goto out;
	}
	if (local_is_virtual(at) && !local_is_mydestination(at)) {
		local_virtual(&x, r->addr, at);
		goto out;
	}

	/* user+extension */
	delim = conf_get("recipient_delimiter");
	if (*delim != '\0' && (ext = strpbrk(local, delim)) != NULL &&
	    ext != local) {
		user = xstrndup(local, (size_t)(ext - local));
		ext = ext + 1;
	} else
		ext = NULL;

	/* Aliases: user+ext first, then user. */
	for (i = 0; i < 2; i++) {
		const char	*k = i == 0 ? local : user;

		if (i == 0 && ext == NULL)
			continue;
		buf_reset(&val);
		rc = local_lookup("alias_maps", k, &val, &why);
		if (rc < 0) {
			local_result(&x, DLV_DEFER, "4.3.0", "alias_maps: %s",
			    buf_str(&why));
			goto out;
		}
		if (rc == 0)
			continue;
		(void)str_copy(x.alias_name, sizeof(x.alias_name), k);
		if (conf_bool("owner_request_special")) {
			struct buf	 ov;

			buf_init(&ov, 65536);
			buf_reset(&key);
			buf_printf(&key, "owner-%s", k);
			if (local_lookup("alias_maps", buf_str(&key), &ov,
			    &why) == 1) {
				buf_printf(&key, "@%s", conf_get("myorigin"));
				x.fwd_sender = xstrdup(buf_str(&key));
			}
			buf_free(&ov);
		}
		local_privs(&privs);
		local_expand_text(&x, val.data, val.len, "alias", &privs, k);
		local_flush_fwd(&x, r->addr);
		goto out;
	}
	local_mailbox(&x, user, ext, 0);
	local_flush_fwd(&x, r->addr);
out:
	if (!x.outcome_set)
		local_result(&x, DLV_OK, "2.0.0", "expanded to nothing");
	if (user != local)
		free(user);
	free(local);
	free((char *)x.fwd_sender);
	buf_free(&val);
	buf_free(&why);
	buf_free(&key);
}
