/*
 * Unit tests of HPKE (RFC 9180) misuse and limits. The known answers are in
 * tests/vectors/crypto/vectors_hpke.c (the RFC's vectors, KDF 0x0001) and, for HKDF-SHA512,
 * in test_hpke_kat.c (Appendix A.4); here: sequence overflow, PSK and auth input
 * validation, tamper handling, export-only contexts, and round trips of every suite,
 * including those no known answer covers (HKDF-SHA384, export-only with SHA-384/512).
 */
#include <criterion/criterion.h>
#include <stdint.h>
#include <string.h>

#include "clients/lib/crypto/hpke.h"

static const uint8_t k_psk[32] = {0x24, 0x7f, 0xd3, 0x3b, 0x91, 0x37, 0x60, 0xfa,
                                  0x1f, 0xa5, 0x1e, 0x18, 0x92, 0xd9, 0xf3, 0x07,
                                  0xfb, 0xe6, 0x5e, 0xb1, 0x71, 0xe8, 0x13, 0x2c,
                                  0x2a, 0xf1, 0x85, 0x55, 0xa7, 0x38, 0xb8, 0x2f};
static const uint8_t k_psk_id[] = "veil psk id";
static const uint8_t k_info[] = "veil test info";

typedef struct pair {
  hpke_ctx_t s, r;
  uint8_t skR[HPKE_SK_MAX], pkR[HPKE_PK_MAX], skS[HPKE_SK_MAX], pkS[HPKE_PK_MAX];
} pair_t;

/* Sets up sender and receiver for a suite and mode; returns the setup error, if any. */
static int setup_pair(pair_t *p, hpke_suite_t su, hpke_mode_t mode) {
  size_t npk = hpke_kem_npk(su.kem_id);
  cr_assert_eq(hpke_generate_key_pair(su.kem_id, p->skR, p->pkR), 0);
  cr_assert_eq(hpke_generate_key_pair(su.kem_id, p->skS, p->pkS), 0);
  hpke_mode_params_t ps = {0}, pr = {0};
  if (mode == HPKE_MODE_PSK || mode == HPKE_MODE_AUTH_PSK) {
    ps.psk = pr.psk = k_psk;
    ps.psk_len = pr.psk_len = sizeof(k_psk);
    ps.psk_id = pr.psk_id = k_psk_id;
    ps.psk_id_len = pr.psk_id_len = sizeof(k_psk_id) - 1;
  }
  if (mode == HPKE_MODE_AUTH || mode == HPKE_MODE_AUTH_PSK) {
    ps.sender_sk = p->skS;
    pr.sender_pk = p->pkS;
    pr.sender_pk_len = npk;
  }
  uint8_t enc[HPKE_ENC_MAX];
  size_t enc_len = 0;
  int rc = hpke_setup_sender(&p->s, su, mode, p->pkR, npk, k_info, sizeof(k_info), &ps, NULL, 0,
                             enc, &enc_len);
  if (rc) return rc;
  cr_assert_eq(enc_len, npk);
  return hpke_setup_receiver(&p->r, su, mode, enc, enc_len, p->skR, k_info, sizeof(k_info), &pr);
}

Test(hpke, every_suite_and_mode_round_trips) {
  const uint16_t kems[] = {HPKE_KEM_P256_SHA256, HPKE_KEM_X25519_SHA256};
  const uint16_t kdfs[] = {HPKE_KDF_SHA256, HPKE_KDF_SHA384, HPKE_KDF_SHA512};
  const uint16_t aeads[] = {HPKE_AEAD_AES128GCM, HPKE_AEAD_AES256GCM,
                            HPKE_AEAD_CHACHA20POLY1305, HPKE_AEAD_EXPORT_ONLY};
  for (size_t k = 0; k < 2; k++)
    for (size_t d = 0; d < 3; d++)
      for (size_t a = 0; a < 4; a++)
        for (int mode = 0; mode < 4; mode++) {
          hpke_suite_t su = {kems[k], kdfs[d], aeads[a]};
          cr_assert(hpke_suite_supported(su));
          pair_t p;
          cr_assert_eq(setup_pair(&p, su, (hpke_mode_t)mode), 0, "suite %x/%x/%x mode %d",
                       su.kem_id, su.kdf_id, su.aead_id, mode);
          cr_assert_eq(p.s.exporter_len, (size_t)(d == 0 ? 32 : d == 1 ? 48 : 64));
          uint8_t e1[100], e2[100];
          cr_assert_eq(hpke_export(&p.s, (const uint8_t *)"ctx", 3, e1, sizeof(e1)), 0);
          cr_assert_eq(hpke_export(&p.r, (const uint8_t *)"ctx", 3, e2, sizeof(e2)), 0);
          cr_assert_arr_eq(e1, e2, sizeof(e1));
          const uint8_t pt[] = "hello hpke";
          uint8_t ct[sizeof(pt) + 16], out[sizeof(pt)];
          if (su.aead_id == HPKE_AEAD_EXPORT_ONLY) {
            /* §5.3: an export-only context has no key; Seal/Open must refuse. */
            cr_assert_eq(hpke_seal(&p.s, NULL, 0, pt, sizeof(pt), ct), VEIL_EUNSUPPORTED);
            cr_assert_eq(hpke_open(&p.r, NULL, 0, ct, sizeof(ct), out), VEIL_EUNSUPPORTED);
          } else {
            for (int i = 0; i < 3; i++) {
              cr_assert_eq(hpke_seal(&p.s, (const uint8_t *)"aad", 3, pt, sizeof(pt), ct), 0);
              cr_assert_eq(hpke_open(&p.r, (const uint8_t *)"aad", 3, ct, sizeof(ct), out), 0);
              cr_assert_arr_eq(out, pt, sizeof(pt));
            }
            cr_assert_eq(p.s.seq, 3);
            cr_assert_eq(p.r.seq, 3);
          }
          hpke_ctx_wipe(&p.s);
          hpke_ctx_wipe(&p.r);
        }
}

/* §5.2: the sequence number must never wrap (nonce reuse). With a 64-bit counter the
 * last usable sequence number is 2^64 - 2. */
Test(hpke, seal_refuses_sequence_overflow) {
  pair_t p;
  hpke_suite_t su = {HPKE_KEM_X25519_SHA256, HPKE_KDF_SHA256, HPKE_AEAD_AES128GCM};
  cr_assert_eq(setup_pair(&p, su, HPKE_MODE_BASE), 0);
  uint8_t ct[32], out[16];
  p.s.seq = UINT64_MAX - 1;
  p.r.seq = UINT64_MAX - 1;
  cr_assert_eq(hpke_seal(&p.s, NULL, 0, (const uint8_t *)"last", 4, ct), 0);
  cr_assert_eq(p.s.seq, UINT64_MAX);
  cr_assert_eq(hpke_open(&p.r, NULL, 0, ct, 20, out), 0);
  cr_assert_eq(hpke_seal(&p.s, NULL, 0, (const uint8_t *)"more", 4, ct), VEIL_ESEQ);
  cr_assert_eq(p.s.seq, UINT64_MAX, "seq moved on a refused seal");
  cr_assert_eq(hpke_open(&p.r, NULL, 0, ct, 20, out), VEIL_ESEQ);
}

Test(hpke, open_failure_does_not_advance_sequence) {
  pair_t p;
  hpke_suite_t su = {HPKE_KEM_P256_SHA256, HPKE_KDF_SHA256, HPKE_AEAD_CHACHA20POLY1305};
  cr_assert_eq(setup_pair(&p, su, HPKE_MODE_BASE), 0);
  uint8_t ct[21], out[5];
  cr_assert_eq(hpke_seal(&p.s, NULL, 0, (const uint8_t *)"hello", 5, ct), 0);
  ct[20] ^= 1;
  cr_assert_eq(hpke_open(&p.r, NULL, 0, ct, sizeof(ct), out), VEIL_EAUTH);
  cr_assert_eq(p.r.seq, 0);
  ct[20] ^= 1;
  cr_assert_eq(hpke_open(&p.r, (const uint8_t *)"x", 1, ct, sizeof(ct), out), VEIL_EAUTH);
  cr_assert_eq(hpke_open(&p.r, NULL, 0, ct, 15, out), VEIL_EAUTH);
  cr_assert_eq(p.r.seq, 0);
  cr_assert_eq(hpke_open(&p.r, NULL, 0, ct, sizeof(ct), out), 0);
  cr_assert_eq(p.r.seq, 1);
  /* Replaying the same ciphertext at the next sequence number fails (nonce differs). */
  cr_assert_eq(hpke_open(&p.r, NULL, 0, ct, sizeof(ct), out), VEIL_EAUTH);
}

/* §5.1 VerifyPSKInputs, and the auth inputs each mode requires. */
Test(hpke, rejects_psk_and_auth_misuse) {
  hpke_suite_t su = {HPKE_KEM_X25519_SHA256, HPKE_KDF_SHA256, HPKE_AEAD_AES128GCM};
  uint8_t skR[32], pkR[32], skS[32], pkS[32], enc[HPKE_ENC_MAX];
  size_t enc_len;
  hpke_ctx_t c;
  cr_assert_eq(hpke_generate_key_pair(su.kem_id, skR, pkR), 0);
  cr_assert_eq(hpke_generate_key_pair(su.kem_id, skS, pkS), 0);
  hpke_mode_params_t only_psk = {.psk = k_psk, .psk_len = sizeof(k_psk)};
  hpke_mode_params_t only_id = {.psk_id = k_psk_id, .psk_id_len = 4};
  hpke_mode_params_t both = {k_psk, sizeof(k_psk), k_psk_id, 4, NULL, NULL, 0};
  hpke_mode_params_t short_psk = {k_psk, 16, k_psk_id, 4, NULL, NULL, 0};
  hpke_mode_params_t auth_s = {.sender_sk = skS};
  hpke_mode_params_t both_auth = {k_psk, sizeof(k_psk), k_psk_id, 4, skS, pkS, 32};
#define SETUP(mode, params) \
  hpke_setup_sender(&c, su, mode, pkR, 32, NULL, 0, params, NULL, 0, enc, &enc_len)
  /* psk without psk_id and the reverse, in every mode. */
  for (int m = 0; m < 4; m++) {
    cr_assert_eq(SETUP((hpke_mode_t)m, &only_psk), VEIL_EINVAL, "mode %d: psk alone", m);
    cr_assert_eq(SETUP((hpke_mode_t)m, &only_id), VEIL_EINVAL, "mode %d: psk_id alone", m);
  }
  cr_assert_eq(SETUP(HPKE_MODE_BASE, &both), VEIL_EINVAL);     /* psk given in base mode */
  cr_assert_eq(SETUP(HPKE_MODE_AUTH, &both_auth), VEIL_EINVAL); /* psk given in auth mode */
  cr_assert_eq(SETUP(HPKE_MODE_PSK, NULL), VEIL_EINVAL);       /* psk mode without psk */
  cr_assert_eq(SETUP(HPKE_MODE_AUTH_PSK, &auth_s), VEIL_EINVAL);
  cr_assert_eq(SETUP(HPKE_MODE_PSK, &short_psk), VEIL_EINVAL); /* < 32 bytes (§5.1.2) */
  cr_assert_eq(SETUP(HPKE_MODE_AUTH, NULL), VEIL_EINVAL);      /* auth without sender key */
  cr_assert_eq(SETUP(HPKE_MODE_BASE, &auth_s), VEIL_EINVAL);   /* sender key in base mode */
  cr_assert_eq(SETUP((hpke_mode_t)4, NULL), VEIL_EINVAL);
  cr_assert_eq(SETUP(HPKE_MODE_PSK, &both), 0);
  cr_assert_eq(SETUP(HPKE_MODE_AUTH_PSK, &both_auth), 0);
  /* The receiver of an auth mode needs the sender's public key. */
  cr_assert_eq(hpke_setup_receiver(&c, su, HPKE_MODE_AUTH, enc, 32, skR, NULL, 0, &auth_s),
               VEIL_EINVAL);
  /* The key schedule alone enforces VerifyPSKInputs too. */
  uint8_t ss[32] = {1};
  cr_assert_eq(hpke_key_schedule(&c, su, HPKE_MODE_PSK, ss, 32, NULL, 0, &only_psk), VEIL_EINVAL);
  cr_assert_eq(hpke_key_schedule(&c, su, HPKE_MODE_BASE, ss, 32, NULL, 0, &both), VEIL_EINVAL);
  cr_assert_eq(hpke_key_schedule(&c, su, HPKE_MODE_PSK, ss, 32, NULL, 0, &both), 0);
#undef SETUP
  hpke_ctx_wipe(&c);
}

Test(hpke, rejects_unsupported_suites_and_bad_keys) {
  uint8_t sk[32], pk[65], enc[HPKE_ENC_MAX], ss[32];
  size_t enc_len;
  hpke_ctx_t c;
  hpke_suite_t bad_kem = {0x0011, HPKE_KDF_SHA256, HPKE_AEAD_AES128GCM};
  hpke_suite_t bad_kdf = {HPKE_KEM_X25519_SHA256, 0x0004, HPKE_AEAD_AES128GCM};
  hpke_suite_t bad_aead = {HPKE_KEM_X25519_SHA256, HPKE_KDF_SHA256, 0x0004};
  cr_assert_not(hpke_suite_supported(bad_kem));
  cr_assert_not(hpke_suite_supported(bad_kdf));
  cr_assert_not(hpke_suite_supported(bad_aead));
  cr_assert_eq(hpke_derive_key_pair(0x0011, (const uint8_t *)"ikm", 3, sk, pk), VEIL_EUNSUPPORTED);
  hpke_suite_t su = {HPKE_KEM_P256_SHA256, HPKE_KDF_SHA256, HPKE_AEAD_AES128GCM};
  cr_assert_eq(hpke_generate_key_pair(su.kem_id, sk, pk), 0);
  cr_assert_eq(hpke_setup_sender(&c, bad_aead, HPKE_MODE_BASE, pk, 65, NULL, 0, NULL, NULL, 0,
                                 enc, &enc_len),
               VEIL_EUNSUPPORTED);
  /* Wrong public key length, and a point off the curve. */
  cr_assert_eq(hpke_setup_sender(&c, su, HPKE_MODE_BASE, pk, 64, NULL, 0, NULL, NULL, 0, enc,
                                 &enc_len),
               VEIL_EBADKEY);
  uint8_t off[65];
  memcpy(off, pk, 65);
  off[64] ^= 1;
  cr_assert_eq(hpke_setup_sender(&c, su, HPKE_MODE_BASE, off, 65, NULL, 0, NULL, NULL, 0, enc,
                                 &enc_len),
               VEIL_EBADKEY);
  /* A receiver given an invalid enc (off-curve ephemeral key) refuses it. */
  cr_assert_eq(hpke_decap(su.kem_id, off, 65, sk, NULL, 0, ss), VEIL_EBADKEY);
  cr_assert_eq(hpke_setup_receiver(&c, su, HPKE_MODE_BASE, off, 65, sk, NULL, 0, NULL),
               VEIL_EBADKEY);
  cr_assert_eq(hpke_setup_receiver(&c, su, HPKE_MODE_BASE, pk, 32, sk, NULL, 0, NULL),
               VEIL_EBADKEY);
  /* X25519: an all-zero (low-order) enc gives an all-zero DH and is refused. */
  hpke_suite_t sx = {HPKE_KEM_X25519_SHA256, HPKE_KDF_SHA256, HPKE_AEAD_AES128GCM};
  uint8_t zero[32] = {0};
  cr_assert_eq(hpke_generate_key_pair(sx.kem_id, sk, pk), 0);
  cr_assert_eq(hpke_setup_receiver(&c, sx, HPKE_MODE_BASE, zero, 32, sk, NULL, 0, NULL),
               VEIL_EBADKEY);
}

Test(hpke, export_bounds_length_by_kdf) {
  pair_t p;
  hpke_suite_t su = {HPKE_KEM_X25519_SHA256, HPKE_KDF_SHA256, HPKE_AEAD_EXPORT_ONLY};
  cr_assert_eq(setup_pair(&p, su, HPKE_MODE_BASE), 0);
  static uint8_t out[255 * 32 + 1];
  cr_assert_eq(hpke_export(&p.s, NULL, 0, out, 255 * 32), 0);
  cr_assert_eq(hpke_export(&p.s, NULL, 0, out, 255 * 32 + 1), VEIL_EINVAL);
  cr_assert_eq(hpke_export(&p.s, NULL, 0, out, 0), VEIL_EINVAL);
  /* Different contexts give different secrets. */
  uint8_t a[32], b[32];
  cr_assert_eq(hpke_export(&p.s, (const uint8_t *)"a", 1, a, 32), 0);
  cr_assert_eq(hpke_export(&p.s, (const uint8_t *)"b", 1, b, 32), 0);
  cr_assert(memcmp(a, b, 32) != 0);
}

Test(hpke, single_shot_round_trips_and_rejects_wrong_info) {
  hpke_suite_t su = {HPKE_KEM_P256_SHA256, HPKE_KDF_SHA512, HPKE_AEAD_AES256GCM};
  uint8_t sk[32], pk[65], enc[HPKE_ENC_MAX], ct[64], out[48];
  size_t enc_len;
  const uint8_t pt[] = "single shot";
  cr_assert_eq(hpke_generate_key_pair(su.kem_id, sk, pk), 0);
  cr_assert_eq(hpke_seal_single(su, HPKE_MODE_BASE, NULL, pk, 65, k_info, 4, NULL, 0, pt,
                                sizeof(pt), enc, &enc_len, ct),
               0);
  cr_assert_eq(hpke_open_single(su, HPKE_MODE_BASE, NULL, enc, enc_len, sk, k_info, 4, NULL, 0,
                                ct, sizeof(pt) + 16, out),
               0);
  cr_assert_arr_eq(out, pt, sizeof(pt));
  cr_assert_eq(hpke_open_single(su, HPKE_MODE_BASE, NULL, enc, enc_len, sk, k_info, 5, NULL, 0,
                                ct, sizeof(pt) + 16, out),
               VEIL_EAUTH);
}

/* DeriveKeyPair is deterministic and its key is the one the provider computes. */
Test(hpke, derive_key_pair_is_deterministic) {
  const uint16_t kems[] = {HPKE_KEM_P256_SHA256, HPKE_KEM_X25519_SHA256};
  for (int k = 0; k < 2; k++) {
    uint8_t ikm[32], sk1[32], pk1[65], sk2[32], pk2[65];
    memset(ikm, 0x33 + k, sizeof(ikm));
    cr_assert_eq(hpke_derive_key_pair(kems[k], ikm, sizeof(ikm), sk1, pk1), 0);
    cr_assert_eq(hpke_derive_key_pair(kems[k], ikm, sizeof(ikm), sk2, pk2), 0);
    cr_assert_arr_eq(sk1, sk2, 32);
    cr_assert_arr_eq(pk1, pk2, hpke_kem_npk(kems[k]));
    ikm[0] ^= 1;
    cr_assert_eq(hpke_derive_key_pair(kems[k], ikm, sizeof(ikm), sk2, pk2), 0);
    cr_assert(memcmp(sk1, sk2, 32) != 0);
  }
}
