/* Unit tests: the operator CA's issuance policy (server/operator_ca.h) on a real CA in a
 * temporary directory, real join tokens (sig_jwt) and real CSRs made with OpenSSL. */
#include <criterion/criterion.h>
#include <ftw.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/hex.h"
#include "server/operator_ca.h"

#define NOW 1800000000LL
#define VALIDITY (24 * 3600)

static char dir[64];
static char cadir[128];
static sig_jwt_key_t *hs_key; /* the server's token key */
static srv_opca_t *opca;

static int rm_one(const char *p, const struct stat *st, int flag, struct FTW *f) {
  (void)st, (void)flag, (void)f;
  return remove(p);
}

static void open_ca(uint32_t per_minute, uint32_t per_identity) {
  char err[256];
  cr_assert_eq(srv_opca_prepare(cadir, true, NOW, err, sizeof err), 0, "%s", err);
  srv_opca_config_t c = {
      .dir = cadir,
      .key = hs_key,
      .token_leeway_s = 30,
      .validity_s = VALIDITY,
      .issue_per_minute = per_minute,
      .identity_per_hour = per_identity,
  };
  cr_assert_eq(srv_opca_open(&c, &opca), 0);
}

static void setup(void) {
  snprintf(dir, sizeof dir, "/tmp/veil-opca-XXXXXX");
  cr_assert(mkdtemp(dir));
  snprintf(cadir, sizeof cadir, "%s/operator-ca", dir);
  static const uint8_t secret[32] = "operator-ca-unit-test-secret-012";
  char text[64];
  veil_b64url_encode(secret, sizeof secret, text);
  cr_assert_eq(sig_jwt_key_from_text(SIG_JWT_HS256, text, strlen(text), &hs_key), 0);
  open_ca(1000, 1000);
}

static void teardown(void) {
  srv_opca_free(opca);
  opca = NULL;
  sig_jwt_key_free(hs_key);
  hs_key = NULL;
  nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

TestSuite(operator_ca, .init = setup, .fini = teardown);

/* "Bearer <token>" for the claims, signed with `key`; the caller frees. */
static char *bearer_for(const sig_jwt_key_t *key, const char *sub, const char *name, int64_t exp, int64_t nbf) {
  sig_claims_t c;
  memset(&c, 0, sizeof c);
  snprintf(c.room, sizeof c.room, "demo");
  snprintf(c.sub, sizeof c.sub, "%s", sub);
  snprintf(c.name, sizeof c.name, "%s", name);
  c.role = SIG_ROLE_MEMBER;
  c.iat = NOW - 10;
  c.exp = exp;
  c.nbf = nbf;
  c.can_publish = c.can_subscribe = true;
  char *tok = NULL;
  cr_assert_eq(sig_jwt_sign(key, &c, &tok), 0);
  char *h = malloc(strlen(tok) + 8);
  sprintf(h, "Bearer %s", tok);
  free(tok);
  return h;
}

static char *alice(void) { return bearer_for(hs_key, "alice@example.org", "Alice", NOW + 600, 0); }

/* A PEM CSR for `key`, signed by `signer` (another key: a failed proof of possession),
 * asking for names the CA must ignore. */
static char *csr_for(EVP_PKEY *key, EVP_PKEY *signer) {
  X509_REQ *r = X509_REQ_new();
  cr_assert(r && X509_REQ_set_pubkey(r, key));
  X509_NAME_add_entry_by_txt(X509_REQ_get_subject_name(r), "CN", MBSTRING_ASC, (const unsigned char *)"mallory", -1,
                             -1, 0);
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, NULL, NULL, r, NULL, 0);
  STACK_OF(X509_EXTENSION) *exts = sk_X509_EXTENSION_new_null();
  X509_EXTENSION *san = X509V3_EXT_conf_nid(NULL, &ctx, NID_subject_alt_name, "email:mallory@evil.example");
  cr_assert(san);
  sk_X509_EXTENSION_push(exts, san);
  X509_REQ_add_extensions(r, exts);
  sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
  cr_assert(X509_REQ_sign(r, signer, EVP_PKEY_get_id(signer) == EVP_PKEY_ED25519 ? NULL : EVP_sha256()));
  BIO *b = BIO_new(BIO_s_mem());
  PEM_write_bio_X509_REQ(b, r);
  char *p;
  long n = BIO_get_mem_data(b, &p);
  char *s = strndup(p, (size_t)n);
  BIO_free(b);
  X509_REQ_free(r);
  return s;
}

static EVP_PKEY *p256(void) { return EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256"); }

static int issue(const char *auth, const char *csr, uint64_t now_ms, srv_opca_result_t *r) {
  return srv_opca_issue(opca, auth, (const uint8_t *)csr, strlen(csr), NOW, now_ms, r);
}

static X509 *parse_cert(const char *pem) {
  BIO *b = BIO_new_mem_buf(pem, -1);
  X509 *x = PEM_read_bio_X509(b, NULL, NULL, NULL);
  BIO_free(b);
  cr_assert(x);
  return x;
}

/* The refusal `want` for this request, counted, with no certificate. */
static void expect_refusal(const char *auth, const char *csr, size_t len, srv_opca_reason_t want, int status) {
  srv_opca_result_t r;
  uint64_t before = srv_opca_count(opca, want);
  int rc = srv_opca_issue(opca, auth, (const uint8_t *)csr, len, NOW, 1000, &r);
  cr_assert_lt(rc, 0);
  cr_assert_eq(r.reason, want, "reason %s, wanted %s", srv_opca_reason_name(r.reason), srv_opca_reason_name(want));
  cr_assert_eq(r.http_status, status);
  cr_assert_null(r.cert_pem);
  cr_assert_eq(srv_opca_count(opca, want), before + 1);
  cr_assert_eq(srv_opca_count(opca, SRV_OPCA_ISSUED), 0);
}

Test(operator_ca, names_come_from_the_token_not_the_csr) {
  EVP_PKEY *k = p256();
  char *csr = csr_for(k, k), *auth = alice();
  srv_opca_result_t r;
  cr_assert_eq(issue(auth, csr, 1000, &r), 0);
  cr_assert_eq(r.http_status, 200);
  cr_assert_str_eq(r.identity, "alice@example.org");
  X509 *x = parse_cert(r.cert_pem);
  char cn[128];
  cr_assert_gt(X509_NAME_get_text_by_NID(X509_get_subject_name(x), NID_commonName, cn, sizeof cn), 0);
  cr_assert_str_eq(cn, "Alice");
  GENERAL_NAMES *gens = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
  cr_assert(gens);
  cr_assert_eq(sk_GENERAL_NAME_num(gens), 1);
  GENERAL_NAME *g = sk_GENERAL_NAME_value(gens, 0);
  cr_assert_eq(g->type, GEN_EMAIL);
  cr_assert_str_eq((const char *)ASN1_STRING_get0_data(g->d.rfc822Name), "alice@example.org");
  GENERAL_NAMES_free(gens);
  cr_assert_null(strstr(r.cert_pem, "mallory"));
  /* The CSR's key, signed by the operator CA, valid for the configured time. */
  cr_assert_eq(EVP_PKEY_eq(X509_get0_pubkey(x), k), 1);
  X509 *cax = parse_cert(srv_opca_cert_pem(opca));
  cr_assert_eq(X509_verify(x, X509_get0_pubkey(cax)), 1);
  cr_assert_eq(X509_check_issued(cax, x), X509_V_OK);
  int days = 0, secs = 0;
  cr_assert(ASN1_TIME_diff(&days, &secs, X509_get0_notBefore(x), X509_get0_notAfter(x)));
  cr_assert_leq(days * 86400 + secs, VALIDITY + 120, "lifetime %d s", days * 86400 + secs);
  cr_assert_geq(days * 86400 + secs, VALIDITY);
  cr_assert_eq(srv_opca_count(opca, SRV_OPCA_ISSUED), 1);
  X509_free(cax);
  X509_free(x);
  free(r.cert_pem);
  free(csr);
  free(auth);
  EVP_PKEY_free(k);
}

Test(operator_ca, a_non_email_identity_becomes_a_dns_name_and_ed25519_is_accepted) {
  EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
  char *csr = csr_for(k, k), *auth = bearer_for(hs_key, "room3.acme.example", "Room 3", NOW + 600, 0);
  srv_opca_result_t r;
  cr_assert_eq(issue(auth, csr, 1000, &r), 0);
  X509 *x = parse_cert(r.cert_pem);
  GENERAL_NAMES *gens = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
  cr_assert_eq(sk_GENERAL_NAME_num(gens), 1);
  GENERAL_NAME *g = sk_GENERAL_NAME_value(gens, 0);
  cr_assert_eq(g->type, GEN_DNS);
  cr_assert_str_eq((const char *)ASN1_STRING_get0_data(g->d.dNSName), "room3.acme.example");
  GENERAL_NAMES_free(gens);
  X509_free(x);
  free(r.cert_pem);
  free(csr);
  free(auth);
  EVP_PKEY_free(k);
}

Test(operator_ca, refuses_a_missing_or_non_bearer_authorization) {
  EVP_PKEY *k = p256();
  char *csr = csr_for(k, k);
  expect_refusal(NULL, csr, strlen(csr), SRV_OPCA_R_TOKEN_MISSING, 401);
  expect_refusal("", csr, strlen(csr), SRV_OPCA_R_TOKEN_MISSING, 401);
  expect_refusal("Basic YWxpY2U6c2VjcmV0", csr, strlen(csr), SRV_OPCA_R_TOKEN_MISSING, 401);
  expect_refusal("Bearer not.a.token", csr, strlen(csr), SRV_OPCA_R_TOKEN_MALFORMED, 401);
  free(csr);
  EVP_PKEY_free(k);
}

Test(operator_ca, refuses_a_token_with_a_bad_signature) {
  EVP_PKEY *k = p256();
  char *csr = csr_for(k, k), *auth = alice();
  /* Flip one character of the signature (the last part of the JWS). */
  size_t n = strlen(auth);
  auth[n - 2] = auth[n - 2] == 'A' ? 'B' : 'A';
  expect_refusal(auth, csr, strlen(csr), SRV_OPCA_R_TOKEN_SIGNATURE, 401);
  free(csr);
  free(auth);
  EVP_PKEY_free(k);
}

Test(operator_ca, refuses_a_token_of_another_algorithm) {
  /* Signed ES256 with a key of its own; the server accepts only HS256 (config). */
  sig_jwt_key_t *es = NULL;
  cr_assert_eq(sig_jwt_key_generate(SIG_JWT_ES256, &es), 0);
  EVP_PKEY *k = p256();
  char *csr = csr_for(k, k), *auth = bearer_for(es, "alice@example.org", "Alice", NOW + 600, 0);
  expect_refusal(auth, csr, strlen(csr), SRV_OPCA_R_TOKEN_ALG, 401);
  free(csr);
  free(auth);
  EVP_PKEY_free(k);
  sig_jwt_key_free(es);
}

Test(operator_ca, refuses_an_expired_or_not_yet_valid_token) {
  EVP_PKEY *k = p256();
  char *csr = csr_for(k, k);
  char *old = bearer_for(hs_key, "alice@example.org", "Alice", NOW - 31, 0);
  expect_refusal(old, csr, strlen(csr), SRV_OPCA_R_TOKEN_EXPIRED, 401);
  char *early = bearer_for(hs_key, "alice@example.org", "Alice", NOW + 600, NOW + 300);
  expect_refusal(early, csr, strlen(csr), SRV_OPCA_R_TOKEN_NOT_YET_VALID, 401);
  free(old);
  free(early);
  free(csr);
  EVP_PKEY_free(k);
}

Test(operator_ca, refuses_an_oversized_csr_before_any_token_work) {
  size_t n = SRV_OPCA_CSR_MAX + 1;
  char *big = malloc(n);
  memset(big, 'A', n);
  /* No token at all: the size is checked first, so the answer is about the size. */
  expect_refusal(NULL, big, n, SRV_OPCA_R_CSR_TOO_LARGE, 413);
  /* The shell's "declared too large, body not read" form. */
  char *auth = alice();
  expect_refusal(auth, NULL, 1u << 30, SRV_OPCA_R_CSR_TOO_LARGE, 413);
  free(auth);
  free(big);
}

Test(operator_ca, refuses_a_csr_whose_signature_fails) {
  EVP_PKEY *k = p256(), *other = p256();
  char *csr = csr_for(k, other), *auth = alice();
  expect_refusal(auth, csr, strlen(csr), SRV_OPCA_R_CSR_SIGNATURE, 400);
  free(csr);
  free(auth);
  EVP_PKEY_free(k);
  EVP_PKEY_free(other);
}

Test(operator_ca, refuses_rsa_and_other_curves) {
  EVP_PKEY *rsa = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
  EVP_PKEY *p384 = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384");
  char *auth = alice(), *c1 = csr_for(rsa, rsa), *c2 = csr_for(p384, p384);
  expect_refusal(auth, c1, strlen(c1), SRV_OPCA_R_CSR_KEY_TYPE, 400);
  expect_refusal(auth, c2, strlen(c2), SRV_OPCA_R_CSR_KEY_TYPE, 400);
  free(c1);
  free(c2);
  free(auth);
  EVP_PKEY_free(rsa);
  EVP_PKEY_free(p384);
}

Test(operator_ca, refuses_a_malformed_csr) {
  char *auth = alice();
  const char *junk = "-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n";
  expect_refusal(auth, junk, strlen(junk), SRV_OPCA_R_CSR_MALFORMED, 400);
  expect_refusal(auth, "", 0, SRV_OPCA_R_CSR_MALFORMED, 400);
  free(auth);
}

Test(operator_ca, refuses_identities_that_are_neither_email_nor_dns) {
  EVP_PKEY *k = p256();
  char *csr = csr_for(k, k);
  static const char *const bad[] = {"bob smith", "a,b@example.org", "a@b@example.org", "@example.org",
                                    "bob@-bad.example", "dns:evil", "x..y@example.org", "bad_label.example"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    char *auth = bearer_for(hs_key, bad[i], "Bob", NOW + 600, 0);
    expect_refusal(auth, csr, strlen(csr), SRV_OPCA_R_IDENTITY, 403);
    free(auth);
  }
  /* A display name server/ca cannot write (not printable ASCII). */
  char *auth = bearer_for(hs_key, "zoe@example.org", "Zo\xc3\xab", NOW + 600, 0);
  expect_refusal(auth, csr, strlen(csr), SRV_OPCA_R_NAME, 403);
  free(auth);
  free(csr);
  EVP_PKEY_free(k);
}

Test(operator_ca, rate_limits_all_requests_and_each_identity) {
  srv_opca_free(opca);
  opca = NULL;
  open_ca(3, 2); /* 3 per minute in all, 2 per hour per identity */
  EVP_PKEY *k = p256();
  char *csr = csr_for(k, k), *a = alice(), *b = bearer_for(hs_key, "bob@example.org", "Bob", NOW + 600, 0);
  srv_opca_result_t r;
  cr_assert_eq(issue(a, csr, 1000, &r), 0);
  free(r.cert_pem);
  cr_assert_eq(issue(a, csr, 1001, &r), 0);
  free(r.cert_pem);
  cr_assert_eq(issue(a, csr, 1002, &r), VEIL_ESRV_OPCA_RATE);
  cr_assert_eq(r.reason, SRV_OPCA_R_IDENTITY_RATE_LIMITED);
  cr_assert_eq(r.http_status, 429);
  /* The global bucket (3/min) is now empty: even bob waits. */
  cr_assert_eq(issue(b, csr, 1003, &r), VEIL_ESRV_OPCA_RATE);
  cr_assert_eq(r.reason, SRV_OPCA_R_RATE_LIMITED);
  /* 20 s later one global token is back; bob has his own identity budget. */
  cr_assert_eq(issue(b, csr, 21003, &r), 0);
  free(r.cert_pem);
  /* Alice's hour is not over after a minute. */
  cr_assert_eq(issue(a, csr, 61003, &r), VEIL_ESRV_OPCA_RATE);
  cr_assert_eq(r.reason, SRV_OPCA_R_IDENTITY_RATE_LIMITED);
  cr_assert_eq(srv_opca_count(opca, SRV_OPCA_ISSUED), 3);
  free(csr);
  free(a);
  free(b);
  EVP_PKEY_free(k);
}

Test(operator_ca, metrics_count_issued_and_refusals_by_reason) {
  EVP_PKEY *k = p256();
  char *csr = csr_for(k, k), *auth = alice();
  srv_opca_result_t r;
  cr_assert_eq(issue(auth, csr, 1000, &r), 0);
  free(r.cert_pem);
  cr_assert_lt(issue(NULL, csr, 1001, &r), 0);
  char *page = strdup("# other families\n");
  size_t len = strlen(page);
  cr_assert_eq(srv_opca_metrics_append(opca, &page, &len), 0);
  cr_assert_eq(strlen(page), len);
  cr_assert(strstr(page, "# other families\n"));
  cr_assert(strstr(page, "# TYPE veil_operator_ca_issued_total counter\nveil_operator_ca_issued_total 1\n"));
  cr_assert(strstr(page, "veil_operator_ca_refused_total{reason=\"token_missing\"} 1\n"));
  cr_assert(strstr(page, "veil_operator_ca_refused_total{reason=\"csr_signature\"} 0\n"));
  free(page);
  free(csr);
  free(auth);
  EVP_PKEY_free(k);
}

Test(operator_ca, a_configured_directory_without_a_ca_is_an_error_and_a_created_one_is_kept) {
  char err[256], other[160];
  snprintf(other, sizeof other, "%s/missing", dir);
  cr_assert_eq(srv_opca_prepare(other, false, NOW, err, sizeof err), VEIL_ESRV_OPCA_CA);
  cr_assert(strstr(err, "operator_ca_dir"), "%s", err);
  /* A second start finds the same CA instead of replacing it. */
  char *first = strdup(srv_opca_cert_pem(opca));
  srv_opca_free(opca);
  opca = NULL;
  open_ca(10, 10);
  cr_assert_str_eq(srv_opca_cert_pem(opca), first);
  free(first);
}
