/*
 * veil MLS — TreeKEM (RFC 9420 §7.4–§7.6): path secrets, creating an UpdatePath and
 * merging and decrypting a received one.
 *
 * The public tree is the ratchet tree of tree.h (part A); this module adds the private
 * side (mls_tree_priv_t: the member's leaf HPKE key and the parent-node keys it holds,
 * the tree invariant of §4.2) and the path-secret crypto.
 *
 * Committer, in order:
 *   1. mls_treekem_prepare: fresh leaf key pair and path secrets (§7.4); blanks the
 *      direct path and sets the new parent keys and parent hashes (§7.5 steps 1-3).
 *   2. The caller builds the new LeafNode (source commit, encryption_key = leaf_pub,
 *      parent_hash = leaf_parent_hash), signs it, sets it in the tree, and encodes the
 *      provisional GroupContext with the new tree hash.
 *   3. mls_treekem_encrypt: the UpdatePath (path secrets to each copath resolution,
 *      §7.6), new members of the same Commit excluded.
 *   4. mls_treekem_commit_own: the committer's private state takes the new keys.
 * Receiver: mls_treekem_merge (public part, parent-hash check), then, with the
 * provisional GroupContext, mls_treekem_decrypt (path secret, key checks, commit_secret).
 *
 * Secrets: mls_treekem_update_t and mls_tree_priv_t hold private keys and path secrets;
 * wipe them with their *_wipe functions. Path and node secrets derived while decrypting
 * are wiped before return (§7.5: "delete outdated key material").
 */
#ifndef VEIL_CLIENTS_MLS_TREEKEM_H
#define VEIL_CLIENTS_MLS_TREEKEM_H

#include <stddef.h>
#include <stdint.h>

#include "clients/lib/mls/codec.h"
#include "clients/lib/mls/suite.h"
#include "clients/lib/mls/tree.h"

/* A member's private keys: its leaf and the parent nodes on its direct path it knows. */
typedef struct mls_tree_priv {
  const mls_suite_t *suite; /* static */
  uint32_t leaf_index;
  uint8_t leaf_priv[MLS_HPKE_SK_MAX];
  uint32_t n;                                   /* entries used below */
  uint32_t node[MLS_MAX_PATH];                  /* node indices (parents) */
  uint8_t priv[MLS_MAX_PATH][MLS_HPKE_SK_MAX];  /* their HPKE private keys */
} mls_tree_priv_t;

void mls_tree_priv_init(mls_tree_priv_t *p, const mls_suite_t *s, uint32_t leaf_index,
                        const uint8_t *leaf_priv);
/* Stores the key pair of parent `node` derived from its path secret (§7.4:
 * node_secret = DeriveSecret(path_secret, "node"), KEM.DeriveKeyPair(node_secret)),
 * replacing an older key for that node. VEIL_ELIMIT when MLS_MAX_PATH keys are held. */
int mls_tree_priv_set_path_secret(mls_tree_priv_t *p, uint32_t node, const uint8_t *path_secret,
                                  size_t len);
/* The private key held for `node` (the leaf's node index or a parent), or NULL. */
const uint8_t *mls_tree_priv_key(const mls_tree_priv_t *p, uint32_t node);
void mls_tree_priv_wipe(mls_tree_priv_t *p);

/* The committer's fresh material for one UpdatePath. */
typedef struct mls_treekem_update {
  const mls_suite_t *suite;
  uint32_t leaf_index;
  uint8_t leaf_priv[MLS_HPKE_SK_MAX];
  uint8_t leaf_pub[MLS_HPKE_PK_MAX];            /* suite->hpke_pk_len bytes */
  uint32_t n;                                   /* filtered direct path length */
  uint32_t node[MLS_MAX_PATH];                  /* filtered direct path */
  uint32_t copath[MLS_MAX_PATH];                /* its copath children */
  uint8_t path_secret[MLS_MAX_PATH][MLS_HASH_MAX];
  uint8_t node_priv[MLS_MAX_PATH][MLS_HPKE_SK_MAX];
  uint8_t node_pub[MLS_MAX_PATH][MLS_HPKE_PK_MAX];
  uint8_t commit_secret[MLS_HASH_MAX];          /* path_secret[n] (§7.4, §8) */
  uint8_t leaf_parent_hash[MLS_HASH_MAX];       /* for the new LeafNode */
  size_t leaf_parent_hash_len;                  /* 0 when the filtered path is empty */
} mls_treekem_update_t;

/* Step 1 for the member at leaf_index: leaf_secret (Nh bytes; NULL: random) gives
 * leaf_node_secret = DeriveSecret(leaf_secret, "node") for the leaf key pair and
 * path_secret[0] = DeriveSecret(leaf_secret, "path") (Figure 14). Changes the tree. */
int mls_treekem_prepare(mls_tree_t *tree, uint32_t leaf_index, const uint8_t *leaf_secret,
                        mls_treekem_update_t *u);
/* Step 3: writes the UpdatePath {leaf_node, nodes} to `out`. group_context is the encoded
 * provisional GroupContext; excluded_leaves (n_excluded entries) are the leaves added by
 * the same Commit, left out of every resolution (§7.6). */
int mls_treekem_encrypt(const mls_tree_t *tree, const mls_treekem_update_t *u,
                        const mls_leaf_node_t *leaf_node, const uint8_t *group_context,
                        size_t group_context_len, const uint32_t *excluded_leaves,
                        size_t n_excluded, veil_writer_t *out);
/* Step 4: the committer's own private state after its Commit. */
int mls_treekem_commit_own(mls_tree_priv_t *p, const mls_treekem_update_t *u);
void mls_treekem_update_wipe(mls_treekem_update_t *u);

/* Receiver, public part (§7.5 "merges UpdatePath into the tree"): checks the path length
 * against the sender's filtered direct path (VEIL_EMLS_UPDATE_PATH) and the leaf source,
 * blanks the direct path, sets the new parent keys, recomputes the parent hashes and
 * checks the leaf's parent_hash (VEIL_EMLS_PARENT_HASH), then sets the sender's leaf.
 * The leaf's own validity (§7.3, signature) is the caller's check. */
int mls_treekem_merge(mls_tree_t *tree, uint32_t sender, const mls_update_path_t *up);
/* Receiver, private part, on the merged tree: decrypts the path secret at the lowest
 * common ancestor with the key `p` holds in the copath resolution, derives the rest of
 * the path, checks every derived public key against the UpdatePath
 * (VEIL_EMLS_UPDATE_PATH), replaces `p`'s keys on the sender's path, and writes
 * commit_secret (Nh) and, if ancestor_secret is not NULL, the decrypted path secret (Nh).
 * VEIL_ENOTFOUND when `p` holds no key in the resolution (tree invariant broken). */
int mls_treekem_decrypt(const mls_tree_t *tree, mls_tree_priv_t *p, uint32_t sender,
                        const mls_update_path_t *up, const uint8_t *group_context,
                        size_t group_context_len, const uint32_t *excluded_leaves,
                        size_t n_excluded, uint8_t *commit_secret, uint8_t *ancestor_secret);

/* A joiner's path secret (GroupSecrets.path_secret, §12.4.3.1) on the joined tree: it is
 * the secret of the lowest node of the committer's filtered direct path whose copath
 * subtree holds the joiner; the secrets of the entries above it follow by
 * DeriveSecret(., "path"). Stores every derived key in `p` after checking it against the
 * tree's public key (VEIL_EMLS_UPDATE_PATH on mismatch, VEIL_ENOTFOUND if the joiner is
 * not under the committer's path). */
int mls_treekem_join_path(const mls_tree_t *tree, mls_tree_priv_t *p, uint32_t committer,
                          const uint8_t *path_secret, size_t path_secret_len);

#endif
