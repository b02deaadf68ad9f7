/*
 * SRTP known answers: RFC 3711 Appendix B and RFC 7714 §16-17 (../shared/vectors/srtp).
 *
 * libsrtp2 only takes a master key and salt and runs the RFC 3711 §4.3 KDF itself, while
 * the RFC 7714 vectors start from session keys (see the vectors README). So this runner
 * has two layers:
 *   1. An independent reference model written here on OpenSSL's raw primitives (AES-ECB,
 *      AES-CTR, HMAC-SHA1, AES-GCM): the KDF, AES-CM SRTP/SRTCP and AEAD-GCM SRTP/SRTCP.
 *      It must reproduce every vector value (B.2 keystream, B.3 derived keys, all 7714
 *      packets), which pins it to the RFCs.
 *   2. sfu/srtp (libsrtp2 behind our wrapper) must produce byte-identical packets to that
 *      model for both profiles we negotiate, from the vectors' keys and packets, and
 *      unprotect them back. For AES-CM the expected output is built from the B.3 session
 *      keys as printed in the RFC; for GCM (no printed KDF output) from the model's KDF,
 *      which layer 1 checked against B.3.
 * B.1 (AES-f8) has no DTLS-SRTP profile and libsrtp2 does not implement it: skipped.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "sfu/srtp.h"
#include "vjson.h"

/* ---- reference model ------------------------------------------------------------- */

static const EVP_CIPHER *ctr_cipher(size_t klen) {
  return klen == 32 ? EVP_aes_256_ctr() : EVP_aes_128_ctr();
}

/* AES in counter mode with a full 128-bit big-endian counter starting at iv (RFC 3711
 * §4.1.1: the counter block is IV + block index). out = in XOR keystream; in NULL: zeros. */
static void aes_cm(const uint8_t *key, size_t klen, const uint8_t iv[16], const uint8_t *in,
                   uint8_t *out, size_t n) {
  EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
  uint8_t *zeros = NULL;
  if (!in) {
    zeros = calloc(1, n ? n : 1);
    in = zeros;
  }
  int l = 0;
  EVP_EncryptInit_ex(c, ctr_cipher(klen), NULL, key, iv);
  EVP_EncryptUpdate(c, out, &l, in, (int)n);
  EVP_CIPHER_CTX_free(c);
  free(zeros);
}

/* RFC 3711 §4.3.1 / §4.3.3 with kdr = 0: x = (label || 0^48) XOR master_salt, aligned on
 * the least significant bits of the 112-bit salt; output = AES-CM(master key, x * 2^16).
 * A 96-bit (RFC 7714) salt is zero padded on the right to 112 bits, as libsrtp does. */
static void kdf(const uint8_t *mk, size_t mklen, const uint8_t *ms, size_t mslen, uint8_t label,
                uint8_t *out, size_t n) {
  uint8_t iv[16] = {0};
  memcpy(iv, ms, mslen);
  iv[7] ^= label;
  aes_cm(mk, mklen, iv, NULL, out, n);
}

static void hmac_sha1_80(const uint8_t *key, size_t klen, const uint8_t *a, size_t alen,
                         const uint8_t *b, size_t blen, uint8_t tag[10]) {
  uint8_t msg[4096], md[EVP_MAX_MD_SIZE];
  unsigned mdlen = 0;
  memcpy(msg, a, alen);
  if (blen) memcpy(msg + alen, b, blen);
  HMAC(EVP_sha1(), key, (int)klen, msg, alen + blen, md, &mdlen);
  memcpy(tag, md, 10);
}

/* AES-CM + HMAC-SHA1-80 SRTP (RFC 3711 §4.1.1, §4.2): IV = salt*2^16 ^ SSRC*2^64 ^ i*2^16. */
static size_t ref_cm_rtp(const uint8_t *ck, const uint8_t cs[14], const uint8_t ak[20],
                         const uint8_t *pkt, size_t len, size_t hlen, uint32_t roc,
                         uint8_t *out) {
  uint8_t iv[16] = {0};
  memcpy(iv, cs, 14);
  for (int i = 0; i < 4; i++) iv[4 + i] ^= pkt[8 + i];
  uint64_t idx = ((uint64_t)roc << 16) | ((uint64_t)pkt[2] << 8 | pkt[3]);
  for (int i = 0; i < 6; i++) iv[8 + i] ^= (uint8_t)(idx >> (40 - 8 * i));
  memcpy(out, pkt, hlen);
  aes_cm(ck, 16, iv, pkt + hlen, out + hlen, len - hlen);
  uint8_t r[4] = {(uint8_t)(roc >> 24), (uint8_t)(roc >> 16), (uint8_t)(roc >> 8), (uint8_t)roc};
  hmac_sha1_80(ak, 20, out, len, r, 4, out + len);
  return len + 10;
}

/* SRTCP with AES-CM (RFC 3711 §3.4, §4.1.1): encrypt after the first 8 octets, then
 * E||index, then the tag over everything before it. */
static size_t ref_cm_rtcp(const uint8_t *ck, const uint8_t cs[14], const uint8_t ak[20],
                          const uint8_t *pkt, size_t len, uint32_t index, uint8_t *out) {
  uint8_t iv[16] = {0};
  memcpy(iv, cs, 14);
  for (int i = 0; i < 4; i++) iv[4 + i] ^= pkt[4 + i];
  for (int i = 0; i < 4; i++) iv[10 + i] ^= (uint8_t)(index >> (24 - 8 * i));
  memcpy(out, pkt, 8);
  aes_cm(ck, 16, iv, pkt + 8, out + 8, len - 8);
  uint32_t ei = 0x80000000u | index;
  uint8_t e[4] = {(uint8_t)(ei >> 24), (uint8_t)(ei >> 16), (uint8_t)(ei >> 8), (uint8_t)ei};
  memcpy(out + len, e, 4);
  hmac_sha1_80(ak, 20, out, len + 4, NULL, 0, out + len + 4);
  return len + 14;
}

static int gcm(const uint8_t *key, size_t klen, const uint8_t iv[12], const uint8_t *aad,
               size_t aadlen, const uint8_t *in, size_t n, uint8_t *out, uint8_t tag[16]) {
  EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
  int l = 0, ok = 1;
  ok &= EVP_EncryptInit_ex(c, klen == 32 ? EVP_aes_256_gcm() : EVP_aes_128_gcm(), NULL, key,
                           iv) == 1;
  if (aadlen) ok &= EVP_EncryptUpdate(c, NULL, &l, aad, (int)aadlen) == 1;
  if (n) ok &= EVP_EncryptUpdate(c, out, &l, in, (int)n) == 1;
  ok &= EVP_EncryptFinal_ex(c, out + n, &l) == 1;
  ok &= EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, 16, tag) == 1;
  EVP_CIPHER_CTX_free(c);
  return ok;
}

/* RFC 7714 §8.1: IV = (0^16 || SSRC || ROC || SEQ) XOR salt; AAD = the RTP header (§8.2);
 * `encrypt` 0 gives the authentication-only form (§8.3: the whole packet is AAD). */
static size_t ref_gcm_rtp(const uint8_t *k, size_t klen, const uint8_t salt[12],
                          const uint8_t *pkt, size_t len, size_t hlen, uint32_t roc,
                          int encrypt, uint8_t *out, uint8_t iv_out[12]) {
  uint8_t iv[12] = {0};
  memcpy(iv + 2, pkt + 8, 4);
  iv[6] = (uint8_t)(roc >> 24), iv[7] = (uint8_t)(roc >> 16), iv[8] = (uint8_t)(roc >> 8),
  iv[9] = (uint8_t)roc;
  iv[10] = pkt[2], iv[11] = pkt[3];
  for (int i = 0; i < 12; i++) iv[i] ^= salt[i];
  if (iv_out) memcpy(iv_out, iv, 12);
  memcpy(out, pkt, len);
  if (encrypt)
    gcm(k, klen, iv, pkt, hlen, pkt + hlen, len - hlen, out + hlen, out + len);
  else
    gcm(k, klen, iv, pkt, len, NULL, 0, NULL, out + len);
  return len + 16;
}

/* RFC 7714 §9.1: IV = (0^16 || SSRC || 0^16 || 0 || index) XOR salt; AAD = first 8 octets
 * || E||index (§9.2), or the whole packet || E||index when not encrypting (§9.3). */
static size_t ref_gcm_rtcp(const uint8_t *k, size_t klen, const uint8_t salt[12],
                           const uint8_t *pkt, size_t len, uint32_t index, int encrypt,
                           uint8_t *out, uint8_t iv_out[12]) {
  uint8_t iv[12] = {0};
  memcpy(iv + 2, pkt + 4, 4);
  for (int i = 0; i < 4; i++) iv[8 + i] = (uint8_t)(index >> (24 - 8 * i));
  for (int i = 0; i < 12; i++) iv[i] ^= salt[i];
  if (iv_out) memcpy(iv_out, iv, 12);
  uint32_t ei = (encrypt ? 0x80000000u : 0) | index;
  uint8_t e[4] = {(uint8_t)(ei >> 24), (uint8_t)(ei >> 16), (uint8_t)(ei >> 8), (uint8_t)ei};
  uint8_t aad[2048];
  size_t alen = encrypt ? 8 : len;
  memcpy(aad, pkt, alen);
  memcpy(aad + alen, e, 4);
  memcpy(out, pkt, len);
  if (encrypt)
    gcm(k, klen, iv, aad, alen + 4, pkt + 8, len - 8, out + 8, out + len);
  else
    gcm(k, klen, iv, aad, alen + 4, NULL, 0, NULL, out + len);
  memcpy(out + len + 16, e, 4);
  return len + 20;
}

/* ---- helpers ---------------------------------------------------------------------- */

static uint8_t *hex(const vj_t *o, const char *k, size_t *len) {
  size_t l = 0;
  uint8_t *p = vj_hex(o, k, &l);
  if (!p) {
    tap_diag("missing hex field %s", k);
    exit(tap_done() ? 1 : 1);
  }
  if (len) *len = l;
  return p;
}

/* ---- layer 1: the model against the vectors ---------------------------------------- */

static void check_b2(const vj_t *b2) {
  size_t kl;
  uint8_t *key = hex(b2, "session_key", &kl);
  const vj_t *blocks = vj_get(b2, "blocks");
  for (size_t i = 0; i < vj_size(blocks); i++) {
    const vj_t *b = vj_at(blocks, i);
    uint8_t *ctr = hex(b, "counter", NULL), *ks = hex(b, "keystream", NULL);
    uint8_t got[16];
    aes_cm(key, kl, ctr, NULL, got, 16);
    tap_ok(tap_bytes_eq("keystream", got, 16, ks, 16), "B.2 AES-CM keystream block %zu", i);
    free(ctr);
    free(ks);
  }
  free(key);
}

typedef struct b3 {
  uint8_t mk[16], ms[14], ck[16], cs[14], ak[94];
} b3_t;

static void check_b3(const vj_t *v, b3_t *out) {
  size_t mkl, msl, ckl, csl, akl;
  uint8_t *mk = hex(v, "master_key", &mkl), *ms = hex(v, "master_salt", &msl);
  uint8_t *ck = hex(vj_get(v, "cipher_key"), "output", &ckl);
  uint8_t *cs = hex(vj_get(v, "cipher_salt"), "output", &csl);
  uint8_t *ak = hex(vj_get(v, "auth_key"), "output", &akl);
  if (mkl != 16 || msl != 14 || ckl != 16 || csl != 14 || akl != 94) {
    tap_ok(0, "B.3 field sizes");
    exit(tap_done());
  }
  uint8_t got[94];
  kdf(mk, 16, ms, 14, 0x00, got, 16);
  tap_ok(tap_bytes_eq("cipher key", got, 16, ck, 16), "B.3 KDF cipher key (label 0x00)");
  kdf(mk, 16, ms, 14, 0x02, got, 14);
  tap_ok(tap_bytes_eq("cipher salt", got, 14, cs, 14), "B.3 KDF cipher salt (label 0x02)");
  kdf(mk, 16, ms, 14, 0x01, got, 94);
  tap_ok(tap_bytes_eq("auth key", got, 94, ak, 94), "B.3 KDF auth key (label 0x01, 94 octets)");
  memcpy(out->mk, mk, 16), memcpy(out->ms, ms, 14), memcpy(out->ck, ck, 16);
  memcpy(out->cs, cs, 14), memcpy(out->ak, ak, 94);
  free(mk), free(ms), free(ck), free(cs), free(ak);
}

static void check_7714(const vj_t *v) {
  const char *prof = vj_str(v, "profile");
  size_t kl, sl;
  uint8_t *k = hex(v, "session_key", &kl), *salt = hex(v, "session_salt", &sl);
  const vj_t *rtp = vj_get(v, "srtp"), *rtcp = vj_get(v, "srtcp");
  int ok = 0;
  size_t pl, el, al, ivl;
  uint8_t *pt = hex(rtp, "plaintext_packet", &pl), *enc = hex(rtp, "encrypted_packet", &el);
  uint8_t *auth = hex(rtp, "authenticated_only_packet", &al), *ivc = hex(rtp, "iv_computed", &ivl);
  size_t hlen = (size_t)vj_u64(rtp, "header_length", &ok);
  uint32_t roc = (uint32_t)vj_u64(rtp, "roc", &ok);
  uint8_t out[2048], iv[12];
  size_t n = ref_gcm_rtp(k, kl, salt, pt, pl, hlen, roc, 1, out, iv);
  tap_ok(tap_bytes_eq("iv", iv, 12, ivc, ivl), "%s RFC 7714 §16 SRTP IV", prof);
  tap_ok(tap_bytes_eq("srtp", out, n, enc, el), "%s RFC 7714 §16 SRTP encrypted packet", prof);
  n = ref_gcm_rtp(k, kl, salt, pt, pl, hlen, roc, 0, out, NULL);
  tap_ok(tap_bytes_eq("srtp auth-only", out, n, auth, al),
         "%s RFC 7714 §16 SRTP authentication-only packet", prof);
  free(pt), free(enc), free(auth), free(ivc);

  pt = hex(rtcp, "plaintext_packet", &pl);
  enc = hex(rtcp, "encrypted_packet", &el);
  auth = hex(rtcp, "authenticated_only_packet", &al);
  ivc = hex(rtcp, "iv_computed", &ivl);
  uint32_t index = (uint32_t)vj_u64(rtcp, "srtcp_index", &ok);
  n = ref_gcm_rtcp(k, kl, salt, pt, pl, index, 1, out, iv);
  tap_ok(tap_bytes_eq("iv", iv, 12, ivc, ivl), "%s RFC 7714 §17 SRTCP IV", prof);
  tap_ok(tap_bytes_eq("srtcp", out, n, enc, el), "%s RFC 7714 §17 SRTCP encrypted packet", prof);
  n = ref_gcm_rtcp(k, kl, salt, pt, pl, index, 0, out, NULL);
  tap_ok(tap_bytes_eq("srtcp auth-only", out, n, auth, al),
         "%s RFC 7714 §17 SRTCP authentication-only packet", prof);
  free(pt), free(enc), free(auth), free(ivc), free(k), free(salt);
}

/* ---- layer 2: sfu/srtp against the model ------------------------------------------- */

static void wrapper_round_trip(sfu_srtp_profile_t prof, const uint8_t *mk, const uint8_t *ms,
                               const uint8_t *rtp, size_t rtp_len, size_t hlen,
                               const uint8_t *want_rtp, size_t want_rtp_len, const uint8_t *rtcp,
                               size_t rtcp_len, const char *what) {
  const char *name = sfu_srtp_profile_name(prof);
  size_t sl = sfu_srtp_salt_len(prof);
  sfu_srtp_t *out = NULL, *in = NULL;
  int rc1 = sfu_srtp_new(prof, SFU_SRTP_OUTBOUND, mk, 16, ms, sl, &out);
  int rc2 = sfu_srtp_new(prof, SFU_SRTP_INBOUND, mk, 16, ms, sl, &in);
  tap_ok(rc1 == 0 && rc2 == 0, "%s: sessions from the vector master key (%s)", name, what);
  if (rc1 || rc2) return;
  uint8_t buf[2048];
  memcpy(buf, rtp, rtp_len);
  size_t len = rtp_len;
  int rc = sfu_srtp_protect_rtp(out, buf, &len, sizeof buf);
  tap_ok(rc == 0 && tap_bytes_eq("protected rtp", buf, len, want_rtp, want_rtp_len),
         "%s: protect RTP equals the RFC model (%s)", name, what);
  rc = sfu_srtp_unprotect_rtp(in, buf, &len);
  tap_ok(rc == 0 && tap_bytes_eq("unprotected rtp", buf, len, rtp, rtp_len),
         "%s: unprotect RTP restores the plaintext", name);
  (void)hlen;

  /* SRTCP: libsrtp picks the SRTCP index; the model is evaluated at the index it wrote,
   * which must carry E=1 (encrypted) and be below 2^31 (RFC 3711 §3.4). */
  memcpy(buf, rtcp, rtcp_len);
  len = rtcp_len;
  rc = sfu_srtp_protect_rtcp(out, buf, &len, sizeof buf);
  uint8_t want[2048];
  size_t wl = 0;
  if (rc == 0) {
    size_t tag = prof == SFU_SRTP_AEAD_AES_128_GCM ? 16 : 10;
    const uint8_t *e = prof == SFU_SRTP_AEAD_AES_128_GCM ? buf + len - 4 : buf + len - 4 - tag;
    uint32_t ei = (uint32_t)e[0] << 24 | (uint32_t)e[1] << 16 | (uint32_t)e[2] << 8 | e[3];
    tap_ok((ei & 0x80000000u) != 0, "%s: SRTCP E flag set, index %u", name, ei & 0x7fffffffu);
    uint32_t index = ei & 0x7fffffffu;
    if (prof == SFU_SRTP_AEAD_AES_128_GCM) {
      uint8_t rk[16], rs[14];
      kdf(mk, 16, ms, 12, 0x03, rk, 16);
      kdf(mk, 16, ms, 12, 0x05, rs, 12);
      wl = ref_gcm_rtcp(rk, 16, rs, rtcp, rtcp_len, index, 1, want, NULL);
    } else {
      uint8_t rk[16], rs[14], ra[20];
      kdf(mk, 16, ms, 14, 0x03, rk, 16);
      kdf(mk, 16, ms, 14, 0x04, ra, 20);
      kdf(mk, 16, ms, 14, 0x05, rs, 14);
      wl = ref_cm_rtcp(rk, rs, ra, rtcp, rtcp_len, index, want);
    }
  }
  tap_ok(rc == 0 && tap_bytes_eq("protected rtcp", buf, len, want, wl),
         "%s: protect RTCP equals the RFC model", name);
  rc = sfu_srtp_unprotect_rtcp(in, buf, &len);
  tap_ok(rc == 0 && tap_bytes_eq("unprotected rtcp", buf, len, rtcp, rtcp_len),
         "%s: unprotect RTCP restores the plaintext", name);
  memcpy(buf, want_rtp, want_rtp_len);
  len = want_rtp_len;
  tap_ok(sfu_srtp_unprotect_rtp(in, buf, &len) != 0, "%s: replayed RTP rejected", name);
  sfu_srtp_free(out);
  sfu_srtp_free(in);
}

int main(void) {
  char path[1024];
  if (!vj_vector_path("srtp/rfc3711-rfc7714-test-vectors.json", path, sizeof path))
    return tap_skip_all("vectors folder absent");
  vj_t *root = vj_parse_file(path);
  if (!root) {
    tap_ok(0, "parse %s", path);
    return tap_done();
  }
  tap_skip("RFC 3711 B.1 AES-f8: no DTLS-SRTP profile uses it and libsrtp2 lacks it");
  check_b2(vj_get(root, "rfc3711_B2_aes_cm_keystream"));
  b3_t b3;
  check_b3(vj_get(root, "rfc3711_B3_key_derivation"), &b3);
  const vj_t *g = vj_get(root, "rfc7714_aes_gcm");
  for (size_t i = 0; i < vj_size(g); i++) check_7714(vj_at(g, i));

  /* Layer 2. The packets are the RFC 7714 ones (first entry). */
  const vj_t *v = vj_at(g, 0);
  const vj_t *rtp = vj_get(v, "srtp"), *rtcp = vj_get(v, "srtcp");
  size_t pl, cl, kl, sl;
  uint8_t *pt = hex(rtp, "plaintext_packet", &pl), *ct = hex(rtcp, "plaintext_packet", &cl);
  int ok = 0;
  size_t hlen = (size_t)vj_u64(rtp, "header_length", &ok);
  uint32_t roc = (uint32_t)vj_u64(rtp, "roc", &ok);

  /* AES-CM-HMAC-SHA1-80 from the B.3 master key: the expected packet uses the session keys
   * printed in B.3 (kdr 0 and index 0, so they are the keys libsrtp must derive). */
  uint8_t want[2048];
  size_t wl = ref_cm_rtp(b3.ck, b3.cs, b3.ak, pt, pl, hlen, roc, want);
  wrapper_round_trip(SFU_SRTP_AES128_CM_SHA1_80, b3.mk, b3.ms, pt, pl, hlen, want, wl, ct, cl,
                     "RFC 3711 B.3 keys");

  /* AEAD_AES_128_GCM: master key/salt = the 7714 key/salt; session keys by the model KDF. */
  uint8_t *k = hex(v, "session_key", &kl), *salt = hex(v, "session_salt", &sl);
  uint8_t sk[16], ss[14];
  kdf(k, 16, salt, 12, 0x00, sk, 16);
  kdf(k, 16, salt, 12, 0x02, ss, 12);
  wl = ref_gcm_rtp(sk, 16, ss, pt, pl, hlen, roc, 1, want, NULL);
  wrapper_round_trip(SFU_SRTP_AEAD_AES_128_GCM, k, salt, pt, pl, hlen, want, wl, ct, cl,
                     "RFC 7714 key as master key");
  free(pt), free(ct), free(k), free(salt);
  vj_free(root);
  return tap_done();
}
