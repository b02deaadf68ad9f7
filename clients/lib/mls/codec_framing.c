/*
 * MLS codec: framing (§6) — Sender, FramedContent, FramedContentAuthData, PublicMessage,
 * PrivateMessage, AuthenticatedContent, FramedContentTBS, SenderData, the private-message
 * content and AAD structures, and MLSMessage.
 */
#include <string.h>

#include "clients/lib/mls/codec.h"
#include "clients/lib/mls/codec_internal.h"

int mls_sender_decode(veil_reader_t *r, mls_sender_t *out) {
  out->index = 0;
  if (veil_read_u8(r, &out->type))
    return r->err;
  switch (out->type) {
  case MLS_SENDER_MEMBER:
  case MLS_SENDER_EXTERNAL:
    return veil_read_u32(r, &out->index);
  case MLS_SENDER_NEW_MEMBER_PROPOSAL:
  case MLS_SENDER_NEW_MEMBER_COMMIT:
    return 0;
  default:
    return veil_reader_fail(r, VEIL_EMLS_ENUM);
  }
}

int mls_sender_encode(veil_writer_t *w, const mls_sender_t *in) {
  veil_write_u8(w, in->type);
  switch (in->type) {
  case MLS_SENDER_MEMBER:
  case MLS_SENDER_EXTERNAL:
    return veil_write_u32(w, in->index);
  case MLS_SENDER_NEW_MEMBER_PROPOSAL:
  case MLS_SENDER_NEW_MEMBER_COMMIT:
    return w->err;
  default:
    return veil_writer_fail(w, VEIL_EMLS_ENUM);
  }
}

/* The content selected by content_type (shared by FramedContent and
 * PrivateMessageContent). */
static int content_body_decode(veil_reader_t *r, mls_framed_content_t *out) {
  switch (out->content_type) {
  case MLS_CT_APPLICATION:
    return mls_read_opaque(r, &out->application_data);
  case MLS_CT_PROPOSAL:
    return mls_proposal_decode(r, &out->proposal);
  case MLS_CT_COMMIT:
    return mls_commit_decode(r, &out->commit);
  default:
    return veil_reader_fail(r, VEIL_EMLS_ENUM);
  }
}

static int content_body_encode(veil_writer_t *w, const mls_framed_content_t *in) {
  switch (in->content_type) {
  case MLS_CT_APPLICATION:
    return mls_write_opaque(w, in->application_data);
  case MLS_CT_PROPOSAL:
    return mls_proposal_encode(w, &in->proposal);
  case MLS_CT_COMMIT:
    return mls_commit_encode(w, &in->commit);
  default:
    return veil_writer_fail(w, VEIL_EMLS_ENUM);
  }
}

int mls_framed_content_decode(veil_reader_t *r, mls_framed_content_t *out) {
  /* Fields of the content types not present stay zero, never stale. */
  memset(out, 0, sizeof *out);
  mls_read_opaque(r, &out->group_id);
  veil_read_u64(r, &out->epoch);
  mls_sender_decode(r, &out->sender);
  mls_read_opaque(r, &out->authenticated_data);
  if (veil_read_u8(r, &out->content_type))
    return r->err;
  return content_body_decode(r, out);
}

int mls_framed_content_encode(veil_writer_t *w, const mls_framed_content_t *in) {
  mls_write_opaque(w, in->group_id);
  veil_write_u64(w, in->epoch);
  mls_sender_encode(w, &in->sender);
  mls_write_opaque(w, in->authenticated_data);
  veil_write_u8(w, in->content_type);
  return content_body_encode(w, in);
}

int mls_framed_content_auth_decode(veil_reader_t *r, uint8_t content_type,
                                   mls_framed_content_auth_t *out) {
  out->confirmation_tag.ptr = NULL;
  out->confirmation_tag.len = 0;
  mls_read_opaque(r, &out->signature);
  if (content_type == MLS_CT_COMMIT)
    mls_read_opaque(r, &out->confirmation_tag);
  return r->err;
}

int mls_framed_content_auth_encode(veil_writer_t *w, uint8_t content_type,
                                   const mls_framed_content_auth_t *in) {
  mls_write_opaque(w, in->signature);
  if (content_type == MLS_CT_COMMIT)
    mls_write_opaque(w, in->confirmation_tag);
  return w->err;
}

int mls_public_message_decode(veil_reader_t *r, mls_public_message_t *out) {
  if (mls_framed_content_decode(r, &out->content))
    return r->err;
  mls_framed_content_auth_decode(r, out->content.content_type, &out->auth);
  out->membership_tag.ptr = NULL;
  out->membership_tag.len = 0;
  if (out->content.sender.type == MLS_SENDER_MEMBER)
    mls_read_opaque(r, &out->membership_tag);
  return r->err;
}

int mls_public_message_encode(veil_writer_t *w, const mls_public_message_t *in) {
  mls_framed_content_encode(w, &in->content);
  mls_framed_content_auth_encode(w, in->content.content_type, &in->auth);
  if (in->content.sender.type == MLS_SENDER_MEMBER)
    mls_write_opaque(w, in->membership_tag);
  return w->err;
}

int mls_private_message_decode(veil_reader_t *r, mls_private_message_t *out) {
  mls_read_opaque(r, &out->group_id);
  veil_read_u64(r, &out->epoch);
  if (veil_read_u8(r, &out->content_type))
    return r->err;
  if (out->content_type < MLS_CT_APPLICATION || out->content_type > MLS_CT_COMMIT)
    return veil_reader_fail(r, VEIL_EMLS_ENUM);
  mls_read_opaque(r, &out->authenticated_data);
  mls_read_opaque(r, &out->encrypted_sender_data);
  return mls_read_opaque(r, &out->ciphertext);
}

int mls_private_message_encode(veil_writer_t *w, const mls_private_message_t *in) {
  mls_write_opaque(w, in->group_id);
  veil_write_u64(w, in->epoch);
  veil_write_u8(w, in->content_type);
  mls_write_opaque(w, in->authenticated_data);
  mls_write_opaque(w, in->encrypted_sender_data);
  return mls_write_opaque(w, in->ciphertext);
}

static int check_wire_format(veil_reader_t *r, uint16_t wf) {
  if (wf < MLS_WF_PUBLIC_MESSAGE || wf > MLS_WF_KEY_PACKAGE)
    return veil_reader_fail(r, VEIL_EMLS_ENUM);
  return 0;
}

int mls_authenticated_content_decode(veil_reader_t *r, mls_authenticated_content_t *out) {
  if (veil_read_u16(r, &out->wire_format) || check_wire_format(r, out->wire_format))
    return r->err;
  if (mls_framed_content_decode(r, &out->content))
    return r->err;
  return mls_framed_content_auth_decode(r, out->content.content_type, &out->auth);
}

int mls_authenticated_content_encode(veil_writer_t *w, const mls_authenticated_content_t *in) {
  veil_write_u16(w, in->wire_format);
  mls_framed_content_encode(w, &in->content);
  return mls_framed_content_auth_encode(w, in->content.content_type, &in->auth);
}

int mls_framed_content_tbs_encode(veil_writer_t *w, uint16_t wire_format,
                                  const mls_framed_content_t *content, veil_view_t group_context) {
  veil_write_u16(w, MLS_VERSION_10);
  veil_write_u16(w, wire_format);
  mls_framed_content_encode(w, content);
  /* §6.1: member and new_member_commit senders sign over the group context too. */
  if (content->sender.type == MLS_SENDER_MEMBER ||
      content->sender.type == MLS_SENDER_NEW_MEMBER_COMMIT) {
    if (!group_context.len)
      return veil_writer_fail(w, VEIL_EINVAL);
    veil_write_bytes(w, group_context.ptr, group_context.len);
  }
  return w->err;
}

int mls_sender_data_decode(veil_reader_t *r, mls_sender_data_t *out) {
  veil_read_u32(r, &out->leaf_index);
  veil_read_u32(r, &out->generation);
  return veil_read_copy(r, out->reuse_guard, sizeof out->reuse_guard);
}

int mls_sender_data_encode(veil_writer_t *w, const mls_sender_data_t *in) {
  veil_write_u32(w, in->leaf_index);
  veil_write_u32(w, in->generation);
  return veil_write_bytes(w, in->reuse_guard, sizeof in->reuse_guard);
}

int mls_private_content_parse(const uint8_t *buf, size_t len, uint8_t content_type,
                              mls_framed_content_t *out, mls_framed_content_auth_t *auth) {
  veil_reader_t r;
  veil_reader_init(&r, buf, len);
  out->content_type = content_type;
  if (content_body_decode(&r, out))
    return r.err;
  if (mls_framed_content_auth_decode(&r, content_type, auth))
    return r.err;
  /* §6.3.1: the padding MUST be all zero bytes. Not constant-time: padding is not
   * secret once the AEAD has authenticated it. */
  for (const uint8_t *p = r.p; p < r.end; p++)
    if (*p)
      return VEIL_EMLS_PADDING;
  return 0;
}

int mls_private_content_encode(veil_writer_t *w, const mls_framed_content_t *content,
                               const mls_framed_content_auth_t *auth, size_t padding) {
  content_body_encode(w, content);
  mls_framed_content_auth_encode(w, content->content_type, auth);
  uint8_t *p = veil_writer_reserve(w, padding);
  if (!p)
    return w->err;
  memset(p, 0, padding);
  veil_writer_advance(w, padding);
  return w->err;
}

int mls_private_content_aad_encode(veil_writer_t *w, const mls_private_message_t *m) {
  mls_write_opaque(w, m->group_id);
  veil_write_u64(w, m->epoch);
  veil_write_u8(w, m->content_type);
  return mls_write_opaque(w, m->authenticated_data);
}

int mls_sender_data_aad_encode(veil_writer_t *w, const mls_private_message_t *m) {
  mls_write_opaque(w, m->group_id);
  veil_write_u64(w, m->epoch);
  return veil_write_u8(w, m->content_type);
}

/* ---- MLSMessage ---------------------------------------------------------------------- */
int mls_message_decode(veil_reader_t *r, mls_message_t *out) {
  if (veil_read_u16(r, &out->version))
    return r->err;
  if (out->version != MLS_VERSION_10)
    return veil_reader_fail(r, VEIL_EMLS_VERSION);
  if (veil_read_u16(r, &out->wire_format) || check_wire_format(r, out->wire_format))
    return r->err;
  switch (out->wire_format) {
  case MLS_WF_PUBLIC_MESSAGE:
    return mls_public_message_decode(r, &out->u.public_message);
  case MLS_WF_PRIVATE_MESSAGE:
    return mls_private_message_decode(r, &out->u.private_message);
  case MLS_WF_WELCOME:
    return mls_welcome_decode(r, &out->u.welcome);
  case MLS_WF_GROUP_INFO:
    return mls_group_info_decode(r, &out->u.group_info);
  default:
    return mls_key_package_decode(r, &out->u.key_package);
  }
}

int mls_message_encode(veil_writer_t *w, const mls_message_t *in) {
  veil_write_u16(w, in->version);
  veil_write_u16(w, in->wire_format);
  switch (in->wire_format) {
  case MLS_WF_PUBLIC_MESSAGE:
    return mls_public_message_encode(w, &in->u.public_message);
  case MLS_WF_PRIVATE_MESSAGE:
    return mls_private_message_encode(w, &in->u.private_message);
  case MLS_WF_WELCOME:
    return mls_welcome_encode(w, &in->u.welcome);
  case MLS_WF_GROUP_INFO:
    return mls_group_info_encode(w, &in->u.group_info);
  case MLS_WF_KEY_PACKAGE:
    return mls_key_package_encode(w, &in->u.key_package);
  default:
    return veil_writer_fail(w, VEIL_EMLS_ENUM);
  }
}

int mls_message_parse(const uint8_t *buf, size_t len, mls_message_t *out) {
  veil_reader_t r;
  veil_reader_init(&r, buf, len);
  mls_message_decode(&r, out);
  return veil_reader_finish(&r);
}
