/* Unit tests of the secret tree and sender ratchets (RFC 9420 §9): key reuse, the
 * out-of-order window, the forward bound, lazy derivation order, bad arguments. Known
 * answers are in the secret-tree vectors. */
#include <criterion/criterion.h>
#include <string.h>

#include "clients/lib/mls/secret_tree.h"

static const uint8_t ENC[32] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16,
                                17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32};

static mls_secret_tree_t *mk(uint32_t leaves, uint32_t fwd, uint32_t window) {
  mls_secret_tree_config_t cfg = {fwd, window};
  mls_secret_tree_t *t = mls_secret_tree_new(mls_suite_get(1), ENC, leaves, &cfg);
  cr_assert_not_null(t);
  return t;
}

static int same(const mls_ratchet_key_t *a, const mls_ratchet_key_t *b) {
  return a->generation == b->generation && memcmp(a->key, b->key, 16) == 0 &&
         memcmp(a->nonce, b->nonce, 12) == 0;
}

Test(mls_secret_tree, rejects_reuse_of_a_generation) {
  mls_secret_tree_t *t = mk(4, 100, 8);
  mls_ratchet_key_t k;
  cr_assert_eq(mls_secret_tree_get(t, 1, MLS_RATCHET_APPLICATION, 0, &k), 0);
  cr_assert_eq(mls_secret_tree_get(t, 1, MLS_RATCHET_APPLICATION, 0, &k),
               VEIL_EMLS_GENERATION_USED);
  cr_assert_eq(mls_secret_tree_get(t, 1, MLS_RATCHET_APPLICATION, 5, &k), 0);
  cr_assert_eq(mls_secret_tree_get(t, 1, MLS_RATCHET_APPLICATION, 3, &k), 0);
  cr_assert_eq(mls_secret_tree_get(t, 1, MLS_RATCHET_APPLICATION, 3, &k),
               VEIL_EMLS_GENERATION_USED);
  cr_assert_eq(mls_secret_tree_get(t, 1, MLS_RATCHET_APPLICATION, 5, &k),
               VEIL_EMLS_GENERATION_USED);
  mls_secret_tree_free(t);
}

Test(mls_secret_tree, out_of_order_keys_match_in_order_keys) {
  mls_secret_tree_t *rx = mk(2, 100, 8), *tx = mk(2, 100, 8);
  mls_ratchet_key_t sent[6], k;
  for (int g = 0; g < 6; g++)
    cr_assert_eq(mls_secret_tree_next(tx, 0, MLS_RATCHET_HANDSHAKE, &sent[g]), 0);
  const int order[] = {5, 0, 3, 1, 4, 2};
  for (int i = 0; i < 6; i++) {
    cr_assert_eq(mls_secret_tree_get(rx, 0, MLS_RATCHET_HANDSHAKE, (uint32_t)order[i], &k), 0);
    cr_assert(same(&k, &sent[order[i]]), "generation %d", order[i]);
  }
  cr_assert_eq(mls_secret_tree_window_len(rx, 0, MLS_RATCHET_HANDSHAKE), 0);
  mls_secret_tree_free(rx);
  mls_secret_tree_free(tx);
}

Test(mls_secret_tree, rejects_generation_beyond_forward_bound_without_advancing) {
  mls_secret_tree_t *t = mk(2, 10, 4);
  mls_ratchet_key_t k;
  cr_assert_eq(mls_secret_tree_get(t, 0, MLS_RATCHET_APPLICATION, 11, &k),
               VEIL_EMLS_GENERATION_AHEAD);
  cr_assert_eq(mls_secret_tree_get(t, 0, MLS_RATCHET_APPLICATION, 0xffffffffu, &k),
               VEIL_EMLS_GENERATION_AHEAD);
  /* Nothing moved: generation 0 is still available, and 10 ahead of 1 is fine. */
  cr_assert_eq(mls_secret_tree_get(t, 0, MLS_RATCHET_APPLICATION, 0, &k), 0);
  cr_assert_eq(mls_secret_tree_get(t, 0, MLS_RATCHET_APPLICATION, 11, &k), 0);
  mls_secret_tree_free(t);
}

Test(mls_secret_tree, window_keeps_only_the_newest_skipped_keys) {
  mls_secret_tree_t *t = mk(2, 100, 4), *ref = mk(2, 100, 4);
  mls_ratchet_key_t k, want;
  cr_assert_eq(mls_secret_tree_get(t, 1, MLS_RATCHET_APPLICATION, 10, &k), 0);
  cr_assert_eq(mls_secret_tree_window_len(t, 1, MLS_RATCHET_APPLICATION), 4);
  cr_assert_eq(mls_secret_tree_get(t, 1, MLS_RATCHET_APPLICATION, 5, &k),
               VEIL_EMLS_GENERATION_USED);
  cr_assert_eq(mls_secret_tree_get(t, 1, MLS_RATCHET_APPLICATION, 6, &k), 0);
  cr_assert_eq(mls_secret_tree_get(ref, 1, MLS_RATCHET_APPLICATION, 6, &want), 0);
  cr_assert(same(&k, &want));
  cr_assert_eq(mls_secret_tree_window_len(t, 1, MLS_RATCHET_APPLICATION), 3);
  mls_secret_tree_free(t);
  mls_secret_tree_free(ref);
}

Test(mls_secret_tree, zero_window_accepts_only_in_order_or_ahead) {
  mls_secret_tree_t *t = mk(2, 100, 0);
  mls_ratchet_key_t k;
  cr_assert_eq(mls_secret_tree_get(t, 0, MLS_RATCHET_APPLICATION, 3, &k), 0);
  cr_assert_eq(mls_secret_tree_get(t, 0, MLS_RATCHET_APPLICATION, 2, &k),
               VEIL_EMLS_GENERATION_USED);
  cr_assert_eq(mls_secret_tree_get(t, 0, MLS_RATCHET_APPLICATION, 4, &k), 0);
  mls_secret_tree_free(t);
}

Test(mls_secret_tree, derivation_order_of_leaves_does_not_matter) {
  mls_secret_tree_t *a = mk(1024, 10, 4), *b = mk(1024, 10, 4);
  mls_ratchet_key_t ka, kb;
  const uint32_t order_a[] = {0, 1023, 511, 512, 7};
  const uint32_t order_b[] = {7, 512, 511, 1023, 0};
  mls_ratchet_key_t got_a[5], got_b[5];
  for (int i = 0; i < 5; i++) {
    cr_assert_eq(mls_secret_tree_next(a, order_a[i], MLS_RATCHET_HANDSHAKE, &got_a[i]), 0);
    cr_assert_eq(mls_secret_tree_next(b, order_b[i], MLS_RATCHET_HANDSHAKE, &got_b[i]), 0);
  }
  for (int i = 0; i < 5; i++)
    cr_assert(same(&got_a[i], &got_b[4 - i]), "leaf %u", order_a[i]);
  /* The two ratchets of one leaf are distinct. */
  cr_assert_eq(mls_secret_tree_next(a, 3, MLS_RATCHET_HANDSHAKE, &ka), 0);
  cr_assert_eq(mls_secret_tree_next(a, 3, MLS_RATCHET_APPLICATION, &kb), 0);
  cr_assert_neq(memcmp(ka.key, kb.key, 16), 0);
  mls_secret_tree_free(a);
  mls_secret_tree_free(b);
}

Test(mls_secret_tree, rejects_leaf_outside_tree_and_bad_shapes) {
  mls_secret_tree_t *t = mk(8, 10, 4);
  mls_ratchet_key_t k;
  cr_assert_eq(mls_secret_tree_next(t, 8, MLS_RATCHET_HANDSHAKE, &k), VEIL_EMLS_LEAF_INDEX);
  cr_assert_eq(mls_secret_tree_get(t, 0xffffffffu, MLS_RATCHET_HANDSHAKE, 0, &k),
               VEIL_EMLS_LEAF_INDEX);
  cr_assert_eq(mls_secret_tree_next(t, 0, (mls_ratchet_type_t)2, &k), VEIL_EINVAL);
  mls_secret_tree_free(t);
  const mls_suite_t *s = mls_suite_get(1);
  cr_assert_null(mls_secret_tree_new(s, ENC, 0, NULL));
  cr_assert_null(mls_secret_tree_new(s, ENC, 3, NULL));
  cr_assert_null(mls_secret_tree_new(s, ENC, (1u << 16) + 1, NULL));
  cr_assert_null(mls_secret_tree_new(NULL, ENC, 4, NULL));
  mls_secret_tree_free(NULL);
}

Test(mls_secret_tree, sender_data_sample_is_capped_at_nh) {
  const mls_suite_t *s = mls_suite_get(1);
  uint8_t secret[32] = {9}, ct[64], k1[16], n1[12], k2[16], n2[12];
  memset(ct, 0xab, sizeof ct);
  cr_assert_eq(mls_sender_data_key_nonce(s, secret, ct, 64, k1, n1), 0);
  cr_assert_eq(mls_sender_data_key_nonce(s, secret, ct, 32, k2, n2), 0);
  cr_assert_eq(memcmp(k1, k2, 16), 0);
  cr_assert_eq(memcmp(n1, n2, 12), 0);
  cr_assert_eq(mls_sender_data_key_nonce(s, secret, ct, 31, k2, n2), 0);
  cr_assert_neq(memcmp(k1, k2, 16), 0);
}

Test(mls_secret_tree, put_back_makes_a_key_usable_once_more) {
  mls_secret_tree_t *t = mk(2, 100, 4), *ref = mk(2, 100, 4);
  mls_ratchet_key_t k, again, want;
  cr_assert_eq(mls_secret_tree_get(t, 1, MLS_RATCHET_HANDSHAKE, 2, &k), 0);
  cr_assert_eq(mls_secret_tree_put_back(t, 1, MLS_RATCHET_HANDSHAKE, &k), 0);
  cr_assert_eq(mls_secret_tree_put_back(t, 1, MLS_RATCHET_HANDSHAKE, &k), VEIL_EEXIST);
  cr_assert_eq(mls_secret_tree_get(t, 1, MLS_RATCHET_HANDSHAKE, 2, &again), 0);
  cr_assert_eq(mls_secret_tree_get(ref, 1, MLS_RATCHET_HANDSHAKE, 2, &want), 0);
  cr_assert(same(&again, &want));
  cr_assert_eq(mls_secret_tree_get(t, 1, MLS_RATCHET_HANDSHAKE, 2, &again),
               VEIL_EMLS_GENERATION_USED);
  /* A generation the ratchet has not reached cannot be planted. */
  k.generation = 50;
  cr_assert_eq(mls_secret_tree_put_back(t, 1, MLS_RATCHET_HANDSHAKE, &k), VEIL_EINVAL);
  /* Skipped keys 0 and 1 are still there, in order. */
  cr_assert_eq(mls_secret_tree_window_len(t, 1, MLS_RATCHET_HANDSHAKE), 2);
  mls_secret_tree_free(t);
  mls_secret_tree_free(ref);
}

Test(mls_secret_tree, persisted_state_keeps_the_window_and_not_consumed_keys) {
  mls_secret_tree_t *t = mk(8, 100, 4), *ref = mk(8, 100, 4), *back = NULL;
  mls_ratchet_key_t k, want;
  cr_assert_eq(mls_secret_tree_get(t, 5, MLS_RATCHET_APPLICATION, 3, &k), 0); /* 0..2 skipped */
  cr_assert_eq(mls_secret_tree_get(t, 5, MLS_RATCHET_APPLICATION, 1, &k), 0);
  veil_writer_t w;
  veil_writer_init_growable(&w, 0);
  cr_assert_eq(mls_secret_tree_serialize(t, &w), 0);
  veil_reader_t r;
  veil_reader_init(&r, w.buf, w.len);
  cr_assert_eq(mls_secret_tree_deserialize(mls_suite_get(1), &r, &back), 0);
  cr_assert_eq(veil_reader_finish(&r), 0);
  /* Consumed keys stay consumed; the rest of the window and the ratchet carry over. */
  cr_assert_eq(mls_secret_tree_get(back, 5, MLS_RATCHET_APPLICATION, 3, &k),
               VEIL_EMLS_GENERATION_USED);
  cr_assert_eq(mls_secret_tree_get(back, 5, MLS_RATCHET_APPLICATION, 1, &k),
               VEIL_EMLS_GENERATION_USED);
  cr_assert_eq(mls_secret_tree_get(back, 5, MLS_RATCHET_APPLICATION, 2, &k), 0);
  cr_assert_eq(mls_secret_tree_get(ref, 5, MLS_RATCHET_APPLICATION, 2, &want), 0);
  cr_assert(same(&k, &want));
  cr_assert_eq(mls_secret_tree_get(back, 5, MLS_RATCHET_APPLICATION, 4, &k), 0);
  cr_assert_eq(mls_secret_tree_get(ref, 5, MLS_RATCHET_APPLICATION, 4, &want), 0);
  cr_assert(same(&k, &want));
  /* Leaves never touched still derive from the held frontier. */
  cr_assert_eq(mls_secret_tree_next(back, 0, MLS_RATCHET_HANDSHAKE, &k), 0);
  cr_assert_eq(mls_secret_tree_next(ref, 0, MLS_RATCHET_HANDSHAKE, &want), 0);
  cr_assert(same(&k, &want));
  /* Every truncation of the state is refused. */
  for (size_t n = 0; n < w.len; n++) {
    mls_secret_tree_t *x = NULL;
    veil_reader_init(&r, w.buf, n);
    int rc = mls_secret_tree_deserialize(mls_suite_get(1), &r, &x);
    cr_assert(rc != 0 || veil_reader_finish(&r) != 0 || x == NULL, "length %zu", n);
    mls_secret_tree_free(x);
  }
  veil_writer_free(&w);
  mls_secret_tree_free(t);
  mls_secret_tree_free(ref);
  mls_secret_tree_free(back);
}
