/*
 * Fuzz target: MLSMessage decoding (RFC 9420 §6). Whatever decodes must re-encode to the
 * same bytes, and every list it validated must walk again element by element; the same
 * input is also tried as the non-MLSMessage structures a client decodes from the wire
 * or from a decrypted payload (GroupSecrets, PrivateMessageContent, SenderData).
 */
#include <stdlib.h>
#include <string.h>

#include "clients/lib/mls/codec.h"

static void must(int cond) {
  if (!cond)
    abort();
}

static void walk_proposals(const mls_list_t *l) {
  veil_reader_t r;
  mls_list_reader(l, &r);
  for (uint32_t i = 0; i < l->count; i++) {
    mls_proposal_or_ref_t p;
    must(mls_proposal_or_ref_decode(&r, &p) == 0);
  }
  must(veil_reader_finish(&r) == 0);
}

static void walk_secrets(const mls_list_t *l) {
  veil_reader_t r;
  mls_list_reader(l, &r);
  for (uint32_t i = 0; i < l->count; i++) {
    mls_encrypted_group_secrets_t e;
    must(mls_encrypted_group_secrets_decode(&r, &e) == 0);
  }
  must(veil_reader_finish(&r) == 0);
}

static void message(const uint8_t *data, size_t size) {
  mls_message_t m;
  if (mls_message_parse(data, size, &m))
    return;
  veil_writer_t w;
  veil_writer_init_growable(&w, size + 1);
  must(mls_message_encode(&w, &m) == 0);
  must(w.len == size && memcmp(w.buf, data, size) == 0);
  veil_writer_free(&w);
  if (m.wire_format == MLS_WF_PUBLIC_MESSAGE &&
      m.u.public_message.content.content_type == MLS_CT_COMMIT)
    walk_proposals(&m.u.public_message.content.commit.proposals);
  if (m.wire_format == MLS_WF_WELCOME)
    walk_secrets(&m.u.welcome.secrets);
}

static void others(const uint8_t *data, size_t size) {
  veil_reader_t r;
  mls_group_secrets_t gs;
  veil_reader_init(&r, data, size);
  if (mls_group_secrets_decode(&r, &gs) == 0 && veil_reader_finish(&r) == 0) {
    veil_writer_t w;
    veil_writer_init_growable(&w, size + 1);
    must(mls_group_secrets_encode(&w, &gs) == 0);
    must(w.len == size && memcmp(w.buf, data, size) == 0);
    veil_writer_free(&w);
  }
  for (uint8_t ct = MLS_CT_APPLICATION; ct <= MLS_CT_COMMIT; ct++) {
    mls_framed_content_t c;
    mls_framed_content_auth_t a;
    (void)mls_private_content_parse(data, size, ct, &c, &a);
  }
  mls_sender_data_t sd;
  veil_reader_init(&r, data, size);
  (void)mls_sender_data_decode(&r, &sd);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  message(data, size);
  others(data, size);
  return 0;
}
