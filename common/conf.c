/*
 * conf.c - correo.conf, in Postfix main.cf syntax (see conf.h)
 *
 * The state is one struct conf_ent per known name: conf_tab[] parallels
 * correo's own table conf_params[], conf_pf[] parallels the sorted list
 * of Postfix names in postfix-params.h.  Both are static, so a load
 * allocates nothing for a name that is not set.  An entry holds the raw
 * value from the file and from -o (which wins), and the cached
 * expansion.  Expansion is memoised per name, so a value is expanded at
 * most once however often it is referenced, and a loop shows up as a
 * name that is "busy" when it is referenced again.
 *
 * conf_get() hands out cached expansions that must stay valid until
 * conf_reset(); when a setting changes, the caches are retired to
 * conf_old[] rather than freed.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/conf.h"
#include "common/log.h"
#include "common/postfix-params.h"
#include "common/util.h"

#define CONF_LINE_MAX	(64 * 1024)	/* a logical line */
#define CONF_VALUE_MAX	(256 * 1024)	/* an expanded value */
#define CONF_DEPTH_MAX	100		/* nested expansions */
#define CONF_NAME_MAX	128		/* longer names are unknown */
#define CONF_ERR_MAX	2048		/* a reason, without location */
#define CONF_WHERE_MAX	(PATH_MAX + 256) /* "FILE, line N" or "-o ..." */
#define CONF_CLIP	200		/* text quoted in a message */
#define CONF_FILE_MAX	1024		/* what is read of a value file */
#define CONF_WARN_MAX	100		/* undefined names warned about */
#define CONF_NOMAX	LLONG_MAX

enum conf_param_flags {
	CONF_F_HOSTNAME = 1 << 0,	/* default: gethostname(), qualified */
	CONF_F_PARENT = 1 << 1,		/* default: minus the first label */
	CONF_F_CONFDIR = 1 << 2,	/* default: the loaded file's dir */
	CONF_F_FILE = 1 << 3,		/* "/path": the file's first line */
	CONF_F_RAW = 1 << 4,		/* never expanded here: $home, $user
					 * ... are runq's, at delivery time */
};

struct conf_param {
	const char	*name;
	enum conf_type	 type;
	const char	*def;		/* default, expanded on use */
	long long	 min, max;	/* INT, SIZE, TIME (seconds) */
	int		 unit;		/* TIME: unit of a bare number */
	int		 flags;		/* enum conf_param_flags */
};

/*
 * correo's parameters.  Adding one is adding a row; the order does not
 * matter (conf_print sorts).
 */
/* While conf_trusted_dir() reads the default file, stay quiet. */
static int	 conf_quiet;
#define conf_warnx(...) do {						\
	if (!conf_quiet)						\
		log_warnx(__VA_ARGS__);					\
} while (0)

static const struct conf_param conf_params[] = {
	/* name, type, default, min, max, time unit, flags */
	{ "myhostname", CONF_STR, NULL, 0, 0, 0, CONF_F_HOSTNAME },
	{ "mydomain", CONF_STR, "$myhostname", 0, 0, 0, CONF_F_PARENT },
	{ "myorigin", CONF_STR, "$myhostname", 0, 0, 0, CONF_F_FILE },
	{ "mydestination", CONF_LIST,
	    "$myhostname, localhost.$mydomain, localhost", 0, 0, 0, 0 },
	{ "recipient_delimiter", CONF_STR, "", 0, 0, 0, 0 },
	{ "message_size_limit", CONF_SIZE, "10240000", 0, CONF_NOMAX, 0, 0 },
	{ "header_size_limit", CONF_SIZE, "102400", 1000, CONF_NOMAX, 0, 0 },
	{ "line_length_limit", CONF_INT, "2048", 80, INT_MAX, 0, 0 },
	{ "hopcount_limit", CONF_INT, "50", 1, INT_MAX, 0, 0 },
	{ "queue_directory", CONF_STR, "/var/spool/correo", 0, 0, 0, 0 },
	{ "daemon_directory", CONF_STR, "/usr/lib/correo", 0, 0, 0, 0 },
	{ "config_directory", CONF_STR, NULL, 0, 0, 0, CONF_F_CONFDIR },
	{ "syslog_name", CONF_STR, "correo", 0, 0, 0, 0 },
	{ "maillog_file", CONF_STR, "", 0, 0, 0, 0 },
	{ "alternate_config_directories", CONF_LIST, "", 0, 0, 0, 0 },
	{ "mail_owner", CONF_STR, "correo", 0, 0, 0, 0 },
	{ "setgid_group", CONF_STR, "correo-drop", 0, 0, 0, 0 },
	{ "mail_name", CONF_STR, "correo", 0, 0, 0, 0 },
	{ "default_privs", CONF_STR, "nobody", 0, 0, 0, 0 },
	{ "alias_maps", CONF_LIST, "hash:/etc/aliases", 0, 0, 0, 0 },
	{ "alias_database", CONF_LIST, "hash:/etc/aliases", 0, 0, 0, 0 },
	{ "virtual_alias_maps", CONF_LIST, "", 0, 0, 0, 0 },
	/* the queue and retries (runq) */
	{ "minimal_backoff_time", CONF_TIME, "300s", 1, CONF_NOMAX, 's', 0 },
	{ "maximal_backoff_time", CONF_TIME, "4000s", 1, CONF_NOMAX, 's', 0 },
	{ "maximal_queue_lifetime", CONF_TIME, "5d", 0, CONF_NOMAX, 'd', 0 },
	{ "bounce_queue_lifetime", CONF_TIME, "5d", 0, CONF_NOMAX, 'd', 0 },
	{ "delay_warning_time", CONF_TIME, "0h", 0, CONF_NOMAX, 'h', 0 },
	{ "queue_run_delay", CONF_TIME, "300s", 1, CONF_NOMAX, 's', 0 },
	{ "defer_transports", CONF_LIST, "", 0, 0, 0, 0 },
	{ "local_destination_concurrency_limit", CONF_INT, "2", 1, 1000, 0,
	    0 },
	{ "bounce_size_limit", CONF_SIZE, "50000", 1, CONF_NOMAX, 0, 0 },
	{ "double_bounce_sender", CONF_STR, "double-bounce", 0, 0, 0, 0 },
	{ "2bounce_notice_recipient", CONF_STR, "postmaster", 0, 0, 0, 0 },
	/* routing and the SMTP client (runq, as Postfix's smtp(8)) */
	{ "relayhost", CONF_STR, "", 0, 0, 0, 0 },
	{ "transport_maps", CONF_LIST, "", 0, 0, 0, 0 },
	{ "inet_protocols", CONF_LIST, "all", 0, 0, 0, 0 },
	{ "default_transport", CONF_STR, "smtp", 0, 0, 0, 0 },
	{ "default_process_limit", CONF_INT, "100", 1, 10000, 0, 0 },
	{ "default_destination_concurrency_limit", CONF_INT, "20", 1, 1000,
	    0, 0 },
	{ "smtp_destination_concurrency_limit",
	    CONF_INT, "$default_destination_concurrency_limit", 1, 1000, 0,
	    0 },
	{ "smtp_helo_name", CONF_STR, "$myhostname", 0, 0, 0, 0 },
	{ "smtp_mx_address_limit", CONF_INT, "5", 0, 1000, 0, 0 },
	{ "smtp_mx_session_limit", CONF_INT, "2", 0, 1000, 0, 0 },
	{ "smtp_connect_timeout", CONF_TIME, "30s", 1, 3600, 's', 0 },
	{ "smtp_helo_timeout", CONF_TIME, "300s", 1, 3600, 's', 0 },
	{ "smtp_starttls_timeout", CONF_TIME, "300s", 1, 3600, 's', 0 },
	{ "smtp_mail_timeout", CONF_TIME, "300s", 1, 3600, 's', 0 },
	{ "smtp_rcpt_timeout", CONF_TIME, "300s", 1, 3600, 's', 0 },
	{ "smtp_data_init_timeout", CONF_TIME, "120s", 1, 3600, 's', 0 },
	{ "smtp_data_xfer_timeout", CONF_TIME, "180s", 1, 3600, 's', 0 },
	{ "smtp_data_done_timeout", CONF_TIME, "600s", 1, 3600, 's', 0 },
	{ "smtp_quit_timeout", CONF_TIME, "300s", 1, 3600, 's', 0 },
	{ "smtp_rset_timeout", CONF_TIME, "20s", 1, 3600, 's', 0 },
	{ "smtp_line_length_limit", CONF_INT, "999", 0, INT_MAX, 0, 0 },
	{ "smtp_tls_security_level", CONF_STR, "", 0, 0, 0, 0 },
	{ "smtp_tls_CAfile", CONF_STR, "", 0, 0, 0, 0 },
	{ "smtp_tls_CApath", CONF_STR, "", 0, 0, 0, 0 },
	{ "smtp_tls_wrappermode", CONF_BOOL, "no", 0, 0, 0, 0 },
	{ "smtp_tls_verify_cert_match", CONF_LIST, "hostname", 0, 0, 0, 0 },
	{ "smtp_tls_secure_cert_match", CONF_LIST, "nexthop, dot-nexthop", 0,
	    0, 0, 0 },
	{ "smtp_sasl_auth_enable", CONF_BOOL, "no", 0, 0, 0, 0 },
	{ "smtp_sasl_password_maps", CONF_LIST, "", 0, 0, 0, 0 },
	{ "smtp_sasl_security_options", CONF_LIST, "noplaintext, noanonymous",
	    0, 0, 0, 0 },
	{ "smtp_sasl_tls_security_options", CONF_LIST,
	    "$smtp_sasl_security_options", 0, 0, 0, 0 },
	/* the SMTP server (smtpd-lite, as Postfix's smtpd(8)) */
	{ "mynetworks", CONF_LIST, "127.0.0.0/8, [::1]/128", 0, 0, 0, 0 },
	{ "relay_domains", CONF_LIST, "", 0, 0, 0, 0 },
	{ "local_recipient_maps", CONF_LIST,
	    "proxy:unix:passwd.byname, $alias_maps", 0, 0, 0, 0 },
	{ "smtpd_banner", CONF_STR, "$myhostname ESMTP $mail_name", 0, 0, 0,
	    0 },
	{ "smtpd_relay_restrictions", CONF_LIST,
	    "permit_mynetworks, permit_sasl_authenticated, "
	    "defer_unauth_destination", 0, 0, 0, 0 },
	{ "smtpd_recipient_restrictions", CONF_LIST, "", 0, 0, 0, 0 },
	{ "smtpd_sender_login_maps", CONF_LIST, "", 0, 0, 0, 0 },
	{ "smtpd_sender_restrictions", CONF_LIST, "", 0, 0, 0, 0 },
	{ "smtpd_recipient_limit", CONF_INT, "1000", 1, INT_MAX, 0, 0 },
	{ "smtpd_hard_error_limit", CONF_INT, "20", 1, INT_MAX, 0, 0 },
	{ "smtpd_soft_error_limit", CONF_INT, "10", 1, INT_MAX, 0, 0 },
	{ "smtpd_error_sleep_time", CONF_TIME, "1s", 0, 3600, 's', 0 },
	{ "smtpd_timeout", CONF_TIME, "300s", 1, 3600, 's', 0 },
	{ "smtpd_tls_cert_file", CONF_STR, "", 0, 0, 0, 0 },
	{ "smtpd_tls_key_file", CONF_STR, "$smtpd_tls_cert_file", 0, 0, 0,
	    0 },
	{ "smtpd_tls_security_level", CONF_STR, "", 0, 0, 0, 0 },
	{ "smtpd_tls_wrappermode", CONF_BOOL, "no", 0, 0, 0, 0 },
	{ "smtpd_tls_auth_only", CONF_BOOL, "no", 0, 0, 0, 0 },
	{ "smtpd_sasl_auth_enable", CONF_BOOL, "no", 0, 0, 0, 0 },
	{ "smtpd_sasl_type", CONF_STR, "dovecot", 0, 0, 0, 0 },
	{ "smtpd_sasl_path", CONF_STR, "private/auth", 0, 0, 0, 0 },
	{ "smtpd_sasl_authenticated_header", CONF_BOOL, "no", 0, 0, 0, 0 },
	{ "smtputf8_enable", CONF_BOOL, "yes", 0, 0, 0, 0 },
	/* local delivery (runq, as Postfix's local(8)) */
	{ "mail_spool_directory", CONF_STR, "/var/mail", 0, 0, 0, 0 },
	{ "home_mailbox", CONF_STR, "", 0, 0, 0, 0 },
	{ "mailbox_command", CONF_STR, "", 0, 0, 0, CONF_F_RAW },
	{ "mailbox_transport", CONF_STR, "", 0, 0, 0, 0 },
	{ "mailbox_size_limit", CONF_SIZE, "51200000", 0, CONF_NOMAX, 0, 0 },
	{ "command_time_limit", CONF_TIME, "1000s", 1, CONF_NOMAX, 's', 0 },
	{ "allow_mail_to_commands", CONF_LIST, "alias, forward", 0, 0, 0, 0 },
	{ "allow_mail_to_files", CONF_LIST, "alias, forward", 0, 0, 0, 0 },
	{ "forward_path", CONF_LIST,
	    "$home/.forward${recipient_delimiter}${extension}, $home/.forward",
	    0, 0, 0, CONF_F_RAW },
	{ "owner_request_special", CONF_BOOL, "yes", 0, 0, 0, 0 },
	{ "enable_original_recipient", CONF_BOOL, "yes", 0, 0, 0, 0 },
	/* virtual mailboxes */
	{ "virtual_mailbox_domains", CONF_LIST, "", 0, 0, 0, 0 },
	{ "virtual_mailbox_maps", CONF_LIST, "", 0, 0, 0, 0 },
	{ "virtual_mailbox_base", CONF_STR, "", 0, 0, 0, 0 },
	{ "virtual_uid_maps", CONF_LIST, "", 0, 0, 0, 0 },
	{ "virtual_gid_maps", CONF_LIST, "", 0, 0, 0, 0 },
	{ "virtual_minimum_uid", CONF_INT, "100", 0, INT_MAX, 0, 0 },
	{ "virtual_mailbox_limit", CONF_SIZE, "51200000", 0, CONF_NOMAX, 0,
	    0 },
};

struct conf_ent {
	const char		*name;
	const struct conf_param	*p;	/* NULL: a Postfix-only name */
	char			*file;	/* the file's value, or NULL */
	int			 line;	/* its line */
	char			*opt;	/* the -o value (wins), or NULL */
	char			*opt_text; /* that -o as given */
	char			*exp;	/* the cached expansion */
	int			 busy;	/* being expanded (loop check) */
};

/* One expansion from the top: its budget, its error and its subject. */
struct conf_x {
	int		 depth;
	struct buf	*err;
	struct conf_ent	*top;
};

/* Where lines come from: a FILE or memory. */
struct conf_rd {
	FILE		*fp;
	const char	*mem;
	size_t		 len, off;
};

enum conf_rd_status {
	CONF_RD_LINE,
	CONF_RD_EOF,
	CONF_RD_TOOLONG,
	CONF_RD_ERROR,
};

static struct conf_ent	 conf_tab[nitems(conf_params)];
static struct conf_ent	 conf_pf[nitems(postfix_param_names)];
static int		 conf_ready;
static int		 conf_loaded;	/* a conf_load() succeeded */
static char		*conf_file;	/* the path given to conf_load() */
static size_t		 conf_nexp;	/* cached expansions */
static size_t		 conf_nfile;	/* names the file set */
static char		**conf_old;	/* retired expansions */
static size_t		 conf_nold;
static char		**conf_warned;	/* undefined names warned about */
static size_t		 conf_nwarned;

static void	 conf_init(void);
static int	 conf_fail(struct buf *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));
static int	 conf_xerr(struct conf_x *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));
static int	 conf_isspace(int);
static int	 conf_isname(int);
static int	 conf_issep(int);
static struct conf_ent *conf_find(const char *, size_t);
static int	 conf_name_cmp(const void *, const void *);
static const char *conf_raw(const struct conf_ent *);
static const char *conf_where(const struct conf_ent *, char *, size_t);
static void	 conf_forget(void);
static void	 conf_forget_file(void);
static void	 conf_ent_clear(struct conf_ent *);
static int	 conf_rd_getc(struct conf_rd *);
static enum conf_rd_status conf_rd_line(struct conf_rd *, struct buf *);
static int	 conf_parse(struct conf_rd *, struct buf *);
static int	 conf_line(char *, int, struct buf *);
static int	 conf_load_rd(struct conf_rd *, const char *, struct buf *);
static int	 conf_validate(struct buf *);
static int	 conf_check(struct conf_ent *, struct buf *);
static int	 conf_ent_value(struct conf_x *, struct conf_ent *,
		    const char **);
static int	 conf_default(struct conf_x *, const struct conf_param *,
		    struct buf *);
static int	 conf_hostname(struct conf_x *, struct buf *);
static int	 conf_dirname(struct conf_x *, struct buf *);
static int	 conf_from_file(struct conf_x *, struct buf *);
static int	 conf_expand(struct conf_x *, const char *, size_t,
		    struct buf *);
static int	 conf_expand1(struct conf_x *, const char *, size_t,
		    struct buf *);
static int	 conf_braced(struct conf_x *, const char *, size_t, int,
		    struct buf *);
static int	 conf_lookup(struct conf_x *, const char *, size_t, int,
		    const char **);
static int	 conf_put(struct conf_x *, struct buf *, const char *,
		    size_t);
static const char *conf_match(const char *, const char *, int, int);
static void	 conf_warn_undef(struct conf_x *, const char *, size_t);
static long long conf_number(const char *, enum conf_type);
static void	 conf_print_line(FILE *, const char *, const char *,
		    const char *);
static int	 conf_param_cmp(const void *, const void *);

/* conf_init - bind the entries to their names, once */
static void
conf_init(void)
{
	size_t	 i;

	if (conf_ready)
		return;
	for (i = 0; i < nitems(conf_params); i++) {
		conf_tab[i].name = conf_params[i].name;
		conf_tab[i].p = &conf_params[i];
	}
	for (i = 0; i < nitems(postfix_param_names); i++)
		conf_pf[i].name = postfix_param_names[i];
	conf_ready = 1;
}

/* conf_fail - replace why with a formatted reason; returns -1 */
static int
conf_fail(struct buf *why, const char *fmt, ...)
{
	va_list	 ap;

	if (why == NULL)
		return -1;
	buf_reset(why);
	va_start(ap, fmt);
	(void)buf_vprintf(why, fmt, ap);
	va_end(ap);
	return -1;
}

/* conf_xerr - an expansion error (the first one wins); returns -1 */
static int
conf_xerr(struct conf_x *x, const char *fmt, ...)
{
	va_list	 ap;

	if (x->err->len == 0) {
		va_start(ap, fmt);
		(void)buf_vprintf(x->err, fmt, ap);
		va_end(ap);
	}
	return -1;
}

/* conf_isspace - white space, in the C locale whatever the locale */
static int
conf_isspace(int c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' ||
	    c == '\v' || c == '\f';
}

/* conf_isname - a character of a parameter name: [A-Za-z0-9_] */
static int
conf_isname(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '_';
}

/* conf_issep - a list separator: a comma or white space */
static int
conf_issep(int c)
{
	return c == ',' || conf_isspace(c);
}

/* conf_name_cmp - bsearch comparison: a name against a table slot */
static int
conf_name_cmp(const void *key, const void *slot)
{
	return strcmp(key, *(const char *const *)slot);
}

/* conf_find - the entry for a name (not NUL-terminated), or NULL */
static struct conf_ent *
conf_find(const char *name, size_t len)
{
	char			 tmp[CONF_NAME_MAX];
	const char *const	*pf;
	size_t			 i;

	if (len == 0 || len >= sizeof(tmp))
		return NULL;
	memcpy(tmp, name, len);
	tmp[len] = '\0';
	for (i = 0; i < nitems(conf_params); i++)
		if (strcmp(tmp, conf_params[i].name) == 0)
			return &conf_tab[i];
	pf = bsearch(tmp, postfix_param_names, nitems(postfix_param_names),
	    sizeof(postfix_param_names[0]), conf_name_cmp);
	if (pf == NULL)
		return NULL;
	return &conf_pf[pf - postfix_param_names];
}

/* conf_raw - the value as written: -o wins over the file; NULL if unset */
static const char *
conf_raw(const struct conf_ent *e)
{
	return e->opt != NULL ? e->opt : e->file;
}

/* conf_where - "FILE, line N" or "-o name=value" for messages */
static const char *
conf_where(const struct conf_ent *e, char *dst, size_t sz)
{
	const char	*f = conf_path();

	if (e->opt != NULL)
		(void)bsnprintf(dst, sz, "-o %.*s", CONF_CLIP, e->opt_text);
	else if (e->file != NULL)
		(void)bsnprintf(dst, sz, "%.*s, line %d", PATH_MAX, f,
		    e->line);
	else
		(void)bsnprintf(dst, sz, "default %s", e->name);
	return dst;
}

/* conf_ent_clear - forget everything about one entry but its name */
static void
conf_ent_clear(struct conf_ent *e)
{
	free(e->file);
	free(e->opt);
	free(e->opt_text);
	free(e->exp);
	e->file = e->opt = e->opt_text = e->exp = NULL;
	e->line = 0;
	e->busy = 0;
}

/*
 * conf_forget - a setting changed: drop every cached expansion.  The
 * ones conf_get() may have handed out are retired, not freed.
 */
static void
conf_forget(void)
{
	size_t	 i;

	if (conf_nexp == 0)
		return;
	for (i = 0; i < nitems(conf_tab); i++) {
		if (conf_tab[i].exp == NULL)
			continue;
		conf_old = xreallocarray(conf_old, conf_nold + 1,
		    sizeof(*conf_old));
		conf_old[conf_nold++] = conf_tab[i].exp;
		conf_tab[i].exp = NULL;
	}
	for (i = 0; i < nitems(conf_pf); i++) {
		free(conf_pf[i].exp);
		conf_pf[i].exp = NULL;
	}
	conf_nexp = 0;
}

/* conf_forget_file - drop the file's settings (overrides stay) */
static void
conf_forget_file(void)
{
	size_t	 i;

	conf_forget();
	if (conf_nfile == 0)
		return;
	for (i = 0; i < nitems(conf_tab); i++) {
		free(conf_tab[i].file);
		conf_tab[i].file = NULL;
	}
	for (i = 0; i < nitems(conf_pf); i++) {
		free(conf_pf[i].file);
		conf_pf[i].file = NULL;
	}
	conf_nfile = 0;
}

/* conf_reset - forget everything: settings, caches, path */
void
conf_reset(void)
{
	size_t	 i;

	conf_init();
	for (i = 0; i < nitems(conf_tab); i++)
		conf_ent_clear(&conf_tab[i]);
	for (i = 0; i < nitems(conf_pf); i++)
		conf_ent_clear(&conf_pf[i]);
	for (i = 0; i < conf_nold; i++)
		free(conf_old[i]);
	free(conf_old);
	conf_old = NULL;
	conf_nold = 0;
	for (i = 0; i < conf_nwarned; i++)
		free(conf_warned[i]);
	free(conf_warned);
	conf_warned = NULL;
	conf_nwarned = 0;
	free(conf_file);
	conf_file = NULL;
	conf_nexp = conf_nfile = 0;
	conf_loaded = 0;
}

/* conf_path - the path given to the last conf_load() */
const char *
conf_path(void)
{
	return conf_file != NULL ? conf_file : CONF_DEFAULT_PATH;
}

/* conf_rd_getc - one byte from a file or from memory */
static int
conf_rd_getc(struct conf_rd *rd)
{
	if (rd->fp != NULL)
		return getc_unlocked(rd->fp);
	if (rd->off >= rd->len)
		return EOF;
	return (unsigned char)rd->mem[rd->off++];
}

/* conf_rd_line - one physical line, without its newline */
static enum conf_rd_status
conf_rd_line(struct conf_rd *rd, struct buf *line)
{
	int	 c, any = 0;

	buf_reset(line);
	while ((c = conf_rd_getc(rd)) != EOF) {
		any = 1;
		if (c == '\n')
			return CONF_RD_LINE;
		if (buf_addc(line, c) != BUF_OK)
			return CONF_RD_TOOLONG;
	}
	if (rd->fp != NULL && ferror(rd->fp))
		return CONF_RD_ERROR;
	return any ? CONF_RD_LINE : CONF_RD_EOF;
}

/*
 * conf_parse - read logical lines: comments and blank lines are
 * skipped, a line that starts with white space continues the logical
 * line before it (joined with one space).
 */
static int
conf_parse(struct conf_rd *rd, struct buf *why)
{
	struct buf		 phys, logical;
	enum conf_rd_status	 st;
	const char		*f = conf_path();
	char			*p;
	int			 lineno = 0, start = 0, rc = -1;

	buf_init(&phys, CONF_LINE_MAX);
	buf_init(&logical, CONF_LINE_MAX);
	for (;;) {
		st = conf_rd_line(rd, &phys);
		if (st == CONF_RD_EOF)
			break;
		if (st == CONF_RD_ERROR) {
			conf_fail(why, "read %s: %s", f, strerror(errno));
			goto out;
		}
		lineno++;
		if (st == CONF_RD_TOOLONG) {
			conf_fail(why, "%s, line %d: line too long (more "
			    "than %d bytes)", f, lineno, CONF_LINE_MAX);
			goto out;
		}
		while (phys.len > 0 && conf_isspace(phys.data[phys.len - 1]))
			buf_truncate(&phys, phys.len - 1);
		p = phys.data;
		if (p == NULL)
			continue;
		while (conf_isspace(*p))
			p++;
		if (*p == '\0' || *p == '#') {
			/* A NUL byte ends "p" early; refuse it. */
			if (*p == '\0' && p != phys.data + phys.len)
				goto ctl;
			continue;
		}
		if (str_has_ctl(p, phys.len - (size_t)(p - phys.data))) {
ctl:
			conf_fail(why, "%s, line %d: control character in "
			    "line", f, lineno);
			goto out;
		}
		if (p != phys.data) {
			if (start == 0) {
				conf_fail(why, "%s, line %d: logical line "
				    "must not start with white space", f,
				    lineno);
				goto out;
			}
			if (buf_addc(&logical, ' ') != BUF_OK ||
			    buf_adds(&logical, p) != BUF_OK) {
				conf_fail(why, "%s, line %d: line too long "
				    "(more than %d bytes)", f, start,
				    CONF_LINE_MAX);
				goto out;
			}
			continue;
		}
		if (start != 0 && conf_line(logical.data, start, why) < 0)
			goto out;
		if (buf_sets(&logical, p) != BUF_OK) {
			conf_fail(why, "%s, line %d: out of memory", f, lineno);
			goto out;
		}
		start = lineno;
	}
	if (start != 0 && conf_line(logical.data, start, why) < 0)
		goto out;
	rc = 0;
out:
	buf_free(&phys);
	buf_free(&logical);
	return rc;
}

/* conf_line - one logical line "name = value" of the file */
static int
conf_line(char *s, int lineno, struct buf *why)
{
	struct conf_ent	*e;
	const char	*f = conf_path();
	char		*v;
	size_t		 n;

	n = strcspn(s, " \t\r\v\f=");
	v = s + n;
	while (conf_isspace(*v))
		v++;
	if (n == 0)
		return conf_fail(why, "%s, line %d: missing parameter name",
		    f, lineno);
	if (*v != '=')
		return conf_fail(why, "%s, line %d: missing '=' after "
		    "parameter name", f, lineno);
	v++;
	while (conf_isspace(*v))
		v++;
	if ((e = conf_find(s, n)) == NULL)
		return conf_fail(why, "%s, line %d: unknown parameter: %.*s",
		    f, lineno, (int)(n > CONF_CLIP ? CONF_CLIP : n), s);
	if (e->p == NULL)
		conf_warnx("%s, line %d: %s: Postfix parameter not implemented "
		    "by correo, ignored", f, lineno, e->name);
	conf_forget();
	if (e->file == NULL)
		conf_nfile++;
	free(e->file);
	e->file = xstrdup(v);
	e->line = lineno;
	return 0;
}

/* conf_load - read the file (NULL: CONF_DEFAULT_PATH) and validate */
int
conf_load(const char *path, struct buf *why)
{
	struct conf_rd	 rd;
	int		 rc;

	conf_init();
	if (path == NULL)
		path = CONF_DEFAULT_PATH;
	memset(&rd, 0, sizeof(rd));
	if ((rd.fp = fopen(path, "re")) == NULL) {
		/* Still the path in use: conf_path() names it. */
		free(conf_file);
		conf_file = xstrdup(path);
		conf_forget_file();
		conf_loaded = 0;
		return conf_fail(why, "open %s: %s", path, strerror(errno));
	}
	rc = conf_load_rd(&rd, path, why);
	fclose(rd.fp);
	return rc;
}

/* conf_load_mem - parse text as the contents of the file "name" */
int
conf_load_mem(const char *name, const char *text, size_t len,
    struct buf *why)
{
	struct conf_rd	 rd;

	conf_init();
	memset(&rd, 0, sizeof(rd));
	rd.mem = text;
	rd.len = len;
	return conf_load_rd(&rd, name, why);
}

/* conf_load_rd - the shared part of conf_load and conf_load_mem */
static int
conf_load_rd(struct conf_rd *rd, const char *path, struct buf *why)
{
	free(conf_file);
	conf_file = xstrdup(path);
	conf_forget_file();
	conf_loaded = 0;
	if (conf_parse(rd, why) < 0 || conf_validate(why) < 0) {
		conf_forget_file();
		return -1;
	}
	conf_loaded = 1;
	return 0;
}

/* conf_override - "name=value" from -o: wins over the file */
int
conf_override(const char *text, struct buf *why)
{
	struct conf_ent	*e;
	const char	*s = text, *v, *end;
	char		*old, *old_text, where[LOG_SAFE_MAX + 8];
	char		 safe[LOG_SAFE_MAX];
	long long	 num;
	size_t		 n, len = strlen(text);

	conf_init();
	(void)bsnprintf(where, sizeof(where), "-o %s", log_safe(safe,
	    CONF_CLIP, text, len));
	if (len > CONF_LINE_MAX)
		return conf_fail(why, "%s: too long (more than %d bytes)",
		    where, CONF_LINE_MAX);
	if (str_has_ctl(text, len))
		return conf_fail(why, "%s: control character in value",
		    where);
	while (conf_isspace(*s))
		s++;
	n = strcspn(s, " \t\r\v\f=");
	v = s + n;
	while (conf_isspace(*v))
		v++;
	if (n == 0)
		return conf_fail(why, "%s: missing parameter name", where);
	if (*v != '=')
		return conf_fail(why, "%s: missing '=' after parameter name",
		    where);
	v++;
	while (conf_isspace(*v))
		v++;
	end = text + len;
	while (end > v && conf_isspace(end[-1]))
		end--;
	if ((e = conf_find(s, n)) == NULL)
		return conf_fail(why, "%s: unknown parameter: %.*s", where,
		    (int)(n > CONF_CLIP ? CONF_CLIP : n), s);
	if (e->p == NULL)
		conf_warnx("%s: %s: Postfix parameter not implemented by "
		    "correo, ignored", where, e->name);
	conf_forget();
	old = e->opt;
	old_text = e->opt_text;
	e->opt = xstrndup(v, (size_t)(end - v));
	e->opt_text = xstrdup(text);
	if (conf_loaded) {
		/* The name itself first, so the message is about it. */
		if ((e->p != NULL && conf_check(e, why) < 0) ||
		    conf_validate(why) < 0)
			goto undo;
	} else if (e->p != NULL && strchr(e->opt, '$') == NULL &&
	    e->p->type != CONF_STR && e->p->type != CONF_LIST) {
		/* Before the load: what needs no expansion is checked now. */
		struct buf	 err;

		buf_init(&err, CONF_ERR_MAX);
		if (conf_parse_value(e->p->type, e->opt, e->p->unit,
		    e->p->min, e->p->max, &num, &err) < 0) {
			conf_fail(why, "%s: %s: bad value \"%.*s\": %s", where,
			    e->name, CONF_CLIP, e->opt, buf_str(&err));
			buf_free(&err);
			goto undo;
		}
		buf_free(&err);
	}
	free(old);
	free(old_text);
	return 0;
undo:
	conf_forget();
	free(e->opt);
	free(e->opt_text);
	e->opt = old;
	e->opt_text = old_text;
	return -1;
}

/* conf_validate - expand and type-check every correo parameter set */
static int
conf_validate(struct buf *why)
{
	size_t	 i;

	for (i = 0; i < nitems(conf_tab); i++)
		if (conf_raw(&conf_tab[i]) != NULL &&
		    conf_check(&conf_tab[i], why) < 0)
			return -1;
	return 0;
}

/* conf_check - expand one parameter and check its type */
static int
conf_check(struct conf_ent *e, struct buf *why)
{
	struct conf_x	 x;
	struct buf	 err;
	const char	*v;
	char		 where[CONF_WHERE_MAX];
	long long	 num;
	int		 rc = 0;

	buf_init(&err, CONF_ERR_MAX);
	memset(&x, 0, sizeof(x));
	x.err = &err;
	x.top = e;
	if (conf_ent_value(&x, e, &v) < 0)
		rc = conf_fail(why, "%s: %s: %s",
		    conf_where(e, where, sizeof(where)), e->name,
		    buf_str(&err));
	else if (conf_parse_value(e->p->type, v, e->p->unit, e->p->min,
	    e->p->max, &num, &err) < 0)
		rc = conf_fail(why, "%s: %s: bad value \"%.*s\": %s",
		    conf_where(e, where, sizeof(where)), e->name, CONF_CLIP,
		    v, buf_str(&err));
	buf_free(&err);
	return rc;
}

/*
 * conf_ent_value - the expansion of one entry, memoised: *val is NULL
 * for a Postfix name that is not set (undefined, not an error).
 */
static int
conf_ent_value(struct conf_x *x, struct conf_ent *e, const char **val)
{
	struct buf	 out;
	const char	*raw;
	int		 rc;

	*val = NULL;
	if (e->exp != NULL) {
		*val = e->exp;
		return 0;
	}
	raw = conf_raw(e);
	if (raw == NULL && e->p == NULL)
		return 0;
	if (e->busy)
		return conf_xerr(x, "parameter expansion loop through $%s",
		    e->name);
	e->busy = 1;
	buf_init(&out, CONF_VALUE_MAX);
	if (e->p != NULL && (e->p->flags & CONF_F_RAW))
		rc = buf_sets(&out, raw != NULL ? raw : e->p->def != NULL ?
		    e->p->def : "") == BUF_OK ? 0 : conf_xerr(x, "too long");
	else if (raw != NULL)
		rc = conf_expand(x, raw, strlen(raw), &out);
	else
		rc = conf_default(x, e->p, &out);
	if (rc == 0 && e->p != NULL && (e->p->flags & CONF_F_FILE) &&
	    out.len > 0 && out.data[0] == '/')
		rc = conf_from_file(x, &out);
	e->busy = 0;
	if (rc == 0 && (e->exp = buf_take(&out)) == NULL)
		rc = conf_xerr(x, "out of memory");
	buf_free(&out);
	if (rc == 0) {
		conf_nexp++;
		*val = e->exp;
	}
	return rc;
}

/* conf_default - the value of a parameter nobody set */
static int
conf_default(struct conf_x *x, const struct conf_param *p, struct buf *out)
{
	const char	*dot;
	int		 rc;

	if (p->flags & CONF_F_HOSTNAME)
		return conf_hostname(x, out);
	if (p->flags & CONF_F_CONFDIR)
		return conf_dirname(x, out);
	if ((rc = conf_expand(x, p->def, strlen(p->def), out)) < 0)
		return rc;
	if (p->flags & CONF_F_PARENT) {
		dot = memchr(out->data != NULL ? out->data : "", '.',
		    out->len);
		if (dot != NULL && dot[1] != '\0') {
			size_t	 skip = (size_t)(dot + 1 - out->data);

			memmove(out->data, dot + 1, out->len - skip + 1);
			out->len -= skip;
		} else if (buf_sets(out, "localdomain") != BUF_OK)
			return conf_xerr(x, "out of memory");
	}
	return 0;
}

/* conf_hostname - gethostname(), with ".localdomain" when it has no dot */
static int
conf_hostname(struct conf_x *x, struct buf *out)
{
	char	 host[256];

	if (gethostname(host, sizeof(host)) != 0 || host[0] == '\0')
		(void)str_copy(host, sizeof(host), "localhost");
	host[sizeof(host) - 1] = '\0';
	if (buf_sets(out, host) != BUF_OK ||
	    (strchr(host, '.') == NULL &&
	    buf_adds(out, ".localdomain") != BUF_OK))
		return conf_xerr(x, "out of memory");
	return 0;
}

/* conf_dirname - the directory of the configuration file */
static int
conf_dirname(struct conf_x *x, struct buf *out)
{
	const char	*f = conf_path(), *slash;
	int		 rc;

	if ((slash = strrchr(f, '/')) == NULL)
		rc = buf_sets(out, ".");
	else if (slash == f)
		rc = buf_sets(out, "/");
	else
		rc = buf_set(out, f, (size_t)(slash - f));
	return rc == BUF_OK ? 0 : conf_xerr(x, "out of memory");
}

/*
 * conf_from_file - "/path" stands for the first line of that file, as
 * Debian's "myorigin = /etc/mailname".  The file must be a regular one,
 * so a FIFO or a device cannot block or flood the load.
 */
static int
conf_from_file(struct conf_x *x, struct buf *out)
{
	struct stat	 st;
	char		 path[PATH_MAX], data[CONF_FILE_MAX + 1];
	const char	*s, *e;
	ssize_t		 n;
	int		 fd;

	if (str_copy(path, sizeof(path), buf_str(out)) < 0)
		return conf_xerr(x, "%.*s...: file name too long", CONF_CLIP,
		    buf_str(out));
	fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (fd < 0)
		return conf_xerr(x, "open %s: %s", path, strerror(errno));
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return conf_xerr(x, "%s: not a regular file", path);
	}
	n = read_full(fd, data, CONF_FILE_MAX);
	if (n < 0) {
		conf_xerr(x, "read %s: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	close(fd);
	data[n] = '\0';
	s = data;
	if ((e = memchr(data, '\n', (size_t)n)) == NULL) {
		if (n == CONF_FILE_MAX)
			return conf_xerr(x, "%s: the first line is longer "
			    "than %d bytes", path, CONF_FILE_MAX);
		e = data + n;
	}
	while (s < e && conf_isspace(*s))
		s++;
	while (e > s && conf_isspace(e[-1]))
		e--;
	if (s == e)
		return conf_xerr(x, "%s: the first line is empty", path);
	if (str_has_ctl(s, (size_t)(e - s)))
		return conf_xerr(x, "%s: control character in the first "
		    "line", path);
	if (buf_set(out, s, (size_t)(e - s)) != BUF_OK)
		return conf_xerr(x, "out of memory");
	return 0;
}

/* conf_expand - expand $name forms in s, appending to out (with depth) */
static int
conf_expand(struct conf_x *x, const char *s, size_t len, struct buf *out)
{
	int	 rc;

	if (x->depth >= CONF_DEPTH_MAX)
		return conf_xerr(x, "parameter expansion nested more than "
		    "%d levels deep", CONF_DEPTH_MAX);
	x->depth++;
	rc = conf_expand1(x, s, len, out);
	x->depth--;
	return rc;
}

/* conf_expand1 - the body of conf_expand */
static int
conf_expand1(struct conf_x *x, const char *s, size_t len, struct buf *out)
{
	const char	*p = s, *end = s + len, *q, *close;
	const char	*v;

	while (p < end) {
		if ((q = memchr(p, '$', (size_t)(end - p))) == NULL)
			return conf_put(x, out, p, (size_t)(end - p));
		if (conf_put(x, out, p, (size_t)(q - p)) < 0)
			return -1;
		p = q + 1;
		if (p < end && *p == '$') {
			if (conf_put(x, out, "$", 1) < 0)
				return -1;
			p++;
		} else if (p < end && (*p == '{' || *p == '(')) {
			close = conf_match(p + 1, end, *p, *p == '{' ? '}' :
			    ')');
			if (close == NULL)
				return conf_xerr(x, "missing '%c' in \"%.*s\"",
				    *p == '{' ? '}' : ')', CONF_CLIP, q);
			if (conf_braced(x, p + 1, (size_t)(close - p - 1),
			    *p, out) < 0)
				return -1;
			p = close + 1;
		} else if (p < end && conf_isname(*p)) {
			for (q = p; q < end && conf_isname(*q); q++)
				;
			if (conf_lookup(x, p, (size_t)(q - p), 1, &v) < 0 ||
			    (v != NULL && conf_put(x, out, v, strlen(v)) < 0))
				return -1;
			p = q;
		} else
			return conf_xerr(x, "'$' not followed by a parameter "
			    "name (write $$ for a '$')");
	}
	return 0;
}

/*
 * conf_match - the bracket that closes one already opened at s[-1],
 * counting nested pairs of the same kind; NULL if none.
 */
static const char *
conf_match(const char *s, const char *end, int open, int close)
{
	int	 nest = 1;

	for (; s < end; s++) {
		if (*s == open)
			nest++;
		else if (*s == close && --nest == 0)
			return s;
	}
	return NULL;
}

/*
 * conf_braced - what was inside ${...} or $(...): a name, or
 * name?value, name:value, name?{value}, name:{value},
 * name?{value1}:{value2}.
 */
static int
conf_braced(struct conf_x *x, const char *s, size_t len, int open,
    struct buf *out)
{
	const char	*end = s + len, *p, *v, *t[2] = { NULL, NULL };
	const char	*te[2] = { NULL, NULL };
	int		 op, set, i, close = open == '{' ? '}' : ')';
	int		 shown = len > CONF_CLIP ? CONF_CLIP : (int)len;
	size_t		 n;

	for (n = 0; n < len && conf_isname(s[n]); n++)
		;
	if (n == 0)
		return conf_xerr(x, "bad parameter expansion \"$%c%.*s%c\"",
		    open, shown, s, close);
	if (n == len) {
		if (conf_lookup(x, s, n, 1, &v) < 0)
			return -1;
		return v != NULL ? conf_put(x, out, v, strlen(v)) : 0;
	}
	op = s[n];
	if (op != '?' && op != ':')
		return conf_xerr(x, "unsupported parameter expansion "
		    "\"$%c%.*s%c\"", open, shown, s, close);
	p = s + n + 1;
	while (p < end && conf_isspace(*p))
		p++;
	if (p < end && *p == '{') {
		/* {value} forms, Postfix 3.0 and later. */
		for (i = 0; i < 2; i++) {
			t[i] = p + 1;
			if ((te[i] = conf_match(p + 1, end, '{', '}')) == NULL)
				return conf_xerr(x, "missing '}' in \"$%c%.*s"
				    "%c\"", open, shown, s, close);
			p = te[i] + 1;
			while (p < end && conf_isspace(*p))
				p++;
			if (p == end || i == 1 || op != '?' || *p != ':')
				break;
			p++;
			while (p < end && conf_isspace(*p))
				p++;
			if (p == end || *p != '{')
				break;
		}
		if (p != end)
			return conf_xerr(x, "bad parameter expansion "
			    "\"$%c%.*s%c\"", open, shown, s, close);
	} else {
		t[0] = s + n + 1;
		te[0] = end;
	}
	if (conf_lookup(x, s, n, 0, &v) < 0)
		return -1;
	set = v != NULL && *v != '\0';
	if (op == '?' && set)
		return conf_expand(x, t[0], (size_t)(te[0] - t[0]), out);
	if (op == '?' && t[1] != NULL)
		return conf_expand(x, t[1], (size_t)(te[1] - t[1]), out);
	if (op == ':' && !set)
		return conf_expand(x, t[0], (size_t)(te[0] - t[0]), out);
	return 0;
}

/*
 * conf_lookup - the expanded value of a referenced name; *val is NULL
 * when it is undefined, which a plain $name reference warns about once.
 */
static int
conf_lookup(struct conf_x *x, const char *name, size_t len, int warn,
    const char **val)
{
	struct conf_ent	*e;

	*val = NULL;
	if ((e = conf_find(name, len)) != NULL &&
	    conf_ent_value(x, e, val) < 0)
		return -1;
	if (*val == NULL && warn)
		conf_warn_undef(x, name, len);
	return 0;
}

/* conf_put - append to an expansion, within CONF_VALUE_MAX */
static int
conf_put(struct conf_x *x, struct buf *out, const char *s, size_t len)
{
	switch (buf_add(out, s, len)) {
	case BUF_OK:
		return 0;
	case BUF_TOOBIG:
		return conf_xerr(x, "value longer than %d bytes after "
		    "expansion", CONF_VALUE_MAX);
	default:
		return conf_xerr(x, "out of memory");
	}
}

/*
 * conf_warn_undef - "undefined parameter", once per name (and for the
 * first CONF_WARN_MAX names only: a file of nothing but undefined
 * names is not worth a quadratic search).
 */
static void
conf_warn_undef(struct conf_x *x, const char *name, size_t len)
{
	char	 where[CONF_WHERE_MAX];
	size_t	 i;

	if (conf_nwarned >= CONF_WARN_MAX)
		return;
	if (len > CONF_CLIP)
		len = CONF_CLIP;
	for (i = 0; i < conf_nwarned; i++)
		if (strlen(conf_warned[i]) == len &&
		    memcmp(conf_warned[i], name, len) == 0)
			return;
	conf_warned = xreallocarray(conf_warned, conf_nwarned + 1,
	    sizeof(*conf_warned));
	conf_warned[conf_nwarned++] = xstrndup(name, len);
	conf_warnx("%s: %s: undefined parameter: %.*s",
	    conf_where(x->top, where, sizeof(where)), x->top->name, (int)len,
	    name);
}

/* conf_get - the expanded value; NULL for a Postfix-only name */
const char *
conf_get(const char *name)
{
	struct conf_ent	*e;
	struct conf_x	 x;
	struct buf	 err;
	const char	*v, *raw;
	char		 where[CONF_WHERE_MAX];

	conf_init();
	if ((e = conf_find(name, strlen(name))) == NULL)
		panic("conf_get: unknown parameter: %s", name);
	if (e->p == NULL)
		return NULL;
	if (e->exp != NULL)
		return e->exp;
	buf_init(&err, CONF_ERR_MAX);
	memset(&x, 0, sizeof(x));
	x.err = &err;
	x.top = e;
	if (conf_ent_value(&x, e, &v) < 0) {
		/* Only without a successful load: keep the text as is. */
		raw = conf_raw(e);
		if (raw == NULL)
			raw = e->p->def != NULL ? e->p->def : "";
		conf_warnx("%s: %s: %s (value used unexpanded)",
		    conf_where(e, where, sizeof(where)), name, buf_str(&err));
		e->exp = xstrdup(raw);
		conf_nexp++;
		v = e->exp;
	}
	buf_free(&err);
	return v;
}

/* conf_is_set - whether the file or an override set the name */
int
conf_is_set(const char *name)
{
	struct conf_ent	*e;

	conf_init();
	if ((e = conf_find(name, strlen(name))) == NULL)
		panic("conf_is_set: unknown parameter: %s", name);
	return conf_raw(e) != NULL;
}

/*
 * conf_number - an INT, TIME, SIZE or BOOL parameter as a number.  A
 * value that does not parse can only be there without a successful
 * load; it is a warning, and the default is used.
 */
static long long
conf_number(const char *name, enum conf_type type)
{
	const struct conf_param	*p;
	struct conf_ent		*e;
	struct buf		 err;
	long long		 num;

	conf_init();
	if ((e = conf_find(name, strlen(name))) == NULL || e->p == NULL ||
	    e->p->type != type)
		panic("conf: %s is not a parameter of type %d", name,
		    (int)type);
	p = e->p;
	buf_init(&err, CONF_ERR_MAX);
	if (conf_parse_value(type, conf_get(name), p->unit, p->min, p->max,
	    &num, &err) < 0) {
		conf_warnx("%s: bad value \"%.*s\": %s (using the default %s)",
		    name, CONF_CLIP, conf_get(name), buf_str(&err), p->def);
		buf_reset(&err);
		if (conf_parse_value(type, p->def, p->unit, p->min, p->max,
		    &num, &err) < 0)
			panic("conf: default of %s: %s", name, buf_str(&err));
	}
	buf_free(&err);
	return num;
}

/* conf_int - an INT parameter */
long long
conf_int(const char *name)
{
	return conf_number(name, CONF_INT);
}

/* conf_time - a TIME parameter, in seconds */
long long
conf_time(const char *name)
{
	return conf_number(name, CONF_TIME);
}

/* conf_size - a SIZE parameter, in bytes */
long long
conf_size(const char *name)
{
	return conf_number(name, CONF_SIZE);
}

/* conf_bool - a BOOL parameter: 1 or 0 */
int
conf_bool(const char *name)
{
	return (int)conf_number(name, CONF_BOOL);
}

/*
 * conf_list - the expanded value split on commas and white space, as
 * one allocation: the vector, then the strings it points into.  NULL
 * for a Postfix-only name.
 */
char **
conf_list(const char *name)
{
	const char	*v, *s;
	char		**vec, *copy, *p;
	size_t		 n = 0, len, i = 0, sz;
	int		 depth = 0;

	if ((v = conf_get(name)) == NULL)
		return NULL;
	len = strlen(v);
	/* Upper bound: every start of a run of non-separators. */
	for (s = v; *s != '\0'; s++)
		if (!conf_issep(*s) && (s == v || conf_issep(s[-1])))
			n++;
	if (__builtin_mul_overflow(n + 1, sizeof(*vec), &sz) ||
	    __builtin_add_overflow(sz, len + 1, &sz))
		panic("conf_list: size overflow");
	vec = xmalloc(sz);
	copy = (char *)(vec + n + 1);
	memcpy(copy, v, len + 1);
	/* As Postfix: text inside { } is one item ("inline:{ a=b, c=d }"). */
	for (p = copy; *p != '\0';) {
		while (conf_issep(*p))
			*p++ = '\0';
		if (*p == '\0')
			break;
		vec[i++] = p;
		while (*p != '\0' && (depth > 0 || !conf_issep(*p))) {
			if (*p == '{')
				depth++;
			else if (*p == '}' && depth > 0)
				depth--;
			p++;
		}
	}
	vec[i] = NULL;
	return vec;
}

/* conf_list_free - release what conf_list() returned (NULL is fine) */
/* conf_list_has - whether a list parameter holds word (ASCII case aside) */
int
conf_list_has(const char *param, const char *word)
{
	char	**l = conf_list(param);
	size_t	 i;
	int	 found = 0;

	for (i = 0; l[i] != NULL && !found; i++)
		found = str_casecmp_ascii(l[i], word) == 0;
	conf_list_free(l);
	return found;
}

void
conf_list_free(char **vec)
{
	free(vec);
}

/*
 * conf_parse_value - check and convert one value of a type.  INT and
 * SIZE are decimal, TIME is digits with an optional unit (s m h d w),
 * BOOL is yes/no, true/false or 1/0 in any case.  STR and LIST always
 * pass (*out = 0).
 */
int
conf_parse_value(enum conf_type type, const char *s, int unit,
    long long min, long long max, long long *out, struct buf *why)
{
	const char	*r, *p;
	long long	 num = 0, mul;
	int		 d;

	*out = 0;
	switch (type) {
	case CONF_STR:
	case CONF_LIST:
		return 0;
	case CONF_BOOL:
		if (str_casecmp_ascii(s, "yes") == 0 ||
		    str_casecmp_ascii(s, "true") == 0 || strcmp(s, "1") == 0)
			*out = 1;
		else if (str_casecmp_ascii(s, "no") != 0 &&
		    str_casecmp_ascii(s, "false") != 0 && strcmp(s, "0") != 0)
			return conf_fail(why, "not a boolean (yes or no)");
		return 0;
	case CONF_INT:
	case CONF_SIZE:
		if (num_parse(s, min, max, &num, &r) == 0)
			break;
		if (strcmp(r, "too small") == 0)
			return conf_fail(why, "too small (minimum %lld)", min);
		if (strcmp(r, "too large") == 0)
			return conf_fail(why, "too large (maximum %lld)", max);
		return conf_fail(why, type == CONF_INT ?
		    "not a decimal number" : "not a size in bytes");
	case CONF_TIME:
		for (p = s; *p >= '0' && *p <= '9'; p++) {
			d = *p - '0';
			if (__builtin_mul_overflow(num, 10, &num) ||
			    __builtin_add_overflow(num, d, &num))
				return conf_fail(why, "too large (maximum "
				    "%lld seconds)", max);
		}
		if (p == s || (p[0] != '\0' && p[1] != '\0'))
			return conf_fail(why, "not a time (digits and an "
			    "optional unit s, m, h, d or w)");
		switch (*p != '\0' ? *p : unit != 0 ? unit : 's') {
		case 's':
			mul = 1;
			break;
		case 'm':
			mul = 60;
			break;
		case 'h':
			mul = 60 * 60;
			break;
		case 'd':
			mul = 24 * 60 * 60;
			break;
		case 'w':
			mul = 7 * 24 * 60 * 60;
			break;
		default:
			return conf_fail(why, "not a time (digits and an "
			    "optional unit s, m, h, d or w)");
		}
		if (__builtin_mul_overflow(num, mul, &num) || num > max)
			return conf_fail(why, "too large (maximum %lld "
			    "seconds)", max);
		if (num < min)
			return conf_fail(why, "too small (minimum %lld "
			    "seconds)", min);
		break;
	}
	*out = num;
	return 0;
}

/* conf_print_line - "name = value", or "name =" when value is empty */
static void
conf_print_line(FILE *fp, const char *prefix, const char *name,
    const char *value)
{
	fprintf(fp, "%s%s =%s%s\n", prefix, name, *value != '\0' ? " " : "",
	    value);
}

/* conf_param_cmp - qsort: table entries by name */
static int
conf_param_cmp(const void *a, const void *b)
{
	const struct conf_ent *const	*ea = a, *const *eb = b;

	return strcmp((*ea)->name, (*eb)->name);
}

#define CONF_UNIMPL	"# not implemented by correo: "

/*
 * conf_print - sendmail -bP: correo's parameters (expanded) in
 * alphabetical order, then the Postfix-only names that were set; or
 * the given names in order.  An unknown name is an error reported
 * after the others are printed.
 */
int
conf_print(FILE *fp, int flags, char **names, struct buf *why)
{
	struct conf_ent	*sorted[nitems(conf_tab)], *e;
	const char	*raw;
	size_t		 i;
	int		 unknown = 0;

	conf_init();
	if (names == NULL || names[0] == NULL) {
		for (i = 0; i < nitems(conf_tab); i++)
			sorted[i] = &conf_tab[i];
		qsort(sorted, nitems(sorted), sizeof(sorted[0]),
		    conf_param_cmp);
		for (i = 0; i < nitems(sorted); i++)
			if (!(flags & CONF_PRINT_SET) ||
			    conf_raw(sorted[i]) != NULL)
				conf_print_line(fp, "", sorted[i]->name,
				    conf_get(sorted[i]->name));
		for (i = 0; i < nitems(conf_pf); i++)
			if ((raw = conf_raw(&conf_pf[i])) != NULL)
				conf_print_line(fp, CONF_UNIMPL,
				    conf_pf[i].name, raw);
	} else {
		for (; *names != NULL; names++) {
			e = conf_find(*names, strlen(*names));
			if (e == NULL) {
				if (why != NULL && unknown++ == 0)
					conf_fail(why, "unknown parameter: "
					    "%.*s", CONF_CLIP, *names);
				else if (why != NULL) {
					(void)buf_printf(why, ", %.*s",
					    CONF_CLIP, *names);
				}
				continue;
			}
			raw = conf_raw(e);
			if ((flags & CONF_PRINT_SET) && raw == NULL)
				continue;
			if (e->p != NULL)
				conf_print_line(fp, "", e->name,
				    conf_get(e->name));
			else if (raw != NULL)
				conf_print_line(fp, CONF_UNIMPL, e->name, raw);
			else
				fprintf(fp, "%s%s\n", CONF_UNIMPL, e->name);
		}
	}
	if (ferror(fp))
		return conf_fail(why, "write error: %s", strerror(errno));
	return unknown ? -1 : 0;
}

/*
 * conf_trusted_dir - whether a configuration file the caller chose
 * (-C, CORREO_CONFIG) may be read with a set-group-ID program's group
 * kept: only when the default configuration lists its directory (or the
 * file itself) in alternate_config_directories, Postfix's rule.  Reads
 * the default file quietly and resets the module afterwards.
 */
int
conf_trusted_dir(const char *path)
{
	struct buf	 why;
	char		**dirs, *dir, *slash;
	size_t		 i;
	int		 ok = 0;

	dir = xstrdup(path);
	if ((slash = strrchr(dir, '/')) != NULL && slash != dir)
		*slash = '\0';
	buf_init(&why, 4096);
	conf_quiet = 1;
	if (conf_load(CONF_DEFAULT_PATH, &why) == 0) {
		dirs = conf_list("alternate_config_directories");
		for (i = 0; dirs[i] != NULL; i++)
			if (strcmp(dirs[i], dir) == 0 ||
			    strcmp(dirs[i], path) == 0)
				ok = 1;
		conf_list_free(dirs);
	}
	conf_reset();
	conf_quiet = 0;
	buf_free(&why);
	free(dir);
	return ok;
}
