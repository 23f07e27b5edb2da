/*
 * certs - test keys and certificates for the TLS unit tests (certs.h)
 */
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "t/unit/certs.h"

/* mkkey - a P-256 key */
static EVP_PKEY *
mkkey(void)
{
	EVP_PKEY_CTX	*kc;
	EVP_PKEY	*k = NULL;

	if ((kc = EVP_PKEY_CTX_new_id(EVP_PKEY_EC, NULL)) == NULL)
		return NULL;
	if (EVP_PKEY_keygen_init(kc) != 1 ||
	    EVP_PKEY_CTX_set_ec_paramgen_curve_nid(kc,
	    NID_X9_62_prime256v1) != 1 || EVP_PKEY_keygen(kc, &k) != 1)
		k = NULL;
	EVP_PKEY_CTX_free(kc);
	return k;
}

/* addext - add one extension in openssl.cnf notation */
static int
addext(X509 *c, X509 *issuer, int nid, const char *value)
{
	X509V3_CTX	 v;
	X509_EXTENSION	*e;
	int		 ok;

	X509V3_set_ctx(&v, issuer, c, NULL, NULL, 0);
	if ((e = X509V3_EXT_conf_nid(NULL, &v, nid, value)) == NULL)
		return -1;
	ok = X509_add_ext(c, e, -1);
	X509_EXTENSION_free(e);
	return ok == 1 ? 0 : -1;
}

/*
 * cred_make - a certificate for cn with the SANs in openssl.cnf notation
 * (NULL: none), valid from..to seconds from now, issued by issuer (NULL:
 * self-signed); a CA when isca
 */
int
cred_make(struct cred *out, const char *cn, const char *san, long from,
    long to, const struct cred *issuer, int isca)
{
	static long	 serial = 1;
	X509_NAME	*name;
	X509		*c;

	out->cert = NULL;
	if ((out->key = mkkey()) == NULL || (c = X509_new()) == NULL)
		return -1;
	X509_set_version(c, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(c), serial++);
	X509_gmtime_adj(X509_getm_notBefore(c), from);
	X509_gmtime_adj(X509_getm_notAfter(c), to);
	name = X509_get_subject_name(c);
	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
	    (const unsigned char *)cn, -1, -1, 0);
	X509_set_issuer_name(c, issuer != NULL ?
	    X509_get_subject_name(issuer->cert) : name);
	X509_set_pubkey(c, out->key);
	if (addext(c, issuer != NULL ? issuer->cert : c,
	    NID_basic_constraints, isca ? "critical,CA:TRUE" :
	    "critical,CA:FALSE") != 0 ||
	    (isca && addext(c, c, NID_key_usage,
	    "critical,keyCertSign,cRLSign") != 0) ||
	    (san != NULL && addext(c, issuer != NULL ? issuer->cert : c,
	    NID_subject_alt_name, san) != 0) ||
	    X509_sign(c, issuer != NULL ? issuer->key : out->key,
	    EVP_sha256()) == 0) {
		X509_free(c);
		return -1;
	}
	out->cert = c;
	return 0;
}

/* cred_free - release a key and certificate */
void
cred_free(struct cred *c)
{
	EVP_PKEY_free(c->key);
	X509_free(c->cert);
	c->key = NULL;
	c->cert = NULL;
}
