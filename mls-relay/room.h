/*
 * veil mls-relay — room state shared by relay.c (events, messages) and room.c (member
 * table, leader election, batches, commit log). Internal to mls-relay/.
 */
#ifndef VEIL_RELAY_ROOM_H
#define VEIL_RELAY_ROOM_H

#include "mls-relay/actions.h"
#include "mls-relay/peek.h"
#include "mls-relay/relay.h"

/* A participant slot. Named for what the relay expects from it next. */
typedef enum member_state {
  M_FREE = 0,
  M_EXPECT_KEY_PACKAGE, /* in the room, not in the group: must send a KeyPackage */
  M_EXPECT_WELCOME,     /* KeyPackage queued or handed to the leader */
  M_IN_GROUP,           /* in the MLS group (connected, or disconnected within grace) */
} member_state_t;

struct member {
  relay_member_id_t id;
  member_state_t state;
  int connected;
  uint64_t arrival_seq; /* room entry order (picks a group creator) */
  uint64_t join_seq;    /* group entry order: smallest = present longest (leader order) */
  uint64_t disconnected_at; /* M_IN_GROUP && !connected */
  /* M_EXPECT_WELCOME only: */
  uint8_t *kp; /* owned: the KeyPackage MLSMessage, handed to the leader */
  size_t kp_len;
  uint8_t ref[RELAY_REF_MAX]; /* the KeyPackageRef the joiner declared */
  size_t ref_len;
  uint16_t suite;
  uint64_t kp_at;    /* when the KeyPackage arrived (join latency) */
  uint32_t batch_id; /* 0: queued; else the outstanding batch that holds it */
  int departed;      /* left while in an outstanding batch; the leader may still add it */
};

/* A member of the MLS group the leader must remove (left, timed out, demoted). */
struct leave {
  relay_member_id_t id;
  uint32_t batch_id; /* 0: queued; else the outstanding batch */
};

struct log_entry {
  uint64_t epoch; /* the epoch the commit was for (it moved epoch -> epoch + 1) */
  uint8_t *bytes; /* owned: the COMMIT envelope as broadcast */
  size_t len;
};

typedef enum room_state {
  ROOM_EXPECT_CREATOR = 0, /* no group and nobody to create one */
  ROOM_EXPECT_BATCH,       /* a group and a leader (or one to be elected); idle */
  ROOM_EXPECT_COMMIT,      /* a batch is with the leader; commit_deadline runs */
} room_state_t;

struct relay_room {
  relay_config_t cfg;
  room_state_t state;
  struct member *members; /* owned, cfg.max_members slots */
  struct leave *leaves;   /* owned, cfg.max_members slots */
  size_t n_leaves;
  struct log_entry *log;  /* owned ring, cfg.log_len slots */
  size_t log_head, log_count;
  size_t log_bytes; /* sum of the entries' lengths, <= cfg.log_max_bytes */
  uint8_t group_id[RELAY_GROUP_ID_MAX];
  size_t group_id_len;
  int group_bound; /* group_id learned from the first accepted commit */
  uint16_t suite;
  int suite_known; /* learned from the first Welcome */
  uint64_t epoch;
  relay_member_id_t leader; /* RELAY_NO_MEMBER while none is connected */
  int leader_lost;          /* the next appointment replaces a leader (metrics) */
  uint32_t batch_id;        /* outstanding batch (ROOM_EXPECT_COMMIT), else 0 */
  uint32_t last_batch_id;
  uint64_t commit_deadline;
  uint64_t batch_due; /* when queued joins/leaves go to the leader; RELAY_NEVER if none */
  uint64_t next_arrival, next_join;
  relay_metrics_t m;
};

/* room.c */
struct member *room_find(relay_room_t *r, relay_member_id_t id);
struct member *room_alloc(relay_room_t *r, relay_member_id_t id);
void room_free_member(relay_room_t *r, struct member *m);
void room_drop_kp(struct member *m);
/* Counts: members in the group (incl. disconnected in grace), queued+batched joins. */
size_t room_count(const relay_room_t *r, member_state_t st);
/* Records that `id`'s leaf must be removed by the leader. */
void room_push_leave(relay_room_t *r, relay_member_id_t id, uint64_t now);
void room_note_pending(relay_room_t *r, uint64_t now);
/* The outstanding batch is void (leader gone, or epoch moved): queue its items again. */
void room_unbatch(relay_room_t *r, uint64_t now);
/* The leader left or disconnected (`gone`: its slot is freed) or missed its commit
 * deadline (it stays, told to rejoin): either way its leaf becomes a leave. */
int room_demote_leader(relay_room_t *r, int gone, uint64_t now, relay_actions_t *out);
/* Member `m` (in the group) lost its place: leave + REJOIN, back to expecting a KP. */
int room_rejoin(relay_room_t *r, struct member *m, uint64_t now, relay_actions_t *out);
/* Elects a leader / appoints a creator, hands a due batch, runs the timers. */
int room_settle(relay_room_t *r, uint64_t now, relay_actions_t *out);
uint64_t room_next_deadline(const relay_room_t *r);
/* Tells a participant that just entered who leads (unless this call's actions already
 * do): it must know whether to create the group or send a KeyPackage. */
int room_greet(relay_room_t *r, relay_member_id_t id, relay_actions_t *out);
/* Commit log: append (takes ownership of bytes), and replay from `epoch`. */
void room_log_push(relay_room_t *r, uint64_t epoch, uint8_t *bytes, size_t len);
/* 1 when commits for every epoch in [from, r->epoch) are in the log. */
int room_log_covers(const relay_room_t *r, uint64_t from);
int room_log_replay(relay_room_t *r, relay_member_id_t to, uint64_t from, relay_actions_t *out);
void room_log_clear(relay_room_t *r);
/* Emitters. */
int room_emit_error(relay_room_t *r, relay_member_id_t to, int code, uint8_t kind,
                    relay_actions_t *out);
int room_emit_rejoin(relay_room_t *r, relay_member_id_t to, relay_actions_t *out);
/* A broadcast of the envelope `env` to every connected group member except `except`
 * (RELAY_NO_MEMBER: to all); no action when nobody would receive it. */
int room_broadcast(relay_room_t *r, relay_member_id_t except, const uint8_t *env, size_t len,
                   relay_actions_t *out);

#endif
