/*
 * sfu/srtp_gcm — an AES-128-GCM cipher type for libsrtp2's crypto kernel, on OpenSSL EVP.
 *
 * Why: Debian's libsrtp2 is built on NSS, whose softoken looks up the key of every
 * PK11_Encrypt in tables that grow with the number of live keys; on a worker with a few
 * hundred participants that lookup dominated the forwarding cost (see srtp.h). libsrtp
 * lets an application replace a cipher type by id (srtp_replace_cipher_type, cipher.h);
 * libsrtp keeps doing everything SRTP (packet formats, RFC 7714 IV and AAD construction,
 * replay lists, key derivation); only the AES-GCM primitive moves to OpenSSL, which the
 * SFU links anyway for DTLS. AES-CM and HMAC-SHA1 (the SRTP_AES128_CM_SHA1_80 profile and
 * the KDF) stay on libsrtp's own backend.
 *
 * The semantics follow libsrtp's cipher contract: set_iv (direction), set_aad (may be
 * called more than once: SRTCP adds the E||index word), encrypt in place then get_tag, or
 * decrypt in place over payload||tag, verifying the tag and shortening the length.
 */
#ifndef VEIL_SFU_SRTP_GCM_H
#define VEIL_SFU_SRTP_GCM_H

/* Registers the cipher type for SRTP_AES_GCM_128 (after srtp_init). libsrtp runs its
 * self-test on the replacement before accepting it. 0, or VEIL_ESFU_SRTP (the NSS
 * implementation then stays in place). */
int sfu_srtp_gcm_install(void);

#endif
