/*
 * setup.c - find, trust and read the configuration (see setup.h)
 */
#include <sys/stat.h>

#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "common/buf.h"
#include "common/conf.h"
#include "common/log.h"
#include "common/priv.h"
#include "common/setup.h"
#include "common/util.h"

/* setup_config - pick, trust, override, load; open the mail log */
const char *
setup_config(const char *cli_path, const char *env_path, char **overrides,
    size_t noverrides, const char *label)
{
	struct buf	 why;
	struct stat	 st;
	const char	*path = CONF_DEFAULT_PATH;
	char		*dirpath = NULL;
	size_t		 i;

	if (cli_path != NULL)
		path = cli_path;
	else if (env_path != NULL && *env_path != '\0')
		path = env_path;
	if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
		dirpath = xasprintf("%s/correo.conf", path);
		path = dirpath;
	}
	if (priv_is_setgid() && (noverrides > 0 ||
	    (strcmp(path, CONF_DEFAULT_PATH) != 0 &&
	    !conf_trusted_dir(path))))
		priv_group_drop();
	buf_init(&why, 8192);
	for (i = 0; i < noverrides; i++)
		if (conf_override(overrides[i], &why) != 0)
			fatalx(EX_USAGE, "%s", buf_str(&why));
	if (conf_load(path, &why) != 0)
		fatalx(EX_CONFIG, "%s", buf_str(&why));
	buf_free(&why);
	free(dirpath);
	if (log_open(label != NULL ? label : conf_get("syslog_name"),
	    conf_get("maillog_file")) != 0)
		log_warn("open maillog_file %s", conf_get("maillog_file"));
	return conf_path();
}

/* setup_override - note one -o name=value for setup_config */
int
setup_override(char ***overrides, size_t *n, const char *arg)
{
	if (strchr(arg, '=') == NULL)
		return -1;
	*overrides = xreallocarray(*overrides, *n + 1, sizeof(char *));
	(*overrides)[(*n)++] = (char *)arg;
	return 0;
}
