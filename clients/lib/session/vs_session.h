/*
 * veil client session — one participant of a veil meeting: signaling (veil.v1 over
 * WebSocket), media transport (ICE/DTLS/SRTP to the SFU), MLS membership through the
 * relay, SFrame keys per epoch (RFC 9605 §5.2, with the MLS exporter), synthetic media
 * published and verified, E2EE chat, roster with verification status and the security
 * code.
 *
 * Everything runs on the caller's libuv loop. What happens is reported as events,
 * JSON objects (borrowed during the callback) with a "event" member:
 *   joined, transport, epoch, roster, security_code, first_frame, rekey, chat, removed,
 *   left, error, closed, and around a lost signaling connection reconnecting, resumed,
 *   rejoined, signaling_closed (docs/veil-client.md "Reconnecting": the session
 *   reconnects with backoff and resumes its participant, or joins fresh when refused).
 * vs_session_stats() gives the per-sender media statistics.
 *
 * Ownership: the session owns its WebSocket, transport, membership, SFrame state,
 * senders and receivers; the identity and trust store are borrowed for its lifetime.
 * vs_session_close(s) closes the handles; once the loop ran, vs_session_free(s).
 */
#ifndef VEIL_CLIENTS_SESSION_VS_SESSION_H
#define VEIL_CLIENTS_SESSION_VS_SESSION_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "clients/lib/identity/x509.h"
#include "clients/lib/session/vs_identity.h"
#include "clients/lib/session/vs_media.h"

typedef struct vs_session vs_session_t;

typedef struct vs_session_config {
  uv_loop_t *loop;               /* borrowed */
  const char *url;               /* ws(s)://host:port/ */
  const char *pin_sha256;        /* wss: server certificate pin (hex SHA-256) */
  const char *ca_file;           /* wss: or a CA file */
  const char *token;             /* join token (JWT) */
  const char *room;
  const char *display_name;      /* NULL: the token's */
  vs_identity_t *identity;       /* borrowed */
  const x509_trust_t *trust;     /* borrowed; NULL: nothing is verified */
  int publish_audio, publish_video;
  int tamper;                    /* test-only: corrupt our SFrame ciphertexts */
  /* test-only: as leader, drop the relay's batches unanswered, so that its commit deadline
   * fails us over (tests/integration/relay) */
  int test_ignore_batches;
  /* Every event (borrowed JSON object). */
  void (*on_event)(void *arg, json_t *ev);
  /* Media hooks (all optional; arg below). frame_source makes the frames we publish instead
   * of the synthetic pattern (vs_media.h), video_fps its video rate (0: 15). frame_check
   * replaces the pattern check of every decrypted frame; on_frame sees every decrypted
   * frame after the check, with its send time (exact per-frame latency). participant_id
   * is the track's publisher ("" for a tap source). */
  vs_frame_source_cb frame_source;
  uint32_t video_fps;
  int (*frame_check)(void *arg, const char *participant_id, const vs_frame_t *f, uint64_t *sent_us);
  void (*on_frame)(void *arg, const char *participant_id, const vs_frame_t *f);
  /* Vets the server's media candidate before the transport dials it (optional; arg
   * below): 1 allows ip:port. A refused candidate is never contacted: the session emits
   * an error ("candidate") and stays without media. veil-load allows only the URL's host. */
  int (*allow_candidate)(void *arg, const char *ip, uint16_t port);
  /* Every RTP packet received from the SFU after SRTP (test taps). */
  void (*on_rtp_copy)(void *arg, const uint8_t *pkt, size_t len);
  /* Every MLS application message (the MLSMessage, a PrivateMessage) received from the
   * relay, as it came and before we try it (test taps). */
  void (*on_mls_copy)(void *arg, const uint8_t *msg, size_t len);
  void *arg;
} vs_session_config_t;

int vs_session_new(const vs_session_config_t *cfg, vs_session_t **out);
int vs_session_start(vs_session_t *s);
/* E2EE chat to the group (MLS application message). */
int vs_session_chat(vs_session_t *s, const char *text);
/* Leaves the meeting (signaling and transport) but keeps the MLS state and receivers, so
 * that packets fed through vs_session_tap_packet and messages through vs_session_tap_mls
 * show what a departed member can still decrypt. */
void vs_session_leave(vs_session_t *s);
/* One RTP packet (already without SRTP) from a tap, taken only after vs_session_leave:
 * routed to a tap receiver of its SSRC (created on first sight; kind from the payload
 * type; frames from any member's leaf accepted). */
void vs_session_tap_packet(vs_session_t *s, const uint8_t *pkt, size_t len);
/* One MLS application message from a tap, taken only after vs_session_leave: tried
 * against the MLS state we kept, never reported as chat; counted in the stats' tap_chat
 * ({fed, decrypted, refused, wrong_epoch, unknown_key, not_application, other,
 * last_error, min_epoch, max_epoch}: the epochs named by the fed messages' headers). */
void vs_session_tap_mls(vs_session_t *s, const uint8_t *msg, size_t len);
json_t *vs_session_stats(vs_session_t *s);   /* new reference */
json_t *vs_session_roster(vs_session_t *s);  /* new reference */
const char *vs_session_security_code(const vs_session_t *s); /* "" before the group */
int vs_session_is_member(const vs_session_t *s);
/* Test only: switches vs_session_config_t.test_ignore_batches at run time. */
void vs_session_set_test_ignore_batches(vs_session_t *s, int on);
/* Closes every handle (run the loop afterwards until it ends), then free. */
void vs_session_close(vs_session_t *s);
void vs_session_free(vs_session_t *s);

#endif
