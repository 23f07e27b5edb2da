/*
 * tlsload - the server side of common/tls.h for smtpd-lite, from
 * $daemon_directory/smtpd-tls.so, loaded the first time a session needs
 * a TLS context (STARTTLS, or smtpd_tls_wrappermode at the start).
 *
 * smtpd-lite is not linked with OpenSSL: a plaintext session, most of
 * port 25's, never maps libssl and libcrypto, which would cost about
 * 0.6 ms and 1.6 MiB per connection (bench/smtpd; docs/decisions.md).
 * These functions have common/tls.h's names and prototypes, so the rest
 * of smtpd-lite is written as if it were linked with common/tls.c.
 * When the module cannot be loaded, tls_server_ctx_new() fails with the
 * reason, as for a certificate that does not load: STARTTLS then gets
 * 454 4.7.0, and wrapper mode drops the connection.
 */
#include <sys/types.h>

#include <dlfcn.h>
#include <limits.h>
#include <stddef.h>

#include "common/buf.h"
#include "common/conf.h"
#include "common/tls.h"
#include "common/util.h"

#define TLS_MODULE	"smtpd-tls.so"

static const struct tls_server_api *tls_api;

/* tls_load - the module's table, once; -1 with the reason in why */
static int
tls_load(struct buf *why)
{
	char				 path[PATH_MAX];
	const struct tls_server_api	*api;
	const char			*e;
	void				*h;

	if (tls_api != NULL)
		return 0;
	if (bsnprintf(path, sizeof(path), "%s/%s",
	    conf_get("daemon_directory"), TLS_MODULE) != 0) {
		buf_reset(why);
		buf_adds(why, "daemon_directory: path too long");
		return -1;
	}
	if ((h = dlopen(path, RTLD_NOW | RTLD_LOCAL)) == NULL) {
		e = dlerror();
		buf_reset(why);
		buf_printf(why, "cannot load the TLS module: %s",
		    e != NULL ? e : path);
		return -1;
	}
	api = (const struct tls_server_api *)dlsym(h, TLS_SERVER_API_SYMBOL);
	if (api == NULL || api->version != TLS_SERVER_API_VERSION ||
	    api->size != sizeof(*api)) {
		buf_reset(why);
		buf_printf(why, "%s: not a TLS module of this smtpd-lite "
		    "(version %s)", path, CORREO_VERSION);
		dlclose(h);
		return -1;
	}
	tls_api = api;		/* never unloaded: contexts point into it */
	return 0;
}

struct tls_ctx *
tls_server_ctx_new(const char *certfile, const char *keyfile,
    struct buf *why)
{
	if (tls_load(why) != 0)
		return NULL;
	return tls_api->ctx_new(certfile, keyfile, why);
}

/* The rest exist only after tls_server_ctx_new() succeeded. */

struct tls_ctx *
tls_ctx_free(struct tls_ctx *ctx)
{
	return ctx != NULL ? tls_api->ctx_free(ctx) : NULL;
}

int
tls_server_start(struct tls_ctx *ctx, int rfd, int wfd, int timeout,
    struct tls **tlsp, struct buf *why)
{
	return tls_api->start(ctx, rfd, wfd, timeout, tlsp, why);
}

struct tls *
tls_free(struct tls *t)
{
	return t != NULL ? tls_api->free(t) : NULL;
}

ssize_t
tls_read(struct tls *t, void *p, size_t n)
{
	return tls_api->read(t, p, n);
}

ssize_t
tls_write(struct tls *t, const void *p, size_t n)
{
	return tls_api->write(t, p, n);
}

short
tls_want(const struct tls *t)
{
	return tls_api->want(t);
}

size_t
tls_pending(const struct tls *t)
{
	return tls_api->pending(t);
}

int
tls_info(const struct tls *t, struct buf *b)
{
	return tls_api->info(t, b);
}
