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
  load_rxmap_packet(&m, b, sizeof b);
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
  load_rxmap_packet(&m, junk, sizeof junk);
  load_rxmap_packet(&m, junk, 5);
  cr_assert_eq(m.malformed, 2);
  cr_assert_eq(m.packets, 0);
}

Test(load_rxtrack, stream_count_is_bounded_by_table) {
  for (uint32_t s = 1; s <= 100; s++) pkt(s, 1);
  cr_assert_leq(m.n * 2, m.cap, "table stays at most half full");
  cr_assert_eq(m.n + m.untracked, 100);
  cr_assert_gt(m.untracked, 0, "a 4-stream hint must not grow without bound");
}
