/*
 * priv - how correo's privileged programs start and hold privilege
 *
 * priv_sanitize() is the first thing a set-group-ID program does
 * (Postfix postdrop's main()): make sure descriptors 0-2 are open, set
 * the umask, and reduce the environment to an allow-list.  The values
 * the program needs from the environment (CORREO_CONFIG, NAME) must be
 * read before it is called.
 *
 * The spool group: a set-group-ID program calls priv_group_init() at
 * start, which drops the group at once (keeping it as the saved
 * set-group-ID), and then holds it only around the spool system calls:
 * priv_group_on() ... priv_group_off().  priv_group_drop() gives it up
 * for good (before reading a configuration the caller chose, and before
 * running another program).  Every change is verified; a failure is
 * fatal (EX_OSERR), never ignored.  In a program that is not set-group-ID
 * all of these do nothing.
 */
#ifndef COMMON_PRIV_H
#define COMMON_PRIV_H

#include <sys/types.h>

void	 priv_sanitize(const char *const *keep_env);
void	 priv_group_init(void);
int	 priv_is_setgid(void);
void	 priv_group_on(void);
void	 priv_group_off(void);
void	 priv_group_drop(void);

#endif
