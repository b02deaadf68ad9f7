/*
 * veil — HPKE (RFC 9180), written once on the provider API (provider.h), so it behaves
 * identically on both crypto backends.
 *
 * KEMs: DHKEM(P-256, HKDF-SHA256) 0x0010 and DHKEM(X25519, HKDF-SHA256) 0x0020, including
 * DeriveKeyPair (§7.1.3). KDFs: HKDF-SHA256/384/512. AEADs: AES-128-GCM, AES-256-GCM,
 * ChaCha20-Poly1305, and export-only (0xFFFF). Modes: base, psk, auth, auth_psk (§5.1).
 *
 * Key encodings follow provider.h (Nsk = 32; Npk = Nenc = 32 for X25519, 65 for P-256).
 */
#ifndef VEIL_CLIENTS_CRYPTO_HPKE_H
#define VEIL_CLIENTS_CRYPTO_HPKE_H

#include <stddef.h>
#include <stdint.h>

#include "clients/lib/crypto/provider.h"

enum {
  HPKE_KEM_P256_SHA256 = 0x0010,
  HPKE_KEM_X25519_SHA256 = 0x0020,
  HPKE_KDF_SHA256 = 0x0001,
  HPKE_KDF_SHA384 = 0x0002,
  HPKE_KDF_SHA512 = 0x0003,
  HPKE_AEAD_AES128GCM = 0x0001,
  HPKE_AEAD_AES256GCM = 0x0002,
  HPKE_AEAD_CHACHA20POLY1305 = 0x0003,
  HPKE_AEAD_EXPORT_ONLY = 0xFFFF,
};

typedef enum hpke_mode {
  HPKE_MODE_BASE = 0,
  HPKE_MODE_PSK = 1,
  HPKE_MODE_AUTH = 2,
  HPKE_MODE_AUTH_PSK = 3,
} hpke_mode_t;

typedef struct hpke_suite {
  uint16_t kem_id;
  uint16_t kdf_id;
  uint16_t aead_id;
} hpke_suite_t;

#define HPKE_ENC_MAX 65
#define HPKE_SK_MAX 32
#define HPKE_PK_MAX 65

/* Mode inputs beyond base. Borrowed for the duration of the call only. */
typedef struct hpke_mode_params {
  const uint8_t *psk; /* psk / auth_psk: the pre-shared key and its id */
  size_t psk_len;
  const uint8_t *psk_id;
  size_t psk_id_len;
  const uint8_t *sender_sk; /* auth / auth_psk, sender side: sender's private key */
  const uint8_t *sender_pk; /* auth / auth_psk, receiver side: sender's public key */
  size_t sender_pk_len;
} hpke_mode_params_t;

/* An encryption context (§5.2). Plain struct so it can live on the stack or inside another
 * object; always hpke_ctx_wipe() it when done. */
typedef struct hpke_ctx {
  hpke_suite_t suite;
  uint8_t key[VC_AEAD_KEY_MAX];
  size_t key_len;
  uint8_t base_nonce[VC_AEAD_NONCE_LEN];
  uint64_t seq;
  uint8_t exporter_secret[VC_HASH_MAX];
  size_t exporter_len;
} hpke_ctx_t;

/* 1 when every id of the suite is supported. */
int hpke_suite_supported(hpke_suite_t suite);
size_t hpke_kem_nsk(uint16_t kem_id);
size_t hpke_kem_npk(uint16_t kem_id);  /* == Nenc */

/* DeriveKeyPair (§7.1.3): deterministic key pair from ikm (>= Nsk bytes recommended). */
int hpke_derive_key_pair(uint16_t kem_id, const uint8_t *ikm, size_t ikm_len, uint8_t *sk,
                         uint8_t *pk);
/* A fresh random key pair. */
int hpke_generate_key_pair(uint16_t kem_id, uint8_t *sk, uint8_t *pk);

/* Sender setup (§5.1). `ikm_e`, when not NULL, makes the ephemeral key deterministic
 * (DeriveKeyPair(ikm_e)) — for known-answer tests only. `enc` receives Nenc bytes. */
int hpke_setup_sender(hpke_ctx_t *ctx, hpke_suite_t suite, hpke_mode_t mode,
                      const uint8_t *pk_r, size_t pk_r_len, const uint8_t *info,
                      size_t info_len, const hpke_mode_params_t *params,
                      const uint8_t *ikm_e, size_t ikm_e_len, uint8_t *enc, size_t *enc_len);
int hpke_setup_receiver(hpke_ctx_t *ctx, hpke_suite_t suite, hpke_mode_t mode,
                        const uint8_t *enc, size_t enc_len, const uint8_t *sk_r,
                        const uint8_t *info, size_t info_len, const hpke_mode_params_t *params);

/* §5.2: ciphertext = pt_len + 16 bytes; the sequence number advances on success only.
 * VEIL_ESEQ when it would overflow; VEIL_EAUTH when open fails. */
int hpke_seal(hpke_ctx_t *ctx, const uint8_t *aad, size_t aad_len, const uint8_t *pt,
              size_t pt_len, uint8_t *ct);
int hpke_open(hpke_ctx_t *ctx, const uint8_t *aad, size_t aad_len, const uint8_t *ct,
              size_t ct_len, uint8_t *pt);
/* §5.3 secret export. */
int hpke_export(const hpke_ctx_t *ctx, const uint8_t *exporter_context, size_t ctx_len,
                uint8_t *out, size_t out_len);
void hpke_ctx_wipe(hpke_ctx_t *ctx);

/* Single-shot APIs (§6.1), any mode (params may be NULL for base). */
int hpke_seal_single(hpke_suite_t suite, hpke_mode_t mode, const hpke_mode_params_t *params,
                     const uint8_t *pk_r, size_t pk_r_len, const uint8_t *info, size_t info_len,
                     const uint8_t *aad, size_t aad_len, const uint8_t *pt, size_t pt_len,
                     uint8_t *enc, size_t *enc_len, uint8_t *ct);
int hpke_open_single(hpke_suite_t suite, hpke_mode_t mode, const hpke_mode_params_t *params,
                     const uint8_t *enc, size_t enc_len, const uint8_t *sk_r,
                     const uint8_t *info, size_t info_len, const uint8_t *aad, size_t aad_len,
                     const uint8_t *ct, size_t ct_len, uint8_t *pt);

/* ---- the building blocks of setup, exposed for known-answer tests and for callers that
 * need the KEM alone (additive to the API above; setup_sender = encap + key_schedule). */
#define HPKE_SECRET_MAX 32 /* Nsecret of both DHKEMs */

/* Encap / AuthEncap (§4.1): `sender_sk` NULL for Encap, the sender's private key for
 * AuthEncap. `ikm_e` as in hpke_setup_sender. Writes Nsecret bytes to shared_secret and
 * Nenc bytes to enc. */
int hpke_encap(uint16_t kem_id, const uint8_t *pk_r, size_t pk_r_len, const uint8_t *sender_sk,
               const uint8_t *ikm_e, size_t ikm_e_len, uint8_t *shared_secret, uint8_t *enc,
               size_t *enc_len);
/* Decap / AuthDecap (§4.1): `sender_pk` NULL for Decap. */
int hpke_decap(uint16_t kem_id, const uint8_t *enc, size_t enc_len, const uint8_t *sk_r,
               const uint8_t *sender_pk, size_t sender_pk_len, uint8_t *shared_secret);
/* KeySchedule (§5.1) from a KEM shared secret, with VerifyPSKInputs. Only the psk/psk_id
 * fields of `params` are used here (params may be NULL for base/auth). */
int hpke_key_schedule(hpke_ctx_t *ctx, hpke_suite_t suite, hpke_mode_t mode,
                      const uint8_t *shared_secret, size_t shared_secret_len,
                      const uint8_t *info, size_t info_len, const hpke_mode_params_t *params);

#endif
