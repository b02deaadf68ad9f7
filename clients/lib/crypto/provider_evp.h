/*
 * veil — the seam between provider_evp.c and the two backends (internal; not part of
 * provider.h, and included only by provider_evp.c, provider_openssl.c and
 * provider_boringssl.c).
 *
 * OpenSSL 3 and BoringSSL share most of the classic EVP_* / EC_* / BN_* calls, so the code
 * that only uses those lives once in provider_evp.c, compiled into both backend libraries
 * against each one's own headers. What truly differs (how digests and the P-256 group are
 * obtained, HMAC and HKDF, AEAD and AES-CTR contexts, X25519 / Ed25519, ECDSA signing) is a
 * vcb_* hook that each backend file defines. The hooks take the provider's own argument
 * conventions (provider.h): they return 0 or a negative VEIL_E* code.
 */
#ifndef VEIL_CLIENTS_CRYPTO_PROVIDER_EVP_H
#define VEIL_CLIENTS_CRYPTO_PROVIDER_EVP_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>

#include "clients/lib/crypto/provider.h"

/* ---- defined by provider_openssl.c or provider_boringssl.c ------------------------- */

/* 0 when the backend's process-wide state is usable, VEIL_ECRYPTO when it is not (OpenSSL
 * fetches its algorithms once; BoringSSL's are static and it always returns 0). */
int vcb_init(void);

/* The digest for h: 0, VEIL_EINVAL for an unknown hash, VEIL_ECRYPTO when the backend is
 * unusable. *md is borrowed for the life of the process. One call on the hot path: it
 * includes vcb_init's check. */
int vcb_md(vc_hash_t h, const EVP_MD **md);

/* The P-256 group, borrowed for the life of the process. Valid once vcb_init returned 0. */
const EC_GROUP *vcb_p256(void);

/* A BIGNUM for a secret big-endian integer (a private scalar): the backend puts it where
 * its secret BIGNUMs belong (OpenSSL: the secure heap, constant-time flag). Free it with
 * BN_clear_free. 0, VEIL_ENOMEM or VEIL_ECRYPTO. */
int vcb_bn_secret(const uint8_t *be, size_t len, BIGNUM **out);

/* RFC 5869 steps with arguments already checked by provider_evp.c: h is known, salt is
 * not empty, 0 < out_len <= 255 * HashLen, prk_len > 0. extract writes prk_len bytes
 * (HashLen). The other inputs may be empty. */
int vcb_hkdf_extract(vc_hash_t h, const uint8_t *salt, size_t salt_len, const uint8_t *ikm,
                     size_t ikm_len, uint8_t *prk, size_t prk_len);
int vcb_hkdf_expand(vc_hash_t h, const uint8_t *prk, size_t prk_len, const uint8_t *info,
                    size_t info_len, uint8_t *out, size_t out_len);

/* X25519 (RFC 7748): any 32 bytes are a private key. vcb_x25519 returns VEIL_EBADKEY for
 * an all-zero result (a low-order peer, §6.1) and then leaves `shared` wiped. */
int vcb_x25519_public(const uint8_t priv[32], uint8_t pub[32]);
int vcb_x25519(const uint8_t priv[32], const uint8_t peer[32], uint8_t shared[32]);

/* Ed25519 (RFC 8032) from the 32-byte seed; verify returns 0 or VEIL_EVERIFY. */
int vcb_ed25519_public(const uint8_t seed[32], uint8_t pub[32]);
int vcb_ed25519_verify(const uint8_t pub[32], const uint8_t *msg, size_t msg_len,
                       const uint8_t *sig, size_t sig_len);

/* ---- defined by provider_evp.c, for the backends' own P-256 code ------------------- */

/* Scalar from 32 big-endian bytes (a vcb_bn_secret); VEIL_EBADKEY unless 0 < d < n
 * (SEC1 §3.2.1). */
int vc_evp_p256_scalar(const EC_GROUP *grp, const uint8_t priv[32], BIGNUM **out);
/* A peer point from its 65-byte uncompressed SEC1 encoding, checked to be on the curve and
 * not the identity; VEIL_EBADKEY otherwise. */
int vc_evp_p256_point(const EC_GROUP *grp, const uint8_t *pub, size_t len, EC_POINT **out);
/* The uncompressed public point d·G of a private scalar. */
int vc_evp_p256_public(const EC_GROUP *grp, const uint8_t priv[32], uint8_t pub[65]);

#endif
