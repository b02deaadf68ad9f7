/*
 * veil — HPKE (RFC 9180) on the provider API only, so both backends share one
 * implementation. Section numbers below are RFC 9180's.
 *
 * Secrets on the stack (DH outputs, PRKs, shared secrets) are wiped before return; the
 * labeled-input buffers, which can hold a DH output or a PSK, are wiped too.
 */
#include "clients/lib/crypto/hpke.h"

#include <stdlib.h>
#include <string.h>

/* Upper bound on the application-chosen variable-length inputs (info, psk, psk_id,
 * exporter_context). §7.2.1 allows ~2^61 bytes; nothing in veil needs more than a few KiB,
 * and a bound keeps a hostile length from turning into a huge allocation. */
#define HPKE_INPUT_MAX (1u << 20)
/* RFC 9180 §5.1.1: "The psk MUST have at least 32 bytes of entropy". */
#define HPKE_PSK_MIN 32

static const char k_version[] = "HPKE-v1";

/* ---- algorithm tables (§7) --------------------------------------------------------- */

typedef struct kem_info {
  vc_group_t group;
  size_t nsk, npk; /* Npk == Nenc for DHKEMs */
} kem_info_t;

static int kem_lookup(uint16_t kem_id, kem_info_t *k) {
  switch (kem_id) {
  case HPKE_KEM_P256_SHA256: *k = (kem_info_t){VC_P256, 32, 65}; return 0;
  case HPKE_KEM_X25519_SHA256: *k = (kem_info_t){VC_X25519, 32, 32}; return 0;
  }
  return VEIL_EUNSUPPORTED;
}

static vc_hash_t kdf_hash(uint16_t kdf_id) {
  switch (kdf_id) {
  case HPKE_KDF_SHA256: return VC_SHA256;
  case HPKE_KDF_SHA384: return VC_SHA384;
  case HPKE_KDF_SHA512: return VC_SHA512;
  }
  return (vc_hash_t)0;
}

/* 1 and the provider AEAD for a real AEAD; 1 and *export_only for 0xFFFF; 0 otherwise. */
static int aead_lookup(uint16_t aead_id, vc_aead_t *a, int *export_only) {
  *export_only = 0;
  switch (aead_id) {
  case HPKE_AEAD_AES128GCM: *a = VC_AES_128_GCM; return 1;
  case HPKE_AEAD_AES256GCM: *a = VC_AES_256_GCM; return 1;
  case HPKE_AEAD_CHACHA20POLY1305: *a = VC_CHACHA20_POLY1305; return 1;
  case HPKE_AEAD_EXPORT_ONLY: *export_only = 1; return 1;
  }
  return 0;
}

int hpke_suite_supported(hpke_suite_t suite) {
  kem_info_t k;
  vc_aead_t a;
  int eo;
  return kem_lookup(suite.kem_id, &k) == 0 && kdf_hash(suite.kdf_id) != 0 &&
         aead_lookup(suite.aead_id, &a, &eo);
}

size_t hpke_kem_nsk(uint16_t kem_id) {
  kem_info_t k;
  return kem_lookup(kem_id, &k) ? 0 : k.nsk;
}

size_t hpke_kem_npk(uint16_t kem_id) {
  kem_info_t k;
  return kem_lookup(kem_id, &k) ? 0 : k.npk;
}

/* ---- LabeledExtract / LabeledExpand (§4) ------------------------------------------ */

/* suite_id: "KEM" || I2OSP(kem_id, 2) (§4.1) or "HPKE" || kem || kdf || aead (§5.1). */
typedef struct suite_id {
  uint8_t b[10];
  size_t len;
} suite_id_t;

static suite_id_t kem_suite_id(uint16_t kem_id) {
  suite_id_t s = {{'K', 'E', 'M', (uint8_t)(kem_id >> 8), (uint8_t)kem_id}, 5};
  return s;
}

static suite_id_t hpke_suite_id(hpke_suite_t su) {
  suite_id_t s = {{'H', 'P', 'K', 'E', (uint8_t)(su.kem_id >> 8), (uint8_t)su.kem_id,
                   (uint8_t)(su.kdf_id >> 8), (uint8_t)su.kdf_id, (uint8_t)(su.aead_id >> 8),
                   (uint8_t)su.aead_id},
                  10};
  return s;
}

/* Builds [I2OSP(L, 2)] || "HPKE-v1" || suite_id || label || data into a stack buffer, or a
 * heap one when data is long, then runs Extract (L == 0) or Expand. The buffer is wiped:
 * `data` may be a DH output or a PSK. */
static int labeled(vc_hash_t h, const suite_id_t *sid, const uint8_t *key, size_t key_len,
                   const char *label, const uint8_t *data, size_t data_len, uint8_t *out,
                   size_t L) {
  if (data_len > HPKE_INPUT_MAX) return VEIL_ELIMIT;
  size_t label_len = strlen(label);
  /* Bounded by the array it lives in (always is): says so to GCC's -O3 bounds analysis. */
  size_t sid_len = sid->len <= sizeof sid->b ? sid->len : sizeof sid->b;
  size_t total = (L ? 2 : 0) + (sizeof(k_version) - 1) + sid_len + label_len + data_len;
  uint8_t stackbuf[256];
  uint8_t *buf = total <= sizeof(stackbuf) ? stackbuf : malloc(total);
  if (!buf) return VEIL_ENOMEM;
  size_t n = 0;
  if (L) {
    if (L > 0xFFFF) {
      if (buf != stackbuf) free(buf);
      return VEIL_EINVAL;
    }
    buf[n++] = (uint8_t)(L >> 8);
    buf[n++] = (uint8_t)L;
  }
  memcpy(buf + n, k_version, sizeof(k_version) - 1);
  n += sizeof(k_version) - 1;
  memcpy(buf + n, sid->b, sid_len);
  n += sid_len;
  memcpy(buf + n, label, label_len);
  n += label_len;
  if (data_len) memcpy(buf + n, data, data_len);
  n += data_len;
  int rc = L ? vc_hkdf_expand(h, key, key_len, buf, n, out, L)
             : vc_hkdf_extract(h, key, key_len, buf, n, out);
  vc_wipe(buf, n);
  if (buf != stackbuf) free(buf);
  return rc;
}

static int labeled_extract(vc_hash_t h, const suite_id_t *sid, const uint8_t *salt,
                           size_t salt_len, const char *label, const uint8_t *ikm,
                           size_t ikm_len, uint8_t *out) {
  return labeled(h, sid, salt, salt_len, label, ikm, ikm_len, out, 0);
}

static int labeled_expand(vc_hash_t h, const suite_id_t *sid, const uint8_t *prk,
                          size_t prk_len, const char *label, const uint8_t *info,
                          size_t info_len, uint8_t *out, size_t L) {
  if (L == 0) return VEIL_EINVAL;
  return labeled(h, sid, prk, prk_len, label, info, info_len, out, L);
}

/* ---- DHKEM (§4.1) ------------------------------------------------------------------ */

int hpke_derive_key_pair(uint16_t kem_id, const uint8_t *ikm, size_t ikm_len, uint8_t *sk,
                         uint8_t *pk) {
  kem_info_t k;
  int rc = kem_lookup(kem_id, &k);
  if (rc) return rc;
  suite_id_t sid = kem_suite_id(kem_id);
  uint8_t prk[32];
  if ((rc = labeled_extract(VC_SHA256, &sid, NULL, 0, "dkp_prk", ikm, ikm_len, prk))) goto out;
  if (k.group == VC_X25519) {
    /* §7.1.3: X25519 uses the expanded bytes directly (clamping happens in X25519). */
    if ((rc = labeled_expand(VC_SHA256, &sid, prk, 32, "sk", NULL, 0, sk, k.nsk))) goto out;
    rc = vc_kex_public(k.group, sk, pk);
    goto out;
  }
  /* §7.1.3 P-256: rejection sampling over candidates; bitmask 0xff keeps every bit, and
   * vc_kex_public rejects 0 and values >= the group order with VEIL_EBADKEY. */
  for (unsigned counter = 0; counter < 256; counter++) {
    uint8_t c = (uint8_t)counter;
    if ((rc = labeled_expand(VC_SHA256, &sid, prk, 32, "candidate", &c, 1, sk, k.nsk))) goto out;
    sk[0] &= 0xff;
    rc = vc_kex_public(k.group, sk, pk);
    if (rc != VEIL_EBADKEY) goto out;
  }
  rc = VEIL_EDERIVE;
out:
  if (rc) vc_wipe(sk, k.nsk);
  vc_wipe(prk, sizeof(prk));
  return rc;
}

int hpke_generate_key_pair(uint16_t kem_id, uint8_t *sk, uint8_t *pk) {
  kem_info_t k;
  int rc = kem_lookup(kem_id, &k);
  if (rc) return rc;
  return vc_kex_generate(k.group, sk, pk);
}

/* ExtractAndExpand (§4.1): shared_secret from dh and kem_context. */
static int extract_and_expand(uint16_t kem_id, const uint8_t *dh, size_t dh_len,
                              const uint8_t *kem_ctx, size_t kem_ctx_len, uint8_t *shared) {
  suite_id_t sid = kem_suite_id(kem_id);
  uint8_t prk[32];
  int rc = labeled_extract(VC_SHA256, &sid, NULL, 0, "eae_prk", dh, dh_len, prk);
  if (!rc)
    rc = labeled_expand(VC_SHA256, &sid, prk, 32, "shared_secret", kem_ctx, kem_ctx_len, shared,
                        HPKE_SECRET_MAX);
  vc_wipe(prk, sizeof(prk));
  return rc;
}

int hpke_encap(uint16_t kem_id, const uint8_t *pk_r, size_t pk_r_len, const uint8_t *sender_sk,
               const uint8_t *ikm_e, size_t ikm_e_len, uint8_t *shared_secret, uint8_t *enc,
               size_t *enc_len) {
  kem_info_t k;
  int rc = kem_lookup(kem_id, &k);
  if (rc) return rc;
  if (!pk_r || pk_r_len != k.npk) return VEIL_EBADKEY;
  uint8_t sk_e[HPKE_SK_MAX], pk_e[HPKE_PK_MAX], pk_s[HPKE_PK_MAX];
  uint8_t dh[2 * VC_KEX_SHARED_MAX];
  uint8_t kem_ctx[3 * HPKE_PK_MAX];
  size_t dh_len = 0, ctx_len = 0;
  rc = ikm_e ? hpke_derive_key_pair(kem_id, ikm_e, ikm_e_len, sk_e, pk_e)
             : hpke_generate_key_pair(kem_id, sk_e, pk_e);
  if (rc) goto out;
  /* vc_kex_derive validates pk_r (on the curve / not low order) before using it. */
  if ((rc = vc_kex_derive(k.group, sk_e, pk_r, pk_r_len, dh))) goto out;
  dh_len = 32;
  memcpy(kem_ctx, pk_e, k.npk);
  memcpy(kem_ctx + k.npk, pk_r, k.npk);
  ctx_len = 2 * k.npk;
  if (sender_sk) { /* AuthEncap: dh = DH(skE, pkR) || DH(skS, pkR) */
    if ((rc = vc_kex_derive(k.group, sender_sk, pk_r, pk_r_len, dh + 32))) goto out;
    dh_len = 64;
    if ((rc = vc_kex_public(k.group, sender_sk, pk_s))) goto out;
    memcpy(kem_ctx + ctx_len, pk_s, k.npk);
    ctx_len += k.npk;
  }
  if ((rc = extract_and_expand(kem_id, dh, dh_len, kem_ctx, ctx_len, shared_secret))) goto out;
  memcpy(enc, pk_e, k.npk);
  *enc_len = k.npk;
out:
  vc_wipe(sk_e, sizeof(sk_e));
  vc_wipe(dh, sizeof(dh));
  return rc;
}

int hpke_decap(uint16_t kem_id, const uint8_t *enc, size_t enc_len, const uint8_t *sk_r,
               const uint8_t *sender_pk, size_t sender_pk_len, uint8_t *shared_secret) {
  kem_info_t k;
  int rc = kem_lookup(kem_id, &k);
  if (rc) return rc;
  if (!enc || enc_len != k.npk) return VEIL_EBADKEY;
  if (sender_pk && sender_pk_len != k.npk) return VEIL_EBADKEY;
  uint8_t dh[2 * VC_KEX_SHARED_MAX];
  uint8_t kem_ctx[3 * HPKE_PK_MAX];
  size_t dh_len = 32, ctx_len = 0;
  if ((rc = vc_kex_derive(k.group, sk_r, enc, enc_len, dh))) goto out;
  if (sender_pk) { /* AuthDecap: dh = DH(skR, pkE) || DH(skR, pkS) */
    if ((rc = vc_kex_derive(k.group, sk_r, sender_pk, sender_pk_len, dh + 32))) goto out;
    dh_len = 64;
  }
  memcpy(kem_ctx, enc, k.npk);
  if ((rc = vc_kex_public(k.group, sk_r, kem_ctx + k.npk))) goto out;
  ctx_len = 2 * k.npk;
  if (sender_pk) {
    memcpy(kem_ctx + ctx_len, sender_pk, k.npk);
    ctx_len += k.npk;
  }
  rc = extract_and_expand(kem_id, dh, dh_len, kem_ctx, ctx_len, shared_secret);
out:
  vc_wipe(dh, sizeof(dh));
  return rc;
}

/* ---- key schedule (§5.1) ----------------------------------------------------------- */

/* VerifyPSKInputs (§5.1): psk and psk_id both or neither, present exactly in the psk
 * modes, and the psk at least 32 bytes long (§5.1.2 asks for 32 bytes of entropy). */
static int verify_psk_inputs(hpke_mode_t mode, const hpke_mode_params_t *p) {
  int got_psk = p && p->psk_len > 0;
  int got_psk_id = p && p->psk_id_len > 0;
  if (got_psk != got_psk_id) return VEIL_EINVAL;
  if (got_psk && (!p->psk || !p->psk_id || p->psk_len < HPKE_PSK_MIN ||
                  p->psk_len > HPKE_INPUT_MAX || p->psk_id_len > HPKE_INPUT_MAX))
    return VEIL_EINVAL;
  switch (mode) {
  case HPKE_MODE_BASE:
  case HPKE_MODE_AUTH: return got_psk ? VEIL_EINVAL : 0;
  case HPKE_MODE_PSK:
  case HPKE_MODE_AUTH_PSK: return got_psk ? 0 : VEIL_EINVAL;
  }
  return VEIL_EINVAL;
}

/* VerifyPSKInputs plus the auth input of the mode: `side` is 's' for the sender (needs
 * sender_sk in the auth modes, and none otherwise) or 'r' (sender_pk). */
static int check_mode(hpke_mode_t mode, const hpke_mode_params_t *p, char side) {
  int rc = verify_psk_inputs(mode, p);
  if (rc) return rc;
  int got_sender = p && (side == 's' ? p->sender_sk != NULL : p->sender_pk != NULL);
  int auth = mode == HPKE_MODE_AUTH || mode == HPKE_MODE_AUTH_PSK;
  return got_sender == auth ? 0 : VEIL_EINVAL;
}

int hpke_key_schedule(hpke_ctx_t *ctx, hpke_suite_t suite, hpke_mode_t mode,
                      const uint8_t *shared_secret, size_t shared_secret_len,
                      const uint8_t *info, size_t info_len, const hpke_mode_params_t *params) {
  if (!ctx || !shared_secret || mode > HPKE_MODE_AUTH_PSK || (info_len && !info))
    return VEIL_EINVAL;
  if (!hpke_suite_supported(suite)) return VEIL_EUNSUPPORTED;
  if (info_len > HPKE_INPUT_MAX) return VEIL_ELIMIT;
  /* VerifyPSKInputs only: the auth keys are the KEM's business, not the key schedule's. */
  int rc = verify_psk_inputs(mode, params);
  if (rc) return rc;
  int got_psk = params && params->psk_len > 0;
  vc_hash_t h = kdf_hash(suite.kdf_id);
  size_t nh = vc_hash_len(h);
  vc_aead_t aead = VC_AES_128_GCM;
  int export_only = 0;
  aead_lookup(suite.aead_id, &aead, &export_only);
  suite_id_t sid = hpke_suite_id(suite);
  const uint8_t *psk = got_psk ? params->psk : NULL, *psk_id = got_psk ? params->psk_id : NULL;
  size_t psk_len = got_psk ? params->psk_len : 0, psk_id_len = got_psk ? params->psk_id_len : 0;

  /* key_schedule_context = mode || psk_id_hash || info_hash */
  uint8_t ksc[1 + 2 * VC_HASH_MAX];
  uint8_t secret[VC_HASH_MAX];
  memset(ctx, 0, sizeof(*ctx));
  ksc[0] = (uint8_t)mode;
  if ((rc = labeled_extract(h, &sid, NULL, 0, "psk_id_hash", psk_id, psk_id_len, ksc + 1)))
    goto out;
  if ((rc = labeled_extract(h, &sid, NULL, 0, "info_hash", info, info_len, ksc + 1 + nh)))
    goto out;
  size_t ksc_len = 1 + 2 * nh;
  if ((rc = labeled_extract(h, &sid, shared_secret, shared_secret_len, "secret", psk, psk_len,
                            secret)))
    goto out;
  ctx->suite = suite;
  if (!export_only) {
    ctx->key_len = vc_aead_key_len(aead);
    if ((rc = labeled_expand(h, &sid, secret, nh, "key", ksc, ksc_len, ctx->key, ctx->key_len)))
      goto out;
    if ((rc = labeled_expand(h, &sid, secret, nh, "base_nonce", ksc, ksc_len, ctx->base_nonce,
                             VC_AEAD_NONCE_LEN)))
      goto out;
  }
  ctx->exporter_len = nh;
  rc = labeled_expand(h, &sid, secret, nh, "exp", ksc, ksc_len, ctx->exporter_secret, nh);
out:
  if (rc) hpke_ctx_wipe(ctx);
  vc_wipe(secret, sizeof(secret));
  return rc;
}

/* ---- setup (§5.1.1–5.1.4) --------------------------------------------------------- */

int hpke_setup_sender(hpke_ctx_t *ctx, hpke_suite_t suite, hpke_mode_t mode,
                      const uint8_t *pk_r, size_t pk_r_len, const uint8_t *info,
                      size_t info_len, const hpke_mode_params_t *params,
                      const uint8_t *ikm_e, size_t ikm_e_len, uint8_t *enc, size_t *enc_len) {
  if (!ctx || !enc || !enc_len) return VEIL_EINVAL;
  if (!hpke_suite_supported(suite)) return VEIL_EUNSUPPORTED;
  int rc = check_mode(mode, params, 's');
  if (rc) return rc;
  const uint8_t *sender_sk =
      mode == HPKE_MODE_AUTH || mode == HPKE_MODE_AUTH_PSK ? params->sender_sk : NULL;
  uint8_t ss[HPKE_SECRET_MAX];
  rc = hpke_encap(suite.kem_id, pk_r, pk_r_len, sender_sk, ikm_e, ikm_e_len, ss, enc, enc_len);
  if (!rc) rc = hpke_key_schedule(ctx, suite, mode, ss, sizeof(ss), info, info_len, params);
  vc_wipe(ss, sizeof(ss));
  return rc;
}

int hpke_setup_receiver(hpke_ctx_t *ctx, hpke_suite_t suite, hpke_mode_t mode,
                        const uint8_t *enc, size_t enc_len, const uint8_t *sk_r,
                        const uint8_t *info, size_t info_len, const hpke_mode_params_t *params) {
  if (!ctx || !sk_r) return VEIL_EINVAL;
  if (!hpke_suite_supported(suite)) return VEIL_EUNSUPPORTED;
  int rc = check_mode(mode, params, 'r');
  if (rc) return rc;
  int auth = mode == HPKE_MODE_AUTH || mode == HPKE_MODE_AUTH_PSK;
  uint8_t ss[HPKE_SECRET_MAX];
  rc = hpke_decap(suite.kem_id, enc, enc_len, sk_r, auth ? params->sender_pk : NULL,
                  auth ? params->sender_pk_len : 0, ss);
  if (!rc) rc = hpke_key_schedule(ctx, suite, mode, ss, sizeof(ss), info, info_len, params);
  vc_wipe(ss, sizeof(ss));
  return rc;
}

/* ---- encryption and export (§5.2, §5.3) ------------------------------------------ */

/* ComputeNonce (§5.2): base_nonce XOR I2OSP(seq, Nn). seq is 64 bits, so only the last 8
 * bytes change; the RFC's limit of 2^96 - 1 messages is therefore tightened to 2^64 - 1. */
static int aead_of(const hpke_ctx_t *ctx, vc_aead_t *a, uint8_t nonce[VC_AEAD_NONCE_LEN]) {
  int export_only = 0;
  if (!aead_lookup(ctx->suite.aead_id, a, &export_only)) return VEIL_EINVAL;
  if (export_only) return VEIL_EUNSUPPORTED; /* §5.3: export-only contexts cannot seal */
  if (ctx->key_len != vc_aead_key_len(*a)) return VEIL_EINVAL;
  if (ctx->seq == UINT64_MAX) return VEIL_ESEQ;
  memcpy(nonce, ctx->base_nonce, VC_AEAD_NONCE_LEN);
  for (int i = 0; i < 8; i++) nonce[VC_AEAD_NONCE_LEN - 1 - i] ^= (uint8_t)(ctx->seq >> (8 * i));
  return 0;
}

int hpke_seal(hpke_ctx_t *ctx, const uint8_t *aad, size_t aad_len, const uint8_t *pt,
              size_t pt_len, uint8_t *ct) {
  if (!ctx) return VEIL_EINVAL;
  vc_aead_t a;
  uint8_t nonce[VC_AEAD_NONCE_LEN];
  int rc = aead_of(ctx, &a, nonce);
  if (rc) return rc;
  if ((rc = vc_aead_seal(a, ctx->key, nonce, aad, aad_len, pt, pt_len, ct))) return rc;
  ctx->seq++; /* IncrementSeq only after success */
  return 0;
}

int hpke_open(hpke_ctx_t *ctx, const uint8_t *aad, size_t aad_len, const uint8_t *ct,
              size_t ct_len, uint8_t *pt) {
  if (!ctx) return VEIL_EINVAL;
  vc_aead_t a;
  uint8_t nonce[VC_AEAD_NONCE_LEN];
  int rc = aead_of(ctx, &a, nonce);
  if (rc) return rc;
  if (ct_len < VC_AEAD_TAG_LEN) return VEIL_EAUTH;
  if ((rc = vc_aead_open(a, ctx->key, nonce, aad, aad_len, ct, ct_len, pt))) return rc;
  ctx->seq++;
  return 0;
}

int hpke_export(const hpke_ctx_t *ctx, const uint8_t *exporter_context, size_t ctx_len,
                uint8_t *out, size_t out_len) {
  if (!ctx || !out || ctx->exporter_len == 0) return VEIL_EINVAL;
  if (ctx_len > HPKE_INPUT_MAX) return VEIL_ELIMIT;
  vc_hash_t h = kdf_hash(ctx->suite.kdf_id);
  if (!h || out_len == 0 || out_len > 255 * vc_hash_len(h)) return VEIL_EINVAL;
  suite_id_t sid = hpke_suite_id(ctx->suite);
  return labeled_expand(h, &sid, ctx->exporter_secret, ctx->exporter_len, "sec",
                        exporter_context, ctx_len, out, out_len);
}

void hpke_ctx_wipe(hpke_ctx_t *ctx) {
  if (ctx) vc_wipe(ctx, sizeof(*ctx));
}

/* ---- single-shot (§6.1) ------------------------------------------------------------ */

int hpke_seal_single(hpke_suite_t suite, hpke_mode_t mode, const hpke_mode_params_t *params,
                     const uint8_t *pk_r, size_t pk_r_len, const uint8_t *info, size_t info_len,
                     const uint8_t *aad, size_t aad_len, const uint8_t *pt, size_t pt_len,
                     uint8_t *enc, size_t *enc_len, uint8_t *ct) {
  hpke_ctx_t ctx;
  int rc = hpke_setup_sender(&ctx, suite, mode, pk_r, pk_r_len, info, info_len, params, NULL, 0,
                             enc, enc_len);
  if (!rc) rc = hpke_seal(&ctx, aad, aad_len, pt, pt_len, ct);
  hpke_ctx_wipe(&ctx);
  return rc;
}

int hpke_open_single(hpke_suite_t suite, hpke_mode_t mode, const hpke_mode_params_t *params,
                     const uint8_t *enc, size_t enc_len, const uint8_t *sk_r,
                     const uint8_t *info, size_t info_len, const uint8_t *aad, size_t aad_len,
                     const uint8_t *ct, size_t ct_len, uint8_t *pt) {
  hpke_ctx_t ctx;
  int rc = hpke_setup_receiver(&ctx, suite, mode, enc, enc_len, sk_r, info, info_len, params);
  if (!rc) rc = hpke_open(&ctx, aad, aad_len, ct, ct_len, pt);
  hpke_ctx_wipe(&ctx);
  return rc;
}
