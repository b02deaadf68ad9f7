/* Unit tests of the SFrame header codec (RFC 9605 §4.3): minimal forms, truncation,
 * non-minimal rejects, and every (KID length, CTR length) combination round-tripping. */
#include <criterion/criterion.h>
#include <string.h>

#include "clients/lib/sframe/sframe.h"

static int decode(const uint8_t *in, size_t len, sframe_header_t *h, size_t *used) {
  veil_reader_t r;
  veil_reader_init(&r, in, len);
  int rc = sframe_header_decode(&r, h);
  if (used)
    *used = len - veil_reader_remaining(&r);
  return rc;
}

static size_t encode(uint64_t kid, uint64_t ctr, uint8_t *buf) {
  veil_writer_t w;
  veil_writer_init(&w, buf, SFRAME_HEADER_MAX);
  cr_assert_eq(sframe_header_encode(&w, kid, ctr), 0);
  return w.len;
}

Test(sframe_header, small_values_live_in_the_config_byte) {
  uint8_t buf[SFRAME_HEADER_MAX];
  cr_assert_eq(encode(7, 5, buf), 1);
  cr_assert_eq(buf[0], 0x75);
  cr_assert_eq(encode(8, 0, buf), 2);
  cr_assert_eq(buf[0], 0x80);
  cr_assert_eq(buf[1], 0x08);
}

Test(sframe_header, round_trips_every_length_combination) {
  for (int kl = 0; kl <= 8; kl++)
    for (int cl = 0; cl <= 8; cl++) {
      /* A value needing exactly kl bytes (0: below 8), at both ends of its range. */
      for (int hi = 0; hi < 2; hi++) {
        uint64_t kid = kl == 0 ? (hi ? 7 : 0)
                       : kl == 8 ? (hi ? UINT64_MAX : UINT64_C(1) << 56)
                                 : (hi ? (UINT64_C(1) << (8 * kl)) - 1
                                       : (kl == 1 ? 8 : UINT64_C(1) << (8 * (kl - 1))));
        uint64_t ctr = cl == 0 ? (hi ? 7 : 0)
                       : cl == 8 ? (hi ? UINT64_MAX : UINT64_C(1) << 56)
                                 : (hi ? (UINT64_C(1) << (8 * cl)) - 1
                                       : (cl == 1 ? 8 : UINT64_C(1) << (8 * (cl - 1))));
        uint8_t buf[SFRAME_HEADER_MAX];
        size_t n = encode(kid, ctr, buf);
        cr_assert_eq(n, (size_t)(1 + kl + cl));
        cr_assert_eq(sframe_header_size(kid, ctr), n);
        sframe_header_t h;
        size_t used;
        cr_assert_eq(decode(buf, n, &h, &used), 0);
        cr_assert_eq(used, n);
        cr_assert_eq(h.kid, kid);
        cr_assert_eq(h.ctr, ctr);
        /* Every strict prefix is truncated. */
        for (size_t p = 0; p < n; p++)
          cr_assert_eq(decode(buf, p, &h, NULL), VEIL_ETRUNC, "prefix %zu of %zu", p, n);
      }
    }
}

Test(sframe_header, rejects_truncated_header) {
  const uint8_t kid_cut[] = {0x90, 0x01};       /* KID says 2 bytes, 1 present */
  const uint8_t ctr_cut[] = {0x0a, 0x01, 0x02}; /* CTR says 3 bytes, 2 present */
  sframe_header_t h;
  cr_assert_eq(decode(kid_cut, sizeof kid_cut, &h, NULL), VEIL_ETRUNC);
  cr_assert_eq(decode(ctr_cut, sizeof ctr_cut, &h, NULL), VEIL_ETRUNC);
  cr_assert_eq(decode(NULL, 0, &h, NULL), VEIL_ETRUNC);
}

Test(sframe_header, rejects_non_minimal_kid_and_ctr) {
  sframe_header_t h;
  const uint8_t small_kid_extended[] = {0x80, 0x07};       /* KID 7 belongs in K */
  const uint8_t small_ctr_extended[] = {0x08, 0x03};       /* CTR 3 belongs in C */
  const uint8_t kid_leading_zero[] = {0x90, 0x00, 0x10};   /* KID 16 in 2 bytes */
  const uint8_t ctr_leading_zero[] = {0x0f, 0, 0, 0, 0, 0, 0, 0, 0xff}; /* 8 bytes for 255 */
  cr_assert_eq(decode(small_kid_extended, 2, &h, NULL), VEIL_ENONMINIMAL);
  cr_assert_eq(decode(small_ctr_extended, 2, &h, NULL), VEIL_ENONMINIMAL);
  cr_assert_eq(decode(kid_leading_zero, 3, &h, NULL), VEIL_ENONMINIMAL);
  cr_assert_eq(decode(ctr_leading_zero, 9, &h, NULL), VEIL_ENONMINIMAL);
  /* The minimal forms of the same values decode. */
  const uint8_t fixed[] = {0x88, 0x10, 0xff};
  cr_assert_eq(decode(fixed, 3, &h, NULL), 0);
  cr_assert_eq(h.kid, 16);
  cr_assert_eq(h.ctr, 255);
}

Test(sframe_header, leaves_payload_after_header_unread) {
  const uint8_t in[] = {0x99, 0x01, 0x23, 0x45, 0x67, 0xaa, 0xbb};
  sframe_header_t h;
  size_t used;
  cr_assert_eq(decode(in, sizeof in, &h, &used), 0);
  cr_assert_eq(used, 5);
  cr_assert_eq(h.kid, 0x123);
  cr_assert_eq(h.ctr, 0x4567);
}
