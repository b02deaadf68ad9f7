/*
 * veil MLS — transcript hashes (RFC 9420 §8.2). Contract in transcript.h.
 *
 * The hash input is streamed (previous hash, then the encoded structure) into one
 * incremental hash context: a Commit with a large UpdatePath or many inline proposals is
 * encoded once into a growable writer and never concatenated with the previous hash.
 */
#include "clients/lib/mls/transcript.h"

#include <string.h>

void mls_transcript_init(mls_transcript_t *t, const mls_suite_t *s) {
  memset(t, 0, sizeof(*t));
  t->suite = s;
}

int mls_transcript_set(mls_transcript_t *t, const mls_suite_t *s, const uint8_t *confirmed,
                       size_t confirmed_len, const uint8_t *interim, size_t interim_len) {
  if (!t || !s || confirmed_len > s->nh || interim_len > s->nh)
    return VEIL_EINVAL;
  mls_transcript_init(t, s);
  if (confirmed_len)
    memcpy(t->confirmed, confirmed, confirmed_len);
  if (interim_len)
    memcpy(t->interim, interim, interim_len);
  t->confirmed_len = confirmed_len;
  t->interim_len = interim_len;
  return 0;
}

int mls_transcript_confirmed_input_encode(veil_writer_t *w, uint16_t wire_format,
                                          const mls_framed_content_t *content,
                                          veil_view_t signature) {
  veil_write_u16(w, wire_format);
  mls_framed_content_encode(w, content);
  return mls_write_opaque(w, signature);
}

/* out = Hash(prefix || data). */
static int hash2(const mls_suite_t *s, const uint8_t *prefix, size_t prefix_len,
                 const uint8_t *data, size_t len, uint8_t *out) {
  vc_hash_ctx_t *h = vc_hash_new(s->hash);
  if (!h)
    return VEIL_ENOMEM;
  int rc = vc_hash_update(h, prefix, prefix_len);
  if (rc == 0)
    rc = vc_hash_update(h, data, len);
  if (rc == 0)
    rc = vc_hash_final(h, out);
  vc_hash_free(h);
  return rc;
}

int mls_transcript_update_confirmed(mls_transcript_t *t, uint16_t wire_format,
                                    const mls_framed_content_t *content,
                                    veil_view_t signature) {
  if (!t || !t->suite || !content || content->content_type != MLS_CT_COMMIT)
    return VEIL_EINVAL;
  veil_writer_t w;
  veil_writer_init_growable(&w, 0);
  int rc = mls_transcript_confirmed_input_encode(&w, wire_format, content, signature);
  uint8_t next[MLS_HASH_MAX];
  if (rc == 0)
    rc = hash2(t->suite, t->interim, t->interim_len, w.buf, w.len, next);
  if (rc == 0) {
    memcpy(t->confirmed, next, t->suite->nh);
    t->confirmed_len = t->suite->nh;
  }
  veil_writer_free(&w);
  return rc;
}

int mls_transcript_set_interim(mls_transcript_t *t, const uint8_t *confirmation_tag,
                               size_t tag_len) {
  if (!t || !t->suite)
    return VEIL_EINVAL;
  /* InterimTranscriptHashInput { MAC confirmation_tag; } where MAC is opaque<V>. */
  uint8_t buf[8 + MLS_HASH_MAX];
  veil_writer_t w;
  veil_writer_init(&w, buf, sizeof(buf));
  int rc = veil_write_vec(&w, VEIL_LEN_VARINT, confirmation_tag, tag_len);
  uint8_t next[MLS_HASH_MAX];
  if (rc == 0)
    rc = hash2(t->suite, t->confirmed, t->confirmed_len, w.buf, w.len, next);
  if (rc == 0) {
    memcpy(t->interim, next, t->suite->nh);
    t->interim_len = t->suite->nh;
  }
  return rc;
}

int mls_transcript_update(mls_transcript_t *t, const mls_authenticated_content_t *ac) {
  if (!ac)
    return VEIL_EINVAL;
  int rc = mls_transcript_update_confirmed(t, ac->wire_format, &ac->content, ac->auth.signature);
  if (rc == 0)
    rc = mls_transcript_set_interim(t, ac->auth.confirmation_tag.ptr,
                                    ac->auth.confirmation_tag.len);
  return rc;
}
