/*
 * sfu/dtls — DTLS 1.2 (RFC 6347) with the DTLS-SRTP extension (RFC 5764), sans-I/O.
 *
 * OpenSSL runs over two memory BIOs: datagrams from the network are fed in with
 * sfu_dtls_handle_datagram, datagrams to send are popped with sfu_dtls_pop_datagram, and
 * the caller arms one timer at sfu_dtls_next_timeout. No socket and no loop here: the
 * transport shell (sfu/transport) does the I/O, which also makes the handshake testable
 * by wiring two sfu_dtls_t back to back (tests/unit/sfu/test_dtls.c).
 *
 * Authentication is by certificate fingerprint, not by a PKI (RFC 5763 §5, RFC 8122 §5):
 * each side generates a self-signed ECDSA P-256 certificate, publishes its SHA-256
 * fingerprint through signaling, and checks the peer's certificate against the signaled
 * value (constant-time) inside the handshake, so a mismatch aborts it with an alert before
 * any key is exported.
 *
 * No HelloVerifyRequest cookie exchange (RFC 6347 §4.2.1): its purpose is return
 * routability against spoofed sources, and the SFU only feeds DTLS datagrams from the one
 * address that passed an ICE check authenticated with MESSAGE-INTEGRITY (RFC 8445 §7.3),
 * which already proves it; a cookie would cost a round trip for nothing.
 *
 * Clock: `now_ms` is injected for the handshake deadline (VEIL_ESFU_DTLS_TIMEOUT). OpenSSL's
 * retransmission timer still reads the system clock internally (DTLSv1_get_timeout); we
 * only translate its remaining time onto the injected clock.
 */
#ifndef VEIL_SFU_DTLS_H
#define VEIL_SFU_DTLS_H

#include <stddef.h>
#include <stdint.h>

#include "sfu/srtp.h"

/* "AB:CD:..." — 32 bytes as uppercase hex pairs joined by colons, plus NUL. */
#define SFU_DTLS_FINGERPRINT_LEN (32 * 3)

/* A certificate, its key and the OpenSSL context every association of a worker shares.
 * Created once at start; must outlive nothing (each SSL holds its own reference). */
typedef struct sfu_dtls_ctx sfu_dtls_ctx_t;

/* Generates a fresh P-256 key and a self-signed certificate valid for 30 days. */
int sfu_dtls_ctx_new(sfu_dtls_ctx_t **out);
void sfu_dtls_ctx_free(sfu_dtls_ctx_t *ctx);
/* The local certificate's SHA-256 fingerprint (algorithm "sha-256"), borrowed. */
const char *sfu_dtls_ctx_fingerprint(const sfu_dtls_ctx_t *ctx);

typedef enum sfu_dtls_role {
  SFU_DTLS_ROLE_SERVER = 0, /* SDP a=setup:passive — waits for ClientHello */
  SFU_DTLS_ROLE_CLIENT = 1, /* SDP a=setup:active — sends ClientHello at start */
} sfu_dtls_role_t;

/* One state machine enum (STYLE 8), named for what is expected next. */
typedef enum sfu_dtls_state {
  SFU_DTLS_NEW = 0,         /* created, sfu_dtls_start not yet called */
  SFU_DTLS_HANDSHAKING = 1, /* expecting handshake flights */
  SFU_DTLS_CONNECTED = 2,   /* keys exported; expecting alerts / close_notify only */
  SFU_DTLS_FAILED = 3,      /* terminal: see sfu_dtls_error */
  SFU_DTLS_CLOSED = 4,      /* terminal: close_notify received or sent */
} sfu_dtls_state_t;

typedef struct sfu_dtls_config {
  sfu_dtls_role_t role;
  uint32_t handshake_timeout_ms; /* 0: 30000 */
  uint16_t mtu;                  /* datagram size limit; 0: 1200 */
  /* OpenSSL-style list of offered/accepted DTLS-SRTP profiles, preferred first. NULL:
   * "SRTP_AEAD_AES_128_GCM:SRTP_AES128_CM_SHA1_80" (the server picks by its own order). */
  const char *srtp_profiles;
} sfu_dtls_config_t;

/* Keys exported per RFC 5764 §4.2, already split by direction for this side. */
typedef struct sfu_dtls_srtp_keys {
  sfu_srtp_profile_t profile;
  uint8_t local_key[SFU_SRTP_MAX_KEY]; /* protect with these (our write keys) */
  uint8_t local_salt[SFU_SRTP_MAX_SALT];
  uint8_t remote_key[SFU_SRTP_MAX_KEY]; /* unprotect with these (peer's write keys) */
  uint8_t remote_salt[SFU_SRTP_MAX_SALT];
  size_t key_len, salt_len;
} sfu_dtls_srtp_keys_t;

typedef struct sfu_dtls sfu_dtls_t;

/* `ctx` is borrowed for the call (the association keeps its own reference). */
int sfu_dtls_new(sfu_dtls_ctx_t *ctx, const sfu_dtls_config_t *cfg, sfu_dtls_t **out);
void sfu_dtls_free(sfu_dtls_t *d);

/* The peer's signaled fingerprint: algorithm must be "sha-256" (case-insensitive), value
 * 32 hex pairs separated by colons (RFC 8122 §5). Must be set before the peer's
 * Certificate arrives, or the handshake fails. */
int sfu_dtls_set_remote_fingerprint(sfu_dtls_t *d, const char *algorithm, const char *value);

/* Starts the handshake clock (and, as client, queues the ClientHello). */
int sfu_dtls_start(sfu_dtls_t *d, uint64_t now_ms);
/* Feeds one received datagram (first byte 20..63, RFC 7983). Returns 0 or the error that
 * failed the association; state changes are read with sfu_dtls_state. */
int sfu_dtls_handle_datagram(sfu_dtls_t *d, const uint8_t *data, size_t len, uint64_t now_ms);
/* Moves the next outgoing datagram into buf. Returns its length, 0 when none is queued,
 * or VEIL_EOVERFLOW when cap is too small (the datagram stays queued). */
long sfu_dtls_pop_datagram(sfu_dtls_t *d, uint8_t *buf, size_t cap);
/* Absolute time (same clock as now_ms) at which sfu_dtls_handle_timeout must be called,
 * or UINT64_MAX when no timer is needed. */
uint64_t sfu_dtls_next_timeout(const sfu_dtls_t *d, uint64_t now_ms);
/* Retransmits a flight if OpenSSL's timer expired; fails the association past the
 * handshake deadline. */
int sfu_dtls_handle_timeout(sfu_dtls_t *d, uint64_t now_ms);
/* Queues a close_notify alert and moves to CLOSED. */
void sfu_dtls_close(sfu_dtls_t *d);

sfu_dtls_state_t sfu_dtls_state(const sfu_dtls_t *d);
/* The error that moved the association to FAILED (0 otherwise). */
int sfu_dtls_error(const sfu_dtls_t *d);
/* Once CONNECTED: the negotiated profile and keys. The caller wipes `keys` after use. */
int sfu_dtls_srtp_keys(const sfu_dtls_t *d, sfu_dtls_srtp_keys_t *keys);

#endif
