/*
 * certs - test keys and certificates made in memory for the TLS unit
 * tests (t-tls, t-tls-server, t-runq-smtp): P-256 keys, X.509 v3
 * certificates with a CN, optional subjectAltNames in openssl.cnf
 * notation ("DNS:mx.example.org,IP:127.0.0.1"), valid from..to seconds
 * from now, issued by another cred or self-signed, and CA or not.
 */
#ifndef T_UNIT_CERTS_H
#define T_UNIT_CERTS_H

#include <openssl/evp.h>
#include <openssl/x509.h>

#define CERT_DAY	(24L * 60 * 60)

struct cred {
	EVP_PKEY	*key;
	X509		*cert;
};

int	 cred_make(struct cred *, const char *cn, const char *san,
	    long from, long to, const struct cred *issuer, int isca);
void	 cred_free(struct cred *);

#endif
