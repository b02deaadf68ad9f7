/*
 * veil — the client library's crypto provider ("vc_": veil crypto).
 *
 * One small API over the crypto library. Everything E2EE in clients/lib (HPKE, MLS,
 * SFrame, JWE, identity) calls only this. It is implemented in three files: provider_evp.c
 * holds the code OpenSSL 3 and BoringSSL share (EVP_Digest, EC_POINT/BN, RAND_bytes, ...)
 * and is compiled into BOTH backend libraries, each time against that backend's headers;
 * what differs between the two lives in provider_openssl.c (OpenSSL 3) or
 * provider_boringssl.c (BoringSSL), behind the vcb_* hooks of provider_evp.h. The backend
 * is selected at build time with -Dcrypto_backend. No OpenSSL/BoringSSL type appears here.
 *
 * Conventions
 *  - Functions return 0 or a negative VEIL_E* code (common/err.h): VEIL_EAUTH for an AEAD
 *    tag mismatch, VEIL_EVERIFY for a bad signature, VEIL_EBADKEY for a malformed key,
 *    VEIL_EINVAL for bad sizes, VEIL_ECRYPTO for a library failure.
 *  - Sizes in/out are explicit; output buffers are caller-owned and must be at least the
 *    documented size (the *_MAX constants below).
 *  - Key encodings are the ones MLS (RFC 9420) and HPKE (RFC 9180) use on the wire:
 *      X25519 / Ed25519 private: 32 raw bytes (Ed25519: the RFC 8032 seed)
 *      X25519 / Ed25519 public:  32 raw bytes
 *      P-256 private: the 32-byte big-endian scalar
 *      P-256 public:  65-byte uncompressed SEC1 point (0x04 || X || Y)
 *      ECDSA signature: DER (RFC 9420 §5.1.2), at most VC_SIG_MAX bytes.
 *  - Secrets passed in are borrowed and never retained except inside an explicit context
 *    object (vc_aead_ctx_t), which wipes them when freed.
 */
#ifndef VEIL_CLIENTS_CRYPTO_PROVIDER_H
#define VEIL_CLIENTS_CRYPTO_PROVIDER_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

#define VC_HASH_MAX 64       /* SHA-512 */
#define VC_AEAD_KEY_MAX 32
#define VC_AEAD_NONCE_LEN 12 /* every AEAD here uses 96-bit nonces */
#define VC_AEAD_TAG_LEN 16   /* every AEAD here has 128-bit tags */
#define VC_KEX_PRIV_MAX 32
#define VC_KEX_PUB_MAX 65
#define VC_KEX_SHARED_MAX 32
#define VC_SIG_PRIV_MAX 32
#define VC_SIG_PUB_MAX 65
#define VC_SIG_MAX 72 /* DER ECDSA P-256 worst case; Ed25519 is 64 */

/* The backend compiled in: "openssl" or "boringssl". */
const char *vc_backend_name(void);

/* ---- randomness, comparison, wiping ---------------------------------------------- */
int vc_random(uint8_t *out, size_t len);
/* Constant-time equality of two equal-length buffers: 1 if equal, 0 if not. */
int vc_ct_equal(const void *a, const void *b, size_t len);
/* Wipes memory in a way the compiler cannot elide. */
void vc_wipe(void *p, size_t len);

/* ---- hashes, HMAC, HKDF ------------------------------------------------------------ */
typedef enum vc_hash {
  VC_SHA1 = 1, /* only for legacy fingerprints (device certificates), never for security */
  VC_SHA256 = 2,
  VC_SHA384 = 3,
  VC_SHA512 = 4,
} vc_hash_t;

size_t vc_hash_len(vc_hash_t h); /* 0 for an unknown hash */
int vc_hash(vc_hash_t h, const uint8_t *in, size_t len, uint8_t *out);
int vc_hmac(vc_hash_t h, const uint8_t *key, size_t key_len, const uint8_t *in, size_t len,
            uint8_t *out);
/* RFC 5869. extract writes vc_hash_len(h) bytes; expand writes out_len bytes
 * (out_len <= 255 * hash_len). An empty salt means a hash_len string of zeros. */
int vc_hkdf_extract(vc_hash_t h, const uint8_t *salt, size_t salt_len, const uint8_t *ikm,
                    size_t ikm_len, uint8_t *prk_out);
int vc_hkdf_expand(vc_hash_t h, const uint8_t *prk, size_t prk_len, const uint8_t *info,
                   size_t info_len, uint8_t *out, size_t out_len);

/* Incremental hashing (transcript hashes over long inputs). The context is opaque. */
typedef struct vc_hash_ctx vc_hash_ctx_t;
vc_hash_ctx_t *vc_hash_new(vc_hash_t h);
int vc_hash_update(vc_hash_ctx_t *c, const uint8_t *in, size_t len);
/* Writes the digest; the context may be reused after vc_hash_reset. */
int vc_hash_final(vc_hash_ctx_t *c, uint8_t *out);
int vc_hash_reset(vc_hash_ctx_t *c);
void vc_hash_free(vc_hash_ctx_t *c);

/* ---- AEAD ---------------------------------------------------------------------------- */
typedef enum vc_aead {
  VC_AES_128_GCM = 1,
  VC_AES_256_GCM = 2,
  VC_CHACHA20_POLY1305 = 3,
} vc_aead_t;

size_t vc_aead_key_len(vc_aead_t a); /* 16 or 32; 0 for an unknown AEAD */

/* One-shot: out receives pt_len + VC_AEAD_TAG_LEN bytes (ciphertext then tag). */
int vc_aead_seal(vc_aead_t a, const uint8_t *key, const uint8_t nonce[VC_AEAD_NONCE_LEN],
                 const uint8_t *aad, size_t aad_len, const uint8_t *pt, size_t pt_len,
                 uint8_t *out);
/* One-shot: ct includes the tag; out receives ct_len - VC_AEAD_TAG_LEN bytes.
 * VEIL_EAUTH on tag mismatch; `out` must then be treated as garbage (it is zeroed). */
int vc_aead_open(vc_aead_t a, const uint8_t *key, const uint8_t nonce[VC_AEAD_NONCE_LEN],
                 const uint8_t *aad, size_t aad_len, const uint8_t *ct, size_t ct_len,
                 uint8_t *out);

/* A keyed AEAD context: the key schedule is done once (per-frame and per-packet use). Not
 * thread-safe; one context per thread. The key is copied in and wiped by vc_aead_free. */
typedef struct vc_aead_ctx vc_aead_ctx_t;
vc_aead_ctx_t *vc_aead_new(vc_aead_t a, const uint8_t *key);
int vc_aead_ctx_seal(vc_aead_ctx_t *c, const uint8_t nonce[VC_AEAD_NONCE_LEN],
                     const uint8_t *aad, size_t aad_len, const uint8_t *pt, size_t pt_len,
                     uint8_t *out);
int vc_aead_ctx_open(vc_aead_ctx_t *c, const uint8_t nonce[VC_AEAD_NONCE_LEN],
                     const uint8_t *aad, size_t aad_len, const uint8_t *ct, size_t ct_len,
                     uint8_t *out);
void vc_aead_free(vc_aead_ctx_t *c);

/* ---- AES-CTR (SFrame's AES_128_CTR_HMAC_SHA256_* suites, RFC 9605 §4.5.1) ----------- */
/* Encrypts or decrypts `len` bytes with AES-CTR under a 16/24/32-byte key, starting from
 * the 16-byte initial counter block `iv` (big-endian 128-bit increment). in == out is allowed. */
int vc_aes_ctr(const uint8_t *key, size_t key_len, const uint8_t iv[16], const uint8_t *in,
               size_t len, uint8_t *out);
/* The same with the key schedule done once (per-frame use). Not thread-safe; the key is
 * expanded in and the schedule wiped by vc_aes_ctr_free. NULL for a bad key length. */
typedef struct vc_aes_ctr_ctx vc_aes_ctr_ctx_t;
vc_aes_ctr_ctx_t *vc_aes_ctr_new(const uint8_t *key, size_t key_len);
int vc_aes_ctr_ctx_crypt(vc_aes_ctr_ctx_t *c, const uint8_t iv[16], const uint8_t *in,
                         size_t len, uint8_t *out);
void vc_aes_ctr_free(vc_aes_ctr_ctx_t *c);

/* ---- key agreement ---------------------------------------------------------------- */
typedef enum vc_group {
  VC_X25519 = 1,
  VC_P256 = 2,
} vc_group_t;

size_t vc_kex_priv_len(vc_group_t g);   /* 32 */
size_t vc_kex_pub_len(vc_group_t g);    /* 32 or 65 */
size_t vc_kex_shared_len(vc_group_t g); /* 32 */
int vc_kex_generate(vc_group_t g, uint8_t *priv, uint8_t *pub);
/* Public key of a private key. For P-256, VEIL_EBADKEY when the scalar is 0 or >= the group
 * order (HPKE DeriveKeyPair relies on this to reject candidates, RFC 9180 §7.1.3). */
int vc_kex_public(vc_group_t g, const uint8_t *priv, uint8_t *pub);
/* Diffie-Hellman: X25519 output (VEIL_EBADKEY if all-zero), or the P-256 shared point's
 * x-coordinate. `peer_pub` is validated (on curve, not the identity) first. */
int vc_kex_derive(vc_group_t g, const uint8_t *priv, const uint8_t *peer_pub, size_t peer_len,
                  uint8_t *shared);

/* ---- signatures ------------------------------------------------------------------- */
typedef enum vc_sig {
  VC_ED25519 = 1,
  VC_ECDSA_P256_SHA256 = 2,
} vc_sig_t;

size_t vc_sig_priv_len(vc_sig_t s); /* 32 */
size_t vc_sig_pub_len(vc_sig_t s);  /* 32 or 65 */
int vc_sig_generate(vc_sig_t s, uint8_t *priv, uint8_t *pub);
int vc_sig_public(vc_sig_t s, const uint8_t *priv, uint8_t *pub);
/* Signs msg (ECDSA hashes it with SHA-256 first, as MLS's ecdsa_secp256r1_sha256 does).
 * *sig_len receives the signature length (<= VC_SIG_MAX). */
int vc_sign(vc_sig_t s, const uint8_t *priv, const uint8_t *msg, size_t msg_len,
            uint8_t *sig, size_t *sig_len);
/* 0 when valid, VEIL_EVERIFY when not, VEIL_EBADKEY for a malformed public key. */
int vc_verify(vc_sig_t s, const uint8_t *pub, size_t pub_len, const uint8_t *msg,
              size_t msg_len, const uint8_t *sig, size_t sig_len);

/* ---- scrypt (RFC 7914) ------------------------------------------------------------ */
/* N a power of two > 1. Memory use is ~128*r*N bytes; the backend's limit is raised to fit
 * N=32768, r=8, p=1 (the device JWE format). */
int vc_scrypt(const uint8_t *pw, size_t pw_len, const uint8_t *salt, size_t salt_len,
              uint64_t N, uint32_t r, uint32_t p, uint8_t *out, size_t out_len);

#endif
