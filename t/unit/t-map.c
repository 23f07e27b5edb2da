/*
 * t-map.c - unit tests for common/map
 *
 * Every test works in a fresh mkdtemp(3) directory under $TMPDIR (or
 * /tmp), removed afterwards.  Warnings go to a private mail log file
 * that the tests read back.  The databases are checked against
 * tinycdb's reader and writer (-lcdb) as well as map.c's own.
 */
#include <sys/stat.h>
#include <sys/types.h>

#include <cdb.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/log.h"
#include "common/map.h"
#include "common/util.h"
#include "t/unit/tap.h"

static char	 t_dir[PATH_MAX];	/* this test's directory */
static char	 t_log[PATH_MAX];	/* the private mail log */
static struct buf t_why, t_val;

static const char *tmpdir(void);
static const char *t_path(const char *);
static const char *t_spec(const char *, const char *);
static int	 t_write(const char *, const char *, mode_t);
static int	 t_write_n(const char *, const char *, size_t, mode_t);
static char	*t_slurp(const char *);
static int	 t_logged(const char *);
static void	 t_begin(void);
static void	 t_end(void);
static int	 t_rm(const char *, const struct stat *, int, struct FTW *);
static int	 t_look(struct map *, const char *, const char *);
static int	 t_nfiles(void);
static const char *t_fmt_line(const char *, int, const char *);

/* tmpdir - $TMPDIR or /tmp */
static const char *
tmpdir(void)
{
	const char	*d = getenv("TMPDIR");

	return d != NULL && *d != '\0' ? d : "/tmp";
}

/* t_path - name inside the test's directory (static, one at a time) */
static const char *
t_path(const char *name)
{
	static char	 p[4][PATH_MAX];
	static int	 i;

	i = (i + 1) % 4;
	if (bsnprintf(p[i], sizeof(p[i]), "%s/%s", t_dir, name) < 0)
		abort();
	return p[i];
}

/* t_spec - "type:DIR/name" */
static const char *
t_spec(const char *type, const char *name)
{
	static char	 p[4][PATH_MAX + 32];
	static int	 i;

	i = (i + 1) % 4;
	if (bsnprintf(p[i], sizeof(p[i]), "%s:%s/%s", type, t_dir,
	    name) < 0)
		abort();
	return p[i];
}

/* t_fmt_line - "DIR/name, line N: msg" (static, one at a time) */
static const char *
t_fmt_line(const char *name, int line, const char *msg)
{
	static char	 p[PATH_MAX + 256];

	if (bsnprintf(p, sizeof(p), "%s/%s, line %d: %s", t_dir, name, line,
	    msg) < 0)
		abort();
	return p;
}

/* t_write_n - a file with this content and mode */
static int
t_write_n(const char *path, const char *text, size_t len, mode_t mode)
{
	int	 fd;

	if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
	    mode)) < 0)
		return -1;
	if (write_all(fd, text, len) < 0 || fchmod(fd, mode) != 0) {
		close(fd);
		return -1;
	}
	return close(fd);
}

/* t_write - a text file */
static int
t_write(const char *path, const char *text, mode_t mode)
{
	return t_write_n(path, text, strlen(text), mode);
}

/* t_slurp - a whole file, NUL-terminated, or NULL */
static char *
t_slurp(const char *path)
{
	struct buf	 b;
	char		 chunk[4096];
	ssize_t		 n;
	int		 fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return NULL;
	buf_init(&b, 1 << 24);
	while ((n = read(fd, chunk, sizeof(chunk))) > 0)
		buf_add(&b, chunk, (size_t)n);
	close(fd);
	return buf_take(&b);
}

/* t_logged - whether the mail log holds text */
static int
t_logged(const char *text)
{
	char	*s = t_slurp(t_log);
	int	 found = s != NULL && strstr(s, text) != NULL;

	free(s);
	return found;
}

/* t_rm - nftw callback: remove anything */
static int
t_rm(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	if (flag == FTW_DP)
		chmod(path, 0700);
	(void)remove(path);
	return 0;
}

/* t_begin - a fresh directory and mail log */
static void
t_begin(void)
{
	if (bsnprintf(t_dir, sizeof(t_dir), "%s/t-map.XXXXXX", tmpdir()) < 0 ||
	    mkdtemp(t_dir) == NULL)
		abort();
	if (bsnprintf(t_log, sizeof(t_log), "%s/maillog", t_dir) < 0)
		abort();
	log_stderr(0);
	if (log_open(NULL, t_log) != 0)
		abort();
	buf_reset(&t_why);
	buf_reset(&t_val);
}

/* t_end - remove the directory */
static void
t_end(void)
{
	log_open(NULL, "/dev/null");
	nftw(t_dir, t_rm, 16, FTW_DEPTH | FTW_PHYS);
}

/* t_nfiles - entries in the test's directory (leftover temporaries) */
static int
t_nfiles(void)
{
	struct stat	 st;
	char		 p[PATH_MAX + 64];
	int		 n = 0;
	long		 pid = (long)getpid();

	/* Only the temporary name matters. */
	if (bsnprintf(p, sizeof(p), "%s/src.cdb.tmp.%ld", t_dir, pid) < 0)
		abort();
	if (lstat(p, &st) == 0)
		n++;
	return n;
}

/*
 * t_look - look key up: the value, "" for not found, "ERROR" for an
 * error; compared with want
 */
static int
t_look(struct map *m, const char *key, const char *want)
{
	enum map_result	 r;
	const char	*got;

	buf_reset(&t_why);
	r = map_lookup(m, key, &t_val, &t_why);
	got = r == MAP_FOUND ? buf_str(&t_val) : r == MAP_NOTFOUND ? "" :
	    "ERROR";
	if (strcmp(got, want) != 0) {
		tap_diag("lookup %s: got \"%s\" want \"%s\" (%s)", key, got,
		    want, buf_str(&t_why));
		return 0;
	}
	return 1;
}

static void
t_hash(void)
{
	struct map_stats	 st;
	struct map		*m;
	static const char	*types[] = { "hash", "btree", "lmdb", "cdb" };
	size_t			 i;

	t_begin();
	check_int(t_write(t_path("src"),
	    "# virtual\n"
	    "Info@Example.ORG\tjane, joe\n"
	    "@example.net    jane\n"
	    "long   first part\n"
	    "  second part\n"
	    "# comment inside\n"
	    "\n"
	    "\tthird part   \n"
	    "crlf value\r\n"
	    "last no-newline", 0644), ==, 0);
	check_int(map_build(t_spec("hash", "src"), MAP_FMT_POSTMAP, &st,
	    &t_why), ==, MAP_BUILD_OK);
	check_int(st.entries, ==, 5);
	check_int(st.duplicates, ==, 0);
	for (i = 0; i < nitems(types); i++) {
		m = map_open(t_spec(types[i], "src"), 0, &t_why);
		check(m != NULL);
		if (m == NULL) {
			tap_diag("%s", buf_str(&t_why));
			continue;
		}
		check(t_look(m, "info@example.org", "jane, joe"));
		check(t_look(m, "INFO@EXAMPLE.ORG", "jane, joe"));
		check(t_look(m, "@example.net", "jane"));
		check(t_look(m, "long", "first part second part third part"));
		check(t_look(m, "crlf", "value"));
		check(t_look(m, "last", "no-newline"));
		check(t_look(m, "nobody", ""));
		check(t_look(m, "", ""));
		check(t_look(m, "# virtual", ""));
		check_str(map_source(m), t_path("src"));
		check_str(map_name(m), t_spec(types[i], "src"));
		m = map_close(m);
		check(m == NULL);
	}
	check(map_close(NULL) == NULL);
	t_end();
}

static void
t_case(void)
{
	struct cdb_make	 cm;
	struct map	*m;
	int		 fd;

	t_begin();
	/* A key stored with capitals (by another writer) is found as is. */
	check_int(t_write(t_path("src"), "", 0644), ==, 0);
	fd = open(t_path("src.cdb"), O_RDWR | O_CREAT | O_TRUNC, 0644);
	check(fd >= 0);
	check_int(cdb_make_start(&cm, fd), ==, 0);
	check_int(cdb_make_add(&cm, "MiXed", 5, "as given", 8), ==, 0);
	check_int(cdb_make_add(&cm, "lower", 5, "folded", 6), ==, 0);
	check_int(cdb_make_finish(&cm), ==, 0);
	close(fd);
	m = map_open(t_spec("hash", "src"), 0, &t_why);
	check(m != NULL);
	if (m != NULL) {
		check(t_look(m, "MiXed", "as given"));
		check(t_look(m, "mixed", ""));
		check(t_look(m, "LOWER", "folded"));
		check(t_look(m, "Lower", "folded"));
		check(t_look(m, "lower", "folded"));
	}
	map_close(m);
	t_end();
}

static void
t_tinycdb(void)
{
	struct buf	 src;
	struct cdb	 c;
	struct map	*m;
	char		 key[64], val[64], got[64];
	int		 fd, i, ok = 1;

	t_begin();
	buf_init(&src, 1 << 24);
	for (i = 0; i < 20000; i++)
		buf_printf(&src, "key%d value-%d\n", i, i * 7);
	check_int(t_write_n(t_path("src"), src.data, src.len, 0644), ==, 0);
	buf_free(&src);
	check_int(map_build(t_spec("hash", "src"), MAP_FMT_POSTMAP, NULL,
	    &t_why), ==, MAP_BUILD_OK);

	/* tinycdb reads what map.c wrote. */
	fd = open(t_path("src.cdb"), O_RDONLY);
	check(fd >= 0 && cdb_init(&c, fd) == 0);
	for (i = 0; i < 20000; i += 97) {
		bsnprintf(key, sizeof(key), "key%d", i);
		bsnprintf(val, sizeof(val), "value-%d", i * 7);
		if (cdb_find(&c, key, (unsigned)strlen(key)) <= 0 ||
		    cdb_datalen(&c) != strlen(val) ||
		    cdb_read(&c, got, cdb_datalen(&c), cdb_datapos(&c)) != 0 ||
		    memcmp(got, val, strlen(val)) != 0)
			ok = 0;
	}
	check(ok);
	check_int(cdb_find(&c, "key20000", 8), ==, 0);
	cdb_free(&c);
	close(fd);

	/* map.c finds every key, and no other. */
	m = map_open(t_spec("hash", "src"), 0, &t_why);
	check(m != NULL);
	for (i = 0, ok = 1; m != NULL && i < 20000; i++) {
		bsnprintf(key, sizeof(key), "KEY%d", i);
		bsnprintf(val, sizeof(val), "value-%d", i * 7);
		if (map_lookup(m, key, &t_val, &t_why) != MAP_FOUND ||
		    strcmp(buf_str(&t_val), val) != 0)
			ok = 0;
	}
	check(ok);
	if (m != NULL) {
		check(t_look(m, "key20000", ""));
		check(t_look(m, "key-1", ""));
	}
	map_close(m);
	t_end();
}

static void
t_texthash(void)
{
	struct map	*m;
	struct timespec	 ts[2];
	uid_t		 uid;

	t_begin();
	check_int(t_write(t_path("virtual"), "A@b.c x\nd@e.f y z\n", 0644),
	    ==, 0);
	m = map_open(t_spec("texthash", "virtual"), 0, &t_why);
	check(m != NULL);
	if (m != NULL) {
		check(t_look(m, "a@b.c", "x"));
		check(t_look(m, "A@B.C", "x"));
		check(t_look(m, "d@e.f", "y z"));
		check(t_look(m, "x", ""));
		check_int(map_is_stale(m), ==, 0);
		check_int(map_owner(m, &uid), ==, 0);
		check_int(uid, ==, getuid());
		/* Changed since it was read: stale. */
		ts[0].tv_sec = ts[1].tv_sec = time(NULL) + 100;
		ts[0].tv_nsec = ts[1].tv_nsec = 0;
		check_int(utimensat(AT_FDCWD, t_path("virtual"), ts, 0), ==, 0);
		check_int(map_is_stale(m), ==, 1);
	}
	map_close(m);
	/* No database is written for texthash. */
	check_int(map_build(t_spec("texthash", "virtual"), MAP_FMT_POSTMAP,
	    NULL, &t_why), ==, MAP_BUILD_OK);
	check(access(t_path("virtual.cdb"), F_OK) != 0);

	/* The aliases format with MAP_F_ALIASES. */
	check_int(t_write(t_path("aliases"), "Root: jane,\n  joe\n", 0644),
	    ==, 0);
	m = map_open(t_spec("texthash", "aliases"), MAP_F_ALIASES, &t_why);
	check(m != NULL);
	if (m != NULL)
		check(t_look(m, "root", "jane, joe"));
	map_close(m);

	/* A syntax error is an error of the open. */
	check_int(t_write(t_path("bad"), "a b\nnovalue\n", 0644), ==, 0);
	errno = 0;
	check(map_open(t_spec("texthash", "bad"), 0, &t_why) == NULL);
	check_int(errno, ==, EINVAL);
	check(strstr(buf_str(&t_why), "bad, line 2: expected format: key "
	    "whitespace value") != NULL);
	errno = 0;
	check(map_open(t_spec("texthash", "missing"), 0, &t_why) == NULL);
	check_int(errno, ==, ENOENT);
	t_end();
}

static void
t_static_inline(void)
{
	struct map	*m;
	uid_t		 uid;

	t_begin();
	m = map_open("static:5000", 0, &t_why);
	check(m != NULL);
	if (m != NULL) {
		check(t_look(m, "anything", "5000"));
		check(t_look(m, "", "5000"));
		check_int(map_owner(m, &uid), ==, -1);
		check_int(map_is_stale(m), ==, 0);
		check_str(map_source(m), "static:5000");
	}
	map_close(m);
	m = map_open("static:{ text with  spaces }", 0, &t_why);
	check(m != NULL);
	if (m != NULL)
		check(t_look(m, "x", "text with  spaces"));
	map_close(m);

	m = map_open("inline:{ Key1=value1, key2 = , key3=v3 {k4 = a b, c}"
	    " k5=x=y }", 0, &t_why);
	check(m == NULL);	/* "key2" alone has no '=' */
	check(strstr(buf_str(&t_why), "element 2: missing '=' in \"key2\"")
	    != NULL);
	m = map_open("inline:{ Key1=value1, key3=v3 {k4 = a b, c} k5=x=y,"
	    "{ k6 = }, k1=dup }", 0, &t_why);
	check(m != NULL);
	if (m != NULL) {
		check(t_look(m, "key1", "value1"));
		check(t_look(m, "KEY3", "v3"));
		check(t_look(m, "k4", "a b, c"));
		check(t_look(m, "k5", "x=y"));
		check(t_look(m, "k6", ""));
		check(t_look(m, "k1", "dup"));
		check(t_look(m, "k7", ""));
	}
	map_close(m);
	m = map_open("inline:{}", 0, &t_why);
	check(m != NULL);
	if (m != NULL)
		check(t_look(m, "a", ""));
	map_close(m);
	check(map_open("inline:a=b", 0, &t_why) == NULL);
	check(strstr(buf_str(&t_why), "expected inline:{") != NULL);
	check(map_open("inline:{ {a=b }", 0, &t_why) == NULL);
	check(strstr(buf_str(&t_why), "missing '}'") != NULL);
	check(map_open("inline:{ =b }", 0, &t_why) == NULL);
	check(strstr(buf_str(&t_why), "empty key") != NULL);
	check_int(map_build("static:1", MAP_FMT_POSTMAP, NULL, &t_why), ==,
	    MAP_BUILD_BADSPEC);
	check_int(map_build("inline:{a=b}", MAP_FMT_POSTMAP, NULL, &t_why),
	    ==, MAP_BUILD_BADSPEC);
	t_end();
}

static void
t_unsupported(void)
{
	static const char *const bad[] = {
		"nis:mail.aliases", "ldap:/etc/postfix/ldap.cf",
		"mysql:/etc/x.cf", "pcre:/etc/x.pcre", "regexp:/etc/x",
		"proxy:hash:/etc/aliases", "dbm:/etc/aliases",
	};
	static const char *const malformed[] = {
		"/etc/aliases", ":x", "hash:", "Hash:/etc/aliases",
		"hash /etc/aliases", "",
	};
	size_t	 i;

	for (i = 0; i < nitems(bad); i++) {
		errno = 0;
		check(map_open(bad[i], MAP_F_ALIASES, &t_why) == NULL);
		check_int(errno, ==, EPROTONOSUPPORT);
		check(strstr(buf_str(&t_why), "is not supported by correo") !=
		    NULL);
		check_int(map_build(bad[i], MAP_FMT_ALIASES, NULL, &t_why), ==,
		    MAP_BUILD_BADSPEC);
	}
	check(map_open("nis:mail.aliases", 0, &t_why) == NULL);
	check_str(buf_str(&t_why), "nis:mail.aliases: map type nis is not "
	    "supported by correo");
	for (i = 0; i < nitems(malformed); i++) {
		errno = 0;
		check(map_open(malformed[i], 0, &t_why) == NULL);
		check_int(errno, ==, EINVAL);
		check_int(map_build(malformed[i], MAP_FMT_ALIASES, NULL,
		    &t_why), ==, MAP_BUILD_BADSPEC);
	}
}

static void
t_missing(void)
{
	t_begin();
	check_int(t_write(t_path("aliases"), "root: jane\n", 0644), ==, 0);
	errno = 0;
	check(map_open(t_spec("hash", "aliases"), MAP_F_ALIASES, &t_why) ==
	    NULL);
	check_int(errno, ==, ENOENT);
	check(strstr(buf_str(&t_why), t_path("aliases.cdb")) != NULL);
	check(strstr(buf_str(&t_why), "run \"newaliases\" to build it from")
	    != NULL);
	errno = 0;
	check(map_open(t_spec("hash", "virtual"), 0, &t_why) == NULL);
	check_int(errno, ==, ENOENT);
	check(strstr(buf_str(&t_why), "newaliases -m hash:") != NULL);
	check_int(map_build(t_spec("hash", "virtual"), MAP_FMT_POSTMAP, NULL,
	    &t_why), ==, MAP_BUILD_NOINPUT);
	check(strstr(buf_str(&t_why), "No such file") != NULL);
	/* A directory is not a source. */
	check_int(mkdir(t_path("dir"), 0755), ==, 0);
	check_int(map_build(t_spec("hash", "dir"), MAP_FMT_POSTMAP, NULL,
	    &t_why), ==, MAP_BUILD_NOINPUT);
	check(strstr(buf_str(&t_why), "not a regular file") != NULL);
	t_end();
}

static void
t_stale(void)
{
	struct map	*m;
	struct timespec	 ts[2];

	t_begin();
	check_int(t_write(t_path("src"), "a b\n", 0644), ==, 0);
	ts[0].tv_sec = ts[1].tv_sec = time(NULL) - 100;
	ts[0].tv_nsec = ts[1].tv_nsec = 0;
	check_int(utimensat(AT_FDCWD, t_path("src"), ts, 0), ==, 0);
	check_int(map_build(t_spec("hash", "src"), MAP_FMT_POSTMAP, NULL,
	    &t_why), ==, MAP_BUILD_OK);
	m = map_open(t_spec("hash", "src"), 0, &t_why);
	check(m != NULL);
	if (m != NULL) {
		check_int(map_is_stale(m), ==, 0);
		ts[0].tv_sec = ts[1].tv_sec = time(NULL) + 100;
		check_int(utimensat(AT_FDCWD, t_path("src"), ts, 0), ==, 0);
		check_int(map_is_stale(m), ==, 1);
		/* A source that went away is not "newer". */
		check_int(unlink(t_path("src")), ==, 0);
		check_int(map_is_stale(m), ==, 0);
	}
	map_close(m);
	t_end();
}

static void
t_atomic(void)
{
	struct map	*m, *old;
	struct stat	 st1, st2;
	char		 tmp[64];

	t_begin();
	check_int(t_write(t_path("src"), "a one\nb two\n", 0644), ==, 0);
	check_int(map_build(t_spec("hash", "src"), MAP_FMT_POSTMAP, NULL,
	    &t_why), ==, MAP_BUILD_OK);
	check_int(stat(t_path("src.cdb"), &st1), ==, 0);
	old = map_open(t_spec("hash", "src"), 0, &t_why);
	check(old != NULL);

	/* A syntax error: the old database stays, no temporary is left. */
	check_int(t_write(t_path("src"), "a uno\nb dos\nc\n", 0644), ==, 0);
	check_int(map_build(t_spec("hash", "src"), MAP_FMT_POSTMAP, NULL,
	    &t_why), ==, MAP_BUILD_DATAERR);
	check_str(buf_str(&t_why), t_fmt_line("src", 3,
	    "expected format: key whitespace value"));
	check_int(stat(t_path("src.cdb"), &st2), ==, 0);
	check(st1.st_ino == st2.st_ino);
	check_int(t_nfiles(), ==, 0);

	/* A temporary name that cannot be used: CANTCREAT, old db kept. */
	check_int(t_write(t_path("src"), "a uno\nb dos\n", 0644), ==, 0);
	check(bsnprintf(tmp, sizeof(tmp), "src.cdb.tmp.%ld",
	    (long)getpid()) == 0);
	check_int(mkdir(t_path(tmp), 0755), ==, 0);
	check_int(map_build(t_spec("hash", "src"), MAP_FMT_POSTMAP, NULL,
	    &t_why), ==, MAP_BUILD_CANTCREAT);
	check(strstr(buf_str(&t_why), "create ") != NULL);
	check_int(rmdir(t_path(tmp)), ==, 0);
	check_int(stat(t_path("src.cdb"), &st2), ==, 0);
	check(st1.st_ino == st2.st_ino);

	/* A stale temporary file of this PID is replaced. */
	check_int(t_write(t_path(tmp), "junk", 0644), ==, 0);
	check_int(map_build(t_spec("hash", "src"), MAP_FMT_POSTMAP, NULL,
	    &t_why), ==, MAP_BUILD_OK);
	check_int(t_nfiles(), ==, 0);
	check_int(stat(t_path("src.cdb"), &st2), ==, 0);
	check(st1.st_ino != st2.st_ino);

	/* The open map still sees the old table; a new one the new. */
	if (old != NULL) {
		check(t_look(old, "a", "one"));
		check(t_look(old, "b", "two"));
	}
	m = map_open(t_spec("hash", "src"), 0, &t_why);
	check(m != NULL);
	if (m != NULL) {
		check(t_look(m, "a", "uno"));
		check(t_look(m, "b", "dos"));
	}
	map_close(m);
	map_close(old);

	/* The rename fails (a directory is in the way): IOERR, cleaned. */
	check_int(mkdir(t_path("d"), 0755), ==, 0);
	check_int(t_write(t_path("d/x"), "x", 0644), ==, 0);
	check_int(t_write(t_path("d2"), "k v\n", 0644), ==, 0);
	check_int(rename(t_path("d"), t_path("d2.cdb")), ==, 0);
	check_int(map_build(t_spec("hash", "d2"), MAP_FMT_POSTMAP, NULL,
	    &t_why), ==, MAP_BUILD_IOERR);
	check(strstr(buf_str(&t_why), "rename ") != NULL);
	check(bsnprintf(tmp, sizeof(tmp), "d2.cdb.tmp.%ld",
	    (long)getpid()) == 0);
	check(access(t_path(tmp), F_OK) != 0);
	t_end();
}

static void
t_modes(void)
{
	struct stat	 st;
	mode_t		 old = umask(077);

	t_begin();
	check_int(t_write(t_path("open"), "k v\n", 0644), ==, 0);
	check_int(t_write(t_path("secret"), "smtp.example.org user:pw\n",
	    0600), ==, 0);
	check_int(t_write(t_path("group"), "k v\n", 0640), ==, 0);
	check_int(map_build(t_spec("hash", "open"), MAP_FMT_POSTMAP, NULL,
	    &t_why), ==, MAP_BUILD_OK);
	check_int(map_build(t_spec("hash", "secret"), MAP_FMT_POSTMAP, NULL,
	    &t_why), ==, MAP_BUILD_OK);
	check_int(map_build(t_spec("hash", "group"), MAP_FMT_POSTMAP, NULL,
	    &t_why), ==, MAP_BUILD_OK);
	check_int(stat(t_path("open.cdb"), &st), ==, 0);
	check_int(st.st_mode & 07777, ==, 0644);
	check_int(stat(t_path("secret.cdb"), &st), ==, 0);
	check_int(st.st_mode & 07777, ==, 0600);
	check_int(stat(t_path("group.cdb"), &st), ==, 0);
	check_int(st.st_mode & 07777, ==, 0600);
	umask(old);
	t_end();
}

static void
t_limits(void)
{
	struct buf	 src, small;
	struct map	*m;
	char		*big;

	t_begin();
	buf_init(&src, 4 * MAP_LINE_MAX);
	big = malloc(MAP_LINE_MAX + 2);
	check(big != NULL);
	if (big == NULL)
		return;

	/* A value of exactly MAP_VALUE_MAX bytes. */
	memset(big, 'v', MAP_VALUE_MAX);
	buf_adds(&src, "max ");
	buf_add(&src, big, MAP_VALUE_MAX);
	buf_adds(&src, "\n");
	check_int(t_write_n(t_path("src"), src.data, src.len, 0644), ==, 0);
	check_int(map_build(t_spec("hash", "src"), MAP_FMT_POSTMAP, NULL,
	    &t_why), ==, MAP_BUILD_OK);
	m = map_open(t_spec("hash", "src"), 0, &t_why);
	check(m != NULL);
	if (m != NULL) {
		check_int(map_lookup(m, "max", &t_val, &t_why), ==, MAP_FOUND);
		check_int(t_val.len, ==, MAP_VALUE_MAX);
		/* The caller's buffer is smaller: an error, not a cut. */
		buf_init(&small, 100);
		check_int(map_lookup(m, "max", &small, &t_why), ==,
		    MAP_ERROR);
		check(strstr(buf_str(&t_why), "value too long") != NULL);
		buf_free(&small);
	}
	map_close(m);

	/* One byte more. */
	memset(big, 'v', MAP_VALUE_MAX + 1);
	buf_reset(&src);
	buf_adds(&src, "ok v\nmax ");
	buf_add(&src, big, MAP_VALUE_MAX + 1);
	buf_adds(&src, "\n");
	check_int(t_write_n(t_path("src"), src.data, src.len, 0644), ==, 0);
	check_int(map_build(t_spec("hash", "src"), MAP_FMT_POSTMAP, NULL,
	    &t_why), ==, MAP_BUILD_DATAERR);
	check_str(buf_str(&t_why), t_fmt_line("src", 2,
	    "value too long (more than 65536 bytes)"));

	/* A key of MAP_KEY_MAX + 1 bytes; a lookup of one is not found. */
	buf_reset(&src);
	memset(big, 'k', MAP_KEY_MAX + 1);
	buf_add(&src, big, MAP_KEY_MAX + 1);
	buf_adds(&src, " v\n");
	check_int(t_write_n(t_path("src"), src.data, src.len, 0644), ==, 0);
	check_int(map_build(t_spec("hash", "src"), MAP_FMT_POSTMAP, NULL,
	    &t_why), ==, MAP_BUILD_DATAERR);
	check(strstr(buf_str(&t_why), "key too long") != NULL);
	m = map_open("inline:{ a=b }", 0, &t_why);
	big[MAP_KEY_MAX + 1] = '\0';
	check(m != NULL && t_look(m, big, ""));
	map_close(m);

	/* A physical line past MAP_LINE_MAX. */
	buf_reset(&src);
	memset(big, 'x', MAP_LINE_MAX + 1);
	buf_adds(&src, "a b\nk ");
	buf_add(&src, big, MAP_LINE_MAX + 1);
	check_int(t_write_n(t_path("src"), src.data, src.len, 0644), ==, 0);
	check_int(map_build(t_spec("hash", "src"), MAP_FMT_POSTMAP, NULL,
	    &t_why), ==, MAP_BUILD_DATAERR);
	check_str(buf_str(&t_why), t_fmt_line("src", 2,
	    "line too long (more than 131072 bytes)"));

	/* A logical line past it, in continuation lines. */
	buf_reset(&src);
	buf_adds(&src, "k v\n");
	memset(big, 'y', 60000);
	buf_adds(&src, "k2 ");
	buf_add(&src, big, 60000);
	buf_adds(&src, "\n ");
	buf_add(&src, big, 60000);
	buf_adds(&src, "\n ");
	buf_add(&src, big, 60000);
	buf_adds(&src, "\n");
	check_int(t_write_n(t_path("src"), src.data, src.len, 0644), ==, 0);
	check_int(map_build(t_spec("hash", "src"), MAP_FMT_POSTMAP, NULL,
	    &t_why), ==, MAP_BUILD_DATAERR);
	check_str(buf_str(&t_why), t_fmt_line("src", 2,
	    "line too long (more than 131072 bytes)"));
	free(big);
	buf_free(&src);
	t_end();
}

static void
t_text(void)
{
	struct map_text	 t;
	struct buf	 line;
	int		 lineno = 0;
	static const char text[] =
	    "# comment\n"
	    "first line\n"
	    "  continued\n"
	    "\n"
	    "  # comment inside\n"
	    "\tagain   \n"
	    "second\r\n"
	    "   \n"
	    "third";

	buf_init(&line, MAP_LINE_MAX);
	map_text_mem(&t, "mem", text, sizeof(text) - 1);
	check_int(map_text_next(&t, &line, &lineno, &t_why), ==, 1);
	check_str(buf_str(&line), "first line continued again");
	check_int(lineno, ==, 2);
	check_int(map_text_next(&t, &line, &lineno, &t_why), ==, 1);
	check_str(buf_str(&line), "second");
	check_int(lineno, ==, 7);
	check_int(map_text_next(&t, &line, &lineno, &t_why), ==, 1);
	check_str(buf_str(&line), "third");
	check_int(lineno, ==, 9);
	check_int(map_text_next(&t, &line, &lineno, &t_why), ==, 0);
	check_int(map_text_next(&t, &line, &lineno, &t_why), ==, 0);
	map_text_close(&t);

	map_text_mem(&t, "mem", "  lead\n", 7);
	check_int(map_text_next(&t, &line, &lineno, &t_why), ==, -1);
	check_str(buf_str(&t_why), "mem, line 1: continuation line (it "
	    "starts with white space) with no line before it");
	map_text_close(&t);

	/* Reading ahead for continuation lines finds the error. */
	map_text_mem(&t, "mem", "a\nb\x01" "c\n", 6);
	check_int(map_text_next(&t, &line, &lineno, &t_why), ==, -1);
	check_str(buf_str(&t_why), "mem, line 2: control character (0x01) "
	    "in line");
	map_text_close(&t);

	map_text_mem(&t, "mem", "a\0b\n", 4);
	check_int(map_text_next(&t, &line, &lineno, &t_why), ==, -1);
	check_str(buf_str(&t_why), "mem, line 1: control character (0x00) "
	    "in line");
	map_text_close(&t);

	map_text_mem(&t, "mem", "", 0);
	check_int(map_text_next(&t, &line, &lineno, &t_why), ==, 0);
	map_text_close(&t);
	buf_free(&line);
}

static void
t_text_fd(void)
{
	struct map_text	 t;
	struct buf	 src, line;
	int		 fd, lineno = 0, n = 0, ok = 1, r;
	char		 want[64];

	/* Lines across the 64 KiB read(2) boundaries. */
	t_begin();
	buf_init(&src, 1 << 22);
	for (n = 0; n < 30000; n++)
		buf_printf(&src, "line%d %s\n", n,
		    n % 3 ? "v" : "value\n  more");
	check_int(t_write_n(t_path("src"), src.data, src.len, 0644), ==, 0);
	fd = open(t_path("src"), O_RDONLY);
	check(fd >= 0);
	check_int(map_text_fd(&t, "src", fd), ==, 0);
	buf_init(&line, MAP_LINE_MAX);
	for (n = 0; (r = map_text_next(&t, &line, &lineno, &t_why)) == 1;
	    n++) {
		bsnprintf(want, sizeof(want), "line%d %s", n,
		    n % 3 ? "v" : "value more");
		if (strcmp(buf_str(&line), want) != 0)
			ok = 0;
	}
	check_int(r, ==, 0);
	check_int(n, ==, 30000);
	check(ok);
	check_int(t.lineno, ==, 40000);
	map_text_close(&t);
	close(fd);
	buf_free(&src);
	buf_free(&line);
	t_end();
}

static void
t_dups(void)
{
	struct map_stats	 st;
	struct map		*m;

	t_begin();
	check_int(t_write(t_path("src"), "a 1\nb 2\nA 3\nc 4\na 5\n", 0644),
	    ==, 0);
	check_int(map_build(t_spec("hash", "src"), MAP_FMT_POSTMAP, &st,
	    &t_why), ==, MAP_BUILD_OK);
	check_int(st.entries, ==, 3);
	check_int(st.duplicates, ==, 2);
	check(t_logged("src, line 3: duplicate entry \"a\" (also at line 1): "
	    "the last one wins"));
	check(t_logged("src, line 5: duplicate entry \"a\" (also at line 3): "
	    "the last one wins"));
	m = map_open(t_spec("hash", "src"), 0, &t_why);
	check(m != NULL);
	if (m != NULL) {
		check(t_look(m, "a", "5"));
		check(t_look(m, "b", "2"));
		check(t_look(m, "c", "4"));
	}
	map_close(m);
	t_end();
}

static void
t_aliases_fmt(void)
{
	struct map	*m;

	t_begin();
	check_int(t_write(t_path("aliases"),
	    "# aliases\n"
	    "Postmaster: root\n"
	    "root: jane,\n"
	    "   \\root\n"
	    "\"A B\": \"|/bin/cat\"\n", 0644), ==, 0);
	check_int(map_build(t_spec("hash", "aliases"), MAP_FMT_ALIASES, NULL,
	    &t_why), ==, MAP_BUILD_OK);
	m = map_open(t_spec("hash", "aliases"), MAP_F_ALIASES, &t_why);
	check(m != NULL);
	if (m != NULL) {
		check(t_look(m, "postmaster", "root"));
		check(t_look(m, "ROOT", "jane, \\root"));
		check(t_look(m, "a b", "\"|/bin/cat\""));
	}
	map_close(m);
	check_int(t_write(t_path("aliases"), "root: jane\nbad line\n", 0644),
	    ==, 0);
	check_int(map_build(t_spec("hash", "aliases"), MAP_FMT_ALIASES, NULL,
	    &t_why), ==, MAP_BUILD_DATAERR);
	check_str(buf_str(&t_why), t_fmt_line("aliases", 2,
	    "missing colon after alias name"));
	t_end();
}

static void
t_corrupt(void)
{
	unsigned char	 img[4096];
	struct map	*m;
	size_t		 i;
	uint32_t	 h = 5381;
	const char	*k = "key";

	t_begin();
	check_int(t_write(t_path("src"), "", 0644), ==, 0);
	/* Too short to be a cdb file. */
	check_int(t_write(t_path("src.cdb"), "short", 0644), ==, 0);
	errno = 0;
	check(map_open(t_spec("hash", "src"), 0, &t_why) == NULL);
	check_int(errno, ==, EINVAL);
	check(strstr(buf_str(&t_why), "not a cdb database") != NULL);

	/* Tables and records that point outside the file. */
	for (i = 0; i < strlen(k); i++)
		h = ((h << 5) + h) ^ (unsigned char)k[i];
	memset(img, 0, sizeof(img));
	/* table h & 255 at 4000 with 100 slots: past the end */
	img[8 * (h & 0xff)] = 4000 & 0xff;
	img[8 * (h & 0xff) + 1] = 4000 >> 8;
	img[8 * (h & 0xff) + 4] = 100;
	check_int(t_write_n(t_path("src.cdb"), (char *)img, sizeof(img),
	    0644), ==, 0);
	m = map_open(t_spec("hash", "src"), 0, &t_why);
	check(m != NULL);
	if (m != NULL)
		check(t_look(m, "key", "ERROR"));
	map_close(m);

	/* One slot, whose record position is past the end. */
	memset(img, 0, sizeof(img));
	img[8 * (h & 0xff)] = 3000 & 0xff;
	img[8 * (h & 0xff) + 1] = 3000 >> 8;
	img[8 * (h & 0xff) + 4] = 1;
	for (i = 0; i < 4; i++)
		img[3000 + i] = (unsigned char)(h >> (8 * i));
	img[3004] = 0xf0;
	img[3005] = 0xff;
	check_int(t_write_n(t_path("src.cdb"), (char *)img, sizeof(img),
	    0644), ==, 0);
	m = map_open(t_spec("hash", "src"), 0, &t_why);
	check(m != NULL);
	if (m != NULL) {
		check(t_look(m, "key", "ERROR"));
		check(strstr(buf_str(&t_why), "corrupt database") != NULL);
	}
	map_close(m);

	/* A record whose lengths run past the end. */
	img[3004] = 0x00;
	img[3005] = 0x08;	/* record at 2048 */
	img[2048] = 3;
	img[2052] = 0xff;
	img[2053] = 0xff;
	memcpy(img + 2056, "key", 3);
	check_int(t_write_n(t_path("src.cdb"), (char *)img, sizeof(img),
	    0644), ==, 0);
	m = map_open(t_spec("hash", "src"), 0, &t_why);
	check(m != NULL);
	if (m != NULL)
		check(t_look(m, "key", "ERROR"));
	map_close(m);

	/* Fixed: a value of 2 bytes. */
	img[2052] = 2;
	img[2053] = 0;
	memcpy(img + 2059, "ok", 2);
	check_int(t_write_n(t_path("src.cdb"), (char *)img, sizeof(img),
	    0644), ==, 0);
	m = map_open(t_spec("hash", "src"), 0, &t_why);
	check(m != NULL);
	if (m != NULL) {
		check(t_look(m, "key", "ok"));
		check(t_look(m, "other", ""));
	}
	map_close(m);
	t_end();
}

static void
t_owner(void)
{
	struct map	*m;
	struct stat	 st;
	uid_t		 uid = (uid_t)-1;

	t_begin();
	check_int(t_write(t_path("src"), "k v\n", 0644), ==, 0);
	check_int(map_build(t_spec("hash", "src"), MAP_FMT_POSTMAP, NULL,
	    &t_why), ==, MAP_BUILD_OK);
	m = map_open(t_spec("hash", "src"), 0, &t_why);
	check(m != NULL);
	if (m != NULL) {
		check_int(map_owner(m, &uid), ==, 0);
		check_int(uid, ==, geteuid());
	}
	map_close(m);

	/* Root builds another user's table: the database is theirs. */
	if (geteuid() == 0) {
		check_int(chown(t_path("src"), 65534, 65534), ==, 0);
		check_int(map_build(t_spec("hash", "src"), MAP_FMT_POSTMAP,
		    NULL, &t_why), ==, MAP_BUILD_OK);
		check_int(stat(t_path("src.cdb"), &st), ==, 0);
		check_int(st.st_uid, ==, 65534);
		check_int(st.st_gid, ==, 65534);
		m = map_open(t_spec("hash", "src"), 0, &t_why);
		check(m != NULL && map_owner(m, &uid) == 0 && uid == 65534);
		map_close(m);
	} else
		tap_diag("not root: the change of owner is not tested");
	t_end();
}

int
main(void)
{
	buf_init(&t_why, 4096);
	buf_init(&t_val, MAP_VALUE_MAX);
	log_init("t-map", "test");
	TEST(t_hash, "hash/btree/lmdb/cdb: build and look up, postmap text");
	TEST(t_case, "keys as given, then lower-case");
	TEST(t_tinycdb, "20000 keys; tinycdb reads what map.c writes");
	TEST(t_texthash, "texthash: read at open, stale after a change");
	TEST(t_static_inline, "static: and inline:{...}");
	TEST(t_unsupported, "other types and malformed names are refused");
	TEST(t_missing, "a missing database names newaliases");
	TEST(t_stale, "a source newer than the database is stale");
	TEST(t_atomic, "a failed rebuild keeps the old database");
	TEST(t_modes, "database modes follow the source's readability");
	TEST(t_limits, "key, value and line limits");
	TEST(t_text, "logical lines: continuation, comments, errors");
	TEST(t_text_fd, "logical lines from a file, across reads");
	TEST(t_dups, "duplicate keys: warning naming both lines, last wins");
	TEST(t_aliases_fmt, "MAP_FMT_ALIASES builds from aliases(5) text");
	TEST(t_corrupt, "a corrupt database is an error, not a crash");
	TEST(t_owner, "map_owner is the database's owner");
	buf_free(&t_why);
	buf_free(&t_val);
	return test_done();
}
