/*
 * RFC 9420 treekem vectors (§7.4-§7.6). For every UpdatePath of a test case: merge it
 * into a copy of the ratchet tree (path length, parent hashes, leaf signature), compare
 * the tree hash after, and let every other member of leaves_private decrypt it with the
 * provisional GroupContext (group_id, epoch, tree_hash_after, confirmed_transcript_hash,
 * no extensions), checking the path secret at the common ancestor (path_secrets[leaf])
 * and commit_secret.
 * Then every member of leaves_private creates a fresh UpdatePath, and every other
 * member merges and decrypts it to the committer's tree hash and commit_secret.
 */
#include <string.h>

#include "clients/lib/mls/codec.h"
#include "clients/lib/mls/tree.h"
#include "clients/lib/mls/treekem.h"
#include "mls_vec.h"

#define MAX_MEMBERS 64

typedef struct tcase {
  const mls_suite_t *s;
  mls_tree_t *tree;
  veil_view_t group_id, cth;
  uint64_t epoch;
  size_t n_priv;
  uint32_t index[MAX_MEMBERS];
  const uint8_t *sig_priv[MAX_MEMBERS];
  mls_tree_priv_t priv[MAX_MEMBERS];
} tcase_t;

static int encode_gc(const tcase_t *t, const uint8_t *tree_hash, veil_writer_t *w) {
  mls_group_context_t gc = {.version = MLS_VERSION_10, .cipher_suite = t->s->id,
                            .group_id = t->group_id, .epoch = t->epoch,
                            .tree_hash = {tree_hash, t->s->nh},
                            .confirmed_transcript_hash = t->cth};
  veil_writer_init_growable(w, 0);
  return mls_group_context_encode(w, &gc);
}

/* Merges `up` from `sender` into a clone of the tree and decrypts it as member `i`.
 * Fills tree_hash (after merge) and commit/ancestor secrets. */
static int receive(const tcase_t *t, size_t i, uint32_t sender, const mls_update_path_t *up,
                   uint8_t *tree_hash, uint8_t *commit, uint8_t *ancestor) {
  mls_tree_t *c = NULL;
  veil_writer_t gc = {0};
  mls_tree_priv_t p = t->priv[i];
  mls_leaf_check_t chk = {.group_id = t->group_id};
  int ok = mls_tree_clone(t->tree, &c) == 0 && mls_treekem_merge(c, sender, up) == 0 &&
           mls_leaf_node_validate(t->s->id, &up->leaf_node, sender, &chk) == 0 &&
           mls_tree_root_hash(c, tree_hash) == 0 && encode_gc(t, tree_hash, &gc) == 0 &&
           mls_treekem_decrypt(c, &p, sender, up, gc.buf, gc.len, NULL, 0, commit, ancestor) ==
               0;
  veil_writer_free(&gc);
  mls_tree_free(c);
  mls_tree_priv_wipe(&p);
  return ok;
}

/* A path with one node missing, a changed node key, or a changed ciphertext is refused
 * (by the length check, the parent-hash check, and decryption respectively). */
static void check_refusals(const tcase_t *t, uint32_t sender, const mls_update_path_t *up,
                           size_t tc_i, size_t k) {
  size_t i = t->index[0] == sender ? 1 : 0;
  mls_tree_t *c = NULL;
  mls_update_path_t bad = *up;
  bad.n_nodes--;
  int r1 = mls_tree_clone(t->tree, &c) == 0 ? mls_treekem_merge(c, sender, &bad) : -1;
  mls_tree_free(c);
  c = NULL;
  bad = *up;
  uint8_t key[MLS_HPKE_PK_MAX];
  memcpy(key, up->nodes[up->n_nodes - 1].encryption_key.ptr, t->s->hpke_pk_len);
  key[t->s->hpke_pk_len - 1] ^= 1;
  bad.nodes[up->n_nodes - 1].encryption_key.ptr = key;
  int r2 = mls_tree_clone(t->tree, &c) == 0 ? mls_treekem_merge(c, sender, &bad) : -1;
  mls_tree_free(c);
  tap_ok(r1 == VEIL_EMLS_UPDATE_PATH && r2 == VEIL_EMLS_PARENT_HASH,
         "treekem[%zu] suite %u update_paths[%zu]: truncated path and changed key refused",
         tc_i, t->s->id, k);
  /* One bit flipped in every ciphertext of every node: the receiver cannot decrypt. */
  veil_writer_t copies[MLS_MAX_PATH];
  bad = *up;
  for (uint32_t n = 0; n < up->n_nodes; n++) {
    veil_writer_init_growable(&copies[n], 0);
    veil_reader_t r;
    mls_list_reader(&up->nodes[n].encrypted_path_secret, &r);
    for (uint32_t e = 0; e < up->nodes[n].encrypted_path_secret.count; e++) {
      mls_hpke_ciphertext_t hc;
      uint8_t ct[MLS_HASH_MAX + MLS_AEAD_TAG_LEN];
      if (mls_hpke_ciphertext_decode(&r, &hc) || hc.ciphertext.len > sizeof(ct) ||
          hc.ciphertext.len == 0)
        break;
      memcpy(ct, hc.ciphertext.ptr, hc.ciphertext.len);
      ct[hc.ciphertext.len - 1] ^= 1; /* inside the AEAD tag */
      hc.ciphertext.ptr = ct;
      mls_hpke_ciphertext_encode(&copies[n], &hc);
    }
    bad.nodes[n].encrypted_path_secret.raw = (veil_view_t){copies[n].buf, copies[n].len};
  }
  uint8_t th[MLS_HASH_MAX], commit[MLS_HASH_MAX];
  int r3 = i < t->n_priv && receive(t, i, sender, &bad, th, commit, NULL);
  for (uint32_t n = 0; n < up->n_nodes; n++)
    veil_writer_free(&copies[n]);
  tap_ok(i < t->n_priv && !r3, "treekem[%zu] suite %u update_paths[%zu]: changed ciphertexts refused",
         tc_i, t->s->id, k);
}

static void check_given(mv_t *m, tcase_t *t, const vj_t *u, size_t tc_i, size_t k) {
  int oks = 0;
  uint32_t sender = (uint32_t)vj_u64(u, "sender", &oks);
  size_t ul, cl, hl;
  uint8_t *upb = mv_hex(m, u, "update_path", &ul), *cs = mv_hex(m, u, "commit_secret", &cl);
  uint8_t *tha = mv_hex(m, u, "tree_hash_after", &hl);
  const vj_t *pss = vj_get(u, "path_secrets");
  mls_update_path_t up;
  veil_reader_t r;
  int ok = oks && upb && cs && tha;
  if (ok) {
    veil_reader_init(&r, upb, ul);
    mls_update_path_decode(&r, &up);
    ok = veil_reader_finish(&r) == 0;
  }
  unsigned receivers = 0, bad = !ok;
  for (size_t i = 0; ok && i < t->n_priv; i++) {
    if (t->index[i] == sender)
      continue;
    size_t pl;
    /* path_secrets is indexed by leaf index (null for the sender and blank leaves). */
    uint8_t *want_ps = mv_hex_value(m, vj_at(pss, t->index[i]), &pl);
    uint8_t th[MLS_HASH_MAX], commit[MLS_HASH_MAX], anc[MLS_HASH_MAX];
    int okr = want_ps && receive(t, i, sender, &up, th, commit, anc) &&
              tap_bytes_eq("tree_hash_after", th, t->s->nh, tha, hl) &&
              tap_bytes_eq("path_secret", anc, t->s->nh, want_ps, pl) &&
              tap_bytes_eq("commit_secret", commit, t->s->nh, cs, cl);
    receivers++;
    if (!okr) {
      bad++;
      tap_diag("member at leaf %u failed on the UpdatePath from %u", t->index[i], sender);
    }
  }
  tap_ok(!bad, "treekem[%zu] suite %u update_paths[%zu] from leaf %u: %u receivers", tc_i,
         t->s->id, k, sender, receivers);
  if (ok && up.n_nodes > 0)
    check_refusals(t, sender, &up, tc_i, k);
}

/* Member i commits a fresh UpdatePath; every other member processes it. */
static void check_fresh(tcase_t *t, size_t i, size_t tc_i) {
  const mls_suite_t *s = t->s;
  uint32_t leaf = t->index[i];
  mls_tree_t *c = NULL;
  mls_treekem_update_t u;
  veil_writer_t tbs, gc = {0}, out;
  veil_writer_init_growable(&tbs, 0);
  veil_writer_init_growable(&out, 0);
  uint8_t th[MLS_HASH_MAX], sig[MLS_SIG_MAX];
  size_t sig_len = 0;
  int ok = mls_tree_clone(t->tree, &c) == 0 && mls_tree_leaf(c, leaf) != NULL &&
           mls_treekem_prepare(c, leaf, NULL, &u) == 0;
  mls_leaf_node_t ln;
  if (ok) {
    ln = *mls_tree_leaf(c, leaf);
    ln.source = MLS_LEAF_SRC_COMMIT;
    ln.encryption_key = (veil_view_t){u.leaf_pub, s->hpke_pk_len};
    ln.parent_hash = (veil_view_t){u.leaf_parent_hash, u.leaf_parent_hash_len};
    ok = mls_leaf_node_encode_tbs(&tbs, &ln, t->group_id, leaf) == 0 &&
         mls_sign_with_label(s, t->sig_priv[i], "LeafNodeTBS", tbs.buf, tbs.len, sig,
                             &sig_len) == 0;
    ln.signature = (veil_view_t){sig, sig_len};
    /* set_leaf frees the old leaf storage `ln` borrowed from: use the tree's copy after. */
    ok = ok && mls_tree_set_leaf(c, leaf, &ln) == 0 && mls_tree_root_hash(c, th) == 0 &&
         encode_gc(t, th, &gc) == 0 &&
         mls_treekem_encrypt(c, &u, mls_tree_leaf(c, leaf), gc.buf, gc.len, NULL, 0, &out) == 0;
  }
  mls_update_path_t up;
  veil_reader_t r;
  if (ok) {
    veil_reader_init(&r, out.buf, out.len);
    mls_update_path_decode(&r, &up);
    ok = veil_reader_finish(&r) == 0;
  }
  unsigned receivers = 0;
  for (size_t j = 0; ok && j < t->n_priv; j++) {
    if (j == i)
      continue;
    uint8_t th2[MLS_HASH_MAX], commit[MLS_HASH_MAX], anc[MLS_HASH_MAX];
    ok = receive(t, j, leaf, &up, th2, commit, anc) && memcmp(th2, th, s->nh) == 0 &&
         memcmp(commit, u.commit_secret, s->nh) == 0;
    /* The same member joining by Welcome with that path secret gets the same keys. */
    mls_tree_priv_t joiner;
    mls_tree_priv_init(&joiner, s, t->index[j], t->priv[j].leaf_priv);
    ok = ok && mls_treekem_join_path(c, &joiner, leaf, anc, s->nh) == 0 && joiner.n > 0;
    for (uint32_t q = 0; ok && q < joiner.n; q++) {
      const uint8_t *want = NULL;
      for (uint32_t r2 = 0; r2 < u.n && !want; r2++)
        if (u.node[r2] == joiner.node[q])
          want = u.node_priv[r2];
      ok = want && memcmp(want, joiner.priv[q], s->hpke_sk_len) == 0;
    }
    mls_tree_priv_wipe(&joiner);
    receivers++;
  }
  /* The committer's own private state now holds a key for each path node. */
  mls_tree_priv_t own = t->priv[i];
  ok = ok && mls_treekem_commit_own(&own, &u) == 0 && own.n >= u.n;
  mls_tree_priv_wipe(&own);
  tap_ok(ok, "treekem[%zu] suite %u fresh UpdatePath from leaf %u: %u receivers", tc_i, s->id,
         leaf, receivers);
  mls_treekem_update_wipe(&u);
  veil_writer_free(&tbs);
  veil_writer_free(&gc);
  veil_writer_free(&out);
  mls_tree_free(c);
}

static void check_case(mv_t *m, const mls_suite_t *s, const vj_t *tc, size_t tc_i) {
  static tcase_t t;
  memset(&t, 0, sizeof(t));
  t.s = s;
  size_t gl, cl, rl;
  int oke = 0;
  uint8_t *gid = mv_hex(m, tc, "group_id", &gl), *cth = mv_hex(m, tc, "confirmed_transcript_hash", &cl);
  uint8_t *rt = mv_hex(m, tc, "ratchet_tree", &rl);
  t.epoch = vj_u64(tc, "epoch", &oke);
  t.group_id = (veil_view_t){gid, gl};
  t.cth = (veil_view_t){cth, cl};
  const vj_t *lp = vj_get(tc, "leaves_private");
  t.n_priv = vj_size(lp);
  int ok = gid && cth && rt && oke && t.n_priv <= MAX_MEMBERS &&
           mls_tree_parse(s->id, rt, rl, &t.tree) == 0;
  for (size_t i = 0; ok && i < t.n_priv; i++) {
    const vj_t *e = vj_at(lp, i);
    int oki = 0;
    size_t el, sl;
    t.index[i] = (uint32_t)vj_u64(e, "index", &oki);
    uint8_t *enc = mv_hex(m, e, "encryption_priv", &el);
    t.sig_priv[i] = mv_hex(m, e, "signature_priv", &sl);
    ok = oki && enc && t.sig_priv[i] && el == s->hpke_sk_len;
    if (!ok)
      break;
    mls_tree_priv_init(&t.priv[i], s, t.index[i], enc);
    const vj_t *pss = vj_get(e, "path_secrets");
    for (size_t k = 0; ok && k < vj_size(pss); k++) {
      int okn = 0;
      size_t pl;
      uint32_t node = (uint32_t)vj_u64(vj_at(pss, k), "node", &okn);
      uint8_t *ps = mv_hex(m, vj_at(pss, k), "path_secret", &pl);
      ok = okn && ps && mls_tree_priv_set_path_secret(&t.priv[i], node, ps, pl) == 0;
    }
  }
  tap_ok(ok, "treekem[%zu] suite %u tree and private state load", tc_i, s->id);
  const vj_t *ups = vj_get(tc, "update_paths");
  for (size_t k = 0; ok && k < vj_size(ups); k++)
    check_given(m, &t, vj_at(ups, k), tc_i, k);
  for (size_t i = 0; ok && i < t.n_priv; i++)
    check_fresh(&t, i, tc_i);
  for (size_t i = 0; i < t.n_priv; i++)
    mls_tree_priv_wipe(&t.priv[i]);
  mls_tree_free(t.tree);
}

int main(void) {
  mv_t m;
  int rc = mv_open(&m, "treekem.json");
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
