/*
 * veil MLS — the key schedule (RFC 9420 §8) and the PSK secret chain (§8.4).
 *
 * Every intermediate secret lives in a stack buffer wiped before return, on success and
 * on failure alike (one cleanup label per function). Derived secrets are written straight
 * into the caller's mls_epoch_secrets_t; on failure the whole struct is wiped so a caller
 * never keeps a half-derived epoch.
 */
#include "clients/lib/mls/key_schedule.h"

#include <string.h>

#include "common/bytes.h"

static const uint8_t ZERO[MLS_HASH_MAX];

int mls_ks_joiner_secret(const mls_suite_t *s, const uint8_t *init_secret,
                         const uint8_t *commit_secret, const uint8_t *group_context,
                         size_t group_context_len, uint8_t *joiner_secret) {
  if (!s || !init_secret || !joiner_secret)
    return VEIL_EINVAL;
  uint8_t prk[MLS_HASH_MAX];
  /* KDF.Extract takes init_secret as salt, commit_secret as IKM (Figure 22). */
  int rc = mls_extract(s, init_secret, s->nh, commit_secret ? commit_secret : ZERO, s->nh,
                       prk);
  if (rc == 0)
    rc = mls_expand_with_label(s, prk, s->nh, "joiner", group_context, group_context_len,
                               joiner_secret, s->nh);
  vc_wipe(prk, sizeof(prk));
  return rc;
}

int mls_ks_welcome_secret(const mls_suite_t *s, const uint8_t *joiner_secret,
                          const uint8_t *psk_secret, uint8_t *welcome_secret) {
  if (!s || !joiner_secret || !welcome_secret)
    return VEIL_EINVAL;
  uint8_t member[MLS_HASH_MAX];
  int rc = mls_extract(s, joiner_secret, s->nh, psk_secret ? psk_secret : ZERO, s->nh, member);
  if (rc == 0)
    rc = mls_derive_secret(s, member, s->nh, "welcome", welcome_secret);
  vc_wipe(member, sizeof(member));
  return rc;
}

/* Table 4: each epoch-derived secret is DeriveSecret(epoch_secret, label). */
static int derive_table4(const mls_suite_t *s, const uint8_t *epoch_secret,
                         mls_epoch_secrets_t *out) {
  static const struct {
    const char *label;
    size_t off;
  } T[] = {
      {"sender data", offsetof(mls_epoch_secrets_t, sender_data_secret)},
      {"encryption", offsetof(mls_epoch_secrets_t, encryption_secret)},
      {"exporter", offsetof(mls_epoch_secrets_t, exporter_secret)},
      {"external", offsetof(mls_epoch_secrets_t, external_secret)},
      {"confirm", offsetof(mls_epoch_secrets_t, confirmation_key)},
      {"membership", offsetof(mls_epoch_secrets_t, membership_key)},
      {"resumption", offsetof(mls_epoch_secrets_t, resumption_psk)},
      {"authentication", offsetof(mls_epoch_secrets_t, epoch_authenticator)},
      {"init", offsetof(mls_epoch_secrets_t, init_secret)},
  };
  for (size_t i = 0; i < sizeof(T) / sizeof(T[0]); i++) {
    int rc = mls_derive_secret(s, epoch_secret, s->nh, T[i].label, (uint8_t *)out + T[i].off);
    if (rc)
      return rc;
  }
  return 0;
}

int mls_ks_from_joiner(const mls_suite_t *s, const uint8_t *joiner_secret,
                       const uint8_t *psk_secret, const uint8_t *group_context,
                       size_t group_context_len, mls_epoch_secrets_t *out) {
  if (!s || !joiner_secret || !out)
    return VEIL_EINVAL;
  memset(out, 0, sizeof(*out));
  out->suite = s;
  out->nh = s->nh;
  uint8_t member[MLS_HASH_MAX], epoch[MLS_HASH_MAX];
  /* Extract(salt = joiner_secret, ikm = psk_secret or 0). */
  int rc = mls_extract(s, joiner_secret, s->nh, psk_secret ? psk_secret : ZERO, s->nh, member);
  if (rc)
    goto done;
  rc = mls_derive_secret(s, member, s->nh, "welcome", out->welcome_secret);
  if (rc)
    goto done;
  rc = mls_expand_with_label(s, member, s->nh, "epoch", group_context, group_context_len,
                             epoch, s->nh);
  if (rc)
    goto done;
  rc = derive_table4(s, epoch, out);
done:
  vc_wipe(member, sizeof(member));
  vc_wipe(epoch, sizeof(epoch));
  if (rc)
    mls_epoch_secrets_wipe(out);
  return rc;
}

int mls_ks_advance(const mls_suite_t *s, const uint8_t *init_secret,
                   const uint8_t *commit_secret, const uint8_t *psk_secret,
                   const uint8_t *group_context, size_t group_context_len,
                   mls_epoch_secrets_t *out, uint8_t *joiner_out) {
  uint8_t joiner[MLS_HASH_MAX];
  int rc = mls_ks_joiner_secret(s, init_secret, commit_secret, group_context,
                                group_context_len, joiner);
  if (rc == 0)
    rc = mls_ks_from_joiner(s, joiner, psk_secret, group_context, group_context_len, out);
  if (rc == 0 && joiner_out)
    memcpy(joiner_out, joiner, s->nh);
  vc_wipe(joiner, sizeof(joiner));
  return rc;
}

int mls_ks_from_epoch_secret(const mls_suite_t *s, const uint8_t *epoch_secret,
                             mls_epoch_secrets_t *out) {
  if (!s || !epoch_secret || !out)
    return VEIL_EINVAL;
  memset(out, 0, sizeof(*out));
  out->suite = s;
  out->nh = s->nh;
  int rc = derive_table4(s, epoch_secret, out);
  if (rc)
    mls_epoch_secrets_wipe(out);
  return rc;
}

int mls_ks_export(const mls_epoch_secrets_t *e, const uint8_t *label, size_t label_len,
                  const uint8_t *context, size_t context_len, uint8_t *out, size_t out_len) {
  if (!e || !e->suite)
    return VEIL_EINVAL;
  const mls_suite_t *s = e->suite;
  uint8_t derived[MLS_HASH_MAX], ctx_hash[MLS_HASH_MAX];
  /* MLS-Exporter = ExpandWithLabel(DeriveSecret(exporter_secret, Label), "exported",
   * Hash(Context), Length) (§8.5). */
  int rc = mls_expand_with_label_n(s, e->exporter_secret, s->nh, label, label_len, NULL, 0,
                                   derived, s->nh);
  if (rc == 0)
    rc = mls_hash(s, context, context_len, ctx_hash);
  if (rc == 0)
    rc = mls_expand_with_label(s, derived, s->nh, "exported", ctx_hash, s->nh, out, out_len);
  vc_wipe(derived, sizeof(derived));
  return rc;
}

int mls_ks_external_key_pair(const mls_epoch_secrets_t *e, uint8_t *priv, uint8_t *pub) {
  if (!e || !e->suite)
    return VEIL_EINVAL;
  return mls_derive_key_pair(e->suite, e->external_secret, e->nh, priv, pub);
}

static const char EXTERNAL_INIT_LABEL[] = "MLS 1.0 external init secret";

int mls_ks_external_init_encap(const mls_suite_t *s, const uint8_t *external_pub,
                               size_t external_pub_len, uint8_t *kem_output,
                               size_t *kem_output_len, uint8_t *init_secret) {
  if (!s || !external_pub || !kem_output || !kem_output_len || !init_secret)
    return VEIL_EINVAL;
  hpke_ctx_t ctx;
  int rc = hpke_setup_sender(&ctx, s->hpke, HPKE_MODE_BASE, external_pub, external_pub_len,
                             NULL, 0, NULL, NULL, 0, kem_output, kem_output_len);
  if (rc == 0)
    rc = hpke_export(&ctx, (const uint8_t *)EXTERNAL_INIT_LABEL,
                     sizeof(EXTERNAL_INIT_LABEL) - 1, init_secret, s->nh);
  hpke_ctx_wipe(&ctx);
  return rc;
}

int mls_ks_external_init_decap(const mls_epoch_secrets_t *e, const uint8_t *kem_output,
                               size_t kem_output_len, uint8_t *init_secret) {
  if (!e || !e->suite || !kem_output || !init_secret)
    return VEIL_EINVAL;
  const mls_suite_t *s = e->suite;
  uint8_t priv[MLS_HPKE_SK_MAX], pub[MLS_HPKE_PK_MAX];
  hpke_ctx_t ctx;
  memset(&ctx, 0, sizeof(ctx));
  int rc = mls_ks_external_key_pair(e, priv, pub);
  if (rc == 0)
    rc = hpke_setup_receiver(&ctx, s->hpke, HPKE_MODE_BASE, kem_output, kem_output_len, priv,
                             NULL, 0, NULL);
  if (rc == 0)
    rc = hpke_export(&ctx, (const uint8_t *)EXTERNAL_INIT_LABEL,
                     sizeof(EXTERNAL_INIT_LABEL) - 1, init_secret, s->nh);
  hpke_ctx_wipe(&ctx);
  vc_wipe(priv, sizeof(priv));
  return rc;
}

int mls_ks_welcome_key_nonce(const mls_suite_t *s, const uint8_t *welcome_secret,
                             uint8_t *key, uint8_t *nonce) {
  if (!s)
    return VEIL_EINVAL;
  int rc = mls_expand_with_label(s, welcome_secret, s->nh, "key", NULL, 0, key, s->nk);
  if (rc == 0)
    rc = mls_expand_with_label(s, welcome_secret, s->nh, "nonce", NULL, 0, nonce, s->nn);
  if (rc)
    vc_wipe(key, s->nk);
  return rc;
}

int mls_ks_confirmation_tag(const mls_epoch_secrets_t *e, const uint8_t *cth, size_t cth_len,
                            uint8_t *out) {
  if (!e || !e->suite)
    return VEIL_EINVAL;
  return mls_mac(e->suite, e->confirmation_key, e->nh, cth, cth_len, out);
}

int mls_ks_verify_confirmation_tag(const mls_epoch_secrets_t *e, const uint8_t *cth,
                                   size_t cth_len, const uint8_t *tag, size_t tag_len) {
  if (!e || !e->suite)
    return VEIL_EINVAL;
  return mls_mac_verify(e->suite, e->confirmation_key, e->nh, cth, cth_len, tag, tag_len);
}

int mls_ks_membership_tag(const mls_epoch_secrets_t *e, const uint8_t *tbm, size_t tbm_len,
                          uint8_t *out) {
  if (!e || !e->suite)
    return VEIL_EINVAL;
  return mls_mac(e->suite, e->membership_key, e->nh, tbm, tbm_len, out);
}

void mls_epoch_secrets_consume_encryption(mls_epoch_secrets_t *e) {
  if (e)
    vc_wipe(e->encryption_secret, sizeof(e->encryption_secret));
}

void mls_epoch_secrets_wipe(mls_epoch_secrets_t *e) {
  if (e)
    vc_wipe(e, sizeof(*e));
}

/* ---- §8.4 ---------------------------------------------------------------------------- */

/* PSKLabel { PreSharedKeyID id; uint16 index; uint16 count; } (§8.4). */
static int write_psk_label(veil_writer_t *w, const mls_psk_id_t *id, uint16_t index,
                           uint16_t count) {
  if (!id)
    return veil_writer_fail(w, VEIL_EINVAL);
  mls_psk_id_encode(w, id);
  veil_write_u16(w, index);
  veil_write_u16(w, count);
  return w->err;
}

int mls_ks_psk_secret(const mls_suite_t *s, const mls_ks_psk_t *psks, size_t n, uint8_t *out) {
  if (!s || !out || (n && !psks) || n > 0xFFFF)
    return VEIL_EINVAL;
  uint8_t secret[MLS_HASH_MAX] = {0}, extracted[MLS_HASH_MAX], input[MLS_HASH_MAX];
  veil_writer_t w;
  veil_writer_init_growable(&w, 0);
  int rc = 0;
  for (size_t i = 0; i < n; i++) {
    /* psk_extracted_[i] = Extract(0, psk_[i]); psk_input_[i] = ExpandWithLabel(...,
     * "derived psk", PSKLabel, Nh); psk_secret_[i+1] = Extract(psk_input_[i],
     * psk_secret_[i]). */
    rc = mls_extract(s, ZERO, s->nh, psks[i].psk, psks[i].psk_len, extracted);
    if (rc)
      goto done;
    w.len = 0;
    rc = write_psk_label(&w, psks[i].id, (uint16_t)i, (uint16_t)n);
    if (rc)
      goto done;
    rc = mls_expand_with_label(s, extracted, s->nh, "derived psk", w.buf, w.len, input, s->nh);
    if (rc)
      goto done;
    /* `extracted` is consumed by now: reuse it so Extract never writes over its input. */
    rc = mls_extract(s, input, s->nh, secret, s->nh, extracted);
    if (rc)
      goto done;
    memcpy(secret, extracted, s->nh);
  }
  memcpy(out, secret, s->nh);
done:
  vc_wipe(secret, sizeof(secret));
  vc_wipe(extracted, sizeof(extracted));
  vc_wipe(input, sizeof(input));
  veil_writer_free(&w);
  return rc;
}
