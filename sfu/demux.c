/*
 * veil sfu — RFC 7983 first-byte demultiplexing and the RFC 5761 RTP/RTCP split.
 */
#include "sfu/demux.h"

/* RFC 5761 §4: RTCP packet types 192..223 have the value 64..95 in the low 7 bits of the
 * second byte; RTP payload types 64..95 are therefore never used with rtcp-mux. */
int sfu_demux_is_rtcp(const uint8_t *buf, size_t len) {
  if (len < 2)
    return 0;
  uint8_t pt = buf[1] & 0x7f;
  return pt >= 64 && pt <= 95;
}

sfu_pkt_kind_t sfu_demux_classify(const uint8_t *buf, size_t len) {
  if (len == 0)
    return SFU_PKT_DROP;
  uint8_t b = buf[0];
  /* RFC 7983 §7: the ranges are disjoint; anything outside the three veil speaks is
   * dropped (ZRTP 16..19, TURN channel 64..79, QUIC, and the unassigned values). */
  if (b <= 3)
    return len >= SFU_DEMUX_MIN_STUN ? SFU_PKT_STUN : SFU_PKT_DROP;
  if (b >= 20 && b <= 63)
    return len >= SFU_DEMUX_MIN_DTLS ? SFU_PKT_DTLS : SFU_PKT_DROP;
  if (b >= 128 && b <= 191) {
    if (sfu_demux_is_rtcp(buf, len))
      return len >= SFU_DEMUX_MIN_RTCP ? SFU_PKT_RTCP : SFU_PKT_DROP;
    return len >= SFU_DEMUX_MIN_RTP ? SFU_PKT_RTP : SFU_PKT_DROP;
  }
  return SFU_PKT_DROP;
}

const char *sfu_pkt_kind_name(sfu_pkt_kind_t kind) {
  switch (kind) {
  case SFU_PKT_STUN:
    return "stun";
  case SFU_PKT_DTLS:
    return "dtls";
  case SFU_PKT_RTP:
    return "rtp";
  case SFU_PKT_RTCP:
    return "rtcp";
  case SFU_PKT_DROP:
    return "drop";
  }
  return "drop";
}
