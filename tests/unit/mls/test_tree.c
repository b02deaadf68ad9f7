/* Unit tests of the ratchet tree (RFC 9420 §4, §7, §12.1): shape rules of the
 * ratchet_tree encoding, Add/Update/Remove (§12.1.1-3, §7.7), resolution and filtered
 * direct path, hash-cache invalidation, parent-hash chains (§7.9.2) and the joiner's
 * validation (§7.3, §12.4.3.1). Known answers live in the tree-* vectors. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clients/lib/mls/suite.h"
#include "clients/lib/mls/tree.h"

#define CS 1
static const uint8_t GROUP[] = {'g', 'i', 'd'};

/* Storage behind one test leaf's views (the tree copies what it is given). */
typedef struct fleaf {
  uint8_t enc_key[32], sig_priv[MLS_SIG_PRIV_MAX], sig_pub[MLS_SIG_PUB_MAX], sig[MLS_SIG_MAX];
  uint8_t ident[8], caps_cs[2], caps_cred[2], parent_hash[MLS_HASH_MAX];
  mls_leaf_node_t leaf;
} fleaf_t;

/* A signed leaf with a basic credential, for leaf position `idx`. */
static void make_leaf(fleaf_t *f, uint32_t idx, uint8_t source, const uint8_t *ph, size_t phl) {
  const mls_suite_t *s = mls_suite_get(CS);
  memset(f, 0, sizeof *f);
  cr_assert_eq(vc_random(f->enc_key, sizeof f->enc_key), 0);
  cr_assert_eq(vc_sig_generate(s->sig, f->sig_priv, f->sig_pub), 0);
  memcpy(f->ident, "member", 6);
  f->ident[6] = (uint8_t)idx;
  f->caps_cs[1] = CS;
  f->caps_cred[1] = MLS_CRED_BASIC;
  mls_leaf_node_t *l = &f->leaf;
  l->encryption_key = (veil_view_t){f->enc_key, sizeof f->enc_key};
  l->signature_key = (veil_view_t){f->sig_pub, s->sig_pub_len};
  l->credential.type = MLS_CRED_BASIC;
  l->credential.identity = (veil_view_t){f->ident, 7};
  l->capabilities.cipher_suites = (mls_list_t){{f->caps_cs, 2}, 1};
  l->capabilities.credentials = (mls_list_t){{f->caps_cred, 2}, 1};
  l->source = source;
  l->lifetime = (mls_lifetime_t){0, UINT64_MAX};
  if (phl)
    memcpy(f->parent_hash, ph, phl);
  l->parent_hash = (veil_view_t){f->parent_hash, phl};
  veil_writer_t w;
  veil_writer_init_growable(&w, 256);
  cr_assert_eq(mls_leaf_node_encode_tbs(&w, l, (veil_view_t){GROUP, sizeof GROUP}, idx), 0);
  size_t sl;
  cr_assert_eq(mls_sign_with_label(s, f->sig_priv, "LeafNodeTBS", w.buf, w.len, f->sig, &sl), 0);
  veil_writer_free(&w);
  l->signature = (veil_view_t){f->sig, sl};
}

/* A tree of `n` members added one by one (key_package leaves). */
static mls_tree_t *make_tree(uint32_t n, fleaf_t *leaves) {
  mls_tree_t *t;
  cr_assert_eq(mls_tree_new(CS, &t), 0);
  for (uint32_t i = 0; i < n; i++) {
    uint32_t idx;
    make_leaf(&leaves[i], i, MLS_LEAF_SRC_KEY_PACKAGE, NULL, 0);
    cr_assert_eq(mls_tree_add(t, &leaves[i].leaf, &idx), 0);
    cr_assert_eq(idx, i);
  }
  return t;
}

static const mls_leaf_check_t CHK = {.group_id = {GROUP, sizeof GROUP}};

static void root_hash(mls_tree_t *t, uint8_t *out) {
  cr_assert_eq(mls_tree_root_hash(t, out), 0);
}

/* The root hash of a freshly parsed copy: no cached hash can leak into it. */
static void fresh_root_hash(const mls_tree_t *t, uint8_t *out) {
  veil_writer_t w;
  veil_writer_init_growable(&w, 1024);
  cr_assert_eq(mls_tree_encode(t, &w), 0);
  mls_tree_t *c;
  cr_assert_eq(mls_tree_parse(CS, w.buf, w.len, &c), 0);
  veil_writer_free(&w);
  root_hash(c, out);
  mls_tree_free(c);
}

Test(mls_tree, parse_rejects_node_type_at_wrong_position) {
  /* One entry: present, node_type parent at index 0 (a leaf position). */
  const uint8_t bad[] = {5, 1, MLS_NODE_PARENT, 0, 0, 0};
  mls_tree_t *t = NULL;
  cr_assert_eq(mls_tree_parse(CS, bad, sizeof bad, &t), VEIL_EMLS_TREE_SHAPE);
  cr_assert_null(t);
}

Test(mls_tree, parse_rejects_trailing_blank_and_empty_tree) {
  fleaf_t f[1];
  mls_tree_t *t = make_tree(1, f);
  veil_writer_t w;
  veil_writer_init_growable(&w, 512);
  cr_assert_eq(mls_tree_encode(t, &w), 0);
  mls_tree_free(t);
  /* Append a blank entry (presence 0) inside the vector: bump the 2-byte length. */
  cr_assert_eq(w.buf[0] & 0xc0, 0x40);
  size_t len = ((size_t)(w.buf[0] & 0x3f) << 8 | w.buf[1]) + 1;
  w.buf[0] = (uint8_t)(0x40 | (len >> 8));
  w.buf[1] = (uint8_t)len;
  veil_write_u8(&w, 0);
  cr_assert_eq(mls_tree_parse(CS, w.buf, w.len, &t), VEIL_EMLS_TREE_SHAPE);
  veil_writer_free(&w);
  const uint8_t empty[] = {0};
  cr_assert_eq(mls_tree_parse(CS, empty, sizeof empty, &t), VEIL_EMLS_TREE_SHAPE);
  const uint8_t blank[] = {1, 0};
  cr_assert_eq(mls_tree_parse(CS, blank, sizeof blank, &t), VEIL_EMLS_TREE_SHAPE);
}

Test(mls_tree, add_doubles_when_full_and_fills_leftmost_blank) {
  fleaf_t f[5];
  mls_tree_t *t = make_tree(3, f);
  cr_assert_eq(mls_tree_leaf_count(t), 4);
  cr_assert_eq(mls_tree_remove(t, 1), 0);
  make_leaf(&f[3], 1, MLS_LEAF_SRC_KEY_PACKAGE, NULL, 0);
  uint32_t idx;
  cr_assert_eq(mls_tree_add(t, &f[3].leaf, &idx), 0);
  cr_assert_eq(idx, 1, "the leftmost blank leaf is reused");
  make_leaf(&f[4], 3, MLS_LEAF_SRC_KEY_PACKAGE, NULL, 0);
  cr_assert_eq(mls_tree_add(t, &f[4].leaf, &idx), 0);
  cr_assert_eq(idx, 3);
  cr_assert_eq(mls_tree_leaf_count(t), 4);
  mls_tree_free(t);
}

Test(mls_tree, add_marks_new_leaf_unmerged_on_nonblank_parents) {
  fleaf_t f[5];
  mls_tree_t *t = make_tree(4, f);
  cr_assert_eq(mls_tree_remove(t, 2), 0); /* leaf 3 remains: no truncation */
  uint8_t key[32] = {7};
  mls_parent_node_t p = {.encryption_key = {key, sizeof key}};
  cr_assert_eq(mls_tree_set_parent(t, 1, &p), 0);
  key[0] = 8;
  cr_assert_eq(mls_tree_set_parent(t, 3, &p), 0);
  key[0] = 9;
  cr_assert_eq(mls_tree_set_parent(t, 5, &p), 0);
  make_leaf(&f[4], 2, MLS_LEAF_SRC_KEY_PACKAGE, NULL, 0);
  uint32_t idx;
  cr_assert_eq(mls_tree_add(t, &f[4].leaf, &idx), 0);
  cr_assert_eq(idx, 2);
  cr_assert_eq(mls_tree_parent(t, 1)->unmerged_leaves.count, 0, "node 1 is not on the path");
  for (uint32_t x = 3; x <= 5; x += 2) {
    const mls_parent_node_t *r = mls_tree_parent(t, x);
    cr_assert_not_null(r);
    cr_assert_eq(r->unmerged_leaves.count, 1);
    cr_assert_eq(mls_list_u32(&r->unmerged_leaves, 0), 2);
  }
  uint32_t res[8], n;
  cr_assert_eq(mls_tree_resolution(t, 5, res, 8, &n), 0);
  cr_assert_eq(n, 2);
  cr_assert_eq(res[0], 5);
  cr_assert_eq(res[1], 4);
  cr_assert_eq(mls_tree_resolution(t, 5, res, 1, &n), VEIL_EOVERFLOW);
  mls_tree_free(t);
}

Test(mls_tree, remove_truncates_empty_right_half) {
  fleaf_t f[5];
  mls_tree_t *t = make_tree(5, f);
  cr_assert_eq(mls_tree_leaf_count(t), 8);
  cr_assert_eq(mls_tree_remove(t, 4), 0);
  cr_assert_eq(mls_tree_leaf_count(t), 4);
  cr_assert_eq(mls_tree_remove(t, 3), 0);
  cr_assert_eq(mls_tree_remove(t, 2), 0);
  cr_assert_eq(mls_tree_leaf_count(t), 2);
  cr_assert_eq(mls_tree_remove(t, 0), 0);
  cr_assert_eq(mls_tree_leaf_count(t), 2, "leaf 1 still holds a member");
  cr_assert_eq(mls_tree_remove(t, 0), VEIL_EMLS_LEAF_INDEX, "a blank leaf cannot be removed");
  cr_assert_eq(mls_tree_remove(t, 9), VEIL_EMLS_LEAF_INDEX);
  mls_tree_free(t);
}

Test(mls_tree, update_blanks_direct_path) {
  fleaf_t f[4], nf;
  mls_tree_t *t = make_tree(4, f);
  uint8_t key[32] = {1};
  mls_parent_node_t p = {.encryption_key = {key, sizeof key}};
  cr_assert_eq(mls_tree_set_parent(t, 1, &p), 0);
  key[0] = 2;
  cr_assert_eq(mls_tree_set_parent(t, 3, &p), 0);
  key[0] = 3;
  cr_assert_eq(mls_tree_set_parent(t, 5, &p), 0);
  make_leaf(&nf, 0, MLS_LEAF_SRC_UPDATE, NULL, 0);
  cr_assert_eq(mls_tree_update(t, 0, &nf.leaf), 0);
  cr_assert_null(mls_tree_parent(t, 1));
  cr_assert_null(mls_tree_parent(t, 3));
  cr_assert_not_null(mls_tree_parent(t, 5), "node 5 is not on leaf 0's path");
  mls_tree_free(t);
}

Test(mls_tree, filtered_direct_path_skips_empty_copath_subtrees) {
  fleaf_t f[5];
  mls_tree_t *t = make_tree(5, f); /* 8 leaves, 5..7 blank */
  uint32_t path[MLS_MAX_PATH], cop[MLS_MAX_PATH], n;
  cr_assert_eq(mls_tree_filtered_direct_path(t, 4, path, cop, &n), 0);
  /* Leaf 4 (node 8): parents 9 (sibling 10 blank: skipped), 11 (sibling 13: blank
   * subtree, skipped), 7 (sibling 3: members) -> only the root. */
  cr_assert_eq(n, 1);
  cr_assert_eq(path[0], 7);
  cr_assert_eq(cop[0], 3);
  cr_assert_eq(mls_tree_filtered_direct_path(t, 0, path, cop, &n), 0);
  cr_assert_eq(n, 3);
  mls_tree_free(t);
}

Test(mls_tree, hash_cache_follows_every_change) {
  fleaf_t f[6], nf;
  mls_tree_t *t = make_tree(5, f);
  uint8_t a[MLS_HASH_MAX], b[MLS_HASH_MAX];
  root_hash(t, a);
  fresh_root_hash(t, b);
  cr_assert_eq(memcmp(a, b, 32), 0);
  make_leaf(&nf, 2, MLS_LEAF_SRC_UPDATE, NULL, 0);
  cr_assert_eq(mls_tree_update(t, 2, &nf.leaf), 0);
  root_hash(t, b);
  cr_assert_neq(memcmp(a, b, 32), 0, "an update must change the root hash");
  fresh_root_hash(t, a);
  cr_assert_eq(memcmp(a, b, 32), 0, "cached and fresh hashes agree after update");
  cr_assert_eq(mls_tree_remove(t, 4), 0);
  root_hash(t, a);
  fresh_root_hash(t, b);
  cr_assert_eq(memcmp(a, b, 32), 0, "cached and fresh hashes agree after truncation");
  make_leaf(&f[5], 4, MLS_LEAF_SRC_KEY_PACKAGE, NULL, 0);
  uint32_t idx;
  cr_assert_eq(mls_tree_add(t, &f[5].leaf, &idx), 0);
  root_hash(t, a);
  fresh_root_hash(t, b);
  cr_assert_eq(memcmp(a, b, 32), 0, "cached and fresh hashes agree after growth");
  mls_tree_free(t);
}

/* A clone shares node encodings with its origin (tree.c): changing, truncating or freeing
 * either must never show in the other. */
Test(mls_tree, clone_is_independent_of_its_origin) {
  fleaf_t f[5], nf;
  mls_tree_t *t = make_tree(5, f), *c;
  uint8_t before[MLS_HASH_MAX], h[MLS_HASH_MAX];
  veil_writer_t wt, wc;
  veil_writer_init_growable(&wt, 1024);
  veil_writer_init_growable(&wc, 1024);
  cr_assert_eq(mls_tree_encode(t, &wt), 0);
  root_hash(t, before);
  cr_assert_eq(mls_tree_clone(t, &c), 0);
  make_leaf(&nf, 2, MLS_LEAF_SRC_UPDATE, NULL, 0);
  cr_assert_eq(mls_tree_update(c, 2, &nf.leaf), 0);
  cr_assert_eq(mls_tree_remove(c, 4), 0);
  root_hash(t, h);
  cr_assert_eq(memcmp(h, before, 32), 0, "the origin's hash must not move with its clone");
  cr_assert_eq(mls_tree_encode(t, &wc), 0);
  cr_assert(wc.len == wt.len && memcmp(wc.buf, wt.buf, wt.len) == 0, "origin unchanged");
  /* the origin goes first: the clone keeps its own view of the shared bytes */
  mls_tree_free(t);
  root_hash(c, h);
  fresh_root_hash(c, before);
  cr_assert_eq(memcmp(h, before, 32), 0, "the clone's cached and fresh hashes agree");
  cr_assert_eq(mls_tree_leaf_count(c), 4);
  cr_assert_not_null(mls_tree_leaf(c, 3));
  const mls_leaf_node_t *l2 = mls_tree_leaf(c, 2);
  cr_assert_not_null(l2);
  cr_assert(l2->encryption_key.len == 32 && memcmp(l2->encryption_key.ptr, nf.enc_key, 32) == 0,
            "the clone holds the updated leaf");
  veil_writer_free(&wt);
  veil_writer_free(&wc);
  mls_tree_free(c);
}

/* Leaf 0 commits over a 4-member tree: set keys on its path, compute the parent-hash
 * chain, sign a commit leaf carrying it. The result must validate; tampering must not. */
static mls_tree_t *committed_tree(uint32_t members, fleaf_t *f, fleaf_t *cf) {
  mls_tree_t *t = make_tree(members, f);
  static uint8_t k1[32] = {0x11}, k3[32] = {0x33};
  mls_parent_node_t p1 = {.encryption_key = {k1, 32}}, p3 = {.encryption_key = {k3, 32}};
  cr_assert_eq(mls_tree_set_parent(t, 1, &p1), 0);
  cr_assert_eq(mls_tree_set_parent(t, 3, &p3), 0);
  uint8_t ph[MLS_HASH_MAX];
  size_t phl;
  cr_assert_eq(mls_tree_set_path_parent_hashes(t, 0, ph, &phl), 0);
  cr_assert_eq(phl, 32);
  cr_assert_eq(mls_tree_parent(t, 3)->parent_hash.len, 0, "the root's parent_hash is empty");
  cr_assert_eq(mls_tree_parent(t, 1)->parent_hash.len, 32);
  make_leaf(cf, 0, MLS_LEAF_SRC_COMMIT, ph, phl);
  cr_assert_eq(mls_tree_set_leaf(t, 0, &cf->leaf), 0);
  return t;
}

Test(mls_tree, parent_hash_chain_validates) {
  fleaf_t f[4], cf;
  mls_tree_t *t = committed_tree(4, f, &cf);
  cr_assert_eq(mls_tree_verify_parent_hashes(t), 0);
  cr_assert_eq(mls_tree_validate(t, &CHK), 0);
  mls_tree_free(t);
}

Test(mls_tree, rejects_parent_not_chained_to_a_leaf) {
  fleaf_t f[4], cf;
  mls_tree_t *t = committed_tree(4, f, &cf);
  /* A parent node set by nobody (node 5, above leaves 2 and 3). */
  uint8_t k5[32] = {0x55};
  mls_parent_node_t p5 = {.encryption_key = {k5, 32}};
  cr_assert_eq(mls_tree_set_parent(t, 5, &p5), 0);
  cr_assert_eq(mls_tree_verify_parent_hashes(t), VEIL_EMLS_PARENT_HASH);
  mls_tree_free(t);
}

Test(mls_tree, rejects_changed_sibling_subtree) {
  fleaf_t f[4], cf, nf;
  mls_tree_t *t = committed_tree(4, f, &cf);
  /* Replacing leaf 1 changes the original sibling tree hash under node 1. */
  make_leaf(&nf, 1, MLS_LEAF_SRC_KEY_PACKAGE, NULL, 0);
  cr_assert_eq(mls_tree_set_leaf(t, 1, &nf.leaf), 0);
  cr_assert_eq(mls_tree_verify_parent_hashes(t), VEIL_EMLS_PARENT_HASH);
  mls_tree_free(t);
}

Test(mls_tree, unmerged_leaf_keeps_chain_valid_after_add) {
  fleaf_t f[4], cf;
  /* 3 members in 4 leaves: leaf 0's path is nodes 1 and 3, leaf 3 is blank. */
  mls_tree_t *t = committed_tree(3, f, &cf);
  cr_assert_eq(mls_tree_validate(t, &CHK), 0);
  /* The newcomer at leaf 3 becomes unmerged at the root. The original sibling tree hash
   * of §7.9 excludes it, so the chain through node 3 stays valid. */
  make_leaf(&f[3], 3, MLS_LEAF_SRC_KEY_PACKAGE, NULL, 0);
  uint32_t idx;
  cr_assert_eq(mls_tree_add(t, &f[3].leaf, &idx), 0);
  cr_assert_eq(idx, 3);
  cr_assert_eq(mls_tree_parent(t, 3)->unmerged_leaves.count, 1);
  cr_assert_eq(mls_list_u32(&mls_tree_parent(t, 3)->unmerged_leaves, 0), 3);
  cr_assert_eq(mls_tree_validate(t, &CHK), 0);
  mls_tree_free(t);
}

Test(mls_tree, rejects_bad_leaf_signature_and_duplicate_keys) {
  fleaf_t f[3], g;
  mls_tree_t *t = make_tree(3, f);
  cr_assert_eq(mls_tree_validate(t, &CHK), 0);
  /* Same leaf signed for position 0 placed at 1: key_package leaves carry no position,
   * so this is a duplicate-key problem, not a signature one. */
  cr_assert_eq(mls_tree_set_leaf(t, 1, &f[0].leaf), 0);
  cr_assert_eq(mls_tree_validate(t, &CHK), VEIL_EMLS_DUP_KEY);
  /* An update leaf signed for position 0 fails at position 1 (§7.2 binds the index). */
  make_leaf(&g, 0, MLS_LEAF_SRC_UPDATE, NULL, 0);
  cr_assert_eq(mls_tree_set_leaf(t, 1, &g.leaf), 0);
  cr_assert_eq(mls_tree_validate(t, &CHK), VEIL_EMLS_LEAF_SIGNATURE);
  mls_tree_free(t);
}

Test(mls_tree, rejects_unmerged_leaf_outside_subtree) {
  fleaf_t f[4];
  mls_tree_t *t = make_tree(4, f);
  uint8_t key[32] = {0x42}, um[4] = {0, 0, 0, 2}; /* leaf 2 is not below node 1 */
  mls_parent_node_t p = {.encryption_key = {key, 32}, .unmerged_leaves = {{um, 4}, 1}};
  cr_assert_eq(mls_tree_set_parent(t, 1, &p), 0);
  cr_assert_eq(mls_tree_validate(t, &CHK), VEIL_EMLS_UNMERGED);
  mls_tree_free(t);
}

Test(mls_tree, leaf_validation_checks_capabilities_and_lifetime) {
  fleaf_t f;
  make_leaf(&f, 0, MLS_LEAF_SRC_KEY_PACKAGE, NULL, 0);
  mls_leaf_check_t chk = CHK;
  cr_assert_eq(mls_leaf_node_validate(CS, &f.leaf, 0, &chk), 0);
  chk.now = 1000;
  cr_assert_eq(mls_leaf_node_validate(CS, &f.leaf, 0, &chk), 0);
  /* RequiredCapabilities{extension_types=[], proposal_types=[], credential_types=[x509]} */
  uint8_t req[] = {0, 0, 2, 0, 2};
  mls_list_t rl = {{req, sizeof req}, 0};
  chk.required_capabilities = &rl;
  cr_assert_eq(mls_leaf_node_validate(CS, &f.leaf, 0, &chk), VEIL_EMLS_LEAF_INVALID);
  req[4] = MLS_CRED_BASIC;
  cr_assert_eq(mls_leaf_node_validate(CS, &f.leaf, 0, &chk), 0);
  cr_assert_eq(mls_leaf_node_validate(4, &f.leaf, 0, &chk), VEIL_EMLS_SUITE);
}

Test(mls_treemath, common_ancestor_and_descendant_agree_with_parent_walks) {
  const uint32_t n = 32;
  for (uint32_t x = 0; x < mls_tm_node_width(n); x++) {
    for (uint32_t y = 0; y < mls_tm_node_width(n); y++) {
      /* Brute force: the first node on x's path (x included) that has y below it. */
      uint32_t a = x;
      while (!mls_tm_is_descendant(y, a))
        a = mls_tm_parent(a, n);
      cr_assert_eq(mls_tm_common_ancestor(x, y), a, "x=%u y=%u", x, y);
    }
    uint32_t path[MLS_MAX_PATH], cop[MLS_MAX_PATH];
    uint32_t dn = mls_tm_direct_path(x, n, path), cn = mls_tm_copath(x, n, cop);
    cr_assert_eq(dn, cn);
    for (uint32_t i = 0; i < dn; i++) {
      cr_assert(mls_tm_is_descendant(x, path[i]));
      cr_assert_eq(mls_tm_parent(cop[i], n), path[i]);
      cr_assert(!mls_tm_is_descendant(x, cop[i]));
    }
  }
}

Test(mls_tree, resolution_rejects_unmerged_leaf_beyond_tree) {
  fleaf_t f[2];
  mls_tree_t *t = make_tree(2, f);
  /* Leaf 0x7fffffff: as a node index it would be far past the node array. */
  uint8_t key[32] = {0x42}, um[4] = {0x7f, 0xff, 0xff, 0xff};
  mls_parent_node_t p = {.encryption_key = {key, 32}, .unmerged_leaves = {{um, 4}, 1}};
  cr_assert_eq(mls_tree_set_parent(t, 1, &p), 0);
  uint32_t res[8], n;
  cr_assert_eq(mls_tree_resolution(t, 1, res, 8, &n), VEIL_EMLS_UNMERGED);
  cr_assert_neq(mls_tree_verify_parent_hashes(t), 0);
  cr_assert_eq(mls_tree_validate(t, &CHK), VEIL_EMLS_UNMERGED);
  mls_tree_free(t);
}

/* Signs a KeyPackage around a leaf of make_leaf (same signature key). */
static void sign_key_package(mls_key_package_t *kp, fleaf_t *f, uint8_t *sig) {
  const mls_suite_t *s = mls_suite_get(CS);
  veil_writer_t w;
  veil_writer_init_growable(&w, 512);
  cr_assert_eq(mls_key_package_encode_tbs(&w, kp), 0);
  size_t sl;
  cr_assert_eq(mls_sign_with_label(s, f->sig_priv, "KeyPackageTBS", w.buf, w.len, sig, &sl), 0);
  veil_writer_free(&w);
  kp->signature = (veil_view_t){sig, sl};
}

Test(mls_tree, key_package_validation) {
  fleaf_t f;
  make_leaf(&f, 0, MLS_LEAF_SRC_KEY_PACKAGE, NULL, 0);
  uint8_t init[32] = {0x99}, sig[MLS_SIG_MAX];
  mls_key_package_t kp;
  memset(&kp, 0, sizeof kp);
  kp.version = MLS_VERSION_10;
  kp.cipher_suite = CS;
  kp.init_key = (veil_view_t){init, sizeof init};
  kp.leaf_node = f.leaf;
  sign_key_package(&kp, &f, sig);
  cr_assert_eq(mls_key_package_validate(&kp, &CHK), 0);
  init[1] ^= 1; /* the signature covers the init key */
  cr_assert_eq(mls_key_package_validate(&kp, &CHK), VEIL_EMLS_LEAF_SIGNATURE);
  /* init_key equal to the encryption key is refused even when properly signed. */
  kp.init_key = f.leaf.encryption_key;
  sign_key_package(&kp, &f, sig);
  cr_assert_eq(mls_key_package_validate(&kp, &CHK), VEIL_EMLS_LEAF_INVALID);
  kp.init_key = (veil_view_t){init, sizeof init};
  kp.cipher_suite = 7;
  cr_assert_eq(mls_key_package_validate(&kp, &CHK), VEIL_EMLS_SUITE);
}

/* An adversarial Welcome can list every leaf of a maximal tree as unmerged at the root.
 * Parent-hash verification must stay near-linear on it (sorted sets, range queries);
 * the scan-based version this replaced needed ~10^10 steps here. */
Test(mls_tree, parent_hash_check_is_not_quadratic_in_unmerged_lists, .timeout = 60) {
  fleaf_t f;
  make_leaf(&f, 0, MLS_LEAF_SRC_KEY_PACKAGE, NULL, 0);
  veil_writer_t lw;
  veil_writer_init_growable(&lw, 512);
  cr_assert_eq(mls_leaf_node_encode(&lw, &f.leaf), 0);
  const uint32_t n = MLS_MAX_LEAVES, width = 2 * n - 1, root = n - 1;
  veil_writer_t w;
  veil_writer_init_growable(&w, (size_t)n * (lw.len + 2) + 4 * n + 128);
  veil_wblock_t b, ub;
  veil_writer_open_block(&w, VEIL_LEN_VARINT, &b);
  uint8_t key[32] = {0x5a};
  for (uint32_t x = 0; x < width; x++) {
    if (x % 2 == 0) {
      veil_write_u8(&w, 1);
      veil_write_u8(&w, MLS_NODE_LEAF);
      veil_write_bytes(&w, lw.buf, lw.len);
    } else if (x == root) {
      veil_write_u8(&w, 1);
      veil_write_u8(&w, MLS_NODE_PARENT);
      mls_write_opaque(&w, (veil_view_t){key, sizeof key});
      mls_write_opaque(&w, (veil_view_t){NULL, 0});
      veil_writer_open_block(&w, VEIL_LEN_VARINT, &ub);
      for (uint32_t l = n; l-- > 0;)
        veil_write_u32(&w, l);
      veil_writer_close_block(&w, &ub);
    } else {
      veil_write_u8(&w, 0);
    }
  }
  cr_assert_eq(veil_writer_close_block(&w, &b), 0);
  mls_tree_t *t;
  cr_assert_eq(mls_tree_parse(CS, w.buf, w.len, &t), 0);
  cr_assert_eq(mls_tree_leaf_count(t), n);
  struct timespec t0, t1;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  cr_assert_eq(mls_tree_verify_parent_hashes(t), VEIL_EMLS_PARENT_HASH);
  clock_gettime(CLOCK_MONOTONIC, &t1);
  double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
  cr_assert_lt(secs, 5.0, "verification took %.2f s", secs);
  mls_tree_free(t);
  veil_writer_free(&w);
  veil_writer_free(&lw);
}

Test(mls_tree, leaf_extensions_must_be_in_long_capability_lists) {
  /* A leaf carrying extension 0x7000 with 100 listed extension types (the bitmap path). */
  fleaf_t f;
  make_leaf(&f, 0, MLS_LEAF_SRC_KEY_PACKAGE, NULL, 0);
  uint8_t caps[200], ext[] = {0x70, 0x00, 0};
  for (int i = 0; i < 100; i++) {
    caps[2 * i] = 0x70;
    caps[2 * i + 1] = (uint8_t)(i + 1); /* 0x7001..0x7064: 0x7000 missing */
  }
  f.leaf.capabilities.extensions = (mls_list_t){{caps, sizeof caps}, 100};
  f.leaf.extensions = (mls_list_t){{ext, sizeof ext}, 1};
  const mls_suite_t *s = mls_suite_get(CS);
  veil_writer_t w;
  size_t sl;
  veil_writer_init_growable(&w, 512);
  mls_leaf_node_encode_tbs(&w, &f.leaf, (veil_view_t){GROUP, sizeof GROUP}, 0);
  cr_assert_eq(mls_sign_with_label(s, f.sig_priv, "LeafNodeTBS", w.buf, w.len, f.sig, &sl), 0);
  f.leaf.signature.len = sl;
  cr_assert_eq(mls_leaf_node_validate(CS, &f.leaf, 0, &CHK), VEIL_EMLS_LEAF_INVALID);
  caps[199] = 0x00; /* the last entry becomes 0x7000 */
  veil_writer_free(&w);
  veil_writer_init_growable(&w, 512);
  mls_leaf_node_encode_tbs(&w, &f.leaf, (veil_view_t){GROUP, sizeof GROUP}, 0);
  cr_assert_eq(mls_sign_with_label(s, f.sig_priv, "LeafNodeTBS", w.buf, w.len, f.sig, &sl), 0);
  f.leaf.signature.len = sl;
  veil_writer_free(&w);
  cr_assert_eq(mls_leaf_node_validate(CS, &f.leaf, 0, &CHK), 0);
}

/* Signs f's leaf again for position idx after a field was changed. */
static void resign_leaf(fleaf_t *f, uint32_t idx) {
  const mls_suite_t *s = mls_suite_get(CS);
  veil_writer_t w;
  veil_writer_init_growable(&w, 256);
  cr_assert_eq(mls_leaf_node_encode_tbs(&w, &f->leaf, (veil_view_t){GROUP, sizeof GROUP}, idx),
               0);
  size_t sl;
  cr_assert_eq(mls_sign_with_label(s, f->sig_priv, "LeafNodeTBS", w.buf, w.len, f->sig, &sl), 0);
  veil_writer_free(&w);
  f->leaf.signature = (veil_view_t){f->sig, sl};
}

/* tree_validate.c checks the leaves of a large tree on several threads: the error must
 * still be the one of the lowest-index failing leaf, whichever thread sees which leaf
 * first, and a bad leaf far right must not be missed. */
Test(mls_tree, parallel_leaf_checks_report_the_lowest_failing_leaf) {
  enum { N = 200, LO = 40, HI = 150 };
  fleaf_t *f = calloc(N, sizeof *f), bad_sig, bad_cred;
  cr_assert_not_null(f);
  mls_tree_t *t = make_tree(N, f);
  cr_assert_eq(mls_tree_validate(t, &CHK), 0);
  /* An update leaf signed for position 0: fails its signature anywhere else (§7.2). */
  make_leaf(&bad_sig, 0, MLS_LEAF_SRC_UPDATE, NULL, 0);
  /* Validly signed, but its own credential type is not in its capabilities (§7.3). */
  make_leaf(&bad_cred, 0, MLS_LEAF_SRC_KEY_PACKAGE, NULL, 0);
  bad_cred.caps_cred[1] = MLS_CRED_X509;
  resign_leaf(&bad_cred, 0);
  /* Only the far-right leaf is bad. */
  cr_assert_eq(mls_tree_set_leaf(t, HI, &bad_sig.leaf), 0);
  cr_assert_eq(mls_tree_validate(t, &CHK), VEIL_EMLS_LEAF_SIGNATURE);
  for (int round = 0; round < 10; round++) {
    cr_assert_eq(mls_tree_set_leaf(t, LO, &bad_cred.leaf), 0);
    cr_assert_eq(mls_tree_set_leaf(t, HI, &bad_sig.leaf), 0);
    cr_assert_eq(mls_tree_validate(t, &CHK), VEIL_EMLS_LEAF_INVALID);
    cr_assert_eq(mls_tree_set_leaf(t, LO, &bad_sig.leaf), 0);
    cr_assert_eq(mls_tree_set_leaf(t, HI, &bad_cred.leaf), 0);
    cr_assert_eq(mls_tree_validate(t, &CHK), VEIL_EMLS_LEAF_SIGNATURE);
  }
  /* Restored, the tree validates again. */
  cr_assert_eq(mls_tree_set_leaf(t, LO, &f[LO].leaf), 0);
  cr_assert_eq(mls_tree_set_leaf(t, HI, &f[HI].leaf), 0);
  cr_assert_eq(mls_tree_validate(t, &CHK), 0);
  mls_tree_free(t);
  free(f);
}

/* §7.3 / §12.4.2 on what a Commit changed: a new key that appears at another node (leaf or
 * parent, encryption or signature) is refused; the node's own key, blanks and keys that
 * are unique pass. */
Test(mls_tree, keys_a_commit_brought_must_be_unique) {
  fleaf_t f[4], dup;
  mls_tree_t *t = make_tree(4, f);
  uint32_t all[7] = {0, 1, 2, 3, 4, 5, 6};
  cr_assert_eq(mls_tree_check_keys_unique(t, all, 7), 0, "distinct keys, blanks skipped");
  /* leaf 3 takes leaf 0's encryption key (its own signature key) */
  make_leaf(&dup, 3, MLS_LEAF_SRC_UPDATE, NULL, 0);
  memcpy(dup.enc_key, f[0].enc_key, sizeof dup.enc_key);
  cr_assert_eq(mls_tree_update(t, 3, &dup.leaf), 0);
  uint32_t n6 = 6;
  cr_assert_eq(mls_tree_check_keys_unique(t, &n6, 1), VEIL_EMLS_DUP_KEY);
  uint32_t n2 = 2;
  cr_assert_eq(mls_tree_check_keys_unique(t, &n2, 1), 0, "leaf 1 is not involved");
  /* a parent whose key is a leaf's */
  mls_tree_free(t);
  t = make_tree(4, f);
  mls_parent_node_t pn = {.encryption_key = f[2].leaf.encryption_key};
  cr_assert_eq(mls_tree_set_parent(t, 1, &pn), 0);
  uint32_t n1 = 1;
  cr_assert_eq(mls_tree_check_keys_unique(t, &n1, 1), VEIL_EMLS_DUP_KEY);
  /* a signature key two leaves share */
  mls_tree_free(t);
  t = make_tree(4, f);
  fleaf_t twin;
  make_leaf(&twin, 2, MLS_LEAF_SRC_UPDATE, NULL, 0);
  memcpy(twin.sig_priv, f[1].sig_priv, sizeof twin.sig_priv);
  memcpy(twin.sig_pub, f[1].sig_pub, sizeof twin.sig_pub);
  cr_assert_eq(mls_tree_update(t, 2, &twin.leaf), 0);
  uint32_t n4 = 4;
  cr_assert_eq(mls_tree_check_keys_unique(t, &n4, 1), VEIL_EMLS_DUP_KEY);
  mls_tree_free(t);
}
