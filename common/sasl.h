/*
 * sasl - the password checks behind smtpd-lite's AUTH PLAIN and LOGIN
 *
 * Two backends, chosen by smtpd_sasl_type:
 *
 *   "dovecot"      asks Dovecot's auth server over its auth-client
 *                  UNIX-domain socket (smtpd_sasl_path, made absolute
 *                  by the caller), as Postfix's smtpd_sasl_type =
 *                  dovecot does.
 *   "passwd-file"  checks a file in Dovecot's passwd-file format
 *                  (smtpd_sasl_path is the file), for sites without a
 *                  Dovecot.
 *
 * The SMTP side (base64, the PLAIN and LOGIN exchanges, TLS only, the
 * failure cap, replies) is the caller's.  Whatever the client chose,
 * sasl_auth() gets the decoded user name, password and authorization
 * identity; it always speaks PLAIN to Dovecot.
 *
 * sasl_open() checks its arguments only and touches neither socket nor
 * file: a Dovecot that is down or a file that is missing makes that
 * AUTH SASL_TEMP, not a failure at start-up.  It returns NULL with a reason
 * in why for an unknown type or a path that is empty or relative.  The
 * struct sasl belongs to the caller; sasl_close() (NULL is fine)
 * releases it and closes the Dovecot connection.  One handle serves
 * any number of sasl_auth() calls, one at a time.
 *
 * sasl_auth() returns an enum sasl_status:
 *
 *   SASL_OK    the credentials are good; who holds the canonical user
 *              name (Dovecot's user= in its OK, which may differ from
 *              what the client typed, e.g. under auth_username_format;
 *              with passwd-file, the name as the file spells it).
 *   SASL_FAIL  no: wrong user or password, or refused (535 5.7.8).
 *   SASL_TEMP  the backend could not answer (454 4.7.0).
 *
 * cl (may be NULL: nothing known) describes the client.  who (whosz
 * bytes; may be NULL) is "" unless SASL_OK; SASL_USER_MAX + 1
 * bytes hold any name passwd-file gives, and a name that does not fit
 * is SASL_FAIL.  why (may be NULL) gets a reason for the log, never the
 * password, and never meant for the client: the SMTP reply must not
 * say whether the user or the password was wrong.
 *
 * Refused before any backend is asked (SASL_FAIL): an empty user name;
 * a user name or authorization identity holding a control character;
 * a password holding CR, LF or TAB; a user name longer than
 * SASL_USER_MAX or a password longer than SASL_PASS_MAX bytes; an
 * authorization identity that is non-empty and differs from the user
 * name ("authorization identity differs").  Arguments are C strings,
 * so a NUL inside a decoded value is the caller's to refuse: it must
 * check the length base64 decoding gave it.
 *
 * Dovecot.  The connection is made at the first sasl_auth() and kept;
 * one that broke while idle (Dovecot's auth process restarted) is made
 * again once.  The handshake is "VERSION 1 2" and "CPID"; the server's
 * VERSION major must be 1 and its MECH lines must offer PLAIN before
 * its SPID (a socket that sends SPID first is auth-master or
 * auth-userdb, the wrong one).  The request is
 *
 *	AUTH <id> PLAIN service=smtp [lip=] [rip=] [lport=] [rport=]
 *	    [secured] resp=<base64 of NUL user NUL password>
 *
 * with lip/rip only when they are IP addresses, so Dovecot's auth
 * penalty applies per client; "secured" only when the client's session
 * is under TLS; never "no-penalty".  FAIL is SASL_FAIL, or SASL_TEMP
 * with code=temp_fail (or the old "temp" flag).  OK is SASL_OK unless
 * it carries nologin, proxy, host= or reason= ("OK does not mean
 * access granted" in Dovecot's protocol: a login that must be refused
 * or sent elsewhere), which is SASL_FAIL.  CONT, a reply for another
 * request, a line past SASL_LINE_MAX, EOF, any socket error and the
 * deadline are SASL_TEMP, and the connection is dropped.  Each
 * sasl_auth() has one deadline for connecting, the handshake and the
 * answer: SASL_TIMEOUT seconds unless sasl_set_timeout() says
 * otherwise (at least 1).  Dovecot delays failures
 * (auth_failure_delay, 2 s) and penalises an address that keeps
 * failing (up to 15 s), so a timeout under 20 s or so turns slow
 * failures into temporary ones; small values are for tests.
 *
 * passwd-file.  The file is read at every sasl_auth() (up to
 * SASL_FILE_MAX bytes; nothing is cached).  Lines are
 * "user:password[:uid:gid:gecos:home:shell:extra fields]"; empty lines
 * and lines starting with "#" are skipped, and only the first two
 * fields count, plus nologin, proxy or host among the extra fields,
 * which refuse the login (SASL_FAIL) as they do in Dovecot's OK.  The
 * user name is matched without regard to ASCII case (Dovecot's default
 * auth_username_format is %Lu); the first matching line wins.  The
 * password field is "{SCHEME}value" or a bare crypt(3) hash starting
 * with "$" (Dovecot's default scheme for passwd-file is CRYPT):
 *
 *   {CRYPT}          any hash crypt_r(3) knows ($y$, $6$, $5$, $2b$...)
 *   {SHA512-CRYPT}   a $6$ hash
 *   {SHA256-CRYPT}   a $5$ hash
 *   {MD5-CRYPT}      a $1$ hash (weak: replace it)
 *   {BLF-CRYPT}      a $2a$, $2b$ or $2y$ hash, if libcrypt has bcrypt
 *   {PLAIN}, {CLEARTEXT}  the password itself: discouraged, anyone who
 *                    reads the file has every password
 *
 * Scheme names are case-insensitive.  Anything else (other schemes,
 * a scheme whose value has the wrong prefix, a bare value not starting
 * with "$", an empty field, a hash libcrypt refuses) fails closed:
 * SASL_FAIL, with the reason in why and, once per handle, in the log.
 * Hashes are compared in constant time, and an unknown user costs a
 * crypt(3) all the same.  Copies of the file and of the password are
 * wiped before they are freed.
 *
 * Diagnostics.  Warnings go to the log once per handle and only for
 * the file's owner to fix: a world-readable passwd-file, malformed
 * lines (no ":" or an empty user name, with the first line number),
 * a user on two lines, unusable password fields.  Everything else is the caller's to log,
 * from why.  Nothing here is fatal; out of memory is SASL_TEMP.
 */
#ifndef COMMON_SASL_H
#define COMMON_SASL_H

#include <stddef.h>

#include "common/buf.h"

#define SASL_USER_MAX		512	/* bytes in a user name */
#define SASL_PASS_MAX		1024	/* bytes in a password */
#define SASL_LINE_MAX		16384	/* a Dovecot protocol line */
#define SASL_FILE_MAX		(4 << 20)	/* a passwd-file */
#define SASL_TIMEOUT		30	/* seconds for one sasl_auth() */

enum sasl_status {
	SASL_OK = 0,
	SASL_FAIL = 1,		/* wrong credentials: 535 5.7.8 */
	SASL_TEMP = 2,		/* backend down: 454 4.7.0 */
};

struct sasl_client {
	const char	*rip;		/* client address, or NULL */
	const char	*lip;		/* our address, or NULL */
	int		 rport, lport;	/* 0: unknown */
	int		 secured;	/* the session is under TLS */
	const char	*service;	/* "smtp" (NULL: "smtp") */
};

struct sasl;

struct sasl *sasl_open(const char *type, const char *path, struct buf *why);
void	 sasl_set_timeout(struct sasl *, int seconds);
enum sasl_status sasl_auth(struct sasl *, const char *user,
	    const char *pass, const char *authzid,
	    const struct sasl_client *, char *who, size_t whosz,
	    struct buf *why);
void	 sasl_close(struct sasl *);

#endif
