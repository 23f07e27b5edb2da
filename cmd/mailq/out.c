/*
 * out.c - what the listing, -j and -c share: text made safe for a
 * terminal, JSON strings, times
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "common/util.h"
#include "spool/spool.h"
#include "cmd/mailq/mailq.h"

/*
 * mq_utf8_len - the length of the well-formed UTF-8 sequence that
 * starts at p (p[0] >= 0x80), or 0 when there is none: no overlong
 * forms, no surrogates, nothing above U+10FFFF (RFC 3629).
 */
size_t
mq_utf8_len(const unsigned char *p, size_t n)
{
	unsigned char	 lo = 0x80, hi = 0xbf;
	size_t		 len, i;

	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		len = 2;
	else if (p[0] >= 0xe0 && p[0] <= 0xef) {
		len = 3;
		if (p[0] == 0xe0)
			lo = 0xa0;
		else if (p[0] == 0xed)
			hi = 0x9f;
	} else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
		len = 4;
		if (p[0] == 0xf0)
			lo = 0x90;
		else if (p[0] == 0xf4)
			hi = 0x8f;
	} else
		return 0;
	if (n < len || p[1] < lo || p[1] > hi)
		return 0;
	for (i = 2; i < len; i++)
		if (p[i] < 0x80 || p[i] > 0xbf)
			return 0;
	return len;
}

/*
 * mq_put_printable - s for a terminal, as Postfix's printable(): a
 * control character, DEL or a byte that is not part of well-formed
 * UTF-8 prints as '?'.
 */
void
mq_put_printable(FILE *fp, const char *s)
{
	const unsigned char	*p = (const unsigned char *)s;
	size_t			 n = strlen(s), i, k;

	for (i = 0; i < n; i++) {
		if (p[i] >= 0x20 && p[i] < 0x7f)
			putc(p[i], fp);
		else if (p[i] >= 0x80 && (k = mq_utf8_len(p + i, n - i)) > 0) {
			fwrite(p + i, 1, k, fp);
			i += k - 1;
		} else
			putc('?', fp);
	}
}

/*
 * mq_put_json - s as a JSON string, quotes included (RFC 8259): '"' and
 * '\' escaped, control characters as \b \f \n \r \t or \u00XX, DEL as
 * \u007f, well-formed UTF-8 passed through, and every byte that is not
 * part of well-formed UTF-8 as \ufffd (the replacement character), so
 * the output is always valid JSON in UTF-8.
 */
void
mq_put_json(FILE *fp, const char *s)
{
	const unsigned char	*p = (const unsigned char *)s;
	size_t			 n = strlen(s), i, k;

	putc('"', fp);
	for (i = 0; i < n; i++) {
		switch (p[i]) {
		case '"':
			fputs("\\\"", fp);
			continue;
		case '\\':
			fputs("\\\\", fp);
			continue;
		case '\b':
			fputs("\\b", fp);
			continue;
		case '\f':
			fputs("\\f", fp);
			continue;
		case '\n':
			fputs("\\n", fp);
			continue;
		case '\r':
			fputs("\\r", fp);
			continue;
		case '\t':
			fputs("\\t", fp);
			continue;
		}
		if (p[i] < 0x20 || p[i] == 0x7f)
			fprintf(fp, "\\u%04x", p[i]);
		else if (p[i] < 0x80)
			putc(p[i], fp);
		else if ((k = mq_utf8_len(p + i, n - i)) > 0) {
			fwrite(p + i, 1, k, fp);
			i += k - 1;
		} else
			fputs("\\ufffd", fp);
	}
	putc('"', fp);
}

/*
 * mq_time_text - t as asctime(3) writes it, in local time and without
 * the newline: "Sat Jan  1 00:00:00" (19 characters), with " 2022"
 * appended when with_year.  Returns buf.
 */
const char *
mq_time_text(char *buf, size_t sz, long long t, int with_year)
{
	struct tm	 tm;
	time_t		 tt = (time_t)t;

	if (localtime_r(&tt, &tm) == NULL || strftime(buf, sz, with_year ?
	    "%a %b %e %H:%M:%S %Y" : "%a %b %e %H:%M:%S", &tm) == 0)
		str_copy(buf, sz, "??");
	return buf;
}

/*
 * mq_arrival - the arrival time in seconds, from the envelope's
 * "time: SECONDS.USEC"; 0 when it does not parse.
 */
long long
mq_arrival(const struct spool_msg *m)
{
	const char	*p;
	long long	 t = 0;

	for (p = m->time; p != NULL && *p >= '0' && *p <= '9'; p++) {
		if (__builtin_mul_overflow(t, 10, &t) ||
		    __builtin_add_overflow(t, *p - '0', &t))
			return 0;
	}
	return t;
}

/*
 * mq_queue_name - Postfix's name for where a message is: "incoming",
 * "deferred" (queue/), "hold", or "active" when a runner has it
 */
const char *
mq_queue_name(const struct spool_msg *m)
{
	if (m->dir == SPOOL_HOLD)
		return "hold";
	if (m->busy)
		return "active";
	return m->dir == SPOOL_QUEUE ? "deferred" : "incoming";
}
