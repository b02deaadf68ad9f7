/* Unit tests of TreeKEM (RFC 9420 §7.4-7.6): who can and cannot decrypt an UpdatePath,
 * and the checks a receiver and a joiner apply. Known answers are in the treekem vectors;
 * random alterations in the update_path fuzz target. */
#include <criterion/criterion.h>
#include <string.h>

#include "clients/lib/mls/codec.h"
#include "clients/lib/mls/tree.h"
#include "clients/lib/mls/treekem.h"

#define MEMBERS 6

static const mls_suite_t *S;
static uint8_t GID[4] = "tkem", SIG[MEMBERS][32], HPKE[MEMBERS][32];

static mls_tree_t *group(void) {
  S = mls_suite_get(1);
  mls_tree_t *t;
  cr_assert_eq(mls_tree_new(1, &t), 0);
  uint8_t id[4] = "memb", cs[2] = {0, 1}, cr[2] = {0, 1}, enc[32], pub[32], sig[MLS_SIG_MAX];
  mls_leaf_node_t l;
  memset(&l, 0, sizeof l);
  l.credential.type = MLS_CRED_BASIC;
  l.credential.identity = (veil_view_t){id, 4};
  l.capabilities.cipher_suites = (mls_list_t){{cs, 2}, 1};
  l.capabilities.credentials = (mls_list_t){{cr, 2}, 1};
  l.source = MLS_LEAF_SRC_KEY_PACKAGE;
  l.lifetime.not_after = UINT64_MAX;
  for (int i = 0; i < MEMBERS; i++) {
    cr_assert_eq(vc_kex_generate(VC_X25519, HPKE[i], enc), 0);
    cr_assert_eq(vc_sig_generate(VC_ED25519, SIG[i], pub), 0);
    l.encryption_key = (veil_view_t){enc, 32};
    l.signature_key = (veil_view_t){pub, 32};
    veil_writer_t w;
    veil_writer_init_growable(&w, 0);
    cr_assert_eq(mls_leaf_node_encode_tbs(&w, &l, (veil_view_t){NULL, 0}, 0), 0);
    size_t sl;
    cr_assert_eq(mls_sign_with_label(S, SIG[i], "LeafNodeTBS", w.buf, w.len, sig, &sl), 0);
    veil_writer_free(&w);
    l.signature = (veil_view_t){sig, sl};
    uint32_t idx;
    cr_assert_eq(mls_tree_add(t, &l, &idx), 0);
  }
  return t;
}

/* Member `sender` commits on a copy of `t`; excluded leaves get no ciphertext. */
static void commit(mls_tree_t *t, uint32_t sender, const uint32_t *excl, size_t n_excl,
                   veil_writer_t *gc, veil_writer_t *out, mls_treekem_update_t *u,
                   mls_update_path_t *up) {
  mls_tree_t *c;
  uint8_t th[32], sig[MLS_SIG_MAX], cth[32] = {0};
  cr_assert_eq(mls_tree_clone(t, &c), 0);
  cr_assert_eq(mls_treekem_prepare(c, sender, NULL, u), 0);
  mls_leaf_node_t ln = *mls_tree_leaf(c, sender);
  ln.source = MLS_LEAF_SRC_COMMIT;
  ln.encryption_key = (veil_view_t){u->leaf_pub, 32};
  ln.parent_hash = (veil_view_t){u->leaf_parent_hash, u->leaf_parent_hash_len};
  veil_writer_t tbs;
  veil_writer_init_growable(&tbs, 0);
  size_t sl;
  cr_assert_eq(mls_leaf_node_encode_tbs(&tbs, &ln, (veil_view_t){GID, 4}, sender), 0);
  cr_assert_eq(mls_sign_with_label(S, SIG[sender], "LeafNodeTBS", tbs.buf, tbs.len, sig, &sl), 0);
  veil_writer_free(&tbs);
  ln.signature = (veil_view_t){sig, sl};
  cr_assert_eq(mls_tree_set_leaf(c, sender, &ln), 0);
  cr_assert_eq(mls_tree_root_hash(c, th), 0);
  mls_group_context_t g = {.version = 1, .cipher_suite = 1, .group_id = {GID, 4}, .epoch = 1,
                           .tree_hash = {th, 32}, .confirmed_transcript_hash = {cth, 32}};
  veil_writer_init_growable(gc, 0);
  veil_writer_init_growable(out, 0);
  cr_assert_eq(mls_group_context_encode(gc, &g), 0);
  cr_assert_eq(mls_treekem_encrypt(c, u, mls_tree_leaf(c, sender), gc->buf, gc->len, excl,
                                   n_excl, out), 0);
  veil_reader_t r;
  veil_reader_init(&r, out->buf, out->len);
  mls_update_path_decode(&r, up);
  cr_assert_eq(veil_reader_finish(&r), 0);
  mls_tree_free(c);
}

Test(mls_treekem, every_other_member_gets_the_commit_secret_and_new_keys) {
  mls_tree_t *t = group();
  veil_writer_t gc, out;
  mls_treekem_update_t u;
  mls_update_path_t up;
  commit(t, 2, NULL, 0, &gc, &out, &u, &up);
  for (uint32_t m = 0; m < MEMBERS; m++) {
    if (m == 2)
      continue;
    mls_tree_t *v;
    cr_assert_eq(mls_tree_clone(t, &v), 0);
    mls_tree_priv_t p;
    mls_tree_priv_init(&p, S, m, HPKE[m]);
    uint8_t cs[32];
    cr_assert_eq(mls_treekem_merge(v, 2, &up), 0);
    cr_assert_eq(mls_treekem_decrypt(v, &p, 2, &up, gc.buf, gc.len, NULL, 0, cs, NULL), 0);
    cr_assert_eq(memcmp(cs, u.commit_secret, 32), 0, "member %u", m);
    /* The root's new key is now held, and it is the committer's. */
    uint32_t root = mls_tm_root(mls_tree_leaf_count(v));
    const uint8_t *k = mls_tree_priv_key(&p, root);
    cr_assert_not_null(k);
    cr_assert_eq(memcmp(k, u.node_priv[u.n - 1], 32), 0);
    mls_tree_priv_wipe(&p);
    mls_tree_free(v);
  }
  /* The committer's own state takes the new leaf and path keys. */
  mls_tree_priv_t own;
  mls_tree_priv_init(&own, S, 2, HPKE[2]);
  cr_assert_eq(mls_treekem_commit_own(&own, &u), 0);
  cr_assert_eq(memcmp(own.leaf_priv, u.leaf_priv, 32), 0);
  cr_assert_eq(own.n, u.n);
  veil_writer_free(&gc);
  veil_writer_free(&out);
  mls_tree_free(t);
}

Test(mls_treekem, member_added_in_the_same_commit_gets_no_path_secret) {
  mls_tree_t *t = group();
  veil_writer_t gc, out;
  mls_treekem_update_t u;
  mls_update_path_t up;
  const uint32_t added[1] = {5};
  commit(t, 0, added, 1, &gc, &out, &u, &up);
  mls_tree_t *v;
  cr_assert_eq(mls_tree_clone(t, &v), 0);
  cr_assert_eq(mls_treekem_merge(v, 0, &up), 0);
  mls_tree_priv_t p;
  mls_tree_priv_init(&p, S, 5, HPKE[5]);
  uint8_t cs[32];
  cr_assert_eq(mls_treekem_decrypt(v, &p, 0, &up, gc.buf, gc.len, added, 1, cs, NULL),
               VEIL_ENOTFOUND);
  /* Member 4, its neighbour, still decrypts with the same exclusion list ... */
  mls_tree_priv_t q;
  mls_tree_priv_init(&q, S, 4, HPKE[4]);
  cr_assert_eq(mls_treekem_decrypt(v, &q, 0, &up, gc.buf, gc.len, added, 1, cs, NULL), 0);
  cr_assert_eq(memcmp(cs, u.commit_secret, 32), 0);
  /* ... and not without it (one ciphertext per resolution node, §7.6). */
  mls_tree_priv_init(&q, S, 4, HPKE[4]);
  cr_assert_eq(mls_treekem_decrypt(v, &q, 0, &up, gc.buf, gc.len, NULL, 0, cs, NULL),
               VEIL_EMLS_UPDATE_PATH);
  veil_writer_free(&gc);
  veil_writer_free(&out);
  mls_tree_free(v);
  mls_tree_free(t);
}

Test(mls_treekem, receiver_refuses_its_own_path_and_a_key_package_leaf) {
  mls_tree_t *t = group();
  veil_writer_t gc, out;
  mls_treekem_update_t u;
  mls_update_path_t up;
  commit(t, 1, NULL, 0, &gc, &out, &u, &up);
  mls_tree_t *v;
  cr_assert_eq(mls_tree_clone(t, &v), 0);
  mls_tree_priv_t p;
  mls_tree_priv_init(&p, S, 1, HPKE[1]);
  uint8_t cs[32];
  cr_assert_eq(mls_treekem_decrypt(v, &p, 1, &up, gc.buf, gc.len, NULL, 0, cs, NULL), VEIL_EINVAL);
  mls_update_path_t bad = up;
  bad.leaf_node.source = MLS_LEAF_SRC_KEY_PACKAGE;
  cr_assert_eq(mls_treekem_merge(v, 1, &bad), VEIL_EMLS_UPDATE_PATH);
  /* A leaf whose parent_hash does not match the path fails the §7.9.2 check. */
  bad = up;
  uint8_t ph[32];
  memcpy(ph, up.leaf_node.parent_hash.ptr, 32);
  ph[0] ^= 1;
  bad.leaf_node.parent_hash = (veil_view_t){ph, 32};
  cr_assert_eq(mls_treekem_merge(v, 1, &bad), VEIL_EMLS_PARENT_HASH);
  veil_writer_free(&gc);
  veil_writer_free(&out);
  mls_tree_free(v);
  mls_tree_free(t);
}

Test(mls_treekem, joiner_path_secret_is_checked_against_the_tree) {
  mls_tree_t *t = group();
  veil_writer_t gc, out;
  mls_treekem_update_t u;
  mls_update_path_t up;
  commit(t, 0, NULL, 0, &gc, &out, &u, &up);
  cr_assert_eq(mls_treekem_merge(t, 0, &up), 0);
  /* Member 3's common ancestor with 0 is the second entry of 0's filtered path. */
  mls_tree_priv_t p;
  mls_tree_priv_init(&p, S, 3, HPKE[3]);
  cr_assert_eq(mls_treekem_join_path(t, &p, 0, u.path_secret[1], 32), 0);
  cr_assert_eq(p.n, u.n - 1);
  uint8_t wrong[32];
  memcpy(wrong, u.path_secret[1], 32);
  wrong[0] ^= 1;
  mls_tree_priv_init(&p, S, 3, HPKE[3]);
  cr_assert_eq(mls_treekem_join_path(t, &p, 0, wrong, 32), VEIL_EMLS_UPDATE_PATH);
  cr_assert_eq(p.n, 0);
  cr_assert_eq(mls_tree_priv_set_path_secret(&p, 2, wrong, 32), VEIL_EINVAL); /* a leaf */
  veil_writer_free(&gc);
  veil_writer_free(&out);
  mls_tree_free(t);
}
