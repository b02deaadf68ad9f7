/*
 * sfu/srtp — libsrtp2 session wrapper (RFC 3711, RFC 7714), in-place protect/unprotect.
 *
 * One sfu_srtp_t is one direction of one DTLS-SRTP association: each participant's
 * transport holds an inbound session (keys the peer writes with: every SSRC it sends is
 * accepted through libsrtp's ssrc_any_inbound template) and an outbound session (keys the
 * SFU writes with, ssrc_any_outbound: every subscription's rewritten SSRC shares it).
 * Replay protection is on for inbound RTP and RTCP (RFC 3711 §3.3.2), window 1024 packets
 * so that video bursts reordered by the network are still accepted.
 *
 * Profiles are the DTLS-SRTP protection profiles of RFC 5764 §4.1.2 / RFC 7714 §14.2,
 * numbered as IANA lists them. Key and salt lengths follow the profile (RFC 7714 §12: the
 * AEAD_AES_128_GCM master salt is 96 bits; RFC 3711: 112 bits for AES-CM).
 *
 * Crypto backend: Debian's libsrtp2 is built on NSS, whose softoken resolves the key of
 * every PK11_Encrypt through tables that grow with the number of live keys (measured with
 * tests/bench/sfu: at 50 subscribers, 150 extra idle sessions raised the SFU's CPU per
 * forwarded packet from ~3.3 to ~5.4 us). So AES-GCM, the profile we prefer, is swapped
 * for an OpenSSL EVP implementation inside libsrtp's crypto kernel (sfu/srtp_gcm.h):
 * ~2.3 us per packet, flat in the number of sessions. AES-CM/HMAC-SHA1 stay on NSS.
 *
 * libsrtp keeps a global crypto kernel: sfu_srtp_global_init() initialises it once per
 * process (pthread_once), every constructor calls it, so callers need not.
 */
#ifndef VEIL_SFU_SRTP_H
#define VEIL_SFU_SRTP_H

#include <stddef.h>
#include <stdint.h>

typedef enum sfu_srtp_profile {
  SFU_SRTP_AES128_CM_SHA1_80 = 0x0001, /* RFC 5764 §4.1.2 */
  SFU_SRTP_AEAD_AES_128_GCM = 0x0007,  /* RFC 7714 §14.2 */
} sfu_srtp_profile_t;

typedef enum sfu_srtp_dir {
  SFU_SRTP_INBOUND = 0,  /* unprotect only */
  SFU_SRTP_OUTBOUND = 1, /* protect only */
} sfu_srtp_dir_t;

/* Bytes protect may append: the largest tag plus the SRTCP E||index word. A caller's
 * buffer must have this much room after the packet (SFU_PKT_CAP leaves plenty). */
#define SFU_SRTP_MAX_OVERHEAD 148

#define SFU_SRTP_MAX_KEY 16
#define SFU_SRTP_MAX_SALT 14

typedef struct sfu_srtp sfu_srtp_t;

int sfu_srtp_global_init(void);
/* 1 when AES-GCM runs on OpenSSL (sfu/srtp_gcm), 0 when on libsrtp's own backend
 * (VEIL_SRTP_NATIVE_GCM=1 in the environment, or the adapter failed libsrtp's self-test). */
int sfu_srtp_gcm_is_openssl(void);
/* Master key / salt lengths of a profile; 0 for an unknown profile. */
size_t sfu_srtp_key_len(sfu_srtp_profile_t profile);
size_t sfu_srtp_salt_len(sfu_srtp_profile_t profile);
/* "SRTP_AEAD_AES_128_GCM" style names (as OpenSSL and SDP use them), or NULL. */
const char *sfu_srtp_profile_name(sfu_srtp_profile_t profile);

/* Creates a session from a master key and salt (copied; the caller wipes its copy).
 * key/salt lengths must equal the profile's. */
int sfu_srtp_new(sfu_srtp_profile_t profile, sfu_srtp_dir_t dir, const uint8_t *key,
                 size_t key_len, const uint8_t *salt, size_t salt_len, sfu_srtp_t **out);
void sfu_srtp_free(sfu_srtp_t *s);

/* In place. `*len` is the packet length in and out; `cap` the buffer size, which must be
 * at least *len + SFU_SRTP_MAX_OVERHEAD for protect. Errors: VEIL_EINVAL (wrong direction
 * or sizes), VEIL_ESFU_SRTP_AUTH, VEIL_ESFU_SRTP_REPLAY, VEIL_ESFU_SRTP. */
int sfu_srtp_protect_rtp(sfu_srtp_t *s, uint8_t *buf, size_t *len, size_t cap);
int sfu_srtp_unprotect_rtp(sfu_srtp_t *s, uint8_t *buf, size_t *len);
int sfu_srtp_protect_rtcp(sfu_srtp_t *s, uint8_t *buf, size_t *len, size_t cap);
int sfu_srtp_unprotect_rtcp(sfu_srtp_t *s, uint8_t *buf, size_t *len);

#endif
