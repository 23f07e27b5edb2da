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
 * EX_CONFIG).  The text in "why" names the file and line.
 *
 * Values returned by conf_get() are expanded and belong to the module;
 * they stay valid until conf_reset().  conf_list() returns a fresh
 * NULL-terminated vector that conf_list_free() releases.
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
int	 conf_is_set(const char *name);

enum conf_print_flags {
	CONF_PRINT_ALL = 0,
	CONF_PRINT_SET = 1,	/* -bP -n: only what the file or -o set */
};
int	 conf_print(FILE *, int flags, char **names, struct buf *why);

#endif
