/*
 * veil — crypto provider on BoringSSL (Debian's android-libboringssl-dev: headers in
 * /usr/include/android, libcrypto.so in /usr/lib/<multiarch>/android). Selected with
 * -Dcrypto_backend=boringssl and only ever linked into binaries that load neither
 * libwebsockets nor Criterion (DESIGN.md, "Why two crypto libraries").
 *
 * BoringSSL's native interfaces are used where they exist (EVP_AEAD, HKDF_extract/expand,
 * X25519 / ED25519_*, EVP_PBE_scrypt): they take size_t lengths and keep the key schedule
 * inside a reusable EVP_AEAD_CTX, which is exactly the keyed-context contract of provider.h.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/aead.h>
#include <openssl/aes.h>
#include <openssl/bn.h>
#include <openssl/curve25519.h>
#include <openssl/digest.h>
#include <openssl/ec.h>
#include <openssl/ec_key.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/hkdf.h>
#include <openssl/hmac.h>
#include <openssl/mem.h>
#include <openssl/nid.h>
#include <openssl/rand.h>

#include "clients/lib/crypto/provider.h"

static const uint8_t k_empty[1] = {0}; /* a valid pointer for zero-length inputs */

const char *vc_backend_name(void) { return "boringssl"; }

/* ---- randomness, comparison, wiping ---------------------------------------------- */

int vc_random(uint8_t *out, size_t len) {
  if (len == 0) return 0;
  return RAND_bytes(out, len) == 1 ? 0 : VEIL_ECRYPTO;
}

int vc_ct_equal(const void *a, const void *b, size_t len) {
  return CRYPTO_memcmp(a, b, len) == 0;
}

void vc_wipe(void *p, size_t len) {
  if (p && len) OPENSSL_cleanse(p, len);
}

/* ---- hashes, HMAC, HKDF ------------------------------------------------------------ */

static const EVP_MD *md_of(vc_hash_t h) {
  switch (h) {
  case VC_SHA1: return EVP_sha1();
  case VC_SHA256: return EVP_sha256();
  case VC_SHA384: return EVP_sha384();
  case VC_SHA512: return EVP_sha512();
  }
  return NULL;
}

size_t vc_hash_len(vc_hash_t h) {
  const EVP_MD *md = md_of(h);
  return md ? EVP_MD_size(md) : 0;
}

int vc_hash(vc_hash_t h, const uint8_t *in, size_t len, uint8_t *out) {
  const EVP_MD *md = md_of(h);
  if (!md) return VEIL_EINVAL;
  return EVP_Digest(len ? in : k_empty, len, out, NULL, md, NULL) == 1 ? 0 : VEIL_ECRYPTO;
}

int vc_hmac(vc_hash_t h, const uint8_t *key, size_t key_len, const uint8_t *in, size_t len,
            uint8_t *out) {
  const EVP_MD *md = md_of(h);
  if (!md) return VEIL_EINVAL;
  unsigned int outl = 0;
  if (!HMAC(md, key_len ? key : k_empty, key_len, len ? in : k_empty, len, out, &outl))
    return VEIL_ECRYPTO;
  return 0;
}

int vc_hkdf_extract(vc_hash_t h, const uint8_t *salt, size_t salt_len, const uint8_t *ikm,
                    size_t ikm_len, uint8_t *prk_out) {
  const EVP_MD *md = md_of(h);
  if (!md) return VEIL_EINVAL;
  /* RFC 5869 §2.2: an absent salt is HashLen zeros. */
  uint8_t zeros[VC_HASH_MAX] = {0};
  if (salt_len == 0) {
    salt = zeros;
    salt_len = EVP_MD_size(md);
  }
  size_t outl = 0;
  return HKDF_extract(prk_out, &outl, md, ikm_len ? ikm : k_empty, ikm_len, salt, salt_len) == 1
             ? 0
             : VEIL_ECRYPTO;
}

int vc_hkdf_expand(vc_hash_t h, const uint8_t *prk, size_t prk_len, const uint8_t *info,
                   size_t info_len, uint8_t *out, size_t out_len) {
  const EVP_MD *md = md_of(h);
  if (!md) return VEIL_EINVAL;
  size_t hl = EVP_MD_size(md);
  if (out_len == 0 || out_len > 255 * hl || prk_len == 0) return VEIL_EINVAL;
  return HKDF_expand(out, out_len, md, prk, prk_len, info_len ? info : k_empty, info_len) == 1
             ? 0
             : VEIL_ECRYPTO;
}

struct vc_hash_ctx {
  EVP_MD_CTX *md_ctx; /* owned */
  const EVP_MD *md;   /* static in BoringSSL */
};

vc_hash_ctx_t *vc_hash_new(vc_hash_t h) {
  const EVP_MD *md = md_of(h);
  if (!md) return NULL;
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

/* ---- AEAD ---------------------------------------------------------------------------- */

static const EVP_AEAD *aead_of(vc_aead_t a) {
  switch (a) {
  case VC_AES_128_GCM: return EVP_aead_aes_128_gcm();
  case VC_AES_256_GCM: return EVP_aead_aes_256_gcm();
  case VC_CHACHA20_POLY1305: return EVP_aead_chacha20_poly1305();
  }
  return NULL;
}

size_t vc_aead_key_len(vc_aead_t a) {
  switch (a) {
  case VC_AES_128_GCM: return 16;
  case VC_AES_256_GCM: return 32;
  case VC_CHACHA20_POLY1305: return 32;
  }
  return 0;
}

/* One EVP_AEAD_CTX serves both directions: BoringSSL's seal/open take the nonce per call
 * and keep the expanded key inside the context. */
struct vc_aead_ctx {
  EVP_AEAD_CTX ctx; /* owned; cleaned up (key schedule wiped) by vc_aead_free */
};

vc_aead_ctx_t *vc_aead_new(vc_aead_t a, const uint8_t *key) {
  const EVP_AEAD *aead = aead_of(a);
  if (!aead || !key) return NULL;
  vc_aead_ctx_t *c = calloc(1, sizeof(*c));
  if (!c) return NULL;
  EVP_AEAD_CTX_zero(&c->ctx);
  if (EVP_AEAD_CTX_init(&c->ctx, aead, key, vc_aead_key_len(a), VC_AEAD_TAG_LEN, NULL) != 1) {
    free(c);
    return NULL;
  }
  return c;
}

void vc_aead_free(vc_aead_ctx_t *c) {
  if (!c) return;
  EVP_AEAD_CTX_cleanup(&c->ctx);
  vc_wipe(c, sizeof(*c));
  free(c);
}

int vc_aead_ctx_seal(vc_aead_ctx_t *c, const uint8_t nonce[VC_AEAD_NONCE_LEN],
                     const uint8_t *aad, size_t aad_len, const uint8_t *pt, size_t pt_len,
                     uint8_t *out) {
  if (!c || pt_len > SIZE_MAX - VC_AEAD_TAG_LEN) return VEIL_EINVAL;
  size_t outl = 0;
  if (EVP_AEAD_CTX_seal(&c->ctx, out, &outl, pt_len + VC_AEAD_TAG_LEN, nonce, VC_AEAD_NONCE_LEN,
                        pt_len ? pt : k_empty, pt_len, aad_len ? aad : k_empty, aad_len) != 1 ||
      outl != pt_len + VC_AEAD_TAG_LEN)
    return VEIL_ECRYPTO;
  return 0;
}

int vc_aead_ctx_open(vc_aead_ctx_t *c, const uint8_t nonce[VC_AEAD_NONCE_LEN],
                     const uint8_t *aad, size_t aad_len, const uint8_t *ct, size_t ct_len,
                     uint8_t *out) {
  if (!c || ct_len < VC_AEAD_TAG_LEN) return VEIL_EINVAL;
  size_t pt_len = ct_len - VC_AEAD_TAG_LEN, outl = 0;
  /* Sizes were checked above, so the only failure left is authentication. */
  if (EVP_AEAD_CTX_open(&c->ctx, out, &outl, pt_len, nonce, VC_AEAD_NONCE_LEN, ct, ct_len,
                        aad_len ? aad : k_empty, aad_len) != 1 ||
      outl != pt_len) {
    if (pt_len) vc_wipe(out, pt_len);
    return VEIL_EAUTH;
  }
  return 0;
}

int vc_aead_seal(vc_aead_t a, const uint8_t *key, const uint8_t nonce[VC_AEAD_NONCE_LEN],
                 const uint8_t *aad, size_t aad_len, const uint8_t *pt, size_t pt_len,
                 uint8_t *out) {
  if (!aead_of(a)) return VEIL_EINVAL;
  vc_aead_ctx_t *c = vc_aead_new(a, key);
  if (!c) return VEIL_ECRYPTO;
  int rc = vc_aead_ctx_seal(c, nonce, aad, aad_len, pt, pt_len, out);
  vc_aead_free(c);
  return rc;
}

int vc_aead_open(vc_aead_t a, const uint8_t *key, const uint8_t nonce[VC_AEAD_NONCE_LEN],
                 const uint8_t *aad, size_t aad_len, const uint8_t *ct, size_t ct_len,
                 uint8_t *out) {
  if (!aead_of(a)) return VEIL_EINVAL;
  vc_aead_ctx_t *c = vc_aead_new(a, key);
  if (!c) return VEIL_ECRYPTO;
  int rc = vc_aead_ctx_open(c, nonce, aad, aad_len, ct, ct_len, out);
  vc_aead_free(c);
  return rc;
}

/* ---- AES-CTR ------------------------------------------------------------------------ */

int vc_aes_ctr(const uint8_t *key, size_t key_len, const uint8_t iv[16], const uint8_t *in,
               size_t len, uint8_t *out) {
  if (key_len != 16 && key_len != 24 && key_len != 32) return VEIL_EINVAL;
  if (len == 0) return 0;
  AES_KEY ks;
  uint8_t ctr[AES_BLOCK_SIZE], ecount[AES_BLOCK_SIZE] = {0};
  unsigned int num = 0;
  if (AES_set_encrypt_key(key, (unsigned)(key_len * 8), &ks) != 0) return VEIL_ECRYPTO;
  memcpy(ctr, iv, sizeof(ctr)); /* AES_ctr128_encrypt advances the counter in place */
  AES_ctr128_encrypt(in, out, len, &ks, ctr, ecount, &num);
  vc_wipe(&ks, sizeof(ks));
  vc_wipe(ecount, sizeof(ecount));
  return 0;
}

/* Keyed once: the expanded AES key lives in the context; each call starts a fresh counter
 * stream from the IV. */
struct vc_aes_ctr_ctx {
  AES_KEY ks; /* wiped by vc_aes_ctr_free */
};

vc_aes_ctr_ctx_t *vc_aes_ctr_new(const uint8_t *key, size_t key_len) {
  if ((key_len != 16 && key_len != 24 && key_len != 32) || !key) return NULL;
  vc_aes_ctr_ctx_t *c = calloc(1, sizeof(*c));
  if (!c) return NULL;
  if (AES_set_encrypt_key(key, (unsigned)(key_len * 8), &c->ks) != 0) {
    vc_aes_ctr_free(c);
    return NULL;
  }
  return c;
}

int vc_aes_ctr_ctx_crypt(vc_aes_ctr_ctx_t *c, const uint8_t iv[16], const uint8_t *in,
                         size_t len, uint8_t *out) {
  if (!c) return VEIL_EINVAL;
  if (len == 0) return 0;
  uint8_t ctr[AES_BLOCK_SIZE], ecount[AES_BLOCK_SIZE] = {0};
  unsigned int num = 0;
  memcpy(ctr, iv, sizeof(ctr));
  AES_ctr128_encrypt(in, out, len, &c->ks, ctr, ecount, &num);
  vc_wipe(ecount, sizeof(ecount));
  return 0;
}

void vc_aes_ctr_free(vc_aes_ctr_ctx_t *c) {
  if (!c) return;
  vc_wipe(c, sizeof(*c));
  free(c);
}

/* ---- P-256 helpers ------------------------------------------------------------------ */

/* Built-in curve: BoringSSL returns a static group, and EC_GROUP_free on it is a no-op. */
static const EC_GROUP *p256(void) { return EC_GROUP_new_by_curve_name(NID_X9_62_prime256v1); }

/* Scalar from 32 big-endian bytes; VEIL_EBADKEY unless 0 < d < n (SEC1 §3.2.1). */
static int p256_scalar(const EC_GROUP *grp, const uint8_t *priv, BIGNUM **out) {
  BIGNUM *d = BN_bin2bn(priv, 32, NULL);
  if (!d) return VEIL_ENOMEM;
  if (BN_is_zero(d) || BN_cmp(d, EC_GROUP_get0_order(grp)) >= 0) {
    BN_clear_free(d);
    return VEIL_EBADKEY;
  }
  *out = d;
  return 0;
}

/* Peer point from uncompressed SEC1; EC_POINT_oct2point rejects off-curve points and the
 * 0x04 prefix / length exclude the identity. */
static int p256_point(const EC_GROUP *grp, const uint8_t *pub, size_t len, EC_POINT **out) {
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

/* An EC_KEY holding the scalar and its public point (pub_out, if not NULL, receives it). */
static int p256_key_from_priv(const uint8_t *priv, EC_KEY **out, uint8_t *pub_out) {
  const EC_GROUP *grp = p256();
  BIGNUM *d = NULL;
  EC_POINT *q = NULL;
  EC_KEY *k = NULL;
  int rc = p256_scalar(grp, priv, &d);
  if (rc) return rc;
  rc = VEIL_ECRYPTO;
  q = EC_POINT_new(grp);
  k = EC_KEY_new_by_curve_name(NID_X9_62_prime256v1);
  if (!q || !k) goto fail;
  if (EC_POINT_mul(grp, q, d, NULL, NULL, NULL) != 1) goto fail;
  if (EC_KEY_set_private_key(k, d) != 1 || EC_KEY_set_public_key(k, q) != 1) goto fail;
  if (pub_out &&
      EC_POINT_point2oct(grp, q, POINT_CONVERSION_UNCOMPRESSED, pub_out, 65, NULL) != 65)
    goto fail;
  *out = k;
  k = NULL;
  rc = 0;
fail:
  EC_KEY_free(k);
  EC_POINT_free(q);
  BN_clear_free(d);
  return rc;
}

static int p256_public(const uint8_t *priv, uint8_t pub[65]) {
  EC_KEY *k = NULL;
  int rc = p256_key_from_priv(priv, &k, pub);
  EC_KEY_free(k);
  return rc;
}

/* ECDH (SEC1 §3.3.1): x-coordinate of d·Q; cofactor 1. */
static int p256_derive(const uint8_t *priv, const uint8_t *peer, size_t peer_len,
                       uint8_t *shared) {
  const EC_GROUP *grp = p256();
  BIGNUM *d = NULL, *x = NULL;
  EC_POINT *q = NULL, *r = NULL;
  int rc = p256_point(grp, peer, peer_len, &q);
  if (rc) return rc;
  if ((rc = p256_scalar(grp, priv, &d))) goto fail;
  rc = VEIL_ECRYPTO;
  r = EC_POINT_new(grp);
  x = BN_new();
  if (!r || !x) goto fail;
  if (EC_POINT_mul(grp, r, NULL, q, d, NULL) != 1) goto fail;
  if (EC_POINT_is_at_infinity(grp, r)) {
    rc = VEIL_EBADKEY;
    goto fail;
  }
  if (EC_POINT_get_affine_coordinates_GFp(grp, r, x, NULL, NULL) != 1) goto fail;
  if (BN_bn2bin_padded(shared, 32, x) != 1) goto fail;
  rc = 0;
fail:
  BN_clear_free(x);
  BN_clear_free(d);
  EC_POINT_clear_free(r);
  EC_POINT_free(q);
  return rc;
}

/* ---- key agreement ---------------------------------------------------------------- */

size_t vc_kex_priv_len(vc_group_t gr) { return gr == VC_X25519 || gr == VC_P256 ? 32 : 0; }
size_t vc_kex_pub_len(vc_group_t gr) {
  return gr == VC_X25519 ? 32 : gr == VC_P256 ? 65 : 0;
}
size_t vc_kex_shared_len(vc_group_t gr) { return vc_kex_priv_len(gr); }

int vc_kex_public(vc_group_t gr, const uint8_t *priv, uint8_t *pub) {
  switch (gr) {
  case VC_X25519: X25519_public_from_private(pub, priv); return 0;
  case VC_P256: return p256_public(priv, pub);
  }
  return VEIL_EINVAL;
}

int vc_kex_generate(vc_group_t gr, uint8_t *priv, uint8_t *pub) {
  if (!vc_kex_priv_len(gr)) return VEIL_EINVAL;
  /* Rejection sampling keeps the P-256 scalar uniform in [1, n-1]. */
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
  switch (gr) {
  case VC_X25519:
    if (peer_len != 32) return VEIL_EBADKEY;
    /* X25519() returns 0 when the output is all zero (low-order peer, RFC 7748 §6.1). */
    if (X25519(shared, priv, peer_pub) != 1) {
      vc_wipe(shared, 32);
      return VEIL_EBADKEY;
    }
    return 0;
  case VC_P256: return p256_derive(priv, peer_pub, peer_len, shared);
  }
  return VEIL_EINVAL;
}

/* ---- signatures ------------------------------------------------------------------- */

size_t vc_sig_priv_len(vc_sig_t s) { return s == VC_ED25519 || s == VC_ECDSA_P256_SHA256 ? 32 : 0; }
size_t vc_sig_pub_len(vc_sig_t s) {
  return s == VC_ED25519 ? 32 : s == VC_ECDSA_P256_SHA256 ? 65 : 0;
}

int vc_sig_public(vc_sig_t s, const uint8_t *priv, uint8_t *pub) {
  uint8_t expanded[64];
  switch (s) {
  case VC_ED25519:
    ED25519_keypair_from_seed(pub, expanded, priv);
    vc_wipe(expanded, sizeof(expanded));
    return 0;
  case VC_ECDSA_P256_SHA256: return p256_public(priv, pub);
  }
  return VEIL_EINVAL;
}

int vc_sig_generate(vc_sig_t s, uint8_t *priv, uint8_t *pub) {
  switch (s) {
  case VC_ED25519: {
    int rc = vc_random(priv, 32);
    return rc ? rc : vc_sig_public(s, priv, pub);
  }
  case VC_ECDSA_P256_SHA256: return vc_kex_generate(VC_P256, priv, pub);
  }
  return VEIL_EINVAL;
}

int vc_sign(vc_sig_t s, const uint8_t *priv, const uint8_t *msg, size_t msg_len, uint8_t *sig,
            size_t *sig_len) {
  switch (s) {
  case VC_ED25519: {
    uint8_t pub[32], expanded[64]; /* BoringSSL signs with seed || public key */
    ED25519_keypair_from_seed(pub, expanded, priv);
    int ok = ED25519_sign(sig, msg_len ? msg : k_empty, msg_len, expanded);
    vc_wipe(expanded, sizeof(expanded));
    if (ok != 1) return VEIL_ECRYPTO;
    *sig_len = 64;
    return 0;
  }
  case VC_ECDSA_P256_SHA256: {
    uint8_t digest[32];
    EC_KEY *k = NULL;
    int rc = vc_hash(VC_SHA256, msg, msg_len, digest);
    if (rc || (rc = p256_key_from_priv(priv, &k, NULL))) return rc;
    unsigned int len = 0;
    /* ECDSA_sign writes the DER form, at most ECDSA_size(k) == 72 bytes for P-256. */
    rc = ECDSA_size(k) <= VC_SIG_MAX && ECDSA_sign(0, digest, 32, sig, &len, k) == 1
             ? 0
             : VEIL_ECRYPTO;
    if (!rc) *sig_len = len;
    EC_KEY_free(k);
    return rc;
  }
  }
  return VEIL_EINVAL;
}

int vc_verify(vc_sig_t s, const uint8_t *pub, size_t pub_len, const uint8_t *msg,
              size_t msg_len, const uint8_t *sig, size_t sig_len) {
  switch (s) {
  case VC_ED25519:
    if (pub_len != 32) return VEIL_EBADKEY;
    if (sig_len != 64) return VEIL_EVERIFY;
    return ED25519_verify(msg_len ? msg : k_empty, msg_len, sig, pub) == 1 ? 0 : VEIL_EVERIFY;
  case VC_ECDSA_P256_SHA256: {
    const EC_GROUP *grp = p256();
    EC_POINT *q = NULL;
    int rc = p256_point(grp, pub, pub_len, &q);
    if (rc) return rc;
    uint8_t digest[32];
    EC_KEY *k = EC_KEY_new_by_curve_name(NID_X9_62_prime256v1);
    rc = VEIL_ECRYPTO;
    if (!k || EC_KEY_set_public_key(k, q) != 1) goto done;
    if ((rc = vc_hash(VC_SHA256, msg, msg_len, digest))) goto done;
    /* BoringSSL's ECDSA_verify accepts only strict DER (it re-encodes and compares). */
    rc = ECDSA_verify(0, digest, 32, sig_len ? sig : k_empty, sig_len, k) == 1 ? 0
                                                                              : VEIL_EVERIFY;
  done:
    EC_KEY_free(k);
    EC_POINT_free(q);
    return rc;
  }
  }
  return VEIL_EINVAL;
}

/* ---- scrypt ------------------------------------------------------------------------ */

/* Same cap as the OpenSSL backend: N=2^20, r=8 (RFC 7914 §12 test 4) plus slack. */
#define VC_SCRYPT_MAXMEM (((uint64_t)1 << 30) + ((uint64_t)64 << 20))

int vc_scrypt(const uint8_t *pw, size_t pw_len, const uint8_t *salt, size_t salt_len,
              uint64_t N, uint32_t r, uint32_t p, uint8_t *out, size_t out_len) {
  if (N < 2 || (N & (N - 1)) || r == 0 || p == 0 || out_len == 0) return VEIL_EINVAL;
  if (N > (VC_SCRYPT_MAXMEM / 128) / r || p > (VC_SCRYPT_MAXMEM / 128) / r) return VEIL_ELIMIT;
  /* BoringSSL's accounting (crypto/evp/scrypt.c): 128·r·(N + p + 1) bytes; the slack
   * covers the difference from OpenSSL's 128·r·(N + 2 + p). */
  uint64_t need = 128 * (uint64_t)r * (N + 2) + 128 * (uint64_t)r * p;
  if (need > VC_SCRYPT_MAXMEM) return VEIL_ELIMIT;
  if (EVP_PBE_scrypt((const char *)(pw_len ? pw : k_empty), pw_len, salt_len ? salt : k_empty,
                     salt_len, N, r, p, (size_t)need + 4096, out, out_len) != 1)
    return VEIL_ECRYPTO;
  return 0;
}
