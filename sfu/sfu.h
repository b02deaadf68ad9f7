/*
 * sfu/sfu.h — THE media-plane API that signaling (and server/) calls.
 *
 * Object model (DESIGN.md, after mediasoup's Router/Transport/Producer/Consumer):
 *
 *   sfu_worker_t       one libuv loop, one UDP socket (ICE-lite host candidate), one DTLS
 *                      certificate, one packet pool. Owns its rooms.
 *   sfu_room_t         one meeting. Owns its participants. Touched only from its loop.
 *   sfu_participant_t  one joined client: one ICE-lite 5-tuple (BUNDLE + rtcp-mux), one
 *                      DTLS association (SFU is the DTLS server), SRTP in/out sessions.
 *                      Owns its published tracks and its subscriptions.
 *   sfu_track_t        a published media source (one SSRC, optional RTX SSRC).
 *   sfu_subscription_t one track delivered to one participant, with its own SSRC and
 *                      continuous sequence numbers/timestamps (rewritten per packet).
 *
 * Threading: every function must be called on the worker's loop thread. Nothing locks.
 * Run one worker per loop/thread, each on its own port (a room lives on one worker).
 *
 * Lifecycle (libuv style): sfu_worker_init → sfu_worker_start → sfu_worker_close(cb). Memory
 * is freed in close callbacks: after sfu_worker_close, the worker and everything it owns are
 * freed before `cb` runs; the loop must keep running until then. Closing a room closes its
 * participants; closing a participant unpublishes its tracks (which removes their
 * subscriptions, emitting nothing to the subscribers — signaling tells them) and removes
 * its subscriptions. After a close call the handle is invalid for the caller, except that
 * the participant listener's `on_closed` runs once, when its memory is about to be freed.
 *
 * Errors: 0 or a negative VEIL_E* code (common/err.h); libuv's codes pass through.
 */
#ifndef VEIL_SFU_SFU_H
#define VEIL_SFU_SFU_H

#include <stddef.h>
#include <stdint.h>

#include <uv.h>

typedef struct sfu_worker sfu_worker_t;
typedef struct sfu_room sfu_room_t;
typedef struct sfu_participant sfu_participant_t;
typedef struct sfu_track sfu_track_t;
typedef struct sfu_subscription sfu_subscription_t;

/* ---- limits -------------------------------------------------------------------------- */
#define SFU_ID_MAX 64             /* room, participant and track ids: 1..64 bytes */
#define SFU_MAX_CANDIDATES 4
#define SFU_MAX_TRACKS_PER_PARTICIPANT 16
#define SFU_MAX_SUBS_PER_PARTICIPANT 256
/* Over a participant's lifetime: libsrtp keeps per-SSRC state for every SSRC a session
 * has seen, and forgetting it would reset replay protection (RFC 3711 §3.3.2) or allow an
 * SSRC/index (hence GCM IV) to repeat, so churn is capped instead. */
#define SFU_MAX_TRACKS_LIFETIME 64
#define SFU_MAX_SUBS_LIFETIME 4096
#define SFU_DEFAULT_PORT 7882
#define SFU_PORT_EPHEMERAL (-1)

/* ---- worker ---------------------------------------------------------------------------- */
typedef struct sfu_worker_config {
  /* Address the UDP socket binds. "::" binds dual-stack (IPv4 and IPv6 on one socket,
   * IPV6_V6ONLY off); "0.0.0.0", "127.0.0.1", "::1" or any literal also work.
   * NULL: "127.0.0.1" (a development default: never exposed by accident). */
  const char *bind_ip;
  int port;                      /* 0: SFU_DEFAULT_PORT; SFU_PORT_EPHEMERAL: the kernel picks
                                  * (tests). Use distinct ports per worker. */
  /* Addresses announced as host candidates (literals). NULL/0: the bind address, or
   * 127.0.0.1 when binding a wildcard. */
  const char *const *announced_ips;
  size_t n_announced_ips;
  uint32_t pool_buffers;         /* 0: 8192 packet buffers (16 MiB) */
  uint32_t dtls_timeout_ms;      /* DTLS handshake deadline; 0: 30000 */
  uint32_t ice_consent_timeout_ms; /* no valid check for this long: FAILED; 0: 30000
                                    * (RFC 7675 §5.1) */
  uint32_t stats_interval_ms;    /* on_stats period; 0: no periodic stats */
  uint32_t keyframe_min_interval_ms; /* PLI rate limit per track; 0: 500 */
} sfu_worker_config_t;

/* Creates the worker on `loop`: binds the socket, generates the DTLS certificate, allocates
 * the pool. Not yet reading. */
int sfu_worker_init(uv_loop_t *loop, const sfu_worker_config_t *cfg, sfu_worker_t **out);
int sfu_worker_start(sfu_worker_t *w);
typedef void (*sfu_worker_close_cb)(void *arg);
/* Closes every room, then the socket; `cb(arg)` runs after all memory is freed. */
void sfu_worker_close(sfu_worker_t *w, sfu_worker_close_cb cb, void *arg);
/* The bound UDP port (useful with SFU_PORT_EPHEMERAL). */
uint16_t sfu_worker_port(const sfu_worker_t *w);
/* The certificate fingerprint every participant of this worker presents. */
const char *sfu_worker_fingerprint(const sfu_worker_t *w);

typedef struct sfu_worker_stats {
  uint64_t rx_packets, rx_bytes, tx_packets, tx_bytes;
  uint64_t rx_dropped;   /* unknown source, bad SRTP, no route, parse errors */
  uint64_t tx_dropped;   /* queue full, pool empty, send errors */
  uint64_t rtp_forwarded;/* packets sent to subscriptions */
  uint32_t pool_free, pool_total;
} sfu_worker_stats_t;
void sfu_worker_stats(const sfu_worker_t *w, sfu_worker_stats_t *out);

/* ---- rooms ------------------------------------------------------------------------------ */
int sfu_room_create(sfu_worker_t *w, const char *room_id, sfu_room_t **out);
sfu_room_t *sfu_room_find(sfu_worker_t *w, const char *room_id);
/* Closes every participant (their on_closed runs), then frees the room. */
void sfu_room_close(sfu_room_t *r);
const char *sfu_room_id(const sfu_room_t *r);

/* ---- participants ----------------------------------------------------------------------- */
typedef enum sfu_transport_state {
  SFU_TRANSPORT_NEW = 0,        /* waiting for an ICE check from the client */
  SFU_TRANSPORT_CONNECTING = 1, /* ICE pair selected; DTLS handshake under way */
  SFU_TRANSPORT_CONNECTED = 2,  /* DTLS-SRTP keys in place; media flows */
  SFU_TRANSPORT_FAILED = 3,     /* DTLS failed / timed out, or ICE consent expired */
  SFU_TRANSPORT_CLOSED = 4,     /* DTLS close_notify, or closed by the API */
} sfu_transport_state_t;

typedef struct sfu_participant_stats {
  uint64_t rtp_in, rtp_in_bytes;   /* from this participant (its published tracks) */
  uint64_t rtp_out, rtp_out_bytes; /* to this participant (its subscriptions) */
  uint64_t rtcp_in, rtcp_out;
  uint64_t srtp_errors;            /* auth failures and replays on input */
  uint64_t pli_in, pli_out;        /* keyframe requests from it / sent to it */
} sfu_participant_stats_t;

/* Children talk upward only through this listener (mediasoup style). Every callback is
 * optional. Callbacks run on the loop; they may call any API function, including closing
 * the participant they are about. */
typedef struct sfu_listener {
  void *arg;
  void (*on_transport_state)(void *arg, sfu_participant_t *p, sfu_transport_state_t state,
                             int err);
  /* A subscriber asked for a keyframe of `track` (PLI/FIR); the SFU already forwarded a
   * (rate-limited) PLI to the publisher. Runs on the publisher's listener. */
  void (*on_keyframe_needed)(void *arg, sfu_participant_t *publisher, sfu_track_t *track);
  void (*on_stats)(void *arg, sfu_participant_t *p, const sfu_participant_stats_t *stats);
  /* The participant's memory is about to be freed. */
  void (*on_closed)(void *arg, sfu_participant_t *p);
} sfu_listener_t;

/* The listener is copied. `participant_id` must be unique in the room. */
int sfu_participant_create(sfu_room_t *r, const char *participant_id,
                           const sfu_listener_t *listener, sfu_participant_t **out);
sfu_participant_t *sfu_participant_find(sfu_room_t *r, const char *participant_id);
void sfu_participant_close(sfu_participant_t *p);
const char *sfu_participant_id(const sfu_participant_t *p);
sfu_transport_state_t sfu_participant_state(const sfu_participant_t *p);
void sfu_participant_stats(const sfu_participant_t *p, sfu_participant_stats_t *out);

/* What signaling sends to the client (JSON, docs/protocol.md). Strings are borrowed from
 * the participant (valid until it closes). */
typedef struct sfu_local_params {
  const char *ice_ufrag;
  const char *ice_pwd;
  int ice_lite;                   /* always 1 */
  size_t n_candidates;
  char candidates[SFU_MAX_CANDIDATES][128]; /* "candidate:1 1 udp 2130706431 127.0.0.1 7882 typ host" */
  char candidate_ip[SFU_MAX_CANDIDATES][48];
  uint16_t candidate_port[SFU_MAX_CANDIDATES];
  uint32_t candidate_priority[SFU_MAX_CANDIDATES];
  const char *dtls_fingerprint_algorithm; /* "sha-256" */
  const char *dtls_fingerprint;           /* "AB:CD:..." */
  const char *dtls_role;                  /* "server" (SDP a=setup:passive) */
} sfu_local_params_t;
int sfu_participant_local_params(const sfu_participant_t *p, sfu_local_params_t *out);

typedef struct sfu_remote_params {
  const char *ice_ufrag;                  /* the client's ICE ufrag */
  const char *dtls_fingerprint_algorithm; /* "sha-256" */
  const char *dtls_fingerprint;           /* the client's certificate fingerprint */
} sfu_remote_params_t;
/* Must be called before the client's ICE check arrives (checks before it are dropped). */
int sfu_participant_set_remote(sfu_participant_t *p, const sfu_remote_params_t *rp);

/* ---- tracks --------------------------------------------------------------------------- */
typedef enum sfu_media_kind {
  SFU_MEDIA_AUDIO = 0,
  SFU_MEDIA_VIDEO = 1,
} sfu_media_kind_t;

/* RTP header extension ids (RFC 8285) the publisher uses; 0 = not negotiated. The SFU
 * forwards extensions with the publisher's ids (sfu_subscription_info), except mid, rid and
 * repaired-rid, which name the publisher's own m-section/encoding: those elements are
 * blanked into padding, so subscribers demux by the SSRC the subscription signals. */
typedef struct sfu_ext_ids {
  uint8_t mid, rid, repaired_rid, audio_level, abs_send_time, transport_cc,
      dependency_descriptor;
} sfu_ext_ids_t;

typedef struct sfu_track_params {
  const char *track_id;    /* unique in the room */
  sfu_media_kind_t kind;
  uint32_t ssrc;           /* media SSRC (nonzero, unique among the room's tracks) */
  uint32_t rtx_ssrc;       /* 0: none (RTX packets are dropped: no NACK cache yet) */
  uint8_t payload_type;    /* the publisher's PT; forwarded unchanged */
  uint32_t clock_rate;     /* e.g. 90000 video, 48000 Opus; 0: by kind */
  sfu_ext_ids_t ext;
} sfu_track_params_t;

int sfu_track_publish(sfu_participant_t *publisher, const sfu_track_params_t *tp,
                      sfu_track_t **out);
/* Removes the track and every subscription to it. */
void sfu_track_unpublish(sfu_track_t *t);
sfu_track_t *sfu_track_find(sfu_room_t *r, const char *track_id);
const char *sfu_track_id(const sfu_track_t *t);
sfu_participant_t *sfu_track_publisher(const sfu_track_t *t);
/* Sends a PLI to the publisher now (rate-limited like subscriber requests). */
int sfu_track_request_keyframe(sfu_track_t *t);

/* ---- subscriptions --------------------------------------------------------------------- */
/* `subscriber` receives `track` (same room, not its own track). */
int sfu_subscribe(sfu_participant_t *subscriber, sfu_track_t *track, sfu_subscription_t **out);
void sfu_unsubscribe(sfu_subscription_t *s);
/* Moves the subscription to another track of the same kind (simulcast/speaker switch);
 * the subscriber's stream stays continuous (same SSRC, sequence numbers and timestamps
 * continue) and a keyframe is requested from the new source. */
int sfu_subscription_switch(sfu_subscription_t *s, sfu_track_t *track);
/* Pause/resume forwarding (the subscriber's stream stays continuous across a pause). */
void sfu_subscription_set_paused(sfu_subscription_t *s, int paused);

typedef struct sfu_subscription_info {
  uint32_t ssrc;           /* SSRC the subscriber sees (chosen by the SFU) */
  uint8_t payload_type;
  uint32_t clock_rate;
  sfu_media_kind_t kind;
  sfu_ext_ids_t ext;
  const char *track_id;    /* borrowed */
} sfu_subscription_info_t;
int sfu_subscription_info(const sfu_subscription_t *s, sfu_subscription_info_t *out);

#endif
