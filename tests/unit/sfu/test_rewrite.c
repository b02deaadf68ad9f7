/* Sequence/timestamp rewriting: continuity across source switches, wrap-around. */
#include <criterion/criterion.h>

#include "sfu/rewrite.h"

#define VIDEO_HZ 90000

/* A rewriter that forwarded one packet (sequence number first_seq) of a first source and
 * was then switched to a second one. */
static void init_switched(sfu_rewrite_t *rw, uint16_t first_seq) {
  uint16_t s;
  uint32_t t;
  sfu_rewrite_init(rw);
  cr_assert_eq(sfu_rewrite_apply(rw, first_seq, 0, 0, VIDEO_HZ, &s, &t), 0);
  sfu_rewrite_switch(rw);
}

Test(rewrite, first_source_maps_identically) {
  sfu_rewrite_t rw;
  sfu_rewrite_init(&rw);
  uint16_t s;
  uint32_t t;
  cr_assert_eq(sfu_rewrite_apply(&rw, 1000, 5000, 0, VIDEO_HZ, &s, &t), 0);
  cr_assert_eq(s, 1000);
  cr_assert_eq(t, 5000);
}

Test(rewrite, switch_continues_sequence_without_gap_and_timestamp_forward) {
  sfu_rewrite_t rw;
  sfu_rewrite_init(&rw);
  uint16_t s;
  uint32_t t;
  for (int i = 0; i < 10; i++)
    cr_assert_eq(sfu_rewrite_apply(&rw, (uint16_t)(100 + i), 9000u * i, 33u * i, VIDEO_HZ, &s, &t),
                 0);
  cr_assert_eq(s, 109);
  uint32_t last_ts = t;
  sfu_rewrite_switch(&rw);
  /* New source with unrelated numbering, 40 ms later. */
  cr_assert_eq(sfu_rewrite_apply(&rw, 61000, 123456789u, 33u * 9 + 40, VIDEO_HZ, &s, &t), 0);
  cr_assert_eq(s, 110, "sequence gap across the switch: %u", s);
  cr_assert_eq(t, last_ts + 40 * 90, "timestamp step %u", t - last_ts);
  cr_assert_eq(sfu_rewrite_apply(&rw, 61001, 123456789u + 3000, 400, VIDEO_HZ, &s, &t), 0);
  cr_assert_eq(s, 111);
  cr_assert_eq(t, last_ts + 40 * 90 + 3000);
}

Test(rewrite, drops_packets_of_new_source_older_than_splice) {
  sfu_rewrite_t rw;
  init_switched(&rw, 10);
  uint16_t s;
  uint32_t t;
  cr_assert_eq(sfu_rewrite_apply(&rw, 500, 0, 10, VIDEO_HZ, &s, &t), 0);
  cr_assert_eq(sfu_rewrite_apply(&rw, 499, 0, 11, VIDEO_HZ, &s, &t), 1,
               "a late packet from before the splice would reuse sequence number %u", s);
}

Test(rewrite, survives_sequence_wrap_after_switch) {
  sfu_rewrite_t rw;
  init_switched(&rw, 1);
  uint16_t s, prev = 0;
  uint32_t t;
  uint16_t in = 65000;
  for (int i = 0; i < 70000; i++, in++) {
    cr_assert_eq(sfu_rewrite_apply(&rw, in, (uint32_t)i * 3000, (uint64_t)i, VIDEO_HZ, &s, &t), 0,
                 "packet %d dropped after wrap", i);
    if (i > 0) cr_assert_eq((uint16_t)(prev + 1), s);
    prev = s;
  }
}

Test(rewrite, reordered_packet_keeps_its_relative_position) {
  sfu_rewrite_t rw;
  init_switched(&rw, 10);
  uint16_t s;
  uint32_t t;
  cr_assert_eq(sfu_rewrite_apply(&rw, 200, 1000, 5, VIDEO_HZ, &s, &t), 0);
  uint16_t base = s;
  cr_assert_eq(sfu_rewrite_apply(&rw, 202, 1000, 6, VIDEO_HZ, &s, &t), 0);
  cr_assert_eq(s, (uint16_t)(base + 2));
  cr_assert_eq(sfu_rewrite_apply(&rw, 201, 1000, 7, VIDEO_HZ, &s, &t), 0);
  cr_assert_eq(s, (uint16_t)(base + 1));
}
