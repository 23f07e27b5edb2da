/*
 * rcpt.c - sendmail's recipient list: qualified, converted, deduplicated
 */
#include <stdlib.h>
#include <string.h>

#include "common/addr.h"
#include "common/buf.h"
#include "common/conf.h"
#include "common/idn.h"
#include "common/util.h"
#include "cmd/sendmail/sendmail.h"

#define RCPT_MAX	100000	/* recipients in one submission */
#define RCPT_DEDUP_MAX	1000	/* Postfix's duplicate_filter_limit */

struct rcpt_walk {
	struct rcpt_list	*list;
	struct buf		*why;
	struct buf		 addr;
};

/*
 * qualify_addr - an address as it goes into the envelope: parsed as a
 * path (flags as addr_parse_path), a bare name qualified with
 * @$myorigin, the domain converted to A-labels.  "" stays the null path.
 */
int
qualify_addr(const char *in, size_t len, int flags, struct buf *out,
    struct buf *why)
{
	struct buf	 canon, local, domain;
	const char	*dom;
	int		 rc = -1;

	buf_init(&canon, ADDR_CANON_MAX);
	buf_init(&local, ADDR_CANON_MAX);
	buf_init(&domain, ADDR_DOMAIN_MAX + 1);
	if (addr_parse_path(in, len, flags | ADDR_UTF8, &canon, why) != 0)
		goto out;
	if (canon.len == 0) {
		buf_reset(out);
		rc = 0;
		goto out;
	}
	if (addr_split(buf_str(&canon), &local, &dom, why) != 0)
		goto out;
	if (dom == NULL)
		dom = conf_get("myorigin");
	if (idn_to_ascii(dom, &domain, why) != 0)
		goto out;
	buf_reset(out);
	rc = addr_make(buf_str(&local), local.len, buf_str(&domain), out,
	    why);
out:
	buf_free(&canon);
	buf_free(&local);
	buf_free(&domain);
	return rc;
}

/* rcpt_add - add one qualified address unless it is already there */
int
rcpt_add(struct rcpt_list *l, const char *addr)
{
	size_t	 i;

	for (i = 0; i < l->n && i < RCPT_DEDUP_MAX; i++)
		if (strcmp(l->addr[i], addr) == 0)
			return 0;
	if (l->n >= RCPT_MAX)
		return -1;
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 16;
		l->addr = xreallocarray(l->addr, l->cap, sizeof(char *));
	}
	l->addr[l->n++] = xstrdup(addr);
	return 0;
}

/* rcpt_free - forget the list */
void
rcpt_free(struct rcpt_list *l)
{
	size_t	 i;

	for (i = 0; i < l->n; i++)
		free(l->addr[i]);
	free(l->addr);
	l->addr = NULL;
	l->n = l->cap = 0;
}

/* rcpt_walk_one - addr_parse_list's callback */
static int
rcpt_walk_one(const struct addr_mbox *mb, void *arg)
{
	struct rcpt_walk	*w = arg;

	if (qualify_addr(mb->addr, strlen(mb->addr), ADDR_ALLOW_BARE,
	    &w->addr, w->why) != 0)
		return -1;
	if (rcpt_add(w->list, buf_str(&w->addr)) != 0) {
		buf_printf(w->why, "too many recipients (at most %d)",
		    RCPT_MAX);
		return -1;
	}
	return 0;
}

/*
 * rcpt_add_list - add every mailbox of an address list ("a, B <b@x>",
 * a To: value, a command-line argument) to the recipients.
 */
int
rcpt_add_list(struct rcpt_list *l, const char *value, size_t len,
    struct buf *why)
{
	struct rcpt_walk	 w;
	int			 rc;

	w.list = l;
	w.why = why;
	buf_init(&w.addr, ADDR_CANON_MAX);
	rc = addr_parse_list(value, len, rcpt_walk_one, &w, why);
	buf_free(&w.addr);
	return rc == 0 ? 0 : -1;
}
