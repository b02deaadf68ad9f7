/*
 * Fuzz target: the RTP reassembler and depacketizer with adversarial packet streams.
 * Byte 0 picks the suite; then records of [seq:2][ts:1][flags:1][len:1][payload:len],
 * where flags bit 0 is the marker bit. Every record is pushed and every ready frame is
 * popped and decrypted. Checks: bounds (ASan), a delivered frame never larger than the
 * configured limit, and that the reassembler never hands out more frames than markers.
 */
#include <string.h>

#include "fuzz_sframe_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_FRAME 2048

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1)
    return 0;
  sframe_ctx_t *c = fz_ctx(data[0], SFRAME_KEY_RECV);
  sframe_reasm_t *r;
  sframe_reasm_config_t cfg = {.max_packets = 32, .max_payload = 255, .max_frame = MAX_FRAME,
                               .reorder_delay = 4};
  if (sframe_reasm_new(&r, &cfg))
    TRAP();
  static uint8_t out[MAX_FRAME];
  size_t pos = 1, markers = 0, frames = 0;
  while (size - pos >= 5) {
    uint16_t seq = (uint16_t)(data[pos] << 8 | data[pos + 1]);
    uint32_t ts = data[pos + 2];
    int marker = data[pos + 3] & 1;
    size_t len = data[pos + 4];
    pos += 5;
    if (len > size - pos)
      len = size - pos;
    if (sframe_reasm_push(r, seq, ts * 90, marker, data + pos, len) != 0)
      TRAP();
    pos += len;
    markers += (size_t)marker;
    size_t out_len;
    int rc;
    while ((rc = sframe_rtp_depacketize(r, c, fz_meta, sizeof fz_meta, out, sizeof out,
                                        &out_len, NULL)) == 1) {
      if (out_len > MAX_FRAME)
        TRAP();
      frames++;
    }
    if (rc != 0 || frames > markers)
      TRAP();
  }
  sframe_reasm_free(r);
  sframe_ctx_free(c);
  return 0;
}
