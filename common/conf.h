/*
 * conf - correo.conf, in Postfix main.cf syntax
 *
 * One file (/etc/correo/correo.conf, or -C file, or CORREO_CONFIG) of
 * "name = value" lines: '#' comments (only at the start of a line, after
 * optional white space), continuation lines that start with white
 * space, $name / ${name} / $(name) expansion at use time, and Postfix's
 * conditional forms ${name?value} / ${name:value} (and the {value}
 * brace variants).  Lists split on commas and white space.
 *
 * Parameter names and defaults are Postfix's wherever Postfix has the
 * parameter.  Three kinds of name exist:
 *   - correo's own table (conf.c: conf_params[]): typed, validated,
 *     with a default;
 *   - the other Postfix parameter names (common/postfix-params.h): set
 *     in a file they are a warning "name: Postfix parameter not
 *     implemented by correo, ignored" naming file and line, so a stock
 *     main.cf can be pasted in; -bP lists them as such;
 *   - anything else: an error naming file and line.
 * A bad value (a time, size, boolean or integer that does not parse, or
 * is out of range) is an error naming file and line, or "-o name=value"
 * for an override.
 *
 * Errors are returned, never fatal: the caller decides (sendmail exits
 * EX_CONFIG).  The text in "why" names the file and line.  Memory for
 * the configuration comes from the x*alloc() functions, so running out
 * of it is fatal (EX_OSERR), as for any start-up work.
 *
 * Values returned by conf_get() are expanded and belong to the module;
 * they stay valid until conf_reset().  conf_list() returns a fresh
 * NULL-terminated vector that conf_list_free() releases.
 *
 * Loading: conf_load(NULL, why) reads CONF_DEFAULT_PATH (the caller
 * consults CORREO_CONFIG, not this module); a missing or unreadable
 * file is an error.  Every correo parameter that the file or an
 * override set is expanded and type-checked at load time, so after a
 * successful load conf_int() and friends cannot fail.  A failed load
 * forgets the file's settings (overrides stay).  conf_override() may
 * come before or after conf_load(): an override always wins over the
 * file; after a load it is validated at once and refused (and undone)
 * when it makes any value invalid.  conf_path() is the path given to
 * the last conf_load() (CONF_DEFAULT_PATH before any); config_directory
 * defaults to its directory.
 *
 * Limits: a logical line (with its continuation lines) of at most
 * 64 KiB; an expanded value of at most 256 KiB; 100 levels of nested
 * expansion.  A loop ($a refers to $b refers to $a) is an error.  An
 * undefined $name expands to nothing, with one warning per name.
 *
 * Misuse is a bug: conf_get() and friends on a name that is neither
 * correo's nor Postfix's panic(), as do conf_int() and friends on a
 * parameter of another type.  conf_get() returns NULL for a Postfix
 * parameter correo does not implement.
 *
 * conf_print() writes what sendmail -bP shows: "name = value" (or
 * "name =" when empty) with the value expanded, correo's parameters in
 * alphabetical order, then "# not implemented by correo: name = raw"
 * for each Postfix-only name that was set.  CONF_PRINT_SET keeps only
 * what the file or -o set.  With names, only those, in that order (a
 * Postfix-only name prints "# not implemented by correo: name", with
 * " = raw" when set); unknown names are reported in why and make it
 * return -1, after the others are printed.
 *
 * conf_load_mem() parses text already in memory as if it were the file
 * "name" (tests and fuzzing).  conf_parse_value() is the type check the
 * table uses: it converts one value of a type (a TIME without a unit is
 * in "unit", 0 meaning seconds), within [min, max], and puts a reason
 * in why (without a location) when it does not parse.
 */
#ifndef COMMON_CONF_H
#define COMMON_CONF_H

#include <stdio.h>

#include "common/buf.h"

#define CONF_DEFAULT_PATH	"/etc/correo/correo.conf"

enum conf_type {
	CONF_STR,	/* any text */
	CONF_INT,	/* decimal integer, within [min, max] */
	CONF_TIME,	/* number with optional unit s m h d w */
	CONF_SIZE,	/* bytes, decimal integer */
	CONF_BOOL,	/* yes | no (also true/false, 1/0) */
	CONF_LIST,	/* separated by commas and/or white space */
};

int	 conf_load(const char *path, struct buf *why);
int	 conf_override(const char *name_eq_value, struct buf *why);
void	 conf_reset(void);
const char *conf_path(void);

const char *conf_get(const char *name);
long long conf_int(const char *name);
long long conf_time(const char *name);
long long conf_size(const char *name);
int	 conf_bool(const char *name);
char	**conf_list(const char *name);
void	 conf_list_free(char **);
int	 conf_list_has(const char *param, const char *word);
int	 conf_is_set(const char *name);

enum conf_print_flags {
	CONF_PRINT_ALL = 0,
	CONF_PRINT_SET = 1,	/* -bP -n: only what the file or -o set */
};
int	 conf_print(FILE *, int flags, char **names, struct buf *why);
int	 conf_trusted_dir(const char *path);

int	 conf_load_mem(const char *name, const char *text, size_t len,
	    struct buf *why);
int	 conf_parse_value(enum conf_type, const char *value, int unit,
	    long long min, long long max, long long *out, struct buf *why);

#endif
