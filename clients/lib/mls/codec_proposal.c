/*
 * MLS codec: UpdatePath (§7.6), PreSharedKeyID (§8.4), Proposal (§12.1),
 * ProposalOrRef and Commit (§12.4).
 */
#include <string.h>

#include "clients/lib/mls/codec.h"
#include "clients/lib/mls/codec_internal.h"

/* ---- UpdatePath ---------------------------------------------------------------------- */
int mls_update_path_node_decode(veil_reader_t *r, mls_update_path_node_t *out) {
  mls_read_opaque(r, &out->encryption_key);
  MLS_DECODE_LIST(r, &out->encrypted_path_secret, mls_hpke_ciphertext_t,
                  mls_hpke_ciphertext_decode);
  return r->err;
}

int mls_update_path_node_encode(veil_writer_t *w, const mls_update_path_node_t *in) {
  mls_write_opaque(w, in->encryption_key);
  return mls_list_encode(w, &in->encrypted_path_secret);
}

int mls_update_path_decode(veil_reader_t *r, mls_update_path_t *out) {
  mls_leaf_node_decode(r, &out->leaf_node);
  out->n_nodes = 0;
  veil_reader_t sub;
  mls_list_t list;
  if (mls_list_open(r, &sub, &list))
    return r->err;
  while (veil_reader_remaining(&sub)) {
    /* A direct path is at most log2(MLS_MAX_LEAVES) long: bound before storing. */
    if (out->n_nodes == MLS_MAX_PATH)
      return veil_reader_fail(r, VEIL_ELIMIT);
    if (mls_update_path_node_decode(&sub, &out->nodes[out->n_nodes]))
      break;
    out->n_nodes++;
  }
  return mls_list_close(r, &sub);
}

int mls_update_path_encode(veil_writer_t *w, const mls_update_path_t *in) {
  if (in->n_nodes > MLS_MAX_PATH)
    return veil_writer_fail(w, VEIL_EINVAL);
  mls_leaf_node_encode(w, &in->leaf_node);
  veil_wblock_t b;
  veil_writer_open_block(w, VEIL_LEN_VARINT, &b);
  for (uint32_t i = 0; i < in->n_nodes; i++)
    mls_update_path_node_encode(w, &in->nodes[i]);
  return veil_writer_close_block(w, &b);
}

/* ---- PreSharedKeyID (§8.4) ----------------------------------------------------------- */
int mls_psk_id_decode(veil_reader_t *r, mls_psk_id_t *out) {
  memset(out, 0, sizeof *out);
  if (veil_read_u8(r, &out->psktype))
    return r->err;
  switch (out->psktype) {
  case MLS_PSK_EXTERNAL:
    mls_read_opaque(r, &out->psk_id);
    break;
  case MLS_PSK_RESUMPTION:
    if (veil_read_u8(r, &out->usage))
      return r->err;
    if (out->usage < MLS_RESUMPTION_APPLICATION || out->usage > MLS_RESUMPTION_BRANCH)
      return veil_reader_fail(r, VEIL_EMLS_ENUM);
    mls_read_opaque(r, &out->psk_group_id);
    veil_read_u64(r, &out->psk_epoch);
    break;
  default:
    return veil_reader_fail(r, VEIL_EMLS_ENUM);
  }
  return mls_read_opaque(r, &out->psk_nonce);
}

int mls_psk_id_encode(veil_writer_t *w, const mls_psk_id_t *in) {
  veil_write_u8(w, in->psktype);
  switch (in->psktype) {
  case MLS_PSK_EXTERNAL:
    mls_write_opaque(w, in->psk_id);
    break;
  case MLS_PSK_RESUMPTION:
    veil_write_u8(w, in->usage);
    mls_write_opaque(w, in->psk_group_id);
    veil_write_u64(w, in->psk_epoch);
    break;
  default:
    return veil_writer_fail(w, VEIL_EMLS_ENUM);
  }
  return mls_write_opaque(w, in->psk_nonce);
}

/* ---- Proposal (§12.1) ---------------------------------------------------------------- */
int mls_proposal_body_decode(veil_reader_t *r, uint16_t type, mls_proposal_t *out) {
  out->type = type;
  switch (type) {
  case MLS_PROP_ADD:
    return mls_key_package_decode(r, &out->u.add);
  case MLS_PROP_UPDATE:
    return mls_leaf_node_decode(r, &out->u.update);
  case MLS_PROP_REMOVE:
    return veil_read_u32(r, &out->u.remove);
  case MLS_PROP_PSK:
    return mls_psk_id_decode(r, &out->u.psk);
  case MLS_PROP_REINIT:
    mls_read_opaque(r, &out->u.reinit.group_id);
    veil_read_u16(r, &out->u.reinit.version);
    veil_read_u16(r, &out->u.reinit.cipher_suite);
    return mls_extensions_decode(r, &out->u.reinit.extensions);
  case MLS_PROP_EXTERNAL_INIT:
    return mls_read_opaque(r, &out->u.external_init);
  case MLS_PROP_GROUP_CONTEXT_EXTENSIONS:
    return mls_extensions_decode(r, &out->u.group_context_extensions);
  default:
    /* An unknown proposal type has no parseable body (§13.2): reject. */
    return veil_reader_fail(r, VEIL_EMLS_ENUM);
  }
}

int mls_proposal_body_encode(veil_writer_t *w, const mls_proposal_t *in) {
  switch (in->type) {
  case MLS_PROP_ADD:
    return mls_key_package_encode(w, &in->u.add);
  case MLS_PROP_UPDATE:
    return mls_leaf_node_encode(w, &in->u.update);
  case MLS_PROP_REMOVE:
    return veil_write_u32(w, in->u.remove);
  case MLS_PROP_PSK:
    return mls_psk_id_encode(w, &in->u.psk);
  case MLS_PROP_REINIT:
    mls_write_opaque(w, in->u.reinit.group_id);
    veil_write_u16(w, in->u.reinit.version);
    veil_write_u16(w, in->u.reinit.cipher_suite);
    return mls_list_encode(w, &in->u.reinit.extensions);
  case MLS_PROP_EXTERNAL_INIT:
    return mls_write_opaque(w, in->u.external_init);
  case MLS_PROP_GROUP_CONTEXT_EXTENSIONS:
    return mls_list_encode(w, &in->u.group_context_extensions);
  default:
    return veil_writer_fail(w, VEIL_EMLS_ENUM);
  }
}

int mls_proposal_decode(veil_reader_t *r, mls_proposal_t *out) {
  uint16_t type;
  if (veil_read_u16(r, &type))
    return r->err;
  return mls_proposal_body_decode(r, type, out);
}

int mls_proposal_encode(veil_writer_t *w, const mls_proposal_t *in) {
  veil_write_u16(w, in->type);
  return mls_proposal_body_encode(w, in);
}

int mls_proposal_or_ref_decode(veil_reader_t *r, mls_proposal_or_ref_t *out) {
  if (veil_read_u8(r, &out->type))
    return r->err;
  switch (out->type) {
  case MLS_POR_PROPOSAL:
    out->reference.ptr = NULL;
    out->reference.len = 0;
    return mls_proposal_decode(r, &out->proposal);
  case MLS_POR_REFERENCE:
    return mls_read_opaque(r, &out->reference);
  default:
    return veil_reader_fail(r, VEIL_EMLS_ENUM);
  }
}

int mls_proposal_or_ref_encode(veil_writer_t *w, const mls_proposal_or_ref_t *in) {
  veil_write_u8(w, in->type);
  switch (in->type) {
  case MLS_POR_PROPOSAL:
    return mls_proposal_encode(w, &in->proposal);
  case MLS_POR_REFERENCE:
    return mls_write_opaque(w, in->reference);
  default:
    return veil_writer_fail(w, VEIL_EMLS_ENUM);
  }
}

/* ---- Commit (§12.4) ------------------------------------------------------------------ */
int mls_commit_decode(veil_reader_t *r, mls_commit_t *out) {
  MLS_DECODE_LIST(r, &out->proposals, mls_proposal_or_ref_t, mls_proposal_or_ref_decode);
  if (mls_read_optional(r, &out->has_path))
    return r->err;
  if (out->has_path)
    return mls_update_path_decode(r, &out->path);
  return 0;
}

int mls_commit_encode(veil_writer_t *w, const mls_commit_t *in) {
  mls_list_encode(w, &in->proposals);
  veil_write_u8(w, in->has_path ? 1 : 0);
  if (in->has_path)
    return mls_update_path_encode(w, &in->path);
  return w->err;
}
