/*
 * veil — crypto provider on OpenSSL 3 (provider.h). With provider_evp.c, the only code of
 * the client library that includes OpenSSL headers when -Dcrypto_backend=openssl (and the
 * backend always used by Criterion unit tests and libwebsockets binaries, DESIGN.md "Why
 * two crypto libraries").
 *
 * This file holds what OpenSSL 3 does its own way: the process-wide fetched algorithms,
 * HMAC (EVP_MAC) and HKDF (EVP_KDF), the AEAD and AES-CTR cipher contexts, X25519 and
 * Ed25519 through raw EVP_PKEYs, and signing through EVP_PKEY_fromdata / EVP_DigestSign.
 * The calls OpenSSL shares with BoringSSL (digests, P-256 arithmetic, ECDSA verification,
 * scrypt, the curve dispatch) live once in provider_evp.c, which reaches this file
 * through the vcb_* hooks of provider_evp.h.
 *
 * Algorithm objects (digests, ciphers, HMAC, HKDF, the P-256 group) are fetched once per
 * process (pthread_once) instead of implicitly on every call: implicit fetches take a
 * global lock and a method-store lookup, which dominated small per-frame operations.
 * Shared fetched objects are immutable after the fetch and safe to use from any thread.
 */
#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/obj_mac.h>
#include <openssl/param_build.h>

#include "clients/lib/crypto/provider_evp.h"

/* ---- process-wide fetched algorithms ---------------------------------------------- */

static struct {
  int ok;
  EVP_MD *md[5];         /* indexed by vc_hash_t */
  EVP_CIPHER *aead[4];   /* indexed by vc_aead_t */
  EVP_CIPHER *ctr[3];    /* AES-128/192/256-CTR */
  EVP_MAC *hmac;
  EVP_KDF *hkdf;
  EC_GROUP *p256;
} g;
static pthread_once_t g_once = PTHREAD_ONCE_INIT;

static void g_init(void) {
  g.md[VC_SHA1] = EVP_MD_fetch(NULL, "SHA1", NULL);
  g.md[VC_SHA256] = EVP_MD_fetch(NULL, "SHA256", NULL);
  g.md[VC_SHA384] = EVP_MD_fetch(NULL, "SHA384", NULL);
  g.md[VC_SHA512] = EVP_MD_fetch(NULL, "SHA512", NULL);
  g.aead[VC_AES_128_GCM] = EVP_CIPHER_fetch(NULL, "AES-128-GCM", NULL);
  g.aead[VC_AES_256_GCM] = EVP_CIPHER_fetch(NULL, "AES-256-GCM", NULL);
  g.aead[VC_CHACHA20_POLY1305] = EVP_CIPHER_fetch(NULL, "ChaCha20-Poly1305", NULL);
  g.ctr[0] = EVP_CIPHER_fetch(NULL, "AES-128-CTR", NULL);
  g.ctr[1] = EVP_CIPHER_fetch(NULL, "AES-192-CTR", NULL);
  g.ctr[2] = EVP_CIPHER_fetch(NULL, "AES-256-CTR", NULL);
  g.hmac = EVP_MAC_fetch(NULL, "HMAC", NULL);
  g.hkdf = EVP_KDF_fetch(NULL, "HKDF", NULL);
  g.p256 = EC_GROUP_new_by_curve_name(NID_X9_62_prime256v1);
  g.ok = 1;
  for (int i = 1; i <= 4; i++)
    if (!g.md[i]) g.ok = 0;
  for (int i = 1; i <= 3; i++)
    if (!g.aead[i] || !g.ctr[i - 1]) g.ok = 0;
  if (!g.hmac || !g.hkdf || !g.p256) g.ok = 0;
}

static int ready(void) {
  pthread_once(&g_once, g_init);
  return g.ok;
}

static const char *md_name(vc_hash_t h) {
  switch (h) {
  case VC_SHA1: return "SHA1";
  case VC_SHA256: return "SHA256";
  case VC_SHA384: return "SHA384";
  case VC_SHA512: return "SHA512";
  }
  return NULL;
}

const char *vc_backend_name(void) { return "openssl"; }

/* ---- hooks for provider_evp.c (provider_evp.h) ------------------------------------- */

int vcb_init(void) { return ready() ? 0 : VEIL_ECRYPTO; }

int vcb_md(vc_hash_t h, const EVP_MD **md) {
  if (!ready()) return VEIL_ECRYPTO;
  if (h < VC_SHA1 || h > VC_SHA512) return VEIL_EINVAL;
  *md = g.md[h];
  return 0;
}

const EC_GROUP *vcb_p256(void) { return g.p256; }

/* Private scalars live in the secure heap and take the constant-time BIGNUM paths. */
int vcb_bn_secret(const uint8_t *be, size_t len, BIGNUM **out) {
  if (len > INT_MAX) return VEIL_EINVAL;
  BIGNUM *d = BN_secure_new();
  if (!d) return VEIL_ENOMEM;
  BN_set_flags(d, BN_FLG_CONSTTIME);
  if (!BN_bin2bn(be, (int)len, d)) {
    BN_clear_free(d);
    return VEIL_ECRYPTO;
  }
  *out = d;
  return 0;
}

/* ---- HMAC, HKDF --------------------------------------------------------------------- */

int vc_hmac(vc_hash_t h, const uint8_t *key, size_t key_len, const uint8_t *in, size_t len,
            uint8_t *out) {
  static const uint8_t empty = 0;
  const char *name = md_name(h);
  if (!name) return VEIL_EINVAL;
  if (!ready()) return VEIL_ECRYPTO;
  int rc = VEIL_ECRYPTO;
  EVP_MAC_CTX *m = EVP_MAC_CTX_new(g.hmac);
  if (!m) return VEIL_ENOMEM;
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)name, 0),
      OSSL_PARAM_construct_end(),
  };
  size_t outl = 0;
  /* An empty key is legal HMAC (zero-padded); pass a valid pointer so OpenSSL sets it. */
  if (EVP_MAC_init(m, key_len ? key : &empty, key_len, params) != 1) goto fail;
  if (len && EVP_MAC_update(m, in, len) != 1) goto fail;
  if (EVP_MAC_final(m, out, &outl, vc_hash_len(h)) != 1) goto fail;
  rc = 0;
fail:
  EVP_MAC_CTX_free(m);
  return rc;
}

/* RFC 5869 via the HKDF KDF in its extract-only / expand-only modes. */
static int hkdf_run(vc_hash_t h, int mode, const uint8_t *key, size_t key_len,
                    const uint8_t *salt, size_t salt_len, const uint8_t *info, size_t info_len,
                    uint8_t *out, size_t out_len) {
  const char *name = md_name(h);
  if (!name) return VEIL_EINVAL;
  if (!ready()) return VEIL_ECRYPTO;
  static const uint8_t empty = 0;
  OSSL_PARAM params[6];
  size_t n = 0;
  params[n++] = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)name, 0);
  params[n++] = OSSL_PARAM_construct_int(OSSL_KDF_PARAM_MODE, &mode);
  params[n++] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY,
                                                  (void *)(key_len ? key : &empty), key_len);
  if (salt) params[n++] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, (void *)salt,
                                                            salt_len);
  if (info_len)
    params[n++] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, (void *)info, info_len);
  params[n] = OSSL_PARAM_construct_end();
  EVP_KDF_CTX *k = EVP_KDF_CTX_new(g.hkdf);
  if (!k) return VEIL_ENOMEM;
  int rc = EVP_KDF_derive(k, out, out_len, params) == 1 ? 0 : VEIL_ECRYPTO;
  EVP_KDF_CTX_free(k);
  return rc;
}

int vcb_hkdf_extract(vc_hash_t h, const uint8_t *salt, size_t salt_len, const uint8_t *ikm,
                     size_t ikm_len, uint8_t *prk, size_t prk_len) {
  return hkdf_run(h, EVP_KDF_HKDF_MODE_EXTRACT_ONLY, ikm, ikm_len, salt, salt_len, NULL, 0, prk,
                  prk_len);
}

int vcb_hkdf_expand(vc_hash_t h, const uint8_t *prk, size_t prk_len, const uint8_t *info,
                    size_t info_len, uint8_t *out, size_t out_len) {
  return hkdf_run(h, EVP_KDF_HKDF_MODE_EXPAND_ONLY, prk, prk_len, NULL, 0, info, info_len, out,
                  out_len);
}

/* ---- AEAD contexts (the one-shots are in provider_evp.c) ---------------------------- */

/* One cipher context per direction, each keyed once on first use: OpenSSL keeps the AES key
 * schedule / GHASH table when a later EVP_CipherInit_ex passes only the IV, so the per-call
 * cost is the IV setup alone. Keying lazily means a one-shot seal or open (HPKE, MLS) pays
 * for one key schedule, not two. */
struct vc_aead_ctx {
  EVP_CIPHER_CTX *enc;          /* owned; NULL until the first seal */
  EVP_CIPHER_CTX *dec;          /* owned; NULL until the first open */
  const EVP_CIPHER *cipher;     /* borrowed from g */
  uint8_t key[VC_AEAD_KEY_MAX]; /* owned copy, wiped by vc_aead_free */
};

vc_aead_ctx_t *vc_aead_new(vc_aead_t a, const uint8_t *key) {
  size_t kl = vc_aead_key_len(a);
  if (!kl || !ready() || !key) return NULL;
  vc_aead_ctx_t *c = calloc(1, sizeof(*c));
  if (!c) return NULL;
  c->cipher = g.aead[a];
  memcpy(c->key, key, kl);
  return c;
}

void vc_aead_free(vc_aead_ctx_t *c) {
  if (!c) return;
  /* EVP_CIPHER_CTX_free cleanses the key schedule held by the cipher. */
  EVP_CIPHER_CTX_free(c->enc);
  EVP_CIPHER_CTX_free(c->dec);
  vc_wipe(c, sizeof(*c));
  free(c);
}

/* The direction's context, keyed on first use. All AEADs here default to a 12-byte IV, so
 * no SET_IVLEN is needed. */
static EVP_CIPHER_CTX *aead_dir(vc_aead_ctx_t *c, int enc) {
  EVP_CIPHER_CTX **x = enc ? &c->enc : &c->dec;
  if (*x) return *x;
  EVP_CIPHER_CTX *n = EVP_CIPHER_CTX_new();
  if (!n) return NULL;
  if (EVP_CipherInit_ex(n, c->cipher, NULL, c->key, NULL, enc) != 1) {
    EVP_CIPHER_CTX_free(n);
    return NULL;
  }
  *x = n;
  return n;
}

int vc_aead_ctx_seal(vc_aead_ctx_t *c, const uint8_t nonce[VC_AEAD_NONCE_LEN],
                     const uint8_t *aad, size_t aad_len, const uint8_t *pt, size_t pt_len,
                     uint8_t *out) {
  if (!c || aad_len > INT_MAX || pt_len > INT_MAX - VC_AEAD_TAG_LEN) return VEIL_EINVAL;
  EVP_CIPHER_CTX *x = aead_dir(c, 1);
  if (!x) return VEIL_ECRYPTO;
  int l = 0;
  if (EVP_EncryptInit_ex(x, NULL, NULL, NULL, nonce) != 1) return VEIL_ECRYPTO;
  if (aad_len && EVP_EncryptUpdate(x, NULL, &l, aad, (int)aad_len) != 1) return VEIL_ECRYPTO;
  if (pt_len && EVP_EncryptUpdate(x, out, &l, pt, (int)pt_len) != 1) return VEIL_ECRYPTO;
  if (EVP_EncryptFinal_ex(x, out + pt_len, &l) != 1) return VEIL_ECRYPTO;
  if (EVP_CIPHER_CTX_ctrl(x, EVP_CTRL_AEAD_GET_TAG, VC_AEAD_TAG_LEN, out + pt_len) != 1)
    return VEIL_ECRYPTO;
  return 0;
}

int vc_aead_ctx_open(vc_aead_ctx_t *c, const uint8_t nonce[VC_AEAD_NONCE_LEN],
                     const uint8_t *aad, size_t aad_len, const uint8_t *ct, size_t ct_len,
                     uint8_t *out) {
  if (!c || ct_len < VC_AEAD_TAG_LEN || aad_len > INT_MAX || ct_len > INT_MAX)
    return VEIL_EINVAL;
  EVP_CIPHER_CTX *x = aead_dir(c, 0);
  if (!x) return VEIL_ECRYPTO;
  size_t pt_len = ct_len - VC_AEAD_TAG_LEN;
  uint8_t tag[VC_AEAD_TAG_LEN];
  memcpy(tag, ct + pt_len, sizeof(tag)); /* ct may alias out */
  int l = 0;
  if (EVP_DecryptInit_ex(x, NULL, NULL, NULL, nonce) != 1) return VEIL_ECRYPTO;
  if (aad_len && EVP_DecryptUpdate(x, NULL, &l, aad, (int)aad_len) != 1) return VEIL_ECRYPTO;
  if (pt_len && EVP_DecryptUpdate(x, out, &l, ct, (int)pt_len) != 1) return VEIL_ECRYPTO;
  if (EVP_CIPHER_CTX_ctrl(x, EVP_CTRL_AEAD_SET_TAG, VC_AEAD_TAG_LEN, tag) != 1)
    return VEIL_ECRYPTO;
  if (EVP_DecryptFinal_ex(x, out + pt_len, &l) != 1) {
    /* The contract: on a tag mismatch no unauthenticated plaintext is left behind. */
    if (pt_len) vc_wipe(out, pt_len);
    return VEIL_EAUTH;
  }
  return 0;
}

/* ---- AES-CTR ------------------------------------------------------------------------ */

int vc_aes_ctr(const uint8_t *key, size_t key_len, const uint8_t iv[16], const uint8_t *in,
               size_t len, uint8_t *out) {
  int idx = key_len == 16 ? 0 : key_len == 24 ? 1 : key_len == 32 ? 2 : -1;
  if (idx < 0 || len > INT_MAX) return VEIL_EINVAL;
  if (!ready()) return VEIL_ECRYPTO;
  if (len == 0) return 0;
  EVP_CIPHER_CTX *x = EVP_CIPHER_CTX_new();
  if (!x) return VEIL_ENOMEM;
  int rc = VEIL_ECRYPTO, l = 0;
  if (EVP_EncryptInit_ex(x, g.ctr[idx], NULL, key, iv) != 1) goto fail;
  if (EVP_EncryptUpdate(x, out, &l, in, (int)len) != 1) goto fail;
  if (EVP_EncryptFinal_ex(x, out + l, &l) != 1) goto fail;
  rc = 0;
fail:
  EVP_CIPHER_CTX_free(x);
  return rc;
}

/* Keyed once; each call re-sets only the IV, which restarts the counter. */
struct vc_aes_ctr_ctx {
  EVP_CIPHER_CTX *x; /* owned */
};

vc_aes_ctr_ctx_t *vc_aes_ctr_new(const uint8_t *key, size_t key_len) {
  int idx = key_len == 16 ? 0 : key_len == 24 ? 1 : key_len == 32 ? 2 : -1;
  if (idx < 0 || !key || !ready()) return NULL;
  vc_aes_ctr_ctx_t *c = calloc(1, sizeof(*c));
  if (!c) return NULL;
  c->x = EVP_CIPHER_CTX_new();
  if (!c->x || EVP_EncryptInit_ex(c->x, g.ctr[idx], NULL, key, NULL) != 1) {
    vc_aes_ctr_free(c);
    return NULL;
  }
  return c;
}

int vc_aes_ctr_ctx_crypt(vc_aes_ctr_ctx_t *c, const uint8_t iv[16], const uint8_t *in,
                         size_t len, uint8_t *out) {
  if (!c || len > INT_MAX) return VEIL_EINVAL;
  if (len == 0) return 0;
  int l = 0;
  if (EVP_EncryptInit_ex(c->x, NULL, NULL, NULL, iv) != 1) return VEIL_ECRYPTO;
  if (EVP_EncryptUpdate(c->x, out, &l, in, (int)len) != 1) return VEIL_ECRYPTO;
  return 0;
}

void vc_aes_ctr_free(vc_aes_ctr_ctx_t *c) {
  if (!c) return;
  EVP_CIPHER_CTX_free(c->x);
  free(c);
}

/* ---- P-256 signing key -------------------------------------------------------------- */

/* An EVP_PKEY key pair for P-256 from a scalar (signing; verification goes through
 * provider_evp.c's EC_KEY route, which needs no EVP_PKEY). */
static int p256_pkey(const uint8_t *priv, EVP_PKEY **out) {
  uint8_t pub[65];
  BIGNUM *d = NULL;
  OSSL_PARAM_BLD *bld = NULL;
  OSSL_PARAM *params = NULL;
  EVP_PKEY_CTX *pc = NULL;
  int rc;
  if ((rc = vc_evp_p256_public(g.p256, priv, pub))) return rc;
  if ((rc = vc_evp_p256_scalar(g.p256, priv, &d))) return rc;
  rc = VEIL_ECRYPTO;
  bld = OSSL_PARAM_BLD_new();
  if (!bld) goto fail;
  if (!OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0) ||
      !OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, pub, sizeof pub) ||
      !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_PRIV_KEY, d))
    goto fail;
  params = OSSL_PARAM_BLD_to_param(bld);
  pc = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
  if (!params || !pc || EVP_PKEY_fromdata_init(pc) != 1) goto fail;
  *out = NULL;
  if (EVP_PKEY_fromdata(pc, out, EVP_PKEY_KEYPAIR, params) != 1)
    goto fail;
  rc = 0;
fail:
  EVP_PKEY_CTX_free(pc);
  OSSL_PARAM_free(params); /* d was a secure BIGNUM: its copy sits in the secure heap */
  OSSL_PARAM_BLD_free(bld);
  BN_clear_free(d);
  return rc;
}

/* ---- X25519, Ed25519 (raw EVP_PKEYs) ------------------------------------------------ */

static int raw_public(const char *type, const uint8_t *priv, uint8_t *pub) {
  EVP_PKEY *k = EVP_PKEY_new_raw_private_key_ex(NULL, type, NULL, priv, 32);
  if (!k) return VEIL_EBADKEY;
  size_t len = 32;
  int rc = EVP_PKEY_get_raw_public_key(k, pub, &len) == 1 && len == 32 ? 0 : VEIL_ECRYPTO;
  EVP_PKEY_free(k);
  return rc;
}

int vcb_x25519_public(const uint8_t priv[32], uint8_t pub[32]) {
  return raw_public("X25519", priv, pub);
}

int vcb_ed25519_public(const uint8_t seed[32], uint8_t pub[32]) {
  return raw_public("ED25519", seed, pub);
}

int vcb_x25519(const uint8_t priv[32], const uint8_t peer[32], uint8_t shared[32]) {
  int rc = VEIL_ECRYPTO;
  EVP_PKEY *sk = EVP_PKEY_new_raw_private_key_ex(NULL, "X25519", NULL, priv, 32);
  EVP_PKEY *pk = EVP_PKEY_new_raw_public_key_ex(NULL, "X25519", NULL, peer, 32);
  EVP_PKEY_CTX *dc = NULL;
  if (!sk || !pk) {
    rc = VEIL_EBADKEY;
    goto fail;
  }
  dc = EVP_PKEY_CTX_new_from_pkey(NULL, sk, NULL);
  size_t len = 32;
  if (!dc || EVP_PKEY_derive_init(dc) != 1 || EVP_PKEY_derive_set_peer(dc, pk) != 1) goto fail;
  /* OpenSSL fails the derivation itself when the result is all zero (a low-order peer
   * point, RFC 7748 §6.1); we check again below so the contract does not rest on that. */
  if (EVP_PKEY_derive(dc, shared, &len) != 1 || len != 32) {
    rc = VEIL_EBADKEY;
    goto fail;
  }
  static const uint8_t zeros[32] = {0};
  if (CRYPTO_memcmp(shared, zeros, 32) == 0) {
    rc = VEIL_EBADKEY;
    goto fail;
  }
  rc = 0;
fail:
  if (rc) vc_wipe(shared, 32);
  EVP_PKEY_CTX_free(dc);
  EVP_PKEY_free(sk);
  EVP_PKEY_free(pk);
  return rc;
}

int vcb_ed25519_verify(const uint8_t pub[32], const uint8_t *msg, size_t msg_len,
                       const uint8_t *sig, size_t sig_len) {
  static const uint8_t empty = 0;
  EVP_PKEY *k = EVP_PKEY_new_raw_public_key_ex(NULL, "ED25519", NULL, pub, 32);
  if (!k) return VEIL_EBADKEY;
  int rc = VEIL_ECRYPTO;
  EVP_MD_CTX *m = EVP_MD_CTX_new();
  if (!m || EVP_DigestVerifyInit_ex(m, NULL, NULL, NULL, NULL, k, NULL) != 1) goto fail;
  /* 1 is valid; 0 (mismatch) and <0 (e.g. a wrong length) are both "not valid". */
  rc = EVP_DigestVerify(m, sig_len ? sig : &empty, sig_len, msg_len ? msg : &empty, msg_len) == 1
           ? 0
           : VEIL_EVERIFY;
fail:
  EVP_MD_CTX_free(m);
  EVP_PKEY_free(k);
  return rc;
}

/* ---- signing (verification is in provider_evp.c) ------------------------------------ */

int vc_sign(vc_sig_t s, const uint8_t *priv, const uint8_t *msg, size_t msg_len, uint8_t *sig,
            size_t *sig_len) {
  if (!ready()) return VEIL_ECRYPTO;
  static const uint8_t empty = 0;
  EVP_PKEY *k = NULL;
  const EVP_MD *md = NULL;
  int rc;
  switch (s) {
  case VC_ED25519:
    k = EVP_PKEY_new_raw_private_key_ex(NULL, "ED25519", NULL, priv, 32);
    if (!k) return VEIL_EBADKEY;
    break;
  case VC_ECDSA_P256_SHA256:
    if ((rc = p256_pkey(priv, &k))) return rc;
    md = g.md[VC_SHA256];
    break;
  default: return VEIL_EINVAL;
  }
  rc = VEIL_ECRYPTO;
  EVP_MD_CTX *m = EVP_MD_CTX_new();
  size_t len = VC_SIG_MAX;
  if (!m || EVP_DigestSignInit_ex(m, NULL, md ? EVP_MD_get0_name(md) : NULL, NULL, NULL, k,
                                  NULL) != 1)
    goto fail;
  /* One-shot EVP_DigestSign: Ed25519 (PureEdDSA) has no streaming form. */
  if (EVP_DigestSign(m, sig, &len, msg_len ? msg : &empty, msg_len) != 1) goto fail;
  *sig_len = len;
  rc = 0;
fail:
  EVP_MD_CTX_free(m);
  EVP_PKEY_free(k);
  return rc;
}
