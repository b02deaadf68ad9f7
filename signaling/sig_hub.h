/*
 * veil — the signaling core: sessions, rooms, lobby, and the sans-I/O message handler.
 *
 * No sockets and no clock here (STYLE 7): the WebSocket shell (sig_ws.c) feeds each
 * received frame to sig_handle_message with `now`, and the core answers through the
 * sig_io_t callbacks (queue a text frame, close a connection), which the shell turns into
 * lws writes. The same core runs under the unit tests and the fuzzer with callbacks that
 * record what was sent.
 *
 * Atomicity: a message is parsed and validated completely, then every precondition of the
 * change is checked, then the media plane is asked (it may refuse), and only then does the
 * core change its own state; so a refused message changes nothing (no half-applied join,
 * no roster entry without a transport).
 *
 * Ownership: the hub owns rooms and sessions. A session is created by sig_session_open and
 * freed by sig_session_close (the shell calls it when the connection is gone); the io
 * callbacks must not free it.
 */
#ifndef VEIL_SIGNALING_SIG_HUB_H
#define VEIL_SIGNALING_SIG_HUB_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "signaling/sig_jwt.h"

typedef struct sig_hub sig_hub_t;
typedef struct sig_session sig_session_t;

/* WebSocket close codes the core asks for (RFC 6455 §7.4.1, and 4000-4999 private use). */
#define SIG_CLOSE_NORMAL 1000
#define SIG_CLOSE_GOING_AWAY 1001
#define SIG_CLOSE_POLICY 1008
#define SIG_CLOSE_TOO_BIG 1009
#define SIG_CLOSE_REJECTED 4003
#define SIG_CLOSE_TAKEN_OVER 4004 /* another connection resumed this participant */

typedef struct sig_io {
  void *user;
  /* Queues one text frame for the session's connection; the bytes are copied. */
  void (*send_text)(void *user, sig_session_t *s, const char *data, size_t len);
  /* Queues one binary frame (MLS relay envelopes); the bytes are copied. */
  void (*send_binary)(void *user, sig_session_t *s, const uint8_t *data, size_t len);
  /* Asks the shell to close the connection once queued frames are flushed. The session
   * stays valid until the shell calls sig_session_close. */
  void (*close)(void *user, sig_session_t *s, int ws_code, const char *reason);
  /* Resumption (docs/protocol.md "Resuming"): from now on the connection `conn` (a value
   * sig_session_user returned) is served by session `s`; the shell must pass `s` for its
   * frames and to sig_session_close. Called inside sig_handle_message only. NULL: the hub
   * never holds a participant for resumption. */
  void (*rebind)(void *user, void *conn, sig_session_t *s);
} sig_io_t;

/*
 * The media plane, as seen from signaling (implemented by server/ over sfu/sfu.h). Each
 * call either succeeds completely or changes nothing. `handle` is the media plane's own
 * participant object. JSON arguments are the validated client message (borrowed); JSON
 * results are new references the core takes over.
 */
typedef struct sig_media_ops {
  int (*join)(void *ctx, const char *room, const char *participant_id, void **handle, json_t **transport);
  void (*leave)(void *ctx, void *handle);
  int (*connect)(void *ctx, void *handle, json_t *msg);
  int (*publish)(void *ctx, void *handle, const char *track_id, json_t *msg, json_t **info);
  int (*unpublish)(void *ctx, void *handle, const char *track_id);
  int (*subscribe)(void *ctx, void *handle, void *publisher, const char *track_id, json_t **info);
  int (*unsubscribe)(void *ctx, void *handle, void *publisher, const char *track_id);
} sig_media_ops_t;

typedef struct sig_limits {
  uint32_t max_rooms;                 /* rooms open at once */
  uint32_t max_participants_per_room; /* joined members (lobby counted separately) */
  uint32_t max_lobby_per_room;        /* waiting in one room's lobby */
  uint32_t max_message_bytes;         /* one frame, after join */
  uint32_t max_prejoin_message_bytes; /* one frame before join (tighter: unauthenticated) */
  uint32_t max_mls_message_bytes;     /* one binary frame (MLS relay envelope), after join */
  uint32_t messages_per_second;       /* sustained rate per connection; burst = 2x */
  uint32_t join_timeout_ms;           /* a connection must join (or enter a lobby) within; 0: no limit */
  uint32_t max_tracks_per_participant;
  uint32_t max_subscriptions_per_participant;
  /* A joined participant whose connection closes without `leave` keeps its place (room,
   * media, relay member) this long for a resume; 0: it leaves at once. */
  uint32_t reconnect_grace_ms;
  uint32_t max_reconnecting; /* participants held without a connection, whole hub */
} sig_limits_t;

typedef struct sig_hub_config {
  sig_limits_t limits;
  const sig_jwt_key_t *key; /* borrowed; outlives the hub */
  int64_t token_leeway_s;
  bool lobby;               /* members and devices wait for a host's admission */
  sig_io_t io;
  const sig_media_ops_t *media; /* NULL: signaling only, media requests are refused */
  void *media_ctx;
} sig_hub_config_t;

/* Join latency (connection opened -> `joined`, lobby wait included) histogram bounds in
 * milliseconds (the last bucket is +Inf). */
#define SIG_LAT_NBUCKETS 11
extern const double sig_latency_bounds_ms[SIG_LAT_NBUCKETS];
#define SIG_NCODES 100

/* MLS relay counters summed over every room, past and present. */
typedef struct sig_relay_totals {
  uint64_t commits_accepted, commits_rejected, messages_rejected;
  uint64_t leader_changes, welcomes_delivered, rejoins;
  /* KeyPackage received -> Welcome delivered, over the welcomes_delivered joins. */
  uint64_t join_latency_sum_ms, join_latency_max_ms;
  uint64_t epoch_max; /* the highest current MLS epoch among the open rooms (a gauge) */
} sig_relay_totals_t;

typedef struct sig_stats {
  uint64_t rooms, participants, lobby_waiting, tracks, subscriptions, sessions;
  uint64_t messages_in, binary_in, joins_total, relay_refused;
  uint64_t reconnecting;     /* participants held for a resume now (a gauge) */
  uint64_t resumes_total;    /* successful resumes (takeovers included) */
  uint64_t resume_expired;   /* held participants whose grace ran out */
  uint64_t errors[SIG_NCODES]; /* by -(code) - 10600 */
  uint64_t lat_buckets[SIG_LAT_NBUCKETS + 1];
  uint64_t lat_count;
  double lat_sum_ms;
} sig_stats_t;

int sig_hub_new(const sig_hub_config_t *cfg, sig_hub_t **out);
/* Frees every room and session; the shell has closed its connections first. */
void sig_hub_free(sig_hub_t *hub);
const sig_stats_t *sig_hub_stats(const sig_hub_t *hub);
const sig_limits_t *sig_hub_limits(const sig_hub_t *hub);
void sig_hub_relay_totals(const sig_hub_t *hub, sig_relay_totals_t *out);

/* A new connection at `now_ms` (borrowed `user` is the shell's per-connection data). The
 * time starts the join timeout and the join latency. NULL on OOM. */
sig_session_t *sig_session_open(sig_hub_t *hub, void *user, uint64_t now_ms);
/* Leaves room or lobby (telling the others) and frees. */
void sig_session_close(sig_hub_t *hub, sig_session_t *s);
/* The connection closed at `now_ms`: like sig_session_close, except that a joined
 * participant that did not `leave` is held for reconnect_grace_ms (when resumption is on
 * and fewer than max_reconnecting are held): it stays in the room without a connection
 * until a `join` with `resume` takes it over or sig_hub_tick expires it. Either way the
 * shell must no longer use `s`. */
void sig_session_lost(sig_hub_t *hub, sig_session_t *s, uint64_t now_ms);
/* Every held participant leaves now (shutdown: before the media plane goes away). */
void sig_hub_release_held(sig_hub_t *hub);
void *sig_session_user(const sig_session_t *s);
bool sig_session_joined(const sig_session_t *s);
/* The frame size limit that applies to this session now: pre-join, joined text, or
 * joined binary (MLS envelopes). */
size_t sig_session_max_frame(const sig_hub_t *hub, const sig_session_t *s, bool binary);

/* Handles one text frame: validates, applies, replies. Returns 0 when the message was
 * applied, or the negative VEIL_E* code that was also sent to the client as an error. */
int sig_handle_message(sig_hub_t *hub, sig_session_t *s, const char *data, size_t len, uint64_t now_ms,
                       int64_t wall_s);

/* Handles one binary frame: an MLS relay envelope (docs/relay.md) from a joined
 * participant, fed to the room's relay; its actions go out as binary frames. A refused
 * envelope is answered by the relay with a binary error control and returns its code. */
int sig_handle_binary(sig_hub_t *hub, sig_session_t *s, const uint8_t *data, size_t len, uint64_t now_ms);
/* The earliest relay deadline of any room or end of a held participant's grace
 * (UINT64_MAX: none); the shell arms a timer for it and calls sig_hub_tick when it fires. */
uint64_t sig_hub_next_deadline(const sig_hub_t *hub);
void sig_hub_tick(sig_hub_t *hub, uint64_t now_ms);

/* Sends an error reply for `code` (used by the shell for frames it refuses itself). */
void sig_send_error(sig_hub_t *hub, sig_session_t *s, int code, long long id, const char *detail);

/* Ends connections that have not sent a successful join within join_timeout_ms of being
 * opened (the shell calls this periodically): `join_timeout` error,
 * close 1008. Unauthenticated peers must not hold a connection open for free. */
void sig_hub_expire(sig_hub_t *hub, uint64_t now_ms);

/* Sends `obj` (consumed) to a joined participant, e.g. a media-plane event such as a
 * transport state change. VEIL_ENOTFOUND when no such participant is joined. */
int sig_hub_notify(sig_hub_t *hub, const char *room, const char *participant_id, json_t *obj);

/* Counts an error the shell handled itself (e.g. a frame closed with 1009). */
void sig_hub_count_error(sig_hub_t *hub, int code);

/* Drain: joins are refused from now on; every session is told with a `draining` message
 * carrying the deadline. */
void sig_hub_drain(sig_hub_t *hub, uint32_t deadline_ms);
bool sig_hub_draining(const sig_hub_t *hub);

/* The wire name of an error code ("token_expired"), for replies and metrics labels. */
const char *sig_error_wire_name(int code);

#endif
