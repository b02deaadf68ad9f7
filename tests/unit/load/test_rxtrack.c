#include <criterion/criterion.h>
#include <string.h>

#include "clients/load/rxtrack.h"

static load_rxmap_t m;
static void setup(void) { cr_assert_eq(load_rxmap_init(&m, 4), 0); }
static void teardown(void) { load_rxmap_free(&m); }
TestSuite(load_rxtrack, .init = setup, .fini = teardown);

static void pkt(uint32_t ssrc, uint16_t seq) {
  uint8_t b[12] = {0x80, 111, (uint8_t)(seq >> 8), (uint8_t)seq, 0, 0, 0, 0,
                   (uint8_t)(ssrc >> 24), (uint8_t)(ssrc >> 16), (uint8_t)(ssrc >> 8), (uint8_t)ssrc};
  load_rxmap_packet(&m, b, sizeof b, NULL);
}

static void totals(uint64_t *e, uint64_t *l) { load_rxmap_totals(&m, e, l); }

Test(load_rxtrack, sequence_wrap_is_not_loss) {
  for (uint32_t s = 65530; s < 65536 + 10; s++) pkt(7, (uint16_t)s);
  uint64_t e, l;
  totals(&e, &l);
  cr_assert_eq(e, 16);
  cr_assert_eq(l, 0);
}

Test(load_rxtrack, gap_across_wrap_is_loss) {
  pkt(7, 65534);
  pkt(7, 1); /* 65535 and 0 missing */
  uint64_t e, l;
  totals(&e, &l);
  cr_assert_eq(e, 4);
  cr_assert_eq(l, 2);
  pkt(7, 65535); /* late, from before the wrap */
  totals(&e, &l);
  cr_assert_eq(l, 1);
}

Test(load_rxtrack, streams_are_counted_apart) {
  pkt(1, 10);
  pkt(1, 12);
  pkt(2, 500);
  pkt(2, 501);
  uint64_t e, l;
  totals(&e, &l);
  cr_assert_eq(e, 5);
  cr_assert_eq(l, 1);
}

Test(load_rxtrack, rejects_non_rtp_and_short_packets) {
  uint8_t junk[12] = {0x40};
  load_rxmap_packet(&m, junk, sizeof junk, NULL);
  load_rxmap_packet(&m, junk, 5, NULL);
  cr_assert_eq(m.malformed, 2);
  cr_assert_eq(m.packets, 0);
}

Test(load_rxtrack, stream_count_is_bounded_by_table) {
  for (uint32_t s = 1; s <= 100; s++) pkt(s, 1);
  cr_assert_leq(m.n * 2, m.cap, "table stays at most half full");
  cr_assert_eq(m.n + m.untracked, 100);
  cr_assert_gt(m.untracked, 0, "a 4-stream hint must not grow without bound");
}

Test(load_rxtrack, payload_skips_csrcs_extension_and_padding) {
  uint8_t b[] = {0xb1, 96, 0, 1, 0, 0, 0, 9, 0, 0, 0, 5, /* V=2 P X CC=1 */
                 1, 2, 3, 4,                               /* CSRC */
                 0xbe, 0xde, 0, 1, 0x10, 0xaa, 0, 0,       /* one-byte extension, 1 word */
                 0x42, 0x43, 0, 2};                        /* payload "BC", 2 padding */
  load_rx_info_t in;
  load_rxmap_packet(&m, b, sizeof b, &in);
  cr_assert(in.ok);
  cr_assert_eq(in.payload_len, 2);
  cr_assert_eq(in.payload[0], 0x42);
}

Test(load_rxtrack, rejects_padding_longer_than_payload_and_truncated_extension) {
  uint8_t pad[] = {0xa0, 96, 0, 1, 0, 0, 0, 9, 0, 0, 0, 5, 0x42, 9};
  uint8_t ext[] = {0x90, 96, 0, 1, 0, 0, 0, 9, 0, 0, 0, 5, 0xbe, 0xde, 0, 4, 0};
  load_rx_info_t in;
  load_rxmap_packet(&m, pad, sizeof pad, &in);
  cr_assert_not(in.ok);
  load_rxmap_packet(&m, ext, sizeof ext, &in);
  cr_assert_not(in.ok);
  cr_assert_eq(m.malformed, 2);
}

static void vpkt(uint16_t seq, uint32_t ts, int marker, load_rx_info_t *in) {
  uint8_t b[13] = {0x80, (uint8_t)((marker ? 0x80 : 0) | 96), (uint8_t)(seq >> 8), (uint8_t)seq,
                   (uint8_t)(ts >> 24), (uint8_t)(ts >> 16), (uint8_t)(ts >> 8), (uint8_t)ts, 0, 0, 0, 9, 0x11};
  load_rxmap_packet(&m, b, sizeof b, in);
}

Test(load_rxtrack, video_frame_start_follows_marker_or_timestamp_change) {
  load_rx_info_t in;
  vpkt(1, 100, 0, &in);
  vpkt(2, 100, 1, &in);
  cr_assert_not(in.frame_start);
  vpkt(3, 200, 0, &in);
  cr_assert(in.frame_start, "after a marker");
  vpkt(4, 200, 0, &in);
  cr_assert_not(in.frame_start, "middle of a frame");
  vpkt(6, 300, 0, &in);
  cr_assert_not(in.frame_start, "after a gap we cannot tell");
}
