/* Unit tests of the common byte reader/writer: every boundary, every prefix kind. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/bytes.h"

/* ---- fixed-width integers ------------------------------------------------------- */

Test(bytes, reads_big_endian_integers) {
  const uint8_t in[] = {0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a,
                        0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0x10, 0x11, 0x12};
  veil_reader_t r;
  veil_reader_init(&r, in, sizeof in);
  uint8_t a;
  uint16_t b;
  uint32_t c, d;
  uint64_t e;
  cr_assert_eq(veil_read_u8(&r, &a), 0);
  cr_assert_eq(veil_read_u16(&r, &b), 0);
  cr_assert_eq(veil_read_u24(&r, &c), 0);
  cr_assert_eq(veil_read_u32(&r, &d), 0);
  cr_assert_eq(veil_read_u64(&r, &e), 0);
  cr_assert_eq(a, 0x01);
  cr_assert_eq(b, 0x0203);
  cr_assert_eq(c, 0x040506);
  cr_assert_eq(d, 0x0708090a);
  cr_assert_eq(e, UINT64_C(0x0b0c0d0e0f101112));
  cr_assert_eq(veil_reader_finish(&r), 0);
}

Test(bytes, truncation_at_every_byte_is_an_error_that_sticks) {
  /* u8 u16 u24 u32 u64 = 18 bytes; cut at each length and check that exactly the reads
   * that fit succeed and every read after the first failure fails with VEIL_ETRUNC. */
  uint8_t in[18];
  for (size_t i = 0; i < sizeof in; i++)
    in[i] = (uint8_t)(i + 1);
  static const size_t ends[] = {1, 3, 6, 10, 18};
  for (size_t cut = 0; cut < sizeof in; cut++) {
    veil_reader_t r;
    veil_reader_init(&r, in, cut);
    uint8_t a = 0;
    uint16_t b = 0;
    uint32_t c = 0, d = 0;
    uint64_t e = 0;
    int rc[5];
    rc[0] = veil_read_u8(&r, &a);
    rc[1] = veil_read_u16(&r, &b);
    rc[2] = veil_read_u24(&r, &c);
    rc[3] = veil_read_u32(&r, &d);
    rc[4] = veil_read_u64(&r, &e);
    int failed = 0;
    for (int k = 0; k < 5; k++) {
      if (ends[k] <= cut && !failed)
        cr_assert_eq(rc[k], 0, "cut %zu read %d", cut, k);
      else {
        failed = 1;
        cr_assert_eq(rc[k], VEIL_ETRUNC, "cut %zu read %d", cut, k);
      }
    }
    cr_assert_eq(r.err, VEIL_ETRUNC);
    cr_assert_eq(veil_reader_remaining(&r), 0);
  }
}

Test(bytes, failed_read_leaves_output_untouched) {
  const uint8_t in[] = {0xaa};
  veil_reader_t r;
  veil_reader_init(&r, in, sizeof in);
  uint32_t v = 0x12345678;
  cr_assert_eq(veil_read_u32(&r, &v), VEIL_ETRUNC);
  cr_assert_eq(v, 0x12345678);
}

Test(bytes, empty_and_null_input_reads_nothing) {
  veil_reader_t r;
  veil_reader_init(&r, NULL, 10);
  uint8_t v;
  cr_assert_eq(veil_reader_remaining(&r), 0);
  cr_assert_eq(veil_read_u8(&r, &v), VEIL_ETRUNC);
  veil_reader_init(&r, NULL, 0);
  cr_assert_eq(veil_reader_finish(&r), 0);
}

Test(bytes, uint_of_any_width) {
  const uint8_t in[] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
  for (size_t n = 1; n <= 8; n++) {
    veil_reader_t r;
    uint64_t v;
    veil_reader_init(&r, in, n);
    cr_assert_eq(veil_read_uint(&r, n, &v), 0);
    cr_assert_eq(v, n == 8 ? UINT64_MAX : (UINT64_C(1) << (8 * n)) - 1);
  }
  veil_reader_t r;
  uint64_t v;
  veil_reader_init(&r, in, 8);
  cr_assert_eq(veil_read_uint(&r, 9, &v), VEIL_EINVAL);
  veil_reader_init(&r, in, 8);
  cr_assert_eq(veil_read_uint(&r, 0, &v), VEIL_EINVAL);
}

Test(bytes, trailing_bytes_are_reported) {
  const uint8_t in[] = {1, 2};
  veil_reader_t r;
  uint8_t v;
  veil_reader_init(&r, in, sizeof in);
  cr_assert_eq(veil_read_u8(&r, &v), 0);
  cr_assert_eq(veil_reader_finish(&r), VEIL_ETRAILING);
}

/* ---- varints ---------------------------------------------------------------------- */

typedef struct {
  const char *hex;
  uint64_t value;
} varint_case_t;

static size_t unhex(const char *hex, uint8_t *out) {
  size_t n = strlen(hex) / 2;
  for (size_t i = 0; i < n; i++) {
    unsigned x;
    sscanf(hex + 2 * i, "%2x", &x);
    out[i] = (uint8_t)x;
  }
  return n;
}

Test(bytes, quic_varint_rfc9000_examples) {
  /* RFC 9000 §A.1 sample encodings. */
  static const varint_case_t cases[] = {
      {"c2197c5eff14e88c", UINT64_C(151288809941952652)},
      {"9d7f3e7d", 494878333},
      {"7bbd", 15293},
      {"25", 37},
      {"4025", 37}, /* non-minimal: allowed by QUIC, rejected by MLS */
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    uint8_t buf[8];
    size_t n = unhex(cases[i].hex, buf);
    veil_reader_t r;
    uint64_t v;
    veil_reader_init(&r, buf, n);
    cr_assert_eq(veil_read_quic_varint(&r, &v), 0);
    cr_assert_eq(v, cases[i].value);
    cr_assert_eq(veil_reader_finish(&r), 0);
  }
}

Test(bytes, mls_varint_rejects_non_minimal_encodings) {
  static const char *const bad[] = {"4025", "4000", "403f", "80000001", "80003fff", "800000ff"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    uint8_t buf[8];
    size_t n = unhex(bad[i], buf);
    veil_reader_t r;
    uint64_t v = 77;
    veil_reader_init(&r, buf, n);
    cr_assert_eq(veil_read_varint(&r, &v), VEIL_ENONMINIMAL, "%s", bad[i]);
    cr_assert_eq(v, 77);
  }
}

Test(bytes, mls_varint_rejects_eight_byte_form) {
  uint8_t buf[8] = {0xc0, 0, 0, 0, 0, 0, 0, 1};
  veil_reader_t r;
  uint64_t v;
  veil_reader_init(&r, buf, 8);
  cr_assert_eq(veil_read_varint(&r, &v), VEIL_EDECODE);
}

Test(bytes, varint_boundaries_round_trip_minimally) {
  static const uint64_t values[] = {0, 1, 63, 64, 16383, 16384, (1u << 30) - 1};
  static const size_t sizes[] = {1, 1, 1, 2, 2, 4, 4};
  for (size_t i = 0; i < sizeof values / sizeof values[0]; i++) {
    uint8_t buf[8];
    veil_writer_t w;
    veil_writer_init(&w, buf, sizeof buf);
    cr_assert_eq(veil_write_varint(&w, values[i]), 0);
    cr_assert_eq(w.len, sizes[i]);
    cr_assert_eq(veil_varint_size(values[i]), sizes[i]);
    veil_reader_t r;
    uint64_t v;
    veil_reader_init(&r, buf, w.len);
    cr_assert_eq(veil_read_varint(&r, &v), 0);
    cr_assert_eq(v, values[i]);
    cr_assert_eq(veil_reader_finish(&r), 0);
    /* every truncation of the encoding fails */
    for (size_t cut = 0; cut < w.len; cut++) {
      veil_reader_init(&r, buf, cut);
      cr_assert_eq(veil_read_varint(&r, &v), VEIL_ETRUNC);
    }
  }
}

Test(bytes, mls_varint_writer_rejects_values_above_2_30) {
  uint8_t buf[8];
  veil_writer_t w;
  veil_writer_init(&w, buf, sizeof buf);
  cr_assert_eq(veil_write_varint(&w, UINT64_C(1) << 30), VEIL_ERANGE);
  cr_assert_eq(w.len, 0);
  veil_writer_init(&w, buf, sizeof buf);
  cr_assert_eq(veil_write_quic_varint(&w, UINT64_C(1) << 30), 0);
  cr_assert_eq(w.len, 8);
  veil_writer_init(&w, buf, sizeof buf);
  cr_assert_eq(veil_write_quic_varint(&w, VEIL_VARINT_MAX + 1), VEIL_ERANGE);
}

/* ---- vectors and blocks ----------------------------------------------------------- */

Test(bytes, vectors_with_every_prefix_round_trip) {
  static const veil_len_prefix_t prefixes[] = {VEIL_LEN_U8, VEIL_LEN_U16, VEIL_LEN_U24,
                                               VEIL_LEN_U32, VEIL_LEN_VARINT};
  const uint8_t payload[] = "hello, veil";
  for (size_t i = 0; i < 5; i++) {
    uint8_t buf[64];
    veil_writer_t w;
    veil_writer_init(&w, buf, sizeof buf);
    cr_assert_eq(veil_write_vec(&w, prefixes[i], payload, 11), 0);
    veil_reader_t r;
    veil_view_t v;
    veil_reader_init(&r, buf, w.len);
    cr_assert_eq(veil_read_vec(&r, prefixes[i], 100, &v), 0);
    cr_assert_eq(v.len, 11);
    cr_assert_eq(memcmp(v.ptr, payload, 11), 0);
    cr_assert_eq(veil_reader_finish(&r), 0);
    /* truncated anywhere inside: error, never a short view */
    for (size_t cut = 0; cut < w.len; cut++) {
      veil_reader_init(&r, buf, cut);
      cr_assert_neq(veil_read_vec(&r, prefixes[i], 100, &v), 0);
    }
  }
}

Test(bytes, vector_longer_than_limit_is_rejected_before_reading) {
  uint8_t buf[] = {0x00, 0x00, 0x01, 0x00}; /* u32 length 256, no content */
  veil_reader_t r;
  veil_view_t v;
  veil_reader_init(&r, buf, sizeof buf);
  cr_assert_eq(veil_read_vec(&r, VEIL_LEN_U32, 255, &v), VEIL_ELIMIT);
  veil_reader_init(&r, buf, sizeof buf);
  cr_assert_eq(veil_read_vec(&r, VEIL_LEN_U32, 256, &v), VEIL_ETRUNC);
}

Test(bytes, maximal_lengths_for_each_prefix) {
  /* A u8 vector of 255 bytes, a u16 vector of 65535 bytes: exact fit succeeds. */
  size_t n = 65535 + 2;
  uint8_t *buf = calloc(1, n);
  buf[0] = 0xff;
  buf[1] = 0xff;
  veil_reader_t r;
  veil_view_t v;
  veil_reader_init(&r, buf, n);
  cr_assert_eq(veil_read_vec(&r, VEIL_LEN_U16, SIZE_MAX, &v), 0);
  cr_assert_eq(v.len, 65535);
  cr_assert_eq(veil_reader_finish(&r), 0);
  buf[0] = 0xff;
  veil_reader_init(&r, buf, 256);
  cr_assert_eq(veil_read_vec(&r, VEIL_LEN_U8, SIZE_MAX, &v), 0);
  cr_assert_eq(v.len, 255);
  /* Writer: 256 bytes do not fit a u8 prefix. */
  veil_writer_t w;
  veil_writer_init_growable(&w, 0);
  cr_assert_eq(veil_write_vec(&w, VEIL_LEN_U8, buf, 256), VEIL_ERANGE);
  veil_writer_free(&w);
  free(buf);
}

Test(bytes, nested_blocks_must_be_consumed_exactly) {
  /* outer varint block { u16 block { u8 } u8 } */
  uint8_t buf[32];
  veil_writer_t w;
  veil_wblock_t outer, inner;
  veil_writer_init(&w, buf, sizeof buf);
  cr_assert_eq(veil_writer_open_block(&w, VEIL_LEN_VARINT, &outer), 0);
  cr_assert_eq(veil_writer_open_block(&w, VEIL_LEN_U16, &inner), 0);
  cr_assert_eq(veil_write_u8(&w, 7), 0);
  cr_assert_eq(veil_writer_close_block(&w, &inner), 0);
  cr_assert_eq(veil_write_u8(&w, 9), 0);
  cr_assert_eq(veil_writer_close_block(&w, &outer), 0);
  /* varint prefix shrank to one byte: 1 + (2 + 1) + 1 */
  cr_assert_eq(w.len, 5);
  const uint8_t want[] = {0x04, 0x00, 0x01, 0x07, 0x09};
  cr_assert_eq(memcmp(buf, want, 5), 0);

  veil_reader_t r, o, in;
  uint8_t a, b;
  veil_reader_init(&r, buf, w.len);
  cr_assert_eq(veil_reader_open_block(&r, VEIL_LEN_VARINT, &o), 0);
  cr_assert_eq(veil_reader_open_block(&o, VEIL_LEN_U16, &in), 0);
  cr_assert_eq(veil_read_u8(&in, &a), 0);
  cr_assert_eq(veil_reader_close_block(&o, &in), 0);
  cr_assert_eq(veil_read_u8(&o, &b), 0);
  cr_assert_eq(veil_reader_close_block(&r, &o), 0);
  cr_assert_eq(veil_reader_finish(&r), 0);
  cr_assert_eq(a, 7);
  cr_assert_eq(b, 9);

  /* Leaving a byte unread inside the inner block is an error carried to the parent. */
  veil_reader_init(&r, buf, w.len);
  veil_reader_open_block(&r, VEIL_LEN_VARINT, &o);
  veil_reader_open_block(&o, VEIL_LEN_U16, &in);
  cr_assert_eq(veil_reader_close_block(&o, &in), VEIL_ETRAILING);
  cr_assert_eq(o.err, VEIL_ETRAILING);
  cr_assert_eq(veil_reader_close_block(&r, &o), VEIL_ETRAILING);
  cr_assert_eq(r.err, VEIL_ETRAILING);
}

Test(bytes, block_declared_past_the_end_fails_in_parent) {
  const uint8_t buf[] = {0x05, 0x01, 0x02};
  veil_reader_t r, sub;
  veil_reader_init(&r, buf, sizeof buf);
  cr_assert_eq(veil_reader_open_block(&r, VEIL_LEN_U8, &sub), VEIL_ETRUNC);
  uint8_t v;
  cr_assert_eq(veil_read_u8(&sub, &v), VEIL_ETRUNC);
  cr_assert_eq(veil_reader_close_block(&r, &sub), VEIL_ETRUNC);
}

Test(bytes, varint_block_grows_prefix_for_long_content) {
  veil_writer_t w;
  veil_wblock_t b;
  uint8_t content[20000];
  memset(content, 0xab, sizeof content);
  veil_writer_init_growable(&w, 16);
  cr_assert_eq(veil_writer_open_block(&w, VEIL_LEN_VARINT, &b), 0);
  cr_assert_eq(veil_write_bytes(&w, content, sizeof content), 0);
  cr_assert_eq(veil_writer_close_block(&w, &b), 0);
  cr_assert_eq(w.len, 4 + sizeof content); /* 20000 >= 16384 needs the 4-byte form */
  veil_reader_t r;
  veil_view_t v;
  veil_reader_init(&r, w.buf, w.len);
  cr_assert_eq(veil_read_vec(&r, VEIL_LEN_VARINT, SIZE_MAX, &v), 0);
  cr_assert_eq(v.len, sizeof content);
  cr_assert_eq(veil_reader_finish(&r), 0);
  veil_writer_free(&w);

  veil_writer_init_growable(&w, 0);
  veil_writer_open_block(&w, VEIL_LEN_VARINT, &b);
  veil_write_bytes(&w, content, 100);
  veil_writer_close_block(&w, &b);
  cr_assert_eq(w.len, 2 + 100);
  cr_assert_eq(w.buf[0], 0x40);
  cr_assert_eq(w.buf[1], 100);
  cr_assert_eq(w.buf[2], 0xab);
  veil_writer_free(&w);
}

/* ---- writer bounds -------------------------------------------------------------------- */

Test(bytes, fixed_writer_never_writes_past_capacity) {
  uint8_t buf[8];
  memset(buf, 0xee, sizeof buf);
  veil_writer_t w;
  veil_writer_init(&w, buf, 4);
  cr_assert_eq(veil_write_u16(&w, 0x0102), 0);
  cr_assert_eq(veil_write_u24(&w, 0x030405), VEIL_EOVERFLOW);
  cr_assert_eq(veil_write_u8(&w, 1), VEIL_EOVERFLOW); /* sticky */
  cr_assert_eq(w.len, 2);
  for (size_t i = 2; i < 8; i++)
    cr_assert_eq(buf[i], 0xee);
}

Test(bytes, writer_rejects_values_wider_than_field) {
  uint8_t buf[8];
  veil_writer_t w;
  veil_writer_init(&w, buf, sizeof buf);
  cr_assert_eq(veil_write_u24(&w, 0x1000000), VEIL_ERANGE);
  veil_writer_init(&w, buf, sizeof buf);
  cr_assert_eq(veil_write_uint(&w, 3, 0xffffff), 0);
}

Test(bytes, growable_writer_grows_and_steals) {
  veil_writer_t w;
  veil_writer_init_growable(&w, 0);
  for (uint32_t i = 0; i < 10000; i++)
    cr_assert_eq(veil_write_u32(&w, i), 0);
  cr_assert_eq(w.len, 40000);
  size_t len;
  uint8_t *p = veil_writer_steal(&w, &len);
  cr_assert_eq(len, 40000);
  veil_reader_t r;
  veil_reader_init(&r, p, len);
  for (uint32_t i = 0; i < 10000; i++) {
    uint32_t v;
    cr_assert_eq(veil_read_u32(&r, &v), 0);
    cr_assert_eq(v, i);
  }
  free(p);
  veil_writer_free(&w);
}

Test(bytes, close_block_with_content_too_long_for_u8_prefix_fails) {
  veil_writer_t w;
  veil_wblock_t b;
  uint8_t big[300] = {0};
  veil_writer_init_growable(&w, 0);
  veil_writer_open_block(&w, VEIL_LEN_U8, &b);
  veil_write_bytes(&w, big, sizeof big);
  cr_assert_eq(veil_writer_close_block(&w, &b), VEIL_ERANGE);
  veil_writer_free(&w);
}
