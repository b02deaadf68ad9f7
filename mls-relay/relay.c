/*
 * veil mls-relay — events and messages of the per-room state machine. Contract in
 * relay.h; the member table, election, batches and log are in room.c.
 *
 * A member's envelope is first checked against the legality table below (kind x member
 * state); the handlers then check the MLS framing (peek.h) against the room.
 */
#include "mls-relay/relay.h"

#include <stdlib.h>
#include <string.h>

#include "mls-relay/envelope.h"
#include "mls-relay/room.h"

/* Timers above a day are configuration mistakes; the bound also keeps now + timeout far
 * from overflow. */
#define RELAY_MAX_TIMEOUT_MS (UINT64_C(24) * 3600 * 1000)

void relay_config_default(relay_config_t *cfg) {
  cfg->max_members = 64;
  cfg->max_pending = 16;
  cfg->log_len = 64;
  cfg->log_max_bytes = 2 * 1024 * 1024;
  cfg->max_message = 256 * 1024;
  cfg->commit_timeout_ms = 5000;
  cfg->batch_delay_ms = 20;
  cfg->reconnect_grace_ms = 15000;
}

int relay_room_new(const relay_config_t *cfg, relay_room_t **out) {
  relay_room_t *r = NULL;
  if (!cfg || !out)
    return VEIL_EINVAL;
  *out = NULL;
  /* Bounds checked before allocating (STYLE.md 10). */
  if (cfg->max_members < 1 || cfg->max_members > 1024 || cfg->max_pending < 1 ||
      cfg->max_pending > RELAY_PEEK_MAX_NEW_MEMBERS || cfg->log_len < 1 ||
      cfg->log_len > 4096 || cfg->max_message < 64 || cfg->max_message > VEIL_MLS_VARINT_MAX ||
      cfg->log_max_bytes < cfg->max_message || cfg->commit_timeout_ms > RELAY_MAX_TIMEOUT_MS ||
      cfg->batch_delay_ms > RELAY_MAX_TIMEOUT_MS || cfg->reconnect_grace_ms > RELAY_MAX_TIMEOUT_MS)
    return VEIL_EINVAL;
  r = calloc(1, sizeof(*r));
  if (!r)
    goto fail;
  r->cfg = *cfg;
  r->members = calloc(cfg->max_members, sizeof(*r->members));
  r->leaves = calloc(cfg->max_members, sizeof(*r->leaves));
  r->log = calloc(cfg->log_len, sizeof(*r->log));
  if (!r->members || !r->leaves || !r->log)
    goto fail;
  r->state = ROOM_EXPECT_CREATOR;
  r->leader = RELAY_NO_MEMBER;
  r->batch_due = RELAY_NEVER;
  r->commit_deadline = RELAY_NEVER;
  *out = r;
  return 0;
fail:
  relay_room_free(r);
  return VEIL_ENOMEM;
}

void relay_room_free(relay_room_t *r) {
  if (!r)
    return;
  if (r->members)
    for (size_t i = 0; i < r->cfg.max_members; i++)
      room_drop_kp(&r->members[i]);
  if (r->log)
    room_log_clear(r);
  free(r->members);
  free(r->leaves);
  free(r->log);
  free(r);
}

/* ---------------------------------------------------------------------------------------
 * Room membership events
 */
static int on_joined(relay_room_t *r, relay_member_id_t id, uint64_t now,
                     relay_actions_t *out) {
  struct member *m = room_find(r, id);
  if (m && m->connected)
    return VEIL_EEXIST;
  if (m) {
    m->connected = 1;
    if (m->state == M_EXPECT_WELCOME) {
      /* Its KeyPackage is in the outstanding batch: the leader may be adding it, and
       * the commit's Welcome must still find it. It stays a joiner. */
      m->departed = 0;
      return 0;
    }
    /* Back without state while its old leaf is still in the group: that leaf must go,
     * and the participant starts over as a joiner. */
    room_push_leave(r, m->id, now);
    m->state = M_EXPECT_KEY_PACKAGE;
    m->join_seq = 0;
    return room_emit_rejoin(r, m->id, out);
  }
  if (!room_alloc(r, id)) {
    int rc = room_emit_error(r, id, VEIL_ERELAY_FULL, 0, out);
    return rc ? rc : VEIL_ERELAY_FULL;
  }
  return 0;
}

static int on_connected(relay_room_t *r, relay_member_id_t id, uint64_t resume,
                        uint64_t now, relay_actions_t *out) {
  struct member *m = room_find(r, id);
  if (!m) {
    /* Unknown here (never seen, or its place expired): a joiner. If it kept MLS state,
     * that state is for a group that no longer counts it: tell it to start over. */
    m = room_alloc(r, id);
    if (!m) {
      int rc = room_emit_error(r, id, VEIL_ERELAY_FULL, 0, out);
      return rc ? rc : VEIL_ERELAY_FULL;
    }
    return resume == RELAY_NO_STATE ? 0 : room_emit_rejoin(r, id, out);
  }
  if (m->connected)
    return VEIL_EEXIST;
  m->connected = 1;
  if (m->state == M_EXPECT_WELCOME) {
    m->departed = 0; /* back before its batch was committed: still a joiner */
    return 0;
  }
  if (m->state != M_IN_GROUP)
    return 0;
  /* Resume (issue 8): replay what it missed from the log, or rejoin if too far behind. */
  if (resume == RELAY_NO_STATE || !room_log_covers(r, resume))
    return room_rejoin(r, m, now, out);
  return room_log_replay(r, id, resume, out);
}

static int on_gone(relay_room_t *r, relay_member_id_t id, int left, uint64_t now,
                   relay_actions_t *out) {
  struct member *m = room_find(r, id);
  if (!m)
    return VEIL_ENOTFOUND;
  if (!m->connected && !left)
    return 0;
  switch (m->state) {
  case M_IN_GROUP:
    if (id == r->leader)
      return room_demote_leader(r, 1, now, out);
    if (left) {
      room_push_leave(r, id, now);
      room_free_member(r, m);
    } else {
      m->connected = 0; /* keeps its place for cfg.reconnect_grace_ms */
      m->disconnected_at = now;
    }
    return 0;
  case M_EXPECT_WELCOME:
    if (m->batch_id != 0) {
      /* The leader may already be adding it: wait for the commit to know. */
      m->connected = 0;
      m->departed = 1;
      return 0;
    }
    room_free_member(r, m);
    return 0;
  case M_EXPECT_KEY_PACKAGE:
    room_free_member(r, m);
    return 0;
  case M_FREE:
    break;
  }
  return VEIL_ESTATE;
}

/* ---------------------------------------------------------------------------------------
 * Messages
 */
static int refuse(relay_room_t *r, struct member *m, int code, uint8_t kind,
                  relay_actions_t *out) {
  r->m.messages_rejected++;
  if (kind == RELAY_ENV_COMMIT)
    r->m.commits_rejected++;
  int rc = room_emit_error(r, m->id, code, kind, out);
  return rc ? rc : code;
}

/* Group id and epoch of a framed handshake/application message against the room's. */
static int check_group_epoch(const relay_room_t *r, const relay_peek_t *p) {
  if (r->group_bound && (p->group_id.len != r->group_id_len ||
                         memcmp(p->group_id.ptr, r->group_id, r->group_id_len) != 0))
    return VEIL_ERELAY_GROUP;
  if (p->epoch < r->epoch)
    return VEIL_ERELAY_STALE_EPOCH;
  if (p->epoch > r->epoch)
    return VEIL_ERELAY_FUTURE_EPOCH;
  return 0;
}

/* Peeks a framed message and checks it carries `want` content from a member. */
static int peek_framed(const veil_view_t *mls, uint8_t want, relay_peek_t *p) {
  int rc = relay_peek(mls->ptr, mls->len, p);
  if (rc)
    return rc;
  if (p->wire_format != RELAY_WF_PUBLIC_MESSAGE && p->wire_format != RELAY_WF_PRIVATE_MESSAGE)
    return VEIL_ERELAY_WIRE_FORMAT;
  if (p->content_type != want)
    return VEIL_ERELAY_CONTENT_TYPE;
  /* External and new-member senders bypass the leader's join flow: the relay admits
   * joiners only by KeyPackage + Welcome (RFC 9420 §12.4.3.2 external commits and
   * §12.1.8 external proposals are out of this room's policy). */
  if (p->wire_format == RELAY_WF_PUBLIC_MESSAGE && p->sender_type != RELAY_SENDER_MEMBER)
    return VEIL_ERELAY_SENDER_TYPE;
  /* RFC 9420 §2: an application message is a PrivateMessage; a PublicMessage would put
   * application data in the clear on the relay. */
  if (want == RELAY_CT_APPLICATION && p->wire_format != RELAY_WF_PRIVATE_MESSAGE)
    return VEIL_ERELAY_PLAINTEXT;
  return 0;
}

static int on_key_package(relay_room_t *r, struct member *m, const relay_env_t *env,
                          uint64_t now, relay_actions_t *out) {
  relay_peek_t p;
  int rc = relay_peek(env->mls.ptr, env->mls.len, &p);
  if (rc == 0 && p.wire_format != RELAY_WF_KEY_PACKAGE)
    rc = VEIL_ERELAY_WIRE_FORMAT;
  if (rc == 0 && r->suite_known && p.cipher_suite != r->suite)
    rc = VEIL_ERELAY_CIPHER_SUITE;
  size_t joins = room_count(r, M_EXPECT_WELCOME);
  if (rc == 0 && (joins >= r->cfg.max_pending ||
                  room_count(r, M_IN_GROUP) + r->n_leaves + joins >= r->cfg.max_members))
    rc = VEIL_ERELAY_FULL;
  for (size_t i = 0; rc == 0 && i < r->cfg.max_members; i++) {
    const struct member *o = &r->members[i];
    if (o->state == M_EXPECT_WELCOME && o->ref_len == env->ref.len &&
        memcmp(o->ref, env->ref.ptr, o->ref_len) == 0)
      rc = VEIL_EEXIST; /* two joiners cannot share a KeyPackageRef */
  }
  if (rc)
    return refuse(r, m, rc, env->kind, out);
  m->kp = malloc(env->mls.len);
  if (!m->kp)
    return VEIL_ENOMEM;
  memcpy(m->kp, env->mls.ptr, env->mls.len);
  m->kp_len = env->mls.len;
  memcpy(m->ref, env->ref.ptr, env->ref.len);
  m->ref_len = env->ref.len;
  m->suite = p.cipher_suite;
  m->kp_at = now;
  m->batch_id = 0;
  m->state = M_EXPECT_WELCOME;
  room_note_pending(r, now);
  return 0;
}

/* The joiner of the committed batch holding KeyPackageRef `ref`, or NULL. */
static struct member *batch_joiner(relay_room_t *r, uint32_t bid, const veil_view_t *ref) {
  for (size_t i = 0; i < r->cfg.max_members; i++) {
    struct member *m = &r->members[i];
    if (m->state == M_EXPECT_WELCOME && m->batch_id == bid && m->ref_len == ref->len &&
        memcmp(m->ref, ref->ptr, ref->len) == 0)
      return m;
  }
  return NULL;
}

/* Checks the Welcome sent with a commit: every new_member ref names a distinct joiner of
 * the committed batch with the Welcome's cipher suite (RFC 9420 §12.4.3.1). */
static int check_welcome(relay_room_t *r, const relay_env_t *env, relay_peek_t *w) {
  int rc = relay_peek(env->welcome.ptr, env->welcome.len, w);
  if (rc)
    return rc;
  if (w->wire_format != RELAY_WF_WELCOME)
    return VEIL_ERELAY_WIRE_FORMAT;
  if (env->batch_id == 0 || w->n_new_members == 0)
    return VEIL_ERELAY_WELCOME;
  if (r->suite_known && w->cipher_suite != r->suite)
    return VEIL_ERELAY_CIPHER_SUITE;
  for (size_t i = 0; i < w->n_new_members; i++) {
    struct member *j = batch_joiner(r, env->batch_id, &w->new_members[i]);
    if (!j)
      return VEIL_ERELAY_WELCOME;
    if (j->suite != w->cipher_suite)
      return VEIL_ERELAY_CIPHER_SUITE;
    for (size_t k = 0; k < i; k++)
      if (w->new_members[k].len == w->new_members[i].len &&
          memcmp(w->new_members[k].ptr, w->new_members[i].ptr, w->new_members[i].len) == 0)
        return VEIL_ERELAY_WELCOME;
  }
  return 0;
}

/* Applies an accepted commit's batch: joiners named by the Welcome enter the group,
 * the batch's other joiners are told the leader refused them, its leaves are done. */
static int settle_batch(relay_room_t *r, const relay_env_t *env, const relay_peek_t *w,
                        uint64_t now, relay_actions_t *out) {
  int rc = 0;
  for (size_t i = 0; rc == 0 && w && i < w->n_new_members; i++) {
    struct member *j = batch_joiner(r, env->batch_id, &w->new_members[i]);
    if (j->departed) {
      /* Added while gone: its leaf is in the group and must be removed again. */
      room_push_leave(r, j->id, now);
      room_free_member(r, j);
      continue;
    }
    int idx = relay_act_begin(out, RELAY_ACT_SEND, j->id);
    if (idx < 0)
      return idx;
    relay_env_put_mls(&out->bytes, RELAY_ENV_WELCOME, env->welcome.ptr, env->welcome.len);
    rc = relay_act_end(out, idx);
    uint64_t lat = now - j->kp_at;
    r->m.joins_completed++;
    r->m.join_latency_last_ms = lat;
    r->m.join_latency_sum_ms += lat;
    if (lat > r->m.join_latency_max_ms)
      r->m.join_latency_max_ms = lat;
    room_drop_kp(j);
    j->state = M_IN_GROUP;
    j->join_seq = r->next_join++;
  }
  for (size_t i = 0; rc == 0 && i < r->cfg.max_members; i++) {
    struct member *j = &r->members[i];
    if (j->state != M_EXPECT_WELCOME || j->batch_id != env->batch_id)
      continue;
    if (j->departed) {
      room_free_member(r, j);
      continue;
    }
    room_drop_kp(j);
    j->state = M_EXPECT_KEY_PACKAGE;
    rc = room_emit_error(r, j->id, VEIL_ERELAY_KP_REJECTED, RELAY_ENV_KEY_PACKAGE, out);
  }
  size_t k = 0;
  for (size_t i = 0; i < r->n_leaves; i++)
    if (r->leaves[i].batch_id != env->batch_id)
      r->leaves[k++] = r->leaves[i];
  r->n_leaves = k;
  return rc;
}

static int on_commit(relay_room_t *r, struct member *m, const relay_env_t *env, uint64_t now,
                     relay_actions_t *out) {
  relay_peek_t p, w;
  int rc;
  if (m->id != r->leader)
    return refuse(r, m, VEIL_ERELAY_NOT_LEADER, env->kind, out);
  rc = peek_framed(&env->mls, RELAY_CT_COMMIT, &p);
  if (rc == 0)
    rc = check_group_epoch(r, &p);
  if (rc == 0 && env->batch_id != 0 &&
      (r->state != ROOM_EXPECT_COMMIT || env->batch_id != r->batch_id))
    rc = VEIL_ERELAY_BATCH;
  if (rc == 0 && env->welcome.len)
    rc = check_welcome(r, env, &w);
  if (rc)
    return refuse(r, m, rc, env->kind, out);

  /* Accepted: exactly one commit per epoch, ever (the epoch moves before anything else
   * can be checked against it). The log keeps the envelope as broadcast: no Welcome. */
  veil_writer_t lw;
  size_t llen;
  veil_writer_init_growable(&lw, env->mls.len + 16);
  relay_env_put_commit(&lw, env->batch_id, env->mls.ptr, env->mls.len, NULL, 0);
  if (lw.err) {
    veil_writer_free(&lw);
    return VEIL_ENOMEM;
  }
  uint8_t *lbytes = veil_writer_steal(&lw, &llen);
  if (!r->group_bound) {
    memcpy(r->group_id, p.group_id.ptr, p.group_id.len);
    r->group_id_len = p.group_id.len;
    r->group_bound = 1;
  }
  if (env->welcome.len && !r->suite_known) {
    r->suite = w.cipher_suite;
    r->suite_known = 1;
  }
  room_log_push(r, r->epoch, lbytes, llen);
  r->epoch++;
  r->m.epoch = r->epoch;
  r->m.commits_accepted++;
  /* Echoed to the leader too: that echo is its acknowledgement to merge the commit. */
  rc = room_broadcast(r, RELAY_NO_MEMBER, lbytes, llen, out);
  if (rc == 0 && env->batch_id != 0)
    rc = settle_batch(r, env, env->welcome.len ? &w : NULL, now, out);
  if (r->state == ROOM_EXPECT_COMMIT && env->batch_id == 0)
    room_unbatch(r, now); /* the batch was for the old epoch: reissue it */
  r->state = ROOM_EXPECT_BATCH;
  r->batch_id = 0;
  /* Anything queued meanwhile has waited for this commit: hand it over now. */
  if (r->batch_due != RELAY_NEVER)
    r->batch_due = now;
  return rc;
}

static int on_fanout(relay_room_t *r, struct member *m, const relay_env_t *env,
                     const uint8_t *raw, size_t raw_len, relay_actions_t *out) {
  relay_peek_t p;
  int rc = peek_framed(&env->mls,
                   env->kind == RELAY_ENV_PROPOSAL ? RELAY_CT_PROPOSAL : RELAY_CT_APPLICATION, &p);
  if (rc == 0 && !r->group_bound)
    rc = VEIL_ERELAY_NO_GROUP;
  if (rc == 0)
    rc = check_group_epoch(r, &p);
  if (rc)
    return refuse(r, m, rc, env->kind, out);
  /* The envelope is forwarded byte for byte: one copy into the action list. */
  return room_broadcast(r, m->id, raw, raw_len, out);
}

/* Legality of a member's envelope by kind and by the member's state: 0 = handled by the
 * kind's handler, else the refusal code. Kinds are 1..6 (envelope.h); the state M_FREE is
 * never that of a connected sender. Welcome and control travel only from the relay. */
#define NE VEIL_ERELAY_NOT_EXPECTED
#define NL VEIL_ERELAY_NOT_LEADER
#define NM VEIL_ERELAY_NOT_MEMBER
static const int legality[RELAY_ENV_CONTROL + 1][M_IN_GROUP + 1] = {
    /*                        FREE  EXPECT_KP  EXPECT_WELCOME  IN_GROUP */
    [RELAY_ENV_KEY_PACKAGE] = {NE, 0, NE, NE},
    [RELAY_ENV_COMMIT] = {NE, NL, NL, 0}, /* then: the leader only */
    [RELAY_ENV_WELCOME] = {NE, NE, NE, NE},
    [RELAY_ENV_PROPOSAL] = {NE, NM, NM, 0},
    [RELAY_ENV_APPLICATION] = {NE, NM, NM, 0},
    [RELAY_ENV_CONTROL] = {NE, NE, NE, NE},
};
#undef NE
#undef NL
#undef NM

static int on_message(relay_room_t *r, const relay_event_t *ev, uint64_t now,
                      relay_actions_t *out) {
  relay_env_t env;
  struct member *m = room_find(r, ev->member);
  if (!m)
    return VEIL_ENOTFOUND;
  if (!m->connected)
    return VEIL_ESTATE;
  if (ev->len > r->cfg.max_message)
    return refuse(r, m, VEIL_ELIMIT, 0, out);
  int rc = relay_env_decode(ev->data, ev->len, r->cfg.max_message, &env);
  if (rc)
    return refuse(r, m, rc, 0, out);
  /* relay_env_decode admits kinds 1..RELAY_ENV_CONTROL only. */
  rc = legality[env.kind][m->state];
  if (rc)
    return refuse(r, m, rc, env.kind, out);
  switch (env.kind) {
  case RELAY_ENV_KEY_PACKAGE:
    return on_key_package(r, m, &env, now, out);
  case RELAY_ENV_COMMIT:
    return on_commit(r, m, &env, now, out);
  case RELAY_ENV_PROPOSAL:
  case RELAY_ENV_APPLICATION:
    return on_fanout(r, m, &env, ev->data, ev->len, out);
  default:
    return refuse(r, m, VEIL_ERELAY_NOT_EXPECTED, env.kind, out);
  }
}

int relay_room_handle(relay_room_t *r, const relay_event_t *ev, uint64_t now,
                      relay_actions_t *out) {
  int rc;
  if (!r || !ev || !out)
    return VEIL_EINVAL;
  relay_act_reset(out);
  if (ev->type != RELAY_EV_TICK &&
      (ev->member == RELAY_NO_MEMBER || ev->member == UINT64_MAX))
    return VEIL_EINVAL;
  switch (ev->type) {
  case RELAY_EV_JOINED:
    rc = on_joined(r, ev->member, now, out);
    break;
  case RELAY_EV_CONNECTED:
    rc = on_connected(r, ev->member, ev->resume_epoch, now, out);
    break;
  case RELAY_EV_DISCONNECTED:
    rc = on_gone(r, ev->member, 0, now, out);
    break;
  case RELAY_EV_LEFT:
    rc = on_gone(r, ev->member, 1, now, out);
    break;
  case RELAY_EV_MESSAGE:
    if (!ev->data && ev->len)
      return VEIL_EINVAL;
    rc = on_message(r, ev, now, out);
    break;
  case RELAY_EV_TICK:
    rc = 0;
    break;
  default:
    return VEIL_EINVAL;
  }
  /* Timers, election and batching run after every event: an event can make a batch due
   * (a join), free the leader seat (a leave) or be the first call past a deadline. */
  int src = room_settle(r, now, out);
  if (rc == 0)
    rc = src;
  /* Every participant entering the room hears who leads, once: a joiner waits for that
   * before sending its KeyPackage (docs/relay.md). */
  if (rc == 0 && (ev->type == RELAY_EV_JOINED || ev->type == RELAY_EV_CONNECTED))
    rc = room_greet(r, ev->member, out);
  out->next_deadline = room_next_deadline(r);
  relay_act_finish(out);
  return rc;
}

void relay_room_metrics(const relay_room_t *r, relay_metrics_t *m) { *m = r->m; }
uint64_t relay_room_epoch(const relay_room_t *r) { return r->epoch; }
relay_member_id_t relay_room_leader(const relay_room_t *r) { return r->leader; }
size_t relay_room_group_size(const relay_room_t *r) { return room_count(r, M_IN_GROUP); }

int relay_room_is_empty(const relay_room_t *r) {
  for (size_t i = 0; i < r->cfg.max_members; i++)
    if (r->members[i].state != M_FREE)
      return 0;
  return 1;
}
