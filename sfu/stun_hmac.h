/*
 * veil sfu — internal: the HMAC used by STUN integrity (stun.c, stun_encode.c).
 * Not part of the public API.
 */
#ifndef VEIL_SFU_STUN_HMAC_H
#define VEIL_SFU_STUN_HMAC_H

#include <stddef.h>
#include <stdint.h>

/* HMAC-SHA1 (`sha256` = 0) or HMAC-SHA256 over a || b into out (exactly the digest
 * size: 20 or 32). 0 or VEIL_ECRYPTO. */
int sfu_stun_hmac(int sha256, const uint8_t *key, size_t key_len, const uint8_t *a,
                  size_t a_len, const uint8_t *b, size_t b_len, uint8_t *out, size_t out_len);

#endif
