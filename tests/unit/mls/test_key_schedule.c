/* Unit tests of the MLS key schedule (RFC 9420 §8): the paths that must agree, the inputs
 * each secret must depend on, and the PSK chain's order sensitivity. Known answers are in
 * the key-schedule and psk_secret vectors. */
#include <criterion/criterion.h>
#include <string.h>

#include "clients/lib/mls/key_schedule.h"

static const uint8_t GC[] = "encoded group context";

static void fill(uint8_t *b, size_t n, uint8_t v) {
  for (size_t i = 0; i < n; i++)
    b[i] = (uint8_t)(v + i);
}

Test(mls_key_schedule, welcome_path_derives_the_same_epoch_as_members) {
  const mls_suite_t *s = mls_suite_get(1);
  uint8_t init[32], commit[32], psk[32], joiner[32];
  fill(init, 32, 1);
  fill(commit, 32, 2);
  fill(psk, 32, 3);
  mls_epoch_secrets_t member, joinee;
  cr_assert_eq(mls_ks_advance(s, init, commit, psk, GC, sizeof GC, &member, joiner), 0);
  cr_assert_eq(mls_ks_from_joiner(s, joiner, psk, GC, sizeof GC, &joinee), 0);
  cr_assert_eq(memcmp(&member, &joinee, sizeof member), 0);
  mls_epoch_secrets_wipe(&member);
  mls_epoch_secrets_wipe(&joinee);
}

Test(mls_key_schedule, absent_commit_and_psk_secrets_are_zero_strings) {
  const mls_suite_t *s = mls_suite_get(3);
  uint8_t init[32], zero[32] = {0};
  fill(init, 32, 9);
  mls_epoch_secrets_t a, b;
  cr_assert_eq(mls_ks_advance(s, init, NULL, NULL, GC, sizeof GC, &a, NULL), 0);
  cr_assert_eq(mls_ks_advance(s, init, zero, zero, GC, sizeof GC, &b, NULL), 0);
  cr_assert_eq(memcmp(&a, &b, sizeof a), 0);
}

Test(mls_key_schedule, every_secret_depends_on_group_context_and_psk) {
  const mls_suite_t *s = mls_suite_get(2);
  uint8_t init[32], commit[32], psk[32];
  fill(init, 32, 4);
  fill(commit, 32, 5);
  fill(psk, 32, 6);
  const uint8_t gc2[] = "encoded group context!";
  mls_epoch_secrets_t a, b, c;
  cr_assert_eq(mls_ks_advance(s, init, commit, psk, GC, sizeof GC, &a, NULL), 0);
  cr_assert_eq(mls_ks_advance(s, init, commit, psk, gc2, sizeof gc2, &b, NULL), 0);
  psk[0] ^= 1;
  cr_assert_eq(mls_ks_advance(s, init, commit, psk, GC, sizeof GC, &c, NULL), 0);
  cr_assert_neq(memcmp(a.epoch_authenticator, b.epoch_authenticator, 32), 0);
  cr_assert_neq(memcmp(a.init_secret, b.init_secret, 32), 0);
  cr_assert_neq(memcmp(a.epoch_authenticator, c.epoch_authenticator, 32), 0);
  cr_assert_neq(memcmp(a.welcome_secret, c.welcome_secret, 32), 0);
  /* The Table 4 secrets are pairwise distinct (distinct labels). */
  const uint8_t *t[] = {a.sender_data_secret, a.encryption_secret, a.exporter_secret,
                        a.external_secret, a.confirmation_key, a.membership_key,
                        a.resumption_psk, a.epoch_authenticator, a.init_secret};
  for (size_t i = 0; i < 9; i++)
    for (size_t j = i + 1; j < 9; j++)
      cr_assert_neq(memcmp(t[i], t[j], 32), 0, "%zu == %zu", i, j);
}

Test(mls_key_schedule, confirmation_tag_rejects_a_different_transcript) {
  const mls_suite_t *s = mls_suite_get(1);
  uint8_t epoch[32], cth[32], tag[32];
  fill(epoch, 32, 7);
  fill(cth, 32, 8);
  mls_epoch_secrets_t e;
  cr_assert_eq(mls_ks_from_epoch_secret(s, epoch, &e), 0);
  cr_assert_eq(mls_ks_confirmation_tag(&e, cth, 32, tag), 0);
  cr_assert_eq(mls_ks_verify_confirmation_tag(&e, cth, 32, tag, 32), 0);
  cth[5] ^= 1;
  cr_assert_eq(mls_ks_verify_confirmation_tag(&e, cth, 32, tag, 32), VEIL_EAUTH);
  cth[5] ^= 1;
  cr_assert_eq(mls_ks_verify_confirmation_tag(&e, cth, 32, tag, 16), VEIL_EAUTH);
}

Test(mls_key_schedule, exporter_binds_label_and_context) {
  const mls_suite_t *s = mls_suite_get(1);
  uint8_t epoch[32], a[32], b[32], c[32];
  fill(epoch, 32, 1);
  mls_epoch_secrets_t e;
  cr_assert_eq(mls_ks_from_epoch_secret(s, epoch, &e), 0);
  cr_assert_eq(mls_ks_export(&e, (const uint8_t *)"SFrame 1.0 Base Key", 19, NULL, 0, a, 32), 0);
  cr_assert_eq(mls_ks_export(&e, (const uint8_t *)"SFrame 1.0 Base Kez", 19, NULL, 0, b, 32), 0);
  cr_assert_eq(mls_ks_export(&e, (const uint8_t *)"SFrame 1.0 Base Key", 19,
                             (const uint8_t *)"x", 1, c, 32), 0);
  cr_assert_neq(memcmp(a, b, 32), 0);
  cr_assert_neq(memcmp(a, c, 32), 0);
}

Test(mls_key_schedule, consumed_encryption_secret_is_wiped) {
  const mls_suite_t *s = mls_suite_get(1);
  uint8_t epoch[32], zero[32] = {0};
  fill(epoch, 32, 2);
  mls_epoch_secrets_t e;
  cr_assert_eq(mls_ks_from_epoch_secret(s, epoch, &e), 0);
  cr_assert_neq(memcmp(e.encryption_secret, zero, 32), 0);
  mls_epoch_secrets_consume_encryption(&e);
  cr_assert_eq(memcmp(e.encryption_secret, zero, 32), 0);
  mls_epoch_secrets_wipe(&e);
  cr_assert_eq(memcmp(e.init_secret, zero, 32), 0);
}

static mls_psk_id_t ext_id(const char *id, const uint8_t *nonce) {
  return (mls_psk_id_t){.psktype = MLS_PSK_EXTERNAL,
                        .psk_id = {(const uint8_t *)id, strlen(id)},
                        .psk_nonce = {nonce, 32}};
}

Test(mls_key_schedule, psk_chain_depends_on_order_and_ids) {
  const mls_suite_t *s = mls_suite_get(1);
  uint8_t n1[32], n2[32], k1[32], k2[32], ab[32], ba[32], one[32], zero[32] = {0}, none[32];
  fill(n1, 32, 1);
  fill(n2, 32, 2);
  fill(k1, 32, 3);
  fill(k2, 32, 4);
  mls_psk_id_t i1 = ext_id("first", n1), i2 = ext_id("second", n2);
  mls_ks_psk_t p[2] = {{&i1, k1, 32}, {&i2, k2, 32}}, q[2] = {{&i2, k2, 32}, {&i1, k1, 32}};
  cr_assert_eq(mls_ks_psk_secret(s, p, 2, ab), 0);
  cr_assert_eq(mls_ks_psk_secret(s, q, 2, ba), 0);
  cr_assert_eq(mls_ks_psk_secret(s, p, 1, one), 0);
  cr_assert_eq(mls_ks_psk_secret(s, NULL, 0, none), 0);
  cr_assert_neq(memcmp(ab, ba, 32), 0);
  cr_assert_neq(memcmp(ab, one, 32), 0);
  cr_assert_eq(memcmp(none, zero, 32), 0);
  /* Same key, different id: different secret (PSKLabel binds the PreSharedKeyID). */
  mls_psk_id_t i3 = ext_id("firsT", n1);
  mls_ks_psk_t r[1] = {{&i3, k1, 32}};
  uint8_t other[32];
  cr_assert_eq(mls_ks_psk_secret(s, r, 1, other), 0);
  cr_assert_neq(memcmp(one, other, 32), 0);
}

Test(mls_key_schedule, psk_chain_rejects_unknown_psk_type) {
  const mls_suite_t *s = mls_suite_get(1);
  uint8_t n[32] = {0}, k[32] = {0}, out[32];
  mls_psk_id_t bad = ext_id("x", n);
  bad.psktype = 3;
  mls_ks_psk_t p[1] = {{&bad, k, 32}};
  cr_assert_lt(mls_ks_psk_secret(s, p, 1, out), 0);
  mls_ks_psk_t missing[1] = {{NULL, k, 32}};
  cr_assert_eq(mls_ks_psk_secret(s, missing, 1, out), VEIL_EINVAL);
}

Test(mls_key_schedule, external_init_secret_agrees_only_with_the_epochs_key) {
  for (uint16_t id = 1; id <= 3; id++) {
    const mls_suite_t *s = mls_suite_get(id);
    uint8_t epoch[32], other[32], priv[32], pub[65], kem[65], a[32], b[32], c[32];
    size_t kl = 0;
    fill(epoch, 32, 11);
    fill(other, 32, 12);
    mls_epoch_secrets_t e, e2;
    cr_assert_eq(mls_ks_from_epoch_secret(s, epoch, &e), 0);
    cr_assert_eq(mls_ks_from_epoch_secret(s, other, &e2), 0);
    cr_assert_eq(mls_ks_external_key_pair(&e, priv, pub), 0);
    cr_assert_eq(mls_ks_external_init_encap(s, pub, s->hpke_pk_len, kem, &kl, a), 0);
    cr_assert_eq(kl, s->hpke_pk_len);
    cr_assert_eq(mls_ks_external_init_decap(&e, kem, kl, b), 0);
    cr_assert_eq(memcmp(a, b, 32), 0, "suite %u", id);
    cr_assert_eq(mls_ks_external_init_decap(&e2, kem, kl, c), 0);
    cr_assert_neq(memcmp(a, c, 32), 0);
  }
}
