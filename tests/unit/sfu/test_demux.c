/*
 * RFC 7983 first-byte demultiplexing and the RFC 5761 RTP/RTCP split.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "sfu/demux.h"

static sfu_pkt_kind_t expected_for(uint8_t b0, uint8_t b1) {
  if (b0 <= 3)
    return SFU_PKT_STUN;
  if (b0 >= 20 && b0 <= 63)
    return SFU_PKT_DTLS;
  if (b0 >= 128 && b0 <= 191)
    return ((b1 & 0x7f) >= 64 && (b1 & 0x7f) <= 95) ? SFU_PKT_RTCP : SFU_PKT_RTP;
  return SFU_PKT_DROP;
}

Test(demux, classifies_every_first_byte_per_rfc7983) {
  uint8_t b[64] = {0};
  for (int v = 0; v < 256; v++) {
    b[0] = (uint8_t)v;
    b[1] = 96;
    cr_assert_eq(sfu_demux_classify(b, sizeof(b)), expected_for(b[0], b[1]), "byte %d", v);
  }
  /* ZRTP (16..19), TURN channels (64..79) and 192..255 are dropped, not misrouted. */
  b[0] = 17;
  cr_assert_eq(sfu_demux_classify(b, sizeof(b)), SFU_PKT_DROP);
  b[0] = 64;
  cr_assert_eq(sfu_demux_classify(b, sizeof(b)), SFU_PKT_DROP);
  b[0] = 200;
  cr_assert_eq(sfu_demux_classify(b, sizeof(b)), SFU_PKT_DROP);
}

Test(demux, splits_rtcp_from_rtp_by_payload_type_ignoring_marker) {
  uint8_t b[16] = {0x80};
  const struct { uint8_t b1; sfu_pkt_kind_t k; } cases[] = {
      {63, SFU_PKT_RTP},         {64, SFU_PKT_RTCP}, {95, SFU_PKT_RTCP}, {96, SFU_PKT_RTP},
      {0x80 | 63, SFU_PKT_RTP},  {200, SFU_PKT_RTCP}, /* SR: 200 = 0x80 | 72 */
      {0x80 | 96, SFU_PKT_RTP},  {206, SFU_PKT_RTCP}, {223, SFU_PKT_RTCP},
      {224, SFU_PKT_RTP}};
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    b[1] = cases[i].b1;
    cr_assert_eq(sfu_demux_classify(b, sizeof(b)), cases[i].k, "second byte %u", cases[i].b1);
  }
}

Test(demux, drops_datagrams_shorter_than_the_fixed_header) {
  uint8_t b[32] = {0};
  b[0] = 0x00;
  cr_assert_eq(sfu_demux_classify(b, SFU_DEMUX_MIN_STUN - 1), SFU_PKT_DROP);
  cr_assert_eq(sfu_demux_classify(b, SFU_DEMUX_MIN_STUN), SFU_PKT_STUN);
  b[0] = 22;
  cr_assert_eq(sfu_demux_classify(b, SFU_DEMUX_MIN_DTLS - 1), SFU_PKT_DROP);
  cr_assert_eq(sfu_demux_classify(b, SFU_DEMUX_MIN_DTLS), SFU_PKT_DTLS);
  b[0] = 0x80, b[1] = 96;
  cr_assert_eq(sfu_demux_classify(b, SFU_DEMUX_MIN_RTP - 1), SFU_PKT_DROP);
  cr_assert_eq(sfu_demux_classify(b, SFU_DEMUX_MIN_RTP), SFU_PKT_RTP);
  b[1] = 201;
  cr_assert_eq(sfu_demux_classify(b, SFU_DEMUX_MIN_RTCP - 1), SFU_PKT_DROP);
  cr_assert_eq(sfu_demux_classify(b, SFU_DEMUX_MIN_RTCP), SFU_PKT_RTCP);
  cr_assert_eq(sfu_demux_classify(NULL, 0), SFU_PKT_DROP);
  cr_assert_eq(sfu_demux_classify(b, 1), SFU_PKT_DROP);
  cr_assert_eq(sfu_demux_is_rtcp(b, 1), 0);
}

Test(demux, names_every_kind) {
  cr_assert_str_eq(sfu_pkt_kind_name(SFU_PKT_STUN), "stun");
  cr_assert_str_eq(sfu_pkt_kind_name(SFU_PKT_DTLS), "dtls");
  cr_assert_str_eq(sfu_pkt_kind_name(SFU_PKT_RTP), "rtp");
  cr_assert_str_eq(sfu_pkt_kind_name(SFU_PKT_RTCP), "rtcp");
  cr_assert_str_eq(sfu_pkt_kind_name(SFU_PKT_DROP), "drop");
}
