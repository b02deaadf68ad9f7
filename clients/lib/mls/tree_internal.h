/*
 * Ratchet tree internals shared by tree.c, tree_hash.c and tree_validate.c.
 */
#ifndef VEIL_CLIENTS_MLS_TREE_INTERNAL_H
#define VEIL_CLIENTS_MLS_TREE_INTERNAL_H

#include "clients/lib/mls/suite.h"
#include "clients/lib/mls/tree.h"

typedef struct mls_tnode {
  uint8_t type;         /* 0 blank, MLS_NODE_LEAF, MLS_NODE_PARENT */
  uint8_t hash_valid;   /* `hash` holds this node's current tree hash */
  uint8_t *enc;         /* owned: the node's LeafNode / ParentNode encoding */
  size_t enc_len;
  union {
    mls_leaf_node_t leaf;     /* views into enc */
    mls_parent_node_t parent; /* views into enc */
  } v;
  uint8_t hash[MLS_HASH_MAX];
} mls_tnode_t;

struct mls_tree {
  const mls_suite_t *suite;  /* static */
  uint32_t n_leaves;         /* power of two, or 0 */
  uint32_t cap_nodes;        /* allocated entries of `nodes` */
  mls_tnode_t *nodes;        /* owned, 2 * n_leaves - 1 in use */
  vc_hash_ctx_t *hctx;       /* owned, reused for every node hash */
};

static inline uint32_t mls_tree_width(const mls_tree_t *t) {
  return mls_tm_node_width(t->n_leaves);
}

/* Sorted uint32 sets (unmerged lists, resolutions): qsort comparator, lower bound and
 * membership by binary search. */
static inline int mls_u32_cmp(const void *a, const void *b) {
  uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
  return x < y ? -1 : x > y;
}

static inline uint32_t mls_u32_lower_bound(const uint32_t *v, uint32_t n, uint32_t x) {
  uint32_t lo = 0, hi = n;
  while (lo < hi) {
    uint32_t mid = lo + (hi - lo) / 2;
    if (v[mid] < x)
      lo = mid + 1;
    else
      hi = mid;
  }
  return lo;
}

static inline int mls_u32_sorted_has(const uint32_t *v, uint32_t n, uint32_t x) {
  uint32_t i = mls_u32_lower_bound(v, n, x);
  return i < n && v[i] == x;
}

/* Marks a node and all its ancestors as needing a new tree hash. */
void mls_tree_invalidate(mls_tree_t *t, uint32_t node);

#endif
