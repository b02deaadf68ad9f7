/*
 * Fuzz target: SFrame decryption of untrusted frames. Byte 0 picks the cipher suite,
 * byte 1 the path (context with fixed KIDs, or an MLS member deriving keys on demand);
 * the rest is the frame. Checks: no out-of-bounds access (ASan), a plaintext exactly
 * header + tag shorter than the frame, a replay of an accepted frame always refused, and
 * a refused frame leaving no key behind in the MLS case.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz_sframe_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 2)
    return 0;
  unsigned suite = data[0];
  int mls = data[1] & 1;
  const uint8_t *frame = data + 2;
  size_t len = size - 2;
  uint8_t *out = malloc(len ? len : 1);
  if (!out)
    return 0;
  size_t out_len = 0;
  sframe_header_t h;
  int rc;
  if (!mls) {
    sframe_ctx_t *c = fz_ctx(suite, SFRAME_KEY_RECV);
    rc = sframe_ctx_decrypt(c, fz_meta, sizeof fz_meta, frame, len, out, len, &out_len, &h);
    if (rc == 0) {
      size_t nt = sframe_suite_nt(sframe_ctx_suite(c));
      if (out_len + nt + sframe_header_size(h.kid, h.ctr) != len)
        TRAP();
      if (sframe_ctx_decrypt(c, fz_meta, sizeof fz_meta, frame, len, out, len, &out_len,
                             NULL) != VEIL_ESFRAME_REPLAY)
        TRAP();
    }
    sframe_ctx_free(c);
  } else {
    sframe_mls_t *m = fz_mls(suite, 1);
    sframe_mls_sender_t who;
    rc = sframe_mls_decrypt(m, fz_meta, sizeof fz_meta, frame, len, out, len, &out_len, &who);
    veil_reader_t r;
    veil_reader_init(&r, frame, len);
    if (sframe_header_decode(&r, &h) == 0) {
      int has = sframe_ctx_has_key(sframe_mls_ctx(m), h.kid);
      if (rc == 0 && (!has || who.epoch != FZ_MLS_EPOCH || who.sender_index >= FZ_MLS_LEAVES ||
                      who.sender_index == 1))
        TRAP();
      if (rc != 0 && has)
        TRAP(); /* a refused frame must not leave a derived key behind */
    }
    sframe_mls_free(m);
  }
  free(out);
  return 0;
}
