/* Unit tests: member verification status (clients/lib/identity/verify.h) and PEM private
 * keys (clients/lib/identity/pemkey.h). */
#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "clients/lib/identity/pemkey.h"
#include "clients/lib/identity/verify.h"
#include "fixtures.h"

/* One verification of an issued credential against the org/operator trust store. */
typedef struct judged {
  x509_trust_t *t;
  fx_cred_t r;
  verify_status_t st;
} judged_t;

static judged_t judge_issued(const char *ca, ca_kind_t kind, const char *id, const char *cn,
                             ca_key_type_t kt) {
  judged_t j = {.t = fx_trust()};
  j.r = fx_cred(ca, kind, id, cn, kt);
  j.st = fx_judge(j.t, &j.r, NULL);
  return j;
}

static void judged_free(judged_t *j) {
  verify_status_clear(&j->st);
  fx_cred_free(&j->r);
  x509_trust_free(j->t);
}

Test(verify, organisation_anchor_is_externally_verified_with_details) {
  judged_t j = judge_issued("org", CA_CERT_USER, "alice@acme.example", "Alice Liddell",
                            CA_KEY_ED25519);
  cr_assert_eq(j.st.level, X509_EXTERNALLY_VERIFIED);
  cr_assert_eq(j.st.reason, 0);
  cr_assert_str_eq(j.st.identity, "alice@acme.example");
  cr_assert_str_eq(j.st.display_name, "Alice Liddell");
  fx_json_str_eq(j.st.details_json, "anchor", "acme");
  fx_json_str_eq(j.st.details_json, "issuer", "CN=org");
  fx_json_str_eq(j.st.details_json, "key_type", "Ed25519");
  fx_json_str_eq(j.st.details_json, "sha256", j.r.info.sha256_hex);
  json_t *o = json_loads(j.st.details_json, 0, NULL);
  cr_assert_not_null(o);
  cr_assert_eq(strlen(json_string_value(json_object_get(o, "not_after"))), 20);
  json_decref(o);
  /* A display name the member signed wins over the CN. */
  verify_status_t named = fx_judge(j.t, &j.r, "Alice (Room)");
  cr_assert_str_eq(named.display_name, "Alice (Room)");
  verify_status_clear(&named);
  judged_free(&j);
}

Test(verify, operator_anchor_is_operator_verified_and_device_identity_is_dns) {
  judged_t j = judge_issued("operator", CA_CERT_DEVICE, "room7.veil.example", "Room 7",
                            CA_KEY_P256);
  cr_assert_eq(j.st.level, X509_OPERATOR_VERIFIED);
  cr_assert_str_eq(j.st.identity, "room7.veil.example");
  cr_assert_str_eq(j.st.display_name, "Room 7");
  judged_free(&j);
}

Test(verify, unknown_issuer_is_unverified_with_reason) {
  judged_t j = judge_issued("rogue", CA_CERT_USER, "alice@acme.example", "Alice", CA_KEY_P256);
  cr_assert_eq(j.st.level, X509_UNVERIFIED);
  cr_assert_eq(j.st.reason, VEIL_EX509_UNTRUSTED);
  cr_assert_neq(j.st.reason_text[0], '\0');
  fx_json_str_eq(j.st.details_json, "anchor", "");
  fx_json_str_eq(j.st.details_json, "level", "unverified");
  judged_free(&j);
}

Test(verify, leaf_key_other_than_the_signature_key_is_unverified) {
  judged_t j = judge_issued("org", CA_CERT_USER, "alice@acme.example", "Alice", CA_KEY_P256);
  cr_assert_eq(j.st.level, X509_EXTERNALLY_VERIFIED, "the chain itself is trusted");
  uint8_t priv[32], other[65];
  cr_assert_eq(vc_sig_generate(VC_ECDSA_P256_SHA256, priv, other), 0);
  int64_t now = (int64_t)time(NULL);
  verify_status_t st = fx_verify_key(j.t, &j.r, VC_ECDSA_P256_SHA256, other, 65, NULL, now);
  cr_assert_eq(st.level, X509_UNVERIFIED, "a valid chain does not vouch for another key");
  cr_assert_eq(st.reason, VEIL_EID_KEY_MISMATCH);
  verify_status_clear(&st);
  /* the right key bytes under the wrong scheme */
  st = fx_verify_key(j.t, &j.r, VC_ED25519, j.r.info.public_key, 65, NULL, now);
  cr_assert_eq(st.reason, VEIL_EID_KEY_MISMATCH);
  verify_status_clear(&st);
  judged_free(&j);
}

Test(verify, expired_certificate_is_unverified) {
  judged_t j = judge_issued("org", CA_CERT_USER, "alice@acme.example", "Alice", CA_KEY_P256);
  cr_assert_eq(j.st.level, X509_EXTERNALLY_VERIFIED, "valid today");
  verify_status_t st = fx_verify_key(j.t, &j.r, j.r.info.key_type, j.r.info.public_key,
                                     j.r.info.public_key_len, NULL,
                                     (int64_t)time(NULL) + 40 * 86400);
  cr_assert_eq(st.level, X509_UNVERIFIED);
  cr_assert_eq(st.reason, VEIL_EX509_EXPIRED);
  verify_status_clear(&st);
  judged_free(&j);
}

Test(verify, basic_credential_is_unverified_and_garbage_is_an_error) {
  verify_status_t st;
  cr_assert_eq(verify_basic_credential((const uint8_t *)"bob", 3, NULL, &st), 0);
  cr_assert_eq(st.level, X509_UNVERIFIED);
  cr_assert_eq(st.reason, VEIL_EID_BASIC);
  cr_assert_str_eq(st.identity, "bob");
  cr_assert_str_eq(st.display_name, "bob");
  fx_json_str_eq(st.details_json, "credential", "basic");
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

static void check_refused(EVP_PKEY *k, int traditional) {
  char *pem = pem_of(k, traditional);
  vc_sig_t type;
  uint8_t priv[32];
  cr_assert_eq(pemkey_decode(pem, strlen(pem), &type, priv), VEIL_EID_PEMKEY, "%s", pem);
  free(pem);
}

Test(pemkey, refuses_other_curves_rsa_encrypted_and_damaged_keys) {
  vc_sig_t type;
  uint8_t priv[32];
  EVP_PKEY *p384 = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384");
  check_refused(p384, 0);
  check_refused(p384, 1);
  EVP_PKEY_free(p384);
  EVP_PKEY *rsa = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)1024);
  check_refused(rsa, 0);
  EVP_PKEY_free(rsa);

  EVP_PKEY *ec = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
  BIO *b = BIO_new(BIO_s_mem());
  cr_assert(PEM_write_bio_PKCS8PrivateKey(b, ec, EVP_aes_128_cbc(), NULL, 0, NULL, "pw"));
  char *p;
  long n = BIO_get_mem_data(b, &p);
  cr_assert_eq(pemkey_decode(p, (size_t)n, &type, priv), VEIL_EID_PEMKEY);
  BIO_free(b);
  /* every truncation and a flipped length byte */
  char *pem = pem_of(ec, 0);
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
