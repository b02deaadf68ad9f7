/*
 * veil — crypto provider on BoringSSL (Debian's android-libboringssl-dev: headers in
 * /usr/include/android, libcrypto.so in /usr/lib/<multiarch>/android). Selected with
 * -Dcrypto_backend=boringssl and only ever linked into binaries that load neither
 * libwebsockets nor Criterion (DESIGN.md, "Why two crypto libraries").
 *
 * This file holds what BoringSSL does its own way; the calls it shares with OpenSSL 3
 * (digests, P-256 arithmetic, ECDSA verification, scrypt, the curve dispatch) live once in
 * provider_evp.c, which reaches this file through the vcb_* hooks of provider_evp.h.
 * BoringSSL's native interfaces are used where they exist (HMAC, HKDF_extract/expand,
 * EVP_AEAD, AES_KEY, X25519 / ED25519_*, ECDSA_sign on an EC_KEY): they take size_t lengths
 * and keep the key schedule inside a reusable EVP_AEAD_CTX, which is exactly the
 * keyed-context contract of provider.h.
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
#include <openssl/hkdf.h>
#include <openssl/hmac.h>
#include <openssl/nid.h>

#include "clients/lib/crypto/provider_evp.h"

static const uint8_t k_empty[1] = {0}; /* a valid pointer for zero-length inputs */

const char *vc_backend_name(void) { return "boringssl"; }

/* ---- hooks for provider_evp.c (provider_evp.h) ------------------------------------- */

/* BoringSSL's algorithms are static objects: nothing to set up. */
int vcb_init(void) { return 0; }

static const EVP_MD *md_of(vc_hash_t h) {
  switch (h) {
  case VC_SHA1: return EVP_sha1();
  case VC_SHA256: return EVP_sha256();
  case VC_SHA384: return EVP_sha384();
  case VC_SHA512: return EVP_sha512();
  }
  return NULL;
}

int vcb_md(vc_hash_t h, const EVP_MD **md) {
  *md = md_of(h);
  return *md ? 0 : VEIL_EINVAL;
}

/* Built-in curve: BoringSSL returns a static group, and EC_GROUP_free on it is a no-op. */
const EC_GROUP *vcb_p256(void) { return EC_GROUP_new_by_curve_name(NID_X9_62_prime256v1); }

int vcb_bn_secret(const uint8_t *be, size_t len, BIGNUM **out) {
  BIGNUM *d = BN_bin2bn(be, len, NULL);
  if (!d) return VEIL_ENOMEM;
  *out = d;
  return 0;
}

/* ---- HMAC, HKDF --------------------------------------------------------------------- */

int vc_hmac(vc_hash_t h, const uint8_t *key, size_t key_len, const uint8_t *in, size_t len,
            uint8_t *out) {
  const EVP_MD *md = md_of(h);
  if (!md) return VEIL_EINVAL;
  unsigned int outl = 0;
  if (!HMAC(md, key_len ? key : k_empty, key_len, len ? in : k_empty, len, out, &outl))
    return VEIL_ECRYPTO;
  return 0;
}

int vcb_hkdf_extract(vc_hash_t h, const uint8_t *salt, size_t salt_len, const uint8_t *ikm,
                     size_t ikm_len, uint8_t *prk, size_t prk_len) {
  const EVP_MD *md = md_of(h);
  if (!md) return VEIL_EINVAL;
  size_t outl = 0;
  return HKDF_extract(prk, &outl, md, ikm_len ? ikm : k_empty, ikm_len, salt, salt_len) == 1 &&
                 outl == prk_len
             ? 0
             : VEIL_ECRYPTO;
}

int vcb_hkdf_expand(vc_hash_t h, const uint8_t *prk, size_t prk_len, const uint8_t *info,
                    size_t info_len, uint8_t *out, size_t out_len) {
  const EVP_MD *md = md_of(h);
  if (!md) return VEIL_EINVAL;
  return HKDF_expand(out, out_len, md, prk, prk_len, info_len ? info : k_empty, info_len) == 1
             ? 0
             : VEIL_ECRYPTO;
}

/* ---- AEAD contexts (the one-shots are in provider_evp.c) ---------------------------- */

static const EVP_AEAD *aead_of(vc_aead_t a) {
  switch (a) {
  case VC_AES_128_GCM: return EVP_aead_aes_128_gcm();
  case VC_AES_256_GCM: return EVP_aead_aes_256_gcm();
  case VC_CHACHA20_POLY1305: return EVP_aead_chacha20_poly1305();
  }
  return NULL;
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

/* ---- X25519, Ed25519 ---------------------------------------------------------------- */

int vcb_x25519_public(const uint8_t priv[32], uint8_t pub[32]) {
  X25519_public_from_private(pub, priv);
  return 0;
}

int vcb_x25519(const uint8_t priv[32], const uint8_t peer[32], uint8_t shared[32]) {
  /* X25519() returns 0 when the output is all zero (low-order peer, RFC 7748 §6.1). */
  if (X25519(shared, priv, peer) != 1) {
    vc_wipe(shared, 32);
    return VEIL_EBADKEY;
  }
  return 0;
}

int vcb_ed25519_public(const uint8_t seed[32], uint8_t pub[32]) {
  uint8_t expanded[64];
  ED25519_keypair_from_seed(pub, expanded, seed);
  vc_wipe(expanded, sizeof(expanded));
  return 0;
}

int vcb_ed25519_verify(const uint8_t pub[32], const uint8_t *msg, size_t msg_len,
                       const uint8_t *sig, size_t sig_len) {
  if (sig_len != 64) return VEIL_EVERIFY;
  return ED25519_verify(msg_len ? msg : k_empty, msg_len, sig, pub) == 1 ? 0 : VEIL_EVERIFY;
}

/* ---- signing (verification is in provider_evp.c) ------------------------------------ */

/* An EC_KEY holding the scalar and its public point. */
static int p256_key_from_priv(const uint8_t *priv, EC_KEY **out) {
  const EC_GROUP *grp = vcb_p256();
  BIGNUM *d = NULL;
  EC_POINT *q = NULL;
  EC_KEY *k = NULL;
  int rc = vc_evp_p256_scalar(grp, priv, &d);
  if (rc) return rc;
  rc = VEIL_ECRYPTO;
  q = EC_POINT_new(grp);
  k = EC_KEY_new_by_curve_name(NID_X9_62_prime256v1);
  if (!q || !k) goto fail;
  if (EC_POINT_mul(grp, q, d, NULL, NULL, NULL) != 1) goto fail;
  if (EC_KEY_set_private_key(k, d) != 1 || EC_KEY_set_public_key(k, q) != 1) goto fail;
  *out = k;
  k = NULL;
  rc = 0;
fail:
  EC_KEY_free(k);
  EC_POINT_free(q);
  BN_clear_free(d);
  return rc;
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
    if (rc || (rc = p256_key_from_priv(priv, &k))) return rc;
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
