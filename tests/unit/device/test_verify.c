/* Unit tests: member verification status (clients/lib/identity/verify.h) and PEM private
 * keys (clients/lib/identity/pemkey.h). */
#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "clients/lib/identity/pemkey.h"
#include "clients/lib/identity/verify.h"
#include "fixtures.h"

static x509_trust_t *trust(void) {
  x509_trust_t *t = x509_trust_new();
  char *org = fx_ca_pem("org"), *op = fx_ca_pem("operator");
  cr_assert_eq(x509_trust_add_pem(t, org, strlen(org), X509_ANCHOR_ORGANISATION, "acme"), 0);
  cr_assert_eq(x509_trust_add_pem(t, op, strlen(op), X509_ANCHOR_OPERATOR, "operator"), 0);
  free(org);
  free(op);
  return t;
}

typedef struct cred {
  veil_view_t der[2];
  x509_info_t info;
  fx_cert_t c;
} cred_t;

static cred_t cred(const char *ca, ca_kind_t kind, const char *id, const char *cn,
                   ca_key_type_t kt) {
  cred_t r;
  r.c = fx_issue(ca, kind, id, cn, kt, (int64_t)time(NULL));
  cr_assert_eq(x509_pem_to_der(r.c.cert_pem, strlen(r.c.cert_pem), r.der, 2), 1);
  cr_assert_eq(x509_parse_info(r.der[0].ptr, r.der[0].len, &r.info), 0);
  return r;
}

static void cred_free(cred_t *r) {
  free((void *)r->der[0].ptr);
  fx_free(&r->c);
}

static verify_status_t judge(const x509_trust_t *t, const cred_t *r, const char *dn) {
  verify_status_t st;
  cr_assert_eq(verify_x509_credential(t, r->der, 1, r->info.key_type, r->info.public_key,
                                      r->info.public_key_len, dn, (int64_t)time(NULL), &st),
               0);
  return st;
}

Test(verify, organisation_anchor_is_externally_verified_with_details) {
  x509_trust_t *t = trust();
  cred_t r = cred("org", CA_CERT_USER, "alice@acme.example", "Alice Liddell", CA_KEY_ED25519);
  verify_status_t st = judge(t, &r, NULL);
  cr_assert_eq(st.level, X509_EXTERNALLY_VERIFIED);
  cr_assert_eq(st.reason, 0);
  cr_assert_str_eq(st.identity, "alice@acme.example");
  cr_assert_str_eq(st.display_name, "Alice Liddell");
  json_t *o = json_loads(st.details_json, 0, NULL);
  cr_assert_not_null(o);
  cr_assert_str_eq(json_string_value(json_object_get(o, "anchor")), "acme");
  cr_assert_str_eq(json_string_value(json_object_get(o, "issuer")), "CN=org");
  cr_assert_str_eq(json_string_value(json_object_get(o, "key_type")), "Ed25519");
  cr_assert_str_eq(json_string_value(json_object_get(o, "sha256")), r.info.sha256_hex);
  cr_assert_eq(strlen(json_string_value(json_object_get(o, "not_after"))), 20);
  json_decref(o);
  verify_status_clear(&st);
  /* A display name the member signed wins over the CN. */
  st = judge(t, &r, "Alice (Room)");
  cr_assert_str_eq(st.display_name, "Alice (Room)");
  verify_status_clear(&st);
  cred_free(&r);
  x509_trust_free(t);
}

Test(verify, operator_anchor_is_operator_verified_and_device_identity_is_dns) {
  x509_trust_t *t = trust();
  cred_t r = cred("operator", CA_CERT_DEVICE, "room7.veil.example", "Room 7", CA_KEY_P256);
  verify_status_t st = judge(t, &r, NULL);
  cr_assert_eq(st.level, X509_OPERATOR_VERIFIED);
  cr_assert_str_eq(st.identity, "room7.veil.example");
  cr_assert_str_eq(st.display_name, "Room 7");
  verify_status_clear(&st);
  cred_free(&r);
  x509_trust_free(t);
}

Test(verify, unknown_issuer_is_unverified_with_reason) {
  x509_trust_t *t = trust();
  cred_t r = cred("rogue", CA_CERT_USER, "alice@acme.example", "Alice", CA_KEY_P256);
  verify_status_t st = judge(t, &r, NULL);
  cr_assert_eq(st.level, X509_UNVERIFIED);
  cr_assert_eq(st.reason, VEIL_EX509_UNTRUSTED);
  cr_assert_neq(st.reason_text[0], '\0');
  json_t *o = json_loads(st.details_json, 0, NULL);
  cr_assert_str_eq(json_string_value(json_object_get(o, "anchor")), "");
  cr_assert_str_eq(json_string_value(json_object_get(o, "level")), "unverified");
  json_decref(o);
  verify_status_clear(&st);
  cred_free(&r);
  x509_trust_free(t);
}

Test(verify, leaf_key_other_than_the_signature_key_is_unverified) {
  x509_trust_t *t = trust();
  cred_t r = cred("org", CA_CERT_USER, "alice@acme.example", "Alice", CA_KEY_P256);
  uint8_t priv[32], other[65];
  cr_assert_eq(vc_sig_generate(VC_ECDSA_P256_SHA256, priv, other), 0);
  verify_status_t st;
  cr_assert_eq(verify_x509_credential(t, r.der, 1, VC_ECDSA_P256_SHA256, other, 65, NULL,
                                      (int64_t)time(NULL), &st),
               0);
  cr_assert_eq(st.level, X509_UNVERIFIED, "a valid chain does not vouch for another key");
  cr_assert_eq(st.reason, VEIL_EID_KEY_MISMATCH);
  verify_status_clear(&st);
  /* the right key bytes under the wrong scheme */
  cr_assert_eq(verify_x509_credential(t, r.der, 1, VC_ED25519, r.info.public_key, 65, NULL,
                                      (int64_t)time(NULL), &st),
               0);
  cr_assert_eq(st.reason, VEIL_EID_KEY_MISMATCH);
  verify_status_clear(&st);
  cred_free(&r);
  x509_trust_free(t);
}

Test(verify, expired_certificate_is_unverified) {
  x509_trust_t *t = trust();
  cred_t r = cred("org", CA_CERT_USER, "alice@acme.example", "Alice", CA_KEY_P256);
  verify_status_t st;
  cr_assert_eq(verify_x509_credential(t, r.der, 1, r.info.key_type, r.info.public_key,
                                      r.info.public_key_len, NULL,
                                      (int64_t)time(NULL) + 40 * 86400, &st),
               0);
  cr_assert_eq(st.level, X509_UNVERIFIED);
  cr_assert_eq(st.reason, VEIL_EX509_EXPIRED);
  verify_status_clear(&st);
  cred_free(&r);
  x509_trust_free(t);
}

Test(verify, basic_credential_is_unverified_and_garbage_is_an_error) {
  verify_status_t st;
  cr_assert_eq(verify_basic_credential((const uint8_t *)"bob", 3, NULL, &st), 0);
  cr_assert_eq(st.level, X509_UNVERIFIED);
  cr_assert_eq(st.reason, VEIL_EID_BASIC);
  cr_assert_str_eq(st.identity, "bob");
  cr_assert_str_eq(st.display_name, "bob");
  json_t *o = json_loads(st.details_json, 0, NULL);
  cr_assert_str_eq(json_string_value(json_object_get(o, "credential")), "basic");
  json_decref(o);
  verify_status_clear(&st);
  x509_trust_t *t = x509_trust_new();
  uint8_t junk[] = {0x30, 0x03, 0x02, 0x01, 0x01};
  veil_view_t v = {junk, sizeof junk};
  uint8_t key[32] = {0};
  cr_assert_lt(verify_x509_credential(t, &v, 1, VC_ED25519, key, 32, NULL, 0, &st), 0);
  cr_assert_null(st.details_json);
  x509_trust_free(t);
}

/* ---- PEM private keys ------------------------------------------------------------------ */

static char *pem_of(EVP_PKEY *k, int traditional) {
  BIO *b = BIO_new(BIO_s_mem());
  if (traditional)
    cr_assert(PEM_write_bio_PrivateKey_traditional(b, k, NULL, NULL, 0, NULL, NULL));
  else
    cr_assert(PEM_write_bio_PrivateKey(b, k, NULL, NULL, 0, NULL, NULL));
  char *p;
  long n = BIO_get_mem_data(b, &p);
  char *s = strndup(p, (size_t)n);
  BIO_free(b);
  return s;
}

static void check_roundtrip(EVP_PKEY *k, int traditional, vc_sig_t want) {
  char *pem = pem_of(k, traditional);
  vc_sig_t type;
  uint8_t priv[32], pub[65], expect[65];
  cr_assert_eq(pemkey_decode(pem, strlen(pem), &type, priv), 0, "%s", pem);
  cr_assert_eq(type, want);
  size_t el = sizeof expect;
  if (want == VC_ED25519)
    cr_assert(EVP_PKEY_get_raw_public_key(k, expect, &el));
  else
    cr_assert(EVP_PKEY_get_octet_string_param(k, "pub", expect, sizeof expect, &el));
  cr_assert_eq(vc_sig_public(want, priv, pub), 0);
  cr_assert_arr_eq(pub, expect, el);
  free(pem);
}

Test(pemkey, reads_pkcs8_p256_sec1_p256_and_pkcs8_ed25519) {
  EVP_PKEY *ec = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
  EVP_PKEY *ed = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
  check_roundtrip(ec, 0, VC_ECDSA_P256_SHA256);
  check_roundtrip(ec, 1, VC_ECDSA_P256_SHA256);
  check_roundtrip(ed, 0, VC_ED25519);
  EVP_PKEY_free(ec);
  EVP_PKEY_free(ed);
}

Test(pemkey, refuses_other_curves_rsa_encrypted_and_damaged_keys) {
  vc_sig_t type;
  uint8_t priv[32];
  EVP_PKEY *p384 = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384");
  char *pem = pem_of(p384, 0);
  cr_assert_eq(pemkey_decode(pem, strlen(pem), &type, priv), VEIL_EID_PEMKEY);
  free(pem);
  pem = pem_of(p384, 1);
  cr_assert_eq(pemkey_decode(pem, strlen(pem), &type, priv), VEIL_EID_PEMKEY);
  free(pem);
  EVP_PKEY_free(p384);
  EVP_PKEY *rsa = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)1024);
  pem = pem_of(rsa, 0);
  cr_assert_eq(pemkey_decode(pem, strlen(pem), &type, priv), VEIL_EID_PEMKEY);
  free(pem);
  EVP_PKEY_free(rsa);

  EVP_PKEY *ec = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
  BIO *b = BIO_new(BIO_s_mem());
  cr_assert(PEM_write_bio_PKCS8PrivateKey(b, ec, EVP_aes_128_cbc(), NULL, 0, NULL, "pw"));
  char *p;
  long n = BIO_get_mem_data(b, &p);
  cr_assert_eq(pemkey_decode(p, (size_t)n, &type, priv), VEIL_EID_PEMKEY);
  BIO_free(b);
  /* every truncation and a flipped length byte */
  pem = pem_of(ec, 0);
  size_t len = strlen(pem);
  for (size_t cut = 0; cut < len; cut += 7)
    cr_assert_neq(pemkey_decode(pem, cut, &type, priv), 0, "cut %zu", cut);
  char *body = strchr(pem, '\n') + 1;
  body[3] = body[3] == 'A' ? 'B' : 'A'; /* inside the outer SEQUENCE length */
  cr_assert_eq(pemkey_decode(pem, len, &type, priv), VEIL_EID_PEMKEY);
  free(pem);
  EVP_PKEY_free(ec);
  cr_assert_eq(pemkey_decode("hello", 5, &type, priv), VEIL_EID_PEMKEY);
}

Test(verify, unsupported_key_type_is_shown_as_unverified) {
  EVP_PKEY *rsa = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)1024);
  X509 *x = X509_new();
  X509_set_version(x, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(x), 7);
  X509_gmtime_adj(X509_getm_notBefore(x), -60);
  X509_gmtime_adj(X509_getm_notAfter(x), 3600);
  X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_ASC,
                             (const unsigned char *)"rsa-user", -1, -1, 0);
  X509_set_issuer_name(x, X509_get_subject_name(x));
  X509_set_pubkey(x, rsa);
  cr_assert(X509_sign(x, rsa, EVP_sha256()));
  unsigned char *der = NULL;
  int len = i2d_X509(x, &der);
  cr_assert_gt(len, 0);
  veil_view_t v = {der, (size_t)len};
  x509_trust_t *t = x509_trust_new();
  uint8_t key[65] = {4};
  verify_status_t st;
  cr_assert_eq(verify_x509_credential(t, &v, 1, VC_ECDSA_P256_SHA256, key, 65, NULL,
                                      (int64_t)time(NULL), &st),
               0);
  cr_assert_eq(st.level, X509_UNVERIFIED);
  cr_assert_eq(st.reason, VEIL_EX509_KEY);
  cr_assert_str_eq(st.identity, "rsa-user");
  verify_status_clear(&st);
  x509_trust_free(t);
  OPENSSL_free(der);
  X509_free(x);
  EVP_PKEY_free(rsa);
}
