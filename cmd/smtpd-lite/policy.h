/*
 * policy - smtpd-lite's access decisions, as Postfix's smtpd_check.c
 * makes them
 *
 * Pure functions of the configuration (conf.h), of lookup tables
 * (map.h) and of the DNS (dns.h): no SMTP I/O, no state between calls
 * except the client's names, which policy_client_name() caches in the
 * caller's struct policy_client.  The caller parses and normalises the
 * addresses first (addr.h, idn.h: "local@domain" with a lower-case
 * A-label domain, no trailing dot, or an address literal "[1.2.3.4]",
 * "[IPv6:2001:db8::1]"; the null sender is "").
 *
 * policy_rcpt() evaluates smtpd_relay_restrictions, then
 * smtpd_recipient_restrictions, each in order, with Postfix's meaning:
 * the first permit or reject of a list ends that list; a reject ends
 * everything; a permit in the relay list still leaves the recipient
 * list to run; a list that ends without a decision is a permit, and an
 * empty relay list is skipped.  Restrictions known here:
 *   permit, reject (554 5.7.1 <rcpt>: Recipient address rejected:
 *     Access denied), defer (450 4.3.2 ... Try again later),
 *     defer_if_permit, defer_if_reject, warn_if_reject;
 *   permit_mynetworks, permit_sasl_authenticated,
 *     permit_auth_destination, reject_unauth_destination (554 5.7.1
 *     <rcpt>: Relay access denied), defer_unauth_destination (454
 *     4.7.1, the same text);
 *   reject_unknown_client_hostname (and its old name
 *     reject_unknown_client), reject_unknown_reverse_client_hostname:
 *     450 4.7.25 Client host rejected: cannot find your [reverse]
 *     hostname, [addr];
 *   reject_rbl_client domain[=pattern]: 554 5.7.1 Service unavailable;
 *     Client host [addr] blocked using domain;
 *   reject_unlisted_recipient (policy_local_recipient()),
 *     reject_sender_login_mismatch and its authenticated_ and
 *     unauthenticated_ halves (policy_sender_login());
 *   reject_non_fqdn_recipient, reject_non_fqdn_sender (504 5.5.2),
 *     reject_invalid_helo_hostname (501 5.5.2),
 *     reject_non_fqdn_helo_hostname (504 5.5.2);
 *   reject_unauth_pipelining: no effect here, smtpd-lite enforces
 *     command synchronisation itself, always.
 * Any other name (check_*_access, check_policy_service, restriction
 * classes...) fails closed as Postfix does: "451 4.3.5 Server
 * configuration error", with a warning in the log.  So does a
 * restriction without its argument.  Postfix refuses to start when
 * neither list holds reject_unauth_destination,
 * defer_unauth_destination, reject, defer or defer_if_permit; here
 * every RCPT then gets 451 4.3.5 and a warning, so that a broken
 * configuration is never an open relay (policy_check_config() tells
 * the same at start-up).
 *
 * Reply codes are Postfix's defaults for parameters correo does not
 * have (relay_domains_reject_code 554, reject_code 554, defer_code
 * 450, unknown_client_reject_code 450, maps_rbl_reject_code 554,
 * unknown_local_recipient_reject_code 550,
 * unknown_virtual_mailbox_reject_code 550, non_fqdn_reject_code 504,
 * invalid_hostname_reject_code 501).  The enhanced code's class always
 * follows the reply code's, and a reply is at most 510 octets, control
 * characters made spaces, as Postfix's smtpd_check_reject().
 *
 * Fail closed.  A table or DNS lookup that fails temporarily is 451
 * 4.3.0 "<addr>: Temporary lookup failure", or, for the client name,
 * 450.  Unlike Postfix (which lets the mail through), a DNSBL that
 * does not answer turns the final permit into "450 4.7.1 Client host
 * rejected: cannot check [addr] in domain (DNS lookup error)"; a later
 * reject still wins (Postfix's defer_if_permit).  Without a "=pattern"
 * only an answer in 127.0.0.0/8 means listed: a resolver that answers
 * for every name (NXDOMAIN rewriting) lists nobody.
 *
 * Domains (policy_domain_class()).  Local: the domain is in
 * mydestination (exact, case-insensitive: what runq delivers locally),
 * or an address literal of one of this host's interfaces.  Virtual: in
 * virtual_mailbox_domains (exact).  Relay: relay_domains, matched as
 * Postfix matches it with parent_domain_matches_subdomains: "d" is d
 * and every subdomain, ".d" only the subdomains, "!pattern" excludes,
 * "/file/name" holds more patterns, "type:table" is matched when the
 * domain or a parent domain is a key.  A bare recipient ("postmaster")
 * is local.
 *
 * Networks (policy_mynetworks()).  mynetworks entries: an address or
 * net/mask, IPv4 or IPv6, IPv6 in brackets or not ("[::1]/128",
 * "::1/128", "[2001:db8::1]"), "!pattern", "/file/name" (patterns
 * separated by white space or commas, '#' comments; no nested files)
 * and "type:table" (the client address is the key).  A mask with host
 * bits set ("10.0.0.1/8") or anything else is malformed, as Postfix
 * says; the whole list is then a configuration error.  "::ffff:a.b.c.d"
 * is matched as a.b.c.d; "unknown" and anything that is not an address
 * match nothing.
 *
 * Recipients (policy_local_recipient(), Postfix's
 * smtpd_reject_unlisted_recipient): any address found in
 * virtual_alias_maps (the address, then "@domain") is accepted.  In a
 * local domain, with local_recipient_maps not empty: postmaster,
 * mailer-daemon and double-bounce are always accepted; otherwise the
 * local part (lower-cased, as runq looks it up) or, with an extension
 * after a recipient_delimiter character, the part before it must be a
 * key of one of the tables ("unix:passwd.byname" is getpwnam(3), the
 * tables of alias_maps are read in aliases(5) format, "proxy:" is
 * ignored).  Unknown: 550 5.1.1 <rcpt>: Recipient address rejected:
 * User unknown in local recipient table.  In a virtual domain, with
 * virtual_mailbox_maps not empty: the address or "@domain" must be a
 * key, else "... User unknown in virtual mailbox table".  A quoted
 * local part or one with '%', '!' or '@' is never routing: it names a
 * user like any other, so "victim%remote@local" is simply unknown.
 * Other domains are not checked (0).  A table type correo does not
 * have is skipped with a warning, which can only refuse more.
 *
 * Sender login (policy_sender_login(), reject_sender_login_mismatch):
 * the owners of the sender are the value found in
 * smtpd_sender_login_maps for the address, the address without its
 * extension, the local part (with and without extension) when the
 * domain is local, then "@domain": logins separated by commas or
 * white space, compared without case.  An authenticated user must be
 * an owner ("553 5.7.1 <sender>: Sender address rejected: not owned by
 * user USER": a sender nobody owns is refused too, as in Postfix); a
 * client that did not authenticate may not use an owned sender ("553
 * 5.7.1 <sender>: Sender address rejected: not logged in").  The null
 * sender is never checked.  Here an unsupported table type is a 451
 * 4.3.5 configuration error, since skipping it could let a sender
 * through.
 *
 * Client names (policy_client_name()): the reverse name is the PTR
 * record of the address (a name that is an address, or with characters
 * other than letters, digits, '-', '_' and '.', counts as none); the
 * verified name is that name when its A or AAAA records include the
 * address (forward-confirmed reverse DNS), else "unknown" with the
 * status saying why.  The result is kept in the struct: at most one
 * PTR and one A/AAAA query per client.
 *
 * Ownership and limits.  reply is the caller's; it should allow
 * POLICY_REPLY_MAX octets (a shorter one gets the code without the
 * text).  Nothing is allocated across calls; running out of memory is
 * a temporary failure (451 4.3.0).  Return values: 0 to accept, else
 * the SMTP reply code (4xx or 5xx) with the whole reply ("554 5.7.1
 * <x@y>: Relay access denied") in reply.  Rejections are not logged
 * here (the caller logs them with its session); configuration
 * problems and warn_if_reject's "reject_warning" are, with log_warnx().
 */
#ifndef CMD_SMTPD_LITE_POLICY_H
#define CMD_SMTPD_LITE_POLICY_H

#include "common/buf.h"
#include "common/dns.h"

#define POLICY_REPLY_MAX	512	/* a reply, with room for the NUL */

enum policy_class {
	PC_LOCAL,		/* mydestination, our address literals */
	PC_VIRTUAL,		/* virtual_mailbox_domains */
	PC_RELAY,		/* relay_domains */
	PC_REMOTE,		/* anything else */
	PC_TEMPFAIL,		/* a relay_domains table failed */
};

/* What policy_client_name() found (Postfix's SMTPD_PEER_CODE_*). */
enum policy_name_status {
	POLICY_NAME_UNCHECKED = 0,	/* not looked up yet */
	POLICY_NAME_OK,		/* found (and forward-confirmed) */
	POLICY_NAME_TEMP,	/* a DNS lookup failed temporarily */
	POLICY_NAME_PERM,	/* no reverse name */
	POLICY_NAME_FORGED,	/* the name does not resolve back */
};

/*
 * The SMTP client.  The caller sets the first four fields and zeroes
 * the rest (name NULL, statuses UNCHECKED); policy_client_name() fills
 * them in at their first use, or the caller does, from its own lookup,
 * setting the statuses.  name and reverse_name may point into
 * name_buf: copying the struct needs them pointed again.
 */
struct policy_client {
	const char	*addr;		/* "192.0.2.1", "2001:db8::1", or
					 * "unknown" */
	const char	*helo;		/* HELO/EHLO argument, or NULL */
	const char	*sasl_user;	/* NULL unless authenticated */
	const char	*log_id;	/* log prefix, NULL: "NOQUEUE" */

	const char	*name;		/* verified name, or "unknown" */
	const char	*reverse_name;	/* PTR name, or "unknown" */
	enum policy_name_status name_status;
	enum policy_name_status reverse_status;
	char		 name_buf[DNS_NAME_MAX];
};

/*
 * policy_check_config - 0 when the restriction lists and mynetworks
 * can work, else -1 with the first problem in why: no restriction that
 * rejects, an unknown restriction, a missing argument, a malformed
 * mynetworks.  For start-up; policy_rcpt() fails closed regardless.
 */
int	 policy_check_config(struct buf *why);

/*
 * policy_mynetworks - 1 when addr is in mynetworks, 0 when not, -1 when
 * the list is malformed or one of its tables failed (logged)
 */
int	 policy_mynetworks(const char *addr);

/* policy_domain_class - what a normalised domain is to us */
enum policy_class policy_domain_class(const char *domain);

/* policy_client_name - fill in and return the client's names, once */
enum policy_name_status policy_client_name(struct policy_client *);

/*
 * policy_rcpt - smtpd_relay_restrictions, then
 * smtpd_recipient_restrictions, for RCPT TO:<rcpt> after MAIL
 * FROM:<sender> ("" or NULL: the null sender).  The caller then calls
 * policy_local_recipient() too when it accepted, as Postfix's
 * smtpd_reject_unlisted_recipient (yes by default) does.
 */
int	 policy_rcpt(struct policy_client *, const char *rcpt,
	    const char *sender, struct buf *reply);

/* policy_local_recipient - 0, or 550 5.1.1 for an unknown user of ours */
int	 policy_local_recipient(const char *rcpt, struct buf *reply);

/*
 * policy_sender_login - reject_sender_login_mismatch for sender; for
 * an authenticated client pass its login, else NULL
 */
int	 policy_sender_login(const char *sasl_user, const char *sender,
	    struct buf *reply);

#endif
