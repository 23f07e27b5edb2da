/*
 * newaliases - build the aliases database and other lookup tables
 * (Postfix's newaliases, postalias and postmap, in one program)
 *
 *	newaliases [-v] [-C config] [-o name=value]
 *		every map in alias_database, from aliases(5) text
 *	newaliases [-v] ... -A file
 *		hash:file (or the type:name given) instead (sendmail -oA)
 *	newaliases [-v] ... map ...
 *		these maps, from aliases(5) text (postalias)
 *	newaliases [-v] ... -m map ...
 *		these maps, from postmap(1) text (postmap)
 *	newaliases ... -q key [-m] [map ...]
 *		print key's value in the first map that has it (postmap -q)
 *
 * The work is map_build() (common/map.h): a temporary file, fsync,
 * rename, so a failed run leaves the old database as it was.  This
 * program runs as root on an installed host (root owns /etc/aliases),
 * as the caller otherwise; it is not set-group-ID and holds no
 * privilege of its own, so it only cleans the environment and the
 * descriptors as every correo program does.
 *
 * Exit status: 0; EX_USAGE for a bad command line; EX_DATAERR for a
 * syntax error in a source, EX_NOINPUT for a source that cannot be
 * read, EX_CANTCREAT or EX_IOERR when the database cannot be written
 * (the first failure's status, after trying every map); with -q, 1 when
 * no map has the key, EX_NOINPUT when a map cannot be opened (a missing
 * database), EX_DATAERR when it does not parse (a malformed name, a
 * texthash or inline syntax error, a corrupt database), EX_CONFIG for a
 * map type correo does not support and EX_TEMPFAIL for a failed lookup.
 * A type correo does not support in alias_database is skipped with a
 * warning, as runq skips it in alias_maps.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/conf.h"
#include "common/log.h"
#include "common/map.h"
#include "common/priv.h"
#include "common/setup.h"
#include "common/util.h"

#define NA_OPTSTRING	"A:C:mo:q:v"
#define NA_WHY_MAX	4096
#define NA_NOTFOUND	1	/* -q: no map has the key (as postmap) */

static const char *const na_keep_env[] = { "TZ", NULL };

struct na {
	const char	*config;	/* -C */
	char		**overrides;	/* -o */
	size_t		 noverrides;
	const char	*alias_file;	/* -A */
	const char	*query;		/* -q */
	int		 postmap;	/* -m */
	int		 verbose;	/* -v */
	int		 from_conf;	/* the maps are alias_database */
	int		 status;	/* the first failure's */
};

static void	 usage(void) __attribute__((noreturn));
static char	*na_spec(const char *);
static void	 na_status(struct na *, int);
static int	 na_build(struct na *, const char *, enum map_fmt);
static void	 na_postmaster(const char *);
static int	 na_query(struct na *, char **, size_t);

/* usage - the synopsis, and EX_USAGE */
static void
usage(void)
{
	fprintf(stderr,
	    "usage: newaliases [-v] [-C config] [-o name=value] [-A file]\n"
	    "       newaliases [-v] [-C config] [-o name=value] [-m] "
	    "type:file ...\n"
	    "       newaliases [-C config] [-o name=value] [-m] -q key "
	    "[type:file ...]\n");
	exit(EX_USAGE);
}

/*
 * na_spec - a map named on the command line: "type:name" as it is, a
 * bare file name as hash:file (Sendmail's -oA takes either)
 */
static char *
na_spec(const char *arg)
{
	const char	*colon = strchr(arg, ':');

	if (colon != NULL && (strchr(arg, '/') == NULL ||
	    colon < strchr(arg, '/')))
		return xstrdup(arg);
	return xasprintf("hash:%s", arg);
}

/* na_status - remember the first failure's exit status */
static void
na_status(struct na *na, int status)
{
	if (na->status == EX_OK)
		na->status = status;
}

/*
 * na_postmaster - warn when an aliases database has no postmaster:
 * RFC 5321 section 4.5.1 requires the mailbox on every host
 */
static void
na_postmaster(const char *spec)
{
	struct buf	 why, value;
	struct map	*m;

	buf_init(&why, NA_WHY_MAX);
	buf_init(&value, MAP_VALUE_MAX);
	if ((m = map_open(spec, MAP_F_ALIASES, &why)) == NULL)
		log_warnx("%s", buf_str(&why));
	else if (map_lookup(m, "postmaster", &value, &why) == MAP_NOTFOUND)
		log_warnx("%s: postmaster alias missing: RFC 5321 requires "
		    "one", map_source(m));
	map_close(m);
	buf_free(&why);
	buf_free(&value);
}

/* na_build - build one map, report, note the status */
static int
na_build(struct na *na, const char *spec, enum map_fmt fmt)
{
	static const int	 exits[] = {
		[MAP_BUILD_OK] = EX_OK,
		[MAP_BUILD_BADSPEC] = EX_USAGE,
		[MAP_BUILD_NOINPUT] = EX_NOINPUT,
		[MAP_BUILD_DATAERR] = EX_DATAERR,
		[MAP_BUILD_CANTCREAT] = EX_CANTCREAT,
		[MAP_BUILD_IOERR] = EX_IOERR,
		[MAP_BUILD_NOMEM] = EX_OSERR,
	};
	enum map_build_status	 st;
	struct map_stats	 stats;
	struct buf		 why;

	buf_init(&why, NA_WHY_MAX);
	st = map_build(spec, fmt, &stats, &why);
	if (st == MAP_BUILD_BADSPEC && errno == EPROTONOSUPPORT &&
	    na->from_conf) {
		/* A pasted main.cf may name what correo has not. */
		log_warnx("alias_database: %s: skipped", buf_str(&why));
		buf_free(&why);
		return 0;
	}
	if (st != MAP_BUILD_OK) {
		if (st == MAP_BUILD_DATAERR || st == MAP_BUILD_CANTCREAT ||
		    st == MAP_BUILD_IOERR || st == MAP_BUILD_NOMEM)
			log_error("%s (%s: database not changed)",
			    buf_str(&why), spec);
		else
			log_error("%s", buf_str(&why));
		na_status(na, exits[st]);
		buf_free(&why);
		return -1;
	}
	log_info("%s: %zu entries%s", spec, stats.entries,
	    stats.duplicates ? " (with duplicates)" : "");
	buf_free(&why);
	if (fmt == MAP_FMT_ALIASES)
		na_postmaster(spec);
	return 0;
}

/*
 * na_query - print the value of na->query in the first map that has
 * it; the maps, or alias_database when none are named
 */
static int
na_query(struct na *na, char **specs, size_t n)
{
	struct buf	 why, value;
	struct map	*m;
	size_t		 i;
	int		 status = NA_NOTFOUND, saved;
	enum map_result	 r;

	buf_init(&why, NA_WHY_MAX);
	buf_init(&value, MAP_VALUE_MAX);
	for (i = 0; i < n && status == NA_NOTFOUND; i++) {
		if ((m = map_open(specs[i], na->postmap ? 0 : MAP_F_ALIASES,
		    &why)) == NULL) {
			saved = errno;
			log_error("%s", buf_str(&why));
			status = saved == EPROTONOSUPPORT ? EX_CONFIG :
			    saved == EINVAL ? EX_DATAERR :
			    saved == ENOMEM ? EX_OSERR : EX_NOINPUT;
			break;
		}
		if (map_is_stale(m))
			log_warnx("%s is newer than its database %s: run "
			    "newaliases", map_source(m), map_name(m));
		r = map_lookup(m, na->query, &value, &why);
		if (r == MAP_FOUND) {
			printf("%s\n", buf_str(&value));
			status = EX_OK;
		} else if (r == MAP_ERROR) {
			log_error("%s", buf_str(&why));
			status = EX_TEMPFAIL;
		}
		map_close(m);
	}
	buf_free(&why);
	buf_free(&value);
	if (fflush(stdout) != 0 || ferror(stdout)) {
		log_warn("write standard output");
		status = EX_IOERR;
	}
	return status;
}

int
main(int argc, char **argv)
{
	struct na	 na;
	const char	*env_config;
	char		**specs, **list = NULL;
	size_t		 nspecs, i;
	int		 c;

	memset(&na, 0, sizeof(na));
	env_config = getenv("CORREO_CONFIG");
	env_config = env_config ? xstrdup(env_config) : NULL;
	priv_sanitize(na_keep_env);
	log_init(argv[0] != NULL ? argv[0] : "newaliases", "newaliases");

	opterr = 0;
	while ((c = getopt(argc, argv, NA_OPTSTRING)) != -1) {
		switch (c) {
		case 'A':
			na.alias_file = optarg;
			break;
		case 'C':
			na.config = optarg;
			break;
		case 'm':
			na.postmap = 1;
			break;
		case 'o':
			if (setup_override(&na.overrides, &na.noverrides,
			    optarg) != 0) {
				fprintf(stderr, "newaliases: -o %s: use "
				    "name=value\n", optarg);
				usage();
			}
			break;
		case 'q':
			na.query = optarg;
			break;
		case 'v':
			na.verbose++;
			break;
		default:
			if (optopt != 0 && strchr("ACoq", optopt) != NULL)
				fprintf(stderr, "newaliases: -%c needs an "
				    "argument\n", optopt);
			else
				fprintf(stderr, "newaliases: unknown option "
				    "-%c\n", optopt);
			usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (na.alias_file != NULL && (argc > 0 || na.postmap)) {
		fprintf(stderr, "newaliases: -A names the aliases file; "
		    "it does not combine with -m or map names\n");
		usage();
	}
	if (na.postmap && argc == 0) {
		fprintf(stderr, "newaliases: -m needs the maps to build or "
		    "query\n");
		usage();
	}
	if (na.verbose)
		log_verbose(na.verbose);

	setup_config(na.config, env_config, na.overrides, na.noverrides,
	    NULL);

	/* The maps: named, -A, or alias_database. */
	if (argc > 0) {
		nspecs = (size_t)argc;
		specs = xcalloc(nspecs + 1, sizeof(*specs));
		for (i = 0; i < nspecs; i++)
			specs[i] = na_spec(argv[i]);
	} else if (na.alias_file != NULL) {
		nspecs = 1;
		specs = xcalloc(2, sizeof(*specs));
		specs[0] = na_spec(na.alias_file);
	} else {
		na.from_conf = 1;
		list = conf_list("alias_database");
		for (nspecs = 0; list[nspecs] != NULL; nspecs++)
			;
		specs = xcalloc(nspecs + 1, sizeof(*specs));
		for (i = 0; i < nspecs; i++)
			specs[i] = xstrdup(list[i]);
		conf_list_free(list);
		if (nspecs == 0 && na.query == NULL)
			log_info("alias_database is empty: nothing to do");
	}

	if (na.query != NULL)
		na.status = na_query(&na, specs, nspecs);
	else {
		for (i = 0; i < nspecs; i++)
			(void)na_build(&na, specs[i], na.postmap ?
			    MAP_FMT_POSTMAP : MAP_FMT_ALIASES);
	}

	for (i = 0; i < nspecs; i++)
		free(specs[i]);
	free(specs);
	free(na.overrides);
	free((char *)env_config);
	conf_reset();
	return na.status;
}
