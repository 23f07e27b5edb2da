/*
 * h-bounce.c - correo-test bounce: write a delivery status notice with
 * cmd/runq/bounce and print it
 *
 * stdin holds "key: value" lines describing the notice, an empty line,
 * then the original message (its content as queued, LF line ends):
 *
 *	kind: failure | delay | success
 *	queue_id, sender, to, myhostname, mail_name, envid, ret,
 *	postmaster_copy: strings (bounce_info)
 *	arrival, now, size_limit: numbers
 *	no_original: 1			(msg_fd -1: nothing attached)
 *	rcpt: ADDRESS			starts a recipient; then its
 *	orcpt, action, status, diagnostic, remote_mta: strings
 *	last_attempt, will_retry_until: numbers
 *
 * Values may hold \r, \n, \t, \\ and \xHH escapes (hostile input).
 * Defaults: kind failure, queue_id 1xVgEy0r0sjznd, sender
 * alice@example.org, myhostname host.example.org, now 1795400217,
 * size_limit 50000.
 *
 * The notice goes through a private spool in $TMPDIR (written with
 * spool_create, bounce_write, spool_finish, spool_commit and loaded
 * back), then is printed with its random MIME boundary replaced by
 * BOUNDARY and its own queue ID by NOTICEID, so the output is stable,
 * followed by "envelope body: ..." (the record bounce_write adds).  On
 * failure "error: reason" is printed and the exit status is 1.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/util.h"
#include "spool/spool.h"
#include "cmd/runq/bounce.h"
#include "t/helper/correo-test.h"

#define H_BOUNCE_IN_MAX		(16 * 1024 * 1024)
#define H_BOUNCE_RCPT_MAX	100
#define H_BOUNCE_PREFIX		"not the message\n"

static int	 h_bounce_rm(const char *, const struct stat *, int,
		    struct FTW *);
static char	*h_bounce_unescape(char *);
static int	 h_bounce_spec(char *, struct bounce_info *,
		    struct bounce_rcpt *, size_t *, int *, const char **);
static void	 h_bounce_print(const char *, size_t, const char *,
		    const char *);

/* h_bounce_rm - nftw's callback for the clean-up */
static int
h_bounce_rm(const char *path, const struct stat *st, int flag,
    struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

/* h_bounce_unescape - \r \n \t \\ \xHH in place; returns s */
static char *
h_bounce_unescape(char *s)
{
	char		*r = s, *w = s;
	unsigned	 v;

	while (*r != '\0') {
		if (*r != '\\' || r[1] == '\0') {
			*w++ = *r++;
			continue;
		}
		r++;
		switch (*r) {
		case 'r':
			*w++ = '\r';
			r++;
			break;
		case 'n':
			*w++ = '\n';
			r++;
			break;
		case 't':
			*w++ = '\t';
			r++;
			break;
		case 'x':
			if (sscanf(r + 1, "%2x", &v) == 1 && v != 0) {
				*w++ = (char)v;
				r += 3;
				break;
			}
			*w++ = '\\';
			break;
		default:
			*w++ = *r++;
			break;
		}
	}
	*w = '\0';
	return s;
}

/* h_bounce_spec - parse the spec lines (NUL-terminated text) */
static int
h_bounce_spec(char *spec, struct bounce_info *info, struct bounce_rcpt *r,
    size_t *n, int *no_original, const char **err)
{
	char		*line, *next, *val;
	long long	 num;
	struct bounce_rcpt *cur = NULL;

	for (line = spec; line != NULL && *line != '\0'; line = next) {
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		if ((val = strstr(line, ": ")) == NULL) {
			*err = "a line without \": \"";
			return -1;
		}
		*val = '\0';
		val = h_bounce_unescape(val + 2);
		num = 0;
		if (strcmp(line, "arrival") == 0 || strcmp(line, "now") == 0 ||
		    strcmp(line, "size_limit") == 0 ||
		    strcmp(line, "last_attempt") == 0 ||
		    strcmp(line, "will_retry_until") == 0 ||
		    strcmp(line, "no_original") == 0) {
			if (num_parse(val, 0, 1LL << 40, &num, err) != 0)
				return -1;
		}
		if (strcmp(line, "rcpt") == 0) {
			if (*n == H_BOUNCE_RCPT_MAX) {
				*err = "too many recipients";
				return -1;
			}
			cur = &r[(*n)++];
			cur->addr = val;
		} else if (strcmp(line, "kind") == 0)
			info->kind = strcmp(val, "delay") == 0 ? BOUNCE_DELAY :
			    strcmp(val, "success") == 0 ? BOUNCE_SUCCESS :
			    BOUNCE_FAILURE;
		else if (strcmp(line, "queue_id") == 0)
			info->queue_id = val;
		else if (strcmp(line, "sender") == 0)
			info->sender = val;
		else if (strcmp(line, "to") == 0)
			info->to = val;
		else if (strcmp(line, "myhostname") == 0)
			info->myhostname = val;
		else if (strcmp(line, "mail_name") == 0)
			info->mail_name = val;
		else if (strcmp(line, "envid") == 0)
			info->envid = val;
		else if (strcmp(line, "ret") == 0)
			info->ret = val;
		else if (strcmp(line, "postmaster_copy") == 0)
			info->postmaster_copy = val;
		else if (strcmp(line, "arrival") == 0)
			info->arrival = num;
		else if (strcmp(line, "now") == 0)
			info->now = num;
		else if (strcmp(line, "size_limit") == 0)
			info->size_limit = (size_t)num;
		else if (strcmp(line, "no_original") == 0)
			*no_original = num != 0;
		else if (cur == NULL) {
			*err = "a recipient field before \"rcpt\"";
			return -1;
		} else if (strcmp(line, "orcpt") == 0)
			cur->orcpt = val;
		else if (strcmp(line, "action") == 0)
			cur->action = val;
		else if (strcmp(line, "status") == 0)
			cur->status = val;
		else if (strcmp(line, "diagnostic") == 0)
			cur->diagnostic = val;
		else if (strcmp(line, "remote_mta") == 0)
			cur->remote_mta = val;
		else if (strcmp(line, "last_attempt") == 0)
			cur->last_attempt = num;
		else if (strcmp(line, "will_retry_until") == 0)
			cur->will_retry_until = num;
		else {
			*err = "an unknown key";
			return -1;
		}
	}
	return 0;
}

/* h_bounce_print - the notice, with the unstable strings replaced */
static void
h_bounce_print(const char *s, size_t len, const char *boundary,
    const char *id)
{
	size_t	 bl = strlen(boundary), il = strlen(id), i = 0;

	while (i < len) {
		if (bl > 0 && len - i >= bl && memcmp(s + i, boundary, bl) ==
		    0) {
			fputs("BOUNDARY", stdout);
			i += bl;
		} else if (il > 0 && len - i >= il && memcmp(s + i, id, il) ==
		    0) {
			fputs("NOTICEID", stdout);
			i += il;
		} else
			putchar(s[i++]);
	}
}

/* h_bounce - correo-test bounce < spec, empty line, original */
int
h_bounce(int argc, char **argv)
{
	struct bounce_info	 info;
	struct bounce_rcpt	 r[H_BOUNCE_RCPT_MAX];
	struct spool		 sp;
	struct spool_writer	 w;
	struct spool_msg	 m;
	struct buf		 in, why, out;
	char			 dir[256], path[300], id[SPOOL_ID_MAX];
	char			 boundary[128];
	const char		*tmp = getenv("TMPDIR"), *err = NULL;
	char			*orig, *b, *e;
	size_t			 n = 0, origlen;
	int			 fd = -1, no_original = 0, rc = 1, opened = 0;
	int			 loaded = 0;

	(void)argv;
	if (argc != 1) {
		fprintf(stderr, "usage: correo-test bounce < spec\n");
		return EX_USAGE;
	}
	buf_init(&in, H_BOUNCE_IN_MAX);
	buf_init(&why, 4096);
	buf_init(&out, H_BOUNCE_IN_MAX * 2);
	for (;;) {
		char	 chunk[65536];
		size_t	 k = fread(chunk, 1, sizeof(chunk), stdin);

		if (k == 0)
			break;
		if (buf_add(&in, chunk, k) != BUF_OK) {
			printf("error: input too large\n");
			goto out;
		}
	}
	if (in.data == NULL || (orig = strstr(in.data, "\n\n")) == NULL) {
		printf("error: no empty line after the spec\n");
		goto out;
	}
	orig[1] = '\0';
	orig += 2;
	origlen = in.len - (size_t)(orig - in.data);

	memset(&info, 0, sizeof(info));
	memset(r, 0, sizeof(r));
	info.kind = BOUNCE_FAILURE;
	info.queue_id = "1xVgEy0r0sjznd";
	info.sender = "alice@example.org";
	info.myhostname = "host.example.org";
	info.now = 1795400217;
	info.size_limit = BOUNCE_SIZE_LIMIT;
	if (h_bounce_spec(in.data, &info, r, &n, &no_original, &err) != 0) {
		printf("error: spec: %s\n", err);
		goto out;
	}

	if (bsnprintf(dir, sizeof(dir), "%s/h-bounce.XXXXXX", tmp ? tmp :
	    "/tmp") != 0 || mkdtemp(dir) == NULL) {
		printf("error: mkdtemp: %s\n", strerror(errno));
		goto out;
	}
	if (spool_open(&sp, dir, SPOOL_ADMIN | SPOOL_CREATE, &why) != 0) {
		printf("error: %s\n", buf_str(&why));
		goto rm;
	}
	opened = 1;
	/* The original sits after other bytes: offsets must be honoured. */
	if (bsnprintf(path, sizeof(path), "%s/original", dir) != 0 ||
	    (fd = open(path, O_RDWR | O_CREAT | O_EXCL, 0600)) < 0 ||
	    write_all(fd, H_BOUNCE_PREFIX, strlen(H_BOUNCE_PREFIX)) < 0 ||
	    write_all(fd, orig, origlen) < 0 ||
	    write_all(fd, "trailer\n", 8) < 0) {
		printf("error: %s: %s\n", path, strerror(errno));
		goto rm;
	}
	if (spool_create(&sp, &w, &why) != 0) {
		printf("error: %s\n", buf_str(&why));
		goto rm;
	}
	if (bounce_write(&w, &info, r, n, no_original ? -1 : fd,
	    (off_t)strlen(H_BOUNCE_PREFIX), (off_t)origlen, &why) != 0 ||
	    spool_env(&w, "time", "1795400217.000001") != 0 ||
	    spool_env(&w, "sender", "") != 0 ||
	    spool_add_rcpt(&w, "alice@example.org", NULL, NULL) != 0 ||
	    spool_finish(&w, &why) != 0 || spool_commit(&w, &why) != 0) {
		printf("error: %s\n", buf_str(&why));
		spool_abort(&w);
		goto rm;
	}
	if (str_copy(id, sizeof(id), w.id) != 0 || spool_load(&sp,
	    SPOOL_INCOMING, id, SPOOL_LOAD_PEEK, &m, &why) != 0) {
		printf("error: %s\n", buf_str(&why));
		goto rm;
	}
	loaded = 1;
	if (buf_pread(&out, m.fd, (size_t)m.content_len, m.content_off) !=
	    0) {
		printf("error: read the notice: %s\n", strerror(errno));
		goto rm;
	}
	boundary[0] = '\0';
	if ((b = strstr(out.data, "boundary=\"")) != NULL &&
	    (e = strchr(b + 10, '"')) != NULL && (size_t)(e - b - 10) <
	    sizeof(boundary)) {
		memcpy(boundary, b + 10, (size_t)(e - b - 10));
		boundary[e - b - 10] = '\0';
	}
	h_bounce_print(out.data, out.len, boundary, id);
	printf("envelope body: %s\n", m.body ? m.body : "(none)");
	rc = 0;
rm:
	if (loaded)
		spool_msg_free(&m);
	if (fd >= 0)
		close(fd);
	if (opened)
		spool_close(&sp);
	nftw(dir, h_bounce_rm, 16, FTW_DEPTH | FTW_PHYS);
out:
	buf_free(&in);
	buf_free(&why);
	buf_free(&out);
	return rc;
}
