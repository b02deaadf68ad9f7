/* Unit tests of the X.509 credential validator: the three verification levels and why. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clients/lib/identity/x509.h"

static char *slurp(const char *name, size_t *len) {
  char path[1024];
  const char *root = getenv("VEIL_SOURCE_ROOT");
  snprintf(path, sizeof path, "%s/tests/unit/client/fixtures/%s", root ? root : ".", name);
  FILE *f = fopen(path, "rb");
  cr_assert_not_null(f, "fixture %s", path);
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  char *buf = malloc((size_t)n + 1);
  cr_assert_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
  buf[n] = '\0';
  fclose(f);
  *len = (size_t)n;
  return buf;
}

/* Loads a PEM file as a DER chain (leaf first); returns the count. */
static size_t load_chain(const char *name, veil_view_t *out, size_t max) {
  size_t len;
  char *pem = slurp(name, &len);
  int n = x509_pem_to_der(pem, len, out, max);
  free(pem);
  cr_assert_gt(n, 0);
  return (size_t)n;
}

static void free_chain(veil_view_t *c, size_t n) {
  for (size_t i = 0; i < n; i++)
    free((void *)c[i].ptr);
}

static x509_trust_t *trust(int with_org, int with_operator) {
  x509_trust_t *t = x509_trust_new();
  size_t len;
  if (with_org) {
    char *pem = slurp("org-ca.pem", &len);
    cr_assert_eq(x509_trust_add_pem(t, pem, len, X509_ANCHOR_ORGANISATION, "Example Org"), 0);
    free(pem);
  }
  if (with_operator) {
    char *pem = slurp("operator-ca.pem", &len);
    cr_assert_eq(x509_trust_add_pem(t, pem, len, X509_ANCHOR_OPERATOR, "operator"), 0);
    free(pem);
  }
  return t;
}

/* The fixtures are valid for 100 years from when they were made: judge them now. */
#define NOW ((int64_t)time(NULL))

static x509_verdict_t judge(x509_trust_t *t, const char *leaf, int64_t now) {
  veil_view_t chain[4];
  size_t n = load_chain(leaf, chain, 4);
  x509_verdict_t v;
  cr_assert_eq(x509_verify_chain(t, chain, n, now, &v), 0);
  if (v.level == X509_UNVERIFIED)
    cr_log_info("%s: unverified: %s (%s)", leaf, veil_strerror(v.reason), v.reason_text);
  free_chain(chain, n);
  return v;
}

Test(x509, organisation_chain_is_externally_verified_with_email_identity) {
  x509_trust_t *t = trust(1, 1);
  x509_verdict_t v = judge(t, "alice-org.pem", NOW);
  cr_assert_eq(v.level, X509_EXTERNALLY_VERIFIED);
  cr_assert_str_eq(v.anchor, "Example Org");
  cr_assert_str_eq(v.leaf.email, "alice@example.org");
  cr_assert_str_eq(v.leaf.common_name, "Alice Example");
  cr_assert_eq(v.leaf.key_type, VC_ECDSA_P256_SHA256);
  cr_assert_eq(v.leaf.public_key_len, 65);
  cr_assert_eq(v.leaf.public_key[0], 0x04);
  cr_assert_eq(strlen(v.leaf.sha256_hex), 64);
  cr_assert_eq(strlen(v.leaf.sha1_hex), 40);
  x509_trust_free(t);
}

Test(x509, operator_chain_is_only_operator_verified) {
  x509_trust_t *t = trust(1, 1);
  x509_verdict_t v = judge(t, "bob-operator.pem", NOW);
  cr_assert_eq(v.level, X509_OPERATOR_VERIFIED);
  cr_assert_str_eq(v.anchor, "operator");
  cr_assert_str_eq(v.leaf.email, "bob@example.net");
  x509_trust_free(t);
}

Test(x509, organisation_cert_without_that_anchor_is_unverified) {
  x509_trust_t *t = trust(0, 1);
  x509_verdict_t v = judge(t, "alice-org.pem", NOW);
  cr_assert_eq(v.level, X509_UNVERIFIED);
  cr_assert_eq(v.reason, VEIL_EX509_UNTRUSTED);
  cr_assert_str_eq(v.anchor, "");
  x509_trust_free(t);
}

Test(x509, self_signed_claiming_an_identity_is_unverified) {
  x509_trust_t *t = trust(1, 1);
  x509_verdict_t v = judge(t, "self.pem", NOW);
  cr_assert_eq(v.level, X509_UNVERIFIED);
  cr_assert_eq(v.reason, VEIL_EX509_SELF_SIGNED);
  cr_assert(v.leaf.self_signed);
  cr_assert_str_eq(v.leaf.email, "alice@example.org"); /* shown, but not trusted */
  x509_trust_free(t);
}

Test(x509, expired_and_not_yet_valid_are_unverified) {
  x509_trust_t *t = trust(1, 1);
  x509_verdict_t v = judge(t, "alice-org.pem", NOW + (int64_t)200 * 365 * 86400);
  cr_assert_eq(v.level, X509_UNVERIFIED);
  cr_assert_eq(v.reason, VEIL_EX509_EXPIRED);
  v = judge(t, "alice-org.pem", 1000000000); /* 2001: before notBefore */
  cr_assert_eq(v.level, X509_UNVERIFIED);
  cr_assert_eq(v.reason, VEIL_EX509_EXPIRED);
  x509_trust_free(t);
}

Test(x509, device_certificate_has_dns_identity_and_readable_name) {
  x509_trust_t *t = trust(1, 0);
  x509_verdict_t v = judge(t, "room-device.pem", NOW);
  cr_assert_eq(v.level, X509_EXTERNALLY_VERIFIED);
  cr_assert_str_eq(v.leaf.dns, "room4.example.org");
  cr_assert_str_eq(v.leaf.common_name, "Board Room 4");
  x509_trust_free(t);
}

Test(x509, ed25519_key_is_extracted_raw) {
  x509_trust_t *t = trust(1, 0);
  x509_verdict_t v = judge(t, "carol-ed25519.pem", NOW);
  cr_assert_eq(v.level, X509_EXTERNALLY_VERIFIED);
  cr_assert_eq(v.leaf.key_type, VC_ED25519);
  cr_assert_eq(v.leaf.public_key_len, 32);
  x509_trust_free(t);
}

Test(x509, p384_key_is_refused_as_unsupported) {
  x509_trust_t *t = trust(1, 0);
  veil_view_t chain[2];
  size_t n = load_chain("dave-p384.pem", chain, 2);
  x509_verdict_t v;
  cr_assert_eq(x509_verify_chain(t, chain, n, NOW, &v), VEIL_EX509_KEY);
  free_chain(chain, n);
  x509_trust_free(t);
}

Test(x509, truncated_or_trailing_der_is_rejected) {
  veil_view_t chain[2];
  size_t n = load_chain("alice-org.pem", chain, 2);
  x509_info_t info;
  cr_assert_eq(x509_parse_info(chain[0].ptr, chain[0].len, &info), 0);
  for (size_t cut = 0; cut < chain[0].len; cut += 7)
    cr_assert_eq(x509_parse_info(chain[0].ptr, cut, &info), VEIL_EX509_PARSE, "cut %zu", cut);
  uint8_t *longer = malloc(chain[0].len + 1);
  memcpy(longer, chain[0].ptr, chain[0].len);
  longer[chain[0].len] = 0;
  cr_assert_eq(x509_parse_info(longer, chain[0].len + 1, &info), VEIL_EX509_PARSE);
  free(longer);
  free_chain(chain, n);
}

Test(x509, forged_signature_breaks_the_chain) {
  x509_trust_t *t = trust(1, 1);
  veil_view_t chain[2];
  size_t n = load_chain("alice-org.pem", chain, 2);
  /* Flip a bit in the last byte of the signature value. */
  uint8_t *der = (uint8_t *)chain[0].ptr;
  der[chain[0].len - 1] ^= 0x01;
  x509_verdict_t v;
  int rc = x509_verify_chain(t, chain, n, NOW, &v);
  cr_assert(rc == 0 || rc == VEIL_EX509_PARSE);
  if (rc == 0)
    cr_assert_eq(v.level, X509_UNVERIFIED);
  free_chain(chain, n);
  x509_trust_free(t);
}

Test(x509, anchor_text_without_certificates_is_an_error) {
  x509_trust_t *t = x509_trust_new();
  cr_assert_eq(x509_trust_add_pem(t, "not a pem", 9, X509_ANCHOR_ORGANISATION, "x"), VEIL_EDECODE);
  x509_trust_free(t);
}

/* ---- revocation (CRLs of the trust configuration; fixtures from fixtures/make_crls.py) --- */

/* The fixture CRLs were made 2026-12-05 (thisUpdate the day before); the current ones run
 * until CRL_NEXT, 50 years on, long before the certificates end (2126). */
#define CRL_MADE ((int64_t)1796428800)  /* 2026-12-05T00:00:00Z */
#define CRL_NEXT ((int64_t)3373228800)  /* 2076-11-22T00:00:00Z: crl-org-none's nextUpdate */

static int add_crl(x509_trust_t *t, const char *name, int64_t now) {
  size_t len;
  char *pem = slurp(name, &len);
  int rc = x509_trust_add_crl_pem(t, pem, len, now);
  free(pem);
  return rc;
}

/* Two fixture files as one text (malloc'd), as a file carrying several CRLs would be. */
static char *slurp_two(const char *a, const char *b, size_t *len) {
  size_t la, lb;
  char *ta = slurp(a, &la), *tb = slurp(b, &lb);
  char *both = malloc(la + lb + 1);
  memcpy(both, ta, la);
  memcpy(both + la, tb, lb + 1);
  free(ta);
  free(tb);
  *len = la + lb;
  return both;
}

/* Organisation and operator anchors and the CRL `name`, which must be accepted. */
static x509_trust_t *trust_crl(const char *name) {
  x509_trust_t *t = trust(1, 1);
  int rc = add_crl(t, name, NOW);
  cr_assert_eq(rc, 0, "%s: %s", name, veil_strerror(rc));
  return t;
}

/* The verdict is unverified because of a revocation; `text` says which certificate. */
static void expect_revoked(x509_trust_t *t, const char *leaf, int64_t now, const char *text) {
  x509_verdict_t v = judge(t, leaf, now);
  cr_assert_eq(v.level, X509_UNVERIFIED, "%s", leaf);
  cr_assert_eq(v.reason, VEIL_EX509_REVOKED, "%s: %s", leaf, veil_strerror(v.reason));
  cr_assert_str_eq(v.reason_text, text);
  cr_assert_str_eq(v.anchor, "");
}

static void expect_level(x509_trust_t *t, const char *leaf, int64_t now, x509_level_t want) {
  x509_verdict_t v = judge(t, leaf, now);
  cr_assert_eq(v.level, want, "%s: %s (%s)", leaf, x509_level_name(v.level), v.reason_text);
  cr_assert_eq(v.reason, 0, "%s", leaf);
}

Test(x509_crl, the_fixture_times_are_what_the_tests_assume) {
  cr_assert_lt(CRL_MADE, NOW, "the machine's clock is before the fixtures were made");
  cr_assert_lt(NOW, CRL_NEXT - 86400, "the fixture CRLs are about to expire: remake them");
}

Test(x509_crl, revoked_leaf_is_unverified_and_says_revoked) {
  x509_trust_t *t = trust_crl("crl-org-alice.pem");
  expect_revoked(t, "alice-org.pem", NOW, "certificate revoked");
  /* The same CRL leaves the anchor's other certificates alone. */
  expect_level(t, "room-device.pem", NOW, X509_EXTERNALLY_VERIFIED);
  expect_level(t, "erin-int.pem", NOW, X509_EXTERNALLY_VERIFIED);
  x509_trust_free(t);
}

Test(x509_crl, revoked_intermediate_makes_its_leaves_unverified) {
  x509_trust_t *t = trust(1, 1);
  expect_level(t, "erin-int.pem", NOW, X509_EXTERNALLY_VERIFIED); /* the chain itself is sound */
  cr_assert_eq(add_crl(t, "crl-org-int.pem", NOW), 0);
  expect_revoked(t, "erin-int.pem", NOW, "issuing CA certificate revoked (chain depth 1)");
  expect_level(t, "alice-org.pem", NOW, X509_EXTERNALLY_VERIFIED);
  x509_trust_free(t);
}

Test(x509_crl, not_revoked_stays_verified_and_issuers_without_crl_need_none) {
  x509_trust_t *t = trust_crl("crl-org-none.pem");
  expect_level(t, "alice-org.pem", NOW, X509_EXTERNALLY_VERIFIED);
  /* erin's issuer, the intermediate, has no CRL here: only its own certificate is checked. */
  expect_level(t, "erin-int.pem", NOW, X509_EXTERNALLY_VERIFIED);
  /* The operator anchor has no CRL: its chains are judged as before. */
  expect_level(t, "bob-operator.pem", NOW, X509_OPERATOR_VERIFIED);
  x509_trust_free(t);
}

Test(x509_crl, revoked_operator_certificate_is_unverified) {
  x509_trust_t *t = trust_crl("crl-operator-bob.pem");
  expect_revoked(t, "bob-operator.pem", NOW, "certificate revoked");
  expect_level(t, "alice-org.pem", NOW, X509_EXTERNALLY_VERIFIED);
  x509_trust_free(t);
}

Test(x509_crl, one_file_may_carry_crls_of_several_anchors) {
  size_t len;
  char *both = slurp_two("crl-org-alice.pem", "crl-operator-bob.pem", &len);
  x509_trust_t *t = trust(1, 1);
  cr_assert_eq(x509_trust_add_crl_pem(t, both, len, NOW), 0);
  expect_revoked(t, "alice-org.pem", NOW, "certificate revoked");
  expect_revoked(t, "bob-operator.pem", NOW, "certificate revoked");
  expect_level(t, "room-device.pem", NOW, X509_EXTERNALLY_VERIFIED);
  free(both);
  x509_trust_free(t);
}

Test(x509_crl, crl_from_a_wrong_issuer_is_refused_and_changes_nothing) {
  x509_trust_t *t = trust(1, 1);
  /* A CA nobody trusts; the organisation's name over the operator's signature; the
   * operator's own CRL when the operator is no anchor. */
  cr_assert_eq(add_crl(t, "crl-rogue.pem", NOW), VEIL_EX509_UNTRUSTED);
  cr_assert_eq(add_crl(t, "crl-org-forged.pem", NOW), VEIL_EX509_UNTRUSTED);
  expect_level(t, "alice-org.pem", NOW, X509_EXTERNALLY_VERIFIED);
  x509_trust_free(t);
  t = trust(1, 0);
  cr_assert_eq(add_crl(t, "crl-operator-bob.pem", NOW), VEIL_EX509_UNTRUSTED);
  x509_trust_free(t);
}

Test(x509_crl, expired_or_future_crl_is_refused_at_load) {
  x509_trust_t *t = trust(1, 1);
  cr_assert_eq(add_crl(t, "crl-org-expired.pem", NOW), VEIL_EX509_EXPIRED);
  expect_level(t, "alice-org.pem", NOW, X509_EXTERNALLY_VERIFIED);
  /* thisUpdate is 2026-12-04: on 2026-12-01 the CRL is not issued yet. */
  cr_assert_eq(add_crl(t, "crl-org-alice.pem", CRL_MADE - 4 * 86400), VEIL_EX509_EXPIRED);
  x509_trust_free(t);
}

Test(x509_crl, crl_expired_since_load_makes_its_issuers_chains_unverified) {
  x509_trust_t *t = trust_crl("crl-org-none.pem");
  int64_t later = CRL_NEXT + 86400; /* the certificates are still valid then */
  x509_verdict_t v = judge(t, "alice-org.pem", later);
  cr_assert_eq(v.level, X509_UNVERIFIED);
  cr_assert_eq(v.reason, VEIL_EX509_EXPIRED);
  cr_assert(strstr(v.reason_text, "CRL"), "%s", v.reason_text);
  expect_level(t, "alice-org.pem", CRL_NEXT - 86400, X509_EXTERNALLY_VERIFIED);
  expect_level(t, "bob-operator.pem", later, X509_OPERATOR_VERIFIED); /* no CRL there */
  x509_trust_free(t);
}

Test(x509_crl, a_file_with_one_bad_crl_adds_none) {
  size_t len, la;
  char *both = slurp_two("crl-org-alice.pem", "crl-rogue.pem", &len);
  x509_trust_t *t = trust(1, 1);
  cr_assert_eq(x509_trust_add_crl_pem(t, both, len, NOW), VEIL_EX509_UNTRUSTED);
  expect_level(t, "alice-org.pem", NOW, X509_EXTERNALLY_VERIFIED); /* alice's CRL not added */
  /* alice's CRL followed by one whose DER does not parse. */
  free(slurp("crl-org-alice.pem", &la));
  static const char damaged[] = "-----BEGIN X509 CRL-----\nMAMCAQA=\n-----END X509 CRL-----\n";
  memcpy(both + la, damaged, sizeof damaged - 1);
  cr_assert_eq(x509_trust_add_crl_pem(t, both, la + sizeof damaged - 1, NOW), VEIL_EDECODE);
  expect_level(t, "alice-org.pem", NOW, X509_EXTERNALLY_VERIFIED);
  cr_assert_eq(x509_trust_add_crl_pem(t, "not a pem", 9, NOW), VEIL_EDECODE);
  free(both);
  x509_trust_free(t);
}
