/*
 * veil — SFrame internals shared by the module's .c files (not part of the API).
 *
 * sframe_cipher_t is one KID's keyed AEAD (§4.4.2-§4.5): the derived salt, and either a
 * keyed provider AEAD context (GCM suites) or, for the §4.5.1 compound AEAD, a keyed
 * AES-CTR context and the HMAC-SHA256 pads. Either way every key schedule is done once,
 * when the key is added, and the per-frame path neither keys nor allocates.
 */
#ifndef VEIL_CLIENTS_SFRAME_INTERNAL_H
#define VEIL_CLIENTS_SFRAME_INTERNAL_H

#include "clients/lib/crypto/provider.h"
#include "clients/lib/sframe/sframe.h"

#define SFRAME_HMAC_BLOCK 64 /* SHA-256 block size (RFC 2104 B) */
#define SFRAME_CTR_NKA 16    /* AES-128 key of the CTR suites (Table 1 Nka) */

typedef struct sframe_cipher {
  sframe_suite_t suite;
  size_t nt;                         /* tag length */
  uint8_t salt[SFRAME_NONCE_LEN];    /* sframe_salt, secret */
  vc_aead_ctx_t *aead;               /* GCM: owned, wiped by vc_aead_free */
  vc_hash_ctx_t *hash;               /* CTR: owned, reused per frame for HMAC */
  vc_aes_ctr_ctx_t *ctr;             /* CTR: owned, keyed once with enc_key; per frame
                                        only the IV is set; wiped by vc_aes_ctr_free */
  uint8_t ipad[SFRAME_HMAC_BLOCK];   /* CTR: auth_key ^ 0x36.., secret */
  uint8_t opad[SFRAME_HMAC_BLOCK];   /* CTR: auth_key ^ 0x5c.., secret */
} sframe_cipher_t;

int sframe_suite_valid(sframe_suite_t s);
/* Keys the cipher from sframe_key (Nk bytes) and sframe_salt; clear it with
 * sframe_cipher_clear even when this fails. */
int sframe_cipher_init(sframe_cipher_t *k, sframe_suite_t s, const uint8_t *key,
                       const uint8_t salt[SFRAME_NONCE_LEN]);
void sframe_cipher_clear(sframe_cipher_t *k);
/* AEAD.Encrypt with nonce = salt XOR ctr (§4.4.3) and aad = hdr || meta: out receives
 * pt_len + nt bytes. */
int sframe_cipher_seal(sframe_cipher_t *k, uint64_t ctr, const uint8_t *hdr, size_t hdr_len,
                       const uint8_t *meta, size_t meta_len, const uint8_t *pt,
                       size_t pt_len, uint8_t *out);
/* AEAD.Decrypt; ct_len includes the tag (>= nt). VEIL_EAUTH on mismatch; out is then
 * wiped (ct_len - nt bytes). */
int sframe_cipher_open(sframe_cipher_t *k, uint64_t ctr, const uint8_t *hdr, size_t hdr_len,
                       const uint8_t *meta, size_t meta_len, const uint8_t *ct,
                       size_t ct_len, uint8_t *out);
/* The same with an explicit nonce (the §4.5.1 / Appendix C AEAD vectors). */
int sframe_cipher_seal_nonce(sframe_cipher_t *k, const uint8_t nonce[SFRAME_NONCE_LEN],
                             const uint8_t *aad1, size_t aad1_len, const uint8_t *aad2,
                             size_t aad2_len, const uint8_t *pt, size_t pt_len, uint8_t *out);
int sframe_cipher_open_nonce(sframe_cipher_t *k, const uint8_t nonce[SFRAME_NONCE_LEN],
                             const uint8_t *aad1, size_t aad1_len, const uint8_t *aad2,
                             size_t aad2_len, const uint8_t *ct, size_t ct_len, uint8_t *out);

#endif
