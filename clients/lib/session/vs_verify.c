/* veil client session — member verification status. Contract in vs_verify.h. */
#include "clients/lib/session/vs_verify.h"

#include <stdio.h>
#include <string.h>

#include "clients/lib/mls/suite.h"
#include "common/err.h"

static void unjudged(verify_status_t *out, int reason, const char *display_name) {
  memset(out, 0, sizeof *out);
  out->level = X509_UNVERIFIED;
  out->reason = reason;
  snprintf(out->reason_text, sizeof out->reason_text, "%s", veil_strerror(reason));
  snprintf(out->identity, sizeof out->identity, "?");
  snprintf(out->display_name, sizeof out->display_name, "%s", display_name ? display_name : "");
}

int vs_verify_leaf(const x509_trust_t *trust, uint16_t suite, const mls_leaf_node_t *leaf,
                   const char *display_name, int64_t now, verify_status_t *out) {
  if (leaf->credential.type == MLS_CRED_BASIC)
    return verify_basic_credential(leaf->credential.identity.ptr, leaf->credential.identity.len,
                                   display_name, out);
  const mls_suite_t *su = mls_suite_get(suite);
  if (leaf->credential.type != MLS_CRED_X509 || !su) {
    unjudged(out, VEIL_EUNSUPPORTED, display_name);
    return 0;
  }
  veil_view_t chain[X509_CHAIN_MAX];
  size_t n = 0;
  veil_reader_t r;
  mls_list_reader(&leaf->credential.certificates, &r);
  while (n < X509_CHAIN_MAX && n < leaf->credential.certificates.count &&
         veil_read_vec(&r, VEIL_LEN_VARINT, X509_CERT_MAX, &chain[n]) == 0)
    n++;
  x509_trust_t *empty = NULL;
  if (!trust && !(trust = empty = x509_trust_new()))
    return VEIL_ENOMEM;
  int rc = verify_x509_credential(trust, chain, n, su->sig, leaf->signature_key.ptr,
                                  leaf->signature_key.len, display_name, now, out);
  x509_trust_free(empty);
  if (rc == VEIL_ENOMEM)
    return rc;
  if (rc) /* unreadable leaf, empty or overlong chain: shown, as unverified */
    unjudged(out, rc, display_name);
  return 0;
}

void vs_verify_to_json(const verify_status_t *st, json_t *member) {
  json_object_set_new(member, "verification", json_string(x509_level_name(st->level)));
  json_object_set_new(member, "display_name", json_string(st->display_name));
  json_object_set_new(member, "reason", json_string(st->reason_text));
  json_t *cert = st->details_json ? json_loads(st->details_json, 0, NULL) : NULL;
  json_object_set_new(member, "certificate", cert ? cert : json_null());
}
