/*
 * map.c - Postfix-style lookup tables (see map.h)
 *
 * Every table that holds pairs -- a cdb file, a texthash file read at
 * open time, an inline:{...} list -- ends up as one cdb(5) image, on
 * disk (mapped) or in memory, and one lookup function serves them all.
 * The format is written and read here, from its description in cdb(5):
 *
 *	a table of contents: 256 pairs (position, slots) of 32-bit
 *	    little-endian numbers, one per hash table;
 *	the records: key length, value length, key, value;
 *	the hash tables: (hash, record position) pairs, twice as many
 *	    slots as keys, an empty slot having position 0.
 *
 * The hash of a key is h = 5381, then h = ((h << 5) + h) ^ c for each
 * byte; its low 8 bits pick the table, the rest divided by the table's
 * slots the first slot probed.  A reader checks every number against
 * the file's size before it follows it, so a corrupt file is an error,
 * never a stray read.  The files are those of tinycdb and djb's cdb
 * ("cdb -q /etc/aliases.cdb root" works); map.c needs neither.
 *
 * The builder (struct map_builder) collects pairs with an index by hash
 * so that a key given twice replaces the earlier value (with a
 * warning), then lays out the image in one allocation of exactly the
 * right size.
 */
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/aliases.h"
#include "common/buf.h"
#include "common/log.h"
#include "common/map.h"
#include "common/util.h"

#define MAP_CDB_TOC	2048		/* 256 (position, slots) pairs */
#define MAP_CDB_NTAB	256
#define MAP_CDB_MAX	UINT32_MAX	/* 32-bit positions */
#define MAP_TEXT_CHUNK	65536		/* read(2) size */
#define MAP_CLIP	200		/* untrusted text in a message */
#define MAP_WHY_MAX	4096		/* a reason kept inside map.c */

enum map_kind {
	MAP_K_CDB,		/* hash, btree, lmdb, cdb: PATH.cdb */
	MAP_K_TEXTHASH,		/* the text, read at open */
	MAP_K_STATIC,		/* one value for every key */
	MAP_K_INLINE,		/* inline:{ key=value, ... } */
};

static const struct {
	const char	*type;
	enum map_kind	 kind;
} map_types[] = {
	{ "hash", MAP_K_CDB },
	{ "btree", MAP_K_CDB },
	{ "lmdb", MAP_K_CDB },
	{ "cdb", MAP_K_CDB },
	{ "texthash", MAP_K_TEXTHASH },
	{ "static", MAP_K_STATIC },
	{ "inline", MAP_K_INLINE },
};

struct map {
	char		*spec;		/* "type:name" as given */
	char		*source;	/* the text file, or the spec */
	enum map_kind	 kind;
	int		 flags;		/* enum map_flags */
	const unsigned char *db;	/* the cdb image */
	size_t		 dbsize;
	void		*mapped;	/* db is this mapping (munmap) */
	unsigned char	*image;		/* db is this allocation (free) */
	char		*value;		/* static: */
	size_t		 vlen;
	struct timespec	 mtime;		/* cdb: the database's; texthash:
					 * the source's, when read */
	uid_t		 owner;
	int		 have_owner;
};

struct map_rec {
	uint32_t	 hash;
	int		 line;
	size_t		 koff, klen;	/* in the arena */
	size_t		 voff, vlen;
};

struct map_builder {
	const char	*name;		/* the source, for messages */
	struct buf	 arena;		/* keys and values */
	struct map_rec	*recs;
	size_t		 nrecs, caprecs;
	uint32_t	*index;		/* record number + 1; 0: empty */
	size_t		 icap;		/* a power of two */
	size_t		 dups;
};

static int	 map_fail(struct buf *, int, const char *, ...)
		    __attribute__((format(printf, 3, 4)));
static int	 map_isspace(int);
static int	 map_isctl(int);
static uint32_t	 map_hash(const void *, size_t);
static uint32_t	 map_get32(const unsigned char *);
static void	 map_put32(unsigned char *, uint32_t);
static int	 map_parse_spec(const char *, enum map_kind *, const char **,
		    struct buf *);
static int	 map_text_getline(struct map_text *, struct buf *);
static void	 mb_init(struct map_builder *, const char *);
static void	 mb_free(struct map_builder *);
static int	 mb_grow_index(struct map_builder *);
static int	 mb_add(struct map_builder *, const char *, size_t,
		    const char *, size_t, int, struct buf *);
static int	 mb_finish(struct map_builder *, unsigned char **, size_t *,
		    struct buf *);
static int	 map_postmap_line(struct map_builder *, const char *,
		    const char *, size_t, int, struct buf *);
static int	 map_alias_entry(void *, const char *, const char *, size_t,
		    int, struct buf *);
static int	 map_load_text(struct map_builder *, struct map_text *,
		    enum map_fmt, struct buf *);
static int	 map_load_inline(struct map_builder *, const char *,
		    struct buf *);
static int	 map_cdb_find(const unsigned char *, size_t, const char *,
		    size_t, const unsigned char **, size_t *);
static int	 map_open_file(const char *, const char *, struct stat *,
		    struct buf *);
static int	 map_open_cdb(struct map *, const char *, struct buf *);
static int	 map_open_text(struct map *, const char *, struct buf *);
static int	 map_open_static(struct map *, const char *, struct buf *);
static int	 map_open_inline(struct map *, const char *, struct buf *);
static enum map_result map_find(struct map *, const char *, size_t,
		    struct buf *, struct buf *);
static int	 map_ts_after(const struct timespec *,
		    const struct timespec *);
static enum map_build_status map_build_errno(int);
static enum map_build_status map_write_db(const char *,
		    const struct stat *, const unsigned char *, size_t,
		    struct buf *);

/* map_fail - a reason into why, errno set to err; returns -1 */
static int
map_fail(struct buf *why, int err, const char *fmt, ...)
{
	va_list	 ap;

	if (why != NULL) {
		buf_reset(why);
		va_start(ap, fmt);
		(void)buf_vprintf(why, fmt, ap);
		va_end(ap);
	}
	errno = err;
	return -1;
}

/* map_isspace - white space inside a line: a space or a tab */
static int
map_isspace(int c)
{
	return c == ' ' || c == '\t';
}

/* map_isctl - a control character other than a tab */
static int
map_isctl(int c)
{
	unsigned char	 u = (unsigned char)c;

	return (u < 0x20 && u != '\t') || u == 0x7f;
}

/* map_hash - cdb's hash of n bytes */
static uint32_t
map_hash(const void *p, size_t n)
{
	const unsigned char	*s = p;
	uint32_t		 h = 5381;
	size_t			 i;

	for (i = 0; i < n; i++)
		h = ((h << 5) + h) ^ s[i];
	return h;
}

/* map_get32 - a little-endian 32-bit number */
static uint32_t
map_get32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 |
	    (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* map_put32 - store a little-endian 32-bit number */
static void
map_put32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)v;
	p[1] = (unsigned char)(v >> 8);
	p[2] = (unsigned char)(v >> 16);
	p[3] = (unsigned char)(v >> 24);
}

/*
 * map_parse_spec - split "type:name"; -1 with errno EINVAL (malformed)
 * or EPROTONOSUPPORT (a type correo does not have)
 */
static int
map_parse_spec(const char *spec, enum map_kind *kind, const char **name,
    struct buf *why)
{
	char		 clip[LOG_SAFE_MAX];
	const char	*colon, *p;
	size_t		 i, tlen;

	log_safe(clip, MAP_CLIP, spec, strlen(spec));
	if (strlen(spec) > MAP_SPEC_MAX)
		return map_fail(why, EINVAL, "map name too long: %s", clip);
	if ((colon = strchr(spec, ':')) == NULL || colon == spec)
		return map_fail(why, EINVAL, "map name %s is not type:name "
		    "(for example hash:%s)", clip, clip);
	tlen = (size_t)(colon - spec);
	for (p = spec; p < colon; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
		    *p == '_'))
			return map_fail(why, EINVAL, "map name %s is not "
			    "type:name", clip);
	for (i = 0; i < nitems(map_types); i++) {
		if (strlen(map_types[i].type) == tlen &&
		    memcmp(map_types[i].type, spec, tlen) == 0)
			break;
	}
	if (i == nitems(map_types))
		return map_fail(why, EPROTONOSUPPORT, "%s: map type %.*s is "
		    "not supported by correo", clip, (int)tlen, spec);
	if (colon[1] == '\0')
		return map_fail(why, EINVAL, "map name %s: nothing after "
		    "the type", clip);
	*kind = map_types[i].kind;
	*name = colon + 1;
	return 0;
}

/*
 * The logical-line reader.
 */

/* map_text_fd - read the text from fd (not closed here); -1 ENOMEM */
int
map_text_fd(struct map_text *t, const char *name, int fd)
{
	memset(t, 0, sizeof(*t));
	t->fd = fd;
	t->name = name;
	buf_init(&t->phys, MAP_LINE_MAX);
	if ((t->rbuf = malloc(MAP_TEXT_CHUNK)) == NULL)
		return -1;
	t->mem = t->rbuf;
	return 0;
}

/* map_text_mem - read the text from memory (borrowed) */
void
map_text_mem(struct map_text *t, const char *name, const char *text,
    size_t len)
{
	memset(t, 0, sizeof(*t));
	t->fd = -1;
	t->name = name;
	t->mem = text;
	t->len = len;
	t->eof = 1;
	buf_init(&t->phys, MAP_LINE_MAX);
}

/* map_text_close - release the reader (not the fd, not the memory) */
void
map_text_close(struct map_text *t)
{
	free(t->rbuf);
	t->rbuf = NULL;
	t->mem = NULL;
	buf_free(&t->phys);
}

/* map_text_getline - the next physical line into t->phys: 1, 0 or -1 */
static int
map_text_getline(struct map_text *t, struct buf *why)
{
	const char	*nl;
	size_t		 n;
	ssize_t		 r;
	int		 rc;

	buf_reset(&t->phys);
	for (;;) {
		if (t->off == t->len) {
			if (t->eof) {
				if (t->phys.len == 0)
					return 0;
				t->lineno++;
				return 1;
			}
			r = read(t->fd, t->rbuf, MAP_TEXT_CHUNK);
			if (r < 0 && errno == EINTR)
				continue;
			if (r < 0)
				return map_fail(why, errno, "read %s: %s",
				    t->name, strerror(errno));
			if (r == 0)
				t->eof = 1;
			t->len = (size_t)r;
			t->off = 0;
			continue;
		}
		nl = memchr(t->mem + t->off, '\n', t->len - t->off);
		n = nl != NULL ? (size_t)(nl - (t->mem + t->off)) :
		    t->len - t->off;
		if ((rc = buf_add(&t->phys, t->mem + t->off, n)) != BUF_OK)
			return map_fail(why, rc == BUF_NOMEM ? ENOMEM : EINVAL,
			    "%s, line %d: line too long (more than %d bytes)",
			    t->name, t->lineno + 1, MAP_LINE_MAX);
		t->off += n;
		if (nl != NULL) {
			t->off++;
			t->lineno++;
			return 1;
		}
	}
}

/* map_text_next - the next logical line: 1, 0 at the end, or -1 */
int
map_text_next(struct map_text *t, struct buf *out, int *lineno,
    struct buf *why)
{
	const char	*s;
	size_t		 n, i;
	int		 r, rc;

	buf_reset(out);
	for (;;) {
		if (!t->ahead) {
			if ((r = map_text_getline(t, why)) < 0)
				return -1;
			if (r == 0)
				return out->len > 0 ? 1 : 0;
		}
		t->ahead = 0;
		s = buf_str(&t->phys);
		n = t->phys.len;
		if (n > 0 && s[n - 1] == '\r')
			n--;
		for (i = 0; i < n; i++)
			if (map_isctl(s[i]))
				return map_fail(why, EINVAL, "%s, line %d: "
				    "control character (0x%02x) in line",
				    t->name, t->lineno, (unsigned char)s[i]);
		while (n > 0 && map_isspace(s[n - 1]))
			n--;
		for (i = 0; i < n && map_isspace(s[i]); i++)
			;
		if (i == n || s[i] == '#')
			continue;	/* empty, or a comment */
		if (i > 0) {
			if (out->len == 0)
				return map_fail(why, EINVAL, "%s, line %d: "
				    "continuation line (it starts with white "
				    "space) with no line before it",
				    t->name, t->lineno);
			if ((rc = buf_addc(out, ' ')) != BUF_OK ||
			    (rc = buf_add(out, s + i, n - i)) != BUF_OK)
				return map_fail(why, rc == BUF_NOMEM ? ENOMEM :
				    EINVAL, "%s, line %d: line too long (more "
				    "than %d bytes)", t->name, *lineno,
				    MAP_LINE_MAX);
			continue;
		}
		if (out->len > 0) {
			t->ahead = 1;
			return 1;
		}
		*lineno = t->lineno;
		if ((rc = buf_add(out, s, n)) != BUF_OK)
			return map_fail(why, rc == BUF_NOMEM ? ENOMEM : EINVAL,
			    "%s, line %d: line too long", t->name, t->lineno);
	}
}

/*
 * The builder.
 */

/* mb_init - an empty table whose messages name name */
static void
mb_init(struct map_builder *mb, const char *name)
{
	memset(mb, 0, sizeof(*mb));
	mb->name = name;
	buf_init(&mb->arena, MAP_CDB_MAX);
}

/* mb_free - release everything */
static void
mb_free(struct map_builder *mb)
{
	buf_free(&mb->arena);
	free(mb->recs);
	free(mb->index);
	mb->recs = NULL;
	mb->index = NULL;
}

/* mb_grow_index - double the index (at least 64 slots) and rehash */
static int
mb_grow_index(struct map_builder *mb)
{
	uint32_t	*nidx;
	size_t		 ncap, i, j;

	ncap = mb->icap ? mb->icap * 2 : 64;
	if (ncap > SIZE_MAX / sizeof(*nidx) || ncap / 2 > MAP_CDB_MAX)
		return -1;
	if ((nidx = calloc(ncap, sizeof(*nidx))) == NULL)
		return -1;
	for (i = 0; i < mb->nrecs; i++) {
		for (j = mb->recs[i].hash & (ncap - 1); nidx[j] != 0;
		    j = (j + 1) & (ncap - 1))
			;
		nidx[j] = (uint32_t)(i + 1);
	}
	free(mb->index);
	mb->index = nidx;
	mb->icap = ncap;
	return 0;
}

/*
 * mb_add - add a pair (the key already folded); a key seen before gets
 * the new value, with a warning.  -1 with errno ENOMEM or EFBIG.
 */
static int
mb_add(struct map_builder *mb, const char *key, size_t klen,
    const char *val, size_t vlen, int line, struct buf *why)
{
	struct map_rec	*r, *nrecs;
	char		 clip[LOG_SAFE_MAX];
	uint32_t	 h = map_hash(key, klen);
	size_t		 j, koff, voff, ncap;
	int		 rc;

	if ((mb->nrecs + 1) * 2 > mb->icap && mb_grow_index(mb) != 0)
		return map_fail(why, ENOMEM, "%s: out of memory", mb->name);
	for (j = h & (mb->icap - 1); mb->index[j] != 0;
	    j = (j + 1) & (mb->icap - 1)) {
		r = &mb->recs[mb->index[j] - 1];
		if (r->hash != h || r->klen != klen ||
		    memcmp(mb->arena.data + r->koff, key, klen) != 0)
			continue;
		voff = mb->arena.len;
		if ((rc = buf_add(&mb->arena, val, vlen)) != BUF_OK)
			goto toobig;
		log_safe(clip, MAP_CLIP, key, klen);
		if (line > 0)
			log_warnx("%s, line %d: duplicate entry \"%s\" (also "
			    "at line %d): the last one wins", mb->name, line,
			    clip, r->line);
		else
			log_warnx("%s: duplicate entry \"%s\": the last one "
			    "wins", mb->name, clip);
		r->voff = voff;
		r->vlen = vlen;
		r->line = line;
		mb->dups++;
		return 0;
	}
	if (mb->nrecs == mb->caprecs) {
		ncap = mb->caprecs ? mb->caprecs * 2 : 64;
		if (ncap > SIZE_MAX / sizeof(*nrecs) ||
		    (nrecs = realloc(mb->recs, ncap * sizeof(*nrecs))) == NULL)
			return map_fail(why, ENOMEM, "%s: out of memory",
			    mb->name);
		mb->recs = nrecs;
		mb->caprecs = ncap;
	}
	koff = mb->arena.len;
	if ((rc = buf_add(&mb->arena, key, klen)) != BUF_OK)
		goto toobig;
	voff = mb->arena.len;
	if ((rc = buf_add(&mb->arena, val, vlen)) != BUF_OK) {
		buf_truncate(&mb->arena, koff);
		goto toobig;
	}
	r = &mb->recs[mb->nrecs];
	r->hash = h;
	r->line = line;
	r->koff = koff;
	r->klen = klen;
	r->voff = voff;
	r->vlen = vlen;
	mb->index[j] = (uint32_t)(mb->nrecs + 1);
	mb->nrecs++;
	return 0;

toobig:
	if (rc == BUF_NOMEM)
		return map_fail(why, ENOMEM, "%s: out of memory", mb->name);
	return map_fail(why, EFBIG, "%s: too big for a database (4 GiB)",
	    mb->name);
}

/*
 * mb_finish - the cdb image of the table, in one allocation of
 * exactly its size (*image, *size; the caller frees it)
 */
static int
mb_finish(struct map_builder *mb, unsigned char **image, size_t *size,
    struct buf *why)
{
	uint32_t	 count[MAP_CDB_NTAB] = { 0 }, tpos[MAP_CDB_NTAB];
	uint32_t	 tlen, slot;
	unsigned char	*img, *sp;
	struct map_rec	*r;
	size_t		 total = MAP_CDB_TOC, i, b, pos, t;

	for (i = 0; i < mb->nrecs; i++) {
		r = &mb->recs[i];
		count[r->hash & 0xff]++;
		/* 8 + key + value, and two slots of 8 bytes */
		if (__builtin_add_overflow(total, 24, &total) ||
		    __builtin_add_overflow(total, r->klen, &total) ||
		    __builtin_add_overflow(total, r->vlen, &total) ||
		    total > MAP_CDB_MAX)
			return map_fail(why, EFBIG, "%s: too big for a "
			    "database (4 GiB)", mb->name);
	}
	if ((img = calloc(1, total)) == NULL)
		return map_fail(why, ENOMEM, "%s: out of memory", mb->name);
	/* The tables follow the records. */
	t = total - 16 * mb->nrecs;
	for (b = 0; b < MAP_CDB_NTAB; b++) {
		tpos[b] = (uint32_t)t;
		map_put32(img + 8 * b, (uint32_t)t);
		map_put32(img + 8 * b + 4, 2 * count[b]);
		t += (size_t)16 * count[b];
	}
	pos = MAP_CDB_TOC;
	for (i = 0; i < mb->nrecs; i++) {
		r = &mb->recs[i];
		map_put32(img + pos, (uint32_t)r->klen);
		map_put32(img + pos + 4, (uint32_t)r->vlen);
		memcpy(img + pos + 8, mb->arena.data + r->koff, r->klen);
		if (r->vlen > 0)
			memcpy(img + pos + 8 + r->klen,
			    mb->arena.data + r->voff, r->vlen);
		b = r->hash & 0xff;
		tlen = 2 * count[b];
		for (slot = (r->hash >> 8) % tlen;; slot = (slot + 1) % tlen) {
			sp = img + tpos[b] + (size_t)8 * slot;
			if (map_get32(sp + 4) == 0)
				break;
		}
		map_put32(sp, r->hash);
		map_put32(sp + 4, (uint32_t)pos);
		pos += 8 + r->klen + r->vlen;
	}
	*image = img;
	*size = total;
	return 0;
}

/*
 * The source formats.
 */

/* map_postmap_line - one "key value" logical line */
static int
map_postmap_line(struct map_builder *mb, const char *name, const char *s,
    size_t n, int lineno, struct buf *why)
{
	char		 key[MAP_KEY_MAX + 1];
	size_t		 klen, v;

	for (klen = 0; klen < n && !map_isspace(s[klen]); klen++)
		;
	for (v = klen; v < n && map_isspace(s[v]); v++)
		;
	if (v == n)
		return map_fail(why, EINVAL, "%s, line %d: expected format: "
		    "key whitespace value", name, lineno);
	if (klen > MAP_KEY_MAX)
		return map_fail(why, EINVAL, "%s, line %d: key too long "
		    "(more than %d bytes)", name, lineno, MAP_KEY_MAX);
	if (n - v > MAP_VALUE_MAX)
		return map_fail(why, EINVAL, "%s, line %d: value too long "
		    "(more than %d bytes)", name, lineno, MAP_VALUE_MAX);
	memcpy(key, s, klen);
	key[klen] = '\0';
	str_lower(key);
	return mb_add(mb, key, klen, s + v, n - v, lineno, why);
}

/* map_alias_entry - aliases_parse() callback: one entry into the table */
static int
map_alias_entry(void *arg, const char *name, const char *value,
    size_t vlen, int lineno, struct buf *why)
{
	struct map_builder	*mb = arg;

	return mb_add(mb, name, strlen(name), value, vlen, lineno, why);
}

/* map_load_text - every entry of a text source into the table */
static int
map_load_text(struct map_builder *mb, struct map_text *t, enum map_fmt fmt,
    struct buf *why)
{
	struct buf	 line;
	int		 lineno = 0, r;

	if (fmt == MAP_FMT_ALIASES)
		return aliases_parse(t, map_alias_entry, mb, why);
	buf_init(&line, MAP_LINE_MAX);
	while ((r = map_text_next(t, &line, &lineno, why)) == 1) {
		if (map_postmap_line(mb, t->name, line.data, line.len, lineno,
		    why) != 0) {
			r = -1;
			break;
		}
	}
	buf_free(&line);
	return r == 0 ? 0 : -1;
}

/*
 * map_load_inline - the pairs of inline:{ key=value, { key = text } }:
 * elements separated by commas or white space, an element in braces
 * may hold both, white space around '=' in it is dropped
 */
static int
map_load_inline(struct map_builder *mb, const char *text, struct buf *why)
{
	char		 key[MAP_KEY_MAX + 1], clip[LOG_SAFE_MAX];
	const char	*p, *end, *e, *q, *eq, *v;
	size_t		 n, klen, vlen;
	int		 depth, nth = 0;

	p = text;
	end = p + strlen(p);
	while (p < end && map_isspace(*p))
		p++;
	while (end > p && map_isspace(end[-1]))
		end--;
	if (end - p < 2 || *p != '{' || end[-1] != '}')
		return map_fail(why, EINVAL, "%s: expected "
		    "inline:{ key=value, ... }", mb->name);
	p++;
	end--;
	for (;;) {
		while (p < end && (*p == ',' || map_isspace(*p)))
			p++;
		if (p == end)
			break;
		nth++;
		if (*p == '{') {
			for (q = p + 1, depth = 1; q < end; q++) {
				if (*q == '{')
					depth++;
				else if (*q == '}' && --depth == 0)
					break;
			}
			if (q == end)
				return map_fail(why, EINVAL, "%s: element %d: "
				    "missing '}'", mb->name, nth);
			e = p + 1;
			n = (size_t)(q - e);
			p = q + 1;
		} else {
			for (q = p; q < end && *q != ',' && !map_isspace(*q);
			    q++)
				;
			e = p;
			n = (size_t)(q - p);
			p = q;
		}
		log_safe(clip, MAP_CLIP, e, n);
		if ((eq = memchr(e, '=', n)) == NULL)
			return map_fail(why, EINVAL, "%s: element %d: missing "
			    "'=' in \"%s\"", mb->name, nth, clip);
		/* The value: after the '=', trimmed. */
		v = eq + 1;
		vlen = (size_t)(e + n - v);
		while (vlen > 0 && map_isspace(*v)) {
			v++;
			vlen--;
		}
		while (vlen > 0 && map_isspace(v[vlen - 1]))
			vlen--;
		/* The key: before it, trimmed. */
		for (klen = (size_t)(eq - e); klen > 0 &&
		    map_isspace(e[klen - 1]); klen--)
			;
		while (klen > 0 && map_isspace(*e)) {
			e++;
			klen--;
		}
		if (klen == 0 || klen > MAP_KEY_MAX)
			return map_fail(why, EINVAL, "%s: element %d: %s key "
			    "in \"%s\"", mb->name, nth,
			    klen == 0 ? "empty" : "too long", clip);
		if (vlen > MAP_VALUE_MAX)
			return map_fail(why, EINVAL, "%s: element %d: value "
			    "too long", mb->name, nth);
		memcpy(key, e, klen);
		key[klen] = '\0';
		str_lower(key);
		if (mb_add(mb, key, klen, v, vlen, 0, why) != 0)
			return -1;
	}
	return 0;
}

/*
 * Lookups.
 */

/*
 * map_cdb_find - the value of key in a cdb image: 1 found, 0 not
 * found, -1 the image is corrupt
 */
static int
map_cdb_find(const unsigned char *db, size_t size, const char *key,
    size_t klen, const unsigned char **val, size_t *vlen)
{
	uint32_t	 h = map_hash(key, klen), tpos, tlen, slot, i;
	uint32_t	 sh, rp, kl, vl;
	const unsigned char *sp;

	tpos = map_get32(db + 8 * (h & 0xff));
	tlen = map_get32(db + 8 * (h & 0xff) + 4);
	if (tlen == 0)
		return 0;
	if (tpos < MAP_CDB_TOC || tpos > size || tlen > (size - tpos) / 8)
		return -1;
	slot = (h >> 8) % tlen;
	for (i = 0; i < tlen; i++) {
		sp = db + tpos + (size_t)8 * slot;
		sh = map_get32(sp);
		rp = map_get32(sp + 4);
		if (rp == 0)
			return 0;
		if (sh == h) {
			if (rp > size - 8)
				return -1;
			kl = map_get32(db + rp);
			vl = map_get32(db + rp + 4);
			if (kl > size - rp - 8 || vl > size - rp - 8 - kl)
				return -1;
			if (kl == klen && memcmp(db + rp + 8, key, klen) == 0) {
				*val = db + rp + 8 + kl;
				*vlen = vl;
				return 1;
			}
		}
		if (++slot == tlen)
			slot = 0;
	}
	return 0;
}

/*
 * map_open_file - open a regular file for reading; -1 with "open PATH:
 * reason" (errno kept) or "PATH: not a regular file" (EINVAL) in why
 */
static int
map_open_file(const char *path, const char *what, struct stat *st,
    struct buf *why)
{
	int	 fd, saved;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY |
	    O_NONBLOCK)) < 0) {
		saved = errno;
		return map_fail(why, saved, "open %s%s: %s", what, path,
		    strerror(saved));
	}
	if (fstat(fd, st) != 0) {
		saved = errno;
		close(fd);
		return map_fail(why, saved, "fstat %s: %s", path,
		    strerror(saved));
	}
	if (!S_ISREG(st->st_mode)) {
		close(fd);
		return map_fail(why, EINVAL, "%s%s: not a regular file", what,
		    path);
	}
	return fd;
}

/* map_open_cdb - map PATH.cdb into memory */
static int
map_open_cdb(struct map *m, const char *path, struct buf *why)
{
	struct buf	 db;
	struct stat	 st;
	void		*p;
	int		 fd, saved;

	buf_init(&db, PATH_MAX);
	if (buf_printf(&db, "%s.cdb", path) != BUF_OK)
		return map_fail(why, ENAMETOOLONG, "%s: file name too long",
		    m->spec);
	if ((fd = map_open_file(db.data, "database ", &st, why)) < 0) {
		saved = errno;
		if (saved == ENOENT && (m->flags & MAP_F_ALIASES))
			map_fail(why, saved, "open database %s: %s (run "
			    "\"newaliases\" to build it from %s)", db.data,
			    strerror(saved), path);
		else if (saved == ENOENT)
			map_fail(why, saved, "open database %s: %s (run "
			    "\"newaliases -m %s\" to build it from %s)",
			    db.data, strerror(saved), m->spec, path);
		buf_free(&db);
		return -1;
	}
	if (st.st_size < MAP_CDB_TOC || (uintmax_t)st.st_size > MAP_CDB_MAX) {
		map_fail(why, EINVAL, "database %s: not a cdb database (%lld "
		    "bytes): run newaliases again", db.data,
		    (long long)st.st_size);
		close(fd);
		buf_free(&db);
		return -1;
	}
	p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_SHARED, fd, 0);
	saved = errno;
	close(fd);
	if (p == MAP_FAILED) {
		map_fail(why, saved, "mmap %s: %s", db.data, strerror(saved));
		buf_free(&db);
		return -1;
	}
	buf_free(&db);
	m->mapped = p;
	m->db = p;
	m->dbsize = (size_t)st.st_size;
	m->mtime = st.st_mtim;
	m->owner = st.st_uid;
	m->have_owner = 1;
	return 0;
}

/* map_open_text - texthash: read and index the source now */
static int
map_open_text(struct map *m, const char *path, struct buf *why)
{
	struct map_builder	 mb;
	struct map_text		 t;
	struct stat		 st;
	int			 fd, saved, rc;

	if ((fd = map_open_file(path, "", &st, why)) < 0)
		return -1;
	if (map_text_fd(&t, path, fd) != 0) {
		close(fd);
		return map_fail(why, ENOMEM, "%s: out of memory", path);
	}
	mb_init(&mb, path);
	rc = map_load_text(&mb, &t, (m->flags & MAP_F_ALIASES) ?
	    MAP_FMT_ALIASES : MAP_FMT_POSTMAP, why);
	if (rc == 0)
		rc = mb_finish(&mb, &m->image, &m->dbsize, why);
	saved = errno;
	map_text_close(&t);
	mb_free(&mb);
	close(fd);
	if (rc != 0) {
		errno = saved;
		return -1;
	}
	m->db = m->image;
	m->mtime = st.st_mtim;
	m->owner = st.st_uid;
	m->have_owner = 1;
	return 0;
}

/* map_open_static - static:VALUE, static:{ VALUE } */
static int
map_open_static(struct map *m, const char *text, struct buf *why)
{
	const char	*p = text, *end = text + strlen(text);

	if (*p == '{' && end > p && end[-1] == '}') {
		for (p++, end--; p < end && map_isspace(*p); p++)
			;
		while (end > p && map_isspace(end[-1]))
			end--;
	}
	if ((size_t)(end - p) > MAP_VALUE_MAX)
		return map_fail(why, EINVAL, "%s: value too long", m->spec);
	if ((m->value = strndup(p, (size_t)(end - p))) == NULL)
		return map_fail(why, ENOMEM, "%s: out of memory", m->spec);
	m->vlen = (size_t)(end - p);
	return 0;
}

/* map_open_inline - inline:{...}: the pairs, indexed in memory */
static int
map_open_inline(struct map *m, const char *text, struct buf *why)
{
	struct map_builder	 mb;
	char			 name[LOG_SAFE_MAX];
	int			 rc, saved;

	/* Messages quote the start of the table, not all of it. */
	log_safe(name, MAP_CLIP, m->spec, strlen(m->spec));
	mb_init(&mb, name);
	rc = map_load_inline(&mb, text, why);
	if (rc == 0)
		rc = mb_finish(&mb, &m->image, &m->dbsize, why);
	saved = errno;
	mb_free(&mb);
	if (rc != 0) {
		errno = saved;
		return -1;
	}
	m->db = m->image;
	return 0;
}

/*
 * map_open - open a table; NULL with a reason in why and errno
 * EPROTONOSUPPORT (a type correo does not have), ENOENT (a file or
 * database is missing), EINVAL (a malformed name, a syntax error in a
 * texthash or inline table, a corrupt database) or another errno
 */
struct map *
map_open(const char *spec, int flags, struct buf *why)
{
	struct map	*m;
	enum map_kind	 kind;
	const char	*name;
	int		 rc, saved;

	if (map_parse_spec(spec, &kind, &name, why) != 0)
		return NULL;
	if ((m = calloc(1, sizeof(*m))) == NULL ||
	    (m->spec = strdup(spec)) == NULL ||
	    (m->source = strdup(kind == MAP_K_CDB || kind == MAP_K_TEXTHASH ?
	    name : spec)) == NULL) {
		map_close(m);
		map_fail(why, ENOMEM, "%s: out of memory", spec);
		return NULL;
	}
	m->kind = kind;
	m->flags = flags;
	switch (kind) {
	case MAP_K_CDB:
		rc = map_open_cdb(m, name, why);
		break;
	case MAP_K_TEXTHASH:
		rc = map_open_text(m, name, why);
		break;
	case MAP_K_STATIC:
		rc = map_open_static(m, name, why);
		break;
	case MAP_K_INLINE:
	default:
		rc = map_open_inline(m, name, why);
		break;
	}
	if (rc != 0) {
		saved = errno;
		map_close(m);
		errno = saved;
		return NULL;
	}
	return m;
}

/* map_close - release a map; returns NULL */
struct map *
map_close(struct map *m)
{
	if (m == NULL)
		return NULL;
	if (m->mapped != NULL)
		munmap(m->mapped, m->dbsize);
	free(m->image);
	free(m->value);
	free(m->spec);
	free(m->source);
	free(m);
	return NULL;
}

/* map_find - one exact lookup */
static enum map_result
map_find(struct map *m, const char *key, size_t klen, struct buf *value,
    struct buf *why)
{
	const unsigned char	*v;
	size_t			 vlen;
	int			 rc;

	if (m->kind == MAP_K_STATIC) {
		v = (const unsigned char *)m->value;
		vlen = m->vlen;
	} else {
		rc = map_cdb_find(m->db, m->dbsize, key, klen, &v, &vlen);
		if (rc == 0)
			return MAP_NOTFOUND;
		if (rc < 0) {
			map_fail(why, EINVAL, "%s: corrupt database: run "
			    "newaliases again", m->spec);
			return MAP_ERROR;
		}
	}
	if (vlen > MAP_VALUE_MAX || (rc = buf_set(value, v, vlen)) ==
	    BUF_TOOBIG) {
		map_fail(why, EFBIG, "%s: value too long", m->spec);
		return MAP_ERROR;
	}
	if (rc != BUF_OK) {
		map_fail(why, ENOMEM, "%s: out of memory", m->spec);
		return MAP_ERROR;
	}
	return MAP_FOUND;
}

/* map_lookup - the key as given, then lower-case */
enum map_result
map_lookup(struct map *m, const char *key, struct buf *value,
    struct buf *why)
{
	char		 low[MAP_KEY_MAX + 1];
	enum map_result	 r;
	size_t		 klen = strlen(key), i;
	int		 differ = 0;

	if (m->kind != MAP_K_STATIC && klen > MAP_KEY_MAX)
		return MAP_NOTFOUND;
	if ((r = map_find(m, key, klen, value, why)) != MAP_NOTFOUND ||
	    m->kind == MAP_K_STATIC)
		return r;
	for (i = 0; i < klen; i++) {
		low[i] = key[i];
		if (low[i] >= 'A' && low[i] <= 'Z') {
			low[i] = (char)(low[i] - 'A' + 'a');
			differ = 1;
		}
	}
	if (!differ)
		return MAP_NOTFOUND;
	low[klen] = '\0';
	return map_find(m, low, klen, value, why);
}

/* map_ts_after - whether a is later than b */
static int
map_ts_after(const struct timespec *a, const struct timespec *b)
{
	return a->tv_sec > b->tv_sec ||
	    (a->tv_sec == b->tv_sec && a->tv_nsec > b->tv_nsec);
}

/*
 * map_is_stale - cdb: the source text is newer than the database that
 * was opened; texthash: the source changed since it was read
 */
int
map_is_stale(struct map *m)
{
	struct stat	 st;

	if ((m->kind != MAP_K_CDB && m->kind != MAP_K_TEXTHASH) ||
	    stat(m->source, &st) != 0)
		return 0;
	if (m->kind == MAP_K_CDB)
		return map_ts_after(&st.st_mtim, &m->mtime);
	return st.st_mtim.tv_sec != m->mtime.tv_sec ||
	    st.st_mtim.tv_nsec != m->mtime.tv_nsec;
}

/*
 * map_owner - who owns the file a table was read from (the database,
 * or the texthash source): 0, or -1 for static: and inline:
 */
int
map_owner(struct map *m, uid_t *uid)
{
	if (!m->have_owner)
		return -1;
	*uid = m->owner;
	return 0;
}

/* map_source - the text file (the spec for static: and inline:) */
const char *
map_source(const struct map *m)
{
	return m->source;
}

/* map_name - the spec, "type:name", as given */
const char *
map_name(const struct map *m)
{
	return m->spec;
}

/*
 * Building.
 */

/* map_build_errno - the build status for a parse that failed */
static enum map_build_status
map_build_errno(int err)
{
	switch (err) {
	case ENOMEM:
		return MAP_BUILD_NOMEM;
	case EINVAL:
	case EFBIG:
		return MAP_BUILD_DATAERR;
	default:
		return MAP_BUILD_IOERR;
	}
}

/*
 * map_write_db - the image into PATH.cdb: a temporary file, fsync,
 * rename, fsync the directory; on an error before the rename the
 * temporary file goes and the old database stays
 */
static enum map_build_status
map_write_db(const char *path, const struct stat *src,
    const unsigned char *img, size_t size, struct buf *why)
{
	enum map_build_status	 status = MAP_BUILD_IOERR;
	struct buf		 db, tmp, dir;
	mode_t			 mode;
	char			*slash;
	int			 fd = -1, dfd, saved, tries;

	buf_init(&db, PATH_MAX);
	buf_init(&tmp, PATH_MAX);
	buf_init(&dir, PATH_MAX);
	if (buf_printf(&db, "%s.cdb", path) != BUF_OK ||
	    buf_printf(&tmp, "%s.cdb.tmp.%ld", path, (long)getpid()) !=
	    BUF_OK || buf_sets(&dir, db.data) != BUF_OK) {
		map_fail(why, ENAMETOOLONG, "%s: file name too long", path);
		status = MAP_BUILD_CANTCREAT;
		goto out;
	}
	if ((slash = strrchr(dir.data, '/')) == NULL)
		buf_sets(&dir, ".");
	else if (slash == dir.data)
		buf_truncate(&dir, 1);
	else
		buf_truncate(&dir, (size_t)(slash - dir.data));

	for (tries = 0; tries < 2; tries++) {
		fd = open(tmp.data, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
		    O_CLOEXEC | O_NOCTTY, 0600);
		/* A temporary file left by a crashed run of the same PID. */
		if (fd >= 0 || errno != EEXIST || unlink(tmp.data) != 0)
			break;
	}
	if (fd < 0) {
		saved = errno;
		map_fail(why, saved, "create %s: %s", tmp.data,
		    strerror(saved));
		status = MAP_BUILD_CANTCREAT;
		goto out;
	}
	mode = (src->st_mode & S_IROTH) ? 0644 : 0600;
	if ((geteuid() == 0 && src->st_uid != 0 &&
	    fchown(fd, src->st_uid, src->st_gid) != 0) ||
	    fchmod(fd, mode) != 0) {
		saved = errno;
		map_fail(why, saved, "set owner and mode of %s: %s", tmp.data,
		    strerror(saved));
		status = MAP_BUILD_CANTCREAT;
		goto fail;
	}
	if (write_all(fd, img, size) < 0 || fsync(fd) != 0) {
		saved = errno;
		map_fail(why, saved, "write %s: %s", tmp.data,
		    strerror(saved));
		goto fail;
	}
	saved = close(fd);
	fd = -1;
	if (saved != 0) {
		saved = errno;
		map_fail(why, saved, "write %s: %s", tmp.data,
		    strerror(saved));
		goto fail;
	}
	if (rename(tmp.data, db.data) != 0) {
		saved = errno;
		map_fail(why, saved, "rename %s to %s: %s", tmp.data, db.data,
		    strerror(saved));
		goto fail;
	}
	/* The new database is in place; make the rename durable. */
	if ((dfd = open(dir.data, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0 ||
	    fsync(dfd) != 0) {
		saved = errno;
		map_fail(why, saved, "fsync directory %s: %s", dir.data,
		    strerror(saved));
		if (dfd >= 0)
			close(dfd);
		goto out;
	}
	close(dfd);
	status = MAP_BUILD_OK;
	goto out;

fail:
	saved = errno;
	if (fd >= 0)
		close(fd);
	unlink(tmp.data);
	errno = saved;
out:
	buf_free(&db);
	buf_free(&tmp);
	buf_free(&dir);
	return status;
}

/* map_build - the database of a table from its text (see map.h) */
enum map_build_status
map_build(const char *spec, enum map_fmt fmt, struct map_stats *stats,
    struct buf *why)
{
	enum map_build_status	 status;
	struct map_builder	 mb;
	struct map_text		 t;
	struct stat		 st;
	unsigned char		*img = NULL;
	enum map_kind		 kind;
	const char		*path;
	size_t			 size = 0;
	int			 fd, saved, rc;

	if (stats != NULL)
		stats->entries = stats->duplicates = 0;
	if (map_parse_spec(spec, &kind, &path, why) != 0)
		return MAP_BUILD_BADSPEC;
	if (kind == MAP_K_STATIC || kind == MAP_K_INLINE) {
		map_fail(why, EINVAL, "%s: this map type has no file to "
		    "build", spec);
		return MAP_BUILD_BADSPEC;
	}
	if ((fd = map_open_file(path, "", &st, why)) < 0)
		return MAP_BUILD_NOINPUT;
	if (map_text_fd(&t, path, fd) != 0) {
		close(fd);
		map_fail(why, ENOMEM, "%s: out of memory", path);
		return MAP_BUILD_NOMEM;
	}
	mb_init(&mb, path);
	rc = map_load_text(&mb, &t, fmt, why);
	if (rc == 0)
		rc = mb_finish(&mb, &img, &size, why);
	saved = errno;
	if (stats != NULL) {
		stats->entries = mb.nrecs;
		stats->duplicates = mb.dups;
	}
	map_text_close(&t);
	mb_free(&mb);
	close(fd);
	if (rc != 0)
		return map_build_errno(saved);
	status = MAP_BUILD_OK;
	if (kind == MAP_K_CDB)
		status = map_write_db(path, &st, img, size, why);
	free(img);
	return status;
}
