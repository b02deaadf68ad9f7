/*
 * TAP check of the X.509 validator on the configured crypto backend (the Criterion unit
 * tests always run on OpenSSL; this plain executable runs on BoringSSL too). Uses the
 * fixtures of tests/unit/client/fixtures.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clients/lib/identity/x509.h"
#include "vjson.h"

static char *slurp(const char *name, size_t *len) {
  char path[1024];
  const char *root = getenv("VEIL_SOURCE_ROOT");
  snprintf(path, sizeof path, "%s/tests/unit/client/fixtures/%s", root ? root : ".", name);
  FILE *f = fopen(path, "rb");
  if (!f)
    return NULL;
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  char *buf = malloc((size_t)n + 1);
  if (fread(buf, 1, (size_t)n, f) != (size_t)n)
    n = 0;
  buf[n] = '\0';
  fclose(f);
  *len = (size_t)n;
  return buf;
}

/* Judges `file` at `now`; `want_text`, when not NULL, is the reason_text wanted. */
static void check_at(x509_trust_t *t, const char *file, int64_t now, x509_level_t want, int want_reason,
                     const char *want_identity, const char *want_text) {
  size_t len = 0;
  char *pem = slurp(file, &len);
  veil_view_t chain[4];
  int n = pem ? x509_pem_to_der(pem, len, chain, 4) : -1;
  free(pem);
  if (n <= 0) {
    tap_ok(0, "%s: load", file);
    return;
  }
  x509_verdict_t v;
  int rc = x509_verify_chain(t, chain, (size_t)n, now, &v);
  const char *id = v.leaf.email[0] ? v.leaf.email : v.leaf.dns;
  tap_ok(rc == 0 && v.level == want && v.reason == want_reason && strcmp(id, want_identity) == 0 &&
             (!want_text || strcmp(v.reason_text, want_text) == 0),
         "%s: %s (%s: %s) identity %s", file, x509_level_name(v.level),
         v.reason ? veil_strerror(v.reason) : "no error", v.reason_text, id);
  for (int i = 0; i < n; i++)
    free((void *)chain[i].ptr);
}

static void check(x509_trust_t *t, const char *file, x509_level_t want, int want_reason,
                  const char *want_identity) {
  check_at(t, file, (int64_t)time(NULL), want, want_reason, want_identity, NULL);
}

/* Organisation and operator anchors; then the CRL `file` added at the current time, which
 * must give `want_rc`. */
static x509_trust_t *trust_crl(const char *file, int want_rc) {
  x509_trust_t *t = x509_trust_new();
  size_t len;
  const char *files[] = {"org-ca.pem", "operator-ca.pem", file};
  int rc = 0;
  for (int i = 0; i < 3 && !rc; i++) {
    char *pem = slurp(files[i], &len);
    rc = !pem  ? VEIL_EIO
         : i == 2 ? x509_trust_add_crl_pem(t, pem, len, (int64_t)time(NULL))
                  : x509_trust_add_pem(t, pem, len, i ? X509_ANCHOR_OPERATOR : X509_ANCHOR_ORGANISATION,
                                       i ? "operator" : "org");
    free(pem);
  }
  tap_ok(rc == want_rc, "CRL %s: %s", file, rc ? veil_strerror(rc) : "accepted");
  return t;
}

/* The same revocation cases as tests/unit/client/test_x509.c (x509_crl), on this backend. */
static void crl_cases(void) {
  x509_trust_t *t = trust_crl("crl-org-alice.pem", 0);
  check_at(t, "alice-org.pem", (int64_t)time(NULL), X509_UNVERIFIED, VEIL_EX509_REVOKED, "alice@example.org",
           "certificate revoked");
  check(t, "room-device.pem", X509_EXTERNALLY_VERIFIED, 0, "room4.example.org");
  check(t, "erin-int.pem", X509_EXTERNALLY_VERIFIED, 0, "erin@example.org");
  x509_trust_free(t);
  t = trust_crl("crl-org-int.pem", 0);
  check_at(t, "erin-int.pem", (int64_t)time(NULL), X509_UNVERIFIED, VEIL_EX509_REVOKED, "erin@example.org",
           "issuing CA certificate revoked (chain depth 1)");
  check(t, "alice-org.pem", X509_EXTERNALLY_VERIFIED, 0, "alice@example.org");
  x509_trust_free(t);
  t = trust_crl("crl-org-none.pem", 0);
  check(t, "alice-org.pem", X509_EXTERNALLY_VERIFIED, 0, "alice@example.org");
  check(t, "erin-int.pem", X509_EXTERNALLY_VERIFIED, 0, "erin@example.org");
  check(t, "bob-operator.pem", X509_OPERATOR_VERIFIED, 0, "bob@example.net");
  /* 2076-11-23: the CRL has expired, the certificates have not. */
  check_at(t, "alice-org.pem", 3373315200, X509_UNVERIFIED, VEIL_EX509_EXPIRED, "alice@example.org", NULL);
  check_at(t, "bob-operator.pem", 3373315200, X509_OPERATOR_VERIFIED, 0, "bob@example.net", NULL);
  x509_trust_free(t);
  t = trust_crl("crl-operator-bob.pem", 0);
  check_at(t, "bob-operator.pem", (int64_t)time(NULL), X509_UNVERIFIED, VEIL_EX509_REVOKED, "bob@example.net",
           "certificate revoked");
  x509_trust_free(t);
  const char *refused[] = {"crl-rogue.pem", "crl-org-forged.pem", "crl-org-expired.pem"};
  for (int i = 0; i < 3; i++) {
    t = trust_crl(refused[i], i < 2 ? VEIL_EX509_UNTRUSTED : VEIL_EX509_EXPIRED);
    check(t, "alice-org.pem", X509_EXTERNALLY_VERIFIED, 0, "alice@example.org");
    x509_trust_free(t);
  }
}

int main(void) {
  tap_diag("crypto backend: %s", vc_backend_name());
  x509_trust_t *t = x509_trust_new();
  size_t len;
  char *org = slurp("org-ca.pem", &len);
  if (!org) {
    x509_trust_free(t);
    return tap_skip_all("fixtures not found (set VEIL_SOURCE_ROOT)");
  }
  tap_ok(x509_trust_add_pem(t, org, len, X509_ANCHOR_ORGANISATION, "org") == 0, "add org anchor");
  free(org);
  char *op = slurp("operator-ca.pem", &len);
  tap_ok(op && x509_trust_add_pem(t, op, len, X509_ANCHOR_OPERATOR, "operator") == 0, "add operator anchor");
  free(op);
  check(t, "alice-org.pem", X509_EXTERNALLY_VERIFIED, 0, "alice@example.org");
  check(t, "carol-ed25519.pem", X509_EXTERNALLY_VERIFIED, 0, "carol@example.org");
  check(t, "room-device.pem", X509_EXTERNALLY_VERIFIED, 0, "room4.example.org");
  check(t, "bob-operator.pem", X509_OPERATOR_VERIFIED, 0, "bob@example.net");
  check(t, "self.pem", X509_UNVERIFIED, VEIL_EX509_SELF_SIGNED, "alice@example.org");
  x509_trust_free(t);
  crl_cases();
  return tap_done();
}
