/*
 * RTP header codec (RFC 3550) and RFC 8285 header extensions: truncation, padding and
 * extension-length hazards, in-place rewriting that leaves the payload untouched.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "sfu/rtp.h"

/* V=2 P=0 X=1 CC=1, M=1 PT=96, seq 0x1234, ts 0xdeadbeef, ssrc 0x01020304, csrc 0x0a0b0c0d,
 * one-byte extension (2 words): id 1 len 1 [0x55], padding 0, id 3 len 2 [0xaa 0xbb],
 * padding 0, 0 ... then 4 payload bytes. */
static const uint8_t pkt1[] = {
    0x91, 0xe0, 0x12, 0x34, 0xde, 0xad, 0xbe, 0xef, 0x01, 0x02, 0x03, 0x04,
    0x0a, 0x0b, 0x0c, 0x0d,                         /* CSRC */
    0xbe, 0xde, 0x00, 0x02,                         /* one-byte profile, 2 words */
    0x10, 0x55, 0x00, 0x31, 0xaa, 0xbb, 0x00, 0x00, /* elements + padding */
    0xc0, 0xff, 0xee, 0x00,                         /* payload */
};

Test(rtp, parses_header_csrc_and_extension) {
  sfu_rtp_hdr_t h;
  cr_assert_eq(sfu_rtp_parse(pkt1, sizeof(pkt1), &h), 0);
  cr_assert_eq(h.csrc_count, 1);
  cr_assert_eq(h.csrc[0], 0x0a0b0c0d);
  cr_assert_eq(h.marker, 1);
  cr_assert_eq(h.payload_type, 96);
  cr_assert_eq(h.seq, 0x1234);
  cr_assert_eq(h.timestamp, 0xdeadbeef);
  cr_assert_eq(h.ssrc, 0x01020304);
  cr_assert_eq(h.ext_profile, 0xbede);
  cr_assert_eq(h.ext.len, 8);
  cr_assert_eq(h.header_len, 28);
  cr_assert_eq(h.payload.len, 4);
  cr_assert_eq(h.payload.ptr, pkt1 + 28);
  sfu_rtp_ext_elem_t e;
  cr_assert_eq(sfu_rtp_ext_find(&h, 1, &e), 0);
  cr_assert_eq(e.data.len, 1);
  cr_assert_eq(e.data.ptr[0], 0x55);
  cr_assert_eq(e.offset, 21);
  cr_assert_eq(sfu_rtp_ext_find(&h, 3, &e), 0);
  cr_assert_eq(e.data.len, 2);
  cr_assert_eq(e.offset, 24);
  cr_assert_eq(sfu_rtp_ext_find(&h, 2, &e), VEIL_ENOTFOUND);
  cr_assert_eq(sfu_rtp_ext_validate(&h), 0);
}

Test(rtp, rejects_truncation_inside_the_header_at_every_byte) {
  sfu_rtp_hdr_t h;
  for (size_t i = 0; i < 28; i++)
    cr_assert_eq(sfu_rtp_parse(pkt1, i, &h), VEIL_ETRUNC, "prefix %zu", i);
  for (size_t i = 28; i <= sizeof(pkt1); i++) {
    cr_assert_eq(sfu_rtp_parse(pkt1, i, &h), 0);
    cr_assert_eq(h.payload.len, i - 28);
  }
}

Test(rtp, rejects_version_other_than_2) {
  uint8_t p[sizeof(pkt1)];
  memcpy(p, pkt1, sizeof(p));
  sfu_rtp_hdr_t h;
  for (uint8_t v = 0; v < 4; v++) {
    if (v == 2)
      continue;
    p[0] = (uint8_t)((p[0] & 0x3f) | (v << 6));
    cr_assert_eq(sfu_rtp_parse(p, sizeof(p), &h), VEIL_ERTP_VERSION);
  }
}

Test(rtp, rejects_bad_padding_counts) {
  uint8_t p[sizeof(pkt1)];
  sfu_rtp_hdr_t h;
  memcpy(p, pkt1, sizeof(p));
  p[0] |= 0x20;
  p[sizeof(p) - 1] = 0; /* count 0 */
  cr_assert_eq(sfu_rtp_parse(p, sizeof(p), &h), VEIL_ERTP_PADDING);
  p[sizeof(p) - 1] = 5; /* more than the 4 bytes after the header */
  cr_assert_eq(sfu_rtp_parse(p, sizeof(p), &h), VEIL_ERTP_PADDING);
  p[sizeof(p) - 1] = 4; /* the whole remainder is padding: empty payload */
  cr_assert_eq(sfu_rtp_parse(p, sizeof(p), &h), 0);
  cr_assert_eq(h.payload.len, 0);
  cr_assert_eq(h.pad_len, 4);
  /* P set but nothing after the header. */
  cr_assert_eq(sfu_rtp_parse(p, 28, &h), VEIL_ERTP_PADDING);
}

/* Parses pkt1 with byte `at` set to v; p receives the bytes h views. */
static int parse_pkt1_with(uint8_t p[sizeof(pkt1)], size_t at, uint8_t v, sfu_rtp_hdr_t *h) {
  memcpy(p, pkt1, sizeof(pkt1));
  p[at] = v;
  return sfu_rtp_parse(p, sizeof(pkt1), h);
}

/* The extension block is well-formed, but element `id` is not in it. */
static void assert_valid_without_element(const sfu_rtp_hdr_t *h, uint8_t id) {
  sfu_rtp_ext_elem_t e;
  cr_assert_eq(sfu_rtp_ext_find(h, id, &e), VEIL_ENOTFOUND);
  cr_assert_eq(sfu_rtp_ext_validate(h), 0);
}

Test(rtp, rejects_extension_length_past_end) {
  uint8_t p[sizeof(pkt1)];
  sfu_rtp_hdr_t h;
  /* 16 bytes of extension declared, 12 left */
  cr_assert_eq(parse_pkt1_with(p, 19, 4, &h), VEIL_ETRUNC);
}

Test(rtp, rejects_one_byte_element_running_past_the_extension) {
  uint8_t p[sizeof(pkt1)];
  sfu_rtp_hdr_t h;
  cr_assert_eq(parse_pkt1_with(p, 23, 0x3f, &h), 0); /* id 3, 16 bytes: only 4 remain */
  sfu_rtp_ext_elem_t e;
  cr_assert_eq(sfu_rtp_ext_find(&h, 1, &e), 0); /* before the bad element: found */
  cr_assert_eq(sfu_rtp_ext_find(&h, 3, &e), VEIL_ERTP_EXT);
  cr_assert_eq(sfu_rtp_ext_validate(&h), VEIL_ERTP_EXT);
}

Test(rtp, rejects_one_byte_id_zero_with_length) {
  uint8_t p[sizeof(pkt1)];
  sfu_rtp_hdr_t h;
  cr_assert_eq(parse_pkt1_with(p, 22, 0x01, &h), 0);
  cr_assert_eq(sfu_rtp_ext_validate(&h), VEIL_ERTP_EXT);
}

Test(rtp, one_byte_id_15_stops_processing) {
  uint8_t p[sizeof(pkt1)];
  sfu_rtp_hdr_t h;
  /* reserved id 15 first: nothing after it counts (RFC 8285 §4.2) */
  cr_assert_eq(parse_pkt1_with(p, 20, 0xf0, &h), 0);
  assert_valid_without_element(&h, 3);
}

Test(rtp, parses_two_byte_extension_with_zero_length_and_high_ids) {
  const uint8_t p[] = {0x90, 0x60, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3,
                       0x10, 0x00, 0x00, 0x02,       /* two-byte profile, appbits 0 */
                       0xc8, 0x00,                   /* id 200, empty */
                       0x00,                         /* padding */
                       0x05, 0x03, 1, 2, 3};         /* id 5, 3 bytes */
  sfu_rtp_hdr_t h;
  cr_assert_eq(sfu_rtp_parse(p, sizeof(p), &h), 0);
  sfu_rtp_ext_elem_t e;
  cr_assert_eq(sfu_rtp_ext_find(&h, 200, &e), 0);
  cr_assert_eq(e.data.len, 0);
  cr_assert_eq(sfu_rtp_ext_find(&h, 5, &e), 0);
  cr_assert_eq(e.data.len, 3);
  cr_assert_eq(e.data.ptr[2], 3);
  cr_assert_eq(h.payload.len, 0);
}

Test(rtp, rejects_two_byte_element_running_past_the_extension) {
  const uint8_t p[] = {0x90, 0x60, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3,
                       0x10, 0x00, 0x00, 0x01, 0x05, 0x03, 1, 2};
  sfu_rtp_hdr_t h;
  cr_assert_eq(sfu_rtp_parse(p, sizeof(p), &h), 0);
  cr_assert_eq(sfu_rtp_ext_validate(&h), VEIL_ERTP_EXT);
  /* The length byte itself cut off. */
  const uint8_t q[] = {0x90, 0x60, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3,
                       0x10, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x05};
  cr_assert_eq(sfu_rtp_parse(q, sizeof(q), &h), 0);
  cr_assert_eq(sfu_rtp_ext_validate(&h), VEIL_ERTP_EXT);
}

Test(rtp, ignores_extensions_of_other_profiles) {
  uint8_t p[sizeof(pkt1)];
  sfu_rtp_hdr_t h;
  cr_assert_eq(parse_pkt1_with(p, 16, 0xab, &h), 0); /* profile 0xabde: not RFC 8285 */
  assert_valid_without_element(&h, 1);
}

Test(rtp, writes_the_exact_bytes_it_parses) {
  uint32_t csrc = 0x0a0b0c0d;
  uint8_t v1 = 0x55, v3[2] = {0xaa, 0xbb};
  sfu_rtp_ext_in_t ext[2] = {{1, &v1, 1}, {3, v3, 2}};
  const uint8_t pay[4] = {0xc0, 0xff, 0xee, 0x00};
  sfu_rtp_write_params_t p = {.marker = 1, .payload_type = 96, .seq = 0x1234,
                              .timestamp = 0xdeadbeef, .ssrc = 0x01020304, .csrc = &csrc,
                              .csrc_count = 1, .ext = ext, .n_ext = 2,
                              .payload = {pay, sizeof(pay)}};
  uint8_t out[64];
  veil_writer_t w;
  veil_writer_init(&w, out, sizeof(out));
  cr_assert_eq(sfu_rtp_write(&w, &p), 0);
  /* Ours packs elements without the padding byte pkt1 has between them. */
  sfu_rtp_hdr_t h;
  cr_assert_eq(sfu_rtp_parse(out, w.len, &h), 0);
  cr_assert_eq(w.len, sizeof(pkt1));
  const uint8_t want_ext[8] = {0x10, 0x55, 0x31, 0xaa, 0xbb, 0, 0, 0};
  cr_assert_eq(memcmp(out, pkt1, 20), 0);
  cr_assert_eq(memcmp(out + 20, want_ext, 8), 0);
  cr_assert_eq(memcmp(out + 28, pay, 4), 0);
  /* Every capacity short of the size fails with overflow. */
  for (size_t cap = 0; cap < sizeof(pkt1); cap++) {
    veil_writer_init(&w, out, cap);
    cr_assert_eq(sfu_rtp_write(&w, &p), VEIL_EOVERFLOW);
  }
}

Test(rtp, writes_two_byte_form_when_one_byte_cannot_express_it) {
  uint8_t big[20];
  memset(big, 7, sizeof(big));
  sfu_rtp_ext_in_t ext[2] = {{1, big, 20}, {200, NULL, 0}};
  sfu_rtp_write_params_t p = {.payload_type = 100, .ext = ext, .n_ext = 2, .pad_len = 3};
  uint8_t out[128];
  veil_writer_t w;
  veil_writer_init(&w, out, sizeof(out));
  cr_assert_eq(sfu_rtp_write(&w, &p), 0);
  sfu_rtp_hdr_t h;
  cr_assert_eq(sfu_rtp_parse(out, w.len, &h), 0);
  cr_assert_eq(h.ext_profile, SFU_RTP_EXT_TWO_BYTE);
  cr_assert_eq(h.pad_len, 3);
  cr_assert_eq(h.payload.len, 0);
  sfu_rtp_ext_elem_t e;
  cr_assert_eq(sfu_rtp_ext_find(&h, 1, &e), 0);
  cr_assert_eq(e.data.len, 20);
  cr_assert_eq(sfu_rtp_ext_find(&h, 200, &e), 0);
  cr_assert_eq(e.data.len, 0);
}

Test(rtp, write_rejects_impossible_fields) {
  uint8_t out[64];
  veil_writer_t w;
  sfu_rtp_ext_in_t ext[1] = {{0, "x", 1}};
  sfu_rtp_write_params_t p = {.payload_type = 100, .ext = ext, .n_ext = 1};
  veil_writer_init(&w, out, sizeof(out));
  cr_assert_eq(sfu_rtp_write(&w, &p), VEIL_EINVAL);
  sfu_rtp_write_params_t q = {.payload_type = 128};
  veil_writer_init(&w, out, sizeof(out));
  cr_assert_eq(sfu_rtp_write(&w, &q), VEIL_EINVAL);
  uint32_t cs[16] = {0};
  sfu_rtp_write_params_t r = {.csrc = cs, .csrc_count = 16};
  veil_writer_init(&w, out, sizeof(out));
  cr_assert_eq(sfu_rtp_write(&w, &r), VEIL_EINVAL);
}

Test(rtp, rewrites_in_place_without_touching_the_payload) {
  uint8_t p[sizeof(pkt1)];
  memcpy(p, pkt1, sizeof(p));
  sfu_rtp_hdr_t h;
  cr_assert_eq(sfu_rtp_parse(p, sizeof(p), &h), 0);
  const uint8_t nv[2] = {0x11, 0x22};
  cr_assert_eq(sfu_rtp_ext_rewrite(p, sizeof(p), &h, 3, nv, 2), 0);
  cr_assert_eq(sfu_rtp_ext_rewrite(p, sizeof(p), &h, 3, nv, 1), VEIL_ERANGE);
  cr_assert_eq(sfu_rtp_ext_rewrite(p, sizeof(p), &h, 9, nv, 2), VEIL_ENOTFOUND);
  cr_assert_eq(sfu_rtp_set_ssrc(p, sizeof(p), 0xcafebabe), 0);
  cr_assert_eq(sfu_rtp_set_seq(p, sizeof(p), 7), 0);
  cr_assert_eq(sfu_rtp_set_timestamp(p, sizeof(p), 99), 0);
  cr_assert_eq(sfu_rtp_set_payload_type(p, sizeof(p), 111), 0);
  cr_assert_eq(sfu_rtp_set_marker(p, sizeof(p), 0), 0);
  sfu_rtp_hdr_t g;
  cr_assert_eq(sfu_rtp_parse(p, sizeof(p), &g), 0);
  cr_assert_eq(g.ssrc, 0xcafebabe);
  cr_assert_eq(g.seq, 7);
  cr_assert_eq(g.timestamp, 99);
  cr_assert_eq(g.payload_type, 111);
  cr_assert_eq(g.marker, 0);
  sfu_rtp_ext_elem_t e;
  cr_assert_eq(sfu_rtp_ext_find(&g, 3, &e), 0);
  cr_assert_eq(memcmp(e.data.ptr, nv, 2), 0);
  cr_assert_eq(memcmp(p + 12, pkt1 + 12, 8), 0); /* CSRC and extension header */
  cr_assert_eq(memcmp(p + 28, pkt1 + 28, 4), 0); /* payload byte for byte */
}

Test(rtp, setters_reject_short_buffers) {
  uint8_t p[11] = {0};
  cr_assert_eq(sfu_rtp_set_ssrc(p, sizeof(p), 1), VEIL_ETRUNC);
  cr_assert_eq(sfu_rtp_set_seq(p, sizeof(p), 1), VEIL_ETRUNC);
  cr_assert_eq(sfu_rtp_set_timestamp(p, sizeof(p), 1), VEIL_ETRUNC);
  cr_assert_eq(sfu_rtp_set_marker(p, sizeof(p), 1), VEIL_ETRUNC);
  cr_assert_eq(sfu_rtp_set_payload_type(p, sizeof(p), 1), VEIL_ETRUNC);
}

Test(rtp, rejects_csrc_count_past_end) {
  uint8_t p[12 + 8] = {0x8f, 0x60};
  sfu_rtp_hdr_t h;
  cr_assert_eq(sfu_rtp_parse(p, sizeof(p), &h), VEIL_ETRUNC); /* 15 CSRCs, 2 present */
}
