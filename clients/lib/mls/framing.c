/*
 * veil MLS — message protection (RFC 9420 §6). Contract in framing.h.
 *
 * Every to-be-signed / to-be-MACed structure is written by the codec's encoders into a
 * growable writer and hashed from there; every plaintext buffer is a writer that
 * veil_writer_free wipes. Ratchet keys are wiped on every path out.
 */
#include "clients/lib/mls/framing.h"

#include <string.h>

#define SENDER_DATA_LEN 12 /* SenderData: uint32 leaf_index, uint32 generation, 4 bytes */

int mls_framing_ctx_init(mls_framing_ctx_t *ctx, const mls_suite_t *s,
                         const uint8_t *group_context, size_t group_context_len,
                         const uint8_t *membership_key, const uint8_t *sender_data_secret,
                         mls_secret_tree_t *secret_tree) {
  if (!ctx || !s || !group_context)
    return VEIL_EINVAL;
  mls_group_context_t gc;
  veil_reader_t r;
  veil_reader_init(&r, group_context, group_context_len);
  mls_group_context_decode(&r, &gc);
  int rc = veil_reader_finish(&r);
  if (rc)
    return rc;
  if (gc.cipher_suite != s->id)
    return VEIL_EMLS_SUITE;
  *ctx = (mls_framing_ctx_t){
      .suite = s,
      .group_context = {group_context, group_context_len},
      .group_id = gc.group_id,
      .epoch = gc.epoch,
      .membership_key = membership_key,
      .sender_data_secret = sender_data_secret,
      .secret_tree = secret_tree,
      .pad_to = 32,
  };
  return 0;
}

static int check_group(const mls_framing_ctx_t *ctx, veil_view_t group_id, uint64_t epoch) {
  if (group_id.len != ctx->group_id.len ||
      (group_id.len && memcmp(group_id.ptr, ctx->group_id.ptr, group_id.len) != 0))
    return VEIL_EMLS_WRONG_GROUP;
  if (epoch != ctx->epoch)
    return VEIL_EMLS_WRONG_EPOCH;
  return 0;
}

/* Commits carry a confirmation tag of Nh bytes; other content types carry none (§6.1). */
static int check_confirmation_tag(const mls_framing_ctx_t *ctx, uint8_t content_type,
                                  veil_view_t tag) {
  if (content_type == MLS_CT_COMMIT)
    return tag.len == ctx->suite->nh ? 0 : VEIL_EINVAL;
  return tag.len == 0 ? 0 : VEIL_EINVAL;
}

int mls_framing_sign(const mls_framing_ctx_t *ctx, uint16_t wire_format,
                     const mls_framed_content_t *content, const uint8_t *sig_priv,
                     uint8_t *sig, size_t *sig_len) {
  if (!ctx || !content || !sig_priv)
    return VEIL_EINVAL;
  veil_writer_t w;
  veil_writer_init_growable(&w, 0);
  int rc = mls_framed_content_tbs_encode(&w, wire_format, content, ctx->group_context);
  if (rc == 0)
    rc = mls_sign_with_label(ctx->suite, sig_priv, "FramedContentTBS", w.buf, w.len, sig,
                             sig_len);
  veil_writer_free(&w);
  return rc;
}

int mls_framing_verify(const mls_framing_ctx_t *ctx, const mls_authenticated_content_t *ac,
                       const uint8_t *sig_pub, size_t sig_pub_len) {
  if (!ctx || !ac || !sig_pub)
    return VEIL_EINVAL;
  veil_writer_t w;
  veil_writer_init_growable(&w, 0);
  int rc = mls_framed_content_tbs_encode(&w, ac->wire_format, &ac->content, ctx->group_context);
  if (rc == 0)
    rc = mls_verify_with_label(ctx->suite, sig_pub, sig_pub_len, "FramedContentTBS", w.buf,
                               w.len, ac->auth.signature.ptr, ac->auth.signature.len);
  veil_writer_free(&w);
  return rc;
}

/* membership_tag = MAC(membership_key, AuthenticatedContentTBM), where TBM is the
 * FramedContentTBS (wire format PublicMessage) followed by FramedContentAuthData. */
static int membership_tag(const mls_framing_ctx_t *ctx, const mls_framed_content_t *content,
                          const mls_framed_content_auth_t *auth, uint8_t *tag) {
  if (!ctx->membership_key)
    return VEIL_ESTATE;
  veil_writer_t w;
  veil_writer_init_growable(&w, 0);
  mls_framed_content_tbs_encode(&w, MLS_WF_PUBLIC_MESSAGE, content, ctx->group_context);
  int rc = mls_framed_content_auth_encode(&w, content->content_type, auth);
  if (rc == 0)
    rc = mls_mac(ctx->suite, ctx->membership_key, ctx->suite->nh, w.buf, w.len, tag);
  veil_writer_free(&w);
  return rc;
}

/* ---- PublicMessage ------------------------------------------------------------------ */

int mls_public_protect(const mls_framing_ctx_t *ctx, const mls_framed_content_t *content,
                       const uint8_t *sig_priv, veil_view_t confirmation_tag,
                       veil_writer_t *out) {
  if (!ctx || !content || !sig_priv || !out)
    return VEIL_EINVAL;
  /* §6.2: application data MUST NOT be sent as a PublicMessage. */
  if (content->content_type == MLS_CT_APPLICATION)
    return VEIL_EMLS_PUBLIC_APPLICATION;
  int rc = check_group(ctx, content->group_id, content->epoch);
  if (rc == 0)
    rc = check_confirmation_tag(ctx, content->content_type, confirmation_tag);
  if (rc)
    return rc;
  uint8_t sig[MLS_SIG_MAX], tag[MLS_HASH_MAX];
  size_t sig_len = 0;
  rc = mls_framing_sign(ctx, MLS_WF_PUBLIC_MESSAGE, content, sig_priv, sig, &sig_len);
  if (rc)
    return rc;
  mls_public_message_t pm = {.content = *content,
                             .auth = {.signature = {sig, sig_len},
                                      .confirmation_tag = confirmation_tag}};
  if (content->sender.type == MLS_SENDER_MEMBER) {
    rc = membership_tag(ctx, content, &pm.auth, tag);
    if (rc)
      return rc;
    pm.membership_tag = (veil_view_t){tag, ctx->suite->nh};
  }
  veil_write_u16(out, MLS_VERSION_10);
  veil_write_u16(out, MLS_WF_PUBLIC_MESSAGE);
  return mls_public_message_encode(out, &pm);
}

int mls_public_encode_signed(const mls_framing_ctx_t *ctx, const mls_framed_content_t *content,
                             const mls_framed_content_auth_t *auth, veil_writer_t *out) {
  if (!ctx || !content || !auth || !out)
    return VEIL_EINVAL;
  if (content->content_type == MLS_CT_APPLICATION)
    return VEIL_EMLS_PUBLIC_APPLICATION;
  int rc = check_group(ctx, content->group_id, content->epoch);
  if (rc == 0)
    rc = check_confirmation_tag(ctx, content->content_type, auth->confirmation_tag);
  if (rc)
    return rc;
  uint8_t tag[MLS_HASH_MAX];
  mls_public_message_t pm = {.content = *content, .auth = *auth};
  if (content->sender.type == MLS_SENDER_MEMBER) {
    rc = membership_tag(ctx, content, &pm.auth, tag);
    if (rc)
      return rc;
    pm.membership_tag = (veil_view_t){tag, ctx->suite->nh};
  }
  veil_write_u16(out, MLS_VERSION_10);
  veil_write_u16(out, MLS_WF_PUBLIC_MESSAGE);
  return mls_public_message_encode(out, &pm);
}

int mls_public_unprotect(const mls_framing_ctx_t *ctx, const mls_public_message_t *pm,
                         mls_authenticated_content_t *out) {
  if (!ctx || !pm || !out)
    return VEIL_EINVAL;
  int rc = check_group(ctx, pm->content.group_id, pm->content.epoch);
  if (rc)
    return rc;
  if (pm->content.content_type == MLS_CT_APPLICATION)
    return VEIL_EMLS_PUBLIC_APPLICATION;
  if (pm->content.sender.type == MLS_SENDER_MEMBER) {
    uint8_t tag[MLS_HASH_MAX];
    rc = membership_tag(ctx, &pm->content, &pm->auth, tag);
    if (rc)
      return rc;
    if (pm->membership_tag.len != ctx->suite->nh ||
        !vc_ct_equal(tag, pm->membership_tag.ptr, ctx->suite->nh))
      return VEIL_EMLS_MEMBERSHIP_TAG;
  }
  out->wire_format = MLS_WF_PUBLIC_MESSAGE;
  out->content = pm->content;
  out->auth = pm->auth;
  return 0;
}

/* ---- PrivateMessage ------------------------------------------------------------------ */

static mls_ratchet_type_t ratchet_for(uint8_t content_type) {
  return content_type == MLS_CT_APPLICATION ? MLS_RATCHET_APPLICATION : MLS_RATCHET_HANDSHAKE;
}

/* The reuse guard is XORed into the first four bytes of the content nonce (§6.3.1). */
static void apply_reuse_guard(uint8_t *nonce, const uint8_t guard[4]) {
  for (int i = 0; i < 4; i++)
    nonce[i] ^= guard[i];
}

/* Seals / opens the 12-byte SenderData under keys sampled from the content ciphertext. */
static int sender_data_crypt(const mls_framing_ctx_t *ctx, const mls_private_message_t *m,
                             veil_view_t content_ct, int seal, const uint8_t *in, size_t in_len,
                             uint8_t *out) {
  const mls_suite_t *s = ctx->suite;
  uint8_t key[MLS_AEAD_KEY_MAX], nonce[MLS_AEAD_NONCE_LEN];
  veil_writer_t aad;
  veil_writer_init_growable(&aad, 0);
  int rc = mls_sender_data_key_nonce(s, ctx->sender_data_secret, content_ct.ptr, content_ct.len,
                                     key, nonce);
  if (rc == 0)
    rc = mls_sender_data_aad_encode(&aad, m);
  if (rc == 0)
    rc = seal ? vc_aead_seal(s->aead, key, nonce, aad.buf, aad.len, in, in_len, out)
              : vc_aead_open(s->aead, key, nonce, aad.buf, aad.len, in, in_len, out);
  vc_wipe(key, sizeof(key));
  veil_writer_free(&aad);
  return rc;
}

int mls_private_protect(const mls_framing_ctx_t *ctx, const mls_framed_content_t *content,
                        const uint8_t *sig_priv, veil_view_t confirmation_tag,
                        veil_writer_t *out) {
  if (!ctx || !content || !sig_priv || !out || !ctx->secret_tree || !ctx->sender_data_secret)
    return VEIL_EINVAL;
  /* §6.3: only members hold the secret tree. */
  if (content->sender.type != MLS_SENDER_MEMBER)
    return VEIL_EMLS_SENDER;
  int rc = check_group(ctx, content->group_id, content->epoch);
  if (rc == 0)
    rc = check_confirmation_tag(ctx, content->content_type, confirmation_tag);
  if (rc)
    return rc;
  const mls_suite_t *s = ctx->suite;
  uint8_t sig[MLS_SIG_MAX], guard[4], sd_plain[SENDER_DATA_LEN];
  uint8_t sd_ct[SENDER_DATA_LEN + MLS_AEAD_TAG_LEN];
  size_t sig_len = 0;
  mls_ratchet_key_t key;
  memset(&key, 0, sizeof(key));
  veil_writer_t pt, aad, ct;
  veil_writer_init_growable(&pt, 0);
  veil_writer_init_growable(&aad, 0);
  veil_writer_init_growable(&ct, 0);
  rc = mls_framing_sign(ctx, MLS_WF_PRIVATE_MESSAGE, content, sig_priv, sig, &sig_len);
  if (rc)
    goto done;
  /* PrivateMessageContent, then zero padding up to a multiple of pad_to (§6.3.1: hides
   * the exact length; the receiver checks the padding is all zero). */
  mls_framed_content_auth_t auth = {.signature = {sig, sig_len},
                                    .confirmation_tag = confirmation_tag};
  rc = mls_private_content_encode(&pt, content, &auth, 0);
  if (rc)
    goto done;
  size_t pad = ctx->pad_to ? (ctx->pad_to - pt.len % ctx->pad_to) % ctx->pad_to : 0;
  uint8_t *p = veil_writer_reserve(&pt, pad);
  if (!p) {
    rc = pt.err;
    goto done;
  }
  memset(p, 0, pad);
  veil_writer_advance(&pt, pad);

  rc = mls_secret_tree_next(ctx->secret_tree, content->sender.index,
                            ratchet_for(content->content_type), &key);
  if (rc == 0)
    rc = vc_random(guard, sizeof(guard));
  if (rc)
    goto done;
  apply_reuse_guard(key.nonce, guard);
  mls_private_message_t m = {.group_id = content->group_id,
                             .epoch = content->epoch,
                             .content_type = content->content_type,
                             .authenticated_data = content->authenticated_data};
  rc = mls_private_content_aad_encode(&aad, &m);
  uint8_t *c = rc == 0 ? veil_writer_reserve(&ct, pt.len + MLS_AEAD_TAG_LEN) : NULL;
  if (!c) {
    rc = rc ? rc : ct.err;
    goto done;
  }
  rc = vc_aead_seal(s->aead, key.key, key.nonce, aad.buf, aad.len, pt.buf, pt.len, c);
  if (rc)
    goto done;
  veil_writer_advance(&ct, pt.len + MLS_AEAD_TAG_LEN);
  m.ciphertext = (veil_view_t){ct.buf, ct.len};

  mls_sender_data_t sd = {.leaf_index = content->sender.index, .generation = key.generation};
  memcpy(sd.reuse_guard, guard, sizeof(guard));
  veil_writer_t sdw;
  veil_writer_init(&sdw, sd_plain, sizeof(sd_plain));
  rc = mls_sender_data_encode(&sdw, &sd);
  if (rc == 0)
    rc = sender_data_crypt(ctx, &m, m.ciphertext, 1, sd_plain, sizeof(sd_plain), sd_ct);
  if (rc)
    goto done;
  m.encrypted_sender_data = (veil_view_t){sd_ct, sizeof(sd_ct)};
  veil_write_u16(out, MLS_VERSION_10);
  veil_write_u16(out, MLS_WF_PRIVATE_MESSAGE);
  rc = mls_private_message_encode(out, &m);
done:
  mls_ratchet_key_wipe(&key);
  vc_wipe(sd_plain, sizeof(sd_plain));
  vc_wipe(guard, sizeof(guard));
  veil_writer_free(&pt);
  veil_writer_free(&aad);
  veil_writer_free(&ct);
  return rc;
}

int mls_private_unprotect(const mls_framing_ctx_t *ctx, const mls_private_message_t *pm,
                          veil_writer_t *plain, mls_authenticated_content_t *out) {
  if (!ctx || !pm || !plain || !out || !ctx->secret_tree || !ctx->sender_data_secret)
    return VEIL_EINVAL;
  int rc = check_group(ctx, pm->group_id, pm->epoch);
  if (rc)
    return rc;
  if (pm->encrypted_sender_data.len != SENDER_DATA_LEN + MLS_AEAD_TAG_LEN ||
      pm->ciphertext.len < MLS_AEAD_TAG_LEN)
    return VEIL_EDECODE;
  const mls_suite_t *s = ctx->suite;
  uint8_t sd_plain[SENDER_DATA_LEN];
  mls_sender_data_t sd;
  mls_ratchet_key_t key;
  memset(&key, 0, sizeof(key));
  veil_writer_t aad;
  veil_writer_init_growable(&aad, 0);
  rc = sender_data_crypt(ctx, pm, pm->ciphertext, 0, pm->encrypted_sender_data.ptr,
                         pm->encrypted_sender_data.len, sd_plain);
  if (rc)
    goto done;
  veil_reader_t r;
  veil_reader_init(&r, sd_plain, sizeof(sd_plain));
  mls_sender_data_decode(&r, &sd);
  rc = veil_reader_finish(&r);
  if (rc)
    goto done;
  rc = mls_secret_tree_get(ctx->secret_tree, sd.leaf_index, ratchet_for(pm->content_type),
                           sd.generation, &key);
  if (rc)
    goto done;
  apply_reuse_guard(key.nonce, sd.reuse_guard);
  rc = mls_private_content_aad_encode(&aad, pm);
  if (rc)
    goto done;
  size_t pt_len = pm->ciphertext.len - MLS_AEAD_TAG_LEN;
  plain->len = 0;
  uint8_t *p = veil_writer_reserve(plain, pt_len ? pt_len : 1);
  if (!p) {
    rc = plain->err;
    goto done;
  }
  rc = vc_aead_open(s->aead, key.key, key.nonce, aad.buf, aad.len, pm->ciphertext.ptr,
                    pm->ciphertext.len, p);
  if (rc) {
    /* Not consumed (§9.2): the genuine message of this generation may still come. */
    apply_reuse_guard(key.nonce, sd.reuse_guard);
    mls_secret_tree_put_back(ctx->secret_tree, sd.leaf_index, ratchet_for(pm->content_type),
                             &key);
    goto done;
  }
  veil_writer_advance(plain, pt_len);
  memset(out, 0, sizeof(*out));
  rc = mls_private_content_parse(plain->buf, plain->len, pm->content_type, &out->content,
                                 &out->auth);
  if (rc)
    goto done;
  out->wire_format = MLS_WF_PRIVATE_MESSAGE;
  out->content.group_id = pm->group_id;
  out->content.epoch = pm->epoch;
  out->content.sender = (mls_sender_t){.type = MLS_SENDER_MEMBER, .index = sd.leaf_index};
  out->content.authenticated_data = pm->authenticated_data;
  if (check_confirmation_tag(ctx, out->content.content_type, out->auth.confirmation_tag))
    rc = VEIL_EDECODE;
done:
  mls_ratchet_key_wipe(&key);
  vc_wipe(sd_plain, sizeof(sd_plain));
  veil_writer_free(&aad);
  return rc;
}
