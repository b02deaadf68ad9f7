/*
 * Tree hashes (RFC 9420 §7.8) and parent hashes (§7.9, §7.9.2).
 *
 * The TreeHashInput of a node is its type and position prefix, then the node's stored
 * encoding byte for byte, then (parents) the children's hashes: the hash is fed
 * incrementally from the stored encoding, never re-encoded. Each node caches its hash.
 */
#include <stdlib.h>
#include <string.h>

#include "clients/lib/mls/tree_internal.h"

static int hash_feed(mls_tree_t *t, const uint8_t *p, size_t len) {
  return vc_hash_update(t->hctx, p, len);
}

/* LeafNodeHashInput / ParentNodeHashInput from an explicit node encoding (NULL: blank). */
static int hash_leaf_input(mls_tree_t *t, uint32_t leaf_index, const uint8_t *enc,
                           size_t len, uint8_t *out) {
  uint8_t hdr[6] = {MLS_NODE_LEAF, (uint8_t)(leaf_index >> 24), (uint8_t)(leaf_index >> 16),
                    (uint8_t)(leaf_index >> 8), (uint8_t)leaf_index, enc ? 1 : 0};
  int rc = vc_hash_reset(t->hctx);
  if (!rc)
    rc = hash_feed(t, hdr, sizeof hdr);
  if (!rc && enc)
    rc = hash_feed(t, enc, len);
  return rc ? rc : vc_hash_final(t->hctx, out);
}

static int hash_parent_input(mls_tree_t *t, const uint8_t *enc, size_t len,
                             const uint8_t *left, const uint8_t *right, uint8_t *out) {
  size_t nh = t->suite->nh;
  uint8_t hdr[2] = {MLS_NODE_PARENT, enc ? 1 : 0};
  uint8_t vl[4];
  veil_writer_t w;
  veil_writer_init(&w, vl, sizeof vl);
  veil_write_varint(&w, nh);
  int rc = w.err ? w.err : vc_hash_reset(t->hctx);
  if (!rc)
    rc = hash_feed(t, hdr, sizeof hdr);
  if (!rc && enc)
    rc = hash_feed(t, enc, len);
  if (!rc)
    rc = hash_feed(t, vl, w.len);
  if (!rc)
    rc = hash_feed(t, left, nh);
  if (!rc)
    rc = hash_feed(t, vl, w.len);
  if (!rc)
    rc = hash_feed(t, right, nh);
  return rc ? rc : vc_hash_final(t->hctx, out);
}

/* Recursion depth is the tree height (<= 17 for MLS_MAX_LEAVES). */
int mls_tree_hash(mls_tree_t *t, uint32_t node, uint8_t *out) {
  if (node >= mls_tree_width(t))
    return VEIL_EINVAL;
  mls_tnode_t *n = &t->nodes[node];
  int rc = 0;
  if (!n->hash_valid) {
    if (mls_tm_is_leaf(node)) {
      rc = hash_leaf_input(t, mls_tm_node_to_leaf(node), n->type ? n->enc : NULL, n->enc_len,
                           n->hash);
    } else {
      uint8_t l[MLS_HASH_MAX], r[MLS_HASH_MAX];
      rc = mls_tree_hash(t, mls_tm_left(node), l);
      if (!rc)
        rc = mls_tree_hash(t, mls_tm_right(node), r);
      if (!rc)
        rc = hash_parent_input(t, n->type ? n->enc : NULL, n->enc_len, l, r, n->hash);
    }
    if (rc)
      return rc;
    n->hash_valid = 1;
  }
  memcpy(out, n->hash, t->suite->nh);
  return 0;
}

int mls_tree_root_hash(mls_tree_t *t, uint8_t *out) {
  if (!t->n_leaves)
    return VEIL_ESTATE;
  return mls_tree_hash(t, mls_tm_root(t->n_leaves), out);
}

/* ---- sorted sets of u32 ------------------------------------------------------------- */
/* Unmerged lists and resolutions come from the network and may be long (an adversarial
 * Welcome can list every leaf at the root): every membership and range test below is a
 * binary search over a sorted copy, never a scan, so checks stay O(k log k). */
/* A sorted malloc'd copy of a uint32 list (NULL with *out_n 0 for an empty list). */
static int sorted_copy(const mls_list_t *l, uint32_t **out) {
  *out = NULL;
  if (!l->count)
    return 0;
  uint32_t *v = malloc((size_t)l->count * sizeof *v);
  if (!v)
    return VEIL_ENOMEM;
  for (uint32_t i = 0; i < l->count; i++)
    v[i] = mls_list_u32(l, i);
  qsort(v, l->count, sizeof *v, mls_u32_cmp);
  *out = v;
  return 0;
}

/* ---- original sibling tree hash (§7.9) ------------------------------------------------ */
typedef struct excl {
  const uint32_t *leaves; /* sorted leaf indices */
  uint32_t n;
} excl_t;

/* 1 when an excluded leaf lies under `node`: a range query on the leaf span. */
static int excl_in_subtree(const excl_t *e, uint32_t node) {
  uint32_t span = (UINT32_C(1) << mls_tm_level(node)) - 1u;
  uint32_t lo = (node - span) / 2, hi = (node + span) / 2;
  uint32_t i = mls_u32_lower_bound(e->leaves, e->n, lo);
  return i < e->n && e->leaves[i] <= hi;
}

/* The tree hash of `node` with the leaves in `e` blanked and removed from every
 * unmerged_leaves list. Subtrees without an excluded leaf use the cached hashes, so the
 * cost is O(|e| * height) node hashes at most. */
static int hash_excluding(mls_tree_t *t, uint32_t node, const excl_t *e, uint8_t *out) {
  if (!excl_in_subtree(e, node))
    return mls_tree_hash(t, node, out);
  if (mls_tm_is_leaf(node))
    return hash_leaf_input(t, mls_tm_node_to_leaf(node), NULL, 0, out);
  uint8_t l[MLS_HASH_MAX], r[MLS_HASH_MAX];
  int rc = hash_excluding(t, mls_tm_left(node), e, l);
  if (!rc)
    rc = hash_excluding(t, mls_tm_right(node), e, r);
  if (rc)
    return rc;
  const mls_tnode_t *n = &t->nodes[node];
  if (!n->type)
    return hash_parent_input(t, NULL, 0, l, r, out);
  /* Re-encode the parent with the excluded leaves filtered out of its unmerged list. */
  const mls_parent_node_t *p = &n->v.parent;
  veil_writer_t w;
  veil_writer_init_growable(&w, n->enc_len);
  mls_write_opaque(&w, p->encryption_key);
  mls_write_opaque(&w, p->parent_hash);
  veil_wblock_t b;
  veil_writer_open_block(&w, VEIL_LEN_VARINT, &b);
  for (uint32_t i = 0; i < p->unmerged_leaves.count; i++) {
    uint32_t leaf = mls_list_u32(&p->unmerged_leaves, i);
    if (!mls_u32_sorted_has(e->leaves, e->n, leaf))
      veil_write_u32(&w, leaf);
  }
  veil_writer_close_block(&w, &b);
  rc = w.err ? w.err : hash_parent_input(t, w.buf, w.len, l, r, out);
  veil_writer_free(&w);
  return rc;
}

int mls_tree_parent_hash(mls_tree_t *t, uint32_t parent, uint32_t sibling, uint8_t *out) {
  const mls_parent_node_t *p = mls_tree_parent(t, parent);
  if (!p || mls_tm_parent(sibling, t->n_leaves) != parent)
    return VEIL_EINVAL;
  uint8_t sib[MLS_HASH_MAX];
  uint32_t *sorted;
  int rc = sorted_copy(&p->unmerged_leaves, &sorted);
  if (rc)
    return rc;
  excl_t e = {sorted, p->unmerged_leaves.count};
  rc = hash_excluding(t, sibling, &e, sib);
  free(sorted);
  if (rc)
    return rc;
  /* ParentHashInput{encryption_key<V>, parent_hash<V>, original_sibling_tree_hash<V>}. */
  veil_writer_t w;
  veil_writer_init_growable(&w, 256);
  mls_write_opaque(&w, p->encryption_key);
  mls_write_opaque(&w, p->parent_hash);
  veil_view_t sv = {sib, t->suite->nh};
  mls_write_opaque(&w, sv);
  rc = w.err ? w.err : mls_hash(t->suite, w.buf, w.len, out);
  veil_writer_free(&w);
  return rc;
}

int mls_tree_set_path_parent_hashes(mls_tree_t *t, uint32_t leaf_index, uint8_t *out,
                                    size_t *len) {
  uint32_t path[MLS_MAX_PATH], cop[MLS_MAX_PATH], n;
  int rc = mls_tree_filtered_direct_path(t, leaf_index, path, cop, &n);
  if (rc)
    return rc;
  uint8_t above[MLS_HASH_MAX];
  size_t above_len = 0;
  for (uint32_t i = n; i-- > 0;) {
    const mls_parent_node_t *p = mls_tree_parent(t, path[i]);
    if (!p)
      return VEIL_ESTATE; /* the UpdatePath must have set every entry first */
    mls_parent_node_t np = *p;
    np.parent_hash.ptr = above;
    np.parent_hash.len = above_len;
    if ((rc = mls_tree_set_parent(t, path[i], &np)))
      return rc;
    if ((rc = mls_tree_parent_hash(t, path[i], cop[i], above)))
      return rc;
    above_len = t->suite->nh;
  }
  memcpy(out, above, above_len);
  *len = above_len;
  return 0;
}

/* ---- verification (§7.9.2, "top down") ------------------------------------------------ */
/* The parent_hash field of a node that may be D in §7.9.2 (empty view if it has none). */
static veil_view_t node_parent_hash(const mls_tree_t *t, uint32_t node) {
  veil_view_t none = {NULL, 0};
  if (node >= mls_tree_width(t))
    return none;
  const mls_tnode_t *n = &t->nodes[node];
  if (n->type == MLS_NODE_PARENT)
    return n->v.parent.parent_hash;
  if (n->type == MLS_NODE_LEAF && n->v.leaf.source == MLS_LEAF_SRC_COMMIT)
    return n->v.leaf.parent_hash;
  return none;
}

/* One side of a parent P for the §7.9.2 check: C the child on the path, S the other. */
typedef struct side {
  uint32_t *res;     /* resolution of C (tree order), then reused sorted */
  uint32_t nres;
  uint32_t *in_c;    /* P.unmerged_leaves under C, as sorted node indices */
  uint32_t n_in_c;
  int in_c_subset;   /* every entry of in_c is in the resolution of C */
} side_t;

static int side_prepare(const mls_tree_t *t, const mls_parent_node_t *p, uint32_t c,
                        uint32_t cap, side_t *sd) {
  int rc = mls_tree_resolution(t, c, sd->res, cap, &sd->nres);
  if (rc)
    return rc;
  sd->n_in_c = 0;
  for (uint32_t i = 0; i < p->unmerged_leaves.count; i++) {
    uint32_t node = mls_tm_leaf_to_node(mls_list_u32(&p->unmerged_leaves, i));
    if (mls_tm_is_descendant(node, c))
      sd->in_c[sd->n_in_c++] = node;
  }
  qsort(sd->in_c, sd->n_in_c, sizeof *sd->in_c, mls_u32_cmp);
  /* The set arguments below need distinct entries: a repeated unmerged leaf is
   * malformed whether or not mls_tree_validate has run. */
  for (uint32_t i = 1; i < sd->n_in_c; i++)
    if (sd->in_c[i] == sd->in_c[i - 1])
      return VEIL_EMLS_UNMERGED;
  return 0;
}

/* Sorts res and decides in_c ⊆ res; VEIL_EMLS_UNMERGED for a repeated node. */
static int side_subset(side_t *sd) {
  qsort(sd->res, sd->nres, sizeof *sd->res, mls_u32_cmp);
  for (uint32_t i = 1; i < sd->nres; i++)
    if (sd->res[i] == sd->res[i - 1])
      return VEIL_EMLS_UNMERGED;
  sd->in_c_subset = 1;
  for (uint32_t i = 0; i < sd->n_in_c && sd->in_c_subset; i++)
    sd->in_c_subset = mls_u32_sorted_has(sd->res, sd->nres, sd->in_c[i]);
  return 0;
}

int mls_tree_verify_parent_hashes(mls_tree_t *t) {
  uint32_t width = mls_tree_width(t), cap = 2 * width + 1;
  side_t sd = {0};
  sd.res = malloc((size_t)cap * sizeof *sd.res);
  uint32_t *in_c = NULL;
  int rc = sd.res ? 0 : VEIL_ENOMEM;
  size_t nh = t->suite->nh;
  for (uint32_t pn = 1; pn < width && !rc; pn += 2) {
    const mls_parent_node_t *p = mls_tree_parent(t, pn);
    if (!p)
      continue;
    uint32_t *grown = realloc(in_c, ((size_t)p->unmerged_leaves.count + 1) * sizeof *in_c);
    if (!grown) {
      rc = VEIL_ENOMEM;
      break;
    }
    in_c = sd.in_c = grown;
    uint32_t matches = 0;
    for (int side = 0; side < 2 && !rc; side++) {
      uint32_t c = side ? mls_tm_right(pn) : mls_tm_left(pn);
      uint32_t s = side ? mls_tm_left(pn) : mls_tm_right(pn);
      uint8_t ph[MLS_HASH_MAX];
      if ((rc = mls_tree_parent_hash(t, pn, s, ph)) || (rc = side_prepare(t, p, c, cap, &sd)))
        break;
      /* §7.9.2: D in resolution(C) with P.unmerged_leaves ∩ subtree(C) equal to
       * resolution(C) \ {D}. Resolutions hold distinct nodes and (validated) unmerged
       * lists distinct leaves, so when in_c ⊆ res and |in_c| = |res| - 1 exactly one
       * node qualifies: the one in res but not in in_c. It must carry P's parent hash. */
      if ((rc = side_subset(&sd)))
        break;
      if (!sd.in_c_subset || sd.n_in_c + 1 != sd.nres)
        continue;
      for (uint32_t i = 0; i < sd.nres; i++) {
        if (mls_u32_sorted_has(sd.in_c, sd.n_in_c, sd.res[i]))
          continue;
        veil_view_t dph = node_parent_hash(t, sd.res[i]);
        matches += dph.len == nh && memcmp(dph.ptr, ph, nh) == 0;
        break;
      }
    }
    if (!rc && matches != 1)
      rc = VEIL_EMLS_PARENT_HASH;
  }
  free(sd.res);
  free(in_c);
  return rc == VEIL_EOVERFLOW ? VEIL_EMLS_UNMERGED : rc;
}
