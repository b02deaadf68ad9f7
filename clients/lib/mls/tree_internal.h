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

/* Marks a node and all its ancestors as needing a new tree hash. */
void mls_tree_invalidate(mls_tree_t *t, uint32_t node);

#endif
