/* veil client session — internals shared by vs_session.c (signaling, membership,
 * lifecycle) and vs_session_media.c (senders, receivers, stats). Not a public header. */
#ifndef VEIL_CLIENTS_SESSION_VS_SESSION_INT_H
#define VEIL_CLIENTS_SESSION_VS_SESSION_INT_H

#include "clients/lib/session/vs_member.h"
#include "clients/lib/session/vs_media.h"
#include "clients/lib/session/vs_seccode.h"
#include "clients/lib/session/vs_session.h"
#include "clients/lib/session/vs_transport.h"
#include "clients/lib/session/vs_ws.h"

#define VS_ID_MAX 65
#define VS_NAME_MAX 256

/* A participant signaling told us about (kept after it left: the leader still has to map
 * its member id to a leaf). */
typedef struct vs_peer {
  char pid[VS_ID_MAX];
  uint64_t member;
  char identity[VS_NAME_MAX];
  char name[VS_NAME_MAX];
  int present;
  struct vs_peer *next;
} vs_peer_t;

/* One subscribed track (or a tap source). */
typedef struct vs_rx {
  vs_session_t *s;        /* borrowed back pointer */
  char track_id[VS_ID_MAX];
  char pid[VS_ID_MAX];    /* publisher; "" for a tap source */
  int tap;
  vs_receiver_t *r;       /* owned */
  struct vs_rx *next;
} vs_rx_t;

/* MLS application messages fed through vs_session_tap_mls after we left. refused is the
 * sum of the four classes; last_error is the newest refusal. The epoch range covers the
 * `dated` messages, those whose header parsed. */
typedef struct vs_tap_chat {
  uint64_t fed, decrypted, refused;
  uint64_t wrong_epoch, unknown_key, not_application, other;
  int last_error;
  uint64_t dated, min_epoch, max_epoch;
} vs_tap_chat_t;

struct vs_session {
  vs_session_config_t cfg;
  char self_pid[VS_ID_MAX];
  char self_identity[VS_NAME_MAX];
  uint64_t self_member;
  int joined, left, closing, removed;
  long long next_req;
  vs_ws_t *ws;                 /* owned */
  vs_transport_t *tr;          /* owned */
  vs_member_t *member;         /* owned, from `joined` on */
  uint64_t leader_seen;        /* the relay's leader last reported by a `leader` event */
  sframe_mls_t *sm;            /* owned, from the first epoch on */
  uint64_t sm_epoch;
  vs_sender_t *audio, *video;  /* owned */
  uv_timer_t audio_timer, video_timer;
  int timers_open;
  vs_peer_t *peers;            /* owned */
  vs_rx_t *rx;                 /* owned */
  char (*leaf_ids)[VS_NAME_MAX]; /* owned: identity per leaf of the current epoch */
  uint32_t n_leaf_ids;
  char code[VS_SECCODE_LEN];
  uint64_t code_epoch;
  uint32_t members;
  json_t *last_roster;         /* owned */
  json_t *pending_transport;   /* owned: joined.transport until transport_connected */
  uint64_t t0_us, join_sent_us, leave_seen_us;
  int first_frame_done;
  uint64_t frames_sent_failed;
  /* Resumption (docs/protocol.md "Resuming"): the token of the last `joined`, the
   * server's grace, and the reconnect attempts after an unexpected close. */
  char resume_token[VS_ID_MAX];
  uint32_t resume_grace_ms;
  int reconnecting;            /* the connection dropped: attempts run until resumed */
  uint32_t attempts;
  uint64_t lost_us;
  uv_timer_t retry_timer;       /* reconnect attempts; on close, the wait for the server */
  int retry_open;
  int bye;                      /* closing: `leave` sent, waiting for the server to close */
  vs_tap_chat_t tap_chat;
};

void vs_emit(vs_session_t *s, json_t *ev); /* steals ev */
/* media (vs_session_media.c) */
int vs_media_start(vs_session_t *s);
void vs_media_stop(vs_session_t *s);
void vs_media_on_rtp(vs_session_t *s, uint8_t *pkt, size_t len);
int vs_media_add_rx(vs_session_t *s, const char *track_id, const char *pid, vs_kind_t kind, uint32_t ssrc);
void vs_media_free_rx(vs_session_t *s);
const vs_peer_t *vs_peer_by_pid(const vs_session_t *s, const char *pid);

#endif
