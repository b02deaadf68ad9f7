/*
 * veil client session — the media transport of one participant: one UDP socket to the
 * SFU's candidate, ICE as the controlling agent against an ICE-lite server (RFC 8445
 * §2.5), DTLS client (sfu/dtls.h, the same code the SFU runs as server) and SRTP
 * (sfu/srtp.h) keyed from it (RFC 5764).
 *
 * ICE: Binding requests carry USERNAME "<server ufrag>:<our ufrag>", PRIORITY,
 * ICE-CONTROLLING, USE-CANDIDATE (aggressive nomination: we have one pair), MESSAGE-INTEGRITY
 * under the server's password and FINGERPRINT (RFC 8445 §7.2.2). They are retransmitted
 * every 100 ms (doubling, capped at 1.6 s) until a success response with a valid
 * MESSAGE-INTEGRITY and our transaction id arrives, for at most 10 s. Afterwards one check
 * every 2 s refreshes consent (RFC 7675 §5.1); 15 s without a response fails the transport.
 *
 * Inbound demux by first byte (RFC 7983). Inbound SRTP from anything but the server's
 * address is ignored. RTP is handed on after SRTP unprotect; SRTCP is unprotected and
 * counted (the client answers no feedback: the synthetic media has no keyframes to
 * produce on request).
 *
 * Ownership: the transport owns its socket, timer, DTLS and SRTP state; freed after the
 * uv close callbacks ran (vs_transport_close(t, cb)).
 */
#ifndef VEIL_CLIENTS_SESSION_VS_TRANSPORT_H
#define VEIL_CLIENTS_SESSION_VS_TRANSPORT_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

typedef struct vs_transport vs_transport_t;

typedef enum vs_transport_state {
  VS_TRANSPORT_NEW = 0,
  VS_TRANSPORT_CHECKING = 1,    /* ICE checks in flight */
  VS_TRANSPORT_DTLS = 2,        /* nominated; DTLS handshake running */
  VS_TRANSPORT_CONNECTED = 3,   /* SRTP keys installed */
  VS_TRANSPORT_FAILED = 4,
  VS_TRANSPORT_CLOSED = 5,
} vs_transport_state_t;

typedef struct vs_transport_callbacks {
  void (*on_state)(void *arg, vs_transport_state_t st, int err);
  /* A received RTP packet after SRTP unprotect (buffer valid during the call). */
  void (*on_rtp)(void *arg, uint8_t *pkt, size_t len);
  void *arg;
} vs_transport_callbacks_t;

typedef struct vs_remote {
  const char *ip;          /* the server's host candidate */
  uint16_t port;
  const char *ice_ufrag;
  const char *ice_pwd;
  const char *fingerprint; /* sha-256, "AB:CD:.." */
} vs_remote_t;

typedef struct vs_transport_stats {
  uint64_t rtp_in, rtp_out, rtcp_in, srtp_errors, stun_checks, stun_responses;
} vs_transport_stats_t;

int vs_transport_new(uv_loop_t *loop, const vs_transport_callbacks_t *cb, vs_transport_t **out);
/* Our side's parameters for transport_connect (borrowed, valid for the transport's life). */
const char *vs_transport_ufrag(const vs_transport_t *t);
const char *vs_transport_pwd(const vs_transport_t *t);
const char *vs_transport_fingerprint(const vs_transport_t *t);
/* Starts ICE towards `r` (strings copied). */
int vs_transport_start(vs_transport_t *t, const vs_remote_t *r);
vs_transport_state_t vs_transport_state(const vs_transport_t *t);
/* Protects (in place: cap must leave SFU_SRTP_MAX_OVERHEAD bytes) and sends one RTP
 * packet. VEIL_ESTATE before CONNECTED. */
int vs_transport_send_rtp(vs_transport_t *t, uint8_t *pkt, size_t len, size_t cap);
void vs_transport_get_stats(const vs_transport_t *t, vs_transport_stats_t *out);
/* Sends a DTLS close_notify, closes the handles; cb runs once freed. */
void vs_transport_close(vs_transport_t *t, void (*cb)(void *), void *arg);

#endif
