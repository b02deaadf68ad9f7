/* Unit tests of the MLS suite helpers (RFC 9420 §5): what each labelled function must
 * bind, and the inputs each must refuse. Known answers live in the crypto-basics vectors. */
#include <criterion/criterion.h>
#include <string.h>

#include "clients/lib/mls/suite.h"
#include "common/bytes.h"

static const uint16_t SUITES[] = {1, 2, 3};

Test(mls_suite, rejects_unsupported_suites) {
  const uint16_t bad[] = {0, 4, 5, 6, 7, 0x0a0a, 0xffff};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    cr_assert_null(mls_suite_get(bad[i]), "suite %u", bad[i]);
  for (size_t i = 0; i < 3; i++)
    cr_assert_not_null(mls_suite_get(SUITES[i]));
}

Test(mls_suite, signature_bound_to_label_and_content) {
  for (size_t i = 0; i < 3; i++) {
    const mls_suite_t *s = mls_suite_get(SUITES[i]);
    uint8_t priv[MLS_SIG_PRIV_MAX], pub[MLS_SIG_PUB_MAX], sig[MLS_SIG_MAX];
    size_t sl;
    const uint8_t content[] = "leaf node tbs";
    cr_assert_eq(vc_sig_generate(s->sig, priv, pub), 0);
    cr_assert_eq(mls_sign_with_label(s, priv, "LeafNodeTBS", content, sizeof content, sig, &sl), 0);
    cr_assert_eq(mls_verify_with_label(s, pub, s->sig_pub_len, "LeafNodeTBS", content,
                                       sizeof content, sig, sl), 0);
    cr_assert_eq(mls_verify_with_label(s, pub, s->sig_pub_len, "KeyPackageTBS", content,
                                       sizeof content, sig, sl), VEIL_EVERIFY);
    cr_assert_eq(mls_verify_with_label(s, pub, s->sig_pub_len, "LeafNodeTBS", content,
                                       sizeof content - 1, sig, sl), VEIL_EVERIFY);
    /* A plain signature over the content (no SignContent wrapper) must not verify. */
    uint8_t raw[MLS_SIG_MAX];
    size_t rl;
    cr_assert_eq(vc_sign(s->sig, priv, content, sizeof content, raw, &rl), 0);
    cr_assert_eq(mls_verify_with_label(s, pub, s->sig_pub_len, "LeafNodeTBS", content,
                                       sizeof content, raw, rl), VEIL_EVERIFY);
  }
}

Test(mls_suite, verify_rejects_public_key_of_wrong_length) {
  const mls_suite_t *s = mls_suite_get(1);
  uint8_t pub[65] = {0}, sig[64] = {0};
  cr_assert_eq(mls_verify_with_label(s, pub, 31, "x", NULL, 0, sig, 64), VEIL_EBADKEY);
  cr_assert_eq(mls_verify_with_label(s, pub, 65, "x", NULL, 0, sig, 64), VEIL_EBADKEY);
}

Test(mls_suite, decrypt_rejects_truncated_and_tampered_ciphertexts) {
  for (size_t i = 0; i < 3; i++) {
    const mls_suite_t *s = mls_suite_get(SUITES[i]);
    uint8_t sk[MLS_HPKE_SK_MAX], pk[MLS_HPKE_PK_MAX], kem[MLS_KEM_OUTPUT_MAX];
    uint8_t ct[64 + MLS_AEAD_TAG_LEN], pt[64];
    size_t kl;
    cr_assert_eq(hpke_generate_key_pair(s->hpke.kem_id, sk, pk), 0);
    const uint8_t msg[] = "path secret";
    cr_assert_eq(mls_encrypt_with_label(s, pk, s->hpke_pk_len, "UpdatePathNode", NULL, 0, msg,
                                        sizeof msg, kem, &kl, ct), 0);
    size_t cl = sizeof msg + MLS_AEAD_TAG_LEN;
    cr_assert_eq(mls_decrypt_with_label(s, sk, "UpdatePathNode", NULL, 0, kem, kl, ct, cl, pt), 0);
    cr_assert_eq(memcmp(pt, msg, sizeof msg), 0);
    cr_assert_eq(mls_decrypt_with_label(s, sk, "UpdatePathNode", NULL, 0, kem, kl, ct, 15, pt),
                 VEIL_EDECODE);
    cr_assert_eq(mls_decrypt_with_label(s, sk, "UpdatePathNode", NULL, 0, kem, kl - 1, ct, cl, pt),
                 VEIL_EBADKEY);
    ct[0] ^= 0x80;
    cr_assert_eq(mls_decrypt_with_label(s, sk, "UpdatePathNode", NULL, 0, kem, kl, ct, cl, pt),
                 VEIL_EAUTH);
    ct[0] ^= 0x80;
    cr_assert_eq(mls_decrypt_with_label(s, sk, "Welcome", NULL, 0, kem, kl, ct, cl, pt),
                 VEIL_EAUTH);
  }
}

Test(mls_suite, expand_refuses_lengths_hkdf_cannot_produce) {
  const mls_suite_t *s = mls_suite_get(1);
  uint8_t secret[32] = {1}, out[16];
  static uint8_t big[255 * 32 + 1];
  cr_assert_eq(mls_expand_with_label(s, secret, 32, "x", NULL, 0, big, 255 * 32 + 1), VEIL_EINVAL);
  cr_assert_eq(mls_expand_with_label(s, secret, 32, "x", NULL, 0, big, 255 * 32), 0);
  cr_assert_eq(mls_expand_with_label(NULL, secret, 32, "x", NULL, 0, out, 16), VEIL_EINVAL);
  cr_assert_eq(mls_expand_with_label(s, secret, 32, NULL, NULL, 0, out, 16), VEIL_EINVAL);
}

/* A context too large for the stack scratch buffer takes the heap path; the KDFLabel
 * built there must be byte-for-byte the one the RFC defines. */
Test(mls_suite, large_context_kdf_label_matches_rfc_encoding) {
  const mls_suite_t *s = mls_suite_get(1);
  uint8_t secret[32], ctx[1000], got[42], want[42];
  for (size_t i = 0; i < sizeof ctx; i++)
    ctx[i] = (uint8_t)(i * 7);
  memset(secret, 0x5a, sizeof secret);
  cr_assert_eq(mls_expand_with_label(s, secret, 32, "joiner", ctx, sizeof ctx, got, sizeof got), 0);
  uint8_t info[1100];
  veil_writer_t w;
  veil_writer_init(&w, info, sizeof info);
  veil_write_u16(&w, sizeof want);
  veil_write_vec(&w, VEIL_LEN_VARINT, "MLS 1.0 joiner", 14);
  veil_write_vec(&w, VEIL_LEN_VARINT, ctx, sizeof ctx);
  cr_assert_eq(w.err, 0);
  cr_assert_eq(vc_hkdf_expand(VC_SHA256, secret, 32, info, w.len, want, sizeof want), 0);
  cr_assert_eq(memcmp(got, want, sizeof want), 0);
}

Test(mls_suite, mac_verify_rejects_wrong_or_truncated_tag) {
  const mls_suite_t *s = mls_suite_get(2);
  uint8_t key[32] = {3}, tag[32];
  const uint8_t msg[] = "confirmed transcript hash";
  cr_assert_eq(mls_mac(s, key, 32, msg, sizeof msg, tag), 0);
  cr_assert_eq(mls_mac_verify(s, key, 32, msg, sizeof msg, tag, 32), 0);
  cr_assert_eq(mls_mac_verify(s, key, 32, msg, sizeof msg, tag, 31), VEIL_EAUTH);
  tag[31] ^= 1;
  cr_assert_eq(mls_mac_verify(s, key, 32, msg, sizeof msg, tag, 32), VEIL_EAUTH);
}

Test(mls_suite, refs_are_domain_separated) {
  const mls_suite_t *s = mls_suite_get(1);
  const uint8_t v[] = "same bytes";
  uint8_t a[32], b[32];
  cr_assert_eq(mls_make_key_package_ref(s, v, sizeof v, a), 0);
  cr_assert_eq(mls_make_proposal_ref(s, v, sizeof v, b), 0);
  cr_assert_neq(memcmp(a, b, 32), 0);
}

Test(mls_suite, derive_key_pair_is_deterministic_and_consistent) {
  for (size_t i = 0; i < 3; i++) {
    const mls_suite_t *s = mls_suite_get(SUITES[i]);
    uint8_t ikm[32], sk1[32], pk1[65], sk2[32], pk2[65], pk3[65];
    memset(ikm, (int)i + 1, sizeof ikm);
    cr_assert_eq(mls_derive_key_pair(s, ikm, 32, sk1, pk1), 0);
    cr_assert_eq(mls_derive_key_pair(s, ikm, 32, sk2, pk2), 0);
    cr_assert_eq(memcmp(sk1, sk2, s->hpke_sk_len), 0);
    cr_assert_eq(memcmp(pk1, pk2, s->hpke_pk_len), 0);
    cr_assert_eq(vc_kex_public(s->hpke.kem_id == HPKE_KEM_P256_SHA256 ? VC_P256 : VC_X25519,
                               sk1, pk3), 0);
    cr_assert_eq(memcmp(pk1, pk3, s->hpke_pk_len), 0);
  }
}
