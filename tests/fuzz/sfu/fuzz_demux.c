/*
 * libFuzzer entry: the packet path's first step. Classify by first byte (RFC 7983) and
 * hand the datagram to the parser the SFU would use; DTLS goes to OpenSSL in the
 * transport and is not exercised here.
 */
#include "fuzz_sfu_common.h"
#include "sfu/demux.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  switch (sfu_demux_classify(data, size)) {
  case SFU_PKT_STUN:
    fuzz_sfu_stun(data, size);
    break;
  case SFU_PKT_RTP:
    fuzz_sfu_rtp(data, size);
    break;
  case SFU_PKT_RTCP:
    fuzz_sfu_rtcp(data, size);
    break;
  case SFU_PKT_DTLS:
  case SFU_PKT_DROP:
    break;
  }
  return 0;
}
