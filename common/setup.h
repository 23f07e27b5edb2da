/*
 * setup - how every correo program finds and reads its configuration
 *
 * setup_config() picks the file: the -C argument (a file, or a
 * directory holding correo.conf), else CORREO_CONFIG (read by the
 * caller before priv_sanitize() cut the environment), else
 * /etc/correo/correo.conf.  A set-group-ID program gives its group up
 * for good first when the caller chose the file or passed overrides,
 * unless alternate_config_directories (in the default file) trusts the
 * file's directory: Postfix's rule.  Then it applies the -o/-O
 * overrides, loads the file and opens the mail log under label (NULL:
 * syslog_name).  Errors are fatal: EX_USAGE for a bad override,
 * EX_CONFIG for the file.  Returns the path read (owned by conf(3)).
 *
 * setup_override() collects one "-o name=value" (-O for sendmail): -1
 * when it has no '=' (the caller prints its usage).
 */
#ifndef COMMON_SETUP_H
#define COMMON_SETUP_H

#include <stddef.h>

const char *setup_config(const char *cli_path, const char *env_path,
	    char **overrides, size_t noverrides, const char *label);
int	 setup_override(char ***overrides, size_t *n, const char *arg);

#endif
