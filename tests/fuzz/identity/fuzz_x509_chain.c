/*
 * Fuzz target: an MLS member's x509 credential as another (possibly hostile) member sends
 * it (clients/lib/identity/x509.h, verify.h) — a chain of DER certificates, leaf first,
 * parsed and judged against a fixed trust configuration (org CA, operator CA and the org
 * CA's CRL revoking alice-org, built once from the unit tests' fixtures).
 *
 * Input: one flags byte, then the certificates, each a 16-bit big-endian length and its
 * bytes (a length past the end takes the rest: a truncated certificate). Up to
 * X509_CHAIN_MAX + 1 certificates, so the too-long refusal is reached too. Flags:
 *   bit 0      ignored (kept for the same framing as fuzz_x509_crl's seeds)
 *   bits 1..2  the clock (fuzz_identity_now)
 *   bit 3      the member signs with the leaf's own key (else with an unrelated Ed25519 key)
 *   bit 4      the member signed a display name
 *   bit 5      the leaf's bytes are also judged as a basic credential's identity
 *
 * Beyond "no crash, no leak", each call is held to its contract: a verified verdict names
 * the anchor of its level and has no reason, an unverified one has a reason, the member's
 * status is never above the chain's verdict and equals it when the keys match, and a
 * status always carries its details JSON.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "clients/lib/identity/verify.h"
#include "clients/lib/identity/x509.h"
#include "fuzz_identity_common.h"

static x509_trust_t *trust;

static void free_trust(void) { x509_trust_free(trust); }

static void check_verdict(const x509_verdict_t *v) {
  switch (v->level) {
  case X509_EXTERNALLY_VERIFIED:
    FUZZ_CHECK(v->reason == 0 && strcmp(v->anchor, FUZZ_LABEL_ORG) == 0);
    break;
  case X509_OPERATOR_VERIFIED:
    FUZZ_CHECK(v->reason == 0 && strcmp(v->anchor, FUZZ_LABEL_OPERATOR) == 0);
    break;
  case X509_UNVERIFIED:
    FUZZ_CHECK(v->reason != 0);
    break;
  default:
    abort();
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (!trust) {
    trust = fuzz_trust_new(1);
    atexit(free_trust);
  }
  if (size == 0)
    return 0;
  uint8_t flags = data[0];
  int64_t now = fuzz_identity_now(flags);
  veil_view_t chain[X509_CHAIN_MAX + 1];
  size_t n = fuzz_split_u16(data + 1, size - 1, chain, X509_CHAIN_MAX + 1);

  x509_info_t info;
  for (size_t i = 0; i < n; i++) {
    int rc = x509_parse_info(chain[i].ptr, chain[i].len, &info);
    if (rc == 0)
      FUZZ_CHECK((info.key_type == VC_ECDSA_P256_SHA256 && info.public_key_len == 65) ||
            (info.key_type == VC_ED25519 && info.public_key_len == 32));
  }

  x509_verdict_t v;
  int vrc = x509_verify_chain(trust, chain, n, now, &v);
  if (vrc == 0)
    check_verdict(&v);
  else
    FUZZ_CHECK(vrc < 0 && v.level == X509_UNVERIFIED);

  /* The member's signature key: the leaf's own (when it has a usable one) or another. */
  static const uint8_t other_key[32] = {0x5a};
  vc_sig_t scheme = VC_ED25519;
  const uint8_t *key = other_key;
  size_t key_len = sizeof other_key;
  int own_key = 0;
  if ((flags & 0x08) && n > 0 && x509_parse_info(chain[0].ptr, chain[0].len, &info) == 0) {
    scheme = info.key_type;
    key = info.public_key;
    key_len = info.public_key_len;
    own_key = 1;
  }
  verify_status_t st;
  int src = verify_x509_credential(trust, chain, n, scheme, key, key_len,
                                   (flags & 0x10) ? "Fuzz Member" : NULL, now, &st);
  if (src == 0) {
    FUZZ_CHECK(st.details_json != NULL);
    FUZZ_CHECK(vrc == 0 || vrc == VEIL_EX509_KEY);
    if (vrc == 0) {
      FUZZ_CHECK(st.level <= v.level);
      if (own_key)
        FUZZ_CHECK(st.level == v.level);
    } else {
      FUZZ_CHECK(st.level == X509_UNVERIFIED);
    }
    FUZZ_CHECK(st.level != X509_UNVERIFIED || st.reason != 0);
  } else {
    FUZZ_CHECK(src == vrc && st.details_json == NULL);
  }
  verify_status_clear(&st);

  if ((flags & 0x20) && n > 0) {
    FUZZ_CHECK(verify_basic_credential(chain[0].ptr, chain[0].len, NULL, &st) == 0);
    FUZZ_CHECK(st.level == X509_UNVERIFIED && st.details_json != NULL);
    verify_status_clear(&st);
  }
  return 0;
}
