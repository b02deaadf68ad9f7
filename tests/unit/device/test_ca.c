/* Unit tests: the CA library behind veil-ca and the operator CA (server/ca/ca.h). */
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>

#include "clients/lib/identity/x509.h"
#include "fixtures.h"

static char *csr_pem(EVP_PKEY *key, EVP_PKEY *signer) {
  X509_REQ *r = X509_REQ_new();
  X509_REQ_set_pubkey(r, key);
  X509_NAME_add_entry_by_txt(X509_REQ_get_subject_name(r), "CN", MBSTRING_ASC,
                             (const unsigned char *)"requested-name", -1, -1, 0);
  cr_assert(X509_REQ_sign(r, signer, EVP_PKEY_get_id(signer) == EVP_PKEY_ED25519 ? NULL
                                                                               : EVP_sha256()));
  BIO *b = BIO_new(BIO_s_mem());
  PEM_write_bio_X509_REQ(b, r);
  char *p;
  long n = BIO_get_mem_data(b, &p);
  char *s = strndup(p, (size_t)n);
  BIO_free(b);
  X509_REQ_free(r);
  return s;
}

static x509_info_t info_of(const char *pem) {
  veil_view_t der[2];
  x509_info_t info;
  cr_assert_eq(x509_pem_to_der(pem, strlen(pem), der, 2), 1);
  cr_assert_eq(x509_parse_info(der[0].ptr, der[0].len, &info), 0);
  free((void *)der[0].ptr);
  return info;
}

Test(ca, issues_from_a_csr_with_the_cas_names_not_the_csrs) {
  ca_t *ca = fx_ca("ca-csr", CA_KEY_P256);
  EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
  char *csr = csr_pem(k, k);
  ca_issue_req_t req = {.kind = CA_CERT_USER, .identity = "bob@acme.example",
                        .common_name = "Bob", .days = 10, .csr_pem = csr,
                        .csr_len = strlen(csr)};
  ca_issued_t is;
  cr_assert_eq(ca_issue(ca, &req, (int64_t)time(NULL), &is), 0);
  cr_assert_null(is.key_pem, "no key is made or returned for a CSR");
  x509_info_t info = info_of(is.cert_pem);
  cr_assert_str_eq(info.common_name, "Bob");
  cr_assert_str_eq(info.email, "bob@acme.example");
  uint8_t pub[65];
  size_t pl = sizeof pub;
  cr_assert(EVP_PKEY_get_octet_string_param(k, "pub", pub, sizeof pub, &pl));
  cr_assert_arr_eq(info.public_key, pub, 65);
  ca_issued_free(&is);
  free(csr);
  EVP_PKEY_free(k);
  ca_close(ca);
}

Test(ca, refuses_a_csr_not_signed_by_its_key_or_with_an_unsupported_key) {
  ca_t *ca = fx_ca("ca-csr", CA_KEY_P256);
  EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
  EVP_PKEY *other = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
  EVP_PKEY *p384 = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384");
  char *forged = csr_pem(k, other), *big = csr_pem(p384, p384);
  const char *cases[] = {forged, big, "-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n"};
  for (size_t i = 0; i < 3; i++) {
    ca_issue_req_t req = {.kind = CA_CERT_USER, .identity = "eve@acme.example", .days = 10,
                          .csr_pem = cases[i], .csr_len = strlen(cases[i])};
    ca_issued_t is;
    cr_assert_eq(ca_issue(ca, &req, (int64_t)time(NULL), &is), VEIL_ECA_CSR, "case %zu", i);
    cr_assert_null(is.cert_pem);
  }
  free(forged);
  free(big);
  EVP_PKEY_free(k);
  EVP_PKEY_free(other);
  EVP_PKEY_free(p384);
  ca_close(ca);
}

Test(ca, refuses_names_that_do_not_fit_the_kind_or_the_index) {
  ca_t *ca = fx_ca("ca-names", CA_KEY_P256);
  const struct {
    ca_kind_t kind;
    const char *id, *cn;
  } bad[] = {
      {CA_CERT_USER, "no-at-sign.example", NULL},
      {CA_CERT_DEVICE, "room@acme.example", NULL},
      {CA_CERT_DEVICE, "room 1.acme.example", NULL},
      {CA_CERT_DEVICE, "room1.acme.example", "tab\there"},
      {CA_CERT_DEVICE, "room1.acme.example", "line\nbreak"},
      {CA_CERT_USER, "", NULL},
      {7, "room1.acme.example", NULL},
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    ca_issue_req_t req = {.kind = bad[i].kind, .identity = bad[i].id,
                          .common_name = bad[i].cn, .key_type = CA_KEY_P256, .days = 1};
    ca_issued_t is;
    cr_assert_eq(ca_issue(ca, &req, (int64_t)time(NULL), &is), VEIL_ECA_NAME, "case %zu", i);
  }
  ca_close(ca);
}

Test(ca, revoke_writes_a_crl_and_refuses_unknown_or_repeated_serials) {
  ca_t *ca = fx_ca("ca-revoke", CA_KEY_ED25519);
  ca_issue_req_t req = {.kind = CA_CERT_DEVICE, .identity = "room3.acme.example",
                        .common_name = "Room 3", .key_type = CA_KEY_P256, .days = 5};
  ca_issued_t is;
  int64_t now = (int64_t)time(NULL);
  cr_assert_eq(ca_issue(ca, &req, now, &is), 0);
  cr_assert_not_null(is.key_pem);
  cr_assert_eq(ca_revoke(ca, "00", now), VEIL_ECA_SERIAL);
  cr_assert_eq(ca_revoke(ca, is.serial_hex, now), 0);
  cr_assert_eq(ca_revoke(ca, is.serial_hex, now), VEIL_ECA_REVOKED);
  char path[512];
  fx_dir(path, sizeof path, "ca-revoke/crl.pem");
  FILE *f = fopen(path, "r");
  cr_assert_not_null(f);
  X509_CRL *crl = PEM_read_X509_CRL(f, NULL, NULL, NULL);
  fclose(f);
  cr_assert_not_null(crl);
  cr_assert_eq(sk_X509_REVOKED_num(X509_CRL_get_REVOKED(crl)), 1);
  /* signed by the CA (Ed25519 here) */
  BIO *b = BIO_new_mem_buf(ca_cert_pem(ca), -1);
  X509 *cac = PEM_read_bio_X509(b, NULL, NULL, NULL);
  EVP_PKEY *pk = X509_get0_pubkey(cac);
  cr_assert_eq(X509_CRL_verify(crl, pk), 1);
  X509_free(cac);
  BIO_free(b);
  X509_CRL_free(crl);
  ca_issued_free(&is);
  ca_close(ca);
}

Test(ca, refuses_a_malformed_index_and_an_existing_ca) {
  ca_t *ca = fx_ca("ca-index", CA_KEY_P256);
  char dir[512], path[600];
  fx_dir(dir, sizeof dir, "ca-index");
  cr_assert_eq(ca_create(dir, "again", CA_KEY_P256, 1, (int64_t)time(NULL)), VEIL_ECA_DIR);
  snprintf(path, sizeof path, "%s/index.txt", dir);
  FILE *f = fopen(path, "w");
  fputs("V\tABC\tnot-a-number\t0\tuser\ta@b.c\ta@b.c\n", f);
  fclose(f);
  cr_assert_eq(ca_revoke(ca, "ABC", 0), VEIL_ECA_INDEX);
  ca_issue_req_t req = {.kind = CA_CERT_USER, .identity = "a@b.c", .key_type = CA_KEY_P256,
                        .days = 1};
  ca_issued_t is;
  cr_assert_eq(ca_issue(ca, &req, (int64_t)time(NULL), &is), VEIL_ECA_INDEX);
  ca_close(ca);
  fx_dir(path, sizeof path, "not-a-ca");
  cr_assert_eq(ca_open(path, &ca), VEIL_ECA_DIR);
}

Test(ca, ca_key_file_is_private) {
  ca_t *ca = fx_ca("ca-mode", CA_KEY_P256);
  ca_close(ca);
  char path[512];
  fx_dir(path, sizeof path, "ca-mode/ca.key");
  struct stat st;
  cr_assert_eq(stat(path, &st), 0);
  cr_assert_eq(st.st_mode & 0777, 0600);
}
