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

static void check(x509_trust_t *t, const char *file, x509_level_t want, int want_reason,
                  const char *want_identity) {
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
  int rc = x509_verify_chain(t, chain, (size_t)n, (int64_t)time(NULL), &v);
  const char *id = v.leaf.email[0] ? v.leaf.email : v.leaf.dns;
  tap_ok(rc == 0 && v.level == want && v.reason == want_reason && strcmp(id, want_identity) == 0,
         "%s: %s (%s) identity %s", file, x509_level_name(v.level),
         v.reason ? veil_strerror(v.reason) : "no error", id);
  for (int i = 0; i < n; i++)
    free((void *)chain[i].ptr);
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
  return tap_done();
}
