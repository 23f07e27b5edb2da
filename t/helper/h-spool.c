/*
 * h-spool.c - correo-test spool-dump and spool-fill
 *
 *	spool-dump FILE
 *		A queue file's records in a canonical form, one per line:
 *		"version: 1", "envelope_offset: N", "content_offset: N",
 *		"content_length: N", then every "key: value" envelope
 *		record in file order, then per recipient "rcpt: ADDRESS"
 *		and, indented, "state: S", "flags: F", "attempts: N",
 *		"next: N", "orcpt: X", "notify: X" (when present) and
 *		"reply: TEXT" (when not empty); "busy" when a runner holds
 *		the file; "end".  Control bytes, bytes >= 0x7f and '\'
 *		print as \ooo (a backslash as \\).  A file that does not
 *		load prints "error: reason" and exits 1.
 *
 *	spool-fill [options] N
 *		Queue N messages the way sendmail does (spool_create,
 *		spool_write, spool_env, spool_add_rcpt, spool_finish,
 *		spool_commit) and print their queue IDs, one a line.
 *		-q dir		queue_directory (default: the one in
 *				$CORREO_CONFIG)
 *		-f sender	envelope sender ("" is the null sender;
 *				default sender@example.org)
 *		-r rcpt		a recipient (repeatable; default
 *				rcpt@example.org)
 *		-m file		the content (default a short message)
 *		-t time		the "time" record (default now)
 *		-e key=value	one more envelope record (repeatable)
 *		-a attempts, -n next
 *				written into every recipient afterwards
 *				with spool_rcpt_update
 *		-R reply	the last reply, likewise: one -R for every
 *				recipient, or one per recipient in order
 *				("" for none)
 *		-S states	recipient i gets state states[i] (P D F B)
 *		-X		write the -R reply as it is, control
 *				characters included, past the cleaning
 *				spool_rcpt_update does (hostile files)
 *		-D dir		move the messages to incoming (default),
 *				queue or hold
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/conf.h"
#include "common/log.h"
#include "common/util.h"
#include "spool/spool.h"
#include "t/helper/correo-test.h"

#define H_FILL_MAX	1000000		/* messages at one go */
#define H_FILL_RCPTS	64		/* -r options */
#define H_FILL_ENV	16		/* -e options */
#define H_CONTENT_MAX	(16 * 1024 * 1024)
#define H_DEFAULT_CONTENT \
	"From: sender@example.org\nTo: rcpt@example.org\n" \
	"Subject: spool-fill\n\nA test message.\n"

struct h_fill {
	const char	*qdir;
	const char	*sender;
	const char	*rcpt[H_FILL_RCPTS];
	size_t		 nrcpt;
	const char	*env[H_FILL_ENV];
	size_t		 nenv;
	const char	*time;
	const char	*states;
	const char	*reply[H_FILL_RCPTS];
	size_t		 nreply;
	long long	 attempts, next;
	int		 set_attempts, set_next, raw;
	enum spool_dir	 dir;
	struct buf	 content;
};

static void	 h_put(const char *);
static int	 h_dump_record(const char *, const char *, void *);
static int	 h_fill_usage(void);
static int	 h_fill_update(struct h_fill *, struct spool *, const char *,
		    struct buf *);
static int	 h_fill_one(struct h_fill *, struct spool *, struct buf *);
static int	 h_read_file(const char *, struct buf *);

/* h_put - text with control bytes, bytes >= 0x7f and '\' as \ooo */
static void
h_put(const char *s)
{
	const unsigned char	*p = (const unsigned char *)s;

	for (; *p != '\0'; p++) {
		if (*p == '\\')
			fputs("\\\\", stdout);
		else if (*p < 0x20 || *p >= 0x7f)
			printf("\\%03o", *p);
		else
			putchar(*p);
	}
}

/* h_dump_record - spool_env_each callback */
static int
h_dump_record(const char *key, const char *val, void *arg)
{
	(void)arg;
	h_put(key);
	fputs(": ", stdout);
	h_put(val);
	putchar('\n');
	return 0;
}

int
h_spool_dump(int argc, char **argv)
{
	struct spool		 sp;
	struct spool_msg	 m;
	struct spool_rcpt	*r;
	struct buf		 why;
	char			 dir[PATH_MAX], base[PATH_MAX];
	size_t			 i;
	int			 d, rc = 1;

	if (argc != 2) {
		fprintf(stderr, "usage: spool-dump FILE\n");
		return 2;
	}
	if (str_copy(dir, sizeof(dir), argv[1]) != 0 ||
	    str_copy(base, sizeof(base), argv[1]) != 0) {
		fprintf(stderr, "spool-dump: path too long\n");
		return 2;
	}
	/* A spool of one directory: the file's own. */
	memset(&sp, 0, sizeof(sp));
	sp.rootfd = -1;
	for (d = 0; d < SPOOL_NDIRS; d++)
		sp.dirfd[d] = -1;
	sp.dirfd[SPOOL_QUEUE] = open(dirname(dir), O_RDONLY | O_DIRECTORY |
	    O_CLOEXEC);
	if (sp.dirfd[SPOOL_QUEUE] < 0) {
		fprintf(stderr, "spool-dump: %s: %s\n", dir, strerror(errno));
		return 2;
	}
	buf_init(&why, 4096);
	if (spool_load(&sp, SPOOL_QUEUE, basename(base), SPOOL_LOAD_PEEK, &m,
	    &why) != 0)
		goto out;
	printf("version: %d\nenvelope_offset: %lld\ncontent_offset: %lld\n"
	    "content_length: %lld\n", SPOOL_VERSION, (long long)m.env_off,
	    (long long)m.content_off, (long long)m.content_len);
	if (spool_env_each(&m, h_dump_record, NULL, &why) != 0) {
		spool_msg_free(&m);
		goto out;
	}
	for (i = 0; i < m.nrcpt; i++) {
		r = &m.rcpt[i];
		fputs("rcpt: ", stdout);
		h_put(r->addr);
		printf("\n  state: %c\n  flags: %c\n  attempts: %ld\n"
		    "  next: %lld\n", r->state, r->flags, r->attempts,
		    r->next);
		if (r->orcpt != NULL)
			h_dump_record("  orcpt", r->orcpt, NULL);
		if (r->notify != NULL)
			h_dump_record("  notify", r->notify, NULL);
		if (r->reply[0] != '\0')
			h_dump_record("  reply", r->reply, NULL);
		if (r->mark_dev != 0 || r->mark_ino != 0 || r->mark_len != 0 ||
		    r->mark_stamp != 0)
			printf("  mark: dev %llu ino %llu len %lld stamp %lld\n",
			    r->mark_dev, r->mark_ino, r->mark_len,
			    r->mark_stamp);
	}
	if (m.busy)
		printf("busy\n");
	printf("end\n");
	spool_msg_free(&m);
	rc = 0;
out:
	if (rc != 0)
		printf("error: %s\n", buf_str(&why));
	close(sp.dirfd[SPOOL_QUEUE]);
	buf_free(&why);
	return rc;
}

/* h_fill_usage - spool-fill's synopsis */
static int
h_fill_usage(void)
{
	fprintf(stderr, "usage: spool-fill [-X] [-q dir] [-f sender] "
	    "[-r rcpt]... [-m file] [-t time]\n"
	    "                  [-e key=value]... [-a attempts] [-n next] "
	    "[-R reply]... [-S states]\n"
	    "                  [-D incoming|queue|hold] N\n");
	return 2;
}

/* h_read_file - the whole of a (small) file */
static int
h_read_file(const char *path, struct buf *b)
{
	char	 chunk[8192];
	ssize_t	 n;
	int	 fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return -1;
	buf_reset(b);
	while ((n = read(fd, chunk, sizeof(chunk))) > 0)
		if (buf_add(b, chunk, (size_t)n) != BUF_OK) {
			close(fd);
			errno = EFBIG;
			return -1;
		}
	close(fd);
	return n < 0 ? -1 : 0;
}

/*
 * h_fill_update - the recipient fields the options ask for, written
 * in place; with -X the reply goes in byte for byte
 */
static int
h_fill_update(struct h_fill *f, struct spool *sp, const char *id,
    struct buf *why)
{
	struct spool_msg	 m;
	struct spool_rcpt	*r;
	const char		*reply;
	char			 raw[SPOOL_REPLY_MAX];
	size_t			 i, n;
	int			 rc = 0;

	if (spool_load(sp, SPOOL_INCOMING, id, SPOOL_LOAD_WRITE, &m,
	    why) != 0)
		return -1;
	for (i = 0; i < m.nrcpt && rc == 0; i++) {
		r = &m.rcpt[i];
		if (f->states != NULL && i < strlen(f->states))
			r->state = f->states[i];
		if (f->set_attempts)
			r->attempts = (long)f->attempts;
		if (f->set_next)
			r->next = f->next;
		reply = f->nreply == 1 ? f->reply[0] : i < f->nreply ?
		    f->reply[i] : NULL;
		if (reply != NULL && *reply == '\0')
			reply = NULL;
		if (reply != NULL && !f->raw &&
		    str_copy(r->reply, sizeof(r->reply), reply) != 0) {
			buf_printf(why, "-R: reply too long");
			rc = -1;
			break;
		}
		rc = spool_rcpt_update(&m, i, why);
		if (rc == 0 && reply != NULL && f->raw) {
			n = strlen(reply);
			if (n > sizeof(raw) || memchr(reply, '\n', n)) {
				buf_printf(why, "-R: reply too long or "
				    "holds a newline");
				rc = -1;
				break;
			}
			memset(raw, ' ', sizeof(raw));
			memcpy(raw, reply, n);
			if (pwrite(m.fd, raw, sizeof(raw), r->reply_off) !=
			    (ssize_t)sizeof(raw)) {
				buf_printf(why, "pwrite: %s", strerror(errno));
				rc = -1;
			}
		}
	}
	spool_msg_free(&m);
	return rc;
}

/* h_fill_one - queue one message and print its ID */
static int
h_fill_one(struct h_fill *f, struct spool *sp, struct buf *why)
{
	struct spool_writer	 w;
	struct timespec		 ts;
	char			 tbuf[64], *eq, key[256];
	size_t			 i;
	int			 rc = 0;

	clock_gettime(CLOCK_REALTIME, &ts);
	if (bsnprintf(tbuf, sizeof(tbuf), "%lld.%06ld", (long long)ts.tv_sec,
	    ts.tv_nsec / 1000) != 0)
		return -1;
	if (spool_create(sp, &w, why) != 0)
		return -1;
	rc |= spool_write(&w, f->content.data, f->content.len);
	rc |= spool_env(&w, "time", f->time ? f->time : tbuf);
	rc |= spool_env(&w, "origin", "local uid=0 user=spool-fill");
	rc |= spool_env(&w, "sender", f->sender);
	rc |= spool_env(&w, "body", "7BIT");
	for (i = 0; i < f->nenv && rc == 0; i++) {
		if ((eq = strchr(f->env[i], '=')) == NULL ||
		    bsnprintf(key, sizeof(key), "%.*s",
		    (int)(eq - f->env[i]), f->env[i]) != 0) {
			buf_printf(why, "-e %s: use key=value", f->env[i]);
			spool_abort(&w);
			return -1;
		}
		rc |= spool_env(&w, key, eq + 1);
	}
	for (i = 0; i < f->nrcpt; i++)
		rc |= spool_add_rcpt(&w, f->rcpt[i], NULL, NULL);
	if (rc != 0) {
		buf_printf(why, "envelope: %s", strerror(errno));
		spool_abort(&w);
		return -1;
	}
	if (spool_finish(&w, why) != 0 || spool_commit(&w, why) != 0) {
		spool_abort(&w);
		return -1;
	}
	if ((f->set_attempts || f->set_next || f->nreply || f->states) &&
	    h_fill_update(f, sp, w.id, why) != 0)
		return -1;
	if (f->dir != SPOOL_INCOMING &&
	    spool_move(sp, w.id, SPOOL_INCOMING, f->dir, why) != 0)
		return -1;
	printf("%s\n", w.id);
	return 0;
}

int
h_spool_fill(int argc, char **argv)
{
	struct h_fill	 f;
	struct spool	 sp;
	struct buf	 why;
	const char	*err, *cfg;
	long long	 n, i;
	int		 c, rc = 1;

	memset(&f, 0, sizeof(f));
	f.sender = "sender@example.org";
	f.dir = SPOOL_INCOMING;
	buf_init(&f.content, H_CONTENT_MAX);
	buf_init(&why, 4096);
	while ((c = getopt(argc, argv, "D:R:S:Xa:e:f:m:n:q:r:t:")) != -1) {
		switch (c) {
		case 'D':
			if (strcmp(optarg, "incoming") == 0)
				f.dir = SPOOL_INCOMING;
			else if (strcmp(optarg, "queue") == 0)
				f.dir = SPOOL_QUEUE;
			else if (strcmp(optarg, "hold") == 0)
				f.dir = SPOOL_HOLD;
			else
				return h_fill_usage();
			break;
		case 'R':
			if (f.nreply == H_FILL_RCPTS)
				return h_fill_usage();
			f.reply[f.nreply++] = optarg;
			break;
		case 'S':
			f.states = optarg;
			break;
		case 'X':
			f.raw = 1;
			break;
		case 'a':
			if (num_parse(optarg, 0, 99999, &f.attempts,
			    &err) != 0)
				return h_fill_usage();
			f.set_attempts = 1;
			break;
		case 'e':
			if (f.nenv == H_FILL_ENV)
				return h_fill_usage();
			f.env[f.nenv++] = optarg;
			break;
		case 'f':
			f.sender = optarg;
			break;
		case 'm':
			if (h_read_file(optarg, &f.content) != 0) {
				fprintf(stderr, "spool-fill: %s: %s\n",
				    optarg, strerror(errno));
				return 2;
			}
			break;
		case 'n':
			if (num_parse(optarg, 0, 9999999999LL, &f.next,
			    &err) != 0)
				return h_fill_usage();
			f.set_next = 1;
			break;
		case 'q':
			f.qdir = optarg;
			break;
		case 'r':
			if (f.nrcpt == H_FILL_RCPTS)
				return h_fill_usage();
			f.rcpt[f.nrcpt++] = optarg;
			break;
		case 't':
			f.time = optarg;
			break;
		default:
			return h_fill_usage();
		}
	}
	if (optind + 1 != argc ||
	    num_parse(argv[optind], 1, H_FILL_MAX, &n, &err) != 0)
		return h_fill_usage();
	if (f.nrcpt == 0)
		f.rcpt[f.nrcpt++] = "rcpt@example.org";
	if (f.content.len == 0)
		buf_sets(&f.content, H_DEFAULT_CONTENT);

	/* Tests must not write the system's mail log. */
	log_open(NULL, "/dev/null");
	if (f.qdir == NULL) {
		if ((cfg = getenv("CORREO_CONFIG")) == NULL ||
		    conf_load(cfg, &why) != 0) {
			fprintf(stderr, "spool-fill: no -q and no usable "
			    "CORREO_CONFIG: %s\n", buf_str(&why));
			return 2;
		}
		f.qdir = conf_get("queue_directory");
	}
	if (spool_open(&sp, f.qdir, SPOOL_ADMIN | SPOOL_CREATE, &why) != 0)
		goto out;
	for (i = 0; i < n; i++)
		if (h_fill_one(&f, &sp, &why) != 0) {
			spool_close(&sp);
			goto out;
		}
	spool_close(&sp);
	rc = 0;
out:
	if (rc != 0)
		fprintf(stderr, "spool-fill: %s\n", buf_str(&why));
	if (fflush(stdout) != 0)
		rc = 1;
	buf_free(&f.content);
	buf_free(&why);
	conf_reset();
	return rc;
}
