/*
 * veil MLS — TreeKEM (RFC 9420 §7.4–§7.6). Contract in treekem.h.
 *
 * Complexity: creating or decrypting an UpdatePath costs one resolution per filtered
 * direct-path entry (O(n) in the worst case, as the RFC's structure implies) and one HPKE
 * operation per resolution node (sender) or exactly one (receiver).
 */
#include "clients/lib/mls/treekem.h"

#include <stdlib.h>
#include <string.h>

/* ---- private state ------------------------------------------------------------------- */

void mls_tree_priv_init(mls_tree_priv_t *p, const mls_suite_t *s, uint32_t leaf_index,
                        const uint8_t *leaf_priv) {
  memset(p, 0, sizeof(*p));
  p->suite = s;
  p->leaf_index = leaf_index;
  if (leaf_priv && s)
    memcpy(p->leaf_priv, leaf_priv, s->hpke_sk_len);
}

void mls_tree_priv_wipe(mls_tree_priv_t *p) {
  if (p)
    vc_wipe(p, sizeof(*p));
}

const uint8_t *mls_tree_priv_key(const mls_tree_priv_t *p, uint32_t node) {
  if (node == mls_tm_leaf_to_node(p->leaf_index))
    return p->leaf_priv;
  for (uint32_t i = 0; i < p->n; i++)
    if (p->node[i] == node)
      return p->priv[i];
  return NULL;
}

static void priv_forget(mls_tree_priv_t *p, uint32_t node) {
  for (uint32_t i = 0; i < p->n; i++) {
    if (p->node[i] != node)
      continue;
    p->n--;
    p->node[i] = p->node[p->n];
    memcpy(p->priv[i], p->priv[p->n], sizeof(p->priv[i]));
    vc_wipe(p->priv[p->n], sizeof(p->priv[p->n]));
    return;
  }
}

static int priv_store(mls_tree_priv_t *p, uint32_t node, const uint8_t *sk) {
  priv_forget(p, node);
  if (p->n == MLS_MAX_PATH)
    return VEIL_ELIMIT;
  p->node[p->n] = node;
  memcpy(p->priv[p->n], sk, p->suite->hpke_sk_len);
  p->n++;
  return 0;
}

/* Drops every key held for a node on the direct path of `leaf` (they are blanked or
 * replaced by an UpdatePath from that leaf). */
static void priv_forget_direct_path(mls_tree_priv_t *p, uint32_t leaf, uint32_t n_leaves) {
  uint32_t path[MLS_MAX_PATH + 1];
  uint32_t n = mls_tm_direct_path(mls_tm_leaf_to_node(leaf), n_leaves, path);
  for (uint32_t i = 0; i < n; i++)
    priv_forget(p, path[i]);
}

/* node_secret = DeriveSecret(path_secret, "node"); KEM.DeriveKeyPair(node_secret). */
static int node_key_pair(const mls_suite_t *s, const uint8_t *path_secret, uint8_t *sk,
                         uint8_t *pk) {
  uint8_t node_secret[MLS_HASH_MAX];
  int rc = mls_derive_secret(s, path_secret, s->nh, "node", node_secret);
  if (rc == 0)
    rc = mls_derive_key_pair(s, node_secret, s->nh, sk, pk);
  vc_wipe(node_secret, sizeof(node_secret));
  return rc;
}

int mls_tree_priv_set_path_secret(mls_tree_priv_t *p, uint32_t node, const uint8_t *path_secret,
                                  size_t len) {
  if (!p || !p->suite || !path_secret || len != p->suite->nh || mls_tm_is_leaf(node))
    return VEIL_EINVAL;
  uint8_t sk[MLS_HPKE_SK_MAX], pk[MLS_HPKE_PK_MAX];
  int rc = node_key_pair(p->suite, path_secret, sk, pk);
  if (rc == 0)
    rc = priv_store(p, node, sk);
  vc_wipe(sk, sizeof(sk));
  return rc;
}

/* ---- shared helpers ---------------------------------------------------------------- */

static const mls_suite_t *tree_suite(const mls_tree_t *t) {
  return mls_suite_get(mls_tree_cipher_suite(t));
}

/* Resolution of `node` without the excluded (newly added) leaves. *out is malloc'd with
 * room for the whole tree's leaves; the caller frees it. */
static int resolution_excluding(const mls_tree_t *t, uint32_t node, const uint32_t *excl,
                                size_t n_excl, uint32_t **out, uint32_t *n) {
  uint32_t cap = mls_tree_leaf_count(t) + 1;
  uint32_t *res = malloc((size_t)cap * sizeof(*res));
  if (!res)
    return VEIL_ENOMEM;
  uint32_t m = 0;
  int rc = mls_tree_resolution(t, node, res, cap, &m);
  if (rc) {
    free(res);
    return rc;
  }
  uint32_t k = 0;
  for (uint32_t i = 0; i < m; i++) {
    int skip = 0;
    for (size_t j = 0; j < n_excl && !skip; j++)
      skip = res[i] == mls_tm_leaf_to_node(excl[j]);
    if (!skip)
      res[k++] = res[i];
  }
  *out = res;
  *n = k;
  return 0;
}

/* ---- committer ------------------------------------------------------------------------ */

void mls_treekem_update_wipe(mls_treekem_update_t *u) {
  if (u)
    vc_wipe(u, sizeof(*u));
}

int mls_treekem_prepare(mls_tree_t *tree, uint32_t leaf_index, const uint8_t *leaf_secret,
                        mls_treekem_update_t *u) {
  const mls_suite_t *s = tree ? tree_suite(tree) : NULL;
  if (!s || !u)
    return VEIL_EINVAL;
  memset(u, 0, sizeof(*u));
  u->suite = s;
  u->leaf_index = leaf_index;
  uint8_t secret[MLS_HASH_MAX], tmp[MLS_HASH_MAX];
  int rc = leaf_secret ? (memcpy(secret, leaf_secret, s->nh), 0) : vc_random(secret, s->nh);
  if (rc == 0)
    rc = mls_tree_filtered_direct_path(tree, leaf_index, u->node, u->copath, &u->n);
  /* Figure 14: the leaf key pair and path_secret[0] both come from leaf_secret. */
  if (rc == 0)
    rc = node_key_pair(s, secret, u->leaf_priv, u->leaf_pub);
  if (rc == 0)
    rc = mls_derive_secret(s, secret, s->nh, "path", tmp);
  for (uint32_t i = 0; rc == 0 && i < u->n; i++) {
    memcpy(u->path_secret[i], tmp, s->nh);
    rc = node_key_pair(s, u->path_secret[i], u->node_priv[i], u->node_pub[i]);
    if (rc == 0)
      rc = mls_derive_secret(s, u->path_secret[i], s->nh, "path", tmp);
  }
  if (rc == 0)
    memcpy(u->commit_secret, tmp, s->nh);
  vc_wipe(secret, sizeof(secret));
  vc_wipe(tmp, sizeof(tmp));
  /* §7.5 steps 1-3 on the committer's own (provisional) tree. */
  if (rc == 0)
    rc = mls_tree_blank_direct_path(tree, leaf_index);
  for (uint32_t i = 0; rc == 0 && i < u->n; i++) {
    mls_parent_node_t pn = {.encryption_key = {u->node_pub[i], s->hpke_pk_len}};
    rc = mls_tree_set_parent(tree, u->node[i], &pn);
  }
  if (rc == 0)
    rc = mls_tree_set_path_parent_hashes(tree, leaf_index, u->leaf_parent_hash,
                                         &u->leaf_parent_hash_len);
  if (rc)
    mls_treekem_update_wipe(u);
  return rc;
}

int mls_treekem_encrypt(const mls_tree_t *tree, const mls_treekem_update_t *u,
                        const mls_leaf_node_t *leaf_node, const uint8_t *group_context,
                        size_t group_context_len, const uint32_t *excluded_leaves,
                        size_t n_excluded, veil_writer_t *out) {
  if (!tree || !u || !u->suite || !leaf_node || !group_context || !out)
    return VEIL_EINVAL;
  const mls_suite_t *s = u->suite;
  mls_update_path_t up = {.leaf_node = *leaf_node, .n_nodes = u->n};
  veil_writer_t lists[MLS_MAX_PATH];
  for (uint32_t i = 0; i < u->n; i++)
    veil_writer_init_growable(&lists[i], 0);
  uint32_t *res = NULL;
  int rc = 0;
  for (uint32_t i = 0; rc == 0 && i < u->n; i++) {
    uint32_t m = 0;
    free(res);
    res = NULL;
    rc = resolution_excluding(tree, u->copath[i], excluded_leaves, n_excluded, &res, &m);
    for (uint32_t j = 0; rc == 0 && j < m; j++) {
      veil_view_t pk = mls_tree_encryption_key(tree, res[j]);
      uint8_t kem[MLS_KEM_OUTPUT_MAX], ct[MLS_HASH_MAX + MLS_AEAD_TAG_LEN];
      size_t kem_len = 0;
      rc = mls_encrypt_with_label(s, pk.ptr, pk.len, "UpdatePathNode", group_context,
                                  group_context_len, u->path_secret[i], s->nh, kem, &kem_len,
                                  ct);
      if (rc == 0) {
        mls_hpke_ciphertext_t c = {.kem_output = {kem, kem_len},
                                   .ciphertext = {ct, s->nh + MLS_AEAD_TAG_LEN}};
        rc = mls_hpke_ciphertext_encode(&lists[i], &c);
      }
    }
    up.nodes[i] = (mls_update_path_node_t){
        .encryption_key = {u->node_pub[i], s->hpke_pk_len},
        .encrypted_path_secret = {.raw = {lists[i].buf, lists[i].len}, .count = m}};
  }
  if (rc == 0)
    rc = mls_update_path_encode(out, &up);
  free(res);
  for (uint32_t i = 0; i < u->n; i++)
    veil_writer_free(&lists[i]);
  return rc;
}

int mls_treekem_commit_own(mls_tree_priv_t *p, const mls_treekem_update_t *u) {
  if (!p || !u || !p->suite || p->leaf_index != u->leaf_index)
    return VEIL_EINVAL;
  memcpy(p->leaf_priv, u->leaf_priv, p->suite->hpke_sk_len);
  /* The filtered direct path is a subset of the direct path; forgetting the whole path
   * also drops keys of nodes the Commit blanked. 2^MLS_MAX_PATH bounds the leaf count. */
  priv_forget_direct_path(p, u->leaf_index, UINT32_C(1) << (MLS_MAX_PATH - 1));
  for (uint32_t i = 0; i < u->n; i++) {
    int rc = priv_store(p, u->node[i], u->node_priv[i]);
    if (rc)
      return rc;
  }
  return 0;
}

/* ---- receiver -------------------------------------------------------------------------- */

int mls_treekem_merge(mls_tree_t *tree, uint32_t sender, const mls_update_path_t *up) {
  const mls_suite_t *s = tree ? tree_suite(tree) : NULL;
  if (!s || !up)
    return VEIL_EINVAL;
  uint32_t path[MLS_MAX_PATH], cop[MLS_MAX_PATH], n = 0;
  int rc = mls_tree_filtered_direct_path(tree, sender, path, cop, &n);
  if (rc)
    return rc;
  if (up->n_nodes != n || up->leaf_node.source != MLS_LEAF_SRC_COMMIT)
    return VEIL_EMLS_UPDATE_PATH;
  for (uint32_t i = 0; i < n; i++)
    if (up->nodes[i].encryption_key.len != s->hpke_pk_len)
      return VEIL_EMLS_UPDATE_PATH;
  rc = mls_tree_blank_direct_path(tree, sender);
  for (uint32_t i = 0; rc == 0 && i < n; i++) {
    mls_parent_node_t pn = {.encryption_key = up->nodes[i].encryption_key};
    rc = mls_tree_set_parent(tree, path[i], &pn);
  }
  uint8_t ph[MLS_HASH_MAX];
  size_t ph_len = 0;
  if (rc == 0)
    rc = mls_tree_set_path_parent_hashes(tree, sender, ph, &ph_len);
  if (rc)
    return rc;
  /* §7.5 step 3: the leaf's parent_hash must be the parent hash of its first filtered
   * direct-path node (empty when that path is empty). Public values: memcmp is fine. */
  const veil_view_t *lph = &up->leaf_node.parent_hash;
  if (lph->len != ph_len || (ph_len && memcmp(lph->ptr, ph, ph_len) != 0))
    return VEIL_EMLS_PARENT_HASH;
  return mls_tree_set_leaf(tree, sender, &up->leaf_node);
}

/* The j-th HPKECiphertext of a validated list. */
static int nth_ciphertext(const mls_list_t *l, uint32_t j, mls_hpke_ciphertext_t *c) {
  veil_reader_t r;
  mls_list_reader(l, &r);
  for (uint32_t i = 0; i <= j; i++) {
    int rc = mls_hpke_ciphertext_decode(&r, c);
    if (rc)
      return rc;
  }
  return 0;
}

int mls_treekem_decrypt(const mls_tree_t *tree, mls_tree_priv_t *p, uint32_t sender,
                        const mls_update_path_t *up, const uint8_t *group_context,
                        size_t group_context_len, const uint32_t *excluded_leaves,
                        size_t n_excluded, uint8_t *commit_secret, uint8_t *ancestor_secret) {
  const mls_suite_t *s = tree ? tree_suite(tree) : NULL;
  if (!s || !p || p->suite != s || !up || !group_context || !commit_secret ||
      sender == p->leaf_index)
    return VEIL_EINVAL;
  uint32_t path[MLS_MAX_PATH], cop[MLS_MAX_PATH], n = 0, k, me = mls_tm_leaf_to_node(p->leaf_index);
  int rc = mls_tree_filtered_direct_path(tree, sender, path, cop, &n);
  if (rc)
    return rc;
  if (up->n_nodes != n)
    return VEIL_EMLS_UPDATE_PATH;
  /* The lowest entry whose copath child's subtree holds this member (§7.5 step 1). */
  for (k = 0; k < n; k++)
    if (cop[k] == me || mls_tm_is_descendant(me, cop[k]))
      break;
  if (k == n)
    return VEIL_ENOTFOUND;
  uint32_t *res = NULL, m = 0, j;
  rc = resolution_excluding(tree, cop[k], excluded_leaves, n_excluded, &res, &m);
  if (rc)
    return rc;
  const mls_list_t *cts = &up->nodes[k].encrypted_path_secret;
  const uint8_t *sk = NULL;
  for (j = 0; j < m && !sk; j++)
    sk = mls_tree_priv_key(p, res[j]);
  free(res);
  if (m != cts->count) /* §7.6: one ciphertext per resolution node */
    return VEIL_EMLS_UPDATE_PATH;
  if (!sk)
    return VEIL_ENOTFOUND;
  mls_hpke_ciphertext_t c;
  uint8_t ps[MLS_HASH_MAX], next[MLS_HASH_MAX];
  uint8_t privs[MLS_MAX_PATH][MLS_HPKE_SK_MAX], pk[MLS_HPKE_PK_MAX];
  rc = nth_ciphertext(cts, j - 1, &c);
  if (rc == 0 && c.ciphertext.len != s->nh + MLS_AEAD_TAG_LEN)
    rc = VEIL_EDECODE;
  if (rc == 0)
    rc = mls_decrypt_with_label(s, sk, "UpdatePathNode", group_context, group_context_len,
                                c.kem_output.ptr, c.kem_output.len, c.ciphertext.ptr,
                                c.ciphertext.len, ps);
  if (rc == 0 && ancestor_secret)
    memcpy(ancestor_secret, ps, s->nh);
  /* §7.5 steps 4-6: derive upwards and check every public key. */
  for (uint32_t i = k; rc == 0 && i < n; i++) {
    rc = node_key_pair(s, ps, privs[i], pk);
    if (rc == 0 && memcmp(pk, up->nodes[i].encryption_key.ptr, s->hpke_pk_len) != 0)
      rc = VEIL_EMLS_UPDATE_PATH;
    if (rc == 0)
      rc = mls_derive_secret(s, ps, s->nh, "path", next);
    memcpy(ps, next, s->nh);
  }
  if (rc == 0) {
    memcpy(commit_secret, ps, s->nh);
    /* Step 7 and the deletion rule: the old keys on the sender's path go. */
    priv_forget_direct_path(p, sender, mls_tree_leaf_count(tree));
    for (uint32_t i = k; rc == 0 && i < n; i++)
      rc = priv_store(p, path[i], privs[i]);
  }
  vc_wipe(ps, sizeof(ps));
  vc_wipe(next, sizeof(next));
  vc_wipe(privs, sizeof(privs));
  return rc;
}

int mls_treekem_join_path(const mls_tree_t *tree, mls_tree_priv_t *p, uint32_t committer,
                          const uint8_t *path_secret, size_t path_secret_len) {
  const mls_suite_t *s = tree ? tree_suite(tree) : NULL;
  if (!s || !p || p->suite != s || !path_secret || path_secret_len != s->nh ||
      committer == p->leaf_index)
    return VEIL_EINVAL;
  uint32_t path[MLS_MAX_PATH], cop[MLS_MAX_PATH], n = 0, k;
  uint32_t me = mls_tm_leaf_to_node(p->leaf_index);
  int rc = mls_tree_filtered_direct_path(tree, committer, path, cop, &n);
  if (rc)
    return rc;
  for (k = 0; k < n; k++)
    if (cop[k] == me || mls_tm_is_descendant(me, cop[k]))
      break;
  if (k == n)
    return VEIL_ENOTFOUND;
  uint8_t ps[MLS_HASH_MAX], next[MLS_HASH_MAX], pk[MLS_HPKE_PK_MAX];
  uint8_t privs[MLS_MAX_PATH][MLS_HPKE_SK_MAX];
  memcpy(ps, path_secret, s->nh);
  for (uint32_t i = k; rc == 0 && i < n; i++) {
    rc = node_key_pair(s, ps, privs[i], pk);
    veil_view_t have = mls_tree_encryption_key(tree, path[i]);
    if (rc == 0 && (have.len != s->hpke_pk_len || memcmp(pk, have.ptr, have.len) != 0))
      rc = VEIL_EMLS_UPDATE_PATH;
    if (rc == 0)
      rc = mls_derive_secret(s, ps, s->nh, "path", next);
    memcpy(ps, next, s->nh);
  }
  for (uint32_t i = k; rc == 0 && i < n; i++)
    rc = priv_store(p, path[i], privs[i]);
  vc_wipe(ps, sizeof(ps));
  vc_wipe(next, sizeof(next));
  vc_wipe(privs, sizeof(privs));
  return rc;
}
