/*
 * Unit tests of the crypto provider (provider.h). Under Criterion they run on OpenSSL
 * (Criterion loads OpenSSL's libcrypto); with -Dcrypto_backend=boringssl the same file is
 * also built as a plain TAP program (tapshim/) against BoringSSL. Known answers are the
 * RFCs' own: RFC 4231 (HMAC), RFC 5869 (HKDF), RFC 7748 (X25519), RFC 8032 (Ed25519), and
 * NIST SP 800-38A F.5.1 (AES-CTR).
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clients/lib/crypto/provider.h"
#include "common/hex.h"

/* Decodes a hex literal into buf (test-only helper; the literal must be valid). */
static size_t unhex(const char *s, uint8_t *buf, size_t cap) {
  long n = veil_hex_decode(s, strlen(s), buf, cap);
  cr_assert_geq(n, 0, "bad hex literal in test: %s", s);
  return (size_t)n;
}

static void assert_hex(const uint8_t *got, size_t len, const char *want) {
  uint8_t w[256];
  size_t n = unhex(want, w, sizeof(w));
  cr_assert_eq(n, len, "length %zu, want %zu", len, n);
  cr_assert_arr_eq(got, w, n);
}

/* ---- hashes, HMAC, HKDF ------------------------------------------------------------ */

Test(provider, hmac_matches_rfc4231) {
  uint8_t key[131], out[64];
  const char *hi = "Hi There";
  memset(key, 0x0b, 20);
  cr_assert_eq(vc_hmac(VC_SHA256, key, 20, (const uint8_t *)hi, 8, out), 0);
  assert_hex(out, 32, "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
  cr_assert_eq(vc_hmac(VC_SHA384, key, 20, (const uint8_t *)hi, 8, out), 0);
  assert_hex(out, 48,
             "afd03944d84895626b0825f4ab46907f15f9dadbe4101ec682aa034c7cebc59cfaea9ea9076ede7f"
             "4af152e8b2fa9cb6");
  cr_assert_eq(vc_hmac(VC_SHA512, key, 20, (const uint8_t *)hi, 8, out), 0);
  assert_hex(out, 64,
             "87aa7cdea5ef619d4ff0b4241a1d6cb02379f4e2ce4ec2787ad0b30545e17cdedaa833b7d6b8a702"
             "038b274eaea3f4e4be9d914eeb61f1702e696c203a126854");
  /* Test case 2: a key shorter than the output. */
  const char *q = "what do ya want for nothing?";
  cr_assert_eq(vc_hmac(VC_SHA256, (const uint8_t *)"Jefe", 4, (const uint8_t *)q, 28, out), 0);
  assert_hex(out, 32, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  /* Test case 6: a key longer than the block is hashed first. */
  memset(key, 0xaa, 131);
  const char *big = "Test Using Larger Than Block-Size Key - Hash Key First";
  cr_assert_eq(vc_hmac(VC_SHA256, key, 131, (const uint8_t *)big, strlen(big), out), 0);
  assert_hex(out, 32, "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
  cr_assert_eq(vc_hmac(VC_SHA512, key, 131, (const uint8_t *)big, strlen(big), out), 0);
  assert_hex(out, 64,
             "80b24263c7c1a3ebb71493c1dd7be8b49b46d1f41b4aeec1121b013783f8f3526b56d037e05f2598"
             "bd0fd2215d6a1e5295e64f73f63f0aec8b915a985d786598");
}

Test(provider, hmac_rejects_unknown_hash) {
  uint8_t out[64];
  cr_assert_eq(vc_hmac((vc_hash_t)9, (const uint8_t *)"k", 1, (const uint8_t *)"m", 1, out),
               VEIL_EINVAL);
  cr_assert_eq(vc_hash_len((vc_hash_t)9), 0);
}

Test(provider, hkdf_matches_rfc5869) {
  uint8_t ikm[80], salt[80], info[80], prk[32], okm[82];
  /* Test case 1 */
  memset(ikm, 0x0b, 22);
  size_t sl = unhex("000102030405060708090a0b0c", salt, sizeof(salt));
  size_t il = unhex("f0f1f2f3f4f5f6f7f8f9", info, sizeof(info));
  cr_assert_eq(vc_hkdf_extract(VC_SHA256, salt, sl, ikm, 22, prk), 0);
  assert_hex(prk, 32, "077709362c2e32df0ddc3f0dc47bba6390b6c73bb50f9c3122ec844ad7c2b3e5");
  cr_assert_eq(vc_hkdf_expand(VC_SHA256, prk, 32, info, il, okm, 42), 0);
  assert_hex(okm, 42,
             "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865");
  /* Test case 2: long inputs, 82-byte output (three HMAC blocks). */
  for (int i = 0; i < 80; i++) {
    ikm[i] = (uint8_t)i;
    salt[i] = (uint8_t)(0x60 + i);
    info[i] = (uint8_t)(0xb0 + i);
  }
  cr_assert_eq(vc_hkdf_extract(VC_SHA256, salt, 80, ikm, 80, prk), 0);
  assert_hex(prk, 32, "06a6b88c5853361a06104c9ceb35b45cef760014904671014a193f40c15fc244");
  cr_assert_eq(vc_hkdf_expand(VC_SHA256, prk, 32, info, 80, okm, 82), 0);
  assert_hex(okm, 82,
             "b11e398dc80327a1c8e7f78c596a49344f012eda2d4efad8a050cc4c19afa97c59045a99cac78272"
             "71cb41c65e590e09da3275600c2f09b8367793a9aca3db71cc30c58179ec3e87c14c01d5c1f3434f"
             "1d87");
  /* Test case 3: empty salt (= HashLen zeros) and empty info. */
  memset(ikm, 0x0b, 22);
  cr_assert_eq(vc_hkdf_extract(VC_SHA256, NULL, 0, ikm, 22, prk), 0);
  assert_hex(prk, 32, "19ef24a32c717b167f33a91d6f648bdf96596776afdb6377ac434c1c293ccb04");
  cr_assert_eq(vc_hkdf_expand(VC_SHA256, prk, 32, NULL, 0, okm, 42), 0);
  assert_hex(okm, 42,
             "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8");
}

Test(provider, hkdf_expand_rejects_oversized_output) {
  uint8_t prk[32] = {1}, out[1];
  static uint8_t big[255 * 32 + 1];
  cr_assert_eq(vc_hkdf_expand(VC_SHA256, prk, 32, NULL, 0, big, sizeof(big)), VEIL_EINVAL);
  cr_assert_eq(vc_hkdf_expand(VC_SHA256, prk, 32, NULL, 0, big, sizeof(big) - 1), 0);
  cr_assert_eq(vc_hkdf_expand(VC_SHA256, prk, 32, NULL, 0, out, 0), VEIL_EINVAL);
}

Test(provider, incremental_hash_equals_one_shot_and_resets) {
  uint8_t msg[1000], a[64], b[64];
  for (size_t i = 0; i < sizeof(msg); i++) msg[i] = (uint8_t)(i * 7);
  for (vc_hash_t h = VC_SHA1; h <= VC_SHA512; h++) {
    cr_assert_eq(vc_hash(h, msg, sizeof(msg), a), 0);
    vc_hash_ctx_t *c = vc_hash_new(h);
    cr_assert_not_null(c);
    cr_assert_eq(vc_hash_update(c, (const uint8_t *)"garbage", 7), 0);
    cr_assert_eq(vc_hash_reset(c), 0);
    cr_assert_eq(vc_hash_update(c, msg, 1), 0);
    cr_assert_eq(vc_hash_update(c, msg + 1, 0), 0);
    cr_assert_eq(vc_hash_update(c, msg + 1, sizeof(msg) - 1), 0);
    cr_assert_eq(vc_hash_final(c, b), 0);
    cr_assert_arr_eq(a, b, vc_hash_len(h));
    vc_hash_free(c);
  }
  cr_assert_eq(vc_hash(VC_SHA256, (const uint8_t *)"abc", 3, a), 0);
  assert_hex(a, 32, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

/* ---- AEAD ---------------------------------------------------------------------------- */

static const vc_aead_t k_aeads[] = {VC_AES_128_GCM, VC_AES_256_GCM, VC_CHACHA20_POLY1305};

Test(provider, aead_round_trips_one_shot_and_keyed) {
  uint8_t key[32], nonce[12], aad[13], pt[100], ct[116], out[116];
  for (size_t i = 0; i < sizeof(key); i++) key[i] = (uint8_t)(i + 1);
  memset(nonce, 0x42, sizeof(nonce));
  memset(aad, 0xaa, sizeof(aad));
  for (size_t i = 0; i < sizeof(pt); i++) pt[i] = (uint8_t)i;
  for (size_t k = 0; k < 3; k++) {
    vc_aead_t a = k_aeads[k];
    cr_assert_eq(vc_aead_seal(a, key, nonce, aad, sizeof(aad), pt, sizeof(pt), ct), 0);
    cr_assert_eq(vc_aead_open(a, key, nonce, aad, sizeof(aad), ct, sizeof(ct), out), 0);
    cr_assert_arr_eq(out, pt, sizeof(pt));
    /* The keyed context produces the same bytes, many times over (key schedule reused). */
    vc_aead_ctx_t *c = vc_aead_new(a, key);
    cr_assert_not_null(c);
    for (int rep = 0; rep < 3; rep++) {
      cr_assert_eq(vc_aead_ctx_seal(c, nonce, aad, sizeof(aad), pt, sizeof(pt), out), 0);
      cr_assert_arr_eq(out, ct, sizeof(ct));
      cr_assert_eq(vc_aead_ctx_open(c, nonce, aad, sizeof(aad), ct, sizeof(ct), out), 0);
      cr_assert_arr_eq(out, pt, sizeof(pt));
    }
    /* Empty plaintext and empty AAD: a bare tag. */
    cr_assert_eq(vc_aead_ctx_seal(c, nonce, NULL, 0, NULL, 0, out), 0);
    cr_assert_eq(vc_aead_ctx_open(c, nonce, NULL, 0, out, VC_AEAD_TAG_LEN, out + 16), 0);
    /* In place. */
    memcpy(out, pt, sizeof(pt));
    cr_assert_eq(vc_aead_ctx_seal(c, nonce, aad, sizeof(aad), out, sizeof(pt), out), 0);
    cr_assert_arr_eq(out, ct, sizeof(ct));
    cr_assert_eq(vc_aead_ctx_open(c, nonce, aad, sizeof(aad), out, sizeof(ct), out), 0);
    cr_assert_arr_eq(out, pt, sizeof(pt));
    vc_aead_free(c);
  }
}

/* A keyed context reused across changing nonces, AAD and lengths (the SFrame / SRTP
 * pattern) must give exactly the one-shot result each time: no state leaks between calls. */
Test(provider, aead_keyed_context_has_no_state_between_calls) {
  uint8_t key[32], nonce[12] = {0}, aad[40], pt[300], ct[316], ref[316], out[300];
  for (size_t i = 0; i < sizeof(key); i++) key[i] = (uint8_t)(0xc0 ^ i);
  for (size_t i = 0; i < sizeof(pt); i++) pt[i] = (uint8_t)(i * 31);
  memset(aad, 0x3c, sizeof(aad));
  for (size_t k = 0; k < 3; k++) {
    vc_aead_ctx_t *c = vc_aead_new(k_aeads[k], key);
    cr_assert_not_null(c);
    for (uint32_t i = 0; i < 64; i++) {
      size_t len = (i * 37) % sizeof(pt), alen = (i * 7) % sizeof(aad);
      nonce[11] = (uint8_t)i;
      nonce[0] = (uint8_t)(i >> 3);
      cr_assert_eq(vc_aead_seal(k_aeads[k], key, nonce, aad, alen, pt, len, ref), 0);
      cr_assert_eq(vc_aead_ctx_seal(c, nonce, aad, alen, pt, len, ct), 0);
      cr_assert_arr_eq(ct, ref, len + VC_AEAD_TAG_LEN, "aead %d call %u", (int)k_aeads[k], i);
      cr_assert_eq(vc_aead_ctx_open(c, nonce, aad, alen, ct, len + VC_AEAD_TAG_LEN, out), 0);
      if (len) cr_assert_arr_eq(out, pt, len);
    }
    vc_aead_free(c);
  }
}

/* Every single-bit change of ciphertext, tag, AAD or nonce must fail with VEIL_EAUTH and
 * leave no plaintext behind. */
Test(provider, aead_rejects_every_bit_flip) {
  uint8_t key[32] = {7}, nonce[12] = {9}, aad[8] = {1, 2, 3, 4, 5, 6, 7, 8};
  uint8_t pt[24], ct[40], out[40];
  memset(pt, 0x5a, sizeof(pt));
  for (size_t k = 0; k < 3; k++) {
    vc_aead_ctx_t *c = vc_aead_new(k_aeads[k], key);
    cr_assert_not_null(c);
    cr_assert_eq(vc_aead_ctx_seal(c, nonce, aad, sizeof(aad), pt, sizeof(pt), ct), 0);
    for (size_t bit = 0; bit < 8 * sizeof(ct); bit++) {
      ct[bit / 8] ^= (uint8_t)(1u << (bit % 8));
      memset(out, 0x77, sizeof(out));
      cr_assert_eq(vc_aead_ctx_open(c, nonce, aad, sizeof(aad), ct, sizeof(ct), out), VEIL_EAUTH,
                   "aead %d: ct bit %zu accepted", (int)k_aeads[k], bit);
      for (size_t i = 0; i < sizeof(pt); i++) cr_assert_eq(out[i], 0, "plaintext left behind");
      ct[bit / 8] ^= (uint8_t)(1u << (bit % 8));
    }
    for (size_t bit = 0; bit < 8 * sizeof(aad); bit++) {
      aad[bit / 8] ^= (uint8_t)(1u << (bit % 8));
      cr_assert_eq(vc_aead_ctx_open(c, nonce, aad, sizeof(aad), ct, sizeof(ct), out), VEIL_EAUTH);
      aad[bit / 8] ^= (uint8_t)(1u << (bit % 8));
    }
    for (size_t bit = 0; bit < 8 * sizeof(nonce); bit++) {
      nonce[bit / 8] ^= (uint8_t)(1u << (bit % 8));
      cr_assert_eq(vc_aead_ctx_open(c, nonce, aad, sizeof(aad), ct, sizeof(ct), out), VEIL_EAUTH);
      nonce[bit / 8] ^= (uint8_t)(1u << (bit % 8));
    }
    /* Truncation: a shorter ciphertext is a tag mismatch; shorter than a tag is invalid. */
    cr_assert_eq(vc_aead_ctx_open(c, nonce, aad, sizeof(aad), ct, sizeof(ct) - 1, out),
                 VEIL_EAUTH);
    cr_assert_eq(vc_aead_ctx_open(c, nonce, aad, sizeof(aad), ct, VC_AEAD_TAG_LEN - 1, out),
                 VEIL_EINVAL);
    /* And the untouched message still opens: the context survived every failure. */
    cr_assert_eq(vc_aead_ctx_open(c, nonce, aad, sizeof(aad), ct, sizeof(ct), out), 0);
    cr_assert_arr_eq(out, pt, sizeof(pt));
    vc_aead_free(c);
  }
}

Test(provider, aead_rejects_wrong_key) {
  uint8_t key[32] = {1}, key2[32] = {2}, nonce[12] = {0}, ct[20], out[20];
  cr_assert_eq(vc_aead_seal(VC_AES_256_GCM, key, nonce, NULL, 0, (const uint8_t *)"abcd", 4, ct),
               0);
  cr_assert_eq(vc_aead_open(VC_AES_256_GCM, key2, nonce, NULL, 0, ct, sizeof(ct), out),
               VEIL_EAUTH);
  cr_assert_null(vc_aead_new((vc_aead_t)42, key));
  cr_assert_eq(vc_aead_key_len((vc_aead_t)42), 0);
}

/* NIST SP 800-38A F.5.1 (CTR-AES128.Encrypt), first two blocks; then a counter that wraps
 * its low 64 bits must carry into the high half (128-bit increment, RFC 9605 §4.5.1). */
Test(provider, aes_ctr_matches_sp800_38a_and_carries_128_bits) {
  uint8_t key[16], iv[16], pt[32], out[32];
  unhex("2b7e151628aed2a6abf7158809cf4f3c", key, sizeof(key));
  unhex("f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff", iv, sizeof(iv));
  unhex("6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e51", pt, sizeof(pt));
  cr_assert_eq(vc_aes_ctr(key, 16, iv, pt, 32, out), 0);
  assert_hex(out, 32, "874d6191b620e3261bef6864990db6ce9806f66b7970fdff8617187bb9fffdff");
  /* in == out, and decrypting gives the plaintext back. */
  cr_assert_eq(vc_aes_ctr(key, 16, iv, out, 32, out), 0);
  cr_assert_arr_eq(out, pt, 32);
  /* Carry: block 2 of counter ..ff|ff..ff must equal block 1 of counter ..01|00..00. */
  uint8_t ivw[16], ivn[16], zeros[32] = {0}, a[32], b[16];
  memset(ivw, 0, 16);
  memset(ivw + 8, 0xff, 8);
  memset(ivn, 0, 16);
  ivn[7] = 1;
  cr_assert_eq(vc_aes_ctr(key, 16, ivw, zeros, 32, a), 0);
  cr_assert_eq(vc_aes_ctr(key, 16, ivn, zeros, 16, b), 0);
  cr_assert_arr_eq(a + 16, b, 16);
  cr_assert_eq(vc_aes_ctr(key, 15, iv, pt, 16, out), VEIL_EINVAL);
}

/* The keyed CTR context gives the one-shot result for every IV and length, including a
 * counter that carries past 2^64 and in-place use; the counter restarts on every call. */
Test(provider, aes_ctr_keyed_context_equals_one_shot) {
  uint8_t key[32], iv[16], pt[200], a[200], b[200];
  for (size_t i = 0; i < sizeof(key); i++) key[i] = (uint8_t)(i * 3);
  for (size_t i = 0; i < sizeof(pt); i++) pt[i] = (uint8_t)(i ^ 0x5a);
  const size_t key_lens[] = {16, 24, 32};
  for (size_t k = 0; k < 3; k++) {
    vc_aes_ctr_ctx_t *c = vc_aes_ctr_new(key, key_lens[k]);
    cr_assert_not_null(c);
    for (uint32_t i = 0; i < 40; i++) {
      size_t len = (i * 29) % sizeof(pt);
      memset(iv, 0, sizeof(iv));
      if (i % 2) memset(iv + 8, 0xff, 8); /* low half about to wrap */
      iv[0] = (uint8_t)i;
      iv[15] = (uint8_t)(0xfe + i);
      cr_assert_eq(vc_aes_ctr(key, key_lens[k], iv, pt, len, a), 0);
      cr_assert_eq(vc_aes_ctr_ctx_crypt(c, iv, pt, len, b), 0);
      if (len) cr_assert_arr_eq(a, b, len, "key %zu call %u", key_lens[k], i);
      memcpy(b, pt, len);
      cr_assert_eq(vc_aes_ctr_ctx_crypt(c, iv, b, len, b), 0);
      if (len) cr_assert_arr_eq(a, b, len);
    }
    vc_aes_ctr_free(c);
  }
  cr_assert_null(vc_aes_ctr_new(key, 20));
}

/* ---- key agreement ---------------------------------------------------------------- */

Test(provider, x25519_matches_rfc7748) {
  uint8_t a[32], b[32], pa[32], pb[32], s1[32], s2[32];
  unhex("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a", a, 32);
  unhex("5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb", b, 32);
  cr_assert_eq(vc_kex_public(VC_X25519, a, pa), 0);
  assert_hex(pa, 32, "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a");
  cr_assert_eq(vc_kex_public(VC_X25519, b, pb), 0);
  assert_hex(pb, 32, "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f");
  cr_assert_eq(vc_kex_derive(VC_X25519, a, pb, 32, s1), 0);
  cr_assert_eq(vc_kex_derive(VC_X25519, b, pa, 32, s2), 0);
  assert_hex(s1, 32, "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742");
  cr_assert_arr_eq(s1, s2, 32);
}

/* RFC 7748 §6.1: a low-order peer point yields the all-zero secret, which must be refused. */
Test(provider, x25519_rejects_low_order_points) {
  static const char *low_order[] = {
      "0000000000000000000000000000000000000000000000000000000000000000", /* 0 */
      "0100000000000000000000000000000000000000000000000000000000000000", /* 1 */
      "e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800", /* order 8 */
      "5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157", /* order 8 */
      "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f", /* p - 1 */
  };
  uint8_t sk[32], pk[32], peer[32], shared[32];
  cr_assert_eq(vc_kex_generate(VC_X25519, sk, pk), 0);
  for (size_t i = 0; i < sizeof(low_order) / sizeof(low_order[0]); i++) {
    unhex(low_order[i], peer, 32);
    memset(shared, 0x55, sizeof(shared));
    cr_assert_eq(vc_kex_derive(VC_X25519, sk, peer, 32, shared), VEIL_EBADKEY,
                 "low-order point %zu accepted", i);
  }
  cr_assert_eq(vc_kex_derive(VC_X25519, sk, pk, 31, shared), VEIL_EBADKEY);
}

#define P256_ORDER "ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551"

Test(provider, p256_rejects_scalar_zero_and_at_or_above_order) {
  uint8_t d[32], pub[65];
  memset(d, 0, 32);
  cr_assert_eq(vc_kex_public(VC_P256, d, pub), VEIL_EBADKEY);
  unhex(P256_ORDER, d, 32); /* n */
  cr_assert_eq(vc_kex_public(VC_P256, d, pub), VEIL_EBADKEY);
  d[31]++; /* n + 1 */
  cr_assert_eq(vc_kex_public(VC_P256, d, pub), VEIL_EBADKEY);
  memset(d, 0xff, 32);
  cr_assert_eq(vc_kex_public(VC_P256, d, pub), VEIL_EBADKEY);
  cr_assert_eq(vc_sig_public(VC_ECDSA_P256_SHA256, d, pub), VEIL_EBADKEY);
  /* n - 1 and 1 are valid; 1·G is the generator. */
  unhex(P256_ORDER, d, 32);
  d[31]--;
  cr_assert_eq(vc_kex_public(VC_P256, d, pub), 0);
  memset(d, 0, 32);
  d[31] = 1;
  cr_assert_eq(vc_kex_public(VC_P256, d, pub), 0);
  assert_hex(pub, 65,
             "046b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c296"
             "4fe342e2fe1a7f9b8ee7eb4a7c0f9e162bce33576b315ececbb6406837bf51f5");
}

Test(provider, p256_ecdh_agrees_and_rejects_invalid_peer_points) {
  uint8_t a[32], b[32], pa[65], pb[65], s1[32], s2[32], bad[65];
  cr_assert_eq(vc_kex_generate(VC_P256, a, pa), 0);
  cr_assert_eq(vc_kex_generate(VC_P256, b, pb), 0);
  cr_assert_eq(vc_kex_derive(VC_P256, a, pb, 65, s1), 0);
  cr_assert_eq(vc_kex_derive(VC_P256, b, pa, 65, s2), 0);
  cr_assert_arr_eq(s1, s2, 32);
  /* Off the curve: y changed by one bit. */
  memcpy(bad, pb, 65);
  bad[64] ^= 1;
  cr_assert_eq(vc_kex_derive(VC_P256, a, bad, 65, s1), VEIL_EBADKEY);
  /* Compressed / hybrid prefixes, wrong length, the identity encoding, all zeros. */
  memcpy(bad, pb, 65);
  bad[0] = 0x02;
  cr_assert_eq(vc_kex_derive(VC_P256, a, bad, 65, s1), VEIL_EBADKEY);
  bad[0] = 0x06;
  cr_assert_eq(vc_kex_derive(VC_P256, a, bad, 65, s1), VEIL_EBADKEY);
  cr_assert_eq(vc_kex_derive(VC_P256, a, pb, 64, s1), VEIL_EBADKEY);
  uint8_t inf = 0x00;
  cr_assert_eq(vc_kex_derive(VC_P256, a, &inf, 1, s1), VEIL_EBADKEY);
  memset(bad, 0, 65);
  bad[0] = 0x04;
  cr_assert_eq(vc_kex_derive(VC_P256, a, bad, 65, s1), VEIL_EBADKEY);
  /* x = p (non-canonical coordinate) */
  unhex("04ffffffff00000001000000000000000000000000ffffffffffffffffffffffff"
        "4fe342e2fe1a7f9b8ee7eb4a7c0f9e162bce33576b315ececbb6406837bf51f5",
        bad, 65);
  cr_assert_eq(vc_kex_derive(VC_P256, a, bad, 65, s1), VEIL_EBADKEY);
  /* An invalid own scalar is refused too. */
  memset(b, 0, 32);
  cr_assert_eq(vc_kex_derive(VC_P256, b, pa, 65, s1), VEIL_EBADKEY);
}

/* ---- signatures ------------------------------------------------------------------- */

Test(provider, ed25519_matches_rfc8032_test1) {
  uint8_t sk[32], pk[32], sig[VC_SIG_MAX];
  size_t sl = 0;
  unhex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60", sk, 32);
  cr_assert_eq(vc_sig_public(VC_ED25519, sk, pk), 0);
  assert_hex(pk, 32, "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a");
  cr_assert_eq(vc_sign(VC_ED25519, sk, NULL, 0, sig, &sl), 0);
  assert_hex(sig, sl,
             "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bac"
             "c61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b");
  cr_assert_eq(vc_verify(VC_ED25519, pk, 32, NULL, 0, sig, sl), 0);
}

static void sig_rejections(vc_sig_t s) {
  uint8_t sk[32], pk[65], sk2[32], pk2[65], sig[VC_SIG_MAX + 1]; /* +1: the extension test */
  size_t sl = 0, pl = vc_sig_pub_len(s);
  const uint8_t msg[] = "a message to sign";
  cr_assert_eq(vc_sig_generate(s, sk, pk), 0);
  cr_assert_eq(vc_sig_generate(s, sk2, pk2), 0);
  uint8_t again[65];
  cr_assert_eq(vc_sig_public(s, sk, again), 0);
  cr_assert_arr_eq(again, pk, pl);
  cr_assert_eq(vc_sign(s, sk, msg, sizeof(msg), sig, &sl), 0);
  cr_assert_leq(sl, VC_SIG_MAX);
  cr_assert_eq(vc_verify(s, pk, pl, msg, sizeof(msg), sig, sl), 0);
  /* Wrong key. */
  cr_assert_eq(vc_verify(s, pk2, pl, msg, sizeof(msg), sig, sl), VEIL_EVERIFY);
  /* Every bit of the message and of the signature. */
  uint8_t m2[sizeof(msg)];
  memcpy(m2, msg, sizeof(msg));
  for (size_t bit = 0; bit < 8 * sizeof(m2); bit++) {
    m2[bit / 8] ^= (uint8_t)(1u << (bit % 8));
    cr_assert_eq(vc_verify(s, pk, pl, m2, sizeof(m2), sig, sl), VEIL_EVERIFY);
    m2[bit / 8] ^= (uint8_t)(1u << (bit % 8));
  }
  for (size_t bit = 0; bit < 8 * sl; bit++) {
    sig[bit / 8] ^= (uint8_t)(1u << (bit % 8));
    cr_assert_eq(vc_verify(s, pk, pl, msg, sizeof(msg), sig, sl), VEIL_EVERIFY,
                 "sig %d: flipped bit %zu accepted", (int)s, bit);
    sig[bit / 8] ^= (uint8_t)(1u << (bit % 8));
  }
  /* Truncated and extended signatures. */
  cr_assert_eq(vc_verify(s, pk, pl, msg, sizeof(msg), sig, sl - 1), VEIL_EVERIFY);
  sig[sl] = 0;
  cr_assert_eq(vc_verify(s, pk, pl, msg, sizeof(msg), sig, sl + 1), VEIL_EVERIFY);
  cr_assert_eq(vc_verify(s, pk, pl - 1, msg, sizeof(msg), sig, sl), VEIL_EBADKEY);
}

Test(provider, ed25519_rejects_wrong_key_and_bit_flips) { sig_rejections(VC_ED25519); }

Test(provider, ecdsa_rejects_wrong_key_and_bit_flips) { sig_rejections(VC_ECDSA_P256_SHA256); }

Test(provider, ecdsa_rejects_off_curve_public_key) {
  uint8_t sk[32], pk[65], sig[VC_SIG_MAX];
  size_t sl;
  cr_assert_eq(vc_sig_generate(VC_ECDSA_P256_SHA256, sk, pk), 0);
  cr_assert_eq(vc_sign(VC_ECDSA_P256_SHA256, sk, (const uint8_t *)"m", 1, sig, &sl), 0);
  pk[40] ^= 0x10;
  cr_assert_eq(vc_verify(VC_ECDSA_P256_SHA256, pk, 65, (const uint8_t *)"m", 1, sig, sl),
               VEIL_EBADKEY);
}

/* ---- misc ------------------------------------------------------------------------ */

Test(provider, ct_equal_compares_whole_buffers) {
  uint8_t a[64], b[64];
  memset(a, 0x11, sizeof(a));
  memcpy(b, a, sizeof(b));
  cr_assert_eq(vc_ct_equal(a, b, sizeof(a)), 1);
  cr_assert_eq(vc_ct_equal(a, b, 0), 1);
  for (size_t i = 0; i < sizeof(a); i++) {
    b[i] ^= 0x80;
    cr_assert_eq(vc_ct_equal(a, b, sizeof(a)), 0, "difference at byte %zu missed", i);
    b[i] ^= 0x80;
  }
}

Test(provider, random_fills_and_differs) {
  uint8_t a[32] = {0}, b[32] = {0}, z[32] = {0};
  cr_assert_eq(vc_random(a, sizeof(a)), 0);
  cr_assert_eq(vc_random(b, sizeof(b)), 0);
  cr_assert(memcmp(a, z, 32) != 0 && memcmp(a, b, 32) != 0);
  vc_wipe(a, sizeof(a));
  cr_assert_arr_eq(a, z, 32);
}

Test(provider, scrypt_rejects_bad_parameters_and_excess_memory) {
  uint8_t out[32];
  cr_assert_eq(vc_scrypt((const uint8_t *)"p", 1, (const uint8_t *)"s", 1, 1000, 8, 1, out, 32),
               VEIL_EINVAL); /* N not a power of two */
  cr_assert_eq(vc_scrypt((const uint8_t *)"p", 1, (const uint8_t *)"s", 1, 16, 0, 1, out, 32),
               VEIL_EINVAL);
  cr_assert_eq(vc_scrypt((const uint8_t *)"p", 1, (const uint8_t *)"s", 1, (uint64_t)1 << 22, 8,
                         1, out, 32),
               VEIL_ELIMIT); /* 4 GiB */
  /* The device JWE parameters (N = 32768, r = 8, p = 1) fit. */
  cr_assert_eq(
      vc_scrypt((const uint8_t *)"p", 1, (const uint8_t *)"s", 1, 32768, 8, 1, out, 32), 0);
}

/* Criterion builds must run on OpenSSL; the TAP build (tapshim/) names its backend. */
Test(provider, backend_is_the_one_linked) {
#ifdef VEIL_EXPECT_BACKEND
  cr_assert_str_eq(vc_backend_name(), VEIL_EXPECT_BACKEND);
#else
  cr_assert_str_eq(vc_backend_name(), "openssl");
#endif
}
