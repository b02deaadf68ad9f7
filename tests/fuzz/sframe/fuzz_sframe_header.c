/*
 * Fuzz target: the SFrame header codec (RFC 9605 §4.3). Decoding never reads past the
 * input, and since only minimal encodings are accepted the codec is a bijection on what
 * it accepts: re-encoding a decoded header must give back exactly the bytes consumed.
 */
#include <string.h>

#include "fuzz_sframe_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  veil_reader_t r;
  veil_reader_init(&r, data, size);
  sframe_header_t h;
  if (sframe_header_decode(&r, &h) != 0)
    return 0;
  size_t used = size - veil_reader_remaining(&r);
  if (used < 1 || used > SFRAME_HEADER_MAX || used != sframe_header_size(h.kid, h.ctr))
    TRAP();
  uint8_t buf[SFRAME_HEADER_MAX];
  veil_writer_t w;
  veil_writer_init(&w, buf, sizeof buf);
  if (sframe_header_encode(&w, h.kid, h.ctr) != 0 || w.len != used ||
      memcmp(buf, data, used) != 0)
    TRAP();
  return 0;
}
