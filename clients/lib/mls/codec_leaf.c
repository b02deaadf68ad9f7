/*
 * MLS codec: LeafNode (§7.2), KeyPackage (§10), ParentNode (§7.1).
 */
#include <string.h>

#include "clients/lib/mls/codec.h"
#include "clients/lib/mls/codec_internal.h"

/* ---- LeafNode ------------------------------------------------------------------------ */
/* Everything before the signature: the LeafNodeTBS prefix shared with the encoding. */
static int leaf_node_decode_content(veil_reader_t *r, mls_leaf_node_t *out) {
  mls_read_opaque(r, &out->encryption_key);
  mls_read_opaque(r, &out->signature_key);
  mls_credential_decode(r, &out->credential);
  mls_capabilities_decode(r, &out->capabilities);
  if (veil_read_u8(r, &out->source))
    return r->err;
  switch (out->source) {
  case MLS_LEAF_SRC_KEY_PACKAGE:
    veil_read_u64(r, &out->lifetime.not_before);
    veil_read_u64(r, &out->lifetime.not_after);
    break;
  case MLS_LEAF_SRC_UPDATE:
    break;
  case MLS_LEAF_SRC_COMMIT:
    mls_read_opaque(r, &out->parent_hash);
    break;
  default:
    return veil_reader_fail(r, VEIL_EMLS_ENUM);
  }
  return mls_extensions_decode(r, &out->extensions);
}

int mls_leaf_node_decode(veil_reader_t *r, mls_leaf_node_t *out) {
  memset(out, 0, sizeof *out);
  leaf_node_decode_content(r, out);
  return mls_read_opaque(r, &out->signature);
}

static int leaf_node_encode_content(veil_writer_t *w, const mls_leaf_node_t *in) {
  mls_write_opaque(w, in->encryption_key);
  mls_write_opaque(w, in->signature_key);
  mls_credential_encode(w, &in->credential);
  mls_capabilities_encode(w, &in->capabilities);
  veil_write_u8(w, in->source);
  switch (in->source) {
  case MLS_LEAF_SRC_KEY_PACKAGE:
    veil_write_u64(w, in->lifetime.not_before);
    veil_write_u64(w, in->lifetime.not_after);
    break;
  case MLS_LEAF_SRC_UPDATE:
    break;
  case MLS_LEAF_SRC_COMMIT:
    mls_write_opaque(w, in->parent_hash);
    break;
  default:
    return veil_writer_fail(w, VEIL_EMLS_ENUM);
  }
  return mls_list_encode(w, &in->extensions);
}

int mls_leaf_node_encode(veil_writer_t *w, const mls_leaf_node_t *in) {
  leaf_node_encode_content(w, in);
  return mls_write_opaque(w, in->signature);
}

int mls_leaf_node_encode_tbs(veil_writer_t *w, const mls_leaf_node_t *in, veil_view_t group_id,
                             uint32_t leaf_index) {
  leaf_node_encode_content(w, in);
  /* §7.2: update and commit leaves bind the group and their position in it. */
  if (in->source == MLS_LEAF_SRC_UPDATE || in->source == MLS_LEAF_SRC_COMMIT) {
    mls_write_opaque(w, group_id);
    veil_write_u32(w, leaf_index);
  }
  return w->err;
}

/* ---- KeyPackage ---------------------------------------------------------------------- */
int mls_key_package_decode(veil_reader_t *r, mls_key_package_t *out) {
  memset(out, 0, sizeof *out);
  const uint8_t *start = r->p;
  if (veil_read_u16(r, &out->version))
    return r->err;
  if (out->version != MLS_VERSION_10)
    return veil_reader_fail(r, VEIL_EMLS_VERSION);
  veil_read_u16(r, &out->cipher_suite);
  mls_read_opaque(r, &out->init_key);
  mls_leaf_node_decode(r, &out->leaf_node);
  if (mls_extensions_decode(r, &out->extensions))
    return r->err;
  out->tbs.ptr = start;
  out->tbs.len = (size_t)(r->p - start);
  return mls_read_opaque(r, &out->signature);
}

int mls_key_package_encode_tbs(veil_writer_t *w, const mls_key_package_t *in) {
  veil_write_u16(w, in->version);
  veil_write_u16(w, in->cipher_suite);
  mls_write_opaque(w, in->init_key);
  mls_leaf_node_encode(w, &in->leaf_node);
  return mls_list_encode(w, &in->extensions);
}

int mls_key_package_encode(veil_writer_t *w, const mls_key_package_t *in) {
  mls_key_package_encode_tbs(w, in);
  return mls_write_opaque(w, in->signature);
}

/* ---- ParentNode ---------------------------------------------------------------------- */
int mls_parent_node_decode(veil_reader_t *r, mls_parent_node_t *out) {
  memset(out, 0, sizeof *out);
  mls_read_opaque(r, &out->encryption_key);
  mls_read_opaque(r, &out->parent_hash);
  if (mls_read_int_list(r, 4, &out->unmerged_leaves))
    return r->err;
  /* Unmerged leaves are kept sorted by the tree code (§7.7 appends in increasing leaf
   * order); a repeated entry can never be legitimate. Order itself is checked by tree
   * validation, which knows the tree; here only duplicates of the previous entry. */
  for (uint32_t i = 1; i < out->unmerged_leaves.count; i++)
    if (mls_list_u32(&out->unmerged_leaves, i) == mls_list_u32(&out->unmerged_leaves, i - 1))
      return veil_reader_fail(r, VEIL_EMLS_UNMERGED);
  return 0;
}

int mls_parent_node_encode(veil_writer_t *w, const mls_parent_node_t *in) {
  mls_write_opaque(w, in->encryption_key);
  mls_write_opaque(w, in->parent_hash);
  return mls_list_encode(w, &in->unmerged_leaves);
}
