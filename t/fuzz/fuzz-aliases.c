/*
 * fuzz-aliases.c - libFuzzer target for common/aliases (and map's
 * inline tables, which share the builder and the cdb reader)
 *
 * The input is parsed three ways:
 *   - as an aliases(5) file (aliases_parse_mem); each value it accepts
 *     is split, its elements joined again with aliases_format_element,
 *     and the joined value must split into the same elements;
 *   - as one stored value (aliases_split_value), with the same round
 *     trip when it splits;
 *   - as the inside of inline:{...}, opened as a map; each key it
 *     stored is looked up and must be found.
 * Anything else that goes wrong is a crash (abort), so that libFuzzer
 * reports it.  Warnings go to /dev/null.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/aliases.h"
#include "common/buf.h"
#include "common/log.h"
#include "common/map.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static int	 fuzz_collect(enum alias_kind, const char *, size_t, void *);
static int	 fuzz_join(enum alias_kind, const char *, size_t, void *);
static void	 fuzz_roundtrip(const char *, size_t);
static int	 fuzz_entry(void *, const char *, const char *, size_t, int,
		    struct buf *);

/* fuzz_collect - each element as kind, length, text */
static int
fuzz_collect(enum alias_kind kind, const char *text, size_t len, void *arg)
{
	struct buf	*out = arg;

	if (buf_printf(out, "%d %zu ", (int)kind, len) != BUF_OK ||
	    buf_add(out, text, len) != BUF_OK)
		abort();
	return 0;
}

/* fuzz_join - the elements joined again */
static int
fuzz_join(enum alias_kind kind, const char *text, size_t len, void *arg)
{
	struct buf	*joined = arg;

	if ((joined->len > 0 && buf_adds(joined, ", ") != BUF_OK) ||
	    aliases_format_element(joined, kind, text, len) != BUF_OK)
		abort();
	return 0;
}

/* fuzz_roundtrip - a value that splits splits the same when re-joined */
static void
fuzz_roundtrip(const char *value, size_t len)
{
	struct buf	 a, b, joined, why;

	buf_init(&a, 1 << 24);
	buf_init(&b, 1 << 24);
	buf_init(&joined, 1 << 24);
	buf_init(&why, 4096);
	if (aliases_split_value(value, len, fuzz_collect, &a, &why) == 0) {
		if (aliases_split_value(value, len, fuzz_join, &joined,
		    &why) != 0)
			abort();
		/* A joined value may grow past the limit: then stop. */
		if (joined.len <= MAP_VALUE_MAX) {
			if (aliases_split_value(buf_str(&joined), joined.len,
			    fuzz_collect, &b, &why) != 0 || a.len != b.len ||
			    memcmp(buf_str(&a), buf_str(&b), a.len) != 0) {
				fprintf(stderr, "round trip: [%.*s] -> [%s]\n",
				    (int)len, value, buf_str(&joined));
				abort();
			}
		}
	}
	buf_free(&a);
	buf_free(&b);
	buf_free(&joined);
	buf_free(&why);
}

/* fuzz_entry - an accepted entry: names are lower-case, values split */
static int
fuzz_entry(void *arg, const char *name, const char *value, size_t vlen,
    int lineno, struct buf *why)
{
	const char	*p;

	(void)arg;
	(void)why;
	if (*name == '\0' || lineno < 1 || vlen == 0)
		abort();
	for (p = name; *p != '\0'; p++)
		if (*p >= 'A' && *p <= 'Z')
			abort();
	fuzz_roundtrip(value, vlen);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	static int	 ready;
	struct buf	 why, spec, value, key;
	struct map	*m;
	const char	*text = (const char *)data, *p, *eq;

	if (!ready) {
		log_init("fuzz-aliases", "fuzz");
		log_stderr(0);
		log_open(NULL, "/dev/null");
		ready = 1;
	}
	buf_init(&why, 4096);
	(void)aliases_parse_mem("fuzz", text, len, fuzz_entry, NULL, &why);
	fuzz_roundtrip(text, len);

	/* inline:{ INPUT }: what it stores, it finds. */
	buf_init(&spec, MAP_SPEC_MAX);
	buf_init(&value, MAP_VALUE_MAX);
	buf_init(&key, MAP_KEY_MAX + 1);
	if (memchr(text, '\0', len) == NULL &&
	    buf_adds(&spec, "inline:{") == BUF_OK &&
	    buf_add(&spec, text, len) == BUF_OK &&
	    buf_adds(&spec, "}") == BUF_OK &&
	    (m = map_open(buf_str(&spec), 0, &why)) != NULL) {
		/* A simple first element "k=v" must be there. */
		for (p = text; p < text + len && (*p == ' ' || *p == ','); p++)
			;
		for (eq = p; eq < text + len && strchr(" \t,{}=", *eq) == NULL;
		    eq++)
			;
		if (eq < text + len && *eq == '=' && eq > p &&
		    buf_add(&key, p, (size_t)(eq - p)) == BUF_OK &&
		    map_lookup(m, buf_str(&key), &value, &why) != MAP_FOUND)
			abort();
		(void)map_lookup(m, "postmaster", &value, &why);
		map_close(m);
	}
	buf_free(&spec);
	buf_free(&value);
	buf_free(&key);
	buf_free(&why);
	return 0;
}
