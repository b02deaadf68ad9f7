/*
 * SFrame throughput against the raw AEAD, measured in the same run (prints JSON).
 *
 * For each cipher suite and frame size (160 B audio, 1200 B per-packet video, 50 KB
 * per-frame video): SFrame encrypt and decrypt MB/s (plaintext bytes), and the same
 * cipher used raw through the provider on the same sizes:
 *   GCM suites: vc_aead_ctx_seal / vc_aead_ctx_open (keyed context, no AAD);
 *   CTR suites: AES-128-CTR through a keyed context (vc_aes_ctr_new) + HMAC-SHA256 over
 *               nonce || ciphertext from pads computed once (RFC 2104 on a reused
 *               vc_hash_ctx: the provider has no keyed HMAC context; this is how SFrame's
 *               cipher.c keys it too). Key schedules stay out of the per-frame cost on
 *               both sides, so the ratio is SFrame's own overhead, not setup it avoids.
 * ratio = SFrame / raw. SFrame decrypt needs fresh CTRs (the replay window refuses
 * repeats), so each batch decrypts the batch just encrypted, after the receive key was
 * re-installed (outside the timing). The machine is shared and noisy: the four operations
 * run as interleaved batches of 64 frames, so all see the same load, and each figure is
 * its fastest batch (the least disturbed measurement).
 *
 * Usage: bench_sframe [milliseconds per configuration, default 600] [min batches, 50]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clients/lib/crypto/provider.h"
#include "clients/lib/sframe/sframe.h"

#define BATCH 64

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static const uint8_t base_key[32] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
static const uint64_t kid = 0x2a; /* a typical MLS KID: 1 extended byte */

typedef struct job {
  sframe_suite_t suite;
  size_t size;
  uint8_t *pt, *ct[BATCH], *out;
  size_t ct_len[BATCH];
  sframe_ctx_t *tx, *rx;
  vc_aead_ctx_t *raw;     /* GCM */
  vc_aes_ctr_ctx_t *ctr;  /* CTR: the AES key schedule, done once */
  vc_hash_ctx_t *mac;     /* CTR: reused for both HMAC passes */
  uint8_t ipad[64], opad[64]; /* CTR: HMAC key ^ 0x36.. / ^ 0x5c.. (RFC 2104) */
  uint8_t raw_key[48];
} job_t;

static void die(const char *what, int rc) {
  fprintf(stderr, "bench_sframe: %s: %s\n", what, veil_strerror(rc));
  exit(1);
}

/* HMAC-SHA256 with the pads precomputed: H(opad || H(ipad || m)). */
static int raw_hmac(job_t *j, const uint8_t *m, size_t len, uint8_t mac[32]) {
  uint8_t inner[32];
  int rc = vc_hash_reset(j->mac);
  rc = rc ? rc : vc_hash_update(j->mac, j->ipad, sizeof j->ipad);
  rc = rc ? rc : vc_hash_update(j->mac, m, len);
  rc = rc ? rc : vc_hash_final(j->mac, inner);
  rc = rc ? rc : vc_hash_reset(j->mac);
  rc = rc ? rc : vc_hash_update(j->mac, j->opad, sizeof j->opad);
  rc = rc ? rc : vc_hash_update(j->mac, inner, sizeof inner);
  return rc ? rc : vc_hash_final(j->mac, mac);
}

/* The raw cipher on the same sizes: one nonce per call, as SFrame does. */
static int raw_seal(job_t *j, uint64_t n, uint8_t *out) {
  uint8_t nonce[12] = {0};
  memcpy(nonce + 4, &n, 8);
  if (j->raw)
    return vc_aead_ctx_seal(j->raw, nonce, NULL, 0, j->pt, j->size, out);
  uint8_t iv[16] = {0}, mac[32];
  memcpy(iv, nonce, 12);
  int rc = vc_aes_ctr_ctx_crypt(j->ctr, iv, j->pt, j->size, out);
  rc = rc ? rc : raw_hmac(j, out, j->size, mac);
  memcpy(out + j->size, mac, sframe_suite_nt(j->suite));
  return rc;
}

static int raw_open(job_t *j, uint64_t n, const uint8_t *ct, uint8_t *out) {
  uint8_t nonce[12] = {0};
  memcpy(nonce + 4, &n, 8);
  if (j->raw)
    return vc_aead_ctx_open(j->raw, nonce, NULL, 0, ct, j->size + 16, out);
  uint8_t iv[16] = {0}, mac[32];
  memcpy(iv, nonce, 12);
  int rc = raw_hmac(j, ct, j->size, mac);
  if (rc == 0 && !vc_ct_equal(mac, ct + j->size, sframe_suite_nt(j->suite)))
    rc = VEIL_EAUTH;
  return rc ? rc : vc_aes_ctr_ctx_crypt(j->ctr, iv, ct, j->size, out);
}

/* One timed batch of each of the four operations, interleaved so that all four see the
 * same machine load; the caller keeps the fastest batch of each. Returns seconds in t[]:
 * SFrame encrypt, raw seal, SFrame decrypt, raw open. */
static void one_round(job_t *j, double t[4]) {
  size_t len;
  int rc;
  double t0 = now();
  for (int i = 0; i < BATCH; i++)
    if ((rc = sframe_ctx_encrypt(j->tx, kid, NULL, 0, j->pt, j->size, j->ct[i],
                                 j->size + SFRAME_OVERHEAD_MAX, &j->ct_len[i])))
      die("encrypt", rc);
  t[0] = now() - t0;
  /* Untimed: a fresh receive key, so the replay window accepts this batch's CTRs. */
  sframe_ctx_remove_key(j->rx, kid);
  if ((rc = sframe_ctx_add_key(j->rx, kid, SFRAME_KEY_RECV, base_key, 16)))
    die("add_key", rc);
  t0 = now();
  for (int i = 0; i < BATCH; i++)
    if ((rc = sframe_ctx_decrypt(j->rx, NULL, 0, j->ct[i], j->ct_len[i], j->out, j->size, &len,
                                 NULL)))
      die("decrypt", rc);
  t[2] = now() - t0;
  t0 = now();
  for (int i = 0; i < BATCH; i++)
    if ((rc = raw_seal(j, (uint64_t)i, j->ct[i])))
      die("raw seal", rc);
  t[1] = now() - t0;
  t0 = now();
  for (int i = 0; i < BATCH; i++)
    if ((rc = raw_open(j, (uint64_t)i, j->ct[i], j->out)))
      die("raw open", rc);
  t[3] = now() - t0;
}

static double mind(double a, double b) { return a < b ? a : b; }

int main(int argc, char **argv) {
  double budget = (argc > 1 ? atof(argv[1]) : 600) / 1000.0;
  int min_rounds = argc > 2 ? atoi(argv[2]) : 50;
  if (budget <= 0 || min_rounds <= 0)
    return 2;
  static const sframe_suite_t suites[] = {
      SFRAME_AES_128_CTR_HMAC_SHA256_80, SFRAME_AES_128_CTR_HMAC_SHA256_64,
      SFRAME_AES_128_CTR_HMAC_SHA256_32, SFRAME_AES_128_GCM_SHA256_128,
      SFRAME_AES_256_GCM_SHA512_128};
  static const size_t sizes[] = {160, 1200, 50 * 1024};
  int target_met = 1;
  printf("{\n  \"benchmark\": \"sframe\",\n  \"backend\": \"%s\",\n", vc_backend_name());
  printf("  \"unit\": \"MB/s of plaintext (1e6 bytes), fastest batch of %d frames\",\n"
         "  \"ms_per_config\": %.0f,\n  \"min_batches\": %d,\n  \"results\": [\n",
         BATCH, budget * 1000, min_rounds);
  int first = 1;
  for (size_t si = 0; si < sizeof suites / sizeof suites[0]; si++) {
    for (size_t zi = 0; zi < sizeof sizes / sizeof sizes[0]; zi++) {
      job_t j = {.suite = suites[si], .size = sizes[zi]};
      sframe_ctx_config_t cfg = {.suite = j.suite};
      int rc = sframe_ctx_new(&j.tx, &cfg);
      rc = rc ? rc : sframe_ctx_new(&j.rx, &cfg);
      rc = rc ? rc : sframe_ctx_add_key(j.tx, kid, SFRAME_KEY_SEND, base_key, 16);
      if (rc)
        die("setup", rc);
      j.pt = malloc(j.size);
      j.out = malloc(j.size);
      for (int i = 0; i < BATCH; i++)
        j.ct[i] = malloc(j.size + SFRAME_OVERHEAD_MAX);
      memset(j.pt, 0x5a, j.size);
      for (size_t i = 0; i < sizeof j.raw_key; i++)
        j.raw_key[i] = (uint8_t)(i + 1);
      if (j.suite == SFRAME_AES_128_GCM_SHA256_128 || j.suite == SFRAME_AES_256_GCM_SHA512_128) {
        j.raw = vc_aead_new(j.suite == SFRAME_AES_128_GCM_SHA256_128 ? VC_AES_128_GCM
                                                                      : VC_AES_256_GCM,
                            j.raw_key);
        if (!j.raw)
          die("raw aead", VEIL_ECRYPTO);
      } else {
        /* §4.5.1: enc_key = key[..16], auth_key = key[16..48] (32 bytes, zero-padded). */
        j.ctr = vc_aes_ctr_new(j.raw_key, 16);
        j.mac = vc_hash_new(VC_SHA256);
        if (!j.ctr || !j.mac)
          die("raw ctr/hmac", VEIL_ECRYPTO);
        memset(j.ipad, 0x36, sizeof j.ipad);
        memset(j.opad, 0x5c, sizeof j.opad);
        for (size_t i = 0; i < 32; i++) {
          j.ipad[i] ^= j.raw_key[16 + i];
          j.opad[i] ^= j.raw_key[16 + i];
        }
      }
      double best[4] = {1e9, 1e9, 1e9, 1e9}, t[4], start = now();
      int rounds_done = 0;
      while (rounds_done < min_rounds || now() - start < budget) {
        one_round(&j, t);
        for (int k = 0; k < 4; k++)
          best[k] = mind(best[k], t[k]);
        rounds_done++;
      }
      double mb = (double)BATCH * (double)j.size / 1e6;
      double enc = mb / best[0], rseal = mb / best[1], dec = mb / best[2], ropen = mb / best[3];
      double er = enc / rseal, dr = dec / ropen;
      if (j.raw && j.size == 1200 && (er < 0.85 || dr < 0.85))
        target_met = 0;
      printf("%s    {\"suite\": \"%s\", \"frame_bytes\": %zu, \"encrypt_mbps\": %.1f, "
             "\"raw_seal_mbps\": %.1f, \"encrypt_ratio\": %.3f, \"decrypt_mbps\": %.1f, "
             "\"raw_open_mbps\": %.1f, \"decrypt_ratio\": %.3f}",
             first ? "" : ",\n", sframe_suite_name(j.suite), j.size, enc, rseal, er, dec,
             ropen, dr);
      first = 0;
      fflush(stdout);
      vc_aead_free(j.raw);
      vc_aes_ctr_free(j.ctr);
      vc_hash_free(j.mac);
      for (int i = 0; i < BATCH; i++)
        free(j.ct[i]);
      free(j.pt);
      free(j.out);
      sframe_ctx_free(j.tx);
      sframe_ctx_free(j.rx);
    }
  }
  printf("\n  ],\n  \"target\": {\"what\": \"AES-GCM suites, 1200-byte frames: SFrame >= 0.85 x "
         "raw AEAD (encrypt and decrypt)\", \"met\": %s}\n}\n",
         target_met ? "true" : "false");
  return 0;
}
