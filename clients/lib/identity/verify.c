/* veil — verification status of one MLS member (contract in verify.h). */
#include "clients/lib/identity/verify.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void rfc3339(int64_t t, char out[32]) {
  time_t tt = (time_t)t;
  struct tm tm;
  if (!gmtime_r(&tt, &tm) || strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
    snprintf(out, 32, "%lld", (long long)t);
}

static const char *key_type_name(vc_sig_t s) {
  switch (s) {
  case VC_ED25519:
    return "Ed25519";
  case VC_ECDSA_P256_SHA256:
    return "ECDSA P-256";
  }
  return "unsupported";
}

int verify_details_json(const x509_info_t *leaf, const char *anchor, x509_level_t level,
                        const char *reason, char **json) {
  char nb[32], na[32];
  rfc3339(leaf->not_before, nb);
  rfc3339(leaf->not_after, na);
  json_t *o = json_object();
  if (!o)
    return VEIL_ENOMEM;
  int bad = 0;
  bad |= json_object_set_new(o, "subject", json_string(leaf->subject));
  bad |= json_object_set_new(o, "issuer", json_string(leaf->issuer));
  bad |= json_object_set_new(o, "serial", json_string(leaf->serial_hex));
  bad |= json_object_set_new(o, "not_before", json_string(nb));
  bad |= json_object_set_new(o, "not_after", json_string(na));
  bad |= json_object_set_new(o, "sha256", json_string(leaf->sha256_hex));
  bad |= json_object_set_new(o, "sha1", json_string(leaf->sha1_hex));
  bad |= json_object_set_new(o, "key_type", json_string(key_type_name(leaf->key_type)));
  bad |= json_object_set_new(o, "anchor", json_string(anchor ? anchor : ""));
  bad |= json_object_set_new(o, "level", json_string(x509_level_name(level)));
  bad |= json_object_set_new(o, "reason", json_string(reason ? reason : ""));
  /* Names come from the certificate and may hold anything; jansson escapes them and the
   * compact form keeps the JSON on one line (xStatus prints it as one quoted value). */
  char *s = bad ? NULL : json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_ENSURE_ASCII);
  json_decref(o);
  if (!s)
    return VEIL_ENOMEM;
  *json = s;
  return 0;
}

static void set_reason(verify_status_t *s, int reason, const char *text) {
  s->level = X509_UNVERIFIED;
  s->reason = reason;
  snprintf(s->reason_text, sizeof s->reason_text, "%s",
           text && text[0] ? text : veil_strerror(reason));
}

int verify_x509_credential(const x509_trust_t *trust, const veil_view_t *chain, size_t n,
                           vc_sig_t scheme, const uint8_t *sig_key, size_t sig_key_len,
                           const char *display_name, int64_t now, verify_status_t *out) {
  memset(out, 0, sizeof *out);
  x509_verdict_t v;
  int rc = x509_verify_chain(trust, chain, n, now, &v);
  /* A readable certificate with a key MLS cannot use (RSA, another curve) is shown, as
   * unverified, rather than hidden behind an error. */
  if (rc == VEIL_EX509_KEY) {
    v.level = X509_UNVERIFIED;
    v.reason = rc;
    v.reason_text[0] = '\0';
    v.anchor[0] = '\0';
  } else if (rc) {
    return rc;
  }
  const x509_info_t *leaf = &v.leaf;
  out->level = v.level;
  out->reason = v.reason;
  snprintf(out->reason_text, sizeof out->reason_text, "%s", v.reason_text);
  if (v.level == X509_UNVERIFIED && v.reason && !out->reason_text[0])
    snprintf(out->reason_text, sizeof out->reason_text, "%s", veil_strerror(v.reason));
  /* The chain vouches only for the certificate's key; a member signing with another key is
   * not the certificate's subject, whatever the chain says (RFC 9420 §5.3.1). */
  if (rc == 0 && (leaf->key_type != scheme || leaf->public_key_len != sig_key_len ||
                  memcmp(leaf->public_key, sig_key, sig_key_len) != 0))
    set_reason(out, VEIL_EID_KEY_MISMATCH, NULL);

  const char *id = leaf->email[0] ? leaf->email : leaf->dns[0] ? leaf->dns : leaf->common_name;
  snprintf(out->identity, sizeof out->identity, "%s", id);
  const char *dn = display_name && display_name[0] ? display_name
                   : leaf->common_name[0]          ? leaf->common_name
                                                   : id;
  snprintf(out->display_name, sizeof out->display_name, "%s", dn);
  rc = verify_details_json(leaf, out->level == X509_UNVERIFIED ? "" : v.anchor, out->level,
                           out->reason_text, &out->details_json);
  if (rc)
    memset(out, 0, sizeof *out);
  return rc;
}

int verify_basic_credential(const uint8_t *identity, size_t len, const char *display_name,
                            verify_status_t *out) {
  memset(out, 0, sizeof *out);
  size_t n = len < sizeof out->identity - 1 ? len : sizeof out->identity - 1;
  for (size_t i = 0; i < n; i++)
    out->identity[i] = identity[i] >= 0x20 && identity[i] < 0x7f ? (char)identity[i] : '?';
  set_reason(out, VEIL_EID_BASIC, NULL);
  snprintf(out->display_name, sizeof out->display_name, "%s",
           display_name && display_name[0] ? display_name : out->identity);
  json_t *o = json_pack("{s:s,s:s,s:s}", "credential", "basic", "level",
                        x509_level_name(X509_UNVERIFIED), "reason", out->reason_text);
  char *s = o ? json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_ENSURE_ASCII) : NULL;
  json_decref(o);
  if (!s) {
    memset(out, 0, sizeof *out);
    return VEIL_ENOMEM;
  }
  out->details_json = s;
  return 0;
}

void verify_status_clear(verify_status_t *s) {
  if (!s)
    return;
  free(s->details_json);
  memset(s, 0, sizeof *s);
}
