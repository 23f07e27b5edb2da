/*
 * t-conf.c - unit tests for common/conf
 *
 * Each test writes its configuration to a mkstemp(3) file in $TMPDIR
 * (or /tmp), loads it and removes it.  Warnings go to a private mail
 * log file (not stderr, not syslog) that the tests read back.
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
#include "common/util.h"
#include "t/unit/tap.h"

static char	 t_path[PATH_MAX];	/* the last configuration file */
static char	 t_log[PATH_MAX];	/* the private mail log */
static char	 t_msg[8192];		/* expected texts */
static struct buf t_why;

static const char *tmpdir(void);
static int	 t_write(char *, size_t, const char *, size_t);
static int	 t_load_n(const char *, size_t);
static int	 t_load(const char *);
static const char *t_fmt(const char *, ...)
		    __attribute__((format(printf, 1, 2)));
static char	*t_slurp(const char *);
static void	 t_log_reset(void);
static int	 t_logged(const char *);
static char	*t_print(int, char **, int *);

/* tmpdir - $TMPDIR or /tmp */
static const char *
tmpdir(void)
{
	const char	*d = getenv("TMPDIR");

	return d != NULL && *d != '\0' ? d : "/tmp";
}

/* t_write - text into a fresh temporary file whose name goes to path */
static int
t_write(char *path, size_t sz, const char *text, size_t len)
{
	int	 fd;

	if (bsnprintf(path, sz, "%s/t-conf.XXXXXX", tmpdir()) < 0 ||
	    (fd = mkstemp(path)) < 0)
		return -1;
	if (write_all(fd, text, len) < 0) {
		close(fd);
		return -1;
	}
	return close(fd);
}

/* t_load_n - a fresh start, then load len bytes of text from a file */
static int
t_load_n(const char *text, size_t len)
{
	int	 rc;

	conf_reset();
	buf_reset(&t_why);
	if (t_write(t_path, sizeof(t_path), text, len) < 0) {
		tap_diag("cannot write %s: %s", t_path, strerror(errno));
		return -2;
	}
	rc = conf_load(t_path, &t_why);
	unlink(t_path);
	return rc;
}

/* t_load - t_load_n for a C string */
static int
t_load(const char *text)
{
	return t_load_n(text, strlen(text));
}

/* t_fmt - an expected text (one at a time) */
static const char *
t_fmt(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	vsnprintf(t_msg, sizeof(t_msg), fmt, ap);
	va_end(ap);
	return t_msg;
}

/* t_slurp - a whole (small) file, or NULL */
static char *
t_slurp(const char *path)
{
	struct buf	 b;
	char		 chunk[4096];
	ssize_t		 n;
	int		 fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return NULL;
	buf_init(&b, 1024 * 1024);
	while ((n = read(fd, chunk, sizeof(chunk))) > 0)
		buf_add(&b, chunk, (size_t)n);
	close(fd);
	return buf_take(&b);
}

/* t_log_reset - empty the private mail log */
static void
t_log_reset(void)
{
	int	 fd;

	if ((fd = open(t_log, O_WRONLY | O_TRUNC | O_CLOEXEC)) >= 0)
		close(fd);
}

/* t_logged - whether the mail log holds text */
static int
t_logged(const char *text)
{
	char	*s = t_slurp(t_log);
	int	 found = s != NULL && strstr(s, text) != NULL;

	if (!found)
		tap_diag("not in the log: %s\nlog: %s", text, s ? s : "");
	free(s);
	return found;
}

/* t_print - conf_print's output as a string; *rc its status */
static char *
t_print(int flags, char **names, int *rc)
{
	char	*s = NULL;
	size_t	 len = 0;
	FILE	*fp;

	if ((fp = open_memstream(&s, &len)) == NULL)
		return NULL;
	buf_reset(&t_why);
	*rc = conf_print(fp, flags, names, &t_why);
	fclose(fp);
	return s;
}

static void
t_defaults(void)
{
	char	*dir;

	check_int(t_load(""), ==, 0);
	check_str(conf_path(), t_path);
	check_str(conf_get("recipient_delimiter"), "");
	check_str(conf_get("queue_directory"), "/var/spool/correo");
	check_str(conf_get("daemon_directory"), "/usr/lib/correo");
	check_str(conf_get("syslog_name"), "correo");
	check_str(conf_get("maillog_file"), "");
	check_str(conf_get("alternate_config_directories"), "");
	check_str(conf_get("mail_owner"), "correo");
	check_str(conf_get("setgid_group"), "correo-drop");
	check_str(conf_get("mail_name"), "correo");
	check_str(conf_get("default_privs"), "nobody");
	check_int(conf_size("message_size_limit"), ==, 10240000);
	check_int(conf_size("header_size_limit"), ==, 102400);
	check_int(conf_int("line_length_limit"), ==, 2048);
	check_int(conf_int("hopcount_limit"), ==, 50);
	dir = xstrndup(t_path, (size_t)(strrchr(t_path, '/') - t_path));
	check_str(conf_get("config_directory"), dir);
	free(dir);
	check_int(conf_is_set("myhostname"), ==, 0);
	check_int(conf_is_set("biff"), ==, 0);
	check(conf_get("biff") == NULL);

	/* Before any load. */
	conf_reset();
	check_str(conf_path(), CONF_DEFAULT_PATH);
	check_str(conf_get("config_directory"), "/etc/correo");
	check_int(conf_int("line_length_limit"), ==, 2048);
}

static void
t_hostname(void)
{
	char	 host[256], want[300];
	const char *dot;

	if (gethostname(host, sizeof(host)) != 0 || host[0] == '\0')
		str_copy(host, sizeof(host), "localhost");
	host[sizeof(host) - 1] = '\0';
	bsnprintf(want, sizeof(want), "%s%s", host,
	    strchr(host, '.') == NULL ? ".localdomain" : "");
	check_int(t_load(""), ==, 0);
	check_str(conf_get("myhostname"), want);
	dot = strchr(want, '.');
	check_str(conf_get("mydomain"), dot[1] != '\0' ? dot + 1 :
	    "localdomain");
	check_str(conf_get("myorigin"), want);
	check_str(conf_get("mydestination"), t_fmt("%s, localhost.%s, "
	    "localhost", want, dot + 1));

	check_int(t_load("myhostname = mx.example.com\n"), ==, 0);
	check_str(conf_get("mydomain"), "example.com");
	check_str(conf_get("myorigin"), "mx.example.com");
	check_str(conf_get("mydestination"),
	    "mx.example.com, localhost.example.com, localhost");
	check_int(t_load("myhostname = a.b.c.example\n"), ==, 0);
	check_str(conf_get("mydomain"), "b.c.example");
	check_int(t_load("myhostname = solo\n"), ==, 0);
	check_str(conf_get("mydomain"), "localdomain");
	check_int(t_load("myhostname = solo.\n"), ==, 0);
	check_str(conf_get("mydomain"), "localdomain");
	check_int(t_load("myhostname = mx.example.com\n"
	    "mydomain = example.net\n"), ==, 0);
	check_str(conf_get("mydomain"), "example.net");
	check_str(conf_get("mydestination"),
	    "mx.example.com, localhost.example.net, localhost");
	check_int(t_load("myhostname = h.example\nmyorigin = $mydomain\n"),
	    ==, 0);
	check_str(conf_get("myorigin"), "example");
}

static void
t_expand(void)
{
	check_int(t_load(
	    "myhostname = mx.example.com\n"
	    "mail_name = x$myhostname.y\n"
	    "syslog_name = ${mail_owner}-$(default_privs)\n"
	    "mail_owner = cost$$ $$$$\n"
	    "default_privs = [${recipient_delimiter?set}"
	    "${recipient_delimiter:unset}]\n"
	    "setgid_group = ${mydomain?{a b}:{c}} ${recipient_delimiter?{a}:"
	    "{ c d }} $(mydomain:x)${mydomain:{x}}\n"
	    "queue_directory = /q/${myhostname?${mydomain?{$(mydomain)}}}\n"
	    "relayhost = [smtp.example.com]\n"
	    "daemon_directory = via $relayhost; ${relayhost?relay}\n"), ==, 0);
	check_str(conf_get("mail_name"), "xmx.example.com.y");
	check_str(conf_get("mail_owner"), "cost$ $$");
	check_str(conf_get("syslog_name"), "cost$ $$-[unset]");
	check_str(conf_get("default_privs"), "[unset]");
	check_str(conf_get("setgid_group"), "a b  c d  ");
	check_str(conf_get("queue_directory"), "/q/example.com");
	check_str(conf_get("daemon_directory"),
	    "via [smtp.example.com]; relay");

	/* The other branch of each condition. */
	check_int(t_load(
	    "recipient_delimiter = +\n"
	    "default_privs = [${recipient_delimiter?set}"
	    "${recipient_delimiter:unset}]\n"
	    "setgid_group = ${recipient_delimiter?{a}:{b}}"
	    "${maillog_file?{a}:{b}}${maillog_file:{c}}\n"), ==, 0);
	check_str(conf_get("default_privs"), "[set]");
	check_str(conf_get("setgid_group"), "abc");

	/* Undefined names expand to nothing, with one warning each. */
	t_log_reset();
	check_int(t_load("mail_name = <$smtpd_helo_restrictions|$no_such_thing|"
	    "$no_such_thing|${no_such_thing?x}${relayhost:y}>\n"
	    "mail_owner = $no_such_thing\n"), ==, 0);
	check_str(conf_get("mail_name"), "<|||y>");
	check_str(conf_get("mail_owner"), "");
	check(t_logged(t_fmt("%s, line 1: mail_name: undefined parameter: "
	    "smtpd_helo_restrictions\n", t_path)));
	check(t_logged("mail_name: undefined parameter: smtpd_helo_restrictions\n"));
	check(t_logged(t_fmt("%s, line 2: mail_owner: undefined parameter: "
	    "no_such_thing\n", t_path)));
	{
		char	*s = t_slurp(t_log), *p;
		int	 n = 0;

		for (p = s; p != NULL && (p = strstr(p, "no_such_thing"))
		    != NULL; p++)
			n++;
		check_int(n, ==, 1);
		free(s);
	}
}

static void
t_expand_errors(void)
{
	static const struct {
		const char	*in, *why;
	} cases[] = {
		{ "mail_name = a$", "'$' not followed by a parameter name "
		    "(write $$ for a '$')" },
		{ "mail_name = a$-b", "'$' not followed by a parameter name "
		    "(write $$ for a '$')" },
		{ "mail_name = ${mail_owner", "missing '}' in "
		    "\"${mail_owner\"" },
		{ "mail_name = $(mail_owner", "missing ')' in "
		    "\"$(mail_owner\"" },
		{ "mail_name = ${}", "bad parameter expansion \"${}\"" },
		{ "mail_name = ${a==b?{x}}", "unsupported parameter expansion "
		    "\"${a==b?{x}}\"" },
		{ "mail_name = ${mail_owner?{x} y}", "bad parameter expansion "
		    "\"${mail_owner?{x} y}\"" },
		{ "mail_name = ${mail_owner:{x}:{y}}", "bad parameter "
		    "expansion \"${mail_owner:{x}:{y}}\"" },
		{ "mail_name = ${mail_owner?{x}:y}", "bad parameter "
		    "expansion \"${mail_owner?{x}:y}\"" },
		{ "mail_name = $mail_name", "parameter expansion loop through "
		    "$mail_name" },
		{ "mail_name = $default_privs\ndefault_privs = ${mail_name}",
		    "parameter expansion loop through $mail_name" },
		{ "mail_name = $relayhost\nrelayhost = $mail_name",
		    "parameter expansion loop through $mail_name" },
	};
	struct buf	 deep;
	size_t		 i;
	int		 n;

	for (i = 0; i < nitems(cases); i++) {
		check_int(t_load(cases[i].in), ==, -1);
		check_str(buf_str(&t_why), t_fmt("%s, line 1: mail_name: %s",
		    t_path, cases[i].why));
	}

	/* A loop through a default: myhostname -> mydestination. */
	check_int(t_load("\nmyhostname = $mydestination\n"), ==, -1);
	check_str(buf_str(&t_why), t_fmt("%s, line 2: myhostname: parameter "
	    "expansion loop through $myhostname", t_path));

	/* Nesting: 99 conditionals in a value are fine, 100 are not. */
	for (n = 99; n <= 100; n++) {
		int	 j;

		buf_init(&deep, 1 << 16);
		buf_adds(&deep, "mail_name = ");
		for (j = 0; j < n; j++)
			buf_adds(&deep, "${mail_owner?");
		buf_adds(&deep, "x");
		for (j = 0; j < n; j++)
			buf_adds(&deep, "}");
		buf_adds(&deep, "\n");
		if (n == 99) {
			check_int(t_load(deep.data), ==, 0);
			check_str(conf_get("mail_name"), "x");
		} else {
			check_int(t_load(deep.data), ==, -1);
			check_str(buf_str(&t_why), t_fmt("%s, line 1: "
			    "mail_name: parameter expansion nested more than "
			    "100 levels deep", t_path));
		}
		buf_free(&deep);
	}

	/* Exponential growth is cut at 256 KiB. */
	buf_init(&deep, 1 << 16);
	buf_adds(&deep, "relayhost = 0123456789abcdef0123456789abcdef\n");
	for (n = 0; n < 4; n++) {
		int	 j;

		buf_printf(&deep, "%s = ", n == 0 ? "mynetworks" : n == 1 ?
		    "biff" : n == 2 ? "relay_domains" : "mail_name");
		for (j = 0; j < 32; j++)
			buf_adds(&deep, n == 0 ? "$relayhost" : n == 1 ?
			    "$mynetworks" : n == 2 ? "$biff" : "$relay_domains");
		buf_adds(&deep, "\n");
	}
	t_log_reset();
	check_int(t_load(deep.data), ==, -1);
	check_str(buf_str(&t_why), t_fmt("%s, line 5: mail_name: value "
	    "longer than 262144 bytes after expansion", t_path));
	buf_free(&deep);
}

static void
t_lines(void)
{
	check_int(t_load(
	    "# a comment\n"
	    "   # an indented comment\n"
	    "\n"
	    "mydestination = a,\n"
	    "    b,\t\n"
	    "# a comment inside\n"
	    "\n"
	    "\tc\n"
	    "mail_name=x # not a comment\n"
	    "mail_owner   =   spaced   out  \r\n"
	    "syslog_name = first\n"
	    "syslog_name = second\n"
	    "setgid_group =\n"
	    "default_privs = last line without newline"), ==, 0);
	check_str(conf_get("mydestination"), "a, b, c");
	check_str(conf_get("mail_name"), "x # not a comment");
	check_str(conf_get("mail_owner"), "spaced   out");
	check_str(conf_get("syslog_name"), "second");
	check_str(conf_get("setgid_group"), "");
	check_int(conf_is_set("setgid_group"), ==, 1);
	check_str(conf_get("default_privs"), "last line without newline");
}

static void
t_errors(void)
{
	struct buf	 big;
	char		 dir[PATH_MAX];

	check_int(t_load("mail_name = x\nbogus_thing = 1\n"), ==, -1);
	check_str(buf_str(&t_why), t_fmt("%s, line 2: unknown parameter: "
	    "bogus_thing", t_path));
	check_str(conf_get("mail_name"), "correo");	/* forgotten */
	check_int(t_load("my-host = 1\n"), ==, -1);
	check_str(buf_str(&t_why), t_fmt("%s, line 1: unknown parameter: "
	    "my-host", t_path));
	check_int(t_load("\n\nmail_name x\n"), ==, -1);
	check_str(buf_str(&t_why), t_fmt("%s, line 3: missing '=' after "
	    "parameter name", t_path));
	check_int(t_load("mail_name\n"), ==, -1);
	check_str(buf_str(&t_why), t_fmt("%s, line 1: missing '=' after "
	    "parameter name", t_path));
	check_int(t_load("= x\n"), ==, -1);
	check_str(buf_str(&t_why), t_fmt("%s, line 1: missing parameter "
	    "name", t_path));
	check_int(t_load("# c\n  mail_name = x\n"), ==, -1);
	check_str(buf_str(&t_why), t_fmt("%s, line 2: logical line must not "
	    "start with white space", t_path));
	check_int(t_load("mail_name = a\001b\n"), ==, -1);
	check_str(buf_str(&t_why), t_fmt("%s, line 1: control character in "
	    "line", t_path));
	check_int(t_load_n("mail_name = a\0b\n", 16), ==, -1);
	check_str(buf_str(&t_why), t_fmt("%s, line 1: control character in "
	    "line", t_path));

	/* Bad values, reported after all lines are read. */
	check_int(t_load("line_length_limit = 79\nmail_name = x\n"), ==, -1);
	check_str(buf_str(&t_why), t_fmt("%s, line 1: line_length_limit: bad "
	    "value \"79\": too small (minimum 80)", t_path));
	check_int(t_load("hopcount_limit = 0\n"), ==, -1);
	check_str(buf_str(&t_why), t_fmt("%s, line 1: hopcount_limit: bad "
	    "value \"0\": too small (minimum 1)", t_path));
	check_int(t_load("hopcount_limit = 99999999999\n"), ==, -1);
	check_str(buf_str(&t_why), t_fmt("%s, line 1: hopcount_limit: bad "
	    "value \"99999999999\": too large (maximum %d)", t_path,
	    INT_MAX));
	check_int(t_load("hopcount_limit = 5x\n"), ==, -1);
	check_str(buf_str(&t_why), t_fmt("%s, line 1: hopcount_limit: bad "
	    "value \"5x\": not a decimal number", t_path));
	check_int(t_load("message_size_limit = 10M\n"), ==, -1);
	check_str(buf_str(&t_why), t_fmt("%s, line 1: message_size_limit: "
	    "bad value \"10M\": not a size in bytes", t_path));
	check_int(t_load("message_size_limit = -1\n"), ==, -1);
	check_str(buf_str(&t_why), t_fmt("%s, line 1: message_size_limit: "
	    "bad value \"-1\": too small (minimum 0)", t_path));
	check_int(t_load("message_size_limit = 99999999999999999999\n"), ==,
	    -1);
	check_str(buf_str(&t_why), t_fmt("%s, line 1: message_size_limit: "
	    "bad value \"99999999999999999999\": too large (maximum %lld)",
	    t_path, LLONG_MAX));
	check_int(t_load("header_size_limit = $hopcount_limit$mail_name\n"),
	    ==, -1);
	check_str(buf_str(&t_why), t_fmt("%s, line 1: header_size_limit: "
	    "bad value \"50correo\": not a size in bytes", t_path));
	check_int(t_load("header_size_limit = ${hopcount_limit}00\n"), ==, 0);
	check_int(conf_size("header_size_limit"), ==, 5000);
	check_int(t_load("header_size_limit = 999\n"), ==, -1);
	check_str(buf_str(&t_why), t_fmt("%s, line 1: header_size_limit: "
	    "bad value \"999\": too small (minimum 1000)", t_path));

	/* Lines: 64 KiB, physical or logical. */
	buf_init(&big, 1 << 20);
	buf_adds(&big, "mail_name = ");
	while (big.len < 65536)
		buf_addc(&big, 'x');
	check_int(t_load(big.data), ==, 0);
	check_int(strlen(conf_get("mail_name")), ==, 65536 - 12);
	buf_addc(&big, 'x');
	check_int(t_load(big.data), ==, -1);
	check_str(buf_str(&t_why), t_fmt("%s, line 1: line too long (more "
	    "than 65536 bytes)", t_path));
	buf_reset(&big);
	buf_adds(&big, "\nmail_name = x\n");
	while (big.len < 80000)
		buf_adds(&big, " continued\n");
	check_int(t_load(big.data), ==, -1);
	check_str(buf_str(&t_why), t_fmt("%s, line 2: line too long (more "
	    "than 65536 bytes)", t_path));
	buf_free(&big);

	/* Files that cannot be read. */
	conf_reset();
	bsnprintf(dir, sizeof(dir), "%s/t-conf-none.%ld/correo.conf",
	    tmpdir(), (long)getpid());
	check_int(conf_load(dir, &t_why), ==, -1);
	check_str(buf_str(&t_why), t_fmt("open %s: %s", dir,
	    strerror(ENOENT)));
	check_str(conf_path(), dir);
	check_int(conf_load(tmpdir(), &t_why), ==, -1);
	check_str(buf_str(&t_why), t_fmt("read %s: %s", tmpdir(),
	    strerror(EISDIR)));
	if (geteuid() != 0) {
		check_int(t_write(t_path, sizeof(t_path), "", 0), ==, 0);
		chmod(t_path, 0);
		check_int(conf_load(t_path, &t_why), ==, -1);
		check_str(buf_str(&t_why), t_fmt("open %s: %s", t_path,
		    strerror(EACCES)));
		unlink(t_path);
	}
}

static void
t_override(void)
{
	/* Before the load: wins over the file. */
	conf_reset();
	check_int(conf_override("mail_name=early", &t_why), ==, 0);
	check_int(conf_override(" syslog_name = $mail_name-log ", &t_why),
	    ==, 0);
	check_int(conf_is_set("mail_name"), ==, 1);
	check_int(t_write(t_path, sizeof(t_path), "mail_name = file\n"
	    "mail_owner = file\n", 35), ==, 0);
	check_int(conf_load(t_path, &t_why), ==, 0);
	unlink(t_path);
	check_str(conf_get("mail_name"), "early");
	check_str(conf_get("syslog_name"), "early-log");
	check_str(conf_get("mail_owner"), "file");

	/* After the load: wins too, and the old pointers stay valid. */
	{
		const char	*old = conf_get("mail_owner");

		check_int(conf_override("mail_owner=late", &t_why), ==, 0);
		check_str(conf_get("mail_owner"), "late");
		check_str(old, "file");
	}
	check_int(conf_override("mail_name=$mail_owner", &t_why), ==, 0);
	check_str(conf_get("syslog_name"), "late-log");

	/* A bad override is refused and leaves everything as it was. */
	check_int(conf_override("line_length_limit=12", &t_why), ==, -1);
	check_str(buf_str(&t_why), "-o line_length_limit=12: "
	    "line_length_limit: bad value \"12\": too small (minimum 80)");
	check_int(conf_int("line_length_limit"), ==, 2048);
	check_int(conf_is_set("line_length_limit"), ==, 0);
	check_int(conf_override("mail_owner=$mail_name", &t_why), ==, -1);
	check_str(buf_str(&t_why), "-o mail_owner=$mail_name: mail_owner: "
	    "parameter expansion loop through $mail_owner");
	check_str(conf_get("mail_owner"), "late");
	check_int(conf_override("hopcount_limit=7", &t_why), ==, 0);
	check_int(conf_override("hopcount_limit=x", &t_why), ==, -1);
	check_int(conf_int("hopcount_limit"), ==, 7);

	/* Syntax and names. */
	check_int(conf_override("nonsense=1", &t_why), ==, -1);
	check_str(buf_str(&t_why), "-o nonsense=1: unknown parameter: "
	    "nonsense");
	check_int(conf_override("mail_name", &t_why), ==, -1);
	check_str(buf_str(&t_why), "-o mail_name: missing '=' after "
	    "parameter name");
	check_int(conf_override("=x", &t_why), ==, -1);
	check_str(buf_str(&t_why), "-o =x: missing parameter name");
	check_int(conf_override("mail_name=a\nb", &t_why), ==, -1);
	check_str(buf_str(&t_why), "-o mail_name=a\\012b: control character "
	    "in value");
	t_log_reset();
	check_int(conf_override("biff=no", &t_why), ==, 0);
	check(t_logged("warning: -o biff=no: biff: Postfix parameter not "
	    "implemented by correo, ignored\n"));
	check(conf_get("biff") == NULL);
	check_int(conf_is_set("biff"), ==, 1);

	/* Before the load, what needs no expansion is checked at once. */
	conf_reset();
	check_int(conf_override("hopcount_limit=0", &t_why), ==, -1);
	check_str(buf_str(&t_why), "-o hopcount_limit=0: hopcount_limit: "
	    "bad value \"0\": too small (minimum 1)");
	check_int(conf_override("hopcount_limit=$line_length_limit", &t_why),
	    ==, 0);
	check_int(t_write(t_path, sizeof(t_path), "line_length_limit = x\n",
	    22), ==, 0);
	check_int(conf_load(t_path, &t_why), ==, -1);
	check_str(buf_str(&t_why), t_fmt("%s, line 1: line_length_limit: bad "
	    "value \"x\": not a decimal number", t_path));
	unlink(t_path);
	check_int(conf_override("line_length_limit = 100", &t_why), ==, 0);
	check_int(t_write(t_path, sizeof(t_path), "line_length_limit = x\n",
	    22), ==, 0);
	check_int(conf_load(t_path, &t_why), ==, 0);
	unlink(t_path);
	check_int(conf_int("hopcount_limit"), ==, 100);
	conf_reset();
}

static void
t_types(void)
{
	struct buf	 why;
	long long	 v;

	buf_init(&why, 1024);
	check_int(conf_parse_value(CONF_TIME, "10", 0, 0, LLONG_MAX, &v,
	    &why), ==, 0);
	check_int(v, ==, 10);
	check_int(conf_parse_value(CONF_TIME, "10", 'm', 0, LLONG_MAX, &v,
	    &why), ==, 0);
	check_int(v, ==, 600);
	check_int(conf_parse_value(CONF_TIME, "2s", 'd', 0, LLONG_MAX, &v,
	    &why), ==, 0);
	check_int(v, ==, 2);
	check_int(conf_parse_value(CONF_TIME, "3h", 0, 0, LLONG_MAX, &v,
	    &why), ==, 0);
	check_int(v, ==, 3 * 3600);
	check_int(conf_parse_value(CONF_TIME, "5d", 0, 0, LLONG_MAX, &v,
	    &why), ==, 0);
	check_int(v, ==, 5 * 86400);
	check_int(conf_parse_value(CONF_TIME, "1w", 0, 0, LLONG_MAX, &v,
	    &why), ==, 0);
	check_int(v, ==, 7 * 86400);
	check_int(conf_parse_value(CONF_TIME, "1y", 0, 0, LLONG_MAX, &v,
	    &why), ==, -1);
	check_str(buf_str(&why), "not a time (digits and an optional unit "
	    "s, m, h, d or w)");
	check_int(conf_parse_value(CONF_TIME, "1hh", 0, 0, LLONG_MAX, &v,
	    &why), ==, -1);
	check_int(conf_parse_value(CONF_TIME, "h", 0, 0, LLONG_MAX, &v,
	    &why), ==, -1);
	check_int(conf_parse_value(CONF_TIME, "", 0, 0, LLONG_MAX, &v,
	    &why), ==, -1);
	check_int(conf_parse_value(CONF_TIME, "-1", 0, 0, LLONG_MAX, &v,
	    &why), ==, -1);
	check_int(conf_parse_value(CONF_TIME, "99999999999999999999", 0, 0,
	    LLONG_MAX, &v, &why), ==, -1);
	check_str(buf_str(&why), t_fmt("too large (maximum %lld seconds)",
	    LLONG_MAX));
	check_int(conf_parse_value(CONF_TIME, "9999999999999999w", 0, 0,
	    LLONG_MAX, &v, &why), ==, -1);
	check_int(conf_parse_value(CONF_TIME, "2h", 0, 0, 3600, &v, &why),
	    ==, -1);
	check_str(buf_str(&why), "too large (maximum 3600 seconds)");
	check_int(conf_parse_value(CONF_TIME, "1s", 0, 60, 3600, &v, &why),
	    ==, -1);
	check_str(buf_str(&why), "too small (minimum 60 seconds)");

	check_int(conf_parse_value(CONF_BOOL, "YES", 0, 0, 0, &v, &why), ==,
	    0);
	check_int(v, ==, 1);
	check_int(conf_parse_value(CONF_BOOL, "True", 0, 0, 0, &v, &why), ==,
	    0);
	check_int(v, ==, 1);
	check_int(conf_parse_value(CONF_BOOL, "1", 0, 0, 0, &v, &why), ==,
	    0);
	check_int(v, ==, 1);
	check_int(conf_parse_value(CONF_BOOL, "no", 0, 0, 0, &v, &why), ==,
	    0);
	check_int(v, ==, 0);
	check_int(conf_parse_value(CONF_BOOL, "FALSE", 0, 0, 0, &v, &why),
	    ==, 0);
	check_int(v, ==, 0);
	check_int(conf_parse_value(CONF_BOOL, "0", 0, 0, 0, &v, &why), ==,
	    0);
	check_int(v, ==, 0);
	check_int(conf_parse_value(CONF_BOOL, "maybe", 0, 0, 0, &v, &why),
	    ==, -1);
	check_str(buf_str(&why), "not a boolean (yes or no)");
	check_int(conf_parse_value(CONF_BOOL, "", 0, 0, 0, &v, &why), ==,
	    -1);

	check_int(conf_parse_value(CONF_INT, "42", 0, 0, 100, &v, &why), ==,
	    0);
	check_int(v, ==, 42);
	check_int(conf_parse_value(CONF_INT, "", 0, 0, 100, &v, &why), ==,
	    -1);
	check_str(buf_str(&why), "not a decimal number");
	check_int(conf_parse_value(CONF_SIZE, "0", 0, 0, LLONG_MAX, &v,
	    &why), ==, 0);
	check_int(v, ==, 0);
	check_int(conf_parse_value(CONF_STR, "anything $at all", 0, 0, 0, &v,
	    &why), ==, 0);
	check_int(conf_parse_value(CONF_LIST, "", 0, 0, 0, &v, &why), ==, 0);
	buf_free(&why);
}

static void
t_myorigin(void)
{
	char	 name[PATH_MAX], dir[PATH_MAX];

	check_int(t_write(name, sizeof(name), "  mail.example.net  \n"
	    "second line\n", 33), ==, 0);
	check_int(t_load(t_fmt("myhostname = h.example\n"
	    "myorigin = %s\nmail_name = <$myorigin>\n", name)), ==, 0);
	check_str(conf_get("myorigin"), "mail.example.net");
	check_str(conf_get("mail_name"), "<mail.example.net>");

	/* The expanded value decides: $config_directory/mailname. */
	check_int(t_load(t_fmt("myorigin = ${config_directory}%s\n",
	    strrchr(name, '/'))), ==, 0);
	check_str(conf_get("myorigin"), "mail.example.net");

	/* A file without a newline. */
	unlink(name);
	check_int(t_write(name, sizeof(name), "x.example", 9), ==, 0);
	check_int(t_load(t_fmt("myorigin = %s\n", name)), ==, 0);
	check_str(conf_get("myorigin"), "x.example");

	unlink(name);
	check_int(t_write(name, sizeof(name), " \n", 2), ==, 0);
	check_int(t_load(t_fmt("myorigin = %s\n", name)), ==, -1);
	check_str(buf_str(&t_why), t_fmt("%s, line 1: myorigin: %s: the "
	    "first line is empty", t_path, name));
	unlink(name);
	check_int(t_load(t_fmt("myorigin = %s\n", name)), ==, -1);
	check_str(buf_str(&t_why), t_fmt("%s, line 1: myorigin: open %s: %s",
	    t_path, name, strerror(ENOENT)));
	bsnprintf(dir, sizeof(dir), "%s", tmpdir());
	check_int(t_load(t_fmt("myorigin = %s\n", dir)), ==, -1);
	check_str(buf_str(&t_why), t_fmt("%s, line 1: myorigin: %s: not a "
	    "regular file", t_path, dir));

	/* Not for other parameters. */
	check_int(t_load("mail_name = /etc/passwd\n"), ==, 0);
	check_str(conf_get("mail_name"), "/etc/passwd");
}

static void
t_postfix(void)
{
	char	*out;
	int	 rc;

	t_log_reset();
	check_int(t_load("myhostname = mx.example.com\nbiff = no\n"
	    "smtpd_tls_CAfile = /etc/ssl/ca.pem\n"
	    "smtpd_client_restrictions = example.net\n"
	    "  , example.edu\n"), ==, 0);
	check(t_logged(t_fmt("warning: %s, line 2: biff: Postfix parameter "
	    "not implemented by correo, ignored\n", t_path)));
	check(t_logged(t_fmt("warning: %s, line 3: smtpd_tls_CAfile: Postfix "
	    "parameter not implemented by correo, ignored\n", t_path)));
	check(t_logged(t_fmt("warning: %s, line 4: smtpd_client_restrictions: Postfix "
	    "parameter not implemented by correo, ignored\n", t_path)));
	check(conf_get("biff") == NULL);
	check(conf_list("biff") == NULL);
	check_int(conf_is_set("biff"), ==, 1);
	check_int(conf_is_set("relayhost"), ==, 0);
	out = t_print(CONF_PRINT_SET, NULL, &rc);
	check_int(rc, ==, 0);
	check_str(out, "myhostname = mx.example.com\n"
	    "# not implemented by correo: biff = no\n"
	    "# not implemented by correo: smtpd_client_restrictions = example.net "
	    ", example.edu\n"
	    "# not implemented by correo: smtpd_tls_CAfile = "
	    "/etc/ssl/ca.pem\n");
	free(out);
}

static void
t_print_all(void)
{
	char	*out;
	char	*names[] = { "mydomain", "always_bcc", "biff", "nope",
		    "mail_name", "nada", NULL };
	char	*set_names[] = { "mydomain", "mail_name", "biff", NULL };
	int	 rc;

	check_int(t_load("myhostname = mx.example.com\nbiff = no\n"
	    "mail_name = Correo $mail_owner\nrecipient_delimiter = +\n"),
	    ==, 0);
	out = t_print(CONF_PRINT_ALL, NULL, &rc);
	check_int(rc, ==, 0);
	/* Every parameter, sorted; the table grows, so check a sample. */
	check(strncmp(out, "2bounce_notice_recipient = postmaster\n", 38) ==
	    0);
	check(strstr(out, t_fmt("\nconfig_directory = %.*s\n",
	    (int)(strrchr(t_path, '/') - t_path), t_path)) != NULL);
	check(strstr(out, "\ndaemon_directory = /usr/lib/correo\n") != NULL);
	check(strstr(out, "\ndefault_privs = nobody\n") != NULL);
	check(strstr(out, "\nmail_name = Correo correo\n") != NULL);
	check(strstr(out, "\nmydestination = mx.example.com, "
	    "localhost.example.com, localhost\nmydomain = example.com\n"
	    "myhostname = mx.example.com\n") != NULL);
	check(strstr(out, "\nmyorigin = mx.example.com\n") != NULL);
	check(strstr(out, "\nrecipient_delimiter = +\n") != NULL);
	check(strstr(out, "\nsyslog_name = correo\n") != NULL);
	check(strlen(out) > 40 && strcmp(out + strlen(out) - 39,
	    "# not implemented by correo: biff = no\n") == 0);
	{
		char	*p, *prev = NULL;
		int	 sorted = 1;

		for (p = out; *p != '\0' && *p != '#'; p = strchr(p, '\n') + 1) {
			if (prev != NULL && strcspn(prev, " ") > 0 &&
			    strncmp(prev, p, strcspn(p, " ")) > 0)
				sorted = 0;
			prev = p;
		}
		check(sorted);
	}
	free(out);

	out = t_print(CONF_PRINT_SET, NULL, &rc);
	check_int(rc, ==, 0);
	check_str(out, "mail_name = Correo correo\n"
	    "myhostname = mx.example.com\n"
	    "recipient_delimiter = +\n"
	    "# not implemented by correo: biff = no\n");
	free(out);

	out = t_print(CONF_PRINT_ALL, names, &rc);
	check_int(rc, ==, -1);
	check_str(buf_str(&t_why), "unknown parameter: nope, nada");
	check_str(out, "mydomain = example.com\n"
	    "# not implemented by correo: always_bcc\n"
	    "# not implemented by correo: biff = no\n"
	    "mail_name = Correo correo\n");
	free(out);

	out = t_print(CONF_PRINT_SET, set_names, &rc);
	check_int(rc, ==, 0);
	check_str(out, "mail_name = Correo correo\n"
	    "# not implemented by correo: biff = no\n");
	free(out);
}

static void
t_list(void)
{
	char	**v;

	check_int(t_load("myhostname = mx.example.com\n"
	    "alternate_config_directories = ,, /a ,/b\t/c,\n"
	    "  /d,,\n"), ==, 0);
	v = conf_list("alternate_config_directories");
	check(v != NULL);
	if (v != NULL) {
		check_str(v[0], "/a");
		check_str(v[1], "/b");
		check_str(v[2], "/c");
		check_str(v[3], "/d");
		check(v[4] == NULL);
	}
	conf_list_free(v);
	v = conf_list("mydestination");
	if (check(v != NULL)) {
		check_str(v[0], "mx.example.com");
		check_str(v[1], "localhost.example.com");
		check_str(v[2], "localhost");
		check(v[3] == NULL);
	}
	conf_list_free(v);
	v = conf_list("recipient_delimiter");
	if (check(v != NULL))
		check(v[0] == NULL);
	conf_list_free(v);
	conf_list_free(NULL);
}

static void
t_mem(void)
{
	static const char	 text[] = "mail_name = from memory\n"
	    "bogus = 1\n";

	conf_reset();
	check_int(conf_load_mem("memory.conf", text, 24, &t_why), ==, 0);
	check_str(conf_get("mail_name"), "from memory");
	check_str(conf_path(), "memory.conf");
	check_str(conf_get("config_directory"), ".");
	check_int(conf_load_mem("/x/y.conf", text, sizeof(text) - 1, &t_why),
	    ==, -1);
	check_str(buf_str(&t_why), "/x/y.conf, line 2: unknown parameter: "
	    "bogus");
	check_int(conf_load_mem("/y.conf", "", 0, &t_why), ==, 0);
	check_str(conf_get("config_directory"), "/");
	check_str(conf_get("mail_name"), "correo");
	conf_reset();
}

int
main(void)
{
	int	 fd;

	buf_init(&t_why, 8192);
	bsnprintf(t_log, sizeof(t_log), "%s/t-conf-log.XXXXXX", tmpdir());
	if ((fd = mkstemp(t_log)) < 0) {
		perror(t_log);
		return 1;
	}
	close(fd);
	log_init("t-conf", "test");
	log_stderr(0);
	log_open(NULL, t_log);

	TEST(t_defaults, "defaults");
	TEST(t_hostname, "defaults derived from the host name");
	TEST(t_expand, "$name, ${name}, $(name) and the conditional forms");
	TEST(t_expand_errors, "expansion errors, loops, depth and size");
	TEST(t_lines, "comments, continuation lines, last one wins");
	TEST(t_errors, "syntax, names, values and unreadable files");
	TEST(t_override, "-o before and after the load");
	TEST(t_types, "TIME, BOOL, INT and SIZE values");
	TEST(t_myorigin, "myorigin = /file, as Debian's /etc/mailname");
	TEST(t_postfix, "Postfix parameters correo does not implement");
	TEST(t_print_all, "sendmail -bP output");
	TEST(t_list, "lists split on commas and white space");
	TEST(t_mem, "conf_load_mem");

	conf_reset();
	buf_free(&t_why);
	unlink(t_log);
	return test_done();
}
