/*
 * veil — the part of the crypto provider (provider.h) that is the same on OpenSSL 3 and on
 * BoringSSL. This file is compiled into BOTH backend libraries (vc_openssl, vc_boringssl),
 * each time against that backend's headers, so it may call only what the two share with
 * the same meaning: EVP_Digest / EVP_MD_CTX, RAND_bytes, CRYPTO_memcmp, OPENSSL_cleanse,
 * EC_POINT / BN arithmetic, ECDSA_verify on an EC_KEY, EVP_PBE_scrypt.
 *
 * Here: randomness and wiping; hashes and incremental hashing; the argument rules of HKDF
 * (RFC 5869) and of the one-shot AEAD calls; P-256 scalars, points, ECDH and ECDSA
 * verification; the curve dispatch of key agreement and signatures; scrypt's bounds.
 * In provider_openssl.c / provider_boringssl.c, behind the vcb_* hooks of provider_evp.h:
 * everything whose API differs (HMAC, HKDF, AEAD and AES-CTR contexts, X25519, Ed25519,
 * ECDSA signing, how digests and the P-256 group are obtained).
 *
 * No wrapper here copies data or allocates on the hash, HMAC, HKDF or AEAD paths: it checks
 * arguments and calls the backend once.
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "clients/lib/crypto/provider_evp.h"

static const uint8_t k_empty[1] = {0}; /* a valid pointer for zero-length inputs */

/* ---- randomness, comparison, wiping ---------------------------------------------- */

int vc_random(uint8_t *out, size_t len) {
  /* OpenSSL's RAND_bytes takes an int length (BoringSSL's a size_t): chunk at INT_MAX. */
  while (len > 0) {
    int n = len > INT_MAX ? INT_MAX : (int)len;
    if (RAND_bytes(out, n) != 1) return VEIL_ECRYPTO;
    out += n;
    len -= (size_t)n;
  }
  return 0;
}

int vc_ct_equal(const void *a, const void *b, size_t len) {
  return CRYPTO_memcmp(a, b, len) == 0;
}

void vc_wipe(void *p, size_t len) {
  if (p && len) OPENSSL_cleanse(p, len);
}

/* ---- hashes, HKDF ------------------------------------------------------------------ */

size_t vc_hash_len(vc_hash_t h) {
  switch (h) {
  case VC_SHA1: return 20;
  case VC_SHA256: return 32;
  case VC_SHA384: return 48;
  case VC_SHA512: return 64;
  }
  return 0;
}

int vc_hash(vc_hash_t h, const uint8_t *in, size_t len, uint8_t *out) {
  const EVP_MD *md = NULL;
  int rc = vcb_md(h, &md);
  if (rc) return rc;
  return EVP_Digest(len ? in : k_empty, len, out, NULL, md, NULL) == 1 ? 0 : VEIL_ECRYPTO;
}

int vc_hkdf_extract(vc_hash_t h, const uint8_t *salt, size_t salt_len, const uint8_t *ikm,
                    size_t ikm_len, uint8_t *prk_out) {
  size_t hl = vc_hash_len(h);
  if (!hl) return VEIL_EINVAL;
  /* RFC 5869 §2.2: an absent salt is HashLen zeros (passed explicitly, not left unset). */
  uint8_t zeros[VC_HASH_MAX] = {0};
  if (salt_len == 0) {
    salt = zeros;
    salt_len = hl;
  }
  return vcb_hkdf_extract(h, salt, salt_len, ikm, ikm_len, prk_out, hl);
}

int vc_hkdf_expand(vc_hash_t h, const uint8_t *prk, size_t prk_len, const uint8_t *info,
                   size_t info_len, uint8_t *out, size_t out_len) {
  size_t hl = vc_hash_len(h);
  /* RFC 5869 §2.3: L <= 255 * HashLen. */
  if (!hl || out_len == 0 || out_len > 255 * hl || prk_len == 0) return VEIL_EINVAL;
  return vcb_hkdf_expand(h, prk, prk_len, info, info_len, out, out_len);
}

struct vc_hash_ctx {
  EVP_MD_CTX *md_ctx; /* owned */
  const EVP_MD *md;   /* borrowed from the backend (vcb_md) */
};

vc_hash_ctx_t *vc_hash_new(vc_hash_t h) {
  const EVP_MD *md = NULL;
  if (vcb_md(h, &md)) return NULL;
  vc_hash_ctx_t *c = calloc(1, sizeof(*c));
  if (!c) return NULL;
  c->md = md;
  c->md_ctx = EVP_MD_CTX_new();
  if (!c->md_ctx || EVP_DigestInit_ex(c->md_ctx, md, NULL) != 1) {
    vc_hash_free(c);
    return NULL;
  }
  return c;
}

int vc_hash_update(vc_hash_ctx_t *c, const uint8_t *in, size_t len) {
  if (!c) return VEIL_EINVAL;
  if (len == 0) return 0;
  return EVP_DigestUpdate(c->md_ctx, in, len) == 1 ? 0 : VEIL_ECRYPTO;
}

int vc_hash_final(vc_hash_ctx_t *c, uint8_t *out) {
  if (!c) return VEIL_EINVAL;
  return EVP_DigestFinal_ex(c->md_ctx, out, NULL) == 1 ? 0 : VEIL_ECRYPTO;
}

int vc_hash_reset(vc_hash_ctx_t *c) {
  if (!c) return VEIL_EINVAL;
  return EVP_DigestInit_ex(c->md_ctx, c->md, NULL) == 1 ? 0 : VEIL_ECRYPTO;
}

void vc_hash_free(vc_hash_ctx_t *c) {
  if (!c) return;
  EVP_MD_CTX_free(c->md_ctx);
  free(c);
}

/* ---- AEAD one-shots (the keyed contexts are the backends') ------------------------- */

size_t vc_aead_key_len(vc_aead_t a) {
  switch (a) {
  case VC_AES_128_GCM: return 16;
  case VC_AES_256_GCM: return 32;
  case VC_CHACHA20_POLY1305: return 32;
  }
  return 0;
}

/* A one-shot is a context used once: the backends key a context lazily or in one step, so
 * this costs one key schedule, the same as a dedicated one-shot path would. */
int vc_aead_seal(vc_aead_t a, const uint8_t *key, const uint8_t nonce[VC_AEAD_NONCE_LEN],
                 const uint8_t *aad, size_t aad_len, const uint8_t *pt, size_t pt_len,
                 uint8_t *out) {
  if (!vc_aead_key_len(a)) return VEIL_EINVAL;
  vc_aead_ctx_t *c = vc_aead_new(a, key);
  if (!c) return VEIL_ECRYPTO;
  int rc = vc_aead_ctx_seal(c, nonce, aad, aad_len, pt, pt_len, out);
  vc_aead_free(c);
  return rc;
}

int vc_aead_open(vc_aead_t a, const uint8_t *key, const uint8_t nonce[VC_AEAD_NONCE_LEN],
                 const uint8_t *aad, size_t aad_len, const uint8_t *ct, size_t ct_len,
                 uint8_t *out) {
  if (!vc_aead_key_len(a)) return VEIL_EINVAL;
  vc_aead_ctx_t *c = vc_aead_new(a, key);
  if (!c) return VEIL_ECRYPTO;
  int rc = vc_aead_ctx_open(c, nonce, aad, aad_len, ct, ct_len, out);
  vc_aead_free(c);
  return rc;
}

/* ---- P-256 ------------------------------------------------------------------------- */

int vc_evp_p256_scalar(const EC_GROUP *grp, const uint8_t priv[32], BIGNUM **out) {
  BIGNUM *d = NULL;
  int rc = vcb_bn_secret(priv, 32, &d);
  if (rc) return rc;
  if (BN_is_zero(d) || BN_cmp(d, EC_GROUP_get0_order(grp)) >= 0) {
    BN_clear_free(d);
    return VEIL_EBADKEY;
  }
  *out = d;
  return 0;
}

/* EC_POINT_oct2point checks the point is on the curve (checked again, cheaply, so the
 * contract does not rest on one library's decoder); the 0x04 prefix and the length exclude
 * the identity's 1-byte encoding. */
int vc_evp_p256_point(const EC_GROUP *grp, const uint8_t *pub, size_t len, EC_POINT **out) {
  if (len != 65 || pub[0] != 0x04) return VEIL_EBADKEY;
  EC_POINT *p = EC_POINT_new(grp);
  if (!p) return VEIL_ENOMEM;
  if (EC_POINT_oct2point(grp, p, pub, len, NULL) != 1 || EC_POINT_is_at_infinity(grp, p) ||
      EC_POINT_is_on_curve(grp, p, NULL) != 1) {
    EC_POINT_free(p);
    return VEIL_EBADKEY;
  }
  *out = p;
  return 0;
}

int vc_evp_p256_public(const EC_GROUP *grp, const uint8_t priv[32], uint8_t pub[65]) {
  BIGNUM *d = NULL;
  int rc = vc_evp_p256_scalar(grp, priv, &d);
  if (rc) return rc;
  rc = VEIL_ECRYPTO;
  EC_POINT *q = EC_POINT_new(grp);
  if (!q) goto fail;
  if (EC_POINT_mul(grp, q, d, NULL, NULL, NULL) != 1) goto fail;
  if (EC_POINT_point2oct(grp, q, POINT_CONVERSION_UNCOMPRESSED, pub, 65, NULL) != 65)
    goto fail;
  rc = 0;
fail:
  EC_POINT_free(q);
  BN_clear_free(d);
  return rc;
}

/* ECDH on P-256 (SEC1 §3.3.1): x-coordinate of d·Q. The cofactor is 1, so the only invalid
 * peer points are off-curve points and the identity, both rejected by vc_evp_p256_point. */
static int p256_derive(const EC_GROUP *grp, const uint8_t *priv, const uint8_t *peer,
                       size_t peer_len, uint8_t *shared) {
  BIGNUM *d = NULL, *x = NULL;
  EC_POINT *q = NULL, *r = NULL;
  int rc = vc_evp_p256_point(grp, peer, peer_len, &q);
  if (rc) return rc;
  if ((rc = vc_evp_p256_scalar(grp, priv, &d))) goto fail;
  rc = VEIL_ECRYPTO;
  r = EC_POINT_new(grp);
  x = BN_new();
  if (!r || !x) goto fail;
  if (EC_POINT_mul(grp, r, NULL, q, d, NULL) != 1) goto fail;
  if (EC_POINT_is_at_infinity(grp, r)) {
    rc = VEIL_EBADKEY;
    goto fail;
  }
  if (EC_POINT_get_affine_coordinates(grp, r, x, NULL, NULL) != 1) goto fail;
  if (BN_bn2binpad(x, shared, 32) != 32) goto fail;
  rc = 0;
fail:
  BN_clear_free(x);
  BN_clear_free(d);
  EC_POINT_clear_free(r);
  EC_POINT_free(q);
  return rc;
}

/* ECDSA P-256 / SHA-256 verification on an EC_KEY built from the point and the shared
 * group. On OpenSSL the EVP route (EVP_PKEY_fromdata + EVP_DigestVerify) builds a fresh
 * EC_GROUP from its name on every import: ~20 of its ~95 us per verification, which a
 * joiner pays for every leaf of the tree (RFC 9420 §12.4.3.1). The EC_KEY calls are
 * deprecated in OpenSSL 3 but kept through 3.x, and they are what the default provider's
 * ECDSA verify itself ends in (ossl ecdsa_verify -> ECDSA_verify); on BoringSSL they are
 * the native API. Either way the accepted signatures are the same: strict DER
 * (ECDSA_verify re-encodes and compares), 0 < r, s < n, the point on the curve. */
#if defined(__GNUC__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
#endif
static int p256_verify(const EC_GROUP *grp, const uint8_t *pub, size_t pub_len,
                       const uint8_t *msg, size_t msg_len, const uint8_t *sig, size_t sig_len) {
  uint8_t digest[32];
  EC_POINT *q = NULL;
  int rc = vc_evp_p256_point(grp, pub, pub_len, &q);
  if (rc) return rc;
  rc = VEIL_ECRYPTO;
  EC_KEY *k = EC_KEY_new();
  if (!k || EC_KEY_set_group(k, grp) != 1 || EC_KEY_set_public_key(k, q) != 1) goto fail;
  if ((rc = vc_hash(VC_SHA256, msg, msg_len, digest))) goto fail;
  if (sig_len > INT_MAX) { /* OpenSSL's ECDSA_verify takes an int length */
    rc = VEIL_EVERIFY;
    goto fail;
  }
  /* 1 is valid; 0 (mismatch) and -1 (e.g. malformed DER) are both "not valid". */
  rc = ECDSA_verify(0, digest, 32, sig_len ? sig : k_empty, (int)sig_len, k) == 1
           ? 0
           : VEIL_EVERIFY;
fail:
  EC_KEY_free(k);
  EC_POINT_free(q);
  return rc;
}
#if defined(__GNUC__)
#pragma GCC diagnostic pop
#endif

/* ---- key agreement ---------------------------------------------------------------- */

size_t vc_kex_priv_len(vc_group_t gr) { return gr == VC_X25519 || gr == VC_P256 ? 32 : 0; }
size_t vc_kex_pub_len(vc_group_t gr) {
  return gr == VC_X25519 ? 32 : gr == VC_P256 ? 65 : 0;
}
size_t vc_kex_shared_len(vc_group_t gr) { return vc_kex_priv_len(gr); }

int vc_kex_public(vc_group_t gr, const uint8_t *priv, uint8_t *pub) {
  int rc = vcb_init();
  if (rc) return rc;
  switch (gr) {
  case VC_X25519: return vcb_x25519_public(priv, pub);
  case VC_P256: return vc_evp_p256_public(vcb_p256(), priv, pub);
  }
  return VEIL_EINVAL;
}

int vc_kex_generate(vc_group_t gr, uint8_t *priv, uint8_t *pub) {
  if (!vc_kex_priv_len(gr)) return VEIL_EINVAL;
  /* Rejection sampling keeps the P-256 scalar uniform in [1, n-1]; for X25519 any 32
   * random bytes are a valid (clamped on use) private key. */
  for (int i = 0; i < 64; i++) {
    int rc = vc_random(priv, 32);
    if (rc) return rc;
    rc = vc_kex_public(gr, priv, pub);
    if (rc != VEIL_EBADKEY) {
      if (rc) vc_wipe(priv, 32);
      return rc;
    }
  }
  vc_wipe(priv, 32);
  return VEIL_ECRYPTO;
}

int vc_kex_derive(vc_group_t gr, const uint8_t *priv, const uint8_t *peer_pub, size_t peer_len,
                  uint8_t *shared) {
  int rc = vcb_init();
  if (rc) return rc;
  switch (gr) {
  case VC_X25519:
    if (peer_len != 32) return VEIL_EBADKEY;
    return vcb_x25519(priv, peer_pub, shared);
  case VC_P256: return p256_derive(vcb_p256(), priv, peer_pub, peer_len, shared);
  }
  return VEIL_EINVAL;
}

/* ---- signatures (vc_sign is the backends': the key import differs) ----------------- */

size_t vc_sig_priv_len(vc_sig_t s) { return s == VC_ED25519 || s == VC_ECDSA_P256_SHA256 ? 32 : 0; }
size_t vc_sig_pub_len(vc_sig_t s) {
  return s == VC_ED25519 ? 32 : s == VC_ECDSA_P256_SHA256 ? 65 : 0;
}

int vc_sig_public(vc_sig_t s, const uint8_t *priv, uint8_t *pub) {
  int rc = vcb_init();
  if (rc) return rc;
  switch (s) {
  case VC_ED25519: return vcb_ed25519_public(priv, pub);
  case VC_ECDSA_P256_SHA256: return vc_evp_p256_public(vcb_p256(), priv, pub);
  }
  return VEIL_EINVAL;
}

int vc_sig_generate(vc_sig_t s, uint8_t *priv, uint8_t *pub) {
  switch (s) {
  case VC_ED25519: { /* any 32 random bytes are an RFC 8032 seed */
    int rc = vc_random(priv, 32);
    return rc ? rc : vcb_ed25519_public(priv, pub);
  }
  case VC_ECDSA_P256_SHA256: return vc_kex_generate(VC_P256, priv, pub);
  }
  return VEIL_EINVAL;
}

int vc_verify(vc_sig_t s, const uint8_t *pub, size_t pub_len, const uint8_t *msg,
              size_t msg_len, const uint8_t *sig, size_t sig_len) {
  int rc = vcb_init();
  if (rc) return rc;
  switch (s) {
  case VC_ED25519:
    if (pub_len != 32) return VEIL_EBADKEY;
    return vcb_ed25519_verify(pub, msg, msg_len, sig, sig_len);
  case VC_ECDSA_P256_SHA256:
    return p256_verify(vcb_p256(), pub, pub_len, msg, msg_len, sig, sig_len);
  }
  return VEIL_EINVAL;
}

/* ---- scrypt ------------------------------------------------------------------------ */

/* Cap on scrypt working memory: N=2^20, r=8 (1 GiB, RFC 7914 §12 test 4) plus slack. The
 * device JWE format needs 32 MiB; parameters come from stored blobs, so they are bounded. */
#define VC_SCRYPT_MAXMEM (((uint64_t)1 << 30) + ((uint64_t)64 << 20))

int vc_scrypt(const uint8_t *pw, size_t pw_len, const uint8_t *salt, size_t salt_len,
              uint64_t N, uint32_t r, uint32_t p, uint8_t *out, size_t out_len) {
  if (N < 2 || (N & (N - 1)) || r == 0 || p == 0 || out_len == 0) return VEIL_EINVAL;
  if (N > (VC_SCRYPT_MAXMEM / 128) / r || p > (VC_SCRYPT_MAXMEM / 128) / r)
    return VEIL_ELIMIT;
  /* OpenSSL's own accounting (crypto/evp/pbe_scrypt.c): 128·r·(N + 2) + 128·r·p bytes.
   * BoringSSL's (crypto/evp/scrypt.c), 128·r·(N + p + 1), is never larger, so one limit
   * serves both; the 4 KiB passed on top is margin. */
  uint64_t need = 128 * (uint64_t)r * (N + 2) + 128 * (uint64_t)r * p;
  if (need > VC_SCRYPT_MAXMEM) return VEIL_ELIMIT;
  if (EVP_PBE_scrypt((const char *)(pw_len ? pw : k_empty), pw_len, salt_len ? salt : k_empty,
                     salt_len, N, r, p, (size_t)need + 4096, out, out_len) != 1)
    return VEIL_ECRYPTO;
  return 0;
}
