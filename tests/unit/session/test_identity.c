/* Unit tests: the session's own identity from a raw key + DER chain (room devices) or a PEM
 * chain, and how a member's leaf is judged for the roster (clients/lib/session/vs_verify.h).
 * Fixtures: tests/unit/client/fixtures (see the README there). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "clients/lib/identity/pemkey.h"
#include "clients/lib/mls/suite.h"
#include "clients/lib/session/vs_identity.h"
#include "clients/lib/session/vs_verify.h"
#include "common/err.h"

/* Two calls may share one expression (certificate and key): alternate two buffers. */
static char *fixture_path(const char *name) {
  static char paths[2][1024];
  static int k;
  char *path = paths[k ^= 1];
  const char *root = getenv("VEIL_SOURCE_ROOT");
  snprintf(path, sizeof paths[0], "%s/tests/unit/client/fixtures/%s", root ? root : ".", name);
  return path;
}

static char *slurp(const char *name, size_t *len) {
  FILE *f = fopen(fixture_path(name), "rb");
  cr_assert_not_null(f, "fixture %s", name);
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

static size_t chain_of(const char *name, veil_view_t *out) {
  size_t len;
  char *pem = slurp(name, &len);
  int n = x509_pem_to_der(pem, len, out, X509_CHAIN_MAX);
  free(pem);
  cr_assert_gt(n, 0);
  return (size_t)n;
}

static void free_chain(veil_view_t *c, size_t n) {
  for (size_t i = 0; i < n; i++)
    free((void *)c[i].ptr);
}

static void raw_key(const char *name, vc_sig_t *type, uint8_t priv[VC_SIG_PRIV_MAX]) {
  size_t len;
  char *pem = slurp(name, &len);
  cr_assert_eq(pemkey_decode(pem, len, type, priv), 0, "key %s", name);
  free(pem);
}

static x509_trust_t *org_trust(void) {
  x509_trust_t *t = x509_trust_new();
  size_t len;
  char *pem = slurp("org-ca.pem", &len);
  cr_assert_eq(x509_trust_add_pem(t, pem, len, X509_ANCHOR_ORGANISATION, "org"), 0);
  free(pem);
  pem = slurp("operator-ca.pem", &len);
  cr_assert_eq(x509_trust_add_pem(t, pem, len, X509_ANCHOR_OPERATOR, "operator"), 0);
  free(pem);
  return t;
}

/* A member leaf as the group shows it: the identity's credential and the public key of
 * `sig_key_of` (another fixture's key file, to forge a mismatch). */
typedef struct leaf_fixture {
  mls_leaf_node_t leaf;
  uint8_t pub[VC_SIG_PUB_MAX];
} leaf_fixture_t;

static void leaf_of(const vs_identity_t *id, const char *sig_key_of, leaf_fixture_t *lf) {
  memset(lf, 0, sizeof *lf);
  vc_sig_t type;
  uint8_t priv[VC_SIG_PRIV_MAX];
  raw_key(sig_key_of, &type, priv);
  cr_assert_eq(vc_sig_public(type, priv, lf->pub), 0);
  vc_wipe(priv, sizeof priv);
  lf->leaf.credential = id->mls.credential;
  lf->leaf.signature_key = (veil_view_t){lf->pub, vc_sig_pub_len(type)};
}

Test(session_identity, raw_key_of_another_certificate_is_refused) {
  veil_view_t chain[X509_CHAIN_MAX];
  size_t n = chain_of("room-device.pem", chain);
  vc_sig_t type;
  uint8_t priv[VC_SIG_PRIV_MAX];
  vs_identity_t id;
  raw_key("alice-org.key", &type, priv);
  cr_assert_eq(vs_identity_from_key(type, priv, chain, n, &id), VEIL_EINVAL);
  raw_key("room-device.key", &type, priv);
  cr_assert_eq(vs_identity_from_key(VC_ED25519, priv, chain, n, &id), VEIL_EINVAL, "wrong key type");
  cr_assert_eq(vs_identity_from_key(type, priv, chain, n, &id), 0);
  vc_wipe(priv, sizeof priv);
  cr_assert_eq(id.suite, MLS_SUITE_P256_AES128GCM_SHA256_P256);
  /* a device is named by its SAN dNSName, as viewers will name it (verify.h) */
  x509_info_t info;
  cr_assert_eq(x509_parse_info(chain[0].ptr, chain[0].len, &info), 0);
  cr_assert_str_eq(id.name, info.dns);
  cr_assert_eq(id.mls.credential.type, MLS_CRED_X509);
  cr_assert_eq(id.mls.credential.certificates.count, 1);
  vs_identity_free(&id);
  const uint8_t zero[32] = {0};
  cr_assert_eq(memcmp(id.sig_priv, zero, sizeof zero), 0, "the key is wiped on free");
  free_chain(chain, n);
}

Test(session_identity, pem_chain_travels_in_the_credential) {
  char dir[] = "/tmp/veil-session-id-XXXXXX";
  cr_assert_not_null(mkdtemp(dir));
  char path[256];
  snprintf(path, sizeof path, "%s/alice-chain.pem", dir);
  size_t l1, l2;
  char *leaf = slurp("alice-org.pem", &l1), *ca = slurp("org-ca.pem", &l2);
  FILE *f = fopen(path, "wb");
  cr_assert_not_null(f);
  fwrite(leaf, 1, l1, f);
  fwrite(ca, 1, l2, f);
  fclose(f);
  free(leaf);
  free(ca);
  vs_identity_t id;
  cr_assert_eq(vs_identity_load(path, fixture_path("alice-org.key"), &id), 0);
  cr_assert_eq(id.mls.credential.certificates.count, 2, "leaf and issuer, leaf first");
  cr_assert_str_eq(id.name, "alice@example.org");
  vs_identity_free(&id);
  cr_assert_eq(vs_identity_load(path, fixture_path("bob-operator.key"), &id), VEIL_EINVAL,
               "a key that is not the leaf's");
  unlink(path);
  rmdir(dir);
}

Test(session_verify, signing_key_other_than_the_certificates_is_unverified) {
  x509_trust_t *t = org_trust();
  vs_identity_t id;
  cr_assert_eq(vs_identity_load(fixture_path("alice-org.pem"), fixture_path("alice-org.key"), &id), 0);
  leaf_fixture_t lf;
  verify_status_t st;
  int64_t now = (int64_t)time(NULL);

  leaf_of(&id, "alice-org.key", &lf);
  cr_assert_eq(vs_verify_leaf(t, id.suite, &lf.leaf, "Alice", now, &st), 0);
  cr_assert_eq(st.level, X509_EXTERNALLY_VERIFIED, "%s", st.reason_text);
  cr_assert_str_eq(st.identity, "alice@example.org");
  cr_assert_str_eq(st.display_name, "Alice");
  verify_status_clear(&st);

  /* a member signing with bob's key while presenting alice's certificate */
  leaf_of(&id, "bob-operator.key", &lf);
  cr_assert_eq(vs_verify_leaf(t, id.suite, &lf.leaf, "Alice", now, &st), 0);
  cr_assert_eq(st.level, X509_UNVERIFIED);
  cr_assert_eq(st.reason, VEIL_EID_KEY_MISMATCH);
  verify_status_clear(&st);

  /* no trust configured: nothing is verified, yet the member is shown */
  leaf_of(&id, "alice-org.key", &lf);
  cr_assert_eq(vs_verify_leaf(NULL, id.suite, &lf.leaf, NULL, now, &st), 0);
  cr_assert_eq(st.level, X509_UNVERIFIED);
  verify_status_clear(&st);
  vs_identity_free(&id);
  x509_trust_free(t);
}

Test(session_verify, unreadable_certificate_is_shown_unverified_not_dropped) {
  uint8_t junk[] = {0x30, 0x82, 0x7f, 0xff, 0x01, 0x02};
  veil_writer_t w;
  veil_writer_init_growable(&w, 0);
  veil_write_vec(&w, VEIL_LEN_VARINT, junk, sizeof junk);
  cr_assert_eq(w.err, 0);
  mls_leaf_node_t leaf;
  memset(&leaf, 0, sizeof leaf);
  leaf.credential.type = MLS_CRED_X509;
  leaf.credential.certificates = mls_list_from_writer(&w, 1);
  uint8_t pub[65] = {4};
  leaf.signature_key = (veil_view_t){pub, sizeof pub};
  x509_trust_t *t = org_trust();
  verify_status_t st;
  cr_assert_eq(vs_verify_leaf(t, MLS_SUITE_P256_AES128GCM_SHA256_P256, &leaf, "Mallory",
                              (int64_t)time(NULL), &st), 0);
  cr_assert_eq(st.level, X509_UNVERIFIED);
  cr_assert_neq(st.reason, 0);
  cr_assert_neq(st.reason_text[0], '\0');
  cr_assert_str_eq(st.display_name, "Mallory");
  json_t *m = json_object();
  vs_verify_to_json(&st, m);
  cr_assert(json_is_null(json_object_get(m, "certificate")));
  cr_assert_str_eq(json_string_value(json_object_get(m, "verification")), "unverified");
  json_decref(m);
  verify_status_clear(&st);
  x509_trust_free(t);
  veil_writer_free(&w);
}

Test(session_verify, roster_entry_carries_certificate_details) {
  x509_trust_t *t = org_trust();
  vs_identity_t id;
  cr_assert_eq(vs_identity_load(fixture_path("bob-operator.pem"), fixture_path("bob-operator.key"), &id), 0);
  leaf_fixture_t lf;
  leaf_of(&id, "bob-operator.key", &lf);
  verify_status_t st;
  cr_assert_eq(vs_verify_leaf(t, id.suite, &lf.leaf, NULL, (int64_t)time(NULL), &st), 0);
  json_t *m = json_object();
  vs_verify_to_json(&st, m);
  cr_assert_str_eq(json_string_value(json_object_get(m, "verification")), "operator verified");
  cr_assert_str_eq(json_string_value(json_object_get(m, "reason")), "");
  json_t *cert = json_object_get(m, "certificate");
  cr_assert(json_is_object(cert));
  cr_assert_str_eq(json_string_value(json_object_get(cert, "anchor")), "operator");
  cr_assert_eq(strlen(json_string_value(json_object_get(cert, "sha256"))), 64);
  json_decref(m);
  verify_status_clear(&st);
  vs_identity_free(&id);
  x509_trust_free(t);
}

/* A generated identity: P-256 for suite-2 meetings (the room devices' suite), Ed25519 for
 * suite 1; its certificate names the participant and carries the key it signs with. */
static void generated_identity_is_usable(vc_sig_t type, uint16_t want_suite) {
  vs_identity_t id;
  cr_assert_eq(vs_identity_generate("carol@example.org", type, &id), 0);
  cr_assert_eq(id.suite, want_suite);
  cr_assert_str_eq(id.name, "carol@example.org");
  cr_assert_eq(id.mls.credential.type, MLS_CRED_X509);
  cr_assert_eq(id.mls.credential.certificates.count, 1, "self-signed: the leaf alone");
  leaf_fixture_t lf;
  memset(&lf, 0, sizeof lf);
  cr_assert_eq(vc_sig_public(type, id.sig_priv, lf.pub), 0);
  lf.leaf.credential = id.mls.credential;
  lf.leaf.signature_key = (veil_view_t){lf.pub, vc_sig_pub_len(type)};
  verify_status_t st;
  cr_assert_eq(vs_verify_leaf(NULL, id.suite, &lf.leaf, NULL, (int64_t)time(NULL), &st), 0);
  cr_assert_eq(st.level, X509_UNVERIFIED, "self-signed is never verified");
  cr_assert_neq(st.reason, VEIL_EID_KEY_MISMATCH, "the certificate holds the signing key");
  cr_assert_str_eq(st.identity, "carol@example.org");
  verify_status_clear(&st);
  vs_identity_free(&id);
}

Test(session_identity, generated_p256_and_ed25519_identities) {
  generated_identity_is_usable(VC_ECDSA_P256_SHA256, MLS_SUITE_P256_AES128GCM_SHA256_P256);
  generated_identity_is_usable(VC_ED25519, MLS_SUITE_X25519_AES128GCM_SHA256_ED25519);
  vs_identity_t id;
  cr_assert_eq(vs_identity_generate("x@example.org", (vc_sig_t)7, &id), VEIL_EUNSUPPORTED);
  cr_assert_eq(vs_identity_generate("", VC_ED25519, &id), VEIL_EINVAL);
}
