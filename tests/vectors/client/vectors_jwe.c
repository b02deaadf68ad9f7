/*
 * Vector runner: ../shared/vectors/jwe — the device-profile example (scrypt key, header
 * encoding, ciphertext, tag and compact blob byte for byte, plus its documented malformed
 * variant) and RFC 7520 §5.6 (dir + A128GCM with a kid member).
 */
#include <stdlib.h>
#include <string.h>

#include "clients/lib/crypto/provider.h"
#include "clients/lib/jwe/jwe.h"
#include "common/hex.h"
#include "vjson.h"

static void device_example(const vj_t *v) {
  const vj_t *in = vj_get(v, "inputs"), *exp = vj_get(v, "expected");
  const vj_t *sc = vj_get(in, "scrypt");
  size_t salt_len, iv_len, pt_len, cek_len, ct_len, tag_len;
  uint8_t *salt = vj_hex(in, "salt_hex", &salt_len), *iv = vj_hex(in, "iv_hex", &iv_len);
  uint8_t *pt = vj_hex(in, "plaintext_hex", &pt_len), *cek = vj_hex(exp, "cek_hex", &cek_len);
  uint8_t *ct = vj_hex(exp, "ciphertext_hex", &ct_len), *tag = vj_hex(exp, "tag_hex", &tag_len);
  const char *secret = vj_str(in, "client_secret");
  const char *want_compact = vj_str(exp, "compact_serialization");
  int ok;
  uint64_t N = vj_u64(sc, "N", &ok), r = vj_u64(sc, "r", &ok), p = vj_u64(sc, "p", &ok);
  tap_ok(N == JWE_SCRYPT_N && r == JWE_SCRYPT_R && p == JWE_SCRYPT_P,
         "device example uses the profile's scrypt parameters (N=%llu r=%llu p=%llu)",
         (unsigned long long)N, (unsigned long long)r, (unsigned long long)p);

  uint8_t key[32];
  int rc = jwe_derive_key((const uint8_t *)secret, strlen(secret), salt, salt_len, JWE_A128GCM, key);
  tap_ok(rc == 0 && tap_bytes_eq("cek", key, 16, cek, cek_len), "scrypt CEK matches");

  char *compact = NULL;
  rc = jwe_encrypt_device(key, JWE_A128GCM, "add", salt, salt_len, iv, pt, pt_len, &compact);
  tap_ok(rc == 0 && compact && strcmp(compact, want_compact) == 0,
         "compact blob reproduced byte for byte");
  if (compact && strcmp(compact, want_compact) != 0)
    tap_diag("got  %s\n# want %s", compact, want_compact);
  const char *hdr = vj_str(exp, "protected_header_b64u");
  tap_ok(compact && strncmp(compact, hdr, strlen(hdr)) == 0 && compact[strlen(hdr)] == '.',
         "protected header encoding matches");
  free(compact);

  jwe_parsed_t parsed;
  rc = jwe_parse(want_compact, strlen(want_compact), &parsed);
  tap_ok(rc == 0 && parsed.enc == JWE_A128GCM && strcmp(parsed.action, "add") == 0 &&
             parsed.has_kdf && parsed.salt_len == salt_len &&
             memcmp(parsed.salt, salt, salt_len) == 0,
         "parse: enc, cisco-action and cisco-kdf salt");
  tap_ok(rc == 0 && tap_bytes_eq("iv", parsed.iv, 12, iv, iv_len) &&
             tap_bytes_eq("tag", parsed.tag, 16, tag, tag_len) && parsed.ciphertext_len == ct_len,
         "parse: iv, tag, ciphertext length");
  uint8_t *out = NULL;
  size_t out_len = 0;
  rc = jwe_decrypt_with_secret(&parsed, (const uint8_t *)secret, strlen(secret), &out, &out_len);
  tap_ok(rc == 0 && tap_bytes_eq("plaintext", out, out_len, pt, pt_len),
         "decrypts with the client secret");
  jwe_free_plaintext(out, out_len);
  rc = jwe_decrypt_with_secret(&parsed, (const uint8_t *)"ossifragE", 9, &out, &out_len);
  tap_ok(rc == VEIL_EAUTH && out == NULL, "wrong secret: authentication failure, no output");

  const vj_t *neg = vj_get(v, "negative_example_vendor_typo");
  const char *bad = vj_str(neg, "blob_reconstructed");
  rc = bad ? jwe_parse(bad, strlen(bad), &parsed) : 0;
  tap_ok(bad && rc != 0, "vendor typo blob rejected (%s)", veil_strerror(rc));
  vc_wipe(key, sizeof key);
  free(salt), free(iv), free(pt), free(cek), free(ct), free(tag);
}

static void rfc7520(const vj_t *v) {
  const vj_t *in = vj_get(v, "inputs"), *exp = vj_get(v, "expected");
  size_t cek_len, pt_len, iv_len;
  uint8_t *cek = vj_hex(in, "cek_hex", &cek_len), *pt = vj_hex(in, "plaintext_hex", &pt_len);
  uint8_t *iv = vj_hex(in, "iv_hex", &iv_len);
  const char *compact = vj_str(exp, "compact_serialization");
  jwe_parsed_t parsed;
  int rc = compact ? jwe_parse(compact, strlen(compact), &parsed) : VEIL_EINVAL;
  tap_ok(rc == 0 && !parsed.has_kdf && strcmp(parsed.kid, "77c7e2b8-6e13-45cf-8672-617b5b45243a") == 0 &&
             tap_bytes_eq("iv", parsed.iv, 12, iv, iv_len),
         "RFC 7520 5.6: parses (kid, iv)");
  uint8_t *out = NULL;
  size_t out_len = 0;
  if (rc == 0)
    rc = jwe_decrypt(&parsed, cek, cek_len, &out, &out_len);
  tap_ok(rc == 0 && tap_bytes_eq("plaintext", out, out_len, pt, pt_len), "RFC 7520 5.6: decrypts");
  jwe_free_plaintext(out, out_len);
  if (compact) {
    /* Flip one character of the ciphertext segment: must fail authentication. */
    char *t = strdup(compact);
    char *dot = strchr(strchr(strchr(t, '.') + 1, '.') + 1, '.');
    dot[5] = dot[5] == 'A' ? 'B' : 'A';
    rc = jwe_parse(t, strlen(t), &parsed);
    if (rc == 0)
      rc = jwe_decrypt(&parsed, cek, cek_len, &out, &out_len);
    tap_ok(rc == VEIL_EAUTH, "RFC 7520 5.6: tampered ciphertext rejected");
    free(t);
  }
  free(cek), free(pt), free(iv);
}

int main(void) {
  char path[4096];
  if (!vj_vector_path("jwe/jwe-scrypt-a128gcm-example.json", path, sizeof path))
    return tap_skip_all("vectors folder absent (../shared/vectors/jwe)");
  tap_diag("crypto backend: %s", vc_backend_name());
  vj_t *v = vj_parse_file(path);
  tap_ok(v != NULL, "parse %s", path);
  if (v)
    device_example(v);
  vj_free(v);
  if (vj_vector_path("jwe/rfc7520-5.6-dir-a128gcm.json", path, sizeof path)) {
    v = vj_parse_file(path);
    tap_ok(v != NULL, "parse %s", path);
    if (v)
      rfc7520(v);
    vj_free(v);
  }
  return tap_done();
}
