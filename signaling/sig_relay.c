/*
 * veil — the MLS relay inside the signaling core: one relay_room_t (mls-relay/relay.h)
 * per signaling room, fed with membership events (a participant joined the room / left
 * it), the binary frames of joined participants and timer ticks; its actions become binary
 * frames to the named participants (docs/relay.md).
 *
 * Member ids are the numeric part of the participant ids the hub assigns ("p1f" is member
 * 0x1f), so the ids in `leader` and `batch` controls match the roster. A participant held
 * for a resume (sig_resume.c) is DISCONNECTED and, when a connection resumes it, CONNECTED
 * with its MLS epoch; the relay's reconnect grace is the hub's, so both let go of it at
 * the same time.
 *
 * Recipients are looked up by a scan of the room's members: O(members) per recipient, at
 * most a few thousand compares per broadcast at the room limits; a member index would be
 * the next step if rooms grow.
 */
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/log.h"
#include "signaling/sig_internal.h"
#include "signaling/sig_room.h"

static sig_session_t *member_session(sig_room_t *room, relay_member_id_t id) {
  for (sig_session_t *p = room->members; p; p = p->room_next)
    if (p->member_id == id)
      return p;
  return NULL;
}

static void send_to(sig_hub_t *hub, sig_room_t *room, relay_member_id_t id, const uint8_t *b, size_t n) {
  sig_session_t *s = member_session(room, id);
  if (s && s->state == SIG_JOINED)
    hub->cfg.io.send_binary(hub->cfg.io.user, s, b, n);
}

static void perform(sig_hub_t *hub, sig_room_t *room, const relay_actions_t *acts) {
  for (size_t i = 0; i < acts->n; i++) {
    const relay_action_t *a = &acts->items[i];
    if (a->type == RELAY_ACT_BROADCAST || a->type == RELAY_ACT_LEADER) {
      for (size_t k = 0; k < a->n_to; k++)
        send_to(hub, room, a->to[k], a->bytes, a->len);
    } else {
      send_to(hub, room, a->member, a->bytes, a->len);
    }
    if (a->type == RELAY_ACT_LEADER)
      veil_log(VEIL_LOG_INFO, "relay", "leader", "room=%s leader=p%llx epoch=%llu create=%d", room->name,
               (unsigned long long)a->leader, (unsigned long long)a->epoch, a->create);
  }
  room->relay_deadline = acts->next_deadline;
}

/* The relay wants a non-decreasing clock; the hub's callers pass the loop's monotonic
 * time, which we clamp in case two callers race by a millisecond. */
static uint64_t relay_now(sig_hub_t *hub, uint64_t now_ms) {
  if (now_ms < hub->relay_clock)
    now_ms = hub->relay_clock;
  hub->relay_clock = now_ms;
  return now_ms;
}

static int feed(sig_hub_t *hub, sig_room_t *room, const relay_event_t *ev, uint64_t now_ms) {
  int rc = relay_room_handle(room->relay, ev, relay_now(hub, now_ms), &hub->relay_acts);
  /* A refused envelope still yields an ERROR action for its sender: perform either way. */
  perform(hub, room, &hub->relay_acts);
  return rc;
}

int sig_relay_joined(sig_hub_t *hub, sig_session_t *s, uint64_t now_ms) {
  sig_room_t *room = s->room;
  if (!room->relay) {
    relay_config_t rc;
    relay_config_default(&rc);
    rc.max_members = hub->cfg.limits.max_participants_per_room < 1024 ? hub->cfg.limits.max_participants_per_room : 1024;
    if (rc.max_members < 1)
      rc.max_members = 1;
    rc.max_message = hub->cfg.limits.max_mls_message_bytes;
    if (sig_resume_enabled(hub))
      rc.reconnect_grace_ms = hub->cfg.limits.reconnect_grace_ms;
    int err = relay_room_new(&rc, &room->relay);
    if (err)
      return err;
    room->relay_deadline = RELAY_NEVER;
  }
  relay_event_t ev = {.type = RELAY_EV_JOINED, .member = s->member_id};
  return feed(hub, room, &ev, now_ms);
}

void sig_relay_left(sig_hub_t *hub, sig_session_t *s, uint64_t now_ms) {
  sig_room_t *room = s->room;
  if (!room || !room->relay)
    return;
  relay_event_t ev = {.type = RELAY_EV_LEFT, .member = s->member_id};
  (void)feed(hub, room, &ev, now_ms);
}

void sig_relay_away(sig_hub_t *hub, sig_session_t *s, uint64_t now_ms) {
  if (!s->room || !s->room->relay)
    return;
  relay_event_t ev = {.type = RELAY_EV_DISCONNECTED, .member = s->member_id};
  (void)feed(hub, s->room, &ev, now_ms);
}

void sig_relay_back(sig_hub_t *hub, sig_session_t *s, uint64_t epoch, uint64_t now_ms) {
  if (!s->room || !s->room->relay)
    return;
  relay_event_t ev = {.type = RELAY_EV_CONNECTED, .member = s->member_id, .resume_epoch = epoch};
  int rc = feed(hub, s->room, &ev, now_ms);
  if (rc)
    veil_log(VEIL_LOG_WARN, "relay", "resume_failed", "room=%s participant=%s err=%s", s->room->name, s->id,
             veil_strerror(rc));
}

static void add_metrics(sig_relay_totals_t *t, const relay_room_t *r) {
  relay_metrics_t m;
  relay_room_metrics(r, &m);
  t->commits_accepted += m.commits_accepted;
  t->commits_rejected += m.commits_rejected;
  t->messages_rejected += m.messages_rejected;
  t->leader_changes += m.leader_changes;
  t->welcomes_delivered += m.joins_completed;
  t->rejoins += m.rejoins;
  t->join_latency_sum_ms += m.join_latency_sum_ms;
  if (m.join_latency_max_ms > t->join_latency_max_ms)
    t->join_latency_max_ms = m.join_latency_max_ms;
  if (m.epoch > t->epoch_max)
    t->epoch_max = m.epoch;
}

void sig_hub_relay_totals(const sig_hub_t *hub, sig_relay_totals_t *out) {
  *out = hub->relay_closed;
  out->epoch_max = 0; /* a gauge over the rooms still open; freed rooms' counters only */
  for (sig_room_t *r = hub->rooms; r; r = r->next)
    if (r->relay)
      add_metrics(out, r->relay);
}

void sig_relay_free(sig_hub_t *hub, sig_room_t *room) {
  if (room->relay)
    add_metrics(&hub->relay_closed, room->relay);
  relay_room_free(room->relay);
  room->relay = NULL;
}

int sig_handle_binary(sig_hub_t *hub, sig_session_t *s, const uint8_t *data, size_t len, uint64_t now_ms) {
  hub->stats.binary_in++;
  if (s->state == SIG_CLOSING)
    return VEIL_ESIG_STATE;
  if (s->state != SIG_JOINED || !s->room->relay) {
    sig_send_error(hub, s, VEIL_ESIG_STATE, -1, "MLS envelopes are accepted only after join");
    return VEIL_ESIG_STATE;
  }
  if (len > hub->cfg.limits.max_mls_message_bytes) {
    sig_send_error(hub, s, VEIL_ESIG_TOO_LARGE, -1, NULL);
    return VEIL_ESIG_TOO_LARGE;
  }
  /* The relay answers a refused envelope itself, with a binary error control. */
  relay_event_t ev = {.type = RELAY_EV_MESSAGE, .member = s->member_id, .data = data, .len = len};
  int rc = feed(hub, s->room, &ev, now_ms);
  if (rc)
    hub->stats.relay_refused++;
  return rc;
}

uint64_t sig_hub_next_deadline(const sig_hub_t *hub) {
  uint64_t d = sig_resume_next_deadline(hub);
  for (sig_room_t *r = hub->rooms; r; r = r->next)
    if (r->relay && r->relay_deadline < d)
      d = r->relay_deadline;
  return d;
}

void sig_hub_tick(sig_hub_t *hub, uint64_t now_ms) {
  for (sig_room_t *r = hub->rooms; r; r = r->next) {
    if (r->relay && r->relay_deadline != RELAY_NEVER && r->relay_deadline <= now_ms) {
      relay_event_t ev = {.type = RELAY_EV_TICK};
      (void)feed(hub, r, &ev, now_ms);
    }
  }
  /* After the relays: a room freed by an expiry is no longer in the list above. */
  sig_resume_expire(hub, now_ms);
}
