/*
 * veil MLS — array-based tree math (RFC 9420 Appendix C, §4.1).
 *
 * Nodes of a tree with n leaves are numbered 0 .. 2n-2 in-order: leaves at even indices
 * (leaf i is node 2i), parents at odd ones. MLS trees are always full: n is a power of
 * two (§7.7 extends by doubling and truncates by halving), so every function here takes
 * the leaf count and assumes it is a power of two in [1, MLS_MAX_LEAVES]. Pure functions,
 * O(log n) at most, no allocation.
 */
#ifndef VEIL_CLIENTS_MLS_TREEMATH_H
#define VEIL_CLIENTS_MLS_TREEMATH_H

#include <stdint.h>

#define MLS_TM_NONE UINT32_MAX /* "no such node" (a leaf's children, the root's parent) */

/* Level of a node: 0 for leaves, the number of trailing one bits otherwise. */
uint32_t mls_tm_level(uint32_t x);
/* Number of nodes of a tree with n leaves: 2n - 1 (0 for n = 0). */
uint32_t mls_tm_node_width(uint32_t n);
/* Root node index of a tree with n leaves. */
uint32_t mls_tm_root(uint32_t n);
/* Children of a parent node; MLS_TM_NONE for a leaf. */
uint32_t mls_tm_left(uint32_t x);
uint32_t mls_tm_right(uint32_t x);
/* Parent / sibling within a tree of n leaves; MLS_TM_NONE for the root. */
uint32_t mls_tm_parent(uint32_t x, uint32_t n);
uint32_t mls_tm_sibling(uint32_t x, uint32_t n);
/* 1 when node `x` is in the subtree rooted at `ancestor` (x itself included). */
int mls_tm_is_descendant(uint32_t x, uint32_t ancestor);
/* The direct path of node x (parent, grandparent, ..., root; x excluded): count written
 * to out (room for MLS_MAX_PATH entries is always enough for n <= MLS_MAX_LEAVES). */
uint32_t mls_tm_direct_path(uint32_t x, uint32_t n, uint32_t *out);
/* The copath: the sibling of x and of each node on its direct path except the root. */
uint32_t mls_tm_copath(uint32_t x, uint32_t n, uint32_t *out);
/* Lowest common ancestor of two nodes. */
uint32_t mls_tm_common_ancestor(uint32_t x, uint32_t y);

static inline uint32_t mls_tm_leaf_to_node(uint32_t leaf) { return 2u * leaf; }
static inline uint32_t mls_tm_node_to_leaf(uint32_t node) { return node / 2u; }
static inline int mls_tm_is_leaf(uint32_t node) { return (node & 1u) == 0; }

#endif
