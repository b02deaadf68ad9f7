/*
 * Ratchet tree storage and structure (RFC 9420 §4, §7.7, §12.1.1-3, §12.4.3.3).
 * Hashes live in tree_hash.c, validation in tree_validate.c.
 */
#include <stdatomic.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "clients/lib/mls/tree_internal.h"

/* ---- node storage -------------------------------------------------------------------- */
/* A node's encoding is immutable once installed, and shared: a clone of the tree (every
 * Commit a member processes is staged on one, group.c) copies the node records, whose
 * decoded views point into these bytes, and takes a reference. Cloning a 1000-member tree
 * is then 2000 record copies instead of 2000 allocations and decodes, which made
 * processing a Commit grow linearly with the group. The count is atomic so that trees
 * sharing bytes may be freed on different threads. */
typedef union enc_hdr {
  atomic_uint refs;
  max_align_t align; /* the bytes that follow start aligned */
} enc_hdr_t;

static enc_hdr_t *enc_hdr(uint8_t *enc) {
  return (enc_hdr_t *)(void *)(enc - sizeof(enc_hdr_t));
}

/* A shared copy of `len` bytes with one reference, or NULL. */
static uint8_t *enc_new(const uint8_t *src, size_t len) {
  enc_hdr_t *h = malloc(sizeof *h + (len ? len : 1));
  if (!h)
    return NULL;
  atomic_init(&h->refs, 1);
  uint8_t *enc = (uint8_t *)(h + 1);
  if (len)
    memcpy(enc, src, len);
  return enc;
}

static void enc_ref(uint8_t *enc) {
  if (enc)
    atomic_fetch_add_explicit(&enc_hdr(enc)->refs, 1, memory_order_relaxed);
}

static void enc_unref(uint8_t *enc) {
  if (enc && atomic_fetch_sub_explicit(&enc_hdr(enc)->refs, 1, memory_order_acq_rel) == 1)
    free(enc_hdr(enc));
}

static void node_clear(mls_tnode_t *n) {
  enc_unref(n->enc);
  memset(n, 0, sizeof *n);
}

/* Installs a copy of one node encoding at `n` and decodes its views; `n` is unchanged
 * when the bytes do not decode. */
static int node_set_bytes(mls_tnode_t *n, uint8_t type, const uint8_t *src, size_t len) {
  uint8_t *enc = enc_new(src, len);
  if (!enc)
    return VEIL_ENOMEM;
  veil_reader_t r;
  veil_reader_init(&r, enc, len);
  mls_tnode_t fresh;
  memset(&fresh, 0, sizeof fresh);
  if (type == MLS_NODE_LEAF)
    mls_leaf_node_decode(&r, &fresh.v.leaf);
  else
    mls_parent_node_decode(&r, &fresh.v.parent);
  int rc = veil_reader_finish(&r);
  if (rc) {
    enc_unref(enc);
    return rc;
  }
  fresh.type = type;
  fresh.enc = enc;
  fresh.enc_len = len;
  node_clear(n);
  *n = fresh;
  return 0;
}

void mls_tree_invalidate(mls_tree_t *t, uint32_t node) {
  uint32_t w = mls_tree_width(t);
  while (node != MLS_TM_NONE && node < w) {
    t->nodes[node].hash_valid = 0;
    node = mls_tm_parent(node, t->n_leaves);
  }
}

/* Grows or shrinks the tree to `n` leaves (a power of two). New nodes are blank. */
static int resize(mls_tree_t *t, uint32_t n) {
  if (n > MLS_MAX_LEAVES)
    return VEIL_ELIMIT;
  uint32_t old_w = mls_tree_width(t), new_w = mls_tm_node_width(n);
  if (new_w > t->cap_nodes) {
    uint32_t cap = t->cap_nodes ? t->cap_nodes : 1;
    while (cap < new_w)
      cap = 2 * cap + 1;
    mls_tnode_t *nn = realloc(t->nodes, (size_t)cap * sizeof *nn);
    if (!nn)
      return VEIL_ENOMEM;
    memset(nn + t->cap_nodes, 0, (size_t)(cap - t->cap_nodes) * sizeof *nn);
    t->nodes = nn;
    t->cap_nodes = cap;
  }
  for (uint32_t i = new_w; i < old_w; i++)
    node_clear(&t->nodes[i]);
  t->n_leaves = n;
  /* The root moved: its hash (and, on growth, the new root's) must be recomputed.
   * Subtrees keep their hashes: a node's hash depends only on its own subtree. */
  if (n)
    mls_tree_invalidate(t, mls_tm_root(n));
  return 0;
}

int mls_tree_new(uint16_t cipher_suite, mls_tree_t **out) {
  const mls_suite_t *s = mls_suite_get(cipher_suite);
  if (!s)
    return VEIL_EMLS_SUITE;
  mls_tree_t *t = calloc(1, sizeof *t);
  if (!t)
    return VEIL_ENOMEM;
  t->suite = s;
  t->hctx = vc_hash_new(s->hash);
  if (!t->hctx) {
    free(t);
    return VEIL_ENOMEM;
  }
  *out = t;
  return 0;
}

void mls_tree_free(mls_tree_t *t) {
  if (!t)
    return;
  for (uint32_t i = 0; i < t->cap_nodes; i++)
    enc_unref(t->nodes[i].enc);
  free(t->nodes);
  vc_hash_free(t->hctx);
  free(t);
}

int mls_tree_clone(const mls_tree_t *t, mls_tree_t **out) {
  mls_tree_t *c;
  int rc = mls_tree_new(t->suite->id, &c);
  if (rc)
    return rc;
  if ((rc = resize(c, t->n_leaves))) {
    mls_tree_free(c);
    return rc;
  }
  /* Records by value (hash caches included: they are per tree), encodings shared. */
  for (uint32_t i = 0; i < mls_tree_width(t); i++) {
    c->nodes[i] = t->nodes[i];
    enc_ref(c->nodes[i].enc);
  }
  *out = c;
  return 0;
}

/* ---- parse / encode (§12.4.3.3) ------------------------------------------------------ */
int mls_tree_parse(uint16_t cipher_suite, const uint8_t *buf, size_t len, mls_tree_t **out) {
  mls_tree_t *t = NULL;
  int rc = mls_tree_new(cipher_suite, &t);
  if (rc)
    return rc;
  veil_reader_t r, sub;
  veil_reader_init(&r, buf, len);
  if ((rc = veil_reader_open_block(&r, VEIL_LEN_VARINT, &sub)))
    goto fail;
  if ((rc = veil_reader_finish(&r)))
    goto fail;
  uint32_t count = 0, last_type = 0;
  while (veil_reader_remaining(&sub)) {
    if (count == MLS_MAX_NODES) {
      rc = VEIL_ELIMIT;
      goto fail;
    }
    /* Grow by doubling as entries arrive: the count is a claim bounded only by the
     * input, so allocation follows the bytes actually present. */
    if (count >= mls_tree_width(t) &&
        (rc = resize(t, t->n_leaves ? 2 * t->n_leaves : 1)))
      goto fail;
    int present;
    if ((rc = mls_read_optional(&sub, &present)))
      goto fail;
    last_type = 0;
    if (present) {
      uint8_t type;
      if ((rc = veil_read_u8(&sub, &type)))
        goto fail;
      /* Leaves sit at even indices, parents at odd ones (Appendix C). */
      if (type != (mls_tm_is_leaf(count) ? MLS_NODE_LEAF : MLS_NODE_PARENT)) {
        rc = VEIL_EMLS_TREE_SHAPE;
        goto fail;
      }
      const uint8_t *start = sub.p;
      if (type == MLS_NODE_LEAF) {
        mls_leaf_node_t tmp;
        rc = mls_leaf_node_decode(&sub, &tmp);
      } else {
        mls_parent_node_t tmp;
        rc = mls_parent_node_decode(&sub, &tmp);
      }
      if (rc || (rc = node_set_bytes(&t->nodes[count], type, start, (size_t)(sub.p - start))))
        goto fail;
      last_type = type;
    }
    count++;
  }
  if ((rc = veil_reader_finish(&sub)))
    goto fail;
  /* The sender MUST NOT include blank nodes after the last non-blank one; an empty
   * tree has no members and cannot be joined. */
  if (count == 0 || last_type == 0) {
    rc = VEIL_EMLS_TREE_SHAPE;
    goto fail;
  }
  *out = t;
  return 0;
fail:
  mls_tree_free(t);
  return rc;
}

int mls_tree_encode(const mls_tree_t *t, veil_writer_t *w) {
  uint32_t width = mls_tree_width(t), last = 0;
  int any = 0;
  for (uint32_t i = 0; i < width; i++)
    if (t->nodes[i].type) {
      last = i;
      any = 1;
    }
  veil_wblock_t b;
  veil_writer_open_block(w, VEIL_LEN_VARINT, &b);
  for (uint32_t i = 0; any && i <= last; i++) {
    const mls_tnode_t *n = &t->nodes[i];
    veil_write_u8(w, n->type ? 1 : 0);
    if (n->type) {
      veil_write_u8(w, n->type);
      veil_write_bytes(w, n->enc, n->enc_len);
    }
  }
  return veil_writer_close_block(w, &b);
}

/* ---- accessors ------------------------------------------------------------------------ */
uint16_t mls_tree_cipher_suite(const mls_tree_t *t) { return t->suite->id; }
uint32_t mls_tree_leaf_count(const mls_tree_t *t) { return t->n_leaves; }
uint32_t mls_tree_node_count(const mls_tree_t *t) { return mls_tree_width(t); }

int mls_tree_node_type(const mls_tree_t *t, uint32_t node) {
  return node < mls_tree_width(t) ? t->nodes[node].type : 0;
}

const mls_leaf_node_t *mls_tree_leaf(const mls_tree_t *t, uint32_t leaf_index) {
  if (leaf_index >= t->n_leaves)
    return NULL;
  const mls_tnode_t *n = &t->nodes[mls_tm_leaf_to_node(leaf_index)];
  return n->type == MLS_NODE_LEAF ? &n->v.leaf : NULL;
}

const mls_parent_node_t *mls_tree_parent(const mls_tree_t *t, uint32_t node) {
  if (node >= mls_tree_width(t))
    return NULL;
  const mls_tnode_t *n = &t->nodes[node];
  return n->type == MLS_NODE_PARENT ? &n->v.parent : NULL;
}

veil_view_t mls_tree_encryption_key(const mls_tree_t *t, uint32_t node) {
  veil_view_t none = {NULL, 0};
  if (node >= mls_tree_width(t))
    return none;
  const mls_tnode_t *n = &t->nodes[node];
  if (n->type == MLS_NODE_LEAF)
    return n->v.leaf.encryption_key;
  if (n->type == MLS_NODE_PARENT)
    return n->v.parent.encryption_key;
  return none;
}

veil_view_t mls_tree_leaf_encoding(const mls_tree_t *t, uint32_t leaf_index) {
  veil_view_t v = {NULL, 0};
  if (mls_tree_leaf(t, leaf_index)) {
    const mls_tnode_t *n = &t->nodes[mls_tm_leaf_to_node(leaf_index)];
    v.ptr = n->enc;
    v.len = n->enc_len;
  }
  return v;
}

/* ---- setters -------------------------------------------------------------------------- */
/* Installs what `w` holds at `node` (a copy) and frees the writer. */
static int set_encoded(mls_tree_t *t, uint32_t node, uint8_t type, veil_writer_t *w) {
  int rc = w->err ? w->err : node_set_bytes(&t->nodes[node], type, w->buf, w->len);
  veil_writer_free(w);
  if (rc == 0)
    mls_tree_invalidate(t, node);
  return rc;
}

int mls_tree_set_leaf(mls_tree_t *t, uint32_t leaf_index, const mls_leaf_node_t *leaf) {
  if (leaf_index >= t->n_leaves)
    return VEIL_EMLS_LEAF_INDEX;
  veil_writer_t w;
  veil_writer_init_growable(&w, 256);
  mls_leaf_node_encode(&w, leaf);
  return set_encoded(t, mls_tm_leaf_to_node(leaf_index), MLS_NODE_LEAF, &w);
}

int mls_tree_set_leaf_encoded(mls_tree_t *t, uint32_t leaf_index, const uint8_t *enc,
                              size_t len) {
  if (leaf_index >= t->n_leaves)
    return VEIL_EMLS_LEAF_INDEX;
  uint32_t node = mls_tm_leaf_to_node(leaf_index);
  int rc = node_set_bytes(&t->nodes[node], MLS_NODE_LEAF, enc, len);
  if (rc == 0)
    mls_tree_invalidate(t, node);
  return rc;
}

int mls_tree_set_parent(mls_tree_t *t, uint32_t node, const mls_parent_node_t *parent) {
  if (node >= mls_tree_width(t) || mls_tm_is_leaf(node))
    return VEIL_EINVAL;
  veil_writer_t w;
  veil_writer_init_growable(&w, 128);
  mls_parent_node_encode(&w, parent);
  return set_encoded(t, node, MLS_NODE_PARENT, &w);
}

int mls_tree_blank(mls_tree_t *t, uint32_t node) {
  if (node >= mls_tree_width(t))
    return VEIL_EINVAL;
  node_clear(&t->nodes[node]);
  mls_tree_invalidate(t, node);
  return 0;
}

int mls_tree_blank_direct_path(mls_tree_t *t, uint32_t leaf_index) {
  uint32_t path[MLS_MAX_PATH];
  if (leaf_index >= t->n_leaves)
    return VEIL_EMLS_LEAF_INDEX;
  uint32_t n = mls_tm_direct_path(mls_tm_leaf_to_node(leaf_index), t->n_leaves, path);
  for (uint32_t i = 0; i < n; i++)
    mls_tree_blank(t, path[i]);
  return 0;
}

/* ---- Add / Update / Remove (§12.1.1-3, §7.7) ---------------------------------------- */
/* Appends `leaf_index` to a parent's unmerged_leaves (re-encoding the node). */
static int add_unmerged(mls_tree_t *t, uint32_t node, uint32_t leaf_index) {
  const mls_parent_node_t *p = &t->nodes[node].v.parent;
  veil_writer_t w;
  veil_writer_init_growable(&w, t->nodes[node].enc_len + 8);
  mls_write_opaque(&w, p->encryption_key);
  mls_write_opaque(&w, p->parent_hash);
  veil_wblock_t b;
  veil_writer_open_block(&w, VEIL_LEN_VARINT, &b);
  veil_write_bytes(&w, p->unmerged_leaves.raw.ptr, p->unmerged_leaves.raw.len);
  veil_write_u32(&w, leaf_index);
  veil_writer_close_block(&w, &b);
  return set_encoded(t, node, MLS_NODE_PARENT, &w);
}

int mls_tree_add(mls_tree_t *t, const mls_leaf_node_t *leaf, uint32_t *leaf_index) {
  uint32_t idx = 0;
  while (idx < t->n_leaves && t->nodes[mls_tm_leaf_to_node(idx)].type)
    idx++;
  int rc;
  /* No blank leaf: double the tree; the new right half is blank (§7.7). */
  if (idx == t->n_leaves && (rc = resize(t, t->n_leaves ? 2 * t->n_leaves : 1)))
    return rc;
  uint32_t path[MLS_MAX_PATH];
  uint32_t n = mls_tm_direct_path(mls_tm_leaf_to_node(idx), t->n_leaves, path);
  for (uint32_t i = 0; i < n; i++)
    if (t->nodes[path[i]].type == MLS_NODE_PARENT && (rc = add_unmerged(t, path[i], idx)))
      return rc;
  if ((rc = mls_tree_set_leaf(t, idx, leaf)))
    return rc;
  *leaf_index = idx;
  return 0;
}

int mls_tree_update(mls_tree_t *t, uint32_t leaf_index, const mls_leaf_node_t *leaf) {
  if (!mls_tree_leaf(t, leaf_index))
    return VEIL_EMLS_LEAF_INDEX;
  int rc = mls_tree_set_leaf(t, leaf_index, leaf);
  if (rc)
    return rc;
  return mls_tree_blank_direct_path(t, leaf_index);
}

int mls_tree_remove(mls_tree_t *t, uint32_t leaf_index) {
  if (!mls_tree_leaf(t, leaf_index))
    return VEIL_EMLS_LEAF_INDEX;
  mls_tree_blank(t, mls_tm_leaf_to_node(leaf_index));
  mls_tree_blank_direct_path(t, leaf_index);
  /* Truncate: drop the right half while it holds no member (§7.7). Its parent nodes
   * are blank too then: a non-blank parent always has a non-blank leaf below it. */
  while (t->n_leaves > 1) {
    uint32_t half = t->n_leaves / 2, any = 0;
    for (uint32_t l = half; l < t->n_leaves && !any; l++)
      any = t->nodes[mls_tm_leaf_to_node(l)].type != 0;
    if (any)
      break;
    int rc = resize(t, half);
    if (rc)
      return rc;
  }
  return 0;
}

int mls_tree_apply_proposal(mls_tree_t *t, const mls_proposal_t *p, uint32_t sender) {
  uint32_t idx;
  switch (p->type) {
  case MLS_PROP_ADD:
    return mls_tree_add(t, &p->u.add.leaf_node, &idx);
  case MLS_PROP_UPDATE:
    return mls_tree_update(t, sender, &p->u.update);
  case MLS_PROP_REMOVE:
    return mls_tree_remove(t, p->u.remove);
  default:
    return VEIL_EINVAL;
  }
}

/* ---- resolution and filtered direct path (§4.1.1, §4.1.2) ---------------------------- */
static int resolve(const mls_tree_t *t, uint32_t node, uint32_t *out, uint32_t cap,
                   uint32_t *n) {
  const mls_tnode_t *x = &t->nodes[node];
  if (x->type) {
    if (*n >= cap)
      return VEIL_EOVERFLOW;
    out[(*n)++] = node;
    if (x->type == MLS_NODE_PARENT) {
      const mls_list_t *u = &x->v.parent.unmerged_leaves;
      for (uint32_t i = 0; i < u->count; i++) {
        uint32_t leaf = mls_list_u32(u, i);
        /* An unvalidated tree may name leaves that do not exist: never hand out an
         * index the caller could use to read past the node array. */
        if (leaf >= t->n_leaves)
          return VEIL_EMLS_UNMERGED;
        if (*n >= cap)
          return VEIL_EOVERFLOW;
        out[(*n)++] = mls_tm_leaf_to_node(leaf);
      }
    }
    return 0;
  }
  if (mls_tm_is_leaf(node))
    return 0;
  int rc = resolve(t, mls_tm_left(node), out, cap, n);
  return rc ? rc : resolve(t, mls_tm_right(node), out, cap, n);
}

int mls_tree_resolution(const mls_tree_t *t, uint32_t node, uint32_t *out, uint32_t cap,
                        uint32_t *n) {
  *n = 0;
  if (node >= mls_tree_width(t))
    return VEIL_EINVAL;
  return resolve(t, node, out, cap, n);
}

/* 1 when the resolution of `node` is empty, i.e. the subtree holds no non-blank node.
 * Stops at the first non-blank node found; O(subtree) only for blank subtrees. */
static int subtree_empty(const mls_tree_t *t, uint32_t node) {
  if (t->nodes[node].type)
    return 0;
  if (mls_tm_is_leaf(node))
    return 1;
  return subtree_empty(t, mls_tm_left(node)) && subtree_empty(t, mls_tm_right(node));
}

int mls_tree_filtered_direct_path(const mls_tree_t *t, uint32_t leaf_index, uint32_t *path,
                                  uint32_t *copath_child, uint32_t *n) {
  *n = 0;
  if (leaf_index >= t->n_leaves)
    return VEIL_EMLS_LEAF_INDEX;
  uint32_t x = mls_tm_leaf_to_node(leaf_index), root = mls_tm_root(t->n_leaves);
  while (x != root) {
    uint32_t p = mls_tm_parent(x, t->n_leaves), s = mls_tm_sibling(x, t->n_leaves);
    if (!subtree_empty(t, s)) {
      path[*n] = p;
      copath_child[*n] = s;
      (*n)++;
    }
    x = p;
  }
  return 0;
}
