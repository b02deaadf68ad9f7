/*
 * Test harness for the relay room: one room, one action list and a test clock, with
 * helpers that feed events and look actions up. Header-only, for the room test files.
 */
#ifndef VEIL_TESTS_RELAY_HARNESS_H
#define VEIL_TESTS_RELAY_HARNESS_H

#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "mls-relay/envelope.h"
#include "mls-relay/peek.h"
#include "mls-relay/relay.h"
#include "synth.h"

#define GROUP "group-G"
#define SUITE 1

static relay_room_t *room;
static relay_actions_t acts;
static relay_config_t cfg;
static uint64_t now_ms = 1000;

static inline void room_up(void) {
  relay_actions_init(&acts);
  cr_assert_eq(relay_room_new(&cfg, &room), 0);
}

static inline void setup_default(void) {
  relay_config_default(&cfg);
  now_ms = 1000;
  room_up();
}

static inline void teardown_room(void) {
  relay_room_free(room);
  relay_actions_free(&acts);
  room = NULL;
}

static inline relay_config_t default_config(void) {
  relay_config_t c;
  relay_config_default(&c);
  return c;
}

/* Replaces the suite's room by a new one on `c` (the clock keeps running). */
static inline void room_restart(const relay_config_t *c) {
  teardown_room();
  cfg = *c;
  room_up();
}

static inline relay_metrics_t metrics(void) {
  relay_metrics_t m;
  relay_room_metrics(room, &m);
  return m;
}

static inline int feed(relay_event_type_t type, relay_member_id_t id, uint64_t resume,
                const synth_buf_t *b) {
  relay_event_t ev = {.type = type, .member = id, .resume_epoch = resume};
  if (b) {
    ev.data = b->p;
    ev.len = b->len;
  }
  return relay_room_handle(room, &ev, now_ms, &acts);
}

static inline int join(relay_member_id_t id) { return feed(RELAY_EV_JOINED, id, 0, NULL); }
static inline int leave(relay_member_id_t id) { return feed(RELAY_EV_LEFT, id, 0, NULL); }
static inline int disconnect(relay_member_id_t id) { return feed(RELAY_EV_DISCONNECTED, id, 0, NULL); }
static inline int reconnect(relay_member_id_t id, uint64_t epoch) {
  return feed(RELAY_EV_CONNECTED, id, epoch, NULL);
}
static inline int tick_at(uint64_t t) {
  now_ms = t;
  return feed(RELAY_EV_TICK, 0, 0, NULL);
}
/* Sends an envelope and frees it. */
static inline int send_env(relay_member_id_t id, synth_buf_t b) {
  int rc = feed(RELAY_EV_MESSAGE, id, 0, &b);
  free(b.p);
  return rc;
}

/* A joiner's KeyPackage envelope; its KeyPackageRef is 32 bytes of the member id. */
static inline int send_kp(relay_member_id_t id) {
  synth_buf_t kp = synth_key_package(SUITE, 40);
  synth_buf_t env = synth_env_kp((uint8_t)id, &kp);
  free(kp.p);
  return send_env(id, env);
}

/* A commit envelope (PrivateMessage framing) for `epoch`, with a Welcome naming the refs
 * of `joiners` (none: no Welcome). */
static inline int send_commit(relay_member_id_t from, uint32_t batch, uint64_t epoch,
                       const uint8_t *joiners, size_t n) {
  synth_buf_t c = synth_private(GROUP, epoch, 3, 0, 64);
  synth_buf_t w = {0};
  if (n)
    w = synth_welcome(SUITE, joiners, n);
  synth_buf_t env = synth_env_commit(batch, &c, n ? &w : NULL);
  free(c.p);
  free(w.p);
  return send_env(from, env);
}

static inline int send_app(relay_member_id_t from, uint64_t epoch) {
  synth_buf_t m = synth_private(GROUP, epoch, 1, 0, 32);
  synth_buf_t env = synth_env_mls(RELAY_ENV_APPLICATION, &m);
  free(m.p);
  return send_env(from, env);
}

static inline int has_to(const relay_action_t *a, relay_member_id_t id) {
  for (size_t i = 0; i < a->n_to; i++)
    if (a->to[i] == id)
      return 1;
  return 0;
}

/* The first action of `type` for `id` (recipient, or in the recipient list); id 0: any. */
static inline const relay_action_t *find_act(relay_action_type_t type, relay_member_id_t id) {
  for (size_t i = 0; i < acts.n; i++) {
    const relay_action_t *a = &acts.items[i];
    if (a->type != type)
      continue;
    if (id == 0 || a->member == id || has_to(a, id))
      return a;
  }
  return NULL;
}

static inline size_t count_act(relay_action_type_t type) {
  size_t n = 0;
  for (size_t i = 0; i < acts.n; i++)
    n += acts.items[i].type == type;
  return n;
}

static inline relay_env_t decode_act(const relay_action_t *a) {
  relay_env_t e;
  cr_assert_not_null(a);
  cr_assert_eq(relay_env_decode(a->bytes, a->len, SIZE_MAX, &e), 0, "action envelope undecodable");
  return e;
}

/* The batch handed to the leader in the current actions: its id; joins/leaves counted. */
static inline uint32_t batch_of(relay_member_id_t leader, size_t *joins, size_t *leaves) {
  const relay_action_t *a = find_act(RELAY_ACT_BATCH, leader);
  cr_assert_not_null(a, "no batch to %llu", (unsigned long long)leader);
  relay_env_t e = decode_act(a);
  cr_assert_eq(e.ctl_type, RELAY_CTL_BATCH);
  veil_reader_t r;
  uint64_t m;
  veil_view_t kp;
  size_t nj = 0;
  veil_reader_init(&r, e.joins.ptr, e.joins.len);
  while (relay_env_next_join(&r, &m, &kp) == 1)
    nj++;
  if (joins)
    *joins = nj;
  if (leaves)
    *leaves = e.leaves.len / 8;
  return e.batch_id;
}

/* Leave i of the batch in the current actions. */
static inline uint64_t batch_leave(relay_member_id_t leader, size_t i) {
  relay_env_t e = decode_act(find_act(RELAY_ACT_BATCH, leader));
  uint64_t v = 0;
  for (size_t k = 0; k < 8; k++)
    v = (v << 8) | e.leaves.ptr[i * 8 + k];
  return v;
}

/* Time moves on to the end of the batch window opened now. */
static inline void batch_window_passes(void) {
  cr_assert_eq(tick_at(now_ms + cfg.batch_delay_ms), 0);
}

/* `id` joins and sends its KeyPackage, and the batch window passes: returns the id of the
 * batch that `leader` now holds. */
static inline uint32_t joiner_batch(relay_member_id_t id, relay_member_id_t leader) {
  cr_assert_eq(join(id), 0);
  cr_assert_eq(send_kp(id), 0);
  batch_window_passes();
  return batch_of(leader, NULL, NULL);
}

/* The leader `from` commits an update (no batch, no Welcome) for each epoch in [first, end). */
static inline void commit_updates(relay_member_id_t from, uint64_t first, uint64_t end) {
  for (uint64_t e = first; e < end; e++)
    cr_assert_eq(send_commit(from, 0, e, NULL, 0), 0, "update for epoch %llu",
                 (unsigned long long)e);
}

/* Builds a group of members 1..n at epoch n-1 (one commit per joiner, in order), with
 * member 1 as creator and leader. */
static inline void grow_group(relay_member_id_t n) {
  cr_assert_eq(join(1), 0);
  for (relay_member_id_t id = 2; id <= n; id++) {
    uint32_t b = joiner_batch(id, 1);
    uint8_t ref = (uint8_t)id;
    cr_assert_eq(send_commit(1, b, relay_room_epoch(room), &ref, 1), 0);
  }
  cr_assert_eq(relay_room_group_size(room), n);
  cr_assert_eq(relay_room_epoch(room), n - 1);
}

#endif
