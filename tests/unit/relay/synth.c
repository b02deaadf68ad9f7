/* Synthetic MLS framing for the relay tests. See synth.h. */
#include "synth.h"

#include <stdlib.h>
#include <string.h>

#include "common/bytes.h"
#include "mls-relay/envelope.h"

static synth_buf_t done(veil_writer_t *w) {
  synth_buf_t b = {0};
  if (w->err) {
    veil_writer_free(w);
    abort(); /* a test fixture that cannot be built is a bug in the test */
  }
  b.p = veil_writer_steal(w, &b.len);
  return b;
}

static void filler(veil_writer_t *w, size_t n, uint8_t v) {
  for (size_t i = 0; i < n; i++)
    veil_write_u8(w, (uint8_t)(v + i));
}

static void filler_vec(veil_writer_t *w, size_t n, uint8_t v) {
  veil_wblock_t b;
  veil_writer_open_block(w, VEIL_LEN_VARINT, &b);
  filler(w, n, v);
  veil_writer_close_block(w, &b);
}

synth_buf_t synth_public(const char *group, uint64_t epoch, uint8_t sender_type,
                         uint32_t leaf, size_t aad_len, uint8_t content_type, size_t tail) {
  veil_writer_t w;
  veil_writer_init_growable(&w, 64);
  veil_write_u16(&w, 1); /* mls10 */
  veil_write_u16(&w, 1); /* mls_public_message */
  veil_write_vec(&w, VEIL_LEN_VARINT, group, strlen(group));
  veil_write_u64(&w, epoch);
  veil_write_u8(&w, sender_type);
  if (sender_type == 1 || sender_type == 2)
    veil_write_u32(&w, leaf);
  filler_vec(&w, aad_len, 0xa0);
  veil_write_u8(&w, content_type);
  filler(&w, tail, 0x10);
  return done(&w);
}

synth_buf_t synth_private(const char *group, uint64_t epoch, uint8_t content_type,
                          size_t aad_len, size_t ct_len) {
  veil_writer_t w;
  veil_writer_init_growable(&w, 64);
  veil_write_u16(&w, 1);
  veil_write_u16(&w, 2); /* mls_private_message */
  veil_write_vec(&w, VEIL_LEN_VARINT, group, strlen(group));
  veil_write_u64(&w, epoch);
  veil_write_u8(&w, content_type);
  filler_vec(&w, aad_len, 0xa0);
  filler_vec(&w, 12, 0x50); /* encrypted_sender_data */
  filler_vec(&w, ct_len, 0x70);
  return done(&w);
}

synth_buf_t synth_welcome(uint16_t suite, const uint8_t *refs, size_t n) {
  veil_writer_t w;
  veil_wblock_t secrets;
  veil_writer_init_growable(&w, 64);
  veil_write_u16(&w, 1);
  veil_write_u16(&w, 3); /* mls_welcome */
  veil_write_u16(&w, suite);
  veil_writer_open_block(&w, VEIL_LEN_VARINT, &secrets);
  for (size_t i = 0; i < n; i++) {
    uint8_t ref[32];
    memset(ref, refs[i], sizeof ref);
    veil_write_vec(&w, VEIL_LEN_VARINT, ref, sizeof ref); /* new_member */
    filler_vec(&w, 32, 0x30);                             /* kem_output */
    filler_vec(&w, 48, 0x40);                             /* ciphertext */
  }
  veil_writer_close_block(&w, &secrets);
  filler_vec(&w, 100, 0x60); /* encrypted_group_info */
  return done(&w);
}

synth_buf_t synth_key_package(uint16_t suite, size_t tail) {
  veil_writer_t w;
  veil_writer_init_growable(&w, 64);
  veil_write_u16(&w, 1);
  veil_write_u16(&w, 5); /* mls_key_package */
  veil_write_u16(&w, 1); /* KeyPackage.version */
  veil_write_u16(&w, suite);
  filler(&w, tail, 0x20);
  return done(&w);
}

synth_buf_t synth_group_info(uint16_t suite, const char *group, uint64_t epoch) {
  veil_writer_t w;
  veil_writer_init_growable(&w, 64);
  veil_write_u16(&w, 1);
  veil_write_u16(&w, 4); /* mls_group_info */
  veil_write_u16(&w, 1); /* GroupContext.version */
  veil_write_u16(&w, suite);
  veil_write_vec(&w, VEIL_LEN_VARINT, group, strlen(group));
  veil_write_u64(&w, epoch);
  filler(&w, 40, 0x80);
  return done(&w);
}

synth_buf_t synth_env_kp(uint8_t ref, const synth_buf_t *kp) {
  veil_writer_t w;
  uint8_t r[32];
  memset(r, ref, sizeof r);
  veil_writer_init_growable(&w, 64);
  relay_env_put_key_package(&w, r, sizeof r, kp->p, kp->len);
  return done(&w);
}

synth_buf_t synth_env_commit(uint32_t batch, const synth_buf_t *commit,
                             const synth_buf_t *welcome) {
  veil_writer_t w;
  veil_writer_init_growable(&w, 64);
  relay_env_put_commit(&w, batch, commit->p, commit->len, welcome ? welcome->p : NULL,
                       welcome ? welcome->len : 0);
  return done(&w);
}

synth_buf_t synth_env_mls(uint8_t kind, const synth_buf_t *mls) {
  veil_writer_t w;
  veil_writer_init_growable(&w, 64);
  relay_env_put_mls(&w, kind, mls->p, mls->len);
  return done(&w);
}
