/*
 * veil — SFrame cipher suites, key derivation and the per-KID AEAD (RFC 9605 §4.4.2-§4.5).
 *
 * GCM suites use the provider's keyed AEAD context, so the AES key schedule and GHASH key
 * are computed once per KID, not per frame.
 *
 * CTR suites (§4.5.1) are encrypt-then-MAC: AES-128-CTR from nonce || 0^32, then
 * HMAC-SHA256 over len(aad) || len(ct) || Nt (8 bytes each) || nonce || aad || ct,
 * truncated to Nt. That MAC input spans the header, the caller's metadata and the
 * ciphertext, which live in three buffers. The provider's vc_hmac is one-shot over one
 * buffer, so using it would mean copying every frame into a scratch buffer (an allocation
 * or a size cap per frame). Instead HMAC is composed from the provider's incremental
 * SHA-256 exactly as RFC 2104 §2 defines it, H((K ^ opad) || H((K ^ ipad) || m)), with
 * the padded keys computed once per KID. tests/unit/sframe checks it against vc_hmac and
 * the Appendix C vectors check the whole construction. AES-CTR likewise runs on a
 * provider context keyed once per KID (vc_aes_ctr_new); each frame only sets its initial
 * counter block, which restarts the keystream, so no frame pays for a key schedule or a
 * cipher context (the one-shot vc_aes_ctr did both, per frame).
 */
#include <stdlib.h>
#include <string.h>

#include "clients/lib/sframe/sframe_internal.h"

typedef struct suite_info {
  sframe_suite_t id;
  const char *name;
  size_t nk, nt, nh;
  vc_hash_t hash;
  vc_aead_t aead; /* 0 for the CTR+HMAC compound */
} suite_info_t;

/* Table 1 (§4.5). */
static const suite_info_t suites[] = {
    {SFRAME_AES_128_CTR_HMAC_SHA256_80, "AES_128_CTR_HMAC_SHA256_80", 48, 10, 32, VC_SHA256, 0},
    {SFRAME_AES_128_CTR_HMAC_SHA256_64, "AES_128_CTR_HMAC_SHA256_64", 48, 8, 32, VC_SHA256, 0},
    {SFRAME_AES_128_CTR_HMAC_SHA256_32, "AES_128_CTR_HMAC_SHA256_32", 48, 4, 32, VC_SHA256, 0},
    {SFRAME_AES_128_GCM_SHA256_128, "AES_128_GCM_SHA256_128", 16, 16, 32, VC_SHA256,
     VC_AES_128_GCM},
    {SFRAME_AES_256_GCM_SHA512_128, "AES_256_GCM_SHA512_128", 32, 16, 64, VC_SHA512,
     VC_AES_256_GCM},
};

static const suite_info_t *info(sframe_suite_t s) {
  for (size_t i = 0; i < sizeof(suites) / sizeof(suites[0]); i++)
    if (suites[i].id == s)
      return &suites[i];
  return NULL;
}

int sframe_suite_valid(sframe_suite_t s) { return info(s) != NULL; }
size_t sframe_suite_nk(sframe_suite_t s) { return info(s) ? info(s)->nk : 0; }
size_t sframe_suite_nt(sframe_suite_t s) { return info(s) ? info(s)->nt : 0; }
size_t sframe_suite_nh(sframe_suite_t s) { return info(s) ? info(s)->nh : 0; }
const char *sframe_suite_name(sframe_suite_t s) { return info(s) ? info(s)->name : NULL; }

/* §4.4.2: sframe_secret = HKDF-Extract("", base_key); key and salt are HKDF-Expand with
 * the labels "SFrame 1.0 Secret key " / "SFrame 1.0 Secret salt " followed by the KID as
 * an 8-byte big-endian integer and the cipher suite as a 2-byte big-endian integer (the
 * labels carry their trailing space; Appendix C's sframe_key_label confirms the bytes). */
static int expand_label(vc_hash_t h, const uint8_t *prk, size_t prk_len, const char *label,
                        uint64_t kid, sframe_suite_t s, uint8_t *out, size_t out_len) {
  uint8_t infobuf[64];
  veil_writer_t w;
  veil_writer_init(&w, infobuf, sizeof(infobuf));
  veil_write_bytes(&w, label, strlen(label));
  veil_write_u64(&w, kid);
  veil_write_u16(&w, (uint16_t)s);
  if (w.err)
    return w.err;
  return vc_hkdf_expand(h, prk, prk_len, infobuf, w.len, out, out_len);
}

int sframe_derive_key_salt(sframe_suite_t s, uint64_t kid, const uint8_t *base_key,
                           size_t base_key_len, uint8_t *key_out, uint8_t salt_out[12]) {
  const suite_info_t *si = info(s);
  if (!si || (!base_key && base_key_len))
    return VEIL_EINVAL;
  uint8_t secret[VC_HASH_MAX];
  int rc = vc_hkdf_extract(si->hash, NULL, 0, base_key, base_key_len, secret);
  if (rc)
    goto done;
  rc = expand_label(si->hash, secret, si->nh, "SFrame 1.0 Secret key ", kid, s, key_out,
                    si->nk);
  if (rc)
    goto done;
  rc = expand_label(si->hash, secret, si->nh, "SFrame 1.0 Secret salt ", kid, s, salt_out,
                    SFRAME_NONCE_LEN);
done:
  vc_wipe(secret, sizeof(secret));
  return rc;
}

int sframe_cipher_init(sframe_cipher_t *k, sframe_suite_t s, const uint8_t *key,
                       const uint8_t salt[SFRAME_NONCE_LEN]) {
  const suite_info_t *si = info(s);
  memset(k, 0, sizeof(*k));
  if (!si)
    return VEIL_EUNSUPPORTED;
  k->suite = s;
  k->nt = si->nt;
  memcpy(k->salt, salt, SFRAME_NONCE_LEN);
  if (si->aead) {
    k->aead = vc_aead_new(si->aead, key);
    return k->aead ? 0 : VEIL_ECRYPTO;
  }
  /* §4.5.1 derive_subkeys: enc_key = key[..Nka], auth_key = key[Nka..] (Nh = 32 bytes,
   * shorter than the 64-byte block, so RFC 2104 pads it with zeros). */
  k->ctr = vc_aes_ctr_new(key, SFRAME_CTR_NKA);
  if (!k->ctr)
    return VEIL_ECRYPTO;
  memset(k->ipad, 0x36, SFRAME_HMAC_BLOCK);
  memset(k->opad, 0x5c, SFRAME_HMAC_BLOCK);
  for (size_t i = 0; i < si->nh; i++) {
    k->ipad[i] ^= key[SFRAME_CTR_NKA + i];
    k->opad[i] ^= key[SFRAME_CTR_NKA + i];
  }
  k->hash = vc_hash_new(VC_SHA256);
  return k->hash ? 0 : VEIL_ENOMEM;
}

void sframe_cipher_clear(sframe_cipher_t *k) {
  if (k->aead)
    vc_aead_free(k->aead);
  if (k->hash)
    vc_hash_free(k->hash);
  if (k->ctr)
    vc_aes_ctr_free(k->ctr);
  vc_wipe(k, sizeof(*k));
}

static void make_nonce(const sframe_cipher_t *k, uint64_t ctr, uint8_t nonce[SFRAME_NONCE_LEN]) {
  /* §4.4.3: the salt XOR the CTR encoded big-endian over Nn bytes. */
  memcpy(nonce, k->salt, SFRAME_NONCE_LEN);
  for (int i = 0; i < 8; i++)
    nonce[SFRAME_NONCE_LEN - 1 - i] ^= (uint8_t)(ctr >> (8 * i));
}

/* §4.5.1 compute_tag, with aad = aad1 || aad2. */
static int ctr_tag(sframe_cipher_t *k, const uint8_t nonce[SFRAME_NONCE_LEN],
                   const uint8_t *aad1, size_t aad1_len, const uint8_t *aad2, size_t aad2_len,
                   const uint8_t *ct, size_t ct_len, uint8_t tag[32]) {
  uint8_t lens[24];
  veil_writer_t w;
  veil_writer_init(&w, lens, sizeof(lens));
  veil_write_u64(&w, (uint64_t)aad1_len + aad2_len);
  veil_write_u64(&w, ct_len);
  veil_write_u64(&w, k->nt);
  uint8_t inner[32];
  vc_hash_ctx_t *h = k->hash;
  int rc = vc_hash_reset(h);
  rc = rc ? rc : vc_hash_update(h, k->ipad, SFRAME_HMAC_BLOCK);
  rc = rc ? rc : vc_hash_update(h, lens, sizeof(lens));
  rc = rc ? rc : vc_hash_update(h, nonce, SFRAME_NONCE_LEN);
  if (aad1_len)
    rc = rc ? rc : vc_hash_update(h, aad1, aad1_len);
  if (aad2_len)
    rc = rc ? rc : vc_hash_update(h, aad2, aad2_len);
  if (ct_len)
    rc = rc ? rc : vc_hash_update(h, ct, ct_len);
  rc = rc ? rc : vc_hash_final(h, inner);
  rc = rc ? rc : vc_hash_reset(h);
  rc = rc ? rc : vc_hash_update(h, k->opad, SFRAME_HMAC_BLOCK);
  rc = rc ? rc : vc_hash_update(h, inner, sizeof(inner));
  rc = rc ? rc : vc_hash_final(h, tag);
  vc_wipe(inner, sizeof(inner));
  return rc;
}

/* The GCM AAD must be one buffer: header (<= 17 bytes) and metadata (bounded by
 * SFRAME_METADATA_MAX) are joined on the stack. */
#define AAD_MAX (SFRAME_HEADER_MAX + SFRAME_METADATA_MAX)

static int join_aad(uint8_t *buf, const uint8_t *a1, size_t l1, const uint8_t *a2, size_t l2) {
  if (l1 + l2 > AAD_MAX)
    return VEIL_ELIMIT;
  if (l1)
    memcpy(buf, a1, l1);
  if (l2)
    memcpy(buf + l1, a2, l2);
  return 0;
}

int sframe_cipher_seal_nonce(sframe_cipher_t *k, const uint8_t nonce[SFRAME_NONCE_LEN],
                             const uint8_t *aad1, size_t aad1_len, const uint8_t *aad2,
                             size_t aad2_len, const uint8_t *pt, size_t pt_len, uint8_t *out) {
  if (k->aead) {
    if (!aad2_len) /* the common case: AAD is the header alone, no copy */
      return vc_aead_ctx_seal(k->aead, nonce, aad1, aad1_len, pt, pt_len, out);
    uint8_t aad[AAD_MAX];
    int rc = join_aad(aad, aad1, aad1_len, aad2, aad2_len);
    if (rc)
      return rc;
    return vc_aead_ctx_seal(k->aead, nonce, aad, aad1_len + aad2_len, pt, pt_len, out);
  }
  uint8_t iv[16] = {0};
  memcpy(iv, nonce, SFRAME_NONCE_LEN); /* initial_counter = nonce || 0x00000000 */
  int rc = vc_aes_ctr_ctx_crypt(k->ctr, iv, pt, pt_len, out);
  if (rc)
    return rc;
  uint8_t tag[32];
  rc = ctr_tag(k, nonce, aad1, aad1_len, aad2, aad2_len, out, pt_len, tag);
  if (rc == 0)
    memcpy(out + pt_len, tag, k->nt);
  return rc;
}

int sframe_cipher_open_nonce(sframe_cipher_t *k, const uint8_t nonce[SFRAME_NONCE_LEN],
                             const uint8_t *aad1, size_t aad1_len, const uint8_t *aad2,
                             size_t aad2_len, const uint8_t *ct, size_t ct_len, uint8_t *out) {
  if (ct_len < k->nt)
    return VEIL_ETRUNC;
  size_t inner_len = ct_len - k->nt;
  if (k->aead) {
    if (!aad2_len)
      return vc_aead_ctx_open(k->aead, nonce, aad1, aad1_len, ct, ct_len, out);
    uint8_t aad[AAD_MAX];
    int rc = join_aad(aad, aad1, aad1_len, aad2, aad2_len);
    if (rc)
      return rc;
    return vc_aead_ctx_open(k->aead, nonce, aad, aad1_len + aad2_len, ct, ct_len, out);
  }
  /* The tag is compared in constant time. The ciphertext is decrypted whether or not it
   * matched, and the output wiped on a mismatch, so a forged frame costs the receiver the
   * same time as a genuine one (§4.4.4: discard "in a way that is indistinguishable ...
   * from having processed a valid ciphertext"). */
  uint8_t tag[32];
  int rc = ctr_tag(k, nonce, aad1, aad1_len, aad2, aad2_len, ct, inner_len, tag);
  if (rc)
    return rc;
  int ok = vc_ct_equal(tag, ct + inner_len, k->nt);
  uint8_t iv[16] = {0};
  memcpy(iv, nonce, SFRAME_NONCE_LEN);
  rc = vc_aes_ctr_ctx_crypt(k->ctr, iv, ct, inner_len, out);
  if (rc == 0 && !ok) {
    if (inner_len)
      vc_wipe(out, inner_len);
    rc = VEIL_EAUTH;
  }
  return rc;
}

/* The nonce is not wiped: like any AEAD nonce it is not a key, and this is the per-frame
 * path. (The salt it is made from stays wiped with the cipher.) */
int sframe_cipher_seal(sframe_cipher_t *k, uint64_t ctr, const uint8_t *hdr, size_t hdr_len,
                       const uint8_t *meta, size_t meta_len, const uint8_t *pt,
                       size_t pt_len, uint8_t *out) {
  uint8_t nonce[SFRAME_NONCE_LEN];
  make_nonce(k, ctr, nonce);
  return sframe_cipher_seal_nonce(k, nonce, hdr, hdr_len, meta, meta_len, pt, pt_len, out);
}

int sframe_cipher_open(sframe_cipher_t *k, uint64_t ctr, const uint8_t *hdr, size_t hdr_len,
                       const uint8_t *meta, size_t meta_len, const uint8_t *ct,
                       size_t ct_len, uint8_t *out) {
  uint8_t nonce[SFRAME_NONCE_LEN];
  make_nonce(k, ctr, nonce);
  return sframe_cipher_open_nonce(k, nonce, hdr, hdr_len, meta, meta_len, ct, ct_len, out);
}

/* One-shot AEAD for known-answer tests: keys a temporary cipher (allocates). */
int sframe_aead_seal(sframe_suite_t s, const uint8_t *key, const uint8_t nonce[12],
                     const uint8_t *aad, size_t aad_len, const uint8_t *pt, size_t pt_len,
                     uint8_t *out) {
  static const uint8_t zero_salt[SFRAME_NONCE_LEN];
  sframe_cipher_t k;
  int rc = sframe_cipher_init(&k, s, key, zero_salt);
  if (rc == 0)
    rc = sframe_cipher_seal_nonce(&k, nonce, aad, aad_len, NULL, 0, pt, pt_len, out);
  sframe_cipher_clear(&k);
  return rc;
}

int sframe_aead_open(sframe_suite_t s, const uint8_t *key, const uint8_t nonce[12],
                     const uint8_t *aad, size_t aad_len, const uint8_t *ct, size_t ct_len,
                     uint8_t *out) {
  static const uint8_t zero_salt[SFRAME_NONCE_LEN];
  sframe_cipher_t k;
  int rc = sframe_cipher_init(&k, s, key, zero_salt);
  if (rc == 0)
    rc = sframe_cipher_open_nonce(&k, nonce, aad, aad_len, NULL, 0, ct, ct_len, out);
  sframe_cipher_clear(&k);
  return rc;
}
