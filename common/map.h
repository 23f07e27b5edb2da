/*
 * map - Postfix-style lookup tables, named "type:name"
 *
 * Types.  hash:PATH, btree:PATH, lmdb:PATH and cdb:PATH all mean one
 * thing: a constant database (the cdb(5) format of tinycdb and djb's
 * cdb) in PATH.cdb, built from the text file PATH by newaliases(8).
 * correo has one map format because one is enough: cdb is fast (a
 * lookup is one or two reads of a memory mapping), needs no library
 * (map.c reads and writes it itself, so nothing links Berkeley DB or
 * LMDB), and is replaced atomically by rename(2), so a reader never
 * sees half a database and needs no lock.  Postfix's type names are
 * accepted so that a pasted main.cf works unchanged.
 *   texthash:PATH  the text file (postmap(1) format), read at open
 *                  time; no database.
 *   static:VALUE   every key gives VALUE (static:{ text } may hold
 *                  white space).
 *   inline:{ key=value, { key = text } }  Postfix 3's inline table.
 * Any other type (nis:, ldap:, mysql:, pcre:, regexp:, proxy:...) makes
 * map_open() fail with "map type X is not supported by correo" and
 * errno EPROTONOSUPPORT, so that a caller can warn and go on (Postfix's
 * default alias_maps holds nis:mail.aliases).
 *
 * Sources.  A text file is read as logical lines: a line that starts
 * with white space continues the one before it (the two are joined
 * with one space); empty lines and lines whose first character other
 * than white space is '#' are ignored and end nothing; white space at
 * the end of a line and one CR before the LF are dropped; a control
 * character other than a tab is an error.  MAP_FMT_POSTMAP lines are
 * "key white-space value" (postmap(1)); MAP_FMT_ALIASES lines are
 * aliases(5) "name: value" (aliases.h).  Keys are stored lower-case,
 * as postmap and postalias store them.  texthash reads the aliases
 * format when opened with MAP_F_ALIASES.
 *
 * Lookups.  map_lookup() tries the key as given and then, when that
 * differs, lower-cased; it returns MAP_FOUND with the value in *value,
 * MAP_NOTFOUND, or MAP_ERROR (a temporary failure: a value too long
 * for MAP_VALUE_MAX or for value's maximum, a corrupt database) with
 * the reason in why.  It allocates nothing but the value buffer's
 * growth: runq opens its maps once and looks up many keys.
 *
 * Building.  map_build() parses the source of a database type and
 * writes PATH.cdb.tmp.PID (mode 0644, or 0600 when the source is not
 * world-readable; run by root, owned by the source's owner, as postmap
 * and postalias make it: Postfix's local(8) runs an alias's commands
 * with the rights of the database's owner, and map_owner() tells a
 * caller who that is), fsyncs it, renames it
 * to PATH.cdb and fsyncs the directory.  On any error the temporary
 * file is removed and the old PATH.cdb stays as it was.  Errors name
 * file and line ("/etc/aliases, line 12: missing colon after alias
 * name").  A key given twice: the last one wins, with a warning naming
 * both lines (log_warnx).  For texthash: the source is checked and
 * nothing is written.  MAP_BUILD_BADSPEC comes with errno
 * EPROTONOSUPPORT for a type correo does not have.
 *
 * Ownership.  map_open() returns a map that map_close() releases (it
 * accepts NULL and returns NULL).  map_source() and map_name() return
 * strings owned by the map.  A cdb database is mapped with mmap(2);
 * rebuilding replaces the file, it never rewrites it, so a map stays
 * valid while newaliases runs.
 *
 * Limits: a key of at most MAP_KEY_MAX bytes (a longer key is never
 * found), a value of at most MAP_VALUE_MAX, a logical source line of at
 * most MAP_LINE_MAX, a database of at most 4 GiB (cdb's 32-bit
 * offsets).  Errors are never fatal: they are returned with a reason
 * in the caller's why.  Running out of memory is an error (ENOMEM,
 * MAP_BUILD_NOMEM), as on any per-message path.
 *
 * map_text is the logical-line reader that the postmap and aliases(5)
 * parsers share: map_text_next() returns 1 with one logical line in
 * out and its first physical line's number in *lineno, 0 at the end,
 * or -1 with "NAME, line N: reason" in why.
 */
#ifndef COMMON_MAP_H
#define COMMON_MAP_H

#include <sys/types.h>

#include <stddef.h>

#include "common/buf.h"

#define MAP_KEY_MAX	1024		/* bytes in a key */
#define MAP_VALUE_MAX	(64 * 1024)	/* bytes in a value */
#define MAP_LINE_MAX	(128 * 1024)	/* a logical source line */
#define MAP_SPEC_MAX	4096		/* "type:name" */

enum map_flags {
	MAP_F_ALIASES = 1 << 0,	/* an alias map: aliases(5) source */
};

enum map_fmt {
	MAP_FMT_POSTMAP,	/* "key value" lines, as postmap(1) */
	MAP_FMT_ALIASES,	/* "name: value, ..." lines, aliases(5) */
};

enum map_result {
	MAP_ERROR = -1,		/* temporary: try again later */
	MAP_NOTFOUND = 0,
	MAP_FOUND = 1,
};

enum map_build_status {
	MAP_BUILD_OK = 0,
	MAP_BUILD_BADSPEC,	/* not type:name, or no database to build */
	MAP_BUILD_NOINPUT,	/* the source cannot be read */
	MAP_BUILD_DATAERR,	/* a syntax error in the source */
	MAP_BUILD_CANTCREAT,	/* the temporary file cannot be made */
	MAP_BUILD_IOERR,	/* reading, writing, syncing or renaming */
	MAP_BUILD_NOMEM,
};

struct map_stats {
	size_t	 entries;	/* keys in the table */
	size_t	 duplicates;	/* keys given more than once */
};

struct map;

struct map	*map_open(const char *spec, int flags, struct buf *why);
enum map_result	 map_lookup(struct map *, const char *key,
		    struct buf *value, struct buf *why);
struct map	*map_close(struct map *);
int		 map_is_stale(struct map *);
int		 map_owner(struct map *, uid_t *);
const char	*map_source(const struct map *);
const char	*map_name(const struct map *);

enum map_build_status map_build(const char *spec, enum map_fmt,
		    struct map_stats *, struct buf *why);

/* The logical-line reader (private fields; use the functions). */
struct map_text {
	int		 fd;		/* -1: reading memory */
	const char	*mem;		/* memory, or rbuf */
	size_t		 len, off;
	char		*rbuf;		/* read(2) buffer, fd only */
	int		 eof;
	const char	*name;		/* for messages */
	int		 lineno;	/* physical lines read */
	struct buf	 phys;		/* the physical line read ahead */
	int		 ahead;		/* phys holds an unused line */
};

int	 map_text_fd(struct map_text *, const char *name, int fd);
void	 map_text_mem(struct map_text *, const char *name, const char *,
	    size_t);
int	 map_text_next(struct map_text *, struct buf *out, int *lineno,
	    struct buf *why);
void	 map_text_close(struct map_text *);

#endif
