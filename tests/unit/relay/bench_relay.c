/*
 * Benchmark of the relay room core (no I/O): a 64-member room built through real
 * KeyPackage / batch / commit+Welcome rounds, then (1) application fan-out of a 1 KB
 * PrivateMessage to 63 members and (2) leader commits accepted, logged and broadcast.
 * Prints one JSON object.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mls-relay/envelope.h"
#include "mls-relay/relay.h"
#include "synth.h"

#define MEMBERS 64

static double now_s(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static int handle(relay_room_t *room, relay_actions_t *a, relay_event_type_t type,
                  relay_member_id_t id, const synth_buf_t *b) {
  relay_event_t ev = {.type = type, .member = id};
  if (b) {
    ev.data = b->p;
    ev.len = b->len;
  }
  return relay_room_handle(room, &ev, 1, a);
}

int main(void) {
  relay_config_t cfg;
  relay_room_t *room;
  relay_actions_t a;
  relay_config_default(&cfg);
  cfg.batch_delay_ms = 0;
  relay_actions_init(&a);
  if (relay_room_new(&cfg, &room))
    return 1;
  handle(room, &a, RELAY_EV_JOINED, 1, NULL);
  for (relay_member_id_t id = 2; id <= MEMBERS; id++) {
    handle(room, &a, RELAY_EV_JOINED, id, NULL);
    synth_buf_t kp = synth_key_package(1, 200), e = synth_env_kp((uint8_t)id, &kp);
    handle(room, &a, RELAY_EV_MESSAGE, id, &e);
    uint32_t bid = 0;
    for (size_t i = 0; i < a.n; i++) {
      relay_env_t d;
      if (a.items[i].type == RELAY_ACT_BATCH &&
          relay_env_decode(a.items[i].bytes, a.items[i].len, SIZE_MAX, &d) == 0)
        bid = d.batch_id;
    }
    uint8_t ref = (uint8_t)id;
    synth_buf_t c = synth_private("G", relay_room_epoch(room), 3, 0, 64);
    synth_buf_t w = synth_welcome(1, &ref, 1), ce = synth_env_commit(bid, &c, &w);
    int rc = handle(room, &a, RELAY_EV_MESSAGE, 1, &ce);
    free(kp.p), free(e.p), free(c.p), free(w.p), free(ce.p);
    if (rc) {
      fprintf(stderr, "setup commit refused: %d\n", rc);
      return 1;
    }
  }
  synth_buf_t m = synth_private("G", relay_room_epoch(room), 1, 0, 1000);
  synth_buf_t app = synth_env_mls(RELAY_ENV_APPLICATION, &m);
  const int n_app = 200000, n_commit = 20000;
  size_t recipients = 0;
  double t0 = now_s();
  for (int i = 0; i < n_app; i++) {
    if (handle(room, &a, RELAY_EV_MESSAGE, 2 + (relay_member_id_t)(i % (MEMBERS - 1)), &app))
      return 1;
    recipients += a.items[0].n_to;
  }
  double t_app = now_s() - t0;
  double t_commit = 0;
  for (int i = 0; i < n_commit; i++) {
    synth_buf_t c = synth_private("G", relay_room_epoch(room), 3, 0, 512);
    synth_buf_t ce = synth_env_commit(0, &c, NULL);
    t0 = now_s();
    int rc = handle(room, &a, RELAY_EV_MESSAGE, 1, &ce);
    t_commit += now_s() - t0;
    free(c.p), free(ce.p);
    if (rc)
      return 1;
  }
  relay_metrics_t mt;
  relay_room_metrics(room, &mt);
  printf("{\"bench\": \"relay_room\", \"members\": %d, \"app_envelope_bytes\": %zu, "
         "\"app_fanout_us\": %.3f, \"app_msgs_per_s\": %.0f, \"recipients\": %zu, "
         "\"commit_us\": %.3f, \"commits_accepted\": %llu, \"epoch\": %llu}\n",
         MEMBERS, app.len, t_app / n_app * 1e6, n_app / t_app, recipients,
         t_commit / n_commit * 1e6, (unsigned long long)mt.commits_accepted,
         (unsigned long long)mt.epoch);
  free(m.p), free(app.p);
  relay_room_free(room);
  relay_actions_free(&a);
  return 0;
}
