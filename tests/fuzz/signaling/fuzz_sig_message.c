/*
 * Fuzz target: the signaling message handler (sig_handle_message) on a sans-I/O hub.
 * Each input is split on 0x00 bytes into up to 8 frames, fed in order to one session
 * that is first joined with a valid token (so post-join handlers are reached) and to a
 * second, unjoined session, and as a binary frame (MLS relay envelope) to the joined one. Whatever the bytes, the handler must not crash, must answer
 * with valid JSON only, and must leave the hub's counters consistent.
 */
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "signaling/sig_hub.h"

#define NOW_S 1700000000LL

static sig_jwt_key_t *key;
static char *host_token, *member_token;

static void on_text(void *u, sig_session_t *s, const char *d, size_t n) {
  (void)u, (void)s;
  json_t *j = json_loadb(d, n, 0, NULL);
  if (!j)
    abort(); /* the server must only ever send valid JSON */
  json_decref(j);
}
static void on_bin(void *u, sig_session_t *s, const uint8_t *d, size_t n) { (void)u, (void)s, (void)d, (void)n; }
static void on_close(void *u, sig_session_t *s, int c, const char *r) { (void)u, (void)s, (void)c, (void)r; }

static char *make_token(sig_role_t role, const char *sub) {
  sig_claims_t c;
  memset(&c, 0, sizeof c);
  strcpy(c.room, "fuzz");
  snprintf(c.sub, sizeof c.sub, "%s", sub);
  strcpy(c.name, "F");
  c.role = role;
  c.iat = NOW_S;
  c.exp = NOW_S + 3600;
  c.can_publish = c.can_subscribe = true;
  char *t = NULL;
  if (sig_jwt_sign(key, &c, &t))
    abort();
  return t;
}

static void init_once(void) {
  if (key)
    return;
  veil_log_set_level(VEIL_LOG_OFF); /* room/join logs would dominate the run time */
  if (sig_jwt_key_generate(SIG_JWT_HS256, &key))
    abort();
  host_token = make_token(SIG_ROLE_HOST, "host");
  member_token = make_token(SIG_ROLE_MEMBER, "member");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  init_once();
  sig_hub_t *hub = NULL;
  sig_hub_config_t cfg = {
      .limits = {.max_rooms = 4, .max_participants_per_room = 4, .max_lobby_per_room = 4,
                 .max_message_bytes = 65536, .max_prejoin_message_bytes = 8192,
                 .max_mls_message_bytes = 65536, .messages_per_second = 1000,
                 .max_tracks_per_participant = 4, .max_subscriptions_per_participant = 4},
      .key = key,
      .lobby = size > 0 && (data[0] & 1),
      .io = {.send_text = on_text, .send_binary = on_bin, .close = on_close},
  };
  if (sig_hub_new(&cfg, &hub))
    abort();
  int dummy[3];
  sig_session_t *host = sig_session_open(hub, &dummy[0], 1);
  sig_session_t *joined = sig_session_open(hub, &dummy[1], 1);
  sig_session_t *fresh = sig_session_open(hub, &dummy[2], 1);
  char buf[4500];
  snprintf(buf, sizeof buf, "{\"type\":\"join\",\"token\":\"%s\",\"room\":\"fuzz\"}", host_token);
  sig_handle_message(hub, host, buf, strlen(buf), 1, NOW_S);
  snprintf(buf, sizeof buf, "{\"type\":\"join\",\"token\":\"%s\",\"room\":\"fuzz\"}", member_token);
  sig_handle_message(hub, joined, buf, strlen(buf), 1, NOW_S);

  size_t start = 0;
  int frames = 0;
  for (size_t i = 0; i <= size && frames < 8; i++) {
    if (i == size || data[i] == 0) {
      const char *f = (const char *)data + start;
      size_t n = i - start;
      sig_handle_message(hub, joined, f, n, 2 + (uint64_t)frames, NOW_S);
      sig_handle_message(hub, fresh, f, n, 2 + (uint64_t)frames, NOW_S);
      sig_handle_message(hub, host, f, n, 2 + (uint64_t)frames, NOW_S);
      /* the same bytes as an MLS relay envelope (binary frame) */
      sig_handle_binary(hub, joined, (const uint8_t *)f, n, 2 + (uint64_t)frames);
      sig_hub_tick(hub, 100000 + (uint64_t)frames);
      frames++;
      start = i + 1;
    }
  }
  const sig_stats_t *st = sig_hub_stats(hub);
  if (st->participants > 3 || st->rooms > 1 || st->sessions != 3)
    abort();
  sig_session_close(hub, fresh);
  sig_session_close(hub, joined);
  sig_session_close(hub, host);
  if (st->participants || st->rooms || st->lobby_waiting || st->tracks || st->subscriptions)
    abort();
  sig_hub_free(hub);
  return 0;
}
