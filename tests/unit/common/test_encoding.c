/* Unit tests of hex, base64url and the error space. */
#include <criterion/criterion.h>
#include <string.h>

#include "common/err.h"
#include "common/hex.h"

Test(hex, round_trips_and_rejects_odd_or_bad_digits) {
  uint8_t out[4];
  char text[9];
  cr_assert_eq(veil_hex_decode("DEADbeef", 8, out, sizeof out), 4);
  veil_hex_encode(out, 4, text);
  cr_assert_str_eq(text, "deadbeef");
  cr_assert_eq(veil_hex_decode("abc", 3, out, sizeof out), VEIL_EDECODE);
  cr_assert_eq(veil_hex_decode("zz", 2, out, sizeof out), VEIL_EDECODE);
  cr_assert_eq(veil_hex_decode("0011223344", 10, out, sizeof out), VEIL_EOVERFLOW);
}

Test(b64url, rfc4648_test_vectors_without_padding) {
  /* RFC 4648 §10, base64url alphabet, no padding. */
  static const char *const in[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar"};
  static const char *const want[] = {"", "Zg", "Zm8", "Zm9v", "Zm9vYg", "Zm9vYmE", "Zm9vYmFy"};
  for (int i = 0; i < 7; i++) {
    char enc[16];
    uint8_t dec[16];
    size_t n = strlen(in[i]);
    cr_assert_eq(veil_b64url_encoded_len(n), strlen(want[i]));
    veil_b64url_encode((const uint8_t *)in[i], n, enc);
    cr_assert_str_eq(enc, want[i]);
    cr_assert_eq(veil_b64url_decode(want[i], strlen(want[i]), dec, sizeof dec), (long)n);
    cr_assert_eq(memcmp(dec, in[i], n), 0);
  }
}

Test(b64url, rejects_padding_standard_alphabet_and_nonzero_tail_bits) {
  uint8_t out[16];
  cr_assert_eq(veil_b64url_decode("Zg==", 4, out, sizeof out), VEIL_EDECODE);
  cr_assert_eq(veil_b64url_decode("a+b/", 4, out, sizeof out), VEIL_EDECODE);
  cr_assert_eq(veil_b64url_decode("Zh", 2, out, sizeof out), VEIL_EDECODE); /* tail bits set */
  cr_assert_eq(veil_b64url_decode("Z", 1, out, sizeof out), VEIL_EDECODE);
  cr_assert_eq(veil_b64url_decode("Zm9vYmFy", 8, out, 5), VEIL_EOVERFLOW);
  const uint8_t bytes[] = {0xfb, 0xff};
  char enc[8];
  veil_b64url_encode(bytes, 2, enc);
  cr_assert_str_eq(enc, "-_8");
}

Test(err, every_code_has_a_distinct_name_and_message) {
  cr_assert_str_eq(veil_errname(VEIL_ETRUNC), "VEIL_ETRUNC");
  cr_assert_str_eq(veil_strerror(VEIL_ETRUNC), "truncated input");
  cr_assert_str_eq(veil_strerror(0), "success");
  cr_assert_null(veil_errname(-2));
  cr_assert_str_eq(veil_strerror(-2), strerror(2)); /* libuv/errno codes pass through */
  cr_assert_str_eq(veil_strerror(-99999), "unknown error");
  /* distinct codes for distinct names across all modules */
  int codes[] = {
#define VEIL_ERRDEF(name, code, msg) code,
#include "common/errdefs/all.def"
#undef VEIL_ERRDEF
  };
  size_t n = sizeof codes / sizeof codes[0];
  for (size_t i = 0; i < n; i++) {
    cr_assert_lt(codes[i], VEIL_ERR_BASE);
    for (size_t j = i + 1; j < n; j++)
      cr_assert_neq(codes[i], codes[j], "duplicate error code %d", codes[i]);
  }
}

Test(b64pem, decodes_standard_alphabet_across_line_breaks_with_padding) {
  uint8_t out[16];
  const char *in = "Zm9v\nYmFy\r\nYg==\n";
  cr_assert_eq(veil_b64_decode_pem(in, strlen(in), out, sizeof out), 7);
  cr_assert_eq(memcmp(out, "foobarb", 7), 0);
  const uint8_t hi[] = {0xfb, 0xff};
  cr_assert_eq(veil_b64_decode_pem("+/8=", 4, out, sizeof out), 2);
  cr_assert_eq(memcmp(out, hi, 2), 0);
}

Test(b64pem, rejects_data_after_padding_url_alphabet_and_overflow) {
  uint8_t out[4];
  cr_assert_eq(veil_b64_decode_pem("Zg==Zg", 6, out, sizeof out), VEIL_EDECODE);
  cr_assert_eq(veil_b64_decode_pem("-_8", 3, out, sizeof out), VEIL_EDECODE);
  cr_assert_eq(veil_b64_decode_pem("Zg===", 5, out, sizeof out), VEIL_EDECODE);
  cr_assert_eq(veil_b64_decode_pem("Zm9vYmFy", 8, out, 4), VEIL_EOVERFLOW);
}
