/*
 * smtpd-tls.so - common/tls.c's server side, loaded by smtpd-lite when a
 * session first needs TLS (cmd/smtpd-lite/tlsload.c).  Built with hidden
 * visibility: the table below is the only symbol it exports, so nothing
 * in it can bind to, or be bound by, smtpd-lite's own copies of
 * common/ (both have buf.c, util.c and log.c; the module's use only
 * their pure functions).
 */
#include <sys/types.h>

#include <stddef.h>

#include "common/buf.h"
#include "common/tls.h"

extern const struct tls_server_api correo_tls_server_api;

__attribute__((visibility("default")))
const struct tls_server_api correo_tls_server_api = {
	.version = TLS_SERVER_API_VERSION,
	.size = sizeof(struct tls_server_api),
	.ctx_new = tls_server_ctx_new,
	.ctx_free = tls_ctx_free,
	.start = tls_server_start,
	.free = tls_free,
	.read = tls_read,
	.write = tls_write,
	.want = tls_want,
	.pending = tls_pending,
	.info = tls_info,
};
