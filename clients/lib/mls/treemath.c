/*
 * Array-based tree math (RFC 9420 Appendix C). See treemath.h for the numbering.
 */
#include "clients/lib/mls/treemath.h"

uint32_t mls_tm_level(uint32_t x) {
  if ((x & 1u) == 0)
    return 0;
  uint32_t k = 0;
  while ((x >> k) & 1u)
    k++;
  return k;
}

uint32_t mls_tm_node_width(uint32_t n) {
  return n == 0 ? 0 : 2u * (n - 1u) + 1u;
}

/* Largest power of two <= w, minus one: the root of a full tree of width w. */
uint32_t mls_tm_root(uint32_t n) {
  uint32_t w = mls_tm_node_width(n);
  uint32_t k = 0;
  while ((UINT32_C(1) << (k + 1)) <= w)
    k++;
  return (UINT32_C(1) << k) - 1u;
}

uint32_t mls_tm_left(uint32_t x) {
  uint32_t k = mls_tm_level(x);
  return k == 0 ? MLS_TM_NONE : x ^ (UINT32_C(1) << (k - 1));
}

uint32_t mls_tm_right(uint32_t x) {
  uint32_t k = mls_tm_level(x);
  return k == 0 ? MLS_TM_NONE : x ^ (UINT32_C(3) << (k - 1));
}

uint32_t mls_tm_parent(uint32_t x, uint32_t n) {
  if (x == mls_tm_root(n) || x >= mls_tm_node_width(n))
    return MLS_TM_NONE;
  /* Full trees only (treemath.h): the parent is one level up, on the side x is on. */
  uint32_t k = mls_tm_level(x);
  uint32_t b = (x >> (k + 1)) & 1u;
  return (x | (UINT32_C(1) << k)) ^ (b << (k + 1));
}

uint32_t mls_tm_sibling(uint32_t x, uint32_t n) {
  uint32_t p = mls_tm_parent(x, n);
  if (p == MLS_TM_NONE)
    return MLS_TM_NONE;
  return x < p ? mls_tm_right(p) : mls_tm_left(p);
}

int mls_tm_is_descendant(uint32_t x, uint32_t ancestor) {
  /* The subtree of a node at level k spans [a - (2^k - 1), a + (2^k - 1)]. */
  uint32_t k = mls_tm_level(ancestor);
  uint32_t span = (UINT32_C(1) << k) - 1u;
  return x + span >= ancestor && x <= ancestor + span;
}

uint32_t mls_tm_direct_path(uint32_t x, uint32_t n, uint32_t *out) {
  uint32_t count = 0;
  uint32_t root = mls_tm_root(n);
  if (x >= mls_tm_node_width(n))
    return 0;
  while (x != root) {
    x = mls_tm_parent(x, n);
    out[count++] = x;
  }
  return count;
}

uint32_t mls_tm_copath(uint32_t x, uint32_t n, uint32_t *out) {
  uint32_t count = 0;
  uint32_t root = mls_tm_root(n);
  if (x >= mls_tm_node_width(n))
    return 0;
  while (x != root) {
    out[count++] = mls_tm_sibling(x, n);
    x = mls_tm_parent(x, n);
  }
  return count;
}

uint32_t mls_tm_common_ancestor(uint32_t x, uint32_t y) {
  /* The smallest subtree holding both: the node at level k above x is x with its low
   * k+1 bits replaced by 0111..1 (k ones); climb until that subtree spans y. */
  uint32_t k = mls_tm_level(x) > mls_tm_level(y) ? mls_tm_level(x) : mls_tm_level(y);
  for (; k < 31; k++) {
    uint32_t a = ((x >> (k + 1)) << (k + 1)) | ((UINT32_C(1) << k) - 1u);
    if (mls_tm_is_descendant(x, a) && mls_tm_is_descendant(y, a))
      return a;
  }
  return MLS_TM_NONE;
}
