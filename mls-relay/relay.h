/*
 * veil mls-relay — the per-room MLS delivery service core (sans-I/O).
 *
 * DESIGN.md "Signaling and the relay": the first participant creates the group and leads;
 * a joiner's KeyPackage goes to the leader; the leader commits (batching the joins and
 * leaves that arrived together) and sends Commit + Welcome; the relay accepts exactly one
 * commit per epoch, from the current leader, broadcasts it and delivers the Welcome; when
 * the leader leaves or stops answering, the relay appoints the next one (the member of the
 * group present longest), who removes the old one.
 *
 * Sans-I/O (STYLE.md 7): the caller feeds events (a participant joined / left the room,
 * its transport connected / disconnected, a binary message arrived, a timer fired) with
 * the current monotonic time in milliseconds, and gets back a list of actions — envelopes
 * to send to one member or to a list of members — and the next deadline at which it must
 * feed a RELAY_EV_TICK. No clock, no sockets, no allocation per forwarded byte beyond one
 * copy into the action list.
 *
 * The relay sees MLS framing only (peek.h); it never links the client library.
 * Wire format of the envelopes: envelope.h and docs/relay.md.
 *
 * Threading: a room is used by one thread at a time.
 */
#ifndef VEIL_RELAY_RELAY_H
#define VEIL_RELAY_RELAY_H

#include <stddef.h>
#include <stdint.h>

#include "common/bytes.h"

/* A participant, named by the caller (signaling assigns it; never 0 or UINT64_MAX). */
typedef uint64_t relay_member_id_t;
#define RELAY_NO_MEMBER ((relay_member_id_t)0)
/* relay_event_t.resume_epoch when the participant has no MLS state. */
#define RELAY_NO_STATE UINT64_MAX
/* relay_actions_t.next_deadline when no timer is needed. */
#define RELAY_NEVER UINT64_MAX

typedef struct relay_config {
  size_t max_members;           /* participants per room (group + waiting), 1..1024 */
  size_t max_pending;           /* KeyPackages queued for the leader at once */
  size_t log_len;               /* commits kept for replay to reconnecting members */
  size_t log_max_bytes;         /* and at most this many bytes of them (oldest evicted) */
  size_t max_message;           /* largest envelope accepted from a member, bytes */
  uint64_t commit_timeout_ms;   /* leader must commit a handed batch within this */
  uint64_t batch_delay_ms;      /* joins/leaves arriving within this form one batch */
  uint64_t reconnect_grace_ms;  /* a disconnected member keeps its place this long */
} relay_config_t;

/* 64 members, 16 pending, 64 commits / 2 MiB of log, 256 KiB messages, 5 s commit
 * timeout, 20 ms batching, 15 s reconnect grace. */
void relay_config_default(relay_config_t *cfg);

typedef enum relay_event_type {
  RELAY_EV_JOINED = 1,   /* a new participant entered the room (no MLS state) */
  RELAY_EV_CONNECTED,    /* a known participant's transport is back (resume_epoch) */
  RELAY_EV_DISCONNECTED, /* a participant's transport was lost (it may come back) */
  RELAY_EV_LEFT,         /* a participant left the room for good */
  RELAY_EV_MESSAGE,      /* a binary envelope from a participant */
  RELAY_EV_TICK,         /* a deadline passed */
} relay_event_type_t;

typedef struct relay_event {
  relay_event_type_t type;
  relay_member_id_t member; /* every type but TICK */
  /* CONNECTED: the epoch of the member's saved MLS state, or RELAY_NO_STATE. */
  uint64_t resume_epoch;
  const uint8_t *data; /* MESSAGE: the envelope (borrowed for the call) */
  size_t len;
} relay_event_t;

typedef enum relay_action_type {
  RELAY_ACT_SEND = 1,     /* forwarded MLS (Welcome, replayed commit) to `member` */
  RELAY_ACT_BROADCAST,    /* the same envelope to each of `to[0..n_to)` */
  RELAY_ACT_ERROR,        /* an error control to `member` (code, epoch set) */
  RELAY_ACT_LEADER,       /* broadcast: `leader` leads now (create: start the group) */
  RELAY_ACT_BATCH,        /* to `member` (the leader): commit these joins/leaves */
  RELAY_ACT_REJOIN,       /* to `member`: discard MLS state, send a new KeyPackage */
} relay_action_type_t;

/* One thing to send. Every action carries the ready envelope in `bytes`; the typed
 * fields are for the shell's logs and metrics. */
typedef struct relay_action {
  relay_action_type_t type;
  relay_member_id_t member;    /* SEND, ERROR, BATCH, REJOIN: the recipient */
  const relay_member_id_t *to; /* BROADCAST, LEADER: recipients (borrowed from the list) */
  size_t n_to;
  const uint8_t *bytes; /* the envelope (borrowed from the list) */
  size_t len;
  int code;                 /* ERROR: the VEIL_ERELAY_* (or reader) code */
  uint64_t epoch;           /* ERROR, LEADER, BATCH, REJOIN: the group's epoch */
  relay_member_id_t leader; /* LEADER */
  int create;               /* LEADER: the leader must create a new group */
  /* internal: offsets into the list's storage until the call returns */
  size_t off_, to_off_;
} relay_action_t;

/* The caller's reusable output list. Pointers inside stay valid until the next
 * relay_room_handle on the same list or relay_actions_free. */
typedef struct relay_actions {
  relay_action_t *items; /* owned */
  size_t n, cap;
  relay_member_id_t *ids; /* owned: recipient lists */
  size_t n_ids, cap_ids;
  veil_writer_t bytes; /* owned, growable: the envelopes */
  uint64_t next_deadline; /* RELAY_NEVER or the time of the next RELAY_EV_TICK */
} relay_actions_t;

void relay_actions_init(relay_actions_t *a);
void relay_actions_free(relay_actions_t *a);

typedef struct relay_metrics {
  uint64_t commits_accepted;
  uint64_t commits_rejected;
  uint64_t messages_rejected; /* every refused envelope, commits included */
  uint64_t epoch;
  uint64_t leader_changes;    /* appointments replacing an existing leader */
  uint64_t joins_completed;   /* Welcomes delivered */
  uint64_t join_latency_last_ms; /* KeyPackage received -> Welcome delivered */
  uint64_t join_latency_max_ms;
  uint64_t join_latency_sum_ms;
  uint64_t rejoins;           /* members told to rejoin */
  uint64_t replayed_commits;  /* commits replayed to reconnecting members */
} relay_metrics_t;

typedef struct relay_room relay_room_t;

/* Makes an empty room; the caller owns it (relay_room_free). VEIL_EINVAL on a config
 * out of range, VEIL_ENOMEM. */
int relay_room_new(const relay_config_t *cfg, relay_room_t **out);
void relay_room_free(relay_room_t *room);

/* Feeds one event at time `now` (ms, monotonic, non-decreasing). `out` is cleared and
 * filled with the actions to perform, in order, and the next deadline.
 * Returns 0 when the event was processed. A member's message that the relay refuses
 * returns the refusal code (VEIL_ERELAY_*, reader codes) and yields an ERROR action to
 * that member; the room state is unchanged by a refused message. Caller errors:
 * VEIL_EINVAL, VEIL_ENOTFOUND (unknown member), VEIL_EEXIST (JOINED twice),
 * VEIL_ERELAY_FULL (room full: an ERROR action tells the participant). VEIL_ENOMEM
 * leaves `out` possibly incomplete. */
int relay_room_handle(relay_room_t *room, const relay_event_t *ev, uint64_t now,
                      relay_actions_t *out);

void relay_room_metrics(const relay_room_t *room, relay_metrics_t *m);
uint64_t relay_room_epoch(const relay_room_t *room);
relay_member_id_t relay_room_leader(const relay_room_t *room);
/* Members of the MLS group as the relay understands it (joined, not yet removed),
 * including those disconnected within their grace period. */
size_t relay_room_group_size(const relay_room_t *room);
/* 1 when no participant is left: the shell may free the room. */
int relay_room_is_empty(const relay_room_t *room);

#endif
