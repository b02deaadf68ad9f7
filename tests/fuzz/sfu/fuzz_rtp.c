/* libFuzzer entry: RTP header codec. */
#include "fuzz_sfu_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  fuzz_sfu_rtp(data, size);
  return 0;
}
