/*
 * veil mls-relay — member table, leader election, batches and the commit log.
 *
 * Complexity: the member table is a flat array of cfg.max_members slots (<= 1024) scanned
 * linearly. A fan-out has to walk every member anyway to list recipients, so a hash index
 * would only save the sender lookup; rejected as not worth its code at these sizes.
 */
#include "mls-relay/room.h"

#include <stdlib.h>
#include <string.h>

#include "mls-relay/envelope.h"

struct member *room_find(relay_room_t *r, relay_member_id_t id) {
  for (size_t i = 0; i < r->cfg.max_members; i++)
    if (r->members[i].state != M_FREE && r->members[i].id == id)
      return &r->members[i];
  return NULL;
}

struct member *room_alloc(relay_room_t *r, relay_member_id_t id) {
  for (size_t i = 0; i < r->cfg.max_members; i++) {
    struct member *m = &r->members[i];
    if (m->state == M_FREE) {
      memset(m, 0, sizeof(*m));
      m->id = id;
      m->state = M_EXPECT_KEY_PACKAGE;
      m->connected = 1;
      m->arrival_seq = r->next_arrival++;
      return m;
    }
  }
  return NULL;
}

void room_drop_kp(struct member *m) {
  free(m->kp);
  m->kp = NULL;
  m->kp_len = 0;
  m->ref_len = 0;
  m->batch_id = 0;
  m->departed = 0;
}

void room_free_member(relay_room_t *r, struct member *m) {
  (void)r;
  room_drop_kp(m);
  memset(m, 0, sizeof(*m));
}

size_t room_count(const relay_room_t *r, member_state_t st) {
  size_t n = 0;
  for (size_t i = 0; i < r->cfg.max_members; i++)
    n += r->members[i].state == st;
  return n;
}

void room_note_pending(relay_room_t *r, uint64_t now) {
  /* The first item of a batch starts the batching window; later items ride along. */
  if (r->batch_due == RELAY_NEVER)
    r->batch_due = now + r->cfg.batch_delay_ms;
}

void room_push_leave(relay_room_t *r, relay_member_id_t id, uint64_t now) {
  /* Cannot overflow: a leave replaces a group member (KeyPackages are admitted only
   * while group + leaves + joins < max_members), so leaves never exceed the slots. */
  if (r->n_leaves == r->cfg.max_members)
    return;
  r->leaves[r->n_leaves].id = id;
  r->leaves[r->n_leaves].batch_id = 0;
  r->n_leaves++;
  room_note_pending(r, now);
}

void room_unbatch(relay_room_t *r, uint64_t now) {
  for (size_t i = 0; i < r->cfg.max_members; i++) {
    struct member *m = &r->members[i];
    if (m->state != M_EXPECT_WELCOME || m->batch_id == 0)
      continue;
    if (m->departed)
      room_free_member(r, m); /* nobody to add any more */
    else
      m->batch_id = 0;
  }
  for (size_t i = 0; i < r->n_leaves; i++)
    r->leaves[i].batch_id = 0;
  r->batch_id = 0;
  if (r->state == ROOM_EXPECT_COMMIT)
    r->state = ROOM_EXPECT_BATCH;
  /* These items have waited already: hand them to the (next) leader at once. */
  r->batch_due = now;
}

int room_emit_error(relay_room_t *r, relay_member_id_t to, int code, uint8_t kind,
                    relay_actions_t *out) {
  int idx = relay_act_begin(out, RELAY_ACT_ERROR, to);
  if (idx < 0)
    return idx;
  out->items[idx].code = code;
  out->items[idx].epoch = r->epoch;
  relay_env_put_error(&out->bytes, code, r->epoch, kind);
  return relay_act_end(out, idx);
}

int room_emit_rejoin(relay_room_t *r, relay_member_id_t to, relay_actions_t *out) {
  int idx = relay_act_begin(out, RELAY_ACT_REJOIN, to);
  if (idx < 0)
    return idx;
  out->items[idx].epoch = r->epoch;
  r->m.rejoins++;
  relay_env_put_rejoin(&out->bytes, r->epoch);
  return relay_act_end(out, idx);
}

int room_broadcast(relay_room_t *r, relay_member_id_t except, const uint8_t *env, size_t len,
                   relay_actions_t *out) {
  int idx = relay_act_begin(out, RELAY_ACT_BROADCAST, RELAY_NO_MEMBER);
  if (idx < 0)
    return idx;
  veil_write_bytes(&out->bytes, env, len);
  int rc = relay_act_end(out, idx);
  for (size_t i = 0; rc == 0 && i < r->cfg.max_members; i++) {
    const struct member *m = &r->members[i];
    if (m->state == M_IN_GROUP && m->connected && m->id != except)
      rc = relay_act_add_to(out, idx, m->id);
  }
  if (rc == 0 && out->items[idx].n_to == 0)
    relay_act_drop_last(out, idx);
  return rc;
}

int room_rejoin(relay_room_t *r, struct member *m, uint64_t now, relay_actions_t *out) {
  room_push_leave(r, m->id, now);
  m->state = M_EXPECT_KEY_PACKAGE;
  m->join_seq = 0;
  return room_emit_rejoin(r, m->id, out);
}

int room_demote_leader(relay_room_t *r, int gone, uint64_t now, relay_actions_t *out) {
  struct member *m = room_find(r, r->leader);
  int rc = 0;
  r->leader = RELAY_NO_MEMBER;
  r->leader_lost = 1;
  room_unbatch(r, now);
  if (!m)
    return 0;
  if (!gone) {
    /* A connected leader that missed its deadline: the next leader removes it, so its
     * state is useless; it must come back as a joiner. */
    rc = room_rejoin(r, m, now, out);
  } else {
    room_push_leave(r, m->id, now);
    room_free_member(r, m);
  }
  return rc;
}

/* The group has no member left: a new group starts from scratch (new group id, epoch 0). */
static void reset_group(relay_room_t *r) {
  r->epoch = 0;
  r->group_bound = 0;
  r->group_id_len = 0;
  r->suite_known = 0;
  r->suite = 0;
  r->n_leaves = 0;
  room_log_clear(r);
  for (size_t i = 0; i < r->cfg.max_members; i++) {
    struct member *m = &r->members[i];
    if (m->state == M_EXPECT_WELCOME && m->departed)
      room_free_member(r, m);
    else if (m->state == M_EXPECT_WELCOME)
      m->batch_id = 0;
  }
  r->batch_id = 0;
  r->state = ROOM_EXPECT_BATCH;
  r->m.epoch = 0;
}

/* LEADER to every connected participant (`only` == RELAY_NO_MEMBER) or to one. */
static int announce_leader(relay_room_t *r, int create, relay_member_id_t only,
                           relay_actions_t *out) {
  int idx = relay_act_begin(out, RELAY_ACT_LEADER, RELAY_NO_MEMBER);
  if (idx < 0)
    return idx;
  out->items[idx].leader = r->leader;
  out->items[idx].epoch = r->epoch;
  out->items[idx].create = create;
  relay_env_put_leader(&out->bytes, r->leader, r->epoch, create ? RELAY_LEADER_FLAG_CREATE : 0);
  int rc = relay_act_end(out, idx);
  if (only != RELAY_NO_MEMBER)
    return rc ? rc : relay_act_add_to(out, idx, only);
  /* Everyone in the room learns who leads: joiners know whom their KeyPackage goes to. */
  for (size_t i = 0; rc == 0 && i < r->cfg.max_members; i++) {
    const struct member *m = &r->members[i];
    if (m->state != M_FREE && m->connected)
      rc = relay_act_add_to(out, idx, m->id);
  }
  if (r->leader_lost)
    r->m.leader_changes++;
  r->leader_lost = 0;
  return rc;
}

int room_greet(relay_room_t *r, relay_member_id_t id, relay_actions_t *out) {
  if (r->leader == RELAY_NO_MEMBER)
    return 0; /* it hears of the leader when one is elected */
  for (size_t i = 0; i < out->n; i++) {
    const relay_action_t *a = &out->items[i];
    if (a->type != RELAY_ACT_LEADER)
      continue;
    for (size_t k = 0; k < a->n_to; k++)
      if (out->ids[a->to_off_ + k] == id)
        return 0; /* already told in this call */
  }
  return announce_leader(r, 0, id, out);
}

static int elect(relay_room_t *r, relay_actions_t *out) {
  struct member *best = NULL;
  size_t in_group = 0;
  for (size_t i = 0; i < r->cfg.max_members; i++) {
    struct member *m = &r->members[i];
    if (m->state != M_IN_GROUP)
      continue;
    in_group++;
    if (m->connected && (!best || m->join_seq < best->join_seq))
      best = m;
  }
  if (best) {
    r->leader = best->id;
    return announce_leader(r, 0, RELAY_NO_MEMBER, out);
  }
  if (in_group > 0)
    return 0; /* members are away within their grace: wait for one to come back */
  /* Nobody holds the group: the longest-waiting participant creates a new one. */
  for (size_t i = 0; i < r->cfg.max_members; i++) {
    struct member *m = &r->members[i];
    if (m->state == M_FREE || !m->connected)
      continue;
    if (!best || m->arrival_seq < best->arrival_seq)
      best = m;
  }
  if (!best) {
    r->state = ROOM_EXPECT_CREATOR;
    return 0;
  }
  reset_group(r);
  room_drop_kp(best);
  best->state = M_IN_GROUP;
  best->join_seq = r->next_join++;
  r->leader = best->id;
  return announce_leader(r, 1, RELAY_NO_MEMBER, out);
}

/* Hands every queued join and leave to the leader as one batch (issue 8: joins and leaves
 * arriving together are committed together). */
static int issue_batch(relay_room_t *r, uint64_t now, relay_actions_t *out) {
  size_t joins = 0, leaves = 0;
  for (size_t i = 0; i < r->cfg.max_members; i++)
    joins += r->members[i].state == M_EXPECT_WELCOME && r->members[i].batch_id == 0;
  for (size_t i = 0; i < r->n_leaves; i++)
    leaves += r->leaves[i].batch_id == 0;
  if (joins + leaves == 0) {
    r->batch_due = RELAY_NEVER;
    return 0;
  }
  if (now < r->batch_due)
    return 0;
  uint32_t bid = r->last_batch_id + 1;
  if (bid == 0)
    bid = 1; /* 0 means "no batch" on the wire */
  int idx = relay_act_begin(out, RELAY_ACT_BATCH, r->leader);
  if (idx < 0)
    return idx;
  veil_wblock_t blk;
  relay_env_batch_begin(&out->bytes, bid, r->epoch, &blk);
  for (size_t i = 0; i < r->cfg.max_members; i++) {
    struct member *m = &r->members[i];
    if (m->state == M_EXPECT_WELCOME && m->batch_id == 0)
      relay_env_batch_add_join(&out->bytes, m->id, m->kp, m->kp_len);
  }
  relay_env_batch_mid(&out->bytes, &blk);
  for (size_t i = 0; i < r->n_leaves; i++)
    if (r->leaves[i].batch_id == 0)
      relay_env_batch_add_leave(&out->bytes, r->leaves[i].id);
  relay_env_batch_end(&out->bytes, &blk);
  out->items[idx].epoch = r->epoch;
  int rc = relay_act_end(out, idx);
  if (rc)
    return rc;
  for (size_t i = 0; i < r->cfg.max_members; i++) {
    struct member *m = &r->members[i];
    if (m->state == M_EXPECT_WELCOME && m->batch_id == 0)
      m->batch_id = bid;
  }
  for (size_t i = 0; i < r->n_leaves; i++)
    if (r->leaves[i].batch_id == 0)
      r->leaves[i].batch_id = bid;
  r->last_batch_id = bid;
  r->batch_id = bid;
  r->state = ROOM_EXPECT_COMMIT;
  r->commit_deadline = now + r->cfg.commit_timeout_ms;
  r->batch_due = RELAY_NEVER;
  return 0;
}

static int run_timers(relay_room_t *r, uint64_t now, relay_actions_t *out) {
  for (size_t i = 0; i < r->cfg.max_members; i++) {
    struct member *m = &r->members[i];
    if (m->state == M_IN_GROUP && !m->connected &&
        now - m->disconnected_at >= r->cfg.reconnect_grace_ms) {
      room_push_leave(r, m->id, now);
      room_free_member(r, m);
    }
  }
  if (r->state == ROOM_EXPECT_COMMIT && now >= r->commit_deadline)
    return room_demote_leader(r, 0, now, out);
  return 0;
}

int room_settle(relay_room_t *r, uint64_t now, relay_actions_t *out) {
  int rc = run_timers(r, now, out);
  if (rc == 0 && r->leader == RELAY_NO_MEMBER)
    rc = elect(r, out);
  if (rc == 0 && r->leader != RELAY_NO_MEMBER && r->state == ROOM_EXPECT_BATCH)
    rc = issue_batch(r, now, out);
  return rc;
}

uint64_t room_next_deadline(const relay_room_t *r) {
  uint64_t d = RELAY_NEVER;
  if (r->state == ROOM_EXPECT_COMMIT)
    d = r->commit_deadline;
  else if (r->leader != RELAY_NO_MEMBER && r->batch_due < d)
    d = r->batch_due;
  for (size_t i = 0; i < r->cfg.max_members; i++) {
    const struct member *m = &r->members[i];
    if (m->state == M_IN_GROUP && !m->connected &&
        m->disconnected_at + r->cfg.reconnect_grace_ms < d)
      d = m->disconnected_at + r->cfg.reconnect_grace_ms;
  }
  return d;
}

/* ---------------------------------------------------------------------------------------
 * Commit log: a ring of the last cfg.log_len accepted commits, consecutive epochs.
 */
static void log_evict_oldest(relay_room_t *r) {
  struct log_entry *e = &r->log[r->log_head];
  r->log_bytes -= e->len;
  free(e->bytes);
  e->bytes = NULL;
  r->log_head = (r->log_head + 1) % r->cfg.log_len;
  r->log_count--;
}

void room_log_push(relay_room_t *r, uint64_t epoch, uint8_t *bytes, size_t len) {
  if (r->log_count == r->cfg.log_len)
    log_evict_oldest(r);
  /* Bounded in bytes too: a few huge commits (large trees) must not pin megabytes per
   * room. len <= max_message <= log_max_bytes, so the newest entry always fits. */
  while (r->log_count > 0 && r->log_bytes + len > r->cfg.log_max_bytes)
    log_evict_oldest(r);
  size_t slot = (r->log_head + r->log_count) % r->cfg.log_len;
  r->log[slot].epoch = epoch;
  r->log[slot].bytes = bytes;
  r->log[slot].len = len;
  r->log_count++;
  r->log_bytes += len;
}

int room_log_covers(const relay_room_t *r, uint64_t from) {
  if (from == r->epoch)
    return 1;
  if (from > r->epoch || r->log_count == 0)
    return 0;
  return r->log[r->log_head].epoch <= from;
}

int room_log_replay(relay_room_t *r, relay_member_id_t to, uint64_t from, relay_actions_t *out) {
  for (size_t k = 0; k < r->log_count; k++) {
    const struct log_entry *e = &r->log[(r->log_head + k) % r->cfg.log_len];
    if (e->epoch < from)
      continue;
    int idx = relay_act_begin(out, RELAY_ACT_SEND, to);
    if (idx < 0)
      return idx;
    veil_write_bytes(&out->bytes, e->bytes, e->len);
    int rc = relay_act_end(out, idx);
    if (rc)
      return rc;
    r->m.replayed_commits++;
  }
  return 0;
}

void room_log_clear(relay_room_t *r) {
  for (size_t k = 0; k < r->log_count; k++)
    free(r->log[(r->log_head + k) % r->cfg.log_len].bytes);
  r->log_head = 0;
  r->log_count = 0;
  r->log_bytes = 0;
}
