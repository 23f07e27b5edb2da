/*
 * correo-test.h - the helper's command table.  Each module's test
 * commands live in t/helper/h-<module>.c.
 */
#ifndef T_HELPER_CORREO_TEST_H
#define T_HELPER_CORREO_TEST_H

int	 h_log_safe(int, char **);
int	 h_conf_dump(int, char **);
int	 h_addr_path(int, char **);
int	 h_addr_list(int, char **);
int	 h_addr_qualify(int, char **);
int	 h_idn(int, char **);
int	 h_hdr(int, char **);
int	 h_spool_dump(int, char **);
int	 h_spool_fill(int, char **);
int	 h_spool_check(int, char **);
int	 h_lmtp(int, char **);
int	 h_pipe(int, char **);
int	 h_bounce(int, char **);
int	 h_aliases(int, char **);
int	 h_aliases_split(int, char **);
int	 h_dns(int, char **);
int	 h_smtp(int, char **);
int	 h_sasl(int, char **);
int	 h_policy(int, char **);
int	 h_dns_server(const char *);	/* -s IP:PORT, for h_dns and h_policy */

#define HELPER_COMMANDS \
	{ "log-safe", h_log_safe, "< text  (escape for a log line)" }, \
	{ "conf-dump", h_conf_dump, "< correo.conf  (parse, print)" }, \
	{ "addr-path", h_addr_path, "< one RFC 5321 path per line" }, \
	{ "addr-list", h_addr_list, "< one RFC 5322 address list per line" }, \
	{ "addr-qualify", h_addr_qualify, "origin < address lists" }, \
	{ "idn", h_idn, "< one domain per line (to A-labels)" }, \
	{ "hdr", h_hdr, "< message  (header parser events)" }, \
	{ "spool-dump", h_spool_dump, "file  (a queue file's records)" }, \
	{ "spool-fill", h_spool_fill, "[options] N  (queue N messages)" }, \
	{ "spool-check", h_spool_check, "queue_dir  (every message loads)" }, \
	{ "lmtp", h_lmtp, "[-t s] dest sender rcpt... < message  (LMTP)" }, \
	{ "pipe", h_pipe, "[opts] cmd sender rcpt user home < message" }, \
	{ "bounce", h_bounce, "< spec, empty line, original  (a DSN notice)" }, \
	{ "aliases", h_aliases, "< aliases(5) file  (entries, elements)" }, \
	{ "aliases-split", h_aliases_split, "< one alias value per line" }, \
	{ "dns", h_dns, "[options] mx|host|ptr name  (DNS)" }, \
	{ "smtp", h_smtp, "[options] dest sender rcpt... < message  (SMTP)" }, \
	{ "sasl", h_sasl, "[options] type path [user pass [authzid]]  (AUTH)" }, \
	{ "policy", h_policy, "[-s a:p] [-o n=v] rcpt|name|local|... args" },

#endif
