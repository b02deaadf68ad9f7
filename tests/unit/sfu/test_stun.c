/*
 * STUN codec (RFC 8489): framing hazards, integrity and fingerprint rules, encoders.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "sfu/stun.h"
#include "sfu_test_util.h"

/* RFC 5769 §2.1 sample request (password "VOkJxbRl1RmTxUk/WvJxBt"); the vector runner
 * reads it from ../shared/vectors too, this copy lets the unit tests mutate it. */
static const char sample_hex[] =
    "000100582112a442b7e7a701bc34d686fa87dfae802200105354554e207465737420636c69656e74"
    "002400046e0001ff80290008932ff9b151263b36000600096576746a3a683676592020200008001"
    "49aeaa70cbfd8cb56781ef2b5b2d3f249c1b571a280280004e57a3bcf";
static const char sample_pwd[] = "VOkJxbRl1RmTxUk/WvJxBt";

static size_t unhex(const char *h, uint8_t *out) {
  size_t n = strlen(h) / 2;
  for (size_t i = 0; i < n; i++) {
    unsigned x;
    sscanf(h + 2 * i, "%2x", &x);
    out[i] = (uint8_t)x;
  }
  return n;
}

static const uint8_t tid[12] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};

/* A message with the given raw attribute bytes (already padded), correct header. */
static size_t craft(uint8_t *buf, uint16_t type, const uint8_t *attrs, size_t alen) {
  buf[0] = (uint8_t)(type >> 8);
  buf[1] = (uint8_t)type;
  buf[2] = (uint8_t)(alen >> 8);
  buf[3] = (uint8_t)alen;
  buf[4] = 0x21, buf[5] = 0x12, buf[6] = 0xa4, buf[7] = 0x42;
  memcpy(buf + 8, tid, 12);
  memcpy(buf + 20, attrs, alen);
  return 20 + alen;
}

static uint8_t msg[600]; /* the last message parse_attrs crafted: its parse views point here */

/* Parses a message of `type` carrying exactly these attribute bytes. */
static int parse_attrs(uint16_t type, const uint8_t *attrs, size_t alen, sfu_stun_msg_t *m) {
  return sfu_stun_parse(msg, craft(msg, type, attrs, alen), m);
}

static int verify_sample_mac(const sfu_stun_msg_t *m) {
  return sfu_stun_verify_integrity(m, (const uint8_t *)sample_pwd, strlen(sample_pwd));
}

Test(stun, parses_rfc5769_sample_with_nonzero_padding) {
  uint8_t b[256];
  size_t n = unhex(sample_hex, b);
  sfu_stun_msg_t m;
  cr_assert_eq(sfu_stun_parse(b, n, &m), 0);
  cr_assert_eq(m.method, SFU_STUN_METHOD_BINDING);
  cr_assert_eq(m.cls, SFU_STUN_REQUEST);
  cr_assert_eq(m.username.len, 9);
  cr_assert_eq(memcmp(m.username.ptr, "evtj:h6vY", 9), 0);
  cr_assert_eq(m.priority, 0x6e0001ffu);
  cr_assert(m.present & SFU_STUN_HAS_ICE_CONTROLLED);
  cr_assert_eq(verify_sample_mac(&m), 0);
  cr_assert_eq(sfu_stun_verify_fingerprint(&m), 0);
}

Test(stun, rejects_truncation_at_every_byte) {
  uint8_t b[256];
  size_t n = unhex(sample_hex, b);
  sfu_stun_msg_t m;
  for (size_t i = 0; i < n; i++)
    cr_assert_neq(sfu_stun_parse(b, i, &m), 0, "prefix of %zu bytes accepted", i);
  /* A truncated message whose header length was patched to match is still rejected
   * when the cut falls inside an attribute. */
  for (size_t i = 24; i < n; i += 1) {
    uint8_t c[256];
    memcpy(c, b, i);
    size_t body = i - 20;
    c[2] = (uint8_t)(body >> 8);
    c[3] = (uint8_t)body;
    int rc = sfu_stun_parse(c, i, &m);
    if (body % 4 != 0)
      cr_assert_eq(rc, VEIL_ESTUN_NOTSTUN);
    else if (rc == 0 && i < 96)
      /* cut on an attribute boundary before the end of MESSAGE-INTEGRITY: a shorter
       * well-formed message, but not an authentic one */
      cr_assert_neq(verify_sample_mac(&m), 0);
    else if (rc == 0)
      /* stripping FINGERPRINT leaves the MAC intact: it never covered FINGERPRINT */
      cr_assert_eq(verify_sample_mac(&m), 0);
  }
}

Test(stun, rejects_bad_magic_cookie) {
  uint8_t b[256];
  size_t n = unhex(sample_hex, b);
  b[7] ^= 1;
  sfu_stun_msg_t m;
  cr_assert_eq(sfu_stun_parse(b, n, &m), VEIL_ESTUN_NOTSTUN);
}

Test(stun, rejects_top_two_bits_set) {
  uint8_t b[256];
  size_t n = unhex(sample_hex, b);
  b[0] |= 0x40;
  sfu_stun_msg_t m;
  cr_assert_eq(sfu_stun_parse(b, n, &m), VEIL_ESTUN_NOTSTUN);
}

Test(stun, rejects_length_not_multiple_of_four) {
  uint8_t a[4] = {0x80, 0x22, 0x00, 0x00};
  uint8_t b[64];
  size_t n = craft(b, 0x0001, a, 4);
  b[3] = 3;
  sfu_stun_msg_t m;
  cr_assert_eq(sfu_stun_parse(b, n - 1, &m), VEIL_ESTUN_NOTSTUN);
}

Test(stun, rejects_length_disagreeing_with_datagram) {
  uint8_t b[256];
  size_t n = unhex(sample_hex, b);
  b[n] = 0, b[n + 1] = 0, b[n + 2] = 0, b[n + 3] = 0;
  sfu_stun_msg_t m;
  cr_assert_eq(sfu_stun_parse(b, n + 4, &m), VEIL_ESTUN_NOTSTUN);
  b[3] -= 4;
  cr_assert_eq(sfu_stun_parse(b, n, &m), VEIL_ESTUN_NOTSTUN);
}

Test(stun, rejects_attribute_length_past_end) {
  /* SOFTWARE claims 12 bytes, 8 follow. */
  uint8_t a[12] = {0x80, 0x22, 0x00, 0x0c, 'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'};
  sfu_stun_msg_t m;
  cr_assert_eq(parse_attrs(0x0001, a, sizeof(a), &m), VEIL_ETRUNC);
}

Test(stun, rejects_missing_padding_of_last_attribute) {
  /* USERNAME of 5 bytes then the message ends: padding of 3 is missing; the header
   * length (9) is not a multiple of 4 so fix it to 12 with a datagram of 12 too, whose
   * last 3 bytes are consumed as padding — valid. Then drop them: invalid. */
  uint8_t a[12] = {0x00, 0x06, 0x00, 0x05, 'a', 'b', 'c', ':', 'd', 0, 0, 0};
  sfu_stun_msg_t m;
  cr_assert_eq(parse_attrs(0x0001, a, sizeof(a), &m), 0);
  /* An attribute header with a length running into the next 4-byte group. */
  uint8_t a2[8] = {0x00, 0x06, 0x00, 0x05, 'a', 'b', 'c', ':'};
  cr_assert_eq(parse_attrs(0x0001, a2, sizeof(a2), &m), VEIL_ETRUNC);
}

Test(stun, rejects_attribute_after_fingerprint) {
  uint8_t a[16] = {0x80, 0x28, 0x00, 0x04, 1, 2, 3, 4, 0x00, 0x24, 0x00, 0x04, 0, 0, 0, 1};
  sfu_stun_msg_t m;
  cr_assert_eq(parse_attrs(0x0001, a, sizeof(a), &m), VEIL_ESTUN_ORDER);
}

Test(stun, ignores_attributes_after_message_integrity) {
  uint8_t key[] = "0123456789abcdefghijkl";
  sfu_test_stun_t h;
  sfu_stun_builder_t *sb = sfu_test_stun_begin(&h, SFU_STUN_REQUEST, tid, "a:b");
  sfu_stun_put_integrity(sb, key, 22);
  /* Appended after MI: must not be believed (not covered by the MAC). */
  sfu_stun_put_u32(sb, SFU_STUN_ATTR_PRIORITY, 7);
  sfu_stun_put_attr(sb, SFU_STUN_ATTR_USE_CANDIDATE, NULL, 0);
  sfu_stun_put_fingerprint(sb);
  size_t n = sfu_test_stun_finish(&h);
  sfu_stun_msg_t m;
  cr_assert_eq(sfu_stun_parse(h.b, n, &m), 0);
  cr_assert_not(m.present & SFU_STUN_HAS_PRIORITY);
  cr_assert_not(m.present & SFU_STUN_HAS_USE_CANDIDATE);
  /* The MAC still verifies: the length field is adjusted to end at MI (§14.5). */
  cr_assert_eq(sfu_stun_verify_integrity(&m, key, 22), 0);
  cr_assert_eq(sfu_stun_verify_fingerprint(&m), 0);
}

Test(stun, integrity_fails_after_any_change_before_the_mac) {
  uint8_t b[256];
  size_t n = unhex(sample_hex, b);
  sfu_stun_msg_t m;
  for (size_t i = 0; i < 76; i++) {
    if (i == 2 || i == 3)
      continue; /* length: changes framing, checked elsewhere */
    b[i] ^= 0x04;
    if (sfu_stun_parse(b, n, &m) == 0)
      cr_assert_neq(verify_sample_mac(&m), 0, "byte %zu", i);
    b[i] ^= 0x04;
  }
}

Test(stun, rejects_integrity_of_wrong_size) {
  uint8_t a[4 + 16] = {0x00, 0x08, 0x00, 0x10};
  sfu_stun_msg_t m;
  cr_assert_eq(parse_attrs(0x0001, a, sizeof(a), &m), VEIL_ESTUN_ATTR);
  uint8_t a2[4 + 12] = {0x00, 0x1c, 0x00, 0x0c}; /* MI-SHA256 below 16 bytes */
  cr_assert_eq(parse_attrs(0x0001, a2, sizeof(a2), &m), VEIL_ESTUN_ATTR);
}

Test(stun, integrity_check_reports_missing_mac) {
  uint8_t a[8] = {0x00, 0x24, 0x00, 0x04, 0, 0, 0, 1};
  sfu_stun_msg_t m;
  cr_assert_eq(parse_attrs(0x0001, a, sizeof(a), &m), 0);
  cr_assert_eq(sfu_stun_verify_integrity(&m, (const uint8_t *)"k", 1), VEIL_ESTUN_INTEGRITY);
  cr_assert_eq(sfu_stun_verify_integrity_sha256(&m, (const uint8_t *)"k", 1), VEIL_ESTUN_INTEGRITY);
  cr_assert_eq(sfu_stun_verify_fingerprint(&m), VEIL_ESTUN_FINGERPRINT);
}

Test(stun, rejects_xor_mapped_address_with_bad_family_or_size) {
  uint8_t a[12] = {0x00, 0x20, 0x00, 0x08, 0x00, 0x03, 0x11, 0x22, 1, 2, 3, 4};
  sfu_stun_msg_t m;
  cr_assert_eq(parse_attrs(0x0101, a, sizeof(a), &m), VEIL_ESTUN_ATTR);
  a[5] = 0x02; /* IPv6 family with an IPv4-sized value */
  cr_assert_eq(parse_attrs(0x0101, a, sizeof(a), &m), VEIL_ESTUN_ATTR);
}

Test(stun, rejects_error_code_out_of_range) {
  uint8_t a[8] = {0x00, 0x09, 0x00, 0x04, 0, 0, 7, 0};
  sfu_stun_msg_t m;
  cr_assert_eq(parse_attrs(0x0111, a, sizeof(a), &m), VEIL_ESTUN_ATTR);
  a[6] = 4, a[7] = 100;
  cr_assert_eq(parse_attrs(0x0111, a, sizeof(a), &m), VEIL_ESTUN_ATTR);
  a[7] = 1;
  cr_assert_eq(parse_attrs(0x0111, a, sizeof(a), &m), 0);
  cr_assert_eq(m.error_code, 401);
  cr_assert_eq(m.cls, SFU_STUN_ERROR);
}

Test(stun, rejects_oversized_username) {
  static uint8_t a[4 + 512];
  a[0] = 0x00, a[1] = 0x06, a[2] = 0x02, a[3] = 0x00;
  memset(a + 4, 'u', 512);
  sfu_stun_msg_t m;
  cr_assert_eq(parse_attrs(0x0001, a, sizeof(a), &m), VEIL_ESTUN_ATTR);
}

Test(stun, rejects_use_candidate_with_a_value) {
  uint8_t a[8] = {0x00, 0x25, 0x00, 0x04, 0, 0, 0, 0};
  sfu_stun_msg_t m;
  cr_assert_eq(parse_attrs(0x0001, a, sizeof(a), &m), VEIL_ESTUN_ATTR);
}

Test(stun, first_occurrence_of_an_attribute_wins) {
  uint8_t a[16] = {0x00, 0x24, 0x00, 0x04, 0, 0, 0, 1, 0x00, 0x24, 0x00, 0x04, 0, 0, 0, 2};
  sfu_stun_msg_t m;
  cr_assert_eq(parse_attrs(0x0001, a, sizeof(a), &m), 0);
  cr_assert_eq(m.priority, 1);
}

Test(stun, records_unknown_comprehension_required_attributes) {
  uint8_t a[16] = {0x7f, 0x01, 0x00, 0x00, 0xc0, 0x01, 0x00, 0x00,
                   0x00, 0x33, 0x00, 0x04, 9, 9, 9, 9};
  sfu_stun_msg_t m;
  cr_assert_eq(parse_attrs(0x0001, a, sizeof(a), &m), 0);
  cr_assert_eq(m.n_unknown, 2); /* 0xC001 is comprehension-optional */
  cr_assert_eq(m.unknown[0], 0x7f01);
  cr_assert_eq(m.unknown[1], 0x0033);
}

Test(stun, crc32_matches_the_standard_check_value) {
  cr_assert_eq(sfu_stun_crc32(0, (const uint8_t *)"123456789", 9), 0xCBF43926u);
}

Test(stun, binding_request_round_trips) {
  uint8_t b[256];
  size_t n;
  const uint8_t key[] = "remote-password-0123456789";
  sfu_stun_request_params_t p = {.tid = tid, .username = "abcd:efgh", .priority = 0x6e7f1eff,
                                 .controlling = 1, .tiebreaker = 0x0102030405060708ull,
                                 .use_candidate = 1, .key = key, .key_len = sizeof(key) - 1};
  cr_assert_eq(sfu_stun_encode_binding_request(b, sizeof(b), &p, &n), 0);
  sfu_stun_msg_t m;
  cr_assert_eq(sfu_stun_parse(b, n, &m), 0);
  cr_assert_eq(m.cls, SFU_STUN_REQUEST);
  cr_assert_eq(memcmp(m.tid, tid, 12), 0);
  cr_assert_eq(m.username.len, 9);
  cr_assert_eq(m.priority, 0x6e7f1effu);
  cr_assert(m.present & SFU_STUN_HAS_ICE_CONTROLLING);
  cr_assert(m.present & SFU_STUN_HAS_USE_CANDIDATE);
  cr_assert_eq(m.tiebreaker, 0x0102030405060708ull);
  cr_assert_eq(sfu_stun_verify_integrity(&m, key, sizeof(key) - 1), 0);
  cr_assert_eq(sfu_stun_verify_fingerprint(&m), 0);
  /* Too small a buffer at every size: overflow, never a partial success. */
  for (size_t cap = 0; cap < n; cap++)
    cr_assert_eq(sfu_stun_encode_binding_request(b, cap, &p, &n), VEIL_EOVERFLOW);
}

Test(stun, success_response_round_trips_both_families) {
  const uint8_t key[] = "local-password-0123456789";
  sfu_stun_addr_t a4 = {.family = 4, .port = 50000, .addr = {203, 0, 113, 7}};
  sfu_stun_addr_t a6 = {.family = 6, .port = 1, .addr = {0x20, 0x01, 0x0d, 0xb8, 9, 9, 9, 9,
                                                         1, 2, 3, 4, 5, 6, 7, 8}};
  const sfu_stun_addr_t *as[2] = {&a4, &a6};
  for (int i = 0; i < 2; i++) {
    uint8_t b[128];
    size_t n;
    cr_assert_eq(sfu_stun_encode_binding_success(b, sizeof(b), tid, as[i], key, 25, &n), 0);
    sfu_stun_msg_t m;
    cr_assert_eq(sfu_stun_parse(b, n, &m), 0);
    cr_assert_eq(m.cls, SFU_STUN_SUCCESS);
    cr_assert(sfu_stun_addr_equal(&m.xor_mapped, as[i]));
    cr_assert_eq(sfu_stun_verify_integrity(&m, key, 25), 0);
    cr_assert_eq(sfu_stun_verify_fingerprint(&m), 0);
  }
}

Test(stun, error_responses_carry_code_and_unknown_attributes) {
  const uint8_t key[] = "local-password-0123456789";
  uint16_t unk[2] = {0x7f01, 0x0033};
  uint8_t b[256];
  size_t n;
  sfu_stun_msg_t m;
  cr_assert_eq(sfu_stun_encode_error(b, sizeof(b), SFU_STUN_METHOD_BINDING, tid, 420, unk, 2,
                                     key, 25, &n), 0);
  cr_assert_eq(sfu_stun_parse(b, n, &m), 0);
  cr_assert_eq(m.cls, SFU_STUN_ERROR);
  cr_assert_eq(m.error_code, 420);
  cr_assert_eq(sfu_stun_verify_integrity(&m, key, 25), 0);
  /* UNKNOWN-ATTRIBUTES sits right after ERROR-CODE (4 + 4 + "Unknown Attribute" padded). */
  size_t off = 20 + 4 + ((4 + strlen("Unknown Attribute") + 3) & ~(size_t)3);
  cr_assert_eq(b[off], 0x00);
  cr_assert_eq(b[off + 1], 0x0a);
  cr_assert_eq(b[off + 4], 0x7f);
  cr_assert_eq(b[off + 7], 0x33);
  /* 401 without a key: no MESSAGE-INTEGRITY, FINGERPRINT only. */
  cr_assert_eq(sfu_stun_encode_error(b, sizeof(b), SFU_STUN_METHOD_BINDING, tid, 401, NULL, 0,
                                     NULL, 0, &n), 0);
  cr_assert_eq(sfu_stun_parse(b, n, &m), 0);
  cr_assert_eq(m.error_code, 401);
  cr_assert_not(m.present & SFU_STUN_HAS_MI);
  cr_assert_eq(sfu_stun_verify_fingerprint(&m), 0);
  cr_assert_eq(sfu_stun_encode_error(b, sizeof(b), SFU_STUN_METHOD_BINDING, tid, 487, NULL, 0,
                                     key, 25, &n), 0);
  cr_assert_eq(sfu_stun_parse(b, n, &m), 0);
  cr_assert_eq(m.error_code, 487);
  cr_assert_eq(sfu_stun_encode_error(b, sizeof(b), SFU_STUN_METHOD_BINDING, tid, 200, NULL, 0,
                                     NULL, 0, &n), VEIL_EINVAL);
}

Test(stun, sha256_integrity_round_trips_and_rejects_wrong_key) {
  const uint8_t key[32] = {1, 2, 3};
  sfu_test_stun_t h;
  sfu_stun_builder_t *sb = sfu_test_stun_begin(&h, SFU_STUN_REQUEST, tid, "x:y");
  sfu_stun_put_integrity_sha256(sb, key, sizeof(key));
  sfu_stun_put_fingerprint(sb);
  size_t n = sfu_test_stun_finish(&h);
  sfu_stun_msg_t m;
  cr_assert_eq(sfu_stun_parse(h.b, n, &m), 0);
  cr_assert_eq(sfu_stun_verify_integrity_sha256(&m, key, sizeof(key)), 0);
  uint8_t bad[32] = {1, 2, 4};
  cr_assert_eq(sfu_stun_verify_integrity_sha256(&m, bad, sizeof(bad)), VEIL_ESTUN_INTEGRITY);
}

Test(stun, sockaddr_conversion_round_trips) {
  sfu_stun_addr_t a = {.family = 6, .port = 443, .addr = {0xfe, 0x80, [15] = 1}}, b;
  struct sockaddr_storage ss;
  cr_assert_eq(sfu_stun_addr_to_sockaddr(&a, (struct sockaddr *)&ss, sizeof(ss)), 0);
  cr_assert_eq(sfu_stun_addr_from_sockaddr(&b, (struct sockaddr *)&ss), 0);
  cr_assert(sfu_stun_addr_equal(&a, &b));
  cr_assert_eq(sfu_stun_addr_to_sockaddr(&a, (struct sockaddr *)&ss, 8), VEIL_EOVERFLOW);
}

/* RFC 8489 §14.6: MESSAGE-INTEGRITY-SHA256 may carry the leftmost 16..32 bytes (a
 * multiple of 4) of the HMAC; the header length used for the MAC covers the truncated
 * attribute. Built here with OpenSSL directly, independently of the codec's encoder. */
#include <openssl/evp.h>
#include <openssl/hmac.h>

Test(stun, accepts_truncated_sha256_integrity_and_rejects_a_wrong_prefix) {
  const uint8_t key[] = "long-term-key-for-sha256";
  uint8_t b[128];
  uint8_t a[4 + 4 + 4] = {0x00, 0x06, 0x00, 0x03, 'u', ':', 'v', 0};
  size_t n = craft(b, 0x0001, a, 8);
  /* Header length as if the 16-byte MI-SHA256 (4 + 16) were the last attribute. */
  size_t body = 8 + 20;
  b[2] = (uint8_t)(body >> 8);
  b[3] = (uint8_t)body;
  uint8_t mac[32];
  unsigned mac_len = 0;
  cr_assert_not_null(HMAC(EVP_sha256(), key, (int)sizeof(key) - 1, b, n, mac, &mac_len));
  b[n] = 0x00, b[n + 1] = 0x1c, b[n + 2] = 0x00, b[n + 3] = 16;
  memcpy(b + n + 4, mac, 16);
  n += 20;
  sfu_stun_msg_t m;
  cr_assert_eq(sfu_stun_parse(b, n, &m), 0);
  cr_assert_eq(m.mi256_len, 16);
  cr_assert_eq(sfu_stun_verify_integrity_sha256(&m, key, sizeof(key) - 1), 0);
  b[n - 1] ^= 1;
  cr_assert_eq(sfu_stun_verify_integrity_sha256(&m, key, sizeof(key) - 1), VEIL_ESTUN_INTEGRITY);
}
