/* Unit tests of the JWE parser/encryptor: every malformed input is a distinct, clean error. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clients/lib/crypto/provider.h"
#include "clients/lib/jwe/jwe.h"
#include "common/hex.h"

static const uint8_t key16[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
static const uint8_t salt8[8] = {0xe5, 0xe6, 0x53, 0x08, 0x03, 0xf8, 0x33, 0xf6};

/* Builds a blob whose header is the given JSON, with a valid iv/ct/tag under key16. */
static char *blob_with_header(const char *json) {
  char h64[512], iv64[32], ct64[32], tag64[32];
  uint8_t iv[12] = {0}, ct[4 + 16];
  veil_b64url_encode((const uint8_t *)json, strlen(json), h64);
  cr_assert_eq(vc_aead_seal(VC_AES_128_GCM, key16, iv, (const uint8_t *)h64, strlen(h64),
                            (const uint8_t *)"data", 4, ct), 0);
  veil_b64url_encode(iv, 12, iv64);
  veil_b64url_encode(ct, 4, ct64);
  veil_b64url_encode(ct + 4, 16, tag64);
  char *out = malloc(1024);
  snprintf(out, 1024, "%s..%s.%s.%s", h64, iv64, ct64, tag64);
  return out;
}

static int parse_header_json(const char *json) {
  char *b = blob_with_header(json);
  jwe_parsed_t p;
  int rc = jwe_parse(b, strlen(b), &p);
  free(b);
  return rc;
}

Test(jwe, round_trips_device_profile_with_both_encs) {
  static const jwe_enc_t encs[] = {JWE_A128GCM, JWE_A256GCM};
  for (int i = 0; i < 2; i++) {
    uint8_t key[32];
    for (int k = 0; k < 32; k++)
      key[k] = (uint8_t)(k * 7);
    char *c = NULL;
    cr_assert_eq(jwe_encrypt_device(key, encs[i], "activate", salt8, 8, NULL,
                                    (const uint8_t *)"hello", 5, &c), 0);
    jwe_parsed_t p;
    cr_assert_eq(jwe_parse(c, strlen(c), &p), 0);
    cr_assert_eq(p.enc, encs[i]);
    cr_assert_str_eq(p.action, "activate");
    uint8_t *pt;
    size_t n;
    cr_assert_eq(jwe_decrypt(&p, key, (size_t)encs[i], &pt, &n), 0);
    cr_assert_eq(n, 5);
    cr_assert_eq(memcmp(pt, "hello", 5), 0);
    jwe_free_plaintext(pt, n);
    free(c);
  }
}

Test(jwe, rejects_wrong_alg_enc_and_kdf_version) {
  cr_assert_eq(parse_header_json("{\"alg\":\"none\",\"enc\":\"A128GCM\"}"), VEIL_EJWE_ALG);
  cr_assert_eq(parse_header_json("{\"alg\":\"A128KW\",\"enc\":\"A128GCM\"}"), VEIL_EJWE_ALG);
  cr_assert_eq(parse_header_json("{\"enc\":\"A128GCM\"}"), VEIL_EJWE_ALG);
  cr_assert_eq(parse_header_json("{\"alg\":\"dir\",\"enc\":\"A192GCM\"}"), VEIL_EJWE_ENC);
  cr_assert_eq(parse_header_json("{\"alg\":\"dir\"}"), VEIL_EJWE_ENC);
  cr_assert_eq(parse_header_json("{\"alg\":\"dir\",\"enc\":\"A128GCM\",\"cisco-kdf\":{\"salt\":\"5eZTCAP4M_Y\",\"version\":\"2\"}}"),
               VEIL_EJWE_KDF);
  cr_assert_eq(parse_header_json("{\"alg\":\"dir\",\"enc\":\"A128GCM\",\"cisco-kdf\":{\"salt\":\"5eZT\"}}"),
               VEIL_EJWE_KDF);
}

Test(jwe, rejects_short_salt) {
  /* "AQID" is 3 bytes: below the 4-byte minimum. */
  cr_assert_eq(parse_header_json("{\"alg\":\"dir\",\"enc\":\"A128GCM\",\"cisco-kdf\":{\"salt\":\"AQID\",\"version\":\"1\"}}"),
               VEIL_EJWE_KDF);
  cr_assert_eq(parse_header_json("{\"alg\":\"dir\",\"enc\":\"A128GCM\",\"cisco-kdf\":{\"salt\":\"AQIDBA\",\"version\":\"1\"}}"), 0);
}

Test(jwe, rejects_duplicate_and_unknown_header_members) {
  cr_assert_eq(parse_header_json("{\"alg\":\"dir\",\"alg\":\"dir\",\"enc\":\"A128GCM\"}"), VEIL_EJWE_HEADER);
  cr_assert_eq(parse_header_json("{\"alg\":\"dir\",\"enc\":\"A128GCM\",\"zip\":\"DEF\"}"), VEIL_EJWE_HEADER);
  cr_assert_eq(parse_header_json("{\"alg\":\"dir\",\"enc\":\"A128GCM\",\"crit\":[\"x\"]}"), VEIL_EJWE_HEADER);
  cr_assert_eq(parse_header_json("[1,2]"), VEIL_EJWE_HEADER);
  cr_assert_eq(parse_header_json("{\"alg\":\"dir\",\"enc\":\"A128GCM\""), VEIL_EJWE_HEADER);
}

Test(jwe, rejects_malformed_segments) {
  char *good = blob_with_header("{\"alg\":\"dir\",\"enc\":\"A128GCM\"}");
  jwe_parsed_t p;
  size_t n = strlen(good);
  cr_assert_eq(jwe_parse(good, n, &p), 0);
  /* four segments */
  cr_assert_eq(jwe_parse(good, (size_t)(strrchr(good, '.') - good), &p), VEIL_EJWE_FORMAT);
  /* a sixth segment */
  char six[1100];
  snprintf(six, sizeof six, "%s.AA", good);
  cr_assert_eq(jwe_parse(six, strlen(six), &p), VEIL_EJWE_FORMAT);
  /* non-empty encrypted key */
  char *dots = strstr(good, "..");
  char ek[1100];
  snprintf(ek, sizeof ek, "%.*s.AAAA.%s", (int)(dots - good), good, dots + 2);
  cr_assert_eq(jwe_parse(ek, strlen(ek), &p), VEIL_EJWE_FORMAT);
  /* padding / bad alphabet in the IV */
  char bad[1100];
  strcpy(bad, good);
  char *iv = strstr(bad, "..") + 2;
  iv[0] = '+';
  cr_assert_eq(jwe_parse(bad, strlen(bad), &p), VEIL_EJWE_BASE64);
  free(good);
}

Test(jwe, rejects_short_iv_and_tag) {
  char h64[128];
  const char *json = "{\"alg\":\"dir\",\"enc\":\"A128GCM\"}";
  veil_b64url_encode((const uint8_t *)json, strlen(json), h64);
  char b[512];
  /* 8-byte IV */
  snprintf(b, sizeof b, "%s..AAAAAAAAAAA.AAAA.AAAAAAAAAAAAAAAAAAAAAA", h64);
  jwe_parsed_t p;
  cr_assert_eq(jwe_parse(b, strlen(b), &p), VEIL_EJWE_IV);
  /* 12-byte IV, 8-byte tag */
  snprintf(b, sizeof b, "%s..AAAAAAAAAAAAAAAA.AAAA.AAAAAAAAAAA", h64);
  cr_assert_eq(jwe_parse(b, strlen(b), &p), VEIL_EJWE_TAG);
}

Test(jwe, tampered_tag_header_or_wrong_key_fail_authentication) {
  char *c = NULL;
  cr_assert_eq(jwe_encrypt_device(key16, JWE_A128GCM, "add", salt8, 8, NULL,
                                  (const uint8_t *)"certificate", 11, &c), 0);
  jwe_parsed_t p;
  uint8_t *pt = NULL;
  size_t n = 0;
  cr_assert_eq(jwe_parse(c, strlen(c), &p), 0);
  p.tag[3] ^= 1;
  cr_assert_eq(jwe_decrypt(&p, key16, 16, &pt, &n), VEIL_EAUTH);
  cr_assert_null(pt);
  cr_assert_eq(jwe_parse(c, strlen(c), &p), 0);
  uint8_t other[16] = {0};
  cr_assert_eq(jwe_decrypt(&p, other, 16, &pt, &n), VEIL_EAUTH);
  cr_assert_eq(jwe_decrypt(&p, key16, 32, &pt, &n), VEIL_EBADKEY);
  free(c);
}

Test(jwe, encrypt_refuses_unsafe_action_and_short_salt) {
  char *c = NULL;
  cr_assert_eq(jwe_encrypt_device(key16, JWE_A128GCM, "a\",\"alg\":\"none", salt8, 8, NULL,
                                  (const uint8_t *)"x", 1, &c), VEIL_EINVAL);
  cr_assert_eq(jwe_encrypt_device(key16, JWE_A128GCM, "add", salt8, 3, NULL,
                                  (const uint8_t *)"x", 1, &c), VEIL_EINVAL);
  cr_assert_null(c);
}
