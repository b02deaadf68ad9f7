/*
 * Fuzz target: the relay room state machine driven by a script of events decoded from the
 * input — joins, leaves, disconnects, reconnects, ticks, raw envelopes, and well-framed
 * KeyPackages / commits / application messages built around the room's current epoch and
 * the last batch it handed out (so the fuzzer reaches commit acceptance and failover, not
 * only the parser). Invariants checked after every event:
 *   - every action's envelope decodes;
 *   - the next deadline lies in the future (a past deadline would spin the shell's timer);
 *   - the epoch never goes back, except when a new group is created (LEADER create);
 *   - the group never exceeds max_members.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mls-relay/envelope.h"
#include "mls-relay/relay.h"
#include "tests/unit/relay/synth.h"

#define GROUP "fz"

typedef struct cursor {
  const uint8_t *p, *end;
} cursor_t;

static uint8_t next(cursor_t *c) { return c->p < c->end ? *c->p++ : 0; }

static uint32_t last_batch;

static void check(relay_room_t *room, relay_actions_t *a, uint64_t now, uint64_t *epoch,
                  const relay_config_t *cfg) {
  int created = 0;
  for (size_t i = 0; i < a->n; i++) {
    relay_env_t e;
    if (relay_env_decode(a->items[i].bytes, a->items[i].len, SIZE_MAX, &e) != 0)
      abort();
    if (a->items[i].type == RELAY_ACT_LEADER && a->items[i].create)
      created = 1;
    if (a->items[i].type == RELAY_ACT_BATCH)
      last_batch = e.batch_id;
  }
  if (a->next_deadline != RELAY_NEVER && a->next_deadline <= now)
    abort();
  uint64_t ep = relay_room_epoch(room);
  if (ep < *epoch && !created)
    abort();
  *epoch = ep;
  if (relay_room_group_size(room) > cfg->max_members)
    abort();
}

static void structured(relay_event_t *ev, relay_room_t *room, cursor_t *c, synth_buf_t *out) {
  uint8_t sub = next(c) % 4;
  uint64_t epoch = relay_room_epoch(room) + (next(c) % 3) - 1; /* -1, 0, +1 */
  synth_buf_t m = {0}, w = {0};
  switch (sub) {
  case 0:
    m = synth_key_package(1 + next(c) % 2, next(c) % 16);
    *out = synth_env_kp((uint8_t)ev->member, &m);
    break;
  case 1: {
    uint8_t refs[4];
    size_t n = next(c) % 4;
    for (size_t i = 0; i < n; i++)
      refs[i] = 1 + next(c) % 8;
    m = synth_private(GROUP, epoch, 3, 0, 16);
    if (n)
      w = synth_welcome(1, refs, n);
    *out = synth_env_commit(next(c) & 1 ? last_batch : 0, &m, n ? &w : NULL);
    break;
  }
  case 2:
    m = synth_private(GROUP, epoch, 1, 0, 16);
    *out = synth_env_mls(RELAY_ENV_APPLICATION, &m);
    break;
  default:
    m = synth_public(GROUP, epoch, 1 + next(c) % 4, 0, 0, 2, 8);
    *out = synth_env_mls(RELAY_ENV_PROPOSAL, &m);
    break;
  }
  free(m.p);
  free(w.p);
  ev->data = out->p;
  ev->len = out->len;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  relay_config_t cfg;
  relay_room_t *room;
  relay_actions_t acts;
  cursor_t c = {data, data + size};
  uint64_t now = 1, epoch = 0;
  relay_config_default(&cfg);
  cfg.max_members = 6;
  cfg.max_pending = 3;
  cfg.log_len = 3;
  cfg.max_message = 4096;
  cfg.commit_timeout_ms = 500;
  cfg.batch_delay_ms = 10;
  cfg.reconnect_grace_ms = 1000;
  if (relay_room_new(&cfg, &room) != 0)
    abort();
  relay_actions_init(&acts);
  last_batch = 0;
  for (int steps = 0; c.p < c.end && steps < 256; steps++) {
    relay_event_t ev = {0};
    synth_buf_t buf = {0};
    uint8_t op = next(&c) % 7;
    ev.member = 1 + next(&c) % 8;
    switch (op) {
    case 0:
      ev.type = RELAY_EV_JOINED;
      break;
    case 1: {
      uint8_t e = next(&c);
      ev.type = RELAY_EV_CONNECTED;
      ev.resume_epoch = e == 0xff ? RELAY_NO_STATE : e;
      break;
    }
    case 2:
      ev.type = RELAY_EV_DISCONNECTED;
      break;
    case 3:
      ev.type = RELAY_EV_LEFT;
      break;
    case 4:
      ev.type = RELAY_EV_TICK;
      now += (uint64_t)next(&c) * 10;
      break;
    case 5: {
      size_t len = next(&c);
      if (len > (size_t)(c.end - c.p))
        len = (size_t)(c.end - c.p);
      ev.type = RELAY_EV_MESSAGE;
      ev.data = c.p;
      ev.len = len;
      c.p += len;
      break;
    }
    default:
      ev.type = RELAY_EV_MESSAGE;
      structured(&ev, room, &c, &buf);
      break;
    }
    now += next(&c) % 4;
    relay_room_handle(room, &ev, now, &acts);
    free(buf.p);
    check(room, &acts, now, &epoch, &cfg);
  }
  relay_actions_free(&acts);
  relay_room_free(room);
  return 0;
}
