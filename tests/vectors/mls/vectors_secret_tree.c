/*
 * RFC 9420 secret-tree vectors: sender-data key/nonce (§6.3.2) and, for every leaf of a
 * 1-, 8- and 32-leaf tree, the handshake and application key/nonce at each listed
 * generation (§9). Each expected key is checked twice: on a receiver's tree (asking for
 * the generation directly, deriving skipped keys into the window) and on a sender's tree
 * (stepping the ratchet one generation at a time).
 */
#include <string.h>

#include "clients/lib/mls/secret_tree.h"
#include "mls_vec.h"

static int check_key(const char *what, const mls_suite_t *s, const mls_ratchet_key_t *k,
                     uint32_t gen, const uint8_t *key, size_t kl, const uint8_t *nonce,
                     size_t nl) {
  return k->generation == gen && tap_bytes_eq(what, k->key, s->nk, key, kl) &&
         tap_bytes_eq(what, k->nonce, s->nn, nonce, nl);
}

/* Sender side: steps until `gen`, returning the key of that generation. */
static int sender_key(mls_secret_tree_t *t, uint32_t leaf, mls_ratchet_type_t type,
                      uint32_t gen, mls_ratchet_key_t *out) {
  for (;;) {
    int rc = mls_secret_tree_next(t, leaf, type, out);
    if (rc || out->generation >= gen)
      return rc ? rc : (out->generation == gen ? 0 : -1);
    mls_ratchet_key_wipe(out);
  }
}

static void check_case(mv_t *m, const mls_suite_t *s, const vj_t *tc, size_t i) {
  const vj_t *sd = vj_get(tc, "sender_data");
  size_t sl, cl, kl, nl, el;
  uint8_t *sds = mv_hex(m, sd, "sender_data_secret", &sl), *ct = mv_hex(m, sd, "ciphertext", &cl);
  uint8_t *key = mv_hex(m, sd, "key", &kl), *nonce = mv_hex(m, sd, "nonce", &nl);
  uint8_t k[MLS_AEAD_KEY_MAX], n[MLS_AEAD_NONCE_LEN];
  int ok = sds && ct && key && nonce && sl == s->nh &&
           mls_sender_data_key_nonce(s, sds, ct, cl, k, n) == 0 &&
           tap_bytes_eq("sender_data key", k, s->nk, key, kl) &&
           tap_bytes_eq("sender_data nonce", n, s->nn, nonce, nl);
  tap_ok(ok, "secret-tree[%zu] suite %u sender data key/nonce", i, s->id);

  const vj_t *leaves = vj_get(tc, "leaves");
  uint8_t *enc = mv_hex(m, tc, "encryption_secret", &el);
  uint32_t n_leaves = (uint32_t)vj_size(leaves);
  mls_secret_tree_t *rx = enc ? mls_secret_tree_new(s, enc, n_leaves, NULL) : NULL;
  mls_secret_tree_t *tx = enc ? mls_secret_tree_new(s, enc, n_leaves, NULL) : NULL;
  unsigned checked = 0, failed = !rx || !tx;
  for (uint32_t leaf = 0; rx && tx && leaf < n_leaves; leaf++) {
    const vj_t *gens = vj_at(leaves, leaf);
    for (size_t g = 0; g < vj_size(gens); g++) {
      const vj_t *e = vj_at(gens, g);
      int okg = 0;
      uint64_t gen = vj_u64(e, "generation", &okg);
      static const char *names[2][2] = {{"handshake_key", "handshake_nonce"},
                                         {"application_key", "application_nonce"}};
      for (int type = 0; type < 2; type++) {
        size_t wkl, wnl;
        uint8_t *wk = mv_hex(m, e, names[type][0], &wkl), *wn = mv_hex(m, e, names[type][1], &wnl);
        mls_ratchet_key_t a, b;
        int okk = okg && wk && wn &&
                  mls_secret_tree_get(rx, leaf, (mls_ratchet_type_t)type, (uint32_t)gen, &a) ==
                      0 &&
                  check_key(names[type][0], s, &a, (uint32_t)gen, wk, wkl, wn, wnl) &&
                  sender_key(tx, leaf, (mls_ratchet_type_t)type, (uint32_t)gen, &b) == 0 &&
                  check_key(names[type][0], s, &b, (uint32_t)gen, wk, wkl, wn, wnl);
        mls_ratchet_key_wipe(&a);
        mls_ratchet_key_wipe(&b);
        checked++;
        if (!okk) {
          failed++;
          tap_diag("leaf %u generation %llu %s mismatch", leaf, (unsigned long long)gen,
                   names[type][0]);
        }
      }
    }
  }
  tap_ok(!failed && checked > 0, "secret-tree[%zu] suite %u, %u leaves: %u ratchet keys", i,
         s->id, n_leaves, checked);
  mls_secret_tree_free(rx);
  mls_secret_tree_free(tx);
}

int main(void) {
  mv_t m;
  int rc = mv_open(&m, "secret-tree.json");
  if (rc)
    return rc;
  for (size_t i = 0; i < vj_size(m.root); i++) {
    const vj_t *tc = vj_at(m.root, i);
    const mls_suite_t *s = mv_suite(&m, tc, i);
    if (!s)
      continue;
    check_case(&m, s, tc, i);
    mv_release(&m);
    mv_ran(&m, s);
  }
  return mv_finish(&m);
}
