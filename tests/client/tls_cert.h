/* A throw-away self-signed certificate for 127.0.0.1, made with libcrypto, for TLS tests. */
#ifndef HUD_TEST_TLS_CERT_H
#define HUD_TEST_TLS_CERT_H

#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

static inline char *bio_to_string(BIO *b) {
  char *data;
  long n = BIO_get_mem_data(b, &data);
  char *s = malloc((size_t)n + 1);
  memcpy(s, data, (size_t)n);
  s[n] = '\0';
  return s;
}

static inline int add_ext(X509 *x, int nid, const char *value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, x, x, NULL, NULL, 0);
  X509_EXTENSION *ex = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
  if (!ex) return -1;
  int ok = X509_add_ext(x, ex, -1);
  X509_EXTENSION_free(ex);
  return ok ? 0 : -1;
}

/* Fills *CERT_PEM and *KEY_PEM (malloc'd). Returns 0 on success. */
static inline int make_self_signed(char **cert_pem, char **key_pem) {
  EVP_PKEY *key = EVP_EC_gen("P-256");
  X509 *x = X509_new();
  if (!key || !x) return -1;
  X509_set_version(x, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
  X509_gmtime_adj(X509_getm_notBefore(x), -3600);
  X509_gmtime_adj(X509_getm_notAfter(x), 86400);
  X509_set_pubkey(x, key);
  X509_NAME *name = X509_get_subject_name(x);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)"127.0.0.1", -1, -1, 0);
  X509_set_issuer_name(x, name);
  if (add_ext(x, NID_basic_constraints, "critical,CA:TRUE") || add_ext(x, NID_subject_alt_name, "IP:127.0.0.1") ||
      add_ext(x, NID_key_usage, "critical,digitalSignature,keyCertSign"))
    return -1;
  if (!X509_sign(x, key, EVP_sha256())) return -1;
  BIO *cb = BIO_new(BIO_s_mem()), *kb = BIO_new(BIO_s_mem());
  PEM_write_bio_X509(cb, x);
  PEM_write_bio_PrivateKey(kb, key, NULL, NULL, 0, NULL, NULL);
  *cert_pem = bio_to_string(cb);
  *key_pem = bio_to_string(kb);
  BIO_free(cb);
  BIO_free(kb);
  X509_free(x);
  EVP_PKEY_free(key);
  return 0;
}

#endif
