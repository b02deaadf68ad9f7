/*
 * MLS codec: GroupContext (§8.1), GroupInfo, GroupSecrets, EncryptedGroupSecrets and
 * Welcome (§12.4.3).
 */
#include <string.h>

#include "clients/lib/mls/codec.h"
#include "clients/lib/mls/codec_internal.h"

int mls_group_context_decode(veil_reader_t *r, mls_group_context_t *out) {
  if (veil_read_u16(r, &out->version))
    return r->err;
  if (out->version != MLS_VERSION_10)
    return veil_reader_fail(r, VEIL_EMLS_VERSION);
  veil_read_u16(r, &out->cipher_suite);
  mls_read_opaque(r, &out->group_id);
  veil_read_u64(r, &out->epoch);
  mls_read_opaque(r, &out->tree_hash);
  mls_read_opaque(r, &out->confirmed_transcript_hash);
  return mls_extensions_decode(r, &out->extensions);
}

int mls_group_context_encode(veil_writer_t *w, const mls_group_context_t *in) {
  veil_write_u16(w, in->version);
  veil_write_u16(w, in->cipher_suite);
  mls_write_opaque(w, in->group_id);
  veil_write_u64(w, in->epoch);
  mls_write_opaque(w, in->tree_hash);
  mls_write_opaque(w, in->confirmed_transcript_hash);
  return mls_list_encode(w, &in->extensions);
}

int mls_group_info_decode(veil_reader_t *r, mls_group_info_t *out) {
  const uint8_t *start = r->p;
  mls_group_context_decode(r, &out->group_context);
  mls_extensions_decode(r, &out->extensions);
  mls_read_opaque(r, &out->confirmation_tag);
  if (veil_read_u32(r, &out->signer))
    return r->err;
  out->tbs.ptr = start;
  out->tbs.len = (size_t)(r->p - start);
  return mls_read_opaque(r, &out->signature);
}

int mls_group_info_encode_tbs(veil_writer_t *w, const mls_group_info_t *in) {
  mls_group_context_encode(w, &in->group_context);
  mls_list_encode(w, &in->extensions);
  mls_write_opaque(w, in->confirmation_tag);
  return veil_write_u32(w, in->signer);
}

int mls_group_info_encode(veil_writer_t *w, const mls_group_info_t *in) {
  mls_group_info_encode_tbs(w, in);
  return mls_write_opaque(w, in->signature);
}

int mls_group_secrets_decode(veil_reader_t *r, mls_group_secrets_t *out) {
  mls_read_opaque(r, &out->joiner_secret);
  out->path_secret.ptr = NULL;
  out->path_secret.len = 0;
  if (mls_read_optional(r, &out->has_path_secret))
    return r->err;
  if (out->has_path_secret)
    mls_read_opaque(r, &out->path_secret); /* optional<PathSecret{opaque path_secret<V>}> */
  MLS_DECODE_LIST(r, &out->psks, mls_psk_id_t, mls_psk_id_decode);
  return r->err;
}

int mls_group_secrets_encode(veil_writer_t *w, const mls_group_secrets_t *in) {
  mls_write_opaque(w, in->joiner_secret);
  veil_write_u8(w, in->has_path_secret ? 1 : 0);
  if (in->has_path_secret)
    mls_write_opaque(w, in->path_secret);
  return mls_list_encode(w, &in->psks);
}

int mls_encrypted_group_secrets_decode(veil_reader_t *r, mls_encrypted_group_secrets_t *out) {
  mls_read_opaque(r, &out->new_member);
  return mls_hpke_ciphertext_decode(r, &out->encrypted_group_secrets);
}

int mls_encrypted_group_secrets_encode(veil_writer_t *w,
                                       const mls_encrypted_group_secrets_t *in) {
  mls_write_opaque(w, in->new_member);
  return mls_hpke_ciphertext_encode(w, &in->encrypted_group_secrets);
}

int mls_welcome_decode(veil_reader_t *r, mls_welcome_t *out) {
  veil_read_u16(r, &out->cipher_suite);
  MLS_DECODE_LIST(r, &out->secrets, mls_encrypted_group_secrets_t,
                  mls_encrypted_group_secrets_decode);
  return mls_read_opaque(r, &out->encrypted_group_info);
}

int mls_welcome_encode(veil_writer_t *w, const mls_welcome_t *in) {
  veil_write_u16(w, in->cipher_suite);
  mls_list_encode(w, &in->secrets);
  return mls_write_opaque(w, in->encrypted_group_info);
}
