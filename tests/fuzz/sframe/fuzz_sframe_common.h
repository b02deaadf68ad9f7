/*
 * Shared by the SFrame fuzz targets and their seed generator (make_seeds.c): the fixed
 * keys, KIDs and configurations, so that seeds made from real frames authenticate in the
 * targets and the fuzzer starts from inputs that reach the success paths.
 */
#ifndef VEIL_TESTS_FUZZ_SFRAME_COMMON_H
#define VEIL_TESTS_FUZZ_SFRAME_COMMON_H

#include <stdint.h>

#include "clients/lib/sframe/sframe.h"

#define TRAP() __builtin_trap()

static const sframe_suite_t fz_suites[5] = {
    SFRAME_AES_128_CTR_HMAC_SHA256_80, SFRAME_AES_128_CTR_HMAC_SHA256_64,
    SFRAME_AES_128_CTR_HMAC_SHA256_32, SFRAME_AES_128_GCM_SHA256_128,
    SFRAME_AES_256_GCM_SHA512_128};
static const uint8_t fz_base_key[16] = {0x66, 0x75, 0x7a, 0x7a, 1, 2, 3, 4,
                                        5,    6,    7,    8,    9, 10, 11, 12};
static const uint64_t fz_kids[3] = {3, 0x123, UINT64_C(0xfedcba9876543210)};
static const uint8_t fz_meta[4] = {0xbe, 0xde, 0x00, 0x01};
#define FZ_MLS_EPOCH 5
#define FZ_MLS_LEAVES 4

/* A context of suite fz_suites[idx % 5] holding fz_kids with the given usage. */
static inline sframe_ctx_t *fz_ctx(unsigned idx, sframe_key_usage_t usage) {
  sframe_ctx_config_t cfg = {.suite = fz_suites[idx % 5], .replay_window = 64};
  sframe_ctx_t *c = NULL;
  if (sframe_ctx_new(&c, &cfg))
    TRAP();
  for (int i = 0; i < 3; i++)
    if (sframe_ctx_add_key(c, fz_kids[i], usage, fz_base_key, sizeof fz_base_key))
      TRAP();
  return c;
}

/* An MLS member `own` of a FZ_MLS_LEAVES-leaf group at epoch FZ_MLS_EPOCH. */
static inline sframe_mls_t *fz_mls(unsigned idx, uint32_t own) {
  sframe_mls_config_t cfg = {.suite = fz_suites[idx % 5]};
  sframe_mls_t *m = NULL;
  uint8_t secret[48];
  for (int i = 0; i < 48; i++)
    secret[i] = (uint8_t)(0xa0 + i);
  if (sframe_mls_new(&m, &cfg) ||
      sframe_mls_add_epoch(m, FZ_MLS_EPOCH, secret, sframe_mls_exporter_len(m), FZ_MLS_LEAVES,
                           own))
    TRAP();
  return m;
}

#endif
