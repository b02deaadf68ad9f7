/* Unit tests of MLS-based SFrame keys (RFC 9605 §5.2): the KID layout of Figure 9, per
 * sender keys, reflection, epoch rotation and wiping, and bounds on what a peer can make
 * us derive. */
#include <criterion/criterion.h>
#include <string.h>

#include "clients/lib/sframe/sframe.h"

static const sframe_suite_t suite = SFRAME_AES_128_GCM_SHA256_128;

static sframe_mls_t *mk(uint32_t e, uint32_t kept, uint32_t nctx) {
  sframe_mls_config_t cfg = {.suite = suite, .epoch_bits = e, .epochs_kept = kept,
                             .max_contexts = nctx};
  sframe_mls_t *m;
  cr_assert_eq(sframe_mls_new(&m, &cfg), 0);
  return m;
}

static void secret_for(uint64_t epoch, uint8_t *out, size_t n) {
  for (size_t i = 0; i < n; i++)
    out[i] = (uint8_t)(epoch * 31 + i);
}

static void add(sframe_mls_t *m, uint64_t epoch, uint32_t n_leaves, uint32_t own) {
  uint8_t s[48];
  size_t n = sframe_mls_exporter_len(m);
  secret_for(epoch, s, n);
  cr_assert_eq(sframe_mls_add_epoch(m, epoch, s, n, n_leaves, own), 0);
}

/* The KID of (epoch, sender leaf, context) is `want`. */
static void expect_kid(sframe_mls_t *m, uint64_t epoch, uint32_t leaf, uint64_t context,
                       uint64_t want) {
  uint64_t kid;
  cr_assert_eq(sframe_mls_kid(m, epoch, leaf, context, &kid), 0);
  cr_assert_eq(kid, want, "epoch %llu leaf %u context %llu: KID %#llx, want %#llx",
               (unsigned long long)epoch, leaf, (unsigned long long)context,
               (unsigned long long)kid, (unsigned long long)want);
}

Test(sframe_mls, kid_layout_matches_rfc9605_figure_9) {
  sframe_mls_t *m = mk(4, 3, 4);
  uint64_t kid;
  add(m, 14, 64, 0); /* 64 leaves: S = 6 */
  expect_kid(m, 14, 3, 0, 0x3e);
  expect_kid(m, 14, 7, 0, 0x7e);
  expect_kid(m, 14, 20, 0, 0x14e);
  add(m, 15, 64, 0);
  expect_kid(m, 15, 3, 0, 0x3f);
  expect_kid(m, 15, 5, 0, 0x5f);
  add(m, 16, 64, 0);
  expect_kid(m, 16, 2, 2, 0x820);
  expect_kid(m, 16, 2, 3, 0xc20);
  add(m, 17, 64, 0);
  expect_kid(m, 17, 33, 0, 0x211);
  expect_kid(m, 17, 51, 0, 0x331);
  /* S follows the tree size: 33 leaves still need 6 bits, 32 need 5. */
  add(m, 18, 32, 0);
  expect_kid(m, 18, 1, 1, (UINT64_C(1) << 9) | (1 << 4) | 2);
  cr_assert_eq(sframe_mls_kid(m, 18, 32, 0, &kid), VEIL_ESFRAME_SENDER);
  cr_assert_eq(sframe_mls_kid(m, 18, 0, 4, &kid), VEIL_ESFRAME_SENDER);
  sframe_mls_free(m);
}

Test(sframe_mls, members_decrypt_each_other_with_per_sender_keys) {
  sframe_mls_t *alice = mk(0, 0, 0), *bob = mk(0, 0, 0), *carol = mk(0, 0, 0);
  add(alice, 7, 3, 0);
  add(bob, 7, 3, 1);
  add(carol, 7, 3, 2);
  uint8_t ct[256], out[256];
  size_t n, len;
  sframe_mls_sender_t who;
  cr_assert_eq(sframe_mls_encrypt(alice, 1, NULL, 0, (const uint8_t *)"from alice", 10, ct,
                                  sizeof ct, &n), 0);
  cr_assert_eq(sframe_mls_decrypt(bob, NULL, 0, ct, n, out, sizeof out, &len, &who), 0);
  cr_assert_eq(len, 10);
  cr_assert_eq(memcmp(out, "from alice", 10), 0);
  cr_assert_eq(who.epoch, 7);
  cr_assert_eq(who.sender_index, 0);
  cr_assert_eq(who.context, 1);
  cr_assert_eq(sframe_mls_decrypt(carol, NULL, 0, ct, n, out, sizeof out, &len, &who), 0);
  /* Bob's frames use Bob's KID, hence a different key and salt, at the same CTR 0. */
  uint8_t ct2[256];
  size_t n2;
  cr_assert_eq(sframe_mls_encrypt(bob, 1, NULL, 0, (const uint8_t *)"from alice", 10, ct2,
                                  sizeof ct2, &n2), 0);
  cr_assert_eq(n, n2);
  cr_assert_neq(memcmp(ct, ct2, n), 0);
  cr_assert_eq(sframe_mls_decrypt(carol, NULL, 0, ct2, n2, out, sizeof out, &len, &who), 0);
  cr_assert_eq(who.sender_index, 1);
  sframe_mls_free(alice);
  sframe_mls_free(bob);
  sframe_mls_free(carol);
}

Test(sframe_mls, rejects_reflected_own_frames) {
  sframe_mls_t *alice = mk(0, 0, 0);
  add(alice, 1, 2, 0);
  uint8_t ct[256], out[256];
  size_t n, len;
  cr_assert_eq(sframe_mls_encrypt(alice, 0, NULL, 0, (const uint8_t *)"x", 1, ct, sizeof ct,
                                  &n), 0);
  cr_assert_eq(sframe_mls_decrypt(alice, NULL, 0, ct, n, out, sizeof out, &len, NULL),
               VEIL_ESFRAME_KEY_USAGE);
  sframe_mls_free(alice);
}

Test(sframe_mls, epoch_rotation_drops_and_wipes_old_keys) {
  sframe_mls_t *tx = mk(4, 2, 0), *rx = mk(4, 2, 0);
  uint8_t ct1[256], ct2[256], out[256];
  size_t n1, n2, len;
  add(tx, 1, 2, 0);
  add(rx, 1, 2, 1);
  cr_assert_eq(sframe_mls_encrypt(tx, 0, NULL, 0, (const uint8_t *)"e1", 2, ct1, 256, &n1), 0);
  cr_assert_eq(sframe_mls_decrypt(rx, NULL, 0, ct1, n1, out, 256, &len, NULL), 0);
  uint64_t kid1;
  cr_assert_eq(sframe_mls_kid(rx, 1, 0, 0, &kid1), 0);
  cr_assert(sframe_ctx_has_key(sframe_mls_ctx(rx), kid1));

  add(tx, 2, 2, 0);
  add(rx, 2, 2, 1);
  cr_assert_eq(sframe_mls_encrypt(tx, 0, NULL, 0, (const uint8_t *)"e2", 2, ct2, 256, &n2), 0);
  cr_assert_eq(ct2[0] & 0x07, 0); /* new epoch's key starts again at CTR 0 */
  /* Both epochs held: epoch 2 decrypts and epoch 1 is still there for in-flight frames. */
  cr_assert_eq(sframe_mls_decrypt(rx, NULL, 0, ct2, n2, out, 256, &len, NULL), 0);
  cr_assert(sframe_mls_has_epoch(rx, 1));

  /* Epoch 3 pushes epoch 1 out (epochs_kept = 2): its keys are gone. */
  add(rx, 3, 2, 1);
  cr_assert_not(sframe_mls_has_epoch(rx, 1));
  cr_assert(sframe_mls_has_epoch(rx, 2));
  cr_assert_not(sframe_ctx_has_key(sframe_mls_ctx(rx), kid1));
  cr_assert_eq(sframe_mls_decrypt(rx, NULL, 0, ct1, n1, out, 256, &len, NULL),
               VEIL_ESFRAME_EPOCH);
  sframe_mls_free(tx);
  sframe_mls_free(rx);
}

Test(sframe_mls, new_epoch_with_same_low_bits_replaces_old_one) {
  sframe_mls_t *rx = mk(2, 4, 0); /* E = 2: epochs 1 and 5 share their low bits */
  add(rx, 1, 4, 0);
  add(rx, 2, 4, 0);
  add(rx, 5, 4, 0);
  cr_assert_not(sframe_mls_has_epoch(rx, 1));
  cr_assert(sframe_mls_has_epoch(rx, 2));
  cr_assert(sframe_mls_has_epoch(rx, 5));
  sframe_mls_free(rx);
}

Test(sframe_mls, rejects_bad_epoch_input) {
  sframe_mls_t *m = mk(0, 0, 0);
  uint8_t s[48] = {0};
  cr_assert_eq(sframe_mls_exporter_len(m), 16);
  cr_assert_eq(sframe_mls_add_epoch(m, 1, s, 32, 2, 0), VEIL_EINVAL);
  cr_assert_eq(sframe_mls_add_epoch(m, 1, s, 16, 2, 2), VEIL_EINVAL);
  cr_assert_eq(sframe_mls_add_epoch(m, 2, s, 16, 2, 0), 0);
  cr_assert_eq(sframe_mls_add_epoch(m, 2, s, 16, 2, 0), VEIL_ERANGE);
  cr_assert_eq(sframe_mls_add_epoch(m, 1, s, 16, 2, 0), VEIL_ERANGE);
  sframe_mls_config_t bad = {.suite = suite, .epoch_bits = 2, .epochs_kept = 5};
  sframe_mls_t *b;
  cr_assert_eq(sframe_mls_new(&b, &bad), VEIL_ERANGE);
  sframe_mls_free(m);
}

Test(sframe_mls, forged_frames_do_not_fill_the_key_table) {
  sframe_mls_t *tx = mk(0, 0, 0), *rx = mk(0, 0, 0);
  add(tx, 3, 6, 5); /* 6 leaves: S = 3, so leaf 7 is encodable but not in the tree */
  add(rx, 3, 6, 1);
  uint8_t ct[256], out[256];
  size_t n, len;
  cr_assert_eq(sframe_mls_encrypt(tx, 0, NULL, 0, (const uint8_t *)"hi", 2, ct, 256, &n), 0);
  ct[n - 1] ^= 0x80;
  cr_assert_eq(sframe_mls_decrypt(rx, NULL, 0, ct, n, out, 256, &len, NULL), VEIL_EAUTH);
  uint64_t kid;
  cr_assert_eq(sframe_mls_kid(rx, 3, 5, 0, &kid), 0);
  cr_assert_not(sframe_ctx_has_key(sframe_mls_ctx(rx), kid));
  ct[n - 1] ^= 0x80;
  cr_assert_eq(sframe_mls_decrypt(rx, NULL, 0, ct, n, out, 256, &len, NULL), 0);
  cr_assert(sframe_ctx_has_key(sframe_mls_ctx(rx), kid));
  /* A KID naming a leaf outside the tree, or an unknown epoch. */
  uint8_t fake[32] = {0};
  fake[0] = 0x80;                 /* 1-byte extended KID */
  fake[1] = (uint8_t)(7 << 4 | 3); /* leaf 7 of 6, epoch 3 */
  cr_assert_eq(sframe_mls_decrypt(rx, NULL, 0, fake, sizeof fake, out, 256, &len, NULL),
               VEIL_ESFRAME_SENDER);
  fake[1] = (uint8_t)(2 << 4 | 4); /* epoch 4 not held */
  cr_assert_eq(sframe_mls_decrypt(rx, NULL, 0, fake, sizeof fake, out, 256, &len, NULL),
               VEIL_ESFRAME_EPOCH);
  sframe_mls_free(tx);
  sframe_mls_free(rx);
}
