/*
 * veil MLS — Welcome (RFC 9420 §12.4.3.1). Contract in welcome.h.
 */
#include "clients/lib/mls/welcome.h"

#include <stdlib.h>
#include <string.h>

static const uint8_t NO_AAD[1];

void mls_welcome_join_free(mls_welcome_join_t *j) {
  if (!j)
    return;
  veil_writer_free(&j->secrets_plain);
  veil_writer_free(&j->info_plain);
  veil_writer_free(&j->group_context);
  mls_epoch_secrets_wipe(&j->epoch);
  memset(j, 0, sizeof(*j));
}

/* psk_secret over the GroupSecrets' PSK list, each resolved by the callback (§8.4). */
static int join_psk_secret(const mls_suite_t *s, const mls_list_t *list,
                           mls_psk_lookup_cb lookup, void *arg, uint8_t *out) {
  if (list->count == 0)
    return mls_ks_psk_secret(s, NULL, 0, out);
  if (list->count > MLS_WELCOME_MAX_PSKS)
    return VEIL_ELIMIT;
  if (!lookup)
    return VEIL_ENOTFOUND;
  mls_psk_id_t ids[MLS_WELCOME_MAX_PSKS];
  mls_ks_psk_t psks[MLS_WELCOME_MAX_PSKS];
  veil_reader_t r;
  mls_list_reader(list, &r);
  uint32_t reinit_or_branch = 0;
  for (uint32_t i = 0; i < list->count; i++) {
    int rc = mls_psk_id_decode(&r, &ids[i]);
    if (rc)
      return rc;
    /* §12.4.3.1: a resumption PSK for reinit or branch must be the only such PSK. */
    if (ids[i].psktype == MLS_PSK_RESUMPTION && (ids[i].usage == MLS_RESUMPTION_REINIT ||
                                                 ids[i].usage == MLS_RESUMPTION_BRANCH) &&
        ++reinit_or_branch > 1)
      return VEIL_EMLS_PSK;
    rc = lookup(arg, &ids[i], &psks[i].psk, &psks[i].psk_len);
    if (rc)
      return rc;
    psks[i].id = &ids[i];
  }
  return mls_ks_psk_secret(s, psks, list->count, out);
}

/* Finds and decrypts this joiner's GroupSecrets into j->secrets_plain and decodes it. */
static int open_group_secrets(const mls_suite_t *s, const mls_welcome_t *w,
                              const uint8_t *kp_ref, size_t kp_ref_len,
                              const uint8_t *init_priv, mls_welcome_join_t *j) {
  veil_reader_t r;
  mls_list_reader(&w->secrets, &r);
  for (uint32_t i = 0; i < w->secrets.count; i++) {
    mls_encrypted_group_secrets_t egs;
    int rc = mls_encrypted_group_secrets_decode(&r, &egs);
    if (rc)
      return rc;
    if (egs.new_member.len != kp_ref_len || memcmp(egs.new_member.ptr, kp_ref, kp_ref_len))
      continue;
    const mls_hpke_ciphertext_t *c = &egs.encrypted_group_secrets;
    if (c->ciphertext.len < MLS_AEAD_TAG_LEN)
      return VEIL_EDECODE;
    size_t len = c->ciphertext.len - MLS_AEAD_TAG_LEN;
    uint8_t *p = veil_writer_reserve(&j->secrets_plain, len ? len : 1);
    if (!p)
      return j->secrets_plain.err;
    rc = mls_decrypt_with_label(s, init_priv, "Welcome", w->encrypted_group_info.ptr,
                                w->encrypted_group_info.len, c->kem_output.ptr,
                                c->kem_output.len, c->ciphertext.ptr, c->ciphertext.len, p);
    if (rc)
      return rc;
    veil_writer_advance(&j->secrets_plain, len);
    veil_reader_t g;
    veil_reader_init(&g, j->secrets_plain.buf, j->secrets_plain.len);
    mls_group_secrets_decode(&g, &j->group_secrets);
    rc = veil_reader_finish(&g);
    if (rc)
      return rc;
    return j->group_secrets.joiner_secret.len == s->nh ? 0 : VEIL_EDECODE;
  }
  return VEIL_ENOTFOUND;
}

int mls_welcome_join(const mls_suite_t *s, const mls_welcome_t *w, const uint8_t *kp_ref,
                     size_t kp_ref_len, const uint8_t *init_priv, mls_psk_lookup_cb lookup,
                     void *lookup_arg, mls_welcome_join_t *out) {
  if (!s || !w || !kp_ref || !init_priv || !out)
    return VEIL_EINVAL;
  memset(out, 0, sizeof(*out));
  veil_writer_init_growable(&out->secrets_plain, 0);
  veil_writer_init_growable(&out->info_plain, 0);
  veil_writer_init_growable(&out->group_context, 0);
  uint8_t psk_secret[MLS_HASH_MAX], welcome_secret[MLS_HASH_MAX];
  uint8_t key[MLS_AEAD_KEY_MAX], nonce[MLS_AEAD_NONCE_LEN];
  int rc = w->cipher_suite == s->id ? 0 : VEIL_EMLS_SUITE;
  if (rc == 0)
    rc = open_group_secrets(s, w, kp_ref, kp_ref_len, init_priv, out);
  if (rc == 0)
    rc = join_psk_secret(s, &out->group_secrets.psks, lookup, lookup_arg, psk_secret);
  const uint8_t *joiner = out->group_secrets.joiner_secret.ptr;
  if (rc == 0)
    rc = mls_ks_welcome_secret(s, joiner, psk_secret, welcome_secret);
  if (rc == 0)
    rc = mls_ks_welcome_key_nonce(s, welcome_secret, key, nonce);
  if (rc)
    goto done;
  /* encrypted_group_info = AEAD.Seal(welcome_key, welcome_nonce, "", GroupInfo). */
  const veil_view_t *egi = &w->encrypted_group_info;
  if (egi->len < MLS_AEAD_TAG_LEN) {
    rc = VEIL_EDECODE;
    goto done;
  }
  size_t len = egi->len - MLS_AEAD_TAG_LEN;
  uint8_t *p = veil_writer_reserve(&out->info_plain, len ? len : 1);
  if (!p) {
    rc = out->info_plain.err;
    goto done;
  }
  rc = vc_aead_open(s->aead, key, nonce, NO_AAD, 0, egi->ptr, egi->len, p);
  if (rc)
    goto done;
  veil_writer_advance(&out->info_plain, len);
  veil_reader_t r;
  veil_reader_init(&r, out->info_plain.buf, out->info_plain.len);
  mls_group_info_decode(&r, &out->group_info);
  rc = veil_reader_finish(&r);
  if (rc)
    goto done;
  const mls_group_context_t *gc = &out->group_info.group_context;
  if (gc->cipher_suite != s->id) {
    rc = VEIL_EMLS_SUITE;
    goto done;
  }
  rc = mls_group_context_encode(&out->group_context, gc);
  if (rc == 0)
    rc = mls_ks_from_joiner(s, joiner, psk_secret, out->group_context.buf,
                            out->group_context.len, &out->epoch);
  /* §12.4.3.1: the confirmation tag must match the one derived for the joined epoch. */
  if (rc == 0 && mls_ks_verify_confirmation_tag(&out->epoch, gc->confirmed_transcript_hash.ptr,
                                                gc->confirmed_transcript_hash.len,
                                                out->group_info.confirmation_tag.ptr,
                                                out->group_info.confirmation_tag.len) != 0)
    rc = VEIL_EMLS_CONFIRMATION_TAG;
done:
  vc_wipe(psk_secret, sizeof(psk_secret));
  vc_wipe(welcome_secret, sizeof(welcome_secret));
  vc_wipe(key, sizeof(key));
  if (rc)
    mls_welcome_join_free(out);
  return rc;
}

int mls_group_info_sign(const mls_suite_t *s, const mls_group_info_t *gi,
                        const uint8_t *sig_priv, uint8_t *sig, size_t *sig_len) {
  if (!s || !gi || !sig_priv)
    return VEIL_EINVAL;
  veil_writer_t w;
  veil_writer_init_growable(&w, 0);
  int rc = mls_group_info_encode_tbs(&w, gi);
  if (rc == 0)
    rc = mls_sign_with_label(s, sig_priv, "GroupInfoTBS", w.buf, w.len, sig, sig_len);
  veil_writer_free(&w);
  return rc;
}

int mls_group_info_verify(const mls_suite_t *s, const mls_group_info_t *gi,
                          const uint8_t *signer_pub, size_t signer_pub_len) {
  if (!s || !gi || !signer_pub)
    return VEIL_EINVAL;
  veil_writer_t w;
  veil_writer_init_growable(&w, 0);
  int rc = mls_group_info_encode_tbs(&w, gi);
  if (rc == 0)
    rc = mls_verify_with_label(s, signer_pub, signer_pub_len, "GroupInfoTBS", w.buf, w.len,
                               gi->signature.ptr, gi->signature.len);
  veil_writer_free(&w);
  return rc;
}

/* One EncryptedGroupSecrets element for `m`, appended to `list`. */
static int seal_member(const mls_suite_t *s, const mls_group_secrets_t *gs,
                       const mls_welcome_member_t *m, veil_view_t egi, veil_writer_t *list) {
  veil_writer_t plain;
  veil_writer_init_growable(&plain, 0);
  uint8_t kem[MLS_KEM_OUTPUT_MAX];
  size_t kem_len = 0;
  uint8_t *ct = NULL;
  int rc = mls_group_secrets_encode(&plain, gs);
  if (rc == 0) {
    ct = malloc(plain.len + MLS_AEAD_TAG_LEN);
    rc = ct ? 0 : VEIL_ENOMEM;
  }
  if (rc == 0)
    rc = mls_encrypt_with_label(s, m->init_key.ptr, m->init_key.len, "Welcome", egi.ptr,
                                egi.len, plain.buf, plain.len, kem, &kem_len, ct);
  if (rc == 0) {
    mls_encrypted_group_secrets_t e = {
        .new_member = m->key_package_ref,
        .encrypted_group_secrets = {.kem_output = {kem, kem_len},
                                    .ciphertext = {ct, plain.len + MLS_AEAD_TAG_LEN}}};
    rc = mls_encrypted_group_secrets_encode(list, &e);
  }
  free(ct);
  veil_writer_free(&plain);
  return rc;
}

int mls_welcome_create(const mls_suite_t *s, const uint8_t *group_info, size_t group_info_len,
                       const uint8_t *joiner_secret, const uint8_t *psk_secret,
                       const mls_list_t *psks, const mls_welcome_member_t *members, size_t n,
                       veil_writer_t *out) {
  if (!s || !group_info || !joiner_secret || (n && !members) || !out || n > UINT32_MAX)
    return VEIL_EINVAL;
  uint8_t welcome_secret[MLS_HASH_MAX], key[MLS_AEAD_KEY_MAX], nonce[MLS_AEAD_NONCE_LEN];
  veil_writer_t egi, list;
  veil_writer_init_growable(&egi, 0);
  veil_writer_init_growable(&list, 0);
  int rc = mls_ks_welcome_secret(s, joiner_secret, psk_secret, welcome_secret);
  if (rc == 0)
    rc = mls_ks_welcome_key_nonce(s, welcome_secret, key, nonce);
  uint8_t *p = rc == 0 ? veil_writer_reserve(&egi, group_info_len + MLS_AEAD_TAG_LEN) : NULL;
  if (!p) {
    rc = rc ? rc : egi.err;
    goto done;
  }
  rc = vc_aead_seal(s->aead, key, nonce, NO_AAD, 0, group_info, group_info_len, p);
  if (rc)
    goto done;
  veil_writer_advance(&egi, group_info_len + MLS_AEAD_TAG_LEN);
  veil_view_t egi_view = {egi.buf, egi.len};
  mls_group_secrets_t gs = {.joiner_secret = {joiner_secret, s->nh}};
  if (psks)
    gs.psks = *psks;
  for (size_t i = 0; i < n && rc == 0; i++) {
    gs.has_path_secret = members[i].path_secret.len != 0;
    gs.path_secret = members[i].path_secret;
    rc = seal_member(s, &gs, &members[i], egi_view, &list);
  }
  if (rc)
    goto done;
  mls_welcome_t w = {.cipher_suite = s->id,
                     .secrets = {.raw = {list.buf, list.len}, .count = (uint32_t)n},
                     .encrypted_group_info = egi_view};
  veil_write_u16(out, MLS_VERSION_10);
  veil_write_u16(out, MLS_WF_WELCOME);
  rc = mls_welcome_encode(out, &w);
done:
  vc_wipe(welcome_secret, sizeof(welcome_secret));
  vc_wipe(key, sizeof(key));
  veil_writer_free(&egi);
  veil_writer_free(&list);
  return rc;
}
