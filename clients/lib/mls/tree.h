/*
 * veil MLS — the ratchet tree (RFC 9420 §4, §7): nodes, blanks, unmerged leaves,
 * resolution, filtered direct path, tree hash (§7.8), parent hash (§7.9), validation
 * (§7.3, §7.9.2, §12.4.3.1) and the tree changes of Add/Update/Remove (§12.1, §7.7).
 *
 * Ownership: an mls_tree_t owns a copy of every node's encoding; the mls_leaf_node_t /
 * mls_parent_node_t returned by the accessors are views into that copy, valid until the
 * node is next changed (set, blanked, unmerged list changed, tree truncated) or the tree
 * is freed. Setters copy what they are given; nothing passed in is retained.
 *
 * Performance: each node caches its tree hash. Any change to a node invalidates the
 * cache of that node and its ancestors only (O(log n)), so after a Commit the root hash
 * costs one hash per changed node on the path, not a walk over the whole tree. The
 * original-sibling tree hash of §7.9 reuses the caches of every subtree that holds none
 * of the excluded unmerged leaves.
 *
 * Not thread-safe (the hash cache mutates on reads of the hash).
 */
#ifndef VEIL_CLIENTS_MLS_TREE_H
#define VEIL_CLIENTS_MLS_TREE_H

#include <stddef.h>
#include <stdint.h>

#include "clients/lib/mls/codec.h"
#include "clients/lib/mls/treemath.h"

typedef struct mls_tree mls_tree_t;

/* An empty tree (zero leaves) for a supported cipher suite; VEIL_EMLS_SUITE otherwise. */
int mls_tree_new(uint16_t cipher_suite, mls_tree_t **out);
/* Parses the ratchet_tree extension body (§12.4.3.3: vector<V> of optional<Node>), pads
 * it to a full tree. Rejects: a node type at the wrong position, a trailing blank entry,
 * more than MLS_MAX_NODES entries, an empty tree. No signature/hash checks here (see
 * mls_tree_validate). */
int mls_tree_parse(uint16_t cipher_suite, const uint8_t *buf, size_t len, mls_tree_t **out);
/* Writes the ratchet_tree body, trailing blank nodes omitted (§12.4.3.3). */
int mls_tree_encode(const mls_tree_t *t, veil_writer_t *w);
/* A deep copy (provisional trees while a Commit is being built or checked). */
int mls_tree_clone(const mls_tree_t *t, mls_tree_t **out);
void mls_tree_free(mls_tree_t *t);

uint16_t mls_tree_cipher_suite(const mls_tree_t *t);
uint32_t mls_tree_leaf_count(const mls_tree_t *t);   /* a power of two, or 0 */
uint32_t mls_tree_node_count(const mls_tree_t *t);   /* 2 * leaves - 1, or 0 */
/* 0 (blank), MLS_NODE_LEAF or MLS_NODE_PARENT; 0 for an index out of range. */
int mls_tree_node_type(const mls_tree_t *t, uint32_t node);
/* The leaf at `leaf_index`, or NULL when blank or out of range. */
const mls_leaf_node_t *mls_tree_leaf(const mls_tree_t *t, uint32_t leaf_index);
/* The parent node at node index `node`, or NULL when blank, a leaf, or out of range. */
const mls_parent_node_t *mls_tree_parent(const mls_tree_t *t, uint32_t node);
/* The HPKE public key of any non-blank node; an empty view for a blank one. */
veil_view_t mls_tree_encryption_key(const mls_tree_t *t, uint32_t node);
/* The serialized LeafNode at a leaf (empty view when blank). */
veil_view_t mls_tree_leaf_encoding(const mls_tree_t *t, uint32_t leaf_index);

/* ---- changes (each invalidates the hashes on the node's path) ---------------------- */
/* Sets leaf `leaf_index` (< leaf count) to a copy of `leaf`. */
int mls_tree_set_leaf(mls_tree_t *t, uint32_t leaf_index, const mls_leaf_node_t *leaf);
/* Sets leaf from its encoding (must be exactly one valid LeafNode). */
int mls_tree_set_leaf_encoded(mls_tree_t *t, uint32_t leaf_index, const uint8_t *enc,
                              size_t len);
/* Sets the parent node at odd index `node` to a copy of `parent`. */
int mls_tree_set_parent(mls_tree_t *t, uint32_t node, const mls_parent_node_t *parent);
int mls_tree_blank(mls_tree_t *t, uint32_t node);
/* Blanks every node on the direct path of a leaf (§12.1.2, §12.1.3). */
int mls_tree_blank_direct_path(mls_tree_t *t, uint32_t leaf_index);

/* §12.1.1: puts `leaf` in the leftmost blank leaf (doubling the tree when none is blank),
 * adds its index to the unmerged_leaves of every non-blank parent above it. */
int mls_tree_add(mls_tree_t *t, const mls_leaf_node_t *leaf, uint32_t *leaf_index);
/* §12.1.2: replaces the sender's leaf, blanks its direct path. */
int mls_tree_update(mls_tree_t *t, uint32_t leaf_index, const mls_leaf_node_t *leaf);
/* §12.1.3: blanks the leaf and its direct path, then truncates (§7.7). */
int mls_tree_remove(mls_tree_t *t, uint32_t leaf_index);
/* Applies one Add/Update/Remove proposal sent by member `sender` (the Update's leaf
 * goes to `sender`). Other proposal types do not change the tree: VEIL_EINVAL. */
int mls_tree_apply_proposal(mls_tree_t *t, const mls_proposal_t *p, uint32_t sender);

/* ---- structure ------------------------------------------------------------------------ */
/* Resolution of a node (§4.1.1) as node indices, in tree order (a node, then its
 * unmerged leaves in list order). `cap` entries of room; VEIL_EOVERFLOW if short
 * (mls_tree_leaf_count() entries always suffice for a validated tree);
 * VEIL_EMLS_UNMERGED when an unmerged entry names a leaf beyond the tree. */
int mls_tree_resolution(const mls_tree_t *t, uint32_t node, uint32_t *out, uint32_t cap,
                        uint32_t *n);
/* Filtered direct path of a leaf (§4.1.2), from the leaf's parent up to the root, with
 * the copath child of each entry; MLS_MAX_PATH entries of room each. */
int mls_tree_filtered_direct_path(const mls_tree_t *t, uint32_t leaf_index, uint32_t *path,
                                  uint32_t *copath_child, uint32_t *n);

/* ---- hashes (§7.8, §7.9); `out` receives Nh bytes ---------------------------------- */
int mls_tree_hash(mls_tree_t *t, uint32_t node, uint8_t *out);
int mls_tree_root_hash(mls_tree_t *t, uint8_t *out);
/* The parent hash of parent node `parent` with copath child `sibling` (§7.9):
 * Hash(ParentHashInput{encryption_key, parent_hash, original_sibling_tree_hash}). */
int mls_tree_parent_hash(mls_tree_t *t, uint32_t parent, uint32_t sibling, uint8_t *out);
/* After an UpdatePath has set new keys on a leaf's filtered direct path (§7.5, §7.9.1):
 * sets each entry's parent_hash field from the root down (the topmost gets an empty
 * one, each lower entry the parent hash of the entry above it with its copath child) and
 * writes to `out` the parent hash the leaf itself must carry (Nh bytes, *len set; 0 when
 * the filtered direct path is empty). Used to build a Commit and to check one (compare
 * with the committer's leaf_node.parent_hash). */
int mls_tree_set_path_parent_hashes(mls_tree_t *t, uint32_t leaf_index, uint8_t *out,
                                    size_t *len);
/* Every non-blank parent node is parent-hash valid with exactly one descendant
 * (§7.9.2, "top down"). VEIL_EMLS_PARENT_HASH otherwise. */
int mls_tree_verify_parent_hashes(mls_tree_t *t);

/* ---- validation ----------------------------------------------------------------------- */
/* Options for leaf validation (§7.3). */
typedef struct mls_leaf_check {
  veil_view_t group_id;           /* for update/commit-source signatures */
  const mls_list_t *required_capabilities; /* RequiredCapabilities ext body, or NULL */
  uint64_t now;                   /* seconds since the epoch; 0: skip lifetime checks */
} mls_leaf_check_t;

/* §7.3 checks on one LeafNode at `leaf_index` that do not need the rest of the tree:
 * signature (VerifyWithLabel "LeafNodeTBS"), credential type and extension types
 * listed in its own capabilities, required capabilities, lifetime (key_package source). */
int mls_leaf_node_validate(uint16_t cipher_suite, const mls_leaf_node_t *leaf,
                           uint32_t leaf_index, const mls_leaf_check_t *chk);
/* The RequiredCapabilities check of mls_leaf_node_validate alone (`required`: the
 * extension's body, count 1): 0, VEIL_EMLS_LEAF_INVALID, or a codec error for a malformed
 * body. */
int mls_leaf_meets_required(const mls_leaf_node_t *leaf, const mls_list_t *required);
/* KeyPackage validation (§10.1) short of the group's own parameters (suite and version
 * equal to the GroupContext's: the caller's): a supported suite, version mls10, a
 * key_package-source leaf valid per mls_leaf_node_validate, the KeyPackageTBS signature
 * by the leaf's signature key, and init_key different from the leaf's encryption key. */
int mls_key_package_validate(const mls_key_package_t *kp, const mls_leaf_check_t *chk);
/* §12.4.3.1 unmerged leaves: every entry of a parent's list names a non-blank leaf below
 * it, once, and every non-blank node between that leaf and the parent lists it too.
 * Part of mls_tree_validate; VEIL_EMLS_UNMERGED otherwise. O(U log U) for U entries. */
int mls_tree_check_unmerged(const mls_tree_t *t);
/* Whole-tree checks of a joiner (§12.4.3.1) except the tree hash, which the caller
 * compares with its GroupContext: every leaf valid (§7.3), leaf signature and
 * encryption keys unique, parent keys unique, every member supports every member's
 * credential type, unmerged leaves well-formed, parent hashes valid (§7.9.2). */
int mls_tree_validate(mls_tree_t *t, const mls_leaf_check_t *chk);
/* The same uniqueness rule for what a received Commit changed (§7.3, §12.4.2): the
 * encryption key of each of the `n` non-blank nodes in `nodes` appears at no other node of
 * the tree, and a leaf's signature key at no other leaf; VEIL_EMLS_DUP_KEY otherwise.
 * O((width + n) log n): one pass over the tree, each key looked up among the n sorted by
 * prefix — cheap next to a Commit's crypto. Blank or out-of-range entries are skipped. */
int mls_tree_check_keys_unique(const mls_tree_t *t, const uint32_t *nodes, size_t n);

#endif
